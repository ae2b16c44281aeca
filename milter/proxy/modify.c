/*
 * modify.c - relays one end-of-message modification request of an upstream
 * milter to the MTA through libmilter (smfi_addheader, smfi_replacebody,
 * ...).  Called by chain.c in the order the upstream sent them, so the MTA
 * applies them in that order too.
 *
 * A request the packet does not hold correctly, or that libmilter refuses
 * (an action the MTA was not asked for), is a protocol failure of that
 * upstream: its on_failure action applies rather than half a modification
 * being passed on silently.
 */
#include <stdio.h>
#include <string.h>

#include "modify.h"

/* libmilter wants char *; the packet data stays unchanged. */
#define W(p) ((char *)(p))

static int addrcpt_par(SMFICTX *ctx, const char *const *v, size_t n)
{
    if (n < 1 || n > 2)
        return -1;
    return smfi_addrcpt_par(ctx, W(v[0]), n == 2 && v[1][0] ? W(v[1]) : NULL);
}

static int chgfrom(SMFICTX *ctx, const char *const *v, size_t n)
{
    if (n < 1 || n > 2)
        return -1;
    return smfi_chgfrom(ctx, W(v[0]), n == 2 && v[1][0] ? W(v[1]) : NULL);
}

/* 'm' change header (an empty value deletes it) and 'i' insert header. */
static int indexed_header(SMFICTX *ctx, const struct mp_packet *p)
{
    uint32_t index;
    const char *name, *value;
    if (mp_parse_indexed_header(p, &index, &name, &value) < 0 || name[0] == '\0')
        return -1;
    if (p->cmd == MPR_INSHEADER)
        return smfi_insheader(ctx, (int)(index > 0x7fffffffu ? 0x7fffffffu : index), W(name),
                              W(value));
    return smfi_chgheader(ctx, W(name), (int)(index > 0x7fffffffu ? 0x7fffffffu : index),
                          value[0] ? W(value) : NULL);
}

int modify_is_request(unsigned char cmd)
{
    return strchr("hmib+2-eq", cmd) != NULL && cmd != '\0';
}

int modify_apply(SMFICTX *ctx, const struct mp_packet *p, char *err, size_t errlen)
{
    const char *v[3];
    size_t n = 0;
    int rc = -1;
    switch (p->cmd) {
    case MPR_REPLBODY:
        rc = p->len > 0 ? smfi_replacebody(ctx, (unsigned char *)p->data, (int)p->len) : MI_SUCCESS;
        break;
    case MPR_INSHEADER:
    case MPR_CHGHEADER: rc = indexed_header(ctx, p); break;
    case MPR_ADDHEADER:
        if (mp_parse_strings(p, v, 2, &n) == 0 && n == 2 && v[0][0])
            rc = smfi_addheader(ctx, W(v[0]), W(v[1]));
        break;
    case MPR_ADDRCPT:
        if (mp_parse_strings(p, v, 1, &n) == 0 && n == 1 && v[0][0])
            rc = smfi_addrcpt(ctx, W(v[0]));
        break;
    case MPR_ADDRCPT_PAR:
        if (mp_parse_strings(p, v, 2, &n) == 0 && n >= 1 && v[0][0])
            rc = addrcpt_par(ctx, v, n);
        break;
    case MPR_DELRCPT:
        if (mp_parse_strings(p, v, 1, &n) == 0 && n == 1 && v[0][0])
            rc = smfi_delrcpt(ctx, W(v[0]));
        break;
    case MPR_CHGFROM:
        if (mp_parse_strings(p, v, 2, &n) == 0 && n >= 1 && v[0][0])
            rc = chgfrom(ctx, v, n);
        break;
    case MPR_QUARANTINE:
        if (mp_parse_strings(p, v, 1, &n) == 0 && n == 1)
            rc = smfi_quarantine(ctx, W(v[0][0] ? v[0] : "quarantined by an upstream milter"));
        break;
    default: break;
    }
    if (rc != MI_SUCCESS)
        snprintf(err, errlen,
                 "%s request malformed, or refused by libmilter "
                 "(an action the MTA did not grant)",
                 mp_cmd_name(p->cmd));
    return rc == MI_SUCCESS ? 0 : -1;
}
