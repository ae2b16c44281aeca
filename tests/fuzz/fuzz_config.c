/*
 * fuzz_config.c - libFuzzer target: the rule-file loader and checker
 * (conf_load_string: libconfig text in, diagnostics out) and, when a file
 * loads, the engine on it.
 *
 * Input: the rule file's text, then optionally a NUL byte and session facts
 * as NUL-separated fields (tests/fuzz/seeds.py writes seeds in this form):
 *   1 the original reply of the reply event ("550 5.7.1 Command rejected")
 *   2 the stage: first byte % 11 (10 = unknown stage, matches any); "" = 10
 *   3 the source of the reply event ("" = unknown, matches any)
 *   4 client_addr  5 client_name  6 helo  7 sender  8 rcpt  9 queue_id
 *   10 auth_login ("" = not authenticated)
 *   11 the value of every macro ("" = undefined)
 *   12, 13, ... header name, header value pairs
 * Missing fields take ordinary values (see default_fields).
 *
 * Invariants:
 *   - the loader returns a config exactly when it reported no error;
 *   - every diagnostic has a documented id (rules.h, reply.h), a message,
 *     a valid severity, and (except out-of-memory) a file name;
 *   - a loaded config: refs 1, rules with names, and stages_used the union
 *     of the rules' stages;
 *   - engine_eval of one reply event (the given stage and source, and
 *     stage/source unknown) and of one policy event at every stage holds
 *     every invariant of fuzz_check_decision (fuzz_common.h): own decisions
 *     are class-matched, every reply fits libmilter;
 *   - engine_eval (the rule index's candidates) decides exactly as
 *     engine_eval_unindexed (every rule): same result, rule, action, reply.
 *
 * File access: includes are resolved in a sandbox directory with a few
 * small rule files (REWORD_FUZZ_SANDBOX, else a fresh directory under
 * TMPDIR), as <sandbox>/fuzz.conf.  So that a fuzzed include can never read
 * the rest of the machine (or hang on /dev/zero through libconfig's own
 * @include), inputs with "@include", or with "include" and any string that
 * starts with "/" or contains ".." (after libconfig's escapes and string
 * concatenation), are skipped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

static char sandbox[4096];
static char main_name[4200];

/* ---- sandbox ---- */

static const struct { const char *name, *text; } sandbox_files[] = {
    { "a.conf",
      "rules = ( { name = \"inc-a\"; when = { stage = \"rcpt\"; rcpt = \"^a@\"; };\n"
      "  action = \"reject\"; reply = { enhanced = \"5.1.1\"; text = \"no %{rcpt}\"; }; } );\n" },
    { "b.conf",
      "include = [ \"a.conf\", \"d/*.conf\" ];\n"
      "rules = ( { name = \"inc-b\"; when = { text = \"(?i)b\"; };\n"
      "  reply = { text = \"b: %{text}\"; }; } );\n" },
    { "loop.conf", "include = [ \"loop.conf\" ];\n" },
    { "bad.conf", "rules = ( { name = ; } );\n" },
    { "settings.conf", "milter = { mode = \"audit\"; };\nrules = ();\n" },
    { "d/x.conf",
      "rules = ( { name = \"inc-x\"; when = { stage = \"helo\"; helo = \"^x\"; };\n"
      "  action = \"tempfail\"; } );\n" },
};

static void write_file(const char *rel, const char *text)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", sandbox, rel);
    char *slash = strrchr(p, '/');
    if (slash && slash > p + strlen(sandbox)) {
        *slash = '\0';
        mkdir(p, 0755);
        *slash = '/';
    }
    FILE *f = fopen(p, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "fuzz_config: cannot write %s: %s\n", p, strerror(errno));
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *env = getenv("REWORD_FUZZ_SANDBOX");
    if (env && *env) {
        snprintf(sandbox, sizeof sandbox, "%s", env);
        mkdir(sandbox, 0755);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(sandbox, sizeof sandbox, "%s/reword-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(sandbox) == NULL) {
            perror("fuzz_config: mkdtemp");
            abort();
        }
    }
    for (size_t i = 0; i < sizeof sandbox_files / sizeof sandbox_files[0]; i++)
        write_file(sandbox_files[i].name, sandbox_files[i].text);
    snprintf(main_name, sizeof main_name, "%s/fuzz.conf", sandbox);
    return 0;
}

/*
 * 1 when the text may make the loader read outside the sandbox (see the top
 * of the file).  Conservative: it looks at every string, not only includes.
 */
static int escapes_sandbox(const char *t)
{
    if (strcasestr(t, "@include"))
        return 1;
    if (!strcasestr(t, "include"))
        return 0;
    size_t n = strlen(t);
    char *cur = malloc(n + 1);          /* the current (concatenated) string */
    size_t cl = 0;
    int in_str = 0, bad = 0;
    if (cur == NULL)
        abort();
    for (size_t i = 0; i < n && !bad;) {
        if (!in_str) {
            if (t[i] == '"') {
                in_str = 1;
                i++;
            } else if (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n'
                       || t[i] == '\f' || t[i] == '\v') {
                i++;
            } else if (t[i] == '#' || (t[i] == '/' && t[i + 1] == '/')) {
                while (i < n && t[i] != '\n')
                    i++;
            } else if (t[i] == '/' && t[i + 1] == '*') {
                const char *e = strstr(t + i + 2, "*/");
                i = e ? (size_t)(e - t) + 2 : n;
            } else {                    /* any other token ends a concatenation */
                cur[cl] = '\0';
                bad = cur[0] == '/' || strstr(cur, "..") != NULL;
                cl = 0;
                i++;
            }
            continue;
        }
        char c = t[i++];
        if (c == '"') {
            in_str = 0;
            continue;
        }
        if (c == '\\' && i < n) {
            char e = t[i++];
            if ((e == 'x' || e == 'X') && i < n) {
                unsigned v = 0;
                for (int k = 0; k < 2 && i < n; k++, i++) {
                    char h = t[i];
                    v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0'
                                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                            : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 0);
                }
                c = (char)v;
            } else {
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'f' ? '\f' : e;
            }
        }
        cur[cl++] = c;
        /* a string may hold "." runs split by escapes: check as it grows */
        if (cl >= 2 && cur[cl - 1] == '.' && cur[cl - 2] == '.')
            bad = 1;
        if (cl == 1 && c == '/')
            bad = 1;
    }
    cur[cl] = '\0';
    if (!bad)
        bad = cur[0] == '/' || strstr(cur, "..") != NULL;
    free(cur);
    return bad;
}

/* ---- diagnostics ---- */


static void check_diags(const struct diag_list *dl, const struct config *c)
{
    size_t errors = 0;
    for (size_t i = 0; i < dl->n; i++) {
        const struct diag *d = &dl->v[i];
        FUZZ_CHECK(d->id != NULL && d->message != NULL, "diagnostic %zu without id or message",
                   i);
        FUZZ_CHECK(d->severity >= DIAG_INFO && d->severity <= DIAG_ERROR,
                   "diagnostic %s with severity %d", d->id, (int)d->severity);
        int known = diag_id_known(d->id);
        FUZZ_CHECK(known, "undocumented diagnostic id \"%s\": %s", d->id, d->message);
        FUZZ_CHECK(d->file != NULL || strcmp(d->id, "out-of-memory") == 0,
                   "diagnostic %s without a file: %s", d->id, d->message);
        errors += d->severity == DIAG_ERROR;
    }
    if (c == NULL)
        FUZZ_CHECK(errors > 0, "conf_load_string failed without an error diagnostic");
    else
        FUZZ_CHECK(errors == 0, "conf_load_string returned a config with %zu error(s), "
                   "first: %s", errors, dl->n ? dl->v[0].message : "?");
}

static void check_config(const struct config *c)
{
    FUZZ_CHECK(c->refs == 1, "a fresh config has refs %d", c->refs);
    FUZZ_CHECK(c->nrules == 0 || c->rules != NULL, "%zu rules but no array", c->nrules);
    unsigned st = 0;
    for (size_t i = 0; i < c->nrules; i++) {
        const struct rule *r = &c->rules[i];
        FUZZ_CHECK(r->name != NULL && r->name[0] != '\0', "rule %zu without a name", i);
        FUZZ_CHECK((int)r->action >= 0 && r->action < ACTION_COUNT, "rule %s: action %d",
                   r->name, (int)r->action);
        FUZZ_CHECK(r->when.stages != 0 && (r->when.stages & ~STAGES_ALL) == 0,
                   "rule %s: stages 0x%x", r->name, r->when.stages);
        if (r->has_action && r->action != ACTION_REWRITE)
            st |= r->when.stages;           /* policy rules decide the events asked for */
    }
    FUZZ_CHECK(st == c->stages_used, "stages_used 0x%x, policy rules use 0x%x", c->stages_used, st);
}

/* ---- engine ---- */

struct facts_in {
    struct session_facts f;
    const char *macro_value;
    const char *hn[8], *hv[8];
};

static const char *macro_of(void *ctx, const char *name)
{
    (void)name;
    return ((const struct facts_in *)ctx)->macro_value;
}

static const char *nz(const char *s)
{
    return s && *s ? s : NULL;
}


/* The index only prunes: the decision must be the one a scan of every
   rule makes. */
static int eval_checked(const struct config *c, const struct event *ev, struct decision *d)
{
    int rc = engine_eval(c, ev, d);
    struct decision u;
    engine_decision_init(&u);
    int ru = engine_eval_unindexed(c, ev, &u);
    int same = ru == rc && u.rule == d->rule;
    if (same && rc >= 0)
        same = u.action == d->action && u.has_reply == d->has_reply;
    if (same && rc >= 0 && d->has_reply) {
        same = u.reply.code == d->reply.code && u.reply.nlines == d->reply.nlines
               && strcmp(u.reply.enhanced, d->reply.enhanced) == 0;
        for (size_t i = 0; same && i < d->reply.nlines; i++)
            same = strcmp(u.reply.lines[i], d->reply.lines[i]) == 0;
    }
    if (!same) {
        fprintf(stderr, "index mismatch: indexed rc %d rule %s, unindexed rc %d rule %s\n", rc,
                d->rule ? d->rule->name : "-", ru, u.rule ? u.rule->name : "-");
        abort();
    }
    engine_decision_free(&u);
    return rc;
}
static void run_engine(const struct config *c, const struct fuzz_fields *ff)
{
    struct facts_in fi;
    memset(&fi, 0, sizeof fi);
    fi.f.client_addr = fuzz_field(ff, 4, "192.0.2.1");
    fi.f.client_name = fuzz_field(ff, 5, "mail.example.org");
    fi.f.helo = fuzz_field(ff, 6, "mail.example.org");
    fi.f.sender = fuzz_field(ff, 7, "alice@example.org");
    fi.f.rcpt = fuzz_field(ff, 8, "bob@example.net");
    fi.f.queue_id = fuzz_field(ff, 9, "4XyZ1");
    fi.f.auth_login = nz(fuzz_field(ff, 10, NULL));
    fi.macro_value = nz(fuzz_field(ff, 11, NULL));
    fi.f.macro = macro_of;
    fi.f.macro_ctx = &fi;
    size_t nh = 0;
    if (ff->n <= 12) {
        fi.hn[0] = "Subject";
        fi.hv[0] = "hello";
        nh = 1;
    }
    for (size_t i = 12; i + 1 < ff->n && nh < 8; i += 2, nh++) {
        fi.hn[nh] = ff->f[i];
        fi.hv[nh] = ff->f[i + 1];
    }
    fi.f.header_names = fi.hn;
    fi.f.header_values = fi.hv;
    fi.f.nheaders = nh;

    const char *st_s = fuzz_field(ff, 2, "");
    enum stage st = *st_s ? (enum stage)((unsigned char)*st_s % (STAGE_COUNT + 1)) : STAGE_COUNT;
    const char *source = nz(fuzz_field(ff, 3, NULL));

    struct reply orig;
    reply_init(&orig);
    if (reply_parse(fuzz_field(ff, 1, "550 5.7.1 Command rejected"), &orig, NULL) < 0)
        FUZZ_CHECK(reply_parse("550 5.7.1 Command rejected", &orig, NULL) == 0, "parse");

    struct decision d;
    engine_decision_init(&d);
    /* the reply event, as given and with stage and source unknown */
    struct event ev = { .stage = st, .source = source, .orig = &orig, .facts = &fi.f };
    int rc = eval_checked(c, &ev, &d);
    fuzz_check_decision(c, &ev, rc, &d, "reply event");
    ev.stage = STAGE_COUNT;
    ev.source = NULL;
    rc = eval_checked(c, &ev, &d);
    fuzz_check_decision(c, &ev, rc, &d, "reply event (any stage)");
    /* the policy event at every stage, as the daemon evaluates it */
    for (int s = 0; s <= STAGE_COUNT; s++) {
        struct event pe = { .stage = (enum stage)s, .source = "self", .orig = NULL,
                            .facts = &fi.f };
        rc = eval_checked(c, &pe, &d);
        fuzz_check_decision(c, &pe, rc, &d, "policy event");
    }
    engine_decision_free(&d);
    reply_free(&orig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_fields ff;
    fuzz_split(data, size, &ff);
    const char *text = ff.f[0];
    if (escapes_sandbox(text)) {
        free(ff.buf);
        return -1;                      /* not added to the corpus */
    }
    struct diag_list dl;
    diag_init(&dl);
    struct config *c = conf_load_string(text, main_name, &dl);
    check_diags(&dl, c);
    diag_free(&dl);
    if (c) {
        check_config(c);
        run_engine(c, &ff);
        conf_unref(c);
    }
    free(ff.buf);
    return 0;
}
