/*
 * milter_proto.h - wire values of the milter protocol, version 6, as seen
 * by the MTA side of a connection (proxy mode talks to upstream milters as
 * an MTA would).  Defined here rather than taken from libmilter's mfdef.h
 * so that the core library does not depend on libmilter; the values are
 * those of the milter protocol (version 6), and
 * tests/unit/test_milter_codec.c checks them against libmilter-dev's
 * mfdef.h (SMFIC_*, SMFIR_*, SMFIP_*) and mfapi.h (SMFIF_*, SMFIM_*).
 */
#ifndef REWORD_MILTER_PROTO_H
#define REWORD_MILTER_PROTO_H

#define MP_VERSION 6u

/* Commands: MTA -> milter. */
#define MPC_ABORT 'A'
#define MPC_BODY 'B'
#define MPC_CONNECT 'C'
#define MPC_MACRO 'D'
#define MPC_BODYEOB 'E'
#define MPC_HELO 'H'
#define MPC_QUIT_NC 'K'
#define MPC_HEADER 'L'
#define MPC_MAIL 'M'
#define MPC_EOH 'N'
#define MPC_OPTNEG 'O'
#define MPC_QUIT 'Q'
#define MPC_RCPT 'R'
#define MPC_DATA 'T'
#define MPC_UNKNOWN 'U'

/* Replies and modification requests: milter -> MTA. */
#define MPR_ADDRCPT '+'
#define MPR_DELRCPT '-'
#define MPR_ADDRCPT_PAR '2'
#define MPR_SHUTDOWN '4'
#define MPR_ACCEPT 'a'
#define MPR_REPLBODY 'b'
#define MPR_CONTINUE 'c'
#define MPR_DISCARD 'd'
#define MPR_CHGFROM 'e'
#define MPR_CONN_FAIL 'f'
#define MPR_ADDHEADER 'h'
#define MPR_INSHEADER 'i'
#define MPR_SETSYMLIST 'l'
#define MPR_CHGHEADER 'm'
#define MPR_PROGRESS 'p'
#define MPR_QUARANTINE 'q'
#define MPR_REJECT 'r'
#define MPR_SKIP 's'
#define MPR_TEMPFAIL 't'
#define MPR_REPLYCODE 'y'
#define MPR_OPTNEG 'O'

/* Actions (SMFIF_*): what a milter may change at end of message. */
#define MPF_ADDHDRS 0x001u
#define MPF_CHGBODY 0x002u
#define MPF_ADDRCPT 0x004u
#define MPF_DELRCPT 0x008u
#define MPF_CHGHDRS 0x010u
#define MPF_QUARANTINE 0x020u
#define MPF_CHGFROM 0x040u
#define MPF_ADDRCPT_PAR 0x080u
#define MPF_SETSYMLIST 0x100u
#define MPF_ALL 0x1ffu

/* Protocol steps (SMFIP_*). */
#define MPP_NOCONNECT 0x000001u
#define MPP_NOHELO 0x000002u
#define MPP_NOMAIL 0x000004u
#define MPP_NORCPT 0x000008u
#define MPP_NOBODY 0x000010u
#define MPP_NOHDRS 0x000020u
#define MPP_NOEOH 0x000040u
#define MPP_NR_HDR 0x000080u
#define MPP_NOUNKNOWN 0x000100u
#define MPP_NODATA 0x000200u
#define MPP_SKIP 0x000400u
#define MPP_RCPT_REJ 0x000800u
#define MPP_NR_CONN 0x001000u
#define MPP_NR_HELO 0x002000u
#define MPP_NR_MAIL 0x004000u
#define MPP_NR_RCPT 0x008000u
#define MPP_NR_DATA 0x010000u
#define MPP_NR_UNKN 0x020000u
#define MPP_NR_EOH 0x040000u
#define MPP_NR_BODY 0x080000u
#define MPP_HDR_LEADSPC 0x100000u
#define MPP_ALL 0x1fffffu

/* Macro stages in an option negotiation reply (SMFIM_*). */
enum mp_macro_stage {
    MPM_CONNECT = 0,
    MPM_HELO,
    MPM_ENVFROM,
    MPM_ENVRCPT,
    MPM_DATA,
    MPM_EOM,
    MPM_EOH,
    MPM_COUNT
};

#endif
