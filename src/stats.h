/* stats.h: what the ignore file saves, measured from one walk.
 *
 * Input: a walk with report_all and measure_pruned (every entry, sent or
 * not, and the counts below each excluded directory that was never
 * entered).  Sizes come from metadata only.  The books balance:
 *
 *   scanned.bytes + generated.bytes = sent.bytes + linked_bytes + excluded.bytes
 *   excluded.bytes = the sum over rules of excluded_bytes + unattributed
 *
 * where sent.bytes are the member sizes of the tar (a hard link's data
 * once) and linked_bytes what the hard-link members do not repeat. */
#ifndef CTXPACK_STATS_H
#define CTXPACK_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "ruleuse.h"
#include "walk.h"

struct stats_counts {
	uint64_t entries; /* files + dirs + other */
	uint64_t files;	  /* regular files */
	uint64_t dirs;
	uint64_t other; /* symlinks, FIFOs, devices, sockets */
	uint64_t bytes; /* regular files' sizes */
};

struct stats_rule {
	uint64_t excluded_files, excluded_bytes; /* excluded entries it decided (and below) */
	uint64_t included_files, included_bytes; /* sent entries it decided (re-included) */
	uint64_t decided;			 /* entries it decided, pruned contents included */
};

struct stats_item {
	const char *path; /* into the walk */
	size_t len;
	uint64_t files, bytes;
	enum classify_kind kind;
};

struct stats_ext {
	char ext[24]; /* ".js", or "" for no extension */
	uint64_t files, bytes;
};

struct stats {
	struct stats_counts scanned, sent, excluded;
	uint64_t linked_bytes;	  /* sent names whose data a hard link does not repeat */
	uint64_t socket_files;	  /* sockets BuildKit sends as empty files (in sent.files) */
	uint64_t unreadable_dirs; /* below pruned directories: not counted */
	struct stats_counts unattributed; /* excluded without a rule (the classic
					     builder drops sockets) */
	struct stats_counts generated; /* members pack adds (an outside Dockerfile),
					  included in sent, not in scanned */
	size_t nrules;
	struct stats_rule *rules;
	struct rule_use *uses; /* per rule (stats_rule_uses), or NULL */
	/* sorted by bytes, largest first, at most top each */
	struct stats_item *largest_files, *largest_dirs, *suspicious;
	size_t nlargest_files, nlargest_dirs, nsuspicious;
	struct stats_ext *exts;
	size_t nexts;
};

/* Fills s from res (walked for builder b with report_all and
 * measure_pruned) and the number of rules; top bounds each list.
 * linked[i] (or NULL: none) says that sent entry i is archived as a hard
 * link to an earlier member, as the member plan decides (pack_plan_linked):
 * its data is counted once.  Returns 0 or -ENOMEM.  s points into res:
 * keep res until stats_free. */
int stats_compute(struct stats *s, const struct walk_result *res, const bool *linked,
		  size_t nrules, size_t top);
void stats_free(struct stats *s);

/* s->uses: what each rule of r does for res (rule_use_compute, the
 * definition lint reports).  0 or -ENOMEM. */
int stats_rule_uses(struct stats *s, const ctxpack_rules *r, enum ctxpack_builder b,
		    const struct walk_result *res);

/* The rules --fail-on-dead-rules fails on (rule_use_is_dead): dead,
 * overridden or redundant, not defensive nor the builder's own. */
size_t stats_dead_rules(const struct stats *s);

/* The sent entries of res split by flags (one per entry, used_reads'):
 * read (a flag set) and unread (none); added to both counts. */
void stats_used(struct stats_counts *read, struct stats_counts *unread,
		const struct walk_result *res, const uint8_t *flags);

/* The largest sent directories nothing in which is read (flags as for
 * stats_used), top-most only, largest first, at most top, into *out
 * (malloc'd; pointing into res).  0 or -ENOMEM. */
int stats_unread_dirs(struct stats_item **out, size_t *n, size_t top,
		      const struct walk_result *res, const uint8_t *flags);

/* Counts what pack adds beyond the walk (pack_generated) as sent. */
void stats_add_generated(struct stats *s, uint64_t files, uint64_t bytes);

/* The extension of a regular file's name as `extensions` counts it: from
 * its last '.', unless the name starts there; "" for none or when longer
 * than fits outsz (the HTML report counts excluded files by it too). */
void stats_extension(const struct walk_entry *e, char *out, size_t outsz);

/* 1 - part/whole as a percentage (0 when whole is 0). */
double stats_reduction(uint64_t part, uint64_t whole);

#endif
