// SPDX-License-Identifier: GPL-2.0
/*
 * sgstress_run.c - the stress run.
 *
 * Worker threads run table lifecycles (create -> map -> verify -> unmap -> destroy) on random
 * devices with random sizes, layouts and directions, each from its own /dev/sgkm file and its
 * own PRNG (seed + thread index). Faults are a shuffled plan of SGKM_FAULT_* kinds; fault i of
 * F is due when the run's progress reaches (i + 0.5) / F, and the first worker to see it due
 * claims it. A fault lifecycle is the same lifecycle with the fault set at create; it is
 * repeated with a new table until the module's injected[] counter of that kind went up by one
 * (an unbind can get there first: sgkm then performs nothing and says ENXIO). One mutex per
 * kind makes that counter's delta belong to the one lifecycle that runs under it.
 *
 * The unbind storm thread unbinds one device every --unbind-every ms and binds it again half a
 * period later. Each device has a mutex held from its unbind to its bind, which the storm and
 * the skip_devres lifecycles (which unbind their own device) share.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sgstress_dev.h"
#include "sgstress_opts.h"
#include "sgstress_run.h"

#define PAGE_BYTES		4096u
#define MAX_FAULT_ATTEMPTS	500	/* lifecycles tried per fault before giving up */
#define PROGRESS_PERIOD_NS	250000000L
#define MAX_REPORTED_MISMATCH	5	/* verify mismatches printed in full */

const char *const sgs_op_names[SGS_OP_NR] = {
	"create", "map", "verify", "unmap", "destroy", "unbind", "bind",
};

struct ctx {
	const struct sgs_config *cfg;
	unsigned int ndev;
	unsigned int mask_bits[SGS_MAX_DEVICES];
	bool unbinding;			/* sgstress unbinds devices: ENODEV/ENXIO are explained */
	unsigned int *plan;		/* fault kinds in injection order */
	unsigned int nplan;
	atomic_uint next_fault;		/* plan index of the next fault to claim */
	atomic_uint_fast64_t ops_claimed, ops_done, errors, injected;
	atomic_uint_fast64_t mismatches_printed;
	atomic_bool abort;		/* SIGINT/SIGTERM */
	atomic_bool storm_stop;
	atomic_uint workers_running;
	struct timespec start;
	pthread_mutex_t devlock[SGS_MAX_DEVICES];
	pthread_mutex_t kindlock[SGKM_FAULT_NR];
};

struct worker {
	pthread_t thread;
	struct ctx *ctx;
	unsigned int index;
	int fd;
	uint64_t rng;
	struct sgkm_segment *segs;
	uint32_t max_segs;
	struct sgs_result res;		/* this thread's counters, merged at the end */
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

/* splitmix64: small, fast, and good enough to pick sizes and devices. */
static uint64_t rnd(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_range(uint64_t *state, uint64_t min, uint64_t max)
{
	if (max <= min)
		return min;
	if (max - min == UINT64_MAX)
		return rnd(state);
	return min + rnd(state) % (max - min + 1);
}

static double elapsed_s(const struct ctx *ctx)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - ctx->start.tv_sec) + (now.tv_nsec - ctx->start.tv_nsec) / 1e9;
}

static void ts_add_ns(struct timespec *ts, long ns)
{
	ts->tv_nsec += ns;
	while (ts->tv_nsec >= 1000000000L) {
		ts->tv_nsec -= 1000000000L;
		ts->tv_sec++;
	}
}

static void sleep_until(const struct timespec *ts)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ts, NULL) == EINTR)
		;
}

/* Run progress in [0, 1]: the share of ops claimed, or of the duration elapsed. */
static double progress(struct ctx *ctx)
{
	const struct sgs_config *cfg = ctx->cfg;
	double p;

	if (cfg->duration_s > 0)
		p = elapsed_s(ctx) / cfg->duration_s;
	else if (cfg->ops == 0)
		p = 1;
	else
		p = (double)atomic_load(&ctx->ops_claimed) / (double)cfg->ops;
	return p > 1 ? 1 : p;
}

/* Counts a failed operation. Unbind-related errnos are expected while sgstress unbinds. */
static void count_error(struct worker *w, enum sgs_op op, int err, bool tolerated)
{
	struct ctx *ctx = w->ctx;
	int slot = err > 0 && err < SGS_ERRNO_SLOTS ? err : 0;

	if (!tolerated && ctx->unbinding && (err == ENODEV || err == ENXIO))
		tolerated = true;
	w->res.errors++;
	w->res.by_errno[slot]++;
	w->res.by_op_errno[op][slot]++;
	if (!tolerated) {
		char buf[16];

		w->res.unexpected++;
		if (w->res.unexpected <= 3)
			fprintf(stderr, "sgstress: thread %u: %s failed: %s (%s)\n", w->index,
				sgs_op_names[op], strerror(err), sgs_errno_name(err, buf));
	}
	atomic_fetch_add(&ctx->errors, 1);
}

/* Checks a verify result: the DMA lengths must sum to the size, and nents match the map. */
static void check_view(struct worker *w, const struct sgkm_verify *v, uint64_t size,
		       uint32_t nents)
{
	uint64_t sum = 0;
	bool bad = v->total_len != size || v->nents != nents;

	if (v->nsegments <= w->max_segs) {
		for (uint32_t i = 0; i < v->nsegments; i++)
			sum += w->segs[i].len;
		bad = bad || sum != size || v->nsegments != v->nents;
	}
	if (!bad)
		return;
	w->res.verify_mismatch++;
	w->res.unexpected++;
	if (atomic_fetch_add(&w->ctx->mismatches_printed, 1) < MAX_REPORTED_MISMATCH)
		fprintf(stderr, "sgstress: verify of table %u on sgkm.%u: size %llu, total_len %llu, "
			"segment sum %llu, %u segments, nents %u (map said %u): a module bug\n",
			v->id, v->device, (unsigned long long)size,
			(unsigned long long)v->total_len, (unsigned long long)sum,
			v->nsegments, v->nents, nents);
}

static bool narrow_mask(const struct ctx *ctx, unsigned int dev)
{
	return ctx->mask_bits[dev] && ctx->mask_bits[dev] < 64;
}

/*
 * On a device with a DMA mask below 64 bits: every DMA segment must lie below the mask, and the
 * CPU pages above it are the ones that swiotlb bounced.
 */
static void check_mask(struct worker *w, uint32_t id, unsigned int dev, uint32_t nsegments)
{
	unsigned int bits = w->ctx->mask_bits[dev];
	uint64_t limit = bits && bits < 64 ? 1ull << bits : 0;
	struct sgkm_verify v;
	int ret;

	if (!limit)
		return;
	for (uint32_t i = 0; i < nsegments && i < w->max_segs; i++)
		if (w->segs[i].addr + w->segs[i].len > limit) {
			w->res.mask_violations++;
			w->res.unexpected++;
		}
	ret = sgs_verify(w->fd, id, SGKM_VERIFY_F_CPU, w->segs, w->max_segs, &v);
	if (ret) {
		count_error(w, SGS_OP_VERIFY, -ret, false);
		return;
	}
	w->res.narrow_tables++;
	for (uint32_t i = 0; i < v.nsegments && i < w->max_segs; i++)
		if (w->segs[i].addr + w->segs[i].len > limit)
			w->res.bounced_segments++;
}

static unsigned int pick_layout(struct worker *w)
{
	switch (w->ctx->cfg->layout) {
	case SGS_LAYOUT_CONTIGUOUS: return SGKM_LAYOUT_CONTIGUOUS;
	case SGS_LAYOUT_SCATTERED: return SGKM_LAYOUT_SCATTERED;
	default: return rnd(&w->rng) & 1 ? SGKM_LAYOUT_SCATTERED : SGKM_LAYOUT_CONTIGUOUS;
	}
}

static unsigned int pick_dir(struct worker *w)
{
	switch (w->ctx->cfg->dir) {
	case SGS_DIR_TO: return SGKM_DIR_TO_DEVICE;
	case SGS_DIR_FROM: return SGKM_DIR_FROM_DEVICE;
	case SGS_DIR_BIDI: return SGKM_DIR_BIDIRECTIONAL;
	default: return rnd(&w->rng) % SGKM_DIR_NR;
	}
}

/* Unbinds a device and binds it again, under its mutex (skip_devres needs an unbind). */
static void unbind_rebind(struct worker *w, unsigned int dev)
{
	int ret;

	pthread_mutex_lock(&w->ctx->devlock[dev]);
	ret = sgs_sysfs_unbind(dev);
	if (ret)
		count_error(w, SGS_OP_UNBIND, -ret, false);
	else
		w->res.unbinds++;
	ret = sgs_sysfs_bind(dev);
	if (ret)
		count_error(w, SGS_OP_BIND, -ret, false);
	else
		w->res.binds++;
	pthread_mutex_unlock(&w->ctx->devlock[dev]);
}

/*
 * One table lifecycle with @fault (SGKM_FAULT_NONE for a normal one). In a fault lifecycle the
 * errnos a fault causes on purpose (ENXIO after free_while_mapped, ...) are counted but
 * tolerated.
 */
static void lifecycle(struct worker *w, unsigned int fault)
{
	struct ctx *ctx = w->ctx;
	const struct sgs_config *cfg = ctx->cfg;
	unsigned int dev = rnd(&w->rng) % ctx->ndev;
	uint64_t size = rnd_range(&w->rng, cfg->size_min, cfg->size_max);
	unsigned int layout = pick_layout(w), dir = pick_dir(w);
	bool faulty = fault != SGKM_FAULT_NONE;
	uint32_t id, nents = 0;
	struct sgkm_verify v;
	int ret;

	if (fault == SGKM_FAULT_UNMAP_WRONG_NENTS) {
		/* orig_nents - 1 needs >= 2 entries: scattered has one entry per page. */
		layout = SGKM_LAYOUT_SCATTERED;
		if (size < 2 * PAGE_BYTES)
			size = 2 * PAGE_BYTES;
	}
	ret = sgs_create(w->fd, dev, size, layout, dir, fault, &id, NULL);
	if (ret) {
		count_error(w, SGS_OP_CREATE, -ret, false);
		return;
	}
	ret = sgs_map(w->fd, id, &nents);
	if (ret) {
		/* A device with a narrow mask bounces through swiotlb, which can be full. */
		count_error(w, SGS_OP_MAP, -ret, narrow_mask(ctx, dev) && (ret == -EIO || ret == -ENOMEM));
		goto destroy;
	}
	ret = sgs_verify(w->fd, id, 0, w->segs, w->max_segs, &v);
	if (ret)
		count_error(w, SGS_OP_VERIFY, -ret, faulty && (ret == -ENXIO || ret == -ENODATA));
	else {
		check_view(w, &v, size, nents);
		check_mask(w, id, dev, v.nsegments);
	}
	/* skip_devres makes a finding only when its device is unbound while it is mapped. */
	if (fault == SGKM_FAULT_SKIP_DEVRES)
		unbind_rebind(w, dev);
	ret = sgs_unmap(w->fd, id);
	if (ret)
		count_error(w, SGS_OP_UNMAP, -ret, faulty && (ret == -ENXIO || ret == -EALREADY));
destroy:
	ret = sgs_destroy(w->fd, id);
	if (ret)
		count_error(w, SGS_OP_DESTROY, -ret, false);
	w->res.ops++;
	atomic_fetch_add(&ctx->ops_done, 1);
}

static int injected_count(struct worker *w, unsigned int fault, uint64_t *count)
{
	struct sgkm_stats st;
	int ret = sgs_stats(w->fd, SGKM_DEVICE_ALL, &st);

	if (ret) {
		fprintf(stderr, "sgstress: SGKM_IOC_STATS: %s\n", strerror(-ret));
		return ret;
	}
	*count = st.c.injected[fault];
	return 0;
}

/* Repeats fault lifecycles until sgkm says it injected @fault once. */
static void inject(struct worker *w, unsigned int fault)
{
	struct ctx *ctx = w->ctx;
	uint64_t before, after;
	int attempt;

	pthread_mutex_lock(&ctx->kindlock[fault]);
	for (attempt = 0; attempt < MAX_FAULT_ATTEMPTS && !atomic_load(&ctx->abort); attempt++) {
		if (injected_count(w, fault, &before))
			break;
		lifecycle(w, fault);
		w->res.fault_ops++;
		if (injected_count(w, fault, &after))
			break;
		if (after > before) {
			w->res.injected_seen[fault] += after - before;
			atomic_fetch_add(&ctx->injected, after - before);
			pthread_mutex_unlock(&ctx->kindlock[fault]);
			return;
		}
		w->res.fault_retries++;
	}
	pthread_mutex_unlock(&ctx->kindlock[fault]);
	if (!atomic_load(&ctx->abort)) {
		w->res.unexpected++;
		fprintf(stderr, "sgstress: thread %u: could not inject %s in %d attempts "
			"(see the errors below; dmesg may say more)\n", w->index,
			sgs_fault_names[fault], attempt);
	}
}

/* Claims the next fault of the plan if it is due (or, with @any, whether due or not). */
static bool claim_fault(struct ctx *ctx, bool any, unsigned int *fault)
{
	unsigned int k = atomic_load(&ctx->next_fault);

	while (k < ctx->nplan) {
		if (!any && progress(ctx) < (k + 0.5) / ctx->nplan)
			return false;
		if (atomic_compare_exchange_weak(&ctx->next_fault, &k, k + 1)) {
			*fault = ctx->plan[k];
			return true;
		}
	}
	return false;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ctx *ctx = w->ctx;
	const struct sgs_config *cfg = ctx->cfg;
	unsigned int fault;

	while (!atomic_load(&ctx->abort)) {
		if (claim_fault(ctx, false, &fault)) {
			inject(w, fault);
			continue;
		}
		if (cfg->duration_s > 0) {
			if (elapsed_s(ctx) >= cfg->duration_s)
				break;
		} else if (atomic_fetch_add(&ctx->ops_claimed, 1) >= cfg->ops) {
			break;
		}
		lifecycle(w, SGKM_FAULT_NONE);
	}
	/* The ops or the time are up: what is left of the plan is injected now. */
	while (!atomic_load(&ctx->abort) && claim_fault(ctx, true, &fault))
		inject(w, fault);
	atomic_fetch_sub(&ctx->workers_running, 1);
	return NULL;
}

struct storm {
	pthread_t thread;
	struct worker w;	/* its counters and PRNG; no fd */
};

static void *storm_main(void *arg)
{
	struct storm *s = arg;
	struct worker *w = &s->w;
	struct ctx *ctx = w->ctx;
	long period_ns = (long)ctx->cfg->unbind_every_ms * 1000000L;
	struct timespec tick, half;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &tick);
	while (!atomic_load(&ctx->storm_stop)) {
		unsigned int dev = rnd(&w->rng) % ctx->ndev;

		/* Pacing: unbind at the tick, bind half a period later, next tick a period later. */
		half = tick;
		ts_add_ns(&half, period_ns / 2);
		ts_add_ns(&tick, period_ns);
		pthread_mutex_lock(&ctx->devlock[dev]);
		ret = sgs_sysfs_unbind(dev);
		if (ret) {
			count_error(w, SGS_OP_UNBIND, -ret, false);
		} else {
			w->res.unbinds++;
			sleep_until(&half);
			ret = sgs_sysfs_bind(dev);
			if (ret)
				count_error(w, SGS_OP_BIND, -ret, false);
			else
				w->res.binds++;
		}
		pthread_mutex_unlock(&ctx->devlock[dev]);
		sleep_until(&tick);
	}
	return NULL;
}

static void print_progress(struct ctx *ctx, bool final)
{
	double t = elapsed_s(ctx);
	uint64_t ops = atomic_load(&ctx->ops_done);

	printf("\rsgstress: %llu ops  %.0f ops/s  %llu errors  %llu/%u faults injected  %.1f s\033[K%s",
	       (unsigned long long)ops, t > 0 ? ops / t : 0.0,
	       (unsigned long long)atomic_load(&ctx->errors),
	       (unsigned long long)atomic_load(&ctx->injected), ctx->nplan, t, final ? "\n" : "");
	fflush(stdout);
}

static void merge(struct sgs_result *res, const struct sgs_result *r)
{
	res->ops += r->ops;
	res->fault_ops += r->fault_ops;
	res->fault_retries += r->fault_retries;
	res->unbinds += r->unbinds;
	res->binds += r->binds;
	res->errors += r->errors;
	res->unexpected += r->unexpected;
	res->verify_mismatch += r->verify_mismatch;
	res->mask_violations += r->mask_violations;
	res->narrow_tables += r->narrow_tables;
	res->bounced_segments += r->bounced_segments;
	for (int i = 0; i < SGKM_FAULT_NR; i++)
		res->injected_seen[i] += r->injected_seen[i];
	for (int e = 0; e < SGS_ERRNO_SLOTS; e++) {
		res->by_errno[e] += r->by_errno[e];
		for (int op = 0; op < SGS_OP_NR; op++)
			res->by_op_errno[op][e] += r->by_op_errno[op][e];
	}
}

/* The fault plan: every requested fault once, in an order shuffled by the seed. */
static int make_plan(struct ctx *ctx)
{
	const struct sgs_config *cfg = ctx->cfg;
	uint64_t rng = cfg->seed ^ 0x706c616e; /* "plan" */
	unsigned int n = 0;

	for (int k = 0; k < SGKM_FAULT_NR; k++)
		n += cfg->inject[k];
	ctx->plan = calloc(n ? n : 1, sizeof(*ctx->plan));
	if (!ctx->plan) {
		fprintf(stderr, "sgstress: out of memory for a plan of %u faults\n", n);
		return -1;
	}
	for (int k = 0; k < SGKM_FAULT_NR; k++)
		for (unsigned int i = 0; i < cfg->inject[k]; i++)
			ctx->plan[ctx->nplan++] = k;
	for (unsigned int i = ctx->nplan; i > 1; i--) {
		unsigned int j = rnd(&rng) % i, tmp = ctx->plan[i - 1];

		ctx->plan[i - 1] = ctx->plan[j];
		ctx->plan[j] = tmp;
	}
	return 0;
}

int sgs_run_check(const struct sgs_config *cfg, const struct sgs_snapshot *snap,
		  unsigned int *ndev)
{
	uint64_t need_max = cfg->size_max;

	if (snap->all.version != SGKM_UAPI_VERSION)
		fprintf(stderr, "sgstress: warning: sgkm speaks UAPI version %u, sgstress %u\n",
			snap->all.version, SGKM_UAPI_VERSION);
	if (snap->ndevices == 0) {
		fprintf(stderr, "sgstress: sgkm has no devices: load it with ndevices=1 or more\n");
		return -1;
	}
	*ndev = cfg->devices ? cfg->devices : snap->ndevices;
	if (*ndev > snap->ndevices) {
		fprintf(stderr, "sgstress: --devices %u: sgkm has %u devices: reload it with "
			"ndevices=%u, or ask for fewer\n", *ndev, snap->ndevices, *ndev);
		return -1;
	}
	for (unsigned int i = 0; i < *ndev; i++)
		if (!snap->dev[i].bound) {
			fprintf(stderr, "sgstress: sgkm.%u is not bound to the sgkm driver: "
				"echo sgkm.%u > %s/bind\n", i, i, SGKM_SYSFS_DRIVER_DIR);
			return -1;
		}
	if (cfg->inject[SGKM_FAULT_UNMAP_WRONG_NENTS] && need_max < 2 * PAGE_BYTES)
		need_max = 2 * PAGE_BYTES;
	if (snap->all.max_table_bytes && need_max > snap->all.max_table_bytes) {
		fprintf(stderr, "sgstress: tables of %llu bytes are above sgkm's limit of %llu: "
			"use a smaller --size or reload sgkm with a larger max_table_mb\n",
			(unsigned long long)need_max, (unsigned long long)snap->all.max_table_bytes);
		return -1;
	}
	if (cfg->inject[SGKM_FAULT_UNMAP_WRONG_DEV] && snap->ndevices < 2) {
		fprintf(stderr, "sgstress: unmap_wrong_dev unmaps with another sgkm device, and sgkm "
			"has only %u: reload it with ndevices=2 or more\n", snap->ndevices);
		return -1;
	}
	return 0;
}

static int start_workers(struct ctx *ctx, struct worker *ws, unsigned int n)
{
	const struct sgs_config *cfg = ctx->cfg;
	uint64_t max_bytes = cfg->size_max > 2 * PAGE_BYTES ? cfg->size_max : 2 * PAGE_BYTES;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		struct worker *w = &ws[i];

		w->ctx = ctx;
		w->index = i;
		w->rng = cfg->seed + i;
		w->max_segs = max_bytes / PAGE_BYTES + 2;
		if (w->max_segs > 65536)
			w->max_segs = 65536;
		w->segs = calloc(w->max_segs, sizeof(*w->segs));
		if (!w->segs) {
			fprintf(stderr, "sgstress: out of memory for segment buffers\n");
			return -1;
		}
		w->fd = sgs_dev_open();
		if (w->fd < 0)
			return -1;
	}
	for (i = 0; i < n; i++) {
		atomic_fetch_add(&ctx->workers_running, 1);
		ret = pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]);
		if (ret) {
			atomic_fetch_sub(&ctx->workers_running, 1);
			fprintf(stderr, "sgstress: cannot start worker thread %u: %s: use fewer "
				"--threads\n", i, strerror(ret));
			atomic_store(&ctx->abort, true);
			return i;	/* the ones started are joined by the caller */
		}
	}
	return n;
}

int sgs_run(const struct sgs_config *cfg, const struct sgs_snapshot *snap, unsigned int ndev,
	    struct sgs_result *res)
{
	struct ctx ctx = { .cfg = cfg, .ndev = ndev };
	struct worker *ws;
	struct storm storm = { 0 };
	bool storm_started = false;
	/* The progress line is for a terminal, and not when the JSON goes to stdout. */
	bool tty = isatty(STDOUT_FILENO) && !(cfg->json_path && !strcmp(cfg->json_path, "-"));
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, old;
	struct timespec next;
	int started, ret = -1;

	memset(res, 0, sizeof(*res));
	for (unsigned int i = 0; i < ndev; i++)
		ctx.mask_bits[i] = snap->dev[i].dma_mask_bits;
	ctx.unbinding = cfg->unbind_every_ms || cfg->inject[SGKM_FAULT_SKIP_DEVRES];
	for (int i = 0; i < SGS_MAX_DEVICES; i++)
		pthread_mutex_init(&ctx.devlock[i], NULL);
	for (int i = 0; i < SGKM_FAULT_NR; i++)
		pthread_mutex_init(&ctx.kindlock[i], NULL);
	if (make_plan(&ctx))
		return -1;
	ws = calloc(cfg->threads, sizeof(*ws));
	if (!ws) {
		fprintf(stderr, "sgstress: out of memory for %u threads\n", cfg->threads);
		goto out_plan;
	}
	for (unsigned int i = 0; i < cfg->threads; i++)
		ws[i].fd = -1;

	/* Threads do not take SIGINT/SIGTERM: the main thread turns them into an abort. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);

	clock_gettime(CLOCK_MONOTONIC, &ctx.start);
	started = start_workers(&ctx, ws, cfg->threads);
	if (started > 0 && cfg->unbind_every_ms) {
		storm.w.ctx = &ctx;
		storm.w.index = cfg->threads;	/* names it in messages */
		storm.w.rng = cfg->seed ^ 0x73746f726dull; /* "storm" */
		storm.w.fd = -1;
		if (pthread_create(&storm.thread, NULL, storm_main, &storm)) {
			fprintf(stderr, "sgstress: cannot start the unbind thread\n");
			atomic_store(&ctx.abort, true);
		} else {
			storm_started = true;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (started > 0 && atomic_load(&ctx.workers_running)) {
		ts_add_ns(&next, PROGRESS_PERIOD_NS);
		sleep_until(&next);
		if (got_signal && !atomic_load(&ctx.abort)) {
			atomic_store(&ctx.abort, true);
			res->aborted = true;
		}
		if (tty)
			print_progress(&ctx, false);
	}
	for (int i = 0; i < (started > 0 ? started : 0); i++)
		pthread_join(ws[i].thread, NULL);
	res->elapsed_s = elapsed_s(&ctx);
	atomic_store(&ctx.storm_stop, true);
	if (storm_started)
		pthread_join(storm.thread, NULL);
	if (tty && started > 0)
		print_progress(&ctx, true);
	if (started == (int)cfg->threads && !atomic_load(&ctx.abort))
		ret = 0;
	else if (res->aborted)
		ret = 0;	/* a report of what was done is still wanted */

	/* Leave every device bound as it was found (a failed bind in the storm is retried). */
	for (unsigned int i = 0; i < ndev; i++) {
		int r = sgs_sysfs_bind(i);

		if (r == 0)
			storm.w.res.binds++;
		/* EBUSY/ENODEV from bind: the device is already bound. */
	}
	for (unsigned int i = 0; i < cfg->threads; i++)
		merge(res, &ws[i].res);
	merge(res, &storm.w.res);

	for (unsigned int i = 0; i < cfg->threads; i++) {
		if (ws[i].fd >= 0)
			close(ws[i].fd);
		free(ws[i].segs);
	}
	free(ws);
out_plan:
	free(ctx.plan);
	return ret;
}
