/*
 * test_report.c - the report engine: the maillog and audit log a real
 * Postfix and the daemon wrote (tests/data/report/, made by
 * tests/integration/t_report.sh), the line forms real maillogs have
 * (rsyslog RFC 3339 and journalctl timestamps, queue ids, submission,
 * IPv6, postscreen, cleanup header/body checks, proxy-reject, replies
 * without codes), what is not a rejection, audit records, malformed
 * input, timestamps and the time filter, reason keys, gzip and long
 * lines, counters, the timeline, and classification with rules (-c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "unit.h"

#include "report.h"

#define DATA TEST_SRCDIR "/tests/data/report/"

static void feed(struct report *r, const char *line)
{
    report_line(r, line, strlen(line));
}

/* count of key in c: kind -1 = both kinds */
static unsigned long cnt(const struct counter *c, const char *key, int kind)
{
    return report_counter_entry_sum(report_counter_find(c, key), kind, -1);
}

static void setup_report(struct report *r)
{
    report_init(r);
    /* a fixed "now" keeps syslog dates without a year deterministic */
    r->now = 1795500000;            /* 2026-11-24 */
    r->ref_year = 2026;
}

/* ---- what a real Postfix and the daemon wrote ---- */

static void test_lab_maillog(void **state)
{
    (void)state;
    struct report r;
    report_init(&r);
    assert_int_equal(report_file(&r, DATA "postfix-lab.maillog"), 0);
    assert_int_equal(r.ninputs, 1);
    assert_int_equal(r.inputs[0].gzip, 0);
    assert_int_equal(r.inputs[0].lines, 64);
    assert_int_equal(r.lines, 64);
    assert_int_equal(r.malformed, 0);
    assert_int_equal(r.rejections[REPORT_MAILLOG], 10);
    assert_int_equal(r.rejections[REPORT_AUDIT], 0);
    assert_int_equal(r.temp[REPORT_MAILLOG], 2);
    assert_int_equal(cnt(&r.by_source, "smtpd", -1), 5);
    assert_int_equal(cnt(&r.by_source, "postscreen", -1), 1);
    assert_int_equal(cnt(&r.by_source, "cleanup", -1), 1);
    assert_int_equal(cnt(&r.by_source, "milter", -1), 3);
    assert_int_equal(cnt(&r.by_enhanced, "5.1.1", -1), 2);
    assert_int_equal(cnt(&r.by_enhanced, "5.7.1", -1), 5);
    assert_int_equal(cnt(&r.by_enhanced, "5.3.2", -1), 1);
    assert_int_equal(cnt(&r.by_enhanced, "4.2.1", -1), 1);
    assert_int_equal(cnt(&r.by_enhanced, "4.7.1", -1), 1);
    assert_int_equal(cnt(&r.by_stage, "rcpt", -1), 8);
    assert_int_equal(cnt(&r.by_stage, "eom", -1), 1);
    assert_int_equal(cnt(&r.by_stage, "header", -1), 1);
    assert_int_equal(cnt(&r.by_client, "127.0.0.1", -1), 8);
    assert_int_equal(cnt(&r.by_client, "127.0.0.3", -1), 1);
    assert_int_equal(cnt(&r.by_client, "127.0.0.4", -1), 1);
    assert_string_equal(report_counter_find(&r.by_client, "127.0.0.1")->label, "localhost");
    assert_null(report_counter_find(&r.by_client, "127.0.0.4")->label);     /* "unknown" */
    assert_int_equal(cnt(&r.by_domain, "local.test", -1), 9);
    assert_int_equal(cnt(&r.by_domain, "elsewhere.example", -1), 1);
    assert_int_equal(cnt(&r.by_reason,
                         "5.1.1 Recipient address rejected: User unknown in local recipient table",
                         -1), 2);
    assert_int_equal(cnt(&r.by_reason, "5.7.1 Mail for <*> is refused.", -1), 1);
    assert_int_equal(cnt(&r.by_reason, "5.7.1 Lottery mail is not welcome here", -1), 1);
    assert_int_equal(cnt(&r.by_reason, "5.3.2 Service currently unavailable", -1), 1);
    assert_int_equal(r.by_rule.n, 0);            /* no rule names without -c */
    assert_true(r.log_first > 0 && r.log_first <= r.first && r.last <= r.log_last);
    assert_true(r.inputs[0].first == r.log_first && r.inputs[0].last == r.log_last);
    report_free(&r);
}

static void test_lab_audit(void **state)
{
    (void)state;
    struct report r;
    report_init(&r);
    assert_int_equal(report_file(&r, DATA "daemon-audit.jsonl"), 0);
    assert_int_equal(r.inputs[0].audit_lines, 8);
    assert_int_equal(r.malformed, 0);
    assert_int_equal(r.rejections[REPORT_AUDIT], 8);
    assert_int_equal(r.rejections[REPORT_MAILLOG], 0);
    assert_int_equal(r.temp[REPORT_AUDIT], 2);
    assert_int_equal(cnt(&r.by_source, "self", -1), 3);
    assert_int_equal(cnt(&r.by_source, "mta", -1), 5);
    assert_int_equal(cnt(&r.by_rule, "rcpt-block", -1), 1);
    assert_int_equal(cnt(&r.by_rule, "rcpt-later", -1), 1);
    assert_int_equal(cnt(&r.by_rule, "eom-spam", -1), 1);
    assert_int_equal(cnt(&r.by_rule, "postfix-user-unknown", -1), 2);
    assert_int_equal(cnt(&r.by_action, "observe", -1), 5);
    assert_int_equal(cnt(&r.by_action, "reject", -1), 2);
    assert_int_equal(cnt(&r.by_action, "tempfail", -1), 1);
    assert_int_equal(cnt(&r.by_enhanced, "5.1.1", REPORT_AUDIT), 2);
    assert_int_equal(cnt(&r.by_enhanced, "4.2.1", REPORT_AUDIT), 1);
    assert_int_equal(cnt(&r.by_stage, "eom", -1), 1);
    /* both logs: the same events in two columns */
    assert_int_equal(report_file(&r, DATA "postfix-lab.maillog"), 0);
    assert_int_equal(r.ninputs, 2);
    assert_int_equal(cnt(&r.by_enhanced, "5.1.1", REPORT_MAILLOG), 2);
    assert_int_equal(cnt(&r.by_enhanced, "5.1.1", REPORT_AUDIT), 2);
    assert_int_equal(cnt(&r.by_enhanced, "5.1.1", -1), 4);
    report_free(&r);
}

/* ---- line forms of real maillogs ---- */

static void test_line_forms(void **state)
{
    (void)state;
    struct report r;
    setup_report(&r);
    /* rsyslog high precision; a recipient domain in capitals */
    feed(&r, "2026-11-22T13:45:01.123456+01:00 mx postfix/smtpd[123]: NOQUEUE: reject: RCPT from "
             "mail.example.net[192.0.2.7]: 550 5.1.1 <bob@Example.ORG>: Recipient address rejected: "
             "User unknown in local recipient table; from=<a@b.example> to=<bob@Example.ORG> "
             "proto=ESMTP helo=<mail.example.net>");
    assert_int_equal(r.rejections[0], 1);
    assert_int_equal(r.first, 1795351501);      /* 12:45:01 UTC */
    assert_int_equal(cnt(&r.by_domain, "example.org", -1), 1);
    assert_string_equal(report_counter_find(&r.by_client, "192.0.2.7")->label, "mail.example.net");
    /* journalctl -o short-iso; a queue id instead of NOQUEUE */
    feed(&r, "2026-11-22T13:46:00+0100 mx postfix/smtpd[124]: 4Xc9Qz1Fz2z9: reject: RCPT from "
             "unknown[2001:db8::5]: 450 4.7.1 <c@d.example>: Recipient address rejected: "
             "Greylisted, see https://postgrey.example/help/d.example.html; from=<a@b> to=<c@d.example> "
             "proto=ESMTP helo=<x>");
    assert_int_equal(r.rejections[0], 2);
    assert_int_equal(r.temp[0], 1);
    assert_int_equal(cnt(&r.by_client, "2001:db8::5", -1), 1);
    assert_int_equal(cnt(&r.by_reason, "4.7.1 Recipient address rejected: Greylisted, see "
                                       "https://postgrey.example/*", -1), 1);
    /* busybox syslogd (facility.priority before the tag); submission service; MAIL stage */
    feed(&r, "Nov 22 13:47:00 mx mail.info postfix/submission/smtpd[77]: NOQUEUE: reject: MAIL "
             "from h.example[198.51.100.4]: 553 5.7.1 <x@y.example>: Sender address rejected: not "
             "logged in; from=<x@y.example> proto=ESMTP helo=<h>");
    assert_int_equal(cnt(&r.by_stage, "mail", -1), 1);
    assert_int_equal(cnt(&r.by_source, "smtpd", -1), 3);
    /* postscreen: "[addr]:port", ", " between the envelope fields; DNSBL text with URL */
    feed(&r, "Nov 22 13:48:00 mx postfix/postscreen[9]: NOQUEUE: reject: RCPT from "
             "[203.0.113.9]:45678: 550 5.7.1 Service unavailable; client [203.0.113.9] blocked "
             "using zen.spamhaus.org; from=<x@y>, to=<u@rcpt.example>, proto=ESMTP, helo=<h>");
    assert_int_equal(cnt(&r.by_client, "203.0.113.9", -1), 1);
    assert_int_equal(cnt(&r.by_domain, "rcpt.example", -1), 1);
    assert_int_equal(cnt(&r.by_reason, "5.7.1 Service unavailable; client [*] blocked using "
                                       "zen.spamhaus.org", -1), 1);
    feed(&r, "Nov 22 13:48:01 mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[203.0.113.10]: "
             "554 5.7.1 Service unavailable; Client host [203.0.113.10] blocked using bl.spamcop.net; "
             "Blocked - see https://www.spamcop.net/bl.shtml?203.0.113.10; from=<x@y> to=<u@r.example> "
             "proto=ESMTP helo=<h>");
    assert_int_equal(cnt(&r.by_reason, "5.7.1 Service unavailable; Client host [*] blocked using "
                                       "bl.spamcop.net; Blocked - see https://www.spamcop.net/*", -1), 1);
    /* cleanup body check */
    feed(&r, "Nov 22 13:49:00 mx postfix/cleanup[5]: 4ABCDE12: reject: body see http://spam.example/x "
             "from h.example[192.0.2.1]; from=<a@b> to=<c@body.example> proto=ESMTP helo=<h>: 5.7.1 "
             "Spam link");
    assert_int_equal(cnt(&r.by_stage, "body", -1), 1);
    assert_int_equal(cnt(&r.by_source, "cleanup", -1), 1);
    assert_int_equal(cnt(&r.by_domain, "body.example", -1), 1);
    assert_int_equal(cnt(&r.by_reason, "5.7.1 Spam link", -1), 1);
    /* smtpd_proxy_filter: no client in the line */
    feed(&r, "Nov 22 13:50:00 mx postfix/smtpd[6]: NOQUEUE: proxy-reject: END-OF-MESSAGE: 554 5.7.0 "
             "Reject, id=12345-01 - spam; from=<a@b> to=<c@proxy.example> proto=ESMTP helo=<h>");
    assert_int_equal(cnt(&r.by_source, "proxy", -1), 1);
    assert_int_equal(cnt(&r.by_domain, "proxy.example", -1), 1);
    assert_int_equal(cnt(&r.by_enhanced, "5.7.0", -1), 1);
    /* milter at end of message: no basic code, class from the enhanced code */
    feed(&r, "Nov 22 13:51:00 mx postfix/cleanup[5]: 4ABCDE13: milter-reject: END-OF-MESSAGE from "
             "h[192.0.2.1]: 4.7.0 Try later; from=<a@b> to=<c@d> proto=ESMTP helo=<h>");
    assert_int_equal(cnt(&r.by_class, "4xx", -1), 2);
    assert_int_equal(cnt(&r.by_source, "milter", -1), 1);
    /* no enhanced code: X.0.0 of the class */
    feed(&r, "Nov 22 13:52:00 mx postfix/smtpd[6]: NOQUEUE: reject: CONNECT from h[192.0.2.2]: "
             "554 Go away; proto=SMTP");
    assert_int_equal(cnt(&r.by_enhanced, "5.0.0", -1), 1);
    assert_int_equal(cnt(&r.by_stage, "connect", -1), 1);
    /* ... unless it can be found: a wrapped reply */
    feed(&r, "Nov 22 13:52:30 mx postfix/smtpd[6]: NOQUEUE: reject: RCPT from h[192.0.2.2]: "
             "550 host mx.example said: 550 5.2.2 mailbox full; from=<a@b> to=<c@d>");
    assert_int_equal(cnt(&r.by_enhanced, "5.2.2", -1), 1);
    /* a syslog priority before the timestamp; RFC 5424 (rsyslog's protocol-23 format) */
    feed(&r, "<22>Nov 22 13:52:40 mx postfix/smtpd[6]: NOQUEUE: reject: RCPT from h[192.0.2.3]: "
             "550 5.1.1 <u@prio.example>: Recipient address rejected: x; from=<a@b> to=<u@prio.example>");
    assert_int_equal(cnt(&r.by_domain, "prio.example", -1), 1);
    feed(&r, "<22>1 2026-11-22T13:52:50.003+00:00 mx postfix/smtpd 1234 - - NOQUEUE: reject: RCPT "
             "from h[192.0.2.3]: 550 5.1.1 <u@rfc5424.example>: Recipient address rejected: x; "
             "from=<a@b> to=<u@rfc5424.example> proto=ESMTP helo=<h>");
    feed(&r, "<22>1 2026-11-22T13:52:51Z mx postfix/postscreen 99 - [meta x=\"1\"] NOQUEUE: reject: "
             "CONNECT from [192.0.2.4]:1234: too many connections");
    assert_int_equal(cnt(&r.by_domain, "rfc5424.example", -1), 1);
    /* postscreen's refusals without a reply in the log: the 421 it sends */
    feed(&r, "Nov 22 13:52:52 mx postfix/postscreen[9]: NOQUEUE: reject: CONNECT from "
             "[192.0.2.5]:2345: all server ports busy");
    assert_int_equal(cnt(&r.by_reason, "4.7.0 Error: too many connections", -1), 1);
    assert_int_equal(cnt(&r.by_reason, "4.3.2 All server ports are busy", -1), 1);
    assert_int_equal(cnt(&r.by_source, "postscreen", -1), 3);
    /* cleanup's MIME errors log no reply either */
    feed(&r, "Nov 22 13:52:53 mx postfix/cleanup[5]: 4ABCDE14: reject: mime-error invalid message/* "
             "or multipart/* encoding domain: base64 from h[192.0.2.1]; from=<a@b> to=<c@mime.example>");
    assert_int_equal(cnt(&r.by_enhanced, "5.6.0", -1), 1);
    assert_int_equal(cnt(&r.by_domain, "mime.example", -1), 1);
    /* an SPF policy text: the whole URL (with its ";" parts) is one "*" */
    feed(&r, "Nov 22 13:52:54 mx postfix/smtpd[6]: NOQUEUE: reject: RCPT from h[192.0.2.6]: 550 5.7.23 "
             "<c@d>: Recipient address rejected: Message rejected due to: SPF fail - not authorized. "
             "Please see http://www.openspf.net/Why?s=mfrom;id=a@b.example;ip=192.0.2.6;r=<UNKNOWN>; "
             "from=<a@b.example> to=<c@d> proto=ESMTP helo=<h>");
    assert_int_equal(cnt(&r.by_reason, "5.7.23 Recipient address rejected: Message rejected due to: "
                                       "SPF fail - not authorized. Please see http://www.openspf.net/*", -1), 1);
    unsigned long n = r.rejections[0];
    assert_int_equal(n, 16);
    /* not rejections */
    feed(&r, "Nov 22 13:53:00 mx postfix/smtpd[5]: NOQUEUE: reject_warning: RCPT from a[192.0.2.1]: "
             "450 4.7.1 would be refused; from=<a@b> to=<c@d> proto=ESMTP helo=<h>");
    feed(&r, "Nov 22 13:53:00 mx postfix/smtp[8]: 4ABC12345: to=<a@b>, relay=b[192.0.2.1]:25, "
             "dsn=5.7.1, status=bounced (host b[192.0.2.1] said: 550 5.7.1 reject: policy)");
    feed(&r, "Nov 22 13:53:00 mx postfix/qmgr[5]: 4ABC12345: removed");
    feed(&r, "Nov 22 13:53:00 mx postfix/smtpd[5]: warning: hostname x does not resolve to address 1.2.3.4");
    feed(&r, "Nov 22 13:53:00 mx kernel: [12345.678] eth0: link up");
    feed(&r, "Nov 22 13:53:00 mx amavis[77]: (12345-01) Blocked SPAM {DiscardedInbound}, reject: x");
    feed(&r, "-- Boot 1f2e3d --");
    feed(&r, "");
    assert_int_equal(r.rejections[0], n);
    assert_int_equal(r.malformed, 0);
    assert_int_equal(r.blank, 2);
    report_free(&r);
}

/* ---- audit records ---- */

static void test_audit_records(void **state)
{
    (void)state;
    struct report r;
    setup_report(&r);
    /* observed, original without basic code: the class from the enhanced code */
    feed(&r, "{\"time\":\"2026-11-22T13:45:01.123Z\",\"stage\":\"rcpt\",\"source\":\"mta\","
             "\"client_addr\":\"192.0.2.1\",\"client_name\":\"h.example\",\"rcpt\":\"u@D.example\","
             "\"original\":\"4.1.8 Sender address rejected: Domain not found\","
             "\"reply\":\"450 4.1.8 explained\",\"rule\":null,\"action\":\"observe\",\"mode\":\"enforce\"}");
    assert_int_equal(r.rejections[1], 1);
    assert_int_equal(r.temp[1], 1);
    assert_int_equal(cnt(&r.by_enhanced, "4.1.8", 1), 1);
    assert_int_equal(cnt(&r.by_rule, "(no rule)", 1), 1);
    assert_int_equal(cnt(&r.by_domain, "d.example", 1), 1);
    assert_int_equal(r.first, 1795355101);
    /* observed without any enhanced code: the explained reply's */
    feed(&r, "{\"time\":\"2026-11-22T13:45:02Z\",\"stage\":\"rcpt\",\"source\":\"mta\","
             "\"original\":\"Access denied\",\"reply\":\"550 5.7.1 explained\",\"rule\":\"x\","
             "\"action\":\"observe\",\"mode\":\"enforce\"}");
    assert_int_equal(cnt(&r.by_enhanced, "5.7.1", 1), 1);
    /* audit mode: counted apart */
    feed(&r, "{\"time\":\"2026-11-22T13:45:03Z\",\"stage\":\"rcpt\",\"source\":\"self\","
             "\"rcpt\":\"caf\\u00e9@x.example\",\"reply\":\"550 5.7.1 would refuse\","
             "\"rule\":\"trial\",\"action\":\"reject\",\"mode\":\"audit\"}");
    assert_int_equal(r.audit_mode, 1);
    assert_int_equal(cnt(&r.by_action, "reject (audit mode)", 1), 1);
    assert_int_equal(cnt(&r.by_rule, "trial", 1), 1);
    /* on_error without a rule */
    feed(&r, "{\"time\":\"2026-11-22T13:45:04Z\",\"stage\":\"rcpt\",\"source\":\"self\","
             "\"reply\":\"451 4.3.0 oops\",\"rule\":null,\"action\":\"tempfail\",\"mode\":\"enforce\","
             "\"note\":\"on_error: rule evaluation failed\"}");
    assert_int_equal(cnt(&r.by_rule, "(internal error: on_error)", 1), 1);
    /* not rejections */
    feed(&r, "{\"time\":\"2026-11-22T13:45:05Z\",\"source\":\"self\",\"action\":\"log\",\"mode\":\"enforce\"}");
    feed(&r, "{\"time\":\"2026-11-22T13:45:05Z\",\"source\":\"self\",\"action\":\"discard\",\"mode\":\"enforce\"}");
    assert_int_equal(r.rejections[1], 4);
    assert_int_equal(r.malformed, 0);
    /* malformed: truncated, no time, a bad time, a bad escape, no source */
    feed(&r, "{\"time\":\"2026-11-22T13:45:05Z\",\"action\":\"reject\",\"reply\":\"550 5.7.1 x");
    feed(&r, "{\"action\":\"reject\",\"reply\":\"550 5.7.1 x\",\"source\":\"self\"}");
    feed(&r, "{\"time\":\"yesterday\",\"action\":\"reject\",\"reply\":\"550 5.7.1 x\",\"source\":\"self\"}");
    feed(&r, "{\"time\":\"2026-11-22T13:45:05Z\",\"action\":\"reject\",\"reply\":\"550 \\uZZZZ\",\"source\":\"self\"}");
    feed(&r, "{\"time\":\"2026-11-22T13:45:05Z\",\"action\":\"reject\",\"reply\":\"550 5.7.1 x\"}");
    assert_int_equal(r.malformed, 5);
    assert_int_equal(r.rejections[1], 4);
    assert_int_equal(r.nsamples, 5);
    assert_int_equal(r.samples[0].line, 7);
    report_free(&r);
}

static void test_malformed_maillog(void **state)
{
    (void)state;
    struct report r;
    setup_report(&r);
    feed(&r, "garbage reject: here");
    feed(&r, "\001\002\377 reject: ");
    feed(&r, "Nov 99 xx postfix/smtpd[1]: NOQUEUE: reject: RCPT");
    feed(&r, "Nov 22 25:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 x");
    feed(&r, "Nov 22 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: no code");
    feed(&r, "Nov 22 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1] no colon");
    feed(&r, "Nov 22 10:00:00 mx postfix/cleanup[1]: 4ABCDE: reject: header Subject: x without envelope");
    assert_int_equal(r.malformed, 7);
    assert_int_equal(r.rejections[0], 0);
    assert_int_equal(r.nsamples, REPORT_SAMPLES);
    assert_string_equal(r.samples[0].text, "garbage reject: here");
    assert_string_equal(r.samples[1].text, "??? reject: ");         /* sanitized */
    assert_int_equal(r.samples[1].line, 2);
    report_free(&r);
}

/* ---- time ---- */

static void test_time(void **state)
{
    (void)state;
    struct report r;
    setup_report(&r);
    r.now = 1798761600 + 4 * 86400;         /* 2027-01-05 */
    r.ref_year = 2027;
    /* December's line read in January: last year */
    feed(&r, "Dec 31 23:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: "
             "550 5.1.1 x; from=<a@b> to=<c@d>");
    assert_int_equal(cnt(&r.by_hour, "2026-12-31 23", -1), 1);
    feed(&r, "Jan  2 01:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: "
             "550 5.1.1 x; from=<a@b> to=<c@d>");
    assert_int_equal(cnt(&r.by_hour, "2027-01-02 01", -1), 1);
    /* Feb 29 in a year that has none: the last year that has one */
    feed(&r, "Feb 29 12:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: "
             "550 5.1.1 x; from=<a@b> to=<c@d>");
    assert_int_equal(cnt(&r.by_hour, "2024-02-29 12", -1), 1);
    assert_int_equal(r.malformed, 0);
    report_free(&r);

    /* the filter: [since, until) */
    setup_report(&r);
    time_t since;
    assert_int_equal(report_parse_time("2026-11-22 13:00", 0, &since), 0);
    r.since = since;
    r.until = since + 3600;
    feed(&r, "2026-11-22T12:59:59 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 x");
    feed(&r, "2026-11-22T13:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 x");
    feed(&r, "2026-11-22T13:59:59 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 x");
    feed(&r, "2026-11-22T14:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 x");
    assert_int_equal(r.rejections[0], 2);
    assert_int_equal(r.out_of_range, 2);
    report_free(&r);

    time_t t;
    assert_int_equal(report_parse_time("24h", 100000, &t), 0);
    assert_int_equal(t, 100000 - 86400);
    assert_int_equal(report_parse_time("7d", 1000000, &t), 0);
    assert_int_equal(t, 1000000 - 7 * 86400);
    assert_int_equal(report_parse_time("90m", 10000, &t), 0);
    assert_int_equal(t, 10000 - 5400);
    assert_int_equal(report_parse_time("2w", 2000000, &t), 0);
    assert_int_equal(t, 2000000 - 14 * 86400);
    time_t a, b;
    assert_int_equal(report_parse_time("2026-11-22", 0, &a), 0);
    assert_int_equal(report_parse_time("2026-11-22 00:00", 0, &b), 0);
    assert_int_equal(a, b);
    assert_int_equal(report_parse_time("2026-11-22T00:00:30", 0, &b), 0);
    assert_int_equal(b, a + 30);
    assert_int_equal(report_parse_time("yesterday", 0, &t), -1);
    assert_int_equal(report_parse_time("2026-13-01", 0, &t), -1);
    assert_int_equal(report_parse_time("2026-02-30", 0, &t), -1);
    assert_int_equal(report_parse_time("2026-11-22 25:00", 0, &t), -1);
    assert_int_equal(report_parse_time("2026-11-22 10", 0, &t), -1);
    assert_int_equal(report_parse_time("7x", 0, &t), -1);
    assert_int_equal(report_parse_time("h", 0, &t), -1);
}

/* ---- files: gzip, CRLF, long lines, errors ---- */

static char *tmpfile_path(const char *tag)
{
    static char path[4][64];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 64, "/tmp/test_report.%s.%d", tag, (int)getpid());
    return p;
}

static const char reject_line[] =
    "Nov 22 13:45:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 "
    "<u@x.example>: Recipient address rejected: User unknown; from=<a@b> to=<u@x.example>";

static void test_files(void **state)
{
    (void)state;
    struct report r;
    /* plain with CRLF and no final newline */
    char *plain = tmpfile_path("plain");
    FILE *f = fopen(plain, "w");
    assert_non_null(f);
    fprintf(f, "%s\r\n%s", reject_line, reject_line);
    fclose(f);
    setup_report(&r);
    assert_int_equal(report_file(&r, plain), 0);
    assert_int_equal(r.rejections[0], 2);
    assert_int_equal(cnt(&r.by_domain, "x.example", -1), 2);   /* no "\r" left */
    report_free(&r);
    unlink(plain);

    /* gzip, two members, a line longer than the read buffer in between */
    char *gz = tmpfile_path("gz");
    gzFile g = gzopen(gz, "wb");
    assert_non_null(g);
    for (int i = 0; i < 1000; i++)
        gzprintf(g, "%s\n", reject_line);
    char *big = malloc(3u << 20);
    assert_non_null(big);
    memset(big, 'x', 3u << 20);
    gzwrite(g, big, 3u << 20);
    gzprintf(g, "\n%s\n", reject_line);
    gzclose(g);
    g = gzopen(gz, "ab");
    gzprintf(g, "%s\n", reject_line);
    gzclose(g);
    free(big);
    setup_report(&r);
    assert_int_equal(report_file(&r, gz), 0);
    assert_int_equal(r.inputs[0].gzip, 1);
    assert_int_equal(r.rejections[0], 1002);
    assert_int_equal(r.malformed, 1);
    assert_int_equal(r.lines, 1003);
    assert_int_equal(r.samples[0].line, 1001);
    report_free(&r);

    /* a truncated gzip: what was read counts, the file is reported */
    FILE *in = fopen(gz, "rb");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    char *buf = malloc((size_t)size);
    assert_int_equal(fread(buf, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    char *cut = tmpfile_path("cut");
    f = fopen(cut, "wb");
    fwrite(buf, 1, (size_t)size - 20, f);
    fclose(f);
    free(buf);
    setup_report(&r);
    assert_int_equal(report_file(&r, cut), -1);
    assert_int_equal(r.inputs[0].failed, 1);
    assert_true(r.rejections[0] >= 1000);
    report_free(&r);
    unlink(cut);
    unlink(gz);

    /* other compressors, directories, missing files */
    char *xz = tmpfile_path("xz");
    f = fopen(xz, "wb");
    fwrite("\xfd" "7zXZ\0\0\0\0\0\0\0\0", 1, 12, f);
    fclose(f);
    setup_report(&r);
    assert_int_equal(report_file(&r, xz), -1);
    assert_non_null(strstr(r.inputs[0].error, "xz"));
    assert_int_equal(report_file(&r, "/"), -1);
    assert_string_equal(r.inputs[1].error, "is a directory");
    assert_int_equal(report_file(&r, "/nonexistent/maillog"), -1);
    assert_int_equal(r.ninputs, 3);
    report_free(&r);
    unlink(xz);
}

/* ---- counters, reasons, timeline ---- */

static void test_counters(void **state)
{
    (void)state;
    struct counter c = { 0 };
    for (int i = 0; i < 500; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%03d", i);
        report_counter_add(&c, key, i % 2, i % 3 == 0, (unsigned long)(i % 7) + 1);
    }
    report_counter_add(&c, "k000", REPORT_MAILLOG, 0, 100);
    assert_int_equal(c.n, 500);
    const struct counter_entry **idx = report_counter_sorted(&c, 0);
    assert_string_equal(idx[0]->key, "k000");
    for (size_t i = 1; i < c.n; i++)
        assert_true(report_counter_entry_sum(idx[i - 1], -1, -1) >= report_counter_entry_sum(idx[i], -1, -1));
    free(idx);
    idx = report_counter_sorted(&c, 1);
    for (size_t i = 1; i < c.n; i++)
        assert_true(strcmp(idx[i - 1]->key, idx[i]->key) < 0);
    free(idx);
    assert_int_equal(report_counter_entry_sum(report_counter_find(&c, "k003"), REPORT_AUDIT, 1), 4);
    assert_int_equal(report_counter_entry_sum(report_counter_find(&c, "k003"), REPORT_MAILLOG, -1), 0);
    /* keys are stored sanitized, and found again by the raw form */
    report_counter_add(&c, "bad\xff\x01key \xc3\xa9", 0, 0, 1);
    report_counter_add(&c, "bad\xff\x01key \xc3\xa9", 0, 0, 1);
    assert_int_equal(report_counter_entry_sum(report_counter_find(&c, "bad??key \xc3\xa9"), -1, -1), 2);
    report_counter_free(&c);
    assert_null(report_counter_sorted(&c, 0));

    char out[32];
    assert_int_equal(report_sanitize(out, sizeof out, "a\tb\xc3", 4), 4);
    assert_string_equal(out, "a?b?");
    report_sanitize(out, 4, "\xc3\xa9\xc3\xa9", 4);     /* cut on a character boundary */
    assert_string_equal(out, "\xc3\xa9");
}

static void test_memory_bounded(void **state)
{
    (void)state;
    struct report r;
    setup_report(&r);
    char line[400];
    for (int i = 0; i < 200000; i++) {
        snprintf(line, sizeof line, "Nov 22 13:%02d:%02d mx postfix/smtpd[%d]: NOQUEUE: reject: RCPT "
                 "from h%d[192.0.2.%d]: 550 5.1.1 <u%d@x%d.example>: Recipient address rejected: "
                 "User unknown; from=<a@b> to=<u%d@x%d.example>", i / 60 % 60, i % 60, i, i % 50,
                 i % 50, i, i % 20, i, i % 20);
        feed(&r, line);
    }
    assert_int_equal(r.rejections[0], 200000);
    assert_int_equal(r.by_client.n, 50);
    assert_int_equal(r.by_domain.n, 20);
    assert_int_equal(r.by_reason.n, 1);             /* addresses are not part of the reason */
    assert_int_equal(r.by_hour.n, 1);
    assert_true(r.by_client.cap <= 128);
    report_free(&r);
}

static void test_timeline(void **state)
{
    (void)state;
    struct report r;
    setup_report(&r);
    feed(&r, "2026-11-22T10:15:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 x");
    feed(&r, "2026-11-22T13:15:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 450 4.2.0 x");
    feed(&r, "2026-11-22T13:45:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 x");
    size_t n;
    struct report_bucket *v = report_timeline(&r, REPORT_HOUR, &n);
    assert_int_equal(n, 4);                             /* 10, 11, 12, 13: the gaps are there */
    assert_string_equal(v[0].label, "2026-11-22 10:00");
    assert_string_equal(v[3].label, "2026-11-22 13:00");
    assert_int_equal(v[1].n[0][0] + v[1].n[0][1] + v[2].n[0][0], 0);
    assert_int_equal(v[3].n[0][0], 1);
    assert_int_equal(v[3].n[0][1], 1);
    free(v);
    v = report_timeline(&r, REPORT_DAY, &n);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].label, "2026-11-22");
    assert_int_equal(v[0].n[0][0], 2);
    free(v);
    assert_int_equal(report_pick_unit(&r, 24), REPORT_HOUR);
    feed(&r, "2027-03-01T00:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 x");
    assert_int_equal(report_pick_unit(&r, 200), REPORT_DAY);
    assert_int_equal(report_pick_unit(&r, 50), REPORT_MONTH);
    v = report_timeline(&r, REPORT_MONTH, &n);
    assert_int_equal(n, 5);
    assert_string_equal(v[0].label, "2026-11");
    assert_string_equal(v[4].label, "2027-03");
    free(v);
    report_free(&r);
    report_init(&r);
    assert_null(report_timeline(&r, REPORT_DAY, &n));
    assert_int_equal(n, 0);
    report_free(&r);
}

/* ---- -c: classification with the admin's rules ---- */

static void test_rules(void **state)
{
    (void)state;
    struct diag_list dl;
    diag_init(&dl);
    struct config *cfg = conf_load_string(
        "rules = (\n"
        "  { name = \"block-bad\"; when = { stage = \"rcpt\"; rcpt = \"^bad@\"; };\n"
        "    action = \"reject\"; reply = { enhanced = \"5.7.1\"; text = \"No.\"; }; },\n"
        "  { name = \"go-away\"; when = { text = \"(?i)go away\"; };\n"
        "    reply = { enhanced = \"5.7.1\"; }; },\n"
        "  { name = \"unknown-user\"; when = { source = \"mta\"; text = \"User unknown\"; };\n"
        "    reply = { enhanced = \"5.1.1\"; }; }\n"
        ");\n", "report-test.conf", &dl);
    assert_non_null(cfg);
    diag_free(&dl);
    struct report r;
    setup_report(&r);
    r.cfg = cfg;
    feed(&r, "Nov 22 13:45:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 550 5.1.1 "
             "<u@x>: Recipient address rejected: User unknown in local recipient table; from=<a@b> to=<u@x>");
    assert_int_equal(cnt(&r.by_rule, "unknown-user", -1), 1);
    /* the enhanced code missing from the text: the rule's */
    feed(&r, "Nov 22 13:45:02 mx postfix/smtpd[1]: NOQUEUE: reject: CONNECT from a[192.0.2.1]: 554 Go away");
    assert_int_equal(cnt(&r.by_rule, "go-away", -1), 1);
    assert_int_equal(cnt(&r.by_enhanced, "5.7.1", -1), 1);
    /* a milter rejection: the policy rule whose conditions and code fit */
    feed(&r, "Nov 22 13:45:03 mx postfix/smtpd[1]: NOQUEUE: milter-reject: RCPT from a[192.0.2.1]: 550 5.7.1 "
             "No.; from=<a@b> to=<bad@x> proto=ESMTP helo=<h>");
    assert_int_equal(cnt(&r.by_rule, "block-bad", -1), 1);
    /* another milter's rejection with another code is not the rule's */
    feed(&r, "Nov 22 13:45:04 mx postfix/smtpd[1]: NOQUEUE: milter-reject: RCPT from a[192.0.2.1]: 550 5.7.0 "
             "Rspamd says no; from=<a@b> to=<bad@x> proto=ESMTP helo=<h>");
    assert_int_equal(cnt(&r.by_rule, "block-bad", -1), 1);
    assert_int_equal(cnt(&r.by_rule, "(no rule)", -1), 1);
    report_free(&r);
    conf_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lab_maillog),
        cmocka_unit_test(test_lab_audit),
        cmocka_unit_test(test_line_forms),
        cmocka_unit_test(test_audit_records),
        cmocka_unit_test(test_malformed_maillog),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_memory_bounded),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_rules),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
