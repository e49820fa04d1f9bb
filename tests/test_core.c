/* test_core.c - the scheduler core: posting order, run/poll/wait semantics,
 * stop and restart, nested runs, cross-thread wake-ups, the many-thread
 * exactly-once test, shutdown, and construction failures. */
#include "common.h"

#include <errno.h>

void core_post_fifo_order(void **state)
{
    (void)state;
    enum { N = 200 };
    sl_scheduler *s = new_sched();
    static count_op ops[N];
    int log[N];
    atomic_int n = 0;
    for (int i = 0; i < N; ++i) {
        count_op_init(&ops[i], i, log, &n);
        sl_post(s, &ops[i].op);
    }
    assert_int_equal(sl_run(s), N);
    assert_int_equal(atomic_load(&n), N);
    for (int i = 0; i < N; ++i)
        assert_int_equal(log[i], i);
    sl_scheduler_destroy(s);
}

/* A handler that posts two more from inside the loop (private path). */
typedef struct fan_op {
    sl_op op;
    sl_scheduler *s;
    int depth;
    atomic_int *runs;
} fan_op;
static fan_op fan_pool[1 << 10];
static atomic_int fan_next;
static void fan_complete(sl_op *op)
{
    fan_op *f = (fan_op *)op;
    atomic_fetch_add(f->runs, 1);
    if (f->depth == 0)
        return;
    for (int k = 0; k < 2; ++k) {
        fan_op *c = &fan_pool[atomic_fetch_add(&fan_next, 1)];
        sl_op_init(&c->op, fan_complete, NULL);
        c->s = f->s;
        c->depth = f->depth - 1;
        c->runs = f->runs;
        sl_post(f->s, &c->op);
    }
}

void core_run_returns_count_when_work_drains(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    atomic_int runs = 0;
    atomic_store(&fan_next, 1);
    fan_op *root = &fan_pool[0];
    sl_op_init(&root->op, fan_complete, NULL);
    root->s = s;
    root->depth = 8; /* 2^9 - 1 handlers in all */
    root->runs = &runs;
    sl_post(s, &root->op);
    assert_int_equal(sl_run(s), 511);
    assert_int_equal(atomic_load(&runs), 511);
    assert_true(sl_stopped(s)); /* stopped because work reached zero */
    sl_scheduler_destroy(s);
}

void core_empty_scheduler_returns_zero_and_stops(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    assert_int_equal(sl_run(s), 0);
    assert_true(sl_stopped(s));
    sl_restart(s);
    assert_int_equal(sl_run_one(s), 0);
    sl_restart(s);
    assert_int_equal(sl_poll(s), 0);
    sl_restart(s);
    assert_int_equal(sl_poll_one(s), 0);
    sl_restart(s);
    uint64_t t0 = sl_now_ns();
    assert_int_equal(sl_wait_one(s, 500000), 0);
    assert_true(elapsed_ms_since(t0) < 250); /* returned at once */
    assert_true(sl_stopped(s));
    sl_scheduler_destroy(s);
}

void core_run_one_runs_exactly_one(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    count_op ops[3];
    for (int i = 0; i < 3; ++i) {
        count_op_init(&ops[i], i, NULL, NULL);
        sl_post(s, &ops[i].op);
    }
    assert_int_equal(sl_run_one(s), 1);
    assert_int_equal(atomic_load(&ops[0].completed), 1);
    assert_int_equal(atomic_load(&ops[1].completed), 0);
    assert_int_equal(sl_run_one(s), 1);
    assert_int_equal(sl_run_one(s), 1);
    assert_int_equal(atomic_load(&ops[2].completed), 1);
    assert_int_equal(sl_run_one(s), 0);
    sl_scheduler_destroy(s);
}

void core_poll_runs_all_ready(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    count_op ops[5];
    for (int i = 0; i < 5; ++i) {
        count_op_init(&ops[i], i, NULL, NULL);
        sl_post(s, &ops[i].op);
    }
    sl_work_started(s); /* keep it alive: poll must not block on it */
    uint64_t t0 = sl_now_ns();
    assert_int_equal(sl_poll(s), 5);
    assert_int_equal(sl_poll(s), 0);
    assert_true(elapsed_ms_since(t0) < 250);
    assert_false(sl_stopped(s));
    sl_work_finished(s);
    assert_true(sl_stopped(s));
    sl_scheduler_destroy(s);
}

void core_poll_one_runs_one(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    count_op ops[2];
    for (int i = 0; i < 2; ++i) {
        count_op_init(&ops[i], i, NULL, NULL);
        sl_post(s, &ops[i].op);
    }
    assert_int_equal(sl_poll_one(s), 1);
    assert_int_equal(atomic_load(&ops[1].completed), 0);
    assert_int_equal(sl_poll_one(s), 1);
    assert_int_equal(atomic_load(&ops[1].completed), 1);
    sl_scheduler_destroy(s);
}

void core_wait_one_runs_ready_handler(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    count_op op;
    count_op_init(&op, 0, NULL, NULL);
    sl_post(s, &op.op);
    assert_int_equal(sl_wait_one(s, 1000000), 1);
    assert_int_equal(atomic_load(&op.completed), 1);
    sl_scheduler_destroy(s);
}

/* The upstream defect at the seed: the reactor ignored the timeout. */
void core_wait_one_honours_timeout_while_work_outstanding(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_work_started(s); /* outstanding, but nothing will become ready */
    for (int round = 0; round < 3; ++round) {
        uint64_t t0 = sl_now_ns();
        assert_int_equal(sl_wait_one(s, 50000), 0);
        uint64_t ms = elapsed_ms_since(t0);
        assert_true(ms >= 45);
        assert_true(ms < 400); /* 50 ms asked; generous for a loaded machine */
    }
    sl_work_finished(s);
    sl_scheduler_destroy(s);
}

/* Four threads in run with nothing ready: one blocks in epoll_wait, the
 * other three on the condvar.  stop() from another thread must wake every
 * one of them (a signal to one waiter is not enough). */
void core_stop_wakes_condvar_waiter_and_reactor(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    sl_scheduler *s = new_sched();
    sl_work_started(s);
    run_thread t[THREADS];
    for (int i = 0; i < THREADS; ++i)
        start_run_thread(&t[i], s);
    if (HAVE_STATS()) {
        /* Wait until one thread blocks in the reactor and the others on
         * the condvar, so the test covers both wake paths. */
        sl_stats st;
        uint64_t t0 = sl_now_ns();
        do {
            sleep_ms(2);
            sl_stats_read(s, &st);
            if (elapsed_ms_since(t0) > 5000)
                fail_msg("threads never reached reactor + condvar");
        } while (st.epoll_wait_blocking < 1 || st.cond_waits < THREADS - 1);
    } else {
        sleep_ms(50);
    }
    for (int i = 0; i < THREADS; ++i)
        assert_false(run_thread_returned(&t[i]));
    sl_stop(s);
    for (int i = 0; i < THREADS; ++i)
        join_run_thread(&t[i], 2000);
    assert_true(sl_stopped(s));
    sl_work_finished(s);
    sl_scheduler_destroy(s);
}

void core_stop_wakes_thread_blocked_in_reactor(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_work_started(s);
    run_thread a;
    start_run_thread(&a, s);
    sleep_ms(30);
    assert_false(run_thread_returned(&a));
    sl_stop(s);
    join_run_thread(&a, 5000);
    assert_int_equal(a.result, 0);
    sl_work_finished(s);
    sl_scheduler_destroy(s);
}

void core_restart_after_stop(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    count_op op;
    count_op_init(&op, 0, NULL, NULL);
    sl_stop(s);
    assert_true(sl_stopped(s));
    sl_post(s, &op.op);
    assert_int_equal(sl_run(s), 0); /* stopped: nothing runs */
    assert_int_equal(atomic_load(&op.completed), 0);
    sl_restart(s);
    assert_false(sl_stopped(s));
    assert_int_equal(sl_run(s), 1);
    assert_int_equal(atomic_load(&op.completed), 1);
    sl_scheduler_destroy(s);
}

/* Nested runs: a handler of A runs B on the same thread; B's handler posts
 * to A (A's frame is on this thread's stack, so it goes private). */
typedef struct nest_op {
    sl_op op;
    sl_scheduler *a, *b;
    count_op *late;
    int in_a, in_b, inner_ran;
} nest_op;
static nest_op *nest_cur;
static void nest_inner(sl_op *op)
{
    (void)op;
    nest_cur->in_a = sl_running_in_this_thread(nest_cur->a);
    nest_cur->in_b = sl_running_in_this_thread(nest_cur->b);
    nest_cur->inner_ran = 1;
    sl_post(nest_cur->a, &nest_cur->late->op);
}
static void nest_outer(sl_op *op)
{
    nest_op *n = (nest_op *)op;
    sl_op inner;
    sl_op_init(&inner, nest_inner, NULL);
    sl_post(n->b, &inner);
    assert_int_equal(sl_run(n->b), 1);
    assert_false(sl_running_in_this_thread(n->b));
    assert_true(sl_running_in_this_thread(n->a));
}

void core_nested_run_of_two_schedulers(void **state)
{
    (void)state;
    sl_scheduler *a = new_sched(), *b = new_sched();
    count_op late;
    count_op_init(&late, 1, NULL, NULL);
    nest_op n = {.a = a, .b = b, .late = &late};
    nest_cur = &n;
    sl_op_init(&n.op, nest_outer, NULL);
    assert_false(sl_running_in_this_thread(a));
    sl_post(a, &n.op);
    assert_int_equal(sl_run(a), 2); /* outer, then the op posted from B's handler */
    assert_int_equal(n.inner_ran, 1);
    assert_int_equal(n.in_a, 1);
    assert_int_equal(n.in_b, 1);
    assert_int_equal(atomic_load(&late.completed), 1);
    sl_scheduler_destroy(b);
    sl_scheduler_destroy(a);
}

/* A post from another thread to a thread blocked in the reactor: it
 * interrupts the reactor once (one eventfd write) and runs at once.  While
 * the reactor is idle it stays in a single epoll_wait (no periodic wake-up
 * papering over a lost interrupt), and five posts run in well under the
 * time that any such cap would take. */
static void note_ran(sl_op *op)
{
    atomic_fetch_add(&((count_op *)op)->completed, 1);
}

void core_cross_thread_post_wakes_blocked_thread(void **state)
{
    (void)state;
    enum { ROUNDS = 5 };
    sl_scheduler *s = new_sched();
    sl_work_started(s);
    run_thread a;
    start_run_thread(&a, s);
    sleep_ms(30); /* let it block in the reactor */
    uint64_t total_ns = 0, blocking_seen = 0;
    for (int round = 0; round < ROUNDS; ++round) {
        sl_stats before, after;
        /* Wait until the runner is back in a blocking reactor pass. */
        uint64_t w0 = sl_now_ns();
        while (HAVE_STATS()) {
            sl_stats_read(s, &before);
            if (before.epoll_wait_blocking > blocking_seen)
                break;
            if (elapsed_ms_since(w0) > 5000)
                fail_msg("the runner never went back to the reactor");
            sleep_ms(1);
        }
        blocking_seen = before.epoll_wait_blocking;
        sl_stats_read(s, &before);
        sleep_ms(round == 0 ? 300 : 20); /* idle: the reactor stays blocked */
        sl_stats_read(s, &after);
        if (HAVE_STATS())
            assert_int_equal(after.reactor_runs, before.reactor_runs);
        count_op op;
        count_op_init(&op, round, NULL, NULL);
        sl_op_init(&op.op, note_ran, NULL);
        uint64_t t0 = sl_now_ns();
        sl_post(s, &op.op);
        while (!atomic_load(&op.completed)) {
            if (elapsed_ms_since(t0) > 5000)
                fail_msg("a cross-thread post did not run within 5 s");
            sched_yield();
        }
        total_ns += sl_now_ns() - t0;
        sl_stats_read(s, &after);
        if (HAVE_STATS()) /* exactly one interrupt for the post */
            assert_int_equal(after.eventfd_writes - before.eventfd_writes, 1);
    }
    if (total_ns >= 500000000u)
        fail_msg("%d cross-thread posts took %.1f ms to run", ROUNDS, total_ns / 1e6);
    finish_op f;
    finish_op_init(&f, s);
    sl_post(s, &f.op);
    join_run_thread(&a, 5000);
    assert_int_equal(atomic_load(&f.ran), 1);
    assert_int_equal(a.result, ROUNDS + 1);
    sl_scheduler_destroy(s);
    if (!HAVE_STATS())
        skip(); /* the interrupt counts need a stats build */
}

/* Two threads idle in run: one in the reactor, one on the condvar.  A post
 * from a third thread goes to the condvar waiter (a notify, no eventfd
 * write).  Then the cascade: the woken thread runs a handler that posts two
 * more to its private queue; taking the first with the second still queued
 * it wakes another thread, and the first handler returns only once the
 * second has run elsewhere. */
typedef struct cascade {
    sl_scheduler *s;
    sl_op kick, first, second;
    pthread_t first_tid, second_tid;
    atomic_bool second_ran;
    atomic_bool first_saw_second;
} cascade;

static void cascade_second(sl_op *op)
{
    cascade *c = (cascade *)((char *)op - offsetof(cascade, second));
    c->second_tid = pthread_self();
    atomic_store(&c->second_ran, true);
}

static void cascade_first(sl_op *op)
{
    cascade *c = (cascade *)((char *)op - offsetof(cascade, first));
    c->first_tid = pthread_self();
    uint64_t t0 = sl_now_ns();
    while (!atomic_load(&c->second_ran) && elapsed_ms_since(t0) < 2000)
        sched_yield();
    atomic_store(&c->first_saw_second, atomic_load(&c->second_ran));
}

static void cascade_kick(sl_op *op)
{
    cascade *c = (cascade *)((char *)op - offsetof(cascade, kick));
    sl_post(c->s, &c->first); /* same thread: private queue */
    sl_post(c->s, &c->second);
}

static void wait_reactor_and_waiters(sl_scheduler *s, uint64_t waits)
{
    if (!HAVE_STATS()) {
        sleep_ms(50);
        return;
    }
    sl_stats st;
    uint64_t t0 = sl_now_ns();
    do {
        sleep_ms(2);
        sl_stats_read(s, &st);
        if (elapsed_ms_since(t0) > 5000)
            fail_msg("threads never reached reactor + condvar");
    } while (st.epoll_wait_blocking < 1 || st.cond_waits < waits);
}

void core_post_wakes_condvar_waiter_and_cascades(void **state)
{
    (void)state;
    enum { THREADS = 3 };
    if (variant_is("batch-drain")) {
        /* A finding, not a defect of the test: the thread that takes
         * `first` takes `second` into its batch too, so nobody else can run
         * it while `first` waits (work conservation lost for up to
         * SL_BATCH - 1 queued ops). */
        printf("  skip on batch-drain: the batch holds the second handler behind the "
               "first\n");
        skip();
    }
    sl_scheduler *s = new_sched();
    static cascade c;
    memset(&c, 0, sizeof c);
    c.s = s;
    sl_op_init(&c.kick, cascade_kick, NULL);
    sl_op_init(&c.first, cascade_first, NULL);
    sl_op_init(&c.second, cascade_second, NULL);
    sl_work_started(s);
    run_thread t[THREADS];
    for (int i = 0; i < THREADS; ++i)
        start_run_thread(&t[i], s);
    wait_reactor_and_waiters(s, THREADS - 1);
    sl_stats before, after;
    sl_stats_read(s, &before);
    sl_post(s, &c.kick);
    uint64_t t0 = sl_now_ns();
    while (!atomic_load(&c.second_ran) && elapsed_ms_since(t0) < 5000)
        sleep_ms(1);
    sleep_ms(5);
    sl_stats_read(s, &after);
    sl_work_finished(s);
    for (int i = 0; i < THREADS; ++i)
        join_run_thread(&t[i], 5000);
    assert_true(atomic_load(&c.second_ran));
    assert_true(atomic_load(&c.first_saw_second));
    assert_false(pthread_equal(c.first_tid, c.second_tid));
    sl_scheduler_destroy(s);
    if (!HAVE_STATS())
        skip(); /* which wake path was taken needs the counters */
    SKIP_ON_URING("its wake path is not the epoll wake policy: a post to a leader in the "
                  "kernel writes the eventfd");
    /* The post woke the condvar waiter and the cascade notified once more;
     * no eventfd write.  Without the private queue the handler's own posts
     * take the wake policy and may interrupt the reactor: not this
     * scenario's contract there. */
    assert_true(after.cond_notify_one - before.cond_notify_one >= 2);
    if (variant_is("no-private-queue"))
        skip();
    assert_int_equal(after.eventfd_writes - before.eventfd_writes, 0);
}

void core_work_started_keeps_run_alive(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_work_started(s);
    run_thread a;
    start_run_thread(&a, s);
    sleep_ms(50);
    assert_false(run_thread_returned(&a));
    sl_work_finished(s); /* last unit: stops and wakes the reactor */
    join_run_thread(&a, 5000);
    assert_int_equal(a.result, 0);
    sl_scheduler_destroy(s);
}

/* True inside a handler of `s`, false outside run, on another thread, and
 * for another scheduler. */
typedef struct where_op {
    sl_op op;
    sl_scheduler *s, *other;
    int inside, other_inside;
} where_op;

static void where_complete(sl_op *op)
{
    where_op *w = (where_op *)op;
    w->inside = sl_running_in_this_thread(w->s);
    w->other_inside = sl_running_in_this_thread(w->other);
}

static void *not_running_main(void *arg)
{
    sl_scheduler *s = arg;
    return (void *)(intptr_t)sl_running_in_this_thread(s);
}

void core_running_in_this_thread(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched(), *other = new_sched();
    assert_false(sl_running_in_this_thread(s));
    where_op w = {.s = s, .other = other, .inside = -1, .other_inside = -1};
    sl_op_init(&w.op, where_complete, NULL);
    sl_post(s, &w.op);
    assert_int_equal(sl_run(s), 1);
    assert_int_equal(w.inside, 1);
    assert_int_equal(w.other_inside, 0);
    assert_false(sl_running_in_this_thread(s)); /* the frame is gone */
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, not_running_main, s);
    pthread_join(t, &r);
    assert_int_equal((intptr_t)r, 0);
    sl_scheduler_destroy(other);
    sl_scheduler_destroy(s);
}

/* ---- many threads, exactly once ----------------------------------------- */

/* Each op carries a `pending` flag set by its poster and cleared by its
 * run: a run that finds it clear is a double run; one left set is lost. */
typedef struct storm_op {
    sl_op op;
    atomic_int pending;
    long left;                 /* same-thread reposts still to do */
    struct storm_op *ret_next; /* cross-thread ops: return stack link */
    struct storm_ctx *ctx;
    int external;
} storm_op;

typedef struct storm_ctx {
    sl_scheduler *s;
    atomic_long runs, double_runs;
    _Atomic(storm_op *) returned; /* ops back for their external poster */
} storm_ctx;

static void storm_complete(sl_op *op)
{
    storm_op *o = (storm_op *)op;
    storm_ctx *c = o->ctx;
    if (atomic_exchange(&o->pending, 0) != 1)
        atomic_fetch_add(&c->double_runs, 1);
    atomic_fetch_add(&c->runs, 1);
    if (o->external) {
        storm_op *head = atomic_load(&c->returned);
        do
            o->ret_next = head;
        while (!atomic_compare_exchange_weak(&c->returned, &head, o));
        return;
    }
    if (o->left-- > 0) {
        atomic_store(&o->pending, 1);
        sl_post(c->s, &o->op); /* same-thread: the private queue */
    }
}

typedef struct poster {
    pthread_t tid;
    storm_ctx *c;
    storm_op *ops;
    int nops;
    long posts;
} poster;

static void *poster_main(void *arg)
{
    poster *p = arg;
    long done = 0;
    for (int i = 0; i < p->nops && done < p->posts; ++i, ++done) {
        atomic_store(&p->ops[i].pending, 1);
        sl_post(p->c->s, &p->ops[i].op);
    }
    storm_op *mine = NULL; /* ops returned to this poster, not yet reused */
    while (done < p->posts) {
        if (!mine) {
            /* Take every returned op; keep those that are ours. */
            storm_op *all = atomic_exchange(&p->c->returned, NULL);
            while (all) {
                storm_op *next = all->ret_next;
                if (all >= p->ops && all < p->ops + p->nops) {
                    all->ret_next = mine;
                    mine = all;
                } else { /* another poster's: give it back */
                    storm_op *head = atomic_load(&p->c->returned);
                    do
                        all->ret_next = head;
                    while (!atomic_compare_exchange_weak(&p->c->returned, &head, all));
                }
                all = next;
            }
            if (!mine) {
                sched_yield();
                continue;
            }
        }
        storm_op *o = mine;
        mine = o->ret_next;
        atomic_store(&o->pending, 1);
        sl_post(p->c->s, &o->op);
        ++done;
    }
    sl_work_finished(p->c->s);
    return NULL;
}

void core_four_threads_million_posts_exactly_once(void **state)
{
    (void)state;
    enum { THREADS = 4, CHAINS = 64, EXT_OPS = 256 };
    long per_thread = test_scale(1000000);
    storm_ctx c = {.s = new_sched()};
    static storm_op chains[CHAINS];
    static storm_op ext[THREADS][EXT_OPS];
    /* Half the posts are same-thread reposts, half cross-thread. */
    long same_total = per_thread * THREADS / 2;
    for (int i = 0; i < CHAINS; ++i) {
        memset(&chains[i], 0, sizeof chains[i]);
        sl_op_init(&chains[i].op, storm_complete, NULL);
        chains[i].ctx = &c;
        chains[i].left = same_total / CHAINS - 1;
        atomic_store(&chains[i].pending, 1);
        sl_post(c.s, &chains[i].op);
    }
    poster posters[THREADS];
    for (int t = 0; t < THREADS; ++t) {
        for (int i = 0; i < EXT_OPS; ++i) {
            memset(&ext[t][i], 0, sizeof ext[t][i]);
            sl_op_init(&ext[t][i].op, storm_complete, NULL);
            ext[t][i].ctx = &c;
            ext[t][i].external = 1;
        }
        posters[t] =
            (poster){.c = &c, .ops = ext[t], .nops = EXT_OPS, .posts = per_thread / 2};
        sl_work_started(c.s); /* each poster keeps run alive until done */
    }
    for (int t = 0; t < THREADS; ++t)
        assert_int_equal(pthread_create(&posters[t].tid, NULL, poster_main, &posters[t]),
                         0);
    run_thread runners[THREADS];
    for (int t = 0; t < THREADS; ++t)
        start_run_thread(&runners[t], c.s);
    size_t total_run = 0;
    for (int t = 0; t < THREADS; ++t) {
        join_run_thread(&runners[t], 120000);
        total_run += runners[t].result;
    }
    /* Every runner took a share: none returned at once or sat idle. */
    for (int t = 0; t < THREADS; ++t)
        if (runners[t].result < total_run / 1000)
            fail_msg("runner %d ran %zu of %zu handlers", t, runners[t].result, total_run);
    for (int t = 0; t < THREADS; ++t)
        pthread_join(posters[t].tid, NULL);
    long expected = (same_total / CHAINS) * CHAINS + (per_thread / 2) * THREADS;
    assert_int_equal(atomic_load(&c.double_runs), 0);
    assert_int_equal(atomic_load(&c.runs), expected);
    assert_int_equal(total_run, (size_t)expected);
    for (int i = 0; i < CHAINS; ++i)
        assert_int_equal(atomic_load(&chains[i].pending), 0);
    for (int t = 0; t < THREADS; ++t)
        for (int i = 0; i < EXT_OPS; ++i)
            assert_int_equal(atomic_load(&ext[t][i].pending), 0);
    sl_scheduler_destroy(c.s);
}

void core_shutdown_destroys_pending_once_runs_none(void **state)
{
    (void)state;
    enum { N = 50 };
    sl_scheduler *s = new_sched();
    count_op ops[N];
    for (int i = 0; i < N; ++i) {
        count_op_init(&ops[i], i, NULL, NULL);
        sl_post(s, &ops[i].op);
    }
    sl_scheduler_shutdown(s);
    sl_scheduler_shutdown(s); /* twice is harmless */
    for (int i = 0; i < N; ++i) {
        assert_int_equal(atomic_load(&ops[i].completed), 0);
        assert_int_equal(atomic_load(&ops[i].destroyed), 1);
    }
    sl_scheduler_destroy(s);
    for (int i = 0; i < N; ++i)
        assert_int_equal(atomic_load(&ops[i].destroyed), 1);
}

/* Each construction syscall, made to fail, gives its errno back and leaves
 * no descriptor open. */
static void construction_fails_at(const char *site, int nth, int err)
{
    int before = count_open_fds();
    sl_scheduler *s = (sl_scheduler *)0x1;
    fault_arm(site, nth, err);
    int r = sl_scheduler_create(&s);
    fault_clear();
    assert_int_equal(r, -err);
    assert_null(s);
    assert_int_equal(count_open_fds(), before);
}

void core_create_fails_cleanly_on_epoll_create1(void **state)
{
    (void)state;
    SKIP_ON_URING("the io_uring scheduler makes no epoll instance");
    construction_fails_at("epoll_create1", 1, EMFILE);
}
void core_create_fails_cleanly_on_eventfd(void **state)
{
    (void)state;
    construction_fails_at("eventfd", 1, ENFILE);
}
void core_create_fails_cleanly_on_timerfd_create(void **state)
{
    (void)state;
    SKIP_ON_URING("the io_uring scheduler has no timerfd (its kernel wait is bounded by the nearest timer)");
    construction_fails_at("timerfd_create", 1, ENOMEM);
}
void core_create_fails_cleanly_on_epoll_ctl_eventfd(void **state)
{
    (void)state;
    SKIP_ON_URING("the io_uring scheduler watches its eventfd with a poll request on the ring, not epoll_ctl");
    construction_fails_at("epoll_ctl", 1, ENOSPC);
}
void core_create_fails_cleanly_on_epoll_ctl_timerfd(void **state)
{
    (void)state;
    SKIP_ON_URING("the io_uring scheduler has no timerfd");
    construction_fails_at("epoll_ctl", 2, ENOMEM);
}
