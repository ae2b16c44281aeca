/*
 * diag.h - diagnostics with stable ids, shared by the reply validator, the
 * rule checker and the admin tool.  An id (e.g. "class-mismatch") never
 * changes once released: admins grep for it and tests assert on it.
 */
#ifndef REWORD_DIAG_H
#define REWORD_DIAG_H

#include <stddef.h>

enum diag_severity { DIAG_INFO = 0, DIAG_WARNING = 1, DIAG_ERROR = 2 };

struct diag {
    const char *id; /* static string, e.g. "class-mismatch" */
    enum diag_severity severity;
    char *file;    /* NULL when not about a file */
    int line;      /* 0 when unknown */
    char *message; /* owned, human readable, no trailing newline */
};

struct diag_list {
    struct diag *v;
    size_t n, cap;
};

void diag_init(struct diag_list *dl);
void diag_free(struct diag_list *dl);
/* Appends a printf-formatted diagnostic; silently drops it on allocation failure
   (the caller still sees the failure as the count of errors being > 0 via oom). */
void diag_add(struct diag_list *dl, const char *id, enum diag_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_add_at(struct diag_list *dl, const char *file, int line, const char *id,
                 enum diag_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
size_t diag_count(const struct diag_list *dl, enum diag_severity sev);
int diag_has(const struct diag_list *dl, const char *id);
/* Sorts by file, then line, keeping insertion order for ties. */
void diag_sort(struct diag_list *dl);
const char *diag_severity_name(enum diag_severity sev);
/* Every id in use, sorted, NULL-terminated (util/diag_ids.c), and the test
   whether id is one of them. */
extern const char *const diag_ids[];
int diag_id_known(const char *id);

#endif
