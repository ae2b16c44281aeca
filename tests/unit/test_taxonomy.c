/*
 * test_taxonomy.c - unit tests of the code taxonomy (taxonomy.h): table
 * sizes, lookups, the deprecated X.6.10, how basic codes pair with enhanced
 * codes (lists, Any, 4XX/5XX wildcards, no list), the wording of
 * tax_assoc_describe, the highest detail per subject, that every entry has a
 * usable explanation, and that tools/gen-taxonomy.awk refuses malformed rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "taxonomy.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "."
#endif

static void test_counts(void **state)
{
    (void)state;
    assert_int_equal(tax_enhanced_count(), 81);
    assert_int_equal(tax_basic_count(), 44);
    assert_int_equal(tax_class_count(), 3);
    assert_int_equal(tax_subject_count(), 8);
}

static void test_at_bounds(void **state)
{
    (void)state;
    assert_non_null(tax_enhanced_at(0));
    assert_non_null(tax_enhanced_at(80));
    assert_null(tax_enhanced_at(81));
    assert_null(tax_enhanced_at((size_t)-1));
    assert_non_null(tax_basic_at(43));
    assert_null(tax_basic_at(44));
    assert_non_null(tax_class_at(2));
    assert_null(tax_class_at(3));
    assert_non_null(tax_subject_at(7));
    assert_null(tax_subject_at(8));
    assert_string_equal(tax_enhanced_at(0)->code, "X.0.0");
}

static void test_enhanced_find(void **state)
{
    (void)state;
    const struct tax_enhanced *e = tax_enhanced_find(1, 1);
    assert_non_null(e);
    assert_string_equal(e->code, "X.1.1");
    assert_int_equal(e->subject, 1);
    assert_int_equal(e->detail, 1);
    assert_string_equal(e->sample_text, "Bad destination mailbox address");
    assert_string_equal(e->assoc, "451;550");
    assert_string_equal(e->reference, "RFC3463");
    assert_int_equal(e->deprecated, 0);

    e = tax_enhanced_find(7, 1);
    assert_non_null(e);
    assert_string_equal(e->code, "X.7.1");
    assert_string_equal(e->sample_text, "Delivery not authorized, message refused");

    e = tax_enhanced_find(7, 30);
    assert_non_null(e);
    assert_string_equal(e->code, "X.7.30");
    assert_string_equal(e->reference, "RFC8689");

    e = tax_enhanced_find(1, 10);
    assert_non_null(e);
    assert_string_equal(e->assoc, "556");
    assert_string_equal(e->reference, "RFC7505;RFC7504");

    /* Unregistered codes seen in the wild (Exchange 5.7.57, 5.7.139). */
    assert_null(tax_enhanced_find(7, 57));
    assert_null(tax_enhanced_find(7, 139));
    assert_null(tax_enhanced_find(7, 31));
    assert_null(tax_enhanced_find(8, 0));
    assert_null(tax_enhanced_find(-1, 0));
    assert_null(tax_enhanced_find(0, 1));
}

static void test_deprecated(void **state)
{
    (void)state;
    const struct tax_enhanced *e = tax_enhanced_find(6, 10);
    assert_non_null(e);
    assert_string_equal(e->code, "X.6.10");
    assert_int_equal(e->deprecated, 1);
    assert_string_equal(e->sample_text, "");
    assert_string_equal(e->assoc, "");

    int ndep = 0;
    for (size_t i = 0; i < tax_enhanced_count(); i++)
        ndep += tax_enhanced_at(i)->deprecated != 0;
    assert_int_equal(ndep, 1);
    assert_int_equal(tax_enhanced_find(6, 8)->deprecated, 0);
}

static void test_enhanced_codes_consistent(void **state)
{
    (void)state;
    for (size_t i = 0; i < tax_enhanced_count(); i++) {
        const struct tax_enhanced *e = tax_enhanced_at(i);
        char want[32];
        snprintf(want, sizeof want, "X.%d.%d", e->subject, e->detail);
        assert_string_equal(e->code, want);
        assert_ptr_equal(tax_enhanced_find(e->subject, e->detail), e);
        assert_non_null(tax_subject_find(e->subject));
        assert_true(e->reference[0] != '\0');
    }
}

static void test_basic_find(void **state)
{
    (void)state;
    const struct tax_basic *b = tax_basic_find(550);
    assert_non_null(b);
    assert_int_equal(b->code, 550);
    assert_string_equal(b->reference, "RFC5321");
    assert_non_null(strstr(b->meaning, "mailbox unavailable"));

    b = tax_basic_find(221);
    assert_non_null(b);
    assert_non_null(strstr(b->explanation, "normal"));
    assert_non_null(strstr(b->explanation, "end"));

    assert_non_null(tax_basic_find(211));
    assert_non_null(tax_basic_find(334));
    assert_non_null(tax_basic_find(354));
    assert_non_null(tax_basic_find(432));
    assert_non_null(tax_basic_find(556));
    assert_null(tax_basic_find(0));
    assert_null(tax_basic_find(199));
    assert_null(tax_basic_find(557));
    assert_null(tax_basic_find(600));
    assert_null(tax_basic_find(-550));
}

static void test_groups_find(void **state)
{
    (void)state;
    assert_string_equal(tax_class_find(2)->summary, "Success");
    assert_string_equal(tax_class_find(4)->summary, "Persistent Transient Failure");
    assert_string_equal(tax_class_find(5)->summary, "Permanent Failure");
    assert_null(tax_class_find(3));
    assert_null(tax_class_find(0));
    assert_null(tax_class_find(6));

    assert_string_equal(tax_subject_find(0)->summary, "Other or Undefined Status");
    assert_string_equal(tax_subject_find(1)->summary, "Addressing Status");
    assert_string_equal(tax_subject_find(7)->summary, "Security or Policy Status");
    for (int s = 0; s <= 7; s++) {
        assert_non_null(tax_subject_find(s));
        assert_int_equal(tax_subject_find(s)->number, s);
    }
    assert_null(tax_subject_find(8));
    assert_null(tax_subject_find(-1));
}

static void test_pairing(void **state)
{
    (void)state;
    const struct tax_enhanced *x11 = tax_enhanced_find(1, 1);
    assert_int_equal(tax_pairing(x11, 550), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(x11, 451), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(x11, 554), TAX_PAIR_UNUSUAL);
    assert_int_equal(tax_pairing(x11, 450), TAX_PAIR_UNUSUAL);

    /* X.7.15: "450, 550 (other 4XX or 5XX codes are allowed)" */
    const struct tax_enhanced *x715 = tax_enhanced_find(7, 15);
    assert_string_equal(x715->assoc, "450;550;4XX;5XX");
    assert_int_equal(tax_pairing(x715, 451), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(x715, 450), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(x715, 554), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(x715, 250), TAX_PAIR_UNUSUAL);

    /* X.7.17: only "5XX" */
    const struct tax_enhanced *x717 = tax_enhanced_find(7, 17);
    assert_int_equal(tax_pairing(x717, 550), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(x717, 599), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(x717, 451), TAX_PAIR_UNUSUAL);

    const struct tax_enhanced *x00 = tax_enhanced_find(0, 0);
    assert_int_equal(tax_pairing(x00, 250), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(x00, 421), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(x00, 554), TAX_PAIR_LISTED);

    const struct tax_enhanced *x10 = tax_enhanced_find(1, 0);
    assert_int_equal(tax_pairing(x10, 550), TAX_PAIR_UNSPECIFIED);
    assert_int_equal(tax_pairing(x10, 451), TAX_PAIR_UNSPECIFIED);
    /* X.7.28 is given as "." by IANA: no list. */
    assert_int_equal(tax_pairing(tax_enhanced_find(7, 28), 550), TAX_PAIR_UNSPECIFIED);
    assert_int_equal(tax_pairing(tax_enhanced_find(6, 10), 550), TAX_PAIR_UNSPECIFIED);

    assert_int_equal(tax_pairing(tax_enhanced_find(7, 1), 550), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(tax_enhanced_find(7, 1), 554), TAX_PAIR_UNUSUAL);
    assert_int_equal(tax_pairing(NULL, 550), TAX_PAIR_UNSPECIFIED);
}

static void test_pairing_synthetic(void **state)
{
    (void)state;
    struct tax_enhanced e = { .code = "X.9.9", .subject = 9, .detail = 9, .sample_text = "",
                              .assoc = " 451 ; ;550 ", .reference = "", .deprecated = 0,
                              .explanation = "x" };
    assert_int_equal(tax_pairing(&e, 451), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(&e, 550), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(&e, 45), TAX_PAIR_UNUSUAL);
    assert_int_equal(tax_pairing(&e, 4510), TAX_PAIR_UNUSUAL);
    e.assoc = ";";
    assert_int_equal(tax_pairing(&e, 550), TAX_PAIR_UNSPECIFIED);
    e.assoc = "any";
    assert_int_equal(tax_pairing(&e, 221), TAX_PAIR_LISTED);
    e.assoc = "2XX";
    assert_int_equal(tax_pairing(&e, 250), TAX_PAIR_LISTED);
    assert_int_equal(tax_pairing(&e, 550), TAX_PAIR_UNUSUAL);
    e.assoc = NULL;
    assert_int_equal(tax_pairing(&e, 550), TAX_PAIR_UNSPECIFIED);
}

static void test_describe(void **state)
{
    (void)state;
    char buf[128];
    tax_assoc_describe(tax_enhanced_find(1, 1), buf, sizeof buf);
    assert_string_equal(buf, "451, 550");
    tax_assoc_describe(tax_enhanced_find(0, 0), buf, sizeof buf);
    assert_string_equal(buf, "any code");
    tax_assoc_describe(tax_enhanced_find(7, 15), buf, sizeof buf);
    assert_string_equal(buf, "450, 550, 4XX, 5XX");
    tax_assoc_describe(tax_enhanced_find(7, 17), buf, sizeof buf);
    assert_string_equal(buf, "5XX");
    tax_assoc_describe(tax_enhanced_find(1, 0), buf, sizeof buf);
    assert_string_equal(buf, "none given");
    tax_assoc_describe(tax_enhanced_find(6, 10), buf, sizeof buf);
    assert_string_equal(buf, "none given");
    tax_assoc_describe(tax_enhanced_find(6, 7), buf, sizeof buf);
    assert_string_equal(buf, "553, 550");
    tax_assoc_describe(NULL, buf, sizeof buf);
    assert_string_equal(buf, "none given");
    tax_assoc_describe(tax_enhanced_find(5, 0), buf, sizeof buf);
    assert_string_equal(buf, "220, 250, 251, 252, 253, 451, 452, 454, 458, 459, 501, 502, "
                             "503, 554");
}

static void test_describe_truncates(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'Z', sizeof buf);
    tax_assoc_describe(tax_enhanced_find(1, 1), buf, sizeof buf);
    assert_string_equal(buf, "451, 55");
    char one[1] = { 'Z' };
    tax_assoc_describe(tax_enhanced_find(1, 1), one, sizeof one);
    assert_int_equal(one[0], '\0');
    char guard[4] = { 'a', 'b', 'c', 'd' };
    tax_assoc_describe(tax_enhanced_find(1, 1), guard, 0);
    assert_memory_equal(guard, "abcd", 4);
    char small[6];
    tax_assoc_describe(tax_enhanced_find(1, 0), small, sizeof small);
    assert_string_equal(small, "none ");
}

static void test_max_detail(void **state)
{
    (void)state;
    static const int want[8] = { 0, 10, 4, 6, 7, 6, 10, 30 };
    for (int s = 0; s < 8; s++)
        assert_int_equal(tax_max_detail(s), want[s]);
    assert_int_equal(tax_max_detail(8), -1);
    assert_int_equal(tax_max_detail(-1), -1);
    /* every detail from 0 to the maximum is registered */
    for (int s = 0; s < 8; s++)
        for (int d = 0; d <= want[s]; d++)
            assert_non_null(tax_enhanced_find(s, d));
}

static void check_text(const char *what, const char *s)
{
    if (s == NULL || s[0] == '\0' || strpbrk(s, "%\t\r\n") != NULL) {
        print_error("bad explanation for %s: \"%s\"\n", what, s ? s : "(null)");
        fail();
    }
}

static void test_explanations(void **state)
{
    (void)state;
    char what[64];
    for (size_t i = 0; i < tax_enhanced_count(); i++) {
        const struct tax_enhanced *e = tax_enhanced_at(i);
        check_text(e->code, e->explanation);
        /* not a copy of the registry's sample text */
        assert_true(strcmp(e->explanation, e->sample_text) != 0);
    }
    for (size_t i = 0; i < tax_basic_count(); i++) {
        const struct tax_basic *b = tax_basic_at(i);
        snprintf(what, sizeof what, "basic %d", b->code);
        check_text(what, b->explanation);
        assert_true(b->meaning[0] != '\0');
        assert_true(strcmp(b->explanation, b->meaning) != 0);
    }
    for (size_t i = 0; i < tax_class_count(); i++) {
        const struct tax_group *g = tax_class_at(i);
        snprintf(what, sizeof what, "class %d", g->number);
        check_text(what, g->explanation);
    }
    for (size_t i = 0; i < tax_subject_count(); i++) {
        const struct tax_group *g = tax_subject_at(i);
        snprintf(what, sizeof what, "subject %d", g->number);
        check_text(what, g->explanation);
    }
    /* class explanations say whether waiting helps */
    assert_non_null(strstr(tax_class_find(4)->explanation, "temporary"));
    assert_non_null(strstr(tax_class_find(5)->explanation, "permanent"));
}

/*
 * The generator: runs tools/gen-taxonomy.awk on small TSV sets in a
 * temporary directory.  Returns the awk exit status (or -1).
 */
static char tmpdir[64];

static int gen_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_taxonomy.XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int gen_teardown(void **state)
{
    (void)state;
    static const char *names[] = { "enhanced.tsv", "basic.tsv", "groups.tsv", "out.c", "err" };
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

static void write_file(const char *name, const char *text)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int run_gen(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && awk -f '%s/tools/gen-taxonomy.awk' groups.tsv enhanced.tsv basic.tsv"
             " > out.c 2> err",
             tmpdir, TEST_SRCDIR);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static const char good_enh[] =
    "# comment\n"
    "X.0.0\tOther\tAny\tRFC3463\t0\tSomething \"quoted\" and a back\\slash??\n"
    "X.1.1\tBad mailbox\t451;550\tRFC3463\t0\tNo such person.\n";
static const char good_basic[] = "550\tMailbox unavailable\tRFC5321\tRefused.\n";
static const char good_groups[] =
    "class\t5\tPermanent Failure\tPermanent.\n"
    "subject\t1\tAddressing Status\tAddresses.\n";

static void test_gen_good(void **state)
{
    (void)state;
    write_file("enhanced.tsv", good_enh);
    write_file("basic.tsv", good_basic);
    write_file("groups.tsv", good_groups);
    assert_int_equal(run_gen(), 0);

    char p[128], text[8192];
    snprintf(p, sizeof p, "%s/out.c", tmpdir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_true(strncmp(text, "// generated by tools/gen-taxonomy.awk", 38) == 0);
    assert_non_null(strstr(text, "Something \\\"quoted\\\" and a back\\\\slash?\\?"));
    assert_non_null(strstr(text, ".subject = 1, .detail = 1,"));
    assert_non_null(strstr(text, "size_t tax_subject_count(void)"));
}

static void expect_gen_failure(const char *enh, const char *basic, const char *groups)
{
    write_file("enhanced.tsv", enh);
    write_file("basic.tsv", basic);
    write_file("groups.tsv", groups);
    int rc = run_gen();
    assert_true(rc > 0);
    char p[128];
    snprintf(p, sizeof p, "%s/err", tmpdir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char line[256] = "";
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    assert_non_null(got);
    assert_true(strlen(line) > 0);
}

static void test_gen_rejects_malformed(void **state)
{
    (void)state;
    /* wrong column count */
    expect_gen_failure("X.1.1\tBad\t451;550\tRFC3463\t0\n", good_basic, good_groups);
    expect_gen_failure(good_enh, "550\tMailbox unavailable\tRFC5321\tRefused.\textra\n",
                       good_groups);
    expect_gen_failure(good_enh, good_basic, "class\t5\tPermanent Failure\n");
    /* empty explanation */
    expect_gen_failure("X.1.1\tBad\t451;550\tRFC3463\t0\t\n", good_basic, good_groups);
    expect_gen_failure(good_enh, "550\tMailbox unavailable\tRFC5321\t\n", good_groups);
    expect_gen_failure(good_enh, good_basic, "subject\t1\tAddressing Status\t \n");
    /* '%' in an explanation, bad code, bad flag, duplicate */
    expect_gen_failure("X.1.1\tBad\t451\tRFC3463\t0\t100% wrong\n", good_basic, good_groups);
    expect_gen_failure("5.1.1\tBad\t451\tRFC3463\t0\tNo.\n", good_basic, good_groups);
    expect_gen_failure("X.1.1\tBad\t451\tRFC3463\tyes\tNo.\n", good_basic, good_groups);
    expect_gen_failure("X.1.1\tBad\t451, 550\tRFC3463\t0\tNo.\n", good_basic, good_groups);
    expect_gen_failure(good_enh, "550\tA\tRFC5321\tOne.\n550\tB\tRFC5321\tTwo.\n", good_groups);
    expect_gen_failure(good_enh, good_basic, "class\t3\tNo such class\tNo.\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_at_bounds),
        cmocka_unit_test(test_enhanced_find),
        cmocka_unit_test(test_deprecated),
        cmocka_unit_test(test_enhanced_codes_consistent),
        cmocka_unit_test(test_basic_find),
        cmocka_unit_test(test_groups_find),
        cmocka_unit_test(test_pairing),
        cmocka_unit_test(test_pairing_synthetic),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_describe_truncates),
        cmocka_unit_test(test_max_detail),
        cmocka_unit_test(test_explanations),
        cmocka_unit_test_setup_teardown(test_gen_good, gen_setup, gen_teardown),
        cmocka_unit_test_setup_teardown(test_gen_rejects_malformed, gen_setup, gen_teardown),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
