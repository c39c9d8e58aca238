/* buildview.c: see buildview.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildview.h"
#include "dockerctx.h"
#include "internal.h"
#include "pack.h"
#include "transfer.h"
#include "walk.h"

/* err holds "NAME:LINE: reason" when line > 0: reason past the prefix. */
static const char *reason_of(const char *err, const char *dfname, int line)
{
	char prefix[64];
	size_t nl = strlen(dfname), pl;

	if (line <= 0 || strncmp(err, dfname, nl))
		return err;
	pl = (size_t)snprintf(prefix, sizeof(prefix), ":%d: ", line);
	return strncmp(err + nl, prefix, pl) ? err : err + nl + pl;
}

int buildview_open(struct buildview *v, struct dockerctx *ctx, const struct walk_result *res,
		   const struct buildview_options *o, char *err, size_t errsz)
{
	struct dockerfile_opts opts = {.build_args = o->build_args};
	char *buf = NULL;
	size_t len;
	int rc;

	memset(v, 0, sizeof(*v));
	v->dfname = ctx->dockerfile ? ctx->dockerfile : o->dfname ? o->dfname : "Dockerfile";
	v->reason = err;
	rc = dockerctx_read_dockerfile(ctx, &buf, &len);
	if (rc) {
		snprintf(err, errsz, "%s", ctx->errmsg);
		return rc;
	}
	rc = dockerfile_new(&v->df);
	if (!rc)
		rc = dockerfile_read(v->df, v->dfname, buf, len, &opts);
	if (!rc)
		rc = dockerfile_sources(v->df, o->target, o->builder, &v->src, &v->nsrc);
	free(buf);
	if (rc) {
		const struct df_error *e = v->df ? dockerfile_error(v->df) : NULL;

		snprintf(err, errsz, "%s",
			 rc == -ENOMEM ? "out of memory" : dockerfile_errmsg(v->df));
		v->errline = e && rc != -ENOMEM ? e->line : 0;
		v->reason = reason_of(err, v->dfname, v->errline);
		return rc;
	}
	rc = used_resolve(&v->used, res, ctx->rootfd, ctx->rules, v->src, v->nsrc, o->builder,
			  v->dfname, err, errsz);
	if (rc) {
		v->errline = v->used.errline;
		v->reason = reason_of(err, v->dfname, v->errline);
	}
	return rc;
}

void buildview_close(struct buildview *v)
{
	used_release(&v->used);
	dockerfile_sources_free(&v->src, v->nsrc);
	dockerfile_free(&v->df);
	memset(v, 0, sizeof(*v));
}

int buildview_restrict(struct pack_session *ps, const struct buildview_options *o, char *err,
		       size_t errsz)
{
	const struct walk_result *res = pack_entries(ps);
	struct buildview v;
	struct transfer t;
	uint8_t *keep = calloc(res->n ? res->n : 1, 1);
	int rc;

	if (!keep)
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	rc = buildview_open(&v, (struct dockerctx *)pack_context(ps), res, o, err, errsz);
	/* BuildKit runs the frontend a syntax line names: what that reads is
	 * its own (the classic builder ignores the line) */
	if (!rc && o->builder == CTXPACK_BUILDER_BUILDKIT && v.df->syntax)
		rc = set_errmsg(err, errsz, -ENOTSUP,
				"%s:%d: '# syntax=%s' names the frontend BuildKit runs, which "
				"decides what it reads",
				v.dfname, v.df->syntax_line, v.df->syntax);
	else if (!rc && o->builder == CTXPACK_BUILDER_BUILDKIT) {
		rc = transfer_compute(&t, keep, &v.used);
		/* a source naming the root: the whole context, as it is */
		if (!rc && t.whole)
			memset(keep, 1, res->n);
	} else if (!rc) {
		used_reads(&v.used, keep);
	}
	if (!rc)
		rc = pack_restrict(ps, keep);
	if (rc == -ENOMEM)
		set_errmsg(err, errsz, rc, "out of memory");
	buildview_close(&v);
	free(keep);
	return rc;
}
