/* commands.h: the subcommands and helpers they share. */
#ifndef CTXPACK_CLI_COMMANDS_H
#define CTXPACK_CLI_COMMANDS_H

#include "ctxpack/ctxpack.h"
#include "opts.h"

extern const struct command check_ignore_command;
extern const struct command pack_command;
extern const struct command ls_command;

/* "buildkit" or "classic"; prints a usage error otherwise. */
int parse_builder(const char *arg, enum ctxpack_builder *out);



#endif
