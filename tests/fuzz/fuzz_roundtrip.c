/* fuzz_roundtrip.c: fuzz target for pack → read back → compare.
 *
 * The input describes a small tree (decode() below says how): regular
 * files with small contents (now and then one past the read-ahead size),
 * directories, symlinks, FIFOs and hard links, with names from a small
 * alphabet rich in what matters ('/', '.', '*', '!', '\\', bytes >= 0x80,
 * newline, long runs), modes and mtimes from small tables, a Dockerfile in
 * one of four places and a .dockerignore (the input's tail).  The tree is
 * made in a fresh directory below one base directory in /tmp and removed
 * after the input.  For each builder:
 *
 *   - pack_list says which entries are sent, in which order;
 *   - pack_run writes the archive into a memfd, which libarchive reads
 *     back: the same members in the same order (plus the generated
 *     .dockerignore and Dockerfile when the Dockerfile is outside), each
 *     with its type, size, mode, mtime, content (what was written) and
 *     symlink or hard-link target;
 *   - a second session writes again while hashing (pack_write with
 *     o.hash): the same bytes; a third hashes without writing (pack_hash);
 *     the digests of both sessions' pack_members and of members_from_tar
 *     on the archive agree, with and without mtimes.
 *
 * A refusal is fine when it is clean (an errno and a message) and the
 * same from every call; a crash, a leak, undefined behaviour or any
 * disagreement is a finding (abort). */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "members.h"
#include "pack.h"
#include "prefetch.h"
#include "walk.h"

#define MAXSPEC 16  /* entries the input may describe */
#define MAXFILES 24 /* spec entries in all (the Dockerfile, ignore files) */
#define NAMEMAX 24  /* alphabet symbols per name */

static const char DOCKERFILE_TEXT[] = "FROM scratch\nCOPY . /\n";

/* ---- the tree spec ---- */

enum { S_FILE, S_DIR, S_SYMLINK, S_HARDLINK, S_FIFO };

struct spec {
	char path[NAMEMAX * 60 + 1];
	size_t len;
	int type;
	const uint8_t *data; /* regular files: the content (points into the input or static) */
	size_t dlen;         /* bytes at data: repeated up to size (none: fill) */
	size_t size;
	uint8_t fill;
	char target[NAMEMAX * 60 + 1]; /* symlinks */
	int mode, mtime;     /* table indices */
	bool made;
};

struct tree {
	int dfmode;          /* 0: ./Dockerfile, 1: outside, 2: ./df/Dockerfile via -f, 3: ./dockerfile */
	bool df_ignore;      /* also <Dockerfile>.dockerignore */
	bool no_ignore;      /* no .dockerignore in the context */
	int compression;     /* enum tar_compression */
	const uint8_t *ignore;
	size_t ignore_len;
	struct spec v[MAXFILES];
	size_t n;
};

/* Name symbols, by byte & 31. */
static const char *const SYM[32] = {
	"a", "b", "/", ".", "*", "!", "\\", "\n", " ", "#", "?", "[", "]", "-", "\x80", "\xff",
	"\xc3\xa9", "~", "..", "Dockerfile", ".dockerignore", "\r", "\t",
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "\xe2\x80\xa8", "^", "{", ",",
	":", "c", "df", "\xed\xa0\x80",
};

static const mode_t FILE_MODES[4] = { 0644, 0755, 0600, 04755 };
static const mode_t DIR_MODES[4] = { 0755, 0700, 01777, 02750 };
/* What utimensat is asked for (the file system may clamp it: only what
 * the walk then sees is compared).  0: left as made. */
static const struct timespec MTIMES[8] = {
	{ 0, UTIME_OMIT }, { 0, 0 }, { -1, 0 }, { 1700000000, 999999999 },
	{ 8589934591LL, 0 }, { 8589934592LL, 0 }, { -2147483648LL, 5 }, { 253402300799LL, 0 },
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void cleanup(void);

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_roundtrip: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	cleanup(); /* the input makes the tree again */
	abort();
}

/* Printable form of a name for messages (static buffer, one at a time). */
static const char *q(const char *s, size_t n)
{
	static char b[4][512];
	static int k;
	char *o = b[k++ & 3];
	size_t j = 0;

	for (size_t i = 0; i < n && j + 5 < sizeof(b[0]); i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			o[j++] = (char)c;
		else
			j += (size_t)sprintf(o + j, "\\x%02x", c);
	}
	o[j] = '\0';
	return o;
}

struct cursor {
	const uint8_t *p, *end;
};

static unsigned next(struct cursor *c)
{
	return c->p < c->end ? *c->p++ : 0;
}

/* A name from symbols, cleaned to plain components joined by '/' (empty,
 * "." and ".." components dropped); false when nothing is left. */
static bool decode_name(struct cursor *c, char *out, size_t *len)
{
	unsigned n = next(c) % NAMEMAX + 1;
	char raw[NAMEMAX * 60 + 1];
	size_t k = 0, o = 0;

	for (unsigned i = 0; i < n && c->p < c->end; i++) {
		const char *s = SYM[next(c) & 31];
		size_t sl = strlen(s);
		memcpy(raw + k, s, sl);
		k += sl;
	}
	for (size_t s = 0, i = 0; i <= k; i++) {
		if (i < k && raw[i] != '/')
			continue;
		size_t cl = i - s;
		bool drop = cl == 0 || (cl == 1 && raw[s] == '.') ||
			    (cl == 2 && raw[s] == '.' && raw[s + 1] == '.');
		if (!drop) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, raw + s, cl);
			o += cl;
		}
		s = i + 1;
	}
	out[o] = '\0';
	*len = o;
	return o > 0;
}

/* The input:
 *   byte 0: bits 0-1 the Dockerfile's place (struct tree.dfmode), bit 2
 *     <Dockerfile>.dockerignore too, bit 3 no .dockerignore, bits 4-5
 *     compression (0, 1: none, 2: gzip, 3: zstd);
 *   byte 1: the number of entries (% (MAXSPEC + 1));
 *   per entry: a type byte (bits 0-2: 0, 1 file, 2 dir, 3 symlink, 4 hard
 *     link, 5 FIFO, 6 big file, 7 dir; bits 3-4 the mode; bits 5-7 the
 *     mtime), a name (a length byte, then symbol bytes), then for a file
 *     a length byte (% 64) and the content bytes, for a symlink its
 *     target (as a name, not cleaned), for a hard link a byte choosing
 *     an earlier entry that is not a directory;
 *   the rest: the .dockerignore. */
static void decode(struct tree *t, const uint8_t *data, size_t size)
{
	struct cursor c = { data, data + size };
	unsigned flags = next(&c), n = next(&c) % (MAXSPEC + 1);

	memset(t, 0, sizeof(*t));
	t->dfmode = flags & 3;
	t->df_ignore = flags & 4;
	t->no_ignore = flags & 8;
	t->compression = (flags >> 4 & 3) < 2 ? TAR_NONE : (flags >> 4 & 3) == 2 ? TAR_GZIP : TAR_ZSTD;
	for (unsigned i = 0; i < n && c.p < c.end; i++) {
		struct spec *s = &t->v[t->n];
		unsigned ty = next(&c), k;
		bool ok;

		memset(s, 0, sizeof(*s));
		s->mode = ty >> 3 & 3;
		s->mtime = ty >> 5 & 7;
		ok = decode_name(&c, s->path, &s->len);
		switch (ty & 7) {
		case 0:
		case 1:
		case 6:
			s->type = S_FILE;
			s->size = next(&c) % 64;
			if (s->size > (size_t)(c.end - c.p))
				s->size = (size_t)(c.end - c.p);
			s->data = c.p;
			s->dlen = s->size;
			c.p += s->size;
			if ((ty & 7) == 6) {
				/* past the read-ahead: read and hashed in the writer */
				s->fill = s->size ? 0 : 'z';
				s->size += PREFETCH_MAX_FILE + 1;
			}
			break;
		case 2:
		case 7:
			s->type = S_DIR;
			break;
		case 3: {
			size_t tl;
			s->type = S_SYMLINK;
			/* the target: symbols as they come, '/' and ".." kept */
			k = next(&c) % NAMEMAX + 1;
			tl = 0;
			for (unsigned j = 0; j < k && c.p < c.end; j++) {
				const char *y = SYM[next(&c) & 31];
				memcpy(s->target + tl, y, strlen(y));
				tl += strlen(y);
			}
			s->target[tl] = '\0';
			ok = ok && tl > 0;
			break;
		}
		case 4:
			s->type = S_HARDLINK;
			k = next(&c);
			/* the chosen earlier entry: its index in size (resolved in make_tree) */
			s->size = k;
			break;
		default:
			s->type = S_FIFO;
			break;
		}
		if (ok)
			t->n++;
	}
	t->ignore = c.p;
	t->ignore_len = (size_t)(c.end - c.p);
}

/* ---- making the tree ---- */

static char base[64];   /* the base directory, made once */
static char ctxdir[96]; /* base/c: the context */
static char outdir[96]; /* base/o: where an outside Dockerfile lives */
static int ctxfd = -1;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		fail("cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

static void rm_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
	static bool busy;

	if (base[0] && !busy) {
		busy = true;
		rm_tree(base);
		base[0] = '\0';
		busy = false;
	}
}

static void setup(void)
{
	if (base[0])
		return;
	snprintf(base, sizeof(base), "/tmp/ctxpack-fuzz-rt-XXXXXX");
	if (!mkdtemp(base))
		fail("mkdtemp: %s", strerror(errno));
	snprintf(ctxdir, sizeof(ctxdir), "%s/c", base);
	snprintf(outdir, sizeof(outdir), "%s/o", base);
	if (mkdir(outdir, 0755) < 0)
		fail("mkdir '%s': %s", outdir, strerror(errno));
	atexit(cleanup);
}

/* mkdir -p of path's parents below ctxfd; false when one is not a directory. */
static bool make_parents(const char *path, size_t len)
{
	char buf[sizeof(((struct spec *)0)->path)];

	memcpy(buf, path, len + 1);
	for (size_t i = 0; i < len; i++) {
		struct stat st;
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdirat(ctxfd, buf, 0755) < 0 && errno != EEXIST)
			return false;
		if (fstatat(ctxfd, buf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			return false;
		buf[i] = '/';
	}
	return true;
}

/* Bytes [off, off + k) of a spec'd regular file into out (whole copies,
 * not byte loops: the fuzzer instruments this file too). */
static void spec_bytes(const struct spec *s, uint64_t off, uint8_t *out, size_t k)
{
	if (!s->dlen) {
		memset(out, s->fill, k);
		return;
	}
	while (k) {
		size_t at = (size_t)(off % s->dlen), c = s->dlen - at < k ? s->dlen - at : k;
		memcpy(out, s->data + at, c);
		out += c;
		off += c;
		k -= c;
	}
}

static bool write_file(int dfd, const char *path, const struct spec *s, mode_t mode)
{
	int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return false;
	while (done < s->size) {
		static uint8_t buf[65536];
		size_t k;
		const uint8_t *src;
		if (s->size == s->dlen) {
			src = s->data + done;
			k = s->size - done;
		} else {
			k = s->size - done < sizeof(buf) ? s->size - done : sizeof(buf);
			spec_bytes(s, done, buf, k);
			src = buf;
		}
		ssize_t w = write(fd, src, k);
		if (w <= 0)
			fail("write: %s", strerror(errno));
		done += (size_t)w;
	}
	if (fchmod(fd, mode) < 0)
		fail("fchmod: %s", strerror(errno));
	close(fd);
	return true;
}

static struct spec *add_fixed(struct tree *t, const char *path, const void *data, size_t len)
{
	struct spec *s = &t->v[t->n++];

	memset(s, 0, sizeof(*s));
	s->len = strlen(path);
	memcpy(s->path, path, s->len + 1);
	s->type = S_FILE;
	s->data = data;
	s->size = s->dlen = len;
	return s;
}

static const char *const IGNORE_NAMES[] = {
	".dockerignore", "Dockerfile.dockerignore", "df/Dockerfile.dockerignore",
	"Dockerfile",    "dockerfile",              "df/Dockerfile",
};

/* Makes the tree; returns the -f argument (or NULL). */
static const char *make_tree(struct tree *t, char *dfpath, size_t dfsz)
{
	static const char *const df_names[4] = { "Dockerfile", NULL, "df/Dockerfile", "dockerfile" };
	size_t nin = t->n;
	struct spec in[MAXSPEC];
	const char *farg = NULL;

	memcpy(in, t->v, nin * sizeof(in[0]));
	t->n = 0;
	if (mkdir(ctxdir, 0755) < 0)
		fail("mkdir '%s': %s", ctxdir, strerror(errno));
	ctxfd = open(ctxdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctxfd < 0)
		fail("open '%s': %s", ctxdir, strerror(errno));

	/* The Dockerfile and the ignore files first (what the tree then
	 * collides with is skipped). */
	if (t->dfmode == 1) {
		struct spec df = { .type = S_FILE, .data = (const uint8_t *)DOCKERFILE_TEXT,
				   .size = sizeof(DOCKERFILE_TEXT) - 1,
				   .dlen = sizeof(DOCKERFILE_TEXT) - 1 };
		int ofd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(dfpath, dfsz, "%s/Dockerfile", outdir);
		if (ofd < 0 || !write_file(ofd, "Dockerfile", &df, 0644))
			fail("cannot write '%s'", dfpath);
		if (t->df_ignore) {
			struct spec ig = { .type = S_FILE, .data = t->ignore, .size = t->ignore_len,
					   .dlen = t->ignore_len };
			if (!write_file(ofd, "Dockerfile.dockerignore", &ig, 0644))
				fail("cannot write the outside ignore file");
		}
		close(ofd);
		farg = dfpath;
	} else {
		const char *name = df_names[t->dfmode];
		struct spec *s = add_fixed(t, name, DOCKERFILE_TEXT, sizeof(DOCKERFILE_TEXT) - 1);
		if (!make_parents(s->path, s->len) || !write_file(ctxfd, s->path, s, 0644))
			fail("cannot write '%s'", name);
		s->made = true;
		if (t->dfmode == 2) {
			snprintf(dfpath, dfsz, "%s/df/Dockerfile", ctxdir);
			farg = dfpath;
		}
		if (t->df_ignore) {
			s = add_fixed(t, t->dfmode == 2 ? "df/Dockerfile.dockerignore"
						      : "Dockerfile.dockerignore",
				      t->ignore, t->ignore_len);
			if (!write_file(ctxfd, s->path, s, 0644))
				fail("cannot write '%s'", s->path);
			s->made = true;
		}
	}
	/* Half a MiB of rules is many seconds under ASan: ignore files stay
	 * small.  (One that is a FIFO, or a link to one, is refused.) */
	for (size_t i = 0; i < nin; i++)
		for (size_t k = 0; k < sizeof(IGNORE_NAMES) / sizeof(IGNORE_NAMES[0]); k++)
			if (!strcmp(in[i].path, IGNORE_NAMES[k]) && in[i].type == S_FILE)
				in[i].size = in[i].dlen;
	if (!t->no_ignore) {
		struct spec *s = add_fixed(t, ".dockerignore", t->ignore, t->ignore_len);
		if (!write_file(ctxfd, s->path, s, 0644))
			fail("cannot write '.dockerignore'");
		s->made = true;
	}

	for (size_t i = 0; i < nin; i++) {
		struct spec *s = &t->v[t->n];
		bool ok;

		*s = in[i];
		if (!make_parents(s->path, s->len))
			continue;
		switch (s->type) {
		case S_FILE:
			ok = write_file(ctxfd, s->path, s, FILE_MODES[s->mode]);
			break;
		case S_DIR:
			ok = mkdirat(ctxfd, s->path, 0700) == 0 &&
			     fchmodat(ctxfd, s->path, DIR_MODES[s->mode], 0) == 0;
			break;
		case S_SYMLINK:
			ok = symlinkat(s->target, ctxfd, s->path) == 0;
			break;
		case S_FIFO:
			ok = mkfifoat(ctxfd, s->path, 0600) == 0 &&
			     fchmodat(ctxfd, s->path, FILE_MODES[s->mode] & 0777, 0) == 0;
			break;
		default: {
			/* a hard link to an earlier entry that is not a directory */
			size_t cand[MAXFILES], nc = 0;
			for (size_t j = 0; j < t->n; j++)
				if (t->v[j].made && t->v[j].type != S_DIR)
					cand[nc++] = j;
			ok = nc > 0;
			if (ok) {
				const struct spec *to = &t->v[cand[s->size % nc]];
				ok = linkat(ctxfd, to->path, ctxfd, s->path, 0) == 0;
				if (ok) {
					s->type = to->type;
					s->data = to->data;
					s->size = to->size;
					s->dlen = to->dlen;
					s->fill = to->fill;
					memcpy(s->target, to->target, sizeof(s->target));
				}
			}
			break;
		}
		}
		if (ok) {
			s->made = true;
			t->n++;
		}
	}
	/* mtimes last, deepest first: making an entry touches its directory */
	for (size_t i = t->n; i-- > 0;) {
		const struct spec *s = &t->v[i];
		struct timespec ts[2] = { { 0, UTIME_OMIT }, MTIMES[s->mtime] };
		if (s->mtime)
			utimensat(ctxfd, s->path, ts, AT_SYMLINK_NOFOLLOW);
	}
	return farg;
}

static void unmake_tree(void)
{
	if (ctxfd >= 0)
		close(ctxfd);
	ctxfd = -1;
	rm_tree(ctxdir);
	rm_tree(outdir);
	if (mkdir(outdir, 0755) < 0)
		fail("mkdir '%s': %s", outdir, strerror(errno));
}

static const struct spec *find_spec(const struct tree *t, const char *path, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].made && t->v[i].len == len && !memcmp(t->v[i].path, path, len))
			return &t->v[i];
	return NULL;
}

/* ---- what the archive must hold ---- */

struct want {
	const char *name; /* without the trailing '/' of a directory */
	size_t len;
	char type;        /* '0' '1' '2' '5' '6' */
	uint32_t mode;
	int64_t mtime;
	uint64_t size;
	const struct spec *content; /* regular files: spec'd content, or NULL with data */
	const char *data;           /* generated members: their content */
	const char *link;           /* symlink target or hard-link name */
	size_t link_len;
};

struct link_seen {
	uint64_t dev, ino;
	const struct walk_entry *first;
};

static size_t expect(const struct tree *t, const struct walk_result *res,
		     const struct pack_report *rep, enum ctxpack_builder b, struct want *w,
		     char *gen_ignore, size_t gen_ignore_sz, bool *ignore_not_file)
{
	struct link_seen seen[256];
	size_t ns = 0, n = 0, glen = 0;
	const struct walk_entry *ignore_entry = NULL;
	bool df_out = rep->dockerfile_name[0] != '\0';

	*ignore_not_file = false;
	for (size_t i = 0; df_out && i < res->n && !ignore_entry; i++)
		if (res->v[i]->len == 13 && !memcmp(res->v[i]->path, ".dockerignore", 13))
			ignore_entry = res->v[i];
	if (df_out) {
		/* .dockerignore with the generated name appended, or made */
		const struct spec *s = ignore_entry ? find_spec(t, ".dockerignore", 13) : NULL;
		size_t k = 0;
		if (ignore_entry && ignore_entry->type != WT_FILE)
			*ignore_not_file = true;
		if (ignore_entry && s && s->type == S_FILE && s->size + 100 < gen_ignore_sz) {
			spec_bytes(s, 0, (uint8_t *)gen_ignore, s->size);
			k = s->size;
		} else if (ignore_entry && ignore_entry->type == WT_FILE) {
			fail("the sent .dockerignore was not written by the harness");
		} else {
			memcpy(gen_ignore, ".dockerignore", 13);
			k = 13;
		}
		k += (size_t)sprintf(gen_ignore + k, "\n%s\n", rep->dockerfile_name);
		glen = k;
	}
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		struct want *x = &w[n++];

		memset(x, 0, sizeof(*x));
		if (!e->sent)
			fail("pack_list returned an entry not sent: '%s'", q(e->path, e->len));
		x->name = e->path;
		x->len = e->len;
		x->mode = e->mode & 07777;
		x->mtime = e->mtime_sec;
		if (e == ignore_entry) {
			x->type = '0';
			x->data = gen_ignore;
			x->size = glen;
			continue;
		}
		if (e->type != WT_DIR && e->nlink >= 2 &&
		    (b == CTXPACK_BUILDER_CLASSIC || e->type != WT_SYMLINK)) {
			const struct walk_entry *first = NULL;
			for (size_t j = 0; j < ns && !first; j++)
				if (seen[j].dev == e->dev && seen[j].ino == e->ino)
					first = seen[j].first;
			if (first) {
				x->type = '1';
				x->link = first->path;
				x->link_len = first->len;
				continue;
			}
			if (ns == sizeof(seen) / sizeof(seen[0]))
				fail("too many links");
			seen[ns++] = (struct link_seen){ e->dev, e->ino, e };
		}
		switch (e->type) {
		case WT_FILE: {
			const struct spec *s = find_spec(t, e->path, e->len);
			if (!s || s->type != S_FILE)
				fail("the walk sends a file the harness did not write: '%s'",
				     q(e->path, e->len));
			if (s->size != e->size)
				fail("walk size %llu of '%s', written %zu", (unsigned long long)e->size,
				     q(e->path, e->len), s->size);
			x->type = '0';
			x->size = e->size;
			x->content = s;
			break;
		}
		case WT_DIR:
			x->type = '5';
			break;
		case WT_SYMLINK: {
			const struct spec *s = find_spec(t, e->path, e->len);
			if (!e->link)
				fail("a symlink without a target in the walk: '%s'", q(e->path, e->len));
			if (!s || s->type != S_SYMLINK || strcmp(s->target, e->link))
				fail("the walk's symlink '%s' -> '%s' is not what was made",
				     q(e->path, e->len), q(e->link, strlen(e->link)));
			x->type = '2';
			x->link = e->link;
			x->link_len = strlen(e->link);
			break;
		}
		case WT_FIFO:
			x->type = '6';
			break;
		default:
			fail("the walk found a type the harness does not make: '%s'", q(e->path, e->len));
		}
	}
	if (df_out) {
		static struct spec dfs = { .type = S_FILE, .data = (const uint8_t *)DOCKERFILE_TEXT,
					   .size = sizeof(DOCKERFILE_TEXT) - 1,
					   .dlen = sizeof(DOCKERFILE_TEXT) - 1, .made = true };
		if (!ignore_entry) {
			struct want *x = &w[n++];
			memset(x, 0, sizeof(*x));
			x->name = ".dockerignore";
			x->len = 13;
			x->type = '0';
			x->mode = 0600;
			x->mtime = INT64_MIN; /* the Dockerfile's: not known here */
			x->data = gen_ignore;
			x->size = glen;
		}
		struct want *x = &w[n++];
		memset(x, 0, sizeof(*x));
		x->name = rep->dockerfile_name;
		x->len = strlen(rep->dockerfile_name);
		x->type = '0';
		x->mode = 0600;
		x->mtime = INT64_MIN;
		x->size = dfs.size;
		x->content = &dfs;
	}
	return n;
}

/* Reads fd's whole content (from offset 0) into a malloc'd buffer. */
static char *slurp(int fd, size_t *len)
{
	struct stat st;
	char *b;

	if (fstat(fd, &st) < 0)
		fail("fstat: %s", strerror(errno));
	b = malloc((size_t)st.st_size + 1);
	if (!b)
		fail("out of memory");
	if (pread(fd, b, (size_t)st.st_size, 0) != st.st_size)
		fail("pread: %s", strerror(errno));
	*len = (size_t)st.st_size;
	return b;
}

/* ---- the archive read by hand (uncompressed) ----
 *
 * libarchive 3.6 cannot return a link target that is not ASCII from a
 * tar the docker CLI (or ctxpack) writes, so names and link targets are
 * also checked here, byte for byte, in the headers and PAX records. */

static bool has_high_byte(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

static uint64_t octal(const char *f, size_t n)
{
	uint64_t v = 0;

	if ((unsigned char)f[0] & 0x80) {
		/* base-256 */
		v = (unsigned char)f[0] & 0x7f;
		for (size_t i = 1; i < n; i++)
			v = v << 8 | (unsigned char)f[i];
		return v;
	}
	for (size_t i = 0; i < n && f[i]; i++)
		if (f[i] >= '0' && f[i] <= '7')
			v = v * 8 + (uint64_t)(f[i] - '0');
	return v;
}

static size_t fieldlen(const char *f, size_t n)
{
	const char *z = memchr(f, 0, n);
	return z ? (size_t)(z - f) : n;
}

/* The PAX record key=value in rec[0..n) into *val (NULL if absent). */
static void pax_find(const char *rec, size_t n, const char *key, const char **val, size_t *vlen)
{
	size_t kl = strlen(key);

	*val = NULL;
	for (size_t at = 0; at < n;) {
		size_t len = 0, sp = at;
		while (sp < n && rec[sp] >= '0' && rec[sp] <= '9')
			len = len * 10 + (size_t)(rec[sp++] - '0');
		if (sp >= n || rec[sp] != ' ' || len == 0 || at + len > n || rec[at + len - 1] != '\n')
			fail("a malformed PAX record");
		if ((size_t)(at + len - sp - 2) >= kl && !memcmp(rec + sp + 1, key, kl) &&
		    rec[sp + 1 + kl] == '=') {
			*val = rec + sp + 2 + kl;
			*vlen = at + len - 1 - (sp + 2 + kl);
		}
		at += len;
	}
}

static void check_raw(const char *buf, size_t len, const struct want *w, size_t n, const char *bname)
{
	const char *pax = NULL;
	size_t paxlen = 0, i = 0, off = 0;
	static const char zero[1024];

	for (;;) {
		const char *h = buf + off, *pv, *lv;
		char name[4096];
		size_t nl, ll, pl, vl;
		uint64_t size;

		if (off + 1024 > len)
			fail("%s: the archive ends without two zero blocks", bname);
		if (!memcmp(h, zero, 512)) {
			if (memcmp(h + 512, zero, 512) || off + 1024 != len)
				fail("%s: no clean end of archive", bname);
			break;
		}
		if (memcmp(h + 257, "ustar\0" "00", 8))
			fail("%s: a header that is not ustar", bname);
		size = octal(h + 124, 12);
		if (h[156] == 'x') {
			if (pax)
				fail("%s: two PAX headers in a row", bname);
			pax = h + 512;
			paxlen = (size_t)size;
			off += 512 + (size + 511) / 512 * 512;
			continue;
		}
		if (i >= n)
			fail("%s: more members in the raw archive than sent", bname);
		const struct want *x = &w[i++];
		pl = fieldlen(h + 345, 155);
		nl = 0;
		if (pl) {
			memcpy(name, h + 345, pl);
			name[pl] = '/';
			nl = pl + 1;
		}
		memcpy(name + nl, h, fieldlen(h, 100));
		nl += fieldlen(h, 100);
		lv = h + 157;
		ll = fieldlen(h + 157, 100);
		if (pax) {
			pax_find(pax, paxlen, "path", &pv, &vl);
			if (pv) {
				if (vl >= sizeof(name))
					fail("%s: a PAX path too long", bname);
				memcpy(name, pv, vl);
				nl = vl;
			}
			pax_find(pax, paxlen, "linkpath", &pv, &vl);
			if (pv) {
				lv = pv;
				ll = vl;
			}
			pax_find(pax, paxlen, "size", &pv, &vl);
			if (pv) {
				size = 0;
				for (size_t k = 0; k < vl; k++)
					size = size * 10 + (uint64_t)(pv[k] - '0');
			}
			pax = NULL;
		}
		if (x->type == '5' ? (nl != x->len + 1 || name[x->len] != '/') : nl != x->len)
			fail("%s: raw member %zu is '%s', want '%s'", bname, i - 1, q(name, nl),
			     q(x->name, x->len));
		if (memcmp(name, x->name, x->len))
			fail("%s: raw member %zu is '%s', want '%s'", bname, i - 1, q(name, nl),
			     q(x->name, x->len));
		if (h[156] != x->type)
			fail("%s: raw '%s': type '%c', want '%c'", bname, q(name, nl), h[156], x->type);
		if ((x->type == '1' || x->type == '2') &&
		    (ll != x->link_len || memcmp(lv, x->link, ll)))
			fail("%s: raw '%s': link '%s', want '%s'", bname, q(name, nl), q(lv, ll),
			     q(x->link, x->link_len));
		if (size != (x->type == '0' ? x->size : 0))
			fail("%s: raw '%s': size %llu, want %llu", bname, q(name, nl),
			     (unsigned long long)size, (unsigned long long)x->size);
		off += 512 + (size + 511) / 512 * 512;
	}
	if (i != n)
		fail("%s: %zu raw members, %zu sent", bname, i, n);
}

static bool harmless(struct archive *a)
{
	const char *m = archive_error_string(a);
	return m && strstr(m, "can't be converted from");
}

/* The archive in buf against w[0..n). */
static void check_archive(const char *buf, size_t len, const struct want *w, size_t n,
			  const char *bname)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	static uint8_t data[PREFETCH_MAX_FILE + 128], want[PREFETCH_MAX_FILE + 128];
	size_t i = 0;
	int r;

	if (!a)
		fail("out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
		fail("%s: libarchive cannot open the archive: %s", bname, archive_error_string(a));
	for (;; i++) {
		const char *p, *hl, *sl;
		size_t pl;
		mode_t ft;

		r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && !(r == ARCHIVE_WARN && harmless(a)))
			fail("%s: member %zu: libarchive: %s", bname, i, archive_error_string(a));
		if (i >= n)
			fail("%s: member %zu '%s' beyond the %zu sent", bname, i,
			     archive_entry_pathname(ae), n);
		const struct want *x = &w[i];
		p = archive_entry_pathname(ae);
		if (!p)
			fail("%s: member %zu without a name", bname, i);
		pl = strlen(p);
		ft = archive_entry_filetype(ae);
		hl = archive_entry_hardlink(ae);
		sl = archive_entry_symlink(ae);
		if (x->type == '5') {
			if (pl != x->len + 1 || memcmp(p, x->name, x->len) || p[x->len] != '/')
				fail("%s: member %zu is '%s', want directory '%s/'", bname, i, q(p, pl),
				     q(x->name, x->len));
		} else if (pl != x->len || memcmp(p, x->name, x->len)) {
			fail("%s: member %zu is '%s', want '%s'", bname, i, q(p, pl), q(x->name, x->len));
		}
		if (archive_entry_uid(ae) || archive_entry_gid(ae))
			fail("%s: '%s': uid/gid not 0", bname, q(p, pl));
		if ((archive_entry_mode(ae) & 07777) != x->mode && x->type != '1')
			fail("%s: '%s': mode %o, want %o", bname, q(p, pl),
			     (unsigned)archive_entry_mode(ae) & 07777, x->mode);
		if (x->mtime != INT64_MIN && archive_entry_mtime(ae) != x->mtime)
			fail("%s: '%s': mtime %lld, want %lld", bname, q(p, pl),
			     (long long)archive_entry_mtime(ae), (long long)x->mtime);
		switch (x->type) {
		case '1':
			if (!hl && has_high_byte(x->link, x->link_len))
				break; /* libarchive loses it: check_raw saw it */
			if (!hl || strlen(hl) != x->link_len || memcmp(hl, x->link, x->link_len))
				fail("%s: '%s': hard link to '%s', want '%s'", bname, q(p, pl),
				     hl ? q(hl, strlen(hl)) : "(none)", q(x->link, x->link_len));
			if (archive_entry_size(ae) != 0)
				fail("%s: '%s': a hard link with data", bname, q(p, pl));
			break;
		case '2':
			if (hl || ft != AE_IFLNK)
				fail("%s: '%s': not a symlink", bname, q(p, pl));
			if (!sl && has_high_byte(x->link, x->link_len))
				break; /* libarchive loses it: check_raw saw it */
			if (!sl || strlen(sl) != x->link_len || memcmp(sl, x->link, x->link_len))
				fail("%s: '%s': symlink to '%s', want '%s'", bname, q(p, pl),
				     sl ? q(sl, strlen(sl)) : "(none)", q(x->link, x->link_len));
			break;
		case '5':
			if (hl || ft != AE_IFDIR)
				fail("%s: '%s': not a directory", bname, q(p, pl));
			break;
		case '6':
			if (hl || ft != AE_IFIFO)
				fail("%s: '%s': not a FIFO", bname, q(p, pl));
			break;
		default: {
			uint64_t got = 0;
			ssize_t k;
			if (hl || ft != AE_IFREG)
				fail("%s: '%s': not a regular file", bname, q(p, pl));
			if (!archive_entry_size_is_set(ae) || (uint64_t)archive_entry_size(ae) != x->size)
				fail("%s: '%s': size %lld, want %llu", bname, q(p, pl),
				     (long long)archive_entry_size(ae), (unsigned long long)x->size);
			while ((k = archive_read_data(a, data, sizeof(data))) > 0) {
				if (got + (uint64_t)k > x->size)
					fail("%s: '%s': more content than its size", bname, q(p, pl));
				if (x->data)
					memcpy(want, x->data + got, (size_t)k);
				else
					spec_bytes(x->content, got, want, (size_t)k);
				if (memcmp(data, want, (size_t)k))
					fail("%s: '%s': content differs in bytes %llu..%llu", bname,
					     q(p, pl), (unsigned long long)got,
					     (unsigned long long)(got + (uint64_t)k));
				got += (uint64_t)k;
			}
			if (k < 0)
				fail("%s: '%s': libarchive: %s", bname, q(p, pl), archive_error_string(a));
			if (got != x->size)
				fail("%s: '%s': %llu bytes of content, want %llu", bname, q(p, pl),
				     (unsigned long long)got, (unsigned long long)x->size);
		}
		}
	}
	if (i != n)
		fail("%s: %zu members, %zu sent", bname, i, n);
	archive_read_free(a);
}

static void print_members(const char *what, const struct member_list *l)
{
	fprintf(stderr, "--- %s\n", what);
	members_write_tsv(stderr, l);
}

static void digests(const struct member_list *l, uint8_t d[2][16])
{
	if (members_digest(l, false, d[0]) || members_digest(l, true, d[1]))
		fail("members_digest failed");
}

static int new_memfd(void)
{
	int fd = memfd_create("fuzz-roundtrip.tar", MFD_CLOEXEC);

	if (fd < 0)
		fail("memfd_create: %s", strerror(errno));
	return fd;
}

static void check_builder(const struct tree *t, const char *farg, enum ctxpack_builder b)
{
	const char *bname = b == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit";
	struct pack_options o = { .builder = b, .dir = ctxdir, .dockerfile = farg, .threads = 1 };
	struct walk_result res;
	struct pack_report lrep, rep, rep2;
	struct pack_session *s2 = NULL, *s3 = NULL;
	struct member_list ltar = { 0 }, l2 = { 0 }, l3 = { 0 };
	uint8_t dtar[2][16], d2[2][16], d3[2][16];
	static struct want w[MAXFILES * 64];
	size_t gsz = 200;
	char *gen_ignore;
	char err[1024] = "", err2[1024] = "", err3[1024] = "";
	int rc, rc2, rc3, fd = new_memfd(), fd2 = new_memfd();
	bool ignore_not_file;
	char *buf = NULL, *buf2 = NULL;
	size_t len, len2, n;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].type == S_FILE && t->v[i].size + 200 > gsz)
			gsz = t->v[i].size + 200;
	gen_ignore = malloc(gsz);
	o.tar.compression = (enum tar_compression)t->compression;
	o.tar.threads = 1;
	rc = pack_list(&o, &res, &lrep, NULL, err, sizeof(err));
	rc2 = pack_run(&o, fd, &rep, err2, sizeof(err2));
	if (rc) {
		/* refused up front: a bad pattern, a missing Dockerfile ... */
		if (rc >= 0 || !*err)
			fail("%s: pack_list failed with %d and no message", bname, rc);
		if (rc2 != rc || strcmp(err, err2))
			fail("%s: pack_list refused (%d: %s), pack_run said %d: %s", bname, rc, err, rc2,
			     err2);
		goto out;
	}
	if (res.n > MAXFILES * 64 - 2)
		fail("%s: too many entries", bname);
	if (!gen_ignore)
		fail("out of memory");
	n = expect(t, &res, &lrep, b, w, gen_ignore, gsz, &ignore_not_file);
	if (rc2) {
		/* Only a write that cannot be done fails after a walk that
		 * succeeded, and the cut archive must never read as whole. */
		if (!ignore_not_file || rc2 != -EINVAL || !*err2)
			fail("%s: pack_list succeeded, pack_run failed with %d: %s", bname, rc2, err2);
		if (lseek(fd, 0, SEEK_END) > 0) {
			lseek(fd, 0, SEEK_SET);
			if (!members_from_tar(&ltar, fd, "cut.tar", err3, sizeof(err3)))
				fail("%s: a failed pack's archive reads as complete", bname);
			if (!*err3)
				fail("%s: members_from_tar failed without a message", bname);
		}
		goto out;
	}
	if (ignore_not_file)
		fail("%s: pack_run added a name to a .dockerignore that is not a file", bname);
	if (rep.entries != n)
		fail("%s: pack_run reports %llu members, %zu expected", bname,
		     (unsigned long long)rep.entries, n);
	if (strcmp(rep.dockerfile_name, lrep.dockerfile_name) ||
	    rep.generated_files != lrep.generated_files)
		fail("%s: pack_run and pack_list disagree on the generated members", bname);
	buf = slurp(fd, &len);
	if (rep.out_bytes != len || (t->compression == TAR_NONE && rep.tar_bytes != len))
		fail("%s: %zu bytes written, pack_run reports %llu/%llu", bname, len,
		     (unsigned long long)rep.tar_bytes, (unsigned long long)rep.out_bytes);
	check_archive(buf, len, w, n, bname);

	/* A second session writes while hashing, uncompressed: the same
	 * archive, read by hand too. */
	o.hash = true;
	o.tar.compression = TAR_NONE;
	rc2 = pack_open(&s2, &o, err2, sizeof(err2));
	if (!rc2)
		rc2 = pack_write(s2, fd2, &rep2, err2, sizeof(err2));
	if (!rc2)
		rc2 = pack_members(s2, &l2, err2, sizeof(err2));
	if (rc2)
		fail("%s: a hashing pack failed where pack_run did not: %s", bname, err2);
	buf2 = slurp(fd2, &len2);
	if (t->compression == TAR_NONE && (len != len2 || memcmp(buf, buf2, len)))
		fail("%s: two packs of one tree differ", bname);
	check_raw(buf2, len2, w, n, bname);

	/* A third hashes without writing. */
	o.hash = false;
	rc3 = pack_open(&s3, &o, err3, sizeof(err3));
	if (!rc3)
		rc3 = pack_hash(s3, NULL, NULL, NULL, NULL, err3, sizeof(err3));
	if (!rc3)
		rc3 = pack_members(s3, &l3, err3, sizeof(err3));
	if (rc3)
		fail("%s: pack_hash/pack_members failed: %s", bname, err3);

	if (l2.n != n || l3.n != n)
		fail("%s: %zu members sent, the sessions list %zu and %zu", bname, n, l2.n, l3.n);
	digests(&l2, d2);
	digests(&l3, d3);
	lseek(fd, 0, SEEK_SET);
	rc = members_from_tar(&ltar, fd, "fuzz.tar", err, sizeof(err));
	if (rc) {
		/* only where libarchive loses a link target (members.c) */
		bool lost = false;
		for (size_t i = 0; i < n; i++)
			lost |= (w[i].type == '1' || w[i].type == '2') &&
				has_high_byte(w[i].link, w[i].link_len);
		if (!lost || !*err)
			fail("%s: members_from_tar: %s", bname, err);
		rc = 0;
		memcpy(dtar, d2, sizeof(dtar));
	} else {
		if (ltar.n != n)
			fail("%s: %zu members sent, the tar has %zu", bname, n, ltar.n);
		digests(&ltar, dtar);
	}
	if (memcmp(dtar, d2, sizeof(dtar)) || memcmp(dtar, d3, sizeof(dtar))) {
		print_members("tar", &ltar);
		print_members("write-hashed session", &l2);
		print_members("pack_hash session", &l3);
		fail("%s: the digests differ", bname);
	}
out:
	member_list_release(&ltar);
	member_list_release(&l2);
	member_list_release(&l3);
	pack_close(&s2);
	pack_close(&s3);
	if (!rc)
		walk_result_release(&res);
	free(buf);
	free(buf2);
	free(gen_ignore);
	close(fd);
	close(fd2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tree t;
	char dfpath[256];
	const char *farg;

	setup();
	decode(&t, data, size);
	farg = make_tree(&t, dfpath, sizeof(dfpath));
	check_builder(&t, farg, CTXPACK_BUILDER_BUILDKIT);
	check_builder(&t, farg, CTXPACK_BUILDER_CLASSIC);
	unmake_tree();
	return 0;
}
