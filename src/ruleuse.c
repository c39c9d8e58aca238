/* ruleuse.c: what each ignore rule does for a walk (see ruleuse.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "internal.h"
#include "pattern.h"
#include "match.h"
#include "ruleuse.h"

/* The directory states of one path-evaluation pass, by depth. */
struct dir_stack {
	ctxpack_mstate **st;
	const struct walk_entry **dir; /* dir[i]: the directory whose state st[i] is (NULL: root) */
	size_t n, st_alloc, dir_alloc;
};

static void dir_stack_free(struct dir_stack *s)
{
	for (size_t i = 0; i < s->n; i++)
		ctxpack_mstate_free(&s->st[i]);
	free(s->st);
	free(s->dir);
}

static int dir_stack_reserve(struct dir_stack *s, const ctxpack_match *m, size_t depth)
{
	while (s->n <= depth) {
		if (GROW(s->st, s->st_alloc, s->n + 1) || GROW(s->dir, s->dir_alloc, s->n + 1))
			return -ENOMEM;
		if (ctxpack_mstate_new(&s->st[s->n], m))
			return -ENOMEM;
		s->dir[s->n++] = NULL;
	}
	return 0;
}

/* Is e's parent the directory whose state is at depth?  Entries come in
 * walk order, but one (BuildKit's forced Dockerfile below a pruned
 * directory) may come without its parents. */
static bool parent_is(const struct dir_stack *s, size_t depth, const struct walk_entry *e)
{
	const struct walk_entry *p;

	if (depth == 0)
		return true;
	p = s->dir[depth];
	return p && p->len < e->len && !memcmp(p->path, e->path, p->len) &&
	       e->path[p->len] == '/' && !memchr(e->path + p->len + 1, '/', e->len - p->len - 1);
}

/* Decided by "!.dockerignore" or "!<Dockerfile>", which the classic
 * builder adds itself: the rules the user wrote do not count there. */
static bool builder_decided(const ctxpack_rules *r, const struct walk_entry *e)
{
	struct ctxpack_rule_info ri;

	return e->rule >= 0 && ctxpack_rules_get(r, (size_t)e->rule, &ri) == 0 && ri.line == 0;
}

/* The entries of res the pattern of rule i matches on its own (with
 * Docker's per-pattern parent results) into hit[]: 1 when it matches one
 * the user's rules decide, 0 when none (or only entries the builder's
 * own rules decide: *builder_only), -1 when it cannot be told (the
 * pattern does not compile alone), -ENOMEM. */
/* Bit k of a rule's row of entries (one bit per entry: 100 rules over a
 * walk of 500k entries take 6 MB). */
static bool bit(const uint64_t *row, size_t k)
{
	return row[k / 64] >> (k % 64) & 1;
}

/* Where each entry's name starts and how deep it is: the same for every
 * rule, worked out once. */
struct entry_pos {
	size_t off;   /* the last component's offset */
	size_t depth; /* its number of '/' */
};

/* Is e below the directory d? */
static bool below(const struct walk_entry *d, const struct walk_entry *e)
{
	return e->len > d->len && e->path[d->len] == '/' && !memcmp(e->path, d->path, d->len);
}

static int rule_hits(uint64_t *hit, bool *builder_only, const struct ctxpack_rule_info *ri,
		     enum ctxpack_builder b, const ctxpack_rules *all,
		     const struct walk_result *res, const struct entry_pos *pos)
{
	const char *pat = ri->pattern;
	size_t plen = ri->pattern_len;
	ctxpack_rules *one = NULL;
	ctxpack_match *m = NULL;
	ctxpack_mscratch *sc = NULL;
	struct dir_stack ds = {0};
	int found = -1;

	*builder_only = false;
	/* An exception matches what its pattern matches. */
	if (plen && pat[0] == '!') {
		pat++;
		plen--;
	}
	if (ctxpack_rules_new(&one) ||
	    ctxpack_rules_add_pattern(one, ri->source, ri->line, pat, plen) ||
	    ctxpack_match_compile(&m, one, b) || ctxpack_mscratch_new(&sc, m) ||
	    dir_stack_reserve(&ds, m, 0))
		goto out;
	ctxpack_match_root(m, ds.st[0]);
	found = 0;
	for (size_t j = 0; j < res->n; j++) {
		const struct walk_entry *e = res->v[j];
		size_t depth = pos[j].depth, off = pos[j].off;
		struct ctxpack_decision d;
		bool dir = e->type == WT_DIR;
		if (dir_stack_reserve(&ds, m, depth + 1)) {
			found = -ENOMEM;
			break;
		}
		if (!parent_is(&ds, depth, e))
			continue;
		if (ctxpack_match_entry(m, sc, ds.st[depth], e->path, e->len, off,
					dir ? ds.st[depth + 1] : NULL, &d) < 0) {
			found = -1;
			break;
		}
		if (dir)
			ds.dir[depth + 1] = e;
		if (d.verdict != CTXPACK_NONE && builder_decided(all, e))
			*builder_only = true;
		else if (d.verdict != CTXPACK_NONE)
			found = 1, hit[j / 64] |= 1ull << (j % 64);
		/* Nothing below can match this rule: its entries (next in walk
		 * order) are not hits. */
		if (dir && match_state_settled(m, ds.st[depth + 1]))
			while (j + 1 < res->n && below(e, res->v[j + 1]))
				j++;
	}
out:
	dir_stack_free(&ds);
	ctxpack_mscratch_free(&sc);
	ctxpack_match_free(&m);
	ctxpack_rules_free(&one);
	return found;
}

/* A dead rule with a directory part ('packages/' + '*' + '/lib',
 * 'pkg/build'): 1 when that part matches a directory of the walk, so the
 * rule names something a build or a tool makes there (an output not
 * made yet on this checkout); 0 when not, -1 when it cannot be told,
 * -ENOMEM. */
static int dir_part_exists(const struct ctxpack_rule_info *ri, const char *pat, size_t plen,
			   enum ctxpack_builder b, const ctxpack_rules *all,
			   const struct walk_result *res, const struct entry_pos *pos)
{
	size_t w = (res->n + 63) / 64 ? (res->n + 63) / 64 : 1;
	struct ctxpack_rule_info dir = *ri;
	const char *slash;
	uint64_t *hit;
	bool bonly;
	int h;

	while (plen && pat[plen - 1] == '/')
		plen--;
	slash = memrchr(pat, '/', plen);
	if (!slash)
		return 0;
	dir.pattern = pat;
	dir.pattern_len = (size_t)(slash - pat);
	while (dir.pattern_len && dir.pattern[0] == '/')
		dir.pattern++, dir.pattern_len--;
	if (!dir.pattern_len || (dir.pattern_len == 2 && !memcmp(dir.pattern, "**", 2)))
		return 0;
	hit = calloc(w, sizeof(*hit));
	if (!hit)
		return -ENOMEM;
	h = rule_hits(hit, &bonly, &dir, b, all, res, pos);
	free(hit);
	return h;
}

static bool is_exception(const struct ctxpack_rule_info *ri)
{
	return ri->pattern_len && ri->pattern[0] == '!';
}

/* Does rule j match rule d's cleaned pattern read as a path (or one of
 * its directories)?  Then j matches what d could match, not only what
 * this tree holds: '**' + '/node_modules' covers 'node_modules', but
 * 'npm-debug.log*' does not cover '*.log' even where the only log is
 * npm-debug.log.  False when either does not compile alone. */
static bool pattern_covers(const struct ctxpack_rule_info *rj, const struct ctxpack_rule_info *rd)
{
	struct pattern pj, pd;
	struct re_scratch sc;
	char msg[160];
	bool covers = false;

	if (pattern_init(&pj, rj->pattern, rj->pattern_len, msg, sizeof(msg)) != PATTERN_OK)
		return false;
	if (pattern_init(&pd, rd->pattern, rd->pattern_len, msg, sizeof(msg)) != PATTERN_OK) {
		pattern_release(&pj);
		return false;
	}
	if (!re_scratch_init(&sc, pattern_prog_len(&pj))) {
		for (size_t k = 1; k <= pd.len && !covers; k++)
			if (k == pd.len || pd.text[k] == '/')
				covers = pattern_match(&pj, &sc, pd.text, k) == 1;
		re_scratch_release(&sc);
	}
	pattern_release(&pd);
	pattern_release(&pj);
	return covers;
}

/* Redundancy is reported on the rule that is subsumed: with
 * "node_modules" (line 2) and "**" + "/node_modules" (line 3), Docker's
 * matcher skips line 3 for a path line 2 already excluded, so line 2
 * decides and line 3 decides nothing; but deleting line 2 changes
 * nothing (line 3 excludes all it did), deleting line 3 loses every
 * deeper node_modules.  A rule d is redundant when a later rule j of the
 * same kind (both exclusions or both exceptions) matches every entry d
 * matches (hit(d) within hit(j)), and no rule of the other kind between
 * them matches any of those: without d, they reach j in the state they
 * had before d, and j decides them as d did. */
int rule_use_compute(struct rule_use *out, const ctxpack_rules *r, enum ctxpack_builder b,
		     const struct walk_result *res)
{
	size_t nr = ctxpack_rules_count(r), n = res->n, w = (n + 63) / 64 ? (n + 63) / 64 : 1;
	uint64_t *hits = NULL;
	bool *known = NULL, *decides = NULL, *any = NULL, *bonly = NULL;
	struct entry_pos *pos = NULL;
	int rc = -ENOMEM;

	if (nr == 0)
		return 0;
	if (nr > SIZE_MAX / sizeof(uint64_t) / w)
		return -ENOMEM;
	pos = malloc((n ? n : 1) * sizeof(*pos));
	if (!pos)
		goto out;
	for (size_t j = 0; j < n; j++) {
		const struct walk_entry *e = res->v[j];
		const char *slash = memrchr(e->path, '/', e->len);
		pos[j].off = slash ? (size_t)(slash - e->path) + 1 : 0;
		pos[j].depth = 0;
		for (size_t k = 0; k < e->len; k++)
			pos[j].depth += e->path[k] == '/';
	}
	hits = calloc(nr * w, sizeof(uint64_t));
	known = calloc(nr, sizeof(bool));
	decides = calloc(nr, sizeof(bool));
	any = calloc(nr, sizeof(bool));
	bonly = calloc(nr, sizeof(bool));
	if (!hits || !known || !decides || !any || !bonly)
		goto out;
	for (size_t j = 0; j < n; j++)
		if (res->v[j]->rule >= 0 && (size_t)res->v[j]->rule < nr)
			decides[res->v[j]->rule] = true;
	for (size_t i = 0; i < nr; i++) {
		struct ctxpack_rule_info ri;
		int h;
		out[i] = (struct rule_use){RULE_UNCHECKED, SIZE_MAX, SIZE_MAX, false, false};
		if (ctxpack_rules_get(r, i, &ri) || ri.line <= 0)
			continue;
		h = rule_hits(hits + i * w, &bonly[i], &ri, b, r, res, pos);
		if (h == -ENOMEM)
			goto out;
		known[i] = h >= 0;
		any[i] = h > 0;
	}
	/* Rules that decide: redundant when a later rule of the same kind
	 * matches all they decide. */
	for (size_t d = 0; d < nr; d++) {
		struct ctxpack_rule_info rd, rj;
		if (!known[d] || !decides[d] || ctxpack_rules_get(r, d, &rd))
			continue;
		out[d].use = RULE_DECIDES;
		for (size_t j = d + 1; j < nr && out[d].use == RULE_DECIDES; j++) {
			bool all = true;
			if (!known[j] || ctxpack_rules_get(r, j, &rj) ||
			    is_exception(&rj) != is_exception(&rd))
				continue;
			for (size_t k = 0; k < w && all; k++)
				if (hits[d * w + k] & ~hits[j * w + k])
					all = false;
			/* No rule of the other kind between them may touch what d
			 * matches: 'build', '!build/keep', 'build' sends build/keep,
			 * but without the first 'build' the last one excludes it
			 * (Docker's per-pattern parent results). */
			for (size_t k = d + 1; k < j && all; k++) {
				struct ctxpack_rule_info rk;
				if (ctxpack_rules_get(r, k, &rk) ||
				    is_exception(&rk) == is_exception(&rd))
					continue;
				if (!known[k]) {
					all = false;
					break;
				}
				for (size_t e = 0; e < w && all; e++)
					if (hits[d * w + e] & hits[k * w + e])
						all = false;
			}
			if (all && pattern_covers(&rj, &rd)) {
				out[d].use = RULE_REDUNDANT;
				out[d].by = j;
			}
		}
	}
	/* Rules that decide nothing. */
	for (size_t j = 0; j < nr; j++) {
		struct ctxpack_rule_info rj;
		bool subsumer = false;
		if (!known[j] || decides[j] || ctxpack_rules_get(r, j, &rj))
			continue;
		if (!any[j]) {
			const char *pat = rj.pattern;
			size_t plen = rj.pattern_len;
			if (plen && pat[0] == '!')
				pat++, plen--;
			if (bonly[j]) {
				out[j].use = RULE_UNCHECKED;
			} else if (classify_defensive_rule(pat, plen)) {
				out[j].use = RULE_DEFENSIVE;
			} else {
				int h = dir_part_exists(&rj, pat, plen, b, r, res, pos);
				if (h < -1)
					goto out;
				out[j].use = h > 0 ? RULE_DEFENSIVE : RULE_DEAD;
				out[j].in_existing_dir = h > 0;
			}
			continue;
		}
		out[j].shadowed = !is_exception(&rj);
		for (size_t k = 0; k < n; k++) {
			long d = res->v[k]->rule;
			struct ctxpack_rule_info rdk;
			if (!bit(hits + j * w, k))
				continue;
			/* An exclusion whose matches an earlier exclusion already
			 * excluded (and no exception took back) changes nothing. */
			if (!(d >= 0 && (size_t)d < j && !ctxpack_rules_get(r, (size_t)d, &rdk) &&
			      !is_exception(&rdk)))
				out[j].shadowed = false;
			if (out[j].entry == SIZE_MAX)
				out[j].entry = k;
			if (d >= 0 && (size_t)d < nr && out[d].use == RULE_REDUNDANT &&
			    out[d].by == j)
				subsumer = true;
		}
		/* A defensive line an earlier exclusion always beats (*.pyc
		 * after __pycache__, both at any depth) still guards what may
		 * come. */
		if (subsumer)
			out[j].use = RULE_DECIDES;
		else if (out[j].shadowed && classify_defensive_rule(rj.pattern, rj.pattern_len))
			out[j].use = RULE_DEFENSIVE;
		else
			out[j].use = RULE_OVERRIDDEN;
	}
	rc = 0;
out:
	free(pos);
	free(hits);
	free(known);
	free(decides);
	free(any);
	free(bonly);
	return rc;
}

bool rule_use_is_dead(const struct rule_use *u)
{
	return u->use == RULE_DEAD || u->use == RULE_OVERRIDDEN || u->use == RULE_REDUNDANT;
}

const char *rule_use_name(const struct rule_use *u)
{
	static const char *const names[] = {"decides",	  "dead",      "defensive",
					    "overridden", "redundant", "unchecked"};

	return names[u->use];
}
