// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_fuzz - a small structure-aware fuzzer of /dev/sgkm (syzkaller's idea: calls built from
 * a description of the interface, with ids that earlier calls really returned).
 *
 *   sgkm_fuzz [--duration S] [--seed N] [--threads N] [--no-storm] [--no-params] [--no-unload]
 *
 * Worker threads issue random ioctls, on one file they all share and on a file of their own
 * that they now and then close and open again: well-formed requests mixed with every kind of
 * wrong one (edge argsz values, flags and reserved bits, out-of-range enums and devices, every
 * fault kind, ids of this file, of another file and made up, arguments that end at an unmapped
 * page or sit in read-only memory, bad pointers, unknown ioctl numbers). Meanwhile a storm
 * thread unbinds and binds the sgkm platform devices through sysfs and changes the module's
 * writable test parameters (max_table_ids, revoke_delay_us). At the end every file is closed
 * and the module unloaded.
 *
 * It fails (exit 1) when an ioctl returns an errno the UAPI does not document for it, a reply
 * contradicts its request, an unbind or bind fails, the counters do not balance once everything
 * is closed, the kernel got tainted by an error, or the unload fails; the guest runner fails
 * the run on any kernel splat. Seeded: --seed reproduces each thread's sequence of calls (not
 * the interleaving); the seed is printed first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sgkm.h>

#define PAGE		4096ul
#define MAX_THREADS	32
#define POOL		32	/* ids remembered per file */
#define ARENA_PAGES	3	/* argument buffer, followed by an unmapped page */
#define SEG_PAGES	16	/* verify's segment buffer, followed by an unmapped page */
#define SEG_CAP		(SEG_PAGES * PAGE / sizeof(struct sgkm_segment))
#define PARAM_DIR	"/sys/module/sgkm/parameters/"

#define diag(...) do { printf("# " __VA_ARGS__); printf("\n"); fflush(stdout); } while (0)

static unsigned int opt_duration = 30, opt_threads = 4;
static uint64_t opt_seed;
static bool opt_storm = true, opt_params = true, opt_unload = true;

/* What the module says about itself, read once at the start. */
static uint32_t ndevices;
static uint64_t max_table_bytes;

static volatile int stop;
static int failures;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- random numbers: splitmix64, one state per thread ---- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd(s) % n);
}

/* true with probability 1/n */
static bool one_in(uint64_t *s, uint32_t n)
{
	return below(s, n) == 0;
}

/* ---- the calls and the errnos the UAPI allows each (docs/kmod.md) ---- */

enum op {
	OP_CREATE, OP_MAP, OP_UNMAP, OP_DESTROY, OP_VERIFY, OP_STATS, OP_BADCMD, OP_GARBAGE,
	OP_FILEOPS, OP_REOPEN, OP_DEBUGFS, OP_NR
};

static const char *const op_names[OP_NR] = {
	"create", "map", "unmap", "destroy", "verify", "stats", "bad-cmd", "garbage",
	"file-ops", "reopen", "debugfs",
};

/* Relative frequency of each call. */
static const unsigned int op_weight[OP_NR] = {
	[OP_CREATE] = 20, [OP_MAP] = 16, [OP_UNMAP] = 13, [OP_DESTROY] = 10, [OP_VERIFY] = 16,
	[OP_STATS] = 5, [OP_BADCMD] = 4, [OP_GARBAGE] = 6, [OP_FILEOPS] = 2, [OP_REOPEN] = 1,
	[OP_DEBUGFS] = 1,
};

/* errno bitmaps: Linux errnos are below 128 (EALREADY is 114) */
typedef unsigned __int128 emask;
#define E(e) ((emask)1 << (e))
/* Any ioctl: argsz and pointer checks (copy_struct_from_user()). */
#define E_ARG (E(EFAULT) | E(EINVAL) | E(E2BIG))
static const emask op_errnos[OP_NR] = {
	[OP_CREATE] = E_ARG | E(ENODEV) | E(ENOSPC) | E(ENOMEM),
	/* EIO/ENOMEM: dma_map_sgtable() itself failed (swiotlb full) */
	[OP_MAP] = E_ARG | E(ENOENT) | E(ENODEV) | E(EBUSY) | E(ENXIO) | E(EIO) | E(ENOMEM),
	[OP_UNMAP] = E_ARG | E(ENOENT) | E(EALREADY) | E(ENXIO),
	[OP_DESTROY] = E_ARG | E(ENOENT),
	/* not EIO: a view that does not add up is a module bug */
	[OP_VERIFY] = E_ARG | E(ENOENT) | E(ENODATA) | E(ENXIO) | E(ENOMEM),
	[OP_STATS] = E_ARG | E(ENODEV),
	[OP_BADCMD] = E(ENOTTY),
	/* random bytes under a real ioctl number: whatever that ioctl may say */
	[OP_GARBAGE] = E_ARG | E(ENODEV) | E(ENOSPC) | E(ENOMEM) | E(ENOENT) | E(EBUSY) |
		       E(EALREADY) | E(ENXIO) | E(ENODATA) | E(EIO),
};

struct counts {
	unsigned long ops[OP_NR], ok[OP_NR];
};

/* ---- id pools: ids that create really returned, with the device they are on ---- */

/*
 * One slot: 0 (empty) or (device + 1) << 32 | id. Atomic: the shared file's pool is shared.
 * @last: the id create returned last; ids are the lowest free ones, so it and the ones just
 * above are those that the next creates are likely to return, and may be publishing now.
 */
struct pool {
	uint64_t slot[POOL];
	uint32_t last;
};

static void pool_put(struct pool *p, uint64_t *s, int fd, uint32_t id, uint32_t dev)
{
	uint64_t old = __atomic_exchange_n(&p->slot[below(s, POOL)],
					   (uint64_t)(dev + 1) << 32 | id, __ATOMIC_RELAXED);
	struct sgkm_table_op o = { .argsz = sizeof(o), .id = (uint32_t)old };

	__atomic_store_n(&p->last, id, __ATOMIC_RELAXED);

	/* The table it replaces is forgotten: destroy it, or the file would pile tables up. */
	if (old)
		ioctl(fd, SGKM_IOC_DESTROY, &o);
}

/* A remembered id, looking at a few slots for one that is not empty. */
static uint64_t pool_get(struct pool *p, uint64_t *s)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < 4 && !v; i++)
		v = __atomic_load_n(&p->slot[below(s, POOL)], __ATOMIC_RELAXED);
	return v;
}

static void pool_forget(struct pool *p, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < POOL; i++) {
		uint64_t v = __atomic_load_n(&p->slot[i], __ATOMIC_RELAXED);

		if (v && (uint32_t)v == id)
			__atomic_compare_exchange_n(&p->slot[i], &v, 0, false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
	}
}

static void pool_clear(struct pool *p)
{
	memset(p, 0, sizeof(*p));
}

/* ---- a worker ---- */

struct worker {
	unsigned int index;
	uint64_t rng;
	pthread_t tid;
	int own_fd;
	struct pool own;
	unsigned char *arena;		/* ARENA_PAGES pages, then an unmapped page */
	unsigned char *ro, *ro_alias;	/* one page, read-only / writable view of it */
	struct sgkm_segment *segs;	/* SEG_PAGES pages, then an unmapped page */
	struct counts n;
	unsigned long errnos[128];
	/* the current call: malformed on purpose? and what it is, for a failure report */
	bool bad;
	const char *what;
	int fd;
	uint32_t argsz, id;
};

static int shared_fd;
static struct pool shared_pool;
static struct worker workers[MAX_THREADS];

/*
 * Three calls in four are well-formed, so that they get deep (a map of a table that exists, an
 * unmap of a mapped one); in the fourth, each field goes wrong with some probability: true with
 * probability 1/n in a malformed call, never in a well-formed one.
 */
static bool bad(struct worker *w, uint32_t n)
{
	return w->bad && one_in(&w->rng, n);
}

static void fail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct worker *w, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&report_lock);
	if (failures++ < 20) {
		if (w)
			diag("FAIL thread %u, %s on %s fd (argsz %u, id %u): %s", w->index, w->what,
			     w->fd == shared_fd ? "the shared" : "its own", w->argsz, w->id, msg);
		else
			diag("FAIL %s", msg);
	}
	pthread_mutex_unlock(&report_lock);
}

static int open_ctl(void)
{
	int fd = open(SGKM_CONTROL_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		diag("open %s: %s", SGKM_CONTROL_PATH, strerror(errno));
		exit(1);
	}
	return fd;
}

static void *map_with_guard(size_t pages)
{
	unsigned char *p = mmap(NULL, (pages + 1) * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + pages * PAGE, PAGE, PROT_NONE)) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static void worker_memory(struct worker *w)
{
	int mfd = memfd_create("sgkm_fuzz", MFD_CLOEXEC);

	w->arena = map_with_guard(ARENA_PAGES);
	w->segs = map_with_guard(SEG_PAGES);
	if (mfd < 0 || ftruncate(mfd, PAGE)) {
		perror("memfd");
		exit(1);
	}
	w->ro_alias = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	w->ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, mfd, 0);
	if (w->ro_alias == MAP_FAILED || w->ro == MAP_FAILED) {
		perror("mmap memfd");
		exit(1);
	}
	close(mfd);
}

/* An argsz: mostly the struct's size, else an edge value. */
static uint32_t pick_argsz(struct worker *w, uint32_t size)
{
	static const uint32_t edges[] = { 0, 1, 4, 7, 8, 12, 4095, 4096, 4097, 8192, 0x7fffffff,
					  0x80000000, 0xffffffff };

	if (!bad(w, 2))
		return size;
	switch (below(&w->rng, 4)) {
	case 0:
		return size - 1 - below(&w->rng, size - 1);	/* too short */
	case 1:
		return size + 1 + below(&w->rng, 64);		/* longer, zero tail */
	case 2:
		return edges[below(&w->rng, sizeof(edges) / sizeof(edges[0]))];
	default:
		return (uint32_t)rnd(&w->rng);
	}
}

/*
 * Where the argument goes. Mostly at the start of the arena (readable well past any argsz up
 * to 3 pages, the tail zero); else right before the unmapped page (a longer argsz faults on the
 * tail), across it, into read-only memory (the reply cannot be written), or a bad pointer.
 * Returns the address to pass; the struct is copied there by place_arg().
 */
struct placed {
	void *uarg;		/* what the ioctl gets */
	void *copy_back;	/* where to read the reply from, or NULL */
};

static struct placed place_arg(struct worker *w, const void *arg, uint32_t size, uint32_t argsz,
			       bool nonzero_tail)
{
	unsigned char *guard = w->arena + ARENA_PAGES * PAGE;
	struct placed p = { 0 };
	size_t tail = argsz > size && argsz <= ARENA_PAGES * PAGE ? argsz - size : 0;

	switch (w->bad ? below(&w->rng, 8) : 8) {
	case 0:		/* ends right before the unmapped page */
		p.uarg = guard - size;
		memcpy(p.uarg, arg, size);
		p.copy_back = p.uarg;
		return p;
	case 1:		/* runs into the unmapped page */
		p.uarg = guard - 4 - below(&w->rng, size - 4);
		memcpy(p.uarg, arg, guard - (unsigned char *)p.uarg);
		return p;
	case 2:		/* read-only: the kernel reads it, its reply faults */
		memcpy(w->ro_alias, arg, size);
		memset(w->ro_alias + size, 0, PAGE - size);
		p.uarg = w->ro;
		return p;
	case 3: {
		static const uintptr_t wild[] = { 0, 1, 4095, 0xffff888000000000ul,
						  0xffffffffff600000ul, ~(uintptr_t)0 - 3 };

		p.uarg = one_in(&w->rng, 3) ? (void *)guard :
			 (void *)wild[below(&w->rng, sizeof(wild) / sizeof(wild[0]))];
		return p;
	}
	default:
		memcpy(w->arena, arg, size);
		if (tail) {
			memset(w->arena + size, 0, tail);
			if (nonzero_tail)
				w->arena[size + below(&w->rng, tail)] = 1 + below(&w->rng, 255);
		}
		p.uarg = w->arena;
		p.copy_back = w->arena;
		return p;
	}
}

static int do_ioctl(struct worker *w, enum op op, unsigned long cmd, void *uarg)
{
	int ret = ioctl(w->fd, cmd, uarg) ? -errno : 0;

	w->n.ops[op]++;
	if (!ret) {
		w->n.ok[op]++;
		return 0;
	}
	if (-ret < 128)
		w->errnos[-ret]++;
	if (-ret >= 128 || !(op_errnos[op] & E(-ret)))
		fail(w, "errno %d (%s) is not one the UAPI documents for it", -ret, strerror(-ret));
	return ret;
}

/*
 * An id: mostly from this file's pool; sometimes one that a create of this file may be
 * returning right now, another file's, or made up.
 */
static uint64_t pick_id(struct worker *w, struct pool *mine)
{
	static const uint32_t made_up[] = { 0, 1, 2, 3, POOL, 0x7fffffff, 0x80000000, 0xffffffff };
	uint32_t r = below(&w->rng, 22);

	if (r < 15)
		return pool_get(mine, &w->rng);
	if (r < 17)
		return __atomic_load_n(&mine->last, __ATOMIC_RELAXED) + below(&w->rng, 2);
	if (r < 17)
		return pool_get(mine == &shared_pool ? &workers[below(&w->rng, opt_threads)].own :
				&shared_pool, &w->rng);
	if (r < 19)
		return made_up[below(&w->rng, sizeof(made_up) / sizeof(made_up[0]))];
	return (uint32_t)rnd(&w->rng);
}

static uint64_t pick_size(struct worker *w)
{
	uint32_t r = below(&w->rng, 100);
	uint64_t edges[] = { 0, 1, PAGE - 1, PAGE, PAGE + 1, max_table_bytes + 1, ~0ull,
			     1ull << 63 };

	if (r < 60)
		return (1 + below(&w->rng, 16)) * PAGE - below(&w->rng, 2) * below(&w->rng, PAGE);
	if (r < 88)
		return 1 + below(&w->rng, 256 * PAGE);
	if (r < 96)
		return edges[below(&w->rng, sizeof(edges) / sizeof(edges[0]))];
	/* The largest table is slow to build and pins much: rarely. */
	if (one_in(&w->rng, 500))
		return max_table_bytes;
	return 1 + below(&w->rng, 16 << 20);	/* up to 16 MiB */
}

/* Flags: mostly 0 or the defined ones, sometimes any bits. */
static uint32_t pick_flags(struct worker *w, uint32_t defined)
{
	if (bad(w, 4))
		return (uint32_t)rnd(&w->rng);
	return (uint32_t)rnd(&w->rng) & defined;
}

static void maybe_reserved(struct worker *w, __u64 *reserved, unsigned int n)
{
	if (bad(w, 6))
		reserved[below(&w->rng, n)] = rnd(&w->rng) | 1;
}

static uint32_t pick_device(struct worker *w)
{
	if (bad(w, 5))
		return one_in(&w->rng, 2) ? ndevices : (uint32_t)rnd(&w->rng);
	return below(&w->rng, ndevices);
}

static void op_create(struct worker *w, struct pool *pool)
{
	struct sgkm_create c = {
		.device = pick_device(w),
		.layout = bad(w, 8) ? (uint32_t)rnd(&w->rng) : below(&w->rng, SGKM_LAYOUT_NR),
		.dir = bad(w, 8) ? (uint32_t)rnd(&w->rng) : below(&w->rng, SGKM_DIR_NR),
		.ownership = bad(w, 8) ? (uint32_t)rnd(&w->rng) :
			     one_in(&w->rng, 4) ? SGKM_BORROWED : SGKM_OWNED,
		.size = pick_size(w),
		/* out fields: whatever the caller left there must not matter */
		.id = (uint32_t)rnd(&w->rng), .orig_nents = (uint32_t)rnd(&w->rng),
	};
	uint32_t size = sizeof(c), argsz = pick_argsz(w, size);
	bool nonzero_tail = bad(w, 2);
	struct placed p;
	int ret;

	c.flags = pick_flags(w, 0);
	/* Every fault kind, on small tables: those that leak stay until unload. */
	if (c.ownership == SGKM_OWNED && !one_in(&w->rng, 3)) {
		c.fault = 1 + below(&w->rng, SGKM_FAULT_NR - 1);
		if (!one_in(&w->rng, 8))
			c.size = (1 + below(&w->rng, 4)) * PAGE;
	} else if (bad(w, 4)) {
		c.fault = (uint32_t)rnd(&w->rng) % (SGKM_FAULT_NR + 2);
	}
	maybe_reserved(w, c.reserved, 4);
	c.argsz = argsz;
	w->argsz = argsz;
	w->id = 0;
	p = place_arg(w, &c, size, argsz, nonzero_tail);
	ret = do_ioctl(w, OP_CREATE, SGKM_IOC_CREATE, p.uarg);
	if (ret || !p.copy_back)
		return;	/* a create whose reply could not be written stays until close */
	memcpy(&c, p.copy_back, size);
	w->id = c.id;
	if (c.id < 1)
		fail(w, "create returned id 0");
	if (c.ownership == SGKM_OWNED) {
		uint64_t pages = (c.size + PAGE - 1) / PAGE;

		if (c.orig_nents < 1 || c.orig_nents > pages ||
		    (c.layout == SGKM_LAYOUT_SCATTERED && c.orig_nents != pages))
			fail(w, "create of %llu bytes, layout %u: orig_nents %u",
			     (unsigned long long)c.size, c.layout, c.orig_nents);
	} else if (c.orig_nents) {
		fail(w, "borrowed create: orig_nents %u before the first map", c.orig_nents);
	}
	if (c.max_segment < PAGE)
		fail(w, "create: max_segment %u", c.max_segment);
	pool_put(pool, &w->rng, w->fd, c.id, c.device);
}

static void op_map(struct worker *w, struct pool *pool)
{
	uint64_t slot = pick_id(w, pool);
	struct sgkm_map m = { .id = (uint32_t)slot };
	uint32_t argsz = pick_argsz(w, sizeof(m));
	struct placed p;

	m.flags = pick_flags(w, SGKM_MAP_F_DEVICE);
	/* the table's own device mostly, so that the GEM rule passes */
	m.device = slot >> 32 && !one_in(&w->rng, 4) ? (uint32_t)(slot >> 32) - 1 : pick_device(w);
	maybe_reserved(w, m.reserved, 2);
	m.argsz = argsz;
	w->argsz = argsz;
	w->id = m.id;
	p = place_arg(w, &m, sizeof(m), argsz, bad(w, 2));
	if (do_ioctl(w, OP_MAP, SGKM_IOC_MAP, p.uarg) || !p.copy_back)
		return;
	memcpy(&m, p.copy_back, sizeof(m));
	if (m.nents < 1 || (m.state != SGKM_STATE_MAPPED_MANAGED &&
			    m.state != SGKM_STATE_MAPPED_BORROWED &&
			    m.state != SGKM_STATE_MAPPED_UNMANAGED &&
			    m.state != SGKM_STATE_FREED_MAPPED))
		fail(w, "map: nents %u, state %u", m.nents, m.state);
}

/* unmap and destroy share their struct */
static void op_table(struct worker *w, struct pool *pool, enum op op)
{
	struct sgkm_table_op o = { .id = (uint32_t)pick_id(w, pool) };
	uint32_t argsz = pick_argsz(w, sizeof(o));
	struct placed p;
	int ret;

	o.flags = pick_flags(w, 0);
	maybe_reserved(w, o.reserved, 2);
	o.argsz = argsz;
	w->argsz = argsz;
	w->id = o.id;
	p = place_arg(w, &o, sizeof(o), argsz, bad(w, 2));
	ret = do_ioctl(w, op, op == OP_UNMAP ? SGKM_IOC_UNMAP : SGKM_IOC_DESTROY, p.uarg);
	if (op == OP_DESTROY && (ret == 0 || ret == -ENOENT))
		pool_forget(pool, o.id);
	if (!ret && p.copy_back) {
		memcpy(&o, p.copy_back, sizeof(o));
		if (o.state >= SGKM_STATE_NR)
			fail(w, "%s: state %u", w->what, o.state);
	}
}

static void op_verify(struct worker *w, struct pool *pool)
{
	struct sgkm_verify v = { .id = (uint32_t)pick_id(w, pool) };
	uint32_t argsz = pick_argsz(w, sizeof(v));
	struct placed p;

	v.flags = pick_flags(w, SGKM_VERIFY_F_CPU | SGKM_VERIFY_F_INFO);
	switch (w->bad ? below(&w->rng, 4) : 3 + below(&w->rng, 9)) {
	case 0:		/* totals only */
		break;
	case 1:		/* a capacity far beyond the buffer: the overflow hits the unmapped page */
		v.segments = (uintptr_t)w->segs;
		v.max_segments = one_in(&w->rng, 2) ? ~0u : 1u << 20;
		break;
	case 2: {
		static const uintptr_t wild[] = { 0, 1, 0xffff888000000000ul };

		v.segments = one_in(&w->rng, 2) ? (uintptr_t)w->ro :
			     wild[below(&w->rng, sizeof(wild) / sizeof(wild[0]))];
		v.max_segments = 1 + below(&w->rng, 64);
		break;
	}
	default:
		v.segments = (uintptr_t)w->segs;
		v.max_segments = below(&w->rng, SEG_CAP + 1);
	}
	maybe_reserved(w, v.reserved, 2);
	v.argsz = argsz;
	w->argsz = argsz;
	w->id = v.id;
	p = place_arg(w, &v, sizeof(v), argsz, bad(w, 2));
	if (do_ioctl(w, OP_VERIFY, SGKM_IOC_VERIFY, p.uarg) || !p.copy_back)
		return;
	memcpy(&v, p.copy_back, sizeof(v));
	if (v.state >= SGKM_STATE_NR || v.device >= ndevices || v.ownership >= SGKM_OWNERSHIP_NR ||
	    v.dir >= SGKM_DIR_NR || v.fault >= SGKM_FAULT_NR || v.size < 1)
		fail(w, "verify: state %u device %u ownership %u dir %u fault %u size %llu",
		     v.state, v.device, v.ownership, v.dir, v.fault, (unsigned long long)v.size);
	if (!(v.flags & SGKM_VERIFY_F_INFO) && (v.total_len != v.size || v.nsegments < 1))
		fail(w, "verify: %u segments of %llu bytes for a table of %llu", v.nsegments,
		     (unsigned long long)v.total_len, (unsigned long long)v.size);
}

static void op_stats(struct worker *w)
{
	struct sgkm_stats s = { 0 };
	uint32_t argsz = pick_argsz(w, sizeof(s));
	struct placed p;

	s.flags = pick_flags(w, 0);
	s.device = one_in(&w->rng, 3) ? SGKM_DEVICE_ALL : pick_device(w);
	s.argsz = argsz;
	w->argsz = argsz;
	w->id = 0;
	p = place_arg(w, &s, sizeof(s), argsz, bad(w, 2));
	if (do_ioctl(w, OP_STATS, SGKM_IOC_STATS, p.uarg) || !p.copy_back)
		return;
	memcpy(&s, p.copy_back, sizeof(s));
	if (s.ndevices != ndevices || s.version != SGKM_UAPI_VERSION)
		fail(w, "stats: ndevices %u, version %u", s.ndevices, s.version);
}

/*
 * Numbers that are no sgkm ioctl: sgkm's magic with another number, or with a direction or
 * size, a neighbouring magic, and a few oddities. None is one the VFS handles itself (those
 * use other magics: 'T', 'f', 'X', 0x94, 0x15, 0), so the driver must say ENOTTY.
 */
static void op_badcmd(struct worker *w)
{
	unsigned long cmd;

	switch (below(&w->rng, 5)) {
	case 0:
		cmd = _IO(SGKM_IOC_MAGIC, one_in(&w->rng, 8) ? 0 : 7 + below(&w->rng, 249));
		break;
	case 1:
		cmd = _IOC(1 + below(&w->rng, 3), SGKM_IOC_MAGIC, 1 + below(&w->rng, 6),
			   below(&w->rng, 1 << 14));
		break;
	case 2:
		cmd = _IOC(below(&w->rng, 4), 0xd6 + below(&w->rng, 9), below(&w->rng, 256),
			   below(&w->rng, 1 << 14));
		break;
	case 3:
		cmd = _IOC(3, 0xff, below(&w->rng, 256), 0x3fff);
		break;
	default: {
		static const unsigned long odd[] = { 0, 0xffffffff, _IO('x', 1), _IO(0xd4, 1) };

		cmd = odd[below(&w->rng, sizeof(odd) / sizeof(odd[0]))];
	}
	}
	w->argsz = 0;
	w->id = 0;
	memset(w->arena, 0, 64);
	do_ioctl(w, OP_BADCMD, cmd, w->arena);
}

/* Random bytes (argsz included) under a real ioctl number. */
static void op_garbage(struct worker *w)
{
	static const unsigned long cmds[] = { SGKM_IOC_CREATE, SGKM_IOC_MAP, SGKM_IOC_UNMAP,
					      SGKM_IOC_DESTROY, SGKM_IOC_VERIFY, SGKM_IOC_STATS };
	unsigned long cmd = cmds[below(&w->rng, 6)];
	uint64_t *q = (uint64_t *)w->arena;
	unsigned int i, len = 1 + below(&w->rng, 128);

	for (i = 0; i < len / 8 + 1; i++)
		q[i] = rnd(&w->rng);
	/* a plausible argsz often, so the kernel gets past the first check */
	if (!one_in(&w->rng, 3))
		((uint32_t *)w->arena)[0] = 8 + below(&w->rng, 128);
	/* verify with a random segments pointer and count would write anywhere: keep it ours */
	if (cmd == SGKM_IOC_VERIFY) {
		struct sgkm_verify *v = (void *)w->arena;

		v->segments = (uintptr_t)w->segs;
		v->max_segments %= SEG_CAP + 1;
	}
	w->argsz = ((uint32_t *)w->arena)[0];
	w->id = 0;
	do_ioctl(w, OP_GARBAGE, cmd, w->arena);
}

/* The file operations sgkm does not implement: errors, never a splat. */
static void op_fileops(struct worker *w)
{
	char buf[16];
	void *p;

	w->n.ops[OP_FILEOPS]++;
	switch (below(&w->rng, 4)) {
	case 0:
		if (read(w->fd, buf, sizeof(buf)) >= 0)
			w->n.ok[OP_FILEOPS]++;
		break;
	case 1:
		if (write(w->fd, buf, sizeof(buf)) >= 0)
			w->n.ok[OP_FILEOPS]++;
		break;
	case 2:
		p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, w->fd, 0);
		if (p != MAP_FAILED) {
			w->n.ok[OP_FILEOPS]++;
			munmap(p, PAGE);
		}
		break;
	default:
		if (lseek(w->fd, (off_t)rnd(&w->rng), SEEK_SET) >= 0)
			w->n.ok[OP_FILEOPS]++;
	}
}

static void read_file(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

static void op_debugfs(struct worker *w)
{
	char path[64];
	uint32_t dev = below(&w->rng, ndevices + 1);

	w->n.ops[OP_DEBUGFS]++;
	w->n.ok[OP_DEBUGFS]++;
	if (dev == ndevices)
		snprintf(path, sizeof(path), "/sys/kernel/debug/sgkm/stats");
	else
		snprintf(path, sizeof(path), "/sys/kernel/debug/sgkm/" SGKM_DRIVER_NAME ".%u", dev);
	read_file(path);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned int total = 0, i;

	for (i = 0; i < OP_NR; i++)
		total += op_weight[i];
	while (!stop) {
		bool shared = one_in(&w->rng, 2);
		struct pool *pool = shared ? &shared_pool : &w->own;
		uint32_t r = below(&w->rng, total);
		enum op op = 0;

		while (r >= op_weight[op])
			r -= op_weight[op++];
		w->fd = shared ? shared_fd : w->own_fd;
		w->what = op_names[op];
		w->bad = one_in(&w->rng, 4);
		switch (op) {
		case OP_CREATE:
			op_create(w, pool);
			break;
		case OP_MAP:
			op_map(w, pool);
			break;
		case OP_UNMAP:
		case OP_DESTROY:
			op_table(w, pool, op);
			break;
		case OP_VERIFY:
			op_verify(w, pool);
			break;
		case OP_STATS:
			op_stats(w);
			break;
		case OP_BADCMD:
			op_badcmd(w);
			break;
		case OP_GARBAGE:
			op_garbage(w);
			break;
		case OP_FILEOPS:
			op_fileops(w);
			break;
		case OP_REOPEN:
			/* Close destroys the file's tables (parks the leaking ones) under the storm. */
			w->n.ops[OP_REOPEN]++;
			w->n.ok[OP_REOPEN]++;
			close(w->own_fd);
			pool_clear(&w->own);
			w->own_fd = open_ctl();
			break;
		case OP_DEBUGFS:
			op_debugfs(w);
			break;
		case OP_NR:
			break;
		}
	}
	close(w->own_fd);
	return NULL;
}

/* ---- the storm: unbind and bind, and the writable test parameters ---- */

struct storm {
	uint64_t rng;
	bool bound[64];
	unsigned int restore_in[2];	/* storm steps until a changed parameter is restored */
	unsigned long unbinds, binds, param_changes;
};

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static bool read_param(const char *name, char *val, size_t len)
{
	char path[128];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(val, (int)len, f) != NULL;
	fclose(f);
	val[strcspn(val, "\n")] = 0;
	return ok;
}

static int set_param(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	return write_file(path, val);
}

static int drive(uint32_t dev, bool bind)
{
	char name[32];

	snprintf(name, sizeof(name), SGKM_DRIVER_NAME ".%u", dev);
	return write_file(bind ? SGKM_SYSFS_DRIVER_DIR "/bind" : SGKM_SYSFS_DRIVER_DIR "/unbind",
			  name);
}

/* The writable test parameters and their values when the run started, restored at its end. */
static const char *const storm_params[] = { "max_table_ids", "revoke_delay_us" };
static char saved_params[2][32];
static bool have_param[2];

static void storm_set(struct storm *s, unsigned int i, const char *val)
{
	if (set_param(storm_params[i], val))
		fail(NULL, "storm: cannot set %s=%s", storm_params[i], val);
	s->param_changes++;
}

/*
 * Now and then a parameter takes a testing value for a few storm steps (a few ids per file:
 * creates get ENOSPC; a slower devres release: unbinds meet more teardowns), then its own again,
 * so that most calls run with the module's own settings.
 */
static void storm_params_step(struct storm *s)
{
	unsigned int i;
	char val[32];

	for (i = 0; i < 2; i++) {
		if (s->restore_in[i] && !--s->restore_in[i])
			storm_set(s, i, saved_params[i]);
	}
	i = below(&s->rng, 2);
	if (!opt_params || !have_param[i] || s->restore_in[i] || !one_in(&s->rng, 64))
		return;
	if (i == 0)
		snprintf(val, sizeof(val), "%u", 1 + below(&s->rng, 8));
	else
		snprintf(val, sizeof(val), "%u", (1 + below(&s->rng, 2)) * 100);
	storm_set(s, i, val);
	s->restore_in[i] = 1 + below(&s->rng, 16);
}

/* Unbind or bind sgkm.<dev>, whichever it needs; false (and reported) when that fails. */
static bool storm_toggle(struct storm *s, uint32_t dev)
{
	int ret = drive(dev, !s->bound[dev]);

	if (ret) {
		fail(NULL, "storm: %s sgkm.%u: %s", s->bound[dev] ? "unbind" : "bind", dev,
		     strerror(-ret));
		return false;
	}
	if (s->bound[dev])
		s->unbinds++;
	else
		s->binds++;
	s->bound[dev] = !s->bound[dev];
	return true;
}

/*
 * Mostly an unbind at once followed by a bind, so that devices are bound most of the time and
 * the workers' maps get through; now and then a device stays unbound until it is picked again.
 * Only this thread binds and unbinds: each must work every time.
 */
static void *storm_main(void *arg)
{
	struct storm *s = arg;

	while (!stop) {
		uint32_t dev = below(&s->rng, ndevices);

		storm_params_step(s);
		if (!storm_toggle(s, dev))
			break;
		if (!s->bound[dev] && !one_in(&s->rng, 8) && !storm_toggle(s, dev))
			break;
	}
	return NULL;
}

/* ---- the run ---- */

static struct sgkm_stats stats_of(int fd)
{
	struct sgkm_stats s = { .argsz = sizeof(s), .device = SGKM_DEVICE_ALL };

	if (ioctl(fd, SGKM_IOC_STATS, &s)) {
		diag("stats: %s", strerror(errno));
		exit(1);
	}
	return s;
}

/* Taint flags of kernel errors (kernel/panic.c): B bad page (slab debugging, KFENCE), D oops,
 * W warning, L soft lockup. Loading sgkm itself sets O and E. */
#define TAINT_SPLAT ((1ul << 5) | (1ul << 7) | (1ul << 9) | (1ul << 14))

static unsigned long kernel_taint(void)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");
	unsigned long taint = 0;

	if (f) {
		if (fscanf(f, "%lu", &taint) != 1)
			taint = 0;
		fclose(f);
	}
	return taint;
}

static void on_alarm(int sig)
{
	static const char msg[] = "# FAIL the run did not end in time: a call is stuck\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: sgkm_fuzz [--duration S] [--seed N] [--threads N] [--no-storm] [--no-params] [--no-unload]\n");
	exit(2);
}

static void summary(struct storm *s, struct sgkm_stats *a, struct sgkm_stats *b, double secs)
{
	static const char *const faults[] = SGKM_FAULT_NAMES;
	struct counts n = { 0 };
	unsigned long total = 0, errnos[128] = { 0 };
	unsigned int i, t;
	char line[1024];
	size_t len = 0;

	for (t = 0; t < opt_threads; t++) {
		for (i = 0; i < OP_NR; i++) {
			n.ops[i] += workers[t].n.ops[i];
			n.ok[i] += workers[t].n.ok[i];
		}
		for (i = 0; i < 128; i++)
			errnos[i] += workers[t].errnos[i];
	}
	for (i = 0; i < OP_NR; i++)
		total += n.ops[i];
	diag("%lu calls in %.1f s: %.0f calls/s with %u threads; %lu unbinds, %lu binds, %lu parameter changes",
	     total, secs, total / secs, opt_threads, s->unbinds, s->binds, s->param_changes);
	for (i = 0; i < OP_NR; i++)
		len += snprintf(line + len, sizeof(line) - len, " %s %lu/%lu", op_names[i], n.ok[i],
				n.ops[i]);
	diag("succeeded/issued:%s", line);
	len = 0;
	for (i = 1; i < 128; i++)
		if (errnos[i])
			len += snprintf(line + len, sizeof(line) - len, " %s %lu", strerrorname_np(i) ?: "?",
					errnos[i]);
	diag("errnos:%s", line);
	len = 0;
	for (i = 1; i < SGKM_FAULT_NR; i++)
		len += snprintf(line + len, sizeof(line) - len, " %s %llu", faults[i],
				(unsigned long long)(b->c.injected[i] - a->c.injected[i]));
	diag("faults injected:%s", line);
	diag("tables created %llu, maps %llu (%llu failed), unmaps %llu (%llu revoked by an unbind), tables parked until unload %llu",
	     (unsigned long long)(b->c.tables_created - a->c.tables_created),
	     (unsigned long long)(b->c.maps - a->c.maps),
	     (unsigned long long)(b->c.map_failures - a->c.map_failures),
	     (unsigned long long)(b->c.unmaps - a->c.unmaps),
	     (unsigned long long)(b->c.revoked - a->c.revoked),
	     (unsigned long long)(b->c.leaked_tables - a->c.leaked_tables));
}

/* Once every file is closed, only the parked tables may be left, and the gauges must agree. */
static void check_balance(struct sgkm_stats *a, struct sgkm_stats *b)
{
	uint64_t live = b->c.live_tables - a->c.live_tables;
	uint64_t parked = b->c.leaked_tables - a->c.leaked_tables;

	if (live != parked)
		fail(NULL, "after close: %" PRIu64 " more live tables, but %" PRIu64 " more parked",
		     live, parked);
	if (b->c.live_mappings != b->c.expected[SGKM_FINDING_LEAK] +
				  b->c.expected[SGKM_FINDING_OUTLIVES_UNBIND] +
				  b->c.injected[SGKM_FAULT_FREE_WHILE_MAPPED])
		fail(NULL, "after close: %llu live mappings, but leak %llu + outlives_unbind %llu + freed_while_mapped %llu",
		     (unsigned long long)b->c.live_mappings,
		     (unsigned long long)b->c.expected[SGKM_FINDING_LEAK],
		     (unsigned long long)b->c.expected[SGKM_FINDING_OUTLIVES_UNBIND],
		     (unsigned long long)b->c.injected[SGKM_FAULT_FREE_WHILE_MAPPED]);
	if (b->c.maps - a->c.maps != b->c.unmaps - a->c.unmaps + b->c.live_mappings -
				     a->c.live_mappings)
		fail(NULL, "after close: maps and unmaps do not balance with the live mappings");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "no-storm", no_argument, NULL, 'S' },
		{ "no-params", no_argument, NULL, 'P' },
		{ "no-unload", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct timespec t0, t1, tick = { 0, 100 * 1000 * 1000 };
	struct sgkm_stats before, after;
	struct storm storm = { 0 };
	pthread_t storm_tid;
	unsigned long taint;
	bool seeded = false;
	unsigned int i;
	double secs;
	int c, fd;

	while ((c = getopt_long(argc, argv, "d:s:t:SPUh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt_duration = strtoul(optarg, NULL, 10);
			break;
		case 's':
			opt_seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 't':
			opt_threads = strtoul(optarg, NULL, 10);
			if (!opt_threads || opt_threads > MAX_THREADS)
				usage();
			break;
		case 'S':
			opt_storm = false;
			break;
		case 'P':
			opt_params = false;
			break;
		case 'U':
			opt_unload = false;
			break;
		default:
			usage();
		}
	}
	if (!seeded) {
		clock_gettime(CLOCK_REALTIME, &t0);
		opt_seed = (uint64_t)t0.tv_sec * 1000000007ull ^ (uint64_t)t0.tv_nsec ^
			   (uint64_t)getpid() << 32;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	diag("seed %" PRIu64 ": reproduce with sgkm_fuzz --seed %" PRIu64 " --threads %u --duration %u%s%s%s",
	     opt_seed, opt_seed, opt_threads, opt_duration, opt_storm ? "" : " --no-storm",
	     opt_params ? "" : " --no-params", opt_unload ? "" : " --no-unload");
	/* A stuck call is a failure too, not only a hang for the runner's timeout. */
	signal(SIGALRM, on_alarm);
	alarm(opt_duration + 120);

	taint = kernel_taint();
	shared_fd = open_ctl();
	before = stats_of(shared_fd);
	ndevices = before.ndevices;
	max_table_bytes = before.max_table_bytes;
	if (ndevices > 64) {
		diag("%u devices: more than this fuzzer tracks", ndevices);
		return 1;
	}
	for (i = 0; i < 2; i++)
		have_param[i] = read_param(storm_params[i], saved_params[i], sizeof(saved_params[i]));
	storm.rng = opt_seed ^ 0x5707a5707a5707a5ull;
	for (i = 0; i < ndevices; i++) {
		struct sgkm_stats s = { .argsz = sizeof(s), .device = i };

		if (ioctl(shared_fd, SGKM_IOC_STATS, &s)) {
			diag("stats of sgkm.%u: %s", i, strerror(errno));
			return 1;
		}
		storm.bound[i] = s.bound;
	}
	for (i = 0; i < opt_threads; i++) {
		struct worker *w = &workers[i];

		w->index = i;
		w->rng = opt_seed + (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull;
		w->own_fd = open_ctl();
		worker_memory(w);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < opt_threads; i++)
		if (pthread_create(&workers[i].tid, NULL, worker_main, &workers[i])) {
			diag("pthread_create failed");
			return 1;
		}
	if (opt_storm && pthread_create(&storm_tid, NULL, storm_main, &storm)) {
		diag("pthread_create failed");
		return 1;
	}
	/* The main thread only keeps time: the threads synchronize through the module. */
	do {
		nanosleep(&tick, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (t1.tv_sec - t0.tv_sec < (time_t)opt_duration);
	stop = 1;
	for (i = 0; i < opt_threads; i++)
		pthread_join(workers[i].tid, NULL);
	if (opt_storm)
		pthread_join(storm_tid, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	close(shared_fd);
	for (i = 0; i < 2; i++)
		if (have_param[i] && set_param(storm_params[i], saved_params[i]))
			fail(NULL, "cannot restore %s=%s", storm_params[i], saved_params[i]);

	/* Every file is closed (the workers closed theirs). The devices stay as the storm left
	 * them: the unload must cope with unbound ones. */
	fd = open_ctl();
	after = stats_of(fd);
	close(fd);
	summary(&storm, &before, &after, secs);
	check_balance(&before, &after);
	if (kernel_taint() & ~taint & TAINT_SPLAT)
		fail(NULL, "the kernel became tainted (0x%lx): see its log", kernel_taint());
	if (opt_unload) {
		int status = system("rmmod sgkm");

		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail(NULL, "rmmod sgkm failed");
		else if (!access(SGKM_CONTROL_PATH, F_OK))
			fail(NULL, "%s still exists after the unload", SGKM_CONTROL_PATH);
		else
			diag("unloaded with %llu tables parked, %u of %u devices bound",
			     (unsigned long long)after.c.leaked_tables, after.bound, ndevices);
	}
	if (failures)
		diag("%d failures (seed %" PRIu64 ")", failures, opt_seed);
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
