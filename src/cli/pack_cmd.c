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

#include "commands.h"
#include "dockerctx.h"
#include "members.h"
#include "jsonstr.h"
#include "pack.h"
#include "progress_line.h"
#include "report.h"
#include "rules.h"
#include "stats_run.h"

enum { OPT_BUILDER = 256, OPT_COMPRESS, OPT_LEVEL, OPT_MTIME, OPT_FORCE, OPT_JSON, OPT_ALL, OPT_EXCLUDED, OPT_STATS, OPT_PROGRESS, OPT_MANIFEST, OPT_COLOR };

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
};

static int pack_opt(int id, const char *arg, void *payload)
{
	struct pack_args *a = payload;
	long v;
	int rc = budget_opt(id, arg, &a->b);

	if (rc <= 0)
		return rc;
	switch (id) {
	case OPT_BUILDER:
		return parse_builder(arg, &a->o.builder);
	case 'f': a->o.dockerfile = arg; break;
	case 'o': a->output = arg; break;
	case OPT_STATS:
		a->stats = true;
		a->stats_file = arg;
		break;
	case OPT_PROGRESS:
		return progress_mode_parse(arg, &a->progress);
	case OPT_COLOR:
		return color_mode_parse(arg, &a->color);
	case OPT_MANIFEST:
		a->manifest = arg;
		a->o.hash = true;
		break;
	case 'j':
		if (opts_int("threads", arg, 1, 1024, &v))
			return -1;
		a->o.threads = (int)v;
		break;
	case OPT_COMPRESS:
		if (!strcmp(arg, "none"))
			a->o.tar.compression = TAR_NONE;
		else if (!strcmp(arg, "gzip"))
			a->o.tar.compression = TAR_GZIP;
		else if (!strcmp(arg, "zstd"))
			a->o.tar.compression = TAR_ZSTD;
		else {
			usage_error(NULL, "invalid argument '%s' for --compress: expected none, gzip or zstd", arg);
			return -1;
		}
		break;
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

/* The output.  A regular file is written atomically: into an unnamed
 * O_TMPFILE in the target's directory (invisible to the walk, even when the
 * target is inside the context, and gone by itself if the run dies), then
 * linked under a temporary name and renamed over the target.  Where
 * O_TMPFILE is not supported a named temporary file is used and removed on
 * failure or signal.  A target that exists and is not a regular file (a
 * device, a FIFO) is written directly. */
struct output {
	int fd;
	bool to_stdout, direct, unnamed;
	char dir[PATH_MAX];
};

static volatile sig_atomic_t tmp_set;
static char tmp_path[PATH_MAX];

static void on_signal(int sig)
{
	if (tmp_set)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Blocks (or restores) SIGINT and SIGTERM around naming a temporary file,
 * so that a signal never leaves one behind. */
static void hold_signals(bool hold, sigset_t *old)
{
	sigset_t set;

	if (!hold) {
		sigprocmask(SIG_SETMASK, old, NULL);
		return;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, old);
}

static int open_output(const char *output, struct output *o)
{
	const char *slash;
	struct stat st;
	sigset_t old;
	int n;

	memset(o, 0, sizeof(*o));
	if (!output || !strcmp(output, "-")) {
		o->fd = STDOUT_FILENO;
		o->to_stdout = true;
		return 0;
	}
	if (stat(output, &st) == 0 && !S_ISREG(st.st_mode)) {
		o->fd = open(output, O_WRONLY | O_CLOEXEC);
		if (o->fd < 0) {
			fprintf(stderr, "ctxpack: cannot open '%s': %s\n", output, strerror(errno));
			return -1;
		}
		o->direct = true;
		return 0;
	}
	slash = strrchr(output, '/');
	n = snprintf(o->dir, sizeof(o->dir), "%.*s", slash ? (int)(slash - output + (slash == output)) : 1,
		     slash ? output : ".");
	if (n < 0 || (size_t)n >= sizeof(o->dir)) {
		fprintf(stderr, "ctxpack: output path too long: '%s'\n", output);
		return -1;
	}
	o->fd = open(o->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
	if (o->fd >= 0) {
		o->unnamed = true;
		return 0;
	}
	n = snprintf(tmp_path, sizeof(tmp_path), "%.*s.ctxpack-XXXXXX", slash ? (int)(slash - output + 1) : 0,
		     output);
	if (n < 0 || (size_t)n >= sizeof(tmp_path)) {
		fprintf(stderr, "ctxpack: output path too long: '%s'\n", output);
		return -1;
	}
	hold_signals(true, &old);
	o->fd = mkostemp(tmp_path, O_CLOEXEC);
	tmp_set = o->fd >= 0;
	hold_signals(false, &old);
	if (o->fd < 0) {
		fprintf(stderr, "ctxpack: cannot create a file next to '%s': %s\n", output, strerror(errno));
		return -1;
	}
	return 0;
}

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* Gives the unnamed file a temporary name next to the target. */
static int name_tmpfile(const char *output, struct output *o)
{
	char proc[64];
	sigset_t old;
	int rc = -1;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	for (int i = 0; i < 100 && rc < 0; i++) {
		int n = snprintf(tmp_path, sizeof(tmp_path), "%s/.%s.ctxpack-%d-%d", o->dir,
				 strrchr(output, '/') ? strrchr(output, '/') + 1 : output, (int)getpid(), i);
		if (n < 0 || (size_t)n >= sizeof(tmp_path))
			return -1;
		hold_signals(true, &old);
		rc = linkat(AT_FDCWD, proc, AT_FDCWD, tmp_path, AT_SYMLINK_FOLLOW);
		tmp_set = rc == 0;
		hold_signals(false, &old);
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return rc;
}

static int finish_output(const char *output, struct output *o, bool ok)
{
	if (o->to_stdout)
		return 0;
	if (o->direct) {
		if (close(o->fd) < 0 && ok) {
			fprintf(stderr, "ctxpack: cannot write '%s': %s\n", output, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (ok && fchmod(o->fd, 0666 & ~current_umask()) == 0 && fsync(o->fd) == 0 &&
	    (!o->unnamed || name_tmpfile(output, o) == 0) && rename(tmp_path, output) == 0) {
		tmp_set = 0;
		if (close(o->fd) == 0)
			return 0;
	}
	if (ok)
		fprintf(stderr, "ctxpack: cannot write '%s': %s\n", output, strerror(errno));
	close(o->fd);
	if (tmp_set)
		unlink(tmp_path);
	tmp_set = 0;
	return -1;
}

static const struct opt pack_opts[] = {
	{ "file", 'f', OPT_ARG_REQUIRED, "DOCKERFILE", "the Dockerfile, relative to the current directory (default DIR/Dockerfile)", NULL, OPT_PATH_FILE },
	{ "builder", OPT_BUILDER, OPT_ARG_REQUIRED, "B", "buildkit (default) or classic semantics", CHOICES_BUILDER, 0 },
	{ "output", 'o', OPT_ARG_REQUIRED, "FILE", "write the archive to FILE (atomically) instead of stdout", NULL, OPT_PATH_FILE },
	{ "compress", OPT_COMPRESS, OPT_ARG_REQUIRED, "C", "none (default), gzip or zstd", "none|gzip|zstd", 0 },
	{ "level", OPT_LEVEL, OPT_ARG_REQUIRED, "N", "compression level", NULL, 0 },
	{ "threads", 'j', OPT_ARG_REQUIRED, "N", "walker threads (default: online CPUs)", NULL, 0 },
	{ "mtime", OPT_MTIME, OPT_ARG_REQUIRED, "EPOCH", "clamp every mtime to EPOCH (default: $SOURCE_DATE_EPOCH if set)", NULL, 0 },
	{ "force", OPT_FORCE, OPT_ARG_NONE, NULL, "write the archive even when stdout is a terminal", NULL, 0 },
	{ "quiet", 'q', OPT_ARG_NONE, NULL, "no messages but errors (and no progress line)", NULL, 0 },
	{ "progress", OPT_PROGRESS, OPT_ARG_REQUIRED, "WHEN", "progress line on stderr: auto (when a terminal; default), always, never", CHOICES_WHEN, 0 },
	{ "stats", OPT_STATS, OPT_ARG_OPTIONAL, "FILE", "after packing, the size report (as `ctxpack stats`) on stderr, or as JSON into FILE", NULL, OPT_PATH_FILE },
	{ "color", OPT_COLOR, OPT_ARG_OPTIONAL, "WHEN", "colour the --stats report: auto (default: a terminal, no NO_COLOR), always (a bare --color), never", CHOICES_WHEN, 0 },
	{ "manifest", OPT_MANIFEST, OPT_ARG_REQUIRED, "FILE", "also write the manifest (as `ctxpack manifest`; JSON when FILE ends in .json), hashed in the same read", NULL, OPT_PATH_FILE },
	{ "max-size", OPT_MAX_SIZE, OPT_ARG_REQUIRED, "BYTES", "budget: the uncompressed tar at most BYTES (K/M/G: 1024s, KB/MB/GB: 1000s)", NULL, 0 },
	{ "max-files", OPT_MAX_FILES, OPT_ARG_REQUIRED, "N", "budget: at most N regular files sent", NULL, 0 },
	{ "min-reduction", OPT_MIN_REDUCTION, OPT_ARG_REQUIRED, "PCT", "budget: the rules leave out at least PCT % of the bytes", NULL, 0 },
	{ "fail-on-dead-rules", OPT_FAIL_DEAD_RULES, OPT_ARG_NONE, NULL, "budget: every rule decides something", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static const char pack_details[] =
	"Writes the build context of DIR (default: the current directory) as a tar,\n"
	"exactly as the chosen builder would receive it: the same members in the\n"
	"same order with the same headers.  Use it as\n"
	"\n"
	"  ctxpack pack . | docker build -f Dockerfile -\n"
	"\n"
	"A Dockerfile outside the context is added as .dockerfile.<hex> (named after\n"
	"its content) and its name is added to .dockerignore; the name to pass to\n"
	"docker build -f is printed on stderr.\n"
	"\n"
	"Budgets are checked after the walk and before the first byte is written:\n"
	"a broken budget writes nothing (one line on stderr names it and the measured\n"
	"value).  --stats and budgets walk excluded directories too (metadata only).\n"
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

static int cmd_pack(const struct command *cmd, int argc, char **argv)
{
	struct pack_args a = { .o = { .builder = CTXPACK_BUILDER_BUILDKIT, .dir = "." },
			       .color = cli_color };
	char err[1024] = "";
	int first = opts_parse(cmd, argc, argv, pack_opt, &a), rc;

	if (context_arg(cmd, argc, argv, first, &a.o.dir))
		return first == -2 ? 0 : 2;
	if (!a.o.tar.clamp_mtime) {
		int e = env_epoch(&a.o.tar.mtime_max);
		if (e < 0) {
			usage_error(cmd, "SOURCE_DATE_EPOCH='%s' is not a number of seconds", getenv("SOURCE_DATE_EPOCH"));
			return 2;
		}
		a.o.tar.clamp_mtime = e > 0;
	}
	if ((!a.output || !strcmp(a.output, "-")) && isatty(STDOUT_FILENO) && !a.force) {
		fprintf(stderr, "ctxpack: stdout is a terminal; not writing an archive there (pipe it, use -o FILE, or --force)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = pack_and_report(&a, err, sizeof(err));
	return rc == BUDGET_BROKEN ? EXIT_BUDGET : rc ? 1 : 0;
}

/* Writes --stats: JSON into the file named, or text on stderr. */
static int write_stats(const struct pack_args *a, const struct report *r)
{
	FILE *f;

	if (!a->stats_file) {
		report_text(stderr, r, 10, color_enabled(a->color, stderr));
		return 0;
	}
	f = fopen(a->stats_file, "w");
	if (!f) {
		fprintf(stderr, "ctxpack: cannot write the statistics to '%s': %s\n", a->stats_file,
			strerror(errno));
		return -1;
	}
	report_json(f, r);
	if (fclose(f)) {
		fprintf(stderr, "ctxpack: cannot write the statistics to '%s': %s\n", a->stats_file,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* --manifest FILE: the members just written, with the hashes taken in
 * the reads that archived them. */
static int write_manifest(const char *path, const struct pack_session *ps)
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
	f = fopen(path, "w");
	if (f) {
		rc = json ? members_write_json(f, &l) : members_write_tsv(f, &l);
		if (fclose(f))
			rc = -1;
	}
	member_list_release(&l);
	if (!f || rc) {
		fprintf(stderr, "ctxpack: cannot write the manifest to '%s': %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
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
	struct output out;
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
	rc = pack_open(&ps, &a->o, err, errsz);
	if (!rc && measure)
		rc = stats_measure(ps, &a->o, 10, &s, &r, err, errsz);
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
	/* open_output's errors go on a line of their own: the progress line
	 * is taken down around it. */
	progress_line_stop(&pl);
	if (open_output(a->output, &out)) {
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
		fprintf(stderr, "ctxpack: %s (writing %s%s%s)\n", err, out.to_stdout ? "" : "'",
			out.to_stdout ? "stdout" : a->output, out.to_stdout ? "" : "'");
	else if (rc)
		fprintf(stderr, "ctxpack: %s\n", err);
	if (finish_output(a->output, &out, rc == 0))
		rc = rc ? rc : -EIO;
	if (!rc && rep.dockerfile_name[0] && !a->quiet)
		fprintf(stderr, "ctxpack: the Dockerfile is outside the context; it is in the archive as '%s': use docker build -f %s -\n",
			rep.dockerfile_name, rep.dockerfile_name);
	if (!rc && a->stats) {
		r.tar_bytes = rep.tar_bytes;
		if (write_stats(a, &r))
			rc = -EIO;
	}
	if (!rc && a->manifest && write_manifest(a->manifest, ps))
		rc = -EIO;
out:
	progress_line_stop(&pl);
	stats_free(&s);
	pack_close(&ps);
	return rc;
}

static const char *type_char(uint8_t t)
{
	static const char *const c[] = { "f", "d", "l", "p", "c", "b", "s" };
	return t < 7 ? c[t] : "?";
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

static int cmd_ls(const struct command *cmd, int argc, char **argv)
{
	struct pack_args a = { .o = { .builder = CTXPACK_BUILDER_BUILDKIT, .dir = "." } };
	struct walk_result res;
	struct pack_report rep;
	struct dockerctx ctx = { 0 };
	const ctxpack_rules *rules = NULL;
	char err[1024] = "";
	bool has_ignore = false;
	int first = opts_parse(cmd, argc, argv, pack_opt, &a), rc;

	if (context_arg(cmd, argc, argv, first, &a.o.dir))
		return first == -2 ? 0 : 2;
	rc = pack_list(&a.o, &res, &rep, &ctx, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "ctxpack: %s\n", err);
		return 1;
	}
	rules = ctx.rules;
	if (a.json)
		fputs("{\"version\":1,\"entries\":[", stdout);
	for (size_t i = 0; i < res.n; i++) {
		const struct walk_entry *e = res.v[i];
		has_ignore |= e->len == 13 && !memcmp(e->path, ".dockerignore", 13) && e->sent;
		if (a.excluded && e->sent)
			continue;
		if (a.json) {
			fputs(i ? ",\n{\"path\":" : "\n{\"path\":", stdout);
			json_string(stdout, e->path, e->len);
			printf(",\"type\":\"%s\",\"mode\":\"%04o\",\"size\":%llu", type_char(e->type),
			       (unsigned)e->mode, (unsigned long long)e->size);
			if (e->link) {
				fputs(",\"link\":", stdout);
				json_string(stdout, e->link, strlen(e->link));
			}
			printf(",\"parent_only\":%s", e->parent ? "true" : "false");
			if (a.o.list_all) {
				printf(",\"sent\":%s,\"verdict\":\"%s\",\"rule\":", e->sent ? "true" : "false",
				       verdict_word(e->verdict));
				print_rule(rules, e->forced ? -1 : e->rule, true);
			}
			putchar('}');
			continue;
		}
		if (a.all)
			fputs(!e->sent ? "excluded\t" : e->parent ? "parent\t" : "sent\t", stdout);
		if (a.o.list_all) {
			print_rule(rules, e->forced ? -1 : e->rule, false);
			putchar('\t');
		}
		if (a.long_list)
			printf("%s %04o %12llu ", type_char(e->type), (unsigned)e->mode,
			       (unsigned long long)e->size);
		fwrite(e->path, 1, e->len, stdout);
		if (e->type == WT_DIR)
			putchar('/');
		if (a.long_list && e->link)
			printf(" -> %s", e->link);
		putchar(a.nul ? '\0' : '\n');
	}
	/* What pack adds for a Dockerfile outside the context, last. */
	for (int k = 0; rep.dockerfile_name[0] && !a.excluded && k < 2; k++) {
		const char *name = k ? rep.dockerfile_name : ".dockerignore";
		if (!k && has_ignore)
			continue;
		if (a.json) {
			fputs(res.n || k ? ",\n{\"path\":" : "\n{\"path\":", stdout);
			json_string(stdout, name, strlen(name));
			fputs(",\"type\":\"f\",\"mode\":\"0600\",\"generated\":true}", stdout);
			continue;
		}
		if (a.all)
			fputs("sent\t-\t", stdout);
		if (a.long_list)
			printf("f 0600 %12s ", "-");
		fputs(name, stdout);
		putchar(a.nul ? '\0' : '\n');
	}
	if (a.json)
		fputs("\n]}\n", stdout);
	walk_result_release(&res);
	dockerctx_close(&ctx);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static const struct opt ls_opts[] = {
	{ "file", 'f', OPT_ARG_REQUIRED, "DOCKERFILE", "the Dockerfile, relative to the current directory", NULL, OPT_PATH_FILE },
	{ "builder", OPT_BUILDER, OPT_ARG_REQUIRED, "B", "buildkit (default) or classic semantics", CHOICES_BUILDER, 0 },
	{ "long", 'l', OPT_ARG_NONE, NULL, "show type, mode and size", NULL, 0 },
	{ "all", OPT_ALL, OPT_ARG_NONE, NULL, "also what is not sent: STATUS<TAB>RULE<TAB>PATH", NULL, 0 },
	{ "excluded", OPT_EXCLUDED, OPT_ARG_NONE, NULL, "only what is not sent: RULE<TAB>PATH", NULL, 0 },
	{ "json", OPT_JSON, OPT_ARG_NONE, NULL, "one JSON document", NULL, 0 },
	{ "null", 'z', OPT_ARG_NONE, NULL, "NUL-terminated names", NULL, 0 },
	{ "threads", 'j', OPT_ARG_REQUIRED, "N", "walker threads (default: online CPUs)", NULL, 0 },
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
	"contents.  With --json: {\"version\":1,\"entries\":[{\"path\", \"type\"\n"
	"(f d l p c b s), \"mode\", \"size\", \"link\", \"parent_only\", and with --all or\n"
	"--excluded \"sent\", \"verdict\", \"rule\" {source,line,pattern} or null}]}.\n",
	ls_opts,
	cmd_ls,
	OPT_PATH_DIR, /* operands */
};
