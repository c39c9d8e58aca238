/* test_dockerfile.c: the Dockerfile reader (src/dockerfile.c) against the
 * cases of tests/vectors/dockerfile.vec (one cmocka test per case, named
 * FILE:LINE) and tests/vectors/dockerfile-lex.vec (the shell lexer, one
 * test per line), plus a few tests of the API's edges.
 *
 * dockerfile.vec: a case is "=== title", the Dockerfile's lines (each
 * ends with '\n'; %HH escapes a byte), "---", then one expectation or
 * option per line (keywords below, in run_case); '|' separates list items
 * (%7C is a literal '|').
 * dockerfile-lex.vec: ENV<TAB>ESCAPE<TAB>WORD<TAB>EXPECTED, ENV "-" or
 * "K=V;K=V", EXPECTED the result or "!EINVAL:message" / "!ENOTSUP". */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dockerfile.h"

struct vcase {
	char name[300];
	bool lex;
	char *df; /* the Dockerfile, unescaped */
	size_t dflen;
	char **ex; /* expectation lines (escapes kept) */
	size_t nex;
	char *line; /* lex: the line */
};

static size_t unescape(const char *s, size_t n, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2]) && sscanf(s + i + 1, "%2x", &v) == 1) {
			out[k++] = (char)v;
			i += 2;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = '\0';
	return k;
}

static char *unesc(const char *s)
{
	char *o = malloc(strlen(s) + 1);

	unescape(s, strlen(s), o);
	return o;
}

/* Splits s at sep into unescaped items (n of them). */
static char **split(const char *s, char sep, size_t *n)
{
	char **v = NULL;
	size_t k = 0;

	for (;;) {
		const char *e = strchr(s, sep);
		size_t l = e ? (size_t)(e - s) : strlen(s);
		char *t = malloc(l + 1);
		memcpy(t, s, l);
		t[l] = '\0';
		v = realloc(v, (k + 1) * sizeof(*v));
		v[k++] = unesc(t);
		free(t);
		if (!e)
			break;
		s = e + 1;
	}
	*n = k;
	return v;
}

static void freev(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void expect_list(const char *what, char **got, size_t ngot, const char *want)
{
	size_t nw = 0;
	char **w = NULL;

	if (strcmp(want, "-"))
		w = split(want, '|', &nw);
	if (nw != ngot) {
		for (size_t i = 0; i < ngot; i++)
			print_message("  got[%zu] = '%s'\n", i, got[i]);
		fail_msg("%s: %zu items, expected %zu (%s)", what, ngot, nw, want);
	}
	for (size_t i = 0; i < nw; i++)
		if (strcmp(got[i], w[i]))
			fail_msg("%s item %zu: '%s', expected '%s'", what, i, got[i], w[i]);
	freev(w, nw);
}

static enum ctxpack_builder builder_of(const char *s)
{
	return strcmp(s, "classic") ? CTXPACK_BUILDER_BUILDKIT : CTXPACK_BUILDER_CLASSIC;
}

static const char *errno_name(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "EINVAL";
	case -ENOTSUP:
		return "ENOTSUP";
	case -E2BIG:
		return "E2BIG";
	case -EFBIG:
		return "EFBIG";
	case -ENOMEM:
		return "ENOMEM";
	case 0:
		return "0";
	}
	return "?";
}

static void expect_msg(const struct dockerfile *df, const char *line, const char *msg)
{
	char want[700];
	int l = atoi(line);

	if (l > 0)
		snprintf(want, sizeof(want), "Dockerfile:%d: %s", l, msg);
	else
		snprintf(want, sizeof(want), "Dockerfile: %s", msg);
	if (strcmp(dockerfile_errmsg(df), want))
		fail_msg("message '%s', expected '%s'", dockerfile_errmsg(df), want);
	assert_int_equal(dockerfile_error(df)->line, l);
}

static void run_case(void **state)
{
	struct vcase *c = *state;
	struct dockerfile *df;
	struct dockerfile_opts o = {0};
	const char *args[32];
	size_t nargs = 0;
	bool want_error = false;
	int rc;

	for (size_t i = 0; i < c->nex; i++) {
		char *l = c->ex[i];
		if (!strncmp(l, "opt arg ", 8))
			args[nargs++] = l + 8;
		else if (!strcmp(l, "opt labs"))
			o.labs = true;
		else if (!strncmp(l, "opt platform ", 13))
			o.target_platform = l + 13;
		else if (!strncmp(l, "opt buildplatform ", 18))
			o.build_platform = l + 18;
		else if (!strncmp(l, "error ", 6))
			want_error = true;
	}
	args[nargs] = NULL;
	o.build_args = args;
	assert_int_equal(dockerfile_new(&df), 0);
	rc = dockerfile_read(df, "Dockerfile", c->df, c->dflen, &o);
	if (rc && !want_error)
		fail_msg("read failed: %s", dockerfile_errmsg(df));
	if (!rc && want_error)
		fail_msg("read succeeded, an error was expected");
	for (size_t i = 0; i < c->nex; i++) {
		char *l = c->ex[i], kw[32] = "", a1[256] = "", a2[256] = "", a3[256] = "";
		int off = 0;
		struct df_instr *in = NULL;
		sscanf(l, "%31s %n", kw, &off);
		char *rest = l + off;
		if (!strncmp(kw, "opt", 3) || !strcmp(kw, "noeol"))
			continue;
		if (!strcmp(kw, "error")) {
			sscanf(rest, "%255s %n", a1, &off);
			char *m = unesc(rest + off);
			expect_msg(df, a1, m);
			free(m);
			continue;
		}
		if (!strcmp(kw, "errno")) {
			if (strcmp(errno_name(dockerfile_error(df)->code), rest))
				fail_msg("errno %s, expected %s",
					 errno_name(dockerfile_error(df)->code), rest);
			continue;
		}
		if (!strcmp(kw, "ninstr")) {
			assert_int_equal(df->ninstrs, (size_t)atoi(rest));
			continue;
		}
		if (!strcmp(kw, "nwarnings")) {
			assert_int_equal(df->nwarnings, (size_t)atoi(rest));
			continue;
		}
		if (!strcmp(kw, "escape")) {
			assert_int_equal(df->escape, rest[0]);
			continue;
		}
		if (!strcmp(kw, "syntax")) {
			if (!strcmp(rest, "-"))
				assert_null(df->syntax);
			else
				assert_string_equal(df->syntax ? df->syntax : "(null)", rest);
			continue;
		}
		if (!strcmp(kw, "warning")) {
			size_t k;
			char *m;
			sscanf(rest, "%255s %n", a1, &off);
			m = unesc(rest + off);
			for (k = 0; k < df->nwarnings; k++)
				if (df->warnings[k].line == atoi(a1) &&
				    !strcmp(df->warnings[k].msg, m))
					break;
			if (k == df->nwarnings)
				fail_msg("no warning '%s' on line %s (%zu warnings)", m, a1,
					 df->nwarnings);
			free(m);
			continue;
		}
		if (!strcmp(kw, "meta")) {
			bool found = false;
			sscanf(rest, "%255s %255s", a1, a2);
			for (size_t k = 0; k < df->nmeta; k++)
				if (!strcmp(df->meta_keys[k], a1)) {
					found = true;
					if (!strcmp(a2, "-"))
						assert_null(df->meta_values[k]);
					else
						assert_string_equal(df->meta_values[k]
									    ? df->meta_values[k]
									    : "(null)",
								    a2);
				}
			assert_true(found);
			continue;
		}
		if (!strcmp(kw, "stage")) {
			int si, bs;
			char nm[256], base[256], pl[256];
			assert_int_equal(
				sscanf(rest, "%d %255s %255s %d %255s", &si, nm, base, &bs, pl), 5);
			assert_true((size_t)si < df->nstages);
			struct df_stage *st = &df->stages[si];
			assert_string_equal(st->name ? st->name : "-", nm);
			assert_string_equal(st->base, base);
			assert_int_equal(st->base_stage, bs);
			assert_string_equal(st->platform ? st->platform : "-", pl);
			continue;
		}
		if (!strcmp(kw, "nstages")) {
			assert_int_equal(df->nstages, (size_t)atoi(rest));
			continue;
		}
		if (!strcmp(kw, "stages") || !strcmp(kw, "sources") || !strcmp(kw, "serror")) {
			const char *target;
			sscanf(rest, "%255s %255s %n", a1, a2, &off);
			target = strcmp(a1, "-") ? a1 : NULL;
			if (!strcmp(kw, "stages")) {
				bool need[64];
				char got[512] = "";
				assert_int_equal(
					dockerfile_stages_needed(df, target, builder_of(a2), need),
					0);
				for (size_t k = 0; k < df->nstages; k++)
					if (need[k])
						snprintf(got + strlen(got),
							 sizeof(got) - strlen(got), "%s%zu",
							 got[0] ? "," : "", k);
				assert_string_equal(got[0] ? got : "-", rest + off);
			} else {
				struct df_source *s;
				size_t ns;
				rc = dockerfile_sources(df, target, builder_of(a2), &s, &ns);
				if (!strcmp(kw, "serror")) {
					if (!rc)
						fail_msg("sources succeeded, expected an error");
					int off2 = 0;
					sscanf(rest + off, "%255s %n", a3, &off2);
					char *m = unesc(rest + off + off2);
					expect_msg(df, a3, m);
					free(m);
				} else {
					char **got = calloc(ns + 1, sizeof(*got));
					if (rc)
						fail_msg("sources failed: %s",
							 dockerfile_errmsg(df));
					for (size_t k = 0; k < ns; k++) {
						char t[600];
						snprintf(t, sizeof(t), "%d:%c:%s%s", s[k].line,
							 s[k].kind == DF_SRC_COPY  ? 'c'
							 : s[k].kind == DF_SRC_ADD ? 'a'
										   : 'm',
							 s[k].parents ? "^" : "", s[k].path);
						got[k] = strdup(t);
					}
					expect_list("sources", got, ns, rest + off);
					freev(got, ns);
					dockerfile_sources_free(&s, ns);
				}
			}
			continue;
		}
		/* per-instruction checks: KW INDEX ... */
		{
			int idx = -1;
			sscanf(rest, "%d %n", &idx, &off);
			if (idx < 0 || (size_t)idx >= df->ninstrs)
				fail_msg("'%s': no instruction %d (%zu)", l, idx, df->ninstrs);
			in = &df->instrs[idx];
			rest += off;
		}
		if (!strcmp(kw, "instr")) {
			int s, e;
			char **got;
			sscanf(rest, "%d-%d %n", &s, &e, &off);
			assert_int_equal(in->start_line, s);
			assert_int_equal(in->end_line, e);
			got = calloc(in->nargs + 2, sizeof(*got));
			got[0] = strdup(in->name);
			for (size_t k = 0; k < in->nargs; k++)
				got[k + 1] = strdup(in->args[k]);
			expect_list("instr", got, in->nargs + 1, rest + off);
			freev(got, in->nargs + 1);
		} else if (!strcmp(kw, "flags")) {
			expect_list("flags", in->flags, in->nflags, rest);
		} else if (!strcmp(kw, "json")) {
			assert_true(in->json);
		} else if (!strcmp(kw, "nojson")) {
			assert_false(in->json);
		} else if (!strcmp(kw, "srcs")) {
			expect_list("srcs", in->srcs, in->nsrcs, rest);
		} else if (!strcmp(kw, "hsrcs")) {
			expect_list("hsrcs", in->heredoc_srcs, in->nheredoc_srcs, rest);
		} else if (!strcmp(kw, "excludes")) {
			expect_list("excludes", in->excludes, in->nexcludes, rest);
		} else if (!strcmp(kw, "dest")) {
			char *d = unesc(rest);
			assert_string_equal(in->dest, d);
			free(d);
		} else if (!strcmp(kw, "from")) {
			assert_string_equal(in->from ? in->from : "-", rest);
		} else if (!strcmp(kw, "copyflags")) {
			char got[300];
			snprintf(got, sizeof(got),
				 "chown=%s chmod=%s link=%d parents=%d keepgit=%d checksum=%s",
				 in->chown ? in->chown : "-", in->chmod ? in->chmod : "-", in->link,
				 in->parents, in->keep_git_dir, in->checksum ? in->checksum : "-");
			assert_string_equal(got, rest);
		} else if (!strcmp(kw, "mount")) {
			int k;
			char spec[256], from[256];
			assert_int_equal(sscanf(rest, "%d %255s %255s", &k, spec, from), 3);
			assert_true((size_t)k < in->nmounts);
			char *u = unesc(spec);
			assert_string_equal(in->mounts[k].spec, u);
			free(u);
			assert_string_equal(in->mounts[k].from ? in->mounts[k].from : "-", from);
		} else if (!strcmp(kw, "mountfields")) {
			int k;
			char ty[800], so[256], ta[256], got[800];
			assert_int_equal(sscanf(rest, "%d %255s %255s %255s", &k, ty, so, ta), 4);
			assert_true((size_t)k < in->nmounts);
			snprintf(got, sizeof(got), "%s %s %s", in->mounts[k].type,
				 in->mounts[k].source ? in->mounts[k].source : "-",
				 in->mounts[k].target ? in->mounts[k].target : "-");
			snprintf(ty + strlen(ty), sizeof(ty) - strlen(ty), " %s %s", so, ta);
			assert_string_equal(got, ty);
		} else if (!strcmp(kw, "heredoc")) {
			int k, e, ch;
			char nm[256], content[1024];
			assert_int_equal(
				sscanf(rest, "%d %255s %d %d %1023s", &k, nm, &e, &ch, content), 5);
			assert_true((size_t)k < in->nheredocs);
			char *un = unesc(nm), *uc = unesc(content);
			assert_string_equal(in->heredocs[k].name, un);
			assert_int_equal(in->heredocs[k].expand, e);
			assert_int_equal(in->heredocs[k].chomp, ch);
			assert_string_equal(in->heredocs[k].content, strcmp(uc, "-") ? uc : "");
			free(un);
			free(uc);
		} else if (!strcmp(kw, "args")) {
			char **got = calloc(in->nargkv + 1, sizeof(*got));
			for (size_t k = 0; k < in->nargkv; k++) {
				char t[600];
				snprintf(t, sizeof(t), "%s%s%s", in->arg_keys[k],
					 in->arg_values[k] ? "=" : "",
					 in->arg_values[k] ? in->arg_values[k] : "");
				got[k] = strdup(t);
			}
			expect_list("args", got, in->nargkv, rest);
			freev(got, in->nargkv);
		} else if (!strcmp(kw, "stageof")) {
			assert_int_equal(in->stage, atoi(rest));
		} else {
			fail_msg("unknown expectation '%s'", l);
		}
	}
	dockerfile_free(&df);
}

static void run_lex(void **state)
{
	struct vcase *c = *state;
	size_t nf;
	char **f = split(c->line, '\t', &nf);
	struct df_env env = {0};
	char *out = NULL, err[512] = "";
	int rc;

	assert_int_equal(nf, 4);
	if (strcmp(f[0], "-")) {
		size_t nkv;
		char **kv = split(f[0], ';', &nkv);
		for (size_t i = 0; i < nkv; i++) {
			char *eq = strchr(kv[i], '=');
			*eq = '\0';
			assert_int_equal(dockerfile_env_set(&env, kv[i], eq + 1), 0);
		}
		freev(kv, nkv);
	}
	rc = dockerfile_shell_word(&out, f[2], &env, f[1][0], err, sizeof(err));
	if (f[3][0] == '!') {
		char *colon = strchr(f[3], ':');
		size_t el = colon ? (size_t)(colon - f[3] - 1) : strlen(f[3] + 1);
		if (rc == 0)
			fail_msg("'%s' gave '%s', expected %s", f[2], out, f[3]);
		if (strlen(errno_name(rc)) != el || strncmp(errno_name(rc), f[3] + 1, el))
			fail_msg("'%s': %s (%s), expected %s", f[2], errno_name(rc), err, f[3]);
		if (colon && strcmp(err, colon + 1))
			fail_msg("'%s': message '%s', expected '%s'", f[2], err, colon + 1);
	} else {
		if (rc)
			fail_msg("'%s' failed: %s", f[2], err);
		assert_string_equal(out, f[3]);
	}
	free(out);
	dockerfile_env_release(&env);
	freev(f, nf);
}

static struct vcase *cases;
static size_t ncases;

static struct vcase *new_case(const char *file, int line)
{
	const char *b = strrchr(file, '/');
	struct vcase *c;

	cases = realloc(cases, (ncases + 1) * sizeof(*cases));
	c = &cases[ncases++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s:%d", b ? b + 1 : file, line);
	return c;
}

static void load(const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	bool lex = strstr(file, "-lex") != NULL;
	struct vcase *c = NULL;
	enum { NONE, DF, EX } part = NONE;

	if (!f) {
		fprintf(stderr, "cannot open %s\n", file);
		exit(1);
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (lex) {
			if (n == 0 || line[0] == '#')
				continue;
			c = new_case(file, lineno);
			c->lex = true;
			c->line = strdup(line);
			continue;
		}
		if (!strncmp(line, "=== ", 4)) {
			c = new_case(file, lineno);
			part = DF;
			continue;
		}
		if (part == DF && !strcmp(line, "---")) {
			part = EX;
			continue;
		}
		if (part == DF) {
			c->df = realloc(c->df, c->dflen + (size_t)n + 2);
			c->dflen += unescape(line, (size_t)n, c->df + c->dflen);
			c->df[c->dflen++] = '\n';
		} else if (part == EX && n > 0 && line[0] != '#') {
			if (!strcmp(line, "noeol") && c->dflen)
				c->dflen--;
			c->ex = realloc(c->ex, (c->nex + 1) * sizeof(*c->ex));
			c->ex[c->nex++] = strdup(line);
		}
	}
	free(line);
	fclose(f);
}

/* ---- API edges ---- */

static void test_api_edges(void **state)
{
	struct dockerfile *df;
	char *big;
	(void)state;

	assert_int_equal(dockerfile_new(NULL), -EINVAL);
	assert_int_equal(dockerfile_read(NULL, "x", "", 0, NULL), -EINVAL);
	assert_int_equal(dockerfile_new(&df), 0);
	assert_int_equal(dockerfile_read(df, "Dockerfile", "FROM a\n", 7, NULL), 0);
	/* one read per handle */
	assert_int_equal(dockerfile_read(df, "Dockerfile", "FROM a\n", 7, NULL), -EINVAL);
	dockerfile_free(&df);
	assert_null(df);
	dockerfile_free(&df);
	/* the size bound */
	assert_int_equal(dockerfile_new(&df), 0);
	big = calloc(1, DOCKERFILE_MAX_BYTES + 1);
	memset(big, '#', DOCKERFILE_MAX_BYTES + 1);
	assert_int_equal(dockerfile_read(df, "Dockerfile", big, DOCKERFILE_MAX_BYTES + 1, NULL),
			 -EFBIG);
	assert_string_equal(dockerfile_errmsg(df), "Dockerfile: larger than 16777216 bytes");
	dockerfile_free(&df);
	free(big);
}

/* ENV A=$A$A doubled 40 times: bounded, refused with -E2BIG */
static void test_expansion_bound(void **state)
{
	struct dockerfile *df;
	char buf[4096] = "FROM scratch\nENV A=0123456789abcdef\n";
	struct df_source *s;
	size_t ns;
	(void)state;

	for (int i = 0; i < 40; i++)
		strcat(buf, "ENV A=$A$A\n");
	strcat(buf, "COPY $A /\n");
	assert_int_equal(dockerfile_new(&df), 0);
	assert_int_equal(dockerfile_read(df, "Dockerfile", buf, strlen(buf), NULL), 0);
	assert_int_equal(dockerfile_sources(df, NULL, CTXPACK_BUILDER_BUILDKIT, &s, &ns), -E2BIG);
	assert_int_equal(dockerfile_error(df)->line, 2 + 17);
	dockerfile_free(&df);
}

static int read_text(struct dockerfile **df, const char *text)
{
	assert_int_equal(dockerfile_new(df), 0);
	return dockerfile_read(*df, "Dockerfile", text, strlen(text), NULL);
}

/* Inputs that would exhaust the stack or time without the bounds */
static void test_hostile_bounds(void **state)
{
	struct dockerfile *df;
	struct df_source *s;
	size_t ns, k = 0;
	char *t = malloc(8 << 20);
	bool *need;
	(void)state;

	/* ${A:-${A:-...}} 10000 deep (60 KB, one line) */
	k = (size_t)sprintf(t, "FROM scratch\nCOPY ");
	for (int i = 0; i < 10000; i++)
		k += (size_t)sprintf(t + k, "${A:-");
	for (int i = 0; i < 10000; i++)
		t[k++] = '}';
	strcpy(t + k, " /\n");
	assert_int_equal(read_text(&df, t), 0);
	assert_int_equal(dockerfile_sources(df, NULL, CTXPACK_BUILDER_BUILDKIT, &s, &ns), -E2BIG);
	assert_int_equal(dockerfile_error(df)->line, 2);
	dockerfile_free(&df);

	/* ONBUILD ONBUILD ... 5000 times */
	k = (size_t)sprintf(t, "FROM scratch\n");
	for (int i = 0; i < 5000; i++)
		k += (size_t)sprintf(t + k, "ONBUILD ");
	strcpy(t + k, "RUN x\n");
	assert_int_equal(read_text(&df, t), -E2BIG);
	assert_int_equal(dockerfile_error(df)->line, 2);
	dockerfile_free(&df);

	/* 4097 stages */
	k = 0;
	for (int i = 0; i < 4097; i++)
		k += (size_t)sprintf(t + k, "FROM scratch AS s%d\n", i);
	assert_int_equal(read_text(&df, t), -E2BIG);
	assert_int_equal(dockerfile_error(df)->line, 4097);
	dockerfile_free(&df);

	/* 4096 stages, 50,000 COPY --from: one name lookup is a search */
	k = 0;
	for (int i = 0; i < 4096; i++)
		k += (size_t)sprintf(t + k, "FROM scratch AS s%d\n", i);
	for (int i = 0; i < 50000; i++)
		k += (size_t)sprintf(t + k, "COPY --from=s%d a b\n", i % 4095);
	assert_int_equal(read_text(&df, t), 0);
	need = calloc(df->nstages, sizeof(*need));
	assert_int_equal(dockerfile_stages_needed(df, NULL, CTXPACK_BUILDER_BUILDKIT, need), 0);
	for (size_t i = 0; i < df->nstages; i++)
		assert_true(need[i]);
	assert_int_equal(dockerfile_sources(df, "s7", CTXPACK_BUILDER_BUILDKIT, &s, &ns), 0);
	assert_int_equal(ns, 0);
	free(need);
	dockerfile_free(&df);
	free(t);
}

int main(int argc, char **argv)
{
	struct CMUnitTest *tests;
	size_t n = 0;
	int rc;

	for (int i = 1; i < argc; i++)
		load(argv[i]);
	tests = calloc(ncases + 3, sizeof(*tests));
	for (size_t i = 0; i < ncases; i++) {
		tests[n].name = cases[i].name;
		tests[n].test_func = cases[i].lex ? run_lex : run_case;
		tests[n++].initial_state = &cases[i];
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_api_edges);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_expansion_bound);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_hostile_bounds);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	rc = _cmocka_run_group_tests("dockerfile", tests, n, NULL, NULL);
	for (size_t i = 0; i < ncases; i++) {
		free(cases[i].df);
		freev(cases[i].ex, cases[i].nex);
		free(cases[i].line);
	}
	free(cases);
	free(tests);
	return rc;
}
