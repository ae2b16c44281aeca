/*
 * test_config.c - the rule file loader: the example, one broken
 * file per diagnostic id (id, severity and exact line), include expansion
 * (order, relative paths, loops, depth), settings, conditions, reference
 * counting, robustness against junk, and the pattern/cidr/names helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"

#include "rules/cidr.h"
#include "diag.h"
#include "engine.h"
#include "rules.h"
#include "rules/template.h"

#define DATA TEST_SRCDIR "/tests/data/rules/"

static void dump(const struct diag_list *dl)
{
    for (size_t i = 0; i < dl->n; i++)
        print_message("  %s:%d: %s: %s [%s]\n", dl->v[i].file ? dl->v[i].file : "-",
                      dl->v[i].line, diag_severity_name(dl->v[i].severity),
                      dl->v[i].message, dl->v[i].id);
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = s ? strlen(s) : 0, b = strlen(tail);
    return s && a >= b && strcmp(s + a - b, tail) == 0;
}

/* The diagnostic with this id at this line (any line when line < 0). */
static const struct diag *find(const struct diag_list *dl, const char *id, int line)
{
    for (size_t i = 0; i < dl->n; i++)
        if (strcmp(dl->v[i].id, id) == 0 && (line < 0 || dl->v[i].line == line))
            return &dl->v[i];
    return NULL;
}

static const struct diag *expect(const struct diag_list *dl, const char *id, int line,
                                 enum diag_severity sev, const char *file_tail)
{
    const struct diag *d = find(dl, id, line);
    if (d == NULL || d->severity != sev || (file_tail && !ends_with(d->file, file_tail))) {
        print_message("expected %s %s at %s:%d; got:\n", diag_severity_name(sev), id,
                      file_tail ? file_tail : "?", line);
        dump(dl);
    }
    assert_non_null(d);
    assert_int_equal(d->severity, sev);
    if (file_tail)
        assert_true(ends_with(d->file, file_tail));
    return d;
}

static struct config *load_data(const char *rel, struct diag_list *dl)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", DATA, rel);
    if (dl)
        diag_init(dl);
    return conf_load(path, dl);
}

/* ---- the example of the issue ---- */

static void test_example(void **state)
{
    (void)state;
    struct diag_list dl;
    struct config *c = load_data("example.conf", &dl);
    if (c == NULL || dl.n)
        dump(&dl);
    assert_non_null(c);
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
    assert_int_equal(diag_count(&dl, DIAG_WARNING), 0);
    assert_int_equal(c->refs, 1);
    assert_int_equal(c->nrules, 2);
    assert_string_equal(c->socket, "unix:/run/milter-reword/milter-reword.sock");
    assert_int_equal(c->mode, MODE_ENFORCE);
    assert_int_equal(c->on_error, ACTION_TEMPFAIL);
    assert_int_equal(c->socket_mode, 0660);
    assert_string_equal(c->syslog_facility, "mail");
    assert_string_equal(c->jsonl, "/var/log/milter-reword/audit.jsonl");
    assert_null(c->user);
    assert_null(c->pidfile);
    assert_int_equal(c->stages_used, STAGE_BIT(STAGE_RCPT));

    const struct rule *r = &c->rules[0];
    assert_string_equal(r->name, "unknown-user");
    assert_true(ends_with(r->file, "tests/data/rules/example.conf"));
    assert_int_equal(r->line, 8);
    assert_int_equal(r->when.stages, STAGE_BIT(STAGE_RCPT));
    assert_null(r->when.source);                    /* "any" */
    assert_int_equal(r->when.code, 550);
    assert_int_equal(r->when.code_class, 0);
    assert_int_equal(r->when.has_enhanced, 0);
    assert_int_equal(r->when.auth, -1);
    assert_int_equal(pattern_match(r->when.text, "5.1.1 <x@y>: User Unknown in table"), 1);
    assert_int_equal(pattern_match(r->when.text, "mailbox full"), 0);
    assert_int_equal(r->action, ACTION_REWRITE);
    assert_int_equal(r->has_action, 0);
    assert_int_equal(r->has_reply, 1);
    assert_int_equal(r->reply.code, 550);
    assert_string_equal(r->reply.enhanced, "5.1.1");
    assert_int_equal(r->reply.nlines, 1);
    assert_true(template_uses(r->reply.lines[0], "rcpt"));
    assert_null(r->reply.footer);
    assert_null(r->reply.url);

    r = &c->rules[1];
    assert_string_equal(r->name, "block-example");
    assert_int_equal(r->line, 12);
    assert_int_equal(r->action, ACTION_REJECT);
    assert_int_equal(r->has_action, 1);
    assert_int_equal(pattern_match(r->when.rcpt, "Someone@Blocked.Example"), 1);
    assert_int_equal(pattern_match(r->when.rcpt, "someone@blocked.example.org"), 0);
    assert_int_equal(r->reply.code, 0);             /* derived by the engine */
    assert_string_equal(r->reply.enhanced, "5.7.1");
    assert_int_equal(r->reply.nlines, 0);
    conf_unref(c);
    diag_free(&dl);
}

/* ---- one file per diagnostic id ---- */

struct bad_case {
    const char *file;
    const char *id;
    enum diag_severity sev;
    int line;
    int loads;                  /* only warnings: the config is still returned */
    const char *diag_file;      /* file the diagnostic names, when not `file` */
    const char *in_message;     /* a piece of the message, or NULL */
};

static const struct bad_case cases[] = {
    { "syntax.conf", "syntax", DIAG_ERROR, 4, 0, NULL, NULL },
    { "unknown-key.conf", "unknown-key", DIAG_ERROR, 5, 0, NULL, "rcpt_to" },
    { "unknown-key.conf", "unknown-key", DIAG_WARNING, 7, 0, NULL, "colour" },
    { "bad-type.conf", "bad-type", DIAG_ERROR, 4, 0, NULL, "when.stage" },
    { "unknown-stage.conf", "unknown-stage", DIAG_ERROR, 5, 0, NULL, "rcpt_to" },
    { "unknown-action.conf", "unknown-action", DIAG_ERROR, 5, 0, NULL, "bounce" },
    { "unknown-source.conf", "unknown-source", DIAG_WARNING, 4, 1, NULL, "spamd" },
    { "bad-regex.conf", "bad-regex", DIAG_ERROR, 5, 0, NULL, "at offset 17" },
    { "bad-cidr.conf", "bad-cidr", DIAG_ERROR, 5, 0, NULL, "192.0.2.300/24" },
    { "bad-code.conf", "bad-code", DIAG_ERROR, 4, 0, NULL, "55x" },
    { "bad-code.conf", "bad-code", DIAG_ERROR, 5, 0, NULL, "600" },
    { "bad-enhanced-code.conf", "bad-enhanced-code", DIAG_ERROR, 5, 0, NULL, "5.7" },
    { "class-mismatch.conf", "class-mismatch", DIAG_ERROR, 5, 0, NULL, "mixed-reply" },
    { "class-mismatch.conf", "class-mismatch", DIAG_ERROR, 9, 0, NULL, "never match" },
    { "unregistered-code.conf", "unregistered-code", DIAG_WARNING, 5, 1, NULL, "with-code" },
    { "unregistered-code.conf", "unregistered-code", DIAG_WARNING, 8, 1, NULL, "5.9.9" },
    { "unusual-pairing.conf", "unusual-pairing", DIAG_WARNING, 5, 1, NULL,
      "5.1.1 is registered with 451, 550; this rule uses 554" },
    { "deprecated-code.conf", "deprecated-code", DIAG_WARNING, 5, 1, NULL, "old-code" },
    { "success-in-reject.conf", "success-in-reject", DIAG_ERROR, 5, 0, NULL, "250" },
    { "action-code-mismatch.conf", "action-code-mismatch", DIAG_ERROR, 6, 0, NULL, "reject" },
    { "line-too-long.conf", "line-too-long", DIAG_WARNING, 5, 0, NULL, "may-grow" },
    { "line-too-long.conf", "line-too-long", DIAG_ERROR, 7, 0, NULL, "1000 characters" },
    { "too-many-lines.conf", "too-many-lines", DIAG_ERROR, 5, 0, NULL, "33 lines" },
    { "unknown-variable.conf", "unknown-variable", DIAG_ERROR, 5, 0, NULL, NULL },
    { "duplicate-rule.conf", "duplicate-rule", DIAG_ERROR, 5, 0, NULL,
      "duplicate-rule.conf:3 and at " },
    { "missing-name.conf", "missing-name", DIAG_ERROR, 5, 0, NULL, NULL },
    { "shadowed-rule.conf", "shadowed-rule", DIAG_WARNING, 5, 1, NULL,
      "\"all-5xx\" at line 4" },
    { "include-failed.conf", "include-failed", DIAG_ERROR, 4, 0, NULL, "no-such-file.conf" },
    { "header-not-at-eom.conf", "header-not-at-eom", DIAG_WARNING, 5, 1, NULL, NULL },
    { "empty-rule.conf", "empty-rule", DIAG_WARNING, 4, 1, NULL, "nothing" },
    { "crlf-in-text.conf", "crlf-in-text", DIAG_ERROR, 5, 0, NULL, NULL },
    { "control-char.conf", "control-char", DIAG_ERROR, 5, 0, NULL, "0x07" },
    { "bad-template.conf", "bad-template", DIAG_ERROR, 5, 0, NULL, NULL },
    { "inc/loop.conf", "include-failed", DIAG_ERROR, 2, 0, NULL, "loop" },
    { "inc/bad-main.conf", "syntax", DIAG_ERROR, 3, 0, "inc/nested/broken.conf", NULL },
    { "inc/settings-in-include.conf", "unknown-key", DIAG_WARNING, 2, 1,
      "inc/nested/with-milter.conf", "milter" },
};

static void test_diagnostic_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *k = &cases[i];
        struct diag_list dl;
        struct config *c = load_data(k->file, &dl);
        print_message("%s: %s\n", k->file, k->id);
        const struct diag *d = expect(&dl, k->id, k->line, k->sev,
                                      k->diag_file ? k->diag_file : k->file);
        if (k->in_message && strstr(d->message, k->in_message) == NULL) {
            print_message("message \"%s\" lacks \"%s\"\n", d->message, k->in_message);
            fail();
        }
        assert_true(d->message[0] != '\0');
        if ((c != NULL) != k->loads)
            dump(&dl);
        assert_int_equal(c != NULL, k->loads);
        if (k->loads)
            assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
        else
            assert_true(diag_count(&dl, DIAG_ERROR) > 0 || k->sev == DIAG_WARNING);
        conf_unref(c);
        diag_free(&dl);
    }
}

static void test_upstream_source(void **state)
{
    (void)state;
    struct diag_list dl;
    struct config *c = load_data("upstreams.conf", &dl);
    assert_non_null(c);
    if (dl.n)
        dump(&dl);
    assert_int_equal(dl.n, 0);
    assert_string_equal(c->rules[0].when.source, "spamd");
    assert_int_equal(c->rules[0].when.code_class, 5);
    conf_unref(c);
    diag_free(&dl);
}

/* ---- includes ---- */

static void test_include_order(void **state)
{
    (void)state;
    static const char *const want[] = { "main-1", "main-2", "a-1", "a-2", "b-1", "extra-1",
                                        "nested-1" };
    static const char *const files[] = { "inc/main.conf", "inc/main.conf", "inc/sub/a.conf",
                                         "inc/sub/a.conf", "inc/sub/b.conf", "inc/extra.conf",
                                         "inc/nested/n.conf" };
    struct diag_list dl;
    struct config *c = load_data("inc/main.conf", &dl);
    if (c == NULL || dl.n)
        dump(&dl);
    assert_non_null(c);
    assert_int_equal(dl.n, 0);
    assert_int_equal(c->nrules, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < c->nrules; i++) {
        assert_string_equal(c->rules[i].name, want[i]);
        assert_true(ends_with(c->rules[i].file, files[i]));
    }
    /* stages_used: the stages of rules with an own action (policy rules) only */
    unsigned want_stages = 0, all_stages = 0;
    for (size_t i = 0; i < c->nrules; i++) {
        all_stages |= c->rules[i].when.stages;
        if (c->rules[i].has_action && c->rules[i].action != ACTION_REWRITE)
            want_stages |= c->rules[i].when.stages;
    }
    assert_int_equal(c->stages_used, want_stages);
    assert_true(want_stages != 0 && (want_stages & ~all_stages) == 0);
    assert_int_equal(c->rules[6].action, ACTION_TEMPFAIL);
    assert_int_equal(c->rules[6].when.nclients, 1);
    assert_int_equal(c->rules[5].when.nheaders, 1);
    assert_string_equal(c->rules[5].when.headers[0].name, "Subject");
    conf_unref(c);
    diag_free(&dl);
}

/* A chain of n files, each including the next. */
static void make_chain(const char *dir, int n)
{
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/d%d.conf", dir, i);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "rules = ( { name = \"r%d\"; when = { rcpt = \"^%d@\"; }; } );\n", i, i);
        if (i + 1 < n)
            fprintf(f, "include = \"d%d.conf\";\n", i + 1);
        fclose(f);
    }
}

static void remove_chain(const char *dir, int n)
{
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/d%d.conf", dir, i);
        unlink(path);
    }
    rmdir(dir);
}

static void test_include_depth(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_config.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/d0.conf", dir);

    make_chain(dir, 9);                 /* main file + 8 levels: fine */
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load(path, &dl);
    if (c == NULL)
        dump(&dl);
    assert_non_null(c);
    assert_int_equal(c->nrules, 9);
    conf_unref(c);
    diag_free(&dl);

    make_chain(dir, 10);                /* one more: include-failed in d8.conf */
    diag_init(&dl);
    c = conf_load(path, &dl);
    assert_null(c);
    expect(&dl, "include-failed", 2, DIAG_ERROR, "/d8.conf");
    diag_free(&dl);
    remove_chain(dir, 10);
}

static void test_binary_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_config_bin.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char bytes[] = "rules = ( );\n# line 2\nx\0\x01\xff junk\n";
    assert_int_equal(write(fd, bytes, sizeof bytes - 1), (ssize_t)(sizeof bytes - 1));
    close(fd);
    struct diag_list dl;
    diag_init(&dl);
    assert_null(conf_load(path, &dl));
    expect(&dl, "syntax", 3, DIAG_ERROR, path);
    diag_free(&dl);
    unlink(path);

    diag_init(&dl);                     /* a directory is not a rule file */
    assert_null(conf_load(TEST_SRCDIR "/tests/data/rules", &dl));
    expect(&dl, "include-failed", 0, DIAG_ERROR, "tests/data/rules");
    diag_free(&dl);
}

static void test_missing_main_file(void **state)
{
    (void)state;
    struct diag_list dl;
    struct config *c = load_data("no-such-file.conf", &dl);
    assert_null(c);
    expect(&dl, "include-failed", 0, DIAG_ERROR, "no-such-file.conf");
    diag_free(&dl);
}

/* ---- strings, syntax, settings ---- */

static void test_syntax_string(void **state)
{
    (void)state;
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load_string("rules = (\n  { name = \"x\"; },\n  { name = ; }\n);\n",
                                          "inline.conf", &dl);
    assert_null(c);
    const struct diag *d = expect(&dl, "syntax", 3, DIAG_ERROR, "inline.conf");
    assert_non_null(strstr(d->message, "syntax error"));
    diag_free(&dl);

    /* a stray quote: reported by the loader's own pre-check (libconfig 1.5
       would leak the string), at the line where the string starts */
    c = conf_load_string("rules = (\n  { name = \"a\"; },\n  { \"name = \"b\"; }\n);\n",
                           "quote.conf", &dl);
    assert_null(c);
    expect(&dl, "syntax", 3, DIAG_ERROR, "quote.conf");
    diag_free(&dl);
    c = conf_load_string("a = 1;\nb = \"x\" \"y\"\n  \"z\"; c = [ \"p\", \"q\" ];\n"
                           "d = ( { e = \"f\"; }, \"g\", [ 1, 2 ] ), e : true; f = -1.5e3\n",
                           "valid.conf", &dl);
    if (c == NULL)
        dump(&dl);
    assert_non_null(c);                 /* unknown keys only: warnings */
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 0);
    conf_unref(c);
    diag_free(&dl);

    c = conf_load_string("", "empty.conf", &dl);        /* empty file: no rules */
    assert_non_null(c);
    assert_int_equal(c->nrules, 0);
    assert_int_equal(c->stages_used, 0);
    assert_int_equal(dl.n, 0);
    conf_unref(c);

    c = conf_load_string("rules = ();", NULL, NULL);    /* no name, no diag list */
    assert_non_null(c);
    assert_string_equal(c->path, "<string>");
    conf_unref(c);
    assert_null(conf_load_string("rules = (", NULL, NULL));
    assert_null(conf_load_string(NULL, "x", &dl));
    assert_null(conf_load(NULL, &dl));
    diag_free(&dl);
}

/* Proxy mode: the shape, defaults, and one error per bad setting. */
static void test_upstreams(void **state)
{
    (void)state;
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load_string(
        "upstreams = ( { name = \"opendmarc\"; socket = \"inet:8893@127.0.0.1\";\n"
        "  connect_timeout = 2; timeout = 9; on_failure = \"reject\"; },\n"
        "  { name = \"spam\"; socket = \"unix:/run/spam.sock\"; } );\n"
        "rules = ( { name = \"x\"; when = { source = \"spam\"; code = 550; }; reply = { text = \"t\"; }; } );\n",
        "u.conf", &dl);
    if (c == NULL || dl.n)
        dump(&dl);
    assert_non_null(c);
    assert_int_equal(c->nupstreams, 2);
    assert_string_equal(c->upstreams[0].name, "opendmarc");
    assert_string_equal(c->upstreams[0].socket, "inet:8893@127.0.0.1");
    assert_int_equal(c->upstreams[0].connect_timeout, 2);
    assert_int_equal(c->upstreams[0].timeout, 9);
    assert_int_equal(c->upstreams[0].on_failure, ACTION_REJECT);
    assert_int_equal(c->upstreams[1].connect_timeout, UPSTREAM_DEFAULT_CONNECT_TIMEOUT);
    assert_int_equal(c->upstreams[1].timeout, UPSTREAM_DEFAULT_TIMEOUT);
    assert_int_equal(c->upstreams[1].on_failure, ACTION_TEMPFAIL);
    conf_unref(c);
    diag_free(&dl);

    static const struct { const char *text; const char *id; int line; } bad[] = {
        { "upstreams = (\n { socket = \"inet:1@h\"; } );", "missing-name", 2 },
        { "upstreams = (\n { name = \"self\"; socket = \"inet:1@h\"; } );", "missing-name", 2 },
        { "upstreams = (\n { name = \"a\"; socket = \"tcp:1@h\"; } );", "bad-type", 2 },
        { "upstreams = (\n { name = \"a\"; socket = \"inet:0@h\"; } );", "bad-type", 2 },
        { "upstreams = (\n { name = \"a\"; } );", "bad-type", 2 },
        { "upstreams = ( { name = \"a\"; socket = \"inet:1@h\";\n timeout = 0; } );", "bad-type", 2 },
        { "upstreams = ( { name = \"a\"; socket = \"inet:1@h\";\n on_failure = \"discard\"; } );",
          "unknown-action", 2 },
        { "upstreams = ( { name = \"a\"; socket = \"inet:1@h\";\n tiemout = 3; } );", "unknown-key", 2 },
        { "upstreams = ( { name = \"a\"; socket = \"inet:1@h\"; },\n"
          " { name = \"a\"; socket = \"inet:2@h\"; } );", "duplicate-rule", 2 },
        { "\nupstreams = 5;", "bad-type", 2 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        diag_init(&dl);
        assert_null(conf_load_string(bad[i].text, "u.conf", &dl));
        expect(&dl, bad[i].id, bad[i].line, DIAG_ERROR, "u.conf");
        diag_free(&dl);
    }
}

static void test_settings(void **state)
{
    (void)state;
    static const char *const good[] = {
        "milter = { socket = \"inet:8891@127.0.0.1\"; mode = \"audit\"; on_error = \"accept\";"
        " socket_mode = \"0640\"; user = \"milter:mail\"; pidfile = \"/run/m.pid\"; };"
        "audit = { syslog_facility = \"local3\"; jsonl = \"\"; };",
        "milter = { socket_mode = 0640; on_error = \"reject\"; };",
        "milter = { socket_mode = 0x1a0; };",
        "upstreams = [ \"a\", \"b\" ];",
        "upstreams = ( { name = \"spamd\"; socket = \"inet:1@h\"; } );",
        "include = [];",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct diag_list dl;
        diag_init(&dl);
        struct config *c = conf_load_string(good[i], "s.conf", &dl);
        if (c == NULL || dl.n)
            dump(&dl);
        assert_non_null(c);
        assert_int_equal(dl.n, 0);
        if (i == 0) {
            assert_string_equal(c->socket, "inet:8891@127.0.0.1");
            assert_int_equal(c->mode, MODE_AUDIT);
            assert_int_equal(c->on_error, ACTION_ACCEPT);
            assert_int_equal(c->socket_mode, 0640);
            assert_string_equal(c->user, "milter:mail");
            assert_string_equal(c->pidfile, "/run/m.pid");
            assert_string_equal(c->syslog_facility, "local3");
            assert_null(c->jsonl);
        } else if (i == 1) {
            assert_int_equal(c->socket_mode, 0640);
            assert_int_equal(c->on_error, ACTION_REJECT);
        } else if (i == 2)
            assert_int_equal(c->socket_mode, 0640);
        conf_unref(c);
        diag_free(&dl);
    }
    static const struct { const char *text, *id; int line; } bad[] = {
        { "milter = { socket_mode = \"0999\"; };", "bad-type", 1 },
        { "milter = { socket_mode = 1777; };", "bad-type", 1 },
        { "milter = {\n mode = \"loud\"; };", "bad-type", 2 },
        { "milter = {\n\n on_error = \"discard\"; };", "unknown-action", 3 },
        { "milter = { socket = \"/tmp/x\"; socket = \"y\"; };", "syntax", 1 },
        { "milter = { socket = \"tcp:25\"; };", "bad-type", 1 },
        { "audit = { syslog_facility = \"kern\"; };", "bad-type", 1 },
        { "audit = { syslog_facility = \"local8\"; };", "bad-type", 1 },
        { "milter = 5;", "bad-type", 1 },
        { "milter = { user = 5; };", "bad-type", 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct diag_list dl;
        diag_init(&dl);
        struct config *c = conf_load_string(bad[i].text, "s.conf", &dl);
        assert_null(c);
        expect(&dl, bad[i].id, bad[i].line, DIAG_ERROR, "s.conf");
        diag_free(&dl);
    }
    /* unknown keys in milter/audit are warnings */
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load_string("milter = { sockett = \"x\"; };", "s.conf", &dl);
    assert_non_null(c);
    expect(&dl, "unknown-key", 1, DIAG_WARNING, "s.conf");
    conf_unref(c);
    diag_free(&dl);
}

/* ---- conditions ---- */

static const char conditions[] =
    "rules = (\n"
    "  { name = \"all-keys\";\n"
    "    when = { stage = [ \"mail\", \"RCPT\" ]; source = \"self\"; code = \"4xx\";\n"
    "             enhanced = \"4.7.*\"; sender = \"^s@\"; helo = \"^h$\";\n"
    "             client = [ \"192.0.2.0/24\", \"2001:db8::/32\" ]; client_name = \"\\\\.example$\";\n"
    "             auth = \"^bob$\";\n"
    "             macro = [ \"{auth_type} = ^PLAIN$\", \"i = ^Q\", \"daemon_name=^smtpd$\" ]; };\n"
    "    action = \"tempfail\"; reply = { code = 451; enhanced = \"4.7.1\";\n"
    "             lines = [ \"one\", \"two %{queue_id}\" ]; footer = \"See %{rule}\";\n"
    "             url = \"https://example.org/why\"; }; },\n"
    "  { name = \"group-macro\"; when = { stage = \"any\"; auth = false; code = 550;\n"
    "             enhanced = \"5.*.*\"; macro = { auth_authen = \"^x$\"; };\n"
    "             header = [ \"Subject: (?i)invoice\", \"X-Spam : yes\" ]; }; action = \"log\"; },\n"
    "  { name = \"stage-any\"; when = { stage = [ \"eom\", \"any\" ]; auth = true; };\n"
    "    action = \"discard\"; }\n"
    ");\n";

static void test_conditions(void **state)
{
    (void)state;
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load_string(conditions, "cond.conf", &dl);
    if (c == NULL || dl.n)
        dump(&dl);
    assert_non_null(c);
    assert_int_equal(dl.n, 0);
    assert_int_equal(c->nrules, 3);
    assert_int_equal(c->stages_used, STAGES_ALL);

    const struct rule_match *m = &c->rules[0].when;
    assert_int_equal(m->stages, STAGE_BIT(STAGE_MAIL) | STAGE_BIT(STAGE_RCPT));
    assert_string_equal(m->source, "self");
    assert_int_equal(m->code, 0);
    assert_int_equal(m->code_class, 4);
    assert_int_equal(m->has_enhanced, 1);
    assert_int_equal(m->enh_class, 4);
    assert_int_equal(m->enh_subject, 7);
    assert_int_equal(m->enh_detail, -1);
    assert_int_equal(m->nclients, 2);
    assert_int_equal(m->clients[0].family, AF_INET);
    assert_int_equal(m->clients[1].family, AF_INET6);
    assert_int_equal(cidr_match(&m->clients[0], "192.0.2.77"), 1);
    assert_int_equal(pattern_match(m->client_name, "mx.example"), 1);
    assert_int_equal(m->auth, 1);
    assert_int_equal(pattern_match(m->auth_login, "bob"), 1);
    assert_int_equal(m->nmacros, 3);
    assert_string_equal(m->macros[0].name, "{auth_type}");
    assert_int_equal(pattern_match(m->macros[0].re, "PLAIN"), 1);
    assert_string_equal(m->macros[1].name, "i");
    assert_string_equal(m->macros[2].name, "{daemon_name}");
    assert_int_equal(pattern_match(m->macros[2].re, "smtpd"), 1);
    const struct rule_reply *rr = &c->rules[0].reply;
    assert_int_equal(c->rules[0].action, ACTION_TEMPFAIL);
    assert_int_equal(rr->nlines, 2);
    assert_true(template_uses(rr->lines[1], "queue_id"));
    assert_non_null(rr->footer);
    assert_true(template_uses(rr->footer, "rule"));
    assert_string_equal(rr->url, "https://example.org/why");

    m = &c->rules[1].when;
    assert_int_equal(m->stages, STAGES_ALL);
    assert_null(m->source);
    assert_int_equal(m->code, 550);
    assert_int_equal(m->enh_class, 5);
    assert_int_equal(m->enh_subject, -1);
    assert_int_equal(m->auth, 0);
    assert_null(m->auth_login);
    assert_int_equal(m->nmacros, 1);
    assert_string_equal(m->macros[0].name, "{auth_authen}");
    assert_int_equal(m->nheaders, 2);
    assert_string_equal(m->headers[0].name, "Subject");
    assert_string_equal(m->headers[1].name, "X-Spam");
    assert_int_equal(pattern_match(m->headers[1].re, "yes"), 1);
    assert_int_equal(c->rules[1].action, ACTION_LOG);
    assert_int_equal(c->rules[2].when.stages, STAGES_ALL);
    assert_int_equal(c->rules[2].when.auth, 1);
    conf_unref(c);
    diag_free(&dl);
}

/* Conditions written wrong: each one a diagnostic at its line, no crash. */
static void test_bad_conditions(void **state)
{
    (void)state;
    static const struct { const char *when, *id; } bad[] = {
        { "macro = \"auth_type ^PLAIN$\";", "bad-type" },
        { "macro = \"{a b} = x\";", "bad-type" },
        { "macro = \"{x} = (\";", "bad-regex" },
        { "header = \"Subject (?i)x\";", "bad-type" },
        { "header = \": x\";", "bad-type" },
        { "auth = 1;", "bad-type" },
        { "auth = \"[\";", "bad-regex" },
        { "code = 1.5;", "bad-type" },
        { "code = 250000;", "bad-code" },
        { "code = \"5XY\";", "bad-code" },
        { "code = \"560\";", "bad-code" },
        { "enhanced = \"5.07.1\";", "bad-enhanced-code" },
        { "enhanced = \"3.7.1\";", "bad-enhanced-code" },
        { "enhanced = \"5.7.1.2\";", "bad-enhanced-code" },
        { "enhanced = \"5.1000.1\";", "bad-enhanced-code" },
        { "stage = [];", "bad-type" },
        { "stage = ( \"rcpt\", 5 );", "bad-type" },
        { "client = \"2001:db8::/129\";", "bad-cidr" },
        { "client = \"192.0.2.0/\";", "bad-cidr" },
        { "client = \"fe80::1%eth0\";", "bad-cidr" },
        { "rcpt = [ \"a\" ];", "bad-type" },
        { "source = 1;", "bad-type" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "rules = (\n { name = \"r\";\n   when = { %s };\n } );\n",
                 bad[i].when);
        struct diag_list dl;
        diag_init(&dl);
        struct config *c = conf_load_string(text, "w.conf", &dl);
        print_message("%s\n", bad[i].when);
        assert_null(c);
        expect(&dl, bad[i].id, 3, DIAG_ERROR, "w.conf");
        diag_free(&dl);
    }
}

/* A url is its own line after "More information: ", each "%" doubled for
   libmilter: the longest that fits is checked exactly, so none is split. */
static void test_url_length(void **state)
{
    (void)state;
    const size_t room = REPLY_MAX_LINE_LEN - strlen(REPLY_URL_PREFIX);
    static const struct { size_t percents; int ok; } cases[] = {
        { 0, 1 }, { 0, 0 }, { 2, 1 }, { 2, 0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        /* fits: room bytes once escaped; too long: one more */
        size_t pc = cases[k].percents, len = room - pc + (cases[k].ok ? 0 : 1);
        char url[1100], text[1400];
        memset(url, 'u', len);
        url[len] = '\0';
        memcpy(url, "http://x/", 9);
        for (size_t j = 0; j < pc; j++)
            url[9 + j] = '%';
        snprintf(text, sizeof text, "rules = ( { name = \"r\"; reply = { url = \"%s\"; }; } );\n", url);
        struct diag_list dl;
        diag_init(&dl);
        struct config *c = conf_load_string(text, "u.conf", &dl);
        print_message("url of %zu bytes, %zu %%\n", len, pc);
        if (cases[k].ok) {
            assert_non_null(c);
            struct event ev = { .stage = STAGE_RCPT, .source = "mta" };
            struct reply o;
            reply_init(&o);
            reply_parse("550 5.7.1 no", &o, NULL);
            ev.orig = &o;
            struct decision d;
            engine_decision_init(&d);
            assert_int_equal(engine_eval(c, &ev, &d), 1);
            /* the url line comes out whole */
            assert_string_equal(d.reply.lines[d.reply.nlines - 1] + strlen(REPLY_URL_PREFIX), url);
            engine_decision_free(&d);
            reply_free(&o);
            conf_unref(c);
        } else {
            assert_null(c);
            assert_non_null(find(&dl, "line-too-long", -1));
        }
        diag_free(&dl);
    }
}

static void test_bad_replies(void **state)
{
    (void)state;
    static const struct { const char *rule, *id; } bad[] = {
        { "reply = { code = \"5xx\"; };", "bad-code" },
        { "reply = { code = true; };", "bad-type" },
        { "reply = { enhanced = \"5.7.*\"; };", "bad-enhanced-code" },
        { "reply = { text = \"a\"; lines = [ \"b\" ]; };", "bad-type" },
        { "reply = { lines = \"one\"; url = \"http://x\\ny\"; };", "crlf-in-text" },
        { "reply = { url = \"http://x y\"; };", "bad-type" },
        { "reply = { text = \"tab\\tok but bell \\x07\"; };", "control-char" },
        { "reply = { colour = 1; };", "unknown-key" },
        { "reply = { code = 451; enhanced = \"4.7.1\"; }; action = \"tempfail\"; "
          "when = { code = 550; };", NULL },     /* right: tempfail with 451 loads */
        { "action = \"tempfail\"; reply = { code = 550; };", "action-code-mismatch" },
        { "action = \"reject\"; reply = { enhanced = \"4.2.2\"; };", "action-code-mismatch" },
        { "when = { code = \"4xx\"; }; reply = { code = 550; enhanced = \"5.7.1\"; };",
          "class-mismatch" },
        { "reply = { enhanced = \"2.0.0\"; };", "success-in-reject" },
        { "reply = { code = 354; };", "success-in-reject" },
        { "action = [ \"reject\" ];", "bad-type" },
        { "when = 5;", "bad-type" },
        { "reply = \"550 no\";", "bad-type" },
        { "name = 5;", "bad-type" },
        { "name = \"\";", "missing-name" },
        { "when = { stage = \"rcpt\"; };  colour = 1;", "unknown-key" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "rules = (\n { name = \"r\";\n   %s\n } );\n", bad[i].rule);
        if (strncmp(bad[i].rule, "name", 4) == 0)
            snprintf(text, sizeof text, "rules = (\n {\n   %s\n } );\n", bad[i].rule);
        struct diag_list dl;
        diag_init(&dl);
        struct config *c = conf_load_string(text, "r.conf", &dl);
        print_message("%s\n", bad[i].rule);
        if (bad[i].id == NULL) {
            if (c == NULL)
                dump(&dl);
            assert_non_null(c);
            assert_null(find(&dl, "action-code-mismatch", -1));
            conf_unref(c);
            diag_free(&dl);
            continue;
        }
        assert_null(c);
        int line = strcmp(bad[i].id, "missing-name") == 0 ? 2 : 3;
        expect(&dl, bad[i].id, line, DIAG_ERROR, "r.conf");
        diag_free(&dl);
    }
}

/* shadowed-rule follows the engine: which events each rule can match. */
static void test_shadowing(void **state)
{
    (void)state;
    static const struct { const char *first, *later; int shadowed; } cases[] = {
        { "when = { stage = \"rcpt\"; }; action = \"log\";",
          "when = { stage = \"rcpt\"; rcpt = \"^x@\"; }; action = \"reject\";", 1 },
        { "when = { stage = \"rcpt\"; }; action = \"reject\";",
          "when = { stage = \"rcpt\"; code = 550; };", 0 },       /* replies vs policy */
        { "when = { code = \"5xx\"; }; action = \"log\";",
          "when = { rcpt = \"^x@\"; }; action = \"reject\";", 0 },
        { "when = { source = \"mta\"; };", "when = { source = \"self\"; code = 550; };", 0 },
        { "when = { source = \"mta\"; };", "when = { source = \"mta\"; code = 550; };", 1 },
        { "when = { enhanced = \"5.*.*\"; };",
          "when = { enhanced = \"5.7.1\"; text = \"x\"; };", 1 },
        { "when = { enhanced = \"5.7.1\"; };", "when = { enhanced = \"5.7.*\"; };", 0 },
        { "when = { code = 550; };", "when = { code = \"5xx\"; };", 0 },
        { "when = { code = \"5xx\"; };", "when = { code = 554; text = \"x\"; };", 1 },
        { "when = { stage = \"rcpt\"; };", "when = { stage = [ \"rcpt\", \"eom\" ]; };", 0 },
        { "when = { rcpt = \"^a@\"; };", "when = { rcpt = \"^a@\"; };", 0 }, /* not unconditional */
        { "action = \"accept\";", "when = { auth = true; }; action = \"discard\";", 1 },
        { "action = \"accept\";", "when = { auth = true; }; action = \"log\";", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "rules = (\n { name = \"first\"; %s },\n"
                 " { name = \"later\"; %s }\n);\n", cases[i].first, cases[i].later);
        struct diag_list dl;
        diag_init(&dl);
        struct config *c = conf_load_string(text, "sh.conf", &dl);
        print_message("%s | %s\n", cases[i].first, cases[i].later);
        if (c == NULL)
            dump(&dl);
        assert_non_null(c);
        const struct diag *d = find(&dl, "shadowed-rule", -1);
        if ((d != NULL) != cases[i].shadowed)
            dump(&dl);
        assert_int_equal(d != NULL, cases[i].shadowed);
        if (d) {
            assert_int_equal(d->line, 3);
            assert_int_equal(d->severity, DIAG_WARNING);
            assert_non_null(strstr(d->message, "\"first\" at line 2"));
        }
        conf_unref(c);
        diag_free(&dl);
    }
}

/* ---- robustness ---- */

static const char *const wrong_types[] = {
    "milter = 5; audit = \"x\"; include = 5; rules = { a = 1; }; upstreams = 7;",
    "milter = ( 1, 2 ); audit = [ 1 ]; include = ( 1, { } ); rules = [ 1, 2 ];",
    "rules = ( 5, \"x\", ( ), { name = 5; when = 5; action = 5; reply = 5; } );",
    "rules = ( { name = \"w\"; when = { stage = { }; source = 1; code = 1.5; enhanced = 5;"
    " text = 5; sender = [ 1 ]; rcpt = true; helo = ( ); client = 5; client_name = 1;"
    " auth = 5; macro = 5; header = 5; }; action = ( ); reply = { code = \"x\"; enhanced = 1;"
    " text = 1; footer = 2; url = 3; lines = 4; }; } );",
    "rules = ( { name = \"w\"; when = { macro = { a = 1; b = ( ); }; header = ( 1, \"x\" );"
    " client = ( { }, [ ] ); stage = ( ( ), \"x\" ); }; reply = { lines = ( 1, ( ) ); }; } );",
    "milter = { socket = 1; mode = 2; on_error = 3; socket_mode = 1.5; user = [ ];"
    " pidfile = { }; }; audit = { syslog_facility = 1; jsonl = 2; };",
    "include = \"\";",
};

static void test_wrong_types(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof wrong_types / sizeof wrong_types[0]; i++) {
        struct diag_list dl;
        diag_init(&dl);
        struct config *c = conf_load_string(wrong_types[i], "t.conf", &dl);
        if (c != NULL)
            dump(&dl);
        assert_null(c);
        assert_true(diag_count(&dl, DIAG_ERROR) > 0);
        for (size_t k = 0; k < dl.n; k++) {
            assert_non_null(dl.v[k].message);
            assert_true(dl.v[k].line > 0 || strcmp(dl.v[k].id, "include-failed") == 0);
        }
        diag_free(&dl);
    }
}

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;
static unsigned rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state >> 11);
}

static char *read_text(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", DATA, rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Junk and random mutations of a good file: diagnostics, never a crash. */
static void test_junk(void **state)
{
    (void)state;
    char junk[4096];
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof junk - 1; i++)
            junk[i] = (char)(rnd() % 255 + 1);
        junk[sizeof junk - 1] = '\0';
        struct diag_list dl;
        diag_init(&dl);
        struct config *c = conf_load_string(junk, "junk.conf", &dl);
        assert_null(c);
        assert_true(dl.n > 0);
        diag_free(&dl);
    }
    char *orig = read_text("example.conf");
    size_t len = strlen(orig);
    char *buf = malloc(len * 2 + 16);
    assert_non_null(buf);
    static const char pieces[] = "{}()[];=\",.*%\\\n 5xX";
    size_t loaded = 0;
    for (int round = 0; round < 400; round++) {
        memcpy(buf, orig, len + 1);
        size_t n = len;
        int edits = 1 + (int)(rnd() % 4);
        for (int e = 0; e < edits && n > 0; e++) {
            size_t at = rnd() % n;
            switch (rnd() % 3) {
            case 0:     /* replace */
                buf[at] = pieces[rnd() % (sizeof pieces - 1)];
                break;
            case 1:     /* delete */
                memmove(buf + at, buf + at + 1, n - at);
                n--;
                break;
            default:    /* insert */
                memmove(buf + at + 1, buf + at, n - at + 1);
                buf[at] = pieces[rnd() % (sizeof pieces - 1)];
                n++;
            }
        }
        struct diag_list dl;
        diag_init(&dl);
        struct config *c = conf_load_string(buf, DATA "mutant.conf", &dl);
        if (c) {
            loaded++;
            conf_unref(c);
        } else
            assert_true(diag_count(&dl, DIAG_ERROR) > 0);
        diag_free(&dl);
    }
    print_message("%zu of 400 mutants loaded\n", loaded);
    free(buf);
    free(orig);
}

static void test_huge(void **state)
{
    (void)state;
    enum { N = 5000 };
    size_t cap = (size_t)N * 160 + 64, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text + n, cap - n, "rules = (\n");
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "  { name = \"r%d\"; when = { stage = \"rcpt\"; code = %d; }; },\n",
                              i, 500 + i % 50);
    n += (size_t)snprintf(text + n, cap - n, "  { name = \"last\"; }\n);\n");
    struct diag_list dl;
    diag_init(&dl);
    time_t t0 = time(NULL);
    struct config *c = conf_load_string(text, "huge.conf", &dl);
    assert_non_null(c);
    assert_int_equal(c->nrules, N + 1);
    /* r50.. repeat the codes of r0..r49: each is shadowed by its twin */
    assert_int_equal(diag_count(&dl, DIAG_WARNING), N - 50 + 1);
    assert_true(time(NULL) - t0 < 30);
    conf_unref(c);
    diag_free(&dl);
    free(text);
}

static void test_refcount(void **state)
{
    (void)state;
    struct diag_list dl;
    struct config *c = load_data("example.conf", &dl);
    assert_non_null(c);
    assert_int_equal(c->refs, 1);
    assert_ptr_equal(conf_ref(c), c);
    assert_int_equal(c->refs, 2);
    conf_unref(c);
    assert_int_equal(c->refs, 1);
    assert_string_equal(c->rules[0].name, "unknown-user");     /* still alive */
    conf_unref(c);                                            /* freed: valgrind */
    conf_unref(NULL);
    assert_null(conf_ref(NULL));
    diag_free(&dl);

    c = load_data("example.conf", NULL);    /* no diagnostics list wanted */
    assert_non_null(c);
    conf_unref(c);
    assert_null(load_data("syntax.conf", NULL));
}

/* ---- patterns, networks, names ---- */

static void test_pattern(void **state)
{
    (void)state;
    char err[128];
    size_t off = 99;
    struct pattern *p = pattern_compile("(?i)^user (unknown|not found)$", err, sizeof err, &off);
    assert_non_null(p);
    assert_string_equal(pattern_source(p), "(?i)^user (unknown|not found)$");
    assert_int_equal(pattern_match(p, "User Unknown"), 1);
    assert_int_equal(pattern_match(p, "user unknown here"), 0);
    assert_int_equal(pattern_match(p, NULL), 0);
    assert_int_equal(pattern_match(NULL, "x"), 0);
    pattern_free(p);

    assert_null(pattern_compile("ab(c", err, sizeof err, &off));
    assert_int_equal(off, 4);
    assert_true(strlen(err) > 0);
    assert_null(pattern_compile(NULL, err, sizeof err, &off));
    pattern_free(NULL);

    /* invalid UTF-8 under (*UTF): no match, not an error */
    p = pattern_compile("(*UTF)^a.b$", err, sizeof err, &off);
    assert_non_null(p);
    assert_int_equal(pattern_match(p, "a\xc3\xa9" "b"), 1);
    assert_int_equal(pattern_match(p, "a\xff" "b"), 0);
    pattern_free(p);

    /* catastrophic backtracking: an error (-1) within the limits, not a hang */
    p = pattern_compile("^(a+)+$", err, sizeof err, &off);
    assert_non_null(p);
    char s[64];
    memset(s, 'a', 40);
    s[40] = 'b';
    s[41] = '\0';
    assert_int_equal(pattern_match(p, s), -1);
    pattern_free(p);
}

struct thread_arg {
    const struct pattern *p;
    int bad;
};

static void *matcher(void *arg)
{
    struct thread_arg *t = arg;
    char subject[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(subject, sizeof subject, "rcpt%d@blocked.example", i);
        if (pattern_match(t->p, subject) != 1)
            t->bad++;
        snprintf(subject, sizeof subject, "rcpt%d@example.org", i);
        if (pattern_match(t->p, subject) != 0)
            t->bad++;
    }
    return NULL;
}

static void test_pattern_threads(void **state)
{
    (void)state;
    char err[128];
    size_t off;
    struct pattern *p = pattern_compile("(?i)^rcpt\\d+@blocked\\.example$", err, sizeof err, &off);
    assert_non_null(p);
    pthread_t th[8];
    struct thread_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (struct thread_arg){ p, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, matcher, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].bad, 0);
    }
    pattern_free(p);
}

static void test_cidr(void **state)
{
    (void)state;
    struct cidr c;
    assert_int_equal(cidr_parse("192.0.2.0/24", &c), 0);
    assert_int_equal(c.family, AF_INET);
    assert_int_equal(c.prefix, 24);
    assert_int_equal(cidr_match(&c, "192.0.2.200"), 1);
    assert_int_equal(cidr_match(&c, "192.0.3.1"), 0);
    assert_int_equal(cidr_match(&c, "[192.0.2.1]"), 1);
    assert_int_equal(cidr_match(&c, "::ffff:192.0.2.9"), 1);
    assert_int_equal(cidr_match(&c, "2001:db8::1"), 0);
    assert_int_equal(cidr_match(&c, "not an address"), 0);
    assert_int_equal(cidr_match(&c, NULL), 0);

    assert_int_equal(cidr_parse("192.0.2.77/25", &c), 0);   /* host bits cleared */
    assert_int_equal(cidr_match(&c, "192.0.2.1"), 1);
    assert_int_equal(cidr_match(&c, "192.0.2.128"), 0);
    assert_int_equal(cidr_parse("198.51.100.7", &c), 0);
    assert_int_equal(c.prefix, 32);
    assert_int_equal(cidr_match(&c, "198.51.100.7"), 1);
    assert_int_equal(cidr_match(&c, "198.51.100.8"), 0);
    assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
    assert_int_equal(cidr_match(&c, "203.0.113.5"), 1);

    assert_int_equal(cidr_parse("2001:db8::/32", &c), 0);
    assert_int_equal(c.family, AF_INET6);
    assert_int_equal(cidr_match(&c, "2001:db8:1::5"), 1);
    assert_int_equal(cidr_match(&c, "IPv6:2001:db8::5"), 1);
    assert_int_equal(cidr_match(&c, "[IPv6:2001:DB8::5]"), 1);
    assert_int_equal(cidr_match(&c, "2001:db8::5%eth0"), 1);
    assert_int_equal(cidr_match(&c, "2001:db9::5"), 0);
    assert_int_equal(cidr_match(&c, "192.0.2.1"), 0);
    assert_int_equal(cidr_parse("2001:db8::1:2:3/127", &c), 0);
    assert_int_equal(cidr_match(&c, "2001:db8::1:2:2"), 1);
    assert_int_equal(cidr_match(&c, "2001:db8::1:2:4"), 0);
    assert_int_equal(cidr_parse("::ffff:0:0/96", &c), 0);
    assert_int_equal(cidr_match(&c, "192.0.2.1"), 1);

    static const char *const bad[] = {
        "", "192.0.2.0/33", "192.0.2/24", "192.0.2.0/-1", "192.0.2.0/ 8", "2001:db8::/129",
        "2001:db8::/", "example.org", "192.0.2.0/24/8", "[192.0.2.1]", "fe80::1%eth0",
        "192.0.2.0/0024", "01234567890123456789012345678901234567890123456789012345678901234567",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cidr_parse(bad[i], &c), -1);
    assert_int_equal(cidr_parse(NULL, &c), -1);
}

static void test_names(void **state)
{
    (void)state;
    for (int s = 0; s < STAGE_COUNT; s++)
        assert_int_equal(names_stage_lookup(names_stage((enum stage)s)), s);
    assert_int_equal(names_stage_lookup("any"), STAGE_COUNT);
    assert_int_equal(names_stage_lookup("EOM"), STAGE_EOM);
    assert_int_equal(names_stage_lookup("rcpt_to"), -1);
    assert_int_equal(names_stage_lookup(NULL), -1);
    assert_string_equal(names_stage(STAGE_RCPT), "rcpt");
    assert_string_equal(names_stage(STAGE_COUNT), "any");
    for (int a = 0; a < ACTION_COUNT; a++)
        assert_int_equal(names_action_lookup(names_action((enum action)a)), a);
    assert_string_equal(names_action(ACTION_TEMPFAIL), "tempfail");
    assert_int_equal(names_action_lookup("Reject"), ACTION_REJECT);
    assert_int_equal(names_action_lookup("bounce"), -1);
    assert_int_equal(names_action_lookup(NULL), -1);
}

/* The sample configuration shipped in conf/ loads. */
static void test_sample_config(void **state)
{
    (void)state;
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load(TEST_SRCDIR "/conf/milter-reword.conf", &dl);
    if (c == NULL || diag_count(&dl, DIAG_ERROR))
        dump(&dl);
    assert_non_null(c);
    assert_true(c->nrules >= 1);
    conf_unref(c);
    diag_free(&dl);
}

/* Patterns behave as under pcre2_match whichever call is used inside:
   leading verbs that only pcre2_match obeys, and the match limit. */
static void test_pattern_verbs_and_limits(void **state)
{
    (void)state;
    char err[128];
    size_t off;
    struct pattern *p = pattern_compile("(*NO_JIT)@spam\\.example$", err, sizeof err, &off);
    assert_non_null(p);
    assert_int_equal(pattern_match(p, "a@ham.example"), 0);
    assert_int_equal(pattern_match(p, "a@spam.example"), 1);
    pattern_free(p);
    p = pattern_compile("(*NOTEMPTY)^(spam)?", err, sizeof err, &off);
    assert_non_null(p);
    assert_int_equal(pattern_match(p, "ham"), 0);
    assert_int_equal(pattern_match(p, "spam"), 1);
    pattern_free(p);
    p = pattern_compile("(*NOTEMPTY_ATSTART)^x*", err, sizeof err, &off);
    assert_non_null(p);
    assert_int_equal(pattern_match(p, "abc"), 0);
    pattern_free(p);
    p = pattern_compile("(*UTF)^caf.$", err, sizeof err, &off);     /* "." is one character */
    assert_non_null(p);
    assert_int_equal(pattern_match(p, "caf\xc3\xa9"), 1);
    assert_int_equal(pattern_match(p, "caf\xc3"), 0);           /* invalid UTF-8: no match */
    pattern_free(p);
    p = pattern_compile("^(a+)+$", err, sizeof err, &off);      /* catastrophic backtracking */
    assert_non_null(p);
    char s[64];
    memset(s, 'a', 40);
    strcpy(s + 40, "b");
    assert_int_equal(pattern_match(p, s), -1);                  /* the match limit, an error */
    assert_int_equal(pattern_match(p, "aaa"), 1);
    pattern_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_diagnostic_files),
        cmocka_unit_test(test_upstream_source),
        cmocka_unit_test(test_include_order),
        cmocka_unit_test(test_include_depth),
        cmocka_unit_test(test_missing_main_file),
        cmocka_unit_test(test_binary_file),
        cmocka_unit_test(test_syntax_string),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_upstreams),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_bad_conditions),
        cmocka_unit_test(test_bad_replies),
        cmocka_unit_test(test_shadowing),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_junk),
        cmocka_unit_test(test_huge),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_pattern),
        cmocka_unit_test(test_pattern_threads),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_sample_config),
        cmocka_unit_test(test_pattern_verbs_and_limits),
        cmocka_unit_test(test_url_length),
    };
    return UNIT_RUN(tests, NULL, NULL);
}
