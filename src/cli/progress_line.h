/* progress_line.h: the progress line of pack and stats on stderr.
 *
 * A thread redraws one line about six times a second from the counters of
 * struct progress: entries walked, bytes written, rate, and percentage and
 * ETA once the total is known; the line is cleared when the work ends.
 * Only when stderr is a terminal (--progress=auto), or always, or never. */
#ifndef CTXPACK_CLI_PROGRESS_LINE_H
#define CTXPACK_CLI_PROGRESS_LINE_H

#include <stdbool.h>

#include "progress.h"

enum progress_mode { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER };

/* Parses --progress's argument; prints a usage error and returns -1. */
int progress_mode_parse(const char *arg, enum progress_mode *out);

struct progress_line;

/* Starts drawing p on stderr if mode (and quiet) say so; returns NULL
 * otherwise (and when a thread cannot be started: no line, no error). */
struct progress_line *progress_line_start(struct progress *p, enum progress_mode mode, bool quiet);
/* Stops the thread and clears the line. */
void progress_line_stop(struct progress_line **pl);

#endif
