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
#include "internal.h"
#include "links.h"
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

/* Reads all of fd (closed) into *buf (malloc'd); returns 0 or -errno. */
static int read_fd(int fd, char **buf, size_t *len, struct stat *st)
{
	size_t n = 0, cap = 0;
	char *b = NULL;
	int e = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		e = errno;
		goto out;
	}
	for (;;) {
		ssize_t r;
		if (GROW(b, cap, n + 65536)) {
			e = ENOMEM;
			goto out;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
out:
	close(fd);
	if (e) {
		free(b);
		return -e;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* The Dockerfile outside the context goes in as .dockerfile.<20 hex>, the
 * hex taken from its content (the docker CLI uses random bytes), and its
 * name is appended to .dockerignore so that COPY . . leaves both out. */
struct outside_df {
	char name[64];
	char *data;
	size_t len;
	int64_t mtime;
};

static int load_outside_dockerfile(const struct dockerctx *ctx, struct outside_df *df, char *err,
				   size_t errsz)
{
	XXH128_hash_t h;
	struct stat st;
	int rc = read_fd(open(ctx->dockerfile_abs, O_RDONLY | O_CLOEXEC), &df->data, &df->len, &st);

	if (rc) {
		snprintf(err, errsz, "cannot read the Dockerfile '%s': %s", ctx->dockerfile_abs,
			 strerror(-rc));
		return rc;
	}
	h = XXH3_128bits(df->data, df->len);
	snprintf(df->name, sizeof(df->name), ".dockerfile.%016llx%04llx",
		 (unsigned long long)h.high64, (unsigned long long)(h.low64 >> 48));
	df->mtime = st.st_mtime;
	return 0;
}

static int64_t clamp(const struct tar_options *t, int64_t mtime)
{
	return t->clamp_mtime && mtime > t->mtime_max ? t->mtime_max : mtime;
}

static int open_context(const struct pack_options *o, struct dockerctx *ctx, int *rootfd, char *err,
			size_t errsz)
{
	int rc = dockerctx_open(ctx, o->dir, o->dockerfile, o->builder);

	if (rc) {
		snprintf(err, errsz, "%s", ctx->errmsg);
		return rc;
	}
	*rootfd = open(ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*rootfd < 0) {
		rc = -errno;
		snprintf(err, errsz, "cannot open '%s': %s", ctx->root, strerror(errno));
	}
	return rc;
}

static int walk(const struct pack_options *o, const struct dockerctx *ctx, int rootfd,
		struct walk_result *res, char *err, size_t errsz)
{
	struct walk_options wo = { o->builder, ctx->match, o->threads,
				   o->builder == CTXPACK_BUILDER_BUILDKIT ? ctx->dockerfile : NULL,
				   o->list_all, o->list_all && o->measure_pruned, o->progress };

	return walk_context(res, rootfd, &wo, err, errsz);
}

/* .dockerignore with the generated Dockerfile's name appended. */
static int add_ignore_with_name(struct tar_writer *w, int rootfd, const struct walk_entry *e,
				const struct outside_df *df, const struct tar_options *t, char *err,
				size_t errsz)
{
	char *old = NULL, *buf;
	size_t len = 0, nl = strlen(df->name);
	struct stat st;
	int rc;

	if (e) {
		rc = read_fd(openat(rootfd, ".dockerignore", O_RDONLY | O_NOFOLLOW | O_CLOEXEC), &old,
			     &len, &st);
		if (rc) {
			snprintf(err, errsz, "cannot read '.dockerignore': %s", strerror(-rc));
			return rc;
		}
	}
	buf = malloc(len + nl + sizeof("\n.dockerignore\n\n"));
	if (!buf) {
		free(old);
		return -ENOMEM;
	}
	if (e) {
		memcpy(buf, old, len);
	} else {
		memcpy(buf, ".dockerignore", 13);
		len = 13;
	}
	buf[len++] = '\n';
	memcpy(buf + len, df->name, nl);
	len += nl;
	buf[len++] = '\n';
	rc = tar_add_data(w, ".dockerignore", e ? e->mode : 0600,
			  clamp(t, e ? e->mtime_sec : df->mtime), buf, len, err, errsz);
	free(buf);
	free(old);
	return rc;
}

struct pack_session {
	struct pack_options o;
	struct dockerctx ctx;
	int rootfd;
	struct outside_df df;
	struct walk_result res;
	const struct walk_entry *ignore_entry; /* the sent .dockerignore, when df.data */
};

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
	s->rootfd = -1;
	rc = open_context(o, &s->ctx, &s->rootfd, err, errsz);
	if (rc) {
		s->rootfd = -1;
		dockerctx_close(&s->ctx);
		free(s);
		return rc;
	}
	if (!s->ctx.dockerfile && s->ctx.dockerfile_abs)
		rc = load_outside_dockerfile(&s->ctx, &s->df, err, errsz);
	if (!rc)
		rc = walk(o, &s->ctx, s->rootfd, &s->res, err, errsz);
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
	free(s->df.data);
	walk_result_release(&s->res);
	if (s->rootfd >= 0)
		close(s->rootfd);
	dockerctx_close(&s->ctx);
	free(s);
	*sp = NULL;
}

/* The members in order.  count_only: w counts (no file is opened). */
static int write_members(struct pack_session *s, struct tar_writer *w, bool count_only,
			 struct pack_report *rep, char *err, size_t errsz)
{
	const struct walk_result *res = &s->res;
	const struct tar_options *t = &s->o.tar;
	struct plan plan = { 0 };
	struct prefetch *ahead = NULL;
	int rc;

	rc = plan_members(res, s->o.builder, s->ignore_entry, &plan);
	if (!rc && !count_only)
		rc = prefetch_start(&ahead, s->rootfd, plan.ahead, plan.nahead, s->o.threads);
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
			if (e->type != WT_FILE) {
				/* The docker CLI dies mid-stream here. */
				snprintf(err, errsz, "'.dockerignore' is not a regular file, so the Dockerfile's generated name cannot be added to it; move the Dockerfile into the context");
				rc = -EINVAL;
				goto out;
			}
			rc = add_ignore_with_name(w, s->rootfd, e, &s->df, t, err, errsz);
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
			tar_body_free(&b);
		} else {
			rc = tar_add(w, s->rootfd, e, link, err, errsz);
		}
		if (rc)
			goto out;
		rep->entries++;
		if (e->type == WT_FILE && !link)
			rep->bytes += e->size;
	}
	if (s->df.data) {
		if (!s->ignore_entry) {
			rc = add_ignore_with_name(w, s->rootfd, NULL, &s->df, t, err, errsz);
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
static uint64_t expected_bytes(const struct pack_session *s)
{
	uint64_t n = 1024;

	for (size_t i = 0; i < s->res.n; i++) {
		const struct walk_entry *e = s->res.v[i];
		if (!e->sent)
			continue;
		n += 512;
		if (e->type == WT_FILE)
			n += (e->size + 511) / 512 * 512;
	}
	return n;
}

int pack_write(struct pack_session *s, int outfd, struct pack_report *rep, char *err,
	       size_t errsz)
{
	struct tar_options to = s->o.tar;

	if (s->o.progress && outfd >= 0) {
		to.progress = s->o.progress;
		atomic_store(&s->o.progress->total, expected_bytes(s));
		atomic_store(&s->o.progress->phase, PROGRESS_WRITE);
	}
	return pack_write_with(s, outfd, &to, rep, err, errsz);
}

int pack_write_with(struct pack_session *s, int outfd, const struct tar_options *to,
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
	rc = write_members(s, w, count_only, rep, err, errsz);
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
		*keep = s->ctx;
		memset(&s->ctx, 0, sizeof(s->ctx));
	}
	pack_close(&s);
	return 0;
}
