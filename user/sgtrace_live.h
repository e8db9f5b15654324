/* SPDX-License-Identifier: GPL-2.0 */
/* sgtrace_live: the end-of-run findings, read from the live table of the BPF side. */
#ifndef SGTRACE_LIVE_H
#define SGTRACE_LIVE_H

#include <stdint.h>
#include "sgtrace_report.h"

/* The number of buckets of a live table that holds max_mappings mappings (a power of two,
 * at most half full: SGT_LIVE_LOAD_DIV in sgtrace.h). */
uint32_t sgt_live_buckets(uint32_t max_mappings);

/*
 * Reads the live table (fd: the mmap-able BPF array "live" of `buckets` struct sgt_live_bucket)
 * and adds each live mapping as a finding: outlives_unbind if its device (in r->devs) completed
 * an unbind since the map, else leak if older than min_age_ms at now (in jiffies, as the
 * records' times; ns_per_jiffy turns them into time), else nothing (young). Counts them all in
 * r->live_total. The BPF handlers must be stopped. Returns 0 or -errno.
 */
int sgt_collect_live(int fd, uint32_t buckets, struct sgt_report *r, uint64_t now,
		     double ns_per_jiffy, uint64_t min_age_ms);

#endif
