/* test_used.c: sources resolved against a walk (src/used.c), on walks built
 * by hand: cleaning, wildcards per builder, directories and what they
 * leave out, excluded paths and the entry that excluded them, symlinks,
 * the classic builder's refusal of '..', refused wildcards.  What real
 * builds do is tests/vectors/used.jsonl (tests/cli/test_used.py). */
#define _GNU_SOURCE
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
#include "used.h"
#include "walk.h"

static int walk_order(const void *x, const void *y)
{
	const struct walk_entry *a = *(const struct walk_entry *const *)x;
	const struct walk_entry *b = *(const struct walk_entry *const *)y;

	return walk_order_cmp(a->path, a->len, b->path, b->len);
}

/* A walk (put in walk order, as walk_context returns it): "path" sent file, "path/" sent directory, "-path" excluded
 * (rule 0), "path>target" sent symlink, "!path" the forced Dockerfile. */
static const char *const TREE[] = {
	"a.txt", "b.txt", "c.md", "config/", "config/app.conf", "-config/x.key", "-secret/",
	"src/", "src/x/", "src/x/y.c", "src/z.c", "-keep/", "keep/in", "lnk>config",
	"up>../../config", "dangling>nope", "!Dockerfile",
};
#define NTREE (sizeof(TREE) / sizeof(TREE[0]))

struct fixture {
	struct walk_entry e[NTREE];
	struct walk_entry *v[NTREE];
	struct walk_result res;
	struct used u;
	struct df_source src;
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	for (size_t i = 0; i < NTREE; i++) {
		const char *s = TREE[i];
		struct walk_entry *e = &f->e[i];
		const char *gt;

		e->sent = true;
		e->rule = -1;
		e->type = WT_FILE;
		if (*s == '-' || *s == '!') {
			e->sent = *s == '!';
			e->forced = *s == '!';
			e->rule = 0;
			s++;
		}
		e->path = strdup(s);
		assert_non_null(e->path);
		gt = strchr(s, '>');
		if (gt) {
			e->path[gt - s] = '\0';
			e->link = e->path + (gt - s) + 1;
			e->type = WT_SYMLINK;
		}
		e->len = strlen(e->path);
		if (e->len && e->path[e->len - 1] == '/') {
			e->path[--e->len] = '\0';
			e->type = WT_DIR;
		}
		f->v[i] = e;
	}
	qsort(f->v, NTREE, sizeof(f->v[0]), walk_order);
	f->res.v = f->v;
	f->res.n = NTREE;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	used_release(&f->u);
	for (size_t i = 0; i < NTREE; i++)
		free(f->e[i].path);
	free(f);
	return 0;
}

/* Resolves one source; returns used_resolve's result. */
static int resolve(struct fixture *f, const char *path, enum ctxpack_builder b)
{
	used_release(&f->u);
	memset(&f->src, 0, sizeof(f->src));
	f->src.kind = DF_SRC_COPY;
	f->src.line = 7;
	f->src.path = (char *)path;
	return used_resolve(&f->u, &f->res, -1, NULL, &f->src, 1, b, "Dockerfile", f->err,
			    sizeof(f->err));
}

static const struct used_source *one(struct fixture *f, const char *path, enum ctxpack_builder b)
{
	assert_int_equal(resolve(f, path, b), 0);
	assert_int_equal(f->u.n, 1);
	return &f->u.v[0];
}

static void assert_matched(const struct used_source *s, const char *const *want, size_t n)
{
	assert_false(s->missing);
	assert_int_equal(s->nmatched, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(s->matched[i]->path, want[i]);
}

#define BK CTXPACK_BUILDER_BUILDKIT
#define CL CTXPACK_BUILDER_CLASSIC
#define MATCHED(s, ...)                                                                     \
	do {                                                                                \
		static const char *const w_[] = { __VA_ARGS__ };                            \
		assert_matched(s, w_, sizeof(w_) / sizeof(w_[0]));                          \
	} while (0)

static void test_clean(void **state)
{
	struct fixture *f = *state;

	MATCHED(one(f, "/src/./x//../z.c", BK), "src/z.c");
	MATCHED(one(f, "/src/./x//../z.c", CL), "src/z.c");
	/* '..' stops at the root on BuildKit, leaves the context on classic */
	MATCHED(one(f, "../../a.txt", BK), "a.txt");
	assert_true(one(f, "../../a.txt", CL)->outside);
	assert_true(f->u.v[0].fails);
	assert_false(one(f, "/a.txt", CL)->missing);
	/* the root: nothing matched, nothing missing, what is excluded left out */
	assert_false(one(f, ".", BK)->missing);
	assert_int_equal(f->u.v[0].nleft_out, 4); /* config/x.key, keep, secret, Dockerfile */
}

static void test_wildcards(void **state)
{
	struct fixture *f = *state;

	MATCHED(one(f, "*.txt", BK), "a.txt", "b.txt");
	MATCHED(one(f, "?.txt", CL), "a.txt", "b.txt");
	MATCHED(one(f, "[^a].txt", BK), "b.txt");
	/* '*' never crosses '/', '**' is '*' twice */
	MATCHED(one(f, "**/*.c", BK), "src/z.c");
	MATCHED(one(f, "**/*.c", CL), "src/z.c");
	MATCHED(one(f, "s*/x/*.c", CL), "src/x/y.c");
	/* nothing matched: classic fails, BuildKit copies nothing... */
	assert_true(one(f, "*.nope", CL)->fails);
	assert_true(one(f, "*.nope", BK)->missing);
	assert_false(f->u.v[0].fails);
	/* ...unless what comes before the wildcard is missing */
	assert_true(one(f, "nodir/*.c", BK)->fails);
	assert_true(f->u.v[0].base_missing);
	/* BuildKit follows a symlink before the wildcard, classic does not */
	MATCHED(one(f, "lnk/*.conf", BK), "config/app.conf");
	assert_true(one(f, "lnk/*.conf", CL)->fails);
	/* an excluded match is named */
	assert_true(one(f, "config/*.key", CL)->fails);
	assert_string_equal(f->u.v[0].excluded->path, "config/x.key");
	/* classic: a wildcard out of the context matches nothing */
	assert_true(one(f, "../*.txt", CL)->fails);
	assert_false(f->u.v[0].outside);
	MATCHED(one(f, "../*.txt", BK), "a.txt", "b.txt");
}

static void test_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(resolve(f, "a[", BK), -ENOTSUP);
	assert_string_equal(f->err, "Dockerfile:7: a wildcard source with a malformed character class ('a[') is not supported");
	assert_int_equal(resolve(f, "[a-]", CL), -ENOTSUP);
	assert_int_equal(resolve(f, "a\\b*", BK), -ENOTSUP);
	/* an escaped wildcard is a plain path */
	assert_true(one(f, "a\\*", BK)->missing);
	assert_false(f->u.v[0].wildcard);
}

static void test_dirs_and_exclusions(void **state)
{
	struct fixture *f = *state;
	const struct used_source *s;

	s = one(f, "config/", BK);
	MATCHED(s, "config");
	assert_int_equal(s->nleft_out, 1);
	assert_string_equal(s->left_out[0]->path, "config/x.key");
	/* excluded: the entry itself, or the directory above it */
	assert_string_equal(one(f, "secret", CL)->excluded->path, "secret");
	assert_true(f->u.v[0].fails);
	assert_string_equal(one(f, "config/x.key", BK)->excluded->path, "config/x.key");
	/* below an excluded directory the walk did not enter: without a
	 * descriptor to look, it is not said to exist */
	assert_null(one(f, "secret/k", BK)->excluded);
	assert_true(f->u.v[0].missing);
	/* an excluded directory with a sent path below it is there */
	MATCHED(one(f, "keep", CL), "keep");
	MATCHED(one(f, "keep/in", CL), "keep/in");
	/* not there at all */
	assert_null(one(f, "nope", BK)->excluded);
	assert_true(f->u.v[0].fails);
	/* BuildKit's COPY does not see the Dockerfile it was forced to send */
	assert_string_equal(one(f, "Dockerfile", BK)->excluded->path, "Dockerfile");
}

static void test_symlinks(void **state)
{
	struct fixture *f = *state;

	MATCHED(one(f, "lnk/app.conf", BK), "config/app.conf");
	MATCHED(one(f, "lnk", CL), "config");
	/* a target out of the context stops at the root */
	MATCHED(one(f, "up/app.conf", BK), "config/app.conf");
	assert_true(one(f, "dangling", BK)->fails);
	assert_string_equal(one(f, "lnk/x.key", CL)->excluded->path, "config/x.key");
}

/* The paths used_reads marks with flag, one string "a b c" in walk order. */
static char *reads(struct fixture *f, uint8_t flag)
{
	uint8_t flags[NTREE] = { 0 };
	static char out[512];
	size_t n = 0, set = used_reads(&f->u, flags), count = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NTREE; i++) {
		count += flags[i] != 0;
		if (flags[i] & flag)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", n ? " " : "",
					      f->v[i]->path);
	}
	assert_int_equal(set, count);
	/* marking again sets nothing new */
	assert_int_equal(used_reads(&f->u, flags), 0);
	return out;
}

static void test_reads(void **state)
{
	struct fixture *f = *state;

	one(f, "config/", BK);
	assert_string_equal(reads(f, USED_READ), "config config/app.conf");
	one(f, "lnk/app.conf", BK);
	assert_string_equal(reads(f, USED_READ), "config/app.conf");
	assert_string_equal(reads(f, USED_VIA), "lnk");
	one(f, "src/*/y.c", CL);
	assert_string_equal(reads(f, USED_READ), "src/x/y.c");
	/* the root: everything the builder's COPY sees (not the forced
	 * Dockerfile, not what is excluded) */
	one(f, ".", BK);
	assert_string_equal(reads(f, USED_READ), "a.txt b.txt c.md config config/app.conf dangling "
						 "keep/in lnk src src/x src/x/y.c src/z.c up");
	/* a missing source reads nothing */
	one(f, "nope", BK);
	assert_string_equal(reads(f, USED_READ | USED_VIA), "");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_clean), T(test_wildcards), T(test_refused), T(test_dirs_and_exclusions),
		T(test_symlinks), T(test_reads),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
