/* links.c: which members go into the tar as hard links (see links.h). */
#include <stdbool.h>
#include <stdlib.h>

#include "links.h"

static size_t inode_hash(uint64_t dev, uint64_t ino)
{
	uint64_t k = ino * 0x9E3779B97F4A7C15ull ^ dev * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(k ^ (k >> 31));
}

/* Returns the stored index + 1 for (dev, ino), or stores idx and returns 0;
 * -1 when out of memory. */
static long inode_seen(struct links *m, uint64_t dev, uint64_t ino, size_t idx)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct links nm = { calloc(m->cap ? m->cap * 2 : 256, sizeof(struct links_slot)),
				    m->cap ? m->cap * 2 : 256, 0 };
		if (!nm.v)
			return -1;
		for (i = 0; i < m->cap; i++)
			if (m->v[i].idx)
				inode_seen(&nm, m->v[i].dev, m->v[i].ino, m->v[i].idx - 1);
		free(m->v);
		*m = nm;
	}
	for (i = inode_hash(dev, ino) & (m->cap - 1); m->v[i].idx; i = (i + 1) & (m->cap - 1))
		if (m->v[i].dev == dev && m->v[i].ino == ino)
			return (long)m->v[i].idx;
	m->v[i] = (struct links_slot){ dev, ino, idx + 1 };
	m->n++;
	return 0;
}

static bool hardlinkable(const struct walk_entry *e, enum ctxpack_builder b)
{
	if (e->type == WT_DIR || e->nlink < 2)
		return false;
	/* go-archive links every non-directory; BuildKit sends a hard link to
	 * a symlink as a second symlink. */
	return b == CTXPACK_BUILDER_CLASSIC || e->type != WT_SYMLINK;
}

long links_first(struct links *m, const struct walk_entry *e, enum ctxpack_builder b, size_t idx)
{
	return hardlinkable(e, b) ? inode_seen(m, e->dev, e->ino, idx) : 0;
}

void links_free(struct links *m)
{
	free(m->v);
	m->v = NULL;
	m->cap = m->n = 0;
}
