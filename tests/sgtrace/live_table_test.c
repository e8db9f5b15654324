// SPDX-License-Identifier: GPL-2.0
/*
 * sgtrace_live_table: runs the live table of the BPF side (bpf/sgtrace.bpf.c, "live table")
 * through exact sequences of maps, unmaps and frees on this machine's kernel, with a table of
 * one bucket (8 slots), and checks each slot state, counter and finding: full table, unmapped
 * records kept and taken back, double and unknown unmaps, table frees, frees while mapped,
 * mismatches, remaps, and what user space then reads (sgt_collect_live). Then the kprobe
 * flavour's pairing of map entries and returns, per stack (overlapping calls of two contexts,
 * lost returns, returns without an entry, deep nesting), and user/attach.c: the map hook's
 * method chosen as a whole on a made-up kernel, and a failed attach leaving nothing attached.
 * Needs root.
 */
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
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

/* One call of drive (live_table_test.h); returns the number of findings it sent. */
static int drive(struct harness *h, __u64 what, __u64 sgl, int nents, int dir, __u64 sp)
{
	__u64 args[6] = { what, DEV, sgl, (__u64)nents, (__u64)dir, sp };
	LIBBPF_OPTS(bpf_test_run_opts, topts, .ctx_in = args, .ctx_size_in = sizeof(args));
	int before = events;

	if (bpf_prog_test_run_opts(bpf_program__fd(h->skel->progs.drive), &topts)) {
		perror("BPF_PROG_TEST_RUN of drive");
		exit(1);
	}
	ring_buffer__consume(h->rb);
	return events - before;
}

/* A map, unmap or free of one entry. */
static int op(struct harness *h, __u64 what, __u64 sgl, int dir)
{
	return drive(h, what, sgl, 1, dir, 0);
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

/* ---- the kprobe flavour's pairing of map entries and returns (stash_push, stash_pop) ---- */

/* Stack pointers on 16 KiB stacks: a thread's, and the IRQ stacks of two CPUs. A kprobe at a
 * function's entry sees sp (the return address's slot), its kretprobe sp + 8. */
#define STACK(n) (0xffffc90000000000ULL + (__u64)(n) * 0x4000ULL)
#define THREAD STACK(0x281)
#define IRQ0 STACK(1)
#define IRQ1 STACK(2)

static void kp_entry(struct harness *h, __u64 sgl, __u64 sp)
{
	drive(h, LTT_KP_ENTRY, sgl, 1, 1, sp);
}

static void kp_return(struct harness *h, __u64 sp, int ret)
{
	drive(h, LTT_KP_RETURN, 0, ret, 0, sp + 8);
}

/* sgl is recorded as mapped (once). */
static int mapped(struct harness *h, __u64 sgl)
{
	return slots_holding(h, sgl) == 1;
}

/* The calls stashed for the stack of sp (0: none). */
static unsigned int stashed(struct harness *h, __u64 sp)
{
	struct { __u64 w[5 * 4]; __u32 depth, pad; } v; /* struct map_stash */
	__u64 key = sp >> 14;

	if (bpf_map__value_size(h->skel->maps.map_stash) != sizeof(v))
		return ~0U;
	if (bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.map_stash), &key, &v))
		return 0;
	return v.depth;
}

/* Unmaps and frees sgl: its slot is empty again. */
static void clear(struct harness *h, __u64 sgl)
{
	op(h, LTT_UNMAP, sgl, 1);
	op(h, LTT_FREE, sgl, 0);
}

static void run_kprobe_pairing(struct harness *h)
{
	__u64 maps = 0, lost = 0;

	/* Interrupts on two idle CPUs (thread id 0 on both, as this test's calls share one
	 * thread id): their calls overlap, each return takes its own entry. */
	kp_entry(h, SGL(0), IRQ0 + 0x3f00);
	kp_entry(h, SGL(1), IRQ1 + 0x3e00);
	kp_return(h, IRQ0 + 0x3f00, 1);
	CHECK(mapped(h, SGL(0)) && !mapped(h, SGL(1)), "the first return maps sgl 0 only");
	kp_return(h, IRQ1 + 0x3e00, 1);
	CHECK(mapped(h, SGL(1)), "the second return maps sgl 1");
	/* An interrupt's map (IRQ stack) during a thread's map, the IRQ stack lying below the
	 * thread's or above it: stack pointers of different stacks are not compared. */
	kp_entry(h, SGL(2), THREAD + 0x3c00);
	kp_entry(h, SGL(3), IRQ0 + 0x3f00);
	kp_return(h, IRQ0 + 0x3f00, 1);
	kp_return(h, THREAD + 0x3c00, 1);
	kp_entry(h, SGL(4), IRQ0 + 0x3f00);
	kp_entry(h, SGL(5), THREAD + 0x3c00); /* (the other way round: cannot happen, harmless) */
	kp_return(h, THREAD + 0x3c00, 1);
	kp_return(h, IRQ0 + 0x3f00, 1);
	maps += 6;
	CHECK(mapped(h, SGL(2)) && mapped(h, SGL(3)) && mapped(h, SGL(4)) && mapped(h, SGL(5)),
	      "interrupt and thread maps each recorded");
	CHECK(stat(h, SGT_STAT_MAPS) == maps && stat(h, SGT_STAT_LOST_STASH) == lost,
	      "maps %llu lost %llu", stat(h, SGT_STAT_MAPS), stat(h, SGT_STAT_LOST_STASH));
	CHECK(!stashed(h, IRQ0) && !stashed(h, IRQ1) && !stashed(h, THREAD), "stash empty");
	for (int i = 0; i < 6; i++)
		clear(h, SGL(i));

	/* A return lost (no kretprobe instance free): its entry stays. A later, deeper call of
	 * the thread is not taken for one nested in it: its own return maps its own sgl. */
	kp_entry(h, SGL(0), THREAD + 0x3d00);
	kp_entry(h, SGL(1), THREAD + 0x3b00);
	kp_return(h, THREAD + 0x3b00, 1);
	maps++;
	CHECK(mapped(h, SGL(1)) && !mapped(h, SGL(0)), "the deeper call maps its own sgl");
	CHECK(stashed(h, THREAD) == 1, "the stale entry is still there: %u", stashed(h, THREAD));
	/* A call at the stale entry's level (or above it): the stale entry is dropped, lost. */
	kp_entry(h, SGL(2), THREAD + 0x3d00);
	lost++;
	CHECK(stat(h, SGT_STAT_LOST_STASH) == lost, "stale entry counted: lost %llu",
	      stat(h, SGT_STAT_LOST_STASH));
	kp_return(h, THREAD + 0x3d00, 1);
	maps++;
	CHECK(mapped(h, SGL(2)) && !mapped(h, SGL(0)), "sgl 2 mapped, the stale sgl 0 never");
	CHECK(!stashed(h, THREAD), "stash empty");
	clear(h, SGL(1));
	clear(h, SGL(2));

	/* A return whose entry was not stashed (its program skipped): it takes nobody's entry;
	 * here it is a failed map, which would otherwise have made the outer call a failure. */
	kp_entry(h, SGL(3), THREAD + 0x3d00);
	kp_return(h, THREAD + 0x3a00, 0);
	CHECK(stat(h, SGT_STAT_MAP_FAILED) == 0 && stashed(h, THREAD) == 1,
	      "an unknown return changes nothing: map_failed %llu",
	      stat(h, SGT_STAT_MAP_FAILED));
	kp_return(h, THREAD + 0x3d00, 1);
	maps++;
	CHECK(mapped(h, SGL(3)), "the outer call is mapped");
	clear(h, SGL(3));

	/* Nested calls whose returns were lost go when the outer call returns. */
	kp_entry(h, SGL(4), THREAD + 0x3d00);
	kp_entry(h, SGL(5), THREAD + 0x3c00);
	kp_entry(h, SGL(6), THREAD + 0x3b00);
	kp_return(h, THREAD + 0x3d00, 1);
	maps++;
	lost += 2;
	CHECK(mapped(h, SGL(4)) && !mapped(h, SGL(5)) && !mapped(h, SGL(6)),
	      "the outer call mapped, the inner ones not");
	CHECK(stat(h, SGT_STAT_LOST_STASH) == lost && !stashed(h, THREAD),
	      "two lost: lost %llu", stat(h, SGT_STAT_LOST_STASH));
	clear(h, SGL(4));

	/* Five calls nested on one stack: the outermost gives way, the four others pair. */
	for (int i = 0; i < 5; i++)
		kp_entry(h, SGL(i), IRQ0 + 0x3f00 - i * 0x100);
	lost++;
	CHECK(stashed(h, IRQ0) == 4 && stat(h, SGT_STAT_LOST_STASH) == lost, "four stashed");
	for (int i = 4; i >= 0; i--)
		kp_return(h, IRQ0 + 0x3f00 - i * 0x100, 1);
	maps += 4;
	CHECK(!mapped(h, SGL(0)) && mapped(h, SGL(1)) && mapped(h, SGL(4)), "the inner four mapped");
	CHECK(stat(h, SGT_STAT_MAPS) == maps && stat(h, SGT_STAT_LOST_STASH) == lost &&
		      !stashed(h, IRQ0),
	      "maps %llu (want %llu), lost %llu (want %llu)", stat(h, SGT_STAT_MAPS), maps,
	      stat(h, SGT_STAT_LOST_STASH), lost);
}

/* ---- user/attach.c: the method chosen per hook, and a failed attach ---- */

/* A made-up kernel for sgt_hooks_probe(): fexit attaches to dma_map_sg_attrs but not to
 * dma_map_sgtable (fexit_sgtable), kprobes attach everywhere, the dma tracepoints exist or not. */
static bool fake_fexit_sgtable, fake_dma_tps;

static bool fake_tracing(const char *name, enum bpf_attach_type type)
{
	if (type == BPF_TRACE_RAW_TP)
		return fake_dma_tps;
	return strcmp(name, "dma_map_sgtable") || fake_fexit_sgtable;
}

static bool fake_yes(const char *name)
{
	(void)name;
	return true;
}

static bool fake_raw_tp(const char *tp)
{
	return strncmp(tp, "dma_", 4) || fake_dma_tps;
}

static bool fake_tracepoint_exists(const char *cat, const char *name)
{
	(void)cat, (void)name;
	return true;
}

static bool fake_dma_proto(const char *tp, unsigned int nparams)
{
	(void)tp, (void)nparams;
	return fake_dma_tps;
}

static bool fake_kfree_proto(void)
{
	return true;
}

static const struct sgt_probe_ops fake_kernel = {
	.tracing_can_attach = fake_tracing,
	.raw_tp_can_attach = fake_raw_tp,
	.kprobe_can_attach = fake_yes,
	.tracepoint_exists = fake_tracepoint_exists,
	.btf_has_func = fake_yes,
	.dma_tp_proto_ok = fake_dma_proto,
	.kfree_tp_proto_ok = fake_kfree_proto,
};

static bool has_prog(const struct sgt_hook *h, const char *name)
{
	for (int i = 0; i < SGT_HOOK_MAX_PROGS && h->progs[i]; i++)
		if (!strcmp(h->progs[i], name))
			return true;
	return false;
}

/* A method is used for the map hook as a whole: both entry points or the next method (fexit
 * on dma_map_sg_attrs alone would miss every dma_map_sgtable() map, which does not call it). */
static void run_attach_choice(void)
{
	struct sgt_hooks hk;
	const struct sgt_hook *m = &hk.h[SGT_HOOK_MAP];

	sgt_hooks_set_probe_ops(&fake_kernel);

	fake_fexit_sgtable = true, fake_dma_tps = false;
	sgt_hooks_probe(&hk, SGT_ATTACH_AUTO, 1);
	CHECK(m->method && !strcmp(m->method, "fentry/fexit") &&
		      has_prog(m, "fexit_dma_map_sgtable") && has_prog(m, "fexit_dma_map_sg_attrs"),
	      "both fexits: %s %s", m->method, m->targets);

	fake_fexit_sgtable = false;
	sgt_hooks_probe(&hk, SGT_ATTACH_AUTO, 1);
	CHECK(m->method && !strcmp(m->method, "kprobe") && has_prog(m, "kp_dma_map_sgtable") &&
		      has_prog(m, "krp_dma_map_sgtable") && has_prog(m, "krp_dma_map_sg_attrs") &&
		      !has_prog(m, "fexit_dma_map_sg_attrs"),
	      "no fexit on dma_map_sgtable: the next method, kprobes, not half of fexit: %s %s",
	      m->method, m->targets);
	CHECK(hk.h[SGT_HOOK_UNMAP].method && !strcmp(hk.h[SGT_HOOK_UNMAP].method, "fentry/fexit"),
	      "the unmap hook keeps fentry: %s", hk.h[SGT_HOOK_UNMAP].method);

	fake_dma_tps = true;
	sgt_hooks_probe(&hk, SGT_ATTACH_AUTO, 1);
	CHECK(m->method && !strcmp(m->method, "tp_btf") && has_prog(m, "tpbtf_dma_map_sg"),
	      "with the dma tracepoints: tp_btf: %s %s", m->method, m->targets);

	sgt_hooks_probe(&hk, SGT_ATTACH_FENTRY, 1);
	CHECK(!m->method && !sgt_hooks_usable(&hk),
	      "--attach fentry: the map hook is not observable: %s %s", m->method, m->targets);

	sgt_hooks_set_probe_ops(NULL);
}

/* The BPF links attached to program fd prog (0 if none). */
static int links_of(int prog)
{
	struct bpf_prog_info pi = { 0 };
	__u32 len = sizeof(pi), id = 0;
	int n = 0;

	if (bpf_obj_get_info_by_fd(prog, &pi, &len))
		return -1;
	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info li = { 0 };
		int fd = bpf_link_get_fd_by_id(id);

		len = sizeof(li);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &li, &len) && li.prog_id == pi.id)
			n++;
		close(fd);
	}
	return n;
}

/* A hook that cannot be attached leaves nothing attached (nothing the caller does not know). */
static void run_attach_failure(void)
{
	struct live_table_test *skel = live_table_test__open();
	struct bpf_link *links[SGT_HOOK_NR * SGT_HOOK_MAX_PROGS] = { 0 };
	struct sgt_hooks hk = { 0 };
	struct bpf_program *prog;
	libbpf_print_fn_t old_print;
	int n, kfree_fd, unmap_fd;

	CHECK(skel != NULL, "open");
	if (!skel)
		return;
	/* Two programs that attach on this kernel; the map hook's program is not loaded, so its
	 * attach fails (as a kprobe would on a kernel without kprobes). */
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), "rawtp_kfree") ||
							!strcmp(bpf_program__name(prog), "rawtp_dma_unmap_sg"));
	bpf_map__set_max_entries(skel->maps.live, 1);
	if (live_table_test__load(skel)) {
		CHECK(0, "load: %s", strerror(errno));
		live_table_test__destroy(skel);
		return;
	}
	hk.h[SGT_HOOK_FREE].progs[0] = "rawtp_kfree";
	hk.h[SGT_HOOK_UNMAP].progs[0] = "rawtp_dma_unmap_sg";
	hk.h[SGT_HOOK_MAP].progs[0] = "rawtp_dma_map_sg";
	kfree_fd = bpf_program__fd(skel->progs.rawtp_kfree);
	unmap_fd = bpf_program__fd(skel->progs.rawtp_dma_unmap_sg);

	old_print = libbpf_set_print(NULL); /* "can't attach before loaded": expected */
	n = sgt_hooks_attach(&hk, skel->obj, links, sizeof(links) / sizeof(links[0]));
	libbpf_set_print(old_print);
	CHECK(n < 0, "the attach fails: %d", n);
	CHECK(!links[0] && !links[1], "links[] left empty");
	CHECK(links_of(kfree_fd) == 0 && links_of(unmap_fd) == 0,
	      "no link left attached: kfree %d, unmap %d", links_of(kfree_fd), links_of(unmap_fd));
	if (n > 0)
		sgt_hooks_detach(links, n);
	else /* what the old code left behind */
		for (int i = 0; i < 2; i++)
			if (links[i])
				bpf_link__destroy(links[i]);

	/* The two that can attach, attached and detached again. */
	hk.h[SGT_HOOK_MAP].progs[0] = NULL;
	n = sgt_hooks_attach(&hk, skel->obj, links, sizeof(links) / sizeof(links[0]));
	CHECK(n == 2 && links_of(kfree_fd) == 1 && links_of(unmap_fd) == 1, "attached: %d", n);
	if (n > 0)
		sgt_hooks_detach(links, n);
	CHECK(links_of(kfree_fd) == 0 && links_of(unmap_fd) == 0, "detached");
	live_table_test__destroy(skel);
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
	if (setup(&h)) {
		fprintf(stderr, "sgtrace_live_table: cannot load the test object again\n");
		return 1;
	}
	run_kprobe_pairing(&h);
	ring_buffer__free(h.rb);
	live_table_test__destroy(h.skel);
	run_attach_choice();
	run_attach_failure();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
