/* explain.c: one path's verdict through the walk (see explain.h). */
#include <errno.h>
#include <string.h>

#include "explain.h"
#include "internal.h"
#include "policy.h"

int explainer_init(struct explainer *e, const ctxpack_match *m)
{
	memset(e, 0, sizeof(*e));
	e->m = m;
	if (ctxpack_mscratch_new(&e->scratch, m) || ctxpack_mstate_new(&e->root, m)) {
		explainer_release(e);
		return -ENOMEM;
	}
	ctxpack_match_root(m, e->root);
	return 0;
}

void explainer_release(struct explainer *e)
{
	for (size_t i = 0; i < e->alv; i++)
		ctxpack_mstate_free(&e->lv[i].state);
	free(e->lv);
	free(e->prev);
	ctxpack_mscratch_free(&e->scratch);
	ctxpack_mstate_free(&e->root);
	memset(e, 0, sizeof(*e));
}

/* Levels of the previous path that are ancestors (or the same) of path. */
static size_t common_levels(const struct explainer *e, const char *path, size_t len)
{
	size_t k = 0;

	while (k < e->nlv) {
		size_t end = e->lv[k].end;
		if (end > len || (end < len && path[end] != '/') || memcmp(path, e->prev, end))
			break;
		k++;
	}
	return k;
}

static int ensure_level(struct explainer *e, size_t k)
{
	size_t old = e->alv;

	if (k < e->alv)
		return 0;
	if (GROW(e->lv, e->alv, k + 1))
		return -ENOMEM;
	memset(e->lv + old, 0, (e->alv - old) * sizeof(*e->lv));
	for (size_t i = old; i < e->alv; i++)
		if (ctxpack_mstate_new(&e->lv[i].state, e->m))
			return -ENOMEM;
	return 0;
}

int explain_path(struct explainer *e, const char *path, size_t len, struct explain_result *res)
{
	size_t k = common_levels(e, path, len), start;
	int rc = 0;

	/* Remember this path for the next call. */
	if (GROW(e->prev, e->prevalloc, len + 1))
		return -ENOMEM;
	memcpy(e->prev, path, len);
	e->prevlen = len;
	e->nlv = k;
	start = k ? e->lv[k - 1].end + 1 : 0;
	for (;;) {
		const struct ctxpack_decision *pd = k ? &e->lv[k - 1].d : NULL;
		const char *slash;
		size_t end;

		if (start > len)
			break; /* the whole path was decided before */
		if (pd && pd->verdict == CTXPACK_EXCLUDE && !pd->descend) {
			/* An ancestor the walk never enters. */
			res->verdict = CTXPACK_EXCLUDE;
			res->rule = pd->rule;
			res->pruned = true;
			res->sent = false;
			res->descend = false;
			res->state = NULL;
			return 0;
		}
		slash = memchr(path + start, '/', len - start);
		end = slash ? (size_t)(slash - path) : len;
		if (ensure_level(e, k))
			return -ENOMEM;
		rc = ctxpack_match_entry(e->m, e->scratch, k ? e->lv[k - 1].state : e->root, path, end,
					 start, e->lv[k].state, &e->lv[k].d);
		if (rc) {
			res->rule = e->lv[k].d.rule;
			return rc;
		}
		e->lv[k].end = end;
		e->nlv = ++k;
		if (end == len)
			break;
		start = end + 1;
	}
	res->verdict = e->lv[k - 1].d.verdict;
	res->rule = e->lv[k - 1].d.rule;
	res->pruned = false;
	res->sent = res->verdict != CTXPACK_EXCLUDE;
	res->descend = e->lv[k - 1].d.descend;
	res->state = e->lv[k - 1].state;
	return 0;
}

void explain_policy_in(const struct explain_result *res, enum ctxpack_builder b, int type,
		       bool dockerfile, struct policy_in *out)
{
	*out = (struct policy_in){
		.builder = b,
		.verdict = res->verdict,
		.descend = res->descend,
		.type = type,
		.dockerfile = dockerfile,
		.parent = res->pruned ? POLICY_PARENT_PRUNED : POLICY_PARENT_READ,
		/* explain is lexical: what the validation walk reads is not
		 * its question (the walk answers it) */
		.parent_validated = false,
		.io = POLICY_IO_OK,
	};
}
