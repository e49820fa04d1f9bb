/* socket_api.c - the half of the socket API that no backend changes:
 * opening or adopting a descriptor, socket pairs, and the plain calls on a
 * descriptor (bind, listen, getsockname, setsockopt, shutdown).
 *
 * Both backends link it, as Redis's ae.c keeps what its polling backends
 * share out of ae_epoll.c and its siblings: each backend's socket.c
 * (ref/socket.c, the epoll reactor; uring/socket.c, the io_uring
 * proactor) provides socket_create, which makes the socket object for a
 * non-blocking descriptor, and sl_socket_fd.  Upstream keeps these calls
 * in each backend's socket class (epoll_socket, io_uring's socket). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int sl_socket_open(sl_scheduler *s, int family, int type, int protocol, sl_socket **out)
{
    *out = NULL;
    if (type != SOCK_STREAM)
        return -EINVAL;
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return -errno;
    if (family == AF_INET6) {
        int one = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    int r = socket_create(s, fd, out);
    if (r < 0)
        close(fd);
    return r;
}

int sl_socket_adopt(sl_scheduler *s, int fd, sl_socket **out)
{
    *out = NULL;
    int type;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return -errno; /* ENOTSOCK for a file, EBADF for a closed fd */
    if (type != SOCK_STREAM)
        return -EINVAL;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -errno;
    return socket_create(s, fd, out);
}

int sl_socket_pair(sl_scheduler *s, sl_socket *out[2])
{
    int fds[2];
    out[0] = out[1] = NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
        return -errno;
    int r = socket_create(s, fds[0], &out[0]);
    if (r < 0) {
        close(fds[0]);
        close(fds[1]);
        return r;
    }
    r = socket_create(s, fds[1], &out[1]);
    if (r < 0) {
        sl_socket_close(out[0]);
        out[0] = NULL;
        close(fds[1]);
    }
    return r;
}

int sl_socket_bind(sl_socket *sock, const struct sockaddr *addr, socklen_t len)
{
    return bind(sl_socket_fd(sock), addr, len) < 0 ? -errno : 0;
}

int sl_socket_listen(sl_socket *sock, int backlog)
{
    return listen(sl_socket_fd(sock), backlog) < 0 ? -errno : 0;
}

int sl_socket_local_address(sl_socket *sock, struct sockaddr_storage *addr,
                            socklen_t *len)
{
    *len = sizeof *addr;
    return getsockname(sl_socket_fd(sock), (struct sockaddr *)addr, len) < 0 ? -errno : 0;
}

int sl_socket_set_option(sl_socket *sock, int level, int name, const void *value,
                         socklen_t len)
{
    return setsockopt(sl_socket_fd(sock), level, name, value, len) < 0 ? -errno : 0;
}

int sl_socket_shutdown(sl_socket *sock, int how)
{
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return -EINVAL;
    return shutdown(sl_socket_fd(sock), how) < 0 ? -errno : 0;
}
