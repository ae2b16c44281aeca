/*
 * relay.h - proxy mode in the daemon (relay.c): the upstream chain of a
 * session and the conversion of upstream replies into MTA verdicts.
 */
#ifndef REWORD_DAEMON_RELAY_H
#define REWORD_DAEMON_RELAY_H

#include "chain.h"
#include "session.h"

/* Opens s->chain when the config has upstreams (at negotiation); 0 or -1
   (then s->chain_broken is set and on_error applies from MAIL on). */
int relay_open(struct session *s, unsigned long mta_actions, unsigned long mta_proto);
/* The same for a session that started without a negotiation (QUIT_NC). */
int relay_reopen(struct session *s);
/* The verdict for an event's chain result at stage st (frees r). */
sfsistat relay_result(struct session *s, enum stage st, struct chain_result *r);
/* Applies the upstream refusal kept from connect/HELO, now at stage now. */
sfsistat relay_pending(struct session *s, enum stage now);

#endif
