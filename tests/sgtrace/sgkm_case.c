// SPDX-License-Identifier: GPL-2.0
/*
 * sgtrace_sgkm_case: drive /dev/sgkm through one scenario, N times, for sgtrace's guest tests.
 *
 *   sgtrace_sgkm_case SCENARIO [N] [SIZE] [LAYOUT]
 *
 * SCENARIO: clean, clean_unbind, smoke, map_fail (maps that must fail), or an sgkm fault kind (leak_mapping, leak_mapping_unbind,
 * skip_devres, free_while_mapped, double_unmap, unmap_wrong_dir, unmap_wrong_nents,
 * unmap_wrong_dev, leak_table). Every table lives on sgkm.0. Each round: create, map, [unbind
 * and rebind sgkm.0], unmap, destroy. At the end the number of faults sgkm really injected is
 * checked against N (exit 1 if it differs).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sgkm.h"

static int ctl;

static void die(const char *what)
{
	fprintf(stderr, "sgtrace_sgkm_case: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sysfs_write(const char *file, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", SGKM_SYSFS_DRIVER_DIR, file);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		die(path);
	close(fd);
}

static void unbind_rebind(void)
{
	sysfs_write("unbind", "sgkm.0");
	sysfs_write("bind", "sgkm.0");
}

static __u32 create(__u32 fault, __u64 size, __u32 layout)
{
	struct sgkm_create c = { .argsz = sizeof(c), .device = 0, .layout = layout,
				 .dir = SGKM_DIR_TO_DEVICE, .ownership = SGKM_OWNED,
				 .fault = fault, .size = size };

	if (ioctl(ctl, SGKM_IOC_CREATE, &c))
		die("create");
	return c.id;
}

static int table_op(unsigned long op, __u32 id)
{
	struct sgkm_table_op t = { .argsz = sizeof(t), .id = id };

	return ioctl(ctl, op, &t) ? -errno : 0;
}

static int try_map(__u32 id)
{
	struct sgkm_map m = { .argsz = sizeof(m), .id = id };

	return ioctl(ctl, SGKM_IOC_MAP, &m) ? -errno : 0;
}

static void map(__u32 id)
{
	int err = try_map(id);

	if (err) {
		errno = -err;
		die("map");
	}
}

static __u64 injected(__u32 fault)
{
	struct sgkm_stats s = { .argsz = sizeof(s), .device = SGKM_DEVICE_ALL };

	if (ioctl(ctl, SGKM_IOC_STATS, &s))
		die("stats");
	return s.c.injected[fault];
}

int main(int argc, char **argv)
{
	static const char *const names[] = SGKM_FAULT_NAMES;
	const char *scenario = argc > 1 ? argv[1] : "clean";
	int n = argc > 2 ? atoi(argv[2]) : 1;
	__u64 size = argc > 3 ? strtoull(argv[3], NULL, 0) : 16384;
	__u32 layout = argc > 4 && !strcmp(argv[4], "contiguous") ? SGKM_LAYOUT_CONTIGUOUS
								   : SGKM_LAYOUT_SCATTERED;
	__u32 fault = SGKM_FAULT_NONE;
	int unbind = 0;
	__u64 before;

	if (!strcmp(scenario, "clean_unbind") || !strcmp(scenario, "leak_mapping_unbind"))
		unbind = 1;
	for (__u32 f = 1; f < SGKM_FAULT_NR; f++)
		if (!strncmp(scenario, names[f], strlen(names[f])))
			fault = f;
	if (fault == SGKM_FAULT_SKIP_DEVRES)
		unbind = 1;
	if (fault == SGKM_FAULT_NONE && strcmp(scenario, "clean") && strcmp(scenario, "smoke") &&
	    strcmp(scenario, "map_fail") &&
	    strcmp(scenario, "clean_unbind")) {
		fprintf(stderr, "sgtrace_sgkm_case: unknown scenario %s\n", scenario);
		return 2;
	}
	ctl = open(SGKM_CONTROL_PATH, O_RDWR);
	if (ctl < 0)
		die(SGKM_CONTROL_PATH);
	if (!strcmp(scenario, "map_fail")) {
		/* A table too large for the bounce buffer of a 32-bit device (load sgkm with
		 * dma32_devices=1 in a guest with memory above 4 GiB): every map must fail. */
		for (int i = 0; i < n; i++) {
			__u32 id = create(SGKM_FAULT_NONE, size, layout);
			int err = try_map(id);

			if (!err) {
				fprintf(stderr, "sgtrace_sgkm_case: map of %llu bytes did not fail\n",
					(unsigned long long)size);
				return 1;
			}
			if (table_op(SGKM_IOC_DESTROY, id))
				die("destroy");
		}
		return 0;
	}
	before = injected(fault);
	for (int i = 0; i < n; i++) {
		__u32 id = create(fault, size, layout);
		int err;

		map(id);
		if (unbind)
			unbind_rebind();
		/* After an unbind the devres mapping is gone: unmap says ENXIO or EALREADY. */
		err = table_op(SGKM_IOC_UNMAP, id);
		if (err && !(unbind && (err == -ENXIO || err == -EALREADY)) &&
		    fault != SGKM_FAULT_FREE_WHILE_MAPPED) {
			errno = -err;
			die("unmap");
		}
		if (table_op(SGKM_IOC_DESTROY, id))
			die("destroy");
	}
	if (fault != SGKM_FAULT_NONE && injected(fault) - before != (__u64)n) {
		fprintf(stderr, "sgtrace_sgkm_case: sgkm injected %llu %s faults, expected %d\n",
			(unsigned long long)(injected(fault) - before), names[fault], n);
		return 1;
	}
	close(ctl);
	return 0;
}
