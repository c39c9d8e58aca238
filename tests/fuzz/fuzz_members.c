/* fuzz_members.c: fuzz target for the readers of tars and manifests
 * (src/members.c): members_from_tar, the TSV and the JSON manifest
 * readers.
 *
 * The input is read three ways:
 *
 *   - as a tar (any compression) by members_from_tar_limited, with small
 *     hole limits (1 MiB per member, 4 MiB per archive) so that no input
 *     hashes gigabytes of zeros; when the first byte is 0x01, the rest is
 *     also gzip'ed (in memory) and read again, so that mutations of the
 *     tar reach the reader through a valid gzip stream: both reads must
 *     agree (both refuse, or the same list and digests);
 *   - as a manifest by members_from_manifest (TSV or JSON, as the first
 *     bytes say).
 *
 * A list read from either must be well formed (types '0'-'6', mode bits
 * within 07777, regular files hashed and no others, a NUL after every
 * name and target, device numbers only on devices) and survive both
 * writers and readers exactly, with the same digests.  A TSV manifest
 * that reads must be refused once its last byte is cut (the end line
 * needs its newline).  A refusal must carry an errno the header
 * documents, a message naming the source, and an empty list.  Any crash,
 * leak, undefined behaviour or broken check aborts. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "members.h"

static const struct members_tar_limits LIMITS = {.member_holes = 1 << 20,
						 .archive_holes = 4 << 20};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_members: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void check_member(const struct member *m, size_t i)
{
	bool device = m->type == '3' || m->type == '4';

	if (m->type < '0' || m->type > '6')
		fail("member %zu: type 0x%02x", i, (unsigned char)m->type);
	if (m->mode > 07777)
		fail("member %zu: mode %o", i, m->mode);
	if (!m->path || m->path[m->len] != '\0')
		fail("member %zu: path not NUL-terminated", i);
	if (m->link && m->link[m->link_len] != '\0')
		fail("member %zu: link not NUL-terminated", i);
	if (!device && (m->devmajor || m->devminor))
		fail("member %zu: device numbers on type %c", i, m->type);
	if (device && m->link)
		fail("member %zu: a link on a device", i);
}

/* What a list read from a tar must be, beyond check_member. */
static void check_tar_list(const struct member_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct member *m = &l->v[i];
		check_member(m, i);
		if (m->len == 0)
			fail("member %zu: empty name", i);
		if ((m->type == '0') != m->hashed)
			fail("member %zu: type %c, hashed %d", i, m->type, m->hashed);
		if (m->type != '0' && m->size)
			fail("member %zu: type %c with size %llu", i, m->type,
			     (unsigned long long)m->size);
		if ((m->type == '1' || m->type == '2') && !m->link)
			fail("member %zu: a link without a target", i);
	}
}

static bool same_member(const struct member *a, const struct member *b)
{
	size_t al = a->link ? a->link_len : 0, bl = b->link ? b->link_len : 0;

	return a->len == b->len && !memcmp(a->path, b->path, a->len) && a->type == b->type &&
	       a->mode == b->mode && a->size == b->size && al == bl &&
	       (!al || !memcmp(a->link, b->link, al)) && a->devmajor == b->devmajor &&
	       a->devminor == b->devminor && a->mtime == b->mtime && a->hashed == b->hashed &&
	       (!a->hashed || !memcmp(a->hash, b->hash, 16));
}

static void same_digests(const struct member_list *a, const struct member_list *b,
			 const char *what)
{
	uint8_t d1[16], d2[16];

	for (int mt = 0; mt < 2; mt++) {
		if (members_digest(a, mt, d1) || members_digest(b, mt, d2))
			fail("%s: members_digest failed", what);
		if (memcmp(d1, d2, 16))
			fail("%s: the digests differ (with_mtime %d)", what, mt);
	}
}

static void same_lists(const struct member_list *a, const struct member_list *b,
		       const char *what)
{
	if (a->n != b->n)
		fail("%s: %zu members, then %zu", what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		if (!same_member(&a->v[i], &b->v[i]))
			fail("%s: member %zu ('%s') differs", what, i, a->v[i].path);
	same_digests(a, b, what);
}

/* A refusal: a documented errno, a message naming the source, no list. */
static void check_refusal(int rc, const struct member_list *l, const char *err, const char *name,
			  const char *what)
{
	size_t n = strlen(name);

	if (rc != -EINVAL && rc != -EFBIG && rc != -ENOTSUP && rc != -ENOMEM && rc != -EIO)
		fail("%s: rc %d (%s)", what, rc, err);
	if (l->n || l->v)
		fail("%s: refused with %zu members left", what, l->n);
	if (strncmp(err, name, n) || (err[n] != ':' && err[n] != ' '))
		fail("%s: message '%s' does not start with '%s'", what, err, name);
}

/* l through both writers and readers: the same list. */
static void round_trip(const struct member_list *l, bool check_cut)
{
	int (*const writers[2])(FILE *, const struct member_list *) = {members_write_tsv,
									 members_write_json};

	for (int w = 0; w < 2; w++) {
		char *text = NULL, err[512] = "";
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		struct member_list back = {0};
		int rc;

		if (!f)
			fail("open_memstream");
		if (writers[w](f, l))
			fail("writer %d refused a list a reader made", w);
		if (fclose(f))
			fail("fclose");
		if (!members_is_manifest(text, len))
			fail("writer %d: not recognized as a manifest", w);
		f = fmemopen(text, len, "r");
		rc = members_from_manifest(&back, f, "m", err, sizeof(err));
		fclose(f);
		if (rc)
			fail("writer %d: read back: %s", w, err);
		same_lists(l, &back, w ? "json round trip" : "tsv round trip");
		member_list_release(&back);
		if (check_cut && w == 0) {
			/* the end line without its newline */
			f = fmemopen(text, len - 1, "r");
			rc = members_from_manifest(&back, f, "m", err, sizeof(err));
			fclose(f);
			if (rc != -EINVAL || !strstr(err, "manifest is cut"))
				fail("tsv cut by one byte: rc %d '%s'", rc, err);
		}
		free(text);
	}
}

static int memfd(void)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-members", MFD_CLOEXEC);
		if (fd < 0)
			fail("memfd_create: %s", strerror(errno));
	}
	return fd;
}

static int read_tar(const uint8_t *data, size_t size, struct member_list *l, char *err,
		    size_t errsz)
{
	int fd = memfd(), dfd, rc;

	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		fail("memfd write: %s", strerror(errno));
	/* members_from_tar closes nothing; libarchive reads from the
	 * current offset of its own descriptor */
	dfd = dup(fd);
	if (dfd < 0)
		fail("dup: %s", strerror(errno));
	if (lseek(dfd, 0, SEEK_SET) != 0)
		fail("lseek");
	err[0] = '\0';
	rc = members_from_tar_limited(l, dfd, "fuzz.tar", &LIMITS, err, errsz);
	close(dfd);
	if (rc)
		check_refusal(rc, l, err, "fuzz.tar", "tar");
	else
		check_tar_list(l);
	return rc;
}

/* data gzip'ed into *out (malloc'd). */
static size_t gzip_of(const uint8_t *data, size_t size, uint8_t **out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = size + size / 8 + 4096, used = 0;

	*out = malloc(cap);
	if (!a || !e || !*out)
		fail("out of memory");
	if (archive_write_set_format_raw(a) || archive_write_add_filter_gzip(a) ||
	    archive_write_set_filter_option(a, "gzip", "compression-level", "1") ||
	    archive_write_open_memory(a, *out, cap, &used))
		fail("gzip: %s", archive_error_string(a));
	archive_entry_set_filetype(e, AE_IFREG);
	if (archive_write_header(a, e) ||
	    (size && archive_write_data(a, data, size) != (la_ssize_t)size) ||
	    archive_write_close(a))
		fail("gzip: %s", archive_error_string(a));
	archive_write_free(a);
	archive_entry_free(e);
	return used;
}

static void fuzz_tar(const uint8_t *data, size_t size)
{
	struct member_list l = {0}, lz = {0};
	char err[1024], errz[1024];
	int rc = read_tar(data, size, &l, err, sizeof(err));

	if (!rc)
		round_trip(&l, true);
	if (size > 0 && data[0] == 0x01) {
		uint8_t *gz;
		size_t n = gzip_of(data + 1, size - 1, &gz);
		int rz = read_tar(gz, n, &lz, errz, sizeof(errz));
		struct member_list raw = {0};
		char errr[1024];
		int rr = read_tar(data + 1, size - 1, &raw, errr, sizeof(errr));
		free(gz);
		/* gzip changes nothing but the messages */
		if ((rz == 0) != (rr == 0))
			fail("plain and gzip'ed disagree: %d '%s', %d '%s'", rr, errr, rz, errz);
		if (!rz)
			same_lists(&raw, &lz, "plain and gzip'ed");
		member_list_release(&raw);
		member_list_release(&lz);
	}
	member_list_release(&l);
}

static void fuzz_manifest(const uint8_t *data, size_t size)
{
	struct member_list l = {0};
	char err[1024] = "";
	FILE *f;
	int rc;

	if (size == 0)
		return;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		fail("fmemopen: %s", strerror(errno));
	rc = members_from_manifest(&l, f, "m", err, sizeof(err));
	fclose(f);
	if (rc) {
		check_refusal(rc, &l, err, "m", "manifest");
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		check_member(&l.v[i], i);
	/* a TSV that reads ends with its end line's newline */
	if (data[0] == '#' && data[size - 1] != '\n')
		fail("a TSV manifest without a final newline was read");
	round_trip(&l, true);
	member_list_release(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_tar(data, size);
	fuzz_manifest(data, size);
	return 0;
}
