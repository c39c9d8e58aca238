/* dockerctx.c: locate the ignore file and the Dockerfile of a context, as
 * each builder does (see dockerctx.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "dockerctx.h"
#include "internal.h"
#include "pattern.h"

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
		const char *name = "Dockerfile";
		if (fstatat(ctx->rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
		    fstatat(ctx->rootfd, "dockerfile", &st, AT_SYMLINK_NOFOLLOW) == 0)
			name = "dockerfile";
		cand = join(ctx->root, name);
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

static int load_rules(struct dockerctx *ctx, const char *source, const char *buf, size_t len)
{
	int rc = ctxpack_rules_add_buffer(ctx->rules, source, buf, len);

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
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	/* Read through symlinks, relative to the root's descriptor. */
	fd = openat(ctx->rootfd, ".dockerignore", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return set_err(ctx, errno, "cannot open '.dockerignore': %s", strerror(errno));
	}
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

/* The directory of the Dockerfile as given (BuildKit's transfer root for
 * <Dockerfile>.dockerignore): below the context it is opened relative to
 * the root's descriptor; elsewhere by its path. */
static int open_df_dir(struct dockerctx *ctx, const char *df_arg)
{
	const char *slash = strrchr(df_arg, '/');
	char *dir = NULL, *abs = NULL, *clean = NULL;
	size_t rl = strlen(ctx->root), n;
	int fd;

	dir = slash ? xmemdup(df_arg, (size_t)(slash - df_arg) + (slash == df_arg)) : xmemdup(".", 1);
	if (dir && dir[0] != '/') {
		char *cwd = realpath(".", NULL);
		abs = cwd ? join(cwd, dir) : NULL;
		free(cwd);
	} else if (dir) {
		abs = xmemdup(dir, strlen(dir));
	}
	n = abs ? strlen(abs) : 0;
	clean = abs ? malloc(n + 2) : NULL;
	if (!clean) {
		errno = ENOMEM;
		fd = -1;
		goto out;
	}
	clean[go_clean(abs, n, clean)] = '\0';
	if (strcmp(clean, ctx->root) == 0)
		fd = dup(ctx->rootfd);
	else if (strncmp(clean, ctx->root, rl) == 0 && clean[rl] == '/')
		fd = openat(ctx->rootfd, clean + rl + 1, O_PATH | O_DIRECTORY | O_CLOEXEC);
	else
		fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
out:
	free(dir);
	free(abs);
	free(clean);
	return fd;
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
	char *name, *buf = NULL;
	size_t len = 0;
	int fd, dfd, rc;

	name = malloc(strlen(df) + sizeof(".dockerignore"));
	if (!name)
		return -ENOMEM;
	strcpy(name, slash ? slash + 1 : df);
	strcat(name, ".dockerignore");
	dfd = df_arg ? open_df_dir(ctx, df_arg) : dup(ctx->rootfd);
	fd = dfd < 0 ? -errno : beneath_open_in_root(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0 && (rc = special_file(ctx, fd, df, ".dockerignore"))) {
		close(fd);
		free(name);
		return rc;
	}
	rc = fd < 0 ? fd : read_all(fd, &buf, &len);
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
	fd = beneath_open_in_root(ctx->rootfd, ".dockerignore", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 && (rc = special_file(ctx, fd, "", ".dockerignore"))) {
		close(fd);
		return rc;
	}
	rc = fd < 0 ? fd : read_all(fd, &buf, &len);
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
	struct stat st, rst;
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->opened = true;
	ctx->builder = builder;
	/* The root is opened once; its name is only for messages and for
	 * telling where a Dockerfile path lies. */
	ctx->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->rootfd < 0) {
		if (errno == ENOTDIR)
			return set_err(ctx, ENOTDIR, "context '%s' is not a directory", dir);
		return set_err(ctx, errno, "cannot open context '%s': %s", dir, strerror(errno));
	}
	ctx->root = realpath(dir, NULL);
	if (!ctx->root)
		return set_err(ctx, errno, "cannot open context '%s': %s", dir, strerror(errno));
	if (fstat(ctx->rootfd, &st) < 0 || stat(ctx->root, &rst) < 0)
		return set_err(ctx, errno, "cannot open context '%s': %s", dir, strerror(errno));
	if (st.st_dev != rst.st_dev || st.st_ino != rst.st_ino)
		return set_err(ctx, ESTALE, "cannot open context '%s': it was replaced while it was opened",
			       dir);
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
	if (!ctx->opened)
		return;
	if (ctx->rootfd >= 0)
		close(ctx->rootfd);
	ctxpack_match_free(&ctx->match);
	ctxpack_rules_free(&ctx->rules);
	free(ctx->root);
	free(ctx->dockerfile);
	free(ctx->dockerfile_abs);
	free(ctx->ignore_source);
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
