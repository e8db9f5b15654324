// SPDX-License-Identifier: GPL-2.0
/* sgstress_opts.c - sgstress's command line (glibc argp). */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sgstress_opts.h"

const char *const sgs_fault_names[SGKM_FAULT_NR] = SGKM_FAULT_NAMES;
const char *const sgs_finding_names[SGKM_FINDING_NR] = SGKM_FINDING_NAMES;

static const char *const layout_names[] = { "contiguous", "scattered", "mix" };
static const char *const dir_names[] = { "to", "from", "bidi", "mix" };

enum {
	OPT_DEVICES = 'd', OPT_THREADS = 't', OPT_OPS = 'n', OPT_DURATION = 'D', OPT_SIZE = 's',
	OPT_LAYOUT = 'l', OPT_DIR = 'r', OPT_UNBIND = 'u', OPT_INJECT = 'i', OPT_SEED = 'S',
	OPT_JSON = 'j', OPT_HELP = 'h', OPT_USAGE = 0x100,
};

static const struct argp_option options[] = {
	{ "devices", OPT_DEVICES, "N", 0, "Drive devices sgkm.0 .. sgkm.N-1 (default: all of sgkm's)", 0 },
	{ "threads", OPT_THREADS, "N", 0, "Worker threads (default 4)", 0 },
	{ "ops", OPT_OPS, "N", 0, "Table lifecycles to run, faults not included (default 2000)", 0 },
	{ "duration", OPT_DURATION, "S", 0, "Run for S seconds instead of a number of ops", 0 },
	{ "size", OPT_SIZE, "MIN-MAX", 0,
	  "Table sizes in bytes, K/M suffixes allowed (default 4K-64K; one value: fixed size)", 0 },
	{ "layout", OPT_LAYOUT, "L", 0, "contiguous, scattered or mix (default mix)", 0 },
	{ "dir", OPT_DIR, "D", 0, "DMA direction to, from, bidi or mix (default mix)", 0 },
	{ "unbind-every", OPT_UNBIND, "MS", 0,
	  "Unbind and rebind one device every MS milliseconds while the workers run", 0 },
	{ "inject", OPT_INJECT, "KIND=N", 0,
	  "Inject exactly N faults of KIND, spread over the run (repeatable). KIND: leak_mapping, "
	  "skip_devres, free_while_mapped, double_unmap, unmap_wrong_dir, unmap_wrong_nents, "
	  "unmap_wrong_dev, leak_table", 0 },
	{ "seed", OPT_SEED, "N", 0, "PRNG seed (default: from the clock; printed)", 0 },
	{ "json", OPT_JSON, "FILE", 0, "Write the ground truth as JSON to FILE ('-': stdout)", 0 },
	{ "help", OPT_HELP, NULL, 0, "Give this help list", -1 },
	{ "usage", OPT_USAGE, NULL, 0, "Give a short usage message", -1 },
	{ 0 }
};

static const char doc[] =
	"sgstress -- stress the sgkm module's scatter-gather tables and produce known DMA mapping "
	"bugs.\v"
	"Needs root and sgkm.ko loaded. Exit status: 0 when the run did what was asked, 1 on an "
	"operational error, unexpected failures or a fault count that differs from the request, "
	"2 on bad usage. See docs/stress.md.";

static const struct argp argp;

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("sgstress: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	argp_help(&argp, stderr, ARGP_HELP_USAGE | ARGP_HELP_SEE, "sgstress");
	exit(SGS_EXIT_USAGE);
}

/* Parses a decimal number in [min, max], with an optional K/M/G suffix when @suffix. */
static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, int suffix)
{
	char *end;
	uint64_t v, mult = 1;

	errno = 0;
	if (*s < '0' || *s > '9')
		usage_error("--%s: '%s' is not a number", opt, s);
	v = strtoull(s, &end, 10);
	if (suffix && *end) {
		switch (*end) {
		case 'k': case 'K': mult = 1ull << 10; end++; break;
		case 'm': case 'M': mult = 1ull << 20; end++; break;
		case 'g': case 'G': mult = 1ull << 30; end++; break;
		}
	}
	if (errno || *end || (mult > 1 && v > UINT64_MAX / mult))
		usage_error("--%s: '%s' is not a number", opt, s);
	v *= mult;
	if (v < min || v > max)
		usage_error("--%s: %s is out of range %" PRIu64 "..%" PRIu64, opt, s, min, max);
	return v;
}

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static void parse_size(const char *arg, struct sgs_config *cfg)
{
	char buf[64], *dash;

	if (strlen(arg) >= sizeof(buf))
		usage_error("--size: '%s' is too long", arg);
	strcpy(buf, arg);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	cfg->size_min = parse_u64("size", buf, 1, 1ull << 40, 1);
	cfg->size_max = dash ? parse_u64("size", dash + 1, 1, 1ull << 40, 1) : cfg->size_min;
	if (cfg->size_max < cfg->size_min)
		usage_error("--size: MAX is below MIN in '%s'", arg);
}

static void parse_inject(const char *arg, struct sgs_config *cfg)
{
	char buf[64], *eq;
	int kind;

	if (strlen(arg) >= sizeof(buf))
		usage_error("--inject: '%s' is too long", arg);
	strcpy(buf, arg);
	eq = strchr(buf, '=');
	if (!eq)
		usage_error("--inject: '%s' is not KIND=N", arg);
	*eq = '\0';
	kind = lookup(buf, sgs_fault_names, SGKM_FAULT_NR);
	if (kind <= SGKM_FAULT_NONE)
		usage_error("--inject: unknown fault kind '%s' (see --help)", buf);
	cfg->inject[kind] += parse_u64("inject", eq + 1, 0, 1000000, 0);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct sgs_config *cfg = state->input;
	int i;

	switch (key) {
	case OPT_DEVICES:
		cfg->devices = parse_u64("devices", arg, 1, SGS_MAX_DEVICES, 0);
		break;
	case OPT_THREADS:
		cfg->threads = parse_u64("threads", arg, 1, SGS_MAX_THREADS, 0);
		break;
	case OPT_OPS:
		cfg->ops = parse_u64("ops", arg, 0, UINT64_MAX / 2, 0);
		break;
	case OPT_DURATION: {
		char *end;

		errno = 0;
		cfg->duration_s = strtod(arg, &end);
		if (errno || *end || end == arg || !(cfg->duration_s > 0 && cfg->duration_s <= 86400 * 7))
			usage_error("--duration: '%s' is not a number of seconds in (0, 604800]", arg);
		break;
	}
	case OPT_SIZE:
		parse_size(arg, cfg);
		break;
	case OPT_LAYOUT:
		i = lookup(arg, layout_names, 3);
		if (i < 0)
			usage_error("--layout: '%s' is not contiguous, scattered or mix", arg);
		cfg->layout = i;
		break;
	case OPT_DIR:
		i = lookup(arg, dir_names, 4);
		if (i < 0)
			usage_error("--dir: '%s' is not to, from, bidi or mix", arg);
		cfg->dir = i;
		break;
	case OPT_UNBIND:
		cfg->unbind_every_ms = parse_u64("unbind-every", arg, 1, 3600 * 1000, 0);
		break;
	case OPT_INJECT:
		parse_inject(arg, cfg);
		break;
	case OPT_SEED:
		cfg->seed = parse_u64("seed", arg, 0, UINT64_MAX, 0);
		break;
	case OPT_JSON:
		cfg->json_path = arg;
		break;
	case OPT_HELP:
		argp_help(&argp, stdout, ARGP_HELP_STD_HELP, "sgstress");
		exit(SGS_EXIT_OK);
	case OPT_USAGE:
		argp_help(&argp, stdout, ARGP_HELP_USAGE, "sgstress");
		exit(SGS_EXIT_OK);
	case ARGP_KEY_ARG:
		usage_error("unexpected argument '%s'", arg);
	case ARGP_KEY_ERROR:
		/* With ARGP_NO_ERRS, getopt stays silent: name the offending word ourselves. */
		usage_error("unknown option or missing value: '%s'",
			    state->next > 0 && state->next <= state->argc ? state->argv[state->next - 1] : "?");
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { options, parse_opt, NULL, doc, NULL, NULL, NULL };

void sgs_parse_args(int argc, char **argv, struct sgs_config *cfg)
{
	int ops_given, duration_given;
	struct timespec now;

	memset(cfg, 0, sizeof(*cfg));
	cfg->threads = 4;
	cfg->ops = UINT64_MAX;		/* "not given" until parsed */
	cfg->size_min = 4096;
	cfg->size_max = 65536;
	cfg->layout = SGS_LAYOUT_MIX;
	cfg->dir = SGS_DIR_MIX;
	clock_gettime(CLOCK_REALTIME, &now);
	cfg->seed = (uint64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;

	/* ARGP_NO_ERRS|ARGP_NO_HELP: every error path goes through usage_error() (usage, exit 2). */
	if (argp_parse(&argp, argc, argv, ARGP_NO_ERRS | ARGP_NO_HELP, NULL, cfg))
		usage_error("cannot parse the command line");

	ops_given = cfg->ops != UINT64_MAX;
	duration_given = cfg->duration_s > 0;
	if (ops_given && duration_given)
		usage_error("--ops and --duration exclude each other");
	if (!ops_given)
		cfg->ops = duration_given ? 0 : 2000;
}

const char *sgs_layout_name(enum sgs_layout layout)
{
	return layout_names[layout];
}

const char *sgs_dir_name(enum sgs_dir dir)
{
	return dir_names[dir];
}
