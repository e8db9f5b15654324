// SPDX-License-Identifier: GPL-2.0
/*
 * sgtrace_live_bench: the end-of-run report for N live mappings must take < 2 s (issue 4).
 * Fills a BPF array shaped like sgtrace's live table (mmap-able buckets, sized as sgtrace sizes
 * it for N) with N mappings on a few devices and stacks, then times what `sgtrace record` does
 * at the end: read and classify (sgt_collect_live), JSON and text report. Also prints the kernel's
 * memory figure for the map (fdinfo memlock) per mapping. Needs root (BPF map creation).
 *   sgtrace_live_bench [N]   (default 1000000)
 */
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "sgtrace_live.h"
#include "sgtrace_report.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long memlock_of(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000;
	LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = BPF_F_MMAPABLE);
	uint32_t buckets = sgt_live_buckets(n);
	size_t len = (size_t)buckets * sizeof(struct sgt_live_bucket);
	struct sgt_live_bucket *table;
	struct sgt_report r;
	struct sgt_dev d = { .match = 1 };
	double t0, t1, t2;
	json_object *j;
	FILE *devnull;
	int fd, err, ok;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "live", sizeof(__u32),
			    sizeof(struct sgt_live_bucket), buckets, &mopts);
	if (fd < 0) {
		perror("bpf_map_create (needs root)");
		return 1;
	}
	table = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (table == MAP_FAILED) {
		perror("mmap of the live table");
		return 1;
	}
	/* Half-full buckets, as the BPF side keeps them, and in each bucket one unmapped record
	 * that must not be reported. */
	for (unsigned int k = 0; k < n; k++) {
		struct sgt_live_bucket *b = &table[k / SGT_LIVE_LOAD_DIV];

		b->sgl[k % SGT_LIVE_LOAD_DIV] = 0xffff888000000000ULL + (uint64_t)k * 64;
		b->ent[k % SGT_LIVE_LOAD_DIV] = (struct sgt_live){
			.dev = 0xffff888100000000ULL + (k % 4) * 0x1000, .ts = 1000, .bytes = 4096,
			.pid = 100, .stack_id = k % 50, .nents = 1, .mapped = 1, .dir = 1, .gen = 0 };
	}
	for (uint32_t i = 0; i < buckets; i++)
		table[i].sgl[SGT_LIVE_SLOTS - 1] = 0xffff889000000000ULL + i * 64 + SGT_SLOT_UNMAPPED;
	sgt_report_init(&r);
	for (int i = 0; i < 4; i++) {
		snprintf(d.name, sizeof(d.name), "dev%d", i);
		sgt_report_add_dev(&r, 0xffff888100000000ULL + i * 0x1000, &d);
	}
	t0 = now_s();
	err = sgt_collect_live(fd, buckets, &r, 2000000000ULL, 4e6, 0);
	t1 = now_s();
	j = sgt_report_json(&r);
	devnull = fopen("/dev/null", "w");
	fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY), devnull);
	sgt_report_print(&r, devnull);
	fclose(devnull);
	json_object_put(j);
	t2 = now_s();
	ok = !err && r.live_total == n && r.kind_count[SGT_LEAK] == n && r.nr_groups == 100 &&
	     t2 - t0 < 2.0;
	printf("%u live mappings: read and classified in %.3f s, report in %.3f s, total %.3f s "
	       "(limit 2 s); %zu groups; map memlock %lld bytes = %.0f bytes per mapping\n",
	       n, t1 - t0, t2 - t1, t2 - t0, r.nr_groups, memlock_of(fd),
	       (double)memlock_of(fd) / n);
	printf("%s - report for %u live mappings under 2 s, all classified\n", ok ? "ok" : "not ok",
	       n);
	printf("%d passed, %d failed\n", ok, !ok);
	sgt_report_free(&r);
	return ok ? 0 : 1;
}
