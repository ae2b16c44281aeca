/*
 * taxonomy.h - the SMTP reply code taxonomy milter-reword explains and checks
 * against: the IANA enhanced status code registry (RFC 3463, RFC 5248), its
 * classes and subjects, and the basic reply codes (RFC 5321 sec. 4.2.3 and
 * extensions).  Facts come from the registry; every "explanation" is this
 * project's own text, written for the person whose mail bounced.
 *
 * The table is generated at build time from conf/taxonomy/{enhanced,basic,
 * groups}.tsv (see tools/gen-taxonomy.awk); this module only looks things up.
 * All returned pointers refer to static, read-only data.
 */
#ifndef REWORD_TAXONOMY_H
#define REWORD_TAXONOMY_H

#include <stddef.h>

/* One enhanced status code, written with "X" for the class ("X.1.1"). */
struct tax_enhanced {
    const char *code;        /* "X.1.1" */
    int subject;             /* 1 */
    int detail;              /* 1 */
    const char *sample_text; /* registry's sample text, may be "" */
    const char *assoc;       /* registry's associated basic codes, ";"-separated:
                                  "451;550", "Any", "4XX;5XX", or "" (none given) */
    const char *reference;   /* "RFC3463", ";"-separated */
    int deprecated;          /* 1 for X.6.10 */
    const char *explanation; /* project's friendly text, class-neutral */
};

/* One basic reply code (RFC 5321 and extensions). */
struct tax_basic {
    int code;                /* 550 */
    const char *meaning;     /* the RFC's wording */
    const char *reference;   /* "RFC5321" */
    const char *explanation; /* project's friendly text */
};

/* A class ("5") or subject ("1") of enhanced codes. */
struct tax_group {
    int number;              /* class 2/4/5, or subject 0..7 */
    const char *summary;     /* registry's name, "Permanent Failure" */
    const char *explanation; /* project's friendly text */
};

size_t tax_enhanced_count(void);
const struct tax_enhanced *tax_enhanced_at(size_t i);
size_t tax_basic_count(void);
const struct tax_basic *tax_basic_at(size_t i);
size_t tax_class_count(void);
const struct tax_group *tax_class_at(size_t i);
size_t tax_subject_count(void);
const struct tax_group *tax_subject_at(size_t i);

/* Lookups; NULL when the registry has no such entry. */
const struct tax_enhanced *tax_enhanced_find(int subject, int detail);
const struct tax_basic *tax_basic_find(int code);
const struct tax_group *tax_class_find(int cls);
const struct tax_group *tax_subject_find(int subject);

/* How the registry pairs a basic code with an enhanced code. */
enum tax_pairing {
    TAX_PAIR_LISTED,     /* basic code is in the list (or matches Any / 5XX) */
    TAX_PAIR_UNUSUAL,    /* the registry lists other basic codes */
    TAX_PAIR_UNSPECIFIED /* the registry gives no list for this code */
};
enum tax_pairing tax_pairing(const struct tax_enhanced *e, int basic_code);

/* Writes the registry's list for e as "451, 550" (or "any code") into buf. */
void tax_assoc_describe(const struct tax_enhanced *e, char *buf, size_t len);

/* Highest registered detail number for a subject, or -1 for an unknown subject. */
int tax_max_detail(int subject);

#endif
