/* jsonread.c: JSON as the engine and the docker CLI's configuration write
 * it, read by hand (jsonread.h): one value validated whole, strings
 * decoded as encoding/json decodes them, values found by key path; and
 * the two encoders the requests need (a JSON string, url.QueryEscape). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "internal.h"
#include "jsonread.h"
#include "utf8.h"

enum { JSON_MAX_DEPTH = 128 };

void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int jp_hex4(struct jp *j, unsigned *out)
{
	unsigned v = 0;

	if (j->end - j->p < 4)
		return -EBADMSG;
	for (int i = 0; i < 4; i++) {
		int h = hex_value((unsigned char)j->p[i]);
		if (h < 0)
			return -EBADMSG;
		v = v << 4 | (unsigned)h;
	}
	j->p += 4;
	*out = v;
	return 0;
}

/* A string at j->p (its opening quote); decoded into *out (malloc'd) when
 * out is not NULL.  A decoded string is never longer than its source. */
int jp_string(struct jp *j, char **out, size_t *outlen)
{
	const char *s;
	char *o = NULL;
	size_t n = 0;
	int rc = -EBADMSG;

	if (j->p >= j->end || *j->p != '"')
		return -EBADMSG;
	s = ++j->p;
	if (out) {
		/* the source's length first: a decoded string is never longer */
		const char *q = s;
		while (q < j->end && *q != '"')
			q += *q == '\\' && q + 1 < j->end ? 2 : 1;
		if (!(o = malloc((size_t)(q - s) + 1)))
			return -ENOMEM;
	}
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;
		unsigned u, lo;

		if (c == '"') {
			if (out) {
				o[n] = '\0';
				*out = o;
				*outlen = n;
			}
			return 0;
		}
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			if (o)
				o[n++] = (char)c;
			continue;
		}
		if (j->p >= j->end)
			goto bad;
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u':
			if (jp_hex4(j, &u))
				goto bad;
			/* encoding/json: a lone surrogate is U+FFFD */
			if (u >= 0xd800 && u < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' &&
			    j->p[1] == 'u') {
				struct jp k = {j->p + 2, j->end, 0};
				if (!jp_hex4(&k, &lo) && lo >= 0xdc00 && lo < 0xe000) {
					u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
					j->p = k.p;
				}
			}
			/* a lone surrogate: U+FFFD (utf8_encode's); \uXXXX is 6
			 * source bytes, at most 4 decoded (a pair: 12, 4) */
			if (o)
				n += utf8_encode(u, o + n);
			continue;
		default:
			goto bad;
		}
		if (o)
			o[n++] = (char)c;
	}
bad:
	free(o);
	return rc;
}

static int jp_number(struct jp *j)
{
	const char *s;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	if (j->p == s || (*s == '0' && j->p - s > 1))
		return -EBADMSG;
	if (j->p < j->end && *j->p == '.') {
		s = ++j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == s)
			return -EBADMSG;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		s = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == s)
			return -EBADMSG;
	}
	return 0;
}

int jp_word(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return -EBADMSG;
	j->p += n;
	return 0;
}

/* An object's or array's members: fn for each (an object's key decoded,
 * or NULL in an array), at the value. */
int jp_members(struct jp *j, int (*fn)(struct jp *, const char *key, size_t klen, void *),
	       void *arg)
{
	bool obj = *j->p == '{';
	char close = obj ? '}' : ']';
	int rc;

	if (++j->depth > JSON_MAX_DEPTH)
		return -EBADMSG;
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		size_t klen = 0;

		jp_ws(j);
		if (obj) {
			if ((rc = jp_string(j, &key, &klen)))
				return rc;
			jp_ws(j);
			if (j->p >= j->end || *j->p != ':') {
				free(key);
				return -EBADMSG;
			}
			j->p++;
			jp_ws(j);
		}
		rc = fn(j, key, klen, arg);
		free(key);
		if (rc)
			return rc;
		jp_ws(j);
		if (j->p >= j->end)
			return -EBADMSG;
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return 0;
		}
		if (*j->p++ != ',')
			return -EBADMSG;
	}
}

static int skip_member(struct jp *j, const char *key, size_t klen, void *arg)
{
	(void)key;
	(void)klen;
	(void)arg;
	return jp_skip(j);
}

int jp_skip(struct jp *j)
{
	if (j->p >= j->end)
		return -EBADMSG;
	switch (*j->p) {
	case '{':
	case '[':
		return jp_members(j, skip_member, NULL);
	case '"':
		return jp_string(j, NULL, NULL);
	case 't':
		return jp_word(j, "true");
	case 'f':
		return jp_word(j, "false");
	case 'n':
		return jp_word(j, "null");
	default:
		return jp_number(j);
	}
}

struct find {
	const char *const *keys; /* the rest of the path, this level's key first */
	size_t nkeys;
	char *out;
	size_t outlen;
	int found; /* 1: a string (out), 2: true or false (boolean) */
	bool boolean;
};

static int jp_find(struct jp *j, struct find *f);

static int find_member(struct jp *j, const char *key, size_t klen, void *arg)
{
	struct find *f = arg;
	struct find sub;
	int rc;

	if (klen != strlen(f->keys[0]) || memcmp(key, f->keys[0], klen))
		return jp_skip(j);
	sub = (struct find){f->keys + 1, f->nkeys - 1, NULL, 0, 0, false};
	rc = jp_find(j, &sub);
	if (rc) {
		/* a value found below, and the document broken after it */
		free(sub.out);
		return rc;
	}
	/* encoding/json: the last of a repeated key wins */
	free(f->out);
	f->out = sub.out;
	f->outlen = sub.outlen;
	f->found = sub.found;
	f->boolean = sub.boolean;
	return 0;
}

static int jp_find(struct jp *j, struct find *f)
{
	if (j->p >= j->end)
		return -EBADMSG;
	if (!f->nkeys && *j->p == '"') {
		int rc = jp_string(j, &f->out, &f->outlen);
		f->found = !rc;
		return rc;
	}
	if (!f->nkeys && (*j->p == 't' || *j->p == 'f')) {
		f->boolean = *j->p == 't';
		f->found = 2;
		return jp_word(j, f->boolean ? "true" : "false");
	}
	if (f->nkeys && *j->p == '{')
		return jp_members(j, find_member, f);
	return jp_skip(j);
}

/* f over json[0..n), which must be one JSON value and nothing more. */
static int find_whole(const char *json, size_t n, struct find *f)
{
	struct jp j = {json, json + n, 0};
	int rc;

	jp_ws(&j);
	rc = jp_find(&j, f);
	jp_ws(&j);
	return !rc && j.p != j.end ? -EBADMSG : rc;
}

int engine_json_string_keys(const char *json, size_t n, const char *const *keys, size_t nkeys,
			    char **out, size_t *outlen)
{
	struct find f = {keys, nkeys, NULL, 0, 0, false};
	int rc = find_whole(json, n, &f);

	if (rc || f.found != 1) {
		free(f.out);
		return rc;
	}
	*out = f.out;
	*outlen = f.outlen;
	return 1;
}

enum { JSON_MAX_PATH = 8 };

int engine_json_string(const char *json, size_t n, const char *path, char **out, size_t *outlen)
{
	char buf[256], *keys[JSON_MAX_PATH], *save = NULL, *k;
	size_t nkeys = 0;

	if (strlen(path) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, path);
	for (k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (nkeys == JSON_MAX_PATH)
			return -EINVAL;
		keys[nkeys++] = k;
	}
	return engine_json_string_keys(json, n, (const char *const *)keys, nkeys, out, outlen);
}

/* The boolean at keys[0..nkeys) of json: 1 true, 0 false or absent, -EBADMSG. */
int json_bool(const char *json, size_t n, const char *const *keys, size_t nkeys)
{
	struct find f = {keys, nkeys, NULL, 0, 0, false};
	int rc = find_whole(json, n, &f);

	free(f.out);
	return rc ? rc : f.found == 2 && f.boolean;
}

static int buf_add(char **buf, size_t *len, size_t *alloc, const char *s, size_t n)
{
	if (*len + n + 1 < n || GROW(*buf, *alloc, *len + n + 1))
		return -ENOMEM;
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

int engine_json_quote(char **buf, size_t *len, size_t *alloc, const char *s, size_t n)
{
	int rc = buf_add(buf, len, alloc, "\"", 1);

	for (size_t i = 0; !rc && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c == '"' || c == '\\')
			rc = buf_add(buf, len, alloc, (char[]){'\\', (char)c}, 2);
		else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			rc = buf_add(buf, len, alloc, esc, 6);
		} else
			rc = buf_add(buf, len, alloc, (const char *)&s[i], 1);
	}
	return rc ? rc : buf_add(buf, len, alloc, "\"", 1);
}

/* url.QueryEscape: letters, digits, '-', '_', '.', '~' stay; ' ' is '+'. */
int engine_query_escape(char **buf, size_t *len, size_t *alloc, const char *s, size_t n)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[4];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			rc = buf_add(buf, len, alloc, (const char *)&s[i], 1);
		else if (c == ' ')
			rc = buf_add(buf, len, alloc, "+", 1);
		else {
			snprintf(esc, sizeof(esc), "%%%02X", c);
			rc = buf_add(buf, len, alloc, esc, 3);
		}
	}
	return rc;
}
