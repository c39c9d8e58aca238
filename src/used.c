/* used.c: what a build reads from its context (see used.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beneath.h"
#include "dockerfile.h"
#include "internal.h"
#include "pattern.h"
#include "used.h"
#include "walk.h"

/* How many symlinks a path may pass (Go's filepath.EvalSymlinks' 255). */
#define USED_MAX_LINKS 255

/* The index of path in u->sorted, or of where it would go (*found false). */
static size_t find(const struct used *u, const char *path, size_t len, bool *found)
{
	return walk_find(u->res, path, len, found);
}

/* Does the builder's COPY see e?  BuildKit sends an excluded Dockerfile
 * apart from the context (walk_entry.forced): COPY does not see it. */
bool used_classic_removed(const ctxpack_rules *rules, const struct walk_entry *e)
{
	struct ctxpack_rule_info ri;

	return e->rule >= 0 && rules && !ctxpack_rules_get(rules, (size_t)e->rule, &ri) &&
	       ri.line == 0;
}

static bool visible(const struct used *u, const struct walk_entry *e, enum ctxpack_builder b)
{
	if (!e->sent || (b == CTXPACK_BUILDER_BUILDKIT && e->forced))
		return false;
	/* The classic daemon removes the Dockerfile and .dockerignore from
	 * the context when its rules exclude them. */
	return !(b == CTXPACK_BUILDER_CLASSIC && used_classic_removed(u->rules, e));
}

/* Is sorted[i] in the context the builder unpacks?  Visible, or an
 * excluded directory with a visible path below it: BuildKit sends it as
 * their parent, and the classic daemon creates it when it unpacks them. */
static bool present(const struct used *u, size_t i, enum ctxpack_builder b)
{
	const struct walk_entry *d = u->sorted[i];

	if (visible(u, d, b))
		return true;
	if (d->type != WT_DIR)
		return false;
	for (size_t j = i + 1; j < u->nsorted; j++) {
		const struct walk_entry *e = u->sorted[j];
		if (e->len <= d->len || memcmp(e->path, d->path, d->len) || e->path[d->len] != '/')
			break;
		if (visible(u, e, b))
			return true;
	}
	return false;
}

/* fsutil copy's containsWildcards (and the classic builder's): an
 * unescaped '*', '?' or '['. */
static bool contains_wildcards(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return true;
	}
	return false;
}

/* filepath.matchChunk's class syntax for every '[': ranges lo or lo-hi,
 * neither '-' nor ']' (getEsc), at least one, closed by ']', no '/'
 * inside: then filepath.Match cannot fail on any name (escapes are
 * refused before this is asked). */
static bool class_syntax_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t j, nrange = 0;

		if (s[i] != '[')
			continue;
		j = i + 1;
		if (j < n && s[j] == '^')
			j++;
		for (;;) {
			if (j < n && s[j] == ']' && nrange > 0)
				break;
			if (j >= n || s[j] == '-' || s[j] == ']' || s[j] == '/')
				return false;
			j++;
			if (j < n && s[j] == '-') {
				j++;
				if (j >= n || s[j] == '-' || s[j] == ']' || s[j] == '/')
					return false;
				j++;
			}
			nrange++;
		}
		i = j;
	}
	return true;
}

static size_t components(const char *s, size_t n)
{
	size_t k = n ? 1 : 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == '/';
	return k;
}

/* path.Clean("/" + p) without its leading '/': into a malloc'd *out. */
static long clean_below_root(const char *p, size_t n, char **out)
{
	char *in = malloc(n + 2), *c = malloc(n + 4);
	size_t len;

	if (!in || !c) {
		free(in);
		free(c);
		return -ENOMEM;
	}
	in[0] = '/';
	memcpy(in + 1, p, n);
	len = go_clean(in, n + 1, c);
	free(in);
	/* "/" alone is the root: "" */
	memmove(c, c + 1, len - 1);
	c[len - 1] = '\0';
	*out = c;
	return (long)(len - 1);
}

static int push(const struct walk_entry ***v, size_t *n, size_t *alloc, const struct walk_entry *e)
{
	if (GROW(*v, *alloc, *n + 1))
		return -ENOMEM;
	(*v)[(*n)++] = e;
	return 0;
}

/* What the builder leaves out below the matched directory sorted[i]. */
static int left_out(struct used *u, struct used_source *s, size_t i, enum ctxpack_builder b)
{
	const struct walk_entry *d = i < u->nsorted ? u->sorted[i] : NULL;
	size_t alloc = 0;

	/* i == nsorted with d NULL: the root, every entry is below it */
	for (size_t j = d ? i + 1 : 0; j < u->nsorted; j++) {
		const struct walk_entry *e = u->sorted[j];
		if (d && (e->len <= d->len || memcmp(e->path, d->path, d->len) ||
			  e->path[d->len] != '/'))
			break;
		if (!visible(u, e, b) && push(&s->left_out, &s->nleft_out, &alloc, e))
			return -ENOMEM;
	}
	return 0;
}

/* The classic builder's check: the path cleaned as a relative one leaves
 * the context ("forbidden path outside the build context"); a leading '/'
 * is taken off first. */
static bool outside(const char *p, size_t n)
{
	char *c;
	size_t cl;
	bool r;

	while (n && *p == '/') {
		p++;
		n--;
	}
	c = malloc(n + 2);
	if (!c)
		return false;
	cl = go_clean(p, n, c);
	r = cl >= 2 && c[0] == '.' && c[1] == '.' && (cl == 2 || c[2] == '/');
	free(c);
	return r;
}

static bool exists_below(int rootfd, const char *path, size_t len)
{
	int fd;

	if (rootfd < 0)
		return false;
	fd = beneath_open(rootfd, path, len, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* A wildcard source: filepath.Match(pat, rel) for every listed path below
 * base ("" the root) whose rel has as many components as pat ('*' never
 * matches '/'). */
static int resolve_wildcard(struct used *u, struct used_source *s, const char *base,
			    const char *pat, enum ctxpack_builder b, const char *dfname, char *err,
			    size_t errsz)
{
	size_t bl = strlen(base), pl = strlen(pat), k = components(pat, pl), alloc = 0;

	for (size_t i = 0; i < u->nsorted; i++) {
		const struct walk_entry *e = u->sorted[i];
		const char *rel = e->path;
		size_t rl = e->len;
		int m;

		if (bl) {
			if (rl <= bl + 1 || memcmp(rel, base, bl) || rel[bl] != '/')
				continue;
			rel += bl + 1;
			rl -= bl + 1;
		}
		if (components(rel, rl) != k)
			continue;
		m = go_filepath_match(pat, pl, rel, rl);
		if (m < 0) {
			snprintf(err, errsz, "%s:%d: syntax error in pattern '%s'", dfname,
				 s->src->line, s->src->path);
			return -ENOTSUP;
		}
		if (!m)
			continue;
		if (!present(u, i, b)) {
			if (!s->excluded)
				s->excluded = e;
			continue;
		}
		if (push(&s->matched, &s->nmatched, &alloc, e))
			return -ENOMEM;
		if (e->type == WT_DIR && left_out(u, s, i, b))
			return -ENOMEM;
	}
	return 0;
}

/* A path: component by component, symlinks followed inside the root.
 * resolved NULL: what it names goes into s (matched, left_out); else
 * *resolved gets the path it resolves to (malloc'd; NULL when missing). */
static int resolve_path(struct used *u, struct used_source *s, const char *path, int rootfd,
			enum ctxpack_builder b, char **resolved)
{
	const char *p = path;
	size_t len = strlen(p), at = 0;
	int links = 0, rc = 0;
	char *own = NULL;

	if (len == 0)
		goto found_root;
	for (;;) {
		const char *slash = memchr(p + at, '/', len - at);
		size_t end = slash ? (size_t)(slash - p) : len;
		const struct walk_entry *e;
		bool found;
		size_t i = find(u, p, end, &found);

		if (!found) {
			/* Not listed: below an excluded directory the walk
			 * did not enter, or not there at all. */
			for (size_t j = end; j > 0; j--) {
				if (p[j - 1] != '/')
					continue;
				i = find(u, p, j - 1, &found);
				if (found && !visible(u, u->sorted[i], b) &&
				    exists_below(rootfd, p, len))
					s->excluded = u->sorted[i];
				break;
			}
			goto missing;
		}
		e = u->sorted[i];
		if (!visible(u, e, b) && e->type == WT_DIR && end < len) {
			/* an excluded directory with re-included paths below
			 * (the classic builder sends them without it) */
			at = end + 1;
			continue;
		}
		if (!present(u, i, b)) {
			s->excluded = e;
			goto missing;
		}
		if (e->type == WT_SYMLINK && e->link) {
			size_t dir = at ? at - 1 : 0, tl = strlen(e->link), rest = len - end;
			char *n;
			long nl;

			if (++links > USED_MAX_LINKS)
				goto missing;
			if (push(&s->via, &s->nvia, &s->via_alloc, e)) {
				rc = -ENOMEM;
				goto out;
			}
			/* the target, relative to the link's directory */
			n = malloc(dir + tl + rest + 3);
			if (!n) {
				rc = -ENOMEM;
				goto out;
			}
			if (e->link[0] == '/') {
				memcpy(n, e->link, tl);
				nl = (long)tl;
			} else {
				memcpy(n, p, dir);
				n[dir] = '/';
				memcpy(n + dir + 1, e->link, tl);
				nl = (long)(dir + 1 + tl);
			}
			memcpy(n + nl, p + end, rest);
			nl += (long)rest;
			free(own);
			own = NULL;
			nl = clean_below_root(n, (size_t)nl, &own);
			free(n);
			if (nl < 0) {
				rc = -ENOMEM;
				goto out;
			}
			p = own;
			len = (size_t)nl;
			at = 0;
			if (len == 0)
				goto found_root;
			continue;
		}
		if (end == len && resolved) {
			if (!(*resolved = strndup(p, len)))
				rc = -ENOMEM;
			goto out;
		}
		if (end == len) {
			size_t alloc = 0;
			if (push(&s->matched, &s->nmatched, &alloc, e)) {
				rc = -ENOMEM;
				goto out;
			}
			if (e->type == WT_DIR)
				rc = left_out(u, s, i, b);
			goto out;
		}
		if (e->type != WT_DIR)
			goto missing;
		at = end + 1;
	}
found_root:
	if (resolved && !(*resolved = strdup("")))
		rc = -ENOMEM;
	else if (!resolved) {
		s->root = true;
		rc = left_out(u, s, u->nsorted, b);
	}
	goto out;
missing:
	s->missing = true;
out:
	free(own);
	return rc;
}

/* BuildKit's wildcard (fsutil copy.ResolveWildcards): splitWildcards
 * cuts the path before its first component with a wildcard; that part
 * is resolved as a path (a missing one fails the build: Walk's lstat),
 * the rest matched below it. */
static int resolve_split(struct used *u, struct used_source *s, int rootfd, enum ctxpack_builder b,
			 const char *dfname, char *err, size_t errsz)
{
	const char *p = s->path, *c = p;
	char *base = NULL, *resolved = NULL;
	int rc;

	for (const char *q = p;; q++) {
		if (*q == '/' || !*q) {
			if (contains_wildcards(c, (size_t)(q - c)))
				break;
			c = q + 1;
		}
	}
	if (c == p)
		return resolve_wildcard(u, s, "", p, b, dfname, err, errsz);
	base = strndup(p, (size_t)(c - p - 1));
	if (!base)
		return -ENOMEM;
	rc = resolve_path(u, s, base, rootfd, b, &resolved);
	free(base);
	if (rc)
		return rc;
	if (!resolved) {
		s->base_missing = true;
		return 0;
	}
	rc = resolve_wildcard(u, s, resolved, c, b, dfname, err, errsz);
	free(resolved);
	return rc;
}

int used_resolve(struct used *out, const struct walk_result *res, int rootfd,
		 const ctxpack_rules *rules, const struct df_source *src, size_t n,
		 enum ctxpack_builder b, const char *dfname, char *err, size_t errsz)
{
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	out->rules = rules;
	out->res = res;
	out->builder = b;
	out->sorted = (const struct walk_entry **)res->v;
	out->nsorted = res->n;
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct used_source *s = &out->v[i];
		size_t pl = strlen(src[i].path);

		out->n = i + 1;
		s->src = &src[i];
		s->wildcard = src[i].kind != DF_SRC_MOUNT && contains_wildcards(src[i].path, pl);
		if (s->wildcard && memchr(src[i].path, '\\', pl)) {
			/* BuildKit takes the part before the wildcard literally,
			 * the classic builder unescapes it: not followed here */
			snprintf(
				err, errsz,
				"%s:%d: a wildcard source with a backslash ('%s') is not supported",
				dfname, src[i].line, src[i].path);
			rc = -ENOTSUP;
			goto fail;
		}
		if (src[i].parents || src[i].nexcludes) {
			/* the labs channel: --parents reads '**' as any depth,
			 * --exclude drops matches; neither was measured */
			snprintf(err, errsz,
				 "%s:%d: COPY --parents and --exclude sources are not supported",
				 dfname, src[i].line);
			rc = -ENOTSUP;
			goto fail;
		}
		if (s->wildcard && !class_syntax_ok(src[i].path, pl)) {
			/* filepath.Match's ErrBadPattern: what each builder
			 * then does was not measured */
			snprintf(
				err, errsz,
				"%s:%d: a wildcard source with a malformed character class ('%s') is not supported",
				dfname, src[i].line, src[i].path);
			rc = -ENOTSUP;
			goto fail;
		}
		if (clean_below_root(src[i].path, pl, &s->path) < 0)
			goto fail;
		if (b == CTXPACK_BUILDER_CLASSIC && outside(src[i].path, pl)) {
			/* "forbidden path outside the build context"; a
			 * wildcard matches nothing: "no source files were
			 * specified" */
			s->outside = !s->wildcard;
			s->missing = true;
			rc = 0;
		} else if (s->wildcard && b == CTXPACK_BUILDER_CLASSIC) {
			/* copier.copyWithWildcards: Match against every path,
			 * with the source as written but for one leading "/" and
			 * then one "./" (calcCopyInfo's TrimPrefix): one that is
			 * not clean (a trailing '/', "//", "." or "..") matches
			 * no path, which always is */
			const char *raw = src[i].path;
			size_t rl = pl;
			if (rl && raw[0] == '/')
				raw++, rl--;
			if (rl >= 2 && raw[0] == '.' && raw[1] == '/')
				raw += 2, rl -= 2;
			rc = 0;
			if (rl == strlen(s->path) && !memcmp(raw, s->path, rl))
				rc = resolve_wildcard(out, s, "", s->path, b, dfname, err, errsz);
		} else if (s->wildcard) {
			/* copy.ResolveWildcards: the components before the first
			 * one with a wildcard must exist (lstat), symlinks
			 * followed; the rest is matched below it */
			rc = resolve_split(out, s, rootfd, b, dfname, err, errsz);
		} else {
			rc = resolve_path(out, s, s->path, rootfd, b, NULL);
		}
		if (rc)
			goto fail;
		if (s->wildcard && !s->nmatched)
			s->missing = true;
		s->fails = s->missing &&
			   !(s->wildcard && b == CTXPACK_BUILDER_BUILDKIT && !s->base_missing);
		rc = -ENOMEM;
	}
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errsz, "out of memory");
	{
		int line = out->n && rc != -ENOMEM ? src[out->n - 1].line : 0;
		used_release(out);
		out->errline = line;
	}
	return rc;
}

void used_release(struct used *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].path);
		free(u->v[i].matched);
		free(u->v[i].left_out);
		free(u->v[i].via);
	}
	free(u->v);
	memset(u, 0, sizeof(*u));
}

static bool below(const struct walk_entry *d, const struct walk_entry *e)
{
	return e->len > d->len && !memcmp(e->path, d->path, d->len) && e->path[d->len] == '/';
}

static size_t mark(uint8_t *flags, size_t i, uint8_t f)
{
	size_t n = !(flags[i] & f);

	flags[i] |= f;
	return n;
}

size_t used_reads(const struct used *u, uint8_t *flags)
{
	enum ctxpack_builder b = u->builder;
	size_t n = 0;

	for (size_t k = 0; k < u->n; k++) {
		const struct used_source *s = &u->v[k];
		bool found;

		for (size_t j = 0; j < s->nvia; j++) {
			size_t i = find(u, s->via[j]->path, s->via[j]->len, &found);
			if (found)
				n += mark(flags, i, USED_VIA);
		}
		if (s->root) {
			for (size_t i = 0; i < u->nsorted; i++)
				if (visible(u, u->sorted[i], b))
					n += mark(flags, i, USED_READ);
			continue;
		}
		for (size_t j = 0; j < s->nmatched; j++) {
			const struct walk_entry *d = s->matched[j];
			size_t i = find(u, d->path, d->len, &found);

			if (!found)
				continue;
			n += mark(flags, i, USED_READ);
			if (d->type != WT_DIR)
				continue;
			for (size_t e = i + 1; e < u->nsorted && below(d, u->sorted[e]); e++)
				if (visible(u, u->sorted[e], b))
					n += mark(flags, e, USED_READ);
		}
	}
	return n;
}
