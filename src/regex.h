/* regex.h: the part of Go's regexp syntax that Docker's patterns can reach.
 *
 * Docker (moby/patternmatcher) turns a wildcard pattern into a Go regular
 * expression and lets Go parse it, so a user's backslash escapes and
 * brackets reach Go's parser.  This module parses that regular expression
 * with Go's rules (Perl flags: negated classes match '\n', '.' does not,
 * '^'/'$' match only at the ends of the text) into a node tree, compiles a
 * node sequence into a small Thompson program and runs it as a Pike VM over
 * runes decoded as Go decodes them (utf8.h), so an invalid byte is U+FFFD.
 *
 * Docker escapes only . + ( ) $ (its escape bitmap loses every byte above
 * '?'), so '|', '{' and '}' reach Go too: alternation and counted
 * repetition are part of the syntax.  Constructs Go accepts but ctxpack does
 * not reproduce (\p{..} Unicode classes, \Q..\E, flag groups) are refused
 * with RE_EUNSUPPORTED: never matched approximately. */
#ifndef CTXPACK_REGEX_H
#define CTXPACK_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum re_kind {
	RE_LIT,    /* one rune */
	RE_CLASS,  /* a set of runes, as sorted inclusive ranges */
	RE_ANYNL,  /* '.', any rune but '\n' */
	RE_BEGIN,  /* '^' or \A */
	RE_END,    /* '$' or \z */
	RE_WORDB,  /* \b (ASCII word boundary) */
	RE_NWORDB, /* \B */
	RE_GROUP,  /* ( seq ) */
	RE_ALT,    /* alternatives: sub holds one RE_GROUP per branch */
};

enum re_rep { RE_ONE, RE_STAR, RE_QUEST, RE_COUNT /* {min,max}, max -1: unbounded */ };

struct re_seq;

struct re_node {
	uint8_t kind;      /* enum re_kind */
	uint8_t rep;       /* enum re_rep */
	int min, max;      /* RE_COUNT */
	uint32_t rune;     /* RE_LIT */
	uint32_t *ranges;  /* RE_CLASS: lo,hi pairs, sorted, disjoint */
	size_t nranges;    /* number of pairs */
	struct re_seq *sub; /* RE_GROUP */
};

struct re_seq {
	struct re_node *v;
	size_t n, alloc;
};

enum re_error {
	RE_OK = 0,
	RE_ENOMEM = 1,
	RE_ESYNTAX = 2,      /* Go's regexp.Compile would fail */
	RE_EUNSUPPORTED = 3, /* Go accepts it; ctxpack refuses it */
};

/* Parses a Go regular expression.  On success *out owns a tree to be freed
 * with re_seq_free.  On failure returns an re_error and writes a message
 * into msg (msgsz bytes): the reason, then ": '" and the construct quoted
 * by text_quote; *whatlen (when not NULL) gets the reason's length. */
int re_parse(struct re_seq **out, const char *re, size_t len, char *msg, size_t msgsz,
	     size_t *whatlen);
void re_seq_free(struct re_seq *s);

/* True when node can match rune r (RE_LIT, RE_CLASS, RE_ANYNL only). */
bool re_node_matches_rune(const struct re_node *n, uint32_t r);

struct re_prog;

/* Compiles nodes[0..n) into a program.  anchored: the program must match
 * the whole text (a segment); otherwise it searches, as Go's MatchString.
 * Returns NULL when out of memory. */
struct re_prog *re_compile(const struct re_node *nodes, size_t n, bool anchored);
void re_prog_free(struct re_prog *p);
size_t re_prog_len(const struct re_prog *p);

/* Scratch space for running programs of up to cap instructions; one per
 * thread, reused for every match. */
struct re_scratch {
	uint32_t *clist, *nlist, *mark, *stack;
	size_t cap;
	uint32_t gen;
};
int re_scratch_init(struct re_scratch *s, size_t cap);
void re_scratch_release(struct re_scratch *s);

/* Runs p on text[0..len).  s->cap must be >= re_prog_len(p).  No
 * allocation. */
bool re_run(const struct re_prog *p, struct re_scratch *s, const unsigned char *text, size_t len);

#endif
