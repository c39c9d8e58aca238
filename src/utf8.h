/* utf8.h: decoding exactly as Go's utf8.DecodeRune does it.
 *
 * Docker matches patterns with Go, so every byte string is read as Go reads
 * it: a valid UTF-8 sequence is one rune, anything else is U+FFFD consuming
 * one byte. */
#ifndef CTXPACK_UTF8_H
#define CTXPACK_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_RUNE_ERROR 0xFFFDu
#define UTF8_MAX_RUNE 0x10FFFFu

/* Decodes the rune at s[0..len) (len > 0) into *r and returns the number of
 * bytes it takes (1..4).  Invalid input yields UTF8_RUNE_ERROR and 1. */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *r);

/* Encodes r into out (at least 4 bytes) and returns the length.  Runes that
 * Go cannot encode (surrogates, > U+10FFFF) are written as U+FFFD. */
size_t utf8_encode(uint32_t r, char *out);

/* Go's unicode.IsSpace. */
int utf8_is_space(uint32_t r);

#endif
