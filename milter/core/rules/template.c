/*
 * template.c - reply text templates: literal text with %{variable}s.
 *
 * Model: a template is compiled once (at config load) into segments, each
 * either literal bytes or a variable reference.  Syntax:
 *   %{name}        a variable (see `vars` below), %{macro:NAME} a macro value
 *   %%             a literal "%"
 *   % + other      a lone "%" not followed by "{" or "%" stays a literal "%"
 *                  (templates are plain text; "%" is escaped for libmilter
 *                  only at the edge, in sanitize_milter_lines)
 *   %{ without }   or an empty name: bad-template (error)
 *   %{unknown}     unknown-variable (error), naming the valid variables
 *
 * Expansion: every value goes through sanitize_text() with a cap, so a
 * hostile address such as "a\r\n250 ok"@x can never add a line, and the
 * result is plain text.  Caps: TEMPLATE_VALUE_MAX bytes for session values
 * (rcpt, sender, helo, client_addr, client_name, queue_id, text, macro
 * values) and for code, enhanced and rule; %{explanation} (project text from
 * the taxonomy, trusted) is capped at the longest text explain_reply() can
 * produce, computed from the taxonomy tables (see explanation_cap), so it is
 * never cut in practice while template_max_len stays a true upper bound.
 */
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "strbuf.h"
#include "taxonomy.h"
#include "rules/template.h"

enum tvar {
    TV_RCPT,
    TV_SENDER,
    TV_HELO,
    TV_CLIENT_ADDR,
    TV_CLIENT_NAME,
    TV_CODE,
    TV_ENHANCED,
    TV_TEXT,
    TV_EXPLANATION,
    TV_QUEUE_ID,
    TV_RULE,
    TV_MACRO,
    TV_COUNT
};

static const char *const var_names[TV_COUNT] = {
    "rcpt",     "sender", "helo",        "client_addr", "client_name", "code",
    "enhanced", "text",   "explanation", "queue_id",    "rule",        "macro",
};

#define VALID_VARS                                                                                 \
    "rcpt, sender, helo, client_addr, client_name, code, enhanced, "                               \
    "text, explanation, queue_id, rule, macro:NAME"

struct segment {
    int is_var;
    enum tvar var; /* when is_var */
    char *s;       /* literal bytes, or the macro name for TV_MACRO */
    size_t len;    /* literal length */
};

struct template
{
    char *src;
    struct segment *segs;
    size_t nsegs, cap;
};

void template_free(struct template *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nsegs; i++)
        free(t->segs[i].s);
    free(t->segs);
    free(t->src);
    free(t);
}

const char *template_source(const struct template *t)
{
    return t ? t->src : "";
}

static struct segment *add_seg(struct template *t)
{
    if (t->nsegs == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 8;
        struct segment *n = realloc(t->segs, ncap * sizeof *n);
        if (n == NULL)
            return NULL;
        t->segs = n;
        t->cap = ncap;
    }
    struct segment *s = &t->segs[t->nsegs++];
    memset(s, 0, sizeof *s);
    return s;
}

/* Appends literal bytes, merging with a preceding literal segment. */
static int add_literal(struct template *t, const char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (t->nsegs > 0 && !t->segs[t->nsegs - 1].is_var) {
        struct segment *s = &t->segs[t->nsegs - 1];
        char *ns = realloc(s->s, s->len + n + 1);
        if (ns == NULL)
            return -1;
        memcpy(ns + s->len, p, n);
        s->len += n;
        ns[s->len] = '\0';
        s->s = ns;
        return 0;
    }
    struct segment *s = add_seg(t);
    if (s == NULL)
        return -1;
    s->s = strndup(p, n);
    if (s->s == NULL) {
        t->nsegs--;
        return -1;
    }
    s->len = n;
    return 0;
}

static int add_var(struct template *t, enum tvar v, const char *macro, size_t mlen)
{
    struct segment *s = add_seg(t);
    if (s == NULL)
        return -1;
    s->is_var = 1;
    s->var = v;
    if (macro != NULL) { /* TV_MACRO: the macro's name */
        s->s = strndup(macro, mlen);
        if (s->s == NULL) {
            t->nsegs--;
            return -1;
        }
    }
    return 0;
}

static int lookup_var(const char *name, size_t n)
{
    for (int i = 0; i < TV_COUNT; i++)
        if (i != TV_MACRO && strlen(var_names[i]) == n && memcmp(var_names[i], name, n) == 0)
            return i;
    return -1;
}

struct template *template_compile(const char *src, const char *file, int line, struct diag_list *dl)
{
    if (src == NULL)
        src = "";
    struct template *t = calloc(1, sizeof *t);
    if (t == NULL || (t->src = strdup(src)) == NULL)
        goto oom;
    const char *p = src, *lit = src;
    int errors = 0;
    while (*p) {
        if (p[0] != '%') {
            p++;
            continue;
        }
        if (p[1] == '%') { /* "%%" -> "%" */
            if (add_literal(t, lit, (size_t)(p - lit) + 1) < 0)
                goto oom;
            p += 2;
            lit = p;
            continue;
        }
        if (p[1] != '{') { /* lone "%": literal */
            p++;
            continue;
        }
        if (add_literal(t, lit, (size_t)(p - lit)) < 0)
            goto oom;
        const char *name = p + 2;
        const char *end = strchr(name, '}');
        /* %{macro:{name}}: a braced macro name, closed by "}}" */
        if (end && strncmp(name, "macro:{", 7) == 0 && end[1] == '}')
            end++;
        if (end == NULL) {
            diag_add_at(dl, file, line, "bad-template", DIAG_ERROR,
                        "template \"%s\": \"%%{\" without a closing \"}\" "
                        "(write \"%%%%\" for a literal percent sign)",
                        src);
            errors++;
            break;
        }
        size_t n = (size_t)(end - name);
        if (n == 0) {
            diag_add_at(dl, file, line, "bad-template", DIAG_ERROR,
                        "template \"%s\": empty variable name \"%%{}\"", src);
            errors++;
        } else if (n >= 6 && memcmp(name, "macro:", 6) == 0) {
            if (n == 6 || (name[6] == '{' && n <= 8)) {
                diag_add_at(dl, file, line, "bad-template", DIAG_ERROR,
                            "template \"%s\": %%{macro:NAME} needs a macro name", src);
                errors++;
            } else if (add_var(t, TV_MACRO, name + 6, n - 6) < 0)
                goto oom;
        } else {
            int v = lookup_var(name, n);
            if (v < 0) {
                diag_add_at(dl, file, line, "unknown-variable", DIAG_ERROR,
                            "template \"%s\": unknown variable %%{%.*s}; valid variables: %s", src,
                            (int)n, name, VALID_VARS);
                errors++;
            } else if (add_var(t, (enum tvar)v, NULL, 0) < 0)
                goto oom;
        }
        p = end + 1;
        lit = p;
    }
    if (!errors && add_literal(t, lit, strlen(lit)) < 0)
        goto oom;
    if (errors) {
        template_free(t);
        return NULL;
    }
    return t;
oom:
    diag_add_at(dl, file, line, "bad-template", DIAG_ERROR, "out of memory compiling a template");
    template_free(t);
    return NULL;
}

int template_uses(const struct template *t, const char *name)
{
    if (t == NULL || name == NULL)
        return 0;
    for (size_t i = 0; i < t->nsegs; i++)
        if (t->segs[i].is_var && strcmp(var_names[t->segs[i].var], name) == 0)
            return 1;
    return 0;
}

static size_t max_strlen(size_t n, const char *(*get)(size_t))
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = get(i);
        if (s && strlen(s) > m)
            m = strlen(s);
    }
    return m;
}

static const char *enh_expl(size_t i)
{
    return tax_enhanced_at(i)->explanation;
}
static const char *basic_expl(size_t i)
{
    return tax_basic_at(i)->explanation;
}
static const char *class_expl(size_t i)
{
    return tax_class_at(i)->explanation;
}

/*
 * Bound on %{explanation}: explain_reply() joins at most a basic code's and
 * an enhanced code's explanation and a class sentence with single spaces (or
 * gives one fixed fallback sentence, far shorter).  The sum of the longest of
 * each, plus separators, is therefore never exceeded.
 */
static size_t explanation_cap(void)
{
    static size_t cap; /* computed once; the tables are static */
    if (cap == 0) {
        size_t c = max_strlen(tax_enhanced_count(), enh_expl)
                   + max_strlen(tax_basic_count(), basic_expl)
                   + max_strlen(tax_class_count(), class_expl) + 2;
        if (c < TEMPLATE_VALUE_MAX)
            c = TEMPLATE_VALUE_MAX;
        cap = c;
    }
    return cap;
}

static size_t var_cap(enum tvar v)
{
    return v == TV_EXPLANATION ? explanation_cap() : TEMPLATE_VALUE_MAX;
}

size_t template_max_len(const struct template *t)
{
    size_t n = 0;
    if (t == NULL)
        return 0;
    for (size_t i = 0; i < t->nsegs; i++)
        n += t->segs[i].is_var ? var_cap(t->segs[i].var) : t->segs[i].len;
    return n;
}

static const char *var_value(const struct segment *s, const struct template_vars *v)
{
    switch (s->var) {
    case TV_RCPT: return v->rcpt;
    case TV_SENDER: return v->sender;
    case TV_HELO: return v->helo;
    case TV_CLIENT_ADDR: return v->client_addr;
    case TV_CLIENT_NAME: return v->client_name;
    case TV_CODE: return v->code;
    case TV_ENHANCED: return v->enhanced;
    case TV_TEXT: return v->text;
    case TV_EXPLANATION: return v->explanation;
    case TV_QUEUE_ID: return v->queue_id;
    case TV_RULE: return v->rule;
    case TV_MACRO: return v->macro ? v->macro(v->macro_ctx, s->s) : NULL;
    default: return NULL;
    }
}

char *template_expand(const struct template *t, const struct template_vars *v)
{
    static const struct template_vars none;
    struct strbuf sb;
    sb_init(&sb);
    if (v == NULL)
        v = &none;
    if (t != NULL) {
        for (size_t i = 0; i < t->nsegs; i++) {
            const struct segment *s = &t->segs[i];
            if (!s->is_var) {
                sb_putn(&sb, s->s, s->len);
                continue;
            }
            const char *val = var_value(s, v);
            if (val == NULL || *val == '\0')
                continue;
            char *clean = sanitize_text(val, var_cap(s->var));
            if (clean == NULL) {
                sb_free(&sb);
                return NULL;
            }
            sb_puts(&sb, clean);
            free(clean);
        }
    }
    if (sb.oom) {
        sb_free(&sb);
        return NULL;
    }
    if (sb.s == NULL)
        return strdup("");
    return sb_steal(&sb);
}
