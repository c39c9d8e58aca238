/* dockerfile.c: Dockerfile bytes to instructions, stages and the sources a
 * build reads from its context, as BuildKit v0.13's Dockerfile frontend
 * does (frontend/dockerfile/parser: Parse, directives, line_parsers,
 * split_command; instructions: parse.go, bflag.go, commands_runmount.go;
 * shell/lex.go; dockerfile2llb/convert.go for stages and ARG/ENV scoping).
 * Functions that mirror a Go function name it.  No I/O here. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerfile.h"
#include "internal.h"
#include "utf8.h"

#define R_EOF (-1)
#define SCANNER_MAX_TOKEN 65536	 /* bufio.MaxScanTokenSize */
#define MEMO_MAX_BITS (1u << 26) /* the pattern matcher's table bound */
#define LEX_MAX_DEPTH 1000	 /* ${ inside ${ (Go's stack grows; ours not) */
#define ONBUILD_MAX_DEPTH 64	 /* ONBUILD ONBUILD ... parsed this deep */

/* ---- small buffers ---- */

struct buf {
	char *s;
	size_t n, a;
	int rc;	    /* sticky: -ENOMEM or -E2BIG */
	size_t max; /* bound on n; 0: DOCKERFILE_MAX_WORD */
};

static void buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->rc)
		return;
	if (b->n + n > (b->max ? b->max : DOCKERFILE_MAX_WORD)) {
		b->rc = -E2BIG;
		return;
	}
	if (GROW(b->s, b->a, b->n + n + 1)) {
		b->rc = -ENOMEM;
		return;
	}
	if (n)
		memcpy(b->s + b->n, p, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* bytes.Buffer.WriteRune; EOF (-1) as Go's string(rune(-1)): U+FFFD. */
static void buf_rune(struct buf *b, long r)
{
	char t[4];

	buf_add(b, t, utf8_encode(r < 0 ? UTF8_RUNE_ERROR : (uint32_t)r, t));
}

/* A NUL-terminated malloc'd copy of b (empty string when nothing). */
static char *buf_take(struct buf *b)
{
	char *s = b->s;

	if (!s)
		s = xmemdup("", 0);
	b->s = NULL;
	b->n = b->a = 0;
	return s;
}

static char *sdup(const char *s)
{
	return s ? xmemdup(s, strlen(s)) : NULL;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strv_push(char ***v, size_t *n, size_t *a, char *s)
{
	if (!s || GROW(*v, *a, *n + 1)) {
		free(s);
		return -ENOMEM;
	}
	(*v)[(*n)++] = s;
	return 0;
}

/* Go's %q of a string, shortened: for messages. */
static void go_quote(struct buf *b, const char *s, size_t n)
{
	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n && b->n < 300;) {
		uint32_t r;
		size_t w = utf8_decode((const unsigned char *)s + i, n - i, &r);
		unsigned char c = (unsigned char)s[i];
		char t[8];
		if (r == UTF8_RUNE_ERROR && w == 1) {
			snprintf(t, sizeof(t), "\\x%02x", c);
			buf_str(b, t);
		} else if (c == '"' || c == '\\') {
			buf_add(b, "\\", 1);
			buf_add(b, s + i, 1);
		} else if (c == '\n') {
			buf_str(b, "\\n");
		} else if (c == '\t') {
			buf_str(b, "\\t");
		} else if (c == '\r') {
			buf_str(b, "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(t, sizeof(t), "\\x%02x", c);
			buf_str(b, t);
		} else {
			buf_add(b, s + i, w);
		}
		i += w;
	}
	buf_add(b, "\"", 1);
}

/* ---- environments ---- */

int dockerfile_env_set(struct df_env *e, const char *key, const char *value)
{
	char *v = NULL;

	if (value && !(v = sdup(value)))
		return -ENOMEM;
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->keys[i], key) == 0) {
			free(e->values[i]);
			e->values[i] = v;
			return 0;
		}
	if (GROW(e->keys, e->alloc, e->n + 1))
		goto oom;
	{
		size_t a = e->n;
		char **nv = realloc(e->values, e->alloc * sizeof(*nv));
		(void)a;
		if (!nv)
			goto oom;
		e->values = nv;
	}
	e->keys[e->n] = sdup(key);
	if (!e->keys[e->n])
		goto oom;
	e->values[e->n++] = v;
	return 0;
oom:
	free(v);
	return -ENOMEM;
}

void dockerfile_env_release(struct df_env *e)
{
	strv_free(e->keys, e->n);
	strv_free(e->values, e->n);
	memset(e, 0, sizeof(*e));
}

static int env_copy(struct df_env *dst, const struct df_env *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (dockerfile_env_set(dst, src->keys[i], src->values[i]))
			return -ENOMEM;
	return 0;
}

/* shellWord.getEnv: *found tells whether key is set. */
static const char *env_get(const struct df_env *e, const char *key, bool *found)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->keys[i], key) == 0 && e->values[i]) {
			*found = true;
			return e->values[i];
		}
	*found = false;
	return "";
}

/* ---- the shell lexer (shell/lex.go) ---- */

struct words {
	struct buf word;
	bool in_word;
	char **v;
	size_t n, a;
	int rc;
};

struct lex {
	uint32_t *r;
	size_t n, pos;
	const struct df_env *env;
	int escape;
	bool raw_quotes, raw_escapes, skip_unset, skip_quotes;
	bool strict;	  /* an unset name may be the base image's */
	int depth;	  /* ${ nesting */
	char unknown[64]; /* the first such name */
	char *err;
	size_t errsz;
};

static int lex_fail(struct lex *lx, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int lex_fail(struct lex *lx, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lx->err, lx->errsz, fmt, ap);
	va_end(ap);
	return rc;
}

static long lx_peek(const struct lex *lx)
{
	return lx->pos < lx->n ? (long)lx->r[lx->pos] : R_EOF;
}

static long lx_next(struct lex *lx)
{
	return lx->pos < lx->n ? (long)lx->r[lx->pos++] : R_EOF;
}

/* text/scanner's view of a string: runes, a byte that is not UTF-8 read
 * as U+FFFD, a BOM at the very start skipped (Scanner.Peek). */
static uint32_t *to_runes(const char *s, size_t n, size_t *nr)
{
	uint32_t *r = malloc((n + 1) * sizeof(*r));
	size_t k = 0;

	if (!r)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t w = utf8_decode((const unsigned char *)s + i, n - i, &r[k]);
		if (!(k == 0 && i == 0 && r[k] == 0xFEFF))
			k++;
		i += w;
	}
	*nr = k;
	return r;
}

/* wordsStruct */
static void w_raw_char(struct words *w, long ch)
{
	if (!w)
		return;
	buf_rune(&w->word, ch);
	w->in_word = true;
}

static void w_flush(struct words *w)
{
	if (w->word.n) {
		if (w->word.rc)
			w->rc = w->word.rc;
		else if (strv_push(&w->v, &w->n, &w->a, buf_take(&w->word)))
			w->rc = -ENOMEM;
		w->word.n = 0;
		w->in_word = false;
	}
}

static void w_char(struct words *w, long ch)
{
	bool sp = ch >= 0 && utf8_is_space((uint32_t)ch);

	if (!w)
		return;
	if (sp && w->in_word) {
		if (w->word.n)
			w_flush(w);
	} else if (!sp) {
		w_raw_char(w, ch);
	}
}

static void w_string(struct words *w, const char *s, size_t n)
{
	if (!w)
		return;
	for (size_t i = 0; i < n;) {
		uint32_t r;
		i += utf8_decode((const unsigned char *)s + i, n - i, &r);
		w_char(w, r);
	}
}

static void w_raw_string(struct words *w, const char *s, size_t n)
{
	if (!w)
		return;
	buf_add(&w->word, s, n);
	w->in_word = true;
}

static int process_stop_on(struct lex *lx, long stop, bool raw_escapes, struct buf *out,
			   struct words *w);

static bool is_special_param(long c)
{
	return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
	       c == '0';
}

/* unicode.IsLetter / IsDigit for ASCII; -1 for runes ctxpack has no
 * table for. */
static int rune_class(long c, bool digit)
{
	if (c < 0x80) {
		if (digit)
			return c >= '0' && c <= '9';
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
	}
	if (c == (long)UTF8_RUNE_ERROR || utf8_is_space((uint32_t)c))
		return 0;
	return -1;
}

/* shellWord.processName */
static int process_name(struct lex *lx, struct buf *name)
{
	while (lx_peek(lx) != R_EOF) {
		long ch = lx_peek(lx);
		int dg = rune_class(ch, true), lt = rune_class(ch, false);
		if (dg < 0 || lt < 0)
			return lex_fail(
				lx, -ENOTSUP,
				"a variable name next to a non-ASCII character (ctxpack has no Unicode letter table)");
		if (name->n == 0 && dg) {
			while (lx_peek(lx) != R_EOF) {
				int d = rune_class(lx_peek(lx), true);
				if (d < 0)
					return lex_fail(
						lx, -ENOTSUP,
						"a variable name next to a non-ASCII character (ctxpack has no Unicode letter table)");
				if (!d)
					break;
				buf_rune(name, lx_next(lx));
			}
			return name->rc;
		}
		if (name->n == 0 && is_special_param(ch)) {
			buf_rune(name, lx_next(lx));
			return name->rc;
		}
		if (!lt && !dg && ch != '_')
			break;
		buf_rune(name, lx_next(lx));
	}
	return name->rc;
}

/* ---- shell patterns: convertShellPatternToRegex and the regexp it
 * makes, matched leftmost-first as Go's regexp does ---- */

enum { P_LIT, P_ANY, P_STAR };

struct pat {
	uint8_t *op;
	uint32_t *lit;
	size_t n;
	bool greedy;
};

static int pat_compile(struct pat *p, const uint32_t *r, size_t n, bool greedy, char *err,
		       size_t errsz)
{
	size_t i = 0;

	p->op = malloc(n + 1);
	p->lit = malloc((n + 1) * sizeof(*p->lit));
	p->n = 0;
	p->greedy = greedy;
	if (!p->op || !p->lit)
		return -ENOMEM;
	if (n && r[0] == 0xFEFF) /* text/scanner skips a leading BOM */
		i = 1;
	for (; i < n; i++) {
		uint32_t tok = r[i];
		if (tok == '*') {
			p->op[p->n++] = P_STAR;
			continue;
		}
		if (tok == '?') {
			p->op[p->n++] = P_ANY;
			continue;
		}
		if (tok == '\\') {
			if (i + 1 < n && (r[i + 1] == '}' || r[i + 1] == '/'))
				continue;
			if (i + 1 >= n ||
			    (r[i + 1] != '*' && r[i + 1] != '?' && r[i + 1] != '\\')) {
				char t[5] = "";
				if (i + 1 < n)
					t[utf8_encode(r[i + 1], t)] = '\0';
				else
					t[utf8_encode(UTF8_RUNE_ERROR, t)] = '\0';
				snprintf(err, errsz, "invalid escape '\\%s'", t);
				return -EINVAL;
			}
			tok = r[++i];
		}
		p->op[p->n] = P_LIT;
		p->lit[p->n++] = tok;
	}
	return 0;
}

static void pat_release(struct pat *p)
{
	free(p->op);
	free(p->lit);
}

struct matcher {
	const struct pat *p;
	const uint32_t *s;
	size_t n;
	uint8_t *failed; /* (pi, si) bits known to fail */
};

/* Backtracking in the regexp's priority order; a state that failed once
 * fails again (no captures), so each is tried once: O(pattern x text). */
static bool m_run(struct matcher *m, size_t pi, size_t si, size_t *end)
{
	size_t bit = pi * (m->n + 1) + si;

	if (m->failed[bit / 8] & (1u << (bit % 8)))
		return false;
	if (pi == m->p->n) {
		*end = si;
		return true;
	}
	switch (m->p->op[pi]) {
	case P_LIT:
		if (si < m->n && m->s[si] == m->p->lit[pi] && m_run(m, pi + 1, si + 1, end))
			return true;
		break;
	case P_ANY:
		if (si < m->n && m->s[si] != '\n' && m_run(m, pi + 1, si + 1, end))
			return true;
		break;
	case P_STAR: {
		size_t k = si;
		while (k < m->n && m->s[k] != '\n')
			k++;
		if (m->p->greedy) {
			for (size_t j = k + 1; j-- > si;)
				if (m_run(m, pi + 1, j, end))
					return true;
		} else {
			for (size_t j = si; j <= k; j++)
				if (m_run(m, pi + 1, j, end))
					return true;
		}
		break;
	}
	}
	m->failed[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return false;
}

/* FindStringIndex from rune from on: *a, *b the match, -1 none. */
static int m_find(struct matcher *m, size_t from, bool anchored, size_t *a, size_t *b)
{
	for (size_t st = from; st <= m->n; st++) {
		if (m_run(m, 0, st, b)) {
			*a = st;
			return 0;
		}
		if (anchored)
			break;
	}
	return -1;
}

static int matcher_init(struct matcher *m, const struct pat *p, const uint32_t *s, size_t n)
{
	size_t bits;

	m->p = p;
	m->s = s;
	m->n = n;
	if ((p->n + 1) > MEMO_MAX_BITS / (n + 1))
		return -E2BIG;
	bits = (p->n + 1) * (n + 1);
	m->failed = calloc(bits / 8 + 1, 1);
	return m->failed ? 0 : -ENOMEM;
}

static void runes_out(struct buf *b, const uint32_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_rune(b, r[i]);
}

/* Go's []rune(s) (no BOM skipping). */
static uint32_t *plain_runes(const char *s, size_t n, size_t *nr, size_t **offs)
{
	uint32_t *r = malloc((n + 1) * sizeof(*r));
	size_t k = 0;

	*offs = malloc((n + 1) * sizeof(**offs));
	if (!r || !*offs) {
		free(r);
		free(*offs);
		return NULL;
	}
	for (size_t i = 0; i < n;) {
		(*offs)[k] = i;
		i += utf8_decode((const unsigned char *)s + i, n - i, &r[k++]);
	}
	(*offs)[k] = n;
	*nr = k;
	return r;
}

/* trimPrefix / trimSuffix (with reversePattern and reverseString) and the
 * ${V/pat/repl} replacement of processDollar. op: '#', '%' or '/'. */
static int pattern_op(struct lex *lx, struct buf *out, int op, bool greedy_or_all,
		      const char *pattern, size_t plen, const char *value, size_t vlen,
		      const char *repl, size_t rlen)
{
	size_t np, nv, *poffs = NULL, *voffs = NULL, a, b;
	uint32_t *pr = plain_runes(pattern, plen, &np, &poffs);
	uint32_t *vr = plain_runes(value, vlen, &nv, &voffs);
	struct pat p = {0};
	struct matcher m = {0};
	char perr[64];
	int rc = -ENOMEM;

	if (!pr || !vr)
		goto out;
	if (op == '%') {
		/* reversePattern: escape pairs keep their order */
		uint32_t *rp = malloc((np + 1) * sizeof(*rp));
		if (!rp)
			goto out;
		for (size_t i = 0; i < np;) {
			size_t oi = np - 1 - i;
			if (pr[i] == '\\' && i != np - 1) {
				rp[oi - 1] = pr[i];
				rp[oi] = pr[i + 1];
				i += 2;
			} else {
				rp[oi] = pr[i++];
			}
		}
		free(pr);
		pr = rp;
		for (size_t i = 0; i < nv / 2; i++) {
			uint32_t t = vr[i];
			vr[i] = vr[nv - 1 - i];
			vr[nv - 1 - i] = t;
		}
	}
	rc = pat_compile(&p, pr, np, op == '/' ? true : greedy_or_all, perr, sizeof(perr));
	if (rc == -EINVAL) {
		struct buf q = {0};
		buf_add(&q, pattern, plen);
		rc = lex_fail(lx, -EINVAL, "invalid pattern (%s) in substitution: %s",
			      q.s ? q.s : "", perr);
		free(q.s);
		goto out;
	}
	if (rc)
		goto out;
	rc = matcher_init(&m, &p, vr, nv);
	if (rc == -E2BIG) {
		rc = lex_fail(lx, -E2BIG,
			      "a pattern substitution on a value too long to match here");
		goto out;
	}
	if (rc)
		goto out;
	if (op == '#') {
		if (m_find(&m, 0, true, &a, &b) == 0)
			buf_add(out, value + voffs[b], vlen - voffs[b]);
		else
			buf_add(out, value, vlen);
	} else if (op == '%') {
		size_t from = 0;
		if (m_find(&m, 0, true, &a, &b) == 0)
			from = b;
		/* reverseString again: runes, so bytes that are not UTF-8
		 * come back as U+FFFD, as in Go */
		for (size_t i = nv; i-- > from;)
			buf_rune(out, vr[i]);
	} else if (!greedy_or_all) {
		if (m_find(&m, 0, false, &a, &b) == 0) {
			buf_add(out, value, voffs[a]);
			buf_add(out, repl, rlen);
			buf_add(out, value + voffs[b], vlen - voffs[b]);
		} else {
			buf_add(out, value, vlen);
		}
	} else {
		/* regexp.ReplaceAllString; its $ expansion is refused */
		size_t search = 0, last = 0;
		if (memchr(repl, '$', rlen)) {
			rc = lex_fail(
				lx, -ENOTSUP,
				"a '$' in the replacement of ${VAR//pattern/replacement} (Go's regexp expansion)");
			goto out;
		}
		while (search <= nv) {
			if (m_find(&m, search, false, &a, &b))
				break;
			buf_add(out, value + voffs[last], voffs[a] - voffs[last]);
			if (b > last || a == 0)
				buf_add(out, repl, rlen);
			last = b;
			if (search + 1 > b)
				search++;
			else
				search = b;
		}
		buf_add(out, value + voffs[last], vlen - voffs[last]);
	}
	rc = out->rc;
out:
	(void)runes_out;
	free(m.failed);
	pat_release(&p);
	free(pr);
	free(vr);
	free(poffs);
	free(voffs);
	return rc;
}

/* shellWord.processSingleQuote */
static int process_single_quote(struct lex *lx, struct buf *out)
{
	long ch = lx_next(lx);

	if (lx->raw_quotes)
		buf_rune(out, ch);
	for (;;) {
		ch = lx_next(lx);
		if (ch == R_EOF)
			return lex_fail(
				lx, -EINVAL,
				"unexpected end of statement while looking for matching single-quote");
		if (ch == '\'') {
			if (lx->raw_quotes)
				buf_rune(out, ch);
			return out->rc;
		}
		buf_rune(out, ch);
	}
}

static int process_dollar(struct lex *lx, struct buf *out);

/* shellWord.processDoubleQuote */
static int process_double_quote(struct lex *lx, struct buf *out)
{
	long ch = lx_next(lx);
	int rc;

	if (lx->raw_quotes)
		buf_rune(out, ch);
	for (;;) {
		if (out->rc)
			return out->rc;
		switch (lx_peek(lx)) {
		case R_EOF:
			return lex_fail(
				lx, -EINVAL,
				"unexpected end of statement while looking for matching double-quote");
		case '"':
			ch = lx_next(lx);
			if (lx->raw_quotes)
				buf_rune(out, ch);
			return out->rc;
		case '$':
			if ((rc = process_dollar(lx, out)))
				return rc;
			break;
		default:
			ch = lx_next(lx);
			if (ch == lx->escape) {
				long pk = lx_peek(lx);
				if (lx->raw_escapes)
					buf_rune(out, ch);
				if (pk == R_EOF)
					continue;
				if (pk == '"' || pk == '$' || pk == lx->escape)
					ch = lx_next(lx);
			}
			buf_rune(out, ch);
		}
	}
}

static const char *env_lookup(struct lex *lx, const char *name, bool *set)
{
	const char *v = env_get(lx->env, name, set);

	if (!*set && lx->strict && !lx->unknown[0])
		snprintf(lx->unknown, sizeof(lx->unknown), "%s", name);
	return v;
}

/* shellWord.processDollar */
static int process_dollar(struct lex *lx, struct buf *out)
{
	struct buf name = {0}, word = {0}, chs = {0}, pattern = {0}, repl = {0};
	const char *value;
	bool set, null_is_unset = false;
	long ch;
	int rc;

	lx_next(lx);
	if (lx->depth >= LEX_MAX_DEPTH)
		return lex_fail(lx, -E2BIG, "variables nested deeper than %d levels",
				LEX_MAX_DEPTH);
	lx->depth++;
	if (lx_peek(lx) != '{') {
		if ((rc = process_name(lx, &name)))
			goto out;
		if (name.n == 0) {
			buf_add(out, "$", 1);
		} else {
			value = env_lookup(lx, name.s, &set);
			if (!set && lx->skip_unset) {
				buf_add(out, "$", 1);
				buf_add(out, name.s, name.n);
			} else {
				buf_str(out, value);
			}
		}
		rc = out->rc;
		goto out;
	}
	lx_next(lx);
	switch (lx_peek(lx)) {
	case R_EOF:
		rc = lex_fail(lx, -EINVAL, "syntax error: missing '}'");
		goto out;
	case '{':
	case '}':
	case ':':
		rc = lex_fail(lx, -EINVAL, "syntax error: bad substitution");
		goto out;
	}
	if ((rc = process_name(lx, &name)))
		goto out;
	buf_add(&name, "", 0);
	ch = lx_next(lx);
	buf_rune(&chs, ch);
	switch (ch) {
	case '}':
		value = env_lookup(lx, name.s, &set);
		if (!set && lx->skip_unset) {
			buf_add(out, "${", 2);
			buf_add(out, name.s, name.n);
			buf_add(out, "}", 1);
		} else {
			buf_str(out, value);
		}
		rc = out->rc;
		goto out;
	case ':':
		null_is_unset = true;
		ch = lx_next(lx);
		buf_rune(&chs, ch);
		/* fallthrough */
	case '+':
	case '-':
	case '?':
	case '#':
	case '%': {
		bool raw = ch == '#' || ch == '%';
		rc = process_stop_on(lx, '}', raw, &word, NULL);
		if (rc) {
			if (rc == -EINVAL && lx_peek(lx) == R_EOF)
				rc = lex_fail(lx, -EINVAL, "syntax error: missing '}'");
			goto out;
		}
		buf_add(&word, "", 0);
		value = env_lookup(lx, name.s, &set);
		if (lx->skip_unset && !set) {
			buf_add(out, "${", 2);
			buf_add(out, name.s, name.n);
			buf_add(out, chs.s, chs.n);
			buf_add(out, word.s, word.n);
			buf_add(out, "}", 1);
			rc = out->rc;
			goto out;
		}
		switch (ch) {
		case '-':
			if (!set || (null_is_unset && !*value))
				buf_add(out, word.s, word.n);
			else
				buf_str(out, value);
			rc = out->rc;
			goto out;
		case '+':
			if (!(!set || (null_is_unset && !*value)))
				buf_add(out, word.s, word.n);
			rc = out->rc;
			goto out;
		case '?':
			if (!set || (null_is_unset && !*value))
				rc = lex_fail(lx, -EINVAL, "%s: %s", name.s,
					      word.n ? word.s
					      : !set ? "is not allowed to be unset"
						     : "is not allowed to be empty");
			else
				buf_str(out, value), rc = out->rc;
			goto out;
		case '%':
		case '#': {
			bool greedy = false;
			const char *w = word.s;
			size_t wn = word.n;
			if (wn == 0) {
				/* word[0] on an empty word: the frontend panics */
				rc = lex_fail(
					lx, -ENOTSUP,
					"${%s%s} with an empty pattern (BuildKit v0.13 crashes on it)",
					name.s, chs.s);
				goto out;
			}
			if (w[0] == (char)ch) {
				greedy = true;
				w++;
				wn--;
			}
			rc = pattern_op(lx, out, (int)ch, greedy, w, wn, value, strlen(value), NULL,
					0);
			goto out;
		}
		default:
			rc = lex_fail(lx, -EINVAL, "unsupported modifier (%s) in substitution",
				      chs.s);
			goto out;
		}
	}
	case '/': {
		bool all = lx_peek(lx) == '/';
		if (all)
			lx_next(lx);
		rc = process_stop_on(lx, '/', true, &pattern, NULL);
		if (rc) {
			if (rc == -EINVAL && lx_peek(lx) == R_EOF)
				rc = lex_fail(lx, -EINVAL, "syntax error: missing '/' in ${}");
			goto out;
		}
		rc = process_stop_on(lx, '}', true, &repl, NULL);
		if (rc) {
			if (rc == -EINVAL && lx_peek(lx) == R_EOF)
				rc = lex_fail(lx, -EINVAL, "syntax error: missing '}'");
			goto out;
		}
		buf_add(&pattern, "", 0);
		buf_add(&repl, "", 0);
		value = env_lookup(lx, name.s, &set);
		if (lx->skip_unset && !set) {
			buf_add(out, "${", 2);
			buf_add(out, name.s, name.n);
			buf_add(out, "/", 1);
			buf_add(out, pattern.s, pattern.n);
			buf_add(out, "/", 1);
			buf_add(out, repl.s, repl.n);
			buf_add(out, "}", 1);
			rc = out->rc;
			goto out;
		}
		rc = pattern_op(lx, out, '/', all, pattern.s, pattern.n, value, strlen(value),
				repl.s, repl.n);
		goto out;
	}
	default:
		rc = lex_fail(lx, -EINVAL, "unsupported modifier (%s) in substitution", chs.s);
		goto out;
	}
out:
	lx->depth--;
	if (!rc)
		rc = name.rc ? name.rc : word.rc ? word.rc : chs.rc;
	free(name.s);
	free(word.s);
	free(chs.s);
	free(pattern.s);
	free(repl.s);
	return rc;
}

/* shellWord.processStopOn; w may be NULL (the words are not wanted) */
static int process_stop_on(struct lex *lx, long stop, bool raw_escapes, struct buf *out,
			   struct words *w)
{
	bool saved = lx->raw_escapes;
	int rc = 0;

	lx->raw_escapes = raw_escapes;
	while (lx_peek(lx) != R_EOF) {
		long ch = lx_peek(lx);
		if (out->rc) {
			rc = out->rc;
			goto out;
		}
		if (stop != R_EOF && ch == stop) {
			lx_next(lx);
			goto out;
		}
		if (ch == '$' || (!lx->skip_quotes && (ch == '\'' || ch == '"'))) {
			struct buf tmp = {0};
			rc = ch == '$'	 ? process_dollar(lx, &tmp)
			     : ch == '"' ? process_double_quote(lx, &tmp)
					 : process_single_quote(lx, &tmp);
			if (!rc)
				rc = tmp.rc;
			if (!rc) {
				buf_add(out, tmp.s, tmp.n);
				if (ch == '$')
					w_string(w, tmp.s, tmp.n);
				else
					w_raw_string(w, tmp.s, tmp.n);
			}
			free(tmp.s);
			if (rc)
				goto out;
			continue;
		}
		ch = lx_next(lx);
		if (ch == lx->escape) {
			if (lx->raw_escapes) {
				w_raw_char(w, ch);
				buf_rune(out, ch);
			}
			ch = lx_next(lx);
			if (ch == R_EOF)
				break;
			w_raw_char(w, ch);
		} else {
			w_char(w, ch);
		}
		buf_rune(out, ch);
	}
	if (stop != R_EOF) {
		char t[5];
		t[utf8_encode((uint32_t)stop, t)] = '\0';
		rc = lex_fail(lx, -EINVAL,
			      "unexpected end of statement while looking for matching %s", t);
	}
out:
	lx->raw_escapes = saved;
	if (!rc)
		rc = out->rc;
	if (!rc && w && (w->rc || w->word.rc))
		rc = w->rc ? w->rc : w->word.rc;
	return rc;
}

struct lex_opts {
	int escape;
	bool raw_quotes, raw_escapes, skip_unset, skip_quotes, strict;
};

/* Lex.process: the word, and its words when w is given.  Errors are
 * wrapped as "failed to process "WORD": reason". */
static int lex_process(const char *word, const struct df_env *env, const struct lex_opts *o,
		       char **out, struct words *w, char *err, size_t errsz)
{
	static const struct df_env empty;
	struct lex lx = {0};
	struct buf res = {0};
	char inner[384];
	int rc;

	*out = NULL;
	lx.r = to_runes(word, strlen(word), &lx.n);
	if (!lx.r)
		return -ENOMEM;
	lx.env = env ? env : &empty;
	lx.escape = o->escape;
	lx.raw_quotes = o->raw_quotes;
	lx.raw_escapes = o->raw_escapes;
	lx.skip_unset = o->skip_unset;
	lx.skip_quotes = o->skip_quotes;
	lx.strict = o->strict;
	lx.err = inner;
	lx.errsz = sizeof(inner);
	inner[0] = '\0';
	rc = process_stop_on(&lx, R_EOF, o->raw_escapes, &res, w);
	free(lx.r);
	if (!rc && lx.unknown[0]) {
		snprintf(
			inner, sizeof(inner),
			"'%s' is not set by the Dockerfile and the base image may set it (ctxpack does not read images)",
			lx.unknown);
		rc = -ENOTSUP;
	}
	if (rc == -E2BIG && !inner[0])
		snprintf(inner, sizeof(inner), "expands to more than %u bytes",
			 DOCKERFILE_MAX_WORD);
	if (rc) {
		struct buf m = {0};
		free(res.s);
		if (rc == -ENOMEM)
			return rc;
		buf_str(&m, "failed to process ");
		go_quote(&m, word, strlen(word));
		buf_str(&m, ": ");
		buf_str(&m, inner);
		snprintf(err, errsz, "%s", m.s ? m.s : inner);
		free(m.s);
		return rc;
	}
	if (w)
		w_flush(w);
	*out = buf_take(&res);
	return *out ? (w ? w->rc : 0) : -ENOMEM;
}

int dockerfile_shell_word(char **out, const char *word, const struct df_env *env, int escape,
			  char *err, size_t errsz)
{
	struct lex_opts o = {.escape = escape};

	if (!out || !word)
		return -EINVAL;
	return lex_process(word, env, &o, out, NULL, err, errsz);
}

static void words_release(struct words *w)
{
	strv_free(w->v, w->n);
	free(w->word.s);
	memset(w, 0, sizeof(*w));
}

/* ---- the handle ---- */

static int df_fail(struct dockerfile *df, int rc, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int df_fail(struct dockerfile *df, int rc, int line, const char *fmt, ...)
{
	char raw[448], m[448];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* bytes from the Dockerfile reach the message: control bytes and
	 * bytes that are not UTF-8 become \xHH (text_quote) */
	text_quote(m, sizeof(m), raw, strlen(raw));
	df->err.code = rc;
	df->err.line = line;
	if (rc == -ENOMEM)
		snprintf(df->err.msg, sizeof(df->err.msg), "%s: out of memory", df->source);
	else if (line > 0)
		snprintf(df->err.msg, sizeof(df->err.msg), "%s:%d: %s", df->source, line, m);
	else
		snprintf(df->err.msg, sizeof(df->err.msg), "%s: %s", df->source, m);
	return rc;
}

int dockerfile_new(struct dockerfile **out)
{
	if (!out)
		return -EINVAL;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->escape = '\\';
	return 0;
}

static void instr_release(struct df_instr *in)
{
	free(in->cmd);
	free(in->name);
	free(in->original);
	strv_free(in->flags, in->nflags);
	strv_free(in->args, in->nargs);
	for (size_t i = 0; i < in->nheredocs; i++) {
		free(in->heredocs[i].name);
		free(in->heredocs[i].content);
	}
	free(in->heredocs);
	free(in->from);
	free(in->chown);
	free(in->chmod);
	free(in->checksum);
	strv_free(in->excludes, in->nexcludes);
	strv_free(in->srcs, in->nsrcs);
	strv_free(in->heredoc_srcs, in->nheredoc_srcs);
	free(in->dest);
	for (size_t i = 0; i < in->nmounts; i++) {
		free(in->mounts[i].spec);
		free(in->mounts[i].from);
		free(in->mounts[i].type);
		free(in->mounts[i].source);
		free(in->mounts[i].target);
	}
	free(in->mounts);
	free(in->network);
	strv_free(in->arg_keys, in->nargkv);
	strv_free(in->arg_values, in->nargkv);
	strv_free(in->env_keys, in->nenv);
	strv_free(in->env_values, in->nenv);
}

void dockerfile_free(struct dockerfile **dfp)
{
	struct dockerfile *df;

	if (!dfp || !*dfp)
		return;
	df = *dfp;
	for (size_t i = 0; i < df->ninstrs; i++)
		instr_release(&df->instrs[i]);
	free(df->instrs);
	for (size_t i = 0; i < df->nstages; i++) {
		free(df->stages[i].name);
		free(df->stages[i].base_raw);
		free(df->stages[i].base);
		free(df->stages[i].platform);
	}
	free(df->stages);
	free(df->by_name);
	for (size_t i = 0; i < df->nwarnings; i++)
		free(df->warnings[i].msg);
	free(df->warnings);
	strv_free(df->meta_keys, df->nmeta);
	strv_free(df->meta_values, df->nmeta);
	strv_free(df->build_args, df->nbuild_args);
	free((char *)df->opts.target_platform);
	free((char *)df->opts.build_platform);
	free(df->syntax);
	free(df->source);
	free(df);
	*dfp = NULL;
}

const char *dockerfile_errmsg(const struct dockerfile *df)
{
	return df ? df->err.msg : "";
}

const struct df_error *dockerfile_error(const struct dockerfile *df)
{
	return df ? &df->err : NULL;
}

/* ---- bytes and runes as Go's strings package sees them ---- */

/* unicode.IsSpace on a byte taken as a rune (extractBuilderFlags,
 * parseHealthConfig index bytes). */
static bool byte_space(unsigned char c)
{
	return utf8_is_space(c);
}

/* reWhitespace: [\t\v\f\r ] */
static bool re_ws(unsigned char c)
{
	return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

/* bytes.TrimLeftFunc(s, unicode.IsSpace): bytes skipped */
static size_t trim_left_space(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t r;
		size_t w = utf8_decode((const unsigned char *)s + i, n - i, &r);
		if (!(r != UTF8_RUNE_ERROR || w != 1) || !utf8_is_space(r))
			break;
		i += w;
	}
	return i;
}

/* strings.TrimSpace: *st the start, returns the length */
static size_t trim_space(const char *s, size_t n, size_t *st)
{
	size_t i = trim_left_space(s, n), e = n;

	while (e > i) {
		size_t k = e - 1;
		uint32_t r;
		while (k > i && ((unsigned char)s[k] & 0xC0) == 0x80 && e - k < 4)
			k--;
		if (utf8_decode((const unsigned char *)s + k, e - k, &r) != e - k ||
		    !utf8_is_space(r))
			break;
		e = k;
	}
	*st = i;
	return e - i;
}

/* strings.ToLower for the names compared here: ASCII, and the Kelvin sign
 * that Go lowers to 'k'. */
static char *go_lower(const char *s)
{
	struct buf b = {0};

	for (size_t i = 0; s[i];) {
		if (strncmp(s + i, "\xE2\x84\xAA", 3) == 0) {
			buf_add(&b, "k", 1);
			i += 3;
			continue;
		}
		char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
		buf_add(&b, &c, 1);
		i++;
	}
	if (b.rc) {
		free(b.s);
		return NULL;
	}
	return buf_take(&b);
}

/* strings.EqualFold(s, "as"): 'ſ' (U+017F) folds to 's'. */
static bool fold_is_as(const char *s)
{
	if (s[0] != 'a' && s[0] != 'A')
		return false;
	return (s[1] == 's' || s[1] == 'S') ? !s[2] : !strcmp(s + 1, "\xC5\xBF");
}

static char *go_upper_ascii(const char *s)
{
	char *u = sdup(s);

	for (size_t i = 0; u && u[i]; i++)
		if (u[i] >= 'a' && u[i] <= 'z')
			u[i] = (char)(u[i] - 'a' + 'A');
	return u;
}

/* levenshtein.Distance over runes */
static size_t levenshtein(const char *a, const char *b)
{
	size_t na, nb, *row, d;
	uint32_t *ra = to_runes(a, strlen(a), &na), *rb = to_runes(b, strlen(b), &nb);

	row = malloc((nb + 1) * sizeof(*row));
	if (!ra || !rb || !row) {
		free(ra);
		free(rb);
		free(row);
		return (size_t)-1;
	}
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t cur = row[j], best = prev + (ra[i - 1] != rb[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	d = row[nb];
	free(ra);
	free(rb);
	free(row);
	return d;
}

/* suggest.WrapError: " (did you mean X?)" or "" in out.  Go walks a map
 * (ties are found in any order); here the first of opts wins a tie. */
static void suggest(char *out, size_t outsz, const char *val, const char *const *opts,
		    bool case_sensitive)
{
	char *v = case_sensitive ? sdup(val) : go_lower(val), *match = NULL;
	size_t mind = 3;

	out[0] = '\0';
	if (!v)
		return;
	for (size_t i = 0; opts[i]; i++) {
		char *o = case_sensitive ? sdup(opts[i]) : go_lower(opts[i]);
		size_t d;
		if (!o)
			break;
		if (strcmp(v, o) == 0) {
			free(o);
			free(match);
			match = NULL;
			break;
		}
		d = levenshtein(v, o);
		if (d < mind) {
			free(match);
			match = o;
			o = NULL;
			mind = d;
		}
		free(o);
	}
	if (match) {
		char *up = go_upper_ascii(val), *m = NULL;
		/* matchCase: all lower stays lower, all upper becomes upper */
		if (!case_sensitive && strcmp(val, v) && up && !strcmp(val, up))
			m = go_upper_ascii(match);
		snprintf(out, outsz, " (did you mean %s?)", m ? m : match);
		free(m);
		free(up);
	}
	free(match);
	free(v);
}

/* ---- JSON arrays of strings (parseJSON: encoding/json's Decoder) ---- */

struct jp {
	const char *s;
	size_t n, i;
};

static void jp_ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
			       p->s[p->i] == '\r'))
		p->i++;
}

static int hexv(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static long jp_u4(struct jp *p)
{
	long v = 0;

	if (p->i + 4 > p->n)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexv(p->s[p->i + (size_t)k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	p->i += 4;
	return v;
}

/* A string at p->i; out (may be NULL) gets it decoded.  -1: syntax. */
static int jp_string(struct jp *p, struct buf *out)
{
	struct buf dummy = {0};

	if (!out)
		out = &dummy;
	p->i++;
	while (p->i < p->n) {
		unsigned char c = (unsigned char)p->s[p->i];
		if (c == '"') {
			p->i++;
			free(dummy.s);
			return 0;
		}
		if (c < 0x20)
			break;
		if (c == '\\') {
			char e;
			if (++p->i >= p->n)
				break;
			e = p->s[p->i++];
			switch (e) {
			case '"':
			case '\\':
			case '/':
				buf_add(out, &e, 1);
				break;
			case 'b':
				buf_add(out, "\b", 1);
				break;
			case 'f':
				buf_add(out, "\f", 1);
				break;
			case 'n':
				buf_add(out, "\n", 1);
				break;
			case 'r':
				buf_add(out, "\r", 1);
				break;
			case 't':
				buf_add(out, "\t", 1);
				break;
			case 'u': {
				long r = jp_u4(p);
				if (r < 0)
					goto bad;
				if (r >= 0xD800 && r < 0xDC00) {
					size_t save = p->i;
					long r2 = -1;
					if (p->i + 1 < p->n && p->s[p->i] == '\\' &&
					    p->s[p->i + 1] == 'u') {
						p->i += 2;
						r2 = jp_u4(p);
					}
					if (r2 >= 0xDC00 && r2 < 0xE000) {
						r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
					} else {
						r = UTF8_RUNE_ERROR;
						p->i = save;
					}
				} else if (r >= 0xDC00 && r < 0xE000) {
					r = UTF8_RUNE_ERROR;
				}
				if (r == 0) { /* a NUL in a C string: refused */
					free(dummy.s);
					return -2;
				}
				buf_rune(out, r);
				break;
			}
			default:
				goto bad;
			}
			continue;
		}
		{
			uint32_t r;
			size_t w = utf8_decode((const unsigned char *)p->s + p->i, p->n - p->i, &r);
			if (r == UTF8_RUNE_ERROR && w == 1)
				buf_rune(out, r);
			else
				buf_add(out, p->s + p->i, w);
			p->i += w;
		}
	}
bad:
	free(dummy.s);
	return -1;
}

static int jp_value(struct jp *p, int depth);

static int jp_number(struct jp *p)
{
	size_t st = p->i;

	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0') {
		p->i++;
	} else if (p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9') {
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	} else {
		return -1;
	}
	if (p->i < p->n && p->s[p->i] == '.') {
		size_t d = ++p->i;
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
		if (p->i == d)
			return -1;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		size_t d;
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		d = p->i;
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
		if (p->i == d)
			return -1;
	}
	/* the decoder needs a byte after a number to know it ended */
	return p->i > st && p->i < p->n ? 0 : -1;
}

static int jp_container(struct jp *p, int depth, char close)
{
	p->i++;
	jp_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		return 0;
	}
	for (;;) {
		jp_ws(p);
		if (close == '}') {
			if (p->i >= p->n || p->s[p->i] != '"' || jp_string(p, NULL) == -1)
				return -1;
			jp_ws(p);
			if (p->i >= p->n || p->s[p->i++] != ':')
				return -1;
			jp_ws(p);
		}
		if (jp_value(p, depth + 1))
			return -1;
		jp_ws(p);
		if (p->i >= p->n)
			return -1;
		if (p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->s[p->i] == close) {
			p->i++;
			return 0;
		}
		return -1;
	}
}

static int jp_value(struct jp *p, int depth)
{
	static const char *const lits[] = {"true", "false", "null"};

	if (depth > 10000) /* encoding/json's maxNestingDepth */
		return -1;
	jp_ws(p);
	if (p->i >= p->n)
		return -1;
	switch (p->s[p->i]) {
	case '"':
		return jp_string(p, NULL) == -1 ? -1 : 0;
	case '[':
		return jp_container(p, depth, ']');
	case '{':
		return jp_container(p, depth, '}');
	}
	for (size_t k = 0; k < ARRAY_SIZE(lits); k++) {
		size_t l = strlen(lits[k]);
		if (p->n - p->i >= l && memcmp(p->s + p->i, lits[k], l) == 0) {
			p->i += l;
			return 0;
		}
	}
	return jp_number(p);
}

/* parseJSON: 0 and the strings; 1: a JSON array with an element that is
 * not a string (errDockerfileNotStringArray); -1: not JSON (the caller
 * falls back); -ENOMEM. */
static int parse_json(const char *rest, char ***out, size_t *nout)
{
	size_t st = trim_left_space(rest, strlen(rest)), a = 0;
	struct jp p = {rest + st, strlen(rest + st), 0};
	bool not_string = false;

	*out = NULL;
	*nout = 0;
	if (p.n == 0 || p.s[0] != '[')
		return -1;
	p.i = 1;
	jp_ws(&p);
	if (p.i < p.n && p.s[p.i] == ']')
		return 0;
	for (;;) {
		jp_ws(&p);
		if (p.i < p.n && p.s[p.i] == '"' && !not_string) {
			struct buf b = {0};
			int src = jp_string(&p, &b);
			if (src) {
				free(b.s);
				if (src == -2) {
					strv_free(*out, *nout);
					*out = NULL;
					*nout = 0;
					return 2;
				}
				goto bad;
			}
			if (b.rc || strv_push(out, nout, &a, buf_take(&b))) {
				free(b.s);
				strv_free(*out, *nout);
				*out = NULL;
				return -ENOMEM;
			}
		} else {
			if (jp_value(&p, 2))
				goto bad;
			not_string = true;
		}
		jp_ws(&p);
		if (p.i >= p.n)
			goto bad;
		if (p.s[p.i] == ',') {
			p.i++;
			continue;
		}
		if (p.s[p.i] == ']')
			break;
		goto bad;
	}
	if (not_string) {
		strv_free(*out, *nout);
		*out = NULL;
		*nout = 0;
		return 1;
	}
	return 0;
bad:
	strv_free(*out, *nout);
	*out = NULL;
	*nout = 0;
	return -1;
}

/* ---- the parser (parser/parser.go, line_parsers.go, split_command.go) ---- */

/* A logical line turned into a node: what newNodeFromLine gives. */
struct node {
	char *cmd;
	char **flags;
	size_t nflags, aflags;
	char **args; /* nodeArgs */
	size_t nargs, aargs;
	bool json;
	char *sub_cmd; /* ONBUILD: the trigger's command and its json */
	bool sub_json;
	char *err; /* a line parser's error (malloc'd message) */
};

static void node_release(struct node *n)
{
	free(n->cmd);
	strv_free(n->flags, n->nflags);
	strv_free(n->args, n->nargs);
	free(n->sub_cmd);
	free(n->err);
	memset(n, 0, sizeof(*n));
}

static int node_arg(struct node *n, const char *s, size_t len)
{
	return strv_push(&n->args, &n->nargs, &n->aargs, xmemdup(s, len));
}

static int node_errf(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int node_errf(struct node *n, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (!m)
		return -ENOMEM;
	free(n->err);
	n->err = m;
	return -EINVAL;
}

/* parseWords: words split at Unicode spaces, quotes kept, the escape
 * character kept with what it escapes. */
static int parse_words(const char *rest, int escape, char ***out, size_t *nout)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	size_t len = strlen(rest), a = 0, w = 0;
	struct buf word = {0};
	bool blank_ok = false;
	uint32_t ch = 0, quote = 0;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	for (size_t pos = 0; pos <= len; pos += w) {
		if (pos != len)
			w = utf8_decode((const unsigned char *)rest + pos, len - pos, &ch);
		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (utf8_is_space(ch))
				continue;
			phase = IN_WORD;
		}
		if (pos == len) {
			if (blank_ok || word.n)
				rc = strv_push(out, nout, &a, buf_take(&word));
			break;
		}
		if (phase == IN_WORD) {
			if (utf8_is_space(ch)) {
				phase = IN_SPACES;
				if (blank_ok || word.n)
					if ((rc = strv_push(out, nout, &a, buf_take(&word))))
						break;
				word.n = 0;
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = IN_QUOTE;
			}
			if (ch == (uint32_t)escape) {
				if (pos + w == len)
					continue;
				buf_rune(&word, ch);
				pos += w;
				w = utf8_decode((const unsigned char *)rest + pos, len - pos, &ch);
			}
			buf_rune(&word, ch);
			continue;
		}
		/* IN_QUOTE */
		if (ch == quote)
			phase = IN_WORD;
		if (ch == (uint32_t)escape && quote != '\'') {
			if (pos + w == len) {
				phase = IN_WORD;
				continue;
			}
			pos += w;
			buf_rune(&word, ch);
			w = utf8_decode((const unsigned char *)rest + pos, len - pos, &ch);
		}
		buf_rune(&word, ch);
	}
	if (!rc && word.rc)
		rc = word.rc;
	free(word.s);
	return rc;
}

/* reWhitespace.Split(s, max): max 2 or -1 */
static int split_ws(const char *s, int max, char ***out, size_t *n)
{
	size_t a = 0, i = 0, len = strlen(s);

	*out = NULL;
	*n = 0;
	for (;;) {
		size_t j = i;
		if (max > 0 && (int)*n == max - 1)
			j = len;
		else
			while (j < len && !re_ws((unsigned char)s[j]))
				j++;
		if (strv_push(out, n, &a, xmemdup(s + i, j - i)))
			return -ENOMEM;
		if (j >= len)
			return 0;
		while (j < len && re_ws((unsigned char)s[j]))
			j++;
		i = j;
	}
}

static int node_take_list(struct node *n, char **v, size_t nv)
{
	int rc = 0;

	for (size_t i = 0; i < nv; i++)
		if (!rc)
			rc = node_arg(n, v[i], strlen(v[i]));
	strv_free(v, nv);
	return rc;
}

/* parseStringsWhitespaceDelimited */
static int lp_ws_delimited(struct node *n, const char *rest)
{
	char **v;
	size_t nv;

	if (!*rest)
		return 0;
	if (split_ws(rest, -1, &v, &nv)) {
		strv_free(v, nv);
		return -ENOMEM;
	}
	return node_take_list(n, v, nv);
}

/* parseMaybeJSON (to_list false) and parseMaybeJSONToList (true) */
static int lp_maybe_json(struct node *n, const char *rest, bool to_list)
{
	char **v;
	size_t nv;
	int rc;

	if (!to_list && !*rest)
		return 0;
	rc = parse_json(rest, &v, &nv);
	if (rc == 0) {
		n->json = true;
		return node_take_list(n, v, nv);
	}
	if (rc == 1)
		return node_errf(
			n,
			"when using JSON array syntax, arrays must be comprised of strings only");
	if (rc == 2)
		return node_errf(
			       n,
			       "a \\u0000 in a JSON array (ctxpack does not read NUL characters)") ==
				       -EINVAL
			       ? -ENOTSUP
			       : -ENOMEM;
	if (rc < -1)
		return rc;
	if (to_list)
		return lp_ws_delimited(n, rest);
	return node_arg(n, rest, strlen(rest));
}

/* parseNameVal (ENV, LABEL) */
static int lp_name_val(struct node *n, const char *rest, const char *key, int escape)
{
	char **w;
	size_t nw;
	int rc = parse_words(rest, escape, &w, &nw);

	if (rc || nw == 0)
		goto out;
	if (!strchr(w[0], '=')) {
		char **parts;
		size_t np;
		if (split_ws(rest, 2, &parts, &np)) {
			strv_free(parts, np);
			rc = -ENOMEM;
			goto out;
		}
		if (np < 2)
			rc = node_errf(n, "%s must have two arguments", key);
		else
			rc = node_take_list(n, parts, np), parts = NULL, np = 0;
		strv_free(parts, np);
		goto out;
	}
	for (size_t i = 0; i < nw && !rc; i++) {
		char *eq = strchr(w[i], '=');
		if (!eq) {
			struct buf q = {0};
			go_quote(&q, w[i], strlen(w[i]));
			rc = node_errf(
				n,
				"Syntax error - can't find = in %s. Must be of the form: name=value",
				q.s ? q.s : "");
			free(q.s);
			break;
		}
		rc = node_arg(n, w[i], (size_t)(eq - w[i]));
		if (!rc)
			rc = node_arg(n, eq + 1, strlen(eq + 1));
	}
out:
	strv_free(w, nw);
	return rc;
}

static int new_node_from_line(struct node *n, const char *line, int escape, int depth);

/* parseHealthConfig */
static int lp_health(struct node *n, const char *rest)
{
	size_t sep = 0, next, len = strlen(rest);
	int rc;

	while (sep < len && !byte_space((unsigned char)rest[sep]))
		sep++;
	next = sep;
	while (next < len && byte_space((unsigned char)rest[next]))
		next++;
	if (sep == 0)
		return 0;
	if ((rc = node_arg(n, rest, sep)))
		return rc;
	return lp_maybe_json(n, rest + next, false);
}

/* extractBuilderFlags: byte-wise; *args_at where the arguments start
 * (NULL: none left). */
static int extract_flags(struct node *n, const char *line, const char **args_at)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	size_t len = strlen(line);
	struct buf word = {0};
	bool blank_ok = false;
	char quote = 0;
	int rc = 0;

	*args_at = NULL;
	for (size_t pos = 0; pos <= len; pos++) {
		unsigned char ch = pos != len ? (unsigned char)line[pos] : 0;
		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (byte_space(ch))
				continue;
			if (ch != '-' || pos + 1 == len || line[pos + 1] != '-') {
				*args_at = line + pos;
				goto out;
			}
			phase = IN_WORD;
		}
		if (pos == len) {
			bool dd = word.n == 2 && memcmp(word.s, "--", 2) == 0;
			if (!dd && (blank_ok || word.n))
				rc = strv_push(&n->flags, &n->nflags, &n->aflags, buf_take(&word));
			break;
		}
		if (phase == IN_WORD) {
			if (byte_space(ch)) {
				phase = IN_SPACES;
				if (word.n == 2 && memcmp(word.s, "--", 2) == 0) {
					*args_at = line + pos;
					goto out;
				}
				if (blank_ok || word.n)
					if ((rc = strv_push(&n->flags, &n->nflags, &n->aflags,
							    buf_take(&word))))
						goto out;
				word.n = 0;
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = (char)ch;
				blank_ok = true;
				phase = IN_QUOTE;
				continue;
			}
			if (ch == '\\') {
				if (pos + 1 == len)
					continue;
				ch = (unsigned char)line[++pos];
			}
			buf_add(&word, (char *)&ch, 1);
			continue;
		}
		if (ch == (unsigned char)quote) {
			phase = IN_WORD;
			continue;
		}
		if (ch == '\\') {
			if (pos + 1 == len) {
				phase = IN_WORD;
				continue;
			}
			ch = (unsigned char)line[++pos];
		}
		buf_add(&word, (char *)&ch, 1);
	}
out:
	if (!rc)
		rc = word.rc;
	free(word.s);
	return rc;
}

/* newNodeFromLine with splitCommand and the dispatch table of init() */
static int new_node_from_line(struct node *n, const char *line, int escape, int depth)
{
	size_t st, len = trim_space(line, strlen(line), &st), k = 0;
	const char *s = line + st, *args_at = NULL;
	char *lower = NULL, *args = NULL;
	int rc = 0;

	while (k < len && !re_ws((unsigned char)s[k]))
		k++;
	n->cmd = xmemdup(s, k);
	if (!n->cmd)
		return -ENOMEM;
	if (k < len) {
		char *rest;
		size_t j = k, ast;
		while (j < len && re_ws((unsigned char)s[j]))
			j++;
		rest = xmemdup(s + j, len - j);
		if (!rest)
			return -ENOMEM;
		rc = extract_flags(n, rest, &args_at);
		if (!rc && args_at) {
			size_t al = trim_space(args_at, strlen(args_at), &ast);
			args = xmemdup(args_at + ast, al);
		} else if (!rc) {
			args = xmemdup("", 0);
		}
		free(rest);
	} else {
		args = xmemdup("", 0);
	}
	if (rc || !args)
		goto out;
	lower = go_lower(n->cmd);
	if (!lower) {
		rc = -ENOMEM;
		goto out;
	}
	if (!strcmp(lower, "add") || !strcmp(lower, "copy") || !strcmp(lower, "volume"))
		rc = lp_maybe_json(n, args, true);
	else if (!strcmp(lower, "arg")) {
		char **w;
		size_t nw;
		rc = parse_words(args, escape, &w, &nw);
		if (!rc)
			rc = node_take_list(n, w, nw);
		else
			strv_free(w, nw);
	} else if (!strcmp(lower, "cmd") || !strcmp(lower, "entrypoint") || !strcmp(lower, "run") ||
		   !strcmp(lower, "shell"))
		rc = lp_maybe_json(n, args, false);
	else if (!strcmp(lower, "env"))
		rc = lp_name_val(n, args, "ENV", escape);
	else if (!strcmp(lower, "label"))
		rc = lp_name_val(n, args, "LABEL", escape);
	else if (!strcmp(lower, "expose") || !strcmp(lower, "from"))
		rc = lp_ws_delimited(n, args);
	else if (!strcmp(lower, "healthcheck"))
		rc = lp_health(n, args);
	else if (!strcmp(lower, "maintainer") || !strcmp(lower, "stopsignal") ||
		 !strcmp(lower, "user") || !strcmp(lower, "workdir")) {
		if (*args)
			rc = node_arg(n, args, strlen(args));
	} else if (!strcmp(lower, "onbuild")) {
		/* parseSubCommand; nodeArgs flattens the child */
		if (*args && depth >= ONBUILD_MAX_DEPTH) {
			rc = node_errf(n, "ONBUILD nested deeper than %d levels",
				       ONBUILD_MAX_DEPTH);
			if (rc == -EINVAL)
				rc = -E2BIG;
		} else if (*args) {
			struct node child = {0};
			rc = new_node_from_line(&child, args, escape, depth + 1);
			if (rc == -EINVAL || rc == -ENOTSUP || rc == -E2BIG) {
				n->err = child.err;
				child.err = NULL;
			}
			if (!rc) {
				rc = node_arg(n, child.cmd, strlen(child.cmd));
				for (size_t i = 0; i < child.nargs && !rc; i++)
					rc = node_arg(n, child.args[i], strlen(child.args[i]));
				n->sub_cmd = child.cmd;
				child.cmd = NULL;
				n->sub_json = child.json;
			}
			node_release(&child);
		}
	} else {
		rc = node_arg(n, "", 0); /* parseIgnore */
	}
out:
	free(lower);
	free(args);
	return rc;
}

/* ParseHeredoc (reHeredoc, then heredocFromMatch).  0 with *h->name
 * NULL: not a heredoc. */
static int parse_heredoc(const char *src, struct df_heredoc *h, char *err, size_t errsz)
{
	const char *p = src, *rest;
	struct lex_opts o = {.escape = '\\', .skip_unset = true};
	struct words w = {0}, wr = {0};
	char *tmp = NULL;
	unsigned long long fd = 0;
	bool overflow = false;
	int rc;

	memset(h, 0, sizeof(*h));
	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		if (fd > (~0ull - d) / 10)
			overflow = true;
		fd = fd * 10 + d;
		p++;
	}
	if (p[0] != '<' || p[1] != '<')
		return 0;
	p += 2;
	h->chomp = *p == '-';
	if (h->chomp)
		p++;
	rest = p;
	if (strchr(rest, '<') || !*rest)
		return 0;
	h->fd = overflow ? ~0u : (unsigned)fd;
	rc = lex_process(rest, NULL, &o, &tmp, &w, err, errsz);
	free(tmp);
	if (rc || w.n != 1)
		goto out;
	o.raw_quotes = true;
	rc = lex_process(rest, NULL, &o, &tmp, &wr, err, errsz);
	free(tmp);
	if (rc)
		goto out;
	if (wr.n != w.n) {
		snprintf(err, errsz, "internal lexing of heredoc produced inconsistent results: %s",
			 rest);
		rc = -EINVAL;
		goto out;
	}
	{
		size_t q1 = 0, q2 = 0;
		for (const char *c = w.v[0]; *c; c++)
			q1 += *c == '\'' || *c == '"';
		for (const char *c = wr.v[0]; *c; c++)
			q2 += *c == '\'' || *c == '"';
		h->expand = q1 == q2;
	}
	h->name = w.v[0];
	w.v[0] = xmemdup("", 0);
	if (!h->name)
		rc = -ENOMEM;
out:
	words_release(&w);
	words_release(&wr);
	return rc;
}

/* bufio.Scanner with scanLines: a token keeps its '\n'; a line that does
 * not fit in 64 KiB stops the scan (ErrTooLong). */
struct scanner {
	const char *p, *end;
	const char *tok;
	size_t len;
	bool too_long;
};

static bool scan(struct scanner *sc)
{
	const char *nl;
	size_t tok;

	if (sc->too_long || sc->p >= sc->end)
		return false;
	nl = memchr(sc->p, '\n', (size_t)(sc->end - sc->p));
	tok = nl ? (size_t)(nl - sc->p) + 1 : (size_t)(sc->end - sc->p);
	if (tok + (nl ? 0 : 1) > SCANNER_MAX_TOKEN) {
		sc->too_long = true;
		return false;
	}
	sc->tok = sc->p;
	sc->len = tok;
	sc->p += tok;
	return true;
}

/* trimNewline: bytes.TrimRight(s, "\r\n") */
static size_t trim_newline(const char *s, size_t n)
{
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return n;
}

static bool is_go_re_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* DirectiveParser.ParseLine's regexp
 * ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ : key and value, or false. */
static bool directive_match(const char *s, size_t n, char **key, char **value)
{
	size_t i = 1, ks, ke, rs, l, vs, ve;

	if (n == 0 || s[0] != '#')
		return false;
	while (i < n && is_go_re_space(s[i]))
		i++;
	ks = i;
	if (i >= n || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
		return false;
	while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			 (s[i] >= '0' && s[i] <= '9')))
		i++;
	ke = i;
	while (i < n && is_go_re_space(s[i]))
		i++;
	if (i >= n || s[i] != '=')
		return false;
	rs = ++i;
	if (rs >= n)
		return false;
	l = 0;
	while (rs + l < n && is_go_re_space(s[rs + l]))
		l++;
	if (rs + l == n) {
		vs = n - 1; /* all space: the last one is the value */
		ve = n;
	} else {
		vs = rs + l;
		ve = n;
		while (ve > vs + 1 && is_go_re_space(s[ve - 1]))
			ve--;
	}
	*key = xmemdup(s + ks, ke - ks);
	*value = xmemdup(s + vs, ve - vs);
	return true;
}

struct pstate {
	struct dockerfile *df;
	bool dir_done;
	bool seen_syntax, seen_escape;
	int dir_line;
};

/* directives.possibleParserDirective via DirectiveParser.ParseLine */
static int possible_directive(struct pstate *ps, const char *s, size_t n, int line)
{
	struct dockerfile *df = ps->df;
	char *key = NULL, *value = NULL, *lk;
	int rc = 0;

	ps->dir_line++;
	if (ps->dir_done)
		return 0;
	if (!directive_match(s, n, &key, &value)) {
		ps->dir_done = true;
		return 0;
	}
	if (!key || !value || !(lk = go_lower(key))) {
		free(key);
		free(value);
		return df_fail(df, -ENOMEM, 0, "out of memory");
	}
	if (strcmp(lk, "syntax") && strcmp(lk, "escape")) {
		ps->dir_done = true; /* v0.13 knows no "check" directive */
	} else if ((!strcmp(lk, "syntax") && ps->seen_syntax) ||
		   (!strcmp(lk, "escape") && ps->seen_escape)) {
		rc = df_fail(df, -EINVAL, line, "only one %s parser directive can be used", lk);
	} else if (!strcmp(lk, "syntax")) {
		ps->seen_syntax = true;
		free(df->syntax);
		df->syntax = value;
		value = NULL;
		df->syntax_line = line;
	} else {
		ps->seen_escape = true;
		if (strcmp(value, "`") && strcmp(value, "\\")) {
			char q[128];
			rc = df_fail(df, -EINVAL, line,
				     "invalid escape token '%s' does not match ` or \\",
				     text_quote(q, sizeof(q), value, strlen(value)));
		} else {
			df->escape = value[0];
			df->escape_line = line;
		}
	}
	free(lk);
	free(key);
	free(value);
	return rc;
}

/* processLine: *out_n the processed length (a comment becomes empty) */
static int process_line(struct pstate *ps, const char *tok, size_t n, bool strip, int line,
			const char **out, size_t *out_n)
{
	int rc;

	n = trim_newline(tok, n);
	if (strip) {
		size_t k = trim_left_space(tok, n);
		tok += k;
		n -= k;
	}
	rc = possible_directive(ps, tok, n, line);
	*out = tok;
	*out_n = n && tok[0] == '#' ? 0 : n;
	return rc;
}

static bool is_comment(const char *tok, size_t n)
{
	size_t k;

	n = trim_newline(tok, n);
	k = trim_left_space(tok, n);
	return k < n && tok[k] == '#';
}

/* trimContinuationCharacter: the line without its escape at the end
 * (and the blanks after it); *eol false when it continues. */
static size_t trim_continuation(const char *s, size_t n, int escape, bool *eol)
{
	size_t e = n;

	while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	if (e > 0 && s[e - 1] == (char)escape && (e == 1 || s[e - 2] != (char)escape)) {
		*eol = false;
		return e - 1;
	}
	*eol = true;
	return n;
}

static int add_warning(struct dockerfile *df, int line, const char *prefix, const char *text)
{
	struct buf b = {0};

	buf_str(&b, prefix);
	buf_str(&b, text);
	if (b.rc == -E2BIG) { /* a line may be long: keep its start */
		b.rc = 0;
	}
	if (b.rc || GROW(df->warnings, df->awarnings, df->nwarnings + 1)) {
		free(b.s);
		return -ENOMEM;
	}
	df->warnings[df->nwarnings].line = line;
	df->warnings[df->nwarnings++].msg = buf_take(&b);
	return 0;
}

/* canContainHeredoc */
static bool can_contain_heredoc(const struct node *n)
{
	const char *c = n->cmd;
	bool json = n->json;
	char *l = go_lower(c);
	bool ok;

	if (l && !strcmp(l, "onbuild") && n->sub_cmd) {
		free(l);
		l = go_lower(n->sub_cmd);
		json = n->sub_json;
	}
	ok = l && (!strcmp(l, "add") || !strcmp(l, "copy") || !strcmp(l, "run")) && !json;
	free(l);
	return ok;
}

/* Adds the parsed node as instruction (lines, heredocs) */
static int add_instr(struct dockerfile *df, struct node *n, const char *line, int start, int end,
		     struct df_heredoc *hd, size_t nhd)
{
	struct df_instr *in;

	if (GROW(df->instrs, df->ainstrs, df->ninstrs + 1))
		return -ENOMEM;
	in = &df->instrs[df->ninstrs];
	memset(in, 0, sizeof(*in));
	in->cmd = n->cmd;
	n->cmd = NULL;
	in->name = go_lower(in->cmd);
	in->original = sdup(line);
	in->start_line = start;
	in->end_line = end;
	in->flags = n->flags;
	in->nflags = n->nflags;
	n->flags = NULL;
	n->nflags = 0;
	in->args = n->args;
	in->nargs = n->nargs;
	n->args = NULL;
	n->nargs = 0;
	in->json = n->json;
	in->heredocs = hd;
	in->nheredocs = nhd;
	in->stage = -1;
	df->ninstrs++;
	return in->name && in->original ? 0 : -ENOMEM;
}

/* parser.Parse */
static int parse_lines(struct dockerfile *df, const char *buf, size_t len)
{
	struct scanner sc = {buf, buf + len, NULL, 0, false};
	struct pstate ps = {df, false, false, false, 0};
	int cur = 0, rc = 0;

	while (scan(&sc)) {
		const char *tok = sc.tok, *pl;
		size_t tn = sc.len, pn, ln;
		struct buf line = {.max = DOCKERFILE_MAX_BYTES};
		struct node n = {0};
		struct df_heredoc *hd = NULL;
		size_t nhd = 0, ahd = 0;
		bool eol, empty_cont = false;
		int start;

		if (cur == 0 && tn >= 3 && memcmp(tok, "\xEF\xBB\xBF", 3) == 0) {
			tok += 3;
			tn -= 3;
		}
		if ((rc = process_line(&ps, tok, tn, true, cur + 1, &pl, &pn)))
			return rc;
		cur++;
		start = cur;
		ln = trim_continuation(pl, pn, df->escape, &eol);
		if (eol && ln == 0)
			continue;
		buf_add(&line, pl, ln);
		while (!eol && scan(&sc)) {
			if ((rc = process_line(&ps, sc.tok, sc.len, false, cur + 1, &pl, &pn))) {
				free(line.s);
				return rc;
			}
			cur++;
			if (is_comment(sc.tok, sc.len))
				continue;
			if (trim_left_space(pl, trim_newline(pl, pn)) == trim_newline(pl, pn)) {
				empty_cont = true;
				continue;
			}
			ln = trim_continuation(pl, pn, df->escape, &eol);
			buf_add(&line, pl, ln);
		}
		buf_add(&line, "", 0);
		if (line.rc) {
			free(line.s);
			return df_fail(df, line.rc, start,
				       line.rc == -E2BIG ? "instruction too long"
							 : "out of memory");
		}
		if (empty_cont &&
		    (rc = add_warning(df, cur, "Empty continuation line found in: ", line.s))) {
			free(line.s);
			return df_fail(df, rc, 0, "out of memory");
		}
		rc = new_node_from_line(&n, line.s, df->escape, 0);
		if (rc == 0 && can_contain_heredoc(&n)) {
			/* heredocsFromLine: the whole line, lexed with '\\' */
			struct lex_opts o = {.escape = '\\',
					     .raw_quotes = true,
					     .raw_escapes = true,
					     .skip_unset = true};
			struct words w = {0};
			char *tmp = NULL, err[384] = "";
			int lrc = lex_process(line.s, NULL, &o, &tmp, &w, err, sizeof(err));
			free(tmp);
			if (lrc == -ENOMEM)
				rc = lrc;
			for (size_t i = 0; lrc == 0 && !rc && i < w.n; i++) {
				struct df_heredoc h;
				rc = parse_heredoc(w.v[i], &h, err, sizeof(err));
				if (rc == -EINVAL || rc == -ENOTSUP || rc == -E2BIG) {
					rc = node_errf(&n, "%s", err);
					break;
				}
				if (!rc && h.name) {
					if (GROW(hd, ahd, nhd + 1)) {
						free(h.name);
						rc = -ENOMEM;
						break;
					}
					hd[nhd++] = h;
				}
			}
			words_release(&w);
			for (size_t i = 0; !rc && i < nhd; i++) {
				struct buf content = {.max = DOCKERFILE_MAX_BYTES};
				bool terminated = false;
				while (scan(&sc)) {
					size_t tl = trim_newline(sc.tok, sc.len), k = 0;
					cur++;
					if (hd[i].chomp)
						while (k < tl && sc.tok[k] == '\t')
							k++;
					if (tl - k == strlen(hd[i].name) &&
					    memcmp(sc.tok + k, hd[i].name, tl - k) == 0) {
						terminated = true;
						break;
					}
					buf_add(&content, sc.tok, sc.len);
				}
				buf_add(&content, "", 0);
				hd[i].content = buf_take(&content);
				if (content.rc || !hd[i].content)
					rc = content.rc ? content.rc : -ENOMEM;
				else if (!terminated)
					rc = node_errf(&n, "unterminated heredoc");
			}
		}
		if (!rc)
			rc = add_instr(df, &n, line.s, start, cur, hd, nhd);
		else {
			for (size_t i = 0; i < nhd; i++) {
				free(hd[i].name);
				free(hd[i].content);
			}
			free(hd);
		}
		if (rc == -EINVAL || rc == -ENOTSUP)
			rc = df_fail(df, rc, start, "%s", n.err ? n.err : "parse error");
		else if (rc == -E2BIG)
			rc = df_fail(df, rc, start, "%s", n.err ? n.err : "heredoc too long");
		else if (rc)
			rc = df_fail(df, rc, start, "out of memory");
		node_release(&n);
		free(line.s);
		if (rc)
			return rc;
	}
	df->nlines = cur;
	if (df->ninstrs == 0)
		return df_fail(df, -EINVAL, cur ? cur : 1, "file with no instructions");
	if (sc.too_long)
		return df_fail(df, -EINVAL, cur + 1,
			       "dockerfile line greater than max allowed size of %d",
			       SCANNER_MAX_TOKEN - 1);
	return 0;
}

/* ---- instructions (instructions/parse.go, bflag.go) ---- */

enum flag_type { F_BOOL, F_STRING, F_STRINGS };

struct flag_def {
	const char *name;
	enum flag_type type;
	const char *def;
	/* results */
	bool used;
	char *value;
	char **values;
	size_t nvalues, avalues;
};

static void flags_release(struct flag_def *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].value);
		strv_free(f[i].values, f[i].nvalues);
	}
}

static struct flag_def *flag_get(struct flag_def *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

/* BFlags.Parse: on failure the reason goes into err */
static int bflags_parse(const struct df_instr *in, struct flag_def *f, size_t nf, char *err,
			size_t errsz)
{
	for (size_t i = 0; i < in->nflags; i++) {
		const char *arg = in->flags[i], *eq;
		struct flag_def *fd;
		char *name;
		bool has_value;
		if (strncmp(arg, "--", 2)) {
			snprintf(err, errsz, "arg should start with -- : %s", arg);
			return -EINVAL;
		}
		if (!strcmp(arg, "--"))
			return 0;
		eq = strchr(arg + 2, '=');
		has_value = eq != NULL;
		name = eq ? xmemdup(arg + 2, (size_t)(eq - arg - 2)) : sdup(arg + 2);
		if (!name)
			return -ENOMEM;
		fd = flag_get(f, nf, name);
		if (!fd) {
			const char *opts[16];
			char sug[128];
			size_t k = 0;
			for (; k < nf && k < 15; k++)
				opts[k] = f[k].name;
			opts[k] = NULL;
			suggest(sug, sizeof(sug), name, opts, true);
			snprintf(err, errsz, "unknown flag: %s%s", name, sug);
			free(name);
			return -EINVAL;
		}
		if (fd->used && fd->type != F_STRINGS) {
			snprintf(err, errsz, "duplicate flag specified: %s", name);
			free(name);
			return -EINVAL;
		}
		fd->used = true;
		switch (fd->type) {
		case F_BOOL: {
			char *l;
			if (has_value && !eq[1]) {
				snprintf(err, errsz, "missing a value on flag: %s", name);
				free(name);
				return -EINVAL;
			}
			l = go_lower(has_value ? eq + 1 : "");
			if (!l) {
				free(name);
				return -ENOMEM;
			}
			if (strcmp(l, "true") && strcmp(l, "") && strcmp(l, "false")) {
				snprintf(err, errsz, "expecting boolean value for flag %s, not: %s",
					 name, eq + 1);
				free(l);
				free(name);
				return -EINVAL;
			}
			free(fd->value);
			fd->value = sdup(strcmp(l, "false") ? "true" : "false");
			free(l);
			break;
		}
		case F_STRING:
		case F_STRINGS:
			if (!has_value) {
				snprintf(err, errsz, "missing a value on flag: %s", name);
				free(name);
				return -EINVAL;
			}
			if (fd->type == F_STRING) {
				free(fd->value);
				fd->value = sdup(eq + 1);
			} else if (strv_push(&fd->values, &fd->nvalues, &fd->avalues,
					     sdup(eq + 1))) {
				free(name);
				return -ENOMEM;
			}
			break;
		}
		free(name);
	}
	return 0;
}

static bool flag_true(struct flag_def *f, size_t n, const char *name)
{
	struct flag_def *fd = flag_get(f, n, name);

	return fd && fd->value && !strcmp(fd->value, "true");
}

static char *flag_string(struct flag_def *f, size_t n, const char *name)
{
	struct flag_def *fd = flag_get(f, n, name);

	if (!fd)
		return NULL;
	return sdup(fd->value ? fd->value : fd->def ? fd->def : "");
}

/* encoding/csv's Reader.Read of one record (RFC 4180, Go's rules: a
 * quote in an unquoted field is an error).  -1 with err on failure. */
static int csv_fields(const char *s, char ***out, size_t *n, char *err, size_t errsz)
{
	size_t a = 0, i = 0, len = strlen(s);
	int col = 1;

	*out = NULL;
	*n = 0;
	for (;;) {
		struct buf f = {0};
		if (i < len && s[i] == '"') {
			i++;
			for (;;) {
				if (i >= len) {
					snprintf(
						err, errsz,
						"parse error on line 1, column %zu: extraneous or missing \" in quoted-field",
						len + 1);
					free(f.s);
					return -1;
				}
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						buf_add(&f, "\"", 1);
						i += 2;
						continue;
					}
					i++;
					if (i < len && s[i] != ',') {
						snprintf(
							err, errsz,
							"parse error on line 1, column %zu: extraneous or missing \" in quoted-field",
							i + 1);
						free(f.s);
						return -1;
					}
					break;
				}
				buf_add(&f, s + i, 1);
				i++;
			}
		} else {
			size_t j = i;
			while (j < len && s[j] != ',') {
				if (s[j] == '"') {
					snprintf(
						err, errsz,
						"parse error on line 1, column %zu: bare \" in non-quoted-field",
						j + 1);
					free(f.s);
					return -1;
				}
				j++;
			}
			buf_add(&f, s + i, j - i);
			i = j;
		}
		buf_add(&f, "", 0);
		if (f.rc || strv_push(out, n, &a, buf_take(&f))) {
			free(f.s);
			return -ENOMEM;
		}
		(void)col;
		if (i >= len)
			return 0;
		i++; /* the comma */
	}
}

static int add_strv(char ***v, size_t *n, const char *s)
{
	size_t a = *n;

	return strv_push(v, n, &a, sdup(s));
}

static const char *const instruction_names[] = {
	"ADD",	      "ARG",	     "CMD",    "COPY",	     "ENTRYPOINT", "ENV", "EXPOSE",
	"FROM",	      "HEALTHCHECK", "LABEL",  "MAINTAINER", "ONBUILD",	   "RUN", "SHELL",
	"STOPSIGNAL", "USER",	     "VOLUME", "WORKDIR",    NULL,
};

/* validStageName: ^[a-z][a-z0-9-_.]*$ */
static bool valid_stage_name(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_' || *s == '.'))
			return false;
	return true;
}

/* parseSourcesAndDest */
static int sources_and_dest(struct df_instr *in, const char *cmd, char *err, size_t errsz)
{
	char herr[256];
	struct df_heredoc h;
	int rc;

	rc = parse_heredoc(in->args[in->nargs - 1], &h, herr, sizeof(herr));
	if (rc == -ENOMEM)
		return rc;
	if (rc == 0 && h.name) {
		free(h.name);
		snprintf(err, errsz, "%s cannot accept a heredoc as a destination", cmd);
		return -EINVAL;
	}
	in->dest = sdup(in->args[in->nargs - 1]);
	if (!in->dest)
		return -ENOMEM;
	for (size_t i = 0; i + 1 < in->nargs; i++) {
		rc = parse_heredoc(in->args[i], &h, herr, sizeof(herr));
		if (rc == -ENOMEM)
			return rc;
		if (rc == 0 && h.name) {
			rc = add_strv(&in->heredoc_srcs, &in->nheredoc_srcs, in->args[i]);
			free(h.name);
		} else {
			rc = add_strv(&in->srcs, &in->nsrcs, in->args[i]);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* regexp.MatchString(`\$.`, value) */
static bool has_dollar_any(const char *s)
{
	for (; *s; s++)
		if (s[0] == '$' && s[1] && s[1] != '\n')
			return true;
	return false;
}

/* ParseInstruction for one instruction; err gets BuildKit's reason. */
static int parse_instruction(struct dockerfile *df, struct df_instr *in, char *err, size_t errsz)
{
	struct flag_def f[8];
	size_t nf = 0;
	const char *nm = in->name;
	bool parse_flags = true;
	int rc = 0;

#define FLAG(n, t, d) (f[nf++] = (struct flag_def){.name = (n), .type = (t), .def = (d)})
	memset(f, 0, sizeof(f));
	if (!strcmp(nm, "env") || !strcmp(nm, "label")) {
		const char *up = nm[0] == 'e' ? "ENV" : "LABEL";
		in->kind = nm[0] == 'e' ? DF_ENV : DF_OTHER;
		if ((rc = bflags_parse(in, f, 0, err, errsz)))
			goto out;
		if (in->nargs == 0) {
			snprintf(err, errsz, "%s requires at least one argument", up);
			rc = -EINVAL;
		} else if (in->nargs % 2) {
			snprintf(err, errsz, "Bad input to %s, too many arguments", up);
			rc = -EINVAL;
		}
		for (size_t i = 0; !rc && i < in->nargs; i += 2)
			if (!in->args[i][0]) {
				snprintf(err, errsz, "%s names can not be blank", up);
				rc = -EINVAL;
			}
		for (size_t i = 0; !rc && in->kind == DF_ENV && i < in->nargs; i += 2) {
			size_t k = in->nenv;
			rc = add_strv(&in->env_keys, &in->nenv, in->args[i]);
			in->nenv = k;
			if (!rc)
				rc = add_strv(&in->env_values, &in->nenv, in->args[i + 1]);
		}
		goto out;
	}
	if (!strcmp(nm, "maintainer") || !strcmp(nm, "workdir") || !strcmp(nm, "user") ||
	    !strcmp(nm, "stopsignal")) {
		char *up = go_upper_ascii(nm);
		if (!up)
			return -ENOMEM;
		if (in->nargs != 1) {
			snprintf(err, errsz, "%s requires exactly one argument", up);
			rc = -EINVAL;
		} else if (strcmp(nm, "stopsignal")) {
			rc = bflags_parse(in, f, 0, err, errsz);
		}
		free(up);
		if (!strcmp(nm, "workdir"))
			in->kind = DF_WORKDIR;
		goto out;
	}
	if (!strcmp(nm, "add") || !strcmp(nm, "copy")) {
		bool copy = nm[0] == 'c';
		const char *up = copy ? "COPY" : "ADD";
		struct flag_def *ex;
		in->kind = copy ? DF_COPY : DF_ADD;
		if (in->nargs < 2) {
			snprintf(
				err, errsz,
				"%s requires at least two arguments, but only one was provided. Destination could not be determined",
				up);
			rc = -EINVAL;
			goto out;
		}
		if (df->opts.labs)
			FLAG("exclude", F_STRINGS, NULL);
		if (copy && df->opts.labs)
			FLAG("parents", F_BOOL, "false");
		FLAG("chown", F_STRING, "");
		if (copy)
			FLAG("from", F_STRING, "");
		FLAG("chmod", F_STRING, "");
		FLAG("link", F_BOOL, "false");
		if (!copy) {
			FLAG("keep-git-dir", F_BOOL, "false");
			FLAG("checksum", F_STRING, "");
		}
		if ((rc = bflags_parse(in, f, nf, err, errsz)))
			goto out;
		if ((rc = sources_and_dest(in, up, err, errsz)))
			goto out;
		in->chown = flag_string(f, nf, "chown");
		in->chmod = flag_string(f, nf, "chmod");
		in->link = flag_true(f, nf, "link");
		if (copy)
			in->from = flag_string(f, nf, "from");
		else {
			in->checksum = flag_string(f, nf, "checksum");
			in->keep_git_dir = flag_true(f, nf, "keep-git-dir");
		}
		in->parents = flag_true(f, nf, "parents");
		ex = flag_get(f, nf, "exclude");
		if (ex) {
			in->excludes = ex->values;
			in->nexcludes = ex->nvalues;
			ex->values = NULL;
			ex->nvalues = 0;
		}
		if (!in->chown || !in->chmod || (copy && !in->from) || (!copy && !in->checksum))
			rc = -ENOMEM;
		goto out;
	}
	if (!strcmp(nm, "from")) {
		in->kind = DF_FROM;
		if (in->nargs == 3 && fold_is_as(in->args[1])) {
			char *l = go_lower(in->args[2]);
			if (!l)
				return -ENOMEM;
			if (!valid_stage_name(l)) {
				struct buf q = {0};
				go_quote(&q, in->args[2], strlen(in->args[2]));
				snprintf(
					err, errsz,
					"invalid name for build stage: %s, name can't start with a number or contain symbols",
					q.s ? q.s : "");
				free(q.s);
				free(l);
				rc = -EINVAL;
				goto out;
			}
			free(l);
		} else if (in->nargs != 1) {
			snprintf(err, errsz, "FROM requires either one or three arguments");
			rc = -EINVAL;
			goto out;
		}
		FLAG("platform", F_STRING, "");
		rc = bflags_parse(in, f, nf, err, errsz);
		if (!rc)
			in->from = flag_string(f, nf, "platform");
		if (!rc && !in->from)
			rc = -ENOMEM;
		goto out;
	}
	if (!strcmp(nm, "onbuild")) {
		char *trig;
		in->kind = DF_ONBUILD;
		if (in->nargs == 0) {
			snprintf(err, errsz, "ONBUILD requires at least one argument");
			rc = -EINVAL;
			goto out;
		}
		if ((rc = bflags_parse(in, f, 0, err, errsz)))
			goto out;
		{
			size_t st, l = trim_space(in->args[0], strlen(in->args[0]), &st);
			char *t = xmemdup(in->args[0] + st, l);
			trig = t ? go_upper_ascii(t) : NULL;
			free(t);
		}
		if (!trig)
			return -ENOMEM;
		if (!strcmp(trig, "ONBUILD")) {
			snprintf(err, errsz,
				 "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
			rc = -EINVAL;
		} else if (!strcmp(trig, "MAINTAINER") || !strcmp(trig, "FROM")) {
			snprintf(err, errsz, "%s isn't allowed as an ONBUILD trigger", trig);
			rc = -EINVAL;
		}
		free(trig);
		goto out;
	}
	if (!strcmp(nm, "run")) {
		struct flag_def *m;
		size_t amounts = 0;
		in->kind = DF_RUN;
		FLAG("mount", F_STRINGS, NULL);
		FLAG("network", F_STRING, "default");
		if (df->opts.labs)
			FLAG("security", F_STRING, "sandbox");
		if ((rc = bflags_parse(in, f, nf, err, errsz)))
			goto out;
		m = flag_get(f, nf, "mount");
		for (size_t i = 0; i < m->nvalues; i++) {
			char **fields, cerr[200];
			size_t nfields;
			struct df_mount mt = {0};
			int crc = csv_fields(m->values[i], &fields, &nfields, cerr, sizeof(cerr));
			if (crc == -ENOMEM) {
				strv_free(fields, nfields);
				rc = crc;
				goto out;
			}
			if (crc) {
				strv_free(fields, nfields);
				snprintf(err, errsz, "failed to parse csv mounts: %s", cerr);
				rc = -EINVAL;
				goto out;
			}
			for (size_t k = 0; k < nfields; k++) {
				char *eq = strchr(fields[k], '='), *key;
				if (!eq)
					continue;
				key = xmemdup(fields[k], (size_t)(eq - fields[k]));
				char *lk = key ? go_lower(key) : NULL;
				free(key);
				if (!lk) {
					rc = -ENOMEM;
					break;
				}
				if (!strcmp(lk, "type")) {
					free(mt.type);
					mt.type = go_lower(eq + 1);
				} else if (!strcmp(lk, "source") || !strcmp(lk, "src")) {
					free(mt.source);
					mt.source = sdup(eq + 1);
				} else if (!strcmp(lk, "target") || !strcmp(lk, "dst") ||
					   !strcmp(lk, "destination")) {
					free(mt.target);
					mt.target = sdup(eq + 1);
				}
				if (!strcmp(lk, "from")) {
					if (has_dollar_any(eq + 1)) {
						snprintf(
							err, errsz,
							"'from' doesn't support variable expansion, define alias stage instead");
						rc = -EINVAL;
					} else {
						free(mt.from);
						mt.from = sdup(eq + 1);
					}
				}
				free(lk);
				if (rc)
					break;
			}
			strv_free(fields, nfields);
			mt.spec = sdup(m->values[i]);
			if (!mt.type)
				mt.type = sdup("bind");
			if (!rc &&
			    (!mt.spec || !mt.type || GROW(in->mounts, amounts, in->nmounts + 1)))
				rc = -ENOMEM;
			if (rc) {
				free(mt.spec);
				free(mt.from);
				free(mt.type);
				free(mt.source);
				free(mt.target);
				goto out;
			}
			in->mounts[in->nmounts++] = mt;
		}
		in->network = flag_string(f, nf, "network");
		if (!in->network)
			rc = -ENOMEM;
		else if (strcmp(in->network, "default") && strcmp(in->network, "none") &&
			 strcmp(in->network, "host")) {
			struct buf q = {0};
			go_quote(&q, in->network, strlen(in->network));
			snprintf(err, errsz, "invalid network mode %s", q.s ? q.s : "");
			free(q.s);
			rc = -EINVAL;
		}
		goto out;
	}
	if (!strcmp(nm, "cmd") || !strcmp(nm, "entrypoint")) {
		rc = bflags_parse(in, f, 0, err, errsz);
		goto out;
	}
	if (!strcmp(nm, "shell")) {
		if ((rc = bflags_parse(in, f, 0, err, errsz)))
			goto out;
		if (in->nargs == 0) {
			snprintf(err, errsz, "SHELL requires at least one argument");
			rc = -EINVAL;
		} else if (!in->json) {
			snprintf(err, errsz, "SHELL requires the arguments to be in JSON form");
			rc = -EINVAL;
		}
		goto out;
	}
	if (!strcmp(nm, "expose") || !strcmp(nm, "volume")) {
		char *up = go_upper_ascii(nm);
		if (!up)
			return -ENOMEM;
		if (in->nargs == 0) {
			snprintf(err, errsz, "%s requires at least one argument", up);
			rc = -EINVAL;
		} else {
			rc = bflags_parse(in, f, 0, err, errsz);
		}
		free(up);
		for (size_t i = 0; !rc && nm[0] == 'v' && i < in->nargs; i++) {
			size_t st;
			if (trim_space(in->args[i], strlen(in->args[i]), &st) == 0) {
				snprintf(err, errsz, "VOLUME specified can not be an empty string");
				rc = -EINVAL;
			}
		}
		goto out;
	}
	if (!strcmp(nm, "healthcheck")) {
		char *typ;
		if (in->nargs == 0) {
			snprintf(err, errsz, "HEALTHCHECK requires at least one argument");
			rc = -EINVAL;
			goto out;
		}
		typ = go_upper_ascii(in->args[0]);
		if (!typ)
			return -ENOMEM;
		if (!strcmp(typ, "NONE")) {
			if (in->nargs > 1) {
				snprintf(err, errsz, "HEALTHCHECK NONE takes no arguments");
				rc = -EINVAL;
			}
		} else {
			FLAG("interval", F_STRING, "");
			FLAG("timeout", F_STRING, "");
			FLAG("start-period", F_STRING, "");
			FLAG("start-interval", F_STRING, "");
			FLAG("retries", F_STRING, "");
			rc = bflags_parse(in, f, nf, err, errsz);
			if (!rc && !strcmp(typ, "CMD")) {
				if (in->nargs < 2) {
					snprintf(err, errsz,
						 "Missing command after HEALTHCHECK CMD");
					rc = -EINVAL;
				}
			} else if (!rc) {
				struct buf q = {0};
				go_quote(&q, typ, strlen(typ));
				snprintf(err, errsz, "Unknown type %s in HEALTHCHECK (try CMD)",
					 q.s ? q.s : "");
				free(q.s);
				rc = -EINVAL;
			}
		}
		free(typ);
		goto out;
	}
	if (!strcmp(nm, "arg")) {
		parse_flags = false;
		in->kind = DF_ARG;
		if (in->nargs < 1) {
			snprintf(err, errsz, "ARG requires at least one argument");
			rc = -EINVAL;
			goto out;
		}
		for (size_t i = 0; i < in->nargs; i++) {
			char *eq = strchr(in->args[i], '=');
			char *k, *v = NULL;
			size_t a1 = in->nargkv, a2 = in->nargkv;
			if (eq && eq == in->args[i]) {
				snprintf(err, errsz, "ARG names can not be blank");
				rc = -EINVAL;
				goto out;
			}
			k = eq ? xmemdup(in->args[i], (size_t)(eq - in->args[i]))
			       : sdup(in->args[i]);
			if (eq)
				v = sdup(eq + 1);
			if (!k || (eq && !v) || GROW(in->arg_keys, a1, in->nargkv + 1) ||
			    GROW(in->arg_values, a2, in->nargkv + 1)) {
				free(k);
				free(v);
				rc = -ENOMEM;
				goto out;
			}
			in->arg_keys[in->nargkv] = k;
			in->arg_values[in->nargkv++] = v;
		}
		goto out;
	}
	{
		char sug[128];
		suggest(sug, sizeof(sug), in->cmd, instruction_names, false);
		snprintf(err, errsz, "unknown instruction: %s%s", in->cmd, sug);
		rc = -EINVAL;
	}
out:
	(void)parse_flags;
	flags_release(f, nf);
#undef FLAG
	return rc;
}

/* ---- the build: global ARGs, stages, dispatch (dockerfile2llb) ---- */

struct platform {
	char *os, *arch, *variant, *full;
};

static void platform_release(struct platform *p)
{
	free(p->os);
	free(p->arch);
	free(p->variant);
	free(p->full);
}

/* "os/arch[/variant]" as platforms.Format writes it back */
static int platform_parse(struct platform *p, const char *s)
{
	const char *a = strchr(s, '/'), *v = a ? strchr(a + 1, '/') : NULL;

	memset(p, 0, sizeof(*p));
	p->os = a ? xmemdup(s, (size_t)(a - s)) : sdup(s);
	p->arch = a ? (v ? xmemdup(a + 1, (size_t)(v - a - 1)) : sdup(a + 1)) : sdup("");
	p->variant = sdup(v ? v + 1 : "");
	p->full = sdup(s);
	return p->os && p->arch && p->variant && p->full ? 0 : -ENOMEM;
}

static int meta_push(struct dockerfile *df, const char *k, const char *v)
{
	size_t a1 = df->ameta, n = df->nmeta;
	char *kk = sdup(k), *vv = v ? sdup(v) : NULL;

	if (!kk || (v && !vv) || GROW(df->meta_keys, a1, n + 1) ||
	    GROW(df->meta_values, df->ameta, n + 1)) {
		free(kk);
		free(vv);
		return -ENOMEM;
	}
	df->meta_keys[n] = kk;
	df->meta_values[n] = vv;
	df->nmeta++;
	return 0;
}

/* opt.BuildArgs[key]: the last "KEY=VALUE" given, or NULL.  A bare
 * "KEY" (the docker CLI sends it as null: --build-arg KEY with no KEY in
 * its environment) is no value, so the ARG keeps its default, as the
 * engine passes BuildKit only the args that have one. */
static const char *build_arg(const struct dockerfile *df, const char *key)
{
	size_t kl = strlen(key);
	const char *found = NULL;

	for (size_t i = 0; i < df->nbuild_args; i++) {
		const char *a = df->build_args[i], *eq = strchr(a, '=');
		size_t al = eq ? (size_t)(eq - a) : strlen(a);
		if (al == kl && !memcmp(a, key, kl))
			found = eq ? eq + 1 : NULL;
	}
	return found;
}

/* metaArgsToMap: every global ARG, a value-less one as "" */
static int meta_env(const struct dockerfile *df, struct df_env *e)
{
	for (size_t i = 0; i < df->nmeta; i++)
		if (dockerfile_env_set(e, df->meta_keys[i],
				       df->meta_values[i] ? df->meta_values[i] : ""))
			return -ENOMEM;
	return 0;
}

static int expand(struct dockerfile *df, int line, const char *word, const struct df_env *env,
		  char **out)
{
	char err[400];
	int rc = dockerfile_shell_word(out, word, env, df->escape, err, sizeof(err));

	if (rc == -ENOMEM)
		return df_fail(df, rc, line, "out of memory");
	if (rc)
		return df_fail(df, rc, line, "%s", err);
	return 0;
}

/* getPlatformArgs with setKVValue, then the global ARGs (toDispatchState) */
static int read_meta(struct dockerfile *df)
{
	struct platform tp, bp;
	const char *t = df->opts.target_platform, *b = df->opts.build_platform;
	int rc = platform_parse(&tp, t ? t : "linux/amd64");

	if (!rc)
		rc = platform_parse(&bp, b ? b : "linux/amd64");
	if (!rc) {
		const char *kv[][2] = {
			{"BUILDPLATFORM", bp.full},  {"BUILDOS", bp.os},
			{"BUILDARCH", bp.arch},	     {"BUILDVARIANT", bp.variant},
			{"TARGETPLATFORM", tp.full}, {"TARGETOS", tp.os},
			{"TARGETARCH", tp.arch},     {"TARGETVARIANT", tp.variant},
		};
		for (size_t i = 0; !rc && i < ARRAY_SIZE(kv); i++) {
			const char *ba = build_arg(df, kv[i][0]);
			rc = meta_push(df, kv[i][0], ba ? ba : kv[i][1]);
		}
	}
	platform_release(&tp);
	platform_release(&bp);
	if (rc)
		return df_fail(df, rc, 0, "out of memory");
	for (size_t i = 0; i < df->ninstrs; i++) {
		struct df_instr *in = &df->instrs[i];
		if (in->stage != -1 || in->kind != DF_ARG)
			continue;
		for (size_t k = 0; k < in->nargkv; k++) {
			const char *ba = build_arg(df, in->arg_keys[k]);
			char *v = NULL, err[400];
			if (ba) {
				rc = meta_push(df, in->arg_keys[k], ba);
			} else if (in->arg_values[k]) {
				struct df_env e = {0};
				rc = meta_env(df, &e);
				if (!rc) {
					/* the error is dropped: the value is then "" */
					rc = dockerfile_shell_word(&v, in->arg_values[k], &e,
								   df->escape, err, sizeof(err));
					if (rc && rc != -ENOMEM && rc != -ENOTSUP)
						rc = 0;
					if (rc == -ENOTSUP)
						rc = df_fail(df, rc, in->start_line, "%s", err);
				}
				dockerfile_env_release(&e);
				if (!rc)
					rc = meta_push(df, in->arg_keys[k], v ? v : "");
				free(v);
			} else {
				rc = meta_push(df, in->arg_keys[k], NULL);
			}
			if (rc == -ENOMEM)
				return df_fail(df, rc, 0, "out of memory");
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int by_name_cmp(const void *a, const void *b, void *arg)
{
	const struct dockerfile *df = arg;
	int x = *(const int *)a, y = *(const int *)b;
	int c = strcmp(df->stages[x].name, df->stages[y].name);

	return c ? c : (x > y) - (x < y);
}

/* instructions.Parse's stage assignment, then the stage loop of
 * toDispatchState (FROM expanded with the global ARGs) */
static int read_stages(struct dockerfile *df)
{
	struct df_env e = {0};
	int rc = 0;

	for (size_t i = 0; i < df->ninstrs; i++) {
		struct df_instr *in = &df->instrs[i];
		struct df_stage *st;
		if (in->kind == DF_FROM) {
			if (df->nstages >= DOCKERFILE_MAX_STAGES)
				return df_fail(df, -E2BIG, in->start_line, "more than %d stages",
					       DOCKERFILE_MAX_STAGES);
			if (GROW(df->stages, df->astages, df->nstages + 1))
				return df_fail(df, -ENOMEM, 0, "out of memory");
			st = &df->stages[df->nstages];
			memset(st, 0, sizeof(*st));
			st->base_stage = -1;
			st->from_instr = i;
			st->line = in->start_line;
			st->base_raw = sdup(in->args[0]);
			st->name = in->nargs == 3 ? go_lower(in->args[2]) : NULL;
			in->stage = (int)df->nstages++;
			if (!st->base_raw || (in->nargs == 3 && !st->name))
				return df_fail(df, -ENOMEM, 0, "out of memory");
			continue;
		}
		if (df->nstages == 0) {
			if (in->kind == DF_ARG)
				continue;
			return df_fail(df, -EINVAL, in->start_line,
				       "no build stage in current context");
		}
		in->stage = (int)df->nstages - 1;
	}
	if (df->nstages == 0) /* only ARGs: lastTarget() of no stage panics */
		return df_fail(df, -EINVAL, df->instrs[df->ninstrs - 1].start_line,
			       "no FROM instruction, nothing to build");
	if ((rc = read_meta(df)))
		return rc;
	if (meta_env(df, &e))
		return df_fail(df, -ENOMEM, 0, "out of memory");
	for (size_t s = 0; s < df->nstages && !rc; s++) {
		struct df_stage *st = &df->stages[s];
		struct df_instr *in = &df->instrs[st->from_instr];
		if ((rc = expand(df, st->line, st->base_raw, &e, &st->base)))
			break;
		if (!st->base[0]) {
			char q[256];
			rc = df_fail(df, -EINVAL, st->line, "base name (%s) should not be blank",
				     text_quote(q, sizeof(q), st->base_raw, strlen(st->base_raw)));
			break;
		}
		if (in->from && in->from[0]) {
			char err[400];
			rc = dockerfile_shell_word(&st->platform, in->from, &e, df->escape, err,
						   sizeof(err));
			if (rc == -ENOMEM)
				rc = df_fail(df, rc, st->line, "out of memory");
			else if (rc)
				rc = df_fail(df, rc, st->line,
					     "failed to process arguments for platform %s: %s",
					     in->from, err);
		}
		/* addState: statesByName[BaseName], the names lowercased and
		 * the base name not */
		for (size_t k = 0; !rc && k < s; k++)
			if (df->stages[k].name && !strcmp(df->stages[k].name, st->base))
				st->base_stage = (int)k;
	}
	dockerfile_env_release(&e);
	if (rc)
		return rc;
	df->by_name = calloc(df->nstages + 1, sizeof(*df->by_name));
	if (!df->by_name)
		return df_fail(df, -ENOMEM, 0, "out of memory");
	for (size_t s = 0; s < df->nstages; s++)
		if (df->stages[s].name)
			df->by_name[df->nby_name++] = (int)s;
	qsort_r(df->by_name, df->nby_name, sizeof(*df->by_name), by_name_cmp, df);
	return 0;
}

int dockerfile_read(struct dockerfile *df, const char *name, const void *buf, size_t len,
		    const struct dockerfile_opts *opts)
{
	int rc;

	if (!df)
		return -EINVAL;
	if (df->source || df->ninstrs) {
		snprintf(df->err.msg, sizeof(df->err.msg), "a handle reads one Dockerfile");
		df->err.code = -EINVAL;
		return -EINVAL;
	}
	df->source = sdup(name ? name : "Dockerfile");
	if (!df->source)
		return -ENOMEM;
	if (!buf && len)
		return df_fail(df, -EINVAL, 0, "no buffer given");
	if (opts) {
		df->opts = *opts;
		df->opts.build_args = NULL;
		df->opts.target_platform = sdup(opts->target_platform);
		df->opts.build_platform = sdup(opts->build_platform);
		if ((opts->target_platform && !df->opts.target_platform) ||
		    (opts->build_platform && !df->opts.build_platform))
			return df_fail(df, -ENOMEM, 0, "out of memory");
		for (size_t i = 0; opts->build_args && opts->build_args[i]; i++)
			if (add_strv(&df->build_args, &df->nbuild_args, opts->build_args[i]))
				return df_fail(df, -ENOMEM, 0, "out of memory");
	}
	if (len > DOCKERFILE_MAX_BYTES)
		return df_fail(df, -EFBIG, 0, "larger than %u bytes", DOCKERFILE_MAX_BYTES);
	if (len == 0)
		return df_fail(df, -EINVAL, 0, "the Dockerfile cannot be empty");
	{
		const char *z = memchr(buf, '\0', len);
		if (z) {
			int line = 1;
			for (const char *c = buf; c < z; c++)
				line += *c == '\n';
			return df_fail(
				df, -ENOTSUP, line,
				"a NUL byte (ctxpack does not read Dockerfiles with NUL bytes)");
		}
	}
	if ((rc = parse_lines(df, buf, len)))
		return rc;
	for (size_t i = 0; i < df->ninstrs; i++) {
		char err[400] = "";
		rc = parse_instruction(df, &df->instrs[i], err, sizeof(err));
		if (rc == -ENOMEM)
			return df_fail(df, rc, 0, "out of memory");
		if (rc)
			return df_fail(df, rc, df->instrs[i].start_line, "%s", err);
	}
	return read_stages(df);
}

/* strconv.Atoi */
static bool go_atoi(const char *s, long long *v)
{
	bool neg = false;
	unsigned long long x = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (x > (9223372036854775807ull + neg - (unsigned)(*s - '0')) / 10)
			return false;
		x = x * 10 + (unsigned)(*s - '0');
	}
	*v = neg ? -(long long)(x - 1) - 1 : (long long)x;
	return true;
}

/* findStateByName: statesByName keeps the last stage of a name; a binary
 * search in by_name (named stages sorted by name, then index) */
static int stage_by_name(const struct dockerfile *df, const char *name)
{
	char *l = go_lower(name);
	size_t lo = 0, hi = df->nby_name;
	int found = -1;

	while (l && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(df->stages[df->by_name[mid]].name, l);
		if (c <= 0) {
			if (c == 0)
				found = df->by_name[mid];
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	free(l);
	return found;
}

/* toCommand and detectRunMount: the stages instruction i reads from
 * (deps[] of its stage); -1 entries are images.  Returns the count, or a
 * negative errno (message set). */
static int instr_deps(struct dockerfile *df, const struct df_instr *in, int *deps, int max)
{
	int n = 0;

	if (in->kind == DF_RUN && in->nmounts >= (size_t)max)
		return df_fail(df, -E2BIG, in->start_line, "more than %d --mount flags", max - 1);
	if (in->kind == DF_COPY && in->from && in->from[0]) {
		long long idx;
		if (go_atoi(in->from, &idx)) {
			if (idx < 0 || idx >= (long long)df->nstages)
				return df_fail(df, -EINVAL, in->start_line,
					       "invalid stage index %lld", idx);
			deps[n++] = (int)idx;
		} else {
			deps[n++] = stage_by_name(df, in->from);
		}
	}
	for (size_t m = 0; in->kind == DF_RUN && m < in->nmounts && n < max; m++)
		deps[n++] = stage_by_name(df, in->mounts[m].from ? in->mounts[m].from : "scratch");
	return n;
}

/* the instructions of stage s: [*a, *b) */
static void stage_range(const struct dockerfile *df, int s, size_t *a, size_t *b)
{
	*a = df->stages[s].from_instr + 1;
	*b = (size_t)s + 1 < df->nstages ? df->stages[s + 1].from_instr : df->ninstrs;
}

/* validateCircularDependency's visit: the first instruction of a cycle
 * found from s, or -1 */
static long visit(struct dockerfile *df, int s, char *visited, char *path, int *rc)
{
	size_t ia, ib;

	visited[s] = 1;
	path[s] = 1;
	stage_range(df, s, &ia, &ib);
	for (size_t i = ia; i < ib; i++) {
		const struct df_instr *in = &df->instrs[i];
		int deps[64], nd;
		nd = instr_deps(df, in, deps, (int)ARRAY_SIZE(deps));
		if (nd < 0) {
			*rc = nd;
			return -1;
		}
		for (int k = 0; k < nd; k++) {
			long c;
			if (deps[k] < 0)
				continue;
			if (path[deps[k]])
				return (long)i;
			if (visited[deps[k]])
				continue;
			c = visit(df, deps[k], visited, path, rc);
			if (*rc)
				return -1;
			if (c >= 0) /* the path's first command names the cycle */
				return (long)i;
		}
	}
	path[s] = 0;
	return -1;
}

static int check_graph(struct dockerfile *df)
{
	char *visited = calloc(df->nstages + 1, 1), *path = calloc(df->nstages + 1, 1);
	int rc = 0;

	if (!visited || !path) {
		rc = df_fail(df, -ENOMEM, 0, "out of memory");
		goto out;
	}
	for (size_t s = 0; s < df->nstages && !rc; s++) {
		long c;
		if (visited[s])
			continue;
		c = visit(df, (int)s, visited, path, &rc);
		if (!rc && c >= 0) {
			char nm[64];
			if (df->stages[s].name)
				snprintf(nm, sizeof(nm), "%s", df->stages[s].name);
			else
				snprintf(nm, sizeof(nm), "stage-%zu", s);
			rc = df_fail(df, -EINVAL, df->instrs[c].start_line,
				     "circular dependency detected on stage: %s", nm);
		}
	}
out:
	free(visited);
	free(path);
	return rc;
}

/* isReachable from the target */
static int mark_reachable(struct dockerfile *df, int s, bool *needed)
{
	size_t ia, ib;

	if (s < 0 || needed[s])
		return 0;
	needed[s] = true;
	if (mark_reachable(df, df->stages[s].base_stage, needed))
		return -1;
	stage_range(df, s, &ia, &ib);
	for (size_t i = ia; i < ib; i++) {
		int deps[64], nd;
		nd = instr_deps(df, &df->instrs[i], deps, (int)ARRAY_SIZE(deps));
		if (nd < 0)
			return nd;
		for (int k = 0; k < nd; k++)
			if (mark_reachable(df, deps[k], needed))
				return -1;
	}
	return 0;
}

int dockerfile_stages_needed(struct dockerfile *df, const char *target, enum ctxpack_builder b,
			     bool *needed)
{
	int t;
	int rc;

	if (!df || !needed || (b != CTXPACK_BUILDER_BUILDKIT && b != CTXPACK_BUILDER_CLASSIC))
		return -EINVAL;
	if (df->nstages == 0)
		return df_fail(df, -EINVAL, 0, "no stage to build");
	memset(needed, 0, df->nstages * sizeof(*needed));
	if (!target || !*target) {
		t = (int)df->nstages - 1;
	} else if ((t = stage_by_name(df, target)) < 0) {
		char q[256];
		return df_fail(df, -EINVAL, 0, "target stage \"%s\" could not be found",
			       text_quote(q, sizeof(q), target, strlen(target)));
	}
	if (b == CTXPACK_BUILDER_CLASSIC) {
		for (int s = 0; s <= t; s++)
			needed[s] = true;
		return 0;
	}
	/* every stage's COPY --from is resolved (toCommand) before the
	 * cycle check */
	for (size_t i = 0; i < df->ninstrs; i++) {
		int deps[64];
		if (df->instrs[i].stage >= 0 && df->instrs[i].kind != DF_FROM &&
		    (rc = instr_deps(df, &df->instrs[i], deps, (int)ARRAY_SIZE(deps))) < 0)
			return rc;
	}
	if ((rc = check_graph(df)))
		return rc;
	return mark_reachable(df, t, needed) < 0 ? df->err.code : 0;
}

/* isHTTPSource */
static bool is_http_source(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* url.Parse's checks on "scheme://AUTHORITY/path?query#fragment" that
 * matter here: no control byte anywhere, a host of the characters Go
 * accepts (bytes >= 0x80 too), a numeric port; then whether the path
 * ends in ".git". */
static bool url_git_path(const char *after_scheme)
{
	size_t alen = strcspn(after_scheme, "/?#"), at = 0, hs, pe;
	const char *colon, *p, *e;

	for (const char *c = after_scheme; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	for (size_t i = 0; i < alen; i++)
		if (after_scheme[i] == '@')
			at = i + 1; /* userinfo ends at the last '@' */
	hs = at;
	colon = memchr(after_scheme + hs, ':', alen - hs);
	pe = colon ? (size_t)(colon - after_scheme) : alen;
	for (size_t i = hs; i < pe; i++) {
		unsigned char c = (unsigned char)after_scheme[i];
		if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=[]<>\"%", c)))
			return false;
	}
	for (size_t i = pe + 1; colon && i < alen; i++)
		if (after_scheme[i] < '0' || after_scheme[i] > '9')
			return false;
	if (after_scheme[alen] != '/')
		return false;
	p = after_scheme + alen;
	e = p + strcspn(p, "?#");
	return e - p >= 4 && !memcmp(e - 4, ".git", 4);
}

/* sshutil's gitSSHRegex ^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:#(.*))?$ */
static bool scp_style(const char *s)
{
	size_t u = 0, h;

	while ((s[u] >= 'a' && s[u] <= 'z') || (s[u] >= 'A' && s[u] <= 'Z') ||
	       (s[u] >= '0' && s[u] <= '9') || s[u] == '-' || s[u] == '_')
		u++;
	if (!u || s[u] != '@')
		return false;
	h = u + 1;
	while ((s[h] >= 'a' && s[h] <= 'z') || (s[h] >= 'A' && s[h] <= 'Z') ||
	       (s[h] >= '0' && s[h] <= '9') || s[h] == '-' || s[h] == '.')
		h++;
	return h > u + 1 && s[h] == ':' && !strchr(s + h, '\n');
}

/* gitutil.ParseGitRef succeeding with a reference that is not
 * IndistinguishableFromLocal (ParseURL, then "https://" + ref) */
static bool is_git_ref(const char *s)
{
	size_t k = 0;

	if (!strncmp(s, "./", 2) || !strncmp(s, "../", 3) || !strncmp(s, "github.com/", 11))
		return false;
	while ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
	       (s[k] >= '0' && s[k] <= '9'))
		k++;
	if (k && !strncmp(s + k, "://", 3)) {
		if (!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8))
			return url_git_path(s + k + 3);
		if (!strncasecmp(s, "ssh://", 6) || !strncasecmp(s, "git://", 6))
			return true;
		return false; /* ErrInvalidProtocol */
	}
	if (scp_style(s))
		return true;
	return url_git_path(s);
}

struct sstate {
	struct df_env env;
	bool strict; /* rooted in an image whose variables are unknown */
	bool done;
};

static int word_expand(struct dockerfile *df, const struct df_instr *in, const char *word,
		       const struct sstate *st, bool strict, int escape, bool skip_quotes,
		       char **out)
{
	struct lex_opts o = {
		.escape = escape, .skip_quotes = skip_quotes, .strict = strict && st->strict};
	char err[400];
	int rc = lex_process(word, &st->env, &o, out, NULL, err, sizeof(err));

	if (rc == -ENOMEM)
		return df_fail(df, rc, in->start_line, "out of memory");
	if (rc)
		return df_fail(df, rc, in->start_line, "%s", err);
	return 0;
}

static int push_source(struct dockerfile *df, struct df_source **v, size_t *n, size_t *a,
		       const struct df_instr *in, size_t idx, enum df_source_kind kind, char *path)
{
	struct df_source *s;

	if (!path || GROW(*v, *a, *n + 1)) {
		free(path);
		return df_fail(df, -ENOMEM, 0, "out of memory");
	}
	s = &(*v)[(*n)++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->instr = idx;
	s->stage = in->stage;
	s->line = in->start_line;
	s->path = path;
	s->parents = in->parents;
	s->excludes = in->excludes;
	s->nexcludes = in->nexcludes;
	return 0;
}

static const char *const mount_keys[] = {
	"type", "from", "source", "target", "readonly", "id", "sharing",   "required", "mode",
	"uid",	"gid",	"src",	  "dst",    "ro",	"rw", "readwrite", NULL,
};

/* parseMount with the expander: the context source of a bind mount
 * without from=, or NULL */
static int run_mount(struct dockerfile *df, const struct df_instr *in, const struct df_mount *m,
		     const struct sstate *st, char **ctx_source)
{
	char **fields = NULL, cerr[200], *type = sdup("bind"), *from = NULL, *source = NULL;
	char *source_raw = NULL;
	size_t nf = 0;
	int rc = 0;

	*ctx_source = NULL;
	if (!type)
		return df_fail(df, -ENOMEM, 0, "out of memory");
	rc = csv_fields(m->spec, &fields, &nf, cerr, sizeof(cerr));
	if (rc) {
		rc = rc == -ENOMEM ? df_fail(df, rc, 0, "out of memory")
				   : df_fail(df, -EINVAL, in->start_line,
					     "failed to parse csv mounts: %s", cerr);
		goto out;
	}
	for (size_t i = 0; i < nf && !rc; i++) {
		char *eq = strchr(fields[i], '='), *key, *lk, *val = NULL;
		key = eq ? xmemdup(fields[i], (size_t)(eq - fields[i])) : sdup(fields[i]);
		lk = key ? go_lower(key) : NULL;
		free(key);
		if (!lk) {
			rc = df_fail(df, -ENOMEM, 0, "out of memory");
			break;
		}
		if (!eq) {
			if (strcmp(lk, "readonly") && strcmp(lk, "ro") && strcmp(lk, "readwrite") &&
			    strcmp(lk, "rw") &&
			    !(!strcmp(lk, "required") &&
			      (!strcmp(type, "secret") || !strcmp(type, "ssh")))) {
				char q[200];
				if (!strcmp(lk, "required"))
					rc = df_fail(df, -EINVAL, in->start_line,
						     "unexpected key '%s' for mount type '%s'", lk,
						     type);
				else
					rc = df_fail(df, -EINVAL, in->start_line,
						     "invalid field '%s' must be a key=value pair",
						     text_quote(q, sizeof(q), fields[i],
								strlen(fields[i])));
			}
			free(lk);
			continue;
		}
		rc = word_expand(df, in, eq + 1, st, false, df->escape, false, &val);
		if (rc) {
			free(lk);
			break;
		}
		if (!strcmp(lk, "type")) {
			char *lv = go_lower(val);
			if (lv && strcmp(lv, "bind") && strcmp(lv, "cache") &&
			    strcmp(lv, "tmpfs") && strcmp(lv, "secret") && strcmp(lv, "ssh")) {
				char q[200];
				rc = df_fail(df, -EINVAL, in->start_line,
					     "unsupported mount type \"%s\"",
					     text_quote(q, sizeof(q), val, strlen(val)));
			}
			free(type);
			type = lv;
		} else if (!strcmp(lk, "from")) {
			free(from);
			from = val;
			val = NULL;
		} else if (!strcmp(lk, "source") || !strcmp(lk, "src")) {
			free(source);
			free(source_raw);
			source = val;
			source_raw = sdup(eq + 1);
			val = NULL;
		} else {
			bool known = false;
			for (size_t k = 0; mount_keys[k]; k++)
				known |= !strcmp(mount_keys[k], lk);
			if (!known && strcmp(lk, "destination") && strcmp(lk, "size")) {
				char q[200], sug[128];
				suggest(sug, sizeof(sug), lk, mount_keys, true);
				rc = df_fail(df, -EINVAL, in->start_line,
					     "unexpected key '%s' in '%s'%s", lk,
					     text_quote(q, sizeof(q), fields[i], strlen(fields[i])),
					     sug);
			}
		}
		free(val);
		free(lk);
		if (!type && !rc)
			rc = df_fail(df, -ENOMEM, 0, "out of memory");
	}
	if (!rc && !strcmp(type, "bind") && (!from || !from[0])) {
		if (source_raw) {
			/* again, knowing it reads the context: strictly */
			char *v = NULL;
			rc = word_expand(df, in, source_raw, st, true, df->escape, false, &v);
			if (!rc)
				*ctx_source = v[0] ? v : (free(v), sdup("."));
		} else {
			*ctx_source = sdup(".");
		}
		if (!rc && !*ctx_source)
			rc = df_fail(df, -ENOMEM, 0, "out of memory");
	}
out:
	strv_free(fields, nf);
	free(type);
	free(from);
	free(source);
	free(source_raw);
	return rc;
}

static bool is_nonenv_arg(const char *k)
{
	return !strcmp(k, "BUILDKIT_SBOM_SCAN_CONTEXT") || !strcmp(k, "BUILDKIT_SBOM_SCAN_STAGE");
}

/* dispatch() for instruction i of a stage being built: the expansions
 * (errors included) and the env changes, and its context sources */
static int dispatch_instr(struct dockerfile *df, size_t idx, struct sstate *st,
			  struct df_source **v, size_t *n, size_t *a)
{
	const struct df_instr *in = &df->instrs[idx];
	char *x = NULL;
	int rc = 0;

	switch (in->kind) {
	case DF_ARG:
	case DF_ENV: {
		/* ArgCommand.Expand / expandKvpsInPlace: every key and value
		 * with the environment before the instruction; then dispatchArg
		 * / dispatchEnv set them in order */
		bool arg = in->kind == DF_ARG;
		size_t nk = arg ? in->nargkv : in->nenv;
		char **keys = arg ? in->arg_keys : in->env_keys;
		char **vals = arg ? in->arg_values : in->env_values;
		char **ek = calloc(nk + 1, sizeof(*ek)), **ev = calloc(nk + 1, sizeof(*ev));
		if (!ek || !ev)
			rc = df_fail(df, -ENOMEM, 0, "out of memory");
		for (size_t k = 0; k < nk && !rc; k++) {
			rc = word_expand(df, in, keys[k], st, false, df->escape, false, &ek[k]);
			if (!rc && vals[k])
				rc = word_expand(df, in, vals[k], st, false, df->escape, false,
						 &ev[k]);
		}
		for (size_t k = 0; k < nk && !rc; k++) {
			const char *val = ev[k], *ba;
			if (arg) {
				if ((ba = build_arg(df, ek[k])))
					val = ba;
				if (!val)
					for (size_t m = 0; m < df->nmeta; m++)
						if (!strcmp(df->meta_keys[m], ek[k]))
							val = df->meta_values[m];
				if (!val || is_nonenv_arg(ek[k]))
					continue;
			}
			if (dockerfile_env_set(&st->env, ek[k], val))
				rc = df_fail(df, -ENOMEM, 0, "out of memory");
		}
		for (size_t k = 0; k < nk; k++) {
			if (ek)
				free(ek[k]);
			if (ev)
				free(ev[k]);
		}
		free(ek);
		free(ev);
		break;
	}
	case DF_COPY:
	case DF_ADD: {
		bool from_ctx = in->kind == DF_ADD || !in->from[0];
		char **exp = calloc(in->nsrcs + 1, sizeof(*exp));
		if (!exp)
			return df_fail(df, -ENOMEM, 0, "out of memory");
		rc = word_expand(df, in, in->chown, st, false, df->escape, false, &x);
		free(x);
		x = NULL;
		if (!rc && in->kind == DF_ADD) {
			rc = word_expand(df, in, in->checksum, st, false, df->escape, false, &x);
			free(x);
			x = NULL;
		}
		for (size_t k = 0; k < in->nsrcs && !rc; k++)
			rc = word_expand(df, in, in->srcs[k], st, from_ctx, df->escape, false,
					 &exp[k]);
		if (!rc)
			rc = word_expand(df, in, in->dest, st, false, df->escape, false, &x);
		free(x);
		x = NULL;
		/* ExpandRaw: heredoc sources that expand, with '\\' and
		 * quotes left alone */
		for (size_t k = 0; k < in->nheredoc_srcs && !rc; k++) {
			struct df_heredoc h;
			char herr[256];
			const char *content = "";
			if (parse_heredoc(in->heredoc_srcs[k], &h, herr, sizeof(herr)) || !h.name)
				continue;
			for (size_t j = 0; j < in->nheredocs; j++)
				if (!strcmp(in->heredocs[j].name, h.name))
					content = in->heredocs[j].content;
			if (h.expand) {
				struct buf c = {.max = DOCKERFILE_MAX_BYTES};
				const char *p = content;
				if (h.chomp) { /* ChompHeredocContent */
					while (*p) {
						const char *e = strchr(p, '\n');
						size_t l = e ? (size_t)(e - p) + 1 : strlen(p);
						size_t t = 0;
						while (t < l && p[t] == '\t')
							t++;
						buf_add(&c, p + t, l - t);
						p += l;
					}
					buf_add(&c, "", 0);
					p = c.s ? c.s : "";
				}
				if (c.rc)
					rc = df_fail(df, c.rc, in->start_line, "heredoc too long");
				else
					rc = word_expand(df, in, p, st, false, '\\', true, &x);
				free(x);
				x = NULL;
				free(c.s);
			}
			free(h.name);
		}
		for (size_t k = 0; k < in->nsrcs && !rc; k++) {
			if (!from_ctx)
				break;
			if (is_git_ref(exp[k])) {
				if (in->kind == DF_COPY)
					rc = df_fail(df, -EINVAL, in->start_line,
						     "source can't be a git ref for COPY");
				continue;
			}
			if (is_http_source(exp[k])) {
				if (in->kind == DF_COPY)
					rc = df_fail(df, -EINVAL, in->start_line,
						     "source can't be a URL for COPY");
				continue;
			}
			rc = push_source(df, v, n, a, in, idx,
					 in->kind == DF_COPY ? DF_SRC_COPY : DF_SRC_ADD, exp[k]);
			exp[k] = NULL;
		}
		strv_free(exp, in->nsrcs);
		break;
	}
	case DF_RUN:
		for (size_t m = 0; m < in->nmounts && !rc; m++) {
			rc = run_mount(df, in, &in->mounts[m], st, &x);
			if (!rc && x)
				rc = push_source(df, v, n, a, in, idx, DF_SRC_MOUNT, x);
			x = NULL;
		}
		break;
	case DF_WORKDIR:
		rc = word_expand(df, in, in->args[0], st, false, df->escape, false, &x);
		free(x);
		break;
	default:
		/* USER, STOPSIGNAL, VOLUME, EXPOSE, LABEL expand too: their
		 * errors fail the build */
		if (!strcmp(in->name, "user") || !strcmp(in->name, "stopsignal") ||
		    !strcmp(in->name, "volume") || !strcmp(in->name, "expose") ||
		    !strcmp(in->name, "label"))
			for (size_t k = 0; k < in->nargs && !rc; k++) {
				rc = word_expand(df, in, in->args[k], st, false, df->escape, false,
						 &x);
				free(x);
				x = NULL;
			}
		break;
	}
	return rc;
}

void dockerfile_sources_free(struct df_source **s, size_t n)
{
	if (!s || !*s)
		return;
	for (size_t i = 0; i < n; i++)
		free((*s)[i].path);
	free(*s);
	*s = NULL;
}

int dockerfile_sources(struct dockerfile *df, const char *target, enum ctxpack_builder b,
		       struct df_source **out, size_t *nout)
{
	struct sstate *ss = NULL;
	bool *needed = NULL;
	struct df_source *v = NULL;
	size_t n = 0, a = 0;
	int rc;

	if (!df || !out || !nout)
		return -EINVAL;
	*out = NULL;
	*nout = 0;
	needed = calloc(df->nstages + 1, sizeof(*needed));
	ss = calloc(df->nstages + 1, sizeof(*ss));
	if (!needed || !ss) {
		rc = df_fail(df, -ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((rc = dockerfile_stages_needed(df, target, b, needed)))
		goto out;
	for (size_t s = 0; s < df->nstages && !rc; s++) {
		struct df_stage *sg = &df->stages[s];
		size_t ia, ib;
		if (!needed[s])
			continue;
		if (sg->base_stage >= 0) {
			ss[s].strict = ss[sg->base_stage].strict;
			if (env_copy(&ss[s].env, &ss[sg->base_stage].env))
				rc = df_fail(df, -ENOMEM, 0, "out of memory");
		} else if (!strcasecmp(sg->base, "scratch")) {
			if (dockerfile_env_set(
				    &ss[s].env, "PATH",
				    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"))
				rc = df_fail(df, -ENOMEM, 0, "out of memory");
		} else {
			ss[s].strict = true;
		}
		stage_range(df, (int)s, &ia, &ib);
		for (size_t i = ia; i < ib && !rc; i++)
			rc = dispatch_instr(df, i, &ss[s], &v, &n, &a);
		ss[s].done = true;
	}
out:
	for (size_t s = 0; ss && s < df->nstages; s++)
		dockerfile_env_release(&ss[s].env);
	free(ss);
	free(needed);
	if (rc) {
		dockerfile_sources_free(&v, n);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}
