/* diffcheck.c: compares the compiled matcher with the reference matcher on
 * one rule set and one tree, entry by entry, as a walk meets them (see
 * diffcheck.h).  Shared by the randomized test and the fuzz target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffcheck.h"
#include "refmatch.h"

static int isprint_c(char c)
{
	return c >= 0x20 && c < 0x7f;
}

static void print_escaped(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf(s[i] == '\n' ? "\\n" : isprint_c(s[i]) ? "%c" : "\\x%02x", (unsigned char)s[i]);
}

static void report(struct diffcheck *dc, const char *rules, size_t rlen, const char *path, size_t plen,
		   const char *what, long a, long b, enum ctxpack_builder builder)
{
	if (dc->failures++ >= dc->max_reports)
		return;
	printf("# MISMATCH (%s) builder=%s ref=%ld ctxpack=%ld path='", what,
	       builder == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit", a, b);
	print_escaped(path, plen);
	printf("' rules='");
	print_escaped(rules, rlen);
	printf("'\n");
}

size_t diffcheck_run(struct diffcheck *dc, const char *rules, size_t rlen, const char *const *paths,
		     const size_t *lens, size_t n, enum ctxpack_builder b)
{
	ctxpack_rules *r = NULL;
	ctxpack_match *m = NULL;
	ctxpack_mscratch *scr = NULL;
	ctxpack_mstate *st[DIFFCHECK_MAXDEPTH] = { 0 }, *root = NULL;
	struct refmatch ref;
	bool *info[DIFFCHECK_MAXDEPTH] = { 0 };
	struct ctxpack_decision dec[DIFFCHECK_MAXDEPTH];
	bool ref_excl[DIFFCHECK_MAXDEPTH], ref_walks[DIFFCHECK_MAXDEPTH];
	size_t compared = 0;
	bool ok = true;

	if (ctxpack_rules_new(&r) || ctxpack_rules_add_buffer(r, ".dockerignore", rules, rlen))
		goto out;
	if (ctxpack_match_compile(&m, r, b))
		goto out; /* refused up front: pattern.c decides that for both */
	if (refmatch_init(&ref, r, b == CTXPACK_BUILDER_BUILDKIT))
		goto out;
	ok = !ctxpack_mscratch_new(&scr, m) && !ctxpack_mstate_new(&root, m);
	for (int d = 0; ok && d < DIFFCHECK_MAXDEPTH; d++) {
		ok = !ctxpack_mstate_new(&st[d], m);
		info[d] = calloc(ref.n + 1, 1);
		ok = ok && info[d];
	}
	if (ok)
		ctxpack_match_root(m, root);
	for (size_t i = 0; ok && i < n; i++) {
		const char *p = paths[i];
		size_t len = lens[i], off = 0;
		int depth = 0;
		struct refinfo parent = { NULL }, outi;
		long rrule, crule;
		int rres, cres;
		bool pruned_above = false, unvisited = false;

		for (size_t k = 0; k < len; k++)
			if (p[k] == '/') {
				depth++;
				off = k + 1;
			}
		if (depth >= DIFFCHECK_MAXDEPTH)
			continue;
		if (depth) {
			parent.matched = info[depth - 1];
			for (int d = 0; d < depth; d++) {
				if (dec[d].verdict == CTXPACK_EXCLUDE && !dec[d].descend)
					pruned_above = true;
				if (ref_excl[d] && !ref_walks[d])
					unvisited = true;
			}
		}
		outi.matched = info[depth];
		rres = refmatch_entry(&ref, p, len, &parent, &outi, &rrule);
		cres = ctxpack_match_entry(m, scr, depth ? st[depth - 1] : root, p, len, off, st[depth],
					   &dec[depth]);
		crule = dec[depth].rule;
		compared++;
		if ((rres < 0) != (cres < 0)) {
			report(dc, rules, rlen, p, len, "error", rres, cres, b);
			break;
		}
		if (rres < 0) {
			if (rrule != crule)
				report(dc, rules, rlen, p, len, "error rule", rrule, crule, b);
			break;
		}
		if (rres != (dec[depth].verdict == CTXPACK_EXCLUDE) || rrule != crule)
			report(dc, rules, rlen, p, len, "verdict*1000+rule", rres * 1000 + rrule,
			       (dec[depth].verdict == CTXPACK_EXCLUDE) * 1000 + crule, b);
		ref_excl[depth] = rres;
		ref_walks[depth] = b == CTXPACK_BUILDER_BUILDKIT ? refmatch_buildkit_walks(&ref, p, len)
								 : refmatch_classic_descend(&ref, p, len);
		if (rres && b == CTXPACK_BUILDER_CLASSIC && dec[depth].descend != ref_walks[depth])
			report(dc, rules, rlen, p, len, "classic descend", ref_walks[depth],
			       dec[depth].descend, b);
		/* BuildKit: a path its walk reaches and sends must not be pruned
		 * away; a directory it never enters must not be entered. */
		if (b == CTXPACK_BUILDER_BUILDKIT && pruned_above && !rres && !unvisited)
			report(dc, rules, rlen, p, len, "pruned but sent", 0, 1, b);
		if (b == CTXPACK_BUILDER_BUILDKIT && rres && !ref_walks[depth] && dec[depth].descend)
			report(dc, rules, rlen, p, len, "entered where fsutil prunes", 0, 1, b);
	}
	for (int d = 0; d < DIFFCHECK_MAXDEPTH; d++) {
		ctxpack_mstate_free(&st[d]);
		free(info[d]);
	}
	ctxpack_mstate_free(&root);
	ctxpack_mscratch_free(&scr);
	refmatch_release(&ref);
out:
	ctxpack_match_free(&m);
	ctxpack_rules_free(&r);
	return compared;
}
