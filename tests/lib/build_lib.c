/* build_lib.c: ctxpack_engine_build() driven from the command line, for
 * tests/lib/test_build_lib.py: the options `ctxpack build` takes, the
 * engine found from the environment as the program finds it (the
 * variables read here and handed in: the library reads none).
 *
 *   build_lib [-t NAME]... [-f DOCKERFILE] [--builder=classic|buildkit]
 *             [--build-arg A]... [--label L]... [--target S] [--platform P]
 *             [--network N] [--no-cache] [--pull] [-q] [--skip-unchanged]
 *             [--hash-cache FILE] [--compress=none|gzip|zstd] [--level N]
 *             [--host URL] [--context NAME] [--stop-after N] [--ping] DIR
 *
 * Every event's text goes to stdout as it comes; at the end one line of
 * JSON on stderr: {"rc":..,"message":..,"image_id":..,"skipped":..,
 * "failed":..,"tar_bytes":..,"sent_bytes":..,"where":..,"api_version":..,
 * "text_events":..,"trace_events":..,"steps":..,"completed":..,
 * "failed_step":..}.  --ping only asks the engine (ctxpack_engine_ping).
 * --stop-after N: the callback stops the build at the Nth event.  Exit 0
 * when the call returned 0, else 1. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxpack/ctxpack.h"

struct seen {
	long text, trace, stop_after;
	size_t steps, completed;
	char failed_step[256];
};

static int on_event(void *arg, const struct ctxpack_build_event *ev)
{
	struct seen *s = arg;

	fwrite(ev->text, 1, ev->text_len, stdout);
	fflush(stdout);
	if (ev->kind == CTXPACK_BUILD_TEXT) {
		s->text++;
	} else {
		s->trace++;
		s->steps = ev->steps;
		s->completed = ev->completed;
		if (ev->failed_step)
			snprintf(s->failed_step, sizeof(s->failed_step), "%s", ev->failed_step);
	}
	return s->stop_after > 0 && s->text + s->trace >= s->stop_after;
}

/* s as a JSON string (control bytes escaped; other bytes as they are). */
static void json_str(const char *s)
{
	putc('"', stderr);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(stderr, "\\%c", c);
		else if (c < 0x20)
			fprintf(stderr, "\\u%04x", c);
		else
			putc(c, stderr);
	}
	putc('"', stderr);
}

static int push(const char ***v, size_t *n, const char *s)
{
	const char **p = realloc(*v, (*n + 1) * sizeof(**v));

	if (!p)
		return -1;
	p[(*n)++] = s;
	*v = p;
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		O_BUILDER = 256,
		O_BUILD_ARG,
		O_LABEL,
		O_TARGET,
		O_PLATFORM,
		O_NETWORK,
		O_NO_CACHE,
		O_PULL,
		O_SKIP,
		O_CACHE,
		O_COMPRESS,
		O_LEVEL,
		O_HOST,
		O_CONTEXT,
		O_STOP,
		O_PING,
		O_WHOLE,
	};
	static const struct option longopts[] = {
		{"tag", required_argument, NULL, 't'},
		{"file", required_argument, NULL, 'f'},
		{"quiet", no_argument, NULL, 'q'},
		{"builder", required_argument, NULL, O_BUILDER},
		{"build-arg", required_argument, NULL, O_BUILD_ARG},
		{"label", required_argument, NULL, O_LABEL},
		{"target", required_argument, NULL, O_TARGET},
		{"platform", required_argument, NULL, O_PLATFORM},
		{"network", required_argument, NULL, O_NETWORK},
		{"no-cache", no_argument, NULL, O_NO_CACHE},
		{"pull", no_argument, NULL, O_PULL},
		{"skip-unchanged", no_argument, NULL, O_SKIP},
		{"hash-cache", required_argument, NULL, O_CACHE},
		{"compress", required_argument, NULL, O_COMPRESS},
		{"level", required_argument, NULL, O_LEVEL},
		{"host", required_argument, NULL, O_HOST},
		{"context", required_argument, NULL, O_CONTEXT},
		{"stop-after", required_argument, NULL, O_STOP},
		{"ping", no_argument, NULL, O_PING},
		{"whole-context", no_argument, NULL, O_WHOLE},
		{NULL, 0, NULL, 0},
	};
	struct ctxpack_engine_options eo;
	struct ctxpack_build_options bo;
	struct ctxpack_build_result res;
	struct ctxpack_engine_info info;
	struct seen seen = {0};
	const char **tags = NULL, **args = NULL, **labels = NULL;
	const char *message = "";
	char err[1024] = "";
	ctxpack_context *c = NULL;
	bool ping = false;
	int opt, rc;

	memset(&eo, 0, sizeof(eo));
	eo.size = sizeof(eo);
	memset(&bo, 0, sizeof(bo));
	memset(&res, 0, sizeof(res));
	bo.size = sizeof(bo);
	if (ctxpack_context_new(&c))
		return 2;
	while ((opt = getopt_long(argc, argv, "t:f:q", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			push(&tags, &bo.ntags, optarg);
			break;
		case 'f':
			ctxpack_context_set_dockerfile(c, optarg);
			break;
		case 'q':
			bo.quiet = true;
			break;
		case O_BUILDER:
			ctxpack_context_set_builder(c, strcmp(optarg, "classic")
							       ? CTXPACK_BUILDER_BUILDKIT
							       : CTXPACK_BUILDER_CLASSIC);
			break;
		case O_BUILD_ARG:
			push(&args, &bo.nbuild_args, optarg);
			break;
		case O_LABEL:
			push(&labels, &bo.nlabels, optarg);
			break;
		case O_TARGET:
			bo.target = optarg;
			break;
		case O_PLATFORM:
			bo.platform = optarg;
			break;
		case O_NETWORK:
			bo.network = optarg;
			break;
		case O_NO_CACHE:
			bo.no_cache = true;
			break;
		case O_PULL:
			bo.pull = true;
			break;
		case O_SKIP:
			bo.skip_unchanged = true;
			break;
		case O_CACHE:
			bo.hash_cache = optarg;
			break;
		case O_COMPRESS:
			bo.compression = !strcmp(optarg, "gzip")   ? CTXPACK_COMPRESS_GZIP
					 : !strcmp(optarg, "zstd") ? CTXPACK_COMPRESS_ZSTD
								   : CTXPACK_COMPRESS_NONE;
			break;
		case O_LEVEL:
			bo.level = atoi(optarg);
			break;
		case O_HOST:
			eo.host = optarg;
			break;
		case O_CONTEXT:
			eo.context = optarg;
			break;
		case O_STOP:
			seen.stop_after = atol(optarg);
			break;
		case O_PING:
			ping = true;
			break;
		case O_WHOLE:
			bo.whole_context = true;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: build_lib [options] DIR\n");
		return 2;
	}
	bo.tags = tags;
	bo.build_args = args;
	bo.labels = labels;
	eo.docker_host = getenv("DOCKER_HOST");
	eo.docker_context = getenv("DOCKER_CONTEXT");
	eo.docker_config = getenv("DOCKER_CONFIG");
	eo.home = getenv("HOME");
	eo.tls_verify = getenv("DOCKER_TLS_VERIFY");
	eo.tls = getenv("DOCKER_TLS");
	eo.cert_path = getenv("DOCKER_CERT_PATH");
	signal(SIGPIPE, SIG_IGN); /* the library's callers' part */

	if (ping) {
		rc = ctxpack_engine_ping(&eo, &info, err, sizeof(err));
		message = err;
		snprintf(res.engine_where, sizeof(res.engine_where), "%s", info.where);
		snprintf(res.api_version, sizeof(res.api_version), "%s", info.api_version);
	} else {
		rc = ctxpack_context_open(c, argv[optind]);
		if (!rc)
			rc = ctxpack_engine_build(c, &eo, &bo, on_event, &seen, &res);
		message = ctxpack_context_errmsg(c);
	}
	fprintf(stderr, "{\"rc\":%d,\"errno\":", rc);
	json_str(rc ? strerror(-rc) : "");
	fprintf(stderr, ",\"message\":");
	json_str(message);
	fprintf(stderr, ",\"image_id\":");
	json_str(res.image_id);
	fprintf(stderr, ",\"skipped\":%s,\"failed\":%s,\"tar_bytes\":%llu,\"sent_bytes\":%llu",
		res.skipped ? "true" : "false", res.failed ? "true" : "false",
		(unsigned long long)res.tar_bytes, (unsigned long long)res.sent_bytes);
	fprintf(stderr, ",\"only_read\":%s,\"whole_why\":", res.only_read ? "true" : "false");
	json_str(res.whole_why);
	fprintf(stderr, ",\"where\":");
	json_str(res.engine_where);
	fprintf(stderr, ",\"api_version\":");
	json_str(res.api_version);
	fprintf(stderr, ",\"text_events\":%ld,\"trace_events\":%ld,\"steps\":%zu,\"completed\":%zu",
		seen.text, seen.trace, seen.steps, seen.completed);
	fprintf(stderr, ",\"failed_step\":");
	json_str(seen.failed_step);
	fprintf(stderr, "}\n");
	ctxpack_context_free(&c);
	free(tags);
	free(args);
	free(labels);
	return rc ? 1 : 0;
}
