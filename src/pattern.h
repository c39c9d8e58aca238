/* pattern.h: one .dockerignore pattern, exactly as moby/patternmatcher sees it.
 *
 * pattern_init does what patternmatcher.New does to one string (trim, clean,
 * '!', the eager filepath.Match syntax check) and what Pattern.compile does
 * lazily (classify as exact / prefix / suffix / regexp and build the Go
 * regexp source).  pattern_match is Pattern.match: the slow, obviously
 * faithful per-pattern test that the compiled matcher (match.c) is checked
 * against, and that it falls back to for patterns it cannot split into path
 * segments. */
#ifndef CTXPACK_PATTERN_H
#define CTXPACK_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "regex.h"

enum pat_type { PAT_EXACT, PAT_PREFIX, PAT_SUFFIX, PAT_REGEXP };

struct pattern {
	char *text;        /* cleanedPattern: cleaned, without the '!' */
	size_t len;
	bool exclusion;    /* the pattern started with '!' */
	enum pat_type type;
	char *restr;       /* PAT_REGEXP: the Go regexp source Docker builds */
	size_t relen;
	struct re_seq *re; /* PAT_REGEXP: parsed restr (NULL on a lazy error) */
	struct re_prog *prog;
	bool lazy_error;   /* restr does not compile: Docker fails when it evaluates it */
	bool unsupported;  /* with lazy_error: Go compiles it, ctxpack cannot reproduce it */
	char errmsg[160];  /* why, for lazy_error: "reason: 'quoted part of restr'" */
	size_t errwhat;    /* the length of the reason alone */
};

enum {
	PATTERN_OK = 0,
	PATTERN_EMPTY = 1,       /* nothing left after trimming: not a pattern */
	PATTERN_ESYNTAX = -2,    /* Docker refuses it up front (eager) */
	PATTERN_ENOMEM = -4,
};

/* Initialises p from raw (a string as handed to patternmatcher.New, e.g.
 * "!foo").  Returns a PATTERN_* code; on an error msg says why. */
int pattern_init(struct pattern *p, const char *raw, size_t len, char *msg, size_t msgsz);
void pattern_release(struct pattern *p);

/* Pattern.match on a slash-separated relative path: 1 match, 0 no match,
 * -1 the pattern has a lazy error (Docker fails here), -2 ctxpack cannot
 * reproduce the pattern (Docker would evaluate it here).  s must hold at least
 * pattern_prog_len(p) instructions. */
int pattern_match(const struct pattern *p, struct re_scratch *s, const char *path, size_t len);
size_t pattern_prog_len(const struct pattern *p);

/* Go's filepath.Clean for '/'-separated paths; out must hold len + 2 bytes.
 * Returns the cleaned length. */
size_t go_clean(const char *in, size_t len, char *out);

/* Go's strings.TrimSpace: sets *start and returns the trimmed length. */
size_t go_trim_space(const char *s, size_t len, size_t *start);

/* NULL when Go's filepath.Match(pattern, ".") reports no syntax error
 * (patternmatcher.New's only check: it stops at the first chunk that
 * cannot match "."), else what is wrong with the pattern. */
const char *go_match_syntax_err(const char *pat, size_t len);

/* Go's filepath.Match(pat, name) on '/'-separated names (a COPY source's
 * wildcard): 1 match, 0 no match, -1 ErrBadPattern. */
int go_filepath_match(const char *pat, size_t pn, const char *name, size_t nn);

#endif
