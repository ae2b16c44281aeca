/*
 * pattern.c - compiled PCRE2 patterns for rule conditions.
 *
 * Patterns are compiled once at load time, JIT-compiled when the PCRE2
 * library supports it (silently interpreted otherwise).  A compiled pattern
 * is never modified afterwards: pattern_match uses match data of its own
 * thread and only reads the shared match context, so many threads may
 * match the same pattern at once.  (The per-thread match data, a few dozen
 * bytes, is freed when its thread ends.)
 *
 * Limits: a match that needs more than PATTERN_MATCH_LIMIT backtracking
 * steps (or too deep a recursion) is an error (-1), so a pathological
 * pattern cannot stall a mail session; the caller applies on_error.
 * A subject that is not valid UTF-8 under a (*UTF) pattern does not match.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/prefilter.h"
#include "rules.h"

#define PATTERN_MATCH_LIMIT 1000000u
#define PATTERN_DEPTH_LIMIT 10000u
#define PATTERN_HEAP_LIMIT_KIB 65536u /* interpreter backtracking memory */

struct pattern {
    pcre2_code *code;
    pcre2_match_context *mctx; /* limits; read-only after compile */
    char *src;
    int fast;    /* JIT-compiled and not (*UTF): pcre2_jit_match */
    int has_sig; /* sig holds the literal every match contains */
    int plain;   /* neither UTF nor extended: its literals are bytes */
    struct prefilter_sig sig;
};

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

struct pattern *pattern_compile(const char *src, char *err, size_t errlen, size_t *erroffset)
{
    set_err(err, errlen, "");
    if (erroffset)
        *erroffset = 0;
    if (src == NULL) {
        set_err(err, errlen, "no pattern");
        return NULL;
    }
    struct pattern *p = calloc(1, sizeof *p);
    if (p == NULL || (p->src = strdup(src)) == NULL) {
        set_err(err, errlen, "out of memory");
        free(p);
        return NULL;
    }
    int code;
    PCRE2_SIZE off = 0;
    p->code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (p->code == NULL) {
        PCRE2_UCHAR buf[256];
        if (pcre2_get_error_message(code, buf, sizeof buf) < 0)
            snprintf((char *)buf, sizeof buf, "unknown error %d", code);
        set_err(err, errlen, (const char *)buf);
        if (erroffset)
            *erroffset = off;
        pattern_free(p);
        return NULL;
    }
    /* JIT is an optimisation only: on failure (no JIT support, no
       executable memory) the interpreter is used. */
    int jit = pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE) == 0;
    /* pcre2_jit_match skips pcre2_match's checks and set-up (a third of
       the time of a short match).  It also skips what leading verbs ask
       of pcre2_match ((*UTF) subject checks, (*NOTEMPTY), (*NO_JIT): no
       JIT code at all), so a pattern starting with "(*" keeps the full
       call, as does one without JIT code. */
    size_t jit_size = 0;
    pcre2_pattern_info(p->code, PCRE2_INFO_JITSIZE, &jit_size);
    uint32_t opts = 0;
    pcre2_pattern_info(p->code, PCRE2_INFO_ALLOPTIONS, &opts);
    p->fast = jit && jit_size > 0 && !(opts & PCRE2_UTF) && strncmp(src, "(*", 2) != 0;
    p->plain = !(opts & (PCRE2_EXTENDED | PCRE2_EXTENDED_MORE | PCRE2_UTF | PCRE2_LITERAL));
    p->has_sig =
        !(opts & PCRE2_EXTENDED) && prefilter_pattern_sig(src, (opts & PCRE2_UTF) != 0, &p->sig);
    p->mctx = pcre2_match_context_create(NULL);
    if (p->mctx == NULL) {
        set_err(err, errlen, "out of memory");
        pattern_free(p);
        return NULL;
    }
    pcre2_set_match_limit(p->mctx, PATTERN_MATCH_LIMIT);
    pcre2_set_depth_limit(p->mctx, PATTERN_DEPTH_LIMIT);
    pcre2_set_heap_limit(p->mctx, PATTERN_HEAP_LIMIT_KIB);
    return p;
}

/* Match data of the calling thread, freed when the thread ends (libmilter
   runs one thread per SMTP connection). */
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static __thread pcre2_match_data *thread_md; /* the key's value, without the lookup */

static void md_free(void *md) /* runs in the ending thread itself */
{
    pcre2_match_data_free(md);
    thread_md = NULL;
}

static void md_key_init(void)
{
    pthread_key_create(&md_key, md_free);
}

static pcre2_match_data *thread_match_data(void)
{
    if (thread_md != NULL)
        return thread_md;
    pthread_once(&md_once, md_key_init);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (md != NULL && pthread_setspecific(md_key, md) != 0) {
        pcre2_match_data_free(md);
        md = NULL;
    }
    return thread_md = md;
}

int pattern_sig(const struct pattern *p, struct prefilter_sig *sig)
{
    memset(sig, 0, sizeof *sig);
    if (p == NULL || !p->has_sig)
        return 0;
    *sig = p->sig;
    return 1;
}

int pattern_gate(const struct pattern *p, struct prefilter_gate *g, size_t i)
{
    if (p == NULL || !p->plain || p->has_sig)
        return 0; /* no text condition, UTF/extended, or the literal does it */
    return prefilter_gate_add(g, i, p->src);
}

int pattern_match(const struct pattern *p, const char *subject)
{
    if (p == NULL || subject == NULL)
        return 0;
    /* One ovector pair is enough: only "did it match" is asked.  The match
       data is per thread and reused: no allocation on the hot path. */
    pcre2_match_data *md = thread_match_data();
    if (md == NULL)
        return -1;
    size_t len = strlen(subject);
    int rc = p->fast ? pcre2_jit_match(p->code, (PCRE2_SPTR)subject, len, 0, 0, md, p->mctx)
                     : pcre2_match(p->code, (PCRE2_SPTR)subject, len, 0, 0, md, p->mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) /* 32K JIT stack too small: interpret */
        rc = pcre2_match(p->code, (PCRE2_SPTR)subject, len, 0, PCRE2_NO_JIT, md, p->mctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
        return 0;
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
        return 0; /* invalid UTF-8 subject: no match */
    return -1;
}

const char *pattern_source(const struct pattern *p)
{
    return p ? p->src : NULL;
}

void pattern_free(struct pattern *p)
{
    if (p == NULL)
        return;
    pcre2_code_free(p->code);
    pcre2_match_context_free(p->mctx);
    free(p->src);
    free(p);
}
