/* secrets.c: names and contents that look like credentials (see secrets.h).
 *
 * The signatures are deliberately narrow: a token must have its real shape
 * (length, alphabet, word boundary) so that source code that merely names
 * a setting (boto3's aws_secret_access_key=..., an .npmrc reading
 * ${NPM_TOKEN}) is not reported. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "secrets.h"

static bool eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && !memcmp(s, lit, n);
}

static bool starts(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	return n >= k && !memcmp(s, pre, k);
}

/* Extensions are compared without case: Windows tools write .PFX, .KEY. */
static bool ends_ci(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	return n >= k && !strncasecmp(s + n - k, suf, k);
}

/* path is tail itself or ends with "/tail" (a file inside a home-like
 * directory anywhere in the context: .aws/credentials, a/.kube/config). */
static bool path_is(const char *path, size_t len, const char *tail)
{
	size_t k = strlen(tail);

	return len >= k && !memcmp(path + len - k, tail, k) && (len == k || path[len - k - 1] == '/');
}

static const char *base(const char *path, size_t len, size_t *n)
{
	const char *slash = memrchr(path, '/', len);
	const char *b = slash ? slash + 1 : path;

	*n = len - (size_t)(b - path);
	return b;
}

static bool is_env_file(const char *b, size_t n)
{
	/* Templates committed on purpose, without values. */
	if (eq(b, n, ".env.example") || eq(b, n, ".env.sample") || eq(b, n, ".env.template"))
		return false;
	return eq(b, n, ".env") || starts(b, n, ".env.");
}

static bool is_ssh_key(const char *b, size_t n)
{
	static const char *const pre[] = { "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519" };

	if (ends_ci(b, n, ".pub"))
		return false;
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (starts(b, n, pre[i]))
			return true;
	return false;
}

const char *secret_by_name(const char *path, size_t len)
{
	size_t n;
	const char *b = base(path, len, &n);

	if (is_env_file(b, n))
		return "environment file";
	if (is_ssh_key(b, n))
		return "SSH private key";
	if (ends_ci(b, n, ".pem"))
		return "PEM file (certificate or private key)";
	if (ends_ci(b, n, ".key"))
		return "private key file";
	if (ends_ci(b, n, ".p12") || ends_ci(b, n, ".pfx"))
		return "PKCS#12 key store";
	if (eq(b, n, ".git-credentials"))
		return "git credentials";
	if (eq(b, n, ".netrc") || eq(b, n, "_netrc"))
		return "netrc credentials";
	if (path_is(path, len, ".aws/credentials"))
		return "AWS credentials";
	if (eq(b, n, "kubeconfig") || path_is(path, len, ".kube/config"))
		return "kubeconfig";
	/* Terraform keeps every resource attribute, passwords included, in
	 * clear in its state. */
	if (ends_ci(b, n, ".tfstate") || ends_ci(b, n, ".tfstate.backup"))
		return "Terraform state";
	/* libpq's password file: host:port:db:user:password lines. */
	if (eq(b, n, ".pgpass"))
		return "PostgreSQL password file";
	if (eq(b, n, ".htpasswd"))
		return "htpasswd password hashes";
	/* The vault CLI's login token (~/.vault-token). */
	if (eq(b, n, ".vault-token"))
		return "Vault token";
	return NULL;
}

int secret_name_needs_content(const char *path, size_t len)
{
	size_t n;
	const char *b = base(path, len, &n);

	return eq(b, n, ".npmrc") || eq(b, n, ".pypirc") || eq(b, n, "credentials.json") ||
	       path_is(path, len, ".docker/config.json") || ends_ci(b, n, ".tfvars") ||
	       ends_ci(b, n, ".tfvars.json");
}

static bool is_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_alnum(unsigned char c)
{
	return is_word(c) && c != '_';
}

static size_t skip_blanks(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* Case-insensitive memmem. */
static const char *find_ci(const char *h, size_t n, size_t from, const char *needle)
{
	size_t k = strlen(needle);
	int c0 = tolower((unsigned char)needle[0]);

	/* The first byte is compared inline: strncasecmp at every offset of
	 * every small file was most of lint's time on a tree of 500k files. */
	for (size_t i = from; i + k <= n; i++)
		if (tolower((unsigned char)h[i]) == c0 && !strncasecmp(h + i, needle, k))
			return h + i;
	return NULL;
}

/* A value follows at s[i]: not empty, not a ${VAR} reference (npm and
 * twine substitute those from the environment, which is what to do). */
static bool real_value(const char *s, size_t n, size_t i)
{
	i = skip_blanks(s, n, i);
	if (i < n && (s[i] == '"' || s[i] == '\''))
		i++;
	if (i >= n || s[i] == '\n' || s[i] == '\r' || s[i] == '"' || s[i] == '\'')
		return false;
	return !(i + 1 < n && s[i] == '$' && s[i + 1] == '{');
}

/* KEY, blanks, '=' (or ':' when colon), then a real value, anywhere. */
static bool has_setting(const char *s, size_t n, const char *key, bool colon)
{
	size_t k = strlen(key);

	for (const char *p = find_ci(s, n, 0, key); p; p = find_ci(s, n, (size_t)(p - s) + 1, key)) {
		size_t i = skip_blanks(s, n, (size_t)(p - s) + k);
		if (i < n && (s[i] == '=' || (colon && s[i] == ':')) && real_value(s, n, i + 1))
			return true;
	}
	return false;
}

/* "key" blanks ':' blanks "value..." in JSON. */
static bool json_field(const char *s, size_t n, const char *key, const char *value_prefix)
{
	size_t k = strlen(key), v = strlen(value_prefix);

	for (const char *p = memmem(s, n, key, k); p; p = memmem(p + 1, n - (size_t)(p + 1 - s), key, k)) {
		size_t i = skip_blanks(s, n, (size_t)(p - s) + k);
		while (i < n && (s[i] == '\n' || s[i] == '\r'))
			i = skip_blanks(s, n, i + 1);
		if (i >= n || s[i] != ':')
			continue;
		i = skip_blanks(s, n, i + 1);
		if (i + v < n && !memcmp(s + i, value_prefix, v))
			return true;
	}
	return false;
}

/* A .tfvars assignment whose name holds password, secret or token, set
 * to a non-empty literal string: db_password = "hunter2" (HCL) or
 * "db_password": "hunter2" (JSON).  A var.x or "${...}" reference is not
 * one. */
static bool tfvars_secret(const char *s, size_t n)
{
	static const char *const words[] = { "password", "secret", "token" };

	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t k = strlen(words[w]);
		for (const char *p = find_ci(s, n, 0, words[w]); p; p = find_ci(s, n, (size_t)(p - s) + 1, words[w])) {
			size_t i = (size_t)(p - s) + k;
			while (i < n && (is_word((unsigned char)s[i]) || s[i] == '-'))
				i++;
			if (i < n && s[i] == '"')
				i++;
			i = skip_blanks(s, n, i);
			if (i >= n || (s[i] != '=' && s[i] != ':'))
				continue;
			i = skip_blanks(s, n, i + 1);
			if (i + 1 < n && s[i] == '"' && s[i + 1] != '"' && s[i + 1] != '$' &&
			    s[i + 1] != '\n')
				return true;
		}
	}
	return false;
}

const char *secret_by_name_and_content(const char *path, size_t len, const char *buf, size_t n)
{
	size_t bn;
	const char *b = base(path, len, &bn);

	if (eq(b, bn, ".npmrc") && (has_setting(buf, n, "_authToken", false) ||
				    has_setting(buf, n, "_auth", false) ||
				    has_setting(buf, n, "_password", false)))
		return "npm credentials (.npmrc with a token or password)";
	if (eq(b, bn, ".pypirc") && has_setting(buf, n, "password", true))
		return "PyPI credentials (.pypirc with a password)";
	if (path_is(path, len, ".docker/config.json") && memmem(buf, n, "\"auths\"", 7) &&
	    json_field(buf, n, "\"auth\"", "\""))
		return "Docker registry credentials";
	if (eq(b, bn, "credentials.json") && json_field(buf, n, "\"type\"", "\"service_account\""))
		return "GCP service account key";
	/* Google's OAuth client file ({"installed": {...}} or {"web": {...}}):
	 * the client secret is what makes it a credential. */
	if (eq(b, bn, "credentials.json") &&
	    (memmem(buf, n, "\"installed\"", 11) || memmem(buf, n, "\"web\"", 5)) &&
	    json_field(buf, n, "\"client_secret\"", "\"") &&
	    !json_field(buf, n, "\"client_secret\"", "\"\""))
		return "OAuth client secret (Google credentials.json)";
	if ((ends_ci(b, bn, ".tfvars") || ends_ci(b, bn, ".tfvars.json")) && tfvars_secret(buf, n))
		return "Terraform variables with a password or secret";
	return NULL;
}

/* The end of the line that holds s[i] (the index of its '\n', or n). */
static size_t line_end(const char *s, size_t n, size_t i)
{
	const char *nl = memchr(s + i, '\n', n - i);

	return nl ? (size_t)(nl - s) : n;
}

/* s[i..e) holds only blanks (and a CR before the newline). */
static bool blank_to(const char *s, size_t i, size_t e)
{
	while (i < e && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	return i == e;
}

static bool is_b64(unsigned char c)
{
	return is_alnum(c) || c == '+' || c == '/' || c == '=';
}

/* A PEM private key block (RFC 7468, with OpenSSL's legacy encrypted
 * headers): the line "-----BEGIN <label>-----", where the label is upper
 * case words ending in "PRIVATE KEY" (RSA, EC, DSA, OPENSSH, ENCRYPTED or
 * none), at a line start after optional blanks (an indented YAML block
 * counts); then lines of base64 (at least one), blank lines or
 * "Name: value" headers (Proc-Type, DEK-Info); then "-----END <label>-----"
 * with the same label.  A BEGIN line inside a quoted string or attribute
 * (placeholder="-----BEGIN PRIVATE KEY-----" in a form) is not a key. */
static bool pem_private_key(const char *s, size_t n)
{
	static const char begin[] = "-----BEGIN ", tail[] = "PRIVATE KEY-----";

	for (const char *p = memmem(s, n, begin, 11); p; p = memmem(p + 1, n - (size_t)(p + 1 - s), begin, 11)) {
		size_t at = (size_t)(p - s), ls = at, i = at + 11, label, llen, e, b64 = 0;
		while (ls > 0 && (s[ls - 1] == ' ' || s[ls - 1] == '\t'))
			ls--;
		if (ls > 0 && s[ls - 1] != '\n')
			continue; /* not at a line start */
		label = i;
		while (i < n && i - label < 64 && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == ' '))
			i++;
		if (i + 5 > n || memcmp(s + i, "-----", 5) || i - label < 11 ||
		    memcmp(s + i - 11, tail, 11))
			continue;
		llen = i - label;
		e = line_end(s, n, i);
		if (!blank_to(s, i + 5, e))
			continue;
		/* The body, line by line, up to the END line. */
		while (e < n) {
			size_t j = e + 1, k;
			e = line_end(s, n, j);
			j = skip_blanks(s, e, j);
			if (e - j >= 9 + llen + 5 && !memcmp(s + j, "-----END ", 9)) {
				if (b64 && !memcmp(s + j + 9, s + label, llen) &&
				    !memcmp(s + j + 9 + llen, "-----", 5) && blank_to(s, j + 14 + llen, e))
					return true;
				break;
			}
			for (k = j; k < e && is_b64((unsigned char)s[k]); k++)
				;
			if (blank_to(s, k, e)) {
				b64 += k > j;
				continue;
			}
			/* "Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,..." */
			if (k > j && k < e && (s[k] == '-' || s[k] == ':') && memchr(s + j, ':', e - j) && !b64)
				continue;
			break;
		}
	}
	return false;
}

/* AWS secret keys are 40 characters of base64. */
static bool aws_secret(const char *s, size_t n)
{
	static const char key[] = "aws_secret_access_key";

	for (const char *p = find_ci(s, n, 0, key); p; p = find_ci(s, n, (size_t)(p - s) + 1, key)) {
		size_t i = (size_t)(p - s) + sizeof(key) - 1, k = 0;
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '"' || s[i] == '\''))
			i++;
		if (i >= n || (s[i] != '=' && s[i] != ':'))
			continue;
		i++;
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '"' || s[i] == '\''))
			i++;
		while (i + k < n && (is_alnum((unsigned char)s[i + k]) || s[i + k] == '/' || s[i + k] == '+'))
			k++;
		if (k == 40)
			return true;
	}
	return false;
}

/* A token body that is a placeholder, not a key: sk_live_xxxxxxxx...,
 * AKIAIOSFODNN7EXAMPLE (AWS's documented example key), YOUR_TOKEN_HERE,
 * or one repeated character. */
static bool placeholder(const char *t, size_t m)
{
	static const char *const words[] = { "xxxx", "example", "your", "placeholder", "dummy",
					      "redacted", "changeme", "replace" };
	size_t distinct = 0;
	bool seen[256] = { false };

	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t k = strlen(words[w]);
		for (size_t i = 0; i + k <= m; i++)
			if (!strncasecmp(t + i, words[w], k))
				return true;
	}
	for (size_t i = 0; i < m; i++)
		if (!seen[(unsigned char)t[i]]) {
			seen[(unsigned char)t[i]] = true;
			distinct++;
		}
	return distinct < 5;
}

/* prefix at a word start, then min to max (0: any) characters of the
 * token's alphabet (alphanumerics, plus extra), the whole run (a longer
 * one is another word), not a placeholder. */
static bool token_len(const char *s, size_t n, const char *prefix, size_t min, size_t max,
		      const char *extra)
{
	size_t k = strlen(prefix);

	for (const char *p = memmem(s, n, prefix, k); p; p = memmem(p + 1, n - (size_t)(p + 1 - s), prefix, k)) {
		size_t i = (size_t)(p - s) + k, m = 0;
		if (p > s && is_word((unsigned char)p[-1]))
			continue;
		while (i + m < n && (is_alnum((unsigned char)s[i + m]) || (s[i + m] && strchr(extra, s[i + m]))))
			m++;
		if (m >= min && (!max || m <= max) && !placeholder(s + i, m))
			return true;
	}
	return false;
}

static bool token(const char *s, size_t n, const char *prefix, size_t min, const char *extra)
{
	return token_len(s, n, prefix, min, 0, extra);
}

static bool github_token(const char *s, size_t n)
{
	static const char *const classic[] = { "ghp_", "gho_", "ghu_", "ghs_", "ghr_" };

	for (size_t i = 0; i < sizeof(classic) / sizeof(classic[0]); i++)
		if (token(s, n, classic[i], 36, ""))
			return true;
	return token(s, n, "github_pat_", 22, "_");
}

/* An AWS access key id: AKIA and 16 upper-case letters or digits. */
static bool aws_key_id(const char *s, size_t n)
{
	for (const char *p = memmem(s, n, "AKIA", 4); p; p = memmem(p + 1, n - (size_t)(p + 1 - s), "AKIA", 4)) {
		size_t i = (size_t)(p - s) + 4, m = 0;
		if (p > s && is_alnum((unsigned char)p[-1]))
			continue;
		while (i + m < n && ((s[i + m] >= 'A' && s[i + m] <= 'Z') || (s[i + m] >= '0' && s[i + m] <= '9')))
			m++;
		if (m == 16 && !(i + m < n && is_alnum((unsigned char)s[i + m])) && !placeholder(p, 20))
			return true;
	}
	return false;
}

static bool b64url(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

/* A JSON Web Token (eyJ<header>.eyJ<payload>.<signature>, base64url) set
 * to a key whose name says secret, token, password, auth or key on the
 * same line (TOKEN=eyJ..., "apiKey": "eyJ..."): a JWT alone is often a
 * test fixture or an expired example in docs. */
static bool jwt_assigned(const char *s, size_t n)
{
	static const char *const keys[] = { "secret", "token", "password", "passwd", "auth", "key", "jwt" };

	for (const char *p = memmem(s, n, "eyJ", 3); p; p = memmem(p + 1, n - (size_t)(p + 1 - s), "eyJ", 3)) {
		size_t at = (size_t)(p - s), i = at, part[3] = { 0, 0, 0 }, ls = at;
		bool assigned = false;
		if (at > 0 && b64url((unsigned char)s[at - 1]))
			continue;
		for (int k = 0; k < 3; k++) {
			while (i < n && b64url((unsigned char)s[i])) {
				part[k]++;
				i++;
			}
			if (k < 2) {
				if (i >= n || s[i] != '.')
					break;
				i++;
			}
		}
		if (part[0] < 10 || part[1] < 10 || part[2] < 16 || memcmp(s + at + part[0] + 1, "eyJ", 3))
			continue;
		/* Back to the line start: an '=' or ':' with a secret-ish key. */
		while (ls > 0 && s[ls - 1] != '\n')
			ls--;
		for (size_t j = ls; j < at && !assigned; j++)
			if (s[j] == '=' || s[j] == ':')
				for (size_t w = 0; w < sizeof(keys) / sizeof(keys[0]) && !assigned; w++) {
					const char *f = find_ci(s, j, ls, keys[w]);
					assigned = f != NULL;
				}
		if (assigned)
			return true;
	}
	return false;
}

const char *secret_by_content(const char *buf, size_t n)
{
	if (pem_private_key(buf, n))
		return "PEM private key";
	if (aws_secret(buf, n))
		return "AWS secret access key";
	if (has_setting(buf, n, "_authToken", false))
		return "npm auth token";
	if (json_field(buf, n, "\"private_key\"", "\"") && !json_field(buf, n, "\"private_key\"", "\"\""))
		return "private key in JSON (service account key)";
	if (github_token(buf, n))
		return "GitHub token";
	if (token(buf, n, "xoxb-", 10, "-") || token(buf, n, "xoxp-", 10, "-") ||
	    token(buf, n, "xoxo-", 10, "-") || token(buf, n, "xoxa-", 10, "-"))
		return "Slack token";
	if (token(buf, n, "hooks.slack.com/services/", 30, "/"))
		return "Slack webhook URL";
	if (token(buf, n, "glpat-", 20, "-_"))
		return "GitLab token";
	if (token(buf, n, "sk_live_", 24, "") || token(buf, n, "rk_live_", 24, ""))
		return "Stripe live key";
	if (token_len(buf, n, "npm_", 36, 36, ""))
		return "npm token";
	if (token_len(buf, n, "AIza", 35, 35, "-_"))
		return "Google API key";
	if (aws_key_id(buf, n))
		return "AWS access key id";
	if (jwt_assigned(buf, n))
		return "JSON Web Token";
	return NULL;
}
