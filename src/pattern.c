/* pattern.c: Docker's per-pattern semantics (see pattern.h).
 *
 * Everything here mirrors a Go function named in its comment, byte for byte
 * where Go works on bytes and rune for rune where Go's text/scanner or
 * regexp work on runes.  Keep it literal: this module is the reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pattern.h"
#include "utf8.h"

size_t go_trim_space(const char *s, size_t len, size_t *start)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t b = 0, e = len;
	uint32_t r;

	while (b < e) {
		size_t w = utf8_decode(u + b, e - b, &r);
		if (!utf8_is_space(r) || (r == UTF8_RUNE_ERROR && w == 1))
			break;
		b += w;
	}
	/* Trailing: utf8.DecodeLastRune, which reads a byte that does not end a
	 * whole rune as U+FFFD (never a space). */
	while (e > b) {
		size_t st = e - 1, lim = e - b > 4 ? e - 4 : b, w = 1;
		while (st > lim && (u[st] & 0xC0) == 0x80)
			st--;
		r = UTF8_RUNE_ERROR;
		if ((u[st] & 0xC0) != 0x80) {
			w = utf8_decode(u + st, e - st, &r);
			if (st + w != e)
				r = UTF8_RUNE_ERROR;
		}
		if (!utf8_is_space(r))
			break;
		e -= w;
	}
	*start = b;
	return e - b;
}

size_t go_clean(const char *in, size_t n, char *out)
{
	size_t r = 0, w = 0, dotdot = 0;
	int rooted;

	if (n == 0) {
		out[0] = '.';
		return 1;
	}
	rooted = in[0] == '/';
	if (rooted) {
		out[w++] = '/';
		r = 1;
		dotdot = 1;
	}
	while (r < n) {
		if (in[r] == '/') {
			r++;
		} else if (in[r] == '.' && (r + 1 == n || in[r + 1] == '/')) {
			r++;
		} else if (in[r] == '.' && in[r + 1] == '.' && (r + 2 == n || in[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && in[r] != '/'; r++)
				out[w++] = in[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	return w;
}

/* filepath.getEsc: one class character; returns bytes consumed or 0 on error. */
static size_t go_get_esc(const unsigned char *c, size_t n)
{
	size_t i = 0, w;
	uint32_t r;

	if (n == 0 || c[0] == '-' || c[0] == ']')
		return 0;
	if (c[0] == '\\') {
		i = 1;
		if (i == n)
			return 0;
	}
	w = utf8_decode(c + i, n - i, &r);
	if (r == UTF8_RUNE_ERROR && w == 1)
		return 0;
	i += w;
	if (i == n)
		return 0;
	return i;
}

/* Why go_get_esc failed on c[0..n). */
static const char *class_err(const unsigned char *c, size_t n)
{
	size_t i = 0;
	uint32_t r;

	if (n == 0)
		return "unterminated character class";
	if (c[0] == ']')
		return "empty character class or range";
	if (c[0] == '-')
		return "character range without a start";
	if (c[0] == '\\' && ++i == n)
		return "unterminated character class";
	if (utf8_decode(c + i, n - i, &r) == 1 && r == UTF8_RUNE_ERROR)
		return "invalid UTF-8 in character class";
	return "unterminated character class";
}

/* filepath.matchChunk's syntax checks (the name no longer matters).
 * Returns NULL or what is wrong. */
static const char *go_chunk_err(const unsigned char *c, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (c[i] == '[') {
			size_t nrange = 0, k;
			i++;
			if (i < n && c[i] == '^')
				i++;
			for (;;) {
				if (i < n && c[i] == ']' && nrange > 0) {
					i++;
					break;
				}
				k = go_get_esc(c + i, n - i);
				if (!k)
					return class_err(c + i, n - i);
				i += k;
				if (c[i] == '-') {
					k = go_get_esc(c + i + 1, n - i - 1);
					if (!k)
						return class_err(c + i + 1, n - i - 1);
					i += 1 + k;
				}
				nrange++;
			}
		} else if (c[i] == '\\') {
			i++;
			if (i == n)
				return "trailing backslash";
			i++;
		} else {
			i++;
		}
	}
	return NULL;
}

/* filepath.scanChunk: leading stars, then up to the next star outside a
 * class.  Returns the chunk's length; *star says whether stars led it. */
static size_t go_scan_chunk(const unsigned char *p, size_t n, size_t *skip, bool *star)
{
	size_t i = 0, j;
	bool inrange = false;

	while (i < n && p[i] == '*')
		i++;
	*star = i > 0;
	*skip = i;
	for (j = i; j < n; j++) {
		if (p[j] == '\\') {
			if (j + 1 < n)
				j++;
		} else if (p[j] == '[') {
			inrange = true;
		} else if (p[j] == ']') {
			inrange = false;
		} else if (p[j] == '*' && !inrange) {
			break;
		}
	}
	return j - i;
}

/* filepath.matchChunk: 1 with *rest set when chunk matches a prefix of s,
 * 0 when it does not, -1 on ErrBadPattern.  The whole chunk is read even
 * after a mismatch, so a malformed chunk is always an error. */
static int go_match_chunk(const unsigned char *c, size_t cn, const unsigned char *s, size_t sn,
			  size_t *rest)
{
	bool failed = false;
	size_t i = 0, k;

	while (i < cn) {
		if (!failed && sn == 0)
			failed = true;
		if (c[i] == '[') {
			uint32_t r = 0;
			size_t nrange = 0;
			bool negated = false, match = false;
			if (!failed) {
				size_t w = utf8_decode(s, sn, &r);
				s += w;
				sn -= w;
			}
			i++;
			if (i < cn && c[i] == '^') {
				negated = true;
				i++;
			}
			for (;;) {
				uint32_t lo, hi;
				if (i < cn && c[i] == ']' && nrange > 0) {
					i++;
					break;
				}
				k = go_get_esc(c + i, cn - i);
				if (!k)
					return -1;
				utf8_decode(c + i + (c[i] == '\\'), cn - i - (c[i] == '\\'), &lo);
				hi = lo;
				i += k;
				if (c[i] == '-') {
					k = go_get_esc(c + i + 1, cn - i - 1);
					if (!k)
						return -1;
					utf8_decode(c + i + 1 + (c[i + 1] == '\\'),
						    cn - i - 1 - (c[i + 1] == '\\'), &hi);
					i += 1 + k;
				}
				if (lo <= r && r <= hi)
					match = true;
				nrange++;
			}
			if (match == negated)
				failed = true;
		} else if (c[i] == '?') {
			if (!failed) {
				uint32_t r;
				size_t w;
				if (s[0] == '/')
					failed = true;
				w = utf8_decode(s, sn, &r);
				s += w;
				sn -= w;
			}
			i++;
		} else {
			if (c[i] == '\\') {
				i++;
				if (i == cn)
					return -1;
			}
			if (!failed) {
				if (c[i] != s[0])
					failed = true;
				s++;
				sn--;
			}
			i++;
		}
	}
	if (failed)
		return 0;
	*rest = sn;
	return 1;
}

/* filepath.Match(pattern, name) on '/'-separated names: 1, 0, or -1 for
 * ErrBadPattern.  Like Go, it stops reading the pattern at the first chunk
 * that cannot match, so text after it is never checked. */
static int go_match(const unsigned char *p, size_t pn, const unsigned char *name, size_t nn)
{
	while (pn > 0) {
		size_t skip, cl, rest, restp;
		bool star;
		int ok;

		cl = go_scan_chunk(p, pn, &skip, &star);
		restp = pn - skip - cl;
		if (star && cl == 0)
			return memchr(name, '/', nn) == NULL;
		ok = go_match_chunk(p + skip, cl, name, nn, &rest);
		if (ok == 1 && (rest == 0 || restp > 0)) {
			name += nn - rest;
			nn = rest;
			p += skip + cl;
			pn = restp;
			continue;
		}
		if (ok < 0)
			return -1;
		if (star) {
			bool found = false;
			for (size_t i = 0; i < nn && name[i] != '/'; i++) {
				ok = go_match_chunk(p + skip, cl, name + i + 1, nn - i - 1, &rest);
				if (ok == 1) {
					if (restp == 0 && rest > 0)
						continue;
					name += nn - rest;
					nn = rest;
					found = true;
					break;
				}
				if (ok < 0)
					return -1;
			}
			if (found) {
				p += skip + cl;
				pn = restp;
				continue;
			}
		}
		return 0;
	}
	return nn == 0;
}

int go_filepath_match(const char *pat, size_t pn, const char *name, size_t nn)
{
	return go_match((const unsigned char *)pat, pn, (const unsigned char *)name, nn);
}

const char *go_match_syntax_err(const char *pat, size_t n)
{
	const unsigned char *p = (const unsigned char *)pat;
	size_t i = 0;

	if (go_match(p, n, (const unsigned char *)".", 1) >= 0)
		return NULL;
	/* Say which chunk is malformed. */
	while (i < n) {
		size_t skip, cl;
		bool star;
		const char *err;
		cl = go_scan_chunk(p + i, n - i, &skip, &star);
		err = go_chunk_err(p + i + skip, cl);
		if (err)
			return err;
		i += skip + cl;
	}
	return "syntax error in pattern";
}

/* A growable string for the regexp source. */
struct sbuf {
	char *v;
	size_t n, alloc;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom || GROW(b->v, b->alloc, b->n + n + 1)) {
		b->oom = 1;
		return;
	}
	memcpy(b->v + b->n, s, n);
	b->n += n;
	b->v[b->n] = '\0';
}

static void sb_rune(struct sbuf *b, uint32_t r)
{
	char tmp[4];
	sb_add(b, tmp, utf8_encode(r, tmp));
}

/* A rune reader with text/scanner's behaviour: a BOM as the very first
 * rune is skipped; an invalid byte reads as U+FFFD. */
struct scan {
	const unsigned char *s;
	size_t n, i;
};

static long scan_peek(struct scan *sc)
{
	uint32_t r;
	if (sc->i >= sc->n)
		return -1;
	utf8_decode(sc->s + sc->i, sc->n - sc->i, &r);
	return r;
}

static long scan_next(struct scan *sc)
{
	uint32_t r;
	if (sc->i >= sc->n)
		return -1;
	sc->i += utf8_decode(sc->s + sc->i, sc->n - sc->i, &r);
	return r;
}

/* Pattern.compile: classification and the regexp source. */
static int translate(struct pattern *p)
{
	struct sbuf b = { 0 };
	struct scan sc = { (const unsigned char *)p->text, p->len, 0 };
	enum pat_type t = PAT_EXACT;

	sb_add(&b, "^", 1);
	if (scan_peek(&sc) == 0xFEFF)
		scan_next(&sc);
	for (int i = 0; scan_peek(&sc) >= 0; i++) {
		long ch = scan_next(&sc);
		if (ch == '*') {
			if (scan_peek(&sc) == '*') {
				scan_next(&sc);
				if (scan_peek(&sc) == '/')
					scan_next(&sc);
				if (scan_peek(&sc) < 0) {
					if (t == PAT_EXACT) {
						t = PAT_PREFIX;
					} else {
						sb_add(&b, ".*", 2);
						t = PAT_REGEXP;
					}
				} else {
					sb_add(&b, "(.*/)?", 6);
					t = PAT_REGEXP;
				}
				if (i == 0)
					t = PAT_SUFFIX;
			} else {
				sb_add(&b, "[^/]*", 5);
				t = PAT_REGEXP;
			}
		} else if (ch == '?') {
			sb_add(&b, "[^/]", 4);
			t = PAT_REGEXP;
		} else if (ch == '.' || ch == '+' || ch == '(' || ch == ')' || ch == '$') {
			/* shouldEscape: the bitmap meant for .+()|{}$ keeps only the
			 * bytes below 64, so '|', '{' and '}' reach the regexp. */
			sb_add(&b, "\\", 1);
			sb_rune(&b, (uint32_t)ch);
		} else if (ch == '\\') {
			if (scan_peek(&sc) >= 0) {
				sb_add(&b, "\\", 1);
				sb_rune(&b, (uint32_t)scan_next(&sc));
				t = PAT_REGEXP;
			} else {
				sb_add(&b, "\\", 1);
			}
		} else if (ch == '[' || ch == ']') {
			sb_rune(&b, (uint32_t)ch);
			t = PAT_REGEXP;
		} else {
			sb_rune(&b, (uint32_t)ch);
		}
	}
	if (t == PAT_REGEXP)
		sb_add(&b, "$", 1);
	if (b.oom) {
		free(b.v);
		return PATTERN_ENOMEM;
	}
	p->type = t;
	if (t != PAT_REGEXP) {
		free(b.v);
		return 0;
	}
	p->restr = b.v;
	p->relen = b.n;
	return 0;
}

int pattern_init(struct pattern *p, const char *raw, size_t len, char *msg, size_t msgsz)
{
	size_t start, n;
	const char *err;
	char *clean;
	int rc;

	memset(p, 0, sizeof(*p));
	n = go_trim_space(raw, len, &start);
	if (n == 0)
		return PATTERN_EMPTY;
	clean = malloc(n + 2);
	if (!clean)
		return PATTERN_ENOMEM;
	n = go_clean(raw + start, n, clean);
	if (clean[0] == '!') {
		if (n == 1) {
			free(clean);
			snprintf(msg, msgsz, "illegal exclusion pattern: \"!\"");
			return PATTERN_ESYNTAX;
		}
		p->exclusion = true;
		memmove(clean, clean + 1, --n);
	}
	clean[n] = '\0';
	p->text = clean;
	p->len = n;
	err = go_match_syntax_err(clean, n);
	if (err) {
		snprintf(msg, msgsz, "%s", err);
		pattern_release(p);
		return PATTERN_ESYNTAX;
	}
	rc = translate(p);
	if (rc) {
		pattern_release(p);
		return rc;
	}
	if (p->type == PAT_REGEXP) {
		rc = re_parse(&p->re, p->restr, p->relen, p->errmsg, sizeof(p->errmsg),
			      &p->errwhat);
		if (rc == RE_ESYNTAX) {
			/* Docker only fails if it ever evaluates this pattern. */
			p->lazy_error = true;
			return 0;
		}
		if (rc == RE_EUNSUPPORTED) {
			/* Refused where Docker would evaluate it, not before: a
			 * pattern Docker never evaluates cannot matter. */
			p->lazy_error = true;
			p->unsupported = true;
			return 0;
		}
		if (rc == 0)
			p->prog = re_compile(p->re->v, p->re->n, false);
		if (rc || !p->prog) {
			pattern_release(p);
			return PATTERN_ENOMEM;
		}
	}
	return 0;
}

void pattern_release(struct pattern *p)
{
	free(p->text);
	free(p->restr);
	re_seq_free(p->re);
	re_prog_free(p->prog);
	memset(p, 0, sizeof(*p));
}

size_t pattern_prog_len(const struct pattern *p)
{
	return p->prog ? re_prog_len(p->prog) : 0;
}

int pattern_match(const struct pattern *p, struct re_scratch *s, const char *path, size_t len)
{
	const char *sfx;
	size_t sl;

	switch (p->type) {
	case PAT_EXACT:
		return len == p->len && memcmp(path, p->text, len) == 0;
	case PAT_PREFIX:
		return len >= p->len - 2 && memcmp(path, p->text, p->len - 2) == 0;
	case PAT_SUFFIX:
		sfx = p->text + 2;
		sl = p->len - 2;
		if (len >= sl && memcmp(path + len - sl, sfx, sl) == 0)
			return 1;
		/* "**" + "/foo" also matches "foo" itself. */
		return sl > 0 && sfx[0] == '/' && len == sl - 1 && memcmp(path, sfx + 1, len) == 0;
	case PAT_REGEXP:
		if (p->lazy_error)
			return p->unsupported ? -2 : -1;
		return re_run(p->prog, s, (const unsigned char *)path, len);
	}
	return 0;
}
