/* commands.h: the subcommands and helpers they share. */
#ifndef CTXPACK_CLI_COMMANDS_H
#define CTXPACK_CLI_COMMANDS_H

#include "ctxpack/ctxpack.h"
#include "opts.h"
#include "progress_line.h"
#include "tarwriter.h"

extern const struct command check_ignore_command;
extern const struct command pack_command;
extern const struct command ls_command;
extern const struct command stats_command;
extern const struct command lint_command;
extern const struct command digest_command;
extern const struct command manifest_command;
extern const struct command diff_command;
extern const struct command suggest_command;
extern const struct command build_command;

/* After the options: at most one operand, the context directory, into
 * *dir.  Returns nonzero when the command must stop: first is -2 (help
 * shown: exit 0) or -1, or a usage error was printed (exit 2). */
int context_arg(const struct command *cmd, int argc, char **argv, int first, const char **dir);

/* Appends arg (--build-arg K=V, -t, --label ...) to the NULL-terminated
 * *v (*n entries, *alloc allocated).  Returns 0, or -1 after printing "out of memory". */
int strv_push(const char ***v, size_t *n, size_t *alloc, const char *arg);

/* --compress's "none", "gzip" or "zstd" (pack, build); prints a usage
 * error otherwise. */
int parse_compress(const char *arg, enum tar_compression *out);

/* The options several commands share, handled by common_opt: those that
 * name the build a command looks at (pack, ls, stats, build, lint,
 * suggest; check-ignore's, digest's, manifest's and diff's --builder and
 * -f), the walk's threads and progress line (pack, ls, stats; digest,
 * manifest and diff), the report's colour (pack, stats, build) and the
 * budgets (report.h).  Their ids (long-only, >= 256) and
 * their rows of an option table: -f's, -j's and --progress's row is one
 * for the commands whose help for them is the same; --builder, --target, --build-arg and --color are one option
 * each whose help a command may qualify ("with --used: " TARGET_HELP) or
 * word for what it does with it. */
enum {
	OPT_BUILDER = 420,
	OPT_TARGET,
	OPT_BUILD_ARG,
	OPT_PROGRESS_LINE,
	OPT_COLOR,
};

#define BUILDER_HELP "buildkit (default) or classic semantics"
#define TARGET_HELP "the stage to build (default the last)"
#define BUILD_ARG_HELP \
	"a build argument, as docker build --build-arg (repeatable; NAME alone takes the environment's value)"

#define FILE_OPT \
	{ "file", 'f', OPT_ARG_REQUIRED, "DOCKERFILE", "the Dockerfile, relative to the current directory (default DIR/Dockerfile; -: standard input)", NULL, OPT_PATH_FILE }
#define BUILDER_OPT(help) { "builder", OPT_BUILDER, OPT_ARG_REQUIRED, "B", help, CHOICES_BUILDER, 0 }
#define TARGET_OPT(help) { "target", OPT_TARGET, OPT_ARG_REQUIRED, "STAGE", help, NULL, 0 }
#define BUILD_ARG_OPT(help) { "build-arg", OPT_BUILD_ARG, OPT_ARG_REQUIRED, "NAME[=VALUE]", help, NULL, 0 }
#define THREADS_OPT { "threads", 'j', OPT_ARG_REQUIRED, "N", "walker threads (default: online CPUs)", NULL, 0 }
#define PROGRESS_LINE_OPT \
	{ "progress", OPT_PROGRESS_LINE, OPT_ARG_REQUIRED, "WHEN", "progress line on stderr: auto (when a terminal; default), always, never", CHOICES_WHEN, 0 }
/* what: the report it colours ("the report", "the --stats report") */
#define COLOR_OPT(what) \
	{ "color", OPT_COLOR, OPT_ARG_OPTIONAL, "WHEN", "colour " what ": auto (default: a terminal, no NO_COLOR), always (a bare --color), never", CHOICES_WHEN, 0 }

struct budgets;

/* Where common_opt puts each option: the command's own fields.  NULL:
 * the command takes no such option, or handles it itself (common_opt
 * returns 1 for it). */
struct common_dest {
	enum ctxpack_builder *builder; /* --builder */
	const char **dockerfile;       /* -f */
	const char **target;           /* --target */
	const char ***build_args;      /* --build-arg, appended as strv_push does */
	size_t *nbuild_args, *abuild_args;
	int *threads;                  /* -j */
	enum progress_mode *progress;  /* --progress (of the progress line) */
	enum color_mode *color;        /* --color */
	struct budgets *budgets;       /* the budget options, as budget_opt */
};

/* Handles the options above into to: 1 if id is not one of them (or its
 * field is NULL), 0 done, -1 usage error (printed). */
int common_opt(int id, const char *arg, const struct common_dest *to);

/* The common_dest of arguments a that keep the build's options as pack,
 * stats, lint and build do: a->o.builder, a->o.dockerfile and a->o.threads
 * (struct pack_options), a->target, a->build_args with a->nbuild_args and
 * a->abuild_args; then the command's other fields as designated
 * initializers (".color = &a->color"). */
#define COMMON_DEST(a, ...) \
	(&(const struct common_dest){ .builder = &(a)->o.builder, .dockerfile = &(a)->o.dockerfile, \
				      .target = &(a)->target, .build_args = &(a)->build_args, \
				      .nbuild_args = &(a)->nbuild_args, .abuild_args = &(a)->abuild_args, \
				      .threads = &(a)->o.threads, __VA_ARGS__ })

#endif
