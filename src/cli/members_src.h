/* members_src.h: a context's members from whatever names it on the
 * command line — a directory (walked with the rules and hashed), a tar
 * (any format and compression), a manifest, or '-' (a tar or a manifest
 * on stdin).  Shared by digest, manifest and diff. */
#ifndef CTXPACK_CLI_MEMBERS_SRC_H
#define CTXPACK_CLI_MEMBERS_SRC_H

#include <stdbool.h>
#include <stdint.h>

#include "ctxpack/ctxpack.h"
#include "members.h"
#include "progress_line.h"

struct pack_session;

struct members_src_opts {
	enum ctxpack_builder builder;
	const char *dockerfile; /* -f, for directories */
	int threads;
	bool no_cache;          /* directories: hash every file, remember nothing */
	enum progress_mode progress;
	bool quiet;
};

enum members_src_kind { SRC_DIR, SRC_TAR, SRC_MANIFEST };

/* What loading cost, for --verbose and --json. */
struct members_src_info {
	enum members_src_kind kind;
	uint64_t files_read, bytes_read; /* directories: content read */
	uint64_t cached;                 /* directories: files answered by the hash cache */
	bool cache_used;
	struct pack_session *session;    /* directories: what the list's names point into */
};

/* Loads operand into out.  each, if not NULL, takes a directory's members
 * one by one instead, with arg (out then stays empty: a digest needs no
 * list).
 * Prints the error (naming operand) and returns -errno on failure.
 * Release with members_src_release in every case. */
int members_src_load(const char *operand, const struct members_src_opts *o, struct member_list *out,
		     struct members_src_info *info,
		     int (*each)(void *arg, const struct member *m), void *arg);
void members_src_release(struct member_list *l, struct members_src_info *info);

/* Option ids shared by the three commands (>= 256, see opts.h). */
enum {
	SRC_OPT_NO_CACHE = 300,
};

/* Handles -f, --builder, -j, --no-cache, --progress and -q into o (-f,
 * --builder, -j and --progress through common_opt, commands.h).  Returns 1 when id is not
 * one of them, 0 when handled, -1 on a usage error. */
int members_src_opt(int id, const char *arg, struct members_src_opts *o);

#endif
