/* fault_run.c: the library as the CLI drives it, with one injected fault.
 *
 * Linked against the static ctxpack_internal library with
 * -Wl,--wrap=SYMBOL for every libc call the library makes that can fail
 * (I/O, allocation, thread creation): the linker sends the library's calls
 * to __wrap_SYMBOL below, which counts them (atomically: the walker, the
 * read-ahead and the hashing workers are threads) and, when armed, makes
 * the Nth one fail:
 *
 *   FAULT_CALL=read FAULT_NTH=7 [FAULT_ERRNO=ENOSPC] fault_run pack DIR OUT
 *
 * I/O calls fail with EIO (or FAULT_ERRNO), allocations return NULL
 * (ENOMEM), pthread_create returns EAGAIN.  Only the library's own calls
 * are wrapped: libarchive, libzstd, libxxhash and libc call the real
 * functions (fault_run's own I/O uses __real_* so that it is not counted).
 *
 * Modes (what the CLI does):
 *   pack DIR OUT     pack_open + pack_write into OUT (a regular file), as
 *                    `ctxpack pack -o OUT`; --pipe: through a pipe drained
 *                    into OUT by a thread (`ctxpack pack | ...`); --hash: the
 *                    write hashes (`pack --manifest`); --gzip/--zstd
 *   digest DIR -     pack_open + pack_hash (no cache) + pack_members +
 *                    members_digest, as `ctxpack digest --no-cache DIR`
 *   cache DIR CACHE  the same through the hash cache at CACHE (opened,
 *                    looked up, saved), as `ctxpack digest DIR`; a failed
 *                    save is a warning (the digest stands), as in the CLI
 *   tar TAR -        members_from_tar + members_digest, as `ctxpack digest TAR`
 *   ls DIR -         pack_open listing all (measure_pruned) + stats_compute +
 *                    the duplicates (pack_hash of the candidates, dupes_find),
 *                    as `ctxpack ls` and `ctxpack stats --duplicates`
 *   explain DIR -    dockerctx_open + explain_path for every path the walk
 *                    met and a few it cannot have, as `ctxpack check-ignore -v`
 * (ls and explain print as digest= an XXH3-64 of what they found, so that
 * a run that succeeds can be compared with the fault-free one; ls prints
 * unreadable_dirs=N when directories below pruned ones were not sized.)
 * Options: -f DOCKERFILE, --classic, -j N, --no-openat2.
 *
 * Prints on stdout:
 *   rc=<0 or -errno>
 *   msg=<the library's message, empty on success>
 *   digest=<xxh3-128:...>                       (digest, cache, tar; on success)
 *   warning=<message>                           (cache: the save failed)
 *   fault=<call> nth=<N> hit=<0|1> output=<0|1> (when armed; output: the
 *                                                failed call wrote to OUT)
 *   calls <name>=<count> ...                    (every wrapped call)
 * Exit status 0 when rc is 0, 1 when it is not, 2 for a usage error. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack: not counted as an allocation */
#include <xxhash.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#include "dockerctx.h"
#include "dupes.h"
#include "explain.h"
#include "hashcache.h"
#include "hashfiles.h"
#include "members.h"
#include "pack.h"
#include "stats.h"
#include "beneath.h"
#include "tarwriter.h"

/* ---- the wrapped calls --------------------------------------------------- */

enum kind { K_IO, K_ALLOC, K_THREAD };

/* clang-format off */
#define CALLS(X) \
	X(read, K_IO) X(open64, K_IO) X(openat64, K_IO) X(syscall, K_IO) \
	X(fstatat64, K_IO) X(statx, K_IO) X(fstat64, K_IO) X(stat64, K_IO) X(lstat64, K_IO) \
	X(readlinkat, K_IO) X(realpath, K_IO) X(getxattr, K_IO) X(fgetxattr, K_IO) \
	X(write, K_IO) X(splice, K_IO) X(copy_file_range, K_IO) X(tee, K_IO) X(pipe2, K_IO) \
	X(pwrite64, K_IO) X(mkostemp64, K_IO) X(rename, K_IO) X(mkdir, K_IO) \
	X(malloc, K_ALLOC) X(calloc, K_ALLOC) X(realloc, K_ALLOC) X(aligned_alloc, K_ALLOC) \
	X(strdup, K_ALLOC) X(asprintf, K_ALLOC) X(vasprintf, K_ALLOC) \
	X(XXH3_createState, K_ALLOC) X(archive_write_new, K_ALLOC) \
	X(archive_read_new, K_ALLOC) X(archive_entry_new, K_ALLOC) \
	X(pthread_create, K_THREAD)
/* clang-format on */

#define ENUM(name, kind) C_##name,
enum call { CALLS(ENUM) NCALLS };
#define NAME(name, kind) #name,
static const char *const call_name[NCALLS] = { CALLS(NAME) };
#define KIND(name, kind) kind,
static const enum kind call_kind[NCALLS] = { CALLS(KIND) };

static atomic_ulong count[NCALLS];
static int armed = -1;           /* the call to fail, or -1 */
static unsigned long armed_nth;  /* 1-based */
static int armed_errno = EIO;
static atomic_int hit;           /* the fault fired */
static atomic_int hit_output;    /* ... on a write into the output */
static int out_fd = -1;          /* the archive's descriptor (pack) */
static bool trap;

/* Counts a call; true when this one is to fail. */
static bool fault(enum call c)
{
	unsigned long n = atomic_fetch_add(&count[c], 1) + 1;

	if ((int)c != armed || n != armed_nth)
		return false;
	atomic_store(&hit, 1);
	if (trap)
		raise(SIGTRAP); /* FAULT_TRAP: a debugger shows where */
	return true;
}

static bool fault_fd(enum call c, int fd)
{
	if (!fault(c))
		return false;
	if (fd == out_fd)
		atomic_store(&hit_output, 1);
	return true;
}

/* How a failing call fails: errno set, the failure value returned. */
#define FAIL_IO(rv) do { errno = armed_errno; return rv; } while (0)
#define FAIL_ALLOC() do { errno = ENOMEM; return NULL; } while (0)

/* A wrapper of the common shape: the prototypes -Wmissing-prototypes asks
 * for, then "if this call is to fail, fail, else call the real one". */
#define WRAP(ret, name, check, failure, params, args) \
	ret __real_##name params; \
	ret __wrap_##name params; \
	ret __wrap_##name params \
	{ \
		if (check) \
			failure; \
		return __real_##name args; \
	}

WRAP(ssize_t, read, fault(C_read), FAIL_IO(-1),
     (int fd, void *buf, size_t n), (fd, buf, n))

/* open's optional mode: read only when flags say it was passed (flags is
 * the last named parameter of both wrappers). */
#define OPEN_MODE(flags) \
	({ \
		mode_t m_ = 0; \
		if ((flags) & (O_CREAT | __O_TMPFILE)) { \
			va_list ap_; \
			va_start(ap_, flags); \
			m_ = va_arg(ap_, mode_t); \
			va_end(ap_); \
		} \
		m_; \
	})

int __real_open64(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);

	if (fault(C_open64))
		FAIL_IO(-1);
	return __real_open64(path, flags, mode);
}

int __real_openat64(int dfd, const char *path, int flags, ...);
int __wrap_openat64(int dfd, const char *path, int flags, ...);
int __wrap_openat64(int dfd, const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);

	if (fault(C_openat64))
		FAIL_IO(-1);
	return __real_openat64(dfd, path, flags, mode);
}

/* The library calls syscall() for openat2 and getdents64: at most four
 * arguments; six are passed on (x86-64 and aarch64 pass them in
 * registers, so reading unset ones is harmless there). */
long __real_syscall(long nr, ...);
long __wrap_syscall(long nr, ...);
long __wrap_syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (fault(C_syscall))
		FAIL_IO(-1);
	return __real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

WRAP(int, fstatat64, fault(C_fstatat64), FAIL_IO(-1),
     (int dfd, const char *path, struct stat *st, int flags), (dfd, path, st, flags))

WRAP(int, statx, fault(C_statx), FAIL_IO(-1),
     (int dfd, const char *path, int flags, unsigned mask, struct statx *sx), (dfd, path, flags, mask, sx))

WRAP(int, fstat64, fault(C_fstat64), FAIL_IO(-1),
     (int fd, struct stat *st), (fd, st))

WRAP(int, stat64, fault(C_stat64), FAIL_IO(-1),
     (const char *path, struct stat *st), (path, st))

WRAP(int, lstat64, fault(C_lstat64), FAIL_IO(-1),
     (const char *path, struct stat *st), (path, st))

WRAP(ssize_t, readlinkat, fault(C_readlinkat), FAIL_IO(-1),
     (int dfd, const char *path, char *buf, size_t n), (dfd, path, buf, n))

WRAP(char *, realpath, fault(C_realpath), FAIL_IO(NULL),
     (const char *path, char *resolved), (path, resolved))

WRAP(ssize_t, getxattr, fault(C_getxattr), FAIL_IO(-1),
     (const char *path, const char *name, void *v, size_t n), (path, name, v, n))

WRAP(ssize_t, fgetxattr, fault(C_fgetxattr), FAIL_IO(-1),
     (int fd, const char *name, void *v, size_t n), (fd, name, v, n))

WRAP(ssize_t, write, fault_fd(C_write, fd), FAIL_IO(-1),
     (int fd, const void *buf, size_t n), (fd, buf, n))

WRAP(ssize_t, splice, fault_fd(C_splice, out), FAIL_IO(-1),
     (int in, loff_t *inoff, int out, loff_t *outoff, size_t n, unsigned fl), (in, inoff, out, outoff, n, fl))

WRAP(ssize_t, copy_file_range, fault_fd(C_copy_file_range, out), FAIL_IO(-1),
     (int in, loff_t *inoff, int out, loff_t *outoff, size_t n, unsigned fl), (in, inoff, out, outoff, n, fl))

WRAP(ssize_t, tee, fault_fd(C_tee, out), FAIL_IO(-1),
     (int in, int out, size_t n, unsigned fl), (in, out, n, fl))

WRAP(int, pipe2, fault(C_pipe2), FAIL_IO(-1),
     (int fds[2], int flags), (fds, flags))

WRAP(ssize_t, pwrite64, fault(C_pwrite64), FAIL_IO(-1),
     (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off))

WRAP(int, mkostemp64, fault(C_mkostemp64), FAIL_IO(-1),
     (char *tmpl, int flags), (tmpl, flags))

WRAP(int, rename, fault(C_rename), FAIL_IO(-1),
     (const char *a, const char *b), (a, b))

WRAP(int, mkdir, fault(C_mkdir), FAIL_IO(-1),
     (const char *path, mode_t mode), (path, mode))

WRAP(void *, malloc, fault(C_malloc), FAIL_ALLOC(),
     (size_t n), (n))

WRAP(void *, calloc, fault(C_calloc), FAIL_ALLOC(),
     (size_t n, size_t size), (n, size))

WRAP(void *, realloc, fault(C_realloc), FAIL_ALLOC(),
     (void *p, size_t n), (p, n))

WRAP(void *, aligned_alloc, fault(C_aligned_alloc), FAIL_ALLOC(),
     (size_t align, size_t n), (align, n))

WRAP(char *, strdup, fault(C_strdup), FAIL_ALLOC(),
     (const char *s), (s))

int __real_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
	if (fault(C_vasprintf)) {
		errno = ENOMEM;
		return -1;
	}
	return __real_vasprintf(out, fmt, ap);
}

int __wrap_asprintf(char **out, const char *fmt, ...);
int __wrap_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (fault(C_asprintf)) {
		errno = ENOMEM;
		return -1;
	}
	va_start(ap, fmt);
	r = __real_vasprintf(out, fmt, ap);
	va_end(ap);
	return r;
}

WRAP(XXH3_state_t *, XXH3_createState, fault(C_XXH3_createState), FAIL_ALLOC(),
     (void), ())

WRAP(struct archive *, archive_write_new, fault(C_archive_write_new), FAIL_ALLOC(),
     (void), ())

WRAP(struct archive *, archive_read_new, fault(C_archive_read_new), FAIL_ALLOC(),
     (void), ())

WRAP(struct archive_entry *, archive_entry_new, fault(C_archive_entry_new), FAIL_ALLOC(),
     (void), ())

int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (fault(C_pthread_create))
		return EAGAIN;
	return __real_pthread_create(t, attr, fn, arg);
}

/* ---- the runs ------------------------------------------------------------ */

static void arm(void)
{
	const char *call = getenv("FAULT_CALL"), *nth = getenv("FAULT_NTH");
	const char *e = getenv("FAULT_ERRNO");

	trap = getenv("FAULT_TRAP") != NULL;
	if (!call || !*call)
		return;
	for (int c = 0; c < NCALLS; c++)
		if (!strcmp(call, call_name[c]))
			armed = c;
	if (armed < 0 || !nth || (armed_nth = strtoul(nth, NULL, 10)) == 0) {
		fprintf(stderr, "fault_run: FAULT_CALL='%s' FAULT_NTH='%s': unknown call or bad N\n",
			call, nth ? nth : "");
		exit(2);
	}
	if (e && !strcmp(e, "ENOSPC"))
		armed_errno = ENOSPC;
	else if (e && !strcmp(e, "EPIPE"))
		armed_errno = EPIPE;
	else if (e && *e && strcmp(e, "EIO")) {
		fprintf(stderr, "fault_run: FAULT_ERRNO='%s': EIO, ENOSPC or EPIPE\n", e);
		exit(2);
	}
	if (call_kind[armed] != K_IO && e && *e) {
		fprintf(stderr, "fault_run: FAULT_ERRNO is for I/O calls\n");
		exit(2);
	}
}

/* --pipe: the archive goes into a pipe; this thread drains it into the
 * output file. */
struct drain {
	int in, out;
	int err;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char buf[65536];

	for (;;) {
		ssize_t n = __real_read(d->in, buf, sizeof(buf)), w = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			d->err = n < 0 ? errno : 0;
			break;
		}
		while (w < n) {
			ssize_t k = __real_write(d->out, buf + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				d->err = errno;
				return NULL;
			}
			w += k;
		}
	}
	return NULL;
}

struct args {
	const char *mode, *dir, *out, *dockerfile;
	bool classic, hash, pipe, no_openat2;
	int threads;
	enum tar_compression compression;
};

static int run_pack(const struct args *a, char *err, size_t errsz)
{
	struct pack_options o = { .builder = a->classic ? CTXPACK_BUILDER_CLASSIC
							: CTXPACK_BUILDER_BUILDKIT,
				  .dir = a->dir, .dockerfile = a->dockerfile, .threads = a->threads,
				  .hash = a->hash };
	struct pack_session *s = NULL;
	struct pack_report rep;
	struct drain d = { -1, -1, 0 };
	pthread_t tid;
	int fd, p[2] = { -1, -1 }, rc;

	o.tar.compression = a->compression;
	fd = __real_open64(a->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errsz, "fault_run: cannot create '%s': %s", a->out, strerror(errno));
		return -errno;
	}
	if (a->pipe) {
		if (__real_pipe2(p, O_CLOEXEC) < 0) {
			rc = -errno;
			snprintf(err, errsz, "fault_run: pipe: %s", strerror(errno));
			close(fd);
			return rc;
		}
		d.in = p[0];
		d.out = fd;
		rc = __real_pthread_create(&tid, NULL, drain_main, &d);
		if (rc) {
			snprintf(err, errsz, "fault_run: pthread_create: %s", strerror(rc));
			close(p[0]);
			close(p[1]);
			close(fd);
			return -rc;
		}
		out_fd = p[1];
	} else {
		out_fd = fd;
	}
	rc = pack_open(&s, &o, err, errsz);
	if (!rc)
		rc = pack_write(s, out_fd, &rep, err, errsz);
	pack_close(&s);
	if (a->pipe) {
		close(p[1]);
		pthread_join(tid, NULL);
		close(p[0]);
		if (d.err && !rc) {
			snprintf(err, errsz, "fault_run: draining the pipe: %s", strerror(d.err));
			rc = -d.err;
		}
	}
	if (close(fd) < 0 && !rc) {
		rc = -errno;
		snprintf(err, errsz, "fault_run: closing '%s': %s", a->out, strerror(errno));
	}
	return rc;
}

static int run_digest(const struct args *a, bool cache, char *digest, char *warning, size_t wsz,
		      char *err, size_t errsz)
{
	struct pack_options o = { .builder = a->classic ? CTXPACK_BUILDER_CLASSIC
							: CTXPACK_BUILDER_BUILDKIT,
				  .dir = a->dir, .dockerfile = a->dockerfile, .threads = a->threads };
	struct pack_session *s = NULL;
	struct hashcache *hc = NULL;
	struct member_list l = { 0 };
	uint8_t d[16];
	int rc;

	rc = pack_open(&s, &o, err, errsz);
	if (!rc && cache)
		rc = hashcache_open(&hc, a->out, err, errsz);
	if (!rc)
		rc = pack_hash(s, NULL, hc, NULL, NULL, err, errsz);
	if (!rc)
		rc = pack_members(s, &l, err, errsz);
	if (!rc) {
		rc = members_digest(&l, false, d);
		if (rc)
			snprintf(err, errsz, "members_digest: %s", strerror(-rc));
	}
	if (!rc)
		members_digest_string(d, digest);
	member_list_release(&l);
	/* As the CLI: what was hashed is saved even when another file
	 * failed; a failed save is only a warning. */
	if (hc && hashcache_save(hc, warning, wsz) && !*warning)
		snprintf(warning, wsz, "hashcache_save failed without a message");
	hashcache_free(&hc);
	pack_close(&s);
	return rc;
}

static int run_tar(const struct args *a, char *digest, char *err, size_t errsz)
{
	struct member_list l = { 0 };
	uint8_t d[16];
	int fd = __real_open64(a->dir, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		snprintf(err, errsz, "fault_run: cannot open '%s': %s", a->dir, strerror(errno));
		return -errno;
	}
	rc = members_from_tar(&l, fd, a->dir, err, errsz);
	close(fd);
	if (!rc) {
		rc = members_digest(&l, false, d);
		if (rc)
			snprintf(err, errsz, "members_digest: %s", strerror(-rc));
	}
	if (!rc)
		members_digest_string(d, digest);
	member_list_release(&l);
	return rc;
}

/* What a listing found, folded into one hash for comparison. */
static void fold(XXH3_state_t *x, const void *p, size_t n)
{
	XXH3_64bits_update(x, p, n);
}

static void fold_u64(XXH3_state_t *x, uint64_t v)
{
	fold(x, &v, sizeof(v));
}

static void fold_done(XXH3_state_t *x, char *digest)
{
	snprintf(digest, 42, "xxh3-64:%016llx", (unsigned long long)XXH3_64bits_digest(x));
}

static const uint8_t *dupes_hash_of(const void *arg, size_t i)
{
	return pack_file_hash(arg, i);
}

static int run_ls(const struct args *a, char *digest, char *err, size_t errsz)
{
	struct pack_options o = { .builder = a->classic ? CTXPACK_BUILDER_CLASSIC
							: CTXPACK_BUILDER_BUILDKIT,
				  .dir = a->dir, .dockerfile = a->dockerfile, .threads = a->threads,
				  .list_all = true, .measure_pruned = true };
	struct pack_session *s = NULL;
	struct stats st = { 0 };
	struct dupes d = { 0 };
	XXH3_state_t x;
	bool *want = NULL;
	int rc;

	rc = pack_open(&s, &o, err, errsz);
	if (rc)
		goto out;
	const struct walk_result *res = pack_entries(s);
	if (!(want = calloc(res->n ? res->n : 1, sizeof(*want)))) {
		rc = -ENOMEM;
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	pack_plan_linked(s, want);
	rc = stats_compute(&st, res, want, 64, 10);
	free(want);
	want = NULL;
	if (rc) {
		snprintf(err, errsz, "stats_compute: %s", strerror(-rc));
		goto out;
	}
	if (!(want = calloc(res->n ? res->n : 1, sizeof(*want)))) {
		rc = -ENOMEM;
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	dupes_candidates(want, res);
	rc = pack_hash(s, want, NULL, NULL, NULL, err, errsz);
	if (!rc && (rc = dupes_find(&d, res, want, dupes_hash_of, s)))
		snprintf(err, errsz, "dupes_find: %s", strerror(-rc));
	if (rc)
		goto out;
	XXH3_64bits_reset(&x);
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		fold(&x, e->path, e->len + 1);
		fold_u64(&x, ((uint64_t)e->sent << 40) | ((uint64_t)e->verdict << 32) | (uint32_t)e->rule);
		fold_u64(&x, e->size);
	}
	for (size_t i = 0; i < res->npruned; i++)
		fold_u64(&x, res->pruned[i].files ^ res->pruned[i].bytes << 20);
	/* What `ls` lists as sent: the member plan. */
	for (size_t k = 0; k < pack_plan(s)->n; k++) {
		const struct pack_member *m = &pack_plan(s)->v[k];
		fold(&x, m->path, m->len);
		fold_u64(&x, (uint64_t)m->type << 56 | (uint64_t)m->kind << 48 | m->mode);
		fold_u64(&x, m->size);
		if (m->link)
			fold(&x, m->link, m->link_len + 1);
	}
	fold(&x, &st.scanned, sizeof(st.scanned));
	fold(&x, &st.sent, sizeof(st.sent));
	fold(&x, &st.excluded, sizeof(st.excluded));
	fold_u64(&x, d.ngroups);
	fold_u64(&x, d.repeated_bytes);
	fold_done(&x, digest);
	/* Directories below pruned ones that could not be read are left out
	 * of the sizes and counted (stats' unreadable_dirs): a fault there
	 * changes the numbers, visibly. */
	if (st.unreadable_dirs)
		printf("unreadable_dirs=%llu\n", (unsigned long long)st.unreadable_dirs);
out:
	dupes_release(&d);
	free(want);
	stats_free(&st);
	pack_close(&s);
	return rc;
}

static int run_explain(const struct args *a, char *digest, char *err, size_t errsz)
{
	static const char *const extra[] = { "no/such/path", "node_modules/x/y", "src/a",
					     ".dockerignore", "Dockerfile" };
	struct pack_options o = { .builder = a->classic ? CTXPACK_BUILDER_CLASSIC
							: CTXPACK_BUILDER_BUILDKIT,
				  .dir = a->dir, .dockerfile = a->dockerfile, .threads = a->threads,
				  .list_all = true };
	struct walk_result res = { 0 };
	struct pack_report rep;
	struct dockerctx ctx = { 0 };
	struct explainer e = { 0 };
	struct explain_result r;
	XXH3_state_t x;
	int rc;

	/* The paths to explain come from a walk; the explanation is lexical. */
	rc = pack_list(&o, &res, &rep, &ctx, err, errsz);
	if (rc)
		return rc;
	rc = explainer_init(&e, ctx.match);
	if (rc) {
		snprintf(err, errsz, "explainer_init: %s", strerror(-rc));
		goto out;
	}
	XXH3_64bits_reset(&x);
	for (size_t i = 0; i < res.n + ARRAY_LEN(extra); i++) {
		const char *p = i < res.n ? res.v[i]->path : extra[i - res.n];

		rc = explain_path(&e, p, strlen(p), &r);
		if (rc) {
			snprintf(err, errsz, "explain_path '%s': %s", p, strerror(-rc));
			goto out;
		}
		fold(&x, p, strlen(p) + 1);
		fold_u64(&x, ((uint64_t)r.sent << 48) | ((uint64_t)r.pruned << 40) |
				     ((uint64_t)r.verdict << 32) | (uint32_t)r.rule);
	}
	fold_done(&x, digest);
out:
	explainer_release(&e);
	walk_result_release(&res);
	dockerctx_close(&ctx);
	return rc;
}

static int usage(void)
{
	fputs("usage: fault_run pack|digest|cache|tar|ls|explain DIR|TAR OUT|CACHE|- [-f DOCKERFILE]\n"
	      "       [--classic] [-j N] [--hash] [--pipe] [--gzip|--zstd] [--no-openat2]\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	char err[1024] = "", warning[1024] = "", digest[42] = "";
	int rc;

	if (argc < 4)
		return usage();
	a.mode = argv[1];
	a.dir = argv[2];
	a.out = argv[3];
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "-f") && i + 1 < argc)
			a.dockerfile = argv[++i];
		else if (!strcmp(argv[i], "-j") && i + 1 < argc)
			a.threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--classic"))
			a.classic = true;
		else if (!strcmp(argv[i], "--hash"))
			a.hash = true;
		else if (!strcmp(argv[i], "--pipe"))
			a.pipe = true;
		else if (!strcmp(argv[i], "--gzip"))
			a.compression = TAR_GZIP;
		else if (!strcmp(argv[i], "--zstd"))
			a.compression = TAR_ZSTD;
		else if (!strcmp(argv[i], "--no-openat2"))
			a.no_openat2 = true;
		else
			return usage();
	}
	arm();
	if (a.no_openat2)
		beneath_disable_openat2();
	if (!strcmp(a.mode, "pack"))
		rc = run_pack(&a, err, sizeof(err));
	else if (!strcmp(a.mode, "digest") || !strcmp(a.mode, "cache"))
		rc = run_digest(&a, !strcmp(a.mode, "cache"), digest, warning, sizeof(warning), err,
				sizeof(err));
	else if (!strcmp(a.mode, "tar"))
		rc = run_tar(&a, digest, err, sizeof(err));
	else if (!strcmp(a.mode, "ls"))
		rc = run_ls(&a, digest, err, sizeof(err));
	else if (!strcmp(a.mode, "explain"))
		rc = run_explain(&a, digest, err, sizeof(err));
	else
		return usage();

	printf("rc=%d\nmsg=%s\n", rc, rc ? err : "");
	if (!rc && *digest)
		printf("digest=%s\n", digest);
	if (*warning)
		printf("warning=%s\n", warning);
	if (armed >= 0)
		printf("fault=%s nth=%lu hit=%d output=%d\n", call_name[armed], armed_nth,
		       atomic_load(&hit), atomic_load(&hit_output));
	fputs("calls", stdout);
	for (int c = 0; c < NCALLS; c++)
		printf(" %s=%lu", call_name[c], atomic_load(&count[c]));
	putchar('\n');
	return rc ? 1 : 0;
}
