// SPDX-License-Identifier: GPL-2.0
/* Unit tests of sgtrace's user-space parts: symbolization, report aggregation, JSON, CLI. */
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ksyms.h"
#include "sgtrace_cli.h"
#include "sgtrace_report.h"

static int passed, failed, current_ok;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			current_ok = 0;                                                    \
		}                                                                          \
	} while (0)

static void run(const char *name, void (*fn)(void))
{
	current_ok = 1;
	fn();
	if (current_ok)
		passed++;
	else
		failed++;
	printf("%s %d - %s\n", current_ok ? "ok" : "not ok", passed + failed, name);
}

static const char *fixture, *modules_fixture;
static struct ksyms *ks;

static void test_ksyms_lookup(void)
{
	char buf[128];

	CHECK(ks != NULL);
	CHECK(ksyms_count(ks) == 11);
	ksyms_format(ks, 0xffffffff81100010ULL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "dma_map_sgtable+0x10"));
	ksyms_format(ks, 0xffffffffc000104cULL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "sgkm_table_map+0x4c [sgkm]"));
	ksyms_format(ks, 0xffffffffc0010000ULL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "nvme_queue_rq+0x0 [nvme]"));
	ksyms_format(ks, 0x1000, buf, sizeof(buf));
	CHECK(!strcmp(buf, "0x1000"));
	CHECK(ksyms_lookup(ks, 0x1000) == NULL);
	CHECK(ksyms_addr_of(ks, "page_offset_base") == 0xffffffff82000000ULL);
	CHECK(ksyms_addr_of(ks, "no_such_symbol") == 0);
	{
		/* one scan for several; "offset_base" is only a suffix of a name; module symbols
		 * are not scanned */
		const char *const names[] = { "sgkm_ioctl", "page_offset_base", "offset_base" };
		uint64_t addrs[3] = { 1, 1, 1 };

		CHECK(ksyms_scan_addrs(fixture, names, addrs, 3) == 1);
		CHECK(addrs[0] == 0 && addrs[1] == 0xffffffff82000000ULL && addrs[2] == 0);
	}
}

static void test_ksyms_extents(void)
{
	char buf[128];

	/* Past _end and past a module's core: no symbol (a trampoline, say). */
	CHECK(ksyms_lookup(ks, 0xffffffff83000010ULL) == NULL);
	CHECK(ksyms_load_modules(ks, modules_fixture) == 0);
	CHECK(ksyms_lookup(ks, 0xffffffffc0001000ULL + 20480 + 0x100) == NULL);
	ksyms_format(ks, 0xffffffffc0001210ULL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "sgkm_ioctl+0x10 [sgkm]"));
	/* [bpf] has no /proc/modules line: a symbol covers at most 64 KiB. */
	CHECK(ksyms_lookup(ks, 0xffffffffa0000010ULL) != NULL);
	CHECK(ksyms_lookup(ks, 0xffffffffa0100000ULL) == NULL);
}

static void test_tracer_frames(void)
{
	CHECK(ksyms_is_tracer_frame("bpf_prog_6deef7357e7b4530_fexit_dma_map_sg"));
	CHECK(ksyms_is_tracer_frame("bpf_trampoline_6442502343"));
	CHECK(ksyms_is_tracer_frame("__bpf_trace_dma_map_sg"));
	CHECK(!ksyms_is_tracer_frame("dma_map_sgtable"));
	CHECK(!ksyms_is_tracer_frame("sgkm_table_map"));
}

/* A fake stack map: id 1 = [bpf prog, trampoline, dma_map_sgtable, sgkm_table_map, sgkm_ioctl] */
static int fake_stack(void *ctx, uint32_t id, uint64_t *ips, int max)
{
	static const uint64_t s1[] = { 0xffffffffa0000010ULL, 0xffffffff81200020ULL,
				       0xffffffff81100030ULL, 0xffffffffc000104cULL,
				       0xffffffffc0001210ULL };
	int n = 0;

	(void)ctx;
	if (id != 1)
		return 0;
	for (; n < max && n < 5; n++)
		ips[n] = s1[n];
	return n;
}

static void init_report(struct sgt_report *r)
{
	struct sgt_dev d = { .maps = 5, .unmaps = 1, .live = 4, .live_bytes = 16384, .match = 1 };

	sgt_report_init(r);
	r->ksyms = ks;
	r->stack_fn = fake_stack;
	r->kernel_release = "6.1.0-test";
	strcpy(d.name, "sgkm.0");
	strcpy(d.driver, "sgkm");
	sgt_report_add_dev(r, 0xffff888000001000ULL, &d);
	strcpy(d.name, "we\"ird\\name");
	strcpy(d.driver, "");
	sgt_report_add_dev(r, 0xffff888000002000ULL, &d);
}

static struct sgt_event leak(uint64_t sgl, uint64_t dev, uint32_t stack, uint64_t bytes)
{
	struct sgt_event e = { .kind = SGT_LEAK, .sgl = sgl, .dev = dev, .stack_id = stack,
			       .bytes = bytes, .dir = 1, .nents = 2, .mapped = 2, .pid = 42,
			       .ts_map = 1000 };

	strcpy(e.comm, "sgstress");
	return e;
}

static void test_aggregation(void)
{
	struct sgt_report r;
	struct sgt_event e;

	init_report(&r);
	e = leak(0x10, 0xffff888000001000ULL, 1, 4096);
	sgt_report_add(&r, &e, 5000000);
	e = leak(0x20, 0xffff888000001000ULL, 1, 8192);
	sgt_report_add(&r, &e, 9000000);
	e = leak(0x30, 0xffff888000001000ULL, 1, 4096);
	sgt_report_add(&r, &e, 1000000);
	e = leak(0x40, 0xffff888000001000ULL, 7, 4096); /* other stack: other group */
	sgt_report_add(&r, &e, 1000000);
	e = leak(0x50, 0xffff888000002000ULL, 1, 4096); /* other device: other group */
	sgt_report_add(&r, &e, 1000000);
	e.kind = SGT_MAP_FAILED;
	sgt_report_add(&r, &e, 0);
	CHECK(r.nr_groups == 4);
	CHECK(r.kind_count[SGT_LEAK] == 5);
	CHECK(r.kind_count[SGT_MAP_FAILED] == 1);
	CHECK(sgt_report_failing(&r, SGT_FAIL_ON_DEFAULT) == 5);
	CHECK(sgt_report_failing(&r, 1u << SGT_MAP_FAILED) == 1);
	CHECK(sgt_report_failing(&r, 0) == 0);
	/* The first group: count 3, bytes summed, oldest age and its example sgl. */
	CHECK(r.groups[0].count == 3);
	CHECK(r.groups[0].bytes == 16384);
	CHECK(r.groups[0].oldest_age_ns == 9000000);
	CHECK(r.groups[0].ex.sgl == 0x20);
	sgt_report_free(&r);
}

/* A lost map leaves no record: its correct unmap must not become a finding. */
static void test_lost_maps(void)
{
	struct sgt_report r;
	struct sgt_event e;

	for (int lost = 0; lost <= 1; lost++) {
		init_report(&r);
		e = leak(0x10, 0xffff888000001000ULL, 1, 4096);
		sgt_report_add(&r, &e, 0);
		e.kind = SGT_UNMAP_UNKNOWN;
		e.detail = SGT_UNKNOWN_NOT_MAPPED;
		e.sgl = 0x20;
		sgt_report_add(&r, &e, 0);
		e.sgl = 0x30;
		sgt_report_add(&r, &e, 0);
		e.stack_id = 9; /* a double unmap seen in full: another group, always a finding */
		e.detail = SGT_UNKNOWN_ALREADY_UNMAPPED;
		sgt_report_add(&r, &e, 0);
		r.map_misses = lost; /* one map run skipped by the kernel */
		sgt_report_settle_losses(&r);
		CHECK(r.kind_count[SGT_LEAK] == 1);
		CHECK(r.kind_count[SGT_UNMAP_UNKNOWN] == (lost ? 1 : 3));
		CHECK(r.unmatched_after_loss == (lost ? 2 : 0));
		CHECK(r.nr_groups == (lost ? 2u : 3u));
		CHECK(sgt_report_failing(&r, SGT_FAIL_ON_DEFAULT) == (lost ? 2 : 4));
		/* The index still finds the groups that stay: adding one joins its group. */
		e = leak(0x40, 0xffff888000001000ULL, 1, 4096);
		sgt_report_add(&r, &e, 0);
		CHECK(r.nr_groups == (lost ? 2u : 3u));
		CHECK(r.kind_count[SGT_LEAK] == 2);
		sgt_report_free(&r);
	}
	/* Each kind of map loss counts. */
	init_report(&r);
	r.stats[SGT_STAT_LOST_MAP_FULL] = 1;
	r.stats[SGT_STAT_LOST_STASH] = 2;
	r.stats[SGT_STAT_LOST_RACE] = 4;
	r.map_misses = 8;
	CHECK(sgt_report_lost_maps(&r) == 15);
	sgt_report_free(&r);
}

static void test_aggregation_scale(void)
{
	struct sgt_report r;

	init_report(&r);
	for (uint64_t i = 0; i < 200000; i++) {
		struct sgt_event e = leak(i * 64, 0xffff888000001000ULL, i % 1000, 4096);

		sgt_report_add(&r, &e, i);
	}
	CHECK(r.nr_groups == 1000);
	CHECK(r.kind_count[SGT_LEAK] == 200000);
	sgt_report_free(&r);
}

static json_object *path(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void test_json(void)
{
	struct sgt_report r;
	struct sgt_event e;
	json_object *j, *parsed, *f0, *st, *tot;
	const char *s;

	init_report(&r);
	r.stats[SGT_STAT_MAPS] = 10;
	r.stats[SGT_STAT_UNMAPS] = 7;
	r.stats[SGT_STAT_LOST_RINGBUF] = 2;
	r.stats[SGT_STAT_LOST_STACK] = 1;
	e = leak(0x10, 0xffff888000001000ULL, 1, 4096);
	sgt_report_add(&r, &e, 2500000);
	e = leak(0x20, 0xffff888000002000ULL, 1, 4096);
	e.kind = SGT_UNMAP_MISMATCH;
	e.detail = SGT_MISMATCH_DIR | SGT_MISMATCH_NENTS;
	e.udev = 0xffff888000002000ULL;
	sgt_report_add(&r, &e, 1000000);

	j = sgt_report_json(&r);
	s = json_object_to_json_string(j);
	parsed = json_tokener_parse(s); /* round trip: the output is valid JSON */
	CHECK(parsed != NULL);
	CHECK(!strcmp(json_object_get_string(path(path(parsed, "kernel"), "release")),
		      "6.1.0-test"));
	CHECK(path(parsed, "hooks") != NULL || json_object_object_get_ex(parsed, "hooks", NULL));
	tot = path(parsed, "totals");
	CHECK(json_object_get_int64(path(tot, "maps")) == 10);
	CHECK(json_object_get_int64(path(tot, "unmaps")) == 7);
	CHECK(json_object_get_int64(path(tot, "lost")) == 3);
	CHECK(path(tot, "table_frees") && path(tot, "unbinds"));
	CHECK(json_object_array_length(path(parsed, "findings")) == 2);
	f0 = json_object_array_get_idx(path(parsed, "findings"), 0);
	CHECK(!strcmp(json_object_get_string(path(f0, "kind")), "leak"));
	CHECK(!strcmp(json_object_get_string(path(f0, "device")), "sgkm.0"));
	CHECK(!strcmp(json_object_get_string(path(f0, "driver")), "sgkm"));
	CHECK(json_object_get_int64(path(f0, "count")) == 1);
	CHECK(json_object_get_int64(path(f0, "oldest_age_ms")) == 2);
	CHECK(!strcmp(json_object_get_string(path(f0, "dir")), "TO_DEVICE"));
	CHECK(!strcmp(json_object_get_string(path(f0, "comm")), "sgstress"));
	st = path(f0, "stack");
	/* The BPF program and trampoline frames are left out. */
	CHECK(json_object_array_length(st) == 3);
	CHECK(!strcmp(json_object_get_string(json_object_array_get_idx(st, 0)),
		      "dma_map_sgtable+0x30"));
	CHECK(!strcmp(json_object_get_string(json_object_array_get_idx(st, 1)),
		      "sgkm_table_map+0x4c [sgkm]"));
	f0 = json_object_array_get_idx(path(parsed, "findings"), 1);
	CHECK(!strcmp(json_object_get_string(path(f0, "kind")), "unmap_mismatch"));
	CHECK(!strcmp(json_object_get_string(path(f0, "device")), "we\"ird\\name"));
	CHECK(json_object_is_type(path(f0, "driver"), json_type_null));
	CHECK(json_object_array_length(path(f0, "mismatch")) == 2);
	CHECK(!strcmp(json_object_get_string(json_object_array_get_idx(path(f0, "mismatch"), 0)),
		      "dir"));
	CHECK(json_object_array_length(path(parsed, "live")) == 2);
	CHECK(json_object_get_int64(path(path(parsed, "summary"), "leak")) == 1);
	json_object_put(parsed);
	json_object_put(j);
	sgt_report_free(&r);
}

static void test_text(void)
{
	struct sgt_report r;
	struct sgt_event e;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	init_report(&r);
	e = leak(0x10, 0xffff888000001000ULL, 1, 4096);
	sgt_report_add(&r, &e, 2500000);
	f = open_memstream(&buf, &len);
	sgt_report_print(&r, f);
	fclose(f);
	CHECK(strstr(buf, "findings: 1, leak 1") != NULL);
	CHECK(strstr(buf, "sgkm_table_map+0x4c [sgkm]") != NULL);
	CHECK(strstr(buf, "bpf_prog_") == NULL);
	free(buf);
	sgt_report_free(&r);
}

/* Parses s as JSON, refusing invalid UTF-8 (which json_tokener_parse() lets through). */
static json_object *parse_utf8(const char *s)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, strlen(s) + 1);
	json_tokener_free(tok);
	return o;
}

/*
 * Task names are the task's own choice and cut at 15 bytes, device names at 31: a name cut
 * inside a UTF-8 character, an escape sequence, a C1 control (valid UTF-8, still a CSI to a
 * terminal), a raw invalid byte. JSON stays valid UTF-8 (U+FFFD for the invalid bytes); the
 * text report shows the controls as \xNN and sends no ESC or C1 to the terminal.
 */
static void test_untrusted_strings(void)
{
	static const char comm[] = "ab\x1b[2Jcdefghij\xc3";	/* 15 bytes, cut inside "\xc3\xa9" */
	static const char ucomm[] = "\xc2\x9b" "1m\\z\x7f\x9b\xe2\x82\xac";
	static char arg0[] = "./run\x1b]0;x\x07\xff", *argv[] = { arg0, NULL };
	struct sgt_dev d = { .maps = 1, .match = 1 };
	struct sgt_report r;
	struct sgt_event e;
	json_object *j, *parsed, *f0;
	const char *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	init_report(&r);
	strcpy(d.name, "dev\xe2\x82");	/* cut inside U+20AC */
	strcpy(d.driver, "drv");
	sgt_report_add_dev(&r, 0xffff888000003000ULL, &d);
	e = leak(0x10, 0xffff888000003000ULL, 1, 4096);
	e.kind = SGT_UNMAP_MISMATCH;
	e.detail = SGT_MISMATCH_DIR;
	e.udev = 0xffff888000003000ULL;
	memcpy(e.comm, comm, sizeof(comm));
	memcpy(e.ucomm, ucomm, sizeof(ucomm));
	sgt_report_add(&r, &e, 1000000);
	r.cmd_argv = argv; /* the traced command's name: the user's, or a file's */
	r.cmd_ran = true;

	j = sgt_report_json(&r);
	s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	parsed = parse_utf8(s);
	CHECK(parsed != NULL);
	f0 = parsed ? json_object_array_get_idx(path(parsed, "findings"), 0) : NULL;
	CHECK(f0 && !strcmp(json_object_get_string(path(f0, "comm")),
			    "ab\x1b[2Jcdefghij\xef\xbf\xbd"));
	CHECK(f0 && !strcmp(json_object_get_string(path(path(f0, "unmap"), "comm")),
			    "\xc2\x9b" "1m\\z\x7f\xef\xbf\xbd\xe2\x82\xac"));
	CHECK(f0 && !strcmp(json_object_get_string(path(f0, "device")),
			    "dev\xef\xbf\xbd\xef\xbf\xbd"));
	CHECK(parsed && !strcmp(json_object_get_string(json_object_array_get_idx(
				path(path(parsed, "command"), "argv"), 0)),
				"./run\x1b]0;x\x07\xef\xbf\xbd"));
	json_object_put(parsed);
	json_object_put(j);

	j = sgt_event_json(&r, &e, 1000000);
	parsed = parse_utf8(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	CHECK(parsed && !strcmp(json_object_get_string(path(parsed, "comm")),
				"ab\x1b[2Jcdefghij\xef\xbf\xbd"));
	json_object_put(parsed);
	json_object_put(j);

	f = open_memstream(&buf, &len);
	sgt_report_print(&r, f);
	sgt_event_print(&r, &e, 1000000, f);
	fclose(f);
	CHECK(strstr(buf, "pid 42 (ab\\x1b[2Jcdefghij\\xc3)") != NULL);
	CHECK(strstr(buf, "(\\xc2\\x9b1m\\\\z\\x7f\\x9b\xe2\x82\xac)") != NULL);
	CHECK(strstr(buf, "command: ./run\\x1b]0;x\\x07\\xff succeeded") != NULL);
	CHECK(strchr(buf, '\x1b') == NULL && strchr(buf, '\x07') == NULL);
	CHECK(strstr(buf, "\xc2\x9b") == NULL && strchr(buf, '\x9b') == NULL);
	free(buf);
	sgt_report_free(&r);
}

/* record's exit status: an operational error before the findings, findings before CMD. */
static void test_exit_status(void)
{
	static char *argv[] = { "cmd", NULL };
	struct sgt_report r;
	struct sgt_event e = leak(0x10, 0xffff888000001000ULL, 1, 4096);

	init_report(&r);
	CHECK(sgt_record_exit_status(&r, false) == SGT_EXIT_OK);
	CHECK(sgt_record_exit_status(&r, true) == SGT_EXIT_ERROR);
	r.cmd_argv = argv;
	CHECK(sgt_record_exit_status(&r, false) == SGT_EXIT_ERROR); /* did not start */
	r.cmd_ran = true;
	CHECK(sgt_record_exit_status(&r, false) == SGT_EXIT_OK);
	r.cmd_status = 7;
	CHECK(sgt_record_exit_status(&r, false) == SGT_EXIT_ERROR);
	r.cmd_interrupted = true;
	CHECK(sgt_record_exit_status(&r, false) == SGT_EXIT_OK);
	r.cmd_interrupted = false;
	sgt_report_add(&r, &e, 0);
	CHECK(sgt_record_exit_status(&r, false) == SGT_EXIT_FINDINGS); /* over the failed CMD */
	CHECK(sgt_record_exit_status(&r, true) == SGT_EXIT_ERROR);	/* the report is lost */
	r.fail_on = 1u << SGT_MAP_FAILED;
	CHECK(sgt_record_exit_status(&r, false) == SGT_EXIT_ERROR); /* a leak does not fail */
	sgt_report_free(&r);
}

static int parse(struct sgt_opts *o, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, o);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return sgt_parse_args(argc, argv, o);
}

static void test_cli(void)
{
	struct sgt_opts o;

	CHECK(parse(&o, "sgtrace", "record", "--duration", "2.5", "--min-age", "100", "--json",
		    "r.json", "--fail-on", "leak,unmap_unknown", "--device", "sgkm.0", "--attach",
		    "kprobe", "--max-mappings", "5000", "--", "cmd", "-x", "arg", NULL) == 0);
	CHECK(o.cmd == SGT_CMD_RECORD);
	CHECK(o.duration_s == 2.5);
	CHECK(o.min_age_ms == 100);
	CHECK(o.json_file && !strcmp(o.json_file, "r.json"));
	CHECK(o.fail_on == ((1u << SGT_LEAK) | (1u << SGT_UNMAP_UNKNOWN)));
	CHECK(o.device && !strcmp(o.device, "sgkm.0"));
	CHECK(o.attach == SGT_ATTACH_KPROBE);
	CHECK(o.max_mappings == 5000);
	CHECK(o.cmd_argv && !strcmp(o.cmd_argv[0], "cmd") && !strcmp(o.cmd_argv[1], "-x") &&
	      !strcmp(o.cmd_argv[2], "arg") && !o.cmd_argv[3]);

	CHECK(parse(&o, "sgtrace", "record", NULL) == 0);
	CHECK(o.fail_on == SGT_FAIL_ON_DEFAULT && !o.cmd_argv && o.duration_s == 0);
	CHECK(o.max_mappings == 262144 && o.attach == SGT_ATTACH_AUTO);
	CHECK(o.grace_ms == -1);
	CHECK(parse(&o, "sgtrace", "record", "--grace", "250", NULL) == 0 && o.grace_ms == 250);
	CHECK(parse(&o, "sgtrace", "record", "--fail-on", "none", NULL) == 0 && o.fail_on == 0);
	CHECK(parse(&o, "sgtrace", "record", "--fail-on", "all", NULL) == 0 &&
	      o.fail_on == (1u << SGT_KIND_NR) - 1);
	CHECK(parse(&o, "sgtrace", "monitor", "--interval", "0.5", "--json", NULL) == 0);
	CHECK(o.cmd == SGT_CMD_MONITOR && o.interval_s == 0.5 && o.json);
	CHECK(parse(&o, "sgtrace", "probe", "--attach=fentry", NULL) == 0);
	CHECK(o.cmd == SGT_CMD_PROBE && o.attach == SGT_ATTACH_FENTRY);
	CHECK(parse(&o, "sgtrace", "events", "--json", NULL) == 0 && o.cmd == SGT_CMD_EVENTS);
	/* Errors that do not go through argp_error (which exits 2; see cli-test). */
	CHECK(parse(&o, "sgtrace", NULL) == SGT_EXIT_USAGE);
	CHECK(parse(&o, "sgtrace", "frobnicate", NULL) == SGT_EXIT_USAGE);
}

static void test_kinds(void)
{
	CHECK(sgt_parse_kinds("leak") == 1 << SGT_LEAK);
	CHECK(sgt_parse_kinds("leak,bogus") == -1);
	CHECK(sgt_parse_kinds("") == -1);
	CHECK(sgt_parse_kinds("map_failed,outlives_unbind") ==
	      ((1 << SGT_MAP_FAILED) | (1 << SGT_OUTLIVES_UNBIND)));
	for (int k = 0; k < SGT_KIND_NR; k++)
		CHECK(sgt_kind_from_name(sgt_kind_name(k)) == k);
	CHECK(!strcmp(sgt_dir_name(0), "BIDIRECTIONAL") && !strcmp(sgt_dir_name(2), "FROM_DEVICE"));
}

int main(int argc, char **argv)
{
	fixture = argc > 1 ? argv[1] : "kallsyms.fixture";
	modules_fixture = argc > 2 ? argv[2] : "modules.fixture";
	ks = ksyms_load(fixture);
	printf("TAP version 13\n1..12\n");
	run("ksyms lookup and module symbols", test_ksyms_lookup);
	run("symbol extents (_end, /proc/modules, [bpf])", test_ksyms_extents);
	run("tracer frames are recognized", test_tracer_frames);
	run("report aggregation by kind, device and stack", test_aggregation);
	run("unmaps of lost maps are not findings", test_lost_maps);
	run("aggregation of 200000 findings", test_aggregation_scale);
	run("JSON report schema and escaping", test_json);
	run("text report", test_text);
	run("task and device names: valid UTF-8 in JSON, escaped in text", test_untrusted_strings);
	run("record's exit status", test_exit_status);
	run("CLI parsing", test_cli);
	run("finding kinds", test_kinds);
	ksyms_free(ks);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
