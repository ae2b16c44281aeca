/*
 * strbuf.c - growable string used by every writer of text in the core.
 * Memory: the strbuf owns s until sb_steal hands it to the caller.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void sb_init(struct strbuf *sb)
{
    sb->s = NULL;
    sb->len = sb->cap = 0;
    sb->oom = 0;
}

void sb_free(struct strbuf *sb)
{
    free(sb->s);
    sb_init(sb);
}

void sb_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->s)
        sb->s[0] = '\0';
}

static int sb_grow(struct strbuf *sb, size_t extra)
{
    if (sb->oom)
        return -1;
    if (extra > ((size_t)-1) / 4 - sb->len) {
        sb->oom = 1;
        return -1;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 0;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    char *s = realloc(sb->s, cap);
    if (s == NULL) {
        sb->oom = 1;
        return -1;
    }
    sb->s = s;
    sb->cap = cap;
    return 0;
}

void sb_putn(struct strbuf *sb, const char *s, size_t n)
{
    if (sb_grow(sb, n) < 0)
        return;
    memcpy(sb->s + sb->len, s, n);
    sb->len += n;
    sb->s[sb->len] = '\0';
}

void sb_putc(struct strbuf *sb, char c)
{
    sb_putn(sb, &c, 1);
}

void sb_puts(struct strbuf *sb, const char *s)
{
    sb_putn(sb, s, strlen(s));
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sb_grow(sb, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void sb_json_str(struct strbuf *sb, const char *s)
{
    if (s == NULL) {
        sb_puts(sb, "null");
        return;
    }
    sb_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sb_puts(sb, "\\\""); break;
        case '\\': sb_puts(sb, "\\\\"); break;
        case '\n': sb_puts(sb, "\\n"); break;
        case '\r': sb_puts(sb, "\\r"); break;
        case '\t': sb_puts(sb, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                sb_printf(sb, "\\u%04x", *p);
            else
                sb_putc(sb, (char)*p);
        }
    }
    sb_putc(sb, '"');
}

char *sb_steal(struct strbuf *sb)
{
    if (sb->oom) {
        sb_free(sb);
        return NULL;
    }
    char *s = sb->s ? sb->s : strdup("");
    sb_init(sb);
    return s;
}

const char *sb_str(const struct strbuf *sb)
{
    return sb->s ? sb->s : "";
}
