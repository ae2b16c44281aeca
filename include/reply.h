/*
 * reply.h - the SMTP reply model: parse any reply text a mail server, a
 * milter or a bounce message shows into basic code, enhanced code and text
 * lines; format it back to wire form; validate it against RFC 5321, RFC 3463,
 * the IANA registry and libmilter's limits; sanitize text for libmilter.
 *
 * struct reply always holds PLAIN text (what the SMTP client will read):
 * "%" is a literal percent sign here.  Escaping "%" as "%%" for libmilter is
 * done only by sanitize_milter_lines(), at the edge.
 */
#ifndef REWORD_REPLY_H
#define REWORD_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include "diag.h"

#define REPLY_MAX_LINES 32 /* smfi_setmlreply limit */
/* A reply line on the wire ("550-5.7.1 text") is at most 980 bytes: the
   brief's limit, and libmilter's (smfi_setreply) for the text alone.  The
   text gets what the longest code prefix, "550-5.123.123 ", leaves. */
#define REPLY_MAX_WIRE_LEN 980
#define REPLY_CODE_PREFIX_MAX 14
#define REPLY_MAX_LINE_LEN (REPLY_MAX_WIRE_LEN - REPLY_CODE_PREFIX_MAX) /* 966 bytes of text */
/* A rule's `url` goes out as its own line, after this prefix. */
#define REPLY_URL_PREFIX "More information: "

struct reply {
    int code;                      /* basic code 200..599, or 0 when none was found */
    int has_enhanced;              /* 1 when an enhanced code was found */
    int eclass, esubject, edetail; /* enhanced code parts (valid if has_enhanced) */
    char enhanced[24];             /* enhanced code as it was written, e.g. "5.7.1" */
    size_t nlines;                 /* number of text lines (>= 1 after a successful parse) */
    char **lines;                  /* text of each line without code and enhanced code;
                                may be "" */
};

/* Where a reply is (to be) used; selects which validation rules apply. */
enum reply_context {
    REPLY_CTX_ANY = 0,  /* an observed reply, stage unknown */
    REPLY_CTX_GREETING, /* 220 banner: no enhanced code expected */
    REPLY_CTX_HELO,     /* HELO/EHLO reply: no enhanced code expected */
    REPLY_CTX_MILTER    /* to be sent through smfi_setreply/smfi_setmlreply */
};

void reply_init(struct reply *r);
void reply_free(struct reply *r);

/*
 * Parses reply text.  Accepts: single line; multi-line joined by "\r\n" or
 * "\n" ("550-5.7.1 a\r\n550 5.7.1 b"); Postfix's one-line flattening
 * ("550-5.7.1 a 550-5.7.1 b 550 5.7.1 c"); a bare code ("550"); text without
 * enhanced code; extra white space; any case; common wrappers seen in bounces
 * ("smtp; 550 ...", "host x said: 550 ...", "Remote Server returned '550 ...'").
 * Returns 0 and fills r (which the caller frees), or -1 with a diagnostic
 * "unparseable" in dl (dl may be NULL).  Syntax problems that still allow a
 * reading are added to dl as diagnostics.
 */
int reply_parse(const char *text, struct reply *r, struct diag_list *dl);

/* Sets r from parts; text may contain "\n" to make several lines.  enhanced
   may be NULL.  Returns 0, or -1 on a malformed enhanced code / no memory. */
int reply_set(struct reply *r, int code, const char *enhanced, const char *text);

/*
 * Validates r by every rule of the project (ids: bad-basic-code,
 * unknown-basic-code, bad-enhanced-code, leading-zero, class-mismatch,
 * unregistered-code, deprecated-code, unusual-pairing, enhanced-on-3xx,
 * enhanced-on-greeting, no-enhanced-code, line-too-long, too-many-lines,
 * bare-percent, crlf-in-text, control-char, not-for-milter).
 */
void reply_validate(const struct reply *r, enum reply_context ctx, struct diag_list *dl);

/* Wire form: "550-5.7.1 a<eol>550 5.7.1 b".  eol is "\r\n" or "\n".
   Returns malloc'd string or NULL. */
char *reply_format(const struct reply *r, const char *eol);

/*
 * Sanitizes one piece of untrusted text (an address, a HELO name) for use in
 * a reply: CR, LF and other control characters become spaces (or "?" for
 * other non-printable bytes), the result is cut to maxlen bytes on a UTF-8
 * boundary.  Does NOT escape "%" (struct reply holds plain text).
 * Returns malloc'd string or NULL.
 */
char *sanitize_text(const char *in, size_t maxlen);
/* Length of the valid UTF-8 sequence at s (n bytes available, n >= 1), 0
   when the bytes at s do not form one (overlong, surrogate, > U+10FFFF,
   truncated); *cp gets the code point. */
size_t sanitize_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);
/* Length of s[0..n) as libmilter counts it: every "%" written twice. */
size_t sanitize_escaped_len(const char *s, size_t n);

/*
 * Makes r safe to hand to libmilter: sanitizes every line, splits lines whose
 * escaped form would exceed REPLY_MAX_LINE_LEN at a space where possible, and
 * cuts to REPLY_MAX_LINES lines (the last kept line ends with "..." when text
 * was dropped).  Returns 0, or -1 on no memory.
 */
int sanitize_reply(struct reply *r);

/*
 * The lines as libmilter wants them: "%" doubled.  Returns a NULL-terminated
 * malloc'd array of malloc'd strings (free with sanitize_free_lines), or NULL.
 */
char **sanitize_milter_lines(const struct reply *r);
void sanitize_free_lines(char **lines);

/* Class digit of a basic code (5 for 550), or 0. */
static inline int reply_code_class(int code)
{
    return code / 100;
}

#endif
