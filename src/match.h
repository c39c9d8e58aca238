/* match.h: the compiled matcher (see match.c).  The interface is the public
 * one in ctxpack.h; this header adds what the walk and the CLI share. */
#ifndef CTXPACK_MATCH_H
#define CTXPACK_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxpack/ctxpack.h"

/* The message for a path the matcher refused to decide (rc -EINVAL: the
 * rule does not compile as a Go regexp, Docker fails when it evaluates
 * it; -ENOTSUP: a Go construct ctxpack does not reproduce) because of
 * rule (-1: unknown), evaluated for path[0..plen): made once, for the walk,
 * check-ignore and the library's explain.  Written into out (outsz bytes). */
void match_refusal_message(const ctxpack_match *m, long rule, int rc, const char *path,
			   size_t plen, char *out, size_t outsz);
struct rules_error;
/* The same refusal as data into *out (release it with rules_error_release):
 * code rc, the rule's source, line and index, path, the message. */
void match_refusal(const ctxpack_match *m, long rule, int rc, const char *path, size_t plen,
		   struct rules_error *out);

/* dst := src (both made for the same matcher). */
void match_state_copy(ctxpack_mstate *dst, const ctxpack_mstate *src);

/* Can no rule of m match anything below a directory whose state is st?
 * True when no pattern is under way (no active node), no rule matched the
 * directory or above it (none recorded for the parent results), and m has
 * no pattern matched on the whole path or refused when evaluated. */
bool match_state_settled(const ctxpack_match *m, const ctxpack_mstate *st);

#endif
