/* pingpong_unix - one client and one echo server over a Unix stream
 * socketpair (sl_socket_pair), one thread; param = message bytes (1, 64,
 * 1024).  Figures: round trip mean / p50 / p99 / p999 in us, from a
 * histogram.  Mechanisms: M10 (deferred descriptor I/O), M11 (speculative
 * I/O and the inline budget).
 */
#include "pingpong.h"

static sl_scheduler *sched;
static peer_hist hist;
static bool stopping;
static uint64_t round_trips, deadline;

static bool round_trip_done(pp_conn *c, uint64_t now, uint64_t rtt)
{
    (void)c;
    (void)rtt;
    if (bench_done(++round_trips, now, deadline)) {
        stopping = true;
        sl_stop(sched);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"pingpong_unix", 64, 1, 65536, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    sl_socket *socks[2];
    bench_unix_pair(sched, socks);
    static pp_conn conn;
    peer_hist_reset(&hist);
    pp_init(&conn, socks, (size_t)bench.param, &hist, &stopping, round_trip_done);

    sl_stats_reset(sched);
    deadline = bench_now_ns() + bench.duration_ns;
    pp_start(&conn);
    sl_run(sched);

    bench_rtt(&hist);
    bench_finish(sched, round_trips);
    pp_close(&conn);
    sl_scheduler_destroy(sched);
    return 0;
}
