/* tarwriter.c: the tar writer (see tarwriter.h).
 *
 * The header bytes are Go's, formatted by tarheader.c (its comment says
 * why libarchive's tar writers cannot write them), and libarchive carries
 * the stream: its "raw" format passes the bytes through unchanged into the
 * compression filters (gzip, zstd) and the output callback.
 *
 * Data passes through one 1 MiB buffer: headers are formatted into it and
 * file data is read into it directly, so the output sees large writes.
 * Without compression, the body of a large file skips the buffer: it is
 * spliced into an output pipe, or copied with copy_file_range into an
 * output file, so its bytes never pass through user space (reading each
 * byte once is the floor; a copy through the buffer costs as much again).  A
 * failed tar_add never leaves a member that looks complete: the member is
 * dropped if it is still in the buffer, and the writer refuses everything
 * after; tar_close then ends the stream inside a block, so that no tar
 * reader (Go's archive/tar in the engine included) can take the stream for
 * a complete, shorter archive. */
#define _GNU_SOURCE
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "tarwriter.h"
#include "internal.h"
#include "tarheader.h"

#define BLOCK TAR_BLOCK
#define BUF_SIZE (1u << 20)
#define DIRECT_MIN (64u << 10) /* smaller bodies are batched in the buffer */

struct tar_writer {
	struct archive *a;
	int fd;
	int io_err;    /* errno of the failed write(2), 0 */
	int failed;    /* negative errno: the stream is unusable */
	bool finished; /* end blocks written, libarchive closed */
	bool counting; /* tar_open_counter: bytes are counted, not written */
	struct tar_dir dir; /* the parent of the last member opened by tar_add */
	char *buf;     /* BUF_SIZE bytes */
	size_t used;
	uint64_t flushes; /* buffer flushes so far */
	uint64_t raw;	  /* tar bytes accepted (buffered or written) */
	uint64_t direct;  /* bytes copied to fd past libarchive (spliced) */
	enum { DIRECT_NONE, DIRECT_SPLICE, DIRECT_COPY_RANGE, DIRECT_SENDFILE } direct_mode;
	int tee[2];	  /* hashing into a pipe: the file's pages pass through here, -1 */
	bool no_tee;	  /* tee(2) is not available: hashing goes through buf */
	char *name;	  /* scratch: the member name */
	size_t name_alloc;
	struct tar_header_buf hb; /* the member's header blocks */
	struct tar_options o;
	char failmsg[256]; /* why the stream was given up */
};

/* Marks the stream unusable; returns rc.  err: the message (errsz bytes). */
static int fail(struct tar_writer *w, int rc, const char *err, size_t errsz)
{
	if (!w->failed) {
		w->failed = rc;
		snprintf(w->failmsg, sizeof(w->failmsg), "%s",
			 err && errsz ? err : strerror(-rc));
	}
	return rc;
}

/* ---- output ------------------------------------------------------------ */

/* libarchive's client write callback: all of buf or an error (write(2)'s
 * errno is kept, so EPIPE and ENOSPC reach the caller as such). */
static la_ssize_t out_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct tar_writer *w = data;
	const char *p = buf;
	size_t left = len;

	if (w->io_err) {
		/* Nothing after a failed write: a compressor closing its
		 * stream around the gap would make a cut tar look whole. */
		archive_set_error(a, w->io_err, "%s", strerror(w->io_err));
		return -1;
	}
	while (left) {
		ssize_t n = write(w->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A non-blocking descriptor: wait until it drains. */
			struct pollfd pfd = {.fd = w->fd, .events = POLLOUT};
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
				w->io_err = errno;
				archive_set_error(a, errno, "%s", strerror(errno));
				return -1;
			}
			continue;
		}
		if (n <= 0) {
			w->io_err = n < 0 ? errno : ENOSPC;
			archive_set_error(a, w->io_err, "%s", strerror(w->io_err));
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	return (la_ssize_t)len;
}

/* Nothing more reaches the output: a compressor that libarchive closes
 * later (archive_write_free ends its stream) would otherwise wrap what was
 * written so far, or nothing at all, in a complete frame. */
static void cut_stream(struct tar_writer *w)
{
	if (!w->io_err)
		w->io_err = ECANCELED;
}

/* The error of a failed libarchive call, as a negative errno. */
static int la_err(struct tar_writer *w, char *err, size_t errsz)
{
	int e = w->io_err ? w->io_err : archive_errno(w->a);
	const char *msg = w->io_err ? strerror(w->io_err) : archive_error_string(w->a);

	if (e <= 0)
		e = EIO;
	set_errmsg(err, errsz, -e, "cannot write the archive: %s", msg ? msg : strerror(e));
	return fail(w, -e, err, errsz);
}

static int flush(struct tar_writer *w, char *err, size_t errsz)
{
	size_t off = 0;

	if (w->counting) {
		w->used = 0;
		w->flushes++;
		return 0;
	}
	while (off < w->used) {
		la_ssize_t n = archive_write_data(w->a, w->buf + off, w->used - off);
		if (n <= 0)
			return la_err(w, err, errsz);
		off += (size_t)n;
	}
	if (w->o.progress)
		atomic_fetch_add_explicit(&w->o.progress->written, w->used, memory_order_relaxed);
	w->used = 0;
	w->flushes++;
	return 0;
}

static int put(struct tar_writer *w, const void *data, size_t len, char *err, size_t errsz)
{
	const char *p = data;

	while (len) {
		size_t n;
		if (w->used == BUF_SIZE) {
			int rc = flush(w, err, errsz);
			if (rc)
				return rc;
		}
		n = BUF_SIZE - w->used;
		if (n > len)
			n = len;
		memcpy(w->buf + w->used, p, n);
		w->used += n;
		w->raw += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* Zeros up to the next block boundary after size bytes of data. */
static int pad(struct tar_writer *w, uint64_t size, char *err, size_t errsz)
{
	static const char zero[BLOCK];
	size_t n = (size_t)(-size % BLOCK);

	return n ? put(w, zero, n, err, errsz) : 0;
}

/* ---- headers ------------------------------------------------------------ */

/* The member's header blocks (tarheader.c formats them) into the stream. */
static int write_header(struct tar_writer *w, const struct tar_header *h, char *err, size_t errsz)
{
	int rc = tar_header_format(&w->hb, h, err, errsz);

	return rc ? rc : put(w, w->hb.data, w->hb.len, err, errsz);
}

/* Waits until the output can take more (a non-blocking descriptor). */
static int wait_writable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};

	return poll(&pfd, 1, -1) < 0 && errno != EINTR ? -errno : 0;
}

/* Moves up to size bytes of fd to the output without passing them through
 * user space: splice(2) into a pipe, copy_file_range(2) into a file,
 * sendfile(2) into a socket (the body of `ctxpack build`'s request).
 * Everything buffered is written first, so the stream stays in order.
 * Returns the bytes moved (< size: fd ended early), or -errno; sets
 * *unsupported (and moves nothing) when the kernel or the file systems
 * cannot do it, so the caller copies through the buffer instead. */
static int64_t copy_direct(struct tar_writer *w, int fd, const char *path, uint64_t size,
			   bool *unsupported, char *err, size_t errsz)
{
	uint64_t done = 0;
	int rc = flush(w, err, errsz);

	if (rc)
		return rc;
	while (done < size) {
		size_t want = size - done > (1u << 30) ? (1u << 30) : (size_t)(size - done);
		ssize_t n;
		if (w->direct_mode == DIRECT_SPLICE)
			n = splice(fd, NULL, w->fd, NULL, want, SPLICE_F_MOVE | SPLICE_F_MORE);
		else if (w->direct_mode == DIRECT_SENDFILE)
			n = sendfile(w->fd, fd, NULL, want);
		else
			n = copy_file_range(fd, NULL, w->fd, NULL, want, 0);
		if (n > 0) {
			done += (uint64_t)n;
			w->direct += (uint64_t)n;
			w->raw += (uint64_t)n;
			if (w->o.progress)
				atomic_fetch_add_explicit(&w->o.progress->written, (uint64_t)n,
							  memory_order_relaxed);
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			rc = wait_writable(w->fd);
			if (rc)
				goto io_error;
			continue;
		}
		if (done == 0 && (errno == EINVAL || errno == ENOSYS || errno == EXDEV ||
				  errno == EOPNOTSUPP || errno == EBADF)) {
			/* Not for this pair of files; the buffer will do. */
			*unsupported = true;
			return 0;
		}
		rc = -errno;
		goto io_error;
	}
	return (int64_t)done;
io_error:
	/* The kernel does not say which side failed: EPIPE, ENOSPC and the
	 * like are the output's, EIO may be either, so the path is named. */
	w->io_err = -rc;
	set_errmsg(err, errsz, rc, "cannot copy '%s' into the archive: %s", path, strerror(-rc));
	return fail(w, rc, err, errsz);
}

/* Moves up to size bytes of fd into the output pipe and hashes them, with
 * one read of the file: its pages are spliced into a pipe of our own,
 * tee(2)'d from there into the output (the pages are shared, not copied),
 * and then read out of our pipe into the buffer, where they are hashed
 * while they are in the cache.  The bytes hashed are the bytes sent.
 * Returns the bytes moved (< size: fd ended early) or -errno; sets
 * *unsupported (nothing moved) when the kernel cannot tee these. */
static int64_t copy_teed(struct tar_writer *w, int fd, const char *path, uint64_t size,
			 XXH3_state_t *hs, bool *unsupported, char *err, size_t errsz)
{
	uint64_t done = 0;
	int rc = flush(w, err, errsz);

	if (rc)
		return rc;
	if (w->tee[0] < 0) {
		if (pipe2(w->tee, O_CLOEXEC) < 0) {
			w->tee[0] = w->tee[1] = -1;
			*unsupported = true;
			return 0;
		}
		fcntl(w->tee[1], F_SETPIPE_SZ, BUF_SIZE);
	}
	while (done < size) {
		size_t want = size - done > BUF_SIZE ? BUF_SIZE : (size_t)(size - done);
		ssize_t n = splice(fd, NULL, w->tee[1], NULL, want, SPLICE_F_MOVE);
		size_t sent = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && done == 0 && (errno == EINVAL || errno == ENOSYS)) {
			*unsupported = true;
			return 0;
		}
		if (n < 0) {
			rc = -errno;
			set_errmsg(err, errsz, rc, "cannot read '%s': %s", path, strerror(errno));
			return fail(w, rc, err, errsz);
		}
		if (n == 0)
			break;
		while (sent < (size_t)n) {
			/* tee copies from the head of our pipe: what it took is
			 * read out (and hashed) before the rest is tee'd. */
			ssize_t k = tee(w->tee[0], w->fd, (size_t)n - sent, 0), got = 0;
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				rc = wait_writable(w->fd);
				if (rc)
					goto io_error;
				continue;
			}
			if (k < 0 && done == 0 && sent == 0 && errno == EINVAL) {
				/* Nothing is out yet: the pipe's contents go
				 * through the buffer instead, this once. */
				*unsupported = true;
				k = 0;
			} else if (k <= 0) {
				rc = k < 0 ? -errno : -EPIPE;
				goto io_error;
			}
			while (got < k || (*unsupported && got < n)) {
				ssize_t r = read(w->tee[0], w->buf + got,
						 (size_t)((*unsupported ? n : k) - got));
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					rc = r < 0 ? -errno : -EIO;
					goto io_error;
				}
				got += r;
			}
			if (*unsupported) {
				/* Hand the bytes to the buffered path. */
				XXH3_128bits_update(hs, w->buf, (size_t)got);
				w->used = (size_t)got;
				w->raw += (uint64_t)got;
				return (int64_t)got;
			}
			XXH3_128bits_update(hs, w->buf, (size_t)k);
			sent += (size_t)k;
			done += (uint64_t)k;
			w->direct += (uint64_t)k;
			w->raw += (uint64_t)k;
			if (w->o.progress)
				atomic_fetch_add_explicit(&w->o.progress->written, (uint64_t)k,
							  memory_order_relaxed);
		}
	}
	return (int64_t)done;
io_error:
	w->io_err = -rc;
	set_errmsg(err, errsz, rc, "cannot copy '%s' into the archive: %s", path, strerror(-rc));
	return fail(w, rc, err, errsz);
}

/* Copies exactly e->size bytes of fd into the stream, by whichever path;
 * any other length, or a file that is no longer the one walked when its
 * last byte is read, is an error (tar_body_check_end). */
static int copy_data(struct tar_writer *w, int fd, const struct walk_entry *e, XXH3_state_t *hs,
		     char *err, size_t errsz)
{
	const char *path = e->path;
	uint64_t size = e->size, left = size;
	ssize_t n;
	int rc;

	if (hs && w->direct_mode == DIRECT_SPLICE && !w->no_tee && size >= DIRECT_MIN) {
		bool unsupported = false;
		int64_t moved = copy_teed(w, fd, path, size, hs, &unsupported, err, errsz);
		if (moved < 0)
			return (int)moved;
		if (unsupported) {
			/* What was read is in the buffer; the rest follows it. */
			w->no_tee = true;
			left = size - (uint64_t)moved;
		} else if ((uint64_t)moved < size) {
			return tar_body_changed(fd, e, WALK_READ, (uint64_t)moved, err, errsz);
		} else {
			left = 0;
		}
	}
	/* Other hashing needs the bytes in user space: they pass through
	 * the buffer, hashed there while they are in the cache. */
	if (!hs && w->direct_mode != DIRECT_NONE && size >= DIRECT_MIN) {
		bool unsupported = false;
		int64_t moved = copy_direct(w, fd, path, size, &unsupported, err, errsz);
		if (moved < 0)
			return (int)moved;
		if (unsupported)
			w->direct_mode = DIRECT_NONE;
		else if ((uint64_t)moved < size)
			return tar_body_changed(fd, e, WALK_READ, (uint64_t)moved, err, errsz);
		else
			left = 0;
	}
	while (left) {
		size_t want;
		if (w->used == BUF_SIZE) {
			rc = flush(w, err, errsz);
			if (rc)
				return rc;
		}
		want = BUF_SIZE - w->used;
		if (want > left)
			want = (size_t)left;
		n = tar_body_read_part(fd, w->buf + w->used, want, e, size - left, err, errsz);
		if (n < 0)
			return (int)n;
		if (hs)
			XXH3_128bits_update(hs, w->buf + w->used, (size_t)n);
		w->used += (size_t)n;
		w->raw += (uint64_t)n;
		left -= (uint64_t)n;
	}
	rc = tar_body_check_end(fd, e, WALK_READ, err, errsz);
	return rc ? rc : pad(w, size, err, errsz);
}

/* ---- the interface ------------------------------------------------------ */

static int set_option(struct tar_writer *w, const char *mod, const char *opt, const char *val,
		      char *err, size_t errsz)
{
	if (archive_write_set_filter_option(w->a, mod, opt, val) != ARCHIVE_OK)
		return set_errmsg(err, errsz, -EINVAL, "cannot set the %s option %s%s: %s", mod,
			       val ? "" : "!", opt, archive_error_string(w->a));
	return 0;
}

static int setup_filter(struct tar_writer *w, const struct tar_options *o, char *err, size_t errsz)
{
	char v[24];
	int rc = 0;

	switch (o->compression) {
	case TAR_NONE:
		if (o->level)
			return set_errmsg(err, errsz, -EINVAL,
				       "a compression level needs compression");
		return 0;
	case TAR_GZIP:
		if (o->level && (o->level < 1 || o->level > 9))
			return set_errmsg(err, errsz, -EINVAL,
				       "gzip level %d is out of range (1 to 9)", o->level);
		if (archive_write_add_filter_gzip(w->a) != ARCHIVE_OK)
			return set_errmsg(err, errsz, -ENOTSUP, "cannot compress with gzip: %s",
				       archive_error_string(w->a));
		/* No timestamp in the gzip header: the same tree gives the same bytes. */
		rc = set_option(w, "gzip", "timestamp", NULL, err, errsz);
		if (!rc && o->level) {
			snprintf(v, sizeof(v), "%d", o->level);
			rc = set_option(w, "gzip", "compression-level", v, err, errsz);
		}
		return rc;
	case TAR_ZSTD: {
		long threads = o->threads;
		if (o->level && (o->level < ZSTD_minCLevel() || o->level > ZSTD_maxCLevel()))
			return set_errmsg(err, errsz, -EINVAL,
				       "zstd level %d is out of range (%d to %d)", o->level,
				       ZSTD_minCLevel(), ZSTD_maxCLevel());
		if (threads < 0)
			return set_errmsg(err, errsz, -EINVAL, "zstd threads %ld: not a count",
				       threads);
		if (threads == 0)
			threads = sysconf(_SC_NPROCESSORS_ONLN);
		if (threads < 1)
			threads = 1;
		if (archive_write_add_filter_zstd(w->a) != ARCHIVE_OK)
			return set_errmsg(err, errsz, -ENOTSUP, "cannot compress with zstd: %s",
				       archive_error_string(w->a));
		if (o->level) {
			snprintf(v, sizeof(v), "%d", o->level);
			rc = set_option(w, "zstd", "compression-level", v, err, errsz);
		}
		/* Workers compress while the walk reads; zstd's output is the same
		 * for any number of workers >= 1. */
		if (!rc) {
			snprintf(v, sizeof(v), "%ld", threads);
			rc = set_option(w, "zstd", "threads", v, err, errsz);
		}
		return rc;
	}
	}
	return set_errmsg(err, errsz, -EINVAL, "unknown compression %d", (int)o->compression);
}

/* A pipe's default 64 KiB buffer makes the writer and the reader (docker
 * build -, cat) wake each other for every 64 KiB; a larger one (as large as
 * the system allows, up to 1 MiB) lets each side move big blocks.  Best
 * effort: any error leaves the pipe as it was. */
static void grow_pipe(int fd)
{
	for (int sz = 1 << 20; sz > 65536; sz >>= 1)
		if (fcntl(fd, F_SETPIPE_SZ, sz) >= 0)
			break;
}

/* Uncompressed output into a pipe, a regular file or a socket can take
 * file bodies straight from the kernel (copy_direct); anything else (a
 * terminal, a device, a compressor in between) goes through the buffer. */
static void setup_output(struct tar_writer *w)
{
	struct stat st;

	if (fstat(w->fd, &st) < 0)
		return;
	if (S_ISFIFO(st.st_mode))
		grow_pipe(w->fd);
	if (w->o.compression != TAR_NONE || w->o.buffered_only)
		return;
	if (S_ISFIFO(st.st_mode))
		w->direct_mode = DIRECT_SPLICE;
	else if (S_ISREG(st.st_mode) && !(fcntl(w->fd, F_GETFL) & O_APPEND))
		w->direct_mode = DIRECT_COPY_RANGE;
	else if (S_ISSOCK(st.st_mode))
		w->direct_mode = DIRECT_SENDFILE;
}

int tar_open(struct tar_writer **out, int fd, const struct tar_options *o, char *err, size_t errsz)
{
	static const struct tar_options defaults;
	struct tar_writer *w;
	struct archive_entry *e;
	int rc;

	*out = NULL;
	if (!o)
		o = &defaults;
	w = calloc(1, sizeof(*w));
	if (!w)
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	w->fd = fd;
	w->dir = (struct tar_dir)TAR_DIR_INIT;
	w->tee[0] = w->tee[1] = -1;
	w->o = *o;
	setup_output(w);
	w->buf = malloc(BUF_SIZE);
	w->a = archive_write_new();
	if (!w->buf || !w->a) {
		rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
		goto fail;
	}
	/* The raw format passes our bytes through as they are; no blocking
	 * (bytes per block 0: libarchive hands each write straight to the
	 * filters, which would otherwise issue one write(2) per 512-byte
	 * block) and no padding of the last block: the stream ends with the
	 * two zero blocks. */
	if (archive_write_set_format_raw(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 0) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK) {
		rc = set_errmsg(err, errsz, -EINVAL, "cannot set up the archive writer: %s",
			     archive_error_string(w->a));
		goto fail;
	}
	rc = setup_filter(w, o, err, errsz);
	if (rc)
		goto fail;
	if (archive_write_open2(w->a, w, NULL, out_write, NULL, NULL) != ARCHIVE_OK) {
		rc = la_err(w, err, errsz);
		goto fail;
	}
	/* The one entry of the raw format: the whole tar stream. */
	e = archive_entry_new();
	if (!e) {
		rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
		goto fail;
	}
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_pathname(e, "tar");
	rc = archive_write_header(w->a, e);
	archive_entry_free(e);
	if (rc != ARCHIVE_OK) {
		rc = la_err(w, err, errsz);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	if (w->a) {
		/* a compressor would end its stream around no tar, an
		 * empty context */
		cut_stream(w);
		archive_write_free(w->a);
	}
	free(w->buf);
	free(w);
	return rc;
}

int tar_open_counter(struct tar_writer **out, const struct tar_options *o, char *err,
		     size_t errsz)
{
	struct tar_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w) {
		w->tee[0] = w->tee[1] = -1;
		w->buf = malloc(BUF_SIZE);
	}
	if (!w || !w->buf) {
		free(w);
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	}
	w->fd = -1;
	w->dir = (struct tar_dir)TAR_DIR_INIT;
	w->counting = true;
	if (o)
		w->o = *o;
	w->o.progress = NULL; /* nothing is written */
	*out = w;
	return 0;
}

static int64_t clamp(const struct tar_writer *w, int64_t mtime)
{
	return w->o.clamp_mtime && mtime > w->o.mtime_max ? w->o.mtime_max : mtime;
}

static int refuse(struct tar_writer *w, char *err, size_t errsz)
{
	if (w->finished)
		return set_errmsg(err, errsz, -EINVAL, "the archive is already finished");
	return set_errmsg(err, errsz, w->failed, "the archive was given up: %s", w->failmsg);
}

/* Never a member that looks complete: drop the failed one while it is
 * still buffered (nothing of it flushed since `start`), and give up the
 * stream in any case. */
static void drop_member(struct tar_writer *w, size_t start, uint64_t flushes, uint64_t raw, int rc,
			char *err, size_t errsz)
{
	if (w->flushes == flushes && !w->io_err) {
		w->used = start;
		w->raw = raw;
	}
	fail(w, rc, err, errsz);
}

int tar_add(struct tar_writer *w, int rootfd, const struct walk_entry *e, const char *hardlink,
	    char *err, size_t errsz)
{
	struct tar_body b;
	int rc;

	if (w->failed || w->finished)
		return refuse(w, err, errsz);
	rc = tar_body_open(&b, rootfd, &w->dir, e, hardlink != NULL, false, err, errsz);
	if (rc)
		return fail(w, rc, err, errsz);
	rc = tar_add_body(w, e, hardlink, &b, err, errsz);
	tar_body_free(&b);
	return rc;
}

int tar_add_hash(struct tar_writer *w, int rootfd, const struct walk_entry *e, uint8_t hash[16],
		 char *err, size_t errsz)
{
	struct tar_body b;
	int rc;

	if (w->failed || w->finished)
		return refuse(w, err, errsz);
	rc = tar_body_open(&b, rootfd, &w->dir, e, false, false, err, errsz);
	if (rc)
		return fail(w, rc, err, errsz);
	b.want_hash = true;
	rc = tar_add_body(w, e, NULL, &b, err, errsz);
	if (!rc)
		memcpy(hash, b.hash, 16);
	tar_body_free(&b);
	return rc;
}

int tar_add_body(struct tar_writer *w, const struct walk_entry *e, const char *hardlink,
		 struct tar_body *b, char *err, size_t errsz)
{
	struct tar_header h = {0};
	size_t start = w->used;
	uint64_t flushes = w->flushes, raw = w->raw;
	int rc;

	if (w->failed || w->finished)
		return refuse(w, err, errsz);
	h.mode = e->mode & 07777;
	h.mtime = clamp(w, e->mtime_sec);
	h.link = "";
	switch (e->type) {
	case WT_FILE:
		h.type = '0';
		h.size = (int64_t)e->size;
		break;
	case WT_DIR:
		h.type = '5';
		break;
	case WT_SYMLINK:
		h.type = '2';
		h.link = e->link ? e->link : "";
		break;
	case WT_FIFO:
		h.type = '6';
		break;
	case WT_CHR:
		h.type = '3';
		break;
	case WT_BLK:
		h.type = '4';
		break;
	case WT_SOCK:
		h.type = '0'; /* BuildKit: an empty regular file */
		break;
	default:
		rc = set_errmsg(err, errsz, -EINVAL, "'%s': unknown entry type %d", e->path, e->type);
		return fail(w, rc, err, errsz);
	}
	/* moby/go-archive takes Devmajor/Devminor from st_rdev whenever
	 * st_mode & S_IFBLK or S_IFCHR is set, which includes directories,
	 * symlinks and sockets (their st_rdev is 0). */
	if (e->type == WT_CHR || e->type == WT_BLK || e->type == WT_DIR || e->type == WT_SYMLINK ||
	    e->type == WT_SOCK) {
		h.devmajor = e->rdev_major;
		h.devminor = e->rdev_minor;
	}
	if (hardlink) {
		h.type = '1';
		h.link = hardlink;
		h.size = 0;
	}
	h.link_len = strlen(h.link);
	if (b->cap_len) {
		h.cap = b->cap;
		h.cap_len = b->cap_len;
	}

	/* The member name: the path, and a '/' after a directory's. */
	if (GROW(w->name, w->name_alloc, e->len + 2)) {
		rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(w->name, e->path, e->len);
	h.name_len = e->len;
	if (e->type == WT_DIR)
		w->name[h.name_len++] = '/';
	w->name[h.name_len] = 0;
	h.name = w->name;

	rc = write_header(w, &h, err, errsz);
	if (!rc && b->data) {
		if (b->want_hash && !b->hashed)
			tar_body_hash_data(b);
		rc = put(w, b->data, b->len, err, errsz);
		if (!rc)
			rc = pad(w, b->len, err, errsz);
	} else if (!rc && b->fd >= 0) {
		XXH3_state_t *hs = NULL;
		if (b->want_hash && !(hs = XXH3_createState()))
			rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
		if (hs)
			XXH3_128bits_reset(hs);
		if (!rc)
			rc = copy_data(w, b->fd, e, hs, err, errsz);
		if (!rc && hs)
			tar_body_set_hash(b, XXH3_128bits_digest(hs));
		XXH3_freeState(hs);
	} else if (!rc && w->counting && h.type == '0' && h.size > 0) {
		uint64_t size = (uint64_t)h.size;
		w->raw += size + (BLOCK - size % BLOCK) % BLOCK;
	}
out:
	if (rc)
		drop_member(w, start, flushes, raw, rc, err, errsz);
	else if (w->o.progress)
		atomic_fetch_add_explicit(&w->o.progress->items, 1, memory_order_relaxed);
	return rc;
}

int tar_add_data(struct tar_writer *w, const char *name, uint32_t mode, int64_t mtime,
		 const void *data, size_t len, char *err, size_t errsz)
{
	/* A regular file whose body is already in memory. */
	struct walk_entry e = { .path = (char *)name, .len = strlen(name), .type = WT_FILE,
				.mode = mode, .size = len, .mtime_sec = mtime };
	struct tar_body b = { .fd = -1, .data = (char *)data, .len = len };

	return tar_add_body(w, &e, NULL, &b, err, errsz);
}

int tar_finish(struct tar_writer *w, char *err, size_t errsz)
{
	static const char zero[2 * BLOCK];
	int rc;

	if (w->finished)
		return 0;
	if (w->failed)
		return refuse(w, err, errsz);
	rc = put(w, zero, sizeof(zero), err, errsz); /* Writer.Close: two zero blocks */
	if (!rc)
		rc = flush(w, err, errsz);
	if (rc)
		return rc;
	if (w->a && archive_write_close(w->a) != ARCHIVE_OK)
		return la_err(w, err, errsz);
	w->finished = true;
	return 0;
}

/* Ends a stream that was given up: what is buffered, then an incomplete
 * block, so that readers report a truncated archive (Go: unexpected EOF)
 * instead of ending quietly at a member boundary.  Where that cannot be
 * written (the output or the compressor failed), the stream is cut where
 * it stands. */
static void abort_stream(struct tar_writer *w)
{
	char tail[BLOCK];
	int n;

	if (w->finished)
		return;
	if (w->io_err || flush(w, NULL, 0)) {
		cut_stream(w);
		return;
	}
	n = snprintf(tail, sizeof(tail), "ctxpack: archive given up: %s\n", w->failmsg);
	if (n < 1 || n >= BLOCK)
		n = BLOCK - 1;
	if ((w->raw + (uint64_t)n) % BLOCK == 0)
		n--; /* never end on a block boundary */
	if (n)
		memcpy(w->buf, tail, (size_t)n);
	w->used = (size_t)n;
	if (flush(w, NULL, 0) || (w->a && archive_write_close(w->a) != ARCHIVE_OK)) {
		cut_stream(w);
		return;
	}
	w->finished = true;
}

void tar_abort(struct tar_writer **wp, const char *why)
{
	struct tar_writer *w = *wp;

	if (!w)
		return;
	if (!w->finished) {
		fail(w, -ECANCELED, why, why ? strlen(why) + 1 : 0);
		abort_stream(w);
	}
	tar_close(wp, NULL, 0);
}

int tar_close(struct tar_writer **wp, char *err, size_t errsz)
{
	struct tar_writer *w = *wp;
	int rc = 0;

	if (!w)
		return 0;
	if (w->failed && !w->finished) {
		rc = refuse(w, err, errsz);
		abort_stream(w);
	} else if (!w->finished) {
		rc = tar_finish(w, err, errsz);
		if (rc)
			abort_stream(w);
	}
	if (w->a)
		archive_write_free(w->a);
	tar_dir_close(&w->dir);
	if (w->tee[0] >= 0) {
		close(w->tee[0]);
		close(w->tee[1]);
	}
	free(w->buf);
	free(w->name);
	tar_header_buf_release(&w->hb);
	free(w);
	*wp = NULL;
	return rc;
}

uint64_t tar_bytes_raw(const struct tar_writer *w)
{
	return w->raw;
}

uint64_t tar_bytes_out(const struct tar_writer *w)
{
	if (!w->a)
		return w->raw;
	return (uint64_t)archive_filter_bytes(w->a, -1) + w->direct;
}
