/* explain_pack.c: libctxpack in one small program.  Opens a Docker build
 * context, tells for each PATH whether the builder would send it and which
 * .dockerignore rule decided, and packs the context as the tar `docker
 * build -` reads.
 *
 *   explain_pack [-b buildkit|classic] [-f DOCKERFILE] [-l] [-o FILE] DIR [PATH...]
 *
 * For each PATH one line: RULE<TAB>PATH<TAB>VERDICT<TAB>SENT, where RULE is
 * SOURCE:LINE:PATTERN (or "::" when no rule decided; the first two columns
 * are what `ctxpack check-ignore -v -n` prints), VERDICT is excluded,
 * included or none, and SENT says whether the builder sends the path.  -l
 * lists every member the archive holds.  The archive goes to FILE with -o,
 * else to stdout when it is not a terminal (the lines then go to stderr).
 *
 * Build it against an installed libctxpack:
 *   cc -o explain_pack explain_pack.c $(pkg-config --cflags --libs ctxpack)
 *
 * Options come before DIR (POSIX getopt).
 *
 * Exit status: 0 done, 1 failure (the message says why), 2 usage error. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctxpack/ctxpack.h>

static const char usage[] =
	"usage: explain_pack [-b buildkit|classic] [-f DOCKERFILE] [-l] [-o FILE] DIR [PATH...]\n";

static const char *verdict_word(enum ctxpack_verdict v)
{
	return v == CTXPACK_EXCLUDE ? "excluded" : v == CTXPACK_INCLUDE ? "included" : "none";
}

/* One explanation line.  The rule's pattern is written with its length:
 * a pattern may hold any byte. */
static void print_explanation(FILE *out, const char *path, const struct ctxpack_explanation *x)
{
	if (x->rule_info.source) {
		fprintf(out, "%s:%d:", x->rule_info.source, x->rule_info.line);
		fwrite(x->rule_info.pattern, 1, x->rule_info.pattern_len, out);
	} else {
		fputs("::", out);
	}
	fprintf(out, "\t%s\t%s\t%s%s%s%s%s\n", path, verdict_word(x->verdict),
		x->sent ? "sent" : "not sent", x->pruned ? ", pruned" : "",
		x->parent_only ? ", as the parent of what is sent" : "",
		x->forced ? ", always (the Dockerfile)" : "",
		x->socket_skipped ? ", a socket (skipped)" : "");
}

static void list_members(FILE *out, const ctxpack_context *c)
{
	static const char type[] = "fdlpcbsh"; /* by enum ctxpack_entry_type */
	size_t n = ctxpack_context_count(c);

	for (size_t i = 0; i < n; i++) {
		struct ctxpack_entry e;
		if (ctxpack_context_entry(c, i, &e))
			break;
		fprintf(out, "%c %04o %10llu ", type[e.type], (unsigned)e.mode,
			(unsigned long long)e.size);
		fwrite(e.path, 1, e.path_len, out);
		if (e.type == CTXPACK_ENTRY_DIR)
			fputc('/', out);
		if (e.link)
			fprintf(out, " %s %s", e.type == CTXPACK_ENTRY_HARDLINK ? "=>" : "->", e.link);
		fputs(e.generated ? "  (generated)\n" : "\n", out);
	}
}

/* Packs into FILE (removed again on failure) or stdout. */
static int pack(ctxpack_context *c, const char *output)
{
	struct ctxpack_pack_report rep;
	int fd = STDOUT_FILENO, rc;

	if (output) {
		fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0) {
			fprintf(stderr, "explain_pack: cannot create '%s': %s\n", output, strerror(errno));
			return 1;
		}
	}
	rc = ctxpack_context_pack(c, fd, CTXPACK_COMPRESS_NONE, 0, &rep);
	if (rc)
		fprintf(stderr, "explain_pack: %s\n", ctxpack_context_errmsg(c));
	if (output && close(fd) && !rc) {
		fprintf(stderr, "explain_pack: cannot write '%s': %s\n", output, strerror(errno));
		rc = -EIO;
	}
	if (rc) {
		if (output)
			unlink(output);
		return 1;
	}
	if (rep.dockerfile_name[0])
		fprintf(stderr, "explain_pack: the Dockerfile is outside the context; use docker build -f %s -\n",
			rep.dockerfile_name);
	return 0;
}

int main(int argc, char **argv)
{
	const char *output = NULL, *dockerfile = NULL;
	enum ctxpack_builder builder = CTXPACK_BUILDER_BUILDKIT;
	ctxpack_context *c = NULL;
	bool list = false, to_stdout;
	FILE *lines;
	int opt, status = 0;

	while ((opt = getopt(argc, argv, "b:f:lo:h")) != -1) {
		switch (opt) {
		case 'b':
			if (!strcmp(optarg, "buildkit"))
				builder = CTXPACK_BUILDER_BUILDKIT;
			else if (!strcmp(optarg, "classic"))
				builder = CTXPACK_BUILDER_CLASSIC;
			else {
				fprintf(stderr, "explain_pack: unknown builder '%s' (buildkit or classic)\n%s",
					optarg, usage);
				return 2;
			}
			break;
		case 'f': dockerfile = optarg; break;
		case 'l': list = true; break;
		case 'o': output = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "explain_pack: no context directory given\n%s", usage);
		return 2;
	}
	/* The archive goes to stdout when it is not a terminal and no file
	 * is named; the lines then go to stderr. */
	to_stdout = !output && !isatty(STDOUT_FILENO);
	lines = to_stdout ? stderr : stdout;
	/* A reader that goes away (docker build failed) is an error to
	 * report, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);

	if (ctxpack_context_new(&c)) {
		fputs("explain_pack: out of memory\n", stderr);
		return 1;
	}
	ctxpack_context_set_builder(c, builder);
	if (ctxpack_context_set_dockerfile(c, dockerfile) || ctxpack_context_open(c, argv[optind])) {
		fprintf(stderr, "explain_pack: %s\n", ctxpack_context_errmsg(c));
		ctxpack_context_free(&c);
		return 1;
	}
	for (int i = optind + 1; i < argc && !status; i++) {
		struct ctxpack_explanation x;
		if (ctxpack_context_explain(c, argv[i], &x)) {
			fprintf(stderr, "explain_pack: %s\n", ctxpack_context_errmsg(c));
			status = 1;
			break;
		}
		print_explanation(lines, argv[i], &x);
	}
	if (!status && list)
		list_members(lines, c);
	if (!status && (output || to_stdout))
		status = pack(c, output);
	else if (!status && optind + 1 == argc && !list)
		fprintf(stderr, "explain_pack: %zu members would be sent; name paths to explain, -l to list them, -o FILE to pack\n",
			ctxpack_context_count(c));
	ctxpack_context_free(&c);
	if (fflush(lines) || ferror(lines)) {
		fprintf(stderr, "explain_pack: cannot write the output: %s\n", strerror(errno));
		status = 1;
	}
	return status;
}
