/* build_image.c: builds a Docker build context on the engine with
 * libctxpack, as `ctxpack build -t TAG DIR` does (no docker CLI): the
 * engine found as the docker CLI finds it (the environment is read here:
 * the library reads none), the progress printed as `docker build
 * --progress=plain` prints it, the image ID on stdout.
 *
 *   build_image [-b buildkit|classic] [-t TAG] DIR
 *
 * Exit status: 0 built, 1 not (the message on stderr), 2 usage error. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctxpack/ctxpack.h>

static int show(void *arg, const struct ctxpack_build_event *ev)
{
	(void)arg;
	fwrite(ev->text, 1, ev->text_len, stderr);
	return 0; /* nonzero would stop the build */
}

int main(int argc, char **argv)
{
	struct ctxpack_engine_options eo;
	struct ctxpack_build_options bo;
	struct ctxpack_build_result res;
	const char *tag = NULL;
	ctxpack_context *c = NULL;
	int opt, rc;

	if (ctxpack_context_new(&c))
		return 1;
	while ((opt = getopt(argc, argv, "b:t:")) != -1) {
		if (opt == 'b' && !strcmp(optarg, "classic"))
			ctxpack_context_set_builder(c, CTXPACK_BUILDER_CLASSIC);
		else if (opt == 't')
			tag = optarg;
		else if (opt != 'b' || strcmp(optarg, "buildkit")) {
			fprintf(stderr, "usage: build_image [-b buildkit|classic] [-t TAG] DIR\n");
			ctxpack_context_free(&c);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: build_image [-b buildkit|classic] [-t TAG] DIR\n");
		ctxpack_context_free(&c);
		return 2;
	}

	memset(&eo, 0, sizeof(eo));
	eo.size = sizeof(eo);
	eo.docker_host = getenv("DOCKER_HOST");
	eo.docker_context = getenv("DOCKER_CONTEXT");
	eo.docker_config = getenv("DOCKER_CONFIG");
	eo.home = getenv("HOME");
	eo.tls_verify = getenv("DOCKER_TLS_VERIFY");
	eo.tls = getenv("DOCKER_TLS");
	eo.cert_path = getenv("DOCKER_CERT_PATH");
	memset(&bo, 0, sizeof(bo));
	bo.size = sizeof(bo);
	if (tag) {
		bo.tags = &tag;
		bo.ntags = 1;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed connection is an error, not a signal */

	rc = ctxpack_context_open(c, argv[optind]);
	if (!rc)
		rc = ctxpack_engine_build(c, &eo, &bo, show, NULL, &res);
	if (rc)
		fprintf(stderr, "build_image: %s\n", ctxpack_context_errmsg(c));
	else
		printf("%s\n", res.image_id);
	ctxpack_context_free(&c);
	return rc ? 1 : 0;
}
