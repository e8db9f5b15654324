// SPDX-License-Identifier: GPL-2.0
/* ksyms: parse /proc/kallsyms once, then symbolize addresses by binary search. */
#include "ksyms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ksyms {
	struct ksym *syms; /* function symbols, sorted by address */
	size_t nr, cap;
	struct ksym *data; /* other symbols (variables), unsorted; for ksyms_addr_of() */
	size_t nr_data, cap_data;
	char *strs; /* names and module names, NUL-separated */
	size_t strs_len, strs_cap;
	uint64_t kernel_end; /* address of _end: vmlinux symbols do not extend past it */
	struct ksym_module *mods; /* module core ranges from /proc/modules */
	size_t nr_mods;
};

struct ksym_module {
	char name[64];
	uint64_t start, end;
};

/* A symbol without a known extent (e.g. [bpf]) covers at most this much. */
#define KSYM_MAX_UNSIZED 0x10000

static int push_str(struct ksyms *ks, const char *s, size_t *off)
{
	size_t n = strlen(s) + 1;

	if (ks->strs_len + n > ks->strs_cap) {
		size_t cap = ks->strs_cap ? ks->strs_cap * 2 : 1 << 20;
		char *p;

		while (cap < ks->strs_len + n)
			cap *= 2;
		p = realloc(ks->strs, cap);
		if (!p)
			return -ENOMEM;
		ks->strs = p;
		ks->strs_cap = cap;
	}
	memcpy(ks->strs + ks->strs_len, s, n);
	*off = ks->strs_len;
	ks->strs_len += n;
	return 0;
}

static int push_sym(struct ksym **arr, size_t *nr, size_t *cap, uint64_t addr, size_t name,
		    size_t mod)
{
	if (*nr == *cap) {
		size_t c = *cap ? *cap * 2 : 4096;
		struct ksym *p = realloc(*arr, c * sizeof(**arr));

		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = c;
	}
	/* Offsets into strs for now: strs may move while loading; fixed up at the end. */
	(*arr)[*nr].addr = addr;
	(*arr)[*nr].name = (const char *)(uintptr_t)name;
	(*arr)[*nr].module = (const char *)(uintptr_t)mod;
	(*nr)++;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void fixup(struct ksyms *ks, struct ksym *arr, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		size_t mod = (uintptr_t)arr[i].module;

		arr[i].name = ks->strs + (uintptr_t)arr[i].name;
		arr[i].module = mod ? ks->strs + mod : NULL;
	}
}

struct ksyms *ksyms_load(const char *path)
{
	struct ksyms *ks;
	char line[512], name[256], mod[128];
	size_t empty;
	FILE *f;
	int err = 0;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	/* Offset 0 is the empty string, which stands for "no module". */
	if (push_str(ks, "", &empty))
		goto nomem;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		size_t noff, moff = 0;
		char type;
		int n;

		mod[0] = '\0';
		n = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, mod);
		if (n < 3)
			continue;
		if (push_str(ks, name, &noff) || (mod[0] && push_str(ks, mod, &moff)))
			goto nomem;
		if (type == 't' || type == 'T' || type == 'w' || type == 'W')
			err = push_sym(&ks->syms, &ks->nr, &ks->cap, addr, noff, moff);
		else if (!mod[0])
			err = push_sym(&ks->data, &ks->nr_data, &ks->cap_data, addr, noff, 0);
		if (err)
			goto nomem;
	}
	fclose(f);
	fixup(ks, ks->syms, ks->nr);
	fixup(ks, ks->data, ks->nr_data);
	qsort(ks->syms, ks->nr, sizeof(*ks->syms), cmp_addr);
	ks->kernel_end = ksyms_addr_of(ks, "_end");
	return ks;
nomem:
	fclose(f);
	ksyms_free(ks);
	errno = ENOMEM;
	return NULL;
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->data);
	free(ks->strs);
	free(ks->mods);
	free(ks);
}

size_t ksyms_count(const struct ksyms *ks)
{
	return ks ? ks->nr : 0;
}

const struct ksym *ksyms_lookup(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!ks || !ks->nr || addr < ks->syms[0].addr)
		return NULL;
	hi = ks->nr;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Several symbols may share an address: any of them names the function. An address past
	 * the end of the image or module the symbol belongs to (a BPF trampoline, say) has no
	 * symbol, rather than a wrong one with a huge offset. */
	if (!ks->syms[lo].module) {
		if (ks->kernel_end && addr >= ks->kernel_end)
			return NULL;
		return &ks->syms[lo];
	}
	for (size_t i = 0; i < ks->nr_mods; i++)
		if (!strcmp(ks->mods[i].name, ks->syms[lo].module))
			return addr < ks->mods[i].end ? &ks->syms[lo] : NULL;
	return addr - ks->syms[lo].addr < KSYM_MAX_UNSIZED ? &ks->syms[lo] : NULL;
}

int ksyms_scan_addrs(const char *path, const char *const *names, uint64_t *addrs, int n)
{
	char line[512];
	int found = 0;
	FILE *f = fopen(path, "re");

	for (int i = 0; i < n; i++)
		addrs[i] = 0;
	if (!f)
		return 0;
	while (found < n && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		/* "addr t name\n": the name is the last field of vmlinux symbols */
		for (int i = 0; i < n; i++) {
			size_t nl = strlen(names[i]);

			if (!addrs[i] && len > nl + 1 && line[len - 1] == '\n' &&
			    line[len - nl - 2] == ' ' && !memcmp(line + len - nl - 1, names[i], nl)) {
				addrs[i] = strtoull(line, NULL, 16);
				found++;
			}
		}
	}
	fclose(f);
	return found;
}

int ksyms_load_modules(struct ksyms *ks, const char *path)
{
	char line[512], name[64];
	unsigned long long size, base;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct ksym_module *m;

		/* name size refcount deps state address */
		if (sscanf(line, "%63s %llu %*s %*s %*s %llx", name, &size, &base) != 3 || !base)
			continue;
		m = realloc(ks->mods, (ks->nr_mods + 1) * sizeof(*m));
		if (!m) {
			fclose(f);
			return -ENOMEM;
		}
		ks->mods = m;
		m = &ks->mods[ks->nr_mods++];
		snprintf(m->name, sizeof(m->name), "%s", name);
		m->start = base;
		m->end = base + size;
	}
	fclose(f);
	return 0;
}

uint64_t ksyms_addr_of(const struct ksyms *ks, const char *name)
{
	if (!ks)
		return 0;
	for (size_t i = 0; i < ks->nr_data; i++)
		if (!strcmp(ks->data[i].name, name))
			return ks->data[i].addr;
	for (size_t i = 0; i < ks->nr; i++)
		if (!ks->syms[i].module && !strcmp(ks->syms[i].name, name))
			return ks->syms[i].addr;
	return 0;
}

void ksyms_format(const struct ksyms *ks, uint64_t addr, char *buf, size_t size)
{
	const struct ksym *s = ksyms_lookup(ks, addr);

	if (!s) {
		snprintf(buf, size, "0x%" PRIx64, addr);
		return;
	}
	if (s->module)
		snprintf(buf, size, "%s+0x%" PRIx64 " [%s]", s->name, addr - s->addr, s->module);
	else
		snprintf(buf, size, "%s+0x%" PRIx64, s->name, addr - s->addr);
}

int ksyms_is_tracer_frame(const char *name)
{
	static const char *const prefixes[] = {
		"bpf_prog_",	   "bpf_trampoline_", "__bpf_prog_enter", "__bpf_prog_exit",
		"__bpf_trace_",	   "bpf_trace_run",   "__traceiter_",	  "trace_call_bpf",
		"kprobe_",	   "kretprobe_",      "__kretprobe_",	  "arch_rethook_",
		"rethook_",	   "ftrace_",	      "arch_ftrace_",	  "perf_trace_",
		"bpf_get_stackid", "bpf_get_stack",   "__x64_sys_bpf",	  "pre_handler_kretprobe",
		"opt_pre_handler", "optimized_callback",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}
