/* report.h: the size report of `stats` and `pack --stats`, and CI budgets.
 *
 * One struct stats (src/stats.h) is printed for people (aligned columns,
 * human sizes, colour on a terminal) or as JSON (schema version 1, in
 * docs/stats.md), and checked against the budgets given on the command
 * line.  A broken budget is one line on stderr naming it with the measured
 * value, and exit status EXIT_BUDGET. */
#ifndef CTXPACK_CLI_REPORT_H
#define CTXPACK_CLI_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctxpack/ctxpack.h"
#include "dupes.h"
#include "stats.h"
#include "transfer.h"

#define EXIT_BUDGET 4

/* Option ids shared by stats and pack (long-only ids, >= 256). */
enum {
	OPT_MAX_SIZE = 400,
	OPT_MAX_FILES,
	OPT_MIN_REDUCTION,
	OPT_FAIL_DEAD_RULES,
};

struct budgets {
	bool max_size_set, max_files_set, min_reduction_set, fail_dead;
	uint64_t max_size;    /* uncompressed tar bytes */
	uint64_t max_files;   /* regular files sent */
	double min_reduction; /* percent of scanned bytes left out */
};

/* The budget options' rows of an option table (stats, pack, build). */
#define BUDGET_OPTS \
	{ "max-size", OPT_MAX_SIZE, OPT_ARG_REQUIRED, "BYTES", "budget: the uncompressed tar at most BYTES (K/M/G: 1024s, KB/MB/GB: 1000s)", NULL, 0 }, \
	{ "max-files", OPT_MAX_FILES, OPT_ARG_REQUIRED, "N", "budget: at most N regular files sent", NULL, 0 }, \
	{ "min-reduction", OPT_MIN_REDUCTION, OPT_ARG_REQUIRED, "PCT", "budget: the rules leave out at least PCT % of the bytes", NULL, 0 }, \
	{ "fail-on-dead-rules", OPT_FAIL_DEAD_RULES, OPT_ARG_NONE, NULL, "budget: every rule decides something", NULL, 0 }

/* Handles a budget option; 1 if id is not one, 0 done, -1 usage error. */
int budget_opt(int id, const char *arg, struct budgets *b);
bool budgets_any(const struct budgets *b);

struct budget_result {
	const char *name; /* "max-size", "max-files", "min-reduction", "dead-rules" */
	double limit, value;
	bool ok;
};

struct report {
	const struct stats *s;
	const ctxpack_rules *rules;
	const char *context; /* absolute */
	enum ctxpack_builder builder;
	const char *dockerfile;	 /* as sent, or the generated name */
	const char *ignore_file; /* NULL: none */
	uint64_t tar_bytes;
	bool compressed; /* --estimate-compression: zstd_bytes and gzip_bytes are set */
	uint64_t zstd_bytes, gzip_bytes;
	/* pack --stats: the archive as written, after its compression
	 * ("none", "gzip", "zstd"; level 0: the codec's default); else NULL */
	const char *archive_compression;
	int archive_level;
	uint64_t archive_bytes;
	struct budget_result budgets[4];
	size_t nbudgets;
	const struct dupes *dupes; /* --duplicates, or NULL */
	/* What the build reads (buildview, used_reads): sent entries it
	 * reads (USED_READ or USED_VIA) and the others. */
	bool used_known;     /* the Dockerfile was read; else used_why says why not */
	char used_why[512];
	struct stats_counts used, unused;
	uint8_t *used_flags; /* used_reads' flags, one per walk entry (used_known); the caller frees */
	/* per instruction that reads the context, in file order */
	struct report_instr {
		int line;	/* its first line in the Dockerfile */
		char text[96];	/* "COPY . ." (cut with "...") */
		struct stats_counts read;
	} *instrs;
	size_t ninstrs;
	struct stats_item *unread_dirs; /* largest wholly unread sent directories */
	size_t nunread_dirs;
	bool transfer_known; /* BuildKit: what it transfers (transfer.h) */
	struct transfer transfer;
	size_t top;                /* top lists' length in JSON (duplicate groups) */
};

/* Fills r->budgets from b; returns how many are broken. */
size_t budgets_check(struct report *r, const struct budgets *b);
/* One line per broken budget on f. */
void budgets_print_broken(FILE *f, const struct report *r);

void report_text(FILE *f, const struct report *r, size_t top, bool color);
void report_json(FILE *f, const struct report *r);

/* BYTES with an optional unit: K/M/G/T or KiB... (1024s), KB/MB/GB/TB
 * (1000s).  Returns 0, or -1 for anything else. */
int parse_size(const char *arg, uint64_t *out);

/* "12.3 MiB", "512 B" into buf. */
const char *human_size(uint64_t n, char *buf, size_t bufsz);

#endif
