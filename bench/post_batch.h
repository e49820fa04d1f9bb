/* post_batch.h - the workload of post_single and post_interleaved, which
 * differ only in the batch: as upstream's io_context "single_threaded" and
 * "interleaved" benches, batches of handlers posted from outside the loop
 * (the shared-queue path: mutex, atomic work count, wake policy), then
 * sl_poll and sl_restart.  Figure: handlers run per second.
 */
#ifndef SL_BENCH_POST_BATCH_H
#define SL_BENCH_POST_BATCH_H

#include "bench.h"

#define POST_BATCH_MAX 1000

static uint64_t post_batch_handlers_run;

static void post_batch_count(sl_op *op)
{
    (void)op;
    post_batch_handlers_run++;
}

/* The whole of main, for batches of `batch` (at most POST_BATCH_MAX). */
static inline int post_batch_main(int argc, char **argv, const bench_spec *spec,
                                  int batch)
{
    bench_init(argc, argv, spec);
    sl_scheduler *s = bench_scheduler();
    static sl_op ops[POST_BATCH_MAX];
    for (int i = 0; i < batch; i++)
        sl_op_init(&ops[i], post_batch_count, NULL);

    uint64_t deadline, now;
    uint64_t start = bench_begin(s, &deadline);
    do {
        for (int i = 0; i < batch; i++)
            sl_post(s, &ops[i]);
        sl_poll(s);
        sl_restart(s);
        now = bench_now_ns();
    } while (!bench_done(post_batch_handlers_run, now, deadline));
    sl_run(s); /* nothing should be left; as upstream, make sure */
    now = bench_now_ns();

    bench_rate(post_batch_handlers_run, start, now);
    bench_finish(s, post_batch_handlers_run);
    sl_scheduler_destroy(s);
    return 0;
}

#endif /* SL_BENCH_POST_BATCH_H */
