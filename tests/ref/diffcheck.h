/* diffcheck.h: compiled matcher vs reference matcher on one rule set and
 * one tree.  paths[] lists every entry of the tree in walk order (a
 * directory before its contents, bytewise per directory, every ancestor
 * present).  Mismatches are printed as TAP comments and counted. */
#ifndef CTXPACK_DIFFCHECK_H
#define CTXPACK_DIFFCHECK_H

#include <stddef.h>

#include "ctxpack/ctxpack.h"

#define DIFFCHECK_MAXDEPTH 16

struct diffcheck {
	int failures;
	int max_reports;
};

/* Returns the number of entries compared. */
size_t diffcheck_run(struct diffcheck *dc, const char *rules, size_t rlen, const char *const *paths,
		     const size_t *lens, size_t n, enum ctxpack_builder b);

#endif
