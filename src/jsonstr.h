/* jsonstr.h: names as JSON strings, whatever their bytes (manifests, the
 * CLI's JSON output). */
#ifndef CTXPACK_JSONSTR_H
#define CTXPACK_JSONSTR_H

#include <stddef.h>
#include <stdio.h>

/* Writes s[0..len) as a JSON string.  Bytes that are not UTF-8 become
 * lone surrogates \udc80-\udcff (Python's surrogateescape), so every name
 * round-trips. */
void json_string(FILE *out, const char *s, size_t len);

#endif
