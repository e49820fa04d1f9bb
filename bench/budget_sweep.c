/* budget_sweep - what the inline budget trades: throughput of an
 * always-ready connection against the latency of a competing one.  Built
 * against budget-N builds (make BUDGET=0,1,2,...: a fixed cap N),
 * unbounded-inline and ref (the adaptive cap); param = the cap, taken from
 * the build (N, "unbounded" or "adaptive"), so -p is ignored.
 *
 * Connection A (TCP loopback) streams: the writer writes 64 KiB chunks one
 * after the other and the reader reads 4 KiB at a time, so its reads keep
 * completing at once and, budget permitting, inline.  Connection B (TCP
 * loopback) ping-pongs 64 B.  One thread runs both for -t seconds
 * (time-bound).  Figures: A's bytes per second, B's round trip mean / p50
 * / p99 / p999 in us.  An op is one read on A.  Mechanism: M11.
 */
#include "pingpong.h"
#include "stream.h"

#define CHUNK 65536
#define READ_SIZE 4096
#define MESSAGE 64

static sl_scheduler *sched;
static stream bulk;
static pp_conn competitor;
static peer_hist rtt;
static bool stopping;
static uint64_t deadline, end_ns;

static void finish(uint64_t now)
{
    if (stopping)
        return;
    stopping = true;
    end_ns = now;
    sl_stop(sched);
}

static bool on_read(stream *st, size_t bytes)
{
    (void)bytes;
    if ((st->reads & 63u) == 0) {
        uint64_t now = bench_now_ns();
        if (now >= deadline)
            finish(now);
    }
    return !stopping;
}

static bool round_trip_done(pp_conn *c, uint64_t now, uint64_t ns)
{
    (void)c;
    (void)ns;
    if (now >= deadline)
        finish(now);
    return !stopping;
}

/* The cap this build runs with, as the param column shows it.  An A/A
 * twin (<variant>-aa, e.g. ref-aa) runs its variant's cap and says so. */
static void set_cap_label(void)
{
    char v[sizeof bench.param_text];
    snprintf(v, sizeof v, "%s", sl_variant_name());
    size_t n = strlen(v);
    if (n > 3 && strcmp(v + n - 3, "-aa") == 0)
        v[n - 3] = '\0';
    const char *label = v;
    if (strncmp(v, "budget-", 7) == 0)
        label = v + 7;
    else if (strcmp(v, "ref") == 0)
        label = "adaptive";
    else if (strcmp(v, "unbounded-inline") == 0)
        label = "unbounded";
    snprintf(bench.param_text, sizeof bench.param_text, "%s", label);
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"budget_sweep", 0, 0, 0, false};
    bench_init(argc, argv, &spec);
    set_cap_label();
    sched = bench_scheduler();
    sl_socket *a[2], *b[2];
    bench_tcp_pair(sched, a);
    bench_tcp_pair(sched, b);
    stream_init(&bulk, a[0], a[1], CHUNK, &stopping, on_read);
    bulk.read_len = READ_SIZE;
    peer_hist_reset(&rtt);
    pp_init(&competitor, b, MESSAGE, &rtt, &stopping, round_trip_done);

    uint64_t start = bench_begin(sched, &deadline);
    pp_start(&competitor);
    stream_start(&bulk);
    sl_run(sched);

    double secs = (double)(end_ns - start) / 1e9;
    bench_result("bytes_per_s", "B/s", (double)bulk.bytes_read / secs, 0);
    bench_rtt(&rtt);
    bench_finish(sched, bulk.reads);
    sl_socket_close(a[0]);
    sl_socket_close(a[1]);
    pp_close(&competitor);
    sl_scheduler_destroy(sched);
    free(bulk.chunk);
    return 0;
}
