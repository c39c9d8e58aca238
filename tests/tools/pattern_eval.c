/* pattern_eval.c: evaluates single patterns on paths with ctxpack's
 * per-pattern semantics, for comparing with other implementations.
 *
 * Input lines: HEX(pattern) SPACE HEX(path).  Output, one line each:
 *   E  the pattern is refused up front (Docker's patternmatcher.New fails)
 *   U  ctxpack refuses it (a Go regexp construct it does not reproduce)
 *   L  evaluating it fails (Docker's lazy regexp compile error)
 *   1  it matches      0  it does not */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

static size_t unhex(const char *s, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned v;
		if (sscanf(s + i, "%2x", &v) != 1)
			break;
		out[k++] = (char)v;
	}
	return k;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		char *sp = memchr(line, ' ', (size_t)len), msg[256];
		char *pat = malloc((size_t)len), *path = malloc((size_t)len);
		size_t pl, ql;
		struct pattern p;
		int rc;

		if (!sp || !pat || !path) {
			puts("?");
			free(pat);
			free(path);
			continue;
		}
		pl = unhex(line, (size_t)(sp - line), pat);
		ql = unhex(sp + 1, strcspn(sp + 1, "\r\n"), path);
		rc = pattern_init(&p, pat, pl, msg, sizeof(msg));
		if (rc == PATTERN_EMPTY) {
			puts("0");
		} else if (rc) {
			puts("E");
		} else {
			struct re_scratch s;
			re_scratch_init(&s, pattern_prog_len(&p) + 1);
			rc = pattern_match(&p, &s, path, ql);
			puts(rc == -2 ? "U" : rc < 0 ? "L" : rc ? "1" : "0");
			re_scratch_release(&s);
			pattern_release(&p);
		}
		free(pat);
		free(path);
	}
	free(line);
	return 0;
}
