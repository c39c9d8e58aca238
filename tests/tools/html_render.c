/* html_render.c: renders the `ctxpack stats --html` page of a context with
 * src/cli/html_report.c, from a stats document written by the caller (for
 * tests/cli/test_html.py).
 *
 *   html_render DIR STATS_JSON_FILE OUT.html [--builder=classic|buildkit]
 *
 * DIR is walked as `ctxpack ls --all` walks it (everything, what is below
 * a directory the builder never enters measured).  OUT "-" is stdout.
 * Exit 0, or 1 with the error on stderr (2 for a usage error). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerctx.h"
#include "html_report.h"
#include "pack.h"

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, alloc = 1 << 16, r;
	char *b = malloc(alloc);

	if (!f || !b)
		goto fail;
	while ((r = fread(b + n, 1, alloc - n - 1, f)) > 0) {
		char *nb;
		n += r;
		if (alloc - n > 1)
			continue;
		nb = realloc(b, alloc * 2);
		if (!nb)
			goto fail;
		b = nb;
		alloc *= 2;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	b[n] = '\0';
	return b;
fail:
	if (f)
		fclose(f);
	free(b);
	return NULL;
}

int main(int argc, char **argv)
{
	struct pack_options o = { .builder = CTXPACK_BUILDER_BUILDKIT, .list_all = true,
				  .measure_pruned = true };
	struct walk_result res;
	struct pack_report rep;
	struct dockerctx ctx = { 0 };
	char err[1024] = "", *stats;
	FILE *out;
	int rc;

	if (argc == 5 && !strcmp(argv[4], "--builder=classic"))
		o.builder = CTXPACK_BUILDER_CLASSIC;
	else if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "--builder=buildkit"))) {
		fprintf(stderr, "usage: html_render DIR STATS_JSON_FILE OUT.html [--builder=classic|buildkit]\n");
		return 2;
	}
	o.dir = argv[1];
	stats = read_file(argv[2]);
	if (!stats) {
		fprintf(stderr, "html_render: cannot read '%s': %s\n", argv[2], strerror(errno));
		return 1;
	}
	rc = pack_list(&o, &res, &rep, &ctx, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "html_render: %s\n", err);
		free(stats);
		return 1;
	}
	out = strcmp(argv[3], "-") ? fopen(argv[3], "w") : stdout;
	if (!out) {
		fprintf(stderr, "html_render: cannot open '%s': %s\n", argv[3], strerror(errno));
		rc = -errno;
	} else {
		rc = html_report_write(out, stats, &res, ctx.rules, NULL, err, sizeof(err));
		if (rc)
			fprintf(stderr, "html_render: %s\n", err);
		if (out != stdout && fclose(out) && !rc) {
			fprintf(stderr, "html_render: cannot write '%s': %s\n", argv[3], strerror(errno));
			rc = -EIO;
		}
	}
	walk_result_release(&res);
	dockerctx_close(&ctx);
	free(stats);
	return rc ? 1 : 0;
}
