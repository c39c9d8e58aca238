/* links.h: which members go into the tar as hard links.
 *
 * Both builders write a second name of an inode as a link entry to the
 * first name sent (no data): go-archive for every non-directory, fsutil
 * for everything but symlinks (a hard link to a symlink is a second
 * symlink).  pack writes the links; stats counts the bytes they save. */
#ifndef CTXPACK_LINKS_H
#define CTXPACK_LINKS_H

#include <stddef.h>
#include <stdint.h>

#include "walk.h"

/* (dev, ino) → index of the first sent member. */
struct links {
	struct links_slot {
		uint64_t dev, ino;
		size_t idx; /* + 1; 0 = empty */
	} *v;
	size_t cap, n;
};

/* For the sent entry e at index idx, in member order: the index + 1 of the
 * earlier member e is a hard link to, or 0 (e carries its own data); -1
 * when out of memory. */
long links_first(struct links *m, const struct walk_entry *e, enum ctxpack_builder b, size_t idx);

void links_free(struct links *m);

#endif
