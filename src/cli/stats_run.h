/* stats_run.h: measuring a walked context, shared by `stats` and
 * `pack --stats`. */
#ifndef CTXPACK_CLI_STATS_RUN_H
#define CTXPACK_CLI_STATS_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "pack.h"
#include "report.h"
#include "stats.h"

/* Fills s (top items per list) and r (without tar_bytes and budgets) from
 * the session's walk, which was made with list_all and measure_pruned. */
int stats_measure(struct pack_session *ps, const struct pack_options *o, size_t top,
		  struct stats *s, struct report *r, char *err, size_t errsz);

#endif
