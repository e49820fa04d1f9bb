/* test_socket.c - stream sockets over TCP loopback and Unix socketpairs:
 * ping-pong, large two-way transfers with partial reads and writes, connect
 * and accept, end of stream, EPIPE without SIGPIPE, cancel and close with
 * operations pending, many sockets on two threads, a million always-ready
 * reads, and bad input. */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <unistd.h>

/* A listening TCP socket on 127.0.0.1 (or ::1), port chosen by the kernel. */
static sl_socket *tcp_listener(sl_scheduler *s, int family, struct sockaddr_storage *addr,
                               socklen_t *len)
{
    sl_socket *l;
    assert_int_equal(sl_socket_open(s, family, SOCK_STREAM, 0, &l), 0);
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    socklen_t alen;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        alen = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        alen = sizeof *in6;
    }
    int one = 1;
    assert_int_equal(sl_socket_set_option(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one),
                     0);
    int r = sl_socket_bind(l, (struct sockaddr *)&a, alen);
    if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) {
        sl_socket_close(l);
        return NULL;
    }
    assert_int_equal(r, 0);
    assert_int_equal(sl_socket_listen(l, 128), 0);
    assert_int_equal(sl_socket_local_address(l, addr, len), 0);
    return l;
}

/* ---- connecting a pair over TCP ----------------------------------------- */

typedef struct tcp_pair {
    sl_socket *client, *server;
    int connect_status, accept_status;
    int done;
} tcp_pair;

static void on_connect(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)sock;
    (void)bytes;
    tcp_pair *p = arg;
    p->connect_status = status;
    p->done++;
}

static void on_accept(sl_socket *l, int status, sl_socket *accepted, void *arg)
{
    (void)l;
    tcp_pair *p = arg;
    p->accept_status = status;
    p->server = accepted;
    p->done++;
}

/* Connects a client to a fresh listener and accepts it; NULL listener
 * result (family unsupported here) returns false. */
static bool make_tcp_pair(sl_scheduler *s, int family, tcp_pair *p)
{
    struct sockaddr_storage addr;
    socklen_t len;
    memset(p, 0, sizeof *p);
    p->connect_status = p->accept_status = 999;
    sl_socket *l = tcp_listener(s, family, &addr, &len);
    if (!l)
        return false;
    assert_int_equal(sl_socket_open(s, family, SOCK_STREAM, 0, &p->client), 0);
    assert_int_equal(sl_socket_async_accept(l, on_accept, p), 0);
    assert_int_equal(
        sl_socket_async_connect(p->client, (struct sockaddr *)&addr, len, on_connect, p),
        0);
    while (p->done < 2) {
        sl_restart(s);
        assert_true(sl_run_one(s) > 0);
    }
    assert_int_equal(p->connect_status, 0);
    assert_int_equal(p->accept_status, 0);
    assert_non_null(p->server);
    sl_socket_close(l);
    sl_restart(s);
    return true;
}

/* ---- ping-pong ---------------------------------------------------------- */

typedef struct pinger {
    sl_socket *a, *b; /* a sends, b echoes */
    char out[1024], in_b[1024], in_a[1024];
    size_t size, got_b, got_a;
    long rounds, left;
    int errors;
} pinger;

static void a_read(sl_socket *sock, int status, size_t n, void *arg);
static void b_read(sl_socket *sock, int status, size_t n, void *arg);

static void start_round(pinger *p)
{
    memset(p->out, (int)(p->left & 0xff), p->size);
    p->got_a = p->got_b = 0;
    /* Payloads this small are written whole on loopback. */
    ssize_t w = write(sl_socket_fd(p->a), p->out, p->size);
    if (w != (ssize_t)p->size)
        p->errors++;
    struct iovec rb = {p->in_b, p->size};
    if (sl_socket_async_read(p->b, &rb, 1, b_read, p) != 0)
        p->errors++;
}

static void b_wrote(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    pinger *p = arg;
    if (status != 0 || n != p->size)
        p->errors++;
}

static void b_read(sl_socket *sock, int status, size_t n, void *arg)
{
    pinger *p = arg;
    if (status != 0) {
        p->errors++;
        return;
    }
    p->got_b += n;
    if (p->got_b < p->size) {
        struct iovec rb = {p->in_b + p->got_b, p->size - p->got_b};
        sl_socket_async_read(sock, &rb, 1, b_read, p);
        return;
    }
    struct iovec wb = {p->in_b, p->size};
    if (sl_socket_async_write(sock, &wb, 1, b_wrote, p) != 0)
        p->errors++;
    struct iovec ra = {p->in_a, p->size};
    if (sl_socket_async_read(p->a, &ra, 1, a_read, p) != 0)
        p->errors++;
}

static void a_read(sl_socket *sock, int status, size_t n, void *arg)
{
    pinger *p = arg;
    if (status != 0) {
        p->errors++;
        return;
    }
    p->got_a += n;
    if (p->got_a < p->size) {
        struct iovec ra = {p->in_a + p->got_a, p->size - p->got_a};
        sl_socket_async_read(sock, &ra, 1, a_read, p);
        return;
    }
    if (memcmp(p->in_a, p->out, p->size) != 0)
        p->errors++;
    if (--p->left > 0)
        start_round(p);
}

static void run_pingpong(sl_scheduler *s, sl_socket *a, sl_socket *b, size_t size,
                         long rounds)
{
    static pinger p;
    memset(&p, 0, sizeof p);
    p.a = a;
    p.b = b;
    p.size = size;
    p.rounds = p.left = rounds;
    start_round(&p);
    sl_restart(s);
    sl_run(s);
    assert_int_equal(p.errors, 0);
    assert_int_equal(p.left, 0);
}

void socket_pingpong_tcp_loopback(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    tcp_pair tp;
    assert_true(make_tcp_pair(s, AF_INET, &tp));
    int one = 1;
    sl_socket_set_option(tp.client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    run_pingpong(s, tp.client, tp.server, 64, test_scale(2000));
    sl_socket_close(tp.client);
    sl_socket_close(tp.server);
    sl_scheduler_destroy(s);
}

void socket_pingpong_tcp_ipv6_loopback(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    tcp_pair tp;
    if (!make_tcp_pair(s, AF_INET6, &tp)) {
        sl_scheduler_destroy(s);
        skip(); /* no IPv6 loopback on this machine */
    }
    run_pingpong(s, tp.client, tp.server, 1024, test_scale(500));
    sl_socket_close(tp.client);
    sl_socket_close(tp.server);
    sl_scheduler_destroy(s);
}

void socket_pingpong_unix_socketpair(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    run_pingpong(s, pair[0], pair[1], 1, test_scale(2000));
    run_pingpong(s, pair[1], pair[0], 1024, test_scale(500));
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_scheduler_destroy(s);
}

/* ---- 64 MiB each way at once, partial reads and writes, checksums ------- */

typedef struct streamer {
    sl_socket *sock;
    size_t total, sent, received;
    uint64_t sum_sent, sum_received;
    char wbuf[65536 + 7], rbuf[40000];
    int errors, reads, writes;
    unsigned seed;
} streamer;

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void st_write(streamer *st);
static void st_wrote(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)sock;
    streamer *st = arg;
    if (status != 0) {
        st->errors++;
        return;
    }
    st->sum_sent = fnv(st->sum_sent, (unsigned char *)st->wbuf, n);
    st->sent += n;
    st->writes++;
    st_write(st);
}

static void st_write(streamer *st)
{
    if (st->sent >= st->total)
        return;
    size_t chunk = st->total - st->sent;
    /* Odd sizes over two iovecs exercise partial writes and gathering. */
    if (chunk > sizeof st->wbuf)
        chunk = sizeof st->wbuf;
    for (size_t i = 0; i < chunk; ++i)
        st->wbuf[i] = (char)((st->sent + i) * 2654435761u >> 13);
    struct iovec iov[2] = {{st->wbuf, chunk / 3},
                           {st->wbuf + chunk / 3, chunk - chunk / 3}};
    if (sl_socket_async_write(st->sock, iov, 2, st_wrote, st) != 0)
        st->errors++;
}

static void st_read(sl_socket *sock, int status, size_t n, void *arg)
{
    streamer *st = arg;
    if (status == SL_EOF)
        return;
    if (status != 0) {
        st->errors++;
        return;
    }
    st->sum_received = fnv(st->sum_received, (unsigned char *)st->rbuf, n);
    st->received += n;
    st->reads++;
    if (st->received < st->total) {
        struct iovec iov = {st->rbuf, sizeof st->rbuf};
        sl_socket_async_read(sock, &iov, 1, st_read, st);
    }
}

static void two_way_transfer(sl_scheduler *s, sl_socket *a, sl_socket *b, size_t total,
                             int threads)
{
    static streamer sa, sb;
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    sa.sock = a;
    sb.sock = b;
    sa.total = sb.total = total;
    sa.sum_sent = sa.sum_received = sb.sum_sent = sb.sum_received =
        1469598103934665603ull;
    struct iovec ia = {sa.rbuf, sizeof sa.rbuf}, ib = {sb.rbuf, sizeof sb.rbuf};
    assert_int_equal(sl_socket_async_read(a, &ia, 1, st_read, &sa), 0);
    assert_int_equal(sl_socket_async_read(b, &ib, 1, st_read, &sb), 0);
    st_write(&sa);
    st_write(&sb);
    run_thread extra;
    if (threads > 1)
        start_run_thread(&extra, s);
    size_t mine = sl_run(s);
    if (threads > 1) {
        join_run_thread(&extra, 60000);
        /* Both threads ran handlers: the second did not just return. */
        if (mine == 0 || extra.result == 0)
            fail_msg("handlers per thread: %zu and %zu", mine, extra.result);
    }
    assert_int_equal(sa.errors + sb.errors, 0);
    assert_int_equal(sa.sent, total);
    assert_int_equal(sb.received, total);
    assert_int_equal(sb.sent, total);
    assert_int_equal(sa.received, total);
    assert_true(sa.sum_sent == sb.sum_received);
    assert_true(sb.sum_sent == sa.sum_received);
    /* Partial transfers happened: more reads than full-buffer chunks. */
    assert_true(sa.reads > (int)(total / sizeof sa.rbuf));
}

void socket_transfer_64mib_both_ways_tcp_checksummed(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    tcp_pair tp;
    assert_true(make_tcp_pair(s, AF_INET, &tp));
    two_way_transfer(s, tp.client, tp.server, (size_t)test_scale(64L << 20), 2);
    sl_socket_close(tp.client);
    sl_socket_close(tp.server);
    sl_scheduler_destroy(s);
}

void socket_transfer_both_ways_unix_one_thread(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    two_way_transfer(s, pair[0], pair[1], (size_t)test_scale(16L << 20), 1);
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_scheduler_destroy(s);
}

/* ---- connect, accept ---------------------------------------------------- */

typedef struct status_box {
    int status;
    size_t bytes;
    int calls;
} status_box;

static void record_status(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)sock;
    status_box *b = arg;
    b->status = status;
    b->bytes = bytes;
    b->calls++;
}

void socket_connect_to_closed_port_is_refused(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    struct sockaddr_storage addr;
    socklen_t len;
    sl_socket *l = tcp_listener(s, AF_INET, &addr, &len);
    sl_socket_close(l); /* the port is now closed */
    sl_socket *c;
    assert_int_equal(sl_socket_open(s, AF_INET, SOCK_STREAM, 0, &c), 0);
    status_box b = {.status = 999};
    assert_int_equal(
        sl_socket_async_connect(c, (struct sockaddr *)&addr, len, record_status, &b), 0);
    sl_run(s);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.status, -ECONNREFUSED);
    sl_socket_close(c);
    sl_scheduler_destroy(s);
}

typedef struct acceptor {
    sl_socket *listener;
    sl_socket *accepted[100];
    int n, errors, want;
} acceptor;

static void accept_many(sl_socket *l, int status, sl_socket *sock, void *arg)
{
    acceptor *a = arg;
    if (status != 0) {
        a->errors++;
        return;
    }
    a->accepted[a->n++] = sock;
    if (a->n < a->want)
        sl_socket_async_accept(l, accept_many, a);
}

void socket_accept_100_connections(void **state)
{
    (void)state;
    enum { N = 100 };
    sl_scheduler *s = new_sched();
    struct sockaddr_storage addr;
    socklen_t len;
    static acceptor a;
    memset(&a, 0, sizeof a);
    a.want = N;
    a.listener = tcp_listener(s, AF_INET, &addr, &len);
    assert_int_equal(sl_socket_async_accept(a.listener, accept_many, &a), 0);
    sl_socket *clients[N];
    status_box boxes[N];
    for (int i = 0; i < N; ++i) {
        boxes[i] = (status_box){.status = 999};
        assert_int_equal(sl_socket_open(s, AF_INET, SOCK_STREAM, 0, &clients[i]), 0);
        assert_int_equal(sl_socket_async_connect(clients[i], (struct sockaddr *)&addr,
                                                 len, record_status, &boxes[i]),
                         0);
    }
    sl_run(s);
    assert_int_equal(a.errors, 0);
    assert_int_equal(a.n, N);
    for (int i = 0; i < N; ++i) {
        assert_int_equal(boxes[i].status, 0);
        sl_socket_close(clients[i]);
        sl_socket_close(a.accepted[i]);
    }
    sl_socket_close(a.listener);
    sl_scheduler_destroy(s);
}

/* ---- end of stream, EPIPE ----------------------------------------------- */

void socket_read_after_peer_close_gives_eof(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    char buf[16];
    struct iovec iov = {buf, sizeof buf};
    status_box parked = {.status = 999}, spec = {.status = 999};
    /* A read parked before the close, then one started after it. */
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, record_status, &parked), 0);
    sl_socket_close(pair[1]);
    sl_run(s);
    assert_int_equal(parked.calls, 1);
    assert_int_equal(parked.status, SL_EOF);
    sl_restart(s);
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, record_status, &spec), 0);
    sl_run(s);
    assert_int_equal(spec.status, SL_EOF);
    /* An empty buffer reads 0 bytes but is not end of stream. */
    status_box empty = {.status = 999};
    sl_restart(s);
    struct iovec none = {buf, 0};
    assert_int_equal(sl_socket_async_read(pair[0], &none, 1, record_status, &empty), 0);
    sl_run(s);
    assert_int_equal(empty.status, 0);
    assert_int_equal(empty.bytes, 0);
    sl_socket_close(pair[0]);
    sl_scheduler_destroy(s);
}

typedef struct pipe_writer {
    sl_socket *sock;
    char buf[4096];
    int status;
    long writes;
} pipe_writer;

static void keep_writing(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)n;
    pipe_writer *w = arg;
    if (status != 0 || w->writes > 100000) {
        w->status = status;
        return;
    }
    w->writes++;
    struct iovec iov = {w->buf, sizeof w->buf};
    sl_socket_async_write(sock, &iov, 1, keep_writing, w);
}

void socket_write_after_peer_close_gives_epipe_not_sigpipe(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    struct sigaction old, dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL; /* a SIGPIPE would now kill the suite */
    sigaction(SIGPIPE, &dfl, &old);
    tcp_pair tp;
    assert_true(make_tcp_pair(s, AF_INET, &tp));
    sl_socket_close(tp.server);
    pipe_writer w = {.sock = tp.client, .status = 999};
    keep_writing(tp.client, 0, 0, &w);
    sl_run(s);
    sigaction(SIGPIPE, &old, NULL);
    assert_true(w.status == -EPIPE || w.status == -ECONNRESET);
    sl_socket_close(tp.client);
    sl_scheduler_destroy(s);
}

/* ---- cancel and close with operations pending --------------------------- */

void socket_cancel_pending_read(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    status_box b = {.status = 999};
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, record_status, &b), 0);
    /* A second read while one is pending is refused, nothing started. */
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, record_status, &b), -EBUSY);
    assert_int_equal(b.calls, 0);
    sl_socket_cancel(pair[0]);
    sl_restart(s);
    sl_run(s);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.status, SL_ECANCELED);
    /* The socket still works after a cancel. */
    status_box c = {.status = 999};
    assert_int_equal(write(sl_socket_fd(pair[1]), "hi", 2), 2);
    sl_restart(s);
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, record_status, &c), 0);
    sl_run(s);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.bytes, 2);
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_scheduler_destroy(s);
}

/* A cancel that runs while a read is between its speculative attempt
 * (EAGAIN) and its parking reaches it: the read completes cancelled, it is
 * not left parked.  The speculative readv is slowed (fault_delay) and the
 * cancel is made from another thread inside that window. */
typedef struct late_cancel {
    pthread_t tid;
    sl_socket *sock;
    long readv_before;
} late_cancel;

static void *late_cancel_main(void *arg)
{
    late_cancel *c = arg;
    uint64_t t0 = sl_now_ns();
    while (fault_calls("readv") == c->readv_before && elapsed_ms_since(t0) < 5000)
        sched_yield();
    sleep_ms(20); /* the readv has returned EAGAIN; the delay holds the op */
    sl_socket_cancel(c->sock);
    return NULL;
}

void socket_cancel_reaches_read_not_yet_parked(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    status_box b = {.status = 999};
    late_cancel c = {.sock = pair[0], .readv_before = fault_calls("readv")};
    fault_delay("readv", sl_socket_fd(pair[0]), 1, 200000);
    assert_int_equal(pthread_create(&c.tid, NULL, late_cancel_main, &c), 0);
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, record_status, &b), 0);
    pthread_join(c.tid, NULL);
    fault_clear();
    sl_wait_one(s, 500000);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.status, SL_ECANCELED);
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_restart(s);
    sl_run(s);
    assert_int_equal(b.calls, 1);
    sl_scheduler_destroy(s);
}

/* The same window, with data arriving in it (cached as a read edge by a
 * thread running the scheduler) and the read made on that edge failing:
 * the cancel came first, so the read reports SL_ECANCELED, not the error. */
typedef struct late_cancel_data {
    pthread_t tid;
    sl_socket *sock;
    int peer_fd;
    long readv_before;
} late_cancel_data;

static void *late_cancel_data_main(void *arg)
{
    late_cancel_data *c = arg;
    uint64_t t0 = sl_now_ns();
    while (fault_calls("readv") == c->readv_before && elapsed_ms_since(t0) < 5000)
        sched_yield();
    sleep_ms(10);
    ssize_t r = write(c->peer_fd, "x", 1);
    (void)r;
    sleep_ms(60); /* the runner caches the edge: no read is parked yet */
    sl_socket_cancel(c->sock);
    return NULL;
}

void socket_cancelled_read_keeps_cancelled_status_over_error(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    sl_work_started(s);
    run_thread r;
    start_run_thread(&r, s);
    sleep_ms(20);
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    status_box b = {.status = 999};
    int fd = sl_socket_fd(pair[0]);
    late_cancel_data c = {.sock = pair[0],
                          .peer_fd = sl_socket_fd(pair[1]),
                          .readv_before = fault_calls("readv")};
    fault_delay("readv", fd, 1, 300000);
    fault_arm_fd("readv", fd, 2, EIO);
    assert_int_equal(pthread_create(&c.tid, NULL, late_cancel_data_main, &c), 0);
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, record_status, &b), 0);
    pthread_join(c.tid, NULL);
    long failed = fault_injected("readv");
    fault_clear();
    sl_work_finished(s); /* run returns once the read's completion has run */
    join_run_thread(&r, 5000);
    /* Whether or not the cached edge was read (and failed) before the
     * cancel was seen, the read was pending when cancelled. */
    assert_true(failed <= 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.status, SL_ECANCELED);
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_scheduler_destroy(s);
}

/* Data that arrives while a read is between its speculative attempt
 * (EAGAIN) and its parking: the edge (edge-triggered, reported once) is
 * cached by the thread that runs the descriptor, and the read consumes it
 * as it parks, completing with the data instead of waiting for more. */
static void *late_data_main(void *arg)
{
    late_cancel_data *c = arg;
    uint64_t t0 = sl_now_ns();
    while (fault_calls("readv") == c->readv_before && elapsed_ms_since(t0) < 5000)
        sched_yield();
    sleep_ms(10);
    ssize_t r = write(c->peer_fd, "late", 4);
    (void)r;
    return NULL;
}

void socket_data_arriving_while_read_parks_is_not_lost(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    sl_work_started(s);
    run_thread r;
    start_run_thread(&r, s);
    sleep_ms(20);
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    status_box b = {.status = 999};
    late_cancel_data c = {.peer_fd = sl_socket_fd(pair[1]),
                          .readv_before = fault_calls("readv")};
    fault_delay("readv", sl_socket_fd(pair[0]), 1, 150000);
    assert_int_equal(pthread_create(&c.tid, NULL, late_data_main, &c), 0);
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, record_status, &b), 0);
    pthread_join(c.tid, NULL);
    fault_clear();
    sl_work_finished(s); /* run returns once the read has completed */
    uint64_t t0 = sl_now_ns();
    while (!run_thread_returned(&r) && elapsed_ms_since(t0) < 2000)
        sleep_ms(1);
    if (!run_thread_returned(&r)) {
        sl_socket_close(pair[0]); /* let run return: the read completes cancelled */
        join_run_thread(&r, 5000);
        fail_msg("data that arrived while the read parked was lost");
    }
    join_run_thread(&r, 5000);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.status, 0);
    assert_int_equal(b.bytes, 4);
    assert_memory_equal(buf, "late", 4);
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_scheduler_destroy(s);
}

void socket_close_with_read_and_write_pending(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    /* Fill the send buffer so the write parks. */
    static char big[1 << 16];
    while (write(sl_socket_fd(pair[0]), big, sizeof big) > 0)
        ;
    char buf[8];
    struct iovec r = {buf, sizeof buf}, w = {big, sizeof big};
    status_box rb = {.status = 999}, wb = {.status = 999};
    assert_int_equal(sl_socket_async_read(pair[0], &r, 1, record_status, &rb), 0);
    assert_int_equal(sl_socket_async_write(pair[0], &w, 1, record_status, &wb), 0);
    sl_socket_close(pair[0]);
    sl_run(s);
    assert_int_equal(rb.calls, 1);
    assert_int_equal(wb.calls, 1);
    assert_int_equal(rb.status, SL_ECANCELED);
    assert_int_equal(wb.status, SL_ECANCELED);
    sl_socket_close(pair[1]);
    int fds = count_open_fds();
    sl_scheduler_destroy(s);
    /* epoll, eventfd, timerfd; io_uring: the ring and its eventfd */
    assert_int_equal(count_open_fds(), fds - (backend_is_uring() ? 2 : 3));
}

/* ---- 200 sockets, 2 threads --------------------------------------------- */

typedef struct echo_pair {
    sl_socket *a, *b;
    char abuf[16], bbuf[32], in[16];
    size_t got;
    long left;
    atomic_int errors;
} echo_pair;

/* Strict alternation on each side (write, then read, then write ...), so
 * no side ever has two writes or two reads pending. */
static void ep_a_wrote(sl_socket *sock, int status, size_t n, void *arg);
static void ep_a_read(sl_socket *sock, int status, size_t n, void *arg);
static void ep_b_read(sl_socket *sock, int status, size_t n, void *arg);

static void ep_fail(echo_pair *e)
{
    atomic_fetch_add(&e->errors, 1);
}

static void ep_b_wrote(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)n;
    echo_pair *e = arg;
    if (status != 0)
        return ep_fail(e);
    struct iovec r = {e->bbuf, sizeof e->bbuf};
    if (sl_socket_async_read(sock, &r, 1, ep_b_read, e) != 0)
        ep_fail(e);
}

static void ep_b_read(sl_socket *sock, int status, size_t n, void *arg)
{
    echo_pair *e = arg;
    if (status == SL_EOF)
        return; /* a is done */
    if (status != 0)
        return ep_fail(e);
    struct iovec w = {e->bbuf, n};
    if (sl_socket_async_write(sock, &w, 1, ep_b_wrote, e) != 0)
        ep_fail(e);
}

static void ep_send(echo_pair *e)
{
    memset(e->abuf, (int)('a' + e->left % 26), sizeof e->abuf);
    e->got = 0;
    struct iovec w = {e->abuf, sizeof e->abuf};
    if (sl_socket_async_write(e->a, &w, 1, ep_a_wrote, e) != 0)
        ep_fail(e);
}

static void ep_a_wrote(sl_socket *sock, int status, size_t n, void *arg)
{
    echo_pair *e = arg;
    if (status != 0 || n != sizeof e->abuf)
        return ep_fail(e);
    struct iovec r = {e->in, sizeof e->in};
    if (sl_socket_async_read(sock, &r, 1, ep_a_read, e) != 0)
        ep_fail(e);
}

static void ep_a_read(sl_socket *sock, int status, size_t n, void *arg)
{
    echo_pair *e = arg;
    if (status != 0)
        return ep_fail(e);
    e->got += n;
    if (e->got < sizeof e->in) { /* a partial echo: read the rest */
        struct iovec r = {e->in + e->got, sizeof e->in - e->got};
        if (sl_socket_async_read(sock, &r, 1, ep_a_read, e) != 0)
            ep_fail(e);
        return;
    }
    if (memcmp(e->in, e->abuf, sizeof e->in) != 0)
        return ep_fail(e);
    if (--e->left > 0)
        ep_send(e);
    else
        sl_socket_shutdown(e->a, SHUT_WR); /* b's read sees EOF, the pair ends */
}

void socket_200_sockets_driven_by_2_threads(void **state)
{
    (void)state;
    enum { PAIRS = 100 };
    sl_scheduler *s = new_sched();
    static echo_pair pairs[PAIRS];
    /* At least 20 rounds (8000 handlers) under the sanitizers' scaling:
     * fewer finish within one time slice of a loaded machine. */
    long rounds = test_scale(200) < 20 ? 20 : test_scale(200);
    /* The second thread waits in the scheduler before any work exists, so
     * its share does not depend on when the OS first runs it; a posted op
     * drops the guard that kept it there. */
    sl_work_started(s);
    run_thread t2;
    start_run_thread(&t2, s);
    sleep_ms(20);
    for (int i = 0; i < PAIRS; ++i) {
        sl_socket *p[2];
        memset(&pairs[i], 0, sizeof pairs[i]);
        assert_int_equal(sl_socket_pair(s, p), 0);
        pairs[i].a = p[0];
        pairs[i].b = p[1];
        pairs[i].left = rounds;
        struct iovec r = {pairs[i].bbuf, sizeof pairs[i].bbuf};
        assert_int_equal(sl_socket_async_read(p[1], &r, 1, ep_b_read, &pairs[i]), 0);
        ep_send(&pairs[i]);
    }
    finish_op guard;
    finish_op_init(&guard, s);
    sl_post(s, &guard.op);
    size_t mine = sl_run(s);
    join_run_thread(&t2, 60000);
    /* Both threads took part: neither was left asleep while the other ran
     * everything.  How the work splits is the OS's as much as the
     * scheduler's (2 loaded cores gave 41 of 8100 to one thread under
     * ASan), so no share is asserted beyond a handler each. */
    if (mine == 0 || t2.result == 0)
        fail_msg("handlers per thread: %zu and %zu", mine, t2.result);
    for (int i = 0; i < PAIRS; ++i) {
        assert_int_equal(atomic_load(&pairs[i].errors), 0);
        assert_int_equal(pairs[i].left, 0);
        sl_socket_close(pairs[i].a);
        sl_socket_close(pairs[i].b);
    }
    sl_scheduler_destroy(s);
}

/* ---- a million always-ready reads: the stack stays flat ----------------- */

typedef struct eof_chain {
    long left;
    int bad;
    char buf[4];
    uintptr_t lo, hi; /* the handler's frame addresses, lowest and highest */
} eof_chain;

static void eof_again(sl_socket *sock, int status, size_t n, void *arg)
{
    (void)n;
    eof_chain *c = arg;
    uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
    if (frame < c->lo)
        c->lo = frame;
    if (frame > c->hi)
        c->hi = frame;
    if (status != SL_EOF)
        c->bad++;
    if (--c->left > 0) {
        struct iovec iov = {c->buf, sizeof c->buf};
        if (sl_socket_async_read(sock, &iov, 1, eof_again, c) != 0)
            c->bad++;
    }
}

void socket_million_ready_reads_do_not_grow_the_stack(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    sl_socket_close(pair[1]); /* every read now completes at once: EOF */
    static eof_chain c;
    c.left = test_scale(1000000);
    c.bad = 0;
    c.lo = UINTPTR_MAX;
    c.hi = 0;
    struct iovec iov = {c.buf, sizeof c.buf};
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, eof_again, &c), 0);
    sl_run(s);
    assert_int_equal(c.left, 0);
    assert_int_equal(c.bad, 0);
    /* Every completion, inline or taken from the queue, ran its handler at
     * the same depth: recursion of even a budget's worth (16 frames of
     * completion, handler and initiation) would spread them by kilobytes. */
    if (c.hi - c.lo >= 512)
        fail_msg("handlers ran %lu bytes of stack apart", (unsigned long)(c.hi - c.lo));
    sl_stats st;
    sl_stats_read(s, &st);
    sl_socket_close(pair[0]);
    sl_scheduler_destroy(s);
    if (!HAVE_STATS())
        skip(); /* the inline count needs the counters */
    if (variant_is("no-inline-budget"))
        assert_int_equal(st.inline_completions, 0);
    else
        assert_true(st.inline_completions > 0);
}

/* ---- bad input ----------------------------------------------------------- */

void socket_bad_input_is_refused_and_loses_nothing(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *sock = (sl_socket *)0x1;
    int fds = count_open_fds();
    /* Not a socket. */
    int fd = open("/dev/null", O_RDONLY);
    assert_int_equal(sl_socket_adopt(s, fd, &sock), -ENOTSOCK);
    assert_null(sock);
    close(fd);
    /* A closed descriptor. */
    assert_int_equal(sl_socket_adopt(s, 1000000, &sock), -EBADF);
    /* A datagram socket is not a stream. */
    assert_int_equal(sl_socket_open(s, AF_INET, SOCK_DGRAM, 0, &sock), -EINVAL);
    int ufd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(sl_socket_adopt(s, ufd, &sock), -EINVAL);
    close(ufd);
    /* An unknown family. */
    assert_true(sl_socket_open(s, 12345, SOCK_STREAM, 0, &sock) < 0);
    assert_int_equal(count_open_fds(), fds);
    /* Too many iovecs, bad shutdown mode, no handler. */
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    struct iovec iov[SL_MAX_IOV + 1];
    char b;
    for (int i = 0; i <= SL_MAX_IOV; ++i)
        iov[i] = (struct iovec){&b, 1};
    status_box box = {0};
    assert_int_equal(
        sl_socket_async_read(pair[0], iov, SL_MAX_IOV + 1, record_status, &box), -EINVAL);
    assert_int_equal(sl_socket_async_write(pair[0], iov, 1, NULL, NULL), -EINVAL);
    assert_int_equal(sl_socket_shutdown(pair[0], 42), -EINVAL);
    /* The refused calls left the socket usable. */
    assert_int_equal(write(sl_socket_fd(pair[1]), "z", 1), 1);
    assert_int_equal(sl_socket_async_read(pair[0], iov, 1, record_status, &box), 0);
    sl_run(s);
    assert_int_equal(box.calls, 1);
    assert_int_equal(box.status, 0);
    assert_int_equal(box.bytes, 1);
    sl_socket_close(pair[0]);
    sl_socket_close(pair[1]);
    sl_scheduler_destroy(s);
}

/* Shutdown with operations still queued runs none of their handlers. */
void socket_scheduler_destroy_with_pending_ops_runs_no_handler(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_socket *pair[2];
    assert_int_equal(sl_socket_pair(s, pair), 0);
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    status_box b = {.status = 999};
    assert_int_equal(sl_socket_async_read(pair[0], &iov, 1, record_status, &b), 0);
    sl_scheduler_destroy(s); /* closes both sockets, destroys the ops */
    assert_int_equal(b.calls, 0);
}
