/*
 * libuv.c: the schedlab workloads written for libuv (1.44, libuv1-dev).
 * Idiom: one uv_loop_t run by uv_run, handles with callbacks: uv_tcp_t and
 * uv_pipe_t streams driven by uv_read_start (one 64 KiB buffer handed out by
 * the alloc callback) and uv_write, uv_timer_t, and uv_async_t to wake the
 * loop from another thread.
 *
 * Skipped, because libuv has no such operation:
 *   post_single, post_interleaved, post_chain: libuv has no "post a callback
 *       to run on the loop" call; uv_idle / uv_check run one callback per
 *       handle per loop turn, which is not a queue of handlers.
 *   post_threads, post_concurrent: a uv_loop_t may be run by one thread
 *       only.
 * Asking for one of these prints why and exits with status 2.
 *
 * pingpong_concurrent, fanout: 16 uv_tcp_t pairs on one loop, 64 B
 *   messages; fanout's cycle ends with the last echo (libuv has no join:
 *   a counter).
 * accept_churn: uv_listen, uv_tcp_connect and uv_accept, 1 byte, uv_close
 *   of both handles; the next connection starts from the close callbacks.
 *
 * throughput_twoway: throughput_oneway's uv_write chain and uv_read_start
 *   on both ends of one connection.
 * timer_concurrent: 1000 uv_timer_t restarted from their callbacks; libuv
 *   takes a timeout in whole milliseconds from the loop's cached time, so
 *   the next absolute expiry is rounded up to the millisecond.
 * starvation: the storm is 16 uv_idle_t callbacks (libuv has no post; an
 *   idle handle is its "run me again" and what libuv's own benchmark list
 *   uses for loop-turn counting, benchmark-loop-count.c); see w_starvation.
 *   libuv's benchmark list (test/benchmark-list.h: ping-pongs, pound/pump,
 *   million timers, async) keeps its servers in other threads or processes;
 *   here both ends share one loop, as in every peer.
 *
 * post_cross_thread uses what libuv users write to hand work to a loop from
 * another thread: their own mutex-protected queue plus uv_async_send, whose
 * wake-ups coalesce; the async callback drains the whole queue. At most
 * 65536 posts wait in the queue (the producer yields beyond that), as in
 * the other libraries.
 *
 * Sockets are created with plain syscalls (127.0.0.1, kernel-chosen port,
 * TCP_NODELAY; socketpair for Unix) and handed to uv_tcp_open / uv_pipe_open;
 * only the timed part runs through libuv.
 *
 * Note on timer_fire: in libuv 1.44 a 0 ms timer re-armed from its own
 * callback is due again at once against the cached loop time, so
 * uv__run_timers runs it again in the same pass, without polling or
 * reading the clock. That is libuv's behaviour and is what gets measured.
 */
#define _GNU_SOURCE
#include "histogram.h"
#include "cli.h"
#include "sockets.h"

#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define IMPL "libuv"
#define READ_BUF_SIZE PEER_READ_BUF_SIZE

static uv_loop_t g_loop;

static void check(int r, const char *what)
{
    if (r < 0) {
        fprintf(stderr, "bench-libuv: %s: %s\n", what, uv_strerror(r));
        exit(1);
    }
}

/* Close every handle still open, let the close callbacks run, free the loop. */
static void close_walk_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void finish_loop(void)
{
    uv_walk(&g_loop, close_walk_cb, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    check(uv_loop_close(&g_loop), "uv_loop_close");
}

/* ---------------------------------------------------------------------------
 * post_cross_thread: producer thread -> user queue + uv_async_send.
 */
#define XT_CAP 65536u

typedef struct xt_item {
    void (*fn)(void *);
    void *arg;
} xt_item;

static struct {
    uv_mutex_t mu;
    uint64_t head; /* first slot not yet released by the loop */
    uint64_t tail; /* next slot the producer fills */
    uint64_t deadline;
    uint64_t end;
    uint64_t executed;
    uv_async_t async;
    xt_item ring[XT_CAP];
} g_xt;

static void xt_count(void *arg)
{
    (*(uint64_t *)arg)++;
}

static void xt_stop(void *arg)
{
    (void)arg;
    g_xt.end = peer_now_ns();
    uv_stop(&g_loop);
}

static void xt_push(xt_item item)
{
    uv_mutex_lock(&g_xt.mu);
    while (g_xt.tail - g_xt.head >= XT_CAP) {
        uv_mutex_unlock(&g_xt.mu);
        sched_yield();
        uv_mutex_lock(&g_xt.mu);
    }
    g_xt.ring[g_xt.tail % XT_CAP] = item;
    g_xt.tail++;
    uv_mutex_unlock(&g_xt.mu);
    uv_async_send(&g_xt.async);
}

static void xt_producer(void *unused)
{
    (void)unused;
    xt_item item = {xt_count, &g_xt.executed};
    for (uint64_t i = 0;; i++) {
        if ((i & 63u) == 63u && peer_now_ns() >= g_xt.deadline)
            break;
        xt_push(item);
    }
    xt_item stop = {xt_stop, NULL};
    xt_push(stop);
}

static void xt_async_cb(uv_async_t *handle)
{
    (void)handle;
    uv_mutex_lock(&g_xt.mu);
    uint64_t head = g_xt.head, tail = g_xt.tail;
    uv_mutex_unlock(&g_xt.mu);
    for (uint64_t i = head; i != tail; i++) {
        xt_item *it = &g_xt.ring[i % XT_CAP];
        it->fn(it->arg);
    }
    uv_mutex_lock(&g_xt.mu);
    g_xt.head = tail;
    uv_mutex_unlock(&g_xt.mu);
}

static int w_post_cross_thread(const peer_workload *w, long param)
{
    (void)param;
    check(uv_loop_init(&g_loop), "uv_loop_init");
    check(uv_mutex_init(&g_xt.mu), "uv_mutex_init");
    check(uv_async_init(&g_loop, &g_xt.async, xt_async_cb), "uv_async_init");
    g_xt.head = g_xt.tail = g_xt.executed = 0;

    uint64_t start = peer_now_ns();
    g_xt.deadline = start + peer_duration_ns;
    uv_thread_t producer;
    check(uv_thread_create(&producer, xt_producer, NULL), "uv_thread_create");
    uv_run(&g_loop, UV_RUN_DEFAULT);
    check(uv_thread_join(&producer), "uv_thread_join");
    finish_loop();
    uv_mutex_destroy(&g_xt.mu);

    peer_print_rate(w->name, IMPL, 0, g_xt.executed, start, g_xt.end);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Sockets.
 */
typedef union stream_storage {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} stream_storage;

/* Wrap a connected socket in a uv_tcp_t (tcp) or a uv_pipe_t (Unix). */
static uv_stream_t *open_stream(stream_storage *s, int fd, bool tcp, void *data)
{
    peer_set_nonblocking(fd);
    if (tcp) {
        check(uv_tcp_init(&g_loop, &s->tcp), "uv_tcp_init");
        check(uv_tcp_open(&s->tcp, fd), "uv_tcp_open");
        check(uv_tcp_nodelay(&s->tcp, 1), "uv_tcp_nodelay");
    } else {
        check(uv_pipe_init(&g_loop, &s->pipe, 0), "uv_pipe_init");
        check(uv_pipe_open(&s->pipe, fd), "uv_pipe_open");
    }
    s->handle.data = data;
    return &s->stream;
}

/* ---------------------------------------------------------------------------
 * Ping-pong, one loop: the client writes n bytes and reads n back; the
 * server reads n bytes and writes them back.
 */
typedef struct pp_side {
    stream_storage h;
    uv_stream_t *stream;
    uv_write_t req;
    bool writing;
    size_t got;
    char buf[READ_BUF_SIZE];
} pp_side;

static struct {
    pp_side client, server;
    char out[READ_BUF_SIZE];
    size_t n;
    uint64_t t0, deadline;
    peer_hist hist;
    void (*on_done)(void); /* at the deadline: NULL stops the loop */
} g_pp;

static void pp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    pp_side *side = h->data;
    *buf = uv_buf_init(side->buf + side->got, (unsigned)(READ_BUF_SIZE - side->got));
}

static void pp_write_cb(uv_write_t *req, int status)
{
    check(status, "uv_write");
    ((pp_side *)req->data)->writing = false;
}

static void pp_write(pp_side *side, char *data)
{
    if (side->writing) {
        fprintf(stderr, "bench-libuv: ping-pong write still in flight\n");
        exit(1);
    }
    side->writing = true;
    side->req.data = side;
    uv_buf_t b = uv_buf_init(data, (unsigned)g_pp.n);
    check(uv_write(&side->req, side->stream, &b, 1, pp_write_cb), "uv_write");
}

static void pp_client_send(void)
{
    g_pp.t0 = peer_now_ns();
    pp_write(&g_pp.client, g_pp.out);
}

/* Counts what a read brought; true once all n bytes are in. */
static bool pp_read_all(pp_side *side, ssize_t nread, const char *what)
{
    if (nread < 0)
        check((int)nread, what);
    side->got += (size_t)nread;
    if (side->got < g_pp.n)
        return false;
    side->got = 0;
    return true;
}

static void pp_client_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)s;
    (void)buf;
    if (!pp_read_all(&g_pp.client, nread, "client read"))
        return;
    uint64_t t1 = peer_now_ns();
    peer_hist_record(&g_pp.hist, t1 - g_pp.t0);
    if (t1 >= g_pp.deadline) {
        if (g_pp.on_done)
            g_pp.on_done();
        else
            uv_stop(&g_loop);
        return;
    }
    pp_client_send();
}

static void pp_server_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)s;
    (void)buf;
    if (pp_read_all(&g_pp.server, nread, "server read"))
        pp_write(&g_pp.server, g_pp.server.buf);
}

/* pingpong_tcp / pingpong_unix (arg: 1 for TCP). */
static int w_pingpong(const peer_workload *w, long bytes)
{
    bool tcp = w->arg != 0;
    int fds[2];
    if (tcp)
        peer_tcp_pair(fds, false);
    else
        peer_unix_pair(fds);
    check(uv_loop_init(&g_loop), "uv_loop_init");
    g_pp.n = (size_t)bytes;
    memset(g_pp.out, 'P', sizeof g_pp.out);
    peer_hist_reset(&g_pp.hist);
    g_pp.client.stream = open_stream(&g_pp.client.h, fds[0], tcp, &g_pp.client);
    g_pp.server.stream = open_stream(&g_pp.server.h, fds[1], tcp, &g_pp.server);
    check(uv_read_start(g_pp.client.stream, pp_alloc_cb, pp_client_read_cb),
          "uv_read_start");
    check(uv_read_start(g_pp.server.stream, pp_alloc_cb, pp_server_read_cb),
          "uv_read_start");

    g_pp.deadline = peer_now_ns() + peer_duration_ns;
    pp_client_send();
    uv_run(&g_loop, UV_RUN_DEFAULT);
    finish_loop();
    peer_hist_print_rtt(&g_pp.hist, w->name, IMPL, bytes);
    return 0;
}

/* ---------------------------------------------------------------------------
 * throughput_oneway: uv_write one chunk, and from its callback the next; the
 * reader reads into one 64 KiB buffer.
 */
static struct {
    stream_storage wh, rh;
    uv_stream_t *writer, *reader;
    uv_write_t req;
    char *chunk;
    size_t n;
    uint64_t deadline, end, total;
    bool done;
    char rbuf[READ_BUF_SIZE];
} g_tp;

static void tp_write_cb(uv_write_t *req, int status);

static void tp_write_next(void)
{
    uv_buf_t b = uv_buf_init(g_tp.chunk, (unsigned)g_tp.n);
    check(uv_write(&g_tp.req, g_tp.writer, &b, 1, tp_write_cb), "uv_write");
}

static void tp_write_cb(uv_write_t *req, int status)
{
    (void)req;
    if (status < 0 || g_tp.done)
        return;
    tp_write_next();
}

static void tp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(g_tp.rbuf, READ_BUF_SIZE);
}

static void tp_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)s;
    (void)buf;
    if (nread < 0)
        check((int)nread, "read");
    g_tp.total += (uint64_t)nread;
    uint64_t now = peer_now_ns();
    if (now >= g_tp.deadline) {
        g_tp.end = now;
        g_tp.done = true;
        uv_stop(&g_loop);
    }
}

static int w_throughput_oneway(const peer_workload *w, long chunk)
{
    int fds[2];
    peer_tcp_pair(fds, false);
    check(uv_loop_init(&g_loop), "uv_loop_init");
    g_tp.n = (size_t)chunk;
    g_tp.chunk = malloc(g_tp.n);
    if (!g_tp.chunk)
        peer_die("malloc");
    memset(g_tp.chunk, 'x', g_tp.n);
    g_tp.writer = open_stream(&g_tp.wh, fds[0], true, NULL);
    g_tp.reader = open_stream(&g_tp.rh, fds[1], true, NULL);

    uint64_t start = peer_now_ns();
    g_tp.deadline = start + peer_duration_ns;
    tp_write_next();
    check(uv_read_start(g_tp.reader, tp_alloc_cb, tp_read_cb), "uv_read_start");
    uv_run(&g_loop, UV_RUN_DEFAULT);
    finish_loop();
    free(g_tp.chunk);

    peer_print_result(w->name, IMPL, chunk, "bytes_per_s", "B/s",
                      (double)g_tp.total / peer_seconds_since(start, g_tp.end), 0);
    return 0;
}

/* throughput_twoway: throughput_oneway's writer and reader in both
 * directions of one connection; each end's handle writes and reads. */
typedef struct tw_end {
    stream_storage h;
    uv_stream_t *stream;
    uv_write_t req;
    uint64_t total;
} tw_end;

static void tw_write_cb(uv_write_t *req, int status);

static void tw_write_next(tw_end *e)
{
    uv_buf_t b = uv_buf_init(g_tp.chunk, (unsigned)g_tp.n);
    e->req.data = e;
    check(uv_write(&e->req, e->stream, &b, 1, tw_write_cb), "uv_write");
}

static void tw_write_cb(uv_write_t *req, int status)
{
    if (status < 0 || g_tp.done)
        return;
    tw_write_next(req->data);
}

static void tw_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0)
        check((int)nread, "read");
    ((tw_end *)s->data)->total += (uint64_t)nread;
    uint64_t now = peer_now_ns();
    if (now >= g_tp.deadline && !g_tp.done) {
        g_tp.end = now;
        g_tp.done = true;
        uv_stop(&g_loop);
    }
}

static int w_throughput_twoway(const peer_workload *w, long chunk)
{
    int fds[2];
    peer_tcp_pair(fds, false);
    check(uv_loop_init(&g_loop), "uv_loop_init");
    g_tp.n = (size_t)chunk;
    g_tp.chunk = malloc(g_tp.n);
    if (!g_tp.chunk)
        peer_die("malloc");
    memset(g_tp.chunk, 'x', g_tp.n);
    static tw_end ends[2];
    for (int i = 0; i < 2; i++) {
        ends[i].total = 0;
        ends[i].stream = open_stream(&ends[i].h, fds[i], true, &ends[i]);
    }

    uint64_t start = peer_now_ns();
    g_tp.deadline = start + peer_duration_ns;
    for (int i = 0; i < 2; i++) {
        tw_write_next(&ends[i]);
        check(uv_read_start(ends[i].stream, tp_alloc_cb, tw_read_cb), "uv_read_start");
    }
    uv_run(&g_loop, UV_RUN_DEFAULT);
    finish_loop();
    free(g_tp.chunk);

    peer_print_result(w->name, IMPL, chunk, "bytes_per_s", "B/s",
                      (double)(ends[0].total + ends[1].total) /
                          peer_seconds_since(start, g_tp.end),
                      0);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Timers.
 */
static void timer_noop_cb(uv_timer_t *t)
{
    (void)t;
}

/* Start a 1 s timer and stop it; a non-blocking loop turn every 1000. */
static int w_timer_schedule_cancel(const peer_workload *w, long param)
{
    (void)param;
    check(uv_loop_init(&g_loop), "uv_loop_init");
    uv_timer_t timer;
    check(uv_timer_init(&g_loop, &timer), "uv_timer_init");
    uint64_t count = 0;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    uint64_t now;
    do {
        for (int i = 0; i < 1000; i++) {
            uv_timer_start(&timer, timer_noop_cb, 1000, 0);
            uv_timer_stop(&timer);
        }
        count += 1000;
        uv_run(&g_loop, UV_RUN_NOWAIT);
        now = peer_now_ns();
    } while (now < deadline);
    finish_loop();
    peer_print_rate(w->name, IMPL, 0, count, start, now);
    return 0;
}

static uint64_t g_fire_count, g_fire_deadline;

static void fire_cb(uv_timer_t *t)
{
    if ((++g_fire_count & 1023u) == 0 && peer_now_ns() >= g_fire_deadline)
        return;
    uv_timer_start(t, fire_cb, 0, 0);
}

static int w_timer_fire(const peer_workload *w, long param)
{
    (void)param;
    check(uv_loop_init(&g_loop), "uv_loop_init");
    uv_timer_t timer;
    check(uv_timer_init(&g_loop, &timer), "uv_timer_init");
    uint64_t start = peer_now_ns();
    g_fire_deadline = start + peer_duration_ns;
    check(uv_timer_start(&timer, fire_cb, 0, 0), "uv_timer_start");
    uv_run(&g_loop, UV_RUN_DEFAULT);
    uint64_t end = peer_now_ns();
    finish_loop();
    peer_print_rate(w->name, IMPL, 0, g_fire_count, start, end);
    return 0;
}

/* uv_timer_start's timeout for an absolute peer_now_ns() expiry: whole
 * milliseconds, rounded up (libuv's timers count ms from the loop time). */
static uint64_t ms_until(uint64_t expiry)
{
    uint64_t now = peer_now_ns();
    return expiry > now ? (expiry - now + 999999u) / 1000000u : 0;
}

static peer_hist g_late;
static uint64_t g_deadline;

static void print_lateness(const char *name, long param)
{
    peer_print_result(name, IMPL, param, "lateness_p50", "us",
                      peer_hist_quantile_ns(&g_late, 0.50) / 1e3, 3);
    peer_print_result(name, IMPL, param, "lateness_p99", "us",
                      peer_hist_quantile_ns(&g_late, 0.99) / 1e3, 3);
    peer_print_result(name, IMPL, param, "lateness_max", "us",
                      (double)(g_late.count ? g_late.max_ns : 0) / 1e3, 3);
}

/* timer_concurrent: n uv_timer_t, each periodic (10 ms, its own phase),
 * restarted from its callback for the next absolute expiry. */
#define TC_PERIOD 10000000u

typedef struct periodic {
    uv_timer_t timer;
    uint64_t expiry;
} periodic;

static void periodic_cb(uv_timer_t *t)
{
    periodic *p = (periodic *)t;
    uint64_t now = peer_now_ns();
    peer_hist_record(&g_late, now > p->expiry ? now - p->expiry : 0);
    g_fire_count++;
    p->expiry += TC_PERIOD;
    if (p->expiry < g_deadline)
        check(uv_timer_start(t, periodic_cb, ms_until(p->expiry), 0), "uv_timer_start");
}

static int w_timer_concurrent(const peer_workload *w, long n)
{
    check(uv_loop_init(&g_loop), "uv_loop_init");
    periodic *ps = calloc((size_t)n, sizeof *ps);
    if (!ps)
        peer_die("calloc");
    peer_hist_reset(&g_late);
    g_fire_count = 0;
    uint64_t start = peer_now_ns();
    g_deadline = start + peer_duration_ns;
    for (long i = 0; i < n; i++) {
        check(uv_timer_init(&g_loop, &ps[i].timer), "uv_timer_init");
        ps[i].expiry = start + TC_PERIOD / 10 + (uint64_t)i * TC_PERIOD / (uint64_t)n;
        check(uv_timer_start(&ps[i].timer, periodic_cb, ms_until(ps[i].expiry), 0),
              "uv_timer_start");
    }
    uv_run(&g_loop, UV_RUN_DEFAULT);
    uint64_t end = peer_now_ns();
    finish_loop();
    free(ps);
    peer_print_rate(w->name, IMPL, n, g_fire_count, start, end);
    print_lateness(w->name, n);
    return 0;
}

/* starvation: a storm of 16 uv_idle_t handles (libuv's closest thing to a
 * handler that re-posts itself: each idle callback runs once per loop
 * iteration while it is started), a 1 ms periodic timer recording its
 * lateness and a 64 B Unix ping-pong, on one loop.  With an idle handle
 * active the loop polls with a zero timeout on every iteration, so the
 * timer and the sockets are served between any two storm callbacks of the
 * same handle: libuv cannot starve them, by construction. */
static struct {
    uv_idle_t storm[16];
    uv_timer_t timer;
    uint64_t end, expiry, handlers;
    bool over;
    int active;
} g_st;

static void st_part_done(void)
{
    if (--g_st.active == 0)
        uv_stop(&g_loop);
}

static void st_idle_cb(uv_idle_t *h)
{
    ++g_st.handlers;
    if (g_st.over) {
        uv_idle_stop(h);
        return;
    }
    if ((g_st.handlers & 255u) == 0 && peer_now_ns() >= g_st.end) {
        g_st.over = true;
        uv_idle_stop(h);
        st_part_done();
    }
}

static void st_tick_cb(uv_timer_t *t)
{
    uint64_t now = peer_now_ns();
    peer_hist_record(&g_late, now > g_st.expiry ? now - g_st.expiry : 0);
    g_st.expiry += 1000000u;
    if (g_st.expiry > g_st.end) {
        st_part_done();
        return;
    }
    check(uv_timer_start(t, st_tick_cb, ms_until(g_st.expiry), 0), "uv_timer_start");
}

static int w_starvation(const peer_workload *w, long param)
{
    (void)param;
    int fds[2];
    peer_unix_pair(fds);
    check(uv_loop_init(&g_loop), "uv_loop_init");
    peer_hist_reset(&g_late);
    g_pp.n = 64;
    memset(g_pp.out, 'P', sizeof g_pp.out);
    peer_hist_reset(&g_pp.hist);
    g_pp.on_done = st_part_done;
    g_pp.client.stream = open_stream(&g_pp.client.h, fds[0], false, &g_pp.client);
    g_pp.server.stream = open_stream(&g_pp.server.h, fds[1], false, &g_pp.server);
    check(uv_read_start(g_pp.client.stream, pp_alloc_cb, pp_client_read_cb), "uv_read_start");
    check(uv_read_start(g_pp.server.stream, pp_alloc_cb, pp_server_read_cb), "uv_read_start");
    check(uv_timer_init(&g_loop, &g_st.timer), "uv_timer_init");
    for (int i = 0; i < 16; i++)
        check(uv_idle_init(&g_loop, &g_st.storm[i]), "uv_idle_init");

    uint64_t start = peer_now_ns();
    g_st.end = g_pp.deadline = start + peer_duration_ns;
    g_st.expiry = start + 1000000u;
    g_st.active = 3;
    check(uv_timer_start(&g_st.timer, st_tick_cb, ms_until(g_st.expiry), 0), "uv_timer_start");
    pp_client_send();
    for (int i = 0; i < 16; i++)
        check(uv_idle_start(&g_st.storm[i], st_idle_cb), "uv_idle_start");
    uv_run(&g_loop, UV_RUN_DEFAULT);
    uint64_t end = peer_now_ns();
    finish_loop();
    peer_print_rate(w->name, IMPL, 0, g_st.handlers, start, end);
    print_lateness(w->name, 0);
    peer_hist_print_rtt(&g_pp.hist, w->name, IMPL, 0);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Several connections on one loop: pingpong_concurrent (each client sends
 * again as soon as its echo is in) and fanout (every client sends at the
 * start of a cycle; the last echo in ends the cycle).  64 B messages; each
 * server end echoes what it reads.
 */
#define MC_MSG 64

typedef struct mc_end {
    stream_storage h;
    uv_stream_t *stream;
    uv_write_t req;
    size_t got;
    char buf[MC_MSG];
    struct mc_pair *pair;
} mc_end;

typedef struct mc_pair {
    mc_end client, server;
    uint64_t t0;
    bool done;
} mc_pair;

static struct {
    mc_pair *pairs;
    long n, left;
    bool fanout;
    uint64_t start, deadline, end, ops, cycle_start;
    peer_hist hist;
    char out[MC_MSG];
} g_mc;

static void mc_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    mc_end *e = h->data;
    *buf = uv_buf_init(e->buf + e->got, (unsigned)(MC_MSG - e->got));
}

static void mc_write_cb(uv_write_t *req, int status)
{
    (void)req;
    if (status < 0 && status != UV_ECANCELED)
        check(status, "uv_write");
}

static void mc_send(mc_end *e, char *data)
{
    uv_buf_t b = uv_buf_init(data, MC_MSG);
    check(uv_write(&e->req, e->stream, &b, 1, mc_write_cb), "uv_write");
}

static void mc_client_send(mc_pair *p)
{
    p->t0 = peer_now_ns();
    mc_send(&p->client, g_mc.out);
}

static void mc_start_cycle(void)
{
    g_mc.cycle_start = peer_now_ns();
    g_mc.left = g_mc.n;
    for (long i = 0; i < g_mc.n; i++)
        mc_client_send(&g_mc.pairs[i]);
}

/* True once a whole message is in. */
static bool mc_read(mc_end *e, ssize_t nread)
{
    if (nread < 0)
        check((int)nread, "read");
    e->got += (size_t)nread;
    if (e->got < MC_MSG)
        return false;
    e->got = 0;
    return true;
}

static void mc_server_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    mc_end *e = s->data;
    if (mc_read(e, nread))
        mc_send(e, e->buf);
}

static void mc_client_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    mc_end *e = s->data;
    if (!mc_read(e, nread))
        return;
    mc_pair *p = e->pair;
    uint64_t now = peer_now_ns();
    if (g_mc.fanout) {
        if (--g_mc.left > 0)
            return;
        peer_hist_record(&g_mc.hist, now - g_mc.cycle_start);
        g_mc.ops++;
        if (now >= g_mc.deadline) {
            g_mc.end = now;
            uv_stop(&g_loop);
            return;
        }
        mc_start_cycle();
        return;
    }
    peer_hist_record(&g_mc.hist, now - p->t0);
    g_mc.ops++;
    if (now >= g_mc.deadline) {
        p->done = true;
        if (--g_mc.left == 0) {
            g_mc.end = now;
            uv_stop(&g_loop);
        }
        return;
    }
    mc_client_send(p);
}

/* pingpong_concurrent (arg 0) and fanout (arg 1): param connections. */
static int w_multi(const peer_workload *w, long n)
{
    check(uv_loop_init(&g_loop), "uv_loop_init");
    g_mc.fanout = w->arg != 0;
    g_mc.n = n;
    g_mc.ops = 0;
    g_mc.pairs = calloc((size_t)n, sizeof *g_mc.pairs);
    if (!g_mc.pairs)
        peer_die("calloc");
    memset(g_mc.out, 'P', sizeof g_mc.out);
    peer_hist_reset(&g_mc.hist);
    for (long i = 0; i < n; i++) {
        mc_pair *p = &g_mc.pairs[i];
        int fds[2];
        peer_tcp_pair(fds, false);
        p->client.pair = p->server.pair = p;
        p->client.stream = open_stream(&p->client.h, fds[0], true, &p->client);
        p->server.stream = open_stream(&p->server.h, fds[1], true, &p->server);
        check(uv_read_start(p->client.stream, mc_alloc_cb, mc_client_read_cb), "uv_read_start");
        check(uv_read_start(p->server.stream, mc_alloc_cb, mc_server_read_cb), "uv_read_start");
    }
    g_mc.start = peer_now_ns();
    g_mc.deadline = g_mc.start + peer_duration_ns;
    if (g_mc.fanout) {
        mc_start_cycle();
    } else {
        g_mc.left = n;
        for (long i = 0; i < n; i++)
            mc_client_send(&g_mc.pairs[i]);
    }
    uv_run(&g_loop, UV_RUN_DEFAULT);
    finish_loop();
    free(g_mc.pairs);
    peer_print_rate(w->name, IMPL, n, g_mc.ops, g_mc.start, g_mc.end);
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
 * accept_churn: uv_listen on 127.0.0.1, and per connection: uv_tcp_connect
 * and uv_accept (either may come first), 1 byte written by the client
 * (SO_LINGER 0, as the kit) and read on the accepted handle, both handles
 * uv_close'd; the next connection starts once both close callbacks ran.
 */
static struct {
    uv_tcp_t listener, client, server;
    uv_connect_t creq;
    uv_write_t wreq;
    struct sockaddr_in addr;
    int joined, closing;
    bool pending_accept, cycling;
    char byte, got;
    uint64_t count, deadline, end;
} g_ac;

static void ac_cycle(void);

static void ac_closed(uv_handle_t *h)
{
    (void)h;
    if (--g_ac.closing > 0)
        return;
    uint64_t now = peer_now_ns();
    if (++g_ac.count, now >= g_ac.deadline) {
        g_ac.end = now;
        uv_close((uv_handle_t *)&g_ac.listener, NULL);
        return;
    }
    ac_cycle();
}

static void ac_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(&g_ac.got, 1);
}

static void ac_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)s;
    (void)buf;
    if (nread == 0)
        return;
    if (nread != 1)
        check(nread < 0 ? (int)nread : UV_EIO, "accept_churn read");
    g_ac.closing = 2;
    uv_close((uv_handle_t *)&g_ac.client, ac_closed);
    uv_close((uv_handle_t *)&g_ac.server, ac_closed);
}

static void ac_write_cb(uv_write_t *req, int status)
{
    (void)req;
    if (status < 0 && status != UV_ECANCELED)
        check(status, "accept_churn write");
}

static void ac_join(void)
{
    if (++g_ac.joined < 2)
        return;
    uv_buf_t b = uv_buf_init(&g_ac.byte, 1);
    check(uv_write(&g_ac.wreq, (uv_stream_t *)&g_ac.client, &b, 1, ac_write_cb), "uv_write");
    check(uv_read_start((uv_stream_t *)&g_ac.server, ac_alloc_cb, ac_read_cb), "uv_read_start");
}

static void ac_accept(void)
{
    check(uv_tcp_init(&g_loop, &g_ac.server), "uv_tcp_init");
    check(uv_accept((uv_stream_t *)&g_ac.listener, (uv_stream_t *)&g_ac.server), "uv_accept");
    ac_join();
}

static void ac_connection_cb(uv_stream_t *l, int status)
{
    (void)l;
    check(status, "accept_churn listen");
    /* A connection that arrives before its cycle wants it waits. */
    if (!g_ac.cycling || g_ac.joined == 2 || g_ac.pending_accept) {
        g_ac.pending_accept = true;
        return;
    }
    ac_accept();
}

static void ac_connect_cb(uv_connect_t *req, int status)
{
    (void)req;
    check(status, "accept_churn connect");
    ac_join();
}

static void ac_cycle(void)
{
    g_ac.joined = 0;
    g_ac.cycling = true;
    check(uv_tcp_init(&g_loop, &g_ac.client), "uv_tcp_init");
    /* SO_LINGER 0 needs the socket: open it first, as the kit does. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        peer_die("socket");
    struct linger lg = {1, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
        peer_die("setsockopt(SO_LINGER)");
    check(uv_tcp_open(&g_ac.client, fd), "uv_tcp_open");
    check(uv_tcp_connect(&g_ac.creq, &g_ac.client, (const struct sockaddr *)&g_ac.addr,
                         ac_connect_cb),
          "uv_tcp_connect");
    if (g_ac.pending_accept) {
        g_ac.pending_accept = false;
        ac_accept();
    }
}

static int w_accept_churn(const peer_workload *w, long param)
{
    (void)param;
    check(uv_loop_init(&g_loop), "uv_loop_init");
    check(uv_tcp_init(&g_loop, &g_ac.listener), "uv_tcp_init");
    check(uv_ip4_addr("127.0.0.1", 0, &g_ac.addr), "uv_ip4_addr");
    check(uv_tcp_bind(&g_ac.listener, (const struct sockaddr *)&g_ac.addr, 0), "uv_tcp_bind");
    int len = sizeof g_ac.addr;
    check(uv_tcp_getsockname(&g_ac.listener, (struct sockaddr *)&g_ac.addr, &len),
          "uv_tcp_getsockname");
    check(uv_listen((uv_stream_t *)&g_ac.listener, 128, ac_connection_cb), "uv_listen");
    g_ac.byte = 'X';
    uint64_t start = peer_now_ns();
    g_ac.deadline = start + peer_duration_ns;
    ac_cycle();
    uv_run(&g_loop, UV_RUN_DEFAULT);
    finish_loop();
    peer_print_rate(w->name, IMPL, 0, g_ac.count, start, g_ac.end);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Command line.
 */
#define NO_POST "libuv has no same-thread post (uv_idle is one callback per loop turn)"

static const peer_workload g_workloads[] = {
    {"post_single", NULL, 0, NO_POST},
    {"post_interleaved", NULL, 0, NO_POST},
    {"post_chain", NULL, 0, NO_POST},
    {"post_cross_thread", w_post_cross_thread, 0, NULL},
    {"post_threads", NULL, 0, "a uv_loop_t is run by one thread only"},
    {"pingpong_tcp", w_pingpong, 1, NULL},
    {"pingpong_unix", w_pingpong, 0, NULL},
    {"throughput_oneway", w_throughput_oneway, 0, NULL},
    {"timer_schedule_cancel", w_timer_schedule_cancel, 0, NULL},
    {"timer_fire", w_timer_fire, 0, NULL},
    {"throughput_twoway", w_throughput_twoway, 0, NULL},
    {"timer_concurrent", w_timer_concurrent, 0, NULL},
    {"starvation", w_starvation, 0, NULL},
    {"post_concurrent", NULL, 0, "a uv_loop_t is run by one thread only"},
    {"pingpong_concurrent", w_multi, 0, NULL},
    {"fanout", w_multi, 1, NULL},
    {"accept_churn", w_accept_churn, 0, NULL},
};

int main(int argc, char **argv)
{
    return peer_main(argc, argv, IMPL, g_workloads,
                     sizeof g_workloads / sizeof g_workloads[0]);
}
