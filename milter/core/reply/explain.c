/*
 * explain.c - words for a reply: registry meanings and the friendly
 * explanation shown by `reword explain`, used as %{explanation} in
 * templates and as the text of replies whose rule gives none.
 *
 * Why the split by class: for 2xx/3xx the basic code says it all ("221" is
 * the normal goodbye); for 4xx/5xx the enhanced code names the problem and
 * the class tells whether waiting can help, so both are said.
 */
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "strbuf.h"
#include "taxonomy.h"

const char *explain_basic_meaning(int code)
{
    const struct tax_basic *b = tax_basic_find(code);
    return b ? b->meaning : "";
}

static const struct tax_enhanced *registered(const struct reply *r)
{
    if (r == NULL || !r->has_enhanced)
        return NULL;
    return tax_enhanced_find(r->esubject, r->edetail);
}

const char *explain_enhanced_meaning(const struct reply *r)
{
    const struct tax_enhanced *e = registered(r);
    return e ? e->sample_text : "";
}

/* Class of the reply: the basic code's first digit, else the enhanced class. */
static int reply_class(const struct reply *r)
{
    if (r->code >= 200 && r->code <= 599)
        return r->code / 100;
    if (r->has_enhanced)
        return r->eclass;
    return 0;
}

static void put_sentence(struct strbuf *sb, const char *s)
{
    if (s == NULL || *s == '\0')
        return;
    if (sb->len > 0)
        sb_putc(sb, ' ');
    sb_puts(sb, s);
}

char *explain_reply(const struct reply *r)
{
    struct strbuf sb;
    sb_init(&sb);
    int cls = reply_class(r);
    const struct tax_basic *b = tax_basic_find(r->code);
    const struct tax_enhanced *e = registered(r);
    const struct tax_group *g = tax_class_find(cls);
    int specific = e != NULL && !(e->subject == 0 && e->detail == 0);

    if (cls == 2 || cls == 3) {
        put_sentence(&sb, b ? b->explanation : NULL);
        if (specific || b == NULL)
            put_sentence(&sb, e ? e->explanation : NULL);
        if (sb.len == 0 && g)
            put_sentence(&sb, g->explanation);
    } else {
        if (specific || (b == NULL && e != NULL))
            put_sentence(&sb, e->explanation);
        else if (b)
            put_sentence(&sb, b->explanation);
        if (g)
            put_sentence(&sb, g->explanation);
    }
    if (sb.len == 0)
        sb_puts(&sb, "This reply carries no code milter-reword knows, so its meaning "
                     "depends on the text alone.");
    return sb_steal(&sb);
}
