/* SPDX-License-Identifier: GPL-2.0 */
/* ksyms: kernel symbols from /proc/kallsyms (module symbols included) for stack symbolization. */
#ifndef SGTRACE_KSYMS_H
#define SGTRACE_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module; /* NULL for vmlinux */
};

struct ksyms;

/* Loads a kallsyms-format file (addr type name [module]); NULL with errno on failure. */
struct ksyms *ksyms_load(const char *path);
/* Reads module extents (/proc/modules format) so that addresses past a module's end do not
 * resolve to its last symbol. */
int ksyms_load_modules(struct ksyms *ks, const char *path);
void ksyms_free(struct ksyms *ks);
size_t ksyms_count(const struct ksyms *ks);
/* The function symbol that contains addr (the nearest below it), or NULL. */
const struct ksym *ksyms_lookup(const struct ksyms *ks, uint64_t addr);
/* The address of a symbol of any type by name (vmlinux only), 0 if absent. */
uint64_t ksyms_addr_of(const struct ksyms *ks, const char *name);
/* The addresses of n vmlinux symbols, in one scan of a kallsyms file without loading it:
 * addrs[i] is names[i]'s, 0 if absent. Returns how many were found. */
int ksyms_scan_addrs(const char *path, const char *const *names, uint64_t *addrs, int n);
/* Writes "func+0xoff" or "func+0xoff [mod]" (or "0xaddr") into buf. */
void ksyms_format(const struct ksyms *ks, uint64_t addr, char *buf, size_t size);
/* True for frames of the tracing machinery itself (BPF programs, trampolines, trace glue),
 * which symbolized stacks leave out. */
int ksyms_is_tracer_frame(const char *name);

#endif
