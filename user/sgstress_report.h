/* SPDX-License-Identifier: GPL-2.0 */
/* sgstress_report.h - the ground truth of a run: final summary and JSON. */
#ifndef SGSTRESS_REPORT_H
#define SGSTRESS_REPORT_H

#include "sgstress.h"

/* Index of map_failed in sgs_truth's expected[] (after the SGKM_FINDING_* kinds). */
#define SGS_MAP_FAILED	SGKM_FINDING_NR
#define SGS_KINDS	(SGKM_FINDING_NR + 1)

/* Ground truth of one device (or of the module): what sgtrace must report. */
struct sgs_truth_dev {
	uint64_t injected[SGKM_FAULT_NR];	/* injected[] delta over the run */
	uint64_t expected[SGS_KINDS];		/* cumulative kinds: delta; leak and
						   outlives_unbind: the gauge at the end */
	uint64_t gauges_at_start[2];		/* leak, outlives_unbind before the run */
	uint64_t live_mappings, live_tables, mapped_bytes; /* at the end */
	uint64_t unbinds;			/* remove() calls over the run */
	uint32_t bound, dma_mask_bits;
};

struct sgs_truth {
	unsigned int ndevices;			/* sgkm's devices (all are reported) */
	unsigned int driven;			/* the run used sgkm.0 .. sgkm.<driven-1> */
	struct sgs_truth_dev all;
	struct sgs_truth_dev dev[SGS_MAX_DEVICES];
	bool ok;				/* no unexpected error, injected == requested */
};

void sgs_truth_compute(const struct sgs_config *cfg, const struct sgs_result *res,
		       const struct sgs_snapshot *before, const struct sgs_snapshot *after,
		       unsigned int driven, struct sgs_truth *truth);

/* The final summary on stdout (on stderr with --json -, which writes the JSON to stdout). */
void sgs_report_print(const struct sgs_config *cfg, const struct sgs_result *res,
		      const struct sgs_truth *truth);

/* Checks before the run that cfg->json_path can be written. Returns 0 or -1 (printed). */
int sgs_report_json_check(const struct sgs_config *cfg);

/* Writes the JSON ground truth to cfg->json_path ("-": stdout). Returns 0 or -1 (printed). */
int sgs_report_json(const struct sgs_config *cfg, const struct sgs_result *res,
		    const struct sgs_truth *truth);

#endif /* SGSTRESS_REPORT_H */
