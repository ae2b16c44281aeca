/*
 * cidr.c - IPv4/IPv6 networks for `client` conditions (see cidr.h).
 * Pure functions on caller-owned memory; safe from any thread.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "rules/cidr.h"

#define ADDR_TEXT_MAX 64

static const unsigned char v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Reads an address into out (16 bytes); returns AF_INET / AF_INET6, or 0. */
static int read_addr(const char *text, unsigned char *out)
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, text, out) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, text, out) == 1)
        return AF_INET6;
    return 0;
}

static void clear_host_bits(unsigned char *addr, int prefix, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        int bit0 = i * 8;
        if (bit0 >= prefix)
            addr[i] = 0;
        else if (prefix - bit0 < 8)
            addr[i] &= (unsigned char)(0xff << (8 - (prefix - bit0)));
    }
}

int cidr_parse(const char *text, struct cidr *out)
{
    char buf[ADDR_TEXT_MAX];
    memset(out, 0, sizeof *out);
    if (text == NULL)
        return -1;
    size_t len = strlen(text);
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, text, len + 1);
    char *slash = strchr(buf, '/');
    int prefix = -1;
    if (slash) {
        *slash = '\0';
        const char *p = slash + 1;
        if (*p == '\0' || strlen(p) > 3)
            return -1;
        prefix = 0;
        for (; *p; p++) {
            if (!isdigit((unsigned char)*p))
                return -1;
            prefix = prefix * 10 + (*p - '0');
        }
    }
    unsigned char addr[16];
    int family = read_addr(buf, addr);
    if (family == 0)
        return -1;
    int max = family == AF_INET ? 32 : 128;
    if (prefix < 0)
        prefix = max;
    if (prefix > max)
        return -1;
    clear_host_bits(addr, prefix, family == AF_INET ? 4 : 16);
    out->family = family;
    memcpy(out->addr, addr, 16);
    out->prefix = prefix;
    return 0;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, int prefix)
{
    int full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, b, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

int cidr_match(const struct cidr *c, const char *addr_text)
{
    char buf[ADDR_TEXT_MAX];
    if (c == NULL || addr_text == NULL)
        return 0;
    const char *s = addr_text;
    size_t len = strlen(s);
    if (len > 0 && s[0] == '[' && s[len - 1] == ']') {
        s++;
        len -= 2;
    }
    if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
        s += 5;
        len -= 5;
    }
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *zone = strchr(buf, '%');
    if (zone)
        *zone = '\0';

    unsigned char addr[16];
    int family = read_addr(buf, addr);
    if (family == 0)
        return 0;
    if (family == c->family)
        return prefix_equal(addr, c->addr, c->prefix);
    if (c->family == AF_INET && family == AF_INET6) {
        /* ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1 */
        if (memcmp(addr, v4mapped_prefix, sizeof v4mapped_prefix) != 0)
            return 0;
        return prefix_equal(addr + 12, c->addr, c->prefix);
    }
    if (c->family == AF_INET6 && family == AF_INET) {
        unsigned char mapped[16];
        memcpy(mapped, v4mapped_prefix, sizeof v4mapped_prefix);
        memcpy(mapped + 12, addr, 4);
        return prefix_equal(mapped, c->addr, c->prefix);
    }
    return 0;
}
