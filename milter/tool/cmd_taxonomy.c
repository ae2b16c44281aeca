/*
 * cmd_taxonomy.c - `reword taxonomy [--json]`: prints the whole code
 * taxonomy (enhanced codes, basic codes, classes, subjects) with the
 * project's explanations, as text for people or JSON for scripts.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "strbuf.h"
#include "taxonomy.h"

/* "451;550" -> ["451","550"] */
static void json_assoc(struct strbuf *sb, const char *assoc)
{
    sb_putc(sb, '[');
    const char *p = assoc;
    int first = 1;
    while (*p) {
        size_t n = strcspn(p, ";");
        if (n > 0) {
            char item[32];
            snprintf(item, sizeof item, "%.*s", (int)(n < 31 ? n : 31), p);
            if (!first)
                sb_putc(sb, ',');
            sb_json_str(sb, item);
            first = 0;
        }
        p += n;
        if (*p == ';')
            p++;
    }
    sb_putc(sb, ']');
}

static void json_groups(struct strbuf *sb, const char *key, size_t n,
                        const struct tax_group *(*at)(size_t), int is_class)
{
    sb_printf(sb, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        const struct tax_group *g = at(i);
        sb_printf(sb, "%s{\"code\":\"%s%d%s\",\"summary\":", i ? "," : "", is_class ? "" : "X.",
                  g->number, is_class ? ".XXX.XXX" : ".XXX");
        sb_json_str(sb, g->summary);
        sb_puts(sb, ",\"explanation\":");
        sb_json_str(sb, g->explanation);
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
}

static int print_json(void)
{
    struct strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, "{\"enhanced\":[");
    for (size_t i = 0; i < tax_enhanced_count(); i++) {
        const struct tax_enhanced *e = tax_enhanced_at(i);
        sb_puts(&sb, i ? ",{\"code\":" : "{\"code\":");
        sb_json_str(&sb, e->code);
        sb_puts(&sb, ",\"sample_text\":");
        sb_json_str(&sb, e->sample_text);
        sb_puts(&sb, ",\"associated_basic_codes\":");
        json_assoc(&sb, e->assoc);
        sb_puts(&sb, ",\"reference\":");
        sb_json_str(&sb, e->reference);
        sb_puts(&sb, ",\"explanation\":");
        sb_json_str(&sb, e->explanation);
        sb_printf(&sb, ",\"deprecated\":%s}", e->deprecated ? "true" : "false");
    }
    sb_puts(&sb, "],\"basic\":[");
    for (size_t i = 0; i < tax_basic_count(); i++) {
        const struct tax_basic *b = tax_basic_at(i);
        sb_printf(&sb, "%s{\"code\":%d,\"meaning\":", i ? "," : "", b->code);
        sb_json_str(&sb, b->meaning);
        sb_puts(&sb, ",\"reference\":");
        sb_json_str(&sb, b->reference);
        sb_puts(&sb, ",\"explanation\":");
        sb_json_str(&sb, b->explanation);
        sb_putc(&sb, '}');
    }
    sb_putc(&sb, ']');
    json_groups(&sb, "classes", tax_class_count(), tax_class_at, 1);
    json_groups(&sb, "subjects", tax_subject_count(), tax_subject_at, 0);
    sb_puts(&sb, "}\n");
    if (sb.oom) {
        fprintf(stderr, "reword: out of memory\n");
        return 1;
    }
    fputs(sb_str(&sb), stdout);
    sb_free(&sb);
    return 0;
}

static void print_text(void)
{
    printf("Classes\n");
    for (size_t i = 0; i < tax_class_count(); i++) {
        const struct tax_group *g = tax_class_at(i);
        printf("  %d.X.X  %s\n         %s\n", g->number, g->summary, g->explanation);
    }
    printf("\nSubjects\n");
    for (size_t i = 0; i < tax_subject_count(); i++) {
        const struct tax_group *g = tax_subject_at(i);
        printf("  X.%d.X  %s\n         %s\n", g->number, g->summary, g->explanation);
    }
    printf("\nEnhanced status codes (IANA registry)\n");
    for (size_t i = 0; i < tax_enhanced_count(); i++) {
        const struct tax_enhanced *e = tax_enhanced_at(i);
        char assoc[128];
        tax_assoc_describe(e, assoc, sizeof assoc);
        printf("  %-7s %s%s\n          basic codes: %s; %s\n          %s\n", e->code,
               e->sample_text[0] ? e->sample_text : "(no sample text)",
               e->deprecated ? " [deprecated]" : "", assoc, e->reference, e->explanation);
    }
    printf("\nBasic reply codes\n");
    for (size_t i = 0; i < tax_basic_count(); i++) {
        const struct tax_basic *b = tax_basic_at(i);
        printf("  %d  %s (%s)\n       %s\n", b->code, b->meaning, b->reference, b->explanation);
    }
}

int cmd_taxonomy(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else {
            fprintf(stderr, "usage: reword taxonomy [--json]\n");
            return 2;
        }
    }
    if (json)
        return print_json();
    print_text();
    return 0;
}
