/*
 * taxonomy.c - lookups in the SMTP code taxonomy (see taxonomy.h): find an
 * enhanced code, basic code, class or subject; tell how the IANA registry
 * pairs a basic code with an enhanced code; describe a registry list for
 * people; give the highest registered detail of a subject.
 *
 * The tables themselves are generated from conf/taxonomy/ into
 * build/gen/taxonomy_data.c (tools/gen-taxonomy.awk), which also defines the
 * tax_*_count / tax_*_at accessors used here.  They are small (81 enhanced
 * codes), so every lookup is a linear scan.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "taxonomy.h"

const struct tax_enhanced *tax_enhanced_find(int subject, int detail)
{
    size_t n = tax_enhanced_count();
    for (size_t i = 0; i < n; i++) {
        const struct tax_enhanced *e = tax_enhanced_at(i);
        if (e->subject == subject && e->detail == detail)
            return e;
    }
    return NULL;
}

const struct tax_basic *tax_basic_find(int code)
{
    size_t n = tax_basic_count();
    for (size_t i = 0; i < n; i++) {
        const struct tax_basic *b = tax_basic_at(i);
        if (b->code == code)
            return b;
    }
    return NULL;
}

static const struct tax_group *group_find(size_t n, const struct tax_group *(*at)(size_t),
                                          int number)
{
    for (size_t i = 0; i < n; i++) {
        const struct tax_group *g = at(i);
        if (g->number == number)
            return g;
    }
    return NULL;
}

const struct tax_group *tax_class_find(int cls)
{
    return group_find(tax_class_count(), tax_class_at, cls);
}

const struct tax_group *tax_subject_find(int subject)
{
    return group_find(tax_subject_count(), tax_subject_at, subject);
}

/*
 * Walks the ";"-separated assoc list: sets *tok and *len to the next item
 * (surrounding blanks trimmed) and returns the position after it, or NULL
 * at the end.  Empty items are skipped.
 */
static const char *next_item(const char *p, const char **tok, size_t *len)
{
    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, ";");
        const char *s = p, *e = p + n;
        p = *e == ';' ? e + 1 : e;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s) {
            *tok = s;
            *len = (size_t)(e - s);
            return p;
        }
    }
    return NULL;
}

static int is_any(const char *tok, size_t len)
{
    return len == 3 && strncasecmp(tok, "Any", 3) == 0;
}

/* Does one registry item ("550", "4XX", "Any") cover basic_code? */
static int item_matches(const char *tok, size_t len, int basic_code)
{
    if (is_any(tok, len))
        return 1;
    if (len != 3 || tok[0] < '0' || tok[0] > '9')
        return 0;
    if ((tok[1] == 'X' || tok[1] == 'x') && (tok[2] == 'X' || tok[2] == 'x'))
        return basic_code / 100 == tok[0] - '0';
    if (tok[1] < '0' || tok[1] > '9' || tok[2] < '0' || tok[2] > '9')
        return 0;
    return basic_code == (tok[0] - '0') * 100 + (tok[1] - '0') * 10 + (tok[2] - '0');
}

enum tax_pairing tax_pairing(const struct tax_enhanced *e, int basic_code)
{
    if (e == NULL || e->assoc == NULL)
        return TAX_PAIR_UNSPECIFIED;
    const char *p = e->assoc, *tok;
    size_t len;
    int any_item = 0;
    while ((p = next_item(p, &tok, &len)) != NULL) {
        any_item = 1;
        if (item_matches(tok, len, basic_code))
            return TAX_PAIR_LISTED;
    }
    return any_item ? TAX_PAIR_UNUSUAL : TAX_PAIR_UNSPECIFIED;
}

/* Appends s (n bytes) to buf, always NUL-terminated, truncating if needed. */
static void append(char *buf, size_t size, size_t *used, const char *s, size_t n)
{
    if (*used + 1 >= size)
        return;
    size_t room = size - 1 - *used;
    if (n > room)
        n = room;
    memcpy(buf + *used, s, n);
    *used += n;
    buf[*used] = '\0';
}

void tax_assoc_describe(const struct tax_enhanced *e, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return;
    buf[0] = '\0';
    size_t used = 0;
    const char *p = e ? e->assoc : NULL, *tok;
    size_t n;
    int count = 0;
    while ((p = next_item(p, &tok, &n)) != NULL) {
        if (count++)
            append(buf, len, &used, ", ", 2);
        if (is_any(tok, n))
            append(buf, len, &used, "any code", 8);
        else
            append(buf, len, &used, tok, n);
    }
    if (count == 0)
        append(buf, len, &used, "none given", 10);
}

int tax_max_detail(int subject)
{
    int max = -1;
    size_t n = tax_enhanced_count();
    for (size_t i = 0; i < n; i++) {
        const struct tax_enhanced *e = tax_enhanced_at(i);
        if (e->subject == subject && e->detail > max)
            max = e->detail;
    }
    return max;
}
