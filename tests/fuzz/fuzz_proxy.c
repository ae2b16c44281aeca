/*
 * fuzz_proxy.c - libFuzzer target: the milter protocol packet codec that
 * proxy mode uses to talk to upstream milters (milter/core/proto/milter_codec.c),
 * on arbitrary bytes as they could come from a broken or hostile upstream.
 *
 * Input: byte 0 picks mp_decode's max (0: MP_MAX_DATA, 255: SIZE_MAX, which
 * the decoder caps at MP_MAX_DATA, else (b - 1) * 8); bytes 1-2 a split
 * point (big-endian, modulo the stream length + 1); the rest is the byte
 * stream.  Inputs shorter than 3 bytes are a stream on their own (max
 * MP_MAX_DATA, no split).  tests/fuzz/seeds.py writes seeds in this form.
 *
 * Per input:
 *   1. the stream is decoded in one piece with mp_decode in a loop until
 *      MP_MORE or MP_BAD;
 *   2. the same stream is fed in two chunks (split at the chosen point) to
 *      a receiver that, like proxy/upstream.c, keeps the undecoded rest and
 *      decodes again when more bytes arrive; each chunk sits in a heap
 *      buffer of exactly its size, so ASan sees any read past avail;
 *   3. every decoded packet goes to the parser that fits its command
 *      (optneg, connect, indexed header, string vectors, macros), and every
 *      parser also runs on every packet.
 *
 * Invariants (abort on violation):
 *   - MP_OK: 5 <= used <= avail; the packet's data is buf + 5 and ends
 *     inside the buffer (len == used - 5, len <= max and MP_MAX_DATA);
 *   - MP_MORE: used > avail; used == 5 while fewer than 4 bytes are there,
 *     else 4 + the length field; and once that many bytes have arrived the
 *     same packet decodes with exactly that used;
 *   - MP_BAD only for a length field of 0 or data over max;
 *   - re-encoding a decoded packet with mp_put gives the same bytes;
 *   - incremental decoding yields the same packets (command, length,
 *     bytes) and the same end (bad or not) as decoding in one piece;
 *   - mp_parse_strings succeeds exactly when the data is empty or ends in
 *     NUL and has at most max strings; the strings lie in the packet, are
 *     NUL-terminated in it and, re-encoded, give the same bytes;
 *   - mp_parse_indexed_header: strings inside the packet, re-encoding
 *     gives the same bytes;
 *   - mp_parse_connect: host (and address) inside the packet; family one
 *     of 4 6 L U; no address for U; a 4/6 address inet_pton accepts;
 *     re-encoding gives the same bytes;
 *   - mp_parse_optneg: success only with >= 12 bytes; macro pointers inside
 *     the packet, NUL-terminated in it, and the lists account for every
 *     byte after the first 12.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_common.h"
#include "milter_codec.h"
#include "strbuf.h"

/* Packets decoded from one input, as offsets into the whole stream. */
#define MAX_PACKETS 4096
struct decoded {
    unsigned char cmd[MAX_PACKETS];
    size_t off[MAX_PACKETS], len[MAX_PACKETS];
    size_t n;
    int bad;                                /* ended in MP_BAD */
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL, "no memory for %zu bytes", n);
    return p;
}

/* 1 when s starts inside p's data and its NUL is inside too. */
static int inside(const struct mp_packet *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    if (s == NULL || p->len == 0 || u < p->data || u >= p->data + p->len)
        return 0;
    return memchr(u, '\0', (size_t)(p->data + p->len - u)) != NULL;
}

static void expect_same_bytes(const struct strbuf *sb, const struct mp_packet *p,
                              const char *what)
{
    FUZZ_CHECK(!sb->oom, "%s: out of memory", what);
    FUZZ_CHECK(sb->len == MP_HEADER_LEN + p->len, "%s: re-encoded %zu bytes, packet %zu", what,
               sb->len, MP_HEADER_LEN + p->len);
    const unsigned char *s = (const unsigned char *)sb->s;
    FUZZ_CHECK(be32(s) == p->len + 1 && s[4] == p->cmd, "%s: re-encoded header differs", what);
    FUZZ_CHECK(p->len == 0 || memcmp(s + MP_HEADER_LEN, p->data, p->len) == 0,
               "%s: re-encoded data differs", what);
}

/* ---- parsers ---- */

#define MAX_STRINGS 64

static void check_strings(const struct mp_packet *p, int reencode, const char *what)
{
    const char *v[MAX_STRINGS];
    size_t n = 12345;
    size_t nuls = 0;
    for (size_t i = 0; i < p->len; i++)
        nuls += p->data[i] == '\0';
    int want_ok = p->len == 0 || (p->data[p->len - 1] == '\0' && nuls <= MAX_STRINGS);
    int rc = mp_parse_strings(p, v, MAX_STRINGS, &n);
    FUZZ_CHECK(rc == (want_ok ? 0 : -1), "%s: mp_parse_strings gave %d on %zu bytes, %zu NULs",
               what, rc, p->len, nuls);
    if (rc != 0)
        return;
    FUZZ_CHECK(n == nuls, "%s: %zu strings for %zu NULs", what, n, nuls);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(inside(p, v[i]), "%s: string %zu not inside the packet", what, i);
        FUZZ_CHECK(i == 0 || v[i] == v[i - 1] + strlen(v[i - 1]) + 1,
                   "%s: string %zu does not follow string %zu", what, i, i - 1);
        total += strlen(v[i]) + 1;
    }
    FUZZ_CHECK(total == p->len, "%s: strings take %zu of %zu bytes", what, total, p->len);
    if (n > 0 && nuls > 1) {
        size_t m;
        FUZZ_CHECK(mp_parse_strings(p, v, n - 1, &m) == -1, "%s: max %zu exceeded, accepted",
                   what, n - 1);
    }
    if (reencode) {
        struct strbuf sb;
        sb_init(&sb);
        FUZZ_CHECK(mp_put_strings(&sb, p->cmd, v, n) == 0, "%s: mp_put_strings failed", what);
        expect_same_bytes(&sb, p, what);
        sb_free(&sb);
    }
}

static void check_indexed(const struct mp_packet *p, int reencode)
{
    uint32_t index;
    const char *name, *value;
    if (mp_parse_indexed_header(p, &index, &name, &value) != 0)
        return;
    FUZZ_CHECK(p->len >= 6 && be32(p->data) == index, "indexed header: index or length wrong");
    FUZZ_CHECK(inside(p, name) && inside(p, value), "indexed header: strings outside");
    FUZZ_CHECK((const unsigned char *)name == p->data + 4
               && value == name + strlen(name) + 1
               && (const unsigned char *)value + strlen(value) + 1 == p->data + p->len,
               "indexed header: not exactly index, name, value");
    if (reencode) {
        struct strbuf sb;
        sb_init(&sb);
        FUZZ_CHECK(mp_put_indexed_header(&sb, p->cmd, index, name, value) == 0,
                   "mp_put_indexed_header failed");
        expect_same_bytes(&sb, p, "indexed header");
        sb_free(&sb);
    }
}

static void check_connect(const struct mp_packet *p, int reencode)
{
    struct mp_connect c;
    if (mp_parse_connect(p, &c) != 0)
        return;
    FUZZ_CHECK(inside(p, c.host), "connect: host outside the packet");
    FUZZ_CHECK(c.family == '4' || c.family == '6' || c.family == 'L' || c.family == 'U',
               "connect: family 0x%02x", (unsigned char)c.family);
    if (c.family == 'U') {
        FUZZ_CHECK(c.addr == NULL && c.port == 0, "connect: U with an address or port");
        FUZZ_CHECK(strlen(c.host) + 2 == p->len, "connect: U with data left over");
    } else {
        FUZZ_CHECK(inside(p, c.addr), "connect: address outside the packet");
        FUZZ_CHECK((const unsigned char *)c.addr + strlen(c.addr) + 1 == p->data + p->len,
                   "connect: data left over after the address");
    }
    unsigned char tmp[sizeof(struct in6_addr)];
    if (c.family == '4')
        FUZZ_CHECK(inet_pton(AF_INET, c.addr, tmp) == 1, "connect: IPv4 \"%.60s\" accepted",
                   c.addr);
    if (c.family == '6')
        FUZZ_CHECK(inet_pton(AF_INET6, c.addr, tmp) == 1, "connect: IPv6 \"%.60s\" accepted",
                   c.addr);
    if (reencode) {
        struct strbuf sb;
        sb_init(&sb);
        FUZZ_CHECK(mp_put_connect(&sb, c.host, c.family, c.port, c.addr) == 0,
                   "mp_put_connect failed");
        expect_same_bytes(&sb, p, "connect");
        sb_free(&sb);
    }
}

static void check_optneg(const struct mp_packet *p, int reencode)
{
    struct mp_optneg o;
    if (mp_parse_optneg(p, &o) != 0)
        return;
    FUZZ_CHECK(p->len >= 12, "optneg: accepted %zu bytes", p->len);
    FUZZ_CHECK(o.version == be32(p->data) && o.actions == be32(p->data + 4)
               && o.proto == be32(p->data + 8), "optneg: the three values are wrong");
    size_t rest = 0;
    for (int i = 0; i < MPM_COUNT; i++) {
        if (o.macros[i] == NULL)
            continue;
        FUZZ_CHECK(inside(p, o.macros[i]), "optneg: macro list %d outside the packet", i);
        const unsigned char *u = (const unsigned char *)o.macros[i];
        FUZZ_CHECK(u >= p->data + 16 && be32(u - 4) == (uint32_t)i,
                   "optneg: macro list %d not after its stage", i);
        rest += 4 + strlen(o.macros[i]) + 1;
    }
    FUZZ_CHECK(rest == p->len - 12, "optneg: lists take %zu of %zu bytes", rest, p->len - 12);
    if (reencode && p->len == 12) {
        struct strbuf sb;
        sb_init(&sb);
        FUZZ_CHECK(mp_put_optneg(&sb, o.version, o.actions, o.proto) == 0,
                   "mp_put_optneg failed");
        expect_same_bytes(&sb, p, "optneg");
        sb_free(&sb);
    }
}

static void check_macro(const struct mp_packet *p)
{
    if (p->len == 0)
        return;
    struct mp_packet rest = { p->cmd, p->data + 1, p->len - 1 };
    const char *v[MAX_STRINGS];
    size_t n;
    if (mp_parse_strings(&rest, v, MAX_STRINGS, &n) != 0 || n % 2 != 0)
        return;
    /* name/value pairs: mp_put_macros writes the same bytes back */
    const char *names[MAX_STRINGS / 2], *values[MAX_STRINGS / 2];
    for (size_t i = 0; i < n / 2; i++) {
        names[i] = v[2 * i];
        values[i] = v[2 * i + 1];
    }
    struct strbuf sb;
    sb_init(&sb);
    FUZZ_CHECK(mp_put_macros(&sb, p->data[0], names, values, n / 2) == 0,
               "mp_put_macros failed");
    expect_same_bytes(&sb, p, "macro");
    sb_free(&sb);
}

static void check_packet(const struct mp_packet *p)
{
    FUZZ_CHECK(mp_cmd_name(p->cmd) != NULL, "mp_cmd_name(0x%02x) is NULL", p->cmd);
    int strings = 0;
    switch (p->cmd) {
    case MPC_OPTNEG:            /* MPR_OPTNEG too */
        check_optneg(p, 1);
        break;
    case MPC_CONNECT:
        check_connect(p, 1);
        break;
    case MPC_MACRO:
        check_macro(p);
        break;
    case MPR_CHGHEADER:
    case MPR_INSHEADER:
        check_indexed(p, 1);
        break;
    case MPC_HELO: case MPC_HEADER: case MPC_MAIL: case MPC_RCPT: case MPC_UNKNOWN:
    case MPR_ADDRCPT: case MPR_DELRCPT: case MPR_ADDRCPT_PAR: case MPR_CHGFROM:
    case MPR_ADDHEADER: case MPR_QUARANTINE: case MPR_REPLYCODE:
        strings = 1;
        break;
    default:
        break;
    }
    /* every parser on every packet: the invariants hold for any data */
    check_strings(p, strings, mp_cmd_name(p->cmd));
    check_optneg(p, 0);
    check_connect(p, 0);
    check_indexed(p, 0);
}

/* ---- decoding ---- */

/* The invariants of one mp_decode call on buf[0..avail). */
static enum mp_status decode_checked(const unsigned char *buf, size_t avail, size_t max,
                                     struct mp_packet *p, size_t *used)
{
    size_t cap = max > MP_MAX_DATA ? MP_MAX_DATA : max;
    *used = 0;
    memset(p, 0, sizeof *p);
    enum mp_status st = mp_decode(avail ? buf : NULL, avail, max, p, used);
    uint32_t len = avail >= 4 ? be32(buf) : 0;
    switch (st) {
    case MP_OK:
        FUZZ_CHECK(*used >= MP_HEADER_LEN && *used <= avail, "MP_OK: used %zu, avail %zu",
                   *used, avail);
        FUZZ_CHECK(avail >= 4 && len >= 1 && (size_t)len - 1 <= cap,
                   "MP_OK with length field %u, max %zu", len, cap);
        FUZZ_CHECK(*used == 4 + (size_t)len, "MP_OK: used %zu for length field %u", *used, len);
        FUZZ_CHECK(p->data == buf + MP_HEADER_LEN && p->len == *used - MP_HEADER_LEN
                   && p->data + p->len <= buf + avail && p->cmd == buf[4],
                   "MP_OK: packet outside the buffer (data %p len %zu, buf %p avail %zu)",
                   (const void *)p->data, p->len, (const void *)buf, avail);
        break;
    case MP_MORE:
        FUZZ_CHECK(*used > avail, "MP_MORE: used %zu, avail %zu", *used, avail);
        FUZZ_CHECK(*used == (avail < 4 ? MP_HEADER_LEN : 4 + (size_t)len),
                   "MP_MORE: used %zu, avail %zu, length field %u", *used, avail, len);
        FUZZ_CHECK(avail < 4 || (len >= 1 && (size_t)len - 1 <= cap),
                   "MP_MORE with a bad length field %u", len);
        FUZZ_CHECK(p->data == NULL, "MP_MORE filled the packet");
        break;
    case MP_BAD:
        FUZZ_CHECK(avail >= 4 && (len == 0 || (size_t)len - 1 > cap),
                   "MP_BAD for length field %u, max %zu, avail %zu", len, cap, avail);
        break;
    default:
        FUZZ_CHECK(0, "mp_decode returned %d", (int)st);
    }
    return st;
}

/* Decodes s[0..n) in one piece (copied to a buffer of exactly n bytes). */
static void decode_whole(const unsigned char *s, size_t n, size_t max, struct decoded *d)
{
    unsigned char *buf = xmalloc(n);
    memcpy(buf, s, n);
    memset(d, 0, sizeof *d);
    size_t off = 0;
    for (;;) {
        struct mp_packet p;
        size_t used;
        enum mp_status st = decode_checked(buf + off, n - off, max, &p, &used);
        if (st == MP_BAD)
            d->bad = 1;
        if (st != MP_OK)
            break;
        FUZZ_CHECK(d->n < MAX_PACKETS, "more than %d packets", MAX_PACKETS);
        d->cmd[d->n] = p.cmd;
        d->off[d->n] = off + MP_HEADER_LEN;
        d->len[d->n] = p.len;
        d->n++;

        struct strbuf sb;
        sb_init(&sb);
        FUZZ_CHECK(mp_put(&sb, p.cmd, p.data, p.len) == 0, "mp_put of a decoded packet failed");
        FUZZ_CHECK(sb.len == used && memcmp(sb.s, buf + off, used) == 0,
                   "mp_put of a decoded packet gives other bytes");
        sb_free(&sb);

        check_packet(&p);
        off += used;
    }
    free(buf);
}

/* A receiver that keeps the undecoded rest, as proxy/upstream.c does. */
struct rx {
    unsigned char *buf;                     /* exactly len bytes */
    size_t len;
    size_t need;                            /* MP_MORE's used when it came from a length */
    size_t k;                               /* packets seen */
    int bad;
};

static void rx_feed(struct rx *r, const unsigned char *chunk, size_t n,
                    const unsigned char *stream, const struct decoded *whole, size_t max)
{
    if (r->bad)
        return;
    unsigned char *nb = xmalloc(r->len + n);
    if (r->len)
        memcpy(nb, r->buf, r->len);
    if (n)
        memcpy(nb + r->len, chunk, n);
    free(r->buf);
    r->buf = nb;
    r->len += n;

    size_t off = 0;
    for (;;) {
        struct mp_packet p;
        size_t used;
        enum mp_status st = decode_checked(r->buf + off, r->len - off, max, &p, &used);
        if (r->need) {
            /* the bytes asked for have arrived: the packet is whole */
            if (r->len - off >= r->need)
                FUZZ_CHECK(st == MP_OK && used == r->need,
                           "MP_MORE asked for %zu bytes; with %zu: status %d, used %zu",
                           r->need, r->len - off, (int)st, used);
            r->need = 0;
        }
        if (st == MP_BAD) {
            r->bad = 1;
            break;
        }
        if (st == MP_MORE) {
            if (r->len - off >= 4)
                r->need = used;
            break;
        }
        size_t k = r->k++;
        FUZZ_CHECK(k < whole->n, "incremental: packet %zu, in one piece only %zu", k, whole->n);
        FUZZ_CHECK(p.cmd == whole->cmd[k] && p.len == whole->len[k]
                   && (p.len == 0 || memcmp(p.data, stream + whole->off[k], p.len) == 0),
                   "incremental: packet %zu differs ('%c' %zu bytes, in one piece '%c' %zu)",
                   k, p.cmd, p.len, whole->cmd[k], whole->len[k]);
        off += used;
    }
    /* keep the rest in a buffer of exactly its size */
    size_t rest = r->len - off;
    nb = xmalloc(rest);
    if (rest)
        memcpy(nb, r->buf + off, rest);
    free(r->buf);
    r->buf = nb;
    r->len = rest;
}

static struct decoded whole;                /* large: not on the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t max = MP_MAX_DATA, split = 0;
    const unsigned char *s = data;
    size_t n = size;
    if (size >= 3) {
        max = data[0] == 0 ? MP_MAX_DATA : data[0] == 255 ? SIZE_MAX : (size_t)(data[0] - 1) * 8;
        s = data + 3;
        n = size - 3;
        split = ((size_t)data[1] << 8 | data[2]) % (n + 1);
    }

    /* 1 + 3: in one piece, every packet through its parser */
    decode_whole(s, n, max, &whole);

    /* 2: in two chunks */
    struct rx r = { NULL, 0, 0, 0, 0 };
    rx_feed(&r, s, split, s, &whole, max);
    rx_feed(&r, s + split, n - split, s, &whole, max);
    FUZZ_CHECK(r.k == whole.n, "incremental: %zu packets, in one piece %zu", r.k, whole.n);
    FUZZ_CHECK(r.bad == whole.bad, "incremental: bad %d, in one piece %d", r.bad, whole.bad);
    free(r.buf);
    return 0;
}
