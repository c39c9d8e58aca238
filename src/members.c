/* members.c: a context's members from a tar or a manifest, written as a
 * manifest, digested and compared (see members.h; the formats are in
 * docs/digest.md, which this file must match byte for byte). */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "members.h"
#include "internal.h"
#include "jsonstr.h"
#include "utf8.h"

#define TSV_MAGIC "# ctxpack manifest v"
#define TSV_VERSION "2"
#define TSV_HEADER TSV_MAGIC TSV_VERSION "\ttype\tmode\tsize\txxh3-128\tmtime\tpath\tlink"
/* The last line: this, the member count and a newline.  Without it a
 * manifest cut at a line boundary would read as a whole one. */
#define TSV_END "# end of ctxpack manifest v" TSV_VERSION "\t"
#define JSON_KEY "\"manifest\""

/* The digest's domain strings, each with its NUL (docs/digest.md). */
static const char DIGEST_DOMAIN[] = "ctxpack-digest-v1";
static const char DIGEST_DOMAIN_MTIME[] = "ctxpack-digest-v1+mtime";

static const char HEX[] = "0123456789abcdef";

/* ---- lists ---- */

void member_list_release(struct member_list *l)
{
	for (size_t i = 0; i < l->n && !l->borrowed; i++) {
		free(l->v[i].path);
		free(l->v[i].link);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
	l->borrowed = false;
}

int member_list_add(struct member_list *l, const struct member *m)
{
	struct member c = *m;

	if (l->n == SIZE_MAX || GROW(l->v, l->alloc, l->n + 1) < 0)
		return -ENOMEM;
	if (l->borrowed) {
		l->v[l->n++] = c;
		return 0;
	}
	c.len = m->path ? m->len : 0;
	c.path = xmemdup(m->path ? m->path : "", c.len);
	if (!c.path)
		return -ENOMEM;
	c.link_len = m->link ? m->link_len : 0;
	c.link = NULL;
	if (m->link) {
		c.link = xmemdup(m->link, m->link_len);
		if (!c.link) {
			free(c.path);
			return -ENOMEM;
		}
	}
	l->v[l->n++] = c;
	return 0;
}

/* ---- escaping (TSV fields and names in messages) ---- */

/* The escape of the sequence at s[0..len) (len > 0) into e: a valid UTF-8
 * sequence stays as it is, '\\', tab, newline and CR become \\ \t \n \r, any
 * other byte below 0x20, 0x7f and each byte that is not part of valid
 * UTF-8 become \xHH.  Returns the input bytes consumed; *elen gets the
 * output length (at most 4). */
static size_t esc_one(const unsigned char *s, size_t len, char e[4], size_t *elen)
{
	uint32_t r;
	size_t w = utf8_decode(s, len, &r);

	if (r == UTF8_RUNE_ERROR && w == 1) {
		goto hex;
	} else if (r == '\\' || r == '\t' || r == '\n' || r == '\r') {
		e[0] = '\\';
		e[1] = r == '\\' ? '\\' : r == '\t' ? 't' : r == '\n' ? 'n' : 'r';
		*elen = 2;
	} else if (r < 0x20 || r == 0x7f) {
		goto hex;
	} else {
		memcpy(e, s, w);
		*elen = w;
	}
	return w;
hex:
	e[0] = '\\';
	e[1] = 'x';
	e[2] = HEX[s[0] >> 4];
	e[3] = HEX[s[0] & 15];
	*elen = 4;
	return 1;
}

static void tsv_escape(FILE *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		char e[4];
		size_t elen;
		i += esc_one(u + i, len - i, e, &elen);
		fwrite(e, 1, elen, out);
	}
}

/* s[0..len) escaped as in the TSV manifest into buf, cut with "..." when
 * it does not fit: names in messages never carry raw control bytes. */
static const char *quote(char *buf, size_t bufsz, const char *s, size_t len)
{
	return text_quote_with(buf, bufsz, s, len, esc_one);
}

/* ---- reading a tar ---- */

/* The name as a member carries it: leading "./" taken off (repeatedly),
 * then one trailing '/'.  "." and "./" come out empty. */
static void normalize(const char **s, size_t *len)
{
	while (*len >= 2 && (*s)[0] == '.' && (*s)[1] == '/') {
		*s += 2;
		*len -= 2;
	}
	if (*len == 1 && (*s)[0] == '.')
		*len = 0;
	if (*len > 0 && (*s)[*len - 1] == '/')
		(*len)--;
}

/* libarchive's message with its first letter lowered ("Truncated tar
 * archive" -> "truncated tar archive"), or a fallback. */
static const char *la_msg(struct archive *a, char *buf, size_t bufsz)
{
	const char *m = archive_error_string(a);

	if (!m || !*m)
		return "truncated or corrupt archive";
	snprintf(buf, bufsz, "%s", m);
	if (buf[0] >= 'A' && buf[0] <= 'Z' && buf[1] >= 'a' && buf[1] <= 'z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* la_msg, but a compressed stream that ends too soon is said to be cut:
 * "the gzip stream is cut (truncated gzip input)" (libarchive says
 * "Truncated gzip input", also for zstd, bzip2, lz4, ...; for xz and lzma
 * "lzma library error:  No progress is possible").  *cut is set when so. */
static const char *la_cause(struct archive *a, char *buf, size_t bufsz, bool *cut)
{
	char m[200], filter[32];
	const char *w, *sp, *lm = la_msg(a, m, sizeof(m));
	size_t n;

	if (lm != m) /* the fallback, a constant */
		snprintf(m, sizeof(m), "%s", lm);
	*cut = false;
	if (!strncmp(m, "truncated ", 10) && (sp = strchr(m + 10, ' ')) && !strcmp(sp, " input") &&
	    strcmp(m, "truncated tar input") != 0) {
		w = m + 10;
		n = (size_t)(sp - w);
	} else if (strstr(m, "lzma library error:") && strstr(m, "No progress is possible")) {
		const char *f = archive_filter_name(a, 0);
		snprintf(filter, sizeof(filter), "%s", f ? f : "xz");
		w = filter;
		n = strlen(filter);
		snprintf(m, sizeof(m), "lzma library error: no progress is possible");
	} else {
		snprintf(buf, bufsz, "%s", m);
		return buf;
	}
	*cut = true;
	snprintf(buf, bufsz, "the %.*s stream is cut (%s)", (int)n, w, m);
	return buf;
}

static const char *la_why(struct archive *a, char *buf, size_t bufsz)
{
	bool cut;

	return la_cause(a, buf, bufsz, &cut);
}

static int la_rc(struct archive *a)
{
	int e = archive_errno(a);

	if (e == ENOMEM)
		return -ENOMEM;
	/* libarchive's ARCHIVE_ERRNO_FILE_FORMAT is EILSEQ on Linux,
	 * ARCHIVE_ERRNO_PROGRAMMER EINVAL and ARCHIVE_ERRNO_MISC -1: the
	 * archive is bad; a real errno (EIO, EBADF) is passed on. */
	if (e <= 0 || e == EILSEQ || e == EINVAL)
		return -EINVAL;
	return -e;
}

/* The one header warning that leaves the member whole: a name that
 * libarchive could not convert to the locale's charset (a PAX path record
 * that is not UTF-8, as Go writes them, or any non-ASCII name in the C
 * locale).  archive_entry_pathname still has the stored bytes.  Any other
 * warning is taken as damage. */
static bool harmless_warning(struct archive *a)
{
	const char *m = archive_error_string(a);

	return m && strstr(m, "can't be converted from") != NULL;
}

static int hash_zeros(XXH3_state_t *st, uint64_t n)
{
	static const unsigned char zeros[65536];

	while (n > 0) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		if (XXH3_128bits_update(st, zeros, k) != XXH_OK)
			return -1;
		n -= k;
	}
	return 0;
}

struct tar_reader {
	struct archive *a;
	XXH3_state_t *st;
	const char *name;
	char *err;
	size_t errsz;
	struct members_tar_limits lim;
	uint64_t holes; /* the archive's, so far */
	char qbuf[256];
	char mbuf[256];
};

/* n bytes for a message: "512 B", "1 GiB", "1.5 GiB", "16.0 EiB". */
static const char *size_text(uint64_t n, char *buf, size_t bufsz)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	int u = 0;

	while (u < 6 && n >> (10 * (u + 1)))
		u++;
	if (u == 0 || n % (UINT64_C(1) << (10 * u)) == 0)
		snprintf(buf, bufsz, "%" PRIu64 " %s", n >> (10 * u), unit[u]);
	else
		snprintf(buf, bufsz, "%.1f %s", (double)n / (double)(UINT64_C(1) << (10 * u)),
			 unit[u]);
	return buf;
}

/* Hashes a hole of n zero bytes of m, unless it takes the member's or the
 * archive's holes past their limit (members.h): that is refused before
 * any work, so a header that declares an exabyte costs nothing. */
static int hash_hole(struct tar_reader *t, const struct member *m, uint64_t *member_holes,
		     uint64_t n)
{
	char s1[32], s2[32];
	bool member = n > t->lim.member_holes - *member_holes;
	bool archive = !member && n > t->lim.archive_holes - t->holes;

	if (n == 0)
		return 0;
	if (member || archive)
		return set_errmsg(t->err, t->errsz, -EFBIG,
				  "%s: cannot read member '%s': sparse member declares %s "
				  "(more than ctxpack reads: %s of holes per %s)",
				  t->name, quote(t->qbuf, sizeof(t->qbuf), m->path, m->len),
				  size_text(m->size, s1, sizeof(s1)),
				  size_text(archive ? t->lim.archive_holes : t->lim.member_holes,
					    s2, sizeof(s2)),
				  archive ? "archive" : "member");
	*member_holes += n;
	t->holes += n;
	if (hash_zeros(t->st, n) < 0)
		return set_errmsg(t->err, t->errsz, -ENOMEM, "out of memory");
	return 0;
}

/* Reads the current member's data into m's size and hash.  Holes of a
 * sparse member are hashed as the zeros they read as (within the limits);
 * data past the declared size, or out of order, is an error. */
static int hash_data(struct tar_reader *t, struct archive_entry *e, struct member *m)
{
	bool sized = archive_entry_size_is_set(e);
	uint64_t pos = 0, holes = 0;
	int rc;

	if (XXH3_128bits_reset(t->st) != XXH_OK)
		return set_errmsg(t->err, t->errsz, -ENOMEM, "out of memory");
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(t->a, &buf, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return set_errmsg(t->err, t->errsz, la_rc(t->a),
				       "%s: cannot read member '%s': %s", t->name,
				       quote(t->qbuf, sizeof(t->qbuf), m->path, m->len),
				       la_why(t->a, t->mbuf, sizeof(t->mbuf)));
		if (off < 0 || (uint64_t)off < pos)
			return set_errmsg(t->err, t->errsz, -EINVAL,
				       "%s: cannot read member '%s': data out of order "
				       "(a sparse map that overlaps or goes back)", t->name,
				       quote(t->qbuf, sizeof(t->qbuf), m->path, m->len));
		if (sized && ((uint64_t)off > m->size || n > m->size - (uint64_t)off))
			return set_errmsg(t->err, t->errsz, -EINVAL,
				       "%s: cannot read member '%s': more data than its size",
				       t->name, quote(t->qbuf, sizeof(t->qbuf), m->path, m->len));
		rc = hash_hole(t, m, &holes, (uint64_t)off - pos);
		if (rc < 0)
			return rc;
		if (n && XXH3_128bits_update(t->st, buf, n) != XXH_OK)
			return set_errmsg(t->err, t->errsz, -ENOMEM, "out of memory");
		pos = (uint64_t)off + n;
	}
	if (sized) {
		rc = hash_hole(t, m, &holes, m->size - pos);
		if (rc < 0)
			return rc;
	} else {
		m->size = pos;
	}
	XXH128_canonicalFromHash((XXH128_canonical_t *)m->hash, XXH3_128bits_digest(t->st));
	m->hashed = true;
	return 0;
}

static const char *type_name(mode_t ft)
{
	switch (ft) {
	case AE_IFSOCK:
		return "socket";
	default:
		return "unknown";
	}
}

/* One entry into l (or nothing, for the context's root "."). */
static int add_entry(struct tar_reader *t, struct archive_entry *e, struct member_list *l)
{
	const char *p = archive_entry_pathname(e);
	const char *hl = archive_entry_hardlink(e);
	size_t len;
	struct member m = {0};
	mode_t ft = archive_entry_filetype(e);

	if (!p)
		return set_errmsg(t->err, t->errsz, -EINVAL, "%s: member without a name", t->name);
	len = strlen(p);
	normalize(&p, &len);
	m.path = (char *)p;
	m.len = len;
	if (hl) {
		size_t hlen = strlen(hl);
		normalize(&hl, &hlen);
		m.type = '1';
		m.link = (char *)hl;
		m.link_len = hlen;
	} else {
		const char *sl;
		switch (ft) {
		case AE_IFREG:
			m.type = '0';
			break;
		case AE_IFLNK:
			m.type = '2';
			sl = archive_entry_symlink(e);
			/* libarchive (3.6) drops a PAX linkpath it cannot
			 * convert to the locale, and one whose ustar field is
			 * empty (Go's, for a target without ASCII): never
			 * take that for an empty target. */
			if (!sl)
				return set_errmsg(t->err, t->errsz, -ENOTSUP,
					       "%s: member '%s': libarchive cannot read the symlink's target (a target that is not ASCII)",
					       t->name, quote(t->qbuf, sizeof(t->qbuf), m.path, m.len));
			m.link = (char *)sl;
			m.link_len = strlen(m.link);
			break;
		case AE_IFCHR:
		case AE_IFBLK:
			m.type = ft == AE_IFCHR ? '3' : '4';
			m.devmajor = (uint32_t)archive_entry_rdevmajor(e);
			m.devminor = (uint32_t)archive_entry_rdevminor(e);
			break;
		case AE_IFDIR:
			m.type = '5';
			break;
		case AE_IFIFO:
			m.type = '6';
			break;
		default:
			return set_errmsg(t->err, t->errsz, -EINVAL,
				       "%s: member '%s': unsupported type (%s)", t->name,
				       quote(t->qbuf, sizeof(t->qbuf), m.path, m.len),
				       type_name(ft));
		}
	}
	if (len == 0) {
		if (m.type == '5')
			return 0; /* ".", "./": the context itself */
		return set_errmsg(t->err, t->errsz, -EINVAL, "%s: member with an empty name", t->name);
	}
	m.mode = (uint32_t)archive_entry_mode(e) & 07777;
	m.mtime = (int64_t)archive_entry_mtime(e);
	if (m.type == '0') {
		int rc;
		la_int64_t size = archive_entry_size(e);
		/* libarchive 3.6 takes a PAX GNU.sparse.size or .realsize of
		 * "-5" as it is */
		if (archive_entry_size_is_set(e) && size < 0)
			return set_errmsg(t->err, t->errsz, -EINVAL,
				       "%s: cannot read member '%s': negative size %" PRId64,
				       t->name, quote(t->qbuf, sizeof(t->qbuf), m.path, m.len),
				       (int64_t)size);
		/* where libarchive clamps a decimal size past it */
		if (archive_entry_size_is_set(e) && size == INT64_MAX)
			return set_errmsg(t->err, t->errsz, -EFBIG,
				       "%s: cannot read member '%s': size out of range (2^63 - 1 "
				       "bytes or more)",
				       t->name, quote(t->qbuf, sizeof(t->qbuf), m.path, m.len));
		m.size = archive_entry_size_is_set(e) ? (uint64_t)size : 0;
		rc = hash_data(t, e, &m);
		if (rc < 0)
			return rc;
	}
	if (member_list_add(l, &m) < 0)
		return set_errmsg(t->err, t->errsz, -ENOMEM, "out of memory");
	return 0;
}

int members_from_tar(struct member_list *out, int fd, const char *name, char *err, size_t errsz)
{
	return members_from_tar_limited(out, fd, name, NULL, err, errsz);
}

int members_from_tar_limited(struct member_list *out, int fd, const char *name,
			     const struct members_tar_limits *lim, char *err, size_t errsz)
{
	struct tar_reader t = {
		.name = name,
		.err = err,
		.errsz = errsz,
		.lim = lim ? *lim
			   : (struct members_tar_limits){MEMBERS_MAX_MEMBER_HOLES,
							 MEMBERS_MAX_ARCHIVE_HOLES},
	};
	struct member_list l = {0};
	struct archive_entry *e;
	int64_t end = 0; /* where the last member's data and padding end */
	int rc = 0, r;

	memset(out, 0, sizeof(*out));
	t.a = archive_read_new();
	t.st = XXH3_createState();
	if (!t.a || !t.st) {
		rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
		goto out;
	}
	/* Any compression, but tar only (every tar dialect: ustar, pax, GNU,
	 * v7): a build context is a tar, and only a tar has an end mark that
	 * tells a complete archive from a cut one.  Not format_all(): its
	 * "empty" takes an empty file for an archive, its "mtree" takes text
	 * for one and reads the members' data from the local disk, and the
	 * read-ahead of bidders such as iso9660 makes libarchive before
	 * 3.7.5 (#2196) report a header cut at the end as a clean end. */
	archive_read_support_filter_all(t.a);
	archive_read_support_format_tar(t.a);
	if (archive_read_open_fd(t.a, fd, 1 << 16) != ARCHIVE_OK) {
		bool cut;
		const char *cause = la_cause(t.a, t.mbuf, sizeof(t.mbuf), &cut);
		/* a compressed stream recognized, and cut before a header */
		if (cut)
			rc = set_errmsg(err, errsz, la_rc(t.a), "%s: %s", name, cause);
		else
			rc = set_errmsg(err, errsz, la_rc(t.a), "%s: not a tar archive (%s)",
					name, cause);
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(t.a, &e);
		if (r == ARCHIVE_EOF) {
			/* The end mark (a block of zeros, normally two) was read
			 * only if the reader moved past the last member's data;
			 * else the stream ended, whole blocks or not, where a
			 * header was due: cut, or from a writer that omits the
			 * mark, and the two cannot be told apart. */
			if (archive_filter_bytes(t.a, 0) < end + 512) {
				if (l.n)
					rc = set_errmsg(err, errsz, -EINVAL,
						     "%s: after member '%s': no end-of-archive "
						     "blocks (truncated archive)",
						     name,
						     quote(t.qbuf, sizeof(t.qbuf),
							   l.v[l.n - 1].path, l.v[l.n - 1].len));
				else
					rc = set_errmsg(
						err, errsz, -EINVAL,
						"%s: no end-of-archive blocks (truncated archive)",
						name);
				goto out;
			}
			break;
		}
		if (r != ARCHIVE_OK && !(r == ARCHIVE_WARN && harmless_warning(t.a))) {
			/* the header was read far enough to name the member
			 * (a bad sparse map or size): name it */
			const char *p = e ? archive_entry_pathname(e) : NULL;
			const char *why = la_why(t.a, t.mbuf, sizeof(t.mbuf));
			if (r == ARCHIVE_WARN && !archive_error_string(t.a))
				why = "a damaged header (libarchive warns without a reason)";
			if (p && *p)
				rc = set_errmsg(err, errsz, la_rc(t.a), "%s: member '%s': %s", name,
						quote(t.qbuf, sizeof(t.qbuf), p, strlen(p)), why);
			else if (l.n)
				rc = set_errmsg(err, errsz, la_rc(t.a), "%s: after member '%s': %s",
					     name,
					     quote(t.qbuf, sizeof(t.qbuf), l.v[l.n - 1].path,
						   l.v[l.n - 1].len),
					     why);
			else
				rc = set_errmsg(err, errsz, la_rc(t.a), "%s: %s", name, why);
			goto out;
		}
		rc = add_entry(&t, e, &l);
		if (rc < 0)
			goto out;
		/* The rest of the member (the data of a member not hashed, the
		 * padding), so that end is where the next header starts. */
		if (archive_read_data_skip(t.a) != ARCHIVE_OK) {
			const char *p = archive_entry_pathname(e);
			rc = set_errmsg(err, errsz, la_rc(t.a), "%s: cannot read member '%s': %s",
				     name,
				     quote(t.qbuf, sizeof(t.qbuf), p ? p : "", p ? strlen(p) : 0),
				     la_why(t.a, t.mbuf, sizeof(t.mbuf)));
			goto out;
		}
		end = archive_filter_bytes(t.a, 0);
	}
out:
	if (t.a)
		archive_read_free(t.a);
	XXH3_freeState(t.st);
	if (rc < 0)
		member_list_release(&l);
	else
		*out = l;
	return rc;
}

/* ---- writing manifests ---- */

const struct member_type member_types[CTXPACK_ENTRY_HARDLINK + 1] = {
	[CTXPACK_ENTRY_FILE] = { '0', 'f', "file" },
	[CTXPACK_ENTRY_DIR] = { '5', 'd', "dir" },
	[CTXPACK_ENTRY_SYMLINK] = { '2', 'l', "symlink" },
	[CTXPACK_ENTRY_FIFO] = { '6', 'p', "fifo" },
	[CTXPACK_ENTRY_CHAR] = { '3', 'c', "char" },
	[CTXPACK_ENTRY_BLOCK] = { '4', 'b', "block" },
	[CTXPACK_ENTRY_SOCKET] = { '0', 's', "file" },
	[CTXPACK_ENTRY_HARDLINK] = { '1', 'h', "hardlink" },
};

const char *member_type_name(char t)
{
	for (size_t i = 0; i < ARRAY_SIZE(member_types); i++)
		if (member_types[i].tar == t)
			return member_types[i].name;
	return NULL;
}

static bool is_device(char type)
{
	return type == '3' || type == '4';
}

/* What both writers refuse, so that each format carries every list it
 * accepts exactly: an unknown type, mode bits above 07777, device numbers
 * on a member that is not a device, a link target on a device. */
static int check_list(const struct member_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct member *m = &l->v[i];
		if (m->type < '0' || m->type > '6' || m->mode > 07777)
			return -EINVAL;
		if (!is_device(m->type) && (m->devmajor || m->devminor))
			return -EINVAL;
		if (is_device(m->type) && m->link)
			return -EINVAL;
	}
	return 0;
}

static void write_hex(FILE *out, const uint8_t h[16])
{
	for (int i = 0; i < 16; i++) {
		fputc(HEX[h[i] >> 4], out);
		fputc(HEX[h[i] & 15], out);
	}
}

int members_write_tsv(FILE *out, const struct member_list *l)
{
	if (check_list(l) < 0)
		return -EINVAL;
	fputs(TSV_HEADER "\n", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct member *m = &l->v[i];
		fprintf(out, "%c\t%04" PRIo32 "\t%" PRIu64 "\t", m->type, m->mode, m->size);
		if (m->hashed)
			write_hex(out, m->hash);
		else
			fputc('-', out);
		fprintf(out, "\t%" PRId64 "\t", m->mtime);
		tsv_escape(out, m->path, m->len);
		fputc('\t', out);
		if (is_device(m->type))
			fprintf(out, "%" PRIu32 ",%" PRIu32, m->devmajor, m->devminor);
		else if (m->link)
			tsv_escape(out, m->link, m->link_len);
		fputc('\n', out);
	}
	fprintf(out, TSV_END "%zu\n", l->n);
	return ferror(out) ? -EIO : 0;
}

int members_write_json(FILE *out, const struct member_list *l)
{
	if (check_list(l) < 0)
		return -EINVAL;
	fputs("{\"manifest\":1,\"members\":[\n", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct member *m = &l->v[i];
		fputs("{\"path\":", out);
		json_string(out, m->path, m->len);
		fprintf(out,
			",\"type\":\"%s\",\"mode\":\"%04" PRIo32 "\",\"size\":%" PRIu64
			",\"xxh3_128\":",
			member_type_name(m->type), m->mode, m->size);
		if (m->hashed) {
			fputc('"', out);
			write_hex(out, m->hash);
			fputc('"', out);
		} else {
			fputs("null", out);
		}
		fprintf(out, ",\"mtime\":%" PRId64, m->mtime);
		if (m->link) {
			fputs(",\"link\":", out);
			json_string(out, m->link, m->link_len);
		}
		if (is_device(m->type))
			fprintf(out, ",\"devmajor\":%" PRIu32 ",\"devminor\":%" PRIu32, m->devmajor,
				m->devminor);
		fputs(i + 1 < l->n ? "},\n" : "}\n", out);
	}
	fputs("]}\n", out);
	return ferror(out) ? -EIO : 0;
}

/* ---- reading manifests ---- */

bool members_is_manifest(const char *head, size_t len)
{
	size_t i = 0;

	if (len >= strlen(TSV_MAGIC) && memcmp(head, TSV_MAGIC, strlen(TSV_MAGIC)) == 0)
		return true;
	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	if (i >= len || head[i] != '{')
		return false;
	i++;
	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	return len - i >= strlen(JSON_KEY) && memcmp(head + i, JSON_KEY, strlen(JSON_KEY)) == 0;
}

static bool parse_hash(const char *s, size_t n, uint8_t h[16])
{
	if (n != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		int hi = hex_value((unsigned char)s[2 * i]), lo = hex_value((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		h[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Exactly four octal digits, as both writers write the mode. */
static bool parse_mode(const char *s, size_t n, uint32_t *mode)
{
	uint32_t v = 0;

	if (n != 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		if (s[i] < '0' || s[i] > '7')
			return false;
		v = v << 3 | (uint32_t)(s[i] - '0');
	}
	*mode = v;
	return true;
}

/* Decimal digits, no sign, no leading zero (but "0"), at most max. */
static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (d > 9 || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool parse_int64(const char *s, size_t n, int64_t *out)
{
	uint64_t v;

	if (n > 0 && s[0] == '-') {
		if (!parse_uint(s + 1, n - 1, (uint64_t)INT64_MAX + 1, &v) || v == 0)
			return false;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		return true;
	}
	if (!parse_uint(s, n, INT64_MAX, &v))
		return false;
	*out = (int64_t)v;
	return true;
}

/* A growable byte buffer (names being decoded). */
struct buf {
	char *s;
	size_t len, alloc;
};

static int buf_add(struct buf *b, const void *p, size_t n)
{
	if (n > SIZE_MAX - b->len - 1 || GROW(b->s, b->alloc, b->len + n + 1) < 0)
		return -ENOMEM;
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

struct mreader {
	FILE *in;
	const char *name;
	size_t line;
	char *err;
	size_t errsz;
	char qbuf[128];
};

#define MERR(r, ...) set_errmsg((r)->err, (r)->errsz, -EINVAL, __VA_ARGS__)

/* The byte a one-letter escape "\\e" stands for, when e is one of the
 * letters the format allows (TSV: \\ \t \n \r; JSON adds \" \/ \b \f),
 * else -1. */
static int unescape_char(int e, const char *allowed)
{
	static const char from[] = "\\\"/bfnrt", to[] = "\\\"/\b\f\n\r\t";
	const char *p;

	if (e <= 0 || !strchr(allowed, e) || !(p = strchr(from, e)))
		return -1;
	return (unsigned char)to[p - from];
}

/* A TSV field unescaped into b.  Returns 0, -EINVAL or -ENOMEM. */
static int tsv_unescape(struct mreader *r, const char *what, const char *s, size_t n, struct buf *b)
{
	b->len = 0;
	if (buf_add(b, "", 0) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int hi, lo;
		if (c < 0x20 || c == 0x7f)
			return MERR(r, "%s:%zu: unescaped control character 0x%02x in the %s",
				    r->name, r->line, c, what);
		if (c != '\\') {
			if (buf_add(b, &c, 1) < 0)
				return -ENOMEM;
			continue;
		}
		if (++i == n)
			return MERR(r, "%s:%zu: '\\' at the end of the %s", r->name, r->line, what);
		if (s[i] == 'x') {
			if (n - i < 3 || (hi = hex_value((unsigned char)s[i + 1])) < 0 ||
			    (lo = hex_value((unsigned char)s[i + 2])) < 0)
				return MERR(r, "%s:%zu: bad escape '\\x' in the %s", r->name,
					    r->line, what);
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if ((hi = unescape_char(s[i], "\\tnr")) >= 0) {
			c = (unsigned char)hi;
		} else {
			return MERR(r, "%s:%zu: unknown escape '\\%s' in the %s", r->name, r->line,
				    quote(r->qbuf, sizeof(r->qbuf), s + i, 1), what);
		}
		if (buf_add(b, &c, 1) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int tsv_line(struct mreader *r, char *s, size_t n, struct buf *path, struct buf *link,
		    struct member_list *l)
{
	static const char *const names[] = {"type",  "mode", "size", "hash",
					    "mtime", "path", "link"};
	const char *f[7];
	size_t fl[7], k = 0;
	struct member m = {0};
	uint64_t v;
	int rc;

	for (size_t start = 0;; k++) {
		const char *tab = memchr(s + start, '\t', n - start);
		size_t end = tab ? (size_t)(tab - s) : n;
		if (k == 7)
			return MERR(r, "%s:%zu: more than 7 fields", r->name, r->line);
		f[k] = s + start;
		fl[k] = end - start;
		if (!tab) {
			k++;
			break;
		}
		start = end + 1;
	}
	if (k != 7)
		return MERR(r, "%s:%zu: %zu fields where 7 are needed", r->name, r->line, k);
	for (int i = 0; i < 5; i++) {
		if (fl[i] == 0)
			return MERR(r, "%s:%zu: empty %s field", r->name, r->line, names[i]);
	}
	if (fl[0] != 1 || f[0][0] < '0' || f[0][0] > '6')
		return MERR(r, "%s:%zu: unknown type '%s'", r->name, r->line,
			    quote(r->qbuf, sizeof(r->qbuf), f[0], fl[0]));
	m.type = f[0][0];
	if (!parse_mode(f[1], fl[1], &m.mode))
		return MERR(r, "%s:%zu: bad mode '%s'", r->name, r->line,
			    quote(r->qbuf, sizeof(r->qbuf), f[1], fl[1]));
	if (!parse_uint(f[2], fl[2], UINT64_MAX, &m.size))
		return MERR(r, "%s:%zu: bad size '%s'", r->name, r->line,
			    quote(r->qbuf, sizeof(r->qbuf), f[2], fl[2]));
	if (!(fl[3] == 1 && f[3][0] == '-')) {
		if (!parse_hash(f[3], fl[3], m.hash))
			return MERR(r, "%s:%zu: bad hash '%s'", r->name, r->line,
				    quote(r->qbuf, sizeof(r->qbuf), f[3], fl[3]));
		m.hashed = true;
	}
	if (!parse_int64(f[4], fl[4], &m.mtime))
		return MERR(r, "%s:%zu: bad mtime '%s'", r->name, r->line,
			    quote(r->qbuf, sizeof(r->qbuf), f[4], fl[4]));
	rc = tsv_unescape(r, "path", f[5], fl[5], path);
	if (rc < 0)
		return rc;
	m.path = path->s;
	m.len = path->len;
	if (is_device(m.type)) {
		const char *comma = memchr(f[6], ',', fl[6]);
		uint64_t mi;
		if (!comma || !parse_uint(f[6], (size_t)(comma - f[6]), UINT32_MAX, &v) ||
		    !parse_uint(comma + 1, fl[6] - (size_t)(comma - f[6]) - 1, UINT32_MAX, &mi))
			return MERR(r, "%s:%zu: bad device numbers '%s'", r->name, r->line,
				    quote(r->qbuf, sizeof(r->qbuf), f[6], fl[6]));
		m.devmajor = (uint32_t)v;
		m.devminor = (uint32_t)mi;
	} else if (fl[6] > 0 || m.type == '1' || m.type == '2') {
		rc = tsv_unescape(r, "link", f[6], fl[6], link);
		if (rc < 0)
			return rc;
		m.link = link->s;
		m.link_len = link->len;
	}
	return member_list_add(l, &m);
}

static int read_tsv(struct mreader *r, struct member_list *l)
{
	struct buf path = {0}, link = {0};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	bool ended = false;

	for (r->line = 1; (n = getline(&line, &cap, r->in)) >= 0; r->line++) {
		size_t len = (size_t)n;
		bool nl = len > 0 && line[len - 1] == '\n';
		uint64_t count;
		if (nl)
			len--;
		if (ended) {
			rc = MERR(r, "%s:%zu: a line after the end line", r->name, r->line);
			goto out;
		}
		if (r->line == 1) {
			size_t v1 = strlen(TSV_MAGIC "1"), vn = strlen(TSV_MAGIC TSV_VERSION);
			if (len == strlen(TSV_HEADER) && memcmp(line, TSV_HEADER, len) == 0 && nl)
				continue;
			if (!nl && len <= strlen(TSV_HEADER) &&
			    memcmp(line, TSV_HEADER, len) == 0)
				rc = MERR(r, "%s:1: manifest is cut in its header line", r->name);
			else if (len >= v1 && memcmp(line, TSV_MAGIC "1", v1) == 0 &&
				 (len == v1 || line[v1] == '\t'))
				/* v1 had no end line: a cut one read as whole */
				rc = MERR(r, "%s:1: unsupported manifest version 1 (it has no end "
					  "line; write the manifest again)", r->name);
			else if (len >= vn && memcmp(line, TSV_MAGIC TSV_VERSION, vn) == 0 &&
				 (len == vn || line[vn] == '\t'))
				rc = MERR(r, "%s:1: unexpected columns in the manifest header",
					  r->name);
			else
				rc = MERR(r, "%s:1: unsupported manifest version '%s'", r->name,
					  quote(r->qbuf, sizeof(r->qbuf), line, len));
			goto out;
		}
		/* Every line ends in a newline, the end line too: a manifest
		 * cut inside a line is cut, whatever the line still says. */
		if (!nl) {
			rc = MERR(r,
				  "%s:%zu: manifest is cut: no end line (line %zu has no newline)",
				  r->name, r->line, r->line);
			goto out;
		}
		if (len > 0 && line[0] == '#') {
			size_t el = strlen(TSV_END);
			if (len <= el || memcmp(line, TSV_END, el) != 0 ||
			    !parse_uint(line + el, len - el, UINT64_MAX, &count)) {
				rc = MERR(r, "%s:%zu: bad end line '%s'", r->name, r->line,
					  quote(r->qbuf, sizeof(r->qbuf), line, len));
				goto out;
			}
			if (count != l->n) {
				rc = MERR(r,
					  "%s:%zu: the end line counts %" PRIu64
					  " members, the manifest holds %zu",
					  r->name, r->line, count, l->n);
				goto out;
			}
			ended = true;
			continue;
		}
		if (len == 0) {
			rc = MERR(r, "%s:%zu: empty line", r->name, r->line);
			goto out;
		}
		rc = tsv_line(r, line, len, &path, &link, l);
		if (rc == -ENOMEM)
			rc = set_errmsg(r->err, r->errsz, -ENOMEM, "out of memory");
		if (rc < 0)
			goto out;
	}
	if (ferror(r->in))
		rc = set_errmsg(r->err, r->errsz, -EIO, "%s: read error", r->name);
	else if (r->line == 1)
		rc = MERR(r, "%s: empty manifest", r->name);
	else if (!ended)
		rc = MERR(r, "%s:%zu: manifest is cut: no end line", r->name, r->line);
out:
	free(line);
	free(path.s);
	free(link.s);
	return rc;
}

/* The JSON manifest: a small strict reader of exactly the schema that
 * members_write_json writes, in any key order and whitespace. */
struct jreader {
	struct mreader r;
	int c; /* the next character, or EOF */
	struct buf key, path, link, str;
};

static void jnext(struct jreader *j)
{
	if (j->c == '\n')
		j->r.line++;
	j->c = getc(j->r.in);
}

static void jws(struct jreader *j)
{
	while (j->c == ' ' || j->c == '\t' || j->c == '\n' || j->c == '\r')
		jnext(j);
}

static const char *jwhat(struct jreader *j, char buf[16])
{
	if (j->c == EOF)
		return "the end of the file";
	if (j->c >= 0x21 && j->c < 0x7f)
		snprintf(buf, 16, "'%c'", j->c);
	else
		snprintf(buf, 16, "byte 0x%02x", j->c);
	return buf;
}

static int jexpect(struct jreader *j, int c)
{
	char w[16];

	jws(j);
	if (j->c != c)
		return MERR(&j->r, "%s:%zu: expected '%c', found %s", j->r.name, j->r.line, c,
			    jwhat(j, w));
	jnext(j);
	return 0;
}

static int jhex4(struct jreader *j, uint32_t *u)
{
	*u = 0;
	for (int i = 0; i < 4; i++) {
		int h = hex_value(j->c);
		if (h < 0)
			return MERR(&j->r, "%s:%zu: bad \\u escape", j->r.name, j->r.line);
		*u = *u << 4 | (uint32_t)h;
		jnext(j);
	}
	return 0;
}

static int jnull(struct jreader *j)
{
	for (const char *p = "null"; *p; p++) {
		if (j->c != *p)
			return MERR(&j->r, "%s:%zu: bad literal", j->r.name, j->r.line);
		jnext(j);
	}
	return 0;
}

/* A JSON string into b: \udc80-\udcff (not after a high surrogate) are the
 * raw bytes 0x80-0xff, surrogate pairs and other \u escapes are UTF-8. */
static int jstring(struct jreader *j, struct buf *b)
{
	char w[16];
	int rc;

	jws(j);
	if (j->c != '"')
		return MERR(&j->r, "%s:%zu: expected a string, found %s", j->r.name, j->r.line,
			    jwhat(j, w));
	jnext(j);
	b->len = 0;
	if (buf_add(b, "", 0) < 0)
		return -ENOMEM;
	for (;;) {
		unsigned char c;
		uint32_t u, lo;
		char enc[4];
		if (j->c == EOF)
			return MERR(&j->r, "%s:%zu: unterminated string", j->r.name, j->r.line);
		if (j->c == '"') {
			jnext(j);
			return 0;
		}
		if (j->c < 0x20)
			return MERR(&j->r, "%s:%zu: unescaped control character 0x%02x in a string",
				    j->r.name, j->r.line, j->c);
		if (j->c != '\\') {
			c = (unsigned char)j->c;
			jnext(j);
			if (buf_add(b, &c, 1) < 0)
				return -ENOMEM;
			continue;
		}
		jnext(j);
		switch (j->c) {
		case 'u':
			jnext(j);
			rc = jhex4(j, &u);
			if (rc < 0)
				return rc;
			if (u >= 0xdc80 && u <= 0xdcff) {
				c = (unsigned char)(u - 0xdc00);
				if (buf_add(b, &c, 1) < 0)
					return -ENOMEM;
				continue;
			}
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->c != '\\')
					goto lone;
				jnext(j);
				if (j->c != 'u')
					goto lone;
				jnext(j);
				rc = jhex4(j, &lo);
				if (rc < 0)
					return rc;
				if (lo < 0xdc00 || lo > 0xdfff)
					goto lone;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			} else if (u >= 0xdc00 && u <= 0xdfff) {
				goto lone;
			}
			if (buf_add(b, enc, utf8_encode(u, enc)) < 0)
				return -ENOMEM;
			continue;
		default:
			if ((rc = unescape_char(j->c, "\"\\/bfnrt")) < 0)
				return MERR(&j->r, "%s:%zu: unknown escape in a string", j->r.name,
					    j->r.line);
			c = (unsigned char)rc;
		}
		jnext(j);
		if (buf_add(b, &c, 1) < 0)
			return -ENOMEM;
	}
lone:
	return MERR(&j->r, "%s:%zu: lone surrogate in a string", j->r.name, j->r.line);
}

/* A JSON integer (no fraction or exponent) in [min, max] (min 0 or
 * INT64_MIN). */
static int jint(struct jreader *j, const char *key, bool sign, uint64_t max, int64_t *out)
{
	char s[24];
	size_t n = 0;
	uint64_t u;
	int64_t v;

	jws(j);
	while ((j->c >= '0' && j->c <= '9') || (j->c == '-' && n == 0)) {
		if (n == sizeof(s) - 1)
			return MERR(&j->r, "%s:%zu: '%s' out of range", j->r.name, j->r.line, key);
		s[n++] = (char)j->c;
		jnext(j);
	}
	if (j->c == '.' || j->c == 'e' || j->c == 'E')
		return MERR(&j->r, "%s:%zu: '%s' is not an integer", j->r.name, j->r.line, key);
	if (sign ? !parse_int64(s, n, &v) : !parse_uint(s, n, max, &u))
		return MERR(&j->r, "%s:%zu: bad '%s' value", j->r.name, j->r.line, key);
	*out = sign ? v : (int64_t)u;
	return 0;
}

enum {
	K_PATH = 1,
	K_TYPE = 2,
	K_MODE = 4,
	K_SIZE = 8,
	K_HASH = 16,
	K_MTIME = 32,
	K_LINK = 64,
	K_MAJOR = 128,
	K_MINOR = 256,
	K_REQUIRED = 63,
};

static int jmember(struct jreader *j, struct member_list *l)
{
	static const char *const keys[] = {"path",  "type", "mode",	"size",	   "xxh3_128",
					   "mtime", "link", "devmajor", "devminor"};
	struct member m = {0};
	unsigned seen = 0;
	size_t line;
	int64_t v;
	int rc;

	jws(j);
	line = j->r.line;
	rc = jexpect(j, '{');
	if (rc < 0)
		return rc;
	jws(j);
	if (j->c == '}')
		goto end;
	for (;;) {
		unsigned k;
		rc = jstring(j, &j->key);
		if (rc < 0)
			return rc;
		for (k = 0; k < ARRAY_SIZE(keys); k++) {
			if (strlen(keys[k]) == j->key.len &&
			    memcmp(keys[k], j->key.s, j->key.len) == 0)
				break;
		}
		if (k == ARRAY_SIZE(keys))
			return MERR(&j->r, "%s:%zu: unknown key '%s' in a member", j->r.name,
				    j->r.line,
				    quote(j->r.qbuf, sizeof(j->r.qbuf), j->key.s, j->key.len));
		if (seen & (1u << k))
			return MERR(&j->r, "%s:%zu: duplicate key '%s'", j->r.name, j->r.line,
				    keys[k]);
		seen |= 1u << k;
		rc = jexpect(j, ':');
		if (rc < 0)
			return rc;
		switch (1u << k) {
		case K_PATH:
			rc = jstring(j, &j->path);
			break;
		case K_LINK:
			rc = jstring(j, &j->link);
			break;
		case K_TYPE:
			rc = jstring(j, &j->str);
			if (rc < 0)
				return rc;
			m.type = 0;
			for (size_t t = 0; t < ARRAY_SIZE(member_types); t++) {
				if (strlen(member_types[t].name) == j->str.len &&
				    memcmp(member_types[t].name, j->str.s, j->str.len) == 0)
					m.type = member_types[t].tar;
			}
			if (!m.type)
				return MERR(
					&j->r, "%s:%zu: unknown type '%s'", j->r.name, j->r.line,
					quote(j->r.qbuf, sizeof(j->r.qbuf), j->str.s, j->str.len));
			break;
		case K_MODE:
			rc = jstring(j, &j->str);
			if (rc < 0)
				return rc;
			if (!parse_mode(j->str.s, j->str.len, &m.mode))
				return MERR(
					&j->r, "%s:%zu: bad mode '%s'", j->r.name, j->r.line,
					quote(j->r.qbuf, sizeof(j->r.qbuf), j->str.s, j->str.len));
			break;
		case K_SIZE:
			rc = jint(j, "size", false, UINT64_MAX, &v);
			m.size = (uint64_t)v;
			break;
		case K_MTIME:
			rc = jint(j, "mtime", true, 0, &m.mtime);
			break;
		case K_MAJOR:
			rc = jint(j, "devmajor", false, UINT32_MAX, &v);
			m.devmajor = (uint32_t)v;
			break;
		case K_MINOR:
			rc = jint(j, "devminor", false, UINT32_MAX, &v);
			m.devminor = (uint32_t)v;
			break;
		case K_HASH:
			jws(j);
			if (j->c == 'n') {
				rc = jnull(j);
				break;
			}
			rc = jstring(j, &j->str);
			if (rc < 0)
				return rc;
			if (!parse_hash(j->str.s, j->str.len, m.hash))
				return MERR(
					&j->r, "%s:%zu: bad hash '%s'", j->r.name, j->r.line,
					quote(j->r.qbuf, sizeof(j->r.qbuf), j->str.s, j->str.len));
			m.hashed = true;
			break;
		}
		if (rc < 0)
			return rc;
		jws(j);
		if (j->c == '}')
			break;
		rc = jexpect(j, ',');
		if (rc < 0)
			return rc;
	}
end:
	jnext(j);
	if ((seen & K_REQUIRED) != K_REQUIRED) {
		for (unsigned k = 0; k < ARRAY_SIZE(keys); k++) {
			if ((K_REQUIRED & (1u << k)) && !(seen & (1u << k)))
				return MERR(&j->r, "%s:%zu: member without '%s'", j->r.name, line,
					    keys[k]);
		}
	}
	if ((m.type == '1' || m.type == '2') && !(seen & K_LINK))
		return MERR(&j->r, "%s:%zu: %s without 'link'", j->r.name, line,
			    member_type_name(m.type));
	if (is_device(m.type) && (seen & (K_MAJOR | K_MINOR)) != (K_MAJOR | K_MINOR))
		return MERR(&j->r, "%s:%zu: device without 'devmajor' and 'devminor'", j->r.name,
			    line);
	if (is_device(m.type) && (seen & K_LINK))
		return MERR(&j->r, "%s:%zu: 'link' on a device", j->r.name, line);
	if (!is_device(m.type) && (seen & (K_MAJOR | K_MINOR)))
		return MERR(&j->r, "%s:%zu: device numbers on a %s", j->r.name, line,
			    member_type_name(m.type));
	m.path = j->path.s;
	m.len = j->path.len;
	if (seen & K_LINK) {
		m.link = j->link.s;
		m.link_len = j->link.len;
	}
	return member_list_add(l, &m);
}

static int jmembers(struct jreader *j, struct member_list *l)
{
	int rc = jexpect(j, '[');

	if (rc < 0)
		return rc;
	jws(j);
	if (j->c == ']') {
		jnext(j);
		return 0;
	}
	for (;;) {
		rc = jmember(j, l);
		if (rc < 0)
			return rc;
		jws(j);
		if (j->c == ']') {
			jnext(j);
			return 0;
		}
		rc = jexpect(j, ',');
		if (rc < 0)
			return rc;
	}
}

/* j->c is the first '{', on line j->r.line. */
static int read_json(struct jreader *j, struct member_list *l)
{
	bool have_version = false, have_members = false;
	char w[16];
	int64_t v;
	int rc;

	rc = jexpect(j, '{');
	if (rc < 0)
		return rc;
	for (;;) {
		rc = jstring(j, &j->key);
		if (rc < 0)
			return rc;
		rc = jexpect(j, ':');
		if (rc < 0)
			return rc;
		if (strcmp(j->key.s, "manifest") == 0 && j->key.len == 8 && !have_version) {
			rc = jint(j, "manifest", true, 0, &v);
			if (rc < 0)
				return rc;
			if (v != 1)
				return MERR(&j->r, "%s:%zu: unsupported manifest version %" PRId64,
					    j->r.name, j->r.line, v);
			have_version = true;
		} else if (strcmp(j->key.s, "members") == 0 && j->key.len == 7 && !have_members) {
			rc = jmembers(j, l);
			if (rc < 0)
				return rc;
			have_members = true;
		} else {
			return MERR(&j->r, "%s:%zu: unexpected key '%s'", j->r.name, j->r.line,
				    quote(j->r.qbuf, sizeof(j->r.qbuf), j->key.s, j->key.len));
		}
		jws(j);
		if (j->c == '}')
			break;
		rc = jexpect(j, ',');
		if (rc < 0)
			return rc;
	}
	jnext(j);
	jws(j);
	if (j->c != EOF)
		return MERR(&j->r, "%s:%zu: %s after the manifest", j->r.name, j->r.line,
			    jwhat(j, w));
	if (ferror(j->r.in))
		return set_errmsg(j->r.err, j->r.errsz, -EIO, "%s: read error", j->r.name);
	if (!have_version || !have_members)
		return MERR(&j->r, "%s:%zu: manifest without '%s'", j->r.name, j->r.line,
			    have_version ? "members" : "manifest");
	return 0;
}

int members_from_manifest(struct member_list *out, FILE *in, const char *name, char *err,
			  size_t errsz)
{
	struct member_list l = {0};
	size_t line = 1, skipped = 0;
	int rc, c;

	memset(out, 0, sizeof(*out));
	c = getc(in);
	while (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
		line += c == '\n';
		skipped++;
		c = getc(in);
	}
	if (c == '{') {
		struct jreader j = {
			.r = {.in = in, .name = name, .line = line, .err = err, .errsz = errsz},
			.c = c};
		rc = read_json(&j, &l);
		if (rc == -ENOMEM)
			rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
		free(j.key.s);
		free(j.path.s);
		free(j.link.s);
		free(j.str.s);
	} else if (c == '#' && !skipped) {
		struct mreader r = {.in = in, .name = name, .err = err, .errsz = errsz};
		ungetc(c, in);
		rc = read_tsv(&r, &l);
	} else if (c == EOF && ferror(in)) {
		rc = set_errmsg(err, errsz, -EIO, "%s: read error", name);
	} else {
		rc = set_errmsg(err, errsz, -EINVAL, "%s:1: not a ctxpack manifest", name);
	}
	if (rc < 0)
		member_list_release(&l);
	else
		*out = l;
	return rc;
}

/* ---- the digest ---- */

/* The digest's byte stream is the same however it is cut: each member's
 * fields are gathered in a buffer and hashed in large pieces (one update
 * per field cost more than the hashing itself on small members). */
struct members_digester {
	XXH3_state_t st;
	bool with_mtime;
	size_t used;
	unsigned char buf[8192];
};

static void dg_flush(struct members_digester *d)
{
	(void)XXH3_128bits_update(&d->st, d->buf, d->used);
	d->used = 0;
}

static void dg_put(struct members_digester *d, const void *p, size_t n)
{
	if (d->used + n > sizeof(d->buf)) {
		dg_flush(d);
		if (n > sizeof(d->buf)) {
			(void)XXH3_128bits_update(&d->st, p, n);
			return;
		}
	}
	memcpy(d->buf + d->used, p, n);
	d->used += n;
}

static void dg_le(struct members_digester *d, uint64_t v, size_t bytes)
{
	unsigned char b[8];

	for (size_t i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	dg_put(d, b, bytes);
}

struct members_digester *members_digester_new(bool with_mtime)
{
	struct members_digester *d = aligned_alloc(64, sizeof(*d));

	if (!d)
		return NULL;
	XXH3_INITSTATE(&d->st);
	(void)XXH3_128bits_reset(&d->st);
	d->with_mtime = with_mtime;
	d->used = 0;
	if (with_mtime)
		dg_put(d, DIGEST_DOMAIN_MTIME, sizeof(DIGEST_DOMAIN_MTIME));
	else
		dg_put(d, DIGEST_DOMAIN, sizeof(DIGEST_DOMAIN));
	return d;
}

void members_digester_add(struct members_digester *d, const struct member *m)
{
	static const uint8_t zero[16];
	size_t link_len = m->link ? m->link_len : 0;
	unsigned char one = (unsigned char)m->type;

	dg_put(d, &one, 1);
	dg_le(d, m->mode, 4);
	dg_le(d, m->size, 8);
	dg_le(d, m->len, 8);
	dg_put(d, m->path, m->len);
	dg_le(d, link_len, 8);
	if (link_len)
		dg_put(d, m->link, link_len);
	dg_le(d, m->devmajor, 4);
	dg_le(d, m->devminor, 4);
	one = m->hashed ? 1 : 0;
	dg_put(d, &one, 1);
	dg_put(d, m->hashed ? m->hash : zero, 16);
	if (d->with_mtime)
		dg_le(d, (uint64_t)m->mtime, 8);
}

void members_digester_finish(struct members_digester **dp, uint8_t out[16])
{
	struct members_digester *d = *dp;

	dg_flush(d);
	XXH128_canonicalFromHash((XXH128_canonical_t *)out, XXH3_128bits_digest(&d->st));
	free(d);
	*dp = NULL;
}

int members_digest(const struct member_list *l, bool with_mtime, uint8_t out[16])
{
	struct members_digester *d = members_digester_new(with_mtime);

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		members_digester_add(d, &l->v[i]);
	members_digester_finish(&d, out);
	return 0;
}

void members_digest_string(const uint8_t d[16], char out[42])
{
	memcpy(out, "xxh3-128:", 9);
	for (int i = 0; i < 16; i++) {
		out[9 + 2 * i] = HEX[d[i] >> 4];
		out[10 + 2 * i] = HEX[d[i] & 15];
	}
	out[41] = '\0';
}

/* ---- the diff ---- */

static int cmp_path(const struct member *x, const struct member *y)
{
	size_t n = x->len < y->len ? x->len : y->len;
	int c = n ? memcmp(x->path, y->path, n) : 0;

	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* By path, and for one path in archive order (the members of one list
 * are one array, so their addresses are their order). */
static int cmp_ptr(const void *pa, const void *pb)
{
	const struct member *x = *(const struct member *const *)pa;
	const struct member *y = *(const struct member *const *)pb;
	int c = cmp_path(x, y);

	if (c)
		return c;
	return (x > y) - (x < y);
}

/* l's members sorted by path, the last of each path only (as extraction
 * leaves it).  Returns the array (free it) with its length in *n, or NULL. */
static const struct member **sorted(const struct member_list *l, size_t *n)
{
	const struct member **v = malloc((l->n ? l->n : 1) * sizeof(*v));
	size_t k = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		v[i] = &l->v[i];
	qsort(v, l->n, sizeof(*v), cmp_ptr);
	for (size_t i = 0; i < l->n; i++) {
		if (i + 1 < l->n && cmp_path(v[i], v[i + 1]) == 0)
			continue;
		v[k++] = v[i];
	}
	*n = k;
	return v;
}

static unsigned compare(const struct member *a, const struct member *b, bool with_mtime)
{
	size_t al = a->link ? a->link_len : 0, bl = b->link ? b->link_len : 0;
	unsigned ch = 0;

	if (a->type != b->type)
		return MC_TYPE;
	/* One side not hashed and the sizes equal: the content is taken as
	 * equal (nothing says otherwise). */
	if (a->type == '0' &&
	    (a->size != b->size || (a->hashed && b->hashed && memcmp(a->hash, b->hash, 16) != 0)))
		ch |= MC_CONTENT;
	if (a->mode != b->mode)
		ch |= MC_MODE;
	if (al != bl || (al && memcmp(a->link, b->link, al) != 0))
		ch |= MC_LINK;
	if (a->devmajor != b->devmajor || a->devminor != b->devminor)
		ch |= MC_DEVICE;
	if (with_mtime && a->mtime != b->mtime)
		ch |= MC_MTIME;
	return ch;
}

static uint64_t file_size(const struct member *m)
{
	return m->type == '0' ? m->size : 0;
}

int members_diff(struct member_diff *d, const struct member_list *a, const struct member_list *b,
		 bool with_mtime)
{
	const struct member **va, **vb;
	size_t na = 0, nb = 0, i = 0, j = 0;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	va = sorted(a, &na);
	vb = sorted(b, &nb);
	if (!va || !vb) {
		rc = -ENOMEM;
		goto out;
	}
	while (i < na || j < nb) {
		struct member_delta dl = {.renamed = SIZE_MAX};
		int c = i == na ? 1 : j == nb ? -1 : cmp_path(va[i], vb[j]);
		if (c < 0) {
			dl.a = va[i++];
			dl.changes = MC_REMOVED;
			d->removed++;
			d->removed_bytes += file_size(dl.a);
		} else if (c > 0) {
			dl.b = vb[j++];
			dl.changes = MC_ADDED;
			d->added++;
			d->added_bytes += file_size(dl.b);
		} else {
			dl.a = va[i++];
			dl.b = vb[j++];
			dl.changes = compare(dl.a, dl.b, with_mtime);
			if (!dl.changes) {
				d->same++;
				continue;
			}
			d->changed++;
			if (dl.changes & MC_CONTENT) {
				d->changed_bytes_a += dl.a->size;
				d->changed_bytes_b += dl.b->size;
			}
		}
		if (GROW(d->v, d->alloc, d->n + 1) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		d->v[d->n++] = dl;
	}
out:
	free(va);
	free(vb);
	if (rc < 0)
		member_diff_release(d);
	return rc;
}

static int rename_cmp(const void *x, const void *y, void *arg)
{
	const struct member_delta *v = arg;
	const struct member *a = v[*(const size_t *)x].a, *b = v[*(const size_t *)y].a;
	int c = memcmp(a->hash, b->hash, sizeof(a->hash));

	if (c)
		return c;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (a->mode != b->mode)
		return a->mode < b->mode ? -1 : 1;
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

static bool renamable(const struct member *m)
{
	return m && m->type == '0' && m->hashed;
}

int members_diff_renames(struct member_diff *d)
{
	size_t *rem = malloc((d->n ? d->n : 1) * sizeof(*rem)), nrem = 0;

	if (!rem)
		return -ENOMEM;
	d->renames = 0;
	for (size_t i = 0; i < d->n; i++) {
		d->v[i].renamed = SIZE_MAX;
		if ((d->v[i].changes & MC_REMOVED) && renamable(d->v[i].a))
			rem[nrem++] = i;
	}
	qsort_r(rem, nrem, sizeof(*rem), rename_cmp, d->v);
	for (size_t i = 0; i < d->n; i++) {
		const struct member *b = d->v[i].b;
		size_t lo = 0, hi = nrem;

		if (!(d->v[i].changes & MC_ADDED) || !renamable(b))
			continue;
		/* the first removed one not yet paired with this content */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct member *a = d->v[rem[mid]].a;
			int c = memcmp(a->hash, b->hash, sizeof(a->hash));
			if (!c)
				c = a->size != b->size ? (a->size < b->size ? -1 : 1) : 0;
			if (!c)
				c = a->mode != b->mode ? (a->mode < b->mode ? -1 : 1) : 0;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nrem; lo++) {
			const struct member *a = d->v[rem[lo]].a;
			if (memcmp(a->hash, b->hash, sizeof(a->hash)) || a->size != b->size ||
			    a->mode != b->mode)
				break;
			if (d->v[rem[lo]].renamed == SIZE_MAX) {
				d->v[rem[lo]].renamed = i;
				d->v[i].renamed = rem[lo];
				d->renames++;
				break;
			}
		}
	}
	free(rem);
	return 0;
}

void member_diff_release(struct member_diff *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}
