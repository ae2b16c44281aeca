/*
 * report.c - the rejection report engine (see report.h): reads maillog and
 * audit lines, classifies rejections, keeps counters.
 *
 * Speed: most maillog lines are not rejections, so a line is only looked at
 * further when it contains "reject: " (Postfix's reject, milter-reject and
 * postscreen lines) or starts with "{" (an audit record); files are read in
 * 1 MiB blocks through zlib (which reads plain files as they are).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "engine.h"
#include "reply.h"
#include "report.h"

/* ---- counters ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int counter_grow(struct counter *c)
{
    size_t cap = c->cap ? c->cap * 2 : 64;
    char **keys = calloc(cap, sizeof *keys);
    unsigned long *counts = calloc(cap, sizeof *counts);
    if (keys == NULL || counts == NULL) {
        free(keys);
        free(counts);
        c->oom = 1;
        return -1;
    }
    for (size_t i = 0; i < c->cap; i++) {
        if (c->keys[i] == NULL)
            continue;
        size_t j = hash_str(c->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = c->keys[i];
        counts[j] = c->counts[i];
    }
    free(c->keys);
    free(c->counts);
    c->keys = keys;
    c->counts = counts;
    c->cap = cap;
    return 0;
}

void counter_add(struct counter *c, const char *key, unsigned long n)
{
    if (c->oom)
        return;
    if ((c->n + 1) * 10 >= c->cap * 7 && counter_grow(c) < 0)
        return;
    size_t j = hash_str(key) & (c->cap - 1);
    while (c->keys[j] && strcmp(c->keys[j], key) != 0)
        j = (j + 1) & (c->cap - 1);
    if (c->keys[j] == NULL) {
        if ((c->keys[j] = strdup(key)) == NULL) {
            c->oom = 1;
            return;
        }
        c->n++;
    }
    c->counts[j] += n;
}

static void counter_free(struct counter *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->keys[i]);
    free(c->keys);
    free(c->counts);
    memset(c, 0, sizeof *c);
}

static const struct counter *sort_ctx;
static int sort_by_key;

static int cmp_entries(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (!sort_by_key && sort_ctx->counts[x] != sort_ctx->counts[y])
        return sort_ctx->counts[x] > sort_ctx->counts[y] ? -1 : 1;
    return strcmp(sort_ctx->keys[x], sort_ctx->keys[y]);
}

size_t *counter_sorted(const struct counter *c, int by_key)
{
    size_t *idx = malloc((c->n ? c->n : 1) * sizeof *idx), k = 0;
    if (idx == NULL)
        return NULL;
    for (size_t i = 0; i < c->cap; i++)
        if (c->keys[i])
            idx[k++] = i;
    sort_ctx = c;       /* the report tool is single-threaded */
    sort_by_key = by_key;
    qsort(idx, k, sizeof *idx, cmp_entries);
    return idx;
}

void report_init(struct report *r)
{
    memset(r, 0, sizeof *r);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    r->now_year = tm.tm_year + 1900;
}

void report_free(struct report *r)
{
    struct counter *all[] = { &r->by_class, &r->by_enhanced, &r->by_rule, &r->by_source,
                              &r->by_client, &r->by_domain, &r->by_hour, &r->by_day,
                              &r->by_stage };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        counter_free(all[i]);
}

/* ---- time ---- */

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "Nov 22 13:45:01" (local time, year guessed) or "2026-11-22T13:45:01[.frac][+hh:mm|Z]". */
static time_t line_time(const struct report *r, const char *s, size_t len)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (len >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ')) {
        tm.tm_year = num(s, 4) - 1900;
        tm.tm_mon = num(s + 5, 2) - 1;
        tm.tm_mday = num(s + 8, 2);
        tm.tm_hour = num(s + 11, 2);
        tm.tm_min = num(s + 14, 2);
        tm.tm_sec = num(s + 17, 2);
        if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
            return -1;
        size_t i = 19;
        while (i < len && (s[i] == '.' || isdigit((unsigned char)s[i])))
            i++;
        time_t t = timegm(&tm);
        if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
            int off = num(s + i + 1, 2) * 3600 + num(s + i + 4, 2) * 60;
            t += s[i] == '+' ? -off : off;
        } else if (!(i < len && s[i] == 'Z')) {
            tm.tm_isdst = -1;
            t = mktime(&tm);        /* no zone: local time */
        }
        return t;
    }
    if (len >= 15 && s[3] == ' ' && s[6] == ' ' && s[9] == ':') {
        const char *m = strstr(months, (char[]){ s[0], s[1], s[2], 0 });
        if (m == NULL || (m - months) % 3)
            return -1;
        tm.tm_mon = (int)(m - months) / 3;
        tm.tm_mday = num(s + 4 + (s[4] == ' '), s[4] == ' ' ? 1 : 2);
        tm.tm_hour = num(s + 7, 2);
        tm.tm_min = num(s + 10, 2);
        tm.tm_sec = num(s + 13, 2);
        if (tm.tm_mday < 1 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
            return -1;
        tm.tm_year = r->now_year - 1900;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t > time(NULL) + 86400) {       /* December lines read in January */
            tm.tm_year--;
            tm.tm_isdst = -1;
            t = mktime(&tm);
        }
        return t;
    }
    return -1;
}

int report_parse_time(const char *s, time_t now, time_t *out)
{
    size_t n = strlen(s);
    char *end;
    if (n >= 2 && (s[n - 1] == 'h' || s[n - 1] == 'd')) {
        long v = strtol(s, &end, 10);
        if (end == s + n - 1 && v >= 0) {
            *out = now - v * (s[n - 1] == 'h' ? 3600 : 86400);
            return 0;
        }
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    tm.tm_year = num(s, 4) - 1900;
    tm.tm_mon = num(s + 5, 2) - 1;
    tm.tm_mday = num(s + 8, 2);
    if (tm.tm_mon < 0 || tm.tm_mday < 1)
        return -1;
    if (n > 10) {
        if (n < 16 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':')
            return -1;
        tm.tm_hour = num(s + 11, 2);
        tm.tm_min = num(s + 14, 2);
        if (n >= 19 && s[16] == ':')
            tm.tm_sec = num(s + 17, 2);
        if (tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
            return -1;
    }
    tm.tm_isdst = -1;
    *out = mktime(&tm);
    return 0;
}

/* ---- one rejection ---- */

struct rejection {
    time_t when;
    const char *stage;          /* "RCPT", "END-OF-MESSAGE", "rcpt" ... */
    const char *source;         /* "mta", "milter", "postscreen", "self", upstream */
    const char *client;
    const char *rcpt;
    const char *reply;          /* reply text as logged */
    const char *rule;           /* from the audit record, or NULL */
};

static void lower_into(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static void count_rejection(struct report *r, const struct rejection *x)
{
    if ((r->since && x->when < r->since) || (r->until && x->when >= r->until)) {
        r->out_of_range++;
        return;
    }
    struct reply rp;
    reply_init(&rp);
    if (reply_parse(x->reply, &rp, NULL) < 0) {
        reply_free(&rp);
        r->malformed++;
        return;
    }
    /* Postfix logs milter-reject texts without the basic code: infer it. */
    if (rp.code == 0 && rp.has_enhanced)
        rp.code = rp.eclass == 4 ? 450 : 550;
    int cls = rp.code / 100;
    char enh[32];
    const char *rule = x->rule;
    struct decision d;
    decision_init(&d);
    if (rp.has_enhanced)
        snprintf(enh, sizeof enh, "%d.%d.%d", rp.eclass, rp.esubject, rp.edetail);
    else
        snprintf(enh, sizeof enh, "%d.0.0", cls);
    if (r->cfg) {
        struct session_facts f;
        memset(&f, 0, sizeof f);
        f.rcpt = x->rcpt;
        f.client_addr = x->client;
        struct event ev = { .stage = STAGE_COUNT, .source = NULL, .orig = &rp, .facts = &f };
        if (engine_eval(r->cfg, &ev, &d) > 0) {
            if (rule == NULL && d.rule)
                rule = d.rule->name;
            if (!rp.has_enhanced && d.has_reply && d.reply.has_enhanced)
                snprintf(enh, sizeof enh, "%d.%d.%d", d.reply.eclass, d.reply.esubject,
                         d.reply.edetail);
        }
    }
    char key[64];
    r->rejections++;
    snprintf(key, sizeof key, "%dxx", cls);
    counter_add(&r->by_class, key, 1);
    counter_add(&r->by_enhanced, enh, 1);
    counter_add(&r->by_rule, rule && *rule ? rule : "(no rule)", 1);
    counter_add(&r->by_source, x->source, 1);
    counter_add(&r->by_stage, x->stage && *x->stage ? x->stage : "?", 1);
    if (x->client && *x->client)
        counter_add(&r->by_client, x->client, 1);
    const char *at = x->rcpt ? strrchr(x->rcpt, '@') : NULL;
    if (at && at[1]) {
        char dom[256];
        lower_into(dom, sizeof dom, at + 1);
        counter_add(&r->by_domain, dom, 1);
    }
    if (x->when > 0) {
        struct tm tm;
        localtime_r(&x->when, &tm);
        strftime(key, sizeof key, "%Y-%m-%d %H:00", &tm);
        counter_add(&r->by_hour, key, 1);
        strftime(key, sizeof key, "%Y-%m-%d", &tm);
        counter_add(&r->by_day, key, 1);
        if (r->first == 0 || x->when < r->first)
            r->first = x->when;
        if (x->when > r->last)
            r->last = x->when;
    }
    decision_free(&d);
    reply_free(&rp);
}

/* ---- Postfix maillog lines ---- */

/* Copies [s, e) into buf (NUL-terminated, cut to len). */
static const char *copy_span(char *buf, size_t len, const char *s, const char *e)
{
    size_t n = (size_t)(e - s);
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static const char *find_in(const char *s, const char *e, const char *needle)
{
    return memmem(s, (size_t)(e - s), needle, strlen(needle));
}

/* "<stage> from <client>: <reply>; from=<..> to=<..> ..." after "reject: " */
static void maillog_reject(struct report *r, const char *line, size_t len, const char *p)
{
    const char *end = line + len;
    struct rejection x = { 0 };
    char stage[32], client[128], reply[1200], rcpt[320];
    x.when = line_time(r, line, len);
    x.source = find_in(line, p, "milter-reject") ? "milter"
             : find_in(line, p, "/postscreen[") ? "postscreen" : "mta";
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    const char *from = find_in(p, end, " from ");
    if (sp == NULL || from == NULL || from != sp) {
        r->malformed++;
        return;
    }
    copy_span(stage, sizeof stage, p, sp);
    /* Postfix's words for the stage, in milter-reword's (rule file) words */
    x.stage = strcmp(stage, "END-OF-MESSAGE") == 0 ? "eom" : stage;
    for (char *q = stage; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    const char *c = from + 6;
    const char *colon = find_in(c, end, ": ");
    if (colon == NULL) {
        r->malformed++;
        return;
    }
    const char *lb = memchr(c, '[', (size_t)(colon - c));
    const char *rb = lb ? memchr(lb, ']', (size_t)(colon - lb)) : NULL;
    x.client = lb && rb ? copy_span(client, sizeof client, lb + 1, rb)
                        : copy_span(client, sizeof client, c, colon);
    const char *text = colon + 2;
    const char *semi = NULL;
    for (const char *q = text; (q = find_in(q, end, "; from=<")) != NULL; q++)
        semi = q;
    x.reply = copy_span(reply, sizeof reply, text, semi ? semi : end);
    const char *to = semi ? find_in(semi, end, " to=<") : NULL;
    if (to) {
        const char *gt = memchr(to + 5, '>', (size_t)(end - (to + 5)));
        if (gt)
            x.rcpt = copy_span(rcpt, sizeof rcpt, to + 5, gt);
    }
    if (x.when < 0) {
        r->malformed++;
        return;
    }
    r->maillog_rejections++;
    count_rejection(r, &x);
}

/* ---- audit JSON lines (milter-reword's own format) ---- */

/* Finds "key":"value" and unescapes value into buf; NULL if absent or null. */
static const char *json_get(const char *line, const char *end, const char *key, char *buf,
                            size_t len)
{
    char pat[40];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = find_in(line, end, pat);
    if (p == NULL)
        return NULL;
    p += strlen(pat);
    size_t o = 0;
    for (; p < end && *p != '"'; p++) {
        char ch = *p;
        if (ch == '\\' && p + 1 < end) {
            p++;
            ch = *p == 'n' ? ' ' : *p == 't' ? ' ' : *p == 'r' ? ' ' : *p == 'u' ? '?' : *p;
            if (*p == 'u')
                p += (end - p > 4) ? 4 : 0;
        }
        if (o + 1 < len)
            buf[o++] = ch;
    }
    if (p >= end)
        return NULL;            /* unterminated: malformed */
    buf[o] = '\0';
    return buf;
}

static void audit_record(struct report *r, const char *line, size_t len)
{
    const char *end = line + len;
    char action[32], when[64], stage[32], source[96], client[128], rcpt[320], reply[1200],
         rule[160];
    if (json_get(line, end, "action", action, sizeof action) == NULL
        || json_get(line, end, "time", when, sizeof when) == NULL) {
        r->malformed++;
        return;
    }
    if (strcmp(action, "reject") && strcmp(action, "tempfail") && strcmp(action, "observe")
        && strcmp(action, "discard"))
        return;                 /* log/accept records are not rejections */
    struct rejection x = { 0 };
    x.when = line_time(r, when, strlen(when));
    x.stage = json_get(line, end, "stage", stage, sizeof stage);
    x.source = json_get(line, end, "source", source, sizeof source);
    x.client = json_get(line, end, "client_addr", client, sizeof client);
    x.rcpt = json_get(line, end, "rcpt", rcpt, sizeof rcpt);
    x.rule = json_get(line, end, "rule", rule, sizeof rule);
    /* what the client saw: the reply for own decisions, the original for
       MTA rejections that were only observed */
    x.reply = strcmp(action, "observe") == 0 ? json_get(line, end, "original", reply, sizeof reply)
                                              : json_get(line, end, "reply", reply, sizeof reply);
    if (x.reply == NULL && strcmp(action, "discard") == 0)
        x.reply = "250 2.0.0 discarded";
    if (x.when < 0 || x.source == NULL || x.reply == NULL) {
        r->malformed++;
        return;
    }
    if (strcmp(action, "discard") == 0)
        return;
    r->audit_rejections++;
    count_rejection(r, &x);
}

void report_line(struct report *r, const char *line, size_t len)
{
    r->lines++;
    r->bytes += len + 1;
    if (len > 0 && line[0] == '{') {
        audit_record(r, line, len);
        return;
    }
    const char *p = memmem(line, len, "reject: ", 8);
    if (p == NULL)
        return;
    if (p >= line + 8 && memcmp(p - 8, "_warning", 8) == 0)
        return;                 /* reject_warning: nothing was refused */
    maillog_reject(r, line, len, p + 8);
}

int report_file(struct report *r, const char *path)
{
    gzFile f = strcmp(path, "-") == 0 ? gzdopen(dup(0), "rb") : gzopen(path, "rb");
    if (f == NULL)
        return -1;
    gzbuffer(f, 1 << 20);
    size_t cap = 1 << 20, have = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        gzclose(f);
        return -1;
    }
    int rc = 0;
    for (;;) {
        if (have == cap) {               /* a line longer than the buffer: drop it */
            r->malformed++;
            have = 0;
        }
        int n = gzread(f, buf + have, (unsigned)(cap - have));
        if (n < 0) {
            rc = -1;
            errno = EIO;
            break;
        }
        if (n == 0) {
            if (have > 0)
                report_line(r, buf, have);
            break;
        }
        have += (size_t)n;
        char *s = buf, *e = buf + have, *nl;
        while ((nl = memchr(s, '\n', (size_t)(e - s))) != NULL) {
            size_t l = (size_t)(nl - s);
            if (l > 0 && s[l - 1] == '\r')
                l--;
            report_line(r, s, l);
            s = nl + 1;
        }
        have = (size_t)(e - s);
        memmove(buf, s, have);
    }
    free(buf);
    gzclose(f);
    return rc;
}
