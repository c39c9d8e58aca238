/* digest_cmd.c: `ctxpack digest` (one hash for the whole context),
 * `ctxpack manifest` (one line per member with its content hash) and
 * `ctxpack diff` (what changed between two contexts). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "members_src.h"
#include "jsonstr.h"
#include "report.h"

enum { OPT_WITH_MTIME = 256, OPT_JSON, OPT_TSV, OPT_VERBOSE };

struct digest_args {
	struct members_src_opts src;
	bool with_mtime, json, tsv, verbose, summary;
};

static int digest_opt(int id, const char *arg, void *payload)
{
	struct digest_args *a = payload;
	int rc = members_src_opt(id, arg, &a->src);

	if (rc <= 0)
		return rc;
	switch (id) {
	case OPT_WITH_MTIME: a->with_mtime = true; break;
	case OPT_JSON: a->json = true; a->tsv = false; break;
	case OPT_TSV: a->tsv = true; a->json = false; break;
	case 'v': a->verbose = true; break;
	}
	return 0;
}

#define SRC_OPTS \
	{ "file", 'f', OPT_ARG_REQUIRED, "DOCKERFILE", "the Dockerfile, relative to the current directory (for a directory)", NULL, OPT_PATH_FILE }, \
	BUILDER_OPT(BUILDER_HELP " (for a directory)"), \
	{ "threads", 'j', OPT_ARG_REQUIRED, "N", "hashing threads (default: online CPUs)", NULL, 0 }, \
	{ "no-cache", SRC_OPT_NO_CACHE, OPT_ARG_NONE, NULL, "read and hash every file; neither use nor update the hash cache", NULL, 0 }, \
	PROGRESS_LINE_OPT, \
	{ "quiet", 'q', OPT_ARG_NONE, NULL, "no messages but errors (and no progress line)", NULL, 0 }

#define SOURCE_DETAILS \
	"SOURCE is a context directory (walked with its .dockerignore as the chosen\n" \
	"builder would, every sent file hashed), a tar (ctxpack's, the docker CLI's,\n" \
	"any tar libarchive reads, compressed or not), a manifest written by\n" \
	"`ctxpack manifest` or `pack --manifest`, or '-' for a tar or manifest on\n" \
	"stdin.  The default is the current directory.\n" \
	"\n" \
	"File contents are hashed with XXH3-128.  For a directory, hashes are kept\n" \
	"in a cache ($XDG_CACHE_HOME/ctxpack/hashes, else ~/.cache/ctxpack/hashes)\n" \
	"under each file's device, inode, size, mtime and ctime, so an unchanged\n" \
	"file is not read again; a file changed in the second its hash was\n" \
	"recorded is always read again.  docs/digest.md has the formats.\n"

static int load_one(const struct command *cmd, int argc, char **argv, int first,
		    struct digest_args *a, struct member_list *l, struct members_src_info *info,
		    int (*each)(void *arg, const struct member *m), void *arg)
{
	const char *src = ".";

	if (context_arg(cmd, argc, argv, first, &src))
		return first == -2 ? 0 : 2;
	return members_src_load(src, &a->src, l, info, each, arg) ? 1 : -1;
}

/* Members counted as they go by, with the words stats uses for what is
 * sent (docs/stats.md): files are regular files and hard links (a link is
 * a file whose data its target carries), dirs, and other (symlinks,
 * FIFOs, devices); bytes are the regular files' data. */
struct tally {
	struct members_digester *dg;
	uint64_t members, files, links, dirs, other, bytes;
};

static void tally_add(struct tally *t, const struct member *m)
{
	if (t->dg)
		members_digester_add(t->dg, m);
	t->members++;
	if (m->type == '0') {
		t->files++;
		t->bytes += m->size;
	} else if (m->type == '1') {
		t->files++;
		t->links++;
	} else if (m->type == '5') {
		t->dirs++;
	} else {
		t->other++;
	}
}

static void print_info(const struct tally *t, const struct members_src_info *info)
{
	char b1[32], b2[32];

	fprintf(stderr, "ctxpack: %llu members: %llu files", (unsigned long long)t->members,
		(unsigned long long)t->files);
	if (t->links)
		fprintf(stderr, " (%llu hard link%s)", (unsigned long long)t->links,
			t->links == 1 ? "" : "s");
	fprintf(stderr, ", %llu dirs, %llu other, %s", (unsigned long long)t->dirs,
		(unsigned long long)t->other, human_size(t->bytes, b1, sizeof(b1)));
	if (info->kind == SRC_DIR)
		fprintf(stderr, "; read %llu files (%s), %llu from the hash cache%s",
			(unsigned long long)info->files_read, human_size(info->bytes_read, b2, sizeof(b2)),
			(unsigned long long)info->cached, info->cache_used ? "" : " (not used)");
	fputc('\n', stderr);
}

static int counting_digester(void *arg, const struct member *m)
{
	tally_add(arg, m);
	return 0;
}

static int cmd_digest(const struct command *cmd, int argc, char **argv)
{
	struct digest_args a = { .src = { .builder = CTXPACK_BUILDER_BUILDKIT } };
	struct member_list l = { 0 };
	struct members_src_info info = { 0 };
	struct tally t = { 0 };
	uint8_t d[16];
	char hex[42];
	int first = opts_parse(cmd, argc, argv, digest_opt, &a), rc;

	t.dg = members_digester_new(a.with_mtime);
	if (!t.dg) {
		fprintf(stderr, "ctxpack: out of memory\n");
		return 1;
	}
	/* A directory's members go straight into the digest, no list. */
	rc = load_one(cmd, argc, argv, first, &a, &l, &info, counting_digester, &t);
	if (rc >= 0) {
		members_src_release(&l, &info);
		members_digester_finish(&t.dg, d);
		return rc;
	}
	for (size_t i = 0; i < l.n; i++)
		tally_add(&t, &l.v[i]);
	members_digester_finish(&t.dg, d);
	members_digest_string(d, hex);
	if (a.json) {
		printf("{\"digest\":\"%s\",\"with_mtime\":%s,\"members\":%llu", hex,
		       a.with_mtime ? "true" : "false", (unsigned long long)t.members);
		if (info.kind == SRC_DIR)
			printf(",\"files_read\":%llu,\"bytes_read\":%llu,\"files_cached\":%llu",
			       (unsigned long long)info.files_read, (unsigned long long)info.bytes_read,
			       (unsigned long long)info.cached);
		puts("}");
	} else {
		puts(hex);
	}
	if (a.verbose)
		print_info(&t, &info);
	members_src_release(&l, &info);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static const struct opt digest_opts[] = {
	SRC_OPTS,
	{ "with-mtime", OPT_WITH_MTIME, OPT_ARG_NONE, NULL, "include every member's mtime (seconds) in the digest", NULL, 0 },
	{ "json", OPT_JSON, OPT_ARG_NONE, NULL, "one JSON object: digest, members, and what was read", NULL, 0 },
	{ "verbose", 'v', OPT_ARG_NONE, NULL, "on stderr: members, files, bytes, and how many files were read or cached", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static const char digest_details[] =
	"Prints xxh3-128:<32 hex digits>: one hash over the members in the order\n"
	"the builder receives them (path, type, mode, size, link target, device\n"
	"numbers, content hash; the mtime only with --with-mtime).  It is the same\n"
	"on every machine and thread count, for a directory and for the tar ctxpack\n"
	"makes of it, and after a touch of every file; it changes when any byte,\n"
	"mode, name or link sent changes, or when a rule change alters what is sent.\n"
	"In CI: skip `docker build` when the digest did not change.\n"
	"\n" SOURCE_DETAILS
	"\n"
	"Exit status: 0 printed; 1 the source could not be read (the message names\n"
	"the path and cause); 2 usage error.\n";

const struct command digest_command = {
	"digest",
	"Print one hash of the context exactly as the builder receives it.",
	"[SOURCE] [-f DOCKERFILE] [--builder=buildkit|classic] [--with-mtime] [--no-cache] [--json]",
	digest_details,
	digest_opts,
	cmd_digest,
	OPT_PATH_FILE, /* operands */
};

static int cmd_manifest(const struct command *cmd, int argc, char **argv)
{
	struct digest_args a = { .src = { .builder = CTXPACK_BUILDER_BUILDKIT } };
	struct member_list l;
	struct members_src_info info;
	int first = opts_parse(cmd, argc, argv, digest_opt, &a);
	int rc = load_one(cmd, argc, argv, first, &a, &l, &info, NULL, NULL);

	if (rc >= 0)
		return rc;
	rc = a.json ? members_write_json(stdout, &l) : members_write_tsv(stdout, &l);
	if (a.verbose) {
		struct tally t = { 0 };
		for (size_t i = 0; i < l.n; i++)
			tally_add(&t, &l.v[i]);
		print_info(&t, &info);
	}
	members_src_release(&l, &info);
	if (rc || fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static const struct opt manifest_opts[] = {
	SRC_OPTS,
	{ "json", OPT_JSON, OPT_ARG_NONE, NULL, "one JSON document", NULL, 0 },
	{ "tsv", OPT_TSV, OPT_ARG_NONE, NULL, "tab-separated lines (default)", NULL, 0 },
	{ "verbose", 'v', OPT_ARG_NONE, NULL, "on stderr: members, files, bytes, and how many files were read or cached", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static const char manifest_details[] =
	"One line per member, in archive order: type, mode, size, XXH3-128 of the\n"
	"content (- for non-files), mtime, path and link target, after a\n"
	"'# ctxpack manifest v2' line and before an end line with their count, so\n"
	"that a cut manifest is refused (--json: one JSON document).  A manifest\n"
	"can be given to digest and diff in place of the context it describes.\n"
	"\n" SOURCE_DETAILS
	"\n"
	"Exit status: 0 written; 1 the source could not be read; 2 usage error.\n";

const struct command manifest_command = {
	"manifest",
	"List every member the builder receives, with its content hash.",
	"[SOURCE] [-f DOCKERFILE] [--builder=buildkit|classic] [--json|--tsv] [--no-cache]",
	manifest_details,
	manifest_opts,
	cmd_manifest,
	OPT_PATH_FILE, /* operands */
};

/* ---- diff ---- */

static const char *type_word(char t)
{
	const char *name = member_type_name(t);

	return name ? name : "other";
}

static void put_path(FILE *out, const char *p, size_t len, bool json)
{
	if (json) {
		json_string(out, p, len);
		return;
	}
	/* One line per member: bytes that would break it are escaped. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\\')
			fputs("\\\\", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void delta_text(FILE *out, const struct member_diff *all, const struct member_delta *d)
{
	const struct member *a = d->a, *b = d->b;
	char s1[32], s2[32];

	if ((d->changes & MC_REMOVED) && d->renamed != SIZE_MAX)
		return; /* said with the added name */
	if ((d->changes & MC_ADDED) && d->renamed != SIZE_MAX) {
		const struct member *from = all->v[d->renamed].a;
		fprintf(out, "renamed  %-8s %10s  ", type_word(b->type), human_size(b->size, s1, sizeof(s1)));
		put_path(out, from->path, from->len, false);
		fputs(" -> ", out);
		put_path(out, b->path, b->len, false);
	} else if (d->changes & MC_ADDED) {
		fprintf(out, "added    %-8s %10s  ", type_word(b->type), human_size(b->size, s1, sizeof(s1)));
		put_path(out, b->path, b->len, false);
	} else if (d->changes & MC_REMOVED) {
		fprintf(out, "removed  %-8s %10s  ", type_word(a->type), human_size(a->size, s1, sizeof(s1)));
		put_path(out, a->path, a->len, false);
	} else {
		const char *sep = " (";
		fputs("changed  ", out);
		put_path(out, b->path, b->len, false);
		if (d->changes & MC_TYPE) {
			fprintf(out, "%stype %s -> %s", sep, type_word(a->type), type_word(b->type));
			sep = "; ";
		}
		if (d->changes & MC_CONTENT) {
			human_size(a->size, s1, sizeof(s1));
			human_size(b->size, s2, sizeof(s2));
			if (a->size == b->size)
				fprintf(out, "%scontent, the same size %s", sep, s1);
			else if (!strcmp(s1, s2)) /* rounded alike: the exact sizes */
				fprintf(out, "%scontent %llu B -> %llu B (%+lld B)", sep,
					(unsigned long long)a->size, (unsigned long long)b->size,
					(long long)(b->size - a->size));
			else
				fprintf(out, "%scontent %s -> %s", sep, s1, s2);
			sep = "; ";
		}
		if (d->changes & MC_MODE) {
			fprintf(out, "%smode %04o -> %04o", sep, (unsigned)a->mode, (unsigned)b->mode);
			sep = "; ";
		}
		if (d->changes & MC_LINK) {
			fprintf(out, "%slink ", sep);
			put_path(out, a->link ? a->link : "", a->link_len, false);
			fputs(" -> ", out);
			put_path(out, b->link ? b->link : "", b->link_len, false);
			sep = "; ";
		}
		if (d->changes & MC_DEVICE) {
			fprintf(out, "%sdevice %u,%u -> %u,%u", sep, a->devmajor, a->devminor,
				b->devmajor, b->devminor);
			sep = "; ";
		}
		if (d->changes & MC_MTIME)
			fprintf(out, "%smtime %lld -> %lld", sep, (long long)a->mtime,
				(long long)b->mtime);
		fputc(')', out);
	}
	fputc('\n', out);
}

static void member_json(FILE *out, const struct member *m)
{
	fputs("{\"type\":\"", out);
	fputs(type_word(m->type), out);
	fprintf(out, "\",\"mode\":\"%04o\",\"size\":%llu", (unsigned)m->mode,
		(unsigned long long)m->size);
	if (m->hashed) {
		fputs(",\"xxh3_128\":\"", out);
		for (int i = 0; i < 16; i++)
			fprintf(out, "%02x", m->hash[i]);
		fputc('"', out);
	}
	if (m->link) {
		fputs(",\"link\":", out);
		json_string(out, m->link, m->link_len);
	}
	fprintf(out, ",\"mtime\":%lld}", (long long)m->mtime);
}

static void diff_json(FILE *out, const struct member_diff *d, bool same)
{
	static const char *const words[] = { "added", "removed", "content", "mode", "type", "link",
					     "device", "mtime" };

	fprintf(out, "{\"version\":1,\"identical\":%s,\"summary\":{\"added\":%llu,\"removed\":%llu,"
		"\"changed\":%llu,\"same\":%llu,\"added_bytes\":%llu,\"removed_bytes\":%llu,"
		"\"changed_bytes_before\":%llu,\"changed_bytes_after\":%llu},\"changes\":[",
		same ? "true" : "false", (unsigned long long)d->added, (unsigned long long)d->removed,
		(unsigned long long)d->changed, (unsigned long long)d->same,
		(unsigned long long)d->added_bytes, (unsigned long long)d->removed_bytes,
		(unsigned long long)d->changed_bytes_a, (unsigned long long)d->changed_bytes_b);
	for (size_t i = 0; i < d->n; i++) {
		const struct member_delta *x = &d->v[i];
		const struct member *m = x->b ? x->b : x->a;
		bool firstw = true;
		fputs(i ? ",\n{\"path\":" : "\n{\"path\":", out);
		json_string(out, m->path, m->len);
		fputs(",\"changes\":[", out);
		for (unsigned k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (x->changes & (1u << k)) {
				fprintf(out, "%s\"%s\"", firstw ? "" : ",", words[k]);
				firstw = false;
			}
		fputs("],\"before\":", out);
		if (x->a)
			member_json(out, x->a);
		else
			fputs("null", out);
		fputs(",\"after\":", out);
		if (x->b)
			member_json(out, x->b);
		else
			fputs("null", out);
		fputc('}', out);
	}
	fputs("\n]}\n", out);
}

enum { OPT_DIFF_SUMMARY = 270 };

static int diff_opt(int id, const char *arg, void *payload)
{
	struct digest_args *a = payload;

	if (id == OPT_DIFF_SUMMARY) {
		a->summary = true;
		return 0;
	}
	return digest_opt(id, arg, payload);
}

static int cmd_diff(const struct command *cmd, int argc, char **argv)
{
	struct digest_args a = { .src = { .builder = CTXPACK_BUILDER_BUILDKIT } };
	struct member_list la = { 0 }, lb = { 0 };
	struct members_src_info ia = { 0 }, ib = { 0 };
	struct member_diff d = { 0 };
	char s1[32], s2[32], s3[32], s4[32];
	int first = opts_parse(cmd, argc, argv, diff_opt, &a), rc = 2;
	bool same;

	if (first < 0)
		return first == -2 ? 0 : 2;
	if (argc - first != 2) {
		usage_error(cmd, "two sources to compare are needed (directories, tars or manifests)");
		return 2;
	}
	if (!strcmp(argv[first], "-") && !strcmp(argv[first + 1], "-")) {
		usage_error(cmd, "'-' given for both sides: stdin can be only one of them");
		return 2;
	}
	if (members_src_load(argv[first], &a.src, &la, &ia, NULL, NULL) ||
	    members_src_load(argv[first + 1], &a.src, &lb, &ib, NULL, NULL))
		goto out;
	if (members_diff(&d, &la, &lb, a.with_mtime)) {
		fprintf(stderr, "ctxpack: out of memory\n");
		goto out;
	}
	same = d.n == 0;
	if (a.json) {
		diff_json(stdout, &d, same);
	} else {
		if (members_diff_renames(&d)) {
			fprintf(stderr, "ctxpack: out of memory\n");
			goto out;
		}
		if (!a.summary)
			for (size_t i = 0; i < d.n; i++)
				delta_text(stdout, &d, &d.v[i]);
		if (d.renames)
			printf("%s%llu renamed (the same content under another name: counted as added "
			       "and removed below)\n",
			       !a.summary ? "\n" : "", (unsigned long long)d.renames);
		printf("%s%llu added (%s), %llu removed (%s), %llu changed (%s -> %s), %llu the same\n",
		       d.n && !a.summary && !d.renames ? "\n" : "", (unsigned long long)d.added,
		       human_size(d.added_bytes, s1, sizeof(s1)), (unsigned long long)d.removed,
		       human_size(d.removed_bytes, s2, sizeof(s2)), (unsigned long long)d.changed,
		       human_size(d.changed_bytes_a, s3, sizeof(s3)),
		       human_size(d.changed_bytes_b, s4, sizeof(s4)), (unsigned long long)d.same);
		puts(same ? "the contexts are identical: the same digest"
			  : "the contexts differ: a build cache keyed on the context misses");
	}
	rc = same ? 0 : 1;
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(errno));
		rc = 2;
	}
out:
	member_diff_release(&d);
	members_src_release(&la, &ia);
	members_src_release(&lb, &ib);
	return rc;
}

static const struct opt diff_opts[] = {
	SRC_OPTS,
	{ "with-mtime", OPT_WITH_MTIME, OPT_ARG_NONE, NULL, "an mtime difference alone is a change", NULL, 0 },
	{ "json", OPT_JSON, OPT_ARG_NONE, NULL, "one JSON document: summary and changes with both sides", NULL, 0 },
	{ "summary", OPT_DIFF_SUMMARY, OPT_ARG_NONE, NULL, "only the summary lines", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

static const char diff_details[] =
	"Compares two contexts member by member, matched by path: what was added,\n"
	"removed, or changed (content, mode, type, link target, device), with sizes,\n"
	"and a summary.  \"Why did my build cache miss?\": diff the context of the\n"
	"last build (a manifest kept from `pack --manifest`, or its tar) with the\n"
	"directory now.  -f and --builder apply to directory operands.\n"
	"\n" SOURCE_DETAILS
	"\n"
	"Exit status (as diff(1)): 0 identical; 1 different; 2 usage error or a\n"
	"source that could not be read.\n";

const struct command diff_command = {
	"diff",
	"Show what changed between two contexts (directories, tars or manifests).",
	"A B [-f DOCKERFILE] [--builder=buildkit|classic] [--with-mtime] [--json] [--summary]",
	diff_details,
	diff_opts,
	cmd_diff,
	OPT_PATH_FILE, /* operands */
};
