/* test_bktrace.c: src/bktrace.c, BuildKit's progress decoded and rendered.
 *
 * The recorded vectors (tests/vectors/bktrace/CASE.stream, the Engine API's
 * answers to /build?version=2, recorded by record.py) are rendered in
 * PLAIN mode and compared with CASE.expected, derived from what `docker
 * build --progress=plain` printed for the same build; both sides are
 * normalised alike (normalise() here, derive() in record.py).  Messages
 * made here test what the recorded builds do not reach (logs, warnings,
 * byte counts, progress groups, the tty view) and the decoder on hostile
 * bytes.
 *
 * `test_bktrace --live DIR` runs on vectors just recorded (see
 * check_case); `test_bktrace --render CASE.stream [HOW]` prints the
 * rendering of a stream, for looking at: HOW is plain (the whole build at
 * once, the default), each (plain after every message), paced (plain at
 * the default 100 ms interval), tty (after every message), tty-paced. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bktrace.h"

static const char *vecdir;

/* ---- helpers ---- */

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t cap = 0, len = 0, r;

	if (!f)
		return NULL;
	do {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			p = realloc(p, cap + 1);
			assert_non_null(p);
		}
		r = fread(p + len, 1, cap - len, f);
		len += r;
	} while (r > 0);
	fclose(f);
	p[len] = '\0';
	*n = len;
	return p;
}

/* Feeds every "moby.buildkit.trace" aux value of an Engine API stream
 * (one JSON object a line; base64 holds no quote or escape). */
static int feed_stream(struct bktrace *t, const char *stream)
{
	static const char key[] = "\"id\":\"moby.buildkit.trace\",\"aux\":\"";
	const char *p = stream;
	int n = 0;

	while ((p = strstr(p, key))) {
		const char *b = p + strlen(key), *e = strchr(b, '"');
		assert_non_null(e);
		assert_int_equal(bktrace_feed_base64(t, b, (size_t)(e - b)), 0);
		p = e;
		n++;
	}
	return n;
}

struct out {
	FILE *f;
	char *buf;
	size_t n;
};

static struct bktrace *open_trace(struct out *o, enum bktrace_mode mode, long interval)
{
	struct bktrace *t;

	o->buf = NULL;
	o->n = 0;
	o->f = open_memstream(&o->buf, &o->n);
	assert_non_null(o->f);
	t = bktrace_new(o->f, mode);
	assert_non_null(t);
	bktrace_set_interval(t, interval);
	return t;
}

static char *close_out(struct out *o)
{
	fclose(o->f);
	return o->buf;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* record.py's derive(), line by line: ' D.Ds done' at a line's end becomes
 * ' done'; then 'D.Ds' becomes 'N.Ns', 'sha256:' and 64 hex digits
 * 'sha256:H', and 'ref ID::ID' (a checksum's reference) 'ref R'. */
static char *normalise(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1), *o = out;

	assert_non_null(out);
	for (const char *p = in; *p;) {
		const char *q = p;
		/* [0-9]+\.[0-9]s */
		while (is_digit(*q))
			q++;
		if (q > p && q[0] == '.' && is_digit(q[1]) && q[2] == 's') {
			const char *after = q + 3;
			if (p > in && p[-1] == ' ' && !strncmp(after, " done", 5) &&
			    (after[5] == '\n' || after[5] == '\0')) {
				o--; /* the space already written */
				p = after;
				continue;
			}
			/* a run of digits starts at the first one */
			memcpy(o, "N.Ns", 4);
			o += 4;
			p = after;
			continue;
		}
		if (q > p) {
			memcpy(o, p, (size_t)(q - p));
			o += q - p;
			p = q;
			continue;
		}
		if (!strncmp(p, "sha256:", 7)) {
			int k = 0;
			while (k < 64 && is_hex(p[7 + k]))
				k++;
			if (k == 64) {
				memcpy(o, "sha256:H", 8);
				o += 8;
				p += 7 + 64;
				continue;
			}
		}
		if (!strncmp(p, "ref ", 4)) {
			const char *r = p + 4;
			while (*r && *r != ' ' && *r != ':')
				r++;
			if (r > p + 4 && r[0] == ':' && r[1] == ':' &&
			    (is_digit(r[2]) || (r[2] >= 'a' && r[2] <= 'z'))) {
				r += 2;
				while (is_digit(*r) || (*r >= 'a' && *r <= 'z'))
					r++;
				memcpy(o, "ref R", 5);
				o += 5;
				p = r;
				continue;
			}
		}
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

static char *render_file(const char *name, enum bktrace_mode mode, long interval,
			 struct bktrace_counts *counts, char **fname, char **ferr)
{
	char path[4096], *stream, *text;
	size_t n;
	struct out o;
	struct bktrace *t = open_trace(&o, mode, interval);
	const char *a, *b;

	snprintf(path, sizeof(path), "%s/%s.stream", vecdir, name);
	stream = slurp(path, &n);
	assert_non_null(stream);
	assert_true(feed_stream(t, stream) > 0);
	bktrace_finish(t);
	if (counts)
		bktrace_counts(t, counts);
	if (fname && bktrace_failure(t, &a, &b)) {
		*fname = strdup(a);
		*ferr = strdup(b);
	}
	bktrace_free(t);
	free(stream);
	text = close_out(&o);
	return text;
}

/* ---- the recorded builds against the docker CLI ---- */

/* Each line of sub that is not empty is a whole line of text, in order. */
static void check_lines_in(const char *name, const char *what, const char *sub, const char *text)
{
	char *copy = strdup(sub), *save = NULL;
	const char *e = text;

	assert_non_null(copy);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *hit;
		size_t ln = strlen(line);
		for (hit = strstr(e, line); hit; hit = strstr(hit + 1, line))
			if ((hit == text || hit[-1] == '\n') &&
			    (hit[ln] == '\n' || hit[ln] == '\0'))
				break;
		if (!hit)
			fprintf(stderr, "# %s: %s: '%s' not in order in\n%s", name, what, line,
				text);
		assert_non_null(hit);
		e = hit + ln;
	}
	free(copy);
}

/* The docker CLI renders when its 100 ms display interval allows: a
 * rendering of the whole build at once (interval -1) shows each vertex
 * once, a rendering after every message (interval 0) shows every state a
 * message brings.  What the CLI printed lies between: the first's lines
 * are among the CLI's, the CLI's among the second's, in order.  For the
 * checked-in vectors (not --live) the CLI's updates all came within its
 * interval, and the whole-build rendering equals what it printed. */
static bool live;

static void check_case(const char *name, struct bktrace_counts *counts, char **fname, char **ferr)
{
	char path[4096], *want, *got, *norm, *each, *eachn;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.expected", vecdir, name);
	want = slurp(path, &n);
	assert_non_null(want);
	got = render_file(name, BKTRACE_PLAIN, -1, counts, fname, ferr);
	norm = normalise(got);
	each = render_file(name, BKTRACE_PLAIN, 0, NULL, NULL, NULL);
	eachn = normalise(each);
	if (!live) {
		if (strcmp(norm, want))
			fprintf(stderr, "# %s: rendered\n%s# expected\n%s", name, norm, want);
		assert_string_equal(norm, want);
	}
	check_lines_in(name, "the whole build in the CLI's", norm, want);
	check_lines_in(name, "the CLI's in every message's", want, eachn);
	free(want);
	free(got);
	free(norm);
	free(each);
	free(eachn);
}

static void test_vec_ok(void **state)
{
	struct bktrace_counts c;
	(void)state;
	check_case("ok", &c, NULL, NULL);
	assert_int_equal(c.vertexes, 5);
	assert_int_equal(c.completed, 5);
	assert_int_equal(c.cached, 0);
	assert_int_equal(c.errors, 0);
}

static void test_vec_cached(void **state)
{
	struct bktrace_counts c;
	(void)state;
	check_case("cached", &c, NULL, NULL);
	assert_int_equal(c.vertexes, 5);
	assert_int_equal(c.cached, 4);
	assert_int_equal(c.errors, 0);
}

static void test_vec_copy_fail(void **state)
{
	struct bktrace_counts c;
	char *name = NULL, *err = NULL;
	(void)state;
	check_case("copy-fail", &c, &name, &err);
	assert_int_equal(c.errors, 1);
	assert_non_null(name);
	assert_string_equal(name, "[1/1] COPY missing.txt /m");
	assert_non_null(strstr(err, "\"/missing.txt\": not found"));
	free(name);
	free(err);
}

static void test_vec_syntax(void **state)
{
	struct bktrace_counts c;
	char *name = NULL, *err = NULL;
	(void)state;
	/* the parse error is the stream's "error", not a vertex's */
	check_case("syntax", &c, &name, &err);
	assert_int_equal(c.errors, 0);
	assert_null(name);
}

/* ---- messages made here: a small protobuf writer ---- */

struct pbw {
	unsigned char b[8192];
	size_t n;
};

static void w_varint(struct pbw *w, uint64_t v)
{
	do {
		assert_true(w->n < sizeof(w->b));
		w->b[w->n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void w_tag(struct pbw *w, unsigned field, unsigned wt)
{
	w_varint(w, (uint64_t)field << 3 | wt);
}

static void w_bytes(struct pbw *w, unsigned field, const void *p, size_t n)
{
	w_tag(w, field, 2);
	w_varint(w, n);
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void w_str(struct pbw *w, unsigned field, const char *s)
{
	w_bytes(w, field, s, strlen(s));
}

static void w_msg(struct pbw *w, unsigned field, const struct pbw *m)
{
	w_bytes(w, field, m->b, m->n);
}

static void w_uint(struct pbw *w, unsigned field, uint64_t v)
{
	w_tag(w, field, 0);
	w_varint(w, v);
}

/* A Timestamp at T0 + ms milliseconds. */
#define T0 1796643788
static void w_ts(struct pbw *w, unsigned field, long ms)
{
	struct pbw ts = {.n = 0};
	w_uint(&ts, 1, T0 + (uint64_t)(ms / 1000));
	w_uint(&ts, 2, (uint64_t)(ms % 1000) * 1000000);
	w_msg(w, field, &ts);
}

/* Vertex: digest, name, started/completed (-1: unset), cached, error. */
static void w_vertex(struct pbw *m, const char *dg, const char *name, long start, long stop,
		     bool cached, const char *error)
{
	struct pbw v = {.n = 0};
	w_str(&v, 1, dg);
	w_str(&v, 2, "sha256:input");
	w_str(&v, 3, name);
	if (cached)
		w_uint(&v, 4, 1);
	if (start >= 0)
		w_ts(&v, 5, start);
	if (stop >= 0)
		w_ts(&v, 6, stop);
	if (error)
		w_str(&v, 7, error);
	w_msg(m, 1, &v);
}

static void w_status(struct pbw *m, const char *dg, const char *id, int64_t cur, int64_t total,
		     long ts, long start, long stop)
{
	struct pbw s = {.n = 0};
	w_str(&s, 1, id);
	w_str(&s, 2, dg);
	if (cur)
		w_uint(&s, 4, (uint64_t)cur);
	if (total)
		w_uint(&s, 5, (uint64_t)total);
	w_ts(&s, 6, ts);
	if (start >= 0)
		w_ts(&s, 7, start);
	if (stop >= 0)
		w_ts(&s, 8, stop);
	w_msg(m, 2, &s);
}

static void w_log(struct pbw *m, const char *dg, long ts, const char *msg)
{
	struct pbw l = {.n = 0};
	w_str(&l, 1, dg);
	w_ts(&l, 2, ts);
	w_uint(&l, 3, 1);
	w_str(&l, 4, msg);
	w_msg(m, 3, &l);
}

static void w_warning(struct pbw *m, const char *dg, const char *brief)
{
	struct pbw w = {.n = 0};
	w_str(&w, 1, dg);
	w_uint(&w, 2, 1);
	w_str(&w, 3, brief);
	w_str(&w, 4, "detail");
	w_str(&w, 5, "https://example.invalid/");
	w_msg(m, 4, &w);
}

static void feed(struct bktrace *t, struct pbw *m)
{
	assert_int_equal(bktrace_feed(t, m->b, m->n), 0);
	m->n = 0;
}

static void test_logs_statuses_warnings(void **state)
{
	struct out o;
	struct bktrace *t = open_trace(&o, BKTRACE_PLAIN, 0);
	struct pbw m = {.n = 0};
	struct bktrace_counts c;
	const char *a, *b;
	char *text;
	(void)state;

	w_vertex(&m, "sha256:a", "[internal] load build context", 0, -1, false, NULL);
	feed(t, &m);
	w_status(&m, "sha256:a", "transferring context", 42, 0, 10, 5, -1);
	feed(t, &m);
	w_status(&m, "sha256:a", "transferring context", 1234, 2000, 200, 5, 200);
	w_vertex(&m, "sha256:a", "[internal] load build context", 0, 250, false, NULL);
	feed(t, &m);
	w_vertex(&m, "sha256:b", "[1/2] RUN make", 300, -1, false, NULL);
	w_log(&m, "sha256:b", 312, "first line\nsecond ");
	feed(t, &m);
	w_log(&m, "sha256:b", 12400, "half\nthird\n");
	w_warning(&m, "sha256:b", "something odd");
	feed(t, &m);
	w_vertex(&m, "sha256:b", "[1/2] RUN make", 300, 12500, false,
		 "process \"make\" did not complete successfully: exit code: 2");
	feed(t, &m);
	bktrace_counts(t, &c);
	assert_int_equal(c.vertexes, 2);
	assert_int_equal(c.errors, 1);
	assert_true(bktrace_failure(t, &a, &b));
	assert_string_equal(a, "[1/2] RUN make");
	bktrace_finish(t);
	bktrace_free(t);
	text = close_out(&o);
	assert_string_equal(
		text, "#1 [internal] load build context\n"
		      "#1 transferring context 42B\n"
		      "#1 transferring context 1.23kB / 2.00kB 0.2s done\n"
		      "#1 DONE 0.2s\n"
		      "\n"
		      "#2 [1/2] RUN make\n"
		      "#2 0.012 first line\n"
		      /* progressui prints a warning before the logs, even
		       * after a line left open */
		      "#2 0.012 second #2 WARN: something odd\n"
		      "half\n"
		      "#2 12.10 third\n"
		      "#2 ERROR: process \"make\" did not complete successfully: exit code: 2\n"
		      "------\n"
		      " > [1/2] RUN make:\n"
		      /* its last lines as printed; an open line's pieces
		       * overwrite each other */
		      "half\n"
		      "12.10 third\n"
		      "------\n");
	free(text);
}

/* Vertexes switch: '#N ...' closes the one left; a cached and a canceled
 * vertex; a vertex that never starts is never shown; a vertex that
 * starts while another is shown waits until that one finishes. */
static void test_switch_cached_canceled(void **state)
{
	struct out o;
	struct bktrace *t = open_trace(&o, BKTRACE_PLAIN, 0);
	struct pbw m = {.n = 0};
	char *text;
	(void)state;

	w_vertex(&m, "sha256:a", "A", 0, -1, false, NULL);
	feed(t, &m);
	w_vertex(&m, "sha256:b", "B", 10, -1, false, NULL);
	w_vertex(&m, "sha256:never", "never started", -1, -1, false, NULL);
	w_status(&m, "sha256:b", "step", 0, 0, 20, 15, 18);
	feed(t, &m);
	w_vertex(&m, "sha256:b", "B", 10, 40, false, "rpc error: context canceled");
	feed(t, &m);
	w_vertex(&m, "sha256:a", "A", 0, 50, true, NULL);
	feed(t, &m);
	bktrace_finish(t);
	bktrace_free(t);
	text = close_out(&o);
	assert_string_equal(text, "#1 A\n"
				  "#1 ...\n"
				  "\n"
				  "#2 B\n"
				  "#2 step done\n"
				  "#2 CANCELED\n"
				  "\n"
				  "#1 A\n"
				  "#1 CACHED\n");
	free(text);
}

/* A progress group is shown once, as one vertex, once a member that is
 * not weak starts; cached only when all are. */
static void test_progress_group(void **state)
{
	struct out o;
	struct bktrace *t = open_trace(&o, BKTRACE_PLAIN, -1);
	struct pbw m = {.n = 0}, g = {.n = 0}, v;
	struct bktrace_counts c;
	char *text;
	(void)state;

	w_str(&g, 1, "group-1");
	w_str(&g, 2, "[2/3] COPY --link a /a");
	for (int i = 0; i < 2; i++) {
		v.n = 0;
		w_str(&v, 1, i ? "sha256:m2" : "sha256:m1");
		w_str(&v, 3, i ? "member two" : "member one");
		w_uint(&v, 4, (uint64_t)i);
		w_ts(&v, 5, 100 * i);
		w_ts(&v, 6, 100 * i + 50);
		w_msg(&v, 8, &g);
		w_msg(&m, 1, &v);
	}
	feed(t, &m);
	w_status(&m, "sha256:m2", "copying", 0, 0, 120, -1, -1);
	feed(t, &m);
	bktrace_counts(t, &c);
	assert_int_equal(c.vertexes, 1);
	assert_int_equal(c.cached, 0);
	bktrace_finish(t);
	bktrace_free(t);
	text = close_out(&o);
	assert_string_equal(text, "#1 [2/3] COPY --link a /a\n#1 DONE 0.1s\n");
	free(text);
}

static void test_tty_and_quiet(void **state)
{
	struct out o;
	struct bktrace *t = open_trace(&o, BKTRACE_TTY, 0);
	struct pbw m = {.n = 0};
	char name[300], *text;
	(void)state;

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "[1/1] COPY \033[2J", 15);
	w_vertex(&m, "sha256:a", name, 0, -1, false, NULL);
	w_status(&m, "sha256:a", "transferring context", 42, 0, 10, 5, -1);
	feed(t, &m);
	w_vertex(&m, "sha256:a", name, 0, 1500, false, NULL);
	feed(t, &m);
	bktrace_finish(t);
	bktrace_free(t);
	text = close_out(&o);
	assert_non_null(strstr(text, "[+] Building 0.0s (0/1)"));
	assert_non_null(strstr(text, " => => transferring context"));
	assert_non_null(strstr(text, "[+] Building 1.5s (1/1) FINISHED"));
	assert_non_null(strstr(text, " => [1/1] COPY ?[2J"));
	/* each line at most 80 columns (not a terminal: 80) */
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char *k = strstr(l, "\033[K");
		if (k)
			l = k + 3;
		assert_true(strlen(l) <= 80);
		assert_null(strstr(l, "\033[2J"));
	}
	free(text);

	t = open_trace(&o, BKTRACE_QUIET, 0);
	w_vertex(&m, "sha256:a", "A", 0, 10, false, "failed");
	feed(t, &m);
	bktrace_finish(t);
	{
		struct bktrace_counts c;
		bktrace_counts(t, &c);
		assert_int_equal(c.errors, 1);
	}
	bktrace_free(t);
	text = close_out(&o);
	assert_int_equal(o.n, 0);
	free(text);

	/* quiet needs no stream at all */
	t = bktrace_new(NULL, BKTRACE_QUIET);
	assert_non_null(t);
	w_vertex(&m, "sha256:a", "A", 0, 10, false, NULL);
	feed(t, &m);
	bktrace_refresh(t);
	bktrace_finish(t);
	bktrace_free(t);
}

/* ---- hostile input: refused with -EBADMSG, nothing changed ---- */

static void refuse(struct bktrace *t, const unsigned char *p, size_t n, const char *what)
{
	struct bktrace_counts before, after;
	int rc;

	bktrace_counts(t, &before);
	rc = bktrace_feed(t, p, n);
	if (rc != -EBADMSG)
		fprintf(stderr, "# %s: %d\n", what, rc);
	assert_int_equal(rc, -EBADMSG);
	bktrace_counts(t, &after);
	assert_memory_equal(&before, &after, sizeof(before));
}

static void test_hostile_protobuf(void **state)
{
	struct out o;
	struct bktrace *t = open_trace(&o, BKTRACE_PLAIN, 0);
	struct pbw m = {.n = 0}, v = {.n = 0}, ts = {.n = 0};
	size_t before;
	char *text;
	(void)state;

	w_vertex(&m, "sha256:a", "A", 0, -1, false, NULL);
	feed(t, &m);
	fflush(o.f);
	before = o.n;

	/* a varint cut short, one of 11 bytes, a 10th byte above 1 */
	refuse(t, (const unsigned char *)"\x0a\x80", 2, "truncated length");
	refuse(t, (const unsigned char *)"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12,
	       "11-byte varint");
	refuse(t, (const unsigned char *)"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11,
	       "varint past 64 bits");
	refuse(t, (const unsigned char *)"\x80", 1, "truncated tag");
	/* lengths past the end, huge lengths */
	refuse(t, (const unsigned char *)"\x0a\x05\x0a\x01", 4, "length past the end");
	refuse(t, (const unsigned char *)"\x0a\x02\x0a\x09", 4, "inner length past the end");
	refuse(t, (const unsigned char *)"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10,
	       "huge length");
	refuse(t, (const unsigned char *)"\x0a\xff\xff\xff\xff\x0f", 6, "4 GiB length");
	/* field 0, wire types 6 and 7, a fixed64 cut short */
	refuse(t, (const unsigned char *)"\x02\x00", 2, "field 0");
	refuse(t, (const unsigned char *)"\x0e", 1, "wire type 6");
	refuse(t, (const unsigned char *)"\x0f", 1, "wire type 7");
	refuse(t, (const unsigned char *)"\x29\x01\x02", 3, "fixed64 cut");
	/* groups: an end without a start, a mismatched end, too deep */
	refuse(t, (const unsigned char *)"\x2c", 1, "end group alone");
	refuse(t, (const unsigned char *)"\x2b\x34", 2, "mismatched end group");
	{
		unsigned char deep[64];
		size_t n = 0;
		for (int i = 0; i < 17; i++)
			deep[n++] = 0x2b; /* field 5, start group */
		for (int i = 0; i < 17; i++)
			deep[n++] = 0x2c;
		refuse(t, deep, n, "groups 17 deep");
		/* 16 deep is read (and skipped) */
		n = 0;
		for (int i = 0; i < 16; i++)
			deep[n++] = 0x2b;
		for (int i = 0; i < 16; i++)
			deep[n++] = 0x2c;
		assert_int_equal(bktrace_feed(t, deep, n), 0);
	}
	/* timestamps outside what Go accepts */
	w_str(&v, 1, "sha256:z");
	w_uint(&ts, 1, T0);
	w_uint(&ts, 2, 1000000000);
	w_msg(&v, 5, &ts);
	w_msg(&m, 1, &v);
	refuse(t, m.b, m.n, "nanos of a second");
	m.n = v.n = ts.n = 0;
	w_str(&v, 1, "sha256:z");
	w_uint(&ts, 1, UINT64_C(253402300800));
	w_msg(&v, 5, &ts);
	w_msg(&m, 1, &v);
	refuse(t, m.b, m.n, "year 10000");
	m.n = 0;
	/* a valid vertex before the broken part is not applied either */
	w_vertex(&m, "sha256:y", "Y", 0, 10, false, NULL);
	memcpy(m.b + m.n, "\x0a\x80", 2);
	m.n += 2;
	refuse(t, m.b, m.n, "valid then cut");
	m.n = 0;
	/* an unknown field, a known field with the wrong wire type: skipped */
	assert_int_equal(bktrace_feed(t, (const unsigned char *)"\x48\x01\x08\x05", 4), 0);
	assert_int_equal(bktrace_feed(t, NULL, 0), 0);
	fflush(o.f);
	assert_int_equal(o.n, before);
	refuse(t, NULL, BKTRACE_MAX_MESSAGE + 1, "over the bound");
	bktrace_free(t);
	text = close_out(&o);
	free(text);
}

static void test_hostile_base64(void **state)
{
	struct out o;
	struct bktrace *t = open_trace(&o, BKTRACE_PLAIN, 0);
	static const char *const bad[] = {
		"A",	    "AA",    "AAA",  "A===", "====",	  "AA=A", "AA==AAAA",
		"AAA=AAAA", "AA\nA", "AA A", "AA-_", "AAAA\0AAA", "=AAA",
	};
	static const size_t badn[] = {1, 2, 3, 4, 4, 4, 8, 8, 4, 4, 4, 8, 4};
	char *text;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = bktrace_feed_base64(t, bad[i], badn[i]);
		if (rc != -EBADMSG)
			fprintf(stderr, "# base64 %zu: %d\n", i, rc);
		assert_int_equal(rc, -EBADMSG);
	}
	/* "CAE=": field 1 as a varint (wrong wire type: skipped); "CgA=" an
	 * empty vertex; "Cg==" a length cut off */
	assert_int_equal(bktrace_feed_base64(t, "CAE=", 4), 0);
	assert_int_equal(bktrace_feed_base64(t, "CgA=", 4), 0);
	assert_int_equal(bktrace_feed_base64(t, "Cg==", 4), -EBADMSG);
	assert_int_equal(bktrace_feed_base64(t, "", 0), 0);
	bktrace_free(t);
	text = close_out(&o);
	assert_int_equal(o.n, 0);
	free(text);
}

static int render_main(const char *path, const char *how)
{
	size_t n;
	char *s = slurp(path, &n);
	struct bktrace *t;

	if (!s) {
		perror(path);
		return 1;
	}
	t = bktrace_new(stdout, strncmp(how, "tty", 3) ? BKTRACE_PLAIN : BKTRACE_TTY);
	if (!strcmp(how, "plain"))
		bktrace_set_interval(t, -1);
	else if (strcmp(how, "paced") && strcmp(how, "tty-paced"))
		bktrace_set_interval(t, 0);
	feed_stream(t, s);
	bktrace_finish(t);
	bktrace_free(t);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vec_ok),
		cmocka_unit_test(test_vec_cached),
		cmocka_unit_test(test_vec_copy_fail),
		cmocka_unit_test(test_vec_syntax),
		cmocka_unit_test(test_logs_statuses_warnings),
		cmocka_unit_test(test_switch_cached_canceled),
		cmocka_unit_test(test_progress_group),
		cmocka_unit_test(test_tty_and_quiet),
		cmocka_unit_test(test_hostile_protobuf),
		cmocka_unit_test(test_hostile_base64),
	};

	if (argc >= 3 && !strcmp(argv[1], "--render"))
		return render_main(argv[2], argc > 3 ? argv[3] : "plain");
	if (argc == 3 && !strcmp(argv[1], "--live")) {
		live = true;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: test_bktrace [--live] VECTOR_DIR\n");
		return 2;
	}
	vecdir = argv[1];
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
