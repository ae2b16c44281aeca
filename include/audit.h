/*
 * audit.h - audit records: one per rejection milter-reword makes, relays or
 * observes, so an admin can answer "why was this mail refused?".  Formats a
 * record as a JSON line and as a syslog line, and appends JSON lines to a
 * file with one write(2) per record (safe with O_APPEND from many threads,
 * and reopened for logrotate).  No libmilter here.
 */
#ifndef REWORD_AUDIT_H
#define REWORD_AUDIT_H

#include <pthread.h>
#include <time.h>

struct audit_record {
    struct timespec time;
    const char *session;  /* session id, always set */
    const char *queue_id; /* NULL/"" before the MTA assigned one */
    const char *stage;    /* "rcpt" ... */
    const char *source;   /* "self", "mta", or an upstream name */
    const char *client_addr, *client_name, *helo, *sender, *rcpt;
    const char *original; /* the reply before rewriting, NULL for own decisions */
    const char *reply;    /* the reply sent (or that would be sent in audit mode) */
    const char *rule;     /* rule name, NULL when none matched */
    const char *action;   /* reject, tempfail, discard, accept, rewrite, observe, log */
    const char *mode;     /* "enforce" or "audit" */
    const char *note;     /* optional free text (e.g. "on_error: no memory"), NULL */
};

/* The record as one JSON object followed by "\n" (malloc'd, NULL on no memory). */
char *audit_json(const struct audit_record *r);
/* The record as one syslog line without newline (malloc'd). */
char *audit_text(const struct audit_record *r);

/* An append-only JSON lines file. */
struct audit_log {
    pthread_mutex_t lock;
    char *path;
    int fd;                   /* -1 when closed or failed */
    time_t last_error_report; /* rate limit for error reports: once a minute */
    unsigned long failures;   /* records lost since the last report */
};

int audit_log_open(struct audit_log *log, const char *path); /* 0 / -1 (errno) */
/* Reopens the file (after logrotate moved it). */
int audit_log_reopen(struct audit_log *log);
/*
 * Appends one line with a single write(2).  Returns 0 on success.  On failure
 * returns -1 and sets *report to 1 at most once a minute, with *lost the
 * number of records lost since the last report: callers log only then, so a
 * full disk gives one error line a minute, not one per message.
 */
int audit_log_write(struct audit_log *log, const char *line, int *report, unsigned long *lost);
void audit_log_close(struct audit_log *log);

#endif
