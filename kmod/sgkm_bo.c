// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_bo.c - GEM-like buffer object with a lazily created sg table (see sgkm_bo.h).
 */
#include <linux/err.h>
#include <linux/slab.h>

#include "sgkm_bo.h"

/**
 * sgkm_bo_create() - make a buffer object; its table is created on first use
 * @dev: the object's device; a reference is held until sgkm_bo_free()
 * @pages: the buffer; ownership moves into the object on success (*@pages is zeroed), stays
 *	with the caller on failure
 * @dir: DMA direction of the future table
 * @hooks: given to the table (see &struct sgkm_sgtable_hooks)
 * @owner: given to the table
 * @out: the object; release with sgkm_bo_teardown() then sgkm_bo_free()
 *
 * Return: 0, -EINVAL (empty buffer), -ENOMEM.
 */
int sgkm_bo_create(struct device *dev, struct sgkm_pages *pages, enum dma_data_direction dir,
		   const struct sgkm_sgtable_hooks *hooks, void *owner, struct sgkm_bo **out)
{
	struct sgkm_bo *bo;

	if (!pages->npages || !pages->size)
		return -EINVAL;
	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return -ENOMEM;
	mutex_init(&bo->sgt_lock);
	bo->dev = get_device(dev);
	bo->dir = dir;
	bo->size = pages->size;
	bo->pages = *pages;
	memset(pages, 0, sizeof(*pages));
	bo->hooks = hooks;
	bo->owner = owner;
	*out = bo;
	return 0;
}

/* Slow path: create and map the table under the lock, unless another caller just did. */
static struct sgkm_sgtable *sgkm_bo_populate(struct sgkm_bo *bo, bool *created)
{
	struct sgkm_sgtable *t;
	int ret;

	mutex_lock(&bo->sgt_lock);
	/* Someone may have populated it while we waited for the lock. */
	t = bo->sgt;
	if (t)
		goto out;
	if (!bo->pages.npages) {
		/* Torn down: the buffer is gone. */
		t = ERR_PTR(-ENOENT);
		goto out;
	}
	ret = sgkm_sgtable_create_owned(bo->dev, &bo->pages, bo->dir, GFP_KERNEL, bo->hooks,
					bo->owner, &t);
	if (ret) {
		t = ERR_PTR(ret);
		goto out;
	}
	ret = sgkm_sgtable_map(t);
	if (ret) {
		/* Give the buffer back to the object so that a later call can retry. */
		mutex_lock(&t->lock);
		bo->pages = t->pages;
		memset(&t->pages, 0, sizeof(t->pages));
		mutex_unlock(&t->lock);
		sgkm_sgtable_teardown(t);
		sgkm_sgtable_put(t);
		t = ERR_PTR(ret);
		goto out;
	}
	*created = true;
	/*
	 * Publish only a fully built and mapped table: pairs with the smp_load_acquire() of the
	 * fast path. Only this path, serialized by sgt_lock, ever writes bo->sgt, so the store
	 * cannot race another populate.
	 */
	smp_store_release(&bo->sgt, t);
out:
	mutex_unlock(&bo->sgt_lock);
	return t;
}

/**
 * sgkm_bo_sg_table_begin() - the object's mapped table, created on first use
 * @bo: the object
 * @dev: the caller's device; must be the object's (the GEM rule)
 * @created: set to true when this call created and mapped the table (else left alone)
 *
 * Fast path: the table is published, no lock. Slow path: create and map it under
 * @bo->sgt_lock. Either way the result is returned inside the table's DMA access section, so
 * an unbind cannot revoke it while the caller uses it; end with sgkm_bo_sg_table_end().
 * The caller may wrap the result in a borrowed view (sgkm_sgtable_init_borrowed()); it must
 * not keep it past the end of the section.
 *
 * Context: creating the table maps it as a devres: device_lock(@dev) held, device bound.
 * Return: the mapped sg_table; ERR_PTR(-EINVAL) for another device, -ENXIO once an unbind
 * revoked the mapping, -ENOENT after teardown, or the creation/mapping error.
 */
struct sg_table *sgkm_bo_sg_table_begin(struct sgkm_bo *bo, struct device *dev, bool *created)
{
	struct sgkm_sgtable *t;

	if (dev != bo->dev)
		return ERR_PTR(-EINVAL);
	/* Fast path: already populated. Pairs with the smp_store_release() in populate. */
	t = smp_load_acquire(&bo->sgt);
	if (!t) {
		t = sgkm_bo_populate(bo, created);
		if (IS_ERR(t))
			return ERR_CAST(t);
	}
	return sgkm_sgtable_dma_access_begin(t);
}

/**
 * sgkm_bo_sg_table_end() - end the section of a successful sgkm_bo_sg_table_begin()
 * @bo: the object
 */
void sgkm_bo_sg_table_end(struct sgkm_bo *bo)
{
	sgkm_sgtable_access_end(smp_load_acquire(&bo->sgt));
}

/**
 * sgkm_bo_table() - the object's table if it has been created
 * @bo: the object
 *
 * Return: the table or NULL. It is owned by @bo and valid until sgkm_bo_free(); use only its
 * locked accessors (it may be revoked or torn down at any time).
 */
struct sgkm_sgtable *sgkm_bo_table(struct sgkm_bo *bo)
{
	return smp_load_acquire(&bo->sgt);
}

/**
 * sgkm_bo_teardown() - release the table and the buffer
 * @bo: the object
 *
 * Unmaps the table if it is still mapped, frees it and the buffer. The struct (and the table
 * struct) stay until sgkm_bo_free(), so concurrent readers of the fast path see a torn-down
 * table (-ENOENT), never freed memory.
 *
 * Return: the state the object's table was in (UNMAPPED if it had none), as
 * sgkm_sgtable_teardown().
 */
enum sgkm_sgt_state sgkm_bo_teardown(struct sgkm_bo *bo)
{
	enum sgkm_sgt_state was = SGKM_SGT_UNMAPPED;

	mutex_lock(&bo->sgt_lock);
	if (bo->sgt)
		was = sgkm_sgtable_teardown(bo->sgt);
	sgkm_pages_free(&bo->pages);
	mutex_unlock(&bo->sgt_lock);
	return was;
}

/**
 * sgkm_bo_free() - free the object
 * @bo: torn down with sgkm_bo_teardown(), and no user left
 */
void sgkm_bo_free(struct sgkm_bo *bo)
{
	if (bo->sgt)
		sgkm_sgtable_put(bo->sgt);
	put_device(bo->dev);
	mutex_destroy(&bo->sgt_lock);
	kfree(bo);
}
