// SPDX-License-Identifier: GPL-2.0
/*
 * sgtrace_live_table: runs the live table of the BPF side (bpf/sgtrace.bpf.c, "live table")
 * through exact sequences of maps, unmaps and frees on this machine's kernel, with a table of
 * one bucket (8 slots), and checks each slot state, counter and finding: full table, unmapped
 * records kept and taken back, double and unknown unmaps, table frees, frees while mapped,
 * mismatches, remaps, and what user space then reads (sgt_collect_live). Needs root.
 */
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "live_table_test.h"
#include "live_table_test.skel.h"
#include "sgtrace.h"
#include "sgtrace_live.h"

#define DEV 0xffff888000001000ULL
#define SGL(i) (0xffff888012340000ULL + (i) * 0x200ULL)

static int failures, checks;
static struct sgt_event last_event;
static int events;

#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		checks++;                                                          \
		if (!(cond)) {                                                     \
			failures++;                                                \
			printf("not ok - %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                                       \
			printf("\n");                                              \
		}                                                                  \
	} while (0)

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size >= sizeof(last_event)) {
		memcpy(&last_event, data, sizeof(last_event));
		events++;
	}
	return 0;
}

struct harness {
	struct live_table_test *skel;
	struct ring_buffer *rb;
};

/* One call of a handler; returns the number of findings it sent. */
static int op(struct harness *h, __u64 what, __u64 sgl, int dir)
{
	__u64 args[5] = { what, DEV, sgl, 1, (__u64)dir };
	LIBBPF_OPTS(bpf_test_run_opts, topts, .ctx_in = args, .ctx_size_in = sizeof(args));
	int before = events;

	if (bpf_prog_test_run_opts(bpf_program__fd(h->skel->progs.drive), &topts)) {
		perror("BPF_PROG_TEST_RUN of drive");
		exit(1);
	}
	ring_buffer__consume(h->rb);
	return events - before;
}

static __u64 stat(struct harness *h, __u32 idx)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[ncpu], sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.stats), &idx, vals))
		return ~0ULL;
	for (int c = 0; c < ncpu; c++)
		sum += vals[c];
	return sum;
}

static struct sgt_live_bucket bucket(struct harness *h)
{
	struct sgt_live_bucket b;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.live), &zero, &b)) {
		perror("reading the live table");
		exit(1);
	}
	return b;
}

static int slots_holding(struct harness *h, __u64 word)
{
	struct sgt_live_bucket b = bucket(h);
	int n = 0;

	for (int i = 0; i < SGT_LIVE_SLOTS; i++)
		n += b.sgl[i] == word;
	return n;
}

static struct sgt_dev device(struct harness *h)
{
	struct sgt_dev d = { 0 };

	for (__u32 i = 0; i < SGT_DEV_SLOTS; i++)
		if (!bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.devs), &i, &d) && d.key == DEV)
			return d;
	memset(&d, 0, sizeof(d));
	return d;
}

static int setup(struct harness *h)
{
	struct bpf_program *prog;

	h->skel = live_table_test__open();
	if (!h->skel)
		return -1;
	/* Only the driver (and the clock sample) load: the hooks are not what is tested. */
	bpf_object__for_each_program(prog, h->skel->obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), "drive"));
	bpf_map__set_max_entries(h->skel->maps.live, 1);
	h->skel->rodata->live_mask = 0; /* one bucket: both choices are bucket 0 */
	if (live_table_test__load(h->skel))
		return -1;
	h->rb = ring_buffer__new(bpf_map__fd(h->skel->maps.events), on_event, NULL, NULL);
	return h->rb ? 0 : -1;
}

static void run_sequence(struct harness *h)
{
	struct sgt_live_bucket b;
	struct sgt_report r;
	struct sgt_dev d;
	int i, n;

	for (i = 0; i < 8; i++)
		CHECK(op(h, LTT_MAP, SGL(i), 1) == 0, "map %d", i);
	CHECK(stat(h, SGT_STAT_MAPS) == 8, "maps %llu", stat(h, SGT_STAT_MAPS));
	b = bucket(h);
	CHECK(b.used == 8, "used %u", b.used);
	for (i = 0; i < 8; i++)
		CHECK(slots_holding(h, SGL(i)) == 1, "sgl %d in one slot, mapped", i);

	/* A ninth mapping: both buckets (the same one here) hold only live mappings. */
	op(h, LTT_MAP, SGL(8), 1);
	CHECK(stat(h, SGT_STAT_LOST_MAP_FULL) == 1, "live_map_full %llu",
	      stat(h, SGT_STAT_LOST_MAP_FULL));

	/* Unmaps keep their record, flagged. */
	CHECK(op(h, LTT_UNMAP, SGL(0), 1) == 0, "clean unmap 0");
	CHECK(op(h, LTT_UNMAP, SGL(1), 1) == 0, "clean unmap 1");
	CHECK(stat(h, SGT_STAT_UNMAPS) == 2, "unmaps %llu", stat(h, SGT_STAT_UNMAPS));
	CHECK(slots_holding(h, SGL(0) | SGT_SLOT_UNMAPPED) == 1, "sgl 0 kept as unmapped");

	/* A second unmap is a double unmap. */
	n = op(h, LTT_UNMAP, SGL(0), 1);
	CHECK(n == 1 && last_event.kind == SGT_UNMAP_UNKNOWN &&
		      last_event.detail == SGT_UNKNOWN_ALREADY_UNMAPPED,
	      "double unmap: %d events, kind %u detail %u", n, last_event.kind, last_event.detail);

	/* A new mapping takes back the first unmapped record (sgl 0's slot). */
	op(h, LTT_MAP, SGL(8), 1);
	CHECK(stat(h, SGT_STAT_MAPS) == 9, "maps %llu", stat(h, SGT_STAT_MAPS));
	b = bucket(h);
	CHECK(b.sgl[0] == SGL(8), "slot 0 holds sgl 8: %#llx", (unsigned long long)b.sgl[0]);
	n = op(h, LTT_UNMAP, SGL(0), 1);
	CHECK(n == 1 && last_event.kind == SGT_UNMAP_UNKNOWN &&
		      last_event.detail == SGT_UNKNOWN_NOT_MAPPED,
	      "unmap of a forgotten record: %d events, detail %u", n, last_event.detail);

	/* The table freed after its unmap: counted, the slot emptied. */
	CHECK(op(h, LTT_FREE, SGL(1), 0) == 0, "free after unmap");
	CHECK(stat(h, SGT_STAT_TABLE_FREES) == 1, "table_frees %llu",
	      stat(h, SGT_STAT_TABLE_FREES));
	CHECK(slots_holding(h, 0) == 1 && bucket(h).used == 7, "one empty slot, used %u",
	      bucket(h).used);

	/* Freed while mapped. */
	n = op(h, LTT_FREE, SGL(2), 0);
	CHECK(n == 1 && last_event.kind == SGT_FREED_WHILE_MAPPED && last_event.sgl == SGL(2) &&
		      last_event.bytes == 4096,
	      "free while mapped: %d events, kind %u", n, last_event.kind);
	CHECK(slots_holding(h, 0) == 2, "two empty slots");

	/* An unmap with another direction. */
	n = op(h, LTT_UNMAP, SGL(3), 2);
	CHECK(n == 1 && last_event.kind == SGT_UNMAP_MISMATCH &&
		      last_event.detail == SGT_MISMATCH_DIR,
	      "mismatch: %d events, kind %u detail %u", n, last_event.kind, last_event.detail);

	/* Mapped again while mapped: the newer map replaces it in place. */
	op(h, LTT_MAP, SGL(4), 1);
	CHECK(stat(h, SGT_STAT_REMAPS) == 1 && slots_holding(h, SGL(4)) == 1,
	      "remap: remaps %llu", stat(h, SGT_STAT_REMAPS));

	/* Frees of other memory, and an unaligned unmap, change nothing in the table. */
	b = bucket(h);
	CHECK(op(h, LTT_FREE, 0xffff888055550000ULL, 0) == 0, "free of other memory");
	n = op(h, LTT_UNMAP, SGL(5) | 1, 1);
	CHECK(n == 1 && last_event.detail == SGT_UNKNOWN_NOT_MAPPED, "unaligned unmap: %d", n);
	{
		struct sgt_live_bucket after = bucket(h);

		CHECK(!memcmp(b.sgl, after.sgl, sizeof(b.sgl)), "slot words unchanged");
	}
	CHECK(stat(h, SGT_STAT_LOST_RACE) == 0, "no races on one CPU");

	/* What is live now: sgl 8, 4, 5, 6, 7; the device's counter agrees. */
	d = device(h);
	CHECK(d.key == DEV && d.live == 5 && d.maps == 10 && d.unmaps == 3,
	      "device: live %lld maps %llu unmaps %llu", (long long)d.live,
	      (unsigned long long)d.maps, (unsigned long long)d.unmaps);
	sgt_report_init(&r);
	CHECK(sgt_collect_live(bpf_map__fd(h->skel->maps.live), 1, &r, ~0ULL >> 1, 4e6, 0) == 0,
	      "collect");
	CHECK(r.live_total == 5 && r.kind_count[SGT_LEAK] == 5, "collected %llu live, %llu leaks",
	      (unsigned long long)r.live_total, (unsigned long long)r.kind_count[SGT_LEAK]);
	sgt_report_free(&r);
}

int main(void)
{
	struct harness h = { 0 };

	if (setup(&h)) {
		fprintf(stderr, "sgtrace_live_table: cannot load the test object (needs root and "
				"BPF_PROG_TEST_RUN of raw_tp programs, 5.10+)\n");
		return 1;
	}
	run_sequence(&h);
	ring_buffer__free(h.rb);
	live_table_test__destroy(h.skel);
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
