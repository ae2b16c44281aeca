/*
 * report.h - `reword report`: reads Postfix maillogs and milter-reword's
 * JSON audit log (plain or gzip, told apart by content), finds every
 * rejection, classifies it with the taxonomy (and optionally the rules),
 * and keeps counts by class, enhanced code, reason, rule, source, stage,
 * client, recipient domain and hour.
 *
 * Streaming: input is read in blocks and scanned line by line without a
 * per-line allocation; only lines that are rejections are parsed further.
 * Memory grows with the number of distinct keys (clients, domains,
 * hours...), never with the input size.  Lines that cannot be read are
 * counted as malformed (with a few samples kept), never fatal.
 *
 * Two kinds of input are counted apart, because they describe the same
 * events from two sides: the maillog (what the MTA refused, including
 * postscreen and header/body checks) and the audit log (what milter-reword
 * decided or observed, with rule names).  Every counter keeps its numbers
 * per kind and per class (5xx / 4xx).
 *
 * No libmilter here.
 */
#ifndef REWORD_REPORT_H
#define REWORD_REPORT_H

#include <stddef.h>
#include <time.h>

#include "rules.h"

enum report_kind { REPORT_MAILLOG = 0, REPORT_AUDIT = 1, REPORT_KINDS = 2 };

/* One counted key: n[kind][0] permanent (5xx), n[kind][1] temporary (4xx). */
struct counter_entry {
    char *key;   /* valid UTF-8, no control characters */
    char *label; /* optional display name (a client's host name), or NULL */
    unsigned long n[REPORT_KINDS][2];
};

/* A counter table: string key -> counts (open addressing, grows by doubling). */
struct counter {
    struct counter_entry *v; /* cap slots, key == NULL for a free slot */
    size_t n, cap;
    int oom; /* a key could not be added (no memory) */
};

/* Adds to key's counts (kind, temp = 1 for 4xx); returns the entry or NULL. */
struct counter_entry *report_counter_add(struct counter *c, const char *key, int kind, int temp,
                                         unsigned long n);
const struct counter_entry *report_counter_find(const struct counter *c, const char *key);
/* Sum of an entry's counts for kind (-1 = both kinds), temp (-1 = both classes). */
unsigned long report_counter_entry_sum(const struct counter_entry *e, int kind, int temp);
/* Sorted view: entry pointers by total count descending (ties by key), or by
   key ascending; malloc'd array of c->n entries (NULL on no memory or empty). */
const struct counter_entry **report_counter_sorted(const struct counter *c, int by_key);
void report_counter_free(struct counter *c);

/* Copies src (len bytes) into dst (cap >= 1 bytes, NUL-terminated) with
   control characters and invalid UTF-8 replaced by '?', cut on a character
   boundary.  Returns the length written. */
size_t report_sanitize(char *dst, size_t cap, const char *src, size_t len);

/* A line that could not be read, kept as an example for the admin. */
#define REPORT_SAMPLES 5
struct report_sample {
    char *file;
    unsigned long line;
    char *text; /* sanitized, cut */
};

/* One input file and what was found in it. */
struct report_input {
    char *name;
    int gzip; /* compressed input */
    unsigned long lines, maillog_lines, audit_lines, rejections, malformed;
    unsigned long long bytes; /* uncompressed */
    time_t first, last;       /* span of its timestamps (0 = none seen) */
    int failed;               /* could not be opened or read to the end */
    char error[128];
};

struct report {
    /* settings (report_init sets now and ref_year; the caller may change them) */
    time_t since, until;      /* 0 = open; until is exclusive */
    const struct config *cfg; /* optional: classify with the admin's rules */
    time_t now;               /* "the future" for syslog dates without a year */
    int ref_year;             /* year assumed for syslog dates */

    /* totals */
    unsigned long lines, malformed, out_of_range, blank;
    unsigned long long bytes;
    unsigned long rejections[REPORT_KINDS];
    unsigned long temp[REPORT_KINDS]; /* of which 4xx */
    unsigned long audit_mode;         /* audit records of decisions not enforced */
    time_t first, last;               /* first/last counted rejection (0 = none) */
    time_t log_first, log_last;       /* span of the input's timestamps */

    struct counter by_class, by_enhanced, by_reason, by_rule, by_source, by_stage, by_action,
        by_client, by_domain, by_hour;

    struct report_sample samples[REPORT_SAMPLES];
    size_t nsamples;
    struct report_input *inputs;
    size_t ninputs;

    /* private state */
    struct report_input *cur;
    unsigned long cur_line;
    struct {
        long key;
        time_t t;
    } lcache[64]; /* local civil hour -> epoch */
    long tblock;  /* localtime cache: epoch / 900 */
    int tblock_valid;
    struct tm tblock_tm;
};

void report_init(struct report *r);
void report_free(struct report *r);
/* Feeds one line (without its newline). */
void report_line(struct report *r, const char *line, size_t len);
/* Reads a whole file ("-" = stdin; gzip recognised by its magic bytes).
   Returns 0, or -1 when the file could not be opened or read to the end
   (what was read is counted; the reason is in the file's report_input). */
int report_file(struct report *r, const char *path);

/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (also with 'T'), local time; or a span
   back from now: "90m", "24h", "7d", "2w".  Returns 0, or -1 on error. */
int report_parse_time(const char *s, time_t now, time_t *out);

/* The timeline: consecutive buckets (empty ones included) from the first to
   the last counted rejection, per hour, day or month. */
enum report_unit { REPORT_HOUR, REPORT_DAY, REPORT_MONTH };
struct report_bucket {
    char label[20]; /* "2026-11-22 13:00", "2026-11-22", "2026-11" */
    unsigned long n[REPORT_KINDS][2];
};
/* The finest unit that gives at most max_buckets buckets. */
enum report_unit report_pick_unit(const struct report *r, size_t max_buckets);
/* malloc'd array of *n buckets (NULL with *n = 0 when there is nothing). */
struct report_bucket *report_timeline(const struct report *r, enum report_unit unit, size_t *n);

/* Description of a source key ("smtpd" -> "Postfix smtpd restrictions"), or "". */
const char *report_source_meaning(const char *source);

#endif
