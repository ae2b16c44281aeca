/*
 * test_defaults.c - the shipped configuration (conf/milter-reword.conf with
 * the rule packs of conf/rules.d): it loads without errors or warnings, and each vague reply real software
 * sends (in that software's exact wording) comes out with the fitting
 * enhanced code, the original basic code, a new text and a reply that is
 * valid for libmilter.
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

#include "engine.h"
#include "explain.h"
#include "reply.h"
#include "rules.h"

#define DEFAULTS TEST_SRCDIR "/conf/milter-reword.conf"

static struct config *cfg;

static int setup(void **state)
{
    (void)state;
    struct diag_list dl;
    diag_init(&dl);
    cfg = conf_load(DEFAULTS, &dl);
    for (size_t i = 0; i < dl.n; i++)
        fprintf(stderr, "%s:%d: %s: %s [%s]\n", dl.v[i].file ? dl.v[i].file : "-", dl.v[i].line,
                diag_severity_name(dl.v[i].severity), dl.v[i].message, dl.v[i].id);
    size_t problems = diag_count(&dl, DIAG_ERROR) + diag_count(&dl, DIAG_WARNING);
    diag_free(&dl);
    return cfg == NULL || problems > 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    conf_unref(cfg);
    return 0;
}

struct expectation {
    const char *software;
    const char *reply;          /* exactly as that software sends it */
    const char *rule;
    const char *enhanced;       /* after the rewrite */
};

static const struct expectation table[] = {
    /* milter defaults */
    { "Postfix/sendmail milter reject", "550 5.7.1 Command rejected", "milter-default-reject", "5.7.1" },
    { "sendmail milter reject at eom", "554 5.7.1 Command rejected", "milter-default-reject", "5.7.1" },
    { "sendmail milter reject at RCPT", "550 5.7.1 <bob@example.org>... Command rejected",
      "milter-default-reject", "5.7.1" },
    { "Postfix milter tempfail", "451 4.7.1 Service unavailable - try again later",
      "milter-default-tempfail", "4.7.1" },
    { "Postfix milter 421 at connect", "421 mx.example.org Service unavailable - try again later",
      "milter-connect-tempfail", "4.3.2" },
    { "sendmail milter tempfail", "451 4.3.2 Please try again later", "sendmail-default-tempfail", "4.3.0" },
    { "sendmail milter tempfail at RCPT", "451 4.3.2 <bob@example.org>... Please try again later",
      "sendmail-default-tempfail", "4.3.0" },
    { "Postfix milter failure", "451 4.3.5 Server configuration problem - try again later",
      "postfix-milter-failure", "4.3.5" },
    /* Postfix smtpd restrictions */
    { "Postfix relay", "554 5.7.1 <bob@example.org>: Relay access denied", "postfix-relay-access-denied", "5.7.1" },
    { "Postfix defer relay", "454 4.7.1 <bob@example.org>: Relay access denied", "postfix-relay-access-denied-temp", "4.7.1" },
    { "Postfix local", "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in local recipient table",
      "postfix-user-unknown", "5.1.1" },
    { "Postfix virtual mailbox", "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
      "postfix-user-unknown", "5.1.1" },
    { "Postfix virtual alias", "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual alias table",
      "postfix-user-unknown", "5.1.1" },
    { "Postfix relay recipients", "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in relay recipient table",
      "postfix-user-unknown", "5.1.1" },
    { "Postfix soft unknown user", "450 4.1.1 <bob@example.org>: Recipient address rejected: User unknown in local recipient table",
      "postfix-user-unknown", "4.1.1" },
    { "Postfix sender domain (temp)", "450 4.1.8 <alice@nx.example>: Sender address rejected: Domain not found",
      "postfix-sender-domain-not-found-temp", "4.1.8" },
    { "Postfix sender domain", "550 5.1.8 <alice@nx.example>: Sender address rejected: Domain not found",
      "postfix-sender-domain-not-found", "5.1.8" },
    { "Postfix recipient domain (temp)", "450 4.1.2 <bob@nx.example>: Recipient address rejected: Domain not found",
      "postfix-recipient-domain-not-found-temp", "4.1.2" },
    { "Postfix recipient domain", "550 5.1.2 <bob@nx.example>: Recipient address rejected: Domain not found",
      "postfix-recipient-domain-not-found", "5.1.2" },
    { "Postfix sender null MX", "550 5.7.27 <alice@example.net>: Sender address rejected: Domain example.net does not accept mail (nullMX)",
      "postfix-sender-null-mx", "5.7.27" },
    { "Postfix recipient null MX", "556 5.1.10 <bob@example.org>: Recipient address rejected: Domain example.org does not accept mail (nullMX)",
      "postfix-recipient-null-mx", "5.1.10" },
    { "Postfix HELO fqdn", "504 5.5.2 <mail>: Helo command rejected: need fully-qualified hostname",
      "postfix-helo-not-fqdn", "5.5.2" },
    { "Postfix HELO invalid", "501 5.5.2 <mail_1>: Helo command rejected: Invalid name",
      "postfix-helo-invalid", "5.5.2" },
    { "Postfix HELO unknown", "450 4.7.1 <mail.example.net>: Helo command rejected: Host not found",
      "postfix-helo-unknown", "4.7.1" },
    { "Postfix 3 unknown client", "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]",
      "postfix-client-no-reverse-dns", "4.7.25" },
    { "Postfix 3 unknown reverse client", "550 5.7.25 Client host rejected: cannot find your reverse hostname, [192.0.2.1]",
      "postfix-client-no-reverse-dns", "5.7.25" },
    { "Postfix 2 unknown client", "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]",
      "postfix-client-no-reverse-dns", "4.7.25" },
    { "Postfix client access", "554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied",
      "postfix-access-denied", "5.7.1" },
    { "Postfix recipient access", "554 5.7.1 <bob@example.org>: Recipient address rejected: Access denied",
      "postfix-access-denied", "5.7.1" },
    { "Postfix sender access", "554 5.7.1 <alice@example.net>: Sender address rejected: Access denied",
      "postfix-access-denied", "5.7.1" },
    { "Postfix DNSBL", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
      "https://www.spamhaus.org/query/ip/192.0.2.1", "postfix-rbl-client", "5.7.1" },
    { "postscreen DNSBL", "550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org",
      "postfix-postscreen-dnsbl", "5.7.1" },
    { "postgrey", "450 4.2.0 <bob@example.org>: Recipient address rejected: Greylisted, see "
      "http://postgrey.schweikert.ch/help/example.org.html", "greylisting-postgrey", "4.7.1" },
    { "milter-greylist", "451 4.7.1 Greylisting in action, please come back later", "greylisting-milter-greylist", "4.7.1" },
    { "Postfix message size", "552 5.3.4 Message size exceeds fixed limit", "postfix-message-size-limit", "5.3.4" },
    { "Postfix queue space", "452 4.3.1 Insufficient system storage", "postfix-insufficient-storage", "4.3.1" },
    { "Postfix anvil connections", "421 4.7.0 mx.example.org Error: too many connections from 192.0.2.1",
      "postfix-anvil-limit", "4.7.0" },
    { "Postfix anvil messages", "450 4.7.1 Error: too much mail from 192.0.2.1", "postfix-anvil-limit", "4.7.0" },
    { "Postfix recipient limit", "452 4.5.3 Error: too many recipients", "postfix-too-many-recipients", "4.5.3" },
    { "Postfix no recipients", "554 5.5.1 Error: no valid recipients", "postfix-no-valid-recipients", "5.5.1" },
    { "Postfix login mismatch", "553 5.7.1 <alice@example.net>: Sender address rejected: not owned by user carol",
      "postfix-sender-not-owned", "5.7.1" },
    { "Postfix not logged in", "553 5.7.1 <alice@example.net>: Sender address rejected: not logged in",
      "postfix-sender-not-logged-in", "5.7.1" },
    { "Postfix non-fqdn sender", "504 5.5.2 <alice>: Sender address rejected: need fully-qualified address",
      "postfix-sender-not-fqdn", "5.1.7" },
    { "Postfix non-fqdn recipient", "504 5.5.2 <bob>: Recipient address rejected: need fully-qualified address",
      "postfix-address-not-fqdn", "5.1.3" },
    /* Exim */
    { "Exim deny", "550 Administrative prohibition", "exim-administrative-prohibition", "5.7.1" },
    { "Exim relay", "550 relay not permitted", "exim-relay-not-permitted", "5.7.1" },
    { "Exim unrouteable", "550 Unrouteable address", "exim-unrouteable-address", "5.1.0" },
    { "Exim sender verify", "550 Sender verify failed", "exim-sender-verify-failed", "5.1.8" },
    { "Exim sender callout", "550-Verification failed for <alice@example.net>\r\n"
      "550-Called:   192.0.2.9\r\n550-Sent:     RCPT TO:<alice@example.net>\r\n"
      "550-Response: 550 No such user here\r\n550 Sender verify failed",
      "exim-sender-verify-failed", "5.1.8" },
    { "Exim connection limit", "421 Too many concurrent SMTP connections; please try again later.",
      "exim-too-many-connections", "4.3.2" },
    { "Exim message size", "552 Message size exceeds maximum permitted", "exim-message-too-big", "5.3.4" },
    { "Exim unknown user", "550 Unknown user", "exim-unknown-user", "5.1.1" },
    /* OpenSMTPD */
    { "OpenSMTPD recipient", "550 Invalid recipient: <bob@example.org>", "opensmtpd-invalid-recipient", "5.1.1" },
    { "OpenSMTPD relaying", "550 Relaying denied", "relay-denied", "5.7.1" },
    { "OpenSMTPD recipients", "452 Too many recipients", "exim-too-many-recipients-temp", "4.5.3" },
    /* sendmail */
    { "sendmail unknown user", "550 5.1.1 <bob@example.org>... User unknown", "sendmail-user-unknown", "5.1.1" },
    { "sendmail relaying", "550 5.7.1 <bob@example.org>... Relaying denied", "sendmail-relaying-denied", "5.7.1" },
    { "sendmail relaying auth", "550 5.7.1 <bob@example.org>... Relaying denied. Proper authentication required.",
      "sendmail-relaying-denied", "5.7.1" },
    { "sendmail recipients", "452 4.5.3 Too many recipients", "sendmail-too-many-recipients", "4.5.3" },
    /* qmail */
    { "qmail", "550 sorry, no mailbox here by that name. (#5.1.1)", "qmail-no-mailbox", "5.1.1" },
    /* bare codes */
    { "bare 421", "421", "bare-421", "4.3.2" },
    { "bare 450", "450", "bare-450", "4.0.0" },
    { "bare 451", "451", "bare-451", "4.3.0" },
    { "bare 452", "452", "bare-452", "4.3.1" },
    { "bare 550", "550", "bare-550", "5.0.0" },
    { "bare 552", "552", "bare-552", "5.2.2" },
    { "bare 553", "553", "bare-553", "5.1.0" },
    { "bare 554", "554", "bare-554", "5.0.0" },
    { "bare code with enhanced", "550 5.1.1", "bare-code-with-enhanced", "5.1.1" },
    { "bare code with enhanced, 4xx", "452 4.2.2", "bare-code-with-enhanced", "4.2.2" },
};

static char *joined(const struct reply *r)
{
    size_t n = 1;
    for (size_t i = 0; i < r->nlines; i++)
        n += strlen(r->lines[i]) + 1;
    char *s = calloc(1, n);
    for (size_t i = 0; i < r->nlines; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, r->lines[i]);
    }
    return s;
}

static void check_one(const struct expectation *x, enum stage st, const char *source)
{
    struct reply orig;
    reply_init(&orig);
    if (reply_parse(x->reply, &orig, NULL) != 0)
        fail_msg("%s: cannot parse \"%s\"", x->software, x->reply);
    struct session_facts f;
    memset(&f, 0, sizeof f);
    struct event ev = { .stage = st, .source = source, .orig = &orig, .facts = &f };
    struct decision d;
    engine_decision_init(&d);
    int rc = engine_eval(cfg, &ev, &d);
    char *wire = d.has_reply ? reply_format(&d.reply, "\n") : NULL;
    if (rc != 1 || d.rule == NULL || strcmp(d.rule->name, x->rule) != 0)
        fail_msg("%s: \"%s\" matched %s, want %s", x->software, x->reply,
                 d.rule ? d.rule->name : "no rule", x->rule);
    assert_int_equal(d.action, ACTION_REWRITE);
    assert_int_equal(d.has_reply, 1);
    if (!d.reply.has_enhanced || strcmp(d.reply.enhanced, x->enhanced) != 0)
        fail_msg("%s: \"%s\" became \"%s\", want enhanced code %s", x->software, x->reply,
                 wire ? wire : "?", x->enhanced);
    /* the basic code is the original's */
    assert_int_equal(d.reply.code, orig.code);
    /* the text is new */
    char *before = joined(&orig), *after = joined(&d.reply);
    if (strcmp(before, after) == 0 || strlen(after) < 40)
        fail_msg("%s: text unchanged or too short: \"%s\"", x->software, after);
    free(before);
    free(after);
    /* and the reply can go through libmilter */
    struct diag_list dl;
    diag_init(&dl);
    reply_validate(&d.reply, REPLY_CTX_MILTER, &dl);
    for (size_t i = 0; i < dl.n; i++)
        if (dl.v[i].severity == DIAG_ERROR)
            fail_msg("%s: \"%s\" is invalid: %s [%s]", x->software, wire ? wire : "?",
                     dl.v[i].message, dl.v[i].id);
    diag_free(&dl);
    free(wire);
    engine_decision_free(&d);
    reply_free(&orig);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        check_one(&table[i], STAGE_RCPT, "mta");
        check_one(&table[i], STAGE_COUNT, NULL);        /* reword explain */
        check_one(&table[i], STAGE_EOM, "self");
    }
}

static void test_more_classes(void **state)
{
    (void)state;
    static const struct expectation more[] = {
        { "Exim recipients", "550 too many recipients", "exim-too-many-recipients", "5.5.3" },
        /* class forcing on a rule without a code condition */
        { "soft access", "450 4.7.1 <bob@example.org>: Recipient address rejected: Access denied",
          "postfix-access-denied-temp", "4.7.1" },
        { "soft size", "452 Message size exceeds fixed limit", "postfix-message-size-limit", "4.3.4" },
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        check_one(&more[i], STAGE_RCPT, "mta");
}

/* Success replies are left alone; a refusal no pack knows keeps its line
   and gets only the catch-all's explanation after it. */
static void test_untouched(void **state)
{
    (void)state;
    static const char *const keep[] = {
        "250 2.0.0 Ok: queued as 4Xyz",
        "221 2.0.0 Bye",
        "550 5.7.1 Message rejected as spam by Content Filter",
        "451 4.7.1 <bob@example.org>: Recipient address rejected: Intentional policy rejection, please try again later",
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        struct reply orig;
        reply_init(&orig);
        assert_int_equal(reply_parse(keep[i], &orig, NULL), 0);
        struct event ev = { .stage = STAGE_RCPT, .source = "mta", .orig = &orig, .facts = NULL };
        struct decision d;
        engine_decision_init(&d);
        int rc = engine_eval(cfg, &ev, &d);
        char *w = reply_format(&d.reply, "\n");
        if (keep[i][0] == '2') {            /* success: never touched */
            if (rc != 0)
                fail_msg("\"%s\" matched %s", keep[i], d.rule ? d.rule->name : "?");
            assert_string_equal(w, keep[i]);
        } else {                            /* a refusal no pack knows: the catch-all */
            if (rc != 1 || strncmp(d.rule->name, "catch-all-", 10) != 0)
                fail_msg("\"%s\" matched %s", keep[i], d.rule ? d.rule->name : "no rule");
            char first[512];
            snprintf(first, sizeof first, "%.3s-%s", keep[i], keep[i] + 4);
            if (strncmp(w, first, strlen(first)) != 0 || w[strlen(first)] != '\n')
                fail_msg("catch-all changed the original line: \"%s\"", w);
        }
        free(w);
        engine_decision_free(&d);
        reply_free(&orig);
    }
}

/* An own decision without enhanced code takes it from the bare-code rules. */
static void test_own_decision_inference(void **state)
{
    (void)state;
    const char *text =
        "include = [\"" DEFAULTS "\"];\n"
        "rules = (\n"
        " { name = \"block\"; when = { sender = \"@spam\\\\.example$\"; }; action = \"reject\"; },\n"
        " { name = \"slow\"; when = { sender = \"@slow\\\\.example$\"; }; action = \"tempfail\"; },\n"
        " { name = \"full\"; when = { sender = \"@full\\\\.example$\"; }; action = \"reject\";"
        "   reply = { code = 552; }; }\n"
        ");\n";
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load_string(text, "own.conf", &dl);
    assert_non_null(c);
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
    diag_free(&dl);
    static const struct { const char *sender; int code; const char *enh; } cases[] = {
        { "a@spam.example", 550, "5.0.0" },   /* bare-550: X.0.0, no reason claimed */
        { "a@slow.example", 451, "4.3.0" },
        { "a@full.example", 552, "5.2.2" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct session_facts f;
        memset(&f, 0, sizeof f);
        f.sender = cases[i].sender;
        struct event ev = { .stage = STAGE_MAIL, .source = "self", .orig = NULL, .facts = &f };
        struct decision d;
        engine_decision_init(&d);
        assert_int_equal(engine_eval(c, &ev, &d), 1);
        assert_int_equal(d.has_reply, 1);
        assert_int_equal(d.reply.code, cases[i].code);
        assert_string_equal(d.reply.enhanced, cases[i].enh);
        char *x = explain_reply(&d.reply);
        assert_string_equal(d.reply.lines[0], x);
        free(x);
        engine_decision_free(&d);
    }
    conf_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_more_classes),
        cmocka_unit_test(test_untouched),
        cmocka_unit_test(test_own_decision_inference),
    };
    return UNIT_RUN(tests, setup, teardown);
}
