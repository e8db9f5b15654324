// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_scale: benchmark-only module that holds a large number of live scatter-gather DMA
 * mappings at once, so that the tracer's capacity and report time can be measured (docs/perf.md).
 *
 * Each mapping is a one-entry sg_table over one shared page, mapped with dma_map_sgtable() for a
 * platform device of this module. Sharing the page keeps 1,000,000 mappings at ~64 MB (the
 * scatterlists), which a small guest can afford; the tracer keys mappings by scatterlist, so
 * every table is a distinct mapping to it.
 *
 * Control: /sys/kernel/debug/sgkm_scale/mappings
 *   write N (> 0)  map N more tables;  write 0  unmap and free all;  read  live count
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#define SCALE_MAX_MAPPINGS	(4u << 20)

static struct platform_device *scale_pdev;
static struct page *scale_page;
static struct dentry *scale_dir;
static DEFINE_MUTEX(scale_lock);	/* protects scale_tables and scale_count */
static struct sg_table **scale_tables;	/* vmalloc'ed array of SCALE_MAX_MAPPINGS */
static unsigned long scale_count;

static void scale_unmap_all(void)
{
	struct device *dev = &scale_pdev->dev;

	while (scale_count) {
		struct sg_table *sgt = scale_tables[--scale_count];

		dma_unmap_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
		sg_free_table(sgt);
		kfree(sgt);
		cond_resched();
	}
}

static int scale_map_one(struct device *dev)
{
	struct sg_table *sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	int ret;

	if (!sgt)
		return -ENOMEM;
	ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
	if (ret)
		goto free_sgt;
	sg_set_page(sgt->sgl, scale_page, PAGE_SIZE, 0);
	ret = dma_map_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
	if (ret)
		goto free_table;
	scale_tables[scale_count++] = sgt;
	return 0;

free_table:
	sg_free_table(sgt);
free_sgt:
	kfree(sgt);
	return ret;
}

static int scale_map_more(unsigned long n)
{
	int ret = 0;

	if (n > SCALE_MAX_MAPPINGS - scale_count)
		return -E2BIG;
	while (n-- && !ret) {
		ret = scale_map_one(&scale_pdev->dev);
		cond_resched();
	}
	return ret;
}

static ssize_t scale_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	unsigned long n;
	int ret;

	ret = kstrtoul_from_user(ubuf, len, 0, &n);
	if (ret)
		return ret;
	mutex_lock(&scale_lock);
	if (n)
		ret = scale_map_more(n);
	else
		scale_unmap_all();
	mutex_unlock(&scale_lock);
	return ret ? ret : len;
}

static ssize_t scale_read(struct file *file, char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[32];
	int n;

	mutex_lock(&scale_lock);
	n = scnprintf(buf, sizeof(buf), "%lu\n", scale_count);
	mutex_unlock(&scale_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations scale_fops = {
	.owner = THIS_MODULE,
	.read = scale_read,
	.write = scale_write,
	.llseek = default_llseek,
};

static int __init sgkm_scale_init(void)
{
	struct platform_device_info info = {
		.name = "sgkm_scale",
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	int ret;

	scale_tables = vzalloc(array_size(SCALE_MAX_MAPPINGS, sizeof(*scale_tables)));
	if (!scale_tables)
		return -ENOMEM;
	scale_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!scale_page) {
		ret = -ENOMEM;
		goto free_tables;
	}
	scale_pdev = platform_device_register_full(&info);
	if (IS_ERR(scale_pdev)) {
		ret = PTR_ERR(scale_pdev);
		goto free_page;
	}
	scale_dir = debugfs_create_dir("sgkm_scale", NULL);
	debugfs_create_file("mappings", 0600, scale_dir, NULL, &scale_fops);
	return 0;

free_page:
	__free_page(scale_page);
free_tables:
	vfree(scale_tables);
	return ret;
}

static void __exit sgkm_scale_exit(void)
{
	debugfs_remove_recursive(scale_dir);
	mutex_lock(&scale_lock);
	scale_unmap_all();
	mutex_unlock(&scale_lock);
	platform_device_unregister(scale_pdev);
	__free_page(scale_page);
	vfree(scale_tables);
}

module_init(sgkm_scale_init);
module_exit(sgkm_scale_exit);
MODULE_DESCRIPTION("sgtrace benchmark: many live scatter-gather DMA mappings");
MODULE_LICENSE("GPL");
