/* ctxpack.h: the public interface of libctxpack, the Docker build-context
 * packer.
 *
 * Lifecycle of the rule engine:
 *   1) ctxpack_rules_new(&r); ctxpack_rules_add_buffer(r, ".dockerignore", buf, len)
 *   2) ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT)
 *   3) per thread: ctxpack_mscratch_new(&s, m); per directory level:
 *      ctxpack_mstate_new(&st, m)
 *   4) ctxpack_match_root(m, root); then ctxpack_match_entry() for every
 *      entry, parent state first, exactly in the order a walker meets them
 *   5) ctxpack_mstate_free(&st); ctxpack_mscratch_free(&s);
 *      ctxpack_match_free(&m); ctxpack_rules_free(&r)
 *
 * Errors: every int-returning function returns 0 on success or a negative
 * errno value.  A human-readable message is kept on the handle named in the
 * function's comment.  The library never prints and never exits.
 *
 * Threads: a ctxpack_match is immutable after compilation and may be shared
 * by any number of threads.  Every other handle is used by one thread at a
 * time.
 *
 * Ownership: strings returned by getters belong to the handle they came from
 * and live as long as it does.  *_free(&p) frees the handle and sets p to
 * NULL; passing NULL or a pointer to NULL is allowed. */
#ifndef CTXPACK_CTXPACK_H
#define CTXPACK_CTXPACK_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CTXPACK_API __attribute__((visibility("default")))

/** Ordered .dockerignore rules, as Docker reads them.  Opaque. */
typedef struct ctxpack_rules ctxpack_rules;
/** Rules compiled into a path-segment automaton.  Opaque, immutable. */
typedef struct ctxpack_match ctxpack_match;
/** The match state of one directory, inherited by its entries.  Opaque. */
typedef struct ctxpack_mstate ctxpack_mstate;
/** Per-thread scratch memory for queries.  Opaque. */
typedef struct ctxpack_mscratch ctxpack_mscratch;

/** Which builder's semantics to reproduce. */
enum ctxpack_builder {
	CTXPACK_BUILDER_BUILDKIT = 0, /**< docker build (BuildKit / buildx) */
	CTXPACK_BUILDER_CLASSIC = 1,  /**< DOCKER_BUILDKIT=0, docker-py */
};

/** A path's verdict under the rules. */
enum ctxpack_verdict {
	CTXPACK_NONE = 0,    /**< no rule decided: the path is sent */
	CTXPACK_EXCLUDE = 1, /**< excluded by a rule */
	CTXPACK_INCLUDE = 2, /**< re-included by a '!' rule */
};

/** Where a rule came from.  Strings belong to the ctxpack_rules handle. */
struct ctxpack_rule_info {
	const char *source;  /**< e.g. ".dockerignore" */
	int line;            /**< 1-based line in source; 0 for added rules */
	const char *pattern; /**< the pattern as read, with its '!' */
	size_t pattern_len;  /**< bytes in pattern (it may hold NUL bytes) */
};

/** Returns ctxpack's version string, e.g. "0.1.0".  Static storage. */
CTXPACK_API const char *ctxpack_version(void);

/** Creates an empty rule list in *out.  @return 0 or -ENOMEM. */
CTXPACK_API int ctxpack_rules_new(ctxpack_rules **out);
/** Frees *r and sets it to NULL. */
CTXPACK_API void ctxpack_rules_free(ctxpack_rules **r);

/**
 * Reads a .dockerignore file's bytes as Docker does (a UTF-8 BOM at the start
 * is dropped, '#' starts a comment only in column 1, lines are trimmed of
 * Unicode white space, '!' marks an exception, paths are cleaned and a
 * leading '/' dropped) and appends the rules.  source names the file in
 * messages and rule info (copied).
 * @return 0; -EINVAL when Docker refuses the file (a line over 64 KiB), with
 *   "source:line: reason" in ctxpack_rules_errmsg(); -ENOMEM.
 */
CTXPACK_API int ctxpack_rules_add_buffer(ctxpack_rules *r, const char *source, const void *buf,
					 size_t len);
/**
 * Appends one pattern verbatim, as handed to Docker's pattern matcher (for
 * example "!Dockerfile").  line may be 0.  @return 0 or -ENOMEM.
 */
CTXPACK_API int ctxpack_rules_add_pattern(ctxpack_rules *r, const char *source, int line,
					  const char *pattern, size_t len);
/**
 * Appends the classic builder's forced re-inclusions: "!.dockerignore" and
 * "!<dockerfile>" when Docker's (one-level) matcher says the rules exclude
 * them, exactly as the docker CLI does.  dockerfile is the Dockerfile's path
 * relative to the context, cleaned, or NULL when it comes from stdin.
 * @return 0 or -ENOMEM.
 */
CTXPACK_API int ctxpack_rules_add_classic_readds(ctxpack_rules *r, const char *dockerfile);
/** Number of rules. */
CTXPACK_API size_t ctxpack_rules_count(const ctxpack_rules *r);
/** Fills *out for rule i.  @return 0 or -ERANGE. */
CTXPACK_API int ctxpack_rules_get(const ctxpack_rules *r, size_t i, struct ctxpack_rule_info *out);
/** The message of the last failure on r ("" if none). */
CTXPACK_API const char *ctxpack_rules_errmsg(const ctxpack_rules *r);

/**
 * Compiles r for builder b into *out.
 * @return 0; -EINVAL when Docker rejects a pattern up front; -ENOTSUP for a
 *   pattern Docker accepts but ctxpack cannot reproduce exactly (a Go regexp
 *   construct such as \p{Greek}); -ENOMEM.  On failure the message
 *   ("source:line: reason in 'pattern'") is in ctxpack_rules_errmsg(r).
 * @note r must outlive *out (rule info points into it).
 */
CTXPACK_API int ctxpack_match_compile(ctxpack_match **out, ctxpack_rules *r,
				      enum ctxpack_builder b);
/** Frees *m and sets it to NULL. */
CTXPACK_API void ctxpack_match_free(ctxpack_match **m);
/**
 * Why rule i cannot be evaluated (a regexp Docker cannot compile, or a
 * construct ctxpack does not reproduce), or NULL when it can.  Owned by m.
 */
CTXPACK_API const char *ctxpack_match_rule_error(const ctxpack_match *m, size_t i);
/** The rules m was compiled from. */
CTXPACK_API const ctxpack_rules *ctxpack_match_rules(const ctxpack_match *m);

/** Scratch memory for one thread's queries on m.  @return 0 or -ENOMEM. */
CTXPACK_API int ctxpack_mscratch_new(ctxpack_mscratch **out, const ctxpack_match *m);
CTXPACK_API void ctxpack_mscratch_free(ctxpack_mscratch **s);
/** A directory state big enough for any state of m.  @return 0 or -ENOMEM. */
CTXPACK_API int ctxpack_mstate_new(ctxpack_mstate **out, const ctxpack_match *m);
CTXPACK_API void ctxpack_mstate_free(ctxpack_mstate **s);
/** Sets st to the state of the context root. */
CTXPACK_API void ctxpack_match_root(const ctxpack_match *m, ctxpack_mstate *st);

/** The decision for one entry. */
struct ctxpack_decision {
	enum ctxpack_verdict verdict;
	long rule;    /**< index of the deciding rule, or -1 with CTXPACK_NONE */
	bool descend; /**< directories: the walk must enter it (always true
			   unless excluded; for an excluded one, true when a rule
			   may re-include something below it) */
};

/**
 * Decides the entry path[0..len) (relative to the context, '/'-separated,
 * no trailing '/'), whose last component starts at name_off, given its
 * parent directory's state.  When the entry is a directory pass child to
 * receive its state (NULL otherwise).  No allocation.
 * @return 0; -EINVAL when Docker itself would fail on this path because a
 *   pattern that cannot compile gets evaluated, -ENOTSUP when Docker would
 *   evaluate a pattern ctxpack cannot reproduce (d->rule names the rule,
 *   ctxpack_match_rule_error() says why).
 */
CTXPACK_API int ctxpack_match_entry(const ctxpack_match *m, ctxpack_mscratch *s,
				    const ctxpack_mstate *parent, const char *path, size_t len,
				    size_t name_off, ctxpack_mstate *child,
				    struct ctxpack_decision *d);

#ifdef __cplusplus
}
#endif

#endif
