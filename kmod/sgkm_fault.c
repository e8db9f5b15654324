// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_fault.c - fault injection: which wrong thing each fault kind does, and when.
 *
 * Each kind reproduces a real driver bug through the same DMA API calls a buggy driver makes,
 * but in a way that cannot corrupt memory on the guest's DMA path (dma-direct, with swiotlb
 * for 32-bit devices; no IOMMU). The mechanism is in sgkm_sgtable.c; the counters and the
 * finding each fault must produce are booked here and in sgkm_ctl.c, only once the fault was
 * really performed.
 *
 *   leak_mapping       map without devres; the unmap ioctl is swallowed; destroy parks the
 *                      table until unload. Finding: leak, or outlives_unbind after an unbind.
 *   skip_devres        map without devres; unmap/destroy unmap it. Finding: outlives_unbind
 *                      while live after an unbind; unmap_after_unbind if unmapped after one;
 *                      leak if still live and never unbound; none if unmapped before any unbind.
 *   free_while_mapped  map without devres (a devres would unmap the freed scatterlist at
 *                      unbind), then sg_free_table() at once. Finding: freed_while_mapped.
 *   double_unmap       unmap ioctl: correct unmap, then dma_unmap_sg_attrs() on the same sgl
 *                      again. Finding: unmap_unknown.
 *   unmap_wrong_dir    unmap ioctl passes another direction. Finding: unmap_mismatch.
 *   unmap_wrong_nents  unmap ioctl passes orig_nents - 1. Finding: unmap_mismatch.
 *   unmap_wrong_dev    unmap ioctl passes the next sgkm device. Finding: unmap_mismatch.
 *   leak_table         destroy unmaps correctly but never calls sg_free_table(); the table is
 *                      parked until unload. Finding: none (a negative control: the tracer
 *                      watches DMA, not memory leaks).
 */
#include <linux/dma-mapping.h>

#include "sgkm.h"

/**
 * sgkm_fault_maps_unmanaged() - does this kind map without devres?
 * @fault: SGKM_FAULT_*
 *
 * Return: true for leak_mapping, skip_devres and free_while_mapped.
 */
bool sgkm_fault_maps_unmanaged(u32 fault)
{
	return fault == SGKM_FAULT_LEAK_MAPPING || fault == SGKM_FAULT_SKIP_DEVRES ||
	       fault == SGKM_FAULT_FREE_WHILE_MAPPED;
}

/**
 * sgkm_fault_unmaps_badly() - is this kind injected by the unmap ioctl?
 * @fault: SGKM_FAULT_*
 *
 * Return: true for double_unmap and the three unmap_wrong_* kinds.
 */
bool sgkm_fault_unmaps_badly(u32 fault)
{
	return fault == SGKM_FAULT_DOUBLE_UNMAP || fault == SGKM_FAULT_UNMAP_WRONG_DIR ||
	       fault == SGKM_FAULT_UNMAP_WRONG_NENTS || fault == SGKM_FAULT_UNMAP_WRONG_DEV;
}

/**
 * sgkm_fault_check_create() - can this fault be injected into such a table at all?
 * @fault: SGKM_FAULT_*
 * @sdev: the table's device
 * @orig_nents: the table's CPU entries
 *
 * Return: 0; -EINVAL for unmap_wrong_nents on a table of fewer than 2 entries (one less than
 * 1 would be 0, which is not a wrong count but no unmap at all); -ENODEV for unmap_wrong_dev
 * when there is no other device.
 */
int sgkm_fault_check_create(u32 fault, struct sgkm_device *sdev, u32 orig_nents)
{
	if (fault == SGKM_FAULT_UNMAP_WRONG_NENTS && orig_nents < 2)
		return -EINVAL;
	if (fault == SGKM_FAULT_UNMAP_WRONG_DEV && sgkm_ndevices < 2)
		return -ENODEV;
	return 0;
}

/**
 * sgkm_fault_map() - map a table whose fault kind maps without devres
 * @t: owned table, state UNMAPPED, fault not yet injected
 *
 * Context: device_lock of @t's device held, device bound.
 * Return: 0 (mapped, fault injected and booked) or the mapping errno.
 */
int sgkm_fault_map(struct sgkm_table *t)
{
	struct sgkm_device *sdev = t->sdev;
	int ret;

	ret = sgkm_sgtable_map_unmanaged(t->sgt);
	if (ret)
		return ret;
	sgkm_stat_mapped(sdev, t->size);
	if (t->fault == SGKM_FAULT_FREE_WHILE_MAPPED) {
		ret = sgkm_sgtable_free_while_mapped(t->sgt);
		if (ret) {
			/* Not injected: undo the map, cleanly. */
			sgkm_sgtable_unmap(t->sgt);
			sgkm_stat_mapping_end(sdev, t->size, SGKM_END_CLEAN, false);
			return ret;
		}
		sgkm_stat_mapping_end(sdev, t->size, SGKM_END_FREED, false);
	} else {
		/* Live without devres: remove() must see it to mark it unbound. */
		t->unbound_since_map = false;
		list_add_tail(&t->unmanaged_link, &sdev->unmanaged);
	}
	t->fault_injected = true;
	sgkm_stat_injected(sdev, t->fault);
	return 0;
}

/*
 * The other direction that is still valid: DMA_NONE would hit the BUG_ON() in
 * dma_unmap_sg_attrs(), so wrong means "to" <-> "from", and "to" for a bidirectional mapping.
 */
static enum dma_data_direction sgkm_wrong_dir(enum dma_data_direction dir)
{
	return dir == DMA_TO_DEVICE ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

/**
 * sgkm_fault_unmap() - the wrong unmap of double_unmap and unmap_wrong_*
 * @t: owned table of such a fault, fault not yet injected, state MAPPED_MANAGED
 *
 * Why none of these can corrupt memory on dma-direct/swiotlb:
 *  - double_unmap: the second call passes nents 0, so dma-direct walks no entry and no
 *    swiotlb slot is released twice (a second release could free slots that another mapping
 *    got in between); the tracer still sees an unmap of an sgl that is not mapped. The sgl
 *    itself stays allocated (the table lives on), so the pointer is never reused meanwhile.
 *  - unmap_wrong_dir: slot release does not depend on the direction; DMA_ATTR_SKIP_CPU_SYNC
 *    stops swiotlb from copying the bounce buffer over the pages in the wrong direction
 *    (x86 is cache-coherent, so there is no cache maintenance to get wrong either).
 *  - unmap_wrong_nents: orig_nents - 1 entries are unmapped; the last one, which a real bug
 *    would leak (its swiotlb slots), is released quietly with dma_unmap_page_attrs().
 *  - unmap_wrong_dev: the next sgkm device shares dma-direct and the default swiotlb pool
 *    with the right one, and no device has a DMA offset, so the same addresses are released
 *    from the same pool.
 *
 * Context: device_lock of @t's device held (so no unbind runs meanwhile).
 * Return: 0 when the wrong unmap was made (booked as injected with its finding); -ENXIO when
 * an unbind revoked the mapping first (nothing injected: the caller may retry with a new
 * table); or the state errno of sgkm_sgtable_unmap_bad().
 */
int sgkm_fault_unmap(struct sgkm_table *t)
{
	struct sgkm_device *sdev = t->sdev;
	struct sgkm_bad_unmap how = {
		.dev = sgkm_dev(sdev),
		.dir = t->dir,
		.nents = t->sgt->sgt->orig_nents,
		.attrs = 0,
	};
	enum sgkm_mapping_end end = SGKM_END_MISMATCH;
	int ret;

	switch (t->fault) {
	case SGKM_FAULT_DOUBLE_UNMAP:
		how.unmap_again = true;
		how.nents = 0;
		how.attrs = DMA_ATTR_SKIP_CPU_SYNC;
		end = SGKM_END_DOUBLE;
		break;
	case SGKM_FAULT_UNMAP_WRONG_DIR:
		how.dir = sgkm_wrong_dir(t->dir);
		how.attrs = DMA_ATTR_SKIP_CPU_SYNC;
		break;
	case SGKM_FAULT_UNMAP_WRONG_NENTS:
		how.nents = t->sgt->sgt->orig_nents - 1;
		break;
	case SGKM_FAULT_UNMAP_WRONG_DEV:
		how.dev = sgkm_dev(&sgkm_devices[(sdev->index + 1) % sgkm_ndevices]);
		break;
	default:
		return -EINVAL;
	}
	ret = sgkm_sgtable_unmap_bad(t->sgt, &how);
	if (ret)
		return ret;
	t->fault_injected = true;
	sgkm_stat_injected(sdev, t->fault);
	sgkm_stat_mapping_end(sdev, t->size, end, false);
	return 0;
}
