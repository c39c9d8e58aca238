/* tarwriter.h: the tar writer, on libarchive.
 *
 * Writes entries exactly as the docker CLI's tar does (Go's archive/tar as
 * used by moby/go-archive): ustar headers ("ustar\0" "00"), PAX extended
 * records only where a field needs them (long or non-ASCII names and link
 * targets, values out of the octal range, security.capability as
 * SCHILY.xattr), never GNU long-name entries; uid/gid 0 and empty
 * uname/gname; mode with setuid/setgid/sticky; mtime truncated to seconds or
 * clamped; hard links as link entries to the first name; directories with a
 * trailing '/'; the two end-of-archive blocks and no padding beyond them.
 * The header bytes are Go's, byte for byte (tarheader.c formats them; its
 * comment says why libarchive's tar writers cannot); libarchive carries the
 * stream through its compression filters to fd.
 * One writer on one thread; file data is read relative to the context
 * root's descriptor, with no symlink followed anywhere on the path, and a
 * file that is not the one walked when it is opened or after its last byte
 * (walk_file_check: type, inode, size, mtime, ctime) is an error (never a
 * truncated, padded or mixed member). */
#ifndef CTXPACK_TARWRITER_H
#define CTXPACK_TARWRITER_H

#include <archive.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "progress.h"
#include "tarbody.h"
#include "walk.h"

enum tar_compression { TAR_NONE, TAR_GZIP, TAR_ZSTD };

struct tar_options {
	enum tar_compression compression;
	int level;            /* 0: the codec's default */
	int threads;          /* zstd worker threads, 0: online CPUs */
	bool clamp_mtime;     /* mtimes above mtime_max are written as mtime_max */
	int64_t mtime_max;
	bool buffered_only;   /* never splice/copy_file_range file bodies (tests) */
	struct progress *progress; /* bytes handed on are added to progress->written; NULL */
};

struct tar_writer;

/* Opens a writer onto fd (not closed).  Returns 0 or -errno; err says why. */
/* Whether the codec takes the level: 0, or -EINVAL with the reason in err
 * (tar_open refuses the same). */
int tar_options_check(const struct tar_options *o, char *err, size_t errsz);
int tar_open(struct tar_writer **out, int fd, const struct tar_options *o, char *err, size_t errsz);

/* A writer that writes nothing and counts the bytes of the stream it would
 * write (tar_bytes_raw): headers are formatted as for real; a regular
 * file's data is counted from e->size when its body has neither fd nor
 * data (tar_add_body with an empty body). */
int tar_open_counter(struct tar_writer **out, const struct tar_options *o, char *err,
		     size_t errsz);

/* Appends e.  hardlink: the earlier member name this entry is a hard link to,
 * or NULL.  Regular files' data is read from rootfd/e->path.  Returns 0 or
 * -errno (-EPIPE when the reader went away, -ENOSPC, -ESTALE when the file
 * no longer matches e before or after it was read: walk_file_check); err
 * names the path and cause.  After an error the writer accepts nothing more (see tar_close). */
int tar_add(struct tar_writer *w, int rootfd, const struct walk_entry *e, const char *hardlink,
	    char *err, size_t errsz);

/* tar_add with the body already opened (b stays the caller's). */
int tar_add_body(struct tar_writer *w, const struct walk_entry *e, const char *hardlink,
		 struct tar_body *b, char *err, size_t errsz);

/* tar_add for a regular file that is not a hard link, which also hashes
 * the content (XXH3-128, canonical bytes into hash) in the same read that
 * archives it. */
int tar_add_hash(struct tar_writer *w, int rootfd, const struct walk_entry *e, uint8_t hash[16],
		 char *err, size_t errsz);

/* Adds a regular file member from memory (the generated Dockerfile name). */
int tar_add_data(struct tar_writer *w, const char *name, uint32_t mode, int64_t mtime,
		 const void *data, size_t len, char *err, size_t errsz);

/* Writes the end of the archive (two zero blocks) and flushes the
 * compressor and the output; w stays valid for tar_bytes_* (the final
 * counts) and tar_close.  Idempotent.  Returns 0 or -errno. */
int tar_finish(struct tar_writer *w, char *err, size_t errsz);

/* Writes the end of the archive and flushes (tar_finish, unless done);
 * frees w in every case.  After a failed tar_add/tar_add_data/tar_finish,
 * or when finishing fails, the stream is given up instead: no end blocks,
 * and it stops inside a 512-byte block so that readers (Go's archive/tar
 * in the engine: "unexpected EOF") fail instead of taking it for a
 * complete, shorter archive; the first error is returned again. */
int tar_close(struct tar_writer **w, char *err, size_t errsz);

/* Gives the stream up (the caller failed for its own reasons) as
 * tar_close does after a failed tar_add, and frees w.  why: for the tail
 * of the broken stream. */
void tar_abort(struct tar_writer **w, const char *why);

/* Bytes so far: of the uncompressed tar stream (buffered ones included),
 * and after compression as handed to fd (final after tar_finish). */
uint64_t tar_bytes_raw(const struct tar_writer *w);
uint64_t tar_bytes_out(const struct tar_writer *w);

#endif
