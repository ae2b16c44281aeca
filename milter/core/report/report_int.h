/*
 * report_int.h - private to the rejection report engine (report.h): what
 * its parts share.  report.c reads the input and counts one rejection;
 * report_time.c reads timestamps; report_reason.c reads a reply's codes
 * and makes its reason key; report_maillog.c and report_audit.c find the
 * rejections in Postfix maillog lines and audit JSON lines;
 * report_timeline.c makes the timeline.  Not part of the core's API.
 */
#ifndef REWORD_REPORT_INT_H
#define REWORD_REPORT_INT_H

#include <string.h>
#include <time.h>

#include "report.h"

/* ---- small helpers ---- */

static inline const char *find_in(const char *s, const char *e, const char *needle, size_t nlen)
{
    if (s >= e)
        return NULL;
    return memmem(s, (size_t)(e - s), needle, nlen);
}
#define FIND(s, e, lit) find_in((s), (e), (lit), sizeof(lit) - 1)

/* Last occurrence of needle in [s, e). */
static inline const char *find_last(const char *s, const char *e, const char *needle, size_t nlen)
{
    const char *last = NULL, *p;
    while ((p = find_in(s, e, needle, nlen)) != NULL) {
        last = p;
        s = p + 1;
    }
    return last;
}
#define FIND_LAST(s, e, lit) find_last((s), (e), (lit), sizeof(lit) - 1)

static inline int starts(const char *s, const char *e, const char *lit, size_t n)
{
    return (size_t)(e - s) >= n && memcmp(s, lit, n) == 0;
}
#define STARTS(s, e, lit) starts((s), (e), (lit), sizeof(lit) - 1)

/* Copies [s, e) into buf (len bytes, NUL-terminated, cut). */
static inline char *copy_span(char *buf, size_t len, const char *s, const char *e)
{
    size_t n = s && e > s ? (size_t)(e - s) : 0;
    if (n >= len)
        n = len - 1;
    if (n)
        memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static inline int dig(char c)
{
    return c >= '0' && c <= '9';
}

static inline int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!dig(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* ---- time (report_time.c) ---- */

/* A moment: the local civil hour (for the buckets) and the epoch. */
struct stamp {
    int y, mo, d, h;
    time_t t;
};

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
long report_days_from_civil(long y, int m, int d);
void report_civil_from_days(long z, int *y, int *m, int *d);
/* Length of the timestamp at the start of a line judged by its shape only
   (0: none): 15 for syslog's "Nov 22 13:45:01", up to the first space for
   "2026-11-22T13:45:01[.frac][Z|+hh:mm|+hhmm]". */
size_t report_stamp_shape(const char *s, size_t len);
/* Parses the timestamp at s (a report_stamp_shape of n bytes, or a bare audit
   "time" value).  Returns 0, or -1 when it is not a valid time. */
int report_parse_stamp(struct report *r, const char *s, size_t n, struct stamp *st);
/* Widens the span of the input's timestamps (the file's and the whole report's). */
void report_note_time(struct report *r, time_t t);

/* ---- one rejection (report.c) ---- */

enum { SRC_MTA, SRC_MILTER, SRC_SELF };

struct rejection {
    int kind; /* REPORT_MAILLOG / REPORT_AUDIT */
    struct stamp when;
    const char *source; /* "smtpd", "postscreen", "cleanup", "milter", "self", "mta"... */
    int src;            /* SRC_* for the engine */
    const char *stage;  /* rule-file words: "rcpt", "eom", "header"... */
    const char *client_addr, *client_name, *sender, *rcpt, *helo;
    const char *text, *text_end; /* the reply as logged */
    const char *alt, *alt_end;   /* audit observe: the explained reply (codes fallback) */
    const char *rule;            /* from the audit record */
    const char *action;          /* audit: "reject", "observe (audit mode)"... */
};

/* Counts a line that could not be read (and keeps it as a sample). */
void report_malformed(struct report *r, const char *s, size_t len);
/* Counts one rejection (line/len: the whole line, for a sample if it has no
   4xx/5xx reply). */
void report_count_rejection(struct report *r, const struct rejection *x, const char *line,
                            size_t len);

/* ---- a rejection's reply (report_reason.c) ---- */

struct codes {
    int code, has_enh, eclass, esubj, edet;
    const char *text; /* after the codes */
};

/* "550 5.1.1 text", "550-5.1.1 text", "5.7.1 text", "550 text" at s. */
void report_parse_codes(const char *s, const char *e, struct codes *c);
/* The reason key: "5.1.1 Recipient address rejected: User unknown ..." with
   the variable parts (addresses, bracketed hosts, IPv4 addresses) replaced. */
void report_reason_key(char *out, size_t cap, int cls, int subj, int det, const char *s,
                       const char *e);

/* ---- lines (report_maillog.c, report_audit.c) ---- */

/* A Postfix maillog line, and a line of milter-reword's JSON audit log
   (both without their newline): counted if they are rejections. */
void report_maillog_line(struct report *r, const char *line, size_t len);
void report_audit_line(struct report *r, const char *s, size_t len);

#endif
