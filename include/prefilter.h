/*
 * prefilter.h - a necessary condition for a text pattern to match, one AND
 * per rule instead of one regex call (see prefilter.c for how the literal
 * is found and why it is safe).
 */
#ifndef REWORD_PREFILTER_H
#define REWORD_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

#define PREFILTER_LITERAL_MIN 3     /* shorter literals filter too little */
#define PREFILTER_LITERAL_MAX 128

/* 256 bits: the byte pairs (ASCII letters folded) of a string, hashed. */
struct prefilter_sig { uint64_t w[4]; };

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
    return ((need->w[0] & ~have->w[0]) | (need->w[1] & ~have->w[1])
            | (need->w[2] & ~have->w[2]) | (need->w[3] & ~have->w[3])) == 0;
}

#endif
