/*
 * milter_codec.h - encoding and decoding of milter protocol packets, for
 * proxy mode, where milter-reword is the MTA-side client of its upstream
 * milters.  Pure functions on byte buffers: no sockets, no libmilter, no
 * session state (that lives in milter/proxy/), so every packet type can be
 * unit-tested and fuzzed on its own.
 *
 * A packet on the wire: uint32 length in network order (= 1 + data length),
 * one command byte, the data.  Strings in the data are NUL-terminated.
 * Decoded packets point into the caller's buffer; nothing is allocated
 * from a length read off the wire.
 */
#ifndef REWORD_MILTER_CODEC_H
#define REWORD_MILTER_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "milter_proto.h"
#include "strbuf.h"

/* Largest packet data accepted or sent (the part after the command byte).
   libmilter sends body chunks of at most 64 KiB and accepts 1 MiB only
   after negotiating it; anything larger is a protocol error. */
#define MP_MAX_DATA (1024u * 1024u)
#define MP_HEADER_LEN 5u /* length + command byte */

struct mp_packet {
    unsigned char cmd;
    const unsigned char *data; /* into the caller's buffer */
    size_t len;
};

enum mp_status { MP_BAD = -1, MP_MORE = 0, MP_OK = 1 };

/*
 * Decodes the packet at the start of buf[0..avail).
 *  MP_OK:   *p filled, *used = bytes the whole packet takes (header + data);
 *  MP_MORE: incomplete; *used = bytes needed in all to finish it (5 while
 *           the 4-byte length is incomplete, then 5 + data length), always
 *           more than avail;
 *  MP_BAD:  length 0 (no command byte) or data longer than max (max is
 *           capped at MP_MAX_DATA): the stream cannot be trusted further.
 *           Also for a NULL p or used, or a NULL buf with avail > 0.
 */
enum mp_status mp_decode(const unsigned char *buf, size_t avail, size_t max, struct mp_packet *p,
                         size_t *used);

/* Encoders: each appends one whole packet to sb.  0, or -1 when the data
   would exceed MP_MAX_DATA or sb ran out of memory (sb->oom). */
int mp_put(struct strbuf *sb, unsigned char cmd, const void *data, size_t len);
int mp_put_optneg(struct strbuf *sb, uint32_t version, uint32_t actions, uint32_t proto);
/* 'D': the stage's command byte, then name\0value\0 for each pair whose
   value is not NULL.  Names go as given ("i", "{auth_type}"). */
int mp_put_macros(struct strbuf *sb, unsigned char stage_cmd, const char *const *names,
                  const char *const *values, size_t n);
/* 'C': host\0, family, then for '4', '6' and 'L' a port (network order;
   0 for 'L') and addr\0; for 'U' (unknown) nothing more. */
int mp_put_connect(struct strbuf *sb, const char *host, char family, uint16_t port,
                   const char *addr);
/* A packet made of NUL-terminated strings: HELO and UNKNOWN (one), MAIL and
   RCPT (the argument vector), HEADER (name, value), the modification
   requests in tests. */
int mp_put_strings(struct strbuf *sb, unsigned char cmd, const char *const *v, size_t n);
/* 'm' (change header) and 'i' (insert header): uint32 index, name\0, value\0. */
int mp_put_indexed_header(struct strbuf *sb, unsigned char cmd, uint32_t index, const char *name,
                          const char *value);

/* Option negotiation packet (either direction): three uint32, then, in a
   milter's reply, optional pairs of uint32 macro stage and a NUL-terminated
   space-separated macro list. */
struct mp_optneg {
    uint32_t version, actions, proto;
    const char *macros[MPM_COUNT]; /* into the packet; NULL when not given */
};
/* 0, or -1 when shorter than 12 bytes, a stage is out of range or given
   twice, or a list is not NUL-terminated. */
int mp_parse_optneg(const struct mp_packet *p, struct mp_optneg *o);

/* Splits data made only of NUL-terminated strings into v[0..*n).  Empty
   data gives *n = 0.  -1 when the data does not end in NUL or holds more
   than max strings. */
int mp_parse_strings(const struct mp_packet *p, const char **v, size_t max, size_t *n);
/* 'm' and 'i'.  -1 unless the data is exactly index, name\0, value\0. */
int mp_parse_indexed_header(const struct mp_packet *p, uint32_t *index, const char **name,
                            const char **value);

/* 'C' as sent by an MTA (for tests and the fuzz target). */
struct mp_connect {
    const char *host;
    char family;      /* '4', '6', 'L' or 'U' */
    uint16_t port;    /* host order */
    const char *addr; /* NULL for 'U' */
};
/* -1 when the host or address is not NUL-terminated, the family is not one
   of the four, data is left over, or a '4'/'6' address does not parse
   (inet_pton). */
int mp_parse_connect(const struct mp_packet *p, struct mp_connect *c);

/* A printable name of a command or reply byte, e.g. "replycode", "eom";
   "?" when unknown.  For logs. */
const char *mp_cmd_name(unsigned char cmd);

#endif
