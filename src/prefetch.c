/* prefetch.c: small files read ahead of the archiver (see prefetch.h).
 *
 * A ring of PREFETCH_WINDOW slots: file k lives in slot k % WINDOW.  A
 * worker claims the next file when its slot is free (the archiver has
 * taken file k - WINDOW) and the bytes in flight stay under
 * PREFETCH_BYTES; the file the archiver waits for is always allowed, so the
 * window can never stall it.  One mutex guards the counters; the reading
 * itself happens outside it. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "prefetch.h"

#define PREFETCH_WINDOW 256
#define PREFETCH_BYTES (16u << 20)
#define MAX_THREADS 64

struct slot {
	bool ready;
	int rc;
	struct tar_body body;
	char err[256];
};

struct prefetch {
	int rootfd;
	const struct walk_entry *const *v;
	size_t n;
	bool hash;	  /* hash each file's content as it is read */
	size_t next;	  /* the next file a worker claims */
	size_t taken;	  /* files the archiver has taken */
	uint64_t inflight; /* bytes claimed and not yet taken */
	bool stop;
	pthread_mutex_t mu;
	pthread_cond_t claimable; /* a slot or bytes were freed, or stop */
	pthread_cond_t readied;	  /* a slot became ready */
	struct slot ring[PREFETCH_WINDOW];
	int nthreads;
	pthread_t threads[MAX_THREADS];
};

static bool may_claim(const struct prefetch *p)
{
	if (p->next >= p->n || p->next >= p->taken + PREFETCH_WINDOW)
		return false;
	return p->next == p->taken || p->inflight + p->v[p->next]->size <= PREFETCH_BYTES;
}

static void *worker(void *arg)
{
	struct prefetch *p = arg;
	struct tar_dir dir = TAR_DIR_INIT; /* consecutive files share directories */

	pthread_mutex_lock(&p->mu);
	for (;;) {
		size_t k;
		struct slot *s;
		while (!p->stop && p->next < p->n && !may_claim(p))
			pthread_cond_wait(&p->claimable, &p->mu);
		if (p->stop || p->next >= p->n)
			break;
		k = p->next++;
		p->inflight += p->v[k]->size;
		pthread_mutex_unlock(&p->mu);

		s = &p->ring[k % PREFETCH_WINDOW];
		s->rc = tar_body_open(&s->body, p->rootfd, &dir, p->v[k], false, true, s->err,
				      sizeof(s->err));
		if (!s->rc && p->hash)
			tar_body_hash_data(&s->body);

		pthread_mutex_lock(&p->mu);
		s->ready = true;
		pthread_cond_broadcast(&p->readied);
	}
	pthread_mutex_unlock(&p->mu);
	tar_dir_close(&dir);
	return NULL;
}

int prefetch_start(struct prefetch **out, int rootfd, const struct walk_entry *const *v, size_t n,
		   int threads, bool hash)
{
	struct prefetch *p;
	int rc = 0;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->rootfd = rootfd;
	p->v = v;
	p->n = n;
	p->hash = hash;
	threads = thread_count(threads, MAX_THREADS, n);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->claimable, NULL);
	pthread_cond_init(&p->readied, NULL);
	for (int i = 0; i < threads; i++) {
		rc = -pthread_create(&p->threads[i], NULL, worker, p);
		if (rc)
			break;
		p->nthreads++;
	}
	if (rc && !p->nthreads) {
		prefetch_stop(&p);
		return rc;
	}
	*out = p; /* fewer threads than asked still make progress */
	return 0;
}

int prefetch_take(struct prefetch *p, struct tar_body *b, char *err, size_t errsz)
{
	struct slot *s;
	int rc;

	pthread_mutex_lock(&p->mu);
	if (p->taken >= p->n) {
		pthread_mutex_unlock(&p->mu);
		return -EINVAL;
	}
	s = &p->ring[p->taken % PREFETCH_WINDOW];
	while (!s->ready)
		pthread_cond_wait(&p->readied, &p->mu);
	/* Moved out before taken passes the slot: from then on a worker may
	 * claim it again. */
	*b = s->body;
	rc = s->rc;
	if (rc && err && errsz)
		snprintf(err, errsz, "%s", s->err);
	memset(&s->body, 0, sizeof(s->body));
	s->body.fd = -1;
	s->ready = false;
	p->inflight -= p->v[p->taken]->size;
	p->taken++;
	pthread_cond_broadcast(&p->claimable);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void prefetch_stop(struct prefetch **pp)
{
	struct prefetch *p = *pp;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->claimable);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* Claimed but never taken: their bodies are complete (a worker
	 * finishes what it claimed before it looks at stop). */
	for (size_t k = p->taken; k < p->next; k++)
		tar_body_free(&p->ring[k % PREFETCH_WINDOW].body);
	pthread_cond_destroy(&p->readied);
	pthread_cond_destroy(&p->claimable);
	pthread_mutex_destroy(&p->mu);
	free(p);
	*pp = NULL;
}
