/* SPDX-License-Identifier: GPL-2.0 */
/* sgtrace_cli: command line of sgtrace (argp). */
#ifndef SGTRACE_CLI_H
#define SGTRACE_CLI_H

#include <stdbool.h>
#include <stdint.h>

enum sgt_cmd { SGT_CMD_PROBE, SGT_CMD_RECORD, SGT_CMD_MONITOR, SGT_CMD_EVENTS };

/* --attach: the method forced on the map/unmap hooks (others follow it when they can). */
enum sgt_attach { SGT_ATTACH_AUTO, SGT_ATTACH_FENTRY, SGT_ATTACH_TP_BTF, SGT_ATTACH_KPROBE,
		  SGT_ATTACH_TRACEPOINT };

struct sgt_opts {
	enum sgt_cmd cmd;
	enum sgt_attach attach;
	double duration_s;  /* 0: until CMD exits or a signal */
	double interval_s;  /* monitor */
	uint64_t min_age_ms;
	int64_t grace_ms; /* -1: default (1000 without a command, 0 with one) */
	const char *json_file; /* record --json FILE ("-" = stdout) */
	bool json;		/* probe/monitor/events --json */
	unsigned int fail_on;
	const char *device;
	uint32_t max_mappings;
	int verbose;
	char **cmd_argv; /* after "--", NULL-terminated; NULL if none */
};

#define SGT_EXIT_OK 0
#define SGT_EXIT_ERROR 1
#define SGT_EXIT_USAGE 2
#define SGT_EXIT_FINDINGS 3

const char *sgt_attach_name(enum sgt_attach a);
/* Parses argv; returns 0, or SGT_EXIT_USAGE after printing the usage on bad input (the caller
 * exits with it). --help/--usage print and exit 0 inside argp. */
int sgt_parse_args(int argc, char **argv, struct sgt_opts *o);

#endif
