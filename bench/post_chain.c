/* post_chain - K handlers that each re-post themselves from inside the
 * loop (param = K chains; 1, 16, 256).  One thread runs sl_run.
 * Figures: handlers per second; with the stats build, epoll_wait calls per
 * handler.  Mechanisms: M8 (a post from a running thread takes the private
 * queue, no mutex) and M2's cost (one reactor poll per pass over the
 * queue: with K = 1 that is one poll per handler).
 */
#include "bench.h"

static sl_scheduler *sched;
static uint64_t handlers_run, deadline, end_ns;
static bool stopping;

static void chain_handler(sl_op *op)
{
    ++handlers_run;
    if (!stopping && ((handlers_run & 1023u) == 0 || bench_work_done(handlers_run))) {
        uint64_t now = bench_now_ns();
        if (bench_done(handlers_run, now, deadline)) {
            stopping = true;
            end_ns = now;
        }
    }
    if (!stopping)
        sl_post(sched, op);
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"post_chain", 1, 1, 1 << 20, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    long chains = bench.param;
    sl_op *ops = bench_calloc((size_t)chains, sizeof *ops);

    uint64_t start = bench_begin(sched, &deadline);
    for (long i = 0; i < chains; i++) {
        sl_op_init(&ops[i], chain_handler, NULL);
        sl_post(sched, &ops[i]);
    }
    sl_run(sched);
    if (!end_ns)
        end_ns = bench_now_ns();

    bench_rate(handlers_run, start, end_ns);
    bench_finish(sched, handlers_run);
    sl_scheduler_destroy(sched);
    free(ops);
    return 0;
}
