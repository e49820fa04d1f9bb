/* post_concurrent - as upstream's io_context "concurrent" bench: N threads
 * (param) each post 10000 handlers from outside the loop and then call
 * sl_poll + sl_restart, over and over.  Figure: handlers per second, and
 * its scaling with N.  Mechanisms: M3/M4 (wake-ups between posting
 * threads), M8 (none of these posts is private: no thread is inside run
 * when it posts).
 *
 * Ops are reused, so each thread owns two sets and posts a set again only
 * once all of its handlers have run (normally long done).  A poll can
 * return while ops are still queued (another thread's poll saw the work
 * count reach zero and stopped the scheduler); the reuse check and the
 * final drain poll until the thread's own handlers have all run.
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>

#define BATCH 10000u

typedef struct tagged_op {
    sl_op op;
    atomic_uint_fast64_t *done; /* the counter of the set it belongs to */
} tagged_op;

typedef struct worker {
    pthread_t thread;
    tagged_op sets[2][BATCH];
    atomic_uint_fast64_t done[2]; /* handlers of each set that have run */
    uint64_t posted[2];
} worker;

static sl_scheduler *sched;
static atomic_uint_fast64_t claimed;
static atomic_bool running = true;

static worker *workers;
static long nworkers;

/* One atomic add per handler, as upstream (whose counter is global). */
static void count_handler(sl_op *op)
{
    atomic_fetch_add_explicit(((tagged_op *)op)->done, 1, memory_order_release);
}

static void poll_until_done(worker *w, int set, uint64_t limit_ns)
{
    while (atomic_load_explicit(&w->done[set], memory_order_acquire) < w->posted[set]) {
        if (bench_now_ns() >= limit_ns)
            bench_die("post_concurrent: handlers never ran", ETIMEDOUT);
        sl_restart(sched);
        sl_poll(sched);
    }
}

static uint64_t deadline;

static void *work(void *arg)
{
    worker *w = arg;
    uint64_t limit = deadline + 2000000000u;
    for (int set = 0; atomic_load_explicit(&running, memory_order_relaxed); set ^= 1) {
        if (bench.ops_target &&
            atomic_fetch_add_explicit(&claimed, BATCH, memory_order_relaxed) >=
                bench.ops_target)
            break;
        poll_until_done(w, set, limit);
        for (unsigned i = 0; i < BATCH; i++)
            sl_post(sched, &w->sets[set][i].op);
        w->posted[set] += BATCH;
        sl_poll(sched);
        sl_restart(sched);
    }
    poll_until_done(w, 0, limit);
    poll_until_done(w, 1, limit);
    return NULL;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"post_concurrent", 1, 1, 1024, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    nworkers = bench.param;
    workers = bench_calloc((size_t)nworkers, sizeof *workers);
    for (long w = 0; w < nworkers; w++)
        for (int set = 0; set < 2; set++)
            for (unsigned i = 0; i < BATCH; i++) {
                sl_op_init(&workers[w].sets[set][i].op, count_handler, NULL);
                workers[w].sets[set][i].done = &workers[w].done[set];
            }

    uint64_t start = bench_begin(sched, &deadline);
    int rc = 0;
    for (long w = 0; rc == 0 && w < nworkers; w++)
        rc = pthread_create(&workers[w].thread, NULL, work, &workers[w]);
    if (rc)
        bench_die("pthread_create", rc);
    /* The timekeeper: as upstream, a flag flipped when the time is up
     * (with -n the workers stop by themselves, the flag is the cap). */
    while (bench_now_ns() < deadline) {
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
        if (bench.ops_target && atomic_load(&claimed) >= bench.ops_target)
            break;
    }
    atomic_store(&running, false);
    for (long w = 0; w < nworkers; w++)
        pthread_join(workers[w].thread, NULL);
    uint64_t end = bench_now_ns();

    uint64_t n = 0;
    for (long w = 0; w < nworkers; w++)
        n += atomic_load(&workers[w].done[0]) + atomic_load(&workers[w].done[1]);
    bench_rate(n, start, end);
    bench_finish(sched, n);
    sl_scheduler_destroy(sched);
    free(workers);
    return 0;
}
