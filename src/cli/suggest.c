/* suggest.c: `ctxpack suggest`: .dockerignore lines that remove sent bytes
 * no build instruction reads, without touching what the build reads.
 *
 * What is sent is the walk's answer (pack_list with list_all), what the
 * build reads buildview_open's and used_reads' (src/buildview.h,
 * src/used.h); this file decides neither.  It proposes candidates from
 * one walk (a directory nothing below which is read, a name every such
 * directory bears, an extension no read file has, a large unread file),
 * then keeps a candidate only when the context with the ignore file as it
 * would be written (dockerctx_open_with) is walked and resolved again,
 * for each builder, and the build reads exactly the same entries: the
 * real decision is re-run, no pattern is reasoned about here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buildview.h"
#include "commands.h"
#include "dockerctx.h"
#include "internal.h"
#include "jsonstr.h"
#include "outfile.h"
#include "pack.h"
#include "report.h"
#include "rules.h"
#include "stats.h"
#include "used.h"
#include "walk.h"

enum { OPT_JSON = 256, OPT_MIN_SIZE, OPT_WRITE };

#define BLOCK_BEGIN                                                                                \
	"# >>> ctxpack suggest: generated, `ctxpack suggest --write` replaces this block"
#define BLOCK_END "# <<< ctxpack suggest"

/* The reduction users aim for, printed beside the one reached. */
#define TARGET_LOW 50
#define TARGET_HIGH 70

struct suggest_args {
	const char *dir;
	const char *dockerfile;
	bool both; /* no --builder: check both builders */
	enum ctxpack_builder builder;
	const char *target;
	const char **build_args;
	size_t nbuild_args, abuild_args;
	bool json, write;
	uint64_t min_size;
};

enum cand_kind { K_NAME, K_DIR, K_EXT, K_FILE };
static const char *const kind_names[] = {"name", "dir", "ext", "file"};

struct cand {
	enum cand_kind kind;
	char *rule;
	size_t rule_len;
	uint64_t est_bytes, est_files; /* estimated from the first walk, to rank */
	uint64_t bytes, files;	       /* saved, as the final walk decides */
	int line;		       /* its line in the text written, 1-based */
	bool rejected;		       /* left out: it changes what the build reads */
	bool idle;		       /* left out: it removes nothing the others leave */
	char *why;		       /* rejected: the first difference it makes, or NULL */
};

struct cands {
	struct cand *v;
	size_t n, alloc;
};

/* One builder's view of the context with a given ignore text: the walk,
 * the build's reads and the flags used_reads set. */
struct view {
	enum ctxpack_builder b;
	struct walk_result res;
	struct dockerctx ctx;
	bool walked;
	struct buildview bv;
	bool bv_open;
	uint8_t *flags;
};

static const char *builder_label(enum ctxpack_builder b)
{
	return b == CTXPACK_BUILDER_CLASSIC ? "the classic builder" : "BuildKit";
}

static const char *builder_name(enum ctxpack_builder b)
{
	return b == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit";
}

static void view_close(struct view *v)
{
	if (v->bv_open)
		buildview_close(&v->bv);
	if (v->walked) {
		walk_result_release(&v->res);
		dockerctx_close(&v->ctx);
	}
	free(v->flags);
	memset(v, 0, sizeof(*v));
}

/* Walks the context for b with the ignore file holding text (NULL: as it
 * is) and resolves the build's sources.  Returns 0, or a negative errno
 * with err (and, for a Dockerfile refused or not readable exactly,
 * *dockerfile_failed set). */
static int view_open(struct view *v, const struct suggest_args *a, enum ctxpack_builder b,
		     const char *text, size_t len, bool *dockerfile_failed, char *err, size_t errsz)
{
	struct pack_options o = {.builder = b,
				 .dir = a->dir,
				 .dockerfile = a->dockerfile,
				 .list_all = true,
				 .ignore_text = text,
				 .ignore_text_len = len};
	struct buildview_options bo = {.builder = b,
				       .build_args = a->build_args,
				       .target = a->target,
				       .dfname = a->dockerfile};
	struct pack_report rep;
	int rc;

	memset(v, 0, sizeof(*v));
	v->b = b;
	if (dockerfile_failed)
		*dockerfile_failed = false;
	rc = pack_list(&o, &v->res, &rep, &v->ctx, err, errsz);
	if (rc)
		return rc;
	v->walked = true;
	rc = buildview_open(&v->bv, &v->ctx, &v->res, &bo, err, errsz);
	v->bv_open = true;
	if (rc) {
		if (dockerfile_failed && rc != -ENOMEM)
			*dockerfile_failed = true;
		return rc;
	}
	v->flags = calloc(v->res.n ? v->res.n : 1, 1);
	if (!v->flags) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	used_reads(&v->bv.used, v->flags);
	return 0;
}

static bool entry_sent_file(const struct walk_entry *e)
{
	return e->sent && e->type == WT_FILE;
}

static void sent_totals(const struct view *v, uint64_t *bytes, uint64_t *files)
{
	*bytes = *files = 0;
	for (size_t i = 0; i < v->res.n; i++)
		if (entry_sent_file(v->res.v[i])) {
			*bytes += v->res.v[i]->size;
			(*files)++;
		}
}

/* The Dockerfile and the ignore files: what a rule must never touch. */
static bool special(const struct view *v, const struct walk_entry *e)
{
	const char *df = v->ctx.dockerfile;
	size_t dl = df ? strlen(df) : 0;

	/* the Dockerfile, .dockerignore, and <Dockerfile>.dockerignore beside
	 * a Dockerfile in the context (BuildKit's, should it exist) */
	return dockerctx_is_dockerfile(&v->ctx, e->path, e->len) ||
	       (e->len == 13 && !memcmp(e->path, ".dockerignore", 13)) ||
	       (df && e->len == dl + 13 && !memcmp(e->path, df, dl) &&
		!memcmp(e->path + dl, ".dockerignore", 13));
}

/* What the builder does with the Dockerfile and the ignore file. */
static int special_state(const struct view *v, const char *path, size_t len)
{
	bool found;
	size_t i = walk_find(&v->res, path, len, &found);
	const struct walk_entry *e;

	if (!found)
		return 0;
	e = v->res.v[i];
	return 1 | e->sent << 1 | e->forced << 2 | e->parent << 3 |
	       (v->b == CTXPACK_BUILDER_CLASSIC && used_classic_removed(v->ctx.rules, e)) << 4;
}

/* Does the build read the same with cand as with base (same builder)?
 * The same entries marked by used_reads (by path, with the same marks),
 * each source with the same outcome, the Dockerfile and the ignore
 * files treated alike.  why gets the first difference. */
static bool same_reads(const struct view *base, const struct view *cand, char *why, size_t whysz)
{
	size_t i = 0, j = 0;

	if (base->bv.used.n != cand->bv.used.n) {
		snprintf(why, whysz, "the build's sources differ");
		return false;
	}
	for (size_t k = 0; k < base->bv.used.n; k++) {
		const struct used_source *s = &base->bv.used.v[k], *t = &cand->bv.used.v[k];
		if (s->fails != t->fails || s->missing != t->missing ||
		    s->nmatched != t->nmatched || s->root != t->root) {
			snprintf(why, whysz, "the source '%s' resolves differently", s->path);
			return false;
		}
	}
	for (;;) {
		while (i < base->res.n && !base->flags[i])
			i++;
		while (j < cand->res.n && !cand->flags[j])
			j++;
		if (i == base->res.n || j == cand->res.n)
			break;
		if (base->flags[i] != cand->flags[j] ||
		    walk_order_cmp(base->res.v[i]->path, base->res.v[i]->len, cand->res.v[j]->path,
				   cand->res.v[j]->len)) {
			const struct walk_entry *e =
				walk_order_cmp(base->res.v[i]->path, base->res.v[i]->len,
					       cand->res.v[j]->path, cand->res.v[j]->len) <= 0
					? base->res.v[i]
					: cand->res.v[j];
			snprintf(why, whysz, "the build reads '%s' differently", e->path);
			return false;
		}
		i++;
		j++;
	}
	if (i != base->res.n || j != cand->res.n) {
		const struct walk_entry *e = i != base->res.n ? base->res.v[i] : cand->res.v[j];
		snprintf(why, whysz, "the build reads '%s' differently", e->path);
		return false;
	}
	for (size_t k = 0; k < base->res.n; k++) {
		const struct walk_entry *e = base->res.v[k];
		if (special(base, e) &&
		    special_state(base, e->path, e->len) != special_state(cand, e->path, e->len)) {
			snprintf(why, whysz, "'%s' would be treated differently", e->path);
			return false;
		}
	}
	return true;
}

/* ---- the ignore file's text ---- */

/* text without this command's block (the lines from BLOCK_BEGIN to
 * BLOCK_END), into *out (malloc'd).  *had: there was one. */
static int strip_block(const char *text, size_t len, char **out, size_t *outlen, bool *had)
{
	size_t bl = strlen(BLOCK_BEGIN), el = strlen(BLOCK_END), n = 0;
	const char *p = text, *end = text + len;
	bool in = false;
	char *o = malloc(len + 1);

	*had = false;
	if (!o)
		return -ENOMEM;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t l2 = ll && p[ll - 1] == '\r' ? ll - 1 : ll;
		size_t tok = nl ? ll + 1 : ll;
		if (!in && l2 == bl && !memcmp(p, BLOCK_BEGIN, bl)) {
			in = *had = true;
		} else if (in) {
			if (l2 == el && !memcmp(p, BLOCK_END, el))
				in = false;
		} else {
			memcpy(o + n, p, tok);
			n += tok;
		}
		p += tok;
	}
	*out = o;
	*outlen = n;
	return 0;
}

/* base followed by the block of the candidates not rejected (each
 * cand's line set), into *out (malloc'd); no block when there are none. */
static int with_block(const char *base, size_t blen, struct cands *c, char **out, size_t *outlen)
{
	size_t sz = 0;
	FILE *m = open_memstream(out, &sz);
	int line = 1;

	if (!m)
		return -ENOMEM;
	fwrite(base, 1, blen, m);
	for (size_t k = 0; k < blen; k++)
		line += base[k] == '\n';
	if (blen && base[blen - 1] != '\n') {
		fputc('\n', m);
		line++;
	}
	for (size_t k = 0, first = 1; k < c->n; k++) {
		if (c->v[k].rejected)
			continue;
		if (first) {
			fprintf(m, "%s\n", BLOCK_BEGIN);
			line++;
			first = 0;
		}
		fwrite(c->v[k].rule, 1, c->v[k].rule_len, m);
		fputc('\n', m);
		c->v[k].line = line++;
	}
	for (size_t k = 0; k < c->n; k++)
		if (!c->v[k].rejected) {
			fprintf(m, "%s\n", BLOCK_END);
			break;
		}
	if (fclose(m)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	*outlen = sz;
	return 0;
}

/* ---- candidates ---- */

#define KEEP_SELF 1  /* the build reads it, or it is the Dockerfile or an ignore file */
#define KEEP_BELOW 2 /* something below it is kept */

/* Marks path and its ancestors in keep (indexes of res). */
static void mark_keep(const struct walk_result *res, uint8_t *keep, const char *path, size_t len)
{
	bool found;
	size_t i = walk_find(res, path, len, &found);

	if (found)
		keep[i] |= KEEP_SELF;
	while (len) {
		const char *slash = memrchr(path, '/', len);
		len = slash ? (size_t)(slash - path) : 0;
		if (!len)
			break;
		i = walk_find(res, path, len, &found);
		if (found) {
			if (keep[i] & KEEP_BELOW)
				break;
			keep[i] |= KEEP_BELOW;
		}
	}
}

/* A name or path the candidate rule spells literally: no pattern
 * syntax, nothing Docker trims or reads as a comment or exception. */
static bool literal_ok(const char *s, size_t n)
{
	if (!n || s[0] == '!' || s[0] == '#' || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (size_t k = 0; k < n; k++) {
		unsigned char ch = (unsigned char)s[k];
		if (ch < 0x20 || ch == 0x7f || ch == '*' || ch == '?' || ch == '[' || ch == ']' ||
		    ch == '\\' || ch == '\t')
			return false;
	}
	return true;
}

static const char *base_of(const struct walk_entry *e, size_t *n)
{
	const char *s = memrchr(e->path, '/', e->len);
	s = s ? s + 1 : e->path;
	*n = e->len - (size_t)(s - e->path);
	return s;
}

struct scan {
	const struct walk_result *res;
	const uint8_t *keep;
	size_t *end;   /* a directory's subtree: [i, end[i]) */
	bool *covered; /* by a candidate taken so far */
	uint64_t min_size;
};

static int cand_add(struct cands *c, enum cand_kind k, const char *prefix, const char *s, size_t n,
		    uint64_t bytes, uint64_t files)
{
	size_t pl = strlen(prefix);
	struct cand *x;

	if (GROW(c->v, c->alloc, c->n + 1))
		return -ENOMEM;
	x = &c->v[c->n];
	memset(x, 0, sizeof(*x));
	x->rule = malloc(pl + n + 1);
	if (!x->rule)
		return -ENOMEM;
	memcpy(x->rule, prefix, pl);
	memcpy(x->rule + pl, s, n);
	x->rule[pl + n] = '\0';
	x->rule_len = pl + n;
	x->kind = k;
	x->est_bytes = bytes;
	x->est_files = files;
	c->n++;
	return 0;
}

/* Covers [i, end) and returns the sent file bytes and files newly covered. */
static void cover(struct scan *s, size_t i, size_t end, uint64_t *bytes, uint64_t *files)
{
	for (size_t k = i; k < end; k++) {
		const struct walk_entry *e = s->res->v[k];
		if (s->covered[k])
			continue;
		s->covered[k] = true;
		if (entry_sent_file(e)) {
			*bytes += e->size;
			(*files)++;
		}
	}
}

static size_t end_of(const struct scan *s, size_t i)
{
	return s->res->v[i]->type == WT_DIR ? s->end[i] : i + 1;
}

static int by_name(const void *pa, const void *pb, void *arg)
{
	const struct walk_result *res = arg;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb, na, nb;
	const char *a = base_of(res->v[ia], &na), *b = base_of(res->v[ib], &nb);
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c || na != nb)
		return c ? c : na < nb ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/* Every sent entry named like idx[lo..hi) is unread, nothing below it
 * read: `**` + "/" + name removes them all.  Returns their count of
 * directories. */
static bool group_unread(const struct scan *s, const size_t *idx, size_t lo, size_t hi,
			 size_t *ndirs)
{
	*ndirs = 0;
	for (size_t k = lo; k < hi; k++) {
		if (s->keep[idx[k]])
			return false;
		*ndirs += s->res->v[idx[k]]->type == WT_DIR;
	}
	return true;
}

/* Tier 1: a directory name all of whose sent entries are unread,
 * appearing at least twice: `**` "/name". */
static int scan_names(struct scan *s, struct cands *c)
{
	const struct walk_result *res = s->res;
	size_t *idx = malloc((res->n ? res->n : 1) * sizeof(*idx)), n = 0;
	int rc = 0;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < res->n; i++)
		if (res->v[i]->sent)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), by_name, (void *)res);
	for (size_t lo = 0, hi; lo < n && !rc; lo = hi) {
		size_t na, nb, ndirs;
		const char *a = base_of(res->v[idx[lo]], &na), *b;
		uint64_t bytes = 0, files = 0;
		for (hi = lo + 1; hi < n; hi++) {
			b = base_of(res->v[idx[hi]], &nb);
			if (na != nb || memcmp(a, b, na))
				break;
		}
		if (!group_unread(s, idx, lo, hi, &ndirs) || ndirs < 2 || !literal_ok(a, na))
			continue;
		/* in walk order (idx is sorted by index within a name): an
		 * occurrence inside the one before is counted with it */
		for (size_t k = lo, until = 0; k < hi; k++) {
			if (idx[k] < until)
				continue;
			until = end_of(s, idx[k]);
			for (size_t e = idx[k]; e < until; e++)
				if (!s->covered[e] && entry_sent_file(res->v[e])) {
					bytes += res->v[e]->size;
					files++;
				}
		}
		if (bytes < s->min_size || !bytes)
			continue;
		rc = cand_add(c, K_NAME, "**/", a, na, 0, 0);
	}
	free(idx);
	return rc;
}

/* Tier 2: the largest unread directories, anchored at their path. */
static int scan_dirs(struct scan *s, struct cands *c)
{
	const struct walk_result *res = s->res;
	int rc = 0;

	for (size_t i = 0; i < res->n && !rc;) {
		const struct walk_entry *e = res->v[i];
		uint64_t bytes = 0, files = 0;
		size_t end;
		if (e->type != WT_DIR || !e->sent || s->keep[i] || s->covered[i]) {
			i++;
			continue;
		}
		end = s->end[i];
		for (size_t k = i; k < end; k++)
			if (!s->covered[k] && entry_sent_file(res->v[k])) {
				bytes += res->v[k]->size;
				files++;
			}
		if (bytes && bytes >= s->min_size && literal_ok(e->path, e->len))
			rc = cand_add(c, K_DIR, "", e->path, e->len, bytes, files);
		i = end;
	}
	return rc;
}

static int by_ext(const void *pa, const void *pb, void *arg)
{
	const char *const *ext = arg;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	int c = strcmp(ext[ia], ext[ib]);

	return c ? c : ia < ib ? -1 : ia > ib;
}

/* Tier 3: an extension no read entry bears ("**" then "/" "*.ext"). */
static int scan_exts(struct scan *s, struct cands *c)
{
	const struct walk_result *res = s->res;
	char **ext = calloc(res->n ? res->n : 1, sizeof(*ext));
	size_t *idx = malloc((res->n ? res->n : 1) * sizeof(*idx)), n = 0;
	int rc = 0;

	if (!ext || !idx) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < res->n; i++) {
		char buf[24];
		if (!res->v[i]->sent)
			continue;
		stats_extension(res->v[i], buf, sizeof(buf));
		if (!buf[0]) {
			/* "*.env" matches ".env" too: such a name joins its group */
			size_t bn;
			const char *bs = base_of(res->v[i], &bn);
			if (bn > 1 && bn < sizeof(buf) && bs[0] == '.' &&
			    !memchr(bs + 1, '.', bn - 1)) {
				memcpy(buf, bs, bn);
				buf[bn] = '\0';
			}
		}
		if (!buf[0] || !literal_ok(buf, strlen(buf)))
			continue;
		ext[i] = strdup(buf);
		if (!ext[i]) {
			rc = -ENOMEM;
			goto out;
		}
		idx[n++] = i;
	}
	qsort_r(idx, n, sizeof(*idx), by_ext, ext);
	for (size_t lo = 0, hi; lo < n && !rc; lo = hi) {
		uint64_t bytes = 0, files = 0;
		const char *x = ext[idx[lo]];
		size_t xl = strlen(x);
		bool ok = true, named = true;
		for (hi = lo + 1; hi < n && !strcmp(x, ext[idx[hi]]); hi++)
			;
		for (size_t k = lo; k < hi && ok; k++) {
			size_t bn;
			const char *bs = base_of(res->v[idx[k]], &bn);
			ok = !s->keep[idx[k]];
			named &= bn == xl && !memcmp(bs, x, xl);
		}
		if (!ok)
			continue;
		for (size_t k = lo; k < hi; k++)
			for (size_t e = idx[k], end = end_of(s, e); e < end; e++)
				if (!s->covered[e] && entry_sent_file(res->v[e])) {
					bytes += res->v[e]->size;
					files++;
				}
		/* only names such as ".editorconfig": the name says it */
		if (bytes && bytes >= s->min_size)
			rc = cand_add(c, named ? K_NAME : K_EXT, named ? "**/" : "**/*", x, xl,
				      bytes, files);
	}
out:
	for (size_t i = 0; ext && i < res->n; i++)
		free(ext[i]);
	free(ext);
	free(idx);
	return rc;
}

/* Tier 4: single unread files of at least min_size (1 MiB at least). */
static int scan_files(struct scan *s, struct cands *c)
{
	const struct walk_result *res = s->res;
	uint64_t min = s->min_size > (1u << 20) ? s->min_size : (1u << 20);
	int rc = 0;

	for (size_t i = 0; i < res->n && !rc; i++) {
		const struct walk_entry *e = res->v[i];
		if (entry_sent_file(e) && !s->keep[i] && !s->covered[i] && e->size >= min &&
		    literal_ok(e->path, e->len))
			rc = cand_add(c, K_FILE, "", e->path, e->len, e->size, 1);
	}
	return rc;
}

static int by_est(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->est_bytes != b->est_bytes)
		return a->est_bytes > b->est_bytes ? -1 : 1;
	return strcmp(a->rule, b->rule);
}

/* Covers what candidate x removes (as the scan estimates it) in s. */
static void apply(struct scan *s, const struct cand *x)
{
	const struct walk_result *res = s->res;
	uint64_t b = 0, f = 0;
	size_t pl = x->kind == K_NAME ? 3 : x->kind == K_EXT ? 4 : 0;
	const char *name = x->rule + pl;
	size_t nl = x->rule_len - pl;

	if (x->kind == K_DIR || x->kind == K_FILE) {
		bool found;
		size_t i = walk_find(res, x->rule, x->rule_len, &found);
		if (found)
			cover(s, i, end_of(s, i), &b, &f);
		return;
	}
	for (size_t i = 0; i < res->n; i++) {
		size_t bn;
		const char *bs = base_of(res->v[i], &bn);
		bool hit = x->kind == K_NAME ? bn == nl && !memcmp(bs, name, nl)
					     : bn >= nl && !memcmp(bs + bn - nl, name, nl);
		if (hit && res->v[i]->sent)
			cover(s, i, end_of(s, i), &b, &f);
	}
}

/* The candidates from base (the primary builder's view; other, if not
 * NULL, the other builder's, whose reads are kept too), tier by tier,
 * each tier ranked by what it saves beyond the tiers before. */
static int propose(const struct view *base, const struct view *other, uint64_t min_size,
		   struct cands *c)
{
	const struct walk_result *res = &base->res;
	size_t n = res->n ? res->n : 1, *stack = NULL, depth = 0;
	struct scan s = {.res = res, .min_size = min_size};
	uint8_t *keep = calloc(n, 1);
	int rc = -ENOMEM;

	s.end = malloc(n * sizeof(*s.end));
	s.covered = calloc(n, sizeof(*s.covered));
	stack = malloc(n * sizeof(*stack));
	if (!keep || !s.end || !s.covered || !stack)
		goto out;
	s.keep = keep;
	for (size_t i = 0; i < res->n; i++)
		if (base->flags[i] || special(base, res->v[i]))
			mark_keep(res, keep, res->v[i]->path, res->v[i]->len);
	for (size_t i = 0; other && i < other->res.n; i++)
		if (other->flags[i] || special(other, other->res.v[i]))
			mark_keep(res, keep, other->res.v[i]->path, other->res.v[i]->len);
	/* subtrees: a directory's contents follow it in walk order */
	for (size_t i = 0; i <= res->n; i++) {
		const struct walk_entry *e = i < res->n ? res->v[i] : NULL;
		while (depth) {
			const struct walk_entry *d = res->v[stack[depth - 1]];
			if (e && e->len > d->len && e->path[d->len] == '/' &&
			    !memcmp(e->path, d->path, d->len))
				break;
			s.end[stack[--depth]] = i;
		}
		if (e && e->type == WT_DIR)
			stack[depth++] = i;
		else if (e)
			s.end[i] = i + 1;
	}
	for (int tier = 0; tier < 4; tier++) {
		size_t first = c->n;
		rc = tier == 0	 ? scan_names(&s, c)
		     : tier == 1 ? scan_dirs(&s, c)
		     : tier == 2 ? scan_exts(&s, c)
				 : scan_files(&s, c);
		if (rc)
			goto out;
		for (size_t k = first; k < c->n; k++) {
			if (c->v[k].kind != K_NAME)
				continue;
			/* a name's estimate: what it covers beyond the tiers before */
			struct scan t = s;
			uint64_t b = 0, f = 0;
			t.covered = malloc(n * sizeof(*t.covered));
			if (!t.covered) {
				rc = -ENOMEM;
				goto out;
			}
			memcpy(t.covered, s.covered, n * sizeof(*t.covered));
			apply(&t, &c->v[k]);
			for (size_t i = 0; i < res->n; i++)
				if (t.covered[i] && !s.covered[i] && entry_sent_file(res->v[i])) {
					b += res->v[i]->size;
					f++;
				}
			free(t.covered);
			c->v[k].est_bytes = b;
			c->v[k].est_files = f;
		}
		if (c->n > first) /* c->v is NULL while empty */
			qsort(c->v + first, c->n - first, sizeof(*c->v), by_est);
		for (size_t k = first; k < c->n; k++)
			apply(&s, &c->v[k]);
	}
	rc = 0;
out:
	free(keep);
	free(s.end);
	free(s.covered);
	free(stack);
	return rc;
}

static void cands_free(struct cands *c)
{
	for (size_t k = 0; k < c->n; k++) {
		free(c->v[k].rule);
		free(c->v[k].why);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ---- checking ---- */

struct run {
	const struct suggest_args *a;
	enum ctxpack_builder builders[2];
	size_t nb;
	struct view base[2];
	const char *text; /* the ignore file without this command's block */
	size_t text_len;
	bool base_override; /* the file had a block: the base reads text */
	size_t walks;	    /* walks made, for --json */
};

/* Does the build read the same with the candidates not rejected (for
 * every builder)?  1 yes, 0 no (why says why), <0 an error (err). */
static int check(struct run *r, struct cands *c, struct view *keep_primary, char *why, size_t whysz,
		 char *err, size_t errsz)
{
	char *text = NULL;
	size_t len;
	int rc = with_block(r->text, r->text_len, c, &text, &len);

	if (rc) {
		snprintf(err, errsz, "out of memory");
		return rc;
	}
	for (size_t k = 0; k < r->nb; k++) {
		struct view v;
		bool dffail;
		char e2[1024];
		rc = view_open(&v, r->a, r->builders[k], text, len, &dffail, e2, sizeof(e2));
		r->walks++;
		if (rc == -ENOMEM) {
			view_close(&v);
			free(text);
			snprintf(err, errsz, "out of memory");
			return rc;
		}
		if (rc) {
			/* the rules refused, or the build no longer resolves */
			snprintf(why, whysz, "%s: %s", builder_label(r->builders[k]), e2);
			view_close(&v);
			free(text);
			return 0;
		}
		if (!same_reads(&r->base[k], &v, e2, sizeof(e2))) {
			snprintf(why, whysz, "%s: %s", builder_label(r->builders[k]), e2);
			view_close(&v);
			free(text);
			return 0;
		}
		if (k == 0 && keep_primary) {
			view_close(keep_primary);
			*keep_primary = v;
		} else {
			view_close(&v);
		}
	}
	free(text);
	return 1;
}

/* Keeps the largest subsets of c[lo..hi) that leave the reads unchanged,
 * by halving: a range that passes as a whole is kept at once. */
static int settle(struct run *r, struct cands *c, size_t lo, size_t hi, char *err, size_t errsz)
{
	char why[1200];
	int rc;

	if (lo >= hi)
		return 0;
	/* try c[lo..hi) on top of what is kept before lo, without what is
	 * still undecided after hi */
	{
		bool *was = malloc(c->n * sizeof(*was));
		if (!was) {
			snprintf(err, errsz, "out of memory");
			return -ENOMEM;
		}
		for (size_t k = 0; k < c->n; k++) {
			was[k] = c->v[k].rejected;
			if (k >= hi)
				c->v[k].rejected = true;
		}
		rc = check(r, c, NULL, why, sizeof(why), err, errsz);
		for (size_t k = hi; k < c->n; k++)
			c->v[k].rejected = was[k];
		free(was);
	}
	if (rc < 0)
		return rc;
	if (rc == 1)
		return 0;
	if (hi - lo == 1) {
		c->v[lo].rejected = true;
		free(c->v[lo].why);
		c->v[lo].why = strdup(why); /* NULL: said without the reason */
		return 0;
	}
	for (size_t k = lo + (hi - lo) / 2; k < hi; k++)
		c->v[k].rejected = true;
	rc = settle(r, c, lo, lo + (hi - lo) / 2, err, errsz);
	if (rc)
		return rc;
	for (size_t k = lo + (hi - lo) / 2; k < hi; k++)
		c->v[k].rejected = false;
	return settle(r, c, lo + (hi - lo) / 2, hi, err, errsz);
}

/* What each rule of the final walk saves: every file the base sends and
 * the final walk does not, counted for the block rule that decided it
 * (itself, or its nearest listed directory). */
static void attribute(const struct view *base, const struct view *fin, struct cands *c)
{
	const struct walk_result *b = &base->res, *f = &fin->res;

	for (size_t k = 0; k < c->n; k++)
		c->v[k].bytes = c->v[k].files = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct walk_entry *e = b->v[i], *d = NULL;
		struct ctxpack_rule_info ri;
		size_t len = e->len;
		bool found;
		size_t j;
		if (!entry_sent_file(e))
			continue;
		j = walk_find(f, e->path, e->len, &found);
		while (!found && len) {
			const char *slash = memrchr(e->path, '/', len);
			len = slash ? (size_t)(slash - e->path) : 0;
			if (len)
				j = walk_find(f, e->path, len, &found);
		}
		if (!found)
			continue;
		d = f->v[j];
		if ((d == f->v[j] && d->len == e->len && d->sent) || d->rule < 0 ||
		    ctxpack_rules_get(fin->ctx.rules, (size_t)d->rule, &ri))
			continue;
		for (size_t k = 0; k < c->n; k++)
			if (!c->v[k].rejected && c->v[k].line == ri.line) {
				c->v[k].bytes += e->size;
				c->v[k].files++;
				break;
			}
	}
}

/* ---- output ---- */

static void print_size(FILE *f, uint64_t b)
{
	char h[32];

	fputs(human_size(b, h, sizeof(h)), f);
}

static int pct(uint64_t before, uint64_t after)
{
	/* truncated: what is left is never shown as -100 % */
	return (int)stats_reduction(after, before);
}

static void print_text(const struct run *r, const struct cands *c, const char *file, uint64_t sb,
		       uint64_t sf, uint64_t ab, uint64_t af, bool wrote)
{
	size_t kept = 0;

	for (size_t k = 0; k < c->n; k++)
		kept += !c->v[k].rejected;
	if (!kept)
		printf("%s: nothing to add: every sent path that no instruction reads is needed to keep what the build reads\n",
		       file);
	else
		printf("%s: %zu rule%s %s (the build reads the same with %s)\n", file, kept,
		       kept == 1 ? "" : "s", wrote ? "written" : "to add",
		       r->nb == 2 ? "BuildKit and the classic builder"
				  : builder_label(r->builders[0]));
	if (r->base_override)
		printf("(compared with %s without the block an earlier --write added%s)\n", file,
		       wrote ? ", which this one replaced" : "; --write replaces it");
	if (kept)
		printf("%12s %9s  %s\n", "SAVES", "FILES", "RULE");
	for (size_t k = 0; k < c->n; k++) {
		char h[32];
		if (c->v[k].rejected)
			continue;
		printf("%12s %9llu  ", human_size(c->v[k].bytes, h, sizeof(h)),
		       (unsigned long long)c->v[k].files);
		text_fputq(stdout, c->v[k].rule, c->v[k].rule_len);
		putchar('\n');
	}
	for (size_t k = 0; k < c->n; k++)
		if (c->v[k].rejected && !c->v[k].idle) {
			fputs("left out: ", stdout);
			text_fputq(stdout, c->v[k].rule, c->v[k].rule_len);
			fputs(" (it changes what the build reads", stdout);
			if (c->v[k].why) {
				fputs(": ", stdout);
				text_fputq(stdout, c->v[k].why, strlen(c->v[k].why));
			}
			fputs(")\n", stdout);
		}
	fputs("sent ", stdout);
	print_size(stdout, sb);
	fputs(" -> ", stdout);
	print_size(stdout, ab);
	printf(", -%d %% (%llu -> %llu files; target -%d to -%d %%%s)\n", pct(sb, ab),
	       (unsigned long long)sf, (unsigned long long)af, TARGET_LOW, TARGET_HIGH,
	       pct(sb, ab) >= TARGET_LOW ? ": reached" : ": not reached");
}

static void print_json(const struct run *r, const struct cands *c, const char *file, uint64_t sb,
		       uint64_t sf, uint64_t ab, uint64_t af, bool wrote)
{
	printf("{\"version\":1,\"builders\":[");
	for (size_t k = 0; k < r->nb; k++)
		printf("%s\"%s\"", k ? "," : "", builder_name(r->builders[k]));
	fputs("],\"file\":", stdout);
	json_string(stdout, file, strlen(file));
	printf(",\"written\":%s,\"had_block\":%s,\"sent\":{\"bytes\":%llu,\"files\":%llu},"
	       "\"after\":{\"bytes\":%llu,\"files\":%llu},\"reduction\":%.1f,"
	       "\"target\":[%d,%d],\"walks\":%zu,\"rules\":[",
	       wrote ? "true" : "false", r->base_override ? "true" : "false",
	       (unsigned long long)sb, (unsigned long long)sf, (unsigned long long)ab,
	       (unsigned long long)af, stats_reduction(ab, sb), TARGET_LOW, TARGET_HIGH, r->walks);
	for (size_t k = 0, first = 1; k < c->n; k++) {
		if (c->v[k].rejected)
			continue;
		printf("%s\n{\"rule\":", first ? "" : ",");
		json_string(stdout, c->v[k].rule, c->v[k].rule_len);
		printf(",\"kind\":\"%s\",\"bytes\":%llu,\"files\":%llu}", kind_names[c->v[k].kind],
		       (unsigned long long)c->v[k].bytes, (unsigned long long)c->v[k].files);
		first = 0;
	}
	fputs("],\"left_out\":[", stdout);
	for (size_t k = 0, first = 1; k < c->n; k++) {
		if (!c->v[k].rejected || c->v[k].idle)
			continue;
		printf("%s", first ? "" : ",");
		json_string(stdout, c->v[k].rule, c->v[k].rule_len);
		first = 0;
	}
	fputs("]}\n", stdout);
}

/* ---- the run ---- */

/* The ignore file suggest reads and writes, as a path for open(2), and
 * its name in messages. */
static int ignore_target(const struct suggest_args *a, const struct view *v, char **path,
			 char **shown, char *err, size_t errsz)
{
	const char *src = v->ctx.ignore_source;

	if (src && v->ctx.ignore_outside) {
		snprintf(
			err, errsz,
			"the ignore file '%s' lies outside the context ('%s'): ctxpack does not write it",
			src, v->ctx.ignore_target ? v->ctx.ignore_target : "?");
		return -EPERM;
	}
	*shown = strdup(src ? src : ".dockerignore");
	if (!*shown)
		return -ENOMEM;
	/* ".dockerignore" lies in the context, "<Dockerfile>.dockerignore"
	 * beside the Dockerfile named as given (the context's without -f) */
	if (!src || !strcmp(src, ".dockerignore") || !a->dockerfile) {
		if (asprintf(path, "%s/%s", a->dir, src ? src : ".dockerignore") < 0)
			return -ENOMEM;
	} else if (!(*path = strdup(src))) {
		return -ENOMEM;
	}
	return 0;
}

static int read_file(const char *path, char **out, size_t *len, char *err, size_t errsz)
{
	size_t n = 0, alloc = 0;
	char *b = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	*out = NULL;
	*len = 0;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errsz, "cannot read '%s': not a regular file", path);
		return -EINVAL;
	}
	for (;;) {
		ssize_t r;
		if (GROW(b, alloc, n + 65536)) {
			free(b);
			close(fd);
			snprintf(err, errsz, "out of memory");
			return -ENOMEM;
		}
		r = read(fd, b + n, alloc - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			goto fail;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = b;
	*len = n;
	return 0;
fail:
	snprintf(err, errsz, "cannot read '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

static int write_file(const char *path, const char *text, size_t len)
{
	struct outfile o;
	FILE *f;

	if (outfile_open(&o, path))
		return -1;
	f = outfile_stream(&o);
	if (!f) {
		outfile_abort(&o);
		return -1;
	}
	fwrite(text, 1, len, f);
	return outfile_commit(&o);
}

static int fail(const char *msg)
{
	fprintf(stderr, "ctxpack: %s\n", msg);
	return 1;
}

static int suggest_run(const struct suggest_args *a)
{
	struct run r = {.a = a};
	struct cands c = {0};
	struct view fin = {0};
	char err[1200] = "", why[1200] = "", *path = NULL, *orig = NULL, *stripped = NULL,
	     *out = NULL;
	char *shown = NULL;
	size_t orig_len = 0, stripped_len = 0, out_len = 0;
	uint64_t sb, sf, ab, af;
	bool had_block = false, dffail;
	int rc, status = 1;

	if (a->both) {
		r.builders[0] = CTXPACK_BUILDER_BUILDKIT;
		r.builders[1] = CTXPACK_BUILDER_CLASSIC;
		r.nb = 2;
	} else {
		r.builders[0] = a->builder;
		r.nb = 1;
	}
	/* the ignore file as it is, to find it and its block */
	rc = view_open(&r.base[0], a, r.builders[0], NULL, 0, &dffail, err, sizeof(err));
	r.walks++;
	if (rc) {
		if (dffail && r.base[0].bv.errline > 0)
			snprintf(why, sizeof(why), "cannot suggest: %s:%d: %s", r.base[0].bv.dfname,
				 r.base[0].bv.errline, r.base[0].bv.reason);
		else
			snprintf(why, sizeof(why), "cannot suggest: %.1000s", err);
		status = fail(why);
		goto out;
	}
	if (ignore_target(a, &r.base[0], &path, &shown, err, sizeof(err))) {
		status = fail(path || shown || !err[0] ? "out of memory" : err);
		goto out;
	}
	if (r.nb == 2) {
		/* both builders must read the one file written */
		struct dockerctx d;
		bool same;
		if (dockerctx_open(&d, a->dir, a->dockerfile, CTXPACK_BUILDER_CLASSIC)) {
			snprintf(why, sizeof(why), "cannot suggest: %s", d.errmsg);
			dockerctx_close(&d);
			status = fail(why);
			goto out;
		}
		same = !strcmp(shown, d.ignore_source ? d.ignore_source : ".dockerignore");
		dockerctx_close(&d);
		if (!same) {
			snprintf(
				why, sizeof(why),
				"cannot suggest for both builders: BuildKit reads '%s', the classic builder '.dockerignore'; choose one with --builder",
				shown);
			status = fail(why);
			goto out;
		}
	}
	if (read_file(path, &orig, &orig_len, err, sizeof(err)) ||
	    strip_block(orig ? orig : "", orig_len, &stripped, &stripped_len, &had_block)) {
		status = fail(err[0] ? err : "out of memory");
		goto out;
	}
	r.text = stripped;
	r.text_len = stripped_len;
	r.base_override = had_block;
	if (had_block) {
		/* compare against the user's rules, without the old block */
		view_close(&r.base[0]);
		rc = view_open(&r.base[0], a, r.builders[0], r.text, r.text_len, &dffail, err,
			       sizeof(err));
		r.walks++;
		if (rc) {
			snprintf(why, sizeof(why), "cannot suggest: %.1000s", err);
			status = fail(why);
			goto out;
		}
	}
	if (r.nb == 2) {
		rc = view_open(&r.base[1], a, r.builders[1], had_block ? r.text : NULL, r.text_len,
			       &dffail, err, sizeof(err));
		r.walks++;
		if (rc) {
			if (dffail && r.base[1].bv.errline > 0)
				snprintf(why, sizeof(why), "cannot suggest: %s:%d: %s (%s)",
					 r.base[1].bv.dfname, r.base[1].bv.errline,
					 r.base[1].bv.reason, builder_label(r.builders[1]));
			else
				snprintf(why, sizeof(why), "cannot suggest: %.1000s (%s)", err,
					 builder_label(r.builders[1]));
			status = fail(why);
			goto out;
		}
	}
	sent_totals(&r.base[0], &sb, &sf);
	if (propose(&r.base[0], r.nb == 2 ? &r.base[1] : NULL, a->min_size, &c)) {
		status = fail("out of memory");
		goto out;
	}
	/* the whole set first; halves of a set that changes the reads */
	if (settle(&r, &c, 0, c.n, err, sizeof(err)) < 0) {
		status = fail(err);
		goto out;
	}
	/* and once more, keeping the final walk */
	rc = check(&r, &c, &fin, why, sizeof(why), err, sizeof(err));
	if (rc < 0) {
		status = fail(err);
		goto out;
	}
	if (rc == 0) {
		snprintf(err, sizeof(err), "the rules kept change what the build reads: %.1000s",
			 why);
		status = fail(err);
		goto out;
	}
	attribute(&r.base[0], &fin, &c);
	/* a rule that decides no file the others leave is left out, once the
	 * rest is checked without it */
	for (size_t k = 0, again = 0; k <= c.n; k++) {
		if (k < c.n && !c.v[k].rejected && !c.v[k].files) {
			c.v[k].rejected = c.v[k].idle = true;
			again = 1;
		} else if (k == c.n && again) {
			rc = check(&r, &c, &fin, why, sizeof(why), err, sizeof(err));
			if (rc < 0) {
				status = fail(err);
				goto out;
			}
			for (size_t j = 0; !rc && j < c.n; j++)
				if (c.v[j].idle)
					c.v[j].rejected = c.v[j].idle = false;
			if (!rc && check(&r, &c, &fin, why, sizeof(why), err, sizeof(err)) != 1) {
				status = fail(err[0] ? err : why);
				goto out;
			}
			attribute(&r.base[0], &fin, &c);
		}
	}
	sent_totals(&fin, &ab, &af);
	if (a->write) {
		size_t kept = 0;
		for (size_t k = 0; k < c.n; k++)
			kept += !c.v[k].rejected;
		if (with_block(r.text, r.text_len, &c, &out, &out_len)) {
			status = fail("out of memory");
			goto out;
		}
		if ((kept || had_block) &&
		    (orig_len != out_len || memcmp(orig ? orig : "", out, out_len))) {
			if (write_file(path, out, out_len))
				goto out;
			/* re-check from the disk: the file as written */
			for (size_t k = 0; k < r.nb; k++) {
				struct view v;
				rc = view_open(&v, a, r.builders[k], NULL, 0, NULL, err,
					       sizeof(err));
				r.walks++;
				if (!rc && !same_reads(&r.base[k], &v, why, sizeof(why))) {
					snprintf(err, sizeof(err), "%s: %.1000s",
						 builder_label(r.builders[k]), why);
					rc = -EAGAIN;
				}
				view_close(&v);
				if (rc) {
					/* put the file back as it was */
					write_file(path, orig ? orig : "", orig_len);
					snprintf(
						why, sizeof(why),
						"'%s' restored: the file written changes what the build reads: %.1000s",
						shown, err);
					status = fail(why);
					goto out;
				}
			}
		}
	}
	if (a->json)
		print_json(&r, &c, shown, sb, sf, ab, af, a->write);
	else
		print_text(&r, &c, shown, sb, sf, ab, af, a->write);
	status = 0;
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		status = 1;
	}
out:
	view_close(&fin);
	for (size_t k = 0; k < 2; k++)
		view_close(&r.base[k]);
	cands_free(&c);
	free(path);
	free(shown);
	free(orig);
	free(stripped);
	free(out);
	return status;
}

/* ---- the command ---- */

static int suggest_opt(int id, const char *arg, void *payload)
{
	struct suggest_args *a = payload;
	const struct common_dest to = {.builder = &a->builder,
				       .dockerfile = &a->dockerfile,
				       .target = &a->target,
				       .build_args = &a->build_args,
				       .nbuild_args = &a->nbuild_args,
				       .abuild_args = &a->abuild_args};
	int rc;

	if (id == OPT_BUILDER)
		a->both = false; /* only the builder named */
	rc = common_opt(id, arg, &to);
	if (rc <= 0)
		return rc;
	switch (id) {
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_WRITE:
		a->write = true;
		break;
	case OPT_MIN_SIZE:
		if (parse_size(arg, &a->min_size)) {
			usage_error(
				NULL,
				"invalid argument '%s' for --min-size: expected bytes, optionally with K, M, G (1024s) or KB, MB, GB (1000s)",
				arg);
			return -1;
		}
		break;
	}
	return 0;
}

static const struct opt suggest_opts[] = {
	FILE_OPT,
	BUILDER_OPT(
		"check only this builder, buildkit or classic (default: both must read the same)"),
	TARGET_OPT(TARGET_HELP),
	BUILD_ARG_OPT(BUILD_ARG_HELP),
	{"min-size", OPT_MIN_SIZE, OPT_ARG_REQUIRED, "BYTES",
	 "suggest no rule that saves less (default 0; a single file's rule: 1M at least; K/M/G: 1024s, KB/MB/GB: 1000s)",
	 NULL, 0},
	{"write", OPT_WRITE, OPT_ARG_NONE, NULL,
	 "append the rules to the ignore file as one marked block (replacing the block an earlier --write added), then re-check",
	 NULL, 0},
	{"json", OPT_JSON, OPT_ARG_NONE, NULL, "one JSON document", NULL, 0},
	{NULL, 0, 0, NULL, NULL, NULL, 0},
};

static const char suggest_details[] =
	"Rules are proposed simplest first: a directory name that is unread wherever it\n"
	"appears ('**/node_modules'), an unread directory ('docs'), an extension no read\n"
	"file has ('**/*.log'), a large unread file.  Each is kept only when the context,\n"
	"walked again with the ignore file as it would be written, makes the build read\n"
	"exactly the same entries (for both builders unless --builder is given) and\n"
	"treats the Dockerfile and the ignore file alike.  The rules are compared against\n"
	"the ignore file without the block an earlier --write added: the output is the\n"
	"block --write writes.  SAVES and FILES are the sent file bytes and files the\n"
	"rule removes (the first builder's walk decides which rule removed what).\n"
	"\n"
	"The block starts with the line\n"
	"  " BLOCK_BEGIN "\n"
	"and ends with '" BLOCK_END "'; the rest of the file is kept as it is.  After\n"
	"writing, the context is walked again from the disk; should the build read\n"
	"anything differently, the file is put back and the command fails.\n"
	"\n"
	"A Dockerfile that cannot be read, that the builder refuses, or that holds a\n"
	"source ctxpack cannot resolve exactly is refused: nothing is suggested.  With\n"
	"both builders, BuildKit and the classic builder must read the same ignore file\n"
	"(not a <Dockerfile>.dockerignore).\n"
	"\n"
	"JSON: {\"version\":1, \"builders\", \"file\", \"written\", \"had_block\",\n"
	"\"sent\":{\"bytes\", "
	"\"files\"}, \"after\":{\"bytes\", \"files\"}, \"reduction\" (per cent), \"target\":[50,70],\n"
	"\"walks\", \"rules\":[{\"rule\", \"kind\" (name|dir|ext|file), \"bytes\", \"files\"}],\n"
	"\"left_out\":[rule...]}.\n"
	"\n"
	"Exit status: 0 success (also with nothing to suggest); 1 the context or the\n"
	"Dockerfile cannot be read or resolved exactly, or the file cannot be written;\n"
	"2 usage error.\n";

static int cmd_suggest(const struct command *cmd, int argc, char **argv)
{
	struct suggest_args a = {.dir = ".", .both = true, .builder = CTXPACK_BUILDER_BUILDKIT};
	int first, rc;

	first = opts_parse(cmd, argc, argv, suggest_opt, &a);
	if (context_arg(cmd, argc, argv, first, &a.dir)) {
		free(a.build_args);
		return first == -2 ? 0 : 2;
	}
	rc = suggest_run(&a);
	free(a.build_args);
	return rc;
}

const struct command suggest_command = {
	"suggest",
	"Suggest .dockerignore rules that leave out what no build instruction reads\n"
	"(checked: the build reads the same), and write them with --write.",
	"[DIR] [-f DOCKERFILE] [--builder=buildkit|classic] [--target STAGE] [--build-arg NAME[=VALUE]]... [--min-size BYTES] [--write] [--json]",
	suggest_details,
	suggest_opts,
	cmd_suggest,
	OPT_PATH_DIR, /* operands */
};
