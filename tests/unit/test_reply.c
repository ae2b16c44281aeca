/*
 * test_reply.c - unit tests of the reply model's parser, builder and
 * formatter (milter/core/reply/reply.c): real-world replies from Postfix, sendmail,
 * Exim, Exchange, Gmail, Yahoo and Microsoft 365, bounce wrappers, multi-line
 * and flattened replies, syntax diagnostics, the parse -> format -> parse
 * round trip, and hostile input that must not crash or leak.
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

struct pcase {
    const char *in;
    int code;
    const char *enhanced;    /* NULL: none */
    size_t nlines;
    const char *first;       /* text of line 1 */
    const char *last;        /* text of the last line (NULL: same check skipped) */
};

static void expect_parse(const struct pcase *c)
{
    struct reply r;
    struct diag_list dl;
    reply_init(&r);
    diag_init(&dl);
    int rc = reply_parse(c->in, &r, &dl);
    if (rc != 0)
        fail_msg("parse failed: %s", c->in);
    if (r.code != c->code)
        fail_msg("code %d != %d for %s", r.code, c->code, c->in);
    if (c->enhanced) {
        if (!r.has_enhanced || strcmp(r.enhanced, c->enhanced) != 0)
            fail_msg("enhanced '%s' != '%s' for %s", r.has_enhanced ? r.enhanced : "(none)",
                     c->enhanced, c->in);
    } else if (r.has_enhanced) {
        fail_msg("unexpected enhanced %s for %s", r.enhanced, c->in);
    }
    if (r.nlines != c->nlines)
        fail_msg("nlines %zu != %zu for %s", r.nlines, c->nlines, c->in);
    assert_string_equal(r.lines[0], c->first);
    if (c->last)
        assert_string_equal(r.lines[r.nlines - 1], c->last);
    reply_free(&r);
    diag_free(&dl);
}

/* Parses in and returns the diagnostics (caller frees both). */
static int parse_diag(const char *in, struct reply *r, struct diag_list *dl)
{
    reply_init(r);
    diag_init(dl);
    return reply_parse(in, r, dl);
}


/* ---- the real-world corpus ---- */

static const struct pcase corpus[] = {
    { "550 5.7.1 Command rejected", 550, "5.7.1", 1, "Command rejected", NULL },
    { "451 4.7.1 Service unavailable - try again later", 451, "4.7.1", 1,
      "Service unavailable - try again later", NULL },
    { "550", 550, NULL, 1, "", NULL },
    { "550 relay not permitted", 550, NULL, 1, "relay not permitted", NULL },
    /* qmail's trailer: the code at the end of the last line, text kept */
    { "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)", 553, "5.7.1", 1,
      "sorry, your envelope sender is in my badmailfrom list (#5.7.1)", NULL },
    { "511 sorry, no mailbox here by that name (#5.1.1 - chkuser)", 511, "5.1.1", 1,
      "sorry, no mailbox here by that name (#5.1.1 - chkuser)", NULL },
    { "451-qq temporary problem 451 qq crashed (#4.3.0).", 451, "4.3.0", 2,
      "qq temporary problem", "qq crashed (#4.3.0)." },
    /* not a trailer: other class, text after it, a code already given,
       leading zero, not of the form "(#C.S.D)" or "(#C.S.D - name)" */
    { "550 foo (#4.3.0)", 550, NULL, 1, "foo (#4.3.0)", NULL },
    { "550 foo (#5.1.1) and more", 550, NULL, 1, "foo (#5.1.1) and more", NULL },
    { "550 5.7.1 foo (#5.1.1)", 550, "5.7.1", 1, "foo (#5.1.1)", NULL },
    { "550 foo (#5.01.1)", 550, NULL, 1, "foo (#5.01.1)", NULL },
    { "550 foo (#5.1.1x)", 550, NULL, 1, "foo (#5.1.1x)", NULL },
    { "550 foo (#5.1.1 chkuser)", 550, NULL, 1, "foo (#5.1.1 chkuser)", NULL },
    { "550-5.7.1 a\r\n550 5.7.1 b", 550, "5.7.1", 2, "a", "b" },
    { "550-5.7.1 a\n550 5.7.1 b", 550, "5.7.1", 2, "a", "b" },
    { "550-5.7.1 a\r\n550 5.7.1 b\r\n", 550, "5.7.1", 2, "a", "b" },
    { "550-5.7.1 a 550-5.7.1 b 550 5.7.1 c", 550, "5.7.1", 3, "a", "c" },
    { "550-a 550-b 550 c", 550, NULL, 3, "a", "c" },
    { "  550   5.1.1   <x@example.org>: Recipient address rejected: User unknown in local "
      "recipient table", 550, "5.1.1", 1,
      "<x@example.org>: Recipient address rejected: User unknown in local recipient table",
      NULL },
    { "550\t5.1.1\t user unknown \t\r\n", 550, "5.1.1", 1, "user unknown", NULL },
    { "550 5.1.1 USER UNKNOWN", 550, "5.1.1", 1, "USER UNKNOWN", NULL },
    { "smtp; 550 5.1.1 user unknown", 550, "5.1.1", 1, "user unknown", NULL },
    { "SMTP; 550 5.1.1 user unknown", 550, "5.1.1", 1, "user unknown", NULL },
    { "Diagnostic-Code: smtp; 550 5.1.1 <a@b.example>: Recipient address rejected: "
      "User unknown", 550, "5.1.1", 1,
      "<a@b.example>: Recipient address rejected: User unknown", NULL },
    { "host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@b>: Recipient address rejected: "
      "User unknown (in reply to RCPT TO command)", 550, "5.1.1", 1,
      "<a@b>: Recipient address rejected: User unknown", NULL },
    { "host mx.example.com[203.0.113.5] said: 550 Administrative prohibition (in reply to "
      "RCPT TO command)", 550, NULL, 1, "Administrative prohibition", NULL },
    { "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
      "found by SMTP address lookup'", 550, "5.1.10", 1,
      "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", NULL },
    { "Remote Server returned '< #5.0.0 smtp; 550 5.1.1 <x@y.example>: Recipient address "
      "rejected>'", 550, "5.1.1", 1, "<x@y.example>: Recipient address rejected", NULL },
    { "#550 5.1.1 RESOLVER.ADR.RecipientNotFound; not found ##", 550, "5.1.1", 1,
      "RESOLVER.ADR.RecipientNotFound; not found", NULL },
    { "550 #5.1.0 Address rejected.", 550, "5.1.0", 1, "Address rejected.", NULL },
    { "550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
      "550-5.1.1 double-checking the recipient's email address for typos or\n"
      "550-5.1.1 unnecessary spaces. Learn more at\n"
      "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp",
      550, "5.1.1", 4,
      "The email account that you tried to reach does not exist. Please try",
      "https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp" },
    { "host gmail-smtp-in.l.google.com[142.250.1.26] said: 550-5.1.1 The email account "
      "that you tried to reach does not exist. Please try 550-5.1.1 double-checking the "
      "recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at "
      "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser x-gsmtp - gsmtp (in reply "
      "to RCPT TO command)", 550, "5.1.1", 4,
      "The email account that you tried to reach does not exist. Please try",
      "https://support.google.com/mail/?p=NoSuchUser x-gsmtp - gsmtp" },
    { "Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does\n"
      "    not exist. Please try 550-5.1.1 double-checking the recipient's email\n"
      "    address for typos or 550-5.1.1 unnecessary spaces. For more information, 550\n"
      "    5.1.1 please visit https://support.google.com/mail/?p=NoSuchUser - gsmtp\n"
      "Last-Attempt-Date: Mon, 1 Jan 2024 10:00:00 +0000",
      550, "5.1.1", 4,
      "The email account that you tried to reach does not exist. Please try",
      "please visit https://support.google.com/mail/?p=NoSuchUser - gsmtp" },
    { "421-4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to user "
      "complaints - 4.16.55.1; see https://help.yahoo.com/kb/postmaster", 421, "4.7.0", 1,
      "[TSS04] Messages from 192.0.2.1 temporarily deferred due to user complaints - "
      "4.16.55.1; see https://help.yahoo.com/kb/postmaster", NULL },
    { "554 5.7.1 <unknown[1.2.3.4]>: Client host rejected: Access denied", 554, "5.7.1", 1,
      "<unknown[1.2.3.4]>: Client host rejected: Access denied", NULL },
    { "221 2.0.0 Bye", 221, "2.0.0", 1, "Bye", NULL },
    { "221 Bye", 221, NULL, 1, "Bye", NULL },
    { "250 2.1.5 Ok", 250, "2.1.5", 1, "Ok", NULL },
    { "354 End data with <CR><LF>.<CR><LF>", 354, NULL, 1,
      "End data with <CR><LF>.<CR><LF>", NULL },
    { "550 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM",
      550, "5.7.57", 1,
      "SMTP; Client was not authenticated to send anonymous mail during MAIL FROM", NULL },
    { "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
      535, "5.7.139", 1, "Authentication unsuccessful, the user credentials were incorrect.",
      NULL },
    { "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
      550, "5.1.10", 1,
      "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", NULL },
    { "452 4.2.2 Mailbox full", 452, "4.2.2", 1, "Mailbox full", NULL },
    { "550 Administrative prohibition", 550, NULL, 1, "Administrative prohibition", NULL },
    { "553 5.7.1 <x@y.example>: Sender address rejected: not owned by user bob", 553, "5.7.1",
      1, "<x@y.example>: Sender address rejected: not owned by user bob", NULL },
    { "550 5.7.1 Message rejected as spam by Content Filtering.", 550, "5.7.1", 1,
      "Message rejected as spam by Content Filtering.", NULL },
    { "553 5.7.1 [BL21] Connections will not be accepted from 1.2.3.4, because the ip is in "
      "Spamhaus's list; see https://postmaster.yahooinc.com/error-codes", 553, "5.7.1", 1,
      "[BL21] Connections will not be accepted from 1.2.3.4, because the ip is in "
      "Spamhaus's list; see https://postmaster.yahooinc.com/error-codes", NULL },
    { "554 5.7.9 Message not accepted for policy reasons.  See "
      "https://help.yahoo.com/kb/postmaster/SLN7253.html", 554, "5.7.9", 1,
      "Message not accepted for policy reasons.  See "
      "https://help.yahoo.com/kb/postmaster/SLN7253.html", NULL },
    { "550 5.1.1 <x@y>... User unknown", 550, "5.1.1", 1, "<x@y>... User unknown", NULL },
    { "550 5.7.1 <x@y>... Relaying denied", 550, "5.7.1", 1, "<x@y>... Relaying denied",
      NULL },
    { "550 5.7.606 Access denied, banned sending IP [192.0.2.7]. To request removal from "
      "this list please visit https://sender.office.com/", 550, "5.7.606", 1,
      "Access denied, banned sending IP [192.0.2.7]. To request removal from this list "
      "please visit https://sender.office.com/", NULL },
    { "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", 432, "4.3.2", 1,
      "STOREDRV.ClientSubmit; sender thread limit exceeded", NULL },
    { "SMTP error from remote mail server after RCPT TO:<x@y.example>:\n"
      "  550-Verification failed for <a@b.example>\n"
      "  550-Unrouteable address\n"
      "  550 Sender verify failed\n"
      "\n"
      "------ This is a copy of the message, including all the headers.",
      550, NULL, 3, "Verification failed for <a@b.example>", "Sender verify failed" },
    { "SMTP error from remote mail server after RCPT TO:<x@y.example>: 550 5.1.1 <x@y.example>",
      550, "5.1.1", 1, "<x@y.example>", NULL },
    { "Connection timed out after 300 seconds: 550 5.1.1 nope", 550, "5.1.1", 1, "nope",
      NULL },
    { "550 5.1.1: user unknown", 550, "5.1.1", 1, "user unknown", NULL },
    { "550 5.7.1", 550, "5.7.1", 1, "", NULL },
    { "550-5.7.1 a 550-5.7.1 550 5.7.1 c", 550, "5.7.1", 3, "a", "c" },
    { "550 5.01.1 leading zero", 550, "5.01.1", 1, "leading zero", NULL },
    { "   ----- Transcript of session follows -----\n... while talking to mx.example.com.:\n"
      ">>> RCPT To:<x@y.example>\n<<< 550 5.1.1 <x@y.example>... User unknown", 550, "5.1.1",
      1, "<x@y.example>... User unknown", NULL },
    { "<x@y.example>\n    (reason: 550 5.1.1 User unknown (mailbox))", 550, "5.1.1", 1,
      "User unknown (mailbox)", NULL },
    { "550-5.7.1 first line 550 second line", 550, "5.7.1", 2, "first line", "second line" },
    { "5.1.1 user unknown", 0, "5.1.1", 1, "user unknown", NULL },
};

static void test_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++)
        expect_parse(&corpus[i]);
}

/* The example replies give no error (only the ones meant to). */
static void test_corpus_no_parse_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        struct reply r;
        struct diag_list dl;
        assert_int_equal(parse_diag(corpus[i].in, &r, &dl), 0);
        if (strstr(corpus[i].in, "5.01.1") == NULL && diag_count(&dl, DIAG_ERROR) != 0)
            fail_msg("unexpected error %s for %s", dl.v[0].id, corpus[i].in);
        reply_free(&r);
        diag_free(&dl);
    }
}

static void test_parts_parsed(void **state)
{
    (void)state;
    struct reply r;
    struct diag_list dl;
    assert_int_equal(parse_diag("550 5.7.139 x", &r, &dl), 0);
    assert_int_equal(r.eclass, 5);
    assert_int_equal(r.esubject, 7);
    assert_int_equal(r.edetail, 139);
    reply_free(&r);
    diag_free(&dl);
    assert_int_equal(parse_diag("421 4.7.0 x", &r, &dl), 0);
    assert_int_equal(r.eclass, 4);
    assert_int_equal(r.esubject, 7);
    assert_int_equal(r.edetail, 0);
    assert_int_equal(reply_code_class(r.code), 4);
    reply_free(&r);
    diag_free(&dl);
}

/* ---- diagnostics from the parser ---- */

static void test_unparseable(void **state)
{
    (void)state;
    const char *bad[] = { "", "   ", "hello world", "\x01\x02\xff garbage", "1.2.3.4",
                          "192.0.2.1 said nothing", "600 nope", "55 short", "5500 long",
                          "abc550 glued", "9.1.1 wrong class" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct reply r;
        struct diag_list dl;
        if (parse_diag(bad[i], &r, &dl) != -1)
            fail_msg("parsed: %s", bad[i]);
        assert_true(diag_has(&dl, "unparseable"));
        assert_int_equal(dl.v[0].severity, DIAG_ERROR);
        assert_int_equal(r.nlines, 0);
        assert_null(r.lines);
        reply_free(&r);
        diag_free(&dl);
    }
    struct reply r;
    reply_init(&r);
    assert_int_equal(reply_parse(NULL, &r, NULL), -1);
    assert_int_equal(reply_parse("550 x", NULL, NULL), -1);
    struct diag_list dl;
    diag_init(&dl);
    assert_int_equal(reply_parse(NULL, &r, &dl), -1);
    assert_true(diag_has(&dl, "unparseable"));
    diag_free(&dl);
}

static void test_no_basic_code(void **state)
{
    (void)state;
    struct reply r;
    struct diag_list dl;
    assert_int_equal(parse_diag("5.1.1 user unknown", &r, &dl), 0);
    assert_int_equal(r.code, 0);
    assert_true(r.has_enhanced);
    assert_string_equal(r.enhanced, "5.1.1");
    const struct diag *d = unit_find_diag(&dl, "no-basic-code");
    assert_non_null(d);
    assert_int_equal(d->severity, DIAG_WARNING);
    assert_non_null(strstr(d->message, "5.1.1"));
    reply_free(&r);
    diag_free(&dl);

    /* as Postfix's {rcpt_host}/{rcpt_addr} pair, with a wrapper */
    assert_int_equal(parse_diag("status: 4.2.2 mailbox full", &r, &dl), 0);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.enhanced, "4.2.2");
    assert_string_equal(r.lines[0], "mailbox full");
    reply_free(&r);
    diag_free(&dl);
}

static void test_leading_zero(void **state)
{
    (void)state;
    struct reply r;
    struct diag_list dl;
    assert_int_equal(parse_diag("550 5.01.1 x", &r, &dl), 0);
    assert_true(r.has_enhanced);
    assert_string_equal(r.enhanced, "5.01.1");
    assert_int_equal(r.esubject, 1);
    assert_int_equal(r.edetail, 1);
    const struct diag *d = unit_find_diag(&dl, "leading-zero");
    assert_non_null(d);
    assert_int_equal(d->severity, DIAG_ERROR);
    assert_non_null(strstr(d->message, "5.01.1"));
    /* validating into the same list does not repeat it */
    reply_validate(&r, REPLY_CTX_ANY, &dl);
    size_t n = 0;
    for (size_t i = 0; i < dl.n; i++)
        n += strcmp(dl.v[i].id, "leading-zero") == 0;
    assert_int_equal(n, 1);
    reply_free(&r);
    diag_free(&dl);
}

static void test_bad_enhanced_code(void **state)
{
    (void)state;
    const char *in[] = { "550 1.2.3 class one", "550 5.1234.1 subject too long",
                         "550 5.1.1000 detail too long", "550 55.1.1 class too long",
                         "550 3.1.1 class three" };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct reply r;
        struct diag_list dl;
        assert_int_equal(parse_diag(in[i], &r, &dl), 0);
        assert_int_equal(r.code, 550);
        assert_false(r.has_enhanced);
        const struct diag *d = unit_find_diag(&dl, "bad-enhanced-code");
        if (d == NULL)
            fail_msg("no bad-enhanced-code for %s", in[i]);
        assert_int_equal(d->severity, DIAG_ERROR);
        /* the token stays in the text, so nothing is lost */
        assert_string_equal(r.lines[0], in[i] + 4);
        reply_free(&r);
        diag_free(&dl);
    }
}

static void test_inconsistent_lines(void **state)
{
    (void)state;
    struct reply r;
    struct diag_list dl;
    assert_int_equal(parse_diag("550-5.7.1 a\r\n450 4.7.1 b", &r, &dl), 0);
    assert_int_equal(r.code, 550);
    assert_int_equal(r.nlines, 2);
    const struct diag *d = unit_find_diag(&dl, "inconsistent-lines");
    assert_non_null(d);
    assert_int_equal(d->severity, DIAG_ERROR);
    assert_non_null(strstr(d->message, "450"));
    assert_non_null(strstr(d->message, "550"));
    reply_free(&r);
    diag_free(&dl);
}

static void test_bad_continuation(void **state)
{
    (void)state;
    const char *in[] = { "550 5.7.1 a\n550 5.7.1 b", "550-5.7.1 a", "550-5.7.1 a\n550-5.7.1 b" };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct reply r;
        struct diag_list dl;
        assert_int_equal(parse_diag(in[i], &r, &dl), 0);
        const struct diag *d = unit_find_diag(&dl, "bad-continuation");
        if (d == NULL)
            fail_msg("no bad-continuation for %s", in[i]);
        assert_int_equal(d->severity, DIAG_WARNING);
        assert_false(diag_has(&dl, "inconsistent-lines"));
        reply_free(&r);
        diag_free(&dl);
    }
    /* well-formed multi-line: no diagnostics at all */
    struct reply r;
    struct diag_list dl;
    assert_int_equal(parse_diag("250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME", &r, &dl),
                     0);
    assert_int_equal(dl.n, 0);
    assert_int_equal(r.nlines, 3);
    assert_string_equal(r.lines[1], "PIPELINING");
    reply_free(&r);
    diag_free(&dl);
}

static void test_later_enhanced_codes(void **state)
{
    (void)state;
    struct reply r;
    struct diag_list dl;
    /* equal codes are stripped from later lines, different ones kept as text */
    assert_int_equal(parse_diag("550-5.7.1 a\n550-5.7.1 b\n550 5.1.1 c", &r, &dl), 0);
    assert_int_equal(r.nlines, 3);
    assert_string_equal(r.lines[1], "b");
    assert_string_equal(r.lines[2], "5.1.1 c");
    reply_free(&r);
    diag_free(&dl);
    /* later lines without the enhanced code */
    assert_int_equal(parse_diag("550-5.7.1 a\n550 b", &r, &dl), 0);
    assert_string_equal(r.enhanced, "5.7.1");
    assert_string_equal(r.lines[1], "b");
    reply_free(&r);
    diag_free(&dl);
    /* empty continuation lines */
    assert_int_equal(parse_diag("550-5.7.1\n550-5.7.1 \n550 5.7.1 end", &r, &dl), 0);
    assert_int_equal(r.nlines, 3);
    assert_string_equal(r.lines[0], "");
    assert_string_equal(r.lines[1], "");
    assert_string_equal(r.lines[2], "end");
    reply_free(&r);
    diag_free(&dl);
}

static void test_parse_reuses_reply(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    assert_int_equal(reply_parse("550-5.7.1 a\n550 5.7.1 b", &r, NULL), 0);
    assert_int_equal(reply_parse("221 Bye", &r, NULL), 0);   /* old content freed */
    assert_int_equal(r.code, 221);
    assert_false(r.has_enhanced);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(reply_parse("nothing", &r, NULL), -1);   /* left empty */
    assert_int_equal(r.code, 0);
    assert_int_equal(r.nlines, 0);
    reply_free(&r);
    reply_free(&r);   /* twice is harmless */
    reply_free(NULL);
}

/* ---- reply_set ---- */

static void test_set(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    assert_int_equal(reply_set(&r, 550, "5.7.1", "first\nsecond\nthird"), 0);
    assert_int_equal(r.code, 550);
    assert_true(r.has_enhanced);
    assert_string_equal(r.enhanced, "5.7.1");
    assert_int_equal(r.eclass, 5);
    assert_int_equal(r.esubject, 7);
    assert_int_equal(r.edetail, 1);
    assert_int_equal(r.nlines, 3);
    assert_string_equal(r.lines[2], "third");

    assert_int_equal(reply_set(&r, 451, NULL, "try later"), 0);
    assert_false(r.has_enhanced);
    assert_int_equal(r.nlines, 1);
    assert_string_equal(r.lines[0], "try later");

    assert_int_equal(reply_set(&r, 550, "", NULL), 0);
    assert_false(r.has_enhanced);
    assert_int_equal(r.nlines, 1);
    assert_string_equal(r.lines[0], "");

    assert_int_equal(reply_set(&r, 550, "5.1.1", "a\r\nb\n"), 0);
    assert_int_equal(r.nlines, 2);
    assert_string_equal(r.lines[0], "a");
    assert_string_equal(r.lines[1], "b");

    assert_int_equal(reply_set(&r, 550, "5.7.139", "x"), 0);
    assert_int_equal(r.edetail, 139);
    assert_int_equal(reply_set(&r, 550, "5.01.1", "x"), 0);   /* validate flags it */
    assert_string_equal(r.enhanced, "5.01.1");

    /* malformed enhanced codes: -1 and r unchanged */
    const char *bad[] = { "5.7", "1.2.3", "5.1234.1", "x.y.z", "5.7.1 ", "5.7.1.2", "#5.7.1",
                          "55.1.1", "5..1", "5.1.1x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = reply_set(&r, 550, bad[i], "changed");
        if (strcmp(bad[i], "5.7.1 ") == 0) {   /* surrounding blanks are tolerated */
            assert_int_equal(rc, 0);
            assert_string_equal(r.enhanced, "5.7.1");
            assert_int_equal(reply_set(&r, 550, "5.01.1", "x"), 0);
            continue;
        }
        if (rc != -1)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(r.enhanced, "5.01.1");
        assert_string_equal(r.lines[0], "x");
    }
    assert_int_equal(reply_set(&r, -1, NULL, "x"), -1);
    assert_int_equal(reply_set(&r, 1000, NULL, "x"), -1);
    assert_int_equal(reply_set(NULL, 550, NULL, "x"), -1);
    reply_free(&r);
}

/* ---- reply_format ---- */

static void expect_format(const struct reply *r, const char *eol, const char *want)
{
    char *s = reply_format(r, eol);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void test_format(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    assert_int_equal(reply_set(&r, 550, "5.7.1", "a\nb\nc"), 0);
    expect_format(&r, "\r\n", "550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.1 c");
    expect_format(&r, "\n", "550-5.7.1 a\n550-5.7.1 b\n550 5.7.1 c");
    expect_format(&r, NULL, "550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.1 c");

    assert_int_equal(reply_set(&r, 550, NULL, "relay not permitted"), 0);
    expect_format(&r, "\n", "550 relay not permitted");
    assert_int_equal(reply_set(&r, 550, NULL, "a\nb"), 0);
    expect_format(&r, "\n", "550-a\n550 b");
    assert_int_equal(reply_set(&r, 550, "5.7.1", ""), 0);
    expect_format(&r, "\n", "550 5.7.1");
    assert_int_equal(reply_set(&r, 550, NULL, ""), 0);
    expect_format(&r, "\n", "550");
    assert_int_equal(reply_set(&r, 550, "5.7.1", "\nend"), 0);
    expect_format(&r, "\n", "550-5.7.1\n550 5.7.1 end");
    assert_int_equal(reply_set(&r, 0, NULL, "just text"), 0);
    expect_format(&r, "\n", "just text");
    assert_int_equal(reply_set(&r, 0, "5.1.1", "user unknown"), 0);
    expect_format(&r, "\n", "5.1.1 user unknown");

    /* CR/LF inside a line never makes a second wire line */
    assert_int_equal(reply_set(&r, 550, "5.7.1", "x\r250 ok"), 0);
    expect_format(&r, "\r\n", "550 5.7.1 x 250 ok");

    /* no lines at all reads as one empty line */
    reply_free(&r);
    r.code = 451;
    expect_format(&r, "\n", "451");
    assert_null(reply_format(NULL, "\n"));
    reply_free(&r);
}

/* ---- parse -> format -> parse ---- */

static int same_reply(const struct reply *a, const struct reply *b)
{
    if (a->code != b->code || a->has_enhanced != b->has_enhanced || a->nlines != b->nlines)
        return 0;
    if (a->has_enhanced && (strcmp(a->enhanced, b->enhanced) != 0 || a->eclass != b->eclass
                            || a->esubject != b->esubject || a->edetail != b->edetail))
        return 0;
    for (size_t i = 0; i < a->nlines; i++)
        if (strcmp(a->lines[i], b->lines[i]) != 0)
            return 0;
    return 1;
}

static void round_trip(const char *in)
{
    struct reply a, b;
    reply_init(&a);
    reply_init(&b);
    if (reply_parse(in, &a, NULL) != 0)
        fail_msg("parse failed: %s", in);
    const char *eols[] = { "\r\n", "\n" };
    for (int k = 0; k < 2; k++) {
        char *wire = reply_format(&a, eols[k]);
        assert_non_null(wire);
        struct diag_list dl;
        diag_init(&dl);
        if (reply_parse(wire, &b, &dl) != 0)
            fail_msg("reparse failed: %s", wire);
        if (!same_reply(&a, &b))
            fail_msg("round trip differs: %s -> %s", in, wire);
        /* the formatted form is well-formed multi-line */
        if (diag_has(&dl, "bad-continuation"))
            fail_msg("format gave bad continuation: %s", wire);
        /* formatting is stable */
        char *again = reply_format(&b, eols[k]);
        assert_string_equal(wire, again);
        free(again);
        free(wire);
        diag_free(&dl);
    }
    reply_free(&a);
    reply_free(&b);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++)
        round_trip(corpus[i].in);
    round_trip("550-5.7.1 a\n450 4.7.1 b");
    round_trip("550 1.2.3 bad");
    round_trip("550-5.7.1\n550-5.7.1 \n550 5.7.1 end");
    round_trip("250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME");
}

/* ---- hostile input ---- */

static void test_hostile(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);

    /* one very long line */
    size_t big = 200000;
    char *s = malloc(big + 1);
    assert_non_null(s);
    memcpy(s, "550 5.7.1 ", 10);
    memset(s + 10, 'x', big - 10);
    s[big] = '\0';
    assert_int_equal(reply_parse(s, &r, NULL), 0);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(strlen(r.lines[0]), big - 10);

    /* 5000 lines, flattened and not */
    struct diag_list dl;
    diag_init(&dl);
    size_t cap = 5000 * 16 + 1, o = 0;
    char *m = realloc(s, cap);
    assert_non_null(m);
    s = m;
    for (int i = 0; i < 5000; i++)
        o += (size_t)snprintf(s + o, cap - o, "550%c5.7.1 l%d%s", i == 4999 ? ' ' : '-', i,
                              i == 4999 ? "" : "\n");
    assert_int_equal(reply_parse(s, &r, &dl), 0);
    assert_int_equal(r.nlines, 5000);
    assert_int_equal(dl.n, 0);
    for (size_t i = 0; i < o; i++)
        if (s[i] == '\n')
            s[i] = ' ';
    assert_int_equal(reply_parse(s, &r, &dl), 0);
    assert_int_equal(r.nlines, 5000);
    assert_string_equal(r.lines[4999], "l4999");
    diag_free(&dl);

    /* only codes, only separators, deep wrappers */
    const char *odd[] = { "550-550-550-550 550", "550 550 550", "550-", "550-\n", "550\r\r\r",
                          "550 5.7.1 5.7.1 5.7.1", "#####550#####", "'''550'''",
                          "<<<<550>>>>", "(in reply to 550)", "550 (in reply to RCPT TO command)",
                          "x said: 550 (in reply to", "550-5.7.1 a 550-5.7.1",
                          "550 \xff\xfe\x80 bytes", "\n\n\n550\n\n\n", "5.5.5", "#5.1.1",
                          "550 #", "550 5.", "550 5.1.", "550 5.1.1.", "550 .1.1" };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        diag_init(&dl);
        int rc = reply_parse(odd[i], &r, &dl);
        if (rc == 0) {
            assert_true(r.nlines >= 1);
            for (size_t k = 0; k < r.nlines; k++)
                assert_non_null(r.lines[k]);
            char *w = reply_format(&r, "\n");
            assert_non_null(w);
            free(w);
        }
        diag_free(&dl);
    }

    /* pseudo-random bytes: never a crash (valgrind checks the memory) */
    unsigned int seed = 12345;
    char buf[512];
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(seed % 300);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            static const char alphabet[] = "0123455555.-# \t\r\n;:'<>()said550 4.7.1x\xc3\xa9\xff";
            buf[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        buf[len] = '\0';
        seed = seed * 1103515245u + 12345u;
        diag_init(&dl);
        if (reply_parse(buf, &r, &dl) == 0) {
            assert_true(r.nlines >= 1);
            char *w = reply_format(&r, "\r\n");
            assert_non_null(w);
            free(w);
            reply_validate(&r, REPLY_CTX_ANY, &dl);
        }
        diag_free(&dl);
    }
    free(s);
    reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_corpus_no_parse_errors),
        cmocka_unit_test(test_parts_parsed),
        cmocka_unit_test(test_unparseable),
        cmocka_unit_test(test_no_basic_code),
        cmocka_unit_test(test_leading_zero),
        cmocka_unit_test(test_bad_enhanced_code),
        cmocka_unit_test(test_inconsistent_lines),
        cmocka_unit_test(test_bad_continuation),
        cmocka_unit_test(test_later_enhanced_codes),
        cmocka_unit_test(test_parse_reuses_reply),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_hostile),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
