/* beneath.c: opening files beneath the context root (see beneath.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "beneath.h"
#include "internal.h"

/* openat2 is missing (before Linux 5.6) or refused by a seccomp filter. */
static atomic_bool no_openat2;

void beneath_disable_openat2(void)
{
	atomic_store(&no_openat2, true);
}

/* openat2(dfd, path, how), or -1 with errno ENOSYS when it is missing or
 * refused (remembered). */
static int openat2_or_nosys(int dfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = { .flags = flags, .resolve = resolve };
	int fd;

	if (atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
		errno = ENOSYS;
		return -1;
	}
	fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
		atomic_store_explicit(&no_openat2, true, memory_order_relaxed);
		errno = ENOSYS;
	}
	return fd;
}

static int openat_beneath(int dfd, const char *path, int flags)
{
	int fd = openat2_or_nosys(dfd, path, (uint64_t)flags,
				  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);

	if (fd < 0 && errno == ENOSYS)
		return openat_nofollow(dfd, path, flags);
	return fd;
}

int beneath_open(int dfd, const char *path, size_t len, int flags)
{
	char chunk[PATH_MAX];
	int cur = dfd, fd;

	while (len >= PATH_MAX) {
		size_t cut = PATH_MAX - 1;
		int nd;
		while (cut > 0 && path[cut] != '/')
			cut--;
		if (cut == 0) {
			fd = -ENAMETOOLONG;
			goto out;
		}
		memcpy(chunk, path, cut);
		chunk[cut] = 0;
		nd = openat_beneath(cur, chunk, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (nd < 0) {
			fd = -errno;
			goto out;
		}
		if (cur != dfd)
			close(cur);
		cur = nd;
		path += cut + 1;
		len -= cut + 1;
	}
	fd = openat_beneath(cur, path, flags);
	if (fd < 0)
		fd = -errno;
out:
	if (cur != dfd)
		close(cur);
	return fd;
}

int beneath_open_in_root(int dfd, const char *name, int flags)
{
	int fd = openat2_or_nosys(dfd, name, (uint64_t)flags, RESOLVE_IN_ROOT);

	if (fd < 0 && errno == ENOSYS)
		/* Refuse symlinks rather than follow them out. */
		fd = openat_nofollow(dfd, name, flags | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}
