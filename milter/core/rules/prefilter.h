/*
 * prefilter.h - a necessary condition for a text pattern to match, one AND
 * per rule instead of one regex call (see prefilter.c for how the literal
 * is found and why it is safe).
 */
#ifndef REWORD_PREFILTER_H
#define REWORD_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

#define PREFILTER_LITERAL_MIN 3 /* shorter literals filter too little */
#define PREFILTER_LITERAL_MAX 128

/* 256 bits: the byte pairs (ASCII letters folded) of a string, hashed. */
struct prefilter_sig {
    uint64_t w[4];
};

void prefilter_sig_of(const char *s, size_t n, struct prefilter_sig *sig);
/* The longest literal every match of PCRE2 pattern re contains, into out
   (ASCII letters as written; compared without case); its length, 0 when
   there is none.  utf: the pattern is compiled in UTF mode. */
size_t prefilter_literal(const char *re, int utf, char *out, size_t outlen);
/* sig of re's literal; 0 (and an empty sig: matches everything) when re
   has no literal of PREFILTER_LITERAL_MIN bytes. */
int prefilter_pattern_sig(const char *re, int utf, struct prefilter_sig *sig);

/* 1 when a subject with signature `have` may match a pattern with `need`. */
static inline int prefilter_may_match(const struct prefilter_sig *need,
                                      const struct prefilter_sig *have)
{
    return ((need->w[0] & ~have->w[0]) | (need->w[1] & ~have->w[1]) | (need->w[2] & ~have->w[2])
            | (need->w[3] & ~have->w[3]))
           == 0;
}

/*
 * The gate, for patterns the literal above cannot filter: a top-level
 * alternation ("(?i)mailbox full|over quota|...") has no literal common
 * to every match, but each branch has its own.  A pattern is gated when
 * every branch holds an ASCII literal of at least 3 bytes; one 3-byte
 * piece of each branch's literal (the rarest letters) goes into a
 * hash table.  One pass over a reply's text marks every gated rule that
 * has a piece in it; the others cannot match and are skipped.  Letters
 * compare without case.  Patterns in UTF or extended mode are not gated.
 */
struct prefilter_gate;

struct prefilter_gate *prefilter_gate_new(size_t nrules);
/* Gates rule i by its text pattern re (NULL: none); 1 gated, 0 not, -1 no memory. */
int prefilter_gate_add(struct prefilter_gate *g, size_t i, const char *re);
/* Builds the table after the last add; -1 no memory (the gate is then unusable). */
int prefilter_gate_finish(struct prefilter_gate *g);
void prefilter_gate_free(struct prefilter_gate *g);
/* Words of the candidate bitmap for g: (nrules + 63) / 64. */
size_t prefilter_gate_words(const struct prefilter_gate *g);
/* Number of gated rules. */
size_t prefilter_gate_count(const struct prefilter_gate *g);
/* Sets in cand (prefilter_gate_words long, cleared first) the bit of every
   gated rule with a piece in text[0..n). */
void prefilter_gate_scan(const struct prefilter_gate *g, const char *text, size_t n,
                         uint64_t *cand);
/* The bitmap of gated rules (prefilter_gate_words long). */
const uint64_t *prefilter_gate_gated(const struct prefilter_gate *g);

/* 1 when bit i is set in bitmap m. */
static inline int prefilter_bit(const uint64_t *m, size_t i)
{
    return (int)(m[i / 64] >> (i % 64) & 1);
}

#endif
