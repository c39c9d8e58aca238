/* test_match_diff.c: randomized differential test of the compiled matcher
 * (src/match.c) against the reference matcher (tests/ref), over random rule
 * sets and random trees, for both builders.  Every entry's verdict and
 * deciding rule must agree; a pruned directory (buildkit) must have no
 * descendant the reference would send; the classic prune answer must equal
 * the literal-prefix rule.
 *
 * usage: test_match_diff [SEED [ROUNDS]]   (TAP output; CTXPACK_SEED and
 * CTXPACK_ROUNDS in the environment do the same) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxpack/ctxpack.h"
#include "diffcheck.h"

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* splitmix64: deterministic for a seed on every platform */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return n ? (uint32_t)(z % n) : 0;
}

static const char *const names[] = {
	"a", "b", "ab", "a.txt", "b.js", "x", ".git", "node_modules", "keep", "A", "\xc3\xa9",
	"\xff", "a\nb", "[", "*", "a b", "-", "_", "\xc3\xa4", "build", "a1", "src", "ba",
};
static const char *const tokens[] = {
	"a", "b", "ab", "a.txt", "keep", "build", "x", "node_modules", ".git", "*", "*", "?", "**",
	"[a-c]", "[^a]", "[!a]", "\\d", "\\x61", "\\*", "*.txt", "*.js", "[/]", "a**", "**a", "\\w",
	"\xc3\xa9", "\xff", "?*", "[[:alpha:]]", "\\.", "src", "^", "\\b", "[ab]*", "a?", "\\s",
	"|", "a|b", "{2}", "b{1,2}", "}", "{", "\\pL", "$", "(", "+", "\\e",
};

#define MAXP 64
#define PATHMAX 256

struct tree {
	char paths[MAXP][PATHMAX];
	size_t len[MAXP];
	size_t n;
};

static int comp_cmp(const void *a, const void *b)
{
	/* per-directory bytewise order: compare component by component */
	const unsigned char *x = a, *y = b;
	for (;;) {
		unsigned char cx = *x == '/' ? 0 : *x, cy = *y == '/' ? 0 : *y;
		if (cx != cy)
			return cx < cy ? -1 : 1;
		if (!*x)
			return 0;
		x++;
		y++;
	}
}

static bool have(const struct tree *t, const char *p)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->paths[i], p))
			return true;
	return false;
}

static void add_path(struct tree *t, const char *p)
{
	char buf[PATHMAX];
	for (size_t k = 0; p[k]; k++) {
		if (p[k] != '/')
			continue;
		memcpy(buf, p, k);
		buf[k] = '\0';
		if (!have(t, buf) && t->n < MAXP)
			strcpy(t->paths[t->n++], buf);
	}
	if (!have(t, p) && t->n < MAXP)
		strcpy(t->paths[t->n++], p);
}

static void gen_tree(struct tree *t)
{
	t->n = 0;
	for (int i = 0; i < 24 && t->n < MAXP - 4; i++) {
		char p[PATHMAX] = "";
		int depth = 1 + (int)rnd(4);
		for (int d = 0; d < depth; d++) {
			if (d)
				strcat(p, "/");
			strcat(p, names[rnd(sizeof(names) / sizeof(names[0]))]);
		}
		add_path(t, p);
	}
	qsort(t->paths, t->n, PATHMAX, comp_cmp);
	for (size_t i = 0; i < t->n; i++)
		t->len[i] = strlen(t->paths[i]);
}

static void gen_rules(char *buf, size_t cap)
{
	int nrules = 1 + (int)rnd(6);
	buf[0] = '\0';
	for (int r = 0; r < nrules; r++) {
		char line[200] = "";
		int segs = 1 + (int)rnd(3);
		if (rnd(10) < 3)
			strcat(line, "!");
		if (rnd(10) == 0)
			strcat(line, "/");
		for (int s = 0; s < segs; s++) {
			int toks = 1 + (int)(rnd(5) == 0);
			if (s)
				strcat(line, "/");
			for (int k = 0; k < toks; k++)
				strcat(line, tokens[rnd(sizeof(tokens) / sizeof(tokens[0]))]);
		}
		if (rnd(12) == 0)
			strcat(line, "/");
		if (strlen(buf) + strlen(line) + 2 < cap) {
			strcat(buf, line);
			strcat(buf, "\n");
		}
	}
}

int main(int argc, char **argv)
{
	const char *es = getenv("CTXPACK_SEED"), *er = getenv("CTXPACK_ROUNDS");
	unsigned long long seed = argc > 1 ? strtoull(argv[1], NULL, 0) : es ? strtoull(es, NULL, 0) : 20261127;
	long rounds = argc > 2 ? atol(argv[2]) : er ? atol(er) : 5000;
	struct diffcheck dc = { 0, 20 };
	static struct tree t;
	const char *paths[MAXP];
	char rules[2048];
	size_t compared = 0;

	rng_state = seed;
	printf("1..1\n# seed %llu, %ld rounds\n", seed, rounds);
	for (long i = 0; i < rounds; i++) {
		gen_tree(&t);
		gen_rules(rules, sizeof(rules));
		for (size_t k = 0; k < t.n; k++)
			paths[k] = t.paths[k];
		compared += diffcheck_run(&dc, rules, strlen(rules), paths, t.len, t.n, CTXPACK_BUILDER_BUILDKIT);
		compared += diffcheck_run(&dc, rules, strlen(rules), paths, t.len, t.n, CTXPACK_BUILDER_CLASSIC);
	}
	printf("# %zu entries compared, %d mismatches\n", compared, dc.failures);
	printf("%s 1 - compiled matcher agrees with the reference matcher\n", dc.failures ? "not ok" : "ok");
	return dc.failures ? 1 : 0;
}
