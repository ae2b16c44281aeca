/*
 * verdict.c - the only place the daemon sets SMTP replies.
 *
 * Rules it keeps (libmilter's behaviour): a reply is set only together
 * with the verdict it belongs to (a reply left behind leaks into a later
 * plain REJECT/TEMPFAIL); 5xx goes with SMFIS_REJECT and 4xx with
 * SMFIS_TEMPFAIL (otherwise libmilter drops the text); "%" is doubled;
 * at most 32 lines of 980 characters.  The engine already produced a
 * sanitized, class-matched reply; this file re-checks the code against the
 * verdict because a mismatch would cut the milter off in Postfix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon.h"
#include "verdict.h"

static const char *mode_name(const struct session *s)
{
    return s->cfg && s->cfg->mode == MODE_AUDIT ? "audit" : "enforce";
}

static void fill_record(struct audit_record *r, struct session *s, enum stage st)
{
    memset(r, 0, sizeof *r);
    clock_gettime(CLOCK_REALTIME, &r->time);
    r->session = s->id;
    r->queue_id = s->queue_id;
    r->stage = names_stage(st);
    r->client_addr = s->client_addr;
    r->client_name = s->client_name;
    r->helo = s->helo;
    r->sender = s->sender;
    r->rcpt = s->rcpt;
    r->mode = mode_name(s);
}

/* One audit record: who decided (source), the reply before (original) and
   after (d's reply), the rule, the action and a note. */
static void emit(struct session *s, enum stage st, const char *source, const char *original,
                 const struct decision *d, const struct rule *rule, const char *action,
                 const char *note)
{
    struct audit_record r;
    fill_record(&r, s, st);
    r.source = source;
    r.original = original;
    char *wire = d->has_reply ? reply_format(&d->reply, "\n") : NULL;
    r.reply = wire;
    r.rule = rule ? rule->name : NULL;
    r.action = action;
    r.note = note;
    logging_audit_emit(&r);
    free(wire);
}

void verdict_audit(struct session *s, enum stage rule_stage, const struct decision *d,
                   const char *action, const char *note)
{
    emit(s, rule_stage, "self", NULL, d, d->rule, action, note);
}

/* Sets the reply on the context; 0 on success. */
static int set_reply(SMFICTX *ctx, const struct reply *rp)
{
    char code[8];
    snprintf(code, sizeof code, "%d", rp->code);
    char **lines = sanitize_milter_lines(rp);
    if (lines == NULL)
        return -1;
    char *x = rp->has_enhanced ? (char *)rp->enhanced : NULL;
    int rc;
    if (rp->nlines <= 1) {
        rc = smfi_setreply(ctx, code, x, lines[0] ? lines[0] : "");
    } else {
        char *l[REPLY_MAX_LINES + 1] = {0};
        for (size_t i = 0; i < rp->nlines && i < REPLY_MAX_LINES; i++)
            l[i] = lines[i];
        rc = smfi_setmlreply(ctx, code, x, l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7], l[8],
                             l[9], l[10], l[11], l[12], l[13], l[14], l[15], l[16], l[17], l[18],
                             l[19], l[20], l[21], l[22], l[23], l[24], l[25], l[26], l[27], l[28],
                             l[29], l[30], l[31], (char *)NULL);
    }
    sanitize_free_lines(lines);
    return rc == MI_SUCCESS ? 0 : -1;
}

/* Refuses with rp (class checked against the verdict), falling back to the
   taxonomy's default reply, and to a bare verdict only if even that fails:
   a vague refusal is better than accepting what policy refuses. */
static sfsistat refuse(struct session *s, enum action a, const struct reply *rp)
{
    int want = a == ACTION_REJECT ? 5 : 4;
    sfsistat verdict = a == ACTION_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    if (rp && rp->code / 100 == want && (!rp->has_enhanced || rp->eclass == want)
        && set_reply(s->ctx, rp) == 0)
        return verdict;
    logging_printf(LOG_ERR, session_log_id(s), "could not set the rule's reply; using the default");
    struct reply def;
    reply_init(&def);
    if (engine_default_reply(a, NULL, &def) == 0 && set_reply(s->ctx, &def) == 0) {
        reply_free(&def);
        return verdict;
    }
    reply_free(&def);
    logging_printf(LOG_ERR, session_log_id(s),
                   "could not set any reply text; refusing without one");
    return verdict;
}

sfsistat verdict_apply(struct session *s, enum stage now, enum stage rule_stage,
                       const struct decision *d)
{
    const char *act = names_action(d->action);
    int audit_only = s->cfg && s->cfg->mode == MODE_AUDIT;
    char note[96] = "";
    if (now != rule_stage)
        snprintf(note, sizeof note, "decided at %s, applied at %s", names_stage(rule_stage),
                 names_stage(now));
    switch (d->action) {
    case ACTION_REJECT:
    case ACTION_TEMPFAIL:
        verdict_audit(s, rule_stage, d, act, note[0] ? note : NULL);
        if (audit_only)
            return SMFIS_CONTINUE;
        return refuse(s, d->action, d->has_reply ? &d->reply : NULL);
    case ACTION_DISCARD:
        verdict_audit(s, rule_stage, d, act, note[0] ? note : NULL);
        return audit_only ? SMFIS_CONTINUE : SMFIS_DISCARD;
    case ACTION_ACCEPT:
        if (now <= STAGE_HELO)
            s->conn_accepted = 1;
        else if (now != STAGE_RCPT)
            s->msg_accepted = 1;
        logging_printf(LOG_INFO, session_log_id(s), "accepted by rule %s at %s",
                       d->rule ? d->rule->name : "?", names_stage(now));
        return SMFIS_CONTINUE;
    case ACTION_LOG:
    case ACTION_REWRITE:
    default: verdict_audit(s, rule_stage, d, "log", NULL); return SMFIS_CONTINUE;
    }
}

sfsistat verdict_relay(struct session *s, enum stage now, enum stage decided, const char *source,
                       const char *original, const struct decision *d, const char *note)
{
    char buf[320];
    if (now != decided)
        snprintf(buf, sizeof buf, "%s%sdecided at %s, applied at %s", note ? note : "",
                 note ? "; " : "", names_stage(decided), names_stage(now));
    emit(s, decided, source, original, d, d->rule, names_action(d->action),
         now != decided ? buf : note);
    /* Upstream decisions are relayed in audit mode too: in proxy mode the
       MTA no longer talks to the upstream, so dropping them would switch
       it off.  mode = audit concerns milter-reword's own rules. */
    if (d->action == ACTION_DISCARD)
        return SMFIS_DISCARD;
    if (d->action == ACTION_REJECT || d->action == ACTION_TEMPFAIL)
        return refuse(s, d->action, d->has_reply ? &d->reply : NULL);
    return SMFIS_CONTINUE;
}

sfsistat verdict_error(struct session *s, enum stage now, const char *what)
{
    enum action a = s->cfg ? s->cfg->on_error : ACTION_TEMPFAIL;
    logging_printf(LOG_ERR, session_log_id(s), "internal error at %s: %s; on_error=%s",
                   names_stage(now), what, names_action(a));
    struct decision d;
    engine_decision_init(&d);
    if (a == ACTION_REJECT || a == ACTION_TEMPFAIL) {
        if (engine_default_reply(a, a == ACTION_REJECT ? "5.3.0" : "4.3.0", &d.reply) == 0)
            d.has_reply = 1;
    }
    d.action = a;
    char note[160];
    snprintf(note, sizeof note, "on_error: %s", what);
    verdict_audit(s, now, &d, names_action(a), note);
    sfsistat rc = SMFIS_CONTINUE;
    if (!(s->cfg && s->cfg->mode == MODE_AUDIT) && (a == ACTION_REJECT || a == ACTION_TEMPFAIL))
        rc = refuse(s, a, d.has_reply ? &d.reply : NULL);
    engine_decision_free(&d);
    return rc;
}

void verdict_observe(struct session *s, enum stage now, const char *original,
                     const struct decision *d, int matched)
{
    emit(s, now, "mta", original, d, matched ? d->rule : NULL, "observe",
         "rejected by the MTA itself; its reply cannot be changed by a milter");
}
