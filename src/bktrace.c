/* bktrace.c: BuildKit's StatusResponse decoded (a bounded protobuf reader
 * of our own) and rendered as buildx's progressui renders it.
 *
 * The model mirrors progressui's trace (display.go: trace.update,
 * vertexGroup.refresh, mergeIntervals, printErrorLogs) and the PLAIN
 * renderer its textMux (printer.go: print, printVtx), with two
 * differences, both about wall-clock time: textMux picks the running
 * vertex to show by its recent activity per second (and switches after 5 s
 * of fair share); here the one with the most updates, earliest started on a
 * tie.  A log line's offset and every duration come from the messages'
 * own timestamps, as in progressui. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bktrace.h"
#include "internal.h"

/* ---- the protobuf reader ---- */

/* google.protobuf.Timestamp's valid range (0001-01-01 to 9999-12-31), as
 * gogo's stdtime checks it: anything else fails the client's unmarshal. */
#define TS_MIN_SEC INT64_C(-62135596800)
#define TS_MAX_SEC INT64_C(253402300800)
#define MAX_GROUP_DEPTH 16

struct slice {
	const unsigned char *p;
	size_t n;
};

struct bts {
	int64_t sec;
	int32_t nsec;
	bool set;
};

struct pb {
	const unsigned char *p, *end;
};

/* An absent field is an empty slice with no bytes behind it: no
 * arithmetic on its NULL. */
static struct pb pb_of(const unsigned char *p, size_t n)
{
	struct pb b = {p, p};

	if (n)
		b.end = p + n;
	return b;
}

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

/* protowire.ConsumeVarint: at most 10 bytes, the 10th at most 1. */
static int pb_varint(struct pb *b, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 10; i++) {
		if (b->p >= b->end)
			return -EBADMSG;
		unsigned char c = *b->p++;
		if (i == 9 && c > 1)
			return -EBADMSG;
		v |= (uint64_t)(c & 0x7f) << (7 * i);
		if (c < 0x80) {
			*out = v;
			return 0;
		}
	}
	return -EBADMSG;
}

static int pb_tag(struct pb *b, uint32_t *field, unsigned *wt)
{
	uint64_t k;
	int rc = pb_varint(b, &k);

	if (rc)
		return rc;
	if ((k >> 3) == 0 || (k >> 3) > UINT32_C(0x1fffffff))
		return -EBADMSG;
	*field = (uint32_t)(k >> 3);
	*wt = (unsigned)(k & 7);
	return 0;
}

static int pb_bytes(struct pb *b, struct slice *out)
{
	uint64_t n;
	int rc = pb_varint(b, &n);

	if (rc)
		return rc;
	if (n > (uint64_t)(b->end - b->p))
		return -EBADMSG;
	out->p = b->p;
	out->n = (size_t)n;
	b->p += n;
	return 0;
}

/* protowire.ConsumeFieldValue: skips one value of wire type wt; a group
 * ends with its own field's end tag, nested at most MAX_GROUP_DEPTH. */
static int pb_skip(struct pb *b, uint32_t field, unsigned wt, int depth)
{
	uint64_t v;
	struct slice s;
	uint32_t f;
	unsigned w;
	int rc;

	switch (wt) {
	case WT_VARINT:
		return pb_varint(b, &v);
	case WT_I64:
	case WT_I32: {
		size_t n = wt == WT_I64 ? 8 : 4;
		if ((size_t)(b->end - b->p) < n)
			return -EBADMSG;
		b->p += n;
		return 0;
	}
	case WT_LEN:
		return pb_bytes(b, &s);
	case WT_SGROUP:
		if (depth >= MAX_GROUP_DEPTH)
			return -EBADMSG;
		for (;;) {
			rc = pb_tag(b, &f, &w);
			if (rc)
				return rc;
			if (w == WT_EGROUP)
				return f == field ? 0 : -EBADMSG;
			rc = pb_skip(b, f, w, depth + 1);
			if (rc)
				return rc;
		}
	default:
		return -EBADMSG;
	}
}

/* The value of a known field whose wire type is not the schema's is an
 * unknown field, as protobuf-go reads it. */
#define FIELD(num, type) (field == (num) && wt == (type))

static int pb_timestamp(struct slice s, struct bts *ts)
{
	struct pb b = pb_of(s.p, s.n);
	uint64_t v;
	uint32_t field;
	unsigned wt;
	int rc;

	if (!ts->set) /* a second occurrence merges into the first */
		*ts = (struct bts){0, 0, true};
	while (b.p < b.end) {
		if ((rc = pb_tag(&b, &field, &wt)))
			return rc;
		if (FIELD(1, WT_VARINT) || FIELD(2, WT_VARINT)) {
			if ((rc = pb_varint(&b, &v)))
				return rc;
			if (field == 1)
				ts->sec = (int64_t)v;
			else
				ts->nsec = (int32_t)(uint32_t)v;
		} else if ((rc = pb_skip(&b, field, wt, 0))) {
			return rc;
		}
	}
	/* gogo's validateTimestamp */
	if (ts->sec < TS_MIN_SEC || ts->sec >= TS_MAX_SEC || ts->nsec < 0 || ts->nsec >= 1000000000)
		return -EBADMSG;
	return 0;
}

struct pvertex {
	struct slice digest, name, error, group_id, group_name;
	bool cached, has_group, group_weak;
	struct bts started, completed;
};

struct pstatus {
	struct slice id, vertex;
	int64_t current, total;
	struct bts timestamp, started, completed;
};

struct plog {
	struct slice vertex, msg;
	struct bts timestamp;
};

struct pwarn {
	struct slice vertex, brief;
};

struct pmsg {
	struct pvertex *v;
	struct pstatus *s;
	struct plog *l;
	struct pwarn *w;
	size_t nv, ns, nl, nw, av, as, al, aw;
};

static int pb_group(struct slice s, struct pvertex *v)
{
	struct pb b = pb_of(s.p, s.n);
	uint64_t x;
	uint32_t field;
	unsigned wt;
	int rc;

	v->has_group = true;
	while (b.p < b.end) {
		if ((rc = pb_tag(&b, &field, &wt)))
			return rc;
		if (FIELD(1, WT_LEN)) {
			rc = pb_bytes(&b, &v->group_id);
		} else if (FIELD(2, WT_LEN)) {
			rc = pb_bytes(&b, &v->group_name);
		} else if (FIELD(3, WT_VARINT)) {
			rc = pb_varint(&b, &x);
			v->group_weak = !rc && x != 0;
		} else {
			rc = pb_skip(&b, field, wt, 0);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* A zeroed element added at the end of arr (n used, alloc allocated), or
 * NULL. */
static void *push(void **arr, size_t *alloc, size_t *n, size_t elem)
{
	char *e;

	if (grow_array(arr, alloc, *n + 1, elem))
		return NULL;
	e = (char *)*arr + *n * elem;
	memset(e, 0, elem);
	(*n)++;
	return e;
}
#define PUSH(arr, alloc, n) push((void **)&(arr), &(alloc), &(n), sizeof(*(arr)))

/* Decodes one submessage of StatusResponse (field 1 to 4). */
static int pb_entry(struct pmsg *m, uint32_t which, struct slice s)
{
	struct pb b = pb_of(s.p, s.n);
	struct slice sub;
	uint64_t x;
	uint32_t field;
	unsigned wt;
	int rc = 0;
	struct pvertex *v = NULL;
	struct pstatus *st = NULL;
	struct plog *l = NULL;
	struct pwarn *w = NULL;
	void *e;

	if (which == 1)
		e = v = PUSH(m->v, m->av, m->nv);
	else if (which == 2)
		e = st = PUSH(m->s, m->as, m->ns);
	else if (which == 3)
		e = l = PUSH(m->l, m->al, m->nl);
	else
		e = w = PUSH(m->w, m->aw, m->nw);
	if (!e)
		return -ENOMEM;
	while (b.p < b.end) {
		if ((rc = pb_tag(&b, &field, &wt)))
			return rc;
		if (wt == WT_LEN) {
			if ((rc = pb_bytes(&b, &sub)))
				return rc;
			if (v && field == 1)
				v->digest = sub;
			else if (v && field == 3)
				v->name = sub;
			else if (v && field == 5)
				rc = pb_timestamp(sub, &v->started);
			else if (v && field == 6)
				rc = pb_timestamp(sub, &v->completed);
			else if (v && field == 7)
				v->error = sub;
			else if (v && field == 8)
				rc = pb_group(sub, v);
			else if (st && field == 1)
				st->id = sub;
			else if (st && field == 2)
				st->vertex = sub;
			else if (st && field == 6)
				rc = pb_timestamp(sub, &st->timestamp);
			else if (st && field == 7)
				rc = pb_timestamp(sub, &st->started);
			else if (st && field == 8)
				rc = pb_timestamp(sub, &st->completed);
			else if (l && field == 1)
				l->vertex = sub;
			else if (l && field == 2)
				rc = pb_timestamp(sub, &l->timestamp);
			else if (l && field == 4)
				l->msg = sub;
			else if (w && field == 1)
				w->vertex = sub;
			else if (w && field == 3)
				w->brief = sub;
			/* other strings, inputs, details, source info: not shown */
		} else if (wt == WT_VARINT) {
			if ((rc = pb_varint(&b, &x)))
				return rc;
			if (v && field == 4)
				v->cached = x != 0;
			else if (st && field == 4)
				st->current = (int64_t)x;
			else if (st && field == 5)
				st->total = (int64_t)x;
		} else {
			rc = pb_skip(&b, field, wt, 0);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static void pmsg_release(struct pmsg *m)
{
	free(m->v);
	free(m->s);
	free(m->l);
	free(m->w);
}

static int pb_status_response(struct pmsg *m, const unsigned char *p, size_t n)
{
	struct pb b = pb_of(p, n);
	struct slice sub;
	uint32_t field;
	unsigned wt;
	int rc;

	while (b.p < b.end) {
		if ((rc = pb_tag(&b, &field, &wt)))
			return rc;
		if (field >= 1 && field <= 4 && wt == WT_LEN) {
			if ((rc = pb_bytes(&b, &sub)) || (rc = pb_entry(m, field, sub)))
				return rc;
		} else if ((rc = pb_skip(&b, field, wt, 0))) {
			return rc;
		}
	}
	return 0;
}

/* ---- times ---- */

static int ts_cmp(const struct bts *a, const struct bts *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

/* time.Time.Sub: a - b in nanoseconds, saturated. */
static int64_t ts_sub(const struct bts *a, const struct bts *b)
{
	int64_t ds = a->sec - b->sec, ns; /* both within the valid range: no overflow */

	if (__builtin_mul_overflow(ds, INT64_C(1000000000), &ns) ||
	    __builtin_add_overflow(ns, (int64_t)(a->nsec - b->nsec), &ns))
		return ds < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

/* a + b nanoseconds, saturated (progressui sums float64 seconds, which
 * do not overflow) */
static int64_t dur_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b < 0 ? INT64_MIN : INT64_MAX;
	return r;
}

/* time.Duration.Seconds */
static double dur_seconds(int64_t d)
{
	int64_t sec = d / 1000000000, nsec = d % 1000000000;

	return (double)sec + (double)nsec / 1e9;
}

struct interval {
	struct bts start, stop; /* stop.set false: still running */
};

/* ---- the model ---- */

struct buf {
	char *p;
	size_t n;
};

struct hmap_ent {
	const char *key;
	size_t keyn;
	void *val;
};

struct hmap {
	struct hmap_ent *e;
	size_t cap, n;
};

struct bk_status {
	struct buf id;
	int64_t current, total;
	struct bts timestamp, started, completed;
	bool updated;
	bool printed; /* textMux's last[ID] */
	int64_t last_current;
	struct bts last_ts;
};

struct member {
	struct buf digest, error;
	struct bts started, completed;
	bool cached, weak;
};

#define LOGS_RING 10

struct bk_vertex {
	struct buf digest, name, error;
	bool cached;
	struct bts started, completed;
	/* the last started message, for triggerVertexEvent */
	bool has_prev, prev_cached;
	struct buf prev_name, prev_error;
	struct bts prev_started;

	struct interval *iv, *merged;
	size_t niv, aiv, nmerged, amerged;

	size_t seq;  /* creation order */
	size_t lidx; /* in t->listed, once listed */
	int index;   /* #N, 0 until printed */
	bool listed, updated, hidden, is_group, tty_done;
	unsigned long count;

	struct hmap by_id;
	struct bk_status **st; /* in the order they started */
	size_t nst, ast;
	struct bk_status **all_st;
	size_t nall_st, aall_st;

	struct buf *logs; /* lines not printed yet */
	size_t nlogs, alogs, logs_offset;
	bool logs_partial;
	struct buf ring[LOGS_RING];
	size_t ring_pos;
	bool ring_made;

	struct buf *warn;
	size_t nwarn, awarn, warn_idx;

	struct member *members; /* a progress group's */
	size_t nmembers, amembers;
	struct hmap by_member; /* digest -> index + 1 in members */
};

struct bktrace {
	FILE *out;
	enum bktrace_mode mode;
	long interval_ms;
	struct timespec last_render;
	bool rendered_once, pending;

	struct hmap by_digest;	/* digests and group ids -> vertex */
	struct bk_vertex **all; /* creation order */
	size_t nall, aall;
	struct bk_vertex **listed; /* progressui's t.vertexes: started order */
	size_t nlisted, alisted;
	size_t open_from;	    /* listed before it: all completed */
	struct bk_vertex **scratch; /* the completed ones of one rendering */
	size_t ascratch;
	struct bk_vertex **upd; /* marked updated (mark()) */
	size_t nupd, aupd;

	/* textMux */
	struct bk_vertex *current;
	int next_index;
	bool not_first;

	/* tty */
	size_t tty_lines;
	struct bts first_start, last_seen;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
	return h;
}

static struct hmap_ent *hmap_slot(const struct hmap *m, const char *key, size_t n)
{
	size_t i = (size_t)hash_bytes(key, n) & (m->cap - 1);

	for (;; i = (i + 1) & (m->cap - 1)) {
		struct hmap_ent *e = &m->e[i];
		if (!e->key || (e->keyn == n && (!n || !memcmp(e->key, key, n))))
			return e;
	}
}

static void *hmap_get(const struct hmap *m, const char *key, size_t n)
{
	if (!m->cap)
		return NULL;
	return hmap_slot(m, key, n)->val;
}

/* key must live as long as the map (it is the value's own copy). */
static int hmap_put(struct hmap *m, const char *key, size_t n, void *val)
{
	struct hmap_ent *e;

	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct hmap old = *m;
		if (cap < m->cap || cap > SIZE_MAX / sizeof(*m->e))
			return -ENOMEM;
		m->e = calloc(cap, sizeof(*m->e));
		if (!m->e) {
			*m = old;
			return -ENOMEM;
		}
		m->cap = cap;
		m->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.e[i].key)
				*hmap_slot(m, old.e[i].key, old.e[i].keyn) = old.e[i], m->n++;
		free(old.e);
	}
	e = hmap_slot(m, key, n);
	if (!e->key)
		m->n++;
	*e = (struct hmap_ent){key, n, val};
	return 0;
}

static int buf_set(struct buf *b, struct slice s)
{
	/* an absent field is an empty slice with no bytes behind it */
	char *p = xmemdup(s.n ? (const char *)s.p : "", s.n);

	if (!p)
		return -ENOMEM;
	free(b->p);
	b->p = p;
	b->n = s.n;
	return 0;
}

static bool buf_eq(const struct buf *b, struct slice s)
{
	return b->n == s.n && (!s.n || !memcmp(b->p, s.p, s.n));
}

static struct slice sl(const struct buf *b)
{
	return (struct slice){(const unsigned char *)b->p, b->n};
}

static int buf_append(struct buf *b, const char *p, size_t n)
{
	char *q;

	if (n > SIZE_MAX - b->n - 1 || !(q = realloc(b->p, b->n + n + 1)))
		return -ENOMEM;
	if (n)
		memcpy(q + b->n, p, n);
	b->n += n;
	q[b->n] = '\0';
	b->p = q;
	return 0;
}

static void vertex_free(struct bk_vertex *v)
{
	free(v->digest.p);
	free(v->name.p);
	free(v->error.p);
	free(v->prev_name.p);
	free(v->prev_error.p);
	free(v->iv);
	free(v->merged);
	for (size_t i = 0; i < v->nall_st; i++) {
		free(v->all_st[i]->id.p);
		free(v->all_st[i]);
	}
	free(v->all_st);
	free(v->st);
	free(v->by_id.e);
	for (size_t i = 0; i < v->nlogs; i++)
		free(v->logs[i].p);
	free(v->logs);
	for (size_t i = 0; i < LOGS_RING; i++)
		free(v->ring[i].p);
	for (size_t i = 0; i < v->nwarn; i++)
		free(v->warn[i].p);
	free(v->warn);
	for (size_t i = 0; i < v->nmembers; i++) {
		free(v->members[i].digest.p);
		free(v->members[i].error.p);
	}
	free(v->members);
	free(v->by_member.e);
	free(v);
}

static struct bk_vertex *vertex_new(struct bktrace *t, struct slice digest, bool group)
{
	struct bk_vertex *v = calloc(1, sizeof(*v));

	if (!v || buf_set(&v->digest, digest) || GROW(t->all, t->aall, t->nall + 1) ||
	    hmap_put(&t->by_digest, v->digest.p, v->digest.n, v)) {
		if (v)
			vertex_free(v);
		return NULL;
	}
	v->is_group = group;
	v->hidden = group;
	v->seq = t->nall;
	t->all[t->nall++] = v;
	return v;
}

static int cmp_interval(const void *a, const void *b)
{
	return ts_cmp(&((const struct interval *)a)->start, &((const struct interval *)b)->start);
}

/* mergeIntervals: overlapping intervals joined, one without a stop
 * swallowing those after it. */
static int merge_intervals(struct bk_vertex *v)
{
	struct interval cur;

	v->nmerged = 0;
	if (!v->niv)
		return 0;
	if (GROW(v->merged, v->amerged, v->niv))
		return -ENOMEM;
	qsort(v->iv, v->niv, sizeof(*v->iv), cmp_interval);
	cur = v->iv[0];
	for (size_t i = 1; i < v->niv; i++) {
		struct interval next = v->iv[i];
		if (!cur.stop.set) {
			v->merged[v->nmerged++] = cur;
			return 0;
		}
		if (ts_cmp(&cur.stop, &next.start) < 0) {
			v->merged[v->nmerged++] = cur;
			cur = next;
			continue;
		}
		if (!next.stop.set) {
			cur.stop.set = false;
			v->merged[v->nmerged++] = cur;
			return 0;
		}
		if (ts_cmp(&cur.stop, &next.stop) >= 0)
			continue;
		cur.stop = next.stop;
	}
	v->merged[v->nmerged++] = cur;
	return 0;
}

/* intervals[start.UnixNano()] = {start, stop} */
static int add_interval(struct bk_vertex *v, struct bts start, struct bts stop)
{
	for (size_t i = 0; i < v->niv; i++)
		if (!ts_cmp(&v->iv[i].start, &start)) {
			v->iv[i].stop = stop;
			return merge_intervals(v);
		}
	if (GROW(v->iv, v->aiv, v->niv + 1))
		return -ENOMEM;
	v->iv[v->niv++] = (struct interval){start, stop};
	return merge_intervals(v);
}

static bool is_started(const struct bk_vertex *v)
{
	return v->nmerged > 0;
}

static bool is_completed(const struct bk_vertex *v)
{
	return v->nmerged && v->merged[v->nmerged - 1].stop.set;
}

static int list_vertex(struct bktrace *t, struct bk_vertex *v)
{
	if (v->listed)
		return 0;
	if (GROW(t->listed, t->alisted, t->nlisted + 1))
		return -ENOMEM;
	v->lidx = t->nlisted;
	t->listed[t->nlisted++] = v;
	v->listed = true;
	return 0;
}

/* Keeps open_from at or before every listed vertex still running. */
static void reopened(struct bktrace *t, const struct bk_vertex *v)
{
	if (v->listed && !is_completed(v) && v->lidx < t->open_from)
		t->open_from = v->lidx;
}

/* progressui's t.updates[dgst]: the vertexes the next rendering looks at
 * (a list, so that it looks at them alone, not at every vertex). */
static int mark(struct bktrace *t, struct bk_vertex *v)
{
	if (v->updated)
		return 0;
	if (GROW(t->upd, t->aupd, t->nupd + 1))
		return -ENOMEM;
	t->upd[t->nupd++] = v;
	v->updated = true;
	return 0;
}

static void seen(struct bktrace *t, const struct bts *ts)
{
	if (!ts->set)
		return;
	if (!t->first_start.set || ts_cmp(ts, &t->first_start) < 0)
		t->first_start = *ts;
	if (!t->last_seen.set || ts_cmp(ts, &t->last_seen) > 0)
		t->last_seen = *ts;
}

/* trace.triggerVertexEvent and the vertex half of trace.update. */
static int update_vertex(struct bktrace *t, const struct pvertex *p)
{
	struct bk_vertex *v = hmap_get(&t->by_digest, (const char *)p->digest.p, p->digest.n);
	bool was_started;

	if (!v && !(v = vertex_new(t, p->digest, false)))
		return -ENOMEM;
	was_started = is_started(v);
	seen(t, &p->started);
	seen(t, &p->completed);
	if (p->started.set) {
		bool changed = !v->has_prev || !buf_eq(&v->prev_name, p->name) ||
			       !v->prev_started.set || ts_cmp(&v->prev_started, &p->started) ||
			       p->completed.set || v->prev_cached != p->cached ||
			       !buf_eq(&v->prev_error, p->error);
		if (changed) {
			v->count++;
			if (mark(t, v))
				return -ENOMEM;
		}
		if (buf_set(&v->prev_name, p->name) || buf_set(&v->prev_error, p->error))
			return -ENOMEM;
		v->has_prev = true;
		v->prev_started = p->started;
		v->prev_cached = p->cached;
		if (!was_started && list_vertex(t, v))
			return -ENOMEM;
	}
	/* a repeated initial vertex does not reset a started one */
	if (!(was_started && !p->started.set)) {
		if (buf_set(&v->name, p->name) || buf_set(&v->error, p->error))
			return -ENOMEM;
		v->cached = p->cached;
		v->started = p->started;
		v->completed = p->completed;
	}
	if (p->started.set && add_interval(v, p->started, p->completed))
		return -ENOMEM;
	reopened(t, v);
	return 0;
}

/* A progress group's member: the group's vertex stands for it. */
static int update_member(struct bktrace *t, const struct pvertex *p, struct bk_vertex **touched,
			 size_t *ntouched)
{
	struct bk_vertex *g = hmap_get(&t->by_digest, (const char *)p->group_id.p, p->group_id.n);
	struct member *m = NULL;
	uintptr_t idx;

	if (g && !g->is_group)
		g = NULL; /* a vertex's digest equal to a group id: a new group */
	if (!g) {
		if (!(g = vertex_new(t, p->group_id, true)) || buf_set(&g->name, p->group_name))
			return -ENOMEM;
	}
	idx = (uintptr_t)hmap_get(&g->by_member, (const char *)p->digest.p, p->digest.n);
	if (idx)
		m = &g->members[idx - 1];
	else {
		if (GROW(g->members, g->amembers, g->nmembers + 1))
			return -ENOMEM;
		m = &g->members[g->nmembers];
		memset(m, 0, sizeof(*m));
		if (buf_set(&m->digest, p->digest))
			return -ENOMEM;
		g->nmembers++;
		if (hmap_put(&g->by_member, m->digest.p, m->digest.n,
			     (void *)(uintptr_t)g->nmembers) ||
		    hmap_put(&t->by_digest, m->digest.p, m->digest.n, g))
			return -ENOMEM;
	}
	if (buf_set(&m->error, p->error))
		return -ENOMEM;
	m->started = p->started;
	m->completed = p->completed;
	m->cached = p->cached;
	m->weak = p->group_weak;
	seen(t, &p->started);
	seen(t, &p->completed);
	for (size_t i = 0; i < *ntouched; i++)
		if (touched[i] == g)
			return 0;
	touched[(*ntouched)++] = g;
	return 0;
}

/* vertexGroup.refresh and what trace.update does with its answer. */
static int refresh_group(struct bktrace *t, struct bk_vertex *g)
{
	bool changed = false, was_hidden = g->hidden, cached = true;
	struct buf err = {NULL, 0};

	for (size_t i = 0; i < g->nmembers; i++) {
		struct member *m = &g->members[i];
		if (m->started.set) {
			bool found = false;
			for (size_t k = 0; k < g->niv; k++)
				if (!ts_cmp(&g->iv[k].start, &m->started)) {
					found = true;
					if ((g->iv[k].stop.set != m->completed.set) ||
					    (m->completed.set &&
					     ts_cmp(&g->iv[k].stop, &m->completed)))
						changed = true;
				}
			if (!found)
				changed = true;
			if (add_interval(g, m->started, m->completed))
				return -ENOMEM;
			if (!m->weak)
				g->hidden = false;
		}
		cached = cached && m->cached;
		if (!err.n)
			err = m->error;
		else
			g->hidden = false;
	}
	if (g->cached != cached || !buf_eq(&g->error, sl(&err)))
		changed = true;
	g->cached = cached;
	if (buf_set(&g->error, sl(&err)))
		return -ENOMEM;
	if (g->hidden)
		return 0;
	if (was_hidden) {
		changed = true;
		if (list_vertex(t, g))
			return -ENOMEM;
	}
	reopened(t, g);
	if (changed) {
		g->count++;
		if (mark(t, g))
			return -ENOMEM;
	}
	return 0;
}

static int update_status(struct bktrace *t, const struct pstatus *p)
{
	struct bk_vertex *v = hmap_get(&t->by_digest, (const char *)p->vertex.p, p->vertex.n);
	struct bk_status *s;
	bool was_started;

	if (!v)
		return 0; /* "shouldn't happen" */
	s = hmap_get(&v->by_id, (const char *)p->id.p, p->id.n);
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))))
			return -ENOMEM;
		if (buf_set(&s->id, p->id) || GROW(v->all_st, v->aall_st, v->nall_st + 1)) {
			free(s->id.p);
			free(s);
			return -ENOMEM;
		}
		v->all_st[v->nall_st++] = s;
		if (hmap_put(&v->by_id, s->id.p, s->id.n, s))
			return -ENOMEM;
		was_started = false;
	} else {
		was_started = s->started.set;
	}
	if (p->started.set && !was_started) {
		if (GROW(v->st, v->ast, v->nst + 1))
			return -ENOMEM;
		v->st[v->nst++] = s;
	}
	s->current = p->current;
	s->total = p->total;
	s->timestamp = p->timestamp;
	s->started = p->started;
	s->completed = p->completed;
	s->updated = true;
	seen(t, &p->timestamp);
	v->count++;
	return mark(t, v);
}

static int update_warning(struct bktrace *t, const struct pwarn *p)
{
	struct bk_vertex *v = hmap_get(&t->by_digest, (const char *)p->vertex.p, p->vertex.n);

	if (!v)
		return 0;
	if (GROW(v->warn, v->awarn, v->nwarn + 1))
		return -ENOMEM;
	v->warn[v->nwarn] = (struct buf){NULL, 0};
	if (buf_set(&v->warn[v->nwarn], p->brief))
		return -ENOMEM;
	v->nwarn++;
	v->count++;
	return 0;
}

/* The line kept for the failure's report (progressui's logsBuffer). */
static int ring_put(struct bk_vertex *v, const char *p, size_t n, bool advance)
{
	struct buf *r = &v->ring[v->ring_pos];

	r->n = 0;
	if (buf_append(r, p, n))
		return -ENOMEM;
	v->ring_made = true;
	if (advance)
		v->ring_pos = (v->ring_pos + 1) % LOGS_RING;
	return 0;
}

/* The log half of trace.update: lines split at '\n', each prefixed with
 * its offset from the vertex's start; a line left open is continued by
 * the next message. */
static int update_log(struct bktrace *t, const struct plog *p)
{
	struct bk_vertex *v = hmap_get(&t->by_digest, (const char *)p->vertex.p, p->vertex.n);
	const unsigned char *d = p->msg.p, *end = d ? d + p->msg.n : d;
	bool complete = false;
	size_t i = 0;

	if (!v)
		return 0;
	seen(t, &p->timestamp);
	while (d < end) {
		const unsigned char *nl = memchr(d, '\n', (size_t)(end - d));
		size_t n = nl ? (size_t)(nl - d) : (size_t)(end - d);
		if (v->logs_partial && v->nlogs && i == 0) {
			if (buf_append(&v->logs[v->nlogs - 1], (const char *)d, n))
				return -ENOMEM;
		} else {
			int64_t ts = 0;
			char pre[64];
			int prec = 1, k;
			double sec;
			if (is_started(v))
				ts = ts_sub(&p->timestamp, &v->merged[v->nmerged - 1].start);
			sec = dur_seconds(ts);
			if (sec < 10)
				prec = 3;
			else if (sec < 100)
				prec = 2;
			k = snprintf(pre, sizeof(pre), "%.*f ", prec, sec);
			if (GROW(v->logs, v->alogs, v->nlogs + 1))
				return -ENOMEM;
			v->logs[v->nlogs] = (struct buf){NULL, 0};
			if (buf_append(&v->logs[v->nlogs], pre, (size_t)k) ||
			    buf_append(&v->logs[v->nlogs], (const char *)d, n))
				return -ENOMEM;
			v->nlogs++;
		}
		i++;
		d += n;
		if (nl) {
			d++;
			complete = d == end;
		}
	}
	/* split() of empty data answers "not complete" */
	v->logs_partial = !complete;
	v->count++;
	if (mark(t, v))
		return -ENOMEM;
	/* the tty view prints no logs: it keeps the last lines for a failure */
	if (t->mode != BKTRACE_PLAIN) {
		size_t keep = v->logs_partial ? 1 : 0;
		while (v->nlogs > keep) {
			if (ring_put(v, v->logs[0].p, v->logs[0].n, true))
				return -ENOMEM;
			free(v->logs[0].p);
			memmove(v->logs, v->logs + 1, (v->nlogs - 1) * sizeof(*v->logs));
			v->nlogs--;
		}
	}
	return 0;
}

/* ---- PLAIN: textMux ---- */

/* units.Bytes formatted with "%.2f": whole bytes below 1000, else
 * decimal units (tonistiigi/units, its wrapping arithmetic included). */
static void fmt_bytes(char *out, size_t sz, int64_t b)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
	int64_t base = b < 0 ? -1 : 1;
	unsigned i = 0;

	for (;;) {
		int64_t next = (int64_t)((uint64_t)base * 1000u);
		if (i + 1 < ARRAY_SIZE(units) &&
		    ((base > 0 && b >= next) || (base < 0 && b <= next))) {
			i++;
			base = next;
			continue;
		}
		break;
	}
	if (!i)
		snprintf(out, sz, "%" PRId64 "B", b);
	else
		snprintf(out, sz, "%.2f%s", (double)b / __builtin_fabs((double)base), units[i]);
}

static void put(struct bktrace *t, const char *p, size_t n)
{
	if (n)
		fwrite(p, 1, n, t->out);
}

static bool canceled(const struct bk_vertex *v)
{
	static const char c[] = "context canceled";
	return v->error.n >= sizeof(c) - 1 &&
	       !memcmp(v->error.p + v->error.n - (sizeof(c) - 1), c, sizeof(c) - 1);
}

static int64_t merged_duration(const struct bk_vertex *v)
{
	int64_t dt = 0;

	for (size_t i = 0; i < v->nmerged; i++) {
		const struct interval *iv = &v->merged[i];
		dt = dur_add(dt, iv->stop.set ? ts_sub(&iv->stop, &iv->start) : 0);
	}
	return dt;
}

/* textMux.printVtx */
static int print_vertex(struct bktrace *t, struct bk_vertex *v)
{
	FILE *o = t->out;
	bool open_status = false;

	if (!v->index)
		v->index = ++t->next_index;
	if (v != t->current) {
		if (t->current) {
			struct bk_vertex *old = t->current;
			if (old->logs_partial)
				fputc('\n', o);
			old->logs_offset = 0;
			old->count = 0;
			fprintf(o, "#%d ...\n", old->index);
		}
		if (t->not_first)
			fputc('\n', o);
		t->not_first = true;
		fprintf(o, "#%d ", v->index);
		put(t, v->name.p, v->name.n);
		fputc('\n', o);
	}
	for (size_t i = 0; i < v->nst; i++) {
		struct bk_status *s = v->st[i];
		char bytes[96] = "", tm[64] = "", a[40], b[40];
		if (!s->updated)
			continue;
		if (s->printed && !s->completed.set) {
			double pd = 0;
			if (s->total > 0)
				pd = (double)(int64_t)((uint64_t)s->current -
						       (uint64_t)s->last_current) /
				     (double)s->total; /* Go's int64 wraps */
			if (pd < 0.05 && ts_sub(&s->timestamp, &s->last_ts) < INT64_C(5000000000))
				continue;
		}
		s->printed = true;
		s->last_ts = s->timestamp;
		s->last_current = s->current;
		if (s->total) {
			fmt_bytes(a, sizeof(a), s->current);
			fmt_bytes(b, sizeof(b), s->total);
			snprintf(bytes, sizeof(bytes), " %s / %s", a, b);
		} else if (s->current) {
			fmt_bytes(a, sizeof(a), s->current);
			snprintf(bytes, sizeof(bytes), " %s", a);
		}
		if (s->started.set) {
			const struct bts *end = s->completed.set ? &s->completed : &s->timestamp;
			double diff = dur_seconds(ts_sub(end, &s->started));
			if (diff > 0.01)
				snprintf(tm, sizeof(tm), " %.1fs", diff);
		}
		if (s->completed.set)
			strcat(tm, " done");
		else
			open_status = true;
		fprintf(o, "#%d ", v->index);
		put(t, s->id.p, s->id.n);
		fprintf(o, "%s%s\n", bytes, tm);
	}
	for (size_t i = 0; i < v->nall_st; i++)
		v->all_st[i]->updated = false;
	for (; v->warn_idx < v->nwarn; v->warn_idx++) {
		fprintf(o, "#%d WARN: ", v->index);
		put(t, v->warn[v->warn_idx].p, v->warn[v->warn_idx].n);
		fputc('\n', o);
	}
	for (size_t i = 0; i < v->nlogs; i++) {
		const char *p = v->logs[i].p;
		size_t n = v->logs[i].n;
		if (i == 0 && v->logs_offset) {
			size_t off = v->logs_offset < n ? v->logs_offset : n;
			p += off;
			n -= off;
		} else {
			fprintf(o, "#%d ", v->index);
		}
		put(t, p, n);
		if (i != v->nlogs - 1 || !v->logs_partial)
			fputc('\n', o);
		if (ring_put(v, p, n, !v->logs_partial))
			return -ENOMEM;
	}
	if (v->nlogs) {
		if (v->logs_partial) {
			for (size_t i = 0; i + 1 < v->nlogs; i++)
				free(v->logs[i].p);
			v->logs[0] = v->logs[v->nlogs - 1];
			v->nlogs = 1;
			v->logs_offset = v->logs[0].n;
		} else {
			for (size_t i = 0; i < v->nlogs; i++)
				free(v->logs[i].p);
			v->nlogs = 0;
			v->logs_offset = 0;
		}
	}
	t->current = v;
	if (is_completed(v) && !open_status) {
		t->current = NULL;
		v->count = 0;
		if (v->logs_partial)
			fputc('\n', o);
		if (v->error.n) {
			if (canceled(v)) {
				fprintf(o, "#%d CANCELED\n", v->index);
			} else {
				fprintf(o, "#%d ERROR: ", v->index);
				put(t, v->error.p, v->error.n);
				fputc('\n', o);
			}
		} else if (v->cached) {
			fprintf(o, "#%d CACHED\n", v->index);
		} else if (v->nmerged) {
			fprintf(o, "#%d DONE %.1fs\n", v->index, dur_seconds(merged_duration(v)));
		} else {
			fprintf(o, "#%d DONE\n", v->index);
		}
	}
	v->updated = false;
	return 0;
}

static bool shown(const struct bk_vertex *v)
{
	return !v->hidden;
}

static int cmp_completed(const void *a, const void *b)
{
	const struct bk_vertex *x = *(struct bk_vertex *const *)a,
			       *y = *(struct bk_vertex *const *)b;
	int c = ts_cmp(&x->merged[x->nmerged - 1].stop, &y->merged[y->nmerged - 1].stop);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* textMux.print */
static int print_plain_once(struct bktrace *t)
{
	struct bk_vertex *cur = t->current, *best = NULL, *v;
	bool any_rest = false;
	size_t ndone = 0;
	int rc;

	/* the current one first when it completed, then the completed ones by
	 * the end of their last interval (sortCompleted; stable here) */
	if (cur && cur->updated && shown(cur) && is_completed(cur) && (rc = print_vertex(t, cur)))
		return rc;
	for (size_t i = 0; i < t->nupd; i++) {
		v = t->upd[i];
		if (!v->updated || !shown(v) || !is_completed(v))
			continue;
		if (GROW(t->scratch, t->ascratch, ndone + 1))
			return -ENOMEM;
		t->scratch[ndone++] = v;
	}
	if (ndone)
		qsort(t->scratch, ndone, sizeof(*t->scratch), cmp_completed);
	for (size_t i = 0; i < ndone; i++)
		if ((rc = print_vertex(t, t->scratch[i])))
			return rc;
	for (size_t i = 0; i < t->nupd; i++) {
		v = t->upd[i];
		if (v->updated && shown(v))
			any_rest = true;
	}
	if (!any_rest) {
		if (t->current && is_started(t->current) && !is_completed(t->current))
			return 0;
		/* make any open vertex active (the first: Go's map order is
		 * random); the completed ones before it are not looked at again */
		for (size_t i = t->open_from; i < t->nlisted; i++) {
			v = t->listed[i];
			if (is_started(v) && !is_completed(v) && shown(v))
				return print_vertex(t, v);
			if (i == t->open_from && is_completed(v))
				t->open_from++;
		}
		return 0;
	}
	if (t->current && t->current->updated)
		return print_vertex(t, t->current);
	if (t->current)
		return 0; /* progressui may switch after 5 s of fair share: not here */
	for (size_t i = 0; i < t->nupd; i++) {
		v = t->upd[i];
		if (v->updated && shown(v) &&
		    (!best || v->count > best->count ||
		     (v->count == best->count && v->seq < best->seq)))
			best = v;
	}
	return best ? print_vertex(t, best) : 0;
}

static int print_plain(struct bktrace *t)
{
	int rc = print_plain_once(t);
	size_t k = 0;

	for (size_t i = 0; i < t->nupd; i++)
		if (t->upd[i]->updated)
			t->upd[k++] = t->upd[i];
	t->nupd = k;
	return rc;
}

/* trace.printErrorLogs */
static void print_error_logs(struct bktrace *t)
{
	for (size_t i = 0; i < t->nlisted; i++) {
		struct bk_vertex *v = t->listed[i];
		if (!v->error.n || canceled(v))
			continue;
		fputs("------\n > ", t->out);
		put(t, v->name.p, v->name.n);
		fputs(":\n", t->out);
		for (size_t k = 0; k < v->nlogs; k++) {
			put(t, v->logs[k].p, v->logs[k].n);
			fputc('\n', t->out);
		}
		if (v->ring_made)
			for (size_t k = 0; k < LOGS_RING; k++) {
				struct buf *r = &v->ring[(v->ring_pos + k) % LOGS_RING];
				if (r->p) {
					put(t, r->p, r->n);
					fputc('\n', t->out);
				}
			}
		fputs("------\n", t->out);
	}
}

/* ---- TTY: a compact live view ---- */

static int term_width(struct bktrace *t)
{
	struct winsize ws;
	int fd = fileno(t->out);

	if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* One line of at most width columns: control bytes shown as '?', a UTF-8
 * sequence counted as one column, cut with no partial sequence. */
static void tty_line(struct bktrace *t, int width, const char *left, size_t ln, const char *right)
{
	size_t rn = strlen(right), cols = 0, k = 0, room;

	room = (size_t)width > rn + 1 ? (size_t)width - rn - 1 : 0;
	fputs("\r\033[K", t->out);
	while (k < ln) {
		unsigned char c = (unsigned char)left[k];
		size_t len = 1;
		if (c >= 0xc0)
			while (k + len < ln && ((unsigned char)left[k + len] & 0xc0) == 0x80)
				len++;
		if (cols + 1 > room)
			break;
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xc0))
			fputc('?', t->out);
		else
			put(t, left + k, len);
		cols++;
		k += len;
	}
	if (rn && (size_t)width > rn + 1) {
		for (; cols < room; cols++)
			fputc(' ', t->out);
		fprintf(t->out, " %s", right);
	}
	fputc('\n', t->out);
}

static void vertex_label(const struct bk_vertex *v, char *pre, size_t sz)
{
	if (v->error.n)
		snprintf(pre, sz, " => %s", canceled(v) ? "CANCELED " : "ERROR ");
	else if (v->cached)
		snprintf(pre, sz, " => CACHED ");
	else
		snprintf(pre, sz, " => ");
}

static void tty_vertex(struct bktrace *t, int width, struct bk_vertex *v, bool running)
{
	char pre[32], tm[32] = "";
	struct buf line = {NULL, 0};
	int64_t d = merged_duration(v);

	if (running && is_started(v) && t->last_seen.set)
		d = dur_add(d, ts_sub(&t->last_seen, &v->merged[v->nmerged - 1].start));
	if (is_started(v))
		snprintf(tm, sizeof(tm), "%.1fs", dur_seconds(d));
	vertex_label(v, pre, sizeof(pre));
	if (!buf_append(&line, pre, strlen(pre)) && !buf_append(&line, v->name.p, v->name.n))
		tty_line(t, width, line.p, line.n, tm);
	if (!running) {
		free(line.p);
		return;
	}
	for (size_t i = 0; i < v->nst; i++) {
		struct bk_status *s = v->st[i];
		char st[96] = "", a[40], b[40];
		line.n = 0;
		if (s->total) {
			fmt_bytes(a, sizeof(a), s->current);
			fmt_bytes(b, sizeof(b), s->total);
			snprintf(st, sizeof(st), "%s / %s", a, b);
		} else if (s->current) {
			fmt_bytes(st, sizeof(st), s->current);
		}
		if (s->completed.set)
			strcat(st, st[0] ? " done" : "done");
		if (!buf_append(&line, " => => ", 7) && !buf_append(&line, s->id.p, s->id.n))
			tty_line(t, width, line.p, line.n, st);
	}
	free(line.p);
}

static void print_tty(struct bktrace *t, bool final)
{
	int width = term_width(t);
	size_t total = 0, done = 0, lines = 0;
	char head[96];
	double el = 0;

	if (t->tty_lines)
		fprintf(t->out, "\033[%zuA", t->tty_lines);
	/* finished vertexes scroll up, once, in the order they started */
	for (size_t i = 0; i < t->nlisted; i++) {
		struct bk_vertex *v = t->listed[i];
		if (!shown(v))
			continue;
		total++;
		if (!is_completed(v))
			continue;
		done++;
		if (!v->tty_done) {
			tty_vertex(t, width, v, false);
			v->tty_done = true;
		}
	}
	if (t->first_start.set && t->last_seen.set)
		el = dur_seconds(ts_sub(&t->last_seen, &t->first_start));
	snprintf(head, sizeof(head), "[+] Building %.1fs (%zu/%zu)%s", el, done, total,
		 final ? " FINISHED" : "");
	tty_line(t, width, head, strlen(head), "");
	lines++;
	if (!final)
		for (size_t i = 0; i < t->nlisted; i++) {
			struct bk_vertex *v = t->listed[i];
			if (shown(v) && is_started(v) && !is_completed(v)) {
				tty_vertex(t, width, v, true);
				lines += 1 + v->nst;
			}
		}
	fputs("\033[J", t->out);
	t->tty_lines = final ? 0 : lines;
	for (size_t i = 0; i < t->nupd; i++)
		t->upd[i]->updated = false;
	t->nupd = 0;
}

/* ---- the interface ---- */

struct bktrace *bktrace_new(FILE *out, enum bktrace_mode mode)
{
	struct bktrace *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->out = out;
	t->mode = mode;
	t->interval_ms = 100;
	return t;
}

void bktrace_set_interval(struct bktrace *t, long ms)
{
	t->interval_ms = ms;
}

static int render(struct bktrace *t, bool final)
{
	int rc = 0;

	t->pending = false;
	if (t->mode == BKTRACE_QUIET)
		return 0; /* out may be NULL */
	if (t->mode == BKTRACE_PLAIN)
		rc = print_plain(t);
	else
		print_tty(t, final);
	fflush(t->out);
	return rc;
}

void bktrace_refresh(struct bktrace *t)
{
	if (t->pending)
		render(t, false);
}

/* rate.Limiter(rate.Every(interval), 1): one rendering per interval. */
static bool allowed(struct bktrace *t)
{
	struct timespec now;
	int64_t ms;

	if (t->interval_ms == 0)
		return true;
	if (t->interval_ms < 0)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - t->last_render.tv_sec) * 1000 +
	     (now.tv_nsec - t->last_render.tv_nsec) / 1000000;
	if (t->rendered_once && ms < t->interval_ms)
		return false;
	t->rendered_once = true;
	t->last_render = now;
	return true;
}

int bktrace_feed(struct bktrace *t, const unsigned char *pb, size_t n)
{
	struct pmsg m = {0};
	struct bk_vertex **touched = NULL;
	size_t ntouched = 0;
	int rc;

	if (n > BKTRACE_MAX_MESSAGE)
		return -EBADMSG;
	rc = pb_status_response(&m, pb, n);
	if (rc)
		goto out;
	if (m.nv && !(touched = calloc(m.nv, sizeof(*touched)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m.nv && !rc; i++)
		rc = m.v[i].has_group ? update_member(t, &m.v[i], touched, &ntouched)
				      : update_vertex(t, &m.v[i]);
	for (size_t i = 0; i < ntouched && !rc; i++)
		rc = refresh_group(t, touched[i]);
	for (size_t i = 0; i < m.ns && !rc; i++)
		rc = update_status(t, &m.s[i]);
	for (size_t i = 0; i < m.nw && !rc; i++)
		rc = update_warning(t, &m.w[i]);
	for (size_t i = 0; i < m.nl && !rc; i++)
		rc = update_log(t, &m.l[i]);
	if (rc)
		goto out;
	t->pending = true;
	if (t->mode != BKTRACE_QUIET && allowed(t))
		rc = render(t, false);
out:
	free(touched);
	pmsg_release(&m);
	return rc;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* encoding/base64.StdEncoding: padded; the bits a padded tail leaves
 * over are ignored, as Go's (not Strict) decoder does.  Go also skips '\r'
 * and '\n', which its JSON encoder never writes: refused here. */
int bktrace_feed_base64(struct bktrace *t, const char *b64, size_t n)
{
	unsigned char *pb;
	size_t o = 0;
	int rc;

	if (n % 4 || n / 4 * 3 > BKTRACE_MAX_MESSAGE)
		return -EBADMSG;
	if (!(pb = malloc(n / 4 * 3 + 1)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i += 4) {
		const unsigned char *q = (const unsigned char *)b64 + i;
		int v[4], pad = 0;
		if (i + 4 == n && q[3] == '=')
			pad = q[2] == '=' ? 2 : 1;
		for (int k = 0; k < 4 - pad; k++)
			if ((v[k] = b64_value(q[k])) < 0) {
				free(pb);
				return -EBADMSG;
			}
		for (int k = 4 - pad; k < 4; k++)
			v[k] = 0;
		uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		pb[o++] = (unsigned char)(x >> 16);
		if (pad < 2)
			pb[o++] = (unsigned char)(x >> 8);
		if (pad < 1)
			pb[o++] = (unsigned char)x;
	}
	rc = bktrace_feed(t, pb, o);
	free(pb);
	return rc;
}

void bktrace_finish(struct bktrace *t)
{
	if (t->mode == BKTRACE_QUIET)
		return;
	render(t, true);
	print_error_logs(t);
	fflush(t->out);
}

void bktrace_free(struct bktrace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nall; i++)
		vertex_free(t->all[i]);
	free(t->all);
	free(t->listed);
	free(t->scratch);
	free(t->upd);
	free(t->by_digest.e);
	free(t);
}

void bktrace_counts(const struct bktrace *t, struct bktrace_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < t->nall; i++) {
		const struct bk_vertex *v = t->all[i];
		if (v->hidden)
			continue;
		out->vertexes++;
		if (is_completed(v))
			out->completed++;
		if (v->cached)
			out->cached++;
		if (v->error.n)
			out->errors++;
	}
}

bool bktrace_failure(const struct bktrace *t, const char **name, const char **error)
{
	for (size_t i = 0; i < t->nlisted; i++) {
		const struct bk_vertex *v = t->listed[i];
		if (v->error.n) {
			*name = v->name.p ? v->name.p : "";
			*error = v->error.p;
			return true;
		}
	}
	return false;
}
