/* test_vectors.c: runs the data-driven cases of tests/vectors/NAME.vec, one
 * cmocka test per case line, named FILE:LINE.  The kind of a file comes
 * from its name: read.vec, pattern.vec, walk.vec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctxpack/ctxpack.h"
#include "explain.h"
#include "pattern.h"

enum kind { K_READ, K_PATTERN, K_WALK };

struct vcase {
	enum kind kind;
	char name[300];
	char *f[16]; /* unescaped fields */
	size_t fl[16];
	int nf;
	enum ctxpack_builder builder;
	const char *rules; /* K_WALK: the rule block */
	size_t rules_len;
};

/* Decodes %HH and %%; returns the length. */
static size_t unescape(const char *s, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (s[i] == '%' && i + 1 < n && s[i + 1] == '%') {
			out[k++] = '%';
			i++;
		} else if (s[i] == '%' && i + 2 < n + 0 + 1 && sscanf(s + i + 1, "%2x", &v) == 1) {
			out[k++] = (char)v;
			i += 2;
		} else {
			out[k++] = s[i];
		}
	}
	return k;
}

static void split_fields(struct vcase *c, const char *line, size_t n)
{
	const char *p = line, *end = line + n;
	c->nf = 0;
	while (c->nf < 16) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		size_t len = tab ? (size_t)(tab - p) : (size_t)(end - p);
		c->f[c->nf] = malloc(len + 1);
		c->fl[c->nf] = unescape(p, len, c->f[c->nf]);
		c->f[c->nf][c->fl[c->nf]] = '\0';
		c->nf++;
		if (!tab)
			break;
		p = tab + 1;
	}
}

static bool feq(const struct vcase *c, int i, const char *s, size_t n)
{
	return c->fl[i] == n && memcmp(c->f[i], s, n) == 0;
}

static void test_read(void **state)
{
	struct vcase *c = *state;
	ctxpack_rules *r;
	int rc;

	assert_int_equal(ctxpack_rules_new(&r), 0);
	rc = ctxpack_rules_add_buffer(r, ".dockerignore", c->f[0], c->fl[0]);
	if (c->nf == 2 && strcmp(c->f[1], "error") == 0) {
		assert_int_not_equal(rc, 0);
	} else {
		assert_int_equal(rc, 0);
		assert_int_equal(ctxpack_rules_count(r), (size_t)(c->nf - 2));
		for (int i = 2; i < c->nf; i++) {
			struct ctxpack_rule_info ri;
			ctxpack_rules_get(r, (size_t)(i - 2), &ri);
			if (!feq(c, i, ri.pattern, ri.pattern_len))
				fail_msg("rule %d is '%.*s', expected '%s'", i - 2, (int)ri.pattern_len,
					 ri.pattern, c->f[i]);
		}
	}
	ctxpack_rules_free(&r);
}

static void test_pattern(void **state)
{
	struct vcase *c = *state;
	struct pattern p;
	char msg[256], got;
	int rc = pattern_init(&p, c->f[1], c->fl[1], msg, sizeof(msg));

	if (rc == PATTERN_EMPTY)
		got = '0';
	else if (rc)
		got = 'E';
	else {
		struct re_scratch s;
		assert_int_equal(re_scratch_init(&s, pattern_prog_len(&p) + 1), 0);
		rc = pattern_match(&p, &s, c->f[2], c->fl[2]);
		got = rc == -2 ? 'U' : rc < 0 ? 'L' : rc ? '1' : '0';
		re_scratch_release(&s);
		pattern_release(&p);
	}
	if (got != c->f[0][0])
		fail_msg("pattern '%s' on '%s': got %c, expected %s", c->f[1], c->f[2], got, c->f[0]);
}

static void test_walk(void **state)
{
	struct vcase *c = *state;
	ctxpack_rules *r;
	ctxpack_match *m;
	struct explainer ex;
	struct explain_result res;
	const char *want = c->f[1];
	char got[64];

	assert_int_equal(ctxpack_rules_new(&r), 0);
	assert_int_equal(ctxpack_rules_add_buffer(r, ".dockerignore", c->rules, c->rules_len), 0);
	assert_int_equal(ctxpack_match_compile(&m, r, c->builder), 0);
	assert_int_equal(explainer_init(&ex, m), 0);
	assert_int_equal(explain_path(&ex, c->f[0], c->fl[0], &res), 0);
	if (res.rule >= 0) {
		struct ctxpack_rule_info ri;
		ctxpack_rules_get(r, (size_t)res.rule, &ri);
		snprintf(got, sizeof(got), "%s %d", res.pruned ? "pruned" : res.sent ? "sent" : "excluded",
			 ri.line);
	} else {
		snprintf(got, sizeof(got), "%s -", res.sent ? "sent" : "excluded");
	}
	{
		char expect[64];
		snprintf(expect, sizeof(expect), "%s %s", want, c->nf > 2 ? c->f[2] : "-");
		if (strcmp(got, expect))
			fail_msg("%s builder, path '%s': got '%s', expected '%s'",
				 c->builder == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit", c->f[0],
				 got, expect);
	}
	explainer_release(&ex);
	ctxpack_match_free(&m);
	ctxpack_rules_free(&r);
}

static struct CMUnitTest *tests;
static size_t ntests, atests;
static char *bufs[64];
static size_t nbufs;

static void add_test(struct vcase *c, void (*fn)(void **))
{
	if (ntests == atests) {
		atests = atests ? atests * 2 : 256;
		tests = realloc(tests, atests * sizeof(*tests));
	}
	tests[ntests++] = (struct CMUnitTest){ c->name, fn, NULL, NULL, c };
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int load(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	enum kind k = strstr(base, "read") ? K_READ : strstr(base, "pattern") ? K_PATTERN : K_WALK;
	size_t len, lineno = 0;
	char *buf = slurp(path, &len), *p, *end;
	const char *block = NULL;
	size_t block_len = 0;
	int nb = 0;
	bool in_rules = false;

	if (!buf) {
		fprintf(stderr, "cannot open '%s'\n", path);
		return -1;
	}
	if (nbufs < 64)
		bufs[nbufs++] = buf;
	end = buf + len;
	for (p = buf; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = p;
		lineno++;
		p += n + 1;
		if (in_rules) {
			if (n == 3 && !memcmp(line, "end", 3)) {
				in_rules = false;
				block_len = (size_t)(line - block);
			}
			continue;
		}
		if (n == 0 || line[0] == '#' || line[0] == '@')
			continue;
		if (k == K_WALK && n > 6 && !memcmp(line, "rules ", 6)) {
			in_rules = true;
			block = p;
			nb = !memcmp(line + 6, "both", 4) ? 2 : !memcmp(line + 6, "classic", 7) ? 1 : 0;
			continue;
		}
		for (int b = 0; b < (k == K_WALK && nb == 2 ? 2 : 1); b++) {
			struct vcase *c = calloc(1, sizeof(*c));
			c->kind = k;
			split_fields(c, line, n);
			c->builder = nb == 2 ? (b ? CTXPACK_BUILDER_CLASSIC : CTXPACK_BUILDER_BUILDKIT)
					     : nb == 1 ? CTXPACK_BUILDER_CLASSIC : CTXPACK_BUILDER_BUILDKIT;
			c->rules = block;
			c->rules_len = block_len;
			snprintf(c->name, sizeof(c->name), "%s:%zu%s", base, lineno,
				 k != K_WALK ? "" : c->builder == CTXPACK_BUILDER_CLASSIC ? " classic" : " buildkit");
			add_test(c, k == K_READ ? test_read : k == K_PATTERN ? test_pattern : test_walk);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	for (int i = 1; i < argc; i++)
		if (load(argv[i]))
			return 99;

	cmocka_set_message_output(CM_OUTPUT_TAP);
	rc = _cmocka_run_group_tests("vectors", tests, ntests, NULL, NULL);
	for (size_t i = 0; i < ntests; i++) {
		struct vcase *c = tests[i].initial_state;
		for (int k = 0; k < c->nf; k++)
			free(c->f[k]);
		free(c);
	}
	free(tests);
	for (size_t i = 0; i < nbufs; i++)
		free(bufs[i]);
	return rc;
}
