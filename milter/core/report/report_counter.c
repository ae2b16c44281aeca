/*
 * report_counter.c - the counter tables of the rejection report (see
 * report.h): string key -> counts per input kind and class, open
 * addressing with linear probing.  Keys are stored sanitized (valid UTF-8,
 * no control characters, at most KEY_MAX bytes) so every output format can
 * print them after escaping only its own special characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "report.h"

#define KEY_MAX 240

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

size_t report_sanitize(char *dst, size_t cap, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t l = s[i] < 0x20 || s[i] == 0x7f ? 0 : sanitize_utf8_seq(s + i, len - i, &cp);
        if (o + (l ? l : 1) + 1 > cap)
            break;
        if (l == 0) {
            dst[o++] = '?';
            i++;
        } else {
            memcpy(dst + o, s + i, l);
            o += l;
            i += l;
        }
    }
    dst[o] = '\0';
    return o;
}

/* The sanitized form of key: key itself when it is already clean, else
   written into buf (KEY_MAX + 1 bytes). */
static const char *sanitize_key(const char *key, char *buf)
{
    const unsigned char *s = (const unsigned char *)key;
    size_t n = strlen(key);
    int clean = n <= KEY_MAX;
    for (size_t i = 0; clean && i < n; i++)
        clean = s[i] >= 0x20 && s[i] < 0x7f;
    if (clean)
        return key;
    report_sanitize(buf, KEY_MAX + 1, key, n);
    return buf;
}

static int counter_grow(struct counter *c)
{
    size_t cap = c->cap ? c->cap * 2 : 32;
    struct counter_entry *v = calloc(cap, sizeof *v);
    if (v == NULL) {
        c->oom = 1;
        return -1;
    }
    for (size_t i = 0; i < c->cap; i++) {
        if (c->v[i].key == NULL)
            continue;
        size_t j = hash_str(c->v[i].key) & (cap - 1);
        while (v[j].key)
            j = (j + 1) & (cap - 1);
        v[j] = c->v[i];
    }
    free(c->v);
    c->v = v;
    c->cap = cap;
    return 0;
}

static size_t slot_of(const struct counter *c, const char *key)
{
    size_t j = hash_str(key) & (c->cap - 1);
    while (c->v[j].key && strcmp(c->v[j].key, key) != 0)
        j = (j + 1) & (c->cap - 1);
    return j;
}

struct counter_entry *report_counter_add(struct counter *c, const char *key, int kind, int temp,
                                         unsigned long n)
{
    char buf[KEY_MAX + 1];
    if (key == NULL)
        return NULL;
    key = sanitize_key(key, buf);
    if ((c->n + 1) * 4 >= c->cap * 3 && counter_grow(c) < 0)
        return NULL;
    size_t j = slot_of(c, key);
    struct counter_entry *e = &c->v[j];
    if (e->key == NULL) {
        if ((e->key = strdup(key)) == NULL) {
            c->oom = 1;
            return NULL;
        }
        c->n++;
    }
    if (kind >= 0 && kind < REPORT_KINDS)
        e->n[kind][temp ? 1 : 0] += n;
    return e;
}

const struct counter_entry *report_counter_find(const struct counter *c, const char *key)
{
    char buf[KEY_MAX + 1];
    if (c->cap == 0 || key == NULL)
        return NULL;
    key = sanitize_key(key, buf);
    const struct counter_entry *e = &c->v[slot_of(c, key)];
    return e->key ? e : NULL;
}

unsigned long report_counter_entry_sum(const struct counter_entry *e, int kind, int temp)
{
    unsigned long s = 0;
    if (e == NULL)
        return 0;
    for (int k = 0; k < REPORT_KINDS; k++)
        for (int t = 0; t < 2; t++)
            if ((kind < 0 || kind == k) && (temp < 0 || temp == t))
                s += e->n[k][t];
    return s;
}

static int cmp_count(const void *a, const void *b)
{
    const struct counter_entry *x = *(const struct counter_entry *const *)a;
    const struct counter_entry *y = *(const struct counter_entry *const *)b;
    unsigned long cx = report_counter_entry_sum(x, -1, -1),
                  cy = report_counter_entry_sum(y, -1, -1);
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return strcmp(x->key, y->key);
}

static int cmp_key(const void *a, const void *b)
{
    const struct counter_entry *x = *(const struct counter_entry *const *)a;
    const struct counter_entry *y = *(const struct counter_entry *const *)b;
    return strcmp(x->key, y->key);
}

const struct counter_entry **report_counter_sorted(const struct counter *c, int by_key)
{
    if (c->n == 0)
        return NULL;
    const struct counter_entry **idx = malloc(c->n * sizeof *idx);
    if (idx == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->v[i].key)
            idx[k++] = &c->v[i];
    qsort(idx, k, sizeof *idx, by_key ? cmp_key : cmp_count);
    return idx;
}

void report_counter_free(struct counter *c)
{
    for (size_t i = 0; i < c->cap; i++) {
        free(c->v[i].key);
        free(c->v[i].label);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}
