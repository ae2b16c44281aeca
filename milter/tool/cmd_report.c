/*
 * cmd_report.c - `reword report [--since T] [--until T] [--top N]
 * [--format text|json|html] [-o FILE] [-c CONFIG] FILE...`: the rejection
 * report over Postfix maillogs and milter-reword audit logs (plain or
 * gzip, "-" for stdin).  The reading and counting is in the core
 * (report.c); this file writes the three output formats:
 *   text  aligned tables for a terminal, with bars;
 *   json  one object with the totals and an array per table;
 *   html  one self-contained page (inline CSS, inline SVG timeline, no
 *         JavaScript, no external assets), every string escaped.
 * The maillog and the audit log describe the same rejections from two
 * sides, so when both are given every table shows them in two columns
 * instead of adding them up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "report.h"
#include "rules.h"
#include "taxonomy.h"

#define MAX_TEXT_KEY 60

enum meaning { M_NONE, M_CLASS, M_ENHANCED, M_SOURCE };

struct table {
    const char *id;             /* JSON name */
    const char *title, *key_name;
    const struct counter *c;
    enum meaning meaning;
    int top;                    /* cut to --top */
    int split;                  /* show the 5xx / 4xx columns */
    int wide;                   /* HTML: full width (long keys or a meaning column) */
    const char *empty;          /* shown when the table is empty; NULL: table left out */
};

struct out {
    FILE *o;
    const struct report *r;
    size_t top;
    int both;                   /* maillog and audit log rejections: two columns */
    int kind;                   /* the one kind when !both */
    char **files;
    int nfiles;
    const char *config;
    time_t since, until;
};

/* ---- helpers ---- */

static const char *meaning_of(enum meaning m, const char *key)
{
    int c, s, d;
    switch (m) {
    case M_CLASS: {
        const struct tax_group *g = tax_class_find(key[0] - '0');
        return g ? g->summary : "";
    }
    case M_ENHANCED: {
        if (sscanf(key, "%d.%d.%d", &c, &s, &d) != 3)
            return "";
        const struct tax_enhanced *e = tax_enhanced_find(s, d);
        if (e && e->sample_text[0])
            return e->sample_text;
        const struct tax_group *g = tax_subject_find(s);
        return g ? g->summary : "(not in the registry)";
    }
    case M_SOURCE:
        return report_source_meaning(key);
    default:
        return "";
    }
}

static unsigned long total_of(const struct out *x, const struct counter_entry *e)
{
    return counter_entry_sum(e, x->both ? -1 : x->kind, -1);
}

static unsigned long kind_total(const struct out *x)
{
    const struct report *r = x->r;
    return x->both ? r->rejections[0] + r->rejections[1] : r->rejections[x->kind];
}

/* "1,234,567" */
static const char *commas(unsigned long long v, char *buf, size_t len)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%llu", v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = t[i];
    }
    buf[o] = '\0';
    return buf;
}

static void fmt_time(time_t t, const char *fmt, char *buf, size_t len)
{
    struct tm tm;
    if (t <= 0) {
        snprintf(buf, len, "-");
        return;
    }
    localtime_r(&t, &tm);
    strftime(buf, len, fmt, &tm);
}

/* "UTC" or "CET, UTC+01:00": the zone the report's times are in. */
static const char *zone_text(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    char name[16];
    localtime_r(&now, &tm);
    strftime(name, sizeof name, "%Z", &tm);
    long off = tm.tm_gmtoff;
    if (off == 0)
        snprintf(buf, len, "UTC");
    else
        snprintf(buf, len, "%s, UTC%c%02ld:%02ld", name, off < 0 ? '-' : '+',
                 (off < 0 ? -off : off) / 3600, (off < 0 ? -off : off) / 60 % 60);
    return buf;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

static const char *input_format(const struct report_input *in)
{
    if (in->failed && in->lines == 0)
        return "unread";
    if (in->audit_lines && in->maillog_lines > in->malformed)
        return in->gzip ? "maillog + audit log, gzip" : "maillog + audit log";
    if (in->audit_lines)
        return in->gzip ? "audit log, gzip" : "audit log";
    return in->gzip ? "maillog, gzip" : "maillog";
}

/* Number of characters (not bytes) of a UTF-8 string. */
static size_t u8len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* ---- text ---- */

/* Prints s padded (or cut with "...") to w characters. */
static void text_cell(FILE *o, const char *s, size_t w)
{
    size_t n = u8len(s);
    if (n <= w) {
        fputs(s, o);
        for (size_t i = n; i < w; i++)
            fputc(' ', o);
        return;
    }
    size_t chars = 0;
    for (const char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80 && ++chars > w - 3)
            break;
        fputc(*p, o);
    }
    fputs("...", o);
}

/* A bar of '#' scaled to max; padded to width unless it ends the line. */
static void text_bar(FILE *o, unsigned long v, unsigned long max, int width, int pad)
{
    int n = max ? (int)((double)v * width / max + 0.5) : 0;
    if (v && n == 0)
        n = 1;
    for (int i = 0; i < n; i++)
        fputc('#', o);
    for (int i = n; pad && i < width; i++)
        fputc(' ', o);
}

static void text_share(FILE *o, unsigned long v, unsigned long total)
{
    double share = total ? 100.0 * v / total : 0.0;
    if (v && share < 0.05)
        fprintf(o, "  %6s", "<0.1%");
    else
        fprintf(o, "  %5.1f%%", share);
}

static void text_table(const struct out *x, const struct table *t)
{
    FILE *o = x->o;
    if (t->c->n == 0 && t->empty == NULL)
        return;
    fprintf(o, "\n%s\n", t->title);
    if (t->c->n == 0) {
        fprintf(o, "  %s\n", t->empty);
        return;
    }
    const struct counter_entry **idx = counter_sorted(t->c, 0);
    if (idx == NULL)
        return;
    size_t n = t->top && t->c->n > x->top ? x->top : t->c->n;
    /* long keys without a meaning column (reasons) go last, uncut */
    int key_last = t->wide && t->meaning == M_NONE;
    size_t w = strlen(t->key_name);
    unsigned long max = 0, total = kind_total(x);
    char a[32], b[32], lab[300];
    for (size_t i = 0; i < n; i++) {
        const char *k = idx[i]->key;
        if (idx[i]->label) {
            snprintf(lab, sizeof lab, "%s (%s)", k, idx[i]->label);
            k = lab;
        }
        if (u8len(k) > w)
            w = u8len(k);
        if (total_of(x, idx[i]) > max)
            max = total_of(x, idx[i]);
    }
    if (w > MAX_TEXT_KEY)
        w = MAX_TEXT_KEY;
    fputs("  ", o);
    if (!key_last) {
        text_cell(o, t->key_name, w);
        fputs("  ", o);
    }
    if (x->both)
        fprintf(o, "%10s  %10s", "Maillog", "Audit log");
    else {
        fprintf(o, "%10s", "Rejections");
        if (t->split)
            fprintf(o, "  %9s  %9s", "5xx", "4xx");
        fprintf(o, "  %6s", "Share");
    }
    if (key_last)
        fprintf(o, "  %*s%s", x->both ? 0 : 22, "", t->key_name);
    fputc('\n', o);
    for (size_t i = 0; i < n; i++) {
        const struct counter_entry *e = idx[i];
        const char *k = e->key;
        if (e->label) {
            snprintf(lab, sizeof lab, "%s (%s)", k, e->label);
            k = lab;
        }
        const char *mn = meaning_of(t->meaning, e->key);
        fputs("  ", o);
        if (!key_last) {
            text_cell(o, k, w);
            fputs("  ", o);
        }
        if (x->both)
            fprintf(o, "%10s  %10s", commas(counter_entry_sum(e, 0, -1), a, sizeof a),
                    commas(counter_entry_sum(e, 1, -1), b, sizeof b));
        else {
            unsigned long v = counter_entry_sum(e, x->kind, -1);
            fprintf(o, "%10s", commas(v, a, sizeof a));
            if (t->split)
                fprintf(o, "  %9s  %9s", commas(counter_entry_sum(e, x->kind, 0), a, sizeof a),
                        commas(counter_entry_sum(e, x->kind, 1), b, sizeof b));
            text_share(o, v, total);
            fputs("  ", o);
            text_bar(o, v, max, 20, *mn || key_last);
        }
        if (key_last)
            fprintf(o, "  %s", k);
        else if (*mn)
            fprintf(o, "  %s", mn);
        fputc('\n', o);
    }
    if (t->top && t->c->n > n)
        fprintf(o, "  ... and %zu more (--top)\n", t->c->n - n);
    free(idx);
}

static void text_timeline(const struct out *x, enum report_unit unit, const char *title)
{
    size_t n;
    struct report_bucket *v = report_timeline(x->r, unit, &n);
    if (v == NULL)
        return;
    unsigned long max = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long s = 0;
        for (int k = 0; k < REPORT_KINDS; k++)
            if (x->both || k == x->kind)
                s += v[i].n[k][0] + v[i].n[k][1];
        if (s > max)
            max = s;
    }
    char a[32], b[32], c[32];
    fprintf(x->o, "\n%s\n  %-16s", title, unit == REPORT_HOUR ? "Hour" : unit == REPORT_DAY ? "Day" : "Month");
    if (x->both)
        fprintf(x->o, "  %10s  %10s\n", "Maillog", "Audit log");
    else
        fprintf(x->o, "  %10s  %9s  %9s\n", "Rejections", "5xx", "4xx");
    for (size_t i = 0; i < n; i++) {
        fprintf(x->o, "  %-16s", v[i].label);
        if (x->both) {
            fprintf(x->o, "  %10s  %10s  ", commas(v[i].n[0][0] + v[i].n[0][1], a, sizeof a),
                    commas(v[i].n[1][0] + v[i].n[1][1], b, sizeof b));
            text_bar(x->o, v[i].n[0][0] + v[i].n[0][1] + v[i].n[1][0] + v[i].n[1][1], max, 30, 0);
        } else {
            const unsigned long *k = v[i].n[x->kind];
            fprintf(x->o, "  %10s  %9s  %9s  ", commas(k[0] + k[1], a, sizeof a),
                    commas(k[0], b, sizeof b), commas(k[1], c, sizeof c));
            text_bar(x->o, k[0] + k[1], max, 30, 0);
        }
        fputc('\n', x->o);
    }
    free(v);
}

/* ---- json ---- */

static void json_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(o, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(o, "\\u%04x", ch);
        else
            fputc(ch, o);
    }
    fputc('"', o);
}

/* A string from outside (a file name): sanitized first. */
static void json_ext(FILE *o, const char *s)
{
    char buf[1024];
    report_sanitize(buf, sizeof buf, s, strlen(s));
    json_str(o, buf);
}

static void json_time(FILE *o, time_t t)
{
    char buf[40];
    if (t <= 0) {
        fputs("null", o);
        return;
    }
    fmt_time(t, "%Y-%m-%dT%H:%M:%S%z", buf, sizeof buf);
    json_str(o, buf);
}

static void json_counts(FILE *o, const unsigned long n[REPORT_KINDS][2])
{
    fprintf(o, "\"count\":%lu,\"permanent\":%lu,\"temporary\":%lu,\"maillog\":%lu,\"audit\":%lu",
            n[0][0] + n[0][1] + n[1][0] + n[1][1], n[0][0] + n[1][0], n[0][1] + n[1][1],
            n[0][0] + n[0][1], n[1][0] + n[1][1]);
}

static void json_table(const struct out *x, const struct table *t)
{
    FILE *o = x->o;
    const struct counter_entry **idx = counter_sorted(t->c, 0);
    size_t n = t->top && t->c->n > x->top ? x->top : t->c->n;
    fprintf(o, ",\n\"%s\":[", t->id);
    for (size_t i = 0; idx && i < n; i++) {
        const struct counter_entry *e = idx[i];
        fprintf(o, "%s\n {\"key\":", i ? "," : "");
        json_str(o, e->key);
        fputc(',', o);
        json_counts(o, (const unsigned long (*)[2])e->n);
        if (e->label) {
            fprintf(o, ",\"name\":");
            json_str(o, e->label);
        }
        if (t->meaning != M_NONE) {
            fprintf(o, ",\"meaning\":");
            json_str(o, meaning_of(t->meaning, e->key));
        }
        fputc('}', o);
    }
    fputc(']', o);
    if (t->top && t->c->n > n)
        fprintf(o, ",\n\"%s_more\":%zu", t->id, t->c->n - n);
    free(idx);
}

static void json_timeline(const struct out *x, enum report_unit unit, const char *name)
{
    fprintf(x->o, ",\n\"%s\":[", name);
    if (unit == REPORT_HOUR && report_pick_unit(x->r, 100000) != REPORT_HOUR) {
        /* over a decade of hours: only the hours that have rejections */
        const struct counter_entry **idx = counter_sorted(&x->r->by_hour, 1);
        for (size_t i = 0; idx && i < x->r->by_hour.n; i++) {
            fprintf(x->o, "%s\n {\"key\":\"%s:00\",", i ? "," : "", idx[i]->key);
            json_counts(x->o, (const unsigned long (*)[2])idx[i]->n);
            fputc('}', x->o);
        }
        free(idx);
        fputc(']', x->o);
        return;
    }
    size_t n;
    struct report_bucket *v = report_timeline(x->r, unit, &n);
    for (size_t i = 0; v && i < n; i++) {
        fprintf(x->o, "%s\n {\"key\":\"%s\",", i ? "," : "", v[i].label);
        json_counts(x->o, (const unsigned long (*)[2])v[i].n);
        fputc('}', x->o);
    }
    fputc(']', x->o);
    free(v);
}

static void write_json(const struct out *x, const struct table *tables, size_t nt)
{
    FILE *o = x->o;
    const struct report *r = x->r;
    fprintf(o, "{\"generator\":\"reword report\",\"files\":[");
    for (size_t i = 0; i < r->ninputs; i++) {
        const struct report_input *in = &r->inputs[i];
        fprintf(o, "%s\n {\"name\":", i ? "," : "");
        json_ext(o, in->name);
        fprintf(o, ",\"format\":\"%s\",\"lines\":%lu,\"bytes\":%llu,\"rejections\":%lu,"
                   "\"malformed\":%lu,\"first\":", input_format(in), in->lines, in->bytes,
                in->rejections, in->malformed);
        json_time(o, in->first);
        fprintf(o, ",\"last\":");
        json_time(o, in->last);
        fprintf(o, ",\"error\":");
        if (in->failed)
            json_ext(o, in->error);
        else
            fputs("null", o);
        fputc('}', o);
    }
    fprintf(o, "],\n\"config\":");
    if (x->config)
        json_ext(o, x->config);
    else
        fputs("null", o);
    fprintf(o, ",\"since\":");
    json_time(o, x->since);
    fprintf(o, ",\"until\":");
    json_time(o, x->until);
    fprintf(o, ",\"log_first\":");
    json_time(o, r->log_first);
    fprintf(o, ",\"log_last\":");
    json_time(o, r->log_last);
    fprintf(o, ",\"first\":");
    json_time(o, r->first);
    fprintf(o, ",\"last\":");
    json_time(o, r->last);
    fprintf(o, ",\n\"lines\":%lu,\"bytes\":%llu,\"malformed\":%lu,\"out_of_range\":%lu,"
               "\"rejections\":%lu,\"permanent\":%lu,\"temporary\":%lu,"
               "\"maillog_rejections\":%lu,\"audit_rejections\":%lu,\"audit_mode_decisions\":%lu",
            r->lines, r->bytes, r->malformed, r->out_of_range, r->rejections[0] + r->rejections[1],
            r->rejections[0] + r->rejections[1] - r->temp[0] - r->temp[1], r->temp[0] + r->temp[1],
            r->rejections[0], r->rejections[1], r->audit_mode);
    fprintf(o, ",\n\"malformed_samples\":[");
    for (size_t i = 0; i < r->nsamples; i++) {
        fprintf(o, "%s{\"file\":", i ? "," : "");
        json_ext(o, r->samples[i].file);
        fprintf(o, ",\"line\":%lu,\"text\":", r->samples[i].line);
        json_str(o, r->samples[i].text);
        fputc('}', o);
    }
    fputc(']', o);
    for (size_t i = 0; i < nt; i++)
        json_table(x, &tables[i]);
    json_timeline(x, REPORT_DAY, "per_day");
    json_timeline(x, REPORT_HOUR, "per_hour");
    fprintf(o, "\n}\n");
}

/* ---- html ---- */

static void html_esc(FILE *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '&': fputs("&amp;", o); break;
        case '"': fputs("&quot;", o); break;
        case '\'': fputs("&#39;", o); break;
        default: fputc(*s, o);
        }
    }
}

/* A string from outside (a file name, an error): sanitized, then escaped. */
static void html_ext(FILE *o, const char *s)
{
    char buf[1024];
    report_sanitize(buf, sizeof buf, s, strlen(s));
    html_esc(o, buf);
}

static const char css[] =
    ":root{--fg:#1f2328;--mute:#59636e;--line:#d1d9e0;--head:#f0f3f6;--perm:#b3261e;"
    "--temp:#e8a33d;--audit:#3b6ea8}"
    "*{box-sizing:border-box}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:var(--fg);margin:0;padding:24px 32px;background:#fff}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}"
    ".sub{color:var(--mute);margin:0 0 16px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 20px}"
    ".card{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px}"
    ".card b{display:block;font-size:22px}.card span{color:var(--mute);font-size:13px}"
    ".card.perm b{color:var(--perm)}.card.temp b{color:#9a6212}.card.bad b{color:var(--perm)}"
    "section{margin:0 0 22px}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:8px 28px}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}"
    "thead th{background:var(--head);border-top:1px solid var(--line);white-space:nowrap}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.k{word-break:break-word}td.m{color:var(--mute)}"
    "td.bar{width:110px}.bar span{display:block;height:10px;background:var(--perm);"
    "border-radius:2px;min-width:1px}.bar span.a{background:var(--audit)}"
    ".legend{font-size:12px;color:var(--mute)}.legend i{display:inline-block;width:10px;"
    "height:10px;margin:0 4px 0 12px;vertical-align:-1px}"
    ".note{color:var(--mute);font-size:13px}"
    "details summary{cursor:pointer;font-weight:600;margin:0 0 6px}"
    "code{font-size:12px}.err{color:var(--perm)}"
    "svg text{font:11px system-ui,'DejaVu Sans',sans-serif;fill:#59636e}"
    "footer{color:var(--mute);font-size:12px;border-top:1px solid var(--line);padding-top:8px}"
    "@media print{body{padding:0}.grid{display:block}}";

static void html_table(const struct out *x, const struct table *t)
{
    FILE *o = x->o;
    if (t->c->n == 0 && t->empty == NULL)
        return;
    fprintf(o, "<section><h2>");
    html_esc(o, t->title);
    fprintf(o, "</h2>\n");
    if (t->c->n == 0) {
        fprintf(o, "<p class=note>");
        html_esc(o, t->empty);
        fprintf(o, "</p></section>\n");
        return;
    }
    const struct counter_entry **idx = counter_sorted(t->c, 0);
    if (idx == NULL)
        return;
    size_t n = t->top && t->c->n > x->top ? x->top : t->c->n;
    unsigned long total = kind_total(x), max = 0;
    for (size_t i = 0; i < n; i++)
        if (total_of(x, idx[i]) > max)
            max = total_of(x, idx[i]);
    int meaning = t->meaning != M_NONE;
    fprintf(o, "<table><thead><tr><th scope=col>");
    html_esc(o, t->key_name);
    fprintf(o, "</th>%s", meaning ? "<th scope=col>Meaning</th>" : "");
    if (x->both)
        fprintf(o, "<th class=n scope=col>Maillog</th><th class=n scope=col>Audit log</th>");
    else {
        fprintf(o, "<th class=n scope=col>Rejections</th>");
        if (t->split)
            fprintf(o, "<th class=n scope=col>5xx</th><th class=n scope=col>4xx</th>");
        fprintf(o, "<th class=n scope=col>Share</th><th scope=col><span class=legend>"
                   "</span></th>");
    }
    fprintf(o, "</tr></thead>\n<tbody>\n");
    char a[32], b[32];
    for (size_t i = 0; i < n; i++) {
        const struct counter_entry *e = idx[i];
        fprintf(o, "<tr><td class=k>");
        html_esc(o, e->key);
        if (e->label) {
            fprintf(o, " <span class=note>");
            html_esc(o, e->label);
            fprintf(o, "</span>");
        }
        fprintf(o, "</td>");
        if (meaning) {
            fprintf(o, "<td class=m>");
            html_esc(o, meaning_of(t->meaning, e->key));
            fprintf(o, "</td>");
        }
        if (x->both) {
            fprintf(o, "<td class=n>%s</td><td class=n>%s</td>",
                    commas(counter_entry_sum(e, 0, -1), a, sizeof a),
                    commas(counter_entry_sum(e, 1, -1), b, sizeof b));
        } else {
            unsigned long v = counter_entry_sum(e, x->kind, -1);
            fprintf(o, "<td class=n>%s</td>", commas(v, a, sizeof a));
            if (t->split)
                fprintf(o, "<td class=n>%s</td><td class=n>%s</td>",
                        commas(counter_entry_sum(e, x->kind, 0), a, sizeof a),
                        commas(counter_entry_sum(e, x->kind, 1), b, sizeof b));
            double share = total ? 100.0 * v / total : 0.0;
            fprintf(o, "<td class=n>%s%.1f%%</td><td class=bar><span%s style=\"width:%.1f%%\">"
                       "</span></td>", v && share < 0.05 ? "&lt;" : "", v && share < 0.05 ? 0.1 : share,
                    x->kind == REPORT_AUDIT ? " class=a" : "", max ? 100.0 * v / max : 0.0);
        }
        fprintf(o, "</tr>\n");
    }
    fprintf(o, "</tbody></table>\n");
    if (t->top && t->c->n > n)
        fprintf(o, "<p class=note>&hellip; and %zu more (<code>--top</code>).</p>\n",
                t->c->n - n);
    fprintf(o, "</section>\n");
    free(idx);
}

/* A round step for about 4 grid lines up to max. */
static unsigned long nice_step(unsigned long max)
{
    unsigned long raw = max / 4 ? max / 4 : 1, p = 1;
    while (p * 10 <= raw)
        p *= 10;
    if (raw <= p)
        return p;
    if (raw <= 2 * p)
        return 2 * p;
    if (raw <= 5 * p)
        return 5 * p;
    return 10 * p;
}

/* Stacked bar chart (5xx below, 4xx above) of one kind's timeline. */
static void html_chart(const struct out *x, int kind, enum report_unit unit, const char *title)
{
    FILE *o = x->o;
    size_t n;
    struct report_bucket *v = report_timeline(x->r, unit, &n);
    fprintf(o, "<section><h2>");
    html_esc(o, title);
    fprintf(o, "</h2>\n");
    if (v == NULL || n == 0) {
        fprintf(o, "<p class=note>No rejections in the period.</p></section>\n");
        free(v);
        return;
    }
    unsigned long max = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].n[kind][0] + v[i].n[kind][1] > max)
            max = v[i].n[kind][0] + v[i].n[kind][1];
    unsigned long step = nice_step(max), top = (max + step - 1) / step * step;
    if (top == 0)
        top = step;
    const double W = 1000, H = 250, L = 58, R = 12, T = 12, B = 28;
    double pw = W - L - R, ph = H - T - B, bw = pw / (double)n;
    char a[32];
    fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" "
               "style=\"max-width:%.0fpx\" role=\"img\" aria-label=\"", W, H, W);
    html_esc(o, title);
    fprintf(o, "\">\n");
    for (unsigned long g = 0; g <= top; g += step) {
        double y = T + ph - ph * (double)g / (double)top;
        fprintf(o, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\"/>"
                   "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                L, y, W - R, y, g ? "#e6e9ed" : "#8c959f", L - 6, y + 4, commas(g, a, sizeof a));
    }
    double gap = bw > 6 ? 1.5 : bw > 3 ? 0.5 : 0;
    double w = bw - gap > 48 ? 48 : bw - gap;       /* a few buckets: no giant bars */
    for (size_t i = 0; i < n; i++) {
        unsigned long p = v[i].n[kind][0], t = v[i].n[kind][1];
        if (p + t == 0)
            continue;
        double x0 = L + bw * ((double)i + 0.5) - w / 2;
        double hp = ph * (double)p / (double)top, ht = ph * (double)t / (double)top;
        fprintf(o, "<g><title>%s: %lu rejection%s (%lu permanent, %lu temporary)</title>",
                v[i].label, p + t, p + t == 1 ? "" : "s", p, t);
        if (p)
            fprintf(o, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#b3261e\"/>",
                    x0, T + ph - hp, w, hp);
        if (t)
            fprintf(o, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#e8a33d\"/>",
                    x0, T + ph - hp - ht, w, ht);
        fprintf(o, "</g>\n");
    }
    /* x labels: about 8, on round positions (midnight for hours) */
    size_t every = (n + 7) / 8;
    if (unit == REPORT_HOUR && n > 24) {
        every = every <= 24 ? 24 : (every + 23) / 24 * 24;
    }
    if (every == 0)
        every = 1;
    for (size_t i = 0; i < n; i++) {
        int hour = unit == REPORT_HOUR ? atoi(v[i].label + 11) : 0;
        if (unit == REPORT_HOUR && n > 24 ? hour != 0 || (i / 24) % (every / 24) != 0
                                          : i % every != 0)
            continue;
        double cx = L + bw * ((double)i + 0.5);
        char lab[24];
        if (unit == REPORT_HOUR)
            snprintf(lab, sizeof lab, "%.5s %.5s", v[i].label + 5, v[i].label + 11);
        else
            snprintf(lab, sizeof lab, "%s", v[i].label);
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#8c959f\"/>"
                   "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
                cx, T + ph, cx, T + ph + 5, cx, T + ph + 19, lab);
    }
    fprintf(o, "</svg>\n<p class=legend><i style=\"background:#b3261e\"></i>permanent (5xx)"
               "<i style=\"background:#e8a33d\"></i>temporary (4xx)&nbsp;&nbsp; one bar per %s; "
               "highest %s: %s</p>\n</section>\n",
            unit == REPORT_HOUR ? "hour" : unit == REPORT_DAY ? "day" : "month",
            unit == REPORT_HOUR ? "hour" : unit == REPORT_DAY ? "day" : "month",
            commas(max, a, sizeof a));
    free(v);
}

static void html_timeline_table(const struct out *x, enum report_unit unit, const char *title,
                                int open)
{
    FILE *o = x->o;
    size_t n;
    struct report_bucket *v = report_timeline(x->r, unit, &n);
    if (v == NULL)
        return;
    fprintf(o, "<section><details%s><summary>%s (%zu)</summary>\n<table><thead><tr>"
               "<th scope=col>%s</th>", open ? " open" : "", title, n,
            unit == REPORT_HOUR ? "Hour" : unit == REPORT_DAY ? "Day" : "Month");
    if (x->both)
        fprintf(o, "<th class=n scope=col>Maillog</th><th class=n scope=col>Audit log</th>");
    else
        fprintf(o, "<th class=n scope=col>Rejections</th><th class=n scope=col>5xx</th>"
                   "<th class=n scope=col>4xx</th>");
    fprintf(o, "</tr></thead>\n<tbody>\n");
    char a[32], b[32], c[32];
    for (size_t i = 0; i < n; i++) {
        fprintf(o, "<tr><td>%s</td>", v[i].label);
        if (x->both)
            fprintf(o, "<td class=n>%s</td><td class=n>%s</td>",
                    commas(v[i].n[0][0] + v[i].n[0][1], a, sizeof a),
                    commas(v[i].n[1][0] + v[i].n[1][1], b, sizeof b));
        else {
            const unsigned long *k = v[i].n[x->kind];
            fprintf(o, "<td class=n>%s</td><td class=n>%s</td><td class=n>%s</td>",
                    commas(k[0] + k[1], a, sizeof a), commas(k[0], b, sizeof b),
                    commas(k[1], c, sizeof c));
        }
        fprintf(o, "</tr>\n");
    }
    fprintf(o, "</tbody></table></details></section>\n");
    free(v);
}

static void html_card(FILE *o, const char *cls, const char *value, const char *what)
{
    fprintf(o, "<div class=\"card %s\"><b>", cls);
    html_esc(o, value);
    fprintf(o, "</b><span>");
    html_esc(o, what);
    fprintf(o, "</span></div>\n");
}

static void period_text(const struct out *x, char *buf, size_t len)
{
    const struct report *r = x->r;
    char a[40], b[40];
    time_t from = x->since ? x->since : r->log_first ? r->log_first : r->first;
    time_t to = x->until ? x->until : r->log_last ? r->log_last : r->last;
    fmt_time(from, "%Y-%m-%d %H:%M", a, sizeof a);
    fmt_time(to, "%Y-%m-%d %H:%M", b, sizeof b);
    snprintf(buf, len, "%s \xe2\x80\x93 %s", a, b);
}

static void write_html(const struct out *x, const struct table *tables, size_t nt)
{
    FILE *o = x->o;
    const struct report *r = x->r;
    char period[100], a[32], b[64], zone[48];
    period_text(x, period, sizeof period);
    zone_text(zone, sizeof zone);
    fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<meta name=\"generator\" content=\"reword report\">\n<title>Rejection report ");
    html_esc(o, period);
    fprintf(o, " (");
    for (int i = 0; i < x->nfiles; i++) {
        html_ext(o, base_name(x->files[i]));
        fputs(i + 1 < x->nfiles ? ", " : "", o);
    }
    fprintf(o, ")</title>\n<style>%s</style></head>\n<body>\n<header><h1>Rejection report</h1>\n"
               "<p class=sub>", css);
    html_esc(o, period);
    fprintf(o, " (local time, ");
    html_esc(o, zone);
    fprintf(o, ")");
    if (x->since || x->until)
        fprintf(o, " &middot; limited with --since/--until");
    fprintf(o, " &middot; ");
    for (int i = 0; i < x->nfiles; i++) {
        fprintf(o, "<code>");
        html_ext(o, x->files[i]);
        fprintf(o, "</code>%s", i + 1 < x->nfiles ? ", " : "");
    }
    if (x->config) {
        fprintf(o, " &middot; rules: <code>");
        html_ext(o, x->config);
        fprintf(o, "</code>");
    }
    fprintf(o, "</p></header>\n<section class=cards>\n");
    unsigned long tot = r->rejections[0] + r->rejections[1];
    unsigned long temp = r->temp[0] + r->temp[1];
    if (x->both) {
        html_card(o, "perm", commas(r->rejections[0], a, sizeof a), "rejections in the maillog");
        html_card(o, "", commas(r->rejections[1], a, sizeof a), "rejections in the audit log");
    } else {
        html_card(o, "", commas(tot, a, sizeof a), "rejections");
        html_card(o, "perm", commas(tot - temp, a, sizeof a), "permanent (5xx)");
        html_card(o, "temp", commas(temp, a, sizeof a), "temporary (4xx)");
    }
    html_card(o, "", commas(r->by_client.n, a, sizeof a), "distinct clients");
    html_card(o, "", commas(r->lines, a, sizeof a), "lines read");
    html_card(o, r->malformed ? "bad" : "", commas(r->malformed, a, sizeof a), "malformed lines");
    if (r->audit_mode) {
        snprintf(b, sizeof b, "%s", commas(r->audit_mode, a, sizeof a));
        html_card(o, "temp", b, "audit-mode decisions (not enforced)");
    }
    fprintf(o, "</section>\n");

    enum report_unit unit = report_pick_unit(r, 24 * 14);
    const char *per = unit == REPORT_HOUR ? "per hour" : unit == REPORT_DAY ? "per day" : "per month";
    char title[80];
    for (int k = 0; k < REPORT_KINDS; k++) {
        if (!(x->both || k == x->kind))
            continue;
        snprintf(title, sizeof title, "%s%s", x->both ? (k == 0 ? "Maillog: rejections "
                                                                 : "Audit log: rejections ")
                                                      : "Rejections ", per);
        html_chart(x, k, unit, title);
    }
    /* narrow tables side by side, wide ones across */
    int in_grid = 0;
    for (size_t i = 0; i < nt; i++) {
        if (tables[i].c->n == 0 && tables[i].empty == NULL)
            continue;
        int wide = tables[i].wide || tables[i].c->n == 0;   /* a note goes across */
        if (!wide && !in_grid)
            fprintf(o, "<div class=grid>\n");
        else if (wide && in_grid)
            fprintf(o, "</div>\n");
        in_grid = !wide;
        html_table(x, &tables[i]);
    }
    if (in_grid)
        fprintf(o, "</div>\n");
    size_t nd;
    struct report_bucket *days = report_timeline(r, REPORT_DAY, &nd);
    free(days);
    if (nd > 400)
        html_timeline_table(x, REPORT_MONTH, "Per month", 0);
    else if (nd > 0) {
        html_timeline_table(x, REPORT_DAY, "Per day", nd <= 31);
        if (report_pick_unit(r, 24 * 31) == REPORT_HOUR)
            html_timeline_table(x, REPORT_HOUR, "Per hour", 0);
    }

    fprintf(o, "<section><h2>Input</h2>\n<table><thead><tr><th scope=col>File</th>"
               "<th scope=col>Format</th><th class=n scope=col>Lines</th>"
               "<th class=n scope=col>Rejections</th><th class=n scope=col>Malformed</th>"
               "<th scope=col>Covers</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->ninputs; i++) {
        const struct report_input *in = &r->inputs[i];
        char f0[40], f1[40];
        fmt_time(in->first, "%Y-%m-%d %H:%M", f0, sizeof f0);
        fmt_time(in->last, "%Y-%m-%d %H:%M", f1, sizeof f1);
        fprintf(o, "<tr><td class=k><code>");
        html_ext(o, in->name);
        fprintf(o, "</code>");
        if (in->failed) {
            fprintf(o, " <span class=err>");
            html_ext(o, in->error);
            fprintf(o, "</span>");
        }
        fprintf(o, "</td><td>%s</td><td class=n>%s</td>", input_format(in),
                commas(in->lines, a, sizeof a));
        fprintf(o, "<td class=n>%s</td>", commas(in->rejections, a, sizeof a));
        fprintf(o, "<td class=n>%s</td><td>%s &ndash; %s</td></tr>\n",
                commas(in->malformed, a, sizeof a), f0, f1);
    }
    fprintf(o, "</tbody></table>\n");
    if (r->out_of_range)
        fprintf(o, "<p class=note>%s rejections outside the period were left out.</p>\n",
                commas(r->out_of_range, a, sizeof a));
    if (r->nsamples) {
        fprintf(o, "<p class=note>Lines that could not be read (first %zu of %s):</p>\n<table>"
                   "<thead><tr><th scope=col>Where</th><th scope=col>Line</th></tr></thead>"
                   "<tbody>\n", r->nsamples, commas(r->malformed, a, sizeof a));
        for (size_t i = 0; i < r->nsamples; i++) {
            fprintf(o, "<tr><td><code>");
            html_ext(o, base_name(r->samples[i].file));
            fprintf(o, ":%lu</code></td><td class=k><code>", r->samples[i].line);
            html_esc(o, r->samples[i].text);
            fprintf(o, "</code></td></tr>\n");
        }
        fprintf(o, "</tbody></table>\n");
    }
    if (x->both)
        fprintf(o, "<p class=note>The maillog and milter-reword's audit log record the same "
                   "rejections from two sides (the MTA's log, and the milter's decisions and "
                   "observations with rule names), so they are shown side by side, not added "
                   "up.</p>\n");
    fprintf(o, "</section>\n<footer>Generated %s by <b>reword report</b> (milter-reword). Codes: "
               "RFC 5321 basic codes, RFC 3463 enhanced status codes and their IANA registry "
               "meanings. Hover a bar for its numbers.</footer>\n</body></html>\n",
            (fmt_time(time(NULL), "%Y-%m-%d %H:%M", b, sizeof b), b));
}

/* ---- text ---- */

static void write_text(const struct out *x, const struct table *tables, size_t nt)
{
    FILE *o = x->o;
    const struct report *r = x->r;
    char period[100], zone[48], a[32], b[32], c[32];
    period_text(x, period, sizeof period);
    zone_text(zone, sizeof zone);
    unsigned long tot = r->rejections[0] + r->rejections[1], temp = r->temp[0] + r->temp[1];
    fprintf(o, "Rejection report\n");
    fprintf(o, "  Period      %s (local time, %s)%s\n", period, zone,
            x->since || x->until ? ", limited with --since/--until" : "");
    fprintf(o, "  Input       %d file%s, %s lines, %s malformed\n", x->nfiles,
            x->nfiles == 1 ? "" : "s", commas(r->lines, a, sizeof a),
            commas(r->malformed, b, sizeof b));
    if (x->both)
        fprintf(o, "  Rejections  %s in the maillog, %s in the audit log (the same events seen "
                   "from two sides: not added up)\n", commas(r->rejections[0], a, sizeof a),
                commas(r->rejections[1], b, sizeof b));
    else
        fprintf(o, "  Rejections  %s: %s permanent (5xx), %s temporary (4xx)\n",
                commas(tot, a, sizeof a), commas(tot - temp, b, sizeof b),
                commas(temp, c, sizeof c));
    if (r->audit_mode)
        fprintf(o, "              %s of the audit log's are audit-mode decisions (not enforced)\n",
                commas(r->audit_mode, a, sizeof a));
    if (r->out_of_range)
        fprintf(o, "              %s outside the period left out\n",
                commas(r->out_of_range, a, sizeof a));
    for (size_t i = 0; i < nt; i++)
        text_table(x, &tables[i]);
    if (tot) {
        if (report_pick_unit(r, 62) == REPORT_MONTH)
            text_timeline(x, REPORT_MONTH, "Per month");
        else
            text_timeline(x, REPORT_DAY, "Per day");
        if (report_pick_unit(r, 72) == REPORT_HOUR)
            text_timeline(x, REPORT_HOUR, "Per hour");
        else
            fprintf(o, "\n(Per hour: in --format html or json.)\n");
    }
    fprintf(o, "\nInput\n");
    for (size_t i = 0; i < r->ninputs; i++) {
        const struct report_input *in = &r->inputs[i];
        char f0[40], f1[40], name[300];
        fmt_time(in->first, "%Y-%m-%d %H:%M", f0, sizeof f0);
        fmt_time(in->last, "%Y-%m-%d %H:%M", f1, sizeof f1);
        report_sanitize(name, sizeof name, in->name, strlen(in->name));
        fprintf(o, "  %s: %s, %s lines, %s rejections, %s malformed, %s .. %s%s%s\n", name,
                input_format(in), commas(in->lines, a, sizeof a),
                commas(in->rejections, b, sizeof b), commas(in->malformed, c, sizeof c), f0, f1,
                in->failed ? "; ERROR: " : "", in->failed ? in->error : "");
    }
    for (size_t i = 0; i < r->nsamples; i++)
        fprintf(o, "  malformed %s:%lu: %s\n", r->samples[i].file, r->samples[i].line,
                r->samples[i].text);
    if (r->malformed > r->nsamples)
        fprintf(o, "  ... %lu more malformed lines\n", r->malformed - r->nsamples);
}

/* ---- command ---- */

static int usage(void)
{
    fprintf(stderr, "usage: reword report [--since T] [--until T] [--top N] "
                    "[--format text|json|html] [-o FILE] [-c CONFIG] FILE...\n"
                    "  FILE: Postfix maillog or milter-reword audit log, plain or gzip; - for stdin\n"
                    "  T: YYYY-MM-DD, \"YYYY-MM-DD HH:MM\", or back from now: 90m, 24h, 7d, 2w\n");
    return 2;
}

/* "--opt VALUE" or "--opt=VALUE"; advances *i. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int cmd_report(int argc, char **argv)
{
    const char *format = "text", *outpath = NULL, *config = NULL, *v;
    long top = 10;
    time_t now = time(NULL), since = 0, until = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int nfiles = 0, dashdash = 0;
    if (files == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || a[0] != '-' || strcmp(a, "-") == 0) {
            files[nfiles++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            dashdash = 1;
        } else if ((v = opt_value(argc, argv, &i, "--since")) != NULL
                   || (v = opt_value(argc, argv, &i, "--until")) != NULL) {
            if (report_parse_time(v, now, a[2] == 's' ? &since : &until) < 0) {
                fprintf(stderr, "reword report: bad time '%s' (YYYY-MM-DD, \"YYYY-MM-DD HH:MM\", "
                                "90m, 24h, 7d, 2w)\n", v);
                free(files);
                return 2;
            }
        } else if ((v = opt_value(argc, argv, &i, "--top")) != NULL) {
            char *end;
            top = strtol(v, &end, 10);
            if (*end || top < 1) {
                free(files);
                return usage();
            }
        } else if ((v = opt_value(argc, argv, &i, "--format")) != NULL) {
            format = v;
        } else if ((v = opt_value(argc, argv, &i, "-o")) != NULL
                   || (v = opt_value(argc, argv, &i, "--output")) != NULL) {
            outpath = v;
        } else if ((v = opt_value(argc, argv, &i, "-c")) != NULL
                   || (v = opt_value(argc, argv, &i, "--config")) != NULL) {
            config = v;
        } else {
            free(files);
            return usage();
        }
    }
    if (nfiles == 0 || (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html"))) {
        free(files);
        return usage();
    }
    if (since && until && until <= since) {
        fprintf(stderr, "reword report: --until is not after --since\n");
        free(files);
        return 2;
    }
    struct config *cfg = NULL;
    if (config) {
        struct diag_list dl;
        diag_init(&dl);
        cfg = config_load(config, &dl);
        if (cfg == NULL) {
            diag_sort(&dl);
            print_diags(&dl, "");
            diag_free(&dl);
            free(files);
            return 1;
        }
        diag_free(&dl);
    }
    struct report r;
    report_init(&r);
    r.since = since;
    r.until = until;
    r.cfg = cfg;
    int status = 0;
    for (int i = 0; i < nfiles; i++)
        if (report_file(&r, files[i]) < 0) {
            const char *why = r.ninputs && r.inputs[r.ninputs - 1].failed
                            ? r.inputs[r.ninputs - 1].error : strerror(errno);
            fprintf(stderr, "reword report: %s: %s\n", files[i], why);
            status = 1;
        }
    FILE *o = outpath && strcmp(outpath, "-") ? fopen(outpath, "w") : stdout;
    if (o == NULL) {
        fprintf(stderr, "reword report: %s: %s\n", outpath, strerror(errno));
        report_free(&r);
        if (cfg)
            config_unref(cfg);
        free(files);
        return 1;
    }
    struct out x = { .o = o, .r = &r, .top = (size_t)top, .files = files, .nfiles = nfiles,
                     .config = config, .since = since, .until = until };
    x.both = r.rejections[REPORT_MAILLOG] && r.rejections[REPORT_AUDIT];
    x.kind = !x.both && r.rejections[REPORT_AUDIT] ? REPORT_AUDIT : REPORT_MAILLOG;
    const struct table tables[] = {
        { "by_class", "By class", "Class", &r.by_class, M_CLASS, 0, 0, 0, "No rejections found." },
        { "by_stage", "By SMTP stage", "Stage", &r.by_stage, M_NONE, 0, 1, 0, NULL },
        { "by_enhanced", "By enhanced status code", "Code", &r.by_enhanced, M_ENHANCED, 1, 1, 1,
          NULL },
        { "by_reason", "Top reasons (reply text; addresses, hosts and URL paths as *)", "Reason",
          &r.by_reason, M_NONE, 1, 1, 1, NULL },
        { "by_source", "By source", "Source", &r.by_source, M_SOURCE, 0, 1, 1, NULL },
        { "by_rule", "By rule", "Rule", &r.by_rule, M_NONE, 1, 1, 0,
          "No rule names: they come from milter-reword's audit log, or from -c CONFIG "
          "(maillog lines matched against your rules)." },
        { "by_action", "Audit log: by action", "Action", &r.by_action, M_NONE, 0, 1, 0, NULL },
        { "top_clients", "Top clients", "Client", &r.by_client, M_NONE, 1, 1, 0, NULL },
        { "top_domains", "Top recipient domains", "Domain", &r.by_domain, M_NONE, 1, 1, 0, NULL },
    };
    size_t nt = sizeof tables / sizeof tables[0];
    if (strcmp(format, "json") == 0)
        write_json(&x, tables, nt);
    else if (strcmp(format, "html") == 0)
        write_html(&x, tables, nt);
    else
        write_text(&x, tables, nt);
    if (ferror(o) || (o != stdout && fclose(o) != 0) || (o == stdout && fflush(o) != 0)) {
        fprintf(stderr, "reword report: %s: %s\n", outpath ? outpath : "(stdout)", strerror(errno));
        status = 1;
    }
    report_free(&r);
    if (cfg)
        config_unref(cfg);
    free(files);
    return status;
}
