/* ruleuse.h: what each ignore rule does for a walk: the one definition
 * of a "dead" rule, shared by `lint` (dead-rule, defensive-rule,
 * overridden-rule, redundant-rule), `stats`/`pack --fail-on-dead-rules`
 * and the HTML report.
 *
 * Each rule is compiled on its own (an exception without its '!') and run
 * over every entry of the walk with Docker's per-pattern parent results:
 * it "matches" an entry when it matches the entry or one of its
 * directories.  The entries of a pruned directory are not listed, so a
 * rule only they match is dead: it never changes what is sent. */
#ifndef CTXPACK_RULEUSE_H
#define CTXPACK_RULEUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxpack/ctxpack.h"
#include "walk.h"

enum rule_use_kind {
	RULE_DECIDES, /* decides entries no later rule covers (or would, without a redundant one) */
	RULE_DEAD,    /* matches nothing */
	RULE_DEFENSIVE,	 /* a common defensive line (classify_defensive_rule) that matches
			    nothing, or whose matches other rules decide (entry: the first) */
	RULE_OVERRIDDEN, /* matches entries, another rule decides every one */
	RULE_REDUNDANT,	 /* decides entries; the later rule `by` of its kind matches all it
			    matches, no rule of the other kind between them does */
	RULE_UNCHECKED,	 /* the builder's own rule (line 0), one matching only what those
			    decide, or a pattern that does not compile alone */
};

struct rule_use {
	enum rule_use_kind use;
	size_t entry;	      /* RULE_OVERRIDDEN, RULE_DEFENSIVE: the first entry it matches (res->v
				 index), or SIZE_MAX */
	size_t by;	      /* RULE_REDUNDANT: the rule that covers it */
	bool shadowed;	      /* RULE_OVERRIDDEN: an exclusion whose every match an earlier
				 exclusion decides (harmless: it changes nothing) */
	bool in_existing_dir; /* RULE_DEFENSIVE: a dead rule whose directory part matches a
				 directory of the walk (an output not made yet) */
};

/* out[ctxpack_rules_count(r)] for the walk res of builder b.  0 or
 * -ENOMEM. */
int rule_use_compute(struct rule_use *out, const ctxpack_rules *r, enum ctxpack_builder b,
		     const struct walk_result *res);

/* What lint reports as dead-rule, overridden-rule or redundant-rule
 * (whatever their severity) and --fail-on-dead-rules fails on (not
 * defensive, not unchecked). */
bool rule_use_is_dead(const struct rule_use *u);

/* "decides", "dead", "defensive", "overridden", "redundant", "unchecked". */
const char *rule_use_name(const struct rule_use *u);

#endif
