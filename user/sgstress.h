/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgstress.h - shared types of sgstress, the stress driver of sgkm (see docs/stress.md).
 *
 * sgstress.c           main(): parse -> open -> run -> report -> cleanup
 * sgstress_opts.c      command line (argp)
 * sgstress_dev.c       /dev/sgkm ioctls, SGKM_IOC_STATS snapshots, sysfs bind/unbind
 * sgstress_run.c       worker threads, fault injection, the unbind storm, progress
 * sgstress_report.c    final summary and the ground-truth JSON (json-c)
 */
#ifndef SGSTRESS_H
#define SGSTRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "sgkm.h"

#define SGS_EXIT_OK	0
#define SGS_EXIT_FAIL	1	/* operational error, unexpected errors, or injected != requested */
#define SGS_EXIT_USAGE	2

#define SGS_MAX_DEVICES	64	/* devices sgstress drives at most (sgkm.0 .. sgkm.63) */
#define SGS_MAX_THREADS	256
#define SGS_ERRNO_SLOTS	256	/* errors are counted per errno below this value */

enum sgs_layout { SGS_LAYOUT_CONTIGUOUS, SGS_LAYOUT_SCATTERED, SGS_LAYOUT_MIX };
enum sgs_dir { SGS_DIR_TO, SGS_DIR_FROM, SGS_DIR_BIDI, SGS_DIR_MIX };

/* Operations whose failures are counted separately. */
enum sgs_op { SGS_OP_CREATE, SGS_OP_MAP, SGS_OP_VERIFY, SGS_OP_UNMAP, SGS_OP_DESTROY,
	      SGS_OP_UNBIND, SGS_OP_BIND, SGS_OP_NR };

struct sgs_config {
	unsigned int devices;		/* 0: every device sgkm has */
	unsigned int threads;
	uint64_t ops;			/* table lifecycles to run (when duration_s == 0) */
	double duration_s;		/* > 0: run for this long instead of a number of ops */
	uint64_t size_min, size_max;	/* table size range in bytes */
	enum sgs_layout layout;
	enum sgs_dir dir;
	unsigned int unbind_every_ms;	/* 0: no unbind storm */
	unsigned int inject[SGKM_FAULT_NR]; /* faults requested per SGKM_FAULT_* */
	uint64_t seed;
	const char *json_path;		/* NULL: no JSON; "-": stdout */
};

/* One SGKM_IOC_STATS snapshot: module-wide and per device. */
struct sgs_snapshot {
	unsigned int ndevices;		/* devices sgkm has */
	struct sgkm_stats all;
	struct sgkm_stats dev[SGS_MAX_DEVICES];
};

/* What a run did, as user space saw it (the module's view is in the snapshots). */
struct sgs_result {
	double elapsed_s;
	uint64_t ops;			/* table lifecycles completed (normal and fault ones) */
	uint64_t fault_ops;		/* of which: lifecycles that carried a fault */
	uint64_t fault_retries;		/* fault lifecycles repeated because nothing was injected */
	uint64_t injected_seen[SGKM_FAULT_NR];	/* faults sgstress saw injected */
	uint64_t unbinds, binds;	/* sysfs unbind/bind writes that succeeded */
	uint64_t errors;		/* failed operations (all errnos) */
	uint64_t unexpected;		/* of which: not explained by an unbind or an injected fault */
	uint64_t verify_mismatch;	/* verify returned a view whose lengths do not sum to size */
	uint64_t mask_violations;	/* DMA segments beyond the device's DMA mask (a bug) */
	uint64_t narrow_tables;		/* tables verified on devices with a mask below 64 bits */
	uint64_t bounced_segments;	/* of their CPU segments: above the mask, so bounced */
	uint64_t by_errno[SGS_ERRNO_SLOTS];
	uint64_t by_op_errno[SGS_OP_NR][SGS_ERRNO_SLOTS];
	bool aborted;			/* stopped early by SIGINT/SIGTERM */
};

extern const char *const sgs_fault_names[SGKM_FAULT_NR];
extern const char *const sgs_finding_names[SGKM_FINDING_NR];
extern const char *const sgs_op_names[SGS_OP_NR];

#endif /* SGSTRESS_H */
