/*
 * report_audit.c - the rejection report's reading of milter-reword's JSON
 * audit log (see report.h, report_int.h; the format is in audit.h).
 * Records with action reject or tempfail are milter-reword's own decisions
 * (mode "audit" ones were not enforced and are counted apart), observe
 * records the MTA's own rejections the daemon saw; the other actions are
 * not rejections.  A record that is not a complete JSON object with time
 * and action is malformed.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

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
        case 'n':
        case 'r':
        case 't':
        case 'b':
        case 'f':
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

void report_audit_line(struct report *r, const char *s, size_t len)
{
    int bad = 0;
    const char *end = s + len;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char action[32], when[64], mode[16], stage[32], source[96], addr[64], name[256], rcpt[320],
        sender[320], helo[256], reply[1100], original[1100], rule[160], note[64];
    if (end[-1] != '}' || json_value(s, end, "action", action, sizeof action, &bad) == NULL
        || json_value(s, end, "time", when, sizeof when, &bad) == NULL) {
        report_malformed(r, s, len);
        return;
    }
    int observe = strcmp(action, "observe") == 0;
    if (!observe && strcmp(action, "reject") != 0 && strcmp(action, "tempfail") != 0)
        return; /* log, discard, accept: not rejections */
    struct rejection x;
    memset(&x, 0, sizeof x);
    x.kind = REPORT_AUDIT;
    if (report_parse_stamp(r, when, strlen(when), &x.when) < 0) {
        report_malformed(r, s, len);
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
        report_malformed(r, s, len);
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
    report_count_rejection(r, &x, s, len);
    if (audit_mode && r->rejections[REPORT_AUDIT] > before)
        r->audit_mode++;
}
