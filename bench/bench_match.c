/* bench_match.c: matcher throughput, compiled automaton vs the reference
 * matcher, for rule sets of growing size.
 *
 * Two rule families: "literal" (plain paths such as pkg17/file3.txt, the
 * kind a generated .dockerignore lists by the thousand) and "mixed"
 * (globs, ** rules and exceptions, as hand-written files have; past the
 * first 18 each gets a number, so every rule is distinct).  The same
 * deterministic tree of paths is decided in walk order, each entry from its
 * parent's state, as a walker does.  Prints one line per (family, rules,
 * matcher) with paths per second; --iterations 1 is the smoke test.
 *
 * Without --iterations each measurement repeats the tree until it has run
 * for at least half a second (after one warm-up pass).
 *
 * usage: bench_match [--iterations N] [--paths N] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctxpack/ctxpack.h"
#include "refmatch.h"

#define MAXDEPTH 8

static uint64_t seed = 42;

static uint32_t rnd(uint32_t n)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(seed >> 33) % n;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct tree {
	char **p;
	size_t *len, n;
};

/* A tree of about `want` entries in walk order: dirs pkgN/sub/..., files. */
static void make_tree(struct tree *t, size_t want)
{
	static const char *const ext[] = { ".js", ".ts", ".txt", ".pyc", ".md", ".log", ".json" };
	size_t cap = want + 64;
	t->p = malloc(cap * sizeof(char *));
	t->len = malloc(cap * sizeof(size_t));
	t->n = 0;
	for (int pkg = 0; t->n < want; pkg++) {
		char d1[64];
		snprintf(d1, sizeof(d1), "pkg%d", pkg);
		t->p[t->n++] = strdup(d1);
		for (int sub = 0; sub < 4 && t->n < want; sub++) {
			char d2[128];
			snprintf(d2, sizeof(d2), "%s/%s", d1, sub == 0 ? "node_modules" : sub == 1 ? "src" : sub == 2 ? "build" : "test");
			t->p[t->n++] = strdup(d2);
			for (int f = 0; f < 12 && t->n < want; f++) {
				char fp[192];
				snprintf(fp, sizeof(fp), "%s/file%d%s", d2, f, ext[rnd(7)]);
				t->p[t->n++] = strdup(fp);
			}
		}
	}
	for (size_t i = 0; i < t->n; i++)
		t->len[i] = strlen(t->p[i]);
}

static char *make_rules(const char *family, int n)
{
	static const char *const mixed[] = {
		"**/node_modules", "*.log", "**/*.pyc", "build/", "!pkg1/build/keep", "**/test/**/*.snap",
		"docs", "!docs/help.md", "pkg*/tmp", ".git", "**/.DS_Store", "coverage", "*.md", "!README.md",
		"dist/**", "**/__pycache__", "pkg[0-9]/secret?", "!**/src/*.js",
	};
	size_t cap = (size_t)n * 64 + 64, k = 0;
	char *s = malloc(cap);
	for (int i = 0; i < n; i++) {
		if (!strcmp(family, "literal"))
			k += (size_t)snprintf(s + k, cap - k, "pkg%u/%s/file%u.txt\n", rnd(5000),
					      rnd(2) ? "src" : "test", rnd(12));
		else
			k += (size_t)snprintf(s + k, cap - k, "%s%.0d\n", mixed[i % 18], i / 18);
	}
	s[k] = '\0';
	return s;
}

static int depth_of(const char *p, size_t n, size_t *off)
{
	int d = 0;
	*off = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '/') {
			d++;
			*off = i + 1;
		}
	return d;
}

static double run_trie(ctxpack_match *m, const struct tree *t, int iters, size_t *excluded)
{
	ctxpack_mscratch *s;
	ctxpack_mstate *root, *st[MAXDEPTH];
	struct ctxpack_decision d;
	double t0;

	ctxpack_mscratch_new(&s, m);
	ctxpack_mstate_new(&root, m);
	for (int i = 0; i < MAXDEPTH; i++)
		ctxpack_mstate_new(&st[i], m);
	ctxpack_match_root(m, root);
	t0 = now();
	*excluded = 0;
	for (int it = 0; it < iters; it++)
		for (size_t i = 0; i < t->n; i++) {
			size_t off;
			int dep = depth_of(t->p[i], t->len[i], &off);
			ctxpack_match_entry(m, s, dep ? st[dep - 1] : root, t->p[i], t->len[i], off, st[dep], &d);
			*excluded += d.verdict == CTXPACK_EXCLUDE;
		}
	t0 = now() - t0;
	for (int i = 0; i < MAXDEPTH; i++)
		ctxpack_mstate_free(&st[i]);
	ctxpack_mstate_free(&root);
	ctxpack_mscratch_free(&s);
	return t0;
}

static double run_ref(const ctxpack_rules *r, const struct tree *t, int iters, size_t *excluded)
{
	struct refmatch ref;
	bool *info[MAXDEPTH];
	double t0;

	refmatch_init(&ref, r, true);
	for (int i = 0; i < MAXDEPTH; i++)
		info[i] = calloc(ref.n + 1, 1);
	t0 = now();
	*excluded = 0;
	for (int it = 0; it < iters; it++)
		for (size_t i = 0; i < t->n; i++) {
			size_t off;
			int dep = depth_of(t->p[i], t->len[i], &off);
			struct refinfo parent = { dep ? info[dep - 1] : NULL }, out = { info[dep] };
			long rule;
			*excluded += refmatch_entry(&ref, t->p[i], t->len[i], &parent, &out, &rule) > 0;
		}
	t0 = now() - t0;
	for (int i = 0; i < MAXDEPTH; i++)
		free(info[i]);
	refmatch_release(&ref);
	return t0;
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 10, 100, 5000 };
	static const char *const families[] = { "literal", "mixed" };
	int iters = 1;
	bool adaptive = true;
	size_t npaths = 20000;
	struct tree t;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--iterations")) {
			iters = atoi(argv[i + 1]);
			adaptive = false;
		}
		else if (!strcmp(argv[i], "--paths"))
			npaths = (size_t)atol(argv[i + 1]);
	}
	make_tree(&t, npaths);
	printf("%-8s %6s %-9s %14s %10s\n", "family", "rules", "matcher", "paths/s", "excluded");
	for (size_t f = 0; f < 2; f++)
		for (size_t k = 0; k < 3; k++) {
			char *text = make_rules(families[f], sizes[k]);
			ctxpack_rules *r;
			ctxpack_match *m;
			size_t ex_t, ex_r;
			double tt, tr;
			int ref_iters = iters / 10 ? iters / 10 : 1;

			ctxpack_rules_new(&r);
			ctxpack_rules_add_buffer(r, ".dockerignore", text, strlen(text));
			if (ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT)) {
				fprintf(stderr, "compile failed: %s\n", ctxpack_rules_errmsg(r));
				return 1;
			}
			int ti = iters, ri = ref_iters;
			if (adaptive) {
				run_trie(m, &t, 1, &ex_t); /* warm-up */
				for (ti = 1; (tt = run_trie(m, &t, ti, &ex_t)) < 0.5; ti *= 2)
					;
				for (ri = 1; (tr = run_ref(r, &t, ri, &ex_r)) < 0.5 && ri < 64; ri *= 2)
					;
			} else {
				tt = run_trie(m, &t, ti, &ex_t);
				tr = run_ref(r, &t, ri, &ex_r);
			}
			printf("%-8s %6d %-9s %14.0f %10zu\n", families[f], sizes[k], "automaton",
			       (double)t.n * ti / tt, ex_t / (size_t)ti);
			printf("%-8s %6d %-9s %14.0f %10zu\n", families[f], sizes[k], "reference",
			       (double)t.n * ri / tr, ex_r / (size_t)ri);
			if (ex_t / (size_t)ti != ex_r / (size_t)ri) {
				fprintf(stderr, "automaton and reference disagree\n");
				return 1;
			}
			ctxpack_match_free(&m);
			ctxpack_rules_free(&r);
			free(text);
		}
	for (size_t i = 0; i < t.n; i++)
		free(t.p[i]);
	free(t.p);
	free(t.len);
	return 0;
}
