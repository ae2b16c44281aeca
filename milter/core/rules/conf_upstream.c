/*
 * conf_upstream.c - reads the `upstreams` list of the main rule file: the
 * milters proxy mode drives, in chain order.
 *
 *   upstreams = ( { name = "opendkim"; socket = "inet:8891@127.0.0.1";
 *                   connect_timeout = 5; timeout = 30; on_failure = "tempfail"; } );
 *
 * A list of plain names (`upstreams = [ "spamd" ]`) is still accepted: it
 * declares sources that rules may name without starting proxy mode (for
 * replies reported some other way), which is what earlier versions did.
 * Every name also goes to the loader's list for the unknown-source check.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/conf_int.h"

static const char *const upstream_keys[] = {"name",    "socket",     "connect_timeout",
                                            "timeout", "on_failure", NULL};

static void remember_name(struct load_ctx *x, const char *name)
{
    char **nv = realloc(x->upstreams, (x->nupstreams + 1) * sizeof *nv);
    char *d = name ? strdup(name) : NULL;
    if (nv)
        x->upstreams = nv;
    if (nv && d)
        x->upstreams[x->nupstreams++] = d;
    else
        free(d);
}

static int name_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
              || c == '_' || c == '.'))
            return 0;
    }
    return strcmp(v, "self") != 0 && strcmp(v, "mta") != 0 && strcmp(v, "any") != 0;
}

/* unix:/path, local:/path, inet:PORT@HOST, inet6:PORT@HOST (numeric port). */
static int socket_ok(const char *v)
{
    if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0)
        return strchr(v, ':')[1] == '/';
    const char *p = NULL;
    if (strncmp(v, "inet:", 5) == 0)
        p = v + 5;
    else if (strncmp(v, "inet6:", 6) == 0)
        p = v + 6;
    if (p == NULL)
        return 0;
    char *end;
    long port = strtol(p, &end, 10);
    return end != p && *end == '@' && end[1] != '\0' && port > 0 && port < 65536;
}

static int read_seconds(struct load_ctx *x, const config_setting_t *g, const char *key,
                        const char *label, int *out)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    if (s == NULL)
        return 0;
    int t = config_setting_type(s);
    long long v =
        (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) ? config_setting_get_int64(s) : -1;
    if (v < 1 || v > 3600) {
        conf_diag(x, conf_file(x, s), conf_line(s), "bad-type", DIAG_ERROR,
                  "upstream %s: %s must be a number of seconds from 1 to 3600", label, key);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static void read_on_failure(struct load_ctx *x, const config_setting_t *g, const char *label,
                            struct upstream_conf *u)
{
    const config_setting_t *s = config_setting_get_member(g, "on_failure");
    if (s == NULL)
        return;
    const char *v = conf_string(x, s, "on_failure");
    int a = v ? names_action_lookup(v) : -1;
    if (a == ACTION_TEMPFAIL || a == ACTION_REJECT || a == ACTION_ACCEPT)
        u->on_failure = (enum action)a;
    else if (v)
        conf_diag(x, conf_file(x, s), conf_line(s), "unknown-action", DIAG_ERROR,
                  "upstream %s: on_failure must be tempfail, reject or accept, not \"%.40s\"",
                  label, v);
}

static int is_duplicate(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nupstreams; i++)
        if (strcmp(c->upstreams[i].name, name) == 0)
            return 1;
    return 0;
}

/* One { name = ...; socket = ...; } group: appended to cfg->upstreams. */
static void read_one(struct load_ctx *x, const config_setting_t *g, size_t *cap)
{
    struct config *c = x->cfg;
    const char *file = conf_file(x, g);
    int line = conf_line(g);
    conf_check_keys(x, g, upstream_keys, "upstream", DIAG_ERROR);
    const char *name = NULL, *sock = NULL;
    config_setting_lookup_string(g, "name", &name);
    config_setting_lookup_string(g, "socket", &sock);
    if (name == NULL || !name_ok(name)) {
        conf_diag(x, file, line, "missing-name", DIAG_ERROR,
                  "an upstream needs a name of letters, digits, '-', '_' or '.' (at most 64), "
                  "other than self, mta and any");
        return;
    }
    remember_name(x, name);
    if (is_duplicate(c, name)) {
        conf_diag(x, file, line, "duplicate-rule", DIAG_ERROR, "upstream %s is listed twice", name);
        return;
    }
    if (sock == NULL || !socket_ok(sock)) {
        conf_diag(x, file, line, "bad-type", DIAG_ERROR,
                  "upstream %s: socket must be unix:PATH, inet:PORT@HOST or inet6:PORT@HOST%s",
                  name, sock ? "" : " (missing)");
        return;
    }
    if (c->nupstreams >= UPSTREAMS_MAX) {
        conf_diag(x, file, line, "bad-type", DIAG_ERROR, "upstream %s: at most %d upstreams", name,
                  UPSTREAMS_MAX);
        return;
    }
    struct upstream_conf u = {
        .connect_timeout = UPSTREAM_DEFAULT_CONNECT_TIMEOUT,
        .timeout = UPSTREAM_DEFAULT_TIMEOUT,
        .on_failure = ACTION_TEMPFAIL,
    };
    if (read_seconds(x, g, "connect_timeout", name, &u.connect_timeout) < 0
        || read_seconds(x, g, "timeout", name, &u.timeout) < 0)
        return;
    read_on_failure(x, g, name, &u);
    if (conf_grow(x, (void **)&c->upstreams, cap, c->nupstreams, sizeof *c->upstreams) < 0)
        return;
    u.name = conf_strdup(x, name);
    u.socket = conf_strdup(x, sock);
    c->upstreams[c->nupstreams++] = u;
}

void conf_read_upstreams(struct load_ctx *x, const config_setting_t *u)
{
    if (config_setting_type(u) == CONFIG_TYPE_STRING) {
        remember_name(x, config_setting_get_string(u));
        return;
    }
    if (!config_setting_is_array(u) && !config_setting_is_list(u)) {
        conf_bad_type(x, u, "upstreams", "a list ( { name = ...; socket = ...; }, ... )");
        return;
    }
    size_t cap = 0;
    int n = config_setting_length(u);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(u, (unsigned)i);
        if (config_setting_type(e) == CONFIG_TYPE_STRING)
            remember_name(x, config_setting_get_string(e));
        else if (config_setting_is_group(e))
            read_one(x, e, &cap);
        else
            conf_bad_type(x, e, "an upstream", "a group { name = ...; socket = ...; } or a name");
    }
}

void conf_free_upstreams(struct config *c)
{
    for (size_t i = 0; i < c->nupstreams; i++) {
        free(c->upstreams[i].name);
        free(c->upstreams[i].socket);
    }
    free(c->upstreams);
    c->upstreams = NULL;
    c->nupstreams = 0;
}
