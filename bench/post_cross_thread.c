/* post_cross_thread - a producer thread posts one handler at a time (from
 * outside the loop: mutex, atomic count, wake policy) while one thread
 * runs sl_run.  At most 65536 posts wait in the queue (the producer yields
 * beyond that), as in every peer.  Figures: handlers per second; with the
 * stats build, wake-ups per post (eventfd_writes_per_op,
 * cond_notify_one_per_op).  Mechanisms: M4 wake policy, M5 armed eventfd.
 */
#include "bench.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define IN_FLIGHT 65536u

static sl_scheduler *sched;
static sl_op ring[IN_FLIGHT];
static atomic_uint_fast64_t executed;
static uint64_t start_ns, deadline, end_ns;
static sl_op end_op;

static void count_handler(sl_op *op)
{
    (void)op;
    /* One consumer thread: a plain increment published with release. */
    atomic_store_explicit(&executed,
                          atomic_load_explicit(&executed, memory_order_relaxed) + 1,
                          memory_order_release);
}

static void end_handler(sl_op *op)
{
    (void)op;
    end_ns = bench_now_ns();
}

static void *producer(void *unused)
{
    (void)unused;
    uint64_t posted = 0;
    for (;;) {
        if (bench_work_done(posted) ||
            ((posted & 63u) == 0 && bench_now_ns() >= deadline))
            break;
        while (posted - atomic_load_explicit(&executed, memory_order_acquire) >=
               IN_FLIGHT) {
            if (bench_now_ns() >= deadline + 1000000000u)
                bench_die("post_cross_thread: consumer stalled", ETIMEDOUT);
            sched_yield();
        }
        sl_post(sched, &ring[posted % IN_FLIGHT]);
        ++posted;
    }
    sl_post(sched, &end_op);
    sl_work_finished(sched); /* the guard main took */
    return NULL;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"post_cross_thread", 0, 0, 0, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    for (unsigned i = 0; i < IN_FLIGHT; i++)
        sl_op_init(&ring[i], count_handler, NULL);
    sl_op_init(&end_op, end_handler, NULL);

    sl_work_started(sched); /* keeps run alive until the producer is done */
    start_ns = bench_begin(sched, &deadline);
    pthread_t th;
    int rc = pthread_create(&th, NULL, producer, NULL);
    if (rc)
        bench_die("pthread_create", rc);
    sl_run(sched);
    pthread_join(th, NULL);

    uint64_t n = atomic_load(&executed);
    bench_rate(n, start_ns, end_ns);
    bench_finish(sched, n);
    sl_scheduler_destroy(sched);
    return 0;
}
