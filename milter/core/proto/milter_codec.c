/*
 * milter_codec.c - milter protocol packets to and from bytes (see
 * milter_codec.h), for proxy mode's client side of the milter protocol.
 * Every read is checked against the packet's length first; decoding never
 * allocates and never trusts a length field further than the bytes
 * actually present.  Encoders refuse data over MP_MAX_DATA before they
 * append anything, so a refused packet leaves the buffer as it was.
 * No libmilter here: the wire values come from milter_proto.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "milter_codec.h"

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

enum mp_status mp_decode(const unsigned char *buf, size_t avail, size_t max, struct mp_packet *p,
                         size_t *used)
{
    if (p == NULL || used == NULL || (buf == NULL && avail > 0))
        return MP_BAD;
    if (max > MP_MAX_DATA)
        max = MP_MAX_DATA;
    if (avail < MP_HEADER_LEN - 1) { /* the length field is incomplete */
        *used = MP_HEADER_LEN;
        return MP_MORE;
    }
    uint32_t len = get32(buf); /* command byte + data */
    if (len == 0 || (size_t)len - 1 > max)
        return MP_BAD;
    size_t total = MP_HEADER_LEN - 1 + (size_t)len;
    if (avail < total) {
        *used = total;
        return MP_MORE;
    }
    p->cmd = buf[4];
    p->data = buf + MP_HEADER_LEN;
    p->len = (size_t)len - 1;
    *used = total;
    return MP_OK;
}

/* Appends the 5-byte header of a packet with n data bytes. */
static int put_header(struct strbuf *sb, unsigned char cmd, size_t n)
{
    if (sb == NULL || sb->oom || n > MP_MAX_DATA)
        return -1;
    unsigned char h[MP_HEADER_LEN];
    put32(h, (uint32_t)n + 1);
    h[4] = cmd;
    sb_putn(sb, (const char *)h, sizeof h);
    return sb->oom ? -1 : 0;
}

int mp_put(struct strbuf *sb, unsigned char cmd, const void *data, size_t len)
{
    if (data == NULL && len > 0)
        return -1;
    if (put_header(sb, cmd, len) < 0)
        return -1;
    if (len)
        sb_putn(sb, data, len);
    return sb->oom ? -1 : 0;
}

int mp_put_optneg(struct strbuf *sb, uint32_t version, uint32_t actions, uint32_t proto)
{
    unsigned char d[12];
    put32(d, version);
    put32(d + 4, actions);
    put32(d + 8, proto);
    return mp_put(sb, MPC_OPTNEG, d, sizeof d);
}

/* Adds a string's length with its NUL to *t; saturates just over
   MP_MAX_DATA so that no sum of lengths can wrap around. */
static void add_len(size_t *t, const char *s)
{
    size_t l = strlen(s);
    *t = (l >= MP_MAX_DATA || *t + l + 1 > MP_MAX_DATA) ? MP_MAX_DATA + 1 : *t + l + 1;
}

/* Length of strings v[0..n) each with its NUL, skipping NULL entries. */
static size_t strings_len(const char *const *v, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i])
            add_len(&t, v[i]);
    return t;
}

int mp_put_strings(struct strbuf *sb, unsigned char cmd, const char *const *v, size_t n)
{
    if (v == NULL && n > 0)
        return -1;
    if (put_header(sb, cmd, strings_len(v, n)) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i])
            sb_putn(sb, v[i], strlen(v[i]) + 1);
    return sb->oom ? -1 : 0;
}

int mp_put_macros(struct strbuf *sb, unsigned char stage_cmd, const char *const *names,
                  const char *const *values, size_t n)
{
    if ((names == NULL || values == NULL) && n > 0)
        return -1;
    size_t total = 1; /* the stage's command byte */
    for (size_t i = 0; i < n; i++)
        if (names[i] && values[i]) {
            add_len(&total, names[i]);
            add_len(&total, values[i]);
        }
    if (put_header(sb, MPC_MACRO, total) < 0)
        return -1;
    sb_putc(sb, (char)stage_cmd);
    for (size_t i = 0; i < n; i++)
        if (names[i] && values[i]) {
            sb_putn(sb, names[i], strlen(names[i]) + 1);
            sb_putn(sb, values[i], strlen(values[i]) + 1);
        }
    return sb->oom ? -1 : 0;
}

int mp_put_connect(struct strbuf *sb, const char *host, char family, uint16_t port,
                   const char *addr)
{
    if (host == NULL || (family != '4' && family != '6' && family != 'L' && family != 'U'))
        return -1;
    int has_addr = family != 'U';
    if (has_addr && addr == NULL)
        return -1;
    size_t total = 0;
    add_len(&total, host); /* host\0 */
    total += 1;            /* family */
    if (has_addr) {
        total += 2;            /* port */
        add_len(&total, addr); /* addr\0 */
    }
    if (put_header(sb, MPC_CONNECT, total) < 0)
        return -1;
    sb_putn(sb, host, strlen(host) + 1);
    sb_putc(sb, family);
    if (has_addr) {
        unsigned char pb[2] = {(unsigned char)(port >> 8), (unsigned char)port};
        sb_putn(sb, (const char *)pb, 2);
        sb_putn(sb, addr, strlen(addr) + 1);
    }
    return sb->oom ? -1 : 0;
}

int mp_put_indexed_header(struct strbuf *sb, unsigned char cmd, uint32_t index, const char *name,
                          const char *value)
{
    if (name == NULL || value == NULL)
        return -1;
    size_t total = 4; /* index */
    add_len(&total, name);
    add_len(&total, value);
    if (put_header(sb, cmd, total) < 0)
        return -1;
    unsigned char ib[4];
    put32(ib, index);
    sb_putn(sb, (const char *)ib, 4);
    sb_putn(sb, name, strlen(name) + 1);
    sb_putn(sb, value, strlen(value) + 1);
    return sb->oom ? -1 : 0;
}

/* The NUL-terminated string at d[*off..len): its start, *off moved past
   its NUL; NULL when there is no NUL before len. */
static const char *take_string(const unsigned char *d, size_t len, size_t *off)
{
    if (d == NULL || *off >= len)
        return NULL;
    const unsigned char *nul = memchr(d + *off, '\0', len - *off);
    if (nul == NULL)
        return NULL;
    const char *s = (const char *)d + *off;
    *off = (size_t)(nul - d) + 1;
    return s;
}

/* 1 when p can be read: data present for its whole length. */
static int readable(const struct mp_packet *p)
{
    return p != NULL && (p->data != NULL || p->len == 0);
}

int mp_parse_optneg(const struct mp_packet *p, struct mp_optneg *o)
{
    if (o == NULL)
        return -1;
    memset(o, 0, sizeof *o);
    if (!readable(p) || p->len < 12)
        return -1;
    o->version = get32(p->data);
    o->actions = get32(p->data + 4);
    o->proto = get32(p->data + 8);
    size_t off = 12;
    while (off < p->len) {
        if (p->len - off < 4)
            return -1;
        uint32_t st = get32(p->data + off);
        off += 4;
        if (st >= MPM_COUNT || o->macros[st] != NULL)
            return -1;
        const char *list = take_string(p->data, p->len, &off);
        if (list == NULL)
            return -1;
        o->macros[st] = list;
    }
    return 0;
}

int mp_parse_strings(const struct mp_packet *p, const char **v, size_t max, size_t *n)
{
    if (n == NULL)
        return -1;
    *n = 0;
    if (!readable(p) || (v == NULL && max > 0))
        return -1;
    if (p->len == 0)
        return 0;
    if (p->data[p->len - 1] != '\0')
        return -1;
    size_t off = 0;
    while (off < p->len) {
        if (*n >= max)
            return -1;
        const char *s = take_string(p->data, p->len, &off);
        if (s == NULL) /* cannot happen: data ends in NUL */
            return -1;
        v[(*n)++] = s;
    }
    return 0;
}

int mp_parse_indexed_header(const struct mp_packet *p, uint32_t *index, const char **name,
                            const char **value)
{
    if (index == NULL || name == NULL || value == NULL)
        return -1;
    *name = *value = NULL;
    if (!readable(p) || p->len < 4 + 2)
        return -1;
    *index = get32(p->data);
    size_t off = 4;
    *name = take_string(p->data, p->len, &off);
    *value = *name ? take_string(p->data, p->len, &off) : NULL;
    return *value != NULL && off == p->len ? 0 : -1;
}

int mp_parse_connect(const struct mp_packet *p, struct mp_connect *c)
{
    if (c == NULL)
        return -1;
    memset(c, 0, sizeof *c);
    if (!readable(p))
        return -1;
    size_t off = 0;
    c->host = take_string(p->data, p->len, &off);
    if (c->host == NULL || off >= p->len)
        return -1;
    c->family = (char)p->data[off++];
    if (c->family == 'U')
        return off == p->len ? 0 : -1;
    if (c->family != '4' && c->family != '6' && c->family != 'L')
        return -1;
    if (p->len - off < 2)
        return -1;
    c->port = (uint16_t)(p->data[off] << 8 | p->data[off + 1]);
    off += 2;
    c->addr = take_string(p->data, p->len, &off);
    if (c->addr == NULL || off != p->len)
        return -1;
    unsigned char tmp[sizeof(struct in6_addr)];
    if (c->family == '4' && inet_pton(AF_INET, c->addr, tmp) != 1)
        return -1;
    if (c->family == '6' && inet_pton(AF_INET6, c->addr, tmp) != 1)
        return -1;
    return 0;
}

const char *mp_cmd_name(unsigned char cmd)
{
    static const struct {
        unsigned char c;
        const char *name;
    } names[] = {
        {MPC_ABORT, "abort"},
        {MPC_BODY, "body"},
        {MPC_CONNECT, "connect"},
        {MPC_MACRO, "macro"},
        {MPC_BODYEOB, "eom"},
        {MPC_HELO, "helo"},
        {MPC_QUIT_NC, "quit-nc"},
        {MPC_HEADER, "header"},
        {MPC_MAIL, "mail"},
        {MPC_EOH, "eoh"},
        {MPC_OPTNEG, "optneg"},
        {MPC_QUIT, "quit"},
        {MPC_RCPT, "rcpt"},
        {MPC_DATA, "data"},
        {MPC_UNKNOWN, "unknown"},
        {MPR_ADDRCPT, "addrcpt"},
        {MPR_DELRCPT, "delrcpt"},
        {MPR_ADDRCPT_PAR, "addrcpt-par"},
        {MPR_SHUTDOWN, "shutdown"},
        {MPR_ACCEPT, "accept"},
        {MPR_REPLBODY, "replbody"},
        {MPR_CONTINUE, "continue"},
        {MPR_DISCARD, "discard"},
        {MPR_CHGFROM, "chgfrom"},
        {MPR_CONN_FAIL, "conn-fail"},
        {MPR_ADDHEADER, "addheader"},
        {MPR_INSHEADER, "insheader"},
        {MPR_SETSYMLIST, "setsymlist"},
        {MPR_CHGHEADER, "chgheader"},
        {MPR_PROGRESS, "progress"},
        {MPR_QUARANTINE, "quarantine"},
        {MPR_REJECT, "reject"},
        {MPR_SKIP, "skip"},
        {MPR_TEMPFAIL, "tempfail"},
        {MPR_REPLYCODE, "replycode"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].c == cmd)
            return names[i].name;
    return "?";
}
