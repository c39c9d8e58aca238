/* stats_cmd.c: `ctxpack stats` (what the ignore file saves) and the
 * measuring half of `pack --stats`: one walk of everything, sent or not. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "dockerctx.h"
#include "dupes.h"
#include "hashcache.h"
#include "html_report.h"
#include "outfile.h"
#include "pack.h"
#include "progress_line.h"
#include "report.h"
#include "stats_run.h"

enum { OPT_JSON = 256, OPT_TOP, OPT_HTML, OPT_ESTIMATE, OPT_DUPLICATES, OPT_NO_CACHE };

struct stats_args {
	struct pack_options o;
	struct budgets b;
	bool json;
	long top;
	const char *html; /* --html FILE */
	enum progress_mode progress;
	enum color_mode color;
	bool quiet, estimate, duplicates, no_cache;
	const char *target;	 /* --target, or NULL: the last stage */
	const char **build_args; /* --build-arg NAME[=VALUE], NULL-terminated */
	size_t nbuild_args, abuild_args;
};

/* Does the text report name a rule's use?  Only a rule that decides
 * nothing's ("decides nothing (dead)"). */
static bool uses_shown(const struct stats *s)
{
	for (size_t i = 0; i < s->nrules; i++)
		if (!s->rules[i].decided)
			return true;
	return false;
}

/* r's used part: what the build reads of what is sent (used_reads), and
 * with BuildKit what it transfers (transfer_compute).  -ENOMEM only: a
 * Dockerfile that cannot be read is said in r->used_why. */
static int measure_used(struct pack_session *ps, const struct buildview_options *bo, size_t top,
			struct report *r)
{
	const struct walk_result *res = pack_entries(ps);
	struct buildview v;
	uint8_t *flags = NULL;
	int rc = buildview_open(&v, (struct dockerctx *)pack_context(ps), res, bo, r->used_why,
				sizeof(r->used_why));

	if (rc) {
		buildview_close(&v);
		return rc == -ENOMEM ? rc : 0;
	}
	flags = calloc(res->n ? res->n : 1, 1);
	if (!flags) {
		buildview_close(&v);
		return -ENOMEM;
	}
	used_reads(&v.used, flags);
	stats_used(&r->used, &r->unused, res, flags);
	/* kept for the HTML page's used / unused / excluded colours */
	r->used_flags = malloc(res->n ? res->n : 1);
	if (!r->used_flags) {
		free(flags);
		buildview_close(&v);
		return -ENOMEM;
	}
	memcpy(r->used_flags, flags, res->n ? res->n : 1);
	if (stats_unread_dirs(&r->unread_dirs, &r->nunread_dirs, top, res, flags)) {
		free(flags);
		buildview_close(&v);
		return -ENOMEM;
	}
	r->instrs = calloc(v.nsrc ? v.nsrc : 1, sizeof(*r->instrs));
	if (!r->instrs) {
		free(flags);
		buildview_close(&v);
		return -ENOMEM;
	}
	/* each instruction's sources alone (one resolution at a time) */
	for (size_t i = 0; i < v.used.n;) {
		size_t instr = v.used.v[i].src->instr, j = i;
		const struct df_instr *in = &v.df->instrs[instr];
		struct report_instr *ri = &r->instrs[r->ninstrs++];
		struct stats_counts none = { 0 };
		struct used one = v.used;
		while (j < v.used.n && v.used.v[j].src->instr == instr)
			j++;
		one.v = &v.used.v[i];
		one.n = j - i;
		memset(flags, 0, res->n ? res->n : 1);
		used_reads(&one, flags);
		stats_used(&ri->read, &none, res, flags);
		ri->line = in->start_line;
		if (snprintf(ri->text, sizeof(ri->text), "%s", in->original) >= (int)sizeof(ri->text))
			memcpy(ri->text + sizeof(ri->text) - 4, "...", 4);
		i = j;
	}
	r->used_known = true;
	r->used_why[0] = '\0';
	if (bo->builder == CTXPACK_BUILDER_BUILDKIT) {
		rc = transfer_compute(&r->transfer, NULL, &v.used);
		r->transfer_known = rc == 0;
	}
	free(flags);
	buildview_close(&v);
	return rc == -ENOMEM ? rc : 0;
}

int stats_measure(struct pack_session *ps, const struct pack_options *o, size_t top,
		  enum stats_uses uses, const struct buildview_options *bo, struct stats *s,
		  struct report *r, char *err, size_t errsz)
{
	const struct dockerctx *ctx = pack_context(ps);
	const struct walk_result *res = pack_entries(ps);
	struct pack_report gen = { 0 };
	bool *linked = calloc(res->n ? res->n : 1, sizeof(*linked));
	int rc = linked ? 0 : -ENOMEM;

	if (!rc) {
		pack_plan_linked(ps, linked);
		rc = stats_compute(s, res, linked, ctxpack_rules_count(ctx->rules), top);
	}
	free(linked);
	if (!rc && (uses == STATS_USES_ALL || (uses == STATS_USES_SHOWN && uses_shown(s))))
		rc = stats_rule_uses(s, ctx->rules, o->builder, pack_entries(ps));
	if (rc) {
		snprintf(err, errsz, "out of memory");
		return rc;
	}
	pack_generated(ps, &gen);
	stats_add_generated(s, gen.generated_files, gen.generated_bytes);
	memset(r, 0, sizeof(*r));
	snprintf(r->used_why, sizeof(r->used_why), "not asked for");
	if (bo && measure_used(ps, bo, top, r)) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	r->s = s;
	r->rules = ctx->rules;
	r->context = ctx->root;
	r->builder = o->builder;
	r->dockerfile = gen.dockerfile_name[0] ? NULL : ctx->dockerfile;
	r->ignore_file = ctx->ignore_source;
	return 0;
}

/* One compressed size for --estimate-compression: the archive written
 * through the codec into /dev/null, on a thread of its own. */
struct estimate {
	struct pack_session *ps;
	struct tar_options to;
	uint64_t bytes;
	int rc;
	char err[512];
	pthread_t thread;
};

static void *estimate_run(void *arg)
{
	struct estimate *e = arg;
	struct pack_report rep;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		e->rc = -errno;
		snprintf(e->err, sizeof(e->err), "cannot open /dev/null: %s", strerror(errno));
		return NULL;
	}
	e->rc = pack_write_with(e->ps, fd, &e->to, &rep, e->err, sizeof(e->err));
	e->bytes = rep.out_bytes;
	close(fd);
	return NULL;
}

/* zstd (level 3, the codec's threads) and gzip (level 6) at once: the
 * two read the files in parallel; the page cache serves the second read. */
static int estimate_compression(struct pack_session *ps, const struct pack_options *o,
				struct report *r, char *err, size_t errsz)
{
	struct estimate e[2] = { { .ps = ps, .to = o->tar }, { .ps = ps, .to = o->tar } };
	int started = 0;

	e[0].to.compression = TAR_ZSTD;
	e[0].to.level = 3;
	e[1].to.compression = TAR_GZIP;
	e[1].to.level = 6;
	for (int i = 0; i < 2; i++) {
		if (pthread_create(&e[i].thread, NULL, estimate_run, &e[i]))
			estimate_run(&e[i]); /* no thread: one after the other */
		else
			started |= 1 << i;
	}
	for (int i = 0; i < 2; i++)
		if (started & (1 << i))
			pthread_join(e[i].thread, NULL);
	for (int i = 0; i < 2; i++)
		if (e[i].rc) {
			snprintf(err, errsz, "cannot estimate the compressed size: %s", e[i].err);
			return e[i].rc;
		}
	r->compressed = true;
	r->zstd_bytes = e[0].bytes;
	r->gzip_bytes = e[1].bytes;
	return 0;
}

static int stats_opt(int id, const char *arg, void *payload)
{
	struct stats_args *a = payload;
	int rc = common_opt(id, arg, COMMON_DEST(a, .progress = &a->progress, .color = &a->color,
						     .budgets = &a->b));

	if (rc <= 0)
		return rc;
	switch (id) {
	case OPT_JSON: a->json = true; break;
	case OPT_HTML: a->html = arg; break;
	case 'q': a->quiet = true; break;
	case OPT_ESTIMATE: a->estimate = true; break;
	case OPT_DUPLICATES: a->duplicates = true; break;
	case OPT_NO_CACHE: a->no_cache = true; break;
	case OPT_TOP:
		return opts_int("top", arg, 0, 100000, &a->top);
	}
	return 0;
}

/* The page of --html: the JSON document and the walk, written as every
 * named output is (outfile.h): a failed run leaves no half page. */
static int write_html(const char *path, const struct report *r, struct pack_session *ps)
{
	struct outfile o;
	char *json = NULL, err[512] = "";
	size_t len = 0;
	FILE *m = open_memstream(&json, &len), *f;
	int rc = -1;

	if (!m || (report_json(m, r), fclose(m))) {
		fprintf(stderr, "ctxpack: cannot write '%s': %s\n", path, strerror(errno));
		free(json);
		return -1;
	}
	if (!outfile_open(&o, path) && (f = outfile_stream(&o))) {
		rc = html_report_write(f, json, pack_entries(ps), pack_context(ps)->rules,
				       r->used_known ? r->used_flags : NULL, err, sizeof(err));
		if (rc && !ferror(f)) /* else a write error, outfile_commit's to report */
			fprintf(stderr, "ctxpack: cannot write '%s': %s\n", path, err);
		else
			rc = outfile_commit(&o);
	}
	outfile_abort(&o);
	free(json);
	return rc;
}

static const uint8_t *hash_of(const void *arg, size_t i)
{
	return pack_file_hash(arg, i);
}

/* --duplicates: the files that share a size are hashed (through the hash
 * cache unless --no-cache) and grouped by content. */
static int find_duplicates(struct pack_session *ps, const struct stats_args *a, struct dupes *d,
			   struct progress *pg, char *err, size_t errsz)
{
	const struct walk_result *res = pack_entries(ps);
	bool *want = malloc(res->n ? res->n : 1);
	struct hashcache *cache = NULL;
	int rc = want ? 0 : -ENOMEM;

	if (rc) {
		snprintf(err, errsz, "out of memory");
		return rc;
	}
	dupes_candidates(want, res);
	if (!a->no_cache)
		rc = hashcache_open(&cache, NULL, err, errsz);
	pg->verb = "hashed";
	if (!rc)
		rc = pack_hash(ps, want, cache, pg, NULL, err, errsz);
	if (!rc && cache && hashcache_save(cache, err, errsz) && !a->quiet)
		fprintf(stderr, "ctxpack: warning: the hash cache was not saved: %s\n", err);
	if (!rc && dupes_find(d, res, want, hash_of, ps)) {
		snprintf(err, errsz, "out of memory");
		rc = -ENOMEM;
	}
	hashcache_free(&cache);
	free(want);
	return rc;
}

static int cmd_stats(const struct command *cmd, int argc, char **argv)
{
	struct stats_args a = { .o = { .builder = CTXPACK_BUILDER_BUILDKIT, .dir = ".",
				       .list_all = true, .measure_pruned = true },
				.top = 10, .color = cli_color };
	struct pack_session *ps = NULL;
	struct pack_report rep;
	struct buildview_options bo;
	struct stats s = { 0 };
	struct report r = { 0 };
	struct dupes d = { 0 };
	struct progress pg = { 0 };
	struct progress_line *pl;
	char err[1024] = "";
	int first = opts_parse(cmd, argc, argv, stats_opt, &a), rc;
	size_t broken;

	if (context_arg(cmd, argc, argv, first, &a.o.dir)) {
		free(a.build_args);
		return first == -2 ? 0 : 2;
	}
	if (a.html && outfile_distinct(cmd, (const struct outfile_use[]){ { "--html", a.html },
									{ "the report on stdout", NULL } }, 2)) {
		free(a.build_args);
		return 2;
	}
	a.o.progress = &pg;
	bo = (struct buildview_options){ .builder = a.o.builder,
					 .build_args = a.build_args,
					 .target = a.target,
					 .dfname = a.o.dockerfile };
	pl = progress_line_start(&pg, a.progress, a.quiet);
	rc = pack_open(&ps, &a.o, err, sizeof(err));
	if (!rc)
		rc = stats_measure(ps, &a.o, (size_t)a.top,
				   a.json || a.html || a.b.fail_dead ? STATS_USES_ALL
								     : STATS_USES_SHOWN,
				   &bo, &s, &r, err, sizeof(err));
	/* The tar's size, counted: nothing is read but metadata. */
	if (!rc)
		rc = pack_write(ps, -1, &rep, err, sizeof(err));
	if (!rc && a.estimate)
		rc = estimate_compression(ps, &a.o, &r, err, sizeof(err));
	if (!rc && a.duplicates)
		rc = find_duplicates(ps, &a, &d, &pg, err, sizeof(err));
	progress_line_stop(&pl);
	if (rc) {
		fprintf(stderr, "ctxpack: %s\n", err);
		dupes_release(&d);
		stats_free(&s);
		free(r.instrs);
		free(r.unread_dirs);
		free(r.used_flags);
		pack_close(&ps);
		free(a.build_args);
		return 1;
	}
	r.tar_bytes = rep.tar_bytes;
	r.dupes = a.duplicates ? &d : NULL;
	r.top = (size_t)a.top;
	broken = budgets_check(&r, &a.b);
	if (a.json)
		report_json(stdout, &r);
	else
		report_text(stdout, &r, (size_t)a.top, color_enabled(a.color, stdout));
	rc = fflush(stdout) || ferror(stdout);
	if (rc)
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
	if (a.html && write_html(a.html, &r, ps))
		rc = 1;
	budgets_print_broken(stderr, &r);
	dupes_release(&d);
	stats_free(&s);
	free(r.instrs);
	free(r.unread_dirs);
	free(r.used_flags);
	pack_close(&ps);
	free(a.build_args);
	return rc ? 1 : broken ? EXIT_BUDGET : 0;
}

static const struct opt stats_opts[] = {
	FILE_OPT,
	BUILDER_OPT(BUILDER_HELP),
	TARGET_OPT(TARGET_HELP ": what the stages the build runs read"),
	BUILD_ARG_OPT(BUILD_ARG_HELP),
	{ "json", OPT_JSON, OPT_ARG_NONE, NULL, "one JSON document (schema: docs/stats.md)", NULL, 0 },
	{ "top", OPT_TOP, OPT_ARG_REQUIRED, "N", "length of each top list (default 10)", NULL, 0 },
	{ "estimate-compression", OPT_ESTIMATE, OPT_ARG_NONE, NULL, "also the zstd and gzip sizes of what is sent (reads every sent file)", NULL, 0 },
	{ "html", OPT_HTML, OPT_ARG_REQUIRED, "FILE", "also write a self-contained HTML page with a treemap (docs/html-report.md)", NULL, OPT_PATH_FILE },
	{ "duplicates", OPT_DUPLICATES, OPT_ARG_NONE, NULL, "also sent files with identical content and the bytes they repeat (reads the files that share a size)", NULL, 0 },
	{ "no-cache", OPT_NO_CACHE, OPT_ARG_NONE, NULL, "with --duplicates: neither use nor update the hash cache", NULL, 0 },
	BUDGET_OPTS,
	THREADS_OPT,
	PROGRESS_LINE_OPT,
	{ "quiet", 'q', OPT_ARG_NONE, NULL, "no progress line", NULL, 0 },
	COLOR_OPT("the report"),
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

const struct command stats_command = {
	"stats",
	"Show what the ignore file saves: scanned vs sent, per rule, largest offenders.",
	"[DIR] [-f DOCKERFILE] [--builder=buildkit|classic] [--json] [--top N] [--html FILE] [budgets]",
	"Walks everything under DIR once, excluded directories included (sized from\n"
	"metadata; no file is read), and reports:\n"
	"  scanned   everything under DIR;  excluded   what the rules leave out;\n"
	"  sent      what the builder receives (member sizes; a hard link's data once),\n"
	"  tar       the uncompressed tar stream pack would write;\n"
	"  reduction 1 - sent/scanned, in bytes and in files;\n"
	"then, per rule (SOURCE:LINE:PATTERN), the files and bytes it excluded (a\n"
	"directory the walk never enters counts for the rule that pruned it) and\n"
	"re-included, the rules that decide nothing, the largest files and\n"
	"directories sent, sent bytes by extension, and sent directories that look\n"
	"like dependencies, caches or build output.  With the Dockerfile (-f, -f -,\n"
	"--target, --build-arg): what the build reads of what is sent (read) and\n"
	"what no instruction reads (unread); with BuildKit, what it transfers for\n"
	"this Dockerfile (transfer: the paths the instructions name, as the engine's\n"
	"\"transferring context: N\" counts them).  A Dockerfile that cannot be read\n"
	"leaves that part out and says why.  Colour on a terminal unless\n"
	"NO_COLOR is set and not empty; --color=always colours even a pipe, NO_COLOR\n"
	"or not, and --color=never never colours.\n"
	"\n"
	"--duplicates also reads the sent files that share their size with another\n"
	"(through the hash cache of `ctxpack digest`) and lists groups of identical\n"
	"content with the bytes the copies repeat; hard links are not copies.\n"
	"\n"
	"--html FILE is written as pack's output files are (see `ctxpack pack\n"
	"--help`): atomically, through a symlink, keeping an existing file's mode;\n"
	"naming the file stdout already goes to is a usage error.\n"
	"\n"
	"Budgets (also on `pack`, checked before the first byte is written): each\n"
	"broken one prints one line on stderr naming it and the measured value.\n"
	"\n"
	"Exit status: 0 done, every budget kept; 1 the context could not be read;\n"
	"2 usage error; 4 a budget is broken.\n",
	stats_opts,
	cmd_stats,
	OPT_PATH_DIR, /* operands */
};

void stats_archive(struct report *r, const struct tar_options *to, uint64_t out_bytes)
{
	static const char *const names[] = { "none", "gzip", "zstd" };

	r->archive_compression = names[to->compression];
	r->archive_level = to->level;
	r->archive_bytes = out_bytes;
}

int stats_write(const char *file, enum color_mode color, const struct report *r,
		struct outfile *o)
{
	FILE *f;

	if (!file) {
		report_text(stderr, r, 10, color_enabled(color, stderr));
		return 0;
	}
	if (outfile_open(o, file) || !(f = outfile_stream(o)))
		return -1;
	report_json(f, r);
	return 0; /* a write error is outfile_commit's to report */
}
