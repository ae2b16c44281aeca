/*
 * cmd_explain.c - `reword explain`: tells what SMTP replies mean.  For each
 * reply (arguments, or one per line on stdin with "-"): parsed parts, the
 * registry meanings, the friendly explanation, diagnostics; with -c FILE
 * also what the rules would rewrite it to and which rule fired.
 * Exit status 1 when any input could not be parsed (or the rules failed
 * to load), 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "engine.h"
#include "explain.h"
#include "reply.h"
#include "rules.h"
#include "strbuf.h"
#include "taxonomy.h"

struct explain_opts {
    int json;
    const char *config;
    int stage;          /* STAGE_COUNT = any */
    const char *source; /* NULL = any */
    struct config *cfg;
};

static char *joined_text(const struct reply *r, const char *sep)
{
    struct strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < r->nlines; i++) {
        if (i)
            sb_puts(&sb, sep);
        sb_puts(&sb, r->lines[i]);
    }
    return sb_steal(&sb);
}

static int reply_class_of(const struct reply *r)
{
    if (r->code)
        return r->code / 100;
    return r->has_enhanced ? r->eclass : 0;
}

/* Runs the rules on r; fills rewritten (wire form) and rule name. */
static int apply_rules(const struct explain_opts *o, const struct reply *r, char **rewritten,
                       const char **rule)
{
    struct session_facts facts;
    memset(&facts, 0, sizeof facts);
    struct event ev = {
        .stage = (enum stage)o->stage, .source = o->source, .orig = r, .facts = &facts};
    struct decision d;
    engine_decision_init(&d);
    int rc = engine_eval(o->cfg, &ev, &d);
    *rewritten = NULL;
    *rule = NULL;
    if (rc < 0) {
        engine_decision_free(&d);
        return -1;
    }
    if (d.has_reply)
        *rewritten = reply_format(&d.reply, "\n");
    if (d.rule)
        *rule = d.rule->name; /* owned by the config, which outlives the output */
    engine_decision_free(&d);
    return 0;
}

static void json_diags(struct strbuf *sb, const struct diag_list *dl)
{
    sb_puts(sb, "[");
    for (size_t i = 0; i < dl->n; i++) {
        sb_puts(sb, i ? ",{\"id\":" : "{\"id\":");
        sb_json_str(sb, dl->v[i].id);
        sb_puts(sb, ",\"severity\":");
        sb_json_str(sb, diag_severity_name(dl->v[i].severity));
        sb_puts(sb, ",\"message\":");
        sb_json_str(sb, dl->v[i].message);
        sb_putc(sb, '}');
    }
    sb_puts(sb, "]");
}

static void emit_json(const char *input, int parsed, const struct reply *r,
                      const struct diag_list *dl, const char *rewritten, const char *rule,
                      int with_rules)
{
    struct strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, "{\"input\":");
    sb_json_str(&sb, input);
    if (parsed && r->code)
        sb_printf(&sb, ",\"code\":%d", r->code);
    else
        sb_puts(&sb, ",\"code\":null");
    sb_puts(&sb, ",\"enhanced\":");
    sb_json_str(&sb, parsed && r->has_enhanced ? r->enhanced : NULL);
    char *text = parsed ? joined_text(r, "\n") : NULL;
    sb_puts(&sb, ",\"text\":");
    sb_json_str(&sb, text);
    free(text);
    sb_puts(&sb, ",\"lines\":[");
    for (size_t i = 0; parsed && i < r->nlines; i++) {
        if (i)
            sb_putc(&sb, ',');
        sb_json_str(&sb, r->lines[i]);
    }
    sb_putc(&sb, ']');
    int cls = parsed ? reply_class_of(r) : 0;
    const struct tax_group *g = tax_class_find(cls);
    if (cls)
        sb_printf(&sb, ",\"class\":%d", cls);
    else
        sb_puts(&sb, ",\"class\":null");
    sb_puts(&sb, ",\"class_meaning\":");
    sb_json_str(&sb, g ? g->summary : NULL);
    sb_puts(&sb, ",\"meaning\":");
    sb_json_str(&sb, parsed && r->code ? explain_basic_meaning(r->code) : NULL);
    sb_puts(&sb, ",\"enhanced_meaning\":");
    sb_json_str(&sb, parsed && r->has_enhanced ? explain_enhanced_meaning(r) : NULL);
    char *expl = parsed ? explain_reply(r) : NULL;
    sb_puts(&sb, ",\"explanation\":");
    sb_json_str(&sb, expl);
    free(expl);
    if (with_rules) {
        sb_puts(&sb, ",\"rewritten\":");
        sb_json_str(&sb, rewritten);
        sb_puts(&sb, ",\"rule\":");
        sb_json_str(&sb, rule);
    }
    sb_puts(&sb, ",\"diagnostics\":");
    json_diags(&sb, dl);
    sb_puts(&sb, "}\n");
    fputs(sb_str(&sb), stdout);
    sb_free(&sb);
}

static void emit_text(const char *input, int parsed, const struct reply *r,
                      const struct diag_list *dl, const char *rewritten, const char *rule,
                      int with_rules)
{
    printf("%s\n", input);
    if (parsed) {
        if (r->code)
            printf("  code         %d  %s\n", r->code, explain_basic_meaning(r->code));
        else
            printf("  code         (none)\n");
        if (r->has_enhanced)
            printf("  enhanced     %s  %s\n", r->enhanced, explain_enhanced_meaning(r));
        else
            printf("  enhanced     (none)\n");
        int cls = reply_class_of(r);
        const struct tax_group *g = tax_class_find(cls);
        if (g)
            printf("  class        %d  %s\n", cls, g->summary);
        for (size_t i = 0; i < r->nlines; i++)
            printf("  %s %s\n", i ? "            " : "text        ", r->lines[i]);
        char *expl = explain_reply(r);
        printf("  explanation  %s\n", expl ? expl : "");
        free(expl);
        if (with_rules) {
            printf("  rule         %s\n", rule ? rule : "(none matched)");
            for (const char *p = rewritten; p;) {
                const char *nl = strchr(p, '\n');
                int n = nl ? (int)(nl - p) : (int)strlen(p);
                printf("  %s %.*s\n", p == rewritten ? "rewritten   " : "            ", n, p);
                p = nl ? nl + 1 : NULL;
            }
        }
    }
    cmd_check_print_diags(dl, "  ");
}

/* Explains one reply; returns 1 if it could not be parsed. */
static int explain_one(const struct explain_opts *o, const char *input)
{
    struct reply r;
    struct diag_list dl;
    reply_init(&r);
    diag_init(&dl);
    int parsed = reply_parse(input, &r, &dl) == 0;
    if (parsed)
        reply_validate(&r, REPLY_CTX_ANY, &dl);
    char *rewritten = NULL;
    const char *rule = NULL;
    int failed = !parsed;
    if (parsed && o->cfg && apply_rules(o, &r, &rewritten, &rule) < 0) {
        diag_add(&dl, "engine-error", DIAG_ERROR, "the rule engine failed on this reply");
        failed = 1;
    }
    if (o->json)
        emit_json(input, parsed, &r, &dl, rewritten, rule, o->cfg != NULL);
    else
        emit_text(input, parsed, &r, &dl, rewritten, rule, o->cfg != NULL);
    free(rewritten);
    reply_free(&r);
    diag_free(&dl);
    return failed;
}

static int explain_stdin(const struct explain_opts *o)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int status = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        status |= explain_one(o, line);
    }
    free(line);
    return status;
}

static int usage(void)
{
    fprintf(
        stderr,
        "usage: reword explain [-c FILE] [--stage STAGE] [--source NAME] [--json] REPLY... | -\n");
    return 2;
}

int cmd_explain(int argc, char **argv)
{
    struct explain_opts o = {.stage = STAGE_COUNT};
    int first = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0)
            o.json = 1;
        else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc)
            o.config = argv[++i];
        else if (strcmp(a, "--stage") == 0 && i + 1 < argc) {
            o.stage = names_stage_lookup(argv[++i]);
            if (o.stage < 0) {
                fprintf(stderr, "reword explain: unknown stage '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--source") == 0 && i + 1 < argc) {
            o.source = argv[++i];
            if (strcmp(o.source, "any") == 0)
                o.source = NULL;
        } else if (strcmp(a, "--") == 0) {
            first = i + 1;
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage();
        } else {
            first = i;
            break;
        }
    }
    if (first >= argc)
        return usage();
    if (o.config) {
        struct diag_list dl;
        diag_init(&dl);
        o.cfg = conf_load(o.config, &dl);
        if (o.cfg == NULL) {
            diag_sort(&dl);
            cmd_check_print_diags(&dl, "");
            fprintf(stderr, "reword explain: %s has errors, see above\n", o.config);
            diag_free(&dl);
            return 1;
        }
        diag_free(&dl);
    }
    int status = 0;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0)
            status |= explain_stdin(&o);
        else
            status |= explain_one(&o, argv[i]);
    }
    if (o.cfg)
        conf_unref(o.cfg);
    return status;
}
