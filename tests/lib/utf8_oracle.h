/*
 * utf8_oracle.h - the tests' own UTF-8 check, written apart from the
 * sanitizer's decoder so that a bug there cannot hide itself: it walks
 * the table of well-formed byte sequences (RFC 3629, section 4) by byte
 * ranges instead of decoding a value and testing its limits.
 */
#ifndef REWORD_TEST_UTF8_ORACLE_H
#define REWORD_TEST_UTF8_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at s (n bytes), 0 if none;
   *cp its code point. */
static inline size_t utf8_oracle_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    /* lead byte range, then the allowed range of the second byte; later
       bytes are always 80..BF */
    static const struct { unsigned char lo, hi, len, b2lo, b2hi; } rows[] = {
        { 0x00, 0x7f, 1, 0, 0 },       { 0xc2, 0xdf, 2, 0x80, 0xbf },
        { 0xe0, 0xe0, 3, 0xa0, 0xbf }, { 0xe1, 0xec, 3, 0x80, 0xbf },
        { 0xed, 0xed, 3, 0x80, 0x9f }, { 0xee, 0xef, 3, 0x80, 0xbf },
        { 0xf0, 0xf0, 4, 0x90, 0xbf }, { 0xf1, 0xf3, 4, 0x80, 0xbf },
        { 0xf4, 0xf4, 4, 0x80, 0x8f },
    };
    if (n == 0)
        return 0;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        if (s[0] < rows[r].lo || s[0] > rows[r].hi)
            continue;
        size_t len = rows[r].len;
        if (len > n)
            return 0;
        if (len > 1 && (s[1] < rows[r].b2lo || s[1] > rows[r].b2hi))
            return 0;
        for (size_t i = 2; i < len; i++)
            if (s[i] < 0x80 || s[i] > 0xbf)
                return 0;
        static const unsigned char lead_bits[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
        uint32_t v = s[0] & lead_bits[len];
        for (size_t i = 1; i < len; i++)
            v = v << 6 | (s[i] & 0x3f);
        *cp = v;
        return len;
    }
    return 0;
}

/* 1 when the NUL-terminated s is well-formed UTF-8. */
static inline int utf8_oracle_valid(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    while (u[n])
        n++;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_oracle_seq(u + i, n - i, &cp);
        if (l == 0)
            return 0;
        i += l;
    }
    return 1;
}

#endif
