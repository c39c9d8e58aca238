/* jsonstr.c: JSON strings that carry arbitrary bytes (see jsonstr.h). */
#include <stdint.h>

#include "jsonstr.h"
#include "utf8.h"

void json_string(FILE *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	fputc('"', out);
	while (i < len) {
		uint32_t r;
		size_t w = utf8_decode(u + i, len - i, &r);
		if (r == UTF8_RUNE_ERROR && w == 1) {
			fprintf(out, "\\udc%02x", u[i]);
		} else if (r == '"' || r == '\\') {
			fputc('\\', out);
			fputc((int)r, out);
		} else if (r < 0x20 || r == 0x7f) {
			fprintf(out, "\\u%04x", r);
		} else {
			fwrite(u + i, 1, w, out);
		}
		i += w;
	}
	fputc('"', out);
}
