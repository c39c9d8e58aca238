/* rules.c: .dockerignore bytes to an ordered rule list.
 *
 * Mirrors moby/patternmatcher/ignorefile.ReadAll: bufio.Scanner lines (split
 * at '\n', one '\r' before it dropped, a line that does not fit in 64 KiB is
 * an error), a BOM dropped from the first line only, '#' in column 1 a
 * comment, strings.TrimSpace, '!' then TrimSpace again, filepath.Clean and
 * one leading '/' removed.  The reader knows bytes, not the filesystem. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctxpack/ctxpack.h"
#include "internal.h"
#include "pattern.h"
#include "rules.h"
#include "utf8.h"

#define SCANNER_MAX_TOKEN 65536 /* bufio.MaxScanTokenSize */

static void publish(ctxpack_rules *r);

int ctxpack_rules_new(ctxpack_rules **out)
{
	if (!out)
		return -EINVAL;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->err.rule = -1;
	publish(*out);
	return 0;
}

void ctxpack_rules_free(ctxpack_rules **rp)
{
	ctxpack_rules *r;

	if (!rp || !*rp)
		return;
	r = *rp;
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].text);
	for (size_t i = 0; i < r->nsources; i++)
		free(r->sources[i]);
	free(r->sources);
	free(r->v);
	free(r->hide_source);
	free(r->hide_note);
	rules_error_release(&r->err);
	free(r);
	*rp = NULL;
}

const char *ctxpack_rules_errmsg(const ctxpack_rules *r)
{
	return r ? r->err.message : "";
}

const struct rules_error *rules_last_error(const ctxpack_rules *r)
{
	return &r->err;
}

const struct ctxpack_rules_error *ctxpack_rules_error(const ctxpack_rules *r)
{
	return r ? &r->pub : NULL;
}

/* r->err (just set) into the public view. */
static void publish(ctxpack_rules *r)
{
	const struct rules_error *e = &r->err;

	r->pub = (struct ctxpack_rules_error){ e->code, e->source, e->line, e->rule, e->path,
					       e->message, e->message + e->reason };
}

void rules_error_release(struct rules_error *e)
{
	free(e->path);
	memset(e, 0, sizeof(*e));
	e->rule = -1;
}

static void set_errorv(ctxpack_rules *r, int code, const char *source, int line, const char *fmt,
		       va_list ap)
{
	struct rules_error *e = &r->err;
	int n = 0;

	rules_error_release(e);
	e->code = code;
	e->line = line;
	if (source) {
		snprintf(e->source, sizeof(e->source), "%s", source);
		n = line > 0 ? snprintf(e->message, sizeof(e->message), "%s:%d: ", source, line)
			     : snprintf(e->message, sizeof(e->message), "%s: ", source);
		if (n < 0 || (size_t)n >= sizeof(e->message))
			n = 0;
	}
	e->reason = (size_t)n;
	vsnprintf(e->message + n, sizeof(e->message) - (size_t)n, fmt, ap);
	publish(r);
}

void rules_set_error(ctxpack_rules *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_errorv(r, code, NULL, 0, fmt, ap);
	va_end(ap);
}

void rules_set_error_line(ctxpack_rules *r, int code, const char *source, int line,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_errorv(r, code, source, line, fmt, ap);
	va_end(ap);
}

/* Takes src and note (either NULL: out of memory, both freed). */
static int set_hidden(ctxpack_rules *r, char *src, char *note)
{
	if (!src || !note) {
		free(src);
		free(note);
		return -ENOMEM;
	}
	free(r->hide_source);
	free(r->hide_note);
	r->hide_source = src;
	r->hide_note = note;
	return 0;
}

int rules_hide_text(ctxpack_rules *r, const char *source, const char *target)
{
	char q[512], *note = NULL;

	if (asprintf(&note, " (the rule is not shown: %s points outside the context, to '%s')",
		     source, text_quote(q, sizeof(q), target, strlen(target))) < 0)
		note = NULL;
	return set_hidden(r, xmemdup(source, strlen(source)), note);
}

int rules_hide_like(ctxpack_rules *r, const ctxpack_rules *from)
{
	if (!from->hide_source)
		return 0;
	return set_hidden(r, xmemdup(from->hide_source, strlen(from->hide_source)),
			  xmemdup(from->hide_note, strlen(from->hide_note)));
}

bool rules_text_hidden(const ctxpack_rules *r, size_t i)
{
	return r->hide_source && i < r->n && strcmp(r->v[i].source, r->hide_source) == 0;
}

const char *rules_hidden_note(const ctxpack_rules *r)
{
	return r->hide_note ? r->hide_note : "";
}

const char *rules_quote(const ctxpack_rules *r, size_t i, char *buf, size_t sz)
{
	if (i >= r->n) {
		snprintf(buf, sz, "?");
	} else if (rules_text_hidden(r, i)) {
		snprintf(buf, sz, "<line %d>", r->v[i].line);
	} else if (sz > 6) {
		buf[0] = '\'';
		text_quote(buf + 1, sz - 2, r->v[i].text, r->v[i].len);
		strcat(buf, "'");
	} else if (sz) {
		buf[0] = '\0';
	}
	return buf;
}

void rules_fputq(FILE *f, const ctxpack_rules *r, size_t i)
{
	char buf[32];

	if (i >= r->n || rules_text_hidden(r, i)) {
		fputs(rules_quote(r, i, buf, sizeof(buf)), f);
		return;
	}
	fputc('\'', f);
	text_fputq(f, r->v[i].text, r->v[i].len);
	fputc('\'', f);
}

void rules_shown(const ctxpack_rules *r, size_t i, char *buf, size_t sz, const char **text,
		 size_t *len)
{
	if (i < r->n && !rules_text_hidden(r, i)) {
		*text = r->v[i].text;
		*len = r->v[i].len;
		return;
	}
	*text = rules_quote(r, i, buf, sz);
	*len = strlen(buf);
}

void rules_message(const ctxpack_rules *r, size_t i, char *out, size_t outsz, const char *before,
		   const char *after)
{
	const struct rule *ru = i < r->n ? &r->v[i] : NULL;
	char q[256];

	rules_quote(r, i, q, sizeof(q));
	if (ru && ru->line > 0)
		snprintf(out, outsz, "%s:%d: %s%s%s%s", ru->source, ru->line, before, q, after,
			 rules_text_hidden(r, i) ? r->hide_note : "");
	else
		snprintf(out, outsz, "%s: %s%s%s%s", ru ? ru->source : "?", before, q, after,
			 rules_text_hidden(r, i) ? r->hide_note : "");
}

void rules_error_at(struct rules_error *e, const ctxpack_rules *r, size_t i, int code,
		    const char *before, const char *after, const char *path, size_t plen)
{
	const struct rule *ru = i < r->n ? &r->v[i] : NULL;
	size_t n;

	rules_error_release(e);
	e->code = code;
	e->rule = ru ? (long)i : -1;
	e->line = ru ? ru->line : 0;
	snprintf(e->source, sizeof(e->source), "%s", ru ? ru->source : "?");
	rules_message(r, i, e->message, sizeof(e->message), before, after);
	/* rules_message's prefix: "SOURCE:LINE: " or "SOURCE: " */
	n = strlen(e->source) + 2;
	if (e->line > 0) {
		char num[16];
		n += (size_t)snprintf(num, sizeof(num), ":%d", e->line);
	}
	e->reason = n < strlen(e->message) ? n : strlen(e->message);
	if (path)
		e->path = xmemdup(path, plen); /* NULL when out of memory: no path */
}

/* Interns source names so that every rule can point at one copy. */
static const char *intern_source(ctxpack_rules *r, const char *source)
{
	char *copy;

	if (r->nsources && strcmp(r->sources[r->nsources - 1], source) == 0)
		return r->sources[r->nsources - 1];
	if (GROW(r->sources, r->asources, r->nsources + 1))
		return NULL;
	copy = xmemdup(source, strlen(source));
	if (!copy)
		return NULL;
	r->sources[r->nsources++] = copy;
	return copy;
}

int ctxpack_rules_add_pattern(ctxpack_rules *r, const char *source, int line, const char *pattern,
			      size_t len)
{
	const char *src;
	struct rule *ru;

	if (!r)
		return -EINVAL;
	if ((!pattern && len) || line < 0) {
		rules_set_error(r, -EINVAL, "%s",
				line < 0 ? "a negative line number" : "no pattern given");
		return -EINVAL;
	}
	src = intern_source(r, source ? source : "");
	if (!src || GROW(r->v, r->alloc, r->n + 1))
		goto oom;
	ru = &r->v[r->n];
	ru->text = xmemdup(pattern, len);
	if (!ru->text)
		goto oom;
	ru->len = len;
	ru->source = src;
	ru->line = line;
	r->n++;
	return 0;
oom:
	rules_set_error(r, -ENOMEM, "out of memory");
	return -ENOMEM;
}

/* One line's pattern, as ReadAll turns it into a string; *out_len == 0
 * means no pattern.  buf must hold len + 3 bytes. */
static size_t read_line_pattern(const char *line, size_t len, char *buf)
{
	size_t st, n, k = 0;
	bool invert;

	if (len && line[0] == '#')
		return 0;
	n = go_trim_space(line, len, &st);
	if (n == 0)
		return 0;
	line += st;
	invert = line[0] == '!';
	if (invert) {
		n = go_trim_space(line + 1, n - 1, &st);
		line += 1 + st;
		buf[k++] = '!';
	}
	if (n > 0) {
		size_t c = go_clean(line, n, buf + k);
		if (c > 1 && buf[k] == '/') {
			memmove(buf + k, buf + k + 1, c - 1);
			c--;
		}
		k += c;
	}
	return k;
}

int ctxpack_rules_add_buffer(ctxpack_rules *r, const char *source, const void *data, size_t len)
{
	const char *p = data, *end = p + len;
	char *buf = NULL;
	int lineno = 0, rc = 0;

	if (!r)
		return -EINVAL;
	if (!data && len) {
		rules_set_error(r, -EINVAL, "no buffer given");
		return -EINVAL;
	}
	if (!source)
		source = ".dockerignore";
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t tok = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		size_t n = nl ? (size_t)(nl - p) : tok;
		const char *line = p;

		lineno++;
		/* The scanner's buffer must hold the line and its '\n'; a final
		 * line without one must leave a byte free to see EOF. */
		if (tok + (nl ? 0 : 1) > SCANNER_MAX_TOKEN) {
			rules_set_error_line(r, -EINVAL, source, lineno,
					     "line longer than %d bytes (Docker fails with 'token too long')",
					     SCANNER_MAX_TOKEN - 1);
			rc = -EINVAL;
			break;
		}
		if (n && line[n - 1] == '\r')
			n--;
		if (lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
			line += 3;
			n -= 3;
		}
		p += tok;
		free(buf);
		buf = malloc(n + 3);
		if (!buf) {
			rules_set_error(r, -ENOMEM, "out of memory");
			rc = -ENOMEM;
			break;
		}
		n = read_line_pattern(line, n, buf);
		if (n && (rc = ctxpack_rules_add_pattern(r, source, lineno, buf, n)))
			break;
	}
	free(buf);
	return rc;
}

size_t ctxpack_rules_count(const ctxpack_rules *r)
{
	return r ? r->n : 0;
}

int ctxpack_rules_get(const ctxpack_rules *r, size_t i, struct ctxpack_rule_info *out)
{
	if (!r || !out)
		return -EINVAL;
	if (i >= r->n)
		return -ERANGE;
	out->source = r->v[i].source;
	out->line = r->v[i].line;
	out->pattern = r->v[i].text;
	out->pattern_len = r->v[i].len;
	return 0;
}

void rules_patterns_release(struct pattern *pats, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pattern_release(&pats[i]);
	free(pats);
}

/* Every byte that is not part of valid UTF-8 replaced by U+FFFD, as Go's
 * encoding/json does (malloc'd; *outlen its length). */
static char *to_valid_utf8(const char *s, size_t n, size_t *outlen)
{
	char *o = malloc(3 * n + 1);
	size_t k = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t r;
		size_t w = utf8_decode((const unsigned char *)s + i, n - i, &r);
		if (r == UTF8_RUNE_ERROR && w == 1) {
			memcpy(o + k, "\xEF\xBF\xBD", 3);
			k += 3;
		} else {
			memcpy(o + k, s + i, w);
			k += w;
		}
		i += w;
	}
	*outlen = k;
	return o;
}

/* patternmatcher.New's compile of rule i into *p (see rules_patterns). */
static int rule_pattern(const ctxpack_rules *r, size_t i, bool transport, struct pattern *p,
			char *msg, size_t msgsz)
{
	const char *text = r->v[i].text;
	size_t len = r->v[i].len;
	char *conv = NULL;
	int rc;

	if (transport) {
		conv = to_valid_utf8(text, len, &len);
		if (!conv)
			return PATTERN_ENOMEM;
		text = conv;
	}
	rc = pattern_init(p, text, len, msg, msgsz);
	free(conv);
	if (rc == 0 && p->lazy_error && rules_text_hidden(r, i))
		p->errmsg[p->errwhat] = '\0'; /* the reason without its quote */
	if (rc == PATTERN_EMPTY) {
		/* New() drops it; an empty exact pattern that never
		 * matches keeps the other rules' numbers instead. */
		p->text = xmemdup("", 0);
		rc = p->text ? 0 : PATTERN_ENOMEM;
	}
	return rc;
}

int rules_patterns(const ctxpack_rules *r, bool transport, struct pattern **out, size_t *bad,
		   char *msg, size_t msgsz)
{
	struct pattern *pats = calloc(r->n ? r->n : 1, sizeof(*pats));

	*out = NULL;
	if (!pats)
		return PATTERN_ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		int rc = rule_pattern(r, i, transport, &pats[i], msg, msgsz);
		if (rc) {
			*bad = i;
			rules_patterns_release(pats, i);
			return rc;
		}
	}
	*out = pats;
	return 0;
}

void rules_compile_error(ctxpack_rules *r, size_t i, int code, const char *why)
{
	char before[300];

	snprintf(before, sizeof(before), "%s in ", why);
	rules_error_at(&r->err, r, i, code, before, "", NULL, 0);
	publish(r);
}

int rules_each_pattern_error(ctxpack_rules *r, bool transport, void (*each)(void *arg, size_t i),
			     void *arg)
{
	for (size_t i = 0; i < r->n; i++) {
		struct pattern p;
		char msg[256];
		int rc;
		memset(&p, 0, sizeof(p));
		rc = rule_pattern(r, i, transport, &p, msg, sizeof(msg));
		if (rc == PATTERN_ENOMEM)
			return -ENOMEM;
		if (rc) {
			rules_compile_error(r, i, -EINVAL, msg);
			each(arg, i);
		} else {
			pattern_release(&p);
		}
	}
	return 0;
}

/* patternmatcher.Matches (deprecated): last-match-wins where a pattern is
 * also tried on the leading components of the file's parent directory, as
 * many as the pattern has components.  Errors count as "not excluded".
 * -1 (with *bad the pattern) when ctxpack cannot evaluate a pattern. */
static int docker_matches_one_level(const struct pattern *pats, size_t n, struct re_scratch *s,
				    const char *file, size_t *bad)
{
	size_t len = strlen(file), plen;
	const char *slash = strrchr(file, '/');
	bool matched = false;

	if (len == 1 && file[0] == '.')
		return false;
	plen = slash ? (size_t)(slash - file) : 0;
	for (size_t i = 0; i < n; i++) {
		const struct pattern *p = &pats[i];
		int m;
		if (p->exclusion != matched)
			continue;
		*bad = i;
		m = pattern_match(p, s, file, len);
		if (m == -2)
			return -1; /* cannot tell what Docker decides */
		if (m < 0)
			return 0;
		if (!m && slash) {
			size_t dirs = 1, pdirs = 1, cut = 0;
			for (size_t k = 0; k < p->len; k++)
				dirs += p->text[k] == '/';
			for (size_t k = 0; k < plen; k++)
				pdirs += file[k] == '/';
			if (dirs <= pdirs) {
				/* The first `dirs` components of the parent path. */
				size_t seen = 0;
				for (cut = 0; cut < plen; cut++)
					if (file[cut] == '/' && ++seen == dirs)
						break;
				m = pattern_match(p, s, file, cut);
				if (m == -2)
					return -1;
				m = m > 0;
			}
		}
		if (m)
			matched = !p->exclusion;
	}
	return matched;
}

/* Matches(file, rules) as the CLI calls it: a fresh matcher each time. */
static int classic_excluded(ctxpack_rules *r, const char *file, bool *out)
{
	struct pattern *pats;
	struct re_scratch s;
	size_t bad = 0, maxprog = 1;
	char msg[256];
	int rc;

	*out = false;
	rc = rules_patterns(r, false, &pats, &bad, msg, sizeof(msg));
	if (rc == PATTERN_ENOMEM)
		return -ENOMEM;
	if (rc)
		return 0; /* New() failed: Matches says false */
	for (size_t i = 0; i < r->n; i++)
		if (pattern_prog_len(&pats[i]) > maxprog)
			maxprog = pattern_prog_len(&pats[i]);
	if (re_scratch_init(&s, maxprog)) {
		rules_patterns_release(pats, r->n);
		return -ENOMEM;
	}
	rc = docker_matches_one_level(pats, r->n, &s, file, &bad);
	re_scratch_release(&s);
	rules_patterns_release(pats, r->n);
	if (rc < 0) {
		char q[256], what[400];
		snprintf(what, sizeof(what),
			 "cannot tell whether the docker CLI re-adds '%s': Go regexp construct ctxpack does not reproduce (\\p, \\P or \\Q) in ",
			 text_quote(q, sizeof(q), file, strlen(file)));
		rules_error_at(&r->err, r, bad, -ENOTSUP, what, "", file, strlen(file));
		publish(r);
		return -ENOTSUP;
	}
	*out = rc;
	return 0;
}

int ctxpack_rules_add_classic_readds(ctxpack_rules *r, const char *dockerfile)
{
	char *clean = NULL, *pat = NULL;
	bool keep;
	size_t n;
	int rc;

	if (!r)
		return -EINVAL;
	/* TrimBuildFilesFromExcludes: the Dockerfile is checked against the
	 * list that may already end with "!.dockerignore". */
	rc = classic_excluded(r, ".dockerignore", &keep);
	if (!rc && keep)
		rc = ctxpack_rules_add_pattern(r, "<builder>", 0, "!.dockerignore", 14);
	if (rc || !dockerfile)
		goto out;
	n = strlen(dockerfile);
	clean = malloc(n + 2);
	pat = malloc(n + 3);
	if (!clean || !pat) {
		rc = -ENOMEM;
		goto out;
	}
	n = go_clean(dockerfile, n, clean);
	clean[n] = '\0';
	rc = classic_excluded(r, clean, &keep);
	if (!rc && keep) {
		pat[0] = '!';
		memcpy(pat + 1, clean, n);
		rc = ctxpack_rules_add_pattern(r, "<builder>", 0, pat, n + 1);
	}
out:
	free(clean);
	free(pat);
	if (rc == -ENOMEM)
		rules_set_error(r, -ENOMEM, "out of memory");
	return rc;
}
