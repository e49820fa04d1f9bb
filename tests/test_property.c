/* test_property.c - what each mechanism buys, as asserted facts.
 *
 * PROPERTY_TABLE below says, for every variant, whether each property
 * holds or is lost.  Each property test measures the property on the build
 * under test and asserts that the outcome matches the table: the suite
 * fails if the reference loses a property, and also if an ablation stops
 * showing its expected loss.  README.md carries the same table with the
 * figures these tests printed.
 */
#include "common.h"
#include "internal.h"

#include <limits.h>
#include <unistd.h>

/* holds, lost, or varies: a side effect that depends on thread timing,
 * reported but not asserted. */
enum { L = 0, H = 1, V = 2 };

typedef struct property_row {
    const char *property;
    const char *mechanism;
    /* the columns of COLUMNS below */
    int expect[16];
} property_row;

/* uring (the io_uring scheduler: the same property measured on the other
 * design) and the variants that add an idea (README, "Added ideas"). */
static const property_row PROPERTY_TABLE[] = {
    /* ref nib npq nse unb bud uring; added ideas: gst asc evi srv hki tfp bdr sth tun */
    {"timer_fires_during_post_storm", "M2",
     {H, H, H, L, H, H, H, H, H, H, H, H, H, H, H, H}},
    {"socket_read_during_post_storm", "M2",
     {H, H, H, L, H, H, H, H, H, H, H, H, H, H, H, H}},
    {"same_thread_post_is_lock_free", "M8",
     {H, H, L, H, H, H, L, H, H, H, H, H, H, H, H, H}},
    {"same_thread_post_writes_no_eventfd", "M8",
     {H, H, L, H, H, H, V, H, H, H, H, H, H, H, H, H}},
    {"ready_io_completes_inline", "M11", {H, L, H, H, H, H, H, H, H, H, H, H, H, H, H, H}},
    {"budget_follows_adaptive_rule", "M11",
     {H, L, H, H, L, L, L, H, H, H, H, H, H, H, H, H}},
    /* Without the private queue each same-thread post may interrupt the
     * reactor; when the sentinel is back in the queue before the worker
     * takes the next completion, the worker is "unassisted" and the cap
     * stays at 4 instead of ramping to 16.  Whether it is back in time
     * depends on scheduling, so the outcome varies. */
    {"budget_doubles_when_fully_spent_e2e", "M11",
     {H, L, V, H, L, L, L, H, H, H, H, H, H, H, H, H}},
    /* uring: the io_uring scheduler has no sentinel (the leader role is a
     * flag and do_one pumps the ring and drains due timers before every
     * handler), so M2's two rows hold without it; posts always take the
     * mutex and, with a leader in the kernel, write the eventfd (no
     * private queue): whether the other thread is back in the kernel wait
     * while the chain runs depends on timing (0 or ~6000 writes seen), so
     * that row varies; its inline budget is a fixed 16 per handler. */
    {"ready_connection_cannot_starve_another", "M11",
     {H, H, H, L, L, H, H, H, H, H, H, H, H, H, H, H}},
    /* The same chain run by a lone thread beside a self-reposting handler:
     * every completion is taken with work queued and nobody to wake, so
     * the real scheduler sets the unassisted flag and the cap stays at 4.
     * budget-N: holds for N = 4 only, not asserted. */
    {"budget_unassisted_caps_at_4_e2e", "M12",
     {H, L, H, H, L, V, V, H, H, H, H, H, H, H, H, H}},
};

/* The table's columns; budget-N builds share one ("budget-"), the uring
 * builds another. */
static const char *const COLUMNS[16] = {
    "ref",           "no-inline-budget", "no-private-queue", "no-sentinel",
    "unbounded-inline", "budget-",       "uring",            "gated-stop",
    "asio-cascade",  "event-interval",   "send-recv",        "hook-interrupts",
    "timer-fastpath", "batch-drain",     "single-threaded",  "tuned"};

static int variant_column(void)
{
    if (backend_is_uring())
        return 6;
    for (int i = 0; i < 16; ++i)
        if (variant_is(COLUMNS[i]))
            return i;
    if (strncmp(sl_variant_name(), "budget-", 7) == 0)
        return 5;
    fail_msg("variant %s has no column in PROPERTY_TABLE", sl_variant_name());
    return -1;
}

/* Asserts the measured outcome against the table and prints the figure. */
static void expect_property(const char *property, bool holds, const char *figure)
{
    for (size_t i = 0; i < sizeof PROPERTY_TABLE / sizeof *PROPERTY_TABLE; ++i) {
        const property_row *row = &PROPERTY_TABLE[i];
        if (strcmp(row->property, property) != 0)
            continue;
        int want = row->expect[variant_column()];
        printf("  property %-40s %-16s %s (expected %s)  %s\n", property,
               sl_variant_name(), holds ? "holds" : "LOST",
               want == V ? "either"
               : want    ? "holds"
                         : "lost",
               figure);
        fflush(stdout);
        if (want != V && (int)holds != want)
            fail_msg("%s: %s on %s, the table says it is %s", property,
                     holds ? "holds" : "lost", sl_variant_name(), want ? "held" : "lost");
        return;
    }
    fail_msg("property %s is not in PROPERTY_TABLE", property);
}

/* ---- M2: a post storm must not starve timers or sockets ---------------- */

/* A storm of CHAINS self-reposting handlers that stops after `ms`. */
typedef struct storm {
    sl_op ops[16];
    sl_scheduler *s;
    uint64_t end_ns;
    atomic_bool over;
    long posts;
} storm;
static storm the_storm;

static void storm_handler(sl_op *op)
{
    storm *st = &the_storm;
    if ((++st->posts & 255) == 0 && sl_now_ns() >= st->end_ns)
        atomic_store(&st->over, true);
    if (!atomic_load(&st->over))
        sl_post(st->s, op);
}

static void start_storm(sl_scheduler *s, int ms)
{
    memset(&the_storm, 0, sizeof the_storm);
    the_storm.s = s;
    the_storm.end_ns = sl_now_ns() + (uint64_t)ms * 1000000u;
    for (int i = 0; i < 16; ++i) {
        sl_op_init(&the_storm.ops[i], storm_handler, NULL);
        sl_post(s, &the_storm.ops[i]);
    }
}

typedef struct storm_probe {
    sl_timer_waiter w;
    uint64_t armed_ns, fired_ns;
    bool during_storm;
} storm_probe;

static void probe_timer(sl_timer_waiter *w, int status)
{
    storm_probe *p = (storm_probe *)w;
    (void)status;
    p->fired_ns = sl_now_ns();
    p->during_storm = !atomic_load(&the_storm.over);
}

void property_timer_fires_during_post_storm(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    storm_probe p;
    memset(&p, 0, sizeof p);
    sl_timer_wait_init(&p.w, probe_timer, NULL);
    sl_timer_init(&t, s);
    start_storm(s, 300);
    p.armed_ns = sl_now_ns();
    sl_timer_expires_after(&t, 1000000u); /* 1 ms */
    sl_timer_wait(&t, &p.w);
    sl_run(s);
    double late_ms = (double)(p.fired_ns - p.armed_ns - 1000000u) / 1e6;
    char fig[96];
    snprintf(fig, sizeof fig, "1 ms timer lateness %.2f ms, %s the 300 ms storm", late_ms,
             p.during_storm ? "during" : "after");
    /* Holds: fired while the storm still ran, within 100 ms. */
    expect_property("timer_fires_during_post_storm", p.during_storm && late_ms < 100,
                    fig);
    sl_scheduler_destroy(s);
}

typedef struct read_probe {
    char buf[8];
    uint64_t done_ns;
    bool during_storm;
    int status;
} read_probe;

static void probe_read(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    (void)n;
    read_probe *p = arg;
    p->status = status;
    p->done_ns = sl_now_ns();
    p->during_storm = !atomic_load(&the_storm.over);
}

typedef struct delayed_write {
    pthread_t tid;
    int fd;
    int delay_ms;
    uint64_t written_ns;
} delayed_write;

static void *delayed_write_main(void *arg)
{
    delayed_write *d = arg;
    sleep_ms(d->delay_ms);
    d->written_ns = sl_now_ns();
    ssize_t r = write(d->fd, "ping", 4);
    (void)r;
    return NULL;
}

void property_socket_read_during_post_storm(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    read_probe p = {.status = 999};
    struct iovec iov = {p.buf, sizeof p.buf};
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, probe_read, &p), 0);
    start_storm(s, 300);
    delayed_write d = {.fd = sl_socket_fd(pair[1]), .delay_ms = 20};
    pthread_create(&d.tid, NULL, delayed_write_main, &d);
    sl_run(s);
    pthread_join(d.tid, NULL);
    assert_int_equal(p.status, 0);
    double lag_ms = (double)(p.done_ns - d.written_ns) / 1e6;
    char fig[96];
    snprintf(fig, sizeof fig,
             "read completed %.2f ms after the data arrived, %s the storm", lag_ms,
             p.during_storm ? "during" : "after");
    expect_property("socket_read_during_post_storm", p.during_storm && lag_ms < 100, fig);
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_scheduler_destroy(s);
}

/* ---- M8: same-thread posts ---------------------------------------------- */

/* One thread sits in the reactor; another runs a chain of handlers that
 * each post the next from inside the loop.  Counters over the chain. */
typedef struct chain {
    sl_op op;
    sl_scheduler *s;
    long left;
    bool last;
    atomic_bool done;
    sl_stats start, end;
} chain;

static void chain_handler(sl_op *op)
{
    chain *c = (chain *)op;
    if (c->left == 10001) /* first run: the reactor thread is blocked */
        sl_stats_read(c->s, &c->start);
    if (c->left-- > 0) {
        sl_post(c->s, op);
    } else {
        sl_stats_read(c->s, &c->end); /* before the stop wakes the reactor */
        sl_scheduler *s = c->s;
        bool last = c->last;
        atomic_store(&c->done, true); /* the test may reuse *c from here on */
        if (last)
            sl_work_finished(s); /* the unit that kept the reactor thread in run */
    }
}

/* Five chains of 10 000 same-thread posts, each started while the reactor
 * thread is blocked: an eventfd write per chain (or more) without the
 * private queue, none with it.  The eventfd property holds with at most
 * two writes in all, so neither one stray write on ref nor one chain that
 * happened to find the reactor awake decides it. */
void property_same_thread_posts(void **state)
{
    (void)state;
    enum { ROUNDS = 5 };
    if (!HAVE_STATS())
        skip(); /* counters only exist in stats builds */
    sl_scheduler *s = new_sched();
    sl_work_started(s);
    run_thread reactor_thread;
    start_run_thread(&reactor_thread, s);
    /* Wait until it blocks in the reactor. */
    sl_stats st;
    uint64_t t0 = sl_now_ns();
    do {
        sleep_ms(1);
        sl_stats_read(s, &st);
        assert_true(elapsed_ms_since(t0) < 5000);
    } while (st.epoll_wait_blocking < 1);
    static chain c;
    run_thread worker;
    start_run_thread(&worker, s);
    double shared = 0, locks = 0, efd = 0, n = 0;
    for (int round = 0; round < ROUNDS; ++round) {
        sleep_ms(20); /* the worker waits on the condvar, the reactor blocks */
        memset(&c, 0, sizeof c);
        c.s = s;
        c.left = 10000 + 1;
        c.last = round == ROUNDS - 1;
        sl_op_init(&c.op, chain_handler, NULL);
        sl_post(s, &c.op);
        t0 = sl_now_ns();
        while (!atomic_load(&c.done)) {
            assert_true(elapsed_ms_since(t0) < 30000);
            sleep_ms(1);
        }
        shared += (double)(c.end.post_shared - c.start.post_shared);
        locks += (double)(c.end.mutex_locks - c.start.mutex_locks);
        efd += (double)(c.end.eventfd_writes - c.start.eventfd_writes);
        n += 10000;
    }
    join_run_thread(&worker, 30000);
    join_run_thread(&reactor_thread, 30000);
    shared /= n;
    locks /= n;
    char fig[128];
    snprintf(fig, sizeof fig, "per post: %.2f shared-queue posts, %.2f mutex locks",
             shared, locks);
    /* Lock-free: no post went to the shared queue, and the only lock per
     * handler is the splice after it (about 1 per post, never 2). */
    expect_property("same_thread_post_is_lock_free", shared < 0.01 && locks < 1.5, fig);
    snprintf(fig, sizeof fig, "%.0f eventfd writes over %d chains of 10000 posts", efd,
             ROUNDS);
    expect_property("same_thread_post_writes_no_eventfd", efd <= 2, fig);
    sl_scheduler_destroy(s);
}

/* ---- M11: the inline budget --------------------------------------------- */

typedef struct eof_reader {
    sl_socket *sock;
    long left;
    char buf[4];
} eof_reader;

static void eof_read(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)n;
    (void)status;
    eof_reader *r = arg;
    if (--r->left > 0) {
        struct iovec iov = {r->buf, sizeof r->buf};
        sl_socket_async_read(sock, &iov, 1, eof_read, r);
    }
}

void property_ready_io_completes_inline(void **state)
{
    (void)state;
    if (!HAVE_STATS())
        skip();
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    sl_socket_close(pair[1]); /* every read is ready at once (EOF) */
    eof_reader r = {.sock = pair[0], .left = 1000};
    struct iovec iov = {r.buf, sizeof r.buf};
    sl_stats_reset(s);
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, eof_read, &r), 0);
    sl_run(s);
    sl_stats st;
    sl_stats_read(s, &st);
    double share = (double)st.inline_completions / 1000.0;
    char fig[96];
    snprintf(fig, sizeof fig, "%.0f%% of 1000 ready reads completed inline", share * 100);
    expect_property("ready_io_completes_inline", share > 0.25, fig);
    sl_socket_close(pair[0]);
    sl_scheduler_destroy(s);
}

/* The refill rule itself, driven from inside a handler (so this thread has
 * a frame): the caps seen at successive refills. */
typedef struct rule_probe {
    sl_op op;
    sl_scheduler *s;
    int caps[8];
    int inline_per_refill[8];
} rule_probe;

static int spend(sl_scheduler *s, int limit)
{
    int n = 0;
    while (n < limit && try_consume_inline_budget(s))
        ++n;
    return n;
}

static void rule_handler(sl_op *op)
{
    rule_probe *p = (rule_probe *)op;
    thread_context *ctx = find_context(p->s);
    int left;
    ctx->unassisted = false;
    sl_inline_budget(p->s, &p->caps[0], &left); /* a fresh frame's cap */
    for (int i = 1; i <= 4; ++i) {              /* fully spent each time */
        reset_inline_budget(p->s);
        sl_inline_budget(p->s, &p->caps[i], &left);
        p->inline_per_refill[i] = spend(p->s, 100);
    }
    reset_inline_budget(p->s);
    spend(p->s, 3); /* partly spent */
    reset_inline_budget(p->s);
    sl_inline_budget(p->s, &p->caps[5], &left);
    ctx->unassisted = true; /* nobody could be woken for queued work */
    reset_inline_budget(p->s);
    sl_inline_budget(p->s, &p->caps[6], &left);
    p->inline_per_refill[6] = spend(p->s, 100);
    ctx->unassisted = false;
}

void property_budget_follows_adaptive_rule(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    rule_probe p;
    memset(&p, 0, sizeof p);
    p.s = s;
    sl_op_init(&p.op, rule_handler, NULL);
    sl_post(s, &p.op);
    sl_run(s);
    static const int want_caps[7] = {2, 4, 8, 16, 16, 2, 4};
    static const int want_inline[7] = {0, 4, 8, 16, 16, 0, 4};
    bool holds = true;
    for (int i = 0; i < 7; ++i)
        if (p.caps[i] != want_caps[i] || p.inline_per_refill[i] != want_inline[i])
            holds = false;
    char fig[160];
    snprintf(
        fig, sizeof fig,
        "caps %d>%d>%d>%d>%d, partial>%d, unassisted>%d; inline per refill %d,%d,%d,%d",
        p.caps[0], p.caps[1], p.caps[2], p.caps[3], p.caps[4], p.caps[5], p.caps[6],
        p.inline_per_refill[1], p.inline_per_refill[2], p.inline_per_refill[3],
        p.inline_per_refill[4]);
    expect_property("budget_follows_adaptive_rule", holds, fig);
    sl_scheduler_destroy(s);
}

/* End to end: one thread blocks in the reactor (it holds the sentinel, so
 * the other thread is never "unassisted"); the other runs a chain of reads
 * that always find data.  Record the cap at each refill and the number of
 * inline completions between refills. */
typedef struct ramp {
    sl_op kick;
    sl_scheduler *s;
    sl_socket *sock;
    char buf[1];
    int reads;
    int refills;
    int caps[8];
    int inl[8];
    int initial_cap;
} ramp;

static void ramp_read(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)n;
    ramp *r = arg;
    int cap, left;
    sl_inline_budget(r->s, &cap, &left);
    if (status != 0)
        return;
    if (left == cap && r->refills < 8) { /* just refilled: from the queue */
        r->caps[r->refills++] = cap;
    } else if (r->refills > 0) {
        r->inl[r->refills - 1]++;
    }
    if (++r->reads < 60 && r->refills < 5) {
        struct iovec iov = {r->buf, 1};
        sl_socket_async_read(sock, &iov, 1, ramp_read, r);
    } else {
        sl_work_finished(r->s); /* lets the reactor thread leave */
    }
}

static void ramp_kick(sl_op *op)
{
    ramp *r = (ramp *)op;
    int left;
    sl_inline_budget(r->s, &r->initial_cap, &left);
    struct iovec iov = {r->buf, 1};
    sl_socket_async_read(r->sock, &iov, 1, ramp_read, r);
}

void property_budget_doubles_when_fully_spent_e2e(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    static char data[4096];
    assert_int_equal(write(sl_socket_fd(pair[1]), data, sizeof data),
                     (ssize_t)sizeof data);
    sl_work_started(s);
    run_thread reactor_thread, worker;
    start_run_thread(&reactor_thread, s);
    sleep_ms(50); /* registration edges handled; blocked in epoll_wait */
    start_run_thread(&worker, s);
    sleep_ms(50); /* the worker waits on the condvar */
    static ramp r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.sock = pair[0];
    sl_op_init(&r.kick, ramp_kick, NULL);
    sl_post(s, &r.kick);
    join_run_thread(&worker, 30000);
    join_run_thread(&reactor_thread, 30000);
    char fig[160];
    snprintf(fig, sizeof fig, "cap %d, then at refills %d,%d,%d,%d with %d,%d,%d inline",
             r.initial_cap, r.caps[0], r.caps[1], r.caps[2], r.caps[3], r.inl[0],
             r.inl[1], r.inl[2]);
    bool holds = r.initial_cap == 2 && r.caps[0] == 4 && r.caps[1] == 8 &&
                 r.caps[2] == 16 && r.caps[3] == 16 && r.inl[0] == 4 && r.inl[1] == 8 &&
                 r.inl[2] == 16;
    expect_property("budget_doubles_when_fully_spent_e2e", holds, fig);
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_scheduler_destroy(s);
}

/* M12 through the scheduler (the rule test above sets the flag by hand):
 * one thread, a chain of reads that always find data, and a handler that
 * reposts itself so that work is always queued behind each completion. */
typedef struct lone {
    ramp r;
    sl_op tick;
    atomic_bool done;
    long ticks;
} lone;

static void lone_tick(sl_op *op)
{
    lone *l = (lone *)((char *)op - offsetof(lone, tick));
    ++l->ticks;
    if (!atomic_load(&l->done))
        sl_post(l->r.s, &l->tick);
}

static void lone_read(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)n;
    lone *l = arg;
    ramp *r = &l->r;
    int cap, left;
    sl_inline_budget(r->s, &cap, &left);
    if (status != 0) {
        atomic_store(&l->done, true);
        return;
    }
    if (left == cap && r->refills < 8)
        r->caps[r->refills++] = cap;
    else if (r->refills > 0)
        r->inl[r->refills - 1]++;
    if (++r->reads < 60 && r->refills < 5) {
        struct iovec iov = {r->buf, 1};
        sl_socket_async_read(sock, &iov, 1, lone_read, l);
    } else {
        atomic_store(&l->done, true);
    }
}

static void lone_kick(sl_op *op)
{
    lone *l = (lone *)op;
    sl_post(l->r.s, &l->tick);
    struct iovec iov = {l->r.buf, 1};
    sl_socket_async_read(l->r.sock, &iov, 1, lone_read, l);
}

void property_budget_unassisted_through_scheduler(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    static char data[4096];
    assert_int_equal(write(sl_socket_fd(pair[1]), data, sizeof data),
                     (ssize_t)sizeof data);
    static lone l;
    memset(&l, 0, sizeof l);
    l.r.s = s;
    l.r.sock = pair[0];
    sl_op_init(&l.r.kick, lone_kick, NULL);
    sl_op_init(&l.tick, lone_tick, NULL);
    sl_post(s, &l.r.kick);
    while (!atomic_load(&l.done))
        if (sl_run_one(s) == 0)
            break;
    while (sl_poll_one(s) == 1) /* the last tick */
        ;
    sl_stats st;
    sl_stats_read(s, &st);
    char fig[160];
    snprintf(fig, sizeof fig, "caps at refills %d,%d,%d,%d with %d,%d,%d inline",
             l.r.caps[0], l.r.caps[1], l.r.caps[2], l.r.caps[3], l.r.inl[0], l.r.inl[1],
             l.r.inl[2]);
    bool holds = l.r.refills >= 4 && l.r.caps[0] == 4 && l.r.caps[1] == 4 &&
                 l.r.caps[2] == 4 && l.r.caps[3] == 4 && l.r.inl[0] == 4 &&
                 l.r.inl[1] == 4 && l.r.inl[2] == 4;
    expect_property("budget_unassisted_caps_at_4_e2e", holds, fig);
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_scheduler_destroy(s);
    if (!HAVE_STATS())
        skip(); /* the refill rule taken is counted on stats builds only */
    if (holds)
        assert_true(st.refill_unassisted >= 4);
}

/* An always-ready connection (reads hit EOF at once) runs a long chain;
 * data arrives for a second connection meanwhile.  How many reads of the
 * first happen before the second is served? */
typedef struct hog {
    sl_socket *sock;
    atomic_long reads;
    long limit;
    char buf[4];
} hog;

typedef struct victim {
    char buf[8];
    int status;
    size_t bytes;
    int served;
    long hog_reads_at_data, hog_reads_at_served;
    atomic_bool data_sent;
    hog *h;
} victim;

static void hog_read(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)status;
    (void)n;
    hog *h = arg;
    if (atomic_fetch_add(&h->reads, 1) + 1 < h->limit) {
        struct iovec iov = {h->buf, sizeof h->buf};
        sl_socket_async_read(sock, &iov, 1, hog_read, h);
    }
}

static void victim_read(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    victim *v = arg;
    v->status = status;
    v->bytes = n;
    v->served++;
    v->hog_reads_at_served = atomic_load(&v->h->reads);
}

typedef struct victim_writer {
    pthread_t tid;
    int fd;
    victim *v;
} victim_writer;

static void *victim_writer_main(void *arg)
{
    victim_writer *w = arg;
    while (atomic_load(&w->v->h->reads) < 2000)
        sched_yield();
    w->v->hog_reads_at_data = atomic_load(&w->v->h->reads);
    ssize_t r = write(w->fd, "data", 4);
    (void)r;
    return NULL;
}

void property_ready_connection_cannot_starve_another(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *a[2], *b[2];
    assert_int_equal(sl_socket_pair(s, a), 0);
    assert_int_equal(sl_socket_pair(s, b), 0);
    sl_socket_close(a[1]);
    static hog h;
    static victim v;
    memset(&h, 0, sizeof h);
    memset(&v, 0, sizeof v);
    h.sock = a[0];
    h.limit = 300000;
    v.h = &h;
    struct iovec vi = {v.buf, sizeof v.buf}, hi = {h.buf, sizeof h.buf};
    assert_int_equal(sl_socket_async_read(b[0], &vi, 1, victim_read, &v), 0);
    assert_int_equal(sl_socket_async_read(a[0], &hi, 1, hog_read, &h), 0);
    victim_writer w = {.fd = sl_socket_fd(b[1]), .v = &v};
    pthread_create(&w.tid, NULL, victim_writer_main, &w);
    sl_run(s);
    pthread_join(w.tid, NULL);
    /* Served means its read completed once, with the 4 bytes written. */
    assert_int_equal(v.served, 1);
    assert_int_equal(v.status, 0);
    assert_int_equal(v.bytes, 4);
    assert_memory_equal(v.buf, "data", 4);
    long lag = v.hog_reads_at_served - v.hog_reads_at_data;
    char fig[128];
    snprintf(fig, sizeof fig,
             "%ld reads of the ready connection before the other was served", lag);
    expect_property("ready_connection_cannot_starve_another", lag < 50000, fig);
    sl_socket_close(a[0]);
    sl_socket_close(b[0]);
    sl_socket_close(b[1]);
    sl_scheduler_destroy(s);
}
