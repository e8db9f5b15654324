/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * sgkm.h - user API of the sgkm kernel module (see docs/kmod.md).
 *
 * sgkm drives the kernel's scatter-gather table API on virtual platform devices so that DMA
 * mapping bugs can be produced on purpose and the sgtrace tracer can be checked against them.
 *
 * Names user space can rely on:
 *   control device      /dev/sgkm (misc device, mode 0600)
 *   platform driver     "sgkm"      /sys/bus/platform/drivers/sgkm/{bind,unbind}
 *   platform devices    "sgkm.0" .. "sgkm.<ndevices-1>"   /sys/bus/platform/devices/sgkm.<i>
 *                       (device index i in this API is the <i> of "sgkm.<i>")
 *   debugfs             /sys/kernel/debug/sgkm/{stats,sgkm.<i>,selftest}
 *   module parameters   ndevices, dma32_devices, max_table_mb, max_pinned_mb; for tests only:
 *                       destroy_without_device_lock, revoke_delay_us, max_table_ids
 *                       (/sys/module/sgkm/parameters/)
 * Unbinding:  echo sgkm.1 > /sys/bus/platform/drivers/sgkm/unbind
 * Binding:    echo sgkm.1 > /sys/bus/platform/drivers/sgkm/bind
 *
 * Every ioctl takes a pointer to a struct that starts with __u32 argsz and __u32 flags (the
 * VFIO convention). Set argsz = sizeof(struct); flags bits not defined below must be 0. A newer
 * module accepts an older, shorter struct; an older module accepts a longer struct only when
 * the bytes it does not know are zero (else E2BIG). argsz below the first version's size is
 * EINVAL. Output fields are written back up to argsz.
 *
 * Tables are named by ids (>= 1) that are private to the open file description. Closing the
 * file destroys every table it still holds, except those a fault injection leaks on purpose
 * (the module keeps those until it is unloaded).
 */
#ifndef _UAPI_SGKM_H
#define _UAPI_SGKM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SGKM_UAPI_VERSION	1
#define SGKM_CONTROL_PATH	"/dev/sgkm"
#define SGKM_DRIVER_NAME	"sgkm"	/* platform devices are SGKM_DRIVER_NAME ".<index>" */
#define SGKM_SYSFS_DRIVER_DIR	"/sys/bus/platform/drivers/sgkm"

/* Special device index: in struct sgkm_stats, "all devices" (module-wide totals). */
#define SGKM_DEVICE_ALL		0xffffffffu

/*
 * enum sgkm_layout: where an owned table's buffer comes from.
 *   CONTIGUOUS  one vmalloc() buffer: virtually contiguous, often few segments
 *   SCATTERED   separately allocated pages in descending physical order: one segment per
 *               page, so many-segment tables exist
 */
#define SGKM_LAYOUT_CONTIGUOUS	0
#define SGKM_LAYOUT_SCATTERED	1
#define SGKM_LAYOUT_NR		2

/* enum sgkm_dir: DMA direction of the mapping. */
#define SGKM_DIR_TO_DEVICE	0
#define SGKM_DIR_FROM_DEVICE	1
#define SGKM_DIR_BIDIRECTIONAL	2
#define SGKM_DIR_NR		3

/*
 * enum sgkm_ownership
 *   OWNED     the table owns its pages, its sg_table and its devres-managed mapping
 *   BORROWED  wraps the sg_table of a GEM-like buffer object that owns it (created lazily on
 *             the first map); iteration only, never freed by the table
 */
#define SGKM_OWNED		0
#define SGKM_BORROWED		1
#define SGKM_OWNERSHIP_NR	2

/*
 * enum sgkm_fault: at most one per table, injected at most once, owned tables only. When each
 * is injected and which tracer finding it must produce: docs/kmod.md.
 *   LEAK_MAPPING       map without devres; the unmap ioctl is swallowed; kept until unload
 *   SKIP_DEVRES        map without devres: outlives unbind; unmapped by unmap/destroy
 *   FREE_WHILE_MAPPED  sg_free_table() right after mapping; never unmapped (until unload)
 *   DOUBLE_UNMAP       unmap ioctl unmaps, then unmaps the same sgl again
 *   UNMAP_WRONG_DIR    unmap ioctl passes another direction
 *   UNMAP_WRONG_NENTS  unmap ioctl passes orig_nents - 1 (needs >= 2 entries)
 *   UNMAP_WRONG_DEV    unmap ioctl passes another sgkm device (needs >= 2 devices)
 *   LEAK_TABLE         destroy never calls sg_free_table() (the mapping was released fine)
 */
#define SGKM_FAULT_NONE			0
#define SGKM_FAULT_LEAK_MAPPING		1
#define SGKM_FAULT_SKIP_DEVRES		2
#define SGKM_FAULT_FREE_WHILE_MAPPED	3
#define SGKM_FAULT_DOUBLE_UNMAP		4
#define SGKM_FAULT_UNMAP_WRONG_DIR	5
#define SGKM_FAULT_UNMAP_WRONG_NENTS	6
#define SGKM_FAULT_UNMAP_WRONG_DEV	7
#define SGKM_FAULT_LEAK_TABLE		8
#define SGKM_FAULT_NR			9
#define SGKM_FAULT_SLOTS		16 /* size of sgkm_counters.injected[] */

/* Names as sgstress --inject and docs use them, indexed by SGKM_FAULT_*. */
#define SGKM_FAULT_NAMES { "none", "leak_mapping", "skip_devres", "free_while_mapped", \
	"double_unmap", "unmap_wrong_dir", "unmap_wrong_nents", "unmap_wrong_dev", "leak_table" }

/*
 * enum sgkm_finding: the finding sgtrace must report, one per mapping (kind names as in
 * sgtrace's JSON). Indexes sgkm_counters.expected[].
 *   LEAK                live now, device not unbound since the map (a gauge)
 *   OUTLIVES_UNBIND     live now, device unbound since the map (a gauge)
 *   the others          cumulative since load
 */
#define SGKM_FINDING_LEAK		0
#define SGKM_FINDING_OUTLIVES_UNBIND	1
#define SGKM_FINDING_FREED_WHILE_MAPPED	2
#define SGKM_FINDING_UNMAP_UNKNOWN	3
#define SGKM_FINDING_UNMAP_MISMATCH	4
#define SGKM_FINDING_UNMAP_AFTER_UNBIND	5
#define SGKM_FINDING_NR			6
#define SGKM_FINDING_SLOTS		8 /* size of sgkm_counters.expected[] */

#define SGKM_FINDING_NAMES { "leak", "outlives_unbind", "freed_while_mapped", \
	"unmap_unknown", "unmap_mismatch", "unmap_after_unbind" }

/*
 * enum sgkm_state: a table's mapping state (struct sgkm_verify.state).
 *   UNMAPPED           no mapping
 *   MAPPED_MANAGED     owned; the mapping is a devres of the device
 *   MAPPED_BORROWED    borrowed view of the mapping its buffer object owns
 *   MAPPED_UNMANAGED   fault leak_mapping/skip_devres: mapped without devres
 *   REVOKED            the device was unbound while mapped: DMA view gone (ENXIO)
 *   FREED_MAPPED       fault free_while_mapped: sg_table freed, still mapped
 */
#define SGKM_STATE_UNMAPPED		0
#define SGKM_STATE_MAPPED_MANAGED	1
#define SGKM_STATE_MAPPED_BORROWED	2
#define SGKM_STATE_MAPPED_UNMANAGED	3
#define SGKM_STATE_REVOKED		4
#define SGKM_STATE_FREED_MAPPED		5
#define SGKM_STATE_NR			6

/* SGKM_IOC_CREATE: make a table (unmapped). */
struct sgkm_create {
	__u32 argsz;
	__u32 flags;		/* none defined: 0 */
	__u32 device;		/* in: device index (sgkm.<device>); must be bound */
	__u32 layout;		/* in: SGKM_LAYOUT_* */
	__u32 dir;		/* in: SGKM_DIR_* used by map/unmap */
	__u32 ownership;	/* in: SGKM_OWNED / SGKM_BORROWED */
	__u32 fault;		/* in: SGKM_FAULT_* (NONE for borrowed) */
	__u32 id;		/* out: table id, >= 1 */
	__u64 size;		/* in: buffer bytes, 1 .. max_table_mb MiB */
	__u32 orig_nents;	/* out: CPU entries of the sg_table */
	__u32 max_segment;	/* out: segment limit used (dma_max_mapping_size, clamped) */
	__u64 reserved[4];	/* in: 0 */
};

/* SGKM_IOC_MAP: map a table for DMA on its device. */
#define SGKM_MAP_F_DEVICE	(1u << 0) /* check .device against the table's device (EINVAL) */
struct sgkm_map {
	__u32 argsz;
	__u32 flags;		/* SGKM_MAP_F_* */
	__u32 id;		/* in */
	__u32 device;		/* in, with SGKM_MAP_F_DEVICE: the caller's device */
	__u32 nents;		/* out: mapped entries (<= orig_nents) */
	__u32 state;		/* out: SGKM_STATE_* after the map */
	__u64 reserved[2];
};

/* SGKM_IOC_UNMAP and SGKM_IOC_DESTROY */
struct sgkm_table_op {
	__u32 argsz;
	__u32 flags;		/* none defined: 0 */
	__u32 id;		/* in */
	__u32 state;		/* out: SGKM_STATE_* after the op (unmap only) */
	__u64 reserved[2];
};

/* One segment of a table view. */
struct sgkm_segment {
	__u64 addr;		/* DMA address, or physical address for SGKM_VERIFY_F_CPU */
	__u64 len;		/* bytes */
};

/* SGKM_IOC_VERIFY: walk a table's DMA view (nents entries) or CPU view (orig_nents). */
#define SGKM_VERIFY_F_CPU	(1u << 0) /* walk the CPU pages instead of the DMA entries */
#define SGKM_VERIFY_F_INFO	(1u << 1) /* walk nothing: only report state, flags and counts */
#define SGKM_TABLE_F_UNBOUND_SINCE_MAP (1u << 0) /* out: device unbound while this was mapped */
#define SGKM_TABLE_F_FAULT_INJECTED    (1u << 1) /* out: the table's fault has been injected */
struct sgkm_verify {
	__u32 argsz;
	__u32 flags;		/* SGKM_VERIFY_F_* */
	__u32 id;		/* in */
	__u32 max_segments;	/* in: capacity of .segments (0: totals only) */
	__u64 segments;		/* in: user pointer to struct sgkm_segment[max_segments] */
	__u32 nsegments;	/* out: entries in the view (may exceed max_segments) */
	__u32 state;		/* out: SGKM_STATE_* */
	__u32 ownership;	/* out */
	__u32 device;		/* out */
	__u32 dir;		/* out */
	__u32 fault;		/* out */
	__u32 orig_nents;	/* out */
	__u32 nents;		/* out: mapped entries (0 when not mapped) */
	__u64 size;		/* out: buffer bytes */
	__u64 total_len;	/* out: sum of view lengths; the module checks it equals size */
	__u32 max_segment;	/* out: segment limit the table was built with */
	__u32 table_flags;	/* out: SGKM_TABLE_F_* */
	__u64 reserved[2];
};

/* Counters of one device, or of the module (sum over devices, plus module-wide fields). */
struct sgkm_counters {
	__u64 live_tables;	/* tables existing now, including revoked and leaked ones */
	__u64 live_mappings;	/* DMA mappings live now (any kind, incl. freed-while-mapped) */
	__u64 mapped_bytes;	/* bytes of those mappings */
	__u64 pinned_bytes;	/* buffer bytes held by live tables and buffer objects */
	__u64 tables_created;
	__u64 tables_destroyed;	/* freed for good (destroy, close or unload) */
	__u64 maps;		/* successful dma_map_sgtable() */
	__u64 map_failures;	/* dma_map_sgtable() errors */
	__u64 unmaps;		/* mappings released by an unmap call (correct or wrong) */
	__u64 revoked;		/* of which: by devres when the device was unbound */
	__u64 binds;		/* probe() calls */
	__u64 unbinds;		/* remove() calls */
	__u64 leaked_tables;	/* held by the module on purpose until unload */
	__u64 injected[SGKM_FAULT_SLOTS];	/* per SGKM_FAULT_*: faults actually performed */
	__u64 expected[SGKM_FINDING_SLOTS];	/* per SGKM_FINDING_*: the ground truth */
	__u64 reserved[8];
};

/* SGKM_IOC_STATS */
struct sgkm_stats {
	__u32 argsz;
	__u32 flags;		/* none defined: 0 */
	__u32 device;		/* in: device index, or SGKM_DEVICE_ALL */
	__u32 ndevices;		/* out: number of sgkm devices */
	__u32 version;		/* out: SGKM_UAPI_VERSION */
	__u32 bound;		/* out: device bound (ALL: how many are) */
	__u32 dma_mask_bits;	/* out: per device; ALL: 0 */
	__u32 max_segment;	/* out: per device dma_max_mapping_size() clamped; ALL: 0 */
	__u64 max_table_bytes;	/* out: largest table */
	__u64 max_pinned_bytes;	/* out: cap on pinned_bytes of the module */
	struct sgkm_counters c;	/* out */
};

#define SGKM_IOC_MAGIC		0xD5
#define SGKM_IOC_CREATE		_IO(SGKM_IOC_MAGIC, 0x01) /* struct sgkm_create */
#define SGKM_IOC_MAP		_IO(SGKM_IOC_MAGIC, 0x02) /* struct sgkm_map */
#define SGKM_IOC_UNMAP		_IO(SGKM_IOC_MAGIC, 0x03) /* struct sgkm_table_op */
#define SGKM_IOC_DESTROY	_IO(SGKM_IOC_MAGIC, 0x04) /* struct sgkm_table_op */
#define SGKM_IOC_VERIFY		_IO(SGKM_IOC_MAGIC, 0x05) /* struct sgkm_verify */
#define SGKM_IOC_STATS		_IO(SGKM_IOC_MAGIC, 0x06) /* struct sgkm_stats */

/*
 * Errors (besides EFAULT for bad pointers and EINVAL for bad flags/enums/argsz):
 *   ENOENT   no table with that id in this file
 *   ENODEV   device index out of range, or the device is not bound (create, map);
 *            unmap_wrong_dev with a single device
 *   E2BIG    size above max_table_mb, or argsz too large with non-zero unknown bytes
 *   ENOSPC   the module's pinned-bytes cap (max_pinned_mb) would be exceeded
 *   ENOMEM   an allocation failed
 *   EIO      (map) dma_map_sgtable() failed, e.g. swiotlb full for a 32-bit device; its own
 *            errno is passed on, which may also be ENOMEM. Counted in map_failures.
 *   EINVAL   size 0; fault on a borrowed table; unmap_wrong_nents on a 1-entry table;
 *            SGKM_MAP_F_DEVICE with another device (the GEM device-mismatch rule)
 *   EBUSY    map of a table that is mapped
 *   EALREADY unmap of a table that is not mapped
 *   ENODATA  verify of the DMA view of an unmapped table
 *   ENXIO    the DMA view was revoked by an unbind (or freed by free_while_mapped). An unmap
 *            that was to inject a fault returns ENXIO when the unbind got there first: the
 *            fault was not injected nor counted, and the caller may retry with a new table.
 *   EIO      (verify) the view is inconsistent (lengths do not sum to size): a module bug
 */

#endif /* _UAPI_SGKM_H */
