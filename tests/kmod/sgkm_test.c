// SPDX-License-Identifier: GPL-2.0
/*
 * sgkm_test - tests of the sgkm module through /dev/sgkm, in the kselftest harness style:
 * each test runs in a forked child, results are TAP, the exit status is nonzero when a test
 * failed. Runs as root in the guest with sgkm loaded (tests/vm/run).
 *
 *   sgkm_test [--duration S] [--threads N] [--list] [--no-unload] [TEST...]
 *
 * --duration: length of each timed test, the create/destroy and unbind/bind races (default
 * 30 s); --threads: their worker threads (default 4). A test fails too when the kernel got
 * tainted by an error while it ran. The unload test must be last: it unloads and reloads the
 * module (with the same parameters).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sgkm.h>

#define KSFT_SKIP 4
#define PAGE 4096ull
#define MiB (1024ull * 1024)

static unsigned int opt_duration = 30;
static unsigned int opt_threads = 4;
static bool opt_no_unload;
static int test_failed;

#define diag(...) do { printf("# " __VA_ARGS__); printf("\n"); fflush(stdout); } while (0)

#define EXPECT_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		diag("%s:%d: %s == %lld, expected %s == %lld", __FILE__,	\
		     __LINE__, #a, _a, #b, _b);				\
		test_failed = 1;					\
	}								\
} while (0)
#define ASSERT_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		diag("%s:%d: %s == %lld, expected %s == %lld (fatal)",	\
		     __FILE__, __LINE__, #a, _a, #b, _b);		\
		exit(1);						\
	}								\
} while (0)
#define EXPECT_TRUE(c) do {						\
	if (!(c)) {							\
		diag("%s:%d: expected %s", __FILE__, __LINE__, #c);	\
		test_failed = 1;					\
	}								\
} while (0)
#define SKIP(...) do { printf("# SKIP: "); printf(__VA_ARGS__); printf("\n"); exit(KSFT_SKIP); } while (0)

/* ---- thin wrappers: return 0 or -errno ---- */

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int open_ctl(void)
{
	int fd = open(SGKM_CONTROL_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		diag("open %s: %s", SGKM_CONTROL_PATH, strerror(errno));
		exit(1);
	}
	return fd;
}

struct tspec {
	uint32_t dev;
	uint64_t size;
	uint32_t layout;
	uint32_t dir;
	uint32_t own;
	uint32_t fault;
};

static int create_ex(int fd, const struct tspec *s, uint32_t *id, struct sgkm_create *out)
{
	struct sgkm_create c = {
		.argsz = sizeof(c), .device = s->dev, .size = s->size, .layout = s->layout,
		.dir = s->dir, .ownership = s->own, .fault = s->fault,
	};
	int ret = xioctl(fd, SGKM_IOC_CREATE, &c);

	if (!ret && id)
		*id = c.id;
	if (out)
		*out = c;
	return ret;
}

static int create(int fd, uint32_t dev, uint64_t size, uint32_t layout, uint32_t own,
		  uint32_t fault, uint32_t *id)
{
	struct tspec s = { dev, size, layout, SGKM_DIR_BIDIRECTIONAL, own, fault };

	return create_ex(fd, &s, id, NULL);
}

static int map_ex(int fd, uint32_t id, uint32_t flags, uint32_t dev, struct sgkm_map *out)
{
	struct sgkm_map m = { .argsz = sizeof(m), .flags = flags, .id = id, .device = dev };
	int ret = xioctl(fd, SGKM_IOC_MAP, &m);

	if (out)
		*out = m;
	return ret;
}

static int map(int fd, uint32_t id)
{
	return map_ex(fd, id, 0, 0, NULL);
}

static int unmap(int fd, uint32_t id)
{
	struct sgkm_table_op o = { .argsz = sizeof(o), .id = id };

	return xioctl(fd, SGKM_IOC_UNMAP, &o);
}

static int destroy(int fd, uint32_t id)
{
	struct sgkm_table_op o = { .argsz = sizeof(o), .id = id };

	return xioctl(fd, SGKM_IOC_DESTROY, &o);
}

static int verify(int fd, uint32_t id, uint32_t flags, struct sgkm_verify *v,
		  struct sgkm_segment *segs, uint32_t max)
{
	struct sgkm_verify a = {
		.argsz = sizeof(a), .flags = flags, .id = id, .max_segments = max,
		.segments = (uintptr_t)segs,
	};
	int ret = xioctl(fd, SGKM_IOC_VERIFY, &a);

	if (v)
		*v = a;
	return ret;
}

static uint32_t state_of(int fd, uint32_t id)
{
	struct sgkm_verify v;

	if (verify(fd, id, SGKM_VERIFY_F_INFO, &v, NULL, 0))
		return ~0u;
	return v.state;
}

static struct sgkm_stats stats(int fd, uint32_t dev)
{
	struct sgkm_stats s = { .argsz = sizeof(s), .device = dev };

	ASSERT_EQ(xioctl(fd, SGKM_IOC_STATS, &s), 0);
	return s;
}

static int write_sysfs(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int unbind(uint32_t dev)
{
	char name[32];

	snprintf(name, sizeof(name), SGKM_DRIVER_NAME ".%u", dev);
	return write_sysfs(SGKM_SYSFS_DRIVER_DIR "/unbind", name);
}

static int bind(uint32_t dev)
{
	char name[32];

	snprintf(name, sizeof(name), SGKM_DRIVER_NAME ".%u", dev);
	return write_sysfs(SGKM_SYSFS_DRIVER_DIR "/bind", name);
}

static void bind_all(int fd)
{
	struct sgkm_stats all = stats(fd, SGKM_DEVICE_ALL);
	uint32_t i;

	for (i = 0; i < all.ndevices; i++)
		if (!stats(fd, i).bound)
			ASSERT_EQ(bind(i), 0);
}

/*
 * The invariant between the gauges: every live mapping is expected as leak or outlives_unbind,
 * except free_while_mapped ones, which got their finding at the free and stay mapped until
 * unload.
 */
static void check_gauges(int fd)
{
	struct sgkm_stats s = stats(fd, SGKM_DEVICE_ALL);

	EXPECT_EQ(s.c.live_mappings, s.c.expected[SGKM_FINDING_LEAK] +
		  s.c.expected[SGKM_FINDING_OUTLIVES_UNBIND] +
		  s.c.injected[SGKM_FAULT_FREE_WHILE_MAPPED]);
}

static bool is_dma32(int fd, uint32_t dev)
{
	return stats(fd, dev).dma_mask_bits == 32;
}

/* Verify both views of a table and check what the module promises about them. */
static void check_views(int fd, uint32_t id, uint64_t size, bool mapped)
{
	static struct sgkm_segment segs[70000];
	struct sgkm_verify v;
	uint64_t sum = 0;
	uint32_t i;

	ASSERT_EQ(verify(fd, id, SGKM_VERIFY_F_CPU, &v, segs, 70000), 0);
	EXPECT_EQ(v.size, size);
	EXPECT_EQ(v.total_len, size);
	EXPECT_EQ(v.nsegments, v.orig_nents);
	for (i = 0; i < v.nsegments && i < 70000; i++)
		sum += segs[i].len;
	if (v.nsegments <= 70000)
		EXPECT_EQ(sum, size);
	if (!mapped) {
		EXPECT_EQ(verify(fd, id, 0, &v, NULL, 0), -ENODATA);
		return;
	}
	ASSERT_EQ(verify(fd, id, 0, &v, segs, 70000), 0);
	EXPECT_EQ(v.total_len, size);
	EXPECT_EQ(v.nsegments, v.nents);
	EXPECT_TRUE(v.nents >= 1 && v.nents <= v.orig_nents);
	sum = 0;
	for (i = 0; i < v.nsegments && i < 70000; i++) {
		sum += segs[i].len;
		EXPECT_TRUE(segs[i].len <= v.max_segment);
	}
	if (v.nsegments <= 70000)
		EXPECT_EQ(sum, size);
}

/* Let @seconds pass (the caller's threads do the work and stop when told). */
static void wait_duration(unsigned int seconds)
{
	struct timespec t0, t1, tick = { 0, 100 * 1000 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		nanosleep(&tick, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (t1.tv_sec - t0.tv_sec < (time_t)seconds);
}

/* ---- tests ---- */

static void test_control_device(void)
{
	struct stat st;
	struct sgkm_stats s;
	int fd;

	ASSERT_EQ(stat(SGKM_CONTROL_PATH, &st), 0);
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0600);
	fd = open_ctl();
	s = stats(fd, SGKM_DEVICE_ALL);
	EXPECT_EQ(s.version, SGKM_UAPI_VERSION);
	EXPECT_TRUE(s.ndevices >= 1);
	EXPECT_EQ(s.bound, s.ndevices);
	EXPECT_EQ(access(SGKM_SYSFS_DRIVER_DIR "/" SGKM_DRIVER_NAME ".0", F_OK), 0);
	EXPECT_EQ(access("/sys/kernel/debug/sgkm/stats", R_OK), 0);
	EXPECT_EQ(access("/sys/kernel/debug/sgkm/sgkm.0", R_OK), 0);
	s = stats(fd, 0);
	EXPECT_TRUE(s.dma_mask_bits == 64 || s.dma_mask_bits == 32);
	EXPECT_TRUE(s.max_segment >= PAGE);
	close(fd);
}

/* The sg-table API's own contract, checked in the kernel (debugfs "selftest"). */
static void test_api_selftest(void)
{
	FILE *f = fopen("/sys/kernel/debug/sgkm/selftest", "r");
	char line[256];
	bool pass = false;

	ASSERT_EQ(f != NULL, 1);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		diag("%s", line);
		if (!strcmp(line, "selftest: pass"))
			pass = true;
	}
	fclose(f);
	EXPECT_TRUE(pass);
}

static void test_owned_lifecycle(void)
{
	int fd = open_ctl();
	uint32_t layout, dir, id;
	struct sgkm_map m;
	struct sgkm_create c;
	struct sgkm_stats before, after;

	before = stats(fd, 0);
	for (layout = 0; layout < SGKM_LAYOUT_NR; layout++) {
		for (dir = 0; dir < SGKM_DIR_NR; dir++) {
			struct tspec s = { 0, 37 * PAGE + 123, layout, dir, SGKM_OWNED, 0 };

			ASSERT_EQ(create_ex(fd, &s, &id, &c), 0);
			EXPECT_TRUE(id >= 1);
			EXPECT_TRUE(c.orig_nents >= 1);
			if (layout == SGKM_LAYOUT_SCATTERED)
				EXPECT_EQ(c.orig_nents, 38);
			/* UNMAPPED: every op */
			EXPECT_EQ(state_of(fd, id), SGKM_STATE_UNMAPPED);
			check_views(fd, id, s.size, false);
			EXPECT_EQ(unmap(fd, id), -EALREADY);
			/* -> MAPPED_MANAGED */
			ASSERT_EQ(map_ex(fd, id, 0, 0, &m), 0);
			EXPECT_EQ(m.state, SGKM_STATE_MAPPED_MANAGED);
			EXPECT_TRUE(m.nents >= 1 && m.nents <= c.orig_nents);
			EXPECT_EQ(state_of(fd, id), SGKM_STATE_MAPPED_MANAGED);
			EXPECT_EQ(map(fd, id), -EBUSY);
			check_views(fd, id, s.size, true);
			/* -> UNMAPPED, and again */
			EXPECT_EQ(unmap(fd, id), 0);
			EXPECT_EQ(state_of(fd, id), SGKM_STATE_UNMAPPED);
			EXPECT_EQ(unmap(fd, id), -EALREADY);
			EXPECT_EQ(map(fd, id), 0);
			/* destroy while mapped */
			EXPECT_EQ(destroy(fd, id), 0);
			EXPECT_EQ(destroy(fd, id), -ENOENT);
			EXPECT_EQ(map(fd, id), -ENOENT);
			EXPECT_EQ(unmap(fd, id), -ENOENT);
			EXPECT_EQ(verify(fd, id, 0, NULL, NULL, 0), -ENOENT);
		}
	}
	after = stats(fd, 0);
	EXPECT_EQ(after.c.maps - before.c.maps, 2 * SGKM_LAYOUT_NR * SGKM_DIR_NR);
	EXPECT_EQ(after.c.unmaps - before.c.unmaps, 2 * SGKM_LAYOUT_NR * SGKM_DIR_NR);
	EXPECT_EQ(after.c.live_tables, before.c.live_tables);
	EXPECT_EQ(after.c.live_mappings, before.c.live_mappings);
	EXPECT_EQ(after.c.tables_created - before.c.tables_created, SGKM_LAYOUT_NR * SGKM_DIR_NR);
	check_gauges(fd);
	close(fd);
}

static void test_borrowed_lifecycle(void)
{
	int fd = open_ctl();
	struct sgkm_stats before, after;
	struct sgkm_verify v;
	struct sgkm_map m;
	uint32_t id;

	before = stats(fd, 1 % stats(fd, SGKM_DEVICE_ALL).ndevices);
	ASSERT_EQ(create(fd, before.device, 16 * PAGE, SGKM_LAYOUT_SCATTERED, SGKM_BORROWED, 0, &id), 0);
	/* The object makes its table on first use: no view of any kind before. */
	EXPECT_EQ(state_of(fd, id), SGKM_STATE_UNMAPPED);
	EXPECT_EQ(verify(fd, id, 0, NULL, NULL, 0), -ENODATA);
	EXPECT_EQ(verify(fd, id, SGKM_VERIFY_F_CPU, NULL, NULL, 0), -ENODATA);
	EXPECT_EQ(unmap(fd, id), -EALREADY);
	ASSERT_EQ(map_ex(fd, id, 0, 0, &m), 0);
	EXPECT_EQ(m.state, SGKM_STATE_MAPPED_BORROWED);
	EXPECT_EQ(m.nents, 16);
	EXPECT_EQ(map(fd, id), -EBUSY);
	check_views(fd, id, 16 * PAGE, true);
	ASSERT_EQ(verify(fd, id, 0, &v, NULL, 0), 0);
	EXPECT_EQ(v.ownership, SGKM_BORROWED);
	EXPECT_EQ(v.state, SGKM_STATE_MAPPED_BORROWED);
	/* Giving the view back keeps the object's mapping; mapping again takes the fast path. */
	EXPECT_EQ(unmap(fd, id), 0);
	EXPECT_EQ(state_of(fd, id), SGKM_STATE_UNMAPPED);
	EXPECT_EQ(verify(fd, id, 0, NULL, NULL, 0), -ENODATA);
	EXPECT_EQ(verify(fd, id, SGKM_VERIFY_F_CPU, &v, NULL, 0), 0);
	EXPECT_EQ(v.total_len, 16 * PAGE);
	EXPECT_EQ(unmap(fd, id), -EALREADY);
	EXPECT_EQ(map(fd, id), 0);
	after = stats(fd, before.device);
	EXPECT_EQ(after.c.maps - before.c.maps, 1);
	EXPECT_EQ(after.c.live_mappings - before.c.live_mappings, 1);
	EXPECT_EQ(destroy(fd, id), 0);
	after = stats(fd, before.device);
	EXPECT_EQ(after.c.live_mappings, before.c.live_mappings);
	EXPECT_EQ(after.c.unmaps - before.c.unmaps, 1);
	EXPECT_EQ(after.c.live_tables, before.c.live_tables);
	check_gauges(fd);
	close(fd);
}

static void test_device_mismatch(void)
{
	int fd = open_ctl();
	uint32_t n = stats(fd, SGKM_DEVICE_ALL).ndevices;
	uint32_t own, id;

	if (n < 2)
		SKIP("needs 2 devices");
	for (own = 0; own < SGKM_OWNERSHIP_NR; own++) {
		ASSERT_EQ(create(fd, 0, 3 * PAGE, SGKM_LAYOUT_CONTIGUOUS, own, 0, &id), 0);
		EXPECT_EQ(map_ex(fd, id, SGKM_MAP_F_DEVICE, 1, NULL), -EINVAL);
		EXPECT_EQ(map_ex(fd, id, SGKM_MAP_F_DEVICE, n, NULL), -ENODEV);
		EXPECT_EQ(map_ex(fd, id, SGKM_MAP_F_DEVICE, ~0u, NULL), -ENODEV);
		EXPECT_EQ(map_ex(fd, id, 0x80, 0, NULL), -EINVAL);
		EXPECT_EQ(state_of(fd, id), SGKM_STATE_UNMAPPED);
		EXPECT_EQ(map_ex(fd, id, SGKM_MAP_F_DEVICE, 0, NULL), 0);
		EXPECT_EQ(destroy(fd, id), 0);
	}
	close(fd);
}

static void test_bad_create(void)
{
	int fd = open_ctl();
	struct sgkm_stats all = stats(fd, SGKM_DEVICE_ALL);
	struct sgkm_create c;
	uint32_t id;

	EXPECT_EQ(create(fd, 0, 0, 0, 0, 0, &id), -EINVAL);
	EXPECT_EQ(create(fd, 0, all.max_table_bytes + 1, 0, 0, 0, &id), -E2BIG);
	EXPECT_EQ(create(fd, 0, ~0ull, 0, 0, 0, &id), -E2BIG);
	EXPECT_EQ(create(fd, all.ndevices, PAGE, 0, 0, 0, &id), -ENODEV);
	EXPECT_EQ(create(fd, ~0u, PAGE, 0, 0, 0, &id), -ENODEV);
	EXPECT_EQ(create(fd, 0, PAGE, SGKM_LAYOUT_NR, 0, 0, &id), -EINVAL);
	EXPECT_EQ(create(fd, 0, PAGE, ~0u, 0, 0, &id), -EINVAL);
	EXPECT_EQ(create(fd, 0, PAGE, 0, SGKM_OWNERSHIP_NR, 0, &id), -EINVAL);
	EXPECT_EQ(create(fd, 0, PAGE, 0, 0, SGKM_FAULT_NR, &id), -EINVAL);
	EXPECT_EQ(create(fd, 0, PAGE, 0, SGKM_BORROWED, SGKM_FAULT_SKIP_DEVRES, &id), -EINVAL);
	/* one entry cannot be unmapped with one entry too few */
	EXPECT_EQ(create(fd, 0, PAGE, 0, 0, SGKM_FAULT_UNMAP_WRONG_NENTS, &id), -EINVAL);
	if (all.ndevices < 2)
		EXPECT_EQ(create(fd, 0, PAGE, 0, 0, SGKM_FAULT_UNMAP_WRONG_DEV, &id), -ENODEV);
	{
		struct tspec s = { 0, PAGE, 0, SGKM_DIR_NR, 0, 0 };

		EXPECT_EQ(create_ex(fd, &s, &id, NULL), -EINVAL);
	}
	memset(&c, 0, sizeof(c));
	c.argsz = sizeof(c);
	c.size = PAGE;
	c.flags = 1;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_CREATE, &c), -EINVAL);
	c.flags = 0;
	c.reserved[3] = 1;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_CREATE, &c), -EINVAL);
	/* Over the pinned cap (checked before allocating anything). */
	if (all.max_pinned_bytes < all.max_table_bytes)
		EXPECT_EQ(create(fd, 0, all.max_pinned_bytes + PAGE, 0, 0, 0, &id), -ENOSPC);
	else
		diag("cap %llu >= max table %llu: ENOSPC checked in the big-table test",
		     (unsigned long long)all.max_pinned_bytes,
		     (unsigned long long)all.max_table_bytes);
	EXPECT_EQ(stats(fd, SGKM_DEVICE_ALL).c.live_tables, all.c.live_tables);
	close(fd);
}

static void test_bad_args(void)
{
	int fd = open_ctl();
	unsigned char big[8192];
	struct sgkm_create *c = (void *)big;
	struct sgkm_stats s;
	struct sgkm_verify v;
	uint32_t id, bad_ids[] = { 0, 9999, 0x7fffffff, 0xffffffff };
	unsigned int i;

	/* argsz: too small, oversized with non-zero unknown bytes, absurd; oversized zero tail is fine */
	memset(big, 0, sizeof(big));
	c->size = PAGE;
	c->argsz = 0;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_CREATE, c), -EINVAL);
	c->argsz = sizeof(*c) - 1;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_CREATE, c), -EINVAL);
	c->argsz = sizeof(*c) + 64;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_CREATE, c), 0);
	EXPECT_EQ(destroy(fd, c->id), 0);
	big[sizeof(*c) + 10] = 1;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_CREATE, c), -E2BIG);
	c->argsz = 1u << 20;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_CREATE, c), -E2BIG);
	memset(&s, 0, sizeof(s));
	s.argsz = 8;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_STATS, &s), -EINVAL);
	s.argsz = sizeof(s);
	s.flags = 2;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_STATS, &s), -EINVAL);
	s.flags = 0;
	s.device = 12345;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_STATS, &s), -ENODEV);
	/* bad pointers */
	EXPECT_EQ(xioctl(fd, SGKM_IOC_CREATE, NULL), -EFAULT);
	EXPECT_EQ(xioctl(fd, SGKM_IOC_STATS, (void *)1), -EFAULT);
	EXPECT_EQ(xioctl(fd, SGKM_IOC_VERIFY, (void *)-4096L), -EFAULT);
	/* garbage ioctl numbers */
	EXPECT_EQ(xioctl(fd, 0, &s), -ENOTTY);
	EXPECT_EQ(xioctl(fd, _IO(SGKM_IOC_MAGIC, 0x77), &s), -ENOTTY);
	EXPECT_EQ(xioctl(fd, _IOWR(SGKM_IOC_MAGIC, 0x01, struct sgkm_create), c), -ENOTTY);
	EXPECT_EQ(xioctl(fd, _IO('x', 0x01), &s), -ENOTTY);
	EXPECT_EQ(xioctl(fd, 0xffffffff, &s), -ENOTTY);
	/* bad ids in every op */
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		EXPECT_EQ(map(fd, bad_ids[i]), -ENOENT);
		EXPECT_EQ(unmap(fd, bad_ids[i]), -ENOENT);
		EXPECT_EQ(destroy(fd, bad_ids[i]), -ENOENT);
		EXPECT_EQ(verify(fd, bad_ids[i], 0, NULL, NULL, 0), -ENOENT);
	}
	/* ids are private to the file that made them */
	{
		int fd2 = open_ctl(), fd3 = open_ctl();

		ASSERT_EQ(create(fd3, 0, PAGE, 0, 0, 0, &id), 0);
		EXPECT_EQ(verify(fd2, id, SGKM_VERIFY_F_CPU, NULL, NULL, 0), -ENOENT);
		EXPECT_EQ(destroy(fd2, id), -ENOENT);
		EXPECT_EQ(verify(fd3, id, SGKM_VERIFY_F_CPU, NULL, NULL, 0), 0);
		close(fd2);
		close(fd3);
	}
	/* bad op arguments */
	ASSERT_EQ(create(fd, 0, 4 * PAGE, SGKM_LAYOUT_SCATTERED, 0, 0, &id), 0);
	ASSERT_EQ(map(fd, id), 0);
	{
		struct sgkm_table_op o = { .argsz = sizeof(o), .flags = 1, .id = id };

		EXPECT_EQ(xioctl(fd, SGKM_IOC_UNMAP, &o), -EINVAL);
		EXPECT_EQ(xioctl(fd, SGKM_IOC_DESTROY, &o), -EINVAL);
		o.flags = 0;
		o.reserved[1] = 5;
		EXPECT_EQ(xioctl(fd, SGKM_IOC_UNMAP, &o), -EINVAL);
	}
	memset(&v, 0, sizeof(v));
	v.argsz = sizeof(v);
	v.id = id;
	v.flags = 0x10;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_VERIFY, &v), -EINVAL);
	v.flags = 0;
	v.max_segments = 4;
	v.segments = 0;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_VERIFY, &v), -EFAULT);
	v.segments = 1;
	EXPECT_EQ(xioctl(fd, SGKM_IOC_VERIFY, &v), -EFAULT);
	/* a short segment array gets the first entries and the true count */
	{
		struct sgkm_segment seg[2];

		EXPECT_EQ(verify(fd, id, 0, &v, seg, 2), 0);
		EXPECT_EQ(v.nsegments, 4);
		EXPECT_EQ(seg[0].len, PAGE);
	}
	EXPECT_EQ(state_of(fd, id), SGKM_STATE_MAPPED_MANAGED);
	close(fd);
}

static void test_big_tables(void)
{
	int fd = open_ctl();
	struct sgkm_stats all = stats(fd, SGKM_DEVICE_ALL), d;
	uint64_t size = 256 * MiB;
	struct sgkm_create c;
	struct sgkm_verify v;
	uint32_t layout, id, dev;
	int ret;

	if (all.max_table_bytes < size || all.max_pinned_bytes - all.c.pinned_bytes < size)
		SKIP("module limits below 256 MiB");
	for (dev = 0; dev < 2 && dev < all.ndevices; dev++) {
		for (layout = 0; layout < SGKM_LAYOUT_NR; layout++) {
			struct tspec s = { dev, size, layout, SGKM_DIR_TO_DEVICE, SGKM_OWNED, 0 };

			ret = create_ex(fd, &s, &id, &c);
			if (ret == -ENOMEM) {
				diag("256 MiB on sgkm.%u layout %u: ENOMEM (guest memory)", dev, layout);
				continue;
			}
			ASSERT_EQ(ret, 0);
			if (layout == SGKM_LAYOUT_SCATTERED)
				EXPECT_EQ(c.orig_nents, size / PAGE);
			d = stats(fd, dev);
			ret = map(fd, id);
			if ((ret == -ENOMEM || ret == -EIO) && is_dma32(fd, dev)) {
				/* swiotlb (64 MiB) cannot bounce 256 MiB at once */
				EXPECT_EQ(stats(fd, dev).c.map_failures - d.c.map_failures, 1);
				diag("sgkm.%u (32-bit): 256 MiB map failed (%s): swiotlb is smaller",
				     dev, strerror(-ret));
				check_views(fd, id, size, false);
			} else {
				ASSERT_EQ(ret, 0);
				check_views(fd, id, size, true);
				ASSERT_EQ(verify(fd, id, 0, &v, NULL, 0), 0);
				diag("sgkm.%u layout %u: 256 MiB in %u CPU / %u DMA entries, max_segment %u",
				     dev, layout, v.orig_nents, v.nents, v.max_segment);
				EXPECT_EQ(unmap(fd, id), 0);
			}
			EXPECT_EQ(destroy(fd, id), 0);
		}
	}
	/* The cap: two tables of the largest size cannot exceed it. */
	if (all.max_pinned_bytes < 2 * all.max_table_bytes) {
		uint64_t left = all.max_pinned_bytes - stats(fd, SGKM_DEVICE_ALL).c.pinned_bytes;

		if (left <= all.max_table_bytes) {
			EXPECT_EQ(create(fd, 0, left + PAGE, 0, 0, 0, &id), -ENOSPC);
		}
	}
	check_gauges(fd);
	close(fd);
}

/*
 * Allocate tables of the largest size until the module refuses: the cap (ENOSPC) or the
 * guest's memory (ENOMEM, without the OOM killer), never a splat; then everything goes back.
 */
static void test_exhaustion(void)
{
	int fd = open_ctl();
	struct sgkm_stats before = stats(fd, SGKM_DEVICE_ALL);
	/* several tables before the cap, or the largest ones when the cap is above memory */
	uint64_t size = before.max_pinned_bytes / 4 + PAGE < before.max_table_bytes ?
			before.max_pinned_bytes / 4 + PAGE : before.max_table_bytes;
	uint32_t id, n = 0, layout;
	int ret = 0;

	for (layout = 0; layout < SGKM_LAYOUT_NR; layout++) {
		for (n = 0; n < 64; n++) {
			ret = create(fd, n % before.ndevices, size, layout, 0, 0, &id);
			if (ret)
				break;
		}
		diag("layout %u: %u tables of %llu MiB, then %s", layout, n,
		     (unsigned long long)(size / MiB), strerror(-ret));
		EXPECT_TRUE(ret == -ENOSPC || ret == -ENOMEM);
		close(fd);
		fd = open_ctl();
		EXPECT_EQ(stats(fd, SGKM_DEVICE_ALL).c.pinned_bytes, before.c.pinned_bytes);
	}
	close(fd);
}

/* A 32-bit device whose pages get bounced: segments bounded by swiotlb's slot size. */
static void test_dma32_bounce(void)
{
	int fd = open_ctl();
	struct sgkm_stats all = stats(fd, SGKM_DEVICE_ALL), d;
	static struct sgkm_segment segs[4096];
	struct sgkm_verify v;
	uint32_t dev, id, i, found = 0;

	for (dev = 0; dev < all.ndevices; dev++) {
		d = stats(fd, dev);
		if (d.dma_mask_bits != 32)
			continue;
		found++;
		ASSERT_EQ(create(fd, dev, 8 * MiB + 5, SGKM_LAYOUT_CONTIGUOUS, SGKM_OWNED, 0, &id), 0);
		ASSERT_EQ(map(fd, id), 0);
		ASSERT_EQ(verify(fd, id, 0, &v, segs, 4096), 0);
		diag("sgkm.%u (32-bit): max_segment %u, %u DMA entries", dev, v.max_segment, v.nents);
		EXPECT_EQ(v.total_len, 8 * MiB + 5);
		for (i = 0; i < v.nsegments && i < 4096; i++) {
			EXPECT_TRUE(segs[i].addr + segs[i].len <= (1ull << 32));
			EXPECT_TRUE(segs[i].len <= v.max_segment);
		}
		check_views(fd, id, 8 * MiB + 5, true);
		EXPECT_EQ(unmap(fd, id), 0);
		EXPECT_EQ(destroy(fd, id), 0);
	}
	close(fd);
	if (!found)
		SKIP("no 32-bit device (load with dma32_devices=)");
}

struct delta {
	struct sgkm_stats a, b;
};

static long long injected(struct delta *d, int k)
{
	return d->b.c.injected[k] - d->a.c.injected[k];
}

static long long expected(struct delta *d, int k)
{
	return d->b.c.expected[k] - d->a.c.expected[k];
}

/* All counters of a delta that the fault kind must not move. */
static void expect_only(struct delta *d, int fault, long long n_injected, const long long *exp)
{
	int k;

	for (k = 1; k < SGKM_FAULT_NR; k++)
		EXPECT_EQ(injected(d, k), k == fault ? n_injected : 0);
	for (k = 0; k < SGKM_FINDING_NR; k++)
		EXPECT_EQ(expected(d, k), exp[k]);
}

static uint32_t fault_dev(int fd)
{
	/* The last device: other tests rarely use it. */
	return stats(fd, SGKM_DEVICE_ALL).ndevices - 1;
}

static void test_fault_leak_mapping(void)
{
	int fd = open_ctl();
	uint32_t dev = fault_dev(fd), id;
	struct delta d;

	d.a = stats(fd, dev);
	ASSERT_EQ(create(fd, dev, 5 * PAGE, 1, 0, SGKM_FAULT_LEAK_MAPPING, &id), 0);
	ASSERT_EQ(map(fd, id), 0);
	EXPECT_EQ(state_of(fd, id), SGKM_STATE_MAPPED_UNMANAGED);
	check_views(fd, id, 5 * PAGE, true);
	EXPECT_EQ(unmap(fd, id), 0);	/* swallowed */
	EXPECT_EQ(state_of(fd, id), SGKM_STATE_MAPPED_UNMANAGED);
	EXPECT_EQ(map(fd, id), -EBUSY);
	EXPECT_EQ(destroy(fd, id), 0);
	d.b = stats(fd, dev);
	{
		long long exp[SGKM_FINDING_NR] = { [SGKM_FINDING_LEAK] = 1 };

		expect_only(&d, SGKM_FAULT_LEAK_MAPPING, 1, exp);
	}
	EXPECT_EQ(d.b.c.leaked_tables - d.a.c.leaked_tables, 1);
	EXPECT_EQ(d.b.c.live_mappings - d.a.c.live_mappings, 1);
	EXPECT_EQ(d.b.c.live_tables - d.a.c.live_tables, 1);
	/* An unbind turns the leak into outlives_unbind; the mapping survives it. */
	ASSERT_EQ(unbind(dev), 0);
	d.b = stats(fd, dev);
	{
		long long exp[SGKM_FINDING_NR] = { [SGKM_FINDING_OUTLIVES_UNBIND] = 1 };

		expect_only(&d, SGKM_FAULT_LEAK_MAPPING, 1, exp);
	}
	EXPECT_EQ(d.b.c.live_mappings - d.a.c.live_mappings, 1);
	EXPECT_EQ(d.b.c.revoked, d.a.c.revoked);
	ASSERT_EQ(bind(dev), 0);
	check_gauges(fd);
	close(fd);
}

static void test_fault_skip_devres(void)
{
	int fd = open_ctl();
	uint32_t dev = fault_dev(fd), a, b, c, e;
	struct delta d;
	struct sgkm_verify v;

	d.a = stats(fd, dev);
	/* a: unmapped before any unbind: injected, but clean */
	ASSERT_EQ(create(fd, dev, 3 * PAGE, 0, 0, SGKM_FAULT_SKIP_DEVRES, &a), 0);
	ASSERT_EQ(map(fd, a), 0);
	EXPECT_EQ(state_of(fd, a), SGKM_STATE_MAPPED_UNMANAGED);
	EXPECT_EQ(unmap(fd, a), 0);
	EXPECT_EQ(destroy(fd, a), 0);
	/* b: unbound while mapped, unmapped after (unmap_after_unbind) */
	ASSERT_EQ(create(fd, dev, 3 * PAGE, 0, 0, SGKM_FAULT_SKIP_DEVRES, &b), 0);
	ASSERT_EQ(map(fd, b), 0);
	/* c: unbound while mapped, destroyed after a rebind (unmap_after_unbind) */
	ASSERT_EQ(create(fd, dev, 3 * PAGE, 1, 0, SGKM_FAULT_SKIP_DEVRES, &c), 0);
	ASSERT_EQ(map(fd, c), 0);
	/* e: unbound while mapped and still live: outlives_unbind */
	ASSERT_EQ(create(fd, dev, 3 * PAGE, 1, 0, SGKM_FAULT_SKIP_DEVRES, &e), 0);
	ASSERT_EQ(map(fd, e), 0);
	ASSERT_EQ(unbind(dev), 0);
	/* the mapping outlived the unbind: still usable */
	EXPECT_EQ(state_of(fd, b), SGKM_STATE_MAPPED_UNMANAGED);
	ASSERT_EQ(verify(fd, b, 0, &v, NULL, 0), 0);
	EXPECT_TRUE(v.table_flags & SGKM_TABLE_F_UNBOUND_SINCE_MAP);
	d.b = stats(fd, dev);
	{
		long long exp[SGKM_FINDING_NR] = { [SGKM_FINDING_OUTLIVES_UNBIND] = 3 };

		expect_only(&d, SGKM_FAULT_SKIP_DEVRES, 4, exp);
	}
	EXPECT_EQ(unmap(fd, b), 0);
	ASSERT_EQ(bind(dev), 0);
	EXPECT_EQ(destroy(fd, c), 0);
	d.b = stats(fd, dev);
	{
		long long exp[SGKM_FINDING_NR] = { [SGKM_FINDING_OUTLIVES_UNBIND] = 1,
						   [SGKM_FINDING_UNMAP_AFTER_UNBIND] = 2 };

		expect_only(&d, SGKM_FAULT_SKIP_DEVRES, 4, exp);
	}
	/* b was injected already: mapping again is a normal managed mapping */
	EXPECT_EQ(map(fd, b), 0);
	EXPECT_EQ(state_of(fd, b), SGKM_STATE_MAPPED_MANAGED);
	EXPECT_EQ(destroy(fd, b), 0);
	EXPECT_EQ(destroy(fd, e), 0);
	d.b = stats(fd, dev);
	{
		long long exp[SGKM_FINDING_NR] = { [SGKM_FINDING_UNMAP_AFTER_UNBIND] = 3 };

		expect_only(&d, SGKM_FAULT_SKIP_DEVRES, 4, exp);
	}
	EXPECT_EQ(d.b.c.live_mappings, d.a.c.live_mappings);
	EXPECT_EQ(d.b.c.live_tables, d.a.c.live_tables);
	check_gauges(fd);
	close(fd);
}

static void test_fault_free_while_mapped(void)
{
	int fd = open_ctl();
	uint32_t dev = fault_dev(fd), id;
	struct delta d;

	d.a = stats(fd, dev);
	ASSERT_EQ(create(fd, dev, 9 * PAGE, 1, 0, SGKM_FAULT_FREE_WHILE_MAPPED, &id), 0);
	ASSERT_EQ(map(fd, id), 0);
	EXPECT_EQ(state_of(fd, id), SGKM_STATE_FREED_MAPPED);
	EXPECT_EQ(verify(fd, id, 0, NULL, NULL, 0), -ENXIO);
	EXPECT_EQ(verify(fd, id, SGKM_VERIFY_F_CPU, NULL, NULL, 0), -ENXIO);
	EXPECT_EQ(unmap(fd, id), -ENXIO);
	EXPECT_EQ(map(fd, id), -ENXIO);
	d.b = stats(fd, dev);
	{
		long long exp[SGKM_FINDING_NR] = { [SGKM_FINDING_FREED_WHILE_MAPPED] = 1 };

		expect_only(&d, SGKM_FAULT_FREE_WHILE_MAPPED, 1, exp);
	}
	/* still mapped: the pages stay until unload */
	EXPECT_EQ(d.b.c.live_mappings - d.a.c.live_mappings, 1);
	EXPECT_EQ(destroy(fd, id), 0);
	d.b = stats(fd, dev);
	EXPECT_EQ(d.b.c.leaked_tables - d.a.c.leaked_tables, 1);
	/* an unbind neither unmaps it nor changes its finding */
	ASSERT_EQ(unbind(dev), 0);
	ASSERT_EQ(bind(dev), 0);
	d.b = stats(fd, dev);
	{
		long long exp[SGKM_FINDING_NR] = { [SGKM_FINDING_FREED_WHILE_MAPPED] = 1 };

		expect_only(&d, SGKM_FAULT_FREE_WHILE_MAPPED, 1, exp);
	}
	EXPECT_EQ(d.b.c.live_mappings - d.a.c.live_mappings, 1);
	check_gauges(fd);
	close(fd);
}

static void one_bad_unmap(uint32_t fault, int finding)
{
	int fd = open_ctl();
	uint32_t dev = fault_dev(fd), id, dir;
	struct delta d;

	d.a = stats(fd, dev);
	for (dir = 0; dir < SGKM_DIR_NR; dir++) {
		struct tspec s = { dev, 6 * PAGE, SGKM_LAYOUT_SCATTERED, dir, 0, fault };

		ASSERT_EQ(create_ex(fd, &s, &id, NULL), 0);
		/* not mapped: nothing to get wrong */
		EXPECT_EQ(unmap(fd, id), -EALREADY);
		ASSERT_EQ(map(fd, id), 0);
		EXPECT_EQ(state_of(fd, id), SGKM_STATE_MAPPED_MANAGED);
		EXPECT_EQ(unmap(fd, id), 0);
		EXPECT_EQ(state_of(fd, id), SGKM_STATE_UNMAPPED);
		EXPECT_EQ(unmap(fd, id), -EALREADY);
		/* injected once: the next cycle is clean */
		EXPECT_EQ(map(fd, id), 0);
		EXPECT_EQ(unmap(fd, id), 0);
		EXPECT_EQ(destroy(fd, id), 0);
	}
	d.b = stats(fd, dev);
	{
		long long exp[SGKM_FINDING_NR] = { 0 };

		exp[finding] = SGKM_DIR_NR;
		expect_only(&d, fault, SGKM_DIR_NR, exp);
	}
	EXPECT_EQ(d.b.c.live_mappings, d.a.c.live_mappings);
	EXPECT_EQ(d.b.c.unmaps - d.a.c.unmaps, 2 * SGKM_DIR_NR);
	/* Revoked by an unbind before the wrong unmap: not injected, ENXIO, retry possible. */
	ASSERT_EQ(create(fd, dev, 6 * PAGE, SGKM_LAYOUT_SCATTERED, 0, fault, &id), 0);
	ASSERT_EQ(map(fd, id), 0);
	ASSERT_EQ(unbind(dev), 0);
	EXPECT_EQ(unmap(fd, id), -ENXIO);
	ASSERT_EQ(bind(dev), 0);
	EXPECT_EQ(unmap(fd, id), -ENXIO);
	EXPECT_EQ(destroy(fd, id), 0);
	d.b = stats(fd, dev);
	{
		long long exp[SGKM_FINDING_NR] = { 0 };

		exp[finding] = SGKM_DIR_NR;
		expect_only(&d, fault, SGKM_DIR_NR, exp);
	}
	EXPECT_EQ(d.b.c.revoked - d.a.c.revoked, 1);
	check_gauges(fd);
	close(fd);
}

static void test_fault_double_unmap(void)
{
	one_bad_unmap(SGKM_FAULT_DOUBLE_UNMAP, SGKM_FINDING_UNMAP_UNKNOWN);
}

static void test_fault_unmap_wrong_dir(void)
{
	one_bad_unmap(SGKM_FAULT_UNMAP_WRONG_DIR, SGKM_FINDING_UNMAP_MISMATCH);
}

static void test_fault_unmap_wrong_nents(void)
{
	one_bad_unmap(SGKM_FAULT_UNMAP_WRONG_NENTS, SGKM_FINDING_UNMAP_MISMATCH);
}

static void test_fault_unmap_wrong_dev(void)
{
	int fd = open_ctl();

	if (stats(fd, SGKM_DEVICE_ALL).ndevices < 2)
		SKIP("needs 2 devices");
	close(fd);
	one_bad_unmap(SGKM_FAULT_UNMAP_WRONG_DEV, SGKM_FINDING_UNMAP_MISMATCH);
}

static void test_fault_leak_table(void)
{
	int fd = open_ctl();
	uint32_t dev = fault_dev(fd), a, b;
	struct delta d;
	long long none[SGKM_FINDING_NR] = { 0 };

	d.a = stats(fd, dev);
	ASSERT_EQ(create(fd, dev, 7 * PAGE, 0, 0, SGKM_FAULT_LEAK_TABLE, &a), 0);
	ASSERT_EQ(map(fd, a), 0);
	EXPECT_EQ(state_of(fd, a), SGKM_STATE_MAPPED_MANAGED);
	d.b = stats(fd, dev);
	expect_only(&d, SGKM_FAULT_LEAK_TABLE, 0, (long long[SGKM_FINDING_NR]){
		[SGKM_FINDING_LEAK] = 1 });
	EXPECT_EQ(destroy(fd, a), 0);	/* unmaps correctly, "forgets" sg_free_table() */
	ASSERT_EQ(create(fd, dev, 7 * PAGE, 1, 0, SGKM_FAULT_LEAK_TABLE, &b), 0);
	EXPECT_EQ(destroy(fd, b), 0);	/* never mapped: still injected at destroy */
	d.b = stats(fd, dev);
	expect_only(&d, SGKM_FAULT_LEAK_TABLE, 2, none);
	EXPECT_EQ(d.b.c.live_mappings, d.a.c.live_mappings);
	EXPECT_EQ(d.b.c.leaked_tables - d.a.c.leaked_tables, 2);
	EXPECT_EQ(d.b.c.live_tables - d.a.c.live_tables, 2);
	check_gauges(fd);
	close(fd);
}

static void test_unbind_live_tables(void)
{
	int fd = open_ctl();
	uint32_t n = stats(fd, SGKM_DEVICE_ALL).ndevices;
	uint32_t dev = n > 2 ? 2 : 0, ids[6], i, unmapped;
	struct sgkm_stats before, after;
	struct sgkm_verify v;

	before = stats(fd, dev);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(create(fd, dev, (i + 1) * 5 * PAGE, i % 2, i < 4 ? SGKM_OWNED : SGKM_BORROWED,
				 0, &ids[i]), 0);
		if (i != 3)
			ASSERT_EQ(map(fd, ids[i]), 0);
	}
	unmapped = ids[3];
	ASSERT_EQ(unbind(dev), 0);
	EXPECT_EQ(unbind(dev), -ENODEV);	/* already unbound: the driver core says so */
	after = stats(fd, dev);
	EXPECT_EQ(after.bound, 0);
	EXPECT_EQ(after.c.revoked - before.c.revoked, 5);
	EXPECT_EQ(after.c.live_mappings, before.c.live_mappings);
	EXPECT_EQ(after.c.live_tables - before.c.live_tables, 6);
	for (i = 0; i < 6; i++) {
		if (ids[i] == unmapped) {
			EXPECT_EQ(state_of(fd, ids[i]), SGKM_STATE_UNMAPPED);
			EXPECT_EQ(map(fd, ids[i]), -ENODEV);
			continue;
		}
		EXPECT_EQ(state_of(fd, ids[i]), SGKM_STATE_REVOKED);
		EXPECT_EQ(verify(fd, ids[i], 0, &v, NULL, 0), -ENXIO);
		EXPECT_EQ(map(fd, ids[i]), -ENODEV);
		if (i < 4) {
			/* the table object stays valid: its CPU view still works */
			EXPECT_EQ(verify(fd, ids[i], SGKM_VERIFY_F_CPU, &v, NULL, 0), 0);
			EXPECT_EQ(v.total_len, (i + 1) * 5 * PAGE);
			EXPECT_EQ(unmap(fd, ids[i]), -ENXIO);
		}
	}
	EXPECT_EQ(create(fd, dev, PAGE, 0, 0, 0, &i), -ENODEV);
	EXPECT_EQ(create(fd, dev, PAGE, 0, SGKM_BORROWED, 0, &i), -ENODEV);
	ASSERT_EQ(bind(dev), 0);
	EXPECT_TRUE(bind(dev) != 0);	/* already bound */
	/* Revoked for good, like Devres; a new table works. */
	EXPECT_EQ(map(fd, ids[0]), -ENXIO);
	EXPECT_EQ(map(fd, ids[4]), -ENXIO);
	EXPECT_EQ(unmap(fd, ids[4]), -ENXIO);	/* gives the view back, reports the revocation */
	EXPECT_EQ(map(fd, unmapped), 0);
	for (i = 0; i < 6; i++)
		EXPECT_EQ(destroy(fd, ids[i]), 0);
	ASSERT_EQ(create(fd, dev, PAGE, 0, 0, 0, &i), 0);
	EXPECT_EQ(map(fd, i), 0);
	EXPECT_EQ(destroy(fd, i), 0);
	after = stats(fd, dev);
	EXPECT_EQ(after.c.live_tables, before.c.live_tables);
	EXPECT_EQ(after.c.live_mappings, before.c.live_mappings);
	EXPECT_EQ(after.c.unbinds - before.c.unbinds, 1);
	EXPECT_EQ(after.c.binds - before.c.binds, 1);
	check_gauges(fd);
	close(fd);
}

static void test_close_destroys(void)
{
	int fd = open_ctl();
	struct sgkm_stats before = stats(fd, SGKM_DEVICE_ALL), after;
	pid_t pid = fork();
	int status;

	ASSERT_EQ(pid >= 0, 1);
	if (pid == 0) {
		int fd2 = open_ctl();
		uint32_t i, id;

		for (i = 0; i < 20; i++) {
			if (create(fd2, i % before.ndevices, (i + 1) * PAGE, i % 2, (i / 2) % 2, 0, &id))
				_exit(1);
			if (i % 3 && map(fd2, id))
				_exit(2);
		}
		_exit(0);	/* exit closes the file */
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	after = stats(fd, SGKM_DEVICE_ALL);
	EXPECT_EQ(after.c.live_tables, before.c.live_tables);
	EXPECT_EQ(after.c.live_mappings, before.c.live_mappings);
	EXPECT_EQ(after.c.pinned_bytes, before.c.pinned_bytes);
	EXPECT_EQ(after.c.tables_created - before.c.tables_created, 20);
	check_gauges(fd);

	/* Close keeps exactly what the faults leak on purpose, and unmaps the rest. */
	before = stats(fd, SGKM_DEVICE_ALL);
	pid = fork();
	ASSERT_EQ(pid >= 0, 1);
	if (pid == 0) {
		static const uint32_t faults[] = {
			SGKM_FAULT_LEAK_MAPPING, SGKM_FAULT_FREE_WHILE_MAPPED, SGKM_FAULT_SKIP_DEVRES,
			SGKM_FAULT_LEAK_TABLE, SGKM_FAULT_DOUBLE_UNMAP,
		};
		int fd2 = open_ctl();
		uint32_t i, id;

		for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
			if (create(fd2, 0, 2 * PAGE, 1, 0, faults[i], &id) || map(fd2, id))
				_exit(1);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	after = stats(fd, SGKM_DEVICE_ALL);
	/* kept: leak_mapping (mapped), free_while_mapped (mapped), leak_table (unmapped) */
	EXPECT_EQ(after.c.leaked_tables - before.c.leaked_tables, 3);
	EXPECT_EQ(after.c.live_tables - before.c.live_tables, 3);
	EXPECT_EQ(after.c.live_mappings - before.c.live_mappings, 2);
	EXPECT_EQ(after.c.expected[SGKM_FINDING_LEAK] - before.c.expected[SGKM_FINDING_LEAK], 1);
	EXPECT_EQ(after.c.injected[SGKM_FAULT_LEAK_TABLE] - before.c.injected[SGKM_FAULT_LEAK_TABLE],
		  1);
	/* double_unmap was never unmapped by the user: closed cleanly, nothing injected */
	EXPECT_EQ(after.c.injected[SGKM_FAULT_DOUBLE_UNMAP],
		  before.c.injected[SGKM_FAULT_DOUBLE_UNMAP]);
	check_gauges(fd);
	close(fd);
}

/* ---- a create refused for want of an id (issue #12) ---- */

#define MAX_TABLE_IDS "/sys/module/sgkm/parameters/max_table_ids"

static char saved_max_table_ids[32];

static void restore_max_table_ids(void)
{
	if (saved_max_table_ids[0])
		write_sysfs(MAX_TABLE_IDS, saved_max_table_ids);
}

/*
 * With max_table_ids=1 a file holding one table has no id left: create builds the table, then
 * xa_alloc() refuses. That table was never seen, so nothing may be counted: a leak_table create
 * used to be destroyed as if the user had, parked until unload and counted as injected though
 * create returned an error. Every kind of create must leave the counters as they were.
 */
static void test_create_without_id(void)
{
	int fd, fd2;
	FILE *f = fopen(MAX_TABLE_IDS, "r");
	uint32_t n, dev, own, fault, id, id2, refused = 0;
	struct sgkm_stats before, after;
	int k;

	if (!f)
		SKIP("no max_table_ids parameter");
	ASSERT_EQ(fscanf(f, "%31s", saved_max_table_ids), 1);
	fclose(f);
	atexit(restore_max_table_ids);
	fd = open_ctl();
	n = stats(fd, SGKM_DEVICE_ALL).ndevices;
	dev = fault_dev(fd);
	ASSERT_EQ(write_sysfs(MAX_TABLE_IDS, "1"), 0);
	ASSERT_EQ(create(fd, dev, PAGE, 0, 0, 0, &id), 0);
	EXPECT_EQ(id, 1);
	before = stats(fd, dev);
	for (own = 0; own < SGKM_OWNERSHIP_NR; own++) {
		for (fault = 0; fault < SGKM_FAULT_NR; fault++) {
			/* 4 scattered pages: 4 entries, enough for unmap_wrong_nents */
			struct tspec s = { dev, 4 * PAGE, SGKM_LAYOUT_SCATTERED, SGKM_DIR_TO_DEVICE,
					   own, fault };

			if ((own == SGKM_BORROWED && fault) ||
			    (fault == SGKM_FAULT_UNMAP_WRONG_DEV && n < 2))
				continue;
			EXPECT_EQ(create_ex(fd, &s, &id2, NULL), -ENOSPC);
			refused++;
		}
	}
	after = stats(fd, dev);
	diag("%u creates refused for want of an id", refused);
	for (k = 0; k < SGKM_FAULT_NR; k++)
		EXPECT_EQ(after.c.injected[k], before.c.injected[k]);
	for (k = 0; k < SGKM_FINDING_NR; k++)
		EXPECT_EQ(after.c.expected[k], before.c.expected[k]);
	EXPECT_EQ(after.c.leaked_tables, before.c.leaked_tables);
	EXPECT_EQ(after.c.live_tables, before.c.live_tables);
	EXPECT_EQ(after.c.pinned_bytes, before.c.pinned_bytes);
	EXPECT_EQ(after.c.maps, before.c.maps);
	/* built and freed again: counted as created and destroyed, each of them */
	EXPECT_EQ(after.c.tables_created - before.c.tables_created, refused);
	EXPECT_EQ(after.c.tables_destroyed - before.c.tables_destroyed, refused);
	/* The limit is per file, and an id given back can be had again. */
	fd2 = open_ctl();
	EXPECT_EQ(create(fd2, dev, PAGE, 0, 0, SGKM_FAULT_LEAK_TABLE, &id2), 0);
	EXPECT_EQ(id2, 1);
	EXPECT_EQ(destroy(fd, id), 0);
	EXPECT_EQ(create(fd, dev, PAGE, 0, 0, 0, &id), 0);
	EXPECT_EQ(id, 1);
	restore_max_table_ids();
	EXPECT_EQ(create(fd, dev, PAGE, 0, 0, 0, &id), 0);
	EXPECT_EQ(id, 2);
	close(fd2);	/* parks its leak_table table: one injected */
	after = stats(fd, dev);
	EXPECT_EQ(after.c.injected[SGKM_FAULT_LEAK_TABLE] - before.c.injected[SGKM_FAULT_LEAK_TABLE],
		  1);
	EXPECT_EQ(after.c.leaked_tables - before.c.leaked_tables, 1);
	check_gauges(fd);
	close(fd);
}

/* ---- create against a destroy of the id it is about to return (issue #12) ---- */

/*
 * Create used to publish the id (xa_alloc()) and only then fill its reply from the table, which
 * another thread of the same file can destroy in between: ids are the lowest free ones, so the
 * next id is easy to guess. Creators make tables of one shape, check every reply and destroy
 * the table; destroyers keep destroying the id the next create will get and, when that works,
 * at once create a table of another shape, which likely gets the struct just freed. A reply describing another shape is that use-after-free seen from user
 * space; with slab poisoning or KFENCE the kernel reports it itself (a splat or a taint, which
 * the harness checks after every test).
 */
struct cd_race {
	int fd;
	volatile int stop;
	uint32_t max_segment;	/* device 0's, for every reply */
	uint32_t next_id;	/* the id a creator got last, which the next create gets again */
	unsigned long creates, steals, wrong, errors;
	pthread_mutex_t report;
};

struct cd_thread {
	struct cd_race *r;
	bool destroyer;
	uint32_t pages;		/* the shape: a scattered table of that many pages and entries */
};

/* Create this thread's shape and check the reply; returns the id or 0. */
static uint32_t cd_create(struct cd_thread *t)
{
	struct cd_race *r = t->r;
	struct tspec s = { 0, t->pages * PAGE, SGKM_LAYOUT_SCATTERED, SGKM_DIR_TO_DEVICE,
			   SGKM_OWNED, 0 };
	struct sgkm_create c;
	int ret = create_ex(r->fd, &s, NULL, &c);

	if (ret) {
		/* the pinned cap or the guest's memory may refuse; nothing else may */
		if (ret != -ENOSPC && ret != -ENOMEM) {
			pthread_mutex_lock(&r->report);
			if (r->errors++ < 10)
				diag("create: %s", strerror(-ret));
			pthread_mutex_unlock(&r->report);
		}
		return 0;
	}
	__atomic_fetch_add(&r->creates, 1, __ATOMIC_RELAXED);
	if (c.id < 1 || c.orig_nents != t->pages || c.max_segment != r->max_segment) {
		pthread_mutex_lock(&r->report);
		if (r->wrong++ < 10)
			diag("create of %u pages: id %u, orig_nents %u, max_segment %u (expected %u): the reply was read from another table",
			     t->pages, c.id, c.orig_nents, c.max_segment, r->max_segment);
		pthread_mutex_unlock(&r->report);
	}
	return c.id;
}

static void *cd_worker(void *arg)
{
	struct cd_thread *t = arg;
	struct cd_race *r = t->r;
	uint32_t id;

	while (!r->stop) {
		if (!t->destroyer) {
			id = cd_create(t);
			/* ids are the lowest free ones: the next create will most likely get it again */
			__atomic_store_n(&r->next_id, id, __ATOMIC_RELAXED);
			destroy(r->fd, id);	/* ENOENT when a destroyer got it first */
			continue;
		}
		if (!destroy(r->fd, __atomic_load_n(&r->next_id, __ATOMIC_RELAXED))) {
			__atomic_fetch_add(&r->steals, 1, __ATOMIC_RELAXED);
			/* Likely reuses the struct just freed: a stale reader would see this shape. */
			id = cd_create(t);
			if (id)
				destroy(r->fd, id);
		}
	}
	return NULL;
}

static void test_create_destroy_race(void)
{
	struct cd_race r = { .report = PTHREAD_MUTEX_INITIALIZER };
	unsigned int i, pairs = opt_threads / 2 ? opt_threads / 2 : 1;
	struct cd_thread threads[32];
	pthread_t tids[32];
	struct sgkm_stats before, after;

	if (pairs > 16)
		pairs = 16;
	r.fd = open_ctl();
	before = stats(r.fd, SGKM_DEVICE_ALL);
	r.max_segment = stats(r.fd, 0).max_segment;
	for (i = 0; i < 2 * pairs; i++) {
		threads[i] = (struct cd_thread){ &r, i % 2 == 1, i % 2 ? 5 : 3 };
		ASSERT_EQ(pthread_create(&tids[i], NULL, cd_worker, &threads[i]), 0);
	}
	/* The main thread only keeps time: the workers synchronize through the module. */
	wait_duration(opt_duration);
	r.stop = 1;
	for (i = 0; i < 2 * pairs; i++)
		pthread_join(tids[i], NULL);
	diag("create/destroy: %lu creates in %u s by %u pairs, %lu destroyed by a destroyer first, %lu wrong replies",
	     r.creates, opt_duration, pairs, r.steals, r.wrong);
	EXPECT_EQ(r.wrong, 0);
	EXPECT_EQ(r.errors, 0);
	EXPECT_TRUE(r.creates > 0 && r.steals > 0);
	close(r.fd);
	r.fd = open_ctl();
	after = stats(r.fd, SGKM_DEVICE_ALL);
	EXPECT_EQ(after.c.live_tables, before.c.live_tables);
	EXPECT_EQ(after.c.pinned_bytes, before.c.pinned_bytes);
	close(r.fd);
}

/* ---- the race: workers on shared ids against an unbind/bind storm ---- */

#define RACE_SLOTS 64

struct race {
	int fd;
	uint32_t ndevices;
	volatile int stop;
	uint32_t slot[RACE_SLOTS];
	unsigned long ops, errors_ok, unbinds;
	int bad;
	pthread_mutex_t report;
};

static bool race_errno_ok(int ret)
{
	switch (-ret) {
	case 0: case ENOENT: case ENODEV: case ENXIO: case EBUSY: case EALREADY: case ENODATA:
	case ENOSPC: case ENOMEM:
		return true;
	default:
		return false;
	}
}

static void race_fail(struct race *r, const char *op, int ret)
{
	pthread_mutex_lock(&r->report);
	if (r->bad < 10)
		diag("race: %s returned %s", op, strerror(-ret));
	r->bad++;
	pthread_mutex_unlock(&r->report);
}

static void race_check(struct race *r, const char *op, int ret)
{
	/* A DMA mapping may fail when swiotlb is full (32-bit devices): EIO on 6.1. */
	if (race_errno_ok(ret) || (ret == -EIO && !strcmp(op, "map"))) {
		if (ret)
			__atomic_fetch_add(&r->errors_ok, 1, __ATOMIC_RELAXED);
		return;
	}
	race_fail(r, op, ret);
}

static void *race_worker(void *arg)
{
	struct race *r = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed ^ (unsigned int)time(NULL);
	struct sgkm_segment segs[64];
	struct sgkm_verify v;

	while (!r->stop) {
		unsigned int slot = rand_r(&seed) % RACE_SLOTS;
		uint32_t id = __atomic_load_n(&r->slot[slot], __ATOMIC_ACQUIRE);
		int op = rand_r(&seed) % 8;

		if (!id) {
			struct tspec s = {
				rand_r(&seed) % r->ndevices, (rand_r(&seed) % 64 + 1) * PAGE - rand_r(&seed) % 100,
				rand_r(&seed) % 2, rand_r(&seed) % 3, rand_r(&seed) % 4 == 0, 0,
			};
			int ret;

			/* A few faults that keep nothing alive past close, to mix the paths. */
			if (!s.own && rand_r(&seed) % 8 == 0)
				s.fault = (uint32_t[]){ SGKM_FAULT_SKIP_DEVRES, SGKM_FAULT_DOUBLE_UNMAP,
							SGKM_FAULT_UNMAP_WRONG_DIR,
							SGKM_FAULT_UNMAP_WRONG_NENTS }[rand_r(&seed) % 4];
			if (s.fault == SGKM_FAULT_UNMAP_WRONG_NENTS) {
				/* needs 2 entries: scattered pages never merge */
				s.layout = SGKM_LAYOUT_SCATTERED;
				if (s.size <= PAGE)
					s.size = 2 * PAGE;
			}
			ret = create_ex(r->fd, &s, &id, NULL);
			race_check(r, "create", ret);
			if (!ret) {
				uint32_t expect = 0;

				if (!__atomic_compare_exchange_n(&r->slot[slot], &expect, id, false,
								 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
					race_check(r, "destroy", destroy(r->fd, id));
			}
		} else if (op < 3) {
			race_check(r, "map", map(r->fd, id));
		} else if (op < 5) {
			race_check(r, "unmap", unmap(r->fd, id));
		} else if (op < 7) {
			int ret = verify(r->fd, id, rand_r(&seed) % 2 ? SGKM_VERIFY_F_CPU : 0, &v, segs, 64);

			race_check(r, "verify", ret);
			if (!ret && v.total_len != v.size)
				race_check(r, "verify sum", -EIO);
		} else {
			/* Destroy while others may be using the id. */
			if (__atomic_compare_exchange_n(&r->slot[slot], &id, 0, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				race_check(r, "destroy", destroy(r->fd, id));
		}
		__atomic_fetch_add(&r->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *race_binder(void *arg)
{
	struct race *r = arg;
	unsigned int seed = 12345;

	while (!r->stop) {
		uint32_t dev = rand_r(&seed) % r->ndevices;
		/* Only this thread binds and unbinds: both must work every time. */
		int ret = unbind(dev);

		if (ret)
			race_fail(r, "unbind", ret);
		ret = bind(dev);
		if (ret)
			race_fail(r, "bind", ret);
		__atomic_fetch_add(&r->unbinds, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static long long read_number(const char *path, const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!key) {
			v = line[0] == 'Y' ? 1 : line[0] == 'N' ? 0 : atoll(line);
			break;
		}
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ' ') {
			v = atoll(line + strlen(key) + 1);
			break;
		}
	}
	if (f)
		fclose(f);
	return v;
}

static void test_unbind_race(void)
{
	/* In the test mode that lets destroy race the devres release, the race must happen. */
	bool api_race = read_number("/sys/module/sgkm/parameters/destroy_without_device_lock",
				    NULL) == 1 &&
			read_number("/sys/module/sgkm/parameters/revoke_delay_us", NULL) > 0;
	long long races0 = read_number("/sys/kernel/debug/sgkm/stats", "devres_races");
	struct race r = { 0 };
	pthread_t workers[64], binder;
	struct sgkm_stats before, after;
	unsigned int i, nthreads = opt_threads > 64 ? 64 : opt_threads;

	r.fd = open_ctl();
	pthread_mutex_init(&r.report, NULL);
	before = stats(r.fd, SGKM_DEVICE_ALL);
	r.ndevices = before.ndevices;
	for (i = 0; i < nthreads; i++)
		ASSERT_EQ(pthread_create(&workers[i], NULL, race_worker, &r), 0);
	ASSERT_EQ(pthread_create(&binder, NULL, race_binder, &r), 0);
	/* The main thread only keeps time: the threads synchronize through the module. */
	wait_duration(opt_duration);
	r.stop = 1;
	for (i = 0; i < nthreads; i++)
		pthread_join(workers[i], NULL);
	pthread_join(binder, NULL);
	bind_all(r.fd);
	diag("race: %lu ops, %lu expected errors, %lu unbind/bind cycles in %u s with %u workers",
	     r.ops, r.errors_ok, r.unbinds, opt_duration, nthreads);
	EXPECT_EQ(r.bad, 0);
	EXPECT_TRUE(r.ops > 0 && r.unbinds > 0);
	{
		/* How often teardown met a devres entry an unbind had already dequeued. */
		long long races = read_number("/sys/kernel/debug/sgkm/stats", "devres_races") - races0;

		diag("race: teardown met an already dequeued devres entry %lld times%s", races,
		     api_race ? " (test mode: must be > 0)" : "");
		if (api_race)
			EXPECT_TRUE(races > 0);
	}
	check_gauges(r.fd);
	close(r.fd);
	r.fd = open_ctl();
	after = stats(r.fd, SGKM_DEVICE_ALL);
	EXPECT_EQ(after.c.live_tables, before.c.live_tables);
	EXPECT_EQ(after.c.live_mappings, before.c.live_mappings);
	EXPECT_EQ(after.c.pinned_bytes, before.c.pinned_bytes);
	EXPECT_EQ(after.c.mapped_bytes, before.c.mapped_bytes);
	EXPECT_EQ(after.c.maps - before.c.maps, after.c.unmaps - before.c.unmaps);
	check_gauges(r.fd);
	close(r.fd);
}

/* ---- unload with live tables (must run last: it reloads the module) ---- */

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_unload_with_live_tables(void)
{
	static const char *const params[] = { "ndevices", "dma32_devices", "max_table_mb",
					      "max_pinned_mb", "destroy_without_device_lock",
					      "revoke_delay_us", "max_table_ids" };
	char cmd[512] = "insmod /lib/modules/sgkm.ko", path[128], val[64];
	struct sgkm_stats s;
	uint32_t id, dev;
	unsigned int i;
	int fd;

	if (opt_no_unload)
		SKIP("--no-unload");
	if (access("/lib/modules/sgkm.ko", R_OK))
		SKIP("no /lib/modules/sgkm.ko to reload");
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/sys/module/sgkm/parameters/%s", params[i]);
		f = fopen(path, "r");
		ASSERT_EQ(f != NULL, 1);
		ASSERT_EQ(fscanf(f, "%63s", val), 1);
		fclose(f);
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s=%s", params[i], val);
	}
	fd = open_ctl();
	dev = fault_dev(fd);
	/* Tables of every kind, live, several mapped, some deliberately leaked, one outliving an unbind. */
	for (i = 0; i < SGKM_FAULT_NR; i++) {
		if (i == SGKM_FAULT_UNMAP_WRONG_DEV && stats(fd, SGKM_DEVICE_ALL).ndevices < 2)
			continue;
		ASSERT_EQ(create(fd, dev, 4 * PAGE, 1, 0, i, &id), 0);
		ASSERT_EQ(map(fd, id), 0);
		if (i == SGKM_FAULT_LEAK_TABLE || i == SGKM_FAULT_LEAK_MAPPING)
			ASSERT_EQ(destroy(fd, id), 0);
	}
	ASSERT_EQ(create(fd, 0, 4 * PAGE, 0, SGKM_BORROWED, 0, &id), 0);
	ASSERT_EQ(map(fd, id), 0);
	ASSERT_EQ(unbind(dev), 0);
	/* While a file is open the module is in use. */
	EXPECT_TRUE(run("rmmod sgkm 2>/dev/null") != 0);
	s = stats(fd, SGKM_DEVICE_ALL);
	diag("unloading with %llu live tables, %llu live mappings, %llu leaked tables",
	     (unsigned long long)s.c.live_tables, (unsigned long long)s.c.live_mappings,
	     (unsigned long long)s.c.leaked_tables);
	EXPECT_TRUE(s.c.live_tables > 0 && s.c.leaked_tables > 0);
	close(fd);
	/* Device dev is still unbound: the unload must cope with that too. */
	EXPECT_EQ(run("rmmod sgkm"), 0);
	EXPECT_EQ(access(SGKM_CONTROL_PATH, F_OK), -1);
	diag("reloading: %s", cmd);
	ASSERT_EQ(run(cmd), 0);
	fd = open_ctl();
	s = stats(fd, SGKM_DEVICE_ALL);
	EXPECT_EQ(s.c.live_tables, 0);
	EXPECT_EQ(s.c.live_mappings, 0);
	EXPECT_EQ(s.bound, s.ndevices);
	close(fd);
}

/* ---- harness ---- */

struct test {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;	/* seconds, on top of --duration if timed */
	bool timed;		/* runs for --duration */
};

#define T(n, t) { #n, test_##n, t, false }
#define T_TIMED(n, t) { #n, test_##n, t, true }
static const struct test tests[] = {
	T(control_device, 10),
	T(api_selftest, 30),
	T(owned_lifecycle, 30),
	T(borrowed_lifecycle, 30),
	T(device_mismatch, 30),
	T(bad_create, 30),
	T(bad_args, 30),
	T(big_tables, 120),
	T(exhaustion, 120),
	T(dma32_bounce, 60),
	T(fault_leak_mapping, 30),
	T(fault_skip_devres, 30),
	T(fault_free_while_mapped, 30),
	T(fault_double_unmap, 30),
	T(fault_unmap_wrong_dir, 30),
	T(fault_unmap_wrong_nents, 30),
	T(fault_unmap_wrong_dev, 30),
	T(fault_leak_table, 30),
	T(unbind_live_tables, 30),
	T(close_destroys, 30),
	T(create_without_id, 30),
	T_TIMED(create_destroy_race, 60),
	T_TIMED(unbind_race, 60),
	T(unload_with_live_tables, 60),
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

/*
 * Taint flags a kernel error sets (kernel/panic.c): B bad page (slab debugging, KFENCE, bad
 * page state), D died (oops), W warning, L soft lockup. Loading sgkm itself sets O and E.
 */
#define TAINT_SPLAT ((1ul << 5) | (1ul << 7) | (1ul << 9) | (1ul << 14))

static unsigned long kernel_taint(void)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");
	unsigned long taint = 0;

	if (f) {
		if (fscanf(f, "%lu", &taint) != 1)
			taint = 0;
		fclose(f);
	}
	return taint;
}

static bool selected(const struct test *t, int argc, char **argv)
{
	int i;

	if (optind >= argc)
		return true;
	for (i = optind; i < argc; i++)
		if (!strcmp(argv[i], t->name))
			return true;
	return false;
}

static void usage(void)
{
	fprintf(stderr, "usage: sgkm_test [--duration S] [--threads N] [--list] [--no-unload] [TEST...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "list", no_argument, NULL, 'l' },
		{ "no-unload", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int i, n = 0, num = 0, failed = 0;
	unsigned long taint, new_taint;
	int c;

	while ((c = getopt_long(argc, argv, "d:t:lnh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt_duration = strtoul(optarg, NULL, 10);
			break;
		case 't':
			opt_threads = strtoul(optarg, NULL, 10);
			if (!opt_threads)
				usage();
			break;
		case 'l':
			for (i = 0; i < NTESTS; i++)
				printf("%s\n", tests[i].name);
			return 0;
		case 'n':
			opt_no_unload = true;
			break;
		default:
			usage();
		}
	}
	for (i = 0; i < NTESTS; i++)
		n += selected(&tests[i], argc, argv);
	taint = kernel_taint();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%u\n", n);
	for (i = 0; i < NTESTS; i++) {
		const struct test *t = &tests[i];
		int status;
		pid_t pid;

		if (!selected(t, argc, argv))
			continue;
		num++;
		printf("# RUN %s\n", t->name);
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			alarm(t->timeout + (t->timed ? opt_duration : 0));
			t->fn();
			fflush(stdout);
			_exit(test_failed ? 1 : 0);
		}
		waitpid(pid, &status, 0);
		new_taint = kernel_taint() & ~taint;
		taint |= new_taint;
		if (new_taint & TAINT_SPLAT) {
			/* e.g. slab debugging's "Poison overwritten", which the runner's console
			 * patterns do not match: a kernel error during this test fails it */
			printf("# %s: the kernel became tainted (0x%lx): see its log\n", t->name,
			       new_taint);
			status = 1 << 8;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok %u %s\n", num, t->name);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP) {
			printf("ok %u %s # SKIP\n", num, t->name);
		} else {
			if (WIFSIGNALED(status))
				printf("# %s: killed by signal %d%s\n", t->name, WTERMSIG(status),
				       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
			printf("not ok %u %s\n", num, t->name);
			failed++;
		}
	}
	printf("# %u tests, %u failed\n", num, failed);
	return failed ? 1 : 0;
}
