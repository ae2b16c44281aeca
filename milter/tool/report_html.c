/*
 * report_html.c - `reword report --format html`: one self-contained page
 * (inline CSS, inline SVG timeline, no JavaScript, no external assets),
 * every string escaped: summary cards, a stacked bar chart per kind, the
 * tables (narrow ones side by side), the timeline tables and the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_out.h"

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
    const struct counter_entry **idx = report_counter_sorted(t->c, 0);
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
            html_esc(o, report_out_meaning(t->meaning, e->key));
            fprintf(o, "</td>");
        }
        if (x->both) {
            fprintf(o, "<td class=n>%s</td><td class=n>%s</td>",
                    report_out_commas(report_counter_entry_sum(e, 0, -1), a, sizeof a),
                    report_out_commas(report_counter_entry_sum(e, 1, -1), b, sizeof b));
        } else {
            unsigned long v = report_counter_entry_sum(e, x->kind, -1);
            fprintf(o, "<td class=n>%s</td>", report_out_commas(v, a, sizeof a));
            if (t->split)
                fprintf(o, "<td class=n>%s</td><td class=n>%s</td>",
                        report_out_commas(report_counter_entry_sum(e, x->kind, 0), a, sizeof a),
                        report_out_commas(report_counter_entry_sum(e, x->kind, 1), b, sizeof b));
            double share = total ? 100.0 * v / total : 0.0;
            fprintf(o,
                    "<td class=n>%s%.1f%%</td><td class=bar><span%s style=\"width:%.1f%%\">"
                    "</span></td>",
                    v && share < 0.05 ? "&lt;" : "", v && share < 0.05 ? 0.1 : share,
                    x->kind == REPORT_AUDIT ? " class=a" : "", max ? 100.0 * v / max : 0.0);
        }
        fprintf(o, "</tr>\n");
    }
    fprintf(o, "</tbody></table>\n");
    if (t->top && t->c->n > n)
        fprintf(o, "<p class=note>&hellip; and %zu more (<code>--top</code>).</p>\n", t->c->n - n);
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
    fprintf(o,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" "
            "style=\"max-width:%.0fpx\" role=\"img\" aria-label=\"",
            W, H, W);
    html_esc(o, title);
    fprintf(o, "\">\n");
    for (unsigned long g = 0; g <= top; g += step) {
        double y = T + ph - ph * (double)g / (double)top;
        fprintf(o,
                "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\"/>"
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                L, y, W - R, y, g ? "#e6e9ed" : "#8c959f", L - 6, y + 4,
                report_out_commas(g, a, sizeof a));
    }
    double gap = bw > 6 ? 1.5 : bw > 3 ? 0.5 : 0;
    double w = bw - gap > 48 ? 48 : bw - gap; /* a few buckets: no giant bars */
    for (size_t i = 0; i < n; i++) {
        unsigned long p = v[i].n[kind][0], t = v[i].n[kind][1];
        if (p + t == 0)
            continue;
        double x0 = L + bw * ((double)i + 0.5) - w / 2;
        double hp = ph * (double)p / (double)top, ht = ph * (double)t / (double)top;
        fprintf(o, "<g><title>%s: %lu rejection%s (%lu permanent, %lu temporary)</title>",
                v[i].label, p + t, p + t == 1 ? "" : "s", p, t);
        if (p)
            fprintf(o,
                    "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#b3261e\"/>",
                    x0, T + ph - hp, w, hp);
        if (t)
            fprintf(o,
                    "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#e8a33d\"/>",
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
        fprintf(o,
                "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#8c959f\"/>"
                "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
                cx, T + ph, cx, T + ph + 5, cx, T + ph + 19, lab);
    }
    fprintf(o,
            "</svg>\n<p class=legend><i style=\"background:#b3261e\"></i>permanent (5xx)"
            "<i style=\"background:#e8a33d\"></i>temporary (4xx)&nbsp;&nbsp; one bar per %s; "
            "highest %s: %s</p>\n</section>\n",
            unit == REPORT_HOUR  ? "hour"
            : unit == REPORT_DAY ? "day"
                                 : "month",
            unit == REPORT_HOUR  ? "hour"
            : unit == REPORT_DAY ? "day"
                                 : "month",
            report_out_commas(max, a, sizeof a));
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
    fprintf(o,
            "<section><details%s><summary>%s (%zu)</summary>\n<table><thead><tr>"
            "<th scope=col>%s</th>",
            open ? " open" : "", title, n,
            unit == REPORT_HOUR  ? "Hour"
            : unit == REPORT_DAY ? "Day"
                                 : "Month");
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
                    report_out_commas(v[i].n[0][0] + v[i].n[0][1], a, sizeof a),
                    report_out_commas(v[i].n[1][0] + v[i].n[1][1], b, sizeof b));
        else {
            const unsigned long *k = v[i].n[x->kind];
            fprintf(o, "<td class=n>%s</td><td class=n>%s</td><td class=n>%s</td>",
                    report_out_commas(k[0] + k[1], a, sizeof a),
                    report_out_commas(k[0], b, sizeof b), report_out_commas(k[1], c, sizeof c));
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

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

void report_html_write(const struct out *x, const struct table *tables, size_t nt)
{
    FILE *o = x->o;
    const struct report *r = x->r;
    char period[100], a[32], b[64], zone[48];
    report_out_period(x, period, sizeof period);
    report_out_zone(zone, sizeof zone);
    fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<meta name=\"generator\" content=\"reword report\">\n<title>Rejection report ");
    html_esc(o, period);
    fprintf(o, " (");
    for (int i = 0; i < x->nfiles; i++) {
        html_ext(o, base_name(x->files[i]));
        fputs(i + 1 < x->nfiles ? ", " : "", o);
    }
    fprintf(o,
            ")</title>\n<style>%s</style></head>\n<body>\n<header><h1>Rejection report</h1>\n"
            "<p class=sub>",
            css);
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
        html_card(o, "perm", report_out_commas(r->rejections[0], a, sizeof a),
                  "rejections in the maillog");
        html_card(o, "", report_out_commas(r->rejections[1], a, sizeof a),
                  "rejections in the audit log");
    } else {
        html_card(o, "", report_out_commas(tot, a, sizeof a), "rejections");
        html_card(o, "perm", report_out_commas(tot - temp, a, sizeof a), "permanent (5xx)");
        html_card(o, "temp", report_out_commas(temp, a, sizeof a), "temporary (4xx)");
    }
    html_card(o, "", report_out_commas(r->by_client.n, a, sizeof a), "distinct clients");
    html_card(o, "", report_out_commas(r->lines, a, sizeof a), "lines read");
    html_card(o, r->malformed ? "bad" : "", report_out_commas(r->malformed, a, sizeof a),
              "malformed lines");
    if (r->audit_mode) {
        snprintf(b, sizeof b, "%s", report_out_commas(r->audit_mode, a, sizeof a));
        html_card(o, "temp", b, "audit-mode decisions (not enforced)");
    }
    fprintf(o, "</section>\n");

    enum report_unit unit = report_pick_unit(r, 24 * 14);
    const char *per = unit == REPORT_HOUR  ? "per hour"
                      : unit == REPORT_DAY ? "per day"
                                           : "per month";
    char title[80];
    for (int k = 0; k < REPORT_KINDS; k++) {
        if (!(x->both || k == x->kind))
            continue;
        snprintf(title, sizeof title, "%s%s",
                 x->both ? (k == 0 ? "Maillog: rejections " : "Audit log: rejections ")
                         : "Rejections ",
                 per);
        html_chart(x, k, unit, title);
    }
    /* narrow tables side by side, wide ones across */
    int in_grid = 0;
    for (size_t i = 0; i < nt; i++) {
        if (tables[i].c->n == 0 && tables[i].empty == NULL)
            continue;
        int wide = tables[i].wide || tables[i].c->n == 0; /* a note goes across */
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
        report_out_time(in->first, "%Y-%m-%d %H:%M", f0, sizeof f0);
        report_out_time(in->last, "%Y-%m-%d %H:%M", f1, sizeof f1);
        fprintf(o, "<tr><td class=k><code>");
        html_ext(o, in->name);
        fprintf(o, "</code>");
        if (in->failed) {
            fprintf(o, " <span class=err>");
            html_ext(o, in->error);
            fprintf(o, "</span>");
        }
        fprintf(o, "</td><td>%s</td><td class=n>%s</td>", report_out_input_format(in),
                report_out_commas(in->lines, a, sizeof a));
        fprintf(o, "<td class=n>%s</td>", report_out_commas(in->rejections, a, sizeof a));
        fprintf(o, "<td class=n>%s</td><td>%s &ndash; %s</td></tr>\n",
                report_out_commas(in->malformed, a, sizeof a), f0, f1);
    }
    fprintf(o, "</tbody></table>\n");
    if (r->out_of_range)
        fprintf(o, "<p class=note>%s rejections outside the period were left out.</p>\n",
                report_out_commas(r->out_of_range, a, sizeof a));
    if (r->nsamples) {
        fprintf(o,
                "<p class=note>Lines that could not be read (first %zu of %s):</p>\n<table>"
                "<thead><tr><th scope=col>Where</th><th scope=col>Line</th></tr></thead>"
                "<tbody>\n",
                r->nsamples, report_out_commas(r->malformed, a, sizeof a));
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
    fprintf(o,
            "</section>\n<footer>Generated %s by <b>reword report</b> (milter-reword). Codes: "
            "RFC 5321 basic codes, RFC 3463 enhanced status codes and their IANA registry "
            "meanings. Hover a bar for its numbers.</footer>\n</body></html>\n",
            (report_out_time(time(NULL), "%Y-%m-%d %H:%M", b, sizeof b), b));
}
