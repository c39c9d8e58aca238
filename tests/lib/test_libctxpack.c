/* test_libctxpack.c: the public context API (ctxpack_context_*) as a user
 * of the installed library sees it: only <ctxpack/ctxpack.h>, linked with
 * the shared libctxpack.  Small trees with a .dockerignore are opened,
 * explained, listed, packed and digested, and every archive and digest is
 * compared byte for byte with what the ctxpack program (argv[1]) writes for
 * the same tree: the library must answer exactly what the program does.
 *
 * Usage: test_libctxpack CTXPACK */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ctxpack/ctxpack.h>

extern char **environ;

static const char *ctxpack_exe;

/* ---- throwaway trees ---- */

static void put(const char *root, const char *path, const char *content, mode_t mode)
{
	char full[4096], *slash;
	int fd;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	for (slash = strchr(full + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(full, 0755);
		*slash = '/';
	}
	fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	chmod(full, mode); /* whatever the umask */
}

static char *mktree(void)
{
	const char *tmp = getenv("TMPDIR");
	char *d;

	assert_true(asprintf(&d, "%s/ctxpack-lib-XXXXXX", tmp && *tmp ? tmp : "/tmp") > 0);
	assert_non_null(mkdtemp(d));
	chmod(d, 0755);
	return d;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void rmtree(char **d)
{
	nftw(*d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(*d);
	*d = NULL;
}

/* A small web app: excluded directories, a re-included file below one
 * (BuildKit sends the directory as its parent), a wildcard with an
 * exception, a symlink and a hard link. */
static char *webtree(void)
{
	char *d = mktree(), a[4096], b[4096];

	put(d, "Dockerfile", "FROM scratch\nCOPY . /app\n", 0644);
	put(d, ".dockerignore",
	    "# dependencies\nnode_modules\n*.log\n!keep.log\ndocs\n!docs/help.md\n", 0644);
	put(d, "src/main.c", "int main(void) { return 0; }\n", 0644);
	put(d, "src/run.sh", "#!/bin/sh\n", 0755);
	put(d, "node_modules/x/index.js", "module.exports = 1;\n", 0644);
	put(d, "debug.log", "noise\n", 0644);
	put(d, "keep.log", "kept\n", 0600);
	put(d, "docs/help.md", "# help\n", 0644);
	put(d, "docs/design.md", "# design\n", 0644);
	snprintf(a, sizeof(a), "%s/src/main.c", d);
	snprintf(b, sizeof(b), "%s/src/main-link.c", d);
	assert_int_equal(link(a, b), 0);
	snprintf(b, sizeof(b), "%s/current", d);
	assert_int_equal(symlink("src", b), 0);
	return d;
}

/* ---- the program's output, for comparison ---- */

struct buf {
	char *p;
	size_t n;
};

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = 0;
}

/* All of fd from offset 0 (a regular file) or until EOF (a pipe). */
static struct buf slurp(int fd, bool rewind)
{
	struct buf b = { NULL, 0 };
	size_t cap = 0;

	if (rewind)
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	for (;;) {
		ssize_t r;
		if (b.n + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			b.p = realloc(b.p, cap);
			assert_non_null(b.p);
		}
		r = read(fd, b.p + b.n, cap - b.n);
		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r >= 0);
		if (r == 0)
			break;
		b.n += (size_t)r;
	}
	return b;
}

static int tmpfile_fd(void)
{
	int fd = memfd_create("ctxpack-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* Runs ctxpack with the NULL-terminated arguments after argv0 and returns
 * its stdout; its exit status must be 0. */
static struct buf run_ctxpack(const char *arg, ...)
{
	const char *argv[32] = { ctxpack_exe };
	posix_spawn_file_actions_t fa;
	struct buf out;
	va_list ap;
	int n = 1, fd = tmpfile_fd(), status;
	pid_t pid;

	va_start(ap, arg);
	for (const char *a = arg; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
	assert_int_equal(posix_spawn(&pid, ctxpack_exe, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	out = slurp(fd, true);
	close(fd);
	return out;
}

static void assert_same_bytes(const struct buf *got, const struct buf *want)
{
	size_t i = 0;

	while (i < got->n && i < want->n && got->p[i] == want->p[i])
		i++;
	if (i != got->n || i != want->n)
		fail_msg("archives differ at byte %zu (library %zu bytes, program %zu bytes)", i,
			 got->n, want->n);
}

/* The library's archive into a file. */
static struct buf lib_pack(ctxpack_context *c, enum ctxpack_compression comp, int level,
			   struct ctxpack_pack_report *rep)
{
	int fd = tmpfile_fd(), rc = ctxpack_context_pack(c, fd, comp, level, rep);
	struct buf b;

	if (rc)
		fail_msg("ctxpack_context_pack: %d %s", rc, ctxpack_context_errmsg(c));
	b = slurp(fd, true);
	close(fd);
	return b;
}

static ctxpack_context *open_ctx(const char *dir, enum ctxpack_builder b)
{
	ctxpack_context *c = NULL;

	assert_int_equal(ctxpack_context_new(&c), 0);
	assert_int_equal(ctxpack_context_set_builder(c, b), 0);
	if (ctxpack_context_open(c, dir))
		fail_msg("ctxpack_context_open: %s", ctxpack_context_errmsg(c));
	return c;
}

/* ---- a minimal tar reader, for checking entries against members ---- */

struct member {
	char name[257]; /* a ustar prefix, "/" and name, NUL */
	char type;
	uint64_t size;
	char link[101];
};

/* The members of a plain ustar archive (names fit: no PAX here). */
static size_t tar_members(const struct buf *t, struct member *m, size_t max)
{
	size_t off = 0, n = 0;

	while (off + 512 <= t->n && n < max) {
		const char *h = t->p + off;
		char prefix[156] = "", name[101] = "", size[13] = "";
		if (!h[0])
			break;
		memcpy(name, h, 100);
		memcpy(prefix, h + 345, 155);
		snprintf(m[n].name, sizeof(m[n].name), "%s%s%s", prefix, *prefix ? "/" : "", name);
		m[n].type = h[156];
		memcpy(size, h + 124, 12);
		m[n].size = strtoull(size, NULL, 8);
		memcpy(m[n].link, h + 157, 100);
		m[n].link[100] = '\0';
		off += 512 + (m[n].size + 511) / 512 * 512;
		n++;
	}
	return n;
}

/* Every entry is the member at the same position: name, type, size, link. */
static void assert_entries_match_tar(const ctxpack_context *c, const struct buf *tar)
{
	static const char flag[] = { [CTXPACK_ENTRY_FILE] = '0', [CTXPACK_ENTRY_DIR] = '5',
				     [CTXPACK_ENTRY_SYMLINK] = '2', [CTXPACK_ENTRY_FIFO] = '6',
				     [CTXPACK_ENTRY_CHAR] = '3', [CTXPACK_ENTRY_BLOCK] = '4',
				     [CTXPACK_ENTRY_SOCKET] = '0', [CTXPACK_ENTRY_HARDLINK] = '1' };
	struct member m[64];
	size_t n = tar_members(tar, m, 64);
	struct ctxpack_entry e;

	assert_int_equal(ctxpack_context_count(c), n);
	for (size_t i = 0; i < n; i++) {
		char want[300];
		assert_int_equal(ctxpack_context_entry(c, i, &e), 0);
		snprintf(want, sizeof(want), "%s%s", e.path, e.type == CTXPACK_ENTRY_DIR ? "/" : "");
		assert_string_equal(m[i].name, want);
		assert_int_equal(strlen(e.path), e.path_len);
		assert_int_equal(m[i].type, flag[e.type]);
		assert_int_equal(m[i].size, e.size);
		if (e.type == CTXPACK_ENTRY_SYMLINK || e.type == CTXPACK_ENTRY_HARDLINK)
			assert_string_equal(m[i].link, e.link);
		else
			assert_null(e.link);
	}
	assert_int_equal(ctxpack_context_entry(c, n, &e), -ERANGE);
}

/* ---- tests ---- */

static void test_version(void **state)
{
	(void)state;
	assert_non_null(ctxpack_version());
	assert_true(ctxpack_version()[0] >= '0' && ctxpack_version()[0] <= '9');
}

/* Verdict, sent, pruned and the deciding rule as `check-ignore` gives them. */
static void test_explain(void **state)
{
	char *d = webtree(), abs[4096];
	ctxpack_context *c = open_ctx(d, CTXPACK_BUILDER_BUILDKIT);
	struct ctxpack_explanation x;
	struct ctxpack_context_info info;

	(void)state;
	assert_int_equal(ctxpack_context_info(c, &info), 0);
	assert_int_equal(info.builder, CTXPACK_BUILDER_BUILDKIT);
	assert_string_equal(info.dockerfile, "Dockerfile");
	assert_string_equal(info.ignore_file, ".dockerignore");
	assert_int_equal(ctxpack_rules_count(info.rules), 5);

	assert_int_equal(ctxpack_context_explain(c, "node_modules/x/index.js", &x), 0);
	assert_int_equal(x.verdict, CTXPACK_EXCLUDE);
	assert_false(x.sent);
	assert_true(x.pruned);
	assert_int_equal(x.rule, 0);
	assert_string_equal(x.rule_info.source, ".dockerignore");
	assert_int_equal(x.rule_info.line, 2);
	assert_int_equal(x.rule_info.pattern_len, 12);
	assert_memory_equal(x.rule_info.pattern, "node_modules", 12);

	assert_int_equal(ctxpack_context_explain(c, "./keep.log", &x), 0);
	assert_int_equal(x.verdict, CTXPACK_INCLUDE);
	assert_true(x.sent);
	assert_false(x.pruned);
	assert_int_equal(x.rule_info.line, 4);
	assert_memory_equal(x.rule_info.pattern, "!keep.log", 9);

	assert_int_equal(ctxpack_context_explain(c, "debug.log", &x), 0);
	assert_int_equal(x.verdict, CTXPACK_EXCLUDE);
	assert_false(x.sent);
	assert_int_equal(x.rule_info.line, 3);

	assert_int_equal(ctxpack_context_explain(c, "src//main.c", &x), 0);
	assert_int_equal(x.verdict, CTXPACK_NONE);
	assert_true(x.sent);
	assert_int_equal(x.rule, -1);
	assert_null(x.rule_info.source);

	/* A path that does not exist is decided lexically ("*.log" is
	 * Docker's: the top level only). */
	assert_int_equal(ctxpack_context_explain(c, "gone.log", &x), 0);
	assert_int_equal(x.verdict, CTXPACK_EXCLUDE);
	assert_int_equal(x.rule_info.line, 3);
	assert_int_equal(ctxpack_context_explain(c, "src/gone.log", &x), 0);
	assert_int_equal(x.verdict, CTXPACK_NONE);
	assert_true(x.sent);

	/* BuildKit sends an excluded directory as the parent of what is
	 * re-included below it. */
	assert_int_equal(ctxpack_context_explain(c, "docs", &x), 0);
	assert_int_equal(x.verdict, CTXPACK_EXCLUDE);
	assert_true(x.sent);
	assert_true(x.parent_only);
	assert_int_equal(x.rule_info.line, 5);
	assert_int_equal(ctxpack_context_explain(c, "docs/help.md", &x), 0);
	assert_int_equal(x.verdict, CTXPACK_INCLUDE);
	assert_true(x.sent);
	assert_int_equal(ctxpack_context_explain(c, "docs/design.md", &x), 0);
	assert_false(x.sent);
	assert_false(x.parent_only);

	/* The context itself, and an absolute path below it. */
	assert_int_equal(ctxpack_context_explain(c, ".", &x), 0);
	assert_true(x.sent);
	assert_int_equal(x.rule, -1);
	snprintf(abs, sizeof(abs), "%s/debug.log", info.root);
	assert_int_equal(ctxpack_context_explain(c, abs, &x), 0);
	assert_int_equal(x.verdict, CTXPACK_EXCLUDE);

	/* Outside the context. */
	assert_int_equal(ctxpack_context_explain(c, "../elsewhere", &x), -EINVAL);
	assert_non_null(strstr(ctxpack_context_errmsg(c), "outside the context"));
	assert_int_equal(ctxpack_context_explain(c, "/", &x), -EINVAL);
	ctxpack_context_free(&c);
	assert_null(c);

	/* The classic builder: no parents; the docker CLI's own re-includes. */
	c = open_ctx(d, CTXPACK_BUILDER_CLASSIC);
	assert_int_equal(ctxpack_context_explain(c, "docs", &x), 0);
	assert_false(x.sent);
	assert_false(x.parent_only);
	ctxpack_context_free(&c);
	rmtree(&d);
}

/* BuildKit always sends the Dockerfile; the classic builder re-includes it
 * with a rule of its own. */
static void test_explain_dockerfile(void **state)
{
	char *d = mktree();
	ctxpack_context *c;
	struct ctxpack_explanation x;

	(void)state;
	put(d, "Dockerfile", "FROM scratch\n", 0644);
	put(d, ".dockerignore", "*\n", 0644);
	put(d, "a.txt", "a\n", 0644);
	c = open_ctx(d, CTXPACK_BUILDER_BUILDKIT);
	assert_int_equal(ctxpack_context_explain(c, "Dockerfile", &x), 0);
	assert_true(x.sent);
	assert_true(x.forced);
	assert_int_equal(x.verdict, CTXPACK_INCLUDE);
	assert_int_equal(x.rule, -1);
	assert_string_equal(x.rule_info.source, "<builder>");
	assert_int_equal(x.rule_info.line, 0);
	assert_int_equal(x.rule_info.pattern_len, 11);
	assert_memory_equal(x.rule_info.pattern, "!Dockerfile", 11);
	assert_int_equal(ctxpack_context_count(c), 1);
	ctxpack_context_free(&c);

	c = open_ctx(d, CTXPACK_BUILDER_CLASSIC);
	assert_int_equal(ctxpack_context_explain(c, "Dockerfile", &x), 0);
	assert_true(x.sent);
	assert_false(x.forced);
	assert_true(x.rule >= 0);
	assert_string_equal(x.rule_info.source, "<builder>");
	assert_memory_equal(x.rule_info.pattern, "!Dockerfile", 11);
	assert_int_equal(ctxpack_context_explain(c, "a.txt", &x), 0);
	assert_false(x.sent);
	assert_int_equal(x.rule_info.line, 1);
	ctxpack_context_free(&c);
	rmtree(&d);
}

/* The classic builder leaves sockets out; BuildKit sends them as empty
 * files. */
static void test_explain_socket(void **state)
{
	char *d = mktree(), path[4096];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctxpack_explanation x;
	ctxpack_context *c;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)state;
	put(d, "Dockerfile", "FROM scratch\n", 0644);
	snprintf(path, sizeof(path), "%s/sock", d);
	if (s < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		rmtree(&d);
		skip();
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	c = open_ctx(d, CTXPACK_BUILDER_CLASSIC);
	assert_int_equal(ctxpack_context_explain(c, "sock", &x), 0);
	assert_false(x.sent);
	assert_true(x.socket_skipped);
	ctxpack_context_free(&c);
	c = open_ctx(d, CTXPACK_BUILDER_BUILDKIT);
	assert_int_equal(ctxpack_context_explain(c, "sock", &x), 0);
	assert_true(x.sent);
	assert_false(x.socket_skipped);
	ctxpack_context_free(&c);
	rmtree(&d);
}

static void test_errors(void **state)
{
	char *d = mktree(), missing[4096];
	ctxpack_context *c = NULL;
	struct ctxpack_explanation x;
	struct ctxpack_context_info info;
	struct ctxpack_entry e;
	char digest[CTXPACK_DIGEST_SIZE];
	int rc;

	(void)state;
	assert_int_equal(ctxpack_context_new(&c), 0);
	assert_string_equal(ctxpack_context_errmsg(c), "");

	/* Nothing works before open, and says why. */
	assert_int_equal(ctxpack_context_count(c), 0);
	assert_int_equal(ctxpack_context_entry(c, 0, &e), -ERANGE);
	assert_int_equal(ctxpack_context_info(c, &info), -EINVAL);
	assert_int_equal(ctxpack_context_explain(c, "a", &x), -EINVAL);
	assert_non_null(strstr(ctxpack_context_errmsg(c), "not open"));
	assert_int_equal(ctxpack_context_pack(c, STDOUT_FILENO, CTXPACK_COMPRESS_NONE, 0, NULL),
			 -EINVAL);
	assert_int_equal(ctxpack_context_digest(c, false, digest), -EINVAL);

	/* Settings out of range. */
	assert_int_equal(ctxpack_context_set_threads(c, -1), -EINVAL);
	assert_int_equal(ctxpack_context_set_threads(c, 1025), -EINVAL);
	assert_non_null(strstr(ctxpack_context_errmsg(c), "1025"));
	assert_int_equal(ctxpack_context_set_builder(c, (enum ctxpack_builder)7), -EINVAL);

	/* A missing directory: -ENOENT, and the message names it. */
	snprintf(missing, sizeof(missing), "%s/no-such-dir", d);
	assert_int_equal(ctxpack_context_open(c, missing), -ENOENT);
	assert_non_null(strstr(ctxpack_context_errmsg(c), missing));
	assert_int_equal(ctxpack_context_count(c), 0);

	/* No Dockerfile: docker build fails too. */
	put(d, "a/x.txt", "x\n", 0644);
	assert_int_equal(ctxpack_context_open(c, d), -ENOENT);
	assert_non_null(strstr(ctxpack_context_errmsg(c), "Dockerfile"));

	/* A pattern ctxpack refuses: -ENOTSUP with source:line and the pattern. */
	put(d, "Dockerfile", "FROM scratch\n", 0644);
	put(d, ".dockerignore", "# the next is a Go Unicode class\na/*\\p{Greek}\n", 0644);
	rc = ctxpack_context_open(c, d);
	assert_int_equal(rc, -ENOTSUP);
	assert_non_null(strstr(ctxpack_context_errmsg(c), ".dockerignore:2:"));
	assert_non_null(strstr(ctxpack_context_errmsg(c), "\\p{Greek}"));

	/* A pattern Docker fails on when it evaluates it. */
	put(d, ".dockerignore", "[z-a]\n", 0644);
	assert_int_equal(ctxpack_context_open(c, d), -EINVAL);
	assert_non_null(strstr(ctxpack_context_errmsg(c), ".dockerignore:1:"));
	/* ... one that Docker rejects up front. */
	put(d, ".dockerignore", "a/[\n", 0644);
	assert_int_equal(ctxpack_context_open(c, d), -EINVAL);
	assert_non_null(strstr(ctxpack_context_errmsg(c), "a/["));

	/* A fine context; then a bad compression level. */
	put(d, ".dockerignore", "a\n", 0644);
	assert_int_equal(ctxpack_context_open(c, d), 0);
	assert_int_equal(ctxpack_context_pack(c, STDOUT_FILENO, CTXPACK_COMPRESS_GZIP, 42, NULL),
			 -EINVAL);
	assert_non_null(strstr(ctxpack_context_errmsg(c), "42"));
	assert_int_equal(ctxpack_context_pack(c, STDOUT_FILENO, (enum ctxpack_compression)9, 0, NULL),
			 -EINVAL);
	assert_int_equal(ctxpack_context_pack(c, -1, CTXPACK_COMPRESS_NONE, 0, NULL), -EBADF);

	/* A failed open leaves the context closed. */
	assert_int_equal(ctxpack_context_open(c, missing), -ENOENT);
	assert_int_equal(ctxpack_context_count(c), 0);
	ctxpack_context_free(&c);
	ctxpack_context_free(&c); /* NULL is fine */
	ctxpack_context_free(NULL);
	rmtree(&d);
}

/* The archive is `ctxpack pack`'s byte for byte, for both builders, and
 * the entries are its members. */
static void pack_both(const char *d, const char *dockerfile)
{
	static const enum ctxpack_builder builders[] = { CTXPACK_BUILDER_BUILDKIT,
							 CTXPACK_BUILDER_CLASSIC };
	static const char *const names[] = { "--builder=buildkit", "--builder=classic" };

	for (int k = 0; k < 2; k++) {
		ctxpack_context *c = NULL;
		struct ctxpack_pack_report rep;
		struct buf want = dockerfile ? run_ctxpack("pack", names[k], "-f", dockerfile, d, NULL)
					     : run_ctxpack("pack", names[k], d, NULL);
		struct buf got;

		assert_int_equal(ctxpack_context_new(&c), 0);
		assert_int_equal(ctxpack_context_set_builder(c, builders[k]), 0);
		assert_int_equal(ctxpack_context_set_dockerfile(c, dockerfile), 0);
		if (ctxpack_context_open(c, d))
			fail_msg("open: %s", ctxpack_context_errmsg(c));
		got = lib_pack(c, CTXPACK_COMPRESS_NONE, 0, &rep);
		assert_same_bytes(&got, &want);
		assert_int_equal(rep.tar_bytes, got.n);
		assert_int_equal(rep.out_bytes, got.n);
		assert_int_equal(rep.entries, ctxpack_context_count(c));
		assert_entries_match_tar(c, &got);
		if (dockerfile)
			assert_non_null(strstr(rep.dockerfile_name, ".dockerfile."));
		else
			assert_string_equal(rep.dockerfile_name, "");
		buf_free(&got);
		/* A second pack of the same open context: the same bytes. */
		got = lib_pack(c, CTXPACK_COMPRESS_NONE, 0, NULL);
		assert_same_bytes(&got, &want);
		buf_free(&got);
		buf_free(&want);
		ctxpack_context_free(&c);
	}
}

static void test_pack_same_as_program(void **state)
{
	char *d = webtree();

	(void)state;
	pack_both(d, NULL);
	rmtree(&d);
}

/* A Dockerfile outside the context goes in under a generated name, with
 * its name added to .dockerignore: with and without one. */
static void test_pack_dockerfile_outside(void **state)
{
	char *d = webtree(), *o = mktree(), df[4096], ign[4096];

	(void)state;
	put(o, "build/Dockerfile", "FROM scratch\nCOPY . /srv\n", 0644);
	snprintf(df, sizeof(df), "%s/build/Dockerfile", o);
	pack_both(d, df);
	snprintf(ign, sizeof(ign), "%s/.dockerignore", d);
	assert_int_equal(unlink(ign), 0);
	pack_both(d, df);
	rmtree(&o);
	rmtree(&d);
}

static void test_pack_options(void **state)
{
	char *d = webtree();
	ctxpack_context *c = NULL;
	struct ctxpack_pack_report rep;
	struct buf want, got;

	(void)state;
	assert_int_equal(ctxpack_context_new(&c), 0);
	assert_int_equal(ctxpack_context_set_threads(c, 1), 0);
	assert_int_equal(ctxpack_context_set_mtime(c, 1000), 0);
	assert_int_equal(ctxpack_context_open(c, d), 0);
	want = run_ctxpack("pack", "-j", "1", "--mtime", "1000", d, NULL);
	got = lib_pack(c, CTXPACK_COMPRESS_NONE, 0, NULL);
	assert_same_bytes(&got, &want);
	buf_free(&got);
	buf_free(&want);

	/* A setting changed after open waits for the next open. */
	assert_int_equal(ctxpack_context_set_mtime(c, -1), 0);
	want = run_ctxpack("pack", "--mtime", "1000", d, NULL);
	got = lib_pack(c, CTXPACK_COMPRESS_NONE, 0, NULL);
	assert_same_bytes(&got, &want);
	buf_free(&got);
	buf_free(&want);
	assert_int_equal(ctxpack_context_open(c, d), 0);
	want = run_ctxpack("pack", d, NULL);
	got = lib_pack(c, CTXPACK_COMPRESS_NONE, 0, NULL);
	assert_same_bytes(&got, &want);
	buf_free(&got);
	buf_free(&want);

	/* Compression, as `pack --compress --level`. */
	want = run_ctxpack("pack", "--compress=gzip", "--level", "9", d, NULL);
	got = lib_pack(c, CTXPACK_COMPRESS_GZIP, 9, &rep);
	assert_same_bytes(&got, &want);
	assert_int_equal(rep.out_bytes, got.n);
	assert_true(rep.tar_bytes > rep.out_bytes);
	buf_free(&got);
	buf_free(&want);
	want = run_ctxpack("pack", "--compress=zstd", d, NULL);
	got = lib_pack(c, CTXPACK_COMPRESS_ZSTD, 0, NULL);
	assert_same_bytes(&got, &want);
	buf_free(&got);
	buf_free(&want);
	ctxpack_context_free(&c);
	rmtree(&d);
}

/* Into a pipe, read on another thread, as `ctxpack pack | docker build -`. */
struct reader {
	int fd;
	struct buf got;
};

static void *read_pipe(void *arg)
{
	struct reader *r = arg;

	r->got = slurp(r->fd, false);
	return NULL;
}

static void test_pack_pipe(void **state)
{
	char *d = webtree();
	ctxpack_context *c = open_ctx(d, CTXPACK_BUILDER_CLASSIC);
	struct buf want = run_ctxpack("pack", "--builder=classic", d, NULL);
	struct reader r;
	pthread_t t;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	r.fd = p[0];
	assert_int_equal(pthread_create(&t, NULL, read_pipe, &r), 0);
	assert_int_equal(ctxpack_context_pack(c, p[1], CTXPACK_COMPRESS_NONE, 0, NULL), 0);
	close(p[1]);
	assert_int_equal(pthread_join(t, NULL), 0);
	close(p[0]);
	assert_same_bytes(&r.got, &want);
	buf_free(&r.got);

	/* A reader that went away: -EPIPE with SIGPIPE ignored, and a
	 * message. */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	assert_int_equal(ctxpack_context_pack(c, p[1], CTXPACK_COMPRESS_NONE, 0, NULL), -EPIPE);
	assert_true(ctxpack_context_errmsg(c)[0] != '\0');
	close(p[1]);
	signal(SIGPIPE, SIG_DFL);
	buf_free(&want);
	ctxpack_context_free(&c);
	rmtree(&d);
}

static void test_digest(void **state)
{
	char *d = webtree(), got[CTXPACK_DIGEST_SIZE], again[CTXPACK_DIGEST_SIZE];
	ctxpack_context *c = open_ctx(d, CTXPACK_BUILDER_BUILDKIT);
	struct buf want = run_ctxpack("digest", "--no-cache", d, NULL);
	struct buf want_m = run_ctxpack("digest", "--no-cache", "--with-mtime", d, NULL);

	(void)state;
	assert_int_equal(ctxpack_context_digest(c, false, got), 0);
	assert_int_equal(strlen(got), CTXPACK_DIGEST_SIZE - 1);
	assert_int_equal(want.n, CTXPACK_DIGEST_SIZE); /* and a newline */
	assert_memory_equal(got, want.p, CTXPACK_DIGEST_SIZE - 1);
	assert_int_equal(ctxpack_context_digest(c, false, again), 0);
	assert_string_equal(got, again);
	assert_int_equal(ctxpack_context_digest(c, true, got), 0);
	assert_memory_equal(got, want_m.p, CTXPACK_DIGEST_SIZE - 1);
	buf_free(&want);
	buf_free(&want_m);
	ctxpack_context_free(&c);

	c = open_ctx(d, CTXPACK_BUILDER_CLASSIC);
	want = run_ctxpack("digest", "--no-cache", "--builder=classic", d, NULL);
	assert_int_equal(ctxpack_context_digest(c, false, got), 0);
	assert_memory_equal(got, want.p, CTXPACK_DIGEST_SIZE - 1);
	buf_free(&want);
	ctxpack_context_free(&c);
	rmtree(&d);
}

/* Entries without packing: the web tree's, in walk order. */
static void test_entries(void **state)
{
	static const char *const want[] = {
		".dockerignore", "Dockerfile", "current", "docs", "docs/help.md", "keep.log",
		"src", "src/main-link.c", "src/main.c", "src/run.sh",
	};
	char *d = webtree();
	ctxpack_context *c = open_ctx(d, CTXPACK_BUILDER_BUILDKIT);
	struct ctxpack_entry e;

	(void)state;
	assert_int_equal(ctxpack_context_count(c), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(ctxpack_context_entry(c, i, &e), 0);
		assert_string_equal(e.path, want[i]);
		assert_false(e.generated);
	}
	assert_int_equal(ctxpack_context_entry(c, 2, &e), 0);
	assert_int_equal(e.type, CTXPACK_ENTRY_SYMLINK);
	assert_string_equal(e.link, "src");
	assert_int_equal(ctxpack_context_entry(c, 3, &e), 0);
	assert_int_equal(e.type, CTXPACK_ENTRY_DIR);
	assert_true(e.parent_only);
	assert_int_equal(ctxpack_context_entry(c, 5, &e), 0);
	assert_int_equal(e.mode, 0600);
	assert_int_equal(e.size, 5);
	/* The first name carries the data, the second is a link to it. */
	assert_int_equal(ctxpack_context_entry(c, 7, &e), 0);
	assert_int_equal(e.type, CTXPACK_ENTRY_FILE);
	assert_int_equal(ctxpack_context_entry(c, 8, &e), 0);
	assert_int_equal(e.type, CTXPACK_ENTRY_HARDLINK);
	assert_string_equal(e.link, "src/main-link.c");
	assert_int_equal(e.size, 0);
	assert_int_equal(ctxpack_context_entry(c, 9, &e), 0);
	assert_int_equal(e.mode, 0755);
	ctxpack_context_free(&c);
	rmtree(&d);
}

/* Rule errors escape the pattern's bytes (an ANSI sequence, a NUL) and
 * quote nothing of an ignore file that lies outside the context. */
static void test_rule_messages(void **state)
{
	static const struct {
		const char *pattern;
		size_t len;
		const char *shown;
	} cases[] = {
		{ "a\x1b[31mred[", 10, "'a\\x1b[31mred['" },
		{ "b\0c[", 4, "'b\\x00c['" },
	};
	char *d = mktree(), *outside, *link;
	ctxpack_context *c = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctxpack_rules *r = NULL;
		ctxpack_match *m = NULL;
		assert_int_equal(ctxpack_rules_new(&r), 0);
		assert_int_equal(ctxpack_rules_add_pattern(r, "x", 1, cases[i].pattern, cases[i].len), 0);
		assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_CLASSIC), -EINVAL);
		assert_non_null(strstr(ctxpack_rules_errmsg(r), cases[i].shown));
		assert_null(strchr(ctxpack_rules_errmsg(r), '\x1b'));
		ctxpack_rules_free(&r);
	}
	/* .dockerignore -> ../outside (the classic builder follows it). */
	assert_true(asprintf(&outside, "%s/outside", d) > 0);
	assert_true(asprintf(&link, "%s/ctx/.dockerignore", d) > 0);
	put(d, "outside", "db_password=[hunter2\n", 0644);
	put(d, "ctx/Dockerfile", "FROM scratch\n", 0644);
	assert_int_equal(symlink("../outside", link), 0);
	*strrchr(link, '/') = '\0';
	assert_int_equal(ctxpack_context_new(&c), 0);
	assert_int_equal(ctxpack_context_set_builder(c, CTXPACK_BUILDER_CLASSIC), 0);
	assert_int_equal(ctxpack_context_open(c, link), -EINVAL);
	assert_null(strstr(ctxpack_context_errmsg(c), "hunter2"));
	assert_non_null(strstr(ctxpack_context_errmsg(c), ".dockerignore:1: unterminated character class"));
	assert_non_null(strstr(ctxpack_context_errmsg(c), "points outside the context"));
	ctxpack_context_free(&c);
	free(outside);
	free(link);
	rmtree(&d);
}

/* Every public function checks its arguments at the boundary: NULL
 * handles, out-of-range offsets and indices, unknown enum values and
 * handles of another matcher give -EINVAL (NULL, 0 or "" from getters, a
 * no-op from void calls), never a read out of bounds (this test runs
 * under ASan in CI). */
/* The rule engine's last failure as data (ctxpack_rules_error). */
static void test_rules_error(void **state)
{
	const struct ctxpack_rules_error *e;
	ctxpack_rules *r;
	ctxpack_match *m;
	char big[70000];
	(void)state;

	assert_null(ctxpack_rules_error(NULL));
	assert_int_equal(ctxpack_rules_new(&r), 0);
	e = ctxpack_rules_error(r);
	assert_non_null(e);
	assert_int_equal(e->code, 0);
	assert_int_equal(e->rule, -1);
	assert_int_equal(e->line, 0);
	assert_null(e->path);
	assert_string_equal(e->message, "");
	/* a pattern Docker refuses up front: its rule, source and line */
	assert_int_equal(ctxpack_rules_add_buffer(r, "app.ignore", "a\n\n[a-\n", 7), 0);
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_CLASSIC), -EINVAL);
	e = ctxpack_rules_error(r);
	assert_int_equal(e->code, -EINVAL);
	assert_string_equal(e->source, "app.ignore");
	assert_int_equal(e->line, 3);
	assert_int_equal(e->rule, 1);
	assert_null(e->path);
	assert_string_equal(e->message, ctxpack_rules_errmsg(r));
	assert_string_equal(e->message, "app.ignore:3: unterminated character class in '[a-'");
	assert_string_equal(e->reason, "unterminated character class in '[a-'");
	ctxpack_rules_free(&r);
	/* a line too long: a line, no rule */
	memset(big, 'y', sizeof(big));
	big[0] = 'x';
	big[1] = '\n';
	assert_int_equal(ctxpack_rules_new(&r), 0);
	assert_int_equal(ctxpack_rules_add_buffer(r, ".dockerignore", big, sizeof(big)), -EINVAL);
	e = ctxpack_rules_error(r);
	assert_int_equal(e->line, 2);
	assert_int_equal(e->rule, -1);
	assert_string_equal(e->source, ".dockerignore");
	assert_int_equal(strncmp(e->reason, "line longer than", 16), 0);
	/* no source: the reason is the whole message */
	assert_int_equal(ctxpack_match_compile(&m, r, (enum ctxpack_builder)7), -EINVAL);
	assert_string_equal(e->source, "");
	assert_ptr_equal(e->reason, e->message);
	ctxpack_rules_free(&r);
}

static void test_arguments(void **state)
{
	ctxpack_rules *r = NULL, *r2 = NULL;
	ctxpack_match *m = NULL, *m2 = NULL;
	ctxpack_mscratch *s = NULL, *s2 = NULL;
	ctxpack_mstate *root = NULL, *child = NULL, *other = NULL;
	struct ctxpack_decision d;
	struct ctxpack_rule_info ri;
	struct ctxpack_context_info info;
	struct ctxpack_explanation x;
	struct ctxpack_entry e;
	char digest[CTXPACK_DIGEST_SIZE], *dir = mktree();
	ctxpack_context *c = NULL;

	(void)state;
	/* Rules. */
	assert_int_equal(ctxpack_rules_new(NULL), -EINVAL);
	assert_int_equal(ctxpack_rules_add_buffer(NULL, "x", "a\n", 2), -EINVAL);
	assert_int_equal(ctxpack_rules_add_pattern(NULL, "x", 1, "a", 1), -EINVAL);
	assert_int_equal(ctxpack_rules_add_classic_readds(NULL, "Dockerfile"), -EINVAL);
	assert_int_equal(ctxpack_rules_count(NULL), 0);
	assert_int_equal(ctxpack_rules_get(NULL, 0, &ri), -EINVAL);
	assert_string_equal(ctxpack_rules_errmsg(NULL), "");
	assert_int_equal(ctxpack_rules_new(&r), 0);
	assert_int_equal(ctxpack_rules_add_buffer(r, "x", NULL, 3), -EINVAL);
	assert_non_null(strstr(ctxpack_rules_errmsg(r), "no buffer"));
	assert_int_equal(ctxpack_rules_add_buffer(r, "x", NULL, 0), 0);
	assert_int_equal(ctxpack_rules_add_pattern(r, "x", 1, NULL, 1), -EINVAL);
	assert_int_equal(ctxpack_rules_add_pattern(r, "x", -1, "a", 1), -EINVAL);
	assert_int_equal(ctxpack_rules_count(r), 0);
	assert_int_equal(ctxpack_rules_add_buffer(r, ".dockerignore", "a/b\n", 4), 0);
	assert_int_equal(ctxpack_rules_get(r, 0, NULL), -EINVAL);
	assert_int_equal(ctxpack_rules_get(r, 1, &ri), -ERANGE);

	/* The matcher. */
	assert_int_equal(ctxpack_match_compile(NULL, r, CTXPACK_BUILDER_BUILDKIT), -EINVAL);
	assert_int_equal(ctxpack_match_compile(&m, NULL, CTXPACK_BUILDER_BUILDKIT), -EINVAL);
	assert_null(m);
	assert_int_equal(ctxpack_match_compile(&m, r, (enum ctxpack_builder)7), -EINVAL);
	assert_null(m);
	assert_non_null(strstr(ctxpack_rules_errmsg(r), "unknown builder 7"));
	assert_int_equal(ctxpack_match_compile(&m, r, (enum ctxpack_builder)-1), -EINVAL);
	assert_int_equal(ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT), 0);
	assert_null(ctxpack_match_rule_error(NULL, 0));
	assert_null(ctxpack_match_rule_error(m, 99));
	assert_null(ctxpack_match_rules(NULL));
	assert_int_equal(ctxpack_mscratch_new(NULL, m), -EINVAL);
	assert_int_equal(ctxpack_mscratch_new(&s, NULL), -EINVAL);
	assert_int_equal(ctxpack_mstate_new(NULL, m), -EINVAL);
	assert_int_equal(ctxpack_mstate_new(&root, NULL), -EINVAL);
	assert_int_equal(ctxpack_mscratch_new(&s, m), 0);
	assert_int_equal(ctxpack_mstate_new(&root, m), 0);
	assert_int_equal(ctxpack_mstate_new(&child, m), 0);
	ctxpack_match_root(NULL, root); /* no-ops */
	ctxpack_match_root(m, NULL);
	ctxpack_match_root(m, root);
	assert_int_equal(ctxpack_match_entry(m, s, root, "a", 1, 0, child, &d), 0);
	assert_int_equal(ctxpack_match_entry(m, s, child, "a/b", 3, 2, NULL, &d), 0);
	assert_int_equal(d.verdict, CTXPACK_EXCLUDE);
	/* name_off past the end (was a read out of bounds in advance()), or
	 * not right after a '/'. */
	assert_int_equal(ctxpack_match_entry(m, s, root, "a", 1, 2, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m, s, root, "a", 1, 4096, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m, s, root, "a", 1, SIZE_MAX, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m, s, child, "a/b", 3, 1, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(NULL, s, root, "a", 1, 0, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m, NULL, root, "a", 1, 0, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m, s, NULL, "a", 1, 0, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m, s, root, NULL, 1, 0, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m, s, root, "a", 1, 0, NULL, NULL), -EINVAL);
	/* States and scratch of another matcher, sized for it. */
	assert_int_equal(ctxpack_rules_new(&r2), 0);
	assert_int_equal(ctxpack_rules_add_buffer(r2, ".dockerignore", "x\n*/y/**/z\n!k*\n", 15), 0);
	assert_int_equal(ctxpack_match_compile(&m2, r2, CTXPACK_BUILDER_CLASSIC), 0);
	assert_int_equal(ctxpack_mstate_new(&other, m2), 0);
	assert_int_equal(ctxpack_mscratch_new(&s2, m2), 0);
	ctxpack_match_root(m2, other);
	ctxpack_match_root(m, other); /* a no-op: other is m2's */
	assert_int_equal(ctxpack_match_entry(m, s, other, "a", 1, 0, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m, s, root, "a", 1, 0, other, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m, s2, root, "a", 1, 0, NULL, &d), -EINVAL);
	assert_int_equal(ctxpack_match_entry(m2, s2, other, "x", 1, 0, NULL, &d), 0);
	assert_int_equal(d.verdict, CTXPACK_EXCLUDE);
	ctxpack_mstate_free(&other);
	ctxpack_mstate_free(&child);
	ctxpack_mstate_free(&root);
	ctxpack_mscratch_free(&s2);
	ctxpack_mscratch_free(&s);
	ctxpack_match_free(&m2);
	ctxpack_match_free(&m);
	ctxpack_rules_free(&r2);
	ctxpack_rules_free(&r);
	ctxpack_mstate_free(NULL);
	ctxpack_mscratch_free(NULL);
	ctxpack_match_free(NULL);
	ctxpack_rules_free(NULL);

	/* The context. */
	assert_int_equal(ctxpack_context_new(NULL), -EINVAL);
	assert_int_equal(ctxpack_context_set_builder(NULL, CTXPACK_BUILDER_CLASSIC), -EINVAL);
	assert_int_equal(ctxpack_context_set_dockerfile(NULL, "Dockerfile"), -EINVAL);
	assert_int_equal(ctxpack_context_set_threads(NULL, 1), -EINVAL);
	assert_int_equal(ctxpack_context_set_mtime(NULL, 0), -EINVAL);
	assert_int_equal(ctxpack_context_open(NULL, dir), -EINVAL);
	assert_string_equal(ctxpack_context_errmsg(NULL), "");
	assert_int_equal(ctxpack_context_info(NULL, &info), -EINVAL);
	assert_int_equal(ctxpack_context_explain(NULL, "a", &x), -EINVAL);
	assert_int_equal(ctxpack_context_count(NULL), 0);
	assert_int_equal(ctxpack_context_entry(NULL, 0, &e), -EINVAL);
	assert_int_equal(ctxpack_context_pack(NULL, STDOUT_FILENO, CTXPACK_COMPRESS_NONE, 0, NULL),
			 -EINVAL);
	assert_int_equal(ctxpack_context_digest(NULL, false, digest), -EINVAL);
	put(dir, "Dockerfile", "FROM scratch\n", 0644);
	assert_int_equal(ctxpack_context_new(&c), 0);
	assert_int_equal(ctxpack_context_open(c, NULL), -EINVAL);
	assert_int_equal(ctxpack_context_open(c, dir), 0);
	assert_int_equal(ctxpack_context_info(c, NULL), -EINVAL);
	assert_int_equal(ctxpack_context_explain(c, NULL, &x), -EINVAL);
	assert_int_equal(ctxpack_context_explain(c, "a", NULL), -EINVAL);
	assert_int_equal(ctxpack_context_entry(c, 0, NULL), -EINVAL);
	assert_int_equal(ctxpack_context_entry(c, ctxpack_context_count(c), &e), -ERANGE);
	assert_int_equal(ctxpack_context_pack(c, STDOUT_FILENO, (enum ctxpack_compression)-1, 0, NULL),
			 -EINVAL);
	assert_int_equal(ctxpack_context_pack(c, STDOUT_FILENO, CTXPACK_COMPRESS_NONE, 3, NULL),
			 -EINVAL);
	assert_int_equal(ctxpack_context_digest(c, false, NULL), -EINVAL);
	assert_int_equal(ctxpack_context_digest(c, false, digest), 0);
	ctxpack_context_free(&c);
	rmtree(&dir);
}

/* ---- the build: the Dockerfile's sources and what it reads ---- */

/* A Dockerfile whose target stage copies a file, a directory with an
 * excluded file, an excluded file and a wildcard, and bind-mounts a file;
 * a later stage (the default target) copies what does not exist. */
static char *buildtree(void)
{
	char *d = mktree();

	put(d, "Dockerfile",
	    "FROM alpine AS base\n"
	    "ARG DIR\n"
	    "COPY app.txt /a/\n"
	    "COPY ${DIR} /app/\n"
	    "COPY secret.key /k\n"
	    "COPY *.md /docs/\n"
	    "RUN --mount=type=bind,source=app/main.c,target=/m true\n"
	    "FROM scratch AS other\n"
	    "COPY nothing /n\n",
	    0644);
	put(d, ".dockerignore", "app/cache\nsecret.key\n*.log\n", 0644);
	put(d, "app.txt", "hello\n", 0644);
	put(d, "app/main.c", "int x;\n", 0644);
	put(d, "app/cache/x", "junk\n", 0644);
	put(d, "secret.key", "s\n", 0600);
	put(d, "README.md", "r\n", 0644);
	put(d, "NOTES.md", "nn\n", 0644);
	put(d, "debug.log", "l\n", 0644);
	return d;
}

static void assert_source(ctxpack_context *c, size_t i, enum ctxpack_source_kind kind, int line,
			  const char *path, bool wildcard, bool missing, size_t matched)
{
	struct ctxpack_source s;

	if (ctxpack_context_source(c, i, &s))
		fail_msg("ctxpack_context_source %zu: %s", i, ctxpack_context_errmsg(c));
	assert_int_equal(s.kind, kind);
	assert_int_equal(s.line, line);
	assert_string_equal(s.path, path);
	assert_int_equal(s.wildcard, wildcard);
	assert_int_equal(s.missing, missing);
	assert_int_equal(s.fails, missing);
	assert_int_equal(s.matched, matched);
	if (!missing) {
		assert_null(s.excluded_path);
		assert_int_equal(s.rule, -1);
		assert_null(s.rule_info.source);
	}
}

static void test_build_sources(void **state)
{
	static const char *const used[] = { "NOTES.md", "README.md", "app", "app.txt",
					    "app/main.c" };
	const enum ctxpack_builder builders[] = { CTXPACK_BUILDER_BUILDKIT,
						  CTXPACK_BUILDER_CLASSIC };
	char *d = buildtree();

	(void)state;
	for (size_t b = 0; b < 2; b++) {
		ctxpack_context *c = NULL;
		struct ctxpack_build_info bi;
		struct ctxpack_source s;
		struct buf prog;
		char want[256];
		size_t nused = 0;
		bool u;

		assert_int_equal(ctxpack_context_new(&c), 0);
		assert_int_equal(ctxpack_context_set_builder(c, builders[b]), 0);
		assert_int_equal(ctxpack_context_set_target(c, "base"), 0);
		assert_int_equal(ctxpack_context_add_build_arg(c, "DIR=nosuch"), 0);
		assert_int_equal(ctxpack_context_add_build_arg(c, "DIR=app"), 0); /* the last wins */
		if (ctxpack_context_open(c, d))
			fail_msg("ctxpack_context_open: %s", ctxpack_context_errmsg(c));
		if (ctxpack_context_build(c, &bi))
			fail_msg("ctxpack_context_build: %s", ctxpack_context_errmsg(c));
		assert_string_equal(bi.dockerfile, "Dockerfile");
		assert_int_equal(bi.sources, 5);
		assert_true(bi.fails);
		assert_source(c, 0, CTXPACK_SOURCE_COPY, 3, "app.txt", false, false, 1);
		assert_source(c, 1, CTXPACK_SOURCE_COPY, 4, "app", false, false, 1);
		assert_source(c, 2, CTXPACK_SOURCE_COPY, 5, "secret.key", false, true, 0);
		assert_source(c, 3, CTXPACK_SOURCE_COPY, 6, "*.md", true, false, 2);
		assert_source(c, 4, CTXPACK_SOURCE_MOUNT, 7, "app/main.c", false, false, 1);
		/* the excluded source names its rule */
		assert_int_equal(ctxpack_context_source(c, 2, &s), 0);
		assert_string_equal(s.excluded_path, "secret.key");
		assert_int_equal(s.rule, 1);
		assert_string_equal(s.rule_info.source, ".dockerignore");
		assert_int_equal(s.rule_info.line, 2);
		assert_int_equal(s.rule_info.pattern_len, strlen("secret.key"));
		assert_memory_equal(s.rule_info.pattern, "secret.key", s.rule_info.pattern_len);
		assert_int_equal(ctxpack_context_source(c, 5, &s), -ERANGE);

		/* the entries read: the files named, the directory and what is
		 * sent below it (not its excluded cache/) */
		for (size_t i = 0; i < ctxpack_context_count(c); i++) {
			struct ctxpack_entry e;
			bool want_used = false;
			assert_int_equal(ctxpack_context_entry(c, i, &e), 0);
			assert_int_equal(ctxpack_context_entry_used(c, i, &u), 0);
			for (size_t k = 0; k < sizeof(used) / sizeof(used[0]); k++)
				want_used |= strcmp(e.path, used[k]) == 0;
			if (u != want_used)
				fail_msg("%s: used %d, want %d", e.path, u, want_used);
			nused += u;
		}
		assert_int_equal(nused, 5);
		assert_int_equal(ctxpack_context_entry_used(c, ctxpack_context_count(c), &u),
				 -ERANGE);
		assert_int_equal(bi.used_entries, 5);
		assert_int_equal(bi.used_files, 4);
		assert_int_equal(bi.used_bytes, 18);
		/* the program's `stats` counts the same */
		prog = run_ctxpack("stats", "--json", "--target", "base", "--build-arg", "DIR=app",
				   b ? "--builder=classic" : "--builder=buildkit", d, NULL);
		snprintf(want, sizeof(want),
			 "\"used\":{\"read\":{\"entries\":%llu,\"files\":%llu,",
			 (unsigned long long)bi.used_entries, (unsigned long long)bi.used_files);
		assert_non_null(memmem(prog.p, prog.n, want, strlen(want)));
		buf_free(&prog);

		/* the default target, the last stage, whose source is missing:
		 * BuildKit runs only the stages it needs, the classic builder
		 * every stage before it too */
		assert_int_equal(ctxpack_context_set_target(c, NULL), 0);
		assert_int_equal(ctxpack_context_open(c, d), 0);
		assert_int_equal(ctxpack_context_build(c, &bi), 0);
		assert_int_equal(bi.sources, b ? 6 : 1);
		assert_source(c, bi.sources - 1, CTXPACK_SOURCE_COPY, 9, "nothing", false, true, 0);
		assert_int_equal(ctxpack_context_source(c, bi.sources - 1, &s), 0);
		assert_null(s.excluded_path);
		assert_int_equal(s.rule, -1);
		assert_int_equal(bi.used_entries, b ? 5 : 0);
		assert_int_equal(bi.used_bytes, b ? 18 : 0);
		ctxpack_context_free(&c);
	}
	rmtree(&d);
}

/* A Dockerfile the builder refuses, or a target it does not have: the
 * context opens (and packs), the build calls give the error. */
static void test_build_errors(void **state)
{
	char *d = buildtree();
	ctxpack_context *c = NULL;
	struct ctxpack_build_info bi;
	struct ctxpack_source s;
	char digest[CTXPACK_DIGEST_SIZE];
	bool u = true;

	(void)state;
	assert_int_equal(ctxpack_context_new(&c), 0);
	assert_int_equal(ctxpack_context_build(c, &bi), -EINVAL); /* not open */
	assert_int_equal(ctxpack_context_source(c, 0, &s), -EINVAL);
	assert_int_equal(ctxpack_context_entry_used(c, 0, &u), -EINVAL);
	assert_false(u);
	assert_int_equal(ctxpack_context_build(NULL, &bi), -EINVAL);
	assert_int_equal(ctxpack_context_set_target(NULL, "x"), -EINVAL);
	assert_int_equal(ctxpack_context_add_build_arg(NULL, "x"), -EINVAL);
	assert_int_equal(ctxpack_context_add_build_arg(c, "=v"), -EINVAL);
	assert_non_null(strstr(ctxpack_context_errmsg(c), "'=v'"));
	assert_int_equal(ctxpack_context_add_build_arg(c, ""), -EINVAL);

	assert_int_equal(ctxpack_context_set_target(c, "nosuch"), 0);
	assert_int_equal(ctxpack_context_open(c, d), 0);
	assert_int_equal(ctxpack_context_build(c, NULL), -EINVAL);
	assert_int_equal(ctxpack_context_build(c, &bi), -EINVAL);
	assert_string_equal(ctxpack_context_errmsg(c),
			    "Dockerfile: target stage \"nosuch\" could not be found");
	assert_int_equal(ctxpack_context_source(c, 0, &s), -EINVAL);
	assert_int_equal(ctxpack_context_entry_used(c, 0, &u), -EINVAL);
	assert_int_equal(ctxpack_context_digest(c, false, digest), 0); /* the rest works */

	put(d, "Dockerfile", "FROM alpine\nCOPY\n", 0644);
	assert_int_equal(ctxpack_context_set_target(c, NULL), 0);
	assert_int_equal(ctxpack_context_open(c, d), 0);
	assert_int_equal(ctxpack_context_build(c, &bi), -EINVAL);
	assert_non_null(strstr(ctxpack_context_errmsg(c), "Dockerfile:2: COPY requires"));
	assert_int_equal(bi.sources, 0);

	/* fixed: the next open reads it again */
	put(d, "Dockerfile", "FROM alpine\nCOPY app.txt /\n", 0644);
	assert_int_equal(ctxpack_context_open(c, d), 0);
	assert_int_equal(ctxpack_context_build(c, &bi), 0);
	assert_int_equal(bi.sources, 1);
	assert_false(bi.fails);
	assert_int_equal(bi.used_files, 1);
	assert_int_equal(bi.used_bytes, 6);
	ctxpack_context_free(&c);
	rmtree(&d);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_explain_dockerfile),
		cmocka_unit_test(test_explain_socket),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_pack_same_as_program),
		cmocka_unit_test(test_pack_dockerfile_outside),
		cmocka_unit_test(test_pack_options),
		cmocka_unit_test(test_pack_pipe),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_rule_messages),
		cmocka_unit_test(test_rules_error),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_build_sources),
		cmocka_unit_test(test_build_errors),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s CTXPACK\n", argv[0]);
		return 2;
	}
	ctxpack_exe = argv[1];
	/* The program would clamp mtimes from it; the library never reads it. */
	unsetenv("SOURCE_DATE_EPOCH");
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
