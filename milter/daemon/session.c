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

struct session *session_new(SMFICTX *ctx, struct config *cfg)
{
    struct session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->ctx = ctx;
    s->cfg = cfg;
    unsigned long n = atomic_fetch_add(&session_counter, 1) + 1;
    snprintf(s->id, sizeof s->id, "S%lx.%lx", (unsigned long)getpid() & 0xfffff, n);
    engine_decision_init(&s->pending);
    if (cfg && cfg->nheader_conds > 0) {
        s->hbits_size = engine_header_bits_size(cfg);
        s->hbits = calloc(1, s->hbits_size);
        if (s->hbits == NULL) {
            free(s);
            return NULL;
        }
    }
    return s;
}

void session_set(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

void session_reset_message(struct session *s)
{
    session_set(&s->sender, NULL);
    session_set(&s->rcpt, NULL);
    session_set(&s->queue_id, NULL);
    session_set(&s->auth_login, NULL);
    s->msg_accepted = 0;
    s->header_failed = 0;
    if (s->hbits)
        memset(s->hbits, 0, s->hbits_size);
}

void session_clear_pending(struct session *s)
{
    engine_decision_free(&s->pending);
    free(s->pending_original);
    s->pending_original = NULL;
    s->pending_source = NULL;
    s->has_pending = 0;
}

void session_free(struct session *s)
{
    if (s == NULL)
        return;
    session_reset_message(s);
    free(s->client_addr);
    free(s->client_name);
    free(s->helo);
    engine_decision_free(&s->pending);
    free(s->pending_original);
    chain_close(s->chain);
    free(s->hbits);
    if (s->cfg)
        conf_unref(s->cfg);
    free(s);
}

/* Every header is matched against the rules' header conditions as it
   arrives and only the outcome is kept (one bit per condition), so a
   message with any number of headers is judged on all of them. */
int session_add_header(struct session *s, const char *name, const char *value)
{
    return engine_note_header(s->cfg, name, value, s->hbits);
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
    f->header_bits = s->hbits;
}
