// SPDX-License-Identifier: GPL-2.0
/*
 * attach: probe what this kernel lets us trace, the way libbpf-tools does (fentry_can_attach,
 * tracepoint_exists, probe_tp_btf): load a two-instruction program of each kind against the
 * target and attach it, then throw it away. The chosen programs of sgtrace.bpf.c keep
 * autoload, the others lose it.
 */
#include "attach.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

static const char *const group_names[SGT_HOOK_NR] = {
	[SGT_HOOK_MAP] = "map",
	[SGT_HOOK_UNMAP] = "unmap",
	[SGT_HOOK_FREE] = "free",
	[SGT_HOOK_FREE_PAGES] = "free_pages",
	[SGT_HOOK_UNBIND] = "unbind",
};

const char *sgt_hook_group_name(enum sgt_hook_group g)
{
	return g < SGT_HOOK_NR ? group_names[g] : "?";
}

static struct btf *vmlinux_btf(void);
static const struct sgt_probe_ops real_probes;
/* What the choice asks the kernel (sgt_hooks_set_probe_ops() replaces it in tests). */
static const struct sgt_probe_ops *P = &real_probes;

/* r0 = 0; exit */
static const struct bpf_insn ret0[] = {
	{ .code = 0xb7, .dst_reg = 0, .imm = 0 }, /* BPF_ALU64 | BPF_MOV | BPF_K */
	{ .code = 0x95 },			   /* BPF_JMP | BPF_EXIT */
};

static int silent_print(enum libbpf_print_level l, const char *f, va_list a)
{
	(void)l, (void)f, (void)a;
	return 0;
}

/*
 * ftrace-able functions (tracefs available_filter_functions), read once: fentry/fexit and
 * ftrace-based kprobes can only attach to those (lib/ is notrace, for instance). NULL if
 * tracefs cannot be read; then the probes attach for real to find out, which is slower
 * (a trampoline per probe).
 */
static char *filter_functions(void)
{
	static char *buf;
	static bool tried;
	const char *fs;
	char path[256];
	size_t len = 0, cap = 0;
	FILE *f;

	if (tried)
		return buf;
	tried = true;
	fs = sgt_tracefs();
	if (!fs)
		return NULL;
	snprintf(path, sizeof(path), "%s/available_filter_functions", fs);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	for (;;) {
		size_t n;

		if (cap - len < 65536) {
			char *p = realloc(buf, cap = cap ? cap * 2 : 1 << 20);

			if (!p) {
				free(buf);
				buf = NULL;
				fclose(f);
				return NULL;
			}
			buf = p;
			if (!len)
				buf[len++] = '\n'; /* every name is then preceded by a newline */
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		if (!n)
			break;
		len += n;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* -1: unknown (no tracefs), 0: not ftrace-able, 1: ftrace-able. */
static int is_ftraceable(const char *func)
{
	const char *all = filter_functions(), *p;
	char pat[160];
	size_t n;

	if (!all)
		return -1;
	n = snprintf(pat, sizeof(pat), "\n%s", func);
	for (p = strstr(all, pat); p; p = strstr(p + 1, pat))
		if (p[n] == '\n' || p[n] == ' ' || p[n] == '\0')
			return 1; /* "name" or "name [module]" */
	return 0;
}

/* fentry/fexit/tp_btf: a tracing program loads against the BTF id (and, when ftrace cannot
 * tell, attaches). */
static bool real_tracing_can_attach(const char *name, enum bpf_attach_type type)
{
	struct btf *btf = vmlinux_btf();
	bool is_tp = type == BPF_TRACE_RAW_TP;
	int id, fd, link = -1, ftraceable = 1;
	char tname[128];

	if (!btf)
		return false;
	/* What libbpf_find_vmlinux_btf_id() does, without parsing the BTF again each time. */
	if (is_tp) {
		snprintf(tname, sizeof(tname), "btf_trace_%s", name);
		id = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
	} else {
		id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
	}
	if (id <= 0)
		return false;
	if (!is_tp) {
		ftraceable = is_ftraceable(name);
		if (!ftraceable)
			return false;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type, .attach_btf_id = id);
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", ret0, 2, &opts);
	if (fd < 0)
		return false;
	if (ftraceable == 1 && !is_tp) {
		close(fd);
		return true;
	}
	link = bpf_raw_tracepoint_open(NULL, fd);
	if (link >= 0)
		close(link);
	close(fd);
	return link >= 0;
}

static bool real_raw_tp_can_attach(const char *name)
{
	int fd, link = -1;

	fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL, "GPL", ret0, 2, NULL);
	if (fd >= 0) {
		link = bpf_raw_tracepoint_open(name, fd);
		if (link >= 0)
			close(link);
		close(fd);
	}
	return link >= 0;
}

/* kprobe: the kprobe PMU exists and the function is ftrace-able (when tracefs says so), else
 * create a perf kprobe event on the function (what libbpf does to attach). */
static bool real_kprobe_can_attach(const char *func)
{
	struct perf_event_attr attr = { 0 };
	char buf[32] = { 0 };
	FILE *f;
	int fd, type, ftraceable;

	f = fopen("/sys/bus/event_source/devices/kprobe/type", "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	ftraceable = is_ftraceable(func);
	if (ftraceable >= 0)
		return ftraceable;
	type = atoi(buf);
	attr.size = sizeof(attr);
	attr.type = type;
	attr.config1 = (uint64_t)(uintptr_t)func;
	attr.config2 = 0;
	fd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

const char *sgt_tracefs(void)
{
	static const char *const paths[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char p[128];

	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/events", paths[i]);
		if (!access(p, F_OK))
			return paths[i];
	}
	/* Not mounted: libbpf needs it to attach normal tracepoints. */
	if (!mount("tracefs", paths[0], "tracefs", 0, NULL))
		return paths[0];
	return NULL;
}

static bool real_tracepoint_exists(const char *cat, const char *name)
{
	const char *fs = sgt_tracefs();
	char p[256];

	if (!fs)
		return false;
	snprintf(p, sizeof(p), "%s/events/%s/%s", fs, cat, name);
	return !access(p, F_OK);
}

static struct btf *vmlinux_btf(void)
{
	static struct btf *btf;
	static bool tried;

	if (!tried) {
		libbpf_print_fn_t old = libbpf_set_print(silent_print);

		tried = true;
		btf = btf__load_vmlinux_btf();
		libbpf_set_print(old);
		if (libbpf_get_error(btf))
			btf = NULL;
	}
	return btf;
}

static bool real_btf_has_func(const char *name)
{
	struct btf *btf = vmlinux_btf();

	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/* Is param i of the prototype a pointer to struct sname? */
static bool param_is_ptr_to(const struct btf *btf, const struct btf_param *p, const char *sname)
{
	const struct btf_type *t = btf__type_by_id(btf, p->type);

	while (t && (btf_is_const(t) || btf_is_volatile(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);
	while (t && (btf_is_const(t) || btf_is_volatile(t)))
		t = btf__type_by_id(btf, t->type);
	return t && btf_is_struct(t) && !strcmp(btf__name_by_offset(btf, t->name_off), sname);
}

/*
 * The dma tracepoints appeared in 6.12 (dma_map_sg_err later, in 6.18); their arguments are read by
 * position, so check the prototype in the kernel's BTF: btf_trace_<tp> is a pointer to
 * void (*)(void *, struct device *, struct scatterlist *, int nents, ...).
 */
static bool real_dma_tp_proto_ok(const char *tp, unsigned int nparams)
{
	struct btf *btf = vmlinux_btf();
	const struct btf_type *t;
	const struct btf_param *p;
	char name[64];
	int id;

	if (!btf)
		return false;
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) != nparams)
		return false;
	p = btf_params(t);
	return param_is_ptr_to(btf, &p[1], "device") && param_is_ptr_to(btf, &p[2], "scatterlist");
}

static bool real_kfree_tp_proto_ok(void)
{
	struct btf *btf = vmlinux_btf();
	const struct btf_type *t;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_kfree", BTF_KIND_TYPEDEF);
	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) && btf_vlen(t) == 3; /* (void *, call_site, ptr) */
}

static const struct sgt_probe_ops real_probes = {
	.tracing_can_attach = real_tracing_can_attach,
	.raw_tp_can_attach = real_raw_tp_can_attach,
	.kprobe_can_attach = real_kprobe_can_attach,
	.tracepoint_exists = real_tracepoint_exists,
	.btf_has_func = real_btf_has_func,
	.dma_tp_proto_ok = real_dma_tp_proto_ok,
	.kfree_tp_proto_ok = real_kfree_tp_proto_ok,
};

void sgt_hooks_set_probe_ops(const struct sgt_probe_ops *ops)
{
	P = ops ? ops : &real_probes;
}

static void set(struct sgt_hook *h, const char *method, const char *targets,
		const char *const *progs)
{
	h->method = method;
	snprintf(h->targets, sizeof(h->targets), "%s", targets);
	for (int i = 0; i < SGT_HOOK_MAX_PROGS && progs[i]; i++)
		h->progs[i] = progs[i];
}

static bool tp_btf_can_attach(const char *tracepoint)
{
	return P->tracing_can_attach(tracepoint, BPF_TRACE_RAW_TP);
}

/*
 * The map hook through the dma tracepoints (6.12+), as tp_btf or raw_tp: dma:dma_map_sg, plus
 * dma:dma_map_sg_err (after 6.12, in 6.18) for failed maps when the kernel has it; without it
 * failed maps are not seen.
 */
static bool set_dma_map_tracepoints(struct sgt_hook *h, const char *method,
				    bool (*can_attach)(const char *tracepoint),
				    const char *map_prog, const char *err_prog)
{
	char targets[sizeof(h->targets)];

	if (!P->dma_tp_proto_ok("dma_map_sg", 7) || !can_attach("dma_map_sg"))
		return false;
	if (P->dma_tp_proto_ok("dma_map_sg_err", 7) && can_attach("dma_map_sg_err")) {
		snprintf(targets, sizeof(targets), "%s:dma_map_sg %s:dma_map_sg_err", method, method);
		set(h, method, targets, (const char *const[]){ map_prog, err_prog, NULL });
		/* __dma_map_sg_attrs() fires it only for errors it does not expect (a WARN). */
		snprintf(h->note, sizeof(h->note),
			 "dma:dma_map_sg_err fires only for unexpected errors: maps failing with "
			 "ENOMEM, EINVAL, EIO or EREMOTEIO (a full bounce buffer) are not seen");
	} else {
		snprintf(targets, sizeof(targets), "%s:dma_map_sg", method);
		set(h, method, targets, (const char *const[]){ map_prog, NULL });
		snprintf(h->note, sizeof(h->note),
			 "no dma:dma_map_sg_err tracepoint: failed maps not seen");
	}
	return true;
}

static bool try_map(struct sgt_hook *h, enum sgt_attach m)
{
	switch (m) {
	case SGT_ATTACH_FENTRY:
		/* Both entry points or the method is not usable: since 5.10 dma_map_sgtable() does
		 * not call dma_map_sg_attrs() (both call the static __dma_map_sg_attrs()), so a
		 * hook on dma_map_sg_attrs() alone would miss every dma_map_sgtable() map. The next
		 * method is tried instead. (dma_map_sgtable() exists since 5.8; sgtrace needs
		 * 5.17.) */
		if (!P->tracing_can_attach("dma_map_sg_attrs", BPF_TRACE_FEXIT) ||
		    !P->tracing_can_attach("dma_map_sgtable", BPF_TRACE_FEXIT))
			return false;
		set(h, "fentry/fexit", "fexit:dma_map_sgtable fexit:dma_map_sg_attrs",
		    (const char *const[]){ "fexit_dma_map_sgtable", "fexit_dma_map_sg_attrs", NULL });
		return true;
	case SGT_ATTACH_TP_BTF:
		return set_dma_map_tracepoints(h, "tp_btf", tp_btf_can_attach,
					       "tpbtf_dma_map_sg", "tpbtf_dma_map_sg_err");
	case SGT_ATTACH_KPROBE:
		/* Both or none, as for fexit. */
		if (!P->kprobe_can_attach("dma_map_sg_attrs") || !P->kprobe_can_attach("dma_map_sgtable"))
			return false;
		set(h, "kprobe", "kprobe+kretprobe:dma_map_sgtable,dma_map_sg_attrs",
		    (const char *const[]){ "kp_dma_map_sgtable", "krp_dma_map_sgtable",
					   "kp_dma_map_sg_attrs", "krp_dma_map_sg_attrs", NULL });
		return true;
	case SGT_ATTACH_TRACEPOINT:
		return set_dma_map_tracepoints(h, "raw_tp", P->raw_tp_can_attach,
					       "rawtp_dma_map_sg", "rawtp_dma_map_sg_err");
	default:
		return false;
	}
}

static bool try_unmap(struct sgt_hook *h, enum sgt_attach m)
{
	switch (m) {
	case SGT_ATTACH_FENTRY:
		if (!P->tracing_can_attach("dma_unmap_sg_attrs", BPF_TRACE_FENTRY))
			return false;
		set(h, "fentry/fexit", "fentry:dma_unmap_sg_attrs",
		    (const char *const[]){ "fentry_dma_unmap_sg_attrs", NULL });
		return true;
	case SGT_ATTACH_TP_BTF:
		if (!P->dma_tp_proto_ok("dma_unmap_sg", 6) ||
		    !P->tracing_can_attach("dma_unmap_sg", BPF_TRACE_RAW_TP))
			return false;
		set(h, "tp_btf", "tp_btf:dma_unmap_sg", (const char *const[]){ "tpbtf_dma_unmap_sg", NULL });
		return true;
	case SGT_ATTACH_KPROBE:
		if (!P->kprobe_can_attach("dma_unmap_sg_attrs"))
			return false;
		set(h, "kprobe", "kprobe:dma_unmap_sg_attrs",
		    (const char *const[]){ "kp_dma_unmap_sg_attrs", NULL });
		return true;
	case SGT_ATTACH_TRACEPOINT:
		if (!P->dma_tp_proto_ok("dma_unmap_sg", 6) || !P->raw_tp_can_attach("dma_unmap_sg"))
			return false;
		set(h, "raw_tp", "raw_tp:dma_unmap_sg", (const char *const[]){ "rawtp_dma_unmap_sg", NULL });
		return true;
	default:
		return false;
	}
}

static bool try_free(struct sgt_hook *h, enum sgt_attach m)
{
	/* Always the raw tracepoint: tp_btf cannot read kfree's "const void *" argument on
	 * kernels such as 6.1 (the verifier only allows struct pointers there). */
	(void)m;
	if (!P->kfree_tp_proto_ok() || !P->raw_tp_can_attach("kfree"))
		return false;
	set(h, "raw_tp", "raw_tp:kfree", (const char *const[]){ "rawtp_kfree", NULL });
	return true;
}

/*
 * device_unbind_cleanup() ends every binding, failed probes included; where it cannot be traced,
 * device_release_driver_internal() sees every unbind but not the cleanup of a failed probe
 * (bpf/sgtrace.bpf.c says why).
 */
static bool try_unbind(struct sgt_hook *h, enum sgt_attach m)
{
	static const struct {
		const char *fn;
		const char *fentry[3], *kprobe[3];
	} targets[] = {
		{ "device_unbind_cleanup", { "fentry_unbind_cleanup", "fexit_unbind_cleanup" },
		  { "kp_unbind_cleanup", "krp_unbind_cleanup" } },
		{ "device_release_driver_internal", { "fentry_release", "fexit_release" },
		  { "kp_release", "krp_release" } },
	};

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		const char *fn = targets[i].fn;
		char what[160];

		switch (m) {
		case SGT_ATTACH_FENTRY:
			if (!P->tracing_can_attach(fn, BPF_TRACE_FENTRY) ||
			    !P->tracing_can_attach(fn, BPF_TRACE_FEXIT))
				continue;
			snprintf(what, sizeof(what), "fentry+fexit:%s", fn);
			set(h, "fentry/fexit", what, targets[i].fentry);
			return true;
		case SGT_ATTACH_KPROBE:
			if (!P->kprobe_can_attach(fn))
				continue;
			snprintf(what, sizeof(what), "kprobe+kretprobe:%s", fn);
			set(h, "kprobe", what, targets[i].kprobe);
			return true;
		default:
			return false;
		}
	}
	return false;
}

typedef bool (*try_fn)(struct sgt_hook *h, enum sgt_attach m);

/* Tries the forced method first (if any), then the order of preference. */
static void choose(struct sgt_hook *h, try_fn fn, enum sgt_attach forced, bool strict)
{
	static const enum sgt_attach order[] = { SGT_ATTACH_FENTRY, SGT_ATTACH_TP_BTF,
						 SGT_ATTACH_KPROBE, SGT_ATTACH_TRACEPOINT };

	if (forced != SGT_ATTACH_AUTO) {
		if (fn(h, forced))
			return;
		if (strict)
			return;
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (fn(h, order[i]))
			return;
}

void sgt_hooks_probe(struct sgt_hooks *hooks, enum sgt_attach mode, uint64_t page_offset_base_addr)
{
	struct sgt_hook *h = hooks->h;

	memset(hooks, 0, sizeof(*hooks));
	hooks->mode = mode;

	/* The forced method is binding for maps and unmaps; the other groups use it when they
	 * have a flavour of it, else the best available. */
	choose(&h[SGT_HOOK_MAP], try_map, mode, true);
	if (!h[SGT_HOOK_MAP].method)
		snprintf(h[SGT_HOOK_MAP].note, sizeof(h[0].note), "%s",
			 P->btf_has_func("dma_map_sg_attrs")
				 ? "neither fexit, kprobe nor a dma tracepoint (6.12+) can be attached"
				 : "dma_map_sg_attrs is not in the kernel's BTF");
	/*
	 * After 6.12 the DMA API grew ways to map without a scatterlist: the IOVA API
	 * (dma_iova_link()) and the block layer's blk_rq_dma_map_iter_*() on top of it (6.17,
	 * which nvme switched to), then dma_map_phys(). 7.3's nvme maps only that way. Those
	 * mappings are not traced: say so where the functions exist.
	 */
	if (h[SGT_HOOK_MAP].method && (P->btf_has_func("dma_map_phys") || P->btf_has_func("dma_iova_link"))) {
		size_t n = strlen(h[SGT_HOOK_MAP].note);

		snprintf(h[SGT_HOOK_MAP].note + n, sizeof(h[0].note) - n, "%s%s", n ? "; " : "",
			 "mappings made outside the sg API (dma_map_phys, dma_iova_link: nvme on "
			 "7.x) are not traced");
	}
	choose(&h[SGT_HOOK_UNMAP], try_unmap, mode, true);
	if (!h[SGT_HOOK_UNMAP].method)
		snprintf(h[SGT_HOOK_UNMAP].note, sizeof(h[0].note),
			 "neither fentry, kprobe nor a dma tracepoint (6.12+) can be attached");

	try_free(&h[SGT_HOOK_FREE], SGT_ATTACH_TRACEPOINT);
	if (!h[SGT_HOOK_FREE].method)
		snprintf(h[SGT_HOOK_FREE].note, sizeof(h[0].note),
			 "kmem:kfree cannot be attached: freed_while_mapped not detected");
	else
		snprintf(h[SGT_HOOK_FREE].note, sizeof(h[0].note),
			 "sg_free_table() is notrace (lib/); the freeing of the mapped scatterlist "
			 "memory is observed instead");

	if (!page_offset_base_addr)
		snprintf(h[SGT_HOOK_FREE_PAGES].note, sizeof(h[0].note),
			 "page_offset_base not in /proc/kallsyms: scatterlist chunks freed with "
			 "free_page() (tables of 128+ entries) are not observed");
	else if (!P->tracepoint_exists("kmem", "mm_page_free"))
		snprintf(h[SGT_HOOK_FREE_PAGES].note, sizeof(h[0].note),
			 "no kmem:mm_page_free tracepoint (or no tracefs): scatterlist chunks freed "
			 "with free_page() are not observed");
	else
		set(&h[SGT_HOOK_FREE_PAGES], "tracepoint", "tracepoint:kmem:mm_page_free",
		    (const char *const[]){ "tp_mm_page_free", NULL });

	choose(&h[SGT_HOOK_UNBIND], try_unbind, mode, false);
	if (h[SGT_HOOK_UNBIND].method && strstr(h[SGT_HOOK_UNBIND].targets, "device_release_driver_internal"))
		snprintf(h[SGT_HOOK_UNBIND].note, sizeof(h[0].note),
			 "device_unbind_cleanup cannot be traced: a probe that fails after mapping "
			 "is not seen as an unbind (its leftover mappings show up as leak)");
	else if (!h[SGT_HOOK_UNBIND].method)
		snprintf(h[SGT_HOOK_UNBIND].note, sizeof(h[0].note),
			 "neither device_unbind_cleanup nor device_release_driver_internal can be "
			 "traced (no fentry, no kprobe): "
			 "unbinds not seen, so outlives_unbind and unmap_after_unbind are not "
			 "detected (such mappings show up as leak)");
}

bool sgt_hooks_usable(const struct sgt_hooks *hooks)
{
	return hooks->h[SGT_HOOK_MAP].method && hooks->h[SGT_HOOK_UNMAP].method;
}

int sgt_hooks_apply(const struct sgt_hooks *hooks, struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		bool chosen = false;

		/* A program without an attach point is run by user space (clock_sample). */
		if (!strcmp(bpf_program__section_name(prog), "raw_tp"))
			continue;
		for (int g = 0; g < SGT_HOOK_NR && !chosen; g++)
			for (int i = 0; i < SGT_HOOK_MAX_PROGS && hooks->h[g].progs[i]; i++)
				if (!strcmp(hooks->h[g].progs[i], name))
					chosen = true;
		if (bpf_program__set_autoload(prog, chosen))
			return -EINVAL;
	}
	return 0;
}

int sgt_hooks_attach(const struct sgt_hooks *hooks, struct bpf_object *obj,
		     struct bpf_link **links, int max)
{
	static const enum sgt_hook_group order[] = { SGT_HOOK_UNBIND, SGT_HOOK_FREE,
						     SGT_HOOK_FREE_PAGES, SGT_HOOK_UNMAP,
						     SGT_HOOK_MAP };
	int n = 0, err;

	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
		const struct sgt_hook *h = &hooks->h[order[o]];

		for (int i = 0; i < SGT_HOOK_MAX_PROGS && h->progs[i]; i++) {
			struct bpf_program *prog = bpf_object__find_program_by_name(obj, h->progs[i]);
			struct bpf_link *link;

			if (!prog || n == max) {
				err = -EINVAL;
				goto fail;
			}
			link = bpf_program__attach(prog);
			if (!link) {
				err = errno ? -errno : -EINVAL;
				goto fail;
			}
			links[n++] = link;
		}
	}
	return n;
fail:
	/* Nothing stays attached behind the caller's back: what was attached goes, in the
	 * order of a detach (maps first). */
	sgt_hooks_detach(links, n);
	return err;
}

void sgt_hooks_detach(struct bpf_link **links, int n)
{
	while (n > 0) {
		bpf_link__destroy(links[--n]);
		links[n] = NULL;
	}
}

json_object *sgt_hooks_json(const struct sgt_hooks *hooks)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "requested", json_object_new_string(sgt_attach_name(hooks->mode)));
	for (int g = 0; g < SGT_HOOK_NR; g++) {
		const struct sgt_hook *h = &hooks->h[g];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "method", h->method ? json_object_new_string(h->method) : NULL);
		json_object_object_add(j, "targets",
				       h->method ? json_object_new_string(h->targets) : NULL);
		json_object_object_add(j, "observable", json_object_new_boolean(h->method != NULL));
		json_object_object_add(j, "note", h->note[0] ? json_object_new_string(h->note) : NULL);
		json_object_object_add(o, group_names[g], j);
	}
	return o;
}

void sgt_hooks_print(const struct sgt_hooks *hooks, FILE *out)
{
	for (int g = 0; g < SGT_HOOK_NR; g++) {
		const struct sgt_hook *h = &hooks->h[g];

		fprintf(out, "%-11s %-13s %s\n", group_names[g], h->method ? h->method : "NONE",
			h->method ? h->targets : "not observable");
		if (h->note[0])
			fprintf(out, "%-11s %-13s note: %s\n", "", "", h->note);
	}
}
