/* members.h: a context as the builder receives it — its ordered members —
 * read from a tar or a manifest, written as a manifest, digested and
 * compared.  What `digest`, `manifest` and `diff` share.
 *
 * A member is what one tar entry says, normalized so that a directory, a
 * tar of it (ctxpack's, the docker CLI's, GNU tar's) and a manifest of
 * either compare equal: the name without "./" in front and without a
 * trailing '/', mode & 07777, uid/gid/uname/gname and xattrs left out,
 * the mtime kept in whole seconds (only --with-mtime digests it).  The
 * content hash is XXH3-128, canonical (big-endian) bytes. */
#ifndef CTXPACK_MEMBERS_H
#define CTXPACK_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctxpack/ctxpack.h"

/* The one member-type table: one row per enum ctxpack_entry_type (whose
 * first seven values are enum walk_type's, in the same order; pack.c
 * checks it), with the tar type flag the member is archived with, the
 * name manifests and `ctxpack diff` give that flag, and the letter
 * `ctxpack ls` shows.  A socket is archived as an empty regular file
 * (BuildKit; the classic builder leaves it out). */
struct member_type {
	char tar;
	char letter;
	const char *name;
};
extern const struct member_type member_types[CTXPACK_ENTRY_HARDLINK + 1];
/* The name of tar type flag t ("file", "hardlink", ...), or NULL. */
const char *member_type_name(char t);

/* Tar type flags: '0' regular file, '1' hard link (to link), '2' symlink,
 * '3' character device, '4' block device, '5' directory, '6' FIFO. */
struct member {
	char *path;        /* NUL-terminated, any bytes; no leading "./", no trailing '/' */
	size_t len;
	char type;
	uint32_t mode;     /* permission bits with setuid/setgid/sticky */
	uint64_t size;     /* content bytes of a regular file; 0 otherwise */
	char *link;        /* symlink target, or the member a hard link names; else NULL */
	size_t link_len;
	uint32_t devmajor, devminor; /* devices only */
	int64_t mtime;     /* seconds */
	bool hashed;       /* hash is set (regular files whose content was read) */
	uint8_t hash[16];  /* XXH3-128 of the content, XXH128_canonical_t order */
};

/* Members in archive order; the list owns every string, unless borrowed
 * is set before the first add: then the strings stay the caller's (who
 * keeps them until the list is released; no copy per member). */
struct member_list {
	struct member *v;
	size_t n, alloc;
	bool borrowed;
};

void member_list_release(struct member_list *l);

/* Appends a copy of m (its strings are copied unless l->borrowed).
 * Returns 0 or -ENOMEM. */
int member_list_add(struct member_list *l, const struct member *m);

/* Reads the tar in fd (any tar dialect and any compression libarchive
 * reads; other archive formats are refused: a context is a tar, and only
 * a tar's end-of-archive blocks tell a whole archive from a cut one) and
 * hashes each regular file's content as it is read.  Returns 0 or -errno
 * with err naming the source (name) and the cause: a truncated or corrupt
 * archive is an error, never a shorter list.  *out is overwritten (empty
 * on failure). */
int members_from_tar(struct member_list *out, int fd, const char *name, char *err, size_t errsz);

/* The holes of sparse members are hashed as the zeros they read as, which
 * costs time in proportion to their declared size, not to the archive:
 * a 100-byte gzip can declare an exabyte.  So the reader bounds them (docs/
 * digest.md): a member whose holes pass member_holes bytes, or one that
 * brings the archive's holes past archive_holes, is refused (-EFBIG)
 * before any of its zeros are hashed. */
#define MEMBERS_MAX_MEMBER_HOLES (UINT64_C(1) << 30)  /* 1 GiB */
#define MEMBERS_MAX_ARCHIVE_HOLES (UINT64_C(4) << 30) /* 4 GiB */
struct members_tar_limits {
	uint64_t member_holes, archive_holes;
};

/* members_from_tar with other limits (tests); NULL: the ones above. */
int members_from_tar_limited(struct member_list *out, int fd, const char *name,
			     const struct members_tar_limits *lim, char *err, size_t errsz);

/* Reads a manifest written by members_write_tsv or members_write_json
 * (recognized by its first line).  Returns 0, or -EINVAL with err naming
 * name:line and what is wrong (-ENOMEM, -EIO).  *out is overwritten. */
int members_from_manifest(struct member_list *out, FILE *in, const char *name, char *err,
			  size_t errsz);

/* True when the first bytes of a file (at least 32 of them, or all there
 * are) begin a manifest. */
bool members_is_manifest(const char *head, size_t len);

/* The manifest formats (docs/digest.md).  TSV: a "# ctxpack manifest v2"
 * line, then one line per member: type, octal mode, size, content hash
 * (32 hex digits, or '-'), mtime, path, and for links the target; last an
 * end line with the member count (a cut manifest is refused); names
 * with tab, newline, backslash, control or non-UTF-8 bytes are escaped
 * (\t \n \\ \xHH).  JSON: one document, {"manifest": 1, "members": [...]},
 * names as JSON strings (non-UTF-8 bytes as \udc80-\udcff). */
/* Both return 0, -EIO when out has an error, or -EINVAL (nothing
 * written) for a list no manifest carries exactly: a type not '0'..'6',
 * mode bits above 07777, device numbers on a member that is not a
 * device, a link target on a device. */
int members_write_tsv(FILE *out, const struct member_list *l);
int members_write_json(FILE *out, const struct member_list *l);

/* The context digest: XXH3-128 over the members in order — path, type,
 * mode, size, link target, device numbers, content hash, and the mtime
 * only with with_mtime — each field length-delimited (docs/digest.md).
 * Members that are regular files must be hashed.  Returns 0 or -ENOMEM. */
int members_digest(const struct member_list *l, bool with_mtime, uint8_t out[16]);

/* The same digest, member by member, without a list. */
struct members_digester;
struct members_digester *members_digester_new(bool with_mtime); /* NULL: out of memory */
void members_digester_add(struct members_digester *d, const struct member *m);
/* The digest into out; frees *d and sets it to NULL. */
void members_digester_finish(struct members_digester **d, uint8_t out[16]);

/* "xxh3-128:" and 32 lowercase hex digits, NUL-terminated (42 bytes). */
void members_digest_string(const uint8_t d[16], char out[42]);

/* What changed from a to b, matched by path. */
enum member_change {
	MC_ADDED = 1,      /* only in b */
	MC_REMOVED = 2,    /* only in a */
	MC_CONTENT = 4,    /* both regular files, other size or hash */
	MC_MODE = 8,
	MC_TYPE = 16,
	MC_LINK = 32,      /* symlink or hard-link target */
	MC_DEVICE = 64,
	MC_MTIME = 128,    /* only reported when asked for */
};

struct member_delta {
	const struct member *a, *b; /* NULL when absent on that side */
	unsigned changes;           /* enum member_change bits */
	/* members_diff_renames: the index in member_diff.v of the added
	 * (for a removed delta) or removed (for an added one) regular file
	 * with the same content, mode and size; SIZE_MAX: none */
	size_t renamed;
};

struct member_diff {
	struct member_delta *v;     /* sorted by path (bytewise) */
	size_t n, alloc;
	uint64_t added, removed, changed;          /* members */
	uint64_t added_bytes, removed_bytes;       /* regular files' sizes */
	uint64_t changed_bytes_a, changed_bytes_b; /* sizes of the changed files, before/after */
	uint64_t same;                             /* members equal on both sides */
	uint64_t renames;                          /* members_diff_renames' pairs */
};

/* Compares a and b (both stay valid while d is used).  with_mtime: an
 * mtime difference alone is a change.  Returns 0 or -ENOMEM. */
int members_diff(struct member_diff *d, const struct member_list *a, const struct member_list *b,
		 bool with_mtime);
void member_diff_release(struct member_diff *d);
/* Pairs each removed regular file with an added one of the same content
 * (both hashed), size and mode, first come first paired in path order:
 * a rename (delta.renamed); d->renames counts the pairs.  Returns 0 or
 * -ENOMEM. */
int members_diff_renames(struct member_diff *d);

#endif
