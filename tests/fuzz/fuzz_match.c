/* fuzz_match.c: fuzz target for the reader and the matcher.  The input is
 * .dockerignore bytes, a NUL, then paths separated by '\n'; every path's
 * ancestors join the tree, which is walked in Docker's order and decided
 * by the compiled matcher and the reference matcher for both builders.
 * Any disagreement (or a crash, a leak, undefined behaviour under the
 * sanitizers) is a finding. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "walk_order.h"
#include "diffcheck.h"

#define MAXPATHS 128

struct ent {
	const char *p;
	size_t n;
};

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return walk_order(x->p, x->n, y->p, y->n);
}

static void add(struct ent *v, size_t *n, const char *p, size_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i].n == len && !memcmp(v[i].p, p, len))
			return;
	if (*n < MAXPATHS)
		v[(*n)++] = (struct ent){ p, len };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data, *nul = memchr(d, 0, size), *p, *end = d + size;
	struct ent v[MAXPATHS];
	const char *paths[MAXPATHS];
	size_t lens[MAXPATHS], n = 0;
	struct diffcheck dc = { 0, 5 };
	size_t rlen = nul ? (size_t)(nul - d) : size;

	for (p = nul ? nul + 1 : end; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		/* a usable path: no empty, "." or ".." component, no NUL */
		bool ok = len > 0 && !memchr(p, 0, len);
		for (size_t s = 0, k = 0; ok && k <= len; k++)
			if (k == len || p[k] == '/') {
				size_t cl = k - s;
				ok = cl > 0 && !(cl == 1 && p[s] == '.') && !(cl == 2 && p[s] == '.' && p[s + 1] == '.');
				s = k + 1;
			}
		if (ok) {
			for (size_t k = 0; k < len; k++)
				if (p[k] == '/')
					add(v, &n, p, k);
			add(v, &n, p, len);
		}
		p += len + 1;
	}
	qsort(v, n, sizeof(v[0]), ent_cmp);
	for (size_t i = 0; i < n; i++) {
		paths[i] = v[i].p;
		lens[i] = v[i].n;
	}
	diffcheck_run(&dc, d, rlen, paths, lens, n, CTXPACK_BUILDER_BUILDKIT);
	diffcheck_run(&dc, d, rlen, paths, lens, n, CTXPACK_BUILDER_CLASSIC);
	if (dc.failures)
		abort();
	return 0;
}
