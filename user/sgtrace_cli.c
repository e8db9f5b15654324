// SPDX-License-Identifier: GPL-2.0
/* sgtrace_cli: argp parsing of `sgtrace COMMAND [OPTIONS] [-- CMD ARGS...]`. */
#include "sgtrace_cli.h"

#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "sgtrace_report.h"

const char *argp_program_version = "sgtrace 0.1.0";
const char *argp_program_bug_address = "the sgtrace issue tracker";

enum {
	OPT_DURATION = 'd',
	OPT_MIN_AGE = 'a',
	OPT_JSON = 'j',
	OPT_FAIL_ON = 'f',
	OPT_DEVICE = 'D',
	OPT_ATTACH = 'A',
	OPT_INTERVAL = 'i',
	OPT_VERBOSE = 'v',
	OPT_MAX_MAPPINGS = 0x100,
	OPT_GRACE,
};

static const char top_doc[] =
	"sgtrace: trace scatter-gather DMA mappings and report leaks and misuse.\n\n"
	"Commands:\n"
	"  probe     show how each hook is traced on this kernel\n"
	"  record    trace, then report findings (exit 0 clean, 3 findings, 1 error, 2 usage)\n"
	"  monitor   live per-device view\n"
	"  events    stream findings as they happen\n\n"
	"Run `sgtrace COMMAND --help` for the options of a command.";

#define ATTACH_OPT                                                                            \
	{ "attach", OPT_ATTACH, "METHOD", 0,                                                  \
	  "force the attach method of the map/unmap hooks: fentry, tp_btf, kprobe or tracepoint " \
	  "(default: the best this kernel offers)", 0 }
#define VERBOSE_OPT { "verbose", OPT_VERBOSE, NULL, 0, "print libbpf debug output", 0 }
#define MAX_MAPPINGS_OPT                                                                      \
	{ "max-mappings", OPT_MAX_MAPPINGS, "N", 0,                                           \
	  "the live table holds at least N mappings (default 262144)", 0 }
#define DEVICE_OPT { "device", OPT_DEVICE, "NAME", 0, "trace only the device NAME (dev_name)", 0 }

static const struct argp_option probe_options[] = {
	ATTACH_OPT,
	{ "json", OPT_JSON, NULL, 0, "print JSON", 0 },
	VERBOSE_OPT,
	{ 0 },
};

static const struct argp_option record_options[] = {
	{ "duration", OPT_DURATION, "S", 0, "stop after S seconds", 0 },
	{ "min-age", OPT_MIN_AGE, "MS", 0,
	  "report a mapping still live at the end as a leak only if older than MS (default 0)", 0 },
	{ "json", OPT_JSON, "FILE", 0,
	  "also write the report as JSON to FILE (- for stdout), checked before tracing", 0 },
	{ "grace", OPT_GRACE, "MS", 0,
	  "for MS after the start, unmaps of scatterlists never seen mapped are taken for mappings "
	  "made before tracing started: counted, not reported (default 1000 without a command, "
	  "0 with one)", 0 },
	{ "fail-on", OPT_FAIL_ON, "KINDS", 0,
	  "comma-separated finding kinds that make the exit status 3, or all, or none "
	  "(default: all but map_failed)", 0 },
	DEVICE_OPT,
	ATTACH_OPT,
	MAX_MAPPINGS_OPT,
	VERBOSE_OPT,
	{ 0 },
};

static const struct argp_option monitor_options[] = {
	{ "interval", OPT_INTERVAL, "S", 0, "refresh every S seconds (default 1)", 0 },
	{ "json", OPT_JSON, NULL, 0, "print JSON lines", 0 },
	{ "duration", OPT_DURATION, "S", 0, "stop after S seconds", 0 },
	DEVICE_OPT,
	ATTACH_OPT,
	MAX_MAPPINGS_OPT,
	VERBOSE_OPT,
	{ 0 },
};

static const struct argp_option events_options[] = {
	{ "json", OPT_JSON, NULL, 0, "print JSON lines", 0 },
	{ "duration", OPT_DURATION, "S", 0, "stop after S seconds", 0 },
	DEVICE_OPT,
	ATTACH_OPT,
	MAX_MAPPINGS_OPT,
	VERBOSE_OPT,
	{ 0 },
};

const char *sgt_attach_name(enum sgt_attach a)
{
	switch (a) {
	case SGT_ATTACH_FENTRY: return "fentry";
	case SGT_ATTACH_TP_BTF: return "tp_btf";
	case SGT_ATTACH_KPROBE: return "kprobe";
	case SGT_ATTACH_TRACEPOINT: return "tracepoint";
	default: return "auto";
	}
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e7)
		return -1;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out, uint64_t max)
{
	char *end;
	unsigned long long v;

	if (*s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct sgt_opts *o = state->input;
	uint64_t v;
	long mask;

	switch (key) {
	case OPT_DURATION:
		if (parse_seconds(arg, &o->duration_s))
			argp_error(state, "invalid --duration '%s': give seconds > 0", arg);
		break;
	case OPT_INTERVAL:
		if (parse_seconds(arg, &o->interval_s))
			argp_error(state, "invalid --interval '%s': give seconds > 0", arg);
		break;
	case OPT_MIN_AGE:
		if (parse_u64(arg, &o->min_age_ms, UINT64_MAX / 1000000))
			argp_error(state, "invalid --min-age '%s': give milliseconds", arg);
		break;
	case OPT_JSON:
		if (o->cmd == SGT_CMD_RECORD)
			o->json_file = arg;
		else
			o->json = true;
		break;
	case OPT_FAIL_ON:
		mask = sgt_parse_kinds(arg);
		if (mask < 0)
			argp_error(state,
				   "invalid --fail-on '%s': give all, none or kinds among leak, "
				   "outlives_unbind, freed_while_mapped, unmap_unknown, unmap_mismatch, "
				   "unmap_after_unbind, map_failed",
				   arg);
		o->fail_on = (unsigned int)mask;
		break;
	case OPT_DEVICE:
		if (!*arg || strlen(arg) >= SGT_NAME_LEN)
			argp_error(state, "invalid --device '%s': 1 to %d characters", arg,
				   SGT_NAME_LEN - 1);
		o->device = arg;
		break;
	case OPT_ATTACH:
		if (!strcmp(arg, "fentry") || !strcmp(arg, "fexit"))
			o->attach = SGT_ATTACH_FENTRY;
		else if (!strcmp(arg, "tp_btf"))
			o->attach = SGT_ATTACH_TP_BTF;
		else if (!strcmp(arg, "kprobe"))
			o->attach = SGT_ATTACH_KPROBE;
		else if (!strcmp(arg, "tracepoint") || !strcmp(arg, "raw_tp"))
			o->attach = SGT_ATTACH_TRACEPOINT;
		else if (!strcmp(arg, "auto"))
			o->attach = SGT_ATTACH_AUTO;
		else
			argp_error(state, "invalid --attach '%s': fentry, tp_btf, kprobe or tracepoint",
				   arg);
		break;
	case OPT_GRACE:
		if (parse_u64(arg, &v, 86400000))
			argp_error(state, "invalid --grace '%s': give milliseconds", arg);
		o->grace_ms = (int64_t)v;
		break;
	case OPT_MAX_MAPPINGS:
		if (parse_u64(arg, &v, 1u << 24) || v == 0)
			argp_error(state, "invalid --max-mappings '%s': 1 to %u", arg, 1u << 24);
		o->max_mappings = (uint32_t)v;
		break;
	case OPT_VERBOSE:
		o->verbose++;
		break;
	case ARGP_KEY_ARGS:
		if (o->cmd != SGT_CMD_RECORD)
			argp_error(state, "unexpected argument '%s'", state->argv[state->next]);
		o->cmd_argv = &state->argv[state->next];
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct {
	const char *name;
	enum sgt_cmd cmd;
	const struct argp_option *options;
	const char *args_doc;
	const char *doc;
} commands[] = {
	{ "probe", SGT_CMD_PROBE, probe_options, "",
	  "Show the attach method of each hook on this kernel and what it cannot observe. Exit 1 if "
	  "maps and unmaps are not both observable." },
	{ "record", SGT_CMD_RECORD, record_options, "[-- CMD [ARGS...]]",
	  "Trace until CMD exits, --duration ends, or SIGINT/SIGTERM; then print the report. Exit 1 "
	  "if the report is incomplete or could not be written (before 3), else 3 with findings of "
	  "a --fail-on kind, else 1 if CMD failed, else 0; 2 on bad usage. --json FILE replaces "
	  "FILE only with a whole report." },
	{ "monitor", SGT_CMD_MONITOR, monitor_options, "",
	  "Live per-device view: live mappings and bytes, maps/s, unmaps/s, findings, lost events." },
	{ "events", SGT_CMD_EVENTS, events_options, "", "Print findings as they happen." },
};

int sgt_parse_args(int argc, char **argv, struct sgt_opts *o)
{
	static char name[64];
	const char *cmd = argc > 1 ? argv[1] : NULL;

	memset(o, 0, sizeof(*o));
	o->fail_on = SGT_FAIL_ON_DEFAULT;
	o->interval_s = 1.0;
	o->max_mappings = 262144;
	o->grace_ms = -1;
	argp_err_exit_status = SGT_EXIT_USAGE;

	if (cmd && cmd[0] != '-') {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			struct argp argp = { 0 };
			int err;

			if (strcmp(cmd, commands[i].name))
				continue;
			o->cmd = commands[i].cmd;
			argp.options = commands[i].options;
			argp.parser = parse_opt;
			argp.args_doc = commands[i].args_doc;
			argp.doc = commands[i].doc;
			snprintf(name, sizeof(name), "sgtrace %s", cmd);
			argv[1] = name;
			err = argp_parse(&argp, argc - 1, argv + 1, 0, NULL, o);
			argv[1] = (char *)commands[i].name;
			return err ? SGT_EXIT_USAGE : 0;
		}
		fprintf(stderr, "sgtrace: unknown command '%s'\n", cmd);
	} else if (cmd) {
		/* Only --help, --usage and --version are valid without a command. */
		struct argp argp = { .doc = top_doc, .args_doc = "COMMAND [OPTIONS]" };

		argp_parse(&argp, argc, argv, 0, NULL, NULL);
		fprintf(stderr, "sgtrace: a command is needed\n");
	} else {
		fprintf(stderr, "sgtrace: a command is needed\n");
	}
	fprintf(stderr, "usage: sgtrace probe|record|monitor|events [OPTIONS]; "
			"sgtrace --help for more\n");
	return SGT_EXIT_USAGE;
}
