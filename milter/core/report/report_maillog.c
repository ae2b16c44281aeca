/*
 * report_maillog.c - the rejection report's reading of Postfix maillog
 * lines (see report.h, report_int.h).
 *
 *  A rejection is a line "<time> <host> <tag>[<pid>]: <QUEUEID|NOQUEUE>: <what>: ..."
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
 *
 *  A line costs a memchr for its end, a few byte compares on its
 *  timestamp, a memchr for the "]: " that ends the syslog tag and a compare
 *  of the queue id and "reject: "; only rejections are parsed further.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

static const unsigned char qid_chars[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
    ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

enum { PF_REJECT, PF_MILTER, PF_PROXY };

/* Postfix's stage words in the rule file's words. */
static const char *stage_word(const char *w, const char *we, char *buf, size_t len)
{
    static const struct {
        const char *pf, *rw;
    } map[] = {
        {"RCPT", "rcpt"},
        {"MAIL", "mail"},
        {"CONNECT", "connect"},
        {"EHLO", "helo"},
        {"HELO", "helo"},
        {"DATA", "data"},
        {"BDAT", "data"},
        {"END-OF-MESSAGE", "eom"},
        {"header", "header"},
        {"mime-header", "header"},
        {"nested-header", "header"},
        {"body", "body"},
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
        report_malformed(r, line, len);
        return;
    }
    x.stage = stage_word(w, we, stagebuf, sizeof stagebuf);
    const char *env = NULL, *env_end = NULL; /* "; from=<s> to=<r> ..." */
    if (STARTS(we, end, " from ") && isupper((unsigned char)*w)) {
        /* A: "RCPT from host[ip]: reply; from=<s> to=<r> ..." */
        const char *c = we + 6;
        const char *colon = FIND(c, end, ": ");
        if (colon == NULL) {
            report_malformed(r, line, len);
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
            snprintf(mime, sizeof mime, "5.6.0 MIME error: %.*s", (int)(cf > we ? cf - we - 1 : 0),
                     we + 1);
            x.text = mime;
            x.text_end = mime + strlen(mime);
            rt = end - 1;
        } else if (cf == NULL || rt == NULL) {
            report_malformed(r, line, len);
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
    if (report_parse_stamp(r, stamp, tlen, &x.when) < 0) {
        report_malformed(r, line, len);
        return;
    }
    report_count_rejection(r, &x, line, len);
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
        while (p < e && *p == '[') { /* structured data elements */
            while (p < e && *p != ']')
                p += *p == '\\' ? 2 : 1;
            p++;
        }
    }
    return p < e && *p == ' ' ? p + 1 : NULL;
}

void report_maillog_line(struct report *r, const char *line, size_t len)
{
    const char *s = line, *e = line + len;
    int rfc5424 = 0;
    if (len > 3 && s[0] == '<') { /* a syslog priority "<22>" */
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
    size_t tlen = report_stamp_shape(s, (size_t)(e - s));
    if (tlen == 0) {
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len || STARTS(line, e, "-- ")) /* blank, journalctl's "-- Boot ..." */
            r->blank++;
        else
            report_malformed(r, line, len);
        return;
    }
    if (r->cur ? r->cur->first == 0 : r->log_first == 0) {
        struct stamp st;
        if (report_parse_stamp(r, s, tlen, &st) == 0)
            report_note_time(r, st.t);
    }
    const char *p = s + tlen, *m, *rb = NULL;
    char prog[32];
    if (rfc5424) {
        if ((m = rfc5424_msg(p, e, prog, sizeof prog)) == NULL)
            return;
    } else {
        rb = memchr(p, ']', (size_t)(e - p));
        if (rb == NULL || e - rb < 3 || rb[1] != ':' || rb[2] != ' ')
            return; /* no "tag[pid]: ": not Postfix */
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
    if (rb) { /* "postfix/smtpd[123]" -> "smtpd" */
        const char *lb = rb;
        while (lb > s + tlen && lb[-1] != '[')
            lb--;
        prog_name(s + tlen, lb > s + tlen ? lb - 1 : rb, prog, sizeof prog);
    }
    maillog_reject(r, line, len, s, tlen, prog, m, how);
}
