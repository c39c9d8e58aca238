/* prefetch.h: small files read ahead of the archiver, on worker threads.
 *
 * The archiver is one thread writing members in Docker's order; opening
 * and reading tens of thousands of small files on that thread would leave
 * it waiting on open(2)/read(2) for most of its time.  So the files it will
 * need next are opened, checked and read whole by a few threads, a bounded
 * window ahead of it (at most PREFETCH_WINDOW files and PREFETCH_BYTES
 * bytes in flight), and handed over in order.  A file that fails is handed
 * over as its error: the archiver reports it where the member would have
 * been, so what is written and what fails do not depend on timing. */
#ifndef CTXPACK_PREFETCH_H
#define CTXPACK_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "tarwriter.h"
#include "walk.h"

/* Files larger than this are left to the archiver (spliced or copied in
 * large blocks); read-ahead is for the small ones. */
#define PREFETCH_MAX_FILE (512u << 10)

struct prefetch;

/* Starts reading v[0..n-1] (regular files, each at most PREFETCH_MAX_FILE
 * bytes, in the order they will be taken) below rootfd with threads
 * workers (0: online CPUs); hash: each body also carries its content's
 * XXH3-128 (tar_body.hashed), computed on the worker that read it.
 * Returns 0 or -errno. */
int prefetch_start(struct prefetch **out, int rootfd, const struct walk_entry *const *v, size_t n,
		   int threads, bool hash);

/* Waits for the next file (the k-th take gets v[k]) and moves its body into
 * *b.  Returns 0, or the file's error (-errno, err says which file and why;
 * b is then empty). */
int prefetch_take(struct prefetch *p, struct tar_body *b, char *err, size_t errsz);

/* Stops the workers and frees everything not taken. */
void prefetch_stop(struct prefetch **p);

#endif
