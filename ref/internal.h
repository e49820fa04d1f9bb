/* internal.h - what the scheduler shares with its services (timers,
 * descriptors, sockets, signals, resolver) and with variants.
 *
 * The scheduler struct, the intrusive op queue, the per-thread context
 * frame (M7), the descriptor state (M10) and the functions the services
 * call: post_deferred_completions, compensating_work_started, the inline
 * budget (M11), descriptor registration.  Not part of the public API.
 */
#ifndef SL_INTERNAL_H
#define SL_INTERNAL_H

#include "schedlab.h"
#include "probe.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* ---- build parameters: the knobs upstream later exposed ---------------- */

#ifndef SL_EPOLL_EVENTS
#define SL_EPOLL_EVENTS 128 /* events per epoll_wait */
#endif
#ifndef SL_BUDGET_INITIAL
#define SL_BUDGET_INITIAL 2 /* first cap, and the cap after partial use */
#endif
#ifndef SL_BUDGET_MAX
#define SL_BUDGET_MAX 16 /* the doubling stops here */
#endif
#ifndef SL_BUDGET_UNASSISTED
#define SL_BUDGET_UNASSISTED 4 /* cap when no other thread could help */
#endif
#ifndef SL_VARIANT
#define SL_VARIANT "ref"
#endif

/* A variant's switches reach every ref/ file from here: the file is read
 * with SL_VARIANT_SHARED defined and keeps its code under
 * #ifndef SL_VARIANT_SHARED; scheduler.c includes it once more for that
 * code (identical macro definitions may be repeated). */
#ifdef SL_VARIANT_FILE
#define SL_VARIANT_SHARED
#include SL_VARIANT_FILE
#undef SL_VARIANT_SHARED
#endif

/* ---- intrusive FIFO of ops --------------------------------------------- */

typedef struct sl_op_queue {
    sl_op *head, *tail;
#ifdef SL_TRACE
    long depth; /* trace builds report queue depth; others carry nothing */
#endif
} sl_op_queue;

#ifdef SL_TRACE
#define OPQ_DEPTH(q, expr) ((q)->depth expr)
#define OPQ_DEPTH_OF(q) ((q)->depth)
#else
#define OPQ_DEPTH(q, expr) ((void)0)
#define OPQ_DEPTH_OF(q) 0L
#endif

static inline bool op_queue_empty(const sl_op_queue *q)
{
    return !q->head;
}

static inline void op_queue_push(sl_op_queue *q, sl_op *op)
{
    op->next = NULL;
    if (q->tail)
        q->tail->next = op;
    else
        q->head = op;
    q->tail = op;
    OPQ_DEPTH(q, += 1);
}

static inline sl_op *op_queue_pop(sl_op_queue *q)
{
    sl_op *op = q->head;
    if (op) {
        q->head = op->next;
        if (!q->head)
            q->tail = NULL;
        op->next = NULL;
        OPQ_DEPTH(q, -= 1);
    }
    return op;
}

/* Moves every op of `from` to the tail of `to`, leaving `from` empty. */
static inline void op_queue_splice(sl_op_queue *to, sl_op_queue *from)
{
    if (!from->head)
        return;
    if (to->tail)
        to->tail->next = from->head;
    else
        to->head = from->head;
    to->tail = from->tail;
    from->head = from->tail = NULL;
    OPQ_DEPTH(to, += OPQ_DEPTH_OF(from));
    OPQ_DEPTH(from, = 0);
}

/* ---- per-thread context frame (M7) ------------------------------------- */

/* One frame per scheduler this thread is running, linked innermost first.
 * Upstream keeps the same fields in epoll::scheduler_context. */
typedef struct thread_context {
    const sl_scheduler *key;
    struct thread_context *next;
    sl_op_queue private_queue;     /* M8: posts from this thread */
    long private_outstanding_work; /* M8: counted here, folded later */
    int inline_budget;             /* M11: inline completions left */
    int inline_budget_max;         /* M11: the current cap */
    bool unassisted;               /* M12 */
    size_t invoked;                /* handlers invoked by this run call */
    bool polled;                   /* this call has made a reactor pass */
    /* Inline completions waiting for the current handler to return.  The
     * C++ resumes the coroutine by symmetric transfer, which never deepens
     * the stack; in C the completion is a callback, so instead of calling
     * it from inside the initiating function, the op is parked here and
     * do_one runs it as soon as the handler that started it returns. */
    sl_op_queue inline_ops;
} thread_context;

thread_context *find_context(const sl_scheduler *s);
/* Absolute CLOCK_MONOTONIC deadline `usec` from now (scheduler.c). */
struct timespec deadline_after(long usec);

/* ---- the scheduler ------------------------------------------------------ */

struct sl_timer_service;
struct sl_signal_service;
struct sl_resolver_service;

struct sl_scheduler {
    int epoll_fd;
    int event_fd; /* interrupts the reactor (M5) */
    int timer_fd; /* kernel-side timer expiry (M6) */
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    sl_op_queue completed_ops;    /* the shared queue */
    atomic_long outstanding_work; /* M9 */
    bool stopped;
    atomic_bool task_running;  /* M1: a thread is in the reactor */
    bool task_interrupted;     /* reactor told to poll, not block */
    size_t state;              /* M3: bit 0 signaled, +2 per waiter */
    atomic_bool eventfd_armed; /* M5 */
    atomic_bool timerfd_stale; /* M6 */
    sl_op task_op;             /* M2: the sentinel */
    bool shut_down;
    struct sl_timer_service *timers;
    struct socket_service *sockets;
    struct signal_service *signals;
    struct resolver_service *resolver;
#ifdef SL_STATS
    struct {
        atomic_uint_fast64_t mutex_locks, post_private, post_shared, cond_notify_one,
            cond_notify_all, cond_waits, eventfd_writes, eventfd_skipped,
            epoll_wait_blocking, epoll_wait_zero, timerfd_settime, reactor_runs,
            handlers_run, inline_completions, inline_posted, refill_unassisted,
            refill_doubled, refill_reset, refill_kept;
    } stats;
#endif
};

/* ---- what services call ------------------------------------------------ */

/* Queue ops that already hold their work count (a descriptor's extra
 * completions); private queue when on a scheduler thread. */
void post_deferred_completions(sl_scheduler *s, sl_op_queue *ops);
/* Offsets the work_finished that work_cleanup will do for a descriptor
 * run that completed nothing.  Scheduler threads only. */
void compensating_work_started(sl_scheduler *s);
/* M11: refill at the start of an I/O completion taken from the queue;
 * consume one unit at a speculative completion. */
void reset_inline_budget(sl_scheduler *s);
bool try_consume_inline_budget(sl_scheduler *s);
/* Consumes one unit and queues `op` to run inline, right after the
 * current handler (thread_context.inline_ops); false, doing nothing, when
 * the budget is spent or this thread does not run `s`. */
bool try_complete_inline(sl_scheduler *s, sl_op *op);
/* Runs `op` right after the current handler returns, at the same stack
 * depth, counted as a handler (a descriptor run's first completion). */
void complete_after_handler(sl_scheduler *s, sl_op *op);
/* Timer service hook: the earliest expiry changed (M6). */
void timers_earliest_changed(sl_scheduler *s);
/* Interrupts a blocked reactor (M5). */
void interrupt_reactor(sl_scheduler *s);
/* ---- descriptor state (M10) --------------------------------------------

 * One per registered fd, itself an op: the reactor ORs the ready events
 * into `ready_events` and enqueues it once (`is_enqueued`); a scheduler
 * thread that pops it performs the pending I/O under `mutex`
 * (descriptor.c).  The pending-op slots hold I/O ops defined by the socket
 * layer; the scheduler only touches the two atomics. */
struct io_op;
typedef struct descriptor_state {
    sl_op op; /* first: popped from the queue */
    pthread_mutex_t mutex;
    struct io_op *read_op, *write_op, *connect_op;
    bool read_ready, write_ready; /* cached edge, no op was waiting */
    /* A cancel that found an op between initiation and parking leaves the
     * op's generation here; register_op cancels only that op (0: none). */
    unsigned read_cancel_gen, write_cancel_gen, connect_cancel_gen;
    /* An error the kit consumed from the socket (a read or write took it,
     * or an EPOLLERR run read SO_ERROR) while a connect was in flight: the
     * connect's own result (0: none). */
    atomic_int connect_error;
    uint32_t registered_events;
    int fd;
    atomic_uint ready_events;
    atomic_bool is_enqueued;
    sl_scheduler *sched;
    /* Upstream's impl_ref: set (under `mutex`) when the owner closes while
     * this state is still queued; the run calls it once to let go. */
    void (*release_owner)(struct descriptor_state *d);
} descriptor_state;

/* Registers / deregisters an fd whose epoll data is `desc`. */
int register_descriptor(sl_scheduler *s, int fd, struct descriptor_state *d);
void deregister_descriptor(sl_scheduler *s, int fd);

#ifndef SL_VARIANT_LOCKS
/* Lock/unlock the scheduler mutex (counted in stats builds). */
static inline void sched_lock(sl_scheduler *s)
{
    pthread_mutex_lock(&s->mutex);
    SL_STAT(s, mutex_locks);
}
static inline void sched_unlock(sl_scheduler *s)
{
    pthread_mutex_unlock(&s->mutex);
}
/* A descriptor's mutex (descriptor.c, socket.c, register_descriptor). */
#define desc_lock(d) pthread_mutex_lock(&(d)->mutex)
#define desc_unlock(d) pthread_mutex_unlock(&(d)->mutex)
#endif

/* Timer service (timer.c). */
int timer_service_create(sl_scheduler *s);
void timer_service_destroy(sl_scheduler *s);
uint64_t timer_service_nearest(sl_scheduler *s); /* UINT64_MAX: none */
size_t timer_service_process_expired(sl_scheduler *s);
void timer_service_shutdown(sl_scheduler *s);

/* The I/O services, created after the timer service and shut down before
 * it, each returning 0 or a negative errno (socket.c, signal.c,
 * resolver.c).  Shutdown closes what is open and queues pending
 * operations as cancelled or destroys them; destroy frees. */
int socket_service_create(sl_scheduler *s);
void socket_service_shutdown(sl_scheduler *s);
void socket_service_destroy(sl_scheduler *s);
/* Copies the counters both backends keep into `out` (stats.c; nothing in
 * timed builds). */
void stats_read_common(sl_scheduler *s, sl_stats *out);
/* The backend's socket object for a non-blocking descriptor (ref/socket.c,
 * uring/socket.c): 0, or a negative errno with `fd` left open. */
int socket_create(sl_scheduler *s, int fd, sl_socket **out);
int signal_service_create(sl_scheduler *s);
void signal_service_shutdown(sl_scheduler *s);
void signal_service_destroy(sl_scheduler *s);
int resolver_service_create(sl_scheduler *s);
void resolver_service_shutdown(sl_scheduler *s);
void resolver_service_destroy(sl_scheduler *s);

/* The completion functions by which a trace build names an op's kind
 * (op_kind in scheduler.c); each is defined by its service. */
enum sl_op_kind {
    OPK_SENTINEL,
    OPK_USER,
    OPK_DESCRIPTOR,
    OPK_TIMER,
    OPK_IO,
    OPK_SIGNAL,
    OPK_RESOLVE
};
void descriptor_run(sl_op *op);       /* descriptor.c */
void descriptor_destroy(sl_op *op);   /* descriptor.c: shutdown, still queued */
void timer_wait_complete(sl_op *op);  /* timer.c */
void io_op_complete(sl_op *op);       /* socket.c */
void signal_wait_complete(sl_op *op); /* signal.c */
void signal_pipe_run(sl_op *op);      /* signal.c: the self-pipe's descriptor */
void resolve_complete(sl_op *op);     /* resolver.c */

#endif /* SL_INTERNAL_H */
