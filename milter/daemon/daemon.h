/*
 * daemon.h - shared declarations of the milter-reword daemon: the process
 * (main.c, supervisor.c), the configuration holder that makes reloads safe
 * (holder.c), logging and auditing (logging.c), and the libmilter callbacks
 * (callbacks.c, verdict.c).  Everything policy-related lives in the core
 * library; this layer only moves facts in and verdicts out.
 */
#ifndef REWORD_DAEMON_H
#define REWORD_DAEMON_H

#include <libmilter/mfapi.h>
#include <stdarg.h>

#include "audit.h"
#include "engine.h"
#include "rules.h"

#define DAEMON_NAME "milter-reword"

struct daemon_opts {
    const char *config_path;
    const char *socket;  /* -p, overrides the config */
    const char *user;    /* -u user[:group], overrides the config */
    const char *pidfile; /* -P, overrides the config */
    int foreground;      /* -f */
};

/* holder.c: the current configuration, swapped atomically on reload. */
void holder_set(struct config *c); /* takes over the caller's reference */
struct config *holder_get(void);   /* returns a new reference */
/* Re-reads path; on errors logs them and keeps the current config.  0 / -1. */
int holder_reload(const char *path);
void holder_clear(void);

/* logging.c */
void logging_open(const char *facility, int to_stderr);
/* A log line; `id` (queue id or session id, may be NULL) is put in front. */
void logging_printf(int prio, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void logging_diags(const struct diag_list *dl);
int logging_audit_open(const char *jsonl_path); /* NULL path: syslog only */
void logging_audit_reopen(void);
void logging_audit_emit(const struct audit_record *r);
void logging_audit_close(void);

/* callbacks.c */
extern struct smfiDesc callbacks_filter;
extern int callbacks_socket_is_unix;

/* Exit status of a worker that cannot work at all (no point restarting). */
#define WORKER_EXIT_FATAL 78

/* supervisor.c: runs the worker (fn) in a child and restarts it if it dies;
   forwards SIGHUP as a reload and SIGUSR1 as a log reopen.  Returns the exit code. */
int supervisor_run(int (*worker)(void *), void *arg);
/* worker side: starts the thread that handles reload/reopen requests. */
int supervisor_worker_signals(const char *config_path);

#endif
