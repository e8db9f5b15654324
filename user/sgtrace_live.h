/* SPDX-License-Identifier: GPL-2.0 */
/* sgtrace_live: the end-of-run findings, read from the BPF map of live mappings. */
#ifndef SGTRACE_LIVE_H
#define SGTRACE_LIVE_H

#include <stdint.h>
#include "sgtrace_report.h"

/*
 * Reads every entry of the live map (fd: BPF hash, key scatterlist address, value struct
 * sgt_live) with batch lookups and adds each as a finding: outlives_unbind if its device (in
 * r->devs) completed an unbind since the map, else leak if older than min_age_ms at now (ns,
 * CLOCK_MONOTONIC), else nothing (young). Counts them all in r->live_total. Returns 0 or -errno.
 */
int sgt_collect_live(int fd, struct sgt_report *r, uint64_t now, uint64_t min_age_ms);

#endif
