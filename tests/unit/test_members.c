/* test_members.c: a context's members (src/members.c).
 *
 * Tars written here with libarchive (ustar, GNU with "./" names, pax,
 * gzip) and by hand (Go's raw PAX records) are read back member for
 * member, hashes against XXH3 of the known content; cut archives and
 * files that are no archive are errors; both manifest formats carry
 * nasty names exactly; the digest moves with every field (mtime only when
 * asked) and is pinned; the diff counts and sorts. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cmocka.h>

#include "members.h"

/* The pinned digests of test_digest_known_answer. */
#define KNOWN_PLAIN "e476e01b12043f6222dcb236a2472644"
#define KNOWN_MTIME "27970ef8bc4baa3a550ba3d37a17fdf9"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

static void hash_of(const void *data, size_t len, uint8_t out[16])
{
	XXH128_canonicalFromHash((XXH128_canonical_t *)out, XXH3_128bits(data, len));
}

/* An anonymous temporary file. */
static int tmpfd(void)
{
	char path[] = "/tmp/test_members.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static int fd_with(const void *data, size_t len)
{
	int fd = tmpfd();

	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

struct ent {
	const char *name;
	unsigned type; /* AE_IF* */
	unsigned mode;
	const char *data; /* regular files */
	size_t size;
	const char *symlink, *hardlink;
	unsigned major, minor;
	int64_t mtime;
};

/* A tar of ents into a new temporary file, read position at 0. */
static int write_tar(int format, int filter, const struct ent *ents, size_t n)
{
	struct archive *a = archive_write_new();
	int fd = tmpfd();

	assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
	if (filter)
		assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_filetype(e, ents[i].type);
		archive_entry_set_perm(e, ents[i].mode);
		archive_entry_set_mtime(e, ents[i].mtime, 0);
		archive_entry_set_size(e, ents[i].type == AE_IFREG && !ents[i].hardlink
						  ? (la_int64_t)ents[i].size
						  : 0);
		if (ents[i].symlink)
			archive_entry_set_symlink(e, ents[i].symlink);
		if (ents[i].hardlink)
			archive_entry_set_hardlink(e, ents[i].hardlink);
		if (ents[i].type == AE_IFCHR || ents[i].type == AE_IFBLK) {
			archive_entry_set_rdevmajor(e, ents[i].major);
			archive_entry_set_rdevminor(e, ents[i].minor);
		}
		/* WARN: a name not convertible to UTF-8 in the C locale,
		 * written with hdrcharset=BINARY */
		assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
		if (ents[i].size && !ents[i].hardlink)
			assert_int_equal(archive_write_data(a, ents[i].data, ents[i].size),
					 (la_ssize_t)ents[i].size);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static off_t fd_size(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_size;
}

static int read_tar(struct member_list *l, int fd, char *err, size_t errsz)
{
	int rc;

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	err[0] = '\0';
	rc = members_from_tar(l, fd, "t.tar", err, errsz);
	close(fd);
	return rc;
}

static void read_tar_ok(struct member_list *l, int fd)
{
	char err[512];

	if (read_tar(l, fd, err, sizeof(err)))
		fail_msg("%s", err);
}

static void expect_tar_error(int fd, const char *what)
{
	struct member_list l = {0};
	char err[512];
	int rc = read_tar(&l, fd, err, sizeof(err));

	if (rc >= 0)
		fail_msg("no error (%zu members)", l.n);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	if (strncmp(err, "t.tar: ", 7) || !strstr(err, what))
		fail_msg("message '%s' lacks 't.tar: ' or '%s'", err, what);
}

static const struct member *find(const struct member_list *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].len == strlen(path) && !memcmp(l->v[i].path, path, l->v[i].len))
			return &l->v[i];
	fail_msg("no member '%s'", path);
	return NULL;
}

static void check_file(const struct member *m, const char *data, size_t len, unsigned mode)
{
	uint8_t h[16];

	assert_int_equal(m->type, '0');
	assert_int_equal(m->size, len);
	assert_int_equal(m->mode, mode);
	assert_true(m->hashed);
	hash_of(data, len, h);
	assert_memory_equal(m->hash, h, 16);
	assert_null(m->link);
}

static void check_link(const struct member *m, char type, const char *target)
{
	assert_int_equal(m->type, type);
	assert_non_null(m->link);
	assert_int_equal(m->link_len, strlen(target));
	assert_memory_equal(m->link, target, m->link_len);
	assert_int_equal(m->link[m->link_len], '\0');
	assert_int_equal(m->size, 0);
	assert_false(m->hashed);
}

static char big[5000];

static void fill_big(void)
{
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 300);
}

/* ---- reading tars ---- */

static void test_tar_ustar_types(void **state)
{
	(void)state;
	struct ent e[] = {
		{.name = "d/", .type = AE_IFDIR, .mode = 0755, .mtime = 1700000000},
		{.name = "d/f",
		 .type = AE_IFREG,
		 .mode = 0644,
		 .data = "hello\n",
		 .size = 6,
		 .mtime = 1700000001},
		{.name = "big", .type = AE_IFREG, .mode = 0600, .data = big, .size = sizeof(big)},
		{.name = "empty", .type = AE_IFREG, .mode = 0444, .data = "", .size = 0},
		{.name = "suid", .type = AE_IFREG, .mode = 04755, .data = "x", .size = 1},
		{.name = "sticky/", .type = AE_IFDIR, .mode = 01777},
		{.name = "l", .type = AE_IFLNK, .mode = 0777, .symlink = "target with spaces"},
		{.name = "h", .type = AE_IFREG, .mode = 0644, .hardlink = "d/f"},
		{.name = "c", .type = AE_IFCHR, .mode = 0620, .major = 1, .minor = 3},
		{.name = "b", .type = AE_IFBLK, .mode = 0660, .major = 8, .minor = 17},
		{.name = "p", .type = AE_IFIFO, .mode = 0600},
	};
	struct member_list l = {0};
	const struct member *m;

	fill_big();
	read_tar_ok(&l, write_tar(ARCHIVE_FORMAT_TAR_USTAR, 0, e, 11));
	assert_int_equal(l.n, 11);
	/* archive order, names normalized */
	assert_string_equal(l.v[0].path, "d");
	assert_int_equal(l.v[0].len, 1);
	assert_string_equal(l.v[5].path, "sticky");
	assert_string_equal(l.v[10].path, "p");

	m = find(&l, "d");
	assert_int_equal(m->type, '5');
	assert_int_equal(m->mode, 0755);
	assert_int_equal(m->mtime, 1700000000);
	assert_false(m->hashed);
	assert_null(m->link);
	m = find(&l, "d/f");
	check_file(m, "hello\n", 6, 0644);
	assert_int_equal(m->mtime, 1700000001);
	check_file(find(&l, "big"), big, sizeof(big), 0600);
	check_file(find(&l, "empty"), "", 0, 0444);
	check_file(find(&l, "suid"), "x", 1, 04755);
	assert_int_equal(find(&l, "sticky")->mode, 01777);
	check_link(find(&l, "l"), '2', "target with spaces");
	check_link(find(&l, "h"), '1', "d/f");
	m = find(&l, "c");
	assert_int_equal(m->type, '3');
	assert_int_equal(m->devmajor, 1);
	assert_int_equal(m->devminor, 3);
	assert_int_equal(m->mode, 0620);
	m = find(&l, "b");
	assert_int_equal(m->type, '4');
	assert_int_equal(m->devmajor, 8);
	assert_int_equal(m->devminor, 17);
	m = find(&l, "p");
	assert_int_equal(m->type, '6');
	assert_int_equal(m->devmajor, 0);
	member_list_release(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
}

/* GNU tar -C dir -cf x.tar . names everything "./...", the root "./". */
static void test_tar_gnu_dot_prefixes(void **state)
{
	(void)state;
	struct ent e[] = {
		{.name = "./", .type = AE_IFDIR, .mode = 0755},
		{.name = "./a", .type = AE_IFREG, .mode = 0644, .data = "aaa", .size = 3},
		{.name = "./d/", .type = AE_IFDIR, .mode = 0700},
		{.name = "./d/b", .type = AE_IFREG, .mode = 0644, .data = "b", .size = 1},
		{.name = "././c", .type = AE_IFREG, .mode = 0644, .data = "c", .size = 1},
		{.name = "./h", .type = AE_IFREG, .mode = 0644, .hardlink = "./d/b"},
		{.name = ".", .type = AE_IFDIR, .mode = 0755},
		{.name = "./s", .type = AE_IFLNK, .mode = 0777, .symlink = "./a/"},
	};
	struct member_list l = {0};

	read_tar_ok(&l, write_tar(ARCHIVE_FORMAT_TAR_GNUTAR, 0, e, 8));
	assert_int_equal(l.n, 6);
	assert_string_equal(l.v[0].path, "a");
	assert_string_equal(l.v[1].path, "d");
	assert_string_equal(l.v[2].path, "d/b");
	assert_string_equal(l.v[3].path, "c");
	assert_string_equal(l.v[4].path, "h");
	assert_string_equal(l.v[5].path, "s");
	check_file(&l.v[0], "aaa", 3, 0644);
	/* a hard link names a member: normalized like one */
	check_link(&l.v[4], '1', "d/b");
	/* a symlink's target is the link's own business: kept as stored */
	check_link(&l.v[5], '2', "./a/");
	member_list_release(&l);
}

/* pax through gzip: long and non-UTF-8 names keep their bytes. */
static void test_tar_pax_gzip(void **state)
{
	(void)state;
	char long_name[300], long_link[256];
	struct ent e[] = {
		{.name = "x\xffy", .type = AE_IFREG, .mode = 0644, .data = "raw", .size = 3},
		{.name = "d\xc3\xa9j\xc3\xa0/", .type = AE_IFDIR, .mode = 0755},
		{.name = long_name, .type = AE_IFREG, .mode = 0644, .data = "long", .size = 4},
		{.name = "l\xfe", .type = AE_IFLNK, .mode = 0777, .symlink = long_link},
		{.name = "tab\tand\nnewline",
		 .type = AE_IFREG,
		 .mode = 0644,
		 .data = big,
		 .size = sizeof(big)},
	};
	struct member_list l = {0};
	int fd;

	fill_big();
	memset(long_name, 'n', sizeof(long_name));
	memcpy(long_name, "dir/", 4);
	long_name[299] = '\0';
	memset(long_link, 't', 255);
	long_link[255] = '\0';
	long_link[10] = '\x80';
	fd = write_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, e, 5);
	{
		unsigned char magic[2];
		assert_int_equal(pread(fd, magic, 2, 0), 2);
		assert_int_equal(magic[0], 0x1f); /* really compressed */
		assert_int_equal(magic[1], 0x8b);
	}
	read_tar_ok(&l, fd);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.v[0].len, 3);
	assert_memory_equal(l.v[0].path, "x\xffy", 3);
	check_file(&l.v[0], "raw", 3, 0644);
	assert_string_equal(l.v[1].path, "d\xc3\xa9j\xc3\xa0");
	assert_int_equal(l.v[2].len, 299);
	assert_string_equal(l.v[2].path, long_name);
	assert_string_equal(l.v[3].path, "l\xfe");
	check_link(&l.v[3], '2', long_link);
	assert_string_equal(l.v[4].path, "tab\tand\nnewline");
	check_file(&l.v[4], big, sizeof(big), 0644);
	member_list_release(&l);
}

/* A sparse member's holes read as zeros: the hash is of the whole file. */
static void test_tar_sparse(void **state)
{
	(void)state;
	static char content[20000];
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct member_list l = {0};
	int fd = tmpfd();

	for (int i = 0; i < 100; i++) {
		content[i] = (char)('a' + i % 26);
		content[5000 + i] = (char)('A' + i % 26);
	}
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
	archive_entry_set_pathname(e, "sparse");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, sizeof(content));
	archive_entry_sparse_add_entry(e, 0, 100);
	archive_entry_sparse_add_entry(e, 5000, 100); /* and a hole to the end */
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, content, sizeof(content)), sizeof(content));
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	assert_true(fd_size(fd) < 4096); /* the holes were left out */
	read_tar_ok(&l, fd);
	assert_int_equal(l.n, 1);
	check_file(&l.v[0], content, sizeof(content), 0644);
	member_list_release(&l);
}

/* Raw tar blocks, as Go's archive/tar writes them. */
static void ustar_header(unsigned char *h, const char *name, char type, size_t size)
{
	unsigned sum = 0;

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	snprintf((char *)h + 124, 12, "%011zo", size);
	memcpy(h + 136, "00000000000", 12);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6); /* and its NUL */
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static size_t pax_member(unsigned char *out, const char *path, const char *data, size_t len)
{
	char rec[600];
	int n = (int)strlen(path) + 7; /* " path=" and "\n" */
	size_t o = 0, rl;

	/* the record's length counts its own digits */
	n += n + 2 >= 100 ? 3 : n + 2 >= 10 ? 2 : 1;
	rl = (size_t)snprintf(rec, sizeof(rec), "%d path=%s\n", n, path);
	assert_int_equal(rl, n);
	ustar_header(out, "PaxHeaders.0/x", 'x', rl);
	memset(out + 512, 0, 512);
	memcpy(out + 512, rec, rl);
	o = 1024;
	ustar_header(out + o, "x", '0', len);
	memset(out + o + 512, 0, 512);
	memcpy(out + o + 512, data, len);
	return o + 1024;
}

/* Go's PAX path records hold the raw bytes without hdrcharset=BINARY:
 * libarchive warns that it cannot convert them, the bytes stay. */
static void test_tar_go_pax_raw_names(void **state)
{
	(void)state;
	unsigned char buf[8192];
	struct member_list l = {0};
	size_t o = 0;

	o += pax_member(buf + o, "x\xffy", "one", 3);
	o += pax_member(buf + o, "d\xc3\xa9", "two", 3);
	memset(buf + o, 0, 1024);
	o += 1024;
	read_tar_ok(&l, fd_with(buf, o));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].path, "x\xffy");
	check_file(&l.v[0], "one", 3, 0644);
	assert_string_equal(l.v[1].path, "d\xc3\xa9");
	check_file(&l.v[1], "two", 3, 0644);
	member_list_release(&l);
}

/* A PAX 0.1 sparse member (GNU.sparse.size, .numblocks, .map records) by
 * hand, data (the chunks back to back) after it; realsize is written as
 * given, so it can be negative or absurd.  Returns the bytes written. */
static size_t pax01_sparse(unsigned char *out, const char *realsize, const char *map,
			   const char *data, size_t len)
{
	char rec[1024], one[256];
	size_t rl = 0, o, nblocks = 1;

	for (const char *p = map; *p; p++)
		nblocks += *p == ',';
	nblocks /= 2;
	{
		const char *keys[] = {"GNU.sparse.size", "GNU.sparse.numblocks", "GNU.sparse.map"};
		char nb[24];
		const char *vals[3] = {realsize, nb, map};
		snprintf(nb, sizeof(nb), "%zu", nblocks);
		for (int i = 0; i < 3; i++) {
			/* the record's length counts its own digits */
			size_t body = strlen(keys[i]) + strlen(vals[i]) + 3, n = body + 1;
			while ((size_t)snprintf(one, sizeof(one), "%zu", n) + body != n)
				n++;
			rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl, "%zu %s=%s\n", n,
					       keys[i], vals[i]);
		}
	}
	ustar_header(out, "PaxHeaders.0/x", 'x', rl);
	memset(out + 512, 0, (rl + 511) / 512 * 512);
	memcpy(out + 512, rec, rl);
	o = 512 + (rl + 511) / 512 * 512;
	ustar_header(out + o, "x", '0', len);
	memset(out + o + 512, 0, (len + 511) / 512 * 512);
	memcpy(out + o + 512, data, len);
	return o + 512 + (len + 511) / 512 * 512;
}

/* One sparse member and the end blocks, as a tar in a temporary file. */
static int sparse_tar(const char *realsize, const char *map, const char *data, size_t len)
{
	static unsigned char buf[16384];
	size_t o = pax01_sparse(buf, realsize, map, data, len);

	memset(buf + o, 0, 1024);
	return fd_with(buf, o + 1024);
}

static void expect_tar_error_limited(int fd, const struct members_tar_limits *lim, int want_rc,
				     const char *what)
{
	struct member_list l = {0};
	char err[512] = "";
	int rc = members_from_tar_limited(&l, fd, "t.tar", lim, err, sizeof(err));

	close(fd);
	if (rc != want_rc)
		fail_msg("rc %d, not %d ('%s')", rc, want_rc, err);
	assert_int_equal(l.n, 0);
	if (!strstr(err, what))
		fail_msg("message '%s' lacks '%s'", err, what);
}

/* Declared sizes cost nothing: a sparse member's holes are hashed only up
 * to a limit, checked before any zero is hashed; exabytes in a few
 * hundred bytes of gzip fail at once. */
static void test_tar_sparse_bounds(void **state)
{
	(void)state;
	static char content[8192];
	const struct members_tar_limits lim = {.member_holes = 4096, .archive_holes = 6000};
	struct member_list l = {0};
	char err[512];
	int fd;

	memcpy(content + 100, "0123456789abcdef", 16);
	/* holes of exactly the limit: 100 before the data, 3996 after */
	fd = sparse_tar("4112", "100,16", "0123456789abcdef", 16);
	assert_int_equal(members_from_tar_limited(&l, fd, "t.tar", &lim, err, sizeof(err)), 0);
	close(fd);
	check_file(&l.v[0], content, 4112, 0644);
	member_list_release(&l);
	/* one byte more: refused, naming the member and the limit */
	expect_tar_error_limited(sparse_tar("4113", "100,16", "0123456789abcdef", 16), &lim,
				 -EFBIG,
				 "t.tar: cannot read member 'x': sparse member declares 4.0 KiB "
				 "(more than ctxpack reads: 4 KiB of holes per member)");
	/* a hole before the data, past the limit */
	expect_tar_error_limited(sparse_tar("8000", "5000,16", "0123456789abcdef", 16), &lim,
				 -EFBIG, "of holes per member");
	/* the archive's holes add up: 4000 + 4000 > 6000 */
	{
		static unsigned char buf[16384];
		size_t o = pax01_sparse(buf, "4016", "0,16", "0123456789abcdef", 16);
		o += pax01_sparse(buf + o, "4016", "0,16", "0123456789abcdef", 16);
		memset(buf + o, 0, 1024);
		expect_tar_error_limited(fd_with(buf, o + 1024), &lim, -EFBIG,
					 "sparse member declares 3.9 KiB (more than ctxpack "
					 "reads: 5.9 KiB of holes per archive)");
	}
	/* With the default limits: realsize, map, and what is said.  Data is
	 * 16 bytes a map entry. */
	static const struct {
		const char *realsize, *map, *what;
	} bad[] = {
		/* an exabyte, and 2 GiB */
		{"1152921504606846976", "0,16",
		 "'x': sparse member declares 1 EiB (more than ctxpack reads: 1 GiB of holes per "
		 "member)"},
		{"2147483648", "0,16", "sparse member declares 2 GiB"},
		{"9223372036854775806", "9223372036854775000,16", "of holes per member"},
		/* past INT64_MAX, which libarchive clamps a decimal size to */
		{"9223372036854775807", "0,16",
		 "cannot read member 'x': size out of range (2^63 - 1 bytes or more)"},
		{"99999999999999999999", "0,16", "cannot read member 'x': size out of range"},
		/* maps libarchive refuses in the header: the member is named */
		{"64", "-1,16", "t.tar: member 'x': a damaged header"},
		{"64", "99999999999999999999,16", "t.tar: member 'x': malformed sparse map data"},
		/* negative, past the size, overlapping, backwards */
		{"-5", "0,16", "cannot read member 'x': negative size -5"},
		{"8", "0,16", "cannot read member 'x': more data than its size"},
		{"64", "0,16,8,16", "data out of order"},
		{"64", "32,16,0,16", "data out of order"},
	};
	static const char data[] = "0123456789abcdef0123456789abcdef";

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		expect_tar_error(sparse_tar(bad[i].realsize, bad[i].map, data,
					    strchr(bad[i].map, ',') != strrchr(bad[i].map, ',')
						    ? 32
						    : 16),
				 bad[i].what);
}

/* The same exabyte in 100-odd bytes of gzip; and a regular member whose
 * header declares an exabyte of data that is not there is cut. */
static void test_tar_sparse_gzip_exabyte(void **state)
{
	(void)state;
	static unsigned char buf[4096], gz[4096];
	size_t o = pax01_sparse(buf, "1152921504606846976", "0,16", "0123456789abcdef", 16);
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t used = 0;

	memset(buf + o, 0, 1024);
	o += 1024;
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, gz, sizeof(gz), &used), ARCHIVE_OK);
	archive_entry_set_filetype(e, AE_IFREG);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, buf, o), (la_ssize_t)o);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	assert_true(used < 300);
	expect_tar_error(fd_with(gz, used), "sparse member declares 1 EiB");

	ustar_header(buf, "x", '0', 0);
	/* size 1 EiB in GNU's base-256 */
	memset(buf + 124, 0, 12);
	buf[124] = 0x80;
	buf[128] = 0x10; /* 2^60 */
	{
		unsigned sum = 0;
		memset(buf + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += buf[i];
		snprintf((char *)buf + 148, 8, "%06o", sum);
	}
	memset(buf + 512, 'd', 512);
	memset(buf + 1024, 0, 1024);
	expect_tar_error(fd_with(buf, 2048), "cannot read member 'x': truncated tar archive");
}

static const struct ent two_files[] = {
	{.name = "first", .type = AE_IFREG, .mode = 0644, .data = big, .size = 3000},
	{.name = "second", .type = AE_IFREG, .mode = 0644, .data = "2222", .size = 4},
};

/* ustar, no filter: "first" header 0..512, data 512..3584, "second" header
 * 3584..4096. */
static void test_tar_cut_in_data(void **state)
{
	(void)state;
	int fd;

	fill_big();
	fd = write_tar(ARCHIVE_FORMAT_TAR_USTAR, 0, two_files, 2);
	assert_int_equal(ftruncate(fd, 512 + 1500), 0);
	expect_tar_error(fd, "'first'");
	/* cut right after the header: no data at all */
	fd = write_tar(ARCHIVE_FORMAT_TAR_USTAR, 0, two_files, 2);
	assert_int_equal(ftruncate(fd, 512), 0);
	expect_tar_error(fd, "'first'");
	/* in the padding after the last member's data */
	fd = write_tar(ARCHIVE_FORMAT_TAR_USTAR, 0, two_files, 2);
	assert_int_equal(ftruncate(fd, 4096 + 100), 0);
	expect_tar_error(fd, "'second'");
}

static void test_tar_cut_in_header(void **state)
{
	(void)state;
	int fd;

	fill_big();
	fd = write_tar(ARCHIVE_FORMAT_TAR_USTAR, 0, two_files, 2);
	assert_int_equal(ftruncate(fd, 3584 + 200), 0);
	expect_tar_error(fd, "after member 'first'");
	/* at a block boundary, where the next header is due: no end mark */
	fd = write_tar(ARCHIVE_FORMAT_TAR_USTAR, 0, two_files, 2);
	assert_int_equal(ftruncate(fd, 3584), 0);
	expect_tar_error(fd, "after member 'first': no end-of-archive blocks");
	/* half of the end mark's first block */
	fd = write_tar(ARCHIVE_FORMAT_TAR_USTAR, 0, two_files, 2);
	assert_int_equal(ftruncate(fd, 4608 + 256), 0);
	expect_tar_error(fd, "after member 'second'");
	/* in the first header */
	fd = write_tar(ARCHIVE_FORMAT_TAR_USTAR, 0, two_files, 2);
	assert_int_equal(ftruncate(fd, 300), 0);
	expect_tar_error(fd, "t.tar: ");
}

/* Any cut of a gzip'ed tar short of its end is an error. */
static void test_tar_cut_gzip(void **state)
{
	(void)state;
	int fd;
	off_t full;

	fill_big();
	fd = write_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, two_files, 2);
	full = fd_size(fd);
	assert_int_equal(ftruncate(fd, full / 2), 0);
	expect_tar_error(fd, "t.tar: ");
	fd = write_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, two_files, 2);
	assert_int_equal(ftruncate(fd, full - 4), 0); /* the gzip trailer */
	expect_tar_error(fd, "t.tar: ");
}

/* A compressed stream cut short says so, naming the compression, whether
 * the cut comes before the first header or inside a member. */
static void test_tar_cut_compressed_says_cut(void **state)
{
	(void)state;
	static const struct {
		int filter;
		const char *what;
	} f[] = {
		{ARCHIVE_FILTER_GZIP, "the gzip stream is cut (truncated gzip input)"},
		{ARCHIVE_FILTER_ZSTD, "the zstd stream is cut (truncated zstd input)"},
		{ARCHIVE_FILTER_BZIP2, "the bzip2 stream is cut (truncated bzip2 input)"},
		{ARCHIVE_FILTER_XZ, "the xz stream is cut (lzma library error: no progress is "
				    "possible)"},
	};
	/* zstd decompresses whole 128 KiB blocks: enough of them that half
	 * of the stream holds some; bzip2's 900 kB blocks never do */
	static char noise[600000], tar[700000];
	struct ent e = {.name = "noise", .type = AE_IFREG, .mode = 0644, .data = noise};
	uint32_t x = 2463534242u; /* xorshift: no compressor shrinks it */

	for (size_t i = 0; i < sizeof(noise); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		noise[i] = (char)(x >> 24);
	}
	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		int fd;
		ssize_t full;
		char want[160];
		e.size = f[i].filter == ARCHIVE_FILTER_ZSTD ? sizeof(noise) : sizeof(noise) / 4;
		fd = write_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, f[i].filter, &e, 1);
		full = read(fd, tar, sizeof(tar));
		close(fd);
		assert_true(full > 0 && full < (ssize_t)sizeof(tar));
		snprintf(want, sizeof(want), "t.tar: %s", f[i].what);
		expect_tar_error(fd_with(tar, 40), want);
		snprintf(want, sizeof(want), "t.tar: %s%s",
			 f[i].filter == ARCHIVE_FILTER_BZIP2 ? "" : "cannot read member 'noise': ",
			 f[i].what);
		expect_tar_error(fd_with(tar, (size_t)full / 2), want);
	}
}

/* Every cut of a tar, plain and compressed: an error or every member,
 * never fewer.  Plain, the end mark's first block decides: members end at
 * 4608 (see test_tar_cut_in_data), so a cut before 5120 is an error. */
static void every_cut(int filter, off_t must_fail_below)
{
	unsigned char full[16384];
	ssize_t len;
	int fd;

	fd = write_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, filter, two_files, 2);
	len = read(fd, full, sizeof(full));
	assert_true(len > 0 && len < (ssize_t)sizeof(full));
	close(fd);
	for (ssize_t cut = 0; cut <= len; cut++) {
		struct member_list l = {0};
		char err[512];
		int rc = read_tar(&l, fd_with(full, (size_t)cut), err, sizeof(err));
		if (rc == 0 && l.n != 2)
			fail_msg("cut at %zd: %zu members and no error", cut, l.n);
		if (rc == 0 && cut < must_fail_below)
			fail_msg("cut at %zd: no error", cut);
		if (rc < 0 && strncmp(err, "t.tar: ", 7))
			fail_msg("cut at %zd: message '%s'", cut, err);
		if (rc == 0)
			check_file(&l.v[1], "2222", 4, 0644);
		member_list_release(&l);
	}
}

static void test_tar_every_cut(void **state)
{
	(void)state;
	fill_big();
	every_cut(0, 5120);
	every_cut(ARCHIVE_FILTER_GZIP, 0);
	every_cut(ARCHIVE_FILTER_XZ, 0);
}

/* ctxpack's tar writer ends a given-up stream with a message inside a
 * block: the members before it must not pass for a complete archive. */
static void test_tar_given_up_tail(void **state)
{
	(void)state;
	static const char tail[] = "ctxpack: archive given up: 'f' changed size";
	unsigned char buf[2048 + sizeof(tail)];
	struct member_list l = {0};
	char err[512];

	ustar_header(buf, "ok", '0', 2);
	memset(buf + 512, 0, 512);
	memcpy(buf + 512, "ok", 2);
	memcpy(buf + 1024, tail, sizeof(tail));
	assert_true(read_tar(&l, fd_with(buf, 1024 + sizeof(tail)), err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "after member 'ok'"));
	assert_int_equal(l.n, 0);
}

static void test_not_a_tar(void **state)
{
	(void)state;
	static const char text[] = "FROM scratch\nCOPY . /\n";
	/* mtree, a text format libarchive also reads: not accepted */
	static const char mtree[] = "a type=file\nb type=dir\n";
	static const char mtree2[] = "#mtree\n./etc/passwd type=file\n";
	unsigned char zeros[600] = {0};

	expect_tar_error(fd_with(text, strlen(text)), "not a tar archive");
	expect_tar_error(fd_with(mtree, strlen(mtree)), "not a tar archive");
	expect_tar_error(fd_with(mtree2, strlen(mtree2)), "not a tar archive");
	expect_tar_error(fd_with("", 0), "not a tar archive");
	expect_tar_error(fd_with(zeros, 100), "not a tar archive");
}

/* An archive without members is an empty context, not an error. */
static void test_tar_no_members(void **state)
{
	(void)state;
	struct member_list l = {0};
	const struct ent root[] = {{.name = "./", .type = AE_IFDIR, .mode = 0755}};

	read_tar_ok(&l, write_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, 0, NULL, 0));
	assert_int_equal(l.n, 0);
	member_list_release(&l);
	read_tar_ok(&l, write_tar(ARCHIVE_FORMAT_TAR_USTAR, 0, root, 1));
	assert_int_equal(l.n, 0);
	member_list_release(&l);
}

/* Tar only: another archive format libarchive reads is still no context. */
static void test_other_formats_refused(void **state)
{
	(void)state;
	const struct ent e[] = {
		{.name = "f", .type = AE_IFREG, .mode = 0644, .data = "f", .size = 1}};

	expect_tar_error(write_tar(ARCHIVE_FORMAT_CPIO_SVR4_NOCRC, 0, e, 1), "not a tar archive");
	expect_tar_error(write_tar(ARCHIVE_FORMAT_ZIP, 0, e, 1), "not a tar archive");
}

/* ---- manifests ---- */

static void add(struct member_list *l, char type, const char *path, size_t len, uint32_t mode,
		const char *content, size_t size, const char *link, size_t link_len)
{
	struct member m = {.path = (char *)path, .len = len, .type = type, .mode = mode};

	if (type == '0') {
		m.size = size;
		if (content) {
			hash_of(content, size, m.hash);
			m.hashed = true;
		}
	}
	m.link = (char *)link;
	m.link_len = link_len;
	m.mtime = 1700000000;
	assert_int_equal(member_list_add(l, &m), 0);
}

#define S(s) s, sizeof(s) - 1

static char name255[256];

/* Every kind of member and every name the escapes must carry. */
static void nasty_list(struct member_list *l)
{
	struct member *m;

	memset(name255, 'a', 255);
	name255[0] = '\xff';
	name255[254] = '\t';
	add(l, '5', S("dir"), 0755, NULL, 0, NULL, 0);
	add(l, '0', S("dir/plain.txt"), 0644, "hello", 5, NULL, 0);
	add(l, '0', S("tab\there"), 0644, "t", 1, NULL, 0);
	add(l, '0', S("new\nline\r\n"), 0600, "", 0, NULL, 0);
	add(l, '0', S("back\\slash\\x41\\t\\"), 04755, "b", 1, NULL, 0);
	add(l, '0', S("invalid\xff\xfe end"), 0644, "i", 1, NULL, 0);
	add(l, '0', S("cut \xc3"), 0644, "c", 1, NULL, 0);
	add(l, '0', S("surrogate \xed\xa0\x80 big \xf4\x90\x80\x80"), 0644, "s", 1, NULL, 0);
	add(l, '0', S("utf8 \xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80"), 0644, "u", 1, NULL, 0);
	add(l, '0', S("ctl\x01\x1f\x7f \"quoted\" /slash"), 0644, "q", 1, NULL, 0);
	add(l, '0', S("nul\0inside"), 0644, "n", 1, NULL, 0);
	add(l, '0', S(" lead and trail "), 0644, "w", 1, NULL, 0);
	add(l, '0', S("-"), 0644, "-", 1, NULL, 0);
	add(l, '0', S("#not a comment"), 0644, "#", 1, NULL, 0);
	add(l, '0', name255, 255, 0644, "long", 4, NULL, 0);
	add(l, '0', S("unhashed"), 0644, NULL, 12345, NULL, 0);
	add(l, '0', S("huge"), 0644, NULL, 0, NULL, 0);
	l->v[l->n - 1].size = UINT64_MAX;
	add(l, '2', S("sym"), 0777, NULL, 0, S("target with spaces"));
	add(l, '2', S("sym-empty"), 0777, NULL, 0, "", 0);
	add(l, '2', S("sym-nasty"), 0777, NULL, 0, S("../up\tand\\down\n\xff"));
	add(l, '1', S("hard"), 0644, NULL, 0, S("dir/plain.txt"));
	add(l, '3', S("null"), 0666, NULL, 0, NULL, 0);
	m = &l->v[l->n - 1];
	m->devmajor = 1;
	m->devminor = 3;
	add(l, '4', S("disk"), 0660, NULL, 0, NULL, 0);
	m = &l->v[l->n - 1];
	m->devmajor = UINT32_MAX;
	m->devminor = 7;
	add(l, '6', S("fifo"), 0, NULL, 0, NULL, 0);
	add(l, '5', S("all-bits"), 07777, NULL, 0, NULL, 0);
	l->v[0].mtime = -1;
	l->v[1].mtime = 0;
	l->v[2].mtime = INT64_MIN;
	l->v[3].mtime = INT64_MAX;
	add(l, '0', S(""), 0644, "empty name", 10, NULL, 0);
}

static void assert_lists_equal(const struct member_list *a, const struct member_list *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct member *x = &a->v[i], *y = &b->v[i];
		if (x->len != y->len || memcmp(x->path, y->path, x->len))
			fail_msg("member %zu: path differs", i);
		assert_int_equal(y->path[y->len], '\0');
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->mode, y->mode);
		assert_int_equal(x->size, y->size);
		assert_int_equal(x->mtime, y->mtime);
		assert_int_equal(x->devmajor, y->devmajor);
		assert_int_equal(x->devminor, y->devminor);
		assert_int_equal(x->hashed, y->hashed);
		if (x->hashed)
			assert_memory_equal(x->hash, y->hash, 16);
		if (!x->link != !y->link)
			fail_msg("member %zu: link %s on one side", i,
				 x->link ? "missing" : "added");
		if (x->link) {
			assert_int_equal(x->link_len, y->link_len);
			assert_memory_equal(x->link, y->link, x->link_len);
			assert_int_equal(y->link[y->link_len], '\0');
		}
	}
}

/* Writes l with write, reads it back; returns the text (free it). */
static char *round_trip(const struct member_list *l,
			int (*write)(FILE *, const struct member_list *), struct member_list *back)
{
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint8_t d1[16], d2[16];

	assert_non_null(f);
	assert_int_equal(write(f, l), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(members_is_manifest(text, len < 32 ? len : 32));
	f = fmemopen(text, len, "r");
	assert_non_null(f);
	if (members_from_manifest(back, f, "m", err, sizeof(err)))
		fail_msg("%s", err);
	fclose(f);
	assert_lists_equal(l, back);
	members_digest(l, false, d1);
	members_digest(back, false, d2);
	assert_memory_equal(d1, d2, 16);
	members_digest(l, true, d1);
	members_digest(back, true, d2);
	assert_memory_equal(d1, d2, 16);
	return text;
}

static void test_tsv_round_trip(void **state)
{
	(void)state;
	struct member_list l = {0}, back = {0};
	char *text;

	nasty_list(&l);
	text = round_trip(&l, members_write_tsv, &back);
	/* one line per member between the header and the end line; the
	 * escapes as documented */
	{
		size_t lines = 0;
		char end[64];
		for (char *p = text; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, l.n + 2);
		snprintf(end, sizeof(end), "\n# end of ctxpack manifest v2\t%zu\n", l.n);
		assert_int_equal(strcmp(text + strlen(text) - strlen(end), end), 0);
	}
	assert_non_null(strstr(text, "\tback\\\\slash\\\\x41\\\\t\\\\\t\n"));
	assert_non_null(strstr(text, "\ttab\\there\t\n"));
	assert_non_null(strstr(text, "\tnew\\nline\\r\\n\t\n"));
	assert_non_null(strstr(text, "\tinvalid\\xff\\xfe end\t\n"));
	assert_non_null(strstr(text, "\tsurrogate \\xed\\xa0\\x80 big \\xf4\\x90\\x80\\x80\t\n"));
	assert_non_null(strstr(text, "\tutf8 \xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\t\n"));
	assert_non_null(strstr(text, "\tctl\\x01\\x1f\\x7f \"quoted\" /slash\t\n"));
	assert_non_null(strstr(text, "\tnul\\x00inside\t\n"));
	assert_non_null(strstr(text, "\n2\t0777\t0\t-\t1700000000\tsym-empty\t\n"));
	assert_non_null(strstr(text, "\tsym-nasty\t../up\\tand\\\\down\\n\\xff\n"));
	assert_non_null(strstr(text, "\n3\t0666\t0\t-\t1700000000\tnull\t1,3\n"));
	assert_non_null(strstr(text, "\n4\t0660\t0\t-\t1700000000\tdisk\t4294967295,7\n"));
	assert_non_null(strstr(text, "\n0\t0644\t18446744073709551615\t-\t1700000000\thuge\t\n"));
	assert_non_null(strstr(text, "\t-9223372036854775808\t"));
	free(text);
	member_list_release(&back);
	member_list_release(&l);
}

/* A TSV manifest cut anywhere, at a line boundary or inside a line, the
 * end line's included, is refused as cut: never a shorter list. */
static void test_tsv_every_cut(void **state)
{
	(void)state;
	struct member_list l = {0}, back = {0};
	char *text;
	size_t len, boundaries = 0;

	nasty_list(&l);
	text = round_trip(&l, members_write_tsv, &back);
	member_list_release(&back);
	len = strlen(text);
	for (size_t cut = 1; cut < len; cut++) {
		char err[256] = "";
		FILE *f = fmemopen(text, cut, "r");
		int rc = members_from_manifest(&back, f, "m", err, sizeof(err));
		fclose(f);
		if (rc != -EINVAL || back.n)
			fail_msg("cut at %zu of %zu: rc %d, %zu members", cut, len, rc, back.n);
		if (!strstr(err, "manifest is cut"))
			fail_msg("cut at %zu: '%s'", cut, err);
		if (text[cut - 1] == '\n') {
			char want[64];
			snprintf(want, sizeof(want), "m:%zu: manifest is cut: no end line",
				 ++boundaries + 1);
			if (strcmp(err, want))
				fail_msg("cut at line %zu: '%s'", boundaries, err);
		}
	}
	assert_int_equal(boundaries, l.n + 1);
	free(text);
	member_list_release(&l);
	/* the empty list: the header and the end line */
	text = round_trip(&l, members_write_tsv, &back);
	assert_string_equal(text, "# ctxpack manifest v2\ttype\tmode\tsize\txxh3-128\tmtime\tpath"
				  "\tlink\n# end of ctxpack manifest v2\t0\n");
	assert_int_equal(back.n, 0);
	free(text);
}

static void test_json_round_trip(void **state)
{
	(void)state;
	struct member_list l = {0}, back = {0};
	char *text;

	nasty_list(&l);
	text = round_trip(&l, members_write_json, &back);
	{
		static const char start[] = "{\"manifest\":1,\"members\":[\n{\"path\":\"dir\",";
		assert_int_equal(strncmp(text, start, strlen(start)), 0);
	}
	assert_non_null(strstr(text, "\"path\":\"invalid\\udcff\\udcfe end\""));
	assert_non_null(strstr(text, "\"path\":\"tab\\u0009here\""));
	assert_non_null(strstr(text, "\"path\":\"nul\\u0000inside\""));
	assert_non_null(
		strstr(text, "\"path\":\"ctl\\u0001\\u001f\\u007f \\\"quoted\\\" /slash\""));
	assert_non_null(strstr(text, "\"path\":\"utf8 \xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\""));
	assert_non_null(strstr(text, "\"type\":\"symlink\",\"mode\":\"0777\",\"size\":0,"
				     "\"xxh3_128\":null,\"mtime\":1700000000,\"link\":\"\"}"));
	assert_non_null(strstr(text, "\"link\":\"dir/plain.txt\"}"));
	assert_non_null(strstr(text, "\"type\":\"block\",\"mode\":\"0660\",\"size\":0,"
				     "\"xxh3_128\":null,\"mtime\":1700000000,"
				     "\"devmajor\":4294967295,\"devminor\":7}"));
	assert_non_null(strstr(text, "\n]}\n"));
	free(text);
	member_list_release(&back);
	member_list_release(&l);
}

/* A tar read back through both manifests: one list, one digest. */
static void test_tar_to_manifests(void **state)
{
	(void)state;
	struct ent e[] = {
		{.name = "./", .type = AE_IFDIR, .mode = 0755},
		{.name = "./x\xffy", .type = AE_IFREG, .mode = 0644, .data = "raw", .size = 3},
		{.name = "./d/", .type = AE_IFDIR, .mode = 0755},
		{.name = "./d/l", .type = AE_IFLNK, .mode = 0777, .symlink = "../x\xffy"},
		{.name = "./d/h", .type = AE_IFREG, .mode = 0644, .hardlink = "./x\xffy"},
	};
	struct member_list l = {0}, b1 = {0}, b2 = {0};

	read_tar_ok(&l, write_tar(ARCHIVE_FORMAT_TAR_GNUTAR, 0, e, 5));
	assert_int_equal(l.n, 4);
	free(round_trip(&l, members_write_tsv, &b1));
	free(round_trip(&l, members_write_json, &b2));
	member_list_release(&b1);
	member_list_release(&b2);
	member_list_release(&l);
}

/* The JSON reader takes any whitespace and key order, and \u escapes. */
static void test_json_reader_liberal(void **state)
{
	(void)state;
	static const char doc[] =
		"\n\n  {\r\n \"members\" : [ { \"mtime\" : -5 , \"xxh3_128\" : null ,\n"
		"\"size\":0,\"mode\":\"0755\",\"type\":\"dir\",\"path\":\"d\\u00e9\\/\\ud83d\\ude00\"},"
		"\t{\"link\":\"\\udcff\\t\",\"type\":\"symlink\",\"path\":\"s\",\"mode\":\"0777\","
		"\"size\":0,\"xxh3_128\":null,\"mtime\":0},"
		"{\"devminor\":2,\"devmajor\":1,\"path\":\"c\",\"type\":\"char\",\"mode\":\"0600\","
		"\"size\":0,\"xxh3_128\":null,\"mtime\":0},"
		"{\"path\":\"f\",\"type\":\"file\",\"mode\":\"0644\",\"size\":3,"
		"\"xxh3_128\":\"000102030405060708090A0B0C0D0E0F\",\"mtime\":9}"
		"] ,\"manifest\" : 1 }\n\n";
	struct member_list l = {0};
	char err[256];
	FILE *f = fmemopen((void *)doc, strlen(doc), "r");

	/* detection wants "manifest" as the first key (as written); the
	 * reader takes any order */
	assert_false(members_is_manifest(doc, 32));
	if (members_from_manifest(&l, f, "m.json", err, sizeof(err)))
		fail_msg("%s", err);
	fclose(f);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].path, "d\xc3\xa9/\xf0\x9f\x98\x80");
	assert_int_equal(l.v[0].type, '5');
	assert_int_equal(l.v[0].mode, 0755);
	assert_int_equal(l.v[0].mtime, -5);
	assert_null(l.v[0].link);
	check_link(&l.v[1], '2', "\xff\t");
	assert_int_equal(l.v[2].type, '3');
	assert_int_equal(l.v[2].devmajor, 1);
	assert_int_equal(l.v[2].devminor, 2);
	assert_true(l.v[3].hashed);
	for (int i = 0; i < 16; i++)
		assert_int_equal(l.v[3].hash[i], i);
	member_list_release(&l);
}

static void expect_manifest_error(const char *doc, const char *what)
{
	struct member_list l = {0};
	char err[256] = "";
	FILE *f = fmemopen((void *)doc, strlen(doc), "r");
	int rc;

	assert_non_null(f);
	rc = members_from_manifest(&l, f, "m", err, sizeof(err));
	fclose(f);
	if (rc != -EINVAL)
		fail_msg("'%s': rc %d, not -EINVAL", doc, rc);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	if (!strstr(err, what))
		fail_msg("message '%s' lacks '%s'", err, what);
}

#define H "# ctxpack manifest v2\ttype\tmode\tsize\txxh3-128\tmtime\tpath\tlink\n"
#define END "# end of ctxpack manifest v2\t"
#define OK "0\t0644\t1\t-\t0\tok\t\n"

static void test_manifest_errors(void **state)
{
	(void)state;
	expect_manifest_error("", "m:1: not a ctxpack manifest");
	expect_manifest_error("hello\n", "m:1: not a ctxpack manifest");
	expect_manifest_error(" " H, "m:1: not a ctxpack manifest");
	expect_manifest_error("# ctxpack manifest v3\n", "m:1: unsupported manifest version");
	expect_manifest_error("# ctxpack manifest v2\ttype\n", "m:1: unexpected columns");
	/* v1 had no end line: refused, never read as whole */
	expect_manifest_error("# ctxpack manifest v1\ttype\tmode\tsize\txxh3-128\tmtime\tpath"
			      "\tlink\n" OK,
			      "m:1: unsupported manifest version 1 (it has no end line; write the "
			      "manifest again)");
	expect_manifest_error("# ctxpack manifest v2\ttype\tmo",
			      "m:1: manifest is cut in its header");
	expect_manifest_error(H, "m:2: manifest is cut: no end line");
	expect_manifest_error(H OK OK, "m:4: manifest is cut: no end line");
	expect_manifest_error(H OK "0\t0644\t1\t-\t0\tp", "m:3: manifest is cut: no end line "
			      "(line 3 has no newline)");
	expect_manifest_error(H OK END "1",
			      "m:3: manifest is cut: no end line (line 3 has no newline)");
	expect_manifest_error(H OK END "2\n",
			      "m:3: the end line counts 2 members, the manifest holds 1");
	expect_manifest_error(H OK END "0\n", "m:3: the end line counts 0 members");
	expect_manifest_error(H OK END "01\n", "m:3: bad end line");
	expect_manifest_error(H OK END "1\n" OK, "m:4: a line after the end line");
	expect_manifest_error(H OK END "1\n\n", "m:4: a line after the end line");
	expect_manifest_error(H "# a comment\n" OK END "1\n", "m:2: bad end line '# a comment'");
	expect_manifest_error(H END "\n", "m:2: bad end line");
	expect_manifest_error(H OK "9\t0644\t1\t-\t0\tp\t\n", "m:3: unknown type '9'");
	expect_manifest_error(H OK OK "0\t644\t1\t-\t0\tp\t\n", "m:4: bad mode '644'");
	expect_manifest_error(H "0\t0648\t1\t-\t0\tp\t\n", "m:2: bad mode '0648'");
	expect_manifest_error(H "0\t0644\t-1\t-\t0\tp\t\n", "m:2: bad size '-1'");
	expect_manifest_error(H "0\t0644\t18446744073709551616\t-\t0\tp\t\n", "m:2: bad size");
	expect_manifest_error(H "0\t0644\t1\tabc\t0\tp\t\n", "m:2: bad hash 'abc'");
	expect_manifest_error(H "0\t0644\t1\t-\tx\tp\t\n", "m:2: bad mtime 'x'");
	expect_manifest_error(H "0\t0644\t1\t-\t0\tp\n", "m:2: 6 fields where 7 are needed");
	expect_manifest_error(H "0\t0644\t1\t-\t0\tp\t\t\n", "m:2: more than 7 fields");
	expect_manifest_error(H "0\t0644\t1\t-\t0\tp\\q\t\n",
			      "m:2: unknown escape '\\q' in the path");
	expect_manifest_error(H "0\t0644\t1\t-\t0\tp\\x4\t\n", "m:2: bad escape '\\x' in the path");
	expect_manifest_error(H "0\t0644\t1\t-\t0\tp\\\t\n", "m:2: '\\' at the end of the path");
	expect_manifest_error(H "0\t0644\t1\t-\t0\tp\r\t\n",
			      "m:2: unescaped control character 0x0d");
	expect_manifest_error(H "3\t0644\t0\t-\t0\tc\t1\n", "m:2: bad device numbers '1'");
	expect_manifest_error(H OK "\n", "m:3: empty line");
	expect_manifest_error("{\"manifest\":2,\"members\":[]}",
			      "m:1: unsupported manifest version 2");
	expect_manifest_error("{\"manifest\":1}", "manifest without 'members'");
	expect_manifest_error("{\"members\":[]}", "manifest without 'manifest'");
	expect_manifest_error("{\"manifest\":1,\"members\":[]} x", "m:1: 'x' after the manifest");
	expect_manifest_error("{\"manifest\":1,\n\"members\":[\n{\"path\":\"a\"}]}",
			      "m:3: member without 'type'");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"a\",\"bogus\":1}]}",
			      "unknown key 'bogus'");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"a\",\"path\":\"b\"}]}",
			      "duplicate key 'path'");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"a\\ud800\"}]}",
			      "lone surrogate");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"a\\udc10\"}]}",
			      "lone surrogate");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"a\n\"}]}",
			      "unescaped control character");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"a}]}",
			      "unterminated string");
	expect_manifest_error("{\"manifest\":1.0,\"members\":[]}", "'manifest' is not an integer");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"s\",\"type\":\"symlink\","
			      "\"mode\":\"0777\",\"size\":0,\"xxh3_128\":null,\"mtime\":0}]}",
			      "m:1: symlink without 'link'");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"c\",\"type\":\"char\","
			      "\"mode\":\"0777\",\"size\":0,\"xxh3_128\":null,\"mtime\":0}]}",
			      "device without 'devmajor' and 'devminor'");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"c\",\"type\":\"file\","
			      "\"mode\":\"0777\",\"size\":01,\"xxh3_128\":null,\"mtime\":0}]}",
			      "bad 'size' value");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"c\",\"type\":\"socket\"}]}",
			      "unknown type 'socket'");
	expect_manifest_error("{\"manifest\":1,\"members\":[{\"path\":\"c\",\"xxh3_128\":nul}]}",
			      "bad literal");
	expect_manifest_error("{\"manifest\":1,\"members\":[", "found the end of the file");
}

static void test_writers_refuse_bad_lists(void **state)
{
	(void)state;
	struct member_list l = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	add(&l, 'x', S("bad type"), 0644, NULL, 0, NULL, 0);
	assert_int_equal(members_write_tsv(f, &l), -EINVAL);
	assert_int_equal(members_write_json(f, &l), -EINVAL);
	l.v[0].type = '0';
	l.v[0].mode = 010644;
	assert_int_equal(members_write_tsv(f, &l), -EINVAL);
	l.v[0].mode = 0644;
	l.v[0].devmajor = 1;
	assert_int_equal(members_write_json(f, &l), -EINVAL);
	l.v[0].devmajor = 0;
	assert_int_equal(members_write_tsv(f, &l), 0);
	fclose(f);
	assert_string_equal(text, H "0\t0644\t0\t-\t1700000000\tbad type\t\n" END "1\n");
	free(text);
	member_list_release(&l);
}

static void test_is_manifest(void **state)
{
	(void)state;
	assert_true(members_is_manifest(S(H)));
	assert_true(members_is_manifest(S("# ctxpack manifest v9")));
	assert_true(members_is_manifest(S("{\"manifest\":1")));
	assert_true(members_is_manifest(S(" \n\t{ \r\n\"manifest\": 1")));
	assert_false(members_is_manifest(S("# ctxpack manifest")));
	assert_false(members_is_manifest(S("{\"members\":[],\"manifest\":1}")));
	assert_false(members_is_manifest(S("{\"manif")));
	assert_false(members_is_manifest(S("ustar")));
	assert_false(members_is_manifest("", 0));
	assert_false(members_is_manifest(S("\x1f\x8b\x08\x00")));
}

/* ---- the digest ---- */

static void base_list(struct member_list *l)
{
	add(l, '5', S("d"), 0755, NULL, 0, NULL, 0);
	add(l, '0', S("d/f"), 0644, "hello", 5, NULL, 0);
	add(l, '2', S("l"), 0777, NULL, 0, S("d/f"));
	add(l, '3', S("c"), 0666, NULL, 0, NULL, 0);
	l->v[3].devmajor = 1;
	l->v[3].devminor = 3;
}

static void digest_of(const struct member_list *l, bool with_mtime, uint8_t d[16])
{
	members_digest(l, with_mtime, d);
}

static void test_digest_fields(void **state)
{
	(void)state;
	struct member_list l = {0};
	uint8_t d0[16], d[16], dm[16], seen[32][16];
	size_t nseen = 0;
	struct member tmp;

	base_list(&l);
	digest_of(&l, false, d0);
	digest_of(&l, true, dm);
	assert_memory_not_equal(d0, dm, 16); /* the two kinds never meet */
	memcpy(seen[nseen++], d0, 16);
	memcpy(seen[nseen++], dm, 16);

#define CHANGED(stmt, undo)                                                                        \
	do {                                                                                       \
		stmt;                                                                              \
		digest_of(&l, false, d);                                                           \
		for (size_t k_ = 0; k_ < nseen; k_++)                                              \
			if (!memcmp(d, seen[k_], 16))                                              \
				fail_msg("'%s' leaves the digest as before", #stmt);               \
		memcpy(seen[nseen++], d, 16);                                                      \
		undo;                                                                              \
		digest_of(&l, false, d);                                                           \
		assert_memory_equal(d, d0, 16);                                                    \
	} while (0)

	CHANGED(l.v[1].path[2] = 'g', l.v[1].path[2] = 'f');
	CHANGED(l.v[1].len = 2, l.v[1].len = 3); /* "d/" */
	CHANGED(l.v[1].mode = 0645, l.v[1].mode = 0644);
	CHANGED(l.v[1].mode = 04644, l.v[1].mode = 0644);
	CHANGED(l.v[1].size = 6, l.v[1].size = 5);
	CHANGED(l.v[1].type = '1', l.v[1].type = '0');
	CHANGED(l.v[1].hash[15] ^= 1, l.v[1].hash[15] ^= 1);
	CHANGED(l.v[1].hashed = false, l.v[1].hashed = true);
	CHANGED(l.v[2].link[0] = 'e', l.v[2].link[0] = 'd');
	CHANGED(l.v[2].link_len = 2, l.v[2].link_len = 3);
	CHANGED(l.v[3].devmajor = 2, l.v[3].devmajor = 1);
	CHANGED(l.v[3].devminor = 4, l.v[3].devminor = 3);
	/* reordered */
	CHANGED((tmp = l.v[0], l.v[0] = l.v[1], l.v[1] = tmp),
		(tmp = l.v[0], l.v[0] = l.v[1], l.v[1] = tmp));
	/* removed (the last member, then the first) */
	CHANGED(l.n--, l.n++);
	CHANGED((tmp = l.v[0], l.v++, l.n--), (l.v--, l.n++, l.v[0] = tmp));
	/* the boundary between path and link moves: "l" -> "d/f" vs "ld" -> "/f" */
	{
		char *orig = l.v[2].path, ld[] = "ld";
		CHANGED((l.v[2].path = ld, l.v[2].len = 2, l.v[2].link += 1, l.v[2].link_len = 2),
			(l.v[2].path = orig, l.v[2].len = 1, l.v[2].link -= 1,
			 l.v[2].link_len = 3));
	}
	assert_string_equal(l.v[2].path, "l");

	/* mtime: only with_mtime sees it */
	l.v[1].mtime++;
	digest_of(&l, false, d);
	assert_memory_equal(d, d0, 16);
	digest_of(&l, true, d);
	assert_memory_not_equal(d, dm, 16);
	l.v[1].mtime--;
	digest_of(&l, true, d);
	assert_memory_equal(d, dm, 16);

	/* a member added */
	add(&l, '6', S("p"), 0644, NULL, 0, NULL, 0);
	digest_of(&l, false, d);
	assert_memory_not_equal(d, d0, 16);
	/* the empty list is no list's digest but its own */
	{
		struct member_list empty = {0};
		uint8_t de[16];
		digest_of(&empty, false, de);
		assert_memory_not_equal(de, d0, 16);
	}
	/* a NULL link and an empty one are the same (no target) */
	l.n--;
	free(l.v[l.n].path);
	free(l.v[l.n].link);
	free(l.v[0].link);
	l.v[0].link = strdup("");
	l.v[0].link_len = 0;
	digest_of(&l, false, d);
	assert_memory_equal(d, d0, 16);
	member_list_release(&l);
#undef CHANGED
}

/* Pinned: this value changes only when the digest's serialization
 * (docs/digest.md) changes, and such a change is a format version change
 * ("ctxpack-digest-v2"), never an edit of this constant. */
static void test_digest_known_answer(void **state)
{
	(void)state;
	struct member_list l = {0};
	uint8_t d[16];
	char s[42];

	add(&l, '5', S("d"), 0755, NULL, 0, NULL, 0);
	add(&l, '0', S("d/f"), 0644, "hello", 5, NULL, 0);
	add(&l, '2', S("l"), 0777, NULL, 0, S("d/f"));
	members_digest(&l, false, d);
	members_digest_string(d, s);
	assert_string_equal(s, "xxh3-128:" KNOWN_PLAIN);
	members_digest(&l, true, d);
	members_digest_string(d, s);
	assert_string_equal(s, "xxh3-128:" KNOWN_MTIME);
	member_list_release(&l);

	/* the example of docs/digest.md, with every type and an escaped name */
	add(&l, '5', S("app"), 0755, NULL, 0, NULL, 0);
	add(&l, '0', S("app/main.go"), 0644, "package main\n", 13, NULL, 0);
	add(&l, '2', S("app/current"), 0777, NULL, 0, S("main.go"));
	add(&l, '1', S("app/copy.go"), 0644, NULL, 0, S("app/main.go"));
	add(&l, '0', S("odd\tname\xff.txt"), 04755, "", 0, NULL, 0);
	add(&l, '3', S("dev/null"), 0666, NULL, 0, NULL, 0);
	l.v[5].devmajor = 1;
	l.v[5].devminor = 3;
	members_digest(&l, false, d);
	members_digest_string(d, s);
	assert_string_equal(s, "xxh3-128:86188a45f7022d2b508bc79156c88e8b");
	members_digest(&l, true, d);
	members_digest_string(d, s);
	assert_string_equal(s, "xxh3-128:bf2c58ff2c0b09586656a3e0195ab72b");
	member_list_release(&l);

	/* the empty list: the domain string alone */
	members_digest(&l, false, d);
	{
		uint8_t want[16];
		hash_of("ctxpack-digest-v1", 18, want);
		assert_memory_equal(d, want, 16);
		members_digest(&l, true, d);
		hash_of("ctxpack-digest-v1+mtime", 24, want);
		assert_memory_equal(d, want, 16);
	}
}

/* The serialization of docs/digest.md, rebuilt here byte by byte. */
static void test_digest_serialization(void **state)
{
	(void)state;
	struct member_list l = {0};
	unsigned char buf[256];
	size_t o = 0;
	uint8_t d[16], want[16];

	add(&l, '2', S("ab"), 0777, NULL, 0, S("xyz"));
	l.v[0].mtime = -2;
	memcpy(buf, "ctxpack-digest-v1+mtime", 24);
	o = 24;
	buf[o++] = '2';
	memcpy(buf + o, "\xff\x01\x00\x00", 4); /* 0777 */
	o += 4;
	memset(buf + o, 0, 8); /* size */
	o += 8;
	memcpy(buf + o, "\x02\0\0\0\0\0\0\0ab", 10);
	o += 10;
	memcpy(buf + o, "\x03\0\0\0\0\0\0\0xyz", 11);
	o += 11;
	memset(buf + o, 0, 8 + 1 + 16); /* devices, not hashed, zero hash */
	o += 25;
	memcpy(buf + o, "\xfe\xff\xff\xff\xff\xff\xff\xff", 8); /* mtime -2 */
	o += 8;
	hash_of(buf, o, want);
	members_digest(&l, true, d);
	assert_memory_equal(d, want, 16);
	member_list_release(&l);
}

static void test_digest_string(void **state)
{
	(void)state;
	uint8_t d[16];
	char s[42];

	for (int i = 0; i < 16; i++)
		d[i] = (uint8_t)(i * 17 + 10);
	memset(s, 'X', sizeof(s));
	members_digest_string(d, s);
	assert_string_equal(s, "xxh3-128:0a1b2c3d4e5f708192a3b4c5d6e7f809");
	assert_int_equal(strlen(s), 41);
}

/* ---- the diff ---- */

static const struct member_delta *delta(const struct member_diff *d, const char *path)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct member *m = d->v[i].a ? d->v[i].a : d->v[i].b;
		if (m->len == strlen(path) && !memcmp(m->path, path, m->len))
			return &d->v[i];
	}
	fail_msg("no delta for '%s'", path);
	return NULL;
}

static void test_diff(void **state)
{
	(void)state;
	struct member_list a = {0}, b = {0};
	struct member_diff d;
	const struct member_delta *x;

	/* a and b in different orders: the diff sorts */
	add(&a, '0', S("z-same"), 0644, "same", 4, NULL, 0);
	add(&a, '0', S("content"), 0644, "old!", 4, NULL, 0);
	add(&a, '0', S("grown"), 0644, "old", 3, NULL, 0);
	add(&a, '0', S("mode"), 0644, "m", 1, NULL, 0);
	add(&a, '0', S("removed"), 0644, "gone away", 9, NULL, 0);
	add(&a, '5', S("removed-dir"), 0755, NULL, 0, NULL, 0);
	add(&a, '0', S("to-dir"), 0644, "file", 4, NULL, 0);
	add(&a, '2', S("link"), 0777, NULL, 0, S("one"));
	add(&a, '3', S("dev"), 0666, NULL, 0, NULL, 0);
	add(&a, '0', S("mtime"), 0644, "t", 1, NULL, 0);
	add(&a, '0', S("both"), 0644, "b", 1, NULL, 0);
	a.v[8].devmajor = 1;

	add(&b, '0', S("added"), 0644, "new file", 8, NULL, 0);
	add(&b, '5', S("added-dir"), 0755, NULL, 0, NULL, 0);
	add(&b, '2', S("link"), 0777, NULL, 0, S("two"));
	add(&b, '5', S("to-dir"), 0755, NULL, 0, NULL, 0);
	add(&b, '0', S("mode"), 0755, "m", 1, NULL, 0);
	add(&b, '0', S("grown"), 0644, "older", 5, NULL, 0);
	add(&b, '0', S("content"), 0644, "new!", 4, NULL, 0);
	add(&b, '0', S("z-same"), 0644, "same", 4, NULL, 0);
	add(&b, '3', S("dev"), 0666, NULL, 0, NULL, 0);
	add(&b, '0', S("mtime"), 0644, "t", 1, NULL, 0);
	add(&b, '0', S("both"), 0600, "B", 1, NULL, 0);
	b.v[8].devmajor = 2;
	b.v[9].mtime += 10;

	assert_int_equal(members_diff(&d, &a, &b, false), 0);
	assert_int_equal(d.added, 2);
	assert_int_equal(d.removed, 2);
	assert_int_equal(d.added_bytes, 8);
	assert_int_equal(d.removed_bytes, 9);
	/* content, grown, mode, to-dir, link, dev, both */
	assert_int_equal(d.changed, 7);
	assert_int_equal(d.changed_bytes_a, 4 + 3 + 1);
	assert_int_equal(d.changed_bytes_b, 4 + 5 + 1);
	assert_int_equal(d.same, 2); /* z-same, mtime */
	assert_int_equal(d.n, 11);
	for (size_t i = 1; i < d.n; i++) {
		const struct member *p = d.v[i - 1].a ? d.v[i - 1].a : d.v[i - 1].b;
		const struct member *q = d.v[i].a ? d.v[i].a : d.v[i].b;
		if (strcmp(p->path, q->path) >= 0)
			fail_msg("'%s' before '%s'", p->path, q->path);
	}
	x = delta(&d, "added");
	assert_null(x->a);
	assert_ptr_equal(x->b, &b.v[0]);
	assert_int_equal(x->changes, MC_ADDED);
	x = delta(&d, "removed-dir");
	assert_ptr_equal(x->a, &a.v[5]);
	assert_null(x->b);
	assert_int_equal(x->changes, MC_REMOVED);
	assert_int_equal(delta(&d, "content")->changes, MC_CONTENT);
	assert_int_equal(delta(&d, "grown")->changes, MC_CONTENT);
	assert_int_equal(delta(&d, "mode")->changes, MC_MODE);
	assert_int_equal(delta(&d, "to-dir")->changes, MC_TYPE); /* and nothing else */
	assert_int_equal(delta(&d, "link")->changes, MC_LINK);
	assert_int_equal(delta(&d, "dev")->changes, MC_DEVICE);
	assert_int_equal(delta(&d, "both")->changes, MC_CONTENT | MC_MODE);
	member_diff_release(&d);
	assert_null(d.v);
	assert_int_equal(d.n, 0);

	/* with_mtime: the mtime is a change of its own */
	assert_int_equal(members_diff(&d, &a, &b, true), 0);
	assert_int_equal(d.changed, 8);
	assert_int_equal(d.same, 1);
	assert_int_equal(delta(&d, "mtime")->changes, MC_MTIME);
	member_diff_release(&d);

	/* a list against itself */
	assert_int_equal(members_diff(&d, &a, &a, true), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.same, a.n);
	member_diff_release(&d);
	member_list_release(&a);
	member_list_release(&b);
}

/* A name twice in one tar: the later member is the one extracted. */
static void test_diff_duplicates(void **state)
{
	(void)state;
	struct member_list a = {0}, b = {0};
	struct member_diff d;

	add(&a, '0', S("f"), 0644, "first", 5, NULL, 0);
	add(&a, '0', S("g"), 0644, "g", 1, NULL, 0);
	add(&a, '0', S("f"), 0644, "second", 6, NULL, 0);
	add(&a, '0', S("f"), 0600, "third!", 6, NULL, 0);
	add(&b, '0', S("f"), 0600, "third!", 6, NULL, 0);
	add(&b, '0', S("g"), 0644, "g", 1, NULL, 0);
	add(&b, '5', S("h"), 0755, NULL, 0, NULL, 0);
	add(&b, '0', S("h"), 0644, "h", 1, NULL, 0);

	assert_int_equal(members_diff(&d, &a, &b, false), 0);
	assert_int_equal(d.same, 2); /* the third f, g */
	assert_int_equal(d.added, 1);
	assert_int_equal(d.added_bytes, 1);
	assert_int_equal(d.n, 1);
	assert_ptr_equal(d.v[0].b, &b.v[3]);
	member_diff_release(&d);

	/* the other way round, the last f of a is the one compared */
	a.v[3].mode = 0644;
	assert_int_equal(members_diff(&d, &b, &a, false), 0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].a->path, "f");
	assert_ptr_equal(d.v[0].b, &a.v[3]);
	assert_int_equal(d.v[0].changes, MC_MODE);
	assert_int_equal(d.v[1].changes, MC_REMOVED);
	assert_ptr_equal(d.v[1].a, &b.v[3]);
	assert_int_equal(d.removed_bytes, 1);
	member_diff_release(&d);
	member_list_release(&a);
	member_list_release(&b);
}

/* Paths sort bytewise (unsigned), a prefix first; an unhashed side with
 * the same size is no content change. */
static void test_diff_order_and_unhashed(void **state)
{
	(void)state;
	struct member_list a = {0}, b = {0};
	struct member_diff d;

	add(&b, '0', S("a\xff"), 0644, "1", 1, NULL, 0);
	add(&b, '0', S("a/b"), 0644, "1", 1, NULL, 0);
	add(&b, '0', S("a"), 0644, "1", 1, NULL, 0);
	add(&b, '0', S("a\0"), 0644, "1", 1, NULL, 0);
	add(&b, '0', S("B"), 0644, "1", 1, NULL, 0);
	add(&a, '0', S("u"), 0644, NULL, 3, NULL, 0);
	add(&b, '0', S("u"), 0644, "xyz", 3, NULL, 0);
	add(&a, '0', S("v"), 0644, NULL, 3, NULL, 0);
	add(&b, '0', S("v"), 0644, "xyzw", 4, NULL, 0);
	assert_int_equal(members_diff(&d, &a, &b, false), 0);
	assert_int_equal(d.n, 6);
	assert_int_equal(d.v[0].b->len, 1);
	assert_string_equal(d.v[0].b->path, "B");
	assert_int_equal(d.v[1].b->len, 1); /* "a" */
	assert_int_equal(d.v[2].b->len, 2); /* "a\0" */
	assert_string_equal(d.v[3].b->path, "a/b");
	assert_string_equal(d.v[4].b->path, "a\xff");
	assert_string_equal(d.v[5].b->path, "v");
	assert_int_equal(d.v[5].changes, MC_CONTENT);
	assert_int_equal(d.same, 1); /* u */
	member_diff_release(&d);
	member_list_release(&a);
	member_list_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tar_ustar_types),
		cmocka_unit_test(test_tar_gnu_dot_prefixes),
		cmocka_unit_test(test_tar_pax_gzip),
		cmocka_unit_test(test_tar_go_pax_raw_names),
		cmocka_unit_test(test_tar_sparse),
		cmocka_unit_test(test_tar_sparse_bounds),
		cmocka_unit_test(test_tar_sparse_gzip_exabyte),
		cmocka_unit_test(test_tar_cut_in_data),
		cmocka_unit_test(test_tar_cut_in_header),
		cmocka_unit_test(test_tar_cut_gzip),
		cmocka_unit_test(test_tar_cut_compressed_says_cut),
		cmocka_unit_test(test_tar_every_cut),
		cmocka_unit_test(test_tar_given_up_tail),
		cmocka_unit_test(test_not_a_tar),
		cmocka_unit_test(test_tar_no_members),
		cmocka_unit_test(test_other_formats_refused),
		cmocka_unit_test(test_tsv_round_trip),
		cmocka_unit_test(test_tsv_every_cut),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_tar_to_manifests),
		cmocka_unit_test(test_json_reader_liberal),
		cmocka_unit_test(test_manifest_errors),
		cmocka_unit_test(test_writers_refuse_bad_lists),
		cmocka_unit_test(test_is_manifest),
		cmocka_unit_test(test_digest_fields),
		cmocka_unit_test(test_digest_known_answer),
		cmocka_unit_test(test_digest_serialization),
		cmocka_unit_test(test_digest_string),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_duplicates),
		cmocka_unit_test(test_diff_order_and_unhashed),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
