/*
 * floor.c: the floors, each schedlab workload done with no event loop at
 * all, so that a loop's figure can be read as "floor + what the loop costs".
 * Idiom: raw syscalls and plain data structures, the least a program must do.
 *
 *   post_single, post_interleaved, post_chain: a bare intrusive FIFO of
 *       preallocated nodes: push, pop, call through a function pointer.
 *   post_cross_thread: a lock-free single-producer single-consumer ring;
 *       the consumer spins while it is empty (no lock, no sleep, no wake-up).
 *       A mutex + condvar queue was tried first and lost to libuv's
 *       uv_async_send: the consumer slept after every batch and each
 *       wake-up cost the producer a futex call.
 *   post_threads: a mutex-protected ring, one item per lock on both sides
 *       (many consumers need the lock); N runner threads spin on it while
 *       the feeder feeds, as Asio's poll + restart loop does.
 *   pingpong_tcp / pingpong_unix: one thread, blocking sockets,
 *       write / read / write / read on the two ends of one connection.
 *   throughput_oneway: one thread, non-blocking sockets and no poll: one
 *       write per chunk until 64 KiB are unread, then one read into 64 KiB.
 *       (A blocking writer thread plus a blocking reader was tried first: on
 *       a 2-vCPU VM it lost to the one-thread loops, the cross-core wake-ups
 *       costing more than the loop.)
 *   throughput_twoway: the same loop both ways on one connection, in turn.
 *   timer_schedule_cancel / timer_fire: a plain binary min-heap with a cached
 *       clock (read about once per 1000 operations); bookkeeping only, no
 *       kernel.
 *
 * Every workload stops by itself when its time (-t) is up.
 */
#define _GNU_SOURCE
#include "histogram.h"
#include "cli.h"
#include "sockets.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define IMPL "floor"
#define READ_BUF_SIZE PEER_READ_BUF_SIZE

#define NOINLINE __attribute__((noinline))

/* ---------------------------------------------------------------------------
 * Intrusive FIFO: the floor of any post.
 */
typedef struct floor_node floor_node;
struct floor_node {
    floor_node *next;
    void (*fn)(floor_node *);
};

typedef struct floor_queue {
    floor_node *head;
    floor_node **tailp;
} floor_queue;

static inline void floor_queue_init(floor_queue *q)
{
    q->head = NULL;
    q->tailp = &q->head;
}

static inline void floor_queue_push(floor_queue *q, floor_node *n)
{
    n->next = NULL;
    *q->tailp = n;
    q->tailp = &n->next;
}

static inline floor_node *floor_queue_pop(floor_queue *q)
{
    floor_node *n = q->head;
    if (n) {
        q->head = n->next;
        if (!q->head)
            q->tailp = &q->head;
    }
    return n;
}

static uint64_t g_post_count;

static NOINLINE void count_handler(floor_node *n)
{
    (void)n;
    g_post_count++;
}

/* post_single / post_interleaved (arg: the batch): push a batch, then pop
 * and call until empty. */
static int w_post_batches(const peer_workload *w, long param)
{
    (void)param;
    int batch = (int)w->arg;
    static floor_node nodes[1000];
    floor_queue q;
    floor_queue_init(&q);
    for (int i = 0; i < batch; i++)
        nodes[i].fn = count_handler;
    g_post_count = 0;

    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    uint64_t now;
    do {
        for (int i = 0; i < batch; i++)
            floor_queue_push(&q, &nodes[i]);
        floor_node *n;
        while ((n = floor_queue_pop(&q)))
            n->fn(n);
        now = peer_now_ns();
    } while (now < deadline);

    peer_print_rate(w->name, IMPL, 0, g_post_count, start, now);
    return 0;
}

/* post_chain: K nodes, each handler pushes its own node back. */
static floor_queue g_chain_queue;
static uint64_t g_chain_deadline;
static bool g_chain_stopping;

static NOINLINE void chain_handler(floor_node *n)
{
    if ((++g_post_count & 1023u) == 0 && peer_now_ns() >= g_chain_deadline)
        g_chain_stopping = true;
    if (!g_chain_stopping)
        floor_queue_push(&g_chain_queue, n);
}

static int w_post_chain(const peer_workload *w, long chains)
{
    floor_node *nodes = calloc((size_t)chains, sizeof *nodes);
    if (!nodes)
        peer_die("calloc");
    floor_queue_init(&g_chain_queue);
    g_post_count = 0;
    g_chain_stopping = false;

    uint64_t start = peer_now_ns();
    g_chain_deadline = start + peer_duration_ns;
    for (long i = 0; i < chains; i++) {
        nodes[i].fn = chain_handler;
        floor_queue_push(&g_chain_queue, &nodes[i]);
    }
    floor_node *n;
    while ((n = floor_queue_pop(&g_chain_queue)))
        n->fn(n);
    uint64_t end = peer_now_ns();

    peer_print_rate(w->name, IMPL, chains, g_post_count, start, end);
    free(nodes);
    return 0;
}

/* ---------------------------------------------------------------------------
 * post_cross_thread: producer thread -> lock-free single-producer,
 * single-consumer ring -> one consumer that spins while the ring is empty.
 * No lock and no sleep/wake: the cost of moving a handler between cores.
 */
#define XT_CAP 65536u /* most posts in flight; the producer waits beyond it */

typedef struct xt_item {
    void (*fn)(void *);
    void *arg;
} xt_item;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static struct {
    _Alignas(64) atomic_uint_fast64_t tail; /* written by the producer */
    _Alignas(64) atomic_uint_fast64_t head; /* written by the consumer */
    _Alignas(64) atomic_bool closed;
    uint64_t deadline;
    xt_item ring[XT_CAP];
} g_xt;

static NOINLINE void xt_handler(void *arg)
{
    (*(uint64_t *)arg)++;
}

static uint64_t g_xt_executed;

static void *xt_producer(void *unused)
{
    (void)unused;
    xt_item item = {xt_handler, &g_xt_executed};
    uint64_t tail = 0, head = 0;
    for (;;) {
        if ((tail & 63u) == 63u && peer_now_ns() >= g_xt.deadline)
            break;
        while (tail - head >= XT_CAP) {
            head = atomic_load_explicit(&g_xt.head, memory_order_acquire);
            if (tail - head >= XT_CAP)
                sched_yield();
        }
        g_xt.ring[tail % XT_CAP] = item;
        atomic_store_explicit(&g_xt.tail, ++tail, memory_order_release);
    }
    atomic_store_explicit(&g_xt.closed, true, memory_order_release);
    return NULL;
}

static int w_post_cross_thread(const peer_workload *w, long param)
{
    (void)param;
    g_xt_executed = 0;
    atomic_store(&g_xt.head, 0);
    atomic_store(&g_xt.tail, 0);
    atomic_store(&g_xt.closed, false);
    uint64_t start = peer_now_ns();
    g_xt.deadline = start + peer_duration_ns;
    pthread_t producer;
    if ((errno = pthread_create(&producer, NULL, xt_producer, NULL)))
        peer_die("pthread_create");

    uint64_t head = 0;
    unsigned idle = 0;
    for (;;) {
        uint64_t tail = atomic_load_explicit(&g_xt.tail, memory_order_acquire);
        if (tail == head) {
            if (atomic_load_explicit(&g_xt.closed, memory_order_acquire) &&
                atomic_load_explicit(&g_xt.tail, memory_order_acquire) == head)
                break;
            /* Give the core away now and then, in case the producer shares it. */
            if ((++idle & 1023u) == 0)
                sched_yield();
            else
                cpu_relax();
            continue;
        }
        for (; head != tail; head++) {
            xt_item *it = &g_xt.ring[head % XT_CAP];
            it->fn(it->arg);
        }
        atomic_store_explicit(&g_xt.head, head, memory_order_release);
    }
    uint64_t end = peer_now_ns();
    pthread_join(producer, NULL);

    peer_print_rate(w->name, IMPL, 0, g_xt_executed, start, end);
    return 0;
}

/* ---------------------------------------------------------------------------
 * post_threads: feeder thread -> mutex ring -> N spinning runner threads.
 */
#define PT_BATCH 100000u
#define PT_RING (1u << 18) /* > 2 batches, the most the feeder lets pile up */

static struct {
    pthread_mutex_t mu;
    uint64_t head;
    uint64_t tail;
    uint64_t deadline;
    xt_item ring[PT_RING];
} g_pt = {.mu = PTHREAD_MUTEX_INITIALIZER};

static atomic_uint_fast64_t g_pt_executed;
static atomic_bool g_pt_feeding;

static NOINLINE void pt_handler(void *arg)
{
    (void)arg;
    atomic_fetch_add_explicit(&g_pt_executed, 1, memory_order_relaxed);
}

static void *pt_feeder(void *unused)
{
    (void)unused;
    xt_item item = {pt_handler, NULL};
    uint64_t posted = 0;
    do {
        for (unsigned i = 0; i < PT_BATCH; i++) {
            pthread_mutex_lock(&g_pt.mu);
            g_pt.ring[g_pt.tail % PT_RING] = item;
            g_pt.tail++;
            pthread_mutex_unlock(&g_pt.mu);
        }
        posted += PT_BATCH;
        /* Keep at most two batches queued, so memory stays bounded. */
        while (posted - atomic_load_explicit(&g_pt_executed, memory_order_relaxed) >
               PT_BATCH)
            sched_yield();
    } while (peer_now_ns() < g_pt.deadline);
    atomic_store_explicit(&g_pt_feeding, false, memory_order_release);
    return NULL;
}

static void *pt_runner(void *unused)
{
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&g_pt.mu);
        if (g_pt.head != g_pt.tail) {
            xt_item it = g_pt.ring[g_pt.head % PT_RING];
            g_pt.head++;
            pthread_mutex_unlock(&g_pt.mu);
            it.fn(it.arg);
            continue;
        }
        pthread_mutex_unlock(&g_pt.mu);
        if (!atomic_load_explicit(&g_pt_feeding, memory_order_acquire)) {
            pthread_mutex_lock(&g_pt.mu);
            bool empty = g_pt.head == g_pt.tail;
            pthread_mutex_unlock(&g_pt.mu);
            if (empty)
                return NULL;
        }
    }
}

static int w_post_threads(const peer_workload *w, long threads)
{
    pthread_t *runners = calloc((size_t)threads, sizeof *runners);
    if (!runners)
        peer_die("calloc");
    atomic_store(&g_pt_executed, 0);
    atomic_store(&g_pt_feeding, true);

    uint64_t start = peer_now_ns();
    g_pt.deadline = start + peer_duration_ns;
    pthread_t feeder;
    if ((errno = pthread_create(&feeder, NULL, pt_feeder, NULL)))
        peer_die("pthread_create");
    for (long i = 0; i < threads; i++)
        if ((errno = pthread_create(&runners[i], NULL, pt_runner, NULL)))
            peer_die("pthread_create");
    pthread_join(feeder, NULL);
    for (long i = 0; i < threads; i++)
        pthread_join(runners[i], NULL);
    uint64_t end = peer_now_ns();

    peer_print_rate(w->name, IMPL, threads, atomic_load(&g_pt_executed), start, end);
    free(runners);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Sockets.
 */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += r;
        n -= (size_t)r;
    }
    return 0;
}

static int read_all(int fd, char *buf, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, buf, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        buf += r;
        n -= (size_t)r;
    }
    return 0;
}

/* pingpong_tcp / pingpong_unix (arg: 1 for TCP). */
static int w_pingpong(const peer_workload *w, long bytes)
{
    int fds[2];
    if (w->arg)
        peer_tcp_pair(fds, true);
    else
        peer_unix_pair(fds);
    int cfd = fds[0], sfd = fds[1];
    static char cbuf[READ_BUF_SIZE], sbuf[READ_BUF_SIZE];
    static peer_hist hist;
    peer_hist_reset(&hist);
    memset(cbuf, 'P', sizeof cbuf);
    size_t n = (size_t)bytes;

    uint64_t deadline = peer_now_ns() + peer_duration_ns;
    for (;;) {
        uint64_t t0 = peer_now_ns();
        if (write_all(cfd, cbuf, n) < 0 || read_all(sfd, sbuf, n) < 0 ||
            write_all(sfd, sbuf, n) < 0 || read_all(cfd, cbuf, n) < 0)
            peer_die("ping-pong");
        uint64_t t1 = peer_now_ns();
        peer_hist_record(&hist, t1 - t0);
        if (t1 >= deadline)
            break;
    }
    close(cfd);
    close(sfd);
    peer_hist_print_rtt(&hist, w->name, IMPL, bytes);
    return 0;
}

/* One thread, non-blocking sockets, no poll, and the fewest syscalls the
 * pattern allows: one write per chunk (written whole, one after the other)
 * until 64 KiB are unread, then one read into the 64 KiB buffer. A loop must
 * make at least these. (Writing one chunk then reading once lost to libuv at
 * 1 KiB: libuv runs up to 9 write callbacks per loop turn, so its reader
 * gets several chunks per read.) No blocking write: with no other thread to
 * read, it could wait forever. */
static int w_throughput_oneway(const peer_workload *w, long chunk)
{
    int fds[2];
    peer_tcp_pair(fds, true);
    int wfd = fds[0], rfd = fds[1];
    peer_set_nonblocking(wfd);
    peer_set_nonblocking(rfd);
    size_t n = (size_t)chunk;
    char *wbuf = malloc(n);
    static char rbuf[READ_BUF_SIZE];
    if (!wbuf)
        peer_die("malloc");
    memset(wbuf, 'x', n);

    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    uint64_t now;
    uint64_t written = 0, total = 0;
    size_t off = 0;
    for (;;) {
        while (written - total < READ_BUF_SIZE) {
            ssize_t w = send(wfd, wbuf + off, n - off, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    break;
                peer_die("write");
            }
            written += (uint64_t)w;
            off += (size_t)w;
            if (off == n)
                off = 0;
        }
        ssize_t r = read(rfd, rbuf, sizeof rbuf);
        if (r > 0)
            total += (uint64_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EINTR))
            peer_die("read");
        now = peer_now_ns();
        if (now >= deadline)
            break;
    }
    close(wfd);
    close(rfd);
    free(wbuf);

    double secs = peer_seconds_since(start, now);
    peer_print_result(w->name, IMPL, chunk, "bytes_per_s", "B/s", (double)total / secs,
                      0);
    return 0;
}

/* throughput_twoway: the same loop in both directions of one connection,
 * in turn: each end writes until 64 KiB of its direction are unread, then
 * each end reads once into 64 KiB.  Figure: bytes read, both ways. */
static int w_throughput_twoway(const peer_workload *w, long chunk)
{
    int fds[2];
    peer_tcp_pair(fds, true);
    peer_set_nonblocking(fds[0]);
    peer_set_nonblocking(fds[1]);
    size_t n = (size_t)chunk;
    char *wbuf = malloc(n);
    static char rbuf[READ_BUF_SIZE];
    if (!wbuf)
        peer_die("malloc");
    memset(wbuf, 'x', n);
    struct {
        int wfd, rfd;
        uint64_t written, total;
        size_t off;
    } d[2] = {{fds[0], fds[1], 0, 0, 0}, {fds[1], fds[0], 0, 0, 0}};

    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    uint64_t now;
    for (;;) {
        for (int i = 0; i < 2; i++)
            while (d[i].written - d[i].total < READ_BUF_SIZE) {
                ssize_t r = send(d[i].wfd, wbuf + d[i].off, n - d[i].off, MSG_NOSIGNAL);
                if (r < 0) {
                    if (errno == EAGAIN || errno == EINTR)
                        break;
                    peer_die("write");
                }
                d[i].written += (uint64_t)r;
                d[i].off += (size_t)r;
                if (d[i].off == n)
                    d[i].off = 0;
            }
        for (int i = 0; i < 2; i++) {
            ssize_t r = read(d[i].rfd, rbuf, sizeof rbuf);
            if (r > 0)
                d[i].total += (uint64_t)r;
            else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                peer_die("read");
        }
        now = peer_now_ns();
        if (now >= deadline)
            break;
    }
    close(fds[0]);
    close(fds[1]);
    free(wbuf);

    peer_print_result(w->name, IMPL, chunk, "bytes_per_s", "B/s",
                      (double)(d[0].total + d[1].total) / peer_seconds_since(start, now), 0);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Timers: a binary min-heap of intrusive timers.
 */
typedef struct floor_timer floor_timer;
struct floor_timer {
    uint64_t expiry;
    unsigned heap_index;
    void (*fn)(floor_timer *);
};

#define HEAP_CAP 16u
static floor_timer *g_heap[HEAP_CAP];
static unsigned g_heap_size;

static inline void heap_set(unsigned i, floor_timer *t)
{
    g_heap[i] = t;
    t->heap_index = i;
}

static inline void heap_sift_up(unsigned i)
{
    floor_timer *t = g_heap[i];
    while (i > 0) {
        unsigned parent = (i - 1) / 2;
        if (g_heap[parent]->expiry <= t->expiry)
            break;
        heap_set(i, g_heap[parent]);
        i = parent;
    }
    heap_set(i, t);
}

static inline void heap_sift_down(unsigned i)
{
    floor_timer *t = g_heap[i];
    for (;;) {
        unsigned child = 2 * i + 1;
        if (child >= g_heap_size)
            break;
        if (child + 1 < g_heap_size && g_heap[child + 1]->expiry < g_heap[child]->expiry)
            child++;
        if (t->expiry <= g_heap[child]->expiry)
            break;
        heap_set(i, g_heap[child]);
        i = child;
    }
    heap_set(i, t);
}

/* The two operations a timer user calls: real calls, as in any library. */
static NOINLINE void heap_push(floor_timer *t)
{
    g_heap[g_heap_size] = t;
    heap_sift_up(g_heap_size++);
}

static NOINLINE void heap_remove(floor_timer *t)
{
    unsigned i = t->heap_index;
    floor_timer *last = g_heap[--g_heap_size];
    if (last != t) {
        heap_set(i, last);
        heap_sift_down(i);
        heap_sift_up(last->heap_index);
    }
}

static NOINLINE void timer_noop(floor_timer *t)
{
    (void)t;
}

static int w_timer_schedule_cancel(const peer_workload *w, long param)
{
    (void)param;
    floor_timer t = {.fn = timer_noop};
    uint64_t count = 0;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    uint64_t now = start;
    g_heap_size = 0;
    do {
        for (int i = 0; i < 1000; i++) {
            t.expiry = now + 1000000000u;
            heap_push(&t);
            heap_remove(&t);
        }
        count += 1000;
        now = peer_now_ns();
    } while (now < deadline);
    peer_print_rate(w->name, IMPL, 0, count, start, now);
    return 0;
}

static uint64_t g_fire_now, g_fire_deadline, g_fire_count;

static NOINLINE void fire_handler(floor_timer *t)
{
    if ((++g_fire_count & 1023u) == 0) {
        g_fire_now = peer_now_ns();
        if (g_fire_now >= g_fire_deadline)
            return;
    }
    t->expiry = g_fire_now; /* 0 ms from now */
    heap_push(t);
}

static int w_timer_fire(const peer_workload *w, long param)
{
    (void)param;
    floor_timer t = {.fn = fire_handler};
    g_heap_size = 0;
    g_fire_count = 0;
    uint64_t start = peer_now_ns();
    g_fire_now = start;
    g_fire_deadline = start + peer_duration_ns;
    t.expiry = g_fire_now;
    heap_push(&t);
    while (g_heap_size) {
        floor_timer *min = g_heap[0];
        if (min->expiry > g_fire_now) {
            g_fire_now = peer_now_ns();
            continue;
        }
        heap_remove(min);
        min->fn(min);
    }
    peer_print_rate(w->name, IMPL, 0, g_fire_count, start, peer_now_ns());
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
    {"post_threads", w_post_threads, 0, NULL},
    {"pingpong_tcp", w_pingpong, 1, NULL},
    {"pingpong_unix", w_pingpong, 0, NULL},
    {"throughput_oneway", w_throughput_oneway, 0, NULL},
    {"throughput_twoway", w_throughput_twoway, 0, NULL},
    {"timer_schedule_cancel", w_timer_schedule_cancel, 0, NULL},
    {"timer_fire", w_timer_fire, 0, NULL},
};

int main(int argc, char **argv)
{
    return peer_main(argc, argv, IMPL, g_workloads,
                     sizeof g_workloads / sizeof g_workloads[0]);
}
