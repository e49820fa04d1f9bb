/* test_signal.c - the signal service: delivery through the self-pipe and
 * the reactor, signals remembered while no wait is pending, several
 * signals per set and several schedulers per signal, cancel, remove (and
 * the restored disposition), bad input, one wait at a time, destroy and
 * shutdown with a wait pending, and a wait completed while two threads
 * run the scheduler.
 *
 * A test raises a signal only while some set (or the test's own handler)
 * catches it: with the default disposition SIGUSR1/SIGUSR2 end the
 * process. */
#include "common.h"

#include <errno.h>
#include <signal.h>

typedef struct signal_waiter {
    sl_signal_set *set;
    atomic_int calls;
    int status;
    int signo;
    int log[8];       /* signo of each completion, in order */
    int rewaits;      /* how many more waits the handler starts */
    bool destroy_set; /* the handler destroys its own set */
} signal_waiter;

static void waiter_handler(sl_signal_set *set, int status, int signo, void *arg)
{
    signal_waiter *w = arg;
    int n = atomic_load(&w->calls);
    if (n < 8)
        w->log[n] = signo;
    w->status = status;
    w->signo = signo;
    atomic_fetch_add(&w->calls, 1);
    if (w->rewaits > 0) {
        --w->rewaits;
        assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, w), 0);
    }
    if (w->destroy_set)
        sl_signal_set_destroy(set);
}

static void waiter_init(signal_waiter *w)
{
    memset(w, 0, sizeof *w);
    atomic_init(&w->calls, 0);
    w->status = 12345;
    w->signo = -1;
}

static sl_signal_set *new_set(sl_scheduler *s)
{
    sl_signal_set *set = NULL;
    assert_int_equal(sl_signal_set_create(s, &set), 0);
    assert_non_null(set);
    return set;
}

static bool handler_is(int signo, void (*handler)(int))
{
    struct sigaction sa;
    assert_int_equal(sigaction(signo, NULL, &sa), 0);
    return sa.sa_handler == handler;
}

/* Keeps sl_run busy for `ms` so the reactor drains the pipe while no wait
 * is pending. */
static void timer_nop(sl_timer_waiter *w, int status)
{
    (void)w;
    (void)status;
}

void signal_raise_completes_waiting_set_with_signo(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    sl_run(s);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.status, 0);
    assert_int_equal(w.signo, SIGUSR1);
    sl_signal_set_destroy(set);
    assert_true(handler_is(SIGUSR1, SIG_DFL));
    sl_scheduler_destroy(s);
}

void signal_raised_before_wait_is_delivered_to_next_wait(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(raise(SIGUSR1), 0); /* still in the pipe */
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    sl_run(s);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.signo, SIGUSR1);
    sl_signal_set_destroy(set);
    sl_scheduler_destroy(s);
}

/* The reactor drains the pipe while nobody waits: the signal is counted,
 * and the next wait completes from the count alone (sl_poll never enters
 * the reactor when nothing is queued). */
void signal_counted_while_no_wait_completes_next_wait_at_once(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(raise(SIGUSR1), 0);

    sl_timer t;
    sl_timer_waiter tw;
    sl_timer_init(&t, s);
    sl_timer_wait_init(&tw, timer_nop, NULL);
    sl_timer_expires_after(&t, 30000000u);
    assert_int_equal(sl_timer_wait(&t, &tw), 0);
    sl_run(s); /* the pipe's descriptor run, then the timer */
    assert_int_equal(atomic_load(&w.calls), 0);

    sl_restart(s);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(sl_poll(s), 1);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.signo, SIGUSR1);
    sl_signal_set_destroy(set);
    sl_scheduler_destroy(s);
}

void signal_raised_twice_completes_two_waits(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    w.rewaits = 1;
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    sl_run(s);
    assert_int_equal(atomic_load(&w.calls), 2);
    assert_int_equal(w.log[0], SIGUSR1);
    assert_int_equal(w.log[1], SIGUSR1);
    sl_signal_set_destroy(set);
    sl_scheduler_destroy(s);
}

void signal_two_signals_in_one_set_each_delivered(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_add(set, SIGUSR2), 0);
    assert_int_equal(sl_signal_set_add(set, SIGUSR2), 0); /* again: no-op */

    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(raise(SIGUSR2), 0);
    sl_run(s);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.signo, SIGUSR2);

    sl_restart(s);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    sl_run(s);
    assert_int_equal(atomic_load(&w.calls), 2);
    assert_int_equal(w.signo, SIGUSR1);

    /* Both raised before one wait: each is delivered, one per wait. */
    sl_restart(s);
    w.rewaits = 1;
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(raise(SIGUSR2), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    sl_run(s);
    assert_int_equal(atomic_load(&w.calls), 4);
    assert_true((w.log[2] == SIGUSR1 && w.log[3] == SIGUSR2) ||
                (w.log[2] == SIGUSR2 && w.log[3] == SIGUSR1));
    sl_signal_set_destroy(set);
    sl_scheduler_destroy(s);
}

void signal_cancel_completes_wait_with_ecanceled(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    sl_signal_set_cancel(set); /* nothing pending: no effect */
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    sl_signal_set_cancel(set);
    sl_signal_set_cancel(set); /* the second finds nothing */
    assert_int_equal(sl_run(s), 1);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.status, SL_ECANCELED);
    assert_int_equal(w.signo, 0);
    sl_signal_set_destroy(set);
    sl_scheduler_destroy(s);
}

static atomic_int own_handler_calls;
static void own_handler(int signo)
{
    (void)signo;
    atomic_fetch_add(&own_handler_calls, 1);
}

/* After remove, the set no longer sees the signal, and the disposition the
 * first registration replaced (here the test's own handler) is back. */
void signal_remove_stops_delivery_and_restores_previous_handler(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = own_handler;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR2, &sa, &old), 0);
    atomic_store(&own_handler_calls, 0);

    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_add(set, SIGUSR2), 0);
    assert_false(handler_is(SIGUSR2, own_handler));
    assert_int_equal(sl_signal_set_remove(set, SIGUSR2), 0);
    assert_int_equal(sl_signal_set_remove(set, SIGUSR2), 0); /* not held: ok */
    assert_true(handler_is(SIGUSR2, own_handler));

    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(raise(SIGUSR2), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    sl_run(s);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.signo, SIGUSR1);
    assert_int_equal(atomic_load(&own_handler_calls), 1);

    /* No SIGUSR2 was counted for a later wait either. */
    sl_restart(s);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(sl_poll(s), 0);
    sl_signal_set_cancel(set);
    sl_run(s);
    assert_int_equal(atomic_load(&w.calls), 2);
    assert_int_equal(w.status, SL_ECANCELED);

    /* clear drops SIGUSR1 too and puts its default back. */
    assert_int_equal(sl_signal_set_clear(set), 0);
    assert_true(handler_is(SIGUSR1, SIG_DFL));
    sl_signal_set_destroy(set);
    sl_scheduler_destroy(s);
    assert_int_equal(sigaction(SIGUSR2, &old, NULL), 0);
}

void signal_invalid_number_returns_einval(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    const int bad[] = {0, -1, NSIG, NSIG + 1, 1000, SIGKILL, SIGSTOP};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i)
        assert_int_equal(sl_signal_set_add(set, bad[i]), -EINVAL);
    assert_int_equal(sl_signal_set_remove(set, 0), -EINVAL);
    assert_int_equal(sl_signal_set_remove(set, NSIG), -EINVAL);
    assert_int_equal(sl_signal_set_async_wait(set, NULL, NULL), -EINVAL);
    assert_true(handler_is(SIGKILL, SIG_DFL));
    sl_signal_set_destroy(set);
    sl_scheduler_destroy(s);
}

void signal_second_concurrent_wait_returns_ebusy(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), -EBUSY);
    /* Still busy while the cancelled completion is queued, not yet run. */
    sl_signal_set_cancel(set);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), -EBUSY);
    assert_int_equal(sl_run(s), 1);
    assert_int_equal(atomic_load(&w.calls), 1);
    sl_signal_set_destroy(set);
    sl_scheduler_destroy(s);
}

/* Destroying a set with a wait pending completes it as cancelled (upstream
 * destroy cancels); the handler may not use the set, which is freed after. */
void signal_destroy_set_with_wait_pending_completes_cancelled(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    sl_signal_set_destroy(set);
    assert_true(handler_is(SIGUSR1, SIG_DFL));
    assert_int_equal(sl_run(s), 1);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.status, SL_ECANCELED);
    sl_scheduler_destroy(s);
}

void signal_handler_may_destroy_its_own_set(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    w.destroy_set = true;
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    sl_run(s);
    assert_int_equal(atomic_load(&w.calls), 1);
    assert_int_equal(w.signo, SIGUSR1);
    assert_true(handler_is(SIGUSR1, SIG_DFL));
    sl_scheduler_destroy(s);
}

/* The scheduler shuts down with the wait parked: no handler runs, the set
 * (never destroyed by the user) is freed with the scheduler, and the
 * signal's disposition is restored. */
void signal_shutdown_with_wait_pending_runs_no_handler(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    signal_waiter w;
    waiter_init(&w);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
    sl_scheduler_shutdown(s);
    assert_true(handler_is(SIGUSR1, SIG_DFL));
    assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), -ESHUTDOWN);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), -ESHUTDOWN);
    sl_scheduler_destroy(s);
    assert_int_equal(atomic_load(&w.calls), 0);
}

/* The same with completions already queued, one cancelled (its set then
 * destroyed by the user) and one completed from a counted signal: the
 * scheduler destroys both, no handler runs, nothing leaks. */
void signal_shutdown_with_completion_queued_runs_no_handler(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *a = new_set(s), *b = new_set(s);
    signal_waiter wa, wb;
    waiter_init(&wa);
    waiter_init(&wb);
    assert_int_equal(sl_signal_set_add(a, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_add(b, SIGUSR2), 0);

    /* b: raised with no wait pending, counted while a timer keeps the
     * scheduler running. */
    assert_int_equal(raise(SIGUSR2), 0);
    sl_timer t;
    sl_timer_waiter tw;
    sl_timer_init(&t, s);
    sl_timer_wait_init(&tw, timer_nop, NULL);
    sl_timer_expires_after(&t, 20000000u);
    assert_int_equal(sl_timer_wait(&t, &tw), 0);
    sl_run(s);
    sl_restart(s);

    assert_int_equal(sl_signal_set_async_wait(b, waiter_handler, &wb), 0);
    assert_int_equal(sl_signal_set_async_wait(a, waiter_handler, &wa), 0);
    sl_signal_set_cancel(a);
    sl_signal_set_destroy(a); /* freed once its queued completion goes */
    sl_scheduler_destroy(s);
    assert_int_equal(atomic_load(&wa.calls), 0);
    assert_int_equal(atomic_load(&wb.calls), 0);
    assert_true(handler_is(SIGUSR1, SIG_DFL));
    assert_true(handler_is(SIGUSR2, SIG_DFL));
}

/* Each scheduler's service has its own pipe: one raise reaches both. */
void signal_one_raise_reaches_sets_of_two_schedulers(void **state)
{
    (void)state;
    sl_scheduler *s1 = new_sched(), *s2 = new_sched();
    sl_signal_set *a = new_set(s1), *b = new_set(s2);
    signal_waiter wa, wb;
    waiter_init(&wa);
    waiter_init(&wb);
    assert_int_equal(sl_signal_set_add(a, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_add(b, SIGUSR1), 0);
    assert_int_equal(sl_signal_set_async_wait(a, waiter_handler, &wa), 0);
    assert_int_equal(sl_signal_set_async_wait(b, waiter_handler, &wb), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    sl_run(s1);
    sl_run(s2);
    assert_int_equal(atomic_load(&wa.calls), 1);
    assert_int_equal(atomic_load(&wb.calls), 1);
    /* The first scheduler's set going leaves the handler installed. */
    sl_signal_set_destroy(a);
    assert_false(handler_is(SIGUSR1, SIG_DFL));
    sl_scheduler_destroy(s1);
    sl_restart(s2);
    assert_int_equal(sl_signal_set_async_wait(b, waiter_handler, &wb), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    sl_run(s2);
    assert_int_equal(atomic_load(&wb.calls), 2);
    sl_scheduler_destroy(s2);
    assert_true(handler_is(SIGUSR1, SIG_DFL));
}

/* Two threads run the scheduler; the signal is raised from a third (this
 * one), which runs nothing: the reactor thread must pick it up. */
void signal_wait_completes_while_two_threads_run(void **state)
{
    (void)state;
    long rounds = test_scale(20) < 5 ? 5 : test_scale(20);
    sl_scheduler *s = new_sched();
    sl_signal_set *set = new_set(s);
    assert_int_equal(sl_signal_set_add(set, SIGUSR1), 0);
    for (long i = 0; i < rounds; ++i) {
        signal_waiter w;
        waiter_init(&w);
        sl_restart(s);
        assert_int_equal(sl_signal_set_async_wait(set, waiter_handler, &w), 0);
        run_thread t1, t2;
        start_run_thread(&t1, s);
        start_run_thread(&t2, s);
        sleep_ms(2);
        assert_int_equal(raise(SIGUSR1), 0);
        join_run_thread(&t1, 5000);
        join_run_thread(&t2, 5000);
        assert_int_equal(atomic_load(&w.calls), 1);
        assert_int_equal(w.signo, SIGUSR1);
    }
    sl_signal_set_destroy(set);
    sl_scheduler_destroy(s);
}
