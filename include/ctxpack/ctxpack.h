/* ctxpack.h: the public interface of libctxpack, the Docker build-context
 * packer.
 *
 * Two layers:
 *
 * - The context (ctxpack_context_*): open a directory as the chosen builder
 *   would (ignore file, Dockerfile, rules, one walk), then explain paths,
 *   list what is sent, pack it as a tar or digest it, as `ctxpack
 *   check-ignore`, `ls`, `pack` and `digest` do:
 *     1) ctxpack_context_new(&c); optionally ctxpack_context_set_builder(),
 *        _set_dockerfile(), _set_threads(), _set_mtime(), _set_target(),
 *        _add_build_arg()
 *     2) ctxpack_context_open(c, "path/to/context")
 *     3) ctxpack_context_explain(), ctxpack_context_count() and
 *        ctxpack_context_entry(), ctxpack_context_pack(),
 *        ctxpack_context_digest(), ctxpack_context_build(),
 *        _source() and _entry_used(), in any order, any number of times
 *     4) ctxpack_context_free(&c)
 *   and build it on the Docker engine, as `ctxpack build` does:
 *   ctxpack_engine_ping(), ctxpack_engine_build().
 *
 * - The rule engine underneath (rules, match, mstate, mscratch), for
 *   callers with a walker of their own:
 *     1) ctxpack_rules_new(&r); ctxpack_rules_add_buffer(r, ".dockerignore", buf, len)
 *     2) ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT)
 *     3) per thread: ctxpack_mscratch_new(&s, m); per directory level:
 *        ctxpack_mstate_new(&st, m)
 *     4) ctxpack_match_root(m, root); then ctxpack_match_entry() for every
 *        entry, parent state first, exactly in the order a walker meets them
 *     5) ctxpack_mstate_free(&st); ctxpack_mscratch_free(&s);
 *        ctxpack_match_free(&m); ctxpack_rules_free(&r)
 *
 * Errors: every int-returning function returns 0 on success or a negative
 * errno value.  A human-readable message is kept on the handle named in the
 * function's comment.  Arguments are checked at the boundary: a NULL handle
 * or out-parameter, a NULL buffer with a length above 0, an enum value not
 * defined here, an offset past a length give -EINVAL (with no message when
 * the handle itself is NULL); getters given a NULL handle return 0, "" or
 * NULL as their comment says, and void calls do nothing.  The library
 * never prints, never exits, never reads the environment and never changes
 * signal dispositions.
 *
 * Threads: a ctxpack_match is immutable after compilation and may be shared
 * by any number of threads.  Every other handle is used by one thread at a
 * time; different handles may be used on different threads at once.  Some
 * calls start threads of their own (said where) and join them before they
 * return.
 *
 * Ownership: strings returned by getters belong to the handle they came from
 * and live as long as it does (or, where said, until a named call).
 * *_free(&p) frees the handle and sets p to NULL; passing NULL or a pointer
 * to NULL is allowed. */
#ifndef CTXPACK_CTXPACK_H
#define CTXPACK_CTXPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/** Creates an empty rule list in *out.  @return 0, -EINVAL when out is
 *  NULL, or -ENOMEM. */
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
 *   "source:line: reason" in ctxpack_rules_errmsg(); -EINVAL when r is NULL
 *   or buf is NULL with len > 0; -ENOMEM.
 */
CTXPACK_API int ctxpack_rules_add_buffer(ctxpack_rules *r, const char *source, const void *buf,
					 size_t len);
/**
 * Appends one pattern verbatim, as handed to Docker's pattern matcher (for
 * example "!Dockerfile").  line may be 0.  @return 0; -EINVAL when r is
 * NULL, pattern is NULL with len > 0 or line is negative; -ENOMEM.
 */
CTXPACK_API int ctxpack_rules_add_pattern(ctxpack_rules *r, const char *source, int line,
					  const char *pattern, size_t len);
/**
 * Appends the classic builder's forced re-inclusions: "!.dockerignore" and
 * "!<dockerfile>" when Docker's (one-level) matcher says the rules exclude
 * them, exactly as the docker CLI does.  dockerfile is the Dockerfile's path
 * relative to the context, cleaned, or NULL when it comes from stdin.
 * @return 0, -EINVAL when r is NULL, or -ENOMEM.
 */
CTXPACK_API int ctxpack_rules_add_classic_readds(ctxpack_rules *r, const char *dockerfile);
/** Number of rules (0 for a NULL r). */
CTXPACK_API size_t ctxpack_rules_count(const ctxpack_rules *r);
/** Fills *out for rule i.  @return 0, -ERANGE when i >= the count, or
 *  -EINVAL when r or out is NULL. */
CTXPACK_API int ctxpack_rules_get(const ctxpack_rules *r, size_t i, struct ctxpack_rule_info *out);
/** The message of the last failure on r ("" if none, or when r is NULL). */
CTXPACK_API const char *ctxpack_rules_errmsg(const ctxpack_rules *r);

/** The last failure on a rule list as data: what ctxpack_rules_errmsg()
 *  says, field by field, so that no caller parses "source:line: " out of
 *  the message. */
struct ctxpack_rules_error {
	int code;            /**< the negative errno the failing call returned; 0: none */
	const char *source;  /**< the file (or "<builder>") it is about; "" for none */
	int line;            /**< its line in source; 0 for none */
	long rule;           /**< the index of the rule it is about; -1 for none */
	const char *path;    /**< the path the rule was evaluated for
				  (ctxpack_rules_add_classic_readds); NULL for none */
	const char *message; /**< the whole message, as ctxpack_rules_errmsg() */
	const char *reason;  /**< the message without its "source:line: " */
};
/** The last failure on r (code 0, rule -1 and "" strings when there is
 *  none), or NULL when r is NULL.  Owned by r: valid until the next call
 *  on r that fails, or ctxpack_rules_free(). */
CTXPACK_API const struct ctxpack_rules_error *ctxpack_rules_error(const ctxpack_rules *r);

/**
 * Compiles r for builder b into *out.
 * @return 0; -EINVAL when Docker rejects a pattern up front; -ENOTSUP for a
 *   pattern Docker accepts but ctxpack cannot reproduce exactly (a Go regexp
 *   construct such as \p{Greek}); -ENOMEM.  On failure the message
 *   ("source:line: reason in 'pattern'", the pattern's control bytes, NUL
 *   and bytes that are not UTF-8 written as \xHH) is in
 *   ctxpack_rules_errmsg(r).  -EINVAL (*out NULL) as well when out or r is
 *   NULL, or b is not an enum ctxpack_builder ("unknown builder" on r).
 * @note r must outlive *out (rule info points into it).
 */
CTXPACK_API int ctxpack_match_compile(ctxpack_match **out, ctxpack_rules *r,
				      enum ctxpack_builder b);
/** Frees *m and sets it to NULL. */
CTXPACK_API void ctxpack_match_free(ctxpack_match **m);
/**
 * Why rule i cannot be evaluated (a regexp Docker cannot compile, or a
 * construct ctxpack does not reproduce: "reason: 'construct'", escaped as
 * ctxpack_rules_errmsg() is), or NULL when it can, when i is out of range
 * or m is NULL.  Owned by m.
 */
CTXPACK_API const char *ctxpack_match_rule_error(const ctxpack_match *m, size_t i);
/** The rules m was compiled from (NULL for a NULL m). */
CTXPACK_API const ctxpack_rules *ctxpack_match_rules(const ctxpack_match *m);

/** Scratch memory for one thread's queries on m (only on m).
 *  @return 0, -EINVAL when out or m is NULL, or -ENOMEM. */
CTXPACK_API int ctxpack_mscratch_new(ctxpack_mscratch **out, const ctxpack_match *m);
/** Frees *s and sets it to NULL. */
CTXPACK_API void ctxpack_mscratch_free(ctxpack_mscratch **s);
/** A directory state big enough for any state of m (only m's).
 *  @return 0, -EINVAL when out or m is NULL, or -ENOMEM. */
CTXPACK_API int ctxpack_mstate_new(ctxpack_mstate **out, const ctxpack_match *m);
/** Frees *s and sets it to NULL. */
CTXPACK_API void ctxpack_mstate_free(ctxpack_mstate **s);
/** Sets st to the state of the context root.  Does nothing when m or st
 *  is NULL, or st was made for another ctxpack_match. */
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
 *   ctxpack_match_rule_error() says why).  -EINVAL, with nothing read, as
 *   well when m, s, parent or d is NULL, path is NULL with len > 0,
 *   name_off > len, name_off is not 0 and path[name_off - 1] is not '/',
 *   or s, parent or child was made for another ctxpack_match.
 */
CTXPACK_API int ctxpack_match_entry(const ctxpack_match *m, ctxpack_mscratch *s,
				    const ctxpack_mstate *parent, const char *path, size_t len,
				    size_t name_off, ctxpack_mstate *child,
				    struct ctxpack_decision *d);

/* ---- The context: open, explain, list, pack, digest ----
 *
 * Threads: one thread at a time per ctxpack_context (no call on a context
 * may overlap another call on it, getters included); different contexts
 * are independent and may be used on different threads at once.
 * ctxpack_context_open(), _pack() and _digest() run worker threads of
 * their own and join them before they return.
 * Errors: the message of the last failure is on the context
 * (ctxpack_context_errmsg()); the functions that cannot fail on a valid
 * handle say so. */

/** A build context opened as one builder sees it.  Opaque. */
typedef struct ctxpack_context ctxpack_context;

/**
 * Creates a context handle with the defaults: BuildKit, the Dockerfile at
 * <dir>/Dockerfile, as many walker threads as online CPUs, mtimes as found.
 * Nothing is opened yet.  Free it with ctxpack_context_free().
 * @return 0, -EINVAL when out is NULL, or -ENOMEM (*out is then NULL).
 */
CTXPACK_API int ctxpack_context_new(ctxpack_context **out);
/** Frees *c (and everything its getters returned) and sets it to NULL. */
CTXPACK_API void ctxpack_context_free(ctxpack_context **c);

/*
 * Settings.  Each is read by the next ctxpack_context_open(): changing one
 * leaves a context that is already open as it is (open it again to apply).
 */

/** Which builder's semantics to reproduce.  @return 0, or -EINVAL for a
 *  value that is not an enum ctxpack_builder (message on c) or a NULL c. */
CTXPACK_API int ctxpack_context_set_builder(ctxpack_context *c, enum ctxpack_builder b);
/**
 * The Dockerfile, as `docker build -f` takes it: relative to the current
 * directory (not to the context), or absolute; NULL restores the default
 * (<dir>/Dockerfile).  It must exist when the context is opened (docker
 * build fails too).  A Dockerfile outside the context is packed under a
 * generated name (see struct ctxpack_pack_report).  path is copied.
 * @return 0, -EINVAL when c is NULL, or -ENOMEM.
 */
CTXPACK_API int ctxpack_context_set_dockerfile(ctxpack_context *c, const char *path);
/** Threads for walking and reading files: 1 to 1024, or 0 for the online
 *  CPUs (the default).  The output never depends on it.
 *  @return 0, or -EINVAL when out of range (message on c) or c is NULL. */
CTXPACK_API int ctxpack_context_set_threads(ctxpack_context *c, int threads);
/**
 * Clamps every mtime written by ctxpack_context_pack() (and digested with
 * with_mtime) to epoch seconds, as `ctxpack pack --mtime` does (the program
 * takes SOURCE_DATE_EPOCH as the default; the library reads no environment:
 * pass it here).  A negative epoch turns clamping off (the default).
 * @return 0, or -EINVAL when c is NULL.
 */
CTXPACK_API int ctxpack_context_set_mtime(ctxpack_context *c, int64_t epoch);
/**
 * The build stage whose sources ctxpack_context_source() lists, as `docker
 * build --target` names it (case-insensitive); NULL restores the default,
 * the last stage.  target is copied.  A stage the Dockerfile does not have
 * is not an error here: ctxpack_context_build() says so.
 * @return 0, -EINVAL when c is NULL, or -ENOMEM.
 */
CTXPACK_API int ctxpack_context_set_target(ctxpack_context *c, const char *target);
/**
 * Adds a build argument, as `docker build --build-arg` takes it: "K=V", or
 * "K" alone for K set to "" (the library reads no environment: pass the
 * value).  A later argument of the same name wins.  NULL removes every
 * argument added.  arg is copied.
 * @return 0, -EINVAL when c is NULL or arg is empty or starts with '='
 *   (message on c), or -ENOMEM.
 */
CTXPACK_API int ctxpack_context_add_build_arg(ctxpack_context *c, const char *arg);

/**
 * Opens dir as a build context with the current settings: finds the
 * Dockerfile and the ignore file the builder uses, reads and compiles the
 * rules, and walks the directory once (with the set number of threads),
 * deciding every entry.  Opening an open context again closes the previous
 * one first (also when the new open fails).  Entries, explanations and
 * strings returned before are invalid afterwards.
 * @return 0; -EINVAL when c or dir is NULL; -ENOENT, -ENOTDIR, -EACCES,
 *   ... when dir or the Dockerfile cannot be used; -EINVAL when the
 *   ignore file is refused (a line over 64 KiB, a FIFO or device) or a
 *   pattern Docker would fail on is evaluated during the walk; -ENOTSUP
 *   for a pattern ctxpack cannot reproduce exactly (a Go regexp construct
 *   such as \p{Greek}) that the walk evaluates; -EIO and others for an
 *   unreadable directory the builder needs; -ENOMEM.  The message, naming
 *   the path (or source:line and pattern) and the cause, is in
 *   ctxpack_context_errmsg(c).  An ignore
 *   file that lies outside the context (a .dockerignore symlink the
 *   classic builder follows) may be anyone's file: no message quotes its
 *   lines (they are named "<line N>"; ctxpack_rules_get() still gives them).
 */
CTXPACK_API int ctxpack_context_open(ctxpack_context *c, const char *dir);

/**
 * The message of the last failed call on c ("" if none, or for a NULL c).
 * Owned by c; valid until the next call on c that can fail.
 */
CTXPACK_API const char *ctxpack_context_errmsg(const ctxpack_context *c);

/** What ctxpack_context_open() found.  Strings belong to the context and
 *  live until it is opened again or freed. */
struct ctxpack_context_info {
	enum ctxpack_builder builder;
	const char *root;        /**< the context directory, canonical and absolute */
	const char *dockerfile;  /**< the Dockerfile relative to root, or NULL when
				      it is outside the context */
	const char *ignore_file; /**< the ignore file used: relative to root, or
				      as found when it lies outside (BuildKit's
				      <Dockerfile>.dockerignore); NULL for none */
	const ctxpack_rules *rules; /**< the rules read (with the classic builder's
				      additions); see ctxpack_rules_get() */
};

/** Fills *out.  @return 0, or -EINVAL when c is not open or c or out is
 *  NULL. */
CTXPACK_API int ctxpack_context_info(const ctxpack_context *c, struct ctxpack_context_info *out);

/** The explanation of one path, as `ctxpack check-ignore --json` gives it. */
struct ctxpack_explanation {
	enum ctxpack_verdict verdict; /**< what the rules say about the path */
	bool sent;        /**< the builder sends it */
	bool pruned;      /**< decided by an excluded ancestor the walk never enters
			       (rule is the ancestor's) */
	bool parent_only; /**< BuildKit: excluded, but sent as the parent directory
			       of something sent below it */
	bool forced;      /**< BuildKit: the Dockerfile, always sent (ctxpack puts
			       it in the tar); rule_info is <builder>:0:!<path> */
	bool socket_skipped; /**< classic builder: a socket, silently left out */
	long rule;        /**< index of the deciding rule in the context's rules,
			       or -1 (no rule, or forced) */
	struct ctxpack_rule_info rule_info; /**< the deciding rule (source "<builder>"
			       for rules the builder adds); all zero without one */
};

/**
 * Explains path as the builder's walk reaches it: every ancestor decided
 * first, a path below an excluded directory the walk never enters is
 * excluded by that directory's rule.  path is relative to the context
 * ('/'-separated; cleaned as Go's filepath.Clean: "./a//b/" is "a/b"), or
 * absolute below the context's root; "." is the context itself.  The path
 * need not exist: the rules decide it lexically; what exists refines it
 * (parent_only, socket_skipped), as `ctxpack check-ignore` does.
 * rule_info's strings belong to c and live until the next explain, open or
 * free on c.
 * @return 0; -EINVAL when c, path or out is NULL, c is not open, for a path
 *   outside the context, or when Docker itself would fail on this path (a
 *   pattern that is not a valid regular expression gets evaluated for it);
 *   -ENOTSUP when Docker would evaluate a pattern ctxpack cannot reproduce;
 *   -ENOMEM.  The message is in ctxpack_context_errmsg(c).
 */
CTXPACK_API int ctxpack_context_explain(ctxpack_context *c, const char *path,
					struct ctxpack_explanation *out);

/** The type of a context entry. */
enum ctxpack_entry_type {
	CTXPACK_ENTRY_FILE = 0,
	CTXPACK_ENTRY_DIR = 1,
	CTXPACK_ENTRY_SYMLINK = 2,
	CTXPACK_ENTRY_FIFO = 3,
	CTXPACK_ENTRY_CHAR = 4,   /**< character device */
	CTXPACK_ENTRY_BLOCK = 5,  /**< block device */
	CTXPACK_ENTRY_SOCKET = 6, /**< BuildKit sends a socket as an empty file */
	CTXPACK_ENTRY_HARDLINK = 7, /**< a further name of a file sent earlier
				      (link names it); the tar holds a link */
};

/** One member of the archive ctxpack_context_pack() writes. */
struct ctxpack_entry {
	const char *path;    /**< relative to the context, NUL-terminated, any bytes */
	size_t path_len;
	enum ctxpack_entry_type type;
	uint32_t mode;       /**< permission bits with setuid/setgid/sticky */
	uint64_t size;       /**< bytes of content (regular files; else 0) */
	const char *link;    /**< symlink target, or the path a hard link names; else NULL */
	bool parent_only;    /**< BuildKit: an excluded directory sent as a parent */
	bool generated;      /**< written by ctxpack, not read from the context as
				  it is: the Dockerfile from outside the context
				  under its generated name, and the .dockerignore
				  that lists that name */
};

/** The number of members the archive will hold, in order; 0 when c is not
 *  open or NULL. */
CTXPACK_API size_t ctxpack_context_count(const ctxpack_context *c);
/**
 * Fills *out for member i (0 <= i < ctxpack_context_count(c)), in archive
 * order: per directory bytewise, depth first ("a/", "a/b", "a.txt"), the
 * generated members last.  Strings belong to c and live until it is opened
 * again or freed.  No I/O.
 * @return 0, -ERANGE when i is out of range (or c is not open), or -EINVAL
 *   when c or out is NULL.
 */
CTXPACK_API int ctxpack_context_entry(const ctxpack_context *c, size_t i,
				      struct ctxpack_entry *out);

/* ---- The build: what the Dockerfile reads from the context ----
 *
 * When a context is opened, its Dockerfile is read as the builder reads it
 * (with the build arguments and the target set), and every source its
 * target reads from the context (COPY, ADD, RUN --mount=type=bind) is
 * resolved against the walk, as `ctxpack lint`, `stats` and `pack --used`
 * do.  A Dockerfile the builder refuses does not fail the open: the calls
 * below return its error. */

/** What the build reads, in total. */
struct ctxpack_build_info {
	const char *dockerfile; /**< the Dockerfile's name in messages */
	size_t sources;         /**< context sources of the target, in
				     instruction order (ctxpack_context_source()) */
	bool fails;             /**< a source fails the build (missing) */
	uint64_t used_entries;  /**< sent walk entries the build reads (files,
				     directories, symlinks followed, ...) */
	uint64_t used_files;    /**< regular files among them */
	uint64_t used_bytes;    /**< their bytes */
};

/**
 * Fills *out for the open context's build.  No I/O.
 * @return 0; -EINVAL when c or out is NULL or c is not open; when the
 *   Dockerfile cannot be used, the error of reading it: -EINVAL for one the
 *   builder refuses (a syntax error, an unknown target stage, a `# syntax=`
 *   directive naming another frontend), -ENOTSUP for one ctxpack cannot
 *   read exactly, -EFBIG or -E2BIG over a bound, -EACCES, -EIO, ... when
 *   it cannot be read, -ENOMEM.  The message ("Dockerfile:LINE: reason"
 *   when a line is concerned) is in ctxpack_context_errmsg(c); every call
 *   below fails the same way until the context is opened again.
 */
CTXPACK_API int ctxpack_context_build(ctxpack_context *c, struct ctxpack_build_info *out);

/** The instruction a build source comes from. */
enum ctxpack_source_kind {
	CTXPACK_SOURCE_COPY = 0,  /**< COPY (without --from) */
	CTXPACK_SOURCE_ADD = 1,   /**< ADD */
	CTXPACK_SOURCE_MOUNT = 2, /**< RUN --mount=type=bind (from the context) */
};

/** One source the build reads from the context. */
struct ctxpack_source {
	enum ctxpack_source_kind kind;
	int line;         /**< the instruction's first line in the Dockerfile */
	const char *path; /**< as the instruction names it, variables expanded */
	const char *resolved; /**< cleaned, relative to the context ("" for the root) */
	bool wildcard;    /**< matched as a wildcard pattern */
	bool missing;     /**< nothing the builder sends matches it */
	bool fails;       /**< the build fails on it (missing, except a BuildKit
			       wildcard whose part before the wildcard exists) */
	size_t matched;   /**< sent entries it names (a directory counts once) */
	/** missing: the path a rule excluded that holds it (the path itself, a
	 *  wildcard's first excluded match, or the excluded directory above
	 *  it), else NULL */
	const char *excluded_path;
	long rule; /**< the rule that excluded excluded_path, or -1 */
	struct ctxpack_rule_info rule_info; /**< that rule (source "<builder>" for
				rules the builder adds); all zero without one */
};

/**
 * Fills *out for source i (0 <= i < ctxpack_build_info.sources), in
 * instruction order.  Strings belong to c and live until it is opened
 * again or freed.  No I/O.
 * @return 0; -ERANGE when i is out of range; -EINVAL when c or out is NULL
 *   or c is not open; the Dockerfile's error as ctxpack_context_build().
 */
CTXPACK_API int ctxpack_context_source(ctxpack_context *c, size_t i, struct ctxpack_source *out);

/**
 * Whether the build reads member i (0 <= i < ctxpack_context_count(c), as
 * ctxpack_context_entry()): a source names it, it is sent below a
 * directory a source names, or it is a symlink followed on the way to a
 * source; the members ctxpack generates are never read.  The members it
 * sets *out for are what ctxpack_build_info's used_* count.  No I/O.
 * @return 0; -ERANGE when i is out of range; -EINVAL when c or out is NULL
 *   or c is not open; the Dockerfile's error as ctxpack_context_build().
 */
CTXPACK_API int ctxpack_context_entry_used(ctxpack_context *c, size_t i, bool *out);

/** Compression of the packed stream. */
enum ctxpack_compression {
	CTXPACK_COMPRESS_NONE = 0,
	CTXPACK_COMPRESS_GZIP = 1,
	CTXPACK_COMPRESS_ZSTD = 2,
};

/** What ctxpack_context_pack() wrote. */
struct ctxpack_pack_report {
	uint64_t entries;   /**< members written */
	uint64_t bytes;     /**< file content bytes */
	uint64_t tar_bytes; /**< the uncompressed tar stream */
	uint64_t out_bytes; /**< bytes written to fd (after compression) */
	/** The name the Dockerfile got in the archive when it lies outside the
	 *  context (pass it to `docker build -f`), else "". */
	char dockerfile_name[64];
};

/**
 * Writes the context as a tar into fd (not closed; written from its current
 * offset), exactly as the builder receives it and byte for byte as `ctxpack
 * pack` with the same settings: the same members in the same order with the
 * docker CLI's headers.  level: 0 for the codec's default, else 1-9 (gzip)
 * or a zstd level (1-22, and the negative fast levels zstd accepts); it
 * needs compression.  Files are read again for every call (with read-ahead
 * threads; zstd compresses on threads of its own).  report may be NULL.
 * When fd is a pipe whose reader goes away, the write raises SIGPIPE as any
 * write does: ignore SIGPIPE to get -EPIPE instead.
 * @return 0; -EINVAL when c is NULL or not open, or for a compression
 *   that is not an enum ctxpack_compression or a level out of its range;
 *   -EBADF when fd is negative; -EPIPE (the reader went away), -ENOSPC, -EDQUOT, -EIO when writing
 *   fails; -ESTALE when a file changed since the walk (another size, type
 *   or inode); -EACCES, -ENOENT, ... for a file that cannot be read;
 *   -ENOMEM.  After a failure that happened mid-stream the stream is left
 *   visibly incomplete (no end-of-archive blocks, cut inside a block), so
 *   that no reader takes it for a whole context.  The message, naming the
 *   path and the cause, is in ctxpack_context_errmsg(c).
 */
CTXPACK_API int ctxpack_context_pack(ctxpack_context *c, int fd, enum ctxpack_compression comp,
				     int level, struct ctxpack_pack_report *report);

/** Bytes of a digest string, with its NUL: "xxh3-128:" and 32 hex digits. */
#define CTXPACK_DIGEST_SIZE 42

/**
 * The context's digest, as `ctxpack digest` (with --with-mtime when
 * with_mtime) prints it: "xxh3-128:<32 lowercase hex digits>", one XXH3-128
 * hash over the members in order (path, type, mode, size, link target,
 * device numbers, content hash, mtime only with with_mtime).  Every sent
 * file is read and hashed (on the context's threads) the first time; the
 * hashes are kept on c, so later calls read no file again (but the
 * .dockerignore, when a Dockerfile from outside the context is added to
 * it).  No hash cache is used.
 * @return 0; -EINVAL when c or out is NULL or c is not open; -ESTALE,
 *   -EACCES, -EIO, ... when a file cannot be read as the walk saw it;
 *   -ENOMEM.  The message is in ctxpack_context_errmsg(c).
 */
CTXPACK_API int ctxpack_context_digest(ctxpack_context *c, bool with_mtime,
				       char out[CTXPACK_DIGEST_SIZE]);

/* ---- The engine: a build on the Docker Engine API ----
 *
 * A context opened with ctxpack_context_open() is built on the engine as
 * `ctxpack build` builds it: the archive ctxpack_context_pack() writes
 * (only what the build reads unless whole_context) is the body of the
 * Engine API's POST /build, with the query the docker CLI
 * sends (its imageBuildOptionsToQuery), the API version the lower of
 * ctxpack's and the engine's (GET /_ping).  unix://, tcp:// (TLS as the
 * docker CLI turns it on) and ssh:// are spoken.  What needs a
 * BuildKit session (secrets, ssh, cache export) is not available.
 *
 * The library reads no environment: the caller hands in what the docker
 * CLI reads from its own (struct ctxpack_engine_options).
 *
 * Option structs: set size to sizeof the struct as the caller's header
 * declares it (the fields after size, zero-initialised, are the defaults);
 * a later version of the library adds fields only at the end and reads no
 * field past size.
 *
 * Threads: the calls below may run on any thread; ctxpack_engine_build()
 * uses its context as every context call does (one thread at a time) and
 * runs a thread of its own for a compressed body.  The caller must ignore
 * SIGPIPE (signal(SIGPIPE, SIG_IGN)): the library changes no signal
 * disposition, and a connection the engine closes is otherwise fatal. */

/** Where the engine is, as the docker CLI finds it: host; context;
 *  docker_host; docker_context; the currentContext of
 *  <docker_config>/config.json (default <home>/.docker); the default
 *  socket unix:///var/run/docker.sock.  A context other than "default" is
 *  read from <docker_config>/contexts/meta/.  Every string may be NULL;
 *  none is kept after the call. */
struct ctxpack_engine_options {
	size_t size;                /**< sizeof(struct ctxpack_engine_options) */
	const char *host;           /**< as `docker --host`: unix://SOCKET, tcp://HOST:PORT,
				         ssh://[USER@]HOST[:PORT] */
	const char *context;        /**< as `docker --context` */
	const char *docker_host;    /**< the value of $DOCKER_HOST */
	const char *docker_context; /**< the value of $DOCKER_CONTEXT */
	const char *docker_config;  /**< the value of $DOCKER_CONFIG */
	const char *home;           /**< the value of $HOME */
	const char *tls_verify;     /**< the value of $DOCKER_TLS_VERIFY: TLS, the engine
				         verified against ca.pem */
	const char *tls;            /**< the value of $DOCKER_TLS: TLS, not verified */
	const char *cert_path;      /**< the value of $DOCKER_CERT_PATH: ca.pem, cert.pem,
				         key.pem (default the config directory) */
};

/** The engine found and asked. */
struct ctxpack_engine_info {
	char host[256];       /**< its address as given, e.g. "unix:///run/docker.sock" */
	char where[512];      /**< the address and where it was found, as messages
				   name it: "unix:///x.sock (DOCKER_HOST)" */
	char api_version[16]; /**< the API version the requests use: the lower of
				   ctxpack's and the engine's */
};

/**
 * Finds the engine as eo says (NULL: as with every field NULL) and asks it
 * (GET /_ping, 30 s at most) for its API version.  out may be NULL.  The
 * message, on failure, goes into err[0..errsz) (when err is not NULL) and
 * names where the engine was looked for and the cause.
 * @return 0; -EINVAL when eo->size is below the first version's struct or
 *   an address is malformed; -EPROTONOSUPPORT for what ctxpack does not
 *   speak (TLS, ssh:// and other schemes); -ENOENT for a context that does
 *   not exist; -ECONNREFUSED, -ENOENT, -EACCES, -ETIMEDOUT, ... when the
 *   engine cannot be reached; -EBADMSG, -EPROTO when what answers is not
 *   an engine; -ENOMEM.
 */
CTXPACK_API int ctxpack_engine_ping(const struct ctxpack_engine_options *eo,
				    struct ctxpack_engine_info *out, char *err, size_t errsz);

/** What `docker build` takes besides the context, the builder and the
 *  Dockerfile (those are the context's: ctxpack_context_set_builder(),
 *  ctxpack_context_set_dockerfile()).  Strings are read during the call
 *  only. */
struct ctxpack_build_options {
	size_t size;              /**< sizeof(struct ctxpack_build_options) */
	const char *const *tags;  /**< -t NAME[:TAG], in order (none: an untagged image) */
	size_t ntags;
	const char *const *build_args; /**< --build-arg: "K=V", or "K" alone, sent
					    without a value as the docker CLI sends
					    an unset variable (the ARG's default);
					    a later K wins.  As docker build, the
					    proxies of <docker_config>/config.json
					    add HTTP_PROXY, http_proxy and the
					    rest for the keys these do not name */
	size_t nbuild_args;
	const char *const *labels; /**< --label "K=V" ("K" alone: ""); a later K wins */
	size_t nlabels;
	const char *target;       /**< --target STAGE, or NULL */
	const char *platform;     /**< --platform os/arch[/variant], or NULL */
	const char *network;      /**< --network MODE for RUN, or NULL */
	bool no_cache;            /**< --no-cache */
	bool pull;                /**< --pull */
	bool quiet;               /**< -q: the engine sends only the image ID (and errors) */
	bool skip_unchanged;      /**< label the image ctxpack.context (the context's
				       digest, ctxpack_context_digest()) and
				       ctxpack.build (a digest of the builder, the
				       Dockerfile's name, build args, labels, target,
				       platform and network); when every tag names an
				       image carrying both, equal, send nothing
				       (skipped, its image ID).  Needs a tag; no_cache
				       and pull always build */
	const char *hash_cache;   /**< skip_unchanged: the hash cache file to read and
				       update (as `ctxpack digest` keeps one), or
				       NULL: every file is read */
	enum ctxpack_compression compression; /**< the body: none (sent with its
				       length), gzip, or zstd (the classic builder
				       only: the engine's BuildKit reads no zstd) */
	int level;                /**< as ctxpack_context_pack() takes it */
	bool whole_context;       /**< send the whole context; by default only
				       what the build reads is sent (BuildKit: what
				       it would transfer for the Dockerfile; classic:
				       what the build reads; with the directories
				       above, the Dockerfile and the ignore file), or
				       the whole context when the Dockerfile cannot
				       be read (result's whole_why says why) */
};

/** What a progress event is about. */
enum ctxpack_build_event_kind {
	CTXPACK_BUILD_TEXT = 0,  /**< a message with text to show: the classic
				      builder's output (a step, its command's
				      output), a pull's status */
	CTXPACK_BUILD_TRACE = 1, /**< BuildKit's progress (a moby.buildkit.trace
				      message, decoded), and once at the end of a
				      BuildKit build (message NULL) the logs of the
				      steps that failed */
};

/** One progress event.  Everything points into the library's memory and
 *  is valid during the callback only. */
struct ctxpack_build_event {
	enum ctxpack_build_event_kind kind;
	const char *message;  /**< the engine's JSON message as received (one
				   line, not NUL-terminated), or NULL */
	size_t message_len;
	const char *text;     /**< what to show, as `docker build --progress=plain`
				   prints it (lines ending in '\n'; may be empty
				   for a trace message that completes nothing) */
	size_t text_len;
	/* CTXPACK_BUILD_TRACE: the build so far */
	size_t steps;         /**< steps (vertexes) seen */
	size_t completed;     /**< of them, completed (cached ones included) */
	size_t cached;        /**< of them, taken from the cache */
	size_t errors;        /**< of them, failed */
	const char *failed_step;  /**< the first step that failed ("[2/2] COPY x /"),
				       NUL-terminated, or NULL */
	const char *failed_error; /**< its error, or NULL */
};

/** The progress callback: return 0 to go on, anything else to stop the
 *  build (the connection is closed, the engine cancels the build). */
typedef int (*ctxpack_build_progress_fn)(void *arg, const struct ctxpack_build_event *ev);

/** What ctxpack_engine_build() did. */
struct ctxpack_build_result {
	char image_id[128]; /**< the image built (or found unchanged), as the
				 engine names it ("sha256:<64 hex digits>"), or
				 "" when the engine sent none */
	bool skipped;       /**< skip_unchanged found the image: nothing sent */
	bool failed;        /**< the builder failed the build (its message on c) */
	uint64_t tar_bytes; /**< the uncompressed archive */
	uint64_t sent_bytes; /**< the body's bytes on the wire (the archive as
				  compressed, without the chunked framing) */
	char engine_where[512]; /**< the engine, as ctxpack_engine_info.where */
	char api_version[16];   /**< the API version spoken */
	bool only_read;         /**< the body held only what the build reads */
	char whole_why[512];    /**< when not only_read and whole_context was
				     not asked: why not (the Dockerfile could not
				     be read), else "" */
};

/**
 * Builds the open context c on the engine eo names (NULL: as with every
 * field NULL) with the options bo (NULL: the defaults), as `ctxpack build`
 * does: the same request and, byte for byte, the same body.  Progress goes
 * to fn (may be NULL) with arg, on the calling thread, as it arrives.
 * out may be NULL.  Files are read again for every call (twice with
 * skip_unchanged, once for the digest and once to send).
 * @return 0 when the engine built the image (or skip_unchanged found it);
 *   -EIO with out->failed when the builder failed it (a Dockerfile error,
 *   a failing RUN: the builder's message in ctxpack_context_errmsg(c));
 *   -ECANCELED when fn stopped it; -EINVAL when c is not open, for an
 *   option refused (bo->size or eo->size below the first version's,
 *   skip_unchanged without a tag, a tag the docker CLI would refuse
 *   (not an image name: the reason in the message), zstd with BuildKit,
 *   a compression or level out of range); the engine's errors as
 *   ctxpack_engine_ping() gives them; -ECONNREFUSED, -ENOENT, ... when the
 *   engine cannot be reached; -EIO when it refuses the request (its
 *   message quoted); -EPIPE, -ECONNRESET when it broke off; -EBADMSG for
 *   an answer that is not a message stream; -ESTALE, -EACCES, ... when a
 *   file cannot be read as the walk saw it (nothing is built: the body
 *   is cut short); -ENOMEM.  The message, naming the engine (where it was
 *   looked for) or the file and the cause, is in ctxpack_context_errmsg(c).
 */
CTXPACK_API int ctxpack_engine_build(ctxpack_context *c, const struct ctxpack_engine_options *eo,
				     const struct ctxpack_build_options *bo,
				     ctxpack_build_progress_fn fn, void *arg,
				     struct ctxpack_build_result *out);

#ifdef __cplusplus
}
#endif

#endif
