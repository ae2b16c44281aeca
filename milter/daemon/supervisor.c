/*
 * supervisor.c - process model of the daemon.
 *
 * Why a supervisor: libmilter's smfi_main owns SIGHUP, SIGTERM and SIGINT
 * (its signal thread treats SIGHUP as "stop"), so a milter cannot simply
 * catch SIGHUP to reload.  The parent process therefore owns the signals
 * admins send to the pid in the pidfile and never runs libmilter's loop:
 *   SIGHUP          -> worker gets SIGUSR2: re-read the config (old rules kept on error)
 *   SIGUSR1         -> worker gets SIGUSR1: reopen the JSON audit log (logrotate)
 *   SIGTERM/SIGINT  -> worker gets SIGTERM: libmilter stops cleanly; parent exits
 *   worker ended    -> (unasked: crash, or a stray signal to the worker pid)
 *                      restarted after a pause; the listening socket stays open
 *                      in the parent, so the MTA only sees a short gap
 * The worker (fork of the parent) runs smfi_main on the socket the parent
 * opened before dropping privileges, and gets SIGTERM when the parent
 * dies, however it dies (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define RESTART_WINDOW 30 /* seconds */
#define RESTART_MAX 5     /* restarts within the window before giving up */
#define STOP_GRACE 15     /* seconds a worker gets to finish on stop */

static void supervisor_sigset(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGCHLD);
}

static pid_t start_worker(int (*worker)(void *), void *arg, const sigset_t *parent_mask)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* A worker whose supervisor died (even by SIGKILL) must not serve on:
           nobody would restart or reload it, and a new daemon would compete
           with it for the socket.  The check after prctl catches a parent
           that died before the request took effect. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
            _exit(WORKER_EXIT_FATAL);
        /* The worker blocks USR1/USR2 for its own signal thread; libmilter
           handles HUP/TERM/INT itself.  Everything else back to normal. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGUSR2);
        signal(SIGCHLD, SIG_DFL);
        pthread_sigmask(SIG_SETMASK, &set, NULL);
        (void)parent_mask;
        _exit(worker(arg));
    }
    return pid;
}

/* Waits up to STOP_GRACE seconds for the worker, then kills it. */
static void stop_worker(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < STOP_GRACE * 10; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    logging_printf(LOG_WARNING, NULL, "worker %d did not stop in %d s, killing it", (int)pid,
                   STOP_GRACE);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void describe_exit(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

int supervisor_run(int (*worker)(void *), void *arg)
{
    sigset_t set, old;
    supervisor_sigset(&set);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    time_t window_start = time(NULL);
    int restarts = 0;
    pid_t pid = start_worker(worker, arg, &old);
    if (pid < 0) {
        logging_printf(LOG_ERR, NULL, "fork: %s", strerror(errno));
        return 1;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        switch (sig) {
        case SIGHUP:
            logging_printf(LOG_INFO, NULL, "SIGHUP: asking worker %d to reload", (int)pid);
            kill(pid, SIGUSR2);
            break;
        case SIGUSR1: kill(pid, SIGUSR1); break;
        case SIGTERM:
        case SIGINT:
            logging_printf(LOG_INFO, NULL, "stopping (signal %d)", sig);
            stop_worker(pid);
            return 0;
        case SIGCHLD: {
            int status;
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w != pid)
                break;
            char how[128];
            describe_exit(status, how, sizeof how);
            if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
                logging_printf(LOG_CRIT, NULL, "worker %d %s (cannot start); stopping", (int)pid,
                               how);
                return 1;
            }
            time_t now = time(NULL);
            if (now - window_start > RESTART_WINDOW) {
                window_start = now;
                restarts = 0;
            }
            if (++restarts > RESTART_MAX) {
                logging_printf(LOG_CRIT, NULL, "worker %d %s; %d restarts in %d s, giving up",
                               (int)pid, how, RESTART_MAX, RESTART_WINDOW);
                return 1;
            }
            logging_printf(LOG_ERR, NULL, "worker %d %s; restarting", (int)pid, how);
            sleep(1);
            pid = start_worker(worker, arg, &old);
            if (pid < 0) {
                logging_printf(LOG_ERR, NULL, "fork: %s", strerror(errno));
                return 1;
            }
            break;
        }
        default: break;
        }
    }
}

/* Worker side: a thread that sigwaits for the parent's requests. */
static const char *reload_path;

static void *worker_signal_thread(void *unused)
{
    (void)unused;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGUSR2)
            holder_reload(reload_path);
        else if (sig == SIGUSR1)
            logging_audit_reopen();
    }
    return NULL;
}

int supervisor_worker_signals(const char *config_path)
{
    reload_path = config_path;
    pthread_t t;
    int rc = pthread_create(&t, NULL, worker_signal_thread, NULL);
    if (rc != 0)
        return -1;
    pthread_detach(t);
    return 0;
}
