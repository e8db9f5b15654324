// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for sgtrace's probe-failure unbind path: a platform driver whose probe()
 * maps two one-page tables against its device and then fails, the way a driver bails out of
 * probe after it has started DMA setup. The driver core then runs device_unbind_cleanup(),
 * which releases devres, without ever calling device_release_driver_internal().
 *
 *   - the managed table is unmapped by its devres action inside that cleanup: clean;
 *   - the unmanaged one is the bug: its mapping outlives the failed bind, and the module only
 *     unmaps it at unload (unmap_after_unbind), or never within a trace that ends before.
 *
 * It never ships with sgkm.
 */
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/version.h>

#define DRV_NAME "sgkm_probe_fail"

static struct platform_device *pf_pdev;
/* The unmanaged table mapped by the failed probe; the module owns it until unload. */
static struct sg_table *pf_leaked;
static struct device *pf_leaked_dev;

static struct sg_table *pf_table_map(struct device *dev)
{
	struct sg_table *sgt;
	struct page *page;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return NULL;
	page = alloc_page(GFP_KERNEL);
	if (!page)
		goto err_sgt;
	if (sg_alloc_table(sgt, 1, GFP_KERNEL))
		goto err_page;
	sg_set_page(sgt->sgl, page, PAGE_SIZE, 0);
	if (dma_map_sgtable(dev, sgt, DMA_TO_DEVICE, 0))
		goto err_table;
	return sgt;

err_table:
	sg_free_table(sgt);
err_page:
	__free_page(page);
err_sgt:
	kfree(sgt);
	return NULL;
}

static void pf_table_unmap(struct device *dev, struct sg_table *sgt)
{
	struct page *page = sg_page(sgt->sgl);

	dma_unmap_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
	sg_free_table(sgt);
	__free_page(page);
	kfree(sgt);
}

static void pf_devres_unmap(void *data)
{
	pf_table_unmap(&pf_pdev->dev, data);
}

static int pf_probe(struct platform_device *pdev)
{
	struct sg_table *managed;
	int ret;

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	managed = pf_table_map(&pdev->dev);
	if (!managed)
		return -ENOMEM;
	ret = devm_add_action_or_reset(&pdev->dev, pf_devres_unmap, managed);
	if (ret)
		return ret;
	pf_leaked = pf_table_map(&pdev->dev);
	if (pf_leaked)
		pf_leaked_dev = &pdev->dev;
	/* The failure under test: devres unwinds the managed table, nothing unwinds pf_leaked. */
	return -EIO;
}

static struct platform_driver pf_driver = {
	.probe = pf_probe,
	.driver = { .name = DRV_NAME },
};

static int __init pf_init(void)
{
	struct platform_device_info info = {
		.name = DRV_NAME,
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	int ret;

	pf_pdev = platform_device_register_full(&info);
	if (IS_ERR(pf_pdev))
		return PTR_ERR(pf_pdev);
	/* Binds pf_pdev at once: its probe fails, which is not an error of the registration. */
	ret = platform_driver_register(&pf_driver);
	if (ret) {
		platform_device_unregister(pf_pdev);
		return ret;
	}
	if (!pf_leaked)
		pr_warn(DRV_NAME ": probe did not map its unmanaged table\n");
	return 0;
}

static void __exit pf_exit(void)
{
	platform_driver_unregister(&pf_driver);
	/* After the failed bind: sgtrace calls this unmap unmap_after_unbind. */
	if (pf_leaked)
		pf_table_unmap(pf_leaked_dev, pf_leaked);
	platform_device_unregister(pf_pdev);
}

module_init(pf_init);
module_exit(pf_exit);
MODULE_DESCRIPTION("sgtrace test: a driver whose probe maps, then fails");
MODULE_LICENSE("GPL");
