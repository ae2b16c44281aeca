/*
 * test_engine.c - rule evaluation and reply building: first match wins,
 * every match key, policy vs reply events, code derivation from the
 * registry, class forcing, enhanced-code inference, lines/footer/url, and
 * the libmilter limits under hostile session facts.
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

#include "engine.h"
#include "explain.h"
#include "reply.h"
#include "rules.h"

/* ---- helpers ---- */


static struct reply parse(const char *text)
{
    struct reply r;
    reply_init(&r);
    assert_int_equal(reply_parse(text, &r, NULL), 0);
    return r;
}

struct run {
    int rc;
    struct decision d;
    char *wire;            /* reply_format of d.reply with "\n", or NULL */
};

static void run_free(struct run *r)
{
    engine_decision_free(&r->d);
    free(r->wire);
}

/* Evaluates a reply event (orig != NULL) or a policy event (orig == NULL). */
static struct run eval(const struct config *c, enum stage st, const char *source,
                       const char *orig, const struct session_facts *f)
{
    struct run r;
    struct reply o;
    static const struct session_facts none;
    reply_init(&o);
    if (orig)
        o = parse(orig);
    struct event ev = { .stage = st, .source = source, .orig = orig ? &o : NULL,
                        .facts = f ? f : &none };
    engine_decision_init(&r.d);
    r.rc = engine_eval(c, &ev, &r.d);
    r.wire = r.rc >= 0 && r.d.has_reply ? reply_format(&r.d.reply, "\n") : NULL;
    reply_free(&o);
    return r;
}

static const char *rule_name(const struct run *r)
{
    return r->d.rule ? r->d.rule->name : "(none)";
}

/* Expects rule `name` to match and the wire form to be `wire` (NULL: any). */
static void expect(const struct config *c, enum stage st, const char *source, const char *orig,
                   const struct session_facts *f, const char *name, const char *wire)
{
    struct run r = eval(c, st, source, orig, f);
    if (name) {
        assert_int_equal(r.rc, 1);
        assert_string_equal(rule_name(&r), name);
    } else {
        assert_int_equal(r.rc, 0);
        assert_null(r.d.rule);
    }
    if (wire) {
        assert_non_null(r.wire);
        assert_string_equal(r.wire, wire);
    }
    run_free(&r);
}

/* ---- tests ---- */

static void test_first_match_wins(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"first\";  when = { text = \"(?i)user unknown\"; }; reply = { text = \"one\"; }; },\n"
        " { name = \"second\"; when = { text = \"unknown\"; };          reply = { text = \"two\"; }; },\n"
        " { name = \"third\";  when = { code = \"5xx\"; };              reply = { text = \"three\"; }; }\n"
        ");\n");
    expect(c, STAGE_RCPT, "mta", "550 5.1.1 User unknown", NULL, "first", "550 5.1.1 one");
    expect(c, STAGE_RCPT, "mta", "550 5.1.1 unknown host", NULL, "second", "550 5.1.1 two");
    expect(c, STAGE_RCPT, "mta", "554 5.7.1 go away", NULL, "third", "554 5.7.1 three");
    expect(c, STAGE_RCPT, "mta", "450 4.7.1 later", NULL, NULL, "450 4.7.1 later");
    conf_unref(c);
}

static void test_stage_and_source(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"rcpt-only\"; when = { stage = \"rcpt\"; source = \"mta\"; text = \"x\"; };"
        "   reply = { text = \"r\"; }; },\n"
        " { name = \"self-only\"; when = { stage = [\"mail\", \"eom\"]; source = \"self\"; text = \"x\"; };"
        "   reply = { text = \"s\"; }; },\n"
        " { name = \"any\"; when = { source = \"any\"; text = \"x\"; }; reply = { text = \"a\"; }; }\n"
        ");\n");
    expect(c, STAGE_RCPT, "mta", "550 x", NULL, "rcpt-only", NULL);
    expect(c, STAGE_MAIL, "mta", "550 x", NULL, "any", NULL);       /* wrong stage */
    expect(c, STAGE_RCPT, "self", "550 x", NULL, "any", NULL);      /* wrong source */
    expect(c, STAGE_EOM, "self", "550 x", NULL, "self-only", NULL);
    expect(c, STAGE_EOM, "clamav", "550 x", NULL, "any", NULL);
    /* unknown stage/source (reword explain): every rule's stage and source match */
    expect(c, STAGE_COUNT, NULL, "550 x", NULL, "rcpt-only", NULL);
    expect(c, STAGE_MAIL, NULL, "550 x", NULL, "self-only", NULL);
    conf_unref(c);
}

static void test_code_and_enhanced(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"exact\"; when = { code = 552; }; reply = { text = \"exact\"; }; },\n"
        " { name = \"enh\"; when = { enhanced = \"5.1.1\"; }; reply = { text = \"enh\"; }; },\n"
        " { name = \"wild\"; when = { enhanced = \"4.*.*\"; }; reply = { text = \"wild\"; }; },\n"
        " { name = \"sub\"; when = { enhanced = \"*.7.*\"; }; reply = { text = \"sub\"; }; },\n"
        " { name = \"class\"; when = { code = \"5xx\"; }; reply = { text = \"class\"; }; }\n"
        ");\n");
    expect(c, STAGE_RCPT, "mta", "552 5.2.2 full", NULL, "exact", NULL);
    expect(c, STAGE_RCPT, "mta", "550 5.1.1 no", NULL, "enh", NULL);
    expect(c, STAGE_RCPT, "mta", "451 4.3.0 later", NULL, "wild", NULL);
    expect(c, STAGE_RCPT, "mta", "554 5.7.1 no", NULL, "sub", NULL);
    expect(c, STAGE_RCPT, "mta", "553 5.1.3 bad", NULL, "class", NULL);
    /* no enhanced code in the original: enhanced conditions never match */
    expect(c, STAGE_RCPT, "mta", "550 no", NULL, "class", NULL);
    expect(c, STAGE_RCPT, "mta", "450 no", NULL, NULL, "450 4.0.0 no");
    conf_unref(c);
}

static void test_text_joined_with_space(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"joined\"; when = { text = \"^first line second line$\"; };"
        "   reply = { text = \"seen: %{text}\"; }; }\n"
        ");\n");
    expect(c, STAGE_EOM, "self", "550-5.7.1 first line\r\n550 5.7.1 second line", NULL,
           "joined", "550 5.7.1 seen: first line second line");
    expect(c, STAGE_EOM, "self", "550 5.7.1 first line", NULL, NULL, NULL);
    conf_unref(c);
}

static void test_fact_conditions(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"sender\"; when = { sender = \"@spam\\\\.example$\"; }; reply = { text = \"s\"; }; },\n"
        " { name = \"null-sender\"; when = { sender = \"^$\"; }; reply = { text = \"n\"; }; },\n"
        " { name = \"rcpt\"; when = { rcpt = \"^postmaster@\"; }; reply = { text = \"r\"; }; },\n"
        " { name = \"helo\"; when = { helo = \"^localhost$\"; }; reply = { text = \"h\"; }; },\n"
        " { name = \"cname\"; when = { client_name = \"\\\\.dyn\\\\.\"; }; reply = { text = \"c\"; }; },\n"
        " { name = \"net\"; when = { client = [\"192.0.2.0/24\", \"2001:db8::/32\"]; };"
        "   reply = { text = \"net\"; }; }\n"
        ");\n");
    struct session_facts f;
    memset(&f, 0, sizeof f);
    /* every fact NULL: nothing but the unconditional cases match */
    expect(c, STAGE_RCPT, "mta", "550 5.7.1 x", &f, NULL, NULL);
    f.sender = "bob@spam.example";
    expect(c, STAGE_RCPT, "mta", "550 5.7.1 x", &f, "sender", NULL);
    f.sender = "";
    expect(c, STAGE_RCPT, "mta", "550 5.7.1 x", &f, "null-sender", NULL);
    f.sender = "a@b.example";
    f.rcpt = "postmaster@b.example";
    expect(c, STAGE_RCPT, "mta", "550 5.7.1 x", &f, "rcpt", NULL);
    f.rcpt = "bob@b.example";
    f.helo = "localhost";
    expect(c, STAGE_RCPT, "mta", "550 5.7.1 x", &f, "helo", NULL);
    f.helo = "mx.example";
    f.client_name = "host-1.dyn.isp.example";
    expect(c, STAGE_RCPT, "mta", "550 5.7.1 x", &f, "cname", NULL);
    f.client_name = "mx.isp.example";
    f.client_addr = "192.0.2.77";
    expect(c, STAGE_RCPT, "mta", "550 5.7.1 x", &f, "net", NULL);
    f.client_addr = "2001:db8:1::5";
    expect(c, STAGE_RCPT, "mta", "550 5.7.1 x", &f, "net", NULL);
    f.client_addr = "198.51.100.1";
    expect(c, STAGE_RCPT, "mta", "550 5.7.1 x", &f, NULL, NULL);
    conf_unref(c);
}

static const char *macro_cb(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "{auth_type}") == 0 || strcmp(name, "auth_type") == 0)
        return "LOGIN";
    if (strcmp(name, "j") == 0)
        return "mx.example.org";
    return NULL;
}

static void test_auth_macro_header(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"login\"; when = { auth = \"^admin$\"; }; reply = { text = \"login\"; }; },\n"
        " { name = \"authed\"; when = { auth = true; macro = [\"{auth_type} = ^LOGIN$\"]; };"
        "   reply = { text = \"authed\"; }; },\n"
        " { name = \"hdr\"; when = { stage = \"eom\"; auth = false; header = [\"X-Spam-Flag: ^YES$\"]; };"
        "   reply = { text = \"hdr\"; }; },\n"
        " { name = \"unauth\"; when = { auth = false; macro = [\"j = ^mx\\\\.\"]; };"
        "   reply = { text = \"unauth\"; }; }\n"
        ");\n");
    struct session_facts f;
    memset(&f, 0, sizeof f);
    expect(c, STAGE_EOM, "self", "550 5.7.1 x", &f, NULL, NULL);   /* no macros at all */
    f.macro = macro_cb;
    expect(c, STAGE_EOM, "self", "550 5.7.1 x", &f, "unauth", NULL);
    f.auth_login = "admin";
    expect(c, STAGE_EOM, "self", "550 5.7.1 x", &f, "login", NULL);
    f.auth_login = "carol";
    expect(c, STAGE_EOM, "self", "550 5.7.1 x", &f, "authed", NULL);
    f.auth_login = NULL;
    const char *names[] = { "Subject", "x-spam-flag", "X-Spam-Flag" };
    const char *values[] = { "hi", "NO", "YES" };
    f.header_names = names;
    f.header_values = values;
    f.nheaders = 3;
    expect(c, STAGE_EOM, "self", "550 5.7.1 x", &f, "hdr", NULL);   /* 2nd of the name */
    values[2] = "NO";
    expect(c, STAGE_EOM, "self", "550 5.7.1 x", &f, "unauth", NULL);
    values[1] = "YES";                                              /* name case-insensitive */
    expect(c, STAGE_EOM, "self", "550 5.7.1 x", &f, "hdr", NULL);
    expect(c, STAGE_RCPT, "self", "550 5.7.1 x", &f, "unauth", NULL); /* hdr is eom only */
    conf_unref(c);
}

/* The daemon's way: headers noted one by one into bits, none kept.  A
   message with 10,000 headers before the one that matters is still judged
   on it (the daemon once kept only the first 200 headers). */
static void test_header_bits(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"two\"; when = { stage = \"eom\"; header = [\"Subject: (?i)rejs\", \"X-B: ^1$\"]; };"
        "   action = \"reject\"; },\n"
        " { name = \"subj\"; when = { stage = \"eom\"; header = \"subject: (?i)rejs\"; }; action = \"tempfail\"; }\n"
        ");\n");
    assert_int_equal(c->nheader_conds, 3);
    assert_int_equal(engine_header_bits_size(c), 1);
    unsigned char bits[1] = { 0 };
    struct session_facts f;
    memset(&f, 0, sizeof f);
    f.header_bits = bits;
    char name[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof name, "X-P%d", i);
        assert_int_equal(engine_note_header(c, name, "v", bits), 0);
    }
    expect(c, STAGE_EOM, NULL, NULL, &f, NULL, NULL);
    assert_int_equal(engine_note_header(c, "SUBJECT", "REJS now", bits), 0);
    expect(c, STAGE_EOM, NULL, NULL, &f, "subj", NULL);     /* X-B missing for "two" */
    assert_int_equal(engine_note_header(c, "X-B", "2", bits), 0);
    expect(c, STAGE_EOM, NULL, NULL, &f, "subj", NULL);
    assert_int_equal(engine_note_header(c, "x-b", "1", bits), 0);
    expect(c, STAGE_EOM, NULL, NULL, &f, "two", NULL);      /* both conditions met, in any order */
    assert_int_equal(engine_note_header(c, "X-B", "3", bits), 0);
    expect(c, STAGE_EOM, NULL, NULL, &f, "two", NULL);      /* a met condition stays met */
    bits[0] = 0;                                            /* next message */
    expect(c, STAGE_EOM, NULL, NULL, &f, NULL, NULL);
    conf_unref(c);

    /* a failing pattern (match limit) reports -1 but hides no other condition */
    c = unit_load("rules = (\n"
             " { name = \"slow\"; when = { stage = \"eom\"; header = \"Subject: ^(a+)+$\"; }; action = \"tempfail\"; },\n"
             " { name = \"spam\"; when = { stage = \"eom\"; header = \"Subject: (?i)viagra\"; }; action = \"reject\"; }\n"
             ");\n");
    char subj[64];
    memset(subj, 'a', 40);
    strcpy(subj + 40, "b viagra");
    bits[0] = 0;
    assert_int_equal(engine_note_header(c, "Subject", subj, bits), -1);
    expect(c, STAGE_EOM, NULL, NULL, &f, "spam", NULL);
    conf_unref(c);
}

/* The rule index (by action and basic code) only prunes: first match in
   rule order across its lists, and the same decision as a full scan. */
static void test_index_order(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"r550\"; when = { code = 550; text = \"^a\"; }; reply = { text = \"r550\"; }; },\n"
        " { name = \"any-a\"; when = { text = \"^a\"; }; reply = { text = \"any\"; }; },\n"
        " { name = \"c5xx\"; when = { code = \"5xx\"; }; action = \"log\"; },\n"
        " { name = \"r451\"; when = { code = 451; }; reply = { text = \"r451\"; }; },\n"
        " { name = \"pol\"; when = { stage = \"rcpt\"; }; action = \"reject\"; },\n"
        " { name = \"pol-code\"; when = { code = 550; }; action = \"reject\"; },\n"
        " { name = \"late-any\"; when = { stage = \"mail\"; }; reply = { text = \"late\"; }; }\n"
        ");\n");
    assert_non_null(c->index);
    struct session_facts f;
    memset(&f, 0, sizeof f);
    expect(c, STAGE_RCPT, "mta", "550 5.1.1 a b", &f, "r550", NULL);
    expect(c, STAGE_RCPT, "mta", "551 5.1.1 a b", &f, "any-a", NULL);
    expect(c, STAGE_RCPT, "mta", "551 5.1.1 b", &f, "c5xx", NULL);
    expect(c, STAGE_RCPT, "mta", "451 4.7.1 b", &f, "r451", NULL);
    expect(c, STAGE_MAIL, "mta", "452 4.3.1 b", &f, "late-any", NULL);
    expect(c, STAGE_RCPT, "mta", "452 4.3.1 b", &f, NULL, NULL);
    expect(c, STAGE_RCPT, "self", NULL, &f, "pol", NULL);
    expect(c, STAGE_MAIL, "self", NULL, &f, NULL, NULL);
    /* every combination agrees with a scan of all rules */
    const char *origs[] = { NULL, "550 5.7.1 a", "550 b", "554 5.7.1 a", "451 4.7.1 a", "421 x",
                            "250 ok", "a", "599 5.0.0 a", "" };
    for (size_t o = 0; o < sizeof origs / sizeof origs[0]; o++)
        for (int st = 0; st <= STAGE_COUNT; st++) {
            struct reply r;
            reply_init(&r);
            if (origs[o])
                reply_parse(origs[o], &r, NULL);
            struct event ev = { .stage = (enum stage)st, .source = "mta",
                                .orig = origs[o] ? &r : NULL, .facts = &f };
            struct decision a, b;
            engine_decision_init(&a);
            engine_decision_init(&b);
            assert_int_equal(engine_eval(c, &ev, &a), engine_eval_unindexed(c, &ev, &b));
            assert_ptr_equal(a.rule, b.rule);
            assert_int_equal(a.reply.code, b.reply.code);
            engine_decision_free(&a);
            engine_decision_free(&b);
            reply_free(&r);
        }
    conf_unref(c);
}

static void test_policy_vs_reply_events(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"reject-on-code\"; when = { code = 550; }; action = \"reject\"; },\n"
        " { name = \"logger\"; when = { helo = \"^log$\"; }; action = \"log\"; },\n"
        " { name = \"rewrite\"; when = { helo = \"^bad\"; }; reply = { text = \"rewritten\"; }; },\n"
        " { name = \"explicit-rewrite\"; when = { helo = \"^bad\"; }; action = \"rewrite\";"
        "   reply = { text = \"rewritten 2\"; }; },\n"
        " { name = \"reject\"; when = { helo = \"^bad\"; }; action = \"reject\";"
        "   reply = { enhanced = \"5.7.1\"; text = \"go away\"; }; },\n"
        " { name = \"accept\"; when = { helo = \"^good\"; }; action = \"accept\"; },\n"
        " { name = \"discard\"; when = { helo = \"^drop\"; }; action = \"discard\"; }\n"
        ");\n");
    struct session_facts f;
    memset(&f, 0, sizeof f);
    f.helo = "bad.example";
    /* a reply event: the rewrite rule, never an own decision */
    expect(c, STAGE_MAIL, "self", "550 5.7.1 Command rejected", &f, "rewrite",
           "550 5.7.1 rewritten");
    /* a policy event: rewrite rules and code conditions do not apply */
    struct run r = eval(c, STAGE_MAIL, "self", NULL, &f);
    assert_int_equal(r.rc, 1);
    assert_string_equal(rule_name(&r), "reject");
    assert_int_equal(r.d.action, ACTION_REJECT);
    assert_int_equal(r.d.has_reply, 1);
    assert_string_equal(r.wire, "550 5.7.1 go away");
    run_free(&r);

    f.helo = "good.example";
    r = eval(c, STAGE_MAIL, "self", NULL, &f);
    assert_int_equal(r.rc, 1);
    assert_int_equal(r.d.action, ACTION_ACCEPT);
    assert_int_equal(r.d.has_reply, 0);
    run_free(&r);
    /* an accept rule never fires on a reply event */
    expect(c, STAGE_MAIL, "self", "451 4.7.1 later", &f, NULL, "451 4.7.1 later");

    f.helo = "drop.example";
    r = eval(c, STAGE_EOM, "self", NULL, &f);
    assert_int_equal(r.d.action, ACTION_DISCARD);
    assert_int_equal(r.d.has_reply, 0);
    run_free(&r);

    /* log: both kinds; the reply is the original made well-formed */
    f.helo = "log";
    r = eval(c, STAGE_MAIL, "self", NULL, &f);
    assert_int_equal(r.rc, 1);
    assert_int_equal(r.d.action, ACTION_LOG);
    assert_int_equal(r.d.has_reply, 0);
    run_free(&r);
    r = eval(c, STAGE_MAIL, "self", "550 4.7.1 nope", &f);
    assert_int_equal(r.rc, 1);
    assert_int_equal(r.d.action, ACTION_LOG);
    assert_string_equal(r.wire, "550 5.7.1 nope");
    run_free(&r);

    /* no rule: policy event gives nothing, reply event the original */
    f.helo = "neutral";
    r = eval(c, STAGE_MAIL, "self", NULL, &f);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.d.has_reply, 0);
    assert_null(r.d.rule);
    run_free(&r);
    conf_unref(c);
}

static void test_code_from_registry(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"full\"; when = { helo = \"^full$\"; }; action = \"reject\";"
        "   reply = { enhanced = \"5.2.2\"; text = \"%{code} %{enhanced}\"; }; },\n"
        " { name = \"policy\"; when = { helo = \"^policy$\"; }; action = \"reject\";"
        "   reply = { enhanced = \"5.7.1\"; }; },\n"
        " { name = \"big\"; when = { helo = \"^big$\"; }; action = \"reject\";"
        "   reply = { enhanced = \"5.3.4\"; text = \"too big\"; }; },\n"
        " { name = \"later\"; when = { helo = \"^later$\"; }; action = \"tempfail\";"
        "   reply = { enhanced = \"4.3.0\"; text = \"later\"; }; },\n"
        " { name = \"conn\"; when = { helo = \"^conn$\"; }; action = \"tempfail\";"
        "   reply = { enhanced = \"4.4.2\"; text = \"conn\"; }; },\n"
        " { name = \"tls\"; when = { helo = \"^tls$\"; }; action = \"reject\";"
        "   reply = { enhanced = \"5.7.10\"; text = \"tls\"; }; },\n"
        " { name = \"explicit\"; when = { helo = \"^explicit$\"; }; action = \"reject\";"
        "   reply = { code = 554; enhanced = \"5.7.1\"; text = \"x\"; }; },\n"
        " { name = \"plain-reject\"; when = { helo = \"^plain$\"; }; action = \"reject\"; },\n"
        " { name = \"plain-tempfail\"; when = { helo = \"^plaintemp$\"; }; action = \"tempfail\"; }\n"
        ");\n");
    struct session_facts f;
    memset(&f, 0, sizeof f);
    static const struct { const char *helo, *wire_start; } cases[] = {
        { "full", "552 5.2.2 552 5.2.2" },
        { "policy", "550 5.7.1 " },
        { "big", "552 5.3.4 too big" },
        { "later", "451 4.3.0 later" },
        { "conn", "451 4.4.2 conn" },          /* 421 is never derived */
        { "tls", "523 5.7.10 tls" },
        { "explicit", "554 5.7.1 x" },
        { "plain", "550 5.0.0 " },
        { "plaintemp", "451 4.0.0 " },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.helo = cases[i].helo;
        struct run r = eval(c, STAGE_MAIL, "self", NULL, &f);
        assert_int_equal(r.rc, 1);
        assert_non_null(r.wire);
        if (strncmp(r.wire, cases[i].wire_start, strlen(cases[i].wire_start)) != 0)
            fail_msg("helo %s: got \"%s\", want \"%s...\"", cases[i].helo, r.wire,
                     cases[i].wire_start);
        run_free(&r);
    }
    /* without rule text, an own decision explains itself from the taxonomy */
    f.helo = "policy";
    struct run r = eval(c, STAGE_MAIL, "self", NULL, &f);
    struct reply want;
    reply_init(&want);
    assert_int_equal(reply_set(&want, 550, "5.7.1", ""), 0);
    char *x = explain_reply(&want);
    assert_string_equal(r.d.reply.lines[0], x);
    free(x);
    reply_free(&want);
    run_free(&r);
    conf_unref(c);
}

static void test_action_forces_class(void **state)
{
    (void)state;
    /* the checker refuses these; the engine still never sends a mismatch */
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"rej\"; when = { helo = \"^rej$\"; }; action = \"reject\";"
        "   reply = { code = 550; enhanced = \"5.7.1\"; text = \"r\"; }; },\n"
        " { name = \"tmp\"; when = { helo = \"^tmp$\"; }; action = \"tempfail\";"
        "   reply = { code = 451; enhanced = \"4.7.1\"; text = \"t\"; }; }\n"
        ");\n");
    c->rules[0].reply.code = 451;                   /* reject with a 4xx */
    c->rules[0].reply.enhanced[0] = '4';            /* and 4.7.1 */
    c->rules[1].reply.code = 554;                   /* tempfail with a 5xx */
    struct session_facts f;
    memset(&f, 0, sizeof f);
    f.helo = "rej";
    struct run r = eval(c, STAGE_RCPT, "self", NULL, &f);
    assert_string_equal(r.wire, "550 5.7.1 r");
    run_free(&r);
    f.helo = "tmp";
    r = eval(c, STAGE_RCPT, "self", NULL, &f);
    assert_string_equal(r.wire, "451 4.7.1 t");
    run_free(&r);
    conf_unref(c);
}

static void test_class_forcing(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"keep\"; when = { text = \"^keep\"; }; reply = { text = \"kept %{enhanced}\"; }; },\n"
        " { name = \"policy\"; when = { text = \"^policy\"; };"
        "   reply = { enhanced = \"5.7.1\"; text = \"%{code} %{enhanced}\"; }; }\n"
        ");\n");
    /* an upstream that wrote 550 4.7.1: the class follows the basic code */
    expect(c, STAGE_RCPT, "clamav", "550 4.7.1 keep", NULL, "keep", "550 5.7.1 kept 5.7.1");
    expect(c, STAGE_RCPT, "clamav", "451 5.7.1 keep", NULL, "keep", "451 4.7.1 kept 4.7.1");
    expect(c, STAGE_RCPT, "clamav", "550 4.7.1 other", NULL, NULL, "550 5.7.1 other");
    /* a rule's enhanced code on a reply of the other class */
    expect(c, STAGE_RCPT, "clamav", "450 policy", NULL, "policy", "450 4.7.1 450 4.7.1");
    expect(c, STAGE_RCPT, "clamav", "554 policy", NULL, "policy", "554 5.7.1 554 5.7.1");
    conf_unref(c);
}

static void test_inference(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"no-enh\"; when = { sender = \"^x@\"; }; reply = { text = \"from x\"; }; },\n"
        " { name = \"reject-x\"; when = { sender = \"^x@\"; }; action = \"reject\"; },\n"
        " { name = \"tempfail-y\"; when = { sender = \"^y@\"; }; action = \"tempfail\";"
        "   reply = { text = \"%{code} %{enhanced}\"; }; },\n"
        " { name = \"bare-550\"; when = { code = 550; text = \"^\\\\s*$\"; };"
        "   reply = { enhanced = \"5.7.1\"; }; },\n"
        " { name = \"bare-451\"; when = { code = 451; text = \"^\\\\s*$\"; };"
        "   reply = { enhanced = \"4.3.0\"; }; }\n"
        ");\n");
    struct session_facts f;
    memset(&f, 0, sizeof f);
    /* a bare code gets the enhanced code and the explanation */
    struct run r = eval(c, STAGE_RCPT, "clamav", "550", &f);
    assert_int_equal(r.rc, 1);
    assert_string_equal(rule_name(&r), "bare-550");
    assert_string_equal(r.d.reply.enhanced, "5.7.1");
    assert_int_equal(r.d.reply.nlines, 1);
    assert_true(strlen(r.d.reply.lines[0]) > 40);
    run_free(&r);
    /* the matching rule gives no enhanced code: a later matching rule does */
    f.sender = "x@example.org";
    expect(c, STAGE_RCPT, "clamav", "550", &f, "no-enh", "550 5.7.1 from x");
    expect(c, STAGE_RCPT, "clamav", "550 5.1.1", &f, "no-enh", "550 5.1.1 from x");
    expect(c, STAGE_RCPT, "clamav", "553", &f, "no-enh", "553 5.0.0 from x");
    /* own decisions: inferred like a bare reply of the decided code */
    r = eval(c, STAGE_RCPT, "self", NULL, &f);
    assert_string_equal(rule_name(&r), "reject-x");
    assert_int_equal(r.d.reply.code, 550);
    assert_string_equal(r.d.reply.enhanced, "5.7.1");
    run_free(&r);
    f.sender = "y@example.org";
    r = eval(c, STAGE_RCPT, "self", NULL, &f);
    assert_string_equal(r.wire, "451 4.3.0 451 4.3.0");
    run_free(&r);
    /* no rule at all: X.0.0 of the class */
    f.sender = NULL;
    expect(c, STAGE_RCPT, "clamav", "552 too big", &f, NULL, "552 5.0.0 too big");
    conf_unref(c);
}

static void test_rewrite_text_sources(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"codes-only\"; when = { text = \"(?i)mailbox\"; }; reply = { enhanced = \"5.2.2\"; }; },\n"
        " { name = \"vars\"; when = { text = \"^vars\"; };"
        "   reply = { text = \"%{rule}: <%{rcpt}> from <%{sender}> [%{client_addr}] %{helo} %{client_name} %{queue_id} %{macro:j} (%{text})\"; }; },\n"
        " { name = \"expl\"; when = { text = \"^expl\"; }; reply = { enhanced = \"5.1.1\"; text = \"%{explanation}\"; }; }\n"
        ");\n");
    /* no rule text: the original text stays, with the new code */
    expect(c, STAGE_RCPT, "up", "552 Mailbox full", NULL, "codes-only", "552 5.2.2 Mailbox full");
    /* the rewrite keeps the original's basic code */
    expect(c, STAGE_RCPT, "up", "550 mailbox full", NULL, "codes-only", "550 5.2.2 mailbox full");
    expect(c, STAGE_RCPT, "up", "452 mailbox full", NULL, "codes-only", "452 4.2.2 mailbox full");
    struct session_facts f = {
        .client_addr = "192.0.2.1", .client_name = "mx.example.net", .helo = "mx.example.net",
        .sender = "a@example.net", .rcpt = "b@example.org", .queue_id = "ABC123",
        .macro = macro_cb,
    };
    expect(c, STAGE_RCPT, "up", "550 vars  and 100%", &f, "vars",
           "550 5.0.0 vars: <b@example.org> from <a@example.net> [192.0.2.1] mx.example.net "
           "mx.example.net ABC123 mx.example.org (vars  and 100%)");
    struct run r = eval(c, STAGE_RCPT, "up", "550 expl", NULL);
    struct reply want;
    reply_init(&want);
    assert_int_equal(reply_set(&want, 550, "5.1.1", ""), 0);
    char *x = explain_reply(&want);
    assert_string_equal(r.d.reply.lines[0], x);
    free(x);
    reply_free(&want);
    run_free(&r);
    conf_unref(c);
}

static void test_lines_footer_url(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = (\n"
        " { name = \"multi\"; when = { text = \"^multi\"; }; reply = { enhanced = \"5.7.1\";"
        "   lines = [\"first %{code}\", \"second\", \"third %{enhanced}\"];"
        "   footer = \"Contact postmaster@example.org\"; url = \"https://example.org/why\"; }; },\n"
        " { name = \"footer-only\"; when = { text = \"^foot\"; }; reply = { footer = \"(rule %{rule})\"; }; }\n"
        ");\n");
    expect(c, STAGE_RCPT, "up", "554 multi", NULL, "multi",
           "554-5.7.1 first 554\n554-5.7.1 second\n554-5.7.1 third 5.7.1\n"
           "554-5.7.1 Contact postmaster@example.org\n554 5.7.1 More information: https://example.org/why");
    expect(c, STAGE_RCPT, "up", "550-5.1.1 foot a\n550 5.1.1 b", NULL, "footer-only",
           "550-5.1.1 foot a\n550-5.1.1 b\n550 5.1.1 (rule footer-only)");
    conf_unref(c);
}

static int no_ctl(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static void test_limits_hold_for_hostile_facts(void **state)
{
    (void)state;
    char cfg[8192];
    size_t n = (size_t)snprintf(cfg, sizeof cfg,
        "rules = ( { name = \"hostile\"; when = { code = \"5xx\"; }; action = \"rewrite\";"
        " reply = { enhanced = \"5.7.1\"; lines = [");
    for (int i = 0; i < 30; i++)
        n += (size_t)snprintf(cfg + n, sizeof cfg - n, "%s\"%%{rcpt}%%{sender}%%{helo}%%{text}\"",
                              i ? ", " : "");
    snprintf(cfg + n, sizeof cfg - n, "]; footer = \"%%{client_name}\"; url = \"https://x.example/\"; }; },"
             " { name = \"own\"; when = { stage = \"rcpt\"; }; action = \"reject\";"
             "   reply = { text = \"<%%{rcpt}> %%{helo} %%{sender} %%{client_name} %%{macro:j}\"; }; } );\n");
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load_string(cfg, "hostile.conf", &dl);
    assert_non_null(c);
    diag_free(&dl);

    char *big = malloc(10001);
    for (int i = 0; i < 10000; i++)
        big[i] = "ab\r\nc%\x01 "[i % 8];
    big[10000] = '\0';
    struct session_facts f = { .rcpt = big, .sender = big, .helo = "\"a\r\n250 ok\"@x",
                               .client_name = big, .client_addr = "192.0.2.1" };
    /* the original: long, with "%" and a stray control character, one line */
    char *orig = malloc(12000);
    size_t o = (size_t)snprintf(orig, 12000, "550 5.7.1 ");
    for (int i = 0; i < 9000; i++)
        orig[o++] = "xy% \x01z "[i % 7];
    orig[o] = '\0';
    for (int ev = 0; ev < 2; ev++) {
        struct run r = eval(c, STAGE_RCPT, "self", ev ? NULL : orig, &f);
        assert_int_equal(r.rc, 1);
        assert_int_equal(r.d.has_reply, 1);
        assert_true(r.d.reply.nlines >= 1);
        assert_true(r.d.reply.nlines <= REPLY_MAX_LINES);
        assert_int_equal(r.d.reply.code, 550);
        assert_string_equal(r.d.reply.enhanced, "5.7.1");
        char **ml = sanitize_milter_lines(&r.d.reply);
        assert_non_null(ml);
        for (size_t i = 0; i < r.d.reply.nlines; i++) {
            assert_true(no_ctl(r.d.reply.lines[i]));
            assert_non_null(ml[i]);
            assert_true(strlen(ml[i]) <= REPLY_MAX_LINE_LEN);
        }
        sanitize_free_lines(ml);
        /* the whole wire form has exactly nlines lines, all with the same code */
        size_t nl = 0;
        for (const char *p = r.wire; *p; p++)
            nl += *p == '\n';
        assert_int_equal(nl + 1, r.d.reply.nlines);
        run_free(&r);
    }
    free(orig);
    free(big);
    conf_unref(c);
}

static void test_regex_error_is_minus_one(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = ( { name = \"slow\"; when = { sender = \"^(a|aa)+$\"; }; action = \"reject\"; } );\n");
    char s[64];
    memset(s, 'a', 60);
    s[60] = 'b';
    s[61] = '\0';
    struct session_facts f;
    memset(&f, 0, sizeof f);
    f.sender = s;
    struct run r = eval(c, STAGE_MAIL, "self", NULL, &f);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.d.has_reply, 0);
    assert_null(r.d.rule);
    run_free(&r);
    conf_unref(c);
}

static void test_no_match_wellformed(void **state)
{
    (void)state;
    struct config *c = unit_load("rules = ( );\n");
    expect(c, STAGE_RCPT, "mta", "550 4.7.1 wrong class", NULL, NULL, "550 5.7.1 wrong class");
    expect(c, STAGE_RCPT, "mta", "550", NULL, NULL, "550 5.0.0");
    expect(c, STAGE_RCPT, "mta", "421 bye", NULL, NULL, "421 4.0.0 bye");
    expect(c, STAGE_RCPT, "mta", "221 2.0.0 Bye", NULL, NULL, "221 2.0.0 Bye");
    expect(c, STAGE_RCPT, "mta", "250 ok", NULL, NULL, "250 ok");
    expect(c, STAGE_DATA, "mta", "354 go ahead", NULL, NULL, "354 go ahead");
    struct run r = eval(c, STAGE_RCPT, "mta", "550 5.7.1 a\r\nb", NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.d.has_reply, 1);
    for (size_t i = 0; i < r.d.reply.nlines; i++)
        assert_true(no_ctl(r.d.reply.lines[i]));
    run_free(&r);
    /* NULL config: nothing matches */
    r = eval(NULL, STAGE_RCPT, "mta", "550 5.1.1 x", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.wire, "550 5.1.1 x");
    run_free(&r);
    conf_unref(c);
}

static void test_default_reply(void **state)
{
    (void)state;
    static const struct { enum action a; const char *enh; int code; const char *want; } cases[] = {
        { ACTION_REJECT, NULL, 550, "5.7.1" },
        { ACTION_TEMPFAIL, NULL, 451, "4.3.0" },
        { ACTION_REJECT, "5.3.0", 550, "5.3.0" },
        { ACTION_TEMPFAIL, "4.3.0", 451, "4.3.0" },
        { ACTION_REJECT, "5.2.2", 552, "5.2.2" },
        { ACTION_REJECT, "4.7.1", 550, "5.7.1" },       /* class forced */
        { ACTION_TEMPFAIL, "5.7.1", 451, "4.7.1" },
        { ACTION_TEMPFAIL, "4.3.1", 452, "4.3.1" },
        { ACTION_REJECT, "garbage", 550, "5.7.1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct reply r;
        reply_init(&r);
        assert_int_equal(engine_default_reply(cases[i].a, cases[i].enh, &r), 0);
        assert_int_equal(r.code, cases[i].code);
        assert_int_equal(r.has_enhanced, 1);
        assert_string_equal(r.enhanced, cases[i].want);
        assert_int_equal(r.nlines, 1);
        char *x = explain_reply(&r);
        assert_string_equal(r.lines[0], x);
        free(x);
        struct diag_list dl;
        diag_init(&dl);
        reply_validate(&r, REPLY_CTX_MILTER, &dl);
        assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
        diag_free(&dl);
        reply_free(&r);
    }
    struct reply r;
    reply_init(&r);
    assert_int_equal(engine_default_reply(ACTION_ACCEPT, NULL, &r), -1);
    assert_int_equal(engine_default_reply(ACTION_REWRITE, "5.7.1", &r), -1);
    reply_free(&r);
}

static void test_decision_reuse(void **state)
{
    (void)state;
    struct config *c = unit_load(
        "rules = ( { name = \"r\"; when = { text = \"x\"; }; reply = { text = \"y\"; }; } );\n");
    struct reply o = parse("550 5.7.1 x");
    struct event ev = { .stage = STAGE_RCPT, .source = "mta", .orig = &o, .facts = NULL };
    struct decision d;
    engine_decision_init(&d);
    for (int i = 0; i < 3; i++)                 /* evaluating into a used decision leaks nothing */
        assert_int_equal(engine_eval(c, &ev, &d), 1);
    assert_string_equal(d.reply.lines[0], "y");
    engine_decision_free(&d);
    engine_decision_free(&d);
    reply_free(&o);
    conf_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_match_wins),
        cmocka_unit_test(test_stage_and_source),
        cmocka_unit_test(test_code_and_enhanced),
        cmocka_unit_test(test_text_joined_with_space),
        cmocka_unit_test(test_fact_conditions),
        cmocka_unit_test(test_auth_macro_header),
        cmocka_unit_test(test_policy_vs_reply_events),
        cmocka_unit_test(test_code_from_registry),
        cmocka_unit_test(test_action_forces_class),
        cmocka_unit_test(test_class_forcing),
        cmocka_unit_test(test_inference),
        cmocka_unit_test(test_rewrite_text_sources),
        cmocka_unit_test(test_lines_footer_url),
        cmocka_unit_test(test_limits_hold_for_hostile_facts),
        cmocka_unit_test(test_regex_error_is_minus_one),
        cmocka_unit_test(test_no_match_wellformed),
        cmocka_unit_test(test_default_reply),
        cmocka_unit_test(test_decision_reuse),
        cmocka_unit_test(test_header_bits),
        cmocka_unit_test(test_index_order),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
