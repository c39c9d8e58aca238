/* rules.h: the rule list behind ctxpack_rules (internal view). */
#ifndef CTXPACK_RULES_H
#define CTXPACK_RULES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctxpack/ctxpack.h"
#include "pattern.h"

struct rule {
	const char *source; /* interned in ctxpack_rules.sources */
	int line;
	char *text;         /* as handed to patternmatcher.New, e.g. "!foo" */
	size_t len;
};

struct ctxpack_rules {
	struct rule *v;
	size_t n, alloc;
	char **sources;
	size_t nsources, asources;
	char errmsg[512];
};

void rules_set_error(ctxpack_rules *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* patternmatcher.New over every rule: *out gets r->n patterns (free with
 * rules_patterns_release).  transport: first turn each pattern into valid
 * UTF-8 as BuildKit's JSON transport does.  On a PATTERN_* error, *bad is
 * the rule and msg says why. */
int rules_patterns(const ctxpack_rules *r, bool transport, struct pattern **out, size_t *bad,
		   char *msg, size_t msgsz);
void rules_patterns_release(struct pattern *pats, size_t n);

#endif
