/* classify.h: what a name in a build context usually is.
 *
 * Shared by `stats` (the big directories still sent that look like
 * dependencies, caches or build output) and `lint` (the same, plus files
 * that look like secrets).  Decided from names alone; the content
 * signatures for secrets are lint's (they read the file). */
#ifndef CTXPACK_CLASSIFY_H
#define CTXPACK_CLASSIFY_H

#include <stddef.h>

enum classify_kind {
	KIND_NONE,
	KIND_VCS,	   /* .git, .hg, .svn */
	KIND_DEPENDENCIES, /* node_modules, vendor, .venv, bower_components... */
	KIND_CACHE,	   /* __pycache__, .cache, .pytest_cache, .gradle... */
	KIND_BUILD_OUTPUT, /* dist, build, target, out, .next... */
};

/* The kind of a directory named name (its last component, len bytes). */
enum classify_kind classify_dir(const char *name, size_t len);

/* "vcs", "dependencies", "cache", "build-output", or "" for KIND_NONE. */
const char *classify_kind_name(enum classify_kind k);

#endif
