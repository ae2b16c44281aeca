/*
 * session.h - what the daemon remembers about one SMTP connection: the
 * configuration it started with, the facts rules can match on, a decision
 * made at connect/HELO that waits for MAIL, and which header conditions
 * of the rules the current message's headers met so far.
 */
#ifndef REWORD_DAEMON_SESSION_H
#define REWORD_DAEMON_SESSION_H

#include <libmilter/mfapi.h>

#include "engine.h"
#include "rules.h"

struct chain;

struct session {
    SMFICTX *ctx;
    struct config *cfg; /* reference held for the whole connection */
    char id[24];        /* session id for logs before a queue id exists */
    char *client_addr, *client_name, *helo, *sender, *rcpt, *queue_id, *auth_login;
    /* A connect/HELO-stage decision, applied from MAIL on (Postfix shows no
       milter text before MAIL). */
    struct decision pending;
    enum stage pending_stage;
    int has_pending;
    const char *pending_source; /* NULL: own decision; else the upstream (name in cfg) */
    char *pending_original;     /* the upstream's reply as it sent it */
    struct chain *chain;        /* proxy mode: the upstream milters, or NULL */
    int chain_broken;           /* proxy mode could not start: on_error from MAIL on */
    int conn_accepted;          /* an accept rule at connect/HELO: no more policy */
    int msg_accepted;           /* an accept rule at MAIL or later: no more for this message */
    unsigned long proto;        /* SMFIP_* flags negotiated with the MTA */
    unsigned char *hbits;       /* engine_note_header's bits for this message;
                                       NULL when no rule has a header condition */
    size_t hbits_size;
    int header_failed;         /* a header condition failed: on_error at end of message */
    int early_refusal_dropped; /* a 2nd connect/HELO refusal was not kept (keep_pending) */
};

struct session *session_new(SMFICTX *ctx, struct config *cfg);
void session_free(struct session *s);
void session_reset_message(struct session *s);     /* new MAIL FROM or abort */
void session_set(char **field, const char *value); /* replaces a strdup'd field */
void session_clear_pending(struct session *s);     /* forget a connect/HELO decision */
/* Notes one header for the rules' header conditions: 0, or -1 on a regex
   engine error. */
int session_add_header(struct session *s, const char *name, const char *value);
/* The log prefix: queue id when known, else the session id. */
const char *session_log_id(const struct session *s);
/* Fills facts from the session (pointers into s; valid until s changes). */
void session_facts(struct session *s, struct session_facts *f);

#endif
