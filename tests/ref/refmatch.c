/* refmatch.c: see refmatch.h.  Deliberately naive: every pattern is tested
 * on the whole path for every entry. */
#include <stdlib.h>
#include <string.h>

#include "refmatch.h"
#include "rules.h"

int refmatch_init(struct refmatch *r, const ctxpack_rules *rules, bool transport)
{
	char msg[256];
	size_t bad, cap = 1;

	memset(r, 0, sizeof(*r));
	if (rules_patterns(rules, transport, &r->pats, &bad, msg, sizeof(msg)))
		return -1;
	r->n = ctxpack_rules_count(rules);
	for (size_t i = 0; i < r->n; i++)
		if (pattern_prog_len(&r->pats[i]) > cap)
			cap = pattern_prog_len(&r->pats[i]);
	return re_scratch_init(&r->s, cap);
}

void refmatch_release(struct refmatch *r)
{
	if (r->pats)
		rules_patterns_release(r->pats, r->n);
	re_scratch_release(&r->s);
	memset(r, 0, sizeof(*r));
}

int refmatch_entry(struct refmatch *r, const char *path, size_t len, const struct refinfo *parent,
		   struct refinfo *out, long *rule)
{
	bool matched = false;

	*rule = -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct pattern *p = &r->pats[i];
		bool match = parent->matched ? parent->matched[i] : false;
		out->matched[i] = false;
		if (!match) {
			int m;
			if (p->exclusion != matched)
				continue;
			m = pattern_match(p, &r->s, path, len);
			if (m < 0) {	/* -1 Docker fails, -2 ctxpack refuses: both stop */
				*rule = (long)i;
				return -1;
			}
			match = m;
			if (!match && !parent->matched) {
				/* The zero MatchInfo: try every leading part of the
				 * parent path (MatchesOrParentMatches). */
				for (size_t k = 0; !match && k < len; k++)
					if (path[k] == '/')
						match = pattern_match(p, &r->s, path, k) > 0;
			}
		}
		out->matched[i] = match;
		if (match) {
			matched = !p->exclusion;
			*rule = (long)i;
		}
	}
	return matched;
}

bool refmatch_classic_descend(const struct refmatch *r, const char *dir, size_t len)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct pattern *p = &r->pats[i];
		if (!p->exclusion)
			continue;
		/* strings.HasPrefix(pattern + "/", dir + "/") */
		if (p->len + 1 >= len + 1 && memcmp(p->text, dir, len) == 0 &&
		    (p->len == len || p->text[len] == '/'))
			return true;
	}
	return false;
}

bool refmatch_buildkit_walks(const struct refmatch *r, const char *dir, size_t len)
{
	bool wild = false, any = false;

	/* fsutil: prune by the literal prefix (of the text without a trailing
	 * slash-star-star, then slash-star) unless an exception has a
	 * wildcard character there. */
	for (size_t i = 0; i < r->n; i++) {
		const struct pattern *p = &r->pats[i];
		size_t n = p->len;
		if (!p->exclusion)
			continue;
		if (n >= 3 && !memcmp(p->text + n - 3, "/**", 3))
			n -= 3;
		if (n >= 2 && !memcmp(p->text + n - 2, "/*", 2))
			n -= 2;
		for (size_t j = 0; j < n; j++)
			if (p->text[j] && strchr("*[]?^\\", p->text[j]))
				wild = true;
		if (n >= len && !memcmp(p->text, dir, len) && (n == len || p->text[len] == '/'))
			any = true;
	}
	return wild || any;
}
