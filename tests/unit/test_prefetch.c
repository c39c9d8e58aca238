/* test_prefetch.c: small files read ahead of the archiver (src/prefetch.c).
 *
 * Many files of different sizes, read by several threads through a window
 * much smaller than the list, must come out in order with their own bytes;
 * a file that cannot be read comes out as its error at its own position
 * and the files after it still arrive; stopping early frees what was read
 * (the sanitizer build checks for leaks). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "beneath.h"
#include "prefetch.h"

#define NFILES 2000

struct fixture {
	char dir[64];
	int rootfd;
	struct walk_entry e[NFILES];
	const struct walk_entry *v[NFILES];
	char names[NFILES][24];
};

/* File i holds (i * 37) % 3000 bytes, byte j being (i + j) % 251: sizes
 * from empty to several pages, so that the byte window (not only the
 * slot count) fills up with several threads. */
static size_t size_of(size_t i)
{
	return i * 37 % 3000;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char buf[3000];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_prefetch.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->rootfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int d = 0; d < 10; d++) {
		char dn[16];
		snprintf(dn, sizeof(dn), "d%d", d);
		if (mkdirat(f->rootfd, dn, 0755) < 0)
			return -1;
	}
	for (size_t i = 0; i < NFILES; i++) {
		struct stat st;
		size_t n = size_of(i);
		int fd;
		/* Runs of files in directories d0..d9, with files at the top
		 * in between: a worker's kept directory changes often. */
		if (i % 7 == 3)
			snprintf(f->names[i], sizeof(f->names[i]), "f%05zu", i);
		else
			snprintf(f->names[i], sizeof(f->names[i]), "d%zu/f%05zu", i / 50 % 10, i);
		for (size_t j = 0; j < n; j++)
			buf[j] = (char)((i + j) % 251);
		fd = openat(f->rootfd, f->names[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, buf, n) != (ssize_t)n || fstat(fd, &st) < 0)
			return -1;
		close(fd);
		/* as the walk saw it: identity, size and times */
		f->e[i] = (struct walk_entry){.path = f->names[i], .len = strlen(f->names[i])};
		if (walk_entry_from_stat(&f->e[i], &st) < 0)
			return -1;
		f->v[i] = &f->e[i];
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < NFILES; i++)
		unlinkat(f->rootfd, f->names[i], 0);
	for (int d = 0; d < 10; d++) {
		char dn[16];
		snprintf(dn, sizeof(dn), "d%d", d);
		unlinkat(f->rootfd, dn, AT_REMOVEDIR);
	}
	close(f->rootfd);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void check_body(const struct tar_body *b, size_t i)
{
	assert_int_equal(b->fd, -1);
	assert_int_equal(b->len, size_of(i));
	for (size_t j = 0; j < b->len; j++)
		if ((unsigned char)b->data[j] != (i + j) % 251)
			fail_msg("file %zu byte %zu", i, j);
}

static void take_all(struct fixture *f, int threads, bool hash)
{
	struct prefetch *p;
	char err[256];

	assert_int_equal(prefetch_start(&p, f->rootfd, f->v, NFILES, threads, hash), 0);
	for (size_t i = 0; i < NFILES; i++) {
		struct tar_body b;
		int rc = prefetch_take(p, &b, err, sizeof(err));
		if (rc)
			fail_msg("file %zu: %s", i, err);
		check_body(&b, i);
		assert_int_equal(b.hashed, hash);
		if (hash) {
			/* the hash is of this file's bytes, whichever worker read it */
			XXH128_canonical_t c;
			XXH128_canonicalFromHash(&c, XXH3_128bits(b.data, b.len));
			assert_memory_equal(b.hash, c.digest, 16);
		}
		tar_body_free(&b);
	}
	prefetch_stop(&p);
	assert_null(p);
}

static void test_in_order_one_thread(void **state)
{
	take_all(*state, 1, false);
}

static void test_in_order_many_threads(void **state)
{
	take_all(*state, 8, false);
}

static void test_hashed_many_threads(void **state)
{
	take_all(*state, 8, true);
}

/* A file that changed size after the walk is an error where it stands. */
static void test_error_in_place(void **state)
{
	struct fixture *f = *state;
	struct prefetch *p;
	char err[256];
	const size_t bad = 777;

	f->e[bad].size += 1;
	assert_int_equal(prefetch_start(&p, f->rootfd, f->v, NFILES, 4, false), 0);
	for (size_t i = 0; i < NFILES; i++) {
		struct tar_body b;
		int rc = prefetch_take(p, &b, err, sizeof(err));
		if (i == bad) {
			assert_int_equal(rc, -ESTALE);
			assert_non_null(strstr(err, "/f00777' changed after it was walked (size: 1750 bytes walked, 1749 bytes now)"));
			assert_null(b.data);
		} else {
			assert_int_equal(rc, 0);
			check_body(&b, i);
		}
		tar_body_free(&b);
	}
	prefetch_stop(&p);
}

/* A directory replaced by a symlink after the walk: the file below it is
 * an error, never read through the link (the kept directory is opened
 * beneath the root, without following symlinks). */
static void symlinked_dir(void **state)
{
	struct fixture *f = *state;
	struct prefetch *p;
	char err[256];
	int bad = -1;

	assert_int_equal(renameat(f->rootfd, "d3", f->rootfd, "d3.real"), 0);
	assert_int_equal(symlinkat("d3.real", f->rootfd, "d3"), 0);
	assert_int_equal(prefetch_start(&p, f->rootfd, f->v, NFILES, 4, false), 0);
	for (size_t i = 0; i < NFILES; i++) {
		struct tar_body b;
		int rc = prefetch_take(p, &b, err, sizeof(err));
		bool in_d3 = !strncmp(f->names[i], "d3/", 3);
		if (in_d3 && rc == 0)
			fail_msg("%s read through a symlink", f->names[i]);
		if (!in_d3 && rc)
			fail_msg("%s: %s", f->names[i], err);
		if (in_d3 && bad < 0) {
			bad = rc;
			assert_non_null(strstr(err, "symlink"));
		}
		tar_body_free(&b);
	}
	prefetch_stop(&p);
	unlinkat(f->rootfd, "d3", 0);
	assert_int_equal(renameat(f->rootfd, "d3.real", f->rootfd, "d3"), 0);
	assert_int_equal(bad, -ESTALE);
}

static void test_symlinked_dir(void **state)
{
	symlinked_dir(state);
}

/* The same where openat2 is missing: each directory on the way is opened
 * with O_NOFOLLOW, so the symlink is not followed either.  (Last: the
 * fallback stays on for the rest of the process.) */
static void test_symlinked_dir_without_openat2(void **state)
{
	beneath_disable_openat2();
	symlinked_dir(state);
}

/* The archiver gives up early: what was read ahead is freed. */
static void test_stop_early(void **state)
{
	struct fixture *f = *state;
	struct prefetch *p;
	struct tar_body b;
	char err[256];

	assert_int_equal(prefetch_start(&p, f->rootfd, f->v, NFILES, 4, false), 0);
	assert_int_equal(prefetch_take(p, &b, err, sizeof(err)), 0);
	tar_body_free(&b);
	usleep(20000); /* let the workers fill the window */
	prefetch_stop(&p);
	assert_null(p);
}

static void test_empty_list(void **state)
{
	struct fixture *f = *state;
	struct prefetch *p;
	struct tar_body b;

	assert_int_equal(prefetch_start(&p, f->rootfd, f->v, 0, 4, false), 0);
	assert_int_equal(prefetch_take(p, &b, NULL, 0), -EINVAL);
	prefetch_stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_in_order_one_thread),
		T(test_in_order_many_threads),
		T(test_hashed_many_threads),
		T(test_error_in_place),
		T(test_symlinked_dir),
		T(test_stop_early),
		T(test_empty_list),
		T(test_symlinked_dir_without_openat2),
#undef T
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
