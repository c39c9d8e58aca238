/* html_report.h: `ctxpack stats --html`: one self-contained HTML page (no
 * network fetches) with the stats document's tables and a zoomable
 * treemap of the context (see docs/html-report.md). */
#ifndef CTXPACK_CLI_HTML_REPORT_H
#define CTXPACK_CLI_HTML_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "walk.h"
#include "ctxpack/ctxpack.h"

/* Writes one self-contained HTML page: the stats document (stats_json, the
 * exact text `ctxpack stats --json` prints) and a treemap built from the
 * walk (res walked with report_all and measure_pruned; rules names its rule
 * numbers).  used: what the build reads, used_reads' flags, one per entry
 * of res (as stats computed them), or NULL when the Dockerfile could not
 * be read: the page then has no used / unused / excluded colours.
 * Returns 0 or -errno with err set. */
int html_report_write(FILE *out, const char *stats_json, const struct walk_result *res,
		      const ctxpack_rules *rules, const uint8_t *used, char *err, size_t errsz);

#endif
