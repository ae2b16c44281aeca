/*
 * chain.c - drives the upstream milters of one MTA connection (see chain.h
 * for the semantics, modelled on how Postfix drives its own milter list).
 *
 * Per event: for each upstream in order that is still in the chain for the
 * event's scope and negotiated the event, send the stage's macros and the
 * event in one write, then (unless it negotiated "no reply" for the event)
 * read until a final reply, skipping PROGRESS and, at end of message,
 * relaying modification requests.  Macros are those the MTA gave us for
 * the names we asked it for (Postfix's defaults plus what each upstream
 * requested), so each upstream sees what the MTA would have sent it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <syslog.h>

#include "chain.h"
#include "modify.h"

/* How an event is handled. */
struct ev {
    enum stage st;
    unsigned char cmd;
    uint32_t no_flag, nr_flag; /* SMFIP_NO* / SMFIP_NR_* of the event (0: none) */
    int mpm;                   /* macro stage sent before it, -1 for none */
    unsigned char macro_cmd;   /* command byte the macros are sent for */
};

static const struct ev EV_CONNECT = {STAGE_CONNECT, MPC_CONNECT, MPP_NOCONNECT,
                                     MPP_NR_CONN,   MPM_CONNECT, MPC_CONNECT};
static const struct ev EV_HELO = {STAGE_HELO,  MPC_HELO, MPP_NOHELO,
                                  MPP_NR_HELO, MPM_HELO, MPC_HELO};
static const struct ev EV_MAIL = {STAGE_MAIL,  MPC_MAIL,    MPP_NOMAIL,
                                  MPP_NR_MAIL, MPM_ENVFROM, MPC_MAIL};
static const struct ev EV_RCPT = {STAGE_RCPT,  MPC_RCPT,    MPP_NORCPT,
                                  MPP_NR_RCPT, MPM_ENVRCPT, MPC_RCPT};
static const struct ev EV_DATA = {STAGE_DATA,  MPC_DATA, MPP_NODATA,
                                  MPP_NR_DATA, MPM_DATA, MPC_DATA};
static const struct ev EV_HEADER = {STAGE_HEADER, MPC_HEADER, MPP_NOHDRS, MPP_NR_HDR, -1, 0};
static const struct ev EV_EOH = {STAGE_EOH, MPC_EOH, MPP_NOEOH, MPP_NR_EOH, MPM_EOH, MPC_EOH};
static const struct ev EV_BODY = {STAGE_BODY, MPC_BODY, MPP_NOBODY, MPP_NR_BODY, -1, 0};
static const struct ev EV_EOM = {STAGE_EOM, MPC_BODYEOB, 0, 0, MPM_EOM, MPC_BODYEOB};
static const struct ev EV_UNKNOWN = {STAGE_UNKNOWN, MPC_UNKNOWN, MPP_NOUNKNOWN, MPP_NR_UNKN, -1, 0};

/* Postfix's default macro lists (its milter_*_macros settings): asking the
   MTA for a list replaces its default, so the defaults are always included. */
static const char *const default_macros[MPM_COUNT] = {
    [MPM_CONNECT] = "j {daemon_name} {daemon_addr} v _ {client_addr} {client_name}",
    [MPM_HELO] = "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
    [MPM_ENVFROM] =
        "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
    [MPM_ENVRCPT] = "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
    [MPM_DATA] = "i",
    [MPM_EOM] = "i",
    [MPM_EOH] = "i",
};

static int merge_macro_lists(struct chain *ch);

void chain_result_free(struct chain_result *r)
{
    free(r->text);
    memset(r, 0, sizeof *r);
}

static void logf_(struct chain *ch, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(struct chain *ch, int prio, const char *fmt, ...)
{
    if (ch->log == NULL)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ch->log(ch->log_arg, prio, "%s", msg);
}

/* An upstream that just failed: out of the chain (on_failure = accept) or
   failed for the rest of the connection. */
static void note_failure(struct chain *ch, struct upstream *u)
{
    if (u->conf->on_failure == ACTION_ACCEPT) {
        logf_(ch, LOG_WARNING,
              "upstream %s failed: %s; on_failure=accept: left out for this "
              "connection",
              u->conf->name, u->why);
        u->state = UP_DONE_CONN;
    } else
        logf_(ch, LOG_ERR, "upstream %s failed: %s; on_failure=%s", u->conf->name, u->why,
              names_action(u->conf->on_failure));
}

struct chain *chain_open(const struct config *cfg, unsigned long mta_actions,
                         unsigned long mta_proto, chain_log_fn log, void *log_arg)
{
    struct chain *ch = calloc(1, sizeof *ch);
    if (ch == NULL)
        return NULL;
    ch->ups = calloc(cfg->nupstreams ? cfg->nupstreams : 1, sizeof *ch->ups);
    if (ch->ups == NULL) {
        free(ch);
        return NULL;
    }
    ch->cfg = cfg;
    ch->n = cfg->nupstreams;
    ch->log = log;
    ch->log_arg = log_arg;
    ch->mta_rcpt_rej = (mta_proto & MPP_RCPT_REJ) != 0;
    /* We implement every NO and NR step and SKIP ourselves; header values
       keep the MTA's form (no leading space); rejected recipients only if
       the MTA reports them. */
    uint32_t proto = MPP_ALL & ~MPP_HDR_LEADSPC & ~(ch->mta_rcpt_rej ? 0 : MPP_RCPT_REJ);
    uint32_t actions = (uint32_t)(mta_actions & MPF_ALL);
    for (size_t i = 0; i < ch->n; i++) {
        struct upstream *u = &ch->ups[i];
        upstream_init(u, &cfg->upstreams[i]);
        if (upstream_open(u, actions, proto) < 0)
            note_failure(ch, u);
    }
    if (merge_macro_lists(ch) < 0) {
        chain_close(ch);
        return NULL;
    }
    return ch;
}

void chain_close(struct chain *ch)
{
    if (ch == NULL)
        return;
    for (size_t i = 0; i < ch->n; i++)
        upstream_close(&ch->ups[i]);
    for (int mpm = 0; mpm < MPM_COUNT; mpm++)
        free(ch->macro_names[mpm]);
    free(ch->ups);
    free(ch);
}

static int live(const struct upstream *u)
{
    return u->state == UP_ACTIVE || u->state == UP_DONE_MSG;
}

unsigned long chain_actions(const struct chain *ch)
{
    unsigned long a = 0;
    for (size_t i = 0; i < ch->n; i++)
        if (live(&ch->ups[i]))
            a |= ch->ups[i].actions & ~MPF_SETSYMLIST;
    return a;
}

int chain_wants_event(const struct chain *ch, unsigned long no_flag)
{
    for (size_t i = 0; i < ch->n; i++)
        if (live(&ch->ups[i]) && !(ch->ups[i].proto & no_flag))
            return 1;
    return 0;
}

int chain_wants_reply(const struct chain *ch, unsigned long no_flag, unsigned long nr_flag)
{
    for (size_t i = 0; i < ch->n; i++) {
        const struct upstream *u = &ch->ups[i];
        if (live(u) && !(u->proto & no_flag) && (nr_flag == 0 || !(u->proto & nr_flag)))
            return 1;
    }
    return 0;
}

/* Appends the words of list to buf that buf does not have yet. */
static void merge_names(char *buf, size_t len, const char *list)
{
    const char *p = list;
    while (p && *p) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t,");
        if (n == 0)
            break;
        int have = 0;
        for (const char *q = buf; *q && !have;) {
            q += strspn(q, " ");
            size_t m = strcspn(q, " ");
            have = m == n && strncmp(q, p, n) == 0;
            q += m;
        }
        size_t used = strlen(buf);
        if (!have && used + n + 2 < len)
            snprintf(buf + used, len - used, "%s%.*s", used ? " " : "", (int)n, p);
        p += n;
    }
}

/* Per macro stage: Postfix's defaults plus every list an upstream asked for
   at negotiation, merged once (the MTA is asked for exactly these). */
static int merge_macro_lists(struct chain *ch)
{
    for (int mpm = 0; mpm < MPM_COUNT; mpm++) {
        char buf[1024] = "";
        merge_names(buf, sizeof buf, default_macros[mpm]);
        for (size_t i = 0; i < ch->n; i++)
            if (live(&ch->ups[i]))
                merge_names(buf, sizeof buf, ch->ups[i].macros[mpm]);
        ch->macro_names[mpm] = strdup(buf);
        if (ch->macro_names[mpm] == NULL)
            return -1;
    }
    return 0;
}

void chain_macro_names(const struct chain *ch, int mpm, char *buf, size_t len)
{
    if (mpm >= 0 && mpm < MPM_COUNT)
        merge_names(buf, len, ch->macro_names[mpm]);
}

/* The 'D' packet for stage e: every name of the stage's list the MTA gave a value. */
static int put_macros(struct strbuf *sb, const struct chain *ch, SMFICTX *ctx, const struct ev *e)
{
    if (e->mpm < 0 || ctx == NULL)
        return 0;
    char names[1024];
    snprintf(names, sizeof names, "%s", ch->macro_names[e->mpm]);
    const char *nv[64], *vv[64];
    size_t n = 0;
    for (char *save = NULL, *w = strtok_r(names, " ", &save); w && n < 64;
         w = strtok_r(NULL, " ", &save)) {
        const char *val = smfi_getsymval(ctx, w);
        if (val) {
            nv[n] = w;
            vv[n++] = val;
        }
    }
    if (n == 0)
        return 0;
    return mp_put_macros(sb, e->macro_cmd, nv, vv, n);
}

static void refused(struct chain_result *r, const struct upstream *u, unsigned char cmd)
{
    r->outcome = CHAIN_REFUSED;
    r->up = u->conf;
    r->cmd = cmd;
}

static void failed_result(const struct upstream *u, struct chain_result *r)
{
    r->outcome = CHAIN_FAILED;
    r->up = u->conf;
    snprintf(r->why, sizeof r->why, "%s", u->why);
}

/* A REPLYCODE packet: one string, 4xx or 5xx.  0, or -1 (protocol error). */
static int take_replycode(struct upstream *u, const struct mp_packet *p, struct chain_result *r)
{
    const char *v[1];
    size_t n;
    if (mp_parse_strings(p, v, 1, &n) < 0 || n != 1 || (v[0][0] != '4' && v[0][0] != '5')) {
        upstream_fail(u, "protocol error: malformed reply code packet");
        return -1;
    }
    r->text = strdup(v[0]);
    if (r->text == NULL) {
        upstream_fail(u, "no memory for its reply");
        return -1;
    }
    refused(r, u, MPR_REPLYCODE);
    return 0;
}

/*
 * Reads u's answer to event e.  Returns 1 when the chain goes on to the
 * next upstream, 0 when u refused (r filled), -1 when u failed (u->why).
 */
static int read_answer(struct upstream *u, SMFICTX *ctx, const struct ev *e, struct chain_result *r)
{
    for (;;) {
        struct mp_packet p;
        if (upstream_recv(u, &p) < 0)
            return -1;
        switch (p.cmd) {
        case MPR_PROGRESS: continue;
        case MPR_CONTINUE: return 1;
        case MPR_ACCEPT: u->state = e->st <= STAGE_HELO ? UP_DONE_CONN : UP_DONE_MSG; return 1;
        case MPR_SKIP:
            if (e->st != STAGE_BODY)
                break;
            u->skip_body = 1;
            return 1;
        case MPR_REJECT:
        case MPR_TEMPFAIL:
        case MPR_DISCARD:
        case MPR_SHUTDOWN:
        case MPR_CONN_FAIL: refused(r, u, p.cmd); return 0;
        case MPR_REPLYCODE: return take_replycode(u, &p, r) == 0 ? 0 : -1;
        default:
            if (e->st == STAGE_EOM && modify_is_request(p.cmd)) {
                char err[160];
                if (modify_apply(ctx, &p, err, sizeof err) < 0) {
                    upstream_fail(u, "%s", err);
                    return -1;
                }
                continue;
            }
            break;
        }
        upstream_fail(u, "protocol error: unexpected %s reply after %s", mp_cmd_name(p.cmd),
                      mp_cmd_name(e->cmd));
        return -1;
    }
}

/* Whether u takes part in event e now. */
static int takes(const struct upstream *u, const struct ev *e)
{
    if (u->state == UP_DONE_CONN || u->fd < 0)
        return 0;
    if (u->state == UP_DONE_MSG && e->st >= STAGE_MAIL)
        return 0;
    if (e->no_flag && (u->proto & e->no_flag))
        return 0;
    return !(e->st == STAGE_BODY && u->skip_body);
}

/* Sends the stage's macros and event e (encoded in `packet`) along the
   chain.  The bytes are the same for every upstream, so they are put
   together once, when the first upstream takes the event. */
static enum chain_outcome run(struct chain *ch, SMFICTX *ctx, const struct ev *e,
                              const struct strbuf *packet, int ignore_answer, uint32_t only_flag,
                              struct chain_result *r)
{
    memset(r, 0, sizeof *r);
    struct strbuf wire;
    sb_init(&wire);
    int built = 0, no_memory = 0;
    for (size_t i = 0; i < ch->n && r->outcome == CHAIN_CONTINUE; i++) {
        struct upstream *u = &ch->ups[i];
        if (u->state == UP_FAILED) {
            if (!ignore_answer)
                failed_result(u, r); /* failed earlier: on_failure again */
            continue;
        }
        if (!takes(u, e) || (only_flag && !(u->proto & only_flag)))
            continue;
        if (!built) {
            built = 1;
            no_memory = packet->oom || put_macros(&wire, ch, ctx, e) < 0;
            sb_putn(&wire, packet->s, packet->len);
            no_memory |= wire.oom;
        }
        if (no_memory)
            upstream_fail(u, "no memory for a packet");
        else
            upstream_send(u, &wire);
        int next = 1;
        if (u->state != UP_FAILED && !(e->nr_flag && (u->proto & e->nr_flag)))
            next = read_answer(u, ctx, e, r);
        if (u->state == UP_FAILED || next < 0) {
            note_failure(ch, u); /* logged once, here */
            if (u->state == UP_FAILED && !ignore_answer)
                failed_result(u, r);
            continue;
        }
        if (e->st == STAGE_MAIL)
            u->in_msg = 1;
        if (next == 0 && ignore_answer)
            chain_result_free(r);
        else if (next == 0 && e->st <= STAGE_HELO)
            u->state = UP_DONE_CONN; /* a refusal at connect/HELO ends its connection */
    }
    sb_free(&wire);
    return r->outcome;
}

static enum chain_outcome send_simple(struct chain *ch, SMFICTX *ctx, const struct ev *e,
                                      const void *data, size_t len, struct chain_result *r)
{
    struct strbuf pk;
    sb_init(&pk);
    mp_put(&pk, e->cmd, data, len);
    enum chain_outcome o = run(ch, ctx, e, &pk, 0, 0, r);
    sb_free(&pk);
    return o;
}

static enum chain_outcome send_strings(struct chain *ch, SMFICTX *ctx, const struct ev *e,
                                       const char *const *v, size_t n, int ignore, uint32_t only,
                                       struct chain_result *r)
{
    struct strbuf pk;
    sb_init(&pk);
    mp_put_strings(&pk, e->cmd, v, n);
    enum chain_outcome o = run(ch, ctx, e, &pk, ignore, only, r);
    sb_free(&pk);
    return o;
}

enum chain_outcome chain_connect(struct chain *ch, SMFICTX *ctx, const char *host,
                                 const struct sockaddr *sa, struct chain_result *r)
{
    char addr[INET6_ADDRSTRLEN + 1] = "";
    char family = 'U';
    uint16_t port = 0;
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, addr, sizeof addr);
        family = '4';
        port = ntohs(in->sin_port);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr);
        family = '6';
        port = ntohs(in6->sin6_port);
    }
    struct strbuf pk;
    sb_init(&pk);
    mp_put_connect(&pk, host ? host : "unknown", family, port, family == 'U' ? NULL : addr);
    enum chain_outcome o = run(ch, ctx, &EV_CONNECT, &pk, 0, 0, r);
    sb_free(&pk);
    return o;
}

enum chain_outcome chain_helo(struct chain *ch, SMFICTX *ctx, const char *helo,
                              struct chain_result *r)
{
    const char *v[1] = {helo ? helo : ""};
    return send_strings(ch, ctx, &EV_HELO, v, 1, 0, 0, r);
}

static size_t argc_of(char **argv)
{
    size_t n = 0;
    while (argv && argv[n] && n < 64)
        n++;
    return n;
}

enum chain_outcome chain_mail(struct chain *ch, SMFICTX *ctx, char **argv, struct chain_result *r)
{
    for (size_t i = 0; i < ch->n; i++) { /* a new transaction */
        if (ch->ups[i].state == UP_DONE_MSG)
            ch->ups[i].state = UP_ACTIVE;
        ch->ups[i].skip_body = 0;
    }
    return send_strings(ch, ctx, &EV_MAIL, (const char *const *)argv, argc_of(argv), 0, 0, r);
}

enum chain_outcome chain_rcpt(struct chain *ch, SMFICTX *ctx, char **argv, int mta_rejected,
                              struct chain_result *r)
{
    return send_strings(ch, ctx, &EV_RCPT, (const char *const *)argv, argc_of(argv), mta_rejected,
                        mta_rejected ? MPP_RCPT_REJ : 0, r);
}

enum chain_outcome chain_data(struct chain *ch, SMFICTX *ctx, struct chain_result *r)
{
    return send_simple(ch, ctx, &EV_DATA, NULL, 0, r);
}

enum chain_outcome chain_header(struct chain *ch, SMFICTX *ctx, const char *name, const char *value,
                                struct chain_result *r)
{
    const char *v[2] = {name ? name : "", value ? value : ""};
    return send_strings(ch, ctx, &EV_HEADER, v, 2, 0, 0, r);
}

enum chain_outcome chain_eoh(struct chain *ch, SMFICTX *ctx, struct chain_result *r)
{
    return send_simple(ch, ctx, &EV_EOH, NULL, 0, r);
}

enum chain_outcome chain_body(struct chain *ch, SMFICTX *ctx, const unsigned char *chunk,
                              size_t len, struct chain_result *r)
{
    return send_simple(ch, ctx, &EV_BODY, chunk, len, r);
}

int chain_wants_body(const struct chain *ch)
{
    for (size_t i = 0; i < ch->n; i++)
        if (takes(&ch->ups[i], &EV_BODY))
            return 1;
    return 0;
}

/* After end of message every upstream is back in the chain for the next one. */
static void message_done(struct chain *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        if (ch->ups[i].state == UP_DONE_MSG)
            ch->ups[i].state = UP_ACTIVE;
        ch->ups[i].skip_body = 0;
        ch->ups[i].in_msg = 0;
    }
}

enum chain_outcome chain_eom(struct chain *ch, SMFICTX *ctx, struct chain_result *r)
{
    enum chain_outcome o = send_simple(ch, ctx, &EV_EOM, NULL, 0, r);
    message_done(ch);
    return o;
}

enum chain_outcome chain_unknown(struct chain *ch, SMFICTX *ctx, const char *cmd,
                                 struct chain_result *r)
{
    const char *v[1] = {cmd ? cmd : ""};
    return send_strings(ch, ctx, &EV_UNKNOWN, v, 1, 0, 0, r);
}

/* ABORT has no reply; upstreams that accepted the message do not get it
   or never saw its MAIL do not get it (Postfix sends it only to milters
   still in the transaction). */
void chain_abort(struct chain *ch)
{
    struct strbuf pk;
    sb_init(&pk);
    if (mp_put(&pk, MPC_ABORT, NULL, 0) == 0)
        for (size_t i = 0; i < ch->n; i++) {
            struct upstream *u = &ch->ups[i];
            if (u->state == UP_ACTIVE && u->in_msg && u->fd >= 0 && upstream_send(u, &pk) < 0)
                note_failure(ch, u);
        }
    sb_free(&pk);
    message_done(ch);
}
