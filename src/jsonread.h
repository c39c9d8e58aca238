/* jsonread.h: a small strict JSON reader (jsonread.c) for the engine's
 * answers and the docker CLI's config.json: engine.h's engine_json_*
 * calls for a string or a boolean at a key path, and the cursor below for
 * a reader that walks an object itself (the proxies of config.json).
 * Every call returns 0 or -EBADMSG (a value that is not JSON, nested
 * deeper than 128), -ENOMEM. */
#ifndef CTXPACK_JSONREAD_H
#define CTXPACK_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>

/* A cursor over json[p..end). */
struct jp {
	const char *p, *end;
	int depth;
};

/* Skips white space. */
void jp_ws(struct jp *j);
/* The string at j->p (its opening quote), decoded into *out (malloc'd,
 * NUL-terminated) when out is not NULL. */
int jp_string(struct jp *j, char **out, size_t *outlen);
/* The literal w (true, false, null) at j->p. */
int jp_word(struct jp *j, const char *w);
/* The object or array at j->p: fn for each member (an object's key
 * decoded, NULL in an array), with j at its value; fn consumes it. */
int jp_members(struct jp *j, int (*fn)(struct jp *, const char *key, size_t klen, void *),
	       void *arg);
/* Skips the value at j->p. */
int jp_skip(struct jp *j);
/* The boolean at keys[0..nkeys) of json[0..n): 1 true, 0 false or absent,
 * -EBADMSG. */
int json_bool(const char *json, size_t n, const char *const *keys, size_t nkeys);

#endif
