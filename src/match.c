/* match.c: rules compiled into an automaton over path segments.
 *
 * Algorithm.  Docker decides a path with MatchesUsingParentResults: rules in
 * order, last match wins, and a rule that matched the parent directory is
 * taken as matching without a test ("recorded").  A rule whose polarity
 * cannot change the running verdict is skipped and not recorded.  The final
 * verdict is therefore the polarity of the last rule in (parent's recorded
 * set ∪ rules matching this path); the skip rule only shapes what is
 * recorded for the children.  So one query needs M(path), the set of rules
 * whose pattern matches the whole path, then one ordered merge.
 *
 * M(path) comes from a nondeterministic automaton whose edges consume one
 * whole path segment.  Every pattern Docker can express without letting a
 * wildcard cross a '/' becomes a chain of steps:
 *   LIT   the segment equals a string (all literal edges of all rules live in
 *         one hash table keyed by (node, segment), so 5,000 literal rules
 *         cost one lookup per active node, as 10 do),
 *   GLOB  the segment matches a one-segment regular expression (regex.h),
 *   PRE/SUF  the segment starts/ends with bytes (Docker's "a**" and "**a"),
 *   SKIP  zero or more segments: an epsilon edge to a node that loops
 *         (any segment for Docker's suffix matches, segments without '\n'
 *         for its regexp "(.*\/)?", since Go's '.' does not match newline),
 *   ANYSEG / tails  one or more segments, with accept at every step.
 * Rule chains share their common prefix (a trie).  A directory's state is
 * its set of active nodes (closed under epsilon) plus its recorded rules;
 * an entry's state is computed from its parent's in one step, so a walk
 * never re-matches ancestors.
 *
 * Patterns that do not split at '/' (a class containing '/', "a**b", "^",
 * \b, ...) are kept as "fallback" rules and matched on the full path with
 * the reference semantics (pattern.c): exact, only slower.  Patterns whose
 * regexp fails to compile are "bad": Docker fails when it evaluates one, so
 * the query reports an error exactly when Docker's loop would evaluate it.
 *
 * Pruning.  For a directory excluded by the rules, the classic builder
 * enters it only if some exception's text starts with "dir/" (a binary
 * search over the sorted exception texts).  For BuildKit the answer is
 * exact: something below can be re-included only if an exception rule with
 * a higher index than every rule recorded for the directory is accepted at
 * a node reachable from the directory's active nodes; every node stores the
 * highest such exception (computed once, bottom-up).  Fallback exceptions
 * count as reachable. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "internal.h"
#include "match.h"
#include "pattern.h"
#include "rules.h"
#include "utf8.h"

enum edge_kind { E_GLOB, E_PRE, E_SUF, E_ANYSEG_NONL }; /* E_PRE/E_SUF: keys longer than 65535 */
enum loop_kind { LOOP_NONE, LOOP_ANY, LOOP_NONL };

/* Keyed edges, all in one hash table: the segment equals (K_LIT), ends with
 * (K_SUF) or starts with (K_PRE, K_PRE_ANY: the target loops over
 * everything below) some bytes. */
enum key_kind { K_LIT, K_SUF, K_PRE, K_PRE_ANY, K_NKINDS };


struct edge {
	uint8_t kind;
	uint32_t to;
	char *bytes; /* E_PRE, E_SUF */
	size_t len;
	struct re_prog *prog; /* E_GLOB */
};

struct mnode {
	uint8_t loop;
	bool has_lit;
	uint16_t *keylens[K_NKINDS]; /* K_SUF..: distinct key lengths (K_LIT unused) */
	size_t nkeylens[K_NKINDS], akeylens[K_NKINDS];
	struct edge *edges;
	size_t nedges, aedges;
	uint32_t *eps; /* SKIP children */
	size_t neps, aeps;
	uint32_t *acc; /* rules accepted when a path ends here */
	size_t nacc, aacc;
	uint32_t *litto; /* targets of literal edges a real name can take */
	size_t nlitto, alitto;
	uint32_t acc_exc;   /* 1 + highest exception accepted in the eps closure, 0 none */
	uint32_t reach_exc; /* 1 + highest exception accepted after >= 1 more segment */
};

struct lit {
	uint32_t from, to;
	uint8_t kind;
	uint64_t hash;
	char *name;
	size_t len;
};

struct ctxpack_match {
	ctxpack_rules *rules;
	enum ctxpack_builder builder;
	struct pattern *pats;
	size_t npats;
	struct mnode *nodes;
	size_t nnodes, anodes;
	struct lit *lits; /* open addressing; size is a power of two */
	size_t nlits, litcap;
	uint32_t *fallback, *bad; /* sorted rule indices */
	size_t nfallback, nbad;
	uint32_t fallback_exc; /* 1 + highest fallback exception, 0 none */
	char **exc_prefix;     /* sorted exception texts + "/" for the prefix rule */
	size_t nexc;
	bool prefix_only;      /* the builder prunes by the literal-prefix rule */
	size_t maxprog;
};

struct ctxpack_mstate {
	const ctxpack_match *m; /* sized for it: used with another, -EINVAL */
	uint32_t *active;
	size_t nactive;
	uint32_t *rec; /* recorded rules, ascending */
	size_t nrec;
};

struct ctxpack_mscratch {
	const ctxpack_match *m; /* sized for it */
	uint32_t *mark;
	uint32_t gen;
	uint32_t *stack;
	uint32_t *active; /* when the caller wants no child state */
	uint32_t *mlist;
	struct re_scratch re;
};

/* ---- building ---- */

static long node_new(ctxpack_match *m, uint8_t loop)
{
	if (GROW(m->nodes, m->anodes, m->nnodes + 1))
		return -1;
	memset(&m->nodes[m->nnodes], 0, sizeof(m->nodes[0]));
	m->nodes[m->nnodes].loop = loop;
	return (long)m->nnodes++;
}

static uint64_t name_hash(const char *s, size_t n)
{
	return XXH3_64bits(s, n);
}

static uint64_t lit_key(uint64_t h, uint32_t from, uint8_t kind)
{
	uint64_t k = h ^ ((uint64_t)(from * 4u + kind) * 0x9E3779B97F4A7C15ull);
	return k ^ (k >> 29);
}

static struct lit *lit_find(const ctxpack_match *m, uint32_t from, uint8_t kind, uint64_t h,
			    const char *s, size_t n)
{
	size_t mask = m->litcap - 1, i;

	if (!m->litcap)
		return NULL;
	for (i = lit_key(h, from, kind) & mask;; i = (i + 1) & mask) {
		struct lit *l = &m->lits[i];
		if (!l->name)
			return NULL;
		if (l->from == from && l->kind == kind && l->hash == h && l->len == n &&
		    memcmp(l->name, s, n) == 0)
			return l;
	}
}

static int lit_rehash(ctxpack_match *m)
{
	size_t ncap = m->litcap ? m->litcap * 2 : 64;
	struct lit *old = m->lits, *nl = calloc(ncap, sizeof(*nl));
	size_t ocap = m->litcap;

	if (!nl)
		return -1;
	m->lits = nl;
	m->litcap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].name)
			continue;
		size_t j = lit_key(old[i].hash, old[i].from, old[i].kind) & (ncap - 1);
		while (nl[j].name)
			j = (j + 1) & (ncap - 1);
		nl[j] = old[i];
	}
	free(old);
	return 0;
}

/* A literal segment no directory entry can have. */
static bool impossible_name(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
	       memchr(s, 0, n);
}

/* The node reached from `from` over a keyed edge, created if needed. */
static long step_key(ctxpack_match *m, uint32_t from, uint8_t kind, const char *s, size_t n)
{
	uint64_t h = name_hash(s, n);
	struct lit *l = lit_find(m, from, kind, h, s, n);
	struct mnode *f;
	long to;
	size_t j;

	if (l)
		return l->to;
	if ((m->nlits + 1) * 2 > m->litcap && lit_rehash(m))
		return -1;
	to = node_new(m, kind == K_PRE_ANY ? LOOP_ANY : LOOP_NONE);
	if (to < 0)
		return -1;
	j = lit_key(h, from, kind) & (m->litcap - 1);
	while (m->lits[j].name)
		j = (j + 1) & (m->litcap - 1);
	m->lits[j].name = xmemdup(s, n);
	if (!m->lits[j].name)
		return -1;
	m->lits[j].from = from;
	m->lits[j].to = (uint32_t)to;
	m->lits[j].kind = kind;
	m->lits[j].hash = h;
	m->lits[j].len = n;
	m->nlits++;
	f = &m->nodes[from];
	if (kind == K_LIT) {
		f->has_lit = true;
	} else {
		bool seen = false;
		for (size_t i = 0; i < f->nkeylens[kind]; i++)
			seen |= f->keylens[kind][i] == n;
		if (!seen) {
			if (GROW(f->keylens[kind], f->akeylens[kind], f->nkeylens[kind] + 1))
				return -1;
			f->keylens[kind][f->nkeylens[kind]++] = (uint16_t)n;
		}
	}
	if (kind != K_LIT || !impossible_name(s, n)) {
		if (GROW(f->litto, f->alitto, f->nlitto + 1))
			return -1;
		f->litto[f->nlitto++] = (uint32_t)to;
	}
	return to;
}

static long step_lit(ctxpack_match *m, uint32_t from, const char *s, size_t n)
{
	return step_key(m, from, K_LIT, s, n);
}

/* The node reached over a PRE/SUF/ANYSEG edge (shared when identical) or a
 * GLOB edge (never shared: prog is taken over). */
static long step_edge(ctxpack_match *m, uint32_t from, uint8_t kind, const char *s, size_t n,
		      struct re_prog *prog, uint8_t loop)
{
	struct mnode *f = &m->nodes[from];
	struct edge *e;
	long to;

	if ((kind == E_PRE || kind == E_SUF) && n <= UINT16_MAX)
		return step_key(m, from, kind == E_SUF ? K_SUF : loop == LOOP_ANY ? K_PRE_ANY : K_PRE, s, n);
	if (kind != E_GLOB) {
		for (size_t i = 0; i < f->nedges; i++) {
			e = &f->edges[i];
			if (e->kind == kind && e->len == n && (!n || memcmp(e->bytes, s, n) == 0) &&
			    m->nodes[e->to].loop == loop)
				return e->to;
		}
	}
	to = node_new(m, loop);
	if (to < 0)
		return -1;
	f = &m->nodes[from];
	if (GROW(f->edges, f->aedges, f->nedges + 1))
		return -1;
	e = &f->edges[f->nedges];
	memset(e, 0, sizeof(*e));
	if (n || kind == E_PRE || kind == E_SUF) {
		e->bytes = xmemdup(s ? s : "", n);
		if (!e->bytes)
			return -1;
	}
	e->kind = kind;
	e->to = (uint32_t)to;
	e->len = n;
	e->prog = prog;
	f->nedges++;
	return to;
}

/* The looping node reached by a SKIP (epsilon) from `from`. */
static long step_skip(ctxpack_match *m, uint32_t from, uint8_t loop)
{
	struct mnode *f = &m->nodes[from];
	long to;

	for (size_t i = 0; i < f->neps; i++)
		if (m->nodes[f->eps[i]].loop == loop)
			return f->eps[i];
	to = node_new(m, loop);
	if (to < 0)
		return -1;
	f = &m->nodes[from];
	if (GROW(f->eps, f->aeps, f->neps + 1))
		return -1;
	f->eps[f->neps++] = (uint32_t)to;
	return to;
}

static int accept_at(ctxpack_match *m, long node, uint32_t rule)
{
	struct mnode *n;

	if (node < 0)
		return -1;
	n = &m->nodes[node];
	if (GROW(n->acc, n->aacc, n->nacc + 1))
		return -1;
	n->acc[n->nacc++] = rule;
	return 0;
}

/* Literal segments of s[0..n) from `at`; the last one is left in *tail. */
static long add_lit_path(ctxpack_match *m, long at, const char *s, size_t n, const char **tail,
			 size_t *tail_len)
{
	const char *slash;

	while (at >= 0 && (slash = memchr(s, '/', n))) {
		at = step_lit(m, (uint32_t)at, s, (size_t)(slash - s));
		n -= (size_t)(slash - s) + 1;
		s = slash + 1;
	}
	*tail = s;
	*tail_len = n;
	return at;
}

static int add_exact(ctxpack_match *m, uint32_t rule, const char *s, size_t n)
{
	const char *t;
	size_t tl;
	long at = add_lit_path(m, 0, s, n, &t, &tl);

	if (at >= 0)
		at = step_lit(m, (uint32_t)at, t, tl);
	return accept_at(m, at, rule);
}

/* HasPrefix(path, s): literal segments, then "starts with" and everything below. */
static int add_prefix(ctxpack_match *m, uint32_t rule, const char *s, size_t n)
{
	const char *t;
	size_t tl;
	long at = add_lit_path(m, 0, s, n, &t, &tl);

	if (at >= 0)
		at = step_edge(m, (uint32_t)at, E_PRE, t, tl, NULL, LOOP_ANY);
	return accept_at(m, at, rule);
}

/* HasSuffix(path, s) or path == s[1:] when s starts with '/'. */
static int add_suffix(ctxpack_match *m, uint32_t rule, const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n), *t;
	long at = step_skip(m, 0, LOOP_ANY);
	size_t f0 = slash ? (size_t)(slash - s) : n, tl;

	if (at < 0)
		return -1;
	if (!slash)
		return accept_at(m, step_edge(m, (uint32_t)at, E_SUF, s, n, NULL, LOOP_NONE), rule);
	if (f0)
		at = step_edge(m, (uint32_t)at, E_SUF, s, f0, NULL, LOOP_NONE);
	if (at >= 0)
		at = add_lit_path(m, at, slash + 1, n - f0 - 1, &t, &tl);
	if (at >= 0)
		at = step_lit(m, (uint32_t)at, t, tl);
	return accept_at(m, at, rule);
}

/* ---- regexp patterns split into segments ---- */

static bool is_skip_group(const struct re_node *nd)
{
	const struct re_seq *s = nd->sub;

	return nd->kind == RE_GROUP && nd->rep == RE_QUEST && s->n == 2 &&
	       s->v[0].kind == RE_ANYNL && s->v[0].rep == RE_STAR && s->v[1].kind == RE_LIT &&
	       s->v[1].rep == RE_ONE && s->v[1].rune == '/';
}

static bool is_sep(const struct re_node *nd)
{
	return nd->kind == RE_LIT && nd->rep == RE_ONE && nd->rune == '/';
}

static bool is_tail(const struct re_node *nd)
{
	return nd->kind == RE_ANYNL && nd->rep == RE_STAR;
}

/* A node that matches within one segment and never '/'. */
static bool in_segment(const struct re_node *nd)
{
	if (nd->kind == RE_LIT)
		return nd->rune != '/';
	if (nd->kind == RE_CLASS)
		return !re_node_matches_rune(nd, '/');
	return false;
}

/* Can nodes[0..n) (between Docker's ^ and $) be split into segment steps? */
static bool splittable(const struct re_node *v, size_t n)
{
	bool seg_start = true;

	for (size_t i = 0; i < n; i++) {
		if (is_sep(&v[i])) {
			seg_start = true;
			continue;
		}
		if (seg_start && is_skip_group(&v[i]))
			continue;
		if (is_tail(&v[i]) && i == n - 1)
			break;
		if (!in_segment(&v[i]))
			return false;
		seg_start = false;
	}
	return true;
}

/* The piece's literal bytes when it is plain text Go compares rune by rune
 * exactly as bytes (no U+FFFD, which also matches invalid bytes). */
static bool piece_literal(const struct re_node *v, size_t n, char *out, size_t *outlen)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i].kind != RE_LIT || v[i].rep != RE_ONE || v[i].rune == 0xFFFD ||
		    (v[i].rune >= 0xD800 && v[i].rune <= 0xDFFF) || v[i].rune > 0x10FFFF)
			return false;
		k += utf8_encode(v[i].rune, out + k);
	}
	*outlen = k;
	return true;
}

/* A canonical byte string for nodes[0..n), so that identical globs of
 * different rules share one edge (and one evaluation per entry). */
static int glob_key(const struct re_node *v, size_t n, char **buf, size_t *len, size_t *alloc)
{
	for (size_t i = 0; i < n; i++) {
		const struct re_node *nd = &v[i];
		uint32_t hdr[6] = { nd->kind, nd->rep, (uint32_t)nd->min, (uint32_t)nd->max, nd->rune,
				    (uint32_t)nd->nranges };
		size_t need = sizeof(hdr) + nd->nranges * 2 * sizeof(uint32_t) + 2;
		if (GROW(*buf, *alloc, *len + need))
			return -1;
		memcpy(*buf + *len, hdr, sizeof(hdr));
		*len += sizeof(hdr);
		if (nd->nranges) {
			memcpy(*buf + *len, nd->ranges, nd->nranges * 2 * sizeof(uint32_t));
			*len += nd->nranges * 2 * sizeof(uint32_t);
		}
		if (nd->sub) {
			(*buf)[(*len)++] = '(';
			if (glob_key(nd->sub->v, nd->sub->n, buf, len, alloc))
				return -1;
			if (GROW(*buf, *alloc, *len + 1))
				return -1;
			(*buf)[(*len)++] = ')';
		}
	}
	return 0;
}

/* The node reached over a glob edge; identical globs share it. */
static long step_glob(ctxpack_match *m, uint32_t at, const struct re_node *v, size_t n, uint8_t loop)
{
	char *key = NULL;
	size_t klen = 0, kalloc = 0;
	struct re_prog *p;
	long to;

	if (glob_key(v, n, &key, &klen, &kalloc)) {
		free(key);
		return -1;
	}
	for (size_t i = 0; i < m->nodes[at].nedges; i++) {
		const struct edge *e = &m->nodes[at].edges[i];
		if (e->kind == E_GLOB && e->len == klen && memcmp(e->bytes, key, klen) == 0 &&
		    m->nodes[e->to].loop == loop) {
			free(key);
			return e->to;
		}
	}
	p = re_compile(v, n, true);
	if (!p) {
		free(key);
		return -1;
	}
	if (re_prog_len(p) > m->maxprog)
		m->maxprog = re_prog_len(p);
	to = step_edge(m, at, E_GLOB, NULL, 0, p, loop);
	if (to >= 0) {
		struct edge *e = &m->nodes[at].edges[m->nodes[at].nedges - 1];
		free(e->bytes);
		e->bytes = key;
		e->len = klen;
	} else {
		free(key);
	}
	return to;
}

/* Docker's "*": [^/]* */
static bool is_star(const struct re_node *nd)
{
	return nd->kind == RE_CLASS && nd->rep == RE_STAR && nd->nranges == 2 && nd->ranges[0] == 0 &&
	       nd->ranges[1] == '/' - 1 && nd->ranges[2] == '/' + 1 && nd->ranges[3] == 0x10FFFF;
}

/* One segment's glob, as an edge: plain text, "*text" and "text*" become
 * hashed keys (Go compares whole runes, and text without U+FFFD compares
 * the same as bytes, so "ends with" and "starts with" are exact); anything
 * else a compiled one-segment program. */
static long step_piece(ctxpack_match *m, uint32_t at, const struct re_node *v, size_t n, char *buf)
{
	size_t blen;

	if (piece_literal(v, n, buf, &blen))
		return step_lit(m, at, buf, blen);
	if (n >= 1 && is_star(&v[0]) && piece_literal(v + 1, n - 1, buf, &blen))
		return step_edge(m, at, E_SUF, buf, blen, NULL, LOOP_NONE);
	if (n >= 1 && is_star(&v[n - 1]) && piece_literal(v, n - 1, buf, &blen))
		return step_edge(m, at, E_PRE, buf, blen, NULL, LOOP_NONE);
	return step_glob(m, at, v, n, LOOP_NONE);
}

static int add_regexp(ctxpack_match *m, uint32_t rule, const struct re_seq *re)
{
	const struct re_node *v = re->v;
	size_t n = re->n, i = 0;
	long at = 0;
	char *buf;

	/* Docker's own anchors. */
	v++;
	n -= 2;
	buf = malloc(4 * n + 1);
	if (!buf)
		return -1;
	while (at >= 0 && i <= n) {
		size_t j = i;
		bool tail = false;

		while (at >= 0 && i < n && is_skip_group(&v[i])) {
			at = step_skip(m, (uint32_t)at, LOOP_NONL);
			i++;
		}
		if (at < 0)
			break;
		j = i;
		while (j < n && !is_sep(&v[j]))
			j++;
		if (j == n && j > i && is_tail(&v[j - 1]))
			tail = true;
		if (tail && j - 1 == i) {
			/* A piece that is all ".*": one or more segments without '\n'. */
			at = step_edge(m, (uint32_t)at, E_ANYSEG_NONL, NULL, 0, NULL, LOOP_NONL);
		} else if (!tail) {
			at = step_piece(m, (uint32_t)at, v + i, j - i, buf);
		} else {
			at = step_glob(m, (uint32_t)at, v + i, j - i, LOOP_NONL);
		}
		i = j + 1;
	}
	free(buf);
	return accept_at(m, at, rule);
}

static int push_rule(uint32_t **v, size_t *n, uint32_t rule)
{
	uint32_t *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -1;
	nv[(*n)++] = rule;
	*v = nv;
	return 0;
}

static int add_rule(ctxpack_match *m, uint32_t i)
{
	const struct pattern *p = &m->pats[i];

	if (p->lazy_error)
		return push_rule(&m->bad, &m->nbad, i);
	switch (p->type) {
	case PAT_EXACT:
		return add_exact(m, i, p->text, p->len);
	case PAT_PREFIX:
		return add_prefix(m, i, p->text, p->len - 2);
	case PAT_SUFFIX:
		return add_suffix(m, i, p->text + 2, p->len - 2);
	case PAT_REGEXP:
		if (p->re->n >= 2 && p->re->v[0].kind == RE_BEGIN && p->re->v[p->re->n - 1].kind == RE_END &&
		    splittable(p->re->v + 1, p->re->n - 2))
			return add_regexp(m, i, p->re);
		if (p->exclusion)
			m->fallback_exc = i + 1;
		if (pattern_prog_len(p) > m->maxprog)
			m->maxprog = pattern_prog_len(p);
		return push_rule(&m->fallback, &m->nfallback, i);
	}
	return 0;
}

static uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* Children always have higher numbers than their parents (self-loops
 * aside), so one pass from the last node computes acc_exc and reach_exc
 * bottom-up. */
static void compute_reach(ctxpack_match *m)
{
	for (size_t k = m->nnodes; k-- > 0;) {
		struct mnode *n = &m->nodes[k];
		for (size_t i = 0; i < n->nacc; i++)
			if (m->pats[n->acc[i]].exclusion)
				n->acc_exc = max32(n->acc_exc, n->acc[i] + 1);
		for (size_t i = 0; i < n->neps; i++) {
			const struct mnode *c = &m->nodes[n->eps[i]];
			n->acc_exc = max32(n->acc_exc, c->acc_exc);
			n->reach_exc = max32(n->reach_exc, c->reach_exc);
		}
		for (size_t i = 0; i < n->nedges; i++) {
			const struct mnode *t = &m->nodes[n->edges[i].to];
			n->reach_exc = max32(n->reach_exc, max32(t->acc_exc, t->reach_exc));
		}
		for (size_t i = 0; i < n->nlitto; i++) {
			const struct mnode *t = &m->nodes[n->litto[i]];
			n->reach_exc = max32(n->reach_exc, max32(t->acc_exc, t->reach_exc));
		}
		if (n->loop != LOOP_NONE)
			n->reach_exc = max32(n->reach_exc, n->acc_exc);
	}
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fsutil's patternWithoutTrailingGlob: a trailing slash-star-star, then a
 * trailing slash-star, removed. */
static size_t without_trailing_glob(const char *s, size_t n)
{
	if (n >= 3 && memcmp(s + n - 3, "/**", 3) == 0)
		n -= 3;
	if (n >= 2 && memcmp(s + n - 2, "/*", 2) == 0)
		n -= 2;
	return n;
}

/* The exceptions' texts + "/", sorted, for the walkers' literal-prefix
 * test: the classic walker uses the whole text; BuildKit (fsutil) the text
 * without a trailing glob, and only while no such text holds a wildcard
 * character (otherwise it enters every excluded directory).  Texts with a
 * NUL byte cannot prefix a path. */
static int build_exc_prefixes(ctxpack_match *m)
{
	bool bk = m->builder == CTXPACK_BUILDER_BUILDKIT;
	size_t k = 0;

	m->prefix_only = true;
	m->exc_prefix = calloc(m->npats ? m->npats : 1, sizeof(char *));
	if (!m->exc_prefix)
		return -1;
	for (size_t i = 0; i < m->npats; i++) {
		const struct pattern *p = &m->pats[i];
		size_t n = bk ? without_trailing_glob(p->text, p->len) : p->len;
		char *s;
		if (!p->exclusion)
			continue;
		for (size_t j = 0; bk && j < n; j++)
			if (strchr("*[]?^\\", p->text[j]) && p->text[j])
				m->prefix_only = false;
		if (memchr(p->text, 0, n))
			continue;
		s = malloc(n + 2);
		if (!s)
			return -1;
		memcpy(s, p->text, n);
		s[n] = '/';
		s[n + 1] = '\0';
		m->exc_prefix[k++] = s;
	}
	m->nexc = k;
	qsort(m->exc_prefix, k, sizeof(char *), cmp_strp);
	return 0;
}

/* BuildKit sends the patterns in gRPC metadata: a control byte fails the
 * build, unless some pattern is not ASCII (the list is then encoded). */
static bool buildkit_transport_error(const ctxpack_rules *r, size_t *bad)
{
	long first = -1;

	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->v[i].len; j++) {
			unsigned char c = (unsigned char)r->v[i].text[j];
			if (c >= 0x80)
				return false;
			if ((c < 0x20 || c == 0x7f) && first < 0)
				first = (long)i;
		}
	*bad = (size_t)first;
	return first >= 0;
}

int ctxpack_match_compile(ctxpack_match **out, ctxpack_rules *r, enum ctxpack_builder b)
{
	ctxpack_match *m;
	char msg[256];
	size_t bad = 0;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!r)
		return -EINVAL;
	if (b != CTXPACK_BUILDER_BUILDKIT && b != CTXPACK_BUILDER_CLASSIC) {
		rules_set_error(r, -EINVAL, "unknown builder %d", (int)b);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto oom;
	m->rules = r;
	m->builder = b;
	m->maxprog = 1;
	if (b == CTXPACK_BUILDER_BUILDKIT && buildkit_transport_error(r, &bad)) {
		rules_compile_error(r, bad, -EINVAL,
				    "control character (BuildKit cannot send the pattern)");
		free(m);
		return -EINVAL;
	}
	rc = rules_patterns(r, b == CTXPACK_BUILDER_BUILDKIT, &m->pats, &bad, msg, sizeof(msg));
	if (rc == PATTERN_ENOMEM)
		goto oom;
	if (rc) {
		rules_compile_error(r, bad, -EINVAL, msg);
		free(m);
		return -EINVAL;
	}
	m->npats = r->n;
	if (node_new(m, LOOP_NONE) < 0)
		goto oom;
	for (size_t i = 0; i < m->npats; i++)
		if (add_rule(m, (uint32_t)i))
			goto oom;
	compute_reach(m);
	if (build_exc_prefixes(m))
		goto oom;
	*out = m;
	return 0;
oom:
	ctxpack_match_free(&m);
	rules_set_error(r, -ENOMEM, "out of memory");
	return -ENOMEM;
}

void ctxpack_match_free(ctxpack_match **mp)
{
	ctxpack_match *m;

	if (!mp || !*mp)
		return;
	m = *mp;
	for (size_t i = 0; i < m->nnodes; i++) {
		struct mnode *n = &m->nodes[i];
		for (size_t k = 0; k < n->nedges; k++) {
			free(n->edges[k].bytes);
			re_prog_free(n->edges[k].prog);
		}
		free(n->edges);
		free(n->eps);
		free(n->acc);
		free(n->litto);
		for (int k = 0; k < K_NKINDS; k++)
			free(n->keylens[k]);
	}
	free(m->nodes);
	for (size_t i = 0; i < m->litcap; i++)
		free(m->lits[i].name);
	free(m->lits);
	if (m->pats)
		rules_patterns_release(m->pats, m->npats);
	for (size_t i = 0; i < m->nexc; i++)
		free(m->exc_prefix[i]);
	free(m->exc_prefix);
	free(m->fallback);
	free(m->bad);
	free(m);
	*mp = NULL;
}

const char *ctxpack_match_rule_error(const ctxpack_match *m, size_t i)
{
	if (!m || i >= m->npats || !m->pats[i].lazy_error)
		return NULL;
	return m->pats[i].errmsg;
}

void match_refusal(const ctxpack_match *m, long rule, int rc, const char *path, size_t plen,
		   struct rules_error *out)
{
	const char *why = rule >= 0 ? ctxpack_match_rule_error(m, (size_t)rule) : NULL;
	char q[512], after[800];

	text_quote(q, sizeof(q), path, plen);
	if (rc == -ENOTSUP)
		snprintf(after, sizeof(after),
			 " uses a Go regexp construct ctxpack does not reproduce (%s); Docker evaluates it for '%s'",
			 why ? why : "?", q);
	else
		snprintf(after, sizeof(after),
			 " is not a valid regular expression (%s); Docker fails when it evaluates it, as for '%s'",
			 why ? why : "?", q);
	rules_error_at(out, m->rules, rule >= 0 ? (size_t)rule : SIZE_MAX, rc, "pattern ", after,
		       path, plen);
}

void match_refusal_message(const ctxpack_match *m, long rule, int rc, const char *path,
			   size_t plen, char *out, size_t outsz)
{
	struct rules_error e = { 0 };

	match_refusal(m, rule, rc, path, plen, &e);
	snprintf(out, outsz, "%s", e.message);
	rules_error_release(&e);
}

const ctxpack_rules *ctxpack_match_rules(const ctxpack_match *m)
{
	return m ? m->rules : NULL;
}

/* ---- states and scratch ---- */

int ctxpack_mstate_new(ctxpack_mstate **out, const ctxpack_match *m)
{
	ctxpack_mstate *s;

	if (!out || !m)
		return -EINVAL;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->m = m;
	s->active = malloc(m->nnodes * sizeof(uint32_t));
	s->rec = malloc((m->npats ? m->npats : 1) * sizeof(uint32_t));
	if (!s->active || !s->rec) {
		ctxpack_mstate_free(&s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void match_state_copy(ctxpack_mstate *dst, const ctxpack_mstate *src)
{
	memcpy(dst->active, src->active, src->nactive * sizeof(uint32_t));
	memcpy(dst->rec, src->rec, src->nrec * sizeof(uint32_t));
	dst->nactive = src->nactive;
	dst->nrec = src->nrec;
}

void ctxpack_mstate_free(ctxpack_mstate **sp)
{
	if (!sp || !*sp)
		return;
	free((*sp)->active);
	free((*sp)->rec);
	free(*sp);
	*sp = NULL;
}

int ctxpack_mscratch_new(ctxpack_mscratch **out, const ctxpack_match *m)
{
	ctxpack_mscratch *s;

	if (!out || !m)
		return -EINVAL;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->m = m;
	s->mark = calloc(m->nnodes, sizeof(uint32_t));
	s->stack = malloc(m->nnodes * sizeof(uint32_t));
	s->active = malloc(m->nnodes * sizeof(uint32_t));
	s->mlist = malloc((m->npats ? m->npats : 1) * sizeof(uint32_t));
	if (!s->mark || !s->stack || !s->active || !s->mlist || re_scratch_init(&s->re, m->maxprog)) {
		ctxpack_mscratch_free(&s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void ctxpack_mscratch_free(ctxpack_mscratch **sp)
{
	ctxpack_mscratch *s;

	if (!sp || !*sp)
		return;
	s = *sp;
	free(s->mark);
	free(s->stack);
	free(s->active);
	free(s->mlist);
	re_scratch_release(&s->re);
	free(s);
	*sp = NULL;
}

static void new_gen(ctxpack_mscratch *s, const ctxpack_match *m)
{
	if (++s->gen == 0) {
		memset(s->mark, 0, m->nnodes * sizeof(uint32_t));
		s->gen = 1;
	}
}

/* Adds node and its epsilon closure to active[]. */
static void activate(const ctxpack_match *m, ctxpack_mscratch *s, uint32_t node, uint32_t *active,
		     size_t *n)
{
	size_t sp = 0;

	if (s->mark[node] == s->gen)
		return;
	s->mark[node] = s->gen;
	s->stack[sp++] = node;
	while (sp) {
		const struct mnode *nd = &m->nodes[s->stack[--sp]];
		active[(*n)++] = (uint32_t)(nd - m->nodes);
		for (size_t i = 0; i < nd->neps; i++) {
			uint32_t c = nd->eps[i];
			if (s->mark[c] != s->gen) {
				s->mark[c] = s->gen;
				s->stack[sp++] = c;
			}
		}
	}
}

void ctxpack_match_root(const ctxpack_match *m, ctxpack_mstate *st)
{
	/* The root's epsilon closure, with a plain search: it is computed
	 * once per walk and holds a handful of nodes. */
	size_t n = 0, i = 0;

	if (!m || !st || st->m != m)
		return;
	st->active[n++] = 0;
	while (i < n) {
		const struct mnode *nd = &m->nodes[st->active[i++]];
		for (size_t k = 0; k < nd->neps; k++) {
			bool seen = false;
			for (size_t j = 0; j < n; j++)
				seen |= st->active[j] == nd->eps[k];
			if (!seen)
				st->active[n++] = nd->eps[k];
		}
	}
	st->nactive = n;
	st->nrec = 0;
}

static bool edge_matches(const struct edge *e, ctxpack_mscratch *s, const char *name, size_t len,
			 bool has_nl)
{
	switch (e->kind) {
	case E_PRE:
		return len >= e->len && memcmp(name, e->bytes, e->len) == 0;
	case E_SUF:
		return len >= e->len && memcmp(name + len - e->len, e->bytes, e->len) == 0;
	case E_ANYSEG_NONL:
		return !has_nl;
	case E_GLOB:
		return re_run(e->prog, &s->re, (const unsigned char *)name, len);
	}
	return false;
}

/* The nodes active after consuming one segment, into active[]. */
static size_t advance(const ctxpack_match *m, ctxpack_mscratch *s, const ctxpack_mstate *parent,
		      const char *name, size_t len, uint32_t *active)
{
	bool has_nl = memchr(name, '\n', len) != NULL;
	uint64_t h = 0;
	bool hashed = false;
	size_t n = 0;

	new_gen(s, m);
	for (size_t i = 0; i < parent->nactive; i++) {
		const struct mnode *nd = &m->nodes[parent->active[i]];
		if (nd->loop == LOOP_ANY || (nd->loop == LOOP_NONL && !has_nl))
			activate(m, s, parent->active[i], active, &n);
		if (nd->has_lit) {
			const struct lit *l;
			if (!hashed) {
				h = name_hash(name, len);
				hashed = true;
			}
			l = lit_find(m, parent->active[i], K_LIT, h, name, len);
			if (l)
				activate(m, s, l->to, active, &n);
		}
		for (uint8_t k = K_SUF; k < K_NKINDS; k++)
			for (size_t j = 0; j < nd->nkeylens[k]; j++) {
				size_t kl = nd->keylens[k][j];
				const char *key = k == K_SUF ? name + len - kl : name;
				const struct lit *l;
				if (kl > len)
					continue;
				l = lit_find(m, parent->active[i], k, name_hash(key, kl), key, kl);
				if (l)
					activate(m, s, l->to, active, &n);
			}
		for (size_t k = 0; k < nd->nedges; k++)
			if (edge_matches(&nd->edges[k], s, name, len, has_nl))
				activate(m, s, nd->edges[k].to, active, &n);
	}
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void sort_u32(uint32_t *v, size_t n)
{
	if (n < 16) {
		for (size_t i = 1; i < n; i++) {
			uint32_t x = v[i];
			size_t j = i;
			for (; j > 0 && v[j - 1] > x; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return;
	}
	qsort(v, n, sizeof(*v), cmp_u32);
}

/* The walkers' literal-prefix rule: does some exception's text + "/" start
 * with path + "/"? */
static bool classic_prefix(const ctxpack_match *m, const char *path, size_t len)
{
	size_t lo = 0, hi = m->nexc;

	/* lower_bound of path + "/" */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *t = m->exc_prefix[mid];
		size_t tl = strlen(t), k = tl < len ? tl : len;
		int c = memcmp(t, path, k);
		if (c == 0)
			c = tl > len ? ((unsigned char)t[len] < '/' ? -1 : (unsigned char)t[len] > '/')
				     : -1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->nexc && strlen(m->exc_prefix[lo]) > len &&
	       memcmp(m->exc_prefix[lo], path, len) == 0 && m->exc_prefix[lo][len] == '/';
}

bool match_state_settled(const ctxpack_match *m, const ctxpack_mstate *st)
{
	return st->nactive == 0 && st->nrec == 0 && m->nfallback == 0 && m->nbad == 0;
}

int ctxpack_match_entry(const ctxpack_match *m, ctxpack_mscratch *s, const ctxpack_mstate *parent,
			const char *path, size_t len, size_t name_off, ctxpack_mstate *child,
			struct ctxpack_decision *d)
{
	uint32_t *active;
	size_t nactive, nm = 0, ip = 0, im = 0, ib = 0, nrec = 0;
	bool matched = false;
	long decider = -1;
	uint32_t reach = 0;

	/* The API boundary: handles of this m, the last component within
	 * path and right after a '/'. */
	if (!m || !s || !parent || !d || s->m != m || parent->m != m || (child && child->m != m) ||
	    (!path && len) || name_off > len || (name_off && path[name_off - 1] != '/'))
		return -EINVAL;
	active = child ? child->active : s->active;
	nactive = advance(m, s, parent, path + name_off, len - name_off, active);
	for (size_t i = 0; i < nactive; i++) {
		const struct mnode *nd = &m->nodes[active[i]];
		for (size_t k = 0; k < nd->nacc; k++)
			s->mlist[nm++] = nd->acc[k];
		reach = max32(reach, nd->reach_exc);
	}
	for (size_t i = 0; i < m->nfallback; i++)
		if (pattern_match(&m->pats[m->fallback[i]], &s->re, path, len) > 0)
			s->mlist[nm++] = m->fallback[i];
	sort_u32(s->mlist, nm);

	/* The ordered merge of recorded (P), matching (M) and bad (B) rules:
	 * MatchesUsingParentResults, visiting only rules that can matter. */
	for (;;) {
		uint32_t i = UINT32_MAX;
		bool in_p, in_m, is_b, hit;
		const struct pattern *p;

		if (ip < parent->nrec)
			i = parent->rec[ip];
		if (im < nm && s->mlist[im] < i)
			i = s->mlist[im];
		if (ib < m->nbad && m->bad[ib] < i)
			i = m->bad[ib];
		if (i == UINT32_MAX)
			break;
		in_p = ip < parent->nrec && parent->rec[ip] == i;
		in_m = im < nm && s->mlist[im] == i;
		is_b = ib < m->nbad && m->bad[ib] == i;
		ip += in_p;
		while (im < nm && s->mlist[im] == i)
			im++;
		ib += is_b;
		p = &m->pats[i];
		if (in_p) {
			hit = true;
		} else {
			if (p->exclusion != matched)
				continue;
			if (is_b) {
				d->verdict = CTXPACK_NONE;
				d->rule = (long)i;
				d->descend = false;
				return p->unsupported ? -ENOTSUP : -EINVAL;
			}
			hit = in_m;
		}
		if (!hit)
			continue;
		if (child)
			child->rec[nrec++] = i;
		matched = !p->exclusion;
		decider = (long)i;
	}
	if (child) {
		child->nactive = nactive;
		child->nrec = nrec;
	}
	d->rule = decider;
	d->verdict = decider < 0 ? CTXPACK_NONE : matched ? CTXPACK_EXCLUDE : CTXPACK_INCLUDE;
	d->descend = true;
	if (d->verdict == CTXPACK_EXCLUDE) {
		if (m->builder == CTXPACK_BUILDER_CLASSIC) {
			d->descend = classic_prefix(m, path, len);
		} else {
			/* Only an exception after every recorded rule can flip a
			 * descendant back, and the last recorded rule is the decider.
			 * Where fsutil prunes by prefix, it does so even when an
			 * exception could match below: "!a/STAR/STARSTAR" reduces to "a". */
			uint32_t top = (uint32_t)decider + 1;
			d->descend = reach > top || m->fallback_exc > top;
			if (m->prefix_only)
				d->descend = d->descend && classic_prefix(m, path, len);
		}
	}
	return 0;
}
