/*
 * syslog_shim.c - LD_PRELOAD library for the private sendmail of the
 * sendmail integration tests (tests/sendmail/lib.sh).
 *
 * This machine runs no syslog daemon (no /dev/log), and sendmail logs only
 * through syslog(3). Preloaded into the lab's sendmail, this replaces
 * openlog/closelog/syslog/vsyslog/__syslog_chk/__vsyslog_chk by functions
 * that append one line per message to the file named by SM_SYSLOG_FILE:
 *     Nov 22 14:20:44 sendmail[31818]: 6AMEKiQs031818: from=<a@x>, ...
 * The path is read once, in a constructor, because sendmail clears its
 * environment at startup (its forked children inherit the static copy).
 * Each line is written with one write(2) on a file opened with O_APPEND and
 * closed again, so it survives sendmail closing its descriptors, and lines of
 * concurrent processes never interleave.
 * Without SM_SYSLOG_FILE every call is a no-op (nothing else is touched).
 *
 * Built by tests/sendmail/lib.sh (cc -shared -fPIC) into the cached prefix.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char log_path[4096];
static char log_ident[64] = "sendmail";

__attribute__((constructor)) static void shim_init(void)
{
    const char *p = getenv("SM_SYSLOG_FILE");
    if (p != NULL && strlen(p) < sizeof log_path)
        strcpy(log_path, p);
}

void openlog(const char *ident, int option, int facility)
{
    (void)option;
    (void)facility;
    if (ident != NULL)
        snprintf(log_ident, sizeof log_ident, "%s", ident);
}

void closelog(void)
{
}

void vsyslog(int priority, const char *fmt, va_list ap)
{
    (void)priority;
    if (log_path[0] == '\0')
        return;
    char line[8192];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    size_t n = strftime(line, sizeof line, "%b %e %H:%M:%S ", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, "%s[%ld]: ", log_ident, (long)getpid());
    if (n < sizeof line) {
        int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
        if (m > 0)
            n += (size_t)m;
    }
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    while (n > 0 && line[n - 1] == '\n')
        n--;
    line[n++] = '\n';
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t w = write(fd, line, n);
    (void)w;
    close(fd);
}

void syslog(int priority, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsyslog(priority, fmt, ap);
    va_end(ap);
}

void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    vsyslog(priority, fmt, ap);
}

void __syslog_chk(int priority, int flag, const char *fmt, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, fmt);
    vsyslog(priority, fmt, ap);
    va_end(ap);
}
