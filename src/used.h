/* used.h: what a build reads from its context.
 *
 * Takes a pack session's walk (with list_all: what is sent, and what is
 * excluded and by which rule) and the Dockerfile's context sources
 * (dockerfile_sources) and resolves each source as the builder does,
 * measured on dockerd 26.1 and buildx 0.13.1 (tests/vectors/used.jsonl):
 *  - the path is cleaned below '/' (path.Clean("/" + p)): a leading '/'
 *    names the context root and '..' cannot leave it;
 *  - a path with a wildcard (an unescaped '*', '?' or '[') is matched with
 *    Go's filepath.Match against every path of the context with as many
 *    components: '*' never crosses '/', and '**' is '*' twice (BuildKit:
 *    fsutil copy.ResolveWildcards; classic: copier.copyWithWildcards);
 *    a wildcard that matches nothing fails the classic build ("no source
 *    files were specified") and copies nothing on BuildKit, unless the
 *    components before its first wildcard are missing (lstat fails);
 *  - the classic builder refuses a path that leaves the context once
 *    cleaned ("forbidden path outside the build context");
 *  - the classic daemon removes the Dockerfile and .dockerignore from the
 *    context when the rules exclude them;
 *  - a directory names everything the builder sends below it; an excluded
 *    directory with a sent path below it is there (BuildKit sends it as
 *    their parent, the classic daemon creates it when it unpacks them);
 *  - symlinks on the way are followed inside the context (the target of a
 *    link is read relative to its directory, '..' stops at the root); a
 *    wildcard follows them only before its first wildcard component, and
 *    only on BuildKit (the classic builder matches paths as they are);
 *  - BuildKit does not see the Dockerfile when the rules exclude it (it is
 *    sent apart from the context).
 * The module knows walk results and rules, not Dockerfile syntax or
 * output: it opens nothing but, to tell that a path below an excluded
 * directory the walk did not enter exists, an O_PATH below rootfd. */
#ifndef CTXPACK_USED_H
#define CTXPACK_USED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxpack/ctxpack.h"

struct walk_entry;
struct walk_result;
struct df_source;

struct used_source {
	const struct df_source *src;
	char *path;    /* cleaned, relative to the root ("" for the root itself) */
	bool wildcard; /* matched as a wildcard */
	/* The sent entries it names, in walk order (a directory: itself, not
	 * what is below it; a symlink followed: its final target). */
	const struct walk_entry **matched;
	size_t nmatched;
	bool missing;	   /* nothing sent matches */
	bool fails;	   /* the build fails on it: missing, except a BuildKit wildcard
			    * whose part before the wildcard exists */
	bool outside;	   /* classic: it leaves the context (cleaned, it starts with "..") */
	bool base_missing; /* BuildKit wildcard: the part before the wildcard is missing */
	/* missing: the entry a rule excluded that holds the path (the path
	 * itself, a wildcard's first excluded match, or the excluded
	 * directory above it when the path exists below it), or NULL. */
	const struct walk_entry *excluded;
	/* matched directories: what the builder leaves out below them
	 * (excluded entries the walk listed), in walk order. */
	const struct walk_entry **left_out;
	size_t nleft_out;
	bool root; /* it names the context root (matched stays empty) */
	/* The symlinks followed on the way to what it names, in the order
	 * they were met (a link met again is listed again). */
	const struct walk_entry **via;
	size_t nvia, via_alloc;
};

struct used {
	struct used_source *v;
	size_t n;
	const struct walk_result *res;
	enum ctxpack_builder builder;	  /* the builder it was resolved for */
	const struct walk_entry **sorted; /* res->v: every listed entry, in walk order */
	size_t nsorted;
	const ctxpack_rules *rules;
	/* After a failed used_resolve, the only field set: the Dockerfile
	 * line of the source refused (0: none, out of memory). */
	int errline;
};

/* Resolves the n sources src for builder b against res (a walk with
 * report_all) of the context open as rootfd, decided by rules (the
 * context's: they tell the classic CLI's re-inclusions, line 0) (-1: nothing is opened, a path
 * below an excluded directory is then never said to exist).  out is
 * released with used_release; dfname names the Dockerfile in messages.  Returns 0, -ENOTSUP with
 * err naming the Dockerfile line for a source ctxpack cannot resolve exactly (a wildcard with a
 * backslash, a malformed character class, COPY --parents or
 * --exclude of the labs channel), or -ENOMEM. */
int used_resolve(struct used *out, const struct walk_result *res, int rootfd,
		 const ctxpack_rules *rules, const struct df_source *src, size_t n,
		 enum ctxpack_builder b, const char *dfname, char *err, size_t errsz);
void used_release(struct used *u);

/* What the build reads, marked in flags (one per u->res entry, in walk
 * order; the caller zeroes them, and may mark several resolutions of
 * the same walk into one array):
 *  USED_READ  a sent entry some source names: a matched entry, or one the
 *             builder sends below a matched directory or the named root;
 *  USED_VIA   a symlink followed on the way to a source.
 * Returns how many flags it set that were not set before.  This is the
 * one answer to "does the build read this entry" for stats, pack's used
 * set and suggest. */
#define USED_READ 0x1
#define USED_VIA 0x2
size_t used_reads(const struct used *u, uint8_t *flags);

/* Does the classic daemon remove e from the context before the build?
 * An entry the CLI sent only through the re-inclusions it appends
 * ("!.dockerignore", "!<Dockerfile>", rule line 0 of rules) is removed
 * again by the daemon when the user's rules exclude it (remotecontext's
 * removeDockerfile): no classic build step sees it. */
bool used_classic_removed(const ctxpack_rules *rules, const struct walk_entry *e);

#endif
