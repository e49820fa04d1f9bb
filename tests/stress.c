/* stress.c - the scheduler under a mixed load, as a standalone program:
 * T threads in sl_run; same-thread post chains and cross-thread posts from
 * external poster threads; timers scheduled, left to fire, cancelled at
 * once or cancelled by a posted op racing the expiry; and ping-pong
 * clients over socketpairs and TCP loopback that reconnect every few
 * rounds, against echo servers (the TCP ones accepted by a listener).
 *
 * It runs until about N operations have completed (-n) or for a duration
 * (-d), then lets everything wind down by itself, and checks that every
 * operation completed exactly once (each op carries a `pending` flag set
 * by its start and cleared by its handler, as in test_core.c's
 * core_four_threads_million_posts_exactly_once), that sl_run returned in
 * every thread, and that the process holds as many descriptors as before.
 * A watchdog prints every thread's stack (gdb, when installed) and exits
 * non-zero if no operation completes for 30 s.
 *
 * Contracts are checked on the way, not only exactly-once: a timer wait
 * reports expiry exactly when no cancel counted it (and never before its
 * expiry), a cancel never reaches an op started after it or one already
 * completed (cancel probes over socketpairs), and one runner thread works
 * through sl_wait_one with random deadlines, none of which may end early
 * or overrun by more than 250 ms.  Last line: a summary with
 * ops, threads, seconds, ops/s; exit status 0 only if every check held.
 *
 *   stress [-t threads] [-n ops | -d seconds] [-p posters] [-w watchdog-s]
 *
 * tests/tests.mk builds it per build as build/<b>/stress with
 * -DSL_STRESS_PROGRAM; the suite's rule compiles every .c file of tests/
 * into the tests binary, where this file is empty. */
#ifndef SL_STRESS_PROGRAM
typedef int stress_program_only; /* ISO C wants a non-empty unit */
#else

#include "schedlab.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
#define CREDIT_BATCH 64
#define MSG_MAX 4096

/* ---- operation kinds and per-thread counters ---------------------------- */

enum kind {
    K_POST_SAME,
    K_POST_CROSS,
    K_TIMER,
    K_CANCEL,
    K_IO,
    K_CONNECT,
    K_ACCEPT,
    K_COUNT
};
static const char *const kind_names[K_COUNT] = {
    "post-same", "post-cross", "timer", "cancel-op", "io", "connect", "accept"};

/* One slot per thread that starts or completes ops (main, runners,
 * posters), each written by its own thread only. */
typedef struct slot {
    atomic_long started[K_COUNT];
    atomic_long completed[K_COUNT];
    char pad[64];
} slot;

static slot slots[2 * MAX_THREADS + 2];
static _Thread_local int my_slot;
static _Thread_local uint64_t rng_state;

/* The load's parts, each with its share of the operation count: the run
 * by count ends when every part has spent its share. */
enum part { P_SAME, P_CROSS, P_TIMER, P_IO, P_COUNT };
static const int part_percent[P_COUNT] = {40, 30, 10, 20};

static struct {
    sl_scheduler *s;
    bool by_duration;
    atomic_long budget[P_COUNT]; /* credits left (by count) */
    atomic_bool stopping;        /* by duration: time is up, wind down */
    atomic_long double_completions, start_while_pending, errors;
    atomic_long timers_fired, timers_cancelled;
    atomic_long connections, live_echoes;
    atomic_int active_tcp_clients;
    const char *_Atomic phase;
    atomic_bool runners_returned; /* every sl_run has returned */
    atomic_bool finished;
    int watchdog_s;
    char first_error[256];
    atomic_flag first_error_taken;
} g;

static uint64_t now_ns(void)
{
    return sl_now_ns();
}

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void error(const char *fmt, ...)
{
    atomic_fetch_add(&g.errors, 1);
    if (atomic_flag_test_and_set(&g.first_error_taken))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g.first_error, sizeof g.first_error, fmt, ap);
    va_end(ap);
}

/* An op's start: its flag must be clear. */
static void op_started(atomic_int *pending, enum kind k)
{
    if (atomic_exchange(pending, 1) != 0)
        atomic_fetch_add(&g.start_while_pending, 1);
    atomic_fetch_add_explicit(&slots[my_slot].started[k], 1, memory_order_relaxed);
}

/* An op's handler: its flag must be set; a clear one is a second run. */
static void op_completed(atomic_int *pending, enum kind k)
{
    if (atomic_exchange(pending, 0) != 1)
        atomic_fetch_add(&g.double_completions, 1);
    atomic_fetch_add_explicit(&slots[my_slot].completed[k], 1, memory_order_relaxed);
}

/* Credits for up to `want` more ops of a part; 0 once it is winding down. */
static long claim(enum part p, long want)
{
    if (g.by_duration)
        return atomic_load_explicit(&g.stopping, memory_order_relaxed) ? 0 : want;
    if (atomic_load_explicit(&g.budget[p], memory_order_relaxed) <= 0)
        return 0;
    long left = atomic_fetch_sub(&g.budget[p], want);
    if (left <= 0)
        return 0;
    return left < want ? left : want;
}

static long sum_counter(bool completed, int k)
{
    long n = 0;
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; ++i)
        n += atomic_load_explicit(completed ? &slots[i].completed[k]
                                            : &slots[i].started[k],
                                  memory_order_relaxed);
    return n;
}

static long total_completed(void)
{
    long n = 0;
    for (int k = 0; k < K_COUNT; ++k)
        n += sum_counter(true, k);
    return n;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            ++n;
    closedir(d);
    return n - 1;
}

/* ---- same-thread post chains --------------------------------------------- */

/* Each run reposts the chain from the scheduler thread (the private
 * queue), and every 8th also posts the chain's child op. */
typedef struct chain {
    sl_op op;
    atomic_int pending;
    sl_op child;
    atomic_int child_pending;
    long credits;
    unsigned runs;
} chain;

static void child_run(sl_op *op)
{
    chain *c = (chain *)((char *)op - offsetof(chain, child));
    op_completed(&c->child_pending, K_POST_SAME);
}

static void chain_run(sl_op *op)
{
    chain *c = (chain *)op;
    op_completed(&c->pending, K_POST_SAME);
    if (c->credits == 0)
        c->credits = claim(P_SAME, CREDIT_BATCH);
    if (c->credits == 0)
        return;
    --c->credits;
    if (++c->runs % 8 == 0 && atomic_load(&c->child_pending) == 0) {
        op_started(&c->child_pending, K_POST_SAME);
        sl_post(g.s, &c->child);
    }
    op_started(&c->pending, K_POST_SAME);
    sl_post(g.s, &c->op);
}

/* ---- cross-thread posters -------------------------------------------------- */

enum { POSTER_OPS = 64 };

typedef struct poster_op {
    sl_op op;
    atomic_int pending;
    struct poster *owner;
    struct poster_op *ret_next;
} poster_op;

typedef struct poster {
    pthread_t tid;
    int slot;
    poster_op ops[POSTER_OPS];
    _Atomic(poster_op *) returned; /* ops whose handler ran */
    atomic_bool done;
} poster;

static void poster_op_run(sl_op *op)
{
    poster_op *o = (poster_op *)op;
    poster *p = o->owner;
    op_completed(&o->pending, K_POST_CROSS);
    poster_op *head = atomic_load(&p->returned);
    do
        o->ret_next = head;
    while (!atomic_compare_exchange_weak(&p->returned, &head, o));
}

static void *poster_main(void *arg)
{
    poster *p = arg;
    my_slot = p->slot;
    rng_state = 0x9e3779b97f4a7c15ull * (uint64_t)(p->slot + 1);
    poster_op *free_ops = NULL;
    for (int i = 0; i < POSTER_OPS; ++i) {
        p->ops[i].ret_next = free_ops;
        free_ops = &p->ops[i];
    }
    int out = 0; /* ops posted, handler not yet run */
    long credits = 0;
    for (;;) {
        if (credits == 0)
            credits = claim(P_CROSS, CREDIT_BATCH);
        if (credits == 0 && out == 0)
            break;
        if (!free_ops || credits == 0) {
            poster_op *back = atomic_exchange(&p->returned, NULL);
            if (!back) {
                /* No thread left to run them: they are lost (main says). */
                if (atomic_load(&g.runners_returned))
                    break;
                sched_yield();
                continue;
            }
            while (back) {
                poster_op *next = back->ret_next;
                back->ret_next = free_ops;
                free_ops = back;
                --out;
                back = next;
            }
            continue;
        }
        poster_op *o = free_ops;
        free_ops = o->ret_next;
        --credits;
        ++out;
        op_started(&o->pending, K_POST_CROSS);
        sl_post(g.s, &o->op);
        if ((rnd() & 1023) == 0)
            sched_yield(); /* let a runner in now and then */
    }
    atomic_store(&p->done, true);
    sl_work_finished(g.s); /* the unit main took for this poster */
    return NULL;
}

/* ---- timers -------------------------------------------------------------- */

/* A step schedules the chain's timer 0..300 us ahead and waits; then
 * either lets it fire, cancels it at once, or posts an op that cancels it,
 * racing the expiry.  The next step starts when the wait's handler (and
 * the cancel op, if any) have run. */
typedef struct tchain {
    sl_timer timer;
    sl_timer_waiter w;
    atomic_int w_pending;
    sl_op cancel;
    atomic_int cancel_pending;
    atomic_int step_left;
    atomic_int cancelled_count; /* what this step's cancel returned, or -1 */
    atomic_int status;          /* the wait's status */
    uint64_t expiry_ns;
} tchain;

/* The step's contract: a wait reports SL_ECANCELED exactly when a cancel
 * counted it, and expiry (status 0) never before its expiry. */
static void tchain_check(tchain *t)
{
    int st = atomic_load(&t->status), n = atomic_load(&t->cancelled_count);
    if (n == 1 && st != SL_ECANCELED)
        error("timer: a cancel counted the wait, which reported %d", st);
    if (n == 0 && st != 0)
        error("timer: a cancel that counted nothing, the wait reported %d", st);
}

static void tchain_step(tchain *t);

static void tchain_fired(sl_timer_waiter *w, int status)
{
    tchain *t = (tchain *)((char *)w - offsetof(tchain, w));
    atomic_store(&t->status, status);
    if (status == 0 && now_ns() < t->expiry_ns)
        error("timer: expiry reported %llu ns early",
              (unsigned long long)(t->expiry_ns - now_ns()));
    if (status == 0)
        atomic_fetch_add_explicit(&g.timers_fired, 1, memory_order_relaxed);
    else if (status == SL_ECANCELED)
        atomic_fetch_add_explicit(&g.timers_cancelled, 1, memory_order_relaxed);
    else
        error("timer wait completed with status %d", status);
    op_completed(&t->w_pending, K_TIMER);
    if (atomic_fetch_sub(&t->step_left, 1) == 1) {
        tchain_check(t);
        tchain_step(t);
    }
}

static void tchain_cancel_run(sl_op *op)
{
    tchain *t = (tchain *)((char *)op - offsetof(tchain, cancel));
    atomic_store(&t->cancelled_count, (int)sl_timer_cancel(&t->timer));
    op_completed(&t->cancel_pending, K_CANCEL);
    if (atomic_fetch_sub(&t->step_left, 1) == 1) {
        tchain_check(t);
        tchain_step(t);
    }
}

static void tchain_step(tchain *t)
{
    if (claim(P_TIMER, 2) == 0)
        return;
    uint64_t r = rnd();
    uint64_t delay = (r & 3) == 0 ? 0 : (r >> 8) % 300000;
    int mode = (int)((r >> 32) % 3);
    /* Modes 1 and 2 have two parts: the wait's handler and the cancel's
     * result, in either order; the step ends when both are in. */
    atomic_store(&t->step_left, mode == 0 ? 1 : 2);
    atomic_store(&t->cancelled_count, -1);
    atomic_store(&t->status, 999);
    sl_timer_expires_after(&t->timer, delay);
    t->expiry_ns = t->timer.expiry_ns;
    op_started(&t->w_pending, K_TIMER);
    if (sl_timer_wait(&t->timer, &t->w) != 0) {
        error("sl_timer_wait failed");
        return;
    }
    if (mode == 1) {
        atomic_store(&t->cancelled_count, (int)sl_timer_cancel(&t->timer));
        if (atomic_fetch_sub(&t->step_left, 1) == 1) {
            tchain_check(t);
            tchain_step(t);
        }
    } else if (mode == 2) {
        op_started(&t->cancel_pending, K_CANCEL);
        sl_post(g.s, &t->cancel);
    }
}

/* ---- cancel probes ------------------------------------------------------------ */

/* A socketpair worked in two-op steps: a read that completes at once
 * (its byte already there) and is cancelled before its handler runs must
 * report 0 and 1 byte; the read started from that handler parks, and a
 * cancel then must report SL_ECANCELED.  Credits come from the timer
 * part. */
typedef struct cprobe {
    sl_socket *p[2];
    char buf[4];
    atomic_int pending;
} cprobe;

static void cprobe_step(cprobe *c);

static void cprobe_parked_done(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    (void)n;
    cprobe *c = arg;
    op_completed(&c->pending, K_IO);
    if (status != SL_ECANCELED)
        error("cancel probe: a parked read cancelled reported %d", status);
    cprobe_step(c);
}

static void cprobe_ready_done(sl_socket *sock, int status, size_t n, void *arg)
{
    cprobe *c = arg;
    op_completed(&c->pending, K_IO);
    if (status != 0 || n != 1)
        error("cancel probe: a read done before the cancel reported %d, %zu bytes", status,
              n);
    struct iovec iov = {c->buf, sizeof c->buf};
    op_started(&c->pending, K_IO);
    if (sl_socket_async_read(sock, &iov, 1, cprobe_parked_done, c) != 0) {
        error("cancel probe: read refused");
        return;
    }
    sl_socket_cancel(sock);
}

static void cprobe_step(cprobe *c)
{
    if (claim(P_TIMER, 2) == 0) {
        sl_socket_close(c->p[0]);
        sl_socket_close(c->p[1]);
        return;
    }
    if (write(sl_socket_fd(c->p[1]), "c", 1) != 1) {
        error("cancel probe: write failed");
        return;
    }
    struct iovec iov = {c->buf, 1};
    op_started(&c->pending, K_IO);
    if (sl_socket_async_read(c->p[0], &iov, 1, cprobe_ready_done, c) != 0) {
        error("cancel probe: read refused");
        return;
    }
    sl_socket_cancel(c->p[0]);
}

/* ---- echo servers ---------------------------------------------------------- */

/* Echoes what it reads until the end of the stream, then closes and frees
 * itself.  One op at a time: read, then write it all back, then read. */
typedef struct echo {
    sl_socket *sock;
    bool tcp;
    size_t len, off;
    atomic_int rd_pending, wr_pending;
    char buf[MSG_MAX];
} echo;

static void echo_read(echo *e);

static void echo_end(echo *e)
{
    sl_socket_close(e->sock);
    free(e);
    atomic_fetch_sub(&g.live_echoes, 1);
}

static void echo_wrote(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    echo *e = arg;
    op_completed(&e->wr_pending, K_IO);
    if (status != 0) {
        error("echo write: status %d", status);
        echo_end(e);
        return;
    }
    e->off += n;
    if (e->off < e->len) {
        struct iovec iov = {e->buf + e->off, e->len - e->off};
        op_started(&e->wr_pending, K_IO);
        if (sl_socket_async_write(e->sock, &iov, 1, echo_wrote, e) != 0)
            error("echo write did not start");
        return;
    }
    echo_read(e);
}

static void echo_got(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    echo *e = arg;
    op_completed(&e->rd_pending, K_IO);
    /* The client closes when done: the end of the stream, or a reset for
     * TCP clients, which close with SO_LINGER 0 to leave no TIME_WAIT. */
    if (status == SL_EOF || (e->tcp && status == -ECONNRESET)) {
        echo_end(e);
        return;
    }
    if (status != 0) {
        error("echo read: status %d", status);
        echo_end(e);
        return;
    }
    e->len = n;
    e->off = 0;
    struct iovec iov = {e->buf, n};
    op_started(&e->wr_pending, K_IO);
    if (sl_socket_async_write(e->sock, &iov, 1, echo_wrote, e) != 0)
        error("echo write did not start");
}

static void echo_read(echo *e)
{
    struct iovec iov = {e->buf, sizeof e->buf};
    op_started(&e->rd_pending, K_IO);
    if (sl_socket_async_read(e->sock, &iov, 1, echo_got, e) != 0)
        error("echo read did not start");
}

static void echo_start(sl_socket *sock, bool tcp)
{
    echo *e = calloc(1, sizeof *e);
    if (!e) {
        error("out of memory");
        sl_socket_close(sock);
        return;
    }
    e->sock = sock;
    e->tcp = tcp;
    atomic_fetch_add(&g.live_echoes, 1);
    echo_read(e);
}

/* ---- the TCP listener -------------------------------------------------------- */

static struct {
    sl_socket *sock;
    struct sockaddr_in addr;
    pthread_mutex_t mutex; /* orders re-arming against the final close */
    bool closing;
    atomic_int pending;
} acceptor = {.mutex = PTHREAD_MUTEX_INITIALIZER};

static void accepted(sl_socket *l, int status, sl_socket *sock, void *arg);

/* Listener mutex held. */
static void accept_next(void)
{
    op_started(&acceptor.pending, K_ACCEPT);
    int r = sl_socket_async_accept(acceptor.sock, accepted, NULL);
    if (r != 0) {
        error("accept did not start: %d", r);
        op_completed(&acceptor.pending, K_ACCEPT);
    }
}

static void accepted(sl_socket *l, int status, sl_socket *sock, void *arg)
{
    (void)l;
    (void)arg;
    op_completed(&acceptor.pending, K_ACCEPT);
    if (status == 0)
        echo_start(sock, true);
    else if (status != SL_ECANCELED)
        error("accept: status %d", status);
    pthread_mutex_lock(&acceptor.mutex);
    if (!acceptor.closing)
        accept_next();
    pthread_mutex_unlock(&acceptor.mutex);
}

static void acceptor_close(void)
{
    pthread_mutex_lock(&acceptor.mutex);
    acceptor.closing = true;
    sl_socket_close(acceptor.sock); /* a parked accept completes cancelled */
    pthread_mutex_unlock(&acceptor.mutex);
}

/* ---- ping-pong clients ------------------------------------------------------ */

/* Writes a message, reads the echo, checks it; after 1..200 rounds closes
 * and connects again (a new socketpair, or a new TCP connection), until
 * there are no credits left.  One op at a time. */
typedef struct client {
    bool tcp;
    sl_socket *sock;
    size_t size, off;
    long rounds_left;
    uint64_t seq;
    atomic_int rd_pending, wr_pending, conn_pending;
    char out[MSG_MAX], in[MSG_MAX];
} client;

static void client_connect(client *c);
static void client_read(client *c);

static void client_end(client *c)
{
    if (c->tcp && atomic_fetch_sub(&g.active_tcp_clients, 1) == 1)
        acceptor_close();
}

static void client_close(client *c)
{
    if (c->tcp) {
        struct linger lg = {1, 0};
        sl_socket_set_option(c->sock, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    sl_socket_close(c->sock);
    c->sock = NULL;
}

static void client_wrote(sl_socket *sock, int status, size_t n, void *arg);

static void client_write(client *c)
{
    struct iovec iov = {c->out + c->off, c->size - c->off};
    op_started(&c->wr_pending, K_IO);
    if (sl_socket_async_write(c->sock, &iov, 1, client_wrote, c) != 0)
        error("client write did not start");
}

static void client_round(client *c)
{
    ++c->seq;
    for (size_t i = 0; i < c->size; ++i)
        c->out[i] = (char)(c->seq * 131 + i * 7);
    c->off = 0;
    client_write(c);
}

static void client_wrote(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    client *c = arg;
    op_completed(&c->wr_pending, K_IO);
    if (status != 0) {
        error("client write: status %d", status);
        client_close(c);
        client_end(c);
        return;
    }
    c->off += n;
    if (c->off < c->size) {
        client_write(c);
        return;
    }
    c->off = 0;
    client_read(c);
}

static void client_got(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    client *c = arg;
    op_completed(&c->rd_pending, K_IO);
    if (status != 0) {
        error("client read: status %d", status);
        client_close(c);
        client_end(c);
        return;
    }
    c->off += n;
    if (c->off < c->size) {
        client_read(c);
        return;
    }
    if (memcmp(c->in, c->out, c->size) != 0)
        error("echo differs from the message (%zu bytes)", c->size);
    if (--c->rounds_left > 0) {
        client_round(c);
        return;
    }
    client_close(c);
    client_connect(c);
}

static void client_read(client *c)
{
    struct iovec iov = {c->in + c->off, c->size - c->off};
    op_started(&c->rd_pending, K_IO);
    if (sl_socket_async_read(c->sock, &iov, 1, client_got, c) != 0)
        error("client read did not start");
}

static void client_connected(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    (void)n;
    client *c = arg;
    op_completed(&c->conn_pending, K_CONNECT);
    if (status != 0) {
        error("connect: status %d", status);
        client_close(c);
        client_end(c);
        return;
    }
    int one = 1;
    sl_socket_set_option(c->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    client_round(c);
}

static void client_connect(client *c)
{
    long rounds = 1 + (long)(rnd() % 200);
    if (claim(P_IO, rounds * 4) == 0) {
        client_end(c);
        return;
    }
    atomic_fetch_add_explicit(&g.connections, 1, memory_order_relaxed);
    c->rounds_left = rounds;
    static const size_t sizes[] = {1, 16, 64, 512, 1500, 4096};
    c->size = sizes[rnd() % (sizeof sizes / sizeof sizes[0])];
    if (!c->tcp) {
        sl_socket *pair[2];
        int r = sl_socket_pair(g.s, pair);
        if (r != 0) {
            error("socketpair: %d", r);
            client_end(c);
            return;
        }
        c->sock = pair[0];
        echo_start(pair[1], false);
        client_round(c);
        return;
    }
    int r = sl_socket_open(g.s, AF_INET, SOCK_STREAM, 0, &c->sock);
    if (r != 0) {
        error("socket: %d", r);
        client_end(c);
        return;
    }
    op_started(&c->conn_pending, K_CONNECT);
    r = sl_socket_async_connect(c->sock, (struct sockaddr *)&acceptor.addr,
                                sizeof acceptor.addr, client_connected, c);
    if (r != 0) {
        error("connect did not start: %d", r);
        op_completed(&c->conn_pending, K_CONNECT);
        client_close(c);
        client_end(c);
    }
}

/* ---- runner threads and the watchdog ------------------------------------------ */

typedef struct runner {
    pthread_t tid;
    int slot;
    size_t handlers;
    atomic_bool returned;
} runner;

/* Runner 1 (with two or more) loops on sl_wait_one with deadlines of
 * 0..2 ms and checks each call that ran no handler: a 0 before the
 * deadline (unless the scheduler stopped) or one more than 250 ms after it
 * (room for a descheduled thread on a loaded machine) is an error. */
#define WAIT_ONE_SLACK_NS 250000000ull
static size_t run_by_wait_one(void)
{
    size_t handlers = 0;
    for (;;) {
        long usec = (long)(rnd() % 2000);
        uint64_t start = now_ns();
        size_t n = sl_wait_one(g.s, usec);
        uint64_t took = now_ns() - start;
        handlers += n;
        if (n > 0)
            continue; /* time spent in handlers is the handlers' */
        if (sl_stopped(g.s))
            break;
        if (took < (uint64_t)usec * 1000)
            error("wait_one(%ld us) returned 0 after %llu us", usec,
                  (unsigned long long)(took / 1000));
        if (took > (uint64_t)usec * 1000 + WAIT_ONE_SLACK_NS)
            error("wait_one(%ld us) returned 0 after %llu us", usec,
                  (unsigned long long)(took / 1000));
    }
    return handlers;
}

static void *runner_main(void *arg)
{
    runner *r = arg;
    my_slot = r->slot;
    rng_state = 0x2545f4914f6cdd1dull * (uint64_t)(r->slot + 1);
    r->handlers = r->slot == 2 ? run_by_wait_one() : sl_run(g.s);
    atomic_store(&r->returned, true);
    return NULL;
}

static runner *runners;
static int nrunners;

static void *watchdog_main(void *arg)
{
    (void)arg;
    long last = -1;
    uint64_t last_change = now_ns();
    for (unsigned tick = 1; !atomic_load(&g.finished); ++tick) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        if (tick % 10 != 0)
            continue;
        long n = total_completed();
        if (n != last) {
            last = n;
            last_change = now_ns();
            continue;
        }
        if ((now_ns() - last_change) / 1000000000u < (uint64_t)g.watchdog_s ||
            atomic_load(&g.finished))
            continue;
        fprintf(stderr, "\nstress: no operation completed for %d s (phase: %s)\n",
                g.watchdog_s, atomic_load(&g.phase));
        for (int k = 0; k < K_COUNT; ++k)
            fprintf(stderr, "stress:   %-10s started %ld completed %ld\n", kind_names[k],
                    sum_counter(false, k), sum_counter(true, k));
        int back = 0;
        for (int i = 0; i < nrunners; ++i)
            back += atomic_load(&runners[i].returned);
        fprintf(stderr,
                "stress:   %d of %d runner threads returned from sl_run; "
                "live echo servers %ld; thread stacks:\n",
                back, nrunners, atomic_load(&g.live_echoes));
        char cmd[200];
        snprintf(
            cmd, sizeof cmd,
            "command -v gdb >/dev/null && gdb -p %d -batch -ex 'thread apply all bt 20' "
            "2>/dev/null | grep -E '^(Thread|#)' >&2",
            (int)getpid());
        int rc = system(cmd);
        (void)rc;
        fprintf(stderr, "stress: FAILED (hung)\n");
        _exit(3);
    }
    return NULL;
}

/* ---- main -------------------------------------------------------------------- */

/* The value of option -c: a number in [lo, hi], else one line and exit 2
 * ("-d abc" once ran the count mode, atof having read 0). */
static double number_arg(int c, const char *arg, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end != '\0' || errno != 0 || !(v >= lo && v <= hi)) {
        fprintf(stderr, "stress: -%c wants a number from %g to %g (got '%s')\n", c, lo, hi,
                arg);
        exit(2);
    }
    return v;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-t threads] [-n ops | -d seconds] [-p posters] [-w "
            "watchdog-seconds]\n"
            "  -t  threads running sl_run (default 2 x nproc, at least 4)\n"
            "  -n  operations in all (default 10000000)\n"
            "  -d  run for this many seconds instead of a count\n"
            "  -p  external poster threads (default threads / 2, at least 2)\n"
            "  -w  seconds without progress before the watchdog fails the run (30)\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    if (strcmp(sl_variant_name(), "single-threaded") == 0) {
        /* Its threads run the scheduler and post across threads: what the
         * single-threaded variant promises never to see. */
        printf("stress: build single-threaded: skipped: the stress runs the scheduler on "
               "several threads\n");
        return 0;
    }
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = nproc > 2 ? (int)(2 * nproc) : 4;
    int nposters = -1;
    long ops = 10000000;
    double duration = 0;
    g.watchdog_s = 30;
    int opt;
    while ((opt = getopt(argc, argv, "t:n:d:p:w:h")) != -1) {
        switch (opt) {
        case 't':
            threads = (int)number_arg('t', optarg, 1, MAX_THREADS);
            break;
        case 'n':
            ops = (long)number_arg('n', optarg, 1, 1e15);
            break;
        case 'd':
            duration = number_arg('d', optarg, 1e-3, 1e9);
            break;
        case 'p':
            nposters = (int)number_arg('p', optarg, 0, MAX_THREADS);
            break;
        case 'w':
            g.watchdog_s = (int)number_arg('w', optarg, 1, 1e6);
            break;
        default:
            usage(argv[0]);
        }
    }
    if (threads < 1 || threads > MAX_THREADS || ops < 1 || duration < 0 ||
        g.watchdog_s < 1)
        usage(argv[0]);
    if (nposters < 0)
        nposters = threads / 2 > 2 ? threads / 2 : 2;
    if (nposters > MAX_THREADS)
        usage(argv[0]);
    g.by_duration = duration > 0;

    for (int p = 0; p < P_COUNT; ++p)
        atomic_store(&g.budget[p],
                     ops / 100 * part_percent[p] + (p == 0 ? ops % 100 : 0));
    atomic_store(&g.phase, "setup");
    signal(SIGPIPE, SIG_IGN);
    my_slot = 0;
    rng_state = 88172645463325252ull;

    int fds_before = count_fds();
    if (sl_scheduler_create(&g.s) != 0) {
        fprintf(stderr, "stress: sl_scheduler_create failed\n");
        return 1;
    }

    enum { CHAINS_PER_THREAD = 8, TIMER_CHAINS = 32, PAIR_CLIENTS = 8, TCP_CLIENTS = 4 };
    int nchains = CHAINS_PER_THREAD * threads;
    chain *chains = calloc((size_t)nchains, sizeof *chains);
    tchain *tchains = calloc(TIMER_CHAINS, sizeof *tchains);
    client *clients = calloc(PAIR_CLIENTS + TCP_CLIENTS, sizeof *clients);
    poster *posters = calloc((size_t)nposters, sizeof *posters);
    runners = calloc((size_t)threads, sizeof *runners);
    nrunners = threads;
    if (!chains || !tchains || !clients || !posters || !runners) {
        fprintf(stderr, "stress: out of memory\n");
        return 1;
    }

    /* The listener, on 127.0.0.1 with a port the kernel picks. */
    int r = sl_socket_open(g.s, AF_INET, SOCK_STREAM, 0, &acceptor.sock);
    acceptor.addr.sin_family = AF_INET;
    acceptor.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_storage bound;
    socklen_t blen;
    if (r != 0 ||
        sl_socket_bind(acceptor.sock, (struct sockaddr *)&acceptor.addr,
                       sizeof acceptor.addr) ||
        sl_socket_listen(acceptor.sock, 128) ||
        sl_socket_local_address(acceptor.sock, &bound, &blen)) {
        fprintf(stderr, "stress: cannot listen on 127.0.0.1\n");
        return 1;
    }
    memcpy(&acceptor.addr, &bound, sizeof acceptor.addr);

    pthread_t wd;
    pthread_create(&wd, NULL, watchdog_main, NULL);

    /* Work before any thread runs, so run cannot find the count at zero. */
    for (int i = 0; i < nchains; ++i) {
        sl_op_init(&chains[i].op, chain_run, NULL);
        sl_op_init(&chains[i].child, child_run, NULL);
        op_started(&chains[i].pending, K_POST_SAME);
        sl_post(g.s, &chains[i].op);
    }
    for (int i = 0; i < TIMER_CHAINS; ++i) {
        sl_timer_init(&tchains[i].timer, g.s);
        sl_timer_wait_init(&tchains[i].w, tchain_fired, NULL);
        sl_op_init(&tchains[i].cancel, tchain_cancel_run, NULL);
        tchain_step(&tchains[i]);
    }
    enum { CANCEL_PROBES = 4 };
    cprobe probes[CANCEL_PROBES];
    memset(probes, 0, sizeof probes);
    for (int i = 0; i < CANCEL_PROBES; ++i) {
        if (sl_socket_pair(g.s, probes[i].p) != 0) {
            fprintf(stderr, "stress: cannot make a socketpair\n");
            return 1;
        }
        cprobe_step(&probes[i]);
    }
    atomic_store(&g.active_tcp_clients, TCP_CLIENTS);
    pthread_mutex_lock(&acceptor.mutex);
    accept_next();
    pthread_mutex_unlock(&acceptor.mutex);
    for (int i = 0; i < PAIR_CLIENTS + TCP_CLIENTS; ++i) {
        clients[i].tcp = i >= PAIR_CLIENTS;
        client_connect(&clients[i]);
    }

    /* A unit of work per poster, released by the poster when it is done,
     * taken before any thread runs: posters start after the runners. */
    for (int i = 0; i < nposters; ++i)
        sl_work_started(g.s);
    uint64_t t0 = now_ns();
    atomic_store(&g.phase, "running");
    for (int i = 0; i < threads; ++i) {
        runners[i].slot = 1 + i;
        if (pthread_create(&runners[i].tid, NULL, runner_main, &runners[i]) != 0) {
            fprintf(stderr, "stress: cannot start thread %d\n", i);
            return 1;
        }
    }
    for (int i = 0; i < nposters; ++i) {
        posters[i].slot = 1 + MAX_THREADS + i;
        for (int k = 0; k < POSTER_OPS; ++k) {
            sl_op_init(&posters[i].ops[k].op, poster_op_run, NULL);
            posters[i].ops[k].owner = &posters[i];
        }
        if (pthread_create(&posters[i].tid, NULL, poster_main, &posters[i]) != 0) {
            fprintf(stderr, "stress: cannot start poster %d\n", i);
            return 1;
        }
    }

    if (g.by_duration) {
        while ((double)(now_ns() - t0) / 1e9 < duration) {
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
        }
        atomic_store(&g.stopping, true);
        atomic_store(&g.phase, "winding down after the duration");
    }

    size_t handlers = 0;
    for (int i = 0; i < threads; ++i) {
        pthread_join(runners[i].tid, NULL);
        handlers += runners[i].handlers;
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    atomic_store(&g.runners_returned, true);
    atomic_store(&g.phase, "joining posters");
    for (int i = 0; i < nposters; ++i)
        pthread_join(posters[i].tid, NULL);
    atomic_store(&g.phase, "checking");

    /* Exactly once: every flag clear, every start matched by a run. */
    long lost = 0, total = 0;
    for (int i = 0; i < nchains; ++i)
        lost += atomic_load(&chains[i].pending) + atomic_load(&chains[i].child_pending);
    for (int i = 0; i < TIMER_CHAINS; ++i)
        lost +=
            atomic_load(&tchains[i].w_pending) + atomic_load(&tchains[i].cancel_pending);
    for (int i = 0; i < PAIR_CLIENTS + TCP_CLIENTS; ++i)
        lost += atomic_load(&clients[i].rd_pending) +
                atomic_load(&clients[i].wr_pending) +
                atomic_load(&clients[i].conn_pending);
    for (int i = 0; i < nposters; ++i)
        for (int k = 0; k < POSTER_OPS; ++k)
            lost += atomic_load(&posters[i].ops[k].pending);
    lost += atomic_load(&acceptor.pending);
    lost += atomic_load(&g.live_echoes); /* each holds a pending read */
    bool counts_match = true;
    char detail[512];
    size_t dl = 0;
    for (int k = 0; k < K_COUNT; ++k) {
        long st = sum_counter(false, k), co = sum_counter(true, k);
        total += co;
        if (st != co)
            counts_match = false;
        dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "%s%s %ld", k ? ", " : "",
                               kind_names[k], co);
        if (st != co && dl < sizeof detail)
            dl += (size_t)snprintf(detail + dl, sizeof detail - dl, " (started %ld)", st);
        if (dl >= sizeof detail)
            dl = sizeof detail - 1;
    }

    for (int i = 0; i < TIMER_CHAINS; ++i)
        sl_timer_destroy(&tchains[i].timer);
    sl_scheduler_destroy(g.s);
    int fds_after = count_fds();
    atomic_store(&g.finished, true);
    pthread_join(wd, NULL);

    bool ok = true;
    printf("stress: %s\n", detail);
    printf("stress: timers fired %ld, cancelled %ld; connections %ld; handlers run %zu\n",
           atomic_load(&g.timers_fired), atomic_load(&g.timers_cancelled),
           atomic_load(&g.connections), handlers);
    if (lost || !counts_match) {
        printf("stress: FAILED: %ld ops never completed (starts and runs %s)\n", lost,
               counts_match ? "match" : "differ");
        ok = false;
    }
    if (atomic_load(&g.double_completions) || atomic_load(&g.start_while_pending)) {
        printf("stress: FAILED: %ld ops completed twice, %ld started while pending\n",
               atomic_load(&g.double_completions), atomic_load(&g.start_while_pending));
        ok = false;
    }
    if (atomic_load(&g.errors)) {
        printf("stress: FAILED: %ld errors, the first: %s\n", atomic_load(&g.errors),
               g.first_error);
        ok = false;
    }
    if (fds_after != fds_before) {
        printf("stress: FAILED: %d descriptors open before, %d after\n", fds_before,
               fds_after);
        ok = false;
    }
#if defined(__SANITIZE_THREAD__)
    const char *build_kind = "tsan";
#elif defined(__SANITIZE_ADDRESS__)
    const char *build_kind = "asan";
#else
    const char *build_kind = sl_stats_enabled() ? "stats" : "timed";
#endif
    printf("stress: build %s (%s): ops %ld threads %d posters %d seconds %.2f ops/s %.0f "
           "%s\n",
           sl_variant_name(), build_kind, total, threads, nposters, secs,
           (double)total / secs, ok ? "OK" : "FAILED");
    free(chains);
    free(tchains);
    free(clients);
    free(posters);
    free(runners);
    return ok ? 0 : 1;
}

#endif /* SL_STRESS_PROGRAM */
