/* walk.c: the parallel context walker (see walk.h).
 *
 * Algorithm.  Every directory the walk enters is a node; a node waiting to
 * be read is a work item on one LIFO stack shared by a fixed set of
 * workers (the caller's thread is worker 0).  A worker pops a node, opens
 * it relative to its nearest ancestor that still holds a descriptor, reads
 * all names with getdents64, sorts them bytewise, and decides each entry
 * from the node's match state; subdirectories the builder enters become
 * child nodes carrying their own state, pushed in one batch.  The walk ends
 * when the stack is empty and no worker is active (ripgrep's and fd's
 * termination rule).
 *
 * Output.  Each worker appends the entries of the directory it reads to
 * its own vector, already sorted by name: a directory's entries form one
 * contiguous run, and an entry the walk enters points to its child node,
 * which records where its run is.  Walk order is then a depth-first
 * traversal of the runs from the root: no global sort, and the result
 * does not depend on which worker read which directory.  BuildKit's lazy
 * parents are resolved in that traversal.
 *
 * Descriptors.  A node keeps its descriptor after being read only within
 * a budget derived from RLIMIT_NOFILE, and only while a descendant may
 * still be opened from it: a child not yet opened, or a child opened
 * without a descriptor of its own whose subtree is not done (its
 * descendants open from the nearest ancestor that has one).  A child
 * that keeps its own gives its parent's back, so a chain of directories
 * holds two at a time however deep it is.  A node without one is opened
 * component by component (O_PATH, O_NOFOLLOW) from the nearest ancestor
 * that has one, the root at worst.  Paths are never handed to the kernel
 * whole, so they may exceed PATH_MAX.
 *
 * Memory.  Per worker: the getdents buffer, a name buffer, one path
 * buffer, a free-list of match states, slabs of nodes, and string arenas
 * for the paths and link targets of the result (the arenas move into the
 * result).  Nothing is allocated per entry except growth of these.
 *
 * Errors.  The error reported is the first one in walk order, whatever
 * the thread count: after an error, directories that sort after it are
 * skipped and an error that sorts before it replaces it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "beneath.h"
#include "explain.h"
#include "internal.h"
#include "match.h"
#include "policy.h"
#include "walk.h"

#define DENTS_SIZE (128 * 1024)
#define NODES_PER_SLAB 256
#define CHUNK_MIN (16 * 1024)
#define CHUNK_MAX (1024 * 1024)
#define MAX_THREADS 256
#define MAX_KEPT_FDS 4096

/* One block of the string arena; the result owns the list. */
struct walk_chunk {
	struct walk_chunk *next;
	size_t used, cap;
	char data[];
};

/* One directory of the walk.  Nodes live until the end: the assembly
 * follows child links through them.  Their descriptor and match state go
 * back earlier. */
struct wnode {
	struct wnode *parent;
	struct wnode *next; /* on the work stack */
	const char *path;   /* in an arena; "" for the root */
	size_t len;
	ctxpack_mstate *st; /* until the node is read */
	int fd;		    /* kept for descendants, or -1 */
	atomic_size_t refs; /* 1 until read, plus one per live child node */
	/* 1 until read, plus one per child that may still open from fd
	 * (see Descriptors above); fd is closed when it reaches 0 */
	atomic_size_t need;
	bool needs_parent;  /* holds one of parent->need until its subtree is done */
	bool excluded;	    /* its own verdict is EXCLUDE */
	bool checked;	    /* classic: the CLI's validation walk reads it */
	/* its entries: workers[run_thread].v[run_start .. run_start + run_n) */
	unsigned run_thread;
	size_t run_start, run_n;
	/* measure_pruned: a directory below a pruned one is only counted,
	 * into the pruned one's node (measure points there) */
	struct wnode *measure;
	atomic_uint_least64_t m_files, m_dirs, m_other, m_bytes, m_unreadable;
};

struct node_slab {
	struct node_slab *next;
	size_t used;
	struct wnode n[NODES_PER_SLAB];
};

enum {
	WF_SENT = 1,	  /* sent for itself */
	WF_FORCED = 2,	  /* buildkit: the Dockerfile, sent although excluded */
	WF_CANDIDATE = 4, /* buildkit: an excluded directory entered, sent if something below is */
};

/* An entry of a run: sent, or a directory the walk enters, or both. */
struct went {
	struct walk_entry e;
	struct wnode *child;
	uint8_t flags;
};

struct dname {
	size_t off; /* in the name buffer while it grows */
	const char *name;
	size_t len;
	uint8_t dtype;
};

struct walker;

struct worker {
	struct walker *w;
	unsigned id;
	pthread_t tid;
	ctxpack_mscratch *scratch;
	ctxpack_mstate **free_st;
	size_t nfree, afree;
	char *dents;
	char *names;
	size_t names_len, names_alloc;
	struct dname *dn;
	size_t ndn, adn;
	char *pathbuf;
	size_t path_alloc;
	char *buf; /* link targets and path components */
	size_t buf_alloc;
	struct went *v;
	size_t n, alloc;
	struct walk_chunk *chunks;
	size_t chunk_next; /* size of the next chunk */
	struct node_slab *slabs;
	struct wnode **kids; /* child nodes of the directory being read */
	size_t nkids, akids;
};

struct walker {
	const ctxpack_match *m;
	enum ctxpack_builder builder;
	bool classic;
	const char *dockerfile;
	size_t dflen;
	const char *dflink; /* walk_options.dockerfile_link */
	size_t dflinklen;
	bool report_all;
	bool measure_pruned;
	struct progress *progress;
	atomic_bool dockerfile_seen;
	atomic_bool dflink_seen;
	int rootfd; /* the context's (options.under: the root node is opened from it) */
	int fd_budget;
	atomic_int kept;
	struct worker *workers;
	unsigned nworkers;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct wnode *stack;
	unsigned active;
	bool abort; /* out of memory: drain without reading */
	/* the first error in walk order */
	int err;
	char *errpath;
	size_t errlen;
	char *errmsg;
	long errrule; /* the error is the refusal of this rule; -1: another */
};

static atomic_bool no_statx;

/* ---- walk order ---- */

/* Paths compared component by component, bytewise: '/' sorts before every
 * byte, so a directory's contents come right after it ("a/b" < "a.txt"). */
int walk_order_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	size_t n = al < bl ? al : bl, i = 0;
	unsigned char ca, cb;

	while (i < n && a[i] == b[i])
		i++;
	if (i == n)
		return (al > bl) - (al < bl);
	ca = (unsigned char)a[i];
	cb = (unsigned char)b[i];
	if (ca == '/')
		return -1;
	if (cb == '/')
		return 1;
	return ca < cb ? -1 : 1;
}

int walk_mark_parents(const struct walk_result *res, uint8_t *mark, uint8_t bit)
{
	size_t *stack = NULL, depth = 0, alloc = 0;

	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		while (depth) {
			const struct walk_entry *d = res->v[stack[depth - 1]];
			if (e->len > d->len && e->path[d->len] == '/' &&
			    !memcmp(e->path, d->path, d->len))
				break;
			depth--;
		}
		if (mark[i] && e->sent)
			for (size_t k = depth; k-- > 0 && !mark[stack[k]];)
				mark[stack[k]] = bit;
		if (e->type == WT_DIR) {
			if (GROW(stack, alloc, depth + 1)) {
				free(stack);
				return -ENOMEM;
			}
			stack[depth++] = i;
		}
	}
	free(stack);
	return 0;
}

size_t walk_find(const struct walk_result *res, const char *path, size_t len, bool *found)
{
	size_t lo = 0, hi = res->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = walk_order_cmp(res->v[mid]->path, res->v[mid]->len, path, len);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Names of one directory: plain bytewise order, a prefix first. */
static int dname_cmp(const void *x, const void *y)
{
	const struct dname *a = x, *b = y;
	int c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);

	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

/* ---- errors ---- */

static int fail(struct worker *k, const char *path, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void set_nomem(struct walker *w)
{
	pthread_mutex_lock(&w->lock);
	w->abort = true;
	w->err = -ENOMEM;
	free(w->errmsg);
	w->errmsg = NULL;
	pthread_mutex_unlock(&w->lock);
}

static int nomem(struct worker *k)
{
	set_nomem(k->w);
	return -ENOMEM;
}

/* Records the error msg (taken) at path, rule the pattern refusal it is
 * (-1: none), unless one earlier in walk order is known.  Returns rc. */
static int record(struct worker *k, const char *path, size_t len, int rc, long rule, char *msg)
{
	struct walker *w = k->w;
	char *p = msg ? xmemdup(path, len) : NULL;

	if (!p) {
		free(msg);
		return nomem(k);
	}
	pthread_mutex_lock(&w->lock);
	if (w->err != -ENOMEM && (!w->errpath || walk_order_cmp(path, len, w->errpath, w->errlen) < 0)) {
		free(w->errpath);
		free(w->errmsg);
		w->err = rc;
		w->errpath = p;
		w->errlen = len;
		w->errmsg = msg;
		w->errrule = rule;
		p = msg = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	free(p);
	free(msg);
	return rc;
}

static int fail(struct worker *k, const char *path, size_t len, int rc, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	return record(k, path, len, rc, -1, r < 0 ? NULL : msg);
}

/* fmt with the path (quoted by text_quote, "." for the root) for its first
 * %s and why for its second, recorded as fail does. */
static int fail_path(struct worker *k, const char *path, size_t len, int rc, const char *fmt,
		     const char *why)
{
	char *q = len ? text_quote_dup(path, len) : xmemdup(".", 1);

	if (!q)
		return nomem(k);
	rc = fail(k, path, len, rc, fmt, q, why);
	free(q);
	return rc;
}

/* A pattern Docker fails on, or one ctxpack cannot reproduce, evaluated
 * for path (the messages of check-ignore). */
static int rule_error(struct worker *k, const char *path, size_t len, int rc, long rule)
{
	char msg[1024];

	match_refusal_message(k->w->m, rule, rc, path, len, msg, sizeof(msg));
	return record(k, path, len, rc, rule, xmemdup(msg, strlen(msg)));
}

/* ---- per-worker memory ---- */

/* A copy of s[0..len) with a NUL after it, in the worker's arena. */
static char *arena_dup(struct worker *k, const char *s, size_t len)
{
	struct walk_chunk *c = k->chunks;
	char *p;

	if (!c || c->cap - c->used < len + 1) {
		size_t cap = k->chunk_next;
		if (len + 1 > cap)
			cap = len + 1;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = k->chunks;
		k->chunks = c;
		if (k->chunk_next < CHUNK_MAX)
			k->chunk_next *= 2;
	}
	p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

static struct wnode *node_new(struct worker *k)
{
	struct node_slab *s = k->slabs;

	if (!s || s->used == NODES_PER_SLAB) {
		s = malloc(sizeof(*s));
		if (!s)
			return NULL;
		s->used = 0;
		s->next = k->slabs;
		k->slabs = s;
	}
	return memset(&s->n[s->used++], 0, sizeof(struct wnode));
}

static ctxpack_mstate *state_get(struct worker *k)
{
	ctxpack_mstate *st;

	if (k->nfree)
		return k->free_st[--k->nfree];
	if (ctxpack_mstate_new(&st, k->w->m))
		return NULL;
	return st;
}

static void state_put(struct worker *k, ctxpack_mstate *st)
{
	if (!st)
		return;
	if (GROW(k->free_st, k->afree, k->nfree + 1)) {
		ctxpack_mstate_free(&st);
		return;
	}
	k->free_st[k->nfree++] = st;
}

/* Drops one of d's needs of its descriptor; the last gives it back (the
 * root's lives until the end of the walk). */
static void need_put(struct walker *w, struct wnode *d)
{
	if (atomic_fetch_sub(&d->need, 1) == 1 && d->parent && d->fd >= 0) {
		close(d->fd);
		d->fd = -1;
		atomic_fetch_sub(&w->kept, 1);
	}
}

/* After d was read: it no longer needs its own descriptor to be read, and
 * its parent's is needed for it only while d has none and children to
 * open (then until d's subtree is done: node_put). */
static void node_read(struct walker *w, struct wnode *d, bool has_kids)
{
	if (d->parent) {
		if (d->fd >= 0 || !has_kids)
			need_put(w, d->parent);
		else
			d->needs_parent = true;
	}
	need_put(w, d);
}

/* Drops one reference on d; a node whose subtree is done lets go of its
 * parent, which loses a reference. */
static void node_put(struct walker *w, struct wnode *d)
{
	while (d && atomic_fetch_sub(&d->refs, 1) == 1) {
		if (d->needs_parent)
			need_put(w, d->parent);
		d = d->parent;
	}
}

/* ---- file system ---- */

struct estat {
	uint8_t type;
	uint32_t mode;
	uint64_t size;
	int64_t mtime_sec, ctime_sec;
	uint32_t mtime_nsec, ctime_nsec;
	uint64_t dev, ino;
	uint32_t nlink;
	uint32_t uid, gid;
	uint32_t rdev_major, rdev_minor;
};

static int mode_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return WT_FILE;
	case S_IFDIR:
		return WT_DIR;
	case S_IFLNK:
		return WT_SYMLINK;
	case S_IFIFO:
		return WT_FIFO;
	case S_IFCHR:
		return WT_CHR;
	case S_IFBLK:
		return WT_BLK;
	case S_IFSOCK:
		return WT_SOCK;
	}
	return -1;
}

static int dtype_type(uint8_t t)
{
	switch (t) {
	case DT_REG:
		return WT_FILE;
	case DT_DIR:
		return WT_DIR;
	case DT_LNK:
		return WT_SYMLINK;
	case DT_FIFO:
		return WT_FIFO;
	case DT_CHR:
		return WT_CHR;
	case DT_BLK:
		return WT_BLK;
	case DT_SOCK:
		return WT_SOCK;
	}
	return -1;
}

/* es from an fstat/fstatat result.  Returns 0, or -EBADMSG for a file
 * type Linux does not have. */
static int estat_from_stat(struct estat *es, const struct stat *st)
{
	int t = mode_type(st->st_mode);

	if (t < 0)
		return -EBADMSG;
	es->type = (uint8_t)t;
	es->mode = st->st_mode & 07777;
	es->size = (uint64_t)st->st_size;
	es->mtime_sec = st->st_mtim.tv_sec;
	es->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	es->ctime_sec = st->st_ctim.tv_sec;
	es->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	es->dev = st->st_dev;
	es->ino = st->st_ino;
	es->nlink = (uint32_t)st->st_nlink;
	es->uid = st->st_uid;
	es->gid = st->st_gid;
	es->rdev_major = major(st->st_rdev);
	es->rdev_minor = minor(st->st_rdev);
	return 0;
}

/* lstat of at/name: statx, or fstatat where statx is missing (old
 * kernels, and old seccomp profiles that answer EPERM).  Returns 0 or
 * -errno; -EBADMSG for a file type Linux does not have. */
static int do_stat(int at, const char *name, struct estat *es)
{
	struct stat st;
	int t;

	if (!atomic_load_explicit(&no_statx, memory_order_relaxed)) {
		struct statx sx;
		if (statx(at, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS,
			  &sx) == 0) {
			t = mode_type(sx.stx_mode);
			if (t < 0)
				return -EBADMSG;
			es->type = (uint8_t)t;
			es->mode = sx.stx_mode & 07777;
			es->size = sx.stx_size;
			es->mtime_sec = sx.stx_mtime.tv_sec;
			es->mtime_nsec = sx.stx_mtime.tv_nsec;
			es->ctime_sec = sx.stx_ctime.tv_sec;
			es->ctime_nsec = sx.stx_ctime.tv_nsec;
			es->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
			es->ino = sx.stx_ino;
			es->nlink = sx.stx_nlink;
			es->uid = sx.stx_uid;
			es->gid = sx.stx_gid;
			es->rdev_major = sx.stx_rdev_major;
			es->rdev_minor = sx.stx_rdev_minor;
			return 0;
		}
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		if (errno == ENOSYS)
			atomic_store_explicit(&no_statx, true, memory_order_relaxed);
	}
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return estat_from_stat(es, &st);
}

/* The target of the symlink at/name into k->buf (NUL-terminated).
 * Returns its length or -errno. */
static ssize_t read_link(struct worker *k, int at, const char *name, uint64_t hint)
{
	size_t want = hint < 256 ? 256 : hint + 1;

	for (;;) {
		ssize_t r;
		if (GROW(k->buf, k->buf_alloc, want))
			return -ENOMEM;
		r = readlinkat(at, name, k->buf, k->buf_alloc);
		if (r < 0)
			return -errno;
		if ((size_t)r < k->buf_alloc) {
			k->buf[r] = '\0';
			return r;
		}
		/* Truncated (size 0 in st_size on some file systems): retry larger. */
		want = k->buf_alloc * 2;
	}
}

/* Why the target of an entry stat'ed as a symlink could not be read when
 * the entry changed in between (readlinkat's EINVAL: not a symlink any
 * more; ENOENT: gone), or NULL for an error of its own. */
static const char *link_changed(ssize_t rc)
{
	return rc == -EINVAL ? "no longer a symlink" : rc == -ENOENT ? "removed" : NULL;
}

/* Opens rel[0..len) (relative to at, '/'-separated, NUL after it) one
 * component at a time without following symlinks; the last one as
 * O_RDONLY|O_DIRECTORY.  Returns a descriptor or -errno. */
static int open_path(struct worker *k, int at, const char *rel, size_t len)
{
	int cur = -1, fd;

	for (;;) {
		const char *slash = memchr(rel, '/', len);
		size_t cl;
		if (!slash) {
			fd = openat(at, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			fd = fd < 0 ? -errno : fd;
			break;
		}
		cl = (size_t)(slash - rel);
		if (GROW(k->buf, k->buf_alloc, cl + 1)) {
			fd = -ENOMEM;
			break;
		}
		memcpy(k->buf, rel, cl);
		k->buf[cl] = '\0';
		/* O_PATH: crossing a directory needs search permission only. */
		fd = openat(at, k->buf, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			fd = -errno;
			break;
		}
		if (cur >= 0)
			close(cur);
		at = cur = fd;
		rel = slash + 1;
		len -= cl + 1;
	}
	if (cur >= 0)
		close(cur);
	return fd;
}

/* Opens d from its nearest ancestor that kept a descriptor.  The
 * ancestors' descriptors are stable: d holds a reference on each. */
static int open_node(struct worker *k, struct wnode *d)
{
	struct wnode *a = d->parent;
	size_t off;

	while (a->fd < 0)
		a = a->parent;
	off = a->len ? a->len + 1 : 0;
	return open_path(k, a->fd, d->path + off, d->len - off);
}

/* All names of the directory open as fd except "." and ".." into k->dn,
 * sorted bytewise when sorted is set (dname_cmp).  Returns 0 or -errno. */
static int read_names(struct worker *k, int fd, bool sorted)
{
	k->names_len = 0;
	k->ndn = 0;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, k->dents, DENTS_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			/* struct linux_dirent64 */
			const char *rec = k->dents + off;
			unsigned short reclen;
			uint8_t dtype;
			const char *nm = rec + 19;
			size_t nl;

			memcpy(&reclen, rec + 16, sizeof(reclen));
			dtype = (uint8_t)rec[18];
			off += reclen;
			nl = strnlen(nm, reclen - 19);
			if (nm[0] == '.' && (nl == 1 || (nl == 2 && nm[1] == '.')))
				continue;
			if (GROW(k->names, k->names_alloc, k->names_len + nl + 1) ||
			    GROW(k->dn, k->adn, k->ndn + 1))
				return -ENOMEM;
			memcpy(k->names + k->names_len, nm, nl);
			k->names[k->names_len + nl] = '\0';
			k->dn[k->ndn++] = (struct dname){k->names_len, NULL, nl, dtype};
			k->names_len += nl + 1;
		}
	}
	for (size_t i = 0; i < k->ndn; i++)
		k->dn[i].name = k->names + k->dn[i].off;
	if (sorted && k->ndn > 1)
		qsort(k->dn, k->ndn, sizeof(*k->dn), dname_cmp);
	return 0;
}

/* ---- one directory ---- */

static void fill_entry(struct walk_entry *e, const struct estat *es)
{
	e->type = es->type;
	e->mode = es->mode;
	e->size = es->type == WT_FILE ? es->size : 0;
	e->mtime_sec = es->mtime_sec;
	e->mtime_nsec = es->mtime_nsec;
	e->ctime_sec = es->ctime_sec;
	e->ctime_nsec = es->ctime_nsec;
	e->dev = es->dev;
	e->ino = es->ino;
	e->nlink = es->nlink;
	e->uid = es->uid;
	e->gid = es->gid;
	if (es->type == WT_CHR || es->type == WT_BLK) {
		e->rdev_major = es->rdev_major;
		e->rdev_minor = es->rdev_minor;
	}
}

int walk_entry_from_stat(struct walk_entry *e, const struct stat *st)
{
	struct estat es;
	int rc = estat_from_stat(&es, st);

	if (!rc)
		fill_entry(e, &es);
	return rc;
}

int walk_type_at(int rootfd, const char *path, size_t len)
{
	struct estat es;
	struct stat st;
	int fd = beneath_open(rootfd, path, len, O_PATH | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0)
		return fd;
	rc = fstat(fd, &st) == 0 ? estat_from_stat(&es, &st) : -errno;
	close(fd);
	return rc ? rc : es.type;
}

/* "64 MiB", "3 KiB", "1000 bytes": exact, for sizes that may differ by a byte. */
static void size_text(char *buf, size_t sz, uint64_t v)
{
	if (v >= (1u << 20) && v % (1u << 20) == 0)
		snprintf(buf, sz, "%llu MiB", (unsigned long long)(v >> 20));
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, sz, "%llu KiB", (unsigned long long)(v >> 10));
	else
		snprintf(buf, sz, "%llu byte%s", (unsigned long long)v, v == 1 ? "" : "s");
}

int walk_file_check(const struct walk_entry *e, int fd, enum walk_when when, uint64_t got,
		    struct stat *stp, char *err, size_t errsz)
{
	struct stat st;
	char what[128], a[32], b[32];
	bool ident = e->ino != 0, mtime, ctime;

	if (fstat(fd, &st) < 0)
		return set_errmsg(err, errsz, -errno, "cannot stat '%s': %s", e->path,
				  strerror(errno));
	mtime = st.st_mtim.tv_sec != e->mtime_sec || (uint32_t)st.st_mtim.tv_nsec != e->mtime_nsec;
	ctime = st.st_ctim.tv_sec != e->ctime_sec || (uint32_t)st.st_ctim.tv_nsec != e->ctime_nsec;
	size_text(a, sizeof(a), e->size);
	if (!S_ISREG(st.st_mode)) {
		snprintf(what, sizeof(what), "no longer a regular file");
	} else if (ident && (st.st_ino != e->ino || st.st_dev != e->dev)) {
		snprintf(what, sizeof(what), "replaced: another inode");
	} else if ((uint64_t)st.st_size != e->size) {
		size_text(b, sizeof(b), (uint64_t)st.st_size);
		snprintf(what, sizeof(what), "size: %s walked, %s now", a, b);
	} else if (when != WALK_OPENED && got != e->size) {
		/* The size it says is the walked one, its content is not
		 * (/proc, /sys; or it changed back) */
		size_text(b, sizeof(b), got);
		snprintf(what, sizeof(what), "size: %s walked, %s read", a,
			 got > e->size ? "more" : b);
	} else if (ident && mtime) {
		snprintf(what, sizeof(what), "modified: mtime%s moved", ctime ? " and ctime" : "");
	} else if (ident && ctime && st.st_nlink == 0) {
		snprintf(what, sizeof(what), "removed: deleted or renamed over");
	} else if (ident && ctime) {
		snprintf(what, sizeof(what), "only its ctime moved: mode, owner or links changed");
	} else {
		if (stp)
			*stp = st;
		return 0;
	}
	return set_errmsg(err, errsz, -ESTALE, "'%s' changed %s (%s)", e->path,
			  when == WALK_READ ? "while it was read" : "after it was walked", what);
}

/* Can the file at/name be read?  The archiver reads it later; this is
 * the docker CLI's up-front check (ValidateContextDirectory). */
static int check_readable(int at, const char *name)
{
	return faccessat(at, name, R_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

/* Type and size only (measure): statx asks for nothing else, and does
 * not make a network file system revalidate attributes. */
static int size_of(int at, const char *name, struct estat *es)
{
	struct statx sx;
	int t;

	if (atomic_load_explicit(&no_statx, memory_order_relaxed) ||
	    statx(at, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC,
		  STATX_TYPE | STATX_SIZE, &sx))
		return do_stat(at, name, es);
	t = mode_type(sx.stx_mode);
	if (t < 0)
		return -EBADMSG;
	es->type = (uint8_t)t;
	es->size = sx.stx_size;
	return 0;
}

/* A node below d that is only counted (measure_pruned); the caller sets
 * measure.  path is in an arena.  NULL when out of memory. */
static struct wnode *measure_node(struct worker *k, struct wnode *d, const char *path, size_t len)
{
	struct wnode *c = node_new(k);

	if (!c || GROW(k->kids, k->akids, k->nkids + 1))
		return NULL;
	c->parent = d;
	c->path = path;
	c->len = len;
	c->fd = -1;
	c->excluded = true;
	atomic_init(&c->refs, 1);
	atomic_init(&c->need, 1);
	atomic_fetch_add(&d->refs, 1);
	atomic_fetch_add(&d->need, 1);
	k->kids[k->nkids++] = c;
	return c;
}

/* Counts directory d (below a pruned directory) into d->measure: names
 * and d_type from getdents, a stat for the size of regular files only.
 * Nothing here can fail the walk: Docker never reads these directories. */
static void measure(struct worker *k, struct wnode *d, int fd)
{
	struct wnode *m = d->measure;
	size_t name_off = d->len + 1;

	if (read_names(k, fd, false) < 0) { /* counted: any order */
		atomic_fetch_add(&m->m_unreadable, 1);
		return;
	}
	if (k->w->progress)
		atomic_fetch_add_explicit(&k->w->progress->entries, k->ndn, memory_order_relaxed);
	for (size_t i = 0; i < k->ndn; i++) {
		const struct dname *dn = &k->dn[i];
		struct estat es = {0};
		uint8_t t = dn->dtype;
		if (t == DT_UNKNOWN || t == DT_REG) {
			if (size_of(fd, dn->name, &es))
				continue; /* gone, or not searchable: not counted */
			t = es.type == WT_DIR ? DT_DIR : es.type == WT_FILE ? DT_REG : DT_LNK;
		}
		if (t == DT_REG) {
			atomic_fetch_add(&m->m_files, 1);
			atomic_fetch_add(&m->m_bytes, es.size);
		} else if (t == DT_DIR) {
			size_t len = name_off + dn->len;
			char *path;
			struct wnode *c;
			atomic_fetch_add(&m->m_dirs, 1);
			if (GROW(k->pathbuf, k->path_alloc, len + 1))
				goto oom;
			memcpy(k->pathbuf, d->path, d->len);
			k->pathbuf[d->len] = '/';
			memcpy(k->pathbuf + name_off, dn->name, dn->len);
			if (!(path = arena_dup(k, k->pathbuf, len)) || !(c = measure_node(k, d, path, len)))
				goto oom;
			c->measure = m;
		} else {
			atomic_fetch_add(&m->m_other, 1);
		}
	}
	return;
oom:
	nomem(k);
}

/* Decides the entry dn of directory d (open as fd); path holds its path
 * (name at name_off).  Returns 0 or a negative errno (recorded). */
static int do_entry(struct worker *k, struct wnode *d, int fd, const struct dname *dn,
		    const char *path, size_t len, size_t name_off)
{
	struct walker *w = k->w;
	struct ctxpack_decision dec;
	struct policy_in in = { w->builder, CTXPACK_NONE, false, 0, false, POLICY_PARENT_READ,
				d->checked, POLICY_IO_OK };
	struct policy_decision pd;
	struct estat es = {0};
	ctxpack_mstate *cst = NULL;
	struct went *x;
	ssize_t linklen = 0;
	int rc, t;

	rc = do_stat(fd, dn->name, &es);
	if (rc) {
		/* The parent is readable but not searchable: getdents gave the
		 * name and type, stat fails (the policy says when that fails). */
		t = dtype_type(dn->dtype);
		if (rc != -EACCES || t < 0 || policy_stat_required(w->builder, d->checked))
			return fail_path(k, path, len, rc, "cannot stat '%s': %s",
					 rc == -EBADMSG ? "unknown file type" : strerror(-rc));
		es.type = (uint8_t)t;
		in.io = POLICY_IO_NOSTAT;
	}
	if (es.type == WT_DIR && !(cst = state_get(k)))
		return nomem(k);
	rc = ctxpack_match_entry(w->m, k->scratch, d->st, path, len, name_off, cst, &dec);
	if (rc < 0) {
		rc = rule_error(k, path, len, rc, dec.rule);
		goto out;
	}
	rc = 0;
	in.verdict = dec.verdict;
	in.descend = dec.descend;
	in.type = es.type;
	in.dockerfile = w->dockerfile && len == w->dflen && memcmp(path, w->dockerfile, len) == 0;
	if (in.dockerfile)
		atomic_store(&w->dockerfile_seen, true);
	if (!in.dockerfile && w->dflink && len == w->dflinklen && memcmp(path, w->dflink, len) == 0) {
		in.dockerfile = true;
		atomic_store(&w->dflink_seen, true);
	}
	policy_decide(&in, &pd);
	if (pd.fail) {
		rc = fail_path(k, path, len, -EACCES, "cannot stat '%s': %s", strerror(EACCES));
		goto out;
	}
	if (pd.skip == POLICY_SKIP_UNREADABLE)
		goto out;
	if (pd.validate) {
		int dfd = openat(fd, dn->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0) {
			char why[160];
			rc = -errno;
			snprintf(why, sizeof(why), "%s (the classic builder reads excluded directories too)",
				 strerror(-rc));
			rc = fail_path(k, path, len, rc, "cannot open '%s': %s", why);
			goto out;
		}
		close(dfd);
	}
	if (!pd.sent && !pd.enter && !w->report_all)
		goto out;
	if (pd.check_read && (rc = check_readable(fd, dn->name))) {
		rc = fail_path(k, path, len, rc, "cannot open '%s': %s", strerror(-rc));
		goto out;
	}
	if (pd.sent && es.type == WT_SYMLINK) {
		linklen = read_link(k, fd, dn->name, es.size);
		if (linklen < 0) {
			const char *why = link_changed(linklen);
			if (linklen == -ENOMEM)
				rc = nomem(k);
			else if (why)
				rc = fail_path(k, path, len, -ESTALE, "'%s' changed during the run (%s)",
					       why);
			else
				rc = fail_path(k, path, len, (int)linklen, "cannot read link '%s': %s",
					       strerror((int)-linklen));
			goto out;
		}
	}

	if (GROW(k->v, k->alloc, k->n + 1))
		goto oom;
	x = &k->v[k->n];
	memset(x, 0, sizeof(*x));
	x->e.path = arena_dup(k, path, len);
	if (!x->e.path)
		goto oom;
	if (pd.sent && es.type == WT_SYMLINK && !(x->e.link = arena_dup(k, k->buf, (size_t)linklen)))
		goto oom;
	x->e.len = len;
	fill_entry(&x->e, &es);
	x->e.verdict = dec.verdict;
	x->e.rule = dec.rule;
	x->flags = (uint8_t)((pd.sent ? WF_SENT : 0) | (pd.forced ? WF_FORCED : 0) |
			     (pd.candidate ? WF_CANDIDATE : 0));
	if (pd.enter) {
		struct wnode *c = node_new(k);
		if (!c || GROW(k->kids, k->akids, k->nkids + 1))
			goto oom;
		c->parent = d;
		c->path = x->e.path;
		c->len = len;
		c->st = cst;
		c->fd = -1;
		atomic_init(&c->refs, 1);
		atomic_init(&c->need, 1);
		c->excluded = dec.verdict == CTXPACK_EXCLUDE;
		c->checked = pd.validated;
		atomic_fetch_add(&d->refs, 1);
		atomic_fetch_add(&d->need, 1);
		k->kids[k->nkids++] = c;
		x->child = c;
		cst = NULL; /* the child node owns it now */
	} else if (w->measure_pruned && es.type == WT_DIR && in.io == POLICY_IO_OK) {
		struct wnode *c = measure_node(k, d, x->e.path, len);
		if (!c)
			goto oom;
		c->measure = c;
		x->child = c;
	}
	k->n++;
	goto out;
oom:
	rc = nomem(k);
out:
	state_put(k, cst);
	return rc;
}

/* Does the builder fail on directory d, entered, when it cannot be
 * opened?  The policy's answer for the entry d was. */
static bool unreadable_fails(const struct walker *w, const struct wnode *d)
{
	struct policy_in in = { w->builder, d->excluded ? CTXPACK_EXCLUDE : CTXPACK_INCLUDE, true,
				WT_DIR, false, POLICY_PARENT_READ, d->checked, POLICY_IO_NOOPEN };
	struct policy_decision pd;

	policy_decide(&in, &pd);
	return pd.fail;
}

/* Reads directory d: its run of entries, and its child nodes in k->kids. */
static void process(struct worker *k, struct wnode *d)
{
	struct walker *w = k->w;
	size_t name_off = d->len ? d->len + 1 : 0;
	int fd, rc;

	d->run_thread = k->id;
	d->run_start = k->n;
	if (d->parent)
		fd = open_node(k, d);
	else if (d->fd >= 0)
		fd = d->fd;
	else if ((fd = open_path(k, w->rootfd, d->path, d->len)) >= 0)
		d->fd = fd; /* options.under: kept until the end, as the root's */
	if (fd < 0) {
		if (fd == -ENOMEM) {
			nomem(k);
		} else if (d->measure) {
			atomic_fetch_add(&d->measure->m_unreadable, 1);
		} else if ((fd == -EACCES || fd == -EPERM) && !unreadable_fails(w, d)) {
			/* fsutil: an excluded directory it cannot read is skipped */
		} else {
			fail_path(k, d->path, d->len, fd, "cannot open '%s': %s", strerror(-fd));
		}
		goto out;
	}
	if (d->measure) {
		measure(k, d, fd);
		goto close;
	}
	rc = read_names(k, fd, true);
	if (rc == -ENOMEM) {
		nomem(k);
		goto close;
	}
	if (rc < 0) {
		fail_path(k, d->path, d->len, rc, "cannot read directory '%s': %s", strerror(-rc));
		goto close;
	}
	if (w->progress)
		atomic_fetch_add_explicit(&w->progress->entries, k->ndn, memory_order_relaxed);
	if (GROW(k->pathbuf, k->path_alloc, name_off + 1)) {
		nomem(k);
		goto close;
	}
	memcpy(k->pathbuf, d->path, d->len);
	if (d->len)
		k->pathbuf[d->len] = '/';
	for (size_t i = 0; i < k->ndn; i++) {
		const struct dname *dn = &k->dn[i];
		size_t len = name_off + dn->len;
		if (GROW(k->pathbuf, k->path_alloc, len + 1)) {
			nomem(k);
			break;
		}
		memcpy(k->pathbuf + name_off, dn->name, dn->len + 1);
		/* The entries before an error are kept: their subtrees sort
		 * before it and may hold an earlier error. */
		if (do_entry(k, d, fd, dn, k->pathbuf, len, name_off))
			break;
	}
close:
	if (!d->parent)
		goto out; /* the root's descriptor lives until the end */
	if (k->nkids && atomic_fetch_add(&w->kept, 1) < w->fd_budget) {
		d->fd = fd;
	} else {
		if (k->nkids)
			atomic_fetch_sub(&w->kept, 1);
		close(fd);
	}
out:
	d->run_n = k->n - d->run_start;
	state_put(k, d->st);
	d->st = NULL;
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;
	struct walker *w = k->w;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct wnode *d;
		bool skip;

		while (!w->stack && w->active)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->stack)
			break;
		d = w->stack;
		w->stack = d->next;
		w->active++;
		/* Everything below a directory that sorts after the first
		 * error found so far sorts after it too. */
		skip = w->abort ||
		       (w->errpath && walk_order_cmp(d->path, d->len, w->errpath, w->errlen) > 0);
		pthread_mutex_unlock(&w->lock);

		k->nkids = 0;
		if (skip) {
			d->run_n = 0;
			state_put(k, d->st);
			d->st = NULL;
		} else {
			process(k, d);
		}
		/* The children hold their own references on d. */
		node_read(w, d, k->nkids > 0);
		node_put(w, d);

		pthread_mutex_lock(&w->lock);
		/* Pushed last to first, so the first child is read first. */
		for (size_t i = k->nkids; i-- > 0;) {
			k->kids[i]->next = w->stack;
			w->stack = k->kids[i];
		}
		w->active--;
		if (k->nkids > 1 || (!w->active && !w->stack))
			pthread_cond_broadcast(&w->cond);
		else if (k->nkids)
			pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* ---- the result ---- */

struct frame {
	struct wnode *d;
	size_t i;
	bool candidate;
};

/* The runs in walk order, depth first from the root, into out.  BuildKit
 * sends an excluded directory it entered only as the parent of something
 * it sends (fsutil's parentDirs): such candidates are placed at their own
 * position and dropped afterwards when nothing sent for itself (the
 * forced Dockerfile does not count) came out below them. */
static int assemble(struct walker *w, struct wnode *root, struct walk_result *out)
{
	struct frame *fr = NULL;
	size_t nfr = 0, afr = 0, *cand = NULL, ncand = 0, acand = 0, nmarked = 0, total = 0, n = 0;
	size_t apruned = 0;
	uint8_t *keep = NULL;
	int rc = -ENOMEM;

	for (unsigned t = 0; t < w->nworkers; t++)
		total += w->workers[t].n;
	if (!total)
		return 0;
	out->v = malloc(total * sizeof(*out->v));
	keep = calloc(total, 1);
	if (!out->v || !keep || GROW(fr, afr, 1))
		goto out;
	fr[nfr++] = (struct frame){root, 0, false};
	while (nfr) {
		struct frame *f = &fr[nfr - 1];
		struct went *x;

		if (f->i == f->d->run_n) {
			if (f->candidate) {
				ncand--;
				if (nmarked > ncand)
					nmarked = ncand;
			}
			nfr--;
			continue;
		}
		x = &w->workers[f->d->run_thread].v[f->d->run_start + f->i++];
		if (w->report_all || (x->flags & (WF_SENT | WF_CANDIDATE))) {
			/* The result points at the entries where the workers
			 * left them: no copy of the largest array. */
			struct walk_entry *e = &x->e;
			out->v[n] = e;
			e->parent = (x->flags & WF_CANDIDATE) && !(x->flags & WF_SENT);
			e->forced = x->flags & WF_FORCED;
			if (x->flags & WF_SENT)
				keep[n] = 1;
			if ((x->flags & (WF_SENT | WF_FORCED)) == WF_SENT) {
				for (; nmarked < ncand; nmarked++)
					keep[cand[nmarked]] = 1;
			}
			if (x->child && x->child->measure == x->child) {
				struct wnode *c = x->child;
				if (GROW(out->pruned, apruned, out->npruned + 1))
					goto out;
				out->pruned[out->npruned++] = (struct walk_pruned){
					e, atomic_load(&c->m_files), atomic_load(&c->m_dirs),
					atomic_load(&c->m_other), atomic_load(&c->m_bytes),
					atomic_load(&c->m_unreadable)};
			}
			n++;
		}
		if (x->child && x->child->run_n) {
			bool c = x->flags & WF_CANDIDATE;
			if (c) {
				if (GROW(cand, acand, ncand + 1))
					goto out;
				cand[ncand++] = n - 1;
			}
			if (GROW(fr, afr, nfr + 1))
				goto out;
			fr[nfr++] = (struct frame){x->child, 0, c};
		}
	}
	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct walk_entry *e = out->v[i];
		e->sent = keep[i];
		e->parent = e->parent && keep[i];
		if (keep[i] || w->report_all)
			out->v[out->n++] = e;
	}
	rc = 0;
out:
	free(fr);
	free(cand);
	free(keep);
	return rc;
}

/* Hands block p over to the result, which frees it on release. */
static int own(struct walk_result *out, void *p)
{
	void **nv = realloc(out->owned, (out->nowned + 1) * sizeof(*nv));

	if (!nv)
		return -1;
	nv[out->nowned++] = p;
	out->owned = nv;
	return 0;
}

/* BuildKit mode: the Dockerfile df[0..dflen) (or the symlink naming it)
 * lies below a directory the walk did not enter (pruned, or excluded and
 * unreadable); look it up on its own and insert it at its place. */
static int add_dockerfile(struct walker *w, int rootfd, const char *df, size_t dflen,
			  struct walk_result *out)
{
	struct worker *k = &w->workers[0];
	const char *slash = memrchr(df, '/', dflen);
	struct walk_entry e = {0};
	struct explain_result res;
	struct explainer ex;
	struct estat es;
	size_t lo = 0, hi = out->n;
	ssize_t linklen = 0;
	int dfd = rootfd, rc;
	const char *name = df, *changed = NULL;

	if (slash) {
		char *dir = xmemdup(df, (size_t)(slash - df));
		if (!dir)
			return -ENOMEM;
		dfd = open_path(k, rootfd, dir, (size_t)(slash - df));
		free(dir);
		if (dfd < 0) {
			rc = dfd;
			goto fail;
		}
		name = slash + 1;
	}
	rc = do_stat(dfd, name, &es);
	if (!rc && es.type == WT_FILE)
		rc = check_readable(dfd, name);
	if (!rc && es.type == WT_SYMLINK) {
		linklen = read_link(k, dfd, name, es.size);
		rc = linklen < 0 ? (int)linklen : 0;
		changed = link_changed(linklen);
		if (changed)
			rc = -ESTALE;
	}
	if (dfd != rootfd)
		close(dfd);
	if (rc)
		goto fail;
	fill_entry(&e, &es);
	e.len = dflen;
	e.path = arena_dup(k, df, dflen);
	if (es.type == WT_SYMLINK)
		e.link = arena_dup(k, k->buf, (size_t)linklen);
	if (!e.path || (es.type == WT_SYMLINK && !e.link))
		return -ENOMEM;
	e.verdict = CTXPACK_EXCLUDE;
	e.rule = -1;
	e.forced = true;
	e.sent = true;
	/* The verdict as the walk would have reached it (the rule that
	 * pruned an ancestor, typically), for reports. */
	if (explainer_init(&ex, w->m) == 0) {
		if (explain_path(&ex, df, dflen, &res) == 0) {
			e.verdict = res.verdict;
			e.rule = res.rule;
		}
		explainer_release(&ex);
	}
	{
		struct walk_entry **nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
		struct walk_entry *pe = malloc(sizeof(*pe));
		if (nv)
			out->v = nv;
		if (!nv || !pe || own(out, pe)) {
			free(pe);
			return -ENOMEM;
		}
		*pe = e;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (walk_order_cmp(out->v[mid]->path, out->v[mid]->len, df, dflen) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		memmove(out->v + lo + 1, out->v + lo, (out->n - lo) * sizeof(*out->v));
		out->v[lo] = pe;
		out->n++;
	}
	return 0;
fail:
	if (rc == -ENOMEM)
		return rc;
	free(w->errmsg);
	if ((changed ? asprintf(&w->errmsg, "'%s' changed during the run (%s)", df, changed)
		     : asprintf(&w->errmsg, "cannot open '%s': %s", df, strerror(-rc))) < 0)
		w->errmsg = NULL;
	return rc;
}

/* ---- setup ---- */

static int worker_init(struct worker *k, struct walker *w, unsigned id)
{
	k->w = w;
	k->id = id;
	k->chunk_next = CHUNK_MIN;
	k->dents = malloc(DENTS_SIZE);
	if (!k->dents || ctxpack_mscratch_new(&k->scratch, w->m))
		return -ENOMEM;
	return 0;
}

/* Frees the worker's memory; its string arena moves to *chunks. */
static void worker_release(struct worker *k, struct walk_chunk **chunks)
{
	while (k->chunks) {
		struct walk_chunk *c = k->chunks;
		k->chunks = c->next;
		c->next = *chunks;
		*chunks = c;
	}
	while (k->slabs) {
		struct node_slab *s = k->slabs;
		k->slabs = s->next;
		free(s);
	}
	for (size_t i = 0; i < k->nfree; i++)
		ctxpack_mstate_free(&k->free_st[i]);
	free(k->free_st);
	ctxpack_mscratch_free(&k->scratch);
	free(k->dents);
	free(k->names);
	free(k->dn);
	free(k->pathbuf);
	free(k->buf);
	free(k->v);
	free(k->kids);
}

static int fd_budget(unsigned threads)
{
	struct rlimit rl;
	long lim = 1024, b;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		lim = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX ? INT_MAX
									    : (long)rl.rlim_cur;
	/* Half the limit for the caller; each worker holds up to three
	 * descriptors of its own at a time (the directory, a component on
	 * the way to it, a file it checks). */
	b = lim / 2 - 4 * (long)threads - 16;
	if (b < 2) {
		/* A small limit: two kept descriptors (a directory and the
		 * child being opened from it) still walk a deep chain in
		 * linear time, when what is open leaves room for them. */
		long spare = fd_spare(2 + (long)threads * FDS_PER_THREAD) -
			     (long)threads * FDS_PER_THREAD;
		b = spare < 2 ? (spare < 0 ? 0 : spare) : 2;
	}
	return b > MAX_KEPT_FDS ? MAX_KEPT_FDS : (int)b;
}

int walk_context(struct walk_result *out, int rootfd, const struct walk_options *o, char *err,
		 size_t errsz)
{
	struct walker w = {0};
	struct wnode root = {0};
	struct walk_chunk *chunks = NULL;
	unsigned nthreads;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (errsz)
		err[0] = '\0';
	nthreads = (unsigned)thread_count(o->threads, MAX_THREADS, SIZE_MAX);

	w.m = o->match;
	w.builder = o->builder;
	w.errrule = -1;
	w.classic = o->builder == CTXPACK_BUILDER_CLASSIC;
	w.report_all = o->report_all;
	w.measure_pruned = o->report_all && o->measure_pruned;
	w.progress = o->progress;
	if (!w.classic && o->dockerfile && o->dockerfile[0]) {
		w.dockerfile = o->dockerfile;
		w.dflen = strlen(o->dockerfile);
		if (o->dockerfile_link && o->dockerfile_link[0]) {
			w.dflink = o->dockerfile_link;
			w.dflinklen = strlen(o->dockerfile_link);
		}
	}
	w.fd_budget = fd_budget(nthreads);
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);

	w.rootfd = rootfd;
	if (o->under) {
		/* Opened by the first worker, as any directory the walk enters. */
		root.fd = -1;
		root.path = o->under;
		root.len = strlen(o->under);
		root.excluded = o->under_verdict == CTXPACK_EXCLUDE;
	} else {
		/* A descriptor of our own: getdents moves the file offset. */
		root.fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root.fd < 0) {
			rc = -errno;
			snprintf(err, errsz, "cannot open '.': %s", strerror(-rc));
			goto out;
		}
		root.path = "";
		root.checked = true;
	}
	atomic_init(&root.refs, 1);
	atomic_init(&root.need, 1);

	w.workers = calloc(nthreads, sizeof(*w.workers));
	if (!w.workers) {
		rc = -ENOMEM;
		goto out;
	}
	w.nworkers = nthreads;
	for (unsigned i = 0; i < nthreads; i++)
		if (worker_init(&w.workers[i], &w, i)) {
			rc = -ENOMEM;
			goto out;
		}
	if (!(root.st = state_get(&w.workers[0]))) {
		rc = -ENOMEM;
		goto out;
	}
	if (o->under_state)
		match_state_copy(root.st, o->under_state);
	else
		ctxpack_match_root(w.m, root.st);
	w.stack = &root;

	{
		unsigned started = 1;
		for (; started < nthreads; started++)
			if (pthread_create(&w.workers[started].tid, NULL, worker_main,
					   &w.workers[started]))
				break; /* walk with the threads we have */
		worker_main(&w.workers[0]);
		for (unsigned i = 1; i < started; i++)
			pthread_join(w.workers[i].tid, NULL);
	}

	rc = w.err;
	if (!rc) {
		rc = assemble(&w, &root, out);
		/* The entries stay in the workers' vectors: the result owns them. */
		for (unsigned i = 0; !rc && i < w.nworkers; i++) {
			if (w.workers[i].v && own(out, w.workers[i].v))
				rc = -ENOMEM;
			else
				w.workers[i].v = NULL;
		}
		if (!rc && w.dockerfile && !o->under && !atomic_load(&w.dockerfile_seen))
			rc = add_dockerfile(&w, root.fd, w.dockerfile, w.dflen, out);
		if (!rc && w.dflink && !o->under && !atomic_load(&w.dflink_seen))
			rc = add_dockerfile(&w, root.fd, w.dflink, w.dflinklen, out);
		if (rc)
			w.err = rc;
	}
	if (rc && rc != -ENOMEM)
		snprintf(err, errsz, "%s", w.errmsg ? w.errmsg : strerror(-rc));
	if (rc && o->refusal && w.errpath && w.errrule >= 0 && rc == w.err)
		match_refusal(w.m, w.errrule, rc, w.errpath, w.errlen, o->refusal);
out:
	if (rc == -ENOMEM) /* the setup's failures too */
		snprintf(err, errsz, "out of memory");
	for (unsigned i = 0; i < w.nworkers; i++)
		worker_release(&w.workers[i], &chunks);
	free(w.workers);
	if (root.fd >= 0)
		close(root.fd);
	free(w.errpath);
	free(w.errmsg);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	out->mem = chunks;
	if (rc)
		walk_result_release(out);
	return rc;
}

void walk_result_release(struct walk_result *r)
{
	free(r->v);
	free(r->pruned);
	for (size_t i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	free(r->owned);
	while (r->mem) {
		struct walk_chunk *c = r->mem;
		r->mem = c->next;
		free(c);
	}
	memset(r, 0, sizeof(*r));
}
