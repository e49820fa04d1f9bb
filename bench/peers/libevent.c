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
 *   post_threads: one event_base is dispatched by one thread at a time.
 * Asking for it prints why and exits with status 2.
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

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define IMPL "libevent"
#define READ_BUF_SIZE 65536

static uint64_t g_duration_ns = 500000000u;
static struct event_base *g_base;

static void die(const char *what)
{
    fprintf(stderr, "bench-libevent: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void die_msg(const char *what)
{
    fprintf(stderr, "bench-libevent: %s failed\n", what);
    exit(1);
}

static double seconds_since(uint64_t start, uint64_t end)
{
    return (double)(end - start) / 1e9;
}

static void new_base(void)
{
    g_base = event_base_new();
    if (!g_base)
        die_msg("event_base_new");
}

static struct event *must_event(evutil_socket_t fd, short what, event_callback_fn cb, void *arg)
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
 * post_single / post_interleaved: activate a batch of events from outside
 * the loop, then one non-blocking loop pass runs them.
 */
static uint64_t g_count;

static void post_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    g_count++;
}

static void run_post_batches(const char *workload, int batch)
{
    new_base();
    struct event *evs[1000];
    for (int i = 0; i < batch; i++)
        evs[i] = must_event(-1, 0, post_cb, NULL);
    g_count = 0;
    uint64_t posted = 0;

    uint64_t start = peer_now_ns();
    uint64_t deadline = start + g_duration_ns;
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
        fprintf(stderr, "bench-libevent: ran %llu of %llu posts\n", (unsigned long long)g_count,
                (unsigned long long)posted);
        exit(1);
    }
    peer_print_result(workload, IMPL, 0, "rate", "ops/s",
                      (double)g_count / seconds_since(start, now), 0);
}

static int w_post_single(long param)
{
    (void)param;
    run_post_batches("post_single", 1000);
    return 0;
}

static int w_post_interleaved(long param)
{
    (void)param;
    run_post_batches("post_interleaved", 100);
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

static int w_post_chain(long chains)
{
    new_base();
    struct event **evs = calloc((size_t)chains, sizeof *evs);
    if (!evs)
        die("calloc");
    for (long i = 0; i < chains; i++)
        evs[i] = must_event(-1, 0, chain_cb, event_self_cbarg());
    g_count = 0;
    g_chain_stopping = false;

    uint64_t start = peer_now_ns();
    g_chain_deadline = start + g_duration_ns;
    for (long i = 0; i < chains; i++)
        event_active(evs[i], EV_READ, 0);
    event_base_dispatch(g_base);
    uint64_t end = peer_now_ns();

    for (long i = 0; i < chains; i++)
        event_free(evs[i]);
    free(evs);
    event_base_free(g_base);
    peer_print_result("post_chain", IMPL, chains, "rate", "ops/s",
                      (double)g_count / seconds_since(start, end), 0);
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
        while (posted - atomic_load_explicit(&g_xt.executed, memory_order_acquire) >= XT_CAP)
            sched_yield();
        event_active(g_xt.pool[posted % XT_CAP], EV_READ, 0);
    }
    event_active(g_xt.stop, EV_READ, 0);
    return NULL;
}

static int w_post_cross_thread(long param)
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
    g_xt.deadline = start + g_duration_ns;
    pthread_t producer;
    if ((errno = pthread_create(&producer, NULL, xt_producer, NULL)))
        die("pthread_create");
    event_base_loop(g_base, EVLOOP_NO_EXIT_ON_EMPTY);
    pthread_join(producer, NULL);

    for (unsigned i = 0; i < XT_CAP; i++)
        event_free(g_xt.pool[i]);
    event_free(g_xt.stop);
    event_base_free(g_base);
    peer_print_result("post_cross_thread", IMPL, 0, "rate", "ops/s",
                      (double)atomic_load(&g_xt.executed) / seconds_since(start, g_xt.end), 0);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Sockets.
 */
static void set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die("setsockopt(TCP_NODELAY)");
}

/* A connected TCP pair over 127.0.0.1 with a kernel-chosen port. */
static void make_tcp_pair(int fds[2])
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("bind");
    if (listen(lfd, 1) < 0)
        die("listen");
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) < 0)
        die("getsockname");
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0)
        die("socket");
    if (connect(cfd, (struct sockaddr *)&addr, len) < 0)
        die("connect");
    int sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (sfd < 0)
        die("accept");
    close(lfd);
    set_nodelay(cfd);
    set_nodelay(sfd);
    fds[0] = cfd;
    fds[1] = sfd;
}

static void make_pair(int fds[2], bool tcp)
{
    if (tcp)
        make_tcp_pair(fds);
    else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        die("socketpair");
    if (evutil_make_socket_nonblocking(fds[0]) < 0 || evutil_make_socket_nonblocking(fds[1]) < 0)
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
                die("write");
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
        die("read");
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

static void run_pingpong(const char *workload, long bytes, bool tcp)
{
    int fds[2];
    make_pair(fds, tcp);
    new_base();
    g_pp.n = (size_t)bytes;
    memset(g_pp.out, 'P', sizeof g_pp.out);
    peer_hist_reset(&g_pp.hist);
    conn_open(&g_pp.client, fds[0], pp_client_read_cb);
    conn_open(&g_pp.server, fds[1], pp_server_read_cb);

    g_pp.deadline = peer_now_ns() + g_duration_ns;
    pp_client_send();
    event_base_dispatch(g_base);

    conn_close(&g_pp.client);
    conn_close(&g_pp.server);
    event_base_free(g_base);
    peer_hist_print_rtt(&g_pp.hist, workload, IMPL, bytes);
}

static int w_pingpong_tcp(long bytes)
{
    run_pingpong("pingpong_tcp", bytes, true);
    return 0;
}

static int w_pingpong_unix(long bytes)
{
    run_pingpong("pingpong_unix", bytes, false);
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
            die("write");
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
        die("read");
    g_tp.total += (uint64_t)r;
    uint64_t now = peer_now_ns();
    if (now >= g_tp.deadline) {
        g_tp.end = now;
        event_base_loopbreak(g_base);
    }
}

static int w_throughput_oneway(long chunk)
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
        die("malloc");
    memset(g_tp.chunk, 'x', g_tp.n);
    struct event *wev = must_event(g_tp.wfd, EV_WRITE | EV_PERSIST, tp_write_cb, NULL);
    struct event *rev = must_event(g_tp.rfd, EV_READ | EV_PERSIST, tp_read_cb, NULL);

    uint64_t start = peer_now_ns();
    g_tp.deadline = start + g_duration_ns;
    must_add(wev, NULL);
    must_add(rev, NULL);
    event_base_dispatch(g_base);

    event_free(wev);
    event_free(rev);
    event_base_free(g_base);
    close(g_tp.wfd);
    close(g_tp.rfd);
    free(g_tp.chunk);
    peer_print_result("throughput_oneway", IMPL, chunk, "bytes_per_s", "B/s",
                      (double)g_tp.total / seconds_since(start, g_tp.end), 0);
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
static int w_timer_schedule_cancel(long param)
{
    (void)param;
    new_base();
    struct event *ev = must_event(-1, 0, timer_noop_cb, NULL);
    const struct timeval one_second = {1, 0};
    uint64_t count = 0;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + g_duration_ns;
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
    peer_print_result("timer_schedule_cancel", IMPL, 0, "rate", "ops/s",
                      (double)count / seconds_since(start, now), 0);
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

static int w_timer_fire(long param)
{
    (void)param;
    new_base();
    struct event *ev = must_event(-1, 0, fire_cb, event_self_cbarg());
    g_count = 0;
    uint64_t start = peer_now_ns();
    g_fire_deadline = start + g_duration_ns;
    must_add(ev, &g_zero_delay);
    event_base_dispatch(g_base);
    uint64_t end = peer_now_ns();
    event_free(ev);
    event_base_free(g_base);
    peer_print_result("timer_fire", IMPL, 0, "rate", "ops/s",
                      (double)g_count / seconds_since(start, end), 0);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Command line.
 */
typedef struct workload {
    const char *name;
    int (*run)(long param);
    long default_param; /* 0: the workload takes no parameter */
    long min_param, max_param;
    const char *skipped; /* why libevent has no version of it */
} workload;

static const workload g_workloads[] = {
    {"post_single", w_post_single, 0, 0, 0, NULL},
    {"post_interleaved", w_post_interleaved, 0, 0, 0, NULL},
    {"post_chain", w_post_chain, 1, 1, 1 << 20, NULL},
    {"post_cross_thread", w_post_cross_thread, 0, 0, 0, NULL},
    {"post_threads", NULL, 1, 1, 1024,
     "an event_base is dispatched by one thread at a time"},
    {"pingpong_tcp", w_pingpong_tcp, 64, 1, READ_BUF_SIZE, NULL},
    {"pingpong_unix", w_pingpong_unix, 64, 1, READ_BUF_SIZE, NULL},
    {"throughput_oneway", w_throughput_oneway, 65536, 1, 16 << 20, NULL},
    {"timer_schedule_cancel", w_timer_schedule_cancel, 0, 0, 0, NULL},
    {"timer_fire", w_timer_fire, 0, 0, 0, NULL},
};

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s -w WORKLOAD [-t SECONDS] [-p PARAM]\n  workloads:", prog);
    for (size_t i = 0; i < sizeof g_workloads / sizeof g_workloads[0]; i++)
        if (g_workloads[i].run)
            fprintf(stderr, " %s", g_workloads[i].name);
    fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
    const char *name = NULL;
    const char *param_arg = NULL;
    double seconds = 0.5;
    int opt;
    while ((opt = getopt(argc, argv, "w:t:p:")) != -1) {
        char *end;
        switch (opt) {
        case 'w':
            name = optarg;
            break;
        case 't':
            errno = 0;
            seconds = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(seconds > 0.0 && seconds <= 86400.0)) {
                usage(argv[0]);
                return 2;
            }
            break;
        case 'p':
            param_arg = optarg;
            break;
        default:
            usage(argv[0]);
            return 2;
        }
    }
    if (!name || optind != argc) {
        usage(argv[0]);
        return 2;
    }
    const workload *w = NULL;
    for (size_t i = 0; i < sizeof g_workloads / sizeof g_workloads[0]; i++)
        if (strcmp(g_workloads[i].name, name) == 0)
            w = &g_workloads[i];
    if (!w) {
        fprintf(stderr, "%s: unknown workload '%s'\n", argv[0], name);
        usage(argv[0]);
        return 2;
    }
    if (!w->run) {
        fprintf(stderr, "%s: %s is not available for libevent: %s\n", argv[0], name, w->skipped);
        usage(argv[0]);
        return 2;
    }
    long param = w->default_param;
    if (param_arg && w->default_param) {
        char *end;
        errno = 0;
        param = strtol(param_arg, &end, 10);
        if (errno || end == param_arg || *end || param < w->min_param || param > w->max_param) {
            fprintf(stderr, "%s: %s takes -p in [%ld, %ld]\n", argv[0], name, w->min_param,
                    w->max_param);
            usage(argv[0]);
            return 2;
        }
    }
    g_duration_ns = (uint64_t)(seconds * 1e9);
    /* Safety net: a run that stalls (a lost wake-up, a stuck socket) is killed. */
    alarm((unsigned)seconds + 30u);
    return w->run(param);
}
