// SPDX-License-Identifier: GPL-2.0
/* sgtrace_report: aggregation of findings by (kind, detail, device, stack) and their output. */
#include "sgtrace_report.h"
#include "sgtrace_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[SGT_KIND_NR] = {
	[SGT_LEAK] = "leak",
	[SGT_OUTLIVES_UNBIND] = "outlives_unbind",
	[SGT_FREED_WHILE_MAPPED] = "freed_while_mapped",
	[SGT_UNMAP_UNKNOWN] = "unmap_unknown",
	[SGT_UNMAP_MISMATCH] = "unmap_mismatch",
	[SGT_UNMAP_AFTER_UNBIND] = "unmap_after_unbind",
	[SGT_MAP_FAILED] = "map_failed",
};

const char *sgt_kind_name(unsigned int kind)
{
	return kind < SGT_KIND_NR ? kind_names[kind] : "unknown";
}

int sgt_kind_from_name(const char *name)
{
	for (int i = 0; i < SGT_KIND_NR; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

const char *sgt_dir_name(unsigned int dir)
{
	static const char *const names[] = { "BIDIRECTIONAL", "TO_DEVICE", "FROM_DEVICE", "NONE" };

	return dir < 4 ? names[dir] : "INVALID";
}

long sgt_parse_kinds(const char *spec)
{
	long mask = 0;
	char *copy, *tok, *save = NULL;

	if (!strcmp(spec, "all"))
		return (1L << SGT_KIND_NR) - 1;
	if (!strcmp(spec, "none"))
		return 0;
	copy = strdup(spec);
	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k = sgt_kind_from_name(tok);

		if (k < 0) {
			free(copy);
			return -1;
		}
		mask |= 1L << k;
	}
	free(copy);
	return mask ? mask : -1;
}

void sgt_report_init(struct sgt_report *r)
{
	memset(r, 0, sizeof(*r));
	r->fail_on = SGT_FAIL_ON_DEFAULT;
}

void sgt_report_free(struct sgt_report *r)
{
	free(r->devs);
	free(r->groups);
	free(r->index);
	r->devs = NULL;
	r->groups = NULL;
	r->index = NULL;
}

int sgt_report_add_dev(struct sgt_report *r, uint64_t dev, const struct sgt_dev *d)
{
	if (r->nr_devs == r->cap_devs) {
		size_t cap = r->cap_devs ? r->cap_devs * 2 : 16;
		struct sgt_devinfo *p = realloc(r->devs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->devs = p;
		r->cap_devs = cap;
	}
	r->devs[r->nr_devs].dev = dev;
	r->devs[r->nr_devs].d = *d;
	r->nr_devs++;
	return 0;
}

const struct sgt_devinfo *sgt_report_dev(const struct sgt_report *r, uint64_t dev)
{
	for (size_t i = 0; i < r->nr_devs; i++)
		if (r->devs[i].dev == dev)
			return &r->devs[i];
	return NULL;
}

/* Findings with the same key are one group: one line of the report. */
static uint64_t group_key_hash(const struct sgt_event *e)
{
	uint64_t h = 1469598103934665603ULL;
	uint64_t parts[] = { e->kind, e->detail, e->dev, e->stack_id,
			     e->kind == SGT_UNMAP_MISMATCH ? e->udev : 0 };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		h ^= parts[i];
		h *= 1099511628211ULL;
		h ^= h >> 29;
	}
	return h;
}

static bool same_group(const struct sgt_event *a, const struct sgt_event *b)
{
	return a->kind == b->kind && a->detail == b->detail && a->dev == b->dev &&
	       a->stack_id == b->stack_id &&
	       (a->kind != SGT_UNMAP_MISMATCH || a->udev == b->udev);
}

/* Enters every group into idx, an empty open-addressing table of cap slots. */
static void fill_index(const struct sgt_report *r, uint32_t *idx, size_t cap)
{
	for (size_t i = 0; i < r->nr_groups; i++) {
		size_t pos = group_key_hash(&r->groups[i].ex) & (cap - 1);

		while (idx[pos])
			pos = (pos + 1) & (cap - 1);
		idx[pos] = i + 1;
	}
}

static int grow_index(struct sgt_report *r)
{
	size_t cap = r->index_cap ? r->index_cap * 2 : 1024;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	fill_index(r, idx, cap);
	free(r->index);
	r->index = idx;
	r->index_cap = cap;
	return 0;
}

int sgt_report_add(struct sgt_report *r, const struct sgt_event *e, uint64_t age_ns)
{
	struct sgt_group *g = NULL;
	size_t pos;

	if (e->kind >= SGT_KIND_NR)
		return -EINVAL;
	if ((r->nr_groups + 1) * 2 > r->index_cap && grow_index(r))
		return -ENOMEM;
	pos = group_key_hash(e) & (r->index_cap - 1);
	while (r->index[pos]) {
		struct sgt_group *c = &r->groups[r->index[pos] - 1];

		if (same_group(&c->ex, e)) {
			g = c;
			break;
		}
		pos = (pos + 1) & (r->index_cap - 1);
	}
	if (!g) {
		if (r->nr_groups == r->cap_groups) {
			size_t cap = r->cap_groups ? r->cap_groups * 2 : 64;
			struct sgt_group *p = realloc(r->groups, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			r->groups = p;
			r->cap_groups = cap;
		}
		g = &r->groups[r->nr_groups++];
		memset(g, 0, sizeof(*g));
		g->ex = *e;
		g->oldest_age_ns = age_ns;
		r->index[pos] = r->nr_groups;
	}
	g->count++;
	g->bytes += e->bytes;
	if (age_ns > g->oldest_age_ns) {
		g->oldest_age_ns = age_ns;
		g->ex = *e;
	}
	r->kind_count[e->kind]++;
	return 0;
}

void sgt_report_fill_comms(struct sgt_report *r, int (*fn)(void *ctx, uint32_t pid, char *comm),
			   void *ctx)
{
	for (size_t i = 0; i < r->nr_groups; i++)
		if (!r->groups[i].ex.comm[0])
			fn(ctx, r->groups[i].ex.pid, r->groups[i].ex.comm);
}

uint64_t sgt_report_lost(const struct sgt_report *r)
{
	return r->stats[SGT_STAT_LOST_MAP_FULL] + r->stats[SGT_STAT_LOST_RINGBUF] +
	       r->stats[SGT_STAT_LOST_STACK] + r->stats[SGT_STAT_LOST_DEV_FULL] +
	       r->stats[SGT_STAT_LOST_STASH] + r->stats[SGT_STAT_LOST_NESTED] +
	       r->stats[SGT_STAT_LOST_RACE] + r->prog_misses;
}

uint64_t sgt_report_lost_maps(const struct sgt_report *r)
{
	return r->stats[SGT_STAT_LOST_MAP_FULL] + r->stats[SGT_STAT_LOST_STASH] +
	       r->stats[SGT_STAT_LOST_RACE] + r->map_misses;
}

void sgt_report_settle_losses(struct sgt_report *r)
{
	size_t kept = 0;

	if (!sgt_report_lost_maps(r))
		return;
	for (size_t i = 0; i < r->nr_groups; i++) {
		struct sgt_group *g = &r->groups[i];

		if (g->ex.kind == SGT_UNMAP_UNKNOWN && g->ex.detail != SGT_UNKNOWN_ALREADY_UNMAPPED) {
			r->unmatched_after_loss += g->count;
			r->kind_count[SGT_UNMAP_UNKNOWN] -= g->count;
			continue;
		}
		r->groups[kept++] = *g;
	}
	if (kept == r->nr_groups)
		return;
	r->nr_groups = kept;
	/* The groups moved: index them anew (at the same capacity). */
	memset(r->index, 0, r->index_cap * sizeof(*r->index));
	fill_index(r, r->index, r->index_cap);
}

uint64_t sgt_report_failing(const struct sgt_report *r, unsigned int mask)
{
	uint64_t n = 0;

	for (int k = 0; k < SGT_KIND_NR; k++)
		if (mask & (1u << k))
			n += r->kind_count[k];
	return n;
}

int sgt_record_exit_status(const struct sgt_report *r, bool op_error)
{
	/*
	 * An error first: a report that is incomplete or was not written must not pass for the
	 * verdict on the findings, or a CI job would act on a report it cannot read.
	 */
	if (op_error)
		return SGT_EXIT_ERROR;
	if (sgt_report_failing(r, r->fail_on))
		return SGT_EXIT_FINDINGS;
	/* A command killed by the signal that stopped us was interrupted, not failed. */
	if (r->cmd_interrupted)
		return SGT_EXIT_OK;
	if (r->cmd_argv && (!r->cmd_ran || r->cmd_status))
		return SGT_EXIT_ERROR;
	return SGT_EXIT_OK;
}

static bool has_map(const struct sgt_event *e)
{
	return e->kind != SGT_UNMAP_UNKNOWN && e->kind != SGT_MAP_FAILED;
}

static const char *dev_name(const struct sgt_report *r, uint64_t dev, const char **driver)
{
	const struct sgt_devinfo *d = sgt_report_dev(r, dev);

	if (driver)
		*driver = d && d->d.driver[0] ? d->d.driver : NULL;
	return d && d->d.name[0] ? d->d.name : NULL;
}

/*
 * Task names (comm) come from the task itself (prctl(PR_SET_NAME), the name of the file it
 * runs), so they hold any byte but NUL, and the kernel cuts them at 15 bytes, possibly inside
 * a UTF-8 character; device and driver names are cut at SGT_NAME_LEN - 1 bytes. JSON must be
 * valid UTF-8, and a terminal must not receive escape sequences from a traced program.
 */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if there is none; *cp its code. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not UTF-8. */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

size_t sgt_utf8_clean(const char *in, size_t max, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strnlen(in, max), o = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_seq(s + i, n - i, &cp);
		const char *rep = "\xef\xbf\xbd"; /* U+FFFD REPLACEMENT CHARACTER */

		if (!len) {
			if (o + 3 >= size)
				break;
			memcpy(out + o, rep, 3);
			o += 3;
			i++;
			continue;
		}
		if (o + len >= size)
			break;
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	if (size)
		out[o] = '\0';
	return o;
}

/* C0, DEL and C1 controls: C1 (U+0080..U+009F) includes CSI, which terminals obey too. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

size_t sgt_text_escape(const char *in, size_t max, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strnlen(in, max), o = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t len = utf8_seq(s + i, n - i, &cp);

		if (len && !is_control(cp) && cp != '\\') {
			if (o + len >= size)
				break;
			memcpy(out + o, s + i, len);
			o += len;
		} else if (len == 1 && cp == '\\') {
			/* Doubled, so that \xNN below reads back unambiguously. */
			if (o + 2 >= size)
				break;
			memcpy(out + o, "\\\\", 2);
			o += 2;
		} else {
			/* A control character or an invalid byte: each byte as \xNN. */
			len = len ? len : 1;
			if (o + 4 * len >= size)
				break;
			for (size_t k = 0; k < len; k++, o += 4)
				snprintf(out + o, 5, "\\x%02x", s[i + k]);
		}
		i += len;
	}
	if (size)
		out[o] = '\0';
	return o;
}

json_object *sgt_json_string(const char *s, size_t max)
{
	size_t n;
	char *buf;
	json_object *o;

	if (!s)
		return NULL;
	n = strnlen(s, max);
	buf = malloc(SGT_CLEAN_SIZE(n));
	if (!buf)
		return NULL;
	sgt_utf8_clean(s, n, buf, SGT_CLEAN_SIZE(n));
	o = json_object_new_string(buf);
	free(buf);
	return o;
}

static json_object *jstr_or_null(const char *s)
{
	return sgt_json_string(s, SIZE_MAX);
}

/* A device or driver name, as the BPF side copied it: at most SGT_NAME_LEN bytes. */
static json_object *jname(const char *s)
{
	return sgt_json_string(s, SGT_NAME_LEN);
}

static json_object *jaddr(uint64_t a)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, a);
	return json_object_new_string(buf);
}

static json_object *stack_json(const struct sgt_report *r, uint32_t stack_id)
{
	json_object *arr = json_object_new_array();
	uint64_t ips[SGT_STACK_DEPTH];
	char buf[256];
	int n = 0;
	bool top = true;

	if (stack_id != (uint32_t)-1 && r->stack_fn)
		n = r->stack_fn(r->stack_ctx, stack_id, ips, SGT_STACK_DEPTH);
	for (int i = 0; i < n; i++) {
		const struct ksym *s = ksyms_lookup(r->ksyms, ips[i]);

		/* Leave out the tracer's own frames at the top of the stack. */
		if (top && (!s || ksyms_is_tracer_frame(s->name)))
			continue;
		top = false;
		ksyms_format(r->ksyms, ips[i], buf, sizeof(buf));
		json_object_array_add(arr, json_object_new_string(buf));
	}
	return arr;
}

static json_object *mismatch_json(uint32_t mask)
{
	json_object *arr = json_object_new_array();

	if (mask & SGT_MISMATCH_DEV)
		json_object_array_add(arr, json_object_new_string("device"));
	if (mask & SGT_MISMATCH_DIR)
		json_object_array_add(arr, json_object_new_string("dir"));
	if (mask & SGT_MISMATCH_NENTS)
		json_object_array_add(arr, json_object_new_string("nents"));
	return arr;
}

static void add_comm(json_object *o, const char *key, const char *comm)
{
	json_object_object_add(o, key, sgt_json_string(comm, SGT_COMM_LEN));
}

/* Fields common to a group and a single event. */
static void event_fields(const struct sgt_report *r, json_object *o, const struct sgt_event *e)
{
	const char *driver, *name = dev_name(r, e->dev, &driver);

	json_object_object_add(o, "device", jname(name));
	json_object_object_add(o, "driver", jname(driver));
	json_object_object_add(o, "sgl", jaddr(e->sgl));
	json_object_object_add(o, "dir", json_object_new_string(sgt_dir_name(e->dir)));
	json_object_object_add(o, "nents", json_object_new_int64(e->nents));
	if (has_map(e))
		json_object_object_add(o, "mapped_nents", json_object_new_int64(e->mapped));
	json_object_object_add(o, "pid", json_object_new_int64(e->pid));
	add_comm(o, "comm", e->comm);
	json_object_object_add(o, "stack", stack_json(r, e->stack_id));
	switch (e->kind) {
	case SGT_UNMAP_MISMATCH: {
		json_object *u = json_object_new_object();
		const char *udrv, *uname = dev_name(r, e->udev, &udrv);

		json_object_object_add(o, "mismatch", mismatch_json(e->detail));
		json_object_object_add(u, "device", jname(uname));
		json_object_object_add(u, "dir", json_object_new_string(sgt_dir_name(e->udir)));
		json_object_object_add(u, "nents", json_object_new_int64(e->unents));
		json_object_object_add(u, "pid", json_object_new_int64(e->upid));
		add_comm(u, "comm", e->ucomm);
		json_object_object_add(u, "stack", stack_json(r, e->ustack_id));
		json_object_object_add(o, "unmap", u);
		break;
	}
	case SGT_UNMAP_AFTER_UNBIND: {
		json_object *u = json_object_new_object();

		json_object_object_add(u, "pid", json_object_new_int64(e->upid));
		add_comm(u, "comm", e->ucomm);
		json_object_object_add(u, "stack", stack_json(r, e->ustack_id));
		json_object_object_add(o, "unmap", u);
		break;
	}
	case SGT_FREED_WHILE_MAPPED: {
		json_object *u = json_object_new_object();

		json_object_object_add(u, "pid", json_object_new_int64(e->upid));
		add_comm(u, "comm", e->ucomm);
		json_object_object_add(u, "stack", stack_json(r, e->ustack_id));
		json_object_object_add(o, "free", u);
		break;
	}
	case SGT_UNMAP_UNKNOWN:
		json_object_object_add(o, "reason",
				       json_object_new_string(e->detail == SGT_UNKNOWN_ALREADY_UNMAPPED
								      ? "already_unmapped"
								      : "not_mapped"));
		break;
	case SGT_MAP_FAILED:
		json_object_object_add(o, "error", json_object_new_int((int)e->detail));
		break;
	default:
		break;
	}
}

json_object *sgt_event_json(const struct sgt_report *r, const struct sgt_event *e, uint64_t age_ns)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string(sgt_kind_name(e->kind)));
	json_object_object_add(o, "bytes", json_object_new_int64(e->bytes));
	json_object_object_add(o, "age_ms", has_map(e) ? json_object_new_int64(age_ns / 1000000)
						       : NULL);
	event_fields(r, o, e);
	return o;
}

static int cmp_group(const void *a, const void *b)
{
	const struct sgt_group *x = a, *y = b;

	if (x->ex.kind != y->ex.kind)
		return x->ex.kind < y->ex.kind ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return 0;
}

/* The groups in output order: by kind, then most frequent first. */
static struct sgt_group *sorted_groups(const struct sgt_report *r)
{
	struct sgt_group *g = malloc((r->nr_groups ? r->nr_groups : 1) * sizeof(*g));

	if (!g)
		return NULL;
	memcpy(g, r->groups, r->nr_groups * sizeof(*g));
	qsort(g, r->nr_groups, sizeof(*g), cmp_group);
	return g;
}

static json_object *kinds_json(unsigned int mask)
{
	json_object *arr = json_object_new_array();

	for (int k = 0; k < SGT_KIND_NR; k++)
		if (mask & (1u << k))
			json_object_array_add(arr, json_object_new_string(sgt_kind_name(k)));
	return arr;
}

json_object *sgt_report_json(const struct sgt_report *r)
{
	json_object *root = json_object_new_object(), *o, *lost, *arr, *sum;
	struct sgt_group *groups = sorted_groups(r);

	json_object_object_add(root, "tool", json_object_new_string("sgtrace"));
	o = json_object_new_object();
	json_object_object_add(o, "release", jstr_or_null(r->kernel_release));
	json_object_object_add(root, "kernel", o);
	json_object_object_add(root, "hooks", r->hooks ? json_object_get(r->hooks) : NULL);
	json_object_object_add(root, "duration_s", json_object_new_double(r->duration_s));
	json_object_object_add(root, "min_age_ms", json_object_new_int64(r->min_age_ms));
	json_object_object_add(root, "device_filter", jstr_or_null(r->device_filter));
	json_object_object_add(root, "fail_on", kinds_json(r->fail_on));
	if (r->cmd_argv) {
		o = json_object_new_object();
		arr = json_object_new_array();
		for (char **a = r->cmd_argv; *a; a++)
			json_object_array_add(arr, sgt_json_string(*a, SIZE_MAX));
		json_object_object_add(o, "argv", arr);
		json_object_object_add(o, "ran", json_object_new_boolean(r->cmd_ran));
		json_object_object_add(o, "exit_status", json_object_new_int(r->cmd_status));
		json_object_object_add(o, "interrupted", json_object_new_boolean(r->cmd_interrupted));
		json_object_object_add(root, "command", o);
	}

	o = json_object_new_object();
	json_object_object_add(o, "maps", json_object_new_int64(r->stats[SGT_STAT_MAPS]));
	json_object_object_add(o, "unmaps", json_object_new_int64(r->stats[SGT_STAT_UNMAPS]));
	json_object_object_add(o, "table_frees",
			       json_object_new_int64(r->stats[SGT_STAT_TABLE_FREES]));
	json_object_object_add(o, "unbinds", json_object_new_int64(r->stats[SGT_STAT_UNBINDS]));
	json_object_object_add(o, "map_failed",
			       json_object_new_int64(r->stats[SGT_STAT_MAP_FAILED]));
	json_object_object_add(o, "remaps", json_object_new_int64(r->stats[SGT_STAT_REMAPS]));
	json_object_object_add(o, "untracked_unmaps",
			       json_object_new_int64(r->stats[SGT_STAT_UNTRACKED]));
	json_object_object_add(o, "live", json_object_new_int64(r->live_total));
	json_object_object_add(o, "lost", json_object_new_int64(sgt_report_lost(r)));
	lost = json_object_new_object();
	json_object_object_add(lost, "live_map_full",
			       json_object_new_int64(r->stats[SGT_STAT_LOST_MAP_FULL]));
	json_object_object_add(lost, "ringbuf_full",
			       json_object_new_int64(r->stats[SGT_STAT_LOST_RINGBUF]));
	json_object_object_add(lost, "stack", json_object_new_int64(r->stats[SGT_STAT_LOST_STACK]));
	json_object_object_add(lost, "device_map_full",
			       json_object_new_int64(r->stats[SGT_STAT_LOST_DEV_FULL]));
	json_object_object_add(lost, "stash_full",
			       json_object_new_int64(r->stats[SGT_STAT_LOST_STASH]));
	json_object_object_add(lost, "nested_free",
			       json_object_new_int64(r->stats[SGT_STAT_LOST_NESTED]));
	json_object_object_add(lost, "race", json_object_new_int64(r->stats[SGT_STAT_LOST_RACE]));
	json_object_object_add(lost, "kernel_skipped", json_object_new_int64(r->prog_misses));
	json_object_object_add(o, "frees_skipped", json_object_new_int64(r->free_misses));
	json_object_object_add(o, "lost_maps", json_object_new_int64(sgt_report_lost_maps(r)));
	json_object_object_add(o, "unmatched_after_loss",
			       json_object_new_int64(r->unmatched_after_loss));
	json_object_object_add(o, "lost_detail", lost);
	json_object_object_add(root, "totals", o);

	sum = json_object_new_object();
	for (int k = 0; k < SGT_KIND_NR; k++)
		json_object_object_add(sum, sgt_kind_name(k), json_object_new_int64(r->kind_count[k]));
	json_object_object_add(root, "summary", sum);

	arr = json_object_new_array();
	for (size_t i = 0; groups && i < r->nr_groups; i++) {
		const struct sgt_group *g = &groups[i];

		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string(sgt_kind_name(g->ex.kind)));
		json_object_object_add(o, "count", json_object_new_int64(g->count));
		json_object_object_add(o, "bytes", json_object_new_int64(g->bytes));
		json_object_object_add(o, "oldest_age_ms",
				       has_map(&g->ex)
					       ? json_object_new_int64(g->oldest_age_ns / 1000000)
					       : NULL);
		event_fields(r, o, &g->ex);
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "findings", arr);

	arr = json_object_new_array();
	for (size_t i = 0; i < r->nr_devs; i++) {
		const struct sgt_dev *d = &r->devs[i].d;

		if (!d->match || (!d->maps && !d->unmaps && !d->map_failed && !d->findings))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "device", jname(d->name));
		json_object_object_add(o, "driver", d->driver[0] ? jname(d->driver) : NULL);
		json_object_object_add(o, "maps", json_object_new_int64(d->maps));
		json_object_object_add(o, "unmaps", json_object_new_int64(d->unmaps));
		json_object_object_add(o, "live", json_object_new_int64((int64_t)d->live));
		json_object_object_add(o, "live_bytes", json_object_new_int64((int64_t)d->live_bytes));
		json_object_object_add(o, "map_failed", json_object_new_int64(d->map_failed));
		json_object_object_add(o, "unbinds", json_object_new_int64(d->gen));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "live", arr);
	free(groups);
	return root;
}

static void print_stack(const struct sgt_report *r, uint32_t stack_id, const char *indent,
			FILE *out)
{
	json_object *st = stack_json(r, stack_id);
	size_t n = json_object_array_length(st);

	if (!n)
		fprintf(out, "%s(stack not captured)\n", indent);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s\n", indent,
			json_object_get_string(json_object_array_get_idx(st, i)));
	json_object_put(st);
}

static void print_one(const struct sgt_report *r, const struct sgt_event *e, FILE *out)
{
	const char *driver, *name = dev_name(r, e->dev, &driver);
	char comm[SGT_ESCAPED_SIZE(SGT_COMM_LEN)], ucomm[SGT_ESCAPED_SIZE(SGT_COMM_LEN)];

	sgt_text_escape(e->comm, SGT_COMM_LEN, comm, sizeof(comm));
	sgt_text_escape(e->ucomm, SGT_COMM_LEN, ucomm, sizeof(ucomm));

	fprintf(out, "  device %s (%s) sgl 0x%" PRIx64 " dir %s nents %u", name ? name : "?",
		driver ? driver : "no driver", (uint64_t)e->sgl, sgt_dir_name(e->dir), e->nents);
	if (has_map(e))
		fprintf(out, " mapped %u", e->mapped);
	fprintf(out, " pid %u (%s)\n", e->pid, comm);
	switch (e->kind) {
	case SGT_UNMAP_MISMATCH: {
		const char *uname = dev_name(r, e->udev, NULL);

		fprintf(out, "  unmapped with:%s%s%s device %s dir %s nents %u, by pid %u (%s)\n",
			e->detail & SGT_MISMATCH_DEV ? " [device differs]" : "",
			e->detail & SGT_MISMATCH_DIR ? " [dir differs]" : "",
			e->detail & SGT_MISMATCH_NENTS ? " [nents differs]" : "",
			uname ? uname : "?", sgt_dir_name(e->udir), e->unents, e->upid, ucomm);
		fprintf(out, "  unmap stack:\n");
		print_stack(r, e->ustack_id, "    ", out);
		break;
	}
	case SGT_UNMAP_AFTER_UNBIND:
		fprintf(out, "  unmapped by pid %u (%s), stack:\n", e->upid, ucomm);
		print_stack(r, e->ustack_id, "    ", out);
		break;
	case SGT_FREED_WHILE_MAPPED:
		fprintf(out, "  freed by pid %u (%s), stack:\n", e->upid, ucomm);
		print_stack(r, e->ustack_id, "    ", out);
		break;
	case SGT_UNMAP_UNKNOWN:
		fprintf(out, "  reason: %s\n",
			e->detail == SGT_UNKNOWN_ALREADY_UNMAPPED
				? "already unmapped (double unmap)"
				: "not mapped since tracing started");
		break;
	case SGT_MAP_FAILED:
		fprintf(out, "  error %d\n", (int)e->detail);
		break;
	default:
		break;
	}
	fprintf(out, "  %s stack:\n", has_map(e) ? "map" : "call");
	print_stack(r, e->stack_id, "    ", out);
}

void sgt_event_print(const struct sgt_report *r, const struct sgt_event *e, uint64_t age_ns,
		     FILE *out)
{
	fprintf(out, "%s: %" PRIu64 " bytes", sgt_kind_name(e->kind), (uint64_t)e->bytes);
	if (has_map(e))
		fprintf(out, ", mapped %" PRIu64 " ms before", age_ns / 1000000);
	fprintf(out, "\n");
	print_one(r, e, out);
}

void sgt_report_print(const struct sgt_report *r, FILE *out)
{
	struct sgt_group *groups = sorted_groups(r);
	uint64_t total = 0;

	for (int k = 0; k < SGT_KIND_NR; k++)
		total += r->kind_count[k];
	fprintf(out, "sgtrace report: %.1f s on kernel %s\n", r->duration_s,
		r->kernel_release ? r->kernel_release : "?");
	if (r->hooks) {
		/* What each hook used, and what could not be seen, in every report. */
		fprintf(out, "hooks:");
		json_object_object_foreach(r->hooks, name, h)
		{
			json_object *m;

			if (!strcmp(name, "requested"))
				continue;
			fprintf(out, " %s=%s", name,
				json_object_object_get_ex(h, "method", &m) && m ? json_object_get_string(m)
										: "NONE");
		}
		fprintf(out, "\n");
	}
	fprintf(out,
		"totals: maps %" PRIu64 ", unmaps %" PRIu64 ", table frees %" PRIu64
		", unbinds %" PRIu64 ", map failed %" PRIu64 ", live at end %" PRIu64
		", lost %" PRIu64 "\n",
		r->stats[SGT_STAT_MAPS], r->stats[SGT_STAT_UNMAPS], r->stats[SGT_STAT_TABLE_FREES],
		r->stats[SGT_STAT_UNBINDS], r->stats[SGT_STAT_MAP_FAILED], r->live_total,
		sgt_report_lost(r));
	if (sgt_report_lost(r))
		fprintf(out,
			"WARNING: lost: live table full %" PRIu64 " (raise --max-mappings), ring buffer "
			"full %" PRIu64 ", stacks %" PRIu64 ", device table full %" PRIu64
			", kprobe stash %" PRIu64 ", frees nested in the tracer %" PRIu64
			", same scatterlist on two CPUs at once %" PRIu64
			", hook runs skipped by the kernel %" PRIu64
			"\n  (a skipped unmap shows up as a leak or freed_while_mapped finding)\n",
			r->stats[SGT_STAT_LOST_MAP_FULL], r->stats[SGT_STAT_LOST_RINGBUF],
			r->stats[SGT_STAT_LOST_STACK], r->stats[SGT_STAT_LOST_DEV_FULL],
			r->stats[SGT_STAT_LOST_STASH], r->stats[SGT_STAT_LOST_NESTED],
			r->stats[SGT_STAT_LOST_RACE], r->prog_misses);
	if (r->unmatched_after_loss)
		fprintf(out,
			"note: %" PRIu64 " unmaps of scatterlists never seen mapped were not reported: "
			"%" PRIu64 " maps were lost, and these may be their unmaps\n",
			r->unmatched_after_loss, sgt_report_lost_maps(r));
	if (r->stats[SGT_STAT_UNTRACKED])
		fprintf(out,
			"note: %" PRIu64 " unmaps in the first --grace ms of scatterlists mapped "
			"before tracing started were not reported\n",
			r->stats[SGT_STAT_UNTRACKED]);
	if (r->free_misses)
		fprintf(out,
			"note: %" PRIu64 " runs of the free hooks were skipped by the kernel (frees "
			"nested in the tracer, almost always its own memory, not scatterlists)\n",
			r->free_misses);
	if (r->cmd_argv) {
		size_t n = strlen(r->cmd_argv[0]);
		char *cmd = malloc(SGT_ESCAPED_SIZE(n));

		if (cmd)
			sgt_text_escape(r->cmd_argv[0], n, cmd, SGT_ESCAPED_SIZE(n));
		fprintf(out, "command: %s %s (status %d)\n", cmd ? cmd : "?",
			!r->cmd_ran ? "did not start"
			: r->cmd_interrupted ? "was interrupted"
			: r->cmd_status ? "failed" : "succeeded",
			r->cmd_status);
		free(cmd);
	}
	fprintf(out, "findings: %" PRIu64, total);
	for (int k = 0; k < SGT_KIND_NR; k++)
		if (r->kind_count[k])
			fprintf(out, ", %s %" PRIu64, sgt_kind_name(k), r->kind_count[k]);
	fprintf(out, "\n");
	for (size_t i = 0; groups && i < r->nr_groups; i++) {
		const struct sgt_group *g = &groups[i];

		fprintf(out, "\n%s: %" PRIu64 " x, %" PRIu64 " bytes", sgt_kind_name(g->ex.kind),
			g->count, g->bytes);
		if (has_map(&g->ex))
			fprintf(out, ", oldest %" PRIu64 " ms", g->oldest_age_ns / 1000000);
		fprintf(out, "%s\n", (r->fail_on >> g->ex.kind) & 1 ? "" : " (informational)");
		print_one(r, &g->ex, out);
	}
	if (r->nr_devs) {
		bool header = false;

		for (size_t i = 0; i < r->nr_devs; i++) {
			const struct sgt_dev *d = &r->devs[i].d;

			if (!d->match || (!d->maps && !d->unmaps && !d->map_failed && !d->findings))
				continue;
			if (!header) {
				fprintf(out, "\n%-20s %-12s %10s %10s %8s %12s %8s\n", "DEVICE", "DRIVER",
					"MAPS", "UNMAPS", "LIVE", "LIVE_BYTES", "UNBINDS");
				header = true;
			}
			fprintf(out, "%-20s %-12s %10" PRIu64 " %10" PRIu64 " %8" PRId64 " %12" PRId64
				     " %8u\n",
				d->name, d->driver[0] ? d->driver : "-", (uint64_t)d->maps, (uint64_t)d->unmaps,
				(int64_t)d->live, (int64_t)d->live_bytes, d->gen);
		}
	}
	free(groups);
}
