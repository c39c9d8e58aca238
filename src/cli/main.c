/* main.c: ctxpack's entry point: the global options (-C, --color, --help,
 * --version), then pick the subcommand and run it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <xxhash.h>
#include <zstd.h>

#include "commands.h"
#include "internal.h"
#include "generate.h"
#include "report.h"

static const struct command *const commands[] = {
	&pack_command,
	&ls_command,
	&stats_command,
	&check_ignore_command,
	&lint_command,
	&suggest_command,
	&digest_command,
	&manifest_command,
	&diff_command,
	&build_command,
};

enum { GOPT_COLOR = 256 };

/* The options before the command: the same table drives getopt, --help,
 * the man page and the completions (generate.c). */
static const struct opt global_opts[] = {
	{ "directory", 'C', OPT_ARG_REQUIRED, "DIR", "run as if started in DIR (as git -C; each relative to the last)", NULL, OPT_PATH_DIR },
	{ "color", GOPT_COLOR, OPT_ARG_OPTIONAL, "WHEN", "colour of the stats and pack --stats reports: auto (default: a terminal, no NO_COLOR), always, never", CHOICES_WHEN, 0 },
	{ "help", 'h', OPT_ARG_NONE, NULL, "show this help (or 'ctxpack COMMAND --help')", NULL, 0 },
	{ "version", 'V', OPT_ARG_NONE, NULL, "show versions of ctxpack and the libraries it uses", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static const struct cli_tables tables = {
	global_opts,
	commands,
	sizeof(commands) / sizeof(commands[0]),
};

/* "buildkit" or "classic"; prints a usage error otherwise. */
static int parse_builder(const char *arg, enum ctxpack_builder *out)
{
	if (strcmp(arg, "buildkit") == 0) {
		*out = CTXPACK_BUILDER_BUILDKIT;
		return 0;
	}
	if (strcmp(arg, "classic") == 0) {
		*out = CTXPACK_BUILDER_CLASSIC;
		return 0;
	}
	usage_error(NULL, "invalid argument '%s' for --builder: expected 'buildkit' or 'classic'", arg);
	return -1;
}

int strv_push(const char ***v, size_t *n, size_t *alloc, const char *arg)
{
	if (GROW(*v, *alloc, *n + 2)) {
		fprintf(stderr, "ctxpack: out of memory\n");
		return -1;
	}
	(*v)[(*n)++] = arg;
	(*v)[*n] = NULL;
	return 0;
}

/* --build-arg NAME=VALUE as given; NAME alone takes NAME's value from the
 * environment when it has one, as docker build does (else it stays bare:
 * no value, the ARG's default).  The strings made here live as long as the
 * process (kept in a list, freed by nothing). */
static int build_arg(const char *arg, const char **out)
{
	static char **made;
	static size_t nmade, amade;
	const char *v;
	char *s;

	*out = arg;
	if (!arg[0] || arg[0] == '=') {
		usage_error(NULL, "invalid argument '%s' for --build-arg: expected NAME[=VALUE]", arg);
		return -1;
	}
	if (strchr(arg, '=') || !(v = getenv(arg)))
		return 0;
	if (GROW(made, amade, nmade + 1) || asprintf(&s, "%s=%s", arg, v) < 0) {
		fprintf(stderr, "ctxpack: out of memory\n");
		return -1;
	}
	made[nmade++] = s;
	*out = s;
	return 0;
}

int common_opt(int id, const char *arg, const struct common_dest *to)
{
	const char *ba;
	long v;
	int rc = to->budgets ? budget_opt(id, arg, to->budgets) : 1;

	if (rc <= 0)
		return rc;
	switch (id) {
	case OPT_BUILDER:
		return to->builder ? parse_builder(arg, to->builder) : 1;
	case 'f':
		if (!to->dockerfile)
			return 1;
		*to->dockerfile = arg;
		return 0;
	case OPT_TARGET:
		if (!to->target)
			return 1;
		*to->target = arg;
		return 0;
	case OPT_BUILD_ARG:
		if (!to->build_args)
			return 1;
		if (build_arg(arg, &ba))
			return -1;
		return strv_push(to->build_args, to->nbuild_args, to->abuild_args, ba);
	case 'j':
		if (!to->threads)
			return 1;
		if (opts_int("threads", arg, 1, 1024, &v))
			return -1;
		*to->threads = (int)v;
		return 0;
	case OPT_PROGRESS_LINE:
		return to->progress ? progress_mode_parse(arg, to->progress) : 1;
	case OPT_COLOR:
		return to->color ? color_mode_parse(arg, to->color) : 1;
	}
	return 1;
}

int parse_compress(const char *arg, enum tar_compression *out)
{
	if (!strcmp(arg, "none"))
		*out = TAR_NONE;
	else if (!strcmp(arg, "gzip"))
		*out = TAR_GZIP;
	else if (!strcmp(arg, "zstd"))
		*out = TAR_ZSTD;
	else {
		usage_error(NULL, "invalid argument '%s' for --compress: expected none, gzip or zstd", arg);
		return -1;
	}
	return 0;
}

/* After the options: at most one operand, the context directory.  Returns
 * nonzero when the command must stop (help shown, or a usage error). */
int context_arg(const struct command *cmd, int argc, char **argv, int first, const char **dir)
{
	if (first < 0)
		return 1;
	if (argc - first > 1) {
		usage_error(cmd, "more than one context directory given");
		return 1;
	}
	if (first < argc)
		*dir = argv[first];
	return 0;
}

static void help(FILE *out)
{
	fputs("usage: ctxpack [-C DIR]... [--color[=WHEN]] <command> [options] [args]\n"
	      "\n"
	      "ctxpack packs Docker build contexts exactly as Docker would, fast, and\n"
	      "explains every path's fate under .dockerignore.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %.*s\n", commands[i]->name,
			(int)strcspn(commands[i]->summary, "\n"), commands[i]->summary);
	fputs("\nOptions:\n", out);
	opts_help_table(global_opts, out);
	fputs("\n"
	      "Exit status: 0 success; 1 failure, or a negative answer (check-ignore:\n"
	      "nothing ignored; diff: different; lint: warnings); 2 usage error; lint 3\n"
	      "for errors; stats, pack and build 4 for a broken budget.  'man ctxpack'\n"
	      "has more.\n",
	      out);
}

static void version(void)
{
	printf("ctxpack %s\n", ctxpack_version());
	printf("libarchive %s\n", archive_version_details());
	printf("zstd %s\n", ZSTD_versionString());
	printf("xxhash %u.%u.%u\n", XXH_versionNumber() / 10000, XXH_versionNumber() / 100 % 100,
	       XXH_versionNumber() % 100);
}

struct global_args {
	bool help, version;
};

static int global_opt(int id, const char *arg, void *payload)
{
	struct global_args *g = payload;

	switch (id) {
	case 'C':
		/* As git: an empty DIR is no change; each DIR is relative to
		 * the previous one because the last chdir already happened. */
		if (*arg && chdir(arg) < 0) {
			fprintf(stderr, "ctxpack: cannot change to directory '%s': %s\n", arg,
				strerror(errno));
			return -1;
		}
		break;
	case GOPT_COLOR:
		return color_mode_parse(arg, &cli_color);
	case 'h': g->help = true; break;
	case 'V': g->version = true; break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct global_args g = { 0 };
	const char *name;
	int first;

	/* Hidden, for the build (src/cli/meson.build): the man page and the
	 * shell completions from the option tables. */
	if (argc == 2 && !strncmp(argv[1], "--generate=", 11))
		return generate(stdout, argv[1] + 11, &tables) || fflush(stdout) || ferror(stdout) ? 2 : 0;

	first = opts_parse_global(global_opts, argc, argv, global_opt, &g);
	if (first < 0)
		return 2;
	if (g.help) {
		help(stdout);
		return 0;
	}
	if (g.version) {
		version();
		return 0;
	}
	argc -= first;
	argv += first;
	name = argc > 0 ? argv[0] : NULL;
	if (!name) {
		help(stderr);
		return 2;
	}
	if (!strcmp(name, "help")) {
		if (argc > 1) {
			for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
				if (!strcmp(commands[i]->name, argv[1])) {
					opts_help(commands[i], stdout);
					return 0;
				}
			usage_error(NULL, "unknown command '%s'", argv[1]);
			return 2;
		}
		help(stdout);
		return 0;
	}
	if (!strcmp(name, "version")) {
		version();
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i]->run(commands[i], argc, argv);
	usage_error(NULL, "unknown command '%s'", name);
	return 2;
}
