/* lintconf.c: `.ctxpack.conf` and `# ctxpack:ignore` (see lintconf.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lintconf.h"

static const char *const levels[] = {"info", "warning", "error"};

/* The next line of data[*off..len) into *line, *n, as bufio.ScanLines
 * splits (on '\n', a trailing '\r' dropped); false at the end. */
static bool next_line(const char *data, size_t len, size_t *off, const char **line, size_t *n)
{
	const char *nl;

	if (*off >= len)
		return false;
	*line = data + *off;
	nl = memchr(*line, '\n', len - *off);
	*n = nl ? (size_t)(nl - *line) : len - *off;
	*off += *n + (nl ? 1 : 0);
	if (*n && (*line)[*n - 1] == '\r')
		(*n)--;
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The next word of s[*i..n) (separated by blanks, and by commas when
 * commas): its start and length, 0 at the end. */
static size_t word(const char *s, size_t n, size_t *i, bool commas, const char **w)
{
	size_t k;

	while (*i < n && (is_space(s[*i]) || (commas && s[*i] == ',')))
		(*i)++;
	*w = s + *i;
	for (k = *i; k < n && !is_space(s[k]) && !(commas && s[k] == ','); k++)
		;
	k -= *i;
	*i += k;
	return k;
}

/* "SOURCE:LINE: WHAT 'W' (HINT)": the subject quoted, the cause last. */
static int bad(char *err, size_t errsz, const char *source, int line, const char *what,
	       const char *w, size_t wn)
{
	const char *hint = strchr(what, '(');
	char q[128];

	if (w && hint)
		snprintf(err, errsz, "%s:%d: %.*s'%s' %s", source, line, (int)(hint - what), what,
			 text_quote(q, sizeof(q), w, wn), hint);
	else if (w)
		snprintf(err, errsz, "%s:%d: %s '%s'", source, line, what,
			 text_quote(q, sizeof(q), w, wn));
	else
		snprintf(err, errsz, "%s:%d: %s", source, line, what);
	return -EINVAL;
}

int lintconf_suppressions(struct lintconf_suppress **out, size_t *nout, const char *data,
			  size_t len, const char *source, const int *rule_lines, size_t nrules,
			  lintconf_check_fn check, char *err, size_t errsz)
{
	static const char tag[] = "ctxpack:ignore";
	struct lintconf_suppress *v = NULL;
	size_t n = 0, alloc = 0, off = 0, ln;
	const char *line;
	int lineno = 0;

	/* ignorefile.ReadAll strips a UTF-8 byte order mark from the first line */
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		off = 3;
	while (next_line(data, len, &off, &line, &ln)) {
		size_t i = 1, r = 0, wn;
		const char *w;
		int target = 0;
		lineno++;
		if (!ln || line[0] != '#')
			continue;
		while (i < ln && is_space(line[i]))
			i++;
		if (ln - i < sizeof(tag) - 1 || memcmp(line + i, tag, sizeof(tag) - 1) ||
		    (ln - i > sizeof(tag) - 1 && !is_space(line[i + sizeof(tag) - 1])))
			continue;
		i += sizeof(tag) - 1;
		while (r < nrules && rule_lines[r] <= lineno)
			r++;
		if (r == nrules) {
			free(v);
			return bad(err, errsz, source, lineno,
				   "'# ctxpack:ignore' is followed by no rule line", NULL, 0);
		}
		target = rule_lines[r];
		if (!word(line, ln, &i, true, &w)) {
			free(v);
			return bad(
				err, errsz, source, lineno,
				"'# ctxpack:ignore' names no check id (write '# ctxpack:ignore ID')",
				NULL, 0);
		}
		for (i = (size_t)(w - line), wn = word(line, ln, &i, true, &w); wn;
		     wn = word(line, ln, &i, true, &w)) {
			long c = check(w, wn);
			if (c < 0) {
				free(v);
				return bad(err, errsz, source, lineno, "unknown check id", w, wn);
			}
			if (GROW(v, alloc, n + 1)) {
				free(v);
				return -ENOMEM;
			}
			v[n++] = (struct lintconf_suppress){target, c};
		}
	}
	*out = v;
	*nout = n;
	return 0;
}

int lintconf_parse(bool *disabled, int *severity, const char *data, size_t len, const char *source,
		   lintconf_check_fn check, char *err, size_t errsz)
{
	size_t off = 0, ln;
	const char *line;
	int lineno = 0;

	while (next_line(data, len, &off, &line, &ln)) {
		size_t i = 0, kn, wn;
		const char *k, *w;
		lineno++;
		kn = word(line, ln, &i, false, &k);
		if (!kn || k[0] == '#')
			continue;
		if (kn == 7 && !memcmp(k, "disable", 7)) {
			if (!word(line, ln, &i, false, &w))
				return bad(err, errsz, source, lineno,
					   "'disable' names no check id", NULL, 0);
			for (i = (size_t)(w - line), wn = word(line, ln, &i, false, &w); wn;
			     wn = word(line, ln, &i, false, &w)) {
				long c = check(w, wn);
				if (c < 0)
					return bad(err, errsz, source, lineno, "unknown check id",
						   w, wn);
				disabled[c] = true;
			}
		} else if (kn == 8 && !memcmp(k, "severity", 8)) {
			const char *lv;
			size_t lvn, extra;
			long c;
			int lev = -1;
			wn = word(line, ln, &i, false, &w);
			lvn = word(line, ln, &i, false, &lv);
			extra = word(line, ln, &i, false, &k);
			if (!wn || !lvn || extra)
				return bad(
					err, errsz, source, lineno,
					"expected 'severity ID LEVEL' (LEVEL info, warning or error)",
					NULL, 0);
			c = check(w, wn);
			if (c < 0)
				return bad(err, errsz, source, lineno, "unknown check id", w, wn);
			for (int j = 0; j < 3; j++)
				if (strlen(levels[j]) == lvn && !memcmp(levels[j], lv, lvn))
					lev = j;
			if (lev < 0)
				return bad(err, errsz, source, lineno,
					   "unknown level (expected info, warning or error)", lv,
					   lvn);
			severity[c] = lev;
		} else {
			return bad(err, errsz, source, lineno,
				   "unknown setting (expected 'disable' or 'severity')", k, kn);
		}
	}
	return 0;
}
