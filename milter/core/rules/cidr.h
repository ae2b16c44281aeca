/*
 * cidr.h - client address conditions: an IPv4 or IPv6 address or network
 * ("192.0.2.0/24", "2001:db8::/32", "192.0.2.7") and the test whether a
 * client address falls into it.  struct cidr is declared in rules.h.
 */
#ifndef REWORD_CIDR_H
#define REWORD_CIDR_H

#include "rules.h"

/*
 * Parses "ADDR" or "ADDR/PREFIX" (IPv4 dotted quad or IPv6 text form, no
 * brackets, no zone).  A bare address is a /32 or /128; host bits beyond
 * the prefix are cleared.  Returns 0, or -1 when the text is malformed
 * (out is then left zeroed).
 */
int cidr_parse(const char *text, struct cidr *out);

/*
 * 1 when the client address addr_text lies in c, 0 when it does not or
 * cannot be read.  addr_text may be "[192.0.2.1]", "IPv6:2001:db8::1" or
 * carry a "%zone"; an IPv4-mapped IPv6 address ("::ffff:192.0.2.1")
 * matches IPv4 networks and an IPv4 address matches "::ffff:0:0/96".
 */
int cidr_match(const struct cidr *c, const char *addr_text);

#endif
