// SPDX-License-Identifier: GPL-2.0
/* sgtrace_live: batch-read the live map and classify what is still mapped at the end. */
#include "sgtrace_live.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#define CHUNK 65536

/*
 * Reading 1,000,000 entries is about as much kernel time (the batch copies) as user time
 * (classifying them): a reader thread fills one buffer while the caller classifies the other,
 * so that with two CPUs the two overlap.
 */
struct chunk {
	__u64 *keys;
	struct sgt_live *vals;
	__u32 count;
	bool last; /* no chunk after this one */
	int err;   /* -errno of a failed read (then last) */
};

struct reader {
	int fd;
	struct chunk buf[2];
	int full[2]; /* buf[i] is ready for the consumer */
	bool stop;   /* the consumer gives up */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	__u64 batch = 0;
	bool first = true;

	for (int i = 0;; i ^= 1) {
		struct chunk *c = &rd->buf[i];
		int err;

		pthread_mutex_lock(&rd->lock);
		while (rd->full[i] && !rd->stop)
			pthread_cond_wait(&rd->cond, &rd->lock);
		pthread_mutex_unlock(&rd->lock);
		if (rd->stop)
			return NULL;
		c->count = CHUNK;
		c->last = false;
		c->err = 0;
		err = bpf_map_lookup_batch(rd->fd, first ? NULL : &batch, &batch, c->keys, c->vals,
					   &c->count, NULL);
		first = false;
		if (err) {
			c->last = true; /* the last entries come with ENOENT */
			if (errno != ENOENT) {
				c->err = -errno;
				c->count = 0;
			}
		}
		pthread_mutex_lock(&rd->lock);
		rd->full[i] = 1;
		pthread_cond_broadcast(&rd->cond);
		pthread_mutex_unlock(&rd->lock);
		if (c->last)
			return NULL;
	}
}

static int classify(struct sgt_report *r, const struct chunk *c, uint64_t now, uint64_t min_age,
		    const struct sgt_devinfo **last)
{
	for (__u32 i = 0; i < c->count; i++) {
		const struct sgt_live *v = &c->vals[i];
		struct sgt_event e;
		uint64_t age = now > v->ts ? now - v->ts : 0;
		unsigned int kind;
		int err;

		r->live_total++;
		if (!*last || (*last)->dev != v->dev)
			*last = sgt_report_dev(r, v->dev);
		if (*last && (*last)->d.gen != v->gen)
			kind = SGT_OUTLIVES_UNBIND;
		else if (age >= min_age)
			kind = SGT_LEAK;
		else
			continue;
		e = (struct sgt_event){
			.kind = kind,
			.sgl = c->keys[i],
			.dev = v->dev,
			.ts_map = v->ts,
			.ts = now,
			.bytes = v->bytes,
			.dir = v->dir,
			.nents = v->nents,
			.mapped = v->mapped,
			.pid = v->pid,
			.stack_id = v->stack_id,
			.gen = v->gen,
		};
		err = sgt_report_add(r, &e, age);
		if (err)
			return err;
	}
	return 0;
}

int sgt_collect_live(int fd, struct sgt_report *r, uint64_t now, uint64_t min_age_ms)
{
	struct reader rd = { .fd = fd };
	const struct sgt_devinfo *last = NULL;
	uint64_t min_age = min_age_ms * 1000000ULL;
	pthread_t thread;
	int err = 0;

	pthread_mutex_init(&rd.lock, NULL);
	pthread_cond_init(&rd.cond, NULL);
	for (int i = 0; i < 2; i++) {
		rd.buf[i].keys = malloc(CHUNK * sizeof(*rd.buf[i].keys));
		rd.buf[i].vals = malloc(CHUNK * sizeof(*rd.buf[i].vals));
		if (!rd.buf[i].keys || !rd.buf[i].vals)
			err = -ENOMEM;
	}
	if (!err && pthread_create(&thread, NULL, reader_main, &rd))
		err = -EAGAIN;
	if (err)
		goto out;
	for (int i = 0;; i ^= 1) {
		struct chunk *c = &rd.buf[i];
		bool was_last;

		pthread_mutex_lock(&rd.lock);
		while (!rd.full[i])
			pthread_cond_wait(&rd.cond, &rd.lock);
		pthread_mutex_unlock(&rd.lock);
		err = c->err ? c->err : classify(r, c, now, min_age, &last);
		was_last = c->last;
		pthread_mutex_lock(&rd.lock);
		rd.full[i] = 0;
		if (err)
			rd.stop = true;
		pthread_cond_broadcast(&rd.cond);
		pthread_mutex_unlock(&rd.lock);
		if (err || was_last)
			break;
	}
	pthread_join(thread, NULL);
out:
	for (int i = 0; i < 2; i++) {
		free(rd.buf[i].keys);
		free(rd.buf[i].vals);
	}
	pthread_mutex_destroy(&rd.lock);
	pthread_cond_destroy(&rd.cond);
	return err;
}
