/* hashfiles.c: content hashes on worker threads (see hashfiles.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "hashfiles.h"
#include "internal.h"
#include "tarwriter.h"

#define MAX_THREADS 64
#define BLOCK (256u << 10) /* read size: large enough to stream, small enough for L2 */
#define CLAIM_MAX 16       /* files a worker takes at once, at most */

struct job {
	uint8_t (*out)[16];
	const struct walk_entry *const *v;
	size_t n;
	int rootfd;
	struct hashcache *cache;
	struct progress *progress;
	atomic_size_t next;
	size_t claim;         /* files a worker takes at once */
	atomic_uint_least64_t files_read, bytes_read, cached;
	pthread_mutex_t mu;  /* guards the first error */
	atomic_size_t err_at; /* index of the first failing file so far, n: none */
	int rc;
	char err[512];
};

static struct hashcache_key key_of(const struct walk_entry *e)
{
	return (struct hashcache_key){ .dev = e->dev, .ino = e->ino, .size = e->size,
				       .mtime_sec = e->mtime_sec, .mtime_nsec = e->mtime_nsec,
				       .ctime_sec = e->ctime_sec, .ctime_nsec = e->ctime_nsec };
}

/* Reads fd to its end (exactly e->size bytes) into the hash; the file
 * must still be the one walked after its last byte (walk_file_check). */
static int hash_fd(struct job *j, int fd, const struct walk_entry *e, char *buf, XXH3_state_t *st,
		   uint8_t out[16], char *err, size_t errsz)
{
	XXH128_canonical_t c;
	uint64_t got = 0;
	int rc;

	XXH3_128bits_reset(st);
	for (;;) {
		ssize_t n = read(fd, buf, BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, "cannot read '%s': %s", e->path, strerror(errno));
			return -errno;
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
		if (got > e->size)
			break;
		XXH3_128bits_update(st, buf, (size_t)n);
		if (j->progress)
			atomic_fetch_add_explicit(&j->progress->written, (uint64_t)n,
						  memory_order_relaxed);
	}
	rc = walk_file_check(e, fd, WALK_READ, got, NULL, err, errsz);
	if (rc)
		return rc;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	memcpy(out, c.digest, 16);
	atomic_fetch_add_explicit(&j->files_read, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&j->bytes_read, got, memory_order_relaxed);
	if (j->progress)
		atomic_fetch_add_explicit(&j->progress->items, 1, memory_order_relaxed);
	return 0;
}

static void record_error(struct job *j, size_t i, int rc, const char *msg)
{
	pthread_mutex_lock(&j->mu);
	if (i < atomic_load(&j->err_at)) {
		atomic_store(&j->err_at, i);
		j->rc = rc;
		snprintf(j->err, sizeof(j->err), "%s", msg);
	}
	pthread_mutex_unlock(&j->mu);
}

static void *worker(void *arg)
{
	struct job *j = arg;
	struct tar_dir dir = TAR_DIR_INIT;
	char *buf = malloc(BLOCK);
	XXH3_state_t *st = XXH3_createState();
	char err[512];
	uint64_t cached = 0, cached_bytes = 0;
	size_t i = 0, end = 0;

	for (;; i++) {
		const struct walk_entry *e;
		struct hashcache_key k;
		struct timespec start;
		int fd, rc;
		if (i == end) {
			/* Files are claimed a few at a time: one shared counter
			 * touched per file would cost more than a cache hit. */
			i = atomic_fetch_add_explicit(&j->next, j->claim, memory_order_relaxed);
			end = i + j->claim;
		}
		if (i >= j->n)
			break;
		e = j->v[i];
		k = key_of(e);
		if (j->cache && hashcache_get(j->cache, &k, j->out[i])) {
			cached++;
			cached_bytes += e->size;
			continue;
		}
		if (!buf || !st) {
			record_error(j, i, -ENOMEM, "out of memory");
			break;
		}
		/* an earlier file failed: that is the answer */
		if (atomic_load_explicit(&j->err_at, memory_order_relaxed) < i)
			break;
		clock_gettime(CLOCK_REALTIME, &start);
		fd = tar_file_open(j->rootfd, &dir, e, NULL, err, sizeof(err));
		if (fd < 0) {
			record_error(j, i, fd, err);
			continue;
		}
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		rc = hash_fd(j, fd, e, buf, st, j->out[i], err, sizeof(err));
		close(fd);
		if (rc)
			record_error(j, i, rc, err);
		else if (j->cache)
			hashcache_put_since(j->cache, &k, j->out[i], start.tv_sec);
	}
	atomic_fetch_add_explicit(&j->cached, cached, memory_order_relaxed);
	if (j->progress) { /* answered from the cache: done all the same */
		atomic_fetch_add_explicit(&j->progress->written, cached_bytes,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&j->progress->items, cached, memory_order_relaxed);
	}
	free(buf);
	XXH3_freeState(st);
	tar_dir_close(&dir);
	return NULL;
}

int hashfiles(uint8_t (*out)[16], const struct walk_entry *const *v, size_t n, int rootfd,
	      int threads, struct hashcache *cache, struct progress *progress,
	      struct hashfiles_stats *stats, char *err, size_t errsz)
{
	struct job j = { .out = out, .v = v, .n = n, .rootfd = rootfd, .cache = cache,
			 .progress = progress };
	pthread_t tid[MAX_THREADS];
	int started = 0;

	threads = thread_count(threads, MAX_THREADS, n);
	/* Batches only where there are many files: a few large ones are
	 * shared one at a time, or one thread would read them all. */
	j.claim = threads ? n / ((size_t)threads * 64) : 1;
	j.claim = j.claim < 1 ? 1 : j.claim > CLAIM_MAX ? CLAIM_MAX : j.claim;
	atomic_init(&j.err_at, n);
	atomic_init(&j.next, 0);
	atomic_init(&j.files_read, 0);
	atomic_init(&j.bytes_read, 0);
	atomic_init(&j.cached, 0);
	pthread_mutex_init(&j.mu, NULL);
	for (int i = 1; i < threads; i++) {
		if (pthread_create(&tid[started], NULL, worker, &j))
			break; /* fewer threads do the same work */
		started++;
	}
	worker(&j); /* the calling thread works too */
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&j.mu);
	if (stats) {
		stats->files_read = atomic_load(&j.files_read);
		stats->bytes_read = atomic_load(&j.bytes_read);
		stats->cached = atomic_load(&j.cached);
	}
	if (atomic_load(&j.err_at) < n) {
		snprintf(err, errsz, "%s", j.err);
		return j.rc;
	}
	return 0;
}
