/* check_ignore.c: `ctxpack check-ignore`, after `git check-ignore -v`: for
 * each path, would the builder send it, and which rule decided. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "beneath.h"
#include "dockerctx.h"
#include "explain.h"
#include "internal.h"
#include "jsonstr.h"
#include "match.h"
#include "policy.h"
#include "rules.h"
#include "walk.h"

enum { OPT_JSON = 256, OPT_STDIN };

static const struct opt check_ignore_opts[] = {
	BUILDER_OPT(BUILDER_HELP),
	{ "file", 'f', OPT_ARG_REQUIRED, "DOCKERFILE", "the Dockerfile, relative to the current directory (-: standard input)", NULL, OPT_PATH_FILE },
	{ "directory", 'C', OPT_ARG_REQUIRED, "DIR", "run in DIR (the build context), as git -C", NULL, OPT_PATH_DIR },
	{ "verbose", 'v', OPT_ARG_NONE, NULL, "show the deciding rule as SOURCE:LINE:PATTERN<TAB>PATH", NULL, 0 },
	{ "non-matching", 'n', OPT_ARG_NONE, NULL, "with -v, also show paths no rule decided", NULL, 0 },
	{ "json", OPT_JSON, OPT_ARG_NONE, NULL, "print one JSON document with every path's verdict", NULL, 0 },
	{ "stdin", OPT_STDIN, OPT_ARG_NONE, NULL, "read paths from standard input, one per line", NULL, 0 },
	{ "null", 'z', OPT_ARG_NONE, NULL, "paths on stdin and in the output are NUL-terminated", NULL, 0 },
	{ "quiet", 'q', OPT_ARG_NONE, NULL, "print nothing; only the exit status", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static const char check_ignore_details[] =
	"Each PATH is relative to the context (the current directory, or DIR with -C)\n"
	"and is decided as the builder's walk reaches it: a path below an excluded\n"
	"directory that the walk never enters is excluded by the rule that excluded\n"
	"the directory.  Without -v, the paths that would not be sent are printed.\n"
	"\n"
	"Builders: 'buildkit' reads <Dockerfile>.dockerignore in place of .dockerignore\n"
	"when it exists; 'classic' (DOCKER_BUILDKIT=0, docker-py) re-adds\n"
	"!.dockerignore and !<Dockerfile> as the docker CLI does (shown as <builder>:0).\n"
	"In buildkit mode the Dockerfile is always sent (ctxpack puts it in the tar).\n"
	"\n"
	"JSON: {\"version\":1, \"builder\":..., \"ignore_file\":..., \"results\":[{\"path\",\n"
	"\"sent\", \"verdict\" (excluded|included|none), \"rule\" {source,line,pattern} or\n"
	"null, \"pruned\"; \"skipped\":\"socket\" where the classic builder leaves a\n"
	"socket out; \"parent_of_sent\":true for an excluded directory that BuildKit\n"
	"still sends because something below it is sent}]}; bytes that are not\n"
	"UTF-8 appear as \\udc80-\\udcff.\n"
	"\n"
	"Exit status: 0 if at least one path would not be sent, 1 if every path would\n"
	"be sent, 2 on error (bad .dockerignore, a path outside the context, or a\n"
	"pattern Docker itself would fail on).\n"
	"\n"
	"Examples:\n"
	"  ctxpack check-ignore -v node_modules/x.js src/app.js\n"
	"  git ls-files -z | ctxpack check-ignore --stdin -z --builder=classic\n";

struct ci_args {
	enum ctxpack_builder builder;
	const char *file, *dir;
	bool verbose, nonmatching, json, from_stdin, nul, quiet;
};

static int ci_opt(int id, const char *arg, void *payload)
{
	struct ci_args *a = payload;
	int rc = common_opt(id, arg, &(const struct common_dest){ .builder = &a->builder,
								  .dockerfile = &a->file });

	if (rc <= 0)
		return rc;
	switch (id) {
	case 'C': a->dir = arg; break;
	case 'v': a->verbose = true; break;
	case 'n': a->nonmatching = true; break;
	case OPT_JSON: a->json = true; break;
	case OPT_STDIN: a->from_stdin = true; break;
	case 'z': a->nul = true; break;
	case 'q': a->quiet = true; break;
	}
	return 0;
}

struct ci_run {
	struct ci_args *a;
	struct dockerctx ctx;
	struct explainer ex;
	size_t nresults, nignored;
	char *buf;
	size_t bufsz;
};

/* The path relative to the context, cleaned, into r->buf; returns its
 * length, 0 for the context itself, or -1 when it is outside. */
static long relative_path(struct ci_run *r, const char *p, size_t len)
{
	return dockerctx_relpath(r->ctx.root, p, len, &r->buf, &r->bufsz);
}

static void print_rule_json(struct ci_run *r, long rule)
{
	struct ctxpack_rule_info ri;
	const char *text;
	size_t len;
	char buf[32];

	if (rule < 0 || ctxpack_rules_get(r->ctx.rules, (size_t)rule, &ri)) {
		fputs("null", stdout);
		return;
	}
	rules_shown(r->ctx.rules, (size_t)rule, buf, sizeof(buf), &text, &len);
	fputs("{\"source\":", stdout);
	json_string(stdout, ri.source, strlen(ri.source));
	printf(",\"line\":%d,\"pattern\":", ri.line);
	json_string(stdout, text, len);
	fputc('}', stdout);
}

static const char *verdict_name(enum ctxpack_verdict v)
{
	return v == CTXPACK_EXCLUDE ? "excluded" : v == CTXPACK_INCLUDE ? "included" : "none";
}

static void emit(struct ci_run *r, const char *given, size_t glen, const struct explain_result *res,
		 const char *forced, const char *skipped, bool parent)
{
	struct ci_args *a = r->a;
	char term = a->nul ? '\0' : '\n';

	if (!res->sent)
		r->nignored++;
	if (a->quiet)
		return;
	if (a->json) {
		fputs(r->nresults ? ",\n" : "\n", stdout);
		fputs("{\"path\":", stdout);
		json_string(stdout, given, glen);
		printf(",\"sent\":%s,\"verdict\":\"%s\",\"rule\":", res->sent ? "true" : "false",
		       verdict_name(res->verdict));
		if (forced) {
			fputs("{\"source\":\"<builder>\",\"line\":0,\"pattern\":", stdout);
			json_string(stdout, forced, strlen(forced));
			fputc('}', stdout);
		} else {
			print_rule_json(r, res->rule);
		}
		printf(",\"pruned\":%s", res->pruned ? "true" : "false");
		if (skipped)
			printf(",\"skipped\":\"%s\"", skipped);
		if (parent)
			fputs(",\"parent_of_sent\":true", stdout);
		putchar('}');
	} else if (a->verbose) {
		struct ctxpack_rule_info ri;
		if (forced) {
			printf("<builder>%c0%c%s%c", a->nul ? 0 : ':', a->nul ? 0 : ':', forced,
			       a->nul ? 0 : '\t');
		} else if (res->rule >= 0 && !ctxpack_rules_get(r->ctx.rules, (size_t)res->rule, &ri)) {
			const char *text;
			size_t len;
			char buf[32];
			printf("%s%c%d%c", ri.source, a->nul ? 0 : ':', ri.line, a->nul ? 0 : ':');
			/* -z: the bytes as they are; a line: escaped (text_fputq) */
			rules_shown(r->ctx.rules, (size_t)res->rule, buf, sizeof(buf), &text, &len);
			if (a->nul)
				fwrite(text, 1, len, stdout);
			else
				text_fputq(stdout, text, len);
			putchar(a->nul ? 0 : '\t');
		} else if (a->nonmatching) {
			fputs(a->nul ? "\0\0\0" : "::\t", stdout);
			if (a->nul)
				fwrite("\0\0\0", 1, 3, stdout);
		} else {
			goto out;
		}
		fwrite(given, 1, glen, stdout);
		putchar(term);
	} else if (!res->sent) {
		fwrite(given, 1, glen, stdout);
		putchar(term);
	}
out:
	r->nresults++;
}

/* BuildKit sends an excluded directory it enters as the parent of what it
 * sends below it: the walk of that subtree (the real walker, its
 * descriptor budget and its errors) tells.  Returns 1, 0, or -1 with the
 * walk's message printed. */
static int sends_below(struct ci_run *r, const char *path, const struct explain_result *res)
{
	struct walk_options o = {
		.builder = r->ctx.builder,
		.match = r->ctx.match,
		.dockerfile = r->ctx.dockerfile,
		.dockerfile_link = r->ctx.dockerfile_link,
		.under = path,
		.under_state = res->state,
		.under_verdict = res->verdict,
	};
	struct walk_result wr;
	char err[1024];
	int rc = walk_context(&wr, r->ctx.rootfd, &o, err, sizeof(err));

	if (rc) {
		fprintf(stderr, "ctxpack: %s\n", err);
		return -1;
	}
	rc = 0;
	/* The forced Dockerfile goes in alone: it makes no parent sent. */
	for (size_t i = 0; i < wr.n && !rc; i++)
		rc = wr.v[i]->sent && !wr.v[i]->forced && !wr.v[i]->parent;
	walk_result_release(&wr);
	return rc;
}

static int check_one(struct ci_run *r, const char *given, size_t glen)
{
	struct explain_result res = { CTXPACK_NONE, -1, false, true, false, NULL };
	struct policy_decision pd = { .sent = true };
	struct policy_in in;
	long n = relative_path(r, given, glen);
	char *forced = NULL;
	bool parent = false, df;
	int rc, type;

	if (n == -2) {
		fprintf(stderr, "ctxpack: out of memory\n");
		return -1;
	}
	if (n < 0) {
		char q[512];
		fprintf(stderr, "ctxpack: '%s' is outside the context '%s'\n",
			text_quote(q, sizeof(q), given, glen), r->ctx.root);
		return -1;
	}
	if (n > 0) {
		rc = explain_path(&r->ex, r->buf, (size_t)n, &res);
		if (rc == -ENOMEM) {
			fprintf(stderr, "ctxpack: out of memory\n");
			return -1;
		}
		if (rc) {
			char msg[1024];
			match_refusal_message(r->ctx.match, res.rule, rc, r->buf, (size_t)n, msg,
					      sizeof(msg));
			fprintf(stderr, "ctxpack: %s\n", msg);
			return -1;
		}
		df = dockerctx_is_dockerfile(&r->ctx, r->buf, (size_t)n);
		/* Only what exists refines the rules' answer. */
		type = res.pruned ? -ENOENT : walk_type_at(r->ctx.rootfd, r->buf, (size_t)n);
		explain_policy_in(&res, r->ctx.builder, type < 0 ? POLICY_TYPE_UNKNOWN : type, df,
				  &in);
		policy_decide(&in, &pd);
		res.sent = pd.sent;
		if (pd.forced) {
			res.pruned = false;
			res.verdict = CTXPACK_INCLUDE;
			forced = malloc((size_t)n + 2);
			if (forced) {
				forced[0] = '!';
				memcpy(forced + 1, r->buf, (size_t)n);
				forced[n + 1] = '\0';
			}
		}
		if (pd.candidate && !pd.sent) {
			rc = sends_below(r, r->buf, &res);
			if (rc < 0)
				return -1;
			res.sent = parent = rc == 1;
		}
	}
	emit(r, given, glen, &res, forced, pd.skip == POLICY_SKIP_SOCKET ? "socket" : NULL, parent);
	free(forced);
	return 0;
}

static int check_stdin(struct ci_run *r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	while ((len = getdelim(&line, &cap, r->a->nul ? '\0' : '\n', stdin)) > 0) {
		if (!r->a->nul && line[len - 1] == '\n')
			len--;
		else if (r->a->nul && line[len - 1] == '\0')
			len--;
		if (len == 0)
			continue;
		rc = check_one(r, line, (size_t)len);
		if (rc)
			break;
	}
	free(line);
	return rc;
}

static int cmd_check_ignore(const struct command *cmd, int argc, char **argv)
{
	struct ci_args a = { .builder = CTXPACK_BUILDER_BUILDKIT };
	struct ci_run r = { .a = &a };
	int first = opts_parse(cmd, argc, argv, ci_opt, &a), rc = 0;

	if (first < 0)
		return first == -2 ? 0 : 2;
	if (!a.from_stdin && first >= argc) {
		usage_error(cmd, "no path given (name paths, or use --stdin)");
		return 2;
	}
	if (a.from_stdin && first < argc) {
		usage_error(cmd, "paths given with --stdin");
		return 2;
	}
	if (a.dir && chdir(a.dir) < 0) {
		fprintf(stderr, "ctxpack: cannot change to directory '%s': %s\n", a.dir, strerror(errno));
		return 2;
	}
	if (dockerctx_open(&r.ctx, ".", a.file, a.builder)) {
		fprintf(stderr, "ctxpack: %s\n", r.ctx.errmsg);
		dockerctx_close(&r.ctx);
		return 2;
	}
	if (r.ctx.ignore_unreadable && !r.ctx.ignore_text) {
		/* As every other command: pack cannot send it, so no build
		 * of this context happens as ctxpack would describe it. */
		fprintf(stderr,
			"ctxpack: cannot read '.dockerignore': %s (BuildKit would read it as empty, so "
			"no rule would apply; ctxpack pack fails on it)\n",
			strerror(r.ctx.ignore_unreadable));
		dockerctx_close(&r.ctx);
		return 2;
	}
	if (explainer_init(&r.ex, r.ctx.match)) {
		fprintf(stderr, "ctxpack: out of memory\n");
		dockerctx_close(&r.ctx);
		return 2;
	}
	if (a.json && !a.quiet) {
		printf("{\"version\":1,\"builder\":\"%s\",\"ignore_file\":",
		       a.builder == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit");
		if (r.ctx.ignore_source)
			json_string(stdout, r.ctx.ignore_source, strlen(r.ctx.ignore_source));
		else
			fputs("null", stdout);
		fputs(",\"dockerfile\":", stdout);
		if (r.ctx.dockerfile)
			json_string(stdout, r.ctx.dockerfile, strlen(r.ctx.dockerfile));
		else
			fputs("null", stdout);
		fputs(",\"results\":[", stdout);
	}
	if (a.from_stdin)
		rc = check_stdin(&r);
	for (int i = first; !rc && i < argc; i++)
		rc = check_one(&r, argv[i], strlen(argv[i]));
	if (a.json && !a.quiet && !rc)
		fputs("\n]}\n", stdout);
	explainer_release(&r.ex);
	dockerctx_close(&r.ctx);
	free(r.buf);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		return 2;
	}
	if (rc)
		return 2;
	return r.nignored ? 0 : 1;
}

const struct command check_ignore_command = {
	"check-ignore",
	"Tell, for each PATH, whether the build context would include it, and which\n"
	".dockerignore rule decided.",
	"[--builder=buildkit|classic] [-f DOCKERFILE] [-C DIR] [-v [-n]] [--json] [-z] (PATH... | --stdin)",
	check_ignore_details,
	check_ignore_opts,
	cmd_check_ignore,
	OPT_PATH_FILE, /* operands */
};
