/* members_src.c: members from a directory, a tar or a manifest (see
 * members_src.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "hashcache.h"
#include "hashfiles.h"
#include "members_src.h"
#include "pack.h"

int members_src_opt(int id, const char *arg, struct members_src_opts *o)
{
	int rc = common_opt(id, arg,
			    &(const struct common_dest){ .builder = &o->builder,
							 .dockerfile = &o->dockerfile,
							 .threads = &o->threads,
							 .progress = &o->progress });

	if (rc <= 0)
		return rc;
	switch (id) {
	case SRC_OPT_NO_CACHE:
		o->no_cache = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	}
	return 1;
}

/* A directory: the context walked, every sent file hashed (through the
 * cache unless o->no_cache), the members as the builder receives them. */
static int load_dir(const char *dir, const struct members_src_opts *o, struct member_list *out,
		    struct members_src_info *info, int (*each)(void *arg, const struct member *m),
		    void *arg)
{
	struct pack_options po = { .builder = o->builder, .dir = dir, .dockerfile = o->dockerfile,
				   .threads = o->threads };
	struct pack_session *s = NULL;
	struct hashcache *cache = NULL;
	struct hashfiles_stats hs = { 0 };
	struct progress pg = { .verb = "hashed" };
	struct progress_line *pl = progress_line_start(&pg, o->progress, o->quiet);
	char err[1024] = "";
	int rc;

	po.progress = &pg;
	rc = pack_open(&s, &po, err, sizeof(err));
	if (!rc && !o->no_cache)
		rc = hashcache_open(&cache, NULL, err, sizeof(err));
	if (!rc)
		rc = pack_hash(s, NULL, cache, &pg, &hs, err, sizeof(err));
	if (!rc)
		rc = each ? pack_members_each(s, each, arg, err, sizeof(err))
			: pack_members(s, out, err, sizeof(err));
	progress_line_stop(&pl);
	if (rc)
		fprintf(stderr, "ctxpack: %s\n", err);
	/* What was hashed stays true even when another file failed. */
	if (cache && hashcache_save(cache, err, sizeof(err)) && !o->quiet && !rc)
		/* Only an optimization: the answer stands. */
		fprintf(stderr, "ctxpack: warning: the hash cache was not saved: %s\n", err);
	info->files_read = hs.files_read;
	info->bytes_read = hs.bytes_read;
	info->cached = hs.cached;
	info->cache_used = cache != NULL;
	hashcache_free(&cache);
	if (rc)
		pack_close(&s);
	info->session = s; /* the list's names live in it */
	return rc;
}

void members_src_release(struct member_list *l, struct members_src_info *info)
{
	member_list_release(l);
	pack_close(&info->session);
}

/* stdin into an unnamed temporary file, so that it can be sniffed and
 * then read from the start. */
static int spool_stdin(void)
{
	char buf[1 << 16];
	const char *tmp = getenv("TMPDIR");
	int fd = open(tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf)), w = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		while (w < n) {
			ssize_t k = write(fd, buf + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				goto fail;
			w += k;
		}
	}
	if (lseek(fd, 0, SEEK_SET) == 0)
		return fd;
fail:
	{
		int e = errno;
		close(fd);
		return -e;
	}
}

/* A file: a manifest when it starts like one, a tar otherwise. */
static int load_file(int fd, const char *name, struct member_list *out,
		     struct members_src_info *info)
{
	char head[64], err[1024] = "";
	ssize_t n = pread(fd, head, sizeof(head), 0);
	int rc;

	if (n < 0) {
		rc = -errno;
		fprintf(stderr, "ctxpack: cannot read '%s': %s\n", name, strerror(errno));
		return rc;
	}
	if (members_is_manifest(head, (size_t)n)) {
		int dupfd = dup(fd);
		FILE *f = dupfd >= 0 ? fdopen(dupfd, "r") : NULL;
		if (!f) {
			rc = -errno;
			if (dupfd >= 0)
				close(dupfd);
			fprintf(stderr, "ctxpack: cannot read '%s': %s\n", name, strerror(-rc));
			return rc;
		}
		info->kind = SRC_MANIFEST;
		rc = members_from_manifest(out, f, name, err, sizeof(err));
		fclose(f);
	} else {
		info->kind = SRC_TAR;
		rc = members_from_tar(out, fd, name, err, sizeof(err));
	}
	if (rc)
		fprintf(stderr, "ctxpack: %s\n", err);
	return rc;
}

int members_src_load(const char *operand, const struct members_src_opts *o, struct member_list *out,
		     struct members_src_info *info,
		     int (*each)(void *arg, const struct member *m), void *arg)
{
	struct stat st;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	memset(info, 0, sizeof(*info));
	if (!strcmp(operand, "-") && o->dockerfile && !strcmp(o->dockerfile, "-")) {
		fprintf(stderr, "ctxpack: '-' given as a source and as -f: stdin can be only one of them\n");
		return -EINVAL;
	}
	if (!strcmp(operand, "-")) {
		fd = spool_stdin();
		if (fd < 0) {
			fprintf(stderr, "ctxpack: cannot read stdin: %s\n", strerror(-fd));
			return fd;
		}
		rc = load_file(fd, "<stdin>", out, info);
		close(fd);
		return rc;
	}
	if (stat(operand, &st) < 0) {
		rc = -errno;
		fprintf(stderr, "ctxpack: cannot read '%s': %s\n", operand, strerror(errno));
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		info->kind = SRC_DIR;
		return load_dir(operand, o, out, info, each, arg);
	}
	fd = open(operand, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, "ctxpack: cannot open '%s': %s\n", operand, strerror(errno));
		return rc;
	}
	rc = load_file(fd, operand, out, info);
	close(fd);
	return rc;
}
