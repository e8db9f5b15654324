// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_stats.c - counters, the pinned-bytes cap, and the ground truth for the tracer.
 *
 * The ground truth follows sgtrace's rule "one mapping, one finding" (docs/kmod.md):
 *   - a live mapping is a gauge: expected[leak] while its device has not been unbound since
 *     the map, expected[outlives_unbind] once it has (remove() moves it between the two);
 *   - when a mapping ends, it leaves its gauge and, unless it ended cleanly, adds one to the
 *     cumulative counter of its finding.
 * Every change happens under the device's stats_lock, and the events that decide it (map,
 * unmap, remove()) happen under device_lock, so a reader sees a consistent picture.
 */
#include <linux/atomic.h>

#include "sgkm.h"

static atomic64_t sgkm_pinned = ATOMIC64_INIT(0);

/**
 * sgkm_pinned_reserve() - charge buffer bytes to the module's cap
 * @bytes: whole pages of the buffer
 *
 * Return: 0, or -ENOSPC when the cap (max_pinned_mb) would be exceeded.
 */
int sgkm_pinned_reserve(u64 bytes)
{
	s64 old = atomic64_read(&sgkm_pinned);

	do {
		if (old + bytes > sgkm_max_pinned_bytes)
			return -ENOSPC;
	} while (!atomic64_try_cmpxchg(&sgkm_pinned, &old, old + bytes));
	return 0;
}

/**
 * sgkm_pinned_release() - give back what sgkm_pinned_reserve() charged
 * @bytes: the same amount
 */
void sgkm_pinned_release(u64 bytes)
{
	atomic64_sub(bytes, &sgkm_pinned);
}

/**
 * sgkm_stat_table_created() - a table exists now
 * @sdev: its device
 * @pinned: buffer bytes it holds
 */
void sgkm_stat_table_created(struct sgkm_device *sdev, u64 pinned)
{
	spin_lock(&sdev->stats_lock);
	sdev->c.tables_created++;
	sdev->c.live_tables++;
	sdev->c.pinned_bytes += pinned;
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_table_destroyed() - a table was freed for good (destroy, close or unload)
 * @sdev: its device
 * @pinned: buffer bytes it held
 */
void sgkm_stat_table_destroyed(struct sgkm_device *sdev, u64 pinned)
{
	spin_lock(&sdev->stats_lock);
	sdev->c.tables_destroyed++;
	sdev->c.live_tables--;
	sdev->c.pinned_bytes -= pinned;
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_leaked() - a table was parked until unload (+1), or released at unload (-1)
 * @sdev: its device
 * @delta: +1 or -1
 */
void sgkm_stat_leaked(struct sgkm_device *sdev, int delta)
{
	spin_lock(&sdev->stats_lock);
	sdev->c.leaked_tables += delta;
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_mapped() - a mapping was made
 * @sdev: its device
 * @bytes: its size
 *
 * A mapping starts live and clean: it is a "leak" for the tracer until it ends.
 */
void sgkm_stat_mapped(struct sgkm_device *sdev, u64 bytes)
{
	spin_lock(&sdev->stats_lock);
	sdev->c.maps++;
	sdev->c.live_mappings++;
	sdev->c.mapped_bytes += bytes;
	sdev->c.expected[SGKM_FINDING_LEAK]++;
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_map_failed() - dma_map_sgtable() failed (sgtrace's informational map_failed)
 * @sdev: the device
 */
void sgkm_stat_map_failed(struct sgkm_device *sdev)
{
	spin_lock(&sdev->stats_lock);
	sdev->c.map_failures++;
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_mapping_end() - a mapping ended (or, for SGKM_END_FREED, got its finding)
 * @sdev: its device
 * @bytes: its size
 * @how: how it ended
 * @unbound: its device was unbound while it was live (only unmanaged mappings can be)
 */
void sgkm_stat_mapping_end(struct sgkm_device *sdev, u64 bytes, enum sgkm_mapping_end how,
			   bool unbound)
{
	u64 *gauge = &sdev->c.expected[unbound ? SGKM_FINDING_OUTLIVES_UNBIND : SGKM_FINDING_LEAK];

	spin_lock(&sdev->stats_lock);
	switch (how) {
	case SGKM_END_FREED:
		/* The tracer reports it when the table is freed and forgets the mapping. */
		(*gauge)--;
		sdev->c.expected[SGKM_FINDING_FREED_WHILE_MAPPED]++;
		break;
	case SGKM_END_FREED_UNMAP:
		/* Its finding was counted at the free; it only stops being live now. */
		sdev->c.live_mappings--;
		sdev->c.mapped_bytes -= bytes;
		sdev->c.unmaps++;
		break;
	default:
		(*gauge)--;
		sdev->c.live_mappings--;
		sdev->c.mapped_bytes -= bytes;
		sdev->c.unmaps++;
		if (how == SGKM_END_REVOKED)
			sdev->c.revoked++;
		else if (how == SGKM_END_MISMATCH)
			sdev->c.expected[SGKM_FINDING_UNMAP_MISMATCH]++;
		else if (how == SGKM_END_DOUBLE)
			sdev->c.expected[SGKM_FINDING_UNMAP_UNKNOWN]++;
		else if (unbound)
			sdev->c.expected[SGKM_FINDING_UNMAP_AFTER_UNBIND]++;
	}
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_injected() - a fault was performed (never called for one that was not)
 * @sdev: the table's device
 * @fault: SGKM_FAULT_*
 */
void sgkm_stat_injected(struct sgkm_device *sdev, u32 fault)
{
	spin_lock(&sdev->stats_lock);
	sdev->c.injected[fault]++;
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_bound() - probe() ran
 * @sdev: the device
 */
void sgkm_stat_bound(struct sgkm_device *sdev)
{
	spin_lock(&sdev->stats_lock);
	sdev->c.binds++;
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_unbound() - remove() ran
 * @sdev: the device
 * @now_outliving: live unmanaged mappings that this unbind turned from leak into
 *	outlives_unbind (managed ones are revoked by devres right after remove())
 */
void sgkm_stat_unbound(struct sgkm_device *sdev, u64 now_outliving)
{
	spin_lock(&sdev->stats_lock);
	sdev->c.unbinds++;
	sdev->c.expected[SGKM_FINDING_LEAK] -= now_outliving;
	sdev->c.expected[SGKM_FINDING_OUTLIVES_UNBIND] += now_outliving;
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_read() - snapshot of one device's counters
 * @sdev: the device
 * @out: the snapshot
 */
void sgkm_stat_read(struct sgkm_device *sdev, struct sgkm_counters *out)
{
	spin_lock(&sdev->stats_lock);
	*out = sdev->c;
	spin_unlock(&sdev->stats_lock);
}

/**
 * sgkm_stat_read_all() - sum of all devices' counters
 * @out: the sum
 *
 * Each device is read consistently; the sum is not one atomic snapshot of all devices.
 */
void sgkm_stat_read_all(struct sgkm_counters *out)
{
	struct sgkm_counters c;
	unsigned int i, j;
	u64 *dst = (u64 *)out;
	const u64 *src = (const u64 *)&c;

	BUILD_BUG_ON(sizeof(struct sgkm_counters) % sizeof(u64));
	memset(out, 0, sizeof(*out));
	for (i = 0; i < sgkm_ndevices; i++) {
		sgkm_stat_read(&sgkm_devices[i], &c);
		for (j = 0; j < sizeof(c) / sizeof(u64); j++)
			dst[j] += src[j];
	}
}
