/* tarheader.h: a member's header blocks as the docker CLI writes them.
 *
 * Pure formatting, mirroring Go's archive/tar (writer.go's WriteHeader,
 * strconv.go's formatter) for the headers moby/go-archive fills in: a
 * ustar header ("ustar\0" "00") when every field fits, else a PAX 'x'
 * header named "PaxHeaders.0/..." with the records that need it (sorted
 * by key) and then the main header; never GNU.  No descriptors, no
 * libarchive: bytes in, bytes out (tarwriter.c puts them in the stream;
 * tests/tools/tar_header.c compares them with the docker CLI's). */
#ifndef CTXPACK_TARHEADER_H
#define CTXPACK_TARHEADER_H

#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK 512
#define TAR_CAP_XATTR "security.capability"

/* Go: Unix seconds of the zero time.Time (January 1, year 1, UTC); a header
 * whose ModTime IsZero() is written with mtime 0 and no PAX record. */
#define GO_ZERO_TIME_UNIX (-62135596800LL)

/* One member's header fields, as Go's tar.Header holds them for docker
 * (uid/gid 0, no uname/gname).  Strings carry their length. */
struct tar_header {
	const char *name;
	size_t name_len;
	const char *link; /* "" for none */
	size_t link_len;
	char type; /* Typeflag: '0', '1', '2', ... */
	int64_t mode, size, mtime, devmajor, devminor;
	const char *cap; /* SCHILY.xattr.security.capability value, or NULL */
	size_t cap_len;
};

/* The formatted blocks of one header, and scratch; reused from one header
 * to the next (start with TAR_HEADER_BUF_INIT, end with
 * tar_header_buf_release). */
struct tar_header_buf {
	unsigned char *data; /* len bytes, a multiple of TAR_BLOCK */
	size_t len, alloc;
	char *asc; /* scratch: a string in ASCII */
	size_t asc_alloc;
};
/* clang-format off */
#define TAR_HEADER_BUF_INIT { NULL, 0, 0, NULL, 0 }
/* clang-format on */
void tar_header_buf_release(struct tar_header_buf *b);

/* Formats h's header blocks into b->data (b->len bytes): one ustar block,
 * or a PAX 'x' block, its records padded to a block, and the main block.
 * Returns 0 or -errno with err naming the member: -EOVERFLOW for a mode or
 * device number no header can hold, -ENAMETOOLONG for PAX records over
 * 1 MiB (Go: archive/tar: write too long), -ENOMEM. */
int tar_header_format(struct tar_header_buf *b, const struct tar_header *h, char *err,
		      size_t errsz);

#endif
