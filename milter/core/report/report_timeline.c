/*
 * report_timeline.c - the timeline of the rejection report (see report.h):
 * consecutive hour, day or month buckets, empty ones included, built from
 * the by_hour counter ("YYYY-MM-DD HH", local time).
 */
#include <stdio.h>
#include <stdlib.h>

#include "report/report_int.h"

static long hour_index(const char *key)
{
    int y = num(key, 4), mo = num(key + 5, 2), d = num(key + 8, 2), h = num(key + 11, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0)
        return 0;
    return report_days_from_civil(y, mo, d) * 24 + h;
}

static long unit_index(long hidx, enum report_unit u)
{
    long days = hidx >= 0 ? hidx / 24 : (hidx - 23) / 24;
    if (u == REPORT_HOUR)
        return hidx;
    if (u == REPORT_DAY)
        return days;
    int y, m, d;
    report_civil_from_days(days, &y, &m, &d);
    return (long)y * 12 + (m - 1);
}

static int hour_span(const struct report *r, long *lo, long *hi)
{
    int any = 0;
    for (size_t i = 0; i < r->by_hour.cap; i++) {
        if (r->by_hour.v[i].key == NULL)
            continue;
        long h = hour_index(r->by_hour.v[i].key);
        if (!any || h < *lo)
            *lo = h;
        if (!any || h > *hi)
            *hi = h;
        any = 1;
    }
    return any;
}

enum report_unit report_pick_unit(const struct report *r, size_t max_buckets)
{
    long lo = 0, hi = 0;
    if (!hour_span(r, &lo, &hi))
        return REPORT_HOUR;
    if ((size_t)(hi - lo + 1) <= max_buckets)
        return REPORT_HOUR;
    if ((size_t)(unit_index(hi, REPORT_DAY) - unit_index(lo, REPORT_DAY) + 1) <= max_buckets)
        return REPORT_DAY;
    return REPORT_MONTH;
}

struct report_bucket *report_timeline(const struct report *r, enum report_unit unit, size_t *n)
{
    long lo = 0, hi = 0;
    *n = 0;
    if (!hour_span(r, &lo, &hi))
        return NULL;
    long a = unit_index(lo, unit), b = unit_index(hi, unit);
    size_t cnt = (size_t)(b - a + 1);
    struct report_bucket *v = calloc(cnt, sizeof *v);
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < cnt; i++) {
        long idx = a + (long)i;
        int y, m, d;
        if (unit == REPORT_MONTH) {
            snprintf(v[i].label, sizeof v[i].label, "%04d-%02d", (int)(idx / 12) % 10000,
                     (int)(idx % 12) + 1);
            continue;
        }
        long days = unit == REPORT_HOUR ? (idx >= 0 ? idx / 24 : (idx - 23) / 24) : idx;
        report_civil_from_days(days, &y, &m, &d);
        if (unit == REPORT_HOUR)
            snprintf(v[i].label, sizeof v[i].label, "%04d-%02d-%02d %02d:00", y % 10000, m, d,
                     (int)(idx - days * 24));
        else
            snprintf(v[i].label, sizeof v[i].label, "%04d-%02d-%02d", y % 10000, m, d);
    }
    for (size_t i = 0; i < r->by_hour.cap; i++) {
        const struct counter_entry *e = &r->by_hour.v[i];
        if (e->key == NULL)
            continue;
        size_t k = (size_t)(unit_index(hour_index(e->key), unit) - a);
        for (int kind = 0; kind < REPORT_KINDS; kind++)
            for (int t = 0; t < 2; t++)
                v[k].n[kind][t] += e->n[kind][t];
    }
    *n = cnt;
    return v;
}
