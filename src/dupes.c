/* dupes.c: duplicate content among the sent files (see dupes.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dupes.h"
#include "internal.h"

struct cand {
	uint64_t size;
	uint64_t dev, ino;
	size_t i;
	const uint8_t *hash;
};

static int by_size_inode(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int by_size_hash(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	int c;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	c = memcmp(a->hash, b->hash, 16);
	if (c)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int by_repeated(const void *pa, const void *pb)
{
	const struct dupes_group *a = pa, *b = pb;
	uint64_t ra = (a->n - 1) * a->size, rb = (b->n - 1) * b->size;

	if (ra != rb)
		return ra > rb ? -1 : 1;
	return strcmp(a->v[0]->path, b->v[0]->path);
}

size_t dupes_candidates(bool *want, const struct walk_result *res)
{
	struct cand *c = malloc((res->n ? res->n : 1) * sizeof(*c));
	size_t n = 0, marked = 0;

	memset(want, 0, res->n * sizeof(*want));
	if (!c)
		return 0;
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		if (e->sent && e->type == WT_FILE && e->size > 0)
			c[n++] = (struct cand){ e->size, e->dev, e->ino, i, NULL };
	}
	qsort(c, n, sizeof(*c), by_size_inode);
	for (size_t a = 0; a < n;) {
		size_t b = a, inodes = 0;
		while (b < n && c[b].size == c[a].size) {
			/* one name per inode: the first in walk order (sorted by i) */
			if (b == a || c[b].dev != c[b - 1].dev || c[b].ino != c[b - 1].ino)
				inodes++;
			b++;
		}
		for (size_t k = a; inodes > 1 && k < b; k++)
			if (k == a || c[k].dev != c[k - 1].dev || c[k].ino != c[k - 1].ino) {
				want[c[k].i] = true;
				marked++;
			}
		a = b;
	}
	free(c);
	return marked;
}

int dupes_find(struct dupes *d, const struct walk_result *res, const bool *want,
	       const uint8_t *(*hash_of)(const void *arg, size_t i), const void *arg)
{
	struct cand *c = malloc((res->n ? res->n : 1) * sizeof(*c));
	size_t n = 0, alloc = 0;

	memset(d, 0, sizeof(*d));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < res->n; i++) {
		const uint8_t *h;
		if (!want[i] || !(h = hash_of(arg, i)))
			continue;
		c[n++] = (struct cand){ res->v[i]->size, 0, 0, i, h };
	}
	d->candidates = n;
	qsort(c, n, sizeof(*c), by_size_hash);
	for (size_t a = 0; a < n;) {
		size_t b = a + 1;
		struct dupes_group *g;
		while (b < n && c[b].size == c[a].size && !memcmp(c[b].hash, c[a].hash, 16))
			b++;
		if (b - a < 2) {
			a = b;
			continue;
		}
		if (GROW(d->groups, alloc, d->ngroups + 1))
			goto oom;
		g = &d->groups[d->ngroups];
		g->size = c[a].size;
		g->n = b - a;
		g->v = malloc(g->n * sizeof(*g->v));
		if (!g->v)
			goto oom;
		d->ngroups++;
		for (size_t k = a; k < b; k++)
			g->v[k - a] = res->v[c[k].i];
		d->files += g->n;
		d->repeated_bytes += (g->n - 1) * g->size;
		a = b;
	}
	free(c);
	if (d->ngroups)
		qsort(d->groups, d->ngroups, sizeof(*d->groups), by_repeated);
	return 0;
oom:
	free(c);
	dupes_release(d);
	return -ENOMEM;
}

void dupes_release(struct dupes *d)
{
	for (size_t i = 0; i < d->ngroups; i++)
		free(d->groups[i].v);
	free(d->groups);
	memset(d, 0, sizeof(*d));
}
