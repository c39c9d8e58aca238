/* generate.h: the man page and the shell completions, written from the
 * option tables (opts.h) by the hidden `ctxpack --generate=KIND`, which
 * src/cli/meson.build runs at build time. */
#ifndef CTXPACK_CLI_GENERATE_H
#define CTXPACK_CLI_GENERATE_H

#include <stddef.h>
#include <stdio.h>

#include "opts.h"

/* Everything ctxpack accepts: the options before the command and each
 * command's table. */
struct cli_tables {
	const struct opt *global;
	const struct command *const *cmds;
	size_t ncmds;
};

/* Writes KIND to out: "man" (ctxpack.1), "complete-bash", "complete-zsh",
 * "complete-fish", or "options" (every table as tab-separated lines, for
 * the tests).  Returns 0, or -1 after a usage error for another KIND. */
int generate(FILE *out, const char *kind, const struct cli_tables *t);

#endif
