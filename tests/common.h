/* common.h - helpers shared by the suite's test files: counting ops,
 * threads with a deadline, fd counting, the size knob for slow builds,
 * and the syscall fault injector (fault.c). */
#ifndef SL_TEST_COMMON_H
#define SL_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedlab.h"

/* Operation counts are divided by this under sanitizers and valgrind. */
long test_scale(long n);
/* True when the build under test carries mechanism counters. */
#define HAVE_STATS() (sl_stats_enabled())
int variant_is(const char *name);
/* True on the io_uring backend's builds (uring/): no epoll instance, no
 * timerfd, no per-socket registration; I/O is done by the kernel. */
int backend_is_uring(void);
/* Skips a test of an epoll-only mechanism on the uring builds, saying why. */
#define SKIP_ON_URING(why)                                                               \
    do {                                                                                 \
        if (backend_is_uring()) {                                                        \
            printf("  skipped on %s: %s\n", sl_variant_name(), (why));                   \
            fflush(stdout);                                                              \
            skip();                                                                      \
        }                                                                                \
    } while (0)

/* A new scheduler; fails the test if it cannot be made. */
sl_scheduler *new_sched(void);

int count_open_fds(void);
uint64_t elapsed_ms_since(uint64_t start_ns);

/* An op that counts its completions and destroys, and logs its id. */
typedef struct count_op {
    sl_op op;
    int id;
    atomic_int completed;
    atomic_int destroyed;
    int *log; /* optional: ids in completion order */
    atomic_int *log_n;
} count_op;
void count_op_init(count_op *c, int id, int *log, atomic_int *log_n);

/* An op that counts its run and gives back one unit of work (the one a
 * test took with sl_work_started to keep run alive). */
typedef struct finish_op {
    sl_op op;
    sl_scheduler *s;
    atomic_int ran;
} finish_op;
void finish_op_init(finish_op *f, sl_scheduler *s);

/* Runs sl_run(s) on a new thread; join_run_thread fails the test if the
 * thread has not returned within `ms`, else sets `result` (the handlers
 * sl_run ran).  run_thread_returned says whether it has returned
 * yet.  The thread reports to a slot of util.c, never to this struct, and
 * a thread a failed test left running is stopped and joined by the test's
 * teardown (reap_run_threads), so it cannot run into the next test. */
typedef struct run_thread {
    pthread_t tid;
    sl_scheduler *s;
    size_t result;
    int slot;
} run_thread;
void start_run_thread(run_thread *t, sl_scheduler *s);
void join_run_thread(run_thread *t, int ms);
bool run_thread_returned(const run_thread *t);
/* The teardown of every test: sl_stop and join each run thread still
 * registered.  Returns 0, or -1 (with a message) when one did not stop. */
int reap_run_threads(void);
void sleep_ms(int ms);

/* Fault injection (fault.c): make the nth next call (1 = next) of a
 * wrapped syscall fail with `err`; the _fd forms only count calls on that
 * descriptor (-1: any), _repeat fails `count` calls in a row, fault_delay
 * sleeps after the real call.  Sites: the symbols wrapped in the Makefile's
 * test link rule (epoll_create1, eventfd, timerfd_create, epoll_ctl,
 * epoll_wait, timerfd_settime, write, readv, sendmsg, accept4, socket,
 * socketpair, pipe2, pthread_create). */
void fault_arm(const char *site, int nth, int err);
void fault_arm_fd(const char *site, int fd, int nth, int err);
void fault_arm_repeat(const char *site, int fd, int nth, int count, int err);
void fault_delay(const char *site, int fd, int nth, long usec);
void fault_clear(void);
long fault_calls(const char *site);
long fault_injected(const char *site);
/* The timeout (ms) of the latest epoll_wait call, by any thread. */
int fault_last_epoll_wait_timeout(void);

#endif
