/* html_report.c: `ctxpack stats --html`, one self-contained HTML page.
 *
 * The page carries two JSON documents in <script type="application/json">
 * elements and renders everything from them in the browser: the stats
 * document exactly as `ctxpack stats --json` prints it, and a compact tree
 * of the context aggregated here from the walk.  The tree is bounded
 * whatever the size of the context: directories and files are taken
 * largest first (a parent is never smaller than its child, so what is taken
 * is always a whole tree from the root) until TREE_MAX_NODES boxes or
 * TREE_MAX_BYTES of data; at most TREE_TOP_FILES files per directory; what
 * is left of each directory becomes one "(N smaller files)" box.  The
 * script (html_report.js, embedded at build time as html_report_js.h) lays
 * out the visible level only, on a <canvas>.
 *
 * Nothing in the page is fetched: no URL is written, and a
 * Content-Security-Policy of default-src 'none' makes the browser refuse
 * any fetch the data could smuggle in.  Names may hold any byte: strings
 * are written as JSON with '<', '>', '&', U+2028 and U+2029 escaped, and
 * bytes that are not UTF-8 as lone surrogates \udc80-\udcff (as `ls
 * --json` does); the script shows those as \xNN and only ever sets
 * textContent. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_report.h"
#include "html_report_js.h"
#include "rules.h"
#include "stats.h"
#include "utf8.h"

#define TREE_MAX_NODES 60000
#define TREE_MAX_BYTES (4u << 20)
#define TREE_TOP_FILES 100
#define NONE UINT32_MAX

enum node_kind { K_ROOT, K_DIR, K_PRUNED, K_FILE };

struct node {
	const char *name;
	size_t name_len;
	uint32_t parent, first_child, last_child, next;
	uint32_t depth;
	uint32_t out_id;
	uint64_t sent, excl;  /* bytes at or below */
	uint64_t used;	      /* of sent, the bytes the build reads */
	uint64_t files;       /* regular files at or below */
	uint64_t pruned_dirs; /* K_PRUNED: directories below it */
	long rule;
	uint8_t kind;
	bool eligible, shown;
};

struct tree {
	struct node *v;
	size_t n;
	uint32_t *hash; /* directory nodes by path, open addressing */
	size_t hmask;
};

static uint64_t path_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* The directories' full paths: entries' paths, kept alongside. */
struct dirkey {
	const char *path;
	size_t len;
};

static uint32_t *hash_slot(struct tree *t, const struct dirkey *keys, const char *path, size_t len)
{
	size_t i = path_hash(path, len) & t->hmask;

	for (;; i = (i + 1) & t->hmask) {
		uint32_t k = t->hash[i];
		if (k == NONE || (keys[k].len == len && !memcmp(keys[k].path, path, len)))
			return &t->hash[i];
	}
}

static void link_child(struct tree *t, uint32_t parent, uint32_t child)
{
	struct node *p = &t->v[parent];

	t->v[child].parent = parent;
	if (p->last_child == NONE)
		p->first_child = child;
	else
		t->v[p->last_child].next = child;
	p->last_child = child;
}

static uint32_t new_node(struct tree *t, const struct walk_entry *e, uint8_t kind, bool read)
{
	struct node *nd = &t->v[t->n];
	const char *slash = memrchr(e->path, '/', e->len);
	uint32_t depth = 1;

	for (size_t i = 0; i < e->len; i++)
		depth += e->path[i] == '/';
	memset(nd, 0, sizeof(*nd));
	nd->name = slash ? slash + 1 : e->path;
	nd->name_len = slash ? e->len - (size_t)(slash + 1 - e->path) : e->len;
	nd->parent = nd->first_child = nd->last_child = nd->next = NONE;
	nd->depth = depth;
	nd->rule = e->forced ? -1 : e->rule;
	nd->kind = kind;
	if (kind == K_FILE) {
		nd->files = 1;
		if (e->sent) {
			nd->sent = e->size;
			nd->used = read ? e->size : 0;
		} else
			nd->excl = e->size;
	}
	return (uint32_t)t->n++;
}

static const struct node *sort_nodes;

static int by_size(const void *a, const void *b)
{
	const struct node *x = &sort_nodes[*(const uint32_t *)a], *y = &sort_nodes[*(const uint32_t *)b];
	uint64_t sx = x->sent + x->excl, sy = y->sent + y->excl;

	if (sx != sy)
		return sx > sy ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* The length of s as put_string writes it, quotes included. */
static size_t string_cost(const char *s, size_t len)
{
	size_t n = 2;

	for (size_t i = 0; i < len;) {
		uint32_t r;
		size_t w = utf8_decode((const unsigned char *)s + i, len - i, &r);
		n += (r == UTF8_RUNE_ERROR && w == 1) || r < 0x20 || r == '<' || r == '>' || r == '&' ||
			     r == 0x7f || r == 0x2028 || r == 0x2029 ? 6 : r == '"' || r == '\\' ? 2 : w;
		i += w;
	}
	return n;
}

/* A JSON string safe inside <script>: see the top of the file. */
static void put_string(FILE *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	fputc('"', out);
	for (size_t i = 0; i < len;) {
		uint32_t r;
		size_t w = utf8_decode(u + i, len - i, &r);
		if (r == UTF8_RUNE_ERROR && w == 1)
			fprintf(out, "\\udc%02x", u[i]);
		else if (r == '"' || r == '\\')
			fprintf(out, "\\%c", (int)r);
		else if (r < 0x20 || r == 0x7f || r == '<' || r == '>' || r == '&' || r == 0x2028 ||
			 r == 0x2029)
			fprintf(out, "\\u%04x", (unsigned)r);
		else
			fwrite(u + i, 1, w, out);
		i += w;
	}
	fputc('"', out);
}

/* The stats document, verbatim but for what could end the <script> element
 * ('<' only occurs inside JSON strings, where \u003c means the same) and
 * bytes a JSON parser or the HTML decoder would read differently. */
static void put_stats(FILE *out, const char *json)
{
	const unsigned char *u = (const unsigned char *)json;
	size_t len = strlen(json);

	for (size_t i = 0; i < len;) {
		uint32_t r;
		size_t w = utf8_decode(u + i, len - i, &r);
		if (r == UTF8_RUNE_ERROR && w == 1)
			fputs("\\ufffd", out);
		else if (r == '<' || r == 0x2028 || r == 0x2029)
			fprintf(out, "\\u%04x", (unsigned)r);
		else
			fwrite(u + i, 1, w, out);
		i += w;
	}
}

static int build_tree(struct tree *t, struct dirkey **keysp, const struct walk_result *res,
		      const uint8_t *used)
{
	struct dirkey *keys;
	size_t ndirs = 0, cap = 16;

	for (size_t i = 0; i < res->n; i++)
		ndirs += res->v[i]->type == WT_DIR;
	while (cap < 2 * (ndirs + 1))
		cap <<= 1;
	if (res->n >= NONE - 2)
		return -EOVERFLOW;
	t->v = malloc((res->n + 1) * sizeof(*t->v));
	t->hash = malloc(cap * sizeof(*t->hash));
	keys = *keysp = malloc((res->n + 1) * sizeof(*keys));
	if (!t->v || !t->hash || !keys)
		return -ENOMEM;
	memset(t->hash, 0xff, cap * sizeof(*t->hash));
	t->hmask = cap - 1;

	/* The root, then every directory (so that a parent is found whatever
	 * the order), then the files. */
	memset(&t->v[0], 0, sizeof(t->v[0]));
	t->v[0].parent = t->v[0].first_child = t->v[0].last_child = t->v[0].next = NONE;
	t->v[0].rule = -1;
	t->v[0].kind = K_ROOT;
	t->v[0].name = "";
	keys[0].path = "";
	keys[0].len = 0;
	*hash_slot(t, keys, "", 0) = 0;
	t->n = 1;
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		uint32_t *slot;
		if (e->type != WT_DIR)
			continue;
		slot = hash_slot(t, keys, e->path, e->len);
		if (*slot != NONE)
			continue;
		keys[t->n].path = e->path;
		keys[t->n].len = e->len;
		*slot = new_node(t, e, K_DIR, false);
	}
	for (size_t i = 0, d = 1; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		const char *slash;
		uint32_t id, parent;
		if (e->type == WT_DIR) {
			id = *hash_slot(t, keys, e->path, e->len);
			if (id != d)
				continue; /* a duplicate */
			d++;
		} else if (e->type == WT_FILE) {
			id = new_node(t, e, K_FILE, used && used[i]);
		} else {
			continue; /* no bytes in the treemap */
		}
		slash = memrchr(e->path, '/', e->len);
		parent = slash ? *hash_slot(t, keys, e->path, (size_t)(slash - e->path)) : 0;
		link_child(t, parent == NONE ? 0 : parent, id);
	}
	for (size_t k = 0; k < res->npruned; k++) {
		const struct walk_pruned *p = &res->pruned[k];
		uint32_t id = *hash_slot(t, keys, p->e->path, p->e->len);
		if (id == NONE || !id)
			continue;
		t->v[id].kind = K_PRUNED;
		t->v[id].excl += p->bytes;
		t->v[id].files += p->files;
		t->v[id].pruned_dirs = p->dirs;
	}
	return 0;
}

/* Pre-order of the whole tree into order[] (t->n entries); stack is scratch. */
static void preorder(const struct tree *t, uint32_t *order, uint32_t *stack)
{
	size_t sp = 0, n = 0;

	stack[sp++] = 0;
	while (sp) {
		uint32_t id = stack[--sp];
		order[n++] = id;
		for (uint32_t c = t->v[id].first_child; c != NONE; c = t->v[c].next)
			stack[sp++] = c;
	}
}

static int grow_u32(uint32_t **v, size_t *alloc, size_t n)
{
	size_t a = *alloc ? *alloc : 64;
	uint32_t *p;

	if (n <= *alloc)
		return 0;
	while (a < n)
		a *= 2;
	p = realloc(*v, a * sizeof(**v));
	if (!p)
		return -1;
	*v = p;
	*alloc = a;
	return 0;
}

/* Sums sizes upwards, marks the files each directory may show, and picks
 * the shown nodes, largest first, within the bounds. */
static int choose(struct tree *t, const uint32_t *order)
{
	uint32_t *cand, *files = NULL;
	size_t ncand = 0, nodes = 1, bytes = 0, falloc = 0;

	for (size_t i = t->n; i-- > 1;) {
		struct node *nd = &t->v[order[i]], *p = &t->v[nd->parent];
		p->sent += nd->sent;
		p->excl += nd->excl;
		p->used += nd->used;
		p->files += nd->files;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct node *d = &t->v[i];
		size_t nf = 0;
		if (d->kind == K_FILE)
			continue;
		for (uint32_t c = d->first_child; c != NONE; c = t->v[c].next) {
			if (t->v[c].kind != K_FILE) {
				t->v[c].eligible = true;
				continue;
			}
			if (grow_u32(&files, &falloc, nf + 1)) {
				free(files);
				return -ENOMEM;
			}
			files[nf++] = c;
		}
		sort_nodes = t->v;
		if (nf > TREE_TOP_FILES)
			qsort(files, nf, sizeof(*files), by_size);
		for (size_t k = 0; k < nf && k < TREE_TOP_FILES; k++)
			t->v[files[k]].eligible = true;
	}
	free(files);

	cand = malloc(t->n * sizeof(*cand));
	if (!cand)
		return -ENOMEM;
	for (uint32_t i = 1; i < t->n; i++)
		if (t->v[i].eligible && t->v[i].sent + t->v[i].excl > 0)
			cand[ncand++] = i;
	sort_nodes = t->v;
	qsort(cand, ncand, sizeof(*cand), by_size);
	t->v[0].shown = true;
	for (size_t k = 0; k < ncand && nodes < TREE_MAX_NODES; k++) {
		struct node *nd = &t->v[cand[k]];
		/* a directory may add its "(N smaller files)" box as well */
		size_t cost = (string_cost(nd->name, nd->name_len) + 64) * (nd->kind == K_FILE ? 1 : 2);
		if (bytes + cost > TREE_MAX_BYTES)
			break;
		nd->shown = true;
		bytes += cost;
		nodes += nd->kind == K_FILE ? 1 : 2;
	}
	free(cand);
	return 0;
}

/* Bytes by extension, sent and excluded: the stats document counts sent
 * files only, the page shows both shares.  What is below a directory the
 * walk never entered has no names: counted apart ("unentered"). */
#define EXT_TOP 15 /* rows: the most sent bytes, and the most excluded */

struct ext_row {
	char ext[sizeof(((struct stats_ext *)0)->ext)];
	uint64_t sf, sb, xf, xb;
	bool used, keep;
};

struct ext_count {
	struct ext_row *v;
	size_t cap, n;
	uint64_t pf, pb;
};

static size_t ext_home(const struct ext_count *t, const char *ext)
{
	size_t i = path_hash(ext, strlen(ext)) & (t->cap - 1);

	while (t->v[i].used && strcmp(t->v[i].ext, ext))
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int ext_count(struct ext_count *t, const struct walk_result *res)
{
	for (size_t k = 0; k < res->n; k++) {
		const struct walk_entry *e = res->v[k];
		char ext[sizeof(t->v->ext)];
		struct ext_row *r;
		if (e->type != WT_FILE)
			continue;
		if ((t->n + 1) * 2 > t->cap) {
			struct ext_count nt = { calloc(t->cap ? t->cap * 2 : 64, sizeof(*t->v)),
						t->cap ? t->cap * 2 : 64, t->n, 0, 0 };
			if (!nt.v)
				return -ENOMEM;
			for (size_t i = 0; i < t->cap; i++)
				if (t->v[i].used)
					nt.v[ext_home(&nt, t->v[i].ext)] = t->v[i];
			free(t->v);
			t->v = nt.v;
			t->cap = nt.cap;
		}
		stats_extension(e, ext, sizeof(ext));
		r = &t->v[ext_home(t, ext)];
		if (!r->used) {
			memcpy(r->ext, ext, sizeof(ext));
			r->used = true;
			t->n++;
		}
		if (e->sent) {
			r->sf++;
			r->sb += e->size;
		} else {
			r->xf++;
			r->xb += e->size;
		}
	}
	for (size_t k = 0; k < res->npruned; k++) {
		t->pf += res->pruned[k].files;
		t->pb += res->pruned[k].bytes;
	}
	return 0;
}

static int by_sent(const void *a, const void *b)
{
	const struct ext_row *x = a, *y = b;

	if (x->sb != y->sb)
		return x->sb < y->sb ? 1 : -1;
	if (x->xb != y->xb)
		return x->xb < y->xb ? 1 : -1;
	return strcmp(x->ext, y->ext);
}

static int by_excluded(const void *a, const void *b)
{
	const struct ext_row *x = a, *y = b;

	if (x->xb != y->xb)
		return x->xb < y->xb ? 1 : -1;
	return by_sent(a, b);
}

/* "ext":{"rows":[[ext,sent files,sent bytes,excluded files,excluded
 * bytes],...],"other":[extensions,sf,sb,xf,xb],"unentered":[files,bytes]} */
static void put_ext(FILE *out, struct ext_count *t)
{
	size_t n = 0, first = 1;
	uint64_t o[5] = { 0 };

	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].used)
			t->v[n++] = t->v[i];
	qsort(t->v, n, sizeof(*t->v), by_excluded);
	for (size_t i = 0; i < n && i < EXT_TOP; i++)
		t->v[i].keep = t->v[i].xb > 0;
	qsort(t->v, n, sizeof(*t->v), by_sent);
	for (size_t i = 0; i < n && i < EXT_TOP; i++)
		t->v[i].keep = t->v[i].keep || t->v[i].sb > 0;
	fputs(",\n\"ext\":{\"rows\":[", out);
	for (size_t i = 0; i < n; i++) {
		const struct ext_row *r = &t->v[i];
		if (!r->keep) {
			o[0]++;
			o[1] += r->sf;
			o[2] += r->sb;
			o[3] += r->xf;
			o[4] += r->xb;
			continue;
		}
		fputs(first ? "[" : ",[", out);
		first = 0;
		put_string(out, r->ext, strlen(r->ext));
		fprintf(out, ",%llu,%llu,%llu,%llu]", (unsigned long long)r->sf,
			(unsigned long long)r->sb, (unsigned long long)r->xf, (unsigned long long)r->xb);
	}
	fprintf(out, "],\"other\":[%llu,%llu,%llu,%llu,%llu],\"unentered\":[%llu,%llu]}",
		(unsigned long long)o[0], (unsigned long long)o[1], (unsigned long long)o[2],
		(unsigned long long)o[3], (unsigned long long)o[4], (unsigned long long)t->pf,
		(unsigned long long)t->pb);
}

static void put_node(FILE *out, long parent_out, char kind, const char *name, size_t name_len,
		     uint64_t sent, uint64_t excl, long rule, uint64_t files, uint64_t extra,
		     uint64_t used)
{
	fprintf(out, "[%ld,\"%c\",", parent_out, kind);
	put_string(out, name, name_len);
	fprintf(out, ",%llu,%llu,%ld,%llu,%llu,%llu]", (unsigned long long)sent,
		(unsigned long long)excl, rule, (unsigned long long)files, (unsigned long long)extra,
		(unsigned long long)used);
}

/* {"v":1,"used":known,"rules":[[source,line,pattern],...],"nodes":[[parent,
 * kind,name,sent,excluded,rule,files,extra,used],...]}: nodes in pre-order,
 * parent as an index into nodes (-1 for the root); kind d directory, p
 * excluded directory not entered (extra: directories below it), f file, r
 * the rest of the parent: its files not shown (files counts them); used:
 * of the sent bytes, those the build reads (0 when "used" is false: the
 * Dockerfile could not be read). */
static void put_tree(FILE *out, struct tree *t, const uint32_t *order, const ctxpack_rules *rules,
		     bool used, struct ext_count *ext)
{
	size_t nrules = rules ? ctxpack_rules_count(rules) : 0;
	uint32_t next_id = 0;

	fprintf(out, "{\"v\":1,\"used\":%s,\"rules\":[", used ? "true" : "false");
	for (size_t i = 0; i < nrules; i++) {
		struct ctxpack_rule_info ri;
		const char *text;
		size_t len;
		char q[32];
		if (ctxpack_rules_get(rules, i, &ri)) {
			fputs(i ? ",null" : "null", out);
			continue;
		}
		/* "<line N>" for a rule of an ignore file outside the context */
		rules_shown(rules, i, q, sizeof(q), &text, &len);
		fputs(i ? ",\n[" : "\n[", out);
		put_string(out, ri.source ? ri.source : "", ri.source ? strlen(ri.source) : 0);
		fprintf(out, ",%d,", ri.line);
		put_string(out, text, len);
		fputc(']', out);
	}
	fputs("],\"nodes\":[", out);
	for (size_t i = 0; i < t->n; i++) {
		struct node *nd = &t->v[order[i]];
		uint64_t rs, rx, rf, ru;
		static const char kinds[] = { 'd', 'd', 'p', 'f' };
		if (!nd->shown)
			continue;
		nd->out_id = next_id++;
		fputs(nd->out_id ? ",\n" : "\n", out);
		put_node(out, nd->kind == K_ROOT ? -1 : (long)t->v[nd->parent].out_id, kinds[nd->kind],
			 nd->name, nd->name_len, nd->sent, nd->excl, nd->rule, nd->files, nd->pruned_dirs,
			 nd->used);
		if (nd->kind == K_FILE)
			continue;
		rs = nd->sent;
		rx = nd->excl;
		rf = nd->files;
		ru = nd->used;
		for (uint32_t c = nd->first_child; c != NONE; c = t->v[c].next) {
			if (!t->v[c].shown)
				continue;
			rs -= t->v[c].sent;
			rx -= t->v[c].excl;
			rf -= t->v[c].files;
			ru -= t->v[c].used;
		}
		if (nd->kind == K_PRUNED && nd->first_child == NONE)
			continue; /* the box is the directory itself */
		if (rs + rx == 0 && rf == 0)
			continue;
		fputs(",\n", out);
		put_node(out, nd->out_id, 'r', "", 0, rs, rx, -1, rf, 0, ru);
		next_id++;
	}
	fputs("\n]", out);
	put_ext(out, ext);
	fputs("}", out);
}

static const char page_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>ctxpack stats</title>\n<style>\n"
	"body{font:14px/1.4 system-ui,sans-serif;margin:0 24px 40px;color:#222;background:#fafafa}\n"
	"h1{font-size:20px;margin:16px 0 4px;word-break:break-all}h2{font-size:16px;margin:24px 0 8px}\n"
	"#meta{color:#555;margin:0 0 12px}\n"
	"#totals{display:flex;gap:12px;flex-wrap:wrap}\n"
	".card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:170px}\n"
	".card .label{color:#666;font-size:12px;text-transform:uppercase}\n"
	".card .value{font-size:20px;font-weight:600}.card .sub{color:#666;font-size:12px}\n"
	"#controls{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:0 0 6px}\n"
	"#breadcrumb a{color:#1a5fb4;cursor:pointer;text-decoration:underline}\n"
	"#breadcrumb{word-break:break-all}\n"
	".legend .item{white-space:nowrap;margin-right:10px;font-family:ui-monospace,monospace;font-size:12px}\n"
	".legend .sw{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 0;"
	"border:1px solid rgba(0,0,0,.25)}\n"
	"#legend{display:flex;flex-wrap:wrap;gap:2px 0}\n"
	"#treemap{position:relative;height:480px;background:#fff;border:1px solid #ccc}\n"
	"#treemap canvas{display:block;width:100%;height:100%}\n"
	"#tooltip{position:fixed;left:0;top:0;pointer-events:none;background:rgba(20,20,20,.92);color:#fff;"
	"padding:6px 8px;border-radius:4px;font-size:12px;box-sizing:border-box;"
	"max-width:min(420px,calc(100vw - 16px));max-height:calc(100vh - 16px);overflow:hidden;"
	"word-break:normal;overflow-wrap:anywhere;z-index:2}\n"
	"#tooltip div:first-child{font-family:ui-monospace,monospace}\n"
	"#tooltip .part{display:inline-block;max-width:100%;white-space:pre-wrap}\n"
	"table{border-collapse:collapse;background:#fff;font-size:13px}\n"
	"th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}\n"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.path{word-break:break-all;font-family:ui-monospace,monospace}\n"
	"th button.sort{all:unset;cursor:pointer;font-weight:600}\n"
	"th button.sort:focus-visible{outline:2px solid #1a5fb4;outline-offset:2px}\n"
	"th[aria-sort=ascending] button.sort::after{content:\" \\25B2\"}\n"
	"th[aria-sort=descending] button.sort::after{content:\" \\25BC\"}\n"
	"#find{margin:16px 0 0}#search{width:22em;font:inherit;padding:2px 6px}\n"
	"tr.dead td{color:#999}tr.fail td{background:#fde8e8}tr.hl td{background:#fff6c8}\n"
	".empty{color:#777;font-style:italic}\n"
	"</style>\n</head>\n<body>\n"
	"<header><h1>Build context <span id=\"context\"></span></h1><p id=\"meta\"></p></header>\n"
	"<noscript><p>This report draws its tables and treemap with JavaScript.</p></noscript>\n"
	"<section id=\"totals\">\n"
	"<div class=\"card\"><div class=\"label\">Scanned</div><div class=\"value\" id=\"total-scanned\"></div>"
	"<div class=\"sub\" id=\"total-scanned-sub\"></div></div>\n"
	"<div class=\"card\"><div class=\"label\">Sent</div><div class=\"value\" id=\"total-sent\"></div>"
	"<div class=\"sub\" id=\"total-sent-sub\"></div></div>\n"
	"<div class=\"card\"><div class=\"label\">Excluded</div><div class=\"value\" id=\"total-excluded\"></div>"
	"<div class=\"sub\" id=\"total-excluded-sub\"></div></div>\n"
	"<div class=\"card\"><div class=\"label\">Reduction</div><div class=\"value\" id=\"reduction\"></div>"
	"<div class=\"sub\" id=\"reduction-sub\"></div></div>\n"
	"<div class=\"card\"><div class=\"label\">Read by the build</div><div class=\"value\" "
	"id=\"total-used\"></div><div class=\"sub\" id=\"total-used-sub\"></div></div>\n"
	"<div class=\"card\"><div class=\"label\">Sent, read by nothing</div><div class=\"value\" "
	"id=\"total-unused\"></div><div class=\"sub\" id=\"total-unused-sub\"></div></div>\n"
	"</section>\n"
	"<section id=\"find\"><label>Find paths <input id=\"search\" type=\"search\" "
	"placeholder=\"part of a path\" autocomplete=\"off\" spellcheck=\"false\"></label> "
	"<span class=\"sub\">highlights the boxes and keeps the table rows whose path holds it "
	"(any case)</span></section>\n"
	"<section><h2>Treemap</h2>\n<div id=\"controls\">"
	"<button id=\"zoom-out\" type=\"button\">&#8593; Up</button>"
	"<nav id=\"breadcrumb\" aria-label=\"path\"></nav>"
	"<label>Area <select id=\"view\"><option value=\"sent\">bytes sent</option>"
	"<option value=\"scanned\">bytes scanned</option></select></label>"
	"<label>Colour by <select id=\"colour-mode\"><option value=\"sent\">sent / excluded</option>"
	"<option value=\"rule\">deciding rule</option>"
	"<option value=\"used\">used / unused / excluded</option></select></label>"
	"<span class=\"legend\" id=\"legend\"></span></div>\n"
	"<div id=\"treemap\"><canvas></canvas><div id=\"tooltip\" hidden></div></div>\n"
	"<p id=\"treemap-note\" class=\"sub\"></p></section>\n"
	"<section><h2>Rules</h2><div id=\"rules\"></div></section>\n"
	"<section><h2>Largest files</h2><div id=\"largest-files\"></div></section>\n"
	"<section><h2>Largest directories</h2><div id=\"largest-dirs\"></div></section>\n"
	"<section><h2>Bytes by extension</h2><div id=\"extensions\"></div></section>\n"
	"<section><h2>Suspicious directories</h2><div id=\"suspicious\"></div></section>\n"
	"<section><h2>Budgets</h2><div id=\"budgets\"></div></section>\n";

int html_report_write(FILE *out, const char *stats_json, const struct walk_result *res,
		      const ctxpack_rules *rules, const uint8_t *used, char *err, size_t errsz)
{
	static const struct walk_result empty;
	struct tree t = { 0 };
	struct ext_count ext = { 0 };
	struct dirkey *keys = NULL;
	uint32_t *order = NULL, *stack = NULL;
	int rc;

	if (!stats_json) {
		snprintf(err, errsz, "no stats document for the HTML report");
		return -EINVAL;
	}
	if (!res)
		used = NULL;
	rc = build_tree(&t, &keys, res ? res : &empty, used);
	if (rc)
		goto out;
	order = malloc(t.n * sizeof(*order));
	stack = malloc(t.n * sizeof(*stack));
	rc = -ENOMEM;
	if (!order || !stack)
		goto out;
	preorder(&t, order, stack);
	rc = choose(&t, order);
	if (!rc)
		rc = ext_count(&ext, res ? res : &empty);
	if (rc)
		goto out;

	fputs(page_head, out);
	fputs("<script type=\"application/json\" id=\"ctxpack-stats\">", out);
	put_stats(out, stats_json);
	fputs("</script>\n<script type=\"application/json\" id=\"ctxpack-tree\">", out);
	put_tree(out, &t, order, rules, used != NULL, &ext);
	fputs("</script>\n<script>\n", out);
	fwrite(html_report_js, 1, sizeof(html_report_js) - 1, out);
	fputs("</script>\n</body>\n</html>\n", out);
	rc = 0;
	errno = 0;
	if (fflush(out) || ferror(out)) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errsz, "cannot write the HTML report: %s", strerror(-rc));
	}
out:
	if (rc == -ENOMEM)
		snprintf(err, errsz, "cannot build the HTML report: %s", strerror(ENOMEM));
	else if (rc == -EOVERFLOW)
		snprintf(err, errsz, "cannot build the HTML report: too many entries");
	free(order);
	free(stack);
	free(keys);
	free(t.v);
	free(t.hash);
	free(ext.v);
	return rc;
}
