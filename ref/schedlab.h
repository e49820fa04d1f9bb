/* schedlab.h - the public interface of the kit's reference scheduler.
 *
 * One header for everything a program needs: the scheduler (a C port of
 * Boost.Corosio's Linux epoll scheduler), intrusive operations, timers,
 * stream sockets, signal sets and the resolver.  Every public name starts
 * with `sl_`.  Errors come back as negative errno values; the library never
 * prints and never aborts on bad input.
 *
 * Operations are intrusive: the caller owns the memory of every sl_op (and
 * of every timer waiter, socket and lookup), so posting allocates nothing.
 * An op is linked into at most one queue at a time and must stay valid
 * until its `complete` or `destroy` hook has been called.
 */
#ifndef SCHEDLAB_H
#define SCHEDLAB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netdb.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_scheduler sl_scheduler;
typedef struct sl_op sl_op;

/* An operation: a link and two hooks.  `complete` runs the handler (the
 * op is already unlinked); `destroy` is called instead when the scheduler
 * shuts down with the op still queued (may be NULL: nothing to release). */
struct sl_op {
    sl_op *next;
    void (*complete)(sl_op *op);
    void (*destroy)(sl_op *op);
};

static inline void sl_op_init(sl_op *op, void (*complete)(sl_op *),
                              void (*destroy)(sl_op *))
{
    op->next = NULL;
    op->complete = complete;
    op->destroy = destroy;
}

/* ---- scheduler -------------------------------------------------------- */

/* Creates a scheduler: an epoll instance, an eventfd and a timerfd.  On
 * failure nothing stays open and the negative errno is returned. */
int sl_scheduler_create(sl_scheduler **out);
/* Shuts down (if not done) and frees.  No thread may be inside run. */
void sl_scheduler_destroy(sl_scheduler *s);
/* Destroys queued ops (their destroy hook, never their handler), wakes
 * every waiter and interrupts the reactor. */
void sl_scheduler_shutdown(sl_scheduler *s);

/* Queues `op` and counts it as outstanding work.  From a thread running
 * this scheduler the op goes to that thread's private queue, lock-free;
 * from any other thread to the shared queue under the mutex, waking one
 * thread. */
void sl_post(sl_scheduler *s, sl_op *op);

/* The run functions.  Each returns the number of handlers it invoked: every
 * posted op's `complete`, every timer, socket, signal and resolver
 * handler, whether it came from the queue, from a descriptor run or ran
 * inline right after the handler that started it.  The kit's internal ops
 * (the sentinel, descriptor runs) are not counted (upstream 6e759c2 counts
 * the ops it pops, descriptor runs included, and not inline completions).
 * All return 0 and stop the scheduler when nothing is outstanding.
 *
 * sl_run: until stopped or no work is outstanding.
 * sl_run_one: blocks until one step invoked a handler; a step is one
 *   handler from the queue plus the inline completions it started, so it
 *   may return more than 1.
 * sl_wait_one: like run_one, but returns 0 once `usec` microseconds have
 *   passed with no handler (never before the deadline, at most about 1 ms
 *   after it: the reactor waits in whole milliseconds).  A reactor wake-up
 *   that yields no handler does not end it.  usec <= 0 acts as poll_one.
 * sl_poll, sl_poll_one: never block; they run what is ready now, making one
 *   zero-timeout reactor pass when nothing else is queued (so an expired
 *   timer or a ready socket is seen; upstream 6e759c2 does not run the
 *   reactor there, Asio does).
 *
 * A run function that returns while handlers are queued and work is
 * outstanding wakes another thread for them (condvar waiter, else the
 * reactor), so nothing is stranded by a thread leaving.  A run function may
 * be called from a handler of the same scheduler (a nested run): what that
 * handler posted before the call is visible to it. */
size_t sl_run(sl_scheduler *s);
size_t sl_run_one(sl_scheduler *s);
size_t sl_wait_one(sl_scheduler *s, long usec);
size_t sl_poll(sl_scheduler *s);
size_t sl_poll_one(sl_scheduler *s);

void sl_stop(sl_scheduler *s);
int sl_stopped(sl_scheduler *s);
void sl_restart(sl_scheduler *s);

/* Keep run alive for work that is not (yet) a queued op. */
void sl_work_started(sl_scheduler *s);
void sl_work_finished(sl_scheduler *s);
int sl_running_in_this_thread(sl_scheduler *s);

/* The name of the build this library came from: "ref" or a variant. */
const char *sl_variant_name(void);

/* ---- mechanism counters (stats builds only) --------------------------- */

/* The counters of one scheduler.  In a build without SL_STATS every field
 * reads 0 and sl_stats_enabled() returns 0. */
typedef struct sl_stats {
    uint64_t mutex_locks;         /* scheduler mutex acquisitions */
    uint64_t post_private;        /* posts to a thread's private queue */
    uint64_t post_shared;         /* posts to the shared queue */
    uint64_t cond_notify_one;     /* condvar notify_one calls */
    uint64_t cond_notify_all;     /* condvar notify_all calls */
    uint64_t cond_waits;          /* times a thread blocked on the condvar */
    uint64_t eventfd_writes;      /* reactor interrupts written */
    uint64_t eventfd_skipped;     /* interrupts skipped: already armed */
    uint64_t epoll_wait_blocking; /* epoll_wait calls that could block */
    uint64_t epoll_wait_zero;     /* epoll_wait calls with timeout 0 */
    uint64_t timerfd_settime;     /* timerfd reprogrammings */
    uint64_t reactor_runs;        /* times a thread ran the reactor */
    uint64_t handlers_run;        /* ops popped and completed by do_one */
    uint64_t inline_completions;  /* speculative completions run inline */
    uint64_t inline_posted;       /* speculative completions posted */
    uint64_t refill_unassisted;   /* budget refills by rule */
    uint64_t refill_doubled;
    uint64_t refill_reset;
    uint64_t refill_kept;
    /* io_uring builds only (0 elsewhere): SQEs handed to the kernel,
     * io_uring_enter calls made (submit, wait or pump), CQEs reaped. */
    uint64_t uring_submits;
    uint64_t uring_enters;
    uint64_t uring_cqes;
} sl_stats;

int sl_stats_enabled(void);
void sl_stats_read(sl_scheduler *s, sl_stats *out);
void sl_stats_reset(sl_scheduler *s);

/* Installs (or, with NULL, removes) a hook called at the library's named
 * race windows (stats builds only; a no-op elsewhere): the suite sleeps
 * there to widen a window deterministically.  Sites: "descriptor_run"
 * (a descriptor run popped, before it takes the descriptor's mutex). */
void sl_set_race_window_hook(void (*hook)(const char *site, const void *obj));

/* The inline budget of the calling thread's frame for `s`: its cap and
 * what is left (both -1 when this thread is not running `s`). */
void sl_inline_budget(sl_scheduler *s, int *cap, int *left);

/* ---- timers ----------------------------------------------------------- */

/* Status values passed to completion handlers besides 0 and -errno. */
#define SL_ECANCELED (-125) /* == -ECANCELED on Linux */
#define SL_EOF 1            /* a read found the end of the stream */

typedef struct sl_timer sl_timer;
typedef struct sl_timer_waiter sl_timer_waiter;

/* Monotonic clock in nanoseconds, the clock timers use. */
uint64_t sl_now_ns(void);

struct sl_timer_waiter {
    sl_op op;                     /* queued when the wait completes */
    sl_timer_waiter *prev, *link; /* the timer's waiter list */
    sl_timer *timer;              /* non-NULL while in the list */
    sl_scheduler *sched;
    int status; /* 0 on expiry, SL_ECANCELED if cancelled */
    void (*handler)(sl_timer_waiter *w, int status);
    void (*destroy)(sl_timer_waiter *w); /* shutdown with the wait pending */
};

struct sl_timer {
    sl_scheduler *sched;
    uint64_t expiry_ns; /* absolute, sl_now_ns() clock */
    size_t heap_index;  /* SIZE_MAX when not in the heap */
    sl_timer_waiter *waiters, *waiters_tail;
};

/* Prepares a wait: `handler` runs on completion (expiry or cancel);
 * `destroy` (may be NULL) runs instead if the scheduler shuts down first. */
void sl_timer_wait_init(sl_timer_waiter *w,
                        void (*handler)(sl_timer_waiter *, int status),
                        void (*destroy)(sl_timer_waiter *));

void sl_timer_init(sl_timer *t, sl_scheduler *s);
/* Sets the expiry; cancels pending waits (they complete with SL_ECANCELED)
 * and returns how many were cancelled.  Timers of equal expiry fire in the
 * order they were scheduled (first wait, or expires_at while waited on). */
size_t sl_timer_expires_at(sl_timer *t, uint64_t when_ns);
size_t sl_timer_expires_after(sl_timer *t, uint64_t delay_ns);
/* Waits for expiry.  An expiry already past completes at once (posted,
 * after any wait already due).  Returns 0, -EINVAL if the waiter has no
 * handler, or -ENOMEM if the heap could not grow (nothing queued). */
int sl_timer_wait(sl_timer *t, sl_timer_waiter *w);
/* Cancel all waits, or the oldest; return how many were cancelled.  A wait
 * whose expiry has already passed is no longer cancellable: it completes
 * with status 0 (at once if the reactor had not yet harvested it) and is
 * not counted. */
size_t sl_timer_cancel(sl_timer *t);
size_t sl_timer_cancel_one(sl_timer *t);
/* Cancels what is pending; the timer may then be freed once its waits
 * have completed. */
void sl_timer_destroy(sl_timer *t);

/* ---- stream sockets (socket.c, descriptor.c) --------------------------- */

/* A stream socket (TCP over IPv4/IPv6, or Unix).  The library allocates it
 * at open and frees it once it is closed and no queued operation or
 * descriptor run still refers to it (upstream keeps it alive the same way
 * with shared_ptr).  At most one read, one write and one connect (or one
 * accept, on a listener) may be pending at a time: starting a second one
 * returns -EBUSY.  Handlers get status 0, SL_EOF (read: the peer closed),
 * SL_ECANCELED, or a negative errno, and the byte count. */
typedef struct sl_socket sl_socket;
typedef void (*sl_io_handler)(sl_socket *sock, int status, size_t bytes, void *arg);
typedef void (*sl_accept_handler)(sl_socket *listener, int status, sl_socket *accepted,
                                  void *arg);

#define SL_MAX_IOV 16

/* socket(family, type|NONBLOCK|CLOEXEC, protocol), registered with `s`. */
int sl_socket_open(sl_scheduler *s, int family, int type, int protocol, sl_socket **out);
/* Takes ownership of an existing stream socket fd (made non-blocking);
 * -ENOTSOCK if it is not a socket, -EINVAL if not SOCK_STREAM. */
int sl_socket_adopt(sl_scheduler *s, int fd, sl_socket **out);
/* A connected pair (socketpair AF_UNIX, SOCK_STREAM). */
int sl_socket_pair(sl_scheduler *s, sl_socket *out[2]);

int sl_socket_fd(const sl_socket *sock);
int sl_socket_bind(sl_socket *sock, const struct sockaddr *addr, socklen_t len);
int sl_socket_listen(sl_socket *sock, int backlog);
int sl_socket_local_address(sl_socket *sock, struct sockaddr_storage *addr,
                            socklen_t *len);
int sl_socket_set_option(sl_socket *sock, int level, int name, const void *value,
                         socklen_t len);
/* SHUT_RD, SHUT_WR or SHUT_RDWR; -EINVAL otherwise. */
int sl_socket_shutdown(sl_socket *sock, int how);

/* Asynchronous operations: 0 once started (the handler will run exactly
 * once), or a negative errno with nothing started. */
int sl_socket_async_connect(sl_socket *sock, const struct sockaddr *addr, socklen_t len,
                            sl_io_handler h, void *arg);
int sl_socket_async_read(sl_socket *sock, const struct iovec *iov, int iovcnt,
                         sl_io_handler h, void *arg);
int sl_socket_async_write(sl_socket *sock, const struct iovec *iov, int iovcnt,
                          sl_io_handler h, void *arg);
int sl_socket_async_accept(sl_socket *listener, sl_accept_handler h, void *arg);

/* The operations pending at the call complete with SL_ECANCELED.  An
 * operation that had already completed (its handler queued, not yet run)
 * keeps its own status and byte count, and operations started afterwards
 * are not affected.  A connect completes with 0 only on a connected socket
 * (never on a stale readiness edge, nor after a read or write on the
 * socket took the connect's error: that error is the connect's status). */
void sl_socket_cancel(sl_socket *sock);
/* Cancels what is pending (as sl_socket_cancel), closes the fd and gives up
 * the caller's reference: `sock` must not be used afterwards. */
void sl_socket_close(sl_socket *sock);

/* ---- signal sets (signal.c) -------------------------------------------- */

typedef struct sl_signal_set sl_signal_set;
typedef void (*sl_signal_handler)(sl_signal_set *set, int status, int signo, void *arg);

int sl_signal_set_create(sl_scheduler *s, sl_signal_set **out);
/* -EINVAL for a signal number out of range or one that cannot be caught. */
int sl_signal_set_add(sl_signal_set *set, int signo);
int sl_signal_set_remove(sl_signal_set *set, int signo);
int sl_signal_set_clear(sl_signal_set *set);
/* One wait at a time (-EBUSY otherwise); a signal that arrived while no
 * wait was pending is delivered to the next wait. */
int sl_signal_set_async_wait(sl_signal_set *set, sl_signal_handler h, void *arg);
/* Completes a pending wait with SL_ECANCELED.  With no wait pending it does
 * nothing: it is not remembered for the next wait (as the socket cancel;
 * upstream 17fa5e5 later latched it). */
void sl_signal_set_cancel(sl_signal_set *set);
void sl_signal_set_destroy(sl_signal_set *set);

/* ---- resolver (resolver.c) --------------------------------------------- */

typedef struct sl_resolve sl_resolve;
struct addrinfo; /* <netdb.h>; declared here for strict -std=c11 users */
/* status 0 with `res` (free it with freeaddrinfo), SL_ECANCELED, or a
 * negative value: -EAI_* codes are reported as SL_EAI_BASE - (EAI code). */
typedef void (*sl_resolve_handler)(sl_resolve *r, int status, struct addrinfo *res,
                                   void *arg);
#define SL_EAI_BASE (-1000)

/* Starts getaddrinfo(host, service, hints) on a helper thread; the
 * completion is posted back to `s` (the cross-thread path).  The lookup
 * object is allocated here and freed after its handler ran. */
int sl_resolve_start(sl_scheduler *s, const char *host, const char *service,
                     const struct addrinfo *hints, sl_resolve_handler h, void *arg,
                     sl_resolve **out);
/* The handler will run with SL_ECANCELED (if it has not run yet). */
void sl_resolve_cancel(sl_resolve *r);

#ifdef __cplusplus
}
#endif

#endif /* SCHEDLAB_H */
