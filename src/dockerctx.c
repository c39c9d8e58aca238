/* dockerctx.c: locate the ignore file and the Dockerfile of a context, as
 * each builder does (see dockerctx.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dockerctx.h"
#include "internal.h"
#include "pattern.h"
#include "rules.h"

static int set_err(struct dockerctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_err(struct dockerctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	return -err;
}

/* Reads all of fd into *buf (malloc'd).  Returns 0 or -errno. */
static int read_all(int fd, char **buf, size_t *len)
{
	size_t n = 0, alloc = 0;
	char *b = NULL;

	for (;;) {
		ssize_t r;
		if (GROW(b, alloc, n + 65536)) {
			free(b);
			return -ENOMEM;
		}
		r = read(fd, b + n, alloc - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(b);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Opens name below root with every symlink resolved inside root
 * (BuildKit's view of the context). */
static int open_in_root(const char *root, const char *name)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
				.resolve = RESOLVE_IN_ROOT };
	int dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (dfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
		/* Old kernel, or a seccomp filter: refuse symlinks rather
		 * than follow them out. */
		fd = openat_nofollow(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	}
	int e = errno;
	close(dfd);
	errno = e;
	return fd;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	s[la] = '/';
	memcpy(s + la + 1, b, lb + 1);
	return s;
}

/* The Dockerfile: -f relative to the current directory, else Dockerfile,
 * else dockerfile; symlinks resolved (the classic CLI's rule).  Docker
 * refuses to build without one, and when one inside the context resolves
 * to a place outside it; a -f path that is itself outside the context is
 * allowed (ctx->dockerfile stays NULL). */
static int find_dockerfile(struct dockerctx *ctx, const char *given)
{
	char *cand, *clean = NULL, *real = NULL;
	struct stat st;
	size_t rl = strlen(ctx->root), n;
	bool inside;
	int rc = 0;

	if (given) {
		cand = given[0] == '/' ? xmemdup(given, strlen(given)) : realpath(".", NULL);
		if (cand && given[0] != '/') {
			char *j = join(cand, given);
			free(cand);
			cand = j;
		}
	} else {
		cand = join(ctx->root, "Dockerfile");
		if (cand && lstat(cand, &st) < 0 && errno == ENOENT) {
			char *alt = join(ctx->root, "dockerfile");
			if (alt && lstat(alt, &st) == 0) {
				free(cand);
				cand = alt;
			} else {
				free(alt);
			}
		}
	}
	if (!cand)
		return -ENOMEM;
	n = strlen(cand);
	clean = malloc(n + 2);
	if (!clean) {
		rc = -ENOMEM;
		goto out;
	}
	clean[go_clean(cand, n, clean)] = '\0';
	inside = strncmp(clean, ctx->root, rl) == 0 && clean[rl] == '/';
	real = realpath(cand, NULL);
	if (!real) {
		rc = set_err(ctx, errno, "cannot find the Dockerfile '%s': %s (docker build fails too; name one with -f)",
			     given ? given : "Dockerfile", strerror(errno));
		goto out;
	}
	ctx->dockerfile_abs = real;
	if (strncmp(real, ctx->root, rl) == 0 && real[rl] == '/') {
		const char *rel = real + rl + 1;
		ctx->dockerfile = malloc(strlen(rel) + 2);
		if (!ctx->dockerfile) {
			rc = -ENOMEM;
			goto out;
		}
		ctx->dockerfile[go_clean(rel, strlen(rel), ctx->dockerfile)] = '\0';
	} else if (inside) {
		rc = set_err(ctx, EXDEV, "the Dockerfile '%s' resolves to '%s', outside the context (docker build fails too)",
			     given ? given : "Dockerfile", real);
	}
out:
	free(cand);
	free(clean);
	return rc;
}

/* Where the ignore file open as fd lies (/proc/self/fd/fd): outside the
 * context root, its lines must not reach messages.  Unknown counts as
 * outside. */
static int locate_ignore(struct dockerctx *ctx, int fd)
{
	char link[64], target[PATH_MAX];
	size_t rl = strlen(ctx->root);
	ssize_t n;

	free(ctx->ignore_target);
	ctx->ignore_target = NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 || (size_t)n >= sizeof(target) - 1)
		n = snprintf(target, sizeof(target), "(a place ctxpack cannot tell)");
	target[n] = '\0';
	ctx->ignore_outside = !(rl == 1 ? target[0] == '/'
				: strncmp(target, ctx->root, rl) == 0 && target[rl] == '/');
	if (ctx->ignore_outside && !(ctx->ignore_target = xmemdup(target, (size_t)n)))
		return -ENOMEM;
	return 0;
}

static int load_rules(struct dockerctx *ctx, const char *source, const char *buf, size_t len)
{
	int rc = ctx->ignore_outside ? rules_hide_text(ctx->rules, source, ctx->ignore_target) : 0;

	if (!rc)
		rc = ctxpack_rules_add_buffer(ctx->rules, source, buf, len);
	if (rc)
		return set_err(ctx, -rc, "%s", ctxpack_rules_errmsg(ctx->rules));
	ctx->ignore_source = xmemdup(source, strlen(source));
	return ctx->ignore_source ? 0 : -ENOMEM;
}

/* The ignore files are opened O_NONBLOCK and must be regular files (or
 * directories, which fail to read): a FIFO would block the run (the docker
 * CLI waits on it forever) and a device such as /dev/zero (through the
 * classic builder's symlink) would be read forever; both are refused. */
static int special_file(struct dockerctx *ctx, int fd, const char *dir, const char *name)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return 0;
	return set_err(ctx, EINVAL, "cannot read '%s%s': not a regular file but %s", dir, name,
		       S_ISFIFO(st.st_mode) ? "a FIFO" : "a device");
}

static int read_ignore_classic(struct dockerctx *ctx)
{
	char *path = join(ctx->root, ".dockerignore"), *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	free(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return set_err(ctx, errno, "cannot open '.dockerignore': %s", strerror(errno));
	}
	rc = locate_ignore(ctx, fd);
	if (!rc)
		rc = special_file(ctx, fd, "", ".dockerignore");
	if (rc) {
		close(fd);
		return rc;
	}
	rc = read_all(fd, &buf, &len);
	close(fd);
	if (rc)
		return set_err(ctx, -rc, "error reading '.dockerignore': %s", strerror(-rc));
	rc = load_rules(ctx, ".dockerignore", buf, len);
	free(buf);
	return rc;
}

/* A failure that says nothing about the ignore file itself (the disk or
 * the process failed): it must not read as a missing or unreadable file,
 * which would send what the rules leave out. */
static bool broken_read(int rc)
{
	return rc == -EIO || rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE;
}

/* BuildKit: <Dockerfile>.dockerignore (named after -f as given, else
 * "Dockerfile", even when the lowercase fallback is used) in the
 * Dockerfile's directory, symlinks resolved inside that directory; if it
 * does not exist (or is not a readable file) the context's .dockerignore,
 * symlinks resolved inside the context.  A permission error on the first
 * reads as an empty file (fsutil drops the error); any failure on the
 * second means no rules. */
static int read_ignore_buildkit(struct dockerctx *ctx, const char *df_arg)
{
	const char *df = df_arg ? df_arg : "Dockerfile";
	const char *slash = strrchr(df, '/');
	char *dir, *name, *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if (df_arg)
		dir = slash ? xmemdup(df, (size_t)(slash - df) + (slash == df)) : xmemdup(".", 1);
	else
		dir = xmemdup(ctx->root, strlen(ctx->root));
	name = malloc(strlen(df) + sizeof(".dockerignore"));
	if (!dir || !name) {
		free(dir);
		free(name);
		return -ENOMEM;
	}
	strcpy(name, slash ? slash + 1 : df);
	strcat(name, ".dockerignore");
	fd = open_in_root(dir, name);
	free(dir);
	if (fd >= 0 && ((rc = locate_ignore(ctx, fd)) || (rc = special_file(ctx, fd, df, ".dockerignore")))) {
		close(fd);
		free(name);
		return rc;
	}
	rc = fd < 0 ? -errno : read_all(fd, &buf, &len);
	if (fd >= 0)
		close(fd);
	strcpy(name, df);
	strcat(name, ".dockerignore");
	if (rc == 0 || rc == -EACCES)
		rc = load_rules(ctx, name, rc ? "" : buf, len);
	else if (broken_read(rc))
		rc = set_err(ctx, -rc, "cannot read '%s': %s", name, strerror(-rc));
	else
		rc = 1;
	free(name);
	free(buf);
	if (rc <= 0)
		return rc;
	buf = NULL;
	fd = open_in_root(ctx->root, ".dockerignore");
	if (fd >= 0 && ((rc = locate_ignore(ctx, fd)) || (rc = special_file(ctx, fd, "", ".dockerignore")))) {
		close(fd);
		return rc;
	}
	rc = fd < 0 ? -errno : read_all(fd, &buf, &len);
	if (fd >= 0)
		close(fd);
	if (rc)
		return broken_read(rc) ? set_err(ctx, -rc, "cannot read '.dockerignore': %s",
						 strerror(-rc))
				       : 0;
	rc = load_rules(ctx, ".dockerignore", buf, len);
	free(buf);
	return rc;
}

int dockerctx_open(struct dockerctx *ctx, const char *dir, const char *dockerfile,
		   enum ctxpack_builder builder)
{
	struct stat st;
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->builder = builder;
	ctx->root = realpath(dir, NULL);
	if (!ctx->root)
		return set_err(ctx, errno, "cannot open context '%s': %s", dir, strerror(errno));
	if (stat(ctx->root, &st) < 0)
		return set_err(ctx, errno, "cannot open context '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return set_err(ctx, ENOTDIR, "context '%s' is not a directory", dir);
	rc = find_dockerfile(ctx, dockerfile);
	if (rc)
		goto out;
	rc = ctxpack_rules_new(&ctx->rules);
	if (rc)
		goto out;
	if (builder == CTXPACK_BUILDER_CLASSIC)
		rc = read_ignore_classic(ctx);
	else
		rc = read_ignore_buildkit(ctx, dockerfile);
	if (rc)
		goto out;
	if (builder == CTXPACK_BUILDER_CLASSIC) {
		rc = ctxpack_rules_add_classic_readds(ctx->rules, ctx->dockerfile);
		if (rc) {
			set_err(ctx, -rc, "%s", ctxpack_rules_errmsg(ctx->rules));
			goto out;
		}
	}
	rc = ctxpack_match_compile(&ctx->match, ctx->rules, builder);
	if (rc)
		set_err(ctx, -rc, "%s", ctxpack_rules_errmsg(ctx->rules));
out:
	if (rc == -ENOMEM)
		set_err(ctx, ENOMEM, "out of memory");
	return rc;
}

void dockerctx_close(struct dockerctx *ctx)
{
	ctxpack_match_free(&ctx->match);
	ctxpack_rules_free(&ctx->rules);
	free(ctx->root);
	free(ctx->dockerfile);
	free(ctx->dockerfile_abs);
	free(ctx->ignore_source);
	free(ctx->ignore_target);
	memset(ctx, 0, sizeof(*ctx));
}

long dockerctx_relpath(const char *root, const char *p, size_t len, char **buf, size_t *bufsz)
{
	size_t rl = strlen(root), n, skip = 0;
	char *b;

	if (*bufsz < len + 3) {
		if (!(b = realloc(*buf, len + 3)))
			return -2;
		*buf = b;
		*bufsz = len + 3;
	}
	b = *buf;
	n = go_clean(p, len, b); /* an absolute path cleans to one without ".." */
	if (n && b[0] == '/') {
		if (rl == 1 && root[0] == '/')
			rl = 0; /* the context is "/": every absolute path lies below it */
		if (n < rl || memcmp(b, root, rl) || (n > rl && b[rl] != '/'))
			return -1;
		skip = n > rl ? rl + 1 : n; /* the root, and the '/' after it */
		n -= skip;
		memmove(b, b + skip, n);
	} else if ((n == 2 && memcmp(b, "..", 2) == 0) || (n > 2 && memcmp(b, "../", 3) == 0)) {
		return -1;
	}
	b[n] = '\0';
	if (n == 0 || (n == 1 && b[0] == '.'))
		return 0;
	return (long)n;
}
