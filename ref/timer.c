/* timer.c - the timer service: a min-heap of timers, several waiters per
 * timer, and the "earliest expiry changed" hook that drives the deferred
 * timerfd programming of the scheduler (M6).
 *
 * Port of upstream's detail/timer_service.hpp.  The heap holds (expiry,
 * timer) entries; each timer keeps its heap index, so cancel and
 * re-schedule are O(log n).  A timer enters the heap at its first wait, not
 * when its expiry is set.  The heap's minimum is cached in an atomic so the
 * reactor reads it without the service mutex.  Waits hold one unit of
 * outstanding work from wait to completion.
 *
 * Upstream recycles timer and waiter objects through free lists and
 * per-thread caches; in C the caller owns both (sl_timer, sl_timer_wait),
 * so there is nothing to recycle and waiting allocates nothing but heap
 * growth.  Upstream resumes a coroutine through its executor (a second
 * post); C calls the wait's handler directly from the completion op.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

/* heap_index and the waiter list head are written under the service
 * mutex but read without it on the fast paths (cancel and re-schedule of a
 * timer that has nothing pending, as upstream's might_have_pending_waits_
 * check): relaxed atomic accesses make those reads well defined. */
#define LOAD_RELAXED(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define STORE_RELAXED(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

/* `seq` orders timers of equal expiry by when they were scheduled (their
 * first wait, or a re-schedule while in the heap): they fire in that
 * order.  Upstream's heap compares expiries only, so equal expiries fire
 * in whatever order the heap's swaps left them. */
typedef struct heap_entry {
    uint64_t expiry;
    uint64_t seq;
    sl_timer *timer;
} heap_entry;

typedef struct sl_timer_service {
    pthread_mutex_t mutex;
    heap_entry *heap;
    size_t size, cap;
    _Atomic uint64_t cached_nearest; /* UINT64_MAX when the heap is empty */
    uint64_t next_seq;
} sl_timer_service;

static bool entry_before(const heap_entry *a, const heap_entry *b)
{
    return a->expiry < b->expiry || (a->expiry == b->expiry && a->seq < b->seq);
}

uint64_t sl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int timer_service_create(sl_scheduler *s)
{
    sl_timer_service *ts = calloc(1, sizeof *ts);
    if (!ts)
        return -ENOMEM;
    pthread_mutex_init(&ts->mutex, NULL);
    atomic_init(&ts->cached_nearest, UINT64_MAX);
    s->timers = ts;
    return 0;
}

void timer_service_destroy(sl_scheduler *s)
{
    sl_timer_service *ts = s->timers;
    if (!ts)
        return;
    pthread_mutex_destroy(&ts->mutex);
    free(ts->heap);
    free(ts);
    s->timers = NULL;
}

uint64_t timer_service_nearest(sl_scheduler *s)
{
    return atomic_load_explicit(&s->timers->cached_nearest, memory_order_acquire);
}

/* ---- heap (service mutex held) ------------------------------------------ */

static void refresh_cached_nearest(sl_timer_service *ts)
{
    atomic_store_explicit(&ts->cached_nearest, ts->size ? ts->heap[0].expiry : UINT64_MAX,
                          memory_order_release);
}

static void swap_heap(sl_timer_service *ts, size_t a, size_t b)
{
    heap_entry tmp = ts->heap[a];
    ts->heap[a] = ts->heap[b];
    ts->heap[b] = tmp;
    STORE_RELAXED(ts->heap[a].timer->heap_index, a);
    STORE_RELAXED(ts->heap[b].timer->heap_index, b);
}

static void up_heap(sl_timer_service *ts, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!entry_before(&ts->heap[i], &ts->heap[parent]))
            break;
        swap_heap(ts, i, parent);
        i = parent;
    }
}

static void down_heap(sl_timer_service *ts, size_t i)
{
    size_t child = 2 * i + 1;
    while (child < ts->size) {
        size_t min_child =
            (child + 1 == ts->size || entry_before(&ts->heap[child], &ts->heap[child + 1]))
                ? child
                : child + 1;
        if (entry_before(&ts->heap[i], &ts->heap[min_child]))
            break;
        swap_heap(ts, i, min_child);
        i = min_child;
        child = 2 * i + 1;
    }
}

static void remove_timer(sl_timer_service *ts, sl_timer *t)
{
    size_t i = t->heap_index;
    if (i >= ts->size)
        return;
    if (i != ts->size - 1)
        swap_heap(ts, i, ts->size - 1);
    STORE_RELAXED(t->heap_index, SIZE_MAX);
    --ts->size;
    if (i < ts->size) {
        if (i > 0 && entry_before(&ts->heap[i], &ts->heap[(i - 1) / 2]))
            up_heap(ts, i);
        else
            down_heap(ts, i);
    }
}

/* ---- waiter lists (service mutex held) ---------------------------------- */

static void waiter_push(sl_timer *t, sl_timer_waiter *w)
{
    w->link = NULL;
    w->prev = t->waiters_tail;
    if (t->waiters_tail)
        t->waiters_tail->link = w;
    else
        STORE_RELAXED(t->waiters, w);
    t->waiters_tail = w;
    w->timer = t;
}

static sl_timer_waiter *waiter_pop(sl_timer *t)
{
    sl_timer_waiter *w = t->waiters;
    if (w) {
        STORE_RELAXED(t->waiters, w->link);
        if (t->waiters)
            t->waiters->prev = NULL;
        else
            t->waiters_tail = NULL;
        w->timer = NULL;
        w->link = w->prev = NULL;
    }
    return w;
}

/* Moves every waiter of `t` to `out` (a list linked through `link`). */
static void waiters_take_all(sl_timer *t, sl_timer_waiter **out_head,
                             sl_timer_waiter **out_tail, int status)
{
    sl_timer_waiter *w;
    while ((w = waiter_pop(t)) != NULL) {
        w->status = status;
        if (*out_tail)
            (*out_tail)->link = w;
        else
            *out_head = w;
        *out_tail = w;
    }
}

/* Posts a detached list of completed waiters (no mutex held). */
static size_t post_waiters(sl_scheduler *s, sl_timer_waiter *w)
{
    size_t n = 0;
    while (w) {
        sl_timer_waiter *next = w->link;
        w->link = NULL;
        sl_post(s, &w->op);
        ++n;
        w = next;
    }
    return n;
}

/* ---- completion ops ------------------------------------------------------ */

/* Upstream: waiter_node::completion_op::operator(). */
void timer_wait_complete(sl_op *op)
{
    sl_timer_waiter *w = (sl_timer_waiter *)op;
    sl_scheduler *s = w->sched; /* the handler may free w */
    w->handler(w, w->status);
    sl_work_finished(s); /* the unit taken by sl_timer_waiter */
}

static void timer_wait_destroy(sl_op *op)
{
    sl_timer_waiter *w = (sl_timer_waiter *)op;
    sl_scheduler *s = w->sched;
    if (w->destroy)
        w->destroy(w);
    sl_work_finished(s);
}

void sl_timer_wait_init(sl_timer_waiter *w, void (*handler)(sl_timer_waiter *, int),
                        void (*destroy)(sl_timer_waiter *))
{
    sl_op_init(&w->op, timer_wait_complete, timer_wait_destroy);
    w->prev = w->link = NULL;
    w->timer = NULL;
    w->status = 0;
    w->handler = handler;
    w->destroy = destroy;
}

/* ---- public timer API --------------------------------------------------- */

void sl_timer_init(sl_timer *t, sl_scheduler *s)
{
    t->sched = s;
    t->expiry_ns = 0;
    t->heap_index = SIZE_MAX;
    t->waiters = t->waiters_tail = NULL;
}

/* Upstream: update_timer. */
size_t sl_timer_expires_at(sl_timer *t, uint64_t when_ns)
{
    sl_timer_service *ts = t->sched->timers;
    uint64_t old_expiry = t->expiry_ns;
    t->expiry_ns = when_ns;
    if (LOAD_RELAXED(t->heap_index) == SIZE_MAX && LOAD_RELAXED(t->waiters) == NULL)
        return 0;
    bool notify = false;
    sl_timer_waiter *head = NULL, *tail = NULL;
    pthread_mutex_lock(&ts->mutex);
    /* Waits on an expiry already passed complete as expired (see
     * sl_timer_cancel); the others are cancelled. */
    bool expired = old_expiry <= sl_now_ns();
    waiters_take_all(t, &head, &tail, expired ? 0 : SL_ECANCELED);
    if (t->heap_index < ts->size) {
        heap_entry *e = &ts->heap[t->heap_index];
        heap_entry old = *e;
        e->expiry = when_ns;
        e->seq = ts->next_seq++;
        if (entry_before(e, &old))
            up_heap(ts, t->heap_index);
        else
            down_heap(ts, t->heap_index);
        notify = t->heap_index == 0;
    }
    refresh_cached_nearest(ts);
    pthread_mutex_unlock(&ts->mutex);
    size_t n = post_waiters(t->sched, head);
    if (notify)
        timers_earliest_changed(t->sched);
    return expired ? 0 : n;
}

size_t sl_timer_expires_after(sl_timer *t, uint64_t delay_ns)
{
    uint64_t now = sl_now_ns();
    uint64_t when = delay_ns > UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + delay_ns;
    return sl_timer_expires_at(t, when);
}

/* Upstream: implementation::wait + insert_waiter. */
int sl_timer_wait(sl_timer *t, sl_timer_waiter *w)
{
    sl_scheduler *s = t->sched;
    sl_timer_service *ts = s->timers;
    if (!w->handler)
        return -EINVAL;
    w->status = 0;
    w->sched = s;
    if (LOAD_RELAXED(t->heap_index) == SIZE_MAX && t->expiry_ns <= sl_now_ns()) {
        /* Already expired: completes at once, through the queue -- after
         * the waits already due in the heap, so equal expiries keep the
         * order their waits were started in. */
        if (atomic_load_explicit(&ts->cached_nearest, memory_order_acquire) <= t->expiry_ns)
            timer_service_process_expired(s);
        sl_work_started(s);
        w->timer = NULL;
        sl_post(s, &w->op);
        return 0;
    }
    bool notify = false;
    pthread_mutex_lock(&ts->mutex);
    if (t->heap_index == SIZE_MAX && ts->size == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        heap_entry *h = realloc(ts->heap, cap * sizeof *h);
        if (!h) {
            pthread_mutex_unlock(&ts->mutex);
            return -ENOMEM;
        }
        ts->heap = h;
        ts->cap = cap;
    }
    /* Count the wait before it becomes visible: upstream counts after
     * inserting, and a wait started outside the scheduler's threads can
     * then be completed (and its unit consumed) before it was counted,
     * stopping run early.  Found by the kit's model (tests/model). */
    sl_work_started(s);
    if (t->heap_index == SIZE_MAX) {
        STORE_RELAXED(t->heap_index, ts->size);
        ts->heap[ts->size].expiry = t->expiry_ns;
        ts->heap[ts->size].seq = ts->next_seq++;
        ts->heap[ts->size].timer = t;
        ++ts->size;
        up_heap(ts, t->heap_index);
        notify = t->heap_index == 0;
        refresh_cached_nearest(ts);
    }
    waiter_push(t, w);
    pthread_mutex_unlock(&ts->mutex);
    if (notify)
        timers_earliest_changed(s);
    return 0;
}

/* Upstream: cancel_timer.  A wait whose expiry has already passed is no
 * longer cancellable, as in Asio: if the reactor has not harvested it yet,
 * it completes here with status 0 and is not counted as cancelled
 * (upstream cancels it, so whether a due wait reports expiry or
 * SL_ECANCELED depended on how soon the reactor had run). */
size_t sl_timer_cancel(sl_timer *t)
{
    sl_timer_service *ts = t->sched->timers;
    if (LOAD_RELAXED(t->heap_index) == SIZE_MAX && LOAD_RELAXED(t->waiters) == NULL)
        return 0;
    sl_timer_waiter *head = NULL, *tail = NULL;
    pthread_mutex_lock(&ts->mutex);
    bool expired = t->expiry_ns <= sl_now_ns();
    remove_timer(ts, t);
    waiters_take_all(t, &head, &tail, expired ? 0 : SL_ECANCELED);
    refresh_cached_nearest(ts);
    pthread_mutex_unlock(&ts->mutex);
    size_t n = post_waiters(t->sched, head);
    return expired ? 0 : n;
}

/* Upstream: cancel_one_waiter. */
size_t sl_timer_cancel_one(sl_timer *t)
{
    sl_timer_service *ts = t->sched->timers;
    pthread_mutex_lock(&ts->mutex);
    if (t->waiters && t->expiry_ns <= sl_now_ns()) {
        /* Due: every wait completes as expired (see sl_timer_cancel). */
        sl_timer_waiter *head = NULL, *tail = NULL;
        remove_timer(ts, t);
        waiters_take_all(t, &head, &tail, 0);
        refresh_cached_nearest(ts);
        pthread_mutex_unlock(&ts->mutex);
        post_waiters(t->sched, head);
        return 0;
    }
    sl_timer_waiter *w = waiter_pop(t);
    if (!w) {
        pthread_mutex_unlock(&ts->mutex);
        return 0;
    }
    w->status = SL_ECANCELED;
    if (t->waiters == NULL)
        remove_timer(ts, t);
    refresh_cached_nearest(ts);
    pthread_mutex_unlock(&ts->mutex);
    return post_waiters(t->sched, w);
}

void sl_timer_destroy(sl_timer *t)
{
    sl_timer_cancel(t);
}

/* Called by the reactor when the timerfd fired. */
size_t timer_service_process_expired(sl_scheduler *s)
{
    sl_timer_service *ts = s->timers;
    sl_timer_waiter *head = NULL, *tail = NULL;
    pthread_mutex_lock(&ts->mutex);
    uint64_t now = sl_now_ns();
    while (ts->size && ts->heap[0].expiry <= now) {
        sl_timer *t = ts->heap[0].timer;
        remove_timer(ts, t);
        waiters_take_all(t, &head, &tail, 0);
    }
    refresh_cached_nearest(ts);
    pthread_mutex_unlock(&ts->mutex);
    return post_waiters(s, head);
}

/* Pending waits are destroyed, not run: each gives back its work unit. */
void timer_service_shutdown(sl_scheduler *s)
{
    sl_timer_service *ts = s->timers;
    sl_timer_waiter *head = NULL, *tail = NULL;
    pthread_mutex_lock(&ts->mutex);
    while (ts->size) {
        sl_timer *t = ts->heap[0].timer;
        remove_timer(ts, t);
        waiters_take_all(t, &head, &tail, SL_ECANCELED);
    }
    refresh_cached_nearest(ts);
    pthread_mutex_unlock(&ts->mutex);
    while (head) {
        sl_timer_waiter *next = head->link;
        head->link = NULL;
        timer_wait_destroy(&head->op);
        head = next;
    }
}
