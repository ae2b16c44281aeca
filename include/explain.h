/*
 * explain.h - turns a parsed reply into words: the meaning of its basic and
 * enhanced codes from the taxonomy, and the project's friendly explanation
 * for the person whose mail bounced.
 */
#ifndef REWORD_EXPLAIN_H
#define REWORD_EXPLAIN_H

#include "reply.h"

/*
 * Friendly explanation of r as a malloc'd string (NULL on no memory):
 * for 2xx/3xx the basic code's explanation ("221" = normal end of session);
 * for 4xx/5xx the enhanced code's explanation (the basic code's when there
 * is no specific enhanced code), followed by the class's sentence on whether
 * retrying can help.
 */
char *explain_reply(const struct reply *r);

/* Registry meanings; "" when unknown. */
const char *explain_basic_meaning(int code);
const char *explain_enhanced_meaning(const struct reply *r);

#endif
