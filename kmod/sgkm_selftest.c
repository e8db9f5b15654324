// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_selftest.c - checks of the sg-table API's own contract, below the UAPI.
 *
 * The guest kernel has no KUnit, so reading /sys/kernel/debug/sgkm/selftest runs these checks
 * on device sgkm.0 and prints one line per check and a verdict ("selftest: pass"). They cover
 * what /dev/sgkm cannot reach: the empty-buffer refusal, a borrowed view's refusals, the buffer
 * object's device check and fast path, and the fault primitives' state checks. The maps they
 * make bypass the counters: do not read the file while a tracer's ground truth matters.
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/seq_file.h>

#include "sgkm.h"

struct sgkm_selftest {
	struct seq_file *m;
	int failed;
};

#define CHECK_EQ(st, what, got, want) do {					\
	long long _g = (long long)(got), _w = (long long)(want);		\
	if (_g != _w) {								\
		seq_printf((st)->m, "FAIL %s: %s = %lld, want %lld\n", what, #got, _g, _w); \
		(st)->failed++;							\
	}									\
} while (0)

static void sgkm_selftest_empty(struct sgkm_selftest *st, struct device *dev)
{
	struct sgkm_pages empty = { 0 };
	struct sgkm_sgtable *t = NULL;

	CHECK_EQ(st, "empty", sgkm_sgtable_create_owned(dev, &empty, DMA_TO_DEVICE, GFP_KERNEL,
							NULL, NULL, &t), -EINVAL);
	CHECK_EQ(st, "empty", t == NULL, 1);
	CHECK_EQ(st, "empty", sgkm_pages_alloc_scattered(&empty, 0), -EINVAL);
	CHECK_EQ(st, "empty", sgkm_pages_alloc_vmalloc(&empty, 0), -EINVAL);
	seq_puts(st->m, "ok empty buffer is -EINVAL\n");
}

/* Sum and count a table's DMA view inside an access section. */
static int sgkm_selftest_dma_sum(struct sgkm_sgtable *t, u64 *sum)
{
	struct sgkm_dma_iter it;
	struct sg_table *sgt;
	dma_addr_t addr;
	unsigned int len;
	int n = 0;

	*sum = 0;
	sgt = sgkm_sgtable_dma_access_begin(t);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	sgkm_dma_iter_init(&it, sgt);
	while (sgkm_dma_iter_next(&it, &addr, &len)) {
		*sum += len;
		n++;
	}
	sgkm_sgtable_access_end(t);
	return n;
}

static void sgkm_selftest_owned(struct sgkm_selftest *st, struct device *dev)
{
	const size_t size = 3 * PAGE_SIZE + 100;
	struct sgkm_sgtable *t, view;
	struct sgkm_page_iter pit;
	struct sgkm_pages pages;
	struct sg_table *sgt;
	struct page *page;
	unsigned int off, len;
	u64 sum = 0;
	int n = 0;

	if (sgkm_pages_alloc_scattered(&pages, size) ||
	    sgkm_sgtable_create_owned(dev, &pages, DMA_BIDIRECTIONAL, GFP_KERNEL, NULL, NULL, &t)) {
		sgkm_pages_free(&pages);
		seq_puts(st->m, "FAIL owned: could not create\n");
		st->failed++;
		return;
	}
	CHECK_EQ(st, "owned", pages.npages, 0);		/* ownership moved */
	CHECK_EQ(st, "owned", t->sgt->orig_nents, 4);	/* scattered: one entry per page */
	CHECK_EQ(st, "owned", sgkm_sgtable_state(t), SGKM_SGT_UNMAPPED);
	CHECK_EQ(st, "owned", sgkm_selftest_dma_sum(t, &sum), -ENODATA);
	CHECK_EQ(st, "owned", sgkm_sgtable_unmap(t), -EALREADY);
	sgt = sgkm_sgtable_cpu_access_begin(t);
	CHECK_EQ(st, "owned", IS_ERR(sgt), 0);
	if (!IS_ERR(sgt)) {
		sgkm_page_iter_init(&pit, sgt);
		while (sgkm_page_iter_next(&pit, &page, &off, &len)) {
			sum += len;
			n++;
		}
		sgkm_sgtable_access_end(t);
	}
	CHECK_EQ(st, "owned cpu view", n, 4);
	CHECK_EQ(st, "owned cpu view", sum, size);

	CHECK_EQ(st, "owned", sgkm_sgtable_map(t), 0);
	CHECK_EQ(st, "owned", sgkm_sgtable_state(t), SGKM_SGT_MAPPED_MANAGED);
	CHECK_EQ(st, "owned", sgkm_sgtable_map(t), -EBUSY);
	CHECK_EQ(st, "owned", sgkm_sgtable_map_unmanaged(t), -EBUSY);
	CHECK_EQ(st, "owned", sgkm_selftest_dma_sum(t, &sum), t->sgt->nents);
	CHECK_EQ(st, "owned dma view", sum, size);
	/* free_while_mapped refuses a managed mapping: the devres would unmap a freed sgl */
	CHECK_EQ(st, "owned", sgkm_sgtable_free_while_mapped(t), -EINVAL);

	/* A borrowed view of the mapped table: iteration only. */
	sgkm_sgtable_init_borrowed(&view, t->sgt, dev, DMA_BIDIRECTIONAL, true);
	CHECK_EQ(st, "borrowed", sgkm_sgtable_state(&view), SGKM_SGT_MAPPED_BORROWED);
	CHECK_EQ(st, "borrowed", sgkm_sgtable_map(&view), -EBUSY);
	CHECK_EQ(st, "borrowed", sgkm_sgtable_unmap(&view), -EPERM);
	CHECK_EQ(st, "borrowed", sgkm_selftest_dma_sum(&view, &sum), t->sgt->nents);
	CHECK_EQ(st, "borrowed", sgkm_sgtable_teardown(&view), SGKM_SGT_MAPPED_BORROWED);
	CHECK_EQ(st, "borrowed", sgkm_sgtable_state(&view), SGKM_SGT_DEAD);
	/* ... and tearing the view down left the owner's mapping alone */
	CHECK_EQ(st, "borrowed", sgkm_sgtable_state(t), SGKM_SGT_MAPPED_MANAGED);
	sgkm_sgtable_init_borrowed(&view, t->sgt, dev, DMA_BIDIRECTIONAL, false);
	CHECK_EQ(st, "borrowed", sgkm_sgtable_map(&view), -EPERM);
	sgkm_sgtable_teardown(&view);

	CHECK_EQ(st, "owned", sgkm_sgtable_unmap(t), 0);
	CHECK_EQ(st, "owned", sgkm_sgtable_unmap(t), -EALREADY);
	CHECK_EQ(st, "owned", sgkm_sgtable_map_unmanaged(t), 0);
	CHECK_EQ(st, "owned", sgkm_sgtable_state(t), SGKM_SGT_MAPPED_UNMANAGED);
	/* bad unmaps need a managed mapping */
	{
		struct sgkm_bad_unmap how = { .dev = dev, .dir = DMA_TO_DEVICE,
					      .nents = t->sgt->orig_nents };

		CHECK_EQ(st, "owned", sgkm_sgtable_unmap_bad(t, &how), -EPERM);
	}
	/* teardown unmaps and reports what it found; afterwards everything is -ENOENT */
	CHECK_EQ(st, "owned", sgkm_sgtable_teardown(t), SGKM_SGT_MAPPED_UNMANAGED);
	CHECK_EQ(st, "owned", sgkm_sgtable_teardown(t), SGKM_SGT_DEAD);
	CHECK_EQ(st, "owned", sgkm_sgtable_map(t), -ENOENT);
	CHECK_EQ(st, "owned", sgkm_sgtable_unmap(t), -ENOENT);
	CHECK_EQ(st, "owned", sgkm_selftest_dma_sum(t, &sum), -ENOENT);
	CHECK_EQ(st, "owned", PTR_ERR_OR_ZERO(sgkm_sgtable_cpu_access_begin(t)), -ENOENT);
	sgkm_sgtable_put(t);
	seq_puts(st->m, "ok owned table states, views and borrowed refusals\n");
}

static void sgkm_selftest_bo(struct sgkm_selftest *st, struct device *dev,
			     struct device *other)
{
	struct sg_table *first, *again;
	struct sgkm_pages pages;
	bool created = false;
	struct sgkm_bo *bo;

	if (sgkm_pages_alloc_vmalloc(&pages, 5 * PAGE_SIZE) ||
	    sgkm_bo_create(dev, &pages, DMA_TO_DEVICE, NULL, NULL, &bo)) {
		sgkm_pages_free(&pages);
		seq_puts(st->m, "FAIL bo: could not create\n");
		st->failed++;
		return;
	}
	CHECK_EQ(st, "bo", sgkm_bo_table(bo) == NULL, 1);	/* lazily created */
	if (other)
		CHECK_EQ(st, "bo mismatch", PTR_ERR(sgkm_bo_sg_table_begin(bo, other, &created)),
			 -EINVAL);
	CHECK_EQ(st, "bo", created, false);
	first = sgkm_bo_sg_table_begin(bo, dev, &created);	/* slow path: creates, maps */
	CHECK_EQ(st, "bo", IS_ERR(first), 0);
	CHECK_EQ(st, "bo", created, true);
	if (!IS_ERR(first))
		sgkm_bo_sg_table_end(bo);
	created = false;
	again = sgkm_bo_sg_table_begin(bo, dev, &created);	/* fast path: same table */
	CHECK_EQ(st, "bo", IS_ERR(again), 0);
	CHECK_EQ(st, "bo", created, false);
	CHECK_EQ(st, "bo", again == first, 1);
	if (!IS_ERR(again))
		sgkm_bo_sg_table_end(bo);
	CHECK_EQ(st, "bo", sgkm_sgtable_state(sgkm_bo_table(bo)), SGKM_SGT_MAPPED_MANAGED);
	CHECK_EQ(st, "bo", sgkm_bo_teardown(bo), SGKM_SGT_MAPPED_MANAGED);
	CHECK_EQ(st, "bo", PTR_ERR(sgkm_bo_sg_table_begin(bo, dev, &created)), -ENOENT);
	sgkm_bo_free(bo);
	seq_puts(st->m, "ok buffer object: lazy table, fast path, device mismatch\n");
}

static int sgkm_selftest_show(struct seq_file *m, void *unused)
{
	struct sgkm_selftest st = { .m = m };
	struct sgkm_device *sdev = &sgkm_devices[0];
	struct device *dev = sgkm_dev(sdev);
	struct device *other = sgkm_ndevices > 1 ? sgkm_dev(&sgkm_devices[1]) : NULL;

	device_lock(dev);
	if (!sdev->bound) {
		device_unlock(dev);
		seq_puts(m, "selftest: skip (sgkm.0 is not bound)\n");
		return 0;
	}
	sgkm_selftest_empty(&st, dev);
	sgkm_selftest_owned(&st, dev);
	sgkm_selftest_bo(&st, dev, other);
	device_unlock(dev);
	seq_printf(m, "selftest: %s\n", st.failed ? "FAIL" : "pass");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sgkm_selftest);

/**
 * sgkm_selftest_debugfs() - create /sys/kernel/debug/sgkm/selftest
 * @dir: sgkm's debugfs directory
 */
void sgkm_selftest_debugfs(struct dentry *dir)
{
	debugfs_create_file("selftest", 0400, dir, NULL, &sgkm_selftest_fops);
}
