/* test_pack.c: the member plan (pack.h: pack_plan), for both builders:
 * hard links get their first name; a Dockerfile outside the context adds
 * its generated members last with the sizes they are archived with; the
 * context's .dockerignore is rewritten in its place, not added again; and
 * the plan, the library's entries (ctxpack_context_entry), the manifest
 * (pack_members) and the archive (pack_write read back by
 * members_from_tar) agree member for member. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "ctxpack/ctxpack.h"
#include "internal.h"
#include "members.h"
#include "pack.h"
#include "walk.h"

static const enum ctxpack_builder BUILDERS[] = { CTXPACK_BUILDER_BUILDKIT,
						  CTXPACK_BUILDER_CLASSIC };

#define DOCKERFILE_TEXT "FROM scratch\nCOPY . /\n"
/* ".dockerfile." and 20 hex digits */
#define NAME_LEN 32

struct tree {
	char dir[64];
	char ctx[128], df[128];
};

static void put(const char *root, const char *path, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, path);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void link_(const char *root, const char *from, const char *to)
{
	char a[512], b[512];

	snprintf(a, sizeof(a), "%s/%s", root, from);
	snprintf(b, sizeof(b), "%s/%s", root, to);
	assert_int_equal(link(a, b), 0);
}

/* ctx/{a, sub/b and sub/c (hard links to a), z}, and ext/Dockerfile
 * outside it; ignore: the text of ctx/.dockerignore, or NULL for none;
 * inside: also ctx/Dockerfile. */
static void mktree(struct tree *t, const char *ignore, bool inside)
{
	char p[256];

	snprintf(t->dir, sizeof(t->dir), "/tmp/ctxpack-plan-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->ctx, sizeof(t->ctx), "%s/ctx", t->dir);
	snprintf(t->df, sizeof(t->df), "%s/ext/Dockerfile", t->dir);
	assert_int_equal(mkdir(t->ctx, 0755), 0);
	snprintf(p, sizeof(p), "%s/ext", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sub", t->ctx);
	assert_int_equal(mkdir(p, 0755), 0);
	put(t->ctx, "a", "hello\n");
	link_(t->ctx, "a", "sub/b");
	link_(t->ctx, "a", "sub/c");
	put(t->ctx, "z", "zz\n");
	put(t->dir, "ext/Dockerfile", DOCKERFILE_TEXT);
	if (inside)
		put(t->ctx, "Dockerfile", DOCKERFILE_TEXT);
	if (ignore)
		put(t->ctx, ".dockerignore", ignore);
}

static void rmtree(struct tree *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

static struct pack_session *open_session(const struct tree *t, enum ctxpack_builder b,
					 bool outside)
{
	struct pack_options o = { .builder = b, .dir = t->ctx, .threads = 2 };
	struct pack_session *s = NULL;
	char err[1024] = "";

	o.dockerfile = outside ? t->df : NULL;
	if (pack_open(&s, &o, err, sizeof(err)))
		fail_msg("pack_open: %s", err);
	return s;
}

static const struct pack_member *find(const struct pack_plan *pl, const char *path, size_t *at)
{
	const struct pack_member *found = NULL;

	for (size_t k = 0; k < pl->n; k++)
		if (pl->v[k].len == strlen(path) && !memcmp(pl->v[k].path, path, pl->v[k].len)) {
			assert_null(found); /* one member per name */
			found = &pl->v[k];
			if (at)
				*at = k;
		}
	assert_non_null(found);
	return found;
}

static void test_hard_links_get_their_first_name(void **state)
{
	(void)state;
	for (size_t bi = 0; bi < ARRAY_SIZE(BUILDERS); bi++) {
		struct tree t;
		struct pack_session *s;
		const struct pack_plan *pl;
		const struct pack_member *a, *b, *c;

		mktree(&t, NULL, true);
		s = open_session(&t, BUILDERS[bi], false);
		pl = pack_plan(s);
		a = find(pl, "a", NULL);
		assert_int_equal(a->kind, PM_WALKED);
		assert_int_equal(a->type, CTXPACK_ENTRY_FILE);
		assert_int_equal(a->size, 6);
		assert_null(a->link);
		for (int k = 0; k < 2; k++) {
			b = find(pl, k ? "sub/c" : "sub/b", NULL);
			assert_int_equal(b->kind, PM_HARDLINK);
			assert_int_equal(b->type, CTXPACK_ENTRY_HARDLINK);
			assert_string_equal(b->link, "a");
			assert_int_equal(b->link_len, 1);
			assert_int_equal(b->size, 0);
			assert_ptr_equal(b->e, pack_entries(s)->v[b->at]);
		}
		c = find(pl, "z", NULL);
		assert_int_equal(c->kind, PM_WALKED);
		assert_int_equal(c->size, 3);
		/* Nothing generated: the Dockerfile is in the context. */
		assert_int_equal(pl->generated_files, 0);
		assert_int_equal(pl->generated_bytes, 0);
		for (size_t k = 0; k < pl->n; k++)
			assert_true(pl->v[k].kind <= PM_HARDLINK);
		pack_close(&s);
		rmtree(&t);
	}
}

/* The archive pack_write makes of s, read back. */
static void archive_of(struct pack_session *s, struct member_list *out)
{
	char path[] = "/tmp/ctxpack-plan-tar-XXXXXX", err[1024] = "";
	struct pack_report rep;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	if (pack_write(s, fd, &rep, err, sizeof(err)))
		fail_msg("pack_write: %s", err);
	assert_int_equal(rep.entries, pack_plan(s)->n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (members_from_tar(out, fd, "plan.tar", err, sizeof(err)))
		fail_msg("members_from_tar: %s", err);
	close(fd);
}

/* The member of l named name. */
static const struct member *member_named(const struct member_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].len == strlen(name) && !memcmp(l->v[i].path, name, l->v[i].len))
			return &l->v[i];
	fail_msg("no member '%s'", name);
	return NULL;
}

/* m is a regular file holding exactly want (by its XXH3-128). */
static void assert_content(const struct member *m, const char *want)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(want, strlen(want)));
	assert_int_equal(m->size, strlen(want));
	assert_true(m->hashed);
	assert_memory_equal(m->hash, c.digest, 16);
}

static void test_outside_dockerfile_without_ignore(void **state)
{
	(void)state;
	for (size_t bi = 0; bi < ARRAY_SIZE(BUILDERS); bi++) {
		struct tree t;
		struct pack_session *s;
		const struct pack_plan *pl;
		const struct pack_member *ig, *df;
		struct member_list tar;
		struct pack_report rep;
		char want[128];

		mktree(&t, NULL, false);
		s = open_session(&t, BUILDERS[bi], true);
		pl = pack_plan(s);
		assert_true(pl->n >= 2);
		ig = &pl->v[pl->n - 2];
		df = &pl->v[pl->n - 1];
		/* The generated .dockerignore, then the Dockerfile, last. */
		assert_int_equal(ig->kind, PM_IGNORE_GENERATED);
		assert_null(ig->e);
		assert_string_equal(ig->path, ".dockerignore");
		assert_int_equal(ig->size, 13 + 1 + NAME_LEN + 1);
		assert_int_equal(ig->mode, 0600);
		assert_int_equal(ig->type, CTXPACK_ENTRY_FILE);
		assert_int_equal(df->kind, PM_DOCKERFILE);
		assert_null(df->e);
		assert_int_equal(df->len, NAME_LEN);
		assert_memory_equal(df->path, ".dockerfile.", 12);
		assert_int_equal(df->size, strlen(DOCKERFILE_TEXT));
		assert_int_equal(df->mode, 0600);
		assert_int_equal(ig->mtime, df->mtime);
		for (size_t k = 0; k + 2 < pl->n; k++)
			assert_true(pl->v[k].kind <= PM_HARDLINK);
		assert_int_equal(pl->generated_files, 2);
		assert_int_equal(pl->generated_bytes, ig->size + df->size);
		pack_generated(s, &rep);
		assert_string_equal(rep.dockerfile_name, df->path);
		assert_int_equal(rep.generated_files, 2);
		/* And the archive holds those bytes. */
		archive_of(s, &tar);
		snprintf(want, sizeof(want), ".dockerignore\n%s\n", df->path);
		assert_content(member_named(&tar, ".dockerignore"), want);
		assert_content(member_named(&tar, df->path), DOCKERFILE_TEXT);
		member_list_release(&tar);
		pack_close(&s);
		rmtree(&t);
	}
}

static void test_outside_dockerfile_rewrites_ignore(void **state)
{
	(void)state;
	for (size_t bi = 0; bi < ARRAY_SIZE(BUILDERS); bi++) {
		struct tree t;
		struct pack_session *s;
		const struct pack_plan *pl;
		const struct pack_member *ig, *df;
		struct member_list tar;
		struct pack_report rep;
		size_t at;
		char want[128];

		mktree(&t, "skip\n", false);
		s = open_session(&t, BUILDERS[bi], true);
		pl = pack_plan(s);
		/* find() asserts the name is there once: rewritten, not added. */
		ig = find(pl, ".dockerignore", &at);
		df = &pl->v[pl->n - 1];
		assert_int_equal(at, 0); /* its place in the walk: first */
		assert_int_equal(ig->kind, PM_IGNORE_REWRITTEN);
		assert_non_null(ig->e);
		assert_ptr_equal(ig->e, pack_entries(s)->v[ig->at]);
		assert_int_equal(ig->type, CTXPACK_ENTRY_FILE);
		assert_int_equal(ig->size, 5 + 1 + NAME_LEN + 1);
		assert_int_equal(ig->mode, ig->e->mode);
		assert_int_equal(df->kind, PM_DOCKERFILE);
		assert_int_equal(df->size, strlen(DOCKERFILE_TEXT));
		assert_int_equal(pl->v[pl->n - 2].kind, PM_WALKED); /* z */
		assert_int_equal(pl->generated_files, 1);
		assert_int_equal(pl->generated_bytes, 1 + NAME_LEN + 1 + df->size);
		pack_generated(s, &rep);
		assert_int_equal(rep.generated_files, 1);
		archive_of(s, &tar);
		assert_int_equal(tar.n, pl->n);
		snprintf(want, sizeof(want), "skip\n\n%s\n", df->path);
		assert_content(member_named(&tar, ".dockerignore"), want);
		member_list_release(&tar);
		pack_close(&s);
		rmtree(&t);
	}
}

/* The plan, the library's entries, the manifest and the archive: the same
 * members in the same order, with the same names, types, sizes, modes,
 * links and (manifest, archive) times and contents. */
static void test_plan_library_manifest_archive_agree(void **state)
{
	(void)state;
	for (size_t bi = 0; bi < ARRAY_SIZE(BUILDERS); bi++)
		for (int with_ignore = 0; with_ignore < 2; with_ignore++) {
			struct tree t;
			struct pack_session *s;
			const struct pack_plan *pl;
			struct member_list man, tar;
			ctxpack_context *c = NULL;
			char err[1024] = "";
			bool links = false;

			mktree(&t, with_ignore ? "skip\n" : NULL, false);
			s = open_session(&t, BUILDERS[bi], true);
			pl = pack_plan(s);
			archive_of(s, &tar);
			if (pack_hash(s, NULL, NULL, NULL, NULL, err, sizeof(err)) ||
			    pack_members(s, &man, err, sizeof(err)))
				fail_msg("%s", err);
			assert_int_equal(ctxpack_context_new(&c), 0);
			assert_int_equal(ctxpack_context_set_builder(c, BUILDERS[bi]), 0);
			assert_int_equal(ctxpack_context_set_dockerfile(c, t.df), 0);
			if (ctxpack_context_open(c, t.ctx))
				fail_msg("%s", ctxpack_context_errmsg(c));
			assert_int_equal(ctxpack_context_count(c), pl->n);
			assert_int_equal(man.n, pl->n);
			assert_int_equal(tar.n, pl->n);
			for (size_t k = 0; k < pl->n; k++) {
				const struct pack_member *p = &pl->v[k];
				const struct member *m = &man.v[k], *a = &tar.v[k];
				struct ctxpack_entry e;
				assert_int_equal(ctxpack_context_entry(c, k, &e), 0);
				assert_int_equal(e.path_len, p->len);
				assert_memory_equal(e.path, p->path, p->len);
				assert_int_equal(m->len, p->len);
				assert_memory_equal(m->path, p->path, p->len);
				assert_int_equal(a->len, p->len);
				assert_memory_equal(a->path, p->path, p->len);
				assert_int_equal(e.type, p->type);
				assert_int_equal(m->type, member_types[p->type].tar);
				assert_int_equal(a->type, m->type);
				assert_int_equal(e.size, p->size);
				assert_int_equal(m->size, p->size);
				assert_int_equal(a->size, p->size);
				assert_int_equal(e.mode, p->mode);
				assert_int_equal(m->mode, p->mode);
				assert_int_equal(a->mode, p->mode);
				assert_int_equal(m->mtime, p->mtime);
				assert_int_equal(a->mtime, p->mtime);
				assert_int_equal(e.generated, p->kind >= PM_IGNORE_REWRITTEN);
				assert_int_equal(m->hashed, a->hashed);
				if (m->hashed)
					assert_memory_equal(m->hash, a->hash, 16);
				if (p->link) {
					assert_string_equal(e.link, p->link);
					assert_int_equal(m->link_len, p->link_len);
					assert_memory_equal(m->link, p->link, p->link_len);
					assert_int_equal(a->link_len, p->link_len);
					assert_memory_equal(a->link, p->link, p->link_len);
				} else {
					assert_null(e.link);
					assert_null(m->link);
				}
				links |= p->kind == PM_HARDLINK;
			}
			assert_true(links);
			assert_int_equal(pl->v[pl->n - 1].kind, PM_DOCKERFILE);
			ctxpack_context_free(&c);
			member_list_release(&man);
			member_list_release(&tar);
			pack_close(&s);
			rmtree(&t);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hard_links_get_their_first_name),
		cmocka_unit_test(test_outside_dockerfile_without_ignore),
		cmocka_unit_test(test_outside_dockerfile_rewrites_ignore),
		cmocka_unit_test(test_plan_library_manifest_archive_agree),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
