/* engine.h: a client of the Docker Engine API, small and strict: where the
 * engine is (as the docker CLI finds it), one connection per request,
 * HTTP/1.1 written and parsed by hand (status line, headers, chunked and
 * Content-Length bodies, bounded sizes), the API version negotiated from
 * /_ping, and the JSON values of the engine's answers.
 *
 * The connection is a unix or tcp socket, TLS over tcp (OpenSSL, the
 * certificates as the docker CLI finds them), or ssh:// (the docker CLI's
 * `ssh ... docker system dial-stdio`, HTTP over its standard input and
 * output).
 *
 * It knows sockets and HTTP, not archives or builds: the caller writes the
 * request body (engine_send, or the descriptor of engine_body_begin) and reads the
 * answer (engine_response, engine_read_line).  Like the rest of the
 * library it reads no environment variable: the caller hands them in
 * (struct engine_env).  Every failure is a negative errno with a message
 * naming the engine and the cause; a malformed or cut answer is -EBADMSG
 * or -ECONNRESET, never a hang on the bytes already received. */
#ifndef CTXPACK_ENGINE_H
#define CTXPACK_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The API version ctxpack speaks (the build endpoint's parameters as of
 * dockerd 26.1); the engine's, when lower, is used instead. */
#define ENGINE_API_VERSION "1.45"
/* What the docker CLI assumes when /_ping names no version. */
#define ENGINE_API_FALLBACK "1.24"
#define ENGINE_DEFAULT_HOST "unix:///var/run/docker.sock"

/* What the docker CLI reads from its environment and command line. */
struct engine_env {
	const char *host;	    /* --host, else NULL */
	const char *context;	    /* --context, else NULL */
	const char *docker_host;    /* $DOCKER_HOST */
	const char *docker_context; /* $DOCKER_CONTEXT */
	const char *docker_config;  /* $DOCKER_CONFIG, else NULL: $HOME/.docker */
	const char *home;	    /* $HOME */
	const char *tls_verify;	    /* $DOCKER_TLS_VERIFY */
	const char *tls;	    /* $DOCKER_TLS: TLS without verification */
	const char *cert_path;	    /* $DOCKER_CERT_PATH, else NULL: the config directory */
};

enum engine_kind { ENGINE_UNIX, ENGINE_TCP, ENGINE_SSH };

#define ENGINE_PATH_MAX 4096

struct engine_addr {
	enum engine_kind kind;
	char host[256];		 /* as given: unix:///run/docker.sock, tcp://h:2375 */
	char path[108];		 /* ENGINE_UNIX: the socket */
	char node[256];		 /* ENGINE_TCP, ENGINE_SSH: host name or address, port */
	char port[8];		 /* ENGINE_SSH: "" when the address names none */
	char user[128];		 /* ENGINE_SSH: the login, or "" */
	char remote_socket[256]; /* ENGINE_SSH: the URL's path, the engine's socket there */
	/* ENGINE_TCP over TLS: the certificate checked (tls_verify: against
	 * tls_ca, or the system's roots when that is ""; and the host name),
	 * the client certificate and key offered ("": none) */
	bool tls, tls_verify;
	char tls_ca[ENGINE_PATH_MAX], tls_cert[ENGINE_PATH_MAX], tls_key[ENGINE_PATH_MAX];
	char tls_from[64]; /* for messages: "DOCKER_CERT_PATH", "the context's TLS material" */
	char where[512];   /* for messages: the host and where it came from */
	/* the docker CLI's DaemonHost(), the key of config.json's proxies:
	 * the address as its ParseHost writes it ("tcp://h:2375" for
	 * "tcp://h"), a context's as written, "http://docker.example.com"
	 * for ssh:// (its connection helper's) */
	char daemon_host[300];
};

/* Where the engine is, in the docker CLI's order: --host; --context;
 * $DOCKER_HOST; $DOCKER_CONTEXT; currentContext of config.json; the
 * default socket.  A context other than "default" is read from
 * CONFIG/contexts/meta/ (its meta.json whose Name is the context; the
 * docker CLI names that directory by the name's SHA-256) as its
 * Endpoints.docker.Host.  TLS as the docker CLI turns it on: for the
 * default context DOCKER_TLS_VERIFY (non-empty; DOCKER_TLS: without
 * verification) with ca.pem, and cert.pem and key.pem when both exist,
 * from DOCKER_CERT_PATH (default the config directory),
 * tcp://localhost:2376 when no host is given; for another
 * context its CONFIG/contexts/tls/<sha256 of name>/docker/ files and
 * Endpoints.docker.SkipTLSVerify.  ssh://[USER@]HOST[:PORT][/SOCKET] as
 * the docker CLI parses it; npipe:// and other schemes are refused with a
 * message naming what is not supported. */
int engine_resolve(struct engine_addr *out, const struct engine_env *env, char *err, size_t errsz);

/* The build args the docker CLI adds from the proxies of its config.json
 * (CONFIG/config.json, as engine_resolve finds CONFIG; none without one)
 * for the engine a: the entry proxies[a->daemon_host], else
 * proxies.default; for each of httpProxy, httpsProxy, noProxy, ftpProxy,
 * allProxy with a value, "HTTP_PROXY=v" and "http_proxy=v" (and so on),
 * in that order.  The caller's own build args go after these, a later
 * key winning (build.h: build_request.proxy_args).  *out is
 * NULL-terminated (engine_strv_free), *n its count.  A proxies part the
 * docker CLI cannot decode (a value not a string, an entry not an
 * object) is -EINVAL, a config.json that is not JSON -EBADMSG, each with a
 * message naming the file. */
int engine_proxy_args(const struct engine_addr *a, const struct engine_env *env, char ***out,
		      size_t *n, char *err, size_t errsz);
void engine_strv_free(char **v);

struct engine;

/* The engine is reached over a network (tcp://, TLS or not, and ssh://),
 * not a local socket. */
bool engine_is_remote(const struct engine_addr *a);
/* The Host header of a request to a, as the docker CLI sends it. */
void engine_http_host(const struct engine_addr *a, char *out, size_t outsz);

/* Connects to a (for TLS: the handshake, the engine's certificate checked;
 * for ssh://: ssh started from PATH).  The message names a->where, and
 * for ssh:// what ssh said on its standard error. */
int engine_connect(struct engine **out, const struct engine_addr *a, char *err, size_t errsz);
/* The connection's socket (TLS: the one beneath it; ssh://: our end of
 * ssh's standard input and output): for shutdown(2), never for data. */
int engine_fd(const struct engine *e);
/* A body written by a descriptor (pack_write): *fd is the socket itself,
 * or for TLS a pipe whose bytes a thread of the engine sends encrypted.
 * engine_body_end ends it (rc: the writer's outcome, its message in
 * err); a failure to send replaces the writer's EPIPE.  Nothing else may
 * use the connection in between. */
int engine_body_begin(struct engine *e, int *fd, char *err, size_t errsz);
int engine_body_end(struct engine *e, int rc, char *err, size_t errsz);
/* Sends n bytes (SIGPIPE must be ignored by the caller). */
int engine_send(struct engine *e, const void *p, size_t n, char *err, size_t errsz);
/* Sends one chunk of a chunked body (n == 0: the last chunk). */
int engine_send_chunk(struct engine *e, const void *p, size_t n, char *err, size_t errsz);
/* Appends to err what the way to the engine said of a failure: for
 * ssh://, "; `ssh ...` exited with status N: ITS STDERR" (waiting a moment
 * for ssh to end); nothing otherwise.  The engine's functions add it to
 * their own messages; this is for a failure met on the descriptor. */
void engine_note(struct engine *e, char *err, size_t errsz);
/* Sets (seconds > 0) or clears a receive timeout on the connection. */
void engine_timeout(struct engine *e, int seconds);

struct engine_response {
	int status; /* 200, 404, ... */
	char reason[128];
	char api_version[16]; /* API-Version header, or "" */
	char content_type[128];
};

/* Reads the status line and headers of the answer; the body is then read
 * with engine_read / engine_read_line (chunked, Content-Length, or up to
 * the end of the connection, as the headers say). */
int engine_response(struct engine *e, struct engine_response *r, char *err, size_t errsz);
/* Up to n bytes of the body: the count, 0 at its end, or -errno. */
long engine_read(struct engine *e, void *p, size_t n, char *err, size_t errsz);
/* The next line of the body (without its "\r\n" or "\n"; a last line
 * without one too), NUL-terminated, valid until the next call: 1, 0 at
 * the end of the body, or -errno (a line over max bytes: -E2BIG). */
int engine_read_line(struct engine *e, char **line, size_t *len, size_t max, char *err,
		     size_t errsz);
/* The whole body, at most max bytes (malloc'd, NUL-terminated). */
int engine_read_all(struct engine *e, char **out, size_t *len, size_t max, char *err, size_t errsz);
void engine_close(struct engine **e);

/* GET path on a connection of its own (30 s without an answer is an
 * error): the answer's head into r, its body (at most max bytes) into
 * *body (malloc'd, NUL-terminated). */
int engine_get(const struct engine_addr *a, const char *path, struct engine_response *r,
	       char **body, size_t *len, size_t max, char *err, size_t errsz);
/* GET /_ping: the version to use, min(ENGINE_API_VERSION, the engine's),
 * into version. */
int engine_ping(const struct engine_addr *a, char version[16], char *err, size_t errsz);
/* The engine to build on, as a build finds it: engine_resolve, then (with
 * proxies not NULL) engine_proxy_args into *proxies and *nproxies (NULL and 0
 * on a failure), then engine_ping. */
int engine_locate(struct engine_addr *addr, const struct engine_env *env, char version[16],
		  char ***proxies, size_t *nproxies, char *err, size_t errsz);

/* -1, 0, 1 as version a is lower, equal, higher than b ("1.45"). */
int engine_version_cmp(const char *a, const char *b);

/* The string value at a dotted key path ("errorDetail.message") of the
 * JSON object json[0..n): 1 with *out malloc'd (NUL-terminated, *outlen
 * its length: it may hold NUL bytes), 0 when there is no string there,
 * -EBADMSG when json is not one valid JSON value, -ENOMEM. */
int engine_json_string(const char *json, size_t n, const char *path, char **out, size_t *outlen);
/* The same at the path keys[0..nkeys) (keys that hold dots: labels). */
int engine_json_string_keys(const char *json, size_t n, const char *const *keys, size_t nkeys,
			    char **out, size_t *outlen);
/* Appends s[0..n) to buf as a JSON string (quotes and escapes), NUL-terminated. */
int engine_json_quote(char **buf, size_t *len, size_t *alloc, const char *s, size_t n);
/* Appends s[0..n) percent-encoded as Go's url.QueryEscape does. */
int engine_query_escape(char **buf, size_t *len, size_t *alloc, const char *s, size_t n);

#endif
