/*
 * audit.c - formatting and writing of audit records (see audit.h).
 * Why one write(2) per record: lines from concurrent sessions must never
 * interleave, and O_APPEND makes each write land whole at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "strbuf.h"

static void json_field(struct strbuf *sb, const char *key, const char *value, int first)
{
    if (!first)
        sb_putc(sb, ',');
    sb_json_str(sb, key);
    sb_putc(sb, ':');
    sb_json_str(sb, value && *value ? value : NULL);
}

static void iso_time(const struct timespec *ts, char *buf, size_t len)
{
    struct tm tm;
    time_t t = ts->tv_sec;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n > 0 && n + 6 < len)
        snprintf(buf + n, len - n, ".%03ldZ", ts->tv_nsec / 1000000L);
}

char *audit_json(const struct audit_record *r)
{
    struct strbuf sb;
    char when[40] = "";
    iso_time(&r->time, when, sizeof when);
    sb_init(&sb);
    sb_putc(&sb, '{');
    json_field(&sb, "time", when, 1);
    json_field(&sb, "session", r->session, 0);
    json_field(&sb, "queue_id", r->queue_id, 0);
    json_field(&sb, "stage", r->stage, 0);
    json_field(&sb, "source", r->source, 0);
    json_field(&sb, "client_addr", r->client_addr, 0);
    json_field(&sb, "client_name", r->client_name, 0);
    json_field(&sb, "helo", r->helo, 0);
    json_field(&sb, "sender", r->sender, 0);
    json_field(&sb, "rcpt", r->rcpt, 0);
    json_field(&sb, "original", r->original, 0);
    json_field(&sb, "reply", r->reply, 0);
    json_field(&sb, "rule", r->rule, 0);
    json_field(&sb, "action", r->action, 0);
    json_field(&sb, "mode", r->mode, 0);
    if (r->note)
        json_field(&sb, "note", r->note, 0);
    sb_puts(&sb, "}\n");
    return sb_steal(&sb);
}

/* key=value with the value quoted when it has spaces; newlines become spaces. */
static void text_field(struct strbuf *sb, const char *key, const char *value)
{
    if (value == NULL || *value == '\0')
        return;
    sb_printf(sb, " %s=", key);
    int quote = strpbrk(value, " \t\"") != NULL;
    if (quote)
        sb_putc(sb, '"');
    for (const char *p = value; *p; p++) {
        if (*p == '\r' || *p == '\n')
            sb_putc(sb, ' ');
        else if (*p == '"')
            sb_puts(sb, "\\\"");
        else
            sb_putc(sb, *p);
    }
    if (quote)
        sb_putc(sb, '"');
}

char *audit_text(const struct audit_record *r)
{
    struct strbuf sb;
    sb_init(&sb);
    sb_printf(&sb, "%s: audit", r->queue_id && *r->queue_id ? r->queue_id : r->session);
    text_field(&sb, "action", r->action);
    text_field(&sb, "mode", r->mode);
    text_field(&sb, "stage", r->stage);
    text_field(&sb, "source", r->source);
    text_field(&sb, "rule", r->rule);
    text_field(&sb, "session", r->session);
    text_field(&sb, "client", r->client_addr);
    text_field(&sb, "client_name", r->client_name);
    text_field(&sb, "helo", r->helo);
    text_field(&sb, "from", r->sender);
    text_field(&sb, "to", r->rcpt);
    text_field(&sb, "original", r->original);
    text_field(&sb, "reply", r->reply);
    text_field(&sb, "note", r->note);
    return sb_steal(&sb);
}

static int open_append(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int audit_log_open(struct audit_log *log, const char *path)
{
    pthread_mutex_init(&log->lock, NULL);
    log->path = strdup(path);
    log->last_error_report = 0;
    log->failures = 0;
    log->fd = log->path ? open_append(path) : -1;
    return log->fd >= 0 ? 0 : -1;
}

int audit_log_reopen(struct audit_log *log)
{
    pthread_mutex_lock(&log->lock);
    int fd = open_append(log->path);
    int err = errno;
    if (fd >= 0) {
        if (log->fd >= 0)
            close(log->fd);
        log->fd = fd;
    }
    pthread_mutex_unlock(&log->lock);
    errno = err;
    return fd >= 0 ? 0 : -1;
}

int audit_log_write(struct audit_log *log, const char *line, int *report, unsigned long *lost)
{
    size_t len = strlen(line);
    int ok = 0;
    *report = 0;
    *lost = 0;
    pthread_mutex_lock(&log->lock);
    if (log->fd < 0)
        log->fd = open_append(log->path); /* retry a failed open lazily */
    if (log->fd >= 0) {
        ssize_t n = write(log->fd, line, len);
        ok = n == (ssize_t)len;
    }
    if (!ok) {
        time_t now = time(NULL);
        log->failures++;
        if (now - log->last_error_report >= 60) {
            *report = 1;
            *lost = log->failures;
            log->failures = 0;
            log->last_error_report = now;
        }
    }
    pthread_mutex_unlock(&log->lock);
    return ok ? 0 : -1;
}

void audit_log_close(struct audit_log *log)
{
    if (log->fd >= 0)
        close(log->fd);
    log->fd = -1;
    free(log->path);
    log->path = NULL;
    pthread_mutex_destroy(&log->lock);
}
