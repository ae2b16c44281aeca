/*
 * conf_check.c - the checks of the rule file that need more than one
 * setting: a rule's reply against its action and the code taxonomy, and the
 * rule set as a whole (duplicate names, rules that can never match).
 *
 * The taxonomy facts are not re-implemented here: a reply with a basic code
 * is built with reply_set() and checked by reply_validate(REPLY_CTX_MILTER);
 * its findings are re-issued with the rule's file and line under the rule
 * file's diagnostic ids (see map[] below).  Only a reply that gives an
 * enhanced code without a basic code is looked up directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/conf_int.h"
#include "reply.h"
#include "rules.h"
#include "taxonomy.h"

/* ---- one rule's reply ---- */

/* reply_validate's ids -> the rule file's ids; to == NULL: not reported (the
   text is a template checked elsewhere, or another check covers it). */
static const struct {
    const char *from, *to;
    enum diag_severity sev;
    int at_code; /* report at the code's line, else the enhanced code's */
} map[] = {
    {"bad-basic-code", "bad-code", DIAG_ERROR, 1},
    {"unknown-basic-code", "unregistered-code", DIAG_WARNING, 1},
    {"bad-enhanced-code", "bad-enhanced-code", DIAG_ERROR, 0},
    {"leading-zero", "bad-enhanced-code", DIAG_ERROR, 0},
    {"class-mismatch", "class-mismatch", DIAG_ERROR, 0},
    {"unregistered-code", "unregistered-code", DIAG_WARNING, 0},
    {"deprecated-code", "deprecated-code", DIAG_WARNING, 0},
    {"unusual-pairing", "unusual-pairing", DIAG_WARNING, 0},
    {"not-for-milter", NULL, 0, 0}, /* 2xx/3xx: success-in-reject */
    {"enhanced-on-3xx", NULL, 0, 0},
    {"enhanced-on-greeting", NULL, 0, 0},
    {"no-enhanced-code", NULL, 0, 0}, /* the engine derives it */
    {"line-too-long", NULL, 0, 0},    /* checked on the templates */
    {"too-many-lines", NULL, 0, 0},
    {"bare-percent", NULL, 0, 0},
    {"crlf-in-text", NULL, 0, 0},
    {"control-char", NULL, 0, 0},
};

struct reply_lines {
    const char *file;
    int code, enh; /* lines of reply.code and reply.enhanced */
};

static void validate_reply(struct load_ctx *x, const struct rule *r, const char *label,
                           const struct reply_lines *at, int esub, int edet)
{
    struct reply rep;
    reply_init(&rep);
    if (reply_set(&rep, r->reply.code, r->reply.enhanced, "-") < 0) {
        reply_free(&rep);
        return; /* malformed enhanced code: reported already */
    }
    struct diag_list tmp;
    diag_init(&tmp);
    reply_validate(&rep, REPLY_CTX_MILTER, &tmp);
    for (size_t i = 0; i < tmp.n; i++) {
        const struct diag *d = &tmp.v[i];
        size_t k = 0;
        while (k < sizeof map / sizeof map[0] && strcmp(map[k].from, d->id) != 0)
            k++;
        if (k == sizeof map / sizeof map[0]) { /* a newer check: pass it on */
            conf_diag(x, at->file, at->enh, d->id, d->severity, "%s: %s", label, d->message);
            continue;
        }
        if (map[k].to == NULL)
            continue;
        int line = map[k].at_code ? at->code : at->enh;
        const struct tax_enhanced *e = rep.has_enhanced ? tax_enhanced_find(esub, edet) : NULL;
        if (strcmp(map[k].to, "unusual-pairing") == 0 && e) {
            char assoc[128];
            tax_assoc_describe(e, assoc, sizeof assoc);
            conf_diag(x, at->file, line, "unusual-pairing", map[k].sev,
                      "%s: %s is registered with %s; this rule uses %d", label, r->reply.enhanced,
                      assoc, r->reply.code);
        } else
            conf_diag(x, at->file, line, map[k].to, map[k].sev, "%s: %s", label, d->message);
    }
    diag_free(&tmp);
    reply_free(&rep);
}

/* An enhanced code without a basic code (the engine derives the code). */
static void lookup_enhanced(struct load_ctx *x, const char *label, const char *enh,
                            const struct reply_lines *at, int esub, int edet)
{
    const struct tax_enhanced *e = tax_enhanced_find(esub, edet);
    if (e == NULL)
        conf_diag(x, at->file, at->enh, "unregistered-code", DIAG_WARNING,
                  "%s: %s is not in the IANA registry of enhanced status codes", label, enh);
    else if (e->deprecated)
        conf_diag(x, at->file, at->enh, "deprecated-code", DIAG_WARNING,
                  "%s: %s is deprecated in the IANA registry; use a current code", label, enh);
}

/* Class of the replies a rule's `when` selects, or 0 when it does not say. */
static int when_class(const struct rule_match *m)
{
    if (m->code)
        return m->code / 100;
    if (m->code_class)
        return m->code_class;
    if (m->has_enhanced && m->enh_class > 0)
        return m->enh_class;
    return 0;
}

void conf_check_rule_reply(struct load_ctx *x, const struct rule *r, const struct rule_aux *a)
{
    char label[160];
    conf_rule_label(r, label, sizeof label);
    const struct rule_reply *rr = &r->reply;
    int ecls = 0, esub = 0, edet = 0;
    int has_enh = rr->enhanced && conf_parse_enhanced(rr->enhanced, 0, &ecls, &esub, &edet) == 0;
    int ccls = rr->code / 100; /* 0 when no code */
    struct reply_lines at = {r->file, a->line_rcode ? a->line_rcode : a->line_reply, 0};
    at.enh = a->line_renh ? a->line_renh : at.code;
    enum action act = r->action;
    const char *what = act == ACTION_REWRITE  ? "rewritten"
                       : act == ACTION_REJECT ? "reject"
                                              : "tempfail";
    if (act == ACTION_REWRITE || act == ACTION_REJECT || act == ACTION_TEMPFAIL) {
        if (ccls == 2 || ccls == 3) {
            conf_diag(x, r->file, at.code, "success-in-reject", DIAG_ERROR,
                      "%s: %d is a success code, but a %s reply must be a failure: use a 4xx "
                      "(temporary) or 5xx (permanent) code",
                      label, rr->code, what);
            return;
        }
        if (has_enh && ecls == 2) {
            conf_diag(x, r->file, at.enh, "success-in-reject", DIAG_ERROR,
                      "%s: %s is a success code, but a %s reply must be a failure: use a 4.x.x "
                      "or 5.x.x code",
                      label, rr->enhanced, what);
            return;
        }
    }
    int cls = ccls ? ccls : has_enh ? ecls : 0;
    int line = ccls ? at.code : at.enh;
    if (act == ACTION_REJECT && cls == 4)
        conf_diag(x, r->file, line, "action-code-mismatch", DIAG_ERROR,
                  "%s: action reject sends a permanent failure, but the reply is %s (temporary); "
                  "use a 5xx code or action tempfail",
                  label, ccls ? "4xx" : "4.x.x");
    else if (act == ACTION_TEMPFAIL && cls == 5)
        conf_diag(x, r->file, line, "action-code-mismatch", DIAG_ERROR,
                  "%s: action tempfail sends a temporary failure, but the reply is %s (permanent); "
                  "use a 4xx code or action reject",
                  label, ccls ? "5xx" : "5.x.x");
    else if (act == ACTION_REWRITE && cls && when_class(&r->when) && when_class(&r->when) != cls)
        conf_diag(x, r->file, line, "class-mismatch", DIAG_ERROR,
                  "%s matches %dxx replies but its reply is class %d: a rewrite cannot turn a "
                  "%s failure into a %s one",
                  label, when_class(&r->when), cls,
                  when_class(&r->when) == 4 ? "temporary" : "permanent",
                  cls == 4 ? "temporary" : "permanent");

    if (ccls >= 4)
        validate_reply(x, r, label, &at, esub, edet);
    else if (!ccls && has_enh && ecls >= 4)
        lookup_enhanced(x, label, rr->enhanced, &at, esub, edet);
}

/* ---- the rule set ---- */

static int name_order(const void *pa, const void *pb, void *arg)
{
    const struct rule *rules = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int c = strcmp(rules[a].name, rules[b].name);
    return c ? c : (a > b) - (a < b);
}

static void check_duplicates(struct load_ctx *x)
{
    const struct config *c = x->cfg;
    size_t *idx = malloc((c->nrules ? c->nrules : 1) * sizeof *idx), n = 0;
    if (idx == NULL) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        return;
    }
    for (size_t i = 0; i < c->nrules; i++)
        if (c->rules[i].name)
            idx[n++] = i;
    qsort_r(idx, n, sizeof *idx, name_order, c->rules);
    for (size_t i = 1; i < n; i++) {
        size_t first = idx[i - 1];
        while (i < n && strcmp(c->rules[idx[i]].name, c->rules[first].name) == 0) {
            const struct rule *a = &c->rules[first], *b = &c->rules[idx[i]];
            conf_diag(x, b->file, b->line, "duplicate-rule", DIAG_ERROR,
                      "rule name \"%.100s\" is used twice: at %s:%d and at %s:%d; rule names "
                      "must be unique (they appear in the audit log)",
                      b->name, a->file, a->line, b->file, b->line);
            i++;
        }
    }
    free(idx);
}

/* A rule whose only conditions are stage, source, code and enhanced code. */
static int unconditional(const struct rule_match *m)
{
    return !m->text && !m->sender && !m->rcpt && !m->helo && !m->client_name && m->nclients == 0
           && m->auth < 0 && !m->auth_login && m->nmacros == 0 && m->nheaders == 0;
}

/* Which events a rule can match (see engine.c): reply events go to rewrite
   and log rules; policy events to rules with an explicit own decision or
   log, and only when they have no condition on the original reply. */
static int on_replies(const struct rule *r)
{
    return r->action == ACTION_REWRITE || r->action == ACTION_LOG;
}

static int on_policy(const struct rule *r)
{
    const struct rule_match *m = &r->when;
    return r->action != ACTION_REWRITE && !m->code && !m->code_class && !m->has_enhanced
           && !m->enh_none && !m->text;
}

static int part_covers(int e, int l)
{
    return e < 0 || e == l;
}

/* 1 when every reply l's enhanced condition admits is admitted by e's:
   "none" only by "none", a code pattern only by a pattern that covers it. */
static int enhanced_covers(const struct rule_match *em, const struct rule_match *lm)
{
    if (!em->has_enhanced && !em->enh_none)
        return 1;
    if (!lm->has_enhanced && !lm->enh_none)
        return 0;
    if (lm->enh_none && !em->enh_none)
        return 0;
    if (lm->has_enhanced
        && !(em->has_enhanced && part_covers(em->enh_class, lm->enh_class)
             && part_covers(em->enh_subject, lm->enh_subject)
             && part_covers(em->enh_detail, lm->enh_detail)))
        return 0;
    return 1;
}

/* 1 when an unconditional rule e matches every event rule l matches. */
static int covers(const struct rule *e, const struct rule *l)
{
    const struct rule_match *em = &e->when, *lm = &l->when;
    if (on_replies(l) && !on_replies(e))
        return 0;
    if (on_policy(l) && !on_policy(e))
        return 0;
    if (!on_replies(l) && !on_policy(l))
        return 0; /* never matches anyway */
    if ((em->stages & lm->stages) != lm->stages)
        return 0;
    if (em->source && !(lm->source && strcmp(em->source, lm->source) == 0))
        return 0;
    if (em->code && lm->code != em->code)
        return 0;
    if (em->code_class && !(lm->code / 100 == em->code_class || lm->code_class == em->code_class))
        return 0;
    return enhanced_covers(em, lm);
}

static void check_shadowed(struct load_ctx *x)
{
    const struct config *c = x->cfg;
    size_t *cand = malloc(SHADOW_CANDIDATES_MAX * sizeof *cand), ncand = 0;
    if (cand == NULL) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        return;
    }
    for (size_t i = 0; i < c->nrules; i++) {
        const struct rule *l = &c->rules[i];
        if (x->aux[i].failed)
            continue;
        int shadowed = 0;
        for (size_t k = 0; k < ncand && !shadowed; k++) {
            const struct rule *e = &c->rules[cand[k]];
            if (!covers(e, l))
                continue;
            char le[160], ee[160];
            conf_rule_label(l, le, sizeof le);
            conf_rule_label(e, ee, sizeof ee);
            if (strcmp(e->file, l->file) == 0)
                conf_diag(x, l->file, l->line, "shadowed-rule", DIAG_WARNING,
                          "%s can never match: %s at line %d comes first and matches everything "
                          "it would match",
                          le, ee, e->line);
            else
                conf_diag(x, l->file, l->line, "shadowed-rule", DIAG_WARNING,
                          "%s can never match: %s at %s:%d comes first and matches everything "
                          "it would match",
                          le, ee, e->file, e->line);
            shadowed = 1;
        }
        /* A shadowed rule covers nothing its shadow does not: no candidate. */
        if (!shadowed && unconditional(&l->when) && ncand < SHADOW_CANDIDATES_MAX)
            cand[ncand++] = i;
    }
    free(cand);
}

void conf_check_rule_set(struct load_ctx *x)
{
    check_duplicates(x);
    check_shadowed(x);
}

/* ---- syntax pre-check ---- */

/*
 * libconfig 1.5 leaks the text of a string token when a syntax error occurs
 * right at that string ("name = "x"" with a stray quote, a missing "=").  A
 * daemon that is reloaded with broken files would leak a little each time,
 * so before libconfig sees a text this walks its tokens with libconfig's
 * grammar and reports such an error itself.  Any other problem (or an
 * @include, which libconfig splices in) is left to libconfig, which then
 * reports it without leaking; valid files always pass.
 */
enum tok { T_EOF, T_STRING, T_NAME, T_SCALAR, T_PUNCT, T_OTHER };

struct lex {
    const char *p;
    int line;
};

static int is_name_start(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}

static int is_name_char(int c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Skips blanks and comments; 0, or -1 on an unterminated comment. */
static int skip_space(struct lex *l)
{
    for (;;) {
        const char *p = l->p;
        if (*p == '\n')
            l->line++, l->p++;
        else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
            l->p++;
        else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
            l->p += strcspn(p, "\n");
        else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            if (e == NULL)
                return -1;
            for (; p < e; p++)
                l->line += *p == '\n';
            l->p = e + 2;
        } else
            return 0;
    }
}

static enum tok lex_next(struct lex *l, char *punct, int *line)
{
    if (skip_space(l) < 0)
        return T_OTHER;
    *line = l->line;
    const char *p = l->p;
    if (*p == '\0')
        return T_EOF;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            l->line += *p == '\n';
        }
        if (*p != '"')
            return T_OTHER; /* unterminated: libconfig reports it */
        l->p = p + 1;
        return T_STRING;
    }
    if (strchr("=:;,{}[]()", *p)) {
        *punct = *p;
        l->p++;
        return T_PUNCT;
    }
    if (is_name_start((unsigned char)*p)) {
        size_t n = 1;
        while (is_name_char((unsigned char)p[n]))
            n++;
        l->p += n;
        if ((n == 4 && strncasecmp(p, "true", 4) == 0)
            || (n == 5 && strncasecmp(p, "false", 5) == 0))
            return T_SCALAR;
        return T_NAME;
    }
    if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.') {
        size_t n = 1;
        while (is_name_char((unsigned char)p[n]) || p[n] == '.' || p[n] == '+')
            n++;
        l->p += n;
        return T_SCALAR;
    }
    return T_OTHER; /* @include, garbage: libconfig's business */
}

enum pstate { S_NAME, S_ASSIGN, S_VALUE, S_AFTER, V_FIRST, V_NEXT, V_AFTER };
#define SYNTAX_MAX_DEPTH 256

int conf_precheck_syntax(struct load_ctx *x, const char *text, const char *file)
{
    char stack[SYNTAX_MAX_DEPTH] = ""; /* '{', '[', '(' */
    int depth = 0, last_string = 0, line = 1;
    enum pstate st = S_NAME;
    struct lex l = {text, 1};
    for (;;) {
        char c = 0;
        enum tok t = lex_next(&l, &c, &line);
        char ctx = depth ? stack[depth - 1] : 0;
        int settings = ctx == 0 || ctx == '{';
        int closer =
            t == T_PUNCT
            && ((c == '}' && ctx == '{') || (c == ']' && ctx == '[') || (c == ')' && ctx == '('));
        int ok = 0, value = 0;
        if (t == T_OTHER)
            return 0;
        switch (st) {
        case S_NAME:
            if (t == T_NAME)
                ok = 1, st = S_ASSIGN;
            else if (t == T_EOF && depth == 0)
                return 0;
            else
                ok = closer && ctx == '{';
            break;
        case S_ASSIGN:
            ok = t == T_PUNCT && (c == '=' || c == ':');
            st = S_VALUE;
            break;
        case S_AFTER:
        case V_AFTER:
            if (t == T_STRING && last_string)
                ok = 1;
            else if (st == S_AFTER && t == T_PUNCT && (c == ';' || c == ','))
                ok = 1, st = S_NAME;
            else if (st == S_AFTER && t == T_NAME)
                ok = 1, st = S_ASSIGN;
            else if (st == S_AFTER && t == T_EOF && depth == 0)
                return 0;
            else if (st == V_AFTER && t == T_PUNCT && c == ',')
                ok = 1, st = V_NEXT;
            else
                ok = closer;
            break;
        case V_FIRST:
            if (closer) {
                ok = 1;
                break;
            }
            /* fall through */
        case S_VALUE:
        case V_NEXT:
            if (t == T_STRING || t == T_SCALAR)
                ok = value = 1;
            else if (t == T_PUNCT && ctx != '[' && (c == '{' || c == '[' || c == '(')) {
                if (depth == SYNTAX_MAX_DEPTH)
                    return 0;
                stack[depth++] = c;
                st = c == '{' ? S_NAME : V_FIRST;
                continue;
            }
            break;
        }
        if (!ok) {
            if (t != T_STRING)
                return 0; /* libconfig reports this one without leaking */
            conf_diag(x, file, line, "syntax", DIAG_ERROR,
                      "syntax error: a string cannot stand here (a missing \"=\", \";\" or "
                      "brackets before it, or a stray quote?)");
            return -1;
        }
        if (value) {
            st = settings ? S_AFTER : V_AFTER;
            last_string = t == T_STRING;
        } else if (closer) {
            depth--;
            st = (depth == 0 || stack[depth - 1] == '{') ? S_AFTER : V_AFTER;
            last_string = 0;
        } else if (t != T_STRING)
            last_string = 0;
    }
}
