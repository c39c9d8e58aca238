/* bktrace.c: PLACEHOLDER for BuildKit's progress decoder (bktrace.h): it
 * checks that each message is base64 and counts them; the real decoder
 * replaces this file.  Until then a BuildKit build through `ctxpack build`
 * shows one line, the count, instead of the build's steps. */
#include <errno.h>
#include <stdlib.h>

#include "bktrace.h"

struct bktrace {
	FILE *out;
	enum bktrace_mode mode;
	unsigned long messages;
};

struct bktrace *bktrace_new(FILE *out, enum bktrace_mode mode)
{
	struct bktrace *t = calloc(1, sizeof(*t));

	if (t) {
		t->out = out;
		t->mode = mode;
	}
	return t;
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

int bktrace_feed_base64(struct bktrace *t, const char *b64, size_t n)
{
	if (n % 4)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (!b64_char(b64[i]))
			return -EBADMSG;
	t->messages++;
	return 0;
}

void bktrace_finish(struct bktrace *t)
{
	if (t->mode != BKTRACE_QUIET)
		fprintf(t->out, "#0 BuildKit progress: %lu trace messages (not decoded)\n",
			t->messages);
	fflush(t->out);
}

void bktrace_free(struct bktrace *t)
{
	free(t);
}
