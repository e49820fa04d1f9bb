/*
 * libevent.c: the schedlab workloads written for libevent (2.1,
 * libevent-dev). Idiom: one event_base run by event_base_loop, plain
 * `struct event`s made with event_new and armed with event_add, whose
 * callbacks read() and write() the non-blocking sockets themselves. No
 * bufferevent: in 2.1 it stops each read at 4096 bytes, which would say more
 * about bufferevent than about the loop.
 *
 * "Post" is event_active() on an event that waits on nothing (fd -1): the
 * event goes straight onto the base's active queue and its callback runs on
 * the next pass, which is how libevent users queue a callback. One event can
 * be active once at a time, so a batch of 1000 posts uses 1000 events,
 * created once.
 *
 * Skipped, because libevent has no such operation:
 *   post_threads, post_concurrent: one event_base is dispatched by one
 *       thread at a time.
 * Asking for one prints why and exits with status 2.
 *
 * pingpong_concurrent, fanout: 16 connections on one base, with the
 *   ping-pong's conn code; fanout's cycle ends with the last echo.
 * accept_churn: a listener's persistent EV_READ event, a non-blocking
 *   connect whose completion is a one-shot EV_WRITE, 1 byte, both closed.
 *
 * throughput_twoway: throughput_oneway's events in both directions.
 * timer_concurrent: 1000 evtimers re-added from their callbacks with the
 *   relative timeval to their next absolute expiry (libevent takes relative
 *   times; its timer heap keeps microseconds).
 * starvation: the storm is 16 fd-less events each event_active()ing itself
 *   (the "post" above); with the default max_dispatch_callbacks the base
 *   runs its active queue to empty before it polls again, so the storm
 *   holds the timer and the ping-pong off until it ends.  libevent's remedy
 *   (event_base_config_set_max_dispatch_interval) is opt-in and not used.
 *   libevent's own bench/ programs (bench.c, bench_cascade.c) measure
 *   socketpair chains of EV_READ events, not these workloads.
 *
 * post_cross_thread: evthread_use_pthreads(), then the producer thread calls
 * event_active() itself; libevent locks the base and wakes the loop through
 * its notify fd. Each post in flight needs its own event, so a pool of 65536
 * events is cycled, and the producer waits (yields) while 65536 posts are
 * pending, the same limit as in the other libraries.
 *
 * Notes on behaviour that gets measured as it is:
 *   post_chain: an event re-activated from its own callback joins the active
 *       queue being drained, so the chains run without another epoll_wait
 *       (max_dispatch_callbacks is unlimited by default).
 *   throughput_oneway: the writer's EV_WRITE callback makes one write() of
 *       what is left of the current chunk; a finished chunk is followed by
 *       the next at the next writable callback ("write one chunk, then when
 *       done write the next"). The reader makes one read() into 64 KiB per
 *       EV_READ callback.
 *   ping-pong: a reply is written straight from the read callback; EV_WRITE
 *       is armed only if the socket would block.
 *
 * Sockets are created with plain syscalls (127.0.0.1, kernel-chosen port,
 * TCP_NODELAY; socketpair for Unix).
 */
#define _GNU_SOURCE
#include "histogram.h"
#include "cli.h"
#include "sockets.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define IMPL "libevent"
#define READ_BUF_SIZE PEER_READ_BUF_SIZE

static struct event_base *g_base;

static void die_msg(const char *what)
{
    fprintf(stderr, "bench-libevent: %s failed\n", what);
    exit(1);
}

static void new_base(void)
{
    g_base = event_base_new();
    if (!g_base)
        die_msg("event_base_new");
}

static struct event *must_event(evutil_socket_t fd, short what, event_callback_fn cb,
                                void *arg)
{
    struct event *ev = event_new(g_base, fd, what, cb, arg);
    if (!ev)
        die_msg("event_new");
    return ev;
}

static void must_add(struct event *ev, const struct timeval *tv)
{
    if (event_add(ev, tv) < 0)
        die_msg("event_add");
}

/* ---------------------------------------------------------------------------
 * post_single / post_interleaved (arg: the batch): activate a batch of events
 * from outside the loop, then one non-blocking loop pass runs them.
 */
static uint64_t g_count;

static void post_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    g_count++;
}

static int w_post_batches(const peer_workload *w, long param)
{
    (void)param;
    int batch = (int)w->arg;
    new_base();
    struct event *evs[1000];
    for (int i = 0; i < batch; i++)
        evs[i] = must_event(-1, 0, post_cb, NULL);
    g_count = 0;
    uint64_t posted = 0;

    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    uint64_t now;
    do {
        for (int i = 0; i < batch; i++)
            event_active(evs[i], EV_READ, 0);
        posted += (uint64_t)batch;
        event_base_loop(g_base, EVLOOP_NONBLOCK);
        now = peer_now_ns();
    } while (now < deadline);

    for (int i = 0; i < batch; i++)
        event_free(evs[i]);
    event_base_free(g_base);
    if (g_count != posted) {
        fprintf(stderr, "bench-libevent: ran %llu of %llu posts\n",
                (unsigned long long)g_count, (unsigned long long)posted);
        exit(1);
    }
    peer_print_rate(w->name, IMPL, 0, g_count, start, now);
    return 0;
}

/* post_chain: K events, each re-activating itself from its callback. */
static uint64_t g_chain_deadline;
static bool g_chain_stopping;

static void chain_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    if ((++g_count & 1023u) == 0 && peer_now_ns() >= g_chain_deadline)
        g_chain_stopping = true;
    if (!g_chain_stopping)
        event_active((struct event *)arg, EV_READ, 0);
}

static int w_post_chain(const peer_workload *w, long chains)
{
    new_base();
    struct event **evs = calloc((size_t)chains, sizeof *evs);
    if (!evs)
        peer_die("calloc");
    for (long i = 0; i < chains; i++)
        evs[i] = must_event(-1, 0, chain_cb, event_self_cbarg());
    g_count = 0;
    g_chain_stopping = false;

    uint64_t start = peer_now_ns();
    g_chain_deadline = start + peer_duration_ns;
    for (long i = 0; i < chains; i++)
        event_active(evs[i], EV_READ, 0);
    event_base_dispatch(g_base);
    uint64_t end = peer_now_ns();

    for (long i = 0; i < chains; i++)
        event_free(evs[i]);
    free(evs);
    event_base_free(g_base);
    peer_print_rate(w->name, IMPL, chains, g_count, start, end);
    return 0;
}

/* ---------------------------------------------------------------------------
 * post_cross_thread: the producer thread event_active()s pooled events.
 */
#define XT_CAP 65536u

static struct {
    struct event *pool[XT_CAP];
    struct event *stop;
    atomic_uint_fast64_t executed;
    uint64_t deadline;
    uint64_t end;
} g_xt;

static void xt_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    /* Only the loop thread writes it: a plain load + store, no RMW. */
    atomic_store_explicit(&g_xt.executed,
                          atomic_load_explicit(&g_xt.executed, memory_order_relaxed) + 1,
                          memory_order_release);
}

static void xt_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    g_xt.end = peer_now_ns();
    event_base_loopbreak(g_base);
}

static void *xt_producer(void *unused)
{
    (void)unused;
    for (uint64_t posted = 0;; posted++) {
        if ((posted & 63u) == 63u && peer_now_ns() >= g_xt.deadline)
            break;
        /* The event for this slot must have run before it is reused. */
        while (posted - atomic_load_explicit(&g_xt.executed, memory_order_acquire) >=
               XT_CAP)
            sched_yield();
        event_active(g_xt.pool[posted % XT_CAP], EV_READ, 0);
    }
    event_active(g_xt.stop, EV_READ, 0);
    return NULL;
}

static int w_post_cross_thread(const peer_workload *w, long param)
{
    (void)param;
    if (evthread_use_pthreads() < 0)
        die_msg("evthread_use_pthreads");
    new_base();
    for (unsigned i = 0; i < XT_CAP; i++)
        g_xt.pool[i] = must_event(-1, 0, xt_cb, NULL);
    g_xt.stop = must_event(-1, 0, xt_stop_cb, NULL);
    atomic_store(&g_xt.executed, 0);

    uint64_t start = peer_now_ns();
    g_xt.deadline = start + peer_duration_ns;
    pthread_t producer;
    if ((errno = pthread_create(&producer, NULL, xt_producer, NULL)))
        peer_die("pthread_create");
    event_base_loop(g_base, EVLOOP_NO_EXIT_ON_EMPTY);
    pthread_join(producer, NULL);

    for (unsigned i = 0; i < XT_CAP; i++)
        event_free(g_xt.pool[i]);
    event_free(g_xt.stop);
    event_base_free(g_base);
    peer_print_rate(w->name, IMPL, 0, atomic_load(&g_xt.executed), start, g_xt.end);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Sockets.
 */
static void make_pair(int fds[2], bool tcp)
{
    if (tcp)
        peer_tcp_pair(fds, true);
    else
        peer_unix_pair(fds);
    if (evutil_make_socket_nonblocking(fds[0]) < 0 ||
        evutil_make_socket_nonblocking(fds[1]) < 0)
        die_msg("evutil_make_socket_nonblocking");
}

/* ---------------------------------------------------------------------------
 * Ping-pong, one loop: the client writes n bytes and reads n back; the
 * server reads n bytes and writes them back.
 */
typedef struct conn {
    int fd;
    struct event *rev;
    struct event *wev;
    bool wev_armed;
    const char *wdata;
    size_t wlen, woff;
    size_t got;
    char buf[READ_BUF_SIZE];
} conn;

static struct {
    conn client, server;
    char out[READ_BUF_SIZE];
    size_t n;
    uint64_t t0, deadline;
    peer_hist hist;
    void (*on_done)(void); /* at the deadline: NULL ends the loop */
} g_pp;

/* Write what is left; arm EV_WRITE only if the socket is full. */
static void conn_flush(conn *c)
{
    while (c->woff < c->wlen) {
        ssize_t w = send(c->fd, c->wdata + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                peer_die("write");
            if (!c->wev_armed) {
                must_add(c->wev, NULL);
                c->wev_armed = true;
            }
            return;
        }
        c->woff += (size_t)w;
    }
    if (c->wev_armed) {
        event_del(c->wev);
        c->wev_armed = false;
    }
}

static void conn_send(conn *c, const char *data, size_t len)
{
    c->wdata = data;
    c->wlen = len;
    c->woff = 0;
    conn_flush(c);
}

static void pp_write_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_flush(arg);
}

/* Read towards n bytes; true once they are all in. */
static bool pp_read(conn *c)
{
    ssize_t r = read(c->fd, c->buf + c->got, g_pp.n - c->got);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return false;
    if (r <= 0)
        peer_die("read");
    c->got += (size_t)r;
    if (c->got < g_pp.n)
        return false;
    c->got = 0;
    return true;
}

static void pp_client_send(void)
{
    g_pp.t0 = peer_now_ns();
    conn_send(&g_pp.client, g_pp.out, g_pp.n);
}

static void pp_client_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (!pp_read(&g_pp.client))
        return;
    uint64_t t1 = peer_now_ns();
    peer_hist_record(&g_pp.hist, t1 - g_pp.t0);
    if (t1 >= g_pp.deadline) {
        if (g_pp.on_done)
            g_pp.on_done();
        else
            event_base_loopbreak(g_base);
        return;
    }
    pp_client_send();
}

static void pp_server_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (pp_read(&g_pp.server))
        conn_send(&g_pp.server, g_pp.server.buf, g_pp.n);
}

static void conn_open(conn *c, int fd, event_callback_fn read_cb)
{
    c->fd = fd;
    c->rev = must_event(fd, EV_READ | EV_PERSIST, read_cb, c);
    c->wev = must_event(fd, EV_WRITE | EV_PERSIST, pp_write_cb, c);
    c->wev_armed = false;
    c->got = 0;
    must_add(c->rev, NULL);
}

static void conn_close(conn *c)
{
    event_free(c->rev);
    event_free(c->wev);
    close(c->fd);
}

/* pingpong_tcp / pingpong_unix (arg: 1 for TCP). */
static int w_pingpong(const peer_workload *w, long bytes)
{
    bool tcp = w->arg != 0;
    int fds[2];
    make_pair(fds, tcp);
    new_base();
    g_pp.n = (size_t)bytes;
    memset(g_pp.out, 'P', sizeof g_pp.out);
    peer_hist_reset(&g_pp.hist);
    conn_open(&g_pp.client, fds[0], pp_client_read_cb);
    conn_open(&g_pp.server, fds[1], pp_server_read_cb);

    g_pp.deadline = peer_now_ns() + peer_duration_ns;
    pp_client_send();
    event_base_dispatch(g_base);

    conn_close(&g_pp.client);
    conn_close(&g_pp.server);
    event_base_free(g_base);
    peer_hist_print_rtt(&g_pp.hist, w->name, IMPL, bytes);
    return 0;
}

/* ---------------------------------------------------------------------------
 * throughput_oneway.
 */
static struct {
    int wfd, rfd;
    char *chunk;
    size_t n, off;
    uint64_t deadline, end, total;
    char rbuf[READ_BUF_SIZE];
} g_tp;

static void tp_write_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    ssize_t w = send(fd, g_tp.chunk + g_tp.off, g_tp.n - g_tp.off, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            peer_die("write");
        return;
    }
    g_tp.off += (size_t)w;
    if (g_tp.off == g_tp.n)
        g_tp.off = 0; /* chunk done; the next one on the next callback */
}

static void tp_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    ssize_t r = read(fd, g_tp.rbuf, sizeof g_tp.rbuf);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0)
        peer_die("read");
    g_tp.total += (uint64_t)r;
    uint64_t now = peer_now_ns();
    if (now >= g_tp.deadline) {
        g_tp.end = now;
        event_base_loopbreak(g_base);
    }
}

static int w_throughput_oneway(const peer_workload *w, long chunk)
{
    int fds[2];
    make_pair(fds, true);
    new_base();
    g_tp.wfd = fds[0];
    g_tp.rfd = fds[1];
    g_tp.n = (size_t)chunk;
    g_tp.off = 0;
    g_tp.total = 0;
    g_tp.chunk = malloc(g_tp.n);
    if (!g_tp.chunk)
        peer_die("malloc");
    memset(g_tp.chunk, 'x', g_tp.n);
    struct event *wev = must_event(g_tp.wfd, EV_WRITE | EV_PERSIST, tp_write_cb, NULL);
    struct event *rev = must_event(g_tp.rfd, EV_READ | EV_PERSIST, tp_read_cb, NULL);

    uint64_t start = peer_now_ns();
    g_tp.deadline = start + peer_duration_ns;
    must_add(wev, NULL);
    must_add(rev, NULL);
    event_base_dispatch(g_base);

    event_free(wev);
    event_free(rev);
    event_base_free(g_base);
    close(g_tp.wfd);
    close(g_tp.rfd);
    free(g_tp.chunk);
    peer_print_result(w->name, IMPL, chunk, "bytes_per_s", "B/s",
                      (double)g_tp.total / peer_seconds_since(start, g_tp.end), 0);
    return 0;
}

/* throughput_twoway: throughput_oneway's writer and reader in both
 * directions of one connection, one loop; bytes read both ways. */
typedef struct tw_dir {
    int wfd, rfd;
    size_t off;
    uint64_t total;
    struct event *wev, *rev;
} tw_dir;

static void tw_write_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    tw_dir *d = arg;
    ssize_t w = send(fd, g_tp.chunk + d->off, g_tp.n - d->off, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            peer_die("write");
        return;
    }
    d->off += (size_t)w;
    if (d->off == g_tp.n)
        d->off = 0;
}

static void tw_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    tw_dir *d = arg;
    ssize_t r = read(fd, g_tp.rbuf, sizeof g_tp.rbuf);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0)
        peer_die("read");
    d->total += (uint64_t)r;
    uint64_t now = peer_now_ns();
    if (now >= g_tp.deadline) {
        g_tp.end = now;
        event_base_loopbreak(g_base);
    }
}

static int w_throughput_twoway(const peer_workload *w, long chunk)
{
    int fds[2];
    make_pair(fds, true);
    new_base();
    g_tp.n = (size_t)chunk;
    g_tp.chunk = malloc(g_tp.n);
    if (!g_tp.chunk)
        peer_die("malloc");
    memset(g_tp.chunk, 'x', g_tp.n);
    tw_dir d[2] = {{fds[0], fds[1], 0, 0, NULL, NULL}, {fds[1], fds[0], 0, 0, NULL, NULL}};
    for (int i = 0; i < 2; i++) {
        d[i].wev = must_event(d[i].wfd, EV_WRITE | EV_PERSIST, tw_write_cb, &d[i]);
        d[i].rev = must_event(d[i].rfd, EV_READ | EV_PERSIST, tw_read_cb, &d[i]);
    }

    uint64_t start = peer_now_ns();
    g_tp.deadline = start + peer_duration_ns;
    for (int i = 0; i < 2; i++) {
        must_add(d[i].wev, NULL);
        must_add(d[i].rev, NULL);
    }
    event_base_dispatch(g_base);

    for (int i = 0; i < 2; i++) {
        event_free(d[i].wev);
        event_free(d[i].rev);
    }
    event_base_free(g_base);
    close(fds[0]);
    close(fds[1]);
    free(g_tp.chunk);
    peer_print_result(w->name, IMPL, chunk, "bytes_per_s", "B/s",
                      (double)(d[0].total + d[1].total) / peer_seconds_since(start, g_tp.end),
                      0);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Timers.
 */
static void timer_noop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* evtimer_add 1 s ahead, evtimer_del; a non-blocking loop pass every 1000. */
static int w_timer_schedule_cancel(const peer_workload *w, long param)
{
    (void)param;
    new_base();
    struct event *ev = must_event(-1, 0, timer_noop_cb, NULL);
    const struct timeval one_second = {1, 0};
    uint64_t count = 0;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    uint64_t now;
    do {
        for (int i = 0; i < 1000; i++) {
            evtimer_add(ev, &one_second);
            evtimer_del(ev);
        }
        count += 1000;
        event_base_loop(g_base, EVLOOP_NONBLOCK);
        now = peer_now_ns();
    } while (now < deadline);
    event_free(ev);
    event_base_free(g_base);
    peer_print_rate(w->name, IMPL, 0, count, start, now);
    return 0;
}

static uint64_t g_fire_deadline;
static const struct timeval g_zero_delay = {0, 0};

static void fire_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    if ((++g_count & 1023u) == 0 && peer_now_ns() >= g_fire_deadline)
        return;
    evtimer_add((struct event *)arg, &g_zero_delay);
}

static int w_timer_fire(const peer_workload *w, long param)
{
    (void)param;
    new_base();
    struct event *ev = must_event(-1, 0, fire_cb, event_self_cbarg());
    g_count = 0;
    uint64_t start = peer_now_ns();
    g_fire_deadline = start + peer_duration_ns;
    must_add(ev, &g_zero_delay);
    event_base_dispatch(g_base);
    uint64_t end = peer_now_ns();
    event_free(ev);
    event_base_free(g_base);
    peer_print_rate(w->name, IMPL, 0, g_count, start, end);
    return 0;
}

/* A relative timeval for an absolute peer_now_ns() expiry (0 if past). */
static struct timeval until(uint64_t expiry)
{
    uint64_t now = peer_now_ns();
    uint64_t d = expiry > now ? expiry - now : 0;
    struct timeval tv = {(time_t)(d / 1000000000u), (suseconds_t)(d % 1000000000u / 1000u)};
    return tv;
}

/* timer_concurrent: n evtimers, each periodic (10 ms, its own phase),
 * re-added from its callback for the next absolute expiry (libevent takes a
 * relative timeval). */
#define TC_PERIOD 10000000u

typedef struct periodic {
    struct event *ev;
    uint64_t expiry;
} periodic;

static peer_hist g_late;
static uint64_t g_deadline;

static void periodic_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    periodic *p = arg;
    uint64_t now = peer_now_ns();
    peer_hist_record(&g_late, now > p->expiry ? now - p->expiry : 0);
    g_count++;
    p->expiry += TC_PERIOD;
    if (p->expiry >= g_deadline)
        return;
    struct timeval tv = until(p->expiry);
    must_add(p->ev, &tv);
}

static void print_lateness(const char *name, long param)
{
    peer_print_result(name, IMPL, param, "lateness_p50", "us",
                      peer_hist_quantile_ns(&g_late, 0.50) / 1e3, 3);
    peer_print_result(name, IMPL, param, "lateness_p99", "us",
                      peer_hist_quantile_ns(&g_late, 0.99) / 1e3, 3);
    peer_print_result(name, IMPL, param, "lateness_max", "us",
                      (double)(g_late.count ? g_late.max_ns : 0) / 1e3, 3);
}

static int w_timer_concurrent(const peer_workload *w, long n)
{
    new_base();
    periodic *ps = calloc((size_t)n, sizeof *ps);
    if (!ps)
        peer_die("calloc");
    peer_hist_reset(&g_late);
    g_count = 0;
    uint64_t start = peer_now_ns();
    g_deadline = start + peer_duration_ns;
    for (long i = 0; i < n; i++) {
        ps[i].ev = must_event(-1, 0, periodic_cb, &ps[i]);
        ps[i].expiry = start + TC_PERIOD / 10 + (uint64_t)i * TC_PERIOD / (uint64_t)n;
        struct timeval tv = until(ps[i].expiry);
        must_add(ps[i].ev, &tv);
    }
    event_base_dispatch(g_base);
    uint64_t end = peer_now_ns();
    for (long i = 0; i < n; i++)
        event_free(ps[i].ev);
    free(ps);
    event_base_free(g_base);
    peer_print_rate(w->name, IMPL, n, g_count, start, end);
    print_lateness(w->name, n);
    return 0;
}

/* starvation: a storm of 16 active events, each re-activating itself from
 * its callback, a 1 ms periodic evtimer recording its lateness and a 64 B
 * Unix ping-pong, on one base, for -t seconds.  With the default
 * configuration (max_dispatch_callbacks unlimited) a base drains its active
 * queue, re-activated events included, before it polls again; libevent's
 * remedy, event_base_config_set_max_dispatch_interval(), is not used, as a
 * user's base does not use it unless asked. */
static struct {
    struct event *storm[16];
    struct event *timer;
    uint64_t end, expiry;
    bool over;
    int active;
} g_st;

static void st_part_done(void)
{
    if (--g_st.active == 0)
        event_base_loopbreak(g_base);
}

static void st_storm_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ++g_count;
    if (g_st.over)
        return;
    if ((g_count & 255u) == 0 && peer_now_ns() >= g_st.end) {
        g_st.over = true;
        st_part_done();
        return;
    }
    event_active((struct event *)arg, EV_READ, 0);
}

static void st_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    uint64_t now = peer_now_ns();
    peer_hist_record(&g_late, now > g_st.expiry ? now - g_st.expiry : 0);
    g_st.expiry += 1000000u;
    if (g_st.expiry > g_st.end) {
        st_part_done();
        return;
    }
    struct timeval tv = until(g_st.expiry);
    must_add(g_st.timer, &tv);
}

static int w_starvation(const peer_workload *w, long param)
{
    (void)param;
    int fds[2];
    make_pair(fds, false);
    new_base();
    peer_hist_reset(&g_late);
    g_count = 0;
    g_pp.n = 64;
    memset(g_pp.out, 'P', sizeof g_pp.out);
    peer_hist_reset(&g_pp.hist);
    g_pp.on_done = st_part_done;
    conn_open(&g_pp.client, fds[0], pp_client_read_cb);
    conn_open(&g_pp.server, fds[1], pp_server_read_cb);
    for (int i = 0; i < 16; i++)
        g_st.storm[i] = must_event(-1, 0, st_storm_cb, event_self_cbarg());
    g_st.timer = must_event(-1, 0, st_tick_cb, NULL);

    uint64_t start = peer_now_ns();
    g_st.end = g_pp.deadline = start + peer_duration_ns;
    g_st.expiry = start + 1000000u;
    g_st.active = 3;
    struct timeval tv = until(g_st.expiry);
    must_add(g_st.timer, &tv);
    pp_client_send();
    for (int i = 0; i < 16; i++)
        event_active(g_st.storm[i], EV_READ, 0);
    event_base_dispatch(g_base);
    uint64_t end = peer_now_ns();

    for (int i = 0; i < 16; i++)
        event_free(g_st.storm[i]);
    event_free(g_st.timer);
    conn_close(&g_pp.client);
    conn_close(&g_pp.server);
    event_base_free(g_base);
    peer_print_rate(w->name, IMPL, 0, g_count, start, end);
    print_lateness(w->name, 0);
    peer_hist_print_rtt(&g_pp.hist, w->name, IMPL, 0);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Several connections on one base: pingpong_concurrent (each client sends
 * again as soon as its echo is in) and fanout (every client sends at the
 * start of a cycle; the last echo in ends the cycle).  64 B messages; the
 * conn code of the ping-pong above (write at once, EV_WRITE only when the
 * socket is full).
 */
typedef struct mc_pair {
    conn client, server;
    uint64_t t0;
} mc_pair;

static struct {
    mc_pair *pairs;
    long n, left;
    bool fanout;
    uint64_t deadline, end, ops, cycle_start;
    peer_hist hist;
} g_mc;

#define MC_OF(c, member) ((mc_pair *)((char *)(c) - offsetof(mc_pair, member)))

static void mc_client_send(mc_pair *p)
{
    p->t0 = peer_now_ns();
    conn_send(&p->client, g_pp.out, g_pp.n);
}

static void mc_start_cycle(void)
{
    g_mc.cycle_start = peer_now_ns();
    g_mc.left = g_mc.n;
    for (long i = 0; i < g_mc.n; i++)
        mc_client_send(&g_mc.pairs[i]);
}

static void mc_server_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    if (pp_read(c))
        conn_send(c, c->buf, g_pp.n);
}

static void mc_client_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    if (!pp_read(c))
        return;
    mc_pair *p = MC_OF(c, client);
    uint64_t now = peer_now_ns();
    if (g_mc.fanout) {
        if (--g_mc.left > 0)
            return;
        peer_hist_record(&g_mc.hist, now - g_mc.cycle_start);
        g_mc.ops++;
        if (now >= g_mc.deadline) {
            g_mc.end = now;
            event_base_loopbreak(g_base);
            return;
        }
        mc_start_cycle();
        return;
    }
    peer_hist_record(&g_mc.hist, now - p->t0);
    g_mc.ops++;
    if (now >= g_mc.deadline) {
        event_del(c->rev);
        if (--g_mc.left == 0) {
            g_mc.end = now;
            event_base_loopbreak(g_base);
        }
        return;
    }
    mc_client_send(p);
}

/* pingpong_concurrent (arg 0) and fanout (arg 1): param connections. */
static int w_multi(const peer_workload *w, long n)
{
    new_base();
    g_mc.fanout = w->arg != 0;
    g_mc.n = n;
    g_mc.ops = 0;
    g_mc.pairs = calloc((size_t)n, sizeof *g_mc.pairs);
    if (!g_mc.pairs)
        peer_die("calloc");
    g_pp.n = 64;
    memset(g_pp.out, 'P', sizeof g_pp.out);
    peer_hist_reset(&g_mc.hist);
    for (long i = 0; i < n; i++) {
        int fds[2];
        make_pair(fds, true);
        conn_open(&g_mc.pairs[i].client, fds[0], mc_client_read_cb);
        conn_open(&g_mc.pairs[i].server, fds[1], mc_server_read_cb);
    }
    uint64_t start = peer_now_ns();
    g_mc.deadline = start + peer_duration_ns;
    if (g_mc.fanout) {
        mc_start_cycle();
    } else {
        g_mc.left = n;
        for (long i = 0; i < n; i++)
            mc_client_send(&g_mc.pairs[i]);
    }
    event_base_dispatch(g_base);
    for (long i = 0; i < n; i++) {
        conn_close(&g_mc.pairs[i].client);
        conn_close(&g_mc.pairs[i].server);
    }
    free(g_mc.pairs);
    event_base_free(g_base);
    peer_print_rate(w->name, IMPL, n, g_mc.ops, start, g_mc.end);
    if (g_mc.fanout) {
        peer_print_result(w->name, IMPL, n, "rtt_p50", "us",
                          peer_hist_quantile_ns(&g_mc.hist, 0.50) / 1e3, 3);
        peer_print_result(w->name, IMPL, n, "rtt_p99", "us",
                          peer_hist_quantile_ns(&g_mc.hist, 0.99) / 1e3, 3);
    } else {
        peer_hist_print_rtt(&g_mc.hist, w->name, IMPL, n);
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * accept_churn: a persistent EV_READ event on the non-blocking listener
 * accepts; per connection a non-blocking connect() (SO_LINGER 0, as the
 * kit) whose completion is a one-shot EV_WRITE event, 1 byte written by the
 * client and read in a one-shot EV_READ event on the accepted socket, both
 * closed; events made with event_new and freed per connection.
 */
static struct {
    int lfd, cfd, sfd;
    struct sockaddr_in addr;
    struct event *lev, *cev, *sev;
    int joined;
    uint64_t count, deadline, end;
} g_ac;

static void ac_cycle(void);

static void ac_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    char b;
    ssize_t r = read(fd, &b, 1);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        must_add(g_ac.sev, NULL);
        return;
    }
    if (r != 1)
        peer_die("accept_churn read");
    event_free(g_ac.cev);
    event_free(g_ac.sev);
    close(g_ac.cfd);
    close(g_ac.sfd);
    uint64_t now = peer_now_ns();
    if (++g_ac.count, now >= g_ac.deadline) {
        g_ac.end = now;
        event_base_loopbreak(g_base);
        return;
    }
    ac_cycle();
}

static void ac_join(void)
{
    if (++g_ac.joined < 2)
        return;
    if (send(g_ac.cfd, "X", 1, MSG_NOSIGNAL) != 1)
        peer_die("accept_churn write");
    g_ac.sev = must_event(g_ac.sfd, EV_READ, ac_read_cb, NULL);
    must_add(g_ac.sev, NULL);
}

static void ac_connected_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        errno = err ? err : errno;
        peer_die("accept_churn connect");
    }
    ac_join();
}

static void ac_accept_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        peer_die("accept");
    }
    g_ac.sfd = s;
    ac_join();
}

static void ac_cycle(void)
{
    g_ac.joined = 0;
    g_ac.cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g_ac.cfd < 0)
        peer_die("socket");
    struct linger lg = {1, 0};
    if (setsockopt(g_ac.cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
        peer_die("setsockopt(SO_LINGER)");
    g_ac.cev = must_event(g_ac.cfd, EV_WRITE, ac_connected_cb, NULL);
    if (connect(g_ac.cfd, (struct sockaddr *)&g_ac.addr, sizeof g_ac.addr) < 0 &&
        errno != EINPROGRESS)
        peer_die("connect");
    must_add(g_ac.cev, NULL);
}

static int w_accept_churn(const peer_workload *w, long param)
{
    (void)param;
    new_base();
    g_ac.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g_ac.lfd < 0)
        peer_die("socket");
    memset(&g_ac.addr, 0, sizeof g_ac.addr);
    g_ac.addr.sin_family = AF_INET;
    g_ac.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof g_ac.addr;
    if (bind(g_ac.lfd, (struct sockaddr *)&g_ac.addr, sizeof g_ac.addr) < 0 ||
        listen(g_ac.lfd, 128) < 0 ||
        getsockname(g_ac.lfd, (struct sockaddr *)&g_ac.addr, &len) < 0)
        peer_die("listener");
    g_ac.lev = must_event(g_ac.lfd, EV_READ | EV_PERSIST, ac_accept_cb, NULL);
    must_add(g_ac.lev, NULL);
    uint64_t start = peer_now_ns();
    g_ac.deadline = start + peer_duration_ns;
    ac_cycle();
    event_base_dispatch(g_base);
    event_free(g_ac.lev);
    close(g_ac.lfd);
    event_base_free(g_base);
    peer_print_rate(w->name, IMPL, 0, g_ac.count, start, g_ac.end);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Command line.
 */
static const peer_workload g_workloads[] = {
    {"post_single", w_post_batches, 1000, NULL},
    {"post_interleaved", w_post_batches, 100, NULL},
    {"post_chain", w_post_chain, 0, NULL},
    {"post_cross_thread", w_post_cross_thread, 0, NULL},
    {"post_threads", NULL, 0, "an event_base is dispatched by one thread at a time"},
    {"pingpong_tcp", w_pingpong, 1, NULL},
    {"pingpong_unix", w_pingpong, 0, NULL},
    {"throughput_oneway", w_throughput_oneway, 0, NULL},
    {"timer_schedule_cancel", w_timer_schedule_cancel, 0, NULL},
    {"timer_fire", w_timer_fire, 0, NULL},
    {"throughput_twoway", w_throughput_twoway, 0, NULL},
    {"timer_concurrent", w_timer_concurrent, 0, NULL},
    {"starvation", w_starvation, 0, NULL},
    {"post_concurrent", NULL, 0, "an event_base is dispatched by one thread at a time"},
    {"pingpong_concurrent", w_multi, 0, NULL},
    {"fanout", w_multi, 1, NULL},
    {"accept_churn", w_accept_churn, 0, NULL},
};

int main(int argc, char **argv)
{
    return peer_main(argc, argv, IMPL, g_workloads,
                     sizeof g_workloads / sizeof g_workloads[0]);
}
