/*
 * test_milter_codec.c - unit tests of the milter protocol packet codec
 * (milter/core/proto/milter_codec.c): every MTA -> milter command encoded to the
 * exact bytes and decoded back, every reply and modification request
 * parsed from hand-written bytes, option negotiation with macro lists,
 * incremental decoding at every byte boundary, the length limits, connect
 * for each address family, the string and indexed-header parsers' exact
 * rules, and the wire values of milter_proto.h against libmilter's own
 * headers (mfdef.h, mfapi.h from libmilter-dev: headers only, no library).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include <libmilter/mfapi.h>        /* includes libmilter/mfdef.h; constants only */

#include "milter_codec.h"
#include "strbuf.h"

/* ---- helpers ---- */

/* A byte string literal with its length (embedded NULs kept, the
   literal's own final NUL not counted). */
#define BYTES(lit) (const unsigned char *)(lit), sizeof(lit) - 1

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A whole packet (header + data) in a malloc'd buffer of exactly its size,
   so that any read past it is caught by ASan/valgrind. */
struct raw {
    unsigned char *b;
    size_t n;
};

static struct raw raw_packet(unsigned char cmd, const unsigned char *data, size_t len)
{
    struct raw r = { malloc(MP_HEADER_LEN + len), MP_HEADER_LEN + len };
    assert_non_null(r.b);
    put_be32(r.b, (uint32_t)len + 1);
    r.b[4] = cmd;
    if (len)
        memcpy(r.b + MP_HEADER_LEN, data, len);
    return r;
}

/* A heap copy of the first n bytes of b (n may be 0). */
static unsigned char *heap_copy(const unsigned char *b, size_t n)
{
    unsigned char *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n)
        memcpy(c, b, n);
    return c;
}

/* Decodes the only packet in buf[0..n): MP_OK and used == n. */
static void decode_whole(const unsigned char *buf, size_t n, struct mp_packet *p)
{
    size_t used = 0;
    enum mp_status st = mp_decode(buf, n, MP_MAX_DATA, p, &used);
    if (st != MP_OK)
        fail_msg("mp_decode of a whole %zu-byte packet gave %d", n, (int)st);
    assert_int_equal(used, n);
    assert_int_equal(p->len, n - MP_HEADER_LEN);
    assert_ptr_equal(p->data, buf + MP_HEADER_LEN);
}

static void assert_bytes(const void *got, size_t got_len, const void *want, size_t want_len)
{
    if (got_len != want_len || memcmp(got, want, want_len) != 0) {
        fprintf(stderr, "got  %zu bytes:", got_len);
        for (size_t i = 0; i < got_len; i++)
            fprintf(stderr, " %02x", ((const unsigned char *)got)[i]);
        fprintf(stderr, "\nwant %zu bytes:", want_len);
        for (size_t i = 0; i < want_len; i++)
            fprintf(stderr, " %02x", ((const unsigned char *)want)[i]);
        fputc('\n', stderr);
        fail_msg("bytes differ");
    }
}

/* 1 when s lies inside p's data and its NUL is inside too. */
static int string_inside(const struct mp_packet *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u < p->data || u >= p->data + p->len)
        return 0;
    return memchr(u, '\0', (size_t)(p->data + p->len - u)) != NULL;
}

/* ---- constants against libmilter ---- */

static void test_constants_match_libmilter(void **state)
{
    (void)state;
    assert_int_equal(MP_VERSION, SMFI_PROT_VERSION);
    assert_int_equal(MP_HEADER_LEN, MILTER_LEN_BYTES + 1);
    assert_true(MP_MAX_DATA >= MILTER_MAX_DATA_SIZE && MP_MAX_DATA >= MILTER_CHUNK_SIZE);
    assert_int_equal(12, MILTER_OPTLEN);            /* optneg: three uint32 */

    /* commands, MTA -> milter */
    assert_int_equal(MPC_ABORT, SMFIC_ABORT);
    assert_int_equal(MPC_BODY, SMFIC_BODY);
    assert_int_equal(MPC_CONNECT, SMFIC_CONNECT);
    assert_int_equal(MPC_MACRO, SMFIC_MACRO);
    assert_int_equal(MPC_BODYEOB, SMFIC_BODYEOB);
    assert_int_equal(MPC_HELO, SMFIC_HELO);
    assert_int_equal(MPC_QUIT_NC, SMFIC_QUIT_NC);
    assert_int_equal(MPC_HEADER, SMFIC_HEADER);
    assert_int_equal(MPC_MAIL, SMFIC_MAIL);
    assert_int_equal(MPC_EOH, SMFIC_EOH);
    assert_int_equal(MPC_OPTNEG, SMFIC_OPTNEG);
    assert_int_equal(MPC_QUIT, SMFIC_QUIT);
    assert_int_equal(MPC_RCPT, SMFIC_RCPT);
    assert_int_equal(MPC_DATA, SMFIC_DATA);
    assert_int_equal(MPC_UNKNOWN, SMFIC_UNKNOWN);

    /* replies, milter -> MTA */
    assert_int_equal(MPR_ADDRCPT, SMFIR_ADDRCPT);
    assert_int_equal(MPR_DELRCPT, SMFIR_DELRCPT);
    assert_int_equal(MPR_ADDRCPT_PAR, SMFIR_ADDRCPT_PAR);
    assert_int_equal(MPR_SHUTDOWN, SMFIR_SHUTDOWN);
    assert_int_equal(MPR_ACCEPT, SMFIR_ACCEPT);
    assert_int_equal(MPR_REPLBODY, SMFIR_REPLBODY);
    assert_int_equal(MPR_CONTINUE, SMFIR_CONTINUE);
    assert_int_equal(MPR_DISCARD, SMFIR_DISCARD);
    assert_int_equal(MPR_CHGFROM, SMFIR_CHGFROM);
    assert_int_equal(MPR_CONN_FAIL, SMFIR_CONN_FAIL);
    assert_int_equal(MPR_ADDHEADER, SMFIR_ADDHEADER);
    assert_int_equal(MPR_INSHEADER, SMFIR_INSHEADER);
    assert_int_equal(MPR_SETSYMLIST, SMFIR_SETSYMLIST);
    assert_int_equal(MPR_CHGHEADER, SMFIR_CHGHEADER);
    assert_int_equal(MPR_PROGRESS, SMFIR_PROGRESS);
    assert_int_equal(MPR_QUARANTINE, SMFIR_QUARANTINE);
    assert_int_equal(MPR_REJECT, SMFIR_REJECT);
    assert_int_equal(MPR_SKIP, SMFIR_SKIP);
    assert_int_equal(MPR_TEMPFAIL, SMFIR_TEMPFAIL);
    assert_int_equal(MPR_REPLYCODE, SMFIR_REPLYCODE);
    assert_int_equal(MPR_OPTNEG, SMFIC_OPTNEG);

    /* actions (mfapi.h) */
    assert_int_equal(MPF_ADDHDRS, SMFIF_ADDHDRS);
    assert_int_equal(MPF_CHGBODY, SMFIF_CHGBODY);
    assert_int_equal(MPF_ADDRCPT, SMFIF_ADDRCPT);
    assert_int_equal(MPF_DELRCPT, SMFIF_DELRCPT);
    assert_int_equal(MPF_CHGHDRS, SMFIF_CHGHDRS);
    assert_int_equal(MPF_QUARANTINE, SMFIF_QUARANTINE);
    assert_int_equal(MPF_CHGFROM, SMFIF_CHGFROM);
    assert_int_equal(MPF_ADDRCPT_PAR, SMFIF_ADDRCPT_PAR);
    assert_int_equal(MPF_SETSYMLIST, SMFIF_SETSYMLIST);
    assert_int_equal(MPF_ALL, SMFI_CURR_ACTS);

    /* protocol steps */
    assert_int_equal(MPP_NOCONNECT, SMFIP_NOCONNECT);
    assert_int_equal(MPP_NOHELO, SMFIP_NOHELO);
    assert_int_equal(MPP_NOMAIL, SMFIP_NOMAIL);
    assert_int_equal(MPP_NORCPT, SMFIP_NORCPT);
    assert_int_equal(MPP_NOBODY, SMFIP_NOBODY);
    assert_int_equal(MPP_NOHDRS, SMFIP_NOHDRS);
    assert_int_equal(MPP_NOEOH, SMFIP_NOEOH);
    assert_int_equal(MPP_NR_HDR, SMFIP_NR_HDR);
    assert_int_equal(MPP_NOUNKNOWN, SMFIP_NOUNKNOWN);
    assert_int_equal(MPP_NODATA, SMFIP_NODATA);
    assert_int_equal(MPP_SKIP, SMFIP_SKIP);
    assert_int_equal(MPP_RCPT_REJ, SMFIP_RCPT_REJ);
    assert_int_equal(MPP_NR_CONN, SMFIP_NR_CONN);
    assert_int_equal(MPP_NR_HELO, SMFIP_NR_HELO);
    assert_int_equal(MPP_NR_MAIL, SMFIP_NR_MAIL);
    assert_int_equal(MPP_NR_RCPT, SMFIP_NR_RCPT);
    assert_int_equal(MPP_NR_DATA, SMFIP_NR_DATA);
    assert_int_equal(MPP_NR_UNKN, SMFIP_NR_UNKN);
    assert_int_equal(MPP_NR_EOH, SMFIP_NR_EOH);
    assert_int_equal(MPP_NR_BODY, SMFIP_NR_BODY);
    assert_int_equal(MPP_HDR_LEADSPC, SMFIP_HDR_LEADSPC);
    assert_int_equal(MPP_ALL, SMFI_CURR_PROT);

    /* macro stages (mfapi.h) */
    assert_int_equal(MPM_CONNECT, SMFIM_CONNECT);
    assert_int_equal(MPM_HELO, SMFIM_HELO);
    assert_int_equal(MPM_ENVFROM, SMFIM_ENVFROM);
    assert_int_equal(MPM_ENVRCPT, SMFIM_ENVRCPT);
    assert_int_equal(MPM_DATA, SMFIM_DATA);
    assert_int_equal(MPM_EOM, SMFIM_EOM);
    assert_int_equal(MPM_EOH, SMFIM_EOH);
    assert_int_equal(MPM_COUNT, SMFIM_LAST + 1);

    /* connect address families, used as literals by the codec */
    assert_int_equal('4', SMFIA_INET);
    assert_int_equal('6', SMFIA_INET6);
    assert_int_equal('L', SMFIA_UNIX);
    assert_int_equal('U', SMFIA_UNKNOWN);
}

/* ---- commands MTA -> milter: exact bytes, decode, parse ---- */

/* Encodes with enc's result in sb, compares with want, decodes it back. */
static void expect_packet(struct strbuf *sb, int rc, const unsigned char *want, size_t want_len,
                          struct mp_packet *p)
{
    assert_int_equal(rc, 0);
    assert_false(sb->oom);
    assert_bytes(sb->s, sb->len, want, want_len);
    decode_whole((const unsigned char *)sb->s, sb->len, p);
    assert_int_equal(p->cmd, want[4]);
}

static void test_commands_empty(void **state)
{
    (void)state;
    static const unsigned char cmds[] = { MPC_ABORT, MPC_BODYEOB, MPC_QUIT_NC, MPC_EOH,
                                          MPC_QUIT, MPC_DATA };
    for (size_t i = 0; i < sizeof cmds; i++) {
        struct strbuf sb;
        struct mp_packet p;
        const char *v[1];
        size_t n = 99;
        unsigned char want[5] = { 0, 0, 0, 1, cmds[i] };
        sb_init(&sb);
        expect_packet(&sb, mp_put(&sb, cmds[i], NULL, 0), want, sizeof want, &p);
        assert_int_equal(p.len, 0);
        assert_int_equal(mp_parse_strings(&p, v, 1, &n), 0);
        assert_int_equal(n, 0);
        assert_string_not_equal(mp_cmd_name(cmds[i]), "?");
        sb_free(&sb);
    }
    assert_string_equal(mp_cmd_name(MPC_BODYEOB), "eom");
    assert_string_equal(mp_cmd_name(MPC_ABORT), "abort");
}

static void test_command_body(void **state)
{
    (void)state;
    struct strbuf sb;
    struct mp_packet p;
    /* a body chunk is raw bytes: NULs and CR LF kept, no final NUL */
    static const char body[] = "line 1\r\n\0bin\xff\r\n.";
    sb_init(&sb);
    expect_packet(&sb, mp_put(&sb, MPC_BODY, body, sizeof body - 1),
                  BYTES("\0\0\0\x11" "Bline 1\r\n\0bin\xff\r\n."), &p);
    assert_int_equal(p.len, sizeof body - 1);
    assert_memory_equal(p.data, body, sizeof body - 1);
    const char *v[4];
    size_t n;
    assert_int_equal(mp_parse_strings(&p, v, 4, &n), -1);     /* not strings */
    assert_string_equal(mp_cmd_name(MPC_BODY), "body");
    sb_free(&sb);
}

static void test_command_connect(void **state)
{
    (void)state;
    struct strbuf sb;
    struct mp_packet p;
    struct mp_connect c;
    sb_init(&sb);
    expect_packet(&sb, mp_put_connect(&sb, "mail.example.org", '4', 2525, "192.0.2.1"),
                  BYTES("\0\0\0\x1f" "Cmail.example.org\0" "4\x09\xdd" "192.0.2.1\0"), &p);
    assert_int_equal(mp_parse_connect(&p, &c), 0);
    assert_string_equal(c.host, "mail.example.org");
    assert_int_equal(c.family, '4');
    assert_int_equal(c.port, 2525);
    assert_string_equal(c.addr, "192.0.2.1");
    assert_true(string_inside(&p, c.host) && string_inside(&p, c.addr));
    assert_string_equal(mp_cmd_name(MPC_CONNECT), "connect");
    sb_free(&sb);
}

static void test_command_macro(void **state)
{
    (void)state;
    struct strbuf sb;
    struct mp_packet p;
    /* connect-stage macros as Postfix sends them; a NULL value is left out */
    static const char *const names[] = { "j", "{daemon_name}", "{daemon_addr}", "v", "_" };
    static const char *const values[] = { "mx.example.org", "smtpd", NULL, "Postfix 3.7.11",
                                          "client.example [192.0.2.1]" };
    sb_init(&sb);
    expect_packet(&sb, mp_put_macros(&sb, MPC_CONNECT, names, values, 5),
                  BYTES("\0\0\0\x55" "DC"
                        "j\0mx.example.org\0{daemon_name}\0smtpd\0v\0Postfix 3.7.11\0"
                        "_\0client.example [192.0.2.1]\0"), &p);
    assert_int_equal(p.data[0], MPC_CONNECT);
    struct mp_packet rest = { p.cmd, p.data + 1, p.len - 1 };
    const char *v[8];
    size_t n;
    assert_int_equal(mp_parse_strings(&rest, v, 8, &n), 0);
    assert_int_equal(n, 8);
    assert_string_equal(v[0], "j");
    assert_string_equal(v[1], "mx.example.org");
    assert_string_equal(v[2], "{daemon_name}");
    assert_string_equal(v[4], "v");
    assert_string_equal(v[7], "client.example [192.0.2.1]");
    sb_reset(&sb);
    /* no macros at all: only the stage's command byte */
    expect_packet(&sb, mp_put_macros(&sb, MPC_BODYEOB, NULL, NULL, 0), BYTES("\0\0\0\2" "DE"),
                  &p);
    assert_string_equal(mp_cmd_name(MPC_MACRO), "macro");
    sb_free(&sb);
}

static void test_command_strings(void **state)
{
    (void)state;
    static const char *const helo[] = { "client.example" };
    static const char *const hdr[] = { "Subject", " hello" };
    static const char *const mail[] = { "<alice@example.org>", "SIZE=1024", "BODY=8BITMIME" };
    static const char *const rcpt[] = { "<bob@example.net>" };
    static const char *const unkn[] = { "XYZZY plugh" };
    static const struct {
        unsigned char cmd;
        const char *const *v;
        size_t n;
        const char *name;
        const char *wire;
        size_t wire_len;
    } cases[] = {
        { MPC_HELO, helo, 1, "helo", "\0\0\0\x10" "Hclient.example\0", 20 },
        { MPC_HEADER, hdr, 2, "header", "\0\0\0\x10" "LSubject\0 hello\0", 20 },
        { MPC_MAIL, mail, 3, "mail",
          "\0\0\0\x2d" "M<alice@example.org>\0SIZE=1024\0BODY=8BITMIME\0", 49 },
        { MPC_RCPT, rcpt, 1, "rcpt", "\0\0\0\x13" "R<bob@example.net>\0", 23 },
        { MPC_UNKNOWN, unkn, 1, "unknown", "\0\0\0\x0d" "UXYZZY plugh\0", 17 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct strbuf sb;
        struct mp_packet p;
        const char *v[4];
        size_t n;
        sb_init(&sb);
        expect_packet(&sb, mp_put_strings(&sb, cases[i].cmd, cases[i].v, cases[i].n),
                      (const unsigned char *)cases[i].wire, cases[i].wire_len, &p);
        assert_int_equal(mp_parse_strings(&p, v, 4, &n), 0);
        assert_int_equal(n, cases[i].n);
        for (size_t k = 0; k < n; k++) {
            assert_string_equal(v[k], cases[i].v[k]);
            assert_true(string_inside(&p, v[k]));
        }
        assert_string_equal(mp_cmd_name(cases[i].cmd), cases[i].name);
        sb_free(&sb);
    }
}

static void test_command_optneg(void **state)
{
    (void)state;
    struct strbuf sb;
    struct mp_packet p;
    struct mp_optneg o;
    sb_init(&sb);
    /* what Postfix 3.7 offers */
    expect_packet(&sb, mp_put_optneg(&sb, 6, 0x1ff, 0x1fffff),
                  BYTES("\0\0\0\x0d" "O" "\0\0\0\6" "\0\0\1\xff" "\0\x1f\xff\xff"), &p);
    assert_int_equal(mp_parse_optneg(&p, &o), 0);
    assert_int_equal(o.version, MP_VERSION);
    assert_int_equal(o.actions, MPF_ALL);
    assert_int_equal(o.proto, MPP_ALL);
    for (int i = 0; i < MPM_COUNT; i++)
        assert_null(o.macros[i]);
    assert_string_equal(mp_cmd_name(MPC_OPTNEG), "optneg");
    sb_free(&sb);
}

/* ---- replies and modification requests, milter -> MTA ---- */

static void test_replies_empty(void **state)
{
    (void)state;
    static const struct { unsigned char cmd; const char *name; } cases[] = {
        { MPR_SHUTDOWN, "shutdown" }, { MPR_ACCEPT, "accept" }, { MPR_CONTINUE, "continue" },
        { MPR_DISCARD, "discard" }, { MPR_CONN_FAIL, "conn-fail" },
        { MPR_PROGRESS, "progress" }, { MPR_REJECT, "reject" }, { MPR_SKIP, "skip" },
        { MPR_TEMPFAIL, "tempfail" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct raw r = raw_packet(cases[i].cmd, NULL, 0);
        struct mp_packet p;
        const char *v[1];
        size_t n = 5;
        decode_whole(r.b, r.n, &p);
        assert_int_equal(p.cmd, cases[i].cmd);
        assert_int_equal(p.len, 0);
        assert_int_equal(mp_parse_strings(&p, v, 1, &n), 0);
        assert_int_equal(n, 0);
        assert_string_equal(mp_cmd_name(p.cmd), cases[i].name);
        free(r.b);
    }
}

/* A reply made of strings: decodes, parses to want[0..nwant), names right. */
static void expect_strings_reply(unsigned char cmd, const unsigned char *data, size_t len,
                                 const char *const *want, size_t nwant, const char *name)
{
    struct raw r = raw_packet(cmd, data, len);
    struct mp_packet p;
    const char *v[4];
    size_t n;
    decode_whole(r.b, r.n, &p);
    assert_int_equal(p.cmd, cmd);
    assert_int_equal(mp_parse_strings(&p, v, 4, &n), 0);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(v[i], want[i]);
        assert_true(string_inside(&p, v[i]));
    }
    /* one string fewer allowed: refused */
    if (nwant > 0)
        assert_int_equal(mp_parse_strings(&p, v, nwant - 1, &n), -1);
    assert_string_equal(mp_cmd_name(cmd), name);
    free(r.b);
}

static void test_replies_strings(void **state)
{
    (void)state;
    static const char *const add[] = { "<new@example.org>" };
    static const char *const addpar[] = { "<new@example.org>", "NOTIFY=NEVER" };
    static const char *const del[] = { "<old@example.org>" };
    static const char *const from[] = { "<bounce@example.org>" };
    static const char *const frompar[] = { "<bounce@example.org>", "SIZE=100" };
    static const char *const addh[] = { "X-Spam-Flag", "YES" };
    static const char *const quar[] = { "held for review" };
    static const char *const reply[] = { "550 5.7.1 Spam refused" };
    static const char *const multi[] = { "451-4.7.1 Try later\r\n451 4.7.1 Greylisted" };
    expect_strings_reply(MPR_ADDRCPT, BYTES("<new@example.org>\0"), add, 1, "addrcpt");
    expect_strings_reply(MPR_ADDRCPT_PAR, BYTES("<new@example.org>\0NOTIFY=NEVER\0"), addpar,
                         2, "addrcpt-par");
    expect_strings_reply(MPR_DELRCPT, BYTES("<old@example.org>\0"), del, 1, "delrcpt");
    expect_strings_reply(MPR_CHGFROM, BYTES("<bounce@example.org>\0"), from, 1, "chgfrom");
    expect_strings_reply(MPR_CHGFROM, BYTES("<bounce@example.org>\0SIZE=100\0"), frompar, 2,
                         "chgfrom");
    expect_strings_reply(MPR_ADDHEADER, BYTES("X-Spam-Flag\0YES\0"), addh, 2, "addheader");
    expect_strings_reply(MPR_QUARANTINE, BYTES("held for review\0"), quar, 1, "quarantine");
    expect_strings_reply(MPR_REPLYCODE, BYTES("550 5.7.1 Spam refused\0"), reply, 1,
                         "replycode");
    expect_strings_reply(MPR_REPLYCODE,
                         BYTES("451-4.7.1 Try later\r\n451 4.7.1 Greylisted\0"), multi, 1,
                         "replycode");
}

static void test_reply_replbody(void **state)
{
    (void)state;
    struct raw r = raw_packet(MPR_REPLBODY, BYTES("new body\r\n\0\x01\xfe"));
    struct mp_packet p;
    decode_whole(r.b, r.n, &p);
    assert_int_equal(p.cmd, MPR_REPLBODY);
    assert_int_equal(p.len, 13);
    assert_memory_equal(p.data, "new body\r\n\0\x01\xfe", 13);
    assert_string_equal(mp_cmd_name(p.cmd), "replbody");
    free(r.b);
}

static void test_reply_indexed_headers(void **state)
{
    (void)state;
    static const unsigned char cmds[] = { MPR_CHGHEADER, MPR_INSHEADER };
    for (size_t i = 0; i < 2; i++) {
        struct raw r = raw_packet(cmds[i], BYTES("\0\0\0\2" "X-Spam-Score\0" " 7.5\0"));
        struct mp_packet p;
        uint32_t index = 0;
        const char *name, *value;
        decode_whole(r.b, r.n, &p);
        assert_int_equal(mp_parse_indexed_header(&p, &index, &name, &value), 0);
        assert_int_equal(index, 2);
        assert_string_equal(name, "X-Spam-Score");
        assert_string_equal(value, " 7.5");
        assert_true(string_inside(&p, name) && string_inside(&p, value));
        free(r.b);

        /* and what mp_put_indexed_header writes parses back */
        struct strbuf sb;
        sb_init(&sb);
        assert_int_equal(mp_put_indexed_header(&sb, cmds[i], 0xffffffffu, "Subject", ""), 0);
        decode_whole((const unsigned char *)sb.s, sb.len, &p);
        assert_int_equal(p.cmd, cmds[i]);
        assert_int_equal(mp_parse_indexed_header(&p, &index, &name, &value), 0);
        assert_int_equal(index, 0xffffffffu);
        assert_string_equal(name, "Subject");
        assert_string_equal(value, "");     /* an empty value deletes (chgheader) */
        sb_free(&sb);
    }
    assert_string_equal(mp_cmd_name(MPR_CHGHEADER), "chgheader");
    assert_string_equal(mp_cmd_name(MPR_INSHEADER), "insheader");
}

static void test_reply_setsymlist(void **state)
{
    (void)state;
    /* 'l': uint32 stage, then the space-separated macro list */
    struct raw r = raw_packet(MPR_SETSYMLIST, BYTES("\0\0\0\3" "{rcpt_addr} i\0"));
    struct mp_packet p;
    decode_whole(r.b, r.n, &p);
    assert_int_equal(p.cmd, MPR_SETSYMLIST);
    assert_int_equal(get_be32(p.data), MPM_ENVRCPT);
    struct mp_packet list = { p.cmd, p.data + 4, p.len - 4 };
    const char *v[2];
    size_t n;
    assert_int_equal(mp_parse_strings(&list, v, 2, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "{rcpt_addr} i");
    assert_string_equal(mp_cmd_name(p.cmd), "setsymlist");
    free(r.b);
}

static void test_cmd_name_unknown(void **state)
{
    (void)state;
    assert_string_equal(mp_cmd_name('z'), "?");
    assert_string_equal(mp_cmd_name(0), "?");
    assert_string_equal(mp_cmd_name(0xff), "?");
    assert_string_equal(mp_cmd_name(MPR_OPTNEG), "optneg");
}

/* ---- option negotiation with macro lists ---- */

static int optneg_of(const unsigned char *data, size_t len, struct mp_optneg *o,
                     struct raw *keep)
{
    *keep = raw_packet(MPR_OPTNEG, data, len);
    struct mp_packet p;
    decode_whole(keep->b, keep->n, &p);
    return mp_parse_optneg(&p, o);
}

#define OPTNEG_HEAD "\0\0\0\6" "\0\0\0\x11" "\0\0\0\x24"

static void test_optneg_macros(void **state)
{
    (void)state;
    struct mp_optneg o;
    struct raw r;
    assert_int_equal(optneg_of(BYTES(OPTNEG_HEAD
                                     "\0\0\0\0" "j {daemon_name}\0"
                                     "\0\0\0\2" "i {auth_type}\0"
                                     "\0\0\0\5" "i\0"
                                     "\0\0\0\6" "\0"), &o, &r), 0);
    assert_int_equal(o.version, 6);
    assert_int_equal(o.actions, MPF_ADDHDRS | MPF_CHGHDRS);
    assert_int_equal(o.proto, MPP_NOMAIL | MPP_NOHDRS);
    assert_string_equal(o.macros[MPM_CONNECT], "j {daemon_name}");
    assert_null(o.macros[MPM_HELO]);
    assert_string_equal(o.macros[MPM_ENVFROM], "i {auth_type}");
    assert_null(o.macros[MPM_ENVRCPT]);
    assert_null(o.macros[MPM_DATA]);
    assert_string_equal(o.macros[MPM_EOM], "i");
    assert_string_equal(o.macros[MPM_EOH], "");        /* an empty list is a list */
    struct mp_packet p = { MPR_OPTNEG, r.b + MP_HEADER_LEN, r.n - MP_HEADER_LEN };
    for (int i = 0; i < MPM_COUNT; i++)
        assert_true(o.macros[i] == NULL || string_inside(&p, o.macros[i]));
    free(r.b);

    /* exactly 12 bytes: no macros */
    assert_int_equal(optneg_of(BYTES(OPTNEG_HEAD), &o, &r), 0);
    for (int i = 0; i < MPM_COUNT; i++)
        assert_null(o.macros[i]);
    free(r.b);
}

static void test_optneg_bad(void **state)
{
    (void)state;
    static const struct { const char *what; const char *data; size_t len; } cases[] = {
#define C(what, lit) { what, lit, sizeof(lit) - 1 }
        C("empty", ""),
        C("11 bytes", "\0\0\0\6" "\0\0\0\x11" "\0\0\0"),
        C("stage = MPM_COUNT", OPTNEG_HEAD "\0\0\0\7" "i\0"),
        C("stage far out", OPTNEG_HEAD "\xff\xff\xff\xff" "i\0"),
        C("stage 2^32 - 7 (wraps if added)", OPTNEG_HEAD "\xff\xff\xff\xf9" "i\0"),
        C("duplicate stage", OPTNEG_HEAD "\0\0\0\2" "i\0" "\0\0\0\3" "j\0" "\0\0\0\2" "k\0"),
        C("list without NUL", OPTNEG_HEAD "\0\0\0\1" "{tls_version}"),
        C("stage without list", OPTNEG_HEAD "\0\0\0\1"),
        C("1 trailing byte", OPTNEG_HEAD "\0"),
        C("3 trailing bytes", OPTNEG_HEAD "\0\0\0"),
        C("partial second stage", OPTNEG_HEAD "\0\0\0\1" "x\0" "\0\0"),
#undef C
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mp_optneg o;
        struct raw r;
        if (optneg_of((const unsigned char *)cases[i].data, cases[i].len, &o, &r) != -1)
            fail_msg("optneg \"%s\" was accepted", cases[i].what);
        free(r.b);
    }
    struct mp_optneg o;
    struct mp_packet nodata = { MPR_OPTNEG, NULL, 12 };
    assert_int_equal(mp_parse_optneg(&nodata, &o), -1);
    assert_int_equal(mp_parse_optneg(NULL, &o), -1);
}

/* ---- incremental decoding ---- */

/* Every prefix of packet b[0..n) asks for more with the right *used; the
   whole decodes.  Each prefix is its own heap buffer of exactly k bytes. */
static void expect_incremental(const unsigned char *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char *c = heap_copy(b, k);
        struct mp_packet p = { 0, NULL, 0 };
        size_t used = 0;
        enum mp_status st = mp_decode(k ? c : NULL, k, MP_MAX_DATA, &p, &used);
        if (st != MP_MORE)
            fail_msg("prefix of %zu of %zu bytes: status %d", k, n, (int)st);
        size_t want = k < 4 ? MP_HEADER_LEN : n;
        if (used != want)
            fail_msg("prefix of %zu of %zu bytes: used %zu, want %zu", k, n, used, want);
        assert_true(used > k);
        assert_null(p.data);                    /* untouched */
        free(c);
    }
    unsigned char *c = heap_copy(b, n);
    struct mp_packet p;
    decode_whole(c, n, &p);
    free(c);
}

static void test_decode_truncated(void **state)
{
    (void)state;
    struct strbuf sb;
    sb_init(&sb);
    assert_int_equal(mp_put(&sb, MPC_ABORT, NULL, 0), 0);
    expect_incremental((const unsigned char *)sb.s, sb.len);
    sb_reset(&sb);
    assert_int_equal(mp_put(&sb, MPC_BODY, "x", 1), 0);
    expect_incremental((const unsigned char *)sb.s, sb.len);
    sb_reset(&sb);
    assert_int_equal(mp_put_connect(&sb, "h.example", '6', 25, "2001:db8::1"), 0);
    expect_incremental((const unsigned char *)sb.s, sb.len);
    sb_reset(&sb);
    assert_int_equal(mp_put_optneg(&sb, 6, 0x1ff, 0x1fffff), 0);
    expect_incremental((const unsigned char *)sb.s, sb.len);
    sb_free(&sb);
}

static void test_decode_stream(void **state)
{
    (void)state;
    static const char *const rcpt[] = { "<bob@example.net>" };
    struct strbuf sb;
    sb_init(&sb);
    assert_int_equal(mp_put_strings(&sb, MPC_RCPT, rcpt, 1), 0);
    size_t first = sb.len;
    assert_int_equal(mp_put(&sb, MPC_DATA, NULL, 0), 0);
    size_t second = sb.len;
    assert_int_equal(mp_put(&sb, MPC_BODY, "abc", 3), 0);
    size_t all = sb.len;

    /* two whole packets and 5 bytes of a third */
    unsigned char *b = heap_copy((const unsigned char *)sb.s, second + 5);
    size_t off = 0, used;
    struct mp_packet p;
    assert_int_equal(mp_decode(b, second + 5, MP_MAX_DATA, &p, &used), MP_OK);
    assert_int_equal(used, first);
    assert_int_equal(p.cmd, MPC_RCPT);
    assert_string_equal((const char *)p.data, "<bob@example.net>");
    off += used;
    assert_int_equal(mp_decode(b + off, second + 5 - off, MP_MAX_DATA, &p, &used), MP_OK);
    assert_int_equal(used, MP_HEADER_LEN);
    assert_int_equal(p.cmd, MPC_DATA);
    assert_int_equal(p.len, 0);
    assert_ptr_equal(p.data, b + off + MP_HEADER_LEN);
    off += used;
    assert_int_equal(off, second);
    assert_int_equal(mp_decode(b + off, 5, MP_MAX_DATA, &p, &used), MP_MORE);
    assert_int_equal(used, all - second);
    free(b);
    sb_free(&sb);
}

static void test_decode_bad(void **state)
{
    (void)state;
    struct mp_packet p;
    size_t used = 12345;
    unsigned char b[16] = { 0 };

    /* length 0: no command byte */
    assert_int_equal(mp_decode(b, 4, MP_MAX_DATA, &p, &used), MP_BAD);
    assert_int_equal(mp_decode(b, sizeof b, MP_MAX_DATA, &p, &used), MP_BAD);

    /* over max: 11 data bytes against max 10; exactly 10 is fine */
    put_be32(b, 12);
    b[4] = MPC_BODY;
    assert_int_equal(mp_decode(b, sizeof b, 10, &p, &used), MP_BAD);
    assert_int_equal(mp_decode(b, 4, 10, &p, &used), MP_BAD);   /* known from the length */
    assert_int_equal(mp_decode(b, sizeof b, 11, &p, &used), MP_OK);
    assert_int_equal(used, 16);
    put_be32(b, 11);
    assert_int_equal(mp_decode(b, sizeof b, 10, &p, &used), MP_OK);
    assert_int_equal(used, 15);

    /* max 0: only packets without data */
    put_be32(b, 1);
    assert_int_equal(mp_decode(b, 5, 0, &p, &used), MP_OK);
    put_be32(b, 2);
    assert_int_equal(mp_decode(b, 6, 0, &p, &used), MP_BAD);

    /* max is capped at MP_MAX_DATA */
    put_be32(b, MP_MAX_DATA + 2);
    assert_int_equal(mp_decode(b, sizeof b, SIZE_MAX, &p, &used), MP_BAD);
    put_be32(b, MP_MAX_DATA + 1);
    used = 0;
    assert_int_equal(mp_decode(b, sizeof b, SIZE_MAX, &p, &used), MP_MORE);
    assert_int_equal(used, MP_HEADER_LEN + MP_MAX_DATA);
    put_be32(b, 0xffffffffu);
    assert_int_equal(mp_decode(b, sizeof b, SIZE_MAX, &p, &used), MP_BAD);
    put_be32(b, 0x80000000u);
    assert_int_equal(mp_decode(b, sizeof b, SIZE_MAX, &p, &used), MP_BAD);

    /* bad arguments */
    put_be32(b, 1);
    assert_int_equal(mp_decode(b, 5, MP_MAX_DATA, NULL, &used), MP_BAD);
    assert_int_equal(mp_decode(b, 5, MP_MAX_DATA, &p, NULL), MP_BAD);
    assert_int_equal(mp_decode(NULL, 5, MP_MAX_DATA, &p, &used), MP_BAD);
    assert_int_equal(mp_decode(NULL, 0, MP_MAX_DATA, &p, &used), MP_MORE);
    assert_int_equal(used, MP_HEADER_LEN);
}

/* ---- encoder limits ---- */

static void test_put_limits(void **state)
{
    (void)state;
    struct strbuf sb;
    struct mp_packet p;
    char *big = malloc(MP_MAX_DATA + 2);
    assert_non_null(big);
    memset(big, 'x', MP_MAX_DATA + 1);
    big[MP_MAX_DATA + 1] = '\0';
    sb_init(&sb);

    /* exactly MP_MAX_DATA: sent, and decodes */
    assert_int_equal(mp_put(&sb, MPC_BODY, big, MP_MAX_DATA), 0);
    assert_int_equal(sb.len, MP_HEADER_LEN + MP_MAX_DATA);
    decode_whole((const unsigned char *)sb.s, sb.len, &p);
    sb_reset(&sb);

    /* one more: refused and nothing appended */
    sb_puts(&sb, "keep");
    assert_int_equal(mp_put(&sb, MPC_BODY, big, MP_MAX_DATA + 1), -1);
    assert_int_equal(sb.len, 4);
    const char *one[] = { big };
    assert_int_equal(mp_put_strings(&sb, MPC_HELO, one, 1), -1);     /* + NUL */
    big[MP_MAX_DATA - 1] = '\0';                                       /* + NUL = max */
    assert_int_equal(mp_put_strings(&sb, MPC_HELO, one, 1), 0);
    assert_int_equal(sb.len, 4 + MP_HEADER_LEN + MP_MAX_DATA);
    sb_reset(&sb);
    const char *n1[] = { "i" }, *v1[] = { big };
    assert_int_equal(mp_put_macros(&sb, MPC_MAIL, n1, v1, 1), -1);    /* stage + i\0 + big\0 */
    assert_int_equal(mp_put_indexed_header(&sb, MPR_CHGHEADER, 1, "X", big), -1);
    assert_int_equal(mp_put_connect(&sb, big, '4', 25, "192.0.2.1"), -1);
    assert_int_equal(mp_put_connect(&sb, "h", 'L', 0, big), -1);
    /* strings summing over the limit, each well under it */
    const char *halves[] = { big + MP_MAX_DATA / 2, big + MP_MAX_DATA / 2, "y" };
    assert_int_equal(mp_put_strings(&sb, MPC_MAIL, halves, 3), -1);
    assert_int_equal(sb.len, 0);

    /* bad arguments */
    assert_int_equal(mp_put(&sb, MPC_BODY, NULL, 1), -1);
    assert_int_equal(mp_put(NULL, MPC_ABORT, NULL, 0), -1);
    assert_int_equal(mp_put_strings(&sb, MPC_HELO, NULL, 1), -1);
    assert_int_equal(mp_put_macros(&sb, MPC_HELO, NULL, v1, 1), -1);
    assert_int_equal(mp_put_connect(&sb, "h", 'X', 25, "192.0.2.1"), -1);
    assert_int_equal(mp_put_connect(&sb, "h", '4', 25, NULL), -1);
    assert_int_equal(mp_put_connect(&sb, NULL, 'U', 0, NULL), -1);
    assert_int_equal(mp_put_indexed_header(&sb, MPR_INSHEADER, 0, NULL, "v"), -1);
    assert_int_equal(mp_put_indexed_header(&sb, MPR_INSHEADER, 0, "n", NULL), -1);
    assert_int_equal(sb.len, 0);
    /* NULL entries of a string vector are skipped */
    const char *holes[] = { NULL, "a", NULL };
    assert_int_equal(mp_put_strings(&sb, MPC_MAIL, holes, 3), 0);
    assert_bytes(sb.s, sb.len, "\0\0\0\3" "Ma", 7);
    sb_reset(&sb);

    /* out of memory is sticky and reported */
    sb.oom = 1;
    assert_int_equal(mp_put(&sb, MPC_ABORT, NULL, 0), -1);
    assert_int_equal(mp_put_optneg(&sb, 6, 0, 0), -1);
    sb_free(&sb);
    free(big);
}

/* ---- connect ---- */

static void test_connect_families(void **state)
{
    (void)state;
    static const struct {
        const char *host;
        char family;
        uint16_t port;
        const char *addr;
    } ok[] = {
        { "mail.example.org", '4', 25, "192.0.2.1" },
        { "[2001:db8::25]", '6', 65535, "2001:db8::25" },
        { "v4mapped", '6', 587, "::ffff:192.0.2.7" },
        { "localhost", 'L', 0, "/var/run/smtp.sock" },
        { "unknown", 'U', 0, NULL },
        { "", '4', 0, "0.0.0.0" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct strbuf sb;
        struct mp_packet p;
        struct mp_connect c;
        sb_init(&sb);
        assert_int_equal(mp_put_connect(&sb, ok[i].host, ok[i].family, ok[i].port,
                                        ok[i].addr), 0);
        decode_whole((const unsigned char *)sb.s, sb.len, &p);
        assert_int_equal(mp_parse_connect(&p, &c), 0);
        assert_string_equal(c.host, ok[i].host);
        assert_int_equal(c.family, ok[i].family);
        assert_int_equal(c.port, ok[i].port);
        if (ok[i].addr) {
            assert_string_equal(c.addr, ok[i].addr);
            assert_true(string_inside(&p, c.addr));
        } else {
            assert_null(c.addr);
            assert_int_equal(p.len, strlen(ok[i].host) + 2);    /* host\0 U */
        }
        sb_free(&sb);
    }
}

static void test_connect_bad(void **state)
{
    (void)state;
    static const struct { const char *what; const char *data; size_t len; } cases[] = {
#define C(what, lit) { what, lit, sizeof(lit) - 1 }
        C("empty", ""),
        C("host without NUL", "mail.example.org"),
        C("no family", "h\0"),
        C("bad family", "h\0X\0\x19" "192.0.2.1\0"),
        C("family NUL", "h\0\0\0\x19" "192.0.2.1\0"),
        C("bad IPv4", "h\0" "4\0\x19" "192.0.2.256\0"),
        C("IPv4 with port text", "h\0" "4\0\x19" "192.0.2.1:25\0"),
        C("empty IPv4", "h\0" "4\0\x19" "\0"),
        C("bad IPv6", "h\0" "6\0\x19" "2001:db8::g\0"),
        C("IPv4 as IPv6", "h\0" "6\0\x19" "192.0.2.1\0"),
        C("IPv6 tag", "h\0" "6\0\x19" "IPv6:2001:db8::1\0"),
        C("IPv6 as IPv4", "h\0" "4\0\x19" "::1\0"),
        C("no port", "h\0" "4"),
        C("half a port", "h\0" "4\0"),
        C("no address", "h\0" "4\0\x19"),
        C("address without NUL", "h\0" "4\0\x19" "192.0.2.1"),
        C("left over after address", "h\0" "4\0\x19" "192.0.2.1\0x"),
        C("left over NUL after address", "h\0" "L\0\0" "/s\0\0"),
        C("left over after U", "h\0" "U\0"),
        C("port and address after U", "h\0" "U\0\x19" "192.0.2.1\0"),
#undef C
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct raw r = raw_packet(MPC_CONNECT, (const unsigned char *)cases[i].data,
                                  cases[i].len);
        struct mp_packet p;
        struct mp_connect c;
        decode_whole(r.b, r.n, &p);
        if (mp_parse_connect(&p, &c) != -1)
            fail_msg("connect \"%s\" was accepted", cases[i].what);
        free(r.b);
    }
    struct mp_connect c;
    assert_int_equal(mp_parse_connect(NULL, &c), -1);
    struct mp_packet nodata = { MPC_CONNECT, NULL, 4 };
    assert_int_equal(mp_parse_connect(&nodata, &c), -1);
}

/* ---- string vectors and indexed headers ---- */

static int strings_of(const unsigned char *d, size_t len, const char **v, size_t max,
                      size_t *n)
{
    unsigned char *c = heap_copy(d, len);
    struct mp_packet p = { MPC_MAIL, len ? c : NULL, len };
    int rc = mp_parse_strings(&p, v, max, n);
    /* v points into c: compare before freeing */
    if (rc == 0)
        for (size_t i = 0; i < *n; i++)
            assert_true(string_inside(&p, v[i]));
    free(c);
    return rc;
}

static void test_parse_strings(void **state)
{
    (void)state;
    const char *v[4];
    size_t n = 77;
    assert_int_equal(strings_of(BYTES(""), v, 4, &n), 0);
    assert_int_equal(n, 0);
    n = 77;
    assert_int_equal(strings_of(BYTES(""), NULL, 0, &n), 0);          /* max 0, no data */
    assert_int_equal(n, 0);
    assert_int_equal(strings_of(BYTES("a\0"), NULL, 0, &n), -1);      /* max 0, data */
    assert_int_equal(strings_of(BYTES("a\0bb\0ccc\0"), v, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(strings_of(BYTES("a\0bb\0ccc\0"), v, 2, &n), -1); /* max exceeded */
    assert_int_equal(strings_of(BYTES("a\0bb\0ccc"), v, 4, &n), -1);  /* no final NUL */
    assert_int_equal(strings_of(BYTES("abc"), v, 4, &n), -1);
    assert_int_equal(strings_of(BYTES("\0\0"), v, 4, &n), 0);         /* two empty strings */
    assert_int_equal(n, 2);
    assert_int_equal(strings_of(BYTES("\0"), v, 4, &n), 0);
    assert_int_equal(n, 1);
    struct mp_packet p = { MPC_MAIL, (const unsigned char *)"a", 2 };
    assert_int_equal(mp_parse_strings(&p, v, 4, NULL), -1);
    assert_int_equal(mp_parse_strings(NULL, v, 4, &n), -1);
    assert_int_equal(mp_parse_strings(&p, NULL, 4, &n), -1);
}

static int indexed_of(const unsigned char *d, size_t len, uint32_t *index, const char **name,
                      const char **value, struct raw *keep)
{
    *keep = raw_packet(MPR_CHGHEADER, d, len);
    struct mp_packet p;
    decode_whole(keep->b, keep->n, &p);
    return mp_parse_indexed_header(&p, index, name, value);
}

static void test_parse_indexed_header(void **state)
{
    (void)state;
    uint32_t index;
    const char *name, *value;
    struct raw r;
    static const struct { const char *what; const char *data; size_t len; int rc; } cases[] = {
#define C(what, lit, rc) { what, lit, sizeof(lit) - 1, rc }
        C("exact", "\0\0\0\1" "Subject\0" "hi\0", 0),
        C("smallest: empty name and value", "\0\0\0\0" "\0\0", 0),
        C("empty", "", -1),
        C("index only", "\0\0\0\1", -1),
        C("5 bytes", "\0\0\0\1" "\0", -1),
        C("short index", "\0\0\0", -1),
        C("name without NUL", "\0\0\0\1" "Subject", -1),
        C("no value", "\0\0\0\1" "Subject\0", -1),
        C("value without NUL", "\0\0\0\1" "Subject\0" "hi", -1),
        C("one byte too many", "\0\0\0\1" "Subject\0" "hi\0" "x", -1),
        C("a third string", "\0\0\0\1" "Subject\0" "hi\0" "x\0", -1),
        C("a trailing NUL", "\0\0\0\1" "Subject\0" "hi\0\0", -1),
#undef C
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = indexed_of((const unsigned char *)cases[i].data, cases[i].len, &index, &name,
                            &value, &r);
        if (rc != cases[i].rc)
            fail_msg("indexed header \"%s\": %d, want %d", cases[i].what, rc, cases[i].rc);
        free(r.b);
    }
    assert_int_equal(indexed_of(BYTES("\x01\x02\x03\x04" "Subject\0" "hi\0"), &index, &name,
                                &value, &r), 0);
    assert_int_equal(index, 0x01020304u);
    assert_string_equal(name, "Subject");
    assert_string_equal(value, "hi");
    free(r.b);
    struct mp_packet nodata = { MPR_CHGHEADER, NULL, 8 };
    assert_int_equal(mp_parse_indexed_header(&nodata, &index, &name, &value), -1);
    assert_int_equal(mp_parse_indexed_header(NULL, &index, &name, &value), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants_match_libmilter),
        cmocka_unit_test(test_commands_empty),
        cmocka_unit_test(test_command_body),
        cmocka_unit_test(test_command_connect),
        cmocka_unit_test(test_command_macro),
        cmocka_unit_test(test_command_strings),
        cmocka_unit_test(test_command_optneg),
        cmocka_unit_test(test_replies_empty),
        cmocka_unit_test(test_replies_strings),
        cmocka_unit_test(test_reply_replbody),
        cmocka_unit_test(test_reply_indexed_headers),
        cmocka_unit_test(test_reply_setsymlist),
        cmocka_unit_test(test_cmd_name_unknown),
        cmocka_unit_test(test_optneg_macros),
        cmocka_unit_test(test_optneg_bad),
        cmocka_unit_test(test_decode_truncated),
        cmocka_unit_test(test_decode_stream),
        cmocka_unit_test(test_decode_bad),
        cmocka_unit_test(test_put_limits),
        cmocka_unit_test(test_connect_families),
        cmocka_unit_test(test_connect_bad),
        cmocka_unit_test(test_parse_strings),
        cmocka_unit_test(test_parse_indexed_header),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
