/* sinkd.c: a stand-in Docker engine for benchmarks.  It answers the
 * docker CLI's ping, version and info calls on a unix socket and reads the
 * body of POST /build as fast as it arrives, discarding it (counting the
 * bytes), so that timing `docker build CTX` measures the CLI, not the
 * engine.  A thread per connection; the tests/oracle/fakeengine.py engine
 * is the one that records bodies.
 *
 * usage: sinkd SOCKET [COUNTFILE]   (COUNTFILE gets the body size of each build) */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BUFSZ (1 << 20)

struct conn {
	int fd;
	char *buf;
	size_t len, pos; /* buffered bytes [pos, len) */
};

static FILE *counts;
static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;

static ssize_t fill(struct conn *c)
{
	ssize_t r;

	if (c->pos == c->len)
		c->pos = c->len = 0;
	if (c->len == BUFSZ) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	do
		r = read(c->fd, c->buf + c->len, BUFSZ - c->len);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		c->len += (size_t)r;
	return r;
}

/* The next line (without CRLF) into out; returns its length or -1. */
static long getline_c(struct conn *c, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
		if (nl) {
			size_t n = (size_t)(nl - (c->buf + c->pos));
			size_t k = n && c->buf[c->pos + n - 1] == '\r' ? n - 1 : n;
			if (k >= cap)
				k = cap - 1;
			memcpy(out, c->buf + c->pos, k);
			out[k] = '\0';
			c->pos += n + 1;
			return (long)k;
		}
		if (fill(c) <= 0)
			return -1;
	}
}

/* Discards n body bytes; returns 0 or -1. */
static int skip(struct conn *c, unsigned long long n, unsigned long long *total)
{
	while (n) {
		size_t have = c->len - c->pos, take;
		if (!have && fill(c) <= 0)
			return -1;
		have = c->len - c->pos;
		take = have < n ? have : (size_t)n;
		c->pos += take;
		n -= take;
		*total += take;
	}
	return 0;
}

/* head: the answer to a HEAD request has the headers only (docker pings
 * with HEAD /_ping first; a body there would be read as the start of the
 * next response on the kept-alive connection). */
static void reply(int fd, const char *ctype, const char *body, int head)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nApi-Version: 1.47\r\nOstype: linux\r\n"
			 "Docker-Experimental: false\r\nContent-Length: %zu\r\n\r\n",
			 ctype, strlen(body));
	if (write(fd, hdr, (size_t)n) < 0 || head)
		return;
	if (write(fd, body, strlen(body)) < 0)
		return;
}

static void serve_loop(struct conn *cp)
{
	struct conn c = *cp;
	int fd = c.fd;
	char line[8192], method[16], path[4096];

	while (getline_c(&c, line, sizeof(line)) >= 0) {
		unsigned long long clen = 0, total = 0;
		int chunked = 0, head;

		if (sscanf(line, "%15s %4095s", method, path) != 2)
			continue;
		while (getline_c(&c, line, sizeof(line)) > 0) {
			if (!strncasecmp(line, "Content-Length:", 15))
				clen = strtoull(line + 15, NULL, 10);
			else if (!strncasecmp(line, "Transfer-Encoding:", 18) && strcasestr(line, "chunked"))
				chunked = 1;
		}
		if (chunked) {
			for (;;) {
				unsigned long long n;
				if (getline_c(&c, line, sizeof(line)) < 0)
					return;
				n = strtoull(line, NULL, 16);
				if (n == 0) {
					while (getline_c(&c, line, sizeof(line)) > 0)
						;
					break;
				}
				if (skip(&c, n, &total) || getline_c(&c, line, sizeof(line)) < 0)
					return;
			}
		} else if (skip(&c, clen, &total)) {
			return;
		}
		head = !strcmp(method, "HEAD");
		if (strstr(path, "/_ping")) {
			reply(fd, "text/plain", "OK", head);
		} else if (strstr(path, "/version")) {
			reply(fd, "application/json",
			      "{\"ApiVersion\":\"1.47\",\"MinAPIVersion\":\"1.24\",\"Version\":\"28.2.2\",\"Os\":\"linux\",\"Arch\":\"amd64\"}", head);
		} else if (!strcmp(method, "POST") && strstr(path, "/build")) {
			if (counts) {
				pthread_mutex_lock(&counts_lock);
				fprintf(counts, "%llu\n", total);
				fflush(counts);
				pthread_mutex_unlock(&counts_lock);
			}
			reply(fd, "application/json",
			      "{\"stream\":\"Successfully built 0123456789ab\\n\"}\r\n{\"aux\":{\"ID\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}}\r\n", head);
		} else {
			reply(fd, "application/json", "{}", head);
		}
	}
}

static void *conn_thread(void *arg)
{
	int fd = (int)(long)arg;
	struct conn c = { fd, malloc(BUFSZ), 0, 0 };

	if (c.buf)
		serve_loop(&c);
	free(c.buf);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;

	if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: sinkd SOCKET [COUNTFILE]\n");
		return 2;
	}
	if (argc > 2 && !(counts = fopen(argv[2], "a"))) {
		fprintf(stderr, "sinkd: cannot open '%s': %s\n", argv[2], strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 16) < 0) {
		fprintf(stderr, "sinkd: cannot listen on '%s': %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (;;) {
		int fd = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pthread_create(&t, NULL, conn_thread, (void *)(long)fd) == 0)
			pthread_detach(t);
		else
			close(fd);
	}
}
