/* SPDX-License-Identifier: GPL-2.0 */
/* sgstress_dev.h - thin wrappers of sgkm's control device and of the driver's sysfs files. */
#ifndef SGSTRESS_DEV_H
#define SGSTRESS_DEV_H

#include <stdint.h>

#include "sgstress.h"

/* Opens /dev/sgkm. Returns the fd, or -errno after printing what failed and what to do. */
int sgs_dev_open(void);

/* Every wrapper below returns 0 or -errno (the ioctl's). */
int sgs_create(int fd, unsigned int device, uint64_t size, unsigned int layout, unsigned int dir,
	       unsigned int fault, uint32_t *id, uint32_t *orig_nents);
int sgs_map(int fd, uint32_t id, uint32_t *nents);
int sgs_verify(int fd, uint32_t id, uint32_t flags, struct sgkm_segment *segs,
	       uint32_t max_segments, struct sgkm_verify *out);
int sgs_unmap(int fd, uint32_t id);
int sgs_destroy(int fd, uint32_t id);
int sgs_stats(int fd, uint32_t device, struct sgkm_stats *out);

/* SGKM_IOC_STATS of the module and of each of its devices (up to SGS_MAX_DEVICES). */
int sgs_snapshot(int fd, struct sgs_snapshot *snap);

/* Writes "sgkm.<index>" to the sgkm driver's sysfs unbind or bind file. */
int sgs_sysfs_unbind(unsigned int index);
int sgs_sysfs_bind(unsigned int index);

/* "ENODEV" for ENODEV, "E123" for what has no name here. */
const char *sgs_errno_name(int err, char buf[16]);

#endif /* SGSTRESS_DEV_H */
