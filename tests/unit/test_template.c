/*
 * test_template.c - reply text templates: compile errors, every variable,
 * "%%" and lone "%", sanitizing of hostile session values, length caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "explain.h"
#include "reply.h"
#include "taxonomy.h"
#include "rules/template.h"

static struct template *compile_ok(const char *src)
{
    struct diag_list dl;
    diag_init(&dl);
    struct template *t = template_compile(src, "t.conf", 7, &dl);
    assert_non_null(t);
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
    diag_free(&dl);
    return t;
}

static char *expand(const char *src, const struct template_vars *v)
{
    struct template *t = compile_ok(src);
    char *s = template_expand(t, v);
    assert_non_null(s);
    template_free(t);
    return s;
}

static void assert_expands(const char *src, const struct template_vars *v, const char *want)
{
    char *s = expand(src, v);
    assert_string_equal(s, want);
    free(s);
}

static const char *macro_cb(void *ctx, const char *name)
{
    assert_ptr_equal(ctx, (void *)0x1234);
    if (strcmp(name, "auth_type") == 0 || strcmp(name, "{auth_type}") == 0)
        return "PLAIN";
    if (strcmp(name, "j") == 0)
        return "mx.example.org";
    return NULL;
}

static const struct template_vars full = {
    .rcpt = "bob@example.org", .sender = "alice@example.net", .helo = "mail.example.net",
    .client_addr = "192.0.2.7", .client_name = "mail.example.net", .code = "550",
    .enhanced = "5.1.1", .text = "User unknown", .explanation = "The address does not exist.",
    .queue_id = "4Xyz12", .rule = "unknown-user", .macro = macro_cb, .macro_ctx = (void *)0x1234,
};

static void test_each_variable(void **state)
{
    (void)state;
    assert_expands("%{rcpt}", &full, "bob@example.org");
    assert_expands("%{sender}", &full, "alice@example.net");
    assert_expands("%{helo}", &full, "mail.example.net");
    assert_expands("%{client_addr}", &full, "192.0.2.7");
    assert_expands("%{client_name}", &full, "mail.example.net");
    assert_expands("%{code}", &full, "550");
    assert_expands("%{enhanced}", &full, "5.1.1");
    assert_expands("%{text}", &full, "User unknown");
    assert_expands("%{explanation}", &full, "The address does not exist.");
    assert_expands("%{queue_id}", &full, "4Xyz12");
    assert_expands("%{rule}", &full, "unknown-user");
    assert_expands("%{macro:auth_type}", &full, "PLAIN");
    assert_expands("%{macro:{auth_type}}", &full, "PLAIN");
    assert_expands("%{macro:j}", &full, "mx.example.org");
    assert_expands("%{macro:nosuch}", &full, "");
    assert_expands("<%{rcpt}> from <%{sender}>: %{code} %{enhanced} (%{rule})", &full,
                   "<bob@example.org> from <alice@example.net>: 550 5.1.1 (unknown-user)");
}

static void test_missing_values(void **state)
{
    (void)state;
    struct template_vars none;
    memset(&none, 0, sizeof none);
    assert_expands("[%{rcpt}][%{macro:j}][%{explanation}]", &none, "[][][]");
    struct template *t = compile_ok("x %{helo} y");
    char *s = template_expand(t, NULL);
    assert_string_equal(s, "x  y");
    free(s);
    template_free(t);
    assert_expands("", &full, "");
    assert_expands("plain text only", &full, "plain text only");
}

static void test_percent(void **state)
{
    (void)state;
    assert_expands("100%% sure", &full, "100% sure");
    assert_expands("%%{rcpt}", &full, "%{rcpt}");
    assert_expands("%%%{code}", &full, "%550");
    assert_expands("50% off", &full, "50% off");        /* lone % stays */
    assert_expands("100%", &full, "100%");
    assert_expands("%s %d %n", &full, "%s %d %n");
    assert_expands("%", &full, "%");
}

static void assert_compile_error(const char *src, const char *id, const char *in_msg)
{
    struct diag_list dl;
    diag_init(&dl);
    struct template *t = template_compile(src, "rules.conf", 12, &dl);
    assert_null(t);
    assert_true(diag_has(&dl, id));
    assert_true(diag_count(&dl, DIAG_ERROR) >= 1);
    int found = 0;
    for (size_t i = 0; i < dl.n; i++) {
        if (strcmp(dl.v[i].id, id) != 0)
            continue;
        assert_string_equal(dl.v[i].file, "rules.conf");
        assert_int_equal(dl.v[i].line, 12);
        if (in_msg == NULL || strstr(dl.v[i].message, in_msg))
            found = 1;
    }
    assert_true(found);
    diag_free(&dl);
}

static void test_unknown_variable(void **state)
{
    (void)state;
    assert_compile_error("Hello %{recipient}", "unknown-variable", "recipient");
    assert_compile_error("Hello %{recipient}", "unknown-variable", "client_addr");
    assert_compile_error("Hello %{recipient}", "unknown-variable", "macro:NAME");
    assert_compile_error("%{RCPT}", "unknown-variable", "RCPT");
    assert_compile_error("%{rcpt } x", "unknown-variable", NULL);
}

static void test_bad_template(void **state)
{
    (void)state;
    assert_compile_error("Hello %{rcpt", "bad-template", NULL);
    assert_compile_error("%{", "bad-template", NULL);
    assert_compile_error("x %{} y", "bad-template", NULL);
    assert_compile_error("x %{macro:} y", "bad-template", NULL);
    assert_compile_error("x %{macro:{}} y", "bad-template", NULL);
}

static void test_hostile_values(void **state)
{
    (void)state;
    struct template_vars v;
    memset(&v, 0, sizeof v);
    v.rcpt = "\"a\r\n250 ok\"@x";
    v.sender = "%n%s";
    v.helo = "evil\r\n550 5.7.1 injected\r\n";
    v.text = "line1\nline2\rline3\ttab\x01\x7f";
    v.macro = macro_cb;
    v.macro_ctx = (void *)0x1234;
    char *s = expand("to <%{rcpt}> from <%{sender}> helo %{helo}: %{text}", &v);
    assert_null(strchr(s, '\r'));
    assert_null(strchr(s, '\n'));
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        assert_true(*p >= 0x20 && *p != 0x7f);
    assert_non_null(strstr(s, "%n%s"));         /* plain text: % kept as is */
    assert_non_null(strstr(s, "250 ok"));       /* the words stay, on the same line */
    free(s);
}


static void test_long_value_capped(void **state)
{
    (void)state;
    char *big = malloc(10001);
    assert_non_null(big);
    memset(big, 'a', 10000);
    big[10000] = '\0';
    struct template_vars v;
    memset(&v, 0, sizeof v);
    v.rcpt = big;
    v.text = big;
    char *s = expand("<%{rcpt}>", &v);
    assert_true(strlen(s) <= TEMPLATE_VALUE_MAX + 2);
    assert_true(strlen(s) >= 100);
    assert_int_equal(s[0], '<');
    assert_int_equal(s[strlen(s) - 1], '>');
    free(s);

    /* 2-byte characters: the cut never splits one */
    size_t n = 0;
    for (int i = 0; i < 5000; i++) {
        big[n++] = (char)0xc3;
        big[n++] = (char)0xa9;          /* é */
    }
    big[n] = '\0';
    s = expand("%{text}", &v);
    assert_true(strlen(s) <= TEMPLATE_VALUE_MAX);
    assert_true(utf8_oracle_valid(s));
    free(s);

    /* 3-byte characters, cap not a multiple of 3 */
    n = 0;
    for (int i = 0; i < 3000; i++) {
        big[n++] = (char)0xe2;
        big[n++] = (char)0x82;
        big[n++] = (char)0xac;          /* € */
    }
    big[n] = '\0';
    s = expand("%{text}", &v);
    assert_true(strlen(s) <= TEMPLATE_VALUE_MAX);
    assert_true(utf8_oracle_valid(s));
    free(s);
    free(big);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    struct template_vars v;
    memset(&v, 0, sizeof v);
    v.helo = "bad\xff\xfe\xc3(\xe2\x82 end";
    char *s = expand("HELO %{helo}", &v);
    assert_true(utf8_oracle_valid(s));
    assert_non_null(strstr(s, "bad"));
    assert_non_null(strstr(s, " end"));
    free(s);
}

static void test_max_len(void **state)
{
    (void)state;
    struct template *t = compile_ok("abc");
    assert_int_equal(template_max_len(t), 3);
    template_free(t);

    t = compile_ok("to <%{rcpt}> from <%{sender}> 100%%");
    /* literal "to <" "> from <" "> 100%" = 4 + 8 + 6 */
    assert_int_equal(template_max_len(t), 18 + 2 * TEMPLATE_VALUE_MAX);
    template_free(t);

    t = compile_ok("%{macro:j}");
    assert_int_equal(template_max_len(t), TEMPLATE_VALUE_MAX);
    template_free(t);

    /* %{explanation}: a true bound for every explanation the taxonomy gives */
    t = compile_ok("%{explanation}");
    size_t cap = template_max_len(t);
    assert_true(cap >= TEMPLATE_VALUE_MAX);
    assert_true(cap < REPLY_MAX_LINE_LEN);      /* usable on one milter line */
    static const int codes[] = { 221, 250, 354, 421, 450, 451, 452, 550, 552, 553, 554, 556 };
    for (size_t i = 0; i < tax_enhanced_count(); i++) {
        const struct tax_enhanced *e = tax_enhanced_at(i);
        for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
            struct reply r;
            reply_init(&r);
            r.code = codes[k];
            r.has_enhanced = 1;
            r.eclass = codes[k] / 100 == 3 ? 5 : codes[k] / 100;
            r.esubject = e->subject;
            r.edetail = e->detail;
            char *x = explain_reply(&r);
            assert_non_null(x);
            assert_true(strlen(x) <= cap);
            struct template_vars v;
            memset(&v, 0, sizeof v);
            v.explanation = x;
            char *s = template_expand(t, &v);
            assert_string_equal(s, x);      /* never cut */
            free(s);
            free(x);
            reply_free(&r);
        }
    }
    template_free(t);

    /* the bound holds for hostile values */
    t = compile_ok("%{rcpt}%{sender}%{helo}%{text}");
    char *big = malloc(5001);
    memset(big, 'x', 5000);
    big[5000] = '\0';
    struct template_vars v = { .rcpt = big, .sender = big, .helo = big, .text = big };
    char *s = template_expand(t, &v);
    assert_true(strlen(s) <= template_max_len(t));
    free(s);
    free(big);
    template_free(t);
}

static void test_uses_and_source(void **state)
{
    (void)state;
    struct template *t = compile_ok("<%{rcpt}> %{macro:j} 100%%");
    assert_true(template_uses(t, "rcpt"));
    assert_true(template_uses(t, "macro"));
    assert_false(template_uses(t, "sender"));
    assert_false(template_uses(t, "j"));
    assert_string_equal(template_source(t), "<%{rcpt}> %{macro:j} 100%%");
    template_free(t);
    template_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_variable),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_unknown_variable),
        cmocka_unit_test(test_bad_template),
        cmocka_unit_test(test_hostile_values),
        cmocka_unit_test(test_long_value_capped),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_max_len),
        cmocka_unit_test(test_uses_and_source),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
