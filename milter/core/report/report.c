/*
 * report.c - the rejection report engine (see report.h): reads maillog and
 * audit lines, classifies rejections, keeps counters.  This file reads the
 * input and counts one rejection; its parts (report_int.h) read the
 * timestamps (report_time.c), the Postfix maillog (report_maillog.c), the
 * audit log (report_audit.c) and a reply's codes (report_reason.c), and
 * make the timeline (report_timeline.c).
 *
 * WHAT IS A REJECTION
 *  Maillog: a "reject", "milter-reject" or "proxy-reject" line of Postfix
 *  (see report_maillog.c).  Audit log: JSON records with action reject,
 *  tempfail (milter-reword's own decisions; mode "audit" ones were not
 *  enforced and are counted apart) or observe (the MTA's own rejections
 *  the daemon saw).
 *
 * MALFORMED: a maillog line without a timestamp report_time.c knows (syslog
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "engine.h"
#include "reply.h"
#include "report/report_int.h"

#define READ_BLOCK (1u << 20)

/* ---- malformed lines ---- */

void report_malformed(struct report *r, const char *s, size_t len)
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

static enum stage engine_stage(const char *stage)
{
    if (stage == NULL)
        return STAGE_COUNT;
    if (strcmp(stage, "header") == 0 || strcmp(stage, "body") == 0)
        return STAGE_EOM; /* cleanup's checks answer at end of data */
    int s = names_stage_lookup(stage);
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
    engine_decision_init(&d);
    const char *rule = NULL;
    if (x->src == SRC_MILTER) {
        struct event ev = {
            .stage = engine_stage(x->stage), .source = "self", .orig = NULL, .facts = &f};
        if (ev.stage == STAGE_COUNT)
            ev.stage = STAGE_EOM;
        if (engine_eval(r->cfg, &ev, &d) > 0 && d.rule
            && (d.action == ACTION_REJECT || d.action == ACTION_TEMPFAIL) && d.has_reply
            && d.reply.code / 100 == cls
            && (!c->has_enh
                || (d.reply.has_enhanced && d.reply.esubject == c->esubj
                    && d.reply.edetail == c->edet)))
            rule = d.rule->name;
    } else {
        struct event ev = {
            .stage = engine_stage(x->stage), .source = "mta", .orig = &rp, .facts = &f};
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
    engine_decision_free(&d);
    reply_free(&rp);
    return rule;
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void report_count_rejection(struct report *r, const struct rejection *x, const char *line,
                            size_t len)
{
    struct codes c;
    report_parse_codes(x->text, x->text_end, &c);
    int cls = c.code ? c.code / 100 : c.has_enh ? c.eclass : 0;
    int subj = c.esubj, det = c.edet, inferred = !c.has_enh;
    if (!c.has_enh) {
        /* parse what can be parsed: a wrapped reply ("host x said: 550 5.1.1 ..."),
           or the enhanced code of the explained reply (audit observe records) */
        char buf[1100];
        struct reply rp;
        const char *srcs[2][2] = {{c.text, x->text_end}, {x->alt, x->alt_end}};
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
        report_malformed(r, line, len); /* no 4xx/5xx reply: not readable as a rejection */
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
    report_counter_add(&r->by_class, cls == 5 ? "5xx" : "4xx", kind, temp, 1);
    snprintf(key, sizeof key, "%d.%d.%d", cls, subj, det);
    report_counter_add(&r->by_enhanced, key, kind, temp, 1);
    report_reason_key(key, sizeof key, cls, subj, det, c.text, x->text_end);
    report_counter_add(&r->by_reason, key, kind, temp, 1);
    if (rule && *rule)
        report_counter_add(&r->by_rule, rule, kind, temp, 1);
    else if (kind == REPORT_AUDIT || r->cfg)
        report_counter_add(&r->by_rule, "(no rule)", kind, temp, 1);
    report_counter_add(&r->by_source, x->source && *x->source ? x->source : "?", kind, temp, 1);
    report_counter_add(&r->by_stage, x->stage && *x->stage ? x->stage : "?", kind, temp, 1);
    if (x->action)
        report_counter_add(&r->by_action, x->action, kind, temp, 1);
    const char *ckey = x->client_addr && *x->client_addr   ? x->client_addr
                       : x->client_name && *x->client_name ? x->client_name
                                                           : NULL;
    if (ckey) {
        struct counter_entry *e = report_counter_add(&r->by_client, ckey, kind, temp, 1);
        /* Postfix's "unknown", or the milter's "[addr]" for the same: no name */
        if (e && e->label == NULL && ckey == x->client_addr && x->client_name && *x->client_name
            && x->client_name[0] != '[' && strcmp(x->client_name, "unknown") != 0) {
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
        report_counter_add(&r->by_domain, key, kind, temp, 1);
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
    report_counter_add(&r->by_hour, hk, kind, temp, 1);
    if (r->first == 0 || x->when.t < r->first)
        r->first = x->when.t;
    if (x->when.t > r->last)
        r->last = x->when.t;
    report_note_time(r, x->when.t);
}

/* ---- the sources' descriptions ---- */

const char *report_source_meaning(const char *source)
{
    static const struct {
        const char *key, *text;
    } m[] = {
        {"smtpd", "Postfix smtpd restrictions (maillog)"},
        {"postscreen", "Postfix postscreen, before smtpd (maillog)"},
        {"cleanup", "Postfix header/body checks (maillog)"},
        {"milter", "a milter: milter-reword or another one (maillog)"},
        {"proxy", "a before-queue content filter, smtpd_proxy_filter (maillog)"},
        {"self", "milter-reword's own rules (audit log)"},
        {"mta", "the MTA's own rejection, observed by milter-reword (audit log)"},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(m[i].key, source) == 0)
            return m[i].text;
    return "";
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
    struct counter *all[] = {&r->by_class,  &r->by_enhanced, &r->by_reason, &r->by_rule,
                             &r->by_source, &r->by_stage,    &r->by_action, &r->by_client,
                             &r->by_domain, &r->by_hour};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        report_counter_free(all[i]);
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
        report_audit_line(r, line, len);
        return;
    }
    if (r->cur)
        r->cur->maillog_lines++;
    report_maillog_line(r, line, len);
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
    if (n >= 6
        && memcmp(b,
                  "\xfd"
                  "7zXZ\0",
                  6)
               == 0)
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
                rc = input_failed(in, msg); /* a truncated .gz */
            break;
        }
        have += (size_t)n;
        char *s = buf, *e = buf + have, *nl, *lastline = NULL;
        while ((nl = memchr(s, '\n', (size_t)(e - s))) != NULL) {
            if (skipping) {
                skipping = 0; /* the rest of an over-long line */
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
        if (have == READ_BLOCK) { /* a line longer than the buffer */
            if (!skipping) {
                r->lines++;
                r->cur_line++;
                in->lines++;
                report_malformed(r, buf, 160);
            }
            r->bytes += have;
            skipping = 1;
            have = 0;
        } else if (have)
            memmove(buf, s, have);
    }
    /* the last line's time closes the span the logs cover */
    size_t tl = lastlen ? report_stamp_shape(last, lastlen) : 0;
    struct stamp st;
    if (tl && report_parse_stamp(r, last, tl, &st) == 0)
        report_note_time(r, st.t);
    in->bytes = r->bytes - start_bytes;
    in->lines += in->maillog_lines + in->audit_lines;
    free(buf);
    gzclose(f);
    r->cur = NULL;
    return rc;
}
