/*
 * footer.c - exports rules as a Postfix smtpd_reject_footer_maps pcre table
 * (see footer.h).
 *
 * The lookup key is a PCRE for the complete reply: the rule's code (exact
 * or class), its enhanced code (exact or with "*" parts) and its text
 * pattern.  Rule text patterns are written against the reply text without
 * codes, so a "^" in them is rewritten into a look-behind for "start of the
 * text after the codes".  The value is the rule's footer, or its reply text,
 * or the taxonomy's explanation, with template variables turned into the
 * $names Postfix expands in footers ($sender, $client_address,
 * $client_name, $helo_name; %{rcpt} is the address captured from the
 * reply text, as $recipient is still empty when Postfix refuses a RCPT), written "$$name" because a pcre table's
 * result is itself expanded ($1 is a capture) before Postfix expands the
 * footer; a literal "$" becomes "$$$$" for the same reason.  %{text} is
 * dropped: the original text is already on the line above the footer.
 */
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "footer.h"
#include "strbuf.h"
#include "taxonomy.h"
#include "rules/template.h"

/* Start of the text after "NNN " / "NNN-" and an optional "D.DDD.DDD ":
   fixed-length alternatives, as PCRE2 look-behinds require. */
static void put_text_start(struct strbuf *sb)
{
    sb_puts(sb, "(?<=^\\d{3}[ -]");
    for (int s = 1; s <= 3; s++)
        for (int d = 1; d <= 3; d++)
            sb_printf(sb, "|^\\d{3}[ -]\\d\\.\\d{%d}\\.\\d{%d} ", s, d);
    sb_putc(sb, ')');
}

/* Copies a rule's text pattern, replacing unescaped "^" outside classes. */
static void put_text_pattern(struct strbuf *sb, const char *re)
{
    int in_class = 0;
    for (const char *p = re; *p; p++) {
        if (*p == '\\' && p[1]) {
            sb_putc(sb, *p++);
            sb_putc(sb, *p);
            continue;
        }
        if (in_class) {
            if (*p == ']')
                in_class = 0;
            sb_putc(sb, *p);
            continue;
        }
        if (*p == '[') {
            in_class = 1;
            sb_putc(sb, *p);
            if (p[1] == '^') /* negated class, not an anchor */
                sb_putc(sb, *++p);
            if (p[1] == ']') /* "]" first in a class is literal */
                sb_putc(sb, *++p);
            continue;
        }
        if (*p == '^')
            put_text_start(sb);
        else
            sb_putc(sb, *p);
    }
}

static void put_enhanced_part(struct strbuf *sb, int value, int digits_max)
{
    if (value < 0)
        sb_printf(sb, "\\d{1,%d}", digits_max);
    else
        sb_printf(sb, "%d", value);
}

static char *make_key(const struct rule_match *m)
{
    struct strbuf sb;
    sb_init(&sb);
    sb_putc(&sb, '^');
    if (m->code)
        sb_printf(&sb, "%d", m->code);
    else if (m->code_class)
        sb_printf(&sb, "%d\\d\\d", m->code_class);
    else
        sb_puts(&sb, "[45]\\d\\d");
    sb_puts(&sb, "[ -]");
    if (m->has_enhanced) {
        sb_puts(&sb, "(?:");
        put_enhanced_part(&sb, m->enh_class, 1);
        sb_puts(&sb, "\\.");
        put_enhanced_part(&sb, m->enh_subject, 3);
        sb_puts(&sb, "\\.");
        put_enhanced_part(&sb, m->enh_detail, 3);
        sb_puts(&sb, m->enh_none ? " )?" : " )");
    } else if (m->enh_none)
        sb_puts(&sb, "(?!\\d\\.\\d{1,3}\\.\\d{1,3} )");
    else
        sb_puts(&sb, "(?:\\d\\.\\d{1,3}\\.\\d{1,3} )?");
    /* Capture 1: the "<address>" Postfix puts first in RCPT rejections; it
       stands for %{rcpt} ($recipient is still empty when RCPT is refused). */
    sb_puts(&sb, "(?=<([^>]*)>|)");
    if (m->text) {
        sb_puts(&sb, ".*?(?:");
        put_text_pattern(&sb, pattern_source(m->text));
        sb_putc(&sb, ')');
    }
    return sb_steal(&sb);
}

/* The enhanced code the footer talks about, when the rule fixes one. */
static const char *rule_enhanced(const struct rule *r, char *buf, size_t len)
{
    if (r->reply.enhanced)
        return r->reply.enhanced;
    const struct rule_match *m = &r->when;
    if (m->has_enhanced && m->enh_class >= 0 && m->enh_subject >= 0 && m->enh_detail >= 0) {
        snprintf(buf, len, "%d.%d.%d", m->enh_class, m->enh_subject, m->enh_detail);
        return buf;
    }
    return NULL;
}

static char *explanation_for(const char *enhanced, int code)
{
    struct reply r;
    reply_init(&r);
    char text[32];
    snprintf(text, sizeof text, "%d %s",
             code ? code : (enhanced ? enhanced[0] - '0' : 5) * 100 + 50, enhanced ? enhanced : "");
    char *e = reply_parse(text, &r, NULL) == 0 ? explain_reply(&r) : NULL;
    reply_free(&r);
    return e;
}

/* Translates one template source into footer text; -1 + why if impossible. */
static int translate(struct strbuf *sb, const char *src, const struct rule *r, const char **why)
{
    char ebuf[40];
    const char *enh = rule_enhanced(r, ebuf, sizeof ebuf);
    int code = r->reply.code ? r->reply.code : r->when.code;
    for (const char *p = src; *p; p++) {
        if (*p == '$') {
            sb_puts(sb, "$$$$"); /* pcre result, then footer expansion: each halves */
            continue;
        }
        if (*p != '%') {
            sb_putc(sb, *p);
            continue;
        }
        if (p[1] == '%') {
            sb_putc(sb, '%');
            p++;
            continue;
        }
        if (p[1] != '{') {
            sb_putc(sb, '%');
            continue;
        }
        const char *end = strchr(p + 2, '}');
        if (end == NULL) {
            *why = "malformed template";
            return -1;
        }
        size_t n = (size_t)(end - (p + 2));
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), p + 2);
        p = end;
        if (strcmp(name, "rcpt") == 0)
            sb_puts(sb, "$1"); /* capture 1 of the key, see make_key */
        else if (strcmp(name, "sender") == 0)
            sb_puts(sb, "$$sender");
        else if (strcmp(name, "helo") == 0)
            sb_puts(sb, "$$helo_name");
        else if (strcmp(name, "client_addr") == 0)
            sb_puts(sb, "$$client_address");
        else if (strcmp(name, "client_name") == 0)
            sb_puts(sb, "$$client_name");
        else if (strcmp(name, "rule") == 0)
            sb_puts(sb, r->name);
        else if (strcmp(name, "text") == 0) {
            /* drop it, with the "(...)" or " " around it */
            while (sb->len > 0 && (sb->s[sb->len - 1] == '(' || sb->s[sb->len - 1] == ' '))
                sb->s[--sb->len] = '\0';
            if (p[1] == ')')
                p++;
        } else if (strcmp(name, "explanation") == 0) {
            char *e = explanation_for(enh, code);
            if (e == NULL) {
                *why = "no memory";
                return -1;
            }
            sb_puts(sb, e);
            free(e);
        } else if (strcmp(name, "enhanced") == 0 && enh)
            sb_puts(sb, enh);
        else if (strcmp(name, "code") == 0 && code)
            sb_printf(sb, "%d", code);
        else {
            *why =
                strcmp(name, "code") == 0 || strcmp(name, "enhanced") == 0
                    ? "uses %{code}/%{enhanced} but does not fix that code, and Postfix cannot "
                      "fill it"
                    : "uses a variable Postfix cannot fill in a footer (%{queue_id}, %{macro:...})";
            return -1;
        }
    }
    return 0;
}

static int exportable(const struct rule *r, const char **why)
{
    const struct rule_match *m = &r->when;
    if (m->source && strcmp(m->source, "any") != 0 && strcmp(m->source, "mta") != 0) {
        *why = "source is not mta or any";
        return 0;
    }
    if (r->has_action && r->action != ACTION_REWRITE && r->action != ACTION_LOG) {
        *why = "an own decision, not an explanation";
        return 0;
    }
    if (!m->code && !m->code_class && !m->has_enhanced && !m->enh_none && !m->text) {
        *why = "matches no code, enhanced code or text";
        return 0;
    }
    if (m->sender || m->rcpt || m->helo || m->client_name || m->nclients || m->auth >= 0
        || m->auth_login || m->nmacros || m->nheaders) {
        *why = "matches session facts a footer table cannot test";
        return 0;
    }
    return 1;
}

int footer_rule(const struct rule *r, char **key, char **value, const char **why)
{
    *key = *value = NULL;
    *why = NULL;
    if (!exportable(r, why))
        return -1;
    struct strbuf sb;
    sb_init(&sb);
    int rc = 0;
    if (r->reply.footer)
        rc = translate(&sb, template_source(r->reply.footer), r, why);
    else if (r->reply.nlines > 0) {
        for (size_t i = 0; rc == 0 && i < r->reply.nlines; i++) {
            if (i)
                sb_putc(&sb, ' ');
            rc = translate(&sb, template_source(r->reply.lines[i]), r, why);
        }
    } else {
        char ebuf[40];
        const char *enh = rule_enhanced(r, ebuf, sizeof ebuf);
        if (enh == NULL) {
            *why = "has no text and no fixed enhanced code to explain";
            rc = -1;
        } else {
            char *e = explanation_for(enh, r->reply.code ? r->reply.code : r->when.code);
            if (e)
                sb_puts(&sb, e);
            free(e);
        }
    }
    if (rc == 0 && r->reply.url)
        sb_printf(&sb, " More information: %s", r->reply.url);
    if (rc < 0 || sb.oom) {
        if (*why == NULL)
            *why = "no memory";
        sb_free(&sb);
        return -1;
    }
    *value = sb_steal(&sb);
    *key = make_key(&r->when);
    if (*key == NULL || *value == NULL) {
        free(*key);
        free(*value);
        *key = *value = NULL;
        *why = "no memory";
        return -1;
    }
    return 0;
}

void footer_check(const struct config *c, struct diag_list *dl)
{
    for (size_t i = 0; i < c->nrules; i++) {
        const struct rule *r = &c->rules[i];
        const char *why = NULL;
        if (!exportable(r, &why))
            continue;
        char *key, *value;
        if (footer_rule(r, &key, &value, &why) == 0) {
            free(key);
            free(value);
            continue;
        }
        if (why == NULL || strncmp(why, "uses ", 5) != 0)
            continue; /* nothing to explain: simply not exported */
        int mta_only = r->when.source && strcmp(r->when.source, "mta") == 0;
        diag_add_at(dl, r->file, r->line, "footer-variable", mta_only ? DIAG_ERROR : DIAG_WARNING,
                    "rule \"%s\" applies to Postfix's own replies but %s; %s", r->name, why,
                    mta_only ? "it cannot be exported to smtpd_reject_footer_maps"
                             : "it is left out of the footer table");
    }
}

/* A delimiter character that does not occur in the regex.  Never "!"
   (a leading "!" negates a pcre table pattern) or "#" (a comment line). */
static char pick_delimiter(const char *re)
{
    static const char cand[] = "/%|@~,;:";
    for (const char *c = cand; *c; c++)
        if (strchr(re, *c) == NULL)
            return *c;
    return 0;
}

/* A catch-all rule: a class condition and nothing else, whose only reply
   part is the footer "%{explanation}" (conf/rules.d/90-catch-all.conf).
   Postfix cannot compute an explanation, so it becomes one entry per
   registered enhanced code of the class, then one per basic code for the
   replies whose enhanced code is missing or unregistered. */
static int catch_all_class(const struct rule *r)
{
    const struct rule_match *m = &r->when;
    const struct rule_reply *rr = &r->reply;
    if (m->code || !(m->code_class == 4 || m->code_class == 5) || m->has_enhanced || m->enh_none
        || m->text || rr->nlines || rr->enhanced || rr->code || rr->url || rr->footer == NULL
        || strcmp(template_source(rr->footer), "%{explanation}") != 0)
        return 0;
    const char *why;
    return exportable(r, &why) ? m->code_class : 0;
}

static int export_catch_all(const struct rule *r, int cls, FILE *out)
{
    int n = 0;
    fprintf(out,
            "# rule %s (%s:%d): the explanation of each registered code, then of each "
            "basic code\n",
            r->name, r->file, r->line);
    for (size_t i = 0; i < tax_enhanced_count(); i++) {
        const struct tax_enhanced *e = tax_enhanced_at(i);
        if (e->deprecated)
            continue;
        char enh[32];
        snprintf(enh, sizeof enh, "%d.%d.%d", cls, e->subject, e->detail);
        char *x = explanation_for(enh, 0);
        if (x == NULL)
            return -1;
        fprintf(out, "/^%d\\d\\d[ -]%d\\.%d\\.%d / %s\n", cls, cls, e->subject, e->detail, x);
        free(x);
        n++;
    }
    for (size_t i = 0; i < tax_basic_count(); i++) {
        const struct tax_basic *b = tax_basic_at(i);
        if (b->code / 100 != cls)
            continue;
        char *x = explanation_for(NULL, b->code);
        if (x == NULL)
            return -1;
        fprintf(out, "/^%d[ -]/ %s\n", b->code, x);
        free(x);
        n++;
    }
    return n;
}

int footer_export(const struct config *c, FILE *out)
{
    int n = 0;
    fprintf(out,
            "# Postfix smtpd_reject_footer_maps table generated by `reword postfix-footers`\n"
            "# from %s. Do not edit: change the rules and generate it again.\n"
            "# main.cf:  smtpd_reject_footer_maps = pcre:/etc/postfix/reword_footers.pcre\n"
            "# Keys are the complete reply text; the first match wins (rule order).\n",
            c->path ? c->path : "(string)");
    for (size_t i = 0; i < c->nrules; i++) {
        const struct rule *r = &c->rules[i];
        char *key, *value;
        const char *why = NULL;
        int cls = catch_all_class(r);
        if (cls) {
            int k = export_catch_all(r, cls, out);
            if (k < 0)
                return -1;
            n += k;
            continue;
        }
        if (footer_rule(r, &key, &value, &why) < 0) {
            if (why && strcmp(why, "source is not mta or any") != 0
                && strcmp(why, "an own decision, not an explanation") != 0)
                fprintf(out, "# rule %s (%s:%d) not exported: %s\n", r->name, r->file, r->line,
                        why);
            continue;
        }
        char d = pick_delimiter(key);
        if (d == 0)
            fprintf(out, "# rule %s (%s:%d) not exported: no free regex delimiter\n", r->name,
                    r->file, r->line);
        else {
            fprintf(out, "# rule %s (%s:%d)\n%c%s%c %s\n", r->name, r->file, r->line, d, key, d,
                    value);
            n++;
        }
        free(key);
        free(value);
    }
    return ferror(out) ? -1 : n;
}
