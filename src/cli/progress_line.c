/* progress_line.c: the progress line on stderr (see progress_line.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "progress_line.h"
#include "report.h"

#define PERIOD_NS 160000000L /* about six redraws a second */

struct progress_line {
	struct progress *p;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;
	struct timespec start; /* of the writing, for the rate */
	bool writing;
};

int progress_mode_parse(const char *arg, enum progress_mode *out)
{
	if (!strcmp(arg, "auto"))
		*out = PROGRESS_AUTO;
	else if (!strcmp(arg, "always"))
		*out = PROGRESS_ALWAYS;
	else if (!strcmp(arg, "never"))
		*out = PROGRESS_NEVER;
	else {
		usage_error(NULL, "invalid argument '%s' for --progress: expected auto, always or never", arg);
		return -1;
	}
	return 0;
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void draw(struct progress_line *pl)
{
	uint64_t entries = atomic_load(&pl->p->entries), written = atomic_load(&pl->p->written);
	uint64_t total = atomic_load(&pl->p->total);
	double secs, rate;
	char line[256], a[32], b[32];
	int n;

	if (atomic_load(&pl->p->phase) != PROGRESS_WALK && !pl->writing) {
		pl->writing = true;
		clock_gettime(CLOCK_MONOTONIC, &pl->start);
	}
	secs = since(&pl->start);
	rate = secs > 0 ? (double)written / secs : 0;
	if (!pl->writing) {
		n = snprintf(line, sizeof(line), "ctxpack: walking: %llu entries",
			     (unsigned long long)entries);
	} else {
		n = snprintf(line, sizeof(line), "ctxpack: %llu entries, %s %s, %s/s",
			     (unsigned long long)entries, human_size(written, a, sizeof(a)),
			     pl->p->verb ? pl->p->verb : "written",
			     human_size((uint64_t)rate, b, sizeof(b)));
		if (total && written <= total && n > 0 && (size_t)n < sizeof(line)) {
			double left = rate > 0 ? (double)(total - written) / rate : 0;
			n += snprintf(line + n, sizeof(line) - (size_t)n, ", %.0f%%, ETA %d:%02d",
				      100.0 * (double)written / (double)total, (int)left / 60,
				      (int)left % 60);
		}
	}
	(void)n;
	/* \r and erase to the end of the line: one line, redrawn in place. */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
}

static void *run(void *arg)
{
	struct progress_line *pl = arg;
	struct timespec next;

	pthread_mutex_lock(&pl->mu);
	while (!pl->stop) {
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_nsec += PERIOD_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (!pl->stop && pthread_cond_timedwait(&pl->cond, &pl->mu, &next) != ETIMEDOUT)
			;
		if (!pl->stop)
			draw(pl);
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

struct progress_line *progress_line_start(struct progress *p, enum progress_mode mode, bool quiet)
{
	struct progress_line *pl;
	pthread_condattr_t ca;

	if (quiet || mode == PROGRESS_NEVER || (mode == PROGRESS_AUTO && !isatty(STDERR_FILENO)))
		return NULL;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return NULL;
	pl->p = p;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pl->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&pl->thread, NULL, run, pl)) {
		pthread_cond_destroy(&pl->cond);
		pthread_mutex_destroy(&pl->mu);
		free(pl);
		return NULL;
	}
	return pl;
}

void progress_line_stop(struct progress_line **plp)
{
	struct progress_line *pl = *plp;

	if (!pl)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->stop = true;
	pthread_cond_signal(&pl->cond);
	pthread_mutex_unlock(&pl->mu);
	pthread_join(pl->thread, NULL);
	fputs("\r\033[K", stderr); /* cleared: the next message starts clean */
	fflush(stderr);
	pthread_cond_destroy(&pl->cond);
	pthread_mutex_destroy(&pl->mu);
	free(pl);
	*plp = NULL;
}
