/* test_modules.c: unit tests of the library's modules one by one (utf8,
 * pattern helpers that mirror Go, regex, rules, match, explain,
 * dockerctx).  The data-driven cases live in tests/vectors. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctxpack/ctxpack.h"
#include "classify.h"
#include "dockerctx.h"
#include "explain.h"
#include "internal.h"
#include "match.h"
#include "pattern.h"
#include "regex.h"
#include "rules.h"
#include "secrets.h"
#include "utf8.h"

static void test_utf8_decode(void **state)
{
	uint32_t r;
	(void)state;
	assert_int_equal(utf8_decode((const unsigned char *)"a", 1, &r), 1);
	assert_int_equal(r, 'a');
	assert_int_equal(utf8_decode((const unsigned char *)"\xc3\xa9", 2, &r), 2);
	assert_int_equal(r, 0xe9);
	/* Go: invalid input is U+FFFD consuming one byte */
	assert_int_equal(utf8_decode((const unsigned char *)"\xff", 1, &r), 1);
	assert_int_equal(r, UTF8_RUNE_ERROR);
	assert_int_equal(utf8_decode((const unsigned char *)"\xc3", 1, &r), 1); /* truncated */
	assert_int_equal(r, UTF8_RUNE_ERROR);
	assert_int_equal(utf8_decode((const unsigned char *)"\xe0\x80\x80", 3, &r), 1); /* overlong */
	assert_int_equal(utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &r), 1); /* surrogate */
	assert_int_equal(utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &r), 1); /* > max */
	assert_int_equal(utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &r), 4);
	assert_int_equal(r, 0x1f600);
}

static void test_utf8_space(void **state)
{
	(void)state;
	assert_true(utf8_is_space(0xa0));
	assert_true(utf8_is_space(0x85));
	assert_true(utf8_is_space(0x3000));
	assert_true(utf8_is_space(0x2029));
	assert_false(utf8_is_space(0x200b)); /* ZWSP stays */
	assert_false(utf8_is_space(0x1c));
	assert_false(utf8_is_space(0xfeff));
}

static void check_clean(const char *in, const char *want)
{
	char out[256];
	size_t n = go_clean(in, strlen(in), out);
	out[n] = '\0';
	assert_string_equal(out, want);
}

static void test_go_clean(void **state)
{
	(void)state;
	check_clean("", ".");
	check_clean("a//b/", "a/b");
	check_clean("./x", "x");
	check_clean("x/../y", "y");
	check_clean("/../a", "/a");
	check_clean("../../a", "../../a");
	check_clean("a/../..", "..");
	check_clean("/", "/");
	check_clean("!./a", "!./a"); /* "!." is a name */
}

static void test_go_trim_space(void **state)
{
	size_t st, n;
	(void)state;
	n = go_trim_space("\xc2\xa0 a b\t\xe3\x80\x80", 10, &st);
	assert_int_equal(st, 3);
	assert_int_equal(n, 3);
	/* a raw 0x85 byte is not NEL (not UTF-8) and stays */
	n = go_trim_space("a\x85", 2, &st);
	assert_int_equal(n, 2);
	n = go_trim_space(" \t ", 3, &st);
	assert_int_equal(n, 0);
}

static void test_match_syntax(void **state)
{
	(void)state;
	assert_null(go_match_syntax_err("a*[b]", 5));
	assert_non_null(go_match_syntax_err("[a", 2));
	assert_non_null(go_match_syntax_err("a\\", 2));
	/* Go stops at the first chunk that cannot match "." */
	assert_null(go_match_syntax_err("a*\\", 3));
	assert_string_equal(go_match_syntax_err("[]a]", 4), "empty character class or range");
}

static int re_match_str(const char *re, const char *text, bool anchored, int *err)
{
	struct re_seq *q;
	struct re_prog *p;
	struct re_scratch s;
	char msg[128];
	int rc;

	*err = re_parse(&q, re, strlen(re), msg, sizeof(msg), NULL);
	if (*err)
		return -1;
	p = re_compile(q->v, q->n, anchored);
	assert_non_null(p);
	assert_int_equal(re_scratch_init(&s, re_prog_len(p)), 0);
	rc = re_run(p, &s, (const unsigned char *)text, strlen(text));
	re_scratch_release(&s);
	re_prog_free(p);
	re_seq_free(q);
	return rc;
}

static void test_regex(void **state)
{
	int err;
	(void)state;
	assert_int_equal(re_match_str("^a[^/]*$", "abc", false, &err), 1);
	assert_int_equal(re_match_str("^a[^/]*$", "a/b", false, &err), 0);
	assert_int_equal(re_match_str("^a|b[^/]*$", "ax/y", false, &err), 1);
	assert_int_equal(re_match_str("^(.*/)?b$", "x\ny/b", false, &err), 0); /* '.' stops at \n */
	assert_int_equal(re_match_str("^[^a]$", "\n", false, &err), 1);        /* classes match \n */
	assert_int_equal(re_match_str("^x{2,3}$", "xxx", false, &err), 1);
	assert_int_equal(re_match_str("^x{2,3}$", "xxxx", false, &err), 0);
	assert_int_equal(re_match_str("^\\x41\\101\\d$", "AA7", false, &err), 1);
	assert_int_equal(re_match_str("a\\b", "a b", false, &err), 1);
	assert_int_equal(re_match_str("[[:alpha:]]+", "abc", true, &err), 1);
	assert_int_equal(re_match_str("\xef\xbf\xbd", "\xfe", true, &err), 1); /* U+FFFD vs invalid byte */
	re_match_str("\\e", "", false, &err);
	assert_int_equal(err, RE_ESYNTAX);
	re_match_str("[z-a]", "", false, &err);
	assert_int_equal(err, RE_ESYNTAX);
	re_match_str("a**", "", false, &err);
	assert_int_equal(err, RE_ESYNTAX);
	re_match_str("x{1001}", "", false, &err);
	assert_int_equal(err, RE_ESYNTAX);
	re_match_str("\\pL", "", false, &err);
	assert_int_equal(err, RE_EUNSUPPORTED);
	re_match_str("(?i)a", "", false, &err);
	assert_int_equal(err, RE_EUNSUPPORTED);
	assert_int_equal(re_match_str("{x", "{x", true, &err), 1); /* not a repeat: literal */
}

static void test_rules_errors(void **state)
{
	ctxpack_rules *r;
	ctxpack_match *m;
	struct ctxpack_rule_info ri;
	(void)state;
	assert_int_equal(ctxpack_rules_new(&r), 0);
	assert_int_equal(ctxpack_rules_add_buffer(r, "x.ignore", "a\n# c\n!b/\n[a-\n", 14), 0);
	assert_int_equal(ctxpack_rules_count(r), 3);
	assert_int_equal(ctxpack_rules_get(r, 1, &ri), 0);
	assert_string_equal(ri.source, "x.ignore");
	assert_int_equal(ri.line, 3);
	assert_string_equal(ri.pattern, "!b");
	assert_int_equal(ctxpack_rules_get(r, 3, &ri), -ERANGE);
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT), -EINVAL);
	assert_null(m);
	assert_string_equal(ctxpack_rules_errmsg(r), "x.ignore:4: unterminated character class in '[a-'");
	ctxpack_rules_free(&r);
	assert_null(r);
	ctxpack_rules_free(&r); /* NULL is fine */
}

static int count_errors_at;
static void count_error(void *arg, size_t i)
{
	const struct rules_error *e = rules_last_error(arg);

	assert_int_equal(e->rule, (long)i);
	assert_int_equal(e->code, -EINVAL);
	count_errors_at = count_errors_at * 10 + e->line;
}

/* The last error on the rules as data: code, source, line, rule index,
 * path, and the message with its reason found without parsing it. */
static void test_rules_error_fields(void **state)
{
	ctxpack_rules *r;
	ctxpack_match *m;
	ctxpack_mscratch *sc;
	ctxpack_mstate *root, *st;
	struct ctxpack_decision d;
	struct rules_error e = { .rule = -1 };
	const struct rules_error *le;
	char big[70000];
	(void)state;

	assert_int_equal(ctxpack_rules_new(&r), 0);
	le = rules_last_error(r);
	assert_int_equal(le->code, 0);
	assert_int_equal(le->rule, -1);
	assert_string_equal(le->message, "");
	/* a compile error: the failing rule, its source and line */
	assert_int_equal(ctxpack_rules_add_buffer(r, "x.ignore", "a\n[a-\nb\n[z\n", 11), 0);
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT), -EINVAL);
	assert_int_equal(le->code, -EINVAL);
	assert_string_equal(le->source, "x.ignore");
	assert_int_equal(le->line, 2);
	assert_int_equal(le->rule, 1);
	assert_null(le->path);
	assert_string_equal(le->message, ctxpack_rules_errmsg(r));
	assert_string_equal(le->message + le->reason, "unterminated character class in '[a-'");
	/* every rule New() refuses, in one pass */
	count_errors_at = 0;
	assert_int_equal(rules_each_pattern_error(r, true, count_error, r), 0);
	assert_int_equal(count_errors_at, 24);
	assert_int_equal(le->line, 4);
	ctxpack_rules_free(&r);

	/* a read error: source and line, no rule */
	memset(big, 'y', sizeof(big));
	big[0] = 'x';
	big[1] = '\n';
	ctxpack_rules_new(&r);
	le = rules_last_error(r);
	assert_int_equal(ctxpack_rules_add_buffer(r, "f", big, sizeof(big)), -EINVAL);
	assert_int_equal(le->code, -EINVAL);
	assert_string_equal(le->source, "f");
	assert_int_equal(le->line, 2);
	assert_int_equal(le->rule, -1);
	assert_int_equal(strncmp(le->message, "f:2: line longer than", 21), 0);
	assert_int_equal(strncmp(le->message + le->reason, "line longer than", 16), 0);
	/* no source at all: the whole message is the reason */
	assert_int_equal(ctxpack_match_compile(&m, r, (enum ctxpack_builder)7), -EINVAL);
	assert_int_equal(le->reason, 0);
	assert_int_equal(le->line, 0);
	assert_string_equal(le->source, "");
	assert_string_equal(le->message, "unknown builder 7");
	ctxpack_rules_free(&r);

	/* a refusal of the matcher: the rule, the path it was evaluated for */
	ctxpack_rules_new(&r);
	assert_int_equal(ctxpack_rules_add_buffer(r, ".dockerignore", "*\n!a/\\e\n", 8), 0);
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT), 0);
	assert_int_equal(ctxpack_mscratch_new(&sc, m), 0);
	assert_int_equal(ctxpack_mstate_new(&root, m), 0);
	assert_int_equal(ctxpack_mstate_new(&st, m), 0);
	ctxpack_match_root(m, root);
	assert_int_equal(ctxpack_match_entry(m, sc, root, "a", 1, 0, st, &d), -EINVAL);
	match_refusal(m, d.rule, -EINVAL, "a", 1, &e);
	assert_int_equal(e.code, -EINVAL);
	assert_int_equal(e.rule, 1);
	assert_int_equal(e.line, 2);
	assert_string_equal(e.source, ".dockerignore");
	assert_string_equal(e.path, "a");
	assert_int_equal(strncmp(e.message, ".dockerignore:2: pattern '!a/\\e' is not a valid", 47), 0);
	assert_ptr_equal(strstr(e.message, "pattern "), e.message + e.reason);
	rules_error_release(&e);
	assert_null(e.path);
	assert_int_equal(e.code, 0);
	ctxpack_mstate_free(&st);
	ctxpack_mstate_free(&root);
	ctxpack_mscratch_free(&sc);
	ctxpack_match_free(&m);
	ctxpack_rules_free(&r);
}

static void test_buildkit_transport(void **state)
{
	ctxpack_rules *r;
	ctxpack_match *m;
	(void)state;
	/* a control byte fails BuildKit's gRPC metadata... */
	ctxpack_rules_new(&r);
	ctxpack_rules_add_buffer(r, ".dockerignore", "a\x01" "b\n", 4);
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT), -EINVAL);
	assert_non_null(strstr(ctxpack_rules_errmsg(r), "control character"));
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_CLASSIC), 0);
	ctxpack_match_free(&m);
	/* ...unless some pattern is not ASCII */
	ctxpack_rules_add_buffer(r, ".dockerignore", "\xc3\xa9\n", 3);
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT), 0);
	ctxpack_match_free(&m);
	ctxpack_rules_free(&r);
}

static void test_classic_readds(void **state)
{
	ctxpack_rules *r;
	struct ctxpack_rule_info ri;
	(void)state;
	ctxpack_rules_new(&r);
	ctxpack_rules_add_buffer(r, ".dockerignore", "**/sub\n", 7);
	/* the deprecated one-level matcher misses x/y/sub/Dockerfile */
	assert_int_equal(ctxpack_rules_add_classic_readds(r, "x/y/sub/Dockerfile"), 0);
	assert_int_equal(ctxpack_rules_count(r), 1);
	assert_int_equal(ctxpack_rules_add_classic_readds(r, "sub/Dockerfile"), 0);
	assert_int_equal(ctxpack_rules_count(r), 1);
	ctxpack_rules_add_buffer(r, ".dockerignore", "*\n", 2);
	assert_int_equal(ctxpack_rules_add_classic_readds(r, "Dockerfile"), 0);
	assert_int_equal(ctxpack_rules_count(r), 4);
	ctxpack_rules_get(r, 2, &ri);
	assert_string_equal(ri.pattern, "!.dockerignore");
	ctxpack_rules_get(r, 3, &ri);
	assert_string_equal(ri.pattern, "!Dockerfile");
	assert_int_equal(ri.line, 0);
	ctxpack_rules_free(&r);
}

static void test_explain_reuses_ancestors(void **state)
{
	ctxpack_rules *r;
	ctxpack_match *m;
	struct explainer ex;
	struct explain_result res;
	(void)state;
	ctxpack_rules_new(&r);
	ctxpack_rules_add_buffer(r, ".dockerignore", "build\n!build/keep\nbuild\n", 24);
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT), 0);
	assert_int_equal(explainer_init(&ex, m), 0);
	/* the same answers whatever order the paths come in */
	const char *paths[] = { "build/keep/x", "build", "build/keep", "buildx", "build/keep/x", "a/b" };
	const int sent[] = { 1, 0, 1, 1, 1, 1 };
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(explain_path(&ex, paths[i], strlen(paths[i]), &res), 0);
		assert_int_equal(res.sent, sent[i]);
	}
	explainer_release(&ex);
	ctxpack_match_free(&m);
	ctxpack_rules_free(&r);
}

static char *mkctx(void)
{
	char tmpl[] = "/tmp/ctxpack-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_dockerctx(void **state)
{
	struct dockerctx ctx;
	char *d = mkctx(), cmd[600];
	(void)state;
	assert_non_null(d);
	put(d, "Dockerfile", "FROM scratch\n");
	put(d, ".dockerignore", "a\n");
	put(d, "Dockerfile.dockerignore", "b\n");
	assert_int_equal(dockerctx_open(&ctx, d, NULL, CTXPACK_BUILDER_BUILDKIT), 0);
	assert_string_equal(ctx.ignore_source, "Dockerfile.dockerignore");
	assert_string_equal(ctx.dockerfile, "Dockerfile");
	dockerctx_close(&ctx);
	assert_int_equal(dockerctx_open(&ctx, d, NULL, CTXPACK_BUILDER_CLASSIC), 0);
	assert_string_equal(ctx.ignore_source, ".dockerignore");
	assert_int_equal(ctxpack_rules_count(ctx.rules), 1); /* a; no re-adds needed */
	dockerctx_close(&ctx);
	/* a missing Dockerfile is an error, as for docker build */
	snprintf(cmd, sizeof(cmd), "%s/Dockerfile", d);
	unlink(cmd);
	assert_int_not_equal(dockerctx_open(&ctx, d, NULL, CTXPACK_BUILDER_CLASSIC), 0);
	assert_non_null(strstr(ctx.errmsg, "Dockerfile"));
	dockerctx_close(&ctx);
	assert_int_not_equal(dockerctx_open(&ctx, "/nonexistent/ctxpack", NULL, CTXPACK_BUILDER_CLASSIC), 0);
	assert_non_null(strstr(ctx.errmsg, "/nonexistent/ctxpack"));
	dockerctx_close(&ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

/* dockerctx_relpath: what check-ignore and ctxpack_context_explain take
 * as a path in the context. */
static void test_relpath(void **state)
{
	static const struct {
		const char *root, *in;
		long n;
		const char *out;
	} cases[] = {
		{ "/ctx", "a/b", 3, "a/b" },
		{ "/ctx", "./a//b/../c/", 3, "a/c" },
		{ "/ctx", "/ctx/a/b", 3, "a/b" },
		{ "/ctx", "/ctx", 0, "" },
		{ "/ctx", ".", 0, "" },
		{ "/ctx", "/ctxa/b", -1, "" },      /* a sibling sharing the prefix */
		{ "/ctx", "/other/a", -1, "" },
		{ "/ctx", "../a", -1, "" },
		{ "/ctx", "a/../../b", -1, "" },
		{ "/ctx", "/ctx/../ctx/a", 1, "a" }, /* cleaned before the root is matched */
		{ "/ctx", "/ctx/../etc", -1, "" },
		{ "/ctx", "/ctx/", 0, "" },
		{ "/", "/etc/passwd", 10, "etc/passwd" },
		{ "/", "/", 0, "" },
	};
	char *buf = NULL;
	size_t bufsz = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long n = dockerctx_relpath(cases[i].root, cases[i].in, strlen(cases[i].in), &buf,
					   &bufsz);
		if (n != cases[i].n)
			fail_msg("%s in %s: %ld, expected %ld", cases[i].in, cases[i].root, n,
				 cases[i].n);
		if (n > 0)
			assert_string_equal(buf, cases[i].out);
	}
	free(buf);
}

/* thread_count leaves each worker its descriptors: under a small
 * RLIMIT_NOFILE, and counting what the process holds open already. */
static void test_thread_count_fds(void **state)
{
	struct rlimit old, rl;
	int fds[48], nfds = 0, few, many;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	many = thread_count(8, 64, 1000);
	while (nfds < 48 && (fds[nfds] = dup(0)) >= 0)
		nfds++;
	few = thread_count(8, 64, 1000);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(nfds, 48);
	assert_int_equal(many, 8);  /* about 60 free: room for 8 workers of 3 */
	assert_in_range(few, 1, 3); /* about 12 free */
	assert_int_equal(thread_count(1, 64, 1000), 1);
	assert_int_equal(thread_count(8, 64, 0), 1);
}

#define CONTENT(lit) secret_by_content(lit, sizeof(lit) - 1)

/* A PEM key is a block at a line start with a base64 body and the same
 * label's END line; placeholders of the token shapes are not secrets. */
static void test_secret_shapes(void **state)
{
	(void)state;
	assert_non_null(CONTENT("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"));
	assert_non_null(CONTENT("  -----BEGIN EC PRIVATE KEY-----\r\n  MHc=\r\n  -----END EC PRIVATE KEY-----"));
	assert_null(CONTENT("<input placeholder=\"-----BEGIN PRIVATE KEY-----\">\n"));
	assert_null(CONTENT("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"));
	assert_null(CONTENT("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END EC PRIVATE KEY-----\n"));
	assert_null(CONTENT("-----BEGIN PRIVATE KEY-----\nMIIE\n"));
	assert_non_null(CONTENT("key = 'sk_live_51HqLyjWDarjtT1zdp7dcXyZaBcD'"));
	assert_null(CONTENT("key = 'sk_live_xxx'"));
	assert_null(CONTENT("key = 'sk_live_xxxxxxxxxxxxxxxxxxxxxxxxxx'"));
	assert_non_null(CONTENT("id=AKIAQ3EGRZ7TWLMKFH2N\n"));
	assert_null(CONTENT("id=AKIAIOSFODNN7EXAMPLE\n"));
	assert_null(CONTENT("id=AKIAQ3EGRZ7TWLMKFH2NX\n"));
	assert_non_null(CONTENT("t: glpat-Abc123Def456Ghi789Jk"));
	assert_non_null(CONTENT("NPM_TOKEN=npm_QOwl0RO7s3C5gNfVo8B2xTqR1Lm4Kd9Za6Hp"));
	assert_non_null(CONTENT("k = AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY;"));
	assert_non_null(CONTENT("xoxa-2-abcdefghij12"));
	assert_non_null(CONTENT("https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/Zk3mQ9rT2vX8yL1p"));
	assert_non_null(CONTENT("API_TOKEN=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"));
	assert_null(CONTENT("decode('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N')"));
	assert_non_null(secret_by_name(".pgpass", 7));
	assert_non_null(secret_by_name("web/.htpasswd", 13));
	assert_non_null(secret_by_name(".vault-token", 12));
	assert_true(secret_name_needs_content("infra/prod.tfvars", 17));
	assert_non_null(secret_by_name_and_content("a.tfvars", 8, "db_password = \"x1\"\n", 19));
	assert_null(secret_by_name_and_content("a.tfvars", 8, "db_password = var.x\n", 20));
}

static void test_classify_names(void **state)
{
	(void)state;
	assert_int_equal(classify_path(".yarn", 5), KIND_NONE);
	assert_int_equal(classify_path(".yarn/releases", 14), KIND_NONE);
	assert_int_equal(classify_path(".yarn/plugins", 13), KIND_NONE);
	assert_int_equal(classify_path(".yarn/cache", 11), KIND_CACHE);
	assert_int_equal(classify_path("web/.yarn/unplugged", 19), KIND_CACHE);
	assert_int_equal(classify_path("src/cache", 9), KIND_NONE);
	assert_int_equal(classify_path("a/node_modules", 14), KIND_DEPENDENCIES);
	assert_true(classify_defensive_rule(".idea", 5));
	assert_true(classify_defensive_rule("**/node_modules/", 16));
	assert_true(classify_defensive_rule("/dist/**", 8));
	assert_true(classify_defensive_rule("*.pyc", 5));
	assert_false(classify_defensive_rule("srcc", 4));
	assert_false(classify_defensive_rule("config/secret.txt", 17));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_secret_shapes),
		cmocka_unit_test(test_classify_names),
		cmocka_unit_test(test_utf8_space),
		cmocka_unit_test(test_go_clean),
		cmocka_unit_test(test_go_trim_space),
		cmocka_unit_test(test_match_syntax),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_rules_errors),
		cmocka_unit_test(test_rules_error_fields),
		cmocka_unit_test(test_buildkit_transport),
		cmocka_unit_test(test_classic_readds),
		cmocka_unit_test(test_explain_reuses_ancestors),
		cmocka_unit_test(test_dockerctx),
		cmocka_unit_test(test_relpath),
		cmocka_unit_test(test_thread_count_fds),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
