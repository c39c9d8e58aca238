/* build.h: a build on the engine (POST /build): the request as the docker
 * CLI makes it (imageBuildOptionsToQuery), the context pack makes as its
 * body, the engine's answer read (the JSON message stream: the classic
 * builder's stream, status, error and aux ID messages, BuildKit's
 * moby.buildkit.trace) and --skip-unchanged's labels and image check.
 *
 * It knows the request and the messages, not their rendering: what a
 * message shows is handed to the caller's hooks (the program prints it,
 * the library's ctxpack_engine_build hands it on), BuildKit's trace as
 * the aux string bktrace decodes.  Every failure is a negative errno with
 * the message in err, as the program prints it after "ctxpack: ". */
#ifndef CTXPACK_BUILD_H
#define CTXPACK_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctxpack/ctxpack.h"
#include "tarwriter.h"

struct engine_addr;
struct hashcache;
struct pack_session;

/* The longest message line the engine may send (a BuildKit trace carries
 * a step's log output). */
#define BUILD_MESSAGE_MAX (64u << 20)

#define BUILD_LABEL_CONTEXT "ctxpack.context"
#define BUILD_LABEL_BUILD "ctxpack.build"

/* What docker build's options put in the request. */
struct build_request {
	enum ctxpack_builder builder; /* version=1 (classic) or 2 */
	const char **tags;	      /* -t, in order */
	size_t ntags;
	const char **build_args; /* "K=V", or "K" alone: sent as null */
	size_t nbuild_args;
	/* The build args the docker CLI adds from its config.json's proxies
	 * (engine_proxy_args), "K=V": sent with build_args, which win for
	 * the keys they name (a bare "K" there too: sent as null). */
	const char *const *proxy_args;
	size_t nproxy_args;
	const char **labels; /* "K=V" ("K" alone: "") */
	size_t nlabels;
	const char *target, *platform, *network; /* NULL: not sent */
	bool no_cache, pull, quiet;
	/* Label the image with the context's digest and the build's; send
	 * nothing when every tag names an image with both (needs a tag). */
	bool skip_unchanged;
	struct hashcache *cache; /* skip_unchanged: the hash cache (saved), or NULL */
	const char *dockerfile;	 /* -f as given (for messages), or NULL */
};

/* The caller's view of the answer.  A hook returning nonzero stops the
 * build (the connection is closed: the engine cancels it): build_run
 * returns -ECANCELED. */
struct build_hooks {
	void *arg;
	/* A message with something to show (jsonmessage.Display, not on a
	 * terminal): text[0..tn) to print as it is.  line[0..n) the message. */
	int (*text)(void *arg, const char *line, size_t n, const char *text, size_t tn);
	/* A moby.buildkit.trace message: b64[0..bn) its aux value. */
	int (*trace)(void *arg, const char *line, size_t n, const char *b64, size_t bn);
};

struct build_outcome {
	char *image_id;	    /* the image built (or found unchanged), malloc'd; NULL: none sent */
	bool failed;	    /* the builder failed the build: its message is err */
	bool skipped;	    /* skip_unchanged found the image: nothing sent */
	char *labels[2];    /* skip_unchanged: "ctxpack.context=..." and "ctxpack.build=..." */
	uint64_t sent;	    /* bytes of the body sent (the archive as compressed) */
	uint64_t tar_bytes; /* the uncompressed archive sent (0: none was) */
};

/* What no engine is asked for: zstd with BuildKit, a level the codec
 * does not take, skip_unchanged without a tag.  0, or -EINVAL with the
 * reason in err. */
int build_refuses(const struct build_request *rq, const struct tar_options *to, char *err,
		  size_t errsz);

/* Restricts ps (opened with list_all) to what the build rq describes
 * reads (buildview_restrict: its Dockerfile, build args, target), the
 * body `ctxpack build` sends unless asked for the whole context.  1 when
 * restricted; 0 when the Dockerfile cannot be read (why in why: the whole
 * context stays, the engine will say what it makes of the Dockerfile);
 * -ENOMEM.  pack_restrict(ps, NULL) gives the whole plan back. */
int build_restrict(struct pack_session *ps, const struct build_request *rq, char *why,
		   size_t whysz);

/* Runs the build of the session ps (opened with rq's builder and its
 * compression) on the engine at addr, speaking API version: its
 * skip_unchanged check, the request, the body, the answer handed to h.
 * 0 when the engine built the image (or skipped it); -EIO with
 * out->failed when the builder failed the build (its message in err);
 * another negative errno (message in err) when the engine could not be
 * reached, refused the request, broke off or answered what is not a
 * message stream.  Release out with build_outcome_release.  SIGPIPE must
 * be ignored. */
int build_run(struct pack_session *ps, const struct engine_addr *addr, const char *version,
	      const struct build_request *rq, const struct build_hooks *h,
	      struct build_outcome *out, char *err, size_t errsz);
void build_outcome_release(struct build_outcome *out);

#endif
