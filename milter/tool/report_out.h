/*
 * report_out.h - private to `reword report` (cmd_report.c) and its output
 * formats (report_text.c, report_json.c, report_html.c): the tables to
 * write, what every format is given, and the helpers they share
 * (report_out.c).  Not part of the core's API.
 */
#ifndef REWORD_TOOL_REPORT_OUT_H
#define REWORD_TOOL_REPORT_OUT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "report.h"

enum meaning { M_NONE, M_CLASS, M_ENHANCED, M_SOURCE };

struct table {
    const char *id; /* JSON name */
    const char *title, *key_name;
    const struct counter *c;
    enum meaning meaning;
    int top;           /* cut to --top */
    int split;         /* show the 5xx / 4xx columns */
    int wide;          /* HTML: full width (long keys or a meaning column) */
    const char *empty; /* shown when the table is empty; NULL: table left out */
};

struct out {
    FILE *o;
    const struct report *r;
    size_t top;
    int both; /* maillog and audit log rejections: two columns */
    int kind; /* the one kind when !both */
    char **files;
    int nfiles;
    const char *config;
    time_t since, until;
};

/* Sum of an entry's counts over the kinds shown (both, or the one kind). */
static inline unsigned long total_of(const struct out *x, const struct counter_entry *e)
{
    return report_counter_entry_sum(e, x->both ? -1 : x->kind, -1);
}

/* Rejections of the kinds shown. */
static inline unsigned long kind_total(const struct out *x)
{
    const struct report *r = x->r;
    return x->both ? r->rejections[0] + r->rejections[1] : r->rejections[x->kind];
}

/* The meaning column of a table's key ("" for none). */
const char *report_out_meaning(enum meaning m, const char *key);
/* "1,234,567" */
const char *report_out_commas(unsigned long long v, char *buf, size_t len);
/* strftime of a local time; "-" for none (t <= 0). */
void report_out_time(time_t t, const char *fmt, char *buf, size_t len);
/* "UTC" or "CET, UTC+01:00": the zone the report's times are in. */
const char *report_out_zone(char *buf, size_t len);
/* "maillog", "audit log, gzip"...: what an input file was read as. */
const char *report_out_input_format(const struct report_input *in);
/* "2026-11-22 00:00 - 2026-11-29 23:59" (an en dash): the period covered. */
void report_out_period(const struct out *x, char *buf, size_t len);

/* The three formats: report_text.c, report_json.c, report_html.c. */
void report_text_write(const struct out *x, const struct table *tables, size_t nt);
void report_json_write(const struct out *x, const struct table *tables, size_t nt);
void report_html_write(const struct out *x, const struct table *tables, size_t nt);

#endif
