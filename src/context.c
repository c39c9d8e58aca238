/* context.c: the public facade of libctxpack (ctxpack_context_* in
 * ctxpack.h): one handle over a pack_session (the context opened and
 * walked), the explainer, the digest and the build's view (buildview,
 * used_reads), with the message of the last failure kept on the handle.
 * No logic of its own beyond translating: the decisions are pack's,
 * walk's, explain's and buildview's, so the library answers exactly what
 * the program does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxpack/ctxpack.h"
#include "beneath.h"
#include "bktrace.h"
#include "build.h"
#include "buildview.h"
#include "dockerctx.h"
#include "engine.h"
#include "explain.h"
#include "hashcache.h"
#include "hashfiles.h"
#include "internal.h"
#include "match.h"
#include "members.h"
#include "pack.h"
#include "policy.h"
#include "stats.h"
#include "used.h"
#include "walk.h"

struct ctxpack_context {
	/* Settings, read by the next open. */
	enum ctxpack_builder builder;
	char *dockerfile;
	int threads;
	bool clamp_mtime;
	int64_t mtime_max;
	char *target;
	char **build_args; /* "K=V", NULL-terminated (nbuild_args + 1) */
	size_t nbuild_args;

	/* The open context (s == NULL: not open). */
	struct pack_session *s;
	struct tar_options tar;  /* what s was opened with: pack must clamp
				    walked and generated members alike */
	const struct pack_plan *plan; /* the members, as pack sends them */
	const struct walk_entry **parents; /* BuildKit parent-only entries, by path */
	size_t nparents;
	struct explainer ex;
	bool ex_ready;
	bool hashed;             /* every sent file's hash is on s */

	/* The build (buildview): read at open; bv_rc its result, bv_err its
	 * message (bv.reason points into it). */
	struct buildview bv;
	bool bv_ready;
	int bv_rc;
	char bv_err[512];
	uint8_t *used; /* used_reads' flags, one per walk entry */
	struct stats_counts used_counts;

	/* Scratch for explain: the cleaned path, the forced rule's text. */
	char *buf;
	size_t bufsz;
	char *forced;
	size_t forcedsz;

	char errmsg[1024];
};

static int fail(ctxpack_context *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(ctxpack_context *c, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	return rc;
}

static int not_open(ctxpack_context *c)
{
	return fail(c, -EINVAL, "the context is not open (call ctxpack_context_open first)");
}

int ctxpack_context_new(ctxpack_context **out)
{
	ctxpack_context *c;

	if (!out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	*out = c;
	if (!c)
		return -ENOMEM;
	c->builder = CTXPACK_BUILDER_BUILDKIT;
	return 0;
}

/* Back to "not open"; the settings stay. */
static void context_close(ctxpack_context *c)
{
	if (c->ex_ready)
		explainer_release(&c->ex);
	c->ex_ready = false;
	free(c->parents);
	c->parents = NULL;
	c->nparents = 0;
	c->plan = NULL;
	c->hashed = false;
	if (c->bv_ready)
		buildview_close(&c->bv);
	c->bv_ready = false;
	free(c->used);
	c->used = NULL;
	pack_close(&c->s);
}

void ctxpack_context_free(ctxpack_context **cp)
{
	ctxpack_context *c = cp ? *cp : NULL;

	if (!c)
		return;
	context_close(c);
	free(c->dockerfile);
	free(c->target);
	ctxpack_context_add_build_arg(c, NULL);
	free(c->build_args);
	free(c->buf);
	free(c->forced);
	free(c);
	*cp = NULL;
}

int ctxpack_context_set_builder(ctxpack_context *c, enum ctxpack_builder b)
{
	if (!c)
		return -EINVAL;
	if (b != CTXPACK_BUILDER_BUILDKIT && b != CTXPACK_BUILDER_CLASSIC)
		return fail(c, -EINVAL, "unknown builder %d", (int)b);
	c->builder = b;
	return 0;
}

int ctxpack_context_set_dockerfile(ctxpack_context *c, const char *path)
{
	char *copy = NULL;

	if (!c)
		return -EINVAL;
	/* dockerctx reads "-" from standard input (the CLI's -f -); the
	 * library never reads it: "-" is a file of that name */
	if (path && strcmp(path, "-") == 0)
		path = "./-";
	if (path && !(copy = strdup(path)))
		return fail(c, -ENOMEM, "out of memory");
	free(c->dockerfile);
	c->dockerfile = copy;
	return 0;
}

int ctxpack_context_set_threads(ctxpack_context *c, int threads)
{
	/* The program's -j range. */
	if (!c)
		return -EINVAL;
	if (threads < 0 || threads > 1024)
		return fail(c, -EINVAL, "threads %d out of range (0 to 1024)", threads);
	c->threads = threads;
	return 0;
}

int ctxpack_context_set_mtime(ctxpack_context *c, int64_t epoch)
{
	if (!c)
		return -EINVAL;
	c->clamp_mtime = epoch >= 0;
	c->mtime_max = epoch >= 0 ? epoch : 0;
	return 0;
}

int ctxpack_context_set_target(ctxpack_context *c, const char *target)
{
	char *copy = NULL;

	if (!c)
		return -EINVAL;
	if (target && !(copy = strdup(target)))
		return fail(c, -ENOMEM, "out of memory");
	free(c->target);
	c->target = copy;
	return 0;
}

int ctxpack_context_add_build_arg(ctxpack_context *c, const char *arg)
{
	char **v;

	if (!c)
		return -EINVAL;
	if (!arg) {
		for (size_t i = 0; i < c->nbuild_args; i++)
			free(c->build_args[i]);
		if (c->build_args)
			c->build_args[0] = NULL;
		c->nbuild_args = 0;
		return 0;
	}
	if (!arg[0] || arg[0] == '=')
		return fail(c, -EINVAL, "build argument '%s' has no name", arg);
	v = realloc(c->build_args, (c->nbuild_args + 2) * sizeof(*v));
	if (!v)
		return fail(c, -ENOMEM, "out of memory");
	c->build_args = v;
	if (!(v[c->nbuild_args] = strdup(arg)))
		return fail(c, -ENOMEM, "out of memory");
	v[++c->nbuild_args] = NULL;
	return 0;
}

const char *ctxpack_context_errmsg(const ctxpack_context *c)
{
	return c ? c->errmsg : "";
}

static int cmp_entry_path(const void *a, const void *b)
{
	const struct walk_entry *x = *(const struct walk_entry *const *)a;
	const struct walk_entry *y = *(const struct walk_entry *const *)b;
	int r = memcmp(x->path, y->path, x->len < y->len ? x->len : y->len);

	return r ? r : (x->len > y->len) - (x->len < y->len);
}

/* What explain needs from the walk, worked out once: the BuildKit
 * parent-only directories sorted by path. */
static int index_walk(ctxpack_context *c)
{
	const struct walk_result *res = pack_entries(c->s);

	c->parents = malloc((res->n ? res->n : 1) * sizeof(*c->parents));
	if (!c->parents)
		return -ENOMEM;
	for (size_t i = 0; i < res->n; i++)
		if (res->v[i]->sent && res->v[i]->parent)
			c->parents[c->nparents++] = res->v[i];
	qsort(c->parents, c->nparents, sizeof(*c->parents), cmp_entry_path);
	return 0;
}

/* The build's view of the open context, as `ctxpack stats` measures it
 * (buildview_open, used_reads, stats_used).  A Dockerfile that cannot be
 * read is kept in bv_rc for the build calls; returns only -ENOMEM. */
static int open_build(ctxpack_context *c)
{
	const struct walk_result *res = pack_entries(c->s);
	struct buildview_options bo = { .builder = c->builder,
					.build_args = (const char *const *)c->build_args,
					.target = c->target,
					.dfname = c->dockerfile };
	struct stats_counts unread = { 0 };

	memset(&c->used_counts, 0, sizeof(c->used_counts));
	c->bv_rc = buildview_open(&c->bv, (struct dockerctx *)pack_context(c->s), res, &bo,
				  c->bv_err, sizeof(c->bv_err));
	c->bv_ready = true;
	if (c->bv_rc)
		return 0;
	c->used = calloc(res->n ? res->n : 1, 1);
	if (!c->used)
		return -ENOMEM;
	used_reads(&c->bv.used, c->used);
	stats_used(&c->used_counts, &unread, res, c->used);
	return 0;
}

int ctxpack_context_open(ctxpack_context *c, const char *dir)
{
	/* list_all: the build's sources are resolved against every entry,
	 * excluded ones too (the members are only the sent ones) */
	struct pack_options o = { .dir = dir, .list_all = true };
	int rc;

	if (!c)
		return -EINVAL;
	o.builder = c->builder;
	o.dockerfile = c->dockerfile;
	o.threads = c->threads;
	context_close(c);
	c->errmsg[0] = '\0';
	if (!dir)
		return fail(c, -EINVAL, "no context directory given");
	o.tar.clamp_mtime = c->clamp_mtime;
	o.tar.mtime_max = c->mtime_max;
	rc = pack_open(&c->s, &o, c->errmsg, sizeof(c->errmsg));
	if (rc)
		return rc;
	c->tar = o.tar;
	c->plan = pack_plan(c->s);
	rc = index_walk(c);
	if (!rc)
		rc = explainer_init(&c->ex, pack_context(c->s)->match);
	if (rc) {
		context_close(c);
		return fail(c, rc, "out of memory");
	}
	c->ex_ready = true;
	rc = open_build(c);
	if (rc) {
		context_close(c);
		return fail(c, rc, "out of memory");
	}
	return 0;
}

int ctxpack_context_info(const ctxpack_context *c, struct ctxpack_context_info *out)
{
	const struct dockerctx *ctx;

	if (!c || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!c->s)
		return -EINVAL;
	ctx = pack_context(c->s);
	out->builder = ctx->builder;
	out->root = ctx->root;
	out->dockerfile = ctx->dockerfile;
	out->ignore_file = ctx->ignore_source;
	out->rules = ctx->rules;
	return 0;
}

/* ---- explain ---- */

/* The path relative to the context, cleaned, into c->buf (as `ctxpack
 * check-ignore` takes it); returns its length, 0 for the context itself,
 * -1 when it is outside, -2 out of memory. */
static long relative_path(ctxpack_context *c, const char *p, size_t len)
{
	return dockerctx_relpath(pack_context(c->s)->root, p, len, &c->buf, &c->bufsz);
}

static bool is_parent_only(const ctxpack_context *c, const char *path, size_t len)
{
	struct walk_entry key = { .path = (char *)path, .len = len };
	const struct walk_entry *kp = &key;

	return c->nparents &&
	       bsearch(&kp, c->parents, c->nparents, sizeof(*c->parents), cmp_entry_path) != NULL;
}

/* The message `ctxpack check-ignore` gives when the matcher refuses to
 * decide a path. */
static int explain_failed(ctxpack_context *c, int rc, long rule, const char *path, size_t n)
{
	char msg[1024];

	if (rc == -ENOMEM)
		return fail(c, rc, "out of memory");
	match_refusal_message(pack_context(c->s)->match, rule, rc, path, n, msg, sizeof(msg));
	return fail(c, rc, "%s", msg);
}

/* As `ctxpack check-ignore` (both ask policy_decide), with the walk
 * standing in for its walk below an excluded directory: the walk already
 * decided which directories BuildKit sends as parents. */
int ctxpack_context_explain(ctxpack_context *c, const char *path, struct ctxpack_explanation *out)
{
	struct explain_result res = { CTXPACK_NONE, -1, false, true, false, NULL };
	struct policy_decision pd = { .sent = true };
	const struct dockerctx *ctx;
	long n;
	int rc;

	if (!c)
		return -EINVAL;
	if (!out)
		return fail(c, -EINVAL, "no explanation to fill");
	memset(out, 0, sizeof(*out));
	out->rule = -1;
	if (!c->s)
		return not_open(c);
	if (!path)
		return fail(c, -EINVAL, "no path given");
	ctx = pack_context(c->s);
	n = relative_path(c, path, strlen(path));
	if (n == -2)
		return fail(c, -ENOMEM, "out of memory");
	if (n < 0)
		return fail(c, -EINVAL, "'%s' is outside the context '%s'", path, ctx->root);
	if (n > 0) {
		struct policy_in in;
		bool df = dockerctx_is_dockerfile(ctx, c->buf, (size_t)n);
		int type;
		rc = explain_path(&c->ex, c->buf, (size_t)n, &res);
		if (rc)
			return explain_failed(c, rc, res.rule, c->buf, (size_t)n);
		/* Only what exists refines the rules' answer. */
		type = res.pruned ? -ENOENT : walk_type_at(ctx->rootfd, c->buf, (size_t)n);
		explain_policy_in(&res, ctx->builder, type < 0 ? POLICY_TYPE_UNKNOWN : type, df, &in);
		policy_decide(&in, &pd);
	}
	out->verdict = res.verdict;
	out->sent = pd.sent;
	out->pruned = res.pruned;
	out->rule = res.rule;
	if (pd.forced) {
		if (c->forcedsz < (size_t)n + 2) {
			char *nf = realloc(c->forced, (size_t)n + 2);
			if (!nf)
				return fail(c, -ENOMEM, "out of memory");
			c->forced = nf;
			c->forcedsz = (size_t)n + 2;
		}
		c->forced[0] = '!';
		memcpy(c->forced + 1, c->buf, (size_t)n + 1);
		out->forced = true;
		out->pruned = false;
		out->verdict = CTXPACK_INCLUDE;
		out->rule = -1;
		out->rule_info = (struct ctxpack_rule_info){ "<builder>", 0, c->forced, (size_t)n + 1 };
		return 0;
	}
	if (pd.candidate && !pd.sent && is_parent_only(c, c->buf, (size_t)n))
		out->sent = out->parent_only = true;
	out->socket_skipped = pd.skip == POLICY_SKIP_SOCKET;
	if (out->rule >= 0)
		ctxpack_rules_get(ctx->rules, (size_t)out->rule, &out->rule_info);
	return 0;
}

/* ---- entries ---- */

size_t ctxpack_context_count(const ctxpack_context *c)
{
	return c && c->s ? c->plan->n : 0;
}

int ctxpack_context_entry(const ctxpack_context *c, size_t i, struct ctxpack_entry *out)
{
	const struct pack_member *m;

	if (!c || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!c->s || i >= c->plan->n)
		return -ERANGE;
	m = &c->plan->v[i];
	out->path = m->path;
	out->path_len = m->len;
	out->type = (enum ctxpack_entry_type)m->type;
	out->mode = m->mode;
	out->size = m->size;
	out->link = m->link;
	out->parent_only = m->e && m->e->parent;
	out->generated = m->kind >= PM_IGNORE_REWRITTEN;
	return 0;
}

/* ---- pack and digest ---- */

/* The header's codecs as the tar writer names them. */
static const enum tar_compression codec_of[] = {
	[CTXPACK_COMPRESS_NONE] = TAR_NONE, [CTXPACK_COMPRESS_GZIP] = TAR_GZIP,
	[CTXPACK_COMPRESS_ZSTD] = TAR_ZSTD,
};

int ctxpack_context_pack(ctxpack_context *c, int fd, enum ctxpack_compression comp, int level,
			 struct ctxpack_pack_report *report)
{
	struct tar_options to;
	struct pack_report rep;
	int rc;

	if (report)
		memset(report, 0, sizeof(*report));
	if (!c)
		return -EINVAL;
	if (!c->s)
		return not_open(c);
	if ((unsigned)comp >= ARRAY_SIZE(codec_of))
		return fail(c, -EINVAL, "unknown compression %d", (int)comp);
	if (fd < 0)
		return fail(c, -EBADF, "no output (file descriptor %d)", fd);
	/* The options the session was opened with (its generated members are
	 * clamped with them), the codec as asked; zstd's threads as the
	 * program leaves them. */
	to = c->tar;
	to.compression = codec_of[comp];
	to.level = level;
	c->errmsg[0] = '\0';
	rc = pack_write_with(c->s, fd, &to, &rep, c->errmsg, sizeof(c->errmsg));
	if (rc) {
		if (!c->errmsg[0])
			fail(c, rc, "cannot write the archive: %s", strerror(-rc));
		return rc;
	}
	if (report) {
		report->entries = rep.entries;
		report->bytes = rep.bytes;
		report->tar_bytes = rep.tar_bytes;
		report->out_bytes = rep.out_bytes;
		snprintf(report->dockerfile_name, sizeof(report->dockerfile_name), "%s",
			 rep.dockerfile_name);
	}
	return 0;
}

static int digest_member(void *arg, const struct member *m)
{
	members_digester_add(arg, m);
	return 0;
}

int ctxpack_context_digest(ctxpack_context *c, bool with_mtime, char out[CTXPACK_DIGEST_SIZE])
{
	struct hashfiles_stats hs = { 0 };
	struct members_digester *dg;
	uint8_t d[16];
	int rc;

	if (!c)
		return -EINVAL;
	if (!out)
		return fail(c, -EINVAL, "no buffer for the digest");
	out[0] = '\0';
	if (!c->s)
		return not_open(c);
	c->errmsg[0] = '\0';
	if (!c->hashed) {
		rc = pack_hash(c->s, NULL, NULL, NULL, &hs, c->errmsg, sizeof(c->errmsg));
		if (rc)
			return rc;
		c->hashed = true;
	}
	dg = members_digester_new(with_mtime);
	if (!dg)
		return fail(c, -ENOMEM, "out of memory");
	rc = pack_members_each(c->s, digest_member, dg, c->errmsg, sizeof(c->errmsg));
	members_digester_finish(&dg, d);
	if (rc)
		return rc;
	members_digest_string(d, out);
	return 0;
}

/* ---- the build ---- */

/* 0 when the build's view is there, else the error (message on c). */
static int build_ready(ctxpack_context *c)
{
	if (!c->s)
		return not_open(c);
	if (c->bv_rc)
		return fail(c, c->bv_rc, "%s", c->bv_err);
	return 0;
}

int ctxpack_context_build(ctxpack_context *c, struct ctxpack_build_info *out)
{
	int rc;

	if (!c)
		return -EINVAL;
	if (!out)
		return fail(c, -EINVAL, "no build info to fill");
	memset(out, 0, sizeof(*out));
	rc = build_ready(c);
	if (rc)
		return rc;
	out->dockerfile = c->bv.dfname;
	out->sources = c->bv.used.n;
	for (size_t i = 0; i < c->bv.used.n; i++)
		out->fails |= c->bv.used.v[i].fails;
	out->used_entries = c->used_counts.entries;
	out->used_files = c->used_counts.files;
	out->used_bytes = c->used_counts.bytes;
	return 0;
}

int ctxpack_context_source(ctxpack_context *c, size_t i, struct ctxpack_source *out)
{
	static const enum ctxpack_source_kind kinds[] = {
		[DF_SRC_COPY] = CTXPACK_SOURCE_COPY, [DF_SRC_ADD] = CTXPACK_SOURCE_ADD,
		[DF_SRC_MOUNT] = CTXPACK_SOURCE_MOUNT,
	};
	const struct used_source *u;
	int rc;

	if (!c)
		return -EINVAL;
	if (!out)
		return fail(c, -EINVAL, "no source to fill");
	memset(out, 0, sizeof(*out));
	out->rule = -1;
	rc = build_ready(c);
	if (rc)
		return rc;
	if (i >= c->bv.used.n)
		return fail(c, -ERANGE, "source %zu out of range (%zu sources)", i, c->bv.used.n);
	u = &c->bv.used.v[i];
	out->kind = kinds[u->src->kind];
	out->line = u->src->line;
	out->path = u->src->path;
	out->resolved = u->path;
	out->wildcard = u->wildcard;
	out->missing = u->missing;
	out->fails = u->fails;
	out->matched = u->nmatched;
	if (u->excluded) {
		out->excluded_path = u->excluded->path;
		out->rule = u->excluded->rule;
		if (out->rule >= 0)
			ctxpack_rules_get(pack_context(c->s)->rules, (size_t)out->rule,
					  &out->rule_info);
	}
	return 0;
}

int ctxpack_context_entry_used(ctxpack_context *c, size_t i, bool *out)
{
	const struct pack_member *m;
	int rc;

	if (!c)
		return -EINVAL;
	if (!out)
		return fail(c, -EINVAL, "no flag to fill");
	*out = false;
	rc = build_ready(c);
	if (rc)
		return rc;
	if (i >= c->plan->n)
		return fail(c, -ERANGE, "entry %zu out of range (%zu entries)", i, c->plan->n);
	m = &c->plan->v[i];
	*out = m->e && m->at != SIZE_MAX && c->used[m->at];
	return 0;
}

/* ---- the engine: a build on the Docker Engine API ---- */

/* The caller's options, as large as this library knows them: the fields
 * past its size zero (the defaults).  false when size is below the
 * first version's struct. */
static bool engine_options(const struct ctxpack_engine_options *eo, struct engine_env *env)
{
	struct ctxpack_engine_options o = { 0 };

	memset(env, 0, sizeof(*env));
	if (!eo)
		return true;
	if (eo->size < offsetof(struct ctxpack_engine_options, tls_verify) + sizeof(eo->tls_verify))
		return false;
	memcpy(&o, eo, eo->size < sizeof(o) ? eo->size : sizeof(o));
	env->host = o.host;
	env->context = o.context;
	env->docker_host = o.docker_host;
	env->docker_context = o.docker_context;
	env->docker_config = o.docker_config;
	env->home = o.home;
	env->tls_verify = o.tls_verify;
	env->tls = o.tls;
	env->cert_path = o.cert_path;
	return true;
}

/* Where the engine is and the API version to speak; with proxies, the
 * build args the docker CLI adds from its configuration's proxies for
 * it: engine_locate with the options as its environment. */
static int engine_find(const struct ctxpack_engine_options *eo, struct engine_addr *addr,
		       char version[16], char ***proxies, size_t *nproxies, char *err,
		       size_t errsz)
{
	struct engine_env env;

	if (!engine_options(eo, &env))
		return set_errmsg(err, errsz, -EINVAL,
				  "struct ctxpack_engine_options: size %zu is not a size it had",
				  eo->size);
	return engine_locate(addr, &env, version, proxies, nproxies, err, errsz);
}

int ctxpack_engine_ping(const struct ctxpack_engine_options *eo, struct ctxpack_engine_info *out,
			char *err, size_t errsz)
{
	struct engine_addr addr;
	char version[16], scratch[1];
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!err) {
		err = scratch;
		errsz = sizeof(scratch);
	}
	if (errsz)
		err[0] = '\0';
	rc = engine_find(eo, &addr, version, NULL, NULL, err, errsz);
	if (!rc && out) {
		snprintf(out->host, sizeof(out->host), "%s", addr.host);
		snprintf(out->where, sizeof(out->where), "%s", addr.where);
		snprintf(out->api_version, sizeof(out->api_version), "%s", version);
	}
	return rc;
}

/* The library's rendering of the answer: the classic builder's text as
 * it is, BuildKit's trace decoded and rendered as --progress=plain (into
 * a memory stream handed on after every message). */
struct build_progress {
	ctxpack_build_progress_fn fn;
	void *arg;
	struct bktrace *trace;
	FILE *mem;
	char *buf;
	size_t len;
};

static int progress_text(void *arg, const char *line, size_t n, const char *text, size_t tn)
{
	struct build_progress *p = arg;
	struct ctxpack_build_event ev = { .kind = CTXPACK_BUILD_TEXT, .message = line,
					  .message_len = n, .text = text, .text_len = tn };

	return p->fn ? p->fn(p->arg, &ev) : 0;
}

/* One trace event: what the trace rendered since the last one. */
static int trace_event(struct build_progress *p, const char *line, size_t n)
{
	struct ctxpack_build_event ev = { .kind = CTXPACK_BUILD_TRACE, .message = line,
					  .message_len = n };
	struct bktrace_counts k;
	int rc;

	if (fflush(p->mem))
		return -ENOMEM;
	bktrace_counts(p->trace, &k);
	ev.text = p->buf ? p->buf : "";
	ev.text_len = p->len;
	ev.steps = k.vertexes;
	ev.completed = k.completed;
	ev.cached = k.cached;
	ev.errors = k.errors;
	if (!bktrace_failure(p->trace, &ev.failed_step, &ev.failed_error))
		ev.failed_step = ev.failed_error = NULL;
	rc = p->fn ? p->fn(p->arg, &ev) : 0;
	rewind(p->mem); /* the next rendering from the start of the buffer */
	return rc;
}

static int progress_trace(void *arg, const char *line, size_t n, const char *b64, size_t bn)
{
	struct build_progress *p = arg;

	if (!p->trace)
		return 0;
	bktrace_feed_base64(p->trace, b64, bn); /* a message it cannot read: skipped */
	return trace_event(p, line, n);
}

int ctxpack_engine_build(ctxpack_context *c, const struct ctxpack_engine_options *eo,
			 const struct ctxpack_build_options *bo, ctxpack_build_progress_fn fn,
			 void *arg, struct ctxpack_build_result *out)
{
	struct ctxpack_build_options o = { 0 };
	struct build_progress p = { .fn = fn, .arg = arg };
	struct build_hooks hooks = { .arg = &p, .text = progress_text, .trace = progress_trace };
	struct build_outcome res = { 0 };
	struct build_request rq;
	struct tar_options to;
	struct engine_addr addr;
	struct pack_report rep;
	char version[16], why[512], **proxies = NULL;
	size_t nproxies = 0;
	int rc, restricted = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!c)
		return -EINVAL;
	if (!c->s)
		return not_open(c);
	c->errmsg[0] = '\0';
	if (bo && bo->size < offsetof(struct ctxpack_build_options, level) + sizeof(bo->level))
		return fail(c, -EINVAL, "struct ctxpack_build_options: size %zu is not a size it had",
			    bo->size);
	if (bo)
		memcpy(&o, bo, bo->size < sizeof(o) ? bo->size : sizeof(o));
	if ((unsigned)o.compression >= ARRAY_SIZE(codec_of))
		return fail(c, -EINVAL, "unknown compression %d", (int)o.compression);
	rq = (struct build_request){
		.builder = c->builder,
		.tags = (const char **)o.tags,
		.ntags = o.ntags,
		.build_args = (const char **)o.build_args,
		.nbuild_args = o.nbuild_args,
		.labels = (const char **)o.labels,
		.nlabels = o.nlabels,
		.target = o.target,
		.platform = o.platform,
		.network = o.network,
		.no_cache = o.no_cache,
		.pull = o.pull,
		.quiet = o.quiet,
		.skip_unchanged = o.skip_unchanged,
	};
	to = c->tar;
	to.compression = codec_of[o.compression];
	to.level = o.level;
	rc = build_refuses(&rq, &to, c->errmsg, sizeof(c->errmsg));
	if (!rc)
		rc = engine_find(eo, &addr, version, &proxies, &nproxies, c->errmsg,
				 sizeof(c->errmsg));
	if (rc) {
		engine_strv_free(proxies);
		return rc;
	}
	rq.proxy_args = (const char *const *)proxies;
	rq.nproxy_args = nproxies;
	if (out) {
		snprintf(out->engine_where, sizeof(out->engine_where), "%s", addr.where);
		snprintf(out->api_version, sizeof(out->api_version), "%s", version);
	}
	if (o.skip_unchanged && o.hash_cache &&
	    hashcache_open(&rq.cache, o.hash_cache, c->errmsg, sizeof(c->errmsg))) {
		rc = -ENOMEM;
		goto out;
	}
	if (c->builder == CTXPACK_BUILDER_BUILDKIT) {
		if (!(p.mem = open_memstream(&p.buf, &p.len)) ||
		    !(p.trace = bktrace_new(p.mem, BKTRACE_PLAIN))) {
			rc = fail(c, -ENOMEM, "out of memory");
			goto out;
		}
		bktrace_set_interval(p.trace, 0);
	}
	rq.dockerfile = c->dockerfile;
	/* only what the build reads (the context's walk lists every entry) */
	restricted = o.whole_context ? 0
				     : build_restrict(c->s, &rq, why, sizeof(why));
	if (restricted < 0) {
		rc = fail(c, restricted, "%s", why);
		goto out;
	}
	if (out) {
		out->only_read = restricted == 1;
		if (!restricted && !o.whole_context)
			snprintf(out->whole_why, sizeof(out->whole_why), "%s", why);
	}
	/* the session's codec for this build, then back to none (pack sets
	 * its own for every call) */
	pack_set_compression(c->s, to.compression, to.level);
	rc = build_run(c->s, &addr, version, &rq, &hooks, &res, c->errmsg, sizeof(c->errmsg));
	rep.tar_bytes = res.tar_bytes;
	/* nothing sent (skipped): the archive's size from a counting pass */
	if (!rc && res.skipped)
		rc = pack_write(c->s, -1, &rep, c->errmsg, sizeof(c->errmsg));
	pack_set_compression(c->s, TAR_NONE, 0);
	/* the whole plan back: the context serves other calls */
	if (restricted == 1 && pack_restrict(c->s, NULL) && !rc)
		rc = fail(c, -ENOMEM, "out of memory");
	if (p.trace && (!rc || res.failed) && !res.skipped) {
		int r;

		bktrace_finish(p.trace);
		r = trace_event(&p, NULL, 0);
		if (!rc && r)
			rc = fail(c, -ECANCELED, "the build was stopped after it finished");
	}
	if (out) {
		out->skipped = res.skipped;
		out->failed = res.failed;
		out->tar_bytes = rep.tar_bytes;
		out->sent_bytes = res.sent;
		if (res.image_id)
			snprintf(out->image_id, sizeof(out->image_id), "%s", res.image_id);
	}
out:
	bktrace_free(p.trace);
	if (p.mem)
		fclose(p.mem);
	free(p.buf);
	hashcache_free(&rq.cache);
	build_outcome_release(&res);
	engine_strv_free(proxies);
	return rc;
}
