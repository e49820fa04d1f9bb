/* post_interleaved - as upstream's io_context "interleaved" bench: batches
 * of 100 handlers posted from outside the loop (the shared-queue path:
 * mutex, atomic work count, wake policy), then sl_poll and sl_restart.
 * Figure: handlers run per second.  Mechanism: M9 and the shared path.
 */
#include "bench.h"

#define BATCH 100

static uint64_t handlers_run;

static void count_handler(sl_op *op)
{
    (void)op;
    handlers_run++;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"post_interleaved", 0, 0, 0, true};
    bench_init(argc, argv, &spec);
    sl_scheduler *s = bench_scheduler();
    static sl_op ops[BATCH];
    for (int i = 0; i < BATCH; i++)
        sl_op_init(&ops[i], count_handler, NULL);

    sl_stats_reset(s);
    uint64_t start = bench_now_ns(), deadline = start + bench.duration_ns, now;
    do {
        for (int i = 0; i < BATCH; i++)
            sl_post(s, &ops[i]);
        sl_poll(s);
        sl_restart(s);
        now = bench_now_ns();
    } while (!bench_done(handlers_run, now, deadline));
    sl_run(s); /* nothing should be left; as upstream, make sure */
    now = bench_now_ns();

    bench_rate(handlers_run, start, now);
    bench_finish(s, handlers_run);
    sl_scheduler_destroy(s);
    return 0;
}
