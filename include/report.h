/*
 * report.h - `reword report`: reads Postfix maillog lines and milter-reword's
 * JSON audit log, finds every rejection, classifies it with the taxonomy
 * (and optionally the rules), and keeps counts by class, enhanced code,
 * rule, source, client, recipient domain, hour and day.
 *
 * Streaming: input is read line by line; memory grows with the number of
 * distinct keys (clients, domains, hours...), never with the input size.
 * Lines that look like rejections but cannot be read are counted as
 * malformed, never fatal.
 */
#ifndef REWORD_REPORT_H
#define REWORD_REPORT_H

#include <stddef.h>
#include <time.h>

#include "rules.h"

/* A counter table: string key -> count (open addressing). */
struct counter {
    char **keys;
    unsigned long *counts;
    size_t n, cap;
    int oom;
};

struct report {
    time_t since, until;            /* 0 = open */
    const struct config *cfg;       /* optional: classify by rule with the engine */
    int now_year;                   /* for syslog timestamps without a year */
    unsigned long lines, bytes, rejections, malformed, out_of_range;
    unsigned long maillog_rejections, audit_rejections;
    time_t first, last;
    struct counter by_class, by_enhanced, by_rule, by_source, by_client, by_domain,
                   by_hour, by_day, by_stage;
};

void report_init(struct report *r);
void report_free(struct report *r);
/* Feeds one line (without newline). */
void report_line(struct report *r, const char *line, size_t len);
/* Reads a whole file ("-" = stdin; gzip detected by content). 0 / -1 (errno). */
int report_file(struct report *r, const char *path);

/* Sorted view of a counter: indices by count descending (ties by key), or by
   key ascending; malloc'd, n entries. */
size_t *counter_sorted(const struct counter *c, int by_key);
void counter_add(struct counter *c, const char *key, unsigned long n);

/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", "24h", "7d" (relative to now). -1 on error. */
int report_parse_time(const char *s, time_t now, time_t *out);

#endif
