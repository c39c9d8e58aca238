/* test_policy.c: policy_decide (src/policy.c), the one place that says
 * what a builder sends for an entry, as a table: builder x matcher verdict
 * x type x Dockerfile x parent state x I/O -> decision.  Each row names
 * the case of DOCKER-SEMANTICS.md it stands for; one TAP test per row. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "walk.h"

#define BK CTXPACK_BUILDER_BUILDKIT
#define CL CTXPACK_BUILDER_CLASSIC
#define EX CTXPACK_EXCLUDE
#define IN CTXPACK_INCLUDE
#define NO CTXPACK_NONE
#define READ POLICY_PARENT_READ
#define PRUNED POLICY_PARENT_PRUNED
#define OK POLICY_IO_OK
#define NOSTAT POLICY_IO_NOSTAT
#define NOOPEN POLICY_IO_NOOPEN
#define UNKNOWN POLICY_TYPE_UNKNOWN

/* The decision's flags as a string of letters, '-' for false, in this
 * order: s(ent) f(orced) e(nter) c(andidate) v(alidate) V(alidated)
 * r(check_read) F(ail). */
#define FLAGS "sfecvVrF"

struct row {
	const char *name;
	struct policy_in in;
	const char *flags;
	enum policy_skip skip;
};

static const struct row rows[] = {
	/* ---- plain verdicts ---- */
	{ "bk: a file no rule decides is sent and checked readable",
	  { BK, NO, false, WT_FILE, false, READ, false, OK }, "s-----r-", POLICY_SKIP_NONE },
	{ "classic: a file no rule decides (validated parent) is sent",
	  { CL, NO, false, WT_FILE, false, READ, true, OK }, "s-----r-", POLICY_SKIP_NONE },
	{ "bk: an included file is sent",
	  { BK, IN, false, WT_FILE, false, READ, false, OK }, "s-----r-", POLICY_SKIP_NONE },
	{ "bk: an excluded file is not sent",
	  { BK, EX, false, WT_FILE, false, READ, false, OK }, "--------", POLICY_SKIP_EXCLUDED },
	{ "classic: an excluded file is not sent",
	  { CL, EX, false, WT_FILE, false, READ, true, OK }, "--------", POLICY_SKIP_EXCLUDED },
	{ "bk: a symlink is sent, never read through",
	  { BK, NO, false, WT_SYMLINK, false, READ, false, OK }, "s-------", POLICY_SKIP_NONE },
	{ "classic: a FIFO is sent, never opened (A.23, A.26)",
	  { CL, NO, false, WT_FIFO, false, READ, true, OK }, "s-------", POLICY_SKIP_NONE },
	{ "bk: a device is sent",
	  { BK, NO, false, WT_CHR, false, READ, false, OK }, "s-------", POLICY_SKIP_NONE },
	/* ---- directories ---- */
	{ "bk: a directory is sent and entered",
	  { BK, NO, true, WT_DIR, false, READ, false, OK }, "s-e-----", POLICY_SKIP_NONE },
	{ "classic: a directory under a validated parent is validated in turn",
	  { CL, NO, true, WT_DIR, false, READ, true, OK }, "s-e--V--", POLICY_SKIP_NONE },
	{ "classic: a directory below an excluded one entered is not validated",
	  { CL, IN, true, WT_DIR, false, READ, false, OK }, "s-e-----", POLICY_SKIP_NONE },
	{ "bk: an excluded directory nothing re-includes is not entered (A.14)",
	  { BK, EX, false, WT_DIR, false, READ, false, OK }, "--------", POLICY_SKIP_EXCLUDED },
	{ "classic: the validation walk still opens an excluded directory (A.26)",
	  { CL, EX, false, WT_DIR, false, READ, true, OK }, "----v---", POLICY_SKIP_EXCLUDED },
	{ "classic: below an excluded directory nothing is validated",
	  { CL, EX, false, WT_DIR, false, READ, false, OK }, "--------", POLICY_SKIP_EXCLUDED },
	{ "bk: an excluded directory an exception reaches is a lazy parent (B)",
	  { BK, EX, true, WT_DIR, false, READ, false, OK }, "--ec----", POLICY_SKIP_EXCLUDED },
	{ "classic: an excluded directory an exception reaches is entered, never sent (A.13)",
	  { CL, EX, true, WT_DIR, false, READ, true, OK }, "--e-----", POLICY_SKIP_EXCLUDED },
	{ "bk: 'descend' of a file does not enter it",
	  { BK, EX, true, WT_FILE, false, READ, false, OK }, "--------", POLICY_SKIP_EXCLUDED },
	/* ---- sockets (A.23, B Types) ---- */
	{ "classic: a socket is left out",
	  { CL, NO, false, WT_SOCK, false, READ, true, OK }, "--------", POLICY_SKIP_SOCKET },
	{ "classic: an excluded socket is just excluded",
	  { CL, EX, false, WT_SOCK, false, READ, true, OK }, "--------", POLICY_SKIP_EXCLUDED },
	{ "bk: a socket is sent (as an empty file)",
	  { BK, NO, false, WT_SOCK, false, READ, false, OK }, "s-------", POLICY_SKIP_NONE },
	/* ---- the Dockerfile (A.16-17, B) ---- */
	{ "bk: an excluded Dockerfile is forced in",
	  { BK, EX, false, WT_FILE, true, READ, false, OK }, "sf----r-", POLICY_SKIP_NONE },
	{ "bk: a Dockerfile the rules keep is just sent",
	  { BK, NO, false, WT_FILE, true, READ, false, OK }, "s-----r-", POLICY_SKIP_NONE },
	{ "bk: a Dockerfile below a pruned directory is forced in alone",
	  { BK, EX, false, WT_FILE, true, PRUNED, false, OK }, "sf------", POLICY_SKIP_NONE },
	{ "classic: an excluded Dockerfile is not forced (its re-add is a rule)",
	  { CL, EX, false, WT_FILE, true, READ, true, OK }, "--------", POLICY_SKIP_EXCLUDED },
	{ "classic: a Dockerfile below a pruned directory is left out (A.17)",
	  { CL, EX, false, WT_FILE, true, PRUNED, false, OK }, "--------", POLICY_SKIP_PRUNED },
	{ "bk: an excluded Dockerfile directory an exception reaches: forced and a candidate",
	  { BK, EX, true, WT_DIR, true, READ, false, OK }, "sfec----", POLICY_SKIP_NONE },
	/* ---- pruned (below an excluded directory never entered) ---- */
	{ "bk: a path below a pruned directory is not sent",
	  { BK, EX, false, WT_FILE, false, PRUNED, false, OK }, "--------", POLICY_SKIP_PRUNED },
	{ "classic: a directory below a pruned directory is not entered",
	  { CL, IN, true, WT_DIR, false, PRUNED, true, OK }, "--------", POLICY_SKIP_PRUNED },
	/* ---- types the caller could not learn (check-ignore, explain) ---- */
	{ "bk: a path that does not exist is decided by its verdict",
	  { BK, NO, false, UNKNOWN, false, READ, false, OK }, "s-------", POLICY_SKIP_NONE },
	{ "bk: an excluded path that does not exist is no candidate",
	  { BK, EX, true, UNKNOWN, false, READ, false, OK }, "--------", POLICY_SKIP_EXCLUDED },
	/* ---- permissions (A.26, B Permissions) ---- */
	{ "bk: an unstat-able file that is sent fails",
	  { BK, NO, false, WT_FILE, false, READ, false, NOSTAT }, "s-----rF", POLICY_SKIP_NONE },
	{ "bk: an unstat-able excluded file is fine",
	  { BK, EX, false, WT_FILE, false, READ, false, NOSTAT }, "--------", POLICY_SKIP_EXCLUDED },
	{ "bk: an unstat-able excluded directory entered is skipped (fsutil)",
	  { BK, EX, true, WT_DIR, false, READ, false, NOSTAT }, "--------", POLICY_SKIP_UNREADABLE },
	{ "classic: an unstat-able excluded directory entered fails",
	  { CL, EX, true, WT_DIR, false, READ, false, NOSTAT }, "--e----F", POLICY_SKIP_EXCLUDED },
	{ "bk: an unstat-able directory that is sent fails",
	  { BK, NO, true, WT_DIR, false, READ, false, NOSTAT }, "s-e----F", POLICY_SKIP_NONE },
	{ "bk: an excluded directory entered that cannot be opened is skipped (fsutil)",
	  { BK, EX, true, WT_DIR, false, READ, false, NOOPEN }, "--------", POLICY_SKIP_UNREADABLE },
	{ "classic: an excluded directory entered that cannot be opened fails (A.26)",
	  { CL, EX, true, WT_DIR, false, READ, false, NOOPEN }, "--e----F", POLICY_SKIP_EXCLUDED },
	{ "bk: a directory that is sent and cannot be opened fails",
	  { BK, NO, true, WT_DIR, false, READ, false, NOOPEN }, "s-e----F", POLICY_SKIP_NONE },
	{ "classic: a directory that is sent and cannot be opened fails",
	  { CL, IN, true, WT_DIR, false, READ, true, NOOPEN }, "s-e--V-F", POLICY_SKIP_NONE },
};

static void flags_of(const struct policy_decision *d, char out[9])
{
	const bool v[8] = { d->sent, d->forced, d->enter, d->candidate,
			    d->validate, d->validated, d->check_read, d->fail };

	for (int i = 0; i < 8; i++)
		out[i] = v[i] ? FLAGS[i] : '-';
	out[8] = '\0';
}

static void test_row(void **state)
{
	const struct row *r = *state;
	struct policy_decision d;
	char got[9];

	memset(&d, 0xa5, sizeof(d)); /* every field is set */
	policy_decide(&r->in, &d);
	flags_of(&d, got);
	if (strcmp(got, r->flags) || d.skip != r->skip)
		fail_msg("%s: got %s skip %d, want %s skip %d", r->name, got, (int)d.skip, r->flags,
			 (int)r->skip);
}

/* Properties over every input: a decision is never both sent for itself
 * and skipped, a candidate is always entered and excluded, forced only
 * with the Dockerfile in BuildKit mode. */
static void test_invariants(void **state)
{
	static const int types[] = { WT_FILE, WT_DIR, WT_SYMLINK, WT_FIFO, WT_CHR, WT_BLK, WT_SOCK,
				     UNKNOWN };
	(void)state;
	for (int b = 0; b < 2; b++)
		for (int v = 0; v < 3; v++)
			for (int t = 0; t < 8; t++)
				for (int bits = 0; bits < 16; bits++)
					for (int io = 0; io < 3; io++) {
						struct policy_in in = {
							b ? CL : BK, v == 0 ? NO : v == 1 ? IN : EX,
							bits & 1, types[t], bits & 2,
							bits & 4 ? PRUNED : READ, bits & 8, io };
						struct policy_decision d;
						policy_decide(&in, &d);
						assert_false(d.sent && d.skip != POLICY_SKIP_NONE);
						assert_false(!d.sent && d.skip == POLICY_SKIP_NONE);
						assert_true(!d.candidate || (d.enter && v == 2 && !b));
						assert_true(!d.forced || (in.dockerfile && !b));
						assert_true(!d.enter || types[t] == WT_DIR);
						assert_true(!d.check_read || (d.sent && types[t] == WT_FILE));
					}
}

static void test_names(void **state)
{
	(void)state;
	assert_null(policy_skip_name(POLICY_SKIP_NONE));
	assert_string_equal(policy_skip_name(POLICY_SKIP_SOCKET), "socket");
	assert_string_equal(policy_skip_name(POLICY_SKIP_UNREADABLE), "unreadable");
	assert_true(policy_stat_required(CL, true));
	assert_false(policy_stat_required(CL, false));
	assert_false(policy_stat_required(BK, true));
}

int main(void)
{
	size_t n = sizeof(rows) / sizeof(rows[0]);
	struct CMUnitTest *tests = calloc(n + 2, sizeof(*tests));
	int rc;

	if (!tests)
		return 1;
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ rows[i].name, test_row, NULL, NULL, (void *)&rows[i] };
	tests[n] = (struct CMUnitTest){ "invariants over every input", test_invariants, NULL, NULL,
					NULL };
	tests[n + 1] = (struct CMUnitTest){ "skip names, stat required", test_names, NULL, NULL,
					    NULL };
	cmocka_set_message_output(CM_OUTPUT_TAP);
	rc = _cmocka_run_group_tests("policy", tests, n + 2, NULL, NULL);
	free(tests);
	return rc;
}
