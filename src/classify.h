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

/* The kind of the directory at path (relative to the context, len bytes):
 * classify_dir of its last component, except in Yarn's .yarn directory,
 * where only cache/ and unplugged/ are a cache (releases/ and plugins/ are
 * committed and needed by the build: yarn runs .yarn/releases/yarn-*.cjs),
 * and .yarn itself is nothing. */
enum classify_kind classify_path(const char *path, size_t len);

/* A rule written defensively, common in .dockerignore templates
 * (.idea, .DS_Store, node_modules, *.log, __pycache__, dist/...): when
 * it matches nothing in a tree it is harmless, not a mistake.  pat is the
 * rule's pattern without its '!'. */
int classify_defensive_rule(const char *pat, size_t len);

/* A rule that excludes files by their type wherever it is written for:
 * '*' and a literal suffix (*.log, *.tar.gz, *~), also after a
 * leading "**" component.  A dead one
 * guards against files that come and go (defensive); the paths one leaves
 * out of a copied directory are meant to be left out. */
int classify_type_rule(const char *pat, size_t len);

/* A child of a "vendor" directory that a package manager's install
 * leaves there (Composer's autoload.php and composer/, Bundler's
 * bundle/): without one, vendor/ holds committed sources (Go's modules,
 * hand-vendored packages) that the build compiles. */
int classify_vendor_installed(const char *name, size_t len);

/* "vcs", "dependencies", "cache", "build-output", or "" for KIND_NONE. */
const char *classify_kind_name(enum classify_kind k);

#endif
