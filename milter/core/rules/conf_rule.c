/*
 * conf_rule.c - builds one struct rule from its libconfig group: the
 * `when` conditions (stages, source, codes, PCRE2 patterns, client
 * networks, auth, macros, headers), the action and the reply templates.
 * Every value is type-checked; problems become diagnostics with the line
 * of the offending setting.  The taxonomy checks of a reply and the checks
 * across rules are in conf_check.c.
 *
 * Memory: a rule owns its strings, patterns, networks and templates;
 * conf_free_rule releases them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/cidr.h"
#include "rules/conf_int.h"
#include "reply.h"
#include "rules.h"
#include "rules/template.h"

/* ---- codes ---- */

int conf_basic_code_ok(long long v)
{
    /* RFC 5321: %x32-35 %x30-35 %x30-39 */
    return v >= 200 && v <= 599 && (v / 10) % 10 <= 5;
}

int conf_parse_basic_code(const char *s, int *code, int *cls)
{
    *code = 0;
    if (cls)
        *cls = 0;
    if (s == NULL || strlen(s) != 3 || s[0] < '2' || s[0] > '5')
        return -1;
    if (cls && (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
        *cls = s[0] - '0';
        return 0;
    }
    if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
        return -1;
    int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (!conf_basic_code_ok(v))
        return -1;
    *code = v;
    return 0;
}

/* One part of an enhanced code: 1-3 digits without leading zero, or "*". */
static const char *enh_part(const char *p, int wild, int *out)
{
    if (wild && *p == '*') {
        *out = -1;
        return p + 1;
    }
    int v = 0, n = 0;
    while (p[n] >= '0' && p[n] <= '9') {
        v = v * 10 + (p[n] - '0');
        if (++n > 3)
            return NULL;
    }
    if (n == 0 || (n > 1 && p[0] == '0'))
        return NULL;
    *out = v;
    return p + n;
}

int conf_parse_enhanced(const char *s, int wild, int *cls, int *subject, int *detail)
{
    if (s == NULL)
        return -1;
    const char *p = s;
    if (wild && *p == '*')
        *cls = -1, p++;
    else if (*p == '2' || *p == '4' || *p == '5')
        *cls = *p++ - '0';
    else
        return -1;
    if (*p++ != '.' || (p = enh_part(p, wild, subject)) == NULL)
        return -1;
    if (*p++ != '.' || (p = enh_part(p, wild, detail)) == NULL)
        return -1;
    return *p == '\0' ? 0 : -1;
}

/* ---- rule conditions ---- */

static struct pattern *compile_re(struct load_ctx *x, const config_setting_t *s,
                                  struct rule_build *b, const char *what, const char *src)
{
    char err[256];
    size_t off = 0;
    struct pattern *p = pattern_compile(src, err, sizeof err, &off);
    if (p == NULL)
        conf_diag(
            x, conf_file(x, s), conf_line(s), "bad-regex", DIAG_ERROR,
            "%s: the %s pattern \"%.120s\" is not a valid regular expression: %s at offset %zu",
            b->label, what, src, err, off);
    return p;
}

static void set_pattern(struct load_ctx *x, const config_setting_t *s, struct rule_build *b,
                        const char *what, struct pattern **slot)
{
    const char *src = conf_string(x, s, what);
    if (src) {
        pattern_free(*slot);
        *slot = compile_re(x, s, b, what, src);
    }
}

static void add_stage(struct load_ctx *x, const config_setting_t *s, const char *v, void *arg)
{
    struct rule_build *b = arg;
    int st = names_stage_lookup(v);
    if (st < 0)
        conf_diag(x, conf_file(x, s), conf_line(s), "unknown-stage", DIAG_ERROR,
                  "%s: unknown stage \"%.60s\" (known: connect, helo, mail, rcpt, data, header, "
                  "eoh, body, eom, unknown, any)",
                  b->label, v);
    else
        b->r->when.stages |= st == STAGE_COUNT ? STAGES_ALL : STAGE_BIT(st);
}

static void add_client(struct load_ctx *x, const config_setting_t *s, const char *v, void *arg)
{
    struct rule_build *b = arg;
    struct rule_match *m = &b->r->when;
    struct cidr c;
    if (cidr_parse(v, &c) < 0) {
        conf_diag(
            x, conf_file(x, s), conf_line(s), "bad-cidr", DIAG_ERROR,
            "%s: \"%.60s\" is not an IPv4 or IPv6 address or network (ADDRESS or ADDRESS/PREFIX)",
            b->label, v);
        return;
    }
    size_t cap = m->nclients; /* exact-size growth: lists are short */
    struct cidr *nv = realloc(m->clients, (cap + 1) * sizeof *nv);
    if (nv == NULL) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        return;
    }
    m->clients = nv;
    m->clients[m->nclients++] = c;
}

static void add_named(struct load_ctx *x, struct named_pattern **v, size_t *n, char *name,
                      struct pattern *re)
{
    struct named_pattern *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (nv == NULL) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        free(name);
        pattern_free(re);
        return;
    }
    *v = nv;
    nv[*n].name = name;
    nv[*n].re = re;
    (*n)++;
}

static int macro_name_ok(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '_' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9')
              || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            return 0;
    return 1;
}

/* Stores macro `name` (written with or without braces) with regex src. */
static void store_macro(struct load_ctx *x, const config_setting_t *s, struct rule_build *b,
                        const char *name, size_t len, const char *src)
{
    char *stored = NULL;
    if ((len >= 2 && name[0] == '{' && name[len - 1] == '}' && macro_name_ok(name + 1, len - 2))
        || (macro_name_ok(name, len) && len == 1))
        stored = strndup(name, len);
    else if (macro_name_ok(name, len) && asprintf(&stored, "{%.*s}", (int)len, name) < 0)
        stored = NULL;
    else if (!macro_name_ok(name, len)) {
        conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                  "%s: \"%.*s\" is not a macro name (letters, digits, \"_\", optionally in braces)",
                  b->label, (int)(len > 60 ? 60 : len), name);
        return;
    }
    if (stored == NULL) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        return;
    }
    struct pattern *re = compile_re(x, s, b, "macro", src);
    if (re == NULL) {
        free(stored);
        return;
    }
    add_named(x, &b->r->when.macros, &b->r->when.nmacros, stored, re);
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* "{auth_type} = ^PLAIN$" */
static void add_macro(struct load_ctx *x, const config_setting_t *s, const char *v, void *arg)
{
    struct rule_build *b = arg;
    const char *eq = strchr(v, '=');
    const char *name = skip_ws(v);
    size_t len = eq ? (size_t)(eq - name) : 0;
    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    if (eq == NULL || len == 0 || eq < name) {
        conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                  "%s: macro condition \"%.60s\" must look like \"{name} = regex\"", b->label, v);
        return;
    }
    store_macro(x, s, b, name, len, skip_ws(eq + 1));
}

/* "Subject: (?i)invoice" */
static void add_header(struct load_ctx *x, const config_setting_t *s, const char *v, void *arg)
{
    struct rule_build *b = arg;
    const char *name = skip_ws(v);
    size_t len = strcspn(name, ":");
    size_t end = len;
    while (end > 0 && (name[end - 1] == ' ' || name[end - 1] == '\t'))
        end--;
    int ok = name[len] == ':' && end > 0;
    for (size_t i = 0; ok && i < end; i++)
        ok = (unsigned char)name[i] > 32 && (unsigned char)name[i] < 127;
    if (!ok) {
        conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                  "%s: header condition \"%.60s\" must look like \"Name: regex\"", b->label, v);
        return;
    }
    char *hname = strndup(name, end);
    struct pattern *re = hname ? compile_re(x, s, b, "header", skip_ws(name + len + 1)) : NULL;
    if (hname == NULL)
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
    if (re == NULL) {
        free(hname);
        return;
    }
    add_named(x, &b->r->when.headers, &b->r->when.nheaders, hname, re);
}

static int is_upstream(const struct load_ctx *x, const char *name)
{
    for (size_t i = 0; i < x->nupstreams; i++)
        if (strcmp(x->upstreams[i], name) == 0)
            return 1;
    return 0;
}

static void when_source(struct load_ctx *x, const config_setting_t *s, struct rule_build *b)
{
    const char *v = conf_string(x, s, "when.source");
    if (v == NULL)
        return;
    if (strcasecmp(v, "any") == 0)
        return; /* NULL = any */
    if (strcasecmp(v, "self") == 0 || strcasecmp(v, "mta") == 0) {
        b->r->when.source = conf_strdup(x, strcasecmp(v, "self") == 0 ? "self" : "mta");
        return;
    }
    if (!is_upstream(x, v))
        conf_diag(x, conf_file(x, s), conf_line(s), "unknown-source", DIAG_WARNING,
                  "%s: source \"%.60s\" is not self, mta, any or a milter named in upstreams; "
                  "the rule can only match if such an upstream reports replies",
                  b->label, v);
    b->r->when.source = conf_strdup(x, v);
}

static void when_code(struct load_ctx *x, const config_setting_t *s, struct rule_build *b)
{
    struct rule_match *m = &b->r->when;
    int type = config_setting_type(s);
    b->a->line_code = conf_line(s);
    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        if (conf_basic_code_ok(v))
            m->code = (int)v;
        else
            conf_diag(
                x, conf_file(x, s), conf_line(s), "bad-code", DIAG_ERROR,
                "%s: %lld is not a reply code: use a code such as 550 or a class such as \"5xx\"",
                b->label, v);
    } else if (type == CONFIG_TYPE_STRING) {
        const char *v = config_setting_get_string(s);
        if (conf_parse_basic_code(v, &m->code, &m->code_class) < 0)
            conf_diag(x, conf_file(x, s), conf_line(s), "bad-code", DIAG_ERROR,
                      "%s: \"%.40s\" is not a reply code: use a code such as 550 or a class such "
                      "as \"5xx\"",
                      b->label, v);
    } else
        conf_bad_type(x, s, "when.code", "a number or a string");
}

/* One element of `when.enhanced`: a code pattern or "none". */
static void add_enhanced(struct load_ctx *x, const config_setting_t *s, const char *v, void *arg)
{
    struct rule_build *b = arg;
    struct rule_match *m = &b->r->when;
    if (strcasecmp(v, "none") == 0) {
        m->enh_none = 1;
        return;
    }
    int cls, sub, det;
    if (conf_parse_enhanced(v, 1, &cls, &sub, &det) < 0)
        conf_diag(x, conf_file(x, s), conf_line(s), "bad-enhanced-code", DIAG_ERROR,
                  "%s: \"%.40s\" is not an enhanced status code: use class.subject.detail such as "
                  "5.7.1, a pattern such as 5.7.* or 5.*.*, or \"none\"",
                  b->label, v);
    else if (m->has_enhanced)
        conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                  "%s: when.enhanced takes one code pattern (and \"none\"), not a second one "
                  "(\"%.40s\"): write a second rule",
                  b->label, v);
    else {
        m->has_enhanced = 1;
        m->enh_class = cls;
        m->enh_subject = sub;
        m->enh_detail = det;
    }
}

static void when_enhanced(struct load_ctx *x, const config_setting_t *s, struct rule_build *b)
{
    b->a->line_enh = conf_line(s);
    conf_for_strings(x, s, "when.enhanced", add_enhanced, b);
}

static void when_auth(struct load_ctx *x, const config_setting_t *s, struct rule_build *b)
{
    struct rule_match *m = &b->r->when;
    int type = config_setting_type(s);
    if (type == CONFIG_TYPE_BOOL)
        m->auth = config_setting_get_bool(s) ? 1 : 0;
    else if (type == CONFIG_TYPE_STRING) {
        m->auth = 1;
        pattern_free(m->auth_login);
        m->auth_login = compile_re(x, s, b, "auth", config_setting_get_string(s));
    } else
        conf_bad_type(x, s, "when.auth", "true, false or a regular expression for the login");
}

static void when_macro(struct load_ctx *x, const config_setting_t *s, struct rule_build *b)
{
    if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
        conf_for_strings(x, s, "when.macro", add_macro, b);
        return;
    }
    int n = config_setting_length(s); /* macro = { auth_type = "^PLAIN$"; } */
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *src = conf_string(x, e, "a macro condition");
        const char *name = config_setting_name(e);
        if (src && name)
            store_macro(x, e, b, name, strlen(name), src);
    }
}

static const char *const when_keys[] = {"stage",  "source", "code",   "enhanced", "text",
                                        "sender", "rcpt",   "helo",   "client",   "client_name",
                                        "auth",   "macro",  "header", NULL};

static void build_when(struct load_ctx *x, const config_setting_t *w, struct rule_build *b)
{
    struct rule_match *m = &b->r->when;
    const config_setting_t *header = NULL, *stage = NULL;
    conf_check_keys(x, w, when_keys, "when", DIAG_ERROR);
    int n = config_setting_length(w);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(w, (unsigned)i);
        const char *k = s ? config_setting_name(s) : NULL;
        if (k == NULL)
            continue;
        if (strcmp(k, "stage") == 0) {
            m->stages = 0;
            stage = s;
            conf_for_strings(x, s, "when.stage", add_stage, b);
        } else if (strcmp(k, "source") == 0)
            when_source(x, s, b);
        else if (strcmp(k, "code") == 0)
            when_code(x, s, b);
        else if (strcmp(k, "enhanced") == 0)
            when_enhanced(x, s, b);
        else if (strcmp(k, "text") == 0)
            set_pattern(x, s, b, "text", &m->text);
        else if (strcmp(k, "sender") == 0)
            set_pattern(x, s, b, "sender", &m->sender);
        else if (strcmp(k, "rcpt") == 0)
            set_pattern(x, s, b, "rcpt", &m->rcpt);
        else if (strcmp(k, "helo") == 0)
            set_pattern(x, s, b, "helo", &m->helo);
        else if (strcmp(k, "client_name") == 0)
            set_pattern(x, s, b, "client_name", &m->client_name);
        else if (strcmp(k, "client") == 0)
            conf_for_strings(x, s, "when.client", add_client, b);
        else if (strcmp(k, "auth") == 0)
            when_auth(x, s, b);
        else if (strcmp(k, "macro") == 0)
            when_macro(x, s, b);
        else if (strcmp(k, "header") == 0) {
            header = s;
            conf_for_strings(x, s, "when.header", add_header, b);
        }
    }
    if (stage && m->stages == 0)
        m->stages = STAGES_ALL; /* only bad names: already an error */
    int wcls = m->code ? m->code / 100 : m->code_class;
    if (wcls && m->has_enhanced && m->enh_class > 0 && m->enh_class != wcls)
        conf_diag(x, b->r->file, b->a->line_enh, "class-mismatch", DIAG_ERROR,
                  "%s can never match: its code condition is class %dxx but its enhanced code "
                  "condition is class %d",
                  b->label, wcls, m->enh_class);
    unsigned eom = STAGE_BIT(STAGE_EOM) | STAGE_BIT(STAGE_HEADER);
    if (header && !(m->stages & eom))
        conf_diag(x, conf_file(x, header), conf_line(header), "header-not-at-eom", DIAG_WARNING,
                  "%s: header conditions can only match at stage eom (or header); this rule's "
                  "stages never see the message headers",
                  b->label);
}

/* ---- rules ---- */

static const char *const rule_keys[] = {"name", "when", "action", "reply", NULL};

static int append_rule(struct load_ctx *x, const struct rule *r, const struct rule_aux *a)
{
    struct config *c = x->cfg;
    if (c->nrules == x->cap) {
        size_t cap = x->cap, acap = x->cap;
        void *rv = c->rules, *av = x->aux;
        if (conf_grow(x, &rv, &cap, c->nrules, sizeof *c->rules) < 0)
            return -1;
        c->rules = rv;
        if (conf_grow(x, &av, &acap, c->nrules, sizeof *x->aux) < 0)
            return -1;
        x->aux = av;
        x->cap = cap;
    }
    c->rules[c->nrules] = *r;
    x->aux[c->nrules] = *a;
    c->nrules++;
    return 0;
}

void conf_free_rule(struct rule *r)
{
    struct rule_match *m = &r->when;
    free(r->name);
    free(r->file);
    free(m->source);
    pattern_free(m->text);
    pattern_free(m->sender);
    pattern_free(m->rcpt);
    pattern_free(m->helo);
    pattern_free(m->client_name);
    pattern_free(m->auth_login);
    free(m->clients);
    for (size_t i = 0; i < m->nmacros; i++) {
        free(m->macros[i].name);
        pattern_free(m->macros[i].re);
    }
    free(m->macros);
    for (size_t i = 0; i < m->nheaders; i++) {
        free(m->headers[i].name);
        pattern_free(m->headers[i].re);
    }
    free(m->headers);
    conf_free_rule_reply(&r->reply);
}

static void build_rule(struct load_ctx *x, const config_setting_t *s)
{
    struct rule r;
    struct rule_aux a;
    struct rule_build b = {&r, &a, ""};
    memset(&r, 0, sizeof r);
    memset(&a, 0, sizeof a);
    r.when.stages = STAGES_ALL;
    r.when.auth = -1;
    r.action = ACTION_REWRITE;
    r.line = conf_line(s);
    r.file = conf_strdup(x, conf_file(x, s));
    if (!config_setting_is_group(s)) {
        conf_bad_type(x, s, "each entry of rules", "a group { name = ...; when = { ... }; ... }");
        free(r.file);
        return;
    }
    size_t nerr0 = x->nerr, dl0 = x->dl->n;
    const config_setting_t *name = config_setting_get_member(s, "name");
    const char *nm = name ? conf_string(x, name, "name") : NULL;
    if (nm && nm[0])
        r.name = conf_strdup(x, nm);
    else if (name == NULL || nm)
        conf_diag(x, r.file, r.line, "missing-name", DIAG_ERROR,
                  "the rule at line %d has no name: give every rule a unique name = \"...\"",
                  r.line);
    conf_rule_label(&r, b.label, sizeof b.label);
    conf_check_keys(x, s, rule_keys, b.label, DIAG_ERROR);

    const config_setting_t *when = config_setting_get_member(s, "when");
    if (when && config_setting_is_group(when)) {
        a.has_when = 1;
        build_when(x, when, &b);
    } else if (when)
        conf_bad_type(x, when, "when", "a group { ... }");

    const config_setting_t *act = config_setting_get_member(s, "action");
    if (act) {
        const char *v = conf_string(x, act, "action");
        int ac = v ? names_action_lookup(v) : -1;
        a.line_action = conf_line(act);
        if (v && ac < 0)
            conf_diag(x, conf_file(x, act), conf_line(act), "unknown-action", DIAG_ERROR,
                      "%s: unknown action \"%.40s\" (known: rewrite, reject, tempfail, accept, "
                      "discard, log)",
                      b.label, v);
        if (ac >= 0) {
            r.action = (enum action)ac;
            r.has_action = 1;
        }
    }
    const config_setting_t *reply = config_setting_get_member(s, "reply");
    if (reply && config_setting_is_group(reply))
        conf_build_reply(x, &b, reply);
    else if (reply)
        conf_bad_type(x, reply, "reply", "a group { ... }");

    if (!when && !act && !reply)
        conf_diag(x, r.file, r.line, "empty-rule", DIAG_WARNING,
                  "%s has no when, action or reply: it matches every reply and only makes it "
                  "well-formed",
                  b.label);
    if (r.has_reply)
        conf_check_rule_reply(x, &r, &a);
    a.failed = x->nerr > nerr0 || conf_new_errors(x, dl0);
    if (append_rule(x, &r, &a) < 0)
        conf_free_rule(&r);
}

void conf_build_rules(struct load_ctx *x, const config_setting_t *rules)
{
    if (config_setting_type(rules) != CONFIG_TYPE_LIST) {
        conf_bad_type(x, rules, "rules", "a list ( { ... }, { ... } )");
        return;
    }
    int n = config_setting_length(rules);
    for (int i = 0; i < n; i++)
        build_rule(x, config_setting_get_elem(rules, (unsigned)i));
}

/* ---- reply { } ---- */

/* Length of the literal text of a template source: %{...} removed, "%%" is 1. */
static size_t literal_len(const char *src)
{
    size_t n = 0;
    for (const char *p = src; *p; p++) {
        if (p[0] == '%' && p[1] == '%') {
            n++;
            p++;
        } else if (p[0] == '%' && p[1] == '{') {
            const char *e = strchr(p, '}');
            if (e == NULL)
                return n + strlen(p);
            p = e;
        } else
            n++;
    }
    return n;
}

/* Compiles one line of reply text (text, a `lines` entry or the footer). */
static struct template *reply_line(struct load_ctx *x, const config_setting_t *s,
                                   struct rule_build *b, const char *what, const char *src)
{
    const char *file = conf_file(x, s);
    int line = conf_line(s);
    if (strpbrk(src, "\r\n")) {
        conf_diag(x, file, line, "crlf-in-text", DIAG_ERROR,
                  "%s: the reply %s contains a line break; use lines = [ \"...\", \"...\" ] "
                  "for a reply of several lines",
                  b->label, what);
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)src; *p; p++)
        if ((*p < 32 && *p != '\t') || *p == 127) {
            conf_diag(x, file, line, "control-char", DIAG_ERROR,
                      "%s: the reply %s contains the control character 0x%02x", b->label, what, *p);
            return NULL;
        }
    size_t dl0 = x->dl->n;
    struct template *t = template_compile(src, file, line, x->dl);
    if (t == NULL || conf_new_errors(x, dl0)) {
        if (t == NULL && !conf_new_errors(x, dl0))
            conf_diag(x, file, line, "bad-template", DIAG_ERROR,
                      "%s: the reply %s cannot be compiled", b->label, what);
        else
            x->nerr++;
        template_free(t);
        return NULL;
    }
    size_t lit = literal_len(src), max = template_max_len(t);
    if (lit > REPLY_MAX_LINE_LEN)
        conf_diag(x, file, line, "line-too-long", DIAG_ERROR,
                  "%s: the reply %s is %zu characters long; a reply line can hold at most %d",
                  b->label, what, lit, REPLY_MAX_LINE_LEN);
    else if (max > REPLY_MAX_LINE_LEN)
        conf_diag(x, file, line, "line-too-long", DIAG_WARNING,
                  "%s: the reply %s can grow to %zu characters when its variables are long "
                  "(at most %d fit on a line; longer text is split)",
                  b->label, what, max, REPLY_MAX_LINE_LEN);
    /* cppcheck 2.10 reads "struct template" as C++ and takes t for an int */
    // cppcheck-suppress CastIntegerToAddressAtReturn
    return t;
}

static void add_line(struct load_ctx *x, const config_setting_t *s, const char *v, void *arg)
{
    struct rule_build *b = arg;
    struct rule_reply *rr = &b->r->reply;
    struct template **nv = realloc(rr->lines, (rr->nlines + 1) * sizeof *nv);
    if (nv == NULL) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        return;
    }
    rr->lines = nv;
    struct template *t = reply_line(x, s, b, "line", v);
    if (t)
        rr->lines[rr->nlines++] = t;
}

static void reply_code(struct load_ctx *x, const config_setting_t *s, struct rule_build *b)
{
    int type = config_setting_type(s), code = 0;
    b->a->line_rcode = conf_line(s);
    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        if (conf_basic_code_ok(v))
            code = (int)v;
        else
            conf_diag(x, conf_file(x, s), conf_line(s), "bad-code", DIAG_ERROR,
                      "%s: %lld is not a reply code: a reply needs a code such as 550 or 451",
                      b->label, v);
    } else if (type == CONFIG_TYPE_STRING) {
        const char *v = config_setting_get_string(s);
        if (conf_parse_basic_code(v, &code, NULL) < 0)
            conf_diag(x, conf_file(x, s), conf_line(s), "bad-code", DIAG_ERROR,
                      "%s: \"%.40s\" is not a reply code: a reply needs an exact code such as "
                      "550 or 451",
                      b->label, v);
    } else
        conf_bad_type(x, s, "reply.code", "a number such as 550");
    b->r->reply.code = code;
}

/* The length of the reply line a url becomes, as libmilter counts it:
   the prefix, and every "%" doubled (URLs are full of %XX escapes). */
static size_t url_line_len(const char *url)
{
    return strlen(REPLY_URL_PREFIX) + sanitize_escaped_len(url, strlen(url));
}

static const char *const reply_keys[] = {"code",   "enhanced", "text", "lines",
                                         "footer", "url",      NULL};

void conf_build_reply(struct load_ctx *x, struct rule_build *b, const config_setting_t *g)
{
    struct rule_reply *rr = &b->r->reply;
    const config_setting_t *s, *text, *lines;
    b->r->has_reply = 1;
    b->a->line_reply = conf_line(g);
    conf_check_keys(x, g, reply_keys, "reply", DIAG_ERROR);
    if ((s = config_setting_get_member(g, "code")))
        reply_code(x, s, b);
    if ((s = config_setting_get_member(g, "enhanced"))) {
        const char *v = conf_string(x, s, "reply.enhanced");
        int c, sub, det;
        b->a->line_renh = conf_line(s);
        if (v && conf_parse_enhanced(v, 0, &c, &sub, &det) == 0)
            rr->enhanced = conf_strdup(x, v);
        else if (v)
            conf_diag(x, conf_file(x, s), conf_line(s), "bad-enhanced-code", DIAG_ERROR,
                      "%s: \"%.40s\" is not an enhanced status code: a reply needs "
                      "class.subject.detail such as 5.7.1",
                      b->label, v);
    }
    text = config_setting_get_member(g, "text");
    lines = config_setting_get_member(g, "lines");
    if (text && lines)
        conf_diag(x, conf_file(x, lines), conf_line(lines), "bad-type", DIAG_ERROR,
                  "%s: give the reply either text or lines, not both", b->label);
    else if (text) {
        const char *v = conf_string(x, text, "reply.text");
        struct template *t = v ? reply_line(x, text, b, "text", v) : NULL;
        if (t && (rr->lines = malloc(sizeof *rr->lines)) != NULL) {
            rr->lines[0] = t;
            rr->nlines = 1;
        } else if (t) {
            template_free(t);
            conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        }
    } else if (lines) {
        b->a->line_lines = conf_line(lines);
        conf_for_strings(x, lines, "reply.lines", add_line, b);
    }
    if ((s = config_setting_get_member(g, "footer"))) {
        const char *v = conf_string(x, s, "reply.footer");
        if (v)
            rr->footer = reply_line(x, s, b, "footer", v);
    }
    if ((s = config_setting_get_member(g, "url"))) {
        const char *v = conf_string(x, s, "reply.url");
        if (v && strpbrk(v, "\r\n"))
            conf_diag(x, conf_file(x, s), conf_line(s), "crlf-in-text", DIAG_ERROR,
                      "%s: reply.url contains a line break", b->label);
        else if (v && url_line_len(v) > REPLY_MAX_LINE_LEN)
            conf_diag(x, conf_file(x, s), conf_line(s), "line-too-long", DIAG_ERROR,
                      "%s: reply.url makes a line of %zu characters (\"" REPLY_URL_PREFIX "\" and "
                      "\"%%\" doubled included); a reply line can hold at most %d",
                      b->label, url_line_len(v), REPLY_MAX_LINE_LEN);
        else if (v && strpbrk(v, " \t"))
            conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                      "%s: reply.url must be one address without spaces", b->label);
        else if (v && v[0])
            rr->url = conf_strdup(x, v);
    }
    size_t total = rr->nlines + (rr->footer != NULL) + (rr->url != NULL);
    if (total > REPLY_MAX_LINES)
        conf_diag(x, b->r->file, b->a->line_lines ? b->a->line_lines : b->a->line_reply,
                  "too-many-lines", DIAG_ERROR,
                  "%s: the reply has %zu lines (with footer and url); a reply can have at most %d",
                  b->label, total, REPLY_MAX_LINES);
}

void conf_free_rule_reply(struct rule_reply *rr)
{
    free(rr->enhanced);
    for (size_t i = 0; i < rr->nlines; i++)
        template_free(rr->lines[i]);
    free(rr->lines);
    template_free(rr->footer);
    free(rr->url);
    memset(rr, 0, sizeof *rr);
}
