/* post_threads - as upstream's io_context "multithreaded" bench: a feeder
 * thread posts batches of 100000 handlers while N threads (param) call
 * sl_poll + sl_restart, then sl_run to drain once feeding stops.  At most
 * two batches wait in the queue (the feeder yields beyond that, as in the
 * peers), so two sets of ops are enough.  Figure: handlers per second, and
 * its scaling with N.  Mechanisms: M3 signal word, M4 wake policy.
 */
#include "bench.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define BATCH 100000u

static sl_scheduler *sched;
static sl_op sets[2][BATCH];
static atomic_uint_fast64_t executed;
static atomic_bool feeding = true;
static uint64_t deadline;

static void count_handler(sl_op *op)
{
    (void)op;
    atomic_fetch_add_explicit(&executed, 1, memory_order_relaxed);
}

static void *feeder(void *unused)
{
    (void)unused;
    uint64_t posted = 0;
    for (unsigned set = 0; bench_now_ns() < deadline && !bench_work_done(posted);
         set ^= 1) {
        for (unsigned i = 0; i < BATCH; i++)
            sl_post(sched, &sets[set][i]);
        posted += BATCH;
        /* Every op of the other set has been popped once fewer than one
         * batch is waiting; only then may it be posted again. */
        while (posted - atomic_load_explicit(&executed, memory_order_acquire) > BATCH) {
            if (bench_now_ns() >= deadline + 2000000000u)
                bench_die("post_threads: runners stalled", ETIMEDOUT);
            sched_yield();
        }
    }
    atomic_store_explicit(&feeding, false, memory_order_release);
    return NULL;
}

static void *runner(void *unused)
{
    (void)unused;
    while (atomic_load_explicit(&feeding, memory_order_acquire)) {
        sl_poll(sched);
        sl_restart(sched);
    }
    sl_run(sched);
    return NULL;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"post_threads", 1, 1, 1024, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    for (unsigned set = 0; set < 2; set++)
        for (unsigned i = 0; i < BATCH; i++)
            sl_op_init(&sets[set][i], count_handler, NULL);
    long nthreads = bench.param;
    pthread_t *runners = bench_calloc((size_t)nthreads, sizeof *runners);

    uint64_t start = bench_begin(sched, &deadline);
    pthread_t feed;
    int rc = pthread_create(&feed, NULL, feeder, NULL);
    for (long i = 0; rc == 0 && i < nthreads; i++)
        rc = pthread_create(&runners[i], NULL, runner, NULL);
    if (rc)
        bench_die("pthread_create", rc);
    pthread_join(feed, NULL);
    for (long i = 0; i < nthreads; i++)
        pthread_join(runners[i], NULL);
    /* A runner's final sl_run may return while the last posts still wait
     * (another runner's poll stopped the scheduler); finish them here. */
    sl_restart(sched);
    sl_run(sched);
    uint64_t end = bench_now_ns();

    uint64_t n = atomic_load(&executed);
    bench_rate(n, start, end);
    bench_finish(sched, n);
    sl_scheduler_destroy(sched);
    free(runners);
    return 0;
}
