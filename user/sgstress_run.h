/* SPDX-License-Identifier: GPL-2.0 */
/* sgstress_run.h - the stress run: worker threads, fault injection and the unbind storm. */
#ifndef SGSTRESS_RUN_H
#define SGSTRESS_RUN_H

#include "sgstress.h"

/*
 * Checks that sgkm can do what @cfg asks (devices, sizes, fault preconditions), given the
 * module as @snap shows it; prints what is wrong and what to do. Returns 0 or -1.
 * Sets *ndev to the number of devices the run drives.
 */
int sgs_run_check(const struct sgs_config *cfg, const struct sgs_snapshot *snap,
		  unsigned int *ndev);

/*
 * Runs the workload on devices 0..ndev-1 until cfg->ops lifecycles (or cfg->duration_s) are
 * done and every requested fault is injected, or SIGINT/SIGTERM. Every device that the run
 * unbound is bound again when it returns. Fills @res. Returns 0, or -1 when the run could
 * not start (threads, /dev/sgkm), after printing why. @snap (taken before) gives the devices'
 * DMA masks: on a device with a mask below 64 bits, the CPU view of each table is checked too,
 * and its pages above the mask are counted as bounced (swiotlb).
 */
int sgs_run(const struct sgs_config *cfg, const struct sgs_snapshot *snap, unsigned int ndev,
	    struct sgs_result *res);

#endif /* SGSTRESS_RUN_H */
