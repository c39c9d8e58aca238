/* test_engine.c: the engine client's strict parts in-process: JSON values
 * by path (escapes, surrogates, repeated keys, malformed documents), the
 * HTTP answer (status line, headers, chunked, Content-Length and
 * close-delimited bodies, lines) from canned bytes over a unix socket, the
 * engine addresses, and API versions. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"

/* ---- JSON ---- */

/* rc of engine_json_string, and its value when 1 */
static int js(const char *doc, const char *path, char *val, size_t valsz)
{
	char *out = NULL;
	size_t n = 0;
	int rc = engine_json_string(doc, strlen(doc), path, &out, &n);

	if (rc == 1) {
		assert_true(n < valsz);
		memcpy(val, out, n);
		val[n] = '\0';
		free(out);
	}
	return rc;
}

static void test_json_values(void **state)
{
	char v[256];

	(void)state;
	assert_int_equal(js("{\"stream\":\"Step 1/2\\n\"}", "stream", v, sizeof(v)), 1);
	assert_string_equal(v, "Step 1/2\n");
	assert_int_equal(js(" {\"errorDetail\":{\"message\":\"boom\"},\"error\":\"boom\"}\r\n",
			    "errorDetail.message", v, sizeof(v)),
			 1);
	assert_string_equal(v, "boom");
	assert_int_equal(js("{\"aux\":{\"ID\":\"sha256:1\"}}", "aux.ID", v, sizeof(v)), 1);
	assert_string_equal(v, "sha256:1");
	/* a string aux is not aux.ID, an object aux is not a string */
	assert_int_equal(
		js("{\"id\":\"moby.buildkit.trace\",\"aux\":\"QUJD\"}", "aux.ID", v, sizeof(v)), 0);
	assert_int_equal(js("{\"aux\":{\"ID\":\"x\"}}", "aux", v, sizeof(v)), 0);
	assert_int_equal(
		js("{\"a\":1,\"b\":[1,2,{\"c\":\"d\"}],\"e\":null,\"f\":true}", "e", v, sizeof(v)),
		0);
	assert_int_equal(js("{\"a\":\"x\"}", "b", v, sizeof(v)), 0);
	/* escapes, a surrogate pair, lone surrogates as U+FFFD */
	assert_int_equal(js("{\"s\":\"\\u00e9\\t\\\"\\\\\\/\\ud83d\\ude00\\ud800x\\udc00\"}", "s",
			    v, sizeof(v)),
			 1);
	assert_string_equal(v, "\xc3\xa9\t\"\\/\xf0\x9f\x98\x80\xef\xbf\xbdx\xef\xbf\xbd");
	/* encoding/json: the last of a repeated key */
	assert_int_equal(js("{\"k\":\"1\",\"k\":\"2\"}", "k", v, sizeof(v)), 1);
	assert_string_equal(v, "2");
	assert_int_equal(js("{\"k\":\"1\",\"k\":2}", "k", v, sizeof(v)), 0);
	assert_int_equal(js("[\"x\"]", "k", v, sizeof(v)), 0);
	assert_int_equal(js("{\"n\":-1.5e+3}", "n", v, sizeof(v)), 0);
}

static void test_json_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"a\":\"x\"",
		"{\"a\":\"x\"} x",
		"{\"a\":\"x\",}",
		"{\"a\" \"x\"}",
		"{a:\"x\"}",
		"{\"a\":\"\x01\"}",
		"{\"a\":\"\\q\"}",
		"{\"a\":\"\\u12\"}",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":tru}",
		"{\"a\":[1,]}",
		"{\"a\":\"x\"}{}",
	};
	char v[64], deep[600];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(js(bad[i], "a", v, sizeof(v)), -EBADMSG);
	}
	/* nesting beyond the bound is refused, not recursed into */
	for (i = 0; i < 300; i++)
		deep[i] = '[';
	for (; i < 600; i++)
		deep[i] = ']';
	assert_int_equal(engine_json_string(deep, 600, "a", (char **)&(char *){NULL}, &(size_t){0}),
			 -EBADMSG);
}

static void test_json_quote_query(void **state)
{
	char *b = NULL;
	size_t n = 0, alloc = 0;

	(void)state;
	assert_int_equal(engine_json_quote(&b, &n, &alloc, "a\"b\\c\n\x01", 7), 0);
	assert_string_equal(b, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	n = 0;
	assert_int_equal(engine_query_escape(&b, &n, &alloc, "a b/c:{}~.-_=&", 14), 0);
	assert_string_equal(b, "a+b%2Fc%3A%7B%7D~.-_%3D%26");
	free(b);
}

/* ---- HTTP answers from canned bytes ---- */

struct canned {
	char dir[64];
	struct engine_addr a;
	int lfd;
	struct engine *e;
};

/* A listening socket, ctxpack connected to it, bytes written and the
 * server side closed: the engine reads exactly them. */
static void canned_open(struct canned *c, const char *bytes, size_t n)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char err[512];
	int fd;

	snprintf(c->dir, sizeof(c->dir), "/tmp/ctxpack-engine-unit-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	memset(&c->a, 0, sizeof(c->a));
	c->a.kind = ENGINE_UNIX;
	snprintf(c->a.path, sizeof(c->a.path), "%s/s", c->dir);
	snprintf(c->a.where, sizeof(c->a.where), "unix://%s (test)", c->a.path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->a.path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(c->lfd >= 0);
	assert_int_equal(bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(c->lfd, 1), 0);
	assert_int_equal(engine_connect(&c->e, &c->a, err, sizeof(err)), 0);
	fd = accept(c->lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	close(fd);
	engine_timeout(c->e, 5);
}

static void canned_close(struct canned *c)
{
	engine_close(&c->e);
	close(c->lfd);
	unlink(c->a.path);
	rmdir(c->dir);
}

/* The answer's body read whole: 0 and body, or the error. */
static int answer(const char *bytes, struct engine_response *r, char *body, size_t bodysz,
		  char *err, size_t errsz)
{
	struct canned c;
	char *b = NULL;
	size_t n;
	int rc;

	canned_open(&c, bytes, strlen(bytes));
	rc = engine_response(c.e, r, err, errsz);
	if (!rc)
		rc = engine_read_all(c.e, &b, &n, 1 << 20, err, errsz);
	if (!rc) {
		assert_true(n < bodysz);
		memcpy(body, b, n + 1);
	}
	free(b);
	canned_close(&c);
	return rc;
}

static void test_http_bodies(void **state)
{
	struct engine_response r;
	char body[256], err[512];

	(void)state;
	assert_int_equal(answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nApi-Version: 1.45\r\n"
				"Content-Type: application/json\r\n\r\nhelloEXTRA",
				&r, body, sizeof(body), err, sizeof(err)),
			 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.reason, "OK");
	assert_string_equal(r.api_version, "1.45");
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(body, "hello");
	assert_int_equal(answer("HTTP/1.1 200 OK\r\ntransfer-encoding:  chunked \r\n\r\n"
				"5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: x\r\n\r\n",
				&r, body, sizeof(body), err, sizeof(err)),
			 0);
	assert_string_equal(body, "hello!");
	assert_int_equal(answer("HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"no\"}", &r, body,
				sizeof(body), err, sizeof(err)),
			 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(body, "{\"message\":\"no\"}");
	assert_int_equal(answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", &r,
				body, sizeof(body), err, sizeof(err)),
			 0);
	assert_int_equal(r.status, 204);
	assert_string_equal(body, "");
}

static void test_http_malformed(void **state)
{
	static const struct {
		const char *bytes;
		int rc;
		const char *words;
	} bad[] = {
		{"", -ECONNRESET, "closed the connection in the status line"},
		{"HTTP/1.1 200 OK\r\nContent-Le", -ECONNRESET, "in the headers"},
		{"HTTP/2 200 OK\r\n\r\n", -EBADMSG, "is not HTTP/1.x"},
		{"HTTP/1.1 2000 OK\r\n\r\n", -EBADMSG, "is not HTTP/1.x"},
		{"SSH-2.0-OpenSSH\r\n\r\n", -EBADMSG, "is not HTTP/1.x"},
		{"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", -EBADMSG, "without a name"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
		 -EBADMSG, "bad Content-Length"},
		{"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EBADMSG, "bad Content-Length"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", -ECONNRESET,
		 "in the middle of its answer"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", -EBADMSG,
		 "unknown Transfer-Encoding"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
		 -EBADMSG, "a bad chunk"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
		 -EBADMSG, "a bad chunk"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "10000000000000000\r\nx\r\n",
		 -EBADMSG, "a bad chunk"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", -EBADMSG,
		 "a bad chunk"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", -ECONNRESET,
		 "in the middle of its answer"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", -ECONNRESET,
		 "closed the connection in the chunked body"},
	};
	struct engine_response r;
	char body[256], err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = answer(bad[i].bytes, &r, body, sizeof(body), err, sizeof(err));
		print_message("# %zu: %d %s\n", i, rc, rc ? err : "");
		assert_int_equal(rc, bad[i].rc);
		assert_non_null(strstr(err, bad[i].words));
		assert_non_null(strstr(err, "(test)"));
	}
}

static void test_http_limits(void **state)
{
	struct engine_response r;
	char body[256], err[512];
	size_t n = 20000;
	char *big = malloc(n + 64), *p;

	(void)state;
	assert_non_null(big);
	/* a header line over the bound */
	p = big + sprintf(big, "HTTP/1.1 200 OK\r\nX: ");
	memset(p, 'a', n);
	strcpy(p + n, "\r\n\r\n");
	assert_int_equal(answer(big, &r, body, sizeof(body), err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "too long"));
	/* too many headers */
	p = big + sprintf(big, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < 150; i++)
		p += sprintf(p, "X: %d\r\n", i);
	strcpy(p, "\r\n");
	assert_int_equal(answer(big, &r, body, sizeof(body), err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "too many headers"));
	free(big);
}

static void test_http_lines(void **state)
{
	static const char bytes[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				    "4\r\na\r\nb\r\n3\r\n\nc\n\r\n2\r\nde\r\n0\r\n\r\n";
	struct canned c;
	char err[512], *line;
	size_t len;
	struct engine_response r;

	(void)state;
	canned_open(&c, bytes, strlen(bytes));
	assert_int_equal(engine_response(c.e, &r, err, sizeof(err)), 0);
	assert_int_equal(engine_read_line(c.e, &line, &len, 100, err, sizeof(err)), 1);
	assert_string_equal(line, "a");
	assert_int_equal(engine_read_line(c.e, &line, &len, 100, err, sizeof(err)), 1);
	assert_string_equal(line, "b");
	assert_int_equal(engine_read_line(c.e, &line, &len, 100, err, sizeof(err)), 1);
	assert_string_equal(line, "c");
	/* the last line without its end */
	assert_int_equal(engine_read_line(c.e, &line, &len, 100, err, sizeof(err)), 1);
	assert_string_equal(line, "de");
	assert_int_equal(engine_read_line(c.e, &line, &len, 100, err, sizeof(err)), 0);
	canned_close(&c);

	/* a line over max */
	{
		static char big[70000];
		int k = sprintf(big, "HTTP/1.1 200 OK\r\n\r\n");
		memset(big + k, 'x', sizeof(big) - (size_t)k - 1);
		canned_open(&c, big, strlen(big));
		assert_int_equal(engine_response(c.e, &r, err, sizeof(err)), 0);
		assert_int_equal(engine_read_line(c.e, &line, &len, 1000, err, sizeof(err)),
				 -E2BIG);
		canned_close(&c);
	}
}

/* ---- addresses and versions ---- */

static int resolve(const char *host, const char *tls, struct engine_addr *a, char *err,
		   size_t errsz)
{
	struct engine_env env = {.docker_host = host, .tls_verify = tls, .home = "/nonexistent"};

	return engine_resolve(a, &env, err, errsz);
}

static void test_addresses(void **state)
{
	struct engine_addr a;
	char err[512];

	(void)state;
	assert_int_equal(resolve("unix:///run/d.sock", NULL, &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, ENGINE_UNIX);
	assert_string_equal(a.path, "/run/d.sock");
	assert_string_equal(a.where, "unix:///run/d.sock (DOCKER_HOST)");
	assert_int_equal(resolve("tcp://example.org:1234", NULL, &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, ENGINE_TCP);
	assert_string_equal(a.node, "example.org");
	assert_string_equal(a.port, "1234");
	assert_int_equal(resolve("tcp://[::1]:99/", NULL, &a, err, sizeof(err)), 0);
	assert_string_equal(a.node, "::1");
	assert_string_equal(a.port, "99");
	assert_int_equal(resolve("tcp://h", NULL, &a, err, sizeof(err)), 0);
	assert_string_equal(a.port, "2375");
	assert_int_equal(resolve("h:7", NULL, &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, ENGINE_TCP);
	assert_string_equal(a.node, "h");
	assert_int_equal(resolve(NULL, NULL, &a, err, sizeof(err)), 0);
	assert_string_equal(a.where, "unix:///var/run/docker.sock (the default)");
	/* DOCKER_TLS_VERIFY: a unix socket stays plain; tcp is TLS, verified,
	 * ca.pem from the config directory (no HOME/.docker/cert.pem here:
	 * no client certificate); no host at all is tcp://localhost:2376 */
	assert_int_equal(resolve("unix:///x", "1", &a, err, sizeof(err)), 0);
	assert_false(a.tls);
	assert_int_equal(resolve("tcp://h:2376", "1", &a, err, sizeof(err)), 0);
	assert_true(a.tls && a.tls_verify);
	assert_string_equal(a.tls_ca, "/nonexistent/.docker/ca.pem");
	assert_string_equal(a.tls_cert, "");
	assert_int_equal(resolve("tcp://h", "1", &a, err, sizeof(err)), 0);
	assert_string_equal(a.port, "2375");
	assert_int_equal(resolve(NULL, "1", &a, err, sizeof(err)), 0);
	assert_true(a.kind == ENGINE_TCP && a.tls);
	assert_string_equal(a.node, "localhost");
	assert_string_equal(a.port, "2376");
	assert_int_equal(resolve("tcp://h:2376", NULL, &a, err, sizeof(err)), 0);
	assert_false(a.tls);
	{
		/* DOCKER_TLS: TLS, nothing verified; the default host is TLS's */
		struct engine_env env = {.tls = "1", .cert_path = "/c", .home = "/nonexistent"};

		assert_int_equal(engine_resolve(&a, &env, err, sizeof(err)), 0);
		assert_true(a.tls && !a.tls_verify);
		assert_string_equal(a.port, "2376");
		assert_string_equal(a.tls_ca, "/c/ca.pem");
	}
	/* ssh:// as the docker CLI parses it */
	assert_int_equal(resolve("ssh://u@h:2222", "1", &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, ENGINE_SSH);
	assert_false(a.tls);
	assert_string_equal(a.user, "u");
	assert_string_equal(a.node, "h");
	assert_string_equal(a.port, "2222");
	assert_string_equal(a.remote_socket, "");
	assert_int_equal(resolve("ssh://[::1]/run/d.sock", NULL, &a, err, sizeof(err)), 0);
	assert_string_equal(a.node, "::1");
	assert_string_equal(a.user, "");
	assert_string_equal(a.port, "");
	assert_string_equal(a.remote_socket, "/run/d.sock");
	assert_int_equal(resolve("ssh://u:pw@h", NULL, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "password"));
	assert_int_equal(resolve("ssh://h?x=1", NULL, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(resolve("ssh://h#x", NULL, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(resolve("ssh://u@", NULL, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(resolve("ssh://h:22x", NULL, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(resolve("ssh://-oProxyCommand=x", NULL, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(resolve("ssh://h/run/x;reboot", NULL, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "remote shell"));
	assert_int_equal(resolve("npipe:////./pipe/docker", NULL, &a, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_int_equal(resolve("unix://", NULL, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(resolve("tcp://h:port", NULL, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(resolve("tcp://h:1/path", NULL, &a, err, sizeof(err)), -EINVAL);
}

static void test_versions(void **state)
{
	(void)state;
	assert_int_equal(engine_version_cmp("1.45", "1.45"), 0);
	assert_int_equal(engine_version_cmp("1.9", "1.45"), -1);
	assert_int_equal(engine_version_cmp("1.100", "1.45"), 1);
	assert_int_equal(engine_version_cmp("2.0", "1.45"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_values),	 cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_json_quote_query), cmocka_unit_test(test_http_bodies),
		cmocka_unit_test(test_http_malformed),	 cmocka_unit_test(test_http_limits),
		cmocka_unit_test(test_http_lines),	 cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_versions),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
