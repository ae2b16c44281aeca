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
 * rules it skipped.
 */
#include <stdlib.h>

#include "rule_index.h"

enum { CODE_MIN = 100, CODE_MAX = 599, CLASS_MAX = 5 };

struct idx_list {
    uint32_t *v;
    size_t n, cap;
};

struct rule_index {
    struct idx_list policy;
    struct idx_list reply_any;
    struct idx_list reply_class[CLASS_MAX + 1];
    struct idx_list reply_code[CODE_MAX + 1];
    struct idx_list merged_class[CLASS_MAX + 1];    /* any + class */
    struct idx_list merged_code[CODE_MAX + 1];      /* any + class + code, if code has rules */
};

/* out = the union of up to three lists in rule order; -1 on no memory. */
static int merge(struct idx_list *out, const struct idx_list *a, const struct idx_list *b,
                 const struct idx_list *c)
{
    size_t n = a->n + b->n + (c ? c->n : 0), ia = 0, ib = 0, ic = 0, k = 0;
    out->v = malloc((n ? n : 1) * sizeof *out->v);
    if (out->v == NULL)
        return -1;
    while (k < n) {
        uint32_t va = ia < a->n ? a->v[ia] : UINT32_MAX;
        uint32_t vb = ib < b->n ? b->v[ib] : UINT32_MAX;
        uint32_t vc = c && ic < c->n ? c->v[ic] : UINT32_MAX;
        if (va <= vb && va <= vc)
            out->v[k++] = a->v[ia++];
        else if (vb <= vc)
            out->v[k++] = b->v[ib++];
        else
            out->v[k++] = c->v[ic++];
    }
    out->n = out->cap = n;
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
    for (int k = 0; k <= CLASS_MAX; k++)
        if (merge(&x->merged_class[k], &x->reply_any, &x->reply_class[k], NULL) < 0) {
            rule_index_free(x);
            return NULL;
        }
    for (int k = CODE_MIN; k <= CODE_MAX; k++)
        if (x->reply_code[k].n > 0
            && merge(&x->merged_code[k], &x->reply_any, &x->reply_class[k / 100],
                     &x->reply_code[k]) < 0) {
            rule_index_free(x);
            return NULL;
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
        free(x->merged_class[k].v);
    }
    for (int k = 0; k <= CODE_MAX; k++) {
        free(x->reply_code[k].v);
        free(x->merged_code[k].v);
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
    if (x->merged_code[orig->code].v)
        return &x->merged_code[orig->code];
    return &x->merged_class[reply_code_class(orig->code)];
}

void rule_cursor_init(struct rule_cursor *c, const struct rule_index *x, const struct reply *orig)
{
    const struct idx_list *l = candidates_for(x, orig);
    *c = (struct rule_cursor){ .v = l->v, .n = l->n, .at = 0 };
}

long rule_cursor_next(struct rule_cursor *c)
{
    return c->at < c->n ? (long)c->v[c->at++] : -1;
}
