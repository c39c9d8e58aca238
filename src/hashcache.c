/* hashcache.c: content hashes remembered between runs (see hashcache.h).
 *
 * The file, all integers little-endian:
 *
 *   header, 48 bytes
 *      0  magic "ctxpack-hashcache", NUL-padded to 24 bytes
 *     24  u32 format version (1)
 *     28  u32 record size (72)
 *     32  u64 record count
 *     40  u64 XXH3-64 (seed 0) of the count * 72 record bytes
 *   records, 72 bytes each
 *      0  u64 dev              8  u64 ino             16  u64 size
 *     24  i64 mtime_sec       32  u32 mtime_nsec      36  i64 ctime_sec
 *     44  u32 ctime_nsec      48  i64 recorded_sec    56  hash[16]
 *
 * A file whose size is not exactly 48 + count * 72, whose count is above
 * HASHCACHE_MAX_ENTRIES, whose header or checksum differs, or with a
 * nanosecond field of 10^9 or more, is not ours: the cache starts empty.
 *
 * In memory, the entries sit in one array in insertion order, found by an
 * open-addressing index of uint32_t (entry number + 1, 0 for an empty
 * slot; linear probing, at most half full) keyed by (dev, ino).  The
 * table read from the file does not change until the cache is freed, so
 * lookups in it take no lock (a lock word shared by every lookup on every
 * thread cost more than the lookup: a warm digest is mostly lookups);
 * puts go into a second table of the same kind under a mutex, which a
 * lookup consults only when the first has no trusted entry. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "hashcache.h"
#include "internal.h"

#define MAGIC_LEN 24
#define FORMAT_VERSION 1
#define HDR_SIZE 48
#define REC_SIZE 72
#define CHUNK_RECS 910 /* records per read or write: 65520 bytes */
#define NSEC_PER_SEC 1000000000u

static const char magic[MAGIC_LEN] = "ctxpack-hashcache";

struct entry {
	struct hashcache_key k;
	int64_t recorded_sec;
	uint8_t hash[16];
};

struct table {
	struct entry *v;
	size_t n, alloc;
	uint32_t *slot; /* entry number + 1, or 0 */
	size_t nslot;	/* 0 or a power of two */
};

struct hashcache {
	struct table t;	     /* from the file: read without a lock */
	pthread_mutex_t mu;  /* guards pend and the put counters */
	struct table pend;   /* this run's puts */
	uint64_t puts;	/* puts so far */
	uint64_t saved; /* puts as of the last save */
	_Atomic uint64_t hits, misses;
	char *path; /* NULL when there is no default path: path_err says why */
	int path_err;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void encode(uint8_t *p, const struct entry *e)
{
	put_le64(p, e->k.dev);
	put_le64(p + 8, e->k.ino);
	put_le64(p + 16, e->k.size);
	put_le64(p + 24, (uint64_t)e->k.mtime_sec);
	put_le32(p + 32, e->k.mtime_nsec);
	put_le64(p + 36, (uint64_t)e->k.ctime_sec);
	put_le32(p + 44, e->k.ctime_nsec);
	put_le64(p + 48, (uint64_t)e->recorded_sec);
	memcpy(p + 56, e->hash, 16);
}

static void decode(struct entry *e, const uint8_t *p)
{
	e->k.dev = get_le64(p);
	e->k.ino = get_le64(p + 8);
	e->k.size = get_le64(p + 16);
	e->k.mtime_sec = (int64_t)get_le64(p + 24);
	e->k.mtime_nsec = get_le32(p + 32);
	e->k.ctime_sec = (int64_t)get_le64(p + 36);
	e->k.ctime_nsec = get_le32(p + 44);
	e->recorded_sec = (int64_t)get_le64(p + 48);
	memcpy(e->hash, p + 56, 16);
}

static bool key_equal(const struct hashcache_key *a, const struct hashcache_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

/* git's racy-clean rule: the file's times are before the recording second. */
static bool trusted(const struct entry *e)
{
	return e->k.mtime_sec < e->recorded_sec && e->k.ctime_sec < e->recorded_sec;
}

static size_t home_slot(const struct table *t, uint64_t dev, uint64_t ino)
{
	const uint64_t k[2] = {dev, ino};

	return (size_t)XXH3_64bits(k, sizeof(k)) & (t->nslot - 1);
}

/* The slot holding (dev, ino), or the empty slot where it would go.  The
 * index must have slots (it is never full). */
static size_t table_slot(const struct table *t, uint64_t dev, uint64_t ino)
{
	size_t i = home_slot(t, dev, ino);

	for (;; i = (i + 1) & (t->nslot - 1)) {
		const struct entry *e;

		if (!t->slot[i])
			return i;
		e = &t->v[t->slot[i] - 1];
		if (e->k.dev == dev && e->k.ino == ino)
			return i;
	}
}

/* (dev, ino)'s entry, or NULL. */
static struct entry *table_find(const struct table *t, uint64_t dev, uint64_t ino)
{
	size_t i;

	if (!t->nslot)
		return NULL;
	i = table_slot(t, dev, ino);
	return t->slot[i] ? &t->v[t->slot[i] - 1] : NULL;
}

/* Makes room for n entries: the array and an index at most half full. */
static int table_reserve(struct table *t, size_t n)
{
	size_t nslot = t->nslot ? t->nslot : 64;
	uint32_t *slot;

	if (n >= UINT32_MAX)
		return -ENOSPC;
	if (GROW(t->v, t->alloc, n))
		return -ENOMEM;
	while (nslot / 2 < n) {
		if (nslot > SIZE_MAX / 2)
			return -ENOMEM;
		nslot *= 2;
	}
	if (nslot == t->nslot)
		return 0;
	slot = calloc(nslot, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	for (size_t i = 0; i < t->n; i++)
		t->slot[table_slot(t, t->v[i].k.dev, t->v[i].k.ino)] = (uint32_t)(i + 1);
	return 0;
}

/* Adds e, or replaces the entry of the same (dev, ino).  Returns 0,
 * -ENOMEM or -ENOSPC. */
static int table_put(struct table *t, const struct entry *e)
{
	size_t i;
	int rc = table_reserve(t, t->n + 1); /* one probe after it, not two */

	if (rc)
		return rc;
	i = table_slot(t, e->k.dev, e->k.ino);
	if (t->slot[i]) {
		t->v[t->slot[i] - 1] = *e;
		return 0;
	}
	t->slot[i] = (uint32_t)(t->n + 1);
	t->v[t->n++] = *e;
	return 0;
}

static void table_release(struct table *t)
{
	free(t->v);
	free(t->slot);
	*t = (struct table){0};
}

/* Reads up to len bytes, fewer only at the end of the file.  Returns the
 * count or -errno. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

static int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		done += (size_t)w;
	}
	return 0;
}

/* Reads the cache file open on fd into t, which is empty.  Returns 0 (t
 * then holds the file's entries, or none when the file does not verify)
 * or -ENOMEM. */
static int table_load(struct table *t, int fd)
{
	uint8_t hdr[HDR_SIZE], *buf = NULL;
	XXH3_state_t *xs = NULL;
	struct stat st;
	uint64_t count, left;
	bool ok = false;
	int rc = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (read_full(fd, hdr, sizeof(hdr)) != HDR_SIZE || memcmp(hdr, magic, MAGIC_LEN) ||
	    get_le32(hdr + 24) != FORMAT_VERSION || get_le32(hdr + 28) != REC_SIZE)
		return 0;
	count = get_le64(hdr + 32);
	if (count > HASHCACHE_MAX_ENTRIES || (uint64_t)st.st_size != HDR_SIZE + count * REC_SIZE)
		return 0;

	buf = malloc(CHUNK_RECS * REC_SIZE);
	xs = XXH3_createState();
	if (!buf || !xs || XXH3_64bits_reset(xs) != XXH_OK) {
		rc = -ENOMEM;
		goto out;
	}
	rc = table_reserve(t, (size_t)count);
	if (rc)
		goto out;
	for (left = count; left;) {
		size_t k = left < CHUNK_RECS ? (size_t)left : CHUNK_RECS;

		if (read_full(fd, buf, k * REC_SIZE) != (ssize_t)(k * REC_SIZE))
			goto out;
		XXH3_64bits_update(xs, buf, k * REC_SIZE);
		for (size_t i = 0; i < k; i++) {
			struct entry e;

			decode(&e, buf + i * REC_SIZE);
			if (e.k.mtime_nsec >= NSEC_PER_SEC || e.k.ctime_nsec >= NSEC_PER_SEC)
				goto out;
			rc = table_put(t, &e);
			if (rc)
				goto out;
		}
		left -= k;
	}
	ok = XXH3_64bits_digest(xs) == get_le64(hdr + 40);
out:
	if (!ok)
		table_release(t);
	XXH3_freeState(xs);
	free(buf);
	return rc;
}

int hashcache_default_path(char *buf, size_t bufsz)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	const char *base, *tail;
	size_t len;
	int n;

	if (xdg && xdg[0] == '/') {
		base = xdg;
		tail = "/ctxpack/hashes";
	} else if (home && home[0]) {
		base = home;
		tail = "/.cache/ctxpack/hashes";
	} else {
		return -ENOENT;
	}
	len = strlen(base);
	while (len > 1 && base[len - 1] == '/')
		len--;
	if (len == 1 && base[0] == '/')
		len = 0;
	if (len > INT_MAX)
		return -ENAMETOOLONG;
	n = snprintf(buf, bufsz, "%.*s%s", (int)len, base, tail);
	if (n < 0 || (size_t)n >= bufsz)
		return -ENAMETOOLONG;
	return 0;
}

int hashcache_open(struct hashcache **out, const char *path, char *err, size_t errsz)
{
	char def[PATH_MAX];
	struct hashcache *c;
	int fd, rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto oom;
	if (pthread_mutex_init(&c->mu, NULL)) {
		free(c);
		c = NULL;
		goto oom;
	}
	if (!path) {
		c->path_err = hashcache_default_path(def, sizeof(def));
		if (!c->path_err)
			path = def;
	}
	if (path) {
		c->path = strdup(path);
		if (!c->path)
			goto oom;
		/* O_NONBLOCK: a FIFO in its place must not hang us. */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0) {
			rc = table_load(&c->t, fd);
			close(fd);
			if (rc)
				goto oom;
		}
	}
	*out = c;
	return 0;
oom:
	hashcache_free(&c);
	return set_errmsg(err, errsz, -ENOMEM, "cannot read the hash cache '%s': %s", path ? path : "",
		       strerror(ENOMEM));
}

bool hashcache_get(struct hashcache *c, const struct hashcache_key *k, uint8_t hash[16])
{
	const struct entry *e;
	bool hit = false;

	e = table_find(&c->t, k->dev, k->ino);
	if (e && key_equal(&e->k, k) && trusted(e)) {
		memcpy(hash, e->hash, 16);
		hit = true;
	} else {
		pthread_mutex_lock(&c->mu);
		e = table_find(&c->pend, k->dev, k->ino);
		if (e && key_equal(&e->k, k) && trusted(e)) {
			memcpy(hash, e->hash, 16);
			hit = true;
		}
		pthread_mutex_unlock(&c->mu);
	}
	atomic_fetch_add_explicit(hit ? &c->hits : &c->misses, 1, memory_order_relaxed);
	return hit;
}

void hashcache_put(struct hashcache *c, const struct hashcache_key *k, const uint8_t hash[16])
{
	hashcache_put_since(c, k, hash, INT64_MAX);
}

void hashcache_put_since(struct hashcache *c, const struct hashcache_key *k, const uint8_t hash[16],
			 int64_t since_sec)
{
	struct entry e = {.k = *k};
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	e.recorded_sec = now.tv_sec < since_sec ? now.tv_sec : since_sec;
	memcpy(e.hash, hash, 16);
	pthread_mutex_lock(&c->mu);
	/* Out of memory: the entry is not remembered, which only costs a
	 * hash at the next run. */
	if (!table_put(&c->pend, &e))
		c->puts++;
	pthread_mutex_unlock(&c->mu);
}

void hashcache_counts(const struct hashcache *c, uint64_t *hits, uint64_t *misses)
{
	if (hits)
		*hits = atomic_load_explicit(&c->hits, memory_order_relaxed);
	if (misses)
		*misses = atomic_load_explicit(&c->misses, memory_order_relaxed);
}

/* Creates the missing directories above path's last component (mode
 * 0700).  Returns 0 or -errno (err says which directory). */
static int mkdir_parents(const char *path, char *err, size_t errsz)
{
	char *dir = strdup(path), *s;
	struct stat st;
	int rc = 0;

	if (!dir)
		return set_errmsg(err, errsz, -ENOMEM, "cannot save the hash cache '%s': %s", path,
			       strerror(ENOMEM));
	s = strrchr(dir, '/');
	if (!s || s == dir)
		goto out;
	*s = '\0';
	if (stat(dir, &st) == 0)
		goto out;
	for (s = dir + 1;; s++) {
		char ch = *s;

		if (ch != '/' && ch != '\0')
			continue;
		*s = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
				rc = set_errmsg(err, errsz, -e, "cannot create directory '%s': %s",
					     dir, strerror(e));
				goto out;
			}
		}
		*s = ch;
		if (!ch)
			break;
	}
out:
	free(dir);
	return rc;
}

/* A temporary file older than this whose writer holds no lock on it was
 * left by a run that was killed while saving (its lock died with it).  A
 * writer locks its file the moment it creates it; the age covers that
 * moment. */
#define STALE_TMP_SEC 2

/* Removes the temporary files killed runs left next to path (named
 * ".<base>.tmpXXXXXX", as write_cache names them, regular, ours): best
 * effort, nothing is reported.  A file is removed only when no one holds
 * its lock, so a save running at the same moment keeps its file. */
/* name is prefix and the six letters or digits mkostemp puts after it. */
static bool is_tmp_name(const char *name, const char *prefix)
{
	size_t n = strlen(prefix), i;

	if (strncmp(name, prefix, n))
		return false;
	for (i = 0; i < 6; i++)
		if (!((name[n + i] >= 'a' && name[n + i] <= 'z') ||
		      (name[n + i] >= 'A' && name[n + i] <= 'Z') ||
		      (name[n + i] >= '0' && name[n + i] <= '9')))
			return false;
	return name[n + 6] == '\0';
}

static void sweep_stale_tmp(const char *path)
{
	const char *base = strrchr(path, '/');
	char *dir, prefix[NAME_MAX + 1];
	struct dirent *de;
	int dfd;
	DIR *d;

	base = base ? base + 1 : path;
	if ((size_t)snprintf(prefix, sizeof(prefix), ".%s.tmp", base) >= sizeof(prefix))
		return;
	dir = base == path ? xmemdup(".", 1) : xmemdup(path, (size_t)(base - path));
	if (!dir)
		return;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st, now;
		int fd;

		if (!is_tmp_name(de->d_name, prefix) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < time(NULL) - STALE_TMP_SEC && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    fstatat(dirfd(d), de->d_name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_dev == st.st_dev && now.st_ino == st.st_ino)
			unlinkat(dirfd(d), de->d_name, 0);
		close(fd);
	}
	closedir(d);
}

/* Writes v[0..n) as the cache file at path: a temporary file next to it,
 * locked while it lives (sweep_stale_tmp), renamed over it. */
static int write_cache(const char *path, const struct entry *v, size_t n, char *err, size_t errsz)
{
	const char *base = strrchr(path, '/');
	size_t dirlen, baselen;
	uint8_t hdr[HDR_SIZE] = {0}, *buf = NULL;
	XXH3_state_t *xs = NULL;
	char *tmp;
	off_t off = HDR_SIZE;
	int fd, rc, lockfd = -1;

	base = base ? base + 1 : path;
	dirlen = (size_t)(base - path);
	baselen = strlen(base);
	tmp = malloc(dirlen + baselen + sizeof(".") + sizeof(".tmpXXXXXX"));
	if (!tmp)
		return set_errmsg(err, errsz, -ENOMEM, "cannot save the hash cache '%s': %s", path,
			       strerror(ENOMEM));
	memcpy(tmp, path, dirlen);
	tmp[dirlen] = '.';
	memcpy(tmp + dirlen + 1, base, baselen);
	strcpy(tmp + dirlen + 1 + baselen, ".tmpXXXXXX");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		set_errmsg(err, errsz, rc, "cannot create a temporary file next to '%s': %s", path,
			strerror(-rc));
		free(tmp);
		return rc;
	}
	/* A lock nobody holds marks a file as left by a killed run.  It is
	 * held until the rename through a duplicate (the written descriptor
	 * is closed before the rename, where write-back errors show).  Where
	 * flock fails the save goes on unlocked: a sweep may then remove the
	 * file if it stays unrenamed for 2 s, and this save fails (a warning;
	 * nothing else is lost). */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		lockfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	buf = malloc(CHUNK_RECS * REC_SIZE);
	xs = XXH3_createState();
	if (!buf || !xs || XXH3_64bits_reset(xs) != XXH_OK) {
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n;) {
		size_t k = n - i < CHUNK_RECS ? n - i : CHUNK_RECS;

		for (size_t j = 0; j < k; j++)
			encode(buf + j * REC_SIZE, &v[i + j]);
		XXH3_64bits_update(xs, buf, k * REC_SIZE);
		rc = pwrite_full(fd, buf, k * REC_SIZE, off);
		if (rc)
			goto fail;
		off += (off_t)(k * REC_SIZE);
		i += k;
	}
	memcpy(hdr, magic, MAGIC_LEN);
	put_le32(hdr + 24, FORMAT_VERSION);
	put_le32(hdr + 28, REC_SIZE);
	put_le64(hdr + 32, n);
	put_le64(hdr + 40, XXH3_64bits_digest(xs));
	rc = pwrite_full(fd, hdr, HDR_SIZE, 0);
	if (rc)
		goto fail;
	rc = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (rc)
		goto fail;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail;
	}
	sweep_stale_tmp(path);
	goto out;
fail:
	set_errmsg(err, errsz, rc, "cannot save the hash cache '%s': %s", path, strerror(-rc));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	if (lockfd >= 0)
		close(lockfd);
	XXH3_freeState(xs);
	free(buf);
	free(tmp);
	return rc;
}

/* Newest first; (dev, ino) orders entries of the same second. */
static int newest_first(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;

	if (a->recorded_sec != b->recorded_sec)
		return a->recorded_sec > b->recorded_sec ? -1 : 1;
	if (a->k.dev != b->k.dev)
		return a->k.dev < b->k.dev ? -1 : 1;
	if (a->k.ino != b->k.ino)
		return a->k.ino < b->k.ino ? -1 : 1;
	return 0;
}

int hashcache_save_capped(struct hashcache *c, size_t cap, char *err, size_t errsz)
{
	struct table m = {0};
	uint64_t puts;
	bool dirty;
	int fd, rc;

	pthread_mutex_lock(&c->mu);
	dirty = c->puts != c->saved;
	pthread_mutex_unlock(&c->mu);
	if (!dirty)
		return 0;
	if (!c->path)
		return set_errmsg(err, errsz, c->path_err, "cannot save the hash cache: %s",
			       c->path_err == -ENOENT ? "neither XDG_CACHE_HOME nor HOME is set"
						      : strerror(-c->path_err));
	rc = mkdir_parents(c->path, err, errsz);
	if (rc)
		return rc;

	/* What another run may have saved since our open, then ours over it. */
	fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		rc = table_load(&m, fd);
		close(fd);
		if (rc)
			goto fail;
	}
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->t.n && !rc; i++)
		rc = table_put(&m, &c->t.v[i]);
	for (size_t i = 0; i < c->pend.n && !rc; i++)
		rc = table_put(&m, &c->pend.v[i]);
	puts = c->puts;
	pthread_mutex_unlock(&c->mu);
	if (rc)
		goto fail;

	if (m.n > cap) {
		qsort(m.v, m.n, sizeof(*m.v), newest_first);
		m.n = cap;
	}
	rc = write_cache(c->path, m.v, m.n, err, errsz);
	if (!rc) {
		pthread_mutex_lock(&c->mu);
		c->saved = puts;
		pthread_mutex_unlock(&c->mu);
	}
	goto out;
fail:
	set_errmsg(err, errsz, rc, "cannot save the hash cache '%s': %s", c->path, strerror(-rc));
out:
	table_release(&m);
	return rc;
}

int hashcache_save(struct hashcache *c, char *err, size_t errsz)
{
	return hashcache_save_capped(c, HASHCACHE_MAX_ENTRIES, err, errsz);
}

void hashcache_free(struct hashcache **c)
{
	if (!c || !*c)
		return;
	pthread_mutex_destroy(&(*c)->mu);
	table_release(&(*c)->t);
	table_release(&(*c)->pend);
	free((*c)->path);
	free(*c);
	*c = NULL;
}
