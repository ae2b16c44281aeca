/*
 * prefilter.c - a cheap necessary condition for a text pattern, checked
 * before the regex engine runs (see prefilter.h).
 *
 * With hundreds of rules (the shipped packs), most of the time per reply
 * went into PCRE2 calls that fail.  Nearly every rule's pattern contains a
 * literal run that every match must contain ("Recipient address rejected").
 * A pattern's signature is the set of its literal's byte pairs, hashed into
 * 256 bits; a subject's signature the same of all its byte pairs, computed
 * once per reply.  A pattern can only match when every bit of its signature
 * is in the subject's: one AND per rule instead of one regex call.
 *
 * The literal is found conservatively: only at the top level of the
 * pattern (outside groups and classes), ended by anything that is not a
 * plain character (escapes of letters, ".", anchors, groups, classes) and
 * shortened by a quantifier on its last character; a top-level "|", "\Q",
 * or extended mode ((?x)) gives no literal at all.  Letters are compared
 * without case (ASCII), which is a superset of both case-sensitive and
 * caseless matching; under UTF mode, where caseless "k" and "s" also match
 * non-ASCII letters (U+212A, U+017F), those letters and every non-ASCII
 * byte end the literal.
 */
#include <string.h>

#include "prefilter.h"

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static unsigned pair_bit(unsigned char a, unsigned char b)
{
    return ((unsigned)fold(a) * 31u + (unsigned)fold(b)) & 255u;
}

void prefilter_sig_of(const char *s, size_t n, struct prefilter_sig *sig)
{
    memset(sig, 0, sizeof *sig);
    for (size_t i = 1; i < n; i++) {
        unsigned bit = pair_bit((unsigned char)s[i - 1], (unsigned char)s[i]);
        sig->w[bit >> 6] |= 1ull << (bit & 63);
    }
}

/* Index just past the class that starts at re[i] == '[' ("[]a]", "[^]a]",
   escapes and "[:alpha:]" inside; strlen when it is not closed). */
static size_t skip_class(const char *re, size_t i)
{
    size_t j = i + 1;
    if (re[j] == '^')
        j++;
    if (re[j] == ']')
        j++;
    for (; re[j] && re[j] != ']'; j++) {
        if (re[j] == '\\' && re[j + 1])
            j++;
        else if (re[j] == '[' && re[j + 1] == ':') {
            const char *e = strstr(re + j + 2, ":]");
            if (e)
                j = (size_t)(e - re) + 1;
        }
    }
    return re[j] ? j + 1 : j;
}

/* Index just past the group that starts at re[i] == '(' (or strlen). */
static size_t skip_group(const char *re, size_t i)
{
    int depth = 0;
    for (; re[i]; i++) {
        if (re[i] == '\\' && re[i + 1]) {
            i++;
        } else if (re[i] == '[') {
            i = skip_class(re, i) - 1;      /* the loop steps past the "]" */
        } else if (re[i] == '(') {
            depth++;
        } else if (re[i] == ')') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return i;
}

/* Index past the arguments of escape \e whose letter ended at re[i]:
   \x{..} \xhh, \o{..}, \N{..}, \p{..} \pL, \g{..} \g<..> \gN, \k<..>,
   \cX, the digits of \1 or \012. */
static size_t skip_escape_args(const char *re, size_t i, unsigned char e)
{
    if (re[i] == '{' && strchr("xoNpPgk", e)) {
        const char *end = strchr(re + i, '}');
        return end ? (size_t)(end - re) + 1 : i;
    }
    if ((re[i] == '<' || re[i] == '\'') && (e == 'g' || e == 'k')) {
        const char *end = strchr(re + i + 1, re[i] == '<' ? '>' : '\'');
        return end ? (size_t)(end - re) + 1 : i;
    }
    if (e == 'x') {
        for (int n = 0; n < 2 && re[i] && strchr("0123456789abcdefABCDEF", re[i]); n++)
            i++;
    } else if ((e == 'p' || e == 'P' || e == 'c') && re[i]) {
        i++;
    } else if ((e >= '0' && e <= '9') || e == 'g') {
        while (re[i] >= '0' && re[i] <= '9')
            i++;
    }
    return i;
}

/* Length of a quantifier at re[i] ("?", "*", "+", "{n}", "{n,}", "{n,m}",
   each with an optional "?" or "+"), 0 when there is none. */
static size_t quantifier_len(const char *re, size_t i)
{
    size_t n = 0;
    if (re[i] == '?' || re[i] == '*' || re[i] == '+')
        n = 1;
    else if (re[i] == '{') {
        size_t j = i + 1, digits = 0;
        while (re[j] >= '0' && re[j] <= '9')
            j++, digits++;
        if (re[j] == ',') {
            j++;
            while (re[j] >= '0' && re[j] <= '9')
                j++;
        }
        if (digits == 0 || re[j] != '}')
            return 0;               /* a literal "{" */
        n = j + 1 - i;
    }
    if (n && (re[i + n] == '?' || re[i + n] == '+'))
        n++;
    return n;
}

size_t prefilter_literal(const char *re, int utf, char *out, size_t outlen)
{
    char run[PREFILTER_LITERAL_MAX];
    size_t nrun = 0, best = 0;
    if (re == NULL || outlen == 0)
        return 0;
    out[0] = '\0';
    if (strstr(re, "\\Q"))
        return 0;
    for (const char *p = strstr(re, "(?"); p; p = strstr(p + 2, "(?")) {
        size_t k = 2;
        while (p[k] && strchr("imnsxJU-^", p[k]) && p[k] != 'x')
            k++;
        if (p[k] == 'x')
            return 0;               /* extended mode: whitespace means nothing */
    }
#define END_RUN() do { if (nrun > best) { memcpy(out, run, nrun); best = nrun; \
                         out[best < outlen ? best : outlen - 1] = '\0'; } nrun = 0; } while (0)
    for (size_t i = 0; re[i];) {
        unsigned char c = (unsigned char)re[i];
        size_t atom_start = nrun, q;
        int literal = 0;
        unsigned char lit = 0;
        if (c == '|')
            return out[0] = '\0', 0;
        if (c == '\\') {
            unsigned char e = (unsigned char)re[i + 1];
            if (e == '\0')
                break;
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                END_RUN();          /* \d \s \b \1 \x.. \n ...: not one literal byte */
                i += 2;
                i = skip_escape_args(re, i, e);
                q = quantifier_len(re, i);
                i += q;
                continue;
            }
            literal = 1, lit = e;
            i += 2;
        } else if (c == '(' ) {
            END_RUN();
            i = skip_group(re, i);
            i += quantifier_len(re, i);
            continue;
        } else if (c == '[') {
            END_RUN();
            i = skip_class(re, i);
            i += quantifier_len(re, i);
            continue;
        } else if (c == '.' || c == '^' || c == '$' || c == ')') {
            END_RUN();
            i++;
            i += quantifier_len(re, i);
            continue;
        } else if ((q = quantifier_len(re, i)) > 0) {
            END_RUN();              /* a quantifier with nothing before it */
            i += q;
            continue;
        } else {
            literal = 1, lit = c;
            i++;
        }
        if (literal && utf && (lit >= 0x80 || fold(lit) == 'k' || fold(lit) == 's')) {
            END_RUN();
            i += quantifier_len(re, i);
            continue;
        }
        q = quantifier_len(re, i);
        if (q) {
            /* the atom is optional or repeated: the run before it stays */
            nrun = atom_start;
            END_RUN();
            i += q;
            continue;
        }
        if (nrun < sizeof run)
            run[nrun++] = (char)lit;
        else
            END_RUN();
    }
    END_RUN();
#undef END_RUN
    return best < outlen ? best : outlen - 1;
}

int prefilter_pattern_sig(const char *re, int utf, struct prefilter_sig *sig)
{
    char lit[PREFILTER_LITERAL_MAX + 1];
    size_t n = prefilter_literal(re, utf, lit, sizeof lit);
    if (n < PREFILTER_LITERAL_MIN) {
        memset(sig, 0, sizeof *sig);
        return 0;
    }
    prefilter_sig_of(lit, n, sig);
    return 1;
}
