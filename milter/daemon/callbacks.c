/*
 * callbacks.c - the libmilter callbacks: collect session facts, ask the
 * engine at each stage the rules use, hand decisions to verdict.c.
 *
 * Why connect/HELO decisions wait for MAIL: Postfix never shows a milter's
 * text at connect (it sends its own "554 ... not accepting connections")
 * and answers HELO with 250 unless the milter says 421; the text is used
 * from MAIL on.  So a connect/HELO rule is remembered and applied at every
 * MAIL command of the connection, where the client reads its explanation.
 *
 * Events the loaded rules do not need are negotiated away (each one is a
 * socket round trip per message); connect and HELO are taken without a
 * reply (SMFIP_NR_*), as their facts are needed later but their verdicts
 * are not sent there.  SMFIP_RCPT_REJ shows recipients the MTA rejected
 * itself, which are audited (observe only).
 *
 * Proxy mode (upstreams configured): after milter-reword's own policy at a
 * stage, the event goes along the upstream chain (milter/proxy/chain.c) and
 * an upstream's refusal is explained and relayed by relay.c.  The events,
 * actions and macros asked of the MTA then also cover what the upstreams
 * negotiated.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>

#include "chain.h"
#include "daemon.h"
#include "relay.h"
#include "session.h"
#include "verdict.h"

/* Set by main.  Over TCP, skipping DATA with NODATA costs about 40 ms per
   message (the MTA waits for a delayed ACK on the small packet). */
int callbacks_socket_is_unix;

static struct session *get(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* Unparseable state (no session): fail safe with an explained tempfail. */
static sfsistat no_session(SMFICTX *ctx)
{
    smfi_setreply(ctx, "451", "4.3.0",
                  "A temporary problem on the receiving server "
                  "prevented checking this message. Your server will retry; no action needed.");
    return SMFIS_TEMPFAIL;
}

/* Evaluates own policy at a stage; returns the verdict to give now. */
static sfsistat policy(struct session *s, enum stage st)
{
    if (s->conn_accepted || (st > STAGE_HELO && s->msg_accepted))
        return SMFIS_CONTINUE;
    if (st == STAGE_EOM && s->header_failed)
        return verdict_error(s, st, "a header condition failed (regex engine error)");
    if (!(s->cfg->stages_used & STAGE_BIT(st)))
        return SMFIS_CONTINUE;
    struct session_facts f;
    session_facts(s, &f);
    struct event ev = {.stage = st, .source = "self", .orig = NULL, .facts = &f};
    struct decision d;
    engine_decision_init(&d);
    int rc = engine_eval(s->cfg, &ev, &d);
    sfsistat v = SMFIS_CONTINUE;
    if (rc < 0)
        v = verdict_error(s, st, "rule evaluation failed");
    else if (rc > 0 && st <= STAGE_HELO) {
        /* remember; applied at MAIL */
        if (d.action == ACTION_REJECT || d.action == ACTION_TEMPFAIL
            || d.action == ACTION_DISCARD) {
            if (!s->has_pending) {
                s->pending = d; /* moves ownership */
                engine_decision_init(&d);
                s->pending_stage = st;
                s->has_pending = 1;
                logging_printf(LOG_INFO, s->id, "rule %s at %s: %s from MAIL on",
                               s->pending.rule ? s->pending.rule->name : "?", names_stage(st),
                               names_action(s->pending.action));
            }
        } else
            v = verdict_apply(s, st, st, &d);
    } else if (rc > 0)
        v = verdict_apply(s, st, st, &d);
    engine_decision_free(&d);
    return v;
}

static sfsistat early_reply(struct session *s, unsigned long nr_flag, sfsistat v)
{
    (void)v; /* connect/HELO verdicts are never sent there (see top) */
    return (s->cfg && (s->proto & nr_flag)) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void add_macro_names(char *buf, size_t len, const struct config *c, enum stage st)
{
    for (size_t i = 0; i < c->nrules; i++) {
        const struct rule_match *m = &c->rules[i].when;
        if (!(m->stages & STAGE_BIT(st)))
            continue;
        for (size_t j = 0; j < m->nmacros; j++) {
            const char *n = m->macros[j].name;
            size_t used = strlen(buf);
            if (strstr(buf, n) == NULL && used + strlen(n) + 4 < len) {
                if (n[0] == '{' || strlen(n) == 1)
                    snprintf(buf + used, len - used, " %s", n);
                else
                    snprintf(buf + used, len - used, " {%s}", n);
            }
        }
    }
}

/* Asks for the macros the daemon, the rules and the upstreams need at each
   stage.  Without upstreams only MAIL, RCPT and EOM lists are set (the MTA's
   defaults stay for the others); with upstreams every stage gets a list,
   since the proxy can forward only macros it knows the names of. */
static void request_macros(SMFICTX *ctx, const struct config *c, const struct chain *ch)
{
    static const struct {
        int where;
        enum stage st;
        const char *base;
    } lists[] = {
        {SMFIM_CONNECT, STAGE_CONNECT, NULL},
        {SMFIM_HELO, STAGE_HELO, NULL},
        {SMFIM_ENVFROM, STAGE_MAIL, "i {auth_authen} {auth_type} {mail_addr}"},
        {SMFIM_ENVRCPT, STAGE_RCPT, "i {rcpt_addr} {rcpt_host} {rcpt_mailer}"},
        {SMFIM_DATA, STAGE_DATA, NULL},
        {SMFIM_EOM, STAGE_EOM, "i"},
        {SMFIM_EOH, STAGE_EOH, NULL},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        if (lists[i].base == NULL && ch == NULL)
            continue;
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", lists[i].base ? lists[i].base : "");
        add_macro_names(buf, sizeof buf, c, lists[i].st);
        if (ch)
            chain_macro_names(ch, lists[i].where, buf, sizeof buf);
        if (buf[0])
            smfi_setsymlist(ctx, lists[i].where, buf);
    }
}

/* Whether some upstream needs event (no_flag) / a reply to it (nr_flag). */
static int chain_event(const struct session *s, unsigned long no_flag)
{
    return s->chain && chain_wants_event(s->chain, no_flag);
}

static int chain_reply(const struct session *s, unsigned long no_flag, unsigned long nr_flag)
{
    return s->chain && chain_wants_reply(s->chain, no_flag, nr_flag);
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    (void)f2;
    (void)f3;
    struct config *cfg = holder_get();
    struct session *s = cfg ? session_new(ctx, cfg) : NULL;
    if (s == NULL) {
        if (cfg)
            conf_unref(cfg);
        /* Take every event with replies: the MAIL callback will fail safe. */
        *pf0 = 0;
        *pf1 = 0;
        *pf2 = *pf3 = 0;
        return SMFIS_CONTINUE;
    }
    smfi_setpriv(ctx, s);
    relay_open(s, f0, f1);
    unsigned used = cfg->stages_used;
    unsigned long p = 0;
    p |= f1 & (SMFIP_RCPT_REJ | SMFIP_NR_CONN | SMFIP_NR_HELO);
    if (!(used & STAGE_BIT(STAGE_DATA)) && !chain_reply(s, SMFIP_NODATA, SMFIP_NR_DATA)) {
        if (callbacks_socket_is_unix && (f1 & SMFIP_NODATA) && !chain_event(s, SMFIP_NODATA))
            p |= SMFIP_NODATA;
        else
            p |= f1 & SMFIP_NR_DATA;
    }
    int want_headers =
        (used & STAGE_BIT(STAGE_HEADER)) || s->hbits != NULL || chain_event(s, SMFIP_NOHDRS);
    if (!want_headers)
        p |= f1 & SMFIP_NOHDRS;
    else if (!(used & STAGE_BIT(STAGE_HEADER)) && !chain_reply(s, SMFIP_NOHDRS, SMFIP_NR_HDR))
        p |= f1 & SMFIP_NR_HDR;
    if (!(used & STAGE_BIT(STAGE_EOH)) && !chain_event(s, SMFIP_NOEOH))
        p |= f1 & SMFIP_NOEOH;
    if (!(used & STAGE_BIT(STAGE_BODY)) && !chain_event(s, SMFIP_NOBODY))
        p |= f1 & SMFIP_NOBODY;
    if (!(used & STAGE_BIT(STAGE_UNKNOWN)) && !chain_event(s, SMFIP_NOUNKNOWN))
        p |= f1 & SMFIP_NOUNKNOWN;
    s->proto = p;
    *pf0 = f0 & (SMFIF_SETSYMLIST | (s->chain ? chain_actions(s->chain) : 0));
    *pf1 = p;
    *pf2 = *pf3 = 0;
    if (*pf0 & SMFIF_SETSYMLIST)
        request_macros(ctx, cfg, s->chain);
    return SMFIS_CONTINUE;
}

static void addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
    buf[0] = '\0';
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)len);
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, struct sockaddr *sa)
{
    struct session *s = get(ctx);
    if (s == NULL) {
        /* negotiate was not called (old MTA): make the session here */
        struct config *cfg = holder_get();
        s = cfg ? session_new(ctx, cfg) : NULL;
        if (s == NULL) {
            if (cfg)
                conf_unref(cfg);
            return SMFIS_CONTINUE; /* no_session() at MAIL */
        }
        smfi_setpriv(ctx, s);
        relay_reopen(s);
    }
    char addr[INET6_ADDRSTRLEN + 1];
    addr_text(sa, addr, sizeof addr);
    session_set(&s->client_addr, addr[0] ? addr : NULL);
    session_set(&s->client_name, hostname);
    sfsistat v = policy(s, STAGE_CONNECT);
    if (s->chain) {
        struct chain_result r;
        chain_connect(s->chain, ctx, hostname, sa, &r);
        relay_result(s, STAGE_CONNECT, &r); /* kept for MAIL when refused */
    }
    return early_reply(s, SMFIP_NR_CONN, v);
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
    struct session *s = get(ctx);
    if (s == NULL)
        return SMFIS_CONTINUE;
    session_set(&s->helo, helo);
    /* A client that says HELO again is judged on its new name, as Postfix's
       own HELO restrictions judge the latest one: our refusal of the earlier
       name goes.  A connect-stage or an upstream's refusal stays, also one
       that came after ours and was not kept (the upstream is done with
       this connection and will not be asked again). */
    if (s->has_pending && s->pending_stage == STAGE_HELO && s->pending_source == NULL
        && !s->early_refusal_dropped)
        session_clear_pending(s);
    sfsistat v = s->has_pending ? SMFIS_CONTINUE : policy(s, STAGE_HELO);
    if (s->chain) {
        struct chain_result r;
        chain_helo(s->chain, ctx, helo, &r);
        relay_result(s, STAGE_HELO, &r);
    }
    return early_reply(s, SMFIP_NR_HELO, v);
}

/* "<a@b>" -> "a@b" */
static void set_address(char **field, const char *arg)
{
    if (arg == NULL) {
        session_set(field, NULL);
        return;
    }
    size_t n = strlen(arg);
    if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>') {
        char *copy = strndup(arg + 1, n - 2);
        free(*field);
        *field = copy;
    } else
        session_set(field, arg);
}

static void update_queue_id(struct session *s)
{
    const char *i = smfi_getsymval(s->ctx, "i");
    if (i && *i && (s->queue_id == NULL || strcmp(s->queue_id, i) != 0))
        session_set(&s->queue_id, i);
}

/* A connect/HELO refusal (own or an upstream's), at MAIL and RCPT. */
static sfsistat apply_pending(struct session *s, enum stage now)
{
    if (s->pending_source)
        return relay_pending(s, now);
    return verdict_apply(s, now, s->pending_stage, &s->pending);
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    struct session *s = get(ctx);
    if (s == NULL)
        return no_session(ctx);
    session_reset_message(s);
    set_address(&s->sender, argv ? argv[0] : NULL);
    const char *auth = smfi_getsymval(ctx, "{auth_authen}");
    session_set(&s->auth_login, auth && *auth ? auth : NULL);
    update_queue_id(s);
    if (s->has_pending)
        return apply_pending(s, STAGE_MAIL);
    if (s->chain_broken)
        return verdict_error(s, STAGE_MAIL, "proxy mode could not start");
    sfsistat v = policy(s, STAGE_MAIL);
    if (v != SMFIS_CONTINUE || s->chain == NULL)
        return v;
    struct chain_result r;
    chain_mail(s->chain, ctx, argv, &r);
    return relay_result(s, STAGE_MAIL, &r);
}

/*
 * A recipient the MTA rejected itself ({rcpt_mailer} = error): Postfix gives
 * the enhanced code in {rcpt_host} and the text in {rcpt_addr}, not the
 * 3-digit code, so the basic code is inferred from the class (550/450) for
 * rule matching; the audit record keeps the original as reported.
 */
static sfsistat observe_rejected_rcpt(struct session *s)
{
    const char *host = smfi_getsymval(s->ctx, "{rcpt_host}");
    const char *text = smfi_getsymval(s->ctx, "{rcpt_addr}");
    /* sendmail passes "550 5.1.1 User unknown" in {rcpt_addr}; Postfix only the text */
    int has_code = text && text[0] >= '2' && text[0] <= '5' && text[1] >= '0' && text[1] <= '9';
    char original[1200];
    if (has_code)
        snprintf(original, sizeof original, "%s", text);
    else
        snprintf(original, sizeof original, "%s%s%s", host ? host : "", host && text ? " " : "",
                 text ? text : "");
    struct reply orig;
    reply_init(&orig);
    char guess[1300];
    if (has_code)
        snprintf(guess, sizeof guess, "%s", text);
    else
        snprintf(guess, sizeof guess, "%d %s", host && host[0] == '4' ? 450 : 550, original);
    struct decision d;
    engine_decision_init(&d);
    int matched = 0;
    if (reply_parse(guess, &orig, NULL) == 0) {
        struct session_facts f;
        session_facts(s, &f);
        struct event ev = {.stage = STAGE_RCPT, .source = "mta", .orig = &orig, .facts = &f};
        matched = engine_eval(s->cfg, &ev, &d);
        if (matched < 0) {
            logging_printf(LOG_WARNING, session_log_id(s),
                           "rule evaluation failed for an MTA rejection");
            matched = 0;
        }
    }
    verdict_observe(s, STAGE_RCPT, original, &d, matched > 0);
    engine_decision_free(&d);
    reply_free(&orig);
    return SMFIS_CONTINUE; /* ignored by the MTA for a rejected recipient */
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
    struct session *s = get(ctx);
    if (s == NULL)
        return no_session(ctx);
    set_address(&s->rcpt, argv ? argv[0] : NULL);
    update_queue_id(s);
    const char *mailer = smfi_getsymval(ctx, "{rcpt_mailer}");
    if (mailer && strcmp(mailer, "error") == 0) {
        if (s->chain) { /* to upstreams that asked for such recipients */
            struct chain_result r;
            chain_rcpt(s->chain, ctx, argv, 1, &r);
            chain_result_free(&r);
        }
        return observe_rejected_rcpt(s);
    }
    if (s->has_pending) /* MAIL was refused; keep refusing if the client goes on */
        return apply_pending(s, STAGE_RCPT);
    sfsistat v = policy(s, STAGE_RCPT);
    if (v != SMFIS_CONTINUE || s->chain == NULL)
        return v;
    struct chain_result r;
    chain_rcpt(s->chain, ctx, argv, 0, &r);
    return relay_result(s, STAGE_RCPT, &r);
}

static sfsistat cb_data(SMFICTX *ctx)
{
    struct session *s = get(ctx);
    if (s == NULL)
        return no_session(ctx);
    update_queue_id(s);
    sfsistat v = policy(s, STAGE_DATA);
    if (v == SMFIS_CONTINUE && s->chain) {
        struct chain_result r;
        chain_data(s->chain, ctx, &r);
        v = relay_result(s, STAGE_DATA, &r);
    }
    if (v == SMFIS_CONTINUE && (s->proto & SMFIP_NR_DATA))
        return SMFIS_NOREPLY;
    return v;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    struct session *s = get(ctx);
    if (s == NULL)
        return no_session(ctx);
    /* A failure is remembered for the end of the message: a reply here
       may be one the MTA does not wait for (SMFIP_NR_HDR), and the
       upstreams must still see the header. */
    if (s->hbits && !s->conn_accepted && !s->msg_accepted
        && session_add_header(s, name, value ? value : "") < 0)
        s->header_failed = 1;
    sfsistat v = (s->proto & SMFIP_NR_HDR) ? SMFIS_CONTINUE : policy(s, STAGE_HEADER);
    if (v == SMFIS_CONTINUE && s->chain) {
        struct chain_result r;
        chain_header(s->chain, ctx, name, value, &r);
        v = relay_result(s, STAGE_HEADER, &r);
    }
    if (s->proto & SMFIP_NR_HDR)
        return SMFIS_NOREPLY; /* nobody asked to answer headers (a failure shows at EOH/EOM) */
    return v;
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
    struct session *s = get(ctx);
    if (s == NULL)
        return no_session(ctx);
    sfsistat v = policy(s, STAGE_EOH);
    if (v == SMFIS_CONTINUE && s->chain) {
        struct chain_result r;
        chain_eoh(s->chain, ctx, &r);
        v = relay_result(s, STAGE_EOH, &r);
    }
    return v;
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct session *s = get(ctx);
    if (s == NULL)
        return no_session(ctx);
    sfsistat v = policy(s, STAGE_BODY);
    if (v == SMFIS_CONTINUE && s->chain) {
        struct chain_result r;
        chain_body(s->chain, ctx, chunk, len, &r);
        v = relay_result(s, STAGE_BODY, &r);
    }
    return v;
}

static sfsistat cb_eom(SMFICTX *ctx)
{
    struct session *s = get(ctx);
    if (s == NULL)
        return no_session(ctx);
    update_queue_id(s);
    session_set(&s->rcpt, NULL);
    sfsistat v = policy(s, STAGE_EOM);
    if (s->chain && v != SMFIS_CONTINUE)
        chain_abort(s->chain); /* upstreams must not wait for this message's end */
    else if (s->chain) {
        struct chain_result r;
        chain_eom(s->chain, ctx, &r);
        v = relay_result(s, STAGE_EOM, &r);
    }
    return v;
}

static sfsistat cb_unknown(SMFICTX *ctx, const char *cmd)
{
    struct session *s = get(ctx);
    if (s == NULL)
        return no_session(ctx);
    sfsistat v = policy(s, STAGE_UNKNOWN);
    if (v == SMFIS_CONTINUE && s->chain) {
        struct chain_result r;
        chain_unknown(s->chain, ctx, cmd, &r);
        v = relay_result(s, STAGE_UNKNOWN, &r);
    }
    return v;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
    struct session *s = get(ctx);
    if (s) {
        session_reset_message(s);
        if (s->chain)
            chain_abort(s->chain);
    }
    return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
    struct session *s = get(ctx);
    if (s) {
        smfi_setpriv(ctx, NULL);
        session_free(s);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc callbacks_filter = {
    .xxfi_name = DAEMON_NAME,
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_SETSYMLIST,
    .xxfi_connect = cb_connect,
    .xxfi_helo = cb_helo,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_envrcpt = cb_envrcpt,
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_unknown = cb_unknown,
    .xxfi_data = cb_data,
    .xxfi_negotiate = cb_negotiate,
};
