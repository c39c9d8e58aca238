/* header_test.c: the public header needs nothing included before it, and
 * declares every function of the API with the signature written here: the
 * address of each is assigned to a pointer of its exact type, so a
 * declaration that goes missing, is renamed or changes type fails to
 * compile.  Compiled as C99
 * -pedantic (tests/meson.build) and, included by tests/lib/header_cxx.cpp,
 * as C++: keep it valid in both (no designated initializers, no implicit
 * void * conversions). */
#include "ctxpack/ctxpack.h"

/* One function: a pointer declared with its exact type is assigned its
 * address inside sizeof, which type-checks the assignment without
 * evaluating it: the test needs no library to link against (the build
 * compiles it alone), and a debug build keeps no reference either. */
#define HAVE(fn, ...)                                  \
	do {                                           \
		__VA_ARGS__;                           \
		n += sizeof(p = fn) == sizeof(p);      \
		total++;                               \
	} while (0)

int main(void)
{
	int n = 0, total = 0;
	struct ctxpack_decision d = { CTXPACK_NONE, -1, false };
	struct ctxpack_rule_info ri = { "", 0, "", 0 };
	struct ctxpack_context_info info;
	struct ctxpack_explanation x;
	struct ctxpack_entry e;
	struct ctxpack_pack_report rep;
	char digest[CTXPACK_DIGEST_SIZE];
	enum ctxpack_builder b = CTXPACK_BUILDER_CLASSIC;
	enum ctxpack_compression comp = CTXPACK_COMPRESS_ZSTD;
	enum ctxpack_entry_type t = CTXPACK_ENTRY_HARDLINK;

	/* The rule engine. */
	HAVE(ctxpack_version, const char *(*p)(void));
	HAVE(ctxpack_rules_new, int (*p)(ctxpack_rules **));
	HAVE(ctxpack_rules_free, void (*p)(ctxpack_rules **));
	HAVE(ctxpack_rules_add_buffer, int (*p)(ctxpack_rules *, const char *, const void *, size_t));
	HAVE(ctxpack_rules_add_pattern,
	     int (*p)(ctxpack_rules *, const char *, int, const char *, size_t));
	HAVE(ctxpack_rules_add_classic_readds, int (*p)(ctxpack_rules *, const char *));
	HAVE(ctxpack_rules_count, size_t (*p)(const ctxpack_rules *));
	HAVE(ctxpack_rules_get, int (*p)(const ctxpack_rules *, size_t, struct ctxpack_rule_info *));
	HAVE(ctxpack_rules_errmsg, const char *(*p)(const ctxpack_rules *));
	HAVE(ctxpack_rules_error,
	     const struct ctxpack_rules_error *(*p)(const ctxpack_rules *));
	HAVE(ctxpack_match_compile, int (*p)(ctxpack_match **, ctxpack_rules *, enum ctxpack_builder));
	HAVE(ctxpack_match_free, void (*p)(ctxpack_match **));
	HAVE(ctxpack_match_rule_error, const char *(*p)(const ctxpack_match *, size_t));
	HAVE(ctxpack_match_rules, const ctxpack_rules *(*p)(const ctxpack_match *));
	HAVE(ctxpack_mscratch_new, int (*p)(ctxpack_mscratch **, const ctxpack_match *));
	HAVE(ctxpack_mscratch_free, void (*p)(ctxpack_mscratch **));
	HAVE(ctxpack_mstate_new, int (*p)(ctxpack_mstate **, const ctxpack_match *));
	HAVE(ctxpack_mstate_free, void (*p)(ctxpack_mstate **));
	HAVE(ctxpack_match_root, void (*p)(const ctxpack_match *, ctxpack_mstate *));
	HAVE(ctxpack_match_entry,
	     int (*p)(const ctxpack_match *, ctxpack_mscratch *, const ctxpack_mstate *, const char *,
		      size_t, size_t, ctxpack_mstate *, struct ctxpack_decision *));

	/* The context. */
	HAVE(ctxpack_context_new, int (*p)(ctxpack_context **));
	HAVE(ctxpack_context_free, void (*p)(ctxpack_context **));
	HAVE(ctxpack_context_set_builder, int (*p)(ctxpack_context *, enum ctxpack_builder));
	HAVE(ctxpack_context_set_dockerfile, int (*p)(ctxpack_context *, const char *));
	HAVE(ctxpack_context_set_threads, int (*p)(ctxpack_context *, int));
	HAVE(ctxpack_context_set_mtime, int (*p)(ctxpack_context *, int64_t));
	HAVE(ctxpack_context_open, int (*p)(ctxpack_context *, const char *));
	HAVE(ctxpack_context_errmsg, const char *(*p)(const ctxpack_context *));
	HAVE(ctxpack_context_info, int (*p)(const ctxpack_context *, struct ctxpack_context_info *));
	HAVE(ctxpack_context_explain,
	     int (*p)(ctxpack_context *, const char *, struct ctxpack_explanation *));
	HAVE(ctxpack_context_count, size_t (*p)(const ctxpack_context *));
	HAVE(ctxpack_context_entry, int (*p)(const ctxpack_context *, size_t, struct ctxpack_entry *));
	HAVE(ctxpack_context_pack, int (*p)(ctxpack_context *, int, enum ctxpack_compression, int,
					    struct ctxpack_pack_report *));
	HAVE(ctxpack_context_digest, int (*p)(ctxpack_context *, bool, char *));
	HAVE(ctxpack_context_set_target, int (*p)(ctxpack_context *, const char *));
	HAVE(ctxpack_context_add_build_arg, int (*p)(ctxpack_context *, const char *));
	HAVE(ctxpack_context_build, int (*p)(ctxpack_context *, struct ctxpack_build_info *));
	HAVE(ctxpack_context_source, int (*p)(ctxpack_context *, size_t, struct ctxpack_source *));
	HAVE(ctxpack_context_entry_used, int (*p)(ctxpack_context *, size_t, bool *));

	/* The engine. */
	HAVE(ctxpack_engine_ping, int (*p)(const struct ctxpack_engine_options *,
					   struct ctxpack_engine_info *, char *, size_t));
	HAVE(ctxpack_engine_build,
	     int (*p)(ctxpack_context *, const struct ctxpack_engine_options *,
		      const struct ctxpack_build_options *, ctxpack_build_progress_fn, void *,
		      struct ctxpack_build_result *));

	/* The types: every field named once. */
	info.builder = b;
	info.root = info.dockerfile = info.ignore_file = "";
	info.rules = 0;
	x.verdict = CTXPACK_INCLUDE;
	x.sent = x.pruned = x.parent_only = x.forced = x.socket_skipped = false;
	x.rule = -1;
	x.rule_info = ri;
	e.path = "";
	e.path_len = 0;
	e.type = t;
	e.mode = 0644;
	e.size = 0;
	e.link = 0;
	e.parent_only = e.generated = false;
	rep.entries = rep.bytes = rep.tar_bytes = rep.out_bytes = 0;
	rep.dockerfile_name[0] = digest[0] = '\0';
	(void)comp;
	(void)CTXPACK_EXCLUDE;
	(void)CTXPACK_BUILDER_BUILDKIT;

	return d.verdict == CTXPACK_NONE && n == total && x.rule_info.line == 0 &&
			       rep.dockerfile_name[0] == digest[0] && e.mode == 0644 && !info.rules
		       ? 0
		       : 1;
}
