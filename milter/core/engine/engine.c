/*
 * engine.c - evaluates an event against the loaded rules and builds the
 * final, well-formed reply.
 *
 * WHICH RULES APPLY TO WHICH EVENT
 *  - Reply event (ev->orig != NULL: a reply some party is sending): the
 *    candidates are the rules whose action is rewrite or log, or that give
 *    no action at all (a rule without action is a rewrite rule).  Own-
 *    decision rules (reject, tempfail, accept, discard) are skipped: a reply
 *    already being sent is explained, never replaced by a new decision.
 *  - Policy event (ev->orig == NULL: milter-reword's own decision at a
 *    stage): the candidates are the rules with an explicit action reject,
 *    tempfail, accept, discard or log.  A rewrite rule (explicit or without
 *    action) never fires on a policy event: there is nothing to rewrite.
 *    A rule with a code/enhanced/text condition never matches a policy
 *    event, since those conditions are about the original reply.
 *  - First matching candidate wins, in c->rules order.
 *
 * MATCHING (rule_matches): every condition given must hold.  The text condition
 * sees the original reply's text lines joined with one space (how Postfix
 * flattens multi-line replies in its logs and bounces), without codes.
 * A condition on a fact the session does not have (no HELO yet, no
 * recipient, unknown client name) does not match.
 *
 * WHAT THE DECISION HOLDS
 *  - rewrite (reply event), reject/tempfail (policy event): the reply built
 *    by build_rule_reply; has_reply = 1.
 *  - log: on a reply event the original made well-formed (has_reply = 1),
 *    on a policy event no reply.  accept/discard: no reply.
 *  - no rule matched (return 0): on a reply event the original made
 *    well-formed - class of the enhanced code forced to the basic code's,
 *    "X.0.0" added to a 4xx/5xx without one (nothing more is guessed: only
 *    a rule may claim a specific reason), none on a 3xx, text sanitized and
 *    split to libmilter's limits; on a policy event nothing.
 *  - -1 (no memory, a regex engine error such as the match limit): the
 *    decision is left empty; the caller applies on_error.
 *
 * BUILDING THE REPLY (build_rule_reply) - see the numbered steps there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"
#include "explain.h"
#include "rules/cidr.h"
#include "rules/prefilter.h"
#include "taxonomy.h"
#include "rules/template.h"
#include "util/strvec.h"
#include "rules/rule_index.h"

void engine_decision_init(struct decision *d)
{
    memset(d, 0, sizeof *d);
    d->rule = NULL;
    d->action = ACTION_REWRITE;
    reply_init(&d->reply);
}

void engine_decision_free(struct decision *d)
{
    if (d == NULL)
        return;
    reply_free(&d->reply);
    engine_decision_init(d);
}

/* ---- small helpers ---------------------------------------------------- */

/* Parses "5.7.1" / "X.7.1" (class 0 for "X").  Returns 0 or -1. */
static int parse_enh(const char *s, int *cls, int *subj, int *det)
{
    if (s == NULL)
        return -1;
    int c;
    if (*s == 'X' || *s == 'x')
        c = 0;
    else if (*s >= '2' && *s <= '5')
        c = *s - '0';
    else
        return -1;
    s++;
    int v[2];
    for (int i = 0; i < 2; i++) {
        if (*s++ != '.')
            return -1;
        int n = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            n = n * 10 + (*s - '0');
            s++;
            digits++;
        }
        if (digits == 0 || digits > 3)
            return -1;
        v[i] = n;
    }
    if (*s != '\0')
        return -1;
    *cls = c;
    *subj = v[0];
    *det = v[1];
    return 0;
}

static void set_enhanced(struct reply *r, int cls, int subj, int det)
{
    r->has_enhanced = 1;
    r->eclass = cls;
    r->esubject = subj;
    r->edetail = det;
    snprintf(r->enhanced, sizeof r->enhanced, "%d.%d.%d", cls, subj, det);
}

static int default_code(int cls)
{
    switch (cls) {
    case 2: return 250;
    case 4: return 451;
    default: return 550;
    }
}

/*
 * The basic code for an own decision (or a reply without a code) of class
 * `cls` when only the enhanced code is known: the registry's associated
 * codes for it, filtered to that class and to codes the taxonomy knows.
 * The usual default (550 / 451) wins when the registry lists it (5.7.1 ->
 * 550, 4.3.0 -> 451); otherwise the first listed code (5.2.2 -> 552,
 * 5.3.4 -> 552, 5.7.10 -> 523); otherwise the default.  421 is never
 * derived: it makes Postfix close the connection, which a rule has to ask
 * for explicitly with `code = 421`.
 */
static int code_from_registry(int cls, int subj, int det)
{
    int deflt = default_code(cls);
    const struct tax_enhanced *e = tax_enhanced_find(subj, det);
    if (e == NULL || e->assoc == NULL)
        return deflt;
    int first = 0;
    const char *p = e->assoc;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end != p && (*end == ';' || *end == '\0') && v / 100 == cls && v != 421
            && tax_basic_find((int)v) != NULL) {
            if (v == deflt)
                return deflt;
            if (first == 0)
                first = (int)v;
        }
        p = strchr(p, ';');
        if (p == NULL)
            break;
        p++;
    }
    return first ? first : deflt;
}

/*
 * Joins the text lines of r with sep (malloc'd, NULL on no memory).  The
 * buffer is zero-filled up to a 64-byte boundary past the end: PCRE2's JIT
 * reads subjects in aligned vector blocks, and zeroed slack keeps those
 * reads defined (valgrind-clean) without changing any match.
 */
static char *join_lines(const struct reply *r, const char *sep)
{
    size_t n = 0, slen = strlen(sep);
    for (size_t i = 0; r && i < r->nlines; i++)
        n += (i ? slen : 0) + strlen(r->lines[i] ? r->lines[i] : "");
    char *out = calloc(1, (n + 1 + 64) & ~(size_t)63);
    if (out == NULL)
        return NULL;
    char *p = out;
    for (size_t i = 0; r && i < r->nlines; i++) {
        if (i) {
            memcpy(p, sep, slen);
            p += slen;
        }
        const char *li = r->lines[i] ? r->lines[i] : "";
        size_t l = strlen(li);
        memcpy(p, li, l);
        p += l;
    }
    return out;
}

/* Moves the lines into r (replacing its text); r keeps at least one line. */
static int lines_into_reply(struct strvec *l, struct reply *r)
{
    if (l->n == 0)
        strvec_push(l, strdup(""));
    if (l->oom) {
        strvec_free(l);
        return -1;
    }
    for (size_t i = 0; i < r->nlines; i++)
        free(r->lines[i]);
    free(r->lines);
    r->lines = l->v;
    r->nlines = l->n;
    memset(l, 0, sizeof *l);
    return 0;
}

static int text_is_empty(const struct reply *r)
{
    for (size_t i = 0; r && i < r->nlines; i++)
        for (const char *p = r->lines[i]; p && *p; p++)
            if (*p != ' ' && *p != '\t')
                return 0;
    return 1;
}

static void copy_lines(struct strvec *l, const struct reply *r)
{
    for (size_t i = 0; r && i < r->nlines; i++)
        strvec_push(l, strdup(r->lines[i] ? r->lines[i] : ""));
}

/* Adds explain_reply(r) as a line. */
static void add_explanation(struct strvec *l, const struct reply *codes)
{
    strvec_push(l, explain_reply(codes));
}

/*
 * Fixes the codes of r in place: the enhanced class digit always equals
 * the basic code's class (Postfix cuts off a milter that sends "550 4.7.1");
 * a 4xx/5xx without enhanced code gets the neutral "X.0.0" of its class;
 * a 3xx never carries one (RFC 2034).  A 2xx keeps what it has.
 */
static void fix_codes(struct reply *r)
{
    int cls = reply_code_class(r->code);
    if (cls == 3) {
        r->has_enhanced = 0;
        r->enhanced[0] = '\0';
        return;
    }
    if (cls != 2 && cls != 4 && cls != 5)
        return;
    if (r->has_enhanced)
        set_enhanced(r, cls, r->esubject, r->edetail);
    else if (cls != 2)
        set_enhanced(r, cls, 0, 0);
}

/* The original made well-formed (no rule matched, or a log rule). */
static int wellformed_original(const struct reply *orig, struct reply *out)
{
    reply_free(out);
    reply_init(out);
    out->code = orig->code;
    if (orig->has_enhanced)
        set_enhanced(out, orig->eclass, orig->esubject, orig->edetail);
    if (out->code == 0 && orig->has_enhanced) /* "5.1.1 text" without basic code */
        out->code = default_code(orig->eclass);
    fix_codes(out);
    struct strvec l = {0};
    copy_lines(&l, orig);
    if (lines_into_reply(&l, out) < 0)
        return -1;
    return sanitize_reply(out);
}

static const struct session_facts no_facts;

/* ---- matching ---------------------------------------------------------- */

/* 1 if r is a candidate for ev by its action (see the top of the file). */
static int rule_applies(const struct rule *r, const struct event *ev)
{
    enum action act = r->has_action ? r->action : ACTION_REWRITE;
    if (ev->orig)
        return act == ACTION_REWRITE || act == ACTION_LOG;
    return r->has_action && act != ACTION_REWRITE;
}

/* pattern_match on a value that may be absent: an absent value never matches. */
static int pmatch(const struct pattern *p, const char *subject)
{
    if (subject == NULL)
        return 0;
    return pattern_match(p, subject);
}

/* What the prefilters know of one reply's text (prefilter.h): its pair
   signature, and the gate's candidates, scanned the first time a gated
   rule comes up (a reply with an enhanced code seldom reaches one). */
struct text_filter {
    const char *text;
    size_t len;
    struct prefilter_sig sig;
    uint64_t local[64], *cand; /* cand: local, or malloc'd for many rules */
    int scanned;               /* -1: no memory, every gated rule is tried */
};

static void text_filter_init(struct text_filter *tf, const char *text)
{
    tf->text = text;
    tf->len = strlen(text);
    prefilter_sig_of(text, tf->len, &tf->sig);
    tf->cand = NULL;
    tf->scanned = 0;
}

static void text_filter_free(struct text_filter *tf)
{
    if (tf && tf->cand != tf->local)
        free(tf->cand);
}

/* The gate's candidates for tf's text, scanned on first use. */
static const uint64_t *gate_candidates(const struct config *c, struct text_filter *tf)
{
    if (tf->scanned == 0) {
        size_t w = prefilter_gate_words(c->text_gate);
        tf->cand =
            w <= sizeof tf->local / sizeof tf->local[0] ? tf->local : malloc(w * sizeof *tf->cand);
        tf->scanned = tf->cand ? 1 : -1;
        if (tf->cand)
            prefilter_gate_scan(c->text_gate, tf->text, tf->len, tf->cand);
    }
    return tf->scanned > 0 ? tf->cand : NULL;
}

/* 0 when rule i cannot match the reply of tf (NULL: no prefilter, every
   rule is tried): its text literal is not in the text, or it is gated and
   none of its branches' pieces is. */
static inline int may_match(const struct config *c, size_t i, struct text_filter *tf)
{
    if (tf == NULL)
        return 1;
    if (c->text_sigs != NULL && !prefilter_may_match(&c->text_sigs[i], &tf->sig))
        return 0;
    if (c->text_gated == NULL || !prefilter_bit(c->text_gated, i))
        return 1; /* not gated */
    const uint64_t *cand = gate_candidates(c, tf);
    return cand == NULL || prefilter_bit(cand, i);
}

/* Returns 1 when every condition of r holds for ev, 0 when one does not,
   -1 on a regex engine error.  otext: ev->orig's text joined (join_lines),
   computed once per evaluation; NULL for a policy event. */
static int rule_matches(const struct rule *r, const struct event *ev, const char *otext)
{
    const struct rule_match *m = &r->when;
    const struct reply *o = ev->orig;
    const struct session_facts *f = ev->facts ? ev->facts : &no_facts;
    int rc;

    if (ev->stage != STAGE_COUNT && !(m->stages & STAGE_BIT(ev->stage)))
        return 0;
    if (m->source && strcmp(m->source, "any") != 0 && ev->source
        && strcmp(m->source, ev->source) != 0)
        return 0;

    /* conditions on the original reply */
    if (m->code || m->code_class || m->has_enhanced || m->enh_none || m->text) {
        if (o == NULL)
            return 0;
        if (m->code && o->code != m->code)
            return 0;
        if (m->code_class && reply_code_class(o->code) != m->code_class)
            return 0;
        if (m->enh_none && !m->has_enhanced && o->has_enhanced)
            return 0;
        if (m->has_enhanced && !(m->enh_none && !o->has_enhanced)) {
            if (!o->has_enhanced)
                return 0;
            if ((m->enh_class >= 0 && o->eclass != m->enh_class)
                || (m->enh_subject >= 0 && o->esubject != m->enh_subject)
                || (m->enh_detail >= 0 && o->edetail != m->enh_detail))
                return 0;
        }
        if (m->text && (rc = pattern_match(m->text, otext ? otext : "")) <= 0)
            return rc;
    }

    /* conditions on the session */
    if (m->sender && (rc = pmatch(m->sender, f->sender)) <= 0)
        return rc;
    if (m->rcpt && (rc = pmatch(m->rcpt, f->rcpt)) <= 0)
        return rc;
    if (m->helo && (rc = pmatch(m->helo, f->helo)) <= 0)
        return rc;
    if (m->client_name && (rc = pmatch(m->client_name, f->client_name)) <= 0)
        return rc;
    if (m->nclients > 0) {
        int any = 0;
        for (size_t i = 0; f->client_addr && i < m->nclients && !any; i++)
            any = cidr_match(&m->clients[i], f->client_addr) > 0;
        if (!any)
            return 0;
    }
    int authed = f->auth_login != NULL && f->auth_login[0] != '\0';
    if (m->auth == 0 && authed)
        return 0;
    if (m->auth == 1 && !authed)
        return 0;
    if (m->auth_login) {
        if (!authed)
            return 0;
        if ((rc = pattern_match(m->auth_login, f->auth_login)) <= 0)
            return rc;
    }
    for (size_t i = 0; i < m->nmacros; i++) {
        const char *v = f->macro ? f->macro(f->macro_ctx, m->macros[i].name) : NULL;
        if ((rc = pmatch(m->macros[i].re, v)) <= 0)
            return rc;
    }
    for (size_t i = 0; i < m->nheaders; i++) {
        if (f->header_bits != NULL) {
            size_t b = m->headers[i].bit;
            if (!(f->header_bits[b / 8] & (1u << (b % 8))))
                return 0;
            continue;
        }
        int any = 0;
        for (size_t h = 0; h < f->nheaders && !any; h++) {
            const char *name = f->header_names ? f->header_names[h] : NULL;
            const char *val = f->header_values ? f->header_values[h] : NULL;
            if (name == NULL || strcasecmp(name, m->headers[i].name) != 0)
                continue;
            rc = pmatch(m->headers[i].re, val ? val : "");
            if (rc < 0)
                return -1;
            any = rc;
        }
        if (!any)
            return 0;
    }
    return 1;
}

size_t engine_header_bits_size(const struct config *c)
{
    return c ? (c->nheader_conds + 7) / 8 : 0;
}

int engine_note_header(const struct config *c, const char *name, const char *value,
                       unsigned char *bits)
{
    if (c == NULL || name == NULL || bits == NULL)
        return 0;
    int failed = 0; /* one failing pattern must not hide the others */
    for (size_t r = 0; r < c->nrules; r++) {
        const struct rule_match *m = &c->rules[r].when;
        for (size_t i = 0; i < m->nheaders; i++) {
            size_t b = m->headers[i].bit;
            if ((bits[b / 8] & (1u << (b % 8))) || strcasecmp(name, m->headers[i].name) != 0)
                continue;
            int rc = pattern_match(m->headers[i].re, value ? value : "");
            if (rc < 0)
                failed = 1;
            else if (rc > 0)
                bits[b / 8] |= (unsigned char)(1u << (b % 8));
        }
    }
    return failed ? -1 : 0;
}

/* ---- building the reply of a matching rule ---------------------------- */

static const struct session_facts *facts_of(const struct event *ev)
{
    return ev->facts ? ev->facts : &no_facts;
}

/*
 * Enhanced code inference when neither the rule nor the original gives one:
 * the reply.enhanced of the first rewrite/log rule, from index `from` on,
 * that matches `probe` (a reply event).  Returns 1 and fills the parts, 0
 * when none does, -1 on a matching error.
 */
static int infer_enhanced(const struct config *c, size_t from, const struct event *probe,
                          const char *ptext, struct text_filter *ptf, int *cls, int *subj, int *det)
{
    for (size_t i = from; i < c->nrules; i++) {
        const struct rule *r = &c->rules[i];
        if (r->reply.enhanced == NULL || !rule_applies(r, probe) || !may_match(c, i, ptf))
            continue;
        int m = rule_matches(r, probe, ptext);
        if (m < 0)
            return -1;
        if (m && parse_enh(r->reply.enhanced, cls, subj, det) == 0)
            return 1;
    }
    return 0;
}

/*
 * Builds d->reply for rule r (index ri) on event ev, whose action is
 * `act` (rewrite, reject or tempfail).  Steps:
 *
 *  1. Class wanted: reject -> 5, tempfail -> 4; a rewrite takes the class
 *     of the rule's code, else of the original code.
 *  2. Basic code: the rule's `code` when given and, for reject/tempfail, of
 *     the action's class (a 4xx with reject or a 5xx with tempfail would
 *     make libmilter drop the text and send the MTA's vague default, so such
 *     a code is ignored and step 2b/2c decide; the checker reports it as
 *     action-code-mismatch).
 *     2a. rewrite: the original's code (a rewrite explains a reply, it does
 *         not change what the client's software acts on);
 *     2b. the rule gives only `enhanced`: the registry's associated code of
 *         the wanted class (code_from_registry: reject + 5.2.2 -> 552,
 *         reject + 5.7.1 -> 550);
 *     2c. else 550 (reject) / 451 (tempfail).
 *  3. Enhanced code: the rule's, else the original's, else inferred (the
 *     first rewrite/log rule whose match on this reply - for an own decision
 *     a probe reply with the decided code and empty text - holds and that
 *     gives reply.enhanced), else X.0.0.  The class digit is then forced to
 *     the basic code's class: "550 4.7.1" is never sent.
 *  4. Text: the rule's `text`/`lines` templates expanded (session facts, the
 *     FINAL code and enhanced code, %{text} = original text joined with one
 *     space, %{explanation} = explain_reply of the final codes, %{rule});
 *     else, for a rewrite, the original's text lines (or the explanation
 *     when the original had no text, e.g. a bare "550"); else (own
 *     decision) the explanation.  Then the `footer` line and the url line
 *     "More information: URL".
 *  5. sanitize_reply: CR/LF/control characters out, lines over 980 split,
 *     at most 32 lines.
 */
static int build_rule_reply(const struct config *c, size_t ri, const struct event *ev,
                            const char *otext, struct text_filter *otf, enum action act,
                            struct reply *out)
{
    const struct rule *r = &c->rules[ri];
    const struct reply *orig = ev->orig;
    const struct session_facts *f = facts_of(ev);
    int rcls = 0, rsubj = 0, rdet = 0;
    int rule_enh =
        r->reply.enhanced != NULL && parse_enh(r->reply.enhanced, &rcls, &rsubj, &rdet) == 0;

    /* 1. class */
    int cls;
    int rule_code = r->reply.code;
    if (act == ACTION_REJECT || act == ACTION_TEMPFAIL) {
        cls = act == ACTION_REJECT ? 5 : 4;
        if (rule_code && reply_code_class(rule_code) != cls)
            rule_code = 0; /* forced to the action */
    } else if (rule_code)
        cls = reply_code_class(rule_code);
    else if (orig && orig->code)
        cls = reply_code_class(orig->code);
    else if (orig && orig->has_enhanced)
        cls = orig->eclass;
    else if (rule_enh && rcls)
        cls = rcls;
    else
        cls = 5;

    /* 2. basic code */
    int code;
    if (rule_code)
        code = rule_code;
    else if (act == ACTION_REWRITE && orig && orig->code)
        code = orig->code;
    else if (rule_enh)
        code = code_from_registry(cls, rsubj, rdet);
    else
        code = default_code(cls);

    /* 3. enhanced code */
    reply_free(out);
    reply_init(out);
    out->code = code;
    if (rule_enh)
        set_enhanced(out, rcls, rsubj, rdet);
    else if (orig && orig->has_enhanced)
        set_enhanced(out, orig->eclass, orig->esubject, orig->edetail);
    else if (cls == 4 || cls == 5) {
        int ec = 0, es = 0, ed = 0, got;
        if (orig) {
            got = infer_enhanced(c, ri + 1, ev, otext, otf, &ec, &es, &ed);
        } else {
            struct reply probe;
            char empty[1] = "";
            char *probe_lines[1] = {empty};
            reply_init(&probe);
            probe.code = code;
            probe.nlines = 1;
            probe.lines = probe_lines;
            struct event pev = *ev;
            pev.orig = &probe;
            got = infer_enhanced(c, 0, &pev, "", NULL, &ec, &es, &ed);
        }
        if (got < 0)
            return -1;
        if (got)
            set_enhanced(out, cls, es, ed);
    }
    fix_codes(out); /* class forcing; X.0.0 when still none */

    /* 4. text */
    struct strvec l = {0};
    char *expl = explain_reply(out); /* uses only the codes of out */
    if (expl == NULL)
        return -1;
    char codebuf[8];
    snprintf(codebuf, sizeof codebuf, "%d", out->code);
    struct template_vars v = {
        .rcpt = f->rcpt,
        .sender = f->sender,
        .helo = f->helo,
        .client_addr = f->client_addr,
        .client_name = f->client_name,
        .code = codebuf,
        .enhanced = out->has_enhanced ? out->enhanced : NULL,
        .text = otext,
        .explanation = expl,
        .queue_id = f->queue_id,
        .rule = r->name,
        .macro = f->macro,
        .macro_ctx = f->macro_ctx,
    };
    if (r->reply.lines && r->reply.nlines > 0) {
        for (size_t i = 0; i < r->reply.nlines; i++)
            strvec_push(&l, template_expand(r->reply.lines[i], &v));
    } else if (act == ACTION_REWRITE && orig && !text_is_empty(orig)) {
        copy_lines(&l, orig);
    } else {
        strvec_push(&l, strdup(expl));
    }
    if (r->reply.footer)
        strvec_push(&l, template_expand(r->reply.footer, &v));
    if (r->reply.url && *r->reply.url) {
        char *u = sanitize_text(r->reply.url, REPLY_MAX_LINE_LEN);
        if (u) {
            size_t n = strlen(u) + sizeof REPLY_URL_PREFIX;
            char *line = malloc(n);
            if (line)
                snprintf(line, n, REPLY_URL_PREFIX "%s", u);
            free(u);
            strvec_push(&l, line);
        } else
            l.oom = 1;
    }
    free(expl);
    if (lines_into_reply(&l, out) < 0)
        return -1;

    /* 5. libmilter limits */
    return sanitize_reply(out);
}

/* ---- evaluation ------------------------------------------------------- */

/* The rules to try for ev, in rule order: the index's candidates, or all. */
struct candidates {
    struct rule_index_cursor cur;
    int indexed;
    size_t next, n;
};

static void candidates_init(struct candidates *k, const struct config *c, const struct event *ev,
                            int use_index)
{
    k->indexed = use_index && c && c->index;
    k->next = 0;
    k->n = c ? c->nrules : 0;
    if (k->indexed)
        rule_index_cursor_init(&k->cur, c->index, ev->orig);
}

static long candidates_next(struct candidates *k)
{
    if (k->indexed)
        return rule_index_cursor_next(&k->cur);
    return k->next < k->n ? (long)k->next++ : -1;
}

static int eval(const struct config *c, const struct event *ev, struct decision *d, int use_index)
{
    engine_decision_free(d);
    if (ev == NULL)
        return -1;
    char *otext = NULL; /* the original's text, joined once */
    if (ev->orig && (otext = join_lines(ev->orig, " ")) == NULL)
        return -1;
    /* The unindexed scan runs every pattern: what the indexed and
       prefiltered evaluation is compared with. */
    struct text_filter tfs, *otf = NULL;
    if (otext && use_index) {
        text_filter_init(&tfs, otext);
        otf = &tfs;
    }
    struct candidates k;
    candidates_init(&k, c, ev, use_index);
    int rc = 0;
    long li;
    while (rc == 0 && (li = candidates_next(&k)) >= 0) {
        size_t i = (size_t)li;
        if (!may_match(c, i, otf))
            continue;
        const struct rule *r = &c->rules[i];
        if (!rule_applies(r, ev))
            continue;
        int m = rule_matches(r, ev, otext);
        if (m < 0)
            goto fail;
        if (m == 0)
            continue;

        enum action act = r->has_action ? r->action : ACTION_REWRITE;
        d->rule = r;
        d->action = act;
        switch (act) {
        case ACTION_REWRITE:
        case ACTION_REJECT:
        case ACTION_TEMPFAIL:
            if (build_rule_reply(c, i, ev, otext, otf, act, &d->reply) < 0)
                goto fail;
            d->has_reply = 1;
            break;
        case ACTION_LOG:
            if (ev->orig) { /* changes nothing: the original, well-formed */
                if (wellformed_original(ev->orig, &d->reply) < 0)
                    goto fail;
                d->has_reply = 1;
            }
            break;
        default: /* accept, discard: no reply */ break;
        }
        rc = 1;
    }
    if (rc == 0 && ev->orig) {
        if (wellformed_original(ev->orig, &d->reply) < 0)
            goto fail;
        d->has_reply = 1;
    }
    text_filter_free(otf);
    free(otext);
    return rc;
fail:
    text_filter_free(otf);
    free(otext);
    engine_decision_free(d);
    return -1;
}

int engine_eval(const struct config *c, const struct event *ev, struct decision *d)
{
    return eval(c, ev, d, 1);
}

int engine_eval_unindexed(const struct config *c, const struct event *ev, struct decision *d)
{
    return eval(c, ev, d, 0);
}

int engine_default_reply(enum action a, const char *enhanced, struct reply *out)
{
    if (out == NULL || (a != ACTION_REJECT && a != ACTION_TEMPFAIL))
        return -1;
    int cls = a == ACTION_REJECT ? 5 : 4;
    int ec, es, ed, code;
    if (enhanced && parse_enh(enhanced, &ec, &es, &ed) == 0) {
        code = code_from_registry(cls, es, ed);
    } else if (a == ACTION_REJECT) {
        es = 7;
        ed = 1;
        code = 550;
    } else {
        es = 3;
        ed = 0;
        code = 451;
    }
    reply_free(out);
    reply_init(out);
    out->code = code;
    set_enhanced(out, cls, es, ed);
    struct strvec l = {0};
    add_explanation(&l, out);
    if (lines_into_reply(&l, out) < 0 || sanitize_reply(out) < 0) {
        reply_free(out);
        reply_init(out);
        return -1;
    }
    return 0;
}
