/*
 * report_json.c - `reword report --format json`: one object with the input
 * files, the totals, the malformed samples, an array per table and the
 * timeline per day and per hour; every count split into permanent /
 * temporary and maillog / audit.  Strings from outside (file names,
 * errors) are sanitized before they are escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_out.h"

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
    report_out_time(t, "%Y-%m-%dT%H:%M:%S%z", buf, sizeof buf);
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
    const struct counter_entry **idx = report_counter_sorted(t->c, 0);
    size_t n = t->top && t->c->n > x->top ? x->top : t->c->n;
    fprintf(o, ",\n\"%s\":[", t->id);
    for (size_t i = 0; idx && i < n; i++) {
        const struct counter_entry *e = idx[i];
        fprintf(o, "%s\n {\"key\":", i ? "," : "");
        json_str(o, e->key);
        fputc(',', o);
        json_counts(o, (const unsigned long(*)[2])e->n);
        if (e->label) {
            fprintf(o, ",\"name\":");
            json_str(o, e->label);
        }
        if (t->meaning != M_NONE) {
            fprintf(o, ",\"meaning\":");
            json_str(o, report_out_meaning(t->meaning, e->key));
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
        const struct counter_entry **idx = report_counter_sorted(&x->r->by_hour, 1);
        for (size_t i = 0; idx && i < x->r->by_hour.n; i++) {
            fprintf(x->o, "%s\n {\"key\":\"%s:00\",", i ? "," : "", idx[i]->key);
            json_counts(x->o, (const unsigned long(*)[2])idx[i]->n);
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
        json_counts(x->o, (const unsigned long(*)[2])v[i].n);
        fputc('}', x->o);
    }
    fputc(']', x->o);
    free(v);
}

void report_json_write(const struct out *x, const struct table *tables, size_t nt)
{
    FILE *o = x->o;
    const struct report *r = x->r;
    fprintf(o, "{\"generator\":\"reword report\",\"files\":[");
    for (size_t i = 0; i < r->ninputs; i++) {
        const struct report_input *in = &r->inputs[i];
        fprintf(o, "%s\n {\"name\":", i ? "," : "");
        json_ext(o, in->name);
        fprintf(o,
                ",\"format\":\"%s\",\"lines\":%lu,\"bytes\":%llu,\"rejections\":%lu,"
                "\"malformed\":%lu,\"first\":",
                report_out_input_format(in), in->lines, in->bytes, in->rejections, in->malformed);
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
    fprintf(o,
            ",\n\"lines\":%lu,\"bytes\":%llu,\"malformed\":%lu,\"out_of_range\":%lu,"
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
