/*
 * upstream.h - one connection from milter-reword to an upstream milter, in
 * the role of the MTA: open the socket, negotiate options, send packets,
 * read replies, all with the configured timeouts.  No libmilter, no SMTP
 * semantics (that is chain.c): a failure here only says "this upstream is
 * unusable" and why, for the log.
 */
#ifndef REWORD_PROXY_UPSTREAM_H
#define REWORD_PROXY_UPSTREAM_H

#include <stdint.h>

#include "milter_codec.h"
#include "rules.h"

enum upstream_state {
    UP_ACTIVE = 0, /* gets the events it negotiated */
    UP_DONE_MSG,   /* accepted the current message: no more events until the next MAIL */
    UP_DONE_CONN,  /* accepted the connection, or failed with on_failure = accept */
    UP_FAILED,     /* down, timed out or broke the protocol: on_failure applies */
};

struct upstream {
    const struct upstream_conf *conf; /* owned by the config the session holds */
    int fd;                           /* -1 when closed */
    enum upstream_state state;
    int skip_body;                    /* replied SKIP to a body chunk of this message */
    int in_msg;                       /* was sent MAIL of the current transaction */
    uint32_t version, actions, proto; /* what it negotiated */
    char *macros[MPM_COUNT];          /* macro lists it asked for (space-separated), or NULL */
    unsigned char *buf;               /* bytes read and not yet returned */
    size_t len, off, cap;
    char why[160]; /* the failure, for the log */
};

void upstream_init(struct upstream *u, const struct upstream_conf *c);
/* Connects (connect_timeout) and negotiates, offering `actions` and `proto`.
   0, or -1 with u->why set (the socket is closed). */
int upstream_open(struct upstream *u, uint32_t actions, uint32_t proto);
/* Writes one encoded packet (or several) whole, within the timeout.  0 or -1 (why set). */
int upstream_send(struct upstream *u, const struct strbuf *packets);
/* Reads the next packet, within the timeout; the packet stays valid until
   the next call.  0, or -1 with why set (EOF, timeout, oversized packet). */
int upstream_recv(struct upstream *u, struct mp_packet *p);
/* Marks u failed (why formatted like printf) and closes its socket. */
void upstream_fail(struct upstream *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends QUIT when still connected, closes and frees everything. */
void upstream_close(struct upstream *u);

#endif
