/* engine.c: the Docker Engine API client (engine.h): finding the engine
 * as the docker CLI does, HTTP/1.1 over one connection per request, the
 * JSON values of the engine's answers. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ctxpack/ctxpack.h"
#include "engine.h"
#include "internal.h"
#include "jsonread.h"

/* Bounds of what the engine may send: a status line or header line, all
 * the headers together, their number. */
#define LINE_MAX_BYTES 8192
#define HEADERS_MAX_BYTES 65536
#define HEADERS_MAX 100
#define CONFIG_MAX_BYTES (1 << 20)

/* ---- where the engine is ---- */

static int read_small_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *b = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t k;

		if (n + 4097 > CONFIG_MAX_BYTES) {
			rc = -EFBIG;
			break;
		}
		if (GROW(b, alloc, n + 4097)) {
			rc = -ENOMEM;
			break;
		}
		k = read(fd, b + n, 4096);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = -errno;
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	if (rc) {
		free(b);
		return rc;
	}
	if (!b && !(b = malloc(1)))
		return -ENOMEM;
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}

/* An ssh:// address as the docker CLI's connhelper/ssh reads it (Go's
 * url.Parse): [USER@]HOST[:PORT][/PATH]; a password, a query or a fragment
 * is refused.  PATH is the engine's socket on that host. */
static int parse_ssh(struct engine_addr *a, const char *host, const char *rest, const char *from,
		     char *err, size_t errsz)
{
	size_t alen = strcspn(rest, "/?#"), n;
	const char *at = NULL, *hp, *colon = NULL, *q;

	if (rest[alen] == '?' || strchr(rest + alen, '?'))
		return set_errmsg(err, errsz, -EINVAL,
				  "the engine address '%s' (%s): query parameters are not allowed "
				  "in an ssh:// address",
				  host, from);
	if (strchr(rest, '#'))
		return set_errmsg(err, errsz, -EINVAL,
				  "the engine address '%s' (%s): fragments are not allowed in an "
				  "ssh:// address",
				  host, from);
	for (q = rest; q < rest + alen; q++)
		if (*q == '@')
			at = q;
	hp = at ? at + 1 : rest;
	if (at) {
		n = (size_t)(at - rest);
		if (memchr(rest, ':', n))
			return set_errmsg(err, errsz, -EINVAL,
					  "the engine address '%s' (%s): a plain-text password is "
					  "not supported in an ssh:// address",
					  host, from);
		if (n >= sizeof(a->user))
			goto bad;
		memcpy(a->user, rest, n);
	}
	if (*hp == '[') {
		const char *close = memchr(hp, ']', (size_t)(rest + alen - hp));
		if (!close || (size_t)(close - hp - 1) >= sizeof(a->node))
			goto bad;
		memcpy(a->node, hp + 1, (size_t)(close - hp - 1));
		if (close + 1 < rest + alen) {
			if (close[1] != ':')
				goto bad;
			colon = close + 1;
		}
	} else {
		colon = memchr(hp, ':', (size_t)(rest + alen - hp));
		n = colon ? (size_t)(colon - hp) : (size_t)(rest + alen - hp);
		if (n >= sizeof(a->node))
			goto bad;
		memcpy(a->node, hp, n);
	}
	if (colon) {
		n = (size_t)(rest + alen - colon - 1);
		if (n >= sizeof(a->port) || strspn(colon + 1, "0123456789") < n)
			goto bad;
		memcpy(a->port, colon + 1, n);
	}
	if (!a->node[0])
		return set_errmsg(err, errsz, -EINVAL, "the engine address '%s' (%s) names no host",
				  host, from);
	/* the names go to ssh as arguments of their own: one that starts
	 * with '-' would be read as an option */
	if (a->node[0] == '-' || a->user[0] == '-')
		goto bad;
	if (strlen(rest + alen) >= sizeof(a->remote_socket))
		goto bad;
	/* the socket's path reaches the remote shell as a word of the
	 * command line ssh sends (unquoted, as docker 28 sends it): only
	 * characters no shell reads specially */
	if (strspn(rest + alen,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+@,=") !=
	    strlen(rest + alen))
		return set_errmsg(err, errsz, -EINVAL,
				  "the engine address '%s' (%s): the socket path holds characters "
				  "the remote shell would read (letters, digits and /._-+@,= are "
				  "allowed)",
				  host, from);
	snprintf(a->remote_socket, sizeof(a->remote_socket), "%s", rest + alen);
	a->kind = ENGINE_SSH;
	return 0;
bad:
	return set_errmsg(err, errsz, -EINVAL,
			  "the engine address '%s' (%s) is not ssh://[USER@]HOST[:PORT][/SOCKET]",
			  host, from);
}

/* docker's ParseHost for the schemes ctxpack speaks. */
static int parse_host(struct engine_addr *a, const char *host, const char *from, char *err,
		      size_t errsz)
{
	const char *sep = strstr(host, "://"), *rest, *colon;
	size_t n;

	memset(a, 0, sizeof(*a));
	snprintf(a->host, sizeof(a->host), "%s", host);
	snprintf(a->daemon_host, sizeof(a->daemon_host), "%s", host);
	snprintf(a->where, sizeof(a->where), "%s (%s)", host, from);
	if (!sep) {
		/* docker: an address without a scheme is tcp:// */
		rest = host;
		snprintf(a->host, sizeof(a->host), "tcp://%s", host);
	} else {
		rest = sep + 3;
		if ((size_t)(sep - host) == 4 && !strncmp(host, "unix", 4)) {
			if (!*rest)
				return set_errmsg(err, errsz, -EINVAL,
						  "the engine address '%s' (%s) names no socket",
						  host, from);
			if (strlen(rest) >= sizeof(a->path))
				return set_errmsg(err, errsz, -ENAMETOOLONG,
						  "the engine socket '%s' (%s): name too long",
						  rest, from);
			a->kind = ENGINE_UNIX;
			snprintf(a->path, sizeof(a->path), "%s", rest);
			return 0;
		}
		if ((size_t)(sep - host) == 3 && !strncmp(host, "ssh", 3)) {
			/* the docker CLI's client talks to its connection
			 * helper under this name */
			snprintf(a->daemon_host, sizeof(a->daemon_host),
				 "http://docker.example.com");
			return parse_ssh(a, host, rest, from, err, errsz);
		}
		if ((size_t)(sep - host) != 3 || strncmp(host, "tcp", 3))
			return set_errmsg(err, errsz, -EPROTONOSUPPORT,
					  "the engine address '%s' (%s): the scheme '%.*s' is not "
					  "supported by ctxpack (unix://, tcp:// and ssh:// are)",
					  host, from, (int)(sep - host), host);
	}
	a->kind = ENGINE_TCP;
	if (*rest == '[') {
		const char *close = strchr(rest, ']');
		if (!close)
			goto bad;
		n = (size_t)(close - rest - 1);
		if (n >= sizeof(a->node))
			goto bad;
		memcpy(a->node, rest + 1, n);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (!colon && close[1] && strcmp(close + 1, "/"))
			goto bad;
	} else {
		colon = strchr(rest, ':');
		n = colon ? (size_t)(colon - rest) : strcspn(rest, "/");
		if (n >= sizeof(a->node))
			goto bad;
		memcpy(a->node, rest, n);
	}
	if (!a->node[0])
		snprintf(a->node, sizeof(a->node), "localhost");
	if (colon) {
		const char *p = colon + 1;
		size_t d = strspn(p, "0123456789");
		if (d == 0 || d > 5 || (p[d] && strcmp(p + d, "/")))
			goto bad;
		memcpy(a->port, p, d);
	} else {
		/* docker's ParseTCPAddr: 2375 whether TLS is on or not (2376
		 * is only the port of its TLS default, no host given at all) */
		snprintf(a->port, sizeof(a->port), "2375");
	}
	/* docker's ParseTCPAddr: tcp://HOST:PORT (IPv6 in brackets), the
	 * path kept */
	n = strlen(host);
	snprintf(a->daemon_host, sizeof(a->daemon_host), "tcp://%s%s%s:%s%s",
		 strchr(a->node, ':') ? "[" : "", a->node, strchr(a->node, ':') ? "]" : "", a->port,
		 n && host[n - 1] == '/' ? "/" : "");
	return 0;
bad:
	return set_errmsg(err, errsz, -EINVAL, "the engine address '%s' (%s) is not HOST:PORT",
			  host, from);
}

static int config_dir(const struct engine_env *env, char *out, size_t outsz)
{
	if (env->docker_config && *env->docker_config)
		snprintf(out, outsz, "%s", env->docker_config);
	else if (env->home && *env->home)
		snprintf(out, outsz, "%s/.docker", env->home);
	else
		return -ENOENT;
	return 0;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool env_set(const char *v)
{
	return v && *v;
}

/* The docker CLI's TLS for the default context: DOCKER_TLS_VERIFY turns it
 * on with verification, DOCKER_TLS without; ca.pem (which must be there),
 * and cert.pem with key.pem when both exist, from DOCKER_CERT_PATH, else
 * the config directory. */
static int tls_from_env(struct engine_addr *a, const struct engine_env *env, char *err,
			size_t errsz)
{
	char dir[ENGINE_PATH_MAX];

	if (a->kind != ENGINE_TCP || (!env_set(env->tls_verify) && !env_set(env->tls)))
		return 0;
	if (env->cert_path && *env->cert_path) {
		snprintf(dir, sizeof(dir), "%s", env->cert_path);
		snprintf(a->tls_from, sizeof(a->tls_from), "DOCKER_CERT_PATH");
	} else if (!config_dir(env, dir, sizeof(dir))) {
		snprintf(a->tls_from, sizeof(a->tls_from), "the docker config directory");
	} else {
		return set_errmsg(
			err, errsz, -ENOENT,
			"the engine at %s: DOCKER_TLS_VERIFY or DOCKER_TLS asks for TLS, and none of "
			"DOCKER_CERT_PATH, DOCKER_CONFIG and HOME is set to find ca.pem in",
			a->where);
	}
	a->tls = true;
	a->tls_verify = env_set(env->tls_verify);
	if (snprintf(a->tls_ca, sizeof(a->tls_ca), "%s/ca.pem", dir) >= (int)sizeof(a->tls_ca))
		return set_errmsg(err, errsz, -ENAMETOOLONG, "'%s': name too long", dir);
	if (snprintf(a->tls_cert, sizeof(a->tls_cert), "%s/cert.pem", dir) >=
		    (int)sizeof(a->tls_cert) ||
	    snprintf(a->tls_key, sizeof(a->tls_key), "%s/key.pem", dir) >= (int)sizeof(a->tls_key))
		return set_errmsg(err, errsz, -ENAMETOOLONG, "'%s': name too long", dir);
	/* docker offers the pair only: one without the other is not used */
	if (!file_exists(a->tls_cert) || !file_exists(a->tls_key))
		a->tls_cert[0] = a->tls_key[0] = '\0';
	return 0;
}

/* A context's TLS for a tcp:// endpoint: on when its TLS directory holds
 * material or its meta.json says SkipTLSVerify; ca.pem (else the system's
 * roots), cert.pem with key.pem (one without the other is not used). */
static void tls_from_context(struct engine_addr *a, const char *tlsdir, bool skip_verify)
{
	char ca[ENGINE_PATH_MAX], cert[ENGINE_PATH_MAX], key[ENGINE_PATH_MAX];
	bool has_ca, has_cert, has_key;

	if (a->kind != ENGINE_TCP || !tlsdir[0])
		return;
	has_ca = snprintf(ca, sizeof(ca), "%s/ca.pem", tlsdir) < (int)sizeof(ca) && file_exists(ca);
	has_cert = snprintf(cert, sizeof(cert), "%s/cert.pem", tlsdir) < (int)sizeof(cert) &&
		   file_exists(cert);
	has_key = snprintf(key, sizeof(key), "%s/key.pem", tlsdir) < (int)sizeof(key) &&
		  file_exists(key);
	if (!has_ca && !has_cert && !has_key && !skip_verify)
		return;
	a->tls = true;
	a->tls_verify = !skip_verify;
	snprintf(a->tls_from, sizeof(a->tls_from), "the context's TLS material");
	if (has_ca)
		snprintf(a->tls_ca, sizeof(a->tls_ca), "%s", ca);
	if (has_cert && has_key) {
		snprintf(a->tls_cert, sizeof(a->tls_cert), "%s", cert);
		snprintf(a->tls_key, sizeof(a->tls_key), "%s", key);
	}
}

/* The context named name: its meta.json under CONFIG/contexts/meta/. */
static int from_context(struct engine_addr *a, const struct engine_env *env, const char *name,
			const char *from, char *err, size_t errsz)
{
	static const char *const skip_key[] = {"Endpoints", "docker", "SkipTLSVerify"};
	char cfg[PATH_MAX], dir[PATH_MAX + 32], path[PATH_MAX * 2],
		tlsdir[ENGINE_PATH_MAX - 16] = "";
	char what[PATH_MAX + 64];
	struct dirent *d;
	char *host = NULL;
	bool skip_verify = false;
	DIR *dh;
	int rc = -ENOENT;

	if (config_dir(env, cfg, sizeof(cfg)))
		return set_errmsg(err, errsz, -ENOENT,
				  "cannot find the docker context '%s' (%s): neither DOCKER_CONFIG "
				  "nor HOME is set",
				  name, from);
	snprintf(dir, sizeof(dir), "%s/contexts/meta", cfg);
	dh = opendir(dir);
	while (dh && (d = readdir(dh))) {
		char *data = NULL, *nm = NULL;
		size_t len, nlen, hlen;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/meta.json", dir, d->d_name);
		if (read_small_file(path, &data, &len))
			continue;
		if (engine_json_string(data, len, "Name", &nm, &nlen) == 1 &&
		    nlen == strlen(name) && !memcmp(nm, name, nlen)) {
			int r = engine_json_string(data, len, "Endpoints.docker.Host", &host,
						   &hlen);
			int sk = json_bool(data, len, skip_key, 3);

			if (r < 0 || sk < 0 || (r == 1 && strlen(host) != hlen)) {
				free(host);
				free(nm);
				free(data);
				closedir(dh);
				return set_errmsg(
					err, errsz, -EBADMSG,
					"cannot read the docker context '%s' (%s): '%s' is "
					"not valid JSON",
					name, from, path);
			}
			skip_verify = sk == 1;
			rc = r == 1 ? 0 : -ENOENT;
			if (snprintf(tlsdir, sizeof(tlsdir), "%s/contexts/tls/%s/docker", cfg,
				     d->d_name) >= (int)sizeof(tlsdir))
				tlsdir[0] = '\0'; /* no TLS directory that long */
			free(nm);
			free(data);
			break;
		}
		free(nm);
		free(data);
	}
	if (dh)
		closedir(dh);
	if (rc == -ENOENT && !host)
		return set_errmsg(err, errsz, -ENOENT,
				  "the docker context '%s' (%s) was not found, or names no docker "
				  "endpoint, in '%s'",
				  name, from, dir);
	snprintf(what, sizeof(what), "docker context '%s' from %s", name, from);
	rc = parse_host(a, host, what, err, errsz);
	if (!rc && a->kind != ENGINE_SSH)
		/* the docker CLI's client is made with the context's host as
		 * written */
		snprintf(a->daemon_host, sizeof(a->daemon_host), "%s", host);
	if (!rc)
		tls_from_context(a, tlsdir, skip_verify);
	free(host);
	return rc;
}

int engine_resolve(struct engine_addr *out, const struct engine_env *env, char *err, size_t errsz)
{
	bool tls = env_set(env->tls_verify) || env_set(env->tls);
	const char *name = NULL, *from = NULL;
	char cfg[PATH_MAX], path[PATH_MAX + 16], src[PATH_MAX + 40];
	char *data = NULL, *cur = NULL;
	size_t len, clen;
	int rc;

	if (env->host && *env->host) {
		rc = parse_host(out, env->host, "--host", err, errsz);
		return rc ? rc : tls_from_env(out, env, err, errsz);
	}
	if (env->context && *env->context) {
		name = env->context;
		from = "--context";
	} else if (env->docker_host && *env->docker_host) {
		rc = parse_host(out, env->docker_host, "DOCKER_HOST", err, errsz);
		return rc ? rc : tls_from_env(out, env, err, errsz);
	} else if (env->docker_context && *env->docker_context) {
		name = env->docker_context;
		from = "DOCKER_CONTEXT";
	} else if (!config_dir(env, cfg, sizeof(cfg))) {
		snprintf(path, sizeof(path), "%s/config.json", cfg);
		rc = read_small_file(path, &data, &len);
		if (rc && rc != -ENOENT)
			return set_errmsg(err, errsz, rc, "cannot read '%s': %s", path,
					  strerror(-rc));
		/* an empty file (or only white space) is no configuration, as
		 * the docker CLI's decoder reads it (io.EOF) */
		if (!rc && strspn(data, " \t\r\n") == len) {
			free(data);
			rc = -ENOENT;
		}
		if (!rc) {
			rc = engine_json_string(data, len, "currentContext", &cur, &clen);
			free(data);
			if (rc < 0)
				return set_errmsg(err, errsz, rc, "cannot read '%s': %s", path,
						  rc == -ENOMEM ? "out of memory"
								: "not valid JSON");
			if (rc == 1 && *cur) {
				snprintf(src, sizeof(src), "currentContext of %s", path);
				name = cur;
				from = src;
			}
		}
	}
	if (name && strcmp(name, "default")) {
		rc = from_context(out, env, name, from, err, errsz);
		free(cur);
		return rc;
	}
	free(cur);
	/* the default context: DOCKER_HOST, else the default socket (with
	 * DOCKER_TLS_VERIFY: tcp://localhost:2376, as the docker CLI) */
	if (env->docker_host && *env->docker_host)
		rc = parse_host(out, env->docker_host, "DOCKER_HOST", err, errsz);
	else if (tls)
		rc = parse_host(out, "tcp://localhost:2376",
				env_set(env->tls_verify) ? "the default with DOCKER_TLS_VERIFY"
							 : "the default with DOCKER_TLS",
				err, errsz);
	else
		rc = parse_host(out, ENGINE_DEFAULT_HOST, "the default", err, errsz);
	return rc ? rc : tls_from_env(out, env, err, errsz);
}

/* ---- the proxies of config.json ---- */

static const char *const proxy_field[5] = {"httpProxy", "httpsProxy", "noProxy", "ftpProxy",
					   "allProxy"};
static const char *const proxy_arg[5] = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "FTP_PROXY",
					 "ALL_PROXY"};

/* config.json as the docker CLI's encoding/json decodes its ConfigFile: a
 * struct field's key matched without regard to case (the last of a
 * repeated one wins); proxies a map (null: none; a repeated "proxies"
 * adds to it), a repeated key's entry replaced whole; an entry a
 * ProxyConfig (null: an empty one) whose fields are strings (null:
 * unchanged).  What it cannot decode is the first problem kept in bad,
 * the rest of the document still checked. */
struct proxies {
	const char *host; /* the daemon host */
	char *val[2][5];  /* [0]: proxies[host], [1]: proxies.default */
	bool found[2];	  /* the entry is in the map */
	int which;	  /* the entry being read: 0, 1, or -1 (another) */
	const char *entry;
	size_t elen;
	char bad[256]; /* what the docker CLI could not decode, or "" */
};

static bool key_is(const char *key, size_t klen, const char *name)
{
	return klen == strlen(name) && !strncasecmp(key, name, klen);
}

static void proxies_clear(struct proxies *p, int which)
{
	for (int f = 0; f < 5; f++) {
		free(p->val[which][f]);
		p->val[which][f] = NULL;
	}
}

static int proxy_field_member(struct jp *j, const char *key, size_t klen, void *arg)
{
	struct proxies *p = arg;
	char *v = NULL, q[100];
	size_t vl;
	int rc;

	for (int f = 0; f < 5; f++) {
		if (!key_is(key, klen, proxy_field[f]))
			continue;
		if (*j->p == 'n')
			return jp_word(j, "null"); /* unchanged */
		if (*j->p != '"') {
			if (!p->bad[0])
				snprintf(p->bad, sizeof(p->bad), "proxies[%s].%s is not a string",
					 text_quote(q, sizeof(q), p->entry, p->elen),
					 proxy_field[f]);
			return jp_skip(j);
		}
		if ((rc = jp_string(j, &v, &vl)))
			return rc;
		if (strlen(v) != vl) {
			/* a build arg of ours is a C string */
			if (!p->bad[0])
				snprintf(p->bad, sizeof(p->bad), "proxies[%s].%s holds a NUL byte",
					 text_quote(q, sizeof(q), p->entry, p->elen),
					 proxy_field[f]);
			free(v);
			return 0;
		}
		if (p->which < 0) {
			free(v);
		} else {
			free(p->val[p->which][f]);
			p->val[p->which][f] = v;
		}
		return 0;
	}
	return jp_skip(j);
}

static int proxies_member(struct jp *j, const char *key, size_t klen, void *arg)
{
	struct proxies *p = arg;
	char q[100];

	p->which = klen == strlen(p->host) && !memcmp(key, p->host, klen) ? 0
		   : klen == 7 && !memcmp(key, "default", 7)		  ? 1
									  : -1;
	p->entry = key;
	p->elen = klen;
	if (p->which >= 0) {
		/* the entry replaced whole */
		proxies_clear(p, p->which);
		p->found[p->which] = true;
	}
	if (*j->p == '{')
		return jp_members(j, proxy_field_member, p);
	if (*j->p != 'n' && !p->bad[0])
		snprintf(p->bad, sizeof(p->bad), "proxies[%s] is not an object",
			 text_quote(q, sizeof(q), key, klen));
	return jp_skip(j);
}

static int config_member(struct jp *j, const char *key, size_t klen, void *arg)
{
	struct proxies *p = arg;

	if (!key_is(key, klen, "proxies"))
		return jp_skip(j);
	if (*j->p == '{')
		return jp_members(j, proxies_member, p);
	if (*j->p == 'n') {
		/* null: no map */
		proxies_clear(p, 0);
		proxies_clear(p, 1);
		p->found[0] = p->found[1] = false;
	} else if (!p->bad[0]) {
		snprintf(p->bad, sizeof(p->bad), "proxies is not an object");
	}
	return jp_skip(j);
}

void engine_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int engine_proxy_args(const struct engine_addr *a, const struct engine_env *env, char ***out,
		      size_t *n, char *err, size_t errsz)
{
	struct proxies p = {.host = a->daemon_host};
	char cfg[PATH_MAX], path[PATH_MAX + 16], *data = NULL, **v = NULL;
	size_t len = 0, k = 0;
	struct jp j;
	int rc = 0, e;

	*out = NULL;
	*n = 0;
	if (config_dir(env, cfg, sizeof(cfg)))
		goto done; /* no config directory: no proxies */
	snprintf(path, sizeof(path), "%s/config.json", cfg);
	rc = read_small_file(path, &data, &len);
	if (rc == -ENOENT) {
		rc = 0;
		goto done;
	}
	if (rc) {
		rc = set_errmsg(err, errsz, rc, "cannot read '%s': %s", path, strerror(-rc));
		goto done;
	}
	j = (struct jp){data, data + len, 0};
	jp_ws(&j);
	if (j.p == j.end)
		goto done; /* empty: the docker CLI's empty configuration */
	if (*j.p == 'n') {
		/* null: decoded as nothing */
		rc = jp_word(&j, "null");
		jp_ws(&j);
		if (rc || j.p != j.end)
			rc = set_errmsg(err, errsz, -EBADMSG, "cannot read '%s': not valid JSON",
					path);
		goto done;
	}
	if (*j.p != '{') {
		rc = set_errmsg(err, errsz, -EINVAL,
				"cannot read '%s': it is not a JSON object, as the docker CLI "
				"reads it",
				path);
		goto done;
	}
	rc = jp_members(&j, config_member, &p);
	jp_ws(&j);
	if (!rc && j.p != j.end)
		rc = -EBADMSG;
	if (rc) {
		rc = set_errmsg(err, errsz, rc, "cannot read '%s': %s", path,
				rc == -ENOMEM ? "out of memory" : "not valid JSON");
		goto done;
	}
	if (p.bad[0]) {
		/* the docker CLI warns ("Error parsing config file") and
		 * builds with what it could decode; ctxpack does not guess */
		rc = set_errmsg(err, errsz, -EINVAL,
				"cannot read the proxies of '%s': %s (the docker CLI warns "
				"and builds without what it cannot decode)",
				path, p.bad);
		goto done;
	}
	e = p.found[0] ? 0 : 1; /* the daemon host's entry, else default's */
	if (!(v = calloc(11, sizeof(*v)))) {
		rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
		goto done;
	}
	for (int f = 0; f < 5; f++) {
		const char *val = p.val[e][f];

		if (!val || !*val)
			continue;
		if (asprintf(&v[k], "%s=%s", proxy_arg[f], val) < 0)
			v[k] = NULL;
		else
			v[k + 1] = strdup(v[k]);
		if (!v[k] || !v[++k]) {
			rc = set_errmsg(err, errsz, -ENOMEM, "out of memory");
			goto done;
		}
		/* the lower-case name */
		for (char *c = v[k]; *c != '='; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		k++;
	}
	*out = v;
	*n = k;
	v = NULL;
done:
	engine_strv_free(v);
	proxies_clear(&p, 0);
	proxies_clear(&p, 1);
	free(data);
	return rc;
}

bool engine_is_remote(const struct engine_addr *a)
{
	return a->kind != ENGINE_UNIX;
}

void engine_http_host(const struct engine_addr *a, char *out, size_t outsz)
{
	/* the docker client: a dummy name over a socket, the connection
	 * helper's over ssh, the address over tcp */
	if (a->kind == ENGINE_UNIX)
		snprintf(out, outsz, "api.moby.localhost");
	else if (a->kind == ENGINE_SSH)
		snprintf(out, outsz, "docker.example.com");
	else
		snprintf(out, outsz, strchr(a->node, ':') ? "[%s]:%s" : "%s:%s", a->node, a->port);
}

/* ---- the connection and HTTP ---- */

enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

/* What ssh wrote on its standard error, kept for messages: its first
 * bytes, read by a thread of their own so that ssh never blocks on a
 * full pipe. */
#define SSH_STDERR_MAX 2048

struct ssh_child {
	pid_t pid;
	int status; /* waitpid's, once reaped */
	bool reaped;
	int errfd;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool eof, stop;
	size_t len;
	char text[SSH_STDERR_MAX];
	char cmd[1024]; /* the command line, for messages */
};

struct engine {
	int fd;
	SSL_CTX *ssl_ctx;
	SSL *ssl;
	bool client_cert; /* TLS: a client certificate was offered */
	char cert_hint[ENGINE_PATH_MAX + 64];
	struct ssh_child *ssh; /* ssh://: the child and its standard error */
	/* engine_body_begin over TLS: the pipe a thread sends from */
	int pump_rd, pump_wr;
	pthread_t pump_th;
	bool pump_on;
	int pump_rc;
	char pump_err[1024];
	enum body_mode mode;
	bool done;	 /* the body's end was read */
	bool trailer;	 /* a chunk's data was read: its CRLF comes next */
	uint64_t left;	 /* BODY_LENGTH: bytes left; BODY_CHUNKED: of this chunk */
	size_t off, len; /* buf[off..len) read, not consumed */
	char *line;	 /* engine_read_line's buffer */
	size_t line_len, line_alloc, line_next;
	char where[512];
	char buf[65536];
};

/* ---- ssh:// ---- */

/* Waits up to tries * 10 ms for ssh to end; c->reaped when it did. */
static void ssh_reap(struct ssh_child *c, int tries)
{
	for (int i = 0; i < tries && !c->reaped; i++) {
		if (waitpid(c->pid, &c->status, WNOHANG) == c->pid)
			c->reaped = true;
		else
			usleep(10000);
	}
}

static void *ssh_stderr_run(void *arg)
{
	struct ssh_child *c = arg;
	char b[4096];

	for (;;) {
		struct pollfd p = {.fd = c->errfd, .events = POLLIN};
		ssize_t k;
		bool stop;

		pthread_mutex_lock(&c->mu);
		stop = c->stop;
		pthread_mutex_unlock(&c->mu);
		if (stop)
			break;
		if (poll(&p, 1, 100) <= 0)
			continue;
		k = read(c->errfd, b, sizeof(b));
		if (k < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&c->mu);
		if (k <= 0) {
			c->eof = true;
			pthread_cond_broadcast(&c->cv);
			pthread_mutex_unlock(&c->mu);
			break;
		}
		if (c->len < sizeof(c->text) - 1) {
			size_t n = (size_t)k < sizeof(c->text) - 1 - c->len
					   ? (size_t)k
					   : sizeof(c->text) - 1 - c->len;
			memcpy(c->text + c->len, b, n);
			c->len += n;
		}
		pthread_mutex_unlock(&c->mu);
	}
	return NULL;
}

/* Appends to err what ssh said and how it ended, when it has ended or
 * ends within a moment: a failure of the connection is most often ssh's
 * (no route, a refused key) and it says why on its standard error. */
void engine_note(struct engine *e, char *err, size_t errsz)
{
	struct ssh_child *c = e->ssh;
	struct timespec until;
	char text[SSH_STDERR_MAX], quoted[SSH_STDERR_MAX], status[64] = "";
	size_t n, used;
	bool ended;

	if (!c || !err || !errsz || (used = strlen(err)) >= errsz - 1)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&c->mu);
	while (!c->eof && !c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
		;
	n = c->len;
	memcpy(text, c->text, n);
	ended = c->eof;
	pthread_mutex_unlock(&c->mu);
	text[n] = '\0';
	/* one line: ssh's lines joined, its last line end dropped */
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		text[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20)
			text[i] = ' ';
	if (ended)
		ssh_reap(c, 50);
	if (c->reaped && WIFEXITED(c->status))
		snprintf(status, sizeof(status), " exited with status %d", WEXITSTATUS(c->status));
	else if (c->reaped && WIFSIGNALED(c->status))
		snprintf(status, sizeof(status), " was killed by signal %d", WTERMSIG(c->status));
	if (!n && !status[0])
		return;
	snprintf(err + used, errsz - used, "; `%s`%s%s%s", c->cmd, status[0] ? status : "",
		 n ? ": " : "", n ? text_quote(quoted, sizeof(quoted), text, n) : "");
}

static void ssh_end(struct engine *e)
{
	struct ssh_child *c = e->ssh;

	if (!c)
		return;
	/* ssh ends when its standard input does (closed by the caller
	 * first); one that does not is killed, as the docker CLI kills it */
	ssh_reap(c, 200);
	if (!c->reaped) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
			;
		c->reaped = true;
	}
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->th, NULL);
	close(c->errfd);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	e->ssh = NULL;
}

/* The docker CLI's ssh connection helper: `ssh -o ConnectTimeout=30 -T
 * [-l USER] [-p PORT] -- HOST docker [--host unix://SOCKET] system
 * dial-stdio`, ssh found in PATH, HTTP over its standard input and
 * output (one end of a socket pair). */
static int ssh_start(struct engine *e, const struct engine_addr *a, char *err, size_t errsz)
{
	char remote[300];
	const char *argv[20];
	int n = 0, sv[2] = {-1, -1}, ep[2] = {-1, -1}, rc;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	struct ssh_child *c = calloc(1, sizeof(*c));
	size_t used = 0;

	if (!c)
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	argv[n++] = "ssh";
	argv[n++] = "-o ConnectTimeout=30";
	argv[n++] = "-T";
	if (a->user[0]) {
		argv[n++] = "-l";
		argv[n++] = a->user;
	}
	if (a->port[0]) {
		argv[n++] = "-p";
		argv[n++] = a->port;
	}
	argv[n++] = "--";
	argv[n++] = a->node;
	argv[n++] = "docker";
	if (a->remote_socket[0]) {
		snprintf(remote, sizeof(remote), "unix://%s", a->remote_socket);
		argv[n++] = "--host";
		argv[n++] = remote;
	}
	argv[n++] = "system";
	argv[n++] = "dial-stdio";
	argv[n] = NULL;
	for (int i = 0; i < n && used < sizeof(c->cmd); i++)
		used += (size_t)snprintf(c->cmd + used, sizeof(c->cmd) - used, "%s%s", i ? " " : "",
					 argv[i]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(ep, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
	posix_spawnattr_init(&attr);
	/* the caller ignores SIGPIPE; ssh gets the default */
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	rc = -posix_spawnp(&c->pid, "ssh", &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc == -ENOENT) {
		close(sv[0]);
		close(sv[1]);
		close(ep[0]);
		close(ep[1]);
		rc = set_errmsg(err, errsz, -ENOENT,
				"cannot reach the engine at %s: no ssh program in PATH (ssh:// "
				"runs `%s`)",
				a->where, c->cmd);
		free(c);
		return rc;
	}
	if (rc)
		goto fail;
	close(sv[1]);
	close(ep[1]);
	sv[1] = ep[1] = -1;
	c->errfd = ep[0];
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if ((rc = -pthread_create(&c->th, NULL, ssh_stderr_run, c))) {
		/* nothing reads ssh's standard error: end it now */
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		goto fail;
	}
	e->fd = sv[0];
	e->ssh = c;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	rc = set_errmsg(err, errsz, rc, "cannot reach the engine at %s: cannot run `%s`: %s",
			a->where, c->cmd, strerror(-rc));
	free(c);
	return rc;
}

/* ---- TLS ---- */

/* OpenSSL's reason for the last failure ("certificate verify failed"),
 * its queue emptied. */
static const char *tls_reason(char *buf, size_t n)
{
	unsigned long ec = 0, last;
	const char *r;

	while ((last = ERR_get_error()))
		ec = last;
	if (!ec)
		return NULL;
	r = ERR_reason_error_string(ec);
	if (r)
		snprintf(buf, n, "%s", r);
	else
		ERR_error_string_n(ec, buf, n);
	return buf;
}

/* A file OpenSSL is to read: a clear message when it cannot be read. */
static int tls_readable(const struct engine *e, const char *what, const char *path, char *err,
			size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return set_errmsg(
			err, errsz, -errno,
			"cannot use TLS with the engine at %s: cannot read the %s '%s': %s",
			e->where, what, path, strerror(errno));
	close(fd);
	return 0;
}

/* No passphrase is asked for (OpenSSL's default reads the terminal): an
 * encrypted key is refused, as the docker CLI refuses it. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static int tls_setup(struct engine *e, const struct engine_addr *a, char *err, size_t errsz)
{
	char why[256];
	const char *r;
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, a->node, ip) == 1 || inet_pton(AF_INET6, a->node, ip) == 1;
	bool key_ok;
	int rc;

	ERR_clear_error();
	if (!(e->ssl_ctx = SSL_CTX_new(TLS_client_method())))
		return set_errmsg(err, errsz, -ENOMEM, "cannot use TLS: %s",
				  tls_reason(why, sizeof(why)) ?: "out of memory");
	/* the docker CLI's client default: TLS 1.2 at least */
	SSL_CTX_set_min_proto_version(e->ssl_ctx, TLS1_2_VERSION);
	/* an engine that closes without close_notify ends its answer as one
	 * that does; the HTTP framing still tells a cut answer */
	SSL_CTX_set_options(e->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(e->ssl_ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_default_passwd_cb(e->ssl_ctx, no_passphrase);
	/* ca.pem is read (and must be a certificate) even when nothing is
	 * verified, as the docker CLI reads it */
	if (a->tls_ca[0]) {
		if ((rc = tls_readable(e, "CA certificate", a->tls_ca, err, errsz)))
			return rc;
		if (SSL_CTX_load_verify_locations(e->ssl_ctx, a->tls_ca, NULL) != 1)
			return set_errmsg(err, errsz, -EINVAL,
					  "cannot use TLS with the engine at %s: the CA "
					  "certificate '%s' is not a PEM certificate (%s)",
					  e->where, a->tls_ca,
					  tls_reason(why, sizeof(why)) ?: "no certificate");
	}
	if (a->tls_verify) {
		SSL_CTX_set_verify(e->ssl_ctx, SSL_VERIFY_PEER, NULL);
		if (!a->tls_ca[0] && SSL_CTX_set_default_verify_paths(e->ssl_ctx) != 1) {
			return set_errmsg(err, errsz, -EINVAL,
					  "cannot use TLS with the engine at %s: cannot load the "
					  "system's CA certificates (%s)",
					  e->where, tls_reason(why, sizeof(why)) ?: "unknown");
		}
	} else {
		SSL_CTX_set_verify(e->ssl_ctx, SSL_VERIFY_NONE, NULL);
	}
	if (a->tls_cert[0] || a->tls_key[0]) {
		if (!a->tls_cert[0] || !a->tls_key[0])
			return set_errmsg(
				err, errsz, -ENOENT,
				"cannot use TLS with the engine at %s: the client %s '%s' "
				"has no %s beside it",
				e->where, a->tls_cert[0] ? "certificate" : "key",
				a->tls_cert[0] ? a->tls_cert : a->tls_key,
				a->tls_cert[0] ? "key.pem" : "cert.pem");
		if ((rc = tls_readable(e, "client certificate", a->tls_cert, err, errsz)) ||
		    (rc = tls_readable(e, "client key", a->tls_key, err, errsz)))
			return rc;
		if (SSL_CTX_use_certificate_chain_file(e->ssl_ctx, a->tls_cert) != 1)
			return set_errmsg(err, errsz, -EINVAL,
					  "cannot use TLS with the engine at %s: the client "
					  "certificate '%s' is not a PEM certificate (%s)",
					  e->where, a->tls_cert,
					  tls_reason(why, sizeof(why)) ?: "no certificate");
		ERR_clear_error();
		key_ok = SSL_CTX_use_PrivateKey_file(e->ssl_ctx, a->tls_key, SSL_FILETYPE_PEM) == 1;
		if (!key_ok && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
			return set_errmsg(err, errsz, -EINVAL,
					  "cannot use TLS with the engine at %s: the client key "
					  "'%s' is not an unencrypted PEM private key (%s)",
					  e->where, a->tls_key,
					  tls_reason(why, sizeof(why)) ?: "no key");
		/* a key of another certificate: OpenSSL says so when it loads
		 * the key, or at the pair's check */
		if (!key_ok || SSL_CTX_check_private_key(e->ssl_ctx) != 1)
			return set_errmsg(err, errsz, -EINVAL,
					  "cannot use TLS with the engine at %s: the client key "
					  "'%s' does not match the certificate '%s' (%s)",
					  e->where, a->tls_key, a->tls_cert,
					  tls_reason(why, sizeof(why)) ?: "mismatch");
		e->client_cert = true;
	} else {
		snprintf(e->cert_hint, sizeof(e->cert_hint),
			 " (no client certificate was offered: no cert.pem and key.pem "
			 "from %s)",
			 a->tls_from[0] ? a->tls_from : "the TLS settings");
	}
	if (!(e->ssl = SSL_new(e->ssl_ctx)) || SSL_set_fd(e->ssl, e->fd) != 1)
		return set_errmsg(err, errsz, -ENOMEM, "cannot use TLS: %s",
				  tls_reason(why, sizeof(why)) ?: "out of memory");
	/* Go's crypto/tls: the name sent (SNI) and checked is the address's
	 * host; an IP address is checked against the certificate's IPs */
	if (!is_ip)
		SSL_set_tlsext_host_name(e->ssl, a->node);
	if (a->tls_verify) {
		int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(e->ssl), a->node)
			       : SSL_set1_host(e->ssl, a->node);
		if (ok != 1)
			return set_errmsg(
				err, errsz, -EINVAL,
				"cannot use TLS with the engine at %s: bad host name '%s'",
				e->where, a->node);
	}
	engine_timeout(e, 30);
	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(e->ssl);
	if (rc != 1) {
		int ssl_err = SSL_get_error(e->ssl, rc), en = errno;
		long vr = SSL_get_verify_result(e->ssl);

		if (vr != X509_V_OK)
			return set_errmsg(err, errsz, -EPROTO,
					  "cannot reach the engine at %s: TLS handshake failed: "
					  "certificate verify failed: %s",
					  e->where, X509_verify_cert_error_string(vr));
		r = tls_reason(why, sizeof(why));
		if (ssl_err == SSL_ERROR_WANT_READ || ssl_err == SSL_ERROR_WANT_WRITE)
			return set_errmsg(err, errsz, -ETIMEDOUT,
					  "cannot reach the engine at %s: no answer to the TLS "
					  "handshake",
					  e->where);
		if (ssl_err == SSL_ERROR_SYSCALL && !r)
			return set_errmsg(err, errsz, en ? -en : -ECONNRESET,
					  "cannot reach the engine at %s: TLS handshake failed: %s",
					  e->where,
					  en ? strerror(en) : "the engine closed the connection");
		return set_errmsg(err, errsz, -EPROTO,
				  "cannot reach the engine at %s: TLS handshake failed: %s%s",
				  e->where, r ? r : "unknown error",
				  r && (strstr(r, "certificate") || strstr(r, "handshake failure"))
					  ? e->cert_hint
					  : "");
	}
	engine_timeout(e, 0);
	return 0;
}

/* A failure of SSL_read or SSL_write as a message: rc -errno. */
static int tls_failure(struct engine *e, int k, bool writing, const char *doing, char *err,
		       size_t errsz)
{
	int ssl_err = SSL_get_error(e->ssl, k), en = errno;
	char why[256];
	const char *r = tls_reason(why, sizeof(why));

	if (ssl_err == SSL_ERROR_WANT_READ || ssl_err == SSL_ERROR_WANT_WRITE)
		return set_errmsg(err, errsz, -ETIMEDOUT, "the engine at %s does not answer",
				  e->where);
	if (ssl_err == SSL_ERROR_SYSCALL && !r && writing) {
		/* the engine may have said why it closed (an alert: no client
		 * certificate) before our write met the closed connection; what
		 * it answered instead stays in buf for engine_response */
		int k2;

		if (e->off == e->len)
			e->off = e->len = 0;
		if (e->len < sizeof(e->buf)) {
			struct timeval saved = {0, 0};
			socklen_t sl = sizeof(saved);

			getsockopt(e->fd, SOL_SOCKET, SO_RCVTIMEO, &saved, &sl);
			engine_timeout(e, 2);
			ERR_clear_error();
			k2 = SSL_read(e->ssl, e->buf + e->len, (int)(sizeof(e->buf) - e->len));
			if (k2 > 0)
				e->len += (size_t)k2;
			else if (SSL_get_error(e->ssl, k2) == SSL_ERROR_SSL)
				r = tls_reason(why, sizeof(why));
			ERR_clear_error();
			setsockopt(e->fd, SOL_SOCKET, SO_RCVTIMEO, &saved, sizeof(saved));
		}
	}
	if (ssl_err == SSL_ERROR_SYSCALL && !r)
		return set_errmsg(err, errsz, en ? -en : -ECONNRESET, "%s (%s): %s", doing,
				  e->where, en ? strerror(en) : "the connection was closed");
	return set_errmsg(err, errsz, -EPROTO, "%s (%s): TLS: %s%s", doing, e->where,
			  r ? r : "unknown error",
			  r && strstr(r, "certificate required") ? e->cert_hint : "");
}

/* ---- the connection ---- */

int engine_connect(struct engine **out, const struct engine_addr *a, char *err, size_t errsz)
{
	struct engine *e = calloc(1, sizeof(*e));
	int fd = -1, rc;

	if (!e)
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	e->fd = e->pump_rd = e->pump_wr = -1;
	snprintf(e->where, sizeof(e->where), "%s", a->where);
	if (a->kind == ENGINE_SSH) {
		rc = ssh_start(e, a, err, errsz);
		if (rc) {
			free(e);
			return rc;
		}
		*out = e;
		return 0;
	}
	if (a->kind == ENGINE_UNIX) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			rc = -errno;
			goto fail;
		}
	} else {
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
		struct addrinfo *res = NULL, *ai;
		int g = getaddrinfo(a->node, a->port, &hints, &res);

		if (g) {
			free(e);
			return set_errmsg(err, errsz, -EHOSTUNREACH,
					  "cannot reach the engine at %s: %s", a->where,
					  gai_strerror(g));
		}
		rc = -ECONNREFUSED;
		for (ai = res; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			rc = -errno;
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		if (fd < 0)
			goto fail;
	}
	e->fd = fd;
	if (a->kind == ENGINE_TCP && a->tls && (rc = tls_setup(e, a, err, errsz))) {
		engine_close(&e);
		return rc;
	}
	*out = e;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(e);
	return set_errmsg(err, errsz, rc, "cannot reach the engine at %s: %s", a->where,
			  strerror(-rc));
}

int engine_fd(const struct engine *e)
{
	return e->fd;
}

void engine_timeout(struct engine *e, int seconds)
{
	struct timeval tv = {seconds > 0 ? seconds : 0, 0};

	setsockopt(e->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int send_raw(struct engine *e, const void *p, size_t n, char *err, size_t errsz)
{
	const char *c = p;

	while (n) {
		if (e->ssl) {
			int k;

			ERR_clear_error();
			errno = 0;
			k = SSL_write(e->ssl, c, n > INT_MAX ? INT_MAX : (int)n);
			if (k <= 0)
				return tls_failure(e, k, true, "cannot send to the engine", err,
						   errsz);
			c += k;
			n -= (size_t)k;
			continue;
		}
		ssize_t k = send(e->fd, c, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return set_errmsg(err, errsz, -errno, "cannot send to the engine at %s: %s",
					  e->where, strerror(errno));
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int engine_send(struct engine *e, const void *p, size_t n, char *err, size_t errsz)
{
	int rc = send_raw(e, p, n, err, errsz);

	if (rc)
		engine_note(e, err, errsz);
	return rc;
}

int engine_send_chunk(struct engine *e, const void *p, size_t n, char *err, size_t errsz)
{
	char head[32];
	int rc;

	snprintf(head, sizeof(head), "%zx\r\n", n);
	rc = engine_send(e, head, strlen(head), err, errsz);
	if (!rc && n)
		rc = engine_send(e, p, n, err, errsz);
	if (!rc)
		rc = engine_send(e, "\r\n", 2, err, errsz);
	return rc;
}

/* The TLS body's pump: the pipe's bytes through SSL_write.  On a failure
 * it closes the pipe, so the writer meets EPIPE rather than a full pipe. */
static void *pump_run(void *arg)
{
	struct engine *e = arg;
	static const size_t bufsz = 1 << 16;
	char *b = malloc(bufsz);

	if (!b) {
		e->pump_rc = set_errmsg(e->pump_err, sizeof(e->pump_err), -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t k = read(e->pump_rd, b, bufsz);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			e->pump_rc = set_errmsg(e->pump_err, sizeof(e->pump_err), -errno,
						"cannot read the body's pipe: %s", strerror(errno));
			break;
		}
		if (k == 0)
			break;
		e->pump_rc = send_raw(e, b, (size_t)k, e->pump_err, sizeof(e->pump_err));
		if (e->pump_rc)
			break;
	}
out:
	free(b);
	close(e->pump_rd);
	e->pump_rd = -1;
	return NULL;
}

int engine_body_begin(struct engine *e, int *fd, char *err, size_t errsz)
{
	int pfd[2], rc;

	if (!e->ssl) {
		*fd = e->fd;
		return 0;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return set_errmsg(err, errsz, -errno, "cannot make a pipe: %s", strerror(errno));
	e->pump_rd = pfd[0];
	e->pump_wr = pfd[1];
	e->pump_rc = 0;
	e->pump_err[0] = '\0';
	if ((rc = pthread_create(&e->pump_th, NULL, pump_run, e))) {
		close(pfd[0]);
		close(pfd[1]);
		e->pump_rd = e->pump_wr = -1;
		return set_errmsg(err, errsz, -rc, "cannot start the TLS sender: %s", strerror(rc));
	}
	e->pump_on = true;
	*fd = pfd[1];
	return 0;
}

int engine_body_end(struct engine *e, int rc, char *err, size_t errsz)
{
	if (!e->pump_on)
		return rc;
	close(e->pump_wr);
	e->pump_wr = -1;
	pthread_join(e->pump_th, NULL);
	e->pump_on = false;
	if (e->pump_rc && (!rc || rc == -EPIPE)) {
		rc = set_errmsg(err, errsz, e->pump_rc, "%s", e->pump_err);
		engine_note(e, err, errsz);
	}
	return rc;
}

/* More bytes into buf: the count, 0 at the end of the connection, -errno. */
static long fill(struct engine *e, char *err, size_t errsz)
{
	ssize_t k;

	if (e->off == e->len)
		e->off = e->len = 0;
	else if (e->len == sizeof(e->buf)) {
		memmove(e->buf, e->buf + e->off, e->len - e->off);
		e->len -= e->off;
		e->off = 0;
	}
	if (e->ssl) {
		int r;

		ERR_clear_error();
		errno = 0;
		r = SSL_read(e->ssl, e->buf + e->len, (int)(sizeof(e->buf) - e->len));
		if (r <= 0) {
			if (SSL_get_error(e->ssl, r) == SSL_ERROR_ZERO_RETURN)
				return 0;
			return tls_failure(e, r, false, "cannot read the engine's answer", err,
					   errsz);
		}
		e->len += (size_t)r;
		return r;
	}
	do
		k = recv(e->fd, e->buf + e->len, sizeof(e->buf) - e->len, 0);
	while (k < 0 && errno == EINTR);
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return set_errmsg(err, errsz, -ETIMEDOUT, "the engine at %s does not answer",
				  e->where);
	if (k < 0)
		return set_errmsg(err, errsz, -errno, "cannot read the engine's answer (%s): %s",
				  e->where, strerror(errno));
	e->len += (size_t)k;
	return k;
}

/* One line of the head (status line, header, chunk size, trailer),
 * without its line end: at most LINE_MAX_BYTES. */
static int head_line(struct engine *e, char *out, size_t outsz, const char *what, char *err,
		     size_t errsz)
{
	for (;;) {
		char *nl = memchr(e->buf + e->off, '\n', e->len - e->off);
		long k;

		if (nl) {
			size_t n = (size_t)(nl - (e->buf + e->off));
			if (n && nl[-1] == '\r')
				n--;
			if (n >= outsz)
				break;
			memcpy(out, e->buf + e->off, n);
			out[n] = '\0';
			if (memchr(out, '\0', n))
				return set_errmsg(
					err, errsz, -EBADMSG,
					"malformed answer from the engine at %s: a NUL in "
					"the %s",
					e->where, what);
			e->off = (size_t)(nl + 1 - e->buf);
			return 0;
		}
		if (e->len - e->off >= outsz)
			break;
		k = fill(e, err, errsz);
		if (k < 0)
			return (int)k;
		if (k == 0)
			return set_errmsg(err, errsz, -ECONNRESET,
					  "the engine at %s closed the connection in the %s",
					  e->where, what);
	}
	return set_errmsg(err, errsz, -EBADMSG,
			  "malformed answer from the engine at %s: the %s is too long", e->where,
			  what);
}

static void copy_trim(char *out, size_t outsz, const char *v)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	snprintf(out, outsz, "%.*s", (int)n, v);
}

static int read_response(struct engine *e, struct engine_response *r, char *err, size_t errsz)
{
	char line[LINE_MAX_BYTES], te[64] = "";
	size_t total = 0;
	long long length = -1;
	int rc, n = 0, informational = 0;

	memset(r, 0, sizeof(*r));
again:
	rc = head_line(e, line, sizeof(line), "status line", err, errsz);
	if (rc)
		return rc;
	/* HTTP/1.x SSS REASON */
	if (strncmp(line, "HTTP/1.", 7) || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
	    line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' ||
	    line[11] > '9' || (line[12] && line[12] != ' ')) {
		char q[96];
		return set_errmsg(err, errsz, -EBADMSG,
				  "malformed answer from the engine at %s: the status line '%s' "
				  "is not HTTP/1.x",
				  e->where, text_quote(q, sizeof(q), line, strlen(line)));
	}
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	copy_trim(r->reason, sizeof(r->reason), line[12] ? line + 13 : "");
	for (;;) {
		char *colon, *v;

		rc = head_line(e, line, sizeof(line), "headers", err, errsz);
		if (rc)
			return rc;
		if (!line[0])
			break;
		total += strlen(line);
		if (++n > HEADERS_MAX || total > HEADERS_MAX_BYTES)
			return set_errmsg(
				err, errsz, -EBADMSG,
				"malformed answer from the engine at %s: too many headers",
				e->where);
		colon = strchr(line, ':');
		if (!colon || colon == line || line[0] == ' ' || line[0] == '\t' ||
		    strcspn(line, " \t") < (size_t)(colon - line))
			return set_errmsg(err, errsz, -EBADMSG,
					  "malformed answer from the engine at %s: a header line "
					  "without a name",
					  e->where);
		*colon = '\0';
		v = colon + 1;
		if (!strcasecmp(line, "Content-Length")) {
			char num[32], *end;
			long long l;

			copy_trim(num, sizeof(num), v);
			errno = 0;
			l = strtoll(num, &end, 10);
			if (!num[0] || *end || errno || l < 0 || num[0] == '+' || num[0] == '-' ||
			    (length >= 0 && l != length))
				return set_errmsg(err, errsz, -EBADMSG,
						  "malformed answer from the engine at %s: bad "
						  "Content-Length",
						  e->where);
			length = l;
		} else if (!strcasecmp(line, "Transfer-Encoding")) {
			copy_trim(te, sizeof(te), v);
		} else if (!strcasecmp(line, "Api-Version")) {
			copy_trim(r->api_version, sizeof(r->api_version), v);
		} else if (!strcasecmp(line, "Content-Type")) {
			copy_trim(r->content_type, sizeof(r->content_type), v);
		}
	}
	if (r->status < 200) {
		/* 100 Continue and the like: the answer follows */
		if (++informational > 8)
			return set_errmsg(err, errsz, -EBADMSG,
					  "malformed answer from the engine at %s: endless 1xx "
					  "answers",
					  e->where);
		memset(r, 0, sizeof(*r));
		length = -1;
		te[0] = '\0';
		n = 0;
		total = 0;
		goto again;
	}
	e->done = false;
	e->trailer = false;
	if (te[0]) {
		if (strcasecmp(te, "chunked"))
			return set_errmsg(err, errsz, -EBADMSG,
					  "malformed answer from the engine at %s: unknown "
					  "Transfer-Encoding '%s'",
					  e->where, te);
		e->mode = BODY_CHUNKED;
		e->left = 0;
	} else if (r->status == 204 || r->status == 304) {
		e->mode = BODY_NONE;
		e->done = true;
	} else if (length >= 0) {
		e->mode = BODY_LENGTH;
		e->left = (uint64_t)length;
		e->done = length == 0;
	} else {
		e->mode = BODY_CLOSE;
	}
	return 0;
}

/* The next chunk's size line (and, after the last chunk, the trailers). */
static int next_chunk(struct engine *e, char *err, size_t errsz)
{
	char line[LINE_MAX_BYTES];
	uint64_t v = 0;
	size_t i;
	int rc;

	if (e->trailer) {
		rc = head_line(e, line, sizeof(line), "chunked body", err, errsz);
		if (rc)
			return rc;
		if (line[0])
			goto bad;
		e->trailer = false;
	}
	rc = head_line(e, line, sizeof(line), "chunked body", err, errsz);
	if (rc)
		return rc;
	for (i = 0; line[i] && line[i] != ';' && line[i] != ' ' && line[i] != '\t'; i++) {
		int h = hex_value((unsigned char)line[i]);
		if (h < 0 || v >> 58)
			goto bad;
		v = v << 4 | (unsigned)h;
	}
	if (i == 0)
		goto bad;
	if (v == 0) {
		for (int t = 0;; t++) {
			if (t > HEADERS_MAX)
				goto bad;
			rc = head_line(e, line, sizeof(line), "chunked body's trailer", err, errsz);
			if (rc)
				return rc;
			if (!line[0])
				break;
		}
		e->done = true;
		return 0;
	}
	e->left = v;
	return 0;
bad:
	return set_errmsg(err, errsz, -EBADMSG,
			  "malformed answer from the engine at %s: a bad chunk in the body",
			  e->where);
}

int engine_response(struct engine *e, struct engine_response *r, char *err, size_t errsz)
{
	int rc = read_response(e, r, err, errsz);

	if (rc)
		engine_note(e, err, errsz);
	return rc;
}

static long read_body(struct engine *e, void *p, size_t n, char *err, size_t errsz)
{
	size_t take;
	long k;
	int rc;

	if (!n)
		return 0;
	while (!e->done) {
		if (e->mode == BODY_CHUNKED && e->left == 0) {
			rc = next_chunk(e, err, errsz);
			if (rc)
				return rc;
			continue;
		}
		if (e->off == e->len) {
			k = fill(e, err, errsz);
			if (k < 0)
				return k;
			if (k == 0) {
				if (e->mode == BODY_CLOSE) {
					e->done = true;
					return 0;
				}
				return set_errmsg(err, errsz, -ECONNRESET,
						  "the engine at %s closed the connection in the "
						  "middle of its answer",
						  e->where);
			}
		}
		take = e->len - e->off;
		if (take > n)
			take = n;
		if (e->mode != BODY_CLOSE && take > e->left)
			take = (size_t)e->left;
		memcpy(p, e->buf + e->off, take);
		e->off += take;
		if (e->mode != BODY_CLOSE) {
			e->left -= take;
			if (e->left == 0) {
				if (e->mode == BODY_LENGTH)
					e->done = true;
				else
					e->trailer = true;
			}
		}
		return (long)take;
	}
	return 0;
}

long engine_read(struct engine *e, void *p, size_t n, char *err, size_t errsz)
{
	long k = read_body(e, p, n, err, errsz);

	if (k < 0)
		engine_note(e, err, errsz);
	return k;
}

int engine_read_line(struct engine *e, char **line, size_t *len, size_t max, char *err,
		     size_t errsz)
{
	size_t scan;

	/* drop the line handed out last time */
	if (e->line_next) {
		memmove(e->line, e->line + e->line_next, e->line_len - e->line_next);
		e->line_len -= e->line_next;
		e->line_next = 0;
	}
	scan = 0;
	for (;;) {
		char *nl = e->line ? memchr(e->line + scan, '\n', e->line_len - scan) : NULL;
		long k;

		if (nl) {
			size_t n = (size_t)(nl - e->line);
			e->line_next = n + 1;
			if (n && e->line[n - 1] == '\r')
				n--;
			e->line[n] = '\0';
			*line = e->line;
			*len = n;
			return 1;
		}
		scan = e->line_len;
		if (e->line_len > max)
			return set_errmsg(
				err, errsz, -E2BIG,
				"malformed answer from the engine at %s: a message over %zu "
				"bytes",
				e->where, max);
		if (GROW(e->line, e->line_alloc, e->line_len + 16384 + 1))
			return set_errmsg(err, errsz, -ENOMEM, "out of memory");
		k = engine_read(e, e->line + e->line_len, 16384, err, errsz);
		if (k < 0)
			return (int)k;
		if (k == 0) {
			if (!e->line_len)
				return 0;
			e->line[e->line_len] = '\0';
			*line = e->line;
			*len = e->line_len;
			e->line_next = e->line_len;
			return 1;
		}
		e->line_len += (size_t)k;
	}
}

int engine_read_all(struct engine *e, char **out, size_t *len, size_t max, char *err, size_t errsz)
{
	char *b = NULL;
	size_t n = 0, alloc = 0;

	for (;;) {
		long k;

		if (n > max) {
			free(b);
			return set_errmsg(err, errsz, -E2BIG,
					  "malformed answer from the engine at %s: an answer over "
					  "%zu bytes",
					  e->where, max);
		}
		if (GROW(b, alloc, n + 4097)) {
			free(b);
			return set_errmsg(err, errsz, -ENOMEM, "out of memory");
		}
		k = engine_read(e, b + n, 4096, err, errsz);
		if (k < 0) {
			free(b);
			return (int)k;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}

void engine_close(struct engine **e)
{
	if (!*e)
		return;
	if ((*e)->pump_on) {
		int rc = engine_body_end(*e, 0, NULL, 0);
		(void)rc;
	}
	if ((*e)->ssl)
		SSL_free((*e)->ssl);
	if ((*e)->ssl_ctx)
		SSL_CTX_free((*e)->ssl_ctx);
	if ((*e)->fd >= 0)
		close((*e)->fd);
	ssh_end(*e);
	free((*e)->line);
	free(*e);
	*e = NULL;
}

int engine_version_cmp(const char *a, const char *b)
{
	unsigned long amaj = strtoul(a, (char **)&a, 10), bmaj = strtoul(b, (char **)&b, 10);
	unsigned long amin = *a == '.' ? strtoul(a + 1, NULL, 10) : 0;
	unsigned long bmin = *b == '.' ? strtoul(b + 1, NULL, 10) : 0;

	if (amaj != bmaj)
		return amaj < bmaj ? -1 : 1;
	return amin < bmin ? -1 : amin > bmin;
}

static bool version_ok(const char *v)
{
	size_t d = strspn(v, "0123456789");

	return d && d < 4 && v[d] == '.' && strspn(v + d + 1, "0123456789") == strlen(v + d + 1) &&
	       v[d + 1] && strlen(v + d + 1) < 4;
}

int engine_get(const struct engine_addr *a, const char *path, struct engine_response *r,
	       char **body, size_t *len, size_t max, char *err, size_t errsz)
{
	struct engine *e = NULL;
	char *req = NULL, host[300];
	int rc = engine_connect(&e, a, err, errsz);

	*body = NULL;
	if (rc)
		return rc;
	if (asprintf(&req,
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ctxpack/%s\r\n"
		     "Connection: close\r\n\r\n",
		     path, (engine_http_host(a, host, sizeof(host)), host),
		     ctxpack_version()) < 0) {
		engine_close(&e);
		return set_errmsg(err, errsz, -ENOMEM, "out of memory");
	}
	engine_timeout(e, 30);
	rc = engine_send(e, req, strlen(req), err, errsz);
	if (!rc)
		rc = engine_response(e, r, err, errsz);
	if (!rc)
		rc = engine_read_all(e, body, len, max, err, errsz);
	free(req);
	engine_close(&e);
	return rc;
}

int engine_ping(const struct engine_addr *a, char version[16], char *err, size_t errsz)
{
	struct engine_response r;
	char *body = NULL;
	size_t blen;
	int rc = engine_get(a, "/_ping", &r, &body, &blen, 4096, err, errsz);

	if (!rc && r.status != 200)
		rc = set_errmsg(err, errsz, -EPROTO, "the engine at %s answered /_ping with %d %s",
				a->where, r.status, r.reason);
	if (!rc) {
		const char *v = version_ok(r.api_version) ? r.api_version : ENGINE_API_FALLBACK;
		if (engine_version_cmp(v, ENGINE_API_VERSION) > 0)
			v = ENGINE_API_VERSION;
		snprintf(version, 16, "%s", v);
	}
	free(body);
	return rc;
}

int engine_locate(struct engine_addr *addr, const struct engine_env *env, char version[16],
		  char ***proxies, size_t *nproxies, char *err, size_t errsz)
{
	int rc;

	if (proxies) {
		*proxies = NULL;
		*nproxies = 0;
	}
	rc = engine_resolve(addr, env, err, errsz);
	if (!rc && proxies)
		rc = engine_proxy_args(addr, env, proxies, nproxies, err, errsz);
	if (!rc)
		rc = engine_ping(addr, version, err, errsz);
	if (rc && proxies) {
		engine_strv_free(*proxies);
		*proxies = NULL;
		*nproxies = 0;
	}
	return rc;
}
