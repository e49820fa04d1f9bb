/* test_contract.c - the contracts of the run functions, cancel, connect,
 * shutdown and ordering, each with the value it must have.
 *
 * Every test here stands for a defect kind the kit fixes (most of them
 * upstream's own; README.md, "Upstream-defect ledger"): a wait_one that
 * returns early or late, a poll that never runs the reactor, work stranded
 * by a thread leaving a run function, a connect reported done on a stale
 * edge or after another op took its error, a cancel that reaches a
 * completed or a later op, the descriptor/timer splice order, a close
 * racing a descriptor run, a reference lost at shutdown, a nested run that
 * hangs, run counts, equal-expiry order and the cancel of a due wait.
 * Bounds are in milliseconds where the contract is; they allow for a
 * loaded 2-core machine and still fail on the defect by a wide margin. */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS 1000000ull

/* ---- helpers ------------------------------------------------------------ */

typedef struct io_result {
    atomic_int done;
    int status;
    size_t bytes;
    uint64_t at_ns;
} io_result;

static void on_io(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)sock;
    io_result *r = arg;
    r->status = status;
    r->bytes = bytes;
    r->at_ns = sl_now_ns();
    atomic_fetch_add(&r->done, 1);
}

typedef struct timer_result {
    sl_timer_waiter w;
    atomic_int done;
    int status;
    uint64_t at_ns;
    int id, *log;
    atomic_int *log_n;
} timer_result;

static void on_timer(sl_timer_waiter *w, int status)
{
    timer_result *r = (timer_result *)w;
    r->status = status;
    r->at_ns = sl_now_ns();
    if (r->log)
        r->log[atomic_fetch_add(r->log_n, 1)] = r->id;
    atomic_fetch_add(&r->done, 1);
}

static void timer_result_init(timer_result *r, int id, int *log, atomic_int *log_n)
{
    memset(r, 0, sizeof *r);
    sl_timer_wait_init(&r->w, on_timer, NULL);
    r->id = id;
    r->log = log;
    r->log_n = log_n;
}

static void loopback(struct sockaddr_in *a, int port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((uint16_t)port);
}

/* A raw listening socket on 127.0.0.1; its port in *port. */
static int raw_listener(int backlog, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    loopback(&a, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, backlog), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A connected loopback TCP pair of raw blocking sockets: client, server. */
static void raw_tcp_pair(int *cfd, int *sfd)
{
    int port;
    int lfd = raw_listener(4, &port);
    struct sockaddr_in a;
    loopback(&a, port);
    *cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(*cfd, (struct sockaddr *)&a, sizeof a), 0);
    *sfd = accept(lfd, NULL, NULL);
    assert_true(*sfd >= 0);
    close(lfd);
}

/* A loopback port nothing listens on. */
static int closed_port(void)
{
    int port;
    int fd = raw_listener(1, &port);
    close(fd);
    return port;
}

static int tcp_state(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return -1;
    return ti.tcpi_state;
}

static void raw_write(sl_socket *sock, const char *data, size_t n)
{
    assert_int_equal(write(sl_socket_fd(sock), data, n), (ssize_t)n);
}

/* Runs poll_one until `flag` is non-zero or `ms` pass. */
static void poll_until(sl_scheduler *s, atomic_int *flag, int ms)
{
    uint64_t start = sl_now_ns();
    while (!atomic_load(flag) && elapsed_ms_since(start) < (uint64_t)ms) {
        sl_restart(s);
        sl_wait_one(s, 5000);
    }
}

/* ---- 1. wait_one: the deadline ------------------------------------------ */

/* A timer 1 h away keeps work outstanding: wait_one(200 ms) returns 0 at
 * the deadline, not before it and not long after (upstream: ~330 ms). */
void contract_wait_one_returns_at_deadline_with_far_timer(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    timer_result r;
    sl_timer_init(&t, s);
    timer_result_init(&r, 0, NULL, NULL);
    sl_timer_expires_after(&t, 3600ull * 1000 * MS);
    assert_int_equal(sl_timer_wait(&t, &r.w), 0);
    for (int round = 0; round < 3; ++round) {
        uint64_t start = sl_now_ns();
        assert_int_equal(sl_wait_one(s, 200000), 0);
        uint64_t ms = elapsed_ms_since(start);
        assert_true(ms >= 199);
        if (ms > 300)
            fail_msg("wait_one(200 ms) returned after %llu ms", (unsigned long long)ms);
    }
    assert_int_equal(atomic_load(&r.done), 0);
    sl_timer_cancel(&t);
    sl_run(s);
    assert_int_equal(r.status, SL_ECANCELED);
    sl_scheduler_destroy(s);
}

/* A timer due in 10 ms: wait_one(150 ms) runs its handler and returns 1
 * soon after it is due (upstream returns 0 at 10 ms without running it). */
void contract_wait_one_runs_timer_due_before_deadline(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    timer_result r;
    sl_timer_init(&t, s);
    timer_result_init(&r, 0, NULL, NULL);
    uint64_t start = sl_now_ns();
    sl_timer_expires_after(&t, 10 * MS);
    assert_int_equal(sl_timer_wait(&t, &r.w), 0);
    assert_int_equal(sl_wait_one(s, 150000), 1);
    assert_int_equal(atomic_load(&r.done), 1);
    assert_int_equal(r.status, 0);
    uint64_t ms = elapsed_ms_since(start);
    assert_true(ms >= 10);
    if (ms > 100)
        fail_msg("a 10 ms timer ran after %llu ms", (unsigned long long)ms);
    sl_scheduler_destroy(s);
}

typedef struct late_writer {
    pthread_t tid;
    sl_socket *peer;
    int delay_ms;
} late_writer;

static void *late_write_main(void *arg)
{
    late_writer *w = arg;
    sleep_ms(w->delay_ms);
    raw_write(w->peer, "x", 1);
    return NULL;
}

/* A parked read whose data arrives 20 ms into wait_one(300 ms): the call
 * runs the read's handler and returns 1 (upstream returns 0 at the
 * reactor's wake-up and leaves the completion for the next call). */
void contract_wait_one_runs_read_completed_before_deadline(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *p[2];
    assert_int_equal(sl_socket_pair(s, p), 0);
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    io_result r = {0};
    assert_int_equal(sl_socket_async_read(p[0], &iov, 1, on_io, &r), 0);
    late_writer w = {.peer = p[1], .delay_ms = 20};
    uint64_t start = sl_now_ns();
    assert_int_equal(pthread_create(&w.tid, NULL, late_write_main, &w), 0);
    size_t n = sl_wait_one(s, 300000);
    pthread_join(w.tid, NULL);
    assert_int_equal(n, 1);
    assert_int_equal(atomic_load(&r.done), 1);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.bytes, 1);
    uint64_t ms = elapsed_ms_since(start);
    if (ms > 200)
        fail_msg("read ready at 20 ms completed after %llu ms", (unsigned long long)ms);
    sl_socket_close(p[0]);
    sl_socket_close(p[1]);
    sl_scheduler_destroy(s);
}

static void on_usr1(int signo)
{
    (void)signo;
}

typedef struct pester {
    pthread_t tid, target;
    atomic_bool stop;
    atomic_long sent;
} pester;

static void *pester_main(void *arg)
{
    pester *p = arg;
    while (!atomic_load(&p->stop)) {
        pthread_kill(p->target, SIGUSR1);
        atomic_fetch_add(&p->sent, 1);
        sleep_ms(1);
    }
    return NULL;
}

/* An unrelated signal delivered to the waiting thread every millisecond
 * (epoll_wait returns EINTR each time): wait_one(100 ms) still returns 0
 * only at its deadline (upstream returns within about 1 ms). */
void contract_wait_one_is_not_ended_by_signals(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART: syscalls see EINTR */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    sl_scheduler *s = new_sched();
    sl_work_started(s); /* something outstanding */
    pester p = {.target = pthread_self()};
    atomic_init(&p.stop, false);
    atomic_init(&p.sent, 0);
    assert_int_equal(pthread_create(&p.tid, NULL, pester_main, &p), 0);
    uint64_t start = sl_now_ns();
    size_t n = sl_wait_one(s, 100000);
    uint64_t ms = elapsed_ms_since(start);
    atomic_store(&p.stop, true);
    pthread_join(p.tid, NULL);
    sigaction(SIGUSR1, &old, NULL);
    assert_int_equal(n, 0);
    assert_true(atomic_load(&p.sent) > 5);
    if (ms < 99 || ms > 400)
        fail_msg("wait_one(100 ms) under signals returned after %llu ms",
                 (unsigned long long)ms);
    sl_work_finished(s);
    sl_scheduler_destroy(s);
}

/* A negative timeout acts as 0: a poll_one, which returns at once. */
void contract_wait_one_negative_timeout_is_poll_one(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_work_started(s);
    uint64_t start = sl_now_ns();
    assert_int_equal(sl_wait_one(s, -5), 0);
    assert_int_equal(sl_wait_one(s, -1000000), 0);
    assert_true(elapsed_ms_since(start) < 50);
    count_op c;
    count_op_init(&c, 1, NULL, NULL);
    sl_post(s, &c.op);
    assert_int_equal(sl_wait_one(s, -1), 1);
    assert_int_equal(atomic_load(&c.completed), 1);
    sl_work_finished(s);
    sl_scheduler_destroy(s);
}

/* ---- 2. poll runs the reactor -------------------------------------------- */

/* A timer that expired 20 ms ago is run by poll, poll_one and wait_one(0)
 * (upstream: 0, for as many calls as you like). */
void contract_poll_runs_expired_timer(void **state)
{
    (void)state;
    for (int fn = 0; fn < 3; ++fn) {
        sl_scheduler *s = new_sched();
        sl_timer t;
        timer_result r;
        sl_timer_init(&t, s);
        timer_result_init(&r, 0, NULL, NULL);
        sl_timer_expires_after(&t, 1 * MS);
        assert_int_equal(sl_timer_wait(&t, &r.w), 0);
        sleep_ms(20);
        size_t n = fn == 0 ? sl_poll(s) : fn == 1 ? sl_poll_one(s) : sl_wait_one(s, 0);
        if (n != 1 || atomic_load(&r.done) != 1)
            fail_msg("%s ran %zu handlers, timer done %d",
                     fn == 0 ? "poll" : fn == 1 ? "poll_one" : "wait_one(0)", n,
                     atomic_load(&r.done));
        assert_int_equal(r.status, 0);
        sl_scheduler_destroy(s);
    }
}

/* A parked read whose data is already in the socket is run by poll. */
void contract_poll_runs_ready_read(void **state)
{
    (void)state;
    for (int fn = 0; fn < 2; ++fn) {
        sl_scheduler *s = new_sched();
        sl_socket *p[2];
        assert_int_equal(sl_socket_pair(s, p), 0);
        char buf[8];
        struct iovec iov = {buf, sizeof buf};
        io_result r = {0};
        assert_int_equal(sl_socket_async_read(p[0], &iov, 1, on_io, &r), 0);
        assert_int_equal(atomic_load(&r.done), 0);
        raw_write(p[1], "abc", 3);
        size_t n = fn == 0 ? sl_poll(s) : sl_poll_one(s);
        assert_int_equal(n, 1);
        assert_int_equal(atomic_load(&r.done), 1);
        assert_int_equal(r.status, 0);
        assert_int_equal(r.bytes, 3);
        /* Nothing else is ready: the next poll runs nothing and returns. */
        assert_int_equal(sl_poll(s), 0);
        sl_socket_close(p[0]);
        sl_socket_close(p[1]);
        sl_scheduler_destroy(s);
    }
}

/* ---- 3. nothing is stranded by a thread leaving a run function ------------ */

typedef struct strand {
    sl_op h;
    sl_scheduler *s;
    run_thread b;
    finish_op p;
} strand;

static void wait_blocked_in_reactor(sl_scheduler *s, uint64_t before)
{
    if (!HAVE_STATS()) {
        sleep_ms(60);
        return;
    }
    uint64_t start = sl_now_ns();
    sl_stats st;
    do {
        sleep_ms(2);
        sl_stats_read(s, &st);
    } while (st.epoll_wait_blocking <= before && elapsed_ms_since(start) < 2000);
    sleep_ms(10); /* from counting to blocking */
}

static void strand_handler(sl_op *op)
{
    strand *st = (strand *)op;
    sl_stats before;
    sl_stats_read(st->s, &before);
    start_run_thread(&st->b, st->s); /* B blocks in epoll_wait */
    wait_blocked_in_reactor(st->s, before.epoll_wait_blocking);
    sl_post(st->s, &st->p.op); /* this thread's private queue */
}

/* Thread B blocks in epoll_wait; thread A's run_one runs a handler that
 * posts P and returns.  P must be handed to B at once (upstream splices it
 * into the shared queue and wakes nobody: it waits for an unrelated
 * event). */
void contract_work_posted_from_run_one_is_handed_on(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    strand st;
    memset(&st, 0, sizeof st);
    st.s = s;
    sl_op_init(&st.h, strand_handler, NULL);
    finish_op_init(&st.p, s);
    sl_work_started(s); /* released by P */
    sl_post(s, &st.h);
    assert_int_equal(sl_run_one(s), 1);
    uint64_t left = sl_now_ns();
    join_run_thread(&st.b, 2000);
    uint64_t ms = elapsed_ms_since(left);
    assert_int_equal(atomic_load(&st.p.ran), 1);
    if (ms > 100)
        fail_msg("work left by run_one ran %llu ms after it returned",
                 (unsigned long long)ms);
    if (HAVE_STATS()) {
        sl_stats c;
        sl_stats_read(s, &c);
        assert_true(c.eventfd_writes >= 1); /* the hand-off interrupted B */
    }
    sl_scheduler_destroy(s);
}

typedef struct delayed_runner {
    sl_scheduler *s;
    atomic_bool done;
    size_t result;
    int delay_ms;
    pthread_t tid;
} delayed_runner;

static void *delayed_run_main(void *arg)
{
    delayed_runner *d = arg;
    sleep_ms(d->delay_ms);
    d->result = sl_run(d->s);
    atomic_store(&d->done, true);
    return NULL;
}

/* Thread A is in the reactor for wait_one(60 ms); thread B then calls run
 * and sleeps on the condvar.  A returns at its deadline and puts the
 * sentinel back: B must be woken to run the reactor, or a timer due at
 * 250 ms is never served (upstream: never, until an unrelated event). */
void contract_sentinel_handed_on_after_timed_reactor_pass(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    timer_result r;
    sl_timer_init(&t, s);
    timer_result_init(&r, 0, NULL, NULL);
    uint64_t start = sl_now_ns();
    sl_timer_expires_after(&t, 250 * MS);
    assert_int_equal(sl_timer_wait(&t, &r.w), 0);
    delayed_runner b;
    memset(&b, 0, sizeof b);
    b.s = s;
    atomic_init(&b.done, false);
    b.delay_ms = 15;
    assert_int_equal(pthread_create(&b.tid, NULL, delayed_run_main, &b), 0);
    size_t n = sl_wait_one(s, 60000);
    if (n == 1) {
        /* This thread was held off the CPU past the timer (a loaded
         * machine): it ran the timer itself and the hand-off was not
         * exercised.  Say so rather than pass or fail. */
        assert_true(elapsed_ms_since(start) >= 250);
        pthread_join(b.tid, NULL);
        sl_scheduler_destroy(s);
        print_message("  wait_one(60 ms) overran to the 250 ms timer: scenario not reached\n");
        skip();
    }
    assert_int_equal(n, 0);
    assert_true(elapsed_ms_since(start) >= 59);
    uint64_t wait_start = sl_now_ns();
    while (!atomic_load(&b.done) && elapsed_ms_since(wait_start) < 1000)
        sleep_ms(2);
    if (!atomic_load(&b.done)) {
        sl_timer_cancel(&t); /* a cross-thread post: wakes B, so it can exit */
        pthread_join(b.tid, NULL);
        fail_msg("timer due at 250 ms not served: the sentinel was left queued");
    }
    pthread_join(b.tid, NULL);
    assert_int_equal(r.status, 0);
    uint64_t late_ms = (r.at_ns - start) / MS;
    if (late_ms > 400)
        fail_msg("timer due at 250 ms ran at %llu ms", (unsigned long long)late_ms);
    sl_scheduler_destroy(s);
}

/* ---- 4. connect reports success only on a connected socket --------------- */

/* A listener whose accept queue is full drops SYNs: a connect to it stays
 * in SYN_SENT.  The client socket saw a reactor pass before connecting, so
 * its registration edge (writable and hung up) is cached; the connect must
 * not take that stale edge as success, and a cancel must then apply. */
void contract_connect_waits_while_syn_sent(void **state)
{
    (void)state;
    int port;
    int l = raw_listener(0, &port);
    struct sockaddr_in a;
    loopback(&a, port);
    int fill[16];
    int nfill = 0;
    bool full = false;
    while (nfill < 16 && !full) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        assert_true(c >= 0);
        fill[nfill++] = c;
        connect(c, (struct sockaddr *)&a, sizeof a);
        sleep_ms(20);
        full = tcp_state(c) == TCP_SYN_SENT;
    }
    if (!full) {
        for (int i = 0; i < nfill; ++i)
            close(fill[i]);
        close(l);
        skip(); /* this kernel accepted every SYN: no SYN_SENT to test */
    }
    sl_scheduler *s = new_sched();
    sl_socket *c;
    assert_int_equal(sl_socket_open(s, AF_INET, SOCK_STREAM, 0, &c), 0);
    sl_work_started(s);
    sl_wait_one(s, 20000); /* reactor passes: the registration edge is cached */
    io_result r = {0};
    assert_int_equal(sl_socket_async_connect(c, (struct sockaddr *)&a, sizeof a, on_io, &r),
                     0);
    sl_wait_one(s, 100000);
    if (atomic_load(&r.done))
        fail_msg("connect completed with status %d while the socket was in state %d "
                 "(SYN_SENT is %d)",
                 r.status, tcp_state(sl_socket_fd(c)), TCP_SYN_SENT);
    sl_socket_cancel(c);
    poll_until(s, &r.done, 1000);
    assert_int_equal(atomic_load(&r.done), 1);
    assert_int_equal(r.status, SL_ECANCELED);
    sl_work_finished(s);
    sl_socket_close(c);
    sl_scheduler_destroy(s);
    for (int i = 0; i < nfill; ++i)
        close(fill[i]);
    close(l);
}

/* Connect to a closed port and, at once, a read or a write on the same
 * socket: whichever syscall takes the pending ECONNREFUSED, the connect
 * must report a failure, never 0 on a refused socket (upstream reports 0;
 * libuv keeps a regression test for the same case). */
void contract_connect_refused_after_other_op_took_error(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; ++kind) {
        for (int round = 0; round < 5; ++round) {
            sl_scheduler *s = new_sched();
            struct sockaddr_in a;
            loopback(&a, closed_port());
            sl_socket *c;
            assert_int_equal(sl_socket_open(s, AF_INET, SOCK_STREAM, 0, &c), 0);
            io_result cr = {0}, xr = {0};
            char buf[4] = "abc";
            struct iovec iov = {buf, sizeof buf};
            assert_int_equal(
                sl_socket_async_connect(c, (struct sockaddr *)&a, sizeof a, on_io, &cr), 0);
            int rc = kind == 0 ? sl_socket_async_read(c, &iov, 1, on_io, &xr)
                               : sl_socket_async_write(c, &iov, 1, on_io, &xr);
            assert_int_equal(rc, 0);
            uint64_t start = sl_now_ns();
            while ((!atomic_load(&cr.done) || !atomic_load(&xr.done)) &&
                   elapsed_ms_since(start) < 2000) {
                sl_restart(s);
                sl_wait_one(s, 10000);
            }
            assert_int_equal(atomic_load(&cr.done), 1);
            if (cr.status == 0) {
                struct sockaddr_storage peer;
                socklen_t len = sizeof peer;
                int gp = getpeername(sl_socket_fd(c), (struct sockaddr *)&peer, &len);
                fail_msg("connect to a closed port reported 0 (%s first; getpeername %s)",
                         kind == 0 ? "read" : "write", gp == 0 ? "succeeds" : "fails");
            }
            assert_true(cr.status < 0);
            assert_int_not_equal(cr.status, SL_ECANCELED);
            sl_socket_close(c);
            sl_restart(s);
            sl_poll(s);
            sl_scheduler_destroy(s);
        }
    }
}

/* ---- 5. a cancel affects exactly the ops pending at the call -------------- */

typedef struct chain_read {
    sl_socket *sock;
    char buf[8];
    io_result first, second;
} chain_read;

static void first_read_done(sl_socket *sock, int status, size_t bytes, void *arg)
{
    chain_read *cr = arg;
    on_io(sock, status, bytes, &cr->first);
    struct iovec iov = {cr->buf, sizeof cr->buf};
    assert_int_equal(sl_socket_async_read(sock, &iov, 1, on_io, &cr->second), 0);
}

/* A read completes at once (its completion queued), then the socket is
 * cancelled before that handler runs: the read keeps status 0 and its
 * byte, and a read started from its handler waits for data instead of
 * completing cancelled (upstream: SL_ECANCELED, 0 bytes, at once). */
void contract_cancel_spares_queued_read_and_later_reads(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *p[2];
    assert_int_equal(sl_socket_pair(s, p), 0);
    chain_read cr;
    memset(&cr, 0, sizeof cr);
    raw_write(p[1], "z", 1);
    struct iovec iov = {cr.buf, 1};
    assert_int_equal(sl_socket_async_read(p[0], &iov, 1, first_read_done, &cr), 0);
    sl_socket_cancel(p[0]);
    assert_true(sl_run_one(s) >= 1);
    assert_int_equal(atomic_load(&cr.first.done), 1);
    assert_int_equal(cr.first.status, 0);
    assert_int_equal(cr.first.bytes, 1);
    assert_int_equal(sl_wait_one(s, 30000), 0);
    if (atomic_load(&cr.second.done))
        fail_msg("a read started after the cancel completed with status %d",
                 cr.second.status);
    raw_write(p[1], "abc", 3);
    poll_until(s, &cr.second.done, 1000);
    assert_int_equal(atomic_load(&cr.second.done), 1);
    assert_int_equal(cr.second.status, 0);
    assert_int_equal(cr.second.bytes, 3);
    sl_socket_close(p[0]);
    sl_socket_close(p[1]);
    sl_scheduler_destroy(s);
}

/* A 4-byte write that went out, its handler not yet run, when the socket
 * is cancelled (and, second round, closed): status 0 and 4 bytes, as the
 * peer sees them (upstream: SL_ECANCELED with bytes = 4). */
void contract_cancel_and_close_keep_completed_write_result(void **state)
{
    (void)state;
    for (int closing = 0; closing < 2; ++closing) {
        sl_scheduler *s = new_sched();
        sl_socket *p[2];
        assert_int_equal(sl_socket_pair(s, p), 0);
        io_result r = {0};
        struct iovec iov = {"abcd", 4};
        assert_int_equal(sl_socket_async_write(p[0], &iov, 1, on_io, &r), 0);
        if (closing)
            sl_socket_close(p[0]);
        else
            sl_socket_cancel(p[0]);
        sl_run(s);
        assert_int_equal(atomic_load(&r.done), 1);
        if (r.status != 0)
            fail_msg("a write done before %s reported %d", closing ? "close" : "cancel",
                     r.status);
        assert_int_equal(r.bytes, 4);
        char got[8];
        assert_int_equal(read(sl_socket_fd(p[1]), got, sizeof got), 4);
        assert_memory_equal(got, "abcd", 4);
        if (!closing)
            sl_socket_close(p[0]);
        sl_socket_close(p[1]);
        sl_scheduler_destroy(s);
    }
}

typedef struct chain_accept {
    atomic_int done1, done2;
    int status1, status2;
    sl_socket *acc1, *acc2;
} chain_accept;

static void second_accept_done(sl_socket *l, int status, sl_socket *accepted, void *arg)
{
    (void)l;
    chain_accept *ca = arg;
    ca->status2 = status;
    ca->acc2 = accepted;
    atomic_fetch_add(&ca->done2, 1);
}

static void first_accept_done(sl_socket *l, int status, sl_socket *accepted, void *arg)
{
    chain_accept *ca = arg;
    ca->status1 = status;
    ca->acc1 = accepted;
    atomic_fetch_add(&ca->done1, 1);
    assert_int_equal(sl_socket_async_accept(l, second_accept_done, ca), 0);
}

/* The same for accept: one completed and queued, a cancel, then the next
 * accept waits for its client and completes with it. */
void contract_cancel_spares_queued_accept_and_later_accepts(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    int lfd, port;
    lfd = raw_listener(16, &port);
    sl_socket *l;
    assert_int_equal(sl_socket_adopt(s, lfd, &l), 0);
    struct sockaddr_in a;
    loopback(&a, port);
    int c1 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(c1, (struct sockaddr *)&a, sizeof a), 0);
    chain_accept ca;
    memset(&ca, 0, sizeof ca);
    assert_int_equal(sl_socket_async_accept(l, first_accept_done, &ca), 0);
    sl_socket_cancel(l);
    poll_until(s, &ca.done1, 1000);
    assert_int_equal(ca.status1, 0);
    assert_non_null(ca.acc1);
    assert_int_equal(sl_wait_one(s, 30000), 0);
    if (atomic_load(&ca.done2))
        fail_msg("an accept started after the cancel completed with %d", ca.status2);
    int c2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(c2, (struct sockaddr *)&a, sizeof a), 0);
    poll_until(s, &ca.done2, 1000);
    assert_int_equal(atomic_load(&ca.done2), 1);
    assert_int_equal(ca.status2, 0);
    assert_non_null(ca.acc2);
    sl_socket_close(ca.acc1);
    sl_socket_close(ca.acc2);
    sl_socket_close(l);
    close(c1);
    close(c2);
    sl_scheduler_destroy(s);
}

typedef struct sig_result {
    atomic_int done;
    int status, signo;
} sig_result;

static void on_signal(sl_signal_set *set, int status, int signo, void *arg)
{
    (void)set;
    sig_result *r = arg;
    r->status = status;
    r->signo = signo;
    atomic_fetch_add(&r->done, 1);
}

/* A signal-set cancel with no wait pending does nothing: the next wait is
 * not cancelled and completes with the signal (the kit's choice, as for
 * sockets; upstream 17fa5e5 later latched such a cancel). */
void contract_signal_cancel_without_wait_is_not_latched(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_signal_set *set;
    assert_int_equal(sl_signal_set_create(s, &set), 0);
    assert_int_equal(sl_signal_set_add(set, SIGUSR2), 0);
    sl_signal_set_cancel(set);
    sig_result r = {0};
    assert_int_equal(sl_signal_set_async_wait(set, on_signal, &r), 0);
    assert_int_equal(sl_poll(s), 0);
    assert_int_equal(atomic_load(&r.done), 0);
    assert_int_equal(raise(SIGUSR2), 0);
    poll_until(s, &r.done, 1000);
    assert_int_equal(atomic_load(&r.done), 1);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.signo, SIGUSR2);
    sl_signal_set_destroy(set);
    sl_run(s);
    sl_scheduler_destroy(s);
}

/* ---- 6. splice order after a reactor pass -------------------------------- */

typedef struct order_read {
    io_result r;
    int *log;
    atomic_int *log_n;
} order_read;

static void on_order_read(sl_socket *sock, int status, size_t bytes, void *arg)
{
    order_read *o = arg;
    o->log[atomic_fetch_add(o->log_n, 1)] = 100;
    on_io(sock, status, bytes, &o->r);
}

/* A timer expiry and a socket's readiness harvested by the same reactor
 * pass: the descriptor's completion runs first, then the timer's, as
 * upstream queues them. */
void contract_descriptor_then_timer_after_one_pass(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    int log[4];
    atomic_int log_n;
    atomic_init(&log_n, 0);
    sl_socket *p[2];
    assert_int_equal(sl_socket_pair(s, p), 0);
    sl_timer t;
    timer_result tr;
    sl_timer_init(&t, s);
    timer_result_init(&tr, 7, log, &log_n);
    sl_timer_expires_after(&t, 20 * MS);
    assert_int_equal(sl_timer_wait(&t, &tr.w), 0);
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    order_read o = {.log = log, .log_n = &log_n};
    assert_int_equal(sl_socket_async_read(p[0], &iov, 1, on_order_read, &o), 0);
    assert_int_equal(sl_poll(s), 0); /* programs the timerfd, nothing ready */
    raw_write(p[1], "q", 1);
    sleep_ms(50); /* both are ready before the next pass */
    assert_int_equal(sl_poll(s), 2);
    assert_int_equal(atomic_load(&log_n), 2);
    /* Without the private queue (M8) the reactor posts the timer's
     * completion to the shared queue while it processes the expiry, before
     * it splices the descriptors: that variant gives timer first. */
    int first = variant_is("no-private-queue") ? 7 : 100;
    if (log[0] != first || log[1] != (first == 7 ? 100 : 7))
        fail_msg("order after one pass: %s first", log[0] == 7 ? "timer" : "descriptor");
    sl_socket_close(p[0]);
    sl_socket_close(p[1]);
    sl_scheduler_destroy(s);
}

/* ---- 7. a close racing a descriptor run ------------------------------------ */

static _Atomic(const void *) window_target;
static atomic_int window_state; /* 1 inside, 2 done */

static void window_hook(const char *site, const void *obj)
{
    if (strcmp(site, "descriptor_run") != 0 || obj != atomic_load(&window_target))
        return;
    atomic_store(&window_state, 1);
    sleep_ms(100);
    atomic_store(&window_state, 2);
}

/* Thread B runs a descriptor whose socket got an RST (EPOLLERR); the run
 * is held in the window between being popped and taking the descriptor's
 * mutex while the main thread closes that socket and opens a new pair.
 * The run must keep the old object (the close takes the owner reference),
 * so the new socket is not touched by the stale error: a read on it
 * completes with its data (upstream 6e759c2 cleared is_enqueued before
 * locking: the object was recycled and the read failed with EIO). */
void contract_close_during_descriptor_run_spares_new_socket(void **state)
{
    (void)state;
    SKIP_ON_URING("a uring socket has no descriptor run: a CQE names its op, not the fd");
    if (!HAVE_STATS())
        skip(); /* the race window hook exists in stats builds only */
    int cfd, sfd;
    raw_tcp_pair(&cfd, &sfd);

    sl_scheduler *s = new_sched();
    sl_socket *victim;
    assert_int_equal(sl_socket_adopt(s, cfd, &victim), 0);
    sl_work_started(s);
    run_thread b;
    start_run_thread(&b, s);
    sleep_ms(50); /* the registration edge has been run */

    atomic_store(&window_target, (const void *)victim);
    atomic_store(&window_state, 0);
    sl_set_race_window_hook(window_hook);
    struct linger lg = {1, 0};
    assert_int_equal(setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(sfd); /* RST: the victim gets EPOLLERR */
    uint64_t start = sl_now_ns();
    while (atomic_load(&window_state) == 0 && elapsed_ms_since(start) < 2000)
        sleep_ms(1);
    assert_int_equal(atomic_load(&window_state), 1);
    sl_socket_close(victim);
    sl_socket *p[2];
    assert_int_equal(sl_socket_pair(s, p), 0);
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    io_result r = {0};
    assert_int_equal(sl_socket_async_read(p[0], &iov, 1, on_io, &r), 0);
    long reads_before = fault_calls("readv"); /* recv counts here too */
    while (atomic_load(&window_state) != 2)
        sleep_ms(1);
    sleep_ms(30); /* the held run finishes */
    sl_set_race_window_hook(NULL);
    atomic_store(&window_target, NULL);
    if (atomic_load(&r.done))
        fail_msg("a read on the new socket completed with %d before any data", r.status);
    /* Nor may the held run touch the new socket at all: with the object
     * recycled, it performed the parked read on the new descriptor (the
     * stale EPOLLERR no longer fails it, see the next defect). */
    long stray = fault_calls("readv") - reads_before;
    if (stray != 0)
        fail_msg("the held run of the closed socket read the new one (%ld reads)", stray);
    raw_write(p[1], "ok", 2);
    start = sl_now_ns();
    while (!atomic_load(&r.done) && elapsed_ms_since(start) < 1000)
        sleep_ms(1);
    assert_int_equal(atomic_load(&r.done), 1);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.bytes, 2);
    sl_socket_close(p[0]);
    sl_socket_close(p[1]);
    sl_work_finished(s);
    join_run_thread(&b, 2000);
    sl_scheduler_destroy(s);
}

/* ---- 8. shutdown with a descriptor run queued ------------------------------- */

/* A readable socket's descriptor run is left queued, then the socket is
 * closed (the queued run holds the owner reference) and the scheduler shut
 * down: the run's destroy hook must drop that reference, so the object is
 * free again (the next socket reuses it), as upstream's destroy() resets
 * impl_ref_ (the port's first landing had no hook: never dropped). */
void contract_shutdown_releases_queued_descriptor_reference(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *p[2];
    assert_int_equal(sl_socket_pair(s, p), 0);
    raw_write(p[1], "r", 1);
    count_op x;
    count_op_init(&x, 1, NULL, NULL);
    sl_post(s, &x.op);
    /* One pass with x queued: the descriptors are harvested and queued
     * behind x; run_one runs x only. */
    assert_int_equal(sl_run_one(s), 1);
    assert_int_equal(atomic_load(&x.completed), 1);
    sl_socket *old = p[0];
    sl_socket_close(p[0]);
    sl_socket_close(p[1]);
    sl_scheduler_shutdown(s);
    sl_socket *q[2];
    assert_int_equal(sl_socket_pair(s, q), 0);
    bool reused = q[0] == old || q[1] == old;
    sl_socket_close(q[0]);
    sl_socket_close(q[1]);
    sl_scheduler_destroy(s);
    if (!reused)
        fail_msg("the reference held by a queued descriptor run was not released at "
                 "shutdown");
}

/* ---- 9. nested run ------------------------------------------------------------ */

typedef struct nested {
    sl_op op;
    sl_scheduler *s;
    count_op inner[2];
    size_t got_wait, got_poll;
} nested;

static void nested_handler(sl_op *op)
{
    nested *n = (nested *)op;
    sl_post(n->s, &n->inner[0].op);
    n->got_wait = sl_wait_one(n->s, 200000);
    sl_post(n->s, &n->inner[1].op);
    n->got_poll = sl_poll(n->s);
}

/* A handler posts an op and then calls wait_one (and poll) on the same
 * scheduler: the nested call sees the op and runs it (upstream: the op sits
 * in the outer frame's private queue; run_one there blocks forever). */
void contract_nested_run_sees_posted_work(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    nested n;
    memset(&n, 0, sizeof n);
    n.s = s;
    sl_op_init(&n.op, nested_handler, NULL);
    count_op_init(&n.inner[0], 1, NULL, NULL);
    count_op_init(&n.inner[1], 2, NULL, NULL);
    sl_post(s, &n.op);
    uint64_t start = sl_now_ns();
    size_t total = sl_run(s);
    assert_true(elapsed_ms_since(start) < 150);
    assert_int_equal(n.got_wait, 1);
    assert_int_equal(n.got_poll, 1);
    assert_int_equal(atomic_load(&n.inner[0].completed), 1);
    assert_int_equal(atomic_load(&n.inner[1].completed), 1);
    assert_int_equal(total, 1); /* the outer handler; the inner ones counted inside */
    sl_scheduler_destroy(s);
}

/* ---- 10. what the run functions count, and timer order ---------------------- */

typedef struct counted {
    atomic_int handlers;
    sl_socket *sock;
    char buf[3][1];
    int reads;
} counted;

typedef struct counted_op {
    sl_op op;
    counted *c;
} counted_op;

static void counted_post(sl_op *op)
{
    atomic_fetch_add(&((counted_op *)op)->c->handlers, 1);
}

static void counted_read(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)bytes;
    counted *c = arg;
    assert_int_equal(status, 0);
    atomic_fetch_add(&c->handlers, 1);
    if (++c->reads < 3) {
        struct iovec iov = {c->buf[c->reads], 1};
        assert_int_equal(sl_socket_async_read(sock, &iov, 1, counted_read, c), 0);
    }
}

typedef struct counted_waiter {
    sl_timer_waiter w;
    counted *c;
} counted_waiter;

static void counted_timer_fired(sl_timer_waiter *w, int status)
{
    assert_int_equal(status, 0);
    atomic_fetch_add(&((counted_waiter *)w)->c->handlers, 1);
}

/* Five posts, a timer and three reads -- the first completed by a
 * descriptor run, the next two started from its handler with data ready
 * (inline where the budget allows): run returns 9, the number of handlers
 * invoked, on every build (upstream counts the descriptor run and not the
 * inline completions). */
void contract_run_counts_every_handler_not_descriptor_runs(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    counted c;
    memset(&c, 0, sizeof c);
    sl_socket *p[2];
    assert_int_equal(sl_socket_pair(s, p), 0);
    struct iovec iov = {c.buf[0], 1};
    assert_int_equal(sl_socket_async_read(p[0], &iov, 1, counted_read, &c), 0);
    raw_write(p[1], "abc", 3);
    counted_op ops[5];
    for (int i = 0; i < 5; ++i) {
        sl_op_init(&ops[i].op, counted_post, NULL);
        ops[i].c = &c;
        sl_post(s, &ops[i].op);
    }
    sl_timer t;
    counted_waiter cw = {.c = &c};
    sl_timer_init(&t, s);
    sl_timer_wait_init(&cw.w, counted_timer_fired, NULL);
    sl_timer_expires_after(&t, 0);
    assert_int_equal(sl_timer_wait(&t, &cw.w), 0);
    size_t n = sl_run(s);
    assert_int_equal(atomic_load(&c.handlers), 9);
    assert_int_equal(c.reads, 3);
    assert_int_equal(n, 9);
    sl_socket_close(p[0]);
    sl_socket_close(p[1]);
    sl_scheduler_destroy(s);
}

/* Sixteen timers with the same expiry fire in the order their waits were
 * started (upstream: the order the heap's swaps leave). */
void contract_equal_expiry_timers_fire_in_start_order(void **state)
{
    (void)state;
    enum { N = 16 };
    sl_scheduler *s = new_sched();
    int log[N];
    atomic_int log_n;
    atomic_init(&log_n, 0);
    sl_timer t[N];
    timer_result r[N];
    uint64_t when = sl_now_ns() + 20 * MS;
    for (int i = 0; i < N; ++i) {
        sl_timer_init(&t[i], s);
        timer_result_init(&r[i], i, log, &log_n);
        sl_timer_expires_at(&t[i], when);
        assert_int_equal(sl_timer_wait(&t[i], &r[i].w), 0);
    }
    assert_int_equal(sl_run(s), N);
    assert_int_equal(atomic_load(&log_n), N);
    for (int i = 0; i < N; ++i)
        if (log[i] != i)
            fail_msg("equal-expiry timers: position %d fired timer %d", i, log[i]);
    sl_scheduler_destroy(s);
}

/* A wait whose expiry has passed, not yet harvested by the reactor, is no
 * longer cancellable: cancel and cancel_one return 0 and the wait reports
 * expiry; a wait still in the future is cancelled (the control). */
void contract_due_timer_wait_is_not_cancellable(void **state)
{
    (void)state;
    for (int one = 0; one < 2; ++one) {
        sl_scheduler *s = new_sched();
        sl_timer due, future;
        timer_result rd, rf;
        sl_timer_init(&due, s);
        sl_timer_init(&future, s);
        timer_result_init(&rd, 0, NULL, NULL);
        timer_result_init(&rf, 1, NULL, NULL);
        sl_timer_expires_after(&due, 1 * MS);
        sl_timer_expires_after(&future, 3600ull * 1000 * MS);
        assert_int_equal(sl_timer_wait(&due, &rd.w), 0);
        assert_int_equal(sl_timer_wait(&future, &rf.w), 0);
        sleep_ms(20);
        assert_int_equal(one ? sl_timer_cancel_one(&due) : sl_timer_cancel(&due), 0);
        assert_int_equal(one ? sl_timer_cancel_one(&future) : sl_timer_cancel(&future), 1);
        sl_run(s);
        assert_int_equal(atomic_load(&rd.done), 1);
        assert_int_equal(rd.status, 0);
        assert_int_equal(atomic_load(&rf.done), 1);
        assert_int_equal(rf.status, SL_ECANCELED);
        sl_scheduler_destroy(s);
    }
}

/* ---- edge inputs of the same kinds ------------------------------------------ */

typedef struct far_waiter {
    pthread_t tid;
    sl_scheduler *s;
    long usec;
    size_t got;
    atomic_bool done;
} far_waiter;

static void *far_wait_main(void *arg)
{
    far_waiter *f = arg;
    f->got = sl_wait_one(f->s, f->usec);
    atomic_store(&f->done, true);
    return NULL;
}

/* Huge deadlines: wait_one(LONG_MAX) still runs a timer due in 20 ms (the
 * deadline arithmetic must not overflow), and wait_one(1 h) hands
 * epoll_wait an hour in milliseconds (not 24.8 days). */
void contract_wait_one_huge_timeouts(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    timer_result r;
    sl_timer_init(&t, s);
    timer_result_init(&r, 0, NULL, NULL);
    uint64_t start = sl_now_ns();
    sl_timer_expires_after(&t, 20 * MS);
    assert_int_equal(sl_timer_wait(&t, &r.w), 0);
    assert_int_equal(sl_wait_one(s, LONG_MAX), 1);
    assert_int_equal(r.status, 0);
    assert_true(elapsed_ms_since(start) >= 20);

    sl_restart(s); /* the work ran out: run stopped the scheduler */
    sl_work_started(s);
    far_waiter f = {.s = s, .usec = 3600L * 1000000L};
    atomic_init(&f.done, false);
    assert_int_equal(pthread_create(&f.tid, NULL, far_wait_main, &f), 0);
    sleep_ms(60);
    int ms = fault_last_epoll_wait_timeout();
    count_op c;
    count_op_init(&c, 1, NULL, NULL);
    sl_post(s, &c.op); /* cross-thread: interrupts the waiting reactor */
    pthread_join(f.tid, NULL);
    assert_int_equal(f.got, 1);
    /* uring waits in io_uring_wait_cqe_timeout, not epoll_wait. */
    if (!backend_is_uring() && (ms < 3590000 || ms > 3600000))
        fail_msg("wait_one(1 h) gave epoll_wait %d ms", ms);
    sl_work_finished(s);
    sl_scheduler_destroy(s);
}

/* A deadline shorter than the call's own set-up: wait_one(1) with a timer
 * that expired 5 ms ago still makes the poll's one pass and runs it. */
static void deadline_window_hook(const char *site, const void *obj)
{
    (void)obj;
    if (strcmp(site, "run_loop_deadline") == 0)
        sleep_ms(2); /* the 1 us deadline has passed before the first turn */
}

void contract_wait_one_tiny_timeout_runs_what_is_ready(void **state)
{
    (void)state;
    /* Stats builds hold the call between its deadline and its first
     * reactor turn, so that turn always finds the deadline passed; other
     * builds rely on 1 us being short. */
    if (HAVE_STATS())
        sl_set_race_window_hook(deadline_window_hook);
    for (int round = 0; round < 20; ++round) {
        sl_scheduler *s = new_sched();
        sl_timer t;
        timer_result r;
        sl_timer_init(&t, s);
        timer_result_init(&r, 0, NULL, NULL);
        sl_timer_expires_after(&t, 1 * MS);
        assert_int_equal(sl_timer_wait(&t, &r.w), 0);
        sleep_ms(6);
        size_t n = sl_wait_one(s, 1);
        if (n != 1) {
            sl_set_race_window_hook(NULL);
            fail_msg("round %d: wait_one(1 us) did not run an expired timer", round);
        }
        sl_scheduler_destroy(s);
    }
    sl_set_race_window_hook(NULL);
}

/* A poll makes one zero-timeout pass with nothing else queued, per call:
 * descriptor runs that complete nothing (a readable socket with no read
 * pending) do not buy it a second pass. */
void contract_poll_makes_one_bare_pass_per_call(void **state)
{
    (void)state;
    if (!HAVE_STATS())
        skip(); /* counts epoll_wait calls */
    for (int fn = 0; fn < 2; ++fn) {
        sl_scheduler *s = new_sched();
        sl_socket *p[2];
        assert_int_equal(sl_socket_pair(s, p), 0);
        raw_write(p[1], "x", 1);
        sl_work_started(s);
        sl_stats a, b;
        sl_stats_read(s, &a);
        assert_int_equal(fn ? sl_poll_one(s) : sl_poll(s), 0);
        sl_stats_read(s, &b);
        if (b.epoll_wait_zero - a.epoll_wait_zero != 1)
            fail_msg("%s made %llu zero-timeout passes", fn ? "poll_one" : "poll",
                     (unsigned long long)(b.epoll_wait_zero - a.epoll_wait_zero));
        sl_work_finished(s);
        sl_socket_close(p[0]);
        sl_socket_close(p[1]);
        sl_scheduler_destroy(s);
    }
}

typedef struct starter {
    pthread_t tid;
    sl_socket *sock;
    char buf[8];
    io_result r;
} starter;

static void *start_read_main(void *arg)
{
    starter *st = arg;
    struct iovec iov = {st->buf, sizeof st->buf};
    assert_int_equal(sl_socket_async_read(st->sock, &iov, 1, on_io, &st->r), 0);
    return NULL;
}

/* A cancel that lands while a read is being started (its speculative
 * readv said EAGAIN, it has not parked) and a readiness edge cached in the
 * same window: the read reports SL_ECANCELED with 0 bytes and the data
 * stays for the next read (upstream reads it, then reports cancelled). */
void contract_cancel_during_start_does_no_io(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *p[2];
    assert_int_equal(sl_socket_pair(s, p), 0);
    sl_work_started(s);
    run_thread b;
    start_run_thread(&b, s);
    sleep_ms(30);
    starter st;
    memset(&st, 0, sizeof st);
    st.sock = p[0];
    fault_delay("readv", sl_socket_fd(p[0]), 1, 400000); /* after its EAGAIN */
    long readv_calls = fault_calls("readv");
    assert_int_equal(pthread_create(&st.tid, NULL, start_read_main, &st), 0);
    /* Until the read's speculative readv has returned EAGAIN: the starter
     * thread now sleeps inside the window. */
    uint64_t t0 = sl_now_ns();
    while (fault_calls("readv") == readv_calls && elapsed_ms_since(t0) < 5000)
        sleep_ms(1);
    sleep_ms(20); /* counted before the real call: let it return EAGAIN */
    raw_write(p[1], "d", 1); /* the reactor caches the edge */
    sleep_ms(40);
    sl_socket_cancel(p[0]);
    pthread_join(st.tid, NULL);
    uint64_t start = sl_now_ns();
    while (!atomic_load(&st.r.done) && elapsed_ms_since(start) < 1000)
        sleep_ms(1);
    fault_clear();
    assert_int_equal(atomic_load(&st.r.done), 1);
    if (st.r.status != SL_ECANCELED || st.r.bytes != 0)
        fail_msg("cancelled during start: status %d, %zu bytes", st.r.status, st.r.bytes);
    char got;
    assert_int_equal(read(sl_socket_fd(p[0]), &got, 1), 1);
    assert_int_equal(got, 'd');
    sl_work_finished(s);
    join_run_thread(&b, 2000);
    sl_socket_close(p[0]);
    sl_socket_close(p[1]);
    sl_scheduler_destroy(s);
}

typedef struct nested_inline {
    sl_scheduler *s;
    char buf[4];
    io_result second;
    size_t got;
    uint64_t took_ms;
} nested_inline;

static void nested_inline_first(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)status;
    (void)bytes;
    nested_inline *n = arg;
    struct iovec iov = {n->buf, 1};
    /* Data is there: completes at initiation (inline where budgeted). */
    assert_int_equal(sl_socket_async_read(sock, &iov, 1, on_io, &n->second), 0);
    uint64_t start = sl_now_ns();
    n->got = sl_wait_one(n->s, 200000);
    n->took_ms = elapsed_ms_since(start);
}

/* A handler starts a read that completes at once and then runs wait_one:
 * the nested call runs that completion and returns 1 at once (it must not
 * sit in the outer handler's inline list, unseen). */
void contract_nested_run_sees_inline_completion(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *p[2];
    assert_int_equal(sl_socket_pair(s, p), 0);
    nested_inline n;
    memset(&n, 0, sizeof n);
    n.s = s;
    char first[1];
    struct iovec iov = {first, 1};
    assert_int_equal(sl_socket_async_read(p[0], &iov, 1, nested_inline_first, &n), 0);
    raw_write(p[1], "ab", 2);
    sl_run(s);
    assert_int_equal(n.got, 1);
    assert_int_equal(atomic_load(&n.second.done), 1);
    assert_int_equal(n.second.status, 0);
    if (n.took_ms > 100)
        fail_msg("nested wait_one took %llu ms", (unsigned long long)n.took_ms);
    sl_socket_close(p[0]);
    sl_socket_close(p[1]);
    sl_scheduler_destroy(s);
}

/* A signal-set handler is a handler: run, poll and wait_one count it, and
 * wait_one returns as soon as it ran. */
void contract_signal_handler_is_counted(void **state)
{
    (void)state;
    for (int fn = 0; fn < 3; ++fn) {
        sl_scheduler *s = new_sched();
        sl_signal_set *set;
        assert_int_equal(sl_signal_set_create(s, &set), 0);
        assert_int_equal(sl_signal_set_add(set, SIGUSR2), 0);
        sig_result r = {0};
        assert_int_equal(sl_signal_set_async_wait(set, on_signal, &r), 0);
        assert_int_equal(raise(SIGUSR2), 0);
        uint64_t start = sl_now_ns();
        size_t n = fn == 0 ? sl_run(s) : fn == 1 ? sl_poll(s) : sl_wait_one(s, 300000);
        assert_int_equal(atomic_load(&r.done), 1);
        if (n != 1)
            fail_msg("%s returned %zu after a signal handler",
                     fn == 0 ? "run" : fn == 1 ? "poll" : "wait_one", n);
        assert_true(elapsed_ms_since(start) < 150);
        sl_signal_set_destroy(set);
        sl_restart(s);
        sl_poll(s);
        sl_scheduler_destroy(s);
    }
}

/* Waits started on an expiry that has already passed keep their start
 * order behind waits on the same expiry that are due but not harvested. */
void contract_equal_expiry_order_holds_once_due(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    int log[3];
    atomic_int log_n;
    atomic_init(&log_n, 0);
    sl_timer t[3];
    timer_result r[3];
    uint64_t when = sl_now_ns() + 10 * MS;
    for (int i = 0; i < 3; ++i) {
        sl_timer_init(&t[i], s);
        timer_result_init(&r[i], i, log, &log_n);
        sl_timer_expires_at(&t[i], when);
    }
    assert_int_equal(sl_timer_wait(&t[0], &r[0].w), 0);
    assert_int_equal(sl_timer_wait(&t[1], &r[1].w), 0);
    sleep_ms(20); /* due; no reactor pass yet */
    assert_int_equal(sl_timer_wait(&t[2], &r[2].w), 0);
    assert_int_equal(sl_run(s), 3);
    if (log[0] != 0 || log[1] != 1 || log[2] != 2)
        fail_msg("fired %d, %d, %d", log[0], log[1], log[2]);
    sl_scheduler_destroy(s);
}

static atomic_int late_destroyed;

static void late_timer_destroy(sl_timer_waiter *w)
{
    (void)w;
    atomic_fetch_add(&late_destroyed, 1);
}

/* Bad input and late input: a timer wait with no handler is refused
 * (-EINVAL, nothing queued); an op posted and a timer wait started after
 * shutdown get their destroy hook at destroy, never their handler. */
void contract_late_and_bad_input_lose_nothing(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_timer t;
    sl_timer_waiter w;
    sl_timer_init(&t, s);
    sl_timer_wait_init(&w, NULL, NULL);
    sl_timer_expires_after(&t, 0);
    assert_int_equal(sl_timer_wait(&t, &w), -EINVAL);
    assert_int_equal(sl_poll(s), 0);

    sl_scheduler_shutdown(s);
    count_op c;
    count_op_init(&c, 1, NULL, NULL);
    sl_post(s, &c.op);
    timer_result late;
    timer_result_init(&late, 0, NULL, NULL);
    late.w.destroy = late_timer_destroy;
    atomic_store(&late_destroyed, 0);
    sl_timer_expires_after(&t, 3600ull * 1000 * MS);
    assert_int_equal(sl_timer_wait(&t, &late.w), 0);
    sl_scheduler_destroy(s);
    assert_int_equal(atomic_load(&c.completed), 0);
    assert_int_equal(atomic_load(&c.destroyed), 1);
    assert_int_equal(atomic_load(&late.done), 0);
    assert_int_equal(atomic_load(&late_destroyed), 1);
}

/* ---- 11. a stale EPOLLERR whose error was already taken ------------------- */

typedef struct write_starter {
    sl_op op;
    sl_socket *sock;
    struct iovec iov;
    io_result *r;
} write_starter;

static void start_write(sl_op *op)
{
    write_starter *w = (write_starter *)op;
    assert_int_equal(sl_socket_async_write(w->sock, &w->iov, 1, on_io, w->r), 0);
}

/* The peer resets the connection while a read is parked.  A reactor pass
 * reads EPOLLERR and queues the descriptor behind a handler that was
 * already queued; that handler starts a write, which runs at once (the
 * writable edge is cached) and takes the pending ECONNRESET.  The
 * descriptor's run then finds SO_ERROR == 0.  Upstream (6e759c2, still at
 * 4276bd4) turns that into EIO for every parked op; the read must instead
 * report what the socket says: the end of the stream, or the reset.
 * Found by `make stress` (the no-private-queue build, 1 run in about 10
 * under load: an echo read and a connect completed with EIO). */
void contract_stale_error_edge_is_not_eio(void **state)
{
    (void)state;
    int cfd, sfd;
    raw_tcp_pair(&cfd, &sfd);
    sl_scheduler *s = new_sched();
    sl_socket *sock;
    assert_int_equal(sl_socket_adopt(s, sfd, &sock), 0);
    sl_work_started(s);
    sl_wait_one(s, 20000); /* the registration edge: writable is cached */
    char rbuf[8], wbuf[4] = "abc";
    struct iovec riov = {rbuf, sizeof rbuf};
    io_result rr = {0}, wr = {0};
    assert_int_equal(sl_socket_async_read(sock, &riov, 1, on_io, &rr), 0);
    sl_wait_one(s, 20000); /* the read parks; the sentinel is queued last */
    assert_int_equal(atomic_load(&rr.done), 0);
    struct linger lg = {1, 0};
    assert_int_equal(setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(cfd); /* RST: EPOLLERR, SO_ERROR = ECONNRESET */
    sleep_ms(20);
    write_starter w = {.sock = sock, .iov = {wbuf, sizeof wbuf}, .r = &wr};
    sl_op_init(&w.op, start_write, NULL);
    sl_post(s, &w.op); /* queued behind the sentinel, ahead of the pass's output */
    poll_until(s, &rr.done, 1000);
    poll_until(s, &wr.done, 1000);
    assert_int_equal(atomic_load(&wr.done), 1);
    assert_true(wr.status < 0);
    assert_int_equal(atomic_load(&rr.done), 1);
    if (rr.status != SL_EOF && rr.status != -ECONNRESET)
        fail_msg("the parked read completed with %d, not the end of the stream (%d) or "
                 "the reset (%d); the write had %d",
                 rr.status, SL_EOF, -ECONNRESET, wr.status);
    sl_work_finished(s);
    sl_socket_close(sock);
    sl_scheduler_destroy(s);
}
