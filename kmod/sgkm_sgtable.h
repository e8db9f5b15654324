/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgkm_sgtable.h - a C scatter-gather table API with explicit ownership and mapping states.
 *
 * This is the C counterpart of the Rust SGTable<Owned<P>> / SGTable<Borrowed> abstraction:
 *
 *  - An OWNED table owns its buffer (struct sgkm_pages), its struct sg_table and, while mapped,
 *    the DMA mapping. The mapping is a device-managed resource (devres): unbinding the device
 *    unmaps it ("revokes" it). From then on the DMA view is gone (-ENXIO, like Devres::access())
 *    while the table object stays valid until its owner destroys it.
 *  - A BORROWED table wraps a struct sg_table that someone else owns and has mapped. It never
 *    maps, unmaps or frees it; it only iterates it, and only while the owner keeps it alive and
 *    unchanged (the Rust "unsafe fn from_raw()" contract, see sgkm_sgtable_init_borrowed()).
 *
 * Where Rust uses a typestate, this API checks the state at run time (enum sgkm_sgt_state) and
 * every operation returns an errno when called in a state it is not valid in.
 *
 * Lifetime rules (the INVARIANTS):
 *  - An owned table is reference counted. The creator holds one reference; a live devres entry
 *    holds another. The struct is freed only when both are gone, so the devres release
 *    callback never touches freed memory, whatever order unbind and destroy run in.
 *  - t->lock serializes every state change, including the devres release on unbind, so the
 *    mapping is unmapped exactly once: by an unmap call, by destroy, or by the unbind.
 *  - Teardown runs in reverse order of setup: unmap (if mapped) -> sg_free_table() -> free the
 *    pages -> drop the device reference.
 *
 * Locking order: device_lock(dev) -> sgkm_sgtable.lock. Functions that add a devres entry need
 * the device bound and device_lock(dev) held (the C spelling of Rust's &Device<Bound>).
 */
#ifndef SGKM_SGTABLE_H
#define SGKM_SGTABLE_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

/**
 * enum sgkm_sgt_state - mapping state of a table
 * @SGKM_SGT_UNMAPPED: no DMA mapping; the CPU view (orig_nents entries) is valid
 * @SGKM_SGT_MAPPED_MANAGED: owned, mapped, the mapping is a devres of the device
 * @SGKM_SGT_MAPPED_BORROWED: borrowed view of a mapping that the table's owner holds
 * @SGKM_SGT_MAPPED_UNMANAGED: owned, mapped without devres (fault injection only)
 * @SGKM_SGT_REVOKED: was MAPPED_MANAGED; the device unbind unmapped it
 * @SGKM_SGT_FREED_MAPPED: sg_free_table() ran on the mapped table (fault injection only)
 * @SGKM_SGT_DEAD: torn down; only the struct is left until the last reference goes
 *
 * The values up to @SGKM_SGT_FREED_MAPPED equal the UAPI's SGKM_STATE_*.
 */
enum sgkm_sgt_state {
	SGKM_SGT_UNMAPPED,
	SGKM_SGT_MAPPED_MANAGED,
	SGKM_SGT_MAPPED_BORROWED,
	SGKM_SGT_MAPPED_UNMANAGED,
	SGKM_SGT_REVOKED,
	SGKM_SGT_FREED_MAPPED,
	SGKM_SGT_DEAD,
};

/**
 * struct sgkm_pages - the buffer an owned table takes ownership of
 * @vaddr: vmalloc() buffer, or NULL when the pages were allocated one by one
 * @pages: the buffer's pages in buffer order (for vmalloc, found with vmalloc_to_page())
 * @npages: number of entries in @pages
 * @size: buffer bytes; the last page may be partly used
 *
 * Built by sgkm_pages_alloc_vmalloc() or sgkm_pages_alloc_scattered(), released by
 * sgkm_pages_free(). Passing it to sgkm_sgtable_create_owned() moves the ownership into the
 * table, which frees it at teardown.
 */
struct sgkm_pages {
	void *vaddr;
	struct page **pages;
	unsigned int npages;
	size_t size;
};

/**
 * struct sgkm_dma_entry_record - one DMA entry, remembered across sg_free_table()
 * @addr: DMA address
 * @len: DMA length
 */
struct sgkm_dma_entry_record {
	dma_addr_t addr;
	unsigned int len;
};

struct sgkm_sgtable;

/**
 * struct sgkm_sgtable_hooks - callbacks of the table's user
 * @revoked: the device unbind unmapped the table. Called with the table lock held, from the
 *	devres release in the unbind; must not sleep on anything the unbind waits for. Not
 *	called when the mapping ends any other way.
 * @map_failed: dma_map_sgtable() itself returned @err (not a state or allocation error of
 *	this API: exactly the failures a tracer of the DMA API sees). Called with the table lock
 *	held.
 */
struct sgkm_sgtable_hooks {
	void (*revoked)(struct sgkm_sgtable *t, void *owner);
	void (*map_failed)(struct sgkm_sgtable *t, void *owner, int err);
};

/**
 * struct sgkm_sgtable - an owned or borrowed scatter-gather table
 * @lock: serializes state changes, the devres release and DMA-view access
 * @ref: reference count (creator + live devres entry); see sgkm_sgtable_put()
 * @state: current &enum sgkm_sgt_state
 * @owned: true for an owned table
 * @sgt: the sg_table: &@own_sgt for owned tables, the borrowed one otherwise
 * @own_sgt: storage of an owned table's sg_table
 * @pages: an owned table's buffer
 * @dev: the device the table is for (a reference is held for owned tables)
 * @dir: DMA direction of the mapping
 * @max_segment: segment limit the table was built with
 * @mapped_nents: entries the mapping produced (sg_table.nents; kept for FREED_MAPPED)
 * @devres: live devres entry while MAPPED_MANAGED, else NULL
 * @freed_entries: DMA entries of a FREED_MAPPED table, to unmap them at teardown
 * @hooks: callbacks of the user, may be NULL
 * @owner: opaque pointer passed to @hooks
 */
struct sgkm_sgtable {
	struct mutex lock;
	struct kref ref;
	enum sgkm_sgt_state state;
	bool owned;
	struct sg_table *sgt;
	struct sg_table own_sgt;
	struct sgkm_pages pages;
	struct device *dev;
	enum dma_data_direction dir;
	unsigned int max_segment;
	unsigned int mapped_nents;
	void *devres;
	struct sgkm_dma_entry_record *freed_entries;
	const struct sgkm_sgtable_hooks *hooks;
	void *owner;
};

extern atomic64_t sgkm_sgtable_devres_races;
extern unsigned int sgkm_sgtable_revoke_delay_us;

/* Buffers */
int sgkm_pages_alloc_vmalloc(struct sgkm_pages *p, size_t size);
int sgkm_pages_alloc_scattered(struct sgkm_pages *p, size_t size);
void sgkm_pages_free(struct sgkm_pages *p);

/* Construction and teardown */
unsigned int sgkm_max_segment(struct device *dev);
int sgkm_sgtable_create_owned(struct device *dev, struct sgkm_pages *pages,
			      enum dma_data_direction dir, gfp_t gfp,
			      const struct sgkm_sgtable_hooks *hooks, void *owner,
			      struct sgkm_sgtable **out);
void sgkm_sgtable_init_borrowed(struct sgkm_sgtable *t, struct sg_table *sgt,
				struct device *dev, enum dma_data_direction dir, bool mapped);
enum sgkm_sgt_state sgkm_sgtable_teardown(struct sgkm_sgtable *t);
void sgkm_sgtable_put(struct sgkm_sgtable *t);

/* Mapping */
int sgkm_sgtable_map(struct sgkm_sgtable *t);
int sgkm_sgtable_unmap(struct sgkm_sgtable *t);
enum sgkm_sgt_state sgkm_sgtable_state(struct sgkm_sgtable *t);

/* Views and iterators */
struct sg_table *sgkm_sgtable_dma_access_begin(struct sgkm_sgtable *t);
struct sg_table *sgkm_sgtable_cpu_access_begin(struct sgkm_sgtable *t);
void sgkm_sgtable_access_end(struct sgkm_sgtable *t);

/**
 * struct sgkm_dma_iter - iterator over the DMA entries of a mapped table
 * @sg: next entry, NULL at the end
 * @remaining: entries left of sg_table.nents
 */
struct sgkm_dma_iter {
	struct scatterlist *sg;
	unsigned int remaining;
};

/**
 * struct sgkm_page_iter - iterator over the CPU entries (pages) of a table
 * @sg: next entry, NULL at the end
 * @remaining: entries left of sg_table.orig_nents
 */
struct sgkm_page_iter {
	struct scatterlist *sg;
	unsigned int remaining;
};

void sgkm_dma_iter_init(struct sgkm_dma_iter *it, struct sg_table *sgt);
bool sgkm_dma_iter_next(struct sgkm_dma_iter *it, dma_addr_t *addr, unsigned int *len);
void sgkm_page_iter_init(struct sgkm_page_iter *it, struct sg_table *sgt);
bool sgkm_page_iter_next(struct sgkm_page_iter *it, struct page **page,
			 unsigned int *offset, unsigned int *len);

/* Fault injection only: each reproduces a driver bug in a way that cannot corrupt memory. */
int sgkm_sgtable_map_unmanaged(struct sgkm_sgtable *t);
int sgkm_sgtable_free_while_mapped(struct sgkm_sgtable *t);

/**
 * struct sgkm_bad_unmap - how sgkm_sgtable_unmap_bad() unmaps
 * @dev: device passed to dma_unmap_sg_attrs()
 * @dir: direction passed
 * @nents: entry count passed
 * @attrs: DMA attributes passed
 * @unmap_again: after the correct unmap, unmap again with these parameters (double unmap)
 */
struct sgkm_bad_unmap {
	struct device *dev;
	enum dma_data_direction dir;
	int nents;
	unsigned long attrs;
	bool unmap_again;
};

int sgkm_sgtable_unmap_bad(struct sgkm_sgtable *t, const struct sgkm_bad_unmap *how);

#endif /* SGKM_SGTABLE_H */
