/* rules.h: the rule list behind ctxpack_rules (internal view). */
#ifndef CTXPACK_RULES_H
#define CTXPACK_RULES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctxpack/ctxpack.h"
#include "pattern.h"

/* A failure as data: what ctxpack_rules_errmsg says, field by field, so
 * that no caller parses "SOURCE:LINE: " back out of a message.  The rules
 * handle keeps its last one (reading, compiling: rules_last_error); a
 * matcher's refusal to decide a path (per query, on a handle the walk's
 * threads share) is handed to the caller in one (match_refusal). */
struct rules_error {
	int code;           /* negative errno; 0: no error */
	char source[256];   /* the file (or "<builder>") it is about; "": none */
	int line;           /* its line there; 0: none */
	long rule;          /* the rule's index; -1: none */
	char *path;         /* the path a rule was evaluated for (malloc'd); NULL: none */
	char message[1024]; /* the whole message, as ctxpack_rules_errmsg */
	size_t reason;      /* message + reason: the message without its
			       "SOURCE:LINE: " or "SOURCE: " */
};

/* Clears e (frees its path). */
void rules_error_release(struct rules_error *e);
/* e for rule i of r (SIZE_MAX: unknown): rules_message(r, i, before,
 * after) with the rule's source, line and index; path (plen bytes) is
 * copied when not NULL. */
void rules_error_at(struct rules_error *e, const ctxpack_rules *r, size_t i, int code,
		    const char *before, const char *after, const char *path, size_t plen);

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
	char *hide_source; /* rules from this source are not quoted (rules_hide_text) */
	char *hide_note;   /* " (the rule is not shown: ...)" */
	struct rules_error err; /* the last failure (err.message: ctxpack_rules_errmsg) */
	struct ctxpack_rules_error pub; /* err as ctxpack_rules_error shows it */
};

/* The last failure on r, as data (code 0: none). */
const struct rules_error *rules_last_error(const ctxpack_rules *r);
/* A failure of r about no rule (source and line "" and 0 unless given). */
void rules_set_error(ctxpack_rules *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void rules_set_error_line(ctxpack_rules *r, int code, const char *source, int line,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* From now on no message or report quotes the text of a rule read from
 * source: the ignore file lies outside the context (a symlink the classic
 * builder follows), so its lines may be anyone's secrets.  Messages name
 * such a rule by its line and end with a note that says why ("source
 * points outside the context, to 'target'").  Returns 0 or -ENOMEM. */
int rules_hide_text(ctxpack_rules *r, const char *source, const char *target);
/* Copies from's rules_hide_text setting to r. */
int rules_hide_like(ctxpack_rules *r, const ctxpack_rules *from);
bool rules_text_hidden(const ctxpack_rules *r, size_t i);
/* The note a message that names a hidden rule ends with: "" when no rule
 * is hidden. */
const char *rules_hidden_note(const ctxpack_rules *r);

/* The single way a rule reaches a message: rule i as "'TEXT'" (escaped by
 * text_quote), or "<line N>" when its text is hidden; in buf (sz bytes). */
const char *rules_quote(const ctxpack_rules *r, size_t i, char *buf, size_t sz);
/* rules_quote into f, whatever the rule's length. */
void rules_fputq(FILE *f, const ctxpack_rules *r, size_t i);
/* Rule i for a report that lists rules (stats, check-ignore): *text and
 * *len are its bytes as they are (the report escapes them for its format),
 * or "<line N>" written into buf when hidden. */
void rules_shown(const ctxpack_rules *r, size_t i, char *buf, size_t sz, const char **text,
		 size_t *len);
/* "SOURCE:LINE: " (or "SOURCE: " for a rule without a line), before,
 * rules_quote(i), after, and rules_hidden_note when rule i is hidden:
 * every message about one rule is made here.  Written into out (outsz
 * bytes). */
void rules_message(const ctxpack_rules *r, size_t i, char *out, size_t outsz, const char *before,
		   const char *after);

/* patternmatcher.New over every rule: *out gets r->n patterns (free with
 * rules_patterns_release).  transport: first turn each pattern into valid
 * UTF-8 as BuildKit's JSON transport does.  On a PATTERN_* error, *bad is
 * the rule and msg says why. */
int rules_patterns(const ctxpack_rules *r, bool transport, struct pattern **out, size_t *bad,
		   char *msg, size_t msgsz);
void rules_patterns_release(struct pattern *pats, size_t n);

/* r's last error: why (pattern_init's message, or the transport's) in
 * rule i: "SOURCE:LINE: WHY in 'PATTERN'".  The one compile message. */
void rules_compile_error(ctxpack_rules *r, size_t i, int code, const char *why);

/* Every rule patternmatcher.New refuses, in order, in one pass (not just
 * the first, as compiling stops at): for each, r's last error is set to
 * it (as ctxpack_match_compile sets it) and each(arg, i) is called.
 * Returns 0 or -ENOMEM. */
int rules_each_pattern_error(ctxpack_rules *r, bool transport, void (*each)(void *arg, size_t i),
			     void *arg);

#endif
