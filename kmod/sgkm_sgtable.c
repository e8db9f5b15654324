// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_sgtable.c - owned and borrowed scatter-gather tables (see sgkm_sgtable.h).
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "sgkm_sgtable.h"

/*
 * Buffers have the sizes user space asks for: fail quietly (no allocation-failure splat) and
 * without calling the OOM killer, which would rather kill the test than say ENOMEM.
 */
#define SGKM_GFP_BUFFER	(GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)

/* Common start of the allocators: an empty buffer of @size bytes, or -EINVAL. */
static int sgkm_pages_init(struct sgkm_pages *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	if (!size || size > (size_t)UINT_MAX * PAGE_SIZE)
		return -EINVAL;
	p->npages = DIV_ROUND_UP(size, PAGE_SIZE);
	p->size = size;
	return 0;
}

/**
 * sgkm_pages_alloc_vmalloc() - allocate a virtually contiguous buffer
 * @p: filled in on success; the caller owns it (free with sgkm_pages_free())
 * @size: bytes, > 0
 *
 * vmalloc()'s pages are often physically adjacent, so tables built from them have few
 * segments. Allocations fail quietly and never call the OOM killer (SGKM_GFP_BUFFER).
 *
 * Return: 0, -EINVAL for a zero size, -ENOMEM.
 */
int sgkm_pages_alloc_vmalloc(struct sgkm_pages *p, size_t size)
{
	unsigned int i;
	int ret;

	ret = sgkm_pages_init(p, size);
	if (ret)
		return ret;
	p->pages = kvmalloc_array(p->npages, sizeof(*p->pages), SGKM_GFP_BUFFER);
	if (!p->pages)
		return -ENOMEM;
	p->vaddr = __vmalloc((size_t)p->npages * PAGE_SIZE, SGKM_GFP_BUFFER);
	if (!p->vaddr) {
		kvfree(p->pages);
		p->pages = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < p->npages; i++)
		p->pages[i] = vmalloc_to_page(p->vaddr + (size_t)i * PAGE_SIZE);
	return 0;
}

/* Descending page frame numbers: no page is ever followed by the next one up. */
static int sgkm_cmp_pfn_desc(const void *a, const void *b)
{
	unsigned long pa = page_to_pfn(*(struct page * const *)a);
	unsigned long pb = page_to_pfn(*(struct page * const *)b);

	return pa < pb ? 1 : pa > pb ? -1 : 0;
}

/**
 * sgkm_pages_alloc_scattered() - allocate a buffer page by page
 * @p: filled in on success; the caller owns it (free with sgkm_pages_free())
 * @size: bytes, > 0
 *
 * sg_alloc_table_from_pages_segment() merges a page into the previous entry when it is the
 * physically next one. The pages are sorted by descending frame number, so that never
 * happens: the table gets exactly one segment per page (the many-segment case).
 *
 * Return: 0, -EINVAL for a zero size, -ENOMEM, -EINTR on a fatal signal.
 */
int sgkm_pages_alloc_scattered(struct sgkm_pages *p, size_t size)
{
	unsigned int i;
	int ret;

	ret = sgkm_pages_init(p, size);
	if (ret)
		return ret;
	p->pages = kvcalloc(p->npages, sizeof(*p->pages), SGKM_GFP_BUFFER);
	if (!p->pages)
		return -ENOMEM;
	for (i = 0; i < p->npages; i++) {
		struct page *page = alloc_page(SGKM_GFP_BUFFER);

		if (!page || fatal_signal_pending(current)) {
			if (page)
				__free_page(page);
			sgkm_pages_free(p);
			return page ? -EINTR : -ENOMEM;
		}
		p->pages[i] = page;
		cond_resched();
	}
	sort(p->pages, p->npages, sizeof(*p->pages), sgkm_cmp_pfn_desc, NULL);
	return 0;
}

/**
 * sgkm_pages_free() - free a buffer
 * @p: buffer from sgkm_pages_alloc_*(), or one whose ownership has been moved (all zero)
 *
 * Safe on a partly allocated scattered buffer (NULL slots are skipped).
 */
void sgkm_pages_free(struct sgkm_pages *p)
{
	unsigned int i;

	if (p->vaddr) {
		vfree(p->vaddr);
	} else if (p->pages) {
		for (i = 0; i < p->npages; i++)
			if (p->pages[i])
				__free_page(p->pages[i]);
	}
	kvfree(p->pages);
	memset(p, 0, sizeof(*p));
}

/**
 * sgkm_max_segment() - largest segment a table for @dev may have
 * @dev: the device
 *
 * dma_max_mapping_size() returns a size_t (0: no limit), sg_alloc_table_from_pages_segment()
 * takes an unsigned int: 0 becomes UINT_MAX and larger values are clamped to UINT_MAX. With a
 * device whose mask needs bouncing, swiotlb limits this to its slot size (256 KiB), which is
 * why the limit must come from the device and not be UINT_MAX always.
 *
 * Return: the limit in bytes.
 */
unsigned int sgkm_max_segment(struct device *dev)
{
	size_t max = dma_max_mapping_size(dev);

	if (!max || max > UINT_MAX)
		return UINT_MAX;
	return max;
}

/**
 * sgkm_sgtable_create_owned() - build an unmapped table that owns its buffer
 * @dev: device the table is for; the table holds a reference to it
 * @pages: the buffer. On success its ownership moves into the table and *@pages is zeroed;
 *	on failure the caller still owns it.
 * @dir: DMA direction used when the table is mapped
 * @gfp: allocation flags for the sg_table
 * @hooks: callbacks, may be NULL; must outlive the table
 * @owner: passed to @hooks
 * @out: the new table, holding one reference (the caller's): sgkm_sgtable_teardown() then
 *	sgkm_sgtable_put() when done
 *
 * An empty buffer is refused: sg_alloc_table_from_pages_segment() dereferences the first page
 * unconditionally (the NULL dereference the Rust patch guards against).
 *
 * Return: 0, -EINVAL (empty buffer), -ENOMEM.
 */
int sgkm_sgtable_create_owned(struct device *dev, struct sgkm_pages *pages,
			      enum dma_data_direction dir, gfp_t gfp,
			      const struct sgkm_sgtable_hooks *hooks, void *owner,
			      struct sgkm_sgtable **out)
{
	struct sgkm_sgtable *t;
	int ret;

	if (!pages->npages || !pages->size || !pages->pages)
		return -EINVAL;
	t = kzalloc(sizeof(*t), gfp);
	if (!t)
		return -ENOMEM;
	mutex_init(&t->lock);
	kref_init(&t->ref);
	t->owned = true;
	t->dev = dev;
	t->dir = dir;
	t->hooks = hooks;
	t->owner = owner;
	t->max_segment = sgkm_max_segment(dev);
	ret = sg_alloc_table_from_pages_segment(&t->own_sgt, pages->pages, pages->npages, 0,
						pages->size, t->max_segment, gfp);
	if (ret) {
		kfree(t);
		return ret;
	}
	t->sgt = &t->own_sgt;
	t->pages = *pages;
	memset(pages, 0, sizeof(*pages));
	get_device(dev);
	t->state = SGKM_SGT_UNMAPPED;
	*out = t;
	return 0;
}

/**
 * sgkm_sgtable_init_borrowed() - wrap a sg_table owned by someone else
 * @t: storage for the view (usually on the stack); needs no teardown or put
 * @sgt: the borrowed table
 * @dev: the device @sgt is mapped for (no reference is taken)
 * @dir: its DMA direction
 * @mapped: @sgt is DMA-mapped for @dev (MAPPED_BORROWED), else UNMAPPED
 *
 * Contract (Rust's "unsafe fn from_raw"): the caller guarantees that @sgt stays valid, and
 * mapped when @mapped, and is not modified, for as long as @t is used. In sgkm the caller
 * holds the owning table's access section (sgkm_sgtable_dma_access_begin()) around the whole
 * use of @t. The view never maps, unmaps or frees @sgt.
 */
void sgkm_sgtable_init_borrowed(struct sgkm_sgtable *t, struct sg_table *sgt,
				struct device *dev, enum dma_data_direction dir, bool mapped)
{
	memset(t, 0, sizeof(*t));
	mutex_init(&t->lock);
	kref_init(&t->ref);
	t->owned = false;
	t->sgt = sgt;
	t->dev = dev;
	t->dir = dir;
	t->max_segment = sgkm_max_segment(dev);
	t->mapped_nents = mapped ? sgt->nents : 0;
	t->state = mapped ? SGKM_SGT_MAPPED_BORROWED : SGKM_SGT_UNMAPPED;
}

/*
 * How often an unmap or teardown found its devres entry already dequeued by an unbind whose
 * release had not run yet: the race the reference count and t->lock make safe. Reported in
 * debugfs so that a test can show the race really happened.
 */
atomic64_t sgkm_sgtable_devres_races = ATOMIC64_INIT(0);

/*
 * Testing only (module parameter revoke_delay_us): the devres release sleeps this long before
 * taking the table lock, which widens the window in which a teardown finds its entry already
 * dequeued. 0 in normal use.
 */
unsigned int sgkm_sgtable_revoke_delay_us;

/* The payload of the devres entry of a MAPPED_MANAGED table. */
struct sgkm_sgt_devres {
	struct sgkm_sgtable *t;
};

static void sgkm_sgtable_release(struct kref *ref)
{
	struct sgkm_sgtable *t = container_of(ref, struct sgkm_sgtable, ref);

	mutex_destroy(&t->lock);
	kfree(t);
}

/**
 * sgkm_sgtable_put() - drop a reference to an owned table
 * @t: the table; freed with the last reference
 *
 * The creator's put must come after sgkm_sgtable_teardown(). A devres entry that is still
 * queued for release (unbind in progress) keeps the struct alive until its release ran.
 */
void sgkm_sgtable_put(struct sgkm_sgtable *t)
{
	kref_put(&t->ref, sgkm_sgtable_release);
}

/*
 * devres release: the device is being unbound (or the devres group released). Runs in the
 * unbind with device_lock held. Serializes with every other state change on t->lock and
 * unmaps only if the table is still MAPPED_MANAGED with this very entry: if destroy or unmap
 * got there first they unmapped already, and this entry only owes its reference.
 */
static void sgkm_sgt_devres_release(struct device *dev, void *res)
{
	struct sgkm_sgt_devres *dr = res;
	struct sgkm_sgtable *t = dr->t;
	unsigned int delay = READ_ONCE(sgkm_sgtable_revoke_delay_us);

	if (delay)
		usleep_range(delay, 2 * delay);
	mutex_lock(&t->lock);
	if (t->state == SGKM_SGT_MAPPED_MANAGED && t->devres == dr) {
		dma_unmap_sgtable(t->dev, t->sgt, t->dir, 0);
		t->devres = NULL;
		t->state = SGKM_SGT_REVOKED;
		if (t->hooks && t->hooks->revoked)
			t->hooks->revoked(t, t->owner);
	}
	mutex_unlock(&t->lock);
	/* Not t->devres: it may already belong to nobody. The reference is this entry's. */
	sgkm_sgtable_put(t);
}

static int sgkm_sgt_devres_match(struct device *dev, void *res, void *data)
{
	struct sgkm_sgt_devres *dr = res;

	return dr->t == data;
}

/*
 * Take the devres entry of a MAPPED_MANAGED table back from the device. Returns true when it
 * was still on the device's list: then its release will never run and its reference is
 * dropped here. False means the unbind has already dequeued it and its release is about to
 * run (it waits for t->lock and will find the table no longer MAPPED_MANAGED, or revoke it).
 */
static bool sgkm_sgtable_take_devres(struct sgkm_sgtable *t)
{
	struct sgkm_sgt_devres *dr;

	lockdep_assert_held(&t->lock);
	dr = devres_remove(t->dev, sgkm_sgt_devres_release, sgkm_sgt_devres_match, t);
	t->devres = NULL;
	if (!dr) {
		atomic64_inc(&sgkm_sgtable_devres_races);
		return false;
	}
	devres_free(dr);
	/* Never the last reference: the caller holds one. */
	kref_put(&t->ref, sgkm_sgtable_release);
	return true;
}

static int sgkm_sgtable_check_mappable(struct sgkm_sgtable *t)
{
	switch (t->state) {
	case SGKM_SGT_UNMAPPED:
		break;
	case SGKM_SGT_MAPPED_MANAGED:
	case SGKM_SGT_MAPPED_BORROWED:
	case SGKM_SGT_MAPPED_UNMANAGED:
		return -EBUSY;
	case SGKM_SGT_REVOKED:
	case SGKM_SGT_FREED_MAPPED:
		return -ENXIO;
	default:
		return -ENOENT;
	}
	if (!t->owned)
		return -EPERM;
	/* Mapping for a device without a driver would hand out a mapping nobody can revoke. */
	if (!READ_ONCE(t->dev->driver))
		return -ENODEV;
	return 0;
}

/* dma_map_sgtable(), telling the user about its failures. Called with t->lock held. */
static int sgkm_sgtable_dma_map(struct sgkm_sgtable *t)
{
	int ret = dma_map_sgtable(t->dev, t->sgt, t->dir, 0);

	if (ret && t->hooks && t->hooks->map_failed)
		t->hooks->map_failed(t, t->owner, ret);
	return ret;
}

/**
 * sgkm_sgtable_map() - map an owned table as a device-managed resource
 * @t: owned table in state UNMAPPED
 *
 * Maps with dma_map_sgtable() and registers a devres entry that unmaps the table when the
 * device is unbound; the entry holds a reference to @t. State becomes MAPPED_MANAGED.
 *
 * Context: device_lock(t->dev) held and the device bound (Rust's &Device<Bound>): a devres
 * entry added to an unbound device would only be released at the next unbind.
 * Return: 0; -EBUSY (mapped), -ENXIO (revoked or freed), -EPERM (borrowed), -ENODEV
 * (unbound), -ENOENT (torn down), -ENOMEM or the mapping error.
 */
int sgkm_sgtable_map(struct sgkm_sgtable *t)
{
	struct sgkm_sgt_devres *dr;
	int ret;

	dr = devres_alloc(sgkm_sgt_devres_release, sizeof(*dr), GFP_KERNEL);
	if (!dr)
		return -ENOMEM;
	mutex_lock(&t->lock);
	ret = sgkm_sgtable_check_mappable(t);
	if (!ret)
		ret = sgkm_sgtable_dma_map(t);
	if (ret) {
		mutex_unlock(&t->lock);
		devres_free(dr);
		return ret;
	}
	kref_get(&t->ref);
	dr->t = t;
	t->devres = dr;
	t->mapped_nents = t->sgt->nents;
	t->state = SGKM_SGT_MAPPED_MANAGED;
	devres_add(t->dev, dr);
	mutex_unlock(&t->lock);
	return 0;
}

/**
 * sgkm_sgtable_map_unmanaged() - map without devres (fault injection only)
 * @t: owned table in state UNMAPPED
 *
 * The bug of a driver that maps outside device management: the mapping outlives an unbind.
 * State becomes MAPPED_UNMANAGED; only sgkm_sgtable_unmap() or teardown unmap it.
 *
 * Context: as sgkm_sgtable_map().
 * Return: as sgkm_sgtable_map().
 */
int sgkm_sgtable_map_unmanaged(struct sgkm_sgtable *t)
{
	int ret;

	mutex_lock(&t->lock);
	ret = sgkm_sgtable_check_mappable(t);
	if (!ret)
		ret = sgkm_sgtable_dma_map(t);
	if (!ret) {
		t->mapped_nents = t->sgt->nents;
		t->state = SGKM_SGT_MAPPED_UNMANAGED;
	}
	mutex_unlock(&t->lock);
	return ret;
}

/* Unmap correctly, whatever kind of owned mapping it is. Called with t->lock held. */
static void sgkm_sgtable_unmap_locked(struct sgkm_sgtable *t)
{
	unsigned int i;

	lockdep_assert_held(&t->lock);
	switch (t->state) {
	case SGKM_SGT_MAPPED_MANAGED:
		/* Whether or not the devres release is pending, it will not unmap again. */
		sgkm_sgtable_take_devres(t);
		fallthrough;
	case SGKM_SGT_MAPPED_UNMANAGED:
		dma_unmap_sgtable(t->dev, t->sgt, t->dir, 0);
		t->state = SGKM_SGT_UNMAPPED;
		break;
	case SGKM_SGT_FREED_MAPPED:
		/*
		 * The scatterlist is gone; unmap entry by entry from the record taken before
		 * sg_free_table(). dma-direct (the guest's DMA path) maps each entry on its own,
		 * so this releases exactly what dma_unmap_sgtable() would have (swiotlb slots).
		 */
		for (i = 0; i < t->mapped_nents; i++)
			dma_unmap_page_attrs(t->dev, t->freed_entries[i].addr,
					     t->freed_entries[i].len, t->dir, 0);
		kvfree(t->freed_entries);
		t->freed_entries = NULL;
		t->state = SGKM_SGT_DEAD;
		break;
	default:
		break;
	}
}

/**
 * sgkm_sgtable_unmap() - unmap an owned table
 * @t: owned table, MAPPED_MANAGED or MAPPED_UNMANAGED
 *
 * For a managed mapping the devres entry is taken back first; if the unbind has already
 * dequeued it, its release will find the table unmapped and do nothing: the mapping is
 * unmapped exactly once. State becomes UNMAPPED; the table can be mapped again.
 *
 * Context: process context; device_lock(t->dev) is not required.
 * Return: 0; -EALREADY (not mapped), -ENXIO (revoked or freed), -EPERM (borrowed: the view
 * never unmaps what it does not own), -ENOENT (torn down).
 */
int sgkm_sgtable_unmap(struct sgkm_sgtable *t)
{
	int ret = 0;

	mutex_lock(&t->lock);
	switch (t->state) {
	case SGKM_SGT_MAPPED_MANAGED:
	case SGKM_SGT_MAPPED_UNMANAGED:
		sgkm_sgtable_unmap_locked(t);
		break;
	case SGKM_SGT_MAPPED_BORROWED:
		ret = -EPERM;
		break;
	case SGKM_SGT_UNMAPPED:
		ret = -EALREADY;
		break;
	case SGKM_SGT_REVOKED:
	case SGKM_SGT_FREED_MAPPED:
		ret = -ENXIO;
		break;
	default:
		ret = -ENOENT;
	}
	mutex_unlock(&t->lock);
	return ret;
}

/**
 * sgkm_sgtable_unmap_bad() - unmap a managed table wrongly (fault injection only)
 * @t: owned table in state MAPPED_MANAGED
 * @how: the wrong call to make
 *
 * Takes the devres entry back, then calls dma_unmap_sg_attrs() with @how's device, direction
 * and entry count; with @how->unmap_again it first unmaps correctly and then makes the wrong
 * call on the now unmapped scatterlist. Choosing @how so that this cannot corrupt memory is
 * the caller's job (sgkm_fault.c). When @how passes fewer entries than were mapped, the
 * remaining ones are released with dma_unmap_page_attrs() (invisible to a tracer of the sg
 * calls) so no swiotlb slot leaks; that matches dma_unmap_sg_attrs() only when each entry was
 * mapped on its own (nents == orig_nents, dma-direct), and is skipped otherwise.
 * State becomes UNMAPPED.
 *
 * Return: 0 when the wrong call was made; -ENXIO when the device unbind revoked the mapping
 * first (nothing done, nothing injected); -EALREADY/-ENOENT/-EPERM as sgkm_sgtable_unmap().
 */
int sgkm_sgtable_unmap_bad(struct sgkm_sgtable *t, const struct sgkm_bad_unmap *how)
{
	struct scatterlist *sg;
	int i, ret = 0;

	mutex_lock(&t->lock);
	switch (t->state) {
	case SGKM_SGT_MAPPED_MANAGED:
		break;
	case SGKM_SGT_MAPPED_BORROWED:
	case SGKM_SGT_MAPPED_UNMANAGED:
		ret = -EPERM;
		goto out;
	case SGKM_SGT_UNMAPPED:
		ret = -EALREADY;
		goto out;
	case SGKM_SGT_REVOKED:
	case SGKM_SGT_FREED_MAPPED:
		ret = -ENXIO;
		goto out;
	default:
		ret = -ENOENT;
		goto out;
	}
	if (!sgkm_sgtable_take_devres(t)) {
		/* The unbind dequeued the entry: its release will revoke as soon as we unlock. */
		ret = -ENXIO;
		goto out;
	}
	if (how->unmap_again) {
		dma_unmap_sgtable(t->dev, t->sgt, t->dir, 0);
		dma_unmap_sg_attrs(how->dev, t->sgt->sgl, how->nents, how->dir, how->attrs);
	} else {
		dma_unmap_sg_attrs(how->dev, t->sgt->sgl, how->nents, how->dir, how->attrs);
		if (how->nents < t->mapped_nents && t->mapped_nents == t->sgt->orig_nents) {
			for_each_sg(t->sgt->sgl, sg, t->mapped_nents, i) {
				if (i < how->nents)
					continue;
				dma_unmap_page_attrs(t->dev, sg_dma_address(sg), sg_dma_len(sg),
						     t->dir, 0);
			}
		}
	}
	t->state = SGKM_SGT_UNMAPPED;
out:
	mutex_unlock(&t->lock);
	return ret;
}

/**
 * sgkm_sgtable_free_while_mapped() - sg_free_table() a mapped table (fault injection only)
 * @t: owned table in state MAPPED_UNMANAGED (never MANAGED: the devres release would then
 *	unmap a freed scatterlist, a real use-after-free)
 *
 * Records the DMA entries, frees the scatterlist and leaves the mapping in place: state
 * FREED_MAPPED. The pages stay allocated until teardown, which unmaps the entries from the
 * record first, so the device never sees memory that was given back.
 *
 * Return: 0; -EINVAL in another state; -ENOMEM (nothing done).
 */
int sgkm_sgtable_free_while_mapped(struct sgkm_sgtable *t)
{
	struct sgkm_dma_entry_record *rec;
	struct scatterlist *sg;
	int i, ret = 0;

	mutex_lock(&t->lock);
	if (t->state != SGKM_SGT_MAPPED_UNMANAGED) {
		ret = -EINVAL;
		goto out;
	}
	rec = kvmalloc_array(t->mapped_nents, sizeof(*rec), GFP_KERNEL | __GFP_NOWARN);
	if (!rec) {
		ret = -ENOMEM;
		goto out;
	}
	for_each_sgtable_dma_sg(t->sgt, sg, i) {
		rec[i].addr = sg_dma_address(sg);
		rec[i].len = sg_dma_len(sg);
	}
	t->freed_entries = rec;
	sg_free_table(t->sgt);
	t->state = SGKM_SGT_FREED_MAPPED;
out:
	mutex_unlock(&t->lock);
	return ret;
}

/**
 * sgkm_sgtable_state() - current state
 * @t: the table
 *
 * Return: the state; it may change as soon as this returns (an unbind may revoke).
 */
enum sgkm_sgt_state sgkm_sgtable_state(struct sgkm_sgtable *t)
{
	enum sgkm_sgt_state state;

	mutex_lock(&t->lock);
	state = t->state;
	mutex_unlock(&t->lock);
	return state;
}

/**
 * sgkm_sgtable_teardown() - release everything an owned table holds
 * @t: the table, any state; a borrowed view only becomes DEAD
 *
 * In reverse order of setup: unmap if mapped (taking the devres entry back), sg_free_table()
 * (unless a fault freed it already), free the pages, drop the device reference. The struct
 * itself lives on until sgkm_sgtable_put() drops the last reference; every operation on it
 * then returns -ENOENT. Idempotent. Safe against a concurrent unbind: whichever of the two
 * takes the table lock first unmaps, the other finds nothing to unmap.
 *
 * Context: process context.
 * Return: the state the table was in; when it was MAPPED_MANAGED, MAPPED_UNMANAGED or
 * FREED_MAPPED, the teardown unmapped it.
 */
enum sgkm_sgt_state sgkm_sgtable_teardown(struct sgkm_sgtable *t)
{
	enum sgkm_sgt_state was;
	bool sg_alive;

	mutex_lock(&t->lock);
	was = t->state;
	if (was == SGKM_SGT_DEAD)
		goto out;
	if (!t->owned) {
		t->state = SGKM_SGT_DEAD;
		goto out;
	}
	sg_alive = was != SGKM_SGT_FREED_MAPPED;
	sgkm_sgtable_unmap_locked(t);
	if (sg_alive)
		sg_free_table(t->sgt);
	sgkm_pages_free(&t->pages);
	put_device(t->dev);
	t->state = SGKM_SGT_DEAD;
out:
	mutex_unlock(&t->lock);
	return was;
}

/**
 * sgkm_sgtable_dma_access_begin() - start using the DMA view
 * @t: the table
 *
 * The C form of Devres::access(): on success the table lock is held, so no unbind can revoke
 * the mapping until sgkm_sgtable_access_end(). Keep the section short; it blocks the unbind.
 *
 * Return: the mapped sg_table (iterate its nents entries with sgkm_dma_iter_*()); or
 * ERR_PTR(-ENODATA) when unmapped, -ENXIO when revoked or freed, -ENOENT when torn down,
 * with the lock not held.
 */
struct sg_table *sgkm_sgtable_dma_access_begin(struct sgkm_sgtable *t)
{
	int ret;

	mutex_lock(&t->lock);
	switch (t->state) {
	case SGKM_SGT_MAPPED_MANAGED:
	case SGKM_SGT_MAPPED_BORROWED:
	case SGKM_SGT_MAPPED_UNMANAGED:
		return t->sgt;
	case SGKM_SGT_UNMAPPED:
		ret = -ENODATA;
		break;
	case SGKM_SGT_REVOKED:
	case SGKM_SGT_FREED_MAPPED:
		ret = -ENXIO;
		break;
	default:
		ret = -ENOENT;
	}
	mutex_unlock(&t->lock);
	return ERR_PTR(ret);
}

/**
 * sgkm_sgtable_cpu_access_begin() - start using the CPU view (pages)
 * @t: the table
 *
 * Valid in every state in which the scatterlist exists, mapped or not.
 *
 * Return: the sg_table (iterate its orig_nents entries with sgkm_page_iter_*()) with the lock
 * held; or ERR_PTR(-ENXIO) after free_while_mapped, -ENOENT when torn down.
 */
struct sg_table *sgkm_sgtable_cpu_access_begin(struct sgkm_sgtable *t)
{
	mutex_lock(&t->lock);
	switch (t->state) {
	case SGKM_SGT_FREED_MAPPED:
		mutex_unlock(&t->lock);
		return ERR_PTR(-ENXIO);
	case SGKM_SGT_DEAD:
		mutex_unlock(&t->lock);
		return ERR_PTR(-ENOENT);
	default:
		return t->sgt;
	}
}

/**
 * sgkm_sgtable_access_end() - end a section begun by a successful *_access_begin()
 * @t: the table
 */
void sgkm_sgtable_access_end(struct sgkm_sgtable *t)
{
	mutex_unlock(&t->lock);
}

/**
 * sgkm_dma_iter_init() - start iterating the DMA entries of a mapped table
 * @it: iterator
 * @sgt: from sgkm_sgtable_dma_access_begin(); valid until the matching access_end
 */
void sgkm_dma_iter_init(struct sgkm_dma_iter *it, struct sg_table *sgt)
{
	it->remaining = sgt->nents;
	it->sg = it->remaining ? sgt->sgl : NULL;
}

/**
 * sgkm_dma_iter_next() - next DMA entry
 * @it: iterator
 * @addr: its DMA address
 * @len: its DMA length
 *
 * Walks nents entries with sg_next(): the DMA view may have fewer entries than the CPU view
 * when the mapping merged some (an IOMMU).
 *
 * Return: false at the end.
 */
bool sgkm_dma_iter_next(struct sgkm_dma_iter *it, dma_addr_t *addr, unsigned int *len)
{
	if (!it->sg || !it->remaining)
		return false;
	*addr = sg_dma_address(it->sg);
	*len = sg_dma_len(it->sg);
	it->remaining--;
	it->sg = it->remaining ? sg_next(it->sg) : NULL;
	return true;
}

/**
 * sgkm_page_iter_init() - start iterating the CPU entries of a table
 * @it: iterator
 * @sgt: from sgkm_sgtable_cpu_access_begin(); valid until the matching access_end
 */
void sgkm_page_iter_init(struct sgkm_page_iter *it, struct sg_table *sgt)
{
	it->remaining = sgt->orig_nents;
	it->sg = it->remaining ? sgt->sgl : NULL;
}

/**
 * sgkm_page_iter_next() - next CPU entry
 * @it: iterator
 * @page: first page of the entry
 * @offset: byte offset into @page
 * @len: bytes (may span several physically contiguous pages)
 *
 * Return: false at the end.
 */
bool sgkm_page_iter_next(struct sgkm_page_iter *it, struct page **page,
			 unsigned int *offset, unsigned int *len)
{
	if (!it->sg || !it->remaining)
		return false;
	*page = sg_page(it->sg);
	*offset = it->sg->offset;
	*len = it->sg->length;
	it->remaining--;
	it->sg = it->remaining ? sg_next(it->sg) : NULL;
	return true;
}
