/* fuzz_bktrace.c: fuzz target for BuildKit's progress (src/bktrace.c).
 *
 * Input: the first byte picks the mode (bits 0-1: plain, tty, quiet;
 * quiet for 3 too); then messages, each a 2-byte little-endian length and
 * that many bytes (a length past the end takes what is left).  Each
 * message's bytes go to one trace as protobuf (bktrace_feed) and, base64
 * encoded here, to a second trace (bktrace_feed_base64); a message whose
 * length has bit 15 set goes to the second trace as it is, as base64 text
 * (then the traces part, unless it is refused).
 *
 * Promises checked (a broken one aborts): every call returns 0, -EBADMSG
 * or -ENOMEM; a refused message changes neither the counts nor the
 * output; bytes and their base64 get the same answer, and both traces,
 * fed the same messages, render the same bytes; the counts hold together
 * (completed, cached and errors at most the vertexes; a failure named only
 * with an error counted); the tty view writes no escape sequence but its
 * own (a vertex's name cannot drive the terminal). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bktrace.h"

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_bktrace: %s\n", what);
	abort();
}

static char *b64(const uint8_t *p, size_t n, size_t *outn)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t x = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			x |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			x |= p[i + 2];
		*q++ = a[x >> 18 & 63];
		*q++ = a[x >> 12 & 63];
		*q++ = i + 1 < n ? a[x >> 6 & 63] : '=';
		*q++ = i + 2 < n ? a[x & 63] : '=';
	}
	*outn = (size_t)(q - o);
	return o;
}

static bool known(int rc)
{
	return rc == 0 || rc == -EBADMSG || rc == -ENOMEM;
}

static void check_counts(struct bktrace *t)
{
	struct bktrace_counts c;
	const char *name, *err;

	bktrace_counts(t, &c);
	if (c.completed > c.vertexes || c.cached > c.vertexes || c.errors > c.vertexes)
		fail("counts beyond the vertexes");
	if (bktrace_failure(t, &name, &err) && (!c.errors || !name || !err))
		fail("a failure without an error counted");
}

/* Only "\033[K", "\033[J" and "\033[<digits>A". */
static void check_escapes(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\033')
			continue;
		if (i + 2 >= n || s[i + 1] != '[')
			fail("a bare escape in the tty view");
		i += 2;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i >= n || (s[i] != 'K' && s[i] != 'J' && s[i] != 'A'))
			fail("an escape sequence not the view's own");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum bktrace_mode modes[] = {BKTRACE_PLAIN, BKTRACE_TTY, BKTRACE_QUIET, BKTRACE_QUIET};
	char *buf1 = NULL, *buf2 = NULL;
	size_t n1 = 0, n2 = 0, i = 1;
	FILE *f1, *f2;
	struct bktrace *t1, *t2;
	enum bktrace_mode mode;
	bool parted = false;

	if (size < 1)
		return 0;
	mode = modes[data[0] & 3];
	f1 = open_memstream(&buf1, &n1);
	f2 = open_memstream(&buf2, &n2);
	if (!f1 || !f2)
		fail("open_memstream");
	t1 = bktrace_new(f1, mode);
	t2 = bktrace_new(f2, mode);
	if (!t1 || !t2)
		fail("bktrace_new");
	bktrace_set_interval(t1, 0);
	bktrace_set_interval(t2, 0);
	while (i + 2 <= size) {
		size_t len = (size_t)data[i] | (size_t)data[i + 1] << 8, before, bn;
		bool text = len & 0x8000;
		struct bktrace_counts c0, c1;
		int rc1, rc2;
		char *b;

		len &= 0x7fff;
		i += 2;
		if (len > size - i)
			len = size - i;
		if (text) {
			/* base64 text to the second trace only: refused, or
			 * the traces part */
			rc2 = bktrace_feed_base64(t2, (const char *)data + i, len);
			if (!known(rc2))
				fail("an undocumented errno (base64)");
			parted |= rc2 != -EBADMSG;
			i += len;
			continue;
		}
		fflush(f1);
		before = n1;
		bktrace_counts(t1, &c0);
		rc1 = bktrace_feed(t1, data + i, len);
		if (!known(rc1))
			fail("an undocumented errno");
		bktrace_counts(t1, &c1);
		fflush(f1);
		if (rc1 == -EBADMSG && (memcmp(&c0, &c1, sizeof(c0)) || n1 != before))
			fail("a refused message changed the trace");
		if (!(b = b64(data + i, len, &bn)))
			fail("malloc");
		rc2 = bktrace_feed_base64(t2, b, bn);
		free(b);
		if (!known(rc2))
			fail("an undocumented errno (base64)");
		if (rc1 != rc2)
			parted |= rc1 == -ENOMEM || rc2 == -ENOMEM;
		if (rc1 != rc2 && rc1 != -ENOMEM && rc2 != -ENOMEM)
			fail("base64 and bytes answer differently");
		i += len;
		check_counts(t1);
	}
	bktrace_finish(t1);
	bktrace_finish(t2);
	check_counts(t1);
	check_counts(t2);
	bktrace_free(t1);
	bktrace_free(t2);
	fclose(f1);
	fclose(f2);
	if (mode == BKTRACE_QUIET && (n1 || n2))
		fail("quiet wrote");
	if (mode == BKTRACE_TTY)
		check_escapes(buf1, n1);
	/* the same messages, the same rendering */
	if (!parted && (n1 != n2 || memcmp(buf1, buf2, n1)))
		fail("the traces fed the same messages render differently");
	free(buf1);
	free(buf2);
	return 0;
}
