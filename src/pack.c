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
#include "pack.h"
#include "prefetch.h"
#include "tarwriter.h"

/* (dev, ino) → index of the first sent member, for hard links. */
struct inode_map {
	struct slot {
		uint64_t dev, ino;
		size_t idx; /* + 1; 0 = empty */
	} *v;
	size_t cap, n;
};

static size_t inode_hash(uint64_t dev, uint64_t ino)
{
	uint64_t k = ino * 0x9E3779B97F4A7C15ull ^ dev * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(k ^ (k >> 31));
}

/* Returns the stored index + 1 for (dev, ino), or stores idx and returns 0;
 * -1 when out of memory. */
static long inode_seen(struct inode_map *m, uint64_t dev, uint64_t ino, size_t idx)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct inode_map nm = { calloc(m->cap ? m->cap * 2 : 256, sizeof(struct slot)),
					m->cap ? m->cap * 2 : 256, 0 };
		if (!nm.v)
			return -1;
		for (i = 0; i < m->cap; i++)
			if (m->v[i].idx)
				inode_seen(&nm, m->v[i].dev, m->v[i].ino, m->v[i].idx - 1);
		free(m->v);
		*m = nm;
	}
	for (i = inode_hash(dev, ino) & (m->cap - 1); m->v[i].idx; i = (i + 1) & (m->cap - 1))
		if (m->v[i].dev == dev && m->v[i].ino == ino)
			return (long)m->v[i].idx;
	m->v[i] = (struct slot){ dev, ino, idx + 1 };
	m->n++;
	return 0;
}

static bool hardlinkable(const struct walk_entry *e, enum ctxpack_builder b)
{
	if (e->type == WT_DIR || e->nlink < 2)
		return false;
	/* go-archive links every non-directory; BuildKit sends a hard link to
	 * a symlink as a second symlink. */
	return b == CTXPACK_BUILDER_CLASSIC || e->type != WT_SYMLINK;
}

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
	struct inode_map seen = { 0 };
	int rc = 0;

	memset(pl, 0, sizeof(*pl));
	pl->ahead = malloc((res->n ? res->n : 1) * sizeof(*pl->ahead));
	if (!pl->ahead)
		return -ENOMEM;
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		long first = 0;
		if (e == skip)
			continue;
		if (hardlinkable(e, b)) {
			first = inode_seen(&seen, e->dev, e->ino, i);
			if (first < 0 || (first && GROW(pl->links, pl->links_cap, pl->nlinks + 1))) {
				rc = -ENOMEM;
				break;
			}
			if (first)
				pl->links[pl->nlinks++] = (struct link){ i, (size_t)first - 1 };
		}
		if (is_read_ahead(e, first > 0))
			pl->ahead[pl->nahead++] = e;
	}
	free(seen.v);
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
				   o->list_all, o->list_all && o->measure_pruned };

	return walk_context(res, rootfd, &wo, err, errsz);
}

int pack_list(const struct pack_options *o, struct walk_result *out, struct pack_report *rep,
	      struct dockerctx *keep, char *err, size_t errsz)
{
	struct outside_df df = { "", NULL, 0, 0 };
	struct dockerctx ctx;
	int rootfd = -1, rc;

	memset(out, 0, sizeof(*out));
	memset(rep, 0, sizeof(*rep));
	rc = open_context(o, &ctx, &rootfd, err, errsz);
	if (!rc && !ctx.dockerfile && ctx.dockerfile_abs) {
		rc = load_outside_dockerfile(&ctx, &df, err, errsz);
		snprintf(rep->dockerfile_name, sizeof(rep->dockerfile_name), "%s", df.name);
		free(df.data);
	}
	if (!rc)
		rc = walk(o, &ctx, rootfd, out, err, errsz);
	if (rootfd >= 0)
		close(rootfd);
	if (!rc && keep)
		*keep = ctx; /* the caller names the rules from it */
	else
		dockerctx_close(&ctx);
	return rc;
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

int pack_run(const struct pack_options *o, int outfd, struct pack_report *rep, char *err,
	     size_t errsz)
{
	struct dockerctx ctx;
	struct walk_result res = { 0 };
	struct outside_df df = { "", NULL, 0, 0 };
	struct tar_writer *w = NULL;
	const struct walk_entry *ignore_entry = NULL;
	struct plan plan = { 0 };
	struct prefetch *ahead = NULL;
	int rootfd = -1, rc, rc2;

	memset(rep, 0, sizeof(*rep));
	rc = open_context(o, &ctx, &rootfd, err, errsz);
	if (rc)
		goto out;
	if (!ctx.dockerfile && ctx.dockerfile_abs) {
		rc = load_outside_dockerfile(&ctx, &df, err, errsz);
		if (rc)
			goto out;
		snprintf(rep->dockerfile_name, sizeof(rep->dockerfile_name), "%s", df.name);
	}
	rc = walk(o, &ctx, rootfd, &res, err, errsz);
	if (rc)
		goto out;
	if (df.data)
		for (size_t i = 0; i < res.n && !ignore_entry; i++)
			if (res.v[i]->len == 13 && !memcmp(res.v[i]->path, ".dockerignore", 13))
				ignore_entry = res.v[i];
	rc = plan_members(&res, o->builder, ignore_entry, &plan);
	if (!rc)
		rc = prefetch_start(&ahead, rootfd, plan.ahead, plan.nahead, o->threads);
	if (rc) {
		snprintf(err, errsz, "cannot start the archiver: %s", strerror(-rc));
		goto out;
	}
	rc = tar_open(&w, outfd, &o->tar, err, errsz);
	if (rc)
		goto out;
	for (size_t i = 0, li = 0; i < res.n; i++) {
		const struct walk_entry *e = res.v[i];
		const char *link = NULL;
		if (e == ignore_entry) {
			if (e->type != WT_FILE) {
				/* The docker CLI dies mid-stream here. */
				snprintf(err, errsz, "'.dockerignore' is not a regular file, so the Dockerfile's generated name cannot be added to it; move the Dockerfile into the context");
				rc = -EINVAL;
				goto out;
			}
			rc = add_ignore_with_name(w, rootfd, e, &df, &o->tar, err, errsz);
			if (rc)
				goto out;
			rep->entries++;
			continue;
		}
		if (li < plan.nlinks && plan.links[li].i == i)
			link = res.v[plan.links[li++].first]->path;
		if (is_read_ahead(e, link)) {
			struct tar_body b;
			rc = prefetch_take(ahead, &b, err, errsz);
			if (!rc)
				rc = tar_add_body(w, e, NULL, &b, err, errsz);
			tar_body_free(&b);
		} else {
			rc = tar_add(w, rootfd, e, link, err, errsz);
		}
		if (rc)
			goto out;
		rep->entries++;
		if (e->type == WT_FILE && !link)
			rep->bytes += e->size;
	}
	if (df.data) {
		if (!ignore_entry) {
			rc = add_ignore_with_name(w, rootfd, NULL, &df, &o->tar, err, errsz);
			if (rc)
				goto out;
			rep->entries++;
		}
		rc = tar_add_data(w, df.name, 0600, clamp(&o->tar, df.mtime), df.data, df.len, err,
				  errsz);
		if (rc)
			goto out;
		rep->entries++;
		rep->bytes += df.len;
	}
out:
	if (w && rc) {
		/* Give the stream up: a reader must never take it for complete. */
		tar_abort(&w, err);
	} else if (w) {
		rc = tar_finish(w, err, errsz);
		rep->tar_bytes = tar_bytes_raw(w);
		rep->out_bytes = tar_bytes_out(w);
		rc2 = tar_close(&w, rc ? NULL : err, rc ? 0 : errsz);
		if (!rc)
			rc = rc2;
	}
	prefetch_stop(&ahead);
	plan_free(&plan);
	free(df.data);
	walk_result_release(&res);
	if (rootfd >= 0)
		close(rootfd);
	dockerctx_close(&ctx);
	return rc;
}
