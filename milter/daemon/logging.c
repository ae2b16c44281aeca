/*
 * logging.c - syslog (and stderr in the foreground) for the daemon, and the
 * audit trail: every audit record goes to syslog and, when configured, to
 * the JSON lines file.  A failing JSON file never stops decisions; its
 * failure is logged at most once a minute.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon.h"

static const struct {
    const char *name;
    int value;
} facilities[] = {
    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

static int facility_value(const char *name)
{
    for (size_t i = 0; name && i < sizeof facilities / sizeof facilities[0]; i++)
        if (strcmp(facilities[i].name, name) == 0)
            return facilities[i].value;
    return LOG_MAIL;
}

void logging_open(const char *facility, int to_stderr)
{
    closelog();
    openlog(DAEMON_NAME, LOG_PID | LOG_NDELAY | (to_stderr ? LOG_PERROR : 0),
            facility_value(facility));
}

void logging_printf(int prio, const char *id, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (id && *id)
        syslog(prio, "%s: %s", id, msg);
    else
        syslog(prio, "%s", msg);
}

void logging_diags(const struct diag_list *dl)
{
    for (size_t i = 0; i < dl->n; i++) {
        const struct diag *d = &dl->v[i];
        int prio = d->severity == DIAG_ERROR ? LOG_ERR : LOG_WARNING;
        if (d->file)
            logging_printf(prio, NULL, "%s:%d: %s: %s [%s]", d->file, d->line,
                           diag_severity_name(d->severity), d->message, d->id);
        else
            logging_printf(prio, NULL, "%s: %s [%s]", diag_severity_name(d->severity), d->message,
                           d->id);
    }
}

static struct audit_log jsonl;
static int jsonl_on;

int logging_audit_open(const char *path)
{
    if (path == NULL || *path == '\0')
        return 0;
    jsonl_on = 1;
    if (audit_log_open(&jsonl, path) < 0) {
        logging_printf(LOG_ERR, NULL, "cannot open audit log %s: %s (will retry on each record)",
                       path, strerror(errno));
        return -1;
    }
    return 0;
}

void logging_audit_reopen(void)
{
    if (!jsonl_on)
        return;
    if (audit_log_reopen(&jsonl) < 0)
        logging_printf(LOG_ERR, NULL, "cannot reopen audit log %s: %s", jsonl.path,
                       strerror(errno));
    else
        logging_printf(LOG_INFO, NULL, "audit log %s reopened", jsonl.path);
}

void logging_audit_emit(const struct audit_record *r)
{
    char *text = audit_text(r);
    if (text) {
        syslog(LOG_NOTICE, "%s", text);
        free(text);
    }
    if (!jsonl_on)
        return;
    char *line = audit_json(r);
    int report = 0;
    unsigned long lost = 0;
    if (line == NULL || audit_log_write(&jsonl, line, &report, &lost) < 0) {
        if (report)
            logging_printf(LOG_ERR, NULL,
                           "audit log %s: write failed (%s); %lu record(s) lost since "
                           "the last report; decisions go on",
                           jsonl.path, strerror(errno), lost);
    }
    free(line);
}

void logging_audit_close(void)
{
    if (jsonl_on)
        audit_log_close(&jsonl);
    jsonl_on = 0;
}
