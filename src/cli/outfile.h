/* outfile.h: every file the program writes by name (pack -o, --manifest,
 * --stats=FILE, stats --html) is written here, by one rule:
 *
 * - A symlink is written through: its target (the last component's links
 *   followed, as open(2) would; a dangling link's target is created) is
 *   replaced and the link stays a link.
 * - A regular file, or a name that does not exist yet, is replaced
 *   atomically: the bytes go into an unnamed O_TMPFILE in the target's
 *   directory (invisible to a walk of that directory, gone by itself if
 *   the process dies), which is fsynced, linked under a temporary name and
 *   renamed over the target.  Without O_TMPFILE a named temporary file
 *   (.ctxpack-XXXXXX) is used; SIGINT, SIGTERM and SIGHUP remove it.  An
 *   existing file keeps its mode, and its owner and group where the
 *   process may set them; a new one gets 0666 minus the umask.  On failure
 *   the target is untouched and nothing is left behind.
 * - A device, a FIFO, or one of the kernel's descriptor links
 *   (/dev/stdout, /dev/fd/N, /proc/PID/fd/N: they name an open file, not a
 *   path) is written directly: our own descriptor N is duplicated (its
 *   offset and O_APPEND kept, pipes and sockets included), another
 *   process's is opened as the shell's '>' would.
 * - A directory is an error.
 *
 * Messages name the output as given: "ctxpack: cannot write 'x': CAUSE". */
#ifndef CTXPACK_CLI_OUTFILE_H
#define CTXPACK_CLI_OUTFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "opts.h"

enum outfile_kind { OUTFILE_STDOUT, OUTFILE_DIRECT, OUTFILE_REPLACE };

struct outfile {
	const char *name;          /* as given; NULL for stdout */
	enum outfile_kind kind;
	int fd;                    /* written by the caller, or through stream */
	FILE *stream;              /* outfile_stream's, or NULL */
	int err;                   /* the stream's first write error */
	bool unnamed;              /* REPLACE: an O_TMPFILE not linked yet */
	bool named;                /* REPLACE: a temporary name exists ... */
	int slot;                  /* ... in this slot of the signal handler's table */
	char path[PATH_MAX];       /* REPLACE: the file renamed over */
};

/* Opens the output named name (NULL: stdout).  Returns 0, or -1 after
 * printing why. */
int outfile_open(struct outfile *o, const char *name);
/* A stdio stream on o (the same one on each call; o must not move while
 * it is used).  Its write errors are reported by outfile_commit.  NULL
 * after printing why. */
FILE *outfile_stream(struct outfile *o);
/* Flushes and closes o; a replaced file is fsynced and renamed over its
 * target.  Returns 0, or -1 after printing why (and aborting). */
int outfile_commit(struct outfile *o);
/* Commits the n outputs of v together: every one is flushed, synced and
 * named before the first rename, so a write error (a full disk) in any of
 * them leaves every target as it was; only a failing rename (rare: the
 * directory went away) can leave the earlier ones renamed.  Returns 0,
 * or -1 after printing why (and aborting them all). */
int outfile_commit_all(struct outfile *const *v, size_t n);
/* Drops o: the target stays as it was, the temporary file is removed.
 * Prints nothing.  Harmless on an output already committed or aborted. */
void outfile_abort(struct outfile *o);

/* One output of a command, for outfile_distinct: opt is how the user gave
 * it ("-o", "--manifest"), name the file (NULL: stdout, opt then says
 * what goes there, e.g. "the archive on stdout"). */
struct outfile_use {
	const char *opt;
	const char *name;
};

/* Two outputs into one file would clobber each other: the names are
 * compared after resolving (the same device and inode when they exist,
 * the same resolved path when they do not; character devices such as
 * /dev/null take any number of outputs).  Returns 0, or -1 after printing
 * a usage error naming the first pair (exit status 2). */
int outfile_distinct(const struct command *cmd, const struct outfile_use *u, size_t n);

#endif
