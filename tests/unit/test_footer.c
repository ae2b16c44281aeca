/*
 * test_footer.c - the Postfix footer table export: keys built from rule
 * matches (code, class, enhanced wildcards, text with "^" anchors), values
 * with template variables turned into Postfix $names, rules that cannot be
 * exported, and the footer-variable check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "footer.h"
#include "rules.h"


/* Does the exported key match the complete reply the way Postfix's pcre table would? */
static int key_matches(const char *key, const char *reply)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)key, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
    assert_non_null(re);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)reply, strlen(reply), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static void test_anchored_text(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = ( { name = \"cmd\"; when = { code = \"5xx\"; text = \"(?i)^command rejected$\"; };"
        " reply = { enhanced = \"5.7.1\"; text = \"A filter refused it; costs $5 <%{rcpt}> (%{text})\"; }; } );");
    char *key, *value;
    const char *why;
    assert_int_equal(footer_rule(&c->rules[0], &key, &value, &why), 0);
    assert_true(key_matches(key, "550 5.7.1 Command rejected"));
    assert_true(key_matches(key, "554 Command rejected"));
    assert_false(key_matches(key, "550 5.7.1 Xcommand rejected"));
    assert_false(key_matches(key, "451 4.7.1 Command rejected"));
    assert_string_equal(value, "A filter refused it; costs $$$$5 <$1>");
    free(key);
    free(value);
    conf_unref(c);
}

static void test_enhanced_wildcard(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = ( { name = \"sec\"; when = { enhanced = \"5.7.*\"; }; reply = { url = \"https://help.example/\"; }; } );");
    char *key, *value;
    const char *why;
    assert_int_equal(footer_rule(&c->rules[0], &key, &value, &why), -1);   /* nothing to explain */
    conf_unref(c);
    c = unit_load("rules = ( { name = \"sec\"; when = { enhanced = \"5.7.*\"; };"
             " reply = { enhanced = \"5.7.1\"; url = \"https://help.example/\"; }; } );");
    assert_int_equal(footer_rule(&c->rules[0], &key, &value, &why), 0);
    assert_true(key_matches(key, "554 5.7.23 SPF failed"));
    assert_false(key_matches(key, "550 5.1.1 nope"));
    assert_non_null(strstr(value, "More information: https://help.example/"));
    assert_true(strlen(value) > 40);       /* the taxonomy's explanation of 5.7.1 */
    free(key);
    free(value);
    conf_unref(c);
}

static void test_not_exportable(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = ("
        " { name = \"own\"; when = { stage = \"rcpt\"; rcpt = \"x\"; }; action = \"reject\"; },"
        " { name = \"self\"; when = { source = \"self\"; code = \"550\"; }; reply = { text = \"x\"; }; },"
        " { name = \"facts\"; when = { code = \"550\"; sender = \"^a@\"; }; reply = { text = \"x\"; }; },"
        " { name = \"qid\"; when = { source = \"mta\"; code = \"550\"; }; reply = { text = \"id %{queue_id}\"; }; },"
        " { name = \"qid-any\"; when = { code = \"451\"; }; reply = { text = \"id %{queue_id}\"; }; }"
        ");");
    char *key, *value;
    const char *why;
    for (size_t i = 0; i < c->nrules; i++) {
        assert_int_equal(footer_rule(&c->rules[i], &key, &value, &why), -1);
        assert_non_null(why);
    }
    struct diag_list dl;
    diag_init(&dl);
    footer_check(c, &dl);
    assert_int_equal(dl.n, 2);
    assert_string_equal(dl.v[0].id, "footer-variable");
    assert_int_equal(dl.v[0].severity, DIAG_ERROR);     /* source = mta */
    assert_int_equal(dl.v[1].severity, DIAG_WARNING);   /* source = any: left out */
    diag_free(&dl);
    conf_unref(c);
}

static void test_defaults_export(void **state)
{
    (void)state;
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load(TEST_SRCDIR "/conf/milter-reword.conf", &dl);
    assert_non_null(c);
    footer_check(c, &dl);
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int n = footer_export(c, f);
    fclose(f);
    assert_true(n >= 300);      /* every pack's rules for MTA texts */
    assert_non_null(strstr(buf, "# rule "));
    free(buf);
    diag_free(&dl);
    conf_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anchored_text),
        cmocka_unit_test(test_enhanced_wildcard),
        cmocka_unit_test(test_not_exportable),
        cmocka_unit_test(test_defaults_export),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
