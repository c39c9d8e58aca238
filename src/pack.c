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

/* What the archiving loop needs to know before it starts: which entries
 * go in as hard links to an earlier member, and which files are read ahead
 * (prefetch.h), in member order. */
struct plan {
	struct link {
		size_t i, first; /* res.v[i] is a link to res.v[first] */
	} *links;
	size_t nlinks, links_cap;
	const struct walk_entry **ahead;
	size_t nahead;
};

static bool is_read_ahead(const struct walk_entry *e, bool link)
{
	return e->type == WT_FILE && !link && e->size <= PREFETCH_MAX_FILE;
}

/* skip: an entry the loop writes itself (the .dockerignore that gets the
 * generated Dockerfile name), or NULL. */
static int plan_members(const struct walk_result *res, enum ctxpack_builder b,
			const struct walk_entry *skip, struct plan *pl)
{
	struct links seen = { 0 };
	int rc = 0;

	memset(pl, 0, sizeof(*pl));
	pl->ahead = malloc((res->n ? res->n : 1) * sizeof(*pl->ahead));
	if (!pl->ahead)
		return -ENOMEM;
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		long first;
		if (e == skip || !e->sent)
			continue;
		first = links_first(&seen, e, b, i);
		if (first < 0 || (first && GROW(pl->links, pl->links_cap, pl->nlinks + 1))) {
			rc = -ENOMEM;
			break;
		}
		if (first)
			pl->links[pl->nlinks++] = (struct link){ i, (size_t)first - 1 };
		if (is_read_ahead(e, first > 0))
			pl->ahead[pl->nahead++] = e;
	}
	links_free(&seen);
	return rc;
}

static void plan_free(struct plan *pl)
{
	free(pl->links);
	free(pl->ahead);
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
	int rc = dockerctx_open(ctx, o->dir, o->dockerfile, o->builder);

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
				   NULL, NULL, CTXPACK_NONE, o->refusal };

	return walk_context(res, ctx->rootfd, &wo, err, errsz);
}

/* The bytes of .dockerignore with the generated Dockerfile's name
 * appended (e: the context's own, or NULL when it has none) into *out
 * (malloc'd), and the member's mode and mtime: the context's own comes
 * from the bytes dockerctx read when it loaded the rules and the fstat of
 * that read (never a second read: the archive holds what the walk used). */
static int ignore_with_name(char **out, size_t *outlen, uint32_t *mode, int64_t *mtime,
			    const struct dockerctx *ctx, const struct walk_entry *e,
			    const struct outside_df *df, char *err, size_t errsz)
{
	const struct dockerctx_input *in = &ctx->dockerignore;
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
	buf = malloc((e ? in->len : 0) + nl + sizeof("\n.dockerignore\n\n"));
	if (!buf) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (e) {
		memcpy(buf, in->data, in->len);
		len = in->len;
		*mode = in->mode;
		*mtime = in->mtime;
	} else {
		memcpy(buf, ".dockerignore", 13);
		len = 13;
		*mode = 0600;
		*mtime = df->mtime;
	}
	buf[len++] = '\n';
	memcpy(buf + len, df->name, nl);
	len += nl;
	buf[len++] = '\n';
	*out = buf;
	*outlen = len;
	return 0;
}

static int add_ignore_with_name(struct tar_writer *w, const struct dockerctx *ctx,
				const struct walk_entry *e, const struct outside_df *df,
				const struct tar_options *t, char *err, size_t errsz)
{
	char *buf;
	size_t len;
	uint32_t mode;
	int64_t mtime;
	int rc = ignore_with_name(&buf, &len, &mode, &mtime, ctx, e, df, err, errsz);

	if (rc)
		return rc;
	rc = tar_add_data(w, ".dockerignore", mode, clamp(t, mtime), buf, len, err, errsz);
	free(buf);
	return rc;
}

struct pack_session {
	struct pack_options o;
	struct dockerctx ctx;
	struct outside_df df;
	struct walk_result res;
	const struct walk_entry *ignore_entry; /* the sent .dockerignore, when df.data */
	uint8_t (*hash)[16]; /* content hashes by res index (pack_hash, or a hashing write) */
	bool *hashed;
};

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
	if (s->df.data)
		for (size_t i = 0; i < s->res.n && !s->ignore_entry; i++)
			if (s->res.v[i]->sent && s->res.v[i]->len == 13 &&
			    !memcmp(s->res.v[i]->path, ".dockerignore", 13))
				s->ignore_entry = s->res.v[i];
	*out = s;
	return 0;
}

const struct walk_result *pack_entries(const struct pack_session *s)
{
	return &s->res;
}

const struct walk_entry *pack_ignore_entry(const struct pack_session *s)
{
	return s->ignore_entry;
}

const struct dockerctx *pack_context(const struct pack_session *s)
{
	return &s->ctx;
}

void pack_generated(const struct pack_session *s, struct pack_report *rep)
{
	size_t nl = strlen(s->df.name);

	rep->dockerfile_name[0] = '\0';
	rep->generated_files = rep->generated_bytes = 0;
	if (!s->df.data)
		return;
	snprintf(rep->dockerfile_name, sizeof(rep->dockerfile_name), "%s", s->df.name);
	rep->generated_files = 1;
	rep->generated_bytes = s->df.len + nl + 2; /* the name on its own line */
	if (!s->ignore_entry) {
		rep->generated_files++;
		rep->generated_bytes += 13; /* ".dockerignore" itself is listed too */
	}
}

void pack_close(struct pack_session **sp)
{
	struct pack_session *s = *sp;

	if (!s)
		return;
	free(s->hash);
	free(s->hashed);
	walk_result_release(&s->res);
	dockerctx_close(&s->ctx);
	free(s);
	*sp = NULL;
}

/* The members in order.  count_only: w counts (no file is opened). */
static int write_members(struct pack_session *s, struct tar_writer *w, bool count_only,
			 bool hash, struct pack_report *rep, char *err, size_t errsz)
{
	const struct walk_result *res = &s->res;
	const struct tar_options *t = &s->o.tar;
	struct plan plan = { 0 };
	struct prefetch *ahead = NULL;
	int rc;

	hash = hash && !count_only;
	rc = plan_members(res, s->o.builder, s->ignore_entry, &plan);
	if (!rc && hash)
		rc = want_hashes(s);
	if (!rc && !count_only)
		rc = prefetch_start(&ahead, s->ctx.rootfd, plan.ahead, plan.nahead, s->o.threads,
				    hash);
	if (rc) {
		snprintf(err, errsz, "cannot start the archiver: %s", strerror(-rc));
		goto out;
	}
	for (size_t i = 0, li = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		const char *link = NULL;
		if (!e->sent)
			continue;
		if (e == s->ignore_entry) {
			rc = add_ignore_with_name(w, &s->ctx, e, &s->df, t, err, errsz);
			if (rc)
				goto out;
			rep->entries++;
			continue;
		}
		if (li < plan.nlinks && plan.links[li].i == i)
			link = res->v[plan.links[li++].first]->path;
		if (count_only) {
			struct tar_body none = { .fd = -1 };
			rc = tar_add_body(w, e, link, &none, err, errsz);
		} else if (is_read_ahead(e, link)) {
			struct tar_body b;
			rc = prefetch_take(ahead, &b, err, errsz);
			if (!rc)
				rc = tar_add_body(w, e, NULL, &b, err, errsz);
			if (!rc && b.hashed) {
				memcpy(s->hash[i], b.hash, 16);
				s->hashed[i] = true;
			}
			tar_body_free(&b);
		} else if (hash && e->type == WT_FILE && !link) {
			rc = tar_add_hash(w, s->ctx.rootfd, e, s->hash[i], err, errsz);
			s->hashed[i] = !rc;
		} else {
			rc = tar_add(w, s->ctx.rootfd, e, link, err, errsz);
		}
		if (rc)
			goto out;
		rep->entries++;
		if (e->type == WT_FILE && !link)
			rep->bytes += e->size;
	}
	if (s->df.data) {
		if (!s->ignore_entry) {
			rc = add_ignore_with_name(w, &s->ctx, NULL, &s->df, t, err, errsz);
			if (rc)
				goto out;
			rep->entries++;
		}
		rc = tar_add_data(w, s->df.name, 0600, clamp(t, s->df.mtime), s->df.data, s->df.len,
				  err, errsz);
		if (rc)
			goto out;
		rep->entries++;
		rep->bytes += s->df.len;
	}
out:
	prefetch_stop(&ahead);
	plan_free(&plan);
	return rc;
}

/* About the tar's length, for a progress display: a header and the padded
 * data per member (PAX records and the generated members left out). */
static uint64_t expected_bytes(const struct pack_session *s, uint64_t *members)
{
	uint64_t n = 1024;

	*members = 0;
	for (size_t i = 0; i < s->res.n; i++) {
		const struct walk_entry *e = s->res.v[i];
		if (!e->sent)
			continue;
		++*members;
		n += 512;
		if (e->type == WT_FILE)
			n += (e->size + 511) / 512 * 512;
	}
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
		struct pack_report g;
		uint64_t members, bytes = expected_bytes(s, &members);
		/* and the members made here (a Dockerfile from outside the
		 * context, the .dockerignore naming it) */
		pack_generated(s, &g);
		bytes += g.generated_files * 512 + (g.generated_bytes + 511) / 512 * 512;
		to.progress = s->o.progress;
		atomic_store(&s->o.progress->total, bytes);
		atomic_store(&s->o.progress->items_total, members + g.generated_files);
		atomic_store(&s->o.progress->phase, PROGRESS_WRITE);
	}
	return write_archive(s, outfd, &to, s->o.hash, rep, err, errsz);
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
	const struct walk_result *res = &s->res;
	const struct walk_entry **v = NULL;
	uint8_t (*out)[16] = NULL;
	size_t *at = NULL, n = 0;
	struct plan plan;
	int rc;

	rc = plan_members(res, s->o.builder, s->ignore_entry, &plan);
	if (!rc)
		rc = want_hashes(s);
	if (!rc) {
		size_t cap = res->n ? res->n : 1;
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
	for (size_t i = 0, li = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		if (li < plan.nlinks && plan.links[li].i == i) {
			li++;
			continue;
		}
		if (!e->sent || e == s->ignore_entry || e->type != WT_FILE || s->hashed[i] ||
		    (only && !only[i]))
			continue;
		at[n] = i;
		v[n++] = e;
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
	plan_free(&plan);
	free(v);
	free(out);
	free(at);
	return rc;
}

static char member_type(const struct walk_entry *e)
{
	static const char flag[] = { [WT_FILE] = '0', [WT_DIR] = '5', [WT_SYMLINK] = '2',
				      [WT_FIFO] = '6', [WT_CHR] = '3', [WT_BLK] = '4',
				      [WT_SOCK] = '0' /* BuildKit: an empty file */ };

	return e->type < sizeof(flag) ? flag[e->type] : '0';
}

/* A regular file member with its content in memory. */
static int add_data_member(int (*fn)(void *arg, const struct member *m), void *arg,
			   const char *name, uint32_t mode, int64_t mtime, const char *data, size_t len)
{
	struct member m = { .path = (char *)name, .len = strlen(name), .type = '0', .mode = mode,
			    .size = len, .mtime = mtime, .hashed = true };
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
	memcpy(m.hash, c.digest, 16);
	return fn(arg, &m);
}

int pack_members_each(const struct pack_session *s, int (*fn)(void *arg, const struct member *m),
		      void *arg, char *err, size_t errsz)
{
	const struct walk_result *res = &s->res;
	const struct tar_options *t = &s->o.tar;
	struct plan plan;
	char *buf = NULL;
	size_t len;
	uint32_t mode;
	int64_t mtime;
	int rc;

	rc = plan_members(res, s->o.builder, s->ignore_entry, &plan);
	if (rc) {
		plan_free(&plan);
		snprintf(err, errsz, "out of memory");
		return rc;
	}
	for (size_t i = 0, li = 0; i < res->n && !rc; i++) {
		const struct walk_entry *e = res->v[i];
		struct member m = { 0 };
		if (!e->sent)
			continue;
		if (e == s->ignore_entry) {
			rc = ignore_with_name(&buf, &len, &mode, &mtime, &s->ctx, e, &s->df, err,
					      errsz);
			if (!rc) {
				rc = add_data_member(fn, arg, ".dockerignore", mode, clamp(t, mtime),
						     buf, len);
				if (rc)
					snprintf(err, errsz, "out of memory");
			}
			free(buf);
			buf = NULL;
			continue;
		}
		m.path = e->path;
		m.len = e->len;
		m.type = member_type(e);
		m.mode = e->mode & 07777;
		m.mtime = clamp(t, e->mtime_sec);
		if (li < plan.nlinks && plan.links[li].i == i) {
			const struct walk_entry *first = res->v[plan.links[li++].first];
			m.type = '1';
			m.link = first->path;
			m.link_len = first->len;
		} else if (e->type == WT_FILE) {
			if (!s->hash || !s->hashed[i]) {
				snprintf(err, errsz, "'%s' was not hashed", e->path);
				rc = -EINVAL;
				break;
			}
			m.size = e->size;
			m.hashed = true;
			memcpy(m.hash, s->hash[i], 16);
		} else if (e->type == WT_SOCK) {
			XXH128_canonical_t c;
			XXH128_canonicalFromHash(&c, XXH3_128bits("", 0));
			m.hashed = true;
			memcpy(m.hash, c.digest, 16);
		} else if (e->type == WT_SYMLINK && e->link) {
			m.link = e->link;
			m.link_len = strlen(e->link);
		} else if (e->type == WT_CHR || e->type == WT_BLK) {
			m.devmajor = e->rdev_major;
			m.devminor = e->rdev_minor;
		}
		rc = fn(arg, &m);
		if (rc)
			snprintf(err, errsz, "out of memory");
	}
	if (!rc && s->df.data) {
		if (!s->ignore_entry) {
			rc = ignore_with_name(&buf, &len, &mode, &mtime, &s->ctx, NULL, &s->df, err,
					      errsz);
			if (!rc)
				rc = add_data_member(fn, arg, ".dockerignore", mode, clamp(t, mtime),
						     buf, len);
			free(buf);
		}
		if (!rc)
			rc = add_data_member(fn, arg, s->df.name, 0600, clamp(t, s->df.mtime), s->df.data,
					     s->df.len);
		if (rc && !*err)
			snprintf(err, errsz, "out of memory");
	}
	plan_free(&plan);
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
