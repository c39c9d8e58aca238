/* pack_cmd.c: `ctxpack pack` (the context as a tar on stdout or in a file)
 * and `ctxpack ls` (what pack would send). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildview.h"
#include "commands.h"
#include "dockerctx.h"
#include "members.h"
#include "jsonstr.h"
#include "outfile.h"
#include "pack.h"
#include "progress_line.h"
#include "report.h"
#include "rules.h"
#include "stats_run.h"

enum { OPT_COMPRESS = 256, OPT_LEVEL, OPT_MTIME, OPT_FORCE, OPT_JSON, OPT_ALL, OPT_EXCLUDED, OPT_STATS, OPT_MANIFEST, OPT_USED };

struct pack_args {
	struct pack_options o;
	const char *output;
	bool force, quiet, long_list, json, nul, all, excluded;
	struct budgets b;
	bool stats;
	const char *stats_file; /* --stats=FILE: JSON there; --stats: text on stderr */
	const char *manifest;   /* --manifest FILE */
	enum progress_mode progress;
	enum color_mode color;  /* of the --stats report */
	bool used;              /* --used: only what the build reads */
	const char *target;     /* --target */
	const char **build_args; /* --build-arg NAME[=VALUE], NULL-terminated */
	size_t nbuild_args, abuild_args;
};

static int pack_opt(int id, const char *arg, void *payload)
{
	struct pack_args *a = payload;
	long v;
	int rc = common_opt(id, arg, COMMON_DEST(a, .progress = &a->progress, .color = &a->color,
						     .budgets = &a->b));

	if (rc <= 0)
		return rc;
	switch (id) {
	case 'o': a->output = arg; break;
	case OPT_USED: a->used = true; break;
	case OPT_STATS:
		a->stats = true;
		a->stats_file = arg;
		break;
	case OPT_MANIFEST:
		a->manifest = arg;
		a->o.hash = true;
		break;
	case OPT_COMPRESS:
		return parse_compress(arg, &a->o.tar.compression);
	case OPT_LEVEL:
		if (opts_int("level", arg, 1, 22, &v))
			return -1;
		a->o.tar.level = (int)v;
		break;
	case OPT_MTIME:
		if (opts_int("mtime", arg, 0, LONG_MAX, &v))
			return -1;
		a->o.tar.clamp_mtime = true;
		a->o.tar.mtime_max = v;
		break;
	case OPT_FORCE: a->force = true; break;
	case 'q': a->quiet = true; break;
	case 'l': a->long_list = true; break;
	case OPT_JSON: a->json = true; break;
	case OPT_ALL: a->all = a->o.list_all = true; break;
	case OPT_EXCLUDED: a->excluded = a->o.list_all = true; break;
	case 'z': a->nul = true; break;
	}
	return 0;
}

static const struct opt pack_opts[] = {
	FILE_OPT,
	BUILDER_OPT(BUILDER_HELP),
	{ "output", 'o', OPT_ARG_REQUIRED, "FILE", "write the archive to FILE (atomically) instead of stdout", NULL, OPT_PATH_FILE },
	{ "used", OPT_USED, OPT_ARG_NONE, NULL, "only what the Dockerfile's build reads (BuildKit: what it transfers), the directories above it, the Dockerfile and the ignore file", NULL, 0 },
	TARGET_OPT("with --used: " TARGET_HELP),
	BUILD_ARG_OPT("with --used: " BUILD_ARG_HELP),
	{ "compress", OPT_COMPRESS, OPT_ARG_REQUIRED, "C", "none (default), gzip or zstd", "none|gzip|zstd", 0 },
	{ "level", OPT_LEVEL, OPT_ARG_REQUIRED, "N", "compression level", NULL, 0 },
	THREADS_OPT,
	{ "mtime", OPT_MTIME, OPT_ARG_REQUIRED, "EPOCH", "clamp every mtime to EPOCH (default: $SOURCE_DATE_EPOCH if set)", NULL, 0 },
	{ "force", OPT_FORCE, OPT_ARG_NONE, NULL, "write the archive even when stdout is a terminal", NULL, 0 },
	{ "quiet", 'q', OPT_ARG_NONE, NULL, "no messages but errors (and no progress line)", NULL, 0 },
	PROGRESS_LINE_OPT,
	{ "stats", OPT_STATS, OPT_ARG_OPTIONAL, "FILE", "after packing, the size report (as `ctxpack stats`) on stderr, or as JSON into FILE", NULL, OPT_PATH_FILE },
	COLOR_OPT("the --stats report"),
	{ "manifest", OPT_MANIFEST, OPT_ARG_REQUIRED, "FILE", "also write the manifest (as `ctxpack manifest`; JSON when FILE ends in .json), hashed in the same read", NULL, OPT_PATH_FILE },
	BUDGET_OPTS,
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static const char pack_details[] =
	"Writes the build context of DIR (default: the current directory) as a tar,\n"
	"exactly as the chosen builder would receive it: the same members in the\n"
	"same order with the same headers.  Use it as\n"
	"\n"
	"  ctxpack pack . | docker build -f Dockerfile -\n"
	"\n"
	"Whether the pipe is faster than docker build DIR depends on the builder\n"
	"(measured on dockerd 26.1, bench/README.md): with the classic builder\n"
	"(DOCKER_BUILDKIT=0) the pipe was as fast or faster.  BuildKit transfers a\n"
	"directory itself, incrementally (a rebuild sends file metadata and what\n"
	"changed), but uploads a tar on stdin whole: the pipe paid on trees of many\n"
	"files and cost on a small app and on large files.  ctxpack build sends\n"
	"the archive straight to the Engine API, without the docker CLI's hop: on\n"
	"warm BuildKit rebuilds 4-6 times as fast as docker build DIR (an app, a\n"
	"monorepo, 500,000 small files); on large unchanged files use its\n"
	"--skip-unchanged, or docker build DIR with ctxpack for lint, stats and\n"
	"budgets.  Pipe into docker build - where the docker CLI must run the\n"
	"build (a BuildKit session: --secret, --ssh, cache export).  BuildKit\n"
	"applies no .dockerignore to a tar on stdin: what the archive carries for\n"
	"the builder (the Dockerfile, a .dockerignore naming one added from\n"
	"outside) is seen by COPY . as well.\n"
	"\n"
	"A Dockerfile outside the context is added as .dockerfile.<hex> (named after\n"
	"its content) and its name is added to .dockerignore; the name to pass to\n"
	"docker build -f is printed on stderr.\n"
	"\n"
	"--used packs only what the Dockerfile's build reads: with BuildKit what it\n"
	"would transfer for that Dockerfile (the paths its COPY/ADD/RUN --mount\n"
	"sources name), with the classic builder what the build reads; with the\n"
	"directories above it, the Dockerfile and the ignore file.  --target and\n"
	"--build-arg pick the stages as docker build does.  A Dockerfile that cannot\n"
	"be read is an error; --stats still reports the whole context.\n"
	"\n"
	"Budgets are checked after the walk and before the first byte is written:\n"
	"a broken budget writes nothing (one line on stderr names it and the measured\n"
	"value).  --stats and budgets walk excluded directories too (metadata only).\n"
	"\n"
	"Output files (-o, --manifest, --stats=FILE; also stats --html): a regular\n"
	"file, or a new name, is replaced atomically (a temporary file in the same\n"
	"directory, fsynced and renamed over it; on failure the old file stays and\n"
	"nothing is left behind).  An existing file keeps its mode, and its owner\n"
	"and group where the process may set them; a new one gets 0666 minus the\n"
	"umask.  A symlink is written through: its target is replaced, the link\n"
	"stays.  A device, a FIFO, /dev/stdout, /dev/fd/N or /proc/self/fd/N is\n"
	"written directly (-o /dev/stdout is stdout, a pipe or a file opened with\n"
	">> included); a directory is an error.  Two outputs naming one file (after\n"
	"links: -o x.tar --manifest x.tar, or --manifest /dev/stdout with the\n"
	"archive on stdout) are a usage error, before anything is written;\n"
	"character devices such as /dev/null are exempt.\n"
	"\n"
	"Exit status: 0 the archive is complete; 1 it could not be made (nothing is\n"
	"left behind with -o; on stdout the stream ends early and the error says so);\n"
	"2 usage error; 4 a budget is broken (nothing written).\n";

/* SOURCE_DATE_EPOCH: 1 set and valid, 0 unset, -1 malformed (the
 * reproducible-builds specification asks tools to fail then). */
static int env_epoch(int64_t *out)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	*out = v;
	return 1;
}

/* pack_and_report's answer for a broken budget: not an errno, so that a
 * disk quota (EDQUOT) while writing is a failure (1), not a budget (4). */
#define BUDGET_BROKEN 1

static int pack_and_report(struct pack_args *a, char *err, size_t errsz);

/* The archive, --stats=FILE and --manifest FILE: three different files. */
static int pack_outputs_distinct(const struct command *cmd, const struct pack_args *a)
{
	struct outfile_use u[3];
	size_t n = 0;

	if (a->output && strcmp(a->output, "-"))
		u[n++] = (struct outfile_use){ "-o", a->output };
	else
		u[n++] = (struct outfile_use){ "the archive on stdout", NULL };
	if (a->stats_file)
		u[n++] = (struct outfile_use){ "--stats", a->stats_file };
	if (a->manifest)
		u[n++] = (struct outfile_use){ "--manifest", a->manifest };
	return outfile_distinct(cmd, u, n);
}

static int cmd_pack(const struct command *cmd, int argc, char **argv)
{
	struct pack_args a = { .o = { .builder = CTXPACK_BUILDER_BUILDKIT, .dir = "." },
			       .color = cli_color };
	char err[1024] = "";
	int first = opts_parse(cmd, argc, argv, pack_opt, &a), rc;

	if (context_arg(cmd, argc, argv, first, &a.o.dir)) {
		free(a.build_args);
		return first == -2 ? 0 : 2;
	}
	if (!a.o.tar.clamp_mtime) {
		int e = env_epoch(&a.o.tar.mtime_max);
		if (e < 0) {
			usage_error(cmd, "SOURCE_DATE_EPOCH='%s' is not a number of seconds", getenv("SOURCE_DATE_EPOCH"));
			free(a.build_args);
			return 2;
		}
		a.o.tar.clamp_mtime = e > 0;
	}
	if (pack_outputs_distinct(cmd, &a)) {
		free(a.build_args);
		return 2;
	}
	if ((!a.output || !strcmp(a.output, "-")) && isatty(STDOUT_FILENO) && !a.force) {
		fprintf(stderr, "ctxpack: stdout is a terminal; not writing an archive there (pipe it, use -o FILE, or --force)\n");
		free(a.build_args);
		return 2;
	}
	/* a level the codec refuses: before the walk, not after it */
	if (tar_options_check(&a.o.tar, err, sizeof(err))) {
		fprintf(stderr, "ctxpack: %s\n", err);
		free(a.build_args);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = pack_and_report(&a, err, sizeof(err));
	free(a.build_args);
	return rc == BUDGET_BROKEN ? EXIT_BUDGET : rc ? 1 : 0;
}

/* --manifest FILE: the members just written, with the hashes taken in
 * the reads that archived them (opened in o, committed by the caller). */
static int write_manifest(const char *path, const struct pack_session *ps, struct outfile *o)
{
	struct member_list l;
	size_t n = strlen(path);
	bool json = n >= 5 && !strcmp(path + n - 5, ".json");
	char err[1024];
	FILE *f;
	int rc = pack_members(ps, &l, err, sizeof(err));

	if (rc) {
		fprintf(stderr, "ctxpack: %s\n", err);
		return -1;
	}
	if (outfile_open(o, path) || !(f = outfile_stream(o)))
		rc = -1;
	else
		rc = json ? members_write_json(f, &l) : members_write_tsv(f, &l);
	if (rc < -1 && rc != -EIO) /* -EIO: a write error, outfile_commit's to report */
		fprintf(stderr, "ctxpack: cannot write '%s': %s\n", path, strerror(-rc));
	member_list_release(&l);
	return rc < 0 && rc != -EIO ? -1 : 0;
}

/* --used: the member plan restricted to what the build reads
 * (buildview_restrict).  A Dockerfile that cannot be read is a failure:
 * nothing is packed. */
static int restrict_used(struct pack_session *ps, const struct pack_args *a, char *err,
			 size_t errsz)
{
	struct buildview_options bo = { .builder = a->o.builder, .build_args = a->build_args,
					.target = a->target, .dfname = a->o.dockerfile };
	char why[512];
	int rc = buildview_restrict(ps, &bo, why, sizeof(why));

	if (rc == -ENOMEM)
		snprintf(err, errsz, "out of memory");
	else if (rc)
		snprintf(err, errsz, "--used: cannot tell what the build reads: %s", why);
	return rc;
}

/* The walk, the budgets (before the first byte), the archive, the report.
 * Returns 0, BUDGET_BROKEN, or a negative errno after
 * printing why. */
static int pack_and_report(struct pack_args *a, char *err, size_t errsz)
{
	bool measure = a->stats || budgets_any(&a->b);
	struct pack_session *ps = NULL;
	struct pack_report rep;
	struct stats s = { 0 };
	struct report r;
	struct outfile out = { 0 }, stats_out = { 0 }, manifest_out = { 0 };
	struct progress pg = { 0 };
	struct progress_line *pl = progress_line_start(&pg, a->progress, a->quiet);
	int rc;

	if (measure) {
		/* Sizes below pruned directories: for the report, and for
		 * --min-reduction; the other budgets do without them. */
		a->o.list_all = true;
		a->o.measure_pruned = a->stats || a->b.min_reduction_set;
	}
	a->o.progress = &pg;
	if (a->used)
		a->o.list_all = true; /* buildview resolves against every entry */
	rc = pack_open(&ps, &a->o, err, errsz);
	if (!rc && a->used)
		rc = restrict_used(ps, a, err, errsz);
	if (!rc && measure)
		rc = stats_measure(ps, &a->o, 10,
				   a->stats_file || a->b.fail_dead ? STATS_USES_ALL
				   : a->stats			   ? STATS_USES_SHOWN
								   : STATS_USES_NONE,
				   NULL, &s, &r, err, errsz);
	if (!rc && a->b.max_size_set) {
		rc = pack_write(ps, -1, &rep, err, errsz); /* counts; reads nothing */
		r.tar_bytes = rep.tar_bytes;
	}
	if (rc) {
		progress_line_stop(&pl);
		fprintf(stderr, "ctxpack: %s\n", err);
		goto out;
	}
	if (measure && budgets_check(&r, &a->b)) {
		progress_line_stop(&pl);
		budgets_print_broken(stderr, &r);
		rc = BUDGET_BROKEN;
		goto out;
	}
	/* outfile_open's errors go on a line of their own: the progress line
	 * is taken down around it. */
	progress_line_stop(&pl);
	if (outfile_open(&out, a->output && strcmp(a->output, "-") ? a->output : NULL)) {
		rc = -EIO;
		goto out;
	}
	pl = progress_line_start(&pg, a->progress, a->quiet);
	rc = pack_write(ps, out.fd, &rep, err, errsz);
	progress_line_stop(&pl);
	if (rc == -EPIPE)
		fprintf(stderr, "ctxpack: the archive's reader went away (broken pipe); the context was not fully sent\n");
	else if (rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG)
		/* The output is full: say which (the message may name the
		 * file being copied, the kernel does not say which side). */
		fprintf(stderr, "ctxpack: %s (writing %s%s%s)\n", err, out.name ? "'" : "",
			out.name ? out.name : "stdout", out.name ? "'" : "");
	else if (rc)
		fprintf(stderr, "ctxpack: %s\n", err);
	if (!rc && a->stats) {
		r.tar_bytes = rep.tar_bytes;
		stats_archive(&r, &a->o.tar, rep.out_bytes);
		if (stats_write(a->stats_file, a->color, &r, &stats_out))
			rc = -EIO;
	}
	if (!rc && a->manifest && write_manifest(a->manifest, ps, &manifest_out))
		rc = -EIO;
	/* All or nothing, as far as renames go: a failure before the first
	 * rename (a full disk included) leaves every target as it was. */
	if (!rc && outfile_commit_all((struct outfile *const[]){ &out, &stats_out, &manifest_out }, 3))
		rc = -EIO;
	if (!rc && rep.dockerfile_name[0] && !a->quiet)
		fprintf(stderr, "ctxpack: the Dockerfile is outside the context; it is in the archive as '%s': use docker build -f %s -\n",
			rep.dockerfile_name, rep.dockerfile_name);
out:
	outfile_abort(&out);
	outfile_abort(&stats_out);
	outfile_abort(&manifest_out);
	progress_line_stop(&pl);
	stats_free(&s);
	pack_close(&ps);
	return rc;
}

/* SOURCE:LINE:PATTERN of rule i, or "-"; PATTERN is "<line N>" for an
 * ignore file outside the context (rules_shown). */
static void print_rule(const ctxpack_rules *r, long i, bool json)
{
	struct ctxpack_rule_info ri;
	const char *text;
	size_t len;
	char buf[32];

	if (!r || i < 0 || ctxpack_rules_get(r, (size_t)i, &ri)) {
		fputs(json ? "null" : "-", stdout);
		return;
	}
	rules_shown(r, (size_t)i, buf, sizeof(buf), &text, &len);
	if (json) {
		fputs("{\"source\":", stdout);
		json_string(stdout, ri.source, strlen(ri.source));
		printf(",\"line\":%d,\"pattern\":", ri.line);
		json_string(stdout, text, len);
		fputc('}', stdout);
		return;
	}
	printf("%s:%d:", ri.source, ri.line);
	fwrite(text, 1, len, stdout);
}

static const char *verdict_word(enum ctxpack_verdict v)
{
	return v == CTXPACK_EXCLUDE ? "excluded" : v == CTXPACK_INCLUDE ? "included" : "none";
}

/* One line (or JSON object) of `ls`: a walk entry, with m the member it
 * is archived as (NULL: not sent), or a generated member alone. */
static void ls_line(const struct pack_args *a, const ctxpack_rules *rules,
		    const struct walk_entry *e, const struct pack_member *m, bool first)
{
	char letter = member_types[m ? m->type : e->type].letter;
	uint32_t mode = m ? m->mode : e->mode;
	uint64_t size = m ? m->size : e->size;
	const char *path = m ? m->path : e->path, *link = m ? m->link : e->link;
	size_t len = m ? m->len : e->len;
	bool generated = m && m->kind >= PM_IGNORE_REWRITTEN;

	if (a->json) {
		fputs(first ? "\n{\"path\":" : ",\n{\"path\":", stdout);
		json_string(stdout, path, len);
		printf(",\"type\":\"%c\",\"mode\":\"%04o\",\"size\":%llu", letter, (unsigned)mode,
		       (unsigned long long)size);
		if (link) {
			fputs(",\"link\":", stdout);
			json_string(stdout, link, strlen(link));
		}
		printf(",\"parent_only\":%s", e && e->parent ? "true" : "false");
		if (a->o.list_all) {
			printf(",\"sent\":%s,\"verdict\":\"%s\",\"rule\":", m ? "true" : "false",
			       verdict_word(e ? e->verdict : CTXPACK_NONE));
			print_rule(rules, !e || e->forced ? -1 : e->rule, true);
		}
		if (generated)
			fputs(",\"generated\":true", stdout);
		putchar('}');
		return;
	}
	if (a->all)
		fputs(!m ? "excluded\t" : e && e->parent ? "parent\t" : "sent\t", stdout);
	if (a->o.list_all) {
		print_rule(rules, !e || e->forced ? -1 : e->rule, false);
		putchar('\t');
	}
	if (a->long_list)
		printf("%c %04o %12llu ", letter, (unsigned)mode, (unsigned long long)size);
	fwrite(path, 1, len, stdout);
	if (e && e->type == WT_DIR)
		putchar('/');
	if (a->long_list && link)
		printf(" -> %s", link);
	putchar(a->nul ? '\0' : '\n');
}

static int cmd_ls(const struct command *cmd, int argc, char **argv)
{
	struct pack_args a = { .o = { .builder = CTXPACK_BUILDER_BUILDKIT, .dir = "." } };
	struct pack_session *ps = NULL;
	const struct walk_result *res;
	const struct pack_plan *pl;
	const ctxpack_rules *rules;
	char err[1024] = "";
	size_t k = 0, shown = 0;
	int first = opts_parse(cmd, argc, argv, pack_opt, &a), rc;

	if (context_arg(cmd, argc, argv, first, &a.o.dir))
		return first == -2 ? 0 : 2;
	rc = pack_open(&ps, &a.o, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "ctxpack: %s\n", err);
		return 1;
	}
	res = pack_entries(ps);
	pl = pack_plan(ps);
	rules = pack_context(ps)->rules;
	if (a.json)
		fputs("{\"version\":1,\"entries\":[", stdout);
	/* The walk in order (what is not sent too, with --all), each sent
	 * entry as the member the plan archives it as; the plan's sent
	 * entries are the walk's, in the walk's order. */
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		const struct pack_member *m = e->sent ? &pl->v[k++] : NULL;
		if (!a.excluded || !m)
			ls_line(&a, rules, e, m, !shown++);
	}
	/* What pack adds for a Dockerfile outside the context, last. */
	for (; k < pl->n && !a.excluded; k++)
		ls_line(&a, rules, NULL, &pl->v[k], !shown++);
	if (a.json)
		fputs("\n]}\n", stdout);
	pack_close(&ps);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static const struct opt ls_opts[] = {
	FILE_OPT,
	BUILDER_OPT(BUILDER_HELP),
	{ "long", 'l', OPT_ARG_NONE, NULL, "show type, mode and size", NULL, 0 },
	{ "all", OPT_ALL, OPT_ARG_NONE, NULL, "also what is not sent: STATUS<TAB>RULE<TAB>PATH", NULL, 0 },
	{ "excluded", OPT_EXCLUDED, OPT_ARG_NONE, NULL, "only what is not sent: RULE<TAB>PATH", NULL, 0 },
	{ "json", OPT_JSON, OPT_ARG_NONE, NULL, "one JSON document", NULL, 0 },
	{ "null", 'z', OPT_ARG_NONE, NULL, "NUL-terminated names", NULL, 0 },
	THREADS_OPT,
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

const struct command pack_command = {
	"pack",
	"Write the build context of DIR as a tar, exactly as Docker would send it.",
	"[DIR] [-f DOCKERFILE] [--builder=buildkit|classic] [-o FILE] [--compress=none|gzip|zstd] [--level N] [-j N] [--mtime EPOCH]",
	pack_details,
	pack_opts,
	cmd_pack,
	OPT_PATH_DIR, /* operands */
};

const struct command ls_command = {
	"ls",
	"List what `ctxpack pack` would send, in archive order (and, with --all or\n"
	"--excluded, what it would not, with the deciding rule).",
	"[DIR] [-f DOCKERFILE] [--builder=buildkit|classic] [--all | --excluded] [-l] [--json] [-z]",
	"Directories end with '/'.  --all and --excluded come from the same walk:\n"
	"STATUS is sent, parent (an excluded directory sent because something below\n"
	"it is) or excluded; RULE is SOURCE:LINE:PATTERN of the deciding rule, or -.\n"
	"An excluded directory the walk never enters is listed once, without its\n"
	"contents.  Sent entries show the member as archived (as the manifest does):\n"
	"type h is a hard link to an earlier member (-l: '-> FIRST', size 0); the\n"
	".dockerignore that names a Dockerfile from outside the context, and the\n"
	"members generated for it, with their archived mode and size.\n"
	"With --json: {\"version\":1,\"entries\":[{\"path\", \"type\"\n"
	"(f d l p c b s h), \"mode\", \"size\", \"link\", \"parent_only\", with --all or\n"
	"--excluded \"sent\", \"verdict\", \"rule\" {source,line,pattern} or null, and\n"
	"\"generated\": true on what ctxpack writes}]}.\n",
	ls_opts,
	cmd_ls,
	OPT_PATH_DIR, /* operands */
};
