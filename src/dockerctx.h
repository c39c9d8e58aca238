/* dockerctx.h: a build context on disk: which ignore file applies, where the
 * Dockerfile is, and the compiled rules, per builder.
 *
 * Classic builder (docker CLI): <context>/.dockerignore read through
 * symlinks (missing = no rules, unreadable = error), the Dockerfile path
 * symlink-resolved, and the CLI's forced re-inclusions appended.
 * BuildKit: <Dockerfile>.dockerignore replaces .dockerignore when it can be
 * read; any read failure of either means no rules; nothing is forced in by
 * the rules (ctxpack adds the Dockerfile itself). */
#ifndef CTXPACK_DOCKERCTX_H
#define CTXPACK_DOCKERCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxpack/ctxpack.h"

/* The most ctxpack reads of an ignore file or a Dockerfile (Docker reads
 * both whole, without a limit; BuildKit ships the Dockerfile in one
 * message): a larger one is refused, and so is one that is not a regular
 * file (a FIFO would block the run, a device be read forever). */
#define DOCKERCTX_INPUT_MAX (16u << 20)
#define DOCKERCTX_INPUT_MAX_TEXT "16 MiB"

/* A file read whole (at most DOCKERCTX_INPUT_MAX bytes), with the header
 * fields of the fstat taken on the descriptor it was read from. */
struct dockerctx_input {
	char *data;
	size_t len;
	uint32_t mode; /* st_mode & 07777 */
	int64_t mtime; /* seconds */
	bool present;
};

struct dockerctx {
	enum ctxpack_builder builder;
	bool opened;         /* by dockerctx_open: close releases it (a zeroed struct: nothing) */
	int rootfd;          /* the context directory, opened once: everything in it is read
			      * relative to this descriptor (beneath.h), never by root's name */
	char *root;          /* the context directory, canonical absolute path (for messages) */
	char *dockerfile;    /* relative to root, cleaned; NULL when outside */
	char *dockerfile_abs; /* the Dockerfile as found (absolute) */
	char *dockerfile_link; /* BuildKit: the name given, relative to root, when it is a
				* symlink inside the context to dockerfile (sent too); else NULL */
	char *ignore_source; /* the ignore file used, relative to root or as given; NULL if none */
	bool ignore_outside; /* it lies outside root (a symlink the classic builder
			      * follows, or beside a -f outside): no message or report
			      * quotes its lines (rules_hide_text) */
	char *ignore_target; /* with ignore_outside: where it lies */
	/* BuildKit: the context's .dockerignore is there but cannot be read
	 * (its errno): BuildKit reads it as empty, so no rule applies, and
	 * pack fails when it sends it; 0 otherwise. */
	int ignore_unreadable;
	/* The context's own .dockerignore as read when the rules were loaded
	 * (when it was read: always by the classic builder, by BuildKit when
	 * it is the ignore file or the Dockerfile lies outside): pack writes
	 * the archive's .dockerignore from these bytes, never by a second read. */
	struct dockerctx_input dockerignore;
	/* The Dockerfile's content when it lies outside the context. */
	struct dockerctx_input outside_dockerfile;
	ctxpack_rules *rules;
	ctxpack_match *match;
	/* dockerctx_open_with: the bytes read in place of the ignore file
	 * the builder reads (or of a .dockerignore in the context when it
	 * reads none); NULL: the file's own.  Borrowed, not freed. */
	const char *ignore_text;
	size_t ignore_text_len;
	char errmsg[1024];
};

/* Opens the context dir with the Dockerfile given as -f (relative to the
 * current directory, as docker does; NULL for the default).  Returns 0, or
 * a negative errno with a message in ctx->errmsg. */
int dockerctx_open(struct dockerctx *ctx, const char *dir, const char *dockerfile,
		   enum ctxpack_builder builder);
/* dockerctx_open with the ignore file's content replaced by text[0..len)
 * (text != NULL): the rules are what the builder would read were the file
 * to hold these bytes (`ctxpack suggest` checks the file it would write
 * before writing it).  text must outlive ctx. */
int dockerctx_open_with(struct dockerctx *ctx, const char *dir, const char *dockerfile,
			enum ctxpack_builder builder, const char *text, size_t len);
void dockerctx_close(struct dockerctx *ctx);

/* The Dockerfile's bytes (read beneath the root, bounded as the ignore
 * files are; one outside the context: a copy of what was read at open)
 * into *data (malloc'd, free it) and *len.  Returns 0, or a negative errno
 * with a message in ctx->errmsg. */
int dockerctx_read_dockerfile(struct dockerctx *ctx, char **data, size_t *len);

/* Whether path[0..len) (relative, cleaned) is what BuildKit mode always
 * sends as the Dockerfile: ctx->dockerfile, or the symlink naming it
 * (ctx->dockerfile_link). */
bool dockerctx_is_dockerfile(const struct dockerctx *ctx, const char *path, size_t len);

/* The path p[0..len) as a path relative to the context root (absolute
 * paths must lie below root; relative ones are taken as relative to it),
 * cleaned as Docker cleans it, into *buf (grown as needed, *bufsz its
 * size; NUL-terminated).  Returns its length, 0 for the context itself,
 * -1 when it lies outside, -2 when out of memory. */
long dockerctx_relpath(const char *root, const char *p, size_t len, char **buf, size_t *bufsz);

#endif
