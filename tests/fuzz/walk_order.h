/* walk_order.h: the walk's order of two paths, for the fuzz targets that
 * lay out trees: per directory bytewise, '/' before every byte. */
#ifndef CTXPACK_FUZZ_WALK_ORDER_H
#define CTXPACK_FUZZ_WALK_ORDER_H

#include <stddef.h>

static inline int walk_order(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;

	for (size_t i = 0; i < n; i++) {
		unsigned char ca = a[i] == '/' ? 0 : (unsigned char)a[i];
		unsigned char cb = b[i] == '/' ? 0 : (unsigned char)b[i];
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return an < bn ? -1 : an > bn;
}

#endif
