/* fuzz_engine.c: fuzz target for the engine client's JSON reading
 * (src/engine.c), which every message of the engine goes through.  The
 * first byte picks the path asked for ("stream", "errorDetail.message",
 * "aux.ID", "aux", "id", "Config.Labels" + a key with dots, a path of 9
 * keys); the rest is the document.
 *
 * Promises checked (a broken one aborts): the answer is 1, 0, -EBADMSG or
 * -ENOMEM (-EINVAL only for the over-long path); a found value is
 * NUL-terminated at its length and never longer than the document; the
 * answer does not depend on the path when the document is malformed
 * (-EBADMSG for every path); and the input's bytes quoted by
 * engine_json_quote as the value of "stream" come back unchanged. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_engine: %s\n", what);
	abort();
}

static int ask(const char *doc, size_t n, unsigned pick)
{
	static const char *const paths[] = {"stream", "errorDetail.message", "aux.ID", "aux",
					    "id",     "a.b.c.d.e.f.g.h.i"};
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (pick % 7 == 6)
		rc = engine_json_string_keys(
			doc, n, (const char *const[]){"Config", "Labels", "ctxpack.context"}, 3,
			&out, &len);
	else
		rc = engine_json_string(doc, n, paths[pick % 7], &out, &len);
	if (pick % 7 == 5 && rc != -EINVAL)
		fail("a path of 9 keys was not refused");
	if (rc != 1 && rc != 0 && rc != -EBADMSG && rc != -ENOMEM && rc != -EINVAL)
		fail("an undocumented answer");
	if (rc == 1) {
		if (len > n || out[len] != '\0')
			fail("a value longer than the document, or not NUL-terminated");
		free(out);
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *doc = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	char *q = NULL, *w, *out = NULL;
	size_t qlen = 0, qalloc = 0, olen = 0;
	int rc;

	if (!size)
		return 0;
	rc = ask(doc, n, data[0]);
	if (rc == -EBADMSG)
		for (unsigned p = 0; p < 5; p++)
			if (ask(doc, n, p) != -EBADMSG)
				fail("a malformed document read as valid for another path");
	/* round trip: the bytes as a JSON string value */
	if (engine_json_quote(&q, &qlen, &qalloc, doc, n))
		return 0; /* out of memory */
	if (!(w = malloc(qlen + 16))) {
		free(q);
		return 0;
	}
	qlen = (size_t)sprintf(w, "{\"stream\":%s}", q);
	free(q);
	q = w;
	rc = engine_json_string(q, qlen, "stream", &out, &olen);
	if (rc == -ENOMEM) {
		free(q);
		return 0;
	}
	if (rc != 1 || olen != n || memcmp(out, doc, n))
		fail("a quoted string did not read back as itself");
	free(out);
	free(q);
	return 0;
}
