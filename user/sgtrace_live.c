// SPDX-License-Identifier: GPL-2.0
/* sgtrace_live: batch-read the live map and classify what is still mapped at the end. */
#include "sgtrace_live.h"

#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#define CHUNK 65536

int sgt_collect_live(int fd, struct sgt_report *r, uint64_t now, uint64_t min_age_ms)
{
	__u64 *keys = malloc(CHUNK * sizeof(*keys)), batch = 0;
	struct sgt_live *vals = malloc(CHUNK * sizeof(*vals));
	const struct sgt_devinfo *last = NULL;
	uint64_t min_age = min_age_ms * 1000000ULL;
	bool first = true, done = false;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!done) {
		__u32 count = CHUNK;

		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &count, NULL);
		first = false;
		if (err) {
			if (errno != ENOENT) {
				err = -errno;
				goto out;
			}
			err = 0;
			done = true; /* the last entries came with ENOENT */
		}
		for (__u32 i = 0; i < count; i++) {
			const struct sgt_live *v = &vals[i];
			struct sgt_event e;
			uint64_t age = now > v->ts ? now - v->ts : 0;
			unsigned int kind;

			r->live_total++;
			if (!last || last->dev != v->dev)
				last = sgt_report_dev(r, v->dev);
			if (last && last->d.gen != v->gen)
				kind = SGT_OUTLIVES_UNBIND;
			else if (age >= min_age)
				kind = SGT_LEAK;
			else
				continue;
			e = (struct sgt_event){
				.kind = kind,
				.sgl = keys[i],
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
				goto out;
		}
	}
out:
	free(keys);
	free(vals);
	return err;
}
