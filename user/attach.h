/* SPDX-License-Identifier: GPL-2.0 */
/* attach: which attach method each hook group uses on the running kernel. */
#ifndef SGTRACE_ATTACH_H
#define SGTRACE_ATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "sgtrace_cli.h"

enum sgt_hook_group { SGT_HOOK_MAP, SGT_HOOK_UNMAP, SGT_HOOK_FREE, SGT_HOOK_FREE_PAGES,
		      SGT_HOOK_UNBIND, SGT_HOOK_NR };

#define SGT_HOOK_MAX_PROGS 6

struct sgt_hook {
	const char *method; /* "fentry/fexit", "tp_btf", "kprobe", "raw_tp", "tracepoint"; NULL: none */
	const char *progs[SGT_HOOK_MAX_PROGS]; /* BPF programs to load */
	char targets[160];  /* kernel functions or tracepoints used */
	char note[384];	    /* why it is not observable, or caveats ("; " between them) */
};

struct sgt_hooks {
	struct sgt_hook h[SGT_HOOK_NR];
	enum sgt_attach mode;
};

const char *sgt_hook_group_name(enum sgt_hook_group g);
/* Probes this kernel and chooses a method per group. page_offset_base_addr: address of the
 * kernel's page_offset_base variable (0 if unknown), needed for page frees. */
void sgt_hooks_probe(struct sgt_hooks *hooks, enum sgt_attach mode, uint64_t page_offset_base_addr);
/* Maps and unmaps both observable. */
bool sgt_hooks_usable(const struct sgt_hooks *hooks);
/* Turns autoload off for every program of obj that is not chosen. */
int sgt_hooks_apply(const struct sgt_hooks *hooks, struct bpf_object *obj);
/*
 * Attaches the chosen programs in an order that never records a map whose unmap or free could
 * be missed: unbind, frees, unmaps, then maps. links[] receives up to max links; returns how
 * many were attached. If one cannot be attached, returns -errno with nothing attached: the
 * links it had attached are detached first, in the order of sgt_hooks_detach(), and links[]
 * is left all NULL.
 */
int sgt_hooks_attach(const struct sgt_hooks *hooks, struct bpf_object *obj,
		     struct bpf_link **links, int max);
/* Detaches in the reverse order (maps stop first). */
void sgt_hooks_detach(struct bpf_link **links, int n);
json_object *sgt_hooks_json(const struct sgt_hooks *hooks);

/*
 * What sgt_hooks_probe() asks the running kernel: the real questions by default; tests put
 * in their own answers to check the choice (NULL puts the real ones back).
 */
struct sgt_probe_ops {
	/* fentry/fexit (BPF_TRACE_FENTRY/FEXIT) on a function, tp_btf (BPF_TRACE_RAW_TP) */
	bool (*tracing_can_attach)(const char *name, enum bpf_attach_type type);
	bool (*raw_tp_can_attach)(const char *tracepoint);
	bool (*kprobe_can_attach)(const char *func);
	bool (*tracepoint_exists)(const char *category, const char *name);
	bool (*btf_has_func)(const char *name);
	/* the dma tracepoint's prototype: nparams, (void *, struct device *, struct scatterlist *, ...) */
	bool (*dma_tp_proto_ok)(const char *tracepoint, unsigned int nparams);
	bool (*kfree_tp_proto_ok)(void);
};
void sgt_hooks_set_probe_ops(const struct sgt_probe_ops *ops);
void sgt_hooks_print(const struct sgt_hooks *hooks, FILE *out);

/* Mounts tracefs at /sys/kernel/tracing if no tracefs is reachable; returns its path or NULL. */
const char *sgt_tracefs(void);

#endif
