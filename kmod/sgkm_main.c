// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_main.c - module load and unload.
 *
 * Setup: devices and driver (binds them), debugfs, then /dev/sgkm last so that no ioctl can
 * run before everything it uses exists. Unload in reverse: /dev/sgkm (no file is open: each
 * holds a module reference), debugfs, the tables that faults parked (their devices still
 * registered, so their mappings can be unmapped), then the driver and the devices.
 */
#include <linux/module.h>
#include <linux/sizes.h>

#include "sgkm.h"

static unsigned int max_table_mb = 512;
module_param(max_table_mb, uint, 0444);
MODULE_PARM_DESC(max_table_mb, "largest table in MiB (default 512)");

static unsigned int max_pinned_mb = 1024;
module_param(max_pinned_mb, uint, 0444);
MODULE_PARM_DESC(max_pinned_mb, "cap on the buffer MiB all tables hold together (default 1024)");

u64 sgkm_max_table_bytes;
u64 sgkm_max_pinned_bytes;

static int __init sgkm_init(void)
{
	int ret;

	if (!max_table_mb || !max_pinned_mb)
		return -EINVAL;
	sgkm_max_table_bytes = (u64)max_table_mb * SZ_1M;
	sgkm_max_pinned_bytes = (u64)max_pinned_mb * SZ_1M;
	ret = sgkm_devices_init();
	if (ret)
		return ret;
	sgkm_debugfs_init();
	ret = sgkm_ctl_init();
	if (ret) {
		sgkm_debugfs_exit();
		sgkm_devices_exit();
		return ret;
	}
	return 0;
}

static void __exit sgkm_exit(void)
{
	sgkm_ctl_exit();
	sgkm_debugfs_exit();
	sgkm_leaked_release_all();
	sgkm_devices_exit();
}

module_init(sgkm_init);
module_exit(sgkm_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("sgtrace project");
MODULE_DESCRIPTION("Scatter-gather table API on virtual platform devices, with DMA fault injection");
