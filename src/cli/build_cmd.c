/* build_cmd.c: `ctxpack build` (the context pack makes, sent straight to
 * the engine's POST /build by build_run, src/build.c, and the build's
 * progress shown). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bktrace.h"
#include "build.h"
#include "commands.h"
#include "engine.h"
#include "hashcache.h"
#include "internal.h"
#include "outfile.h"
#include "pack.h"
#include "report.h"
#include "stats_run.h"

enum {
	OPT_COMPRESS = 256,
	OPT_LEVEL,
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
	OPT_WHOLE_CONTEXT,
	OPT_STATS,
};

enum build_progress { BP_AUTO, BP_PLAIN, BP_TTY, BP_QUIET };

struct build_args {
	struct pack_options o;
	struct budgets b;
	const char **tags, **build_args, **labels;
	size_t ntags, nbuild_args, nlabels, atags, abuild_args, alabels;
	const char *target, *platform, *network, *iidfile, *context, *host;
	bool no_cache, pull, quiet, skip_unchanged, whole_context, compress_set;
	bool stats;
	const char *stats_file; /* --stats=FILE: JSON there; --stats: text on stderr */
	enum color_mode color;	/* of the --stats report */
	enum build_progress progress;
};

static int build_opt(int id, const char *arg, void *payload)
{
	struct build_args *a = payload;
	long v;
	int rc = common_opt(id, arg, COMMON_DEST(a, .color = &a->color, .budgets = &a->b));

	if (rc <= 0)
		return rc;
	switch (id) {
	case 't':
		return strv_push(&a->tags, &a->ntags, &a->atags, arg);
	case OPT_LABEL:
		return strv_push(&a->labels, &a->nlabels, &a->alabels, arg);
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
	case OPT_WHOLE_CONTEXT:
		a->whole_context = true;
		break;
	case OPT_SKIP_UNCHANGED:
		a->skip_unchanged = true;
		break;
	case OPT_STATS:
		a->stats = true;
		a->stats_file = arg;
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
	 "name and optionally tag the image (NAME[:TAG]; repeatable; checked as docker build checks it)",
	 NULL, 0},
	FILE_OPT,
	BUILDER_OPT("buildkit (default; the engine's API version=2) or classic (version=1)"),
	BUILD_ARG_OPT(BUILD_ARG_HELP),
	TARGET_OPT(TARGET_HELP),
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
	{"whole-context", OPT_WHOLE_CONTEXT, OPT_ARG_NONE, NULL,
	 "send the whole context, not only what the build reads", NULL, 0},
	{"skip-unchanged", OPT_SKIP_UNCHANGED, OPT_ARG_NONE, NULL,
	 "label the image with the context's digest and the build's; send nothing when every tag names an image with the same labels",
	 NULL, 0},
	{"compress", OPT_COMPRESS, OPT_ARG_REQUIRED, "C",
	 "send the context compressed: none, gzip, or zstd (classic builder only); default gzip to a remote engine, none to a unix socket",
	 "none|gzip|zstd", 0},
	{"level", OPT_LEVEL, OPT_ARG_REQUIRED, "N",
	 "compression level (without --compress: gzip at that level)", NULL, 0},
	{"context", OPT_CONTEXT, OPT_ARG_REQUIRED, "NAME",
	 "the docker context naming the engine (default: $DOCKER_CONTEXT, the CLI configuration's current one)",
	 NULL, 0},
	{"host", OPT_HOST, OPT_ARG_REQUIRED, "URL",
	 "the engine: unix://SOCKET, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT] (default: $DOCKER_HOST, else the context's)",
	 NULL, 0},
	{"stats", OPT_STATS, OPT_ARG_OPTIONAL, "FILE",
	 "after the build, the size report (as `ctxpack stats`, the archive as sent) on stderr, or as JSON into FILE",
	 NULL, OPT_PATH_FILE},
	COLOR_OPT("the --stats report"),
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
	"`ctxpack pack --used` makes for the chosen builder, byte for byte, is the\n"
	"body of the Engine API's POST /build, with the parameters docker build\n"
	"sends.  No docker CLI is involved, so BuildKit gets the context as one\n"
	"upload, like `ctxpack pack DIR | docker build -` but without the CLI's hop:\n"
	"on warm BuildKit rebuilds 4-6 times as fast as docker build DIR\n"
	"(bench/README.md).  The archive is sent whole on every build (BuildKit's\n"
	"incremental transfer needs its session): for large files that rarely\n"
	"change, --skip-unchanged sends nothing while the image is up to date.\n"
	"\n"
	"Only what the build reads is sent: with BuildKit what it would transfer for\n"
	"the Dockerfile (the paths its COPY/ADD/RUN --mount sources name; a source\n"
	"naming the context root sends everything), with the classic builder what\n"
	"the build reads, with the directories above it, the Dockerfile and the\n"
	"ignore file: the image is the same (tests/engine/).  A Dockerfile ctxpack\n"
	"cannot read sends the whole context, saying why; --whole-context always\n"
	"does (`ctxpack pack`'s archive).  --stats and budgets measure the context.\n"
	"With BuildKit, a Dockerfile outside the context travels in the archive as\n"
	".dockerfile.<hex> with a .dockerignore naming it, which the engine does not\n"
	"apply to an uploaded tar: COPY . copies both (as with the pipe).\n"
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
	"As docker build, the proxies of $DOCKER_CONFIG/config.json are build args:\n"
	"the entry of proxies named by the engine's host as the docker CLI writes\n"
	"it (unix:///var/run/docker.sock, tcp://HOST:PORT, a context's host as\n"
	"written), else proxies.default; httpProxy, httpsProxy, noProxy, ftpProxy\n"
	"and allProxy as HTTP_PROXY and http_proxy and so on, unless a --build-arg\n"
	"names that key.  Proxies the docker CLI cannot decode are an error.\n"
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
	"--stats reports, once the engine has built the image, what `ctxpack stats`\n"
	"reports for DIR (on stderr, or as JSON into FILE, as `ctxpack pack --stats`),\n"
	"its archive the body as sent: compression, level, bytes on the wire (null\n"
	"when --skip-unchanged sent nothing).\n"
	"\n"
	"Exit status: 0 the image was built; 1 it was not (the builder's message, or\n"
	"where ctxpack looked for the engine, on stderr); 2 usage error; 4 a budget\n"
	"is broken (nothing sent).\n";

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

/* The rendering of the engine's messages: the classic builder's on
 * stdout, BuildKit's trace on stderr (bktrace), nothing when quiet. */
struct progress_out {
	bool quiet;
	struct bktrace *trace;
};

static int show_text(void *arg, const char *line, size_t n, const char *text, size_t tn)
{
	(void)arg;
	(void)line;
	(void)n;
	fwrite(text, 1, tn, stdout);
	fflush(stdout);
	return 0;
}

static int show_trace(void *arg, const char *line, size_t n, const char *b64, size_t bn)
{
	struct progress_out *po = arg;

	(void)line;
	(void)n;
	if (po->trace)
		bktrace_feed_base64(po->trace, b64, bn); /* a message it cannot read: skipped */
	return 0;
}

/* What the options put in the request. */
static void request_of(const struct build_args *a, struct build_request *rq)
{
	*rq = (struct build_request){
		.builder = a->o.builder,
		.tags = a->tags,
		.ntags = a->ntags,
		.build_args = a->build_args,
		.nbuild_args = a->nbuild_args,
		.labels = a->labels,
		.nlabels = a->nlabels,
		.target = a->target,
		.platform = a->platform,
		.network = a->network,
		.no_cache = a->no_cache,
		.pull = a->pull,
		.quiet = a->quiet,
		.skip_unchanged = a->skip_unchanged,
		.dockerfile = a->o.dockerfile,
	};
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
	char err[1024] = "", version[16];
	struct engine_addr addr;
	struct pack_session *ps = NULL;
	struct progress_out po = {.quiet = a->quiet || a->progress == BP_QUIET};
	struct build_hooks hooks = {
		.arg = &po, .text = po.quiet ? NULL : show_text, .trace = show_trace};
	struct build_request rq;
	struct build_outcome res = {0};
	bool measure = a->stats || budgets_any(&a->b);
	struct stats s = {0};
	struct report r;
	struct outfile stats_out = {0};
	char cerr[512], **proxies = NULL;
	size_t nproxies = 0;
	int rc, status = 1;

	if (engine_locate(&addr, &env, version, &proxies, &nproxies, err, sizeof(err))) {
		fprintf(stderr, "ctxpack: %s\n", err);
		return 1;
	}
	/* a remote engine's upload is the slow part: gzip unless told */
	if (!a->compress_set && engine_is_remote(&addr))
		a->o.tar.compression = TAR_GZIP;
	request_of(a, &rq);
	rq.proxy_args = (const char *const *)proxies;
	rq.nproxy_args = nproxies;
	if (measure) {
		/* Sizes below pruned directories: for the report, and for
		 * --min-reduction; the other budgets do without them. */
		a->o.list_all = true;
		a->o.measure_pruned = a->stats || a->b.min_reduction_set;
	}
	if (!a->whole_context)
		a->o.list_all = true; /* the build's view resolves against every entry */
	rc = pack_open(&ps, &a->o, err, sizeof(err));
	if (!rc && measure) {
		struct pack_report rep;

		rc = stats_measure(ps, &a->o, 10,
				   a->stats_file || a->b.fail_dead ? STATS_USES_ALL
				   : a->stats			   ? STATS_USES_SHOWN
								   : STATS_USES_NONE,
				   NULL, &s, &r, err, sizeof(err));
		if (!rc && (a->stats || a->b.max_size_set)) {
			rc = pack_write(ps, -1, &rep, err, sizeof(err)); /* counts; reads nothing */
			r.tar_bytes = rep.tar_bytes;
		}
		if (!rc && budgets_check(&r, &a->b)) {
			budgets_print_broken(stderr, &r);
			status = EXIT_BUDGET;
			goto out;
		}
	}
	if (rc) {
		fprintf(stderr, "ctxpack: %s\n", err);
		goto out;
	}
	/* only what the build reads: after the measures above, which are of
	 * the context (as pack --used --stats) */
	if (!a->whole_context) {
		char why[512];

		rc = build_restrict(ps, &rq, why, sizeof(why));
		if (rc < 0) {
			fprintf(stderr, "ctxpack: %s\n", why);
			goto out;
		}
		if (rc == 0 && !a->quiet)
			fprintf(stderr,
				"ctxpack: the whole context is sent: cannot tell what the build "
				"reads: %s\n",
				why);
	}
	/* the context's digest through `ctxpack digest`'s cache */
	if (a->skip_unchanged && hashcache_open(&rq.cache, NULL, cerr, sizeof(cerr)))
		rq.cache = NULL; /* only an optimization */
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
	rc = build_run(ps, &addr, version, &rq, &hooks, &res, err, sizeof(err));
	if (po.trace && (!rc || res.failed) && !res.skipped)
		bktrace_finish(po.trace);
	if (rc) {
		fprintf(stderr, "ctxpack: %s\n", err);
		goto out;
	}
	if (res.skipped && !a->quiet)
		fprintf(stderr, "ctxpack: %s is up to date (%s, %s): nothing sent\n", a->tags[0],
			res.labels[0], res.labels[1]);
	if (!res.image_id && (a->quiet || a->iidfile)) {
		fprintf(stderr, "ctxpack: the engine at %s sent no image ID\n", addr.where);
		goto out;
	}
	if (a->iidfile && write_iidfile(a->iidfile, res.image_id))
		goto out;
	if (a->stats) {
		/* the archive as it went out (none: nothing was sent) */
		if (!res.skipped)
			stats_archive(&r, &a->o.tar, res.sent);
		if (stats_write(a->stats_file, a->color, &r, &stats_out) ||
		    outfile_commit(&stats_out))
			goto out;
	}
	if (a->quiet)
		printf("%s\n", res.image_id);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		goto out;
	}
	status = 0;
out:
	if (po.trace)
		bktrace_free(po.trace);
	hashcache_free(&rq.cache);
	build_outcome_release(&res);
	outfile_abort(&stats_out);
	stats_free(&s);
	pack_close(&ps);
	engine_strv_free(proxies);
	return status;
}

static int cmd_build(const struct command *cmd, int argc, char **argv)
{
	struct build_args a = {.o = {.builder = CTXPACK_BUILDER_BUILDKIT, .dir = "."},
			       .color = cli_color};
	struct build_request rq;
	struct outfile_use outs[2];
	char err[512];
	size_t nouts = 0;
	int first = opts_parse(cmd, argc, argv, build_opt, &a), rc;

	if (context_arg(cmd, argc, argv, first, &a.o.dir)) {
		rc = first == -2 ? 0 : 2;
		goto out;
	}
	/* --level alone: gzip at that level (to any engine) */
	if (a.o.tar.level && !a.compress_set) {
		a.o.tar.compression = TAR_GZIP;
		a.compress_set = true;
	}
	request_of(&a, &rq);
	if (build_refuses(&rq, &a.o.tar, err, sizeof(err))) {
		usage_error(cmd, "%s", err);
		rc = 2;
		goto out;
	}
	if (a.iidfile)
		outs[nouts++] = (struct outfile_use){"--iidfile", a.iidfile};
	if (a.stats_file)
		outs[nouts++] = (struct outfile_use){"--stats", a.stats_file};
	if (nouts && outfile_distinct(cmd, outs, nouts)) {
		rc = 2;
		goto out;
	}
	/* The tar writer meets a closed connection as EPIPE, not a signal.
	 * SIGINT keeps its default: the process dies, the kernel closes the
	 * connection, the engine cancels the build (exit 130 in a shell). */
	signal(SIGPIPE, SIG_IGN);
	rc = run_build(&a);
out:
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
