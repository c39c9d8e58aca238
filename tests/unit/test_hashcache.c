/* test_hashcache.c: content hashes remembered between runs (src/hashcache.c).
 *
 * The racy rule (an entry recorded in the same second as the file's times
 * is never trusted, before or after a save), every key field taking part,
 * saving and reopening, damaged files read as an empty cache and replaced,
 * saves of several processes at once leaving one whole file and no
 * temporary files, several threads putting and getting at once, the
 * default path, and the entry cap (oldest recorded dropped first).  Files
 * in the documented format are also written here independently, so the
 * format is checked and not only the module against itself.
 *
 * The concurrent-save test forks (CONVENTIONS.md keeps tests in-process;
 * several processes saving at once cannot be had otherwise): the children
 * run the code under test too, under the same sanitizer or valgrind, and a
 * child's failure is its exit status. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "hashcache.h"

#define HDR_SIZE 48
#define REC_SIZE 72

struct fixture {
	char dir[64];
	char path[128]; /* dir/a/b/hashes: save creates a and b */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_hashcache.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/a/b/hashes", f->dir);
	*state = f;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(p) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	free(f);
	return rc;
}

static int64_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

/* The second the tests started: keys must not move with the clock. */
static int64_t start_sec;

/* Key i: a file last changed age seconds before the tests started. */
static struct hashcache_key key_of(uint64_t i, int64_t age)
{
	int64_t t = start_sec - age;

	return (struct hashcache_key){
		.dev = 2049 + (i & 1),
		.ino = 1000 + i,
		.size = i * 37,
		.mtime_sec = t - 5,
		.mtime_nsec = (uint32_t)(i * 7919 % 1000000000),
		.ctime_sec = t,
		.ctime_nsec = (uint32_t)(i * 104729 % 1000000000),
	};
}

static void hash_of(uint8_t h[16], uint64_t i, uint8_t salt)
{
	for (int j = 0; j < 16; j++)
		h[j] = (uint8_t)(i >> (j % 8 * 8)) ^ (uint8_t)(j * 31) ^ salt;
}

static void put_i(struct hashcache *c, uint64_t i, int64_t age)
{
	struct hashcache_key k = key_of(i, age);
	uint8_t h[16];

	hash_of(h, i, 0);
	hashcache_put(c, &k, h);
}

/* Whether k hits with hash_of(i, salt). */
static bool hits_as(struct hashcache *c, const struct hashcache_key *k, uint64_t i, uint8_t salt)
{
	uint8_t got[16], want[16];

	memset(got, 0xee, sizeof(got));
	if (!hashcache_get(c, k, got))
		return false;
	hash_of(want, i, salt);
	assert_memory_equal(got, want, 16);
	return true;
}

static void open_ok(struct hashcache **c, const char *path)
{
	char err[256] = "";

	if (hashcache_open(c, path, err, sizeof(err)))
		fail_msg("open '%s': %s", path, err);
	assert_non_null(*c);
}

static void save_ok(struct hashcache *c)
{
	char err[256] = "";

	if (hashcache_save(c, err, sizeof(err)))
		fail_msg("save: %s", err);
}

static void assert_counts(struct hashcache *c, uint64_t hits, uint64_t misses)
{
	uint64_t h, m;

	hashcache_counts(c, &h, &m);
	assert_int_equal(h, hits);
	assert_int_equal(m, misses);
}

static uint8_t *read_all(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	buf = malloc(*len + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, *len), (ssize_t)*len);
	close(fd);
	return buf;
}

static void write_all(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void set_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* No temporary file (nor anything else but the cache) is left next to it. */
static void assert_alone(const char *path)
{
	char dir[128];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, "hashes"))
			fail_msg("left in '%s': '%s'", dir, de->d_name);
	closedir(d);
}

/* 1. The racy rule and every field of the key. */
static void test_racy_and_fields(void **state)
{
	struct fixture *f = *state;
	struct hashcache *c;
	struct hashcache_key k, km, kc, v;
	uint8_t h[16];
	uint64_t misses = 0;
	int tries;

	open_ok(&c, f->path);
	assert_counts(c, 0, 0);

	/* Times in the second of the put: racy.  The put's second is only
	 * known to be ours when the clock reads the same after it. */
	for (tries = 0; tries < 5; tries++) {
		int64_t t0 = now_sec();

		k = key_of(1, 0);
		k.mtime_sec = k.ctime_sec = t0;
		hash_of(h, 1, 0);
		hashcache_put(c, &k, h);
		/* Only one of the times in that second is enough. */
		km = key_of(5, 10);
		km.mtime_sec = t0;
		hashcache_put(c, &km, h);
		kc = key_of(6, 10);
		kc.ctime_sec = t0;
		hashcache_put(c, &kc, h);
		if (now_sec() == t0)
			break;
	}
	assert_true(tries < 5);
	assert_false(hashcache_get(c, &k, h));
	assert_false(hashcache_get(c, &km, h));
	assert_false(hashcache_get(c, &kc, h));
	misses += 3;

	/* Either time alone in the future (or now) is enough to distrust. */
	k = key_of(2, 10);
	k.ctime_sec = now_sec() + 100;
	put_i(c, 2, 0); /* another key for inode 2, replaced just below */
	hash_of(h, 2, 0);
	hashcache_put(c, &k, h);
	assert_false(hashcache_get(c, &k, h));
	misses++;
	k = key_of(3, 10);
	k.mtime_sec = now_sec() + 100;
	hashcache_put(c, &k, h);
	assert_false(hashcache_get(c, &k, h));
	misses++;

	/* Ten seconds old: trusted. */
	k = key_of(4, 10);
	hash_of(h, 4, 0);
	hashcache_put(c, &k, h);
	assert_true(hits_as(c, &k, 4, 0));

	/* Any one field different misses. */
	for (int field = 0; field < 7; field++) {
		v = k;
		switch (field) {
		case 0:
			v.dev++;
			break;
		case 1:
			v.ino++;
			break;
		case 2:
			v.size++;
			break;
		case 3:
			v.mtime_sec--;
			break;
		case 4:
			v.mtime_nsec++;
			break;
		case 5:
			v.ctime_sec--;
			break;
		case 6:
			v.ctime_nsec++;
			break;
		}
		if (hashcache_get(c, &v, h))
			fail_msg("field %d changed, still a hit", field);
		misses++;
	}
	assert_true(hits_as(c, &k, 4, 0));

	/* A put replaces the inode's entry: the old key misses from then on. */
	v = k;
	v.size += 100;
	hash_of(h, 4, 0x55);
	hashcache_put(c, &v, h);
	assert_false(hashcache_get(c, &k, h));
	misses++;
	assert_true(hits_as(c, &v, 4, 0x55));

	assert_counts(c, 3, misses);
	hashcache_counts(c, NULL, NULL);
	hashcache_free(&c);
	assert_null(c);
	hashcache_free(&c);
}

/* 2. Saved and opened again; the format as documented. */
static void test_save_reopen(void **state)
{
	struct fixture *f = *state;
	struct hashcache *c;
	struct hashcache_key k;
	struct stat st;
	uint8_t *buf;
	size_t len;
	char dir[128];

	/* Nothing put: nothing written. */
	open_ok(&c, f->path);
	save_ok(c);
	assert_int_equal(stat(f->path, &st), -1);
	for (uint64_t i = 0; i < 1000; i++)
		put_i(c, i, 60);
	save_ok(c);
	hashcache_free(&c);

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(dir, sizeof(dir), "%s/a", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_alone(f->path);

	buf = read_all(f->path, &len);
	assert_int_equal(len, HDR_SIZE + 1000 * REC_SIZE);
	assert_memory_equal(buf, "ctxpack-hashcache\0\0\0\0\0\0\0", 24);
	assert_memory_equal(buf + 24, "\1\0\0\0\x48\0\0\0", 8);
	assert_int_equal(le64(buf + 32), 1000);
	assert_int_equal(le64(buf + 40), XXH3_64bits(buf + HDR_SIZE, len - HDR_SIZE));
	free(buf);

	open_ok(&c, f->path);
	for (uint64_t i = 0; i < 1000; i++) {
		k = key_of(i, 60);
		if (!hits_as(c, &k, i, 0))
			fail_msg("entry %ju lost", (uintmax_t)i);
	}
	k = key_of(1000, 60);
	assert_false(hits_as(c, &k, 1000, 0));
	assert_counts(c, 1000, 1);

	/* Reopened and not changed: a save leaves the file alone. */
	assert_int_equal(unlink(f->path), 0);
	save_ok(c);
	assert_int_equal(stat(f->path, &st), -1);
	/* After a put it is written again, and saving twice writes once. */
	put_i(c, 5, 60);
	save_ok(c);
	assert_int_equal(unlink(f->path), 0);
	save_ok(c);
	assert_int_equal(stat(f->path, &st), -1);
	hashcache_free(&c);
}

/* 3. Damaged files read as empty and are replaced by the next save. */
static void test_damaged(void **state)
{
	struct fixture *f = *state;
	struct hashcache *c;
	struct hashcache_key k;
	uint8_t *good, *bad;
	size_t len;
	const size_t n = 50;

	open_ok(&c, f->path);
	for (uint64_t i = 0; i < n; i++)
		put_i(c, i, 60);
	save_ok(c);
	hashcache_free(&c);
	good = read_all(f->path, &len);
	bad = malloc(len + 4096);
	assert_non_null(bad);

	for (int variant = 0;; variant++) {
		size_t blen = len;

		memcpy(bad, good, len);
		switch (variant) {
		case 0: /* empty */
			blen = 0;
			break;
		case 1: /* part of the header */
			blen = 20;
			break;
		case 2: /* a record cut short */
			blen = len - 1;
			break;
		case 3: /* a record missing */
			blen = len - REC_SIZE;
			break;
		case 4: /* a byte too many */
			bad[len] = 0;
			blen = len + 1;
			break;
		case 5: /* a hash bit */
			bad[HDR_SIZE + 7 * REC_SIZE + 60] ^= 1;
			break;
		case 6: /* mtime_nsec */
			bad[HDR_SIZE + 3 * REC_SIZE + 33] ^= 0x80;
			break;
		case 7: /* the checksum */
			bad[40] ^= 1;
			break;
		case 8: /* the magic */
			bad[3] = 'X';
			break;
		case 9: /* the version */
			bad[24] = 2;
			break;
		case 10: /* the record size */
			bad[28] = 64;
			break;
		case 11: /* the count */
			set_le(bad + 32, n + 1, 8);
			break;
		case 12:
			set_le(bad + 32, n - 1, 8);
			break;
		case 13: /* one record fewer, count fixed, checksum not */
			blen = len - REC_SIZE;
			set_le(bad + 32, n - 1, 8);
			break;
		case 14: /* a consistent file from another program */
			set_le(bad + HDR_SIZE + 32, 1000000000, 4);
			set_le(bad + 40, XXH3_64bits(bad + HDR_SIZE, len - HDR_SIZE), 8);
			break;
		case 15: /* garbage */
			blen = 4000;
			for (size_t i = 0; i < blen; i++)
				bad[i] = (uint8_t)(i * 2654435761u >> 13);
			break;
		default:
			goto done;
		}
		write_all(f->path, bad, blen);

		open_ok(&c, f->path);
		for (uint64_t i = 0; i < n; i++) {
			k = key_of(i, 60);
			if (hits_as(c, &k, i, 0))
				fail_msg("variant %d: entry %ju read from a damaged file", variant,
					 (uintmax_t)i);
		}
		put_i(c, n + 1, 60);
		save_ok(c);
		hashcache_free(&c);
		assert_alone(f->path);

		open_ok(&c, f->path);
		k = key_of(n + 1, 60);
		if (!hits_as(c, &k, n + 1, 0))
			fail_msg("variant %d: the saved entry is missing", variant);
		k = key_of(0, 60);
		assert_false(hits_as(c, &k, 0, 0));
		hashcache_free(&c);
	}
done:
	free(bad);
	free(good);
}

/* A directory where the file should be: an empty cache, and a save that
 * fails naming the path, leaving no temporary file behind. */
static void test_save_fails(void **state)
{
	struct fixture *f = *state;
	struct hashcache *c;
	char err[256] = "";
	char sub[160];

	snprintf(sub, sizeof(sub), "%s/a", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/a/b", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);

	open_ok(&c, f->path);
	put_i(c, 1, 60);
	assert_int_equal(hashcache_save(c, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, f->path));
	assert_int_equal(rmdir(f->path), 0);
	assert_alone(f->path);

	/* A parent that is a file. */
	snprintf(sub, sizeof(sub), "%s/hashes", f->path);
	write_all(f->path, "x", 1);
	hashcache_free(&c);
	open_ok(&c, sub);
	put_i(c, 1, 60);
	err[0] = '\0';
	assert_int_equal(hashcache_save(c, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, f->path));
	hashcache_free(&c);
}

/* Child of test_concurrent_saves: puts its set, waits at the gate, saves. */
static void saver(const char *path, int who, int gate)
{
	struct hashcache *c;
	char err[256], ch;
	int rc;

	if (hashcache_open(&c, path, err, sizeof(err)))
		_exit(2);
	for (uint64_t i = 0; i < 1000; i++)
		put_i(c, (uint64_t)who * 100000 + i, 60);
	while (read(gate, &ch, 1) < 0 && errno == EINTR)
		;
	rc = hashcache_save(c, err, sizeof(err));
	hashcache_free(&c);
	_exit(rc ? 3 : 0);
}

/* How many of process who's entries hit, but for its entry skip. */
static int present(struct hashcache *c, int who, uint64_t skip)
{
	int hits = 0;

	for (uint64_t i = 0; i < 1000; i++) {
		struct hashcache_key k = key_of((uint64_t)who * 100000 + i, 60);

		if (i != skip)
			hits += hits_as(c, &k, (uint64_t)who * 100000 + i, 0);
	}
	return hits;
}

/* 4. Several processes saving at once leave one whole file: each saver's
 * set is all there or not at all, at least one is there, and no temporary
 * file is left.  Saves one after the other merge: the union is there, and
 * the later saver's entry wins for an inode both have. */
static void test_concurrent_saves(void **state)
{
	struct fixture *f = *state;
	enum { NPROC = 3, ROUNDS = 4 };
	struct hashcache *c, *c2;
	struct hashcache_key k;
	uint8_t h[16];

	for (int round = 0; round < ROUNDS; round++) {
		pid_t pid[NPROC];
		int gate[2], full = 0;

		unlink(f->path);
		assert_int_equal(pipe(gate), 0);
		for (int p = 0; p < NPROC; p++) {
			pid[p] = fork();
			assert_true(pid[p] >= 0);
			if (pid[p] == 0) {
				close(gate[1]);
				saver(f->path, p + 1, gate[0]);
			}
		}
		close(gate[0]);
		close(gate[1]); /* all go */
		for (int p = 0; p < NPROC; p++) {
			int status;

			assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				fail_msg("round %d: saver %d: status %#x", round, p + 1, status);
		}
		assert_alone(f->path);
		open_ok(&c, f->path);
		for (int p = 1; p <= NPROC; p++) {
			int n = present(c, p, UINT64_MAX);

			if (n != 0 && n != 1000)
				fail_msg("round %d: %d of saver %d's entries", round, n, p);
			full += n == 1000;
		}
		assert_true(full >= 1);
		hashcache_free(&c);
	}

	/* One after the other, both opened before either saved. */
	unlink(f->path);
	open_ok(&c, f->path);
	open_ok(&c2, f->path);
	for (uint64_t i = 0; i < 1000; i++) {
		put_i(c, 100000 + i, 60);
		put_i(c2, 200000 + i, 60);
	}
	k = key_of(100000 + 7, 60); /* c2 hashed inode 100007 again, differently */
	hash_of(h, 100007, 0x33);
	hashcache_put(c2, &k, h);
	save_ok(c);
	save_ok(c2);
	hashcache_free(&c);
	hashcache_free(&c2);
	assert_alone(f->path);
	open_ok(&c, f->path);
	assert_int_equal(present(c, 2, UINT64_MAX), 1000);
	assert_int_equal(present(c, 1, 7), 999);
	assert_true(hits_as(c, &k, 100007, 0x33));
	hashcache_free(&c);
}

struct worker {
	struct hashcache *c;
	int id;
	uint64_t hits, misses;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint8_t h[16];

	for (uint64_t i = 0; i < 3000; i++) {
		uint64_t mine = (uint64_t)w->id * 100000 + i;
		uint64_t theirs = (uint64_t)((w->id + 1) % 4) * 100000 + i;
		struct hashcache_key k = key_of(mine, 60);

		/* Not put yet: a miss. */
		if (hashcache_get(w->c, &k, h))
			return "hit before the put";
		w->misses++;
		put_i(w->c, mine, 60);
		if (!hits_as(w->c, &k, mine, 0))
			return "miss after the put";
		w->hits++;
		k = key_of(theirs, 60);
		if (hits_as(w->c, &k, theirs, 0))
			w->hits++;
		else
			w->misses++;
	}
	return NULL;
}

/* 5. Threads putting and getting at once. */
static void test_threads(void **state)
{
	struct fixture *f = *state;
	struct worker w[4];
	pthread_t t[4];
	struct hashcache *c;
	uint64_t hits = 0, misses = 0;

	open_ok(&c, f->path);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.c = c, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *res;

		assert_int_equal(pthread_join(t[i], &res), 0);
		if (res)
			fail_msg("thread %d: %s", i, (const char *)res);
		hits += w[i].hits;
		misses += w[i].misses;
	}
	assert_counts(c, hits, misses);
	for (int i = 0; i < 4; i++)
		for (uint64_t j = 0; j < 3000; j++) {
			struct hashcache_key k = key_of((uint64_t)i * 100000 + j, 60);

			if (!hits_as(c, &k, (uint64_t)i * 100000 + j, 0))
				fail_msg("thread %d's entry %ju is missing", i, (uintmax_t)j);
		}
	hashcache_free(&c);
}

/* 6. A racy entry is saved, and not trusted after the reopen either. */
static void test_racy_after_save(void **state)
{
	struct fixture *f = *state;
	struct hashcache *c;
	struct hashcache_key k, old = key_of(2, 60);
	uint8_t h[16], *buf;
	size_t len;
	int64_t t0 = 0, recorded = 0;
	int tries;

	open_ok(&c, f->path);
	put_i(c, 2, 60);
	for (tries = 0; tries < 5; tries++) {
		t0 = now_sec();
		k = key_of(1, 0);
		k.mtime_sec = k.ctime_sec = t0;
		hash_of(h, 1, 0);
		hashcache_put(c, &k, h);
		if (now_sec() == t0)
			break;
	}
	assert_true(tries < 5);
	save_ok(c);
	hashcache_free(&c);

	/* Both entries are in the file, the racy one recorded in t0. */
	buf = read_all(f->path, &len);
	assert_int_equal(le64(buf + 32), 2);
	for (int r = 0; r < 2; r++) {
		const uint8_t *rec = buf + HDR_SIZE + r * REC_SIZE;

		if (le64(rec + 8) == k.ino)
			recorded = (int64_t)le64(rec + 48);
	}
	assert_int_equal(recorded, t0);
	free(buf);

	open_ok(&c, f->path);
	assert_false(hashcache_get(c, &k, h));
	assert_true(hits_as(c, &old, 2, 0));
	assert_counts(c, 1, 1);
	hashcache_free(&c);
}

struct env_saved {
	char *xdg, *home;
};

static void env_save(struct env_saved *s)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");

	s->xdg = x ? strdup(x) : NULL;
	s->home = h ? strdup(h) : NULL;
}

static void env_set(const char *name, const char *v)
{
	if (v)
		setenv(name, v, 1);
	else
		unsetenv(name);
}

static void env_restore(struct env_saved *s)
{
	env_set("XDG_CACHE_HOME", s->xdg);
	env_set("HOME", s->home);
	free(s->xdg);
	free(s->home);
}

static void assert_default(const char *xdg, const char *home, const char *want)
{
	char buf[256];

	env_set("XDG_CACHE_HOME", xdg);
	env_set("HOME", home);
	memset(buf, 'x', sizeof(buf));
	if (hashcache_default_path(buf, sizeof(buf)))
		fail_msg("XDG_CACHE_HOME='%s' HOME='%s': no path", xdg ? xdg : "(unset)",
			 home ? home : "(unset)");
	assert_string_equal(buf, want);
}

/* 7. The default path, and open(NULL) using it. */
static void test_default_path(void **state)
{
	struct fixture *f = *state;
	struct env_saved saved;
	struct hashcache *c;
	struct hashcache_key k = key_of(3, 60);
	struct stat st;
	char buf[64], xdg[128], want[160], err[256] = "";

	env_save(&saved);
	assert_default("/x/cache", "/home/u", "/x/cache/ctxpack/hashes");
	assert_default("/x/cache/", "/home/u", "/x/cache/ctxpack/hashes");
	assert_default("/x/cache", NULL, "/x/cache/ctxpack/hashes");
	assert_default("relative/cache", "/home/u", "/home/u/.cache/ctxpack/hashes");
	assert_default("", "/home/u", "/home/u/.cache/ctxpack/hashes");
	assert_default(NULL, "/home/u", "/home/u/.cache/ctxpack/hashes");
	assert_default(NULL, "/home/u/", "/home/u/.cache/ctxpack/hashes");
	assert_default(NULL, "/", "/.cache/ctxpack/hashes");

	env_set("XDG_CACHE_HOME", NULL);
	env_set("HOME", NULL);
	assert_int_equal(hashcache_default_path(buf, sizeof(buf)), -ENOENT);
	env_set("XDG_CACHE_HOME", "relative");
	env_set("HOME", "");
	assert_int_equal(hashcache_default_path(buf, sizeof(buf)), -ENOENT);

	/* Exactly fitting, and a byte short. */
	env_set("XDG_CACHE_HOME", "/c");
	assert_int_equal(hashcache_default_path(buf, sizeof("/c/ctxpack/hashes")), 0);
	assert_string_equal(buf, "/c/ctxpack/hashes");
	assert_int_equal(hashcache_default_path(buf, sizeof("/c/ctxpack/hashes") - 1),
			 -ENAMETOOLONG);

	/* open(NULL) with no place: an empty cache, and a save with nothing
	 * put is no failure; after a put it fails and says why. */
	env_set("XDG_CACHE_HOME", NULL);
	env_set("HOME", NULL);
	open_ok(&c, NULL);
	save_ok(c);
	put_i(c, 3, 60);
	assert_int_equal(hashcache_save(c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "HOME"));
	hashcache_free(&c);

	/* open(NULL) under XDG_CACHE_HOME: the directories are created. */
	snprintf(xdg, sizeof(xdg), "%s/xdg", f->dir);
	snprintf(want, sizeof(want), "%s/ctxpack/hashes", xdg);
	env_set("XDG_CACHE_HOME", xdg);
	open_ok(&c, NULL);
	put_i(c, 3, 60);
	save_ok(c);
	hashcache_free(&c);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(stat(xdg, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	open_ok(&c, want);
	assert_true(hits_as(c, &k, 3, 0));
	hashcache_free(&c);
	env_restore(&saved);
}

/* A cache file of v's entries, written here from the format's description. */
struct rec {
	struct hashcache_key k;
	int64_t recorded;
	uint64_t i;
};

static void write_cache_file(const char *path, const struct rec *v, size_t n)
{
	size_t len = HDR_SIZE + n * REC_SIZE;
	uint8_t *buf = calloc(1, len);

	assert_non_null(buf);
	memcpy(buf, "ctxpack-hashcache", 17);
	set_le(buf + 24, 1, 4);
	set_le(buf + 28, REC_SIZE, 4);
	set_le(buf + 32, n, 8);
	for (size_t r = 0; r < n; r++) {
		uint8_t *p = buf + HDR_SIZE + r * REC_SIZE;

		set_le(p, v[r].k.dev, 8);
		set_le(p + 8, v[r].k.ino, 8);
		set_le(p + 16, v[r].k.size, 8);
		set_le(p + 24, (uint64_t)v[r].k.mtime_sec, 8);
		set_le(p + 32, v[r].k.mtime_nsec, 4);
		set_le(p + 36, (uint64_t)v[r].k.ctime_sec, 8);
		set_le(p + 44, v[r].k.ctime_nsec, 4);
		set_le(p + 48, (uint64_t)v[r].recorded, 8);
		hash_of(p + 56, v[r].i, 0);
	}
	set_le(buf + 40, XXH3_64bits(buf + HDR_SIZE, n * REC_SIZE), 8);
	write_all(path, buf, len);
	free(buf);
}

/* 8. Over the cap, the oldest recorded entries go first; ours are newest.
 * The file read here was written by this test, not by the module. */
static void test_cap(void **state)
{
	struct fixture *f = *state;
	struct rec v[10];
	struct hashcache *c;
	struct hashcache_key k;
	char err[256] = "", dir[128];
	uint8_t *buf;
	size_t len;

	/* Recorded out of order, long ago, files older still. */
	for (size_t r = 0; r < 10; r++) {
		uint64_t i = 500 + r;

		v[r].i = i;
		v[r].k = key_of(i, 0);
		v[r].k.mtime_sec = 100000;
		v[r].k.ctime_sec = 100001;
		v[r].recorded = 1000000 + (int64_t)(r * 7 % 10);
	}
	snprintf(dir, sizeof(dir), "%s/a", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/a/b", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_cache_file(f->path, v, 10);

	open_ok(&c, f->path);
	for (size_t r = 0; r < 10; r++)
		assert_true(hits_as(c, &v[r].k, v[r].i, 0));
	for (uint64_t i = 0; i < 3; i++)
		put_i(c, i, 60);
	if (hashcache_save_capped(c, 8, err, sizeof(err)))
		fail_msg("save: %s", err);
	hashcache_free(&c);

	buf = read_all(f->path, &len);
	assert_int_equal(len, HDR_SIZE + 8 * REC_SIZE);
	free(buf);
	open_ok(&c, f->path);
	for (uint64_t i = 0; i < 3; i++) {
		k = key_of(i, 60);
		assert_true(hits_as(c, &k, i, 0));
	}
	for (size_t r = 0; r < 10; r++) {
		bool kept = v[r].recorded - 1000000 >= 5;

		if (hits_as(c, &v[r].k, v[r].i, 0) != kept)
			fail_msg("entry recorded at +%jd %s", (intmax_t)(v[r].recorded - 1000000),
				 kept ? "dropped" : "kept");
	}
	hashcache_free(&c);

	/* At the cap exactly, nothing goes. */
	open_ok(&c, f->path);
	put_i(c, 0, 60);
	if (hashcache_save_capped(c, 8, err, sizeof(err)))
		fail_msg("save: %s", err);
	hashcache_free(&c);
	buf = read_all(f->path, &len);
	assert_int_equal(len, HDR_SIZE + 8 * REC_SIZE);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_racy_and_fields),
		T(test_save_reopen),
		T(test_damaged),
		T(test_save_fails),
		T(test_concurrent_saves),
		T(test_threads),
		T(test_racy_after_save),
		T(test_default_path),
		T(test_cap),
#undef T
	};

	start_sec = now_sec();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
