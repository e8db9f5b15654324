// SPDX-License-Identifier: GPL-2.0
/*
 * sgtrace.bpf.c: the kernel side of sgtrace, a tracer of scatter-gather DMA mappings.
 *
 * Every hook comes in several flavours (fentry/fexit, tp_btf, kprobe/kretprobe, raw_tp or
 * tracepoint); user space (user/attach.c) decides per hook group which flavour this kernel
 * supports and turns autoload off for the others, so exactly one flavour of each group runs.
 * The flavours only decode their arguments and call the common handlers below.
 *
 * State: "live" is a table of scatterlist addresses with their map call (struct sgt_live),
 * mapped, or unmapped and kept to tell a double unmap from an unknown one and to count table
 * frees (see "live table"); "devs" holds per-device names, counters and the completed-unbind
 * generation. Findings that happen while tracing go to the "events" ring buffer; the
 * end-of-run findings (leak, outlives_unbind) are read from "live" by user space.
 * docs/sgtrace.md states the rule that gives every mapping at most one finding.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sgtrace.h"

char LICENSE[] SEC("license") = "GPL";

#define SG_CHAIN 0x01UL /* include/linux/scatterlist.h: page_link bits */
#define SG_END 0x02UL
#define SG_PAGE_LINK_MASK (SG_CHAIN | SG_END)
#define MAX_WALK (1 << 20) /* scatterlist entries walked to sum the bytes of one map */
#define NO_STACK ((__u32)-1)
#define EEXIST 17
#define PAGE_SHIFT 12

/* Configuration, set by user space before load. */
const volatile __u32 filter_enabled = 0;	 /* --device given */
const volatile char filter_name[SGT_NAME_LEN] = {}; /* --device NAME */
/* Address of the kernel variable page_offset_base (x86-64 with CONFIG_RANDOMIZE_MEMORY), found
 * in /proc/kallsyms by user space; 0 when unknown: page-sized scatterlist chunks freed with
 * free_page() are then not observed (see docs/sgtrace.md, limits). */
const volatile __u64 page_offset_base_addr = 0;

/* --grace: for this long after tracing started, an unmap of a scatterlist never seen mapped
 * is taken for a mapping made before the start (counted, not reported). trace_start_ns is set
 * by user space once every hook is attached; 0 means "still attaching". */
const volatile __u64 grace_ns = 0;
__u64 trace_start_ns = 0;

/* The end of tracing, set by user space (record) instead of detaching first: 1 = maps are no
 * longer recorded, 2 = nothing is. Then user space waits for the handlers in flight
 * (synchronize_rcu() through membarrier()), reads the maps, and detaches meanwhile. The order
 * (maps first) is the one of a detach: no map is recorded whose unmap could be missed. */
__u32 stopping = 0;

__u64 page_offset_cached = 0;

/*
 * Records and events carry jiffies (bpf_jiffies64(), 5.5+, inlined by the verifier on 64-bit
 * JITs: one load), not nanoseconds: what is wanted of them is a mapping's age in milliseconds,
 * and bpf_ktime_get_ns() cost ~1.3 us in the map handler under TCG (the guest's clocksource is
 * emulated; docs/perf.md). User space turns jiffies into time with clock_sample's pair and
 * the kernel's tick_nsec (ns per jiffy), whose address it takes from /proc/kallsyms (0:
 * unknown, then it estimates the length of a jiffy).
 */
const volatile __u64 tick_nsec_addr = 0;
__u64 sample_jiffies = 0, sample_ns = 0, sample_tick_nsec = 0;

/* Run by user space (BPF_PROG_TEST_RUN of a raw_tp program: 5.10+), never attached. */
SEC("raw_tp")
int clock_sample(void *ctx)
{
	sample_jiffies = bpf_jiffies64();
	sample_ns = bpf_ktime_get_ns();
	if (tick_nsec_addr)
		bpf_probe_read_kernel(&sample_tick_nsec, sizeof(sample_tick_nsec),
				      (void *)tick_nsec_addr);
	return 0;
}

/* The live table: see "live table" below. Its size is set by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sgt_live_bucket);
} live SEC(".maps");

/* Buckets - 1 (a power of two minus one), set by user space with the table's size. */
const volatile __u32 live_mask = 0;

/* The device table (sgtrace.h): an array, so that finding a device is an inlined read where a
 * hash lookup cost ~0.4 us under TCG on every map and unmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SGT_DEV_SLOTS);
	__type(key, __u32);
	__type(value, struct sgt_dev);
} devs SEC(".maps");

/* Devices inside device_release_driver_internal() that had a driver at its entry. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} unbinding SEC(".maps");

/*
 * kprobe -> kretprobe: the map calls in flight, per stack (see "kprobe/kretprobe flavour"). A
 * call is known by its stack pointer at the entry, where the return address lies (sp); the
 * kretprobe runs after that address was popped, with sp + 8 (arch_rethook_trampoline puts the
 * stack pointer of the return in pt_regs). The key is the 16 KiB of stack the call runs in (its
 * sp >> 14): a thread's stack (16 KiB, aligned) belongs to that thread wherever it migrates, an
 * IRQ stack to its CPU, whatever their thread id (0 for every CPU's idle task, which is what
 * interrupts on an idle CPU run in). An IRQ stack is mapped page-aligned (vmap), so it may
 * span two keys, and a key may then hold the top of one stack and the bottom of another: a
 * call is still paired by its exact sp (no two contexts share one); at worst a running call
 * is taken for a stale one and counted lost.
 */
#define MAP_NEST 4		/* calls in flight on one stack: a map in an interrupt that hit a map */
#define RET_SP_DELTA 8		/* the kretprobe's sp minus the kprobe's */
#define STACK_SHIFT 14		/* x86-64 thread and IRQ stacks: 16 KiB, aligned */

struct map_call {
	__u64 sp;  /* stack pointer at the entry */
	__u64 dev;
	__u64 arg; /* struct sg_table * or struct scatterlist * */
	__u32 nents;
	__u32 dir;
	__u32 stack_id;
	__u32 is_sgtable;
};

struct map_stash {
	struct map_call call[MAP_NEST]; /* [0] the outermost, [depth - 1] the innermost */
	__u32 depth;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct map_stash);
} map_stash SEC(".maps");

/* kprobe -> kretprobe of device_release_driver_internal: the devices, per thread (it nests
 * when a device's removal deletes child devices). */
#define UNBIND_NEST 4
struct unbind_stash {
	__u64 dev[UNBIND_NEST];
	__u32 depth;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct unbind_stash);
} unbind_stash SEC(".maps");

struct comm {
	char comm[SGT_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct comm);
} comms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, SGT_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SGT_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Per CPU: one lookup (a helper call on 6.1) gives a handler all of this. */
struct cpu_scratch {
	__u32 busy;	/* our map/unmap handlers running on this CPU (see busy_enter) */
	__u32 last_pid; /* the last process whose comm was stored (see remember_comm) */
	__u64 word[3];	/* see as_number */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_scratch);
} cpu_scratch SEC(".maps");

static __always_inline struct cpu_scratch *this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_scratch, &zero);
}

/*
 * A pointer the program got from the kernel (a BTF-typed argument, or ctx itself) as a plain
 * number, which the tables can hash (the verifier refuses arithmetic such as a multiply on a
 * pointer): stored into this CPU's scratch word and read back, a store and a load where a
 * bpf_probe_read_kernel() of it cost 0.1-0.4 us under TCG. The verifier lets a privileged
 * program store a pointer into a map value, and what it reads back there is a number. Each
 * program has its own word: a program does not nest in itself on one CPU (the kernel's
 * recursion guard), so nothing can write the word between the store and the load.
 */
enum { WORD_MAP, WORD_MAP_SG, WORD_UNMAP };

static __always_inline __u64 as_number(struct cpu_scratch *c, int word, __u64 ptr)
{
	volatile __u64 *w = &c->word[word];

	*w = ptr;
	return *w;
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/*
 * A pre-filter for the free hooks: kmem:kfree fires on every kfree() in the system (about 9 per
 * sgstress operation under TCG, most of them not scatterlists). "watch" counts, per slot of a
 * hash of the address, the entries of the live table (mapped or unmapped) whose address falls
 * in that slot; a free whose slot counts 0 returns after one load instead of reading two
 * buckets, and a map whose slot counts 0 does not look for its address. A count is raised
 * before an entry can be seen and lowered after it is gone, so a 0 is always exact. A global
 * array (.bss): its element's address is computed inline, with no lookup and no NULL check
 * (every branch is a translation block under TCG, where this runs ~9 times per operation).
 */
#define WATCH_SHIFT 18
__u32 watch[1 << WATCH_SHIFT];

static __always_inline __u32 *watch_slot(__u64 addr)
{
	return &watch[(addr * 0x9E3779B97F4A7C15ULL) >> (64 - WATCH_SHIFT)];
}

static __always_inline void watch_add(__u64 addr, int n)
{
	__sync_fetch_and_add(watch_slot(addr), n);
}

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n;
}

static __always_inline void stat_inc(__u32 idx)
{
	stat_add(idx, 1);
}

/*
 * The kernel does not run a tracing program inside another one on the same CPU when they
 * share a recursion guard: all kprobe programs share one (bpf_prog_active), an fentry program
 * guards only itself. So when an interrupt arrives while one of our handlers runs, the
 * interrupt's unmap may be skipped (the kernel counts it in the program's recursion_misses,
 * which user space adds to "lost"), while its kfree, a raw tracepoint, is still seen. The
 * handlers mark the CPU busy so that such a free is not reported as freed_while_mapped.
 */
static __always_inline void busy_enter(struct cpu_scratch *c)
{
	if (c)
		c->busy++;
}

static __always_inline void busy_exit(struct cpu_scratch *c)
{
	if (c)
		c->busy--;
}

/* The kprobe running on this CPU (per-CPU kernel variable); NULL outside kprobe handlers.
 * Weak: kernels without CONFIG_KPROBES do not have it (the 6.18 host). Per-CPU typed ksyms
 * with bpf_this_cpu_ptr(): 5.10+. */
extern struct kprobe *current_kprobe __ksym __weak;

/*
 * A kprobe is not run while another kprobe's handler runs on the same CPU (the kernel counts it
 * in the kprobe's nmissed); an interrupt taken during one of our kprobe or kretprobe handlers
 * (not only inside our BPF program: the whole handler) thus loses its unmap, while its kfree is
 * still seen through the raw tracepoint.
 */
static __always_inline bool nested_in_tracer(void)
{
	struct cpu_scratch *c = this_cpu();

	if (c && c->busy)
		return true;
	if (&current_kprobe) {
		struct kprobe **cur = bpf_this_cpu_ptr(&current_kprobe);

		if (*cur)
			return true;
	}
	return false;
}

static __always_inline __u32 stack_of(void *ctx)
{
	long id = bpf_get_stackid(ctx, &stacks, 0);

	if (id < 0) {
		stat_inc(SGT_STAT_LOST_STACK);
		return NO_STACK;
	}
	return id;
}

/*
 * Unwinding the whole stack is most of the cost of tracing a map (17 of 24 us per map under
 * TCG), so map stacks are taken once per call path: the return address into the function that
 * called dma_map_sgtable()/dma_map_sg_attrs(), combined with how deep the stack is at that
 * point (the offset in the 16 KiB thread or IRQ stack), names it; the first full stack seen
 * for a key stands for the later ones. Two paths to the same call site at the very same stack
 * depth would share a stack. Where the call site is not known (tracepoints) every map unwinds.
 */
#define THREAD_STACK_MASK 0x3fffULL /* x86-64 THREAD_SIZE and IRQ stacks: 16 KiB, aligned */

static __always_inline __u64 callsite_key(__u64 ra, __u64 sp)
{
	/* Kernel text addresses have their top 14 bits set: fold the depth into them. */
	return ra ? ra ^ ((sp & THREAD_STACK_MASK) << 50) : 0;
}

/*
 * The stack of each call path seen: a direct-mapped cache (an array read, inlined, where an LRU
 * hash lookup cost ~0.4 us under TCG). A slot holds 32 bits of the key's hash that its index
 * does not use and the stack id, in one word so that it is read and written whole; two paths
 * that meet in a slot replace each other (the loser unwinds again next time).
 */
#define CALLSITE_SHIFT 14
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << CALLSITE_SHIFT);
	__type(key, __u32);
	__type(value, __u64);
} callsites SEC(".maps");

static __always_inline __u32 stack_at(void *ctx, __u64 callsite)
{
	__u64 h = callsite * 0x9E3779B97F4A7C15ULL, *slot, cached;
	/* The index is the top bits of the hash, the tag the 32 bits below them. */
	__u64 tag = ((h >> (32 - CALLSITE_SHIFT)) & 0xffffffffULL) << 32;
	__u32 idx = (__u32)(h >> (64 - CALLSITE_SHIFT)), id;

	if (!callsite)
		return stack_of(ctx);
	slot = bpf_map_lookup_elem(&callsites, &idx);
	if (!slot)
		return stack_of(ctx);
	cached = *slot;
	if (cached && (cached & 0xffffffff00000000ULL) == tag)
		return (__u32)cached;
	id = stack_of(ctx);
	if (id != NO_STACK)
		*slot = tag | id;
	return id;
}

/*
 * The call site of a function traced by fexit. The x86-64 trampoline saves the arguments and a
 * return value slot right below its frame; above them lie the saved frame pointer and its
 * return address. Up to 6.x the trampoline is called from the traced function's first
 * instruction, so that return address points into the traced function (its address + 5, or + 9
 * with IBT) and the return address into the caller comes next: found by value, so the exact
 * layout does not matter. 7.x jumps to the trampoline instead of calling it ("jmp" mode for
 * fexit, seen on 7.3: [return value] [saved frame pointer] [return address into the caller]),
 * so no word points into the traced function and the caller's return address is the third
 * word. Without a call site every map unwinds its whole stack: on 7.3 a map cost 39 us of
 * BPF run time under TCG instead of ~3 (docs/perf.md). 0 if neither layout is seen.
 */
#define KERNEL_TEXT_START 0xffffffff80000000ULL /* x86-64 kernel and module text lie above */

/* bpf_get_func_ip() in fentry/fexit programs: 5.15+. */
static __always_inline __u64 tramp_callsite(void *ctx, struct cpu_scratch *c, int word, int nargs)
{
	__u64 ip = bpf_get_func_ip(ctx), w[5] = {};

	/* One read of the words above the arguments: return value, saved frame pointer,
	 * [return address into the traced function,] return address into its caller. */
	if (bpf_probe_read_kernel(w, sizeof(w), (void *)ctx + nargs * 8))
		return 0;
	/* ctx lives in the trampoline's frame, at a fixed distance from the caller's stack
	 * pointer: as a number, the depth. */
	for (int i = 0; i < 4; i++) {
		if (w[i] > ip && w[i] - ip <= 16)
			return callsite_key(w[i + 1], as_number(c, word, (__u64)ctx));
	}
	if (w[2] >= KERNEL_TEXT_START) /* jumped to: the third word is the caller's */
		return callsite_key(w[2], as_number(c, word, (__u64)ctx));
	return 0;
}

/* The call site at a kprobe on a function's entry: the return address on top of the stack. */
static __always_inline __u64 kprobe_callsite(struct pt_regs *regs)
{
	__u64 ra = 0, sp = PT_REGS_SP(regs);

	bpf_probe_read_kernel(&ra, sizeof(ra), (void *)sp);
	return callsite_key(ra, sp);
}

static __always_inline int name_matches(const char *name)
{
	for (int i = 0; i < SGT_NAME_LEN; i++) {
		if (name[i] != filter_name[i])
			return 0;
		if (!name[i])
			return 1;
	}
	return 1;
}

static __always_inline void fill_driver(struct sgt_dev *d, struct device *dev)
{
	struct device_driver *drv = BPF_CORE_READ(dev, driver);
	const char *name;

	if (!drv)
		return;
	name = BPF_CORE_READ(drv, name);
	if (name)
		bpf_probe_read_kernel_str(d->driver, sizeof(d->driver), name);
}

/* The entry of dev (a number: see as_number), or NULL; *empty is set to the slot a new entry
 * would take, SGT_DEV_SLOTS if there is none (chain full), SGT_DEV_SLOTS + 1 if another CPU
 * is filling the entry. */
static __always_inline struct sgt_dev *dev_find(__u64 dev, __u32 *empty)
{
	__u32 h = (__u32)((dev * 0x9E3779B97F4A7C15ULL) >> 32);

	*empty = SGT_DEV_SLOTS;
#pragma unroll
	for (int i = 0; i < SGT_DEV_PROBES; i++) {
		__u32 idx = (h + i) & (SGT_DEV_SLOTS - 1);
		struct sgt_dev *d = bpf_map_lookup_elem(&devs, &idx);
		__u64 k;

		if (!d)
			return NULL;
		k = *(volatile __u64 *)&d->key;
		if (k == dev)
			return d;
		if (k == (dev | SGT_DEV_FILLING)) {
			*empty = SGT_DEV_SLOTS + 1;
			return NULL;
		}
		if (!k) {
			*empty = idx;
			return NULL;
		}
	}
	return NULL;
}

static __always_inline struct sgt_dev *dev_lookup(__u64 dev)
{
	__u32 empty;

	return dev_find(dev, &empty);
}

/* The device's entry, created on first sight. NULL if the table is full (counted) or another
 * CPU is creating it at this moment. */
static struct sgt_dev *get_dev(__u64 dev)
{
	struct device *kdev = (void *)dev;
	struct sgt_dev *d;
	const char *name;
	__u32 idx;

	d = dev_find(dev, &idx);
	if (d) {
		if (!d->driver[0])
			fill_driver(d, kdev);
		return d;
	}
	if (idx >= SGT_DEV_SLOTS) {
		if (idx == SGT_DEV_SLOTS)
			stat_inc(SGT_STAT_LOST_DEV_FULL);
		return NULL;
	}
	d = bpf_map_lookup_elem(&devs, &idx);
	if (!d || __sync_val_compare_and_swap(&d->key, 0, dev | SGT_DEV_FILLING) != 0)
		return NULL; /* taken meanwhile: the next map or unmap finds it */
	name = BPF_CORE_READ(kdev, kobj.name);
	if (name)
		bpf_probe_read_kernel_str(d->name, sizeof(d->name), name);
	fill_driver(d, kdev);
	d->match = filter_enabled ? name_matches(d->name) : 1;
	__sync_val_compare_and_swap(&d->key, dev | SGT_DEV_FILLING, dev); /* publishes it */
	return d;
}

/* The comm of pid in "comms". A process that maps over and over (the usual case) is looked up
 * in the LRU hash once per run of maps on a CPU: the CPU's last_pid tells that it was just
 * done. */
static __always_inline void remember_comm(struct cpu_scratch *cpu, __u32 pid)
{
	struct comm c;

	if (cpu->last_pid == pid && pid)
		return;
	cpu->last_pid = pid;
	if (bpf_map_lookup_elem(&comms, &pid))
		return;
	bpf_get_current_comm(c.comm, sizeof(c.comm));
	bpf_map_update_elem(&comms, &pid, &c, BPF_ANY);
}

/*
 * The state of the walk that sums a scatterlist's bytes (walk_step, through bpf_loop()). It
 * holds no counter: the callback is told its iteration (idx) by bpf_loop(), and nents is never
 * written. That is what lets the verifiers of 6.12 and 7.3 accept it (see walk_step).
 */
struct walk_ctx {
	__u64 sg;    /* the entry read next (a number) */
	__u64 bytes; /* the sum so far */
	__u32 nents; /* entries to sum: read only */
	__u32 sgsz;  /* sizeof(struct scatterlist) on this kernel */
};

/* A pointer turned into a plain number through one helper call, where no scratch word is at
 * hand (see as_number): the unbind hooks, which are rare. */
static __always_inline __u64 launder(__u64 v)
{
	__u64 out = 0;

	bpf_probe_read_kernel(&out, sizeof(out), &v);
	return out;
}

/*
 * One step of sg_next() (include/linux/scatterlist.h), summing the entry lengths: entry idx.
 *
 * Why no counter in the loop state. Older verifiers (6.1) check a bpf_loop() callback once.
 * Newer ones ("bpf: verify callbacks as if they are called unknown number of times" and "bpf:
 * keep track of max number of bpf_loop callback iterations", late 2023) walk the callback again
 * and again, going back to the bpf_loop() call after each run, until the state there is one
 * they have seen (is_state_visited(), RANGE_WITHIN). Scalars of the loop state that differ
 * between runs are widened to "unknown" so that this converges, but only imprecise ones; and
 * bpf_loop()'s count (R1) is marked precise, which makes precise the scalars the verifier knows
 * to be equal to it (the same id). The walk once kept a countdown "left", a copy of nents, so
 * precise: each run left a state with a smaller "left" (nents-1, nents-2, ...), never one seen
 * before, and with a count of up to 2^20 the verifier went on unrolling the loop, each run
 * leaving the other arms of its branches queued, until 8192 of them waited: "The sequence of
 * 8193 jumps is too complex" (push_stack(), BPF_COMPLEXITY_LIMIT_JMP_SEQ), -EFAULT on 6.12 and
 * -E2BIG on 7.3, in every program that maps. Now the state holds only the entry pointer and
 * the sum (imprecise: widened after one run) and nents, which no run changes: the second run
 * ends in a state already seen, and the verifier stops there. idx, the iteration bpf_loop()
 * passes, is a fresh unknown scalar on every run.
 */
static long walk_step(__u32 idx, struct walk_ctx *c)
{
	struct scatterlist *sg = (void *)c->sg, *next;
	unsigned long link;

	if (!sg)
		return 1;
	c->bytes += BPF_CORE_READ(sg, length);
	if (idx + 1 >= c->nents)
		return 1; /* the last entry: do not read past it */
	link = BPF_CORE_READ(sg, page_link);
	if (link & SG_END)
		return 1;
	next = (void *)(c->sg + c->sgsz);
	link = BPF_CORE_READ(next, page_link);
	if (link & SG_CHAIN)
		next = (void *)(link & ~SG_PAGE_LINK_MASK);
	c->sg = (__u64)next;
	return 0;
}

/* bpf_loop(): 5.17+, the minimum kernel of sgtrace. */
/* The first entry's length when the caller could read it directly (BTF), else this. */
#define LEN_UNKNOWN ((__u64)-1)

static __always_inline __u64 sg_bytes(__u64 sgl, int nents, __u64 first_len)
{
	struct walk_ctx c = {
		.sg = sgl, /* a number (see as_number) */
		.nents = nents,
		.sgsz = bpf_core_type_size(struct scatterlist),
	};

	if (nents <= 0)
		return 0;
	if (nents == 1) /* the common case: no bpf_loop() call */
		return first_len != LEN_UNKNOWN ? first_len :
						  BPF_CORE_READ((struct scatterlist *)sgl, length);
	bpf_loop(nents < MAX_WALK ? nents : MAX_WALK, walk_step, &c, 0);
	return c.bytes;
}

static __always_inline void emit(struct sgt_event *src)
{
	struct sgt_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		stat_inc(SGT_STAT_LOST_RINGBUF);
		return;
	}
	__builtin_memcpy(e, src, sizeof(*e));
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void fill_from_live(struct sgt_event *e, __u64 sgl, struct sgt_live *v)
{
	struct comm *c;
	__u32 pid = v->pid;

	e->sgl = sgl;
	e->dev = v->dev;
	e->ts_map = v->ts;
	e->bytes = v->bytes;
	e->dir = v->dir;
	e->nents = v->nents;
	e->mapped = v->mapped;
	e->pid = v->pid;
	e->stack_id = v->stack_id;
	e->gen = v->gen;
	c = bpf_map_lookup_elem(&comms, &pid);
	if (c)
		__builtin_memcpy(e->comm, c->comm, sizeof(e->comm));
}

static __always_inline void fill_current(struct sgt_event *e, void *ctx)
{
	e->ts = bpf_jiffies64();
	e->upid = bpf_get_current_pid_tgid() >> 32;
	e->ustack_id = stack_of(ctx);
	bpf_get_current_comm(e->ucomm, sizeof(e->ucomm));
}

/*
 * The live table. A scatterlist address has two buckets (two hashes) and its slot is in one of
 * them. A handler changes a slot word only by a compare-and-swap from the value it read, so of
 * two CPUs that change one slot, one wins and the other knows it lost:
 *   new mapping:  0, or another address | UNMAPPED  ->  sgl | BUSY, record written, -> sgl
 *   map again:    sgl, or sgl | UNMAPPED            ->  sgl | BUSY, record written, -> sgl
 *   unmap:        sgl -> sgl | UNMAPPED (the record stays: a second unmap is a double unmap)
 *   free:         sgl, or sgl | UNMAPPED            ->  0
 * Unmapped records are the memory of recent unmaps: they go when their scatterlist is freed,
 * or when an insert finds no empty slot in either bucket. Why not BPF hash maps: under TCG an
 * insert and a delete of a hash cost ~2 us and an LRU insert ~1.3 us, against ~0.3 us for these
 * inlined array reads and compare-and-swaps (docs/perf.md); and user space reads the table at
 * the end through mmap() instead of batch copies. Without a lock, a record is read while being
 * rewritten only if the same scatterlist is mapped twice at once, a bug of its own.
 */
struct live_slot {
	struct sgt_live_bucket *b; /* NULL: no slot */
	__u64 word;		   /* the slot word as read */
	__u32 i;
};

static __always_inline struct sgt_live_bucket *live_bucket(__u64 sgl, int second)
{
	__u64 h = second ? (sgl ^ (sgl >> 29)) * 0xC2B2AE3D27D4EB4FULL : sgl * 0x9E3779B97F4A7C15ULL;
	__u32 k = (__u32)(h >> 32) & live_mask;

	return bpf_map_lookup_elem(&live, &k);
}

/* The first slot of b whose word, masked, equals want: 1 with *s set, or 0. */
static __always_inline int bucket_slot(struct sgt_live_bucket *b, __u64 mask, __u64 want,
				       struct live_slot *s)
{
#pragma unroll
	for (int i = 0; i < SGT_LIVE_SLOTS; i++) {
		__u64 w = *(volatile __u64 *)&b->sgl[i];

		if ((w & mask) == want) {
			s->b = b;
			s->word = w;
			s->i = i;
			return 1;
		}
	}
	return 0;
}

/* Finds the slot of sgl (mapped or unmapped, not busy): 1 with *at set, or 0. sgl has no
 * flag bits set, so the words that match are sgl and sgl | UNMAPPED. */
static __always_inline int live_find(__u64 sgl, struct live_slot *at)
{
	struct sgt_live_bucket *b1 = live_bucket(sgl, 0), *b2 = live_bucket(sgl, 1);

	return (b1 && bucket_slot(b1, ~SGT_SLOT_UNMAPPED, sgl, at)) ||
	       (b2 && bucket_slot(b2, ~SGT_SLOT_UNMAPPED, sgl, at));
}

/*
 * Where a new entry for sgl goes: an empty slot of the emptier of its two buckets (two choices
 * keep buckets even), else of the other, else an unmapped record of either (taken back).
 * 1 with *s set, or 0 if both buckets hold only live mappings.
 */
static __always_inline int live_spare(__u64 sgl, struct live_slot *s)
{
	struct sgt_live_bucket *b1 = live_bucket(sgl, 0), *b2 = live_bucket(sgl, 1), *t;

	if (!b1 || !b2)
		return 0;
	if (b2->used < b1->used) {
		t = b1;
		b1 = b2;
		b2 = t;
	}
	return bucket_slot(b1, ~0ULL, 0, s) || bucket_slot(b2, ~0ULL, 0, s) ||
	       bucket_slot(b1, SGT_SLOT_BUSY | SGT_SLOT_UNMAPPED, SGT_SLOT_UNMAPPED, s) ||
	       bucket_slot(b2, SGT_SLOT_BUSY | SGT_SLOT_UNMAPPED, SGT_SLOT_UNMAPPED, s);
}

static __always_inline int live_swap(struct live_slot *s, __u64 to)
{
	__u32 i = s->i & (SGT_LIVE_SLOTS - 1);

	return __sync_val_compare_and_swap(&s->b->sgl[i], s->word, to) == s->word;
}

/* Empties a slot (its memory was freed): 1 if this caller did. */
static __always_inline int live_release(struct live_slot *s, __u64 sgl)
{
	if (!live_swap(s, 0))
		return 0;
	__sync_fetch_and_add(&s->b->used, -1);
	watch_add(sgl, -1); /* after the slot is gone: see watch */
	return 1;
}

static __always_inline struct sgt_live *live_record(struct live_slot *s)
{
	return &s->b->ent[s->i & (SGT_LIVE_SLOTS - 1)];
}

/* Claims a slot for a map of sgl (BUSY): 1 with *s set, 0 if the mapping cannot be recorded
 * (counted). *was_mapped tells that it replaces a live mapping of sgl (a remap). */
static __always_inline int live_claim(__u64 sgl, struct live_slot *s, int *was_mapped)
{
	/* A lost compare-and-swap is another CPU taking a slot meanwhile: look again. */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (*watch_slot(sgl) && live_find(sgl, s)) {
			if (!live_swap(s, sgl | SGT_SLOT_BUSY))
				continue;
			*was_mapped = !(s->word & SGT_SLOT_UNMAPPED);
			return 1;
		}
		if (!live_spare(sgl, s)) {
			stat_inc(SGT_STAT_LOST_MAP_FULL);
			return 0;
		}
		watch_add(sgl, 1); /* before the slot can be seen: see watch */
		if (!live_swap(s, sgl | SGT_SLOT_BUSY)) {
			watch_add(sgl, -1);
			continue;
		}
		if (s->word) /* an unmapped record taken back */
			watch_add(s->word & ~SGT_SLOT_FLAGS, -1);
		else
			__sync_fetch_and_add(&s->b->used, 1);
		*was_mapped = 0;
		return 1;
	}
	stat_inc(SGT_STAT_LOST_RACE);
	return 0;
}

/* A live mapping of d's (NULL: not tracked) is gone. */
static __always_inline void dev_unlive(struct sgt_dev *d, __u64 bytes)
{
	if (d) {
		__sync_fetch_and_add(&d->live, -1);
		__sync_fetch_and_add(&d->live_bytes, -bytes);
	}
}

/* A map call returned: mapped > 0 entries, or failed (mapped <= 0). sgl is a number (see
 * as_number): the live table hashes it. */
static __always_inline void on_map_body(void *ctx, struct cpu_scratch *c, __u64 dev, __u64 sgl,
					int nents, int mapped, int dir, __u32 stack_id,
					__u64 callsite, __u64 first_len)
{
	struct live_slot s;
	struct sgt_live *rec;
	struct sgt_dev *d;
	int was_mapped;
	__u64 bytes;

	d = get_dev(dev);
	if (d && !d->match)
		return;
	if (mapped <= 0) {
		struct sgt_event e = {};

		stat_inc(SGT_STAT_MAP_FAILED);
		if (d)
			__sync_fetch_and_add(&d->map_failed, 1);
		e.kind = SGT_MAP_FAILED;
		e.sgl = sgl;
		e.dev = (__u64)dev;
		e.dir = dir;
		e.nents = nents;
		e.detail = (__u32)mapped;
		fill_current(&e, ctx);
		e.pid = e.upid;
		e.stack_id = stack_id == NO_STACK ? e.ustack_id : stack_id;
		__builtin_memcpy(e.comm, e.ucomm, sizeof(e.comm));
		emit(&e);
		return;
	}
	if (sgl < 4096 || (sgl & SGT_SLOT_FLAGS))
		return; /* not a scatterlist (they are 8-byte aligned) */
	if (!live_claim(sgl, &s, &was_mapped))
		return;
	rec = live_record(&s);
	if (was_mapped) {
		/* Mapped again while mapped: the newer map wins, the older one is dropped. */
		stat_inc(SGT_STAT_REMAPS);
		dev_unlive(dev_lookup(rec->dev), rec->bytes);
	}
	rec->dev = (__u64)dev;
	rec->ts = bpf_jiffies64(); /* see clock_sample */
	bytes = sg_bytes(sgl, nents, first_len);
	rec->bytes = bytes;
	rec->pid = bpf_get_current_pid_tgid() >> 32;
	rec->stack_id = stack_id == NO_STACK ? stack_at(ctx, callsite) : stack_id;
	rec->nents = nents;
	rec->mapped = mapped;
	rec->dir = dir;
	rec->gen = d ? d->gen : 0;
	remember_comm(c, rec->pid);
	s.word = sgl | SGT_SLOT_BUSY;
	live_swap(&s, sgl); /* publishes the record */
	stat_inc(SGT_STAT_MAPS);
	if (d) {
		__sync_fetch_and_add(&d->maps, 1);
		__sync_fetch_and_add(&d->live, 1);
		__sync_fetch_and_add(&d->live_bytes, bytes); /* the record is no longer ours */
	}
}

/* c: this CPU's scratch if the caller has it, else NULL. */
static __always_inline void on_map(void *ctx, struct cpu_scratch *c, __u64 dev, __u64 sgl,
				   int nents, int mapped, int dir, __u32 stack_id, __u64 callsite,
				   __u64 first_len)
{
	if (stopping)
		return;
	if (!c)
		c = this_cpu();
	if (!c)
		return;
	busy_enter(c);
	on_map_body(ctx, c, dev, sgl, nents, mapped, dir, stack_id, callsite, first_len);
	busy_exit(c);
}

static __always_inline void report_unknown_unmap(void *ctx, __u64 dev, __u64 sgl,
						 int nents, int dir, __u32 detail)
{
	struct sgt_dev *ud = get_dev(dev);
	struct sgt_event e = {};

	if (ud && !ud->match)
		return;
	if (detail == SGT_UNKNOWN_NOT_MAPPED && grace_ns &&
	    (!trace_start_ns || bpf_ktime_get_ns() - trace_start_ns < grace_ns)) {
		stat_inc(SGT_STAT_UNTRACKED);
		return;
	}
	e.kind = SGT_UNMAP_UNKNOWN;
	e.detail = detail;
	e.sgl = sgl;
	e.dev = (__u64)dev;
	e.dir = dir;
	e.nents = nents;
	e.udev = (__u64)dev;
	e.udir = dir;
	e.unents = nents;
	fill_current(&e, ctx);
	e.pid = e.upid;
	e.stack_id = e.ustack_id;
	__builtin_memcpy(e.comm, e.ucomm, sizeof(e.comm));
	if (ud)
		__sync_fetch_and_add(&ud->findings, 1);
	emit(&e);
}

/* A finding about a recorded mapping, made by an unmap (udev/udir/unents: its arguments) or a
 * free (all 0). The event is built here, not in the callers: zeroing it is not free, and their
 * common path has no finding. */
static __always_inline void report_record(void *ctx, __u32 kind, __u32 detail, __u64 sgl,
					  struct sgt_live *v, __u64 udev, int udir, int unents,
					  struct sgt_dev *d)
{
	struct sgt_event e = {};

	e.kind = kind;
	e.detail = detail;
	fill_from_live(&e, sgl, v);
	e.udev = udev;
	e.udir = udir;
	e.unents = unents;
	fill_current(&e, ctx);
	if (d)
		__sync_fetch_and_add(&d->findings, 1);
	emit(&e);
}

static __always_inline void on_unmap_body(void *ctx, __u64 dev, __u64 sgl, int nents,
					  int dir)
{
	struct live_slot s;
	struct sgt_live v;
	struct sgt_dev *d;
	__u32 mask = 0;

	/* An address that is not 8-byte aligned is no scatterlist's; it must not be compared with
	 * slot words, whose low bits are flags. */
	if (sgl < 4096 || (sgl & SGT_SLOT_FLAGS) || !live_find(sgl, &s)) {
		report_unknown_unmap(ctx, dev, sgl, nents, dir, SGT_UNKNOWN_NOT_MAPPED);
		return;
	}
	if (s.word & SGT_SLOT_UNMAPPED) {
		report_unknown_unmap(ctx, dev, sgl, nents, dir, SGT_UNKNOWN_ALREADY_UNMAPPED);
		return;
	}
	__builtin_memcpy(&v, live_record(&s), sizeof(v));
	if (!live_swap(&s, sgl | SGT_SLOT_UNMAPPED)) {
		stat_inc(SGT_STAT_LOST_RACE);
		return;
	}
	stat_inc(SGT_STAT_UNMAPS);
	d = dev_lookup(v.dev);
	if (d)
		__sync_fetch_and_add(&d->unmaps, 1);
	dev_unlive(d, v.bytes);
	if (v.dev != (__u64)dev)
		mask |= SGT_MISMATCH_DEV;
	if (v.dir != (__u32)dir)
		mask |= SGT_MISMATCH_DIR;
	if (v.nents != (__u32)nents)
		mask |= SGT_MISMATCH_NENTS;
	if (mask)
		report_record(ctx, SGT_UNMAP_MISMATCH, mask, sgl, &v, dev, dir, nents, d);
	else if (d && d->gen != v.gen)
		/* The device completed an unbind since the map: devres should have unmapped it.
		 * Unmaps inside the unbind (devres release) see the old generation: clean. */
		report_record(ctx, SGT_UNMAP_AFTER_UNBIND, 0, sgl, &v, dev, dir, nents, d);
}

/* c: this CPU's scratch if the caller has it, else NULL. */
static __always_inline void on_unmap(void *ctx, struct cpu_scratch *c, __u64 dev, __u64 sgl,
				     int nents, int dir)
{
	if (stopping >= 2)
		return;
	if (!c)
		c = this_cpu();
	busy_enter(c);
	on_unmap_body(ctx, dev, sgl, nents, dir);
	busy_exit(c);
}

/* Memory at ptr is freed (kfree, or a page given back). */
static __always_inline void on_free(void *ctx, __u64 ptr)
{
	struct live_slot s;
	struct sgt_live v;
	struct sgt_dev *d;

	if (!*watch_slot(ptr))
		return; /* not in the live table: nearly every kfree() */
	if (ptr < 4096 || (ptr & SGT_SLOT_FLAGS) || stopping >= 2 || !live_find(ptr, &s))
		return;
	if (s.word & SGT_SLOT_UNMAPPED) {
		/* The table's memory goes back after its unmap: the address may be reused. */
		if (live_release(&s, ptr))
			stat_inc(SGT_STAT_TABLE_FREES);
		return;
	}
	__builtin_memcpy(&v, live_record(&s), sizeof(v));
	if (!live_release(&s, ptr)) {
		stat_inc(SGT_STAT_LOST_RACE);
		return;
	}
	d = dev_lookup(v.dev);
	dev_unlive(d, v.bytes);
	if (nested_in_tracer()) {
		/* Nested in one of our handlers: the unmap may have been skipped (see busy_enter). */
		stat_inc(SGT_STAT_LOST_NESTED);
		return;
	}
	/* Terminal: the address may be reused by another table, it is no longer tracked. */
	stat_inc(SGT_STAT_TABLE_FREES);
	report_record(ctx, SGT_FREED_WHILE_MAPPED, 0, ptr, &v, 0, 0, 0, d);
}

static __always_inline void on_page_free(void *ctx, __u64 pfn)
{
	__u64 base = page_offset_cached;

	if (!page_offset_base_addr)
		return;
	if (!base) {
		bpf_probe_read_kernel(&base, sizeof(base), (void *)page_offset_base_addr);
		if (!base)
			return;
		page_offset_cached = base;
	}
	on_free(ctx, base + (pfn << PAGE_SHIFT));
}

static __always_inline void on_unbind_entry(struct device *dev)
{
	__u64 key = (__u64)dev;
	__u32 one = 1;

	if (stopping >= 2)
		return;
	if (BPF_CORE_READ(dev, driver))
		bpf_map_update_elem(&unbinding, &key, &one, BPF_ANY);
}

static __always_inline void on_unbind_exit(struct device *dev)
{
	__u64 key = (__u64)dev;
	struct sgt_dev *d;

	if (stopping >= 2)
		return;
	if (!bpf_map_lookup_elem(&unbinding, &key))
		return;
	bpf_map_delete_elem(&unbinding, &key);
	if (BPF_CORE_READ(dev, driver))
		return; /* nothing was released (another driver, or the call changed nothing) */
	stat_inc(SGT_STAT_UNBINDS);
	d = dev_lookup(launder(key));
	if (d)
		__sync_fetch_and_add(&d->gen, 1);
}

/* ---- fentry/fexit flavour (5.5+; preferred) ---- */

SEC("fexit/dma_map_sgtable")
int BPF_PROG(fexit_dma_map_sgtable, struct device *dev, struct sg_table *sgt, int dir,
	     unsigned long attrs, int ret)
{
	struct cpu_scratch *c;
	struct scatterlist *sgl;
	__u64 dev_nr, sgl_nr;

	if (stopping)
		return 0;
	c = this_cpu();
	if (!c)
		return 0;
	/* Direct reads through BTF (5.5+), no helper call. Returns 0 or a negative errno; the
	 * mapped count is in sgt->nents (5.8+). */
	sgl = sgt->sgl;
	dev_nr = as_number(c, WORD_MAP, (__u64)dev);
	sgl_nr = as_number(c, WORD_MAP, (__u64)sgl);
	on_map(ctx, c, dev_nr, sgl_nr, sgt->orig_nents, ret ? ret : (int)sgt->nents, dir, NO_STACK,
	       tramp_callsite(ctx, c, WORD_MAP, 4), sgl ? sgl->length : LEN_UNKNOWN);
	return 0;
}

SEC("fexit/dma_map_sg_attrs")
int BPF_PROG(fexit_dma_map_sg_attrs, struct device *dev, struct scatterlist *sg, int nents,
	     int dir, unsigned long attrs, unsigned int ret)
{
	/* Returns the mapped count, 0 on failure. In 5.10+ both this and dma_map_sgtable call
	 * __dma_map_sg_attrs() (static), so hooking both counts each map once. */
	struct cpu_scratch *c;
	__u64 dev_nr, sg_nr;

	if (stopping)
		return 0;
	c = this_cpu();
	if (!c)
		return 0;
	dev_nr = as_number(c, WORD_MAP_SG, (__u64)dev);
	sg_nr = as_number(c, WORD_MAP_SG, (__u64)sg);
	on_map(ctx, c, dev_nr, sg_nr, nents, (int)ret, dir, NO_STACK,
	       tramp_callsite(ctx, c, WORD_MAP_SG, 5), sg ? sg->length : LEN_UNKNOWN);
	return 0;
}

SEC("fentry/dma_unmap_sg_attrs")
int BPF_PROG(fentry_dma_unmap_sg_attrs, struct device *dev, struct scatterlist *sg, int nents,
	     int dir, unsigned long attrs)
{
	/* dma_unmap_sgtable() is an inline around it. */
	struct cpu_scratch *c;
	__u64 dev_nr, sg_nr;

	if (stopping >= 2)
		return 0;
	c = this_cpu();
	if (!c)
		return 0;
	dev_nr = as_number(c, WORD_UNMAP, (__u64)dev);
	sg_nr = as_number(c, WORD_UNMAP, (__u64)sg);
	on_unmap(ctx, c, dev_nr, sg_nr, nents, dir);
	return 0;
}

/* device_release_driver_internal(dev, drv, parent): the common path of driver unbind (sysfs
 * unbind, driver unregister, device removal). Only its first argument is used: the device, in
 * every version that has the function (drv became const in the 6.x series). */
SEC("fentry/device_release_driver_internal")
int BPF_PROG(fentry_release, struct device *dev)
{
	on_unbind_entry(dev);
	return 0;
}

SEC("fexit/device_release_driver_internal")
int BPF_PROG(fexit_release, struct device *dev)
{
	on_unbind_exit(dev);
	return 0;
}

/* device_unbind_cleanup(dev): where every binding ends, both a completed unbind
 * (__device_release_driver, under device_release_driver_internal) and a probe that failed
 * (really_probe's error path, which never passes through device_release_driver_internal). It
 * releases the device's devres and then clears dev->driver, so the rule of on_unbind_entry/exit
 * holds unchanged: unmaps inside it are devres', a mapping still live after it outlived the
 * binding. Static in drivers/base/dd.c since 5.18, and not inlined in the 6.1, 6.12 and 7.3
 * cloud kernels (traceable there); user space prefers it and falls back to
 * device_release_driver_internal, which misses failed probes. */
SEC("fentry/device_unbind_cleanup")
int BPF_PROG(fentry_unbind_cleanup, struct device *dev)
{
	on_unbind_entry(dev);
	return 0;
}

SEC("fexit/device_unbind_cleanup")
int BPF_PROG(fexit_unbind_cleanup, struct device *dev)
{
	on_unbind_exit(dev);
	return 0;
}

/* ---- tp_btf flavour of the dma tracepoints (dma:dma_map_sg and dma:dma_unmap_sg appeared in
 * 6.12; dma:dma_map_sg_err was posted in October 2024, so 6.13 at the earliest, and is in 6.18;
 * as first posted it fires only for errors other than EINVAL/ENOMEM/EIO/EREMOTEIO). Prototypes, checked by user space in the kernel's BTF
 * before use: dma_map_sg(dev, sgl, nents, ents, dir, attrs) fires in __dma_map_sg_attrs() when
 * ents > 0, once for both dma_map_sgtable and dma_map_sg_attrs; dma_map_sg_err(dev, sgl, nents,
 * err, dir, attrs); dma_unmap_sg(dev, sgl, nents, dir, attrs). ---- */

SEC("tp_btf/dma_map_sg")
int BPF_PROG(tpbtf_dma_map_sg)
{
	__u64 arg[2] = {}; /* dev, sgl as numbers: one read of the argument array */

	bpf_probe_read_kernel(arg, sizeof(arg), ctx);
	on_map(ctx, NULL, arg[0], arg[1], (int)ctx[2], (int)ctx[3], (int)ctx[4], NO_STACK, 0,
	       LEN_UNKNOWN);
	return 0;
}

SEC("tp_btf/dma_map_sg_err")
int BPF_PROG(tpbtf_dma_map_sg_err)
{
	int err = (int)ctx[3];

	__u64 arg[2] = {};

	bpf_probe_read_kernel(arg, sizeof(arg), ctx);
	on_map(ctx, NULL, arg[0], arg[1], (int)ctx[2], err < 0 ? err : -1, (int)ctx[4],
	       NO_STACK, 0, LEN_UNKNOWN);
	return 0;
}

SEC("tp_btf/dma_unmap_sg")
int BPF_PROG(tpbtf_dma_unmap_sg)
{
	__u64 arg[2] = {};

	bpf_probe_read_kernel(arg, sizeof(arg), ctx);
	on_unmap(ctx, NULL, arg[0], arg[1], (int)ctx[2], (int)ctx[3]);
	return 0;
}

/* ---- kprobe/kretprobe flavour ----
 *
 * The kprobe on a map function stashes the call's arguments, the kretprobe takes them back with
 * the return value. Pairing them, per stack (map_stash, keyed by the stack: see there):
 *   - calls on one stack nest (a map in an interrupt that hit a map, when both run on the IRQ
 *     stack), so a stack holds a few calls, the innermost last, each known by its entry sp;
 *   - a call still running has a higher sp than any call made while it runs. So at an entry,
 *     the stashed calls at or below the new sp have returned unseen: their kretprobe did not
 *     run (no free kretprobe instance, "maxactive"), they are dropped and counted lost;
 *   - a return belongs to the call whose entry sp is its own sp - 8, exactly. Calls above it
 *     (deeper) returned unseen: dropped, lost. When no call has that sp, the entry was not
 *     stashed (its program skipped by the kernel, counted in kernel_skipped, or the stash was
 *     full, counted then): nothing is recorded and the stash is left as it is.
 * Before, the stash was keyed by the thread id alone (0 for every CPU's idle task, so the maps
 * of interrupts on two idle CPUs took each other's arguments), nesting was judged by comparing
 * stack pointers of different stacks (an interrupt's and a thread's), and an entry left behind
 * by a lost return made a later, deeper call of the thread be taken for a nested one: its
 * return recorded the stale entry's scatterlist. Every stashed call now ends either paired
 * with its own return or counted in lost.stash_full.
 */

/* A map call's entry, sp its stack pointer there. */
static __always_inline void stash_push(__u64 sp, const struct map_call *call)
{
	__u64 key = sp >> STACK_SHIFT;
	struct map_stash *s = bpf_map_lookup_elem(&map_stash, &key);
	__u32 d, keep;

	if (!s) {
		struct map_stash z = { .depth = 1 };

		z.call[0] = *call;
		if (bpf_map_update_elem(&map_stash, &key, &z, BPF_NOEXIST))
			stat_inc(SGT_STAT_LOST_STASH);
		return;
	}
	d = s->depth < MAP_NEST ? s->depth : MAP_NEST;
	/* Calls at or below sp returned unseen (the stashed sps fall from [0] on). */
	keep = d;
#pragma unroll
	for (int i = 0; i < MAP_NEST; i++)
		if (i < (int)keep && s->call[i].sp <= sp)
			keep = i;
	if (keep < d)
		stat_add(SGT_STAT_LOST_STASH, d - keep);
	d = keep;
	if (d == MAP_NEST) {
		/* Too deep: the outermost call gives way (it is lost). */
#pragma unroll
		for (int i = 0; i < MAP_NEST - 1; i++)
			s->call[i] = s->call[i + 1];
		d = MAP_NEST - 1;
		stat_inc(SGT_STAT_LOST_STASH);
	}
	s->call[d & (MAP_NEST - 1)] = *call;
	s->depth = d + 1;
}

/* A map call's return, ret_sp its stack pointer there: 1 with *out set to its entry, or 0. */
static __always_inline int stash_pop(__u64 ret_sp, int is_sgtable, struct map_call *out)
{
	__u64 sp = ret_sp - RET_SP_DELTA, key = sp >> STACK_SHIFT;
	struct map_stash *s = bpf_map_lookup_elem(&map_stash, &key);
	int found = -1;
	__u32 d;

	if (!s)
		return 0;
	d = s->depth < MAP_NEST ? s->depth : MAP_NEST;
#pragma unroll
	for (int i = MAP_NEST - 1; i >= 0; i--)
		if (found < 0 && i < (int)d && s->call[i].sp == sp)
			found = i;
	if (found < 0)
		return 0; /* its entry was not stashed */
	if (d > (__u32)found + 1) /* deeper calls returned unseen */
		stat_add(SGT_STAT_LOST_STASH, d - found - 1);
	*out = s->call[found & (MAP_NEST - 1)];
	if (!found) {
		bpf_map_delete_elem(&map_stash, &key);
	} else {
		s->depth = found;
	}
	if (out->is_sgtable != is_sgtable) {
		stat_inc(SGT_STAT_LOST_STASH); /* another function's call at the same sp: stale */
		return 0;
	}
	return 1;
}

static __always_inline void stash_map(void *ctx, struct device *dev, void *arg, int nents,
				     int dir, int is_sgtable)
{
	struct map_call call = {
		.sp = PT_REGS_SP((struct pt_regs *)ctx),
		.dev = (__u64)dev,
		.arg = (__u64)arg,
		.nents = nents,
		.dir = dir,
		.is_sgtable = is_sgtable,
	};
	struct cpu_scratch *c;

	if (stopping)
		return;
	c = this_cpu();
	busy_enter(c);
	/* The stack is taken at the entry: the kretprobe's stack is the caller's. */
	call.stack_id = stack_at(ctx, kprobe_callsite(ctx));
	stash_push(call.sp, &call);
	busy_exit(c);
}

/* The map recorded from a paired call (the sgtable's fields are read now, after the map). */
static __always_inline void map_returned(void *ctx, const struct map_call *c, long ret)
{
	if (c->is_sgtable) {
		struct sg_table *sgt = (void *)c->arg;

		on_map(ctx, NULL, c->dev, (__u64)BPF_CORE_READ(sgt, sgl),
		       BPF_CORE_READ(sgt, orig_nents),
		       ret ? (int)ret : (int)BPF_CORE_READ(sgt, nents), c->dir, c->stack_id, 0,
		       LEN_UNKNOWN);
	} else {
		on_map(ctx, NULL, c->dev, c->arg, c->nents, (int)(unsigned int)ret, c->dir,
		       c->stack_id, 0, LEN_UNKNOWN);
	}
}

static __always_inline void unstash_map(void *ctx, long ret, int is_sgtable)
{
	struct map_call c;

	if (stash_pop(PT_REGS_SP((struct pt_regs *)ctx), is_sgtable, &c))
		map_returned(ctx, &c, ret);
}

SEC("kprobe/dma_map_sgtable")
int BPF_KPROBE(kp_dma_map_sgtable, struct device *dev, struct sg_table *sgt, int dir)
{
	stash_map(ctx, dev, sgt, 0, dir, 1);
	return 0;
}

SEC("kretprobe/dma_map_sgtable")
int BPF_KRETPROBE(krp_dma_map_sgtable, int ret)
{
	unstash_map(ctx, ret, 1);
	return 0;
}

SEC("kprobe/dma_map_sg_attrs")
int BPF_KPROBE(kp_dma_map_sg_attrs, struct device *dev, struct scatterlist *sg, int nents, int dir)
{
	stash_map(ctx, dev, sg, nents, dir, 0);
	return 0;
}

SEC("kretprobe/dma_map_sg_attrs")
int BPF_KRETPROBE(krp_dma_map_sg_attrs, unsigned int ret)
{
	unstash_map(ctx, ret, 0);
	return 0;
}

SEC("kprobe/dma_unmap_sg_attrs")
int BPF_KPROBE(kp_dma_unmap_sg_attrs, struct device *dev, struct scatterlist *sg, int nents,
	       int dir)
{
	on_unmap(ctx, NULL, (__u64)dev, (__u64)sg, nents, dir);
	return 0;
}

/* kprobe flavour of the unbind hooks: the device of each entry is kept for its return. */
static __always_inline int kp_unbind_enter(struct device *dev)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct unbind_stash z = {}, *s;

	on_unbind_entry(dev);
	s = bpf_map_lookup_elem(&unbind_stash, &tid);
	if (!s) {
		bpf_map_update_elem(&unbind_stash, &tid, &z, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&unbind_stash, &tid);
		if (!s) {
			stat_inc(SGT_STAT_LOST_STASH);
			return 0;
		}
	}
	if (s->depth < UNBIND_NEST)
		s->dev[s->depth & (UNBIND_NEST - 1)] = (__u64)dev;
	s->depth++;
	return 0;
}

static __always_inline int kp_unbind_leave(void)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct unbind_stash *s = bpf_map_lookup_elem(&unbind_stash, &tid);
	__u32 depth;

	if (!s || !s->depth)
		return 0;
	depth = --s->depth;
	if (depth < UNBIND_NEST)
		on_unbind_exit((void *)s->dev[depth & (UNBIND_NEST - 1)]);
	if (!depth)
		bpf_map_delete_elem(&unbind_stash, &tid);
	return 0;
}

SEC("kprobe/device_release_driver_internal")
int BPF_KPROBE(kp_release, struct device *dev)
{
	return kp_unbind_enter(dev);
}

SEC("kretprobe/device_release_driver_internal")
int BPF_KRETPROBE(krp_release)
{
	return kp_unbind_leave();
}

SEC("kprobe/device_unbind_cleanup")
int BPF_KPROBE(kp_unbind_cleanup, struct device *dev)
{
	return kp_unbind_enter(dev);
}

SEC("kretprobe/device_unbind_cleanup")
int BPF_KRETPROBE(krp_unbind_cleanup)
{
	return kp_unbind_leave();
}

/* ---- raw tracepoint / tracepoint flavour: works without BTF-typed attach (and where
 * fentry is refused). Same dma tracepoints as above (6.12+). ---- */

SEC("raw_tp/dma_map_sg")
int rawtp_dma_map_sg(struct bpf_raw_tracepoint_args *ctx)
{
	on_map(ctx, NULL, ctx->args[0], ctx->args[1], (int)ctx->args[2], (int)ctx->args[3],
	       (int)ctx->args[4], NO_STACK, 0, LEN_UNKNOWN);
	return 0;
}

SEC("raw_tp/dma_map_sg_err")
int rawtp_dma_map_sg_err(struct bpf_raw_tracepoint_args *ctx)
{
	int err = (int)ctx->args[3];

	on_map(ctx, NULL, ctx->args[0], ctx->args[1], (int)ctx->args[2],
	       err < 0 ? err : -1, (int)ctx->args[4], NO_STACK, 0, LEN_UNKNOWN);
	return 0;
}

SEC("raw_tp/dma_unmap_sg")
int rawtp_dma_unmap_sg(struct bpf_raw_tracepoint_args *ctx)
{
	on_unmap(ctx, NULL, ctx->args[0], ctx->args[1], (int)ctx->args[2],
		 (int)ctx->args[3]);
	return 0;
}

/* kfree(ptr): the kfree tracepoint is kfree(call_site, ptr) since 2.6.32. raw_tp, not tp_btf:
 * before 6.x (seen on 6.1) the verifier refuses tp_btf reads of a "const void *" argument. */
SEC("raw_tp/kfree")
int rawtp_kfree(struct bpf_raw_tracepoint_args *ctx)
{
	on_free(ctx, ctx->args[1]);
	return 0;
}

/* Page frees: sg_kfree() in lib/scatterlist.c gives a chunk of SG_MAX_SINGLE_ALLOC entries back
 * with free_page() instead of kfree(). kmem:mm_page_free has the pfn since 3.3. */
SEC("tracepoint/kmem/mm_page_free")
int tp_mm_page_free(struct trace_event_raw_mm_page_free *ctx)
{
	on_page_free(ctx, ctx->pfn);
	return 0;
}
