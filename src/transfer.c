/* transfer.c: see transfer.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "dockerfile.h"
#include "links.h"
#include "match.h"
#include "transfer.h"
#include "used.h"
#include "walk.h"

/* Go's os.FileMode bits (io/fs), as fsutil's Stat.Mode carries them. */
#define GO_MODE_DIR (1u << 31)
#define GO_MODE_SYMLINK (1u << 27)
#define GO_MODE_DEVICE (1u << 26)
#define GO_MODE_NAMED_PIPE (1u << 25)
#define GO_MODE_SETUID (1u << 23)
#define GO_MODE_SETGID (1u << 22)
#define GO_MODE_CHAR_DEVICE (1u << 21)
#define GO_MODE_STICKY (1u << 20)

/* fsutil's sender buffer (send.go bufPool): one DATA packet per read. */
#define DATA_CHUNK (32u * 1024)

static uint64_t varint_len(uint64_t v)
{
	uint64_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* A proto3 varint field (tag < 16: one byte), absent when zero. */
static uint64_t field_varint(uint64_t v)
{
	return v ? 1 + varint_len(v) : 0;
}

/* A proto3 length-delimited field, absent when empty. */
static uint64_t field_bytes(uint64_t len)
{
	return len ? 1 + varint_len(len) + len : 0;
}

/* uint32(fi.Mode()) as mkstat records it (the socket bit cleared). */
static uint32_t go_mode(const struct walk_entry *e)
{
	uint32_t m = e->mode & 0777;

	if (e->mode & 04000)
		m |= GO_MODE_SETUID;
	if (e->mode & 02000)
		m |= GO_MODE_SETGID;
	if (e->mode & 01000)
		m |= GO_MODE_STICKY;
	switch (e->type) {
	case WT_DIR:
		m |= GO_MODE_DIR;
		break;
	case WT_SYMLINK:
		m = GO_MODE_SYMLINK | 0777;
		break;
	case WT_FIFO:
		m |= GO_MODE_NAMED_PIPE;
		break;
	case WT_CHR:
		m |= GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE;
		break;
	case WT_BLK:
		m |= GO_MODE_DEVICE;
		break;
	default:
		break;
	}
	return m;
}

/* The STAT packet of e (linkname: the hard link's first name, or NULL). */
static uint64_t stat_packet(const struct walk_entry *e, const struct walk_entry *first)
{
	int64_t mtime = e->mtime_sec * 1000000000 + e->mtime_nsec;
	uint64_t size = 0, link = 0, st;

	if (e->type == WT_FILE)
		size = e->size;
	if (e->type == WT_SYMLINK && e->link)
		size = link = strlen(e->link);
	if (first)
		link = first->len;
	st = field_bytes(e->len) + field_varint(go_mode(e)) + field_varint(e->uid) +
	     field_varint(e->gid) + field_varint(size) + field_varint((uint64_t)mtime) +
	     field_bytes(link);
	if (e->type == WT_CHR || e->type == WT_BLK)
		st += field_varint(e->rdev_major) + field_varint(e->rdev_minor);
	return field_bytes(st); /* type PACKET_STAT (0) takes no byte */
}

/* The DATA packets of a file of size bytes with ID id, and the empty one
 * that ends it. */
static uint64_t data_packets(uint64_t size, uint64_t id)
{
	uint64_t head = 2 + field_varint(id), n = head; /* type PACKET_DATA (2) */

	for (uint64_t left = size; left;) {
		uint64_t c = left < DATA_CHUNK ? left : DATA_CHUNK;
		n += head + field_bytes(c);
		left -= c;
	}
	return n;
}

/* Is e below the directory d? */
static bool below(const struct walk_entry *d, const struct walk_entry *e)
{
	return e->len > d->len && e->path[d->len] == '/' && !memcmp(e->path, d->path, d->len);
}

/* Is e directly below the directory d? */
static bool below_dir(const struct walk_entry *d, const struct walk_entry *e)
{
	return e->len > d->len && e->path[d->len] == '/' && !memcmp(e->path, d->path, d->len) &&
	       !memchr(e->path + d->len + 1, '/', e->len - d->len - 1);
}

/* Matches the patterns pats[0..np) (.dockerignore syntax: fsutil's
 * patternmatcher) against res in walk order, each entry with its parent's
 * state (per-pattern parent results: a match takes what is below it).
 * With at == SIZE_MAX it marks USED_READ in rd for each entry matched;
 * else it only tells, in *link, whether an entry of at + 1 components the
 * patterns match is a symlink.  0, or -ENOMEM; a pattern the matcher
 * refuses matches nothing. */
static int scan(const char *const *pats, size_t np, const struct walk_result *res, uint8_t *rd,
		size_t at, bool *link)
{
	ctxpack_rules *r = NULL;
	ctxpack_match *m = NULL;
	ctxpack_mscratch *sc = NULL;
	ctxpack_mstate **st = NULL;
	const struct walk_entry **dir = NULL;
	size_t nst = 0, ast = 0, adir = 0;
	int rc = -ENOMEM;

	if (ctxpack_rules_new(&r))
		goto out;
	for (size_t i = 0; i < np; i++)
		if (ctxpack_rules_add_pattern(r, "Dockerfile", (int)i + 1, pats[i],
					      strlen(pats[i])))
			goto out;
	if (ctxpack_match_compile(&m, r, CTXPACK_BUILDER_BUILDKIT) || ctxpack_mscratch_new(&sc, m))
		goto out;
	for (size_t i = 0; i < res->n; i++) {
		const struct walk_entry *e = res->v[i];
		const char *slash = memrchr(e->path, '/', e->len);
		size_t off = slash ? (size_t)(slash - e->path) + 1 : 0, depth = 0;
		struct ctxpack_decision d;
		for (size_t k = 0; k < e->len; k++)
			depth += e->path[k] == '/';
		while (nst <= depth + 1) {
			if (GROW(st, ast, nst + 1) || GROW(dir, adir, nst + 1) ||
			    ctxpack_mstate_new(&st[nst], m))
				goto out;
			if (nst == 0)
				ctxpack_match_root(m, st[0]);
			dir[nst++] = NULL;
		}
		/* only an entry whose parent's state is at hand (walk order) */
		if (depth && !(dir[depth] && below_dir(dir[depth], e)))
			continue;
		if (ctxpack_match_entry(m, sc, st[depth], e->path, e->len, off,
					e->type == WT_DIR ? st[depth + 1] : NULL, &d) < 0)
			continue;
		if (e->type == WT_DIR)
			dir[depth + 1] = e;
		/* nothing below can match: its entries (next in walk order)
		 * are passed over */
		if (e->type == WT_DIR && d.verdict != CTXPACK_EXCLUDE &&
		    match_state_settled(m, st[depth + 1]))
			while (i + 1 < res->n && below(e, res->v[i + 1]))
				i++;
		if (d.verdict != CTXPACK_EXCLUDE)
			continue;
		if (at == SIZE_MAX)
			rd[i] |= USED_READ;
		else if (depth == at && e->type == WT_SYMLINK)
			*link = true;
	}
	rc = 0;
out:
	for (size_t i = 0; i < nst; i++)
		ctxpack_mstate_free(&st[i]);
	free(st);
	free(dir);
	ctxpack_mscratch_free(&sc);
	ctxpack_match_free(&m);
	ctxpack_rules_free(&r);
	return rc;
}

static bool has_wildcard(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return true;
	return false;
}

/* fsutil's include patterns for the wildcard sources (filter.go
 * NewFilterFS over FollowLinks): each source's path, except where a
 * wildcard component before its last matches a symlink: FollowLinks
 * (symlinkResolver.append) then keeps the path up to that component, a
 * pattern that takes everything it matches ("**" with a symlink at the
 * root: the whole context).  The paths are .dockerignore patterns there
 * ('**' crosses directories, which a COPY source's '**' does not).  Marks
 * USED_READ in rd for what they match.  0 or -ENOMEM. */
static int include_wildcards(const struct used *u, uint8_t *rd)
{
	char **pats = calloc(u->n ? u->n : 1, sizeof(*pats));
	size_t np = 0;
	int rc = pats ? 0 : -ENOMEM;

	for (size_t i = 0; i < u->n && !rc; i++) {
		const char *p = u->v[i].path;
		size_t len = strlen(p);
		char *pat = NULL;
		if (!u->v[i].wildcard)
			continue;
		/* components before the last: a wildcard one matching a symlink */
		for (size_t a = 0, comp = 0; a < len && !pat && !rc; comp++) {
			const char *sl = memchr(p + a, '/', len - a);
			size_t b = sl ? (size_t)(sl - p) : len;
			bool link = false;
			if (b == len)
				break;
			if (has_wildcard(p + a, b - a)) {
				char *pre = strndup(p, b);
				const char *one[1] = {pre};
				rc = pre ? scan(one, 1, u->res, NULL, comp, &link) : -ENOMEM;
				if (!rc && link)
					pat = pre;
				else
					free(pre);
			}
			a = b + 1;
		}
		if (!rc && !pat && !(pat = strdup(p)))
			rc = -ENOMEM;
		if (pat)
			pats[np++] = pat;
	}
	if (!rc && np)
		rc = scan((const char *const *)pats, np, u->res, rd, SIZE_MAX, NULL);
	for (size_t i = 0; i < np; i++)
		free(pats[i]);
	free(pats);
	return rc;
}

int transfer_compute(struct transfer *out, uint8_t *sent, const struct used *u)
{
	const struct walk_result *res = u->res;
	size_t n = res->n;
	uint8_t *rd = NULL;
	struct links seen = {0};
	uint64_t id = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (u->builder != CTXPACK_BUILDER_BUILDKIT)
		return -EINVAL;
	out->none = u->n == 0;
	for (size_t i = 0; i < u->n; i++)
		out->whole |= u->v[i].path[0] == '\0';
	if (out->none)
		return 0;
	rd = calloc(n ? n : 1, 1);
	if (!rd)
		return -ENOMEM;
	if (!out->whole) {
		used_reads(u, rd);
		rc = include_wildcards(u, rd);
		if (!rc)
			rc = walk_mark_parents(res, rd, USED_READ);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		const struct walk_entry *e = res->v[i];
		const struct walk_entry *first = NULL;
		long f;
		/* the Dockerfile the rules exclude goes apart ("transferring
		 * dockerfile"), not in the context's transfer */
		if (!e->sent || e->forced || (!out->whole && !rd[i]))
			continue;
		f = links_first(&seen, e, CTXPACK_BUILDER_BUILDKIT, i);
		if (f < 0) {
			rc = -ENOMEM;
			break;
		}
		if (f)
			first = res->v[f - 1];
		if (sent)
			sent[i] |= TRANSFER_SENT;
		out->entries++;
		out->bytes += stat_packet(e, first);
		if (e->type == WT_FILE && !first) {
			out->files++;
			out->data_bytes += e->size;
			out->bytes += data_packets(e->size, id);
		}
		id++;
	}
	out->bytes += 2; /* PACKET_FIN */
	links_free(&seen);
	free(rd);
	return rc;
}
