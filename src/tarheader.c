/* tarheader.c: a member's header blocks as the docker CLI writes them (see
 * tarheader.h).
 *
 * The header bytes are Go's.  The docker CLI writes its context with Go's
 * archive/tar (moby/go-archive sets Format = PAX, truncates ModTime to
 * seconds, forces uid/gid 0 and adds security.capability as a PAX record),
 * and libarchive's tar writers cannot produce those bytes: their numeric
 * fields are "000644 \0" where Go writes "0000644\0", their PAX headers are
 * named "PaxHeader/x" with the member's mode and mtime where Go writes
 * "PaxHeaders.0/x" with mode 0 and mtime 0, and they add
 * LIBARCHIVE.xattr.* and hdrcharset=BINARY records, GNU-style
 * "././@LongHardLink" fields and keep non-ASCII bytes in the ustar name.
 * So this file builds every 512-byte header itself, mirroring Go's
 * Writer.WriteHeader (writer.go) and its formatter (strconv.go) function by
 * function. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tarheader.h"
#include "internal.h"
#include "pattern.h"

#define BLOCK TAR_BLOCK
#define MAX_SPECIAL_FILE_SIZE (1 << 20) /* Go: maxSpecialFileSize */

/* Header field offsets and sizes (Go: format.go, headerV7 and headerUSTAR). */
/* clang-format off */
enum {
	F_NAME = 0, S_NAME = 100,
	F_MODE = 100, S_MODE = 8,
	F_UID = 108, F_GID = 116, S_ID = 8,
	F_SIZE = 124, S_SIZE = 12,
	F_MTIME = 136, S_MTIME = 12,
	F_CHKSUM = 148, S_CHKSUM = 8,
	F_TYPE = 156,
	F_LINK = 157, S_LINK = 100,
	F_MAGIC = 257, F_VERSION = 263,
	F_UNAME = 265, F_GNAME = 297, S_OWNER = 32,
	F_DEVMAJOR = 329, F_DEVMINOR = 337, S_DEV = 8,
	F_PREFIX = 345, S_PREFIX = 155,
};
/* clang-format on */

/* ---- Go's formatter (archive/tar strconv.go) ---------------------------- */

static bool is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80 || !s[i])
			return false;
	}
	return true;
}

/* toASCII: drops every rune >= 0x80 and NUL.  Each byte of a multi-byte
 * UTF-8 sequence and each invalid byte (a U+FFFD rune) is >= 0x80, so this
 * is bytewise.  out holds len bytes; returns the new length. */
static size_t to_ascii(char *out, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x80 && s[i])
			out[n++] = s[i];
	}
	return n;
}

/* formatter.formatString: copies s into b, NUL-terminating if possible. */
static void format_string(char *b, size_t size, const char *s, size_t len)
{
	memcpy(b, s, len < size ? len : size);
	if (len < size)
		b[len] = 0;
	/* Some buggy readers treat regular files with a trailing slash in the
	 * V7 path field as a directory even though the full path recorded
	 * elsewhere (e.g., via PAX record) contains no trailing slash. */
	if (len > size && b[size - 1] == '/') {
		size_t n = size - 1; /* len(strings.TrimRight(s[:len(b)-1], "/")) */
		while (n > 0 && s[n - 1] == '/')
			n--;
		b[n] = 0; /* Replace trailing slash with NUL terminator */
	}
}

/* fitsInOctal: whether x fits in an n-byte field in octal with a NUL. */
static bool fits_in_octal(size_t n, int64_t x)
{
	unsigned oct_bits = (unsigned)(n - 1) * 3;

	return x >= 0 && (n >= 22 || x < (int64_t)1 << oct_bits);
}

/* formatter.formatOctal: zero-padded, NUL-terminated; a value that does not
 * fit is written as zero (the PAX record carries it). */
static void format_octal(char *b, size_t size, int64_t x)
{
	char digits[24], s[24];
	size_t nd = 0, len = 0;
	uint64_t v;

	if (!fits_in_octal(size, x))
		x = 0; /* Last resort, just write zero */
	v = (uint64_t)x;
	do {
		digits[nd++] = (char)('0' + (v & 7));
		v >>= 3;
	} while (v);
	/* Add leading zeros, but leave room for a NUL. */
	while (len + nd + 1 < size)
		s[len++] = '0';
	while (nd)
		s[len++] = digits[--nd];
	format_string(b, size, s, len);
}

/* block.setFormat(USTAR or PAX) and the checksum: six octal digits, NUL,
 * space (Go: "This field is special in that it is terminated by a NULL then
 * space."). */
static void set_format(unsigned char *blk)
{
	unsigned sum = 0;

	memcpy(blk + F_MAGIC, "ustar\0", 6);
	memcpy(blk + F_VERSION, "00", 2);
	/* The checksum counts its own field as spaces: set them, then one
	 * plain loop the compiler vectorizes (a test per byte cost an eighth
	 * of the archiver's user time on a tree of small files). */
	memset(blk + F_CHKSUM, ' ', S_CHKSUM);
	for (size_t i = 0; i < BLOCK; i++)
		sum += blk[i];
	format_octal((char *)blk + F_CHKSUM, 7, sum);
	blk[F_CHKSUM + 7] = ' ';
}

/* splitUSTARPath: splits name into a prefix (<= 155 bytes) and a suffix
 * (<= 100 bytes) at a '/', if name is ASCII and longer than 100 bytes. */
static bool split_ustar_path(const char *name, size_t len, size_t *plen)
{
	size_t length = len, i, nlen;

	if (length <= S_NAME || !is_ascii(name, len))
		return false;
	else if (length > S_PREFIX + 1)
		length = S_PREFIX + 1;
	else if (name[length - 1] == '/')
		length--;

	i = length; /* strings.LastIndex(name[:length], "/") */
	while (i > 0 && name[i - 1] != '/')
		i--;
	if (i == 0)
		return false;
	i--;
	nlen = len - i - 1; /* length of suffix */
	if (i == 0 || nlen > S_NAME || nlen == 0 || i > S_PREFIX)
		return false;
	*plen = i;
	return true;
}

/* templateV7Plus: the fields USTAR and PAX headers share.  ascii: the PAX
 * main header's string formatter, toASCII first. */
static int template_v7_plus(struct tar_header_buf *hb, unsigned char *blk,
			    const struct tar_header *h, const char *name, size_t name_len,
			    bool ascii)
{
	char *b = (char *)blk;
	size_t n;

	memset(blk, 0, BLOCK);
	blk[F_TYPE] = (unsigned char)h->type;
	if (ascii) {
		size_t need = name_len > h->link_len ? name_len : h->link_len;
		if (GROW(hb->asc, hb->asc_alloc, need + 1))
			return -ENOMEM;
		n = to_ascii(hb->asc, name, name_len);
		format_string(b + F_NAME, S_NAME, hb->asc, n);
		n = to_ascii(hb->asc, h->link, h->link_len);
		format_string(b + F_LINK, S_LINK, hb->asc, n);
	} else {
		format_string(b + F_NAME, S_NAME, name, name_len);
		format_string(b + F_LINK, S_LINK, h->link, h->link_len);
	}
	format_octal(b + F_MODE, S_MODE, h->mode);
	format_octal(b + F_UID, S_ID, 0);
	format_octal(b + F_GID, S_ID, 0);
	format_octal(b + F_SIZE, S_SIZE, h->size);
	format_octal(b + F_MTIME, S_MTIME, h->mtime == GO_ZERO_TIME_UNIX ? 0 : h->mtime);
	/* Uname and Gname are empty: formatString writes one NUL over NULs. */
	format_octal(b + F_DEVMAJOR, S_DEV, h->devmajor);
	format_octal(b + F_DEVMINOR, S_DEV, h->devminor);
	return 0;
}

/* formatPAXRecord: "%d %s=%s\n", the length counting itself. */
static size_t pax_record(char *out, const char *k, const char *v, size_t vlen)
{
	size_t klen = strlen(k);
	size_t size = klen + vlen + 3; /* ' ', '=' and '\n' */
	char num[24];
	int nd = snprintf(num, sizeof(num), "%zu", size);

	size += (size_t)nd;
	nd = snprintf(num, sizeof(num), "%zu", size);
	if ((size_t)nd + klen + vlen + 3 != size) /* adding the length made it longer */
		nd = snprintf(num, sizeof(num), "%zu", ++size);
	if (out) {
		char *p = out;
		memcpy(p, num, (size_t)nd);
		p += nd;
		*p++ = ' ';
		memcpy(p, k, klen);
		p += klen;
		*p++ = '=';
		memcpy(p, v, vlen);
		p += vlen;
		*p = '\n';
	}
	return size;
}

/* writeRawFile's header for the PAX 'x' header, into blk: named
 * path.Join(dir, "PaxHeaders.0", file) of the member's name, in ASCII, at
 * most 100 bytes, no trailing '/'; mode, uid, gid and mtime 0; no uname,
 * gname or device fields. */
static int write_pax_file(unsigned char *blk, const struct tar_header *h, size_t data_len,
			  char *err, size_t errsz)
{
	static const char elem[] = "PaxHeaders.0";
	size_t dir = h->name_len, file, jl = 0, n;
	char *join, *clean;

	while (dir > 0 && h->name[dir - 1] != '/') /* path.Split */
		dir--;
	file = h->name_len - dir;
	join = malloc(2 * (h->name_len + sizeof(elem) + 2) + 2);
	if (!join)
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	clean = join + h->name_len + sizeof(elem) + 2;
	/* path.Join: the non-empty elements joined by '/', then Clean. */
	if (dir) {
		memcpy(join, h->name, dir);
		jl = dir;
		join[jl++] = '/';
	}
	memcpy(join + jl, elem, sizeof(elem) - 1);
	jl += sizeof(elem) - 1;
	if (file) {
		join[jl++] = '/';
		memcpy(join + jl, h->name + dir, file);
		jl += file;
	}
	n = go_clean(join, jl, clean);
	n = to_ascii(clean, clean, n); /* Best effort for the filename. */
	if (n > S_NAME)
		n = S_NAME;
	while (n > 0 && clean[n - 1] == '/') /* strings.TrimRight(name, "/") */
		n--;

	memset(blk, 0, BLOCK);
	blk[F_TYPE] = 'x';
	format_string((char *)blk + F_NAME, S_NAME, clean, n);
	free(join);
	format_octal((char *)blk + F_MODE, S_MODE, 0);
	format_octal((char *)blk + F_UID, S_ID, 0);
	format_octal((char *)blk + F_GID, S_ID, 0);
	format_octal((char *)blk + F_SIZE, S_SIZE, (int64_t)data_len);
	format_octal((char *)blk + F_MTIME, S_MTIME, 0);
	set_format(blk);
	return 0;
}

void tar_header_buf_release(struct tar_header_buf *b)
{
	free(b->data);
	free(b->asc);
	*b = (struct tar_header_buf)TAR_HEADER_BUF_INIT;
}

/* Writer.WriteHeader for the headers docker writes (Format = PAX, so USTAR
 * whenever every field fits, else PAX; never GNU). */
int tar_header_format(struct tar_header_buf *b, const struct tar_header *h, char *err, size_t errsz)
{
	unsigned char *blk;
	char *pax;
	char mtime_s[24], size_s[24];
	bool ustar = true, rec_path = false, rec_link = false, rec_mtime = false, rec_size = false;
	size_t prefix = 0, total = 0;

	/* Header.allowedFormats, for the fields docker fills in. */
	if (!is_ascii(h->name, h->name_len) || h->name_len > S_NAME) {
		if (!split_ustar_path(h->name, h->name_len, &prefix))
			ustar = false;
		rec_path = true;
	}
	if (!is_ascii(h->link, h->link_len) || h->link_len > S_LINK) {
		ustar = false;
		rec_link = true;
	}
	if (!fits_in_octal(S_MODE, h->mode) || !fits_in_octal(S_DEV, h->devmajor) ||
	    !fits_in_octal(S_DEV, h->devminor))
		return set_errmsg(
			err, errsz, -EOVERFLOW,
			"'%.*s': mode or device numbers cannot be encoded in a tar header",
			(int)h->name_len, h->name);
	if (!fits_in_octal(S_SIZE, h->size)) {
		ustar = false;
		rec_size = true;
	}
	if (h->mtime != GO_ZERO_TIME_UNIX && !fits_in_octal(S_MTIME, h->mtime)) {
		ustar = false;
		rec_mtime = true;
	}
	if (h->cap)
		ustar = false; /* only PAX supports PAXRecords */

	if (ustar) { /* writeUSTARHeader */
		const char *name = h->name;
		size_t len = h->name_len;
		if (split_ustar_path(h->name, h->name_len, &prefix)) {
			name = h->name + prefix + 1;
			len = h->name_len - prefix - 1;
		} else {
			prefix = 0;
		}
		if (GROW(b->data, b->alloc, BLOCK))
			return set_errmsg(err, errsz, -ENOMEM, "out of memory");
		blk = b->data;
		template_v7_plus(b, blk, h, name, len, false);
		format_string((char *)blk + F_PREFIX, S_PREFIX, h->name, prefix);
		set_format(blk);
		b->len = BLOCK;
		return 0;
	}

	/* writePAXHeader: the records sorted by key. */
	snprintf(mtime_s, sizeof(mtime_s), "%lld", (long long)h->mtime); /* formatPAXTime */
	snprintf(size_s, sizeof(size_s), "%lld", (long long)h->size);
	if (h->cap)
		total += pax_record(NULL, "SCHILY.xattr." TAR_CAP_XATTR, h->cap, h->cap_len);
	if (rec_link)
		total += pax_record(NULL, "linkpath", h->link, h->link_len);
	if (rec_mtime)
		total += pax_record(NULL, "mtime", mtime_s, strlen(mtime_s));
	if (rec_path)
		total += pax_record(NULL, "path", h->name, h->name_len);
	if (rec_size)
		total += pax_record(NULL, "size", size_s, strlen(size_s));
	if (total > MAX_SPECIAL_FILE_SIZE)
		return set_errmsg(err, errsz, -ENAMETOOLONG,
				  "'%.*s': PAX header over 1 MiB (Go: archive/tar: write too long)",
				  (int)(h->name_len > 200 ? 200 : h->name_len), h->name);
	/* The 'x' block, the records padded to a block, the main block. */
	b->len = total ? BLOCK + total + (BLOCK - total % BLOCK) % BLOCK : 0;
	if (GROW(b->data, b->alloc, b->len + BLOCK))
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	memset(b->data, 0, b->len);
	pax = (char *)b->data + BLOCK;
	total = 0;
	if (h->cap)
		total += pax_record(pax + total, "SCHILY.xattr." TAR_CAP_XATTR, h->cap, h->cap_len);
	if (rec_link)
		total += pax_record(pax + total, "linkpath", h->link, h->link_len);
	if (rec_mtime)
		total += pax_record(pax + total, "mtime", mtime_s, strlen(mtime_s));
	if (rec_path)
		total += pax_record(pax + total, "path", h->name, h->name_len);
	if (rec_size)
		total += pax_record(pax + total, "size", size_s, strlen(size_s));
	if (total) {
		int rc = write_pax_file(b->data, h, total, err, errsz);
		if (rc)
			return rc;
	}
	/* The main header: strings in ASCII, numbers that do not fit as 0. */
	blk = b->data + b->len;
	if (template_v7_plus(b, blk, h, h->name, h->name_len, true))
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	set_format(blk);
	b->len += BLOCK;
	return 0;
}
