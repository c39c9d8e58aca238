/* test_tarwriter.c: the tar writer (src/tarwriter.c).
 *
 * Small trees are built in a temp dir, their entries filled by hand from
 * lstat (not by the walker), written, and read back twice: with
 * libarchive's reader (members, types, modes, data) and block by block
 * (the exact header bytes Go's archive/tar writes for the docker CLI, the
 * end).  Then the failure modes: a file that changes size before or while
 * it is read, a full disk, a reader that went away, and the compressors.
 * Large bodies skip the buffer (splice into a pipe, copy_file_range into a
 * file): the same bytes as the buffered copy, and the same failures when
 * the file changes under the splice. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include "tarwriter.h"
#include <archive_entry.h>

#define MTIME 1700000000

/* ---- fixtures ------------------------------------------------------------ */

struct tree {
	char dir[64];
	int rootfd;
	int outfd; /* a memfd the archive goes to */
	struct tar_writer *w;
	char err[512];
	unsigned char *out; /* the archive, after read_out */
	size_t len;
	char links[32][PATH_MAX];
	int nlinks;
};

/* rm -r of what is below dfd, relative to descriptors: paths may exceed
 * PATH_MAX (test_long_names).  Closes dfd. */
static void rm_below(int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0 && errno == EISDIR) {
			int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (sub >= 0) {
				fchmod(sub, 0700);
				rm_below(sub);
			}
			unlinkat(dfd, de->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_archive.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	t->rootfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->outfd = memfd_create("tar", MFD_CLOEXEC);
	if (t->rootfd < 0 || t->outfd < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;

	if (t->w)
		tar_close(&t->w, NULL, 0);
	if (t->outfd >= 0)
		close(t->outfd);
	rm_below(t->rootfd);
	rmdir(t->dir);
	free(t->out);
	free(t);
	return 0;
}

static void mkfile(struct tree *t, const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = openat(t->rootfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void mkdir_(struct tree *t, const char *path, mode_t mode)
{
	assert_int_equal(mkdirat(t->rootfd, path, 0700), 0);
	assert_int_equal(fchmodat(t->rootfd, path, mode, 0), 0);
}

static void set_mtime(struct tree *t, const char *path, time_t sec, long nsec)
{
	struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};

	assert_int_equal(utimensat(t->rootfd, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* A walk entry for path, from lstat, as the walker fills it. */
static struct walk_entry entry(struct tree *t, const char *path)
{
	struct walk_entry e = {0};
	struct stat st;

	assert_int_equal(fstatat(t->rootfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(walk_entry_from_stat(&e, &st), 0);
	e.path = (char *)path;
	e.len = strlen(path);
	e.rule = -1;
	if (e.type == WT_SYMLINK) {
		ssize_t n;
		assert_true(t->nlinks < 32);
		n = readlinkat(t->rootfd, path, t->links[t->nlinks], PATH_MAX - 1);
		assert_true(n >= 0);
		t->links[t->nlinks][n] = 0;
		e.link = t->links[t->nlinks++];
	}
	return e;
}

static void open_tar(struct tree *t, const struct tar_options *o)
{
	int rc = tar_open(&t->w, t->outfd, o, t->err, sizeof(t->err));

	if (rc)
		fail_msg("tar_open: %s", t->err);
}

static void add(struct tree *t, const char *path, const char *hardlink)
{
	struct walk_entry e = entry(t, path);
	int rc = tar_add(t->w, t->rootfd, &e, hardlink, t->err, sizeof(t->err));

	if (rc)
		fail_msg("tar_add '%s': %s", path, t->err);
}

static void close_tar(struct tree *t)
{
	int rc = tar_close(&t->w, t->err, sizeof(t->err));

	if (rc)
		fail_msg("tar_close: %s", t->err);
}

/* Reads what was written to the memfd into t->out. */
static void read_out(struct tree *t)
{
	struct stat st;

	assert_int_equal(fstat(t->outfd, &st), 0);
	free(t->out);
	t->len = (size_t)st.st_size;
	t->out = malloc(t->len + 1);
	assert_non_null(t->out);
	assert_int_equal(pread(t->outfd, t->out, t->len, 0), (ssize_t)t->len);
}

/* ---- reading back: block by block ---------------------------------------- */

struct rawm {
	const unsigned char *h; /* the header block */
	uint64_t size;
	const unsigned char *data;
};

static uint64_t octal(const unsigned char *f, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (uint64_t)(f[i] - '0');
	return v;
}

static bool zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/* Every header block (PAX 'x' blocks too) in order; asserts the archive
 * ends with exactly two zero blocks and nothing after them. */
static size_t raw_members(const struct tree *t, struct rawm *m, size_t max)
{
	size_t pos = 0, n = 0;

	assert_int_equal(t->len % 512, 0);
	for (;;) {
		assert_true(pos + 512 <= t->len);
		if (zero(t->out + pos, 512)) {
			assert_int_equal(t->len, pos + 1024);
			assert_true(zero(t->out + pos, 1024));
			return n;
		}
		assert_true(n < max);
		m[n].h = t->out + pos;
		m[n].size = octal(t->out + pos + 124, 12);
		m[n].data = t->out + pos + 512;
		pos += 512 + (m[n].size + 511) / 512 * 512;
		n++;
	}
}

/* The header's name: the prefix, '/', the name field (as read). */
static void raw_name(const struct rawm *m, char *out)
{
	size_t n = strnlen((const char *)m->h + 345, 155);

	if (n) {
		memcpy(out, m->h + 345, n);
		out[n++] = '/';
	}
	memcpy(out + n, m->h, strnlen((const char *)m->h, 100));
	out[n + strnlen((const char *)m->h, 100)] = 0;
}

/* A numeric field as Go's formatOctal writes it: zero-padded octal digits
 * filling all but the last byte, then NUL. */
static void check_octal_field(const unsigned char *f, size_t n, uint64_t want)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%0*llo", (int)n - 1, (unsigned long long)want);
	assert_memory_equal(f, buf, n - 1);
	assert_int_equal(f[n - 1], 0);
}

/* What every header of the docker CLI's tar has (Go: setFormat,
 * templateV7Plus, writeRawFile). */
static void check_go_header(const struct rawm *m)
{
	const unsigned char *h = m->h;
	unsigned sum = 0;

	assert_memory_equal(h + 257, "ustar\0", 6); /* magic */
	assert_memory_equal(h + 263, "00", 2);	    /* version */
	check_octal_field(h + 108, 8, 0);	    /* uid */
	check_octal_field(h + 116, 8, 0);	    /* gid */
	assert_true(zero(h + 265, 64));		    /* uname, gname */
	assert_true(zero(h + 500, 12));
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	check_octal_field(h + 148, 7, sum); /* six digits, NUL */
	assert_int_equal(h[155], ' ');	    /* then a space */
	assert_true(octal(h + 100, 7) <= 07777);
	assert_int_equal(h[107], 0);
	if (h[156] == 'x') {
		/* writeRawFile leaves the device fields and the prefix empty. */
		check_octal_field(h + 100, 8, 0);
		check_octal_field(h + 136, 12, 0);
		assert_true(zero(h + 329, 16 + 155));
	} else {
		assert_int_equal(h[336], 0);
		assert_int_equal(h[344], 0);
		assert_true(strspn((const char *)h + 329, "01234567") == 7);
		assert_true(strspn((const char *)h + 337, "01234567") == 7);
	}
}

/* The records of a PAX 'x' member, "key=value" lines without the length. */
static bool pax_has(const struct rawm *m, const char *key, const void *val, size_t vlen)
{
	size_t pos = 0, klen = strlen(key);

	while (pos < m->size) {
		const char *r = (const char *)m->data + pos, *sp = memchr(r, ' ', 20);
		size_t len = strtoul(r, NULL, 10);
		if (!sp || !len)
			return false;
		sp++;
		if ((size_t)(r + len - 1 - sp) == klen + 1 + vlen && !memcmp(sp, key, klen) &&
		    sp[klen] == '=' && !memcmp(sp + klen + 1, val, vlen))
			return true;
		pos += len;
	}
	return false;
}

/* ---- reading back: libarchive -------------------------------------------- */

struct member {
	char name[8192];
	mode_t type;
	mode_t perm;
	int64_t size, mtime, uid, gid;
	bool uname, gname; /* set at all */
	char link[8192];
	char hard[8192];
	unsigned char data[4096];
	size_t datalen;
	dev_t rdev;
	char cap[64];
	size_t caplen;
	int nxattr;
};

static size_t la_members(const unsigned char *buf, size_t len, struct member *m, size_t max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t n = 0;
	int r;

	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	assert_int_equal(archive_read_open_memory(a, buf, len), ARCHIVE_OK);
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *s, *name;
		const void *v;
		size_t vl;
		la_ssize_t got;
		assert_true(n < max);
		memset(&m[n], 0, sizeof(m[n]));
		snprintf(m[n].name, sizeof(m[n].name), "%s", archive_entry_pathname(e));
		m[n].type = archive_entry_filetype(e);
		m[n].perm = archive_entry_perm(e);
		m[n].size = archive_entry_size(e);
		m[n].mtime = archive_entry_mtime(e);
		m[n].uid = archive_entry_uid(e);
		m[n].gid = archive_entry_gid(e);
		m[n].uname = archive_entry_uname(e) && *archive_entry_uname(e);
		m[n].gname = archive_entry_gname(e) && *archive_entry_gname(e);
		m[n].rdev = archive_entry_rdev(e);
		s = archive_entry_symlink(e);
		snprintf(m[n].link, sizeof(m[n].link), "%s", s ? s : "");
		s = archive_entry_hardlink(e);
		snprintf(m[n].hard, sizeof(m[n].hard), "%s", s ? s : "");
		archive_entry_xattr_reset(e);
		while (archive_entry_xattr_next(e, &name, &v, &vl) == ARCHIVE_OK) {
			m[n].nxattr++;
			if (!strcmp(name, "security.capability") && vl <= sizeof(m[n].cap)) {
				memcpy(m[n].cap, v, vl);
				m[n].caplen = vl;
			}
		}
		got = archive_read_data(a, m[n].data, sizeof(m[n].data));
		assert_true(got >= 0);
		m[n].datalen = (size_t)got;
		n++;
	}
	assert_int_equal(r, ARCHIVE_EOF);
	archive_read_free(a);
	return n;
}

/* Whether libarchive reports an error reading the archive through. */
static bool la_fails(const unsigned char *buf, size_t len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char data[65536];
	int r;

	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	r = archive_read_open_memory(a, buf, len);
	while (r == ARCHIVE_OK && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		la_ssize_t n;
		while ((n = archive_read_data(a, data, sizeof(data))) > 0)
			;
		if (n < 0)
			r = (int)n;
	}
	archive_read_free(a);
	return r != ARCHIVE_EOF;
}

/* ---- tests --------------------------------------------------------------- */

static void test_tree_round_trip(void **state)
{
	struct tree *t = *state;
	struct member *m = calloc(16, sizeof(*m));
	struct rawm r[32];
	char big[5000], name[512];
	size_t n, nr;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	mkfile(t, "Dockerfile", "FROM scratch\n", 13, 0644);
	mkdir_(t, "d", 0755);
	mkfile(t, "d/big", big, sizeof(big), 0600);
	mkfile(t, "d/empty", "", 0, 0644);
	mkfile(t, "d/b512", big, 512, 0644);
	assert_int_equal(symlinkat("../nowhere", t->rootfd, "d/dangling"), 0);
	assert_int_equal(mkfifoat(t->rootfd, "fifo", 0640), 0);
	mkfile(t, "suid", "x", 1, 04755);
	mkdir_(t, "sticky", 01777);
	const char *paths[] = {"Dockerfile", "d",    "d/b512", "d/big", "d/dangling",
			       "d/empty",    "fifo", "sticky", "suid"};
	for (size_t i = 0; i < 9; i++)
		set_mtime(t, paths[i], MTIME, 999999999); /* truncated, not rounded */

	open_tar(t, NULL);
	for (size_t i = 0; i < 9; i++)
		add(t, paths[i], NULL);
	close_tar(t);
	read_out(t);

	/* Block by block: the names as docker writes them, Go's fields. */
	nr = raw_members(t, r, 32);
	assert_int_equal(nr, 9);
	const char *want[] = {"Dockerfile", "d/",   "d/b512",  "d/big", "d/dangling",
			      "d/empty",    "fifo", "sticky/", "suid"};
	const char types[] = "050020650";
	for (size_t i = 0; i < nr; i++) {
		check_go_header(&r[i]);
		raw_name(&r[i], name);
		assert_string_equal(name, want[i]);
		assert_int_equal(r[i].h[156], types[i]);
		check_octal_field(r[i].h + 136, 12, MTIME);
		check_octal_field(r[i].h + 329, 8, 0); /* devmajor, also for non-devices */
		check_octal_field(r[i].h + 337, 8, 0);
	}
	check_octal_field(r[0].h + 100, 8, 0644); /* "0000644\0" */
	check_octal_field(r[0].h + 124, 12, 13);
	check_octal_field(r[1].h + 124, 12, 0);
	check_octal_field(r[7].h + 100, 8, 01777);
	check_octal_field(r[8].h + 100, 8, 04755);
	check_octal_field(r[4].h + 100, 8, 0777);
	assert_string_equal((const char *)r[4].h + 157, "../nowhere");
	assert_memory_equal(r[3].data, big, sizeof(big));
	assert_true(zero(r[3].data + sizeof(big), 512 - sizeof(big) % 512)); /* padding */

	/* libarchive reads the same members. */
	n = la_members(t->out, t->len, m, 16);
	assert_int_equal(n, 9);
	assert_string_equal(m[0].name, "Dockerfile");
	assert_memory_equal(m[0].data, "FROM scratch\n", 13);
	assert_int_equal(m[1].type, AE_IFDIR);
	assert_int_equal(m[3].size, (int64_t)sizeof(big));
	assert_int_equal(m[3].perm, 0600);
	assert_int_equal(m[4].type, AE_IFLNK);
	assert_string_equal(m[4].link, "../nowhere");
	assert_int_equal(m[5].size, 0);
	assert_int_equal(m[6].type, AE_IFIFO);
	assert_int_equal(m[6].perm, 0640);
	assert_int_equal(m[7].perm, 01777);
	assert_int_equal(m[8].perm, 04755);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(m[i].uid, 0);
		assert_int_equal(m[i].gid, 0);
		assert_false(m[i].uname);
		assert_false(m[i].gname);
		assert_int_equal(m[i].mtime, MTIME);
		assert_int_equal(m[i].nxattr, 0);
	}
	free(m);
}

/* The first header of a docker CLI tar, as recorded from docker 28.2.2
 * (tests/tools/docker_tars.jsonl, a23-xattrs): Go's bytes exactly. */
static void test_docker_header_bytes(void **state)
{
	struct tree *t = *state;
	unsigned char want[512] = {0};

	memcpy(want, "Dockerfile", 10);
	memcpy(want + 100,
	       "0000644\0"
	       "0000000\0"
	       "0000000\0"
	       "00000000015\0"
	       "14524770400\0"
	       "011235\0 "
	       "0",
	       8 + 8 + 8 + 12 + 12 + 8 + 1);
	memcpy(want + 257,
	       "ustar\0"
	       "00",
	       8);
	memcpy(want + 329,
	       "0000000\0"
	       "0000000\0",
	       16);
	open_tar(t, NULL);
	assert_int_equal(tar_add_data(t->w, "Dockerfile", 0644, 1700000000, "FROM scratch\n", 13,
				      t->err, sizeof(t->err)),
			 0);
	close_tar(t);
	read_out(t);
	assert_int_equal(t->len, 512 * 4);
	assert_memory_equal(t->out, want, 512);
	assert_memory_equal(t->out + 512, "FROM scratch\n", 13);
	assert_true(zero(t->out + 512 + 13, 512 - 13 + 1024));
}

static void test_hardlink_and_symlink(void **state)
{
	struct tree *t = *state;
	struct member m[4];
	struct rawm r[4];

	mkfile(t, "a", "data", 4, 0644);
	assert_int_equal(linkat(t->rootfd, "a", t->rootfd, "b", 0), 0);
	assert_int_equal(symlinkat("a", t->rootfd, "s"), 0);
	open_tar(t, NULL);
	add(t, "a", NULL);
	add(t, "b", "a");
	add(t, "s", NULL);
	close_tar(t);
	read_out(t);
	assert_int_equal(raw_members(t, r, 4), 3);
	assert_int_equal(r[1].h[156], '1');
	assert_string_equal((const char *)r[1].h + 157, "a");
	check_octal_field(r[1].h + 124, 12, 0);
	check_octal_field(r[1].h + 100, 8, 0644);
	assert_int_equal(r[2].h[156], '2');
	assert_int_equal(la_members(t->out, t->len, m, 4), 3);
	assert_string_equal(m[1].hard, "a");
	assert_int_equal(m[1].size, 0);
	assert_int_equal(m[1].datalen, 0);
	assert_string_equal(m[2].link, "a");
}

/* Names of 100 bytes fit; longer ones split into prefix + name when they
 * can, else a PAX 'x' header named PaxHeaders.0/... carries them. */
static void test_long_names(void **state)
{
	struct tree *t = *state;
	struct member *m = calloc(8, sizeof(*m));
	struct rawm r[16];
	char n100[101], dir150[151], split[200], pax[300], deep[4400], name[600];
	size_t pos = 0, nr;

	memset(n100, 'n', 100);
	n100[100] = 0;
	memset(dir150, 'p', 150);
	dir150[150] = 0;
	snprintf(split, sizeof(split), "%s/%s", dir150, "suffix");
	memset(pax, 'x', 160);
	pax[160] = 0; /* one component: cannot split */
	mkfile(t, n100, "1", 1, 0644);
	mkdir_(t, dir150, 0755);
	mkfile(t, split, "2", 1, 0644);
	mkfile(t, pax, "3", 1, 0644);
	/* A path longer than PATH_MAX: 16 directories of 250 bytes, a file. */
	for (int i = 0; i < 17; i++) {
		if (pos)
			deep[pos++] = '/';
		memset(deep + pos, 'a' + i, 250);
		pos += 250;
		deep[pos] = 0;
	}
	{
		/* mkdir -p, a component at a time (the path is too long for mkdirat). */
		int dfd = dup(t->rootfd), nfd;
		char comp[251];
		for (int i = 0; i < 16; i++) {
			memcpy(comp, deep + (size_t)i * 251, 250);
			comp[250] = 0;
			assert_int_equal(mkdirat(dfd, comp, 0755), 0);
			nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY);
			assert_true(nfd >= 0);
			close(dfd);
			dfd = nfd;
		}
		memcpy(comp, deep + 16 * 251, 250);
		comp[250] = 0;
		nfd = openat(dfd, comp, O_WRONLY | O_CREAT, 0644);
		assert_true(nfd >= 0);
		assert_int_equal(write(nfd, "deep", 4), 4);
		close(nfd);
		close(dfd);
	}

	open_tar(t, NULL);
	add(t, n100, NULL);
	add(t, dir150, NULL);
	add(t, split, NULL);
	add(t, pax, NULL);
	{
		struct walk_entry e = {0};
		e.path = deep;
		e.len = strlen(deep);
		e.type = WT_FILE;
		e.size = 4;
		e.mode = 0644;
		e.mtime_sec = MTIME;
		assert_int_equal(tar_add(t->w, t->rootfd, &e, NULL, t->err, sizeof(t->err)), 0);
	}
	close_tar(t);
	read_out(t);
	nr = raw_members(t, r, 16);
	assert_int_equal(nr, 8); /* 5 members, 3 with a PAX header */
	for (size_t i = 0; i < nr; i++)
		check_go_header(&r[i]);
	/* 100 bytes: the whole name field, no NUL, no PAX. */
	assert_int_equal(r[0].h[156], '0');
	assert_memory_equal(r[0].h, n100, 100);
	/* "p*150/" is 151 bytes, ends in '/': no '/' to split at but the last. */
	assert_int_equal(r[1].h[156], 'x');
	{
		char d[152];
		snprintf(d, sizeof(d), "%s/", dir150);
		assert_true(pax_has(&r[1], "path", d, 151));
	}
	/* prefix + name */
	assert_int_equal(r[3].h[156], '0');
	assert_string_equal((const char *)r[3].h, "suffix");
	assert_memory_equal(r[3].h + 345, dir150, 150);
	raw_name(&r[3], name);
	assert_string_equal(name, split);
	/* PAX: PaxHeaders.0/<name> cut at 100 bytes; the main name cut too. */
	assert_int_equal(r[4].h[156], 'x');
	assert_memory_equal(r[4].h, "PaxHeaders.0/xxxx", 17);
	assert_true(pax_has(&r[4], "path", pax, 160));
	assert_memory_equal(r[5].h, pax, 100);
	assert_true(zero(r[5].h + 345, 155));
	assert_int_equal(r[6].h[156], 'x');
	assert_true(pax_has(&r[6], "path", deep, strlen(deep)));
	assert_memory_equal(r[7].data, "deep", 4);

	assert_int_equal(la_members(t->out, t->len, m, 8), 5);
	assert_string_equal(m[0].name, n100);
	assert_string_equal(m[2].name, split);
	assert_string_equal(m[3].name, pax);
	assert_string_equal(m[4].name, deep);
	assert_memory_equal(m[4].data, "deep", 4);
	free(m);
}

/* Go's toASCII and PAX path records with the raw bytes (no hdrcharset). */
static void test_non_utf8_names(void **state)
{
	struct tree *t = *state;
	struct rawm r[16];

	mkfile(t, "x\xffy", "1", 1, 0644);
	mkdir_(t, "d\xc3\xa9", 0755);
	mkfile(t, "new\nline", "2", 1, 0644);
	assert_int_equal(symlinkat("t\xfe", t->rootfd, "l\xc3\xa4"), 0);
	open_tar(t, NULL);
	add(t, "x\xffy", NULL);
	add(t, "d\xc3\xa9", NULL);
	add(t, "new\nline", NULL);
	add(t, "l\xc3\xa4", NULL);
	close_tar(t);
	read_out(t);
	assert_int_equal(raw_members(t, r, 16), 7);
	assert_string_equal((const char *)r[0].h, "PaxHeaders.0/xy");
	assert_int_equal(r[0].size, 12);
	assert_memory_equal(r[0].data, "12 path=x\xffy\n", 12);
	assert_string_equal((const char *)r[1].h, "xy");
	assert_string_equal((const char *)r[2].h, "d/PaxHeaders.0");
	assert_true(pax_has(&r[2], "path", "d\xc3\xa9/", 4));
	assert_string_equal((const char *)r[3].h, "d/");
	assert_string_equal((const char *)r[4].h, "new\nline"); /* ASCII: no PAX */
	/* records sorted by key: linkpath before path */
	assert_int_equal(r[5].size, 27);
	assert_memory_equal(r[5].data,
			    "15 linkpath=t\xfe\n"
			    "12 path=l\xc3\xa4\n",
			    27);
	assert_string_equal((const char *)r[6].h, "l");
	assert_string_equal((const char *)r[6].h + 157, "t");
}

static void check_broken_after(struct tree *t, int rc, int want, const char *what)
{
	char more[512];

	assert_int_equal(rc, want);
	if (!strstr(t->err, what))
		fail_msg("message '%s' lacks '%s'", t->err, what);
	/* The writer accepts nothing more, and closing reports the failure. */
	assert_true(tar_add_data(t->w, "late", 0644, 0, "x", 1, more, sizeof(more)) < 0);
	assert_true(tar_close(&t->w, more, sizeof(more)) < 0);
	assert_null(t->w);
	read_out(t);
	/* No end-of-archive blocks: a reader must not take it for complete. */
	assert_true(t->len % 512 != 0);
	assert_true(la_fails(t->out, t->len));
}

static void test_file_changed_before_read(void **state)
{
	struct tree *t = *state;
	struct walk_entry e;

	mkfile(t, "Dockerfile", "FROM scratch\n", 13, 0644);
	mkfile(t, "f", "12345", 5, 0644);
	e = entry(t, "f");
	mkfile(t, "f", "123456", 6, 0644); /* grew after the walk */
	open_tar(t, NULL);
	add(t, "Dockerfile", NULL);
	check_broken_after(t, tar_add(t->w, t->rootfd, &e, NULL, t->err, sizeof(t->err)), -ESTALE,
			   "'f' changed after it was walked (size: 5 bytes walked, 6 bytes now)");
	/* The member was dropped whole: Dockerfile, then the broken tail. */
	assert_int_equal(memcmp(t->out, "Dockerfile", 10), 0);
	assert_true(t->len > 1024 && t->len < 1024 + 512);
	assert_memory_equal(t->out + 1024, "ctxpack: archive given up: 'f' changed after", 44);
}

static void test_file_shrank_before_read(void **state)
{
	struct tree *t = *state;
	struct walk_entry e;

	mkfile(t, "f", "12345", 5, 0644);
	e = entry(t, "f");
	mkfile(t, "f", "1", 1, 0644);
	open_tar(t, NULL);
	check_broken_after(t, tar_add(t->w, t->rootfd, &e, NULL, t->err, sizeof(t->err)), -ESTALE,
			   "'f' changed after it was walked (size: 5 bytes walked, 1 byte now)");
	assert_true(t->len < 512); /* nothing but the tail */
}

static void test_file_replaced(void **state)
{
	struct tree *t = *state;
	struct walk_entry e;

	mkfile(t, "f", "12345", 5, 0644);
	e = entry(t, "f");
	assert_int_equal(unlinkat(t->rootfd, "f", 0), 0);
	assert_int_equal(mkfifoat(t->rootfd, "f", 0644), 0); /* open must not block */
	open_tar(t, NULL);
	check_broken_after(t, tar_add(t->w, t->rootfd, &e, NULL, t->err, sizeof(t->err)), -ESTALE,
			   "'f' changed after it was walked (no longer a regular file)");
}

/* A directory on the way became a symlink: never read through it. */
static void test_symlink_in_path(void **state)
{
	struct tree *t = *state;
	struct walk_entry e;

	mkdir_(t, "d", 0755);
	mkfile(t, "d/f", "12345", 5, 0644);
	mkdir_(t, "elsewhere", 0755);
	mkfile(t, "elsewhere/f", "12345", 5, 0644);
	e = entry(t, "d/f");
	assert_int_equal(renameat(t->rootfd, "d", t->rootfd, "d.old"), 0);
	assert_int_equal(symlinkat("elsewhere", t->rootfd, "d"), 0);
	open_tar(t, NULL);
	assert_true(tar_add(t->w, t->rootfd, &e, NULL, t->err, sizeof(t->err)) < 0);
	assert_non_null(strstr(t->err, "'d/f'"));
}

/* /proc files say size 0 and have data: the file grows while it is read.
 * The member is still in the buffer, so it is dropped whole. */
static void test_file_grew_while_read(void **state)
{
	struct tree *t = *state;
	struct walk_entry e = {0};
	int procfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	if (procfd < 0 || fstatat(procfd, "status", &st, 0) < 0 || st.st_size != 0) {
		if (procfd >= 0)
			close(procfd);
		skip();
	}
	assert_int_equal(walk_entry_from_stat(&e, &st), 0); /* as walked: size 0 */
	e.path = "status";
	e.len = 6;
	open_tar(t, NULL);
	assert_int_equal(tar_add_data(t->w, "first", 0644, 0, "1", 1, t->err, sizeof(t->err)), 0);
	check_broken_after(t, tar_add(t->w, procfd, &e, NULL, t->err, sizeof(t->err)), -ESTALE,
			   "'status' changed while it was read (size: 0 bytes walked, more read)");
	close(procfd);
	/* "first", then the tail: the member was dropped whole. */
	assert_true(t->len > 1024 && t->len < 1024 + 512);
	assert_memory_equal(t->out + 1024, "ctxpack: archive given up: 'status'", 35);
}

/* sysfs files say 4096 bytes and have fewer.  After a member that fills
 * most of the 1 MiB buffer, the short file's data crosses a flush: the
 * stream stops inside the member, and readers see it truncated. */
static void test_file_shrank_while_read(void **state)
{
	struct tree *t = *state;
	static const char *const cands[] = {"kernel/mm/transparent_hugepage/enabled",
					    "kernel/profiling", "power/state"};
	struct walk_entry e = {0};
	int sysfd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	const char *p = NULL;
	size_t fill = (1u << 20) - 1024; /* the buffer is full after its header */
	char *big;

	for (size_t i = 0; sysfd >= 0 && i < 3 && !p; i++) {
		if (!fstatat(sysfd, cands[i], &st, 0) && S_ISREG(st.st_mode) &&
		    st.st_size == 4096 && !faccessat(sysfd, cands[i], R_OK, 0))
			p = cands[i];
	}
	if (!p) {
		if (sysfd >= 0)
			close(sysfd);
		skip();
	}
	assert_int_equal(walk_entry_from_stat(&e, &st), 0);
	e.path = (char *)p;
	e.len = strlen(p);
	big = calloc(1, fill);
	assert_non_null(big);
	open_tar(t, NULL);
	assert_int_equal(tar_add_data(t->w, "big", 0644, 0, big, fill, t->err, sizeof(t->err)), 0);
	check_broken_after(t, tar_add(t->w, sysfd, &e, NULL, t->err, sizeof(t->err)), -ESTALE,
			   "' changed while it was read (size: 4 KiB walked, ");
	close(sysfd);
	free(big);
}

static void test_disk_full(void **state)
{
	struct tree *t = *state;
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		skip();
	close(t->outfd);
	t->outfd = fd;
	mkfile(t, "f", "12345", 5, 0644);
	open_tar(t, NULL);
	add(t, "f", NULL);
	rc = tar_close(&t->w, t->err, sizeof(t->err));
	assert_int_equal(rc, -ENOSPC);
	assert_non_null(strstr(t->err, "No space left on device"));
}

static void test_reader_gone(void **state)
{
	struct tree *t = *state;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	char *big = calloc(1, 3 << 20);
	int p[2], rc, i;

	assert_non_null(big);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	close(t->outfd);
	t->outfd = p[1];
	assert_int_equal(sigaction(SIGPIPE, &ign, &old), 0);
	open_tar(t, NULL);
	/* 3 MiB: the writes happen during tar_add_data already. */
	rc = tar_add_data(t->w, "big", 0644, 0, big, 3 << 20, t->err, sizeof(t->err));
	assert_int_equal(rc, -EPIPE);
	assert_non_null(strstr(t->err, "Broken pipe"));
	i = tar_close(&t->w, t->err, sizeof(t->err));
	assert_int_equal(i, -EPIPE);
	sigaction(SIGPIPE, &old, NULL);
	free(big);
}

static void write_sample(struct tree *t, const struct tar_options *o)
{
	char big[70000];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 % 251);
	if (faccessat(t->rootfd, "big", F_OK, AT_SYMLINK_NOFOLLOW)) {
		mkfile(t, "big", big, sizeof(big), 0644);
		mkdir_(t, "d", 0755);
		mkfile(t, "d/x", "x", 1, 0644);
	}
	assert_int_equal(ftruncate(t->outfd, 0), 0);
	assert_int_equal(lseek(t->outfd, 0, SEEK_SET), 0);
	open_tar(t, o);
	add(t, "big", NULL);
	add(t, "d", NULL);
	add(t, "d/x", NULL);
	assert_int_equal(tar_finish(t->w, t->err, sizeof(t->err)), 0);
	read_out(t);
	assert_int_equal(tar_bytes_out(t->w), t->len);
	assert_int_equal(tar_bytes_raw(t->w), 512 + 70144 + 512 + 512 + 512 + 1024);
	close_tar(t);
}

static void check_sample(struct tree *t)
{
	struct member m[4];

	assert_int_equal(la_members(t->out, t->len, m, 4), 3);
	assert_string_equal(m[0].name, "big");
	assert_int_equal(m[0].size, 70000);
	assert_int_equal(m[0].data[4095], (unsigned char)(4095 * 7 % 251));
	assert_int_equal(m[1].type, AE_IFDIR);
	assert_string_equal(m[2].name, "d/x");
}

static void test_none_counts(void **state)
{
	struct tree *t = *state;

	write_sample(t, NULL);
	assert_int_equal(t->len, 512 + 70144 + 512 + 512 + 512 + 1024);
	check_sample(t);
}

static void test_gzip(void **state)
{
	struct tree *t = *state;
	struct tar_options o = {.compression = TAR_GZIP};
	unsigned char *first;
	size_t first_len;

	write_sample(t, &o);
	assert_int_equal(t->out[0], 0x1f);
	assert_int_equal(t->out[1], 0x8b);
	assert_true(zero(t->out + 4, 4)); /* no timestamp */
	check_sample(t);
	first = t->out;
	first_len = t->len;
	t->out = NULL;
	o.level = 9;
	write_sample(t, &o);
	check_sample(t);
	o.level = 0;
	write_sample(t, &o);
	assert_int_equal(t->len, first_len); /* the same bytes twice */
	assert_memory_equal(t->out, first, first_len);
	free(first);
	o.level = 10;
	assert_int_equal(tar_open(&t->w, t->outfd, &o, t->err, sizeof(t->err)), -EINVAL);
	assert_non_null(strstr(t->err, "gzip level 10"));
}

static void test_zstd(void **state)
{
	struct tree *t = *state;
	struct tar_options o = {.compression = TAR_ZSTD, .threads = 1};
	unsigned char *first;
	size_t first_len;

	write_sample(t, &o);
	assert_memory_equal(t->out, "\x28\xb5\x2f\xfd", 4);
	check_sample(t);
	first = t->out;
	first_len = t->len;
	t->out = NULL;
	/* The same bytes whatever the number of workers. */
	o.threads = 3;
	write_sample(t, &o);
	assert_int_equal(t->len, first_len);
	assert_memory_equal(t->out, first, first_len);
	free(first);
	o.threads = 0;
	o.level = 19;
	write_sample(t, &o);
	check_sample(t);
	o.level = -5;
	write_sample(t, &o);
	check_sample(t);
	o.level = 99;
	assert_int_equal(tar_open(&t->w, t->outfd, &o, t->err, sizeof(t->err)), -EINVAL);
	assert_non_null(strstr(t->err, "zstd level 99"));
}

static void test_clamp(void **state)
{
	struct tree *t = *state;
	struct tar_options o = {.clamp_mtime = true, .mtime_max = 1000};
	struct rawm r[8];

	mkfile(t, "old", "o", 1, 0644);
	mkfile(t, "new", "n", 1, 0644);
	set_mtime(t, "old", 500, 0);
	set_mtime(t, "new", MTIME, 0);
	open_tar(t, &o);
	add(t, "old", NULL);
	add(t, "new", NULL);
	assert_int_equal(tar_add_data(t->w, "data", 0644, MTIME, "x", 1, t->err, sizeof(t->err)),
			 0);
	close_tar(t);
	read_out(t);
	assert_int_equal(raw_members(t, r, 8), 3);
	check_octal_field(r[0].h + 136, 12, 500);
	check_octal_field(r[1].h + 136, 12, 1000);
	check_octal_field(r[2].h + 136, 12, 1000);
}

static void test_mtime_out_of_octal(void **state)
{
	struct tree *t = *state;
	struct rawm r[8];

	open_tar(t, NULL);
	assert_int_equal(
		tar_add_data(t->w, "late", 0644, 8589934592LL, "x", 1, t->err, sizeof(t->err)), 0);
	assert_int_equal(
		tar_add_data(t->w, "edge", 0644, 8589934591LL, "x", 1, t->err, sizeof(t->err)), 0);
	assert_int_equal(tar_add_data(t->w, "early", 0644, -86400, "x", 1, t->err, sizeof(t->err)),
			 0);
	close_tar(t);
	read_out(t);
	assert_int_equal(raw_members(t, r, 8), 5);
	assert_string_equal((const char *)r[0].h, "PaxHeaders.0/late");
	assert_true(pax_has(&r[0], "mtime", "8589934592", 10));
	check_octal_field(r[1].h + 136, 12, 0);
	assert_int_equal(r[2].h[156], '0');
	assert_memory_equal(r[2].h + 136, "77777777777", 12);
	assert_true(pax_has(&r[3], "mtime", "-86400", 6));
	check_octal_field(r[4].h + 136, 12, 0);
}

/* BuildKit sends a socket as an empty regular file. */
static void test_socket_as_empty_file(void **state)
{
	struct tree *t = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct rawm r[4];
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", t->dir);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	open_tar(t, NULL);
	add(t, "sock", NULL);
	close_tar(t);
	read_out(t);
	assert_int_equal(raw_members(t, r, 4), 1);
	assert_int_equal(r[0].h[156], '0');
	check_octal_field(r[0].h + 124, 12, 0);
}

/* Needs root: device nodes, security.capability. */
static void test_devices_and_capability(void **state)
{
	struct tree *t = *state;
	static const unsigned char v2[20] = {1, 0, 0, 2, 0, 4};
	static const unsigned char v3[24] = {0, 0, 0, 3, 0, 4, [20] = 0xe8, 3};
	static const unsigned char v3as2[20] = {0, 0, 0, 2, 0, 4};
	struct member m[8];
	struct rawm r[16];
	char p[PATH_MAX];

	if (mknodat(t->rootfd, "cdev", S_IFCHR | 0644, makedev(1, 3)) < 0)
		skip();
	assert_int_equal(mknodat(t->rootfd, "bdev", S_IFBLK | 0600, makedev(259, 1048575)), 0);
	mkfile(t, "cap", "c", 1, 0755);
	mkfile(t, "cap3", "c", 1, 0755);
	mkdir_(t, "dcap", 0755);
	snprintf(p, sizeof(p), "%s/cap", t->dir);
	if (setxattr(p, "security.capability", v2, sizeof(v2), 0) < 0)
		skip();
	setxattr(p, "user.other", "x", 1, 0); /* never sent; fine where unsupported */
	snprintf(p, sizeof(p), "%s/cap3", t->dir);
	assert_int_equal(setxattr(p, "security.capability", v3, sizeof(v3), 0), 0);
	snprintf(p, sizeof(p), "%s/dcap", t->dir);
	assert_int_equal(setxattr(p, "security.capability", v2, sizeof(v2), 0), 0);
	assert_int_equal(linkat(t->rootfd, "cap", t->rootfd, "caplink", 0), 0);

	open_tar(t, NULL);
	add(t, "bdev", NULL);
	add(t, "cap", NULL);
	add(t, "cap3", NULL);
	add(t, "caplink", "cap");
	add(t, "cdev", NULL);
	add(t, "dcap", NULL);
	close_tar(t);
	read_out(t);
	assert_int_equal(raw_members(t, r, 16), 10);
	assert_int_equal(r[0].h[156], '4');
	check_octal_field(r[0].h + 329, 8, 259);
	check_octal_field(r[0].h + 337, 8, 1048575);
	assert_int_equal(r[1].h[156], 'x');
	assert_string_equal((const char *)r[1].h, "PaxHeaders.0/cap");
	assert_true(pax_has(&r[1], "SCHILY.xattr.security.capability", v2, 20));
	assert_int_equal(r[1].size, 57); /* one record: no user.* xattr */
	assert_true(pax_has(&r[3], "SCHILY.xattr.security.capability", v3as2, 20));
	assert_int_equal(r[6].h[156], '1'); /* the hard link carries it too */
	assert_true(pax_has(&r[5], "SCHILY.xattr.security.capability", v2, 20));
	assert_int_equal(r[7].h[156], '3');
	check_octal_field(r[7].h + 329, 8, 1);
	check_octal_field(r[7].h + 337, 8, 3);
	assert_true(pax_has(&r[8], "SCHILY.xattr.security.capability", v2, 20));
	assert_string_equal((const char *)r[8].h, "dcap/PaxHeaders.0");
	for (size_t i = 0; i < 10; i++)
		check_go_header(&r[i]);

	assert_int_equal(la_members(t->out, t->len, m, 8), 6);
	assert_int_equal(m[0].type, AE_IFBLK);
	assert_int_equal(m[0].rdev, makedev(259, 1048575));
	assert_int_equal(m[1].caplen, 20);
	assert_memory_equal(m[1].cap, v2, 20);
	assert_int_equal(m[1].nxattr, 1);
	assert_memory_equal(m[2].cap, v3as2, 20);
	assert_int_equal(m[4].type, AE_IFCHR);
}

static void test_refuses_after_finish(void **state)
{
	struct tree *t = *state;

	open_tar(t, NULL);
	assert_int_equal(tar_finish(t->w, t->err, sizeof(t->err)), 0);
	assert_int_equal(tar_finish(t->w, t->err, sizeof(t->err)), 0);
	assert_int_equal(tar_add_data(t->w, "x", 0644, 0, "", 0, t->err, sizeof(t->err)), -EINVAL);
	close_tar(t);
	read_out(t);
	assert_int_equal(t->len, 1024);
	assert_true(zero(t->out, 1024));
}

static void test_abort(void **state)
{
	struct tree *t = *state;

	open_tar(t, NULL);
	assert_int_equal(tar_add_data(t->w, "x", 0644, 0, "x", 1, t->err, sizeof(t->err)), 0);
	tar_abort(&t->w, "the walk failed");
	assert_null(t->w);
	read_out(t);
	assert_true(t->len % 512 != 0);
	assert_non_null(memmem(t->out, t->len, "the walk failed", 15));
	assert_true(la_fails(t->out, t->len));
}

/* ---- large bodies past the buffer ---------------------------------------- */

#define LARGE (8u << 20)

/* Drains a pipe into a memfd; optionally changes the file being spliced
 * once the first bytes arrived (at most the pipe's capacity, 1 MiB, has
 * been moved by then: the writer blocks on a full pipe). */
struct drain {
	int in, out;
	int victim;	  /* descriptor of the file to change, or -1 */
	off_t new_size;	  /* ftruncate the victim to this; -1: rewrite 1 MiB at 4 MiB in place */
	pthread_t thread;
};

/* Other bytes at 4 MiB..5 MiB, the size unchanged: what a build tool
 * rewriting a file in place does while the archiver reads it. */
static int rewrite(int fd)
{
	char *other = malloc(1u << 20);
	ssize_t n;

	if (!other)
		return -1;
	memset(other, 'B', 1u << 20);
	n = pwrite(fd, other, 1u << 20, 4u << 20);
	free(other);
	return n == (1 << 20) ? 0 : -1;
}

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	bool changed = d->victim < 0;
	ssize_t n;

	while ((n = read(d->in, buf, changed ? sizeof(buf) : 4096)) > 0) {
		if (!changed) {
			changed = true;
			if (d->new_size >= 0 ? ftruncate(d->victim, d->new_size) < 0
					     : rewrite(d->victim) < 0)
				abort();
		}
		if (write(d->out, buf, (size_t)n) != n)
			abort();
	}
	if (n < 0) /* the writer would wait forever on a full pipe */
		abort();
	return NULL;
}

/* Points the writer at a pipe drained into t->outfd. */
static void start_drain(struct tree *t, struct drain *d, int victim, off_t new_size)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	d->in = p[0];
	d->out = t->outfd;
	d->victim = victim;
	d->new_size = new_size;
	t->outfd = p[1];
	assert_int_equal(pthread_create(&d->thread, NULL, drain_main, d), 0);
}

static void stop_drain(struct tree *t, struct drain *d)
{
	close(t->outfd);
	pthread_join(d->thread, NULL);
	close(d->in);
	t->outfd = d->out;
}

static void mk_large(struct tree *t, const char *path)
{
	char *big = malloc(LARGE);

	assert_non_null(big);
	for (size_t i = 0; i < LARGE; i++)
		big[i] = (char)(i * 13 % 253);
	mkfile(t, path, big, LARGE, 0644);
	free(big);
}

static void write_large(struct tree *t, const struct tar_options *o)
{
	open_tar(t, o);
	add(t, "a", NULL);
	add(t, "large", NULL);
	add(t, "z", NULL);
	close_tar(t);
}

/* Spliced into a pipe, copied into a file, or through the buffer: one
 * archive, byte for byte. */
static void test_direct_copy_same_bytes(void **state)
{
	struct tree *t = *state;
	static const struct tar_options buffered = {.buffered_only = true};
	struct drain d;
	unsigned char *want;
	size_t len;
	char path[PATH_MAX];
	int fd;

	mkfile(t, "a", "a", 1, 0644);
	mk_large(t, "large");
	mkfile(t, "z", "zz", 2, 0644);
	write_large(t, &buffered);
	read_out(t);
	len = t->len;
	want = malloc(len);
	assert_non_null(want);
	memcpy(want, t->out, len);
	assert_int_equal(len, 3 * 512 + LARGE + 2 * 512 + 1024);

	assert_int_equal(ftruncate(t->outfd, 0), 0);
	assert_int_equal(lseek(t->outfd, 0, SEEK_SET), 0);
	start_drain(t, &d, -1, 0);
	write_large(t, NULL);
	stop_drain(t, &d);
	read_out(t);
	assert_int_equal(t->len, len);
	assert_memory_equal(t->out, want, len);

	/* A regular file on the tree's file system: copy_file_range. */
	snprintf(path, sizeof(path), "%s/../%s.out", t->dir, strrchr(t->dir, '/') + 1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	unlink(path);
	close(t->outfd);
	t->outfd = fd;
	write_large(t, NULL);
	read_out(t);
	assert_int_equal(t->len, len);
	assert_memory_equal(t->out, want, len);
	free(want);
}

/* Adds "large" as walked (LARGE bytes) while the drain changes it. */
static int add_large_changing(struct tree *t)
{
	struct walk_entry e = {.path = "large", .len = 5, .type = WT_FILE, .size = LARGE,
			       .mode = 0644};

	open_tar(t, NULL);
	return tar_add(t->w, t->rootfd, &e, NULL, t->err, sizeof(t->err));
}

/* The file shrinks under the splice: an error naming it, never a member
 * padded or cut short that a reader would take as complete. */
static void test_file_shrank_while_spliced(void **state)
{
	struct tree *t = *state;
	struct drain d;
	int victim;
	int rc;

	mk_large(t, "large");
	victim = openat(t->rootfd, "large", O_WRONLY | O_CLOEXEC);
	assert_true(victim >= 0);
	start_drain(t, &d, victim, 2 << 20);
	rc = add_large_changing(t);
	assert_int_equal(rc, -ESTALE);
	assert_non_null(
		strstr(t->err, "'large' changed while it was read (size: 8 MiB walked, 2 MiB now)"));
	assert_true(tar_close(&t->w, t->err, sizeof(t->err)) < 0);
	stop_drain(t, &d);
	close(victim);
	read_out(t);
	assert_true(t->len < 512 + LARGE);
	assert_true(t->len % 512 != 0);
	assert_true(la_fails(t->out, t->len));
}

/* The file grows under the splice: the extra byte is found. */
static void test_file_grew_while_spliced(void **state)
{
	struct tree *t = *state;
	struct drain d;
	int victim;
	int rc;

	mk_large(t, "large");
	victim = openat(t->rootfd, "large", O_WRONLY | O_CLOEXEC);
	assert_true(victim >= 0);
	start_drain(t, &d, victim, LARGE + 100);
	rc = add_large_changing(t);
	assert_int_equal(rc, -ESTALE);
	assert_non_null(strstr(t->err, "'large' changed while it was read (size: 8 MiB walked, "));
	assert_true(tar_close(&t->w, t->err, sizeof(t->err)) < 0);
	stop_drain(t, &d);
	close(victim);
	read_out(t);
	assert_true(t->len % 512 != 0);
	assert_true(la_fails(t->out, t->len));
}

/* The file is rewritten in place (same size, other bytes) while it is
 * read: each path a body can take (spliced, teed for the hash, through
 * the buffer) ends where the walk said, and the bytes sent are a mix the
 * file never held.  The fstat after the last byte finds the times moved:
 * an error naming the file, never a complete-looking member. */
static void rewritten_while_read(struct tree *t, const struct tar_options *o, bool hash)
{
	struct walk_entry e;
	struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	struct drain d;
	uint8_t h[16];
	int victim, rc, closed;

	mk_large(t, "large");
	/* mtime well in the past: the rewrite moves it whatever the clock's grain */
	assert_int_equal(utimensat(t->rootfd, "large", old, 0), 0);
	e = entry(t, "large");
	victim = openat(t->rootfd, "large", O_WRONLY | O_CLOEXEC);
	assert_true(victim >= 0);
	start_drain(t, &d, victim, -1);
	open_tar(t, o);
	rc = hash ? tar_add_hash(t->w, t->rootfd, &e, h, t->err, sizeof(t->err))
		  : tar_add(t->w, t->rootfd, &e, NULL, t->err, sizeof(t->err));
	if (rc != -ESTALE || !strstr(t->err, "'large' changed while it was read (modified: mtime"))
		print_error("rc %d, message '%s'\n", rc, rc ? t->err : "");
	/* the drain ends with the stream, whatever happened */
	closed = tar_close(&t->w, t->err, sizeof(t->err));
	stop_drain(t, &d);
	close(victim);
	assert_int_equal(rc, -ESTALE);
	assert_non_null(strstr(t->err, "'large' changed while it was read (modified: mtime"));
	assert_true(closed < 0);
	read_out(t);
	assert_true(t->len % 512 != 0);
	assert_true(la_fails(t->out, t->len));
}

static void test_file_rewritten_while_spliced(void **state)
{
	rewritten_while_read(*state, NULL, false);
}

static void test_file_rewritten_while_teed(void **state)
{
	rewritten_while_read(*state, NULL, true);
}

static void test_file_rewritten_while_buffered(void **state)
{
	static const struct tar_options buffered = {.buffered_only = true};

	rewritten_while_read(*state, &buffered, false);
}

/* A hard link whose name now points at another file: its member would
 * link to data that is not this file's. */
static void test_hardlink_replaced(void **state)
{
	struct tree *t = *state;
	struct walk_entry e;

	mkfile(t, "a", "12345", 5, 0644);
	assert_int_equal(linkat(t->rootfd, "a", t->rootfd, "b", 0), 0);
	e = entry(t, "b");
	assert_int_equal(unlinkat(t->rootfd, "b", 0), 0);
	mkfile(t, "b", "12345", 5, 0644);
	open_tar(t, NULL);
	check_broken_after(t, tar_add(t->w, t->rootfd, &e, "a", t->err, sizeof(t->err)), -ESTALE,
			   "'b' changed after it was walked (replaced: another inode)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_tree_round_trip),
		T(test_docker_header_bytes),
		T(test_hardlink_and_symlink),
		T(test_long_names),
		T(test_non_utf8_names),
		T(test_file_changed_before_read),
		T(test_file_shrank_before_read),
		T(test_file_replaced),
		T(test_symlink_in_path),
		T(test_file_grew_while_read),
		T(test_file_shrank_while_read),
		T(test_disk_full),
		T(test_reader_gone),
		T(test_none_counts),
		T(test_gzip),
		T(test_zstd),
		T(test_clamp),
		T(test_mtime_out_of_octal),
		T(test_socket_as_empty_file),
		T(test_devices_and_capability),
		T(test_refuses_after_finish),
		T(test_abort),
		T(test_direct_copy_same_bytes),
		T(test_file_shrank_while_spliced),
		T(test_file_grew_while_spliced),
		T(test_file_rewritten_while_spliced),
		T(test_file_rewritten_while_teed),
		T(test_file_rewritten_while_buffered),
		T(test_hardlink_replaced),
#undef T
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
