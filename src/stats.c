/* stats.c: what the ignore file saves, measured from one walk (stats.h).
 *
 * One pass over the entries in walk order.  Walk order is depth first with
 * a directory before its contents, so a stack of the open directories
 * gives every directory the sent bytes below it when it is left; the
 * largest ones and those that look like dependencies, caches or build
 * output are kept in small sorted arrays of at most `top` items. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stats.h"

struct open_dir {
	const struct walk_entry *e;
	uint64_t files, bytes; /* sent below it so far */
	bool suspicious_above; /* an ancestor was already reported */
};

struct ext_table {
	struct stats_ext *v;
	size_t cap, n;
};

struct pass {
	struct stats *s;
	size_t top;
	struct open_dir *stack;
	size_t depth, stack_cap;
	struct ext_table ext;
	const bool *linked; /* per entry: a hard-link member (the plan's), or NULL */
};

static void count(struct stats_counts *c, const struct walk_entry *e)
{
	c->entries++;
	if (e->type == WT_FILE) {
		c->files++;
		c->bytes += e->size;
	} else if (e->type == WT_DIR) {
		c->dirs++;
	} else {
		c->other++;
	}
}

static void count_pruned(struct stats_counts *c, const struct walk_pruned *p)
{
	c->entries += p->files + p->dirs + p->other;
	c->files += p->files;
	c->dirs += p->dirs;
	c->other += p->other;
	c->bytes += p->bytes;
}

/* Inserts it into the sorted (largest first) list v of at most top items. */
static int keep_top(struct stats_item **v, size_t *n, size_t top, const struct stats_item *it)
{
	size_t i;

	if (!top || (*n == top && (*v)[top - 1].bytes >= it->bytes))
		return 0;
	if (!*v && !(*v = malloc(top * sizeof(**v))))
		return -ENOMEM;
	i = *n < top ? (*n)++ : top - 1;
	while (i > 0 && (*v)[i - 1].bytes < it->bytes) {
		(*v)[i] = (*v)[i - 1];
		i--;
	}
	(*v)[i] = *it;
	return 0;
}

/* The extension of a file name: from its last '.', unless the name starts
 * there (".bashrc" has none); longer than fits: none. */
void stats_extension(const struct walk_entry *e, char *out, size_t outsz)
{
	const char *base = memrchr(e->path, '/', e->len);
	const char *dot;
	size_t blen;

	base = base ? base + 1 : e->path;
	blen = e->len - (size_t)(base - e->path);
	dot = memrchr(base, '.', blen);
	out[0] = '\0';
	if (!dot || dot == base || (size_t)(e->path + e->len - dot) >= outsz)
		return;
	memcpy(out, dot, (size_t)(e->path + e->len - dot));
	out[e->path + e->len - dot] = '\0';
}

static size_t ext_hash(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static int ext_add(struct ext_table *t, const struct walk_entry *e)
{
	char ext[sizeof(t->v->ext)];
	size_t i;

	stats_extension(e, ext, sizeof(ext));
	if ((t->n + 1) * 2 > t->cap) {
		struct ext_table nt = { calloc(t->cap ? t->cap * 2 : 64, sizeof(*t->v)),
					t->cap ? t->cap * 2 : 64, 0 };
		if (!nt.v)
			return -ENOMEM;
		for (size_t k = 0; k < t->cap; k++) {
			if (!t->v[k].files)
				continue;
			for (i = ext_hash(t->v[k].ext) & (nt.cap - 1); nt.v[i].files;
			     i = (i + 1) & (nt.cap - 1))
				;
			nt.v[i] = t->v[k];
			nt.n++;
		}
		free(t->v);
		*t = nt;
	}
	for (i = ext_hash(ext) & (t->cap - 1); t->v[i].files; i = (i + 1) & (t->cap - 1))
		if (!strcmp(t->v[i].ext, ext))
			break;
	if (!t->v[i].files) {
		memcpy(t->v[i].ext, ext, sizeof(ext));
		t->n++;
	}
	t->v[i].files++;
	t->v[i].bytes += e->size;
	return 0;
}

static int cmp_ext(const void *a, const void *b)
{
	const struct stats_ext *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->ext, y->ext);
}

/* The extensions by bytes, largest first, at most top. */
static int ext_finish(struct pass *p)
{
	struct ext_table *t = &p->ext;
	size_t n = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].files)
			t->v[n++] = t->v[i];
	qsort(t->v, n, sizeof(*t->v), cmp_ext);
	p->s->exts = t->v;
	p->s->nexts = n < p->top ? n : p->top;
	t->v = NULL;
	return 0;
}

/* The kind of directory e, from its path (classify_path: its last
 * component, Yarn's .yarn/cache as a cache). */
static enum classify_kind dir_kind(const struct walk_entry *e)
{
	return classify_path(e->path, e->len);
}

static bool below(const struct walk_entry *dir, const struct walk_entry *e)
{
	return e->len > dir->len && e->path[dir->len] == '/' &&
	       !memcmp(e->path, dir->path, dir->len);
}

/* Leaves the innermost open directory: its totals go to its parent and
 * into the lists. */
static int close_dir(struct pass *p)
{
	struct open_dir *d = &p->stack[--p->depth];
	struct stats_item it = { d->e->path, d->e->len, d->files, d->bytes, KIND_NONE };
	int rc;

	if (p->depth) {
		p->stack[p->depth - 1].files += d->files;
		p->stack[p->depth - 1].bytes += d->bytes;
	}
	if (!d->bytes && !d->files)
		return 0;
	rc = keep_top(&p->s->largest_dirs, &p->s->nlargest_dirs, p->top, &it);
	it.kind = dir_kind(d->e);
	if (!rc && it.kind != KIND_NONE && d->e->sent && !d->suspicious_above)
		rc = keep_top(&p->s->suspicious, &p->s->nsuspicious, p->top, &it);
	return rc;
}

static int open_dir(struct pass *p, const struct walk_entry *e)
{
	bool above = false;

	if (GROW(p->stack, p->stack_cap, p->depth + 1))
		return -ENOMEM;
	if (p->depth) {
		const struct open_dir *up = &p->stack[p->depth - 1];
		above = up->suspicious_above || (up->e->sent && dir_kind(up->e) != KIND_NONE);
	}
	p->stack[p->depth++] = (struct open_dir){ e, 0, 0, above };
	return 0;
}

static int sent_entry(struct pass *p, const struct walk_entry *e, size_t idx)
{
	struct stats *s = p->s;
	uint64_t data = e->type == WT_FILE ? e->size : 0;

	if (e->type == WT_SOCK) {
		/* Sent counts what the builder receives, as digest counts
		 * members: BuildKit sends a socket as an empty regular file. */
		s->sent.entries++;
		s->sent.files++;
		s->socket_files++;
	} else {
		count(&s->sent, e);
	}
	if (p->linked && p->linked[idx]) { /* a link member: no data of its own */
		s->sent.bytes -= data;
		s->linked_bytes += data;
		data = 0;
	}
	if (e->rule >= 0 && (size_t)e->rule < s->nrules) {
		struct stats_rule *r = &s->rules[e->rule];
		r->decided++; /* forced: the rule excludes it, the builder sends it anyway */
		if (e->type == WT_FILE && !e->forced) {
			r->included_files++;
			r->included_bytes += e->size;
		}
	}
	if (e->type == WT_FILE) {
		struct stats_item it = { e->path, e->len, 1, data, KIND_NONE };
		if (p->depth) {
			p->stack[p->depth - 1].files++;
			p->stack[p->depth - 1].bytes += data;
		}
		if (ext_add(&p->ext, e) ||
		    keep_top(&s->largest_files, &s->nlargest_files, p->top, &it))
			return -ENOMEM;
	}
	return 0;
}

static void excluded_entry(struct pass *p, const struct walk_entry *e,
			   const struct walk_pruned *pr)
{
	struct stats *s = p->s;
	struct stats_counts c = { 0 };

	count(&c, e);
	if (pr)
		count_pruned(&c, pr);
	s->excluded.entries += c.entries;
	s->excluded.files += c.files;
	s->excluded.dirs += c.dirs;
	s->excluded.other += c.other;
	s->excluded.bytes += c.bytes;
	if (e->rule >= 0 && (size_t)e->rule < s->nrules) {
		struct stats_rule *r = &s->rules[e->rule];
		r->decided += c.entries;
		r->excluded_files += c.files;
		r->excluded_bytes += c.bytes;
	} else {
		s->unattributed.entries += c.entries;
		s->unattributed.files += c.files;
		s->unattributed.bytes += c.bytes;
	}
}

int stats_compute(struct stats *s, const struct walk_result *res, const bool *linked,
		  size_t nrules, size_t top)
{
	struct pass p = { .s = s, .top = top, .linked = linked };
	size_t pi = 0;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->nrules = nrules;
	if (nrules && !(s->rules = calloc(nrules, sizeof(*s->rules))))
		return -ENOMEM;
	for (size_t i = 0; i < res->n && !rc; i++) {
		const struct walk_entry *e = res->v[i];
		const struct walk_pruned *pr = NULL;
		if (pi < res->npruned && res->pruned[pi].e == e) {
			pr = &res->pruned[pi++];
			s->unreadable_dirs += pr->unreadable;
		}
		while (p.depth && !below(p.stack[p.depth - 1].e, e) && !rc)
			rc = close_dir(&p);
		count(&s->scanned, e);
		if (pr)
			count_pruned(&s->scanned, pr);
		if (e->sent)
			rc = rc ? rc : sent_entry(&p, e, i);
		else
			excluded_entry(&p, e, pr);
		if (!rc && e->type == WT_DIR && !pr)
			rc = open_dir(&p, e);
	}
	while (p.depth && !rc)
		rc = close_dir(&p);
	if (!rc)
		rc = ext_finish(&p);
	free(p.stack);
	free(p.ext.v);
	if (rc)
		stats_free(s);
	return rc;
}

void stats_used(struct stats_counts *read, struct stats_counts *unread,
		const struct walk_result *res, const uint8_t *flags)
{
	for (size_t i = 0; i < res->n; i++)
		if (res->v[i]->sent)
			count(flags[i] ? read : unread, res->v[i]);
}

struct unread_dir {
	size_t at;	       /* res index */
	uint64_t files, bytes; /* sent below it */
	bool read;	       /* it or something sent below it is read */
};

static int cmp_at(const void *a, const void *b)
{
	const struct unread_dir *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

int stats_unread_dirs(struct stats_item **out, size_t *n, size_t top,
		      const struct walk_result *res, const uint8_t *flags)
{
	struct unread_dir *stack = NULL, *cand = NULL;
	size_t depth = 0, astack = 0, ncand = 0, acand = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i <= res->n && !rc; i++) {
		const struct walk_entry *e = i < res->n ? res->v[i] : NULL;
		/* close the directories e is not below (all of them at the end) */
		while (depth && (!e || !below(res->v[stack[depth - 1].at], e))) {
			struct unread_dir d = stack[--depth];
			if (depth) {
				stack[depth - 1].files += d.files;
				stack[depth - 1].bytes += d.bytes;
				stack[depth - 1].read |= d.read;
			}
			if (!d.read && d.files) {
				if (GROW(cand, acand, ncand + 1)) {
					rc = -ENOMEM;
					break;
				}
				cand[ncand++] = d;
			}
		}
		if (!e || rc || !e->sent)
			continue;
		if (flags[i] && depth)
			stack[depth - 1].read = true;
		if (e->type == WT_FILE && depth) {
			stack[depth - 1].files++;
			stack[depth - 1].bytes += e->size;
		}
		if (e->type == WT_DIR) {
			if (GROW(stack, astack, depth + 1)) {
				rc = -ENOMEM;
				break;
			}
			stack[depth++] = (struct unread_dir){ i, 0, 0, flags[i] != 0 };
		}
	}
	/* top-most only: in walk order, one below the last kept is left out */
	if (!rc && ncand)
		qsort(cand, ncand, sizeof(*cand), cmp_at);
	for (size_t k = 0, last = SIZE_MAX; !rc && k < ncand; k++) {
		const struct walk_entry *e = res->v[cand[k].at];
		struct stats_item it = { e->path, e->len, cand[k].files, cand[k].bytes, KIND_NONE };
		if (last != SIZE_MAX && below(res->v[last], e))
			continue;
		last = cand[k].at;
		rc = keep_top(out, n, top, &it);
	}
	free(stack);
	free(cand);
	return rc;
}

void stats_add_generated(struct stats *s, uint64_t files, uint64_t bytes)
{
	s->generated.entries += files;
	s->generated.files += files;
	s->generated.bytes += bytes;
	s->sent.entries += files;
	s->sent.files += files;
	s->sent.bytes += bytes;
}

int stats_rule_uses(struct stats *s, const ctxpack_rules *r, enum ctxpack_builder b,
		    const struct walk_result *res)
{
	size_t n = ctxpack_rules_count(r);

	free(s->uses);
	s->uses = calloc(n ? n : 1, sizeof(*s->uses));
	if (!s->uses || rule_use_compute(s->uses, r, b, res)) {
		free(s->uses);
		s->uses = NULL;
		return -ENOMEM;
	}
	return 0;
}

size_t stats_dead_rules(const struct stats *s)
{
	size_t n = 0;

	for (size_t i = 0; s->uses && i < s->nrules; i++)
		n += rule_use_is_dead(&s->uses[i]);
	return n;
}

void stats_free(struct stats *s)
{
	free(s->uses);
	free(s->rules);
	free(s->largest_files);
	free(s->largest_dirs);
	free(s->suspicious);
	free(s->exts);
	memset(s, 0, sizeof(*s));
}

double stats_reduction(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (1.0 - (double)part / (double)whole) : 0.0;
}
