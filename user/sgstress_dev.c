// SPDX-License-Identifier: GPL-2.0
/* sgstress_dev.c - sgkm's control device and the driver's sysfs bind/unbind files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sgstress_dev.h"

int sgs_dev_open(void)
{
	int fd = open(SGKM_CONTROL_PATH, O_RDWR | O_CLOEXEC);
	int err = errno;

	if (fd >= 0)
		return fd;
	fprintf(stderr, "sgstress: %s: %s: %s\n", SGKM_CONTROL_PATH, strerror(err),
		err == ENOENT ? "load sgkm.ko (insmod sgkm.ko)" :
		err == EACCES || err == EPERM ? "run sgstress as root" :
		"check that sgkm.ko is loaded and working (dmesg)");
	return -err;
}

static int do_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

int sgs_create(int fd, unsigned int device, uint64_t size, unsigned int layout, unsigned int dir,
	       unsigned int fault, uint32_t *id, uint32_t *orig_nents)
{
	struct sgkm_create c = {
		.argsz = sizeof(c), .device = device, .layout = layout, .dir = dir,
		.ownership = SGKM_OWNED, .fault = fault, .size = size,
	};
	int ret = do_ioctl(fd, SGKM_IOC_CREATE, &c);

	if (!ret) {
		*id = c.id;
		if (orig_nents)
			*orig_nents = c.orig_nents;
	}
	return ret;
}

int sgs_map(int fd, uint32_t id, uint32_t *nents)
{
	struct sgkm_map m = { .argsz = sizeof(m), .id = id };
	int ret = do_ioctl(fd, SGKM_IOC_MAP, &m);

	if (!ret && nents)
		*nents = m.nents;
	return ret;
}

int sgs_verify(int fd, uint32_t id, uint32_t flags, struct sgkm_segment *segs,
	       uint32_t max_segments, struct sgkm_verify *out)
{
	memset(out, 0, sizeof(*out));
	out->argsz = sizeof(*out);
	out->flags = flags;
	out->id = id;
	out->max_segments = segs ? max_segments : 0;
	out->segments = (uintptr_t)segs;
	return do_ioctl(fd, SGKM_IOC_VERIFY, out);
}

static int table_op(int fd, unsigned long req, uint32_t id)
{
	struct sgkm_table_op op = { .argsz = sizeof(op), .id = id };

	return do_ioctl(fd, req, &op);
}

int sgs_unmap(int fd, uint32_t id)
{
	return table_op(fd, SGKM_IOC_UNMAP, id);
}

int sgs_destroy(int fd, uint32_t id)
{
	return table_op(fd, SGKM_IOC_DESTROY, id);
}

int sgs_stats(int fd, uint32_t device, struct sgkm_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->argsz = sizeof(*out);
	out->device = device;
	return do_ioctl(fd, SGKM_IOC_STATS, out);
}

int sgs_snapshot(int fd, struct sgs_snapshot *snap)
{
	int ret = sgs_stats(fd, SGKM_DEVICE_ALL, &snap->all);

	if (ret)
		return ret;
	snap->ndevices = snap->all.ndevices < SGS_MAX_DEVICES ? snap->all.ndevices : SGS_MAX_DEVICES;
	for (unsigned int i = 0; i < snap->ndevices; i++) {
		ret = sgs_stats(fd, i, &snap->dev[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int sysfs_write(const char *file, unsigned int index)
{
	char path[128], name[32];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", SGKM_SYSFS_DRIVER_DIR, file);
	len = snprintf(name, sizeof(name), "%s.%u", SGKM_DRIVER_NAME, index);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, name, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

int sgs_sysfs_unbind(unsigned int index)
{
	return sysfs_write("unbind", index);
}

int sgs_sysfs_bind(unsigned int index)
{
	return sysfs_write("bind", index);
}

const char *sgs_errno_name(int err, char buf[16])
{
	static const struct { int err; const char *name; } names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EIO, "EIO" }, { ENXIO, "ENXIO" },
		{ E2BIG, "E2BIG" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" }, { EFAULT, "EFAULT" },
		{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" }, { EINVAL, "EINVAL" },
		{ ENOSPC, "ENOSPC" }, { ENOTTY, "ENOTTY" }, { ENODATA, "ENODATA" },
		{ EALREADY, "EALREADY" }, { EAGAIN, "EAGAIN" }, { EINTR, "EINTR" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { ERANGE, "ERANGE" }, { ESRCH, "ESRCH" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(buf, 16, "E%d", err);
	return buf;
}
