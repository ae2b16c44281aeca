/*
 * report_reason.c - what the rejection report reads from a reply (see
 * report_int.h): its basic and enhanced codes, and the reason key it is
 * counted under, the reply text with its variable parts (addresses,
 * bracketed hosts, IPv4 addresses, URL paths) replaced by "*" so that the
 * same refusal of different senders is counted as one reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

/* "550 5.1.1 text", "550-5.1.1 text", "5.7.1 text", "550 text" at s. */
void report_parse_codes(const char *s, const char *e, struct codes *c)
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
        int v[2] = {0, 0}, ok = 1;
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
void report_reason_key(char *out, size_t cap, int cls, int subj, int det, const char *s,
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
            const char *h = (const char *)memchr(s, '/', (size_t)(e - s)) + 2;
            const char *q = h;
            while (q < e && *q != '/' && *q != ' ' && *q != ';' && *q != ',' && *q != ')')
                q++;
            if (q < e && *q == '/' && (size_t)(q - s) + o + 3 < max) {
                memcpy(out + o, s, (size_t)(q - s));
                o += (size_t)(q - s);
                out[o++] = '/';
                out[o++] = '*';
                while (q < e && *q != ' ') /* a URL has no spaces; ";" may be in it */
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
        size_t need = ((unsigned char)out[k - 1] & 0xe0) == 0xc0   ? 2
                      : ((unsigned char)out[k - 1] & 0xf0) == 0xe0 ? 3
                                                                   : 4;
        if (o - (k - 1) < need)
            o = k - 1;
    }
    if (cut && o + 4 <= cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
