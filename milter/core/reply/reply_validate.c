/*
 * reply_validate.c - checks a struct reply against every rule of the project
 * about replies: basic code syntax and
 * known codes (RFC 5321), enhanced code syntax, class agreement, registry and
 * pairing (RFC 3463, IANA), where enhanced codes belong (RFC 2034), and the
 * libmilter limits (980 characters per line, 32 lines, no CR/LF, 4xx/5xx).
 *
 * Diagnostic ids and severities (stable):
 *   bad-basic-code (error)      first digit not 2-5, second not 0-5, not 3 digits
 *   unknown-basic-code (warning) well-formed but not one of the 44 known codes
 *   bad-enhanced-code (error)   has_enhanced with a malformed code
 *   leading-zero (error)        "5.01.1"
 *   class-mismatch (error)      550 with 4.x.x: Postfix cuts the milter off
 *   unregistered-code (warning) outside the IANA registry (5.7.57, 5.1.10)
 *   deprecated-code (warning)   X.6.10 (use X.6.8)
 *   unusual-pairing (warning)   the registry lists other basic codes
 *   enhanced-on-3xx (error), enhanced-on-greeting (warning, GREETING/HELO),
 *   no-enhanced-code (info, 2xx/4xx/5xx outside GREETING/HELO),
 *   line-too-long (error), too-many-lines (error), crlf-in-text (error),
 *   control-char (warning), not-for-milter (error, MILTER only),
 *   bare-percent (info, never in REPLY_CTX_MILTER; see check_percent).
 * Line rules report the first offending line once, with the number of lines
 * affected, so a hostile 1000-line reply gives one diagnostic per rule.
 *
 * Code 0 ("no basic code found", see reply_parse) skips the basic-code rules;
 * in REPLY_CTX_MILTER it is not-for-milter.
 *
 * reply_parse reports "leading-zero" itself with the same message; so that
 * parse + validate into one list shows it once, a leading-zero diagnostic is
 * not added again when an identical one (same id and message, no file) is
 * already in the list.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "taxonomy.h"

/* ---- basic code ---- */

/* 1 when code is 3 digits, first 2-5, second 0-5. */
static int basic_well_formed(int code)
{
    return code >= 200 && code <= 599 && (code / 10) % 10 <= 5;
}

static void check_basic(const struct reply *r, struct diag_list *dl)
{
    if (r->code == 0)
        return;
    if (r->code < 100 || r->code > 999) {
        diag_add(dl, "bad-basic-code", DIAG_ERROR, "basic code %d is not a 3-digit SMTP reply code",
                 r->code);
        return;
    }
    if (!basic_well_formed(r->code)) {
        diag_add(dl, "bad-basic-code", DIAG_ERROR,
                 "basic code %d is not a valid SMTP reply code: its first digit must be 2 to 5 "
                 "and its second 0 to 5 (RFC 5321 sec. 4.2)",
                 r->code);
        return;
    }
    if (tax_basic_find(r->code) == NULL)
        diag_add(dl, "unknown-basic-code", DIAG_WARNING,
                 "basic code %d is well-formed but is not one of the reply codes defined by "
                 "RFC 5321 and its extensions",
                 r->code);
}

/* ---- enhanced code ---- */

/*
 * Checks that r->enhanced reads "C.S.D" (C one digit, S and D 1-3 digits)
 * and agrees with eclass/esubject/edetail; sets *lz when S or D has a
 * leading zero.  Returns 1 when well-formed.
 */
static int enhanced_well_formed(const struct reply *r, int *lz)
{
    const char *s = r->enhanced;
    size_t n = strnlen(s, sizeof r->enhanced);
    int part[3] = {0, 0, 0};
    size_t i = 0;
    *lz = 0;
    if (n >= sizeof r->enhanced)
        return 0; /* not NUL-terminated */
    for (int k = 0; k < 3; k++) {
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 4)
            part[k] = part[k] * 10 + (s[i++] - '0');
        size_t len = i - start;
        if (len == 0 || len > (k == 0 ? 1u : 3u))
            return 0;
        if (k > 0 && len > 1 && s[start] == '0')
            *lz = 1;
        if (k < 2 && (i >= n || s[i++] != '.'))
            return 0;
    }
    if (i != n)
        return 0;
    if (part[0] != 2 && part[0] != 4 && part[0] != 5)
        return 0;
    return part[0] == r->eclass && part[1] == r->esubject && part[2] == r->edetail;
}

/* Adds the diagnostic unless an identical one (id, message, no file) is there. */
static void add_once(struct diag_list *dl, const char *id, enum diag_severity sev, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static void add_once(struct diag_list *dl, const char *id, enum diag_severity sev, const char *fmt,
                     ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return;
    for (size_t i = 0; i < dl->n; i++)
        if (dl->v[i].file == NULL && strcmp(dl->v[i].id, id) == 0
            && strcmp(dl->v[i].message, msg) == 0) {
            free(msg);
            return;
        }
    diag_add(dl, id, sev, "%s", msg);
    free(msg);
}

/* Registry checks on a well-formed enhanced code. */
static void check_registry(const struct reply *r, int basic_ok, struct diag_list *dl)
{
    int s = r->esubject, d = r->edetail, c = r->eclass;
    int max = tax_max_detail(s);
    const struct tax_enhanced *e = tax_enhanced_find(s, d);
    if (max < 0) {
        diag_add(dl, "unregistered-code", DIAG_WARNING,
                 "enhanced code %d.%d.%d is not in the IANA registry, which has no subject %d "
                 "(subjects go from 0 to 7)",
                 c, s, d, s);
        return;
    }
    if (d > max || e == NULL) {
        diag_add(dl, "unregistered-code", DIAG_WARNING,
                 "enhanced code %d.%d.%d is not in the IANA registry (the highest registered "
                 "X.%d code is X.%d.%d), so clients can only read its class and subject",
                 c, s, d, s, s, max);
        return;
    }
    if (e->deprecated) {
        if (s == 6 && d == 10)
            diag_add(dl, "deprecated-code", DIAG_WARNING,
                     "enhanced code %d.6.10 is deprecated in the IANA registry as a duplicate "
                     "of %d.6.8; use %d.6.8 instead",
                     c, c, c);
        else
            diag_add(dl, "deprecated-code", DIAG_WARNING,
                     "enhanced code %d.%d.%d is deprecated in the IANA registry", c, s, d);
    }
    if (basic_ok && tax_pairing(e, r->code) == TAX_PAIR_UNUSUAL) {
        char list[128];
        tax_assoc_describe(e, list, sizeof list);
        diag_add(dl, "unusual-pairing", DIAG_WARNING,
                 "%d.%d.%d is registered with %s; this reply uses %d, which is legal but unusual",
                 c, s, d, list, r->code);
    }
}

static void check_enhanced(const struct reply *r, enum reply_context ctx, struct diag_list *dl)
{
    int cls = r->code / 100;
    if (!r->has_enhanced) {
        if (ctx != REPLY_CTX_GREETING && ctx != REPLY_CTX_HELO && r->code != 0
            && basic_well_formed(r->code) && cls != 3)
            diag_add(dl, "no-enhanced-code", DIAG_INFO,
                     "basic code %d has no enhanced code; adding one such as %d.0.0 lets "
                     "clients tell the reason apart (RFC 3463)",
                     r->code, cls);
        return;
    }
    int lz = 0;
    if (!enhanced_well_formed(r, &lz)) {
        char shown[sizeof r->enhanced];
        snprintf(shown, sizeof shown, "%.*s", (int)strnlen(r->enhanced, sizeof shown - 1),
                 r->enhanced);
        diag_add(dl, "bad-enhanced-code", DIAG_ERROR,
                 "enhanced code \"%s\" (class %d, subject %d, detail %d) is malformed: it must "
                 "be class 2, 4 or 5, then a subject and a detail of 1 to 3 digits each "
                 "(RFC 3463)",
                 shown, r->eclass, r->esubject, r->edetail);
        return;
    }
    if (lz)
        add_once(dl, "leading-zero", DIAG_ERROR,
                 "enhanced code %s has a number with a leading zero, which RFC 3463 forbids; "
                 "write %d.%d.%d",
                 r->enhanced, r->eclass, r->esubject, r->edetail);
    /* class rules need only a first digit of 2-5 ("570 4.7.1" is still a mismatch) */
    int basic_ok = r->code >= 200 && r->code <= 599;
    if (basic_ok && cls == 3) {
        diag_add(dl, "enhanced-on-3xx", DIAG_ERROR,
                 "basic code %d is an intermediate reply, which never carries an enhanced "
                 "code (RFC 2034), but it has %s",
                 r->code, r->enhanced);
        basic_ok = 0;
    } else if (basic_ok && cls != r->eclass) {
        diag_add(dl, "class-mismatch", DIAG_ERROR,
                 "basic code %d is class %d but enhanced code %s is class %d; Postfix would "
                 "cut the milter off for the rest of the session",
                 r->code, cls, r->enhanced, r->eclass);
        basic_ok = 0;
    }
    if (ctx == REPLY_CTX_GREETING || ctx == REPLY_CTX_HELO)
        diag_add(dl, "enhanced-on-greeting", DIAG_WARNING,
                 "%s replies carry no enhanced code (RFC 2034), but this one has %s",
                 ctx == REPLY_CTX_GREETING ? "greeting" : "HELO/EHLO", r->enhanced);
    check_registry(r, basic_ok, dl);
}

/* ---- text lines ---- */

/* 1 when s has a "%" that is not half of a "%%" pair. */
static int has_bare_percent(const char *s)
{
    for (; *s; s++)
        if (*s == '%') {
            if (s[1] != '%')
                return 1;
            s++;
        }
    return 0;
}

/* First control byte other than CR/LF in s (TAB counts), or -1. */
static int first_control(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\r' && c != '\n') || c == 0x7f)
            return c;
    }
    return -1;
}

struct line_finding {
    size_t first; /* 1-based line number of the first hit, 0 when none */
    size_t count; /* lines affected */
    size_t value; /* detail of the first hit (length, byte) */
};

static void note(struct line_finding *f, size_t line, size_t value)
{
    if (f->count++ == 0) {
        f->first = line;
        f->value = value;
    }
}

/*
 * bare-percent: struct reply holds plain text, where "%" is an ordinary
 * character, and sanitize_milter_lines doubles it at the edge.  So a lone "%"
 * is never an error.  It is reported as info outside REPLY_CTX_MILTER (an
 * observed reply, or a text someone may paste into a milter or access map by
 * hand, where a lone "%" is eaten), and not at all in REPLY_CTX_MILTER,
 * where the project's own escaping takes care of it.
 */
static void check_lines(const struct reply *r, enum reply_context ctx, struct diag_list *dl)
{
    size_t n = r->lines ? r->nlines : 0;
    struct line_finding tl = {0}, cr = {0}, cc = {0}, pc = {0};
    for (size_t i = 0; i < n; i++) {
        const char *t = r->lines[i];
        if (t == NULL)
            continue;
        size_t el = sanitize_escaped_len(t, strlen(t));
        if (el > REPLY_MAX_LINE_LEN)
            note(&tl, i + 1, el);
        if (strpbrk(t, "\r\n") != NULL)
            note(&cr, i + 1, 0);
        int c = first_control(t);
        if (c >= 0)
            note(&cc, i + 1, (size_t)c);
        if (has_bare_percent(t))
            note(&pc, i + 1, 0);
    }
    if (tl.count)
        diag_add(dl, "line-too-long", DIAG_ERROR,
                 "line %zu is %zu characters long once \"%%\" is doubled, and a reply line "
                 "has room for at most %d (%d with its codes; %zu line%s too long)",
                 tl.first, tl.value, REPLY_MAX_LINE_LEN, REPLY_MAX_WIRE_LEN, tl.count,
                 tl.count == 1 ? "" : "s");
    if (n > REPLY_MAX_LINES)
        diag_add(dl, "too-many-lines", DIAG_ERROR,
                 "the reply has %zu lines, and libmilter sends at most %d", n, REPLY_MAX_LINES);
    if (cr.count)
        diag_add(dl, "crlf-in-text", DIAG_ERROR,
                 "line %zu contains a CR or LF character, which would end the reply line "
                 "early and which libmilter refuses (%zu line%s affected)",
                 cr.first, cr.count, cr.count == 1 ? "" : "s");
    if (cc.count)
        diag_add(dl, "control-char", DIAG_WARNING,
                 "line %zu contains the control character 0x%02zx, which clients may show "
                 "garbled or drop (%zu line%s affected)",
                 cc.first, cc.value, cc.count, cc.count == 1 ? "" : "s");
    if (pc.count && ctx != REPLY_CTX_MILTER)
        diag_add(dl, "bare-percent", DIAG_INFO,
                 "line %zu contains a lone \"%%\", a literal percent sign here, which must be "
                 "written \"%%%%\" when handed to libmilter by hand",
                 pc.first);
}

/* ---- context ---- */

static void check_context(const struct reply *r, enum reply_context ctx, struct diag_list *dl)
{
    if (ctx == REPLY_CTX_MILTER && (r->code < 400 || r->code > 599))
        diag_add(dl, "not-for-milter", DIAG_ERROR,
                 "basic code %d cannot be sent by a milter: smfi_setreply accepts only 4xx and "
                 "5xx codes",
                 r->code);
}

void reply_validate(const struct reply *r, enum reply_context ctx, struct diag_list *dl)
{
    if (r == NULL || dl == NULL)
        return;
    check_basic(r, dl);
    check_enhanced(r, ctx, dl);
    check_lines(r, ctx, dl);
    check_context(r, ctx, dl);
}
