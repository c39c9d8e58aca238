/* regex.c: Go regexp syntax (the reachable subset), compiled to a Pike VM.
 *
 * Parsing follows Go's regexp/syntax parser step by step (parse, parseClass,
 * parseEscape, parseNamedClass, parsePerlClassEscape) so that exactly the
 * expressions Go rejects are rejected here.  Matching is a Thompson
 * simulation: linear in text length times program size, no backtracking, so
 * no pattern can make a walk exponential. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "regex.h"
#include "utf8.h"

struct parser {
	const unsigned char *s, *end;
	char *msg;
	size_t msgsz, whatlen;
};

static int fail(struct parser *p, int code, const char *what, const unsigned char *at, size_t n)
{
	char q[128];

	snprintf(p->msg, p->msgsz, "%s: '%s'", what, text_quote(q, sizeof(q), (const char *)at, n));
	p->whatlen = strlen(what) < p->msgsz ? strlen(what) : 0;
	return code;
}

static struct re_node *seq_push(struct re_seq *q)
{
	if (q->n == q->alloc) {
		size_t na = q->alloc ? q->alloc * 2 : 8;
		struct re_node *v = realloc(q->v, na * sizeof(*v));
		if (!v)
			return NULL;
		q->v = v;
		q->alloc = na;
	}
	memset(&q->v[q->n], 0, sizeof(q->v[0]));
	return &q->v[q->n++];
}

void re_seq_free(struct re_seq *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].ranges);
		re_seq_free(s->v[i].sub);
	}
	free(s->v);
	free(s);
}

/* A growable list of rune ranges, normalised on finish. */
struct ranges {
	uint32_t *v;
	size_t n, alloc; /* in uint32 units */
};

static int ranges_add(struct ranges *r, uint32_t lo, uint32_t hi)
{
	if (r->n + 2 > r->alloc) {
		size_t na = r->alloc ? r->alloc * 2 : 16;
		uint32_t *v = realloc(r->v, na * sizeof(*v));
		if (!v)
			return -1;
		r->v = v;
		r->alloc = na;
	}
	r->v[r->n++] = lo;
	r->v[r->n++] = hi;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Sorts and merges; with negate, complements over [0, MaxRune]. */
static int ranges_finish(struct ranges *r, bool negate)
{
	size_t m = 0;

	qsort(r->v, r->n / 2, 2 * sizeof(uint32_t), cmp_range);
	for (size_t i = 0; i < r->n; i += 2) {
		if (m && r->v[i] <= r->v[m - 1] + 1) {
			if (r->v[i + 1] > r->v[m - 1])
				r->v[m - 1] = r->v[i + 1];
			continue;
		}
		r->v[m++] = r->v[i];
		r->v[m++] = r->v[i + 1];
	}
	r->n = m;
	if (negate) {
		struct ranges c = { 0 };
		uint32_t next = 0;
		for (size_t i = 0; i < r->n; i += 2) {
			if (r->v[i] > next && ranges_add(&c, next, r->v[i] - 1))
				goto oom;
			next = r->v[i + 1] + 1;
		}
		if (next <= UTF8_MAX_RUNE && ranges_add(&c, next, UTF8_MAX_RUNE))
			goto oom;
		free(r->v);
		*r = c;
		return 0;
oom:
		free(c.v);
		return -1;
	}
	return 0;
}

static int hexval(uint32_t c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

static bool is_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static uint32_t next_rune(struct parser *p)
{
	uint32_t r;
	p->s += utf8_decode(p->s, (size_t)(p->end - p->s), &r);
	return r;
}

/* Go's parseEscape: p->s points at the backslash. */
static int parse_escape(struct parser *p, uint32_t *out)
{
	const unsigned char *start = p->s;
	uint32_t c, r;

	p->s++;
	if (p->s == p->end)
		return fail(p, RE_ESYNTAX, "trailing backslash at end of expression", start, 1);
	c = next_rune(p);
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		/* A single non-zero digit would be a backreference. */
		if (p->s == p->end || *p->s < '0' || *p->s > '7')
			break;
		/* fallthrough */
	case '0':
		r = c - '0';
		for (int i = 1; i < 3; i++) {
			if (p->s == p->end || *p->s < '0' || *p->s > '7')
				break;
			r = r * 8 + (uint32_t)(*p->s++ - '0');
		}
		*out = r;
		return 0;
	case 'x':
		if (p->s == p->end)
			break;
		c = next_rune(p);
		if (c == '{') {
			int nhex = 0;
			r = 0;
			for (;;) {
				int v;
				if (p->s == p->end)
					goto bad;
				c = next_rune(p);
				if (c == '}')
					break;
				v = hexval(c);
				if (v < 0)
					goto bad;
				r = r * 16 + (uint32_t)v;
				if (r > UTF8_MAX_RUNE)
					goto bad;
				nhex++;
			}
			if (nhex == 0)
				goto bad;
			*out = r;
			return 0;
		} else {
			int x = hexval(c), y;
			if (p->s == p->end)
				goto bad;
			y = hexval(next_rune(p));
			if (x < 0 || y < 0)
				goto bad;
			*out = (uint32_t)(x * 16 + y);
			return 0;
		}
	case 'a': *out = '\a'; return 0;
	case 'f': *out = '\f'; return 0;
	case 'n': *out = '\n'; return 0;
	case 'r': *out = '\r'; return 0;
	case 't': *out = '\t'; return 0;
	case 'v': *out = '\v'; return 0;
	default:
		if (c < 0x80 && !is_alnum(c)) {
			*out = c;
			return 0;
		}
		break;
	}
bad:
	return fail(p, RE_ESYNTAX, "invalid escape sequence", start, (size_t)(p->s - start));
}

/* \d \s \w and their negations (ASCII, as Go's Perl groups). */
static int perl_class(uint32_t c, struct ranges *r, bool *negate)
{
	switch (c) {
	case 'D': *negate = true; /* fallthrough */
	case 'd': return ranges_add(r, '0', '9');
	case 'S': *negate = true; /* fallthrough */
	case 's':
		return ranges_add(r, '\t', '\n') || ranges_add(r, '\f', '\r') || ranges_add(r, ' ', ' ');
	case 'W': *negate = true; /* fallthrough */
	case 'w':
		return ranges_add(r, '0', '9') || ranges_add(r, 'A', 'Z') || ranges_add(r, '_', '_') ||
		       ranges_add(r, 'a', 'z');
	}
	return 1;
}

static bool is_perl_class(const unsigned char *s, const unsigned char *end)
{
	return end - s >= 2 && s[0] == '\\' && strchr("dDsSwW", s[1]) && s[1];
}

/* Adds the (possibly negated) ranges of one sub-class into dst. */
static int merge_into(struct ranges *dst, struct ranges *src, bool negate)
{
	int rc = ranges_finish(src, negate);
	for (size_t i = 0; !rc && i < src->n; i += 2)
		rc = ranges_add(dst, src->v[i], src->v[i + 1]);
	free(src->v);
	return rc;
}

static const struct {
	const char *name;
	const char *ranges; /* pairs of bytes */
} posix_classes[] = {
	{ "alnum", "09AZaz" }, { "alpha", "AZaz" }, { "ascii", "\x01\x7f" },
	{ "blank", "\t\t  " }, { "cntrl", "\x01\x1f\x7f\x7f" }, { "digit", "09" },
	{ "graph", "!~" }, { "lower", "az" }, { "print", " ~" },
	{ "punct", "!/:@[`{~" }, { "space", "\t\r  " }, { "upper", "AZ" },
	{ "word", "09AZ__az" }, { "xdigit", "09AFaf" },
};

/* Go's parseNamedClass: 1 = not a named class here, 0 = added, else error. */
static int parse_named_class(struct parser *p, struct ranges *dst)
{
	const unsigned char *s = p->s, *e;
	struct ranges sub = { 0 };
	bool neg = false;
	size_t nlen;

	if (p->end - s <= 2 || s[0] != '[' || s[1] != ':')
		return 1;
	e = s + 2;
	while (e + 1 < p->end && !(e[0] == ':' && e[1] == ']'))
		e++;
	if (e + 1 >= p->end)
		return 1;
	s += 2;
	if (s < e && *s == '^') {
		neg = true;
		s++;
	}
	nlen = (size_t)(e - s);
	for (size_t i = 0; i < sizeof(posix_classes) / sizeof(posix_classes[0]); i++) {
		const char *rg = posix_classes[i].ranges;
		if (strlen(posix_classes[i].name) != nlen || memcmp(posix_classes[i].name, s, nlen))
			continue;
		for (; *rg; rg += 2) {
			/* "\x01" stands for NUL in the table (C strings). */
			uint32_t lo = (unsigned char)rg[0] == 1 ? 0 : (unsigned char)rg[0];
			if (ranges_add(&sub, lo, (unsigned char)rg[1]))
				return fail(p, RE_ENOMEM, "out of memory", p->s, 0);
		}
		p->s = e + 2;
		return merge_into(dst, &sub, neg) ? RE_ENOMEM : 0;
	}
	return fail(p, RE_ESYNTAX, "invalid character class range", p->s, (size_t)(e + 2 - p->s));
}

static int parse_class_char(struct parser *p, const unsigned char *cls, uint32_t *out)
{
	if (p->s == p->end)
		return fail(p, RE_ESYNTAX, "missing closing ]", cls, (size_t)(p->end - cls));
	if (*p->s == '\\')
		return parse_escape(p, out);
	*out = next_rune(p);
	return 0;
}

/* Go's parseClass: p->s points at '['. */
static int parse_class(struct parser *p, struct re_node *n)
{
	const unsigned char *cls = p->s;
	struct ranges r = { 0 };
	bool negate = false, first = true;
	int rc;

	p->s++;
	if (p->s < p->end && *p->s == '^') {
		negate = true;
		p->s++;
	}
	while (p->s == p->end || *p->s != ']' || first) {
		uint32_t lo, hi;
		const unsigned char *rng = p->s;

		first = false;
		rc = parse_named_class(p, &r);
		if (rc == 0)
			continue;
		if (rc != 1)
			goto out;
		if (p->end - p->s >= 2 && p->s[0] == '\\' && (p->s[1] == 'p' || p->s[1] == 'P')) {
			rc = fail(p, RE_EUNSUPPORTED, "Unicode class escapes are not supported", p->s, 2);
			goto out;
		}
		if (is_perl_class(p->s, p->end)) {
			struct ranges sub = { 0 };
			bool neg = false;
			if (perl_class(p->s[1], &sub, &neg) || merge_into(&r, &sub, neg)) {
				rc = RE_ENOMEM;
				goto out;
			}
			p->s += 2;
			continue;
		}
		rc = parse_class_char(p, cls, &lo);
		if (rc)
			goto out;
		hi = lo;
		if (p->end - p->s >= 2 && p->s[0] == '-' && p->s[1] != ']') {
			p->s++;
			rc = parse_class_char(p, cls, &hi);
			if (rc)
				goto out;
			if (hi < lo) {
				rc = fail(p, RE_ESYNTAX, "invalid character class range", rng,
					  (size_t)(p->s - rng));
				goto out;
			}
		}
		if (ranges_add(&r, lo, hi)) {
			rc = RE_ENOMEM;
			goto out;
		}
	}
	p->s++; /* ']' */
	if (ranges_finish(&r, negate)) {
		rc = RE_ENOMEM;
		goto out;
	}
	n->kind = RE_CLASS;
	n->ranges = r.v;
	n->nranges = r.n / 2;
	return 0;
out:
	free(r.v);
	return rc;
}

static int parse_seq(struct parser *p, struct re_seq *q, int depth);

static int parse_atom_escape(struct parser *p, struct re_node *n)
{
	const unsigned char *s = p->s;

	if (p->end - s >= 2) {
		switch (s[1]) {
		case 'A': n->kind = RE_BEGIN; p->s += 2; return 0;
		case 'z': n->kind = RE_END; p->s += 2; return 0;
		case 'b': n->kind = RE_WORDB; p->s += 2; return 0;
		case 'B': n->kind = RE_NWORDB; p->s += 2; return 0;
		case 'C': return fail(p, RE_ESYNTAX, "invalid escape sequence", s, 2);
		case 'Q': return fail(p, RE_EUNSUPPORTED, "\\Q...\\E literal text is not supported", s, 2);
		case 'p': case 'P':
			return fail(p, RE_EUNSUPPORTED, "Unicode class escapes are not supported", s, 2);
		}
	}
	if (is_perl_class(s, p->end)) {
		struct ranges r = { 0 };
		bool neg = false;
		if (perl_class(s[1], &r, &neg) || ranges_finish(&r, neg)) {
			free(r.v);
			return RE_ENOMEM;
		}
		n->kind = RE_CLASS;
		n->ranges = r.v;
		n->nranges = r.n / 2;
		p->s += 2;
		return 0;
	}
	n->kind = RE_LIT;
	return parse_escape(p, &n->rune);
}

/* Go's parseInt: digits without a leading zero; -1 when too big. */
static bool parse_int(struct parser *p, int *out)
{
	const unsigned char *s = p->s;
	int n = 0;

	if (s == p->end || *s < '0' || *s > '9')
		return false;
	if (p->end - s >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return false;
	for (; s < p->end && *s >= '0' && *s <= '9'; s++) {
		if (n >= 100000000)
			n = -1;
		if (n >= 0)
			n = n * 10 + (*s - '0');
	}
	p->s = s;
	*out = n;
	return true;
}

/* Go's parseRepeat: {n}, {n,}, {n,m}; false (and p->s untouched) when
 * the text is not a repetition, which makes '{' a literal. */
static bool parse_count(struct parser *p, int *min, int *max)
{
	const unsigned char *save = p->s;

	p->s++;
	if (!parse_int(p, min) || p->s == p->end)
		goto no;
	if (*p->s != ',') {
		*max = *min;
	} else {
		p->s++;
		if (p->s == p->end)
			goto no;
		if (*p->s == '}') {
			*max = -1;
		} else {
			if (!parse_int(p, max))
				goto no;
			if (*max < 0)
				*min = -1;
		}
	}
	if (p->s == p->end || *p->s != '}')
		goto no;
	p->s++;
	return true;
no:
	p->s = save;
	return false;
}

static int parse_repeat(struct parser *p, struct re_seq *q, bool *last_repeat)
{
	const unsigned char *op = p->s;
	int min = 0, max = 0;
	uint8_t rep;

	if (*op == '{') {
		if (!parse_count(p, &min, &max))
			return 1; /* a literal '{' */
		if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max))
			return fail(p, RE_ESYNTAX, "invalid repeat count", op, (size_t)(p->s - op));
		rep = RE_COUNT;
	} else {
		rep = *op == '*' ? RE_STAR : *op == '?' ? RE_QUEST : RE_COUNT;
		if (*op == '+') {
			min = 1;
			max = -1;
		}
		p->s++;
	}
	if (q->n == 0)
		return fail(p, RE_ESYNTAX, "missing argument to repetition operator", op, (size_t)(p->s - op));
	if (p->s < p->end && *p->s == '?')
		p->s++; /* non-greedy: the same set of matches */
	if (*last_repeat)
		return fail(p, RE_ESYNTAX, "invalid nested repetition operator", op, (size_t)(p->s - op));
	if (q->v[q->n - 1].rep != RE_ONE) {
		/* x{2}{3} style stacking is caught above; this is a repeat of a
		 * repeat through no operator at all, which cannot happen. */
		return fail(p, RE_ESYNTAX, "invalid nested repetition operator", op, (size_t)(p->s - op));
	}
	q->v[q->n - 1].rep = rep;
	q->v[q->n - 1].min = min;
	q->v[q->n - 1].max = max;
	*last_repeat = true;
	return 0;
}

/* One branch of an alternation, up to '|', ')' or the end. */
static int parse_concat(struct parser *p, struct re_seq *q, int depth)
{
	bool last_repeat = false;
	int rc;

	while (p->s < p->end) {
		unsigned char c = *p->s;
		struct re_node *n;

		if (c == '*' || c == '?' || c == '+' || c == '{') {
			rc = parse_repeat(p, q, &last_repeat);
			if (rc == 0)
				continue;
			if (rc != 1)
				return rc;
			/* '{' that is not a repetition: a literal */
		}
		last_repeat = false;
		if (c == ')' || c == '|')
			return 0;
		n = seq_push(q);
		if (!n)
			return RE_ENOMEM;
		switch (c) {
		case '(':
			if (p->end - p->s >= 2 && p->s[1] == '?')
				return fail(p, RE_EUNSUPPORTED, "regexp flag groups are not supported", p->s, 2);
			p->s++;
			n->kind = RE_GROUP;
			n->sub = calloc(1, sizeof(*n->sub));
			if (!n->sub)
				return RE_ENOMEM;
			rc = parse_seq(p, n->sub, depth + 1);
			if (rc)
				return rc;
			if (p->s == p->end)
				return fail(p, RE_ESYNTAX, "missing closing )", p->s, 0);
			p->s++;
			break;
		case '^': n->kind = RE_BEGIN; p->s++; break;
		case '$': n->kind = RE_END; p->s++; break;
		case '.': n->kind = RE_ANYNL; p->s++; break;
		case '[':
			rc = parse_class(p, n);
			if (rc)
				return rc;
			break;
		case '\\':
			rc = parse_atom_escape(p, n);
			if (rc)
				return rc;
			break;
		default:
			n->kind = RE_LIT;
			n->rune = next_rune(p);
		}
	}
	return 0;
}

/* Branches separated by '|'; more than one become a single RE_ALT node. */
static int parse_seq(struct parser *p, struct re_seq *q, int depth)
{
	struct re_seq *branch = q;
	struct re_node alt = { 0 };
	int rc;

	for (;;) {
		rc = parse_concat(p, branch, depth);
		if (rc)
			goto out;
		if (p->s == p->end || *p->s != '|')
			break;
		p->s++;
		if (!alt.sub) {
			/* Move what was parsed so far into the first branch. */
			struct re_node *g;
			alt.kind = RE_ALT;
			alt.sub = calloc(1, sizeof(*alt.sub));
			if (!alt.sub || !(g = seq_push(alt.sub)))
				goto oom;
			g->kind = RE_GROUP;
			g->sub = calloc(1, sizeof(*g->sub));
			if (!g->sub)
				goto oom;
			*g->sub = *q;
			memset(q, 0, sizeof(*q));
		}
		{
			struct re_node *g = seq_push(alt.sub);
			if (!g)
				goto oom;
			g->kind = RE_GROUP;
			g->sub = calloc(1, sizeof(*g->sub));
			if (!g->sub)
				goto oom;
			branch = g->sub;
		}
	}
	if (p->s < p->end && *p->s == ')' && depth == 0) {
		rc = fail(p, RE_ESYNTAX, "unexpected )", p->s, 1);
		goto out;
	}
	if (depth > 0 && p->s == p->end) {
		rc = fail(p, RE_ESYNTAX, "missing closing )", p->s, 0);
		goto out;
	}
	if (alt.sub) {
		struct re_node *n = seq_push(q);
		if (!n)
			goto oom;
		*n = alt;
	}
	return 0;
oom:
	rc = RE_ENOMEM;
out:
	re_seq_free(alt.sub);
	return rc;
}

int re_parse(struct re_seq **out, const char *re, size_t len, char *msg, size_t msgsz,
	     size_t *whatlen)
{
	struct parser p = { (const unsigned char *)re, (const unsigned char *)re + len, msg, msgsz, 0 };
	struct re_seq *q = calloc(1, sizeof(*q));
	int rc;

	*out = NULL;
	if (!q)
		return RE_ENOMEM;
	rc = parse_seq(&p, q, 0);
	if (rc) {
		if (rc == RE_ENOMEM)
			snprintf(msg, msgsz, "out of memory");
		if (whatlen)
			*whatlen = rc == RE_ENOMEM ? strlen(msg) : p.whatlen;
		re_seq_free(q);
		return rc;
	}
	*out = q;
	return 0;
}

bool re_node_matches_rune(const struct re_node *n, uint32_t r)
{
	switch (n->kind) {
	case RE_LIT:
		return n->rune == r;
	case RE_ANYNL:
		return r != '\n';
	case RE_CLASS: {
		size_t lo = 0, hi = n->nranges;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (r < n->ranges[2 * mid])
				hi = mid;
			else if (r > n->ranges[2 * mid + 1])
				lo = mid + 1;
			else
				return true;
		}
		return false;
	}
	}
	return false;
}

/* ---- compilation to a Thompson program ---- */

enum op { OP_RUNE, OP_SPLIT, OP_JMP, OP_ASSERT, OP_MATCH };

struct inst {
	uint8_t op;
	uint32_t x, y;              /* SPLIT targets, JMP target */
	const struct re_node *node; /* OP_RUNE: LIT/CLASS/ANYNL; OP_ASSERT: the assertion */
};

struct re_prog {
	struct inst *v;
	size_t n, alloc;
	bool anchored;
};

static long emit(struct re_prog *p, uint8_t op, const struct re_node *node)
{
	if (p->n == p->alloc) {
		size_t na = p->alloc ? p->alloc * 2 : 16;
		struct inst *v = realloc(p->v, na * sizeof(*v));
		if (!v)
			return -1;
		p->v = v;
		p->alloc = na;
	}
	p->v[p->n] = (struct inst){ op, 0, 0, node };
	return (long)p->n++;
}

static int compile_nodes(struct re_prog *p, const struct re_node *nodes, size_t n);

static int compile_alt(struct re_prog *p, const struct re_node *nd)
{
	long *jumps = calloc(nd->sub->n, sizeof(long));
	int rc = 0;

	if (!jumps)
		return -1;
	for (size_t i = 0; !rc && i < nd->sub->n; i++) {
		const struct re_seq *br = nd->sub->v[i].sub;
		long split = -1;
		if (i + 1 < nd->sub->n && (split = emit(p, OP_SPLIT, NULL)) < 0) {
			rc = -1;
			break;
		}
		if (compile_nodes(p, br->v, br->n) || (jumps[i] = emit(p, OP_JMP, NULL)) < 0) {
			rc = -1;
			break;
		}
		if (split >= 0) {
			p->v[split].x = (uint32_t)split + 1;
			p->v[split].y = (uint32_t)p->n;
		}
	}
	for (size_t i = 0; !rc && i < nd->sub->n; i++)
		p->v[jumps[i]].x = (uint32_t)p->n;
	free(jumps);
	return rc;
}

static int compile_atom(struct re_prog *p, const struct re_node *nd)
{
	switch (nd->kind) {
	case RE_GROUP:
		return compile_nodes(p, nd->sub->v, nd->sub->n);
	case RE_ALT:
		return compile_alt(p, nd);
	case RE_BEGIN: case RE_END: case RE_WORDB: case RE_NWORDB:
		return emit(p, OP_ASSERT, nd) < 0 ? -1 : 0;
	default:
		return emit(p, OP_RUNE, nd) < 0 ? -1 : 0;
	}
}

/* atom? (star: atom*): SPLIT to the atom or past it, and for a star a JMP
 * back to the SPLIT. */
static int compile_optional(struct re_prog *p, const struct re_node *nd, bool star)
{
	long split = emit(p, OP_SPLIT, NULL), jmp;

	if (split < 0 || compile_atom(p, nd))
		return -1;
	if (star) {
		jmp = emit(p, OP_JMP, NULL);
		if (jmp < 0)
			return -1;
		p->v[jmp].x = (uint32_t)split;
	}
	p->v[split].x = (uint32_t)split + 1;
	p->v[split].y = (uint32_t)p->n;
	return 0;
}

static int compile_nodes(struct re_prog *p, const struct re_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct re_node *nd = &nodes[i];

		switch (nd->rep) {
		case RE_ONE:
			if (compile_atom(p, nd))
				return -1;
			break;
		case RE_STAR:
		case RE_QUEST:
			if (compile_optional(p, nd, nd->rep == RE_STAR))
				return -1;
			break;
		case RE_COUNT:
			/* x{n,m}: n copies, then m-n optional ones (or one star). */
			for (int k = 0; k < nd->min; k++)
				if (compile_atom(p, nd))
					return -1;
			if (nd->max < 0) {
				if (compile_optional(p, nd, true))
					return -1;
				break;
			}
			for (int k = nd->min; k < nd->max; k++)
				if (compile_optional(p, nd, false))
					return -1;
			break;
		}
	}
	return 0;
}

struct re_prog *re_compile(const struct re_node *nodes, size_t n, bool anchored)
{
	struct re_prog *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->anchored = anchored;
	if (compile_nodes(p, nodes, n) || emit(p, OP_MATCH, NULL) < 0) {
		re_prog_free(p);
		return NULL;
	}
	return p;
}

void re_prog_free(struct re_prog *p)
{
	if (!p)
		return;
	free(p->v);
	free(p);
}

size_t re_prog_len(const struct re_prog *p)
{
	return p->n;
}

int re_scratch_init(struct re_scratch *s, size_t cap)
{
	memset(s, 0, sizeof(*s));
	if (cap == 0)
		cap = 1;
	s->clist = calloc(cap, sizeof(uint32_t));
	s->nlist = calloc(cap, sizeof(uint32_t));
	s->mark = calloc(cap, sizeof(uint32_t));
	s->stack = calloc(2 * cap + 1, sizeof(uint32_t)); /* each pc pushes at most two */
	if (!s->clist || !s->nlist || !s->mark || !s->stack) {
		re_scratch_release(s);
		return -1;
	}
	s->cap = cap;
	return 0;
}

void re_scratch_release(struct re_scratch *s)
{
	free(s->clist);
	free(s->nlist);
	free(s->mark);
	free(s->stack);
	memset(s, 0, sizeof(*s));
}

static bool is_word(long r)
{
	return r >= 0 && (is_alnum((uint32_t)r) || r == '_');
}

/* Position context for assertions: the rune before and after the cursor
 * (-1 at the ends of the text). */
struct pos {
	long prev, next;
};

static bool assert_ok(const struct re_node *nd, struct pos at)
{
	switch (nd->kind) {
	case RE_BEGIN: return at.prev < 0;
	case RE_END: return at.next < 0;
	case RE_WORDB: return is_word(at.prev) != is_word(at.next);
	case RE_NWORDB: return is_word(at.prev) == is_word(at.next);
	}
	return false;
}

/* Adds pc and its epsilon closure to list; returns true if MATCH is reached. */
static bool add_thread(const struct re_prog *p, struct re_scratch *s, uint32_t *list, size_t *nlist,
		       uint32_t pc, struct pos at)
{
	size_t sp = 0;
	bool matched = false;

	s->stack[sp++] = pc;
	while (sp) {
		const struct inst *in;
		pc = s->stack[--sp];
		if (s->mark[pc] == s->gen)
			continue;
		s->mark[pc] = s->gen;
		in = &p->v[pc];
		switch (in->op) {
		case OP_JMP:
			s->stack[sp++] = in->x;
			break;
		case OP_SPLIT:
			/* Push y first so x is explored first (order is irrelevant for a yes/no answer). */
			s->stack[sp++] = in->y;
			s->stack[sp++] = in->x;
			break;
		case OP_ASSERT:
			if (assert_ok(in->node, at))
				s->stack[sp++] = pc + 1;
			break;
		case OP_MATCH:
			matched = true;
			break;
		case OP_RUNE:
			list[(*nlist)++] = pc;
			break;
		}
	}
	return matched;
}

static void next_gen(struct re_scratch *s)
{
	if (++s->gen == 0) {
		memset(s->mark, 0, s->cap * sizeof(uint32_t));
		s->gen = 1;
	}
}

bool re_run(const struct re_prog *p, struct re_scratch *s, const unsigned char *text, size_t len)
{
	uint32_t *cl = s->clist, *nl = s->nlist, *tmp;
	size_t nc = 0, i = 0;
	long prev = -1;

	next_gen(s);
	for (;;) {
		uint32_t r = 0, r2 = 0;
		size_t w = 0, nn = 0;
		struct pos at, after;

		if (i < len)
			w = utf8_decode(text + i, len - i, &r);
		at.prev = prev;
		at.next = i < len ? (long)r : -1;
		/* A new thread starts here: at every position when searching. */
		if ((i == 0 || !p->anchored) && add_thread(p, s, cl, &nc, 0, at) &&
		    (!p->anchored || i == len))
			return true;
		if (i == len || (nc == 0 && p->anchored))
			return false;
		/* Step every thread over rune r; the threads it makes live at i + w. */
		next_gen(s);
		after.prev = (long)r;
		after.next = -1;
		if (i + w < len) {
			utf8_decode(text + i + w, len - i - w, &r2);
			after.next = (long)r2;
		}
		for (size_t k = 0; k < nc; k++) {
			const struct inst *in = &p->v[cl[k]];
			if (re_node_matches_rune(in->node, r) &&
			    add_thread(p, s, nl, &nn, cl[k] + 1, after) && (!p->anchored || i + w == len))
				return true;
		}
		tmp = cl;
		cl = nl;
		nl = tmp;
		nc = nn;
		prev = (long)r;
		i += w;
	}
}
