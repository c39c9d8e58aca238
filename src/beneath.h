/* beneath.h: the one opener of a file beneath the context root.
 *
 * Everything ctxpack reads from a context (the ignore files, the
 * Dockerfile when it lies inside, the tree) is opened relative to the
 * root's descriptor, opened once (dockerctx), never by a path from the
 * root's name: a root exchanged for another directory during the run
 * cannot mix the two. */
#ifndef CTXPACK_BENEATH_H
#define CTXPACK_BENEATH_H

#include <stddef.h>

/* Opens path[0..len) (NUL-terminated) below dfd without following any
 * symlink on the way (the last component: per O_NOFOLLOW / O_PATH in
 * flags): openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or, where
 * openat2 is missing or refused, one directory at a time with O_NOFOLLOW.
 * Paths of PATH_MAX bytes and more are opened a directory chunk at a
 * time.  path: plain names joined by '/' (the walk's).  Returns the
 * descriptor or -errno. */
int beneath_open(int dfd, const char *path, size_t len, int flags);

/* Opens name below dfd with every symlink resolved inside dfd, as if dfd
 * were '/' (BuildKit's view of a transfer root: RESOLVE_IN_ROOT); where
 * openat2 is missing or refused, symlinks are refused rather than
 * followed out.  Returns the descriptor or -errno. */
int beneath_open_in_root(int dfd, const char *name, int flags);

/* Behave from now on as where openat2(2) is missing (before Linux 5.6, or
 * refused by a seccomp filter).  For tests of that path. */
void beneath_disable_openat2(void);

#endif
