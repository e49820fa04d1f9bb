/* workloads.c - the programs `make trace` records, on the public API only.
 *
 *   workloads starvation [-d SEC] [-t THREADS] [-n OPS] [-s SPIN_NS] [-p PERIOD_US]
 *       THREADS threads run a storm of OPS self-reposting handlers (each
 *       spins SPIN_NS) for SEC seconds, while a PERIOD_US periodic timer
 *       fires.  The reference runs the reactor once per pass over the queue,
 *       so the timer keeps firing; without the sentinel the queue never
 *       empties and the timer waits for the storm to end.
 *   workloads pingpong [-d SEC] [-t THREADS] [-n PAIRS] [-b BYTES]
 *       PAIRS socket pairs bounce a BYTES message for SEC seconds: writes
 *       complete speculatively (inline budget), reads park in the reactor.
 *
 * Prints one summary line (key=value) and exits 0, or 1 on an API error.
 * Built per variant against build/<variant>-trace/ by trace/trace.mk; it
 * also runs (untraced) against any other build of the library.
 */
#include "schedlab.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

typedef struct options {
    double seconds;
    int threads;
    int count;      /* storm ops, or socket pairs */
    long spin_ns;   /* work per storm handler */
    long period_us; /* storm timer period */
    int bytes;      /* pingpong message size */
} options;

static int fail(const char *what, int err)
{
    fprintf(stderr, "workloads: %s: %s\n", what, strerror(err < 0 ? -err : err));
    return 1;
}

static void spin_for(long ns)
{
    uint64_t until = sl_now_ns() + (uint64_t)ns;
    while (sl_now_ns() < until)
        ;
}

static void *run_scheduler(void *arg)
{
    sl_run(arg);
    return NULL;
}

/* Runs `s` on `threads` threads until it runs out of work. */
static int run_on_threads(sl_scheduler *s, int threads)
{
    pthread_t tid[64];
    int started = 0;
    for (; started < threads; ++started) {
        int r = pthread_create(&tid[started], NULL, run_scheduler, s);
        if (r != 0) {
            sl_stop(s);
            break;
        }
    }
    for (int i = 0; i < started; ++i)
        pthread_join(tid[i], NULL);
    return started == threads ? 0 : fail("pthread_create", EAGAIN);
}

/* ---- starvation ---------------------------------------------------------- */

typedef struct storm {
    sl_scheduler *sched;
    uint64_t start_ns, end_ns;
    long spin_ns;
    atomic_long handlers;
    sl_timer timer;
    sl_timer_waiter waiter;
    uint64_t period_ns;
    uint64_t expected_ns; /* expiry of the pending wait */
    long fires_in_storm;  /* touched by the timer handler only */
    long fires_total;
    uint64_t max_late_ns;
} storm;

typedef struct storm_op {
    sl_op op;
    storm *st;
} storm_op;

static void storm_handler(sl_op *op)
{
    storm *st = container_of(op, storm_op, op)->st;
    spin_for(st->spin_ns);
    atomic_fetch_add_explicit(&st->handlers, 1, memory_order_relaxed);
    if (sl_now_ns() < st->end_ns)
        sl_post(st->sched, op);
}

static int arm_storm_timer(storm *st)
{
    st->expected_ns = sl_now_ns() + st->period_ns;
    sl_timer_expires_at(&st->timer, st->expected_ns);
    return sl_timer_wait(&st->timer, &st->waiter);
}

static void storm_timer_fired(sl_timer_waiter *w, int status)
{
    storm *st = container_of(w, storm, waiter);
    if (status != 0)
        return;
    uint64_t now = sl_now_ns();
    uint64_t late = now > st->expected_ns ? now - st->expected_ns : 0;
    ++st->fires_total;
    if (now < st->end_ns) {
        ++st->fires_in_storm;
        if (late > st->max_late_ns)
            st->max_late_ns = late;
        if (arm_storm_timer(st) < 0)
            fprintf(stderr, "workloads: timer wait failed\n");
    } else if (late > st->max_late_ns) {
        st->max_late_ns = late; /* the wait that outlived the storm */
    }
}

static int starvation(const options *o)
{
    storm st;
    memset(&st, 0, sizeof st);
    int r = sl_scheduler_create(&st.sched);
    if (r < 0)
        return fail("sl_scheduler_create", r);
    storm_op *ops = calloc((size_t)o->count, sizeof *ops);
    if (!ops) {
        sl_scheduler_destroy(st.sched);
        return fail("calloc", ENOMEM);
    }
    st.spin_ns = o->spin_ns;
    st.period_ns = (uint64_t)o->period_us * 1000u;
    st.start_ns = sl_now_ns();
    st.end_ns = st.start_ns + (uint64_t)(o->seconds * 1e9);
    sl_timer_init(&st.timer, st.sched);
    sl_timer_wait_init(&st.waiter, storm_timer_fired, NULL);
    if ((r = arm_storm_timer(&st)) < 0) {
        free(ops);
        sl_scheduler_destroy(st.sched);
        return fail("sl_timer_wait", r);
    }
    for (int i = 0; i < o->count; ++i) {
        sl_op_init(&ops[i].op, storm_handler, NULL);
        ops[i].st = &st;
        sl_post(st.sched, &ops[i].op);
    }
    r = run_on_threads(st.sched, o->threads);
    uint64_t elapsed = sl_now_ns() - st.start_ns;
    long expected = (long)(o->seconds * 1e6 / (double)o->period_us);
    printf("workload=starvation variant=%s threads=%d ops=%d spin_ns=%ld "
           "storm_s=%.3f elapsed_s=%.3f handlers=%ld timer_period_us=%ld "
           "timer_fires_in_storm=%ld timer_fires_expected=%ld "
           "timer_max_late_us=%.1f\n",
           sl_variant_name(), o->threads, o->count, o->spin_ns, o->seconds,
           (double)elapsed / 1e9, atomic_load(&st.handlers), o->period_us,
           st.fires_in_storm, expected, (double)st.max_late_ns / 1e3);
    sl_timer_destroy(&st.timer);
    sl_scheduler_destroy(st.sched);
    free(ops);
    return r;
}

/* ---- pingpong ------------------------------------------------------------ */

/* One socket pair: `ping` writes a message and waits for all of it to come
 * back; `pong` echoes what it reads until it reads end of stream. */
typedef struct pair {
    sl_socket *ping, *pong;
    char *out, *back, *echo;
    size_t size, got;
    uint64_t end_ns;
    long round_trips;
    int error;
} pair;

static void ping_wrote(sl_socket *sock, int status, size_t bytes, void *arg);
static void ping_read(sl_socket *sock, int status, size_t bytes, void *arg);
static void pong_read(sl_socket *sock, int status, size_t bytes, void *arg);
static void pong_wrote(sl_socket *sock, int status, size_t bytes, void *arg);

static void note_error(pair *p, int status)
{
    if (!p->error)
        p->error = status;
}

static void ping_send(pair *p)
{
    struct iovec v = {p->out, p->size};
    p->got = 0;
    int r = sl_socket_async_write(p->ping, &v, 1, ping_wrote, p);
    if (r < 0) {
        note_error(p, r);
        sl_socket_close(p->ping);
    }
}

static void ping_receive(pair *p)
{
    struct iovec v = {p->back + p->got, p->size - p->got};
    int r = sl_socket_async_read(p->ping, &v, 1, ping_read, p);
    if (r < 0) {
        note_error(p, r);
        sl_socket_close(p->ping);
    }
}

static void ping_wrote(sl_socket *sock, int status, size_t bytes, void *arg)
{
    pair *p = arg;
    (void)bytes;
    if (status != 0) {
        note_error(p, status);
        sl_socket_close(sock);
        return;
    }
    ping_receive(p);
}

static void ping_read(sl_socket *sock, int status, size_t bytes, void *arg)
{
    pair *p = arg;
    if (status != 0) {
        note_error(p, status);
        sl_socket_close(sock);
        return;
    }
    p->got += bytes;
    if (p->got < p->size) {
        ping_receive(p);
        return;
    }
    ++p->round_trips;
    if (sl_now_ns() < p->end_ns)
        ping_send(p);
    else
        sl_socket_close(sock); /* pong reads end of stream and closes */
}

static void pong_receive(pair *p)
{
    struct iovec v = {p->echo, p->size};
    int r = sl_socket_async_read(p->pong, &v, 1, pong_read, p);
    if (r < 0) {
        note_error(p, r);
        sl_socket_close(p->pong);
    }
}

static void pong_read(sl_socket *sock, int status, size_t bytes, void *arg)
{
    pair *p = arg;
    if (status != 0) {
        if (status != SL_EOF)
            note_error(p, status);
        sl_socket_close(sock);
        return;
    }
    struct iovec v = {p->echo, bytes};
    int r = sl_socket_async_write(sock, &v, 1, pong_wrote, p);
    if (r < 0) {
        note_error(p, r);
        sl_socket_close(sock);
    }
}

static void pong_wrote(sl_socket *sock, int status, size_t bytes, void *arg)
{
    pair *p = arg;
    (void)bytes;
    if (status != 0) {
        note_error(p, status);
        sl_socket_close(sock);
        return;
    }
    pong_receive(p);
}

static int pingpong(const options *o)
{
    sl_scheduler *s;
    int r = sl_scheduler_create(&s);
    if (r < 0)
        return fail("sl_scheduler_create", r);
    pair *pairs = calloc((size_t)o->count, sizeof *pairs);
    char *buffers = calloc((size_t)o->count * 3, (size_t)o->bytes);
    if (!pairs || !buffers) {
        free(pairs);
        free(buffers);
        sl_scheduler_destroy(s);
        return fail("calloc", ENOMEM);
    }
    uint64_t start = sl_now_ns();
    uint64_t end = start + (uint64_t)(o->seconds * 1e9);
    for (int i = 0; i < o->count; ++i) {
        pair *p = &pairs[i];
        sl_socket *both[2];
        if ((r = sl_socket_pair(s, both)) < 0) {
            /* Pairs already made close when the scheduler is destroyed. */
            free(pairs);
            free(buffers);
            sl_scheduler_destroy(s);
            return fail("sl_socket_pair", r);
        }
        p->ping = both[0];
        p->pong = both[1];
        p->size = (size_t)o->bytes;
        p->out = buffers + (size_t)(3 * i) * p->size;
        p->back = p->out + p->size;
        p->echo = p->back + p->size;
        memset(p->out, 'a' + i % 26, p->size);
        p->end_ns = end;
    }
    /* Started from this thread: the first operations take the shared
     * queue, as a client's would. */
    for (int i = 0; i < o->count; ++i) {
        pong_receive(&pairs[i]);
        ping_send(&pairs[i]);
    }
    r = run_on_threads(s, o->threads);
    long trips = 0;
    int error = 0;
    for (int i = 0; i < o->count; ++i) {
        trips += pairs[i].round_trips;
        if (pairs[i].error && !error)
            error = pairs[i].error;
    }
    printf("workload=pingpong variant=%s threads=%d pairs=%d bytes=%d "
           "seconds=%.3f elapsed_s=%.3f round_trips=%ld error=%d\n",
           sl_variant_name(), o->threads, o->count, o->bytes, o->seconds,
           (double)(sl_now_ns() - start) / 1e9, trips, error);
    sl_scheduler_destroy(s);
    free(pairs);
    free(buffers);
    return r != 0 || error != 0;
}

/* ---- main ----------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr, "usage: workloads starvation [-d SEC] [-t THREADS] [-n OPS] "
                    "[-s SPIN_NS] [-p PERIOD_US]\n"
                    "       workloads pingpong [-d SEC] [-t THREADS] [-n PAIRS] "
                    "[-b BYTES]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *name = argv[1];
    bool storm_workload = strcmp(name, "starvation") == 0;
    if (!storm_workload && strcmp(name, "pingpong") != 0)
        return usage();
    options o = {.seconds = 0.3,
                 .threads = 2,
                 .count = storm_workload ? 16 : 4,
                 .spin_ns = 2000,
                 .period_us = 1000,
                 .bytes = 64};
    int c;
    optind = 2;
    while ((c = getopt(argc, argv, "d:t:n:s:p:b:")) != -1) {
        switch (c) {
        case 'd':
            o.seconds = atof(optarg);
            break;
        case 't':
            o.threads = atoi(optarg);
            break;
        case 'n':
            o.count = atoi(optarg);
            break;
        case 's':
            o.spin_ns = atol(optarg);
            break;
        case 'p':
            o.period_us = atol(optarg);
            break;
        case 'b':
            o.bytes = atoi(optarg);
            break;
        default:
            return usage();
        }
    }
    if (o.seconds <= 0 || o.threads < 1 || o.threads > 64 || o.count < 1 ||
        o.spin_ns < 0 || o.period_us < 1 || o.bytes < 1)
        return usage();
    return storm_workload ? starvation(&o) : pingpong(&o);
}
