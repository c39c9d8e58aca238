/* lint.c: `ctxpack lint`: what in a build context is probably a mistake:
 * rules that do nothing, paths the two builders disagree on, secrets and
 * bulky directories that would be sent, patterns BuildKit cannot send.
 *
 * Every check reads the walks `ctxpack ls --all` prints (pack_list with
 * list_all), so a finding always agrees with what `pack` would send. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "classify.h"
#include "commands.h"
#include "dockerctx.h"
#include "internal.h"
#include "jsonstr.h"
#include "lintconf.h"
#include "pattern.h"
#include "pack.h"
#include "report.h"
#include "rules.h"
#include "ruleuse.h"
#include "secrets.h"
#include "buildview.h"
#include "used.h"
#include "dockerfile.h"

enum { OPT_JSON = 256, OPT_FORMAT, OPT_CONFIG, OPT_MAX_FILE_SIZE, OPT_DISABLE, OPT_SEVERITY };

enum severity { SEV_INFO, SEV_WARNING, SEV_ERROR };

static const char *const severity_names[] = { "info", "warning", "error" };

enum format { FMT_TEXT, FMT_JSON, FMT_SARIF, FMT_GITHUB };

/* Every check's stable id (the finding's code) and default severity, for
 * --disable and --severity; docs/lint.md and --help list the same. */
static const struct check {
	const char *id;
	enum severity sev;
	const char *help; /* one sentence, for SARIF's rule descriptions */
} checks[] = {
	{ "bad-pattern", SEV_ERROR,
	  "A pattern Docker refuses or fails on (or ctxpack cannot reproduce), or a line over 64 KiB." },
	{ "control-bytes", SEV_ERROR,
	  "A pattern holds control bytes: BuildKit fails the build on it (patterns travel as gRPC metadata)." }, /* warning with --builder=classic */
	{ "secret-file", SEV_ERROR,
	  "A sent file that looks like or holds a credential: COPY . . would put it in an image layer; exclude it and pass it with RUN --mount=type=secret." },
	{ "missing-source", SEV_ERROR,
	  "A COPY/ADD/RUN --mount source of a stage the build runs matches nothing the builder sends: the build fails there." }, /* warning for a BuildKit wildcard */
	{ "dockerfile-invalid", SEV_ERROR,
	  "The builder refuses the Dockerfile (a syntax error, an unknown --target)." },
	{ "dead-rule", SEV_WARNING,
	  "A rule of the ignore file that matches no path of the context: a typo or a stale path." },
	{ "overridden-rule", SEV_WARNING,
	  "A rule that matches paths but never decides one: another rule decides every path it matches." }, /* info when an earlier exclusion shadows it */
	{ "builders-differ", SEV_WARNING,
	  "A path BuildKit sends and the classic builder does not, or the reverse." }, /* info for BuildKit's parent directories */
	{ "vcs-sent", SEV_WARNING,
	  "A version control directory (.git, .hg, .svn) is sent to the builder." },
	{ "dependencies-sent", SEV_WARNING,
	  "A directory of installed dependencies (node_modules, .venv...) is sent to the builder." },
	{ "cache-sent", SEV_WARNING,
	  "A cache directory (__pycache__, .cache, .gradle...) is sent to the builder." },
	{ "build-output-sent", SEV_WARNING,
	  "A build output directory (dist, build, target...) is sent to the builder." },
	{ "no-dockerignore", SEV_WARNING,
	  "The context has no ignore file: everything in it is sent." },
	{ "ignore-outside", SEV_WARNING,
	  "The ignore file lies outside the context; its lines are never quoted." },
	{ "backslash-escape", SEV_WARNING,
	  "A pattern holds a backslash before a letter or digit: Docker's patterns take it as an escape, not a directory separator; use '/'." },
	{ "trailing-comment", SEV_WARNING,
	  "A pattern line holds ' #': Docker does not strip trailing comments, so the comment is part of the pattern." },
	{ "root-only-rule", SEV_WARNING,
	  "A pattern without '/' matches only at the context root (unlike .gitignore) while a deeper path of that name is sent; '**/' before it matches at every depth." },
	{ "source-partly-excluded", SEV_WARNING,
	  "A directory the Dockerfile copies has excluded paths below it (often intended)." }, /* info when file-type rules leave out */
	{ "defensive-rule", SEV_INFO,
	  "A common defensive rule that matches nothing here (harmless)." },
	{ "redundant-rule", SEV_INFO,
	  "A rule a later rule of its kind makes redundant: deleting it changes nothing." },
	{ "large-file", SEV_INFO,
	  "A sent regular file larger than --max-file-size." },
	{ "dockerfile-excluded", SEV_INFO,
	  "The rules exclude the Dockerfile; what each builder then does is in the message." },
	{ "dockerfile-unsupported", SEV_INFO,
	  "The Dockerfile holds what ctxpack cannot read exactly: its sources are not checked." },
};
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

static long check_index(const char *id, size_t len)
{
	for (size_t i = 0; i < NCHECKS; i++)
		if (strlen(checks[i].id) == len && !memcmp(checks[i].id, id, len))
			return (long)i;
	return -1;
}

/* At most this many builders-differ findings are printed in text mode. */
#define DIFF_SHOWN 20

struct finding {
	const char *code;
	enum severity sev;
	char *file;     /* the ignore file (rule findings), or NULL */
	int line;       /* 0: none */
	char *path;     /* relative to the context, '/' after a directory; or NULL */
	size_t path_len;
	char *msg;      /* printable: bytes of patterns and paths escaped (text_fputq) */
	size_t msg_len;
};

struct lint_args {
	struct pack_options o;
	enum format format;
	unsigned long long max_file_size;
	const char *target;       /* --target, or NULL: the last stage */
	const char **build_args;  /* --build-arg NAME[=VALUE], NULL-terminated */
	size_t nbuild_args, abuild_args;
	bool disabled[NCHECKS];   /* --disable ID */
	int severity[NCHECKS];    /* --severity ID=LEVEL: the level, or -1 */
	const char *config;       /* --config FILE, or NULL: .ctxpack.conf in the context */
};

struct lint {
	struct lint_args *a;
	struct finding *v;
	size_t n, alloc;
	bool oom;
	/* The repository's settings: the config file's, then the ignore
	 * file's "# ctxpack:ignore" lines (lintconf.h). */
	bool conf_disabled[NCHECKS];
	int conf_severity[NCHECKS];
	char *ignore_source;      /* the ignore file the suppressions are of */
	char *ign_data;           /* its bytes as read (for raw_line), or NULL */
	size_t ign_len;
	struct lintconf_suppress *sup;
	size_t nsup;
};

/* ---- findings ---- */

/* A new finding with its message stream open (close it with msg_done);
 * NULL when out of memory. */
static FILE *finding_new(struct lint *l, const char *code, enum severity sev, const char *file,
			 int line, const char *path, size_t path_len, bool dir)
{
	struct finding *f;
	FILE *m;

	if (GROW(l->v, l->alloc, l->n + 1))
		goto oom;
	f = &l->v[l->n];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->sev = sev;
	f->line = line;
	if (file && !(f->file = strdup(file)))
		goto oom;
	if (path) {
		f->path = malloc(path_len + 2);
		if (!f->path) {
			free(f->file);
			goto oom;
		}
		memcpy(f->path, path, path_len);
		if (dir)
			f->path[path_len++] = '/';
		f->path[path_len] = '\0';
		f->path_len = path_len;
	}
	m = open_memstream(&f->msg, &f->msg_len);
	if (!m) {
		free(f->file);
		free(f->path);
		goto oom;
	}
	l->n++;
	return m;
oom:
	l->oom = true;
	return NULL;
}

static void msg_done(struct lint *l, FILE *m)
{
	if (m && fclose(m))
		l->oom = true;
}

/* Rule i of r: "'PATTERN' (SOURCE:LINE)", or "<line N> (SOURCE:LINE)"
 * when the ignore file lies outside the context. */
/* Line `line` of the ignore file `source` as written (without its
 * newline, a trailing CR, or the first line's byte order mark), or NULL
 * when it was not read (another file, or one outside the context, whose
 * lines are never quoted). */
static const char *raw_line(const struct lint *l, const char *source, int line, size_t *n)
{
	const char *p = l->ign_data, *end = p ? p + l->ign_len : NULL;

	if (!p || !l->ignore_source || strcmp(source, l->ignore_source) || line < 1)
		return NULL;
	if (l->ign_len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	for (int k = 1; k < line; k++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	*n = (size_t)(end - p);
	if (memchr(p, '\n', *n))
		*n = (size_t)((const char *)memchr(p, '\n', *n) - p);
	if (*n && p[*n - 1] == '\r')
		(*n)--;
	return p;
}

/* Rule i quoted as its line is written in the ignore file (messages
 * quote what the user wrote, not the cleaned pattern), else as
 * rules_fputq quotes it. */
static void put_pattern(const struct lint *l, FILE *m, const ctxpack_rules *r, size_t i)
{
	struct ctxpack_rule_info ri;
	const char *p;
	size_t n;

	if (!ctxpack_rules_get(r, i, &ri) && ri.line > 0 &&
	    (p = raw_line(l, ri.source, ri.line, &n))) {
		fputc('\'', m);
		text_fputq(m, p, n);
		fputc('\'', m);
		return;
	}
	rules_fputq(m, r, i);
}

static void put_rule(const struct lint *l, FILE *m, const ctxpack_rules *r, size_t i)
{
	struct ctxpack_rule_info ri;

	put_pattern(l, m, r, i);
	if (!ctxpack_rules_get(r, i, &ri))
		fprintf(m, " (%s:%d)", ri.source, ri.line);
}

static void put_size(FILE *m, unsigned long long b)
{
	char h[32];

	if (b < 1024)
		fprintf(m, "%llu bytes", b);
	else
		fputs(human_size(b, h, sizeof(h)), m);
}

static FILE *rule_finding(struct lint *l, const char *code, enum severity sev,
			  const struct ctxpack_rule_info *ri)
{
	return finding_new(l, code, sev, ri->source, ri->line, NULL, 0, false);
}

static FILE *path_finding(struct lint *l, const char *code, enum severity sev,
			  const struct walk_entry *e)
{
	return finding_new(l, code, sev, NULL, 0, e->path, e->len, e->type == WT_DIR);
}

static void findings_free(struct lint *l)
{
	free(l->sup);
	free(l->ignore_source);
	free(l->ign_data);
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].file);
		free(l->v[i].path);
		free(l->v[i].msg);
	}
	free(l->v);
}

/* --disable and --severity, applied to the findings the checks made (so
 * a check's own default, such as control-bytes' warning with the classic
 * builder, is what --severity replaces). */
static void findings_configure(struct lint *l)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct finding *f = &l->v[i];
		long c = check_index(f->code, strlen(f->code));
		bool off = c >= 0 && (l->a->disabled[c] ||
				      (l->conf_disabled[c] && l->a->severity[c] < 0));
		for (size_t j = 0; c >= 0 && j < l->nsup && !off; j++)
			off = l->sup[j].check == c && l->sup[j].line == f->line && f->file &&
			      l->ignore_source && !strcmp(f->file, l->ignore_source);
		if (off) {
			free(f->file);
			free(f->path);
			free(f->msg);
			continue;
		}
		if (c >= 0 && l->a->severity[c] >= 0)
			f->sev = (enum severity)l->a->severity[c];
		else if (c >= 0 && l->conf_severity[c] >= 0)
			f->sev = (enum severity)l->conf_severity[c];
		l->v[k++] = *f;
	}
	l->n = k;
}

/* ---- output ---- */

static void print_json(const struct lint *l)
{
	size_t counts[3] = { 0 };

	printf("{\"version\":1,\"builder\":\"%s\",\"findings\":[",
	       l->a->o.builder == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit");
	for (size_t i = 0; i < l->n; i++) {
		const struct finding *f = &l->v[i];
		counts[f->sev]++;
		printf("%s\n{\"code\":\"%s\",\"severity\":\"%s\",\"file\":", i ? "," : "", f->code,
		       severity_names[f->sev]);
		/* "file" is what text mode prints first: the ignore file or the path. */
		if (f->file)
			json_string(stdout, f->file, strlen(f->file));
		else
			json_string(stdout, f->path, f->path_len);
		if (f->line > 0)
			printf(",\"line\":%d", f->line);
		else
			fputs(",\"line\":null", stdout);
		fputs(",\"path\":", stdout);
		if (f->path)
			json_string(stdout, f->path, f->path_len);
		else
			fputs("null", stdout);
		fputs(",\"message\":", stdout);
		json_string(stdout, f->msg, f->msg_len);
		putchar('}');
	}
	printf("\n],\"counts\":{\"error\":%zu,\"warning\":%zu,\"info\":%zu}}\n", counts[SEV_ERROR],
	       counts[SEV_WARNING], counts[SEV_INFO]);
}

/* SARIF's levels: "note" for info. */
static const char *sarif_level(enum severity s)
{
	return s == SEV_ERROR ? "error" : s == SEV_WARNING ? "warning" : "note";
}

/* A relative URI reference: bytes outside RFC 3986's unreserved set and
 * '/' percent-encoded. */
static void uri_fput(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c))
			putc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

/* SARIF 2.1.0: one run, every check a rule of tool.driver (its stable
 * id, its default level, its help), each finding a result at the ignore
 * file's or Dockerfile's line, or at the path, relative to the context. */
static void print_sarif(const struct lint *l)
{
	printf("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\n"
	       "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"ctxpack\",\"version\":");
	json_string(stdout, ctxpack_version(), strlen(ctxpack_version()));
	fputs(",\"informationUri\":\"https://github.com/ctxpack/ctxpack/blob/main/docs/lint.md\",\n\"rules\":[",
	      stdout);
	for (size_t i = 0; i < NCHECKS; i++) {
		printf("%s\n{\"id\":\"%s\",\"name\":\"%s\",\"shortDescription\":{\"text\":", i ? "," : "",
		       checks[i].id, checks[i].id);
		json_string(stdout, checks[i].help, strlen(checks[i].help));
		fputs("},\"help\":{\"text\":", stdout);
		json_string(stdout, checks[i].help, strlen(checks[i].help));
		printf("},\"defaultConfiguration\":{\"level\":\"%s\"}}", sarif_level(checks[i].sev));
	}
	printf("\n]}},\n\"properties\":{\"builder\":\"%s\"},\n\"results\":[",
	       l->a->o.builder == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit");
	for (size_t i = 0; i < l->n; i++) {
		const struct finding *f = &l->v[i];
		long c = check_index(f->code, strlen(f->code));
		printf("%s\n{\"ruleId\":\"%s\",", i ? "," : "", f->code);
		if (c >= 0)
			printf("\"ruleIndex\":%ld,", c);
		printf("\"level\":\"%s\",\"message\":{\"text\":", sarif_level(f->sev));
		json_string(stdout, f->msg, f->msg_len);
		fputs("},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":\"", stdout);
		if (f->file)
			uri_fput(stdout, f->file, strlen(f->file));
		else
			uri_fput(stdout, f->path, f->path_len);
		putchar('"');
		putchar('}');
		if (f->line > 0)
			printf(",\"region\":{\"startLine\":%d}", f->line);
		fputs("}}]}", stdout);
	}
	fputs("\n]}]}\n", stdout);
}

/* The GitHub Actions toolkit's escaping (@actions/core command.ts):
 * escapeData for the message, escapeProperty for file and title. */
static void gh_escape(FILE *f, const char *s, size_t n, bool property)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%')
			fputs("%25", f);
		else if (c == '\r')
			fputs("%0D", f);
		else if (c == '\n')
			fputs("%0A", f);
		else if (property && c == ':')
			fputs("%3A", f);
		else if (property && c == ',')
			fputs("%2C", f);
		else
			putc(c, f);
	}
}

/* GitHub workflow commands: one annotation a finding, its file named
 * from the current directory (the context's DIR before its paths). */
static void print_github(const struct lint *l)
{
	const char *dir = l->a->o.dir;
	size_t dl = strlen(dir);

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if (dl == 1 && dir[0] == '.')
		dl = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct finding *f = &l->v[i];
		const char *file = f->file ? f->file : f->path;
		size_t fl = f->file ? strlen(f->file) : f->path_len;
		static const char *const cmd[] = { "notice", "warning", "error" };
		printf("::%s file=", cmd[f->sev]);
		if (dl && file[0] != '/') {
			gh_escape(stdout, dir, dl, true);
			gh_escape(stdout, "/", 1, true);
		}
		gh_escape(stdout, file, fl, true);
		if (f->line > 0)
			printf(",line=%d", f->line);
		fputs(",title=", stdout);
		gh_escape(stdout, f->code, strlen(f->code), true);
		fputs("::", stdout);
		gh_escape(stdout, f->msg, f->msg_len, false);
		putchar('\n');
	}
}

static void print_more(size_t hidden)
{
	if (hidden)
		printf("... and %zu more [builders-differ]\n", hidden);
}

static void print_text(const struct lint *l)
{
	size_t shown = 0, hidden = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct finding *f = &l->v[i];
		if (!strcmp(f->code, "builders-differ")) {
			if (shown++ >= DIFF_SHOWN) {
				hidden++;
				continue;
			}
		} else {
			print_more(hidden);
			hidden = 0;
		}
		if (f->file && f->line > 0)
			printf("%s:%d: ", f->file, f->line);
		else if (f->file)
			printf("%s: ", f->file);
		else {
			text_fputq(stdout, f->path, f->path_len);
			fputs(": ", stdout);
		}
		printf("%s: ", severity_names[f->sev]);
		fwrite(f->msg, 1, f->msg_len, stdout);
		printf(" [%s]\n", f->code);
	}
	print_more(hidden);
}

/* 0: nothing of severity warning or above; 1: warnings; 3: errors. */
static int exit_status(const struct lint *l)
{
	enum severity worst = SEV_INFO;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].sev > worst)
			worst = l->v[i].sev;
	return worst == SEV_ERROR ? 3 : worst == SEV_WARNING ? 1 : 0;
}

/* ---- rules that cannot be used ---- */

static bool user_rule(const ctxpack_rules *r, size_t i, struct ctxpack_rule_info *ri)
{
	/* Line 0: "!.dockerignore" and "!<Dockerfile>", added by the classic
	 * builder itself, not by the user. */
	return ctxpack_rules_get(r, i, ri) == 0 && ri->line > 0;
}

static bool has_control(const struct ctxpack_rule_info *ri)
{
	for (size_t j = 0; j < ri->pattern_len; j++) {
		unsigned char c = (unsigned char)ri->pattern[j];
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* BuildKit sends the patterns as gRPC metadata, where a control byte fails
 * the build -- unless some pattern is not ASCII, which makes the client
 * encode the whole list (match.c's buildkit_transport_error). */
static bool transport_fails(const ctxpack_rules *r)
{
	bool ctl = false;

	for (size_t i = 0; i < ctxpack_rules_count(r); i++) {
		struct ctxpack_rule_info ri;
		if (ctxpack_rules_get(r, i, &ri))
			continue;
		for (size_t j = 0; j < ri.pattern_len; j++)
			if ((unsigned char)ri.pattern[j] >= 0x80)
				return false;
		ctl |= has_control(&ri);
	}
	return ctl;
}

static void check_control_bytes(struct lint *l, const ctxpack_rules *r)
{
	bool classic = l->a->o.builder == CTXPACK_BUILDER_CLASSIC;

	if (!transport_fails(r))
		return;
	for (size_t i = 0; i < ctxpack_rules_count(r); i++) {
		struct ctxpack_rule_info ri;
		FILE *m;
		if (!user_rule(r, i, &ri) || !has_control(&ri))
			continue;
		m = rule_finding(l, "control-bytes", classic ? SEV_WARNING : SEV_ERROR, &ri);
		if (!m)
			return;
		fputs("pattern ", m);
		put_rule(l, m, r, i);
		fputs(" holds control bytes: BuildKit fails the build on it (patterns travel as gRPC metadata)",
		      m);
		if (classic)
			fputs("; the classic builder accepts it", m);
		msg_done(l, m);
	}
}

/* A bad-pattern finding for the failure e: at its source and line, its
 * reason; one about no line goes to fallback_file, the whole message. */
static void bad_pattern(struct lint *l, const struct rules_error *e, const char *fallback_file)
{
	bool located = e->line > 0;
	const char *text = located ? e->message + e->reason : e->message;
	FILE *m;

	m = finding_new(l, "bad-pattern", SEV_ERROR,
			located ? e->source : fallback_file ? fallback_file : ".dockerignore",
			located ? e->line : 0, NULL, 0, false);
	if (!m)
		return;
	text_fputq(m, text, strlen(text));
	msg_done(l, m);
}

struct compile_errors {
	struct lint *l;
	ctxpack_rules *r;
	bool skip_ctl;
	size_t found;
};

static void compile_error_found(void *arg, size_t i)
{
	struct compile_errors *ce = arg;
	struct ctxpack_rule_info ri;

	if (!user_rule(ce->r, i, &ri) || (ce->skip_ctl && has_control(&ri)))
		return;
	bad_pattern(ce->l, rules_last_error(ce->r), ri.source);
	ce->found++;
}

/* Docker refuses these rules up front (or ctxpack cannot reproduce them):
 * every pattern New() refuses, in one pass over the rules (compiling
 * stops at the first).  Control bytes BuildKit cannot send are
 * control-bytes findings.  Returns how many. */
static size_t check_compile_errors(struct lint *l, ctxpack_rules *r)
{
	bool bk = l->a->o.builder == CTXPACK_BUILDER_BUILDKIT;
	struct compile_errors ce = { l, r, bk && transport_fails(r), 0 };

	if (rules_each_pattern_error(r, bk, compile_error_found, &ce))
		l->oom = true;
	return ce.found;
}

/* Patterns that compile lazily: Docker fails when it first evaluates one.
 * walk_err is the refusal that failed the walk (code 0 when the walk went
 * through, so nothing reached them).  Returns how many. */
static size_t check_lazy_errors(struct lint *l, const ctxpack_match *mt,
				const struct rules_error *walk_err)
{
	const ctxpack_rules *r = ctxpack_match_rules(mt);
	size_t found = 0;

	for (size_t i = 0; i < ctxpack_rules_count(r); i++) {
		struct ctxpack_rule_info ri;
		const char *why = ctxpack_match_rule_error(mt, i);
		FILE *m;
		if (!why || !user_rule(r, i, &ri))
			continue;
		m = rule_finding(l, "bad-pattern", SEV_ERROR, &ri);
		if (!m)
			return found;
		found++;
		if (walk_err->code && walk_err->rule == (long)i) {
			const char *text = walk_err->message + walk_err->reason;
			text_fputq(m, text, strlen(text));
		} else {
			fputs("pattern ", m);
			put_rule(l, m, r, i);
			fputs(" cannot be evaluated (", m);
			text_fputq(m, why, strlen(why));
			fputs("); Docker fails as soon as a path reaches it", m);
			if (!walk_err->code)
				fputs(" (none does in this context yet)", m);
		}
		msg_done(l, m);
	}
	return found;
}

/* The walk failed: a bad pattern becomes findings; anything else (an
 * unreadable directory, a missing Dockerfile) is returned as an error.
 * walk_err: the walk's pattern refusal, when that is what failed it. */
static int diagnose(struct lint *l, const struct rules_error *walk_err, struct dockerctx *d)
{
	int rc = dockerctx_open(d, l->a->o.dir, l->a->o.dockerfile, l->a->o.builder);
	struct rules_error first;
	size_t before = l->n;

	if (rc == 0) {
		/* The rules compiled: the walk met a lazily bad pattern, or
		 * failed on the disk. */
		if (check_lazy_errors(l, d->match, walk_err))
			return 0;
		return -1;
	}
	if ((rc != -EINVAL && rc != -ENOTSUP) || !d->rules || !rules_last_error(d->rules)->code)
		return -1;
	/* Looking for the other bad patterns moves the rules' last error:
	 * the one that failed the compile, kept (a compile error names no
	 * path: nothing is shared). */
	first = *rules_last_error(d->rules);
	first.path = NULL;
	check_control_bytes(l, d->rules);
	if (!check_compile_errors(l, d->rules) && l->n == before)
		bad_pattern(l, &first, d->ignore_source);
	return 0;
}

/* ---- dead and overridden rules ---- */

/* A rule finding whose message starts "rule 'PATTERN'". */
static FILE *rule_named(struct lint *l, const char *code, enum severity sev, const ctxpack_rules *r,
			size_t i, const struct ctxpack_rule_info *ri)
{
	FILE *m = rule_finding(l, code, sev, ri);

	if (m) {
		fputs("rule ", m);
		put_pattern(l, m, r, i);
	}
	return m;
}

/* "e.g. 'PATH' by 'PATTERN' (SOURCE:LINE)": an entry and its deciding rule. */
static void put_example(const struct lint *l, FILE *m, const ctxpack_rules *r,
			const struct walk_entry *e)
{
	fputs("e.g. '", m);
	text_fputq(m, e->path, e->len);
	fputs("' by ", m);
	put_rule(l, m, r, (size_t)e->rule);
}

static void report_unused(struct lint *l, const ctxpack_rules *r, size_t i,
			  const struct ctxpack_rule_info *ri, const struct rule_use *u,
			  const struct walk_result *res)
{
	const struct walk_entry *e = u->entry < res->n ? res->v[u->entry] : NULL;
	FILE *m;

	if (u->use == RULE_DEFENSIVE && e && e->rule >= 0 &&
	    (size_t)e->rule < ctxpack_rules_count(r)) {
		m = rule_named(l, "defensive-rule", SEV_INFO, r, i, ri);
		if (!m)
			return;
		fputs(" never decides a path here (", m);
		put_example(l, m, r, e);
		fputs("); a common defensive rule, harmless", m);
		msg_done(l, m);
		return;
	}
	if (u->use == RULE_DEAD || u->use == RULE_DEFENSIVE) {
		/* A template's defensive line (.idea, node_modules, *.log) that
		 * matches nothing in this tree is harmless: info. */
		bool defensive = u->use == RULE_DEFENSIVE;
		m = rule_named(l, defensive ? "defensive-rule" : "dead-rule",
			       defensive ? SEV_INFO : SEV_WARNING, r, i, ri);
		if (!m)
			return;
		fputs(!defensive		? " matches nothing"
		      : u->in_existing_dir ? " matches nothing here, although its directory exists (an output not made yet on this checkout; harmless)"
					   : " matches nothing here (a common defensive rule; harmless)",
		      m);
		msg_done(l, m);
		return;
	}
	if (u->use == RULE_REDUNDANT) {
		m = rule_named(l, "redundant-rule", SEV_INFO, r, i, ri);
		if (!m)
			return;
		fputs(" is redundant: the later ", m);
		put_rule(l, m, r, u->by);
		fputs(" matches everything this one does, the same way; delete this one", m);
		msg_done(l, m);
		return;
	}
	if (u->use != RULE_OVERRIDDEN || !e)
		return;
	m = rule_named(l, "overridden-rule", u->shadowed ? SEV_INFO : SEV_WARNING, r, i, ri);
	if (!m)
		return;
	if (u->shadowed) {
		fputs(" never decides a path: what it matches an earlier exclusion already excludes (",
		      m);
		put_example(l, m, r, e);
		fputs("); harmless, it changes nothing", m);
		msg_done(l, m);
		return;
	}
	fputs(" never decides a path: ", m);
	if (e->rule >= 0 && (size_t)e->rule < ctxpack_rules_count(r)) {
		fputs("where it matches, another rule decides (", m);
		put_example(l, m, r, e);
		fputc(')', m);
	} else {
		fputs("what it matches is not excluded when the rule is reached (e.g. '", m);
		text_fputq(m, e->path, e->len);
		fputs("')", m);
	}
	msg_done(l, m);
}

/* The optimal-string-alignment distance of a and b (edits: insert,
 * delete, replace, swap two neighbours), or max + 1 when over max. */
static size_t edit_distance(const char *a, size_t an, const char *b, size_t bn, size_t max)
{
	size_t rows[3][65], *pp = rows[0], *prev = rows[1], *cur = rows[2];

	if (an > 64 || bn > 64 || (an > bn ? an - bn : bn - an) > max)
		return max + 1;
	for (size_t j = 0; j <= bn; j++)
		prev[j] = j;
	for (size_t i = 1; i <= an; i++) {
		size_t best;
		cur[0] = best = i;
		for (size_t j = 1; j <= bn; j++) {
			size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < c)
				c = prev[j] + 1;
			if (cur[j - 1] + 1 < c)
				c = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < c)
				c = pp[j - 2] + 1;
			cur[j] = c;
			if (c < best)
				best = c;
		}
		if (best > max)
			return max + 1;
		size_t *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[bn] <= max ? prev[bn] : max + 1;
}

static bool has_wildcard(const char *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (strchr("*?[\\", p[k]) && p[k])
			return true;
	return false;
}

/* The cleaned pattern of rule ri (its '!' dropped) into buf (at least
 * pattern_len + 2 bytes), as patternmatcher.New cleans it. */
static size_t clean_pattern(const struct ctxpack_rule_info *ri, char *buf)
{
	const char *p = ri->pattern;
	size_t n = ri->pattern_len;

	if (n && p[0] == '!')
		p++, n--;
	return n ? go_clean(p, n, buf) : 0;
}

/* A sent entry whose name is one or two edits from the last component of
 * a dead rule (node_module: node_modules), or NULL. */
static const struct walk_entry *near_miss(const struct ctxpack_rule_info *ri,
					  const struct walk_result *res)
{
	char *buf = malloc(ri->pattern_len + 2);
	const struct walk_entry *best = NULL;
	size_t n, bestd = 0, max;
	const char *last;

	if (!buf)
		return NULL;
	n = clean_pattern(ri, buf);
	last = memrchr(buf, '/', n);
	last = last ? last + 1 : buf;
	n -= (size_t)(last - buf);
	max = n >= 8 ? 2 : 1;
	if (n >= 4 && !has_wildcard(last, n)) {
		for (size_t i = 0; i < res->n; i++) {
			const struct walk_entry *e = res->v[i];
			const char *name = memrchr(e->path, '/', e->len);
			size_t d;
			name = name ? name + 1 : e->path;
			if (!e->sent)
				continue;
			d = edit_distance(last, n, name, e->len - (size_t)(name - e->path), max);
			if (d > 0 && d <= max && (!best || d < bestd))
				best = e, bestd = d;
		}
	}
	free(buf);
	return best;
}

/* An exclusion with a wildcard and without '/' matches at the root only:
 * a sent entry below the root with a name it matches, or NULL. */
static const struct walk_entry *root_only(const struct ctxpack_rule_info *ri,
					  const struct walk_result *res)
{
	char *buf;
	const struct walk_entry *hit = NULL;
	size_t n;

	if (!ri->pattern_len || ri->pattern[0] == '!' || memchr(ri->pattern, '/', ri->pattern_len))
		return NULL;
	buf = malloc(ri->pattern_len + 2);
	if (!buf)
		return NULL;
	n = clean_pattern(ri, buf);
	/* a literal name at the root ('.gitignore', 'Dockerfile') is meant
	 * there; a wildcard (*.md, *.log) is meant for a kind of file */
	if (!has_wildcard(buf, n))
		n = 0;
	for (size_t i = 0; n && i < res->n && !hit; i++) {
		const struct walk_entry *e = res->v[i];
		const char *name = memrchr(e->path, '/', e->len);
		if (!name || !e->sent || e->parent)
			continue;
		name++;
		if (go_filepath_match(buf, n, name, e->len - (size_t)(name - e->path)) == 1)
			hit = e;
	}
	free(buf);
	return hit;
}

/* A backslash before a letter, digit, '_' or '-': meant as a Windows
 * directory separator, read by Docker as an escape. */
static bool backslash_path(const struct ctxpack_rule_info *ri)
{
	for (size_t k = 0; k + 1 < ri->pattern_len; k++) {
		unsigned char c = (unsigned char)ri->pattern[k + 1];
		if (ri->pattern[k] == '\\' && (c == '_' || c == '-' || (c >= '0' && c <= '9') ||
						 ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
			return true;
	}
	return false;
}

static bool trailing_comment(const struct ctxpack_rule_info *ri)
{
	for (size_t k = 1; k < ri->pattern_len; k++)
		if (ri->pattern[k] == '#' && (ri->pattern[k - 1] == ' ' || ri->pattern[k - 1] == '\t'))
			return true;
	return false;
}

/* The pitfalls of rule i: a backslash, a trailing comment, a root-only
 * pattern with deeper names sent, a near miss of a dead rule.  True
 * when a finding explains the rule (its dead-rule is then not made). */
static bool check_pitfalls(struct lint *l, const ctxpack_rules *r, size_t i,
			   const struct ctxpack_rule_info *ri, const struct rule_use *u,
			   const struct walk_result *res)
{
	bool dead = u->use == RULE_DEAD || u->use == RULE_DEFENSIVE;
	const struct walk_entry *e;
	bool explained = false;
	FILE *m;

	static const struct {
		bool (*test)(const struct ctxpack_rule_info *ri);
		const char *code, *why;
	} syntax[] = {
		{ backslash_path, "backslash-escape",
		  ": a backslash escapes the next character in Docker's patterns (it is not a directory separator on Linux); separate directories with '/'" },
		{ trailing_comment, "trailing-comment",
		  ": Docker does not strip a trailing comment, so ' #...' is part of the pattern; put the comment on a line of its own, starting with '#'" },
	};

	for (size_t k = 0; k < sizeof(syntax) / sizeof(syntax[0]); k++) {
		if (!syntax[k].test(ri) ||
		    !(m = rule_named(l, syntax[k].code, SEV_WARNING, r, i, ri)))
			continue;
		fputs(syntax[k].why, m);
		if (dead)
			fputs(" (the rule matches nothing)", m);
		msg_done(l, m);
		explained = true;
	}
	if (!explained && (e = root_only(ri, res)) &&
	    (m = rule_named(l, "root-only-rule", SEV_WARNING, r, i, ri))) {
		fputs(dead ? " matches nothing: without a '/' a pattern matches only at the context root (unlike .gitignore), and '"
			   : " matches only at the context root: without a '/' a pattern matches there only (unlike .gitignore), and '",
		      m);
		text_fputq(m, e->path, e->len);
		fputs(e->type == WT_DIR ? "/' is sent; write '**/" : "' is sent; write '**/", m);
		text_fputq(m, ri->pattern, ri->pattern_len);
		fputs("' to exclude it at every depth", m);
		msg_done(l, m);
		explained = dead;
	}
	if (!explained && dead && (e = near_miss(ri, res)) &&
	    (m = rule_named(l, "dead-rule", SEV_WARNING, r, i, ri))) {
		const char *name = memrchr(e->path, '/', e->len);
		name = name ? name + 1 : e->path;
		fputs(" matches nothing; did you mean '", m);
		text_fputq(m, name, e->len - (size_t)(name - e->path));
		fputs("'? ('", m);
		text_fputq(m, e->path, e->len);
		fputs(e->type == WT_DIR ? "/' is sent)" : "' is sent)", m);
		msg_done(l, m);
		explained = true;
	}
	return explained;
}

static void check_rule_usage(struct lint *l, const ctxpack_match *mt, const struct walk_result *res)
{
	const ctxpack_rules *r = ctxpack_match_rules(mt);
	size_t nr = ctxpack_rules_count(r);
	struct rule_use *u = calloc(nr ? nr : 1, sizeof(*u));

	if (!u || rule_use_compute(u, r, l->a->o.builder, res)) {
		l->oom = true;
		free(u);
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		struct ctxpack_rule_info ri;
		if (!user_rule(r, i, &ri) || ctxpack_match_rule_error(mt, i))
			continue;
		if (rules_text_hidden(r, i) || !check_pitfalls(l, r, i, &ri, &u[i], res))
			report_unused(l, r, i, &ri, &u[i], res);
	}
	free(u);
}

/* ---- the two builders ---- */

struct side {
	enum ctxpack_builder builder;
	const struct walk_result *res;
	const struct dockerctx *ctx;
};

static void side_init(struct side *s, enum ctxpack_builder b, const struct walk_result *res,
		      const struct dockerctx *ctx)
{
	s->builder = b;
	s->res = res;
	s->ctx = ctx;
}

static const struct walk_entry *side_find(const struct side *s, const char *path, size_t len)
{
	bool found;
	size_t i = walk_find(s->res, path, len, &found);

	return found ? s->res->v[i] : NULL;
}

/* The deepest listed ancestor of path on side s, or NULL. */
static const struct walk_entry *side_ancestor(const struct side *s, const char *path, size_t len)
{
	for (const char *p = memrchr(path, '/', len); p; p = memrchr(path, '/', (size_t)(p - path))) {
		const struct walk_entry *a = side_find(s, path, (size_t)(p - path));
		if (a)
			return a;
	}
	return NULL;
}

static const char *builder_label(enum ctxpack_builder b)
{
	return b == CTXPACK_BUILDER_CLASSIC ? "the classic builder" : "BuildKit";
}

static bool rule_of(const struct side *s, const struct walk_entry *e, struct ctxpack_rule_info *ri)
{
	return e && e->rule >= 0 && ctxpack_rules_get(s->ctx->rules, (size_t)e->rule, ri) == 0;
}

static bool wildcard_exception(const struct ctxpack_rule_info *ri)
{
	return ri->pattern_len > 1 && ri->pattern[0] == '!' &&
	       strpbrk(ri->pattern + 1, "*?[\\") != NULL;
}

static void put_decision(const struct lint *l, FILE *m, const struct side *s, const struct walk_entry *e)
{
	struct ctxpack_rule_info ri;

	fprintf(m, "%s: ", builder_label(s->builder));
	if (!e)
		fputs("not reached", m);
	else if (rule_of(s, e, &ri))
		put_rule(l, m, s->ctx->rules, (size_t)e->rule);
	else
		fputs("no rule", m);
}

/* Why e (sent by s only) is not sent by o. */
static void explain_diff(const struct lint *l, FILE *m, const struct side *s, const struct side *o,
			 const struct walk_entry *e)
{
	const struct walk_entry *oe = side_find(o, e->path, e->len), *anc;
	struct ctxpack_rule_info ri;
	bool bk = s->builder == CTXPACK_BUILDER_BUILDKIT;

	fprintf(m, "sent by %s only: ", builder_label(s->builder));
	if (strcmp(s->ctx->ignore_source ? s->ctx->ignore_source : "",
		   o->ctx->ignore_source ? o->ctx->ignore_source : "")) {
		fprintf(m, "BuildKit reads '%s', the classic builder '%s'; ",
			(bk ? s : o)->ctx->ignore_source ? (bk ? s : o)->ctx->ignore_source : "no ignore file",
			(bk ? o : s)->ctx->ignore_source ? (bk ? o : s)->ctx->ignore_source : "no ignore file");
	}
	if (!bk && e->len == 13 && !memcmp(e->path, ".dockerignore", 13)) {
		fputs("the classic builder always sends .dockerignore (it re-adds '!.dockerignore') and keeps it when its rules keep it; BuildKit follows its own ignore file",
		      m);
		return;
	}
	if (bk && e->type == WT_SOCK) {
		fputs("BuildKit sends a socket as an empty file; the classic builder skips sockets", m);
		return;
	}
	if (bk && e->parent) {
		fputs("BuildKit sends the excluded parent directories of re-included entries; the classic builder sends the entries without them",
		      m);
		if (e->type == WT_DIR)
			fputs(" and its daemon creates the directory when it unpacks them: both builds see it, only its mode and times may differ",
			      m);
		return;
	}
	anc = oe ? NULL : side_ancestor(o, e->path, e->len);
	if (bk && anc && !anc->sent && rule_of(s, e, &ri) && wildcard_exception(&ri)) {
		fputs("the wildcard exception ", m);
		put_rule(l, m, s->ctx->rules, (size_t)e->rule);
		fputs(" re-includes it from the excluded directory '", m);
		text_fputq(m, anc->path, anc->len);
		fputs("/': BuildKit honours wildcard exceptions under excluded directories, the classic builder does not enter that directory",
		      m);
		return;
	}
	if (anc && !anc->sent) {
		fprintf(m, "%s does not enter the excluded directory '", builder_label(o->builder));
		text_fputq(m, anc->path, anc->len);
		fputs("/'", m);
		return;
	}
	fputs("decided by ", m);
	put_decision(l, m, s, e);
	fputs("; ", m);
	put_decision(l, m, o, oe);
}

/* Entries s sends and o does not, in walk order.  The Dockerfile is left
 * to dockerfile-excluded: BuildKit ships it apart from the context. */
static void diff_one_way(struct lint *l, const struct side *s, const struct side *o)
{
	const char *df = s->ctx->dockerfile;

	for (size_t i = 0; i < s->res->n; i++) {
		const struct walk_entry *e = s->res->v[i], *oe;
		FILE *m;
		if (!e->sent || e->forced || (df && strlen(df) == e->len && !memcmp(df, e->path, e->len)))
			continue;
		oe = side_find(o, e->path, e->len);
		if (oe && oe->sent)
			continue;
		/* The classic CLI sends an excluded .dockerignore (and
		 * Dockerfile) through the '!.dockerignore' it appends, but the
		 * daemon removes it again before the build when the rules
		 * exclude it (remotecontext's removeDockerfile, see
		 * used_classic_removed): no build step sees it, as with
		 * BuildKit, which does not send it.  The outcome differs only
		 * when the classic builder keeps it by the rules, e.g. when
		 * BuildKit reads another ignore file (<Dockerfile>.dockerignore)
		 * that excludes it. */
		if (s->builder == CTXPACK_BUILDER_CLASSIC && used_classic_removed(s->ctx->rules, e))
			continue;
		/* BuildKit's parent of re-included entries: the classic
		 * daemon creates the directory when it unpacks them, so both
		 * builds see it (only its mode and times may differ). */
		m = path_finding(l, "builders-differ",
				 s->builder == CTXPACK_BUILDER_BUILDKIT && e->parent &&
						 e->type == WT_DIR
					 ? SEV_INFO
					 : SEV_WARNING,
				 e);
		if (!m)
			return;
		explain_diff(l, m, s, o, e);
		msg_done(l, m);
	}
}

static void check_builders_differ(struct lint *l, const struct side *mine, const struct side *other)
{
	const struct side *bk = mine->builder == CTXPACK_BUILDER_BUILDKIT ? mine : other;

	diff_one_way(l, bk, bk == mine ? other : mine);
	diff_one_way(l, bk == mine ? other : mine, bk);
}

/* ---- the Dockerfile ---- */

static void check_dockerfile(struct lint *l, const struct side *mine, const struct side *other)
{
	const struct side *bk = mine->builder == CTXPACK_BUILDER_BUILDKIT ? mine : other;
	const struct side *cl = bk == mine ? other : mine;
	const char *df = mine->ctx->dockerfile;
	const struct walk_entry *be, *ce;
	struct ctxpack_rule_info ri;
	bool readded = false;
	FILE *m;

	if (!df)
		return;
	be = bk ? side_find(bk, df, strlen(df)) : NULL;
	ce = cl ? side_find(cl, df, strlen(df)) : NULL;
	if (ce && ce->sent && ce->rule >= 0 && !ctxpack_rules_get(cl->ctx->rules, (size_t)ce->rule, &ri))
		readded = ri.line == 0;
	/* Excluded by the rules of the chosen builder? */
	if (mine == bk ? !(be && be->forced) : !(readded || !ce || !ce->sent))
		return;
	m = finding_new(l, "dockerfile-excluded", SEV_INFO, NULL, 0, df, strlen(df), false);
	if (!m)
		return;
	fputs("the Dockerfile is excluded", m);
	if (be && be->forced && rule_of(bk, be, &ri)) {
		fputs(" by ", m);
		put_rule(l, m, bk->ctx->rules, (size_t)be->rule);
	}
	fputs(": ", m);
	if (bk)
		fputs("BuildKit still builds with it (it is sent apart from the context; ctxpack puts it in the tar) but COPY/ADD from the context do not see it", m);
	if (bk && cl)
		fputs("; ", m);
	if (cl && readded)
		fputs("the classic builder re-adds it ('!<Dockerfile>'), so it is in its context", m);
	else if (cl)
		fputs("the classic builder leaves it out of the context (its one-level re-add check misses it), so a DOCKER_BUILDKIT=0 build fails", m);
	msg_done(l, m);
}

/* ---- what is sent ---- */

/* The first SECRET_SCAN_MAX bytes (or fewer) of a regular file into buf; -1 if it cannot
 * be read (it changed since the walk, or became something else). */
static ssize_t read_head(int rootfd, const char *path, char *buf)
{
	struct stat st;
	size_t n = 0;
	int fd = beneath_open(rootfd, path, strlen(path),
			      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	while (n < SECRET_SCAN_MAX) {
		ssize_t r = read(fd, buf + n, SECRET_SCAN_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	return (ssize_t)n;
}

static const char *secret_of(int rootfd, const struct walk_entry *e, char *buf, bool *by_content)
{
	const char *what = secret_by_name(e->path, e->len);
	bool cond = secret_name_needs_content(e->path, e->len);
	ssize_t n;

	*by_content = false;
	if (what)
		return what;
	n = read_head(rootfd, e->path, buf);
	if (n < 0)
		return NULL;
	if (cond && (what = secret_by_name_and_content(e->path, e->len, buf, (size_t)n)))
		return what;
	*by_content = true;
	return secret_by_content(buf, (size_t)n);
}

static void check_secrets(struct lint *l, const struct dockerctx *ctx, const struct walk_result *res)
{
	char *buf = malloc(SECRET_SCAN_MAX);

	if (!buf) {
		l->oom = true;
		return;
	}
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		const char *what;
		bool by_content;
		FILE *m;
		if (!e->sent || e->type != WT_FILE)
			continue;
		what = secret_of(ctx->rootfd, e, buf, &by_content);
		if (!what)
			continue;
		m = path_finding(l, "secret-file", SEV_ERROR, e);
		if (!m)
			break;
		fprintf(m, "a secret (%s, %s) is sent to the builder, and COPY . . puts it in an image layer; exclude it in .dockerignore and pass it with RUN --mount=type=secret",
			what, by_content ? "found in the content" : "by the name");
		msg_done(l, m);
	}
	free(buf);
}

static const char *kind_code(enum classify_kind k)
{
	static const char *const codes[] = { "", "vcs-sent", "dependencies-sent", "cache-sent",
					     "build-output-sent" };

	return (unsigned)k < sizeof(codes) / sizeof(codes[0]) ? codes[k] : "";
}

static const char *kind_what(enum classify_kind k)
{
	static const char *const what[] = { "", "version control data", "installed dependencies",
					    "a cache", "build output" };

	return (unsigned)k < sizeof(what) / sizeof(what[0]) ? what[k] : "";
}

static bool below(const struct walk_entry *d, const struct walk_entry *e)
{
	return e->len > d->len && !memcmp(e->path, d->path, d->len) && e->path[d->len] == '/';
}

/* Entry i is a directory of dependencies: unless it is a "vendor"
 * directory, whose sources are committed unless a package manager's
 * install marks it (classify_vendor_installed), among its children. */
static bool vendor_installed(const struct walk_result *res, size_t i)
{
	const struct walk_entry *d = res->v[i];

	if (d->len < 6 || memcmp(d->path + d->len - 6, "vendor", 6) ||
	    (d->len > 6 && d->path[d->len - 7] != '/'))
		return true;
	for (size_t j = i + 1; j < res->n && below(d, res->v[j]); j++) {
		const struct walk_entry *c = res->v[j];
		if (!memchr(c->path + d->len + 1, '/', c->len - d->len - 1) &&
		    classify_vendor_installed(c->path + d->len + 1, c->len - d->len - 1))
			return true;
	}
	return false;
}

/* The top-most sent directory of each recognised kind, with what is sent
 * below it (the entries below a directory follow it in walk order). */
static void check_dirs(struct lint *l, const struct walk_result *res)
{
	const struct walk_entry *top = NULL;

	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		enum classify_kind k;
		unsigned long long files = 0, bytes = 0;
		FILE *m;
		if (top && below(top, e))
			continue;
		top = NULL;
		if (!e->sent || e->parent || e->type != WT_DIR)
			continue;
		k = classify_path(e->path, e->len);
		if (k == KIND_NONE || (k == KIND_DEPENDENCIES && !vendor_installed(res, i)))
			continue;
		top = e;
		for (size_t j = i + 1; j < res->n && below(e, res->v[j]); j++)
			if (res->v[j]->sent && res->v[j]->type == WT_FILE) {
				files++;
				bytes += res->v[j]->size;
			}
		m = path_finding(l, kind_code(k), SEV_WARNING, e);
		if (!m)
			return;
		fprintf(m, "directory of %s is sent (%llu file%s, ", kind_what(k), files,
			files == 1 ? "" : "s");
		put_size(m, bytes);
		fputs("); exclude it in .dockerignore unless the build needs it", m);
		msg_done(l, m);
	}
}

static void check_large(struct lint *l, const struct walk_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		FILE *m;
		if (!e->sent || e->type != WT_FILE || e->size <= l->a->max_file_size)
			continue;
		m = path_finding(l, "large-file", SEV_INFO, e);
		if (!m)
			return;
		fputs("large file is sent (", m);
		put_size(m, e->size);
		fputs(", over ", m);
		put_size(m, l->a->max_file_size);
		fputc(')', m);
		msg_done(l, m);
	}
}

static void check_ignore_file(struct lint *l, const struct dockerctx *ctx)
{
	FILE *m;

	if (ctx->ignore_source && ctx->ignore_outside) {
		m = finding_new(l, "ignore-outside", SEV_WARNING, ctx->ignore_source, 0, NULL, 0,
				false);
		if (!m)
			return;
		fputs("the ignore file lies outside the context, at '", m);
		text_fputq(m, ctx->ignore_target, strlen(ctx->ignore_target));
		fputs("': its lines are not quoted in messages", m);
		msg_done(l, m);
	}
	if (ctx->ignore_source)
		return;
	m = finding_new(l, "no-dockerignore", SEV_WARNING, ".dockerignore", 0, NULL, 0, false);
	if (!m)
		return;
	fputs("the context has no ignore file: everything in it is sent", m);
	msg_done(l, m);
}

/* ---- what the build reads ---- */

/* At most this many left-out paths are named per partly excluded source. */
#define LEFT_OUT_SHOWN 5

static void put_instr(FILE *m, const struct dockerfile *df, const struct df_source *src)
{
	const char *o = df->instrs[src->instr].original;
	size_t n = strlen(o);

	text_fputq(m, o, n > 80 ? 77 : n);
	if (n > 80)
		fputs("...", m);
}

/* "SOURCE:LINE 'PATTERN'" (the pattern quoted as rules_fputq does: "<line
 * N>" when the ignore file lies outside the context). */
static void put_rule_at(const struct lint *l, FILE *m, const ctxpack_rules *r,
			const struct walk_entry *e)
{
	struct ctxpack_rule_info ri;

	if (e->rule < 0 || ctxpack_rules_get(r, (size_t)e->rule, &ri)) {
		fputs("the rules", m);
		return;
	}
	if (ri.line == 0) {
		fputs("the rules (the classic daemon removes an excluded Dockerfile and .dockerignore from the context)", m);
		return;
	}
	fprintf(m, "%s:%d ", ri.source, ri.line);
	put_pattern(l, m, r, (size_t)e->rule);
}

/* Is every path s leaves out excluded by a file-type rule (*.log,
 * a defensive line such as __pycache__, at any depth)? */
static bool left_out_by_type(const ctxpack_rules *r, const struct used_source *s)
{
	for (size_t i = 0; i < s->nleft_out; i++) {
		const struct walk_entry *e = s->left_out[i];
		struct ctxpack_rule_info ri;
		if (e->rule < 0 || ctxpack_rules_get(r, (size_t)e->rule, &ri) || ri.line <= 0 ||
		    !classify_defensive_rule(ri.pattern, ri.pattern_len))
			return false;
	}
	return s->nleft_out > 0;
}

static void report_source(struct lint *l, const struct dockerfile *df, const char *dfname,
			  const struct used_source *s, const ctxpack_rules *r, enum ctxpack_builder b)
{
	bool by_type;
	FILE *m;

	if (s->missing && (s->fails || s->wildcard)) {
		m = finding_new(l, "missing-source", s->fails ? SEV_ERROR : SEV_WARNING, dfname,
				s->src->line, NULL, 0, false);
		if (!m)
			return;
		put_instr(m, df, s->src);
		fputs(" needs '", m);
		text_fputq(m, s->src->path, strlen(s->src->path));
		fputc('\'', m);
		if (s->outside)
			fputs(", which leaves the context (the classic builder refuses it)", m);
		else if (s->base_missing)
			fputs(", whose directory is not in the context", m);
		else if (s->wildcard)
			fputs(", which matches nothing in the context", m);
		if (s->excluded && !s->outside) {
			fputs(s->wildcard ? " ('" : ", excluded by ", m);
			if (s->wildcard) {
				text_fputq(m, s->excluded->path, s->excluded->len);
				fputs("' is excluded by ", m);
			}
			put_rule_at(l, m, r, s->excluded);
			if (s->wildcard)
				fputc(')', m);
		} else if (!s->outside && !s->wildcard && !s->base_missing) {
			fputs(", which is not in the context", m);
		}
		if (s->wildcard && !s->fails)
			fprintf(m, ": %s copies nothing", builder_label(b));
		msg_done(l, m);
		return;
	}
	/* A directory with part of it excluded (the context itself aside:
	 * COPY . with an ignore file is what the file is for). */
	if (!s->nleft_out || !s->path[0])
		return;
	by_type = left_out_by_type(r, s);
	m = finding_new(l, "source-partly-excluded", by_type ? SEV_INFO : SEV_WARNING, dfname,
			s->src->line, NULL, 0, false);
	if (!m)
		return;
	put_instr(m, df, s->src);
	fprintf(m, " copies '");
	text_fputq(m, s->src->path, strlen(s->src->path));
	fprintf(m, "' without %zu excluded path%s: ", s->nleft_out, s->nleft_out == 1 ? "" : "s");
	for (size_t i = 0; i < s->nleft_out && i < LEFT_OUT_SHOWN; i++) {
		const struct walk_entry *e = s->left_out[i];
		fputs(i ? ", '" : "'", m);
		text_fputq(m, e->path, e->len);
		fputs(e->type == WT_DIR ? "/' (" : "' (", m);
		put_rule_at(l, m, r, e);
		fputc(')', m);
	}
	if (s->nleft_out > LEFT_OUT_SHOWN)
		fprintf(m, " and %zu more", s->nleft_out - LEFT_OUT_SHOWN);
	fputs(by_type ? "; left out by file-type rules, as intended" : "; often intended", m);
	msg_done(l, m);
}

/* The Dockerfile's context sources for the target, each resolved as the
 * builder does (used.h): one that matches nothing fails the build. */
static int check_used(struct lint *l, struct dockerctx *ctx, const struct walk_result *res,
		      char *err, size_t errsz)
{
	enum ctxpack_builder b = l->a->o.builder;
	struct buildview_options o = {
		.builder = b,
		.build_args = l->a->build_args,
		.target = l->a->target,
		.dfname = l->a->o.dockerfile,
	};
	struct buildview v;
	FILE *m;
	int rc = buildview_open(&v, ctx, res, &o, err, errsz);

	if (rc == -ENOMEM) {
		l->oom = true;
	} else if (rc && !v.df) {
		/* the Dockerfile could not be read */
		buildview_close(&v);
		return -1;
	} else if (rc) {
		/* The Dockerfile cannot be read as the builder reads it: the
		 * message names the line and construct. */
		/* with "# syntax=", another frontend reads the file: what the
		 * built-in one refuses may be valid there */
		bool refused = rc == -EINVAL && !v.df->syntax;

		m = finding_new(l, refused ? "dockerfile-invalid" : "dockerfile-unsupported",
				refused ? SEV_ERROR : SEV_INFO, v.dfname, v.errline > 0 ? v.errline : 0,
				NULL, 0, false);
		if (m) {
			fputs(refused ? "" : "sources not checked: ", m);
			text_fputq(m, v.reason, strlen(v.reason));
			if (refused)
				fprintf(m, " (%s fails the build)", builder_label(b));
			msg_done(l, m);
		}
	} else {
		for (size_t i = 0; i < v.used.n; i++)
			/* the classic builder fails on RUN --mount itself ("the
			 * --mount option requires BuildKit"), reading nothing */
			if (!(b == CTXPACK_BUILDER_CLASSIC && v.used.v[i].src->kind == DF_SRC_MOUNT))
				report_source(l, v.df, v.dfname, &v.used.v[i], ctx->rules, b);
	}
	buildview_close(&v);
	return 0;
}

/* ---- the repository's settings ---- */

/* The whole file at fd (closed), at most DOCKERCTX_INPUT_MAX bytes, into
 * *data (malloc'd).  0 or a negative errno. */
static int read_all(int fd, char **data, size_t *len)
{
	size_t n = 0, alloc = 0;
	char *buf = NULL;
	int rc = 0;

	for (;;) {
		ssize_t r;
		if (n == alloc && (n >= DOCKERCTX_INPUT_MAX || GROW(buf, alloc, n + 4096))) {
			rc = n >= DOCKERCTX_INPUT_MAX ? -EFBIG : -ENOMEM;
			break;
		}
		r = read(fd, buf + n, alloc - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (rc)
		free(buf);
	else
		*data = buf, *len = n;
	return rc;
}

/* The config file: --config FILE (relative to the current directory),
 * else .ctxpack.conf at the context's root when it is there (a regular
 * file, opened beneath the root).  0 or -1 with a message in err. */
static int load_config(struct lint *l, int rootfd, char *err, size_t errsz)
{
	const char *name = l->a->config ? l->a->config : ".ctxpack.conf";
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	int fd, rc;

	if (l->a->config)
		fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	else
		fd = beneath_open(rootfd, name, strlen(name),
				  O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && !l->a->config && (errno == ENOENT || errno == ELOOP))
		return 0;
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0) {
		snprintf(err, errsz, "cannot read the lint config '%s': %s", name,
			 errno == EINVAL ? "not a regular file" : strerror(errno));
		return -1;
	}
	rc = read_all(fd, &data, &len);
	if (rc) {
		snprintf(err, errsz, "cannot read the lint config '%s': %s", name,
			 rc == -EFBIG ? "larger than " DOCKERCTX_INPUT_MAX_TEXT : strerror(-rc));
		return -1;
	}
	rc = lintconf_parse(l->conf_disabled, l->conf_severity, data, len, name, check_index, err,
			    errsz);
	free(data);
	return rc ? -1 : 0;
}

/* The ignore file's "# ctxpack:ignore ID" lines, each applying to the
 * next rule line as the rules read it.  An ignore file outside the
 * context is not read for them (its lines are never quoted). */
static int load_suppressions(struct lint *l, const struct dockerctx *ctx, char *err,
			     size_t errsz)
{
	const char *src = ctx->ignore_source;
	char *data = NULL;
	size_t len = 0, n = 0, nr = ctx->rules ? ctxpack_rules_count(ctx->rules) : 0;
	int *lines = NULL, rc = 0;
	bool own = false;

	if (!src || ctx->ignore_outside)
		return 0;
	if (!strcmp(src, ".dockerignore") && ctx->dockerignore.present) {
		data = ctx->dockerignore.data;
		len = ctx->dockerignore.len;
	} else {
		int fd = beneath_open(ctx->rootfd, src, strlen(src),
				      O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 || read_all(fd, &data, &len))
			return 0; /* the rules were read: nothing more to say */
		own = true;
	}
	lines = calloc(nr ? nr : 1, sizeof(*lines));
	l->ignore_source = strdup(src);
	if (!lines || !l->ignore_source) {
		l->oom = true;
		goto out;
	}
	for (size_t i = 0; i < nr; i++) {
		struct ctxpack_rule_info ri;
		if (!ctxpack_rules_get(ctx->rules, i, &ri) && ri.line > 0 && !strcmp(ri.source, src))
			lines[n++] = ri.line;
	}
	l->ign_data = malloc(len ? len : 1);
	if (!l->ign_data) {
		l->oom = true;
		goto out;
	}
	memcpy(l->ign_data, data, len);
	l->ign_len = len;
	rc = lintconf_suppressions(&l->sup, &l->nsup, data, len, src, lines, n, check_index, err,
				   errsz);
	if (rc == -ENOMEM) {
		l->oom = true;
		rc = 0;
	}
out:
	free(lines);
	if (own)
		free(data);
	return rc ? -1 : 0;
}

/* ---- the run ---- */

struct walk {
	struct walk_result res;
	struct dockerctx ctx;
	bool ok;
};

static int walk_for(const struct lint_args *a, enum ctxpack_builder b, struct walk *w, char *err,
		    size_t errsz, struct rules_error *refusal)
{
	struct pack_options o = a->o;
	struct pack_report rep;
	int rc;

	o.builder = b;
	o.refusal = refusal;
	o.list_all = true;
	rc = pack_list(&o, &w->res, &rep, &w->ctx, err, errsz);
	w->ok = rc == 0;
	return rc;
}

static void walk_release(struct walk *w)
{
	if (!w->ok)
		return;
	walk_result_release(&w->res);
	dockerctx_close(&w->ctx);
	w->ok = false;
}

/* Checks that need both builders' walks; skipped when the other builder
 * cannot walk the context (its own findings say why, for this one). */
static void check_both(struct lint *l, struct walk *mine)
{
	enum ctxpack_builder ob = l->a->o.builder == CTXPACK_BUILDER_BUILDKIT ? CTXPACK_BUILDER_CLASSIC
									     : CTXPACK_BUILDER_BUILDKIT;
	struct walk other = { 0 };
	struct side sm = { 0 }, so = { 0 };
	char err[1024];

	side_init(&sm, l->a->o.builder, &mine->res, &mine->ctx);
	if (walk_for(l->a, ob, &other, err, sizeof(err), NULL) == 0) {
		side_init(&so, ob, &other.res, &other.ctx);
		check_builders_differ(l, &sm, &so);
		check_dockerfile(l, &sm, &so);
	} else {
		check_dockerfile(l, &sm, NULL);
	}
	walk_release(&other);
}

/* Returns 0 (the findings are in l) or -1 with a message in err. */
static int lint_run(struct lint *l, char *err, size_t errsz)
{
	struct rules_error refusal = { .rule = -1 };
	struct walk w = { 0 };
	struct dockerctx d;
	int rc;

	if (walk_for(l->a, l->a->o.builder, &w, err, errsz, &refusal)) {
		/* Without a walk only the rules can be linted. */
		rc = diagnose(l, &refusal, &d);
		if (!rc && d.opened && (load_config(l, d.rootfd, err, errsz) ||
					load_suppressions(l, &d, err, errsz)))
			rc = -1;
		if (!rc)
			check_ignore_file(l, &d);
		dockerctx_close(&d);
		rules_error_release(&refusal);
		return rc;
	}
	if (load_config(l, w.ctx.rootfd, err, errsz) || load_suppressions(l, &w.ctx, err, errsz)) {
		walk_release(&w);
		return -1;
	}
	check_control_bytes(l, w.ctx.rules);
	check_lazy_errors(l, w.ctx.match, &refusal);
	check_ignore_file(l, &w.ctx);
	check_rule_usage(l, w.ctx.match, &w.res);
	check_both(l, &w);
	if (check_used(l, &w.ctx, &w.res, err, errsz)) {
		walk_release(&w);
		return -1;
	}
	check_secrets(l, &w.ctx, &w.res);
	check_dirs(l, &w.res);
	check_large(l, &w.res);
	walk_release(&w);
	return 0;
}

/* ---- the command ---- */

static int lint_opt(int id, const char *arg, void *payload)
{
	struct lint_args *a = payload;
	uint64_t v;
	int rc = common_opt(id, arg, COMMON_DEST(a, .budgets = NULL));

	if (rc <= 0)
		return rc;
	switch (id) {
	case OPT_JSON: a->format = FMT_JSON; break;
	case OPT_FORMAT: {
		static const char *const names[] = { "text", "json", "sarif", "github" };
		size_t k = 0;
		while (k < 4 && strcmp(arg, names[k]))
			k++;
		if (k == 4) {
			usage_error(NULL, "invalid argument '%s' for --format: expected text, json, sarif or github", arg);
			return -1;
		}
		a->format = (enum format)k;
		break;
	}
	case OPT_CONFIG: a->config = arg; break;
	case OPT_DISABLE: {
		long c = check_index(arg, strlen(arg));
		if (c < 0) {
			usage_error(NULL, "invalid argument '%s' for --disable: not a check id (see 'ctxpack lint --help')", arg);
			return -1;
		}
		a->disabled[c] = true;
		break;
	}
	case OPT_SEVERITY: {
		const char *eq = strchr(arg, '=');
		long c = eq ? check_index(arg, (size_t)(eq - arg)) : -1;
		int lev = -1;
		for (int k = 0; eq && k < 3; k++)
			if (!strcmp(eq + 1, severity_names[k]))
				lev = k;
		if (c < 0 || lev < 0) {
			usage_error(NULL, "invalid argument '%s' for --severity: expected ID=info|warning|error with a check id (see 'ctxpack lint --help')", arg);
			return -1;
		}
		a->severity[c] = lev;
		break;
	}
	case OPT_MAX_FILE_SIZE:
		if (parse_size(arg, &v)) {
			usage_error(NULL, "invalid argument '%s' for --max-file-size: expected bytes, optionally with K, M, G (1024s) or KB, MB, GB (1000s)", arg);
			return -1;
		}
		a->max_file_size = v;
		break;
	}
	return 0;
}

static const struct opt lint_opts[] = {
	FILE_OPT,
	BUILDER_OPT(BUILDER_HELP),
	TARGET_OPT(TARGET_HELP ": the sources of the stages the build runs are checked"),
	BUILD_ARG_OPT(BUILD_ARG_HELP),
	{ "format", OPT_FORMAT, OPT_ARG_REQUIRED, "F", "text (default), json (one document), sarif (SARIF 2.1.0) or github (workflow annotations)", "text|json|sarif|github", 0 },
	{ "json", OPT_JSON, OPT_ARG_NONE, NULL, "one JSON document (--format=json)", NULL, 0 },
	{ "config", OPT_CONFIG, OPT_ARG_REQUIRED, "FILE", "the lint config (default .ctxpack.conf in the context, when there): 'disable ID...', 'severity ID LEVEL' lines", NULL, OPT_PATH_FILE },
	{ "max-file-size", OPT_MAX_FILE_SIZE, OPT_ARG_REQUIRED, "BYTES", "report sent files larger than this (default 50M; K/M/G: 1024s, KB/MB/GB: 1000s)", NULL, 0 },
	{ "disable", OPT_DISABLE, OPT_ARG_REQUIRED, "ID", "do not report the check ID (a code below; repeatable)", NULL, 0 },
	{ "severity", OPT_SEVERITY, OPT_ARG_REQUIRED, "ID=LEVEL", "report the check ID at LEVEL: info, warning or error (repeatable; the exit status follows)", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static const char lint_details[] =
	"Findings go to stdout, one per line, as FILE:LINE: SEVERITY: MESSAGE [CODE]\n"
	"when about a rule of the ignore file or a line of the Dockerfile,\n"
	"PATH: SEVERITY: MESSAGE [CODE] when about a path of the context\n"
	"(directories end with '/').\n"
	"\n"
	"Codes (each a check's stable id for --disable and --severity, with its default\n"
	"severity):\n"
	"  bad-pattern         error    a pattern Docker refuses or fails on (or ctxpack\n"
	"                               cannot reproduce); a line over 64 KiB\n"
	"  control-bytes       error    a pattern holds control bytes: BuildKit fails the\n"
	"                               build (warning with --builder=classic)\n"
	"  secret-file         error    a sent file that looks like or holds a credential\n"
	"  missing-source      error    a COPY/ADD/RUN --mount source of a stage the build\n"
	"                               runs that matches nothing the builder sends (the\n"
	"                               build fails there); warning for a BuildKit\n"
	"                               wildcard, which then copies nothing\n"
	"  dockerfile-invalid  error    the Dockerfile is refused as the builder refuses it\n"
	"  dead-rule           warning  a rule that matches no path of the context\n"
	"  defensive-rule      info     a common defensive rule (.idea, node_modules,\n"
	"                               *.log...) that matches nothing here, or a dead\n"
	"                               rule whose directory exists (an output not made)\n"
	"  overridden-rule     warning  a rule that matches paths but never decides one\n"
	"                               (info when an earlier exclusion shadows it)\n"
	"  redundant-rule      info     a rule whose paths a later rule of its kind all\n"
	"                               matches (it is the one to delete)\n"
	"  backslash-escape    warning  a backslash before a letter in a pattern: an escape\n"
	"                               to Docker, not a directory separator (use /)\n"
	"  trailing-comment    warning  ' #' in a pattern line: Docker keeps it in the\n"
	"                               pattern (comments take a line of their own)\n"
	"  root-only-rule      warning  a wildcard pattern without '/' (*.md) matches at\n"
	"                               the root only while deeper matches are sent\n"
	"  builders-differ     warning  a path one builder sends and the other does not\n"
	"                               (text mode shows 20, JSON all; info for BuildKit's\n"
	"                               parent directory of re-included entries)\n"
	"  vcs-sent            warning  a sent .git, .hg, .svn... directory\n"
	"  dependencies-sent   warning  a sent node_modules, vendor, .venv... directory\n"
	"  cache-sent          warning  a sent __pycache__, .cache, .gradle... directory\n"
	"  build-output-sent   warning  a sent dist, build, target... directory\n"
	"  no-dockerignore     warning  the context has no ignore file\n"
	"  ignore-outside      warning  the ignore file lies outside the context (a\n"
	"                               symlink): its lines are never quoted\n"
	"  source-partly-excluded warning a directory source with excluded paths below\n"
	"                               it (the first 5 named; often intended; info when\n"
	"                               file-type rules such as *.log left them out)\n"
	"  large-file          info     a sent file over --max-file-size\n"
	"  dockerfile-unsupported info  the Dockerfile holds what ctxpack cannot read\n"
	"                               exactly: its sources are not checked\n"
	"  dockerfile-excluded info     the rules exclude the Dockerfile (what each\n"
	"                               builder then does is in the message)\n"
	"\n"
	"Rules are checked against the paths the walk lists (ctxpack ls --all): what\n"
	"lies inside an excluded directory the walk does not enter is not seen.\n"
	"\n"
	"JSON: {\"version\":1, \"builder\", \"findings\":[{\"code\", \"severity\", \"file\",\n"
	"\"line\" (or null), \"path\" (or null), \"message\"}], \"counts\":{\"error\",\n"
	"\"warning\", \"info\"}}.\n"
	"\n"
	"--format=sarif: one SARIF 2.1.0 document (every check a rule of tool.driver;\n"
	"results located at FILE and LINE, relative to the context). --format=github:\n"
	"::error|warning|notice file=F,line=N,title=CODE::MESSAGE lines for GitHub\n"
	"Actions.\n"
	"\n"
	"Settings in the repository: .ctxpack.conf at the context's root (or\n"
	"--config FILE) with 'disable ID...' and 'severity ID LEVEL' lines; in the\n"
	"ignore file, a whole-line '# ctxpack:ignore ID[,ID]' comment suppresses\n"
	"those checks on the next rule line. The command line wins over both.\n"
	"\n"
	"Exit status: 0 no finding of severity warning or above; 1 warnings but no\n"
	"error; 3 at least one error; 2 usage error, the context cannot be read, or a\n"
	"bad .ctxpack.conf or ctxpack:ignore line.\n";

static int cmd_lint(const struct command *cmd, int argc, char **argv)
{
	struct lint_args a = { .o = { .builder = CTXPACK_BUILDER_BUILDKIT, .dir = "." },
			       .max_file_size = 50ull * 1024 * 1024 };
	struct lint l = { .a = &a };
	char err[1024] = "";
	int first, rc;

	for (size_t i = 0; i < NCHECKS; i++)
		a.severity[i] = l.conf_severity[i] = -1;
	first = opts_parse(cmd, argc, argv, lint_opt, &a);

	if (context_arg(cmd, argc, argv, first, &a.o.dir))
		return first == -2 ? 0 : 2;
	if (lint_run(&l, err, sizeof(err))) {
		fprintf(stderr, "ctxpack: %s\n", err);
		findings_free(&l);
		free(a.build_args);
		return 2;
	}
	if (l.oom) {
		fprintf(stderr, "ctxpack: out of memory\n");
		findings_free(&l);
		free(a.build_args);
		return 2;
	}
	findings_configure(&l);
	if (a.format == FMT_JSON)
		print_json(&l);
	else if (a.format == FMT_SARIF)
		print_sarif(&l);
	else if (a.format == FMT_GITHUB)
		print_github(&l);
	else
		print_text(&l);
	rc = exit_status(&l);
	findings_free(&l);
	free(a.build_args);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		return 2;
	}
	return rc;
}

const struct command lint_command = {
	"lint",
	"Report likely mistakes in a build context: dead rules, secrets and bulky\n"
	"directories that would be sent, paths the two builders disagree on.",
	"[DIR] [-f DOCKERFILE] [--builder=buildkit|classic] [--target STAGE] [--build-arg NAME[=VALUE]]... [--format=F] [--max-file-size BYTES]",
	lint_details,
	lint_opts,
	cmd_lint,
	OPT_PATH_DIR, /* operands */
};
