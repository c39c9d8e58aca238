/* util.c: array growth and copies with checked sizes, error messages,
 * thread counts, opening without following symlinks. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "utf8.h"

int grow_array(void **arr, size_t *alloc, size_t n, size_t elem)
{
	size_t na, bytes;
	void *p;

	if (n <= *alloc)
		return 0;
	na = *alloc ? *alloc : 8;
	while (na < n) {
		if (na > SIZE_MAX / 2)
			return -1;
		na *= 2;
	}
	if (__builtin_mul_overflow(na, elem, &bytes))
		return -1;
	p = realloc(*arr, bytes);
	if (!p)
		return -1;
	*arr = p;
	*alloc = na;
	return 0;
}

char *xmemdup(const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = malloc(len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int set_errmsg(char *err, size_t errsz, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errsz) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Descriptors this process has open now (/proc/self/fd), or -1. */
static long open_fds(void)
{
	struct dirent *de;
	long n = -1; /* the directory's own descriptor */
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The threads RLIMIT_NOFILE leaves room for, beside what the process has
 * open already (a program using the library may hold many) and what the
 * caller may still open (FDS_LATER: the output, a pipe pair for splicing,
 * an ignore file); every worker may hold FDS_PER_THREAD. */
#define FDS_LATER 4
#define FDS_ASSUMED_OPEN 4 /* without /proc: the standard streams and the root */
long fd_spare(long enough)
{
	struct rlimit rl;
	long busy;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (rlim_t)LONG_MAX / 2)
		return LONG_MAX;
	if ((long)rl.rlim_cur >= enough + 65536)
		return (long)rl.rlim_cur; /* no need to count what is open */
	busy = open_fds();
	if (busy < 0)
		busy = FDS_ASSUMED_OPEN;
	return (long)rl.rlim_cur - busy - FDS_LATER;
}

static long fd_thread_cap(long n)
{
	long room = fd_spare((n + 1) * FDS_PER_THREAD);

	room = room == LONG_MAX ? n : room / FDS_PER_THREAD;
	return n < room ? n : room;
}

int thread_count(int requested, int max, size_t work)
{
	long n = requested;

	if (n <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? c : 1;
	}
	if (n > max)
		n = max;
	if ((size_t)n > work)
		n = (long)work;
	if (n > 1)
		n = fd_thread_cap(n);
	return n > 0 ? (int)n : 1;
}

/* Opens path below dfd one component at a time, each directory opened
 * with O_NOFOLLOW (where openat2's RESOLVE_NO_SYMLINKS is missing), so no symlink on the way is followed
 * (a symlink where a directory was gives ELOOP, as openat2 would).  The
 * paths are the walk's: plain names, no "." or "..", no leading '/'. */
int openat_nofollow(int dfd, const char *path, int flags)
{
	char name[NAME_MAX + 1];
	const char *p = path, *slash;
	int cur = dfd, fd;

	while ((slash = strchr(p, '/'))) {
		size_t n = (size_t)(slash - p);
		int nd;
		struct stat st;
		if (n == 0 || n > NAME_MAX) {
			errno = n ? ENAMETOOLONG : ENOENT;
			fd = -1;
			goto out;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		nd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nd < 0) {
			int e = errno;
			if (e == ENOTDIR && !fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) &&
			    S_ISLNK(st.st_mode))
				e = ELOOP;
			errno = e;
			fd = -1;
			goto out;
		}
		if (cur != dfd)
			close(cur);
		cur = nd;
		p = slash + 1;
	}
	fd = openat(cur, p, flags);
out:
	if (cur != dfd) {
		int e = errno;
		close(cur);
		errno = e;
	}
	return fd;
}

/* The escape of the sequence at s[0..len) (len > 0) into e (see
 * text_quote).  Returns the input bytes consumed; *elen gets the output
 * length (at most 8). */
static size_t quote_one(const unsigned char *s, size_t len, char e[8], size_t *elen)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t r;
	size_t w = utf8_decode(s, len, &r);

	if ((r == UTF8_RUNE_ERROR && w == 1) || r < 0x20 || (r >= 0x7f && r < 0xa0)) {
		*elen = 0;
		for (size_t i = 0; i < w; i++) {
			e[(*elen)++] = '\\';
			e[(*elen)++] = 'x';
			e[(*elen)++] = hex[s[i] >> 4];
			e[(*elen)++] = hex[s[i] & 15];
		}
		return w;
	}
	memcpy(e, s, w);
	*elen = w;
	return w;
}

const char *text_quote(char *out, size_t outsz, const char *s, size_t n)
{
	return text_quote_with(out, outsz, s, n, quote_one);
}

const char *text_quote_with(char *out, size_t outsz, const char *s, size_t n,
			    text_escape_fn *one)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < n) {
		char e[8];
		size_t elen, w = one(u + i, n - i, e, &elen);
		if (o + elen + 4 > outsz) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, e, elen);
		o += elen;
		i += w;
	}
	out[o] = '\0';
	return out;
}

char *text_quote_dup(const char *s, size_t n)
{
	/* at most 4 bytes out for a byte in, and no "..." cut */
	char *q = n < SIZE_MAX / 4 - 8 ? malloc(4 * n + 5) : NULL;

	return q ? (char *)text_quote(q, 4 * n + 5, s, n) : NULL;
}

void text_fputq(FILE *f, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		char e[8];
		size_t elen;
		i += quote_one(u + i, n - i, e, &elen);
		fwrite(e, 1, elen, f);
	}
}
