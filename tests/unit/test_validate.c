/*
 * test_validate.c - unit tests of reply_validate (milter/core/reply/reply_validate.c):
 * every diagnostic id with its severity, the context rules (greeting, HELO,
 * milter), the messages naming the values involved, clean replies that must
 * pass, and structs built by hand with impossible values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "reply.h"

/* ---- helpers ---- */

/* Parses in (must succeed) and validates it in ctx into dl. */
static void validate_text(const char *in, enum reply_context ctx, struct diag_list *dl)
{
    struct reply r;
    reply_init(&r);
    diag_init(dl);
    if (reply_parse(in, &r, NULL) != 0)
        fail_msg("parse failed: %s", in);
    reply_validate(&r, ctx, dl);
    reply_free(&r);
}


static size_t count_id(const struct diag_list *dl, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < dl->n; i++)
        n += strcmp(dl->v[i].id, id) == 0;
    return n;
}

static void dump(const struct diag_list *dl)
{
    for (size_t i = 0; i < dl->n; i++)
        print_message("  %s %s: %s\n", diag_severity_name(dl->v[i].severity), dl->v[i].id,
                      dl->v[i].message);
}

struct vcase {
    const char *in;
    enum reply_context ctx;
    const char *id;
    enum diag_severity sev;
    const char *needle1, *needle2;   /* must appear in the message (may be NULL) */
};

/* Each case must produce the id with the severity and a message naming values. */
static const struct vcase positives[] = {
    { "570 5.0.0 x", REPLY_CTX_ANY, "bad-basic-code", DIAG_ERROR, "570", NULL },
    { "170 x", REPLY_CTX_ANY, NULL, DIAG_ERROR, NULL, NULL },   /* not parseable: skipped */
    { "560 5.0.0 x", REPLY_CTX_ANY, "bad-basic-code", DIAG_ERROR, "560", NULL },
    { "599 5.0.0 x", REPLY_CTX_ANY, "bad-basic-code", DIAG_ERROR, "599", NULL },
    { "558 5.0.0 x", REPLY_CTX_ANY, "unknown-basic-code", DIAG_WARNING, "558", NULL },
    { "520 5.0.0 x", REPLY_CTX_ANY, "unknown-basic-code", DIAG_WARNING, "520", NULL },
    { "550 5.01.1 x", REPLY_CTX_ANY, "leading-zero", DIAG_ERROR, "5.01.1", "5.1.1" },
    { "550 5.1.01 x", REPLY_CTX_ANY, "leading-zero", DIAG_ERROR, "5.1.01", NULL },
    { "550 4.7.1 x", REPLY_CTX_ANY, "class-mismatch", DIAG_ERROR,
      "basic code 550 is class 5 but enhanced code 4.7.1 is class 4; Postfix would cut the "
      "milter off", NULL },
    { "451 5.7.1 x", REPLY_CTX_MILTER, "class-mismatch", DIAG_ERROR, "451", "5.7.1" },
    { "250 5.0.0 x", REPLY_CTX_ANY, "class-mismatch", DIAG_ERROR, "250", "5.0.0" },
    { "550 5.7.57 x", REPLY_CTX_ANY, "unregistered-code", DIAG_WARNING, "5.7.57", "X.7.30" },
    { "550 5.7.139 x", REPLY_CTX_ANY, "unregistered-code", DIAG_WARNING, "5.7.139", NULL },
    { "550 5.1.11 x", REPLY_CTX_ANY, "unregistered-code", DIAG_WARNING, "5.1.11", "X.1.10" },
    { "550 5.8.1 x", REPLY_CTX_ANY, "unregistered-code", DIAG_WARNING, "5.8.1", NULL },
    { "550 5.0.1 x", REPLY_CTX_ANY, "unregistered-code", DIAG_WARNING, "5.0.1", NULL },
    { "554 5.6.10 x", REPLY_CTX_ANY, "deprecated-code", DIAG_WARNING, "5.6.10", "5.6.8" },
    { "554 5.1.1 no such user", REPLY_CTX_ANY, "unusual-pairing", DIAG_WARNING,
      "5.1.1 is registered with 451, 550; this reply uses 554", NULL },
    { "550 5.2.2 mailbox full", REPLY_CTX_ANY, "unusual-pairing", DIAG_WARNING, "552", "550" },
    { "354 2.0.0 go ahead", REPLY_CTX_ANY, "enhanced-on-3xx", DIAG_ERROR, "354", NULL },
    { "334 2.0.0 VXNlcm5hbWU6", REPLY_CTX_ANY, "enhanced-on-3xx", DIAG_ERROR, "334", "2.0.0" },
    { "220 2.0.0 mx.example.com ESMTP", REPLY_CTX_GREETING, "enhanced-on-greeting",
      DIAG_WARNING, "2.0.0", NULL },
    { "250 2.0.0 mx.example.com", REPLY_CTX_HELO, "enhanced-on-greeting", DIAG_WARNING,
      "HELO", NULL },
    { "452 4.2.2 Mailbox full", REPLY_CTX_ANY, "unusual-pairing", DIAG_WARNING, "552", "452" },
    { "554 5.7.1 Relay access denied", REPLY_CTX_ANY, "unusual-pairing", DIAG_WARNING,
      "451, 454, 502, 503, 533, 550, 551", "554" },
    { "550 5.1.10 RESOLVER.ADR.RecipientNotFound", REPLY_CTX_ANY, "unusual-pairing",
      DIAG_WARNING, "556", "550" },
    { "550 relay not permitted", REPLY_CTX_ANY, "no-enhanced-code", DIAG_INFO, "550", NULL },
    { "221 Bye", REPLY_CTX_ANY, "no-enhanced-code", DIAG_INFO, "221", NULL },
    { "451 try later", REPLY_CTX_MILTER, "no-enhanced-code", DIAG_INFO, "451", NULL },
    { "550 5.7.1 100% sure", REPLY_CTX_ANY, "bare-percent", DIAG_INFO, "line 1", NULL },
    { "250 2.0.0 Ok", REPLY_CTX_MILTER, "not-for-milter", DIAG_ERROR, "250", NULL },
    { "354 go ahead", REPLY_CTX_MILTER, "not-for-milter", DIAG_ERROR, "354", NULL },
    { "5.1.1 user unknown", REPLY_CTX_MILTER, "not-for-milter", DIAG_ERROR, NULL, NULL },
    { "550 5.7.1 bell \a here", REPLY_CTX_ANY, "control-char", DIAG_WARNING, "0x07", NULL },
    { "550 5.7.1 tab\there", REPLY_CTX_ANY, "control-char", DIAG_WARNING, "0x09", NULL },
    { "550 5.7.1 del \x7f here", REPLY_CTX_ANY, "control-char", DIAG_WARNING, "0x7f", NULL },
};

static void test_positives(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof positives / sizeof positives[0]; i++) {
        const struct vcase *c = &positives[i];
        if (c->id == NULL)
            continue;
        struct diag_list dl;
        validate_text(c->in, c->ctx, &dl);
        const struct diag *d = unit_find_diag(&dl, c->id);
        if (d == NULL) {
            dump(&dl);
            fail_msg("no %s for '%s'", c->id, c->in);
        }
        if (d->severity != c->sev)
            fail_msg("%s for '%s' is %s", c->id, c->in, diag_severity_name(d->severity));
        if (c->needle1 && strstr(d->message, c->needle1) == NULL)
            fail_msg("message '%s' lacks '%s'", d->message, c->needle1);
        if (c->needle2 && strstr(d->message, c->needle2) == NULL)
            fail_msg("message '%s' lacks '%s'", d->message, c->needle2);
        assert_null(strchr(d->message, '\n'));
        assert_int_equal(count_id(&dl, c->id), 1);
        diag_free(&dl);
    }
}

/* Replies that must pass without any error or warning in the given context. */
static void test_clean(void **state)
{
    (void)state;
    const struct { const char *in; enum reply_context ctx; } ok[] = {
        { "550 5.7.1 Command rejected", REPLY_CTX_MILTER },
        { "451 4.7.1 Service unavailable - try again later", REPLY_CTX_MILTER },
        { "550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.1 c", REPLY_CTX_MILTER },
        { "550 5.1.1 <x@example.org>: Recipient address rejected: User unknown",
          REPLY_CTX_ANY },
        { "552 5.2.2 Mailbox full", REPLY_CTX_ANY },
        { "250 2.1.5 Ok", REPLY_CTX_ANY },
        { "221 2.0.0 Bye", REPLY_CTX_ANY },
        { "354 End data with <CR><LF>.<CR><LF>", REPLY_CTX_ANY },
        { "220 mx.example.com ESMTP Postfix", REPLY_CTX_GREETING },
        { "250 mx.example.com", REPLY_CTX_HELO },
        { "550 5.7.1 50% off", REPLY_CTX_MILTER },     /* escaped at the edge */
        { "550 5.7.1 100%% sure", REPLY_CTX_ANY },     /* a pair is not bare */
        { "421 4.3.0 Too many connections", REPLY_CTX_MILTER },
        { "554 5.7.8 Authentication credentials invalid", REPLY_CTX_MILTER },
        { "550 5.7.26 Unauthenticated email is not accepted", REPLY_CTX_MILTER },
        { "556 5.1.10 Recipient address has null MX", REPLY_CTX_ANY },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct diag_list dl;
        validate_text(ok[i].in, ok[i].ctx, &dl);
        if (diag_count(&dl, DIAG_ERROR) || diag_count(&dl, DIAG_WARNING)) {
            dump(&dl);
            fail_msg("'%s' is not clean", ok[i].in);
        }
        diag_free(&dl);
    }
    /* greeting/HELO: no no-enhanced-code; 3xx: none either */
    const struct { const char *in; enum reply_context ctx; } quiet[] = {
        { "220 mx.example.com ESMTP", REPLY_CTX_GREETING },
        { "250 mx.example.com", REPLY_CTX_HELO },
        { "354 go ahead", REPLY_CTX_ANY },
        { "550 5.7.1 Command rejected", REPLY_CTX_MILTER },
    };
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
        struct diag_list dl;
        validate_text(quiet[i].in, quiet[i].ctx, &dl);
        if (dl.n != 0) {
            dump(&dl);
            fail_msg("'%s' has diagnostics", quiet[i].in);
        }
        diag_free(&dl);
    }
}

/* Things that must NOT be reported. */
static void test_negatives(void **state)
{
    (void)state;
    struct diag_list dl;
    /* bare-percent never in milter context */
    validate_text("550 5.7.1 100% sure", REPLY_CTX_MILTER, &dl);
    assert_false(diag_has(&dl, "bare-percent"));
    diag_free(&dl);
    /* not-for-milter only in milter context */
    validate_text("250 2.0.0 Ok", REPLY_CTX_ANY, &dl);
    assert_false(diag_has(&dl, "not-for-milter"));
    diag_free(&dl);
    /* enhanced-on-greeting only in greeting/HELO context */
    validate_text("220 2.0.0 ready", REPLY_CTX_ANY, &dl);
    assert_false(diag_has(&dl, "enhanced-on-greeting"));
    diag_free(&dl);
    /* unusual-pairing only for TAX_PAIR_UNUSUAL: listed, Any, unspecified */
    const char *listed[] = { "550 5.1.1 x", "451 4.1.1 x", "550 5.7.1 x", "450 4.2.4 x",
                             "552 5.2.2 x", "554 5.0.0 x", "550 5.0.0 x", "221 2.0.0 x" };
    for (size_t i = 0; i < sizeof listed / sizeof listed[0]; i++) {
        validate_text(listed[i], REPLY_CTX_ANY, &dl);
        if (diag_has(&dl, "unusual-pairing")) {
            dump(&dl);
            fail_msg("unusual-pairing for %s", listed[i]);
        }
        diag_free(&dl);
    }
    /* class-mismatch is not doubled by unusual-pairing, and 3xx only says enhanced-on-3xx */
    validate_text("550 4.2.2 x", REPLY_CTX_ANY, &dl);
    assert_true(diag_has(&dl, "class-mismatch"));
    assert_false(diag_has(&dl, "unusual-pairing"));
    diag_free(&dl);
    validate_text("354 5.0.0 x", REPLY_CTX_ANY, &dl);
    assert_true(diag_has(&dl, "enhanced-on-3xx"));
    assert_false(diag_has(&dl, "class-mismatch"));
    diag_free(&dl);
    /* a registered code is not unregistered; X.7.30 is the newest */
    validate_text("550 5.7.30 x", REPLY_CTX_ANY, &dl);
    assert_false(diag_has(&dl, "unregistered-code"));
    diag_free(&dl);
    validate_text("554 5.6.8 x", REPLY_CTX_ANY, &dl);
    assert_false(diag_has(&dl, "deprecated-code"));
    diag_free(&dl);
    /* known basic codes */
    const char *known[] = { "211 x", "214 x", "235 2.7.0 x", "432 4.7.12 x", "454 4.7.0 x",
                            "521 5.3.2 x", "530 5.7.0 x", "556 5.1.10 x", "459 x" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        validate_text(known[i], REPLY_CTX_ANY, &dl);
        if (diag_has(&dl, "unknown-basic-code") || diag_has(&dl, "bad-basic-code")) {
            dump(&dl);
            fail_msg("%s flagged", known[i]);
        }
        diag_free(&dl);
    }
}

/* ---- limits on lines ---- */

static void test_line_limits(void **state)
{
    (void)state;
    struct reply r;
    struct diag_list dl;
    reply_init(&r);
    char line[1200];

    /* 966 plain characters: fine (980 with "550-5.7.1 "... on the wire); 967: too long */
    memset(line, 'a', REPLY_MAX_LINE_LEN);
    line[REPLY_MAX_LINE_LEN] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", line), 0);
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_MILTER, &dl);
    assert_false(diag_has(&dl, "line-too-long"));
    diag_free(&dl);
    line[REPLY_MAX_LINE_LEN] = 'a';
    line[REPLY_MAX_LINE_LEN + 1] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", line), 0);
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_ANY, &dl);
    const struct diag *d = unit_find_diag(&dl, "line-too-long");
    assert_non_null(d);
    assert_int_equal(d->severity, DIAG_ERROR);
    assert_non_null(strstr(d->message, "967"));
    assert_non_null(strstr(d->message, "966"));
    assert_non_null(strstr(d->message, "980"));
    diag_free(&dl);

    /* 500 percent signs are 1000 once escaped */
    memset(line, '%', 500);
    line[500] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", line), 0);
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_MILTER, &dl);
    assert_true(diag_has(&dl, "line-too-long"));
    assert_false(diag_has(&dl, "bare-percent"));
    diag_free(&dl);

    /* 32 lines fine, 33 too many */
    char text[33 * 3 + 1];
    size_t o = 0;
    for (int i = 0; i < 33; i++) {
        text[o++] = 'x';
        text[o++] = (char)('a' + i % 26);
        text[o++] = '\n';
    }
    text[o - 1] = '\0';   /* 33 lines */
    assert_int_equal(reply_set(&r, 550, "5.7.1", text), 0);
    assert_int_equal(r.nlines, 33);
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_MILTER, &dl);
    d = unit_find_diag(&dl, "too-many-lines");
    assert_non_null(d);
    assert_int_equal(d->severity, DIAG_ERROR);
    assert_non_null(strstr(d->message, "33"));
    assert_non_null(strstr(d->message, "32"));
    diag_free(&dl);
    text[o - 4] = '\0';   /* 32 lines */
    assert_int_equal(reply_set(&r, 550, "5.7.1", text), 0);
    assert_int_equal(r.nlines, 32);
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_MILTER, &dl);
    assert_false(diag_has(&dl, "too-many-lines"));
    diag_free(&dl);

    /* CR or LF inside a line */
    assert_int_equal(reply_set(&r, 550, "5.7.1", "ok\r250 injected"), 0);
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_MILTER, &dl);
    d = unit_find_diag(&dl, "crlf-in-text");
    assert_non_null(d);
    assert_int_equal(d->severity, DIAG_ERROR);
    assert_false(diag_has(&dl, "control-char"));   /* CR is reported once, as crlf */
    diag_free(&dl);
    free(r.lines[0]);
    r.lines[0] = strdup("a\nb");
    assert_non_null(r.lines[0]);
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_ANY, &dl);
    assert_true(diag_has(&dl, "crlf-in-text"));
    diag_free(&dl);

    /* many bad lines give one diagnostic per rule */
    char many[40 * 4 + 1];
    o = 0;
    for (int i = 0; i < 40; i++) {
        many[o++] = '\a';
        many[o++] = '%';
        many[o++] = 'x';
        many[o++] = '\n';
    }
    many[o - 1] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", many), 0);
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_ANY, &dl);
    assert_int_equal(count_id(&dl, "control-char"), 1);
    assert_int_equal(count_id(&dl, "bare-percent"), 1);
    assert_int_equal(count_id(&dl, "too-many-lines"), 1);
    assert_non_null(strstr(unit_find_diag(&dl, "control-char")->message, "40 lines"));
    diag_free(&dl);
    reply_free(&r);
}

/* ---- structs built by hand ---- */

static void test_hand_built(void **state)
{
    (void)state;
    struct reply r;
    struct diag_list dl;
    char *lines[] = { (char *)"text", NULL };

    /* has_enhanced with a class the parser never produces */
    reply_init(&r);
    r.code = 550;
    r.has_enhanced = 1;
    r.eclass = 3;
    r.esubject = 1;
    r.edetail = 1;
    strcpy(r.enhanced, "3.1.1");
    r.lines = lines;
    r.nlines = 1;
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_MILTER, &dl);
    const struct diag *d = unit_find_diag(&dl, "bad-enhanced-code");
    assert_non_null(d);
    assert_int_equal(d->severity, DIAG_ERROR);
    assert_non_null(strstr(d->message, "3.1.1"));
    assert_false(diag_has(&dl, "class-mismatch"));
    diag_free(&dl);

    /* string and numbers disagree, too long parts, empty string, no terminator */
    const char *bad[] = { "5.7.2", "5.1234.1", "", "5.7.1.1", "5.7", "x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r.eclass = 5;
        r.esubject = 7;
        r.edetail = 1;
        strcpy(r.enhanced, bad[i]);
        diag_init(&dl);
        reply_validate(&r, REPLY_CTX_ANY, &dl);
        if (!diag_has(&dl, "bad-enhanced-code"))
            fail_msg("'%s' not flagged", bad[i]);
        diag_free(&dl);
    }
    memset(r.enhanced, '5', sizeof r.enhanced);   /* not NUL-terminated */
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_ANY, &dl);
    assert_true(diag_has(&dl, "bad-enhanced-code"));
    diag_free(&dl);

    /* odd basic codes */
    const int codes[] = { 0, -5, 99, 1000, 12345, 199, 600, 999 };
    r.has_enhanced = 0;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        r.code = codes[i];
        diag_init(&dl);
        reply_validate(&r, REPLY_CTX_MILTER, &dl);
        assert_true(diag_has(&dl, "not-for-milter"));
        if (codes[i] != 0)
            assert_true(diag_has(&dl, "bad-basic-code"));
        else
            assert_false(diag_has(&dl, "bad-basic-code"));
        assert_false(diag_has(&dl, "unknown-basic-code"));
        diag_free(&dl);
    }

    /* no lines, NULL lines, NULL arguments */
    r.code = 550;
    r.lines = NULL;
    r.nlines = 5;
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_MILTER, &dl);
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
    diag_free(&dl);
    char *holes[] = { NULL, (char *)"x", NULL };
    r.lines = holes;
    r.nlines = 3;
    diag_init(&dl);
    reply_validate(&r, REPLY_CTX_MILTER, &dl);
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
    reply_validate(NULL, REPLY_CTX_ANY, &dl);
    reply_validate(&r, REPLY_CTX_ANY, NULL);
    diag_free(&dl);
}

/* Every message is one sentence: no newline, no trailing period, starts lower-case. */
static void test_message_style(void **state)
{
    (void)state;
    const char *in[] = { "570 5.0.0 x", "550 4.7.1 x", "554 5.1.1 x", "550 5.7.57 x",
                         "554 5.6.10 x", "354 2.0.0 x", "550 x", "550 5.7.1 50%" };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct diag_list dl;
        validate_text(in[i], REPLY_CTX_ANY, &dl);
        assert_true(dl.n > 0);
        for (size_t k = 0; k < dl.n; k++) {
            const char *m = dl.v[k].message;
            size_t len = strlen(m);
            assert_true(len > 10);
            assert_null(strchr(m, '\n'));
            assert_true(m[len - 1] != '.');
        }
        diag_free(&dl);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positives),
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_negatives),
        cmocka_unit_test(test_line_limits),
        cmocka_unit_test(test_hand_built),
        cmocka_unit_test(test_message_style),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
