/*
 * strvec.h - a growable vector of malloc'd strings, the building block of
 * reply lines in the parser, the sanitizer and the engine, and of the rule
 * loader's string lists (exclude patterns, paths already checked).  Allocation
 * failure is sticky (`oom`), like struct strbuf: callers check once.
 */
#ifndef REWORD_STRVEC_H
#define REWORD_STRVEC_H

#include <stddef.h>

struct strvec {
    char **v;
    size_t n, cap;
    int oom;
};

/* Appends s and takes ownership of it; NULL (a failed allocation) sets oom. */
void strvec_push(struct strvec *sv, char *s);
/* Appends a copy of the first len bytes of s. */
void strvec_pushn(struct strvec *sv, const char *s, size_t len);
/* Frees every string and the vector; leaves sv empty. */
void strvec_free(struct strvec *sv);

#endif
