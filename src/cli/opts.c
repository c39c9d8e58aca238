/* opts.c: table-driven option parsing and help (see opts.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "opts.h"

enum color_mode cli_color = COLOR_AUTO;

void usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("ctxpack: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ctxpack %s%s--help' for more information.\n", cmd ? cmd->name : "",
		cmd ? " " : "");
}

const char *opts_synopsis(const struct opt *o, char *buf, size_t bufsz)
{
	int n;

	if (o->id < 256)
		n = snprintf(buf, bufsz, "-%c, --%s", o->id, o->lng);
	else
		n = snprintf(buf, bufsz, "    --%s", o->lng);
	if (n < 0 || (size_t)n >= bufsz)
		return buf;
	if (o->has_arg == OPT_ARG_OPTIONAL)
		snprintf(buf + n, bufsz - (size_t)n, "[=%s]", o->metavar);
	else if (o->has_arg)
		snprintf(buf + n, bufsz - (size_t)n, "=%s", o->metavar);
	return buf;
}

void opts_help_table(const struct opt *opts, FILE *out)
{
	char left[64];

	for (const struct opt *o = opts; o->lng; o++)
		fprintf(out, "  %-26s %s\n", opts_synopsis(o, left, sizeof(left)), o->help);
}

void opts_help(const struct command *cmd, FILE *out)
{
	fprintf(out, "usage: ctxpack %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->usage, cmd->summary);
	opts_help_table(cmd->opts, out);
	fprintf(out, "  -h, --help                 show this help and exit\n");
	if (cmd->details)
		fprintf(out, "\n%s", cmd->details);
}

/* getopt_long's tables for opts, with -h/--help when help is set;
 * sopts starts with prefix ("+" stops at the first operand). */
static void getopt_tables(const struct opt *opts, bool help, const char *prefix,
			  struct option *lopts, size_t nlopts, char *sopts, size_t nsopts)
{
	static const int has[] = { no_argument, required_argument, optional_argument };
	size_t n = 0, s = strlen(prefix);

	memcpy(sopts, prefix, s);
	if (help)
		sopts[s++] = 'h';
	for (const struct opt *o = opts; o->lng && n + 2 < nlopts; o++, n++) {
		lopts[n] = (struct option){ o->lng, has[o->has_arg], NULL, o->id };
		if (o->id < 256 && s + 4 < nsopts) {
			sopts[s++] = (char)o->id;
			if (o->has_arg)
				sopts[s++] = ':';
			if (o->has_arg == OPT_ARG_OPTIONAL)
				sopts[s++] = ':';
		}
	}
	if (help)
		lopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n] = (struct option){ 0, 0, 0, 0 };
	sopts[s] = '\0';
}

static int parse(const struct command *cmd, const struct opt *opts, const char *prefix, int argc,
		 char **argv, int (*on_opt)(int id, const char *arg, void *payload), void *payload)
{
	struct option lopts[64];
	char sopts[128];
	int c;

	getopt_tables(opts, cmd != NULL, prefix, lopts, 64, sopts, sizeof(sopts));
	/* 0, not 1: glibc then starts afresh, ordering ("+") included;
	 * main parses the global options before the command's. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		if (c == 'h' && cmd) {
			opts_help(cmd, stdout);
			return -2;
		}
		if (c == '?' || c == ':') {
			const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "";
			/* A short option inside a cluster ("-xV") leaves optind on
			 * its word or the next one: name the letter getopt saw. */
			if (strncmp(bad, "--", 2) && optopt > 0 && optopt < 256 &&
			    strchr(sopts, optopt))
				usage_error(cmd, "option '-%c' requires an argument", optopt);
			else if (strncmp(bad, "--", 2) && optopt > 0 && optopt < 256)
				usage_error(cmd, "unknown option '-%c'", optopt);
			else
				usage_error(cmd, "unknown option or missing argument: '%s'", bad);
			return -1;
		}
		if (on_opt(c, optarg, payload))
			return -1;
	}
	return optind;
}

int opts_parse(const struct command *cmd, int argc, char **argv,
	       int (*on_opt)(int id, const char *arg, void *payload), void *payload)
{
	return parse(cmd, cmd->opts, "", argc, argv, on_opt, payload);
}

int opts_parse_global(const struct opt *opts, int argc, char **argv,
		      int (*on_opt)(int id, const char *arg, void *payload), void *payload)
{
	/* "+": the command and everything after it are the command's. */
	return parse(NULL, opts, "+", argc, argv, on_opt, payload);
}

int opts_int(const char *opt, const char *arg, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi) {
		usage_error(NULL, "invalid argument '%s' for --%s: expected an integer from %ld to %ld",
			    arg, opt, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int color_mode_parse(const char *arg, enum color_mode *out)
{
	if (!arg || !strcmp(arg, "always"))
		*out = COLOR_ALWAYS;
	else if (!strcmp(arg, "auto"))
		*out = COLOR_AUTO;
	else if (!strcmp(arg, "never"))
		*out = COLOR_NEVER;
	else {
		usage_error(NULL, "invalid argument '%s' for --color: expected auto, always or never", arg);
		return -1;
	}
	return 0;
}

bool color_enabled(enum color_mode m, FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	if (m != COLOR_AUTO)
		return m == COLOR_ALWAYS;
	return isatty(fileno(f)) && !(nc && *nc);
}
