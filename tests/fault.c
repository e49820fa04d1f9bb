/* fault.c - syscall fault injection through the linker's --wrap.
 *
 * The test binary is linked with -Wl,--wrap=SYSCALL for each site below,
 * so the library's calls land here.  A site armed with fault_arm fails on
 * its nth call with the given errno; every call is counted. */
#include "common.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

enum { F_EPOLL_CREATE1, F_EVENTFD, F_TIMERFD_CREATE, F_EPOLL_CTL,
       F_TIMERFD_SETTIME, F_COUNT };
static const char *const site_names[F_COUNT] = {
    "epoll_create1", "eventfd", "timerfd_create", "epoll_ctl", "timerfd_settime"};

static struct {
    atomic_long calls;
    atomic_int fail_at; /* 0: never; counts down */
    int err;
} sites[F_COUNT];

static int site_index(const char *name)
{
    for (int i = 0; i < F_COUNT; ++i)
        if (strcmp(site_names[i], name) == 0)
            return i;
    fail_msg("unknown fault site %s", name);
    return -1;
}

void fault_arm(const char *site, int nth, int err)
{
    int i = site_index(site);
    sites[i].err = err;
    atomic_store(&sites[i].fail_at, nth);
}

void fault_clear(void)
{
    for (int i = 0; i < F_COUNT; ++i)
        atomic_store(&sites[i].fail_at, 0);
}

long fault_calls(const char *site) { return atomic_load(&sites[site_index(site)].calls); }

/* True if this call must fail (and sets errno). */
static bool should_fail(int i)
{
    atomic_fetch_add(&sites[i].calls, 1);
    int at = atomic_load(&sites[i].fail_at);
    if (at > 0 && atomic_fetch_sub(&sites[i].fail_at, 1) == 1) {
        errno = sites[i].err;
        return true;
    }
    return false;
}

int __real_epoll_create1(int flags);
int __wrap_epoll_create1(int flags)
{
    return should_fail(F_EPOLL_CREATE1) ? -1 : __real_epoll_create1(flags);
}

int __real_eventfd(unsigned int initval, int flags);
int __wrap_eventfd(unsigned int initval, int flags)
{
    return should_fail(F_EVENTFD) ? -1 : __real_eventfd(initval, flags);
}

int __real_timerfd_create(int clockid, int flags);
int __wrap_timerfd_create(int clockid, int flags)
{
    return should_fail(F_TIMERFD_CREATE) ? -1 : __real_timerfd_create(clockid, flags);
}

int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    return should_fail(F_EPOLL_CTL) ? -1 : __real_epoll_ctl(epfd, op, fd, ev);
}

int __real_timerfd_settime(int fd, int flags, const struct itimerspec *nv,
                           struct itimerspec *ov);
int __wrap_timerfd_settime(int fd, int flags, const struct itimerspec *nv,
                           struct itimerspec *ov)
{
    return should_fail(F_TIMERFD_SETTIME) ? -1
                                          : __real_timerfd_settime(fd, flags, nv, ov);
}
