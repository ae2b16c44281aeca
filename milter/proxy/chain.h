/*
 * chain.h - proxy mode: the upstream milters of one MTA connection, driven
 * in chain order the way Postfix drives its own list of milters.
 *
 * Each event goes to every upstream still in the chain for its scope, in
 * order; the first that refuses (reject, tempfail, replycode, discard,
 * shutdown) ends the chain for that scope and its reply comes back to the
 * caller as a chain_result, to be explained by the rules (source = the
 * upstream's name) before the MTA sees it.  Accept takes an upstream out for
 * the rest of the message (or connection, at connect/HELO).  End-of-message
 * modifications are applied through libmilter as they arrive, in the order
 * the upstream sent them.  An upstream that is down, slow or breaks the
 * protocol becomes a CHAIN_FAILED result carrying its on_failure action
 * (or, for on_failure = accept, is logged and left out).
 */
#ifndef REWORD_PROXY_CHAIN_H
#define REWORD_PROXY_CHAIN_H

#include <libmilter/mfapi.h>
#include <sys/socket.h>

#include "rules.h"
#include "upstream.h"

enum chain_outcome { CHAIN_CONTINUE = 0, CHAIN_REFUSED, CHAIN_FAILED };

struct chain_result {
    enum chain_outcome outcome;
    const struct upstream_conf *up; /* who refused or failed */
    unsigned char cmd;              /* CHAIN_REFUSED: MPR_REJECT, _TEMPFAIL, _REPLYCODE,
                                           _DISCARD, _SHUTDOWN or _CONN_FAIL */
    char *text;                     /* MPR_REPLYCODE: the reply as sent (malloc'd) */
    char why[160];                  /* CHAIN_FAILED: for the log, never for the reply */
};
void chain_result_free(struct chain_result *r);

typedef void (*chain_log_fn)(void *arg, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct chain {
    const struct config *cfg; /* the session's reference; owns the upstream_confs */
    struct upstream *ups;
    size_t n;
    int mta_rcpt_rej;             /* the MTA reports recipients it rejected */
    char *macro_names[MPM_COUNT]; /* per macro stage: what the MTA is asked for
                                           and the proxy forwards */
    chain_log_fn log;
    void *log_arg;
};

/*
 * Connects to and negotiates with every upstream of cfg, offering what the
 * MTA offered (mta_actions, mta_proto).  Upstreams that cannot be used are
 * marked failed (logged); NULL only when out of memory.
 */
struct chain *chain_open(const struct config *cfg, unsigned long mta_actions,
                         unsigned long mta_proto, chain_log_fn log, void *log_arg);
void chain_close(struct chain *ch); /* QUIT to each upstream, frees ch */

/* What the upstreams need from the MTA: the union of their actions, and
   whether some live upstream wants an event (no_flag = its SMFIP_NO* bit)
   or a reply to it (nr_flag = its SMFIP_NR_* bit, 0 when it has none). */
unsigned long chain_actions(const struct chain *ch);
int chain_wants_event(const struct chain *ch, unsigned long no_flag);
int chain_wants_reply(const struct chain *ch, unsigned long no_flag, unsigned long nr_flag);
/* Appends to buf the macro names forwarded at macro stage mpm (MPM_*):
   Postfix's defaults and what the upstreams asked for, space-separated,
   skipping names already in buf. */
void chain_macro_names(const struct chain *ch, int mpm, char *buf, size_t len);

/* Events.  Each returns the outcome (also in r); r must be freed with
   chain_result_free.  ctx is used for macro values (smfi_getsymval) and, at
   end of message, to apply modifications. */
enum chain_outcome chain_connect(struct chain *ch, SMFICTX *ctx, const char *host,
                                 const struct sockaddr *sa, struct chain_result *r);
enum chain_outcome chain_helo(struct chain *ch, SMFICTX *ctx, const char *helo,
                              struct chain_result *r);
enum chain_outcome chain_mail(struct chain *ch, SMFICTX *ctx, char **argv, struct chain_result *r);
/* mta_rejected: the MTA refused this recipient itself (SMFIP_RCPT_REJ): it
   goes only to upstreams that asked for such recipients, and their answer
   is read and ignored, as the MTA would. */
enum chain_outcome chain_rcpt(struct chain *ch, SMFICTX *ctx, char **argv, int mta_rejected,
                              struct chain_result *r);
enum chain_outcome chain_data(struct chain *ch, SMFICTX *ctx, struct chain_result *r);
enum chain_outcome chain_header(struct chain *ch, SMFICTX *ctx, const char *name, const char *value,
                                struct chain_result *r);
enum chain_outcome chain_eoh(struct chain *ch, SMFICTX *ctx, struct chain_result *r);
enum chain_outcome chain_body(struct chain *ch, SMFICTX *ctx, const unsigned char *chunk,
                              size_t len, struct chain_result *r);
enum chain_outcome chain_eom(struct chain *ch, SMFICTX *ctx, struct chain_result *r);
enum chain_outcome chain_unknown(struct chain *ch, SMFICTX *ctx, const char *cmd,
                                 struct chain_result *r);
/* 1 when some upstream still wants body chunks of this message. */
int chain_wants_body(const struct chain *ch);
void chain_abort(struct chain *ch);

#endif
