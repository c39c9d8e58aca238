/* test_walk_race.c: the walk against a tree that changes between the stat
 * of an entry and the next call on it.  Linked with
 * -Wl,--wrap=readlinkat: when armed, the wrapper changes the symlink the
 * walk is about to read (replaced by a regular file, or removed) and then
 * calls the real readlinkat, exactly where another process could have
 * done it.  The walk must say that the entry changed during the run, not
 * "Invalid argument". */
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

#include "ctxpack/ctxpack.h"
#include "walk.h"

enum race { RACE_NONE, RACE_TO_FILE, RACE_REMOVE };

static enum race armed;
static const char *victim; /* the name readlinkat is asked about */

ssize_t __real_readlinkat(int dfd, const char *path, char *buf, size_t size);
ssize_t __wrap_readlinkat(int dfd, const char *path, char *buf, size_t size);

ssize_t __wrap_readlinkat(int dfd, const char *path, char *buf, size_t size)
{
	if (armed != RACE_NONE && victim && strcmp(path, victim) == 0) {
		enum race r = armed;
		armed = RACE_NONE;
		if (unlinkat(dfd, path, 0))
			abort();
		if (r == RACE_TO_FILE) {
			int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0)
				abort();
			close(fd);
		}
	}
	return __real_readlinkat(dfd, path, buf, size);
}

struct tree {
	char dir[64];
	int fd;
};

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->dir, "/tmp/ctxpack-walkrace-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->fd >= 0);
	assert_int_equal(mkdirat(t->fd, "sub", 0755), 0);
	assert_int_equal(symlinkat("../Dockerfile", t->fd, "sub/link"), 0);
	assert_int_equal(symlinkat("sub/link", t->fd, "top"), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;

	unlinkat(t->fd, "sub/link", 0);
	unlinkat(t->fd, "top", 0);
	unlinkat(t->fd, "sub", AT_REMOVEDIR);
	close(t->fd);
	rmdir(t->dir);
	free(t);
	return 0;
}

static int walk(struct tree *t, const char *rules, const char *dockerfile, char *err, size_t errsz)
{
	ctxpack_rules *r = NULL;
	ctxpack_match *m = NULL;
	struct walk_result res = {0};
	struct walk_options o;
	int rc;

	assert_int_equal(ctxpack_rules_new(&r), 0);
	assert_int_equal(ctxpack_rules_add_buffer(r, ".dockerignore", rules, strlen(rules)), 0);
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT), 0);
	o = (struct walk_options){CTXPACK_BUILDER_BUILDKIT, m, 1, dockerfile, false, false, NULL, NULL, NULL, CTXPACK_NONE, NULL, NULL};
	rc = walk_context(&res, t->fd, &o, err, errsz);
	if (!rc)
		walk_result_release(&res);
	ctxpack_match_free(&m);
	ctxpack_rules_free(&r);
	return rc;
}

static void expect(struct tree *t, enum race race, const char *name, const char *rules,
		   const char *dockerfile, const char *want)
{
	char err[256] = "";
	int rc;

	victim = name;
	armed = race;
	rc = walk(t, rules, dockerfile, err, sizeof(err));
	assert_int_equal(armed, RACE_NONE); /* the race happened */
	if (rc != -ESTALE || strcmp(err, want))
		fail_msg("rc %d, message '%s' (want '%s')", rc, err, want);
}

/* A symlink met in the walk, swapped for a file between its stat and its
 * readlinkat. */
static void test_symlink_became_file(void **state)
{
	expect(*state, RACE_TO_FILE, "top", "", NULL,
	       "'top' changed during the run (no longer a symlink)");
}

static void test_symlink_removed(void **state)
{
	expect(*state, RACE_REMOVE, "top", "", NULL, "'top' changed during the run (removed)");
}

/* The Dockerfile below a pruned directory, looked up on its own (BuildKit
 * sends it all the same), is a symlink that changes the same way. */
static void test_forced_dockerfile_became_file(void **state)
{
	expect(*state, RACE_TO_FILE, "link", "sub\n", "sub/link",
	       "'sub/link' changed during the run (no longer a symlink)");
}

/* Unarmed: the same tree walks. */
static void test_unchanged(void **state)
{
	char err[256];

	armed = RACE_NONE;
	assert_int_equal(walk(*state, "sub\n", "sub/link", err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_symlink_became_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forced_dockerfile_became_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unchanged, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
