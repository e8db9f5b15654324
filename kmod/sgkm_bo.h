/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgkm_bo.h - a GEM-like buffer object that owns a lazily created, device-managed sg table.
 *
 * Mirrors the Rust shmem::Object::sg_table() of the GEM review: the first caller creates and
 * maps the table (slow path, under a mutex); later callers find it published (fast path, no
 * lock). Callers never own the table: they get a borrowed view of it for as long as they hold
 * its access section. The object's device must be the caller's device (-EINVAL otherwise), and
 * once an unbind has revoked the mapping the object's table stays revoked (-ENXIO): like the
 * Rust sgt_res, it is populated once.
 */
#ifndef SGKM_BO_H
#define SGKM_BO_H

#include <linux/mutex.h>

#include "sgkm_sgtable.h"

/**
 * struct sgkm_bo - buffer object
 * @dev: its device (a reference is held)
 * @dir: DMA direction of its table
 * @pages: its buffer, until the table is created and takes it over
 * @size: buffer bytes
 * @sgt_lock: serializes the slow path (creation of @sgt)
 * @sgt: the owned, managed table; NULL until first use. Written once under @sgt_lock with
 *	release semantics, read locklessly with acquire semantics.
 * @hooks: passed to the table
 * @owner: passed to the table
 */
struct sgkm_bo {
	struct device *dev;
	enum dma_data_direction dir;
	struct sgkm_pages pages;
	size_t size;
	struct mutex sgt_lock;
	struct sgkm_sgtable *sgt;
	const struct sgkm_sgtable_hooks *hooks;
	void *owner;
};

int sgkm_bo_create(struct device *dev, struct sgkm_pages *pages, enum dma_data_direction dir,
		   const struct sgkm_sgtable_hooks *hooks, void *owner, struct sgkm_bo **out);
struct sg_table *sgkm_bo_sg_table_begin(struct sgkm_bo *bo, struct device *dev, bool *created);
void sgkm_bo_sg_table_end(struct sgkm_bo *bo);
struct sgkm_sgtable *sgkm_bo_table(struct sgkm_bo *bo);
enum sgkm_sgt_state sgkm_bo_teardown(struct sgkm_bo *bo);
void sgkm_bo_free(struct sgkm_bo *bo);

#endif /* SGKM_BO_H */
