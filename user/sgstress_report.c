// SPDX-License-Identifier: GPL-2.0
/*
 * sgstress_report.c - the ground truth of a run, from sgkm's own counters.
 *
 * sgkm counts, per device and module-wide, the faults it actually performed (injected[]) and
 * the finding each mapping must produce in a tracer (expected[], one finding per mapping, the
 * rule of docs/kmod.md). Cumulative kinds are reported as their change over the run; leak and
 * outlives_unbind are gauges of mappings live now, reported as their value at the end.
 * map_failed (informational in sgtrace) is the change of the map_failures counter.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "atomic_file.h"
#include "sgstress_dev.h"
#include "sgstress_opts.h"
#include "sgstress_report.h"

static const char *const kind_names[SGS_KINDS] = {
	"leak", "outlives_unbind", "freed_while_mapped", "unmap_unknown", "unmap_mismatch",
	"unmap_after_unbind", "map_failed",
};

static bool is_gauge(int kind)
{
	return kind == SGKM_FINDING_LEAK || kind == SGKM_FINDING_OUTLIVES_UNBIND;
}

static void truth_dev(const struct sgkm_stats *b, const struct sgkm_stats *a,
		      struct sgs_truth_dev *t)
{
	for (int k = 0; k < SGKM_FAULT_NR; k++)
		t->injected[k] = a->c.injected[k] - b->c.injected[k];
	for (int k = 0; k < SGKM_FINDING_NR; k++)
		t->expected[k] = is_gauge(k) ? a->c.expected[k] : a->c.expected[k] - b->c.expected[k];
	t->expected[SGS_MAP_FAILED] = a->c.map_failures - b->c.map_failures;
	t->gauges_at_start[0] = b->c.expected[SGKM_FINDING_LEAK];
	t->gauges_at_start[1] = b->c.expected[SGKM_FINDING_OUTLIVES_UNBIND];
	t->live_mappings = a->c.live_mappings;
	t->live_tables = a->c.live_tables;
	t->mapped_bytes = a->c.mapped_bytes;
	t->unbinds = a->c.unbinds - b->c.unbinds;
	t->bound = a->bound;
	t->dma_mask_bits = a->dma_mask_bits;
}

void sgs_truth_compute(const struct sgs_config *cfg, const struct sgs_result *res,
		       const struct sgs_snapshot *before, const struct sgs_snapshot *after,
		       unsigned int driven, struct sgs_truth *truth)
{
	memset(truth, 0, sizeof(*truth));
	truth->ndevices = after->ndevices;
	truth->driven = driven;
	truth_dev(&before->all, &after->all, &truth->all);
	for (unsigned int i = 0; i < after->ndevices && i < before->ndevices; i++)
		truth_dev(&before->dev[i], &after->dev[i], &truth->dev[i]);
	truth->ok = !res->unexpected && !res->aborted;
	for (int k = 1; k < SGKM_FAULT_NR; k++)
		if (truth->all.injected[k] != cfg->inject[k])
			truth->ok = false;
}

static void print_errors(FILE *out, const struct sgs_result *res)
{
	char buf[16];
	const char *sep = " (";

	fprintf(out, "errors: %llu", (unsigned long long)res->errors);
	for (int e = 0; e < SGS_ERRNO_SLOTS; e++) {
		if (!res->by_errno[e])
			continue;
		fprintf(out, "%s%s %llu", sep, e ? sgs_errno_name(e, buf) : "other",
		       (unsigned long long)res->by_errno[e]);
		sep = ", ";
	}
	fprintf(out, "%s, %llu unexpected", res->errors ? ")" : "",
	       (unsigned long long)res->unexpected);
	if (res->verify_mismatch)
		fprintf(out, ", %llu verify mismatches", (unsigned long long)res->verify_mismatch);
	fprintf(out, "\n");
}

void sgs_report_print(const struct sgs_config *cfg, const struct sgs_result *res,
		      const struct sgs_truth *truth)
{
	/* With --json - the JSON owns stdout. */
	FILE *out = cfg->json_path && !strcmp(cfg->json_path, "-") ? stderr : stdout;
	unsigned int n = truth->ndevices;
	bool any_fault = false;

	fprintf(out, "sgstress: %llu ops in %.1f s (%.0f ops/s), %u threads on %u of %u devices, "
	       "seed %llu%s\n", (unsigned long long)res->ops, res->elapsed_s,
	       res->elapsed_s > 0 ? res->ops / res->elapsed_s : 0.0, cfg->threads, truth->driven,
	       n, (unsigned long long)cfg->seed, res->aborted ? " (interrupted)" : "");
	print_errors(out, res);
	if (res->narrow_tables || res->mask_violations)
		fprintf(out, "narrow DMA masks: %llu tables checked, %llu CPU segments above the mask "
		       "(bounced), %llu DMA segments beyond it\n",
		       (unsigned long long)res->narrow_tables,
		       (unsigned long long)res->bounced_segments,
		       (unsigned long long)res->mask_violations);
	fprintf(out, "unbinds: %llu by sgstress, %llu seen by sgkm\n", (unsigned long long)res->unbinds,
	       (unsigned long long)truth->all.unbinds);

	for (int k = 1; k < SGKM_FAULT_NR; k++)
		any_fault = any_fault || cfg->inject[k] || truth->all.injected[k];
	if (any_fault) {
		fprintf(out, "\n%-18s %9s %9s  per device\n", "fault", "requested", "injected");
		for (int k = 1; k < SGKM_FAULT_NR; k++) {
			if (!cfg->inject[k] && !truth->all.injected[k])
				continue;
			fprintf(out, "%-18s %9u %9llu %s", sgs_fault_names[k], cfg->inject[k],
			       (unsigned long long)truth->all.injected[k],
			       truth->all.injected[k] == cfg->inject[k] ? " " : "!");
			for (unsigned int d = 0; d < n; d++)
				fprintf(out, " %llu", (unsigned long long)truth->dev[d].injected[k]);
			fprintf(out, "\n");
		}
		if (res->fault_retries)
			fprintf(out, "(%llu fault lifecycles were repeated: an unbind got there first)\n",
			       (unsigned long long)res->fault_retries);
	}

	fprintf(out, "\nexpected findings (the ground truth for sgtrace)\n%-20s %6s", "kind", "total");
	for (unsigned int d = 0; d < n; d++)
		fprintf(out, " sgkm.%-3u", d);
	fprintf(out, "\n");
	for (int k = 0; k < SGS_KINDS; k++) {
		fprintf(out, "%-20s %6llu", kind_names[k], (unsigned long long)truth->all.expected[k]);
		for (unsigned int d = 0; d < n; d++)
			fprintf(out, " %8llu", (unsigned long long)truth->dev[d].expected[k]);
		fprintf(out, "\n");
	}
	fprintf(out, "%-20s %6llu", "live mappings at end", (unsigned long long)truth->all.live_mappings);
	for (unsigned int d = 0; d < n; d++)
		fprintf(out, " %8llu", (unsigned long long)truth->dev[d].live_mappings);
	fprintf(out, "\n");
	if (truth->all.gauges_at_start[0] || truth->all.gauges_at_start[1])
		fprintf(out, "note: %llu leak and %llu outlives_unbind mappings were live before the run "
		       "(the gauges above include them)\n",
		       (unsigned long long)truth->all.gauges_at_start[0],
		       (unsigned long long)truth->all.gauges_at_start[1]);
	if (!truth->ok)
		fprintf(out, "sgstress: FAILED: %s\n", res->aborted ? "interrupted" :
		       res->unexpected ? "unexpected errors (above)" :
		       "sgkm injected a different number of faults than requested");
}

/* json-c helpers: every add is checked by json_add(). */
static bool json_ok = true;

static void json_add(json_object *obj, const char *key, json_object *val)
{
	if (!val || json_object_object_add(obj, key, val))
		json_ok = false;
}

static json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static json_object *kinds_object(const uint64_t *v, const char *const *names, int first, int n)
{
	json_object *o = json_object_new_object();

	for (int k = first; k < n && o; k++)
		json_add(o, names[k], u64(v[k]));
	return o;
}

static json_object *truth_dev_json(const struct sgs_truth_dev *t)
{
	json_object *o = json_object_new_object(), *g;

	if (!o)
		return NULL;
	json_add(o, "injected", kinds_object(t->injected, sgs_fault_names, 1, SGKM_FAULT_NR));
	json_add(o, "expected", kinds_object(t->expected, kind_names, 0, SGS_KINDS));
	g = json_object_new_object();
	if (g) {
		json_add(g, "leak", u64(t->gauges_at_start[0]));
		json_add(g, "outlives_unbind", u64(t->gauges_at_start[1]));
	}
	json_add(o, "gauges_at_start", g);
	json_add(o, "live_mappings", u64(t->live_mappings));
	json_add(o, "live_tables", u64(t->live_tables));
	json_add(o, "mapped_bytes", u64(t->mapped_bytes));
	json_add(o, "unbinds", u64(t->unbinds));
	return o;
}

static json_object *config_json(const struct sgs_config *cfg, const struct sgs_truth *truth)
{
	json_object *o = json_object_new_object(), *inj = json_object_new_object();

	if (!o)
		return NULL;
	json_add(o, "devices", u64(truth->driven));
	json_add(o, "threads", u64(cfg->threads));
	/* json-c's null is a NULL object: the one that does not apply is null. */
	if (cfg->duration_s > 0) {
		json_object_object_add(o, "ops", NULL);
		json_add(o, "duration_s", json_object_new_double(cfg->duration_s));
	} else {
		json_add(o, "ops", u64(cfg->ops));
		json_object_object_add(o, "duration_s", NULL);
	}
	json_add(o, "size_min", u64(cfg->size_min));
	json_add(o, "size_max", u64(cfg->size_max));
	json_add(o, "layout", json_object_new_string(sgs_layout_name(cfg->layout)));
	json_add(o, "dir", json_object_new_string(sgs_dir_name(cfg->dir)));
	json_add(o, "unbind_every_ms", u64(cfg->unbind_every_ms));
	json_add(o, "seed", u64(cfg->seed));
	for (int k = 1; k < SGKM_FAULT_NR && inj; k++)
		json_add(inj, sgs_fault_names[k], u64(cfg->inject[k]));
	json_add(o, "inject", inj);
	return o;
}

static json_object *errors_json(const struct sgs_result *res)
{
	json_object *o = json_object_new_object(), *by = json_object_new_object(),
		    *by_op = json_object_new_object();
	char buf[16];

	if (!o || !by || !by_op)
		return NULL;
	json_add(o, "total", u64(res->errors));
	json_add(o, "unexpected", u64(res->unexpected));
	json_add(o, "verify_mismatch", u64(res->verify_mismatch));
	json_add(o, "mask_violations", u64(res->mask_violations));
	for (int e = 0; e < SGS_ERRNO_SLOTS; e++)
		if (res->by_errno[e])
			json_add(by, e ? sgs_errno_name(e, buf) : "other", u64(res->by_errno[e]));
	for (int op = 0; op < SGS_OP_NR; op++) {
		json_object *one = NULL;

		for (int e = 0; e < SGS_ERRNO_SLOTS; e++) {
			if (!res->by_op_errno[op][e])
				continue;
			if (!one)
				one = json_object_new_object();
			if (one)
				json_add(one, e ? sgs_errno_name(e, buf) : "other",
					 u64(res->by_op_errno[op][e]));
		}
		if (one)
			json_add(by_op, sgs_op_names[op], one);
	}
	json_add(o, "by_errno", by);
	json_add(o, "by_op", by_op);
	return o;
}

int sgs_report_json(const struct sgs_config *cfg, const struct sgs_result *res,
		    const struct sgs_truth *truth)
{
	json_object *root = json_object_new_object(), *devs = json_object_new_array();
	uint64_t requested[SGKM_FAULT_NR];
	const char *text, *step;
	char *buf = NULL;
	int ret = -1, err;

	json_ok = root && devs;
	if (!json_ok)
		goto out;
	json_add(root, "tool", json_object_new_string("sgstress"));
	json_add(root, "schema", u64(1));
	json_add(root, "uapi_version", u64(SGKM_UAPI_VERSION));
	json_add(root, "config", config_json(cfg, truth));
	json_add(root, "ok", json_object_new_boolean(truth->ok));
	json_add(root, "aborted", json_object_new_boolean(res->aborted));
	json_add(root, "elapsed_s", json_object_new_double(res->elapsed_s));
	json_add(root, "ops", u64(res->ops));
	json_add(root, "ops_per_s", json_object_new_double(res->elapsed_s > 0 ?
							   res->ops / res->elapsed_s : 0));
	json_add(root, "fault_ops", u64(res->fault_ops));
	json_add(root, "fault_retries", u64(res->fault_retries));
	json_add(root, "unbinds", u64(res->unbinds));
	json_add(root, "binds", u64(res->binds));
	json_add(root, "errors", errors_json(res));
	json_add(root, "narrow_mask_tables", u64(res->narrow_tables));
	json_add(root, "bounced_segments", u64(res->bounced_segments));
	for (int k = 0; k < SGKM_FAULT_NR; k++)
		requested[k] = cfg->inject[k];
	json_add(root, "requested", kinds_object(requested, sgs_fault_names, 1, SGKM_FAULT_NR));
	json_add(root, "module", truth_dev_json(&truth->all));
	for (unsigned int d = 0; d < truth->ndevices; d++) {
		json_object *o = truth_dev_json(&truth->dev[d]);
		char name[32];

		if (!o) {
			json_ok = false;
			break;
		}
		snprintf(name, sizeof(name), "%s.%u", SGKM_DRIVER_NAME, d);
		json_add(o, "name", json_object_new_string(name));
		json_add(o, "index", u64(d));
		json_add(o, "driven", json_object_new_boolean(d < truth->driven));
		json_add(o, "bound", json_object_new_boolean(truth->dev[d].bound));
		json_add(o, "dma_mask_bits", u64(truth->dev[d].dma_mask_bits));
		if (json_object_array_add(devs, o)) {
			json_object_put(o);
			json_ok = false;
		}
	}
	json_add(root, "devices", devs);
	devs = NULL;
	if (!json_ok) {
		fprintf(stderr, "sgstress: out of memory building the JSON report\n");
		goto out;
	}
	/* Written as a whole or not at all (atomic_file.h): a scenario never reads half a truth. */
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text || asprintf(&buf, "%s\n", text) < 0) {
		buf = NULL; /* undefined after a failed asprintf() */
		fprintf(stderr, "sgstress: out of memory writing the JSON report\n");
		goto out;
	}
	err = afile_write(cfg->json_path, buf, strlen(buf), &step);
	if (err) {
		fprintf(stderr, "sgstress: --json %s: cannot write the ground truth (%s): %s: free "
			"space or give another --json (a regular file is replaced only by a whole "
			"report)\n", strcmp(cfg->json_path, "-") ? cfg->json_path : "stdout", step,
			strerror(-err));
		goto out;
	}
	ret = 0;
out:
	free(buf);
	json_object_put(devs);
	json_object_put(root);
	return ret;
}

/* Checks without touching the file: opening it for writing would truncate a previous report. */
int sgs_report_json_check(const struct sgs_config *cfg)
{
	const char *step;
	int err;

	if (!cfg->json_path)
		return 0;
	err = afile_check(cfg->json_path, &step);
	if (err) {
		fprintf(stderr, "sgstress: --json %s: cannot write the ground truth there (%s): %s: "
			"give a file in a writable directory\n", cfg->json_path, step,
			strerror(-err));
		return -1;
	}
	return 0;
}
