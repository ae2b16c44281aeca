/*
 * fuzz_template.c - libFuzzer target: reply templates expanded with hostile
 * session values.
 *
 * Input: fields separated by NUL bytes (tests/fuzz/seeds.py writes seeds in
 * this form):
 *   0  a template source (compiled as a rule's `text` would be)
 *   1  rcpt        2  sender     3  helo        4  client_addr
 *   5  client_name 6  code       7  enhanced    8  text
 *   9  explanation 10 queue_id   11 rule
 *   12... macro values: %{macro:NAME} takes field 12 + hash(NAME) % count
 * A missing field is NULL (expands to "").
 *
 * Invariants (template.h: "an address or HELO name can never add a line or
 * a reply of its own"):
 *   - a fixed set of templates like the shipped ones (no control characters
 *     in their literal text) compiles, and expands to valid UTF-8 without
 *     CR, LF or any other control character, no longer than
 *     template_max_len(); "%{text}" alone gives a clean value of at most
 *     TEMPLATE_VALUE_MAX bytes back unchanged, and any value cut to that cap;
 *   - the fuzzed template either compiles, or fails with a bad-template /
 *     unknown-variable error at the given file and line; when it compiles,
 *     its source is kept, the expansion is no longer than template_max_len(),
 *     and it holds no more CR, LF or other control bytes than the template's
 *     own literal text has (the values add none);
 *   - every expansion, put into a reply (550 5.7.1 / 451 4.7.1), then
 *     sanitize_reply'd, passes fuzz_check_reply for libmilter.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "rules/template.h"

static const char *const fixed_src[] = {
    "The address <%{rcpt}> does not exist here. Check the spelling or ask the recipient "
    "for a current address.",
    "%{text}",
    "%{code} %{enhanced} %{explanation}",
    "Mail from <%{sender}> via %{client_name} [%{client_addr}] (HELO %{helo}) was refused; "
    "queue id %{queue_id}, rule %{rule}.",
    "%{macro:i} %{macro:{auth_authen}} %{macro:j} %{macro:{daemon_name}}",
    "100%% sure: %{rcpt}%%{sender}% %{text}% %",
    "%{text} | %{text} | %{text} | %{text} | %{helo} %{helo} %{helo} %{sender} %{rcpt} "
    "%{client_name} %{macro:x} %{macro:y} %{explanation}",
};
#define NFIXED (sizeof fixed_src / sizeof fixed_src[0])
static struct template *fixed[NFIXED];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < NFIXED; i++) {
        struct diag_list dl;
        diag_init(&dl);
        fixed[i] = template_compile(fixed_src[i], "fixed", (int)i + 1, &dl);
        if (fixed[i] == NULL) {
            fprintf(stderr, "fuzz_template: fixed template %zu does not compile: %s\n", i,
                    dl.n ? dl.v[0].message : "?");
            abort();
        }
        diag_free(&dl);
    }
    return 0;
}

static const char *macro_of(void *ctx, const char *name)
{
    const struct fuzz_fields *ff = ctx;
    if (ff->n <= 12)
        return NULL;
    unsigned h = 5381;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = h * 33 + *p;
    return ff->f[12 + h % (ff->n - 12)];
}

/* Puts text into a reply of class 5 or 4, sanitizes it, checks it. */
static void as_reply(const char *text, int cls, const char *what)
{
    struct reply r;
    reply_init(&r);
    int rc = reply_set(&r, cls == 5 ? 550 : 451, cls == 5 ? "5.7.1" : "4.7.1", text);
    FUZZ_CHECK(rc == 0, "%s: reply_set failed", what);
    FUZZ_CHECK(sanitize_reply(&r) == 0, "%s: sanitize_reply failed", what);
    fuzz_check_reply(&r, FUZZ_CODES | FUZZ_MILTER | FUZZ_OWN, cls, what);
    reply_free(&r);
}

/* Counts of each control byte (0x00-0x1f, 0x7f; index 0x20 for 0x7f). */
static void count_controls(const char *s, size_t cnt[33])
{
    memset(cnt, 0, 33 * sizeof cnt[0]);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20)
            cnt[*p]++;
        else if (*p == 0x7f)
            cnt[32]++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_fields ff;
    fuzz_split(data, size, &ff);
    struct template_vars v = {
        .rcpt = fuzz_field(&ff, 1, NULL), .sender = fuzz_field(&ff, 2, NULL),
        .helo = fuzz_field(&ff, 3, NULL), .client_addr = fuzz_field(&ff, 4, NULL),
        .client_name = fuzz_field(&ff, 5, NULL), .code = fuzz_field(&ff, 6, NULL),
        .enhanced = fuzz_field(&ff, 7, NULL), .text = fuzz_field(&ff, 8, NULL),
        .explanation = fuzz_field(&ff, 9, NULL), .queue_id = fuzz_field(&ff, 10, NULL),
        .rule = fuzz_field(&ff, 11, NULL), .macro = macro_of, .macro_ctx = &ff,
    };
    int cls = size % 2 ? 4 : 5;

    /* the fixed templates */
    for (size_t i = 0; i < NFIXED; i++) {
        char *x = template_expand(fixed[i], &v);
        FUZZ_CHECK(x != NULL, "fixed template %zu: template_expand failed", i);
        size_t bad = 0, len = strlen(x), max = template_max_len(fixed[i]);
        FUZZ_CHECK(len <= max, "fixed template %zu: expansion of %zu bytes > max_len %zu", i,
                   len, max);
        FUZZ_CHECK(fuzz_clean_text(x, &bad),
                   "fixed template %zu (%s): a value brought a control character or invalid "
                   "UTF-8 at byte %zu (0x%02x) of \"%.200s\"", i, fixed_src[i], bad,
                   (unsigned char)x[bad], x);
        if (i == 1) {                       /* "%{text}" */
            const char *t = v.text ? v.text : "";
            size_t tb = 0;
            if (fuzz_clean_text(t, &tb) && strlen(t) <= TEMPLATE_VALUE_MAX)
                FUZZ_CHECK(strcmp(x, t) == 0, "%%{text}: clean value \"%.200s\" became "
                           "\"%.200s\"", t, x);
            FUZZ_CHECK(len <= TEMPLATE_VALUE_MAX && len <= strlen(t),
                       "%%{text}: %zu bytes from a value of %zu (cap %d)", len, strlen(t),
                       TEMPLATE_VALUE_MAX);
        }
        char what[48];
        snprintf(what, sizeof what, "fixed template %zu", i);
        as_reply(x, cls, what);
        free(x);
    }

    /* the fuzzed template */
    const char *src = fuzz_field(&ff, 0, "");
    struct diag_list dl;
    diag_init(&dl);
    struct template *t = template_compile(src, "fuzz.conf", 7, &dl);
    if (t == NULL) {
        FUZZ_CHECK(diag_has(&dl, "bad-template") || diag_has(&dl, "unknown-variable"),
                   "template_compile failed without bad-template/unknown-variable");
        for (size_t i = 0; i < dl.n; i++)
            FUZZ_CHECK(dl.v[i].severity != DIAG_ERROR
                       || (dl.v[i].file && strcmp(dl.v[i].file, "fuzz.conf") == 0
                           && dl.v[i].line == 7),
                       "error %s without file and line", dl.v[i].id);
    } else {
        FUZZ_CHECK(diag_count(&dl, DIAG_ERROR) == 0, "template compiled with errors");
        FUZZ_CHECK(strcmp(template_source(t), src) == 0, "template_source differs");
        char *x = template_expand(t, &v);
        FUZZ_CHECK(x != NULL, "template_expand failed");
        size_t len = strlen(x), max = template_max_len(t);
        FUZZ_CHECK(len <= max, "expansion of %zu bytes > template_max_len %zu", len, max);
        size_t cs[33], cx[33];
        count_controls(src, cs);
        count_controls(x, cx);
        for (int c = 0; c < 33; c++)
            FUZZ_CHECK(cx[c] <= cs[c], "a value added control byte 0x%02x (%zu in the "
                       "expansion, %zu in the template)", c == 32 ? 0x7f : c, cx[c], cs[c]);
        /* a second expansion gives the same text */
        char *y = template_expand(t, &v);
        FUZZ_CHECK(y != NULL && strcmp(x, y) == 0, "template_expand is not deterministic");
        free(y);
        as_reply(x, cls, "fuzzed template");
        free(x);
        template_free(t);
    }
    diag_free(&dl);
    free(ff.buf);
    return 0;
}
