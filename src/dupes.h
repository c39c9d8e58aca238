/* dupes.h: sent files with identical content, and the bytes they repeat.
 *
 * Only files that share their size with another sent file can be
 * duplicates, so only those are hashed (dupes_candidates marks them); a
 * second name of the same inode is a hard link, not a copy, and is left
 * out.  Groups are files of equal size and XXH3-128. */
#ifndef CTXPACK_DUPES_H
#define CTXPACK_DUPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "walk.h"

struct dupes_group {
	uint64_t size;                 /* of each file */
	size_t n;                      /* files with this content (>= 2) */
	const struct walk_entry **v;   /* their entries, in walk order */
};

struct dupes {
	struct dupes_group *groups;    /* by repeated bytes ((n - 1) * size), largest first */
	size_t ngroups;
	uint64_t files;                /* files in any group */
	uint64_t repeated_bytes;       /* what the copies beyond the first of each group add */
	uint64_t candidates;           /* files hashed to find them */
};

/* Marks in want[0..res->n) the sent regular files (not empty, not a later
 * name of an inode already sent) whose size another such file shares.
 * Returns how many are marked. */
size_t dupes_candidates(bool *want, const struct walk_result *res);

/* Groups the marked files by (size, hash); hash_of(i) gives the hash of
 * res->v[i] (NULL: not hashed, left out).  Returns 0 or -ENOMEM. */
int dupes_find(struct dupes *d, const struct walk_result *res, const bool *want,
	       const uint8_t *(*hash_of)(const void *arg, size_t i), const void *arg);

void dupes_release(struct dupes *d);

#endif
