/*
 * test_report.c - the report engine on single lines: Postfix smtpd,
 * milter-reject and postscreen reject lines, syslog and RFC 3339
 * timestamps, audit records, reject_warning (not a rejection), malformed
 * lines, the time filter and the counters' ordering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report.h"

static void feed(struct report *r, const char *line)
{
    report_line(r, line, strlen(line));
}

static unsigned long count_of(const struct counter *c, const char *key)
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->keys[i] && strcmp(c->keys[i], key) == 0)
            return c->counts[i];
    return 0;
}

static void test_postfix_lines(void **state)
{
    (void)state;
    struct report r;
    report_init(&r);
    feed(&r, "Nov 22 13:45:01 mx postfix/smtpd[123]: NOQUEUE: reject: RCPT from mail.example.net[192.0.2.7]: "
             "550 5.1.1 <bob@Example.ORG>: Recipient address rejected: User unknown in local recipient table; "
             "from=<a@b.example> to=<bob@Example.ORG> proto=ESMTP helo=<mail.example.net>");
    feed(&r, "2026-11-22T13:46:02.123456+00:00 mx postfix/cleanup[9]: 4ABC: milter-reject: END-OF-MESSAGE "
             "from unknown[2001:db8::5]: 5.7.1 Refused as spam; from=<a@b> to=<c@d.example> proto=ESMTP helo=<x>");
    feed(&r, "Nov 22 14:01:00 mx postfix/postscreen[77]: NOQUEUE: reject: RCPT from [198.51.100.9]:40000: "
             "550 5.7.1 Service unavailable; client [198.51.100.9] blocked using zen.spamhaus.org; "
             "from=<x@y>, to=<u@d.example>, proto=ESMTP, helo=<h>");
    feed(&r, "Nov 22 14:02:00 mx postfix/smtpd[5]: NOQUEUE: reject_warning: RCPT from a[192.0.2.1]: "
             "450 4.7.1 would be refused; from=<a@b> to=<c@d> proto=ESMTP helo=<h>");
    feed(&r, "Nov 22 14:03:00 mx postfix/qmgr[5]: 4ABC: removed");
    assert_int_equal(r.rejections, 3);
    assert_int_equal(r.malformed, 0);
    assert_int_equal(count_of(&r.by_enhanced, "5.1.1"), 1);
    assert_int_equal(count_of(&r.by_enhanced, "5.7.1"), 2);
    assert_int_equal(count_of(&r.by_source, "mta"), 1);
    assert_int_equal(count_of(&r.by_source, "milter"), 1);
    assert_int_equal(count_of(&r.by_source, "postscreen"), 1);
    assert_int_equal(count_of(&r.by_stage, "eom"), 1);
    assert_int_equal(count_of(&r.by_client, "192.0.2.7"), 1);
    assert_int_equal(count_of(&r.by_client, "2001:db8::5"), 1);
    assert_int_equal(count_of(&r.by_client, "198.51.100.9"), 1);
    assert_int_equal(count_of(&r.by_domain, "example.org"), 1);   /* lower-cased */
    assert_int_equal(count_of(&r.by_domain, "d.example"), 2);
    assert_int_equal(count_of(&r.by_class, "5xx"), 3);
    report_free(&r);
}

static void test_audit_and_malformed(void **state)
{
    (void)state;
    struct report r;
    report_init(&r);
    feed(&r, "{\"time\":\"2026-11-22T13:45:01.000Z\",\"session\":\"S1\",\"stage\":\"rcpt\",\"source\":\"self\","
             "\"client_addr\":\"192.0.2.7\",\"rcpt\":\"x@blocked.example\",\"reply\":\"550 5.7.1 No \\\"thanks\\\"\","
             "\"rule\":\"block\",\"action\":\"reject\",\"mode\":\"enforce\"}");
    feed(&r, "{\"time\":\"2026-11-22T13:45:02.000Z\",\"source\":\"self\",\"reply\":null,\"action\":\"log\"}");
    feed(&r, "{\"time\":\"2026-11-22T13:45:03.000Z\",\"action\":\"reject\"");          /* no reply */
    feed(&r, "Nov 22 13:45:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT");           /* cut short */
    feed(&r, "Nov 22 13:45:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[1.2.3.4]: hello; from=<a> to=<b>");
    assert_int_equal(r.rejections, 1);
    assert_int_equal(r.audit_rejections, 1);
    assert_int_equal(count_of(&r.by_rule, "block"), 1);
    assert_int_equal(r.malformed, 3);
    report_free(&r);
}

static void test_time_filter(void **state)
{
    (void)state;
    struct report r;
    report_init(&r);
    assert_int_equal(report_parse_time("2026-11-22 13:46", 0, &r.since), 0);
    assert_int_equal(report_parse_time("2026-11-23", 0, &r.until), 0);
    feed(&r, "2026-11-22T13:45:59Z mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[1.2.3.4]: 550 5.1.1 x; from=<a> to=<b@c>");
    feed(&r, "2026-11-22T13:46:00Z mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[1.2.3.4]: 550 5.1.1 x; from=<a> to=<b@c>");
    feed(&r, "2026-11-23T00:00:00Z mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[1.2.3.4]: 550 5.1.1 x; from=<a> to=<b@c>");
    assert_int_equal(r.rejections, 1);
    assert_int_equal(r.out_of_range, 2);
    time_t t;
    assert_int_equal(report_parse_time("24h", 100000, &t), 0);
    assert_int_equal(t, 100000 - 86400);
    assert_int_equal(report_parse_time("7d", 1000000, &t), 0);
    assert_int_equal(t, 1000000 - 7 * 86400);
    assert_int_equal(report_parse_time("yesterday", 0, &t), -1);
    report_free(&r);
}

static void test_counter_order(void **state)
{
    (void)state;
    struct counter c = { 0 };
    for (int i = 0; i < 500; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%03d", i);
        counter_add(&c, key, (unsigned long)(i % 7) + 1);
    }
    counter_add(&c, "k000", 100);
    assert_int_equal(c.n, 500);
    size_t *idx = counter_sorted(&c, 0);
    assert_string_equal(c.keys[idx[0]], "k000");
    for (size_t i = 1; i < c.n; i++)
        assert_true(c.counts[idx[i - 1]] >= c.counts[idx[i]]);
    free(idx);
    idx = counter_sorted(&c, 1);
    for (size_t i = 1; i < c.n; i++)
        assert_true(strcmp(c.keys[idx[i - 1]], c.keys[idx[i]]) < 0);
    free(idx);
    for (size_t i = 0; i < c.cap; i++)
        free(c.keys[i]);
    free(c.keys);
    free(c.counts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix_lines),
        cmocka_unit_test(test_audit_and_malformed),
        cmocka_unit_test(test_time_filter),
        cmocka_unit_test(test_counter_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
