/*
 * report_text.c - `reword report --format text` (the default): the
 * totals, then aligned tables for a terminal with bars, the timeline per
 * day (or month) and per hour, and the input files with the malformed
 * lines found in them.  When the maillog and the audit log are both given
 * every table shows them in two columns instead of adding them up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_out.h"

#define MAX_TEXT_KEY 60

/* Number of characters (not bytes) of a UTF-8 string. */
static size_t u8len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

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
    const struct counter_entry **idx = report_counter_sorted(t->c, 0);
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
        const char *mn = report_out_meaning(t->meaning, e->key);
        fputs("  ", o);
        if (!key_last) {
            text_cell(o, k, w);
            fputs("  ", o);
        }
        if (x->both)
            fprintf(o, "%10s  %10s",
                    report_out_commas(report_counter_entry_sum(e, 0, -1), a, sizeof a),
                    report_out_commas(report_counter_entry_sum(e, 1, -1), b, sizeof b));
        else {
            unsigned long v = report_counter_entry_sum(e, x->kind, -1);
            fprintf(o, "%10s", report_out_commas(v, a, sizeof a));
            if (t->split)
                fprintf(o, "  %9s  %9s",
                        report_out_commas(report_counter_entry_sum(e, x->kind, 0), a, sizeof a),
                        report_out_commas(report_counter_entry_sum(e, x->kind, 1), b, sizeof b));
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
    fprintf(x->o, "\n%s\n  %-16s", title,
            unit == REPORT_HOUR  ? "Hour"
            : unit == REPORT_DAY ? "Day"
                                 : "Month");
    if (x->both)
        fprintf(x->o, "  %10s  %10s\n", "Maillog", "Audit log");
    else
        fprintf(x->o, "  %10s  %9s  %9s\n", "Rejections", "5xx", "4xx");
    for (size_t i = 0; i < n; i++) {
        fprintf(x->o, "  %-16s", v[i].label);
        if (x->both) {
            fprintf(x->o, "  %10s  %10s  ",
                    report_out_commas(v[i].n[0][0] + v[i].n[0][1], a, sizeof a),
                    report_out_commas(v[i].n[1][0] + v[i].n[1][1], b, sizeof b));
            text_bar(x->o, v[i].n[0][0] + v[i].n[0][1] + v[i].n[1][0] + v[i].n[1][1], max, 30, 0);
        } else {
            const unsigned long *k = v[i].n[x->kind];
            fprintf(x->o, "  %10s  %9s  %9s  ", report_out_commas(k[0] + k[1], a, sizeof a),
                    report_out_commas(k[0], b, sizeof b), report_out_commas(k[1], c, sizeof c));
            text_bar(x->o, k[0] + k[1], max, 30, 0);
        }
        fputc('\n', x->o);
    }
    free(v);
}

void report_text_write(const struct out *x, const struct table *tables, size_t nt)
{
    FILE *o = x->o;
    const struct report *r = x->r;
    char period[100], zone[48], a[32], b[32], c[32];
    report_out_period(x, period, sizeof period);
    report_out_zone(zone, sizeof zone);
    unsigned long tot = r->rejections[0] + r->rejections[1], temp = r->temp[0] + r->temp[1];
    fprintf(o, "Rejection report\n");
    fprintf(o, "  Period      %s (local time, %s)%s\n", period, zone,
            x->since || x->until ? ", limited with --since/--until" : "");
    fprintf(o, "  Input       %d file%s, %s lines, %s malformed\n", x->nfiles,
            x->nfiles == 1 ? "" : "s", report_out_commas(r->lines, a, sizeof a),
            report_out_commas(r->malformed, b, sizeof b));
    if (x->both)
        fprintf(o,
                "  Rejections  %s in the maillog, %s in the audit log (the same events seen "
                "from two sides: not added up)\n",
                report_out_commas(r->rejections[0], a, sizeof a),
                report_out_commas(r->rejections[1], b, sizeof b));
    else
        fprintf(o, "  Rejections  %s: %s permanent (5xx), %s temporary (4xx)\n",
                report_out_commas(tot, a, sizeof a), report_out_commas(tot - temp, b, sizeof b),
                report_out_commas(temp, c, sizeof c));
    if (r->audit_mode)
        fprintf(o, "              %s of the audit log's are audit-mode decisions (not enforced)\n",
                report_out_commas(r->audit_mode, a, sizeof a));
    if (r->out_of_range)
        fprintf(o, "              %s outside the period left out\n",
                report_out_commas(r->out_of_range, a, sizeof a));
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
        report_out_time(in->first, "%Y-%m-%d %H:%M", f0, sizeof f0);
        report_out_time(in->last, "%Y-%m-%d %H:%M", f1, sizeof f1);
        report_sanitize(name, sizeof name, in->name, strlen(in->name));
        fprintf(o, "  %s: %s, %s lines, %s rejections, %s malformed, %s .. %s%s%s\n", name,
                report_out_input_format(in), report_out_commas(in->lines, a, sizeof a),
                report_out_commas(in->rejections, b, sizeof b),
                report_out_commas(in->malformed, c, sizeof c), f0, f1,
                in->failed ? "; ERROR: " : "", in->failed ? in->error : "");
    }
    for (size_t i = 0; i < r->nsamples; i++)
        fprintf(o, "  malformed %s:%lu: %s\n", r->samples[i].file, r->samples[i].line,
                r->samples[i].text);
    if (r->malformed > r->nsamples)
        fprintf(o, "  ... %zu more malformed lines\n", (size_t)(r->malformed - r->nsamples));
}
