/* secrets.h: does a file in a build context look like a secret?
 *
 * Pure functions over names and bytes, for `ctxpack lint` (which reads the
 * files): a secret sent in the context ends up in the builder, and with
 * COPY . . in an image layer.  Each returns a short description ("SSH
 * private key") or NULL. */
#ifndef CTXPACK_SECRETS_H
#define CTXPACK_SECRETS_H

#include <stddef.h>

/* Content signatures are looked for in the first SECRET_SCAN_MAX bytes of
 * every sent regular file (a key appended after them is missed: the bound
 * keeps lint's reads to 4 MiB a file on trees of large binaries). */
#define SECRET_SCAN_MAX (4 * 1024 * 1024)

/* A file that is secret by its name alone: path[0..len) is relative to the
 * context, '/'-separated (.env, id_rsa, *.pem, .aws/credentials, ...). */
const char *secret_by_name(const char *path, size_t len);

/* Names that are secret only with some content (.npmrc with a token,
 * .docker/config.json with credentials, a GCP credentials.json): nonzero
 * when path is one of them, so that the caller reads it. */
int secret_name_needs_content(const char *path, size_t len);

/* For those names: the description when buf[0..n) holds the credential,
 * NULL otherwise. */
const char *secret_by_name_and_content(const char *path, size_t len, const char *buf, size_t n);

/* Any file: a credential signature in buf[0..n) (a PEM private key, an
 * AWS secret key, an npm token, a GitHub or Slack token, ...). */
const char *secret_by_content(const char *buf, size_t n);

#endif
