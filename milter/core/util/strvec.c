/*
 * strvec.c - growable vector of owned strings (see strvec.h).
 */
#include <stdlib.h>
#include <string.h>

#include "util/strvec.h"

void strvec_push(struct strvec *sv, char *s)
{
    if (s == NULL || sv->oom) {
        free(s);
        sv->oom = 1;
        return;
    }
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 8;
        char **v = realloc(sv->v, cap * sizeof *v);
        if (v == NULL) {
            free(s);
            sv->oom = 1;
            return;
        }
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
}

void strvec_pushn(struct strvec *sv, const char *s, size_t len)
{
    strvec_push(sv, strndup(s, len));
}

void strvec_free(struct strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    memset(sv, 0, sizeof *sv);
}
