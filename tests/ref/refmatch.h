/* refmatch.h: the reference matcher: Docker's decision loop written out
 * literally over pattern.c's per-pattern test, with no automaton.  The
 * compiled matcher (src/match.c) must agree with it on every path. */
#ifndef CTXPACK_REFMATCH_H
#define CTXPACK_REFMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxpack/ctxpack.h"
#include "pattern.h"

struct refmatch {
	struct pattern *pats;
	size_t n;
	struct re_scratch s;
};

/* One directory's MatchInfo: parentMatched[i] per pattern. */
struct refinfo {
	bool *matched; /* NULL: the zero MatchInfo (top level) */
};

/* transport: BuildKit mode (patterns made valid UTF-8 first). */
int refmatch_init(struct refmatch *r, const ctxpack_rules *rules, bool transport);
void refmatch_release(struct refmatch *r);

/* MatchesUsingParentResults.  out->matched must hold r->n bools.  Returns
 * 1 excluded, 0 not, -1 a pattern failed to compile (Docker fails); *rule
 * gets the last rule that set the verdict (or -1). */
int refmatch_entry(struct refmatch *r, const char *path, size_t len, const struct refinfo *parent,
		   struct refinfo *out, long *rule);

/* The classic walker's literal-prefix rule for an excluded directory. */
bool refmatch_classic_descend(const struct refmatch *r, const char *dir, size_t len);

/* Whether BuildKit's walker (fsutil) enters an excluded directory. */
bool refmatch_buildkit_walks(const struct refmatch *r, const char *dir, size_t len);

#endif
