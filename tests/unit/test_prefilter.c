/*
 * test_prefilter.c - unit tests of milter/core/prefilter.c: the literal
 * found in each pattern feature (anchors, (?i), classes, groups,
 * quantifiers, escapes, alternation, \Q, extended mode, UTF caseless
 * letters), and that a pattern never fails the prefilter on a subject it
 * matches (the prefilter may only ever say "maybe").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prefilter.h"
#include "rules.h"

static void expect_literal(const char *re, int utf, const char *want)
{
    char out[PREFILTER_LITERAL_MAX + 1];
    size_t n = prefilter_literal(re, utf, out, sizeof out);
    if (n != strlen(want) || strcmp(out, want) != 0)
        fail_msg("prefilter_literal(\"%s\") = \"%s\" (%zu), want \"%s\"", re, out, n, want);
}

static void test_literals(void **state)
{
    (void)state;
    expect_literal("(?i)Recipient address rejected: User unknown", 0,
                   "Recipient address rejected: User unknown");
    expect_literal("^Command rejected$", 0, "Command rejected");
    expect_literal("(?i)^(<[^>]*>\\.\\.\\. ?)?Command rejected$", 0, "Command rejected");
    expect_literal("Sender address rejected: .*does not accept mail \\(nullMX\\)", 0,
                   "does not accept mail (nullMX)");
    expect_literal("User unknown in (local recipient|virtual) table", 0, "User unknown in ");
    expect_literal("abc|defghij", 0, "");                 /* top-level alternation */
    expect_literal("colou?r matters", 0, "r matters");     /* "u?" ends "colo" */
    expect_literal("\\x41BCD and \\x{263a}xy", 0, "BCD and ");
    expect_literal("\\p{Lu}upper \\pLx", 0, "upper ");
    expect_literal("\\k<name>named\\g{-1}", 0, "named");
    expect_literal("\\cXcontrol\\012", 0, "control");
    expect_literal("ab+cdefg", 0, "cdefg");
    expect_literal("x{2,3}yz", 0, "yz");
    expect_literal("literal {brace}", 0, "literal {brace}");
    expect_literal("\\d+ recipients too many", 0, " recipients too many");
    expect_literal("spam[a-z]+ found here", 0, " found here");
    expect_literal("[]a-z] found", 0, " found");
    expect_literal("\\Qa.b\\E", 0, "");
    expect_literal("(?x) spaced out", 0, "");
    expect_literal("(?i)mask size", 1, "ize");              /* UTF caseless: s and k end it */
    expect_literal("(*UTF)caf\xc3\xa9 ist zu", 0, "caf\xc3\xa9 ist zu");
    expect_literal("caf\xc3\xa9 ist zu", 1, "t zu");
    expect_literal("\\bword\\b", 0, "word");
    expect_literal("back\\1ref", 0, "back");
    expect_literal("(?<=look)behind", 0, "behind");
    expect_literal("a.b", 0, "a");
}

/* Every pattern that matches a subject passes the prefilter on it. */
static void test_never_excludes_a_match(void **state)
{
    (void)state;
    static const struct { const char *re, *subject; } cases[] = {
        { "(?i)USER UNKNOWN in local", "<a@b>: Recipient address rejected: User unknown in local recipient table" },
        { "Command rejected$", "Command rejected" },
        { "(?i)colou?r", "COLOR" },
        { "(?i)colou?r", "colour" },
        { "(*UTF)(?i)ma\\x{17F}k", "MASK" },
        { "(*UTF)(?i)mask", "ma\xc5\xbf" "k" },             /* U+017F LONG S */
        { "(*UTF)(?i)kelvin", "\xe2\x84\xaa" "elvin" },     /* U+212A KELVIN SIGN */
        { "(?i)a{2}bc", "AABC" },
        { "x\\.y\\.z", "x.y.z" },
        { "(?i)straße", "STRAßE" },
        { "tab\there", "tab\there" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[128];
        size_t off;
        struct pattern *p = pattern_compile(cases[i].re, err, sizeof err, &off);
        if (p == NULL)
            fail_msg("compile %s: %s", cases[i].re, err);
        struct prefilter_sig sig, need;
        prefilter_sig_of(cases[i].subject, strlen(cases[i].subject), &sig);
        pattern_sig(p, &need);
        int plain = pattern_match(p, cases[i].subject);
        int filtered = prefilter_may_match(&need, &sig) ? plain : 0;
        if (plain != 1 || filtered != plain)
            fail_msg("%s on \"%s\": match %d, prefiltered %d", cases[i].re, cases[i].subject,
                     plain, filtered);
        pattern_free(p);
    }
}

static void test_excludes_impossible(void **state)
{
    (void)state;
    char err[128];
    size_t off;
    struct pattern *p = pattern_compile("(?i)mailbox is full", err, sizeof err, &off);
    assert_non_null(p);
    struct prefilter_sig sig, need;
    const char *s = "Relay access denied";
    prefilter_sig_of(s, strlen(s), &sig);
    assert_int_equal(pattern_sig(p, &need), 1);
    assert_int_equal(prefilter_may_match(&need, &sig), 0);
    pattern_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_never_excludes_a_match),
        cmocka_unit_test(test_excludes_impossible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
