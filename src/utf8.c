/* utf8.c: Go-compatible UTF-8 decoding (see utf8.h). */
#include "utf8.h"

size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *r)
{
	unsigned char b0 = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;
	uint32_t v;

	if (b0 < 0x80) {
		*r = b0;
		return 1;
	}
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		n = 2;
		v = b0 & 0x1F;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		n = 3;
		v = b0 & 0x0F;
		if (b0 == 0xE0)
			lo = 0xA0;
		else if (b0 == 0xED)
			hi = 0x9F;
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		n = 4;
		v = b0 & 0x07;
		if (b0 == 0xF0)
			lo = 0x90;
		else if (b0 == 0xF4)
			hi = 0x8F;
	} else {
		goto bad;
	}
	if (len < n)
		goto bad;
	/* Only the second byte has a narrowed range; the rest are 80..BF. */
	if (s[1] < lo || s[1] > hi)
		goto bad;
	v = (v << 6) | (s[1] & 0x3F);
	for (size_t i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			goto bad;
		v = (v << 6) | (s[i] & 0x3F);
	}
	*r = v;
	return n;
bad:
	*r = UTF8_RUNE_ERROR;
	return 1;
}

size_t utf8_encode(uint32_t r, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (r > UTF8_MAX_RUNE || (r >= 0xD800 && r <= 0xDFFF))
		r = UTF8_RUNE_ERROR;
	if (r < 0x80) {
		o[0] = (unsigned char)r;
		return 1;
	}
	if (r < 0x800) {
		o[0] = (unsigned char)(0xC0 | (r >> 6));
		o[1] = (unsigned char)(0x80 | (r & 0x3F));
		return 2;
	}
	if (r < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (r >> 12));
		o[1] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (r & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (r >> 18));
	o[1] = (unsigned char)(0x80 | ((r >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (r & 0x3F));
	return 4;
}

int utf8_is_space(uint32_t r)
{
	if (r <= 0xFF) {
		switch (r) {
		case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
		case 0x85: case 0xA0:
			return 1;
		}
		return 0;
	}
	/* The White_Space property outside Latin-1. */
	return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 ||
	       r == 0x202F || r == 0x205F || r == 0x3000;
}
