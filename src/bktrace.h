/* bktrace.h: BuildKit's build progress (the Engine API's
 * "moby.buildkit.trace" messages) decoded and rendered.
 *
 * Each message's aux value is the base64 of one protobuf
 * moby.buildkit.v1.StatusResponse (buildkit's api/services/control/
 * control.proto: vertexes, statuses, logs, warnings).  bktrace decodes it
 * without a protobuf library (every length checked against the buffer,
 * unknown fields skipped, groups nested at most 16 deep) and renders the
 * build as buildx's progressui does: PLAIN as `docker build
 * --progress=plain` prints it (`#N [1/2] COPY ...`, `#N CACHED`, `#N DONE
 * 0.1s`, `#N ERROR: ...`, statuses, logs with their time offset, warnings,
 * and the failing steps' logs at the end), TTY as a compact live view, QUIET
 * not at all.  It knows protobuf bytes and the rendering, not HTTP or the
 * JSON framing around them: the caller hands it the aux string. */
#ifndef CTXPACK_BKTRACE_H
#define CTXPACK_BKTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct bktrace;

enum bktrace_mode { BKTRACE_PLAIN, BKTRACE_TTY, BKTRACE_QUIET };

/* A trace rendering to out (not closed by bktrace_free; NULL will do for
 * QUIET).  NULL: ENOMEM. */
struct bktrace *bktrace_new(FILE *out, enum bktrace_mode mode);

/* One aux value: n bytes of standard base64 (padded, as Go's encoding/json
 * writes []byte).  0, or -EBADMSG (not base64, not a StatusResponse,
 * larger than BKTRACE_MAX_MESSAGE) or -ENOMEM.  A message refused with
 * -EBADMSG changes nothing (it is decoded whole before it is applied);
 * after -ENOMEM the trace holds part of it. */
int bktrace_feed_base64(struct bktrace *t, const char *b64, size_t n);

/* One StatusResponse's protobuf bytes; as bktrace_feed_base64. */
int bktrace_feed(struct bktrace *t, const unsigned char *pb, size_t n);

#define BKTRACE_MAX_MESSAGE (16u << 20)

/* The least time between two renderings, in milliseconds: 100 (buildx's
 * display rate) unless set.  Messages that arrive sooner are kept and shown
 * at the next rendering, as buildx does.  0 renders after every message;
 * a negative value renders only in bktrace_refresh and bktrace_finish
 * (the whole build at once: deterministic, as the tests use it).  PLAIN
 * looks at the vertexes updated since its last rendering; the tty view
 * redraws its running vertexes and counts them all, so 0 costs it time in
 * the number of vertexes for every message. */
void bktrace_set_interval(struct bktrace *t, long ms);

/* Renders what the interval held back (for a caller whose stream has been
 * quiet for a while, as buildx's 150 ms ticker does). */
void bktrace_refresh(struct bktrace *t);

/* Flushes: the last rendering (the tty view's last frame) and, for PLAIN
 * and TTY, the logs of the steps that failed, as buildx prints them. */
void bktrace_finish(struct bktrace *t);

void bktrace_free(struct bktrace *t);

/* What the build did so far: vertexes seen (progress groups count once,
 * their members not), completed, cached, failed. */
struct bktrace_counts {
	size_t vertexes, completed, cached, errors;
};
void bktrace_counts(const struct bktrace *t, struct bktrace_counts *out);

/* The first vertex (in the order they started) that failed: its name
 * (e.g. "[2/2] COPY missing.txt /m") and error, NUL-terminated (so cut
 * at a NUL the engine's bytes may hold), owned by the trace.  false when
 * none failed. */
bool bktrace_failure(const struct bktrace *t, const char **name, const char **error);

#endif
