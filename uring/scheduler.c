/* scheduler.c - the io_uring scheduler: a C port of corosio's
 * io_uring_scheduler (upstream commit 4276bd4, io_uring_scheduler.hpp),
 * behind the same schedlab.h as the epoll reference.
 *
 * Proactor model.  Operations are submitted to the kernel as SQEs and
 * their completions reaped as CQEs; nothing waits for readiness.  A reaped
 * CQE hands its result to the op (cqe_func) and the op joins the shared
 * queue, where any thread running the scheduler picks it up.
 *
 * Leader and followers (upstream do_one).  One thread at a time is the
 * leader: it submits pending SQEs and waits in the kernel for a CQE
 * (io_uring_wait_cqe_timeout), with the ring mutex released, then reaps
 * under the ring mutex.  The other threads run queued handlers or wait on
 * the condvar.  Two mutexes: the dispatch mutex (ref's `mutex`: shared
 * queue, condvar, leadership) and the ring mutex (every userspace touch of
 * the SQ and CQ); order ring -> dispatch.
 *
 * Lazy batched submission (upstream submit_sqes_op, after Asio's).  An op
 * fills an SQE under the ring mutex; the first op of a batch posts the
 * scheduler's one submit op, which later submits the whole batch with one
 * io_uring_submit_and_get_events and reaps what is ready.
 *
 * Wake-up.  An eventfd watched by a multishot poll request on the ring
 * (user_data NULL): a write makes a CQE that returns the leader from its
 * kernel wait.
 *
 * No private queues, no sentinel, no timerfd: posts always go to the
 * shared queue (upstream's io_uring scheduler has none of M7/M8's private
 * queues), the leader role is a flag, and the leader's kernel wait is
 * bounded by the nearest timer instead of a timerfd.  What the kit's
 * contracts add to upstream's loop is named at each place.
 */
#include "uring.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#ifndef SL_URING_ENTRIES
#define SL_URING_ENTRIES 256 /* upstream: io_uring_queue_init_params(256, ...) */
#endif
/* Upstream's inline budget: a frame starts at 2 and is refilled to 16
 * before every handler, so each handler has 16 (io_uring_inline_budget_
 * initial / _max; no adaptive rule). */
#define URING_BUDGET_INITIAL 2
#define URING_BUDGET_MAX 16

typedef struct uring_sched {
    sl_scheduler base; /* first: what ref's services see */
    struct io_uring ring;
    pthread_mutex_t ring_mutex; /* upstream ring_mutex_ */
    int wakeup_fd;              /* upstream wakeup_eventfd_ */
    atomic_bool stopped;        /* upstream stopped_ (atomic: read unlocked) */
    bool task_running;          /* leader present; dispatch mutex */
    atomic_bool wakeup_armed;
    atomic_long inflight; /* upstream io_uring_inflight_ */
    bool submit_op_posted; /* ring mutex */
    sl_op submit_op;       /* upstream submit_sqes_op */
    uring_op cancel_tag;   /* user_data of cancel SQEs (cancel_sentinel_) */
    pthread_mutex_t regs_mutex;
    struct desc_reg *regs; /* descriptor polls (signal pipe) */
#ifdef SL_STATS
    struct {
        atomic_uint_fast64_t submits, enters, cqes;
    } ustats;
#endif
} uring_sched;

#define U(s) ((uring_sched *)(s))

#ifdef SL_STATS
#define U_STAT_ADD(u, f, n)                                                              \
    atomic_fetch_add_explicit(&(u)->ustats.f, (n), memory_order_relaxed)
#else
#define U_STAT_ADD(u, f, n) ((void)0)
#endif

/* ---- thread frames --------------------------------------------------------- */

/* Upstream: io_uring_scheduler_frame and tl_running_scheduler_frame_.  The
 * frame is ref's thread_context (only key, next, the budget and the inline
 * list are used) plus what the kit's counting contract needs. */
typedef struct uring_frame {
    thread_context ctx; /* first: find_context returns it */
    bool compensated;   /* the running internal op completed nothing */
    bool handed_on;     /* it handed its completion to the inline list */
} uring_frame;

static _Thread_local thread_context *frames;

thread_context *find_context(const sl_scheduler *s)
{
    for (thread_context *c = frames; c; c = c->next)
        if (c->key == s)
            return c;
    return NULL;
}

int sl_running_in_this_thread(sl_scheduler *s)
{
    return find_context(s) != NULL;
}

const char *sl_variant_name(void)
{
    return SL_VARIANT;
}

/* ---- wake-up eventfd ---------------------------------------------------------- */

/* Upstream writes the eventfd unconditionally: the leader's kernel wait
 * has no other way out, so a coalesced (dropped) wake-up could strand it;
 * every write makes one CQE of the multishot poll. */
void interrupt_reactor(sl_scheduler *s)
{
    uring_sched *u = U(s);
    uint64_t one = 1;
    ssize_t r;
    do
        r = write(u->wakeup_fd, &one, sizeof one);
    while (r < 0 && errno == EINTR);
    atomic_store_explicit(&u->wakeup_armed, true, memory_order_release);
    SL_STAT(s, eventfd_writes);
    SL_TP(eventfd_interrupt, s, 1);
}

/* Upstream: drain_wakeup_eventfd. */
static void drain_wakeup_eventfd(uring_sched *u)
{
    uint64_t v;
    ssize_t r = read(u->wakeup_fd, &v, sizeof v);
    (void)r;
    atomic_store_explicit(&u->wakeup_armed, false, memory_order_release);
}

/* ---- work counting --------------------------------------------------------- */

void sl_work_started(sl_scheduler *s)
{
    atomic_fetch_add_explicit(&s->outstanding_work, 1, memory_order_relaxed);
}

void sl_work_finished(sl_scheduler *s)
{
    if (atomic_fetch_sub_explicit(&s->outstanding_work, 1, memory_order_acq_rel) == 1)
        sl_stop(s);
}

/* An internal run (a descriptor poll's run) that completed nothing: it
 * gives back the unit its pop will consume, and it is not a user handler
 * for the run functions' count. */
void compensating_work_started(sl_scheduler *s)
{
    uring_frame *f = (uring_frame *)find_context(s);
    sl_work_started(s);
    if (f)
        f->compensated = true;
}

/* ---- posting ----------------------------------------------------------------- */

/* Dispatch mutex held on entry, released on return: wake the leader if it
 * is in the kernel, else one condvar waiter (upstream post()). */
static void wake_and_unlock(uring_sched *u)
{
    sl_scheduler *s = &u->base;
    bool wake_leader = u->task_running;
    if (!wake_leader) {
        pthread_cond_signal(&s->cond);
        SL_STAT(s, cond_notify_one);
    }
    sched_unlock(s);
    if (wake_leader)
        interrupt_reactor(s);
}

void sl_post(sl_scheduler *s, sl_op *op)
{
    atomic_fetch_add_explicit(&s->outstanding_work, 1, memory_order_relaxed);
    sched_lock(s);
    op_queue_push(&s->completed_ops, op);
    SL_STAT(s, post_shared);
    SL_TP(post, s, 1, OPQ_DEPTH_OF(&s->completed_ops));
    wake_and_unlock(U(s));
}

void post_deferred_completions(sl_scheduler *s, sl_op_queue *ops)
{
    if (op_queue_empty(ops))
        return;
    sched_lock(s);
    op_queue_splice(&s->completed_ops, ops);
    wake_and_unlock(U(s));
}

/* ---- inline budget --------------------------------------------------------- */

/* Upstream: reset_inline_budget, called before every handler. */
void reset_inline_budget(sl_scheduler *s)
{
    thread_context *c = find_context(s);
    if (c)
        c->inline_budget = c->inline_budget_max;
}

bool try_consume_inline_budget(sl_scheduler *s)
{
    thread_context *c = find_context(s);
    if (c && c->inline_budget > 0) {
        --c->inline_budget;
        SL_STAT(s, inline_completions);
        return true;
    }
    SL_STAT(s, inline_posted);
    return false;
}

/* Upstream resumes the coroutine by dispatch_coro; in C the completed op
 * waits on the frame's inline list and runs right after the handler that
 * started it, at the same stack depth (as in ref). */
/* The running internal op (the signal pipe's run) hands its first
 * completion on: it runs right after, counted, and the internal op is not
 * counted itself (as ref's descriptor and pipe runs). */
void complete_after_handler(sl_scheduler *s, sl_op *op)
{
    uring_frame *f = (uring_frame *)find_context(s);
    if (!f) {
        op->complete(op);
        return;
    }
    f->handed_on = true;
    op_queue_push(&f->ctx.inline_ops, op);
}

bool try_complete_inline(sl_scheduler *s, sl_op *op)
{
    thread_context *c = find_context(s);
    if (!c || c->inline_budget <= 0) {
        SL_STAT(s, inline_posted);
        return false;
    }
    --c->inline_budget;
    SL_STAT(s, inline_completions);
    op_queue_push(&c->inline_ops, op);
    return true;
}

void sl_inline_budget(sl_scheduler *s, int *cap, int *left)
{
    thread_context *c = find_context(s);
    *cap = c ? c->inline_budget_max : -1;
    *left = c ? c->inline_budget : -1;
}

/* ---- timers ------------------------------------------------------------------ */

/* Upstream: the timer service's on_earliest_changed callback. */
void timers_earliest_changed(sl_scheduler *s)
{
    interrupt_reactor(s);
}

/* Upstream calls process_expired whenever the heap is not empty; the port
 * first compares the cached nearest expiry with the clock. */
static void process_timers(sl_scheduler *s)
{
    uint64_t nearest = timer_service_nearest(s);
    if (nearest != UINT64_MAX && nearest <= sl_now_ns())
        timer_service_process_expired(s);
}

/* ---- the ring ---------------------------------------------------------------- */

/* Upstream: process_completions.  Ring mutex held. */
static void process_completions(uring_sched *u)
{
    sl_scheduler *s = &u->base;
    unsigned head, consumed = 0;
    long inflight_dec = 0;
    struct io_uring_cqe *cqe;
    sl_op_queue local = {0};
    io_uring_for_each_cqe(&u->ring, head, cqe)
    {
        uring_op *op = io_uring_cqe_get_data(cqe);
        if (op == NULL) {
            /* The wake-up eventfd's multishot poll; re-armed if the kernel
             * ended it (no IORING_CQE_F_MORE). */
            drain_wakeup_eventfd(u);
            if (!(cqe->flags & IORING_CQE_F_MORE)) {
                struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
                if (!sqe) {
                    io_uring_submit(&u->ring);
                    sqe = io_uring_get_sqe(&u->ring);
                }
                if (sqe) {
                    io_uring_prep_poll_multishot(sqe, u->wakeup_fd, POLLIN);
                    io_uring_sqe_set_data(sqe, NULL);
                }
            }
        } else if (op == &u->cancel_tag) {
            ++inflight_dec; /* an ASYNC_CANCEL's own CQE */
        } else {
            op->cqe(op, cqe->res, cqe->flags, &local);
            if (!(cqe->flags & IORING_CQE_F_MORE))
                ++inflight_dec;
        }
        ++consumed;
    }
    if (inflight_dec)
        atomic_fetch_sub_explicit(&u->inflight, inflight_dec, memory_order_acq_rel);
    if (consumed) {
        io_uring_cq_advance(&u->ring, consumed);
        U_STAT_ADD(u, cqes, consumed);
        SL_TP(uring_reap, s, (int)consumed);
    }
    if (!op_queue_empty(&local)) {
        sched_lock(s);
        op_queue_splice(&s->completed_ops, &local);
        pthread_cond_signal(&s->cond);
        SL_STAT(s, cond_notify_one);
        sched_unlock(s);
    }
}

/* Submit what is queued and take what is ready, without waiting (upstream
 * io_uring_submit_and_get_events + process_completions).  Ring mutex held. */
static void pump_locked(uring_sched *u)
{
    SL_TP(uring_submit, &u->base, (int)io_uring_sq_ready(&u->ring));
    U_STAT_ADD(u, submits, io_uring_sq_ready(&u->ring));
    U_STAT_ADD(u, enters, 1);
    SL_STAT(&u->base, epoll_wait_zero);
    io_uring_submit_and_get_events(&u->ring);
    process_completions(u);
}

void uring_reap_now(sl_scheduler *s)
{
    uring_sched *u = U(s);
    pthread_mutex_lock(&u->ring_mutex);
    pump_locked(u);
    pthread_mutex_unlock(&u->ring_mutex);
}

/* Upstream: submit_sqes_op::do_handler. */
static void submit_op_run(sl_op *op)
{
    uring_sched *u = (uring_sched *)((char *)op - offsetof(uring_sched, submit_op));
    pthread_mutex_lock(&u->ring_mutex);
    u->submit_op_posted = false;
    pump_locked(u);
    pthread_mutex_unlock(&u->ring_mutex);
    /* Internal: not a user handler (its unit, from the post, is used up
     * by the pop as any op's). */
    uring_frame *f = (uring_frame *)find_context(&u->base);
    if (f)
        f->compensated = true;
}

static void submit_op_nothing(sl_op *op)
{
    uring_sched *u = (uring_sched *)((char *)op - offsetof(uring_sched, submit_op));
    u->submit_op_posted = false;
}

/* One SQE, after one flush if the SQ is full.  Ring mutex held. */
static struct io_uring_sqe *get_sqe(uring_sched *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {
        U_STAT_ADD(u, submits, io_uring_sq_ready(&u->ring));
        U_STAT_ADD(u, enters, 1);
        io_uring_submit(&u->ring);
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

/* Upstream: io_uring_submit_op. */
void uring_submit_op(sl_scheduler *s, uring_op *op)
{
    uring_sched *u = U(s);
    bool need_post = false;
    pthread_mutex_lock(&u->ring_mutex);
    struct io_uring_sqe *sqe = get_sqe(u);
    if (!sqe) {
        /* The SQ stayed full: the op fails with EAGAIN through the queue. */
        pthread_mutex_unlock(&u->ring_mutex);
        op->res = -EAGAIN;
        sched_lock(s);
        op_queue_push(&s->completed_ops, &op->op);
        wake_and_unlock(u);
        return;
    }
    op->prep(op, sqe);
    io_uring_sqe_set_data(sqe, op);
    atomic_fetch_add_explicit(&u->inflight, 1, memory_order_release);
    atomic_store_explicit(&op->sqe_set, true, memory_order_release);
    if (!u->submit_op_posted) {
        u->submit_op_posted = true;
        need_post = true; /* the first of a batch posts the flush */
    }
    pthread_mutex_unlock(&u->ring_mutex);
    if (need_post)
        sl_post(s, &u->submit_op);
}

/* Upstream: submit_cancel_by_user_data and submit_cancel_by_fd.  Upstream
 * leaves the cancel SQE for the next flush and wakes the leader; the port
 * submits it at once, so the cancel reaches the kernel whatever the
 * leader does next (and before the caller can start another op). */
static void submit_cancel(uring_sched *u, uring_op *target, int fd)
{
    pthread_mutex_lock(&u->ring_mutex);
    struct io_uring_sqe *sqe = get_sqe(u);
    if (sqe) {
        if (target)
            io_uring_prep_cancel(sqe, target, 0);
        else
            io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data(sqe, &u->cancel_tag);
        atomic_fetch_add_explicit(&u->inflight, 1, memory_order_release);
    }
    U_STAT_ADD(u, submits, io_uring_sq_ready(&u->ring));
    U_STAT_ADD(u, enters, 1);
    io_uring_submit(&u->ring);
    pthread_mutex_unlock(&u->ring_mutex);
    /* The cancelled ops' CQEs need a reaper: wake the leader. */
    interrupt_reactor(&u->base);
}

void uring_cancel_by_user_data(sl_scheduler *s, uring_op *target)
{
    if (atomic_load_explicit(&target->sqe_set, memory_order_acquire))
        submit_cancel(U(s), target, -1);
}

void uring_cancel_by_fd(sl_scheduler *s, int fd)
{
    submit_cancel(U(s), NULL, fd);
}

/* Upstream: cancel_and_flush: the cancel is submitted while `fd` is still
 * open, so the kernel resolves it before the number can be reused. */
void uring_cancel_and_flush(sl_scheduler *s, int fd)
{
    submit_cancel(U(s), NULL, fd);
}

/* ---- descriptor polls (what ref's signal service registers) ---------------- */

/* ref/signal.c watches its self-pipe through register_descriptor and
 * expects the epoll reactor's behaviour: OR the events into ready_events,
 * queue the descriptor's op once.  Here a multishot IORING_OP_POLL_ADD
 * does the same; upstream's io_uring signal service has its own reader op
 * instead (C differs: one poll request keeps ref's service unchanged). */
typedef struct desc_reg {
    uring_op u;
    descriptor_state *d;
    int fd;
    bool active; /* ring mutex */
    struct desc_reg *next;
} desc_reg;

static void desc_reg_prep(uring_op *op, struct io_uring_sqe *sqe)
{
    desc_reg *r = (desc_reg *)op;
    io_uring_prep_poll_multishot(sqe, r->fd, POLLIN | POLLERR | POLLHUP);
}

/* Ring mutex held (process_completions). */
static void desc_reg_cqe(uring_op *op, int res, unsigned flags, sl_op_queue *local)
{
    desc_reg *r = (desc_reg *)op;
    descriptor_state *d = r->d;
    if (res > 0 && r->active) {
        atomic_fetch_or_explicit(&d->ready_events, (unsigned)res, memory_order_relaxed);
        bool expected = false;
        if (atomic_compare_exchange_strong_explicit(&d->is_enqueued, &expected, true,
                                                    memory_order_release,
                                                    memory_order_relaxed))
            op_queue_push(local, &d->op);
    }
    if (!(flags & IORING_CQE_F_MORE) && r->active) {
        /* The kernel ended the multishot poll: arm it again. */
        uring_sched *u = U(d->sched);
        struct io_uring_sqe *sqe = get_sqe(u);
        if (sqe) {
            desc_reg_prep(op, sqe);
            io_uring_sqe_set_data(sqe, op);
            atomic_fetch_add_explicit(&u->inflight, 1, memory_order_release);
        }
    }
}

int register_descriptor(sl_scheduler *s, int fd, descriptor_state *d)
{
    uring_sched *u = U(s);
    desc_reg *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    pthread_mutex_lock(&d->mutex);
    d->fd = fd;
    d->sched = s;
    d->registered_events = POLLIN;
    pthread_mutex_unlock(&d->mutex);
    r->u.cqe = desc_reg_cqe;
    r->u.prep = desc_reg_prep;
    r->d = d;
    r->fd = fd;
    r->active = true;
    pthread_mutex_lock(&u->regs_mutex);
    r->next = u->regs;
    u->regs = r;
    pthread_mutex_unlock(&u->regs_mutex);
    /* Not counted as work (an epoll registration is not either); the
     * submission goes out at once so a signal raised now is seen. */
    pthread_mutex_lock(&u->ring_mutex);
    struct io_uring_sqe *sqe = get_sqe(u);
    if (!sqe) {
        r->active = false;
        pthread_mutex_unlock(&u->ring_mutex);
        return -EBUSY;
    }
    desc_reg_prep(&r->u, sqe);
    io_uring_sqe_set_data(sqe, &r->u);
    atomic_fetch_add_explicit(&u->inflight, 1, memory_order_release);
    atomic_store(&r->u.sqe_set, true);
    U_STAT_ADD(u, submits, io_uring_sq_ready(&u->ring));
    U_STAT_ADD(u, enters, 1);
    io_uring_submit(&u->ring);
    pthread_mutex_unlock(&u->ring_mutex);
    interrupt_reactor(s);
    return 0;
}

void deregister_descriptor(sl_scheduler *s, int fd)
{
    uring_sched *u = U(s);
    desc_reg *found = NULL;
    pthread_mutex_lock(&u->regs_mutex);
    for (desc_reg *r = u->regs; r; r = r->next)
        if (r->fd == fd && r->active)
            found = r;
    pthread_mutex_unlock(&u->regs_mutex);
    if (!found)
        return;
    pthread_mutex_lock(&u->ring_mutex);
    found->active = false;
    pthread_mutex_unlock(&u->ring_mutex);
    uring_cancel_by_user_data(s, &found->u);
}

/* ---- do_one -------------------------------------------------------------------- */

#ifdef SL_TRACE
static int op_kind(const uring_sched *u, const sl_op *op)
{
    if (op == &u->submit_op)
        return OPK_SENTINEL; /* the internal flush op: the nearest kind */
    if (op->complete == signal_pipe_run)
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

static struct timespec abs_after_ns(uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec += (long)(ns % 1000000000u);
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* Runs `op` (just popped; dispatch mutex released) and what it completed
 * inline; returns how many user handlers ran. */
static size_t run_handler(uring_sched *u, uring_frame *f, sl_op *op)
{
    sl_scheduler *s = &u->base;
    size_t n = 0;
    reset_inline_budget(s);
    f->compensated = false;
    f->handed_on = false;
    SL_STAT(s, handlers_run);
    SL_TP(handler_begin, s, op, op_kind(u, op), OPQ_DEPTH_OF(&s->completed_ops));
    op->complete(op);
    if (!f->compensated && !f->handed_on)
        ++n;
    sl_op *next;
    while ((next = op_queue_pop(&f->ctx.inline_ops)) != NULL) {
        next->complete(next);
        ++n;
    }
    SL_TP(handler_end, s, op);
    sl_work_finished(s); /* the popped op's unit (upstream: work_finished()) */
    return n;
}

/* Upstream: do_one.  timeout_us < 0 blocks, 0 polls, > 0 is the deadline
 * of wait_one.  Returns the number of user handlers run (0: none ran and
 * the caller returns). */
static size_t do_one(uring_sched *u, long timeout_us, uring_frame *f)
{
    sl_scheduler *s = &u->base;
    uint64_t deadline = 0;
    if (timeout_us > 0) { /* far deadlines saturate: never overflow */
        uint64_t now = sl_now_ns();
        uint64_t us = (uint64_t)timeout_us;
        deadline = us > (UINT64_MAX - now) / 1000u ? UINT64_MAX : now + us * 1000u;
    }

    for (;;) {
        if (atomic_load_explicit(&u->stopped, memory_order_acquire))
            return 0;

        /* Upstream's top-of-do_one pump: with io_uring work in flight, an
         * SQE waiting or a CQE ready, submit and reap without waiting, so
         * a queue that never empties cannot starve the ring. */
        pthread_mutex_lock(&u->ring_mutex);
        if (atomic_load_explicit(&u->inflight, memory_order_acquire) != 0 ||
            io_uring_sq_ready(&u->ring) != 0 || io_uring_cq_ready(&u->ring) != 0)
            pump_locked(u);
        pthread_mutex_unlock(&u->ring_mutex);
        /* Upstream drains expired timers here too, for the same reason. */
        process_timers(s);

        sched_lock(s);
        for (;;) {
            if (atomic_load_explicit(&u->stopped, memory_order_acquire)) {
                sched_unlock(s);
                return 0;
            }
            sl_op *op = op_queue_pop(&s->completed_ops);
            if (op) {
                /* Hand the rest to a follower (upstream: notify_one). */
                if (!op_queue_empty(&s->completed_ops)) {
                    pthread_cond_signal(&s->cond);
                    SL_STAT(s, cond_notify_one);
                }
                sched_unlock(s);
                size_t n = run_handler(u, f, op);
                if (n)
                    return n;
                break; /* internal op: go on (the kit counts user handlers) */
            }
            if (atomic_load_explicit(&s->outstanding_work, memory_order_acquire) == 0) {
                sched_unlock(s);
                return 0;
            }
            /* The kit's wait_one contract: 0 only once the deadline passed. */
            uint64_t now = sl_now_ns();
            if (timeout_us > 0 && now >= deadline) {
                sched_unlock(s);
                return 0;
            }
            if (u->task_running) {
                /* A leader is in the kernel: poll returns, the others wait
                 * for it to deliver work or give up leadership. */
                if (timeout_us == 0) {
                    sched_unlock(s);
                    return 0;
                }
                SL_STAT(s, cond_waits);
                SL_TP(wait_begin, s, timeout_us < 0 ? -1L : 0L);
                if (timeout_us < 0) {
                    pthread_cond_wait(&s->cond, &s->mutex);
                } else {
                    struct timespec d = abs_after_ns(deadline - now);
                    pthread_cond_timedwait(&s->cond, &s->mutex, &d);
                }
                SL_STAT(s, mutex_locks);
                SL_TP(wait_end, s, 1);
                continue;
            }

            /* Become the leader.  The kernel wait is bounded by the nearest
             * timer and, for wait_one, by what is left of the deadline (the
             * kit's contract; upstream gives the whole usec when no timer
             * is pending and returns after one pass).  run() with nothing
             * else to bound it waits at most 1 s, as upstream does, against
             * a lost wake-up. */
            struct __kernel_timespec ts = {0, 0};
            uint64_t wait_ns;
            if (timeout_us == 0) {
                wait_ns = 0;
            } else {
                wait_ns = timeout_us > 0 ? deadline - now : 1000000000u;
                uint64_t nearest = timer_service_nearest(s);
                if (nearest != UINT64_MAX)
                    wait_ns = nearest <= now ? 0 : (nearest - now < wait_ns ? nearest - now
                                                                            : wait_ns);
            }
            ts.tv_sec = (long long)(wait_ns / 1000000000u);
            ts.tv_nsec = (long long)(wait_ns % 1000000000u);
            u->task_running = true;
            sched_unlock(s);

            /* Phase 1: submit what is pending. */
            pthread_mutex_lock(&u->ring_mutex);
            SL_TP(uring_submit, s, (int)io_uring_sq_ready(&u->ring));
            U_STAT_ADD(u, submits, io_uring_sq_ready(&u->ring));
            io_uring_submit(&u->ring);
            pthread_mutex_unlock(&u->ring_mutex);
            /* Phase 2: wait for a CQE, ring mutex released (the wait only
             * peeks at the CQ; other threads may submit meanwhile). */
            SL_STAT(s, reactor_runs);
            if (wait_ns == 0)
                SL_STAT(s, epoll_wait_zero);
            else
                SL_STAT(s, epoll_wait_blocking);
            U_STAT_ADD(u, enters, 1);
            SL_TP(reactor_enter, s, (int)(wait_ns / 1000000u));
            struct io_uring_cqe *cqe = NULL;
            int rc = io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
            SL_TP(reactor_exit, s, (int)io_uring_cq_ready(&u->ring));
            /* Phase 3: reap under the ring mutex.  Errors other than
             * ETIME/EINTR (upstream throws) are treated as an empty pass. */
            pthread_mutex_lock(&u->ring_mutex);
            (void)rc;
            process_completions(u);
            pthread_mutex_unlock(&u->ring_mutex);
            process_timers(s);

            sched_lock(s);
            u->task_running = false;
            pthread_cond_broadcast(&s->cond);
            SL_STAT(s, cond_notify_all);
            if (timeout_us == 0 && op_queue_empty(&s->completed_ops)) {
                sched_unlock(s);
                return 0;
            }
        }
    }
}

/* ---- run / poll ---------------------------------------------------------------- */

static size_t run_loop(sl_scheduler *s, long timeout_us, bool once)
{
    uring_sched *u = U(s);
    if (atomic_load_explicit(&s->outstanding_work, memory_order_acquire) == 0) {
        sl_stop(s);
        return 0;
    }
    uring_frame f;
    memset(&f, 0, sizeof f);
    f.ctx.key = s;
    f.ctx.inline_budget = URING_BUDGET_INITIAL;
    f.ctx.inline_budget_max = URING_BUDGET_MAX;
    /* Nested run of the same scheduler from a handler: completions the
     * outer frame holds for after its handler go to the shared queue now,
     * so this call can run them (the kit's nesting contract). */
    thread_context *outer = find_context(s);
    if (outer && !op_queue_empty(&outer->inline_ops)) {
        sl_op_queue moved = {0};
        long k = 0;
        for (sl_op *o = outer->inline_ops.head; o; o = o->next)
            ++k;
        op_queue_splice(&moved, &outer->inline_ops);
        atomic_fetch_add_explicit(&s->outstanding_work, k, memory_order_relaxed);
        post_deferred_completions(s, &moved);
    }
    f.ctx.next = frames;
    frames = &f.ctx;
    SL_TP(run_begin, s, timeout_us);
    size_t n = 0;
    for (;;) {
        size_t r = do_one(u, timeout_us, &f);
        if (!r)
            break;
        n = n + r < n ? SIZE_MAX : n + r;
        if (once)
            break;
    }
    frames = f.ctx.next;
    /* The kit's hand-off contract: leaving with work queued, make sure
     * another thread (or the leader) hears of it. */
    sched_lock(s);
    if (!op_queue_empty(&s->completed_ops) &&
        atomic_load_explicit(&s->outstanding_work, memory_order_acquire) > 0)
        wake_and_unlock(u);
    else
        sched_unlock(s);
    SL_TP(run_end, s, (long)n);
    return n;
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
    return run_loop(s, usec < 0 ? 0 : usec, true);
}
size_t sl_poll(sl_scheduler *s)
{
    return run_loop(s, 0, false);
}
size_t sl_poll_one(sl_scheduler *s)
{
    return run_loop(s, 0, true);
}

/* Upstream: stop() writes the eventfd unconditionally as well. */
void sl_stop(sl_scheduler *s)
{
    uring_sched *u = U(s);
    atomic_store_explicit(&u->stopped, true, memory_order_release);
    sched_lock(s);
    s->stopped = true;
    pthread_cond_broadcast(&s->cond);
    SL_STAT(s, cond_notify_all);
    sched_unlock(s);
    SL_TP(stop, s);
    interrupt_reactor(s);
}

int sl_stopped(sl_scheduler *s)
{
    return atomic_load_explicit(&U(s)->stopped, memory_order_acquire);
}

void sl_restart(sl_scheduler *s)
{
    sched_lock(s);
    s->stopped = false;
    sched_unlock(s);
    atomic_store_explicit(&U(s)->stopped, false, memory_order_release);
}

/* ---- construction and shutdown ----------------------------------------------- */

/* Setup flags.  Upstream sets IORING_SETUP_SINGLE_ISSUER (one submitter
 * thread: the kernel skips SQ locking) and IORING_SETUP_DEFER_TASKRUN
 * (task work batched at io_uring_enter(GETEVENTS) instead of interrupting
 * the thread) only when the io_context is configured single-threaded, and
 * never in multi-threaded mode, where any thread may submit and the leader
 * changes.  This API has no single-threaded mode, so the port sets neither;
 * SQPOLL (upstream's opt-in) is not ported.  Upstream also defers the ring
 * to first use so that configuration can come first; with nothing to
 * configure the port creates it here, so create reports an unusable
 * io_uring (ENOSYS, EPERM under seccomp or io_uring_disabled) at once. */
int sl_scheduler_create(sl_scheduler **out)
{
    int err;
    *out = NULL;
    uring_sched *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    sl_scheduler *s = &u->base;
    u->wakeup_fd = -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mutex, NULL);
    pthread_mutex_init(&u->ring_mutex, NULL);
    pthread_mutex_init(&u->regs_mutex, NULL);
    s->epoll_fd = s->event_fd = s->timer_fd = -1;

    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    err = io_uring_queue_init_params(SL_URING_ENTRIES, &u->ring, &params);
    if (err < 0)
        goto fail_noring;
    u->wakeup_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (u->wakeup_fd < 0) {
        err = -errno;
        goto fail;
    }
    /* The wake-up eventfd, watched by a multishot poll (user_data NULL). */
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    io_uring_prep_poll_multishot(sqe, u->wakeup_fd, POLLIN);
    io_uring_sqe_set_data(sqe, NULL);
    err = io_uring_submit(&u->ring);
    if (err < 0)
        goto fail;
    sl_op_init(&u->submit_op, submit_op_run, submit_op_nothing);

    if ((err = timer_service_create(s)) < 0)
        goto fail;
    if ((err = socket_service_create(s)) < 0)
        goto fail_services;
    if ((err = signal_service_create(s)) < 0)
        goto fail_services;
    if ((err = resolver_service_create(s)) < 0)
        goto fail_services;
    *out = s;
    return 0;

fail_services:
    resolver_service_destroy(s);
    signal_service_destroy(s);
    socket_service_destroy(s);
    timer_service_destroy(s);
fail:
    if (u->wakeup_fd >= 0)
        close(u->wakeup_fd);
    io_uring_queue_exit(&u->ring);
fail_noring:
    pthread_mutex_destroy(&u->regs_mutex);
    pthread_mutex_destroy(&u->ring_mutex);
    pthread_mutex_destroy(&s->mutex);
    pthread_cond_destroy(&s->cond);
    free(u);
    return err;
}

/* Upstream's order (execution_context): the services shut down (sockets
 * submit a cancel for each fd), then the scheduler destroys what is
 * queued.  The port reaps once in between, so cancelled ops whose CQEs are
 * already there are destroyed too; the rest go with the ring. */
/* The services, then every queued op's destroy hook (as ref). */
static void shutdown_services(sl_scheduler *s)
{
    socket_service_shutdown(s);
    signal_service_shutdown(s);
    resolver_service_shutdown(s);
    timer_service_shutdown(s);
    uring_reap_now(s);
    sched_lock(s);
    sl_op *op;
    while ((op = op_queue_pop(&s->completed_ops)) != NULL) {
        sched_unlock(s);
        if (op->destroy)
            op->destroy(op);
        sched_lock(s);
    }
    sched_unlock(s);
}

void sl_scheduler_shutdown(sl_scheduler *s)
{
    uring_sched *u = U(s);
    if (s->shut_down)
        return;
    s->shut_down = true;
    SL_TP(shutdown, s);
    shutdown_services(s);
    atomic_store_explicit(&u->stopped, true, memory_order_release);
    sched_lock(s);
    pthread_cond_broadcast(&s->cond);
    sched_unlock(s);
    interrupt_reactor(s);
}

void sl_scheduler_destroy(sl_scheduler *s)
{
    if (!s)
        return;
    uring_sched *u = U(s);
    sl_scheduler_shutdown(s);
    /* Anything started between shutdown and now gets its destroy hook. */
    shutdown_services(s);
    /* The ring goes first: the kernel lets go of every buffer and socket
     * still named by an in-flight request before the services free them. */
    io_uring_queue_exit(&u->ring);
    close(u->wakeup_fd);
    resolver_service_destroy(s);
    signal_service_destroy(s);
    socket_service_destroy(s);
    timer_service_destroy(s);
    while (u->regs) {
        desc_reg *r = u->regs;
        u->regs = r->next;
        free(r);
    }
    pthread_mutex_destroy(&u->regs_mutex);
    pthread_mutex_destroy(&u->ring_mutex);
    pthread_mutex_destroy(&s->mutex);
    pthread_cond_destroy(&s->cond);
    free(u);
}

/* ---- stats ------------------------------------------------------------------- */

/* sl_stats_enabled and the race-window hook (which the io_uring scheduler
 * names no window for yet): ref/stats.c.  The epoll names keep their
 * meaning where one exists: epoll_wait_blocking and _zero count the
 * leader's kernel waits and the non-waiting pumps, reactor_runs the leader
 * passes, eventfd_writes the wake-ups. */
void sl_stats_read(sl_scheduler *s, sl_stats *out)
{
    memset(out, 0, sizeof *out);
    stats_read_common(s, out);
#ifdef SL_STATS
    out->uring_submits = atomic_load(&U(s)->ustats.submits);
    out->uring_enters = atomic_load(&U(s)->ustats.enters);
    out->uring_cqes = atomic_load(&U(s)->ustats.cqes);
#endif
}

void sl_stats_reset(sl_scheduler *s)
{
#ifdef SL_STATS
    memset(&s->stats, 0, sizeof s->stats);
    memset(&U(s)->ustats, 0, sizeof U(s)->ustats);
#else
    (void)s;
#endif
}
