/*
 * fuzz_reply.c - libFuzzer target: the reply parser and everything a parsed
 * reply goes through on its way to libmilter.
 *
 * Input: arbitrary bytes, read as reply text (up to the first NUL, as the C
 * API sees it).  Per input:
 *   1. reply_parse; on failure the reply is left empty and "unparseable" is
 *      in the diagnostics; on success 1+ lines, code 0 or 200..599, code 0
 *      only with an enhanced code of class 2/4/5;
 *   2. reply_validate in every context (must not crash; every diagnostic
 *      has an id and a message);
 *   3. reply_format, then reply_parse of the wire form gives the same basic
 *      and enhanced code back (the round trip reply.h promises);
 *   4. engine_eval of the parsed reply as a reply event against an empty
 *      rule set and against the shipped conf/milter-reword.conf (every pack), with
 *      hostile session facts (CR/LF, "%", invalid UTF-8, over-long values):
 *      the decision holds every invariant of fuzz_check_decision;
 *   5. sanitize_reply, then the text invariants of fuzz_check_reply (no
 *      CR/LF/controls, <= 980 bytes with "%" doubled, <= 32 lines, the
 *      sanitize_milter_lines escaping); not-for-milter for a 4xx/5xx.
 * Any violation abort()s (see fuzz_common.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

static struct config *empty_cfg, *defaults_cfg;
static char long_helo[1500];

static const char *hostile_macro(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "i") == 0)
        return "QID%n%s\r\n";
    return "macro\r\n550 5.7.1 injected\x1b[31m%%";
}

static const struct session_facts *hostile_facts(void)
{
    static struct session_facts f;
    static const char *const hn[] = { "Subject", "From" };
    static const char *const hv[] = { "hi\r\n550 x", "\xff\xfe <a@b>" };
    if (long_helo[0] == '\0') {
        for (size_t i = 0; i + 1 < sizeof long_helo; i++)
            long_helo[i] = "A%\xc3\xa9-"[i % 4];
        long_helo[sizeof long_helo - 2] = '\xc3';     /* cut UTF-8 sequence at the end */
    }
    f.client_addr = "192.0.2.1";
    f.client_name = "host\xc2\x85name.example";
    f.helo = long_helo;
    f.sender = "a\r\n250 2.0.0 ok\"@example.org";
    f.rcpt = "bob%s%n@\xed\xa0\x80x.example";
    f.queue_id = "4XyZ%";
    f.auth_login = NULL;
    f.macro = hostile_macro;
    f.header_names = hn;
    f.header_values = hv;
    f.nheaders = 2;
    return &f;
}

static struct config *load_or_die(const char *what, struct config *c, struct diag_list *dl)
{
    if (c == NULL) {
        fprintf(stderr, "fuzz_reply: cannot load %s:\n", what);
        for (size_t i = 0; i < dl->n; i++)
            fprintf(stderr, "  %s:%d: %s: %s\n", dl->v[i].file ? dl->v[i].file : "-",
                    dl->v[i].line, dl->v[i].id, dl->v[i].message);
        abort();
    }
    diag_free(dl);
    return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct diag_list dl;
    const char *src = getenv("REWORD_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/conf/milter-reword.conf", src ? src : FUZZ_SRCDIR);
    diag_init(&dl);
    empty_cfg = load_or_die("an empty rule set", conf_load_string("rules = ();", "empty", &dl),
                            &dl);
    diag_init(&dl);
    defaults_cfg = load_or_die(path, conf_load(path, &dl), &dl);
    return 0;
}

static void eval_against(const struct config *c, const struct reply *orig, const char *what)
{
    struct event ev = { .stage = STAGE_COUNT, .source = NULL, .orig = orig,
                        .facts = hostile_facts() };
    struct decision d;
    engine_decision_init(&d);
    int rc = engine_eval(c, &ev, &d);
    fuzz_check_decision(c, &ev, rc, &d, what);
    engine_decision_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    struct reply r;
    struct diag_list dl;
    reply_init(&r);
    diag_init(&dl);

    /* 1. parse */
    int rc = reply_parse(text, &r, &dl);
    FUZZ_CHECK(rc == 0 || rc == -1, "reply_parse returned %d", rc);
    if (rc < 0) {
        FUZZ_CHECK(diag_has(&dl, "unparseable"), "reply_parse failed without \"unparseable\"");
        FUZZ_CHECK(r.lines == NULL && r.nlines == 0 && r.code == 0,
                   "reply_parse failed but left a reply behind");
        goto out;
    }
    REPLY_CHECK(&r, r.lines != NULL && r.nlines >= 1, "parsed reply without lines");
    for (size_t i = 0; i < r.nlines; i++)
        REPLY_CHECK(&r, r.lines[i] != NULL, "parsed line %zu is NULL", i);
    REPLY_CHECK(&r, r.code == 0 || (r.code >= 200 && r.code <= 599), "parsed code %d", r.code);
    REPLY_CHECK(&r, r.code != 0 || r.has_enhanced, "parsed neither basic nor enhanced code");
    if (r.has_enhanced) {
        REPLY_CHECK(&r, r.eclass == 2 || r.eclass == 4 || r.eclass == 5,
                    "parsed enhanced class %d", r.eclass);
        REPLY_CHECK(&r, r.esubject >= 0 && r.esubject <= 999 && r.edetail >= 0
                    && r.edetail <= 999, "parsed enhanced parts %d.%d", r.esubject, r.edetail);
        REPLY_CHECK(&r, memchr(r.enhanced, '\0', sizeof r.enhanced) != NULL,
                    "enhanced code not NUL-terminated");
    }

    /* 2. validate in every context */
    for (int ctx = REPLY_CTX_ANY; ctx <= REPLY_CTX_MILTER; ctx++) {
        struct diag_list v;
        diag_init(&v);
        reply_validate(&r, (enum reply_context)ctx, &v);
        for (size_t i = 0; i < v.n; i++)
            FUZZ_CHECK(v.v[i].id && v.v[i].message, "diagnostic without id or message");
        diag_free(&v);
    }

    /* 3. format and parse again */
    char *wire = reply_format(&r, "\r\n");
    FUZZ_CHECK(wire != NULL, "reply_format failed");
    if (r.code != 0) {
        struct reply r2;
        reply_init(&r2);
        int rc2 = reply_parse(wire, &r2, NULL);
        REPLY_CHECK(&r, rc2 == 0, "the wire form \"%.300s\" does not parse", wire);
        REPLY_CHECK(&r, r2.code == r.code, "round trip: code %d became %d (wire \"%.300s\")",
                    r.code, r2.code, wire);
        REPLY_CHECK(&r, r2.has_enhanced == r.has_enhanced
                    && (!r.has_enhanced || strcmp(r2.enhanced, r.enhanced) == 0),
                    "round trip: enhanced %s became %s (wire \"%.300s\")",
                    r.has_enhanced ? r.enhanced : "(none)",
                    r2.has_enhanced ? r2.enhanced : "(none)", wire);
        reply_free(&r2);
    }
    free(wire);

    /* 4. the engine: no rules, then the shipped defaults */
    eval_against(empty_cfg, &r, "engine(no rules)");
    eval_against(defaults_cfg, &r, "engine(shipped config)");

    /* 5. sanitize for libmilter */
    FUZZ_CHECK(sanitize_reply(&r) == 0, "sanitize_reply failed");
    int cls = r.code / 100;
    fuzz_check_reply(&r, (cls == 4 || cls == 5) ? FUZZ_MILTER : 0, 0, "sanitize_reply");
    /* sanitizing is idempotent on the text */
    struct reply again;
    reply_init(&again);
    again.code = r.code;
    again.lines = calloc(r.nlines, sizeof *again.lines);
    FUZZ_CHECK(again.lines != NULL, "no memory");
    again.nlines = r.nlines;
    for (size_t i = 0; i < r.nlines; i++)
        FUZZ_CHECK((again.lines[i] = strdup(r.lines[i])) != NULL, "no memory");
    FUZZ_CHECK(sanitize_reply(&again) == 0, "sanitize_reply (second time) failed");
    REPLY_CHECK(&r, again.nlines == r.nlines, "sanitize twice: %zu lines became %zu", r.nlines,
                again.nlines);
    for (size_t i = 0; i < r.nlines; i++)
        REPLY_CHECK(&r, strcmp(again.lines[i], r.lines[i]) == 0,
                    "sanitize twice: line %zu changed", i);
    reply_free(&again);
out:
    reply_free(&r);
    diag_free(&dl);
    free(text);
    return 0;
}
