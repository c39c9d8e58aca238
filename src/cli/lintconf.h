/* lintconf.h: what configures `ctxpack lint` from the repository: the
 * `.ctxpack.conf` file (disable a check, change its severity) and the
 * `# ctxpack:ignore ID` comments of an ignore file (suppress a check on
 * the next rule line).  Pure: bytes in, settings out; lint.c owns the
 * check ids and reads the files. */
#ifndef CTXPACK_LINTCONF_H
#define CTXPACK_LINTCONF_H

#include <stdbool.h>
#include <stddef.h>

/* The check id id[0..len) as an index of lint's table, or -1. */
typedef long (*lintconf_check_fn)(const char *id, size_t len);

/* One check suppressed on one line of an ignore file. */
struct lintconf_suppress {
	int line;   /* the rule line it applies to */
	long check; /* the check's index */
};

/* The suppressions of an ignore file's bytes: a whole-line comment
 * "# ctxpack:ignore ID[,ID]..." (the '#' the line's first byte: Docker
 * reads only such lines as comments) applies to the next line in
 * rule_lines[0..nrules) (the file's rule lines, ascending, as the
 * ignore-file reader found them).  Returns 0, -ENOMEM, or -EINVAL with
 * "SOURCE:LINE: ..." in err (an unknown id, no id, no rule line after). */
int lintconf_suppressions(struct lintconf_suppress **out, size_t *nout, const char *data,
			  size_t len, const char *source, const int *rule_lines, size_t nrules,
			  lintconf_check_fn check, char *err, size_t errsz);

/* A .ctxpack.conf: lines "disable ID..." and "severity ID LEVEL" (LEVEL
 * info, warning or error), blank lines and lines starting with '#'.
 * Sets disabled[ID] and severity[ID] (0 info, 1 warning, 2 error).
 * Returns 0 or -EINVAL with "SOURCE:LINE: ..." in err. */
int lintconf_parse(bool *disabled, int *severity, const char *data, size_t len, const char *source,
		   lintconf_check_fn check, char *err, size_t errsz);

#endif
