/* progress_line.c: the progress line on stderr (see progress_line.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "progress_line.h"
#include "report.h"

#define PERIOD_NS 160000000L /* about six redraws a second */
#define NSAMPLES 32          /* more than RATE_WINDOW holds */
#define RATE_WINDOW 3.0      /* seconds the rate is measured over */
#define RATE_MIN_SPAN 0.5    /* before that, no rate is shown */

struct progress_line {
	struct progress *p;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;
	/* (time, bytes) samples for the rate, a ring */
	struct sample {
		double t;
		uint64_t written;
	} samples[NSAMPLES];
	size_t nsamples, next_sample;
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

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The rate over the samples of the last RATE_WINDOW seconds, once they span
 * RATE_MIN_SPAN: a first sample taken just after the writing began saw
 * bytes that piled up in no time (a pipe's buffer filling) and read as
 * hundreds of TiB/s.  -1 while there is too little to tell. */
static double rate_of(struct progress_line *pl, double t, uint64_t written)
{
	size_t oldest = pl->nsamples < NSAMPLES ? 0 : pl->next_sample;
	double rate = -1;

	for (size_t k = 0; k < pl->nsamples; k++) {
		const struct sample *sm = &pl->samples[(oldest + k) % NSAMPLES];
		if (t - sm->t <= RATE_WINDOW) {
			if (t - sm->t >= RATE_MIN_SPAN && written >= sm->written)
				rate = (double)(written - sm->written) / (t - sm->t);
			break;
		}
	}
	pl->samples[pl->next_sample] = (struct sample){ t, written };
	pl->next_sample = (pl->next_sample + 1) % NSAMPLES;
	if (pl->nsamples < NSAMPLES)
		pl->nsamples++;
	return rate;
}

/* The terminal's width in columns, or 0 when it cannot be told. */
static size_t columns(void)
{
	struct winsize ws;

	return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

/* Appends printf output to line[*n..): what does not fit is dropped. */
static void add(char *line, size_t size, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(char *line, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n >= size - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(line + *n, size - *n, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n = *n + (size_t)k < size - 1 ? *n + (size_t)k : size - 1;
}

/* The line (ASCII only: every byte is a column), cut to the terminal's
 * width less one, so that it never wraps: a wrapped line is not redrawn in
 * place and leaves its earlier rows behind. */
static void draw(struct progress_line *pl)
{
	uint64_t entries = atomic_load(&pl->p->entries), written = atomic_load(&pl->p->written);
	uint64_t total = atomic_load(&pl->p->total), items = atomic_load(&pl->p->items);
	uint64_t items_total = atomic_load(&pl->p->items_total);
	const char *verb = pl->p->verb ? pl->p->verb : "written";
	/* hashing counts files; the archiver, members */
	const char *noun = pl->p->verb ? "files" : "members";
	char line[256], a[32], b[32];
	size_t n = 0, cols = columns();
	double rate;

	if (atomic_load(&pl->p->phase) == PROGRESS_WALK) {
		add(line, sizeof(line), &n, "ctxpack: scanning: %llu entries",
		    (unsigned long long)entries);
	} else {
		/* most telling first: a narrow terminal cuts from the right */
		bool known = total && written <= total;
		rate = rate_of(pl, now_s(), written);
		add(line, sizeof(line), &n, "ctxpack: ");
		if (known)
			add(line, sizeof(line), &n, "%.0f%%, ", 100.0 * (double)written / (double)total);
		add(line, sizeof(line), &n, "%s", human_size(written, a, sizeof(a)));
		if (known)
			add(line, sizeof(line), &n, " of %s", human_size(total, b, sizeof(b)));
		add(line, sizeof(line), &n, " %s", verb);
		if (rate >= 0)
			add(line, sizeof(line), &n, ", %s/s", human_size((uint64_t)rate, a, sizeof(a)));
		if (known && rate > 0) {
			double left = (double)(total - written) / rate;
			add(line, sizeof(line), &n, ", ETA %d:%02d", (int)left / 60, (int)left % 60);
		}
		add(line, sizeof(line), &n, ", %llu", (unsigned long long)items);
		if (items_total)
			add(line, sizeof(line), &n, "/%llu", (unsigned long long)items_total);
		add(line, sizeof(line), &n, " %s", noun);
	}
	if (cols > 1 && n > cols - 1)
		n = cols - 1;
	/* \r and erase to the end of the line: one line, redrawn in place. */
	fprintf(stderr, "\r%.*s\033[K", (int)n, line);
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
