/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgkm.h - internal declarations shared by the parts of the sgkm module.
 *
 * Parts: sgkm_sgtable.c (the sg-table API), sgkm_bo.c (GEM-like buffer object), sgkm_dev.c
 * (platform devices and driver), sgkm_ctl.c (/dev/sgkm, tables, ioctls), sgkm_fault.c (fault
 * injection policy), sgkm_stats.c (counters and ground truth), sgkm_debugfs.c, sgkm_selftest.c
 * (checks of the API's contract, run from debugfs), sgkm_main.c.
 *
 * Locking order, outermost first:
 *   device_lock(&pdev->dev)   bind/unbind state, sgkm_device.unmanaged, sgkm_table.dead,
 *                             every map/unmap/destroy of a table of that device
 *   sgkm_bo.sgt_lock          lazy creation of a buffer object's table
 *   sgkm_sgtable.lock         a table's mapping state (also taken by the devres release)
 *   sgkm_device.stats_lock    counters (spinlock)
 * The file's xarray lock and sgkm_leaked_lock are leaves.
 */
#ifndef SGKM_H
#define SGKM_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/platform_device.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <sgkm.h>

#include "sgkm_bo.h"
#include "sgkm_sgtable.h"

#define SGKM_MAX_DEVICES	64

/**
 * struct sgkm_device - one virtual platform device "sgkm.<index>"
 * @index: the <index>
 * @pdev: the platform device; lives from module load to unload
 * @dma32: probe sets a 32-bit DMA mask (swiotlb bounces pages above 4 GiB)
 * @bound: between probe() and remove(); under device_lock
 * @max_segment: sgkm_max_segment() as of the last probe
 * @unmanaged: tables with a live mapping made without devres (fault injection), linked by
 *	sgkm_table.unmanaged_link; under device_lock, so that remove() can mark them
 * @stats_lock: protects @c
 * @c: counters and ground truth (UAPI layout)
 */
struct sgkm_device {
	unsigned int index;
	struct platform_device *pdev;
	bool dma32;
	bool bound;
	unsigned int max_segment;
	struct list_head unmanaged;
	spinlock_t stats_lock;
	struct sgkm_counters c;
};

extern struct sgkm_device *sgkm_devices;
extern unsigned int sgkm_ndevices;
extern u64 sgkm_max_table_bytes;
extern u64 sgkm_max_pinned_bytes;

static inline struct device *sgkm_dev(struct sgkm_device *sdev)
{
	return &sdev->pdev->dev;
}

/**
 * struct sgkm_table - a table as /dev/sgkm users see it (an id in an open file)
 * @ref: references: the file's xarray (or the leaked list) and each ioctl in progress
 * @sdev: its device
 * @layout: SGKM_LAYOUT_*
 * @uapi_dir: SGKM_DIR_*
 * @dir: the DMA direction
 * @ownership: SGKM_OWNED / SGKM_BORROWED
 * @fault: SGKM_FAULT_*
 * @fault_injected: the fault has been performed (each table injects at most once)
 * @size: buffer bytes asked for
 * @pinned: bytes charged to the pinned cap (whole pages)
 * @dead: destroyed or parked as a leak: unreachable by ioctls; under device_lock
 * @unbound_since_map: the device was unbound while the table's unmanaged mapping was live;
 *	set by remove() under device_lock
 * @unmanaged_link: on sgkm_device.unmanaged while an unmanaged mapping is live
 * @leaked_link: on the module's leaked list
 * @sgt: owned: the table
 * @bo: borrowed: the buffer object that owns the table
 * @borrow_held: borrowed: the caller mapped (holds a MAPPED_BORROWED view)
 * @orig_nents: CPU entries (owned; borrowed once the object made its table)
 */
struct sgkm_table {
	struct kref ref;
	struct sgkm_device *sdev;
	u32 layout;
	u32 uapi_dir;
	enum dma_data_direction dir;
	u32 ownership;
	u32 fault;
	bool fault_injected;
	u64 size;
	u64 pinned;
	bool dead;
	bool unbound_since_map;
	struct list_head unmanaged_link;
	struct list_head leaked_link;
	struct sgkm_sgtable *sgt;
	struct sgkm_bo *bo;
	bool borrow_held;
	u32 orig_nents;
};

/* sgkm_dev.c */
int sgkm_devices_init(void);
void sgkm_devices_exit(void);

/* sgkm_ctl.c */
int sgkm_ctl_init(void);
void sgkm_ctl_exit(void);
void sgkm_leaked_release_all(void);
extern const struct sgkm_sgtable_hooks sgkm_table_hooks;

/* sgkm_fault.c */
bool sgkm_fault_maps_unmanaged(u32 fault);
bool sgkm_fault_unmaps_badly(u32 fault);
int sgkm_fault_check_create(u32 fault, struct sgkm_device *sdev, u32 orig_nents);
int sgkm_fault_map(struct sgkm_table *t);
int sgkm_fault_unmap(struct sgkm_table *t);

/**
 * enum sgkm_mapping_end - how a mapping ended, for the counters and the ground truth
 * @SGKM_END_CLEAN: correct unmap by the module
 * @SGKM_END_REVOKED: unmapped by devres at unbind (clean for the tracer)
 * @SGKM_END_MISMATCH: unmapped wrongly (dir, nents or dev): one unmap_mismatch
 * @SGKM_END_DOUBLE: unmapped correctly, then once more: one unmap_unknown
 * @SGKM_END_FREED: sg_free_table() while mapped: one freed_while_mapped; stays live
 * @SGKM_END_FREED_UNMAP: the late unmap of a FREED mapping (teardown); no finding
 *
 * A correct unmap of a mapping whose device was unbound since the map counts as
 * unmap_after_unbind instead of clean (sgkm_stat_mapping_end()'s @unbound).
 */
enum sgkm_mapping_end {
	SGKM_END_CLEAN,
	SGKM_END_REVOKED,
	SGKM_END_MISMATCH,
	SGKM_END_DOUBLE,
	SGKM_END_FREED,
	SGKM_END_FREED_UNMAP,
};

/* sgkm_stats.c */
void sgkm_stat_table_created(struct sgkm_device *sdev, u64 pinned);
void sgkm_stat_table_destroyed(struct sgkm_device *sdev, u64 pinned);
void sgkm_stat_leaked(struct sgkm_device *sdev, int delta);
void sgkm_stat_mapped(struct sgkm_device *sdev, u64 bytes);
void sgkm_stat_map_failed(struct sgkm_device *sdev);
void sgkm_stat_mapping_end(struct sgkm_device *sdev, u64 bytes, enum sgkm_mapping_end how,
			   bool unbound);
void sgkm_stat_injected(struct sgkm_device *sdev, u32 fault);
void sgkm_stat_bound(struct sgkm_device *sdev);
void sgkm_stat_unbound(struct sgkm_device *sdev, u64 now_outliving);
void sgkm_stat_read(struct sgkm_device *sdev, struct sgkm_counters *out);
void sgkm_stat_read_all(struct sgkm_counters *out);
int sgkm_pinned_reserve(u64 bytes);
void sgkm_pinned_release(u64 bytes);

/* sgkm_debugfs.c, sgkm_selftest.c */
void sgkm_debugfs_init(void);
void sgkm_debugfs_exit(void);
struct dentry;
void sgkm_selftest_debugfs(struct dentry *dir);

#endif /* SGKM_H */
