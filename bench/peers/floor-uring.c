/*
 * floor-uring.c: the io_uring floor, beside floor.c's syscall floor: the
 * socket and timer workloads done as raw io_uring operations with no event
 * loop around them, so that a loop's figure can be read against what the
 * other kernel interface costs at its least.  Idiom: liburing (2.3,
 * liburing-dev), one ring, one submission and one completion per step:
 * get an SQE, prep it, io_uring_submit_and_wait(ring, 1) (one
 * io_uring_enter that submits and waits), read the CQE, mark it seen.  No
 * batching, no linked SQEs, no registered buffers or files, no multishot,
 * no SQPOLL: each step is what a loop built on io_uring pays per operation
 * at the least, as floor.c's steps are for epoll loops.
 *
 * Ring setup: 8 entries, flags IORING_SETUP_SINGLE_ISSUER |
 * IORING_SETUP_DEFER_TASKRUN (kernel 6.1+: completions are run only when
 * the one submitting thread waits, the cheapest mode for a single thread);
 * where the kernel refuses them, flags 0 (said on stderr).
 *
 *   pingpong_tcp / pingpong_unix: one thread, the two ends of one
 *       connection (blocking sockets, TCP_NODELAY): send / recv / send /
 *       recv, each a step, partial transfers re-issued.  Op: a round trip.
 *   throughput_oneway: as floor.c's loop, each syscall replaced by a step:
 *       one send per chunk until 64 KiB are unread, then one recv into
 *       64 KiB.  Op: bytes.
 *   throughput_twoway: the same in both directions of one connection, in
 *       turn: each end sends until 64 KiB of its direction are unread, then
 *       each end receives once.  Op: bytes received, both ways together.
 *   timer_fire: an IORING_OP_TIMEOUT of 0 ns (relative, count 0), its
 *       -ETIME completion waited for, again.  Op: a fire.  Unlike floor.c's
 *       timer (a heap, no kernel), this goes through the kernel's hrtimer:
 *       it is the floor of a timer on an io_uring loop, not of a heap.
 *
 * liburing's own examples (io_uring-echo-server, io_uring-test) keep many
 * operations in flight and batch their submissions; here one operation at a
 * time is in flight, as in the ping-pong and stream workloads of every
 * peer, so the figure is per operation, not per batch.
 *
 * Every workload stops by itself when its time (-t) is up.
 */
#define _GNU_SOURCE
#include "histogram.h"
#include "cli.h"
#include "sockets.h"

#include <liburing.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define IMPL "floor-uring"
#define READ_BUF_SIZE PEER_READ_BUF_SIZE

static struct io_uring g_ring;

static void ring_init(void)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int rc = io_uring_queue_init_params(8, &g_ring, &p);
    if (rc == -EINVAL) {
        fprintf(stderr, "bench-floor-uring: SINGLE_ISSUER|DEFER_TASKRUN refused, flags 0\n");
        memset(&p, 0, sizeof p);
        rc = io_uring_queue_init_params(8, &g_ring, &p);
    }
    if (rc < 0) {
        errno = -rc;
        peer_die("io_uring_queue_init_params");
    }
}

/* Submits the prepared SQE, waits for its completion; returns its res. */
static int step_wait(void)
{
    struct io_uring_cqe *cqe;
    int rc = io_uring_submit_and_wait(&g_ring, 1);
    if (rc < 0) {
        errno = -rc;
        peer_die("io_uring_submit_and_wait");
    }
    rc = io_uring_peek_cqe(&g_ring, &cqe);
    if (rc < 0) {
        errno = -rc;
        peer_die("io_uring_peek_cqe");
    }
    int res = cqe->res;
    io_uring_cqe_seen(&g_ring, cqe);
    return res;
}

static struct io_uring_sqe *sqe_get(void)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&g_ring);
    if (!sqe) {
        errno = EBUSY;
        peer_die("io_uring_get_sqe");
    }
    return sqe;
}

static int step_send(int fd, const void *buf, size_t n, int flags)
{
    io_uring_prep_send(sqe_get(), fd, buf, n, flags | MSG_NOSIGNAL);
    return step_wait();
}

static int step_recv(int fd, void *buf, size_t n)
{
    io_uring_prep_recv(sqe_get(), fd, buf, n, 0);
    return step_wait();
}

static void send_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        int r = step_send(fd, buf, n, 0);
        if (r < 0) {
            errno = -r;
            peer_die("send");
        }
        buf += r;
        n -= (size_t)r;
    }
}

static void recv_all(int fd, char *buf, size_t n)
{
    while (n > 0) {
        int r = step_recv(fd, buf, n);
        if (r <= 0) {
            errno = r < 0 ? -r : EPIPE;
            peer_die("recv");
        }
        buf += r;
        n -= (size_t)r;
    }
}

/* pingpong_tcp / pingpong_unix (arg: 1 for TCP). */
static int w_pingpong(const peer_workload *w, long bytes)
{
    int fds[2];
    if (w->arg)
        peer_tcp_pair(fds, true);
    else
        peer_unix_pair(fds);
    ring_init();
    int cfd = fds[0], sfd = fds[1];
    static char cbuf[READ_BUF_SIZE], sbuf[READ_BUF_SIZE];
    static peer_hist hist;
    peer_hist_reset(&hist);
    memset(cbuf, 'P', sizeof cbuf);
    size_t n = (size_t)bytes;

    uint64_t deadline = peer_now_ns() + peer_duration_ns;
    for (;;) {
        uint64_t t0 = peer_now_ns();
        send_all(cfd, cbuf, n);
        recv_all(sfd, sbuf, n);
        send_all(sfd, sbuf, n);
        recv_all(cfd, cbuf, n);
        uint64_t t1 = peer_now_ns();
        peer_hist_record(&hist, t1 - t0);
        if (t1 >= deadline)
            break;
    }
    io_uring_queue_exit(&g_ring);
    close(cfd);
    close(sfd);
    peer_hist_print_rtt(&hist, w->name, IMPL, bytes);
    return 0;
}

/* One direction of a stream: its writer's end, its reader's end, and what
 * has been written and read. */
typedef struct direction {
    int wfd, rfd;
    uint64_t written, total;
    size_t off;
} direction;

/* Sends (one step per chunk, MSG_DONTWAIT so a full socket says so rather
 * than waiting) until 64 KiB are unread. */
static void fill(direction *d, const char *wbuf, size_t n)
{
    while (d->written - d->total < READ_BUF_SIZE) {
        int r = step_send(d->wfd, wbuf + d->off, n - d->off, MSG_DONTWAIT);
        if (r < 0) {
            if (r == -EAGAIN || r == -EINTR)
                break;
            errno = -r;
            peer_die("send");
        }
        d->written += (uint64_t)r;
        d->off += (size_t)r;
        if (d->off == n)
            d->off = 0;
    }
}

static void drain(direction *d, char *rbuf)
{
    int r = step_recv(d->rfd, rbuf, READ_BUF_SIZE);
    if (r <= 0) {
        errno = r < 0 ? -r : EPIPE;
        peer_die("recv");
    }
    d->total += (uint64_t)r;
}

/* throughput_oneway / throughput_twoway (arg: 1 for two ways). */
static int w_throughput(const peer_workload *w, long chunk)
{
    int fds[2];
    peer_tcp_pair(fds, true);
    ring_init();
    size_t n = (size_t)chunk;
    char *wbuf = malloc(n);
    static char rbuf[READ_BUF_SIZE];
    if (!wbuf)
        peer_die("malloc");
    memset(wbuf, 'x', n);
    direction dirs[2] = {{fds[0], fds[1], 0, 0, 0}, {fds[1], fds[0], 0, 0, 0}};
    int ndirs = w->arg ? 2 : 1;

    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    uint64_t now;
    for (;;) {
        for (int i = 0; i < ndirs; i++)
            fill(&dirs[i], wbuf, n);
        for (int i = 0; i < ndirs; i++)
            drain(&dirs[i], rbuf);
        now = peer_now_ns();
        if (now >= deadline)
            break;
    }
    io_uring_queue_exit(&g_ring);
    close(fds[0]);
    close(fds[1]);
    free(wbuf);

    uint64_t total = dirs[0].total + (ndirs == 2 ? dirs[1].total : 0);
    peer_print_result(w->name, IMPL, chunk, "bytes_per_s", "B/s",
                      (double)total / peer_seconds_since(start, now), 0);
    return 0;
}

static int w_timer_fire(const peer_workload *w, long param)
{
    (void)param;
    ring_init();
    struct __kernel_timespec ts = {0, 0};
    uint64_t count = 0;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    uint64_t now = start;
    for (;;) {
        io_uring_prep_timeout(sqe_get(), &ts, 0, 0);
        int r = step_wait();
        if (r != -ETIME && r != 0) {
            errno = -r;
            peer_die("timeout");
        }
        if ((++count & 1023u) == 0) {
            now = peer_now_ns();
            if (now >= deadline)
                break;
        }
    }
    io_uring_queue_exit(&g_ring);
    peer_print_rate(w->name, IMPL, 0, count, start, now);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Command line.
 */
#define NO_LOOP "the io_uring floor has socket and timer steps only (floor.c has the queue floors)"

static const peer_workload g_workloads[] = {
    {"post_single", NULL, 0, NO_LOOP},
    {"post_interleaved", NULL, 0, NO_LOOP},
    {"post_chain", NULL, 0, NO_LOOP},
    {"post_cross_thread", NULL, 0, NO_LOOP},
    {"post_threads", NULL, 0, NO_LOOP},
    {"pingpong_tcp", w_pingpong, 1, NULL},
    {"pingpong_unix", w_pingpong, 0, NULL},
    {"throughput_oneway", w_throughput, 0, NULL},
    {"throughput_twoway", w_throughput, 1, NULL},
    {"timer_fire", w_timer_fire, 0, NULL},
};

int main(int argc, char **argv)
{
    return peer_main(argc, argv, IMPL, g_workloads,
                     sizeof g_workloads / sizeof g_workloads[0]);
}
