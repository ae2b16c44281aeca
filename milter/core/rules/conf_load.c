/*
 * conf_load.c - reads the rule file (libconfig) and its includes into a
 * struct config: the milter and audit settings here, each rule through
 * conf_rule.c, the checks across rules and against the taxonomy through
 * conf_check.c.  Also the shared helpers for settings and diagnostics.
 *
 * Robustness: every value is type-checked before use; a wrong type, a
 * missing key or a file that is not a config at all is a diagnostic, never
 * a crash.  Loading continues after errors so one run reports them all;
 * the config is returned only when there were none.
 *
 * Include order: the rules of a file come first, then those of each file it
 * includes, in the order of the `include` list, each glob's matches sorted
 * by name (strcmp); depth-first for nested includes.  libconfig gives no
 * reliable way to place an include "between" rules, so this order is the
 * documented one.
 *
 * Memory: the config owns every string, pattern and template; conf_unref
 * of the last reference frees it all.  libconfig trees live only while
 * their file is being read.
 */
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "rules/prefilter.h"
#include "rules/rule_index.h"
#include "rules/conf_int.h"
#include "rules.h"

#define DEFAULT_SOCKET "unix:/run/milter-reword/milter-reword.sock"
#define CONFIG_MAX_BYTES (64 << 20) /* a bigger rule file is a mistake */

/* ---- diagnostics and setting helpers (shared with conf_check.c) ---- */

void conf_diag(struct load_ctx *x, const char *file, int line, const char *id,
               enum diag_severity sev, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (sev == DIAG_ERROR)
        x->nerr++;
    if (n < 0)
        return;
    diag_add_at(x->dl, file, line, id, sev, "%s", msg);
    free(msg);
}

int conf_new_errors(const struct load_ctx *x, size_t from)
{
    for (size_t i = from; i < x->dl->n; i++)
        if (x->dl->v[i].severity == DIAG_ERROR)
            return 1;
    return 0;
}

const char *conf_file(const struct load_ctx *x, const config_setting_t *s)
{
    const char *f = s ? config_setting_source_file(s) : NULL;
    return f ? f : x->cur_file;
}

int conf_line(const config_setting_t *s)
{
    return s ? (int)config_setting_source_line(s) : 0;
}

const char *conf_type_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP: return "group { }";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "number";
    case CONFIG_TYPE_FLOAT: return "decimal number";
    case CONFIG_TYPE_STRING: return "string";
    case CONFIG_TYPE_BOOL: return "boolean";
    case CONFIG_TYPE_ARRAY: return "array [ ]";
    case CONFIG_TYPE_LIST: return "list ( )";
    default: return "value of unknown type";
    }
}

const char *conf_rule_label(const struct rule *r, char *buf, size_t len)
{
    if (r->name && r->name[0])
        snprintf(buf, len, "rule \"%.100s\"", r->name);
    else
        snprintf(buf, len, "the unnamed rule at line %d", r->line);
    return buf;
}

void conf_check_keys(struct load_ctx *x, const config_setting_t *g, const char *const *known,
                     const char *where, enum diag_severity sev)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = m ? config_setting_name(m) : NULL;
        if (name == NULL)
            continue;
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, name) == 0;
        if (!ok)
            conf_diag(x, conf_file(x, m), conf_line(m), "unknown-key", sev,
                      "unknown key \"%s\" in %s", name, where);
    }
}

void conf_bad_type(struct load_ctx *x, const config_setting_t *s, const char *what,
                   const char *want)
{
    conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR, "%s must be %s, not a %s",
              what, want, conf_type_name(config_setting_type(s)));
}

/* The string value of s, or NULL with a bad-type error. */
const char *conf_string(struct load_ctx *x, const config_setting_t *s, const char *what)
{
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return config_setting_get_string(s);
    conf_bad_type(x, s, what, "a string");
    return NULL;
}

/* Calls fn for each string of a string or an array/list of strings. */

void conf_for_strings(struct load_ctx *x, const config_setting_t *s, const char *what,
                      ld_string_fn fn, void *arg)
{
    int type = config_setting_type(s);
    if (type == CONFIG_TYPE_STRING) {
        fn(x, s, config_setting_get_string(s), arg);
        return;
    }
    if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
        conf_bad_type(x, s, what, "a string or a list of strings");
        return;
    }
    int n = config_setting_length(s);
    if (n == 0)
        conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR, "%s is an empty list",
                  what);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *v = conf_string(x, e, what);
        if (v)
            fn(x, e, v, arg);
    }
}

char *conf_strdup(struct load_ctx *x, const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && d == NULL)
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
    return d;
}

/* Grows v (of *cap elements of size sz) to hold n + 1; -1 on no memory. */
int conf_grow(struct load_ctx *x, void **v, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *nv = realloc(*v, ncap * sz);
    if (nv == NULL) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        return -1;
    }
    *v = nv;
    *cap = ncap;
    return 0;
}

/* ---- milter { }, audit { } (upstreams: conf_upstream.c) ---- */

static void set_str(struct load_ctx *x, const config_setting_t *s, const char *what, char **slot)
{
    const char *v = conf_string(x, s, what);
    if (v) {
        free(*slot);
        *slot = v[0] ? conf_strdup(x, v) : NULL;
    }
}

static int socket_mode_value(const config_setting_t *s)
{
    int type = config_setting_type(s);
    if (type == CONFIG_TYPE_STRING) {
        const char *v = config_setting_get_string(s);
        size_t n = strlen(v);
        if (n == 0 || n > 4 || strspn(v, "01234567") != n)
            return -1;
        long m = strtol(v, NULL, 8);
        return m <= 0777 ? (int)m : -1;
    }
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return -1;
    long long v = config_setting_get_int64(s);
    if (config_setting_get_format(s) == CONFIG_FORMAT_HEX)
        return v >= 0 && v <= 0777 ? (int)v : -1;
    /* libconfig reads 0660 as decimal 660: take its digits as octal */
    if (v < 0 || v > 777)
        return -1;
    int d0 = (int)(v % 10), d1 = (int)(v / 10 % 10), d2 = (int)(v / 100);
    if (d0 > 7 || d1 > 7 || d2 > 7)
        return -1;
    return d2 * 64 + d1 * 8 + d0;
}

static const char *const milter_keys[] = {"socket", "mode",    "on_error", "socket_mode",
                                          "user",   "pidfile", NULL};

static void read_milter(struct load_ctx *x, const config_setting_t *g)
{
    struct config *c = x->cfg;
    if (!config_setting_is_group(g)) {
        conf_bad_type(x, g, "milter", "a group { ... }");
        return;
    }
    conf_check_keys(x, g, milter_keys, "milter", DIAG_WARNING);
    const config_setting_t *s;
    if ((s = config_setting_get_member(g, "socket"))) {
        const char *v = conf_string(x, s, "milter.socket");
        static const char *const kinds[] = {"unix:", "local:", "inet:", "inet6:", "/"};
        int ok = 0;
        for (size_t i = 0; v && i < sizeof kinds / sizeof kinds[0]; i++)
            ok |= strncmp(v, kinds[i], strlen(kinds[i])) == 0 && strlen(v) > strlen(kinds[i]);
        if (v && !ok)
            conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                      "milter.socket \"%.80s\" is not a milter socket: use unix:PATH, "
                      "inet:PORT@HOST or inet6:PORT@HOST",
                      v);
        else if (v) {
            free(c->socket);
            c->socket = conf_strdup(x, v);
        }
    }
    if ((s = config_setting_get_member(g, "mode"))) {
        const char *v = conf_string(x, s, "milter.mode");
        if (v && strcasecmp(v, "enforce") == 0)
            c->mode = MODE_ENFORCE;
        else if (v && strcasecmp(v, "audit") == 0)
            c->mode = MODE_AUDIT;
        else if (v)
            conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                      "milter.mode must be \"enforce\" or \"audit\", not \"%.40s\"", v);
    }
    if ((s = config_setting_get_member(g, "on_error"))) {
        const char *v = conf_string(x, s, "milter.on_error");
        int a = v ? names_action_lookup(v) : -1;
        if (a == ACTION_TEMPFAIL || a == ACTION_REJECT || a == ACTION_ACCEPT)
            c->on_error = (enum action)a;
        else if (v)
            conf_diag(x, conf_file(x, s), conf_line(s), "unknown-action", DIAG_ERROR,
                      "milter.on_error must be tempfail, reject or accept, not \"%.40s\"", v);
    }
    if ((s = config_setting_get_member(g, "socket_mode"))) {
        int m = socket_mode_value(s);
        if (m < 0)
            conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                      "milter.socket_mode must be an octal file mode such as \"0660\"");
        else
            c->socket_mode = m;
    }
    if ((s = config_setting_get_member(g, "user")))
        set_str(x, s, "milter.user", &c->user);
    if ((s = config_setting_get_member(g, "pidfile")))
        set_str(x, s, "milter.pidfile", &c->pidfile);
}

static const char *const audit_keys[] = {"syslog_facility", "jsonl", NULL};

static void read_audit(struct load_ctx *x, const config_setting_t *g)
{
    struct config *c = x->cfg;
    if (!config_setting_is_group(g)) {
        conf_bad_type(x, g, "audit", "a group { ... }");
        return;
    }
    conf_check_keys(x, g, audit_keys, "audit", DIAG_WARNING);
    const config_setting_t *s;
    if ((s = config_setting_get_member(g, "syslog_facility"))) {
        const char *v = conf_string(x, s, "audit.syslog_facility");
        int ok = v
                 && (strcmp(v, "mail") == 0 || strcmp(v, "daemon") == 0
                     || (strncmp(v, "local", 5) == 0 && v[5] >= '0' && v[5] <= '7' && !v[6]));
        if (ok) {
            free(c->syslog_facility);
            c->syslog_facility = conf_strdup(x, v);
        } else if (v)
            conf_diag(
                x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                "audit.syslog_facility must be mail, daemon or local0 to local7, not \"%.40s\"", v);
    }
    if ((s = config_setting_get_member(g, "jsonl")))
        set_str(x, s, "audit.jsonl", &x->cfg->jsonl);
}

/* ---- files and includes ---- */

/* Appends a source entry; its index, or -1 (no memory, reported). */
static long add_source(struct load_ctx *x, const char *path, const char *excluded_by)
{
    struct config *c = x->cfg;
    if (conf_grow(x, (void **)&c->sources, &x->sources_cap, c->nsources, sizeof *c->sources) < 0)
        return -1;
    struct config_source *s = &c->sources[c->nsources];
    memset(s, 0, sizeof *s);
    s->path = conf_strdup(x, path);
    s->excluded_by = excluded_by ? conf_strdup(x, excluded_by) : NULL;
    s->first_rule = c->nrules;
    s->depth = x->depth > 0 ? x->depth - 1 : 0;
    return (long)c->nsources++;
}

static void collect_exclude(struct load_ctx *x, const config_setting_t *s, const char *v, void *arg)
{
    (void)s;
    (void)arg;
    strvec_pushn(&x->exclude, v, strlen(v));
    if (x->exclude.oom)
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
}

/* The `exclude` pattern that leaves included file path out, or NULL: a
   pattern with a "/" is matched against the whole path, one without
   against the file's name. */
static const char *excluded_by(const struct load_ctx *x, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < x->exclude.n; i++)
        if (fnmatch(x->exclude.v[i], strchr(x->exclude.v[i], '/') ? path : base, 0) == 0)
            return x->exclude.v[i];
    return NULL;
}

struct include_list {
    char **pat;
    int *line;
    size_t n;
};

static void collect_include(struct load_ctx *x, const config_setting_t *s, const char *v, void *arg)
{
    struct include_list *il = arg;
    char **np = realloc(il->pat, (il->n + 1) * sizeof *np);
    if (np)
        il->pat = np;
    int *nl = realloc(il->line, (il->n + 1) * sizeof *nl);
    if (nl)
        il->line = nl;
    char *d = np && nl ? conf_strdup(x, v) : NULL;
    if (d == NULL) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        return;
    }
    il->pat[il->n] = d;
    il->line[il->n] = conf_line(s);
    il->n++;
}

static void load_file(struct load_ctx *x, const char *path, const char *text, const char *from_file,
                      int from_line);

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* glob(3)'s error callback has no argument of its own: the first failure
   of the glob under way is kept per thread (reloads run in their own). */
static __thread int glob_errno;
static __thread char glob_errpath[PATH_MAX];

static int glob_failed(const char *epath, int eerrno)
{
    if (eerrno == ENOENT)
        return 0; /* a directory a wildcard names that is not there: no match */
    if (glob_errno == 0) {
        glob_errno = eerrno;
        snprintf(glob_errpath, sizeof glob_errpath, "%s", epath);
    }
    return 1;
}

/* The directory a glob starts reading in: the part of pat before the last
   "/" ahead of its first wildcard ("." when there is none), into buf. */
static const char *glob_base_dir(const char *pat, char *buf, size_t len)
{
    size_t wild = strcspn(pat, "*?[");
    size_t cut = 0;
    for (size_t i = 0; i < wild; i++)
        if (pat[i] == '/')
            cut = i;
    if (cut == 0 && pat[0] != '/')
        snprintf(buf, len, ".");
    else
        snprintf(buf, len, "%.*s", (int)(cut ? cut : 1), pat);
    return buf;
}

/* A glob's matches; a directory it cannot read (not one that does not
   exist) is include-failed, as it would otherwise silently drop the rules
   in it: glob(3) skips such a directory and answers "no match". */
static void include_glob(struct load_ctx *x, const char *full, const char *from_file, int line)
{
    char base[PATH_MAX];
    struct stat st;
    glob_base_dir(full, base, sizeof base);
    int err = stat(base, &st) < 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
    if (err == ENOENT)
        return; /* no such directory: nothing to lose, as documented */
    if (err) {
        conf_diag(x, from_file, line, "include-failed", DIAG_ERROR,
                  "cannot read directory %s of include \"%.200s\": %s", base, full, strerror(err));
        return;
    }
    conf_check_perms(x, base, PERM_DIR_OF_GLOB, from_file, line);
    glob_t g;
    glob_errno = 0;
    errno = 0;
    int rc = glob(full, GLOB_NOSORT, glob_failed, &g);
    if (rc == 0) {
        qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, cmp_str);
        for (size_t i = 0; i < g.gl_pathc; i++)
            load_file(x, g.gl_pathv[i], NULL, from_file, line);
    } else if (rc == GLOB_ABORTED && glob_errno != 0)
        conf_diag(x, from_file, line, "include-failed", DIAG_ERROR,
                  "cannot read directory %s of include \"%.200s\": %s", glob_errpath, full,
                  strerror(glob_errno));
    else if (rc != GLOB_NOMATCH)
        conf_diag(x, from_file, line, "include-failed", DIAG_ERROR,
                  "cannot expand include \"%.200s\": %s", full,
                  rc == GLOB_NOSPACE ? "out of memory" : "read error");
    if (rc != GLOB_NOMATCH)
        globfree(&g);
}

static void include_one(struct load_ctx *x, const char *dir, const char *pat, const char *from_file,
                        int line)
{
    char *full = NULL;
    if (pat[0] == '\0') {
        conf_diag(x, from_file, line, "include-failed", DIAG_ERROR, "include names an empty path");
        return;
    }
    if (pat[0] == '/' || dir == NULL)
        full = strdup(pat);
    else if (asprintf(&full, "%s/%s", dir, pat) < 0)
        full = NULL;
    if (full == NULL) {
        conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        return;
    }
    if (strpbrk(pat, "*?[") == NULL)
        load_file(x, full, NULL, from_file, line);
    else
        include_glob(x, full, from_file, line);
    free(full);
}

static const char *const main_keys[] = {"milter", "audit",     "include", "exclude",
                                        "rules",  "upstreams", NULL};
static const char *const included_keys[] = {"include", "rules", NULL};

static void read_tree(struct load_ctx *x, config_t *cf, const char *path)
{
    const config_setting_t *root = config_root_setting(cf), *s;
    int is_main = x->depth == 1; /* this file is on the stack already */
    if (is_main)
        conf_check_keys(x, root, main_keys, "the top level", DIAG_WARNING);
    else
        conf_check_keys(x, root, included_keys,
                        "an included file (only rules and include are read there)", DIAG_WARNING);
    if (is_main && (s = config_setting_get_member(root, "upstreams")))
        conf_read_upstreams(x, s);
    if (is_main && (s = config_setting_get_member(root, "milter")))
        read_milter(x, s);
    if (is_main && (s = config_setting_get_member(root, "audit")))
        read_audit(x, s);
    if (is_main && (s = config_setting_get_member(root, "exclude"))
        && !(config_setting_is_aggregate(s) && config_setting_length(s) == 0))
        conf_for_strings(x, s, "exclude", collect_exclude, NULL);
    long src = add_source(x, path, NULL);
    if ((s = config_setting_get_member(root, "rules")))
        conf_build_rules(x, s);
    if (src >= 0)
        x->cfg->sources[src].nrules = x->cfg->nrules - x->cfg->sources[src].first_rule;

    struct include_list il = {NULL, NULL, 0};
    s = config_setting_get_member(root, "include");
    if (s && !(config_setting_is_aggregate(s) && config_setting_length(s) == 0))
        conf_for_strings(x, s, "include", collect_include, &il);
    config_destroy(cf); /* the includes do not need this tree */

    char *dup = strdup(path);
    const char *dir = dup && strchr(dup, '/') ? dirname(dup) : NULL; /* NULL: cwd */
    for (size_t i = 0; i < il.n; i++) {
        include_one(x, dir, il.pat[i], path, il.line[i]);
        free(il.pat[i]);
    }
    free(dup);
    free(il.pat);
    free(il.line);
}

/* The whole file as a string, or NULL after a diagnostic. */
static char *read_text(struct load_ctx *x, const char *path, const char *rep_file, int rep_line)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        conf_diag(x, rep_file, rep_line, "include-failed", DIAG_ERROR, "cannot read %s: %s", path,
                  strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 0;
    char *buf = NULL;
    for (;;) {
        if (cap - len < 4096) {
            if (cap >= CONFIG_MAX_BYTES) {
                conf_diag(x, rep_file, rep_line, "include-failed", DIAG_ERROR,
                          "cannot read %s: larger than %d MiB", path, CONFIG_MAX_BYTES >> 20);
                break;
            }
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                conf_diag(x, NULL, 0, "out-of-memory", DIAG_ERROR, "out of memory while loading");
                break;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                conf_diag(x, rep_file, rep_line, "include-failed", DIAG_ERROR, "cannot read %s: %s",
                          path, strerror(errno));
            else {
                buf[len] = '\0';
                fclose(f);
                const char *nul = memchr(buf, '\0', len);
                if (nul == NULL)
                    return buf;
                int line = 1;
                for (const char *p = buf; p < nul; p++)
                    line += *p == '\n';
                conf_diag(x, path, line, "syntax", DIAG_ERROR,
                          "syntax error: a NUL byte; this is not a text file");
                free(buf);
                return NULL;
            }
            break;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

static void load_file(struct load_ctx *x, const char *path, const char *text, const char *from_file,
                      int from_line)
{
    const char *rep_file = from_file ? from_file : path;
    int rep_line = from_file ? from_line : 0;
    char *real = NULL;
    const char *ex = from_file ? excluded_by(x, path) : NULL;
    if (ex) {
        add_source(x, path, ex);
        return;
    }
    if (text == NULL) {
        struct stat st;
        if (stat(path, &st) < 0) {
            int err = errno;
            struct stat lst;
            if (err == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
                conf_diag(x, rep_file, rep_line, "include-failed", DIAG_ERROR,
                          "cannot read %s: a symbolic link to a file that does not exist", path);
            else
                conf_diag(x, rep_file, rep_line, "include-failed", DIAG_ERROR, "cannot read %s: %s",
                          path, strerror(err));
            return;
        }
        if (!S_ISREG(st.st_mode)) {
            conf_diag(x, rep_file, rep_line, "include-failed", DIAG_ERROR, "cannot read %s: %s",
                      path, S_ISDIR(st.st_mode) ? "a directory, not a file" : "not a regular file");
            return;
        }
        real = realpath(path, NULL);
        if (real) {
            conf_check_perms(x, real, PERM_FILE, rep_file, rep_line);
            char *d = strdup(real);
            if (d)
                conf_check_perms(x, dirname(d), PERM_DIR_OF_FILE, rep_file, rep_line);
            free(d);
        }
        for (int i = 0; real && i < x->depth; i++)
            if (x->stack[i] && strcmp(x->stack[i], real) == 0) {
                conf_diag(x, rep_file, rep_line, "include-failed", DIAG_ERROR,
                          "%s includes itself (an include loop); it is read only once", path);
                free(real);
                return;
            }
    }
    if (x->depth > INCLUDE_MAX_DEPTH) {
        conf_diag(x, rep_file, rep_line, "include-failed", DIAG_ERROR,
                  "cannot include %s: includes are nested more than %d deep", path,
                  INCLUDE_MAX_DEPTH);
        free(real);
        return;
    }
    char *owned = NULL;
    if (text == NULL && (text = owned = read_text(x, path, rep_file, rep_line)) == NULL) {
        free(real);
        return;
    }
    if (conf_precheck_syntax(x, text, path) < 0) {
        free(owned);
        free(real);
        return;
    }
    config_t cf;
    config_init(&cf);
    char *dup = strdup(path);
    if (dup)
        config_set_include_dir(&cf, dirname(dup)); /* for libconfig's own @include */
    int ok = config_read_string(&cf, text);
    free(owned);
    if (!ok) {
        if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
            conf_diag(x, config_error_file(&cf) ? config_error_file(&cf) : path,
                      config_error_line(&cf), "include-failed", DIAG_ERROR, "cannot read %s", path);
        else {
            const char *why = config_error_text(&cf) ? config_error_text(&cf) : "unreadable";
            if (strcmp(why, "syntax error") == 0)
                why = "check = ; , { } ( ) [ ] and the quotes around strings";
            conf_diag(x, config_error_file(&cf) ? config_error_file(&cf) : path,
                      config_error_line(&cf), "syntax", DIAG_ERROR, "syntax error: %s", why);
        }
        config_destroy(&cf);
        free(dup);
        free(real);
        return;
    }
    const char *saved = x->cur_file;
    x->stack[x->depth++] = real;
    x->cur_file = path;
    read_tree(x, &cf, path); /* destroys cf */
    x->cur_file = saved;
    x->stack[--x->depth] = NULL;
    free(real);
    free(dup);
}

/* ---- the config object ---- */

static void conf_free(struct config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nrules; i++)
        conf_free_rule(&c->rules[i]);
    free(c->rules);
    for (size_t i = 0; i < c->nsources; i++) {
        free(c->sources[i].path);
        free(c->sources[i].excluded_by);
    }
    free(c->sources);
    free(c->path);
    free(c->socket);
    free(c->user);
    free(c->pidfile);
    free(c->syslog_facility);
    free(c->jsonl);
    conf_free_upstreams(c);
    rule_index_free(c->index);
    free(c->text_sigs);
    prefilter_gate_free(c->text_gate);
    free(c);
}

/* The gate for the rules whose text pattern is an alternation (prefilter.h);
   NULL when no rule is gated or memory ran out (the engine then tries them all). */
static struct prefilter_gate *build_text_gate(const struct config *c)
{
    struct prefilter_gate *g = prefilter_gate_new(c->nrules);
    int bad = g == NULL;
    for (size_t i = 0; !bad && i < c->nrules; i++)
        bad = pattern_gate(c->rules[i].when.text, g, i) < 0;
    if (bad || prefilter_gate_count(g) == 0 || prefilter_gate_finish(g) < 0) {
        prefilter_gate_free(g);
        return NULL;
    }
    return g;
}

static struct config *load(const char *path, const char *text, struct diag_list *dl)
{
    struct diag_list local;
    diag_init(&local);
    if (dl == NULL)
        dl = &local;
    struct load_ctx x;
    memset(&x, 0, sizeof x);
    x.dl = dl;
    x.dl_start = dl->n;
    x.cfg = calloc(1, sizeof *x.cfg);
    if (x.cfg == NULL) {
        diag_add(dl, "out-of-memory", DIAG_ERROR, "out of memory while loading");
        diag_free(&local);
        return NULL;
    }
    struct config *c = x.cfg;
    c->refs = 1;
    c->path = conf_strdup(&x, path);
    c->socket = conf_strdup(&x, DEFAULT_SOCKET);
    c->mode = MODE_ENFORCE;
    c->on_error = ACTION_TEMPFAIL;
    c->socket_mode = 0660;
    c->syslog_facility = conf_strdup(&x, "mail");
    x.cur_file = path;

    load_file(&x, path, text, NULL, 0);
    conf_check_rule_set(&x);
    for (size_t i = 0; i < c->nrules; i++) {
        /* Only rules that make decisions of their own need the MTA's events;
           rewrite rules act on replies, which come with their own event. */
        if (c->rules[i].has_action && c->rules[i].action != ACTION_REWRITE)
            c->stages_used |= c->rules[i].when.stages;
        /* one bit per header condition, for matching headers as they
           stream past (engine_note_header) instead of keeping them */
        for (size_t h = 0; h < c->rules[i].when.nheaders; h++)
            c->rules[i].when.headers[h].bit = c->nheader_conds++;
    }

    int failed = x.nerr > 0 || conf_new_errors(&x, x.dl_start);
    for (size_t i = 0; i < x.nupstreams; i++)
        free(x.upstreams[i]);
    free(x.upstreams);
    free(x.aux);
    strvec_free(&x.exclude);
    strvec_free(&x.perm_seen);
    diag_free(&local);
    if (failed) {
        conf_free(c);
        return NULL;
    }
    c->index = rule_index_build(c->rules, c->nrules); /* NULL (no memory): engine scans all */
    /* the text literals side by side: the engine's loop skips a rule on
       one AND without touching the rule itself */
    c->text_sigs = calloc(c->nrules ? c->nrules : 1, sizeof *c->text_sigs);
    for (size_t i = 0; c->text_sigs && i < c->nrules; i++)
        pattern_sig(c->rules[i].when.text, &c->text_sigs[i]);
    c->text_gate = build_text_gate(c);
    c->text_gated = prefilter_gate_gated(c->text_gate);
    return c;
}

struct config *conf_load(const char *path, struct diag_list *dl)
{
    if (path == NULL || path[0] == '\0') {
        diag_add(dl, "include-failed", DIAG_ERROR, "no configuration file given");
        return NULL;
    }
    return load(path, NULL, dl);
}

struct config *conf_load_string(const char *text, const char *name, struct diag_list *dl)
{
    if (text == NULL) {
        diag_add(dl, "include-failed", DIAG_ERROR, "no configuration text given");
        return NULL;
    }
    return load(name && name[0] ? name : "<string>", text, dl);
}

struct config *conf_ref(struct config *c)
{
    if (c)
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    return c;
}

void conf_unref(struct config *c)
{
    if (c && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
        conf_free(c);
}
