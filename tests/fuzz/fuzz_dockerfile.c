/* fuzz_dockerfile.c: fuzz target for the Dockerfile reader (src/dockerfile.c).
 * The first byte picks the options (bit 0: the labs channel, bit 1: a
 * build argument A=1, bit 2: arm64 as the target platform); the rest is
 * the Dockerfile.  It is read, then every stage's needs and the context
 * sources are asked for with both builders, for the default target and
 * for each named stage (at most 8).  The bytes up to the first NUL are
 * also expanded by the shell lexer with both escape characters.
 *
 * Promises checked (a broken one aborts): a refusal returns a documented
 * errno with a message "Dockerfile:LINE: ..." (or "Dockerfile: ..." only
 * where no line is concerned: the empty file, the size bound, a target
 * that is not a stage) whose LINE is a line of the input; instructions
 * have ascending lines within the input; stages point to earlier stages;
 * a needed set holds its target; a source names an instruction of a
 * needed stage and its line. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerfile.h"

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_dockerfile: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	abort();
}

static bool known_errno(int rc)
{
	return rc == -EINVAL || rc == -ENOTSUP || rc == -E2BIG || rc == -EFBIG || rc == -ENOMEM;
}

/* A refusal: a known errno, a message naming the file, a line of the
 * input (or none when allowed). */
static void check_error(const struct dockerfile *df, int rc, int nlines, bool line_optional)
{
	const struct df_error *e = dockerfile_error(df);

	if (!known_errno(rc))
		fail("an undocumented errno", dockerfile_errmsg(df));
	if (e->code != rc)
		fail("the handle's code differs from the return", dockerfile_errmsg(df));
	if (strncmp(e->msg, "Dockerfile:", 11))
		fail("the message does not name the file", e->msg);
	if (rc == -ENOMEM)
		return;
	if (e->line < 0 || e->line > nlines || (e->line == 0 && !line_optional))
		fail("the message's line is not a line of the input", e->msg);
	if (e->line > 0) {
		char pre[64];
		snprintf(pre, sizeof(pre), "Dockerfile:%d: ", e->line);
		if (strncmp(e->msg, pre, strlen(pre)))
			fail("the message does not start with its line", e->msg);
	}
}

static void check_target(struct dockerfile *df, const char *target, int ti, int nlines)
{
	enum ctxpack_builder bs[] = {CTXPACK_BUILDER_BUILDKIT, CTXPACK_BUILDER_CLASSIC};
	bool *need = calloc(df->nstages + 1, sizeof(*need));

	if (!need)
		return;
	for (size_t b = 0; b < 2; b++) {
		struct df_source *s = NULL;
		size_t ns = 0;
		int rc = dockerfile_stages_needed(df, target, bs[b], need);
		if (rc) {
			check_error(df, rc, nlines, false);
		} else if (!need[ti]) {
			fail("the target is not needed", target);
		} else {
			for (size_t i = 0; i < df->nstages; i++)
				if (need[i] && df->stages[i].base_stage >= 0 &&
				    !need[df->stages[i].base_stage])
					fail("a needed stage's base is not needed", NULL);
		}
		rc = dockerfile_sources(df, target, bs[b], &s, &ns);
		if (rc) {
			check_error(df, rc, nlines, false);
			if (s || ns)
				fail("a failed dockerfile_sources left a list", NULL);
			continue;
		}
		for (size_t i = 0; i < ns; i++) {
			const struct df_instr *in;
			if (s[i].instr >= df->ninstrs)
				fail("a source names no instruction", s[i].path);
			in = &df->instrs[s[i].instr];
			if (s[i].line != in->start_line || s[i].stage != in->stage ||
			    in->stage < 0 || !need[in->stage] || !s[i].path)
				fail("a source does not match its instruction", s[i].path);
			if (i && s[i].instr < s[i - 1].instr)
				fail("sources out of instruction order", s[i].path);
		}
		dockerfile_sources_free(&s, ns);
		if (s)
			fail("dockerfile_sources_free left the pointer", NULL);
	}
	free(need);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = {"A=1", "V=cli", NULL};
	struct dockerfile_opts o = {0};
	struct dockerfile *df;
	const char *text;
	size_t len;
	int nlines = 0, rc;

	if (size == 0)
		return 0;
	o.labs = data[0] & 1;
	o.build_args = (data[0] & 2) ? args : NULL;
	o.target_platform = (data[0] & 4) ? "linux/arm64/v8" : NULL;
	text = (const char *)data + 1;
	len = size - 1;
	for (size_t i = 0; i < len; i++)
		nlines += text[i] == '\n';
	if (len && text[len - 1] != '\n')
		nlines++;

	if (dockerfile_new(&df))
		return 0;
	rc = dockerfile_read(df, "Dockerfile", text, len, &o);
	if (rc) {
		check_error(df, rc, nlines, len == 0);
	} else {
		int prev = 0;
		if (df->ninstrs == 0 || df->nstages == 0)
			fail("a Dockerfile read without instructions or stages", NULL);
		for (size_t i = 0; i < df->ninstrs; i++) {
			const struct df_instr *in = &df->instrs[i];
			if (in->start_line <= prev || in->end_line < in->start_line ||
			    in->end_line > nlines)
				fail("instruction lines out of order or outside the input",
				     in->original);
			prev = in->end_line;
			if (in->stage >= (int)df->nstages || (in->stage < 0 && in->kind != DF_ARG))
				fail("an instruction outside any stage", in->original);
		}
		for (size_t s = 0; s < df->nstages; s++)
			if (df->stages[s].base_stage >= (int)s || !df->stages[s].base ||
			    !df->stages[s].base[0])
				fail("a stage based on a later stage, or on nothing",
				     df->stages[s].base_raw);
		check_target(df, NULL, (int)df->nstages - 1, nlines);
		for (size_t s = 0, k = 0; s < df->nstages && k < 8; s++) {
			int first = -1;
			if (!df->stages[s].name)
				continue;
			/* findStateByName: the last stage of that name */
			for (size_t t = 0; t < df->nstages; t++)
				if (df->stages[t].name &&
				    !strcmp(df->stages[t].name, df->stages[s].name))
					first = (int)t;
			check_target(df, df->stages[s].name, first, nlines);
			k++;
		}
	}
	dockerfile_free(&df);
	if (df)
		fail("dockerfile_free left the pointer", NULL);

	/* the lexer alone, on the bytes up to the first NUL */
	{
		struct df_env env = {0};
		size_t wl = strnlen(text, len);
		char *w = malloc(wl + 1), *out = NULL, err[512];
		if (w && !dockerfile_env_set(&env, "A", "x") &&
		    !dockerfile_env_set(&env, "E", "") &&
		    !dockerfile_env_set(&env, "P", "a/b.c/d.tar.gz")) {
			memcpy(w, text, wl);
			w[wl] = '\0';
			for (int esc = 0; esc < 2; esc++) {
				err[0] = '\0';
				rc = dockerfile_shell_word(&out, w, &env, esc ? '`' : '\\', err,
							   sizeof(err));
				if (rc && (!known_errno(rc) || (rc != -ENOMEM && !err[0]) || out))
					fail("a lexer refusal without a documented errno or a message",
					     err);
				if (!rc && !out)
					fail("the lexer succeeded without a word", NULL);
				free(out);
				out = NULL;
			}
		}
		dockerfile_env_release(&env);
		free(w);
	}
	return 0;
}
