/*
 * upstream.c - the socket side of one upstream milter connection.
 *
 * Every wait is bounded: connect by connect_timeout, each read and write by
 * timeout (a PROGRESS reply restarts it, see chain.c).  A packet longer than
 * MP_MAX_DATA is refused before anything is allocated for it.  TCP sockets
 * get TCP_NODELAY and every packet is written whole: small milter packets
 * otherwise wait for delayed ACKs (about 40 ms per round trip, Nagle's
 * algorithm against the peer's delayed ACK).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "upstream.h"

void upstream_init(struct upstream *u, const struct upstream_conf *c)
{
    memset(u, 0, sizeof *u);
    u->conf = c;
    u->fd = -1;
}

void upstream_fail(struct upstream *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->why, sizeof u->why, fmt, ap);
    va_end(ap);
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    u->state = UP_FAILED;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd until deadline; 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* Parses "unix:/p", "local:/p", "inet:PORT@HOST", "inet6:PORT@HOST" into a
   resolved address list (numeric hosts or /etc/hosts; no DNS wait). */
static int resolve(const char *spec, struct sockaddr_un *sun, struct addrinfo **ai)
{
    *ai = NULL;
    const char *colon = strchr(spec, ':');
    if (colon == NULL)
        return -1;
    size_t kind = (size_t)(colon - spec);
    if ((kind == 4 && strncmp(spec, "unix", 4) == 0)
        || (kind == 5 && strncmp(spec, "local", 5) == 0)) {
        memset(sun, 0, sizeof *sun);
        sun->sun_family = AF_UNIX;
        if (strlen(colon + 1) >= sizeof sun->sun_path)
            return -1;
        strcpy(sun->sun_path, colon + 1);
        return 0;
    }
    const char *at = strchr(colon + 1, '@');
    if (at == NULL || at == colon + 1)
        return -1;
    char port[8];
    size_t plen = (size_t)(at - colon - 1);
    if (plen >= sizeof port)
        return -1;
    memcpy(port, colon + 1, plen);
    port[plen] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    hints.ai_family = (kind == 5 && strncmp(spec, "inet6", 5) == 0) ? AF_INET6 : AF_INET;
    return getaddrinfo(at + 1, port, &hints, ai) == 0 ? 0 : -1;
}

/* Non-blocking connect bounded by deadline; the fd stays non-blocking. */
static int connect_bounded(int fd, const struct sockaddr *sa, socklen_t len, long long deadline)
{
    if (connect(fd, sa, len) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -1;
    int rc = wait_fd(fd, POLLOUT, deadline);
    if (rc <= 0) {
        errno = rc == 0 ? ETIMEDOUT : errno;
        return -1;
    }
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
        errno = err ? err : errno;
        return -1;
    }
    return 0;
}

static int connect_socket(struct upstream *u)
{
    struct sockaddr_un sun = {0};
    struct addrinfo *ai = NULL;
    if (resolve(u->conf->socket, &sun, &ai) < 0) {
        upstream_fail(u, "cannot resolve socket %s", u->conf->socket);
        return -1;
    }
    const struct sockaddr *sa = ai ? ai->ai_addr : (const struct sockaddr *)&sun;
    socklen_t salen = ai ? ai->ai_addrlen : (socklen_t)sizeof sun;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc =
        fd < 0 ? -1 : connect_bounded(fd, sa, salen, now_ms() + 1000LL * u->conf->connect_timeout);
    int saved = errno;
    if (rc == 0 && sa->sa_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (ai)
        freeaddrinfo(ai);
    if (rc < 0) {
        if (fd >= 0)
            close(fd);
        upstream_fail(u, "cannot connect to %s: %s", u->conf->socket, strerror(saved));
        return -1;
    }
    u->fd = fd;
    return 0;
}

int upstream_send(struct upstream *u, const struct strbuf *packets)
{
    if (u->fd < 0)
        return -1;
    long long deadline = now_ms() + 1000LL * u->conf->timeout;
    size_t done = 0;
    while (done < packets->len) {
        ssize_t n = send(u->fd, packets->s + done, packets->len - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(u->fd, POLLOUT, deadline);
            if (rc > 0)
                continue;
            if (rc == 0)
                upstream_fail(u, "write timed out after %d s", u->conf->timeout);
            else
                upstream_fail(u, "write failed: %s", strerror(errno));
            return -1;
        }
        upstream_fail(u, "write failed: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Makes room for `need` bytes from u->off on. */
static int ensure(struct upstream *u, size_t need)
{
    if (u->off > 0 && u->off == u->len)
        u->off = u->len = 0;
    if (u->off + need <= u->cap)
        return 0;
    if (u->off > 0) {
        memmove(u->buf, u->buf + u->off, u->len - u->off);
        u->len -= u->off;
        u->off = 0;
    }
    if (need <= u->cap)
        return 0;
    size_t ncap = u->cap ? u->cap : 4096;
    while (ncap < need)
        ncap *= 2;
    unsigned char *nb = realloc(u->buf, ncap);
    if (nb == NULL)
        return -1;
    u->buf = nb;
    u->cap = ncap;
    return 0;
}

int upstream_recv(struct upstream *u, struct mp_packet *p)
{
    if (u->fd < 0)
        return -1;
    long long deadline = now_ms() + 1000LL * u->conf->timeout;
    for (;;) {
        size_t used = 0;
        enum mp_status st = mp_decode(u->buf + u->off, u->len - u->off, MP_MAX_DATA, p, &used);
        if (st == MP_OK) {
            u->off += used;
            return 0;
        }
        if (st == MP_BAD) {
            upstream_fail(u, "protocol error: packet length out of range");
            return -1;
        }
        if (ensure(u, used) < 0) {
            upstream_fail(u, "no memory for a %zu-byte packet", used);
            return -1;
        }
        ssize_t n = recv(u->fd, u->buf + u->len, u->cap - u->len, 0);
        if (n > 0) {
            u->len += (size_t)n;
            continue;
        }
        if (n == 0) {
            upstream_fail(u, "connection closed by the upstream");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_fd(u->fd, POLLIN, deadline);
            if (rc > 0)
                continue;
            if (rc == 0)
                upstream_fail(u, "no reply within %d s", u->conf->timeout);
            else
                upstream_fail(u, "read failed: %s", strerror(errno));
            return -1;
        }
        upstream_fail(u, "read failed: %s", strerror(errno));
        return -1;
    }
}

static int keep_macros(struct upstream *u, const struct mp_optneg *o)
{
    for (int i = 0; i < MPM_COUNT; i++) {
        if (o->macros[i] == NULL)
            continue;
        u->macros[i] = strdup(o->macros[i]);
        if (u->macros[i] == NULL)
            return -1;
    }
    return 0;
}

int upstream_open(struct upstream *u, uint32_t actions, uint32_t proto)
{
    if (connect_socket(u) < 0)
        return -1;
    struct strbuf sb;
    sb_init(&sb);
    int rc = mp_put_optneg(&sb, MP_VERSION, actions, proto);
    if (rc == 0)
        rc = upstream_send(u, &sb);
    sb_free(&sb);
    if (rc < 0)
        return -1;
    struct mp_packet p;
    if (upstream_recv(u, &p) < 0)
        return -1;
    struct mp_optneg o;
    if (p.cmd != MPR_OPTNEG || mp_parse_optneg(&p, &o) < 0) {
        upstream_fail(u, "protocol error: expected an option negotiation reply, got %s",
                      mp_cmd_name(p.cmd));
        return -1;
    }
    /* libmilter's own MTA side refuses a milter that asks for more than
       was offered; so do we (it could not be honoured anyway). */
    if (o.version < 2 || o.version > MP_VERSION || (o.actions & ~actions)
        || (o.proto & ~proto & MPP_ALL)) {
        upstream_fail(u,
                      "negotiation refused: version %u, actions 0x%x, protocol 0x%x "
                      "exceed the offer (0x%x, 0x%x)",
                      o.version, o.actions, o.proto, actions, proto);
        return -1;
    }
    u->version = o.version;
    u->actions = o.actions;
    u->proto = o.proto;
    if (keep_macros(u, &o) < 0) {
        upstream_fail(u, "no memory for macro lists");
        return -1;
    }
    return 0;
}

void upstream_close(struct upstream *u)
{
    if (u->fd >= 0) {
        struct strbuf sb;
        sb_init(&sb);
        /* best effort: the upstream ends its session cleanly */
        if (mp_put(&sb, MPC_QUIT, NULL, 0) == 0)
            (void)send(u->fd, sb.s, sb.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        sb_free(&sb);
        close(u->fd);
        u->fd = -1;
    }
    for (int i = 0; i < MPM_COUNT; i++) {
        free(u->macros[i]);
        u->macros[i] = NULL;
    }
    free(u->buf);
    u->buf = NULL;
    u->len = u->off = u->cap = 0;
}
