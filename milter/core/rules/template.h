/*
 * template.h - reply text templates: literal text with %{variable}s.
 *
 * Variables: %{rcpt} %{sender} %{helo} %{client_addr} %{client_name}
 * %{code} %{enhanced} %{text} (the original reply's text) %{explanation}
 * (taxonomy) %{queue_id} %{rule} %{macro:NAME}; "%%" is a literal "%".
 * Values from the SMTP session are sanitized on expansion (no CR/LF or
 * control characters, length capped): an address or HELO name can never
 * add a line or a reply of its own.
 */
#ifndef REWORD_TEMPLATE_H
#define REWORD_TEMPLATE_H

#include <stddef.h>
#include "diag.h"

#define TEMPLATE_VALUE_MAX 256 /* cap on one expanded session value, bytes */

struct template;

/* Values a template can refer to; any field may be NULL (expands to ""). */
struct template_vars {
    const char *rcpt, *sender, *helo, *client_addr, *client_name;
    const char *code, *enhanced, *text, *explanation, *queue_id, *rule;
    /* macro lookup: returns the value of {name} or NULL */
    const char *(*macro)(void *ctx, const char *name);
    void *macro_ctx;
};

/* Compiles src; unknown variables and malformed %{ go to dl as errors
   (id unknown-variable / bad-template) with file/line.  NULL on error. */
struct template *template_compile(const char *src, const char *file, int line,
                                  struct diag_list *dl);
void template_free(struct template *t);
const char *template_source(const struct template *t);
/* 1 if the template uses variable `name` (e.g. "rcpt", "macro"). */
int template_uses(const struct template *t, const char *name);
/* Expands into a malloc'd plain-text string (no %-escaping), NULL on no memory. */
char *template_expand(const struct template *t, const struct template_vars *v);
/* Longest possible expansion in bytes (literal length + cap per variable);
   lets the checker warn about lines that can exceed REPLY_MAX_LINE_LEN. */
size_t template_max_len(const struct template *t);

#endif
