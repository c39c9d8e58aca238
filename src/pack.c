/* pack.c: the packing run (see pack.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "dockerctx.h"
#include "hashfiles.h"
#include "internal.h"
#include "links.h"
#include "members.h"
#include "pack.h"
#include "prefetch.h"
#include "tarwriter.h"

_Static_assert(WT_FILE == (int)CTXPACK_ENTRY_FILE && WT_DIR == (int)CTXPACK_ENTRY_DIR &&
		       WT_SYMLINK == (int)CTXPACK_ENTRY_SYMLINK && WT_FIFO == (int)CTXPACK_ENTRY_FIFO &&
		       WT_CHR == (int)CTXPACK_ENTRY_CHAR && WT_BLK == (int)CTXPACK_ENTRY_BLOCK &&
		       WT_SOCK == (int)CTXPACK_ENTRY_SOCKET,
	       "a walk type is the member type of the same number (members.h: member_types)");

static bool is_read_ahead(const struct pack_member *m)
{
	return m->kind == PM_WALKED && m->e->type == WT_FILE && m->size <= PREFETCH_MAX_FILE;
}

/* The Dockerfile outside the context goes in as .dockerfile.<20 hex>, the
 * hex taken from its content (the docker CLI uses random bytes), and its
 * name is appended to .dockerignore so that COPY . . leaves both out. */
struct outside_df {
	char name[64];
	const char *data;
	size_t len;
	int64_t mtime;
};

/* df->data borrows the bytes dockerctx read (bounded, a regular file). */
static void load_outside_dockerfile(const struct dockerctx *ctx, struct outside_df *df)
{
	const struct dockerctx_input *in = &ctx->outside_dockerfile;
	XXH128_hash_t h = XXH3_128bits(in->data, in->len);

	/* A non-NULL pointer, also for an empty Dockerfile. */
	df->data = in->data ? in->data : "";
	df->len = in->len;
	snprintf(df->name, sizeof(df->name), ".dockerfile.%016llx%04llx",
		 (unsigned long long)h.high64, (unsigned long long)(h.low64 >> 48));
	df->mtime = in->mtime;
}

static int64_t clamp(const struct tar_options *t, int64_t mtime)
{
	return t->clamp_mtime && mtime > t->mtime_max ? t->mtime_max : mtime;
}

static int open_context(const struct pack_options *o, struct dockerctx *ctx, char *err,
			size_t errsz)
{
	int rc = dockerctx_open_with(ctx, o->dir, o->dockerfile, o->builder, o->ignore_text,
				     o->ignore_text_len);

	if (rc)
		snprintf(err, errsz, "%s", ctx->errmsg);
	return rc;
}

static int walk(const struct pack_options *o, const struct dockerctx *ctx,
		struct walk_result *res, char *err, size_t errsz)
{
	struct walk_options wo = { o->builder, ctx->match, o->threads,
				   o->builder == CTXPACK_BUILDER_BUILDKIT ? ctx->dockerfile : NULL,
				   o->list_all, o->list_all && o->measure_pruned, o->progress,
				   NULL, NULL, CTXPACK_NONE, o->refusal,
				   o->builder == CTXPACK_BUILDER_BUILDKIT ? ctx->dockerfile_link : NULL };

	return walk_context(res, ctx->rootfd, &wo, err, errsz);
}

/* The bytes of the .dockerignore member m (PM_IGNORE_REWRITTEN: the
 * context's own, from the bytes dockerctx read when it loaded the rules,
 * never a second read; PM_IGNORE_GENERATED: ".dockerignore" itself) with
 * the generated Dockerfile's name appended, into *out (malloc'd, m->size
 * bytes). */
static int ignore_with_name(char **out, const struct dockerctx *ctx, const struct pack_member *m,
			    const struct outside_df *df, char *err, size_t errsz)
{
	const struct dockerctx_input *in = &ctx->dockerignore;
	const struct walk_entry *e = m->kind == PM_IGNORE_REWRITTEN ? m->e : NULL;
	size_t len = 0, nl = strlen(df->name);
	char *buf;

	if (e && e->type != WT_FILE) /* the docker CLI dies mid-stream here */
		return set_errmsg(err, errsz, -EINVAL,
				  "'.dockerignore' is not a regular file, so the Dockerfile's generated name cannot be added to it; move the Dockerfile into the context");
	if (e && !in->present) {
		/* It appeared after the rules were read. */
		snprintf(err, errsz, "'.dockerignore' changed while the context was read");
		return -ESTALE;
	}
	buf = malloc(m->size ? m->size : 1);
	if (!buf) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (e) {
		memcpy(buf, in->data, in->len);
		len = in->len;
	} else {
		memcpy(buf, ".dockerignore", 13);
		len = 13;
	}
	buf[len++] = '\n';
	memcpy(buf + len, df->name, nl);
	len += nl;
	buf[len++] = '\n';
	*out = buf;
	return 0;
}

struct pack_session {
	struct pack_options o;
	struct dockerctx ctx;
	struct outside_df df;
	struct walk_result res;
	struct pack_plan plan;
	const uint8_t *keep; /* pack_restrict: the entries kept (with their parents), or NULL */
	uint8_t (*hash)[16]; /* content hashes by res index (pack_hash, or a hashing write) */
	bool *hashed;
};

static struct pack_member walked(const struct walk_entry *e, size_t i, const struct tar_options *t)
{
	return (struct pack_member){ .e = e, .path = e->path, .len = e->len, .link = e->link,
				     .link_len = e->link ? strlen(e->link) : 0,
				     .size = e->type == WT_FILE ? e->size : 0,
				     .mtime = clamp(t, e->mtime_sec), .at = i, .mode = e->mode & 07777,
				     .kind = PM_WALKED, .type = e->type };
}

static struct pack_member generated(const char *path, uint64_t size, uint32_t mode,
				    int64_t mtime, enum pack_member_kind kind)
{
	return (struct pack_member){ .path = path, .len = strlen(path), .size = size,
				     .mtime = mtime, .at = SIZE_MAX, .mode = mode, .kind = kind,
				     .type = CTXPACK_ENTRY_FILE };
}

/* The member plan (pack.h), from the walk: the first sent name of a file
 * carries its data and later ones link to it (links_first: the builder's
 * rule); the context's .dockerignore is rewritten in its place and is
 * never a link; the generated members go last. */
/* pack_restrict's filter: keep[i], the directories above a kept entry,
 * and what the builder itself reads of the context: the Dockerfile and
 * the ignore file (the classic daemon reads both from the archive;
 * `docker build -f NAME -` takes the Dockerfile from it).  want[] gets
 * the decision per entry. */
static int plan_keep(const struct pack_session *s, uint8_t *want)
{
	const struct walk_result *res = &s->res;
	const struct dockerctx *c = &s->ctx;

	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		want[i] = s->keep[i] ||
			  (c->dockerfile && e->len == strlen(c->dockerfile) &&
			   !memcmp(e->path, c->dockerfile, e->len)) ||
			  (c->ignore_source && !c->ignore_outside &&
			   e->len == strlen(c->ignore_source) &&
			   !memcmp(e->path, c->ignore_source, e->len));
	}
	return walk_mark_parents(res, want, 1);
}

static int plan_build(struct pack_session *s)
{
	const struct walk_result *res = &s->res;
	const struct tar_options *t = &s->o.tar;
	const struct dockerctx_input *in = &s->ctx.dockerignore;
	struct pack_plan *pl = &s->plan;
	struct links seen = { 0 };
	bool rewritten = false;
	size_t nl = strlen(s->df.name);
	int rc = 0;

	uint8_t *want = NULL;

	pl->v = malloc((res->n + 2) * sizeof(*pl->v));
	if (!pl->v)
		return -ENOMEM;
	if (s->keep) {
		want = calloc(res->n ? res->n : 1, sizeof(*want));
		if (!want || plan_keep(s, want)) {
			free(want);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		struct pack_member *m = &pl->v[pl->n];
		long first;
		if (!e->sent || (want && !want[i]))
			continue;
		pl->n++;
		*m = walked(e, i, t);
		if (s->df.data && !rewritten && e->len == 13 && !memcmp(e->path, ".dockerignore", 13)) {
			rewritten = true;
			m->kind = PM_IGNORE_REWRITTEN;
			m->type = CTXPACK_ENTRY_FILE;
			m->link = NULL;
			m->link_len = 0;
			m->size = (in->present ? in->len : e->size) + nl + 2;
			if (in->present) {
				m->mode = in->mode;
				m->mtime = clamp(t, in->mtime);
			}
			pl->generated_bytes += nl + 2;
			continue;
		}
		first = links_first(&seen, e, s->o.builder, i);
		if (first < 0) {
			rc = -ENOMEM;
			break;
		}
		if (first) {
			const struct walk_entry *f = res->v[first - 1];
			m->kind = PM_HARDLINK;
			m->type = CTXPACK_ENTRY_HARDLINK;
			m->link = f->path;
			m->link_len = f->len;
			m->size = 0;
		}
	}
	links_free(&seen);
	free(want);
	if (rc || !s->df.data)
		return rc;
	/* The name of the Dockerfile on a line of its own. */
	if (!rewritten)
		pl->v[pl->n++] = generated(".dockerignore", 13 + nl + 2, 0600,
					   clamp(t, s->df.mtime), PM_IGNORE_GENERATED);
	pl->v[pl->n++] = generated(s->df.name, s->df.len, 0600, clamp(t, s->df.mtime),
				   PM_DOCKERFILE);
	pl->generated_files = rewritten ? 1 : 2;
	pl->generated_bytes += s->df.len + (rewritten ? 0 : 13 + nl + 2);
	return 0;
}

/* The per-entry hash arrays, allocated on first use. */
static int want_hashes(struct pack_session *s)
{
	size_t n = s->res.n ? s->res.n : 1;

	if (s->hash)
		return 0;
	s->hash = malloc(n * sizeof(*s->hash));
	s->hashed = calloc(n, sizeof(*s->hashed));
	return s->hash && s->hashed ? 0 : -ENOMEM;
}

int pack_open(struct pack_session **out, const struct pack_options *o, char *err, size_t errsz)
{
	struct pack_session *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	s->o = *o;
	rc = open_context(o, &s->ctx, err, errsz);
	if (rc) {
		dockerctx_close(&s->ctx);
		free(s);
		return rc;
	}
	if (!s->ctx.dockerfile && s->ctx.dockerfile_abs)
		load_outside_dockerfile(&s->ctx, &s->df);
	rc = walk(o, &s->ctx, &s->res, err, errsz);
	if (rc) {
		pack_close(&s);
		return rc;
	}
	rc = plan_build(s);
	if (rc) {
		snprintf(err, errsz, "out of memory");
		pack_close(&s);
		return rc;
	}
	*out = s;
	return 0;
}

const struct walk_result *pack_entries(const struct pack_session *s)
{
	return &s->res;
}

const struct pack_plan *pack_plan(const struct pack_session *s)
{
	return &s->plan;
}

int pack_restrict(struct pack_session *s, const uint8_t *keep)
{
	int rc;

	free(s->plan.v);
	memset(&s->plan, 0, sizeof(s->plan));
	s->keep = keep;
	rc = plan_build(s);
	s->keep = NULL;
	return rc;
}

void pack_plan_linked(const struct pack_session *s, bool *linked)
{
	for (size_t i = 0; i < s->plan.n; i++)
		if (s->plan.v[i].kind == PM_HARDLINK)
			linked[s->plan.v[i].at] = true;
}

const struct dockerctx *pack_context(const struct pack_session *s)
{
	return &s->ctx;
}

void pack_generated(const struct pack_session *s, struct pack_report *rep)
{
	rep->dockerfile_name[0] = '\0';
	if (s->df.data)
		snprintf(rep->dockerfile_name, sizeof(rep->dockerfile_name), "%s", s->df.name);
	rep->generated_files = s->plan.generated_files;
	rep->generated_bytes = s->plan.generated_bytes;
}

void pack_close(struct pack_session **sp)
{
	struct pack_session *s = *sp;

	if (!s)
		return;
	free(s->hash);
	free(s->hashed);
	free(s->plan.v);
	walk_result_release(&s->res);
	dockerctx_close(&s->ctx);
	free(s);
	*sp = NULL;
}

/* The content of a generated member (ignore_with_name, or the outside
 * Dockerfile's bytes): *owned is set when the caller frees *data. */
static int generated_data(const struct pack_session *s, const struct pack_member *m,
			  const char **data, char **owned, char *err, size_t errsz)
{
	int rc;

	*owned = NULL;
	if (m->kind == PM_DOCKERFILE) {
		*data = s->df.data;
		return 0;
	}
	rc = ignore_with_name(owned, &s->ctx, m, &s->df, err, errsz);
	*data = *owned;
	return rc;
}

/* The members in plan order.  count_only: w counts (no file is opened). */
static int write_members(struct pack_session *s, struct tar_writer *w, bool count_only,
			 bool hash, struct pack_report *rep, char *err, size_t errsz)
{
	const struct pack_plan *pl = &s->plan;
	const struct walk_entry **v = NULL;
	struct prefetch *ahead = NULL;
	size_t nahead = 0;
	int rc = 0;

	hash = hash && !count_only;
	if (hash)
		rc = want_hashes(s);
	if (!rc && !count_only) {
		/* The files read ahead (prefetch.h), in member order. */
		v = malloc((pl->n ? pl->n : 1) * sizeof(*v));
		if (!v)
			rc = -ENOMEM;
		for (size_t k = 0; v && k < pl->n; k++)
			if (is_read_ahead(&pl->v[k]))
				v[nahead++] = pl->v[k].e;
	}
	if (!rc && !count_only)
		rc = prefetch_start(&ahead, s->ctx.rootfd, v, nahead, s->o.threads, hash);
	if (rc) {
		snprintf(err, errsz, "cannot start the archiver: %s", strerror(-rc));
		goto out;
	}
	for (size_t k = 0; k < pl->n; k++) {
		const struct pack_member *m = &pl->v[k];
		const struct walk_entry *e = m->e;
		const char *link = m->kind == PM_HARDLINK ? m->link : NULL;
		if (m->kind >= PM_IGNORE_REWRITTEN) {
			const char *data;
			char *owned;
			rc = generated_data(s, m, &data, &owned, err, errsz);
			if (!rc)
				rc = tar_add_data(w, m->path, m->mode, m->mtime, data, m->size, err,
						  errsz);
			free(owned);
		} else if (count_only) {
			struct tar_body none = { .fd = -1 };
			rc = tar_add_body(w, e, link, &none, err, errsz);
		} else if (is_read_ahead(m)) {
			struct tar_body b;
			rc = prefetch_take(ahead, &b, err, errsz);
			if (!rc)
				rc = tar_add_body(w, e, NULL, &b, err, errsz);
			if (!rc && b.hashed) {
				memcpy(s->hash[m->at], b.hash, 16);
				s->hashed[m->at] = true;
			}
			tar_body_free(&b);
		} else if (hash && e->type == WT_FILE && !link) {
			rc = tar_add_hash(w, s->ctx.rootfd, e, s->hash[m->at], err, errsz);
			s->hashed[m->at] = !rc;
		} else {
			rc = tar_add(w, s->ctx.rootfd, e, link, err, errsz);
		}
		if (rc)
			goto out;
		rep->entries++;
		if ((m->kind == PM_WALKED && e->type == WT_FILE) || m->kind == PM_DOCKERFILE)
			rep->bytes += m->size;
	}
out:
	prefetch_stop(&ahead);
	free(v);
	return rc;
}

/* About the tar's length, for a progress display: a header and the padded
 * data per member (PAX records left out). */
static uint64_t expected_bytes(const struct pack_session *s)
{
	uint64_t n = 1024;

	for (size_t k = 0; k < s->plan.n; k++)
		n += 512 + (s->plan.v[k].size + 511) / 512 * 512;
	return n;
}

static int write_archive(struct pack_session *s, int outfd, const struct tar_options *to, bool hash,
			 struct pack_report *rep, char *err, size_t errsz)
{
	struct tar_writer *w = NULL;
	bool count_only = outfd < 0;
	int rc, rc2;

	memset(rep, 0, sizeof(*rep));
	pack_generated(s, rep);
	rc = count_only ? tar_open_counter(&w, to, err, errsz) : tar_open(&w, outfd, to, err, errsz);
	if (rc)
		return rc;
	rc = write_members(s, w, count_only, hash, rep, err, errsz);
	if (rc) {
		/* Give the stream up: a reader must never take it for complete. */
		tar_abort(&w, err);
		return rc;
	}
	rc = tar_finish(w, err, errsz);
	rep->tar_bytes = tar_bytes_raw(w);
	rep->out_bytes = tar_bytes_out(w);
	rc2 = tar_close(&w, rc ? NULL : err, rc ? 0 : errsz);
	return rc ? rc : rc2;
}

int pack_write(struct pack_session *s, int outfd, struct pack_report *rep, char *err,
	       size_t errsz)
{
	struct tar_options to = s->o.tar;

	if (s->o.progress && outfd >= 0) {
		to.progress = s->o.progress;
		atomic_store(&s->o.progress->total, expected_bytes(s));
		atomic_store(&s->o.progress->items_total, s->plan.n);
		atomic_store(&s->o.progress->phase, PROGRESS_WRITE);
	}
	return write_archive(s, outfd, &to, s->o.hash, rep, err, errsz);
}

void pack_set_compression(struct pack_session *s, enum tar_compression c, int level)
{
	s->o.tar.compression = c;
	s->o.tar.level = level;
}

enum tar_compression pack_compression(const struct pack_session *s)
{
	return s->o.tar.compression;
}

int pack_write_with(struct pack_session *s, int outfd, const struct tar_options *to,
		    struct pack_report *rep, char *err, size_t errsz)
{
	return write_archive(s, outfd, to, false, rep, err, errsz);
}

int pack_run(const struct pack_options *o, int outfd, struct pack_report *rep, char *err,
	     size_t errsz)
{
	struct pack_session *s;
	int rc;

	memset(rep, 0, sizeof(*rep));
	rc = pack_open(&s, o, err, errsz);
	if (rc)
		return rc;
	rc = pack_write(s, outfd, rep, err, errsz);
	pack_close(&s);
	return rc;
}

int pack_list(const struct pack_options *o, struct walk_result *out, struct pack_report *rep,
	      struct dockerctx *keep, char *err, size_t errsz)
{
	struct pack_session *s;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(rep, 0, sizeof(*rep));
	rc = pack_open(&s, o, err, errsz);
	if (rc)
		return rc;
	pack_generated(s, rep);
	/* The walk and the context move to the caller. */
	*out = s->res;
	memset(&s->res, 0, sizeof(s->res));
	if (keep) {
		/* The descriptor and the bytes move too; s->df borrowed them. */
		*keep = s->ctx;
		memset(&s->ctx, 0, sizeof(s->ctx));
		memset(&s->df, 0, sizeof(s->df));
	}
	pack_close(&s);
	return 0;
}

int pack_hash(struct pack_session *s, const bool *only, struct hashcache *cache,
	      struct progress *progress, struct hashfiles_stats *stats, char *err, size_t errsz)
{
	const struct pack_plan *pl = &s->plan;
	const struct walk_entry **v = NULL;
	uint8_t (*out)[16] = NULL;
	size_t *at = NULL, n = 0;
	int rc = want_hashes(s);

	if (!rc) {
		size_t cap = pl->n ? pl->n : 1;
		v = malloc(cap * sizeof(*v));
		out = malloc(cap * sizeof(*out));
		at = malloc(cap * sizeof(*at));
		if (!v || !out || !at)
			rc = -ENOMEM;
	}
	if (rc) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	/* The members whose content is read from the disk. */
	for (size_t k = 0; k < pl->n; k++) {
		const struct pack_member *m = &pl->v[k];
		if (m->kind != PM_WALKED || m->e->type != WT_FILE || s->hashed[m->at] ||
		    (only && !only[m->at]))
			continue;
		at[n] = m->at;
		v[n++] = m->e;
	}
	if (progress) {
		uint64_t total = 0;
		for (size_t k = 0; k < n; k++)
			total += v[k]->size;
		atomic_store(&progress->total, total);
		atomic_store(&progress->items_total, n);
		atomic_store(&progress->phase, PROGRESS_WRITE);
	}
	rc = hashfiles(out, v, n, s->ctx.rootfd, s->o.threads, cache, progress, stats, err, errsz);
	if (!rc)
		for (size_t k = 0; k < n; k++) {
			memcpy(s->hash[at[k]], out[k], 16);
			s->hashed[at[k]] = true;
		}
out:
	free(v);
	free(out);
	free(at);
	return rc;
}

/* A regular file member m (size set) with its content in memory. */
static int add_data_member(int (*fn)(void *arg, const struct member *m), void *arg,
			   struct member *m, const char *data)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(data, m->size));
	memcpy(m->hash, c.digest, 16);
	m->hashed = true;
	return fn(arg, m);
}

int pack_members_each(const struct pack_session *s, int (*fn)(void *arg, const struct member *m),
		      void *arg, char *err, size_t errsz)
{
	const struct pack_plan *pl = &s->plan;
	int rc = 0;

	for (size_t k = 0; k < pl->n && !rc; k++) {
		const struct pack_member *p = &pl->v[k];
		const struct walk_entry *e = p->e;
		struct member m = { .path = (char *)p->path, .len = p->len, .mode = p->mode,
				    .size = p->size, .mtime = p->mtime,
				    .type = member_types[p->type].tar };
		if (p->kind >= PM_IGNORE_REWRITTEN) {
			const char *data;
			char *owned;
			rc = generated_data(s, p, &data, &owned, err, errsz);
			if (!rc && (rc = add_data_member(fn, arg, &m, data)))
				snprintf(err, errsz, "out of memory");
			free(owned);
			continue;
		}
		if (p->kind == PM_HARDLINK || e->type == WT_SYMLINK) {
			m.link = (char *)p->link;
			m.link_len = p->link_len;
		} else if (e->type == WT_FILE) {
			if (!s->hash || !s->hashed[p->at]) {
				snprintf(err, errsz, "'%s' was not hashed", e->path);
				return -EINVAL;
			}
			m.hashed = true;
			memcpy(m.hash, s->hash[p->at], 16);
		} else if (e->type == WT_SOCK) {
			rc = add_data_member(fn, arg, &m, "");
			if (rc)
				snprintf(err, errsz, "out of memory");
			continue;
		} else if (e->type == WT_CHR || e->type == WT_BLK) {
			m.devmajor = e->rdev_major;
			m.devminor = e->rdev_minor;
		}
		rc = fn(arg, &m);
		if (rc)
			snprintf(err, errsz, "out of memory");
	}
	return rc;
}

static int add_to_list(void *arg, const struct member *m)
{
	return member_list_add(arg, m);
}

int pack_members(const struct pack_session *s, struct member_list *out, char *err, size_t errsz)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->borrowed = true; /* names and links stay in the session */
	rc = pack_members_each(s, add_to_list, out, err, errsz);
	if (rc)
		member_list_release(out);
	return rc;
}

const uint8_t *pack_file_hash(const struct pack_session *s, size_t i)
{
	return s->hash && i < s->res.n && s->hashed[i] ? s->hash[i] : NULL;
}
