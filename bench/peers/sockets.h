/*
 * sockets.h: connected socket pairs made with plain syscalls, for the peer
 * and floor programs written in C (floor, libevent, libuv).  The setup is
 * not what is measured, so it is the same for all of them: TCP over
 * 127.0.0.1 with a kernel-chosen port, a Unix stream socketpair.  Every
 * failure ends the program through peer_die() (cli.h).
 *
 * Header-only (static inline); define _GNU_SOURCE before any include
 * (accept4).
 */
#ifndef SCHEDLAB_PEERS_SOCKETS_H
#define SCHEDLAB_PEERS_SOCKETS_H

#include "cli.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <sys/socket.h>

static inline void peer_set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        peer_die("setsockopt(TCP_NODELAY)");
}

static inline void peer_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        peer_die("fcntl(O_NONBLOCK)");
}

/* A connected TCP pair: fds[0] the connecting end, fds[1] the accepted one;
 * blocking, TCP_NODELAY on both if `nodelay`. */
static inline void peer_tcp_pair(int fds[2], bool nodelay)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        peer_die("socket");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0)
        peer_die("bind");
    if (listen(lfd, 1) < 0)
        peer_die("listen");
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) < 0)
        peer_die("getsockname");
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0)
        peer_die("socket");
    if (connect(cfd, (struct sockaddr *)&addr, len) < 0)
        peer_die("connect");
    int sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (sfd < 0)
        peer_die("accept");
    close(lfd);
    if (nodelay) {
        peer_set_nodelay(cfd);
        peer_set_nodelay(sfd);
    }
    fds[0] = cfd;
    fds[1] = sfd;
}

/* A connected Unix stream pair (blocking). */
static inline void peer_unix_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        peer_die("socketpair");
}

#endif /* SCHEDLAB_PEERS_SOCKETS_H */
