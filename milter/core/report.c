/*
 * report.c - the rejection report engine (see report.h): reads maillog and
 * audit lines, classifies rejections, keeps counters.
 *
 * WHAT IS A REJECTION
 *  Maillog: a line "<time> <host> <tag>[<pid>]: <QUEUEID|NOQUEUE>: <what>: ..."
 *  where <what> is "reject" (smtpd restrictions, postscreen, cleanup
 *  header/body checks), "milter-reject" or "proxy-reject".  The three forms
 *  Postfix writes:
 *   A  smtpd, postscreen, milter:
 *      "RCPT from host[ip]: 550 5.1.1 <a@b>: text; from=<s> to=<r> proto=ESMTP helo=<h>"
 *      (postscreen separates with ", "; milter-reject at END-OF-MESSAGE logs
 *      no basic code: it is inferred from the enhanced code's class)
 *   B  cleanup header/body checks:
 *      "header Subject: x from host[ip]; from=<s> to=<r> proto=ESMTP helo=<h>: 5.7.1 text"
 *   C  smtpd_proxy_filter:
 *      "END-OF-MESSAGE: 554 5.7.0 text; from=<s> to=<r> proto=ESMTP helo=<h>"
 *  Logged without a reply: postscreen's "CONNECT from [ip]:port: too many
 *  connections" / "all server ports busy" (it sends a 421) and cleanup's
 *  "mime-error ..." (5.6.0).  The line may start with a syslog priority
 *  "<22>", and be in RFC 5424 form ("<22>1 TIME HOST APP PID MSGID SD MSG").
 *  "reject_warning" lines refuse nothing and are skipped, and so is a
 *  "reject:" anywhere else in a line (a remote server's bounce text, say).
 *  Audit log: JSON records with action reject, tempfail (milter-reword's
 *  own decisions; mode "audit" ones were not enforced and are counted
 *  apart) or observe (the MTA's own rejections the daemon saw).
 *
 * MALFORMED: a maillog line without a timestamp this file knows (syslog
 *  "Nov 22 13:45:01", RFC 3339 / ISO 8601 as rsyslog's high-precision
 *  format and journalctl -o short-iso write), an audit record that is not a
 *  complete JSON object with time and action, a rejection whose reply has
 *  no 4xx/5xx code, a line longer than the read buffer.
 *
 * SPEED: the scan does no allocation per line; a line costs a memchr for
 *  its end, a few byte compares on its timestamp, a memchr for the "]: "
 *  that ends the syslog tag and a compare of the queue id and "reject: ".
 *  Timestamps are converted only for rejections, through small caches
 *  (mktime and localtime are slow, and mktime stats /etc/localtime).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "engine.h"
#include "reply.h"
#include "report.h"

#define READ_BLOCK (1u << 20)

/* ---- small helpers ---- */

static const char *find_in(const char *s, const char *e, const char *needle, size_t nlen)
{
    if (s >= e)
        return NULL;
    return memmem(s, (size_t)(e - s), needle, nlen);
}
#define FIND(s, e, lit) find_in((s), (e), (lit), sizeof(lit) - 1)

/* Last occurrence of needle in [s, e). */
static const char *find_last(const char *s, const char *e, const char *needle, size_t nlen)
{
    const char *last = NULL, *p;
    while ((p = find_in(s, e, needle, nlen)) != NULL) {
        last = p;
        s = p + 1;
    }
    return last;
}
#define FIND_LAST(s, e, lit) find_last((s), (e), (lit), sizeof(lit) - 1)

static int starts(const char *s, const char *e, const char *lit, size_t n)
{
    return (size_t)(e - s) >= n && memcmp(s, lit, n) == 0;
}
#define STARTS(s, e, lit) starts((s), (e), (lit), sizeof(lit) - 1)

/* Copies [s, e) into buf (len bytes, NUL-terminated, cut). */
static char *copy_span(char *buf, size_t len, const char *s, const char *e)
{
    size_t n = s && e > s ? (size_t)(e - s) : 0;
    if (n >= len)
        n = len - 1;
    if (n)
        memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static int dig(char c)
{
    return c >= '0' && c <= '9';
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!dig(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* A moment: the local civil hour (for the buckets) and the epoch. */
struct stamp {
    int y, mo, d, h;
    time_t t;
};

/* Epoch of a local civil time, with a cache of hour starts. */
static time_t local_epoch(struct report *r, int y, int mo, int d, int h, int mi, int s)
{
    long key = (((long)y * 16 + mo) * 32 + d) * 24 + h;
    size_t slot = (size_t)(key ^ (key >> 5)) & 63;
    if (r->lcache[slot].key != key) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_isdst = -1;
        r->lcache[slot].key = key;
        r->lcache[slot].t = mktime(&tm);
    }
    return r->lcache[slot].t + mi * 60 + s;
}

/* Local civil hour of an epoch, with a cache per quarter hour (every time
   zone offset and DST change is a multiple of 15 minutes). */
static void local_civil(struct report *r, time_t t, struct stamp *st)
{
    long blk = (long)(t >= 0 ? t / 900 : (t - 899) / 900);
    if (!r->tblock_valid || blk != r->tblock) {
        time_t b = (time_t)blk * 900;
        localtime_r(&b, &r->tblock_tm);
        r->tblock = blk;
        r->tblock_valid = 1;
    }
    st->y = r->tblock_tm.tm_year + 1900;
    st->mo = r->tblock_tm.tm_mon + 1;
    st->d = r->tblock_tm.tm_mday;
    st->h = r->tblock_tm.tm_hour;
    st->t = t;
}

static int month_of(const char *s)
{
    switch (s[0]) {
    case 'J':
        return s[1] == 'a' ? 1 : s[2] == 'n' ? 6 : s[2] == 'l' ? 7 : 0;
    case 'F': return s[1] == 'e' ? 2 : 0;
    case 'M': return s[2] == 'r' ? 3 : s[2] == 'y' ? 5 : 0;
    case 'A': return s[1] == 'p' ? 4 : s[1] == 'u' ? 8 : 0;
    case 'S': return s[1] == 'e' ? 9 : 0;
    case 'O': return s[1] == 'c' ? 10 : 0;
    case 'N': return s[1] == 'o' ? 11 : 0;
    case 'D': return s[1] == 'e' ? 12 : 0;
    }
    return 0;
}

/* Length of the timestamp at the start of a line judged by its shape only
   (0: none): 15 for syslog's "Nov 22 13:45:01", up to the first space for
   "2026-11-22T13:45:01[.frac][Z|+hh:mm|+hhmm]". */
static size_t stamp_shape(const char *s, size_t len)
{
    if (len >= 15 && s[3] == ' ' && s[6] == ' ' && s[9] == ':' && s[12] == ':')
        return 15;
    if (len >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ')
        && s[13] == ':' && s[16] == ':') {
        size_t i = 19;
        while (i < len && s[i] != ' ')
            i++;
        return i;
    }
    return 0;
}

/* Parses the timestamp at s (a stamp_shape of n bytes, or a bare audit
   "time" value).  Returns 0, or -1 when it is not a valid time. */
static int parse_stamp(struct report *r, const char *s, size_t n, struct stamp *st)
{
    if (n == 15 && s[3] == ' ') {                       /* syslog, no year */
        int mo = month_of(s);
        int d = s[4] == ' ' ? num(s + 5, 1) : num(s + 4, 2);
        int h = num(s + 7, 2), mi = num(s + 10, 2), sec = num(s + 13, 2);
        if (mo == 0 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
            return -1;
        int y = r->ref_year;
        while (d > days_in_month(y, mo) && y > r->ref_year - 4)
            y--;                                        /* Feb 29 */
        if (d > days_in_month(y, mo))
            return -1;
        time_t t = local_epoch(r, y, mo, d, h, mi, sec);
        if (t > r->now + 86400) {                       /* December's lines read in January */
            y--;
            while (d > days_in_month(y, mo) && y > r->ref_year - 5)
                y--;
            t = local_epoch(r, y, mo, d, h, mi, sec);
        }
        st->y = y, st->mo = mo, st->d = d, st->h = h, st->t = t;
        return 0;
    }
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':'
        || s[16] != ':')
        return -1;
    int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
    int h = num(s + 11, 2), mi = num(s + 14, 2), sec = num(s + 17, 2);
    if (y < 1971 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0
        || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return -1;
    size_t i = 19;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        i++;
        while (i < n && dig(s[i]))
            i++;
    }
    if (i == n) {                                       /* no zone: local time */
        st->y = y, st->mo = mo, st->d = d, st->h = h;
        st->t = local_epoch(r, y, mo, d, h, mi, sec);
        return 0;
    }
    long off;
    if (s[i] == 'Z' && i + 1 == n)
        off = 0;
    else if ((s[i] == '+' || s[i] == '-') && n - i == 6 && s[i + 3] == ':'
             && num(s + i + 1, 2) >= 0 && num(s + i + 4, 2) >= 0)
        off = num(s + i + 1, 2) * 3600L + num(s + i + 4, 2) * 60L;
    else if ((s[i] == '+' || s[i] == '-') && n - i == 5 && num(s + i + 1, 4) >= 0)
        off = num(s + i + 1, 2) * 3600L + num(s + i + 3, 2) * 60L;
    else
        return -1;
    if (s[i] == '-')
        off = -off;
    time_t t = (time_t)(days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + sec - off);
    local_civil(r, t, st);
    return 0;
}

static void note_time(struct report *r, time_t t)
{
    struct report_input *in = r->cur;
    if (in && (in->first == 0 || t < in->first))
        in->first = t;
    if (in && t > in->last)
        in->last = t;
    if (r->log_first == 0 || t < r->log_first)
        r->log_first = t;
    if (t > r->log_last)
        r->log_last = t;
}

int report_parse_time(const char *s, time_t now, time_t *out)
{
    size_t n = strlen(s);
    char *end;
    if (n >= 2 && strchr("mhdw", s[n - 1]) && dig(s[0])) {
        long v = strtol(s, &end, 10);
        if (end == s + n - 1 && v >= 0 && v < 100000) {
            long unit = s[n - 1] == 'm' ? 60 : s[n - 1] == 'h' ? 3600
                      : s[n - 1] == 'd' ? 86400 : 7 * 86400;
            *out = now - (time_t)(v * unit);
            return 0;
        }
        return -1;
    }
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
    if (y < 1971 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    if (n > 10) {
        if ((n != 16 && n != 19) || (s[10] != ' ' && s[10] != 'T') || s[13] != ':'
            || (n == 19 && s[16] != ':'))
            return -1;
        tm.tm_hour = num(s + 11, 2);
        tm.tm_min = num(s + 14, 2);
        if (n == 19)
            tm.tm_sec = num(s + 17, 2);
        if (tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59
            || tm.tm_sec < 0 || tm.tm_sec > 60)
            return -1;
    }
    tm.tm_isdst = -1;
    *out = mktime(&tm);
    return *out == (time_t)-1 ? -1 : 0;
}

/* ---- malformed lines ---- */

static void malformed(struct report *r, const char *s, size_t len)
{
    r->malformed++;
    if (r->cur)
        r->cur->malformed++;
    if (r->nsamples >= REPORT_SAMPLES)
        return;
    struct report_sample *x = &r->samples[r->nsamples];
    char buf[200];
    report_sanitize(buf, sizeof buf, s, len);
    x->text = strdup(buf);
    x->file = strdup(r->cur ? r->cur->name : "(input)");
    x->line = r->cur_line;
    if (x->text && x->file)
        r->nsamples++;
    else {
        free(x->text);
        free(x->file);
        x->text = x->file = NULL;
    }
}

/* ---- one rejection ---- */

enum { SRC_MTA, SRC_MILTER, SRC_SELF };

struct rejection {
    int kind;                   /* REPORT_MAILLOG / REPORT_AUDIT */
    struct stamp when;
    const char *source;         /* "smtpd", "postscreen", "cleanup", "milter", "self", "mta"... */
    int src;                    /* SRC_* for the engine */
    const char *stage;          /* rule-file words: "rcpt", "eom", "header"... */
    const char *client_addr, *client_name, *sender, *rcpt, *helo;
    const char *text, *text_end;    /* the reply as logged */
    const char *alt, *alt_end;      /* audit observe: the explained reply (codes fallback) */
    const char *rule;           /* from the audit record */
    const char *action;         /* audit: "reject", "observe (audit mode)"... */
};

struct codes {
    int code, has_enh, eclass, esubj, edet;
    const char *text;           /* after the codes */
};

/* "550 5.1.1 text", "550-5.1.1 text", "5.7.1 text", "550 text" at s. */
static void parse_codes(const char *s, const char *e, struct codes *c)
{
    memset(c, 0, sizeof *c);
    while (s < e && *s == ' ')
        s++;
    if (e - s >= 3 && s[0] >= '2' && s[0] <= '5' && dig(s[1]) && dig(s[2])
        && (e - s == 3 || s[3] == ' ' || s[3] == '-')) {
        c->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        s += 3;
        if (s < e)
            s++;
    }
    while (s < e && *s == ' ')
        s++;
    if (e - s >= 5 && s[0] >= '2' && s[0] <= '5' && s[1] == '.') {
        const char *p = s + 2;
        int v[2] = { 0, 0 }, ok = 1;
        for (int k = 0; k < 2 && ok; k++) {
            int nd = 0;
            while (p < e && dig(*p) && nd < 4)
                v[k] = v[k] * 10 + (*p++ - '0'), nd++;
            ok = nd >= 1 && nd <= 3 && (k == 1 || (p < e && *p++ == '.'));
        }
        if (ok && (p == e || *p == ' ' || *p == ';')) {
            c->has_enh = 1;
            c->eclass = s[0] - '0';
            c->esubj = v[0];
            c->edet = v[1];
            s = p;
        }
    }
    while (s < e && *s == ' ')
        s++;
    c->text = s;
}

/* The reason key: "5.1.1 Recipient address rejected: User unknown ..." with
   the variable parts (addresses, bracketed hosts, IPv4 addresses) replaced. */
static void reason_key(char *out, size_t cap, int cls, int subj, int det, const char *s,
                       const char *e)
{
    size_t o = (size_t)snprintf(out, cap, "%d.%d.%d ", cls, subj, det);
    /* Postfix starts with the address or host the reply is about: "<a@b>: " */
    if (s < e && *s == '<') {
        const char *gt = memchr(s, '>', (size_t)(e - s));
        if (gt && e - gt >= 2 && gt[1] == ':' && gt[2] == ' ')
            s = gt + 3;
    }
    const size_t max = cap > 130 ? 130 : cap - 1;
    int cut = 0;
    while (s < e && o + 4 < max) {
        char ch = *s;
        if (ch == '<' || ch == '[') {
            char close = ch == '<' ? '>' : ']';
            const char *q = memchr(s, close, (size_t)(e - s));
            if (q && q - s < 256) {
                out[o++] = ch;
                out[o++] = '*';
                out[o++] = close;
                s = q + 1;
                continue;
            }
        }
        if ((ch == 'h' || ch == 'H') && (STARTS(s, e, "http://") || STARTS(s, e, "https://"))) {
            /* a URL: keep its host; its path (often the client's address) becomes "*" */
            const char *h = memchr(s, '/', (size_t)(e - s)) + 2;
            const char *q = h;
            while (q < e && *q != '/' && *q != ' ' && *q != ';' && *q != ',' && *q != ')')
                q++;
            if (q < e && *q == '/' && (size_t)(q - s) + o + 3 < max) {
                memcpy(out + o, s, (size_t)(q - s));
                o += (size_t)(q - s);
                out[o++] = '/';
                out[o++] = '*';
                while (q < e && *q != ' ')      /* a URL has no spaces; ";" may be in it */
                    q++;
                while (q[-1] == '.' || q[-1] == ',' || q[-1] == ';' || q[-1] == ')')
                    q--;
                s = q;
                continue;
            }
        }
        if (dig(ch) && !isalnum((unsigned char)out[o - 1])) {
            /* a dotted quad (an IPv4 address) -> "*" */
            const char *q = s;
            int dots = 0;
            while (q < e && (dig(*q) || *q == '.'))
                dots += *q++ == '.';
            if (q[-1] == '.')
                q--, dots--;
            if (dots == 3) {
                out[o++] = '*';
                s = q;
                continue;
            }
        }
        out[o++] = (unsigned char)ch < 0x20 ? ' ' : ch;
        s++;
    }
    if (s < e)
        cut = 1;
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == ';' || out[o - 1] == ','))
        o--;
    /* do not end inside a UTF-8 sequence */
    size_t k = o;
    while (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0x80)
        k--;
    if (k > 0 && (unsigned char)out[k - 1] >= 0xc0) {
        size_t need = ((unsigned char)out[k - 1] & 0xe0) == 0xc0 ? 2
                    : ((unsigned char)out[k - 1] & 0xf0) == 0xe0 ? 3 : 4;
        if (o - (k - 1) < need)
            o = k - 1;
    }
    if (cut && o + 4 <= cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static enum stage engine_stage(const char *stage)
{
    if (stage == NULL)
        return STAGE_COUNT;
    if (strcmp(stage, "header") == 0 || strcmp(stage, "body") == 0)
        return STAGE_EOM;               /* cleanup's checks answer at end of data */
    int s = stage_from_name(stage);
    return s < 0 ? STAGE_COUNT : (enum stage)s;
}

/* With -c: the rule that applies.  A milter rejection in the maillog is
   matched as a policy decision (the first reject/tempfail rule whose
   conditions hold on what the log line tells, and whose reply has the
   logged enhanced code); anything else as the MTA's reply. */
static const char *classify_by_rules(struct report *r, const struct rejection *x,
                                     const struct codes *c, int cls, int *subj, int *det,
                                     int *inferred, char *namebuf, size_t namelen)
{
    char text[1100];
    struct reply rp;
    reply_init(&rp);
    copy_span(text, sizeof text, c->text, x->text_end);
    char enh[24];
    if (c->has_enh)
        snprintf(enh, sizeof enh, "%d.%d.%d", cls, c->esubj, c->edet);
    int code = c->code / 100 == cls ? c->code : cls == 4 ? 450 : 550;
    if (reply_set(&rp, code, c->has_enh ? enh : NULL, text) < 0) {
        reply_free(&rp);
        return NULL;
    }
    struct session_facts f;
    memset(&f, 0, sizeof f);
    f.client_addr = x->client_addr;
    f.client_name = x->client_name;
    f.sender = x->sender;
    f.rcpt = x->rcpt;
    f.helo = x->helo;
    struct decision d;
    decision_init(&d);
    const char *rule = NULL;
    if (x->src == SRC_MILTER) {
        struct event ev = { .stage = engine_stage(x->stage), .source = "self", .orig = NULL,
                            .facts = &f };
        if (ev.stage == STAGE_COUNT)
            ev.stage = STAGE_EOM;
        if (engine_eval(r->cfg, &ev, &d) > 0 && d.rule
            && (d.action == ACTION_REJECT || d.action == ACTION_TEMPFAIL) && d.has_reply
            && d.reply.code / 100 == cls
            && (!c->has_enh || (d.reply.has_enhanced && d.reply.esubject == c->esubj
                                && d.reply.edetail == c->edet)))
            rule = d.rule->name;
    } else {
        struct event ev = { .stage = engine_stage(x->stage), .source = "mta", .orig = &rp,
                            .facts = &f };
        if (engine_eval(r->cfg, &ev, &d) > 0 && d.rule) {
            rule = d.rule->name;
            if (!c->has_enh && d.has_reply && d.reply.has_enhanced) {
                *subj = d.reply.esubject;
                *det = d.reply.edetail;
                *inferred = 0;
            }
        }
    }
    if (rule)
        rule = copy_span(namebuf, namelen, rule, rule + strlen(rule));
    decision_free(&d);
    reply_free(&rp);
    return rule;
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

static void count_rejection(struct report *r, const struct rejection *x, const char *line,
                            size_t len)
{
    struct codes c;
    parse_codes(x->text, x->text_end, &c);
    int cls = c.code ? c.code / 100 : c.has_enh ? c.eclass : 0;
    int subj = c.esubj, det = c.edet, inferred = !c.has_enh;
    if (!c.has_enh) {
        /* parse what can be parsed: a wrapped reply ("host x said: 550 5.1.1 ..."),
           or the enhanced code of the explained reply (audit observe records) */
        char buf[1100];
        struct reply rp;
        const char *srcs[2][2] = { { c.text, x->text_end }, { x->alt, x->alt_end } };
        for (int k = 0; k < 2 && inferred; k++) {
            if (srcs[k][0] == NULL)
                continue;
            reply_init(&rp);
            copy_span(buf, sizeof buf, srcs[k][0], srcs[k][1]);
            if (reply_parse(buf, &rp, NULL) == 0) {
                if (cls == 0)
                    cls = rp.code ? rp.code / 100 : rp.has_enhanced ? rp.eclass : 0;
                if (rp.has_enhanced && rp.eclass == cls) {
                    subj = rp.esubject;
                    det = rp.edetail;
                    inferred = 0;
                }
            }
            reply_free(&rp);
        }
    }
    if (cls != 4 && cls != 5) {
        malformed(r, line, len);        /* no 4xx/5xx reply: not readable as a rejection */
        return;
    }
    if (inferred)
        subj = det = 0;
    if ((r->since && x->when.t < r->since) || (r->until && x->when.t >= r->until)) {
        r->out_of_range++;
        return;
    }
    char rulebuf[160];
    const char *rule = x->rule;
    if (r->cfg && x->kind == REPORT_MAILLOG)
        rule = classify_by_rules(r, x, &c, cls, &subj, &det, &inferred, rulebuf, sizeof rulebuf);

    int kind = x->kind, temp = cls == 4;
    char key[200];
    r->rejections[kind]++;
    r->temp[kind] += (unsigned long)temp;
    if (r->cur)
        r->cur->rejections++;
    counter_add(&r->by_class, cls == 5 ? "5xx" : "4xx", kind, temp, 1);
    snprintf(key, sizeof key, "%d.%d.%d", cls, subj, det);
    counter_add(&r->by_enhanced, key, kind, temp, 1);
    reason_key(key, sizeof key, cls, subj, det, c.text, x->text_end);
    counter_add(&r->by_reason, key, kind, temp, 1);
    if (rule && *rule)
        counter_add(&r->by_rule, rule, kind, temp, 1);
    else if (kind == REPORT_AUDIT || r->cfg)
        counter_add(&r->by_rule, "(no rule)", kind, temp, 1);
    counter_add(&r->by_source, x->source && *x->source ? x->source : "?", kind, temp, 1);
    counter_add(&r->by_stage, x->stage && *x->stage ? x->stage : "?", kind, temp, 1);
    if (x->action)
        counter_add(&r->by_action, x->action, kind, temp, 1);
    const char *ckey = x->client_addr && *x->client_addr ? x->client_addr
                     : x->client_name && *x->client_name ? x->client_name : NULL;
    if (ckey) {
        struct counter_entry *e = counter_add(&r->by_client, ckey, kind, temp, 1);
        /* Postfix's "unknown", or the milter's "[addr]" for the same: no name */
        if (e && e->label == NULL && ckey == x->client_addr && x->client_name
            && *x->client_name && x->client_name[0] != '['
            && strcmp(x->client_name, "unknown") != 0) {
            char lb[200];
            report_sanitize(lb, sizeof lb, x->client_name, strlen(x->client_name));
            e->label = strdup(lb);
        }
    }
    const char *at = x->rcpt ? strrchr(x->rcpt, '@') : NULL;
    if (at && at[1]) {
        size_t i = 0;
        for (at++; at[i] && at[i] != '>' && i + 1 < sizeof key; i++)
            key[i] = (char)tolower((unsigned char)at[i]);
        key[i] = '\0';
        counter_add(&r->by_domain, key, kind, temp, 1);
    }
    /* hour bucket "YYYY-MM-DD HH", local time */
    char hk[16];
    snprintf(hk, sizeof hk, "%04d", x->when.y % 10000);
    hk[4] = '-';
    put2(hk + 5, x->when.mo);
    hk[7] = '-';
    put2(hk + 8, x->when.d);
    hk[10] = ' ';
    put2(hk + 11, x->when.h);
    hk[13] = '\0';
    counter_add(&r->by_hour, hk, kind, temp, 1);
    if (r->first == 0 || x->when.t < r->first)
        r->first = x->when.t;
    if (x->when.t > r->last)
        r->last = x->when.t;
    note_time(r, x->when.t);
}

/* ---- Postfix maillog lines ---- */

static const unsigned char qid_chars[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

enum { PF_REJECT, PF_MILTER, PF_PROXY };

/* Postfix's stage words in the rule file's words. */
static const char *stage_word(const char *w, const char *we, char *buf, size_t len)
{
    static const struct { const char *pf, *rw; } map[] = {
        { "RCPT", "rcpt" }, { "MAIL", "mail" }, { "CONNECT", "connect" }, { "EHLO", "helo" },
        { "HELO", "helo" }, { "DATA", "data" }, { "BDAT", "data" },
        { "END-OF-MESSAGE", "eom" }, { "header", "header" }, { "mime-header", "header" },
        { "nested-header", "header" }, { "body", "body" },
    };
    size_t n = (size_t)(we - w);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].pf) == n && memcmp(map[i].pf, w, n) == 0)
            return map[i].rw;
    copy_span(buf, len, w, we);
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return buf;
}

/* "host[addr]", "[addr]:port", "host[addr]:port" or a bare name. */
static void split_client(const char *c, const char *ce, char *addr, size_t alen, char *name,
                         size_t nlen)
{
    const char *lb = memchr(c, '[', (size_t)(ce - c));
    const char *rb = lb ? memchr(lb, ']', (size_t)(ce - lb)) : NULL;
    if (lb && rb) {
        copy_span(addr, alen, lb + 1, rb);
        copy_span(name, nlen, c, lb);
    } else {
        addr[0] = '\0';
        copy_span(name, nlen, c, ce);
    }
}

/* Copies the value of "key<...>" (key like "to=<") found in [s, e). */
static const char *angle_value(const char *s, const char *e, const char *key, size_t klen,
                               char *buf, size_t len)
{
    const char *p = find_in(s, e, key, klen);
    if (p == NULL)
        return NULL;
    p += klen;
    const char *gt = memchr(p, '>', (size_t)(e - p));
    if (gt == NULL)
        return NULL;
    return copy_span(buf, len, p, gt);
}

/* A rejection line: line/len the whole line (for samples), stamp/tlen its
   timestamp, prog the program ("smtpd"), m the text after "reject: ". */
static void maillog_reject(struct report *r, const char *line, size_t len, const char *stamp,
                           size_t tlen, const char *prog, const char *m, int how)
{
    const char *end = line + len;
    struct rejection x;
    memset(&x, 0, sizeof x);
    x.kind = REPORT_MAILLOG;
    char stagebuf[32], addr[64], name[256], rcpt[320], sender[320], helo[256], mime[200];
    x.source = how == PF_MILTER ? "milter" : how == PF_PROXY ? "proxy" : prog;
    x.src = how == PF_MILTER ? SRC_MILTER : SRC_MTA;

    const char *w = m, *we = m;
    while (we < end && *we != ' ' && *we != ':')
        we++;
    if (we == w) {
        malformed(r, line, len);
        return;
    }
    x.stage = stage_word(w, we, stagebuf, sizeof stagebuf);
    const char *env = NULL, *env_end = NULL;    /* "; from=<s> to=<r> ..." */
    if (STARTS(we, end, " from ") && isupper((unsigned char)*w)) {
        /* A: "RCPT from host[ip]: reply; from=<s> to=<r> ..." */
        const char *c = we + 6;
        const char *colon = FIND(c, end, ": ");
        if (colon == NULL) {
            malformed(r, line, len);
            return;
        }
        split_client(c, colon, addr, sizeof addr, name, sizeof name);
        x.text = colon + 2;
        env = FIND_LAST(x.text, end, "; from=<");
        x.text_end = env ? env : end;
        env_end = end;
    } else if (STARTS(we, end, ": ")) {
        /* C: "END-OF-MESSAGE: reply; from=<s> to=<r> ..." */
        addr[0] = name[0] = '\0';
        x.text = we + 2;
        env = FIND_LAST(x.text, end, "; from=<");
        x.text_end = env ? env : end;
        env_end = end;
    } else {
        /* B: "header Subject: x from host[ip]; from=<s> to=<r> ...: 5.7.1 text" */
        env = FIND_LAST(we, end, "; from=<");
        const char *cf = env ? FIND_LAST(we, env, " from ") : NULL;
        const char *rt = env ? FIND(env, end, ">: ") : NULL;
        if (cf && rt == NULL && strcmp(x.stage, "mime-error") == 0) {
            /* "mime-error <what>: <text> from <client>; from=<s> to=<r>": no reply logged */
            snprintf(mime, sizeof mime, "5.6.0 MIME error: %.*s", (int)(cf > we ? cf - we - 1 : 0), we + 1);
            x.text = mime;
            x.text_end = mime + strlen(mime);
            rt = end - 1;
        } else if (cf == NULL || rt == NULL) {
            malformed(r, line, len);
            return;
        } else {
            x.text = rt + 3;
            x.text_end = end;
        }
        split_client(cf + 6, env, addr, sizeof addr, name, sizeof name);
        env_end = rt + 1;
    }
    if (how == PF_REJECT && strcmp(prog, "postscreen") == 0 && x.text < x.text_end
        && !dig(*x.text)) {
        /* postscreen's own refusals log no reply: it sends 421 and hangs up */
        static const char busy[] = "421 4.3.2 All server ports are busy";
        static const char many[] = "421 4.7.0 Error: too many connections";
        if (FIND(x.text, x.text_end, "ports busy")) {
            x.text = busy;
            x.text_end = busy + sizeof busy - 1;
        } else if (FIND(x.text, x.text_end, "too many connections")) {
            x.text = many;
            x.text_end = many + sizeof many - 1;
        }
    }
    x.client_addr = addr;
    x.client_name = name;
    if (env) {
        x.rcpt = angle_value(env, env_end, "to=<", 4, rcpt, sizeof rcpt);
        if (r->cfg) {
            x.sender = angle_value(env, env_end, "from=<", 6, sender, sizeof sender);
            x.helo = angle_value(env, env_end, "helo=<", 6, helo, sizeof helo);
        }
    }
    if (parse_stamp(r, stamp, tlen, &x.when) < 0) {
        malformed(r, line, len);
        return;
    }
    count_rejection(r, &x, line, len);
}

/* The program of a tag "postfix/smtpd" (up to te): "smtpd". */
static void prog_name(const char *ts, const char *te, char *buf, size_t len)
{
    const char *p = te;
    while (p > ts && p[-1] != '/' && p[-1] != ' ')
        p--;
    copy_span(buf, len, p, te);
}

/* RFC 5424 after the timestamp: " host app procid msgid SD msg".  Sets the
   program and returns the message, or NULL. */
static const char *rfc5424_msg(const char *p, const char *e, char *prog, size_t plen)
{
    const char *f[4];
    for (int k = 0; k < 4; k++) {
        if (p >= e || *p != ' ')
            return NULL;
        f[k] = ++p;
        while (p < e && *p != ' ')
            p++;
    }
    prog_name(f[1], f[2] - 1, prog, plen);
    if (p >= e || *p++ != ' ' || p >= e)
        return NULL;
    if (*p == '-')
        p++;
    else {
        while (p < e && *p == '[') {            /* structured data elements */
            while (p < e && *p != ']')
                p += *p == '\\' ? 2 : 1;
            p++;
        }
    }
    return p < e && *p == ' ' ? p + 1 : NULL;
}

static void maillog_line(struct report *r, const char *line, size_t len)
{
    const char *s = line, *e = line + len;
    int rfc5424 = 0;
    if (len > 3 && s[0] == '<') {               /* a syslog priority "<22>" */
        const char *q = s + 1;
        while (q < e && dig(*q) && q - s < 5)
            q++;
        if (q < e && *q == '>' && q > s + 1) {
            s = q + 1;
            if (e - s > 2 && s[0] == '1' && s[1] == ' ') {
                s += 2;
                rfc5424 = 1;
            }
        }
    }
    size_t tlen = stamp_shape(s, (size_t)(e - s));
    if (tlen == 0) {
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len || STARTS(line, e, "-- "))    /* blank, journalctl's "-- Boot ..." */
            r->blank++;
        else
            malformed(r, line, len);
        return;
    }
    if (r->cur ? r->cur->first == 0 : r->log_first == 0) {
        struct stamp st;
        if (parse_stamp(r, s, tlen, &st) == 0)
            note_time(r, st.t);
    }
    const char *p = s + tlen, *m, *rb = NULL;
    char prog[32];
    if (rfc5424) {
        if ((m = rfc5424_msg(p, e, prog, sizeof prog)) == NULL)
            return;
    } else {
        rb = memchr(p, ']', (size_t)(e - p));
        if (rb == NULL || e - rb < 3 || rb[1] != ':' || rb[2] != ' ')
            return;                             /* no "tag[pid]: ": not Postfix */
        m = rb + 3;
    }
    if (STARTS(m, e, "NOQUEUE: "))
        m += 9;
    else {
        const char *q = m;
        while (q < e && q - m < 24 && qid_chars[(unsigned char)*q])
            q++;
        if (q - m < 5 || e - q < 2 || q[0] != ':' || q[1] != ' ')
            return;
        m = q + 2;
    }
    int how;
    if (STARTS(m, e, "reject: "))
        how = PF_REJECT, m += 8;
    else if (STARTS(m, e, "milter-reject: "))
        how = PF_MILTER, m += 15;
    else if (STARTS(m, e, "proxy-reject: "))
        how = PF_PROXY, m += 14;
    else
        return;
    if (rb) {                                   /* "postfix/smtpd[123]" -> "smtpd" */
        const char *lb = rb;
        while (lb > s + tlen && lb[-1] != '[')
            lb--;
        prog_name(s + tlen, lb > s + tlen ? lb - 1 : rb, prog, sizeof prog);
    }
    maillog_reject(r, line, len, s, tlen, prog, m, how);
}

/* ---- audit JSON lines (milter-reword's own format, see audit.h) ---- */

static void put_utf8(char *buf, size_t len, size_t *o, unsigned cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80)
        t[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        t[0] = (char)(0xc0 | (cp >> 6)), t[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    else
        t[0] = (char)(0xe0 | (cp >> 12)), t[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
        t[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    if (*o + n < len) {
        memcpy(buf + *o, t, n);
        *o += n;
    }
}

/* Finds "key":"value" and unescapes value into buf; NULL if absent or
   null; NULL and *bad set if unterminated or badly escaped. */
static const char *json_value(const char *line, const char *end, const char *key, char *buf,
                              size_t len, int *bad)
{
    char pat[40];
    int pl = snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = find_in(line, end, pat, (size_t)pl);
    if (p == NULL)
        return NULL;
    p += pl;
    size_t o = 0;
    for (; p < end && *p != '"'; p++) {
        if (*p != '\\') {
            if (o + 1 < len)
                buf[o++] = *p;
            continue;
        }
        if (++p >= end)
            break;
        switch (*p) {
        case 'n': case 'r': case 't': case 'b': case 'f':
            if (o + 1 < len)
                buf[o++] = ' ';
            break;
        case 'u': {
            if (end - p <= 4) {
                *bad = 1;
                return NULL;
            }
            unsigned cp = 0;
            for (int i = 1; i <= 4; i++) {
                int h = (unsigned char)p[i], v;
                if (dig((char)h))
                    v = h - '0';
                else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
                    v = (h | 0x20) - 'a' + 10;
                else {
                    *bad = 1;
                    return NULL;
                }
                cp = cp * 16 + (unsigned)v;
            }
            p += 4;
            if (cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff))
                cp = '?';
            put_utf8(buf, len, &o, cp);
            break;
        }
        default:
            if (o + 1 < len)
                buf[o++] = *p;
        }
    }
    if (p >= end) {
        *bad = 1;
        return NULL;
    }
    buf[o] = '\0';
    return buf;
}

static void audit_line(struct report *r, const char *s, size_t len)
{
    int bad = 0;
    const char *end = s + len;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char action[32], when[64], mode[16], stage[32], source[96], addr[64], name[256],
         rcpt[320], sender[320], helo[256], reply[1100], original[1100], rule[160], note[64];
    if (end[-1] != '}' || json_value(s, end, "action", action, sizeof action, &bad) == NULL
        || json_value(s, end, "time", when, sizeof when, &bad) == NULL) {
        malformed(r, s, len);
        return;
    }
    int observe = strcmp(action, "observe") == 0;
    if (!observe && strcmp(action, "reject") != 0 && strcmp(action, "tempfail") != 0)
        return;                 /* log, discard, accept: not rejections */
    struct rejection x;
    memset(&x, 0, sizeof x);
    x.kind = REPORT_AUDIT;
    if (parse_stamp(r, when, strlen(when), &x.when) < 0) {
        malformed(r, s, len);
        return;
    }
    x.source = json_value(s, end, "source", source, sizeof source, &bad);
    x.src = observe ? SRC_MTA : SRC_SELF;
    x.stage = json_value(s, end, "stage", stage, sizeof stage, &bad);
    x.client_addr = json_value(s, end, "client_addr", addr, sizeof addr, &bad);
    x.client_name = json_value(s, end, "client_name", name, sizeof name, &bad);
    x.rcpt = json_value(s, end, "rcpt", rcpt, sizeof rcpt, &bad);
    x.sender = json_value(s, end, "sender", sender, sizeof sender, &bad);
    x.helo = json_value(s, end, "helo", helo, sizeof helo, &bad);
    x.rule = json_value(s, end, "rule", rule, sizeof rule, &bad);
    const char *rp = json_value(s, end, "reply", reply, sizeof reply, &bad);
    const char *orig = json_value(s, end, "original", original, sizeof original, &bad);
    const char *md = json_value(s, end, "mode", mode, sizeof mode, &bad);
    int audit_mode = md && strcmp(md, "audit") == 0 && !observe;
    /* what the client saw: the MTA's text for an observed rejection, the
       reply sent for an own decision */
    const char *text = observe ? (orig ? orig : rp) : rp;
    if (text == NULL && !observe)
        text = strcmp(action, "reject") == 0 ? "550" : "451";
    if (x.source == NULL || text == NULL || bad) {
        malformed(r, s, len);
        return;
    }
    x.text = text;
    x.text_end = text + strlen(text);
    if (observe && rp && text != rp) {
        x.alt = rp;
        x.alt_end = rp + strlen(rp);
    }
    if (x.rule == NULL && json_value(s, end, "note", note, sizeof note, &bad)
        && strncmp(note, "on_error", 8) == 0)
        x.rule = "(internal error: on_error)";
    char act[48];
    snprintf(act, sizeof act, "%s%s", action, audit_mode ? " (audit mode)" : "");
    x.action = act;
    unsigned long before = r->rejections[REPORT_AUDIT];
    count_rejection(r, &x, s, len);
    if (audit_mode && r->rejections[REPORT_AUDIT] > before)
        r->audit_mode++;
}

/* ---- input ---- */

void report_init(struct report *r)
{
    memset(r, 0, sizeof *r);
    r->now = time(NULL);
    struct tm tm;
    localtime_r(&r->now, &tm);
    r->ref_year = tm.tm_year + 1900;
    for (size_t i = 0; i < sizeof r->lcache / sizeof r->lcache[0]; i++)
        r->lcache[i].key = -1;
}

void report_free(struct report *r)
{
    struct counter *all[] = { &r->by_class, &r->by_enhanced, &r->by_reason, &r->by_rule,
                              &r->by_source, &r->by_stage, &r->by_action, &r->by_client,
                              &r->by_domain, &r->by_hour };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        counter_free(all[i]);
    for (size_t i = 0; i < r->nsamples; i++) {
        free(r->samples[i].file);
        free(r->samples[i].text);
    }
    for (size_t i = 0; i < r->ninputs; i++)
        free(r->inputs[i].name);
    free(r->inputs);
    memset(r, 0, sizeof *r);
}

void report_line(struct report *r, const char *line, size_t len)
{
    r->lines++;
    r->bytes += len + 1;
    r->cur_line++;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > 0 && line[0] == '{') {
        if (r->cur)
            r->cur->audit_lines++;
        audit_line(r, line, len);
        return;
    }
    if (r->cur)
        r->cur->maillog_lines++;
    maillog_line(r, line, len);
}

static int input_failed(struct report_input *in, const char *what)
{
    in->failed = 1;
    snprintf(in->error, sizeof in->error, "%s", what);
    return -1;
}

/* Other compressors' magic bytes: name, or NULL. */
static const char *other_compression(const unsigned char *b, size_t n)
{
    if (n >= 3 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h')
        return "bzip2 (read it with: bzcat FILE | reword report -)";
    if (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0)
        return "xz (read it with: xzcat FILE | reword report -)";
    if (n >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0)
        return "zstd (read it with: zstdcat FILE | reword report -)";
    return NULL;
}

int report_file(struct report *r, const char *path)
{
    struct report_input *ni = realloc(r->inputs, (r->ninputs + 1) * sizeof *ni);
    if (ni == NULL)
        return -1;
    r->inputs = ni;
    struct report_input *in = &r->inputs[r->ninputs];
    memset(in, 0, sizeof *in);
    if ((in->name = strdup(strcmp(path, "-") == 0 ? "(standard input)" : path)) == NULL)
        return -1;
    r->ninputs++;
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return input_failed(in, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        close(fd);
        return input_failed(in, "is a directory");
    }
    gzFile f = gzdopen(fd, "rb");
    if (f == NULL) {
        close(fd);
        return input_failed(in, "out of memory");
    }
    gzbuffer(f, READ_BLOCK);
    char *buf = malloc(READ_BLOCK + 1);
    if (buf == NULL) {
        gzclose(f);
        return input_failed(in, "out of memory");
    }
    r->cur = in;
    r->cur_line = 0;
    size_t have = 0;
    int rc = 0, skipping = 0, first = 1;
    char last[48];
    size_t lastlen = 0;
    unsigned long long start_bytes = r->bytes;
    for (;;) {
        int n = gzread(f, buf + have, (unsigned)(READ_BLOCK - have));
        if (n < 0) {
            int err;
            const char *msg = gzerror(f, &err);
            rc = input_failed(in, err == Z_ERRNO ? strerror(errno) : msg);
            break;
        }
        if (first) {
            first = 0;
            in->gzip = !gzdirect(f);
            const char *other = other_compression((const unsigned char *)buf, (size_t)n);
            if (other && !in->gzip) {
                char msg[128];
                snprintf(msg, sizeof msg, "compressed with %s", other);
                rc = input_failed(in, msg);
                break;
            }
        }
        if (n == 0) {
            if (have > 0 && !skipping) {
                report_line(r, buf, have);
                lastlen = have < sizeof last ? have : sizeof last;
                memcpy(last, buf, lastlen);
            }
            int err;
            const char *msg = gzerror(f, &err);
            if (err != Z_OK && err != Z_STREAM_END)
                rc = input_failed(in, msg);     /* a truncated .gz */
            break;
        }
        have += (size_t)n;
        char *s = buf, *e = buf + have, *nl, *lastline = NULL;
        while ((nl = memchr(s, '\n', (size_t)(e - s))) != NULL) {
            if (skipping) {
                skipping = 0;           /* the rest of an over-long line */
                r->bytes += (size_t)(nl - s) + 1;
            } else {
                report_line(r, s, (size_t)(nl - s));
                lastline = s;
            }
            s = nl + 1;
        }
        if (lastline) {
            lastlen = (size_t)(e - lastline) < sizeof last ? (size_t)(e - lastline) : sizeof last;
            memcpy(last, lastline, lastlen);
        }
        have = (size_t)(e - s);
        if (have == READ_BLOCK) {       /* a line longer than the buffer */
            if (!skipping) {
                r->lines++;
                r->cur_line++;
                in->lines++;
                malformed(r, buf, 160);
            }
            r->bytes += have;
            skipping = 1;
            have = 0;
        } else if (have)
            memmove(buf, s, have);
    }
    /* the last line's time closes the span the logs cover */
    size_t tl = lastlen ? stamp_shape(last, lastlen) : 0;
    struct stamp st;
    if (tl && parse_stamp(r, last, tl, &st) == 0)
        note_time(r, st.t);
    in->bytes = r->bytes - start_bytes;
    in->lines += in->maillog_lines + in->audit_lines;
    free(buf);
    gzclose(f);
    r->cur = NULL;
    return rc;
}

/* ---- timeline ---- */

static long hour_index(const char *key)
{
    int y = num(key, 4), mo = num(key + 5, 2), d = num(key + 8, 2), h = num(key + 11, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0)
        return 0;
    return days_from_civil(y, mo, d) * 24 + h;
}

static long unit_index(long hidx, enum report_unit u)
{
    long days = hidx >= 0 ? hidx / 24 : (hidx - 23) / 24;
    if (u == REPORT_HOUR)
        return hidx;
    if (u == REPORT_DAY)
        return days;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    return (long)y * 12 + (m - 1);
}

static int hour_span(const struct report *r, long *lo, long *hi)
{
    int any = 0;
    for (size_t i = 0; i < r->by_hour.cap; i++) {
        if (r->by_hour.v[i].key == NULL)
            continue;
        long h = hour_index(r->by_hour.v[i].key);
        if (!any || h < *lo)
            *lo = h;
        if (!any || h > *hi)
            *hi = h;
        any = 1;
    }
    return any;
}

enum report_unit report_pick_unit(const struct report *r, size_t max_buckets)
{
    long lo = 0, hi = 0;
    if (!hour_span(r, &lo, &hi))
        return REPORT_HOUR;
    if ((size_t)(hi - lo + 1) <= max_buckets)
        return REPORT_HOUR;
    if ((size_t)(unit_index(hi, REPORT_DAY) - unit_index(lo, REPORT_DAY) + 1) <= max_buckets)
        return REPORT_DAY;
    return REPORT_MONTH;
}

struct report_bucket *report_timeline(const struct report *r, enum report_unit unit, size_t *n)
{
    long lo = 0, hi = 0;
    *n = 0;
    if (!hour_span(r, &lo, &hi))
        return NULL;
    long a = unit_index(lo, unit), b = unit_index(hi, unit);
    size_t cnt = (size_t)(b - a + 1);
    struct report_bucket *v = calloc(cnt, sizeof *v);
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < cnt; i++) {
        long idx = a + (long)i;
        int y, m, d;
        if (unit == REPORT_MONTH) {
            snprintf(v[i].label, sizeof v[i].label, "%04d-%02d", (int)(idx / 12) % 10000,
                     (int)(idx % 12) + 1);
            continue;
        }
        long days = unit == REPORT_HOUR ? (idx >= 0 ? idx / 24 : (idx - 23) / 24) : idx;
        civil_from_days(days, &y, &m, &d);
        if (unit == REPORT_HOUR)
            snprintf(v[i].label, sizeof v[i].label, "%04d-%02d-%02d %02d:00", y % 10000, m, d,
                     (int)(idx - days * 24));
        else
            snprintf(v[i].label, sizeof v[i].label, "%04d-%02d-%02d", y % 10000, m, d);
    }
    for (size_t i = 0; i < r->by_hour.cap; i++) {
        const struct counter_entry *e = &r->by_hour.v[i];
        if (e->key == NULL)
            continue;
        size_t k = (size_t)(unit_index(hour_index(e->key), unit) - a);
        for (int kind = 0; kind < REPORT_KINDS; kind++)
            for (int t = 0; t < 2; t++)
                v[k].n[kind][t] += e->n[kind][t];
    }
    *n = cnt;
    return v;
}

const char *report_source_meaning(const char *source)
{
    static const struct { const char *key, *text; } m[] = {
        { "smtpd", "Postfix smtpd restrictions (maillog)" },
        { "postscreen", "Postfix postscreen, before smtpd (maillog)" },
        { "cleanup", "Postfix header/body checks (maillog)" },
        { "milter", "a milter: milter-reword or another one (maillog)" },
        { "proxy", "a before-queue content filter, smtpd_proxy_filter (maillog)" },
        { "self", "milter-reword's own rules (audit log)" },
        { "mta", "the MTA's own rejection, observed by milter-reword (audit log)" },
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(m[i].key, source) == 0)
            return m[i].text;
    return "";
}
