/*
 * gen_maillog.c - writes a synthetic but realistic Postfix maillog for the
 * `reword report` benchmark (bench/bench_report.sh):
 *
 *   gen_maillog SIZE_MB [DAYS] > maillog
 *
 * The log is a sequence of SMTP sessions of an inbound MX that also sends
 * some mail out, in the proportions one sees on a small mail server under
 * ordinary spam load: postscreen and smtpd connect/disconnect, TLS,
 * accepted and delivered messages (cleanup, qmgr, local/smtp delivery),
 * outbound deliveries (sent, deferred, bounced - a remote server's bounce
 * text can itself contain "reject:"), and rejections: unknown users,
 * DNSBL at smtpd and at postscreen, greylisting, reverse hostname, relay
 * denied, HELO checks, milter-reject at end of message, header checks.
 * About 1 line in 10 is a rejection.  Clients come from a skewed pool (a
 * few hosts send much, most send little), timestamps advance over DAYS
 * days (default 30) with a day/night cycle.  Deterministic (fixed seed).
 * The line formats are Postfix 3.7's.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 2685821657736338717ull) >> 32);
}

static uint32_t below(uint32_t n)
{
    return n ? rnd() % n : 0;
}

static char *out;
static size_t olen, ocap;
static unsigned long long total;

static void flush_out(void)
{
    fwrite(out, 1, olen, stdout);
    total += olen;
    olen = 0;
}

__attribute__((format(printf, 1, 2))) static void emit(const char *fmt, ...)
{
    va_list ap;
    if (ocap - olen < 4096)
        flush_out();
    va_start(ap, fmt);
    int n = vsnprintf(out + olen, ocap - olen, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < ocap - olen)
        olen += (size_t)n;
}

static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

/* current time: month index, day, seconds of day */
static int cur_mon = 9, cur_day = 1;
static double cur_sec;
static char ts[32];

static void stamp(void)
{
    int s = (int)cur_sec;
    snprintf(ts, sizeof ts, "%s %2d %02d:%02d:%02d", months[cur_mon], cur_day, s / 3600,
             s / 60 % 60, s % 60);
}

static void advance(double secs)
{
    cur_sec += secs;
    while (cur_sec >= 86400) {
        cur_sec -= 86400;
        if (++cur_day > mdays[cur_mon]) {
            cur_day = 1;
            cur_mon = (cur_mon + 1) % 12;
        }
    }
    stamp();
}

#define HOST "mx1"
static const char *local_domains[] = { "example.org", "example.net", "corp.example",
                                       "mail.example.com", "shop.example", "lists.example.org" };
static const char *remote_domains[] = { "gmail.com", "outlook.com", "yahoo.com", "gmx.de",
                                        "web.de", "example.co.uk", "mail.ru", "qq.com",
                                        "orange.fr", "icloud.com" };
static const char *words[] = { "alice", "bob", "carol", "dave", "erin", "frank", "grace",
                               "heidi", "ivan", "judy", "mallory", "info", "sales", "support",
                               "admin", "postmaster", "billing", "newsletter", "noreply", "hr" };

struct client {
    uint32_t ip;
    int named;
};
#define POOL 60000
static struct client pool[POOL];

static const struct client *pick_client(void)
{
    /* skewed: low indices are picked far more often */
    uint32_t k = below(POOL);
    k = below(k + 1);
    return &pool[k];
}

static void client_str(const struct client *c, char *name, size_t nlen, char *ip, size_t iplen)
{
    snprintf(ip, iplen, "%u.%u.%u.%u", c->ip >> 24, (c->ip >> 16) & 255, (c->ip >> 8) & 255,
             c->ip & 255);
    if (c->named)
        snprintf(name, nlen, "mail%u.%s", c->ip % 97, remote_domains[c->ip % 10]);
    else
        snprintf(name, nlen, "unknown");
}

static void qid(char *buf)
{
    static const char al[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
    buf[0] = '4';
    for (int i = 1; i < 12; i++)
        buf[i] = al[below(sizeof al - 1)];
    buf[12] = '\0';
}

static unsigned pid_smtpd = 20001, pid_ps = 1500, pid_cleanup = 1601, pid_qmgr = 1402,
                pid_local = 30001, pid_smtp = 31001;

static void local_rcpt(char *buf, size_t len)
{
    snprintf(buf, len, "%s%u@%s", words[below(20)], below(5) ? 0 : below(1000),
             local_domains[below(6)]);
}

static void remote_addr(char *buf, size_t len)
{
    snprintf(buf, len, "%s.%u@%s", words[below(20)], below(100000), remote_domains[below(10)]);
}

static void connect_lines(const char *name, const char *ip, int port, int postscreen)
{
    if (postscreen) {
        emit("%s " HOST " postfix/postscreen[%u]: CONNECT from [%s]:%d to [192.0.2.25]:25\n", ts,
             pid_ps, ip, port);
        emit("%s " HOST " postfix/postscreen[%u]: PASS OLD [%s]:%d\n", ts, pid_ps, ip, port);
    }
    if (strcmp(name, "unknown") == 0 && below(3) == 0)
        emit("%s " HOST " postfix/smtpd[%u]: warning: hostname %s.dyn.example does not resolve "
             "to address %s: Name or service not known\n", ts, pid_smtpd, ip, ip);
    emit("%s " HOST " postfix/smtpd[%u]: connect from %s[%s]\n", ts, pid_smtpd, name, ip);
}

static void reject_line(const char *name, const char *ip, const char *reply, const char *rcpt,
                        const char *sender, const char *helo)
{
    emit("%s " HOST " postfix/smtpd[%u]: NOQUEUE: reject: RCPT from %s[%s]: %s; from=<%s> "
         "to=<%s> proto=ESMTP helo=<%s>\n", ts, pid_smtpd, name, ip, reply, sender, rcpt, helo);
}

static void disconnect(const char *name, const char *ip, const char *cmds)
{
    emit("%s " HOST " postfix/smtpd[%u]: disconnect from %s[%s] %s\n", ts, pid_smtpd, name, ip,
         cmds);
}

static void accepted_message(const char *name, const char *ip, const char *helo, int milter_reject,
                             int header_reject)
{
    char q[16], rcpt[128], sender[128];
    qid(q);
    local_rcpt(rcpt, sizeof rcpt);
    remote_addr(sender, sizeof sender);
    emit("%s " HOST " postfix/smtpd[%u]: Anonymous TLS connection established from %s[%s]: "
         "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
         "server-signature RSA-PSS (2048 bits) server-digest SHA256\n", ts, pid_smtpd, name, ip);
    emit("%s " HOST " postfix/smtpd[%u]: %s: client=%s[%s]\n", ts, pid_smtpd, q, name, ip);
    advance(0.3);
    if (header_reject) {
        emit("%s " HOST " postfix/cleanup[%u]: %s: reject: header Subject: =?UTF-8?B?V2luIGEg"
             "cHJpemU=?= from %s[%s]; from=<%s> to=<%s> proto=ESMTP helo=<%s>: 5.7.1 Message "
             "content rejected\n", ts, pid_cleanup, q, name, ip, sender, rcpt, helo);
        disconnect(name, ip, "ehlo=2 starttls=1 mail=1 rcpt=1 data=0/1 quit=1 commands=6/7");
        return;
    }
    emit("%s " HOST " postfix/cleanup[%u]: %s: message-id=<%08x.%u@%s>\n", ts, pid_cleanup, q,
         rnd(), below(100000), strchr(sender, '@') + 1);
    if (milter_reject) {
        emit("%s " HOST " postfix/cleanup[%u]: %s: milter-reject: END-OF-MESSAGE from %s[%s]: "
             "5.7.1 Spam message rejected; from=<%s> to=<%s> proto=ESMTP helo=<%s>\n", ts,
             pid_cleanup, q, name, ip, sender, rcpt, helo);
        disconnect(name, ip, "ehlo=2 starttls=1 mail=1 rcpt=1 data=0/1 quit=1 commands=6/7");
        return;
    }
    unsigned size = 2000 + below(200000);
    emit("%s " HOST " postfix/qmgr[%u]: %s: from=<%s>, size=%u, nrcpt=1 (queue active)\n", ts,
         pid_qmgr, q, sender, size);
    disconnect(name, ip, "ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7");
    advance(0.2);
    emit("%s " HOST " postfix/lmtp[%u]: %s: to=<%s>, relay=mail.example.org[private/dovecot-lmtp], "
         "delay=0.61, delays=0.32/0.01/0.01/0.27, dsn=2.0.0, status=sent (250 2.0.0 <%s> "
         "aBcDeF%06u Saved)\n", ts, pid_local, q, rcpt, rcpt, below(1000000));
    emit("%s " HOST " postfix/qmgr[%u]: %s: removed\n", ts, pid_qmgr, q);
}

static void outbound(void)
{
    char q[16], to[128];
    qid(q);
    remote_addr(to, sizeof to);
    const char *dom = strchr(to, '@') + 1;
    emit("%s " HOST " postfix/pickup[%u]: %s: uid=33 from=<www-data@example.org>\n", ts, 1700, q);
    emit("%s " HOST " postfix/cleanup[%u]: %s: message-id=<%u.%08x@example.org>\n", ts,
         pid_cleanup, q, below(1u << 30), rnd());
    emit("%s " HOST " postfix/qmgr[%u]: %s: from=<www-data@example.org>, size=%u, nrcpt=1 "
         "(queue active)\n", ts, pid_qmgr, q, 900 + below(9000));
    advance(0.8);
    uint32_t k = below(20);
    if (k < 16)
        emit("%s " HOST " postfix/smtp[%u]: %s: to=<%s>, relay=mx.%s[198.51.100.%u]:25, "
             "delay=1.2, delays=0.05/0.01/0.4/0.74, dsn=2.0.0, status=sent (250 2.0.0 OK  "
             "%u %s - gsmtp)\n", ts, pid_smtp, q, to, dom, below(255), 1700000000u + below(1u << 24),
             q);
    else if (k < 19) {
        emit("%s " HOST " postfix/smtp[%u]: %s: to=<%s>, relay=mx.%s[198.51.100.%u]:25, "
             "delay=3.1, delays=0.05/0.01/2.9/0.1, dsn=4.7.0, status=deferred (host mx.%s"
             "[198.51.100.%u] said: 421 4.7.0 Try again later, closing connection. (in reply to "
             "MAIL FROM command))\n", ts, pid_smtp, q, to, dom, below(255), dom, below(255));
        return;                              /* stays in the queue */
    } else {
        emit("%s " HOST " postfix/smtp[%u]: %s: to=<%s>, relay=mx.%s[198.51.100.%u]:25, "
             "delay=1.0, delays=0.05/0.01/0.5/0.4, dsn=5.7.1, status=bounced (host mx.%s"
             "[198.51.100.%u] said: 550 5.7.1 Service unavailable, Client host blocked; "
             "reject: policy (in reply to RCPT TO command))\n", ts, pid_smtp, q, to, dom,
             below(255), dom, below(255));
        emit("%s " HOST " postfix/bounce[%u]: %s: sender non-delivery notification: %s\n", ts,
             1800, q, "4Xq9Zz1ab2zQ");
    }
    emit("%s " HOST " postfix/qmgr[%u]: %s: removed\n", ts, pid_qmgr, q);
}

static void session(void)
{
    const struct client *c = pick_client();
    char name[96], ip[32], helo[128], rcpt[128], sender[128], reply[512];
    client_str(c, name, sizeof name, ip, sizeof ip);
    snprintf(helo, sizeof helo, "%s", c->named ? name : "ylmf-pc");
    int port = 30000 + (int)below(30000);
    uint32_t k = below(1000);
    pid_smtpd = 20001 + below(40);
    if (k < 100) {                           /* postscreen DNSBL reject */
        local_rcpt(rcpt, sizeof rcpt);
        remote_addr(sender, sizeof sender);
        emit("%s " HOST " postfix/postscreen[%u]: CONNECT from [%s]:%d to [192.0.2.25]:25\n", ts,
             pid_ps, ip, port);
        emit("%s " HOST " postfix/dnsblog[%u]: addr %s listed by domain zen.spamhaus.org as "
             "127.0.0.%u\n", ts, 1550 + below(5), ip, 2 + below(10));
        advance(6);
        emit("%s " HOST " postfix/postscreen[%u]: DNSBL rank 3 for [%s]:%d\n", ts, pid_ps, ip, port);
        emit("%s " HOST " postfix/postscreen[%u]: NOQUEUE: reject: RCPT from [%s]:%d: 550 5.7.1 "
             "Service unavailable; client [%s] blocked using zen.spamhaus.org; from=<%s>, to=<%s>, "
             "proto=ESMTP, helo=<%s>\n", ts, pid_ps, ip, port, ip, sender, rcpt, helo);
        emit("%s " HOST " postfix/postscreen[%u]: DISCONNECT [%s]:%d\n", ts, pid_ps, ip, port);
        return;
    }
    if (k < 180) {                           /* dropped without a word */
        emit("%s " HOST " postfix/postscreen[%u]: CONNECT from [%s]:%d to [192.0.2.25]:25\n", ts,
             pid_ps, ip, port);
        emit("%s " HOST " postfix/postscreen[%u]: PREGREET 11 after 0.%02u from [%s]:%d: "
             "EHLO %s\\r\\n\n", ts, pid_ps, below(100), ip, port, helo);
        emit("%s " HOST " postfix/postscreen[%u]: DISCONNECT [%s]:%d\n", ts, pid_ps, ip, port);
        return;
    }
    if (k < 300) {                           /* outbound mail */
        outbound();
        return;
    }
    connect_lines(name, ip, port, 1);
    local_rcpt(rcpt, sizeof rcpt);
    remote_addr(sender, sizeof sender);
    advance(0.4);
    const char *fail = "ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4";
    if (k < 460) {
        snprintf(reply, sizeof reply, "550 5.1.1 <%s>: Recipient address rejected: User unknown "
                 "in virtual mailbox table", rcpt);
    } else if (k < 540) {
        snprintf(reply, sizeof reply, "554 5.7.1 Service unavailable; Client host [%s] blocked "
                 "using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?%s", ip, ip);
    } else if (k < 600) {
        snprintf(reply, sizeof reply, "450 4.2.0 <%s>: Recipient address rejected: Greylisted, "
                 "see http://postgrey.schweikert.ch/help/%s.html", rcpt, strchr(rcpt, '@') + 1);
    } else if (k < 640) {
        snprintf(reply, sizeof reply, "450 4.7.1 Client host rejected: cannot find your reverse "
                 "hostname, [%s]", ip);
    } else if (k < 660) {
        remote_addr(rcpt, sizeof rcpt);
        snprintf(reply, sizeof reply, "554 5.7.1 <%s>: Relay access denied", rcpt);
    } else if (k < 675) {
        snprintf(reply, sizeof reply, "504 5.5.2 <%s>: Helo command rejected: need fully-"
                 "qualified hostname", helo);
    } else if (k < 690) {
        snprintf(reply, sizeof reply, "550 5.7.1 <%s>: Recipient address rejected: Mail for "
                 "this address is refused by milter-reword rule local-block", rcpt);
        emit("%s " HOST " postfix/smtpd[%u]: NOQUEUE: milter-reject: RCPT from %s[%s]: %s; "
             "from=<%s> to=<%s> proto=ESMTP helo=<%s>\n", ts, pid_smtpd, name, ip, reply, sender,
             rcpt, helo);
        disconnect(name, ip, fail);
        return;
    } else if (k < 740) {                    /* lost connection */
        emit("%s " HOST " postfix/smtpd[%u]: lost connection after %s from %s[%s]\n", ts,
             pid_smtpd, below(2) ? "CONNECT" : "EHLO", name, ip);
        disconnect(name, ip, "ehlo=0/1 commands=0/1");
        return;
    } else {                                 /* accepted (some rejected at end of data) */
        accepted_message(name, ip, helo, k >= 970, k >= 960 && k < 970);
        return;
    }
    reject_line(name, ip, reply, rcpt, sender, helo);
    disconnect(name, ip, fail);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_maillog SIZE_MB [DAYS] > maillog\n");
        return 2;
    }
    unsigned long long size = strtoull(argv[1], NULL, 10) << 20;
    double days = argc > 2 ? atof(argv[2]) : 30;
    ocap = 1 << 20;
    if ((out = malloc(ocap)) == NULL)
        return 1;
    for (int i = 0; i < POOL; i++) {
        pool[i].ip = (rnd() | 0x01000000u) & 0xdfffffffu;
        pool[i].named = below(3) != 0;
    }
    /* about 620 bytes per session: spread the sessions over the days */
    double sessions = (double)size / 620.0;
    double step = days * 86400.0 / (sessions > 1 ? sessions : 1);
    stamp();
    while (total + olen < size) {
        /* day/night cycle: busier in the afternoon */
        double hour = cur_sec / 3600.0;
        double load = 0.55 + 0.45 * (hour >= 8 && hour < 20 ? 1.0 : 0.3);
        advance(step / load * (0.5 + (double)below(1000) / 1000.0));
        session();
        if (below(5000) == 0)
            emit("%s " HOST " postfix/anvil[1450]: statistics: max connection rate 12/60s for "
                 "(smtp:203.0.113.%u) at %s\n", ts, below(255), ts);
    }
    flush_out();
    return 0;
}
