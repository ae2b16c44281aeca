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
 *
 * The gate (second half) does the same for top-level alternations, whose
 * branches each have a literal but share none: a table of one piece per
 * branch, looked up at every position of the reply's text in one pass.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/prefilter.h"

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
            i = skip_class(re, i) - 1; /* the loop steps past the "]" */
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
            return 0; /* a literal "{" */
        n = j + 1 - i;
    }
    if (n && (re[i + n] == '?' || re[i + n] == '+'))
        n++;
    return n;
}

/* 0 when re's characters may not stand for themselves anywhere: "\\Q"
   quoting, or extended mode ("(?x)", also "(?ix)" and the like) in which
   whitespace means nothing. */
static int literals_readable(const char *re)
{
    if (strstr(re, "\\Q"))
        return 0;
    for (const char *p = strstr(re, "(?"); p; p = strstr(p + 2, "(?")) {
        size_t k = 2;
        while (p[k] && strchr("imnsJU-^", p[k]))
            k++;
        if (p[k] == 'x')
            return 0;
    }
    return 1;
}

size_t prefilter_literal(const char *re, int utf, char *out, size_t outlen)
{
    char run[PREFILTER_LITERAL_MAX] = "";
    size_t nrun = 0, best = 0;
    if (re == NULL || outlen == 0)
        return 0;
    out[0] = '\0';
    if (!literals_readable(re))
        return 0;
#define END_RUN()                                                                                  \
    do {                                                                                           \
        if (nrun > best) {                                                                         \
            memcpy(out, run, nrun);                                                                \
            best = nrun;                                                                           \
            out[best < outlen ? best : outlen - 1] = '\0';                                         \
        }                                                                                          \
        nrun = 0;                                                                                  \
    } while (0)
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
                END_RUN(); /* \d \s \b \1 \x.. \n ...: not one literal byte */
                i += 2;
                i = skip_escape_args(re, i, e);
                q = quantifier_len(re, i);
                i += q;
                continue;
            }
            literal = 1, lit = e;
            i += 2;
        } else if (c == '(') {
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
            END_RUN(); /* a quantifier with nothing before it */
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

/* ---- the gate (prefilter.h) ---- */

struct gate_piece {
    uint32_t key;
    uint32_t rule;
};
struct gate_slot {
    uint32_t key;
    uint32_t rule1;
}; /* rule1 = rule + 1, 0: empty */

struct prefilter_gate {
    size_t nrules, nwords, ngated;
    uint64_t *gated;           /* bitmap of gated rules */
    struct gate_piece *pieces; /* collected by add, consumed by finish */
    size_t npieces, cap;
    uint64_t seen[1024];     /* bit of hash16(key) for every piece: most
                                           positions of a text end at one test */
    struct gate_slot *table; /* open addressing, linear probing */
    size_t mask;
};

struct prefilter_gate *prefilter_gate_new(size_t nrules)
{
    struct prefilter_gate *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->nrules = nrules;
    g->nwords = (nrules + 63) / 64;
    g->gated = calloc(g->nwords ? g->nwords : 1, sizeof *g->gated);
    if (g->gated == NULL) {
        free(g);
        return NULL;
    }
    return g;
}

/* English letter frequency, most common first: a piece made of rarer
   letters occurs in fewer texts. */
static unsigned rarity(unsigned char c)
{
    static const char order[] = "etaoinshrdlcumwfgypbvkjxqz";
    const char *p = c >= 'a' && c <= 'z' ? strchr(order, c) : NULL;
    if (p)
        return (unsigned)(p - order) + 1;
    return c >= '0' && c <= '9' ? 12 : 0; /* space and punctuation: common */
}

/* The rarest window of 3 ASCII bytes of literal lit[0..n), folded and
   packed into *key (first byte highest); 1, or 0 when there is none. */
static int pick_piece(const char *lit, size_t n, uint32_t *key)
{
    long best = -1;
    size_t at = 0;
    for (size_t i = 0; i + 3 <= n; i++) {
        long score = 0;
        size_t k;
        for (k = 0; k < 3 && (unsigned char)lit[i + k] < 0x80; k++)
            score += rarity(fold((unsigned char)lit[i + k]));
        if (k == 3 && score > best)
            best = score, at = i;
    }
    if (best < 0)
        return 0;
    *key = (uint32_t)fold((unsigned char)lit[at]) << 16
           | (uint32_t)fold((unsigned char)lit[at + 1]) << 8 | fold((unsigned char)lit[at + 2]);
    return 1;
}

/* Splits re at its top-level "|" into at most max branches [b[k], e[k]);
   their count, 0 when re has none or more than max. */
static size_t split_branches(const char *re, size_t *b, size_t *e, size_t max)
{
    size_t n = 0, start = 0, i = 0;
    while (re[i]) {
        if (re[i] == '\\' && re[i + 1])
            i += 2;
        else if (re[i] == '[')
            i = skip_class(re, i);
        else if (re[i] == '(')
            i = skip_group(re, i);
        else if (re[i] == '|') {
            if (n == max)
                return 0;
            b[n] = start, e[n++] = i;
            start = ++i;
        } else
            i++;
    }
    if (n == 0 || n == max)
        return 0;
    b[n] = start, e[n++] = i;
    return n;
}

/* Fewer branches: one regex call costs less than the scan it would need
   (measured on the shipped packs); more: not gated (8 KiB of stack at most). */
enum { GATE_MIN_BRANCHES = 8, GATE_MAX_BRANCHES = 256 };

int prefilter_gate_add(struct prefilter_gate *g, size_t rule, const char *re)
{
    if (g == NULL || re == NULL || rule >= g->nrules || !literals_readable(re))
        return 0;
    size_t b[GATE_MAX_BRANCHES], e[GATE_MAX_BRANCHES];
    size_t nb = split_branches(re, b, e, GATE_MAX_BRANCHES);
    if (nb < GATE_MIN_BRANCHES)
        return 0;
    if (g->npieces + nb > g->cap) {
        size_t cap = g->cap ? g->cap : 256;
        while (cap < g->npieces + nb)
            cap *= 2;
        struct gate_piece *np = realloc(g->pieces, cap * sizeof *np);
        if (np == NULL)
            return -1;
        g->pieces = np, g->cap = cap;
    }
    size_t first = g->npieces;
    for (size_t k = 0; k < nb; k++) {
        char branch[1024], lit[PREFILTER_LITERAL_MAX + 1];
        size_t bl = e[k] - b[k];
        uint32_t key;
        if (bl >= sizeof branch)
            goto ungated;
        memcpy(branch, re + b[k], bl);
        branch[bl] = '\0';
        size_t ln = prefilter_literal(branch, 0, lit, sizeof lit);
        if (ln < 3 || !pick_piece(lit, ln, &key))
            goto ungated;
        g->pieces[g->npieces++] = (struct gate_piece){key, (uint32_t)rule};
    }
    g->gated[rule / 64] |= 1ull << (rule % 64);
    g->ngated++;
    return 1;
ungated:
    g->npieces = first;
    return 0;
}

static uint32_t hash_key(uint32_t key)
{
    return key * 2654435761u;
}

int prefilter_gate_finish(struct prefilter_gate *g)
{
    if (g == NULL)
        return -1;
    size_t size = 16;
    while (size < 2 * g->npieces)
        size *= 2;
    g->table = calloc(size, sizeof *g->table);
    if (g->table != NULL) {
        g->mask = size - 1;
        for (size_t i = 0; i < g->npieces; i++) {
            uint32_t key = g->pieces[i].key, h = hash_key(key);
            g->seen[h >> 26] |= 1ull << (h >> 20 & 63);
            size_t s = (h >> 8) & g->mask;
            while (g->table[s].rule1 != 0)
                s = (s + 1) & g->mask;
            g->table[s] = (struct gate_slot){key, g->pieces[i].rule + 1};
        }
    }
    free(g->pieces);
    g->pieces = NULL;
    g->npieces = g->cap = 0;
    return g->table ? 0 : -1;
}

void prefilter_gate_free(struct prefilter_gate *g)
{
    if (g == NULL)
        return;
    free(g->gated);
    free(g->pieces);
    free(g->table);
    free(g);
}

size_t prefilter_gate_words(const struct prefilter_gate *g)
{
    return g ? g->nwords : 0;
}

size_t prefilter_gate_count(const struct prefilter_gate *g)
{
    return g ? g->ngated : 0;
}

void prefilter_gate_scan(const struct prefilter_gate *g, const char *text, size_t n, uint64_t *cand)
{
    if (g == NULL || cand == NULL)
        return;
    memset(cand, 0, g->nwords * sizeof *cand);
    if (g->table == NULL || text == NULL)
        return;
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k = (k << 8 | fold((unsigned char)text[i])) & 0xffffffu;
        uint32_t h = hash_key(k);
        if (i < 2 || !(g->seen[h >> 26] >> (h >> 20 & 63) & 1))
            continue;
        for (size_t s = (h >> 8) & g->mask; g->table[s].rule1 != 0; s = (s + 1) & g->mask)
            if (g->table[s].key == k) {
                uint32_t r = g->table[s].rule1 - 1;
                cand[r / 64] |= 1ull << (r % 64);
            }
    }
}

const uint64_t *prefilter_gate_gated(const struct prefilter_gate *g)
{
    return g ? g->gated : NULL;
}
