/*
 * verdict.h - turns engine decisions into what libmilter needs (a reply set
 * together with its verdict, never one without the other) and writes the
 * audit record of each.
 */
#ifndef REWORD_DAEMON_VERDICT_H
#define REWORD_DAEMON_VERDICT_H

#include "session.h"

/* Applies an own decision made at rule_stage, now at stage `now`. */
sfsistat verdict_apply(struct session *s, enum stage now, enum stage rule_stage,
                       const struct decision *d);
/* Relays an upstream milter's refusal (proxy mode): d holds the explained,
   well-formed reply and action reject, tempfail or discard; decided is the
   stage the upstream refused at.  Audited with source and original. */
sfsistat verdict_relay(struct session *s, enum stage now, enum stage decided, const char *source,
                       const char *original, const struct decision *d, const char *note);
/* The configured on_error action after an internal failure (`what` is logged). */
sfsistat verdict_error(struct session *s, enum stage now, const char *what);
/* Audits a rejection the MTA made itself (observe only: it cannot be changed). */
void verdict_observe(struct session *s, enum stage now, const char *original,
                     const struct decision *d, int matched);
/* Audits a decision that is only remembered (connect/HELO) or only logged. */
void verdict_audit(struct session *s, enum stage rule_stage, const struct decision *d,
                   const char *action, const char *note);

#endif
