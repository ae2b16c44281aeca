/*
 * session.c - per-connection state of the daemon (see session.h).
 * Memory: every string field is owned by the session; the config
 * reference is released in session_free.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "session.h"

static atomic_ulong session_counter;

static int rules_need_headers(const struct config *c)
{
    for (size_t i = 0; i < c->nrules; i++)
        if (c->rules[i].when.nheaders > 0)
            return 1;
    return 0;
}

struct session *session_new(SMFICTX *ctx, struct config *cfg)
{
    struct session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->ctx = ctx;
    s->cfg = cfg;
    unsigned long n = atomic_fetch_add(&session_counter, 1) + 1;
    snprintf(s->id, sizeof s->id, "S%lx.%lx", (unsigned long)getpid() & 0xfffff, n);
    decision_init(&s->pending);
    s->need_headers = cfg ? rules_need_headers(cfg) : 0;
    return s;
}

void session_set(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

static void free_headers(struct session *s)
{
    for (size_t i = 0; i < s->nheaders; i++) {
        free(s->hnames[i]);
        free(s->hvalues[i]);
    }
    free(s->hnames);
    free(s->hvalues);
    s->hnames = s->hvalues = NULL;
    s->nheaders = s->header_bytes = 0;
}

void session_reset_message(struct session *s)
{
    session_set(&s->sender, NULL);
    session_set(&s->rcpt, NULL);
    session_set(&s->queue_id, NULL);
    session_set(&s->auth_login, NULL);
    s->msg_accepted = 0;
    free_headers(s);
}

void session_free(struct session *s)
{
    if (s == NULL)
        return;
    session_reset_message(s);
    free(s->client_addr);
    free(s->client_name);
    free(s->helo);
    decision_free(&s->pending);
    free(s->pending_original);
    chain_close(s->chain);
    if (s->cfg)
        config_unref(s->cfg);
    free(s);
}

/* Headers beyond the caps are dropped: rules see the first ones only. */
int session_add_header(struct session *s, const char *name, const char *value)
{
    size_t len = strlen(name) + strlen(value);
    if (s->nheaders >= SESSION_MAX_HEADERS || s->header_bytes + len > SESSION_MAX_HEADER_BYTES)
        return 0;
    char **n = realloc(s->hnames, (s->nheaders + 1) * sizeof *n);
    if (n == NULL)
        return -1;
    s->hnames = n;
    char **v = realloc(s->hvalues, (s->nheaders + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    s->hvalues = v;
    char *dn = strdup(name), *dv = strdup(value);
    if (dn == NULL || dv == NULL) {
        free(dn);
        free(dv);
        return -1;
    }
    s->hnames[s->nheaders] = dn;
    s->hvalues[s->nheaders] = dv;
    s->nheaders++;
    s->header_bytes += len;
    return 0;
}

const char *session_log_id(const struct session *s)
{
    return s->queue_id && *s->queue_id ? s->queue_id : s->id;
}

static const char *macro_lookup(void *ctx, const char *name)
{
    struct session *s = ctx;
    char braced[128];
    const char *v = smfi_getsymval(s->ctx, (char *)name);
    if (v == NULL && name[0] != '{' && strlen(name) > 1 && strlen(name) + 3 < sizeof braced) {
        snprintf(braced, sizeof braced, "{%s}", name);
        v = smfi_getsymval(s->ctx, braced);
    }
    return v;
}

void session_facts(struct session *s, struct session_facts *f)
{
    memset(f, 0, sizeof *f);
    f->client_addr = s->client_addr;
    f->client_name = s->client_name;
    f->helo = s->helo;
    f->sender = s->sender;
    f->rcpt = s->rcpt;
    f->queue_id = s->queue_id;
    f->auth_login = s->auth_login;
    f->macro = macro_lookup;
    f->macro_ctx = s;
    f->header_names = (const char *const *)s->hnames;
    f->header_values = (const char *const *)s->hvalues;
    f->nheaders = s->nheaders;
}
