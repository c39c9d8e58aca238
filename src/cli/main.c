/* main.c: ctxpack's entry point: pick the subcommand and run it. */
#include <stdio.h>
#include <string.h>

#include <archive.h>
#include <xxhash.h>
#include <zstd.h>

#include "commands.h"

static const struct command *const commands[] = {
	&pack_command,
	&ls_command,
	&stats_command,
	&check_ignore_command,
	&lint_command,
	&digest_command,
	&manifest_command,
	&diff_command,
};

int parse_builder(const char *arg, enum ctxpack_builder *out)
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
	fputs("usage: ctxpack <command> [options] [args]\n"
	      "\n"
	      "ctxpack packs Docker build contexts exactly as Docker would, fast, and\n"
	      "explains every path's fate under .dockerignore.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %.*s\n", commands[i]->name,
			(int)strcspn(commands[i]->summary, "\n"), commands[i]->summary);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help     show this help (or 'ctxpack COMMAND --help')\n"
	      "  -V, --version  show versions of ctxpack and the libraries it uses\n"
	      "\n"
	      "Exit status: 0 success; 1 a negative answer (check-ignore: nothing ignored);\n"
	      "2 usage error or failure.\n",
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

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name) {
		help(stderr);
		return 2;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		if (!strcmp(name, "help") && argc > 2) {
			for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
				if (!strcmp(commands[i]->name, argv[2])) {
					opts_help(commands[i], stdout);
					return 0;
				}
			usage_error(NULL, "unknown command '%s'", argv[2]);
			return 2;
		}
		help(stdout);
		return 0;
	}
	if (!strcmp(name, "-V") || !strcmp(name, "--version") || !strcmp(name, "version")) {
		version();
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i]->run(commands[i], argc - 1, argv + 1);
	usage_error(NULL, "unknown command '%s'", name);
	return 2;
}
