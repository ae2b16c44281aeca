/*
 * relay.c - proxy mode in the daemon: opens the upstream chain of a
 * connection and turns what an upstream said into what the MTA gets.
 *
 * An upstream's refusal is what the MTA would have sent had it talked to
 * that milter itself: its reply code text, or the MTA's vague default for a
 * bare reject/tempfail ("550 5.7.1 Command rejected").  That original goes
 * through the rules with source = the upstream's name, comes out explained
 * and well-formed (a class-mismatched "550 4.7.1" never reaches Postfix,
 * which would cut milter-reword off), and is audited with both texts.  A
 * failed upstream gets its on_failure action with the taxonomy's default
 * explanation; its name and the cause go to the log, never to the reply.
 * At connect and HELO a refusal is kept and applied from MAIL on, like an
 * own decision: Postfix never shows a milter's text at connect (it sends
 * its own "554 ... not accepting connections") and answers HELO with 250
 * unless the milter says 421, so the explained reply can go out only from
 * MAIL on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "chain.h"
#include "daemon.h"
#include "relay.h"
#include "verdict.h"

/* What Postfix sends when a milter refuses without text (milter8.c). */
static const char *original_of(const struct chain_result *r)
{
    switch (r->cmd) {
    case MPR_REPLYCODE: return r->text;
    case MPR_TEMPFAIL: return "451 4.7.1 Service unavailable - try again later";
    case MPR_SHUTDOWN:
    case MPR_CONN_FAIL: return "421 4.7.0 Server closing connection";
    default: return "550 5.7.1 Command rejected";
    }
}

/* libmilter doubled each % of the upstream's text; the rules see it single. */
static void undouble_percent(char *s)
{
    char *w = s;
    for (const char *p = s; *p; p++) {
        *w++ = *p;
        if (p[0] == '%' && p[1] == '%')
            p++;
    }
    *w = '\0';
}

static void chain_log(void *arg, int prio, const char *fmt, ...)
{
    struct session *s = arg;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    logging_printf(prio, session_log_id(s), "%s", msg);
}

/* The last offer of the MTA on this thread: a connection reused after
   QUIT_NC starts a new session without a new negotiation. */
static __thread unsigned long last_actions, last_proto;

int relay_open(struct session *s, unsigned long mta_actions, unsigned long mta_proto)
{
    if (s->cfg == NULL || s->cfg->nupstreams == 0)
        return 0;
    last_actions = mta_actions;
    last_proto = mta_proto;
    s->chain = chain_open(s->cfg, mta_actions, mta_proto, chain_log, s);
    if (s->chain == NULL) {
        s->chain_broken = 1;
        logging_printf(LOG_ERR, s->id, "proxy mode: no memory for the upstream chain");
        return -1;
    }
    return 0;
}

int relay_reopen(struct session *s)
{
    if (last_proto == 0)
        last_proto = MPP_ALL & ~MPP_HDR_LEADSPC;
    return relay_open(s, last_actions, last_proto);
}

/* Keeps a connect/HELO refusal for MAIL (the first one only). */
static void keep_pending(struct session *s, enum stage st, const char *source, const char *original,
                         struct decision *d)
{
    if (s->has_pending) {
        s->early_refusal_dropped = 1; /* ours stays the one shown; it must not be cleared */
        return;
    }
    s->pending = *d; /* moves ownership */
    engine_decision_init(d);
    s->pending_stage = st;
    s->pending_source = source;
    s->pending_original = original ? strdup(original) : NULL;
    s->has_pending = 1;
    logging_printf(LOG_INFO, session_log_id(s), "upstream %s refused at %s: %s from MAIL on",
                   source, names_stage(st), names_action(s->pending.action));
}

/* Explains an upstream's reply through the rules; 0, or -1 (on_error). */
static int explain(struct session *s, enum stage st, const char *source, const char *text,
                   struct decision *d)
{
    struct reply orig;
    reply_init(&orig);
    if (reply_parse(text, &orig, NULL) < 0) {
        /* unparseable text after a 4xx/5xx: keep the class, lose the words */
        reply_free(&orig);
        reply_init(&orig);
        if (reply_parse(text[0] == '4' ? "451 4.7.1 Service unavailable - try again later"
                                       : "550 5.7.1 Command rejected",
                        &orig, NULL)
            < 0) {
            reply_free(&orig);
            return -1;
        }
    }
    struct session_facts f;
    session_facts(s, &f);
    struct event ev = {.stage = st, .source = source, .orig = &orig, .facts = &f};
    int rc = engine_eval(s->cfg, &ev, d);
    reply_free(&orig);
    if (rc < 0 || !d->has_reply)
        return -1;
    d->action = d->reply.code / 100 == 5 ? ACTION_REJECT : ACTION_TEMPFAIL;
    return 0;
}

static sfsistat refused(struct session *s, enum stage st, struct chain_result *r)
{
    const char *source = r->up->name;
    struct decision d;
    engine_decision_init(&d);
    if (r->cmd == MPR_DISCARD) {
        d.action = ACTION_DISCARD;
        if (st <= STAGE_HELO) { /* Postfix ignores DISCARD there, so do we */
            logging_printf(LOG_WARNING, session_log_id(s), "upstream %s: DISCARD at %s ignored",
                           source, names_stage(st));
            return SMFIS_CONTINUE;
        }
        return verdict_relay(s, st, st, source, NULL, &d, NULL);
    }
    if (r->text)
        undouble_percent(r->text);
    const char *original = original_of(r);
    sfsistat v;
    if (explain(s, st, source, original, &d) < 0)
        v = verdict_error(s, st, "could not explain an upstream's reply");
    else if (st <= STAGE_HELO) {
        keep_pending(s, st, source, original, &d);
        v = SMFIS_CONTINUE;
    } else
        v = verdict_relay(s, st, st, source, original, &d, NULL);
    engine_decision_free(&d);
    return v;
}

static sfsistat failed(struct session *s, enum stage st, struct chain_result *r)
{
    enum action a = r->up->on_failure;
    struct decision d;
    engine_decision_init(&d);
    d.action = a;
    if (engine_default_reply(a, a == ACTION_REJECT ? "5.3.0" : "4.3.0", &d.reply) == 0)
        d.has_reply = 1;
    char note[220];
    snprintf(note, sizeof note, "upstream failed: %s", r->why);
    sfsistat v = SMFIS_CONTINUE;
    if (st <= STAGE_HELO)
        keep_pending(s, st, r->up->name, NULL, &d);
    else
        v = verdict_relay(s, st, st, r->up->name, NULL, &d, note);
    engine_decision_free(&d);
    return v;
}

sfsistat relay_result(struct session *s, enum stage st, struct chain_result *r)
{
    sfsistat v = SMFIS_CONTINUE;
    if (r->outcome == CHAIN_REFUSED)
        v = refused(s, st, r);
    else if (r->outcome == CHAIN_FAILED)
        v = failed(s, st, r);
    chain_result_free(r);
    return v;
}

sfsistat relay_pending(struct session *s, enum stage now)
{
    return verdict_relay(s, now, s->pending_stage, s->pending_source, s->pending_original,
                         &s->pending, NULL);
}
