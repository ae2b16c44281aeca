/*
 * strbuf.h - a growable byte string for building output (JSON lines, audit
 * records, expanded templates).  Allocation failure is sticky: once `oom` is
 * set every later append is a no-op, so callers check once at the end.
 */
#ifndef REWORD_STRBUF_H
#define REWORD_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *s; /* always NUL-terminated when non-NULL */
    size_t len, cap;
    int oom;
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_putc(struct strbuf *sb, char c);
void sb_putn(struct strbuf *sb, const char *s, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal with quotes; NULL appends null. */
void sb_json_str(struct strbuf *sb, const char *s);
/* Returns the string and leaves sb empty (caller frees), NULL on oom. */
char *sb_steal(struct strbuf *sb);
/* "" for an empty buffer, never NULL. */
const char *sb_str(const struct strbuf *sb);

#endif
