/* policy.c: what a builder sends for one entry (see policy.h). */
#include <string.h>

#include "policy.h"
#include "walk.h"

void policy_decide(const struct policy_in *in, struct policy_decision *out)
{
	bool classic = in->builder == CTXPACK_BUILDER_CLASSIC;
	bool excluded = in->verdict == CTXPACK_EXCLUDE;
	bool dir = in->type == WT_DIR;

	memset(out, 0, sizeof(*out));
	if (in->parent == POLICY_PARENT_PRUNED) {
		/* The walk never sees it; BuildKit mode still looks the
		 * Dockerfile up on its own. */
		out->sent = out->forced = !classic && in->dockerfile;
		out->skip = out->sent ? POLICY_SKIP_NONE : POLICY_SKIP_PRUNED;
		return;
	}
	/* A directory is entered unless excluded with nothing below it a
	 * rule can re-include (A.14). */
	out->enter = dir && (!excluded || in->descend);
	out->sent = !excluded;
	out->skip = excluded ? POLICY_SKIP_EXCLUDED : POLICY_SKIP_NONE;
	/* BuildKit mode: ctxpack always puts the Dockerfile in the tar (the
	 * classic builder's re-add is a rule: ctxpack_rules_add_classic_readds) */
	if (!classic && in->dockerfile && !out->sent) {
		out->sent = out->forced = true;
		out->skip = POLICY_SKIP_NONE;
	}
	/* The docker CLI logs "archive/tar: sockets not supported" and goes
	 * on (A.23); BuildKit sends a socket as an empty file. */
	if (classic && in->type == WT_SOCK && out->sent) {
		out->sent = false;
		out->skip = POLICY_SKIP_SOCKET;
	}
	/* fsutil's parentDirs: an excluded directory entered is sent just
	 * before the first entry sent below it (B). */
	out->candidate = !classic && out->enter && excluded;
	/* The CLI's validation walk reads every directory it meets, excluded
	 * or not, before it decides to skip it (A.26), and the contents of
	 * those it does not skip. */
	out->validate = classic && dir && excluded && !out->enter && in->parent_validated;
	out->validated = classic && dir && in->parent_validated && !excluded;
	out->check_read = out->sent && in->type == WT_FILE;

	switch (in->io) {
	case POLICY_IO_OK:
		break;
	case POLICY_IO_NOSTAT:
		/* Docker's walkers decide such an entry from its name and fail
		 * only when they must send or enter it; fsutil skips an
		 * excluded directory it cannot read. */
		if (!out->sent && !out->enter)
			break;
		if (!out->sent && !classic)
			goto skip;
		out->fail = true;
		break;
	case POLICY_IO_NOOPEN:
		/* B "Permissions": an excluded directory BuildKit cannot read
		 * is skipped; any other unreadable directory fails (A.26). */
		if (!out->enter)
			break;
		if (excluded && !classic)
			goto skip;
		out->fail = true;
		break;
	}
	return;
skip:
	out->sent = out->forced = out->enter = out->candidate = false;
	out->check_read = false;
	out->skip = POLICY_SKIP_UNREADABLE;
}

bool policy_stat_required(enum ctxpack_builder b, bool parent_validated)
{
	return b == CTXPACK_BUILDER_CLASSIC && parent_validated;
}

const char *policy_skip_name(enum policy_skip s)
{
	static const char *const names[] = {
		[POLICY_SKIP_NONE] = NULL,
		[POLICY_SKIP_EXCLUDED] = "excluded",
		[POLICY_SKIP_PRUNED] = "pruned",
		[POLICY_SKIP_SOCKET] = "socket",
		[POLICY_SKIP_UNREADABLE] = "unreadable",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : NULL;
}
