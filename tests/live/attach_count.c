// SPDX-License-Identifier: GPL-2.0
/*
 * live-attach-count: attaches one counting BPF program (attach_count.bpf.c) to a kernel
 * function or tracepoint while the kernel may be calling it, and compares what it counted with
 * sgkm's own count of dma_map_sgtable() calls (debugfs). docs/live-attach.md has the method.
 *
 *   live-attach-count --method fentry|kprobe|tracepoint|hwbp [--func NAME] [--tp CAT/NAME]
 *                     [--seconds S] [--interval-ms MS] [--cycles N] [--stop PID]...
 *                     [--inflight N] [--truth FILE] [--only-sgkm]
 *
 * Per cycle: (stop the --stop processes and wait until each of their threads is stopped),
 * attach, read the truth T1, (continue them), then every interval read the truth and the
 * count, and after S seconds the truth T2 and the count H. Every call whose sgkm counter moved
 * after T1 either entered the function after the attach returned, which the hook must have
 * counted before H was read, or was inside it when the attach returned (at most --inflight of
 * them, the number of threads calling). So "complete" is H >= (T2 - T1) - inflight.
 * The truth counts maps + map_failures: every dma_map_sgtable() call sgkm makes. --only-sgkm
 * counts only calls for devices named sgkm.*, for runs where other drivers (nvme) call the
 * function too; without it the count is of every call, a lower bound still.
 * And the count cannot exceed the calls made from before the attach to the read of H: with T0
 * read before attaching and T3 right after H, "upper_ok" is H <= (T3 - T0) + inflight (false
 * with other callers unfiltered). T2 would not do: calls made between the reads of T2 and H
 * are counted by the hook and not in T2.
 * Exit status: 0 when every cycle was complete, 3 when one was not, 1 on an error, 2 usage.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach_count.skel.h"

#define MAX_STOP 16
#define MAX_CPUS 64

static const char *truth_path = "/sys/kernel/debug/sgkm/stats";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* maps + map_failures from sgkm's debugfs stats: every dma_map_sgtable() call sgkm made. */
static long long read_truth(void)
{
	char line[256], name[128];
	long long v, sum = 0;
	int found = 0;
	FILE *f = fopen(truth_path, "r");

	if (!f) {
		fprintf(stderr, "live-attach-count: %s: %s\n", truth_path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %lld", name, &v) != 2)
			continue;
		if (!strcmp(name, "maps") || !strcmp(name, "map_failures")) {
			sum += v;
			found++;
		}
	}
	fclose(f);
	if (found != 2) {
		fprintf(stderr, "live-attach-count: %s has no maps/map_failures lines\n", truth_path);
		exit(1);
	}
	return sum;
}

static long long read_hits(struct attach_count *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long vals[MAX_CPUS] = {0};
	long long sum = 0;
	__u32 k = 0;

	if (ncpu > MAX_CPUS || bpf_map__lookup_elem(skel->maps.hits, &k, sizeof(k), vals,
						   sizeof(vals[0]) * ncpu, 0)) {
		fprintf(stderr, "live-attach-count: reading the counter failed\n");
		exit(1);
	}
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

static void reset_hits(struct attach_count *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long vals[MAX_CPUS] = {0};
	__u32 k = 0;

	bpf_map__update_elem(skel->maps.hits, &k, sizeof(k), vals, sizeof(vals[0]) * ncpu, 0);
}

static unsigned long long recursion_misses(struct bpf_program *prog)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return 0;
	return info.recursion_misses;
}

/* Whether every thread of pid is in state T (stopped) or gone. */
static int all_stopped(pid_t pid)
{
	char path[64], buf[512];
	struct dirent *d;
	DIR *dir;
	int ok = 1;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return 1;
	while ((d = readdir(dir))) {
		FILE *f;
		char *p;

		if (d->d_name[0] == '.')
			continue;
		snprintf(buf, sizeof(buf), "/proc/%d/task/%s/stat", pid, d->d_name);
		f = fopen(buf, "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] != 'T' && p[2] != 't')
			ok = 0;
	}
	closedir(dir);
	return ok;
}

static unsigned long kallsyms_addr(const char *func)
{
	char line[512], type, name[256];
	unsigned long addr;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %255s", &addr, &type, name) == 3 && !strcmp(name, func) &&
		    toupper(type) == 'T') {
			fclose(f);
			return addr;
		}
	}
	fclose(f);
	return 0;
}

struct hooks {
	struct bpf_link *link;
	struct bpf_link *bp_links[MAX_CPUS];
	int bp_fds[MAX_CPUS];
	int nbp;
};

static int attach(struct attach_count *skel, const char *method, const char *func,
		  const char *tp, struct hooks *h)
{
	memset(h, 0, sizeof(*h));
	if (!strcmp(method, "fentry")) {
		h->link = bpf_program__attach(skel->progs.count_fentry);
	} else if (!strcmp(method, "kprobe")) {
		h->link = bpf_program__attach_kprobe(skel->progs.count_kprobe, false, func);
	} else if (!strcmp(method, "tracepoint")) {
		char cat[64], name[128];

		if (sscanf(tp, "%63[^/]/%127s", cat, name) != 2)
			return -EINVAL;
		h->link = bpf_program__attach_tracepoint(skel->progs.count_tracepoint, cat, name);
	} else {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_BREAKPOINT,
			.size = sizeof(attr),
			.bp_type = HW_BREAKPOINT_X,
			.bp_len = sizeof(long),
			.sample_period = 1,
		};
		int ncpu = libbpf_num_possible_cpus();

		attr.bp_addr = kallsyms_addr(func);
		if (!attr.bp_addr) {
			fprintf(stderr, "live-attach-count: no %s in /proc/kallsyms\n", func);
			return -ENOENT;
		}
		for (int cpu = 0; cpu < ncpu && cpu < MAX_CPUS; cpu++) {
			int fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, 0);

			if (fd < 0) {
				fprintf(stderr, "live-attach-count: breakpoint on cpu %d: %s\n", cpu,
					strerror(errno));
				return -errno;
			}
			h->bp_fds[h->nbp] = fd;
			h->bp_links[h->nbp] = bpf_program__attach_perf_event(skel->progs.count_hwbp, fd);
			if (!h->bp_links[h->nbp])
				return -errno;
			h->nbp++;
		}
		return 0;
	}
	return h->link ? 0 : -errno;
}

static void detach(struct hooks *h)
{
	bpf_link__destroy(h->link);
	for (int i = 0; i < h->nbp; i++) {
		bpf_link__destroy(h->bp_links[i]);
		close(h->bp_fds[i]);
	}
	memset(h, 0, sizeof(*h));
}

/* The offset of "__data_loc char[] device" in tracepoint CAT/NAME's record, from its format. */
static int tracepoint_device_offset(const char *tp)
{
	char path[256], line[256];
	int off = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/format", tp);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "__data_loc char[] device;");

		if (p && (p = strstr(p, "offset:")))
			off = atoi(p + 7);
	}
	fclose(f);
	return off;
}

static void usage(void)
{
	fprintf(stderr, "usage: live-attach-count --method fentry|kprobe|tracepoint|hwbp "
			"[--func NAME] [--tp CAT/NAME] [--seconds S] [--interval-ms MS] "
			"[--cycles N] [--stop PID]... [--inflight N] [--truth FILE] [--only-sgkm]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"method", required_argument, 0, 'm'},   {"func", required_argument, 0, 'f'},
		{"tp", required_argument, 0, 'p'},       {"seconds", required_argument, 0, 's'},
		{"interval-ms", required_argument, 0, 'i'}, {"cycles", required_argument, 0, 'c'},
		{"stop", required_argument, 0, 'S'},     {"inflight", required_argument, 0, 'n'},
		{"truth", required_argument, 0, 't'},    {"only-sgkm", no_argument, 0, 'o'},
		{0, 0, 0, 0},
	};
	const char *method = NULL, *func = "dma_map_sgtable", *tp = "dma/dma_map_sg";
	double seconds = 4, interval_ms = 500;
	int cycles = 1, nstop = 0, inflight = 2, incomplete = 0, only_sgkm = 0, opt;
	pid_t stop[MAX_STOP];
	struct attach_count *skel;
	struct bpf_program *prog;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': method = optarg; break;
		case 'f': func = optarg; break;
		case 'p': tp = optarg; break;
		case 's': seconds = atof(optarg); break;
		case 'i': interval_ms = atof(optarg); break;
		case 'c': cycles = atoi(optarg); break;
		case 'n': inflight = atoi(optarg); break;
		case 't': truth_path = optarg; break;
		case 'o': only_sgkm = 1; break;
		case 'S':
			if (nstop == MAX_STOP)
				usage();
			stop[nstop++] = atoi(optarg);
			break;
		default: usage();
		}
	}
	if (!method || (strcmp(method, "fentry") && strcmp(method, "kprobe") &&
			strcmp(method, "tracepoint") && strcmp(method, "hwbp")) ||
	    seconds <= 0 || interval_ms <= 0 || cycles < 1)
		usage();

	skel = attach_count__open();
	if (!skel)
		return 1;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	prog = !strcmp(method, "fentry")       ? skel->progs.count_fentry
	       : !strcmp(method, "kprobe")     ? skel->progs.count_kprobe
	       : !strcmp(method, "tracepoint") ? skel->progs.count_tracepoint
					       : skel->progs.count_hwbp;
	bpf_program__set_autoload(prog, true);
	if (!strcmp(method, "fentry"))
		bpf_program__set_attach_target(prog, 0, func);
	skel->rodata->only_sgkm = only_sgkm;
	if (only_sgkm && !strcmp(method, "tracepoint")) {
		int off = tracepoint_device_offset(tp);

		if (off < 0) {
			fprintf(stderr, "live-attach-count: tracepoint %s has no device field\n", tp);
			return 1;
		}
		skel->rodata->tp_device_off = off;
	}
	if (attach_count__load(skel)) {
		fprintf(stderr, "live-attach-count: loading failed: %s\n", strerror(errno));
		return 1;
	}

	long long after_detach = -1;

	for (int c = 1; c <= cycles; c++) {
		struct hooks h;
		long long t0, t1, t2, t3, hits, hlast = 0, tlast;
		double a0, a1, start, next;
		int err;

		/* Hits counted after the previous cycle's detach returned: calls the hook still ran
		 * for (at most the in-flight ones, if the detach is synchronous). */
		if (after_detach >= 0) {
			long long late = read_hits(skel) - after_detach;

			printf("late cycle=%d hits_after_detach=%lld%s\n", c - 1, late,
			       late > inflight ? " MORE_THAN_INFLIGHT" : "");
		}
		reset_hits(skel);
		t0 = read_truth();
		for (int i = 0; i < nstop; i++)
			kill(stop[i], SIGSTOP);
		for (int i = 0; i < nstop; i++)
			while (!all_stopped(stop[i]))
				sched_yield();
		a0 = now_ms();
		err = attach(skel, method, func, tp, &h);
		a1 = now_ms();
		if (err) {
			fprintf(stderr, "live-attach-count: attaching %s failed: %s\n", method,
				strerror(-err));
			return 1;
		}
		t1 = read_truth();
		for (int i = 0; i < nstop; i++)
			kill(stop[i], SIGCONT);
		start = now_ms();
		tlast = t1;
		for (next = start + interval_ms;; next += interval_ms) {
			double end = start + seconds * 1e3, until = next < end ? next : end;
			double left = until - now_ms();

			if (left > 0) {
				struct timespec ts = {(time_t)(left / 1e3),
						      (long)((left - (long)(left / 1e3) * 1e3) * 1e6)};
				nanosleep(&ts, NULL);
			}
			t2 = read_truth();
			hits = read_hits(skel);
			t3 = read_truth();
			printf("sample cycle=%d t_ms=%.0f truth=%lld hook=%lld d_truth=%lld d_hook=%lld\n",
			       c, now_ms() - start, t2 - t1, hits, t2 - tlast, hits - hlast);
			tlast = t2;
			hlast = hits;
			if (until >= end)
				break;
		}
		detach(&h);
		after_detach = read_hits(skel);
		printf("result cycle=%d method=%s attach_ms=%.1f truth_during_attach=%lld "
		       "window_truth=%lld hook=%lld missed=%lld recursion_misses=%llu filter=%s "
		       "truth_around_read=%lld upper_ok=%d %s\n",
		       c, method, a1 - a0, t1 - t0, t2 - t1, hits,
		       t2 - t1 - hits > 0 ? t2 - t1 - hits : 0, recursion_misses(prog),
		       only_sgkm ? "sgkm" : "all", t3 - t2, hits <= t3 - t0 + inflight,
		       hits >= t2 - t1 - inflight ? "complete" : "INCOMPLETE");
		if (hits > t3 - t0 + inflight)
			printf("excess cycle=%d hook_minus_calls=%lld\n", c, hits - (t3 - t0));
		fflush(stdout);
		if (hits < t2 - t1 - inflight)
			incomplete = 1;
	}
	attach_count__destroy(skel);
	return incomplete ? 3 : 0;
}
