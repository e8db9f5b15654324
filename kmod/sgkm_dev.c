// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_dev.c - the virtual platform devices "sgkm.<i>" and the "sgkm" platform driver.
 *
 * The devices exist from module load to unload; the driver can be unbound from and bound to
 * each of them at any time through sysfs, also while tables are live. Unbinding is what the
 * sg-table API's device management is about: devres unmaps managed mappings, and remove()
 * records which unmanaged (fault-injected) mappings outlive the unbind.
 */
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/version.h>

#include "sgkm.h"

static unsigned int ndevices = 4;
module_param(ndevices, uint, 0444);
MODULE_PARM_DESC(ndevices, "number of virtual platform devices sgkm.0.. (1-64, default 4)");

static unsigned long dma32_devices;
module_param(dma32_devices, ulong, 0444);
MODULE_PARM_DESC(dma32_devices,
		 "bitmask of device indexes that get a 32-bit DMA mask, so swiotlb bounces pages above 4 GiB (default 0)");

struct sgkm_device *sgkm_devices;
unsigned int sgkm_ndevices;

static int sgkm_probe(struct platform_device *pdev)
{
	struct sgkm_device *sdev;
	int ret;

	if (pdev->id < 0 || pdev->id >= sgkm_ndevices)
		return -ENODEV;
	sdev = &sgkm_devices[pdev->id];
	if (sdev->pdev != pdev)
		return -ENODEV;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(sdev->dma32 ? 32 : 64));
	if (ret)
		return ret;
	sdev->max_segment = sgkm_max_segment(&pdev->dev);
	platform_set_drvdata(pdev, sdev);
	sdev->bound = true;
	sgkm_stat_bound(sdev);
	return 0;
}

/*
 * Runs with device_lock held, before the device's devres entries are released (which unmaps
 * the managed mappings). Unmanaged mappings survive the unbind: mark each live one, so that
 * the ground truth calls it outlives_unbind (still live later) or unmap_after_unbind (unmapped
 * later). The unmanaged list only changes under device_lock, so this walk races with nothing.
 */
static void sgkm_remove(struct platform_device *pdev)
{
	struct sgkm_device *sdev = platform_get_drvdata(pdev);
	struct sgkm_table *t;
	u64 now_outliving = 0;

	sdev->bound = false;
	list_for_each_entry(t, &sdev->unmanaged, unmanaged_link) {
		if (!t->unbound_since_map) {
			t->unbound_since_map = true;
			now_outliving++;
		}
	}
	sgkm_stat_unbound(sdev, now_outliving);
}

static struct platform_driver sgkm_driver = {
	.probe = sgkm_probe,
	/*
	 * 6.11 made platform_driver.remove() return void and kept .remove_new as its alias until
	 * 6.13 removed it; before 6.11 only .remove_new takes a void function.
	 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	.remove = sgkm_remove,
#else
	.remove_new = sgkm_remove,
#endif
	.driver = {
		.name = SGKM_DRIVER_NAME,
	},
};

/**
 * sgkm_devices_init() - register the devices, then the driver (which binds them all)
 *
 * Return: 0 or an errno; on error nothing stays registered.
 */
int sgkm_devices_init(void)
{
	unsigned int i;
	int ret;

	if (!ndevices || ndevices > SGKM_MAX_DEVICES) {
		pr_err("sgkm: ndevices must be 1..%d\n", SGKM_MAX_DEVICES);
		return -EINVAL;
	}
	sgkm_devices = kcalloc(ndevices, sizeof(*sgkm_devices), GFP_KERNEL);
	if (!sgkm_devices)
		return -ENOMEM;
	sgkm_ndevices = ndevices;
	for (i = 0; i < ndevices; i++) {
		struct sgkm_device *sdev = &sgkm_devices[i];
		struct platform_device_info info = {
			.name = SGKM_DRIVER_NAME,
			.id = i,
			/* probe() narrows it for dma32 devices; a mask must exist to map at all */
			.dma_mask = DMA_BIT_MASK(64),
		};

		sdev->index = i;
		sdev->dma32 = i < BITS_PER_LONG && (dma32_devices & BIT(i));
		INIT_LIST_HEAD(&sdev->unmanaged);
		spin_lock_init(&sdev->stats_lock);
		sdev->pdev = platform_device_register_full(&info);
		if (IS_ERR(sdev->pdev)) {
			ret = PTR_ERR(sdev->pdev);
			sdev->pdev = NULL;
			goto err_devices;
		}
	}
	ret = platform_driver_register(&sgkm_driver);
	if (ret)
		goto err_devices;
	return 0;

err_devices:
	for (i = 0; i < ndevices; i++)
		if (sgkm_devices[i].pdev)
			platform_device_unregister(sgkm_devices[i].pdev);
	kfree(sgkm_devices);
	sgkm_devices = NULL;
	sgkm_ndevices = 0;
	return ret;
}

/**
 * sgkm_devices_exit() - unregister the driver (unbinding every device), then the devices
 *
 * Context: no table may be left (the control device is gone and the leaked tables released).
 */
void sgkm_devices_exit(void)
{
	unsigned int i;

	platform_driver_unregister(&sgkm_driver);
	for (i = 0; i < sgkm_ndevices; i++)
		platform_device_unregister(sgkm_devices[i].pdev);
	kfree(sgkm_devices);
	sgkm_devices = NULL;
	sgkm_ndevices = 0;
}
