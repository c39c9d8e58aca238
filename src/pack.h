/* pack.h: rules → matcher → walk → tar: the one module that knows them all.
 *
 * pack_run walks the context once, decides every entry, resolves hard links
 * (the first sent name carries the data), adds the Dockerfile when it lives
 * outside the context (under a name derived from its content), and streams
 * the tar.  Everything that can fail before the first byte is checked
 * before the first byte: a bad pattern, an unreadable file the builder
 * needs, a missing Dockerfile. */
#ifndef CTXPACK_PACK_H
#define CTXPACK_PACK_H

#include <stdbool.h>
#include <stdint.h>

#include "tarwriter.h"
#include "ctxpack/ctxpack.h"

struct rules_error;

struct pack_options {
	enum ctxpack_builder builder;
	const char *dir;        /* the context */
	const char *dockerfile; /* -f, relative to the current directory; NULL: default */
	int threads;            /* 0: online CPUs */
	bool list_all;          /* pack_list: also what is not sent (walk_entry.sent) */
	bool measure_pruned;    /* with list_all: size what is below pruned directories */
	bool hash;              /* pack_write hashes every file it archives (pack_members) */
	struct progress *progress; /* counters for a progress display, or NULL */
	struct tar_options tar;
	struct rules_error *refusal; /* a walk failed by a pattern refusal: it as
					data (walk_options.refusal); or NULL */
	/* The ignore file's bytes as they would be (dockerctx_open_with), or
	 * NULL: the file's own. */
	const char *ignore_text;
	size_t ignore_text_len;
};

struct pack_report {
	uint64_t entries;      /* members written */
	uint64_t bytes;        /* file data bytes */
	uint64_t tar_bytes;    /* uncompressed stream */
	uint64_t out_bytes;    /* after compression */
	char dockerfile_name[64]; /* set when the Dockerfile was added under a generated name */
	uint64_t generated_files; /* members pack adds beyond the walk (that Dockerfile, and
				     a .dockerignore when there is none) */
	uint64_t generated_bytes; /* file bytes those add, and what the name adds to an
				     existing .dockerignore */
};

/* A context opened and walked, ready to be written (or only measured):
 * one walk serves ls, stats, budgets and the archive. */
struct pack_session;
struct dockerctx;

/* The member plan: which members the archive holds, in order, worked out
 * once per session (pack_open, one pass over the walk, one allocation):
 * the tar writer, the hasher, the manifest (pack_members), `ctxpack ls`
 * and the library's entries all iterate it. */
enum pack_member_kind {
	PM_WALKED,          /* a walk entry, archived from the disk */
	PM_HARDLINK,        /* a walk entry archived as a link to an earlier member */
	PM_IGNORE_REWRITTEN, /* the context's .dockerignore with the generated
				Dockerfile's name appended (at its walk place) */
	PM_IGNORE_GENERATED, /* a .dockerignore naming it, when the context has none */
	PM_DOCKERFILE,      /* the Dockerfile from outside the context, last */
};

struct pack_member {
	const struct walk_entry *e; /* the walk entry, NULL for a generated member */
	const char *path;           /* as archived */
	size_t len;
	const char *link;   /* a hard link: the first name; a symlink: its target; else NULL */
	size_t link_len;
	uint64_t size;      /* data bytes as archived (0 for a hard link, a directory, ...) */
	int64_t mtime;      /* as archived (clamped with the session's tar options) */
	size_t at;          /* index of e in pack_entries(), SIZE_MAX when generated */
	uint32_t mode;      /* permission bits as archived */
	uint8_t kind;       /* enum pack_member_kind */
	uint8_t type;       /* enum ctxpack_entry_type: a row of member_types (members.h) */
};

struct pack_plan {
	struct pack_member *v;
	size_t n;
	uint64_t generated_files; /* PM_IGNORE_GENERATED and PM_DOCKERFILE members */
	uint64_t generated_bytes; /* their bytes and what PM_IGNORE_REWRITTEN adds */
};

/* Opens o->dir as a context for o->builder and walks it.  Returns 0 or a
 * negative errno with a message in err. */
int pack_open(struct pack_session **s, const struct pack_options *o, char *err, size_t errsz);
const struct walk_result *pack_entries(const struct pack_session *s);
const struct dockerctx *pack_context(const struct pack_session *s);
/* The members the session sends, in archive order. */
const struct pack_plan *pack_plan(const struct pack_session *s);
/* Rebuilds the member plan with only the walked entries keep[i] marks
 * (one per pack_entries() entry: what the build reads, used_reads or
 * transfer_compute), the directories above them, the Dockerfile and the
 * ignore file; the generated members as before.  Hard links are decided
 * again among what is kept.  0 or -ENOMEM (the plan is then empty). */
int pack_restrict(struct pack_session *s, const uint8_t *keep);
/* linked[i] (one per pack_entries() entry, zeroed by the caller): the
 * plan archives entry i as a hard link to an earlier member (PM_HARDLINK). */
void pack_plan_linked(const struct pack_session *s, bool *linked);
/* The members pack adds beyond the walk (rep's dockerfile_name and generated_*). */
void pack_generated(const struct pack_session *s, struct pack_report *rep);
/* Writes the archive into outfd (outfd < 0: only counts its bytes, no file
 * is read; capabilities are then not looked up). */
int pack_write(struct pack_session *s, int outfd, struct pack_report *rep, char *err,
	       size_t errsz);
/* pack_write with other tar options (compression, progress) and no
 * hashing: the session is only read, so several may run at once on
 * threads of their own. */
int pack_write_with(struct pack_session *s, int outfd, const struct tar_options *to,
		    struct pack_report *rep, char *err, size_t errsz);
/* Sets the codec and level pack_write uses from now on (the members, their
 * mtimes included, stay as planned). */
void pack_set_compression(struct pack_session *s, enum tar_compression c, int level);
/* The codec pack_write uses. */
enum tar_compression pack_compression(const struct pack_session *s);
void pack_close(struct pack_session **s);

struct hashcache;
struct hashfiles_stats;
struct member_list;

/* Hashes every file the session sends that is not hashed yet (no archive
 * is written), or only those whose only[i] (by pack_entries index) is
 * set: with threads, through cache (may be NULL).  progress, if not NULL,
 * gets the bytes read.  Returns 0 or -errno with err naming the file. */
int pack_hash(struct pack_session *s, const bool *only, struct hashcache *cache,
	      struct progress *progress, struct hashfiles_stats *stats, char *err, size_t errsz);

/* The content hash of pack_entries()->v[i], or NULL when not hashed. */
const uint8_t *pack_file_hash(const struct pack_session *s, size_t i);

/* The members the session sends, in order, as src/members.h describes
 * them (the generated Dockerfile and .dockerignore included), after
 * pack_hash or a pack_write with o.hash.  The list borrows its strings
 * from the session: release it (member_list_release) before pack_close. */
int pack_members(const struct pack_session *s, struct member_list *out, char *err, size_t errsz);
/* The same members handed to fn one at a time (valid during the call);
 * a nonzero return from fn stops and is returned. */
struct member;
int pack_members_each(const struct pack_session *s, int (*fn)(void *arg, const struct member *m),
		      void *arg, char *err, size_t errsz);

/* Packs into outfd.  Returns 0 or a negative errno with a message in err. */
int pack_run(const struct pack_options *o, int outfd, struct pack_report *rep, char *err,
	     size_t errsz);

/* Walks only: the entries the builder would send (for `ctxpack ls`).  out
 * must be released with walk_result_release; rep->dockerfile_name is set
 * when pack would add the Dockerfile (and, if missing, a .dockerignore)
 * after these entries.  keep, if not NULL, receives the opened context
 * (its rules name the entries' rule numbers) on success; the caller closes
 * it with dockerctx_close. */
int pack_list(const struct pack_options *o, struct walk_result *out, struct pack_report *rep,
	      struct dockerctx *keep, char *err, size_t errsz);

#endif
