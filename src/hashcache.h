/* hashcache.h: content hashes remembered between runs.
 *
 * A file's XXH3-128 is remembered under its (device, inode, size, mtime ns,
 * ctime ns): when all five still match, the content is not read again.
 * The cache is one file (by default $XDG_CACHE_HOME/ctxpack/hashes, or
 * ~/.cache/ctxpack/hashes), read whole at open and replaced atomically at
 * save (a temporary file in the same directory, renamed over it), so a
 * concurrent run sees the old or the new file, never a mix; a damaged or
 * foreign file is ignored (treated as empty) and replaced at the next save.
 *
 * Racy entries (git's racy-clean rule): a file changed within the same
 * second as its hash was recorded could change again without its mtime
 * or ctime moving, so an entry is only trusted when the file's mtime and
 * ctime are strictly before the second it was recorded in; a lookup of
 * any other entry misses and the file is hashed again. */
#ifndef CTXPACK_HASHCACHE_H
#define CTXPACK_HASHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashcache_key {
	uint64_t dev, ino, size;
	int64_t mtime_sec, ctime_sec;
	uint32_t mtime_nsec, ctime_nsec;
};

struct hashcache;

/* Opens the cache at path (NULL: the default location; the directory is
 * created at save).  A missing, unreadable or damaged file gives an empty
 * cache, and so does having no default location (neither XDG_CACHE_HOME
 * nor HOME: hashcache_save then fails with -ENOENT).  Returns 0 or
 * -ENOMEM (err says why). */
int hashcache_open(struct hashcache **out, const char *path, char *err, size_t errsz);

/* The default path into buf: $XDG_CACHE_HOME/ctxpack/hashes when
 * XDG_CACHE_HOME is an absolute path, else $HOME/.cache/ctxpack/hashes.
 * Returns 0, -ENOENT when neither is set, or -ENAMETOOLONG. */
int hashcache_default_path(char *buf, size_t bufsz);

/* Looks k up.  Returns true and sets hash when an entry matches all of k
 * and is not racy.  Thread-safe with other lookups and with puts. */
bool hashcache_get(struct hashcache *c, const struct hashcache_key *k, uint8_t hash[16]);

/* Records hash for k, as of now (the racy rule compares k's times with
 * the time of this call).  Thread-safe. */
void hashcache_put(struct hashcache *c, const struct hashcache_key *k, const uint8_t hash[16]);

/* hashcache_put as of since_sec when that is earlier than now: the second
 * the file's content started to be read.  A change made while it was read,
 * in the second of its last stat, cannot move whole-second timestamps;
 * recording the read's start keeps such an entry racy. */
void hashcache_put_since(struct hashcache *c, const struct hashcache_key *k, const uint8_t hash[16],
			 int64_t since_sec);

/* Hits and misses so far (for reports and tests). */
void hashcache_counts(const struct hashcache *c, uint64_t *hits, uint64_t *misses);

/* Writes the cache back when anything was put: entries from the file as
 * it is now (another run may have saved since open) merged with ours
 * (ours win), at most HASHCACHE_MAX_ENTRIES of the most recently recorded.
 * Returns 0 or -errno with err naming the path (the caller may warn and
 * go on: the cache is only an optimization). */
#define HASHCACHE_MAX_ENTRIES (4u << 20)
int hashcache_save(struct hashcache *c, char *err, size_t errsz);
/* hashcache_save keeping at most cap entries (tests reach the cap with it). */
int hashcache_save_capped(struct hashcache *c, size_t cap, char *err, size_t errsz);

void hashcache_free(struct hashcache **c);

#endif
