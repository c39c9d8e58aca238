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
#include "regex.h"
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

/* The one check of an input's type: ignore files and the Dockerfile must be
 * regular files (or directories, which fail to read: EISDIR); a FIFO would
 * block the run (the docker CLI waits on it forever) and a device such as
 * /dev/zero would be read forever: both are refused, naming the file. */
static int not_regular(struct dockerctx *ctx, const struct stat *st, const char *name)
{
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))
		return 0;
	return set_err(ctx, EINVAL, "cannot read '%s': not a regular file but %s", name,
		       S_ISFIFO(st->st_mode)  ? "a FIFO"
		       : S_ISSOCK(st->st_mode) ? "a socket"
					       : "a device");
}

/* The one reader of an ignore file or a Dockerfile: fd (opened with
 * O_NONBLOCK | O_NOCTTY; closed here) read whole into out, refused when it
 * is not a regular file or holds more than DOCKERCTX_INPUT_MAX bytes.
 * Returns 0; a negative errno with *refused set and the message in
 * ctx->errmsg (the caller must fail); or a negative errno of the read
 * alone, without a message (the caller decides what it means). */
static int read_input(struct dockerctx *ctx, int fd, const char *name, struct dockerctx_input *out,
		      bool *refused)
{
	size_t n = 0, alloc = 0;
	struct stat st;
	char *b = NULL;
	int rc = 0;

	*refused = false;
	memset(out, 0, sizeof(*out));
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = not_regular(ctx, &st, name)) ||
	    (S_ISREG(st.st_mode) && st.st_size > (off_t)DOCKERCTX_INPUT_MAX))
		goto refuse;
	for (;;) {
		ssize_t r;
		if (n > DOCKERCTX_INPUT_MAX)
			goto refuse; /* it grew while read */
		if (GROW(b, alloc, n + 65536)) {
			rc = -ENOMEM;
			goto out;
		}
		r = read(fd, b + n, alloc - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	out->data = b;
	out->len = n;
	out->mode = st.st_mode & 07777;
	out->mtime = st.st_mtime;
	out->present = true;
	b = NULL;
	goto out;
refuse:
	*refused = true;
	if (!rc)
		rc = set_err(ctx, EFBIG, "'%s' is larger than %s", name, DOCKERCTX_INPUT_MAX_TEXT);
out:
	free(b);
	close(fd);
	return rc;
}

/* `-f -`: the Dockerfile on standard input, read once per process (a
 * command that opens the context for both builders reads it twice) and
 * bounded as a file is; a pipe is allowed.  Its bytes are kept for the
 * process's life. */
static struct dockerctx_input stdin_dockerfile;
static int stdin_read_rc = 1; /* 1: not read yet */

static int read_stdin_dockerfile(struct dockerctx *ctx)
{
	size_t n = 0, alloc = 0;
	struct stat st;
	char *b = NULL;

	if (stdin_read_rc <= 0)
		goto copy;
	stdin_read_rc = 0;
	if (fstat(STDIN_FILENO, &st) < 0) {
		stdin_read_rc = -errno;
		goto copy;
	}
	for (;;) {
		ssize_t r;
		if (n > DOCKERCTX_INPUT_MAX) {
			stdin_read_rc = -EFBIG;
			break;
		}
		if (GROW(b, alloc, n + 65536)) {
			stdin_read_rc = -ENOMEM;
			break;
		}
		r = read(STDIN_FILENO, b + n, alloc - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			stdin_read_rc = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (stdin_read_rc) {
		free(b);
		goto copy;
	}
	stdin_dockerfile.data = b;
	stdin_dockerfile.len = n;
	stdin_dockerfile.mode = st.st_mode & 07777;
	stdin_dockerfile.mtime = st.st_mtime;
	stdin_dockerfile.present = true;
copy:
	if (stdin_read_rc == -EFBIG)
		return set_err(ctx, EFBIG, "the Dockerfile on standard input is larger than %s",
			       DOCKERCTX_INPUT_MAX_TEXT);
	if (stdin_read_rc)
		return set_err(ctx, -stdin_read_rc, "cannot read the Dockerfile from standard input: %s",
			       strerror(-stdin_read_rc));
	ctx->outside_dockerfile = stdin_dockerfile;
	ctx->outside_dockerfile.data = malloc(stdin_dockerfile.len ? stdin_dockerfile.len : 1);
	if (!ctx->outside_dockerfile.data) {
		memset(&ctx->outside_dockerfile, 0, sizeof(ctx->outside_dockerfile));
		return -ENOMEM;
	}
	memcpy(ctx->outside_dockerfile.data, stdin_dockerfile.data, stdin_dockerfile.len);
	ctx->dockerfile_abs = xmemdup("-", 1);
	return ctx->dockerfile_abs ? 0 : -ENOMEM;
}

static void input_release(struct dockerctx_input *in)
{
	free(in->data);
	memset(in, 0, sizeof(*in));
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

/* BuildKit: the Dockerfile is read by the name given, rel (relative to the
 * root, cleaned), which resolves to ctx->dockerfile through a symlink.  A
 * piped `docker build -f NAME -` opens NAME in the tar and follows it
 * there (measured on the engine: the symlink member and its target
 * suffice; the target alone fails with "open Dockerfile: no such file or
 * directory"), so the archive carries both: ctx->dockerfile_link.  A name
 * that reaches its target through more than that one relative symlink
 * (a chain, an absolute target, a symlinked directory) is refused. */
static int find_dockerfile_link(struct dockerctx *ctx, const char *shown, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	size_t dl = slash ? (size_t)(slash - rel) + 1 : 0, n;
	char target[PATH_MAX], *joined = NULL;
	struct stat st;
	ssize_t tl = -1;
	int fd, rc = 0;

	fd = beneath_open(ctx->rootfd, rel, strlen(rel), O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))
		tl = readlinkat(fd, "", target, sizeof(target) - 1);
	if (fd >= 0)
		close(fd);
	if (tl > 0 && (size_t)tl < sizeof(target) - 1 && target[0] != '/') {
		target[tl] = '\0';
		joined = malloc(dl + (size_t)tl + 2);
		if (!joined)
			return -ENOMEM;
		memcpy(joined, rel, dl);
		memcpy(joined + dl, target, (size_t)tl + 1);
		n = go_clean(joined, dl + (size_t)tl, joined);
		joined[n] = '\0';
		if (strcmp(joined, ctx->dockerfile) == 0) {
			ctx->dockerfile_link = xmemdup(rel, strlen(rel));
			rc = ctx->dockerfile_link ? 0 : -ENOMEM;
			free(joined);
			return rc;
		}
	}
	free(joined);
	return set_err(ctx, EINVAL, "the Dockerfile '%s' reaches '%s' through more than one relative symlink: BuildKit reads it by that name, and ctxpack does not reproduce the links it would need",
		       shown, ctx->dockerfile);
}

/* The Dockerfile: -f relative to the current directory, else Dockerfile,
 * else dockerfile; symlinks resolved (the classic CLI's rule).  Docker
 * refuses to build without one, and when the default name inside the
 * context resolves to a place outside it; a -f path outside the context is
 * allowed (ctx->dockerfile stays NULL) and read here, once, bounded: for
 * the classic CLI also a -f naming a symlink inside the context whose
 * target lies outside (getDockerfileRelPath's ".." case: it opens the name
 * given and sends it as .dockerfile.<id>, as tests/vectors
 * a18-f-symlink-outside records).  One
 * inside is looked at through the root's descriptor: it must still be
 * there beneath the root, and not be a FIFO or a device. */
static int find_dockerfile(struct dockerctx *ctx, const char *given)
{
	const char *shown = given ? given : "Dockerfile";
	char *cand, *clean = NULL, *real = NULL;
	struct stat st;
	size_t rl = strlen(ctx->root), n;
	bool inside, refused = false;
	int rc = 0, fd;

	if (given && strcmp(given, "-") == 0)
		return read_stdin_dockerfile(ctx);
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
			     shown, strerror(errno));
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
		n = go_clean(rel, strlen(rel), ctx->dockerfile);
		ctx->dockerfile[n] = '\0';
		fd = beneath_open(ctx->rootfd, ctx->dockerfile, n, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			rc = set_err(ctx, -fd, "cannot find the Dockerfile '%s': %s", shown,
				     strerror(-fd));
			goto out;
		}
		rc = fstat(fd, &st) < 0 ? set_err(ctx, errno, "cannot stat the Dockerfile '%s': %s",
						  shown, strerror(errno))
					: not_regular(ctx, &st, shown);
		close(fd);
		/* The classic CLI sends a Dockerfile directory as it is
		 * (tests/vectors a18-dockerfile-directory); BuildKit's frontend
		 * fails reading it ("failed to read dockerfile: read
		 * .../Dockerfile: is a directory"). */
		if (!rc && S_ISDIR(st.st_mode) && ctx->builder == CTXPACK_BUILDER_BUILDKIT)
			rc = set_err(ctx, EISDIR, "failed to read the Dockerfile '%s': is a directory (BuildKit fails too)",
				     shown);
		if (!rc && inside && ctx->builder == CTXPACK_BUILDER_BUILDKIT &&
		    strcmp(clean + rl + 1, ctx->dockerfile) != 0)
			rc = find_dockerfile_link(ctx, shown, clean + rl + 1);
	} else if (inside && !(given && ctx->builder == CTXPACK_BUILDER_CLASSIC)) {
		rc = set_err(ctx, EXDEV, "the Dockerfile '%s' resolves to '%s', outside the context (docker build fails too)",
			     shown, real);
	} else {
		fd = open(real, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		rc = fd < 0 ? -errno : read_input(ctx, fd, shown, &ctx->outside_dockerfile, &refused);
		if (rc && !refused)
			rc = set_err(ctx, -rc, "cannot read the Dockerfile '%s': %s", real,
				     strerror(-rc));
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

	if (ctx->ignore_text) {
		buf = ctx->ignore_text;
		len = ctx->ignore_text_len;
	}
	if (!rc)
		rc = ctxpack_rules_add_buffer(ctx->rules, source, buf, len);
	if (rc)
		return set_err(ctx, -rc, "%s", ctxpack_rules_errmsg(ctx->rules));
	ctx->ignore_source = xmemdup(source, strlen(source));
	return ctx->ignore_source ? 0 : -ENOMEM;
}

/* The ignore files are opened O_NONBLOCK | O_NOCTTY and read by
 * read_input (regular files only, bounded). */
#define INPUT_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* The classic builder: <context>/.dockerignore, read through symlinks
 * (relative to the root's descriptor). */
static int read_ignore_classic(struct dockerctx *ctx)
{
	struct dockerctx_input *in = &ctx->dockerignore;
	bool refused = false;
	int fd, rc;

	fd = openat(ctx->rootfd, ".dockerignore", INPUT_FLAGS);
	if (fd < 0) {
		if (errno == ENOENT)
			return ctx->ignore_text ? load_rules(ctx, ".dockerignore", NULL, 0) : 0;
		return set_err(ctx, errno, "cannot open '.dockerignore': %s", strerror(errno));
	}
	rc = locate_ignore(ctx, fd);
	if (rc) {
		close(fd);
		return rc;
	}
	rc = read_input(ctx, fd, ".dockerignore", in, &refused);
	if (rc)
		return refused ? rc : set_err(ctx, -rc, "error reading '.dockerignore': %s", strerror(-rc));
	return load_rules(ctx, ".dockerignore", in->data, in->len);
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
 * second means no rules.  The context's .dockerignore is still read when
 * the Dockerfile lies outside: the archive's copy gets its name. */
static int read_ignore_buildkit(struct dockerctx *ctx, const char *df_arg)
{
	const char *df = df_arg ? df_arg : "Dockerfile";
	const char *slash = strrchr(df, '/');
	struct dockerctx_input in = { 0 };
	char *name, *shown;
	bool refused = false;
	int fd, dfd, rc;

	name = malloc(strlen(df) + sizeof(".dockerignore"));
	shown = malloc(strlen(df) + sizeof(".dockerignore"));
	if (!name || !shown) {
		free(name);
		free(shown);
		return -ENOMEM;
	}
	strcpy(name, slash ? slash + 1 : df);
	strcat(name, ".dockerignore");
	strcpy(shown, df);
	strcat(shown, ".dockerignore");
	/* `-f -`: buildx writes the Dockerfile into a directory of its own,
	 * where no <Dockerfile>.dockerignore lies */
	dfd = df_arg && strcmp(df_arg, "-") == 0 ? (errno = ENOENT, -1)
	      : df_arg				  ? open_df_dir(ctx, df_arg)
						  : dup(ctx->rootfd);
	if (dfd < 0) {
		rc = -errno;
	} else {
		fd = beneath_open_in_root(dfd, name, INPUT_FLAGS);
		close(dfd);
		rc = fd < 0 ? fd : locate_ignore(ctx, fd);
		if (fd >= 0 && rc)
			close(fd);
		else if (fd >= 0)
			rc = read_input(ctx, fd, shown, &in, &refused);
	}
	free(name);
	if (refused) {
		free(shown);
		return rc;
	}
	if (rc == 0 || rc == -EACCES)
		rc = load_rules(ctx, shown, rc ? "" : in.data, in.len);
	else if (broken_read(rc))
		rc = set_err(ctx, -rc, "cannot read '%s': %s", shown, strerror(-rc));
	else
		rc = 1;
	free(shown);
	input_release(&in);
	if (rc < 0 || (rc == 0 && ctx->dockerfile))
		return rc;
	if (rc == 0) {
		/* The rules are read; the Dockerfile lies outside.  The
		 * archive's .dockerignore is the context's own file (a
		 * symlink there is refused when it is written). */
		fd = beneath_open(ctx->rootfd, ".dockerignore", 13, INPUT_FLAGS | O_NOFOLLOW);
		if (fd == -ENOENT || fd == -ELOOP)
			return 0;
		rc = fd < 0 ? fd : read_input(ctx, fd, ".dockerignore", &ctx->dockerignore, &refused);
		if (rc == -EISDIR)
			return 0; /* refused when it is written */
		if (rc && !refused)
			rc = set_err(ctx, -rc, "cannot read '.dockerignore': %s", strerror(-rc));
		return rc;
	}
	fd = beneath_open_in_root(ctx->rootfd, ".dockerignore", INPUT_FLAGS);
	rc = fd < 0 ? fd : locate_ignore(ctx, fd);
	if (fd >= 0 && rc) {
		close(fd);
		return rc;
	}
	if (fd >= 0)
		rc = read_input(ctx, fd, ".dockerignore", &ctx->dockerignore, &refused);
	if (refused)
		return rc;
	if (rc && broken_read(rc))
		return set_err(ctx, -rc, "cannot read '.dockerignore': %s", strerror(-rc));
	if (rc == -EACCES)
		ctx->ignore_unreadable = EACCES;
	if (rc)
		return ctx->ignore_text ? load_rules(ctx, ".dockerignore", NULL, 0) : 0;
	return load_rules(ctx, ".dockerignore", ctx->dockerignore.data, ctx->dockerignore.len);
}

/* BuildKit: buildx sends the Dockerfile's directory with the Dockerfile's
 * base name as fsutil's only include pattern (patternmatcher), and the
 * frontend then opens that name.  A name that is not a valid pattern fails
 * the transfer ("invalid includepatterns: ...: syntax error in pattern");
 * one that does not match itself (Dockerfile[1] selects Dockerfile1)
 * leaves the Dockerfile out ("open Dockerfile[1]: no such file or
 * directory").  Both fail the build; so does ctxpack.  `-f -` is written
 * by buildx as "Dockerfile". */
static int check_include_pattern(struct dockerctx *ctx, const char *df_arg)
{
	const char *slash, *base;
	struct re_scratch rs;
	struct pattern p;
	char why[160];
	int rc, m;

	if (!df_arg || strcmp(df_arg, "-") == 0)
		return 0;
	slash = strrchr(df_arg, '/');
	base = slash ? slash + 1 : df_arg;
	rc = pattern_init(&p, base, strlen(base), why, sizeof(why));
	if (rc == PATTERN_ENOMEM)
		return -ENOMEM;
	if (rc == PATTERN_ESYNTAX)
		return set_err(ctx, EINVAL, "the Dockerfile '%s': BuildKit loads it with '%s' as an include pattern: syntax error in pattern (BuildKit fails: invalid includepatterns)",
			       df_arg, base);
	if (rc != PATTERN_OK || p.exclusion)
		m = 0;
	else if (re_scratch_init(&rs, pattern_prog_len(&p)) != 0)
		m = -3;
	else {
		m = pattern_match(&p, &rs, base, strlen(base));
		re_scratch_release(&rs);
	}
	pattern_release(&p);
	if (m == -3)
		return -ENOMEM;
	if (m < 0)
		return set_err(ctx, EINVAL, "the Dockerfile '%s': BuildKit loads it with '%s' as an include pattern, which fails when it is evaluated (BuildKit fails too)",
			       df_arg, base);
	if (m == 0)
		return set_err(ctx, ENOENT, "the Dockerfile '%s': BuildKit loads it with '%s' as an include pattern, which does not select it (BuildKit fails: open %s: no such file or directory)",
			       df_arg, base, base);
	return 0;
}

int dockerctx_open(struct dockerctx *ctx, const char *dir, const char *dockerfile,
		   enum ctxpack_builder builder)
{
	return dockerctx_open_with(ctx, dir, dockerfile, builder, NULL, 0);
}

int dockerctx_open_with(struct dockerctx *ctx, const char *dir, const char *dockerfile,
			enum ctxpack_builder builder, const char *text, size_t len)
{
	struct stat st, rst;
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->opened = true;
	ctx->ignore_text = text;
	ctx->ignore_text_len = len;
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
	if (!rc && builder == CTXPACK_BUILDER_BUILDKIT)
		rc = check_include_pattern(ctx, dockerfile);
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
	input_release(&ctx->dockerignore);
	input_release(&ctx->outside_dockerfile);
	ctxpack_match_free(&ctx->match);
	ctxpack_rules_free(&ctx->rules);
	free(ctx->root);
	free(ctx->dockerfile);
	free(ctx->dockerfile_abs);
	free(ctx->dockerfile_link);
	free(ctx->ignore_source);
	free(ctx->ignore_target);
	memset(ctx, 0, sizeof(*ctx));
}

int dockerctx_read_dockerfile(struct dockerctx *ctx, char **data, size_t *len)
{
	const char *shown = ctx->dockerfile ? ctx->dockerfile : ctx->dockerfile_abs;
	struct dockerctx_input in;
	bool refused = false;
	int fd, rc;

	*data = NULL;
	*len = 0;
	if (ctx->outside_dockerfile.present) {
		in = ctx->outside_dockerfile;
		*data = malloc(in.len ? in.len : 1);
		if (!*data)
			return set_err(ctx, ENOMEM, "out of memory");
		memcpy(*data, in.data, in.len);
		*len = in.len;
		return 0;
	}
	if (!ctx->dockerfile)
		return set_err(ctx, ENOENT, "no Dockerfile");
	fd = beneath_open(ctx->rootfd, ctx->dockerfile, strlen(ctx->dockerfile),
			  O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return set_err(ctx, -fd, "cannot read the Dockerfile '%s': %s", shown, strerror(-fd));
	rc = read_input(ctx, fd, shown, &in, &refused);
	if (rc && !refused)
		return set_err(ctx, -rc, "cannot read the Dockerfile '%s': %s", shown, strerror(-rc));
	if (rc)
		return rc;
	*data = in.data;
	*len = in.len;
	return 0;
}

static bool same(const char *s, const char *path, size_t len)
{
	return s && strlen(s) == len && memcmp(s, path, len) == 0;
}

bool dockerctx_is_dockerfile(const struct dockerctx *ctx, const char *path, size_t len)
{
	return same(ctx->dockerfile, path, len) || same(ctx->dockerfile_link, path, len);
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
