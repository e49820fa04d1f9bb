/* test_timer.c - the timer service and the deferred timerfd programming
 * (M6): expiry order, cancel, several waiters, past expiries, a new
 * earliest timer interrupting a blocked reactor, and schedule+cancel
 * costing no timerfd_settime. */
#include "common.h"

#include <errno.h>

typedef struct tw {
    sl_timer_waiter w;
    int id;
    int status;
    atomic_int fired;
    int *log;
    atomic_int *log_n;
    uint64_t at_ns;
} tw;

static void tw_handler(sl_timer_waiter *w, int status)
{
    tw *t = (tw *)w;
    t->status = status;
    t->at_ns = sl_now_ns();
    atomic_fetch_add(&t->fired, 1);
    if (t->log)
        t->log[atomic_fetch_add(t->log_n, 1)] = t->id;
}

static void tw_init(tw *t, int id, int *log, atomic_int *log_n)
{
    memset(t, 0, sizeof *t);
    sl_timer_wait_init(&t->w, tw_handler, NULL);
    t->id = id;
    t->log = log;
    t->log_n = log_n;
    t->status = 12345;
}

void timer_fires_in_expiry_order(void **state)
{
    (void)state;
    enum { N = 12 };
    static const int delay_ms[N] = {7, 2, 11, 5, 1, 9, 3, 12, 4, 8, 6, 10};
    sl_scheduler *s = new_sched();
    sl_timer timers[N];
    tw waits[N];
    int log[N];
    atomic_int n = 0;
    /* One base, 100 ms ahead: slow builds (valgrind) set them slowly, and a
     * wait on an expiry already past completes at once, in wait order. */
    uint64_t base = sl_now_ns() + 100000000u;
    for (int i = 0; i < N; ++i) {
        sl_timer_init(&timers[i], s);
        sl_timer_expires_at(&timers[i], base + (uint64_t)delay_ms[i] * 3000000u);
        tw_init(&waits[i], delay_ms[i], log, &n);
        assert_int_equal(sl_timer_wait(&timers[i], &waits[i].w), 0);
    }
    assert_int_equal(sl_run(s), N);
    assert_int_equal(atomic_load(&n), N);
    for (int i = 0; i < N; ++i) {
        assert_int_equal(log[i], i + 1);
        assert_int_equal(waits[i].status, 0);
    }
    sl_scheduler_destroy(s);
}

/* Never early, and not late: five rounds of a 10 ms timer.  Each fires
 * at or after its expiry and within a generous 1 s; the least late of the
 * five (one round on time is enough under load) within 30 ms, which a
 * timer fired a whole scheduling quantum late does not meet. */
void timer_fires_not_before_expiry(void **state)
{
    (void)state;
    enum { ROUNDS = 5 };
    sl_scheduler *s = new_sched();
    uint64_t least_late = UINT64_MAX;
    for (int round = 0; round < ROUNDS; ++round) {
        sl_timer t;
        tw w;
        sl_timer_init(&t, s);
        uint64_t start = sl_now_ns();
        sl_timer_expires_after(&t, 10000000u);
        tw_init(&w, 0, NULL, NULL);
        sl_timer_wait(&t, &w.w);
        sl_restart(s);
        assert_int_equal(sl_run(s), 1);
        assert_true(w.at_ns >= start + 10000000u);
        assert_true(w.at_ns < start + 1000000000u);
        if (w.at_ns - start - 10000000u < least_late)
            least_late = w.at_ns - start - 10000000u;
    }
    if (least_late >= 30000000u)
        fail_msg("the least late of %d timers fired %.1f ms late", ROUNDS,
                 least_late / 1e6);
    sl_scheduler_destroy(s);
}

void timer_cancel_completes_waiters_cancelled(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    tw a, b;
    sl_timer_init(&t, s);
    sl_timer_expires_after(&t, 10ull * 1000000000u);
    tw_init(&a, 1, NULL, NULL);
    tw_init(&b, 2, NULL, NULL);
    sl_timer_wait(&t, &a.w);
    sl_timer_wait(&t, &b.w);
    assert_int_equal(sl_timer_cancel(&t), 2);
    assert_int_equal(sl_timer_cancel(&t), 0);
    uint64_t t0 = sl_now_ns();
    assert_int_equal(sl_run(s), 2);
    assert_true(elapsed_ms_since(t0) < 1000);
    assert_int_equal(a.status, SL_ECANCELED);
    assert_int_equal(b.status, SL_ECANCELED);
    sl_scheduler_destroy(s);
}

void timer_cancel_one_cancels_oldest_waiter(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    tw a, b;
    sl_timer_init(&t, s);
    /* 200 ms: a due wait is no longer cancellable, and valgrind is slow */
    sl_timer_expires_after(&t, 200000000u);
    tw_init(&a, 1, NULL, NULL);
    tw_init(&b, 2, NULL, NULL);
    sl_timer_wait(&t, &a.w);
    sl_timer_wait(&t, &b.w);
    assert_int_equal(sl_timer_cancel_one(&t), 1);
    assert_int_equal(sl_run(s), 2);
    assert_int_equal(a.status, SL_ECANCELED);
    assert_int_equal(b.status, 0);
    sl_scheduler_destroy(s);
}

void timer_several_waiters_all_fire(void **state)
{
    (void)state;
    enum { N = 5 };
    sl_scheduler *s = new_sched();
    sl_timer t;
    tw w[N];
    sl_timer_init(&t, s);
    sl_timer_expires_after(&t, 2000000u);
    for (int i = 0; i < N; ++i) {
        tw_init(&w[i], i, NULL, NULL);
        sl_timer_wait(&t, &w[i].w);
    }
    assert_int_equal(sl_run(s), N);
    for (int i = 0; i < N; ++i) {
        assert_int_equal(atomic_load(&w[i].fired), 1);
        assert_int_equal(w[i].status, 0);
    }
    sl_scheduler_destroy(s);
}

void timer_expiry_in_past_fires_at_once(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    tw w;
    sl_timer_init(&t, s);
    sl_timer_expires_at(&t, sl_now_ns() - 5000000000ull);
    tw_init(&w, 0, NULL, NULL);
    assert_int_equal(sl_timer_wait(&t, &w.w), 0);
    assert_int_equal(sl_poll(s), 1); /* already queued: poll finds it */
    assert_int_equal(atomic_load(&w.fired), 1);
    assert_int_equal(w.status, 0);
    sl_scheduler_destroy(s);
}

void timer_reschedule_cancels_pending_waits(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    tw a, b;
    sl_timer_init(&t, s);
    sl_timer_expires_after(&t, 10ull * 1000000000u);
    tw_init(&a, 1, NULL, NULL);
    sl_timer_wait(&t, &a.w);
    assert_int_equal(sl_timer_expires_after(&t, 1000000u), 1);
    tw_init(&b, 2, NULL, NULL);
    sl_timer_wait(&t, &b.w);
    uint64_t t0 = sl_now_ns();
    assert_int_equal(sl_run(s), 2);
    assert_true(elapsed_ms_since(t0) < 500); /* the 1 ms expiry, not 10 s */
    assert_int_equal(a.status, SL_ECANCELED);
    assert_int_equal(b.status, 0);
    sl_scheduler_destroy(s);
}

/* A thread blocks in epoll_wait with only a 30 s timer pending; a 5 ms
 * timer scheduled from another thread must interrupt it and fire. */
static sl_timer far_timer;
static void near_handler(sl_timer_waiter *w, int status)
{
    tw_handler(w, status);
    sl_timer_cancel(&far_timer); /* let run finish */
}

void timer_new_earliest_interrupts_blocked_reactor(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer near;
    tw fw, nw;
    sl_timer_init(&far_timer, s);
    sl_timer_expires_after(&far_timer, 30ull * 1000000000u);
    tw_init(&fw, 1, NULL, NULL);
    sl_timer_wait(&far_timer, &fw.w);
    run_thread r;
    start_run_thread(&r, s);
    sleep_ms(30); /* the runner is now blocked in the reactor */
    sl_timer_init(&near, s);
    uint64_t t0 = sl_now_ns(); /* before the expiry is computed from now */
    sl_timer_expires_after(&near, 5000000u);
    tw_init(&nw, 2, NULL, NULL);
    sl_timer_wait_init(&nw.w, near_handler, NULL);
    sl_timer_wait(&near, &nw.w);
    join_run_thread(&r, 10000);
    assert_int_equal(atomic_load(&nw.fired), 1);
    assert_true(nw.at_ns - t0 >= 5000000u);
    assert_true(nw.at_ns - t0 < 500000000ull); /* 5 ms, not the 30 s one */
    assert_int_equal(nw.status, 0);
    assert_int_equal(fw.status, SL_ECANCELED);
    sl_scheduler_destroy(s);
}

/* A wait started from outside the scheduler's threads is counted before it
 * becomes visible to the reactor.  Counted after (upstream's order), the
 * reactor can fire and complete it in between, consuming a unit that was
 * never given: outstanding work reaches zero while the test still holds
 * one, and run stops.  The eventfd write that the new earliest expiry
 * makes is slowed (fault_delay) to hold that window open for 100 ms. */
void timer_wait_counted_before_it_is_visible(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_work_started(s); /* the test's own unit: run must not stop */
    run_thread r;
    start_run_thread(&r, s);
    sleep_ms(30); /* blocked in the reactor, no timer pending */
    sl_timer t;
    tw w;
    sl_timer_init(&t, s);
    sl_timer_expires_after(&t, 1000000u);
    tw_init(&w, 0, NULL, NULL);
    fault_delay("write", -1, 1, 100000);
    assert_int_equal(sl_timer_wait(&t, &w.w), 0);
    fault_clear();
    uint64_t t0 = sl_now_ns();
    while (!atomic_load(&w.fired) && elapsed_ms_since(t0) < 5000)
        sleep_ms(1);
    assert_int_equal(atomic_load(&w.fired), 1);
    sleep_ms(10);
    assert_false(run_thread_returned(&r));
    assert_false(sl_stopped(s));
    sl_work_finished(s);
    join_run_thread(&r, 5000);
    assert_int_equal(r.result, 1);
    sl_scheduler_destroy(s);
}

/* The fast paths of cancel and re-schedule read a timer's heap index and
 * waiter list without the service mutex, while the reactor thread writes
 * them under it.  Here the reactor thread fires the timer, and this thread
 * then takes both fast paths with nothing ordering it after those writes:
 * the reads must be atomic (ThreadSanitizer reports plain ones). */
void timer_fast_paths_after_expiry_on_another_thread(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_work_started(s);
    run_thread r;
    start_run_thread(&r, s);
    sleep_ms(20);
    sl_timer t;
    tw w;
    sl_timer_init(&t, s);
    sl_timer_expires_after(&t, 1000000u);
    tw_init(&w, 0, NULL, NULL);
    assert_int_equal(sl_timer_wait(&t, &w.w), 0);
    sleep_ms(100); /* fired on the runner; no synchronisation with it */
    assert_int_equal(sl_timer_cancel(&t), 0);
    assert_int_equal(sl_timer_expires_after(&t, 1000000000u), 0);
    sl_work_finished(s);
    join_run_thread(&r, 5000);
    assert_int_equal(atomic_load(&w.fired), 1);
    assert_int_equal(w.status, 0);
    sl_scheduler_destroy(s);
}

/* M6: scheduling then cancelling costs no timerfd_settime at all; the
 * reactor programs the timerfd at most once when it next runs. */
void timer_schedule_cancel_makes_no_timerfd_settime(void **state)
{
    (void)state;
    enum { N = 1000 };
    sl_scheduler *s = new_sched();
    sl_timer t;
    static tw w[N];
    long before = fault_calls("timerfd_settime");
    sl_timer_init(&t, s);
    for (int i = 0; i < N; ++i) {
        sl_timer_expires_after(&t, 1000000000u + (uint64_t)i);
        tw_init(&w[i], i, NULL, NULL);
        sl_timer_wait(&t, &w[i].w);
        sl_timer_cancel(&t);
    }
    assert_int_equal(fault_calls("timerfd_settime") - before, 0);
    assert_int_equal(sl_run(s), N); /* the cancelled completions */
    for (int i = 0; i < N; ++i)
        assert_int_equal(w[i].status, SL_ECANCELED);
    /* At most the one flush of the stale flag before the reactor ran. */
    assert_true(fault_calls("timerfd_settime") - before <= 1);
    sl_stats st;
    sl_stats_read(s, &st);
    sl_scheduler_destroy(s);
    if (!HAVE_STATS())
        skip(); /* the scheduler's own count needs the counters */
    assert_true(st.timerfd_settime <= 1);
}

/* Pending waits at shutdown are destroyed, not run. */
static atomic_int destroyed_waits;
static void count_destroy_wait(sl_timer_waiter *w)
{
    (void)w;
    atomic_fetch_add(&destroyed_waits, 1);
}

void timer_shutdown_destroys_pending_waits(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    tw w[3];
    atomic_store(&destroyed_waits, 0);
    sl_timer_init(&t, s);
    sl_timer_expires_after(&t, 60ull * 1000000000u);
    for (int i = 0; i < 3; ++i) {
        tw_init(&w[i], i, NULL, NULL);
        sl_timer_wait_init(&w[i].w, tw_handler, count_destroy_wait);
        sl_timer_wait(&t, &w[i].w);
    }
    sl_scheduler_destroy(s);
    assert_int_equal(atomic_load(&destroyed_waits), 3);
    for (int i = 0; i < 3; ++i)
        assert_int_equal(atomic_load(&w[i].fired), 0);
}

/* 2000 timers with random expiries, half cancelled: the heap keeps order. */
void timer_heap_order_with_random_cancels(void **state)
{
    (void)state;
    enum { N = 2000 };
    sl_scheduler *s = new_sched();
    static sl_timer t[N];
    static tw w[N];
    static int log[N];
    atomic_int n = 0;
    unsigned seed = 12345;
    uint64_t base = sl_now_ns() + 300000000u; /* 300 ms: set-up time under TSan */
    for (int i = 0; i < N; ++i) {
        seed = seed * 1103515245u + 12345u;
        sl_timer_init(&t[i], s);
        sl_timer_expires_at(&t[i], base + (seed >> 8) % 30000000u);
        tw_init(&w[i], i, log, &n);
        sl_timer_wait(&t[i], &w[i].w);
    }
    int cancelled = 0;
    for (int i = 0; i < N; i += 2)
        cancelled += (int)sl_timer_cancel(&t[i]);
    /* A wait already due when cancelled (a slow build may take 20 ms to
     * get here) is not cancellable: it completes with 0, uncounted. */
    assert_true(cancelled > N / 4);
    assert_int_equal(sl_run(s), N);
    int ecanceled = 0;
    for (int i = 0; i < N; i += 2)
        ecanceled += w[i].status == SL_ECANCELED;
    assert_int_equal(ecanceled, cancelled);
    /* The ones never cancelled (odd) fire in non-decreasing expiry order. */
    uint64_t last = 0;
    int fired = 0;
    for (int k = 0; k < N; ++k) {
        if (log[k] % 2 == 0)
            continue;
        assert_int_equal(w[log[k]].status, 0);
        ++fired;
        assert_true(t[log[k]].expiry_ns >= last);
        last = t[log[k]].expiry_ns;
    }
    assert_int_equal(fired, N / 2);
    sl_scheduler_destroy(s);
}
