/* commands.h: the subcommands and helpers they share. */
#ifndef CTXPACK_CLI_COMMANDS_H
#define CTXPACK_CLI_COMMANDS_H

#include "ctxpack/ctxpack.h"
#include "opts.h"
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

/* "buildkit" or "classic"; prints a usage error otherwise. */
int parse_builder(const char *arg, enum ctxpack_builder *out);
/* --compress's "none", "gzip" or "zstd" (pack, build); prints a usage
 * error otherwise. */
int parse_compress(const char *arg, enum tar_compression *out);



#endif
