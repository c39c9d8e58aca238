/* explain.h: the verdict for one path as a walk would reach it.
 *
 * A walker decides every ancestor first, and never enters a directory that
 * is excluded with nothing below it to re-include: a path there is excluded
 * by the rule that excluded that directory ("pruned").  explain_path runs
 * that walk lexically for one path (no filesystem access), reusing the
 * states of the previous path's common ancestors, so explaining a whole
 * tree in walk order costs one query per path. */
#ifndef CTXPACK_EXPLAIN_H
#define CTXPACK_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxpack/ctxpack.h"

struct explain_level {
	size_t end;  /* the component ends at path[end] */
	ctxpack_mstate *state;
	struct ctxpack_decision d;
};

struct explainer {
	const ctxpack_match *m;
	ctxpack_mscratch *scratch;
	ctxpack_mstate *root;
	struct explain_level *lv;
	size_t nlv, alv;   /* levels valid for prev */
	char *prev;        /* the previous path */
	size_t prevlen, prevalloc;
};

struct explain_result {
	enum ctxpack_verdict verdict;
	long rule;      /* deciding (or pruning) rule, -1 for none */
	bool pruned;    /* decided by an excluded ancestor the walk never enters */
	bool sent;      /* the builder would send this path */
	bool descend;   /* an excluded directory the walk still enters */
	const ctxpack_mstate *state; /* the path's state (valid until the next call) */
};

int explainer_init(struct explainer *e, const ctxpack_match *m);
void explainer_release(struct explainer *e);

/* path: relative, cleaned, '/'-separated, not "." or empty.  Returns 0, or
 * -EINVAL when Docker would fail on a pattern evaluated for this path
 * (res->rule names it), -ENOMEM. */
int explain_path(struct explainer *e, const char *path, size_t len, struct explain_result *res);

struct policy_in;
/* The policy's question for a path explain_path answered with res, of the
 * given type (enum walk_type, or POLICY_TYPE_UNKNOWN), for builder b;
 * dockerfile: the path is the Dockerfile.  One translation for
 * check-ignore and the library's explain. */
void explain_policy_in(const struct explain_result *res, enum ctxpack_builder b, int type,
		       bool dockerfile, struct policy_in *out);

#endif
