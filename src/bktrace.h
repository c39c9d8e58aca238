/* bktrace.h: BuildKit's progress (the engine's moby.buildkit.trace
 * messages: base64 of a StatusResponse protobuf) shown as docker build
 * --progress shows it.
 *
 * PLACEHOLDER: this interface is the real decoder's; the implementation in
 * bktrace.c only counts the messages it is fed, and is replaced by the
 * decoder when that lands. */
#ifndef CTXPACK_BKTRACE_H
#define CTXPACK_BKTRACE_H

#include <stddef.h>
#include <stdio.h>

struct bktrace;
enum bktrace_mode { BKTRACE_PLAIN, BKTRACE_TTY, BKTRACE_QUIET };

/* A decoder writing to out; NULL: out of memory. */
struct bktrace *bktrace_new(FILE *out, enum bktrace_mode mode);
/* One aux value (base64): 0, or -EBADMSG / -ENOMEM. */
int bktrace_feed_base64(struct bktrace *t, const char *b64, size_t n);
/* Flushes (the tty view's last frame). */
void bktrace_finish(struct bktrace *t);
void bktrace_free(struct bktrace *t);

#endif
