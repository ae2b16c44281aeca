/*
 * rule_index.h - candidate lists for the rule engine: which rules could
 * match an event at all, judged by what cannot change per event (the
 * rule's action and its basic-code condition), so engine_eval looks at
 * those only and never at, say, the 9,000 rules about other codes.
 *
 * The lists only prune: every candidate still goes through the engine's
 * full match, in rule order, so results are exactly those of a scan of
 * all rules (engine_eval_unindexed, for tests and the fuzzer).
 */
#ifndef REWORD_RULE_INDEX_H
#define REWORD_RULE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "reply.h"
#include "rules.h"

struct rule_index;

/* NULL on no memory (the engine then scans every rule). */
struct rule_index *rule_index_build(const struct rule *rules, size_t n);
void rule_index_free(struct rule_index *x);

/* Walks the candidates for one event in ascending rule order (one list,
   merged at build time). */
struct rule_index_cursor {
    const uint32_t *v;
    size_t n, at;
};
/* orig NULL: a policy event (the milter's own decision). */
void rule_index_cursor_init(struct rule_index_cursor *c, const struct rule_index *x,
                            const struct reply *orig);
/* The next candidate's index into config->rules, or -1 when done
   (inline: it runs once per candidate, hundreds of times per reply). */
static inline long rule_index_cursor_next(struct rule_index_cursor *c)
{
    return c->at < c->n ? (long)c->v[c->at++] : -1;
}

#endif
