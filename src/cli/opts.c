/* opts.c: table-driven option parsing and help (see opts.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

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

void opts_help(const struct command *cmd, FILE *out)
{
	fprintf(out, "usage: ctxpack %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->usage, cmd->summary);
	for (const struct opt *o = cmd->opts; o->lng; o++) {
		char left[64];
		int n = 0;
		if (o->id < 256)
			n = snprintf(left, sizeof(left), "  -%c, --%s", o->id, o->lng);
		else
			n = snprintf(left, sizeof(left), "      --%s", o->lng);
		if (o->has_arg == OPT_ARG_OPTIONAL && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, "[=%s]", o->metavar);
		else if (o->has_arg && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, "%s%s",
				 o->lng[0] ? "=" : " ", o->metavar);
		fprintf(out, "%-28s %s\n", left, o->help);
	}
	fprintf(out, "  -h, --help                 show this help and exit\n");
	if (cmd->details)
		fprintf(out, "\n%s", cmd->details);
}

int opts_parse(const struct command *cmd, int argc, char **argv,
	       int (*on_opt)(int id, const char *arg, void *payload), void *payload)
{
	struct option lopts[64];
	char sopts[128] = "h";
	size_t n = 0, s = 1;
	int c;

	for (const struct opt *o = cmd->opts; o->lng && n < 62; o++, n++) {
		static const int has[] = { no_argument, required_argument, optional_argument };
		lopts[n] = (struct option){ o->lng, has[o->has_arg], NULL, o->id };
		if (o->id < 256 && s + 4 < sizeof(sopts)) {
			sopts[s++] = (char)o->id;
			if (o->has_arg)
				sopts[s++] = ':';
			if (o->has_arg == OPT_ARG_OPTIONAL)
				sopts[s++] = ':';
		}
	}
	lopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n] = (struct option){ 0, 0, 0, 0 };
	sopts[s] = '\0';
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		if (c == 'h') {
			opts_help(cmd, stdout);
			return -2;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			if (optopt && optopt < 256 && !strchr(bad, '='))
				usage_error(cmd, "option requires an argument or is unknown: '%s'", bad);
			else
				usage_error(cmd, "unknown option or missing argument: '%s'", bad);
			return -1;
		}
		if (on_opt(c, optarg, payload))
			return -1;
	}
	return optind;
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
