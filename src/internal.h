/* internal.h: helpers shared by the library's modules (not installed). */
#ifndef CTXPACK_INTERNAL_H
#define CTXPACK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Grows arr (of nr used, alloc allocated elements) to hold at least n
 * elements.  Returns 0, or -1 on overflow or allocation failure (arr is
 * then unchanged). */
int grow_array(void **arr, size_t *alloc, size_t n, size_t elem);
#define GROW(arr, alloc, n) grow_array((void **)&(arr), &(alloc), (n), sizeof(*(arr)))

/* malloc'd copy of s[0..len) with a NUL after it, or NULL. */
char *xmemdup(const char *s, size_t len);
/* The value of hexadecimal digit c, or -1. */
int hex_value(int c);

/* Threads for a job: requested, or the online CPUs when requested <= 0,
 * at most max, at most work (the items there are to share), and no more
 * than the descriptors left under RLIMIT_NOFILE feed (each worker holds up
 * to FDS_PER_THREAD at a time; what the process has open already is
 * counted), so that `-j 8` under a small `ulimit -n`, or in a program that
 * holds many files, runs on fewer threads instead of failing.  At least 1. */
#define FDS_PER_THREAD 3
int thread_count(int requested, int max, size_t work);
/* The descriptors RLIMIT_NOFILE leaves beside those the process has open
 * and a few the caller may still open (LONG_MAX: no limit); counted only
 * when the limit is below enough + 65536 (else the limit itself). */
long fd_spare(long enough);

/* openat(dfd, path, flags) without following a symlink anywhere on the
 * way: each directory is opened with O_NOFOLLOW (a symlink there: ELOOP);
 * the last component as flags say (add O_NOFOLLOW to refuse it too).
 * path: plain names joined by '/'.  Returns fd or -1 with errno. */
int openat_nofollow(int dfd, const char *path, int flags);

/* Formats the message into err (errsz bytes; none if err is NULL) and
 * returns rc: `return set_errmsg(err, errsz, -ENOENT, "cannot open '%s'", p);` */
int set_errmsg(char *err, size_t errsz, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The one quoting of bytes from the user's files (a rule, a path) in a
 * message: valid UTF-8 stays as it is (backslashes too: they are pattern
 * syntax), and every C0 control byte (NUL included), DEL, C1 control and
 * byte that is not part of valid UTF-8 becomes \xHH, so that no message
 * carries a terminal escape or stops at a NUL.  text_quote writes
 * s[0..n) escaped into out (outsz > 4 bytes, NUL-terminated, cut with
 * "..." when it does not fit) and returns out; text_fputq writes it to f. */
const char *text_quote(char *out, size_t outsz, const char *s, size_t n);
/* The escaper of one sequence at s[0..len) (len > 0) into e (at most 8
 * bytes); returns the input bytes consumed, *elen the output length. */
typedef size_t text_escape_fn(const unsigned char *s, size_t len, char *e, size_t *elen);
/* text_quote with another escaper (the TSV manifest's, which escapes
 * backslashes too): the same cut with "..." into out. */
const char *text_quote_with(char *out, size_t outsz, const char *s, size_t n, text_escape_fn *one);
void text_fputq(FILE *f, const char *s, size_t n);
/* s[0..n) quoted whole into a malloc'd string, or NULL. */
char *text_quote_dup(const char *s, size_t n);

#endif
