/* build.c: a build on the engine's POST /build (build.h): the request as
 * the docker CLI makes it, the archive pack makes as its body, the
 * engine's message stream read and handed to the caller's hooks, and
 * --skip-unchanged's labels and image check.  The program (`ctxpack
 * build`) and the library (ctxpack_engine_build) both run it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xxhash.h>

#include "build.h"
#include "buildview.h"
#include "dockerctx.h"
#include "engine.h"
#include "hashcache.h"
#include "hashfiles.h"
#include "imageref.h"
#include "internal.h"
#include "members.h"
#include "pack.h"

/* ---- the request ---- */

struct sbuf {
	char *p;
	size_t len, alloc;
};

static int sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (GROW(b->p, b->alloc, b->len + n + 1))
		return -ENOMEM;
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
	return 0;
}

/* One query parameter "&key=value" (url.Values: keys in order). */
static int q_param(struct sbuf *q, const char *key, const char *val, size_t n)
{
	int rc = sb_add(q, q->len ? "&" : "?");

	rc = rc ? rc : sb_add(q, key);
	rc = rc ? rc : sb_add(q, "=");
	return rc ? rc : engine_query_escape(&q->p, &q->len, &q->alloc, val, n);
}

/* A JSON object of KEY=VALUE strings (KEY alone: value null when
 * null_bare, else ""), as docker's ConvertKVStringsToMap[WithNil]; a
 * repeated KEY keeps its last value, the keys sorted (encoding/json). */
static int kv_json(struct sbuf *out, const char **v, size_t n, bool null_bare)
{
	size_t *order = calloc(n ? n : 1, sizeof(*order)), k = 0;
	int rc = 0;

	if (!order)
		return -ENOMEM;
	/* keep the last of each key, then sort by key: an insertion sort */
	for (size_t i = 0; i < n; i++) {
		size_t kl = strcspn(v[i], "="), j;
		bool later = false;

		for (j = i + 1; j < n; j++)
			if (strcspn(v[j], "=") == kl && !strncmp(v[j], v[i], kl))
				later = true;
		if (later)
			continue;
		for (j = k; j > 0; j--) {
			const char *o = v[order[j - 1]];
			size_t ol = strcspn(o, "="), m = ol < kl ? ol : kl;
			int c = memcmp(o, v[i], m);
			if (c < 0 || (c == 0 && ol <= kl))
				break;
			order[j] = order[j - 1];
		}
		order[j] = i;
		k++;
	}
	rc = sb_add(out, "{");
	for (size_t i = 0; !rc && i < k; i++) {
		const char *s = v[order[i]], *eq = strchr(s, '=');
		size_t kl = eq ? (size_t)(eq - s) : strlen(s);

		if (i)
			rc = sb_add(out, ",");
		rc = rc ? rc : engine_json_quote(&out->p, &out->len, &out->alloc, s, kl);
		rc = rc ? rc : sb_add(out, ":");
		if (!rc && !eq && null_bare)
			rc = sb_add(out, "null");
		else if (!rc)
			rc = engine_json_quote(&out->p, &out->len, &out->alloc, eq ? eq + 1 : "",
					       eq ? strlen(eq + 1) : 0);
	}
	rc = rc ? rc : sb_add(out, "}");
	free(order);
	return rc;
}

/* The build args of the request: the proxies' first, so that a key
 * build_args names keeps build_args' value (kv_json: the last wins), as
 * the docker CLI's ParseProxyConfig adds a proxy only where no build arg
 * is.  NULL-terminated; NULL when out of memory. */
static const char **all_build_args(const struct build_request *a, size_t *n)
{
	const char **v = calloc(a->nproxy_args + a->nbuild_args + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < a->nproxy_args; i++)
		v[i] = a->proxy_args[i];
	for (size_t i = 0; i < a->nbuild_args; i++)
		v[a->nproxy_args + i] = a->build_args[i];
	*n = a->nproxy_args + a->nbuild_args;
	return v;
}

/* The query string of POST /build, as the docker CLI's
 * imageBuildOptionsToQuery makes it (url.Values.Encode: keys sorted; only
 * the parameters ctxpack sets, the CLI's empty ones left out). */
static int build_query(struct sbuf *q, const struct build_request *a, const char *dockerfile)
{
	struct sbuf j = {0};
	char *lower = NULL;
	int rc = 0;

	/* alphabetical, as url.Values.Encode */
	if (a->nbuild_args || a->nproxy_args) {
		size_t n;
		const char **args = all_build_args(a, &n);

		rc = args ? kv_json(&j, args, n, true) : -ENOMEM;
		rc = rc ? rc : q_param(q, "buildargs", j.p, j.len);
		free(args);
	}
	rc = rc ? rc : q_param(q, "dockerfile", dockerfile, strlen(dockerfile));
	if (!rc && a->nlabels) {
		j.len = 0;
		rc = kv_json(&j, a->labels, a->nlabels, false);
		rc = rc ? rc : q_param(q, "labels", j.p, j.len);
	}
	if (!rc && a->network)
		rc = q_param(q, "networkmode", a->network, strlen(a->network));
	if (!rc && a->no_cache)
		rc = q_param(q, "nocache", "1", 1);
	if (!rc && a->platform) {
		/* the CLI sends it lower-cased */
		if (!(lower = strdup(a->platform)))
			rc = -ENOMEM;
		for (char *p = lower; !rc && *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		rc = rc ? rc : q_param(q, "platform", lower, strlen(lower));
	}
	if (!rc && a->pull)
		rc = q_param(q, "pull", "1", 1);
	if (!rc && a->quiet)
		rc = q_param(q, "q", "1", 1);
	rc = rc ? rc : q_param(q, "rm", "1", 1);
	for (size_t i = 0; !rc && i < a->ntags; i++)
		rc = q_param(q, "t", a->tags[i], strlen(a->tags[i]));
	if (!rc && a->target)
		rc = q_param(q, "target", a->target, strlen(a->target));
	if (!rc)
		rc = q_param(q, "version", a->builder == CTXPACK_BUILDER_CLASSIC ? "1" : "2", 1);
	free(lower);
	free(j.p);
	return rc;
}

/* ---- the body ---- */

struct pump {
	struct pack_session *ps;
	int fd;
	struct pack_report rep;
	int rc;
	char err[1024];
};

static void *pump_run(void *arg)
{
	struct pump *p = arg;

	p->rc = pack_write(p->ps, p->fd, &p->rep, p->err, sizeof(p->err));
	close(p->fd);
	return NULL;
}

/* Sends the archive as the request body.  Uncompressed, its exact size is
 * known before the first byte (pack_write's counting pass formats every
 * header and reads no file), so the body goes with Content-Length and the
 * tar writer writes straight into the socket: no framing, no copy through
 * a pipe of ours.  A file that changes under the walk makes pack_write
 * give the stream up short of that length; the connection is then shut,
 * the engine sees a cut body and builds nothing.  Compressed, the size is
 * only known at the end: the body is chunked, read from a pipe the tar
 * writer fills on a thread of its own.  Either way nothing holds more
 * than a buffer of the archive. */
static int send_build(struct engine *e, struct pack_session *ps, struct sbuf *head, bool compressed,
		      struct build_outcome *out, char *err, size_t errsz)
{
	struct pack_report rep;
	char line[64];
	int rc;

	if (!compressed) {
		rc = pack_write(ps, -1, &rep, err, errsz);
		if (rc)
			return rc;
		out->tar_bytes = rep.tar_bytes;
		snprintf(line, sizeof(line), "Content-Length: %llu\r\n\r\n",
			 (unsigned long long)rep.tar_bytes);
		if (sb_add(head, line))
			return set_errmsg(err, errsz, -ENOMEM, "out of memory");
		rc = engine_send(e, head->p, head->len, err, errsz);
		if (rc)
			return rc;
		{
			uint64_t want = rep.tar_bytes;
			int fd;

			rc = engine_body_begin(e, &fd, err, errsz);
			if (rc)
				return rc;
			rc = pack_write(ps, fd, &rep, err, errsz);
			rc = engine_body_end(e, rc, err, errsz);
			out->sent = rep.out_bytes;
			if (!rc && rep.out_bytes != want)
				rc = set_errmsg(
					err, errsz, -EIO,
					"the context changed while it was sent (%llu bytes, %llu announced)",
					(unsigned long long)rep.out_bytes,
					(unsigned long long)want);
		}
		return rc;
	}
	if (sb_add(head, "Transfer-Encoding: chunked\r\n\r\n"))
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	rc = engine_send(e, head->p, head->len, err, errsz);
	if (rc)
		return rc;
	{
		int pfd[2];
		pthread_t th;
		struct pump p = {.ps = ps};
		enum { CHUNK = 1 << 16 };
		char *buf = malloc(CHUNK);

		if (!buf)
			return set_errmsg(err, errsz, -ENOMEM, "out of memory");
		if (pipe2(pfd, O_CLOEXEC) < 0) {
			free(buf);
			return set_errmsg(err, errsz, -errno, "cannot make a pipe: %s",
					  strerror(errno));
		}
		p.fd = pfd[1];
		if ((rc = pthread_create(&th, NULL, pump_run, &p))) {
			close(pfd[0]);
			close(pfd[1]);
			free(buf);
			return set_errmsg(err, errsz, -rc, "cannot start the archiver: %s",
					  strerror(rc));
		}
		for (;;) {
			ssize_t k = read(pfd[0], buf, CHUNK);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			rc = engine_send_chunk(e, buf, (size_t)k, err, errsz);
			if (rc)
				break;
			out->sent += (uint64_t)k;
		}
		close(pfd[0]); /* a writer still writing gets EPIPE */
		pthread_join(th, NULL);
		free(buf);
		out->tar_bytes = p.rep.tar_bytes;
		if (!rc && p.rc)
			rc = set_errmsg(err, errsz, p.rc, "%s", p.err);
		if (!rc)
			rc = engine_send_chunk(e, NULL, 0, err, errsz);
	}
	return rc;
}

/* ---- the answer ---- */

struct progress_out {
	const struct build_hooks *h;
	bool quiet;   /* q=1 was sent */
	bool stopped; /* a hook said stop */
	char *image_id;
	char *error;
};

/* What a message shows, handed to the text hook: 0, or -ENOMEM. */
static int show_status(struct progress_out *po, const char *line, size_t n)
{
	char *id = NULL, *status = NULL, *prog = NULL, *stream = NULL;
	struct sbuf t = {0};
	size_t l;
	int rc = 0;

	if (!po->h->text) /* nobody shows it */
		return 0;
	if (engine_json_string(line, n, "id", &id, &l) < 0)
		return 0;
	engine_json_string(line, n, "stream", &stream, &l);
	engine_json_string(line, n, "status", &status, &l);
	engine_json_string(line, n, "progress", &prog, &l);
	/* jsonmessage.JSONMessage.Display, not on a terminal */
	if (stream || status) {
		if (id && *id)
			rc = sb_add(&t, id) || sb_add(&t, ": ") ? -ENOMEM : 0;
		if (!rc && status && prog && *prog)
			rc = sb_add(&t, status) || sb_add(&t, " ") || sb_add(&t, prog) ? -ENOMEM
										       : 0;
		else if (!rc && stream)
			rc = sb_add(&t, stream);
		else if (!rc)
			rc = sb_add(&t, status) || sb_add(&t, "\n") ? -ENOMEM : 0;
		if (!rc && po->h->text(po->h->arg, line, n, t.p, t.len))
			po->stopped = true;
	}
	free(t.p);
	free(id);
	free(status);
	free(prog);
	free(stream);
	return rc;
}

/* One message of the stream: 0, or -EBADMSG (not JSON), -ENOMEM. */
static int handle_message(struct progress_out *po, const char *line, size_t n)
{
	char *s = NULL;
	size_t l;
	int rc;

	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	if (!n)
		return 0;
	rc = engine_json_string(line, n, "errorDetail.message", &s, &l);
	if (rc == 0)
		rc = engine_json_string(line, n, "error", &s, &l);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		if (!po->error)
			po->error = s;
		else
			free(s);
		return 0;
	}
	rc = engine_json_string(line, n, "aux", &s, &l);
	if (rc == 1) {
		/* {"id":"moby.buildkit.trace","aux":"<base64>"} */
		if (po->h->trace && po->h->trace(po->h->arg, line, n, s, l))
			po->stopped = true;
		free(s);
		return 0;
	}
	rc = engine_json_string(line, n, "aux.ID", &s, &l);
	if (rc == 1) {
		free(po->image_id);
		po->image_id = s;
		return 0;
	}
	/* q=1: the engine's one message is the image ID as a stream */
	if (po->quiet && engine_json_string(line, n, "stream", &s, &l) == 1) {
		if (l >= 71 && !strncmp(s, "sha256:", 7) &&
		    strspn(s + 7, "0123456789abcdef") == 64 &&
		    (l == 71 || (l == 72 && s[71] == '\n'))) {
			s[71] = '\0';
			free(po->image_id);
			po->image_id = s;
			return 0;
		}
		free(s);
	}
	return show_status(po, line, n);
}

/* The engine's answer to a refused request: its JSON message, or the
 * status. */
static int refused(struct engine *e, const struct engine_response *r, const char *where, char *err,
		   size_t errsz)
{
	char *body = NULL, *msg = NULL, err2[512];
	size_t len, ml;
	int rc;

	if (!engine_read_all(e, &body, &len, 1 << 20, err2, sizeof(err2)) &&
	    engine_json_string(body, len, "message", &msg, &ml) == 1)
		rc = set_errmsg(err, errsz, -EIO, "the engine at %s refused the build (%d %s): %s",
				where, r->status, r->reason, msg);
	else
		rc = set_errmsg(err, errsz, -EIO, "the engine at %s refused the build (%d %s)",
				where, r->status, r->reason);
	free(body);
	free(msg);
	return rc;
}

static int digest_member(void *arg, const struct member *m)
{
	members_digester_add(arg, m);
	return 0;
}

/* --skip-unchanged: the two labels, into owned[0..2) (freed by the
 * caller).  The context's digest needs every file's bytes before the
 * request goes (the labels are in it): the files the hash cache does not
 * answer are read here and again to be sent. */
static int unchanged_labels(const struct build_request *a, struct pack_session *ps,
			    const char *dockerfile, char *owned[2], char *err, size_t errsz)
{
	struct build_request id = *a;
	struct hashcache *cache = a->cache;
	struct hashfiles_stats hs = {0};
	struct members_digester *dg = members_digester_new(false);
	struct sbuf q = {0};
	uint8_t d[16];
	char ctxhex[42], bhex[42], cerr[512];
	XXH128_hash_t h;
	int rc;

	if (!dg)
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	/* the context's digest, as `ctxpack digest` makes it (its cache) */
	rc = pack_hash(ps, NULL, cache, NULL, &hs, err, errsz);
	if (!rc)
		rc = pack_members_each(ps, digest_member, dg, err, errsz);
	if (cache && !rc)
		hashcache_save(cache, cerr, sizeof(cerr)); /* only an optimization */
	members_digester_finish(&dg, d);
	if (rc)
		return rc;
	members_digest_string(d, ctxhex);
	/* the build's: the query without what does not change the image */
	id.ntags = 0;
	id.quiet = id.no_cache = id.pull = false;
	if (build_query(&q, &id, dockerfile)) {
		free(q.p);
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	}
	h = XXH3_128bits(q.p, q.len);
	free(q.p);
	snprintf(bhex, sizeof(bhex), "xxh3-128:%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
	if (asprintf(&owned[0], BUILD_LABEL_CONTEXT "=%s", ctxhex) < 0 ||
	    asprintf(&owned[1], BUILD_LABEL_BUILD "=%s", bhex) < 0) {
		owned[0] = owned[1] = NULL; /* asprintf leaves them undefined */
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Whether every tag names one image whose labels are ours: 1 (its ID in
 * *image_id), 0, or a negative errno with err saying why. */
static int unchanged(const struct build_request *a, const struct engine_addr *addr,
		     const char *version, char *const labels[2], char **image_id, char *err,
		     size_t errsz)
{
	char *first = NULL;
	int rc = 1;

	for (size_t i = 0; rc == 1 && i < a->ntags; i++) {
		struct engine_response r;
		char path[600], *body = NULL, *id = NULL;
		size_t len, l;
		const char *t = a->tags[i];

		/* a reference's characters only: it goes into the path as is */
		if (strspn(t,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@") !=
			    strlen(t) ||
		    strlen(t) > 400)
			return 0; /* the engine will refuse it when it builds */
		snprintf(path, sizeof(path), "/v%s/images/%s/json", version, t);
		int g = engine_get(addr, path, &r, &body, &len, 16 << 20, err, errsz);

		if (g) {
			free(first);
			return g;
		}
		rc = r.status == 200;
		for (int k = 0; rc == 1 && k < 2; k++) {
			const char *eq = strchr(labels[k], '=');
			char key[64], *v = NULL;
			size_t vl;

			snprintf(key, sizeof(key), "%.*s", (int)(eq - labels[k]), labels[k]);
			rc = engine_json_string_keys(body, len,
						     (const char *const[]){"Config", "Labels", key},
						     3, &v, &vl) == 1 &&
			     !strcmp(v, eq + 1);
			free(v);
		}
		if (rc == 1 && engine_json_string(body, len, "Id", &id, &l) == 1 &&
		    (!first || !strcmp(first, id))) {
			if (!first) {
				first = id;
				id = NULL;
			}
		} else {
			rc = 0;
		}
		free(id);
		free(body);
	}
	if (rc == 1)
		*image_id = first;
	else
		free(first);
	return rc;
}

int build_restrict(struct pack_session *ps, const struct build_request *rq, char *why, size_t whysz)
{
	size_t n;
	const char **args = all_build_args(rq, &n);
	struct buildview_options bo = {.builder = rq->builder,
				       .build_args = args,
				       .target = rq->target,
				       .dfname = rq->dockerfile};
	int rc;

	if (!args)
		return set_errmsg(why, whysz, -ENOMEM, "out of memory");
	rc = buildview_restrict(ps, &bo, why, whysz);
	free(args);
	if (rc == -ENOMEM)
		return rc;
	return rc ? 0 : 1;
}

int build_refuses(const struct build_request *rq, const struct tar_options *to, char *err,
		  size_t errsz)
{
	if (rq->builder == CTXPACK_BUILDER_BUILDKIT && to->compression == TAR_ZSTD)
		/* measured on dockerd 26.1: its BuildKit reads a gzip body, not
		 * zstd (the Dockerfile is then read from the compressed bytes) */
		return set_errmsg(
			err, errsz, -EINVAL,
			"the engine's BuildKit does not read a zstd-compressed context; use --compress=gzip (or zstd with --builder=classic)");
	if (tar_options_check(to, err, errsz))
		return -EINVAL;
	if (rq->skip_unchanged && !rq->ntags)
		return set_errmsg(err, errsz, -EINVAL,
				  "--skip-unchanged needs a tag (-t) to compare the image with");
	/* as the docker CLI: a name it cannot parse is refused before
	 * anything is sent */
	for (size_t i = 0; i < rq->ntags; i++) {
		char why[400], q[300];
		int rc = imageref_check(rq->tags[i], why, sizeof(why));

		if (rc == -ENOMEM)
			return set_errmsg(err, errsz, rc, "out of memory");
		if (rc)
			return set_errmsg(
				err, errsz, rc, "invalid tag '%s': %s",
				text_quote(q, sizeof(q), rq->tags[i], strlen(rq->tags[i])), why);
	}
	return 0;
}

void build_outcome_release(struct build_outcome *out)
{
	free(out->image_id);
	free(out->labels[0]);
	free(out->labels[1]);
	memset(out, 0, sizeof(*out));
}

/* The request's head: the request line with the query, the headers up to
 * the body's framing (send_build adds it). */
static int build_head(struct sbuf *head, const struct engine_addr *addr, const char *version,
		      const struct build_request *a, const char *dockerfile)
{
	struct sbuf q = {0};
	char hostname[300];
	int rc;

	if (build_query(&q, a, dockerfile)) {
		free(q.p);
		return -ENOMEM;
	}
	engine_http_host(addr, hostname, sizeof(hostname));
	rc = sb_add(head, "POST /v") || sb_add(head, version) || sb_add(head, "/build") ||
			     sb_add(head, q.p) || sb_add(head, " HTTP/1.1\r\nHost: ") ||
			     sb_add(head, hostname) || sb_add(head, "\r\nUser-Agent: ctxpack/") ||
			     sb_add(head, ctxpack_version()) ||
			     sb_add(head, "\r\nContent-Type: application/x-tar\r\n")
		     ? -ENOMEM
		     : 0;
	free(q.p);
	return rc;
}

int build_run(struct pack_session *ps, const struct engine_addr *addr, const char *version,
	      const struct build_request *rq, const struct build_hooks *h,
	      struct build_outcome *out, char *err, size_t errsz)
{
	static const struct build_hooks none;
	struct build_request a = *rq;
	struct engine *e = NULL;
	struct engine_response resp;
	struct sbuf head = {0};
	const char *dfname;
	struct progress_out po = {.h = h ? h : &none, .quiet = rq->quiet};
	struct pack_report gen;
	const char **labels = NULL;
	const struct dockerctx *ctx;
	int rc;

	memset(out, 0, sizeof(*out));
	/* The Dockerfile's name in the archive: as given inside the context,
	 * or the name pack adds it under from outside (or standard input). */
	ctx = pack_context(ps);
	pack_generated(ps, &gen);
	dfname = gen.dockerfile_name[0] ? gen.dockerfile_name
		 : ctx->dockerfile_link ? ctx->dockerfile_link
		 : ctx->dockerfile	? ctx->dockerfile
					: "Dockerfile";
	if (a.skip_unchanged) {
		rc = unchanged_labels(&a, ps, dfname, out->labels, err, errsz);
		if (rc)
			goto out;
		/* the labels asked for, then ours */
		if (!(labels = calloc(a.nlabels + 2, sizeof(*labels)))) {
			rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < a.nlabels; i++)
			labels[i] = a.labels[i];
		labels[a.nlabels++] = out->labels[0];
		labels[a.nlabels++] = out->labels[1];
		a.labels = labels;
	}
	if (a.skip_unchanged && !a.pull && !a.no_cache) {
		rc = unchanged(&a, addr, version, out->labels, &out->image_id, err, errsz);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			out->skipped = true;
			rc = 0;
			goto out;
		}
	}
	if (build_head(&head, addr, version, &a, dfname)) {
		rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
		goto out;
	}
	rc = engine_connect(&e, addr, err, errsz);
	if (rc)
		goto out;
	rc = send_build(e, ps, &head, pack_compression(ps) != TAR_NONE, out, err, errsz);
	if (rc) {
		/* The engine may have answered (and closed) before reading it
		 * all: its answer says more than our broken pipe. */
		char err2[512];
		bool answered =
			(rc == -EPIPE || rc == -ECONNRESET) &&
			(engine_timeout(e, 5), !engine_response(e, &resp, err2, sizeof(err2)));

		if (answered && resp.status != 200) {
			rc = refused(e, &resp, addr->where, err, errsz);
		} else if (rc == -EPIPE || rc == -ECONNRESET) {
			char note[1024] = "";

			engine_note(e, note, sizeof(note));
			set_errmsg(
				err, errsz, rc,
				"the engine at %s closed the connection while the context was sent (%llu bytes sent): %s%s",
				addr->where, (unsigned long long)out->sent, strerror(-rc), note);
		} else {
			/* a failure of ours: cut the body short, so that the
			 * engine builds nothing from it */
			size_t n = strlen(err);

			shutdown(engine_fd(e), SHUT_RDWR);
			snprintf(err + n, errsz - n, "; nothing was built");
		}
		goto out;
	}
	rc = engine_response(e, &resp, err, errsz);
	if (rc)
		goto out;
	if (resp.status != 200) {
		rc = refused(e, &resp, addr->where, err, errsz);
		goto out;
	}
	for (;;) {
		char *line;
		size_t len;

		rc = engine_read_line(e, &line, &len, BUILD_MESSAGE_MAX, err, errsz);
		if (rc < 0) {
			size_t n = strlen(err);

			snprintf(err + n, errsz - n, "; the build's outcome is unknown");
			goto out;
		}
		if (rc == 0)
			break;
		rc = handle_message(&po, line, len);
		if (rc == -EBADMSG) {
			char qb[128];
			set_errmsg(
				err, errsz, rc,
				"malformed answer from the engine at %s: '%s' is not a JSON message",
				addr->where, text_quote(qb, sizeof(qb), line, len));
			goto out;
		}
		if (rc) {
			rc = set_errmsg(err, errsz, rc, "out of memory");
			goto out;
		}
		if (po.stopped) {
			rc = set_errmsg(
				err, errsz, -ECANCELED,
				"the build was stopped; the connection to the engine at %s was closed",
				addr->where);
			goto out;
		}
	}
	if (po.error) {
		out->failed = true;
		rc = set_errmsg(err, errsz, -EIO, "%s", po.error);
		goto out;
	}
	out->image_id = po.image_id;
	po.image_id = NULL;
	rc = 0;
out:
	free(po.image_id);
	free(po.error);
	free(labels);
	free(head.p);
	engine_close(&e);
	return rc;
}
