// SPDX-License-Identifier: GPL-2.0
/* sgtrace_live: read the live table and classify what is still mapped at the end. */
#include "sgtrace_live.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

uint32_t sgt_live_buckets(uint32_t max_mappings)
{
	uint32_t want = (max_mappings + SGT_LIVE_LOAD_DIV - 1) / SGT_LIVE_LOAD_DIV, n = 1;

	while (n < want)
		n <<= 1;
	return n;
}

static int classify(struct sgt_report *r, const struct sgt_live *v, uint64_t sgl, uint64_t now,
		    double ns_per_jiffy, uint64_t min_age, const struct sgt_devinfo **last)
{
	uint64_t age = now > v->ts ? (now - v->ts) * ns_per_jiffy : 0;
	unsigned int kind;
	struct sgt_event e;

	r->live_total++;
	if (!*last || (*last)->dev != v->dev)
		*last = sgt_report_dev(r, v->dev);
	if (*last && (*last)->d.gen != v->gen)
		kind = SGT_OUTLIVES_UNBIND;
	else if (age >= min_age)
		kind = SGT_LEAK;
	else
		return 0;
	e = (struct sgt_event){
		.kind = kind,
		.sgl = sgl,
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
	return sgt_report_add(r, &e, age);
}

int sgt_collect_live(int fd, uint32_t buckets, struct sgt_report *r, uint64_t now,
		     double ns_per_jiffy, uint64_t min_age_ms)
{
	size_t page = sysconf(_SC_PAGESIZE);
	size_t len = ((size_t)buckets * sizeof(struct sgt_live_bucket) + page - 1) / page * page;
	const struct sgt_devinfo *last = NULL;
	uint64_t min_age = min_age_ms * 1000000ULL;
	const struct sgt_live_bucket *table;
	int err = 0;

	/* The BPF array is mmap-able (BPF_F_MMAPABLE): its buckets are read in place, with no
	 * copy through the kernel. */
	table = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (table == MAP_FAILED)
		return -errno;
	for (uint32_t b = 0; b < buckets && !err; b++) {
		for (int i = 0; i < SGT_LIVE_SLOTS && !err; i++) {
			uint64_t word = table[b].sgl[i];

			/* Busy slots cannot remain once the handlers have stopped. */
			if (!word || (word & SGT_SLOT_FLAGS))
				continue;
			err = classify(r, &table[b].ent[i], word, now, ns_per_jiffy, min_age, &last);
		}
	}
	munmap((void *)table, len);
	return err;
}
