/* tarbody.h: what the tar writer reads from the context for one member.
 *
 * Opening a member's file beneath the root (through the directory of the
 * last one, struct tar_dir), checking it against the walk
 * (walk_file_check), its security.capability as moby/go-archive reads it,
 * and reading its bytes: whole (read-ahead, src/prefetch.c) or in parts
 * by the writer, which must end after exactly e->size bytes.  No tar, no
 * libarchive, no output: moving the bytes into the stream (the buffer,
 * splice, copy_file_range, tee) is tarwriter.c's. */
#ifndef CTXPACK_TARBODY_H
#define CTXPACK_TARBODY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <xxhash.h>

#include "walk.h"

/* What tar_add reads from the tree for one entry, opened and checked
 * against the walk (walk_file_check), possibly on another thread
 * (read-ahead, src/prefetch.c): the open file, or all of its bytes. */
struct tar_body {
	int fd;	    /* the regular file, not yet read; -1 */
	char *data; /* or all of its bytes (read_all) */
	size_t len;
	char *cap; /* security.capability, or NULL */
	size_t cap_len;
	bool want_hash; /* set by the caller after tar_body_open: tar_add_body
			   hashes the content in the read that archives it */
	bool hashed;	/* hash holds the content's XXH3-128 (canonical bytes) */
	uint8_t hash[16];
};

/* The directory of the last file opened, kept open for the next one (one
 * per thread; start with TAR_DIR_INIT, end with tar_dir_close). */
struct tar_dir {
	int fd;
	char *path;
	size_t len, alloc;
};
/* clang-format off */
#define TAR_DIR_INIT { -1, NULL, 0, 0 }
/* clang-format on */
void tar_dir_close(struct tar_dir *dir);

/* Opens the regular file e below rootfd for reading as tar_body_open does
 * (dir as there), checked against the walk (walk_file_check at
 * WALK_OPENED; the reader checks again after the last byte).  st, if not
 * NULL, receives its fstat.
 * Returns the descriptor or -errno with err naming the path (-ESTALE when
 * it is no longer the file the walk saw). */
int tar_file_open(int rootfd, struct tar_dir *dir, const struct walk_entry *e, struct stat *st,
		  char *err, size_t errsz);

/* Opens e below rootfd for tar_add_body, as tar_add does; hardlink: e goes
 * in as a link (no data).  dir: a struct tar_dir of the calling thread, or
 * NULL to open every path from rootfd.  read_all: read a regular file's
 * bytes now (an error if there are not exactly e->size).  Thread-safe.
 * Returns 0 or -errno with err naming the path; b needs tar_body_free in
 * every case. */
int tar_body_open(struct tar_body *b, int rootfd, struct tar_dir *dir, const struct walk_entry *e,
		  bool hardlink, bool read_all, char *err, size_t errsz);
void tar_body_free(struct tar_body *b);
/* Hashes a body read whole (b->data) into b->hash. */
void tar_body_hash_data(struct tar_body *b);

/* Sets b->hash to h (canonical bytes) and b->hashed. */
void tar_body_set_hash(struct tar_body *b, XXH128_hash_t h);

/* For the writer reading a body in parts (fd: b->fd).
 * tar_body_read_part: up to want bytes of a file that should hold e->size
 * (got of them read so far): the count (> 0), or -errno with err set (a
 * read error, or the file ending early).
 * tar_body_changed: the error for a file that did not end after e->size
 * bytes (got were read: fewer, or e->size + 1 for more), as
 * walk_file_check says how.
 * tar_body_check_end: after e->size bytes, the file must end and still be
 * the one walked; 0 or -errno with err set. */
ssize_t tar_body_read_part(int fd, void *buf, size_t want, const struct walk_entry *e, uint64_t got,
			   char *err, size_t errsz);
int tar_body_changed(int fd, const struct walk_entry *e, enum walk_when when, uint64_t got,
		     char *err, size_t errsz);
int tar_body_check_end(int fd, const struct walk_entry *e, enum walk_when when, char *err,
		       size_t errsz);

#endif
