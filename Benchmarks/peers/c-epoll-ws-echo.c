/* c-epoll-ws-echo: a minimal hand-written RFC 6455 WebSocket echo server, the *floor* for
 * Benchmarks/run.sh's echo scenario (64 connections x 64 B, 1 in flight each, closed loop).
 *
 * Why: issue #8's echo target asks wsgate for <= 0.5x node ws's server CPU per message. wsgate and
 * node both do one read() and one write() per message, and the kernel is most of that cost, so the
 * target may be below what any server can do. This server does the least a WebSocket echo server can:
 * single thread (as node), level-triggered epoll, per message exactly one read() and one write(), no
 * allocation per message (per-connection buffers, reused), no framework, no validation beyond RFC
 * 6455's framing. Its server CPU per message, measured by the same wsgate-bench run, is a lower
 * bound for any server's; it is not a peer and does not count for the targets.
 *
 * What it does: accepts on 127.0.0.1:PORT (any path), reads the HTTP upgrade request up to
 * "\r\n\r\n" (at most 8 KiB), answers 101 with Sec-WebSocket-Accept = base64(SHA-1(key + GUID))
 * (OpenSSL libcrypto), then parses every complete frame in what one read() brought (7/16/64-bit
 * lengths, client mask; a frame may be up to 16 MiB, the input buffer grows to hold it), and
 * replies, all replies of one read() gathered in one buffer and sent with one write():
 * text/binary/continuation -> the same frame back unmasked (same opcode and FIN: fragmented messages
 * are echoed frame by frame), ping -> pong, close -> close back, then the socket is closed. Unmasked
 * or RSV frames, oversized or fragmented control frames, bad handshakes: the connection is closed.
 * A write that does not take everything leaves the rest queued, the connection waits for EPOLLOUT
 * and reads nothing more until the queue is empty. TCP_NODELAY on every accepted socket.
 *
 * Build: cc -O2 -o c-epoll-ws-echo c-epoll-ws-echo.c -lcrypto
 * Usage: c-epoll-ws-echo PORT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HANDSHAKE_MAX 8192
#define INITIAL_IN (16 * 1024)
#define INITIAL_OUT (16 * 1024)
#define FRAME_MAX ((uint64_t)16 << 20) /* payload bound */
#define OUT_MAX ((size_t)64 << 20)

struct conn {
    int fd;
    int open;    /* handshake done */
    int closing; /* close once the output queue is written */
    int writing; /* waiting for EPOLLOUT */
    unsigned char *in, *out;
    size_t in_len, in_cap, out_len, out_cap;
};

static int ep;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void conn_free(struct conn *c) {
    close(c->fd); /* also leaves the epoll set */
    free(c->in);
    free(c->out);
    free(c);
}

static int reserve(unsigned char **buf, size_t *cap, size_t need, size_t max) {
    if (need <= *cap) return 0;
    if (need > max) return -1;
    size_t n = *cap * 2;
    while (n < need) n *= 2;
    if (n > max) n = max;
    unsigned char *p = realloc(*buf, n);
    if (!p) return -1;
    *buf = p;
    *cap = n;
    return 0;
}

static int out_reserve(struct conn *c, size_t more) {
    return reserve(&c->out, &c->out_cap, c->out_len + more, OUT_MAX);
}

/* Appends a frame header (server frames are unmasked); the payload follows. */
static void put_header(struct conn *c, unsigned char b0, uint64_t len) {
    unsigned char *p = c->out + c->out_len;
    *p++ = b0;
    if (len < 126) {
        *p++ = (unsigned char)len;
    } else if (len <= 0xffff) {
        *p++ = 126;
        *p++ = (unsigned char)(len >> 8);
        *p++ = (unsigned char)len;
    } else {
        *p++ = 127;
        for (int i = 7; i >= 0; i--) *p++ = (unsigned char)(len >> (8 * i));
    }
    c->out_len = (size_t)(p - c->out);
}

static void put_unmasked(struct conn *c, const unsigned char *src, size_t len, const unsigned char mask[4]) {
    unsigned char *dst = c->out + c->out_len;
    for (size_t i = 0; i < len; i++) dst[i] = src[i] ^ mask[i & 3];
    c->out_len += len;
}

/* The upgrade request is in c->in (up to and including "\r\n\r\n", hlen bytes): queue the answer.
 * Returns -1 to drop the connection. */
static int handshake(struct conn *c, size_t hlen) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    static const char name[] = "sec-websocket-key:";
    const char *req = (const char *)c->in, *end = req + hlen;
    const char *key = NULL;
    size_t klen = 0;
    for (const char *line = req; line < end;) {
        const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - line) > sizeof name - 1 && strncasecmp(line, name, sizeof name - 1) == 0) {
            key = line + sizeof name - 1;
            while (key < eol && (*key == ' ' || *key == '\t')) key++;
            const char *kend = eol;
            while (kend > key && (kend[-1] == ' ' || kend[-1] == '\t')) kend--;
            klen = (size_t)(kend - key);
            break;
        }
        line = eol + 2;
    }
    if (!key || klen == 0 || klen > 128) {
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        if (out_reserve(c, sizeof bad)) return -1;
        memcpy(c->out + c->out_len, bad, sizeof bad - 1);
        c->out_len += sizeof bad - 1;
        c->closing = 1;
        return 0;
    }
    unsigned char cat[128 + sizeof guid], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    memcpy(cat, key, klen);
    memcpy(cat + klen, guid, sizeof guid - 1);
    if (!EVP_Digest(cat, klen + sizeof guid - 1, md, &mdlen, EVP_sha1(), NULL)) return -1;
    unsigned char accept[64];
    EVP_EncodeBlock(accept, md, (int)mdlen); /* 20 bytes -> 28 characters + NUL */
    char resp[256];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     (const char *)accept);
    if (n <= 0 || (size_t)n >= sizeof resp || out_reserve(c, (size_t)n)) return -1;
    memcpy(c->out + c->out_len, resp, (size_t)n);
    c->out_len += (size_t)n;
    c->open = 1;
    return 0;
}

/* Parses every complete frame at the front of c->in and queues the replies; consumes what it
 * parsed. Returns -1 to drop the connection. */
static int frames(struct conn *c) {
    size_t pos = 0;
    while (!c->closing) {
        unsigned char *p = c->in + pos;
        size_t avail = c->in_len - pos;
        if (avail < 2) break;
        unsigned char b0 = p[0], b1 = p[1];
        unsigned op = b0 & 0x0f;
        if ((b0 & 0x70) || !(b1 & 0x80)) return -1; /* RSV set (no extensions) or unmasked */
        uint64_t len = b1 & 0x7f;
        size_t h = 2;
        if (len == 126) {
            if (avail < 4) break;
            len = ((uint64_t)p[2] << 8) | p[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | p[2 + i];
            h = 10;
        }
        if (len > FRAME_MAX) return -1;
        if (op >= 8 && (len > 125 || !(b0 & 0x80))) return -1; /* control frames: short, unfragmented */
        size_t total = h + 4 + (size_t)len;
        if (avail < total) {
            /* Incomplete: make room for the whole frame (moved to the front below). */
            if (reserve(&c->in, &c->in_cap, total, FRAME_MAX + 14)) return -1;
            break;
        }
        const unsigned char *mask = p + h, *payload = p + h + 4;
        switch (op) {
        case 0x0: /* continuation */
        case 0x1: /* text */
        case 0x2: /* binary */
            if (out_reserve(c, 10 + (size_t)len)) return -1;
            put_header(c, b0, len);
            put_unmasked(c, payload, (size_t)len, mask);
            break;
        case 0x9: /* ping -> pong */
            if (out_reserve(c, 2 + (size_t)len)) return -1;
            put_header(c, 0x8a, len);
            put_unmasked(c, payload, (size_t)len, mask);
            break;
        case 0xa: /* pong: nothing */
            break;
        case 0x8: /* close -> close back (same status), then close the socket */
            if (out_reserve(c, 2 + (size_t)len)) return -1;
            put_header(c, 0x88, len);
            put_unmasked(c, payload, (size_t)len, mask);
            c->closing = 1;
            break;
        default:
            return -1;
        }
        pos += total;
    }
    if (pos) {
        c->in_len -= pos;
        if (c->in_len) memmove(c->in, c->in + pos, c->in_len);
    }
    return 0;
}

static void set_events(struct conn *c, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev)) die("epoll_ctl MOD");
}

/* One write() of the queue. Returns -1 to drop the connection. */
static int flush(struct conn *c) {
    if (c->out_len == 0) return c->closing ? -1 : 0;
    ssize_t n = write(c->fd, c->out, c->out_len);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) return -1;
        n = 0;
    }
    c->out_len -= (size_t)n;
    if (c->out_len == 0) {
        if (c->closing) return -1;
        if (c->writing) {
            c->writing = 0;
            set_events(c, EPOLLIN);
        }
        return 0;
    }
    if (n) memmove(c->out, c->out + n, c->out_len);
    if (!c->writing) {
        c->writing = 1;
        set_events(c, EPOLLOUT); /* read nothing more until the queue is written */
    }
    return 0;
}

static int readable(struct conn *c) {
    if (c->in_len == c->in_cap && reserve(&c->in, &c->in_cap, c->in_cap + 1, FRAME_MAX + 14)) return -1;
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n == 0) return -1;
    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    c->in_len += (size_t)n;
    if (!c->open) {
        unsigned char *e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!e) return c->in_len >= HANDSHAKE_MAX ? -1 : 0;
        size_t hlen = (size_t)(e - c->in) + 4;
        if (handshake(c, hlen)) return -1;
        c->in_len -= hlen;
        memmove(c->in, c->in + hlen, c->in_len);
        if (!c->open) return flush(c); /* 400, then closed */
    }
    if (frames(c)) return -1;
    return flush(c);
}

static void accept_all(int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR || errno == ECONNABORTED) continue;
            perror("accept4"); /* EMFILE and the like: try again at the next event */
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c || !(c->in = malloc(INITIAL_IN)) || !(c->out = malloc(INITIAL_OUT))) {
            if (c) free(c->in), free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->in_cap = INITIAL_IN;
        c->out_cap = INITIAL_OUT;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
            perror("epoll_ctl ADD");
            conn_free(c);
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int port = atoi(argv[1]);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr)) die("bind");
    if (listen(lfd, 1024)) die("listen");
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev)) die("epoll_ctl listen");
    printf("c-epoll-ws-echo listening on 127.0.0.1:%d\n", port);
    fflush(stdout);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                accept_all(lfd);
                continue;
            }
            int r;
            if (c->writing)
                r = (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) ? flush(c) : 0;
            else
                r = readable(c); /* EPOLLIN, or EPOLLERR/EPOLLHUP: read() reports it */
            if (r) conn_free(c);
        }
    }
}
