// SPDX-License-Identifier: GPL-2.0
/*
 * sgtrace: trace scatter-gather DMA mappings with BPF and report leaks and misuse.
 * main(): parse -> check -> open -> configure -> load -> attach -> run the command -> report
 * -> clean up. The helpers below it; argp in sgtrace_cli.c, hook choice in attach.c, the report
 * in sgtrace_report.c, symbols in ksyms.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "atomic_file.h"
#include "attach.h"
#include "ksyms.h"
#include "sgtrace.h"
#include "sgtrace.skel.h"
#include "sgtrace_cli.h"
#include "sgtrace_live.h"
#include "sgtrace_report.h"

/* A jiffies count and CLOCK_MONOTONIC (ns) read together by clock_sample. */
struct clock_pair {
	uint64_t jiffies;
	uint64_t ns;
};

struct run {
	struct sgt_opts opts;
	struct sgt_hooks hooks;
	struct sgtrace *skel;
	uint32_t live_buckets; /* of the live table, from --max-mappings */
	const struct sgt_dev *devs_table; /* the device table, mmap()ed by read_devs() */
	struct bpf_link *links[SGT_HOOK_NR * SGT_HOOK_MAX_PROGS];
	int nlinks;
	struct ksyms *ksyms; /* see need_ksyms() */
	uint64_t pob;
	struct sgt_report report;
	struct utsname uts;
	pid_t child;
	int child_status;
	bool child_done;
	bool child_stopped; /* we stopped it (duration over, or our own SIGINT/SIGTERM) */
	uint64_t start_ns;
	uint64_t tick_nsec_addr;   /* &tick_nsec in the kernel, 0 if unknown */
	struct clock_pair clock0;  /* the first clock_sample, after load */
	double ns_per_jiffy;	   /* see update_clock() */
	uint64_t events_by_kind[SGT_KIND_NR];
};

static volatile sig_atomic_t exiting;
static volatile sig_atomic_t exit_signal;

static int check_environment(const struct sgt_opts *o);
static void find_kernel_variables(struct run *run);
static int load_and_attach(struct run *run);
static int do_probe(struct run *run);
static int do_record(struct run *run);
static int do_monitor(struct run *run);
static int do_events(struct run *run);
static void setup_signals(void);
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args);

static int verbose;
static uint64_t now_ns(void);
static void phase(const char *what);
static const struct ksyms *need_ksyms(struct run *run);

int main(int argc, char **argv)
{
	struct run run = { .child = -1 };
	int err;

	err = sgt_parse_args(argc, argv, &run.opts);
	if (err)
		return err;
	verbose = run.opts.verbose;
	libbpf_set_print(libbpf_print);
	uname(&run.uts);
	sgt_report_init(&run.report);

	phase("start");
	err = check_environment(&run.opts);
	if (err)
		goto cleanup;
	find_kernel_variables(&run);
	phase("kallsyms");
	sgt_hooks_probe(&run.hooks, run.opts.attach, run.pob);
	phase("probe hooks");

	if (run.opts.cmd == SGT_CMD_PROBE) {
		err = do_probe(&run);
		goto cleanup;
	}
	err = load_and_attach(&run);
	if (err)
		goto cleanup;
	setup_signals();
	switch (run.opts.cmd) {
	case SGT_CMD_RECORD: err = do_record(&run); break;
	case SGT_CMD_MONITOR: err = do_monitor(&run); break;
	case SGT_CMD_EVENTS: err = do_events(&run); break;
	default: break;
	}

cleanup:
	sgt_hooks_detach(run.links, run.nlinks);
	if (run.devs_table)
		munmap((void *)run.devs_table, SGT_DEV_SLOTS * sizeof(struct sgt_dev));
	sgtrace__destroy(run.skel);
	sgt_report_free(&run.report);
	if (run.report.hooks)
		json_object_put(run.report.hooks);
	ksyms_free(run.ksyms);
	return err;
}

/* ---- helpers ---- */

/* SGTRACE_TIMING=1 prints how long each start-up phase took (start-up is slow under TCG). */
static void phase(const char *what)
{
	static uint64_t t0, last;
	uint64_t t = now_ns();

	if (!getenv("SGTRACE_TIMING"))
		return;
	if (!t0)
		t0 = last = t;
	fprintf(stderr, "sgtrace: timing: %-22s %7.3f s (total %7.3f s)\n", what, (t - last) / 1e9,
		(t - t0) / 1e9);
	last = t;
}

/* Kernel symbols, read when first needed (reading /proc/kallsyms takes a second under TCG):
 * after attach, so that the BPF programs ([bpf]) are listed and left out of stacks. */
/* Waits until every BPF handler that started before has returned: they run under
 * rcu_read_lock() and membarrier(GLOBAL) is a synchronize_rcu(). */
static void wait_handlers(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(100 * 1000); /* no membarrier: handlers take microseconds */
}

/* See "stopping" in bpf/sgtrace.bpf.c. */
static void stop_handlers(struct run *run)
{
	__atomic_store_n(&run->skel->bss->stopping, 1, __ATOMIC_SEQ_CST);
	wait_handlers();
	__atomic_store_n(&run->skel->bss->stopping, 2, __ATOMIC_SEQ_CST);
	wait_handlers();
}

static pthread_t detach_thread;

static void *detach_main(void *arg)
{
	struct run *run = arg;

	sgt_hooks_detach(run->links, run->nlinks);
	return NULL;
}

/* Detaches on another thread; false if it could not start (the caller detaches). */
static bool start_detach(struct run *run)
{
	return !pthread_create(&detach_thread, NULL, detach_main, run);
}

static bool ksyms_tried;
static pthread_t ksyms_thread;
static bool ksyms_thread_started;
static struct ksyms *ksyms_from_thread;

static void *ksyms_thread_main(void *arg)
{
	(void)arg;
	ksyms_from_thread = ksyms_load("/proc/kallsyms");
	if (ksyms_from_thread)
		ksyms_load_modules(ksyms_from_thread, "/proc/modules");
	else
		errno = errno ? errno : EIO;
	return (void *)(intptr_t)errno;
}

/* Reads the kernel symbols on another thread (another CPU) while the caller detaches and reads
 * the live map: the report of 1,000,000 live mappings is then not also waiting for kallsyms.
 * Started while still attached, so that the BPF programs are listed (see need_ksyms). */
static void start_ksyms(void)
{
	if (!ksyms_tried && !pthread_create(&ksyms_thread, NULL, ksyms_thread_main, NULL))
		ksyms_thread_started = true;
}

static const struct ksyms *need_ksyms(struct run *run)
{
	if (ksyms_tried)
		return run->ksyms;
	ksyms_tried = true;
	if (ksyms_thread_started) {
		void *ret = NULL;

		pthread_join(ksyms_thread, &ret);
		ksyms_thread_started = false;
		run->ksyms = ksyms_from_thread;
		if (!run->ksyms)
			errno = (int)(intptr_t)ret;
	} else {
		run->ksyms = ksyms_load("/proc/kallsyms");
		if (run->ksyms)
			ksyms_load_modules(run->ksyms, "/proc/modules");
	}
	if (!run->ksyms) {
		fprintf(stderr, "sgtrace: warning: cannot read /proc/kallsyms (%s): stacks will not "
				"be symbolized\n", strerror(errno));
		return NULL;
	}
	run->report.ksyms = run->ksyms;
	return run->ksyms;
}


/*
 * libbpf prints a program's whole verifier log when its load fails. That log can be tens of
 * MB (23 MB, 184,000 lines for the map handlers that 6.12's verifier once refused), which
 * took three minutes to go out of a TCG guest's serial console: without -v only its last
 * lines are shown, which say why.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	/* "prog '%s': -- BEGIN PROG LOAD LOG --\n%s-- END PROG LOAD LOG --\n": name, log */
	if (!verbose && strstr(fmt, "-- BEGIN PROG LOAD LOG --")) {
		const char *name, *log, *tail;
		size_t lines = 0, len;
		int nl = 0;
		va_list a;

		va_copy(a, args);
		name = va_arg(a, const char *);
		log = va_arg(a, const char *);
		va_end(a);
		if (!name || !log)
			return vfprintf(stderr, fmt, args);
		len = strlen(log);
		for (size_t i = 0; i < len; i++)
			lines += log[i] == '\n';
		/* The last 3 lines: the reason, and the "processed N insns" summary. */
		for (tail = log + len; tail > log; tail--)
			if (tail[-1] == '\n' && tail != log + len && ++nl == 3)
				break;
		return fprintf(stderr, "libbpf: prog '%s': the verifier refused it; its log has %zu "
				       "lines (sgtrace -v prints them all), the last ones:\n%s",
			       name, lines, tail);
	}
	return vfprintf(stderr, fmt, args);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void on_signal(int sig)
{
	exiting = 1;
	exit_signal = sig;
}

static void on_sigchld(int sig)
{
	(void)sig; /* only to interrupt poll() */
}

/*
 * What sgtrace changes, and what it found: the traced command gets the latter back (see
 * start_command), as if it had been started without sgtrace. An ignored disposition and the
 * signal mask survive exec(), so the command would otherwise run with SIGPIPE ignored (a
 * `yes | head` in it would fail with EPIPE instead of ending quietly).
 */
static const int our_signals[] = { SIGINT, SIGTERM, SIGCHLD, SIGPIPE };
static struct sigaction inherited_action[sizeof(our_signals) / sizeof(our_signals[0])];
static sigset_t inherited_mask;

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal }, ign = { .sa_handler = SIG_IGN };

	sigprocmask(SIG_SETMASK, NULL, &inherited_mask);
	for (size_t i = 0; i < sizeof(our_signals) / sizeof(our_signals[0]); i++)
		sigaction(our_signals[i], NULL, &inherited_action[i]);
	sigemptyset(&sa.sa_mask);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	/* A write to a closed pipe is then an EPIPE we report, not our death without a report. */
	sigaction(SIGPIPE, &ign, NULL);
}

/* In the child, before exec: async-signal-safe calls only. */
static void restore_signals(void)
{
	for (size_t i = 0; i < sizeof(our_signals) / sizeof(our_signals[0]); i++)
		sigaction(our_signals[i], &inherited_action[i], NULL);
	sigprocmask(SIG_SETMASK, &inherited_mask, NULL);
}

/* CapEff bits: CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39. */
static bool has_bpf_caps(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *f;

	if (geteuid() == 0)
		return true;
	f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return (caps & (1ULL << 21)) || ((caps & (1ULL << 38)) && (caps & (1ULL << 39)));
}

static bool device_exists(const char *name)
{
	static const char *const buses[] = { "platform", "pci", "virtio", "usb", "scsi", "nvme" };
	char p[256];

	for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++) {
		snprintf(p, sizeof(p), "/sys/bus/%s/devices/%s", buses[i], name);
		if (!access(p, F_OK))
			return true;
	}
	return false;
}

static int check_environment(const struct sgt_opts *o)
{
	if (!has_bpf_caps()) {
		fprintf(stderr, "sgtrace: needs root (or CAP_BPF and CAP_PERFMON): run it with sudo\n");
		return SGT_EXIT_ERROR;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "sgtrace: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
				"sgtrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n");
		return SGT_EXIT_ERROR;
	}
	/* Before tracing, not after: a long run would otherwise end in a report that is lost. */
	if (o->json_file) {
		const char *step;
		int err = afile_check(o->json_file, &step);

		if (err) {
			fprintf(stderr, "sgtrace: --json %s: cannot write the report there (%s): %s: "
					"give a file in a writable directory\n", o->json_file, step,
				strerror(-err));
			return SGT_EXIT_ERROR;
		}
	}
	if (o->device && !strncmp(o->device, "sgkm", 4) && access("/sys/module/sgkm", F_OK)) {
		fprintf(stderr, "sgtrace: --device %s is an sgkm device, but the sgkm module is not "
				"loaded: load it first (insmod sgkm.ko)\n", o->device);
		return SGT_EXIT_ERROR;
	}
	if (o->device && !device_exists(o->device))
		fprintf(stderr, "sgtrace: warning: no device named '%s' exists now; tracing it "
				"anyway in case it appears\n", o->device);
	return 0;
}

/* The kernel variables the BPF side reads, from one scan of /proc/kallsyms (0: not listed):
 * the x86-64 direct-map base (CONFIG_RANDOMIZE_MEMORY), for page frees, and tick_nsec, the
 * length of a jiffy, for ages (see clock_sample in sgtrace.bpf.c). */
static void find_kernel_variables(struct run *run)
{
	static const char *const names[] = { "page_offset_base", "tick_nsec" };
	uint64_t addrs[2];

	ksyms_scan_addrs("/proc/kallsyms", names, addrs, 2);
	run->pob = addrs[0];
	run->tick_nsec_addr = addrs[1];
}

/* Runs clock_sample in the kernel: 0 and *out, or -errno. */
static int sample_clock(struct run *run, struct clock_pair *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	int err = bpf_prog_test_run_opts(bpf_program__fd(run->skel->progs.clock_sample), &topts);

	if (err)
		return -errno;
	out->jiffies = run->skel->bss->sample_jiffies;
	out->ns = run->skel->bss->sample_ns;
	return 0;
}

/*
 * Sets run->ns_per_jiffy, which turns the jiffies of records and events into ages: the
 * kernel's tick_nsec when its address is known, else the rate between the first clock sample
 * (after load) and a new one (the common HZ nearest to it, so that a short interval does not
 * skew it), else 4 ms (HZ=250). *now, if given, gets the new sample.
 */
static void update_clock(struct run *run, struct clock_pair *now)
{
	static const double common_hz[] = { 100, 250, 300, 1000 };
	struct clock_pair c;

	if (sample_clock(run, &c)) {
		static bool warned;

		if (!warned)
			fprintf(stderr, "sgtrace: warning: cannot run clock_sample (BPF_PROG_TEST_RUN "
					"of a raw_tp program, 5.10+): the ages of mappings are unknown, "
					"--min-age cannot apply\n");
		warned = true;
		c.jiffies = run->clock0.jiffies;
		c.ns = run->clock0.ns;
	}
	if (now)
		*now = c;
	if (run->skel->bss->sample_tick_nsec) {
		run->ns_per_jiffy = run->skel->bss->sample_tick_nsec;
		return;
	}
	if (!run->clock0.ns) {
		run->clock0 = c;
		run->ns_per_jiffy = 4e6;
		return;
	}
	if (c.jiffies > run->clock0.jiffies && c.ns > run->clock0.ns) {
		double hz = (c.jiffies - run->clock0.jiffies) * 1e9 / (c.ns - run->clock0.ns), best = 250;

		for (size_t i = 0; i < sizeof(common_hz) / sizeof(common_hz[0]); i++)
			if (fabs(common_hz[i] - hz) < fabs(best - hz))
				best = common_hz[i];
		run->ns_per_jiffy = 1e9 / best;
	}
}

static int load_and_attach(struct run *run)
{
	const struct sgt_opts *o = &run->opts;
	int err;

	if (!sgt_hooks_usable(&run->hooks)) {
		fprintf(stderr, "sgtrace: cannot trace DMA maps and unmaps on this kernel (%s) with "
				"--attach=%s:\n", run->uts.release, sgt_attach_name(o->attach));
		sgt_hooks_print(&run->hooks, stderr);
		return SGT_EXIT_ERROR;
	}
	run->skel = sgtrace__open();
	if (!run->skel) {
		fprintf(stderr, "sgtrace: cannot open the BPF object: %s\n", strerror(errno));
		return SGT_EXIT_ERROR;
	}
	if (o->device) {
		run->skel->rodata->filter_enabled = 1;
		strncpy((char *)run->skel->rodata->filter_name, o->device, SGT_NAME_LEN - 1);
	}
	if (run->hooks.h[SGT_HOOK_FREE_PAGES].method)
		run->skel->rodata->page_offset_base_addr = run->pob;
	run->skel->rodata->tick_nsec_addr = run->tick_nsec_addr;
	run->live_buckets = sgt_live_buckets(o->max_mappings);
	bpf_map__set_max_entries(run->skel->maps.live, run->live_buckets);
	run->skel->rodata->live_mask = run->live_buckets - 1;
	if (o->grace_ms < 0) /* a command starts after attach: all its mappings are seen */
		run->skel->rodata->grace_ns = o->cmd_argv ? 0 : 1000 * 1000000ULL;
	else
		run->skel->rodata->grace_ns = (uint64_t)o->grace_ms * 1000000ULL;
	phase("open");
	err = sgt_hooks_apply(&run->hooks, run->skel->obj);
	if (!err)
		err = sgtrace__load(run->skel);
	phase("load");
	if (err) {
		fprintf(stderr, "sgtrace: cannot load the BPF programs: %s (run with -v for the "
				"verifier log)\n", strerror(-err));
		return SGT_EXIT_ERROR;
	}
	update_clock(run, NULL); /* the first sample */
	err = sgt_hooks_attach(&run->hooks, run->skel->obj, run->links,
			       sizeof(run->links) / sizeof(run->links[0]));
	if (err > 0)
		run->nlinks = err, err = 0;
	if (err) {
		fprintf(stderr, "sgtrace: cannot attach the BPF programs: %s\n", strerror(-err));
		return SGT_EXIT_ERROR;
	}
	phase("attach");
	update_clock(run, NULL);
	run->start_ns = now_ns();
	run->skel->bss->trace_start_ns = run->start_ns; /* same clock as bpf_ktime_get_ns() */
	run->report.hooks = sgt_hooks_json(&run->hooks);
	return 0;
}

static int do_probe(struct run *run)
{
	bool usable = sgt_hooks_usable(&run->hooks);
	int err = 0;

	if (usable)
		err = load_and_attach(run);
	if (run->opts.json) {
		json_object *o = json_object_new_object(), *k = json_object_new_object();

		json_object_object_add(k, "release", json_object_new_string(run->uts.release));
		json_object_object_add(o, "kernel", k);
		json_object_object_add(o, "hooks", sgt_hooks_json(&run->hooks));
		json_object_object_add(o, "usable", json_object_new_boolean(usable));
		json_object_object_add(o, "loaded", json_object_new_boolean(usable && !err));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("kernel %s, BTF yes, attach %s\n", run->uts.release,
		       sgt_attach_name(run->opts.attach));
		sgt_hooks_print(&run->hooks, stdout);
		printf("maps and unmaps: %s\n", usable ? (err ? "observable, but the BPF object "
							       "failed to load or attach"
							     : "observable (BPF object loaded and attached)")
						       : "NOT observable");
	}
	return usable && !err ? 0 : SGT_EXIT_ERROR;
}

static int stack_of(void *ctx, uint32_t id, uint64_t *ips, int max)
{
	struct run *run = ctx;
	uint64_t buf[SGT_STACK_DEPTH] = { 0 };
	int n = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(run->skel->maps.stacks), &id, buf))
		return 0;
	while (n < max && n < SGT_STACK_DEPTH && buf[n])
		ips[n] = buf[n], n++;
	return n;
}

/*
 * Runs of our programs that the kernel skipped (recursion guard, counted since 5.12). Skipped
 * map, unmap and unbind runs are lost events. Skipped free runs are kept apart: nearly all are
 * frees inside our own free handler (the BPF map code giving memory back from an interrupt),
 * which are not scatterlists; they are shown but not counted as lost.
 */
static void read_prog_misses(struct run *run)
{
	struct bpf_program *prog;

	run->report.prog_misses = 0;
	run->report.map_misses = 0;
	run->report.free_misses = 0;
	bpf_object__for_each_program(prog, run->skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);
		const char *name = bpf_program__name(prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		if (!strcmp(name, "rawtp_kfree") || !strcmp(name, "tp_mm_page_free")) {
			run->report.free_misses += info.recursion_misses;
			continue;
		}
		run->report.prog_misses += info.recursion_misses;
		/* The map programs: "..._dma_map_sg..." or "..._dma_map_sgtable", not unmap. */
		if (strstr(name, "_map_sg") && !strstr(name, "unmap"))
			run->report.map_misses += info.recursion_misses;
	}
}

static void read_stats(struct run *run, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals = calloc(ncpu > 0 ? ncpu : 1, sizeof(*vals));
	int fd = bpf_map__fd(run->skel->maps.stats);

	for (__u32 i = 0; i < SGT_STAT_NR; i++) {
		out[i] = 0;
		if (!vals || bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	read_prog_misses(run);
}

/* Replaces the report's device table with the current content of the device table, read in
 * place (an mmap-able BPF array, mapped on first use and for the rest of the run). */
static void read_devs(struct run *run)
{
	size_t len = SGT_DEV_SLOTS * sizeof(struct sgt_dev);

	if (!run->devs_table) {
		void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, bpf_map__fd(run->skel->maps.devs), 0);

		if (p == MAP_FAILED) {
			fprintf(stderr, "sgtrace: cannot map the device table: %s\n", strerror(errno));
			return;
		}
		run->devs_table = p;
	}
	run->report.nr_devs = 0;
	for (int i = 0; i < SGT_DEV_SLOTS; i++) {
		struct sgt_dev d = run->devs_table[i];

		if (d.key && !(d.key & SGT_DEV_FILLING))
			sgt_report_add_dev(&run->report, d.key, &d);
	}
}

static uint64_t event_age(const struct run *run, const struct sgt_event *e)
{
	return e->ts_map && e->ts > e->ts_map ? (e->ts - e->ts_map) * run->ns_per_jiffy : 0;
}

static int on_record_event(void *ctx, void *data, size_t size)
{
	struct run *run = ctx;

	if (size < sizeof(struct sgt_event))
		return 0;
	run->report.events_received++;
	sgt_report_add(&run->report, data, event_age(run, data));
	return 0;
}

/* Starts CMD once tracing is attached. A close-on-exec pipe tells whether exec worked. */
static int start_command(struct run *run)
{
	int pfd[2], child_err = 0;
	sigset_t all, ours;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	/* No handler of ours may run in the child between fork and the restored dispositions. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &ours);
	run->child = fork();
	if (run->child < 0) {
		child_err = errno;
		sigprocmask(SIG_SETMASK, &ours, NULL);
		close(pfd[0]);
		close(pfd[1]);
		return -child_err;
	}
	if (run->child == 0) {
		close(pfd[0]);
		restore_signals();
		execvp(run->opts.cmd_argv[0], run->opts.cmd_argv);
		child_err = errno;
		if (write(pfd[1], &child_err, sizeof(child_err)) < 0)
			_exit(127);
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &ours, NULL);
	close(pfd[1]);
	do
		n = read(pfd[0], &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n > 0) {
		waitpid(run->child, NULL, 0);
		run->child = -1;
		run->child_done = true;
		run->child_status = 127;
		fprintf(stderr, "sgtrace: cannot run '%s': %s\n", run->opts.cmd_argv[0],
			strerror(child_err));
		return -child_err;
	}
	run->report.cmd_ran = true;
	return 0;
}

static int decode_status(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void reap_child(struct run *run, bool wait)
{
	int st;

	if (run->child <= 0 || run->child_done)
		return;
	if (waitpid(run->child, &st, wait ? 0 : WNOHANG) == run->child) {
		run->child_done = true;
		run->child_status = decode_status(st);
	}
}

/* At the end, a command still running is asked to stop (then killed after 5 s). */
static void stop_child(struct run *run)
{
	if (run->child <= 0 || run->child_done)
		return;
	run->child_stopped = true;
	kill(run->child, exit_signal ? exit_signal : SIGTERM);
	for (int i = 0; i < 500 && !run->child_done; i++) {
		reap_child(run, false);
		if (!run->child_done)
			usleep(10000);
	}
	if (!run->child_done) {
		kill(run->child, SIGKILL);
		reap_child(run, true);
	}
}

static bool time_is_up(const struct run *run)
{
	return run->opts.duration_s > 0 &&
	       now_ns() - run->start_ns >= (uint64_t)(run->opts.duration_s * 1e9);
}

static int comm_lookup(struct run *run, uint32_t pid, char *comm)
{
	return bpf_map_lookup_elem(bpf_map__fd(run->skel->maps.comms), &pid, comm);
}

static int comm_cb(void *ctx, uint32_t pid, char *comm)
{
	return comm_lookup(ctx, pid, comm);
}

/* Written as a whole or not at all (see atomic_file.h): a CI job never reads half a report. */
static int write_json(struct run *run)
{
	const char *file = run->opts.json_file, *step = "building it";
	json_object *j = sgt_report_json(&run->report);
	const char *s = j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE)
			  : NULL;
	char *text = NULL;
	int err = -ENOMEM;

	if (s && asprintf(&text, "%s\n", s) >= 0)
		err = afile_write(file, text, strlen(text), &step);
	else
		text = NULL; /* undefined after a failed asprintf() */
	if (err)
		fprintf(stderr, "sgtrace: cannot write the JSON report to %s (%s): %s: free space "
				"or give another --json (a regular file is replaced only by a whole "
				"report)\n", strcmp(file, "-") ? file : "stdout", step, strerror(-err));
	free(text);
	json_object_put(j);
	return err ? SGT_EXIT_ERROR : 0;
}

static int do_record(struct run *run)
{
	struct sgt_report *r = &run->report;
	struct ring_buffer *rb;
	uint64_t end;
	struct clock_pair end_clock;
	bool detaching, op_error = false;
	int err = 0, status;
	FILE *text = stdout;

	rb = ring_buffer__new(bpf_map__fd(run->skel->maps.events), on_record_event, run, NULL);
	if (!rb) {
		fprintf(stderr, "sgtrace: cannot open the ring buffer: %s\n", strerror(errno));
		return SGT_EXIT_ERROR;
	}
	r->stack_fn = stack_of;
	r->stack_ctx = run;
	r->kernel_release = run->uts.release;
	r->min_age_ms = run->opts.min_age_ms;
	r->fail_on = run->opts.fail_on;
	r->device_filter = run->opts.device;
	r->cmd_argv = run->opts.cmd_argv;
	if (run->opts.cmd_argv && start_command(run))
		exiting = 1;
	else if (!run->opts.cmd_argv)
		fprintf(stderr, "sgtrace: tracing%s; Ctrl-C to stop and report\n",
			run->opts.duration_s > 0 ? " for the duration" : "");

	while (!exiting && !time_is_up(run)) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "sgtrace: cannot read the ring buffer: %s: findings made "
					"while tracing may be missing; stopping\n", strerror(-err));
			op_error = true;
			break;
		}
		reap_child(run, false);
		if (run->child_done)
			break;
	}
	stop_child(run);
	r->cmd_status = run->child_status;
	/* Stopped by the signal that stopped us (Ctrl-C reaches the whole process group), or by
	 * us at the end of --duration: interrupted, not failed. */
	r->cmd_interrupted = r->cmd_ran && (run->child_stopped ||
					    (exit_signal && r->cmd_status == 128 + exit_signal));

	/* A consistent end: stop the handlers (maps first, as a detach would), wait for those in
	 * flight, drain, then read the maps; detaching, slow under TCG, goes on meanwhile. */
	phase("traced");
	start_ksyms();
	stop_handlers(run);
	update_clock(run, &end_clock);
	ring_buffer__consume(rb);
	end = now_ns();
	detaching = start_detach(run);
	phase("stop and drain");
	r->duration_s = (end - run->start_ns) / 1e9;
	read_stats(run, r->stats);
	read_devs(run);
	err = sgt_collect_live(bpf_map__fd(run->skel->maps.live), run->live_buckets, r,
			       end_clock.jiffies, run->ns_per_jiffy, run->opts.min_age_ms);
	if (err) {
		fprintf(stderr, "sgtrace: cannot read the live mappings: %s: the leak and "
				"outlives_unbind findings are missing from the report\n",
			strerror(-err));
		op_error = true;
	}
	sgt_report_settle_losses(r);
	phase("read live mappings");
	/* Examples from the live map carry no comm yet: look them up (one per group). */
	sgt_report_fill_comms(r, comm_cb, run);
	ring_buffer__free(rb);

	need_ksyms(run);
	if (run->opts.json_file && !strcmp(run->opts.json_file, "-"))
		text = stderr;
	sgt_report_print(r, text);
	if (fflush(text) || ferror(text)) {
		fprintf(stderr, "sgtrace: cannot write the text report to %s: %s\n",
			text == stdout ? "stdout" : "stderr", strerror(errno));
		op_error = true;
	}
	if (run->opts.json_file && write_json(run))
		op_error = true;
	phase("report written");
	if (detaching)
		pthread_join(detach_thread, NULL);
	else
		sgt_hooks_detach(run->links, run->nlinks);
	run->nlinks = 0;
	phase("detached");

	status = sgt_record_exit_status(r, op_error);
	if (op_error && sgt_report_failing(r, r->fail_on))
		fprintf(stderr, "sgtrace: exit status 1, not 3: there are findings of a --fail-on "
				"kind, but the report is incomplete or was not written (see above)\n");
	else if (!op_error && status == SGT_EXIT_ERROR)
		fprintf(stderr, "sgtrace: the command %s (status %d)\n",
			r->cmd_ran ? "failed" : "did not run", r->cmd_status);
	return status;
}

/* ---- monitor ---- */

struct mon_prev {
	uint64_t dev;
	uint64_t maps, unmaps;
};

static int on_monitor_event(void *ctx, void *data, size_t size)
{
	struct run *run = ctx;
	const struct sgt_event *e = data;

	if (size >= sizeof(*e) && e->kind < SGT_KIND_NR)
		run->events_by_kind[e->kind]++;
	return 0;
}

static const struct mon_prev *find_prev(const struct mon_prev *p, size_t n, uint64_t dev)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].dev == dev)
			return &p[i];
	return NULL;
}

static void monitor_tick(struct run *run, double dt, struct mon_prev **prev, size_t *nprev,
			 bool tty)
{
	struct sgt_report *r = &run->report;
	uint64_t stats[SGT_STAT_NR], findings = 0;
	struct mon_prev *next;
	json_object *j = NULL, *arr = NULL;
	double t = (now_ns() - run->start_ns) / 1e9;

	read_stats(run, stats);
	memcpy(r->stats, stats, sizeof(stats));
	read_devs(run);
	for (int k = 0; k < SGT_KIND_NR; k++)
		findings += run->events_by_kind[k];
	next = calloc(r->nr_devs ? r->nr_devs : 1, sizeof(*next));
	if (run->opts.json) {
		j = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(j, "time_s", json_object_new_double(t));
	} else if (tty) {
		printf("\033[H\033[2J");
		printf("sgtrace monitor  %.0f s  maps %" PRIu64 "  unmaps %" PRIu64
		       "  findings %" PRIu64 "  lost %" PRIu64 "\n\n",
		       t, stats[SGT_STAT_MAPS], stats[SGT_STAT_UNMAPS], findings, sgt_report_lost(r));
		printf("%-20s %-10s %10s %12s %10s %10s %9s\n", "DEVICE", "DRIVER", "LIVE",
		       "LIVE_BYTES", "MAPS/s", "UNMAPS/s", "FINDINGS");
	}
	for (size_t i = 0; i < r->nr_devs; i++) {
		const struct sgt_devinfo *d = &r->devs[i];
		const struct mon_prev *p = find_prev(*prev, *nprev, d->dev);
		double maps_s = (d->d.maps - (p ? p->maps : 0)) / dt;
		double unmaps_s = (d->d.unmaps - (p ? p->unmaps : 0)) / dt;

		if (next) {
			next[i].dev = d->dev;
			next[i].maps = d->d.maps;
			next[i].unmaps = d->d.unmaps;
		}
		if (!d->d.match)
			continue;
		if (j) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "device", sgt_json_string(d->d.name, SGT_NAME_LEN));
			json_object_object_add(o, "driver",
					       sgt_json_string(d->d.driver, SGT_NAME_LEN));
			json_object_object_add(o, "live", json_object_new_int64((int64_t)d->d.live));
			json_object_object_add(o, "live_bytes",
					       json_object_new_int64((int64_t)d->d.live_bytes));
			json_object_object_add(o, "maps_per_s", json_object_new_double(maps_s));
			json_object_object_add(o, "unmaps_per_s", json_object_new_double(unmaps_s));
			json_object_object_add(o, "findings", json_object_new_int64(d->d.findings));
			json_object_array_add(arr, o);
		} else if (tty) {
			printf("%-20s %-10s %10" PRId64 " %12" PRId64 " %10.0f %10.0f %9" PRIu64 "\n",
			       d->d.name, d->d.driver[0] ? d->d.driver : "-", (int64_t)d->d.live,
			       (int64_t)d->d.live_bytes, maps_s, unmaps_s, (uint64_t)d->d.findings);
		} else {
			printf("t=%.1f device=%s driver=%s live=%" PRId64 " live_bytes=%" PRId64
			       " maps/s=%.0f unmaps/s=%.0f findings=%" PRIu64 " lost=%" PRIu64 "\n",
			       t, d->d.name, d->d.driver[0] ? d->d.driver : "-", (int64_t)d->d.live,
			       (int64_t)d->d.live_bytes, maps_s, unmaps_s, (uint64_t)d->d.findings,
			       sgt_report_lost(r));
		}
	}
	if (j) {
		json_object *tot = json_object_new_object();

		json_object_object_add(tot, "maps", json_object_new_int64(stats[SGT_STAT_MAPS]));
		json_object_object_add(tot, "unmaps", json_object_new_int64(stats[SGT_STAT_UNMAPS]));
		json_object_object_add(tot, "findings", json_object_new_int64(findings));
		json_object_object_add(tot, "lost", json_object_new_int64(sgt_report_lost(r)));
		json_object_object_add(tot, "lost_nested_free",
				       json_object_new_int64(stats[SGT_STAT_LOST_NESTED]));
		json_object_object_add(tot, "lost_kernel_skipped",
				       json_object_new_int64(r->prog_misses));
		json_object_object_add(j, "totals", tot);
		json_object_object_add(j, "devices", arr);
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else if (!r->nr_devs) {
		if (tty)
			printf("(no DMA scatter-gather activity yet)\n");
		else
			printf("t=%.1f no DMA scatter-gather activity yet, lost=%" PRIu64 "\n", t,
			       sgt_report_lost(r));
	}
	fflush(stdout);
	free(*prev);
	*prev = next;
	*nprev = next ? r->nr_devs : 0;
}

static int do_monitor(struct run *run)
{
	struct ring_buffer *rb;
	struct mon_prev *prev = NULL;
	size_t nprev = 0;
	bool tty = isatty(STDOUT_FILENO);
	uint64_t last = now_ns(), interval = (uint64_t)(run->opts.interval_s * 1e9);

	rb = ring_buffer__new(bpf_map__fd(run->skel->maps.events), on_monitor_event, run, NULL);
	if (!rb) {
		fprintf(stderr, "sgtrace: cannot open the ring buffer: %s\n", strerror(errno));
		return SGT_EXIT_ERROR;
	}
	while (!exiting && !time_is_up(run)) {
		uint64_t t;

		ring_buffer__poll(rb, 100);
		t = now_ns();
		if (t - last >= interval) {
			monitor_tick(run, (t - last) / 1e9, &prev, &nprev, tty);
			last = t;
		}
	}
	ring_buffer__free(rb);
	free(prev);
	return 0;
}

/* ---- events ---- */

static int on_stream_event(void *ctx, void *data, size_t size)
{
	struct run *run = ctx;
	const struct sgt_event *e = data;

	if (size < sizeof(*e))
		return 0;
	read_devs(run); /* device names of new devices */
	need_ksyms(run);
	if (run->opts.json) {
		json_object *j = sgt_event_json(&run->report, e, event_age(run, e));

		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		sgt_event_print(&run->report, e, event_age(run, e), stdout);
	}
	fflush(stdout);
	return 0;
}

static int do_events(struct run *run)
{
	struct ring_buffer *rb;

	run->report.stack_fn = stack_of;
	run->report.stack_ctx = run;
	rb = ring_buffer__new(bpf_map__fd(run->skel->maps.events), on_stream_event, run, NULL);
	if (!rb) {
		fprintf(stderr, "sgtrace: cannot open the ring buffer: %s\n", strerror(errno));
		return SGT_EXIT_ERROR;
	}
	/* Also with --json (stdout only has the JSON): it says that every hook is attached. */
	fprintf(stderr, "sgtrace: streaming findings; Ctrl-C to stop\n");
	while (!exiting && !time_is_up(run))
		ring_buffer__poll(rb, 100);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	read_stats(run, run->report.stats);
	fprintf(stderr, "sgtrace: maps %" PRIu64 ", unmaps %" PRIu64 ", lost %" PRIu64 "\n",
		run->report.stats[SGT_STAT_MAPS], run->report.stats[SGT_STAT_UNMAPS],
		sgt_report_lost(&run->report));
	return 0;
}
