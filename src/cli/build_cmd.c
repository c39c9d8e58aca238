/* build_cmd.c: `ctxpack build` (the context pack makes, sent straight to
 * the engine's POST /build, and the build's progress shown). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xxhash.h>

#include "bktrace.h"
#include "commands.h"
#include "dockerctx.h"
#include "engine.h"
#include "hashcache.h"
#include "hashfiles.h"
#include "internal.h"
#include "members.h"
#include "outfile.h"
#include "pack.h"
#include "report.h"
#include "stats_run.h"

enum {
	OPT_BUILDER = 256,
	OPT_COMPRESS,
	OPT_LEVEL,
	OPT_BUILD_ARG,
	OPT_TARGET,
	OPT_PLATFORM,
	OPT_LABEL,
	OPT_NO_CACHE,
	OPT_PULL,
	OPT_NETWORK,
	OPT_IIDFILE,
	OPT_PROGRESS,
	OPT_CONTEXT,
	OPT_HOST,
	OPT_SESSION_ONLY,
	OPT_SECRET,
	OPT_SSH,
	OPT_CACHE_FROM,
	OPT_CACHE_TO,
	OPT_SKIP_UNCHANGED,
};

enum build_progress { BP_AUTO, BP_PLAIN, BP_TTY, BP_QUIET };

/* The longest message line the engine may send (a BuildKit trace carries
 * a step's log output). */
#define MESSAGE_MAX (64u << 20)

struct build_args {
	struct pack_options o;
	struct budgets b;
	const char **tags, **build_args, **labels;
	size_t ntags, nbuild_args, nlabels, atags, abuild_args, alabels;
	const char *target, *platform, *network, *iidfile, *context, *host;
	bool no_cache, pull, quiet, skip_unchanged, compress_set;
	enum build_progress progress;
};

static int build_opt(int id, const char *arg, void *payload)
{
	struct build_args *a = payload;
	long v;
	int rc = budget_opt(id, arg, &a->b);

	if (rc <= 0)
		return rc;
	switch (id) {
	case OPT_BUILDER:
		return parse_builder(arg, &a->o.builder);
	case 'f':
		a->o.dockerfile = arg;
		break;
	case 't':
		return strv_push(&a->tags, &a->ntags, &a->atags, arg);
	case OPT_BUILD_ARG:
		return strv_push(&a->build_args, &a->nbuild_args, &a->abuild_args, arg);
	case OPT_LABEL:
		return strv_push(&a->labels, &a->nlabels, &a->alabels, arg);
	case OPT_TARGET:
		a->target = arg;
		break;
	case OPT_PLATFORM:
		a->platform = arg;
		break;
	case OPT_NETWORK:
		a->network = arg;
		break;
	case OPT_IIDFILE:
		a->iidfile = arg;
		break;
	case OPT_CONTEXT:
		a->context = arg;
		break;
	case OPT_HOST:
		a->host = arg;
		break;
	case OPT_NO_CACHE:
		a->no_cache = true;
		break;
	case OPT_PULL:
		a->pull = true;
		break;
	case OPT_SKIP_UNCHANGED:
		a->skip_unchanged = true;
		break;
	case 'q':
		a->quiet = true;
		break;
	case OPT_PROGRESS:
		if (!strcmp(arg, "auto"))
			a->progress = BP_AUTO;
		else if (!strcmp(arg, "plain"))
			a->progress = BP_PLAIN;
		else if (!strcmp(arg, "tty"))
			a->progress = BP_TTY;
		else if (!strcmp(arg, "quiet"))
			a->progress = BP_QUIET;
		else {
			usage_error(
				NULL,
				"invalid argument '%s' for --progress: expected auto, plain, tty or quiet",
				arg);
			return -1;
		}
		break;
	case OPT_COMPRESS:
		a->compress_set = true;
		return parse_compress(arg, &a->o.tar.compression);
	case OPT_LEVEL:
		if (opts_int("level", arg, 1, 22, &v))
			return -1;
		a->o.tar.level = (int)v;
		break;
	case OPT_SECRET:
	case OPT_SSH:
	case OPT_CACHE_FROM:
	case OPT_CACHE_TO:
		usage_error(
			NULL,
			"--%s needs a BuildKit session (the docker CLI's gRPC stream to the builder), which ctxpack build does not open; use docker buildx build for it",
			id == OPT_SECRET       ? "secret"
			: id == OPT_SSH	       ? "ssh"
			: id == OPT_CACHE_FROM ? "cache-from"
					       : "cache-to");
		return -1;
	}
	return 0;
}

static const struct opt build_opts[] = {
	{"tag", 't', OPT_ARG_REQUIRED, "NAME",
	 "name and optionally tag the image (NAME[:TAG]; repeatable)", NULL, 0},
	{"file", 'f', OPT_ARG_REQUIRED, "DOCKERFILE",
	 "the Dockerfile, relative to the current directory (default DIR/Dockerfile; -: standard input)",
	 NULL, OPT_PATH_FILE},
	{"builder", OPT_BUILDER, OPT_ARG_REQUIRED, "B",
	 "buildkit (default; the engine's API version=2) or classic (version=1)", CHOICES_BUILDER,
	 0},
	{"build-arg", OPT_BUILD_ARG, OPT_ARG_REQUIRED, "NAME[=VALUE]",
	 "a build argument (repeatable; NAME alone takes the environment's value)", NULL, 0},
	{"target", OPT_TARGET, OPT_ARG_REQUIRED, "STAGE", "the build stage to build", NULL, 0},
	{"platform", OPT_PLATFORM, OPT_ARG_REQUIRED, "PLATFORM",
	 "the target platform (os/arch[/variant])", NULL, 0},
	{"label", OPT_LABEL, OPT_ARG_REQUIRED, "KEY=VALUE", "a label on the image (repeatable)",
	 NULL, 0},
	{"no-cache", OPT_NO_CACHE, OPT_ARG_NONE, NULL, "do not use the builder's cache", NULL, 0},
	{"pull", OPT_PULL, OPT_ARG_NONE, NULL, "always try to pull the base images", NULL, 0},
	{"network", OPT_NETWORK, OPT_ARG_REQUIRED, "MODE", "the network mode of RUN instructions",
	 NULL, 0},
	{"iidfile", OPT_IIDFILE, OPT_ARG_REQUIRED, "FILE", "write the image ID to FILE", NULL,
	 OPT_PATH_FILE},
	{"quiet", 'q', OPT_ARG_NONE, NULL, "no build output; print the image ID on success", NULL,
	 0},
	{"progress", OPT_PROGRESS, OPT_ARG_REQUIRED, "MODE", "auto (default), plain, tty or quiet",
	 "auto|plain|tty|quiet", 0},
	{"skip-unchanged", OPT_SKIP_UNCHANGED, OPT_ARG_NONE, NULL,
	 "label the image with the context's digest and the build's; send nothing when every tag names an image with the same labels",
	 NULL, 0},
	{"compress", OPT_COMPRESS, OPT_ARG_REQUIRED, "C",
	 "send the context compressed: none, gzip, or zstd (classic builder only); default gzip to a remote engine, none to a unix socket",
	 "none|gzip|zstd", 0},
	{"level", OPT_LEVEL, OPT_ARG_REQUIRED, "N", "compression level", NULL, 0},
	{"context", OPT_CONTEXT, OPT_ARG_REQUIRED, "NAME",
	 "the docker context naming the engine (default: $DOCKER_CONTEXT, the CLI configuration's current one)",
	 NULL, 0},
	{"host", OPT_HOST, OPT_ARG_REQUIRED, "URL",
	 "the engine: unix://SOCKET, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT] (default: $DOCKER_HOST, else the context's)",
	 NULL, 0},
	BUDGET_OPTS,
	{"secret", OPT_SECRET, OPT_ARG_REQUIRED, "SPEC", "refused: needs a BuildKit session", NULL,
	 0},
	{"ssh", OPT_SSH, OPT_ARG_REQUIRED, "SPEC", "refused: needs a BuildKit session", NULL, 0},
	{"cache-from", OPT_CACHE_FROM, OPT_ARG_REQUIRED, "SPEC",
	 "refused: needs a BuildKit session", NULL, 0},
	{"cache-to", OPT_CACHE_TO, OPT_ARG_REQUIRED, "SPEC", "refused: needs a BuildKit session",
	 NULL, 0},
	{NULL, 0, 0, NULL, NULL, NULL, 0},
};

static const char build_details[] =
	"Builds DIR (default: the current directory) on the engine: the archive\n"
	"`ctxpack pack` makes for the chosen builder, byte for byte, is the body of\n"
	"the Engine API's POST /build, with the parameters docker build sends.  No\n"
	"docker CLI is involved, so BuildKit gets the context as one upload, like\n"
	"`ctxpack pack DIR | docker build -` but without the CLI's hop (bench/README.md).\n"
	"\n"
	"The engine is found as the docker CLI finds it: --host; --context; DOCKER_HOST;\n"
	"DOCKER_CONTEXT; the currentContext of $DOCKER_CONFIG/config.json (default\n"
	"~/.docker); unix:///var/run/docker.sock.  unix://, tcp:// and ssh:// are\n"
	"spoken.  TLS as the docker CLI: DOCKER_TLS_VERIFY=1 verifies the engine\n"
	"against ca.pem and offers cert.pem and key.pem (when both are there)\n"
	"from DOCKER_CERT_PATH (default the config directory); DOCKER_TLS=1 is\n"
	"TLS without verification; a context's TLS material and SkipTLSVerify\n"
	"are used as docker uses them.  ssh://[USER@]HOST[:PORT]\n"
	"runs `ssh -o ConnectTimeout=30 -T [-l USER] [-p PORT] -- HOST docker\n"
	"system dial-stdio` (ssh from PATH) and speaks HTTP over it.  The API\n"
	"version is the lower of ctxpack's (" ENGINE_API_VERSION
	") and the engine's (GET /_ping).\n"
	"\n"
	"--compress defaults to gzip when the engine is remote (tcp://, ssh://)\n"
	"and to none on a unix socket; --compress=none sends it uncompressed.\n"
	"\n"
	"Output: the classic builder's messages on stdout as docker build prints\n"
	"them; BuildKit's progress on stderr; -q prints only the image ID.  What\n"
	"needs a BuildKit session (--secret, --ssh, --cache-from, --cache-to) is\n"
	"refused.  Ctrl-C closes the connection, which cancels the build.\n"
	"\n"
	"--skip-unchanged labels the image ctxpack.context (the context's digest, as\n"
	"`ctxpack digest` prints it, through the same hash cache) and ctxpack.build\n"
	"(a digest of the builder, the Dockerfile's name, build args, labels, target,\n"
	"platform and network: the Dockerfile's bytes are in the context).  When\n"
	"every -t names an image carrying both, equal, nothing is sent: one line\n"
	"says so (-q and --iidfile give that image's ID).  --pull and --no-cache\n"
	"always build.  Files are then read twice when the build runs: once for\n"
	"the digest (the labels go in the request, before the body), once to send.\n"
	"\n"
	"Exit status: 0 the image was built; 1 it was not (the builder's message, or\n"
	"where ctxpack looked for the engine, on stderr); 2 usage error; 4 a budget\n"
	"is broken (nothing sent).\n";

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

/* The query string of POST /build, as the docker CLI's
 * imageBuildOptionsToQuery makes it (url.Values.Encode: keys sorted; only
 * the parameters ctxpack sets, the CLI's empty ones left out). */
static int build_query(struct sbuf *q, const struct build_args *a, const char *dockerfile)
{
	struct sbuf j = {0};
	char *lower = NULL;
	int rc = 0;

	/* alphabetical, as url.Values.Encode */
	if (a->nbuild_args) {
		rc = kv_json(&j, a->build_args, a->nbuild_args, true);
		rc = rc ? rc : q_param(q, "buildargs", j.p, j.len);
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
		rc = q_param(q, "version", a->o.builder == CTXPACK_BUILDER_CLASSIC ? "1" : "2", 1);
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
		      uint64_t *sent, char *err, size_t errsz)
{
	struct pack_report rep;
	char line[64];
	int rc;

	if (!compressed) {
		rc = pack_write(ps, -1, &rep, err, errsz);
		if (rc)
			return rc;
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
			*sent = rep.out_bytes;
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
		static char buf[1 << 16];

		if (pipe2(pfd, O_CLOEXEC) < 0)
			return set_errmsg(err, errsz, -errno, "cannot make a pipe: %s",
					  strerror(errno));
		p.fd = pfd[1];
		if ((rc = pthread_create(&th, NULL, pump_run, &p))) {
			close(pfd[0]);
			close(pfd[1]);
			return set_errmsg(err, errsz, -rc, "cannot start the archiver: %s",
					  strerror(rc));
		}
		for (;;) {
			ssize_t k = read(pfd[0], buf, sizeof(buf));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			rc = engine_send_chunk(e, buf, (size_t)k, err, errsz);
			if (rc)
				break;
			*sent += (uint64_t)k;
		}
		close(pfd[0]); /* a writer still writing gets EPIPE */
		pthread_join(th, NULL);
		if (!rc && p.rc)
			rc = set_errmsg(err, errsz, p.rc, "%s", p.err);
		if (!rc)
			rc = engine_send_chunk(e, NULL, 0, err, errsz);
	}
	return rc;
}

/* ---- the answer ---- */

struct progress_out {
	FILE *out; /* the classic builder's messages: stdout */
	bool quiet;
	struct bktrace *trace; /* BuildKit's trace, on stderr */
	char *image_id;
	char *error;
	int trace_errors;
};

static void show_status(struct progress_out *po, const char *line, size_t n)
{
	char *id = NULL, *status = NULL, *prog = NULL, *stream = NULL;
	size_t l;

	if (engine_json_string(line, n, "id", &id, &l) < 0)
		return;
	engine_json_string(line, n, "stream", &stream, &l);
	engine_json_string(line, n, "status", &status, &l);
	engine_json_string(line, n, "progress", &prog, &l);
	/* jsonmessage.JSONMessage.Display, not on a terminal */
	if (stream || status) {
		if (id && *id)
			fprintf(po->out, "%s: ", id);
		if (status && prog && *prog)
			fprintf(po->out, "%s %s", status, prog);
		else if (stream)
			fputs(stream, po->out);
		else
			fprintf(po->out, "%s\n", status);
		fflush(po->out);
	}
	free(id);
	free(status);
	free(prog);
	free(stream);
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
		if (po->trace && bktrace_feed_base64(po->trace, s, l))
			po->trace_errors++;
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
	if (!po->quiet)
		show_status(po, line, n);
	return 0;
}

/* The engine's answer to a refused request: its JSON message, or the
 * status. */
static void refused(struct engine *e, const struct engine_response *r, const char *where)
{
	char *body = NULL, *msg = NULL, err[512];
	size_t len, ml;

	if (!engine_read_all(e, &body, &len, 1 << 20, err, sizeof(err)) &&
	    engine_json_string(body, len, "message", &msg, &ml) == 1)
		fprintf(stderr, "ctxpack: the engine at %s refused the build (%d %s): %s\n", where,
			r->status, r->reason, msg);
	else
		fprintf(stderr, "ctxpack: the engine at %s refused the build (%d %s)\n", where,
			r->status, r->reason);
	free(body);
	free(msg);
}

static int write_iidfile(const char *path, const char *id)
{
	struct outfile o = {0};
	FILE *f;

	if (outfile_open(&o, path) || !(f = outfile_stream(&o))) {
		outfile_abort(&o);
		return -1;
	}
	fputs(id, f); /* as docker build --iidfile: the ID, no newline */
	return outfile_commit(&o);
}

static int digest_member(void *arg, const struct member *m)
{
	members_digester_add(arg, m);
	return 0;
}

#define LABEL_CONTEXT "ctxpack.context"
#define LABEL_BUILD "ctxpack.build"

/* --skip-unchanged: the two labels, added to a->labels (their strings in
 * owned[0..2), freed by the caller).  The context's digest needs every
 * file's bytes before the request goes (the labels are in it): the files
 * the hash cache does not answer are read here and again to be sent. */
static int unchanged_labels(struct build_args *a, struct pack_session *ps, const char *dockerfile,
			    char *owned[2], char *err, size_t errsz)
{
	struct build_args id = *a;
	struct hashcache *cache = NULL;
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
	if (hashcache_open(&cache, NULL, cerr, sizeof(cerr)))
		cache = NULL; /* only an optimization */
	rc = pack_hash(ps, NULL, cache, NULL, &hs, err, errsz);
	if (!rc)
		rc = pack_members_each(ps, digest_member, dg, err, errsz);
	if (cache && !rc)
		hashcache_save(cache, cerr, sizeof(cerr));
	hashcache_free(&cache);
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
	if (asprintf(&owned[0], LABEL_CONTEXT "=%s", ctxhex) < 0 ||
	    asprintf(&owned[1], LABEL_BUILD "=%s", bhex) < 0)
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	if (strv_push(&a->labels, &a->nlabels, &a->alabels, owned[0]) ||
	    strv_push(&a->labels, &a->nlabels, &a->alabels, owned[1]))
		return -ENOMEM;
	return 0;
}

/* Whether every tag names one image whose labels are ours: 1 (its ID in
 * *image_id), 0, or -1 after printing why. */
static int unchanged(const struct build_args *a, const struct engine_addr *addr,
		     const char *version, const char *labels[2], char **image_id)
{
	char *first = NULL;
	int rc = 1;

	for (size_t i = 0; rc == 1 && i < a->ntags; i++) {
		struct engine_response r;
		char path[600], err[1024], *body = NULL, *id = NULL;
		size_t len, l;
		const char *t = a->tags[i];

		/* a reference's characters only: it goes into the path as is */
		if (strspn(t,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@") !=
			    strlen(t) ||
		    strlen(t) > 400)
			return 0; /* the engine will refuse it when it builds */
		snprintf(path, sizeof(path), "/v%s/images/%s/json", version, t);
		if (engine_get(addr, path, &r, &body, &len, 16 << 20, err, sizeof(err))) {
			fprintf(stderr, "ctxpack: %s\n", err);
			free(first);
			return -1;
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

static int run_build(struct build_args *a)
{
	struct engine_env env = {
		.host = a->host,
		.context = a->context,
		.docker_host = getenv("DOCKER_HOST"),
		.docker_context = getenv("DOCKER_CONTEXT"),
		.docker_config = getenv("DOCKER_CONFIG"),
		.home = getenv("HOME"),
		.tls_verify = getenv("DOCKER_TLS_VERIFY"),
		.tls = getenv("DOCKER_TLS"),
		.cert_path = getenv("DOCKER_CERT_PATH"),
	};
	char err[1024] = "", version[16], hostname[300];
	struct engine_addr addr;
	struct pack_session *ps = NULL;
	struct engine *e = NULL;
	struct engine_response resp;
	struct sbuf q = {0}, df = {0}, head = {0};
	struct progress_out po = {.out = stdout};
	struct pack_report gen;
	char *owned_labels[2] = {NULL, NULL};
	uint64_t sent = 0;
	const struct dockerctx *ctx;
	int rc, status = 1;

	if (engine_resolve(&addr, &env, err, sizeof(err)) ||
	    engine_ping(&addr, version, err, sizeof(err))) {
		fprintf(stderr, "ctxpack: %s\n", err);
		return 1;
	}
	/* a remote engine's upload is the slow part: gzip unless told */
	if (!a->compress_set && engine_is_remote(&addr))
		a->o.tar.compression = TAR_GZIP;
	if (budgets_any(&a->b)) {
		a->o.list_all = true;
		a->o.measure_pruned = a->b.min_reduction_set;
	}
	rc = pack_open(&ps, &a->o, err, sizeof(err));
	if (!rc && budgets_any(&a->b)) {
		struct stats s = {0};
		struct report r;
		struct pack_report rep;

		rc = stats_measure(ps, &a->o, 10, a->b.fail_dead ? STATS_USES_ALL : STATS_USES_NONE,
				   NULL, &s, &r, err, sizeof(err));
		if (!rc && a->b.max_size_set) {
			rc = pack_write(ps, -1, &rep, err, sizeof(err));
			r.tar_bytes = rep.tar_bytes;
		}
		if (!rc && budgets_check(&r, &a->b)) {
			budgets_print_broken(stderr, &r);
			stats_free(&s);
			status = EXIT_BUDGET;
			goto out;
		}
		stats_free(&s);
	}
	if (rc) {
		fprintf(stderr, "ctxpack: %s\n", err);
		goto out;
	}
	/* The Dockerfile's name in the archive: as given inside the context,
	 * or the name pack adds it under from outside (or standard input). */
	ctx = pack_context(ps);
	pack_generated(ps, &gen);
	if (sb_add(&df, gen.dockerfile_name[0] ? gen.dockerfile_name
			: ctx->dockerfile_link ? ctx->dockerfile_link
			: ctx->dockerfile      ? ctx->dockerfile
					       : "Dockerfile") ||
	    (a->skip_unchanged &&
	     unchanged_labels(a, ps, df.p, owned_labels, err, sizeof(err)) == -ENOMEM)) {
		fprintf(stderr, "ctxpack: out of memory\n");
		goto out;
	}
	if (a->skip_unchanged && !owned_labels[1]) {
		fprintf(stderr, "ctxpack: %s\n", err);
		goto out;
	}
	if (a->skip_unchanged && !a->pull && !a->no_cache) {
		const char *labels[2] = {owned_labels[0], owned_labels[1]};
		int u = unchanged(a, &addr, version, labels, &po.image_id);

		if (u < 0)
			goto out;
		if (u == 1) {
			if (!a->quiet)
				fprintf(stderr,
					"ctxpack: %s is up to date (%s, %s): nothing sent\n",
					a->tags[0], labels[0], labels[1]);
			goto done;
		}
	}
	if (build_query(&q, a, df.p)) {
		fprintf(stderr, "ctxpack: out of memory\n");
		goto out;
	}
	engine_http_host(&addr, hostname, sizeof(hostname));
	if (sb_add(&head, "POST /v") || sb_add(&head, version) || sb_add(&head, "/build") ||
	    sb_add(&head, q.p) || sb_add(&head, " HTTP/1.1\r\nHost: ") || sb_add(&head, hostname) ||
	    sb_add(&head, "\r\nUser-Agent: ctxpack/") || sb_add(&head, ctxpack_version()) ||
	    sb_add(&head, "\r\nContent-Type: application/x-tar\r\n")) {
		fprintf(stderr, "ctxpack: out of memory\n");
		goto out;
	}
	if (engine_connect(&e, &addr, err, sizeof(err))) {
		fprintf(stderr, "ctxpack: %s\n", err);
		goto out;
	}
	rc = send_build(e, ps, &head, a->o.tar.compression != TAR_NONE, &sent, err, sizeof(err));
	if (rc) {
		/* The engine may have answered (and closed) before reading it
		 * all: its answer says more than our broken pipe. */
		char err2[512];
		bool answered =
			(rc == -EPIPE || rc == -ECONNRESET) &&
			(engine_timeout(e, 5), !engine_response(e, &resp, err2, sizeof(err2)));

		if (answered && resp.status != 200) {
			refused(e, &resp, addr.where);
		} else if (rc == -EPIPE || rc == -ECONNRESET) {
			char note[1024] = "";

			engine_note(e, note, sizeof(note));
			fprintf(stderr,
				"ctxpack: the engine at %s closed the connection while the context was sent (%llu bytes sent): %s%s\n",
				addr.where, (unsigned long long)sent, strerror(-rc), note);
		} else {
			/* a failure of ours: cut the body short, so that the
			 * engine builds nothing from it */
			shutdown(engine_fd(e), SHUT_RDWR);
			fprintf(stderr, "ctxpack: %s; nothing was built\n", err);
		}
		goto out;
	}
	if (engine_response(e, &resp, err, sizeof(err))) {
		fprintf(stderr, "ctxpack: %s\n", err);
		goto out;
	}
	if (resp.status != 200) {
		refused(e, &resp, addr.where);
		goto out;
	}
	po.quiet = a->quiet || a->progress == BP_QUIET;
	if (a->o.builder == CTXPACK_BUILDER_BUILDKIT) {
		enum bktrace_mode m =
			po.quiet ? BKTRACE_QUIET
			: a->progress == BP_TTY || (a->progress == BP_AUTO && isatty(STDERR_FILENO))
				? BKTRACE_TTY
				: BKTRACE_PLAIN;
		if (!(po.trace = bktrace_new(stderr, m))) {
			fprintf(stderr, "ctxpack: out of memory\n");
			goto out;
		}
	}
	for (;;) {
		char *line;
		size_t len;

		rc = engine_read_line(e, &line, &len, MESSAGE_MAX, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "ctxpack: %s; the build's outcome is unknown\n", err);
			goto out;
		}
		if (rc == 0)
			break;
		rc = handle_message(&po, line, len);
		if (rc == -EBADMSG) {
			char qb[128];
			fprintf(stderr,
				"ctxpack: malformed answer from the engine at %s: '%s' is not a JSON message\n",
				addr.where, text_quote(qb, sizeof(qb), line, len));
			goto out;
		}
		if (rc) {
			fprintf(stderr, "ctxpack: out of memory\n");
			goto out;
		}
	}
	if (po.trace)
		bktrace_finish(po.trace);
	if (po.error) {
		fprintf(stderr, "ctxpack: %s\n", po.error);
		goto out;
	}
done:
	if (!po.image_id && (a->quiet || a->iidfile)) {
		fprintf(stderr, "ctxpack: the engine at %s sent no image ID\n", addr.where);
		goto out;
	}
	if (a->iidfile && write_iidfile(a->iidfile, po.image_id))
		goto out;
	if (a->quiet)
		printf("%s\n", po.image_id);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		goto out;
	}
	status = 0;
out:
	if (po.trace)
		bktrace_free(po.trace);
	free(po.image_id);
	free(po.error);
	free(q.p);
	free(df.p);
	free(head.p);
	free(owned_labels[0]);
	free(owned_labels[1]);
	engine_close(&e);
	pack_close(&ps);
	return status;
}

/* --build-arg NAME without '=': the environment's value, as the docker
 * CLI's ValidateEnv (unset: sent as null). */
static int env_build_args(struct build_args *a, char ***owned, size_t *nowned)
{
	*owned = calloc(a->nbuild_args ? a->nbuild_args : 1, sizeof(**owned));
	*nowned = 0;
	if (!*owned)
		return -1;
	for (size_t i = 0; i < a->nbuild_args; i++) {
		const char *v;
		char *s;

		if (strchr(a->build_args[i], '=') || !(v = getenv(a->build_args[i])))
			continue;
		if (asprintf(&s, "%s=%s", a->build_args[i], v) < 0)
			return -1;
		(*owned)[(*nowned)++] = s;
		a->build_args[i] = s;
	}
	return 0;
}

static int cmd_build(const struct command *cmd, int argc, char **argv)
{
	struct build_args a = {.o = {.builder = CTXPACK_BUILDER_BUILDKIT, .dir = "."}};
	char **owned = NULL;
	size_t nowned = 0;
	int first = opts_parse(cmd, argc, argv, build_opt, &a), rc;

	if (context_arg(cmd, argc, argv, first, &a.o.dir)) {
		rc = first == -2 ? 0 : 2;
		goto out;
	}
	for (size_t i = 0; i < a.nbuild_args; i++)
		if (!a.build_args[i][0] || a.build_args[i][0] == '=') {
			usage_error(cmd,
				    "invalid argument '%s' for --build-arg: expected NAME[=VALUE]",
				    a.build_args[i]);
			rc = 2;
			goto out;
		}
	if (env_build_args(&a, &owned, &nowned)) {
		fprintf(stderr, "ctxpack: out of memory\n");
		rc = 1;
		goto out;
	}
	if (a.o.builder == CTXPACK_BUILDER_BUILDKIT && a.o.tar.compression == TAR_ZSTD) {
		/* measured on dockerd 26.1: its BuildKit reads a gzip body, not
		 * zstd (the Dockerfile is then read from the compressed bytes) */
		usage_error(
			cmd,
			"the engine's BuildKit does not read a zstd-compressed context; use --compress=gzip (or zstd with --builder=classic)");
		rc = 2;
		goto out;
	}
	if (a.skip_unchanged && !a.ntags) {
		usage_error(cmd, "--skip-unchanged needs a tag (-t) to compare the image with");
		rc = 2;
		goto out;
	}
	if (a.iidfile &&
	    outfile_distinct(cmd, (struct outfile_use[]){{"--iidfile", a.iidfile}}, 1)) {
		rc = 2;
		goto out;
	}
	/* The tar writer meets a closed connection as EPIPE, not a signal.
	 * SIGINT keeps its default: the process dies, the kernel closes the
	 * connection, the engine cancels the build (exit 130 in a shell). */
	signal(SIGPIPE, SIG_IGN);
	rc = run_build(&a);
out:
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(a.tags);
	free(a.build_args);
	free(a.labels);
	return rc;
}

const struct command build_command = {
	"build",
	"Build DIR on the Docker engine, sending the context ctxpack packs (no docker CLI).",
	"[DIR] [-t NAME]... [-f DOCKERFILE] [--builder=buildkit|classic] [--build-arg NAME=VALUE]... [--target STAGE] [-q]",
	build_details,
	build_opts,
	cmd_build,
	OPT_PATH_DIR, /* operands */
};
