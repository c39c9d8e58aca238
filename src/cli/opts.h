/* opts.h: one table per command drives getopt_long, --help, errors, the
 * man page and the shell completions (generate.c). */
#ifndef CTXPACK_CLI_OPTS_H
#define CTXPACK_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

enum { OPT_ARG_NONE = 0, OPT_ARG_REQUIRED = 1, OPT_ARG_OPTIONAL = 2 /* --opt[=ARG] */ };

/* What an option's argument, or a command's operands, name: the shells
 * complete file names (OPT_PATH_FILE: any path, directories included) or
 * directory names (OPT_PATH_DIR). */
enum { OPT_PATH_NONE = 0, OPT_PATH_FILE = 1, OPT_PATH_DIR = 2 };

/* The fixed sets of values some options take, "a|b|c": the completions
 * offer them and the man page lists them. */
#define CHOICES_BUILDER "buildkit|classic"
#define CHOICES_WHEN "auto|always|never"

struct opt {
	const char *lng;     /* long name, without "--" */
	int id;              /* short letter, or >= 256 for long-only */
	int has_arg;
	const char *metavar; /* shown in help when has_arg */
	const char *help;
	const char *choices; /* "a|b|c" when the argument is one of these, else NULL */
	int path;            /* OPT_PATH_*: the argument names a file or directory */
};

struct command {
	const char *name;
	const char *summary;  /* one line */
	const char *usage;    /* after "ctxpack NAME " */
	const char *details;  /* paragraphs after the options; may be NULL */
	const struct opt *opts;
	int (*run)(const struct command *cmd, int argc, char **argv);
	int operands;         /* OPT_PATH_*: what the operands name, for completion */
};

/* Calls on_opt(id, arg, payload) for every option in order; returns the
 * index of the first operand, or -1 after printing a usage error (exit 2).
 * -h/--help prints help and returns -2 (exit 0). */
int opts_parse(const struct command *cmd, int argc, char **argv,
	       int (*on_opt)(int id, const char *arg, void *payload), void *payload);
/* The same for options before the command (table opts, no implicit
 * --help): stops at the first operand (the command) and returns its index
 * (argc when there is none), or -1 after a usage error. */
int opts_parse_global(const struct opt *opts, int argc, char **argv,
		      int (*on_opt)(int id, const char *arg, void *payload), void *payload);
void opts_help(const struct command *cmd, FILE *out);
/* The option lines of --help for a table, as opts_help prints them. */
void opts_help_table(const struct opt *opts, FILE *out);
/* "-f, --file=DOCKERFILE" as --help shows it, into buf. */
const char *opts_synopsis(const struct opt *o, char *buf, size_t bufsz);
/* An integer option's argument from lo to hi into *out; otherwise a usage
 * error naming --opt, and -1. */
int opts_int(const char *opt, const char *arg, long lo, long hi, long *out);
/* --build-arg K=V (lint, stats): arg appended to the NULL-terminated *v
 * (n entries, alloc allocated).  0, or -1 after saying "out of memory". */
int opts_build_arg(const char ***v, size_t *n, size_t *alloc, const char *arg);
void usage_error(const struct command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --color[=WHEN], after no-color.org: auto colours a terminal unless
 * NO_COLOR is set and not empty; always and never are what the user asked
 * for, NO_COLOR or not.  A bare --color means always (as ls and grep). */
enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };
/* The global `ctxpack --color=WHEN COMMAND`: where each command's own
 * --color starts from. */
extern enum color_mode cli_color;
/* Parses --color's argument (NULL: always); prints a usage error and
 * returns -1 otherwise. */
int color_mode_parse(const char *arg, enum color_mode *out);
/* Whether to colour what goes to f. */
bool color_enabled(enum color_mode m, FILE *f);

#endif
