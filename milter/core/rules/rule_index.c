/*
 * rule_index.c - candidate lists for engine_eval (see rule_index.h).
 *
 * Lists, each in rule order:
 *  - policy:        rules with an own action (reject, tempfail, accept,
 *                   discard, log) and no condition on an original reply,
 *                   which a policy event does not have;
 *  - reply by code: rewrite/log rules with an exact `code`, one list per
 *                   basic code 100..599;
 *  - reply by class: rewrite/log rules with only a `code = "5xx"` class;
 *  - reply, any:    the other rewrite/log rules (no code condition, or a
 *                   value outside those ranges, left to the full match).
 * A reply event with basic code N visits any + code N + class N/100.
 * Those are merged once at build time (one list per class, and one per
 * code that has rules of its own), so an event walks a single array: with
 * hundreds of pack rules, a three-way merge per event cost more than the
 * rules it skipped.  Each merged list exists three times, for the three
 * kinds of reply an enhanced-code condition tells apart: none, X.0.0, and
 * any other code; a rule is left out of the kinds it can never match
 * (the classifier's enhanced = ["none", "*.0.0"] never matches 5.1.1, a
 * rule for 5.7.* never a reply without a code).
 */
#include <stdlib.h>

#include "rules/rule_index.h"

enum { CODE_MIN = 100, CODE_MAX = 599, CLASS_MAX = 5 };
enum { KIND_NONE, KIND_ZERO, KIND_CODED, NKINDS }; /* a reply's enhanced code */

struct idx_list {
    uint32_t *v;
    size_t n, cap;
};

struct rule_index {
    struct idx_list policy;
    struct idx_list reply_any;
    struct idx_list reply_class[CLASS_MAX + 1];
    struct idx_list reply_code[CODE_MAX + 1];
    struct idx_list merged_class[CLASS_MAX + 1][NKINDS]; /* any + class */
    struct idx_list merged_code[CODE_MAX + 1][NKINDS];   /* any + class + code, if code
                                                               has rules */
};

/* Bit (1 << KIND_*) of each kind of reply that rule match m can match. */
static unsigned kinds_of(const struct rule_match *m)
{
    if (!m->has_enhanced && !m->enh_none)
        return 7;
    unsigned k = m->enh_none ? 1u << KIND_NONE : 0;
    if (m->has_enhanced) {
        int s = m->enh_subject, d = m->enh_detail;
        if ((s == -1 || s == 0) && (d == -1 || d == 0))
            k |= 1u << KIND_ZERO;
        if (s != 0 || d != 0)
            k |= 1u << KIND_CODED;
    }
    return k;
}

static int reply_kind(const struct reply *r)
{
    if (!r->has_enhanced)
        return KIND_NONE;
    return r->esubject == 0 && r->edetail == 0 ? KIND_ZERO : KIND_CODED;
}

/* out = the union of up to three lists in rule order, without the rules
   that cannot match a reply of kind `kind`; -1 on no memory. */
static int merge(struct idx_list *out, const struct idx_list *a, const struct idx_list *b,
                 const struct idx_list *c, const struct rule *rules, int kind)
{
    size_t n = a->n + b->n + (c ? c->n : 0), ia = 0, ib = 0, ic = 0, k = 0;
    out->v = malloc((n ? n : 1) * sizeof *out->v);
    if (out->v == NULL)
        return -1;
    for (;;) {
        int ha = ia < a->n, hb = ib < b->n, hc = c && ic < c->n;
        if (!ha && !hb && !hc)
            break;
        uint32_t v;
        if (ha && (!hb || a->v[ia] <= b->v[ib]) && (!hc || a->v[ia] <= c->v[ic]))
            v = a->v[ia++];
        else if (hb && (!hc || b->v[ib] <= c->v[ic]))
            v = b->v[ib++];
        else
            v = c->v[ic++];
        if (kinds_of(&rules[v].when) >> kind & 1)
            out->v[k++] = v;
    }
    out->n = out->cap = k;
    return 0;
}

static int push(struct idx_list *l, size_t i)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 4;
        uint32_t *v = realloc(l->v, ncap * sizeof *v);
        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = ncap;
    }
    l->v[l->n++] = (uint32_t)i;
    return 0;
}

static int add_rule(struct rule_index *x, const struct rule *r, size_t i)
{
    const struct rule_match *m = &r->when;
    enum action act = r->has_action ? r->action : ACTION_REWRITE;
    int on_reply = m->code || m->code_class || m->has_enhanced || m->enh_none || m->text;
    if (r->has_action && act != ACTION_REWRITE && !on_reply && push(&x->policy, i) < 0)
        return -1;
    if (act != ACTION_REWRITE && act != ACTION_LOG)
        return 0;
    if (m->code >= CODE_MIN && m->code <= CODE_MAX)
        return push(&x->reply_code[m->code], i);
    if (m->code == 0 && m->code_class >= 1 && m->code_class <= CLASS_MAX)
        return push(&x->reply_class[m->code_class], i);
    return push(&x->reply_any, i);
}

struct rule_index *rule_index_build(const struct rule *rules, size_t n)
{
    if (n > UINT32_MAX)
        return NULL;
    struct rule_index *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (add_rule(x, &rules[i], i) < 0) {
            rule_index_free(x);
            return NULL;
        }
    for (int kind = 0; kind < NKINDS; kind++) {
        for (int k = 0; k <= CLASS_MAX; k++)
            if (merge(&x->merged_class[k][kind], &x->reply_any, &x->reply_class[k], NULL, rules,
                      kind)
                < 0) {
                rule_index_free(x);
                return NULL;
            }
        for (int k = CODE_MIN; k <= CODE_MAX; k++)
            if (x->reply_code[k].n > 0
                && merge(&x->merged_code[k][kind], &x->reply_any, &x->reply_class[k / 100],
                         &x->reply_code[k], rules, kind)
                       < 0) {
                rule_index_free(x);
                return NULL;
            }
    }
    return x;
}

void rule_index_free(struct rule_index *x)
{
    if (x == NULL)
        return;
    free(x->policy.v);
    free(x->reply_any.v);
    for (int k = 0; k <= CLASS_MAX; k++) {
        free(x->reply_class[k].v);
        for (int kind = 0; kind < NKINDS; kind++)
            free(x->merged_class[k][kind].v);
    }
    for (int k = 0; k <= CODE_MAX; k++) {
        free(x->reply_code[k].v);
        for (int kind = 0; kind < NKINDS; kind++)
            free(x->merged_code[k][kind].v);
    }
    free(x);
}

/* The one list an event walks. */
static const struct idx_list *candidates_for(const struct rule_index *x, const struct reply *orig)
{
    if (orig == NULL)
        return &x->policy;
    if (orig->code < CODE_MIN || orig->code > CODE_MAX)
        return &x->reply_any;
    int kind = reply_kind(orig);
    if (x->merged_code[orig->code][kind].v)
        return &x->merged_code[orig->code][kind];
    return &x->merged_class[reply_code_class(orig->code)][kind];
}

void rule_index_cursor_init(struct rule_index_cursor *c, const struct rule_index *x,
                            const struct reply *orig)
{
    const struct idx_list *l = candidates_for(x, orig);
    *c = (struct rule_index_cursor){.v = l->v, .n = l->n, .at = 0};
}
