/*
 * cmd_report.c - `reword report [--since T] [--until T] [--top N]
 * [--format text|json|html] [-o FILE] [-c CONFIG] FILE...`: the rejection
 * report over Postfix maillogs and milter-reword audit logs (plain or
 * gzip, "-" for stdin).  The counting is in the core (report.c); this
 * file only writes the three output formats.  The HTML page is one
 * self-contained file: inline CSS, an inline SVG chart, no JavaScript.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "explain.h"
#include "reply.h"
#include "report.h"
#include "rules.h"
#include "taxonomy.h"

struct table {
    const char *title, *key_name;
    const struct counter *c;
    int by_key;             /* chronological tables sort by key */
    int meaning;            /* add the registry meaning of an enhanced code */
};

static const char *enhanced_meaning(const char *code)
{
    int c, s, d;
    if (sscanf(code, "%d.%d.%d", &c, &s, &d) != 3)
        return "";
    const struct tax_enhanced *e = tax_enhanced_find(s, d);
    return e ? e->sample_text : "(not registered)";
}

static void fmt_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (t <= 0) {
        snprintf(buf, len, "-");
        return;
    }
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- text ---- */

static void text_table(FILE *o, const struct table *t, size_t top, unsigned long total)
{
    size_t *idx = counter_sorted(t->c, t->by_key);
    fprintf(o, "\n%s\n", t->title);
    if (t->c->n == 0)
        fprintf(o, "  (none)\n");
    size_t n = t->by_key ? t->c->n : (t->c->n < top ? t->c->n : top);
    for (size_t i = 0; idx && i < n; i++) {
        size_t k = idx[i];
        fprintf(o, "  %8lu %5.1f%%  %-28s %s\n", t->c->counts[k],
                total ? 100.0 * t->c->counts[k] / total : 0.0, t->c->keys[k],
                t->meaning ? enhanced_meaning(t->c->keys[k]) : "");
    }
    if (!t->by_key && t->c->n > top)
        fprintf(o, "  ... %zu more\n", t->c->n - top);
    free(idx);
}

/* ---- json ---- */

static void json_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(o, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(o, "\\u%04x", ch);
        else
            fputc(ch, o);
    }
    fputc('"', o);
}

static void json_table(FILE *o, const char *name, const struct table *t, size_t top)
{
    size_t *idx = counter_sorted(t->c, t->by_key);
    size_t n = t->by_key ? t->c->n : (t->c->n < top ? t->c->n : top);
    fprintf(o, ",\"%s\":[", name);
    for (size_t i = 0; idx && i < n; i++) {
        size_t k = idx[i];
        fprintf(o, "%s{\"key\":", i ? "," : "");
        json_str(o, t->c->keys[k]);
        fprintf(o, ",\"count\":%lu", t->c->counts[k]);
        if (t->meaning) {
            fprintf(o, ",\"meaning\":");
            json_str(o, enhanced_meaning(t->c->keys[k]));
        }
        fputc('}', o);
    }
    fputc(']', o);
    free(idx);
}

/* ---- html ---- */

static void html_esc(FILE *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '&': fputs("&amp;", o); break;
        case '"': fputs("&quot;", o); break;
        default: fputc(*s, o);
        }
    }
}

static void html_table(FILE *o, const struct table *t, size_t top, unsigned long total)
{
    size_t *idx = counter_sorted(t->c, t->by_key);
    size_t n = t->by_key ? t->c->n : (t->c->n < top ? t->c->n : top);
    fprintf(o, "<section><h2>");
    html_esc(o, t->title);
    fprintf(o, "</h2><table><thead><tr><th>");
    html_esc(o, t->key_name);
    fprintf(o, "</th>%s<th class=n>Rejections</th><th class=n>Share</th></tr></thead><tbody>\n",
            t->meaning ? "<th>Meaning</th>" : "");
    if (n == 0)
        fprintf(o, "<tr><td colspan=4>none</td></tr>\n");
    for (size_t i = 0; idx && i < n; i++) {
        size_t k = idx[i];
        fprintf(o, "<tr><td>");
        html_esc(o, t->c->keys[k]);
        fprintf(o, "</td>");
        if (t->meaning) {
            fprintf(o, "<td>");
            html_esc(o, enhanced_meaning(t->c->keys[k]));
            fprintf(o, "</td>");
        }
        fprintf(o, "<td class=n>%lu</td><td class=n>%.1f%%</td></tr>\n", t->c->counts[k],
                total ? 100.0 * t->c->counts[k] / total : 0.0);
    }
    fprintf(o, "</tbody></table></section>\n");
    free(idx);
}

/* Bar chart of the per-hour counts as inline SVG (readable without JS). */
static void html_chart(FILE *o, const struct counter *hours)
{
    size_t *idx = counter_sorted(hours, 1);
    unsigned long max = 1;
    for (size_t i = 0; i < hours->n; i++)
        if (hours->counts[idx[i]] > max)
            max = hours->counts[idx[i]];
    size_t n = hours->n ? hours->n : 1;
    int w = 960, h = 220, pad = 40;
    double bw = (double)(w - 2 * pad) / n;
    fprintf(o, "<section><h2>Rejections per hour</h2><svg xmlns=\"http://www.w3.org/2000/svg\" "
               "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"rejections per hour\">\n"
               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>\n"
               "<text x=\"4\" y=\"%d\" font-size=\"11\">%lu</text>\n", w, h + 40, pad, h, w - pad, h,
            pad - 20, max);
    for (size_t i = 0; i < hours->n; i++) {
        size_t k = idx[i];
        double bh = (double)(h - pad) * hours->counts[k] / max;
        fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#3b6ea8\">"
                   "<title>", pad + i * bw + 1, h - bh, bw > 3 ? bw - 2 : bw, bh);
        html_esc(o, hours->keys[k]);
        fprintf(o, ": %lu</title></rect>\n", hours->counts[k]);
        if (i == 0 || i + 1 == hours->n || (n > 12 && i % (n / 6) == 0)) {
            fprintf(o, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">", pad + i * bw, h + 16);
            html_esc(o, hours->keys[k]);
            fprintf(o, "</text>\n");
        }
    }
    fprintf(o, "</svg></section>\n");
    free(idx);
}

static int usage(void)
{
    fprintf(stderr, "usage: reword report [--since T] [--until T] [--top N] "
                    "[--format text|json|html] [-o FILE] [-c CONFIG] FILE...\n");
    return 2;
}

int cmd_report(int argc, char **argv)
{
    struct report r;
    report_init(&r);
    const char *format = "text", *outpath = NULL, *config = NULL;
    size_t top = 10;
    int first = argc;
    time_t now = time(NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--since") == 0 || strcmp(a, "--until") == 0) && i + 1 < argc) {
            time_t *t = a[2] == 's' ? &r.since : &r.until;
            if (report_parse_time(argv[++i], now, t) < 0) {
                fprintf(stderr, "reword report: bad time '%s' (YYYY-MM-DD[ HH:MM], 24h, 7d)\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--top") == 0 && i + 1 < argc)
            top = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else if (strcmp(a, "-o") == 0 && i + 1 < argc)
            outpath = argv[++i];
        else if (strcmp(a, "-c") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (a[0] == '-' && a[1] != '\0' && strcmp(a, "--") != 0)
            return usage();
        else {
            first = strcmp(a, "--") == 0 ? i + 1 : i;
            break;
        }
    }
    if (first >= argc || top == 0 || (strcmp(format, "text") && strcmp(format, "json")
                                      && strcmp(format, "html")))
        return usage();
    struct config *cfg = NULL;
    if (config) {
        struct diag_list dl;
        diag_init(&dl);
        cfg = config_load(config, &dl);
        if (cfg == NULL) {
            diag_sort(&dl);
            print_diags(&dl, "");
            diag_free(&dl);
            return 1;
        }
        diag_free(&dl);
        r.cfg = cfg;
    }
    int status = 0;
    for (int i = first; i < argc; i++)
        if (report_file(&r, argv[i]) < 0) {
            fprintf(stderr, "reword report: %s: %s\n", argv[i], strerror(errno));
            status = 1;
        }
    FILE *o = outpath ? fopen(outpath, "w") : stdout;
    if (o == NULL) {
        fprintf(stderr, "reword report: %s: %s\n", outpath, strerror(errno));
        report_free(&r);
        if (cfg)
            config_unref(cfg);
        return 1;
    }
    const struct table tables[] = {
        { "By class", "Class", &r.by_class, 1, 0 },
        { "By enhanced status code", "Code", &r.by_enhanced, 0, 1 },
        { "By rule", "Rule", &r.by_rule, 0, 0 },
        { "By source", "Source", &r.by_source, 0, 0 },
        { "By stage", "Stage", &r.by_stage, 0, 0 },
        { "Top clients", "Client", &r.by_client, 0, 0 },
        { "Top recipient domains", "Domain", &r.by_domain, 0, 0 },
        { "Per day", "Day", &r.by_day, 1, 0 },
        { "Per hour", "Hour", &r.by_hour, 1, 0 },
    };
    static const char *const json_names[] = { "by_class", "by_enhanced", "by_rule", "by_source",
                                               "by_stage", "top_clients", "top_domains",
                                               "per_day", "per_hour" };
    size_t nt = sizeof tables / sizeof tables[0];
    char t0[32], t1[32];
    fmt_time(r.first, t0, sizeof t0);
    fmt_time(r.last, t1, sizeof t1);
    if (strcmp(format, "json") == 0) {
        fprintf(o, "{\"lines\":%lu,\"bytes\":%lu,\"rejections\":%lu,\"maillog_rejections\":%lu,"
                   "\"audit_rejections\":%lu,\"malformed\":%lu,\"out_of_range\":%lu,\"first\":",
                r.lines, r.bytes, r.rejections, r.maillog_rejections, r.audit_rejections,
                r.malformed, r.out_of_range);
        json_str(o, t0);
        fprintf(o, ",\"last\":");
        json_str(o, t1);
        for (size_t i = 0; i < nt; i++)
            json_table(o, json_names[i], &tables[i], top);
        fprintf(o, "}\n");
    } else if (strcmp(format, "html") == 0) {
        fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<title>milter-reword rejection report %s to %s</title>\n<style>"
                   "body{font-family:sans-serif;margin:2em;color:#222}"
                   "table{border-collapse:collapse;margin-bottom:1em;min-width:30em}"
                   "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
                   "th{background:#eef}td.n,th.n{text-align:right}"
                   "section{margin-bottom:1.5em}.sum td{border:none}</style></head><body>\n"
                   "<h1>Rejection report</h1>\n<table class=sum><tr><td>Period</td><td>%s &ndash; %s</td></tr>"
                   "<tr><td>Rejections</td><td><b>%lu</b> (%lu from maillogs, %lu from audit logs)</td></tr>"
                   "<tr><td>Lines read</td><td>%lu (%lu malformed, %lu outside the period)</td></tr>"
                   "<tr><td>Files</td><td>", t0, t1, t0, t1, r.rejections, r.maillog_rejections,
                r.audit_rejections, r.lines, r.malformed, r.out_of_range);
        for (int i = first; i < argc; i++) {
            html_esc(o, argv[i]);
            fputs(i + 1 < argc ? ", " : "", o);
        }
        fprintf(o, "</td></tr></table>\n");
        html_chart(o, &r.by_hour);
        for (size_t i = 0; i < nt; i++)
            if (tables[i].c != &r.by_hour)
                html_table(o, &tables[i], top, r.rejections);
        fprintf(o, "<p>Generated by reword report. Codes: RFC 5321, RFC 3463, IANA SMTP Enhanced "
                   "Status Codes.</p></body></html>\n");
    } else {
        fprintf(o, "Rejection report: %s to %s\n", t0, t1);
        fprintf(o, "  %lu rejections (%lu from maillogs, %lu from audit logs); %lu lines read, "
                   "%lu malformed, %lu outside the period\n", r.rejections, r.maillog_rejections,
                r.audit_rejections, r.lines, r.malformed, r.out_of_range);
        for (size_t i = 0; i < nt; i++)
            text_table(o, &tables[i], top, r.rejections);
    }
    if (outpath && fclose(o) != 0) {
        fprintf(stderr, "reword report: %s: %s\n", outpath, strerror(errno));
        status = 1;
    }
    report_free(&r);
    if (cfg)
        config_unref(cfg);
    return status;
}
