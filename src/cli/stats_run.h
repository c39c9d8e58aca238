/* stats_run.h: measuring a walked context, shared by `stats`, `pack
 * --stats` and `build --stats`. */
#ifndef CTXPACK_CLI_STATS_RUN_H
#define CTXPACK_CLI_STATS_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "buildview.h"
#include "opts.h"
#include "outfile.h"
#include "pack.h"
#include "report.h"
#include "stats.h"

/* What each rule does (rule_use_compute: one pass over the walk per
 * rule, the costliest part of the report) is computed only for what
 * shows it: */
enum stats_uses {
	STATS_USES_NONE,  /* nothing reports it (budgets other than dead rules) */
	STATS_USES_SHOWN, /* the text report: only when a rule decides nothing
			   * (it names that rule's use) */
	STATS_USES_ALL,	  /* the JSON document (so the HTML page) and
			   * --fail-on-dead-rules report every rule's */
};

/* Fills s (top items per list) and r (without tar_bytes and budgets) from
 * the session's walk, which was made with list_all and measure_pruned. */
/* bo (or NULL: no Dockerfile analysis): the Dockerfile is read with
 * buildview and r's used, unused and (BuildKit) transfer are filled; a
 * Dockerfile that cannot be read leaves r->used_known false with the
 * reason in r->used_why, and is no failure. */
int stats_measure(struct pack_session *ps, const struct pack_options *o, size_t top,
		  enum stats_uses uses, const struct buildview_options *bo, struct stats *s,
		  struct report *r, char *err, size_t errsz);

/* --stats of pack and build: the archive as it went out into r (its codec
 * and level as to has them, out_bytes after compression). */
void stats_archive(struct report *r, const struct tar_options *to, uint64_t out_bytes);

/* --stats: the report as text on stderr (file NULL; coloured as color
 * says), or as JSON into file (opened in o, committed by the caller).
 * 0, or -1 after saying why. */
int stats_write(const char *file, enum color_mode color, const struct report *r,
		struct outfile *o);

#endif
