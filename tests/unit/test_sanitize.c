/*
 * test_sanitize.c - unit tests of milter/core/reply/sanitize.c: sanitize_text byte
 * rules and UTF-8-safe cutting, sanitize_reply splitting and truncation,
 * sanitize_milter_lines escaping, and the libmilter guarantee (<= 32 lines of
 * <= REPLY_MAX_LINE_LEN (966) bytes of text, 980 on the wire, no CR/LF or control characters, valid UTF-8) on hostile
 * input.
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

static void expect_clean(const char *in, size_t maxlen, const char *want)
{
    char *s = sanitize_text(in, maxlen);
    assert_non_null(s);
    if (strcmp(s, want) != 0)
        fail_msg("sanitize_text(\"%s\", %zu) = \"%s\", want \"%s\"", in, maxlen, s, want);
    free(s);
}


/* Sanitizes r and checks everything libmilter needs; returns the line count. */
static size_t check_guarantee(struct reply *r)
{
    assert_int_equal(sanitize_reply(r), 0);
    assert_true(r->nlines >= 1);
    assert_true(r->nlines <= REPLY_MAX_LINES);
    char **lines = sanitize_milter_lines(r);
    assert_non_null(lines);
    size_t n = 0;
    for (; lines[n]; n++) {
        const char *l = lines[n];
        if (strlen(l) > REPLY_MAX_LINE_LEN)
            fail_msg("line %zu is %zu bytes", n + 1, strlen(l));
        for (const unsigned char *p = (const unsigned char *)l; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                fail_msg("line %zu has byte 0x%02x", n + 1, *p);
        assert_true(utf8_oracle_valid(l));
        /* every "%" is doubled: pairs only */
        for (const char *p = l; *p; p++)
            if (*p == '%') {
                assert_true(p[1] == '%');
                p++;
            }
    }
    assert_int_equal(n, r->nlines);
    sanitize_free_lines(lines);
    /* and the validator agrees */
    struct diag_list dl;
    diag_init(&dl);
    reply_validate(r, REPLY_CTX_MILTER, &dl);
    assert_false(diag_has(&dl, "line-too-long"));
    assert_false(diag_has(&dl, "too-many-lines"));
    assert_false(diag_has(&dl, "crlf-in-text"));
    assert_false(diag_has(&dl, "control-char"));
    diag_free(&dl);
    return n;
}

/* ---- sanitize_text ---- */

static void test_sanitize_text_bytes(void **state)
{
    (void)state;
    expect_clean("plain text", 100, "plain text");
    expect_clean("a\r\nb", 100, "a  b");
    expect_clean("a\tb\vc\fd", 100, "a b c d");
    expect_clean("x\x01\x1f\x7fy", 100, "x   y");
    expect_clean("<a@b>\r\n250 ok", 100, "<a@b>  250 ok");
    expect_clean("100% sure", 100, "100% sure");      /* no escaping here */
    expect_clean("caf\xc3\xa9", 100, "caf\xc3\xa9");  /* valid UTF-8 kept */
    expect_clean("\xe2\x82\xac 5", 100, "\xe2\x82\xac 5");
    expect_clean("\xf0\x9f\x98\x80", 100, "\xf0\x9f\x98\x80");
    expect_clean("a\xffz", 100, "a?z");               /* invalid byte */
    expect_clean("a\x80z", 100, "a?z");               /* stray continuation */
    expect_clean("a\xc3z", 100, "a?z");               /* truncated sequence */
    expect_clean("a\xc3", 100, "a?");
    expect_clean("\xc0\xaf", 100, "??");              /* overlong "/" */
    expect_clean("\xe0\x80\xaf", 100, "???");         /* overlong */
    expect_clean("\xed\xa0\x80", 100, "???");         /* surrogate */
    expect_clean("\xf4\x90\x80\x80", 100, "????");    /* past U+10FFFF */
    expect_clean("\xc2\x85x", 100, " x");             /* C1 control NEL */
    expect_clean("", 100, "");
    expect_clean(NULL, 100, "");
}

static void test_sanitize_text_maxlen(void **state)
{
    (void)state;
    expect_clean("abcdef", 3, "abc");
    expect_clean("abcdef", 0, "");
    expect_clean("h\xc3\xa9llo", 1, "h");
    expect_clean("h\xc3\xa9llo", 2, "h");             /* never half of "é" */
    expect_clean("h\xc3\xa9llo", 3, "h\xc3\xa9");
    expect_clean("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 7, "\xf0\x9f\x98\x80");
    expect_clean("a\r\nb", 2, "a ");
    expect_clean("\xff\xff\xff", 2, "??");
    /* a long hostile string stays within maxlen and valid */
    char big[10001];
    for (size_t i = 0; i < 10000; i++)
        big[i] = (char)("\xc3\xa9\r\n%\xff\x01" "abc"[i % 10]);
    big[10000] = '\0';
    for (size_t m = 0; m < 40; m++) {
        char *s = sanitize_text(big, m);
        assert_non_null(s);
        assert_true(strlen(s) <= m);
        assert_true(utf8_oracle_valid(s));
        assert_null(strpbrk(s, "\r\n\x01"));
        free(s);
    }
    char *s = sanitize_text(big, (size_t)-1);
    assert_non_null(s);
    assert_true(strlen(s) <= 10000);
    assert_true(utf8_oracle_valid(s));
    free(s);
}

/* ---- sanitize_reply ---- */

static void test_split_at_space(void **state)
{
    (void)state;
    /* 600 + space + 600: one split at the space */
    char text[1202];
    memset(text, 'a', 600);
    text[600] = ' ';
    memset(text + 601, 'b', 600);
    text[1201] = '\0';
    struct reply r;
    reply_init(&r);
    assert_int_equal(reply_set(&r, 550, "5.7.1", text), 0);
    assert_int_equal(check_guarantee(&r), 2);
    assert_int_equal(strlen(r.lines[0]), 600);
    assert_int_equal(strlen(r.lines[1]), 600);
    assert_int_equal(r.lines[1][0], 'b');
    assert_int_equal(r.code, 550);
    assert_string_equal(r.enhanced, "5.7.1");

    /* words: splits at the LAST space before the limit */
    char words[2001];
    for (size_t i = 0; i < 2000; i++)
        words[i] = (i % 10 == 9) ? ' ' : 'w';
    words[2000] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", words), 0);
    check_guarantee(&r);
    size_t sp = REPLY_MAX_LINE_LEN;                 /* the last space within the limit */
    while (sp % 10 != 9)
        sp--;
    assert_int_equal(r.nlines, 3);
    assert_int_equal(strlen(r.lines[0]), sp);
    assert_true(r.lines[0][sp - 1] == 'w');
    reply_free(&r);
}

static void test_split_hard(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    /* no space: hard cut at the limit (L = 966 bytes of text) */
    const size_t L = REPLY_MAX_LINE_LEN;
    char text[2501];
    memset(text, 'x', 2500);
    text[2500] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", text), 0);
    assert_int_equal(check_guarantee(&r), 3);
    assert_int_equal(strlen(r.lines[0]), L);
    assert_int_equal(strlen(r.lines[1]), L);
    assert_int_equal(strlen(r.lines[2]), 2500 - 2 * L);

    /* multibyte: never split inside "é" (L - 1 'a' then "é") */
    memset(text, 'a', L - 1);
    memcpy(text + L - 1, "\xc3\xa9\xc3\xa9", 5);
    assert_int_equal(reply_set(&r, 550, "5.7.1", text), 0);
    check_guarantee(&r);
    assert_int_equal(r.nlines, 2);
    assert_int_equal(strlen(r.lines[0]), L - 1);
    assert_string_equal(r.lines[1], "\xc3\xa9\xc3\xa9");

    /* percent: L - 1 'a' + "%" is L + 1 escaped, so "%" moves to line 2 whole */
    memset(text, 'a', L - 1);
    strcpy(text + L - 1, "%b");
    assert_int_equal(reply_set(&r, 550, "5.7.1", text), 0);
    check_guarantee(&r);
    assert_int_equal(r.nlines, 2);
    assert_int_equal(strlen(r.lines[0]), L - 1);
    assert_string_equal(r.lines[1], "%b");
    reply_free(&r);
}

static void test_truncate_lines(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    /* 100 lines: 32 kept, the last ends with "..." */
    char text[100 * 8];
    size_t o = 0;
    for (int i = 0; i < 100; i++)
        o += (size_t)sprintf(text + o, "line%d\n", i);
    text[o - 1] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", text), 0);
    assert_int_equal(r.nlines, 100);
    assert_int_equal(check_guarantee(&r), REPLY_MAX_LINES);
    assert_string_equal(r.lines[0], "line0");
    assert_string_equal(r.lines[30], "line30");
    assert_string_equal(r.lines[31], "line31...");

    /* exactly 32 lines: nothing dropped, no "..." */
    o = 0;
    for (int i = 0; i < 32; i++)
        o += (size_t)sprintf(text + o, "l%d\n", i);
    text[o - 1] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", text), 0);
    check_guarantee(&r);
    assert_int_equal(r.nlines, 32);
    assert_string_equal(r.lines[31], "l31");

    /* the "..." fits even when the 32nd line is full */
    char *big = malloc(40 * 1000 + 1);
    assert_non_null(big);
    memset(big, 'z', 40 * 1000);
    big[40 * 1000] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", big), 0);
    check_guarantee(&r);
    assert_int_equal(r.nlines, 32);
    size_t len = strlen(r.lines[31]);
    assert_true(len <= REPLY_MAX_LINE_LEN);
    assert_string_equal(r.lines[31] + len - 3, "...");
    free(big);

    /* no lines at all: one empty line */
    reply_free(&r);
    r.code = 550;
    assert_int_equal(check_guarantee(&r), 1);
    assert_string_equal(r.lines[0], "");
    assert_int_equal(sanitize_reply(NULL), -1);
    reply_free(&r);
}

/* ---- sanitize_milter_lines ---- */

static void test_milter_lines(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    assert_int_equal(reply_set(&r, 550, "5.7.1", "100% sure\n%%\nno percent"), 0);
    char **l = sanitize_milter_lines(&r);
    assert_non_null(l);
    assert_string_equal(l[0], "100%% sure");
    assert_string_equal(l[1], "%%%%");
    assert_string_equal(l[2], "no percent");
    assert_null(l[3]);
    sanitize_free_lines(l);
    /* the model is not changed */
    assert_string_equal(r.lines[0], "100% sure");
    reply_free(&r);

    r.code = 550;   /* no lines: an empty, NULL-terminated array */
    l = sanitize_milter_lines(&r);
    assert_non_null(l);
    assert_null(l[0]);
    sanitize_free_lines(l);
    assert_null(sanitize_milter_lines(NULL));
    sanitize_free_lines(NULL);
}

/* ---- hostile input ---- */

static void test_hostile(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    size_t big = 10000;
    char *s = malloc(big * 4 + 1);
    assert_non_null(s);

    /* 10,000 characters without a space */
    memset(s, 'q', big);
    s[big] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", s), 0);
    assert_int_equal(check_guarantee(&r), 11);

    /* all "%": 10,000 of them become 20,000 bytes */
    memset(s, '%', big);
    assert_int_equal(reply_set(&r, 550, "5.7.1", s), 0);
    assert_int_equal(check_guarantee(&r), 21);
    for (size_t i = 0; i < r.nlines; i++)
        assert_true(strlen(r.lines[i]) <= REPLY_MAX_LINE_LEN / 2);

    /* 100 lines: truncated with "..." */
    size_t o = 0;
    for (int i = 0; i < 100; i++) {
        memset(s + o, (char)('a' + i % 26), 39);
        o += 39;
        s[o++] = '\n';
    }
    s[o - 1] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", s), 0);
    assert_int_equal(check_guarantee(&r), 32);
    assert_non_null(strstr(r.lines[31], "..."));

    /* 40 lines of 990 characters: each is split, then all cut to 32 */
    o = 0;
    for (int i = 0; i < 40; i++) {
        memset(s + o, (char)('a' + i % 26), 990);
        o += 990;
        s[o++] = '\n';
    }
    s[o - 1] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", s), 0);
    assert_int_equal(check_guarantee(&r), 32);
    assert_int_equal(strlen(r.lines[0]), REPLY_MAX_LINE_LEN);
    assert_int_equal(strlen(r.lines[1]), 990 - REPLY_MAX_LINE_LEN);
    assert_int_equal(strspn(r.lines[1], "a"), 990 - REPLY_MAX_LINE_LEN);
    assert_string_equal(r.lines[31] + strlen(r.lines[31]) - 3, "...");

    /* embedded "\r\n250 ok" inside one line of the model */
    free(r.lines[0]);
    r.lines[0] = strdup("rejected\r\n250 2.0.0 ok\r\n");
    assert_non_null(r.lines[0]);
    check_guarantee(&r);
    assert_null(strpbrk(r.lines[0], "\r\n"));
    assert_non_null(strstr(r.lines[0], "250 2.0.0 ok"));

    /* invalid UTF-8 and controls everywhere */
    for (size_t i = 0; i < big; i++)
        s[i] = (char)("\xff\xc3\x80\x01\r\n\t%\xe2\x82 x"[i % 12]);
    s[big] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", s), 0);
    check_guarantee(&r);

    /* 4-byte characters only */
    for (size_t i = 0; i < big; i++)
        s[i] = "\xf0\x9f\x98\x80"[i % 4];
    s[big] = '\0';
    assert_int_equal(reply_set(&r, 550, "5.7.1", s), 0);
    check_guarantee(&r);
    for (size_t i = 0; i < r.nlines; i++)
        assert_int_equal(strlen(r.lines[i]) % 4, 0);

    /* a parsed hostile reply goes the same way */
    static const char pat[] = "550-5.7.1 %\x01\xff a\r\n";
    for (size_t i = 0; i < big; i++)
        s[i] = pat[i % (sizeof pat - 1)];
    s[big] = '\0';
    assert_int_equal(reply_parse(s, &r, NULL), 0);
    check_guarantee(&r);

    /* pseudo-random bytes */
    unsigned int seed = 7;
    for (int round = 0; round < 300; round++) {
        size_t len = (size_t)(seed % (big * 4));
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned char c = (unsigned char)(seed >> 16);
            s[i] = (char)(c ? c : ' ');
        }
        s[len] = '\0';
        seed = seed * 1103515245u + 12345u;
        assert_int_equal(reply_set(&r, 451, "4.7.1", s), 0);
        check_guarantee(&r);
        /* sanitizing twice changes nothing more */
        char *before = reply_format(&r, "\n");
        assert_int_equal(sanitize_reply(&r), 0);
        char *after = reply_format(&r, "\n");
        assert_string_equal(before, after);
        free(before);
        free(after);
    }
    free(s);
    reply_free(&r);
}

/* The sanitizer's decoder and the independent oracle agree on every
   sequence that starts with a byte of 7F..FF followed by any two bytes (a
   fourth, continuation, byte for the leads F0..FF). */
static void test_utf8_against_oracle(void **state)
{
    (void)state;
    unsigned char b[4];
    for (unsigned x = 0x7f0000; x < 0x1000000; x++) {   /* lead 7F (ASCII) and up */
        b[0] = (unsigned char)(x >> 16), b[1] = (unsigned char)(x >> 8), b[2] = (unsigned char)x;
        size_t len = b[0] < 0xf0 ? 3 : 4;
        b[3] = (unsigned char)(0x80 + (x % 61));
        uint32_t c1 = 0, c2 = 0;
        size_t l1 = sanitize_utf8_seq(b, len, &c1), l2 = utf8_oracle_seq(b, len, &c2);
        if (l1 != l2 || (l1 && c1 != c2))
            fail_msg("%02x %02x %02x %02x: sanitizer %zu U+%04X, oracle %zu U+%04X", b[0], b[1],
                     b[2], b[3], l1, (unsigned)c1, l2, (unsigned)c2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_against_oracle),
        cmocka_unit_test(test_sanitize_text_bytes),
        cmocka_unit_test(test_sanitize_text_maxlen),
        cmocka_unit_test(test_split_at_space),
        cmocka_unit_test(test_split_hard),
        cmocka_unit_test(test_truncate_lines),
        cmocka_unit_test(test_milter_lines),
        cmocka_unit_test(test_hostile),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
