/*
 * engine.h - evaluates an event against a loaded configuration and yields a
 * decision with a final, sanitized, well-formed reply.
 *
 * Two kinds of events:
 *  - a reply event: some party (self, the MTA, an upstream milter) is about
 *    to send or has sent `orig`; a matching rule rewrites or logs it;
 *  - a policy event: no reply yet (orig == NULL); a matching rule with
 *    action reject/tempfail/discard/accept makes milter-reword's own decision.
 * First matching rule wins, in file order.
 */
#ifndef REWORD_ENGINE_H
#define REWORD_ENGINE_H

#include "reply.h"
#include "rules.h"

/* What is known about the SMTP session when the event happens. */
struct session_facts {
    const char *client_addr; /* "192.0.2.1" / "2001:db8::1", or NULL */
    const char *client_name;
    const char *helo;
    const char *sender; /* envelope sender without <>, "" for null sender */
    const char *rcpt;   /* current recipient (RCPT stage) */
    const char *queue_id;
    const char *auth_login; /* {auth_authen}, NULL when not authenticated */
    /* macro lookup: value of {name} or NULL */
    const char *(*macro)(void *ctx, const char *name);
    void *macro_ctx;
    /* headers seen so far: either header_bits (non-NULL: filled by
       engine_note_header as each header arrived, so no header is ever
       dropped or kept) or the parallel arrays */
    const unsigned char *header_bits;
    const char *const *header_names;
    const char *const *header_values;
    size_t nheaders;
};

struct event {
    enum stage stage;         /* STAGE_COUNT: stage unknown, matches any rule stage
                                       (reword explain without --stage) */
    const char *source;       /* "self", "mta" or an upstream name; NULL: unknown,
                                       matches any rule source */
    const struct reply *orig; /* NULL for a policy event */
    const struct session_facts *facts;
};

struct decision {
    const struct rule *rule; /* matching rule, NULL if none */
    enum action action;      /* ACTION_REWRITE when a reply was only rewritten */
    int has_reply;           /* reply below is valid (reject/tempfail/rewrite) */
    struct reply reply;      /* final reply: sanitized, class-matched, <= 32 lines */
};

void engine_decision_init(struct decision *d);
void engine_decision_free(struct decision *d);

/*
 * Returns 1 when a rule matched (d filled), 0 when none did (for a reply
 * event d->reply still holds the original made well-formed: enhanced code
 * inferred, class fixed, sanitized), -1 on an internal error (no memory,
 * regex engine failure): the caller applies the configured on_error action.
 */
int engine_eval(const struct config *c, const struct event *ev, struct decision *d);
/* The same by scanning every rule instead of the index's candidates: what
   the tests and the fuzzer compare engine_eval with. */
int engine_eval_unindexed(const struct config *c, const struct event *ev, struct decision *d);

/*
 * Header conditions over a message of any size: instead of keeping the
 * headers, the caller keeps engine_header_bits_size(c) zeroed bytes per
 * message, passes each header to engine_note_header as it arrives, and
 * sets facts.header_bits to them.  Returns 0, or -1 when a pattern failed
 * (regex engine error; every other condition was still noted): the
 * caller applies on_error to the message.
 */
size_t engine_header_bits_size(const struct config *c);
int engine_note_header(const struct config *c, const char *name, const char *value,
                       unsigned char *bits);

/*
 * Builds the reply for an own decision or an on_error fallback when no rule
 * text exists: action REJECT -> 550 5.7.1, TEMPFAIL -> 451 4.3.0 (or the
 * basic code the registry associates with `enhanced`), text from taxonomy.
 */
int engine_default_reply(enum action a, const char *enhanced, struct reply *out);

#endif
