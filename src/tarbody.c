/* tarbody.c: what the tar writer reads from the context (see tarbody.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tarbody.h"
#include "beneath.h"
#include "internal.h"
#include "tarheader.h"

#define CAP_XATTR TAR_CAP_XATTR

/* Reads security.capability as moby/go-archive's
 * ReadSecurityXattrToTarHeader does: any error means none, and a
 * VFS_CAP_REVISION_3 value becomes revision 2 (20 bytes: the root uid
 * makes no sense outside the user namespace).  fd: the file itself (read,
 * fgetxattr) or an O_PATH descriptor (getxattr through /proc/self/fd).
 * Returns the value's length, 0 for none, or -ENOMEM; *out is malloc'd. */
static ssize_t read_cap(int fd, bool opath, char **out)
{
	char proc[40], small[256], *v = small;
	ssize_t n;

	*out = NULL;
	if (opath)
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = opath ? getxattr(proc, CAP_XATTR, small, sizeof(small))
		  : fgetxattr(fd, CAP_XATTR, small, sizeof(small));
	while (n < 0 && errno == ERANGE) {
		ssize_t size = opath ? getxattr(proc, CAP_XATTR, NULL, 0)
				     : fgetxattr(fd, CAP_XATTR, NULL, 0);
		if (size < 0)
			return 0;
		if (v != small)
			free(v);
		v = malloc((size_t)size + 1);
		if (!v)
			return -ENOMEM;
		n = opath ? getxattr(proc, CAP_XATTR, v, (size_t)size)
			  : fgetxattr(fd, CAP_XATTR, v, (size_t)size);
	}
	if (n <= 0) {
		if (v != small)
			free(v);
		return 0; /* ENODATA, ENOTSUP...: docker ignores every error */
	}
	if (n > 3 && v[3] == 3 && n >= 20) { /* vfsCapRevision3 -> vfsCapRevision2 */
		v[3] = 2;
		n = 20;
	}
	if (v == small) {
		v = malloc((size_t)n + 1);
		if (!v)
			return -ENOMEM;
		memcpy(v, small, (size_t)n);
	}
	*out = v;
	return n;
}

/* The file did not end after e->size bytes (got were read: fewer, or
 * e->size + 1 for more): it changed after it was walked.  The error says
 * how (walk_file_check); never a member padded or cut short. */
int tar_body_changed(int fd, const struct walk_entry *e, enum walk_when when, uint64_t got,
		     char *err, size_t errsz)
{
	int rc = walk_file_check(e, fd, when, got, NULL, err, errsz);

	return rc ? rc : set_errmsg(err, errsz, -ESTALE, "'%s' changed while it was read", e->path);
}

/* Reads up to want bytes of a file that should hold size (got of them
 * read so far).  Returns the count (> 0), or -errno with err set: a read
 * error, or the file ending early. */
ssize_t tar_body_read_part(int fd, void *buf, size_t want, const struct walk_entry *e, uint64_t got,
			   char *err, size_t errsz)
{
	ssize_t n;

	do
		n = read(fd, buf, want);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return set_errmsg(err, errsz, -errno, "cannot read '%s': %s", e->path,
				  strerror(errno));
	if (n == 0)
		return tar_body_changed(fd, e, WALK_READ, got, err, errsz);
	return n;
}

/* After e->size bytes: the file must end here, and still be the file the
 * walk saw (walk_file_check: a file rewritten in place while it was read
 * ends where it should and holds bytes it never held at once). */
int tar_body_check_end(int fd, const struct walk_entry *e, enum walk_when when, char *err,
		       size_t errsz)
{
	char extra;
	ssize_t n;

	do
		n = read(fd, &extra, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return set_errmsg(err, errsz, -errno, "cannot read '%s': %s", e->path,
				  strerror(errno));
	return walk_file_check(e, fd, when, e->size + (n > 0), NULL, err, errsz);
}

/* Reads all of a file that must hold exactly size bytes into b->data. */
static int read_whole(struct tar_body *b, const struct walk_entry *e, char *err, size_t errsz)
{
	uint64_t size = e->size, got = 0;
	int rc;

	/* One byte more than expected is asked for: a regular file's read(2)
	 * returns less than asked only at the file's end, so reaching size
	 * with a short read proves the end without a read that returns 0
	 * (an fstat after it proves the file is still the one walked). */
	b->data = malloc((size_t)size + 1);
	if (!b->data)
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	while (got < size) {
		ssize_t n = read(b->fd, b->data + got, (size_t)(size + 1 - got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* not checked at open: was it still the file walked? */
			int e_read = errno;
			rc = walk_file_check(e, b->fd, WALK_OPENED, 0, NULL, err, errsz);
			return rc ? rc
				  : set_errmsg(err, errsz, -e_read, "cannot read '%s': %s", e->path,
					       strerror(e_read));
		}
		if (n == 0)
			return tar_body_changed(b->fd, e, WALK_READ_ONLY, got, err, errsz);
		got += (uint64_t)n;
	}
	if (size == 0)
		rc = tar_body_check_end(b->fd, e, WALK_READ_ONLY, err, errsz);
	else
		rc = walk_file_check(e, b->fd, WALK_READ_ONLY, got, NULL, err, errsz);
	if (rc)
		return rc;
	b->len = (size_t)size;
	close(b->fd);
	b->fd = -1;
	return 0;
}

/* Opens e's file through the directory kept in dir when it is e's parent
 * (opening it first, beneath rootfd, when it is not): one lookup of a
 * name instead of a path per file.  Any failure on the way falls back to
 * the whole path from rootfd, which reports it as such. */
static int open_in_dir(struct tar_dir *dir, int rootfd, const struct walk_entry *e, int flags)
{
	const char *slash = memrchr(e->path, '/', e->len);
	size_t dlen = slash ? (size_t)(slash - e->path) : 0;

	if (!dir || !slash)
		return beneath_open(rootfd, e->path, e->len, flags);
	if (dir->fd < 0 || dir->len != dlen || memcmp(dir->path, e->path, dlen)) {
		if (dir->fd >= 0)
			close(dir->fd);
		dir->fd = -1;
		if (GROW(dir->path, dir->alloc, dlen + 1))
			return beneath_open(rootfd, e->path, e->len, flags);
		/* open_entry takes a NUL-terminated path: the directory's own */
		memcpy(dir->path, e->path, dlen);
		dir->path[dlen] = '\0';
		dir->fd = beneath_open(rootfd, dir->path, dlen,
				       O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir->fd < 0) {
			dir->fd = -1;
			return beneath_open(rootfd, e->path, e->len, flags);
		}
		dir->len = dlen;
	}
	return beneath_open(dir->fd, slash + 1, e->len - dlen - 1, flags);
}

void tar_dir_close(struct tar_dir *dir)
{
	if (dir->fd >= 0)
		close(dir->fd);
	free(dir->path);
	*dir = (struct tar_dir)TAR_DIR_INIT;
}

/* Opens e's file; checked against the walk now (check), or only after
 * its last byte by the caller. */
static int file_open(int rootfd, struct tar_dir *dir, const struct walk_entry *e, bool check,
		     struct stat *stp, char *err, size_t errsz)
{
	struct stat st;
	int fd = open_in_dir(dir, rootfd, e,
			     O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	int rc = 0;

	if (fd == -ELOOP)
		return set_errmsg(err, errsz, -ESTALE,
				  "'%s' is no longer a regular file (a symlink is in its path)",
				  e->path);
	if (fd < 0)
		return set_errmsg(err, errsz, fd, "cannot open '%s': %s", e->path, strerror(-fd));
	if (!check)
		return fd;
	rc = walk_file_check(e, fd, WALK_OPENED, 0, &st, err, errsz);
	if (rc) {
		close(fd);
		return rc;
	}
	if (stp)
		*stp = st;
	return fd;
}

int tar_file_open(int rootfd, struct tar_dir *dir, const struct walk_entry *e, struct stat *stp,
		  char *err, size_t errsz)
{
	return file_open(rootfd, dir, e, true, stp, err, errsz);
}

int tar_body_open(struct tar_body *b, int rootfd, struct tar_dir *dir, const struct walk_entry *e,
		  bool hardlink, bool read_all, char *err, size_t errsz)
{
	ssize_t caplen;
	int rc = 0;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (e->type == WT_FILE && !hardlink) {
		/* A file read whole (read_whole) is checked once, after its
		 * last byte: the same inode, size and times then prove what a
		 * check at open would (one fstat per small file, not two). */
		b->fd = file_open(rootfd, dir, e, !read_all, NULL, err, errsz);
		if (b->fd < 0) {
			rc = b->fd;
			b->fd = -1;
			return rc;
		}
		if (!read_all) /* large files, read in blocks */
			posix_fadvise(b->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		caplen = read_cap(b->fd, false, &b->cap);
	} else {
		/* A directory opened for reading takes fgetxattr directly; an
		 * O_PATH descriptor (symlinks, devices, an unreadable directory)
		 * needs a lookup through /proc/self/fd. */
		bool opath = e->type != WT_DIR;
		int fd = opath ? -1
			       : open_in_dir(dir, rootfd, e,
					     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			opath = true;
			fd = open_in_dir(dir, rootfd, e, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			return set_errmsg(err, errsz, fd, "cannot open '%s': %s", e->path,
					  strerror(-fd));
		/* A hard link's member has no data; the link must still name
		 * the inode whose data went in before it. */
		rc = e->type == WT_FILE ? walk_file_check(e, fd, WALK_OPENED, 0, NULL, err, errsz)
					: 0;
		caplen = rc ? 0 : read_cap(fd, opath, &b->cap);
		close(fd);
		if (rc)
			return rc;
	}
	if (caplen < 0) {
		rc = set_errmsg(err, errsz, (int)caplen, "out of memory");
		goto fail;
	}
	b->cap_len = (size_t)caplen;
	if (read_all && b->fd >= 0)
		rc = read_whole(b, e, err, errsz);
	if (!rc)
		return 0;
fail:
	tar_body_free(b);
	return rc;
}

void tar_body_free(struct tar_body *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	free(b->data);
	free(b->cap);
	b->data = b->cap = NULL;
}

void tar_body_set_hash(struct tar_body *b, XXH128_hash_t h)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, h);
	memcpy(b->hash, c.digest, 16);
	b->hashed = true;
}

void tar_body_hash_data(struct tar_body *b)
{
	tar_body_set_hash(b, XXH3_128bits(b->data, b->len));
}
