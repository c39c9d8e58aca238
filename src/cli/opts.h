/* opts.h: one table per command drives getopt_long, --help and errors. */
#ifndef CTXPACK_CLI_OPTS_H
#define CTXPACK_CLI_OPTS_H

#include <stdio.h>

enum { OPT_ARG_NONE = 0, OPT_ARG_REQUIRED = 1, OPT_ARG_OPTIONAL = 2 /* --opt[=ARG] */ };

struct opt {
	const char *lng;     /* long name, without "--" */
	int id;              /* short letter, or >= 256 for long-only */
	int has_arg;
	const char *metavar; /* shown in help when has_arg */
	const char *help;
};

struct command {
	const char *name;
	const char *summary;  /* one line */
	const char *usage;    /* after "ctxpack NAME " */
	const char *details;  /* paragraphs after the options; may be NULL */
	const struct opt *opts;
	int (*run)(const struct command *cmd, int argc, char **argv);
};

/* Calls on_opt(id, arg, payload) for every option in order; returns the
 * index of the first operand, or -1 after printing a usage error (exit 2).
 * -h/--help prints help and returns -2 (exit 0). */
int opts_parse(const struct command *cmd, int argc, char **argv,
	       int (*on_opt)(int id, const char *arg, void *payload), void *payload);
void opts_help(const struct command *cmd, FILE *out);
/* An integer option's argument from lo to hi into *out; otherwise a usage
 * error naming --opt, and -1. */
int opts_int(const char *opt, const char *arg, long lo, long hi, long *out);
void usage_error(const struct command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
