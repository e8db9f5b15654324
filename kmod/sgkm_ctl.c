// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_ctl.c - /dev/sgkm: tables as ids of an open file, and the ioctls on them.
 *
 * Lifetime of a struct sgkm_table: the file's xarray holds one reference, each ioctl that
 * looked it up holds one while it runs. Create gives its reference to the xarray when it
 * publishes the id and touches the table no more: another thread of the file may destroy it
 * at once. Destroy (or close) erases the id first, so no new lookup finds it, then tears it
 * down under device_lock and marks it dead; ioctls still holding a reference see it dead
 * (-ENOENT) and the struct goes with the last reference.
 * Tables that a fault leaks on purpose are parked on a module-wide list instead and torn down
 * when the module is unloaded.
 *
 * Every map, unmap and destroy runs under device_lock of the table's device, which the driver
 * core also holds across a whole bind and unbind: a table op sees the device either bound or
 * unbound, never in between, and remove() can mark unmanaged mappings without racing them.
 * Verify only takes the table's own lock (through the sg-table API's access sections).
 */
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "sgkm.h"

/* Largest argsz accepted (the structs are far smaller; bigger is surely garbage). */
#define SGKM_MAX_ARGSZ		PAGE_SIZE
/* Segments verify copies out at most per call (16 MiB of kernel buffer). */
#define SGKM_VERIFY_MAX_SEGMENTS (1u << 20)

struct sgkm_file {
	struct xarray tables;
};

static LIST_HEAD(sgkm_leaked);
static DEFINE_MUTEX(sgkm_leaked_lock);

static const enum dma_data_direction sgkm_dma_dir[SGKM_DIR_NR] = {
	[SGKM_DIR_TO_DEVICE] = DMA_TO_DEVICE,
	[SGKM_DIR_FROM_DEVICE] = DMA_FROM_DEVICE,
	[SGKM_DIR_BIDIRECTIONAL] = DMA_BIDIRECTIONAL,
};

/*
 * Called by the devres release of an owned table (or of a buffer object's table) when an
 * unbind unmaps it, with that table's lock and the device lock held.
 */
static void sgkm_table_revoked(struct sgkm_sgtable *sgt, void *owner)
{
	struct sgkm_table *t = owner;

	sgkm_stat_mapping_end(t->sdev, t->size, SGKM_END_REVOKED, false);
}

/* dma_map_sgtable() failed for the table (or its buffer object): sgtrace's map_failed. */
static void sgkm_table_map_failed(struct sgkm_sgtable *sgt, void *owner, int err)
{
	struct sgkm_table *t = owner;

	sgkm_stat_map_failed(t->sdev);
}

const struct sgkm_sgtable_hooks sgkm_table_hooks = {
	.revoked = sgkm_table_revoked,
	.map_failed = sgkm_table_map_failed,
};

static void sgkm_table_free(struct kref *ref)
{
	struct sgkm_table *t = container_of(ref, struct sgkm_table, ref);

	if (t->sgt)
		sgkm_sgtable_put(t->sgt);
	if (t->bo)
		sgkm_bo_free(t->bo);
	sgkm_pinned_release(t->pinned);
	kfree(t);
}

static void sgkm_table_put(struct sgkm_table *t)
{
	kref_put(&t->ref, sgkm_table_free);
}

static struct sgkm_table *sgkm_table_get(struct sgkm_file *f, u32 id)
{
	struct sgkm_table *t;

	xa_lock(&f->tables);
	t = xa_load(&f->tables, id);
	if (t)
		kref_get(&t->ref);
	xa_unlock(&f->tables);
	return t;
}

/* Leave the unmanaged list (the mapping ended or got its finding). Under device_lock. */
static void sgkm_table_forget_unmanaged(struct sgkm_table *t)
{
	if (!list_empty(&t->unmanaged_link))
		list_del_init(&t->unmanaged_link);
}

/* Book the end of the mapping a table had when it was unmapped in state @was. */
static void sgkm_table_book_unmap(struct sgkm_table *t, enum sgkm_sgt_state was)
{
	switch (was) {
	case SGKM_SGT_MAPPED_MANAGED:
		sgkm_stat_mapping_end(t->sdev, t->size, SGKM_END_CLEAN, false);
		break;
	case SGKM_SGT_MAPPED_UNMANAGED:
		sgkm_stat_mapping_end(t->sdev, t->size, SGKM_END_CLEAN, t->unbound_since_map);
		break;
	case SGKM_SGT_FREED_MAPPED:
		/* Its finding was booked at the free; teardown unmaps from the record. */
		sgkm_stat_mapping_end(t->sdev, t->size, SGKM_END_FREED_UNMAP, false);
		break;
	default:
		break;
	}
}

/* leak_table: unmap correctly and book it, but keep the sg_table. Under device_lock. */
static void sgkm_table_unmap_keep_sg(struct sgkm_table *t)
{
	enum sgkm_sgt_state state = sgkm_sgtable_state(t->sgt);

	if ((state == SGKM_SGT_MAPPED_MANAGED || state == SGKM_SGT_MAPPED_UNMANAGED) &&
	    !sgkm_sgtable_unmap(t->sgt))
		sgkm_table_book_unmap(t, state);
	sgkm_table_forget_unmanaged(t);
}

/*
 * Tear the table down for good and book it. The sg-table API reports the state it found, so
 * the booking matches what the teardown did even when an unbind revoked the mapping just
 * before. Under device_lock (except in the destroy_without_device_lock test mode, for tables
 * that are never on the unmanaged list).
 */
static void sgkm_table_teardown(struct sgkm_table *t)
{
	if (t->sgt)
		sgkm_table_book_unmap(t, sgkm_sgtable_teardown(t->sgt));
	if (t->bo)
		sgkm_table_book_unmap(t, sgkm_bo_teardown(t->bo));
	sgkm_table_forget_unmanaged(t);
	sgkm_stat_table_destroyed(t->sdev, t->pinned);
}

/* Park a table on the leaked list until unload; it keeps its reference. Under device_lock. */
static void sgkm_table_park(struct sgkm_table *t)
{
	kref_get(&t->ref);
	mutex_lock(&sgkm_leaked_lock);
	list_add_tail(&t->leaked_link, &sgkm_leaked);
	mutex_unlock(&sgkm_leaked_lock);
	sgkm_stat_leaked(t->sdev, 1);
}

static bool destroy_without_device_lock;
module_param(destroy_without_device_lock, bool, 0644);
MODULE_PARM_DESC(destroy_without_device_lock,
		 "testing: destroy owned tables without fault and without device_lock, so their teardown races the unbind's devres release inside the sg-table API (default N)");

static unsigned int max_table_ids = INT_MAX;
module_param(max_table_ids, uint, 0644);
MODULE_PARM_DESC(max_table_ids,
		 "testing: ids of one open file range over 1..max_table_ids (1..2^31-1; default 2^31-1), so that a create can be refused for want of an id (ENOSPC)");

/* The largest id a file may hand out now; writable at run time, so read once per create. */
static u32 sgkm_max_table_ids(void)
{
	return clamp_t(u32, READ_ONCE(max_table_ids), 1, INT_MAX);
}

module_param_named(revoke_delay_us, sgkm_sgtable_revoke_delay_us, uint, 0644);
MODULE_PARM_DESC(revoke_delay_us,
		 "testing: the unbind's devres release of each mapping sleeps this long first, widening the window destroy_without_device_lock races into (default 0)");

/*
 * The test mode of destroy_without_device_lock: only tables whose mapping, if any, is managed
 * (no unmanaged-map fault, no parking), so the ground truth stays exact: whichever of teardown
 * and revoke unmaps, the other finds nothing to do, and both are clean for the tracer.
 */
static bool sgkm_table_destroy_unlocked(struct sgkm_table *t)
{
	if (!READ_ONCE(destroy_without_device_lock) || !t->sgt ||
	    sgkm_fault_maps_unmanaged(t->fault) || t->fault == SGKM_FAULT_LEAK_TABLE)
		return false;
	WRITE_ONCE(t->dead, true);
	sgkm_table_teardown(t);
	return true;
}

/*
 * Destroy as the user asked (ioctl or close): the table becomes unreachable. The faults that
 * leak on purpose park it instead of freeing it. The caller's reference stays the caller's.
 */
static void sgkm_table_destroy(struct sgkm_table *t)
{
	struct device *dev = sgkm_dev(t->sdev);
	enum sgkm_sgt_state state;

	if (sgkm_table_destroy_unlocked(t))
		return;
	device_lock(dev);
	if (t->dead)
		goto out;
	t->dead = true;
	if (t->sgt) {
		state = sgkm_sgtable_state(t->sgt);
		if (t->fault == SGKM_FAULT_LEAK_MAPPING && state == SGKM_SGT_MAPPED_UNMANAGED) {
			/* The driver "forgot" the mapping: it stays live, on the unmanaged list. */
			sgkm_table_park(t);
			goto out;
		}
		if (t->fault == SGKM_FAULT_FREE_WHILE_MAPPED && state == SGKM_SGT_FREED_MAPPED) {
			/* The pages must outlive the mapping, which nobody unmaps before unload. */
			sgkm_table_park(t);
			goto out;
		}
		if (t->fault == SGKM_FAULT_LEAK_TABLE) {
			/* The mapping is released correctly; sg_free_table() is "forgotten". */
			sgkm_table_unmap_keep_sg(t);
			t->fault_injected = true;
			sgkm_stat_injected(t->sdev, t->fault);
			sgkm_table_park(t);
			goto out;
		}
	}
	sgkm_table_teardown(t);
out:
	device_unlock(dev);
}

/*
 * Free a table that create built but could not publish (no id left): nobody saw it, so no
 * fault was performed and none may be counted, unlike a destroy, which would park a
 * leak_table table and count its fault. Unmapped and unreachable, it races with nothing;
 * device_lock is taken because teardown's bookkeeping expects it.
 */
static void sgkm_table_discard(struct sgkm_table *t)
{
	struct device *dev = sgkm_dev(t->sdev);

	device_lock(dev);
	t->dead = true;
	sgkm_table_teardown(t);
	device_unlock(dev);
	sgkm_table_put(t);
}

/**
 * sgkm_leaked_release_all() - tear down every parked table (module unload)
 *
 * Context: the control device is gone and the devices are still registered (bound or not:
 * an unmanaged mapping may have outlived an unbind), so every mapping is unmapped while its
 * device exists.
 */
void sgkm_leaked_release_all(void)
{
	struct sgkm_table *t, *tmp;
	LIST_HEAD(list);

	mutex_lock(&sgkm_leaked_lock);
	list_splice_init(&sgkm_leaked, &list);
	mutex_unlock(&sgkm_leaked_lock);
	list_for_each_entry_safe(t, tmp, &list, leaked_link) {
		struct device *dev = sgkm_dev(t->sdev);

		list_del_init(&t->leaked_link);
		device_lock(dev);
		sgkm_table_teardown(t);
		device_unlock(dev);
		sgkm_stat_leaked(t->sdev, -1);
		sgkm_table_put(t);
	}
}

/*
 * Copy an ioctl argument in (the VFIO convention): argsz first, at least @minsz, at most
 * SGKM_MAX_ARGSZ; bytes beyond what this module knows must be zero (copy_struct_from_user()
 * returns -E2BIG otherwise).
 */
static int sgkm_arg_in(void *karg, size_t ksize, size_t minsz, void __user *uarg, u32 *argsz)
{
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < minsz)
		return -EINVAL;
	if (usize > SGKM_MAX_ARGSZ)
		return -E2BIG;
	ret = copy_struct_from_user(karg, ksize, uarg, usize);
	if (ret)
		return ret;
	*argsz = usize;
	return 0;
}

static int sgkm_arg_out(void __user *uarg, const void *karg, size_t ksize, u32 argsz)
{
	if (copy_to_user(uarg, karg, min_t(size_t, ksize, argsz)))
		return -EFAULT;
	return 0;
}

static bool sgkm_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static int sgkm_ioctl_create(struct sgkm_file *f, void __user *uarg)
{
	struct sgkm_create a;
	struct sgkm_table *t;
	struct sgkm_device *sdev;
	struct sgkm_pages pages;
	struct device *dev;
	u32 argsz, id;
	int ret;

	ret = sgkm_arg_in(&a, sizeof(a), sizeof(a), uarg, &argsz);
	if (ret)
		return ret;
	if (a.flags || !sgkm_zero(a.reserved, sizeof(a.reserved)) ||
	    a.layout >= SGKM_LAYOUT_NR || a.dir >= SGKM_DIR_NR ||
	    a.ownership >= SGKM_OWNERSHIP_NR || a.fault >= SGKM_FAULT_NR ||
	    (a.ownership == SGKM_BORROWED && a.fault != SGKM_FAULT_NONE))
		return -EINVAL;
	if (a.device >= sgkm_ndevices)
		return -ENODEV;
	if (!a.size)
		return -EINVAL;
	if (a.size > sgkm_max_table_bytes)
		return -E2BIG;
	sdev = &sgkm_devices[a.device];
	dev = sgkm_dev(sdev);

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	kref_init(&t->ref);
	INIT_LIST_HEAD(&t->unmanaged_link);
	INIT_LIST_HEAD(&t->leaked_link);
	t->sdev = sdev;
	t->layout = a.layout;
	t->uapi_dir = a.dir;
	t->dir = sgkm_dma_dir[a.dir];
	t->ownership = a.ownership;
	t->fault = a.fault;
	t->size = a.size;
	ret = sgkm_pinned_reserve(PAGE_ALIGN(a.size));
	if (ret) {
		kfree(t);
		return ret;
	}
	t->pinned = PAGE_ALIGN(a.size);

	/* The buffer is allocated outside device_lock: it may take a while. */
	if (a.layout == SGKM_LAYOUT_CONTIGUOUS)
		ret = sgkm_pages_alloc_vmalloc(&pages, a.size);
	else
		ret = sgkm_pages_alloc_scattered(&pages, a.size);
	if (ret)
		goto err_table;

	device_lock(dev);
	if (!sdev->bound) {
		ret = -ENODEV;
	} else if (a.ownership == SGKM_OWNED) {
		ret = sgkm_sgtable_create_owned(dev, &pages, t->dir, GFP_KERNEL, &sgkm_table_hooks,
						t, &t->sgt);
		if (!ret) {
			t->orig_nents = t->sgt->sgt->orig_nents;
			ret = sgkm_fault_check_create(t->fault, sdev, t->orig_nents);
			if (ret) {
				sgkm_sgtable_teardown(t->sgt);
				sgkm_sgtable_put(t->sgt);
				t->sgt = NULL;
			}
		}
	} else {
		ret = sgkm_bo_create(dev, &pages, t->dir, &sgkm_table_hooks, t, &t->bo);
	}
	device_unlock(dev);
	sgkm_pages_free(&pages);	/* what was not moved into the table */
	if (ret)
		goto err_table;

	/*
	 * The reply is filled before the id is published: from xa_alloc() on, another thread of
	 * this file can destroy the id (the lowest free one, easy to guess) and the table can be
	 * freed, so nothing below may touch @t.
	 */
	a.orig_nents = t->orig_nents;
	a.max_segment = t->sgt ? t->sgt->max_segment : sgkm_max_segment(dev);
	sgkm_stat_table_created(sdev, t->pinned);
	ret = xa_alloc(&f->tables, &id, t, XA_LIMIT(1, sgkm_max_table_ids()), GFP_KERNEL);
	if (ret) {
		sgkm_table_discard(t);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	a.id = id;
	ret = sgkm_arg_out(uarg, &a, sizeof(a), argsz);
	/* On -EFAULT the table stays: the caller can find nothing to destroy; close will. */
	return ret;

err_table:
	sgkm_pinned_release(t->pinned);
	kfree(t);
	return ret;
}

/* The state a borrowed table reports: its view, or what happened to the object's mapping. */
static u32 sgkm_borrowed_state(struct sgkm_table *t)
{
	struct sgkm_sgtable *sgt = sgkm_bo_table(t->bo);
	enum sgkm_sgt_state state = sgt ? sgkm_sgtable_state(sgt) : SGKM_SGT_UNMAPPED;

	if (state == SGKM_SGT_REVOKED)
		return SGKM_STATE_REVOKED;
	return t->borrow_held ? SGKM_STATE_MAPPED_BORROWED : SGKM_STATE_UNMAPPED;
}

static int sgkm_map_borrowed(struct sgkm_table *t, struct device *dev, u32 *nents)
{
	struct sgkm_sgtable view;
	struct sg_table *sgt;
	bool created = false;

	/* A revoked object stays revoked (like Devres), whether or not the view is held. */
	if (sgkm_borrowed_state(t) == SGKM_STATE_REVOKED)
		return -ENXIO;
	if (t->borrow_held)
		return -EBUSY;
	sgt = sgkm_bo_sg_table_begin(t->bo, dev, &created);
	if (created)
		sgkm_stat_mapped(t->sdev, t->size);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	/* A borrowed view, valid inside the object's access section only. */
	sgkm_sgtable_init_borrowed(&view, sgt, dev, t->dir, true);
	t->orig_nents = view.sgt->orig_nents;
	*nents = view.sgt->nents;
	sgkm_bo_sg_table_end(t->bo);
	t->borrow_held = true;
	return 0;
}

static int sgkm_ioctl_map(struct sgkm_file *f, void __user *uarg)
{
	struct sgkm_map a;
	struct sgkm_table *t;
	struct sgkm_device *sdev;
	struct device *dev, *caller_dev;
	u32 argsz;
	int ret;

	ret = sgkm_arg_in(&a, sizeof(a), sizeof(a), uarg, &argsz);
	if (ret)
		return ret;
	if ((a.flags & ~SGKM_MAP_F_DEVICE) || !sgkm_zero(a.reserved, sizeof(a.reserved)))
		return -EINVAL;
	if ((a.flags & SGKM_MAP_F_DEVICE) && a.device >= sgkm_ndevices)
		return -ENODEV;
	t = sgkm_table_get(f, a.id);
	if (!t)
		return -ENOENT;
	sdev = t->sdev;
	dev = sgkm_dev(sdev);
	caller_dev = (a.flags & SGKM_MAP_F_DEVICE) ? sgkm_dev(&sgkm_devices[a.device]) : dev;

	device_lock(dev);
	if (t->dead) {
		ret = -ENOENT;
	} else if (caller_dev != dev) {
		/* The GEM rule: a table is only handed out for its own device. */
		ret = -EINVAL;
	} else if (!sdev->bound) {
		ret = -ENODEV;
	} else if (t->bo) {
		ret = sgkm_map_borrowed(t, dev, &a.nents);
		if (!ret)
			a.state = SGKM_STATE_MAPPED_BORROWED;
	} else {
		if (sgkm_fault_maps_unmanaged(t->fault) && !t->fault_injected) {
			ret = sgkm_fault_map(t);
		} else {
			ret = sgkm_sgtable_map(t->sgt);
			if (!ret)
				sgkm_stat_mapped(sdev, t->size);
		}
		if (!ret) {
			a.nents = t->sgt->mapped_nents;
			a.state = sgkm_sgtable_state(t->sgt);
		}
	}
	device_unlock(dev);
	sgkm_table_put(t);
	if (ret)
		return ret;
	return sgkm_arg_out(uarg, &a, sizeof(a), argsz);
}

static int sgkm_unmap_owned(struct sgkm_table *t)
{
	enum sgkm_sgt_state state;
	int ret;

	if (sgkm_fault_unmaps_badly(t->fault) && !t->fault_injected)
		return sgkm_fault_unmap(t);
	state = sgkm_sgtable_state(t->sgt);
	if (t->fault == SGKM_FAULT_LEAK_MAPPING && state == SGKM_SGT_MAPPED_UNMANAGED)
		return 0;	/* the injected bug: the driver never unmaps */
	ret = sgkm_sgtable_unmap(t->sgt);
	if (ret)
		return ret;
	sgkm_stat_mapping_end(t->sdev, t->size, SGKM_END_CLEAN,
			      state == SGKM_SGT_MAPPED_UNMANAGED && t->unbound_since_map);
	sgkm_table_forget_unmanaged(t);
	return 0;
}

/* Copies in the argument of SGKM_IOC_UNMAP/DESTROY; neither defines flags yet. */
static int sgkm_table_op_in(struct sgkm_table_op *a, void __user *uarg, u32 *argsz)
{
	int ret = sgkm_arg_in(a, sizeof(*a), sizeof(*a), uarg, argsz);

	if (ret)
		return ret;
	if (a->flags || !sgkm_zero(a->reserved, sizeof(a->reserved)))
		return -EINVAL;
	return 0;
}

static int sgkm_ioctl_unmap(struct sgkm_file *f, void __user *uarg)
{
	struct sgkm_table_op a;
	struct sgkm_table *t;
	struct device *dev;
	u32 argsz;
	int ret;

	ret = sgkm_table_op_in(&a, uarg, &argsz);
	if (ret)
		return ret;
	t = sgkm_table_get(f, a.id);
	if (!t)
		return -ENOENT;
	dev = sgkm_dev(t->sdev);

	device_lock(dev);
	if (t->dead) {
		ret = -ENOENT;
	} else if (t->bo) {
		/*
		 * Unmapping a borrowed table gives the view back; the mapping belongs to the
		 * buffer object, which keeps it until it is destroyed or the device unbound.
		 */
		if (!t->borrow_held) {
			ret = -EALREADY;
		} else {
			ret = sgkm_borrowed_state(t) == SGKM_STATE_REVOKED ? -ENXIO : 0;
			t->borrow_held = false;
		}
		a.state = sgkm_borrowed_state(t);
	} else {
		ret = sgkm_unmap_owned(t);
		a.state = sgkm_sgtable_state(t->sgt);
	}
	device_unlock(dev);
	sgkm_table_put(t);
	if (ret)
		return ret;
	return sgkm_arg_out(uarg, &a, sizeof(a), argsz);
}

static int sgkm_ioctl_destroy(struct sgkm_file *f, void __user *uarg)
{
	struct sgkm_table_op a;
	struct sgkm_table *t;
	u32 argsz;
	int ret;

	ret = sgkm_table_op_in(&a, uarg, &argsz);
	if (ret)
		return ret;
	if (!a.id)
		return -ENOENT;
	t = xa_erase(&f->tables, a.id);
	if (!t)
		return -ENOENT;
	sgkm_table_destroy(t);
	sgkm_table_put(t);
	a.state = SGKM_STATE_UNMAPPED;
	return sgkm_arg_out(uarg, &a, sizeof(a), argsz);
}

/* Fill @segs (up to @max) from a view and sum it up. Returns the entry count. */
static u32 sgkm_walk_dma(struct sg_table *sgt, struct sgkm_segment *segs, u32 max,
			 u64 *total, u32 *longest)
{
	struct sgkm_dma_iter it;
	dma_addr_t addr;
	unsigned int len;
	u32 n = 0;

	sgkm_dma_iter_init(&it, sgt);
	while (sgkm_dma_iter_next(&it, &addr, &len)) {
		if (n < max) {
			segs[n].addr = addr;
			segs[n].len = len;
		}
		*total += len;
		*longest = max_t(u32, *longest, len);
		n++;
	}
	return n;
}

static u32 sgkm_walk_cpu(struct sg_table *sgt, struct sgkm_segment *segs, u32 max,
			 u64 *total, u32 *longest)
{
	struct sgkm_page_iter it;
	struct page *page;
	unsigned int offset, len;
	u32 n = 0;

	sgkm_page_iter_init(&it, sgt);
	while (sgkm_page_iter_next(&it, &page, &offset, &len)) {
		if (n < max) {
			segs[n].addr = page_to_phys(page) + offset;
			segs[n].len = len;
		}
		*total += len;
		*longest = max_t(u32, *longest, len);
		n++;
	}
	return n;
}

/* Walk the view asked for, inside the right access section. */
static int sgkm_verify_walk(struct sgkm_table *t, struct sgkm_verify *a,
			    struct sgkm_segment *segs, u32 max, u32 *longest)
{
	bool cpu = a->flags & SGKM_VERIFY_F_CPU;
	struct sgkm_sgtable *sgt = t->sgt;
	struct sgkm_sgtable view;
	struct sg_table *table;
	bool created = false;

	if (t->bo) {
		sgt = sgkm_bo_table(t->bo);
		if (!cpu) {
			if (!t->borrow_held || !sgt)
				return -ENODATA;
			/* Never creates here: borrow_held means the object has its table. */
			table = sgkm_bo_sg_table_begin(t->bo, t->bo->dev, &created);
			if (IS_ERR(table))
				return PTR_ERR(table);
			sgkm_sgtable_init_borrowed(&view, table, t->bo->dev, t->dir, true);
			table = sgkm_sgtable_dma_access_begin(&view);
			a->nsegments = sgkm_walk_dma(table, segs, max, &a->total_len, longest);
			a->nents = table->nents;
			a->orig_nents = table->orig_nents;
			a->max_segment = view.max_segment;
			sgkm_sgtable_access_end(&view);
			sgkm_sgtable_teardown(&view);	/* a view: only becomes DEAD */
			sgkm_bo_sg_table_end(t->bo);
			return 0;
		}
		if (!sgt)
			return -ENODATA;
	}
	table = cpu ? sgkm_sgtable_cpu_access_begin(sgt) : sgkm_sgtable_dma_access_begin(sgt);
	if (IS_ERR(table))
		return PTR_ERR(table);
	if (cpu)
		a->nsegments = sgkm_walk_cpu(table, segs, max, &a->total_len, longest);
	else
		a->nsegments = sgkm_walk_dma(table, segs, max, &a->total_len, longest);
	a->orig_nents = table->orig_nents;
	a->nents = sgt->state == SGKM_SGT_UNMAPPED || sgt->state == SGKM_SGT_REVOKED ?
		   0 : table->nents;
	a->max_segment = sgt->max_segment;
	sgkm_sgtable_access_end(sgt);
	return 0;
}

static int sgkm_ioctl_verify(struct sgkm_file *f, void __user *uarg)
{
	struct sgkm_segment *segs = NULL;
	struct sgkm_verify a;
	struct sgkm_table *t;
	u32 argsz, max, longest = 0;
	int ret;

	ret = sgkm_arg_in(&a, sizeof(a), sizeof(a), uarg, &argsz);
	if (ret)
		return ret;
	if ((a.flags & ~(SGKM_VERIFY_F_CPU | SGKM_VERIFY_F_INFO)) ||
	    !sgkm_zero(a.reserved, sizeof(a.reserved)))
		return -EINVAL;
	if (a.max_segments && !a.segments)
		return -EFAULT;
	t = sgkm_table_get(f, a.id);
	if (!t)
		return -ENOENT;
	/* No view has more entries than the CPU view: no need for a bigger kernel buffer. */
	max = min3(a.max_segments, SGKM_VERIFY_MAX_SEGMENTS,
		   max_t(u32, READ_ONCE(t->orig_nents), 1));
	if (max) {
		segs = kvmalloc_array(max, sizeof(*segs), GFP_KERNEL | __GFP_NOWARN);
		if (!segs) {
			ret = -ENOMEM;
			goto out;
		}
	}
	a.nsegments = 0;
	a.total_len = 0;
	a.nents = 0;
	a.orig_nents = t->orig_nents;
	a.max_segment = t->sgt ? t->sgt->max_segment : 0;
	if (!(a.flags & SGKM_VERIFY_F_INFO))
		ret = sgkm_verify_walk(t, &a, segs, max, &longest);
	a.ownership = t->ownership;
	a.device = t->sdev->index;
	a.dir = t->uapi_dir;
	a.fault = t->fault;
	a.size = t->size;
	a.state = t->bo ? sgkm_borrowed_state(t) : sgkm_sgtable_state(t->sgt);
	a.table_flags = (READ_ONCE(t->unbound_since_map) ? SGKM_TABLE_F_UNBOUND_SINCE_MAP : 0) |
			(READ_ONCE(t->fault_injected) ? SGKM_TABLE_F_FAULT_INJECTED : 0);
	if (READ_ONCE(t->dead) && !ret)
		ret = -ENOENT;
	if (ret)
		goto out;
	/* The check verify exists for: the view covers exactly the buffer, within the limit. */
	if (!(a.flags & SGKM_VERIFY_F_INFO) && (a.total_len != a.size || longest > a.max_segment)) {
		pr_err("sgkm: table %u: view of %u entries sums to %llu bytes (size %llu), longest %u (limit %u)\n",
		       a.id, a.nsegments, a.total_len, a.size, longest, a.max_segment);
		ret = -EIO;
	}
	if (max && copy_to_user(u64_to_user_ptr(a.segments), segs,
				(size_t)min(max, a.nsegments) * sizeof(*segs)))
		ret = -EFAULT;
	if (!ret)
		ret = sgkm_arg_out(uarg, &a, sizeof(a), argsz);
out:
	kvfree(segs);
	sgkm_table_put(t);
	return ret;
}

static int sgkm_ioctl_stats(void __user *uarg)
{
	struct sgkm_stats a;
	struct sgkm_device *sdev;
	u32 argsz, i;
	int ret;

	ret = sgkm_arg_in(&a, sizeof(a), sizeof(a), uarg, &argsz);
	if (ret)
		return ret;
	if (a.flags)
		return -EINVAL;
	if (a.device != SGKM_DEVICE_ALL && a.device >= sgkm_ndevices)
		return -ENODEV;
	memset(&a.c, 0, sizeof(a.c));
	a.ndevices = sgkm_ndevices;
	a.version = SGKM_UAPI_VERSION;
	a.max_table_bytes = sgkm_max_table_bytes;
	a.max_pinned_bytes = sgkm_max_pinned_bytes;
	if (a.device == SGKM_DEVICE_ALL) {
		a.bound = 0;
		for (i = 0; i < sgkm_ndevices; i++)
			a.bound += READ_ONCE(sgkm_devices[i].bound);
		a.dma_mask_bits = 0;
		a.max_segment = 0;
		sgkm_stat_read_all(&a.c);
	} else {
		sdev = &sgkm_devices[a.device];
		a.bound = READ_ONCE(sdev->bound);
		a.dma_mask_bits = sdev->dma32 ? 32 : 64;
		a.max_segment = READ_ONCE(sdev->max_segment);
		sgkm_stat_read(sdev, &a.c);
	}
	return sgkm_arg_out(uarg, &a, sizeof(a), argsz);
}

static long sgkm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct sgkm_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case SGKM_IOC_CREATE:
		return sgkm_ioctl_create(f, uarg);
	case SGKM_IOC_MAP:
		return sgkm_ioctl_map(f, uarg);
	case SGKM_IOC_UNMAP:
		return sgkm_ioctl_unmap(f, uarg);
	case SGKM_IOC_DESTROY:
		return sgkm_ioctl_destroy(f, uarg);
	case SGKM_IOC_VERIFY:
		return sgkm_ioctl_verify(f, uarg);
	case SGKM_IOC_STATS:
		return sgkm_ioctl_stats(uarg);
	default:
		return -ENOTTY;
	}
}

static int sgkm_open(struct inode *inode, struct file *file)
{
	struct sgkm_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	xa_init_flags(&f->tables, XA_FLAGS_ALLOC1);
	file->private_data = f;
	return 0;
}

/* Closing destroys what the file still holds; the faults that leak park their tables. */
static int sgkm_release(struct inode *inode, struct file *file)
{
	struct sgkm_file *f = file->private_data;
	struct sgkm_table *t;
	unsigned long id;

	xa_for_each(&f->tables, id, t) {
		xa_erase(&f->tables, id);
		sgkm_table_destroy(t);
		sgkm_table_put(t);
		cond_resched();
	}
	xa_destroy(&f->tables);
	kfree(f);
	return 0;
}

static const struct file_operations sgkm_fops = {
	.owner = THIS_MODULE,
	.open = sgkm_open,
	.release = sgkm_release,
	.unlocked_ioctl = sgkm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice sgkm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "sgkm",
	.fops = &sgkm_fops,
	.mode = 0600,
};

/**
 * sgkm_ctl_init() - register /dev/sgkm (last step of module load)
 *
 * Return: 0 or the misc_register() error.
 */
int sgkm_ctl_init(void)
{
	return misc_register(&sgkm_misc);
}

/**
 * sgkm_ctl_exit() - unregister /dev/sgkm; no file can be open (each holds a module reference)
 */
void sgkm_ctl_exit(void)
{
	misc_deregister(&sgkm_misc);
}
