/* test_walk.c: the parallel walker on small trees built in code: walk
 * order, what each builder sends (re-included entries, lazy parents, the
 * forced Dockerfile, sockets), pruning, permissions, symlinks, hard links,
 * odd names, deep paths, descriptor pressure, and that the result does not
 * depend on the thread count. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctxpack/ctxpack.h"
#include "walk.h"

/* ---- trees ---- */

struct tree {
	char dir[64];
	int fd;
};

static int setup_tree(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->dir, "/tmp/ctxpack-walk-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->fd >= 0);
	*state = t;
	return 0;
}

/* Removes name (in at) and everything below it, whatever the modes. */
static void rm_at(int at, const char *name)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW))
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(at, name, 0);
		return;
	}
	fchmodat(at, name, 0700, 0);
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (d = fdopendir(fd))) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				rm_at(dirfd(d), de->d_name);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	unlinkat(at, name, AT_REMOVEDIR);
}

static int teardown_tree(void **state)
{
	struct tree *t = *state;

	if (getuid() == 0 && geteuid() != 0) {
		assert_int_equal(seteuid(0), 0);
		assert_int_equal(setegid(0), 0);
	}
	close(t->fd);
	rm_at(AT_FDCWD, t->dir);
	free(t);
	return 0;
}

static void mkd(int at, const char *path, mode_t mode)
{
	assert_int_equal(mkdirat(at, path, 0700), 0);
	assert_int_equal(fchmodat(at, path, mode, 0), 0);
}

static void mkf(int at, const char *path, const char *content, mode_t mode)
{
	int fd = openat(at, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t n = strlen(content);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, n), (ssize_t)n);
	close(fd);
	assert_int_equal(fchmodat(at, path, mode, 0), 0);
}

static void mkl(int at, const char *target, const char *path)
{
	assert_int_equal(symlinkat(target, at, path), 0);
}

static void mksock(struct tree *t, const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", t->dir, name);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
}

/* Permission bits mean nothing to root: a test about them runs as nobody
 * (the effective ids only, given back in teardown), or is skipped when it
 * cannot.  Everything it creates afterwards belongs to nobody. */
static bool unprivileged(struct tree *t, const char *test)
{
	if (geteuid() != 0)
		return true;
	if (fchown(t->fd, 65534, 65534) == 0 && setegid(65534) == 0 && seteuid(65534) == 0)
		return true;
	print_message(
		"# %s: running as root and cannot switch to uid 65534 (%s), where permission bits do not apply: skipped\n",
		test, strerror(errno));
	return false;
}

/* ---- walking ---- */

static int walk_rules(struct walk_result *res, int fd, enum ctxpack_builder b, const char *rules,
		      int threads, const char *dockerfile, char *err, size_t errsz)
{
	ctxpack_rules *r = NULL;
	ctxpack_match *m = NULL;
	struct walk_options o;
	int rc;

	assert_int_equal(ctxpack_rules_new(&r), 0);
	assert_int_equal(ctxpack_rules_add_buffer(r, ".dockerignore", rules, strlen(rules)), 0);
	assert_int_equal(ctxpack_match_compile(&m, r, b), 0);
	o = (struct walk_options){b, m, threads, dockerfile, false, false, NULL, NULL, NULL, CTXPACK_NONE, NULL, NULL};
	rc = walk_context(res, fd, &o, err, errsz);
	ctxpack_match_free(&m);
	ctxpack_rules_free(&r);
	return rc;
}

/* One line per entry: the path, '/' for a directory, " P" for a BuildKit
 * parent, " F" for the forced Dockerfile. */
static char *listing(const struct walk_result *res)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	assert_non_null(f);
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		assert_int_equal(strlen(e->path), e->len);
		fprintf(f, "%s%s%s%s\n", e->path, e->type == WT_DIR ? "/" : "",
			e->parent ? " P" : "", e->forced ? " F" : "");
	}
	fclose(f);
	return s;
}

static void check_walk(int fd, enum ctxpack_builder b, const char *rules, const char *dockerfile,
		       const char *want)
{
	static const int threads[] = {1, 4};
	char err[512];

	for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
		struct walk_result res;
		char *got;
		int rc = walk_rules(&res, fd, b, rules, threads[i], dockerfile, err, sizeof(err));
		if (rc)
			fail_msg("walk failed (%d): %s", rc, err);
		got = listing(&res);
		if (strcmp(got, want))
			fail_msg("%s, rules '%s', %d threads:\n--- got\n%s--- want\n%s",
				 b == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit", rules,
				 threads[i], got, want);
		free(got);
		/* walk_result.v is in walk order: what walk_find searches */
		for (size_t j = 0; j < res.n; j++) {
			bool found;
			if (j && walk_order_cmp(res.v[j - 1]->path, res.v[j - 1]->len, res.v[j]->path,
						res.v[j]->len) >= 0)
				fail_msg("'%s' comes before '%s'", res.v[j - 1]->path, res.v[j]->path);
			assert_int_equal(walk_find(&res, res.v[j]->path, res.v[j]->len, &found), j);
			assert_true(found);
		}
		walk_result_release(&res);
	}
}

static void check_both(int fd, const char *rules, const char *want)
{
	check_walk(fd, CTXPACK_BUILDER_CLASSIC, rules, NULL, want);
	check_walk(fd, CTXPACK_BUILDER_BUILDKIT, rules, NULL, want);
}

/* Expects the walk to fail with rc and a message containing what. */
static void check_fails(int fd, enum ctxpack_builder b, const char *rules, int threads, int want_rc,
			const char *what)
{
	struct walk_result res;
	char err[512];
	int rc = walk_rules(&res, fd, b, rules, threads, NULL, err, sizeof(err));

	if (rc != want_rc)
		fail_msg("%s, rules '%s': rc %d, want %d (%s)",
			 b == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit", rules, rc, want_rc,
			 err);
	if (!strstr(err, what))
		fail_msg("message '%s' does not contain '%s'", err, what);
	assert_int_equal(res.n, 0);
	assert_null(res.v);
}

static bool same_entry(const struct walk_entry *a, const struct walk_entry *b)
{
	return a->len == b->len && !memcmp(a->path, b->path, a->len) && a->type == b->type &&
	       a->mode == b->mode && a->size == b->size && a->mtime_sec == b->mtime_sec &&
	       a->mtime_nsec == b->mtime_nsec && a->dev == b->dev && a->ino == b->ino &&
	       a->nlink == b->nlink && a->rdev_major == b->rdev_major &&
	       a->rdev_minor == b->rdev_minor && !a->link == !b->link &&
	       (!a->link || !strcmp(a->link, b->link)) && a->verdict == b->verdict &&
	       a->rule == b->rule && a->parent == b->parent && a->forced == b->forced;
}

static void assert_same_result(const struct walk_result *a, const struct walk_result *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		if (!same_entry(a->v[i], b->v[i]))
			fail_msg("entry %zu differs: '%s' vs '%s'", i, a->v[i]->path, b->v[i]->path);
}

static const struct walk_entry *find(const struct walk_result *res, const char *path)
{
	for (size_t i = 0; i < res->n; i++)
		if (!strcmp(res->v[i]->path, path))
			return res->v[i];
	return NULL;
}

/* Lowers RLIMIT_NOFILE so that no directory descriptor can be kept: every
 * directory is then re-opened component by component from the root. */
static void low_fd_limit(struct rlimit *saved)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, saved), 0);
	rl = *saved;
	rl.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* ---- tests ---- */

/* A22: per-directory bytewise, depth first: "a/" and its contents before
 * "a-b" and "a.txt"; '-' 'A' 'B' '_' 'a' 'ä'. */
static void test_order(void **state)
{
	struct tree *t = *state;

	mkd(t->fd, "a", 0755);
	mkf(t->fd, "a/b", "", 0644);
	mkf(t->fd, "a.txt", "", 0644);
	mkf(t->fd, "a-b", "", 0644);
	mkf(t->fd, "-", "", 0644);
	mkf(t->fd, "A", "", 0644);
	mkf(t->fd, "B", "", 0644);
	mkf(t->fd, "_", "", 0644);
	mkf(t->fd, "\xc3\xa4", "", 0644);
	mkd(t->fd, "a/c", 0755);
	mkf(t->fd, "a/c/d", "", 0644);
	mkf(t->fd, "a/c.d", "", 0644);
	check_both(t->fd, "", "-\nA\nB\n_\na/\na/b\na/c/\na/c/d\na/c.d\na-b\na.txt\n\xc3\xa4\n");
}

static void test_empty(void **state)
{
	struct tree *t = *state;
	struct walk_result res;
	char err[256];

	/* The root itself is never an entry. */
	assert_int_equal(
		walk_rules(&res, t->fd, CTXPACK_BUILDER_BUILDKIT, "", 2, NULL, err, sizeof(err)),
		0);
	assert_int_equal(res.n, 0);
	walk_result_release(&res);
	mkd(t->fd, "e", 0755);
	check_both(t->fd, "", "e/\n");
	/* A15: an excluded empty directory is not sent, one emptied by the
	 * rules is. */
	mkd(t->fd, "full", 0755);
	mkf(t->fd, "full/x", "", 0644);
	check_both(t->fd, "e\nfull/*\n", "full/\n");
}

/* A13 vs B: re-included entries below an excluded directory come without
 * their parents in classic, with lazy parents in BuildKit. */
static void test_reinclude(void **state)
{
	struct tree *t = *state;
	struct walk_result res;
	const struct walk_entry *e;
	char err[256];

	mkd(t->fd, "dir", 0755);
	mkf(t->fd, "dir/keep", "k", 0644);
	mkf(t->fd, "dir/other", "o", 0644);
	mkd(t->fd, "dir/sub", 0755);
	mkf(t->fd, "dir/sub/keep", "", 0644);
	mkf(t->fd, "dir/sub/x", "", 0644);
	mkf(t->fd, "top", "", 0644);

	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "dir\n!dir/keep\n", NULL, "dir/keep\ntop\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "dir\n!dir/keep\n", NULL,
		   "dir/ P\ndir/keep\ntop\n");
	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "dir\n!dir/sub/keep\n", NULL,
		   "dir/sub/keep\ntop\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "dir\n!dir/sub/keep\n", NULL,
		   "dir/ P\ndir/sub/ P\ndir/sub/keep\ntop\n");
	/* A re-included directory is sent with its contents. */
	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "dir\n!dir/sub\n", NULL,
		   "dir/sub/\ndir/sub/keep\ndir/sub/x\ntop\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "dir\n!dir/sub\n", NULL,
		   "dir/ P\ndir/sub/\ndir/sub/keep\ndir/sub/x\ntop\n");
	/* Entered, but nothing below it is sent: no parent. */
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "dir\n!dir/none\n", NULL, "top\n");
	/* A14: classic enters only for an exception's literal prefix;
	 * BuildKit's wildcard exceptions reach in. */
	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "dir\n!*/keep\n", NULL, "top\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "dir\n!*/keep\n", NULL,
		   "dir/ P\ndir/keep\ntop\n");
	/* B: parent results; a later 'dir' does not re-exclude dir/keep. */
	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "dir\n!dir/keep\ndir\n", NULL,
		   "dir/keep\ntop\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "dir\n!dir/keep\ndir\n", NULL,
		   "dir/ P\ndir/keep\ntop\n");

	/* Verdicts and rules travel with the entries. */
	assert_int_equal(walk_rules(&res, t->fd, CTXPACK_BUILDER_BUILDKIT, "dir\n!dir/keep\n", 3,
				    NULL, err, sizeof(err)),
			 0);
	assert_int_equal(res.n, 3);
	e = find(&res, "dir");
	assert_non_null(e);
	assert_true(e->parent);
	assert_int_equal(e->verdict, CTXPACK_EXCLUDE);
	assert_int_equal(e->rule, 0);
	e = find(&res, "dir/keep");
	assert_non_null(e);
	assert_false(e->parent);
	assert_int_equal(e->verdict, CTXPACK_INCLUDE);
	assert_int_equal(e->rule, 1);
	assert_int_equal(e->size, 1);
	e = find(&res, "top");
	assert_int_equal(e->verdict, CTXPACK_NONE);
	assert_int_equal(e->rule, -1);
	walk_result_release(&res);
}

/* BuildKit mode: ctxpack always puts the Dockerfile in, alone. */
static void test_dockerfile(void **state)
{
	struct tree *t = *state;
	struct walk_result res;
	char err[256];

	mkf(t->fd, "Dockerfile", "FROM scratch\n", 0644);
	mkd(t->fd, "build", 0755);
	mkf(t->fd, "build/Dockerfile", "FROM scratch\n", 0644);
	mkf(t->fd, "build/keep", "", 0644);
	mkf(t->fd, "build/x", "", 0644);
	mkd(t->fd, "src", 0755);
	mkf(t->fd, "src/a", "", 0644);

	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "*\n", "Dockerfile", "Dockerfile F\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "", "Dockerfile",
		   "Dockerfile\nbuild/\nbuild/Dockerfile\nbuild/keep\nbuild/x\nsrc/\nsrc/a\n");
	/* Below a pruned directory: looked up on its own. */
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "build\n", "build/Dockerfile",
		   "Dockerfile\nbuild/Dockerfile F\nsrc/\nsrc/a\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "*\n", "build/Dockerfile",
		   "build/Dockerfile F\n");
	/* Met in the walk: still no parent for it, but the parent of
	 * build/keep goes first. */
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "build\n!build/keep\n", "build/Dockerfile",
		   "Dockerfile\nbuild/ P\nbuild/Dockerfile F\nbuild/keep\nsrc/\nsrc/a\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "build\n!build/nothing\n", "build/Dockerfile",
		   "Dockerfile\nbuild/Dockerfile F\nsrc/\nsrc/a\n");
	/* The classic builder's re-adds are rules; the option is BuildKit's. */
	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "build\n", "build/Dockerfile",
		   "Dockerfile\nsrc/\nsrc/a\n");

	assert_int_equal(walk_rules(&res, t->fd, CTXPACK_BUILDER_BUILDKIT, "src\nbuild\n", 2,
				    "build/Dockerfile", err, sizeof(err)),
			 0);
	assert_int_equal(res.n, 2);
	assert_true(res.v[1]->forced);
	assert_int_equal(res.v[1]->verdict, CTXPACK_EXCLUDE);
	assert_int_equal(res.v[1]->rule, 1); /* the rule that pruned build */
	assert_int_equal(res.v[1]->size, 13);
	walk_result_release(&res);

	/* A Dockerfile that is not there is an error. */
	assert_int_equal(walk_rules(&res, t->fd, CTXPACK_BUILDER_BUILDKIT, "build\n", 1,
				    "build/nope", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "'build/nope'"));
}

/* An excluded directory no exception can reach is never opened. */
static void test_prune(void **state)
{
	struct tree *t = *state;

	if (!unprivileged(t, "prune"))
		skip();
	mkd(t->fd, "secret", 0755);
	mkf(t->fd, "secret/f", "", 0644);
	mkd(t->fd, "secret/d", 0755);
	assert_int_equal(fchmodat(t->fd, "secret", 0000, 0), 0);
	mkd(t->fd, "keep", 0755);
	mkf(t->fd, "keep/x", "", 0644);
	mkf(t->fd, "keep/y", "", 0644);

	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "secret\n", NULL, "keep/\nkeep/x\nkeep/y\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "secret\nkeep\n!keep/x\n", NULL,
		   "keep/ P\nkeep/x\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "secret\n!*/x\n", NULL,
		   "keep/\nkeep/x\nkeep/y\n");
	/* BuildKit skips an excluded directory it cannot read, even one it
	 * would enter. */
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "secret\n!secret/f\n", NULL,
		   "keep/\nkeep/x\nkeep/y\n");
	/* A26: the classic CLI fails on an unreadable directory even when
	 * it is excluded... */
	check_fails(t->fd, CTXPACK_BUILDER_CLASSIC, "secret\n", 2, -EACCES, "'secret'");
	check_fails(t->fd, CTXPACK_BUILDER_CLASSIC, "secret\n!secret/f\n", 2, -EACCES, "'secret'");
	/* ...and on a non-excluded one in both modes */
	check_fails(t->fd, CTXPACK_BUILDER_BUILDKIT, "", 2, -EACCES, "cannot open 'secret'");
	check_fails(t->fd, CTXPACK_BUILDER_CLASSIC, "", 2, -EACCES, "cannot open 'secret'");
	/* ...but not when the validation walk never reaches it: below an
	 * excluded directory, the CLI's tar walk skips it unopened. */
	assert_int_equal(fchmodat(t->fd, "secret", 0755, 0), 0);
	assert_int_equal(fchmodat(t->fd, "secret/d", 0000, 0), 0);
	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "secret\n!secret/f\n", NULL,
		   "keep/\nkeep/x\nkeep/y\nsecret/f\n");
	assert_int_equal(fchmodat(t->fd, "secret/d", 0755, 0), 0);
	/* A readable but unsearchable excluded directory is fine
	 * (a26-unsearchable-dir-*). */
	assert_int_equal(fchmodat(t->fd, "secret", 0444, 0), 0);
	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "secret\n", NULL, "keep/\nkeep/x\nkeep/y\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "secret\n", NULL, "keep/\nkeep/x\nkeep/y\n");
	/* Not excluded, it cannot be listed as Docker needs. */
	check_fails(t->fd, CTXPACK_BUILDER_CLASSIC, "", 2, -EACCES, "cannot stat 'secret/d'");
	check_fails(t->fd, CTXPACK_BUILDER_BUILDKIT, "", 2, -EACCES, "cannot stat 'secret/d'");
	/* Entered for an exception: what it must send cannot be stat'ed,
	 * what it excludes is decided by name. */
	check_fails(t->fd, CTXPACK_BUILDER_BUILDKIT, "secret\n!secret/f\n", 2, -EACCES,
		    "cannot stat 'secret/f'");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "secret\n!secret/zz\n", NULL,
		   "keep/\nkeep/x\nkeep/y\n");
	assert_int_equal(fchmodat(t->fd, "secret", 0755, 0), 0);
}

/* A26: unreadable files that would be sent fail, even empty ones;
 * excluded ones are fine. */
static void test_unreadable_file(void **state)
{
	struct tree *t = *state;

	if (!unprivileged(t, "unreadable-file"))
		skip();
	mkf(t->fd, "a", "", 0644);
	mkf(t->fd, "locked", "", 0000);
	mkd(t->fd, "dir", 0755);
	mkf(t->fd, "dir/locked", "x", 0200);
	assert_int_equal(mkfifoat(t->fd, "fifo", 0000), 0);

	check_fails(t->fd, CTXPACK_BUILDER_CLASSIC, "dir\n", 1, -EACCES,
		    "cannot open 'locked': Permission denied");
	check_fails(t->fd, CTXPACK_BUILDER_BUILDKIT, "dir\n", 4, -EACCES,
		    "cannot open 'locked': Permission denied");
	/* FIFOs are never opened. */
	check_both(t->fd, "dir\nlocked\n", "a\nfifo\n");
	/* D: a re-included unreadable file fails in classic too (Docker's
	 * tar would break off there). */
	check_fails(t->fd, CTXPACK_BUILDER_CLASSIC, "dir\nlocked\n!dir/locked\n", 2, -EACCES,
		    "cannot open 'dir/locked'");
	check_fails(t->fd, CTXPACK_BUILDER_BUILDKIT, "dir\nlocked\n!dir/locked\n", 2, -EACCES,
		    "cannot open 'dir/locked'");
}

/* A21: symlinks are sent as symlinks and never followed. */
static void test_symlinks(void **state)
{
	struct tree *t = *state;
	struct walk_result res;
	const struct walk_entry *e;
	char err[256];

	mkd(t->fd, "real", 0755);
	mkf(t->fd, "real/file", "", 0644);
	mkl(t->fd, "real", "ldir");
	mkl(t->fd, "nowhere/x", "dangling");
	mkl(t->fd, "/", "root");
	mkl(t->fd, "../../..", "up");
	check_both(t->fd, "", "dangling\nldir\nreal/\nreal/file\nroot\nup\n");
	/* A6: 'ldir/' excludes the symlink ldir */
	check_both(t->fd, "ldir/\n", "dangling\nreal/\nreal/file\nroot\nup\n");

	assert_int_equal(
		walk_rules(&res, t->fd, CTXPACK_BUILDER_CLASSIC, "", 2, NULL, err, sizeof(err)), 0);
	e = find(&res, "ldir");
	assert_int_equal(e->type, WT_SYMLINK);
	assert_string_equal(e->link, "real");
	assert_int_equal(e->size, 0);
	assert_string_equal(find(&res, "dangling")->link, "nowhere/x");
	assert_string_equal(find(&res, "root")->link, "/");
	assert_string_equal(find(&res, "up")->link, "../../..");
	assert_null(find(&res, "real")->link);
	assert_null(find(&res, "real/file")->link);
	walk_result_release(&res);
}

/* A23 / B: FIFOs are sent by both; sockets only by BuildKit. */
static void test_special(void **state)
{
	struct tree *t = *state;
	struct walk_result res;
	const struct walk_entry *e;
	char err[256];

	assert_int_equal(mkfifoat(t->fd, "fifo", 0640), 0);
	mksock(t, "sock");
	mkf(t->fd, "z", "", 0644);
	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "", NULL, "fifo\nz\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "", NULL, "fifo\nsock\nz\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "sock\n", NULL, "fifo\nz\n");

	if (geteuid() == 0) {
		assert_int_equal(mknodat(t->fd, "null", S_IFCHR | 0666, makedev(1, 3)), 0);
		assert_int_equal(mknodat(t->fd, "whiteout", S_IFCHR | 0, makedev(0, 0)), 0);
		assert_int_equal(mknodat(t->fd, "blk", S_IFBLK | 0600, makedev(7, 200)), 0);
	} else {
		print_message("# special: not root, devices not tested\n");
	}
	assert_int_equal(
		walk_rules(&res, t->fd, CTXPACK_BUILDER_BUILDKIT, "", 2, NULL, err, sizeof(err)),
		0);
	e = find(&res, "fifo");
	assert_int_equal(e->type, WT_FIFO);
	assert_int_equal(e->mode, 0640);
	assert_int_equal(find(&res, "sock")->type, WT_SOCK);
	if (geteuid() == 0) {
		e = find(&res, "null");
		assert_int_equal(e->type, WT_CHR);
		assert_int_equal(e->rdev_major, 1);
		assert_int_equal(e->rdev_minor, 3);
		e = find(&res, "whiteout");
		assert_int_equal(e->type, WT_CHR);
		assert_int_equal(e->rdev_major, 0);
		assert_int_equal(e->rdev_minor, 0);
		e = find(&res, "blk");
		assert_int_equal(e->type, WT_BLK);
		assert_int_equal(e->rdev_major, 7);
		assert_int_equal(e->rdev_minor, 200);
	}
	walk_result_release(&res);
	if (geteuid() == 0)
		check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "", NULL,
			   "blk\nfifo\nnull\nwhiteout\nz\n");
}

static void test_hardlinks(void **state)
{
	struct tree *t = *state;
	struct walk_result res;
	const struct walk_entry *a, *b, *c;
	char err[256];

	mkf(t->fd, "a", "data", 0644);
	mkd(t->fd, "sub", 0755);
	assert_int_equal(linkat(t->fd, "a", t->fd, "sub/b", 0), 0);
	mkf(t->fd, "c", "data", 0644);
	assert_int_equal(
		walk_rules(&res, t->fd, CTXPACK_BUILDER_CLASSIC, "", 2, NULL, err, sizeof(err)), 0);
	a = find(&res, "a");
	b = find(&res, "sub/b");
	c = find(&res, "c");
	assert_true(a && b && c);
	assert_int_equal(a->dev, b->dev);
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->nlink, 2);
	assert_int_equal(b->nlink, 2);
	assert_int_equal(c->nlink, 1);
	assert_int_not_equal(a->ino, c->ino);
	walk_result_release(&res);
}

/* Names hold any byte but '/' and NUL (newline, invalid UTF-8, 255 bytes). */
static void test_odd_names(void **state)
{
	struct tree *t = *state;
	char longname[256], path[300];
	struct walk_result res;
	char err[256];
	static const char *const want[] = {"\x01",	" ",	     "d",   NULL,
					   "new\nline", "tab\there", "\xff"};

	memset(longname, 'x', 255);
	longname[255] = '\0';
	mkd(t->fd, "d", 0755);
	snprintf(path, sizeof(path), "d/%s", longname);
	mkf(t->fd, path, "", 0644);
	mkf(t->fd, "new\nline", "", 0644);
	mkf(t->fd, "\xff", "", 0644);
	mkf(t->fd, "tab\there", "", 0644);
	mkf(t->fd, " ", "", 0644);
	mkf(t->fd, "\x01", "", 0644);

	for (int b = 0; b < 2; b++) {
		assert_int_equal(walk_rules(&res, t->fd, (enum ctxpack_builder)b, "", 4, NULL, err,
					    sizeof(err)),
				 0);
		assert_int_equal(res.n, 7);
		for (size_t i = 0; i < 7; i++) {
			const char *w = want[i] ? want[i] : path;
			assert_int_equal(res.v[i]->len, strlen(w));
			assert_memory_equal(res.v[i]->path, w, strlen(w));
		}
		assert_int_equal(res.v[3]->len, 257);
		walk_result_release(&res);
	}
	/* Rules see the raw bytes (BuildKit's transport turns a non-UTF-8
	 * pattern into U+FFFD, which then matches nothing). */
	check_walk(t->fd, CTXPACK_BUILDER_CLASSIC, "new?line\n\xff\nd/x*\n", NULL,
		   "\x01\n \nd/\ntab\there\n");
	check_walk(t->fd, CTXPACK_BUILDER_BUILDKIT, "new?line\n\xff\nd/x*\n", NULL,
		   "\x01\n \nd/\ntab\there\n\xff\n");
}

/* 60 levels of 100-byte names: paths far beyond PATH_MAX. */
static void make_deep(int root, int levels)
{
	char name[101];
	int fd = dup(root);

	memset(name, 'n', 100);
	name[100] = '\0';
	for (int i = 0; i < levels; i++) {
		int nfd;
		name[0] = (char)('a' + i % 26);
		mkd(fd, name, 0755);
		mkf(fd, "f", "x", 0644);
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(nfd >= 0);
		close(fd);
		fd = nfd;
	}
	mkf(fd, "bottom", "", 0644);
	close(fd);
}

static void test_deep(void **state)
{
	struct tree *t = *state;
	struct walk_result a, b;
	struct rlimit saved;
	char err[256];

	make_deep(t->fd, 60);
	assert_int_equal(
		walk_rules(&a, t->fd, CTXPACK_BUILDER_BUILDKIT, "", 4, NULL, err, sizeof(err)), 0);
	assert_int_equal(a.n, 60 * 2 + 1);
	/* The bottom file is the deepest path. */
	{
		size_t maxlen = 0;
		const struct walk_entry *deepest = NULL;
		for (size_t i = 0; i < a.n; i++)
			if (a.v[i]->len > maxlen) {
				maxlen = a.v[i]->len;
				deepest = a.v[i];
			}
		assert_int_equal(maxlen, 60 * 101 + 6);
		assert_memory_equal(deepest->path + maxlen - 7, "/bottom", 7);
		assert_true(maxlen > 4096);
	}
	/* No descriptor kept: every directory is opened from the root, one
	 * component at a time. */
	low_fd_limit(&saved);
	assert_int_equal(
		walk_rules(&b, t->fd, CTXPACK_BUILDER_BUILDKIT, "", 4, NULL, err, sizeof(err)), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	assert_same_result(&a, &b);
	walk_result_release(&a);
	walk_result_release(&b);
}

/* A tiny deterministic generator (no libc rand state shared with cmocka). */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void make_random(int fd, uint32_t *seed, int depth, int *budget)
{
	static const char *const names[] = {
		"a",	 "b", "a.txt", "a-b",	   "x.o",	   "keep.o", "d1",  "src",
		"build", "Z", "_",     "\xc3\xa4", "node_modules", "k",	     "lib", "m.js"};
	int n = 3 + (int)(rnd(seed) % 10);

	for (int i = 0; i<n && * budget> 0; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s%u", names[rnd(seed) % 16], rnd(seed) % 3);
		if (!faccessat(fd, name, F_OK, AT_SYMLINK_NOFOLLOW))
			continue;
		(*budget)--;
		if (depth < 5 && rnd(seed) % 3 == 0) {
			int sub;
			mkd(fd, name, 0755);
			sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			assert_true(sub >= 0);
			make_random(sub, seed, depth + 1, budget);
			close(sub);
		} else if (rnd(seed) % 7 == 0) {
			mkl(fd, "a0", name);
		} else {
			mkf(fd, name, "", 0644);
		}
	}
}

/* The result is the same whatever the thread count, and whatever the
 * descriptor budget. */
static void test_threads(void **state)
{
	static const char *const rules[] = {
		"",
		"*.o*\n!keep*\nd1*\n!d1*/a*\n",
		"src*\n!src*/**/m.js*\nbuild*/\n",
		"**/node_modules*\n!**/node_modules*/k*\n*/a*\n",
		"*\n!*/*/lib*\n",
	};
	struct tree *t = *state;
	uint32_t seed = 20240611;
	int budget = 400;
	char err[256];

	while (budget > 0)
		make_random(t->fd, &seed, 0, &budget);
	for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
		for (int b = 0; b < 2; b++) {
			struct walk_result one, four, starved;
			struct rlimit saved;
			assert_int_equal(walk_rules(&one, t->fd, (enum ctxpack_builder)b, rules[r],
						    1, NULL, err, sizeof(err)),
					 0);
			assert_int_equal(walk_rules(&four, t->fd, (enum ctxpack_builder)b, rules[r],
						    4, NULL, err, sizeof(err)),
					 0);
			assert_same_result(&one, &four);
			low_fd_limit(&saved);
			assert_int_equal(walk_rules(&starved, t->fd, (enum ctxpack_builder)b,
						    rules[r], 3, NULL, err, sizeof(err)),
					 0);
			assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
			assert_same_result(&one, &starved);
			if (r == 0)
				assert_true(one.n >= 400);
			/* walk order holds */
			for (size_t i = 1; i < one.n; i++) {
				const char *p = one.v[i - 1]->path, *q = one.v[i]->path;
				size_t k = 0;
				while (p[k] && p[k] == q[k])
					k++;
				assert_true(
					!p[k] || p[k] == '/' ||
					(q[k] != '/' && (unsigned char)p[k] < (unsigned char)q[k]));
			}
			walk_result_release(&one);
			walk_result_release(&four);
			walk_result_release(&starved);
		}
}

/* A pattern Docker fails on when evaluated: the first path in walk order
 * that evaluates it is named, whatever the thread count. */
static void test_pattern_error(void **state)
{
	struct tree *t = *state;

	mkf(t->fd, "a", "", 0644);
	mkd(t->fd, "b", 0755);
	mkf(t->fd, "b/keep", "", 0644);
	for (int i = 0; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof(name), "x%02d", i);
		mkd(t->fd, name, 0755);
		snprintf(name, sizeof(name), "x%02d/keep", i);
		mkf(t->fd, name, "", 0644);
	}
	mkf(t->fd, "z", "", 0644);
	for (int i = 0; i < 10; i++) {
		check_fails(t->fd, CTXPACK_BUILDER_BUILDKIT, "*\n!*/keep\n\\e\n", 1 + i % 4,
			    -EINVAL,
			    ".dockerignore:3: pattern '\\e' is not a valid regular expression");
		check_fails(t->fd, CTXPACK_BUILDER_BUILDKIT, "*\n!*/keep\n\\e\n", 1 + i % 4,
			    -EINVAL, "as for 'b/keep'");
		check_fails(t->fd, CTXPACK_BUILDER_CLASSIC, "*\n!x05/keep\n!b/keep\n\\e\n",
			    1 + i % 4, -EINVAL, "as for 'b/keep'");
	}
}

/* Fields from the stat. */
static void test_fields(void **state)
{
	struct tree *t = *state;
	struct timespec ts[2] = {{1234567890, 123456789}, {1234567890, 123456789}};
	struct walk_result res;
	const struct walk_entry *e;
	char err[256];

	mkf(t->fd, "suid", "hello", 04755);
	mkd(t->fd, "sticky", 01777);
	assert_int_equal(utimensat(t->fd, "suid", ts, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(
		walk_rules(&res, t->fd, CTXPACK_BUILDER_CLASSIC, "", 2, NULL, err, sizeof(err)), 0);
	e = find(&res, "suid");
	assert_int_equal(e->type, WT_FILE);
	assert_int_equal(e->mode, 04755);
	assert_int_equal(e->size, 5);
	assert_int_equal(e->mtime_sec, 1234567890);
	assert_int_equal(e->mtime_nsec, 123456789);
	assert_int_equal(e->verdict, CTXPACK_NONE);
	assert_int_equal(e->rule, -1);
	assert_false(e->parent);
	assert_false(e->forced);
	e = find(&res, "sticky");
	assert_int_equal(e->type, WT_DIR);
	assert_int_equal(e->mode, 01777);
	assert_int_equal(e->size, 0);
	walk_result_release(&res);
}

/* walk_mark_parents: the directories above each marked sent entry are
 * marked (nested ones and siblings' parents), nothing else; the owner is
 * recorded (uid, gid: BuildKit's transfer sends them). */
static void test_mark_parents(void **state)
{
	struct tree *t = *state;
	struct walk_result res;
	uint8_t *mark;
	char err[256];
	const char *want[] = {"a", "a/b", "a/b/c.txt", "x", "x/y.txt"};

	mkd(t->fd, "a", 0755);
	mkd(t->fd, "a/b", 0755);
	mkf(t->fd, "a/b/c.txt", "c", 0644);
	mkf(t->fd, "a/d.txt", "d", 0644);
	mkd(t->fd, "e", 0755);
	mkf(t->fd, "e/f.txt", "f", 0644);
	mkd(t->fd, "x", 0755);
	mkf(t->fd, "x/y.txt", "y", 0644);
	assert_int_equal(
		walk_rules(&res, t->fd, CTXPACK_BUILDER_BUILDKIT, "", 2, NULL, err, sizeof(err)), 0);
	mark = calloc(res.n, 1);
	assert_non_null(mark);
	for (size_t i = 0; i < res.n; i++)
		if (!strcmp(res.v[i]->path, "a/b/c.txt") || !strcmp(res.v[i]->path, "x/y.txt"))
			mark[i] = 2;
	assert_int_equal(walk_mark_parents(&res, mark, 1), 0);
	for (size_t i = 0, k = 0; i < res.n; i++) {
		bool in = k < sizeof(want) / sizeof(*want) && !strcmp(res.v[i]->path, want[k]);
		assert_int_equal(mark[i] != 0, in);
		k += in;
	}
	assert_int_equal(find(&res, "a")->uid, getuid());
	assert_int_equal(find(&res, "a")->gid, getgid());
	free(mark);
	walk_result_release(&res);
}

/* measure_pruned: what lies below an excluded directory the walk does not
 * enter is counted from metadata (files, dirs, other, bytes), and an
 * unreadable directory down there is counted, never an error. */
static void test_measure_pruned(void **state)
{
	struct tree *t = *state;
	ctxpack_rules *r = NULL;
	ctxpack_match *m = NULL;
	struct walk_result res;
	struct walk_options o;
	char err[256];
	static const char rules[] = "node_modules\n**/*.log\n";

	mkd(t->fd, "node_modules", 0755);
	mkd(t->fd, "node_modules/a", 0755);
	mkd(t->fd, "node_modules/a/b", 0755);
	mkf(t->fd, "node_modules/x.js", "12345", 0644);
	mkf(t->fd, "node_modules/a/y.js", "123", 0644);
	mkf(t->fd, "node_modules/a/b/z.js", "1234567890", 0644);
	mkl(t->fd, "x.js", "node_modules/link");
	mkd(t->fd, "node_modules/locked", 0755);
	mkf(t->fd, "node_modules/locked/hidden", "abc", 0644);
	mkf(t->fd, "app.log", "log", 0644);
	mkf(t->fd, "main.c", "int main;", 0644);
	assert_int_equal(ctxpack_rules_new(&r), 0);
	assert_int_equal(ctxpack_rules_add_buffer(r, ".dockerignore", rules, strlen(rules)), 0);
	for (int b = 0; b < 2; b++) {
		enum ctxpack_builder builder = b ? CTXPACK_BUILDER_CLASSIC : CTXPACK_BUILDER_BUILDKIT;
		assert_int_equal(ctxpack_match_compile(&m, r, builder), 0);
		for (int threads = 1; threads <= 4; threads += 3) {
			struct progress pg = {0};
			o = (struct walk_options){builder, m, threads, NULL, true, true, &pg, NULL, NULL, CTXPACK_NONE, NULL, NULL};
			assert_int_equal(walk_context(&res, t->fd, &o, err, sizeof(err)), 0);
			assert_int_equal(res.npruned, 1);
			assert_string_equal(res.pruned[0].e->path, "node_modules");
			assert_false(res.pruned[0].e->sent);
			assert_int_equal(res.pruned[0].files, 4);
			assert_int_equal(res.pruned[0].dirs, 3);
			assert_int_equal(res.pruned[0].other, 1);
			assert_int_equal(res.pruned[0].bytes, 5 + 3 + 10 + 3);
			assert_int_equal(res.pruned[0].unreadable, 0);
			/* Every name read is counted for progress, measured ones too. */
			assert_int_equal(atomic_load(&pg.entries), 11);
			walk_result_release(&res);
		}
		/* Without the option: no table. */
		o = (struct walk_options){builder, m, 2, NULL, true, false, NULL, NULL, NULL, CTXPACK_NONE, NULL, NULL};
		assert_int_equal(walk_context(&res, t->fd, &o, err, sizeof(err)), 0);
		assert_int_equal(res.npruned, 0);
		walk_result_release(&res);
		ctxpack_match_free(&m);
	}
	/* The mode is set while still the owner; unprivileged, it applies. */
	assert_int_equal(fchmodat(t->fd, "node_modules/locked", 0000, 0), 0);
	if (unprivileged(t, "measure_pruned")) {
		assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT), 0);
		o = (struct walk_options){CTXPACK_BUILDER_BUILDKIT, m, 2, NULL, true, true, NULL, NULL, NULL, CTXPACK_NONE, NULL, NULL};
		assert_int_equal(walk_context(&res, t->fd, &o, err, sizeof(err)), 0);
		assert_int_equal(res.pruned[0].files, 3);
		assert_int_equal(res.pruned[0].unreadable, 1);
		walk_result_release(&res);
		ctxpack_match_free(&m);
	}
	ctxpack_rules_free(&r);
}

/* walk_file_check: what each reader asks before its first byte and after
 * its last; the message says what changed. */
static void check_says(const struct walk_entry *e, int fd, enum walk_when when, uint64_t got,
		       int want, const char *what)
{
	char err[256] = "";
	int rc = walk_file_check(e, fd, when, got, NULL, err, sizeof(err));

	if (rc != want || (what && strcmp(err, what)))
		fail_msg("rc %d (want %d), message '%s' (want '%s')", rc, want, err,
			 what ? what : "");
}

static void test_file_check(void **state)
{
	struct tree *t = *state;
	const struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	struct walk_entry e = {0}, x;
	struct stat st, got;
	char err[256];
	int fd, dfd;

	mkf(t->fd, "f", "hello", 0644);
	/* an mtime long past: the write below moves it whatever the clock's grain */
	assert_int_equal(utimensat(t->fd, "f", old, 0), 0);
	assert_int_equal(fstatat(t->fd, "f", &st, 0), 0);
	assert_int_equal(walk_entry_from_stat(&e, &st), 0);
	e.path = "f";
	e.len = 1;
	fd = openat(t->fd, "f", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);

	/* unchanged: before and after, st filled */
	memset(&got, 0, sizeof(got));
	assert_int_equal(walk_file_check(&e, fd, WALK_OPENED, 0, &got, err, sizeof(err)), 0);
	assert_int_equal(got.st_ino, st.st_ino);
	check_says(&e, fd, WALK_READ, 5, 0, NULL);
	/* the read ended elsewhere than the walk said (the size it says is the same) */
	check_says(&e, fd, WALK_READ, 3, -ESTALE,
		   "'f' changed while it was read (size: 5 bytes walked, 3 bytes read)");
	check_says(&e, fd, WALK_READ, 6, -ESTALE,
		   "'f' changed while it was read (size: 5 bytes walked, more read)");
	/* what the walk saw differs from what the file is now, field by field */
	x = e;
	x.ino++;
	check_says(&x, fd, WALK_OPENED, 0, -ESTALE,
		   "'f' changed after it was walked (replaced: another inode)");
	x = e;
	x.dev++;
	check_says(&x, fd, WALK_READ, 5, -ESTALE,
		   "'f' changed while it was read (replaced: another inode)");
	x = e;
	x.size = 64u << 20;
	check_says(&x, fd, WALK_OPENED, 0, -ESTALE,
		   "'f' changed after it was walked (size: 64 MiB walked, 5 bytes now)");
	x = e;
	x.mtime_nsec ^= 1;
	check_says(&x, fd, WALK_READ, 5, -ESTALE,
		   "'f' changed while it was read (modified: mtime moved)");
	x.ctime_sec--;
	check_says(&x, fd, WALK_READ, 5, -ESTALE,
		   "'f' changed while it was read (modified: mtime and ctime moved)");
	x = e;
	x.ctime_nsec ^= 1;
	check_says(&x, fd, WALK_READ, 5, -ESTALE,
		   "'f' changed while it was read (only its ctime moved: mode, owner or links "
		   "changed)");
	/* an entry made by hand (no inode): type and size only */
	x = e;
	x.ino = 0;
	x.mtime_sec = x.ctime_sec = 7;
	check_says(&x, fd, WALK_READ, 5, 0, NULL);

	/* a real rewrite in place, same size: the times move */
	{
		int wfd = openat(t->fd, "f", O_WRONLY | O_CLOEXEC);
		assert_true(wfd >= 0);
		assert_int_equal(pwrite(wfd, "HELLO", 5, 0), 5);
		close(wfd);
	}
	assert_int_equal(walk_file_check(&e, fd, WALK_READ, 5, NULL, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "'f' changed while it was read (modified: mtime"));
	/* grown: the size comes first */
	{
		int wfd = openat(t->fd, "f", O_WRONLY | O_APPEND | O_CLOEXEC);
		assert_true(wfd >= 0);
		assert_int_equal(ftruncate(wfd, 10u << 20), 0);
		close(wfd);
	}
	x = e;
	x.size = 64u << 20;
	check_says(&e, fd, WALK_READ, 5, -ESTALE,
		   "'f' changed while it was read (size: 5 bytes walked, 10 MiB now)");
	check_says(&x, fd, WALK_READ, 5, -ESTALE,
		   "'f' changed while it was read (size: 64 MiB walked, 10 MiB now)");
	close(fd);
	/* removed while open (its ctime moves; here, whatever the clock's grain) */
	mkf(t->fd, "g", "hello", 0644);
	assert_int_equal(fstatat(t->fd, "g", &st, 0), 0);
	x = (struct walk_entry){.path = "g", .len = 1};
	assert_int_equal(walk_entry_from_stat(&x, &st), 0);
	fd = openat(t->fd, "g", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(unlinkat(t->fd, "g", 0), 0);
	x.ctime_nsec ^= 1;
	check_says(&x, fd, WALK_READ, 5, -ESTALE,
		   "'g' changed while it was read (removed: deleted or renamed over)");
	close(fd);
	/* the fstat fails: its error */
	check_says(&e, fd, WALK_READ, 5, -EBADF, "cannot stat 'f': Bad file descriptor");
	/* not a regular file any more */
	dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	check_says(&e, dfd, WALK_OPENED, 0, -ESTALE,
		   "'f' changed after it was walked (no longer a regular file)");
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_empty, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_reinclude, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_dockerfile, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_prune, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_unreadable_file, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_symlinks, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_special, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_hardlinks, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_odd_names, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_deep, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_threads, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_pattern_error, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_mark_parents, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_fields, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_measure_pruned, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_file_check, setup_tree, teardown_tree),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
