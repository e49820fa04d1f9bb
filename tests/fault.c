/* fault.c - syscall fault injection through the linker's --wrap.
 *
 * The test binary is linked with -Wl,--wrap=SYMBOL for each site below,
 * so the library's (and the suite's) calls land here.  A site that is not
 * armed passes every call through to the real function and only counts it.
 *
 * An armed site lets `nth - 1` matching calls through, then fails the
 * following `count` matching calls (count < 0: every one until cleared)
 * with `err`.  A call matches when the site was armed for any descriptor
 * (fd -1) or for the descriptor the call is made on, so a site that every
 * socket and scheduler uses (write, readv, sendmsg, epoll_wait) can be
 * made to fail on one descriptor while the rest of the process goes on.
 *
 * Sites, and the descriptor a call is matched on:
 *   epoll_create1, eventfd, timerfd_create, socket, socketpair, pipe2,
 *   pthread_create                               (none: any arming matches)
 *   epoll_ctl        the descriptor being added, modified or removed
 *   epoll_wait       the epoll descriptor
 *   timerfd_settime  the timerfd
 *   write, readv, sendmsg, accept4               the descriptor written,
 *                                                read, sent on, accepted on
 *
 * A site can also be made slow instead: fault_delay makes its nth matching
 * call sleep `usec` after the real call returned, which widens the window
 * between a syscall and what its caller does next (wired for epoll_ctl:
 * between publishing a descriptor and the caller's later stores; for
 * write: between a reactor interrupt and what its writer does next; for
 * readv: between a read's speculative attempt and its parking).
 *
 * Everything here is lock-free: write is also called from a signal
 * handler (the signal service's self-pipe).
 *
 * common.h declares fault_arm / fault_clear / fault_calls; the rest of the
 * interface (fault_arm_fd, fault_arm_repeat, fault_delay, fault_injected)
 * is declared below and by test_fault.c, its user. */
#include "common.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

void fault_arm_fd(const char *site, int fd, int nth, int err);
void fault_arm_repeat(const char *site, int fd, int nth, int count, int err);
void fault_delay(const char *site, int fd, int nth, long usec);
long fault_injected(const char *site);

enum {
    F_EPOLL_CREATE1,
    F_EVENTFD,
    F_TIMERFD_CREATE,
    F_EPOLL_CTL,
    F_TIMERFD_SETTIME,
    F_EPOLL_WAIT,
    F_WRITE,
    F_READV,
    F_SENDMSG,
    F_ACCEPT4,
    F_SOCKET,
    F_SOCKETPAIR,
    F_PIPE2,
    F_PTHREAD_CREATE,
    F_COUNT
};
static const char *const site_names[F_COUNT] = {
    "epoll_create1", "eventfd",    "timerfd_create", "epoll_ctl",     "timerfd_settime",
    "epoll_wait",    "write",      "readv",          "sendmsg",       "accept4",
    "socket",        "socketpair", "pipe2",          "pthread_create"};

static struct {
    atomic_long calls;    /* every call, armed or not */
    atomic_long injected; /* calls made to fail */
    atomic_bool armed;
    atomic_int fd;   /* -1: any descriptor */
    atomic_int skip; /* matching calls still to let through */
    atomic_int left; /* failures still to inject; < 0: unlimited */
    atomic_int err;
    atomic_bool delay_armed;
    atomic_int delay_fd;
    atomic_int delay_skip; /* matching calls still to let through */
    atomic_long delay_usec;
} sites[F_COUNT];

static int site_index(const char *name)
{
    for (int i = 0; i < F_COUNT; ++i)
        if (strcmp(site_names[i], name) == 0)
            return i;
    fail_msg("unknown fault site %s", name);
    return -1;
}

void fault_arm_repeat(const char *site, int fd, int nth, int count, int err)
{
    int i = site_index(site);
    atomic_store(&sites[i].armed, false);
    atomic_store(&sites[i].fd, fd);
    atomic_store(&sites[i].skip, nth > 1 ? nth - 1 : 0);
    atomic_store(&sites[i].left, count);
    atomic_store(&sites[i].err, err);
    atomic_store(&sites[i].armed, true);
}

void fault_arm_fd(const char *site, int fd, int nth, int err)
{
    fault_arm_repeat(site, fd, nth, 1, err);
}

void fault_arm(const char *site, int nth, int err)
{
    fault_arm_repeat(site, -1, nth, 1, err);
}

void fault_delay(const char *site, int fd, int nth, long usec)
{
    int i = site_index(site);
    atomic_store(&sites[i].delay_armed, false);
    atomic_store(&sites[i].delay_fd, fd);
    atomic_store(&sites[i].delay_skip, nth > 1 ? nth - 1 : 0);
    atomic_store(&sites[i].delay_usec, usec);
    atomic_store(&sites[i].delay_armed, true);
}

void fault_clear(void)
{
    for (int i = 0; i < F_COUNT; ++i) {
        atomic_store(&sites[i].armed, false);
        atomic_store(&sites[i].delay_armed, false);
    }
}

long fault_calls(const char *site)
{
    return atomic_load(&sites[site_index(site)].calls);
}

long fault_injected(const char *site)
{
    return atomic_load(&sites[site_index(site)].injected);
}

/* True if this call on `fd` must fail (errno is then set). */
static bool should_fail(int i, int fd)
{
    atomic_fetch_add_explicit(&sites[i].calls, 1, memory_order_relaxed);
    if (!atomic_load_explicit(&sites[i].armed, memory_order_acquire))
        return false;
    int want = atomic_load(&sites[i].fd);
    if (want >= 0 && want != fd)
        return false;
    int skip = atomic_load(&sites[i].skip);
    while (skip > 0)
        if (atomic_compare_exchange_weak(&sites[i].skip, &skip, skip - 1))
            return false;
    int left = atomic_load(&sites[i].left);
    for (;;) {
        if (left == 0)
            return false;
        if (left < 0 || atomic_compare_exchange_weak(&sites[i].left, &left, left - 1))
            break;
    }
    atomic_fetch_add(&sites[i].injected, 1);
    errno = atomic_load(&sites[i].err);
    return true;
}

/* After the real call: sleeps if this is the call fault_delay chose (once). */
static void maybe_delay(int i, int fd)
{
    if (!atomic_load_explicit(&sites[i].delay_armed, memory_order_acquire))
        return;
    int want = atomic_load(&sites[i].delay_fd);
    if (want >= 0 && want != fd)
        return;
    int skip = atomic_load(&sites[i].delay_skip);
    while (skip > 0)
        if (atomic_compare_exchange_weak(&sites[i].delay_skip, &skip, skip - 1))
            return;
    bool armed = true;
    if (!atomic_compare_exchange_strong(&sites[i].delay_armed, &armed, false))
        return;
    long usec = atomic_load(&sites[i].delay_usec);
    struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---- scheduler construction and the reactor ------------------------------ */

int __real_epoll_create1(int flags);
int __wrap_epoll_create1(int flags);
int __wrap_epoll_create1(int flags)
{
    return should_fail(F_EPOLL_CREATE1, -1) ? -1 : __real_epoll_create1(flags);
}

int __real_eventfd(unsigned int initval, int flags);
int __wrap_eventfd(unsigned int initval, int flags);
int __wrap_eventfd(unsigned int initval, int flags)
{
    return should_fail(F_EVENTFD, -1) ? -1 : __real_eventfd(initval, flags);
}

int __real_timerfd_create(int clockid, int flags);
int __wrap_timerfd_create(int clockid, int flags);
int __wrap_timerfd_create(int clockid, int flags)
{
    return should_fail(F_TIMERFD_CREATE, -1) ? -1 : __real_timerfd_create(clockid, flags);
}

int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    if (should_fail(F_EPOLL_CTL, fd))
        return -1;
    int r = __real_epoll_ctl(epfd, op, fd, ev);
    int saved = errno;
    maybe_delay(F_EPOLL_CTL, fd);
    errno = saved;
    return r;
}

int __real_timerfd_settime(int fd, int flags, const struct itimerspec *nv,
                           struct itimerspec *ov);
int __wrap_timerfd_settime(int fd, int flags, const struct itimerspec *nv,
                           struct itimerspec *ov);
int __wrap_timerfd_settime(int fd, int flags, const struct itimerspec *nv,
                           struct itimerspec *ov)
{
    return should_fail(F_TIMERFD_SETTIME, fd) ? -1
                                              : __real_timerfd_settime(fd, flags, nv, ov);
}

int __real_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);
int __wrap_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);
static atomic_int last_epoll_wait_timeout;

int fault_last_epoll_wait_timeout(void)
{
    return atomic_load(&last_epoll_wait_timeout);
}

int __wrap_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    atomic_store(&last_epoll_wait_timeout, timeout);
    return should_fail(F_EPOLL_WAIT, epfd)
               ? -1
               : __real_epoll_wait(epfd, events, maxevents, timeout);
}

/* write: the reactor's interrupt (eventfd) and the signal handler's pipe. */
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (should_fail(F_WRITE, fd))
        return -1;
    ssize_t r = __real_write(fd, buf, n);
    int saved = errno;
    maybe_delay(F_WRITE, fd);
    errno = saved;
    return r;
}

/* ---- sockets ----------------------------------------------------------- */

ssize_t __real_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t __wrap_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t __wrap_readv(int fd, const struct iovec *iov, int iovcnt)
{
    if (should_fail(F_READV, fd))
        return -1;
    ssize_t r = __real_readv(fd, iov, iovcnt);
    int saved = errno;
    maybe_delay(F_READV, fd);
    errno = saved;
    return r;
}

ssize_t __real_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    return should_fail(F_SENDMSG, fd) ? -1 : __real_sendmsg(fd, msg, flags);
}

/* recv and send (the send-recv variant's single-buffer syscalls) count
 * as the readv and sendmsg sites: the same read, the same write. */
ssize_t __real_recv(int fd, void *buf, size_t n, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags)
{
    if (should_fail(F_READV, fd))
        return -1;
    ssize_t r = __real_recv(fd, buf, n, flags);
    int saved = errno;
    maybe_delay(F_READV, fd);
    errno = saved;
    return r;
}

ssize_t __real_send(int fd, const void *buf, size_t n, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags)
{
    return should_fail(F_SENDMSG, fd) ? -1 : __real_send(fd, buf, n, flags);
}

int __real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    return should_fail(F_ACCEPT4, fd) ? -1 : __real_accept4(fd, addr, len, flags);
}

int __real_socket(int family, int type, int protocol);
int __wrap_socket(int family, int type, int protocol);
int __wrap_socket(int family, int type, int protocol)
{
    return should_fail(F_SOCKET, -1) ? -1 : __real_socket(family, type, protocol);
}

int __real_socketpair(int family, int type, int protocol, int fds[2]);
int __wrap_socketpair(int family, int type, int protocol, int fds[2]);
int __wrap_socketpair(int family, int type, int protocol, int fds[2])
{
    return should_fail(F_SOCKETPAIR, -1) ? -1
                                         : __real_socketpair(family, type, protocol, fds);
}

/* ---- signal pipe and resolver thread ----------------------------------- */

int __real_pipe2(int fds[2], int flags);
int __wrap_pipe2(int fds[2], int flags);
int __wrap_pipe2(int fds[2], int flags)
{
    return should_fail(F_PIPE2, -1) ? -1 : __real_pipe2(fds, flags);
}

/* pthread_create reports its error as the return value, not in errno. */
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
                          void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
                          void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
                          void *arg)
{
    int saved = errno;
    if (should_fail(F_PTHREAD_CREATE, -1)) {
        int err = errno;
        errno = saved;
        return err;
    }
    return __real_pthread_create(t, a, fn, arg);
}
