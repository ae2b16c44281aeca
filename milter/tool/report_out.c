/*
 * report_out.c - what the output formats of `reword report` share (see
 * report_out.h): the meaning of a table's keys (from the taxonomy), and
 * the numbers, times, zone and period as they are written.
 */
#include <stdio.h>
#include <time.h>

#include "report_out.h"
#include "taxonomy.h"

const char *report_out_meaning(enum meaning m, const char *key)
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
    case M_SOURCE: return report_source_meaning(key);
    default: return "";
    }
}

const char *report_out_commas(unsigned long long v, char *buf, size_t len)
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

void report_out_time(time_t t, const char *fmt, char *buf, size_t len)
{
    struct tm tm;
    if (t <= 0) {
        snprintf(buf, len, "-");
        return;
    }
    localtime_r(&t, &tm);
    strftime(buf, len, fmt, &tm);
}

const char *report_out_zone(char *buf, size_t len)
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

const char *report_out_input_format(const struct report_input *in)
{
    if (in->failed && in->lines == 0)
        return "unread";
    if (in->audit_lines && in->maillog_lines > in->malformed)
        return in->gzip ? "maillog + audit log, gzip" : "maillog + audit log";
    if (in->audit_lines)
        return in->gzip ? "audit log, gzip" : "audit log";
    return in->gzip ? "maillog, gzip" : "maillog";
}

void report_out_period(const struct out *x, char *buf, size_t len)
{
    const struct report *r = x->r;
    char a[40], b[40];
    time_t from = x->since ? x->since : r->log_first ? r->log_first : r->first;
    time_t to = x->until ? x->until : r->log_last ? r->log_last : r->last;
    report_out_time(from, "%Y-%m-%d %H:%M", a, sizeof a);
    report_out_time(to, "%Y-%m-%d %H:%M", b, sizeof b);
    snprintf(buf, len, "%s \xe2\x80\x93 %s", a, b);
}
