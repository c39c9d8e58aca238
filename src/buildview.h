/* buildview.h: the build's view of a context — its Dockerfile read as the
 * builder reads it, and each source it reads from the context resolved
 * against a walk of that context (used.h).
 *
 * The one place that turns (context, walk, Dockerfile, build arguments,
 * target, builder) into what the build reads: lint, stats, pack's used
 * set and suggest ask it, none reads the Dockerfile itself.  It knows
 * dockerctx (the Dockerfile's bytes), dockerfile (its syntax) and used
 * (the resolution), not output. */
#ifndef CTXPACK_BUILDVIEW_H
#define CTXPACK_BUILDVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "ctxpack/ctxpack.h"
#include "dockerfile.h"
#include "used.h"

struct dockerctx;
struct walk_result;

struct buildview_options {
	enum ctxpack_builder builder;
	const char *const *build_args; /* "K=V" (--build-arg), NULL-terminated, or NULL */
	const char *target;	       /* --target, or NULL: the last stage */
	/* The Dockerfile's name for messages when the context does not name
	 * it (outside the context, or read from stdin): NULL, "Dockerfile". */
	const char *dfname;
};

struct buildview {
	const char *dfname; /* the Dockerfile's name in messages */
	struct dockerfile *df;
	struct df_source *src; /* the target's context sources, in instruction order */
	size_t nsrc;
	struct used used; /* src resolved against the walk (used.v[i].src == &src[i]) */
	/* After a failure: the Dockerfile line concerned (0: none) and the
	 * reason without the "NAME:LINE: " prefix err starts with. */
	int errline;
	const char *reason;
};

/* Reads ctx's Dockerfile, parses it with o's build arguments, takes the
 * sources of o's target for o->builder and resolves them against res (a
 * walk with list_all of ctx for the same builder).  Release v with
 * buildview_close, also after a failure.  Returns 0, or a negative errno
 * with err ("NAME:LINE: reason", or the read's message) and v->errline,
 * v->reason: -EINVAL a Dockerfile the builder refuses (v->df->syntax set:
 * another frontend reads it), -ENOTSUP one ctxpack cannot read exactly,
 * -EFBIG / -E2BIG over a bound, -ENOMEM, or the read's errno. */
int buildview_open(struct buildview *v, struct dockerctx *ctx, const struct walk_result *res,
		   const struct buildview_options *o, char *err, size_t errsz);
void buildview_close(struct buildview *v);

struct pack_session;

/* Restricts the member plan of ps (opened with list_all) to what the
 * build reads: with BuildKit what it transfers (transfer_compute; a
 * source naming the root keeps everything), with the classic builder what
 * it reads (used_reads); pack_restrict adds the directories above, the
 * Dockerfile and the ignore file.  pack --used and ctxpack build ask it.
 * Returns 0, or a negative errno with the reason in err (a Dockerfile
 * that cannot be read: buildview_open's message; with BuildKit, one with a
 * `# syntax=` line: -ENOTSUP, the frontend it names decides; the plan
 * unchanged). */
int buildview_restrict(struct pack_session *ps, const struct buildview_options *o, char *err,
		       size_t errsz);

#endif
