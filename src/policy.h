/* policy.h: what a builder sends for one entry, decided in one place.
 *
 * policy_decide is pure (no I/O, no state): it takes what the matcher
 * said about an entry, the entry's type, whether it is the Dockerfile,
 * what the walk knows of its parent and what its I/O turned up, and says
 * what the builder does: send it for itself, enter it, send it only as
 * the parent of something sent below it (BuildKit's parentDirs), leave it
 * out and why, or fail.  The walker (walk.c: do_entry, process),
 * `ctxpack check-ignore`, the library's explain (context.c) and lint ask
 * it; none decides on its own.  The cases are those of DOCKER-SEMANTICS.md
 * (A.13-15, A.23, A.26, B "Dockerfile", "Parent directories", "Types",
 * "Permissions"); tests/unit/test_policy.c tables them. */
#ifndef CTXPACK_POLICY_H
#define CTXPACK_POLICY_H

#include <stdbool.h>

#include "ctxpack/ctxpack.h"

/* A type the caller could not learn (a path check-ignore is asked about
 * that does not exist, or whose parent it cannot search): decided by the
 * rules alone, as a file. */
#define POLICY_TYPE_UNKNOWN (-1)

enum policy_parent {
	POLICY_PARENT_READ,   /* the walk read the parent directory */
	POLICY_PARENT_PRUNED, /* an ancestor is excluded and never entered */
};

/* What I/O turned up about the entry. */
enum policy_io {
	POLICY_IO_OK,
	/* stat failed with EACCES: the parent is readable but not
	 * searchable, getdents gave the name and type */
	POLICY_IO_NOSTAT,
	/* a directory the walk enters cannot be opened (EACCES, EPERM) */
	POLICY_IO_NOOPEN,
};

struct policy_in {
	enum ctxpack_builder builder;
	enum ctxpack_verdict verdict; /* the matcher's (ctxpack_decision) */
	bool descend;                 /* the matcher's: an excluded directory
					 a rule may re-include below */
	int type;                     /* enum walk_type, or POLICY_TYPE_UNKNOWN */
	bool dockerfile;              /* the Dockerfile (its path in the context) */
	enum policy_parent parent;
	bool parent_validated;        /* classic: the CLI's validation walk reads
					 the parent (policy_decision.validated) */
	enum policy_io io;
};

/* Why an entry is not sent. */
enum policy_skip {
	POLICY_SKIP_NONE,
	POLICY_SKIP_EXCLUDED,   /* the rules exclude it */
	POLICY_SKIP_PRUNED,     /* below an excluded directory the walk never enters */
	POLICY_SKIP_SOCKET,     /* classic: the docker CLI leaves sockets out */
	POLICY_SKIP_UNREADABLE, /* BuildKit: an excluded directory it cannot
				   read (fsutil skips it) */
};

struct policy_decision {
	bool sent;      /* sent for itself */
	bool forced;    /* BuildKit: the Dockerfile, sent although excluded
			   (ctxpack puts it in the tar; alone, without parents) */
	bool enter;     /* a directory the walk reads */
	bool candidate; /* BuildKit: excluded and entered: sent as the parent of
			   something sent (not forced) below it */
	bool validate;  /* classic: an excluded directory the walk does not
			   enter but the CLI's validation walk opens (it fails
			   when it cannot) */
	bool validated; /* classic: the validation walk reads this directory's
			   entries (parent_validated of its children) */
	bool check_read; /* a sent regular file: the CLI checks it can be read
			    up front (ValidateContextDirectory); ctxpack does in
			    both modes */
	bool fail;      /* the I/O failure (io) fails the build */
	enum policy_skip skip; /* why it is not sent (for itself) */
};

void policy_decide(const struct policy_in *in, struct policy_decision *out);

/* Classic builder: an entry that cannot be stat'ed fails the build before
 * any rule is asked when its parent is read by the CLI's validation walk
 * (which stats every name it reads). */
bool policy_stat_required(enum ctxpack_builder b, bool parent_validated);

/* "excluded", "pruned", "socket", "unreadable", or NULL for
 * POLICY_SKIP_NONE (check-ignore's "skipped"). */
const char *policy_skip_name(enum policy_skip s);

#endif
