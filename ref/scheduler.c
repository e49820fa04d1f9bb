/* scheduler.c - the reference scheduler: a C port of corosio's
 * epoll_scheduler (upstream commit 6e759c2).
 *
 * Thread model (M1).  One thread at a time runs epoll_wait: the reactor.
 * The others, when they find no handler, block on one condition variable.
 * Handlers always run with the mutex released.
 *
 * The loop (do_one).  Under the mutex, pop the shared queue.  A handler:
 * if more are queued, wake one more thread first (cascading wake-ups), then
 * run it unlocked and reconcile the thread's private work (work_cleanup).
 * The task sentinel (M2): become the reactor -- polling when handlers are
 * queued, blocking otherwise -- queue what it found, push the sentinel back
 * at the tail.  An empty queue: block on the condvar.
 *
 * Signal word (M3).  `state`: bit 0 = signaled, each blocked waiter adds 2.
 * Signalers notify only when a waiter exists; a waiter that finds the bit
 * set does not block.
 *
 * Wake policy (M4, wake_one_thread_and_unlock).  A waiter if there is one;
 * else, if the reactor is blocked and not yet interrupted, interrupt it
 * through the eventfd (M5, at most one write outstanding); else nothing: a
 * running thread will find the work.
 *
 * Private queues (M7, M8).  Each thread running a scheduler has a frame on
 * a thread-local stack.  Posts from that thread go to the frame's queue and
 * count, with no lock; after each handler and each reactor run they are
 * folded into the shared atomic and spliced into the shared queue.
 *
 * Work counting (M9).  `outstanding_work` counts ops posted or pending;
 * when it reaches zero the scheduler stops and run returns.
 *
 * Invariants: the sentinel is in the shared queue exactly when no thread
 * is in the reactor (reference build); task_running is true only for the
 * thread that popped the sentinel; eventfd_armed is true from the write of
 * the eventfd until the reactor has read it.
 *
 * Variants hook in at one place (SL_VARIANT_FILE, included below), the way
 * Redis picks its polling backend: a variant file defines the switches and
 * the functions that replace the reference's.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* Helpers a variant's replacement functions may call (defined below). */
static void clear_signal(sl_scheduler *s);
static void wait_for_signal(sl_scheduler *s);
static void wait_for_signal_until(sl_scheduler *s, const struct timespec *d);
static void run_task(sl_scheduler *s, thread_context *ctx, long timeout_us,
                     bool mutex_held);
static bool run_handler(sl_scheduler *s, thread_context *ctx, sl_op *op);
static bool maybe_unlock_and_signal_one(sl_scheduler *s);
static bool unlock_and_signal_one(sl_scheduler *s);
static bool update_timerfd(sl_scheduler *s);
static void wake_one_thread_and_unlock(sl_scheduler *s);
static bool work_cleanup(sl_scheduler *s, thread_context *ctx);
static bool deadline_passed(const struct timespec *d);
static long remaining_us(const struct timespec *d);

#ifdef SL_VARIANT_FILE
#include SL_VARIANT_FILE
#endif
/* Mechanism switches a variant file may turn off. */
#ifndef SL_HAS_SENTINEL
#define SL_HAS_SENTINEL 1
#endif
#ifndef SL_HAS_PRIVATE_QUEUE
#define SL_HAS_PRIVATE_QUEUE 1
#endif
/* Hooks a variant file may replace; in the reference each is the plain
 * call it stands for, so the timed build carries nothing of them. */
#ifndef SL_VARIANT_STOP_WAKE
#define stop_wake_reactor interrupt_reactor /* sl_stop: always write */
#endif
#ifndef SL_VARIANT_CASCADE
#define cascade_wake_and_unlock unlock_and_signal_one /* condvar only */
#endif
#ifndef SL_VARIANT_REACTOR_PASS
#define reactor_pass_due(s, ctx) true /* a sentinel pop polls the reactor */
#endif
#ifndef SL_VARIANT_BATCH /* one op taken from the shared queue per lock */
#define take_batch(s, ctx) ((void)0)
#define run_batched(s, ctx, held) false
#define return_batch(s, ctx) ((void)0)
#define hand_off_batch(s, ctx) ((void)0)
#endif

/* ---- thread context stack (M7) ----------------------------------------- */

/* Upstream: epoll::context_stack, a thread_local_ptr. */
static _Thread_local thread_context *context_stack;

thread_context *find_context(const sl_scheduler *s)
{
    for (thread_context *c = context_stack; c; c = c->next)
        if (c->key == s)
            return c;
    return NULL;
}

/* Upstream: thread_context_guard's constructor and destructor. */
static void context_push(thread_context *frame, sl_scheduler *s)
{
    memset(frame, 0, sizeof *frame);
    frame->key = s;
    frame->next = context_stack;
    frame->inline_budget = 0;
    frame->inline_budget_max = SL_BUDGET_INITIAL;
    context_stack = frame;
}

/* The frame's private work was handed on by run_loop (drain_thread_queue)
 * before this is called. */
static void context_pop(thread_context *frame)
{
    context_stack = frame->next;
}

int sl_running_in_this_thread(sl_scheduler *s)
{
    return find_context(s) != NULL;
}

const char *sl_variant_name(void)
{
    return SL_VARIANT;
}

/* ---- signal word (M3) ------------------------------------------------- */

/* All of these are called with the mutex held. */

static void signal_all(sl_scheduler *s)
{
    s->state |= 1;
    pthread_cond_broadcast(&s->cond);
    SL_STAT(s, cond_notify_all);
    SL_TP(signal_all, s);
}

/* Signals one waiter and unlocks only if one exists; returns whether it
 * did (the mutex is still held when it returns false). */
static bool maybe_unlock_and_signal_one(sl_scheduler *s)
{
    s->state |= 1;
    if (s->state > 1) {
        sched_unlock(s);
        pthread_cond_signal(&s->cond);
        SL_STAT(s, cond_notify_one);
        SL_TP(signal_one, s, 1);
        return true;
    }
    return false;
}

/* Always unlocks; signals one waiter if any; returns whether one existed. */
static bool unlock_and_signal_one(sl_scheduler *s)
{
    s->state |= 1;
    bool have_waiters = s->state > 1;
    sched_unlock(s);
    if (have_waiters) {
        pthread_cond_signal(&s->cond);
        SL_STAT(s, cond_notify_one);
    }
    SL_TP(signal_one, s, have_waiters);
    return have_waiters;
}

static void clear_signal(sl_scheduler *s)
{
    s->state &= ~(size_t)1;
}

static void wait_for_signal(sl_scheduler *s)
{
    while ((s->state & 1) == 0) {
        s->state += 2;
        SL_STAT(s, cond_waits);
        SL_TP(wait_begin, s, -1L);
        pthread_cond_wait(&s->cond, &s->mutex);
        SL_STAT(s, mutex_locks);
        SL_TP(wait_end, s, (int)(s->state & 1));
        s->state -= 2;
    }
}

/* Waits once, at most until `deadline` (CLOCK_MONOTONIC, see create). */
static void wait_for_signal_until(sl_scheduler *s, const struct timespec *deadline)
{
    if ((s->state & 1) == 0) {
        s->state += 2;
        SL_STAT(s, cond_waits);
        SL_TP(wait_begin, s, 0L);
        pthread_cond_timedwait(&s->cond, &s->mutex, deadline);
        SL_STAT(s, mutex_locks);
        SL_TP(wait_end, s, (int)(s->state & 1));
        s->state -= 2;
    }
}

/* ---- reactor interruption (M5) and wake policy (M4) -------------------- */

void interrupt_reactor(sl_scheduler *s)
{
    bool expected = false;
    if (atomic_compare_exchange_strong_explicit(&s->eventfd_armed, &expected, true,
                                                memory_order_release,
                                                memory_order_relaxed)) {
        uint64_t one = 1;
        ssize_t r;
        do
            r = write(s->event_fd, &one, sizeof one);
        while (r < 0 && errno == EINTR);
        /* EAGAIN (counter full) still leaves the eventfd readable.  Any
         * other failure would leave the flag armed with nothing to read:
         * upstream ignores the result, so no interrupt would ever be
         * written again and a blocked reactor would sleep on queued work.
         * The kit disarms and wakes the reactor through the timerfd
         * instead (an expiry 1 ns away; the stale flag makes the reactor
         * reprogram the real one). */
        if (r < 0 && errno != EAGAIN) {
            atomic_store_explicit(&s->eventfd_armed, false, memory_order_relaxed);
            struct itimerspec soon = {.it_value = {.tv_sec = 0, .tv_nsec = 1}};
            atomic_store_explicit(&s->timerfd_stale, true, memory_order_seq_cst);
            (void)timerfd_settime(s->timer_fd, 0, &soon, NULL);
        }
        SL_STAT(s, eventfd_writes);
        SL_TP(eventfd_interrupt, s, 1);
    } else {
        SL_STAT(s, eventfd_skipped);
        SL_TP(eventfd_interrupt, s, 0);
    }
}

/* Mutex held on entry, released on return. */
static void wake_one_thread_and_unlock(sl_scheduler *s)
{
    if (maybe_unlock_and_signal_one(s))
        return;
    if (atomic_load_explicit(&s->task_running, memory_order_relaxed) &&
        !s->task_interrupted) {
        s->task_interrupted = true;
        sched_unlock(s);
        interrupt_reactor(s);
    } else {
        sched_unlock(s);
    }
}

/* ---- work counting (M9) ------------------------------------------------ */

void sl_work_started(sl_scheduler *s)
{
    atomic_fetch_add_explicit(&s->outstanding_work, 1, memory_order_relaxed);
}

void sl_stop(sl_scheduler *s);

void sl_work_finished(sl_scheduler *s)
{
    if (atomic_fetch_sub_explicit(&s->outstanding_work, 1, memory_order_acq_rel) == 1)
        sl_stop(s);
}

void compensating_work_started(sl_scheduler *s)
{
    thread_context *ctx = find_context(s);
    if (ctx)
        ++ctx->private_outstanding_work;
}

/* ---- posting (M8) ------------------------------------------------------ */

void sl_post(sl_scheduler *s, sl_op *op)
{
    thread_context *ctx;
    /* Fast path: this thread runs `s`; count privately, no lock. */
    if (SL_HAS_PRIVATE_QUEUE && (ctx = find_context(s)) != NULL) {
        ++ctx->private_outstanding_work;
        op_queue_push(&ctx->private_queue, op);
        SL_STAT(s, post_private);
        SL_TP(post, s, 0, OPQ_DEPTH_OF(&ctx->private_queue));
        return;
    }
    /* Slow path: count on the atomic, queue under the mutex, wake one. */
    atomic_fetch_add_explicit(&s->outstanding_work, 1, memory_order_relaxed);
    sched_lock(s);
    op_queue_push(&s->completed_ops, op);
    SL_STAT(s, post_shared);
    SL_TP(post, s, 1, OPQ_DEPTH_OF(&s->completed_ops));
    wake_one_thread_and_unlock(s);
}

void post_deferred_completions(sl_scheduler *s, sl_op_queue *ops)
{
    thread_context *ctx;
    if (op_queue_empty(ops))
        return;
    if (SL_HAS_PRIVATE_QUEUE && (ctx = find_context(s)) != NULL) {
        op_queue_splice(&ctx->private_queue, ops);
        return;
    }
    sched_lock(s);
    op_queue_splice(&s->completed_ops, ops);
    wake_one_thread_and_unlock(s);
}

/* Upstream: drain_thread_queue, from ~thread_context_guard: a thread
 * leaving a run function hands its private work to the others.  Mutex
 * held on entry, released on return.
 *
 * Defect fixed (upstream 6e759c2, still at 4276bd4): upstream splices the
 * private queue and signals a condvar waiter only; nothing wakes a thread
 * blocked in epoll_wait, and nothing at all is done when the queue was
 * already non-empty (handlers left behind by run_one, or the sentinel
 * pushed back after a timed reactor pass while another thread sleeps on
 * the condvar).  Work posted from run_one could then wait for an unrelated
 * event.  Here every exit that leaves work queued and outstanding goes
 * through the wake policy (M4): a condvar waiter, else an interrupt of a
 * blocked reactor. */
static void drain_thread_queue(sl_scheduler *s, thread_context *ctx)
{
    return_batch(s, ctx);
    if (ctx->private_outstanding_work > 0)
        atomic_fetch_add_explicit(&s->outstanding_work, ctx->private_outstanding_work,
                                  memory_order_relaxed);
    ctx->private_outstanding_work = 0;
    op_queue_splice(&s->completed_ops, &ctx->private_queue);
    /* Without the sentinel, a free reactor is itself work for a waiter. */
    bool handoff = !op_queue_empty(&s->completed_ops) ||
                   (!SL_HAS_SENTINEL &&
                    !atomic_load_explicit(&s->task_running, memory_order_relaxed));
    if (!s->stopped && handoff &&
        atomic_load_explicit(&s->outstanding_work, memory_order_acquire) > 0)
        wake_one_thread_and_unlock(s);
    else
        sched_unlock(s);
}

/* A run function entered from a handler of the same scheduler (a nested
 * run): the outer frame's private work is moved to the shared queue, so
 * the nested call sees it.  Upstream 6e759c2 leaves it in the outer frame,
 * where the nested call cannot reach it: a handler that posts and then
 * calls run_one blocks forever.  The outer handler's own unit stays
 * counted; its work_cleanup then finds a count of 0 and gives it back. */
static void hand_off_outer_frame(sl_scheduler *s, thread_context *outer)
{
    if (outer->private_outstanding_work > 0)
        atomic_fetch_add_explicit(&s->outstanding_work, outer->private_outstanding_work,
                                  memory_order_relaxed);
    outer->private_outstanding_work = 0;
    hand_off_batch(s, outer);
    /* Completions the outer handler started inline (they would run when it
     * returns) are handed on too, each counted as posted work. */
    long inline_n = 0;
    for (sl_op *op = outer->inline_ops.head; op; op = op->next)
        ++inline_n;
    if (inline_n)
        atomic_fetch_add_explicit(&s->outstanding_work, inline_n, memory_order_relaxed);
    if (op_queue_empty(&outer->private_queue) && inline_n == 0)
        return;
    sched_lock(s);
    op_queue_splice(&s->completed_ops, &outer->private_queue);
    op_queue_splice(&s->completed_ops, &outer->inline_ops);
    sched_unlock(s);
}

/* ---- inline budget (M11, M12) ------------------------------------------ */

#ifndef SL_VARIANT_BUDGET
/* Refill at the start of each I/O completion taken from the queue. */
static inline void budget_refill(sl_scheduler *s, thread_context *ctx)
{
    int old = ctx->inline_budget_max;
    (void)s; /* used by the probes only, absent from the timed build */
    (void)old;
    if (ctx->unassisted) {
        /* Nobody else could take queued work: a moderate cap amortises
         * scheduling without filling socket buffers in bursts. */
        ctx->inline_budget_max = SL_BUDGET_UNASSISTED;
        ctx->inline_budget = SL_BUDGET_UNASSISTED;
        SL_STAT(s, refill_unassisted);
        SL_TP(budget_refill, s, old, ctx->inline_budget_max, 1);
        return;
    }
    if (ctx->inline_budget == 0) {
        /* Fully spent last time: ramp up. */
        ctx->inline_budget_max = ctx->inline_budget_max * 2 < SL_BUDGET_MAX
                                     ? ctx->inline_budget_max * 2
                                     : SL_BUDGET_MAX;
        SL_STAT(s, refill_doubled);
    } else if (ctx->inline_budget < ctx->inline_budget_max) {
        /* Partly spent: EAGAIN was hit or a peer got scheduled. */
        ctx->inline_budget_max = SL_BUDGET_INITIAL;
        SL_STAT(s, refill_reset);
    } else {
        SL_STAT(s, refill_kept);
    }
    ctx->inline_budget = ctx->inline_budget_max;
    SL_TP(budget_refill, s, old, ctx->inline_budget_max, 0);
}

static inline bool budget_take(thread_context *ctx)
{
    if (ctx->inline_budget > 0) {
        --ctx->inline_budget;
        return true;
    }
    return false;
}
#endif

void reset_inline_budget(sl_scheduler *s)
{
    thread_context *ctx = find_context(s);
    if (ctx)
        budget_refill(s, ctx);
}

/* Upstream's try_consume_inline_budget: one unit of this thread's budget,
 * if any (the frame found once, then returned for the caller's use). */
static thread_context *consume_inline_budget(sl_scheduler *s)
{
    thread_context *ctx = find_context(s);
    if (ctx && budget_take(ctx)) {
        SL_STAT(s, inline_completions);
        SL_TP(inline_completion, s, ctx->inline_budget);
        return ctx;
    }
    SL_STAT(s, inline_posted);
    return NULL;
}

bool try_consume_inline_budget(sl_scheduler *s)
{
    return consume_inline_budget(s) != NULL;
}

void complete_after_handler(sl_scheduler *s, sl_op *op)
{
    thread_context *ctx = find_context(s);
    if (ctx)
        op_queue_push(&ctx->inline_ops, op);
    else
        op->complete(op);
}

bool try_complete_inline(sl_scheduler *s, sl_op *op)
{
    thread_context *ctx = consume_inline_budget(s);
    if (!ctx)
        return false;
    op_queue_push(&ctx->inline_ops, op);
    return true;
}

void sl_inline_budget(sl_scheduler *s, int *cap, int *left)
{
    thread_context *ctx = find_context(s);
    *cap = ctx ? ctx->inline_budget_max : -1;
    *left = ctx ? ctx->inline_budget : -1;
}

/* ---- work_cleanup / task_cleanup (M8) ---------------------------------- */

/* After a handler: fold the private count (it consumed one unit of work),
 * then splice the private queue into the shared queue, leaving the mutex
 * held if it had to take it.  Returns whether the mutex is held. */
static bool work_cleanup(sl_scheduler *s, thread_context *ctx)
{
    long produced = ctx->private_outstanding_work;
    if (produced > 1)
        atomic_fetch_add_explicit(&s->outstanding_work, produced - 1,
                                  memory_order_relaxed);
    else if (produced < 1)
        sl_work_finished(s);
    ctx->private_outstanding_work = 0;

    if (!op_queue_empty(&ctx->private_queue)) {
        sched_lock(s);
        op_queue_splice(&s->completed_ops, &ctx->private_queue);
        return true;
    }
    return false;
}

/* After a reactor run: the same without the -1.  Mutex not held on entry,
 * held on return (run_task relocks anyway). */
static void task_cleanup(sl_scheduler *s, thread_context *ctx)
{
    if (ctx->private_outstanding_work > 0) {
        atomic_fetch_add_explicit(&s->outstanding_work, ctx->private_outstanding_work,
                                  memory_order_relaxed);
        ctx->private_outstanding_work = 0;
    }
}

/* ---- timers (M6) ------------------------------------------------------- */

/* Store the stale flag, then load task_running; the reactor stores
 * task_running, then exchanges the stale flag.  Each side stores then
 * loads, so with release/acquire (upstream's orders) both may read the old
 * value: the hook does not interrupt and the reactor blocks with the
 * timerfd never programmed.  The kit's wake-protocol model
 * (tests/model) found this; sequentially consistent accesses on both
 * sides forbid it. */
#ifndef SL_VARIANT_TIMER_HOOK
void timers_earliest_changed(sl_scheduler *s)
{
    atomic_store_explicit(&s->timerfd_stale, true, memory_order_seq_cst);
    if (atomic_load_explicit(&s->task_running, memory_order_seq_cst))
        interrupt_reactor(s);
}
#endif

/* Returns false if the timerfd could not be programmed. */
static bool update_timerfd(sl_scheduler *s)
{
    uint64_t nearest = timer_service_nearest(s);
    struct itimerspec ts;
    memset(&ts, 0, sizeof ts);
    if (nearest != UINT64_MAX) { /* UINT64_MAX: none, disarm with 0 */
        uint64_t now = sl_now_ns();
        uint64_t ns = nearest > now ? nearest - now : 0;
        if (ns == 0)
            ns = 1; /* an expiry in the past: 0 would disarm */
        ts.it_value.tv_sec = (time_t)(ns / 1000000000u);
        ts.it_value.tv_nsec = (long)(ns % 1000000000u);
    }
    SL_STAT(s, timerfd_settime);
    SL_TP(timerfd_set, s,
          nearest == UINT64_MAX
              ? 0
              : (long)(ts.it_value.tv_sec * 1000000000L + ts.it_value.tv_nsec));
    /* Upstream throws here.  The kit cannot throw, and a timer must not be
     * lost: on failure the stale flag is set again, and run_task polls
     * every millisecond instead of blocking until programming succeeds. */
    if (timerfd_settime(s->timer_fd, 0, &ts, NULL) < 0) {
        atomic_store_explicit(&s->timerfd_stale, true, memory_order_seq_cst);
        return false;
    }
    return true;
}

/* ---- the reactor (M1, M10) -------------------------------------------- */

/* Mutex held on return (and on entry if `mutex_held`).  `timeout_us` < 0
 * blocks; otherwise epoll_wait waits at most that long, rounded up to whole
 * milliseconds (upstream f34a1ba passes a timeout; the seed always
 * blocked).  do_one passes what is left of the caller's deadline. */
static void run_task(sl_scheduler *s, thread_context *ctx, long timeout_us,
                     bool mutex_held)
{
    int timeout_ms;
    if (s->task_interrupted)
        timeout_ms = 0;
    else if (timeout_us < 0)
        timeout_ms = -1;
    else if (timeout_us / 1000 >= INT_MAX)
        timeout_ms = INT_MAX; /* about 24.8 days: do_one waits again */
    else
        timeout_ms = (int)(timeout_us / 1000 + (timeout_us % 1000 != 0));

    if (mutex_held)
        sched_unlock(s);
#ifdef SL_VARIANT_DUE_TIMERS
    timeout_ms = run_due_timers(s, timeout_ms);
#endif

    /* Flush deferred timerfd programming before blocking (M6). */
    if (atomic_exchange_explicit(&s->timerfd_stale, false, memory_order_seq_cst) &&
        !update_timerfd(s) && (timeout_ms < 0 || timeout_ms > 1))
        timeout_ms = 1; /* retry soon: see update_timerfd */

    struct epoll_event events[SL_EPOLL_EVENTS];
    SL_STAT(s, reactor_runs);
    if (timeout_ms == 0)
        SL_STAT(s, epoll_wait_zero);
    else
        SL_STAT(s, epoll_wait_blocking);
    SL_TP(reactor_enter, s, timeout_ms);
    int nfds = epoll_wait(s->epoll_fd, events, SL_EPOLL_EVENTS, timeout_ms);
    SL_TP(reactor_exit, s, nfds);
    /* Upstream throws on errors other than EINTR; the remaining ones
     * (EBADF, EFAULT, EINVAL) cannot happen with these arguments, and both
     * are treated as "no events" here. */

    bool check_timers = false;
    sl_op_queue local_ops = {0};
    for (int i = 0; i < nfds; ++i) {
        void *tag = events[i].data.ptr;
        if (tag == NULL) { /* the eventfd */
            uint64_t v;
            ssize_t r = read(s->event_fd, &v, sizeof v);
            (void)r;
            atomic_store_explicit(&s->eventfd_armed, false, memory_order_relaxed);
            continue;
        }
        if (tag == &s->timer_fd) {
            uint64_t expirations;
            ssize_t r = read(s->timer_fd, &expirations, sizeof expirations);
            (void)r;
            check_timers = true;
            continue;
        }
        /* Deferred I/O: record readiness, enqueue once, no I/O here. */
        descriptor_state *d = tag;
        /* seq_cst with the CAS below: pairs with descriptor_run, which
         * clears is_enqueued and then takes ready_events. */
        atomic_fetch_or_explicit(&d->ready_events, events[i].events,
                                 memory_order_seq_cst);
        SL_TP(descriptor_ready, s, d->fd, (unsigned)events[i].events);
        bool expected = false;
        if (atomic_compare_exchange_strong_explicit(&d->is_enqueued, &expected, true,
                                                    memory_order_seq_cst,
                                                    memory_order_seq_cst))
            op_queue_push(&local_ops, &d->op);
    }

    if (check_timers) {
        size_t n = timer_service_process_expired(s);
        (void)n;
        SL_TP(timers_expired, s, (long)n);
        update_timerfd(s);
    }

    task_cleanup(s, ctx);
    sched_lock(s);
    /* Upstream's order: the descriptors found by this pass, then the
     * private queue (timer completions and whatever the pass posted);
     * task_cleanup's splice runs in upstream's destructor, after the
     * splice of local_ops. */
    op_queue_splice(&s->completed_ops, &local_ops);
    op_queue_splice(&s->completed_ops, &ctx->private_queue);
}

/* ---- do_one ------------------------------------------------------------ */

#ifdef SL_TRACE
static int op_kind(const sl_scheduler *s, const sl_op *op)
{
    if (op == &s->task_op)
        return OPK_SENTINEL;
    if (op->complete == descriptor_run || op->complete == signal_pipe_run)
        return OPK_DESCRIPTOR;
    if (op->complete == timer_wait_complete)
        return OPK_TIMER;
    if (op->complete == io_op_complete)
        return OPK_IO;
    if (op->complete == signal_wait_complete)
        return OPK_SIGNAL;
    if (op->complete == resolve_complete)
        return OPK_RESOLVE;
    return OPK_USER;
}
#endif

/* Runs the handler `op` that was just popped, with the mutex held on entry
 * and released inside.  Returns whether the mutex is held on return. */
static bool run_handler(sl_scheduler *s, thread_context *ctx, sl_op *op)
{
    take_batch(s, ctx);
    bool more = !op_queue_empty(&s->completed_ops);
    if (more) {
        ctx->unassisted = !cascade_wake_and_unlock(s);
    } else {
        ctx->unassisted = false;
        sched_unlock(s);
    }
    SL_STAT(s, handlers_run);
    SL_TP(handler_begin, s, op, op_kind(s, op), OPQ_DEPTH_OF(&s->completed_ops));
    /* What the run functions count: handlers, not the kit's internal
     * descriptor runs (the completions those run are counted below). */
    if (op->complete != descriptor_run && op->complete != signal_pipe_run)
        ++ctx->invoked;
    op->complete(op);
    /* Inline completions started by that handler (and the first completion
     * of a descriptor run) run now, one after the other, at this stack
     * depth (see thread_context.inline_ops). */
    sl_op *next;
    while ((next = op_queue_pop(&ctx->inline_ops)) != NULL) {
        ++ctx->invoked;
        next->complete(next);
    }
    SL_TP(handler_end, s, op);
    return work_cleanup(s, ctx);
}

/* Absolute CLOCK_MONOTONIC deadline `usec` from now. */
struct timespec deadline_after(long usec)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += usec / 1000000;
    ts.tv_nsec += (usec % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

static bool deadline_passed(const struct timespec *d)
{
    return remaining_us(d) <= 0;
}

/* Microseconds left until `d`, rounded up; <= 0 once it has passed. */
static long remaining_us(const struct timespec *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long sec = (long long)d->tv_sec - (long long)now.tv_sec;
    if (sec > LONG_MAX / 1000000 - 1)
        return LONG_MAX; /* a deadline this far away: as good as never */
    long long ns = sec * 1000000000LL + (d->tv_nsec - now.tv_nsec);
    if (ns <= 0)
        return 0;
    return (long)((ns + 999) / 1000);
}

#ifndef SL_VARIANT_DO_ONE
/* One step of a run function.  Mutex held on entry.  Returns true when an
 * op was run (a handler, or an internal descriptor run that may have
 * completed nothing; the mutex state is returned in *held), false when the
 * call should return (stopped, no work, the poll found nothing, or the
 * deadline passed; mutex held).  ctx->polled: this call has made a reactor
 * pass with nothing else queued; a poll makes one such pass per call, so
 * readiness edges that complete nothing cannot keep it going.
 *
 * `timeout_us`: < 0 blocks, 0 polls, > 0 waits until `deadline`.
 *
 * Defects fixed (upstream 6e759c2; f34a1ba fixed only the first part of
 * the first):
 * - wait_one: the reactor is given what is left of the deadline, not the
 *   whole timeout on every pass, and a reactor pass that yields no handler
 *   (an eventfd write, a timer or descriptor that completes nothing, a
 *   signal delivered to the process) does not end the call: it ends with
 *   0 only once the deadline has passed.
 * - poll, poll_one, wait_one(0): with only the sentinel queued and work
 *   outstanding, upstream returns at once, so a poll never sees an expired
 *   timer or a ready socket.  Here it makes one zero-timeout reactor pass
 *   per step (as Asio's poll does) and runs what it found. */
static bool do_one(sl_scheduler *s, long timeout_us, const struct timespec *deadline,
                   thread_context *ctx, bool *held)
{
    for (;;) {
        if (s->stopped)
            return false;

        sl_op *op = op_queue_pop(&s->completed_ops);

        if (op == &s->task_op) { /* M2: the sentinel, time for the reactor */
            bool more_handlers = !op_queue_empty(&s->completed_ops);
            long task_timeout_us;
            if (more_handlers) {
                if (!reactor_pass_due(s, ctx)) {
                    op_queue_push(&s->completed_ops, &s->task_op);
                    continue;
                }
                task_timeout_us = 0;
            } else if (atomic_load_explicit(&s->outstanding_work, memory_order_acquire) ==
                           0 ||
                       (timeout_us == 0 && ctx->polled)) {
                op_queue_push(&s->completed_ops, &s->task_op);
                return false;
            } else if (timeout_us > 0) {
                /* A deadline already passed still gets the poll's one
                 * zero-timeout pass: what was ready at the call runs. */
                task_timeout_us = remaining_us(deadline);
                if (task_timeout_us <= 0 && ctx->polled) {
                    op_queue_push(&s->completed_ops, &s->task_op);
                    return false;
                }
                if (task_timeout_us < 0)
                    task_timeout_us = 0;
            } else {
                task_timeout_us = timeout_us; /* -1 blocks, 0 polls */
            }
            ctx->polled = true;
            s->task_interrupted = task_timeout_us == 0;
            /* seq_cst: pairs with timers_earliest_changed. */
            atomic_store_explicit(&s->task_running, true, memory_order_seq_cst);
            bool mutex_held = true;
            if (more_handlers) {
                unlock_and_signal_one(s);
                mutex_held = false;
            }
            run_task(s, ctx, task_timeout_us, mutex_held);
            atomic_store_explicit(&s->task_running, false, memory_order_relaxed);
            op_queue_push(&s->completed_ops, &s->task_op);
            continue;
        }

        if (op != NULL) {
            *held = run_handler(s, ctx, op);
            return true;
        }

        if (atomic_load_explicit(&s->outstanding_work, memory_order_acquire) == 0 ||
            timeout_us == 0)
            return false;

        clear_signal(s);
        if (timeout_us < 0) {
            wait_for_signal(s);
        } else {
            /* Upstream waits `usec` again on every pass; one deadline
             * bounds the whole call. */
            if (deadline_passed(deadline))
                return false;
            wait_for_signal_until(s, deadline);
        }
    }
}
#endif

/* ---- run / poll -------------------------------------------------------- */

/* The run functions.  Each returns the number of handlers it invoked (see
 * schedlab.h); `once` ends the call after the first step that invoked at
 * least one. */
static size_t run_loop(sl_scheduler *s, long timeout_us, bool once)
{
    thread_context *outer = find_context(s);
    if (outer)
        hand_off_outer_frame(s, outer);
    if (atomic_load_explicit(&s->outstanding_work, memory_order_acquire) == 0) {
        sl_stop(s);
        return 0;
    }
    struct timespec deadline = {0, 0};
    if (timeout_us > 0)
        deadline = deadline_after(timeout_us);
    /* Between the deadline and the first reactor turn (a test passes a
     * short deadline here, as a preempted thread would). */
    SL_RACE_WINDOW("run_loop_deadline", s);
    thread_context frame;
    context_push(&frame, s);
    SL_TP(run_begin, s, timeout_us);
    sched_lock(s);
    bool held = true;
    while (do_one(s, timeout_us, &deadline, &frame, &held)) {
        while (!(once && frame.invoked > 0) && run_batched(s, &frame, &held))
            ;
        if (once && frame.invoked > 0)
            break;
        if (!held) {
            sched_lock(s);
            held = true;
        }
    }
    if (!held)
        sched_lock(s);
    drain_thread_queue(s, &frame); /* unlocks */
    SL_TP(run_end, s, (long)frame.invoked);
    context_pop(&frame);
    return frame.invoked;
}

size_t sl_run(sl_scheduler *s)
{
    return run_loop(s, -1, false);
}
size_t sl_run_one(sl_scheduler *s)
{
    return run_loop(s, -1, true);
}
size_t sl_wait_one(sl_scheduler *s, long usec)
{
    return run_loop(s, usec < 0 ? 0 : usec, true); /* negative: a poll_one */
}
size_t sl_poll(sl_scheduler *s)
{
    return run_loop(s, 0, false);
}
size_t sl_poll_one(sl_scheduler *s)
{
    return run_loop(s, 0, true);
}

void sl_stop(sl_scheduler *s)
{
    sched_lock(s);
    if (!s->stopped) {
        s->stopped = true;
        SL_TP(stop, s);
        signal_all(s);
        stop_wake_reactor(s);
    }
    sched_unlock(s);
}

int sl_stopped(sl_scheduler *s)
{
    sched_lock(s);
    bool r = s->stopped;
    sched_unlock(s);
    return r;
}

void sl_restart(sl_scheduler *s)
{
    sched_lock(s);
    s->stopped = false;
    sched_unlock(s);
}

/* ---- descriptors ------------------------------------------------------- */

/* The descriptor's fields are set, under its mutex, before epoll_ctl:
 * the reactor may report the fd (and another thread run the descriptor)
 * the moment it is added.  Upstream sets them after the add, which lets a
 * run read a null scheduler and take a unit of work that was never given
 * (the kit's fault-injection suite found it by slowing epoll_ctl). */
int register_descriptor(sl_scheduler *s, int fd, descriptor_state *d)
{
    const uint32_t events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLERR | EPOLLHUP;
    desc_lock(d);
    d->registered_events = events;
    d->fd = fd;
    d->sched = s;
    d->read_ready = false;
    d->write_ready = false;
    desc_unlock(d);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.ptr = d;
    if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int err = -errno;
        desc_lock(d);
        d->registered_events = 0;
        desc_unlock(d);
        return err;
    }
    return 0;
}

void deregister_descriptor(sl_scheduler *s, int fd)
{
    epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- construction and shutdown (M13) ----------------------------------- */

/* The sentinel's hooks do nothing: popping it is what matters. */
static void task_op_nothing(sl_op *op)
{
    (void)op;
}

int sl_scheduler_create(sl_scheduler **out)
{
    int err;
    *out = NULL;
    sl_scheduler *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->epoll_fd = s->event_fd = s->timer_fd = -1;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mutex, NULL);

    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epoll_fd < 0)
        goto fail_errno;
    s->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->event_fd < 0)
        goto fail_errno;
    s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (s->timer_fd < 0)
        goto fail_errno;

    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLET;
    ev.data.ptr = NULL;
    if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->event_fd, &ev) < 0)
        goto fail_errno;
    ev.events = EPOLLIN | EPOLLERR;
    ev.data.ptr = &s->timer_fd;
    if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->timer_fd, &ev) < 0)
        goto fail_errno;

    if ((err = timer_service_create(s)) < 0)
        goto fail;
    if ((err = socket_service_create(s)) < 0)
        goto fail_services;
    if ((err = signal_service_create(s)) < 0)
        goto fail_services;
    if ((err = resolver_service_create(s)) < 0)
        goto fail_services;

    sl_op_init(&s->task_op, task_op_nothing, task_op_nothing);
    if (SL_HAS_SENTINEL)
        op_queue_push(&s->completed_ops, &s->task_op);
    *out = s;
    return 0;

fail_services:
    /* Each destroy is a no-op for a service that was never created. */
    resolver_service_destroy(s);
    signal_service_destroy(s);
    socket_service_destroy(s);
    timer_service_destroy(s);
    goto fail;
fail_errno:
    err = -errno;
fail:
    if (s->timer_fd >= 0)
        close(s->timer_fd);
    if (s->event_fd >= 0)
        close(s->event_fd);
    if (s->epoll_fd >= 0)
        close(s->epoll_fd);
    pthread_mutex_destroy(&s->mutex);
    pthread_cond_destroy(&s->cond);
    free(s);
    return err;
}

/* Every queued op gets its destroy hook, never its handler. */
static void destroy_queued_ops(sl_scheduler *s)
{
    sched_lock(s);
    sl_op *op;
    while ((op = op_queue_pop(&s->completed_ops)) != NULL) {
        if (op == &s->task_op)
            continue;
        sched_unlock(s);
        if (op->destroy)
            op->destroy(op);
        sched_lock(s);
    }
    sched_unlock(s);
}

static void shutdown_services(sl_scheduler *s)
{
    socket_service_shutdown(s);
    destroy_queued_ops(s);
    signal_service_shutdown(s);
    resolver_service_shutdown(s);
    timer_service_shutdown(s);
    destroy_queued_ops(s);
}

void sl_scheduler_shutdown(sl_scheduler *s)
{
    if (s->shut_down)
        return;
    s->shut_down = true;
    SL_TP(shutdown, s);
    /* Upstream's order: the sockets close (their pending ops are queued
     * as cancelled), the scheduler's queue is destroyed, then signals,
     * resolver and timers drop what they hold.  The resolver's helper
     * threads may still post a completion while it shuts down, so the
     * queue is destroyed once more at the end (upstream's shutdown leaves
     * such a late post to the scheduler's destructor). */
    shutdown_services(s);

    sched_lock(s);
    signal_all(s);
    sched_unlock(s);
    interrupt_reactor(s);
}

void sl_scheduler_destroy(sl_scheduler *s)
{
    if (!s)
        return;
    sl_scheduler_shutdown(s);
    /* Anything started between shutdown and now (a post, a timer wait, a
     * socket) gets its destroy hook: never its handler, never dropped. */
    shutdown_services(s);
    resolver_service_destroy(s);
    signal_service_destroy(s);
    socket_service_destroy(s);
    timer_service_destroy(s);
    close(s->timer_fd);
    close(s->event_fd);
    close(s->epoll_fd);
    pthread_mutex_destroy(&s->mutex);
    pthread_cond_destroy(&s->cond);
    free(s);
}

/* ---- stats ------------------------------------------------------------- */

/* sl_stats_enabled and the race-window hook: ref/stats.c. */
void sl_stats_read(sl_scheduler *s, sl_stats *out)
{
    memset(out, 0, sizeof *out);
    stats_read_common(s, out);
}

void sl_stats_reset(sl_scheduler *s)
{
#ifdef SL_STATS
    memset(&s->stats, 0, sizeof s->stats);
#else
    (void)s;
#endif
}
