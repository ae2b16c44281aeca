/*
 * test_prefilter.c - unit tests of milter/core/rules/prefilter.c: the literal
 * found in each pattern feature (anchors, (?i), classes, groups,
 * quantifiers, escapes, alternation, \Q, extended mode, UTF caseless
 * letters), and that a pattern never fails the prefilter on a subject it
 * matches (the prefilter may only ever say "maybe"); the same for the gate
 * of alternations, and which patterns it gates.
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

#include "rules/prefilter.h"
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

/* re compiled; fails the test with PCRE2's reason when it does not compile. */
static struct pattern *compiled(const char *re)
{
    char err[128];
    size_t off;
    struct pattern *p = pattern_compile(re, err, sizeof err, &off);
    if (p == NULL)
        fail_msg("compile %s: %s", re, err);
    return p;
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
        struct pattern *p = compiled(cases[i].re);
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
    struct pattern *p = compiled("(?i)mailbox is full");
    struct prefilter_sig sig, need;
    const char *s = "Relay access denied";
    prefilter_sig_of(s, strlen(s), &sig);
    assert_int_equal(pattern_sig(p, &need), 1);
    assert_int_equal(prefilter_may_match(&need, &sig), 0);
    pattern_free(p);
}


/* ---- the gate ---- */

/* Gates the one pattern re as rule 0 of a gate; 1 when gated. */
static struct prefilter_gate *gate_of(const char *re, int *gated)
{
    struct prefilter_gate *g = prefilter_gate_new(1);
    assert_non_null(g);
    *gated = prefilter_gate_add(g, 0, re);
    assert_int_equal(prefilter_gate_finish(g), 0);
    return g;
}

/* 1 when rule 0 of g passes the gate on subject s. */
static int gate_passes(const struct prefilter_gate *g, const char *s)
{
    uint64_t cand[1];
    if (!prefilter_bit(prefilter_gate_gated(g), 0))
        return 1;
    prefilter_gate_scan(g, s, strlen(s), cand);
    return prefilter_bit(cand, 0);
}

#define EIGHT "|aaa1|aaa2|aaa3|aaa4|aaa5|aaa6|aaa7"

static void test_gate_which(void **state)
{
    (void)state;
    static const struct { const char *re; int gated; } cases[] = {
        { "(?i)mailbox full" EIGHT, 1 },
        { "(?i)mailbox full|over quota", 0 },               /* too few branches to pay */
        { "(?i)mailbox full|\\d+" EIGHT, 0 },               /* a branch without literal */
        { "(?i)mailbox full|ab" EIGHT, 0 },                  /* a literal under 3 bytes */
        { "(?i)(mailbox full" EIGHT ")", 0 },                /* not at the top level */
        { "(?x)mailbox full" EIGHT, 0 },                     /* extended mode */
        { "\\Qa|b\\E|mailbox full" EIGHT, 0 },
        { "(?i)mailbox[^.;]{0,30}full|[|]quota" EIGHT, 1 },  /* "|" in a class splits nothing */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int gated;
        struct prefilter_gate *g = gate_of(cases[i].re, &gated);
        if (gated != cases[i].gated)
            fail_msg("gate of \"%s\": %d, want %d", cases[i].re, gated, cases[i].gated);
        prefilter_gate_free(g);
    }
}

/* A gated pattern passes on every subject it matches, and fails on one
   that has none of its branches. */
static void test_gate_never_excludes_a_match(void **state)
{
    (void)state;
    static const struct { const char *re, *subject; } cases[] = {
        { "(?i)mailbox full|over quota" EIGHT, "550 The MAILBOX FULL, sorry" },
        { "(?i)mailbox full|over quota" EIGHT, "552 user is Over Quota" },
        { "(?i)\\bPTR\\b|reverse dns" EIGHT, "no ptr record" },
        { "(?i)SPF fail(ed|ure)?|not designate" EIGHT, "does not designate 192.0.2.1" },
        { "(?i)x{2}yz\\.com|qqq" EIGHT, "via XXYZ.COM" },
        { "(?i)^timeout\\b|time-?out while" EIGHT, "timeout (#4.4.2)" },
        { "(?i)(?<!not )listed (in|on) |blocklist" EIGHT, "192.0.2.1 listed on zen" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pattern *p = compiled(cases[i].re);
        struct prefilter_gate *g = prefilter_gate_new(1);
        assert_non_null(g);
        assert_int_equal(pattern_gate(p, g, 0), 1);
        assert_int_equal(prefilter_gate_finish(g), 0);
        if (pattern_match(p, cases[i].subject) != 1 || !gate_passes(g, cases[i].subject))
            fail_msg("%s on \"%s\": match %d, gate %d", cases[i].re, cases[i].subject,
                     pattern_match(p, cases[i].subject), gate_passes(g, cases[i].subject));
        assert_int_equal(gate_passes(g, "250 2.0.0 Ok: queued as 4F2A1"), 0);
        prefilter_gate_free(g);
        pattern_free(p);
    }
}

/* Rules gated apart: each subject marks the rule whose branch it holds. */
static void test_gate_marks_rules(void **state)
{
    (void)state;
    struct prefilter_gate *g = prefilter_gate_new(130);
    assert_non_null(g);
    assert_int_equal(prefilter_gate_add(g, 3, "(?i)mailbox full" EIGHT), 1);
    assert_int_equal(prefilter_gate_add(g, 129, "relay denied|bbb1|bbb2|bbb3|bbb4|bbb5|bbb6|bbb7"), 1);
    assert_int_equal(prefilter_gate_add(g, 7, "a|b"), 0);
    assert_int_equal(prefilter_gate_finish(g), 0);
    assert_int_equal(prefilter_gate_count(g), 2);
    assert_int_equal(prefilter_gate_words(g), 3);
    uint64_t cand[3];
    const char *s = "554 Relay Denied";
    prefilter_gate_scan(g, s, strlen(s), cand);
    assert_int_equal(prefilter_bit(cand, 129), 1);
    assert_int_equal(prefilter_bit(cand, 3), 0);
    assert_int_equal(prefilter_bit(prefilter_gate_gated(g), 7), 0);
    prefilter_gate_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_never_excludes_a_match),
        cmocka_unit_test(test_excludes_impossible),
        cmocka_unit_test(test_gate_which),
        cmocka_unit_test(test_gate_never_excludes_a_match),
        cmocka_unit_test(test_gate_marks_rules),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
