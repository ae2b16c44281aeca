/*
 * main.c - milter-reword's entry point: options, configuration check, and
 * the startup order of a well-behaved milter:
 *   load config -> register -> open socket -> socket owner/group/mode ->
 *   drop privileges -> daemonize (unless -f) -> pidfile -> supervisor_run
 *   (the worker runs smfi_main).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"

#ifndef REWORD_VERSION
#define REWORD_VERSION "0.1.0"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/milter-reword/milter-reword.conf"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: " DAEMON_NAME
        " [-c FILE] [-p SOCKET] [-u USER[:GROUP]] [-P PIDFILE] [-f] [-n] [-V] [-h]\n"
        "  -c FILE    configuration file (default " DEFAULT_CONFIG ")\n"
        "  -p SOCKET  milter socket: unix:/path, local:/path, inet:port@host, inet6:port@[addr]\n"
        "  -u USER    run as USER (and GROUP) after opening the socket\n"
        "  -P FILE    write the supervisor's pid to FILE\n"
        "  -f         stay in the foreground and log to stderr too\n"
        "  -n         check the configuration and exit (like `reword check`)\n"
        "  -V         print versions and exit\n"
        "  -h         this help\n");
}

static void cmd_check_print_diags(const struct diag_list *dl, const char *path, FILE *f,
                                  int errors_only)
{
    for (size_t i = 0; i < dl->n; i++) {
        const struct diag *d = &dl->v[i];
        if (errors_only && d->severity != DIAG_ERROR)
            continue;
        fprintf(f, "%s:%d: %s: %s [%s]\n", d->file ? d->file : path, d->line,
                diag_severity_name(d->severity), d->message, d->id);
    }
}

/* Prints the findings of a load (all, or only the errors) to f and a
   summary line naming `as` (the user the load ran as) when given.
   0 when the configuration is usable (ok). */
static int report_check(const struct diag_list *dl, int ok, const char *path, FILE *f,
                        int errors_only, const char *as)
{
    cmd_check_print_diags(dl, path, f, errors_only);
    if (!errors_only || !ok)
        fprintf(stderr, "%s: %s%s%s (%zu errors, %zu warnings)\n", path, ok ? "OK" : "NOT usable",
                as ? " as user " : "", as ? as : "", diag_count(dl, DIAG_ERROR),
                diag_count(dl, DIAG_WARNING));
    return ok ? 0 : 1;
}

/* Loads path and reports it (report_check). */
static int check_config(const char *path, FILE *f, int errors_only, const char *as)
{
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load(path, &dl);
    diag_sort(&dl);
    int rc = report_check(&dl, c != NULL, path, f, errors_only, as);
    if (c)
        conf_unref(c);
    diag_free(&dl);
    return rc;
}

/* "unix:/p" or "local:/p" -> "/p"; NULL for network sockets. */
static const char *socket_path(const char *conn)
{
    if (strncmp(conn, "unix:", 5) == 0)
        return conn + 5;
    if (strncmp(conn, "local:", 6) == 0)
        return conn + 6;
    if (conn[0] == '/')
        return conn;
    return NULL;
}

struct run_as {
    uid_t uid;
    gid_t gid;
    const char *name;
    int set;
};

static int resolve_user(const char *spec, struct run_as *ra)
{
    memset(ra, 0, sizeof *ra);
    if (spec == NULL || *spec == '\0')
        return 0;
    static char user[256];
    snprintf(user, sizeof user, "%s", spec);
    char *group = strchr(user, ':');
    if (group)
        *group++ = '\0';
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        fprintf(stderr, DAEMON_NAME ": unknown user '%s'\n", user);
        return -1;
    }
    ra->uid = pw->pw_uid;
    ra->gid = pw->pw_gid;
    ra->name = user;
    if (group && *group) {
        struct group *gr = getgrnam(group);
        if (gr == NULL) {
            fprintf(stderr, DAEMON_NAME ": unknown group '%s'\n", group);
            return -1;
        }
        ra->gid = gr->gr_gid;
    }
    ra->set = 1;
    return 0;
}

static int drop_privileges(const struct run_as *ra)
{
    if (!ra->set)
        return 0;
    if (getuid() != 0 && geteuid() != 0) {
        if (geteuid() == ra->uid)
            return 0;
        fprintf(stderr, DAEMON_NAME ": -u needs root\n");
        return -1;
    }
    if (setgid(ra->gid) < 0 || initgroups(ra->name, ra->gid) < 0 || setuid(ra->uid) < 0) {
        fprintf(stderr, DAEMON_NAME ": cannot become %s: %s\n", ra->name, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        fprintf(stderr, DAEMON_NAME ": privileges could not be dropped\n");
        return -1;
    }
    return 0;
}

/* Loads the configuration as the run-as user in a child process: the
   worker re-reads it as that user (at start and on SIGHUP), so a file or
   directory only root can read would otherwise cost rules silently.  The
   child prints what it finds; 0 when the load succeeded. */
static int check_as_user(const char *path, const struct run_as *ra, const char *spec,
                         int errors_only)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, DAEMON_NAME ": fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (drop_privileges(ra) < 0)
            _exit(1);
        int rc = check_config(path, errors_only ? stderr : stdout, errors_only, spec);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    if (chdir("/") < 0)
        return -1;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return 0;
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f);
}

static int worker_main(void *arg)
{
    const struct daemon_opts *o = arg;
    /* A fresh worker (also after a crash) reads the config from disk; if that
       fails it keeps the configuration the supervisor started with. */
    holder_reload(o->config_path);
    if (supervisor_worker_signals(o->config_path) < 0) {
        logging_printf(LOG_ERR, NULL, "cannot start the signal thread");
        return WORKER_EXIT_FATAL;
    }
    logging_printf(LOG_INFO, NULL, "worker %ld ready", (long)getpid());
    int rc = smfi_main();
    logging_printf(LOG_INFO, NULL, "worker %ld stopped", (long)getpid());
    return rc == MI_SUCCESS ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct daemon_opts o = {.config_path = DEFAULT_CONFIG};
    int check_only = 0, c;
    while ((c = getopt(argc, argv, "c:p:u:P:fnVh")) != -1) {
        switch (c) {
        case 'c': o.config_path = optarg; break;
        case 'p': o.socket = optarg; break;
        case 'u': o.user = optarg; break;
        case 'P': o.pidfile = optarg; break;
        case 'f': o.foreground = 1; break;
        case 'n': check_only = 1; break;
        case 'V': {
            unsigned int ma = 0, mi = 0, pl = 0;
            smfi_version(&ma, &mi, &pl);
            printf(DAEMON_NAME " %s (libmilter %u.%u.%u)\n", REWORD_VERSION, ma, mi, pl);
            return 0;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    /* The worker re-reads the file after the daemon changed to "/". */
    static char *volatile abs_path; /* kept to the end, also on early exits */
    abs_path = realpath(o.config_path, NULL);
    if (abs_path)
        o.config_path = abs_path;

    struct diag_list dl;
    diag_init(&dl);
    struct config *cfg = conf_load(o.config_path, &dl);
    diag_sort(&dl);
    if (!check_only)
        cmd_check_print_diags(&dl, o.config_path, stderr, 0);
    const char *user = o.user ? o.user : cfg ? cfg->user : NULL;
    struct run_as ra;
    int rc = resolve_user(user, &ra);
    int switch_user = ra.set && geteuid() == 0 && ra.uid != 0;
    if (check_only) {
        /* -n: as the run-as user when root can switch, else this load's findings */
        if (rc < 0)
            rc = 1;
        else if (switch_user)
            rc = check_as_user(o.config_path, &ra, user, 0) == 0 ? 0 : 1;
        else if (ra.set && ra.uid != geteuid() && o.user) {
            fprintf(stderr,
                    DAEMON_NAME ": cannot check as user %s: only root can change "
                                "users\n",
                    user);
            rc = 1;
        } else {
            if (ra.set && ra.uid != geteuid())
                fprintf(stderr,
                        DAEMON_NAME ": not checked as user %s: only root can change "
                                    "users\n",
                        user);
            rc = report_check(&dl, cfg != NULL, o.config_path, stdout, 0, NULL);
        }
        if (cfg)
            conf_unref(cfg);
        diag_free(&dl);
        return rc;
    }
    diag_free(&dl);
    if (rc < 0)
        return 1;
    if (cfg == NULL) {
        fprintf(stderr, DAEMON_NAME ": %s has errors; not starting\n", o.config_path);
        return 1;
    }
    if (switch_user && check_as_user(o.config_path, &ra, user, 1) < 0) {
        fprintf(stderr,
                DAEMON_NAME ": user %s cannot load %s (the daemon runs and reloads its "
                            "rules as that user); not starting\n",
                user, o.config_path);
        return 1;
    }
    const char *conn = o.socket ? o.socket : cfg->socket;
    const char *pidfile = o.pidfile ? o.pidfile : cfg->pidfile;
    logging_open(cfg->syslog_facility, o.foreground);
    if (smfi_register(callbacks_filter) == MI_FAILURE || smfi_setconn((char *)conn) == MI_FAILURE) {
        fprintf(stderr, DAEMON_NAME ": cannot register with libmilter (socket %s)\n", conn);
        return 1;
    }
    const char *path = socket_path(conn);
    callbacks_socket_is_unix = path != NULL;
    mode_t old_umask = umask(0177); /* no window in which the socket is world-usable */
    rc = smfi_opensocket(1);
    umask(old_umask);
    if (rc == MI_FAILURE) {
        fprintf(stderr, DAEMON_NAME ": cannot open socket %s\n", conn);
        return 1;
    }
    if (path) {
        if (ra.set && chown(path, ra.uid, ra.gid) < 0)
            fprintf(stderr, DAEMON_NAME ": chown %s: %s\n", path, strerror(errno));
        if (chmod(path, (mode_t)cfg->socket_mode) < 0)
            fprintf(stderr, DAEMON_NAME ": chmod %s: %s\n", path, strerror(errno));
    }
    if (drop_privileges(&ra) < 0)
        return 1;
    if (!o.foreground && daemonize() < 0) {
        fprintf(stderr, DAEMON_NAME ": cannot daemonize: %s\n", strerror(errno));
        return 1;
    }
    if (pidfile && write_pidfile(pidfile) < 0)
        logging_printf(LOG_ERR, NULL, "cannot write pidfile %s: %s", pidfile, strerror(errno));
    logging_audit_open(cfg->jsonl);
    logging_printf(LOG_INFO, NULL,
                   "starting " DAEMON_NAME " %s on %s with %zu rules from %s (mode %s)",
                   REWORD_VERSION, conn, cfg->nrules, o.config_path,
                   cfg->mode == MODE_AUDIT ? "audit" : "enforce");
    holder_set(cfg);
    rc = supervisor_run(worker_main, &o);
    if (pidfile)
        unlink(pidfile);
    if (path)
        unlink(path);
    holder_clear();
    logging_audit_close();
    return rc;
}
