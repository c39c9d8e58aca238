/* imageref.h: image names as the docker CLI accepts them for -t.
 *
 * The docker CLI refuses a tag it cannot parse as an image reference
 * before it sends anything; ctxpack build does the same, with the CLI's
 * reasons (tests/cli/test_build_tags.py compares them with the docker
 * CLI's on the same names). */
#ifndef CTXPACK_IMAGEREF_H
#define CTXPACK_IMAGEREF_H

#include <stddef.h>

/* 0 when s is a name docker build -t takes ([DOMAIN/]PATH[:TAG][@DIGEST],
 * a name without a domain being docker.io's); -EINVAL otherwise, with the
 * docker CLI's reason ("invalid reference format", "invalid reference
 * format: repository name (library/X) must be lowercase", ...) in why. */
int imageref_check(const char *s, char *why, size_t whysz);

#endif
