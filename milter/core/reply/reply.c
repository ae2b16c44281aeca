/*
 * reply.c - the SMTP reply model (see reply.h): reply_parse reads reply text
 * as MTAs, milters and bounce messages show it; reply_set builds a reply from
 * parts; reply_format writes the wire form; reply_init/reply_free manage it.
 *
 * How reply_parse reads text, step by step:
 *  1. Find the basic code: a 3-digit number whose first digit is 2-5, at a
 *     token start (start of text, or after white space or one of ; : ' " ( <
 *     # = , `) and followed by white space, "-" or the end.  If the text
 *     (after leading blanks and # ' " < ( ) starts with one, that is it.
 *     Otherwise (wrappers: "smtp; 550 ...", "host x[192.0.2.1] said: 550 ...",
 *     "Remote Server returned '550 ...'") the first such number that is
 *     followed by an enhanced code wins, else the first one at all, so that
 *     "... after 300 seconds: 550 5.1.1 ..." reads 550.
 *     With no basic code, the first enhanced code at a token start is used:
 *     code 0 and a "no-basic-code" warning ("5.1.1 user unknown").  With
 *     neither, reply_parse returns -1 with "unparseable".
 *  2. Collect the physical lines from there (split at CRLF, LF or CR).  A line
 *     starting with a basic code starts a new reply line (an indented line
 *     only when it carries the first line's code); any other line is folded
 *     onto the previous one with a space (header folding in bounces).  When
 *     the reply was wrapped, a blank line or a "Header-Name:" line ends it.
 *  3. Drop wrapper leftovers at the end: "(in reply to ... command)" and a
 *     closing ' " > or # that matches one before the code.
 *  4. Split Postfix's one-line flattening: inside a "NNN-" line, white space
 *     then the same code with "-" or " " (and then the first line's enhanced
 *     code, when it had one) starts the next line; when the enhanced code
 *     never recurs ("550-5.7.1 a 550 b"), the code alone does.
 *  5. Each line gives code, continuation marker, enhanced code and text.  The
 *     first line's enhanced code is stored as written (without a leading
 *     "#"); an equal code on later lines is removed from their text, a
 *     different one stays in the text.  Text is trimmed of white space at both
 *     ends; a ";", "," or ":" right after the enhanced code is dropped.
 *
 * A dotted triple after the code that is not a usable enhanced code (class
 * not 2/4/5, or a part longer than 3 digits: "550 1.2.3 x", "550 5.1234.1 x")
 * gives "bad-enhanced-code" (error) and STAYS IN THE TEXT, so has_enhanced
 * always means a code libmilter would take.  Leading zeros ("5.01.1") are
 * accepted, kept as written in r->enhanced, and give "leading-zero" (error;
 * reply_validate reports the same diagnostic and skips it when the list
 * already holds it).  Other parse diagnostics: "inconsistent-lines" (error)
 * when lines carry different basic codes, "bad-continuation" (warning) when a
 * line other than the last lacks "-" or the last one has it.
 *
 * Memory: r must be initialized (reply_init) before the first call;
 * reply_parse and reply_set replace what r held and leave r empty on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reply.h"
#include "util/strvec.h"
#include "strbuf.h"

/* ---- small character helpers ---- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static int is_eol(char c)
{
    return c == '\r' || c == '\n';
}

static int is_space(char c)
{
    return is_blank(c) || is_eol(c);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Characters after which a code may start a token. */
static int is_token_sep(char c)
{
    return is_space(c) || (c != '\0' && strchr(";:'\"(<#=,`", c) != NULL);
}

static int token_start(const char *s, size_t i)
{
    return i == 0 || is_token_sep(s[i - 1]);
}

/* ---- tokens: basic code and enhanced code ---- */

/* A basic-code token at s[i]: 3 digits, first 2-5, then blank, "-", EOL or
   end of the n bytes.  Returns the code or 0. */
static int code_at(const char *s, size_t n, size_t i)
{
    if (i + 3 > n || s[i] < '2' || s[i] > '5' || !is_digit(s[i + 1]) || !is_digit(s[i + 2]))
        return 0;
    if (i + 3 < n && !is_space(s[i + 3]) && s[i + 3] != '-')
        return 0;
    return (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
}

struct enh_tok {
    size_t start, len;  /* the code as written, without a leading '#' */
    size_t next;        /* position after the code and an optional ; , : */
    int ok;             /* class 2/4/5 (one digit), subject/detail 1-3 digits */
    int leading_zero;   /* subject or detail written with a leading zero */
    int cls, subj, det; /* valid when ok */
};

static int is_enh_term(char c)
{
    return is_space(c) || c == ';' || c == ',' || c == ':';
}

/* Parses a run of at most 3 digits into an int (caller checked the length). */
static int small_number(const char *s, size_t len)
{
    int v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/*
 * A dotted triple "D+.D+.D+" at s[i] (after an optional '#'), ending at a
 * terminator or the end.  Returns 1 and fills t (t->ok tells whether it is a
 * usable enhanced code), or 0 when there is no such token.
 */
static int enh_scan(const char *s, size_t n, size_t i, struct enh_tok *t)
{
    size_t p = i, ps[3], pl[3];
    if (p < n && s[p] == '#')
        p++;
    size_t start = p;
    for (int k = 0; k < 3; k++) {
        size_t q = p;
        while (q < n && is_digit(s[q]))
            q++;
        if (q == p)
            return 0;
        ps[k] = p;
        pl[k] = q - p;
        p = q;
        if (k < 2) {
            if (p >= n || s[p] != '.')
                return 0;
            p++;
        }
    }
    if (p < n && !is_enh_term(s[p]))
        return 0;
    memset(t, 0, sizeof *t);
    t->start = start;
    t->len = p - start;
    t->next = (p < n && !is_space(s[p])) ? p + 1 : p;
    t->ok = pl[0] == 1 && (s[start] == '2' || s[start] == '4' || s[start] == '5') && pl[1] <= 3
            && pl[2] <= 3;
    t->leading_zero = (pl[1] > 1 && s[ps[1]] == '0') || (pl[2] > 1 && s[ps[2]] == '0');
    if (t->ok) {
        t->cls = s[start] - '0';
        t->subj = small_number(s + ps[1], pl[1]);
        t->det = small_number(s + ps[2], pl[2]);
    }
    return 1;
}

/* Is the token t (in s) the same text as the enhanced code e? */
static int enh_equals(const char *s, const struct enh_tok *t, const char *e)
{
    return t->ok && strlen(e) == t->len && memcmp(s + t->start, e, t->len) == 0;
}

static size_t skip_blanks(const char *s, size_t n, size_t i)
{
    while (i < n && is_blank(s[i]))
        i++;
    return i;
}

/* ---- step 1: where the reply starts ---- */

/* Position of the basic code (see the file comment), or (size_t)-1. */
static size_t find_basic(const char *s, size_t n)
{
    size_t lead = 0;
    while (lead < n && (is_space(s[lead]) || strchr("#'\"<(", s[lead]) != NULL))
        lead++;
    size_t first = (size_t)-1;
    for (size_t i = 0; i + 3 <= n; i++) {
        if (!token_start(s, i) || code_at(s, n, i) == 0)
            continue;
        if (i == lead)
            return i;
        if (first == (size_t)-1)
            first = i;
        struct enh_tok t;
        size_t p = skip_blanks(s, n, i + 3 + (i + 3 < n && s[i + 3] == '-'));
        if (enh_scan(s, n, p, &t) && t.ok)
            return i;
        i += 2;
    }
    return first;
}

/* Position of the first usable enhanced code at a token start, or (size_t)-1. */
static size_t find_enhanced(const char *s, size_t n, struct enh_tok *t)
{
    for (size_t i = 0; i < n; i++) {
        if (!token_start(s, i) || !(is_digit(s[i]) || s[i] == '#'))
            continue;
        if (enh_scan(s, n, i, t) && t->ok)
            return i;
    }
    return (size_t)-1;
}

/* ---- step 2: reply lines from physical lines ---- */

/* "Header-Name:" followed by a blank or the end of the line. */
static int is_header_line(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return 0;
    while (i < n
           && (s[i] == '-' || is_digit(s[i]) || (s[i] >= 'A' && s[i] <= 'Z')
               || (s[i] >= 'a' && s[i] <= 'z')))
        i++;
    return i < n && s[i] == ':' && (i + 1 == n || is_blank(s[i + 1]));
}

struct scan_ctx {
    const char *s; /* whole input */
    size_t n;
    size_t start;    /* position of the first line's code */
    int wrapped;     /* text before the code */
    int first_code;  /* 0 in the enhanced-only mode */
    const char *enh; /* first line's enhanced code (enhanced-only mode) */
};

/* Does physical line l (len bytes, leading blanks at l[0..ind)) start a new reply line? */
static int starts_line(const struct scan_ctx *c, const char *l, size_t len, size_t ind)
{
    if (c->first_code == 0) {
        struct enh_tok t;
        return enh_scan(l, len, ind, &t) && enh_equals(l, &t, c->enh);
    }
    int code = code_at(l, len, ind);
    if (code == 0)
        return 0;
    return ind == 0 || code == c->first_code;
}

/* Splits the input from c->start into reply lines (before flattening). */
static void collect_segments(const struct scan_ctx *c, struct strvec *out)
{
    struct strbuf cur;
    sb_init(&cur);
    size_t p = c->start;
    int have = 0;
    while (p < c->n) {
        size_t e = p;
        while (e < c->n && !is_eol(c->s[e]))
            e++;
        const char *l = c->s + p;
        size_t len = e - p;
        while (len > 0 && is_blank(l[len - 1]))
            len--;
        size_t ind = skip_blanks(l, len, 0);
        /* next physical line: CRLF, LF or a lone CR each end one line */
        p = e;
        if (p < c->n && c->s[p] == '\r')
            p++;
        if (p < c->n && c->s[p] == '\n' && (p == e || c->s[p - 1] == '\r'))
            p++;
        if (!have) {
            sb_putn(&cur, l, len);
            have = 1;
            continue;
        }
        if (ind == len) {
            if (c->wrapped)
                break;
            continue;
        }
        if (starts_line(c, l, len, ind)) {
            strvec_push(out, sb_steal(&cur));
            sb_putn(&cur, l + ind, len - ind);
        } else if (c->wrapped && ind == 0 && is_header_line(l, len)) {
            break;
        } else {
            sb_putc(&cur, ' ');
            sb_putn(&cur, l + ind, len - ind);
        }
    }
    if (cur.oom)
        out->oom = 1;
    strvec_push(out, sb_steal(&cur));
    sb_free(&cur);
}

/* ---- step 3: wrapper leftovers at the end ---- */

/* Wrapper openers before the code whose closers may end the text. */
struct openers {
    int squote, dquote; /* an odd number of ' or " */
    int angle, paren;   /* more "<" than ">", more "(" than ")" */
    int hash;           /* any "#" (Exchange's "#550 ... ##") */
};

static void find_openers(const char *s, size_t n, struct openers *o)
{
    size_t sq = 0, dq = 0, lt = 0, gt = 0, lp = 0, rp = 0, hash = 0;
    for (size_t i = 0; i < n; i++)
        switch (s[i]) {
        case '\'': sq++; break;
        case '"': dq++; break;
        case '<': lt++; break;
        case '>': gt++; break;
        case '(': lp++; break;
        case ')': rp++; break;
        case '#': hash++; break;
        default: break;
        }
    o->squote = sq % 2 == 1;
    o->dquote = dq % 2 == 1;
    o->angle = lt > gt;
    o->paren = lp > rp;
    o->hash = hash > 0;
}

/* Does s[0..n) hold more `close` than `open` characters? */
static int unbalanced(const char *s, size_t n, char open, char close)
{
    size_t o = 0, c = 0;
    for (size_t i = 0; i < n; i++)
        o += s[i] == open, c += s[i] == close;
    return c > o;
}

/*
 * Cuts wrapper leftovers from the end of the last line: white space,
 * "(in reply to ... )", and one closing quote, ">" or ")" (all "#"s) for
 * each opener left open before the code; ">" and ")" only when the line has
 * more of them than of "<" and "(".  Each pass removes something or stops.
 */
static void trim_wrapper_tail(const struct scan_ctx *c, char *last)
{
    struct openers o;
    find_openers(c->s, c->start, &o);
    size_t len = strlen(last);
    const size_t min = 3; /* never cut into the code itself */
    for (int changed = 1; changed;) {
        changed = 0;
        while (len > min && is_space(last[len - 1]))
            len--;
        if (len <= min)
            break;
        char ch = last[len - 1];
        size_t open = len - 1;
        if (ch == ')') {
            while (open > min && last[open] != '(')
                open--;
        }
        if (ch == ')' && last[open] == '(' && strncasecmp(last + open, "(in reply to ", 13) == 0) {
            len = open;
            changed = 1;
        } else if ((ch == '\'' && o.squote) || (ch == '"' && o.dquote)) {
            *(ch == '\'' ? &o.squote : &o.dquote) = 0;
            len--;
            changed = 1;
        } else if (ch == '>' && o.angle && unbalanced(last, len, '<', '>')) {
            o.angle = 0;
            len--;
            changed = 1;
        } else if (ch == ')' && o.paren && unbalanced(last, len, '(', ')')) {
            o.paren = 0;
            len--;
            changed = 1;
        } else if (ch == '#' && o.hash) {
            while (len > min && last[len - 1] == '#')
                len--;
            o.hash = 0;
            changed = 1;
        }
    }
    last[len] = '\0';
}

/* ---- steps 4 and 5: lines of the reply ---- */

struct pline {
    int code;    /* 0 in the enhanced-only mode */
    char marker; /* '-' or ' ' */
    char *text;
};

struct plist {
    struct pline *v;
    size_t n, cap;
    int oom;
};

static void plist_free(struct plist *pl)
{
    for (size_t i = 0; i < pl->n; i++)
        free(pl->v[i].text);
    free(pl->v);
    memset(pl, 0, sizeof *pl);
}

/* Appends a line with text s[a..b) trimmed of white space. */
static void plist_push(struct plist *pl, int code, char marker, const char *s, size_t a, size_t b)
{
    while (a < b && is_space(s[a]))
        a++;
    while (b > a && is_space(s[b - 1]))
        b--;
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 8;
        struct pline *v = realloc(pl->v, cap * sizeof *v);
        if (v == NULL) {
            pl->oom = 1;
            return;
        }
        pl->v = v;
        pl->cap = cap;
    }
    char *t = strndup(s + a, b - a);
    if (t == NULL) {
        pl->oom = 1;
        return;
    }
    pl->v[pl->n++] = (struct pline){.code = code, .marker = marker, .text = t};
}

struct first_info {
    int set;            /* the first line was read */
    struct enh_tok tok; /* its enhanced code (tok.ok) */
    char enh[24];       /* as written */
    int bad_token;      /* a dotted triple that is not usable */
    char bad[24];       /* the start of that token, for the message */
};

/*
 * Where the next flattened line starts inside s[from..n): white space, the
 * code, "-" or blank (or the end when no enhanced code is required), then
 * the enhanced code enh when it is not empty.  Returns n when there is none.
 */
static size_t flat_split_at(const char *s, size_t n, size_t from, int code, const char *enh)
{
    for (size_t k = from; k + 3 <= n; k++) {
        if (k == 0 || !is_blank(s[k - 1]) || code_at(s, n, k) != code)
            continue;
        if (k + 3 < n && s[k + 3] != '-' && !is_blank(s[k + 3]))
            continue;
        if (enh[0] == '\0')
            return k;
        if (k + 3 >= n)
            continue;
        struct enh_tok t;
        size_t p = skip_blanks(s, n, k + 4);
        if (enh_scan(s, n, p, &t) && enh_equals(s, &t, enh))
            return k;
    }
    return n;
}

/*
 * Next flattened line: preferably where the code recurs with the first
 * line's enhanced code; when it never does in the rest of the segment
 * ("550-5.7.1 a 550 b"), where the code recurs alone.  *no_enh remembers
 * that the first search failed, which keeps the whole split linear.
 */
static size_t find_flat_split(const char *s, size_t n, size_t from, int code, const char *enh,
                              int *no_enh)
{
    if (enh[0] != '\0' && !*no_enh) {
        size_t k = flat_split_at(s, n, from, code, enh);
        if (k < n)
            return k;
        *no_enh = 1;
    }
    return flat_split_at(s, n, from, code, "");
}

/* Reads one segment (a line starting with a code), splitting flattened lines. */
static void parse_segment(const char *s, struct first_info *fi, struct plist *out)
{
    size_t n = strlen(s), pos = 0;
    int no_enh = 0;
    while (pos < n) {
        const char *l = s + pos;
        size_t ln = n - pos;
        int code = code_at(l, ln, 0);
        char marker = (ln > 3 && l[3] == '-') ? '-' : ' ';
        size_t p = skip_blanks(l, ln, ln > 3 ? 4 : 3);
        struct enh_tok t;
        int has_tok = enh_scan(l, ln, p, &t);
        if (!fi->set) {
            fi->set = 1;
            if (has_tok && t.ok) {
                fi->tok = t;
                memcpy(fi->enh, l + t.start, t.len);
                fi->enh[t.len] = '\0';
                p = t.next;
            } else if (has_tok) {
                size_t bl = t.len < sizeof fi->bad - 1 ? t.len : sizeof fi->bad - 1;
                fi->bad_token = 1;
                memcpy(fi->bad, l + t.start, bl);
                fi->bad[bl] = '\0';
            }
        } else if (has_tok && fi->enh[0] != '\0' && enh_equals(l, &t, fi->enh)) {
            p = t.next;
        }
        size_t end = ln;
        if (marker == '-')
            end = find_flat_split(l, ln, p, code, fi->enh, &no_enh);
        plist_push(out, code, marker, l, p, end);
        pos += end;
        if (end == ln)
            break;
    }
}

/* Reads one segment in the enhanced-only mode: "5.1.1 text". */
static void parse_segment_enh(const char *s, struct first_info *fi, struct plist *out)
{
    size_t n = strlen(s);
    struct enh_tok t;
    size_t p = skip_blanks(s, n, 0);
    if (enh_scan(s, n, p, &t) && t.ok && (!fi->set || enh_equals(s, &t, fi->enh))) {
        if (!fi->set) {
            fi->tok = t;
            memcpy(fi->enh, s + t.start, t.len);
            fi->enh[t.len] = '\0';
        }
        p = t.next;
    }
    fi->set = 1;
    plist_push(out, 0, ' ', s, p, n);
}

/*
 * qmail and the software built on it (vpopmail, chkuser, spamdyke, ...)
 * write the enhanced code at the end of the text, "(#5.1.1)" or
 * "(#5.1.1 - chkuser)", instead of after the basic code.  When the first
 * line gave none, such a trailer on the last line, of the basic code's
 * class, is taken as the reply's enhanced code; the text keeps it.
 */
static void read_trailer_code(struct first_info *fi, const struct plist *pl, int code)
{
    if (fi->tok.ok || fi->bad_token || code == 0 || pl->n == 0)
        return;
    const char *l = pl->v[pl->n - 1].text, *open = NULL;
    for (const char *p = l; (p = strstr(p, "(#")) != NULL; p++)
        open = p;
    if (open == NULL)
        return;
    const char *close = strchr(open, ')');
    if (close == NULL || strspn(close + 1, " .") != strlen(close + 1))
        return;
    size_t n = strcspn(open + 1, " )");
    if (n >= sizeof fi->enh || (open[1 + n] == ' ' && strncmp(open + 1 + n, " - ", 3) != 0))
        return;
    char buf[sizeof fi->enh];
    memcpy(buf, open + 1, n);
    buf[n] = '\0';
    struct enh_tok t;
    if (!enh_scan(buf, n, 0, &t) || !t.ok || t.start + t.len != n || t.leading_zero
        || t.cls != code / 100)
        return;
    fi->tok = t;
    memcpy(fi->enh, buf + t.start, t.len);
    fi->enh[t.len] = '\0';
}

/* ---- diagnostics found while reading ---- */

static void check_lines(const struct plist *pl, struct diag_list *dl)
{
    if (pl->n == 0 || pl->v[0].code == 0)
        return;
    for (size_t i = 1; i < pl->n; i++)
        if (pl->v[i].code != pl->v[0].code) {
            diag_add(dl, "inconsistent-lines", DIAG_ERROR,
                     "line %zu has basic code %d but line 1 has %d; every line of a reply "
                     "must carry the same code",
                     i + 1, pl->v[i].code, pl->v[0].code);
            break;
        }
    for (size_t i = 0; i < pl->n; i++) {
        int last = i + 1 == pl->n;
        if (last && pl->v[i].marker == '-') {
            diag_add(dl, "bad-continuation", DIAG_WARNING,
                     "the last line (line %zu) starts with \"%d-\", which announces more lines; "
                     "the last line of a reply must use \"%d \"",
                     i + 1, pl->v[i].code, pl->v[i].code);
            break;
        }
        if (!last && pl->v[i].marker != '-') {
            diag_add(dl, "bad-continuation", DIAG_WARNING,
                     "line %zu starts with \"%d \" but is not the last line; every line but "
                     "the last must use \"%d-\"",
                     i + 1, pl->v[i].code, pl->v[i].code);
            break;
        }
    }
}

static void report_first(const struct first_info *fi, int code, struct diag_list *dl)
{
    if (fi->bad_token)
        diag_add(dl, "bad-enhanced-code", DIAG_ERROR,
                 "\"%s\" after basic code %d is not a valid enhanced code (class 2, 4 or 5, "
                 "then two numbers of 1 to 3 digits), so it was read as text",
                 fi->bad, code);
    if (fi->tok.ok && fi->tok.leading_zero)
        diag_add(dl, "leading-zero", DIAG_ERROR,
                 "enhanced code %s has a number with a leading zero, which RFC 3463 forbids; "
                 "write %d.%d.%d",
                 fi->enh, fi->tok.cls, fi->tok.subj, fi->tok.det);
    if (code == 0)
        diag_add(dl, "no-basic-code", DIAG_WARNING,
                 "no 3-digit basic reply code was found, only the enhanced code %s", fi->enh);
}

/* ---- public functions ---- */

void reply_init(struct reply *r)
{
    if (r != NULL)
        memset(r, 0, sizeof *r);
}

void reply_free(struct reply *r)
{
    if (r == NULL)
        return;
    if (r->lines != NULL)
        for (size_t i = 0; i < r->nlines; i++)
            free(r->lines[i]);
    free(r->lines);
    reply_init(r);
}

/* Moves the parsed lines into r. */
static int fill_reply(struct reply *r, int code, const struct first_info *fi, struct plist *pl)
{
    char **lines = malloc((pl->n ? pl->n : 1) * sizeof *lines);
    if (lines == NULL)
        return -1;
    for (size_t i = 0; i < pl->n; i++) {
        lines[i] = pl->v[i].text;
        pl->v[i].text = NULL;
    }
    r->code = code;
    r->has_enhanced = fi->tok.ok;
    if (fi->tok.ok) {
        r->eclass = fi->tok.cls;
        r->esubject = fi->tok.subj;
        r->edetail = fi->tok.det;
        snprintf(r->enhanced, sizeof r->enhanced, "%s", fi->enh);
    }
    r->lines = lines;
    r->nlines = pl->n;
    return 0;
}

static int unparseable(struct diag_list *dl, const char *why)
{
    diag_add(dl, "unparseable", DIAG_ERROR, "%s", why);
    return -1;
}

/*
 * Step 1: fills c->start, c->first_code, c->enh (in enh, 24 bytes) and
 * c->wrapped for the text in c->s.  Returns -1 when there is no code at all.
 */
static int locate_reply(struct scan_ctx *c, char *enh)
{
    struct enh_tok et;
    size_t at = find_basic(c->s, c->n);
    if (at != (size_t)-1) {
        c->start = at;
        c->first_code = code_at(c->s, c->n, at);
    } else if ((at = find_enhanced(c->s, c->n, &et)) != (size_t)-1) {
        size_t l = et.len < 23 ? et.len : 23;
        memcpy(enh, c->s + et.start, l);
        enh[l] = '\0';
        c->start = at;
        c->enh = enh;
    } else {
        return -1;
    }
    for (size_t i = 0; i < c->start && !c->wrapped; i++)
        if (!is_space(c->s[i]) && strchr("#'\"<(", c->s[i]) == NULL)
            c->wrapped = 1;
    return 0;
}

/* Steps 2 to 5: the lines of the reply located in c. */
static void read_lines(const struct scan_ctx *c, struct strvec *sl, struct first_info *fi,
                       struct plist *pl)
{
    collect_segments(c, sl);
    if (sl->oom || sl->n == 0)
        return;
    trim_wrapper_tail(c, sl->v[sl->n - 1]);
    for (size_t i = 0; i < sl->n && !pl->oom; i++) {
        if (c->first_code)
            parse_segment(sl->v[i], fi, pl);
        else
            parse_segment_enh(sl->v[i], fi, pl);
    }
}

int reply_parse(const char *text, struct reply *r, struct diag_list *dl)
{
    if (r == NULL)
        return unparseable(dl, "no reply structure was given to fill");
    reply_free(r);
    if (text == NULL)
        return unparseable(dl, "no reply text was given");
    struct scan_ctx c = {.s = text, .n = strlen(text)};
    char enh0[24] = "";
    if (locate_reply(&c, enh0) < 0)
        return unparseable(dl, "no SMTP reply code (a 3-digit code such as 550, or an enhanced "
                               "code such as 5.1.1) was found in the text");
    struct strvec sl = {0};
    struct plist pl = {0};
    struct first_info fi = {0};
    read_lines(&c, &sl, &fi, &pl);
    read_trailer_code(&fi, &pl, c.first_code);
    int rc = -1;
    if (!sl.oom && !pl.oom && pl.n > 0 && fill_reply(r, c.first_code, &fi, &pl) == 0) {
        report_first(&fi, c.first_code, dl);
        check_lines(&pl, dl);
        rc = 0;
    } else {
        unparseable(dl, "out of memory while reading the reply");
    }
    plist_free(&pl);
    strvec_free(&sl);
    return rc;
}

/* ---- reply_set ---- */

/* Parses a complete enhanced code "C.S.D" (leading zeros allowed) into r. */
static int set_enhanced(struct reply *r, const char *enhanced)
{
    size_t n = strlen(enhanced);
    size_t a = skip_blanks(enhanced, n, 0);
    while (n > a && is_space(enhanced[n - 1]))
        n--;
    if (a == n)
        return 0;
    struct enh_tok t;
    if (enhanced[a] == '#' || !enh_scan(enhanced, n, a, &t) || !t.ok || t.start + t.len != n)
        return -1;
    r->has_enhanced = 1;
    r->eclass = t.cls;
    r->esubject = t.subj;
    r->edetail = t.det;
    memcpy(r->enhanced, enhanced + t.start, t.len);
    r->enhanced[t.len] = '\0';
    return 0;
}

/* Splits text at "\n" (a "\r" before it is dropped, one final "\n" ends the
   last line) into a malloc'd array; returns the count or (size_t)-1. */
static size_t split_text(const char *text, char ***out)
{
    size_t n = 1;
    for (const char *p = text; *p; p++)
        if (*p == '\n' && p[1] != '\0')
            n++;
    char **v = calloc(n, sizeof *v);
    if (v == NULL)
        return (size_t)-1;
    const char *p = text;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(p, "\n");
        size_t keep = (len > 0 && p[len - 1] == '\r') ? len - 1 : len;
        v[i] = strndup(p, keep);
        if (v[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                free(v[j]);
            free(v);
            return (size_t)-1;
        }
        p += len + (p[len] == '\n');
    }
    *out = v;
    return n;
}

int reply_set(struct reply *r, int code, const char *enhanced, const char *text)
{
    if (r == NULL || code < 0 || code > 999)
        return -1;
    struct reply nr;
    reply_init(&nr);
    nr.code = code;
    if (enhanced != NULL && set_enhanced(&nr, enhanced) < 0)
        return -1;
    size_t n = split_text(text ? text : "", &nr.lines);
    if (n == (size_t)-1)
        return -1;
    nr.nlines = n;
    reply_free(r);
    *r = nr;
    return 0;
}

/* ---- reply_format ---- */

/* Appends text with CR and LF replaced by spaces, so that one line of the
   model can never become two lines on the wire. */
static void put_text(struct strbuf *sb, const char *t)
{
    for (; *t; t++)
        sb_putc(sb, is_eol(*t) ? ' ' : *t);
}

char *reply_format(const struct reply *r, const char *eol)
{
    if (r == NULL)
        return NULL;
    if (eol == NULL)
        eol = "\r\n";
    char enh[sizeof r->enhanced];
    size_t el = r->has_enhanced ? strnlen(r->enhanced, sizeof r->enhanced - 1) : 0;
    memcpy(enh, r->enhanced, el);
    enh[el] = '\0';
    int have_lines = r->lines != NULL && r->nlines > 0;
    size_t n = have_lines ? r->nlines : 1;
    struct strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, "");
    for (size_t i = 0; i < n; i++) {
        const char *t = (have_lines && r->lines[i] != NULL) ? r->lines[i] : "";
        const char *sep = ""; /* what goes before the next part */
        if (i > 0)
            sb_puts(&sb, eol);
        if (r->code != 0) {
            sb_printf(&sb, "%d", r->code);
            if (i + 1 < n)
                sb_putc(&sb, '-');
            else
                sep = " ";
        }
        if (el > 0) {
            sb_puts(&sb, sep);
            sb_puts(&sb, enh);
            sep = " ";
        }
        if (*t != '\0') {
            sb_puts(&sb, sep);
            put_text(&sb, t);
        }
    }
    return sb_steal(&sb);
}
