/* pingpong_threads - 16 ping-pong connections over TCP loopback, 64 B
 * messages, one scheduler run by `param` threads (1, 2, 4).  Figure: round
 * trips per second over all pairs.  The multi-thread I/O workload behind
 * upstream cd19108's choice (the inline budget off when more than one
 * thread runs the scheduler): compare ref and no-inline-budget at 1 and
 * at 2+ threads.  Mechanisms: M10, M11, M12.
 */
#include "pingpong.h"

#include <pthread.h>
#include <stdatomic.h>

#define MESSAGE 64
#define PAIRS 16

static sl_scheduler *sched;
static bool stopping; /* set once, under the scheduler's stop */
static atomic_uint_fast64_t round_trips;
static _Atomic uint64_t end_ns;
static uint64_t deadline;

static bool round_trip_done(pp_conn *c, uint64_t now, uint64_t rtt)
{
    (void)c;
    (void)rtt;
    uint64_t n = atomic_fetch_add_explicit(&round_trips, 1, memory_order_relaxed) + 1;
    uint64_t none = 0;
    if (bench_done(n, now, deadline) &&
        atomic_compare_exchange_strong(&end_ns, &none, now))
        sl_stop(sched);
    return atomic_load_explicit(&end_ns, memory_order_relaxed) == 0;
}

static void *runner(void *unused)
{
    (void)unused;
    sl_run(sched);
    return NULL;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"pingpong_threads", 2, 1, 64, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    long nthreads = bench.param;
    pp_conn *conns = bench_calloc(PAIRS, sizeof *conns);
    for (long i = 0; i < PAIRS; i++) {
        sl_socket *socks[2];
        bench_tcp_pair(sched, socks);
        pp_init(&conns[i], socks, MESSAGE, NULL, &stopping, round_trip_done);
    }
    pthread_t *runners = bench_calloc((size_t)nthreads, sizeof *runners);
    uint64_t start = bench_begin(sched, &deadline);
    for (long i = 0; i < PAIRS; i++)
        pp_start(&conns[i]);
    for (long i = 1; i < nthreads; i++) {
        int rc = pthread_create(&runners[i], NULL, runner, NULL);
        if (rc)
            bench_die("pthread_create", rc);
    }
    sl_run(sched);
    for (long i = 1; i < nthreads; i++)
        pthread_join(runners[i], NULL);

    uint64_t end = atomic_load(&end_ns);
    bench_rate(atomic_load(&round_trips), start, end ? end : bench_now_ns());
    bench_finish(sched, atomic_load(&round_trips));
    for (long i = 0; i < PAIRS; i++)
        pp_close(&conns[i]);
    sl_scheduler_destroy(sched);
    free(conns);
    free(runners);
    return 0;
}
