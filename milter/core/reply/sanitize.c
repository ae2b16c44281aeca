/*
 * sanitize.c - makes text safe to put in an SMTP reply handed to libmilter:
 * sanitize_text cleans one untrusted string (an address, a HELO name, a
 * rule's expanded text), sanitize_reply makes a whole struct reply fit
 * libmilter's limits, sanitize_milter_lines doubles "%" at the edge.
 *
 * Guarantee (tested with hostile input): after sanitize_reply and
 * sanitize_milter_lines there are 1 to REPLY_MAX_LINES lines, each at most
 * REPLY_MAX_LINE_LEN bytes, valid UTF-8, and free of CR, LF and other
 * control characters.
 *
 * Byte rules of sanitize_text: ASCII control characters (0x00-0x1f, 0x7f:
 * CR, LF, TAB, ...) and the C1 controls U+0080-U+009F become one space each;
 * every byte that is not part of a valid UTF-8 sequence (stray continuation
 * bytes, overlong forms, surrogates, code points above U+10FFFF, truncated
 * sequences) becomes "?".  The output is never longer than the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "util/strvec.h"

/* ---- UTF-8 ---- */

/* See reply.h; shared with the report's text cleaning. */
size_t sanitize_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Length of the character starting at s[i] in already clean text (1 at worst). */
static size_t char_len(const char *s, size_t n, size_t i)
{
    /* s holds n bytes (callers pass strlen); the analyzer cannot see it */
    if (i >= n
        || (unsigned char)s[i] < 0x80) // NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult)
        return 1;
    uint32_t cp;
    size_t l = sanitize_utf8_seq((const unsigned char *)s + i, n - i, &cp);
    return l ? l : 1;
}

char *sanitize_text(const char *in, size_t maxlen)
{
    if (in == NULL)
        in = "";
    size_t n = strlen(in);
    size_t cap = n < maxlen ? n : maxlen;
    char *out = malloc(cap + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    for (size_t i = 0; i < n && o < cap;) {
        /* printable ASCII, the common case, is copied as it is */
        if (s[i] >= 0x20 && s[i] < 0x7f) {
            out[o++] = (char)s[i++];
            continue;
        }
        uint32_t cp;
        size_t l = sanitize_utf8_seq(s + i, n - i, &cp);
        if (l == 0) {
            out[o++] = '?';
            i++;
        } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            out[o++] = ' ';
            i += l;
        } else if (o + l <= cap) {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
        } else {
            break; /* the character does not fit whole */
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- sanitize_reply ---- */

/* See reply.h. */
size_t sanitize_escaped_len(const char *s, size_t n)
{
    size_t e = 0;
    for (size_t i = 0; i < n; i++)
        e += s[i] == '%' ? 2 : 1;
    return e;
}

/*
 * End of the longest prefix of s[pos..n) whose escaped form fits in limit
 * bytes, on a character boundary; always at least one character past pos.
 */
static size_t fit_end(const char *s, size_t n, size_t pos, size_t limit)
{
    size_t e = pos, used = 0;
    while (e < n) {
        size_t l = char_len(s, n, e);
        size_t w = sanitize_escaped_len(s + e, l);
        if (used + w > limit && e > pos)
            break;
        used += w;
        e += l;
    }
    return e;
}

/*
 * Splits clean text s into pieces of at most REPLY_MAX_LINE_LEN escaped
 * bytes: at the last space before the limit (that space is dropped), else
 * hard at a character boundary.  Stops once more than `room` pieces exist,
 * since those are dropped anyway.
 */
static void split_line(const char *s, struct strvec *out, size_t room)
{
    size_t n = strlen(s), pos = 0;
    if (n == 0) {
        strvec_pushn(out, "", 0);
        return;
    }
    if (sanitize_escaped_len(s, n) <= REPLY_MAX_LINE_LEN) {
        strvec_pushn(out, s, n); /* fits whole: no split to look for */
        return;
    }
    while (pos < n && out->n <= room && !out->oom) {
        size_t e = fit_end(s, n, pos, REPLY_MAX_LINE_LEN);
        if (e >= n) {
            strvec_pushn(out, s + pos, n - pos);
            return;
        }
        size_t k = e; /* a space at e itself lies just past the fitting part */
        while (k > pos && s[k] != ' ')
            k--;
        if (k > pos) {
            strvec_pushn(out, s + pos, k - pos);
            pos = k + 1;
        } else {
            strvec_pushn(out, s + pos, e - pos);
            pos = e;
        }
    }
}

/* Makes the last kept line end with "..." within the length limit. */
static int mark_truncated(struct strvec *lv)
{
    char *last = lv->v[lv->n - 1];
    size_t n = strlen(last), keep = 0, used = 0;
    while (keep < n) {
        size_t l = char_len(last, n, keep);
        size_t w = sanitize_escaped_len(last + keep, l);
        if (used + w + 3 > REPLY_MAX_LINE_LEN)
            break;
        used += w;
        keep += l;
    }
    char *t = malloc(keep + 4);
    if (t == NULL)
        return -1;
    memcpy(t, last, keep);
    memcpy(t + keep, "...", 4);
    free(last);
    lv->v[lv->n - 1] = t;
    return 0;
}

/* 1 when s is printable ASCII only and fits one line escaped: what
   sanitizing and splitting would leave unchanged. */
static int line_is_clean(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f)
            return 0;
    return sanitize_escaped_len(s, n) <= REPLY_MAX_LINE_LEN;
}

int sanitize_reply(struct reply *r)
{
    if (r == NULL)
        return -1;
    size_t n = r->lines ? r->nlines : 0, clean = 0;
    while (clean < n && r->lines[clean] && line_is_clean(r->lines[clean]))
        clean++;
    if (n > 0 && clean == n && n <= REPLY_MAX_LINES)
        return 0; /* nothing to change: the common case */
    struct strvec lv = {0};
    int dropped = 0;
    for (size_t i = 0; i < n && !lv.oom; i++) {
        if (lv.n >= REPLY_MAX_LINES) {
            dropped = 1;
            break;
        }
        char *clean = sanitize_text(r->lines[i] ? r->lines[i] : "", (size_t)-1);
        if (clean == NULL) {
            lv.oom = 1;
            break;
        }
        split_line(clean, &lv, REPLY_MAX_LINES);
        free(clean);
    }
    if (lv.n == 0 && !lv.oom)
        strvec_pushn(&lv, "", 0);
    if (lv.n > REPLY_MAX_LINES) {
        for (size_t i = REPLY_MAX_LINES; i < lv.n; i++)
            free(lv.v[i]);
        lv.n = REPLY_MAX_LINES;
        dropped = 1;
    }
    if (lv.oom || (dropped && mark_truncated(&lv) < 0)) {
        strvec_free(&lv);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        free(r->lines[i]);
    free(r->lines);
    r->lines = lv.v;
    r->nlines = lv.n;
    return 0;
}

/* ---- libmilter's view ---- */

void sanitize_free_lines(char **lines)
{
    if (lines == NULL)
        return;
    for (char **p = lines; *p; p++)
        free(*p);
    free(lines);
}

/* s with every "%" doubled, malloc'd. */
static char *escape_percent(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(sanitize_escaped_len(s, n) + 1), *p = o;
    if (o == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        *p++ = s[i];
        if (s[i] == '%')
            *p++ = '%';
    }
    *p = '\0';
    return o;
}

char **sanitize_milter_lines(const struct reply *r)
{
    if (r == NULL)
        return NULL;
    size_t n = r->lines ? r->nlines : 0;
    if (n >= SIZE_MAX / sizeof(char *))
        return NULL;
    char **v = calloc(n + 1, sizeof *v);
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        v[i] = escape_percent(r->lines[i] ? r->lines[i] : "");
        if (v[i] == NULL) {
            sanitize_free_lines(v);
            return NULL;
        }
    }
    return v;
}
