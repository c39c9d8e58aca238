/* dockerfile.h: a Dockerfile read as BuildKit's Dockerfile frontend reads it
 * (moby/buildkit v0.13: frontend/dockerfile/parser, instructions, shell).
 *
 * The module knows Dockerfile syntax and the build's variables, not files:
 * it takes bytes, a name for messages and the build's options, and never
 * opens anything.  Use:
 *     1) dockerfile_new(&df)
 *     2) dockerfile_read(df, "Dockerfile", buf, len, &opts): parser
 *        directives, lines, heredocs, instructions, stages, global ARGs and
 *        FROM lines (what BuildKit does before it picks the target)
 *     3) dockerfile_stages_needed() and dockerfile_sources() for a target:
 *        the stages a build runs and what their instructions read from the
 *        build context, after variable expansion
 *     4) dockerfile_free(&df)
 * Every int-returning function returns 0 or a negative errno; the failure
 * (code, line, message "NAME:LINE: reason") stays on the handle:
 * -EINVAL for a Dockerfile BuildKit refuses, -ENOTSUP for one ctxpack cannot
 * read exactly (the construct is named), -EFBIG for input over
 * DOCKERFILE_MAX_BYTES, -E2BIG for an expansion over its bound, -ENOMEM. */
#ifndef CTXPACK_DOCKERFILE_H
#define CTXPACK_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxpack/ctxpack.h"

#define DOCKERFILE_MAX_BYTES (16u << 20) /* refused above this */
#define DOCKERFILE_MAX_WORD (1u << 20)	 /* an expanded word's bound */
#define DOCKERFILE_MAX_STAGES 4096	 /* more stages are refused (-E2BIG) */

/* The build's options.  Strings are copied by dockerfile_read. */
struct dockerfile_opts {
	/* "K=V" build arguments (--build-arg); "K" alone is K set to "".
	 * NULL-terminated array, or NULL. */
	const char *const *build_args;
	const char *target_platform; /* "os/arch[/variant]", NULL: linux/amd64 */
	const char *build_platform;  /* the same, NULL: linux/amd64 */
	/* The labs channel (docker/dockerfile:1-labs): COPY --parents,
	 * COPY/ADD --exclude, RUN --security.  The stable frontend built into
	 * dockerd 26.1 refuses them as unknown flags. */
	bool labs;
};

/* A heredoc attached to an instruction (parser.Heredoc). */
struct df_heredoc {
	char *name;    /* the delimiter word, quotes removed */
	char *content; /* the lines, each with its '\n' (raw; not chomped) */
	unsigned fd;   /* 3<<EOF: 3 */
	bool expand;   /* false when the delimiter was quoted */
	bool chomp;    /* <<-: leading tabs stripped */
};

/* RUN --mount, as parsed before expansion (BuildKit reads only from= then:
 * instructions.parseMount without an expander); dockerfile_sources()
 * parses each mount again after expansion, as dispatch does. */
struct df_mount {
	char *spec;   /* the flag's value */
	char *from;   /* from= before expansion, or NULL */
	char *type;   /* type= lowercased, before expansion ("bind" when none) */
	char *source; /* source= or src=, before expansion, or NULL */
	char *target; /* target=, dst= or destination=, before expansion, or NULL */
};

enum df_kind {
	DF_OTHER = 0, /* kept as name + args */
	DF_FROM,
	DF_ARG,
	DF_ENV,
	DF_COPY,
	DF_ADD,
	DF_RUN,
	DF_WORKDIR,
	DF_ONBUILD,
};

/* One instruction (parser.Node + what instructions.ParseInstruction
 * reads out of it).  Strings are NUL-terminated (a Dockerfile with a NUL
 * byte is refused). */
struct df_instr {
	enum df_kind kind;
	char *cmd;	/* as written, e.g. "copy" */
	char *name;	/* lowercase, e.g. "copy" */
	char *original; /* the logical line, continuations joined */
	int start_line; /* 1-based lines of the file, heredocs included */
	int end_line;
	char **flags; /* "--from=a", in order */
	size_t nflags;
	char **args; /* instructions.nodeArgs */
	size_t nargs;
	bool json; /* exec (JSON array) form */
	struct df_heredoc *heredocs;
	size_t nheredocs;
	int stage; /* the stage it belongs to; -1: a global ARG */

	/* COPY/ADD: flags and sources (parseSourcesAndDest); from is FROM's
	 * --platform for a FROM */
	char *from, *chown, *chmod, *checksum;
	bool link, keep_git_dir, parents;
	char **excludes;
	size_t nexcludes;
	char **srcs; /* sources that are paths (not heredocs), unexpanded */
	size_t nsrcs;
	char **heredoc_srcs; /* sources that are heredocs: their names */
	size_t nheredoc_srcs;
	char *dest;
	/* RUN */
	struct df_mount *mounts;
	size_t nmounts;
	char *network;
	/* ARG: keys and values (value NULL: declared without one) */
	char **arg_keys, **arg_values;
	size_t nargkv;
	/* ENV: keys and values */
	char **env_keys, **env_values;
	size_t nenv;
};

/* A build stage (instructions.Stage after its FROM is expanded). */
struct df_stage {
	char *name;	   /* lowercase "AS" name, or NULL */
	char *base_raw;	   /* FROM's image argument as written */
	char *base;	   /* expanded with the global ARGs */
	char *platform;	   /* --platform expanded, or NULL */
	int base_stage;	   /* the stage it is FROM, or -1 (an image) */
	size_t from_instr; /* index of its FROM in instrs */
	int line;	   /* the FROM's start line */
};

struct df_warning {
	int line;
	char *msg;
};

enum df_source_kind { DF_SRC_COPY, DF_SRC_ADD, DF_SRC_MOUNT };

/* One source string an instruction reads from the build context, after
 * expansion (dockerfile_sources). */
struct df_source {
	enum df_source_kind kind;
	size_t instr; /* index in instrs */
	int stage;
	int line;	 /* the instruction's start line */
	char *path;	 /* as the instruction names it, expanded */
	bool parents;	 /* COPY --parents */
	char **excludes; /* COPY/ADD --exclude patterns (shared with the instr) */
	size_t nexcludes;
};

struct df_error {
	int code; /* the negative errno returned */
	int line; /* 1-based; 0 when no line is concerned */
	char msg[512];
};

struct dockerfile {
	char *source;
	struct dockerfile_opts opts; /* strings owned */
	char **build_args;
	size_t nbuild_args;
	int escape;   /* '\\' or '`' */
	char *syntax; /* # syntax= value, or NULL */
	int syntax_line, escape_line;
	struct df_instr *instrs;
	size_t ninstrs, ainstrs;
	struct df_stage *stages;
	size_t nstages, astages;
	int *by_name; /* named stages by name, then index (findStateByName) */
	size_t nby_name;
	struct df_warning *warnings;
	size_t nwarnings, awarnings;
	/* the global scope: built-in platform ARGs, then ARGs before the
	 * first FROM (optMetaArgs), value NULL when declared without one */
	char **meta_keys, **meta_values;
	size_t nmeta, ameta;
	int nlines; /* lines in the input */
	struct df_error err;
};

/* Allocates an empty handle in *out.  @return 0, -EINVAL, -ENOMEM. */
int dockerfile_new(struct dockerfile **out);
/* Frees *df and sets it to NULL. */
void dockerfile_free(struct dockerfile **df);
/* The last failure's message ("" if none). */
const char *dockerfile_errmsg(const struct dockerfile *df);
/* The last failure (code 0 if none). */
const struct df_error *dockerfile_error(const struct dockerfile *df);

/* Reads buf[0..len) as the Dockerfile NAME (for messages) with the
 * build's options (NULL: none): parser.Parse, instructions.Parse, the
 * global ARGs and every FROM expanded as toDispatchState does.  A handle
 * is read once.  @return 0 or a negative errno (see the top). */
int dockerfile_read(struct dockerfile *df, const char *name, const void *buf, size_t len,
		    const struct dockerfile_opts *opts);

/* Which stages a build of target (a stage name, any case; NULL or "": the
 * last stage) runs.  BuildKit: the target and what it reaches through
 * FROM, COPY --from and RUN --mount from= (isReachable); classic: every
 * stage in order up to the target.  needed (nstages entries) is filled.
 * @return 0; -EINVAL for an unknown target ("target stage "x" could not be
 * found"), a bad stage index or a circular dependency. */
int dockerfile_stages_needed(struct dockerfile *df, const char *target, enum ctxpack_builder b,
			     bool *needed);

/* The sources that the stages a build of target runs read from the build
 * context, in instruction order: COPY/ADD without --from (ADD's URLs and
 * git references and heredoc sources left out) and RUN
 * --mount=type=bind without from= (source "." when none), each expanded
 * with its stage's ARGs and ENVs as BuildKit's dispatch does.  *out
 * (free with dockerfile_sources_free) gets *n entries.  @return 0 or a
 * negative errno (an expansion or mount error names the line). */
int dockerfile_sources(struct dockerfile *df, const char *target, enum ctxpack_builder b,
		       struct df_source **out, size_t *n);
void dockerfile_sources_free(struct df_source **s, size_t n);

/* A variable environment for dockerfile_shell_word: n KEY, VALUE pairs (value
 * NULL: not set). */
struct df_env {
	char **keys, **values;
	size_t n, alloc;
};
/* Sets key to value (copied; value NULL unsets it).  0 or -ENOMEM. */
int dockerfile_env_set(struct df_env *e, const char *key, const char *value);
void dockerfile_env_release(struct df_env *e);

/* shell.Lex.ProcessWord: word expanded with env, quotes removed, escape
 * the escape character ('\\' or '`').  *out is malloc'd.  On failure the
 * reason (BuildKit's words) is in err.  @return 0, -EINVAL (BuildKit
 * fails), -ENOTSUP (ctxpack cannot tell: a non-ASCII letter in a name, a
 * pattern on bytes that are not UTF-8...), -E2BIG, -ENOMEM. */
int dockerfile_shell_word(char **out, const char *word, const struct df_env *env, int escape,
			  char *err, size_t errsz);

#endif
