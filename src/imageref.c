/* imageref.c: image names as the docker CLI accepts them for -t (see
 * imageref.h).
 *
 * The grammar is the reference grammar of the docker CLI's image names
 * (distribution's reference package), read the way the CLI's
 * ParseNormalizedNamed reads a -t value:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] component ( "/" component )*
 *   domain     := host [ ":" [0-9]+ ]
 *   host       := label ( "." label )* | "[" [a-fA-F0-9:]+ "]"
 *   label      := [a-zA-Z0-9] | [a-zA-Z0-9] [a-zA-Z0-9-]* [a-zA-Z0-9]
 *   component  := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *   digest     := algorithm ":" [0-9a-fA-F]{32,}
 *   algorithm  := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
 *
 * A name's first component is its domain when it holds '.' or ':', is
 * "localhost" or is changed by Go's strings.ToLower (a capital letter, a
 * byte that is not UTF-8); otherwise the domain is docker.io
 * (and a name of one component is under "library/"); that path must be
 * in lower case, and at most 255 characters long. */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "imageref.h"
#include "internal.h"
#include "utf8.h"

#define NAME_MAX_LEN 255

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool word(char c)
{
	return alnum(c) || c == '_';
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool xdigit(char c)
{
	return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether Go's strings.ToLower changes s[0..n): a capital letter (by
 * the C.UTF-8 locale's Unicode case mapping; ASCII only where that locale
 * is missing), or a byte that is not UTF-8 (which ToLower turns into
 * U+FFFD). */
static bool lower_differs(const char *s, size_t n)
{
	locale_t loc = (locale_t)0;
	bool differs = false;
	size_t i = 0;

	while (i < n && !differs) {
		uint32_t r;
		size_t len = utf8_decode((const unsigned char *)s + i, n - i, &r);

		if (r < 0x80)
			differs = r >= 'A' && r <= 'Z';
		else if (r == UTF8_RUNE_ERROR && len == 1)
			differs = true;
		else if (loc || (loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)))
			differs = towlower_l((wint_t)r, loc) != (wint_t)r;
		i += len;
	}
	if (loc)
		freelocale(loc);
	return differs;
}

/* component: runs of [a-z0-9] joined by one separator each */
static bool component(const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;
		while (i < n && lower_alnum(s[i]))
			i++;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return false;
	}
}

/* one or more components separated by '/' */
static bool path(const char *s, size_t n)
{
	const char *slash;

	while ((slash = memchr(s, '/', n))) {
		if (!component(s, (size_t)(slash - s)))
			return false;
		n -= (size_t)(slash - s) + 1;
		s = slash + 1;
	}
	return component(s, n);
}

static bool domain(const char *s, size_t n)
{
	size_t i = 0;

	if (n && s[0] == '[') {
		for (i = 1; i < n && (xdigit(s[i]) || s[i] == ':'); i++)
			;
		if (i == 1 || i == n || s[i] != ']')
			return false;
		i++;
	} else {
		for (;;) {
			size_t start = i;
			while (i < n && (alnum(s[i]) || s[i] == '-'))
				i++;
			if (i == start || s[start] == '-' || s[i - 1] == '-')
				return false;
			if (i < n && s[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i == n)
		return true;
	if (s[i++] != ':' || i == n)
		return false;
	while (i < n && digit(s[i]))
		i++;
	return i == n;
}

/* A name: its path's length into *path_len (the grammar's domain is
 * optional and taken when it can be, as Go's regexp prefers). */
static bool name(const char *s, size_t n, size_t *path_len)
{
	const char *slash = memchr(s, '/', n);

	if (slash && domain(s, (size_t)(slash - s)) &&
	    path(slash + 1, n - (size_t)(slash - s) - 1)) {
		*path_len = n - (size_t)(slash - s) - 1;
		return true;
	}
	*path_len = n;
	return path(s, n);
}

static bool tag(const char *s, size_t n)
{
	if (!n || n > 128 || !word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static bool digest(const char *s, size_t n)
{
	size_t i = 0, hex;

	for (;;) {
		if (i == n || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
		while (i < n && alnum(s[i]))
			i++;
		if (i < n && s[i] && strchr("-_+.", s[i])) {
			i++;
			continue;
		}
		break;
	}
	if (i == n || s[i++] != ':')
		return false;
	for (hex = 0; i < n && xdigit(s[i]); i++)
		hex++;
	return i == n && hex >= 32;
}

/* The reference grammar over s[0..n) (no NUL inside); *path_len: the
 * length of the name's path. */
static bool reference(const char *s, size_t n, size_t *path_len)
{
	const char *at = memchr(s, '@', n), *colon, *slash;
	size_t end = at ? (size_t)(at - s) : n;

	if (at && !digest(at + 1, n - end - 1))
		return false;
	colon = memrchr(s, ':', end);
	slash = memrchr(s, '/', end);
	/* a ':' after the last '/' starts the tag (a domain's port is
	 * followed by a '/') */
	if (colon && (!slash || colon > slash)) {
		if (!tag(colon + 1, end - (size_t)(colon - s) - 1))
			return false;
		end = (size_t)(colon - s);
	}
	return name(s, end, path_len);
}

/* go-digest's check of a digest the grammar took */
static int digest_check(const char *d, char *why, size_t whysz)
{
	static const struct {
		const char *alg;
		size_t hex;
	} algs[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
	const char *colon = strchr(d, ':');
	size_t alen = (size_t)(colon - d), hlen = strlen(colon + 1);

	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		if (strlen(algs[i].alg) != alen || memcmp(d, algs[i].alg, alen))
			continue;
		if (hlen != algs[i].hex)
			return set_errmsg(why, whysz, -EINVAL, "invalid checksum digest length");
		for (const char *h = colon + 1; *h; h++)
			if (!digit(*h) && !(*h >= 'a' && *h <= 'f'))
				return set_errmsg(why, whysz, -EINVAL,
						  "invalid checksum digest format");
		return 0;
	}
	/* an algorithm go-digest does not have: its grammar, lower case
	 * only ([a-z0-9]+ joined by single [.+_-]), says which error */
	for (size_t i = 0; i < alen; i++) {
		bool sep = strchr(".+_-", d[i]) != NULL;
		if (!lower_alnum(d[i]) &&
		    !(sep && i > 0 && i + 1 < alen && !strchr(".+_-", d[i + 1])))
			return set_errmsg(why, whysz, -EINVAL, "invalid checksum digest format");
	}
	return set_errmsg(why, whysz, -EINVAL, "unsupported digest algorithm");
}

/* The name with its domain, as the docker CLI completes it: a first
 * component with '.' or ':', "localhost" or one ToLower changes is the
 * domain (index.docker.io read as docker.io), else docker.io, and a
 * docker.io name of one component is under library/. */
static char *qualified(const char *s)
{
	const char *slash = strchr(s, '/'), *rem = s, *dom = "docker.io";
	size_t dlen = 9;
	char *full;

	if (slash) {
		size_t n = (size_t)(slash - s);
		if (memchr(s, '.', n) || memchr(s, ':', n) ||
		    (n == 9 && !memcmp(s, "localhost", 9)) || lower_differs(s, n)) {
			dom = s;
			dlen = n;
			rem = slash + 1;
		}
		if (dlen == 15 && !memcmp(dom, "index.docker.io", 15)) {
			dom = "docker.io";
			dlen = 9;
		}
	}
	if (asprintf(&full, "%.*s/%s%s", (int)dlen, dom,
		     dlen == 9 && !memcmp(dom, "docker.io", 9) && !strchr(rem, '/') ? "library/"
										    : "",
		     rem) < 0)
		return NULL;
	return full;
}

int imageref_check(const char *s, char *why, size_t whysz)
{
	size_t n = strlen(s), i, plen;
	char *full, *rem;
	int rc = 0;

	for (i = 0; i < n && (digit(s[i]) || (s[i] >= 'a' && s[i] <= 'f')); i++)
		;
	if (n == 64 && i == n)
		return set_errmsg(
			why, whysz, -EINVAL,
			"invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
			s);
	if (!(full = qualified(s)))
		return -ENOMEM;
	/* the path, up to the first ':', in lower case */
	rem = strchr(full, '/') + 1;
	plen = strcspn(rem, ":");
	if (lower_differs(rem, plen)) {
		char q[300];
		rc = set_errmsg(why, whysz, -EINVAL,
				"invalid reference format: repository name (%s) must be lowercase",
				text_quote(q, sizeof(q), rem, plen));
		goto out;
	}
	n = strlen(full);
	if (!reference(full, n, &plen)) {
		/* in lower case it would be a name: a capital is what is wrong */
		for (i = 0; i < n; i++)
			if (full[i] >= 'A' && full[i] <= 'Z')
				full[i] = (char)(full[i] - 'A' + 'a');
		rc = set_errmsg(why, whysz, -EINVAL, "%s",
				reference(full, n, &plen) ? "repository name must be lowercase"
							  : "invalid reference format");
		goto out;
	}
	if (plen > NAME_MAX_LEN) {
		rc = set_errmsg(why, whysz, -EINVAL,
				"repository name must not be more than %d characters",
				NAME_MAX_LEN);
		goto out;
	}
	if (strchr(full, '@'))
		rc = digest_check(strchr(full, '@') + 1, why, whysz);
out:
	free(full);
	return rc;
}
