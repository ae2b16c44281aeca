/*
 * fuzz_common.h - shared helpers of the libFuzzer targets in tests/fuzz/:
 * splitting an input into fields, and the INVARIANTS every reply that can
 * reach libmilter must hold.  A violated invariant prints what and where on
 * stderr and calls abort(), which libFuzzer reports as a crash and saves the
 * input as an artifact.
 *
 * The invariants (see reply.h, engine.h, sanitize.c and the reference
 * README's rule 7, "libmilter limits"):
 *   - 1 to REPLY_MAX_LINES (32) lines, none NULL;
 *   - no CR, LF or other control character (C0, DEL, C1) in any line, and
 *     valid UTF-8 (sanitize_reply's documented guarantee);
 *   - each line at most REPLY_MAX_LINE_LEN (966; 980 on the wire) bytes once "%" is doubled;
 *   - sanitize_milter_lines gives exactly nlines lines, each <= REPLY_MAX_LINE_LEN bytes,
 *     every "%" doubled (no lone "%"), and undoubling gives the line back;
 *   - reply_validate(REPLY_CTX_MILTER) reports none of crlf-in-text,
 *     line-too-long, too-many-lines, control-char; for replies that are
 *     handed to smfi_setreply also none of class-mismatch, not-for-milter,
 *     bad-enhanced-code, leading-zero, enhanced-on-3xx (and for an own
 *     decision, whose code the project chose, bad-basic-code);
 *   - for an own decision, the class wanted by the action (reject -> 5,
 *     tempfail -> 4) in both the basic and the enhanced code.
 *
 * Not a library of the project: header-only, static functions, used only by
 * the fuzz targets (which are single translation units).
 */
#ifndef REWORD_FUZZ_COMMON_H
#define REWORD_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/utf8_oracle.h"
#include "diag.h"
#include "engine.h"
#include "reply.h"
#include "rules.h"

#define FUZZ_CHECK(cond, ...)                                                          \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "\n==== INVARIANT VIOLATED at %s:%d: %s\n==== ", __FILE__, \
                    __LINE__, #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* ---- input splitting ---- */

/* A copy of data[0..size) as a NUL-terminated string (cut at the first NUL). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Fields of an input separated by NUL bytes; at most FUZZ_MAX_FIELDS, the
   last one takes the rest.  The strings point into one malloc'd copy. */
#define FUZZ_MAX_FIELDS 24
struct fuzz_fields {
    char *buf;
    const char *f[FUZZ_MAX_FIELDS];
    size_t n;
};

static inline void fuzz_split(const uint8_t *data, size_t size, struct fuzz_fields *ff)
{
    memset(ff, 0, sizeof *ff);
    ff->buf = fuzz_cstr(data, size);
    size_t start = 0;
    for (size_t i = 0; i <= size && ff->n < FUZZ_MAX_FIELDS; i++) {
        if (i == size || ff->buf[i] == '\0') {
            ff->f[ff->n++] = ff->buf + start;
            start = i + 1;
        }
    }
}

/* Field i, or dflt when the input has fewer fields. */
static inline const char *fuzz_field(const struct fuzz_fields *ff, size_t i, const char *dflt)
{
    return i < ff->n ? ff->f[i] : dflt;
}

/* ---- invariants ---- */

/* 1 when s is valid UTF-8 without C0/DEL/C1 control characters. */
static inline int fuzz_clean_text(const char *s, size_t *bad_at)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_oracle_seq(u + i, n - i, &cp);
        if (l == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            *bad_at = i;
            return 0;
        }
        i += l;
    }
    return 1;
}

static inline size_t fuzz_escaped_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '%' ? 2 : 1;
    return n;
}

/* What a reply is checked for (besides the text rules, always checked). */
enum {
    FUZZ_CODES   = 1,   /* codes made well-formed by the engine: no class-mismatch,
                           bad-enhanced-code, leading-zero, enhanced-on-3xx */
    FUZZ_MILTER  = 2,   /* handed to smfi_setreply: no not-for-milter either */
    FUZZ_NEED_ENH = 4,  /* a 4xx/5xx from the engine always has an enhanced code */
    FUZZ_OWN     = 8,   /* an own decision: also a well-formed basic code */
};

static inline void fuzz_dump_reply(const struct reply *r)
{
    fprintf(stderr, "==== reply: code=%d enhanced=%s (class %d) nlines=%zu\n", r->code,
            r->has_enhanced ? r->enhanced : "(none)", r->has_enhanced ? r->eclass : 0,
            r->nlines);
    for (size_t i = 0; r->lines && i < r->nlines && i < 40; i++) {
        const char *l = r->lines[i] ? r->lines[i] : "(null)";
        fprintf(stderr, "====   [%zu] len=%zu \"", i, strlen(l));
        for (const unsigned char *p = (const unsigned char *)l; *p && p - (const unsigned char *)l < 200; p++)
            if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
                fprintf(stderr, "\\x%02x", *p);
            else
                fputc(*p, stderr);
        fprintf(stderr, "%s\"\n", strlen(l) > 200 ? "..." : "");
    }
}

#define REPLY_CHECK(r, cond, ...)                                                      \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fuzz_dump_reply(r);                                                        \
            FUZZ_CHECK(cond, __VA_ARGS__);                                             \
        }                                                                              \
    } while (0)

/*
 * Checks a reply that may go to libmilter (see the top of the file).
 * want_class: 4 or 5 to require that class (own decision), 0 for none.
 * what: names the producer in the message.
 */
static inline void fuzz_check_reply(const struct reply *r, int flags, int want_class, const char *what)
{
    REPLY_CHECK(r, r->lines != NULL && r->nlines >= 1, "%s: no text lines", what);
    REPLY_CHECK(r, r->nlines <= REPLY_MAX_LINES, "%s: %zu lines > %d", what, r->nlines,
                REPLY_MAX_LINES);
    for (size_t i = 0; i < r->nlines; i++) {
        const char *l = r->lines[i];
        REPLY_CHECK(r, l != NULL, "%s: line %zu is NULL", what, i);
        REPLY_CHECK(r, strpbrk(l, "\r\n") == NULL, "%s: CR/LF in line %zu", what, i);
        size_t bad = 0;
        REPLY_CHECK(r, fuzz_clean_text(l, &bad),
                    "%s: line %zu has a control character or invalid UTF-8 at byte %zu (0x%02x)",
                    what, i, bad, (unsigned char)l[bad]);
        REPLY_CHECK(r, fuzz_escaped_len(l) <= REPLY_MAX_LINE_LEN,
                    "%s: line %zu is %zu bytes once %% is doubled (> %d)", what, i,
                    fuzz_escaped_len(l), REPLY_MAX_LINE_LEN);
    }
    if (want_class) {
        REPLY_CHECK(r, r->code / 100 == want_class, "%s: code %d is not class %d", what,
                    r->code, want_class);
        REPLY_CHECK(r, !r->has_enhanced || r->eclass == want_class,
                    "%s: enhanced %s is not class %d", what, r->enhanced, want_class);
    }
    if ((flags & FUZZ_NEED_ENH) && (r->code / 100 == 4 || r->code / 100 == 5))
        REPLY_CHECK(r, r->has_enhanced, "%s: a %d from the engine without enhanced code", what,
                    r->code);

    /* the project's own validator */
    struct diag_list dl;
    diag_init(&dl);
    reply_validate(r, REPLY_CTX_MILTER, &dl);
    static const char *const always[] = {
        "crlf-in-text", "line-too-long", "too-many-lines", "control-char", NULL
    };
    static const char *const codes[] = {
        "class-mismatch", "bad-enhanced-code", "leading-zero", "enhanced-on-3xx", NULL
    };
    static const char *const milter[] = { "not-for-milter", NULL };
    static const char *const own[] = { "bad-basic-code", NULL };
    for (size_t i = 0; i < dl.n; i++) {
        FUZZ_CHECK(dl.v[i].id != NULL && dl.v[i].message != NULL, "%s: diagnostic without id",
                   what);
        for (const char *const *id = always; *id; id++)
            REPLY_CHECK(r, strcmp(dl.v[i].id, *id) != 0, "%s: reply_validate says %s: %s", what,
                        *id, dl.v[i].message);
        for (const char *const *id = codes; (flags & FUZZ_CODES) && *id; id++)
            REPLY_CHECK(r, strcmp(dl.v[i].id, *id) != 0, "%s: reply_validate says %s: %s", what,
                        *id, dl.v[i].message);
        for (const char *const *id = milter; (flags & FUZZ_MILTER) && *id; id++)
            REPLY_CHECK(r, strcmp(dl.v[i].id, *id) != 0, "%s: reply_validate says %s: %s", what,
                        *id, dl.v[i].message);
        for (const char *const *id = own; (flags & FUZZ_OWN) && *id; id++)
            REPLY_CHECK(r, strcmp(dl.v[i].id, *id) != 0, "%s: reply_validate says %s: %s", what,
                        *id, dl.v[i].message);
    }
    diag_free(&dl);

    /* libmilter's view: "%" doubled, <= REPLY_MAX_LINE_LEN bytes, as many lines */
    char **ml = sanitize_milter_lines(r);
    FUZZ_CHECK(ml != NULL, "%s: sanitize_milter_lines failed", what);
    size_t n = 0;
    for (; ml[n]; n++) {
        FUZZ_CHECK(n < r->nlines, "%s: sanitize_milter_lines gave more lines than %zu", what,
                   r->nlines);
        const char *m = ml[n], *orig = r->lines[n];
        REPLY_CHECK(r, strlen(m) <= REPLY_MAX_LINE_LEN, "%s: milter line %zu is %zu bytes", what,
                    n, strlen(m));
        size_t k = 0;
        for (const char *p = m; *p; p++, k++) {
            if (*p == '%') {
                REPLY_CHECK(r, p[1] == '%', "%s: lone %% in milter line %zu at byte %zu", what,
                            n, (size_t)(p - m));
                p++;
            }
            REPLY_CHECK(r, orig[k] == *p, "%s: milter line %zu differs from the text at %zu",
                        what, n, k);
        }
        REPLY_CHECK(r, orig[k] == '\0', "%s: milter line %zu is shorter than the text", what, n);
    }
    FUZZ_CHECK(n == r->nlines, "%s: sanitize_milter_lines gave %zu lines for %zu", what, n,
               r->nlines);
    sanitize_free_lines(ml);

    /* wire form: exactly nlines-1 line breaks */
    char *w = reply_format(r, "\r\n");
    FUZZ_CHECK(w != NULL, "%s: reply_format failed", what);
    size_t crs = 0, lfs = 0;
    for (const char *p = w; *p; p++)
        crs += *p == '\r', lfs += *p == '\n';
    REPLY_CHECK(r, crs == r->nlines - 1 && lfs == r->nlines - 1,
                "%s: wire form has %zu CR / %zu LF for %zu lines", what, crs, lfs, r->nlines);
    free(w);
}

/* ---- engine decisions ---- */

static inline const char *fuzz_action(enum action a)
{
    const char *n = names_action(a);
    return n ? n : "?";
}

/*
 * Checks the result of engine_eval(c, ev, d) = rc against engine.h:
 *  - rc is -1, 0 or 1; -1 leaves the decision empty; 1 names a rule of c;
 *  - reply event: only rewrite/log rules apply; there is always a reply, with
 *    codes made well-formed (class forced, X.0.0 added); without a rule or
 *    with a log rule (and for a rewrite without `code`) the basic code is the
 *    original's; a 4xx/5xx result passes every libmilter rule;
 *  - policy event: no rewrite; reject/tempfail carry a reply of class 5/4
 *    that passes every libmilter rule; accept/discard/log carry none.
 */
static inline void fuzz_check_decision(const struct config *c, const struct event *ev, int rc,
                                const struct decision *d, const char *what)
{
    FUZZ_CHECK(rc >= -1 && rc <= 1, "%s: engine_eval returned %d", what, rc);
    if (rc < 0) {
        FUZZ_CHECK(!d->has_reply && d->rule == NULL, "%s: -1 with a decision filled", what);
        return;
    }
    FUZZ_CHECK((rc == 1) == (d->rule != NULL), "%s: rc %d but rule %p", what, rc,
               (const void *)d->rule);
    if (d->rule)
        FUZZ_CHECK(c && d->rule >= c->rules && d->rule < c->rules + c->nrules,
                   "%s: decision names a rule outside the config", what);
    if (ev->orig) {
        const struct reply *o = ev->orig;
        if (rc == 1)
            FUZZ_CHECK(d->action == ACTION_REWRITE || d->action == ACTION_LOG,
                       "%s: reply event decided by action %s (rule %s)", what,
                       fuzz_action(d->action), d->rule->name);
        FUZZ_CHECK(d->has_reply, "%s: reply event without a reply (rc %d)", what, rc);
        int cls = d->reply.code / 100;
        int flags = FUZZ_CODES | FUZZ_NEED_ENH | ((cls == 4 || cls == 5) ? FUZZ_MILTER : 0);
        fuzz_check_reply(&d->reply, flags, 0, what);
        int keep = rc == 0 || d->action == ACTION_LOG
                   || (d->action == ACTION_REWRITE && d->rule->reply.code == 0);
        if (keep && o->code != 0)
            REPLY_CHECK(&d->reply, d->reply.code == o->code,
                        "%s: original code %d became %d (rule %s, action %s)", what, o->code,
                        d->reply.code, d->rule ? d->rule->name : "(none)",
                        fuzz_action(d->action));
        if ((rc == 0 || d->action == ACTION_LOG) && o->code == 0 && o->has_enhanced) {
            int want = o->eclass == 2 ? 250 : o->eclass == 4 ? 451 : 550;
            REPLY_CHECK(&d->reply, d->reply.code == want,
                        "%s: enhanced-only original %s became %d, expected %d", what,
                        o->enhanced, d->reply.code, want);
        }
    } else {
        if (rc == 0) {
            FUZZ_CHECK(!d->has_reply, "%s: policy event, no rule, but a reply", what);
            return;
        }
        switch (d->action) {
        case ACTION_REJECT:
        case ACTION_TEMPFAIL:
            FUZZ_CHECK(d->has_reply, "%s: %s without a reply (rule %s)", what,
                       fuzz_action(d->action), d->rule->name);
            fuzz_check_reply(&d->reply, FUZZ_CODES | FUZZ_MILTER | FUZZ_NEED_ENH | FUZZ_OWN,
                             d->action == ACTION_REJECT ? 5 : 4, what);
            break;
        case ACTION_ACCEPT:
        case ACTION_DISCARD:
        case ACTION_LOG:
            FUZZ_CHECK(!d->has_reply, "%s: %s with a reply (rule %s)", what,
                       fuzz_action(d->action), d->rule->name);
            break;
        default:
            FUZZ_CHECK(0, "%s: policy event decided by action %s (rule %s)", what,
                       fuzz_action(d->action), d->rule->name);
        }
    }
}

#endif
