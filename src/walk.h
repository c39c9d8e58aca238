/* walk.h: the parallel context walker.
 *
 * Walks a build context directory exactly as the chosen builder does and
 * returns the entries that builder sends, in the order it sends them (per
 * directory bytewise, depth first: "a/", "a/b", "a.txt").  Directories are
 * work items for a fixed set of threads; each thread reads entries with
 * openat/getdents64 and statx (or fstatat) relative to its parent's
 * descriptor with O_NOFOLLOW, never following a symlink and never reading
 * outside the context.  Every entry is decided with the compiled matcher
 * from its parent's state; an excluded directory that nothing can
 * re-include is never opened.  Results are merged and sorted into walk
 * order at the end, so the output does not depend on the thread count. */
#ifndef CTXPACK_WALK_H
#define CTXPACK_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxpack/ctxpack.h"
#include "progress.h"
#include "rules.h"

enum walk_type { WT_FILE, WT_DIR, WT_SYMLINK, WT_FIFO, WT_CHR, WT_BLK, WT_SOCK };

struct walk_entry {
	char *path;          /* relative to the root, '/'-separated, NUL-terminated */
	size_t len;
	uint8_t type;        /* enum walk_type, as found on disk */
	uint32_t mode;       /* permission bits incl. setuid/setgid/sticky (st_mode & 07777) */
	uint64_t size;       /* regular files */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	int64_t ctime_sec;   /* the status change time: with dev, ino, size and mtime, */
	uint32_t ctime_nsec; /* what the hash cache keys a file's content by */
	uint64_t dev, ino;
	uint32_t nlink;
	uint32_t uid, gid;     /* the owner (BuildKit's transfer sends them: transfer.h) */
	uint32_t rdev_major, rdev_minor;
	char *link;          /* symlink target, NULL otherwise */
	enum ctxpack_verdict verdict;
	long rule;           /* deciding rule, -1 for none */
	bool parent;         /* BuildKit: excluded, sent only as the parent of a sent entry */
	bool forced;         /* BuildKit: the Dockerfile (options), sent alone although excluded */
	bool sent;           /* the builder sends it (false only with report_all) */
};

struct walk_options {
	enum ctxpack_builder builder;
	const ctxpack_match *match;
	int threads;            /* 0: online CPUs */
	const char *dockerfile; /* buildkit: relative path always sent (alone), or NULL */
	bool report_all;        /* also list what is not sent (an excluded directory the
				   walk does not enter once, without its contents) */
	bool measure_pruned;    /* with report_all: count what is below each such
				   directory (walk_result.pruned; metadata only) */
	struct progress *progress; /* entries read are added to progress->entries; NULL */
	/* Walk only the subtree of the directory under (relative, cleaned, as
	 * the walk spells paths; NULL: the whole context), whose entry the
	 * walk reached with state under_state and verdict under_verdict (an
	 * explainer's answer for it): its entries are decided and reported as
	 * in the whole walk, under itself is not listed, and a Dockerfile
	 * elsewhere is not looked up.  The CLI's validation walk (classic) is
	 * taken not to read it.  For `check-ignore`'s question "is anything
	 * below this excluded directory sent?" */
	const char *under;
	const ctxpack_mstate *under_state;
	enum ctxpack_verdict under_verdict;
	/* When the walk fails because the matcher refused a path (a pattern
	 * Docker fails on, or one ctxpack cannot reproduce), that refusal as
	 * data (match_refusal; the caller releases it); NULL: not wanted. */
	struct rules_error *refusal;
	/* BuildKit, with dockerfile: the name the Dockerfile is given by when
	 * that is a symlink to it inside the context (relative, cleaned), also
	 * always sent: a piped `docker build -f NAME -` opens NAME and follows
	 * it inside the tar.  NULL: none. */
	const char *dockerfile_link;
};

/* What is below an excluded directory the builder never enters. */
struct walk_pruned {
	const struct walk_entry *e; /* the directory, in walk_result.v */
	uint64_t files;             /* regular files below it */
	uint64_t dirs;              /* directories below it */
	uint64_t other;             /* symlinks, FIFOs, devices, sockets */
	uint64_t bytes;             /* the regular files' sizes */
	uint64_t unreadable;        /* directories below it that could not be read */
};

struct walk_chunk;

struct walk_result {
	struct walk_entry **v; /* what the builder sends, in order (owned by the result) */
	size_t n;
	struct walk_chunk *mem; /* the strings path and link point into (internal) */
	void **owned;           /* the blocks the entries live in (internal) */
	size_t nowned;
	struct walk_pruned *pruned; /* measure_pruned: one per such directory, in walk order */
	size_t npruned;
};

/* Walks the directory open as rootfd (an O_DIRECTORY descriptor, not
 * closed).  Returns 0, or a negative errno with a message naming the path
 * and the cause in err (errsz bytes): an unreadable directory or file the
 * builder would fail on, a pattern Docker fails on (-EINVAL), a construct
 * ctxpack refuses (-ENOTSUP), -ENOMEM. */
int walk_context(struct walk_result *out, int rootfd, const struct walk_options *o, char *err,
		 size_t errsz);
void walk_result_release(struct walk_result *r);

/* Walk order, the order of walk_result.v: paths compared bytewise with
 * '/' before every byte, so a directory's contents come right after it
 * ("a", "a/b", "a.txt"), as both builders send them.  <0, 0, >0. */
int walk_order_cmp(const char *a, size_t al, const char *b, size_t bl);
/* The index of path[0..len) in res->v, or where it would go (*found
 * false); a binary search in walk order. */
size_t walk_find(const struct walk_result *res, const char *path, size_t len, bool *found);
/* Sets mark[j] to bit for every directory of res above a sent entry whose
 * mark is not zero (one mark per entry, in walk order: one pass with the
 * open directories on a stack).  0 or -ENOMEM. */
int walk_mark_parents(const struct walk_result *res, uint8_t *mark, uint8_t bit);

struct stat;
/* Fills e's type and metadata from st as the walk does (not path, link or
 * decision).  Returns 0, or -EBADMSG for a file type a context cannot hold.
 * For tools and tests that build entries by hand. */
int walk_entry_from_stat(struct walk_entry *e, const struct stat *st);

/* The type (enum walk_type) of path[0..len) below rootfd as the walk
 * would find it (lstat, opened with beneath_open: no symlink followed),
 * or -errno (-EBADMSG: a type a context cannot hold).  For the lexical
 * explainers (check-ignore, the library's explain), which ask the policy
 * about paths the walk has not read. */
int walk_type_at(int rootfd, const char *path, size_t len);

/* When a reader of a walked regular file asks walk_file_check. */
enum walk_when {
	WALK_OPENED, /* opened, before its first byte */
	WALK_READ,   /* after its last byte (and the test for its end) */
	/* after its last byte, not checked at open (a file read in one
	 * read): a change may have come before the read as well */
	WALK_READ_ONLY,
};

/* Is the file open as fd still the one the walk saw as e?  The one test
 * every reader of a walked file makes (the tar writer on every path it
 * reads by, its read-ahead, hashing), at WALK_OPENED and again at
 * WALK_READ, where got is the number of bytes read (e->size when the file
 * ended where the walk said it would; more or fewer when it did not).
 * fstat(fd) must show a regular file of e->size bytes and, for an entry
 * that came from a stat (e->ino != 0), the same device and inode, mtime
 * and ctime.  st, if not NULL, receives the fstat.  Returns 0; -ESTALE
 * with a message saying what changed: "'a' changed while it was read
 * (size: 64 MiB walked, 10 MiB now)", "(replaced: another inode)",
 * "(modified: mtime and ctime moved)", "(removed: deleted or renamed
 * over)", "(only its ctime moved: mode, owner or links changed)"; or the
 * fstat's -errno ("cannot stat 'a': ..."). */
int walk_file_check(const struct walk_entry *e, int fd, enum walk_when when, uint64_t got,
		    struct stat *st, char *err, size_t errsz);

#endif
