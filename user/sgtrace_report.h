/* SPDX-License-Identifier: GPL-2.0 */
/* sgtrace_report: findings aggregated by kind, device and stack; text and JSON output. */
#ifndef SGTRACE_REPORT_H
#define SGTRACE_REPORT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "sgtrace.h"
#include "ksyms.h"

#define SGT_FAIL_ON_DEFAULT (((1u << SGT_KIND_NR) - 1) & ~(1u << SGT_MAP_FAILED))

const char *sgt_kind_name(unsigned int kind);
int sgt_kind_from_name(const char *name); /* -1 if unknown */
const char *sgt_dir_name(unsigned int dir);
/* Parses "all", "none" or a comma-separated list of kind names into a mask; -1 if invalid. */
long sgt_parse_kinds(const char *spec);

/*
 * Strings that come from outside (task names, device names, argv): at most max bytes of in (up
 * to a NUL) into out, of size bytes, always terminated; both return the length written.
 * sgt_utf8_clean() replaces each byte that is not part of valid UTF-8 by U+FFFD (JSON must be
 * valid UTF-8); sgt_text_escape() writes control characters (C0, DEL, C1) and invalid bytes as
 * \xNN and a backslash as \\ (a terminal must not get escape sequences from a traced task).
 */
#define SGT_CLEAN_SIZE(max) (3 * (max) + 1)
#define SGT_ESCAPED_SIZE(max) (4 * (max) + 1)
size_t sgt_utf8_clean(const char *in, size_t max, char *out, size_t size);
size_t sgt_text_escape(const char *in, size_t max, char *out, size_t size);
/* A JSON string of at most max bytes of s, cleaned by sgt_utf8_clean(); NULL for NULL. */
json_object *sgt_json_string(const char *s, size_t max);

/* Returns the number of frames (at most max) of a stack id, 0 if unknown. */
typedef int (*sgt_stack_fn)(void *ctx, uint32_t stack_id, uint64_t *ips, int max);

struct sgt_devinfo {
	uint64_t dev;
	struct sgt_dev d;
};

/* Findings with the same kind, detail, device and stack (and unmap device for mismatches). */
struct sgt_group {
	struct sgt_event ex; /* the oldest occurrence (largest age), an example */
	uint64_t count;
	uint64_t bytes;
	uint64_t oldest_age_ns;
};

struct sgt_report {
	/* Inputs for symbolization. */
	const struct ksyms *ksyms;
	sgt_stack_fn stack_fn;
	void *stack_ctx;

	/* Run description, printed as is. */
	const char *kernel_release;
	json_object *hooks; /* owned by the caller */
	double duration_s;
	uint64_t min_age_ms;
	unsigned int fail_on;
	const char *device_filter;
	char **cmd_argv; /* NULL if no command */
	int cmd_status;	 /* exit status, or 128+signal */
	bool cmd_ran;
	bool cmd_interrupted; /* stopped by the SIGINT/SIGTERM that stopped sgtrace */

	uint64_t stats[SGT_STAT_NR];
	uint64_t prog_misses; /* map/unmap/unbind runs the kernel skipped (recursion_misses) */
	uint64_t map_misses;  /* the map programs' share of prog_misses */
	/* unmap_unknown (not_mapped) findings withdrawn by sgt_report_settle_losses() */
	uint64_t unmatched_after_loss;
	uint64_t free_misses; /* free-hook runs the kernel skipped: shown, not counted as lost */
	uint64_t live_total;	   /* live mappings seen at the end (findings or young) */
	uint64_t events_received;

	struct sgt_devinfo *devs;
	size_t nr_devs, cap_devs;

	struct sgt_group *groups;
	size_t nr_groups, cap_groups;
	uint32_t *index; /* open-addressing index into groups (+1; 0 = empty) */
	size_t index_cap;
	uint64_t kind_count[SGT_KIND_NR];
};

void sgt_report_init(struct sgt_report *r);
void sgt_report_free(struct sgt_report *r);
int sgt_report_add_dev(struct sgt_report *r, uint64_t dev, const struct sgt_dev *d);
const struct sgt_devinfo *sgt_report_dev(const struct sgt_report *r, uint64_t dev);
/* Adds one finding; age_ns is the age of the mapping when the finding was made (0 if none). */
int sgt_report_add(struct sgt_report *r, const struct sgt_event *e, uint64_t age_ns);
/* Fills the comm of group examples that have none, with fn(ctx, pid, comm). */
void sgt_report_fill_comms(struct sgt_report *r, int (*fn)(void *ctx, uint32_t pid, char *comm),
			   void *ctx);
uint64_t sgt_report_lost(const struct sgt_report *r);
/* Maps that may have happened without being recorded: the table was full, a slot race, an
 * unpaired kprobe entry, a map run the kernel skipped. */
uint64_t sgt_report_lost_maps(const struct sgt_report *r);
/*
 * Once every finding is in: when maps were lost, an unmap of a scatterlist never seen mapped
 * (unmap_unknown, not_mapped) may be the correct unmap of a lost map, so those findings are
 * withdrawn and counted in unmatched_after_loss instead. Double unmaps seen in full
 * (already_unmapped) stay findings.
 */
void sgt_report_settle_losses(struct sgt_report *r);
/* Number of findings of the kinds in mask. */
uint64_t sgt_report_failing(const struct sgt_report *r, unsigned int mask);
/*
 * The exit status of `sgtrace record`: 1 on an operational error (@op_error: the report is
 * incomplete or was not written), else 3 with a finding of a fail_on kind, else 1 if the
 * command failed or did not start (not if it was interrupted), else 0.
 */
int sgt_record_exit_status(const struct sgt_report *r, bool op_error);
json_object *sgt_report_json(const struct sgt_report *r);
void sgt_report_print(const struct sgt_report *r, FILE *out);
/* One finding as a JSON object (for `sgtrace events --json`) and as a text line. */
json_object *sgt_event_json(const struct sgt_report *r, const struct sgt_event *e, uint64_t age_ns);
void sgt_event_print(const struct sgt_report *r, const struct sgt_event *e, uint64_t age_ns,
		     FILE *out);

#endif
