/* fuzz_ignore.c: fuzz target for the .dockerignore reader, through the
 * public API only.  The input is the bytes of an ignore file.  They are
 * read as the context's .dockerignore and as BuildKit's
 * <Dockerfile>.dockerignore, every rule is queried back and checked
 * against what the reader promises (source, ascending lines, a cleaned
 * pattern), the classic builder's forced re-inclusions are appended, the
 * rules are compiled for both builders and a fixed tree is decided entry
 * by entry.  The input is also handed over whole as one verbatim pattern.
 * Every failure must be clean: a documented errno and a message that
 * names the source.  A crash, a leak, undefined behaviour, a broken
 * promise or two sources deciding differently is a finding (abort). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "walk_order.h"
#include "ctxpack/ctxpack.h"

#define MAXDEPTH 8
#define MAXENT 48

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_ignore: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/* ---- the fixed tree, in walk order ---- */

static const char *const tree_paths[] = {
	"Dockerfile", ".dockerignore", "!x", "#c", "*", "a b", "a.txt", "a/b/c.txt",
	"a/b/d/e", "a/x.go", "a/.dockerignore", "b\\c", "b\\", "node_modules/x/index.js",
	"src/main.c", "src/\xc3\xa9", "src/\xff", "src/Dockerfile", "sub/Dockerfile",
	".git/HEAD", "x\ny", " lead", "[", "?", "\xe2\x80\xa8", "a/b/d/f/g/h",
};

struct ent {
	const char *p;
	size_t n, off;
	int depth;
	bool dir;
};

static struct ent tree[MAXENT];
static size_t ntree;

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return walk_order(x->p, x->n, y->p, y->n);
}

static void tree_add(const char *p, size_t len, bool dir)
{
	for (size_t i = 0; i < ntree; i++)
		if (tree[i].n == len && !memcmp(tree[i].p, p, len)) {
			tree[i].dir |= dir;
			return;
		}
	if (ntree == MAXENT)
		fail("tree too big", NULL);
	tree[ntree++] = (struct ent){ p, len, 0, 0, dir };
}

static void tree_init(void)
{
	if (ntree)
		return;
	for (size_t i = 0; i < sizeof(tree_paths) / sizeof(tree_paths[0]); i++) {
		const char *p = tree_paths[i];
		size_t len = strlen(p);
		for (size_t k = 0; k < len; k++)
			if (p[k] == '/')
				tree_add(p, k, true);
		tree_add(p, len, false);
	}
	qsort(tree, ntree, sizeof(tree[0]), ent_cmp);
	for (size_t i = 0; i < ntree; i++)
		for (size_t k = 0; k < tree[i].n; k++)
			if (tree[i].p[k] == '/') {
				tree[i].depth++;
				tree[i].off = k + 1;
			}
}

/* ---- checks ---- */

/* A failure's message names its source: "source:line: ..." or
 * "source: ..." (rules added with line 0), or says it ran out of memory. */
static void check_errmsg(const ctxpack_rules *r, int rc, const char *const *sources, size_t nsrc)
{
	const char *msg = ctxpack_rules_errmsg(r);

	if (!msg || !*msg)
		fail("an error without a message", NULL);
	if (rc == -ENOMEM)
		return;
	for (size_t i = 0; i < nsrc; i++) {
		size_t sl = strlen(sources[i]);
		if (!strncmp(msg, sources[i], sl) && msg[sl] == ':')
			return;
	}
	fail("the message does not name the source", msg);
}

/* A cleaned path (filepath.Clean, then one leading '/' dropped): no
 * leading or trailing '/' (but "/"), no "//", no "." component (but "."). */
static bool is_clean(const char *p, size_t n)
{
	if (n > 1 && (p[0] == '/' || p[n - 1] == '/'))
		return false;
	for (size_t s = 0, k = 0; k <= n; k++) {
		if (k < n && p[k] != '/')
			continue;
		if (k < n && k > 0 && k == s)
			return false;
		if (k - s == 1 && p[s] == '.' && n > 1)
			return false;
		s = k + 1;
	}
	return true;
}

/* What ignorefile.ReadAll makes of a line, as a property: the pattern is
 * not empty, holds no '\n', and is '!' and a cleaned path (or nothing), or
 * a cleaned path ("/!./x" reads as "!./x", an exception to Docker too). */
static void check_rule(const struct ctxpack_rule_info *ri, const char *source, int prevline)
{
	const char *p = ri->pattern;
	size_t n = ri->pattern_len;

	if (!ri->source || strcmp(ri->source, source))
		fail("rule with the wrong source", ri->source);
	if (ri->line <= prevline)
		fail("rule lines do not ascend", NULL);
	if (!p || n == 0 || p[n] != '\0')
		fail("empty or unterminated pattern", NULL);
	if (memchr(p, '\n', n))
		fail("pattern holds a newline", NULL);
	if (!(p[0] == '!' && is_clean(p + 1, n - 1)) && !is_clean(p, n))
		fail("pattern is not a cleaned path", ri->pattern);
}

/* Rules read from one buffer: every rule queried back and checked. */
static void check_rules(const ctxpack_rules *r, const char *source, size_t from)
{
	size_t n = ctxpack_rules_count(r);
	struct ctxpack_rule_info ri;
	int prev = 0;

	for (size_t i = from; i < n; i++) {
		memset(&ri, 0, sizeof(ri));
		if (ctxpack_rules_get(r, i, &ri))
			fail("ctxpack_rules_get failed below the count", NULL);
		check_rule(&ri, source, prev);
		prev = ri.line;
	}
	if (ctxpack_rules_get(r, n, &ri) != -ERANGE)
		fail("ctxpack_rules_get past the end did not say -ERANGE", NULL);
}

/* The verdicts of the fixed tree (v[i] for tree[i], -1 where the walk
 * does not get or stops), with the invariants of a decision checked. */
static void decide_tree(const ctxpack_match *m, long *v)
{
	const ctxpack_rules *r = ctxpack_match_rules(m);
	size_t nr = ctxpack_rules_count(r);
	ctxpack_mscratch *scr = NULL;
	ctxpack_mstate *root = NULL, *st[MAXDEPTH] = { 0 };
	bool pruned[MAXDEPTH] = { 0 };
	bool ok;

	for (size_t i = 0; i < ntree; i++)
		v[i] = -1;
	ok = !ctxpack_mscratch_new(&scr, m) && !ctxpack_mstate_new(&root, m);
	for (int d = 0; ok && d < MAXDEPTH; d++)
		ok = !ctxpack_mstate_new(&st[d], m);
	if (!ok)
		goto out; /* only out of memory */
	for (size_t i = 0; i < nr; i++) {
		const char *why = ctxpack_match_rule_error(m, i);
		if (why && !*why)
			fail("an empty rule error", NULL);
	}
	if (ctxpack_match_rule_error(m, nr))
		fail("a rule error past the end", NULL);
	ctxpack_match_root(m, root);
	for (size_t i = 0; i < ntree; i++) {
		const struct ent *e = &tree[i];
		struct ctxpack_decision d = { 0 };
		struct ctxpack_rule_info ri;
		bool skip = false;
		int rc;

		for (int k = 0; k < e->depth; k++)
			skip |= pruned[k];
		if (skip)
			continue;
		rc = ctxpack_match_entry(m, scr, e->depth ? st[e->depth - 1] : root, e->p, e->n,
					 e->off, e->dir ? st[e->depth] : NULL, &d);
		if (rc) {
			if (rc != -EINVAL && rc != -ENOTSUP)
				fail("ctxpack_match_entry: unexpected error", NULL);
			if (d.rule < 0 || (size_t)d.rule >= nr)
				fail("an entry error that names no rule", NULL);
			if (!ctxpack_match_rule_error(m, (size_t)d.rule))
				fail("an entry error on a rule that has no error", NULL);
			v[i] = 1000000;
			break; /* the walk stops here, as Docker does */
		}
		if (d.verdict == CTXPACK_NONE) {
			if (d.rule != -1)
				fail("no verdict but a rule", NULL);
		} else {
			if (d.rule < 0 || (size_t)d.rule >= nr || ctxpack_rules_get(r, (size_t)d.rule, &ri))
				fail("a verdict without a valid rule", NULL);
			if ((d.verdict == CTXPACK_INCLUDE) != (ri.pattern[0] == '!'))
				fail("a verdict from a rule of the other kind", ri.pattern);
		}
		if (d.verdict < CTXPACK_NONE || d.verdict > CTXPACK_INCLUDE)
			fail("an unknown verdict", NULL);
		v[i] = (long)d.verdict * 1000 + d.rule;
		if (e->dir) {
			pruned[e->depth] = d.verdict == CTXPACK_EXCLUDE && !d.descend;
			if (d.verdict != CTXPACK_EXCLUDE && !d.descend)
				fail("a directory not excluded but not entered", NULL);
		}
	}
out:
	for (int d = 0; d < MAXDEPTH; d++)
		ctxpack_mstate_free(&st[d]);
	ctxpack_mstate_free(&root);
	ctxpack_mscratch_free(&scr);
}

/* Compiles r for b; returns the compiled matcher or NULL (a clean refusal). */
static ctxpack_match *compile(ctxpack_rules *r, enum ctxpack_builder b, const char *const *sources,
			      size_t nsrc)
{
	ctxpack_match *m = NULL;
	int rc = ctxpack_match_compile(&m, r, b);

	if (rc) {
		if (m)
			fail("a failed compile left a matcher", NULL);
		if (rc != -EINVAL && rc != -ENOTSUP && rc != -ENOMEM)
			fail("ctxpack_match_compile: unexpected error", NULL);
		check_errmsg(r, rc, sources, nsrc);
		return NULL;
	}
	if (ctxpack_match_rules(m) != r)
		fail("ctxpack_match_rules is not the rules compiled", NULL);
	return m;
}

/* Reads buf as source; NULL when the reader refused it (cleanly). */
static ctxpack_rules *read_rules(const char *source, const uint8_t *buf, size_t len)
{
	ctxpack_rules *r = NULL;
	int rc;

	if (ctxpack_rules_new(&r))
		return NULL;
	rc = ctxpack_rules_add_buffer(r, source, buf, len);
	if (rc) {
		if (rc != -EINVAL && rc != -ENOMEM)
			fail("ctxpack_rules_add_buffer: unexpected error", NULL);
		check_errmsg(r, rc, &source, 1);
		ctxpack_rules_free(&r);
		if (r)
			fail("ctxpack_rules_free left the pointer", NULL);
		return NULL;
	}
	check_rules(r, source, 0);
	return r;
}

/* A line Docker's scanner cannot hold fails cleanly (once per process:
 * the fuzzer's inputs stay far below 64 KiB). */
static void check_long_line(void)
{
	static bool done;
	const char *src = "long/.dockerignore";
	ctxpack_rules *r = NULL;
	size_t n = 70000;
	char *buf;

	if (done)
		return;
	done = true;
	buf = malloc(n);
	if (!buf || ctxpack_rules_new(&r))
		fail("out of memory", NULL);
	memset(buf, 'a', n);
	memcpy(buf, "ok\n", 3);
	if (ctxpack_rules_add_buffer(r, src, buf, n) != -EINVAL)
		fail("a 70000-byte line was accepted", NULL);
	check_errmsg(r, -EINVAL, &src, 1);
	ctxpack_rules_free(&r);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const src_ctx = ".dockerignore", *const src_df = "sub/Dockerfile.dockerignore";
	static const char *const dockerfiles[] = { "Dockerfile", "sub/Dockerfile", "./src//Dockerfile",
						   NULL };
	const char *sources[] = { src_ctx, "<builder>" };
	long va[MAXENT], vb[MAXENT];
	ctxpack_rules *a, *b, *p = NULL;
	ctxpack_match *m;
	bool compiled;
	size_t n;
	int rc;

	tree_init();
	check_long_line();

	/* The context's .dockerignore and the Dockerfile's own ignore file
	 * are read alike: the same rules, the same decisions. */
	a = read_rules(src_ctx, data, size);
	b = read_rules(src_df, data, size);
	if (!a != !b)
		fail("one source refused what the other read", NULL);
	if (a) {
		struct ctxpack_rule_info ra, rb;
		if (ctxpack_rules_count(a) != ctxpack_rules_count(b))
			fail("the sources read different rule counts", NULL);
		for (size_t i = 0; i < ctxpack_rules_count(a); i++) {
			ctxpack_rules_get(a, i, &ra);
			ctxpack_rules_get(b, i, &rb);
			if (ra.line != rb.line || ra.pattern_len != rb.pattern_len ||
			    memcmp(ra.pattern, rb.pattern, ra.pattern_len))
				fail("the sources read different rules", NULL);
		}
		m = compile(a, CTXPACK_BUILDER_BUILDKIT, &src_ctx, 1);
		compiled = m != NULL;
		if (m)
			decide_tree(m, va);
		ctxpack_match_free(&m);
		m = compile(b, CTXPACK_BUILDER_BUILDKIT, &src_df, 1);
		if (compiled != (m != NULL))
			fail("one source compiled, the other did not", NULL);
		if (m) {
			decide_tree(m, vb);
			if (memcmp(va, vb, ntree * sizeof(va[0])))
				fail("the sources decide differently", NULL);
		}
		ctxpack_match_free(&m);

		/* Classic: as read, then with the docker CLI's re-inclusions. */
		m = compile(a, CTXPACK_BUILDER_CLASSIC, &src_ctx, 1);
		if (m)
			decide_tree(m, va);
		ctxpack_match_free(&m);
		n = ctxpack_rules_count(a);
		rc = ctxpack_rules_add_classic_readds(a, dockerfiles[size % 4]);
		if (rc) {
			if (rc != -ENOTSUP && rc != -ENOMEM)
				fail("ctxpack_rules_add_classic_readds: unexpected error", NULL);
			check_errmsg(a, rc, sources, 1);
		} else {
			struct ctxpack_rule_info ri;
			if (ctxpack_rules_count(a) > n + 2)
				fail("more than two re-inclusions", NULL);
			for (size_t i = n; i < ctxpack_rules_count(a); i++) {
				if (ctxpack_rules_get(a, i, &ri) || strcmp(ri.source, "<builder>") ||
				    ri.line != 0 || ri.pattern[0] != '!')
					fail("a re-inclusion that is not '!' from <builder>", NULL);
			}
			m = compile(a, CTXPACK_BUILDER_CLASSIC, sources, 2);
			if (m)
				decide_tree(m, va);
			ctxpack_match_free(&m);
		}
	}
	ctxpack_rules_free(&a);
	ctxpack_rules_free(&b);

	/* The whole input as one pattern, verbatim (any byte, NUL too). */
	if (size <= 512 && !ctxpack_rules_new(&p)) {
		const char *src = "<fuzz>";
		struct ctxpack_rule_info ri;
		if (!ctxpack_rules_add_pattern(p, src, 7, (const char *)data, size)) {
			if (ctxpack_rules_count(p) != 1 || ctxpack_rules_get(p, 0, &ri) ||
			    ri.line != 7 || strcmp(ri.source, src) || ri.pattern_len != size ||
			    (size && memcmp(ri.pattern, data, size)))
				fail("a verbatim pattern did not come back as added", NULL);
			for (int bi = 0; bi < 2; bi++) {
				m = compile(p, bi ? CTXPACK_BUILDER_CLASSIC : CTXPACK_BUILDER_BUILDKIT,
					    &src, 1);
				if (m)
					decide_tree(m, va);
				ctxpack_match_free(&m);
			}
		}
		ctxpack_rules_free(&p);
	}
	return 0;
}
