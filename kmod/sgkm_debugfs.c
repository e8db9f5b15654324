// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_debugfs.c - /sys/kernel/debug/sgkm/: "stats" (module totals) and "sgkm.<i>" (one
 * device), as "name value" lines. The same numbers as the SGKM_IOC_STATS ioctl.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "sgkm.h"

static struct dentry *sgkm_debugfs_dir;

static void sgkm_show_counters(struct seq_file *m, const struct sgkm_counters *c)
{
	static const char * const faults[] = SGKM_FAULT_NAMES;
	static const char * const findings[] = SGKM_FINDING_NAMES;
	unsigned int i;

	seq_printf(m, "live_tables %llu\n", c->live_tables);
	seq_printf(m, "live_mappings %llu\n", c->live_mappings);
	seq_printf(m, "mapped_bytes %llu\n", c->mapped_bytes);
	seq_printf(m, "pinned_bytes %llu\n", c->pinned_bytes);
	seq_printf(m, "tables_created %llu\n", c->tables_created);
	seq_printf(m, "tables_destroyed %llu\n", c->tables_destroyed);
	seq_printf(m, "maps %llu\n", c->maps);
	seq_printf(m, "map_failures %llu\n", c->map_failures);
	seq_printf(m, "unmaps %llu\n", c->unmaps);
	seq_printf(m, "revoked %llu\n", c->revoked);
	seq_printf(m, "binds %llu\n", c->binds);
	seq_printf(m, "unbinds %llu\n", c->unbinds);
	seq_printf(m, "leaked_tables %llu\n", c->leaked_tables);
	for (i = 1; i < SGKM_FAULT_NR; i++)
		seq_printf(m, "injected.%s %llu\n", faults[i], c->injected[i]);
	for (i = 0; i < SGKM_FINDING_NR; i++)
		seq_printf(m, "expected.%s %llu\n", findings[i], c->expected[i]);
}

static int sgkm_stats_show(struct seq_file *m, void *unused)
{
	struct sgkm_device *sdev = m->private;
	struct sgkm_counters c;

	if (sdev) {
		seq_printf(m, "device %s\n", dev_name(sgkm_dev(sdev)));
		seq_printf(m, "bound %d\n", READ_ONCE(sdev->bound));
		seq_printf(m, "dma_mask_bits %d\n", sdev->dma32 ? 32 : 64);
		seq_printf(m, "max_segment %u\n", READ_ONCE(sdev->max_segment));
		sgkm_stat_read(sdev, &c);
	} else {
		seq_printf(m, "ndevices %u\n", sgkm_ndevices);
		seq_printf(m, "max_table_bytes %llu\n", sgkm_max_table_bytes);
		seq_printf(m, "max_pinned_bytes %llu\n", sgkm_max_pinned_bytes);
		seq_printf(m, "devres_races %lld\n", atomic64_read(&sgkm_sgtable_devres_races));
		sgkm_stat_read_all(&c);
	}
	sgkm_show_counters(m, &c);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sgkm_stats);

/**
 * sgkm_debugfs_init() - create the files; failures are not fatal (debugfs is optional)
 */
void sgkm_debugfs_init(void)
{
	unsigned int i;

	sgkm_debugfs_dir = debugfs_create_dir("sgkm", NULL);
	debugfs_create_file("stats", 0400, sgkm_debugfs_dir, NULL, &sgkm_stats_fops);
	for (i = 0; i < sgkm_ndevices; i++)
		debugfs_create_file(dev_name(sgkm_dev(&sgkm_devices[i])), 0400, sgkm_debugfs_dir,
				    &sgkm_devices[i], &sgkm_stats_fops);
	sgkm_selftest_debugfs(sgkm_debugfs_dir);
}

/**
 * sgkm_debugfs_exit() - remove the files; waits for readers, so the devices may go after
 */
void sgkm_debugfs_exit(void)
{
	debugfs_remove_recursive(sgkm_debugfs_dir);
}
