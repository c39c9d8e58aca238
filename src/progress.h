/* progress.h: counters the walk and the archiver advance for a progress
 * display (the CLI's progress line reads them from another thread). */
#ifndef CTXPACK_PROGRESS_H
#define CTXPACK_PROGRESS_H

#include <stdatomic.h>
#include <stdint.h>

struct progress {
	atomic_uint_least64_t entries; /* names the walk has read */
	atomic_uint_least64_t written; /* uncompressed tar bytes handed on */
	atomic_uint_least64_t total;   /* tar bytes expected; 0 until known */
	atomic_uint_least64_t items;   /* members written, or files hashed */
	atomic_uint_least64_t items_total; /* how many there are; 0 until known */
	atomic_int phase;	       /* enum progress_phase */
	const char *verb;	       /* what happens to the bytes: "written" (NULL), "hashed" */
};

enum progress_phase { PROGRESS_WALK, PROGRESS_WRITE, PROGRESS_DONE };

#endif
