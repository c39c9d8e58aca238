/* util.c: array growth and copies with checked sizes, error messages. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

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
	return (int)n;
}
