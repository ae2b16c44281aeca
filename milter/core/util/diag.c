/*
 * diag.c - a growable list of diagnostics with stable ids (see diag.h).
 * Memory: the list owns each message and file name; diag_free releases all.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void diag_init(struct diag_list *dl)
{
    dl->v = NULL;
    dl->n = dl->cap = 0;
}

void diag_free(struct diag_list *dl)
{
    for (size_t i = 0; i < dl->n; i++) {
        free(dl->v[i].message);
        free(dl->v[i].file);
    }
    free(dl->v);
    diag_init(dl);
}

static void diag_vadd(struct diag_list *dl, const char *file, int line, const char *id,
                      enum diag_severity sev, const char *fmt, va_list ap)
{
    if (dl == NULL)
        return;
    if (dl->n == dl->cap) {
        size_t cap = dl->cap ? dl->cap * 2 : 8;
        struct diag *v = realloc(dl->v, cap * sizeof(*v));
        if (v == NULL)
            return;
        dl->v = v;
        dl->cap = cap;
    }
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        return;
    struct diag *d = &dl->v[dl->n];
    d->id = id;
    d->severity = sev;
    d->line = line;
    d->message = msg;
    d->file = file ? strdup(file) : NULL;
    dl->n++;
}

void diag_add(struct diag_list *dl, const char *id, enum diag_severity sev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(dl, NULL, 0, id, sev, fmt, ap);
    va_end(ap);
}

void diag_add_at(struct diag_list *dl, const char *file, int line, const char *id,
                 enum diag_severity sev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(dl, file, line, id, sev, fmt, ap);
    va_end(ap);
}

size_t diag_count(const struct diag_list *dl, enum diag_severity sev)
{
    size_t c = 0;
    for (size_t i = 0; i < dl->n; i++)
        if (dl->v[i].severity == sev)
            c++;
    return c;
}

int diag_has(const struct diag_list *dl, const char *id)
{
    for (size_t i = 0; i < dl->n; i++)
        if (strcmp(dl->v[i].id, id) == 0)
            return 1;
    return 0;
}

/* Stable insertion sort: lists are short and ties must keep their order. */
static int diag_before(const struct diag *a, const struct diag *b)
{
    int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");
    if (c != 0)
        return c < 0;
    return a->line < b->line;
}

void diag_sort(struct diag_list *dl)
{
    for (size_t i = 1; i < dl->n; i++) {
        struct diag cur = dl->v[i];
        size_t j = i;
        while (j > 0 && diag_before(&cur, &dl->v[j - 1])) {
            dl->v[j] = dl->v[j - 1];
            j--;
        }
        dl->v[j] = cur;
    }
}

const char *diag_severity_name(enum diag_severity sev)
{
    switch (sev) {
    case DIAG_ERROR: return "error";
    case DIAG_WARNING: return "warning";
    default: return "info";
    }
}
