/* tar_write.c: writes a tar of the given paths with src/tarwriter.c, for
 * comparing its bytes with another writer's (tests/tools/docker_tar_bytes.py
 * against the docker CLI's).
 *
 *   tar_write [-c none|gzip|zstd] [-l LEVEL] [-t THREADS] [-m MTIME_MAX] [-s]
 *             ROOT OUT < PATHS
 *
 * PATHS: the members' paths relative to ROOT, NUL-terminated, in archive
 * order.  Entries are filled from lstat as the walker would; hard links as
 * moby/go-archive finds them (not a directory, nlink > 1: the first name
 * seen carries the data).  Sockets are skipped (the classic builder) unless
 * -s (BuildKit: an empty file).  OUT "-" is stdout.  Exit 0, or 1 with the
 * error on stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tarwriter.h"

struct seen {
	ino_t ino;
	dev_t dev;
	char *name;
};

static char *read_stdin(size_t *len)
{
	size_t n = 0, alloc = 1 << 16;
	char *b = malloc(alloc);

	for (;;) {
		ssize_t r;
		if (!b)
			return NULL;
		if (n == alloc) {
			char *nb = realloc(b, alloc *= 2);
			if (!nb) {
				free(b);
				return NULL;
			}
			b = nb;
		}
		r = read(0, b + n, alloc - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return b;
}

int main(int argc, char **argv)
{
	struct tar_options o = {0};
	struct tar_writer *w = NULL;
	struct seen *seen = NULL;
	size_t nseen = 0, len, pos = 0;
	bool socks = false;
	char err[512], *paths;
	int c, rootfd, outfd, rc;

	while ((c = getopt(argc, argv, "c:l:t:m:s")) != -1) {
		switch (c) {
		case 'c':
			o.compression = !strcmp(optarg, "gzip")	  ? TAR_GZIP
					: !strcmp(optarg, "zstd") ? TAR_ZSTD
								  : TAR_NONE;
			break;
		case 'l':
			o.level = atoi(optarg);
			break;
		case 't':
			o.threads = atoi(optarg);
			break;
		case 'm':
			o.clamp_mtime = true;
			o.mtime_max = strtoll(optarg, NULL, 10);
			break;
		case 's':
			socks = true;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr,
			"usage: tar_write [-c none|gzip|zstd] [-l LEVEL] [-t THREADS] [-m MTIME_MAX] [-s] ROOT OUT < PATHS\n");
		return 2;
	}
	rootfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		fprintf(stderr, "tar_write: cannot open '%s': %s\n", argv[optind], strerror(errno));
		return 1;
	}
	outfd = !strcmp(argv[optind + 1], "-")
			? 1
			: open(argv[optind + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (outfd < 0) {
		fprintf(stderr, "tar_write: cannot open '%s': %s\n", argv[optind + 1],
			strerror(errno));
		return 1;
	}
	paths = read_stdin(&len);
	if (!paths) {
		fprintf(stderr, "tar_write: cannot read the paths\n");
		return 1;
	}
	rc = tar_open(&w, outfd, &o, err, sizeof(err));
	while (!rc && pos < len) {
		char *p = paths + pos, link[4096];
		size_t plen = strnlen(p, len - pos);
		const char *hard = NULL;
		struct walk_entry e = {0};
		struct stat st;

		pos += plen + 1;
		if (fstatat(rootfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			snprintf(err, sizeof(err), "cannot stat '%s': %s", p, strerror(errno));
			rc = -errno;
			break;
		}
		if (walk_entry_from_stat(&e, &st) < 0 || (e.type == WT_SOCK && !socks))
			continue; /* as the docker CLI: sockets only when asked */
		e.path = p;
		e.len = plen;
		if (e.type == WT_SYMLINK) {
			ssize_t n = readlinkat(rootfd, p, link, sizeof(link) - 1);
			if (n < 0) {
				snprintf(err, sizeof(err), "cannot read link '%s': %s", p,
					 strerror(errno));
				rc = -errno;
				continue;
			}
			link[n] = 0;
			e.link = link;
		}
		if (e.type != WT_DIR && st.st_nlink > 1) {
			size_t i;
			for (i = 0; i < nseen; i++) {
				if (seen[i].ino == st.st_ino && seen[i].dev == st.st_dev)
					break;
			}
			if (i < nseen) {
				hard = seen[i].name;
			} else {
				struct seen *ns = realloc(seen, (nseen + 1) * sizeof(*seen));
				if (!ns)
					return 1;
				seen = ns;
				seen[nseen].ino = st.st_ino;
				seen[nseen].dev = st.st_dev;
				seen[nseen++].name = p;
			}
		}
		rc = tar_add(w, rootfd, &e, hard, err, sizeof(err));
	}
	if (w) {
		char cerr[512];
		int rc2 = tar_close(&w, cerr, sizeof(cerr));
		if (!rc && rc2) {
			rc = rc2;
			snprintf(err, sizeof(err), "%s", cerr);
		}
	}
	if (rc)
		fprintf(stderr, "tar_write: %s\n", err);
	free(seen);
	free(paths);
	return rc ? 1 : 0;
}
