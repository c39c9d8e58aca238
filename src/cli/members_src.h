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
};

/* Loads operand into out.  Prints the error (naming operand) and returns
 * -errno on failure. */
int members_src_load(const char *operand, const struct members_src_opts *o, struct member_list *out,
		     struct members_src_info *info);

/* Option ids shared by the three commands (>= 256, see opts.h). */
enum {
	SRC_OPT_BUILDER = 300,
	SRC_OPT_NO_CACHE,
	SRC_OPT_PROGRESS,
};

/* Handles -f, --builder, -j, --no-cache, --progress and -q into o.
 * Returns 1 when id is not one of them, 0 when handled, -1 on a usage
 * error. */
int members_src_opt(int id, const char *arg, struct members_src_opts *o);

#endif
