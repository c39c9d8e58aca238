/* hashfiles.h: the content hashes of many files, on worker threads.
 *
 * For `digest` and `stats --duplicates`, which need every sent file's
 * XXH3-128 but no archive: files are claimed one at a time by a few
 * threads, opened beneath the context root exactly as the archiver opens
 * them (no symlink followed, the inode and size checked against the walk)
 * and read once in blocks.  A file whose size, mtime or ctime moved while
 * it was read is an error, so a hash always describes one state of the
 * file.  With a hash cache, a file whose (device, inode, size, mtime,
 * ctime) is remembered is not opened at all, and every file hashed is
 * remembered. */
#ifndef CTXPACK_HASHFILES_H
#define CTXPACK_HASHFILES_H

#include <stddef.h>
#include <stdint.h>

#include "hashcache.h"
#include "progress.h"
#include "walk.h"

struct hashfiles_stats {
	uint64_t files_read, bytes_read; /* content actually read */
	uint64_t cached;                 /* files answered by the cache */
};

/* Hashes v[0..n-1] (regular files) below rootfd into out[0..n-1]
 * (canonical XXH3-128 bytes) with threads workers (0: online CPUs).
 * cache may be NULL.  progress, if not NULL, gets content bytes in
 * written.  Returns 0, or the error of the first failing file in v's
 * order (-errno, err names the path and cause). */
int hashfiles(uint8_t (*out)[16], const struct walk_entry *const *v, size_t n, int rootfd,
	      int threads, struct hashcache *cache, struct progress *progress,
	      struct hashfiles_stats *stats, char *err, size_t errsz);

#endif
