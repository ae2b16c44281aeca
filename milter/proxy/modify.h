/*
 * modify.h - relays an upstream's end-of-message modification requests to
 * the MTA through libmilter.
 */
#ifndef REWORD_PROXY_MODIFY_H
#define REWORD_PROXY_MODIFY_H

#include <stddef.h>
#include <libmilter/mfapi.h>

#include "milter_codec.h"

/* 1 for the reply bytes that request a modification (h m i b + 2 - e q). */
int modify_is_request(unsigned char cmd);
/* Applies p through libmilter; 0, or -1 with err set (malformed or refused). */
int modify_apply(SMFICTX *ctx, const struct mp_packet *p, char *err, size_t errlen);

#endif
