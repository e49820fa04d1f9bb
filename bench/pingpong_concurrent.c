/* pingpong_concurrent - 16 ping-pong connections (param = pairs) over TCP
 * loopback, 64 B messages, all on one scheduler run by one thread.
 * Figures: round trips per second over all pairs, and round trip mean /
 * p50 / p99 / p999 in us, all pairs in one histogram.  Mechanisms: M10,
 * M11 (fairness: a connection whose I/O completes at once must not keep
 * the thread from the others).
 */
#include "pingpong.h"

#define MESSAGE 64

static sl_scheduler *sched;
static peer_hist hist;
static bool stopping;
static uint64_t round_trips, deadline, end_ns;

static bool round_trip_done(pp_conn *c, uint64_t now, uint64_t rtt)
{
    (void)c;
    (void)rtt;
    if (!stopping && bench_done(++round_trips, now, deadline)) {
        stopping = true;
        end_ns = now;
        sl_stop(sched);
    }
    return !stopping;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"pingpong_concurrent", 16, 1, 1024, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    long pairs = bench.param;
    pp_conn *conns = bench_calloc((size_t)pairs, sizeof *conns);
    peer_hist_reset(&hist);
    for (long i = 0; i < pairs; i++) {
        sl_socket *socks[2];
        bench_tcp_pair(sched, socks);
        pp_init(&conns[i], socks, MESSAGE, &hist, &stopping, round_trip_done);
    }

    uint64_t start = bench_begin(sched, &deadline);
    for (long i = 0; i < pairs; i++)
        pp_start(&conns[i]);
    sl_run(sched);

    bench_rate(round_trips, start, end_ns);
    bench_rtt(&hist);
    bench_finish(sched, round_trips);
    for (long i = 0; i < pairs; i++)
        pp_close(&conns[i]);
    sl_scheduler_destroy(sched);
    free(conns);
    return 0;
}
