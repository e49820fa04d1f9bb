/* fanout - as upstream's fan_out_bench (fork-join): a parent starts N
 * sub-requests (param = N, default 16), each writing 64 B on its own TCP
 * loopback connection and reading the 64 B echo; when the last one
 * completes, the next cycle starts.  The echo servers run on the same
 * scheduler and thread.  Figure: cycles (parent requests) per second.
 * Mechanism: M10 (many descriptors ready in one reactor pass).
 */
#include "bench.h"

#define MESSAGE 64

typedef struct sub_request {
    sl_socket *client, *server;
    bench_xfer client_write, client_read, server_read, server_write;
    char cbuf[MESSAGE], sbuf[MESSAGE];
} sub_request;

static sl_scheduler *sched;
static sub_request *subs;
static long fan_out, remaining;
static bool stopping;
static uint64_t cycles, deadline, end_ns, cycle_start;
static peer_hist cycle_latency;

static void start_cycle(void);

static void sub_read_done(bench_xfer *x, int status)
{
    bench_check_io("fanout client read", status, stopping);
    (void)x;
    if (status != 0 || --remaining > 0)
        return;
    uint64_t now = bench_now_ns();
    peer_hist_record(&cycle_latency, now - cycle_start);
    if (bench_done(++cycles, now, deadline)) {
        stopping = true;
        end_ns = now;
        sl_stop(sched);
        return;
    }
    start_cycle();
}

static void sub_write_done(bench_xfer *x, int status)
{
    bench_check_io("fanout client write", status, stopping);
    sub_request *r = x->user;
    if (status == 0)
        bench_xfer_start(&r->client_read, false, MESSAGE);
}

static void echo_write_done(bench_xfer *x, int status);

static void echo_read_done(bench_xfer *x, int status)
{
    bench_check_io("fanout server read", status, stopping);
    sub_request *r = x->user;
    if (status == 0)
        bench_xfer_start(&r->server_write, true, MESSAGE);
}

static void echo_write_done(bench_xfer *x, int status)
{
    bench_check_io("fanout server write", status, stopping);
    sub_request *r = x->user;
    if (status == 0)
        bench_xfer_start(&r->server_read, false, MESSAGE);
}

static void start_cycle(void)
{
    cycle_start = bench_now_ns();
    remaining = fan_out;
    for (long i = 0; i < fan_out; i++)
        bench_xfer_start(&subs[i].client_write, true, MESSAGE);
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"fanout", 16, 1, 1024, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    fan_out = bench.param;
    subs = bench_calloc((size_t)fan_out, sizeof *subs);
    peer_hist_reset(&cycle_latency);
    for (long i = 0; i < fan_out; i++) {
        sub_request *r = &subs[i];
        sl_socket *socks[2];
        bench_tcp_pair(sched, socks);
        r->client = socks[0];
        r->server = socks[1];
        memset(r->cbuf, 'F', MESSAGE);
        r->client_write = (bench_xfer){
            .sock = r->client, .buf = r->cbuf, .on_done = sub_write_done, .user = r};
        r->client_read = (bench_xfer){
            .sock = r->client, .buf = r->cbuf, .on_done = sub_read_done, .user = r};
        r->server_read = (bench_xfer){
            .sock = r->server, .buf = r->sbuf, .on_done = echo_read_done, .user = r};
        r->server_write = (bench_xfer){
            .sock = r->server, .buf = r->sbuf, .on_done = echo_write_done, .user = r};
    }

    uint64_t start = bench_begin(sched, &deadline);
    for (long i = 0; i < fan_out; i++)
        bench_xfer_start(&subs[i].server_read, false, MESSAGE);
    start_cycle();
    sl_run(sched);

    bench_rate(cycles, start, end_ns);
    bench_result("rtt_p50", "us", peer_hist_quantile_ns(&cycle_latency, 0.50) / 1e3, 3);
    bench_result("rtt_p99", "us", peer_hist_quantile_ns(&cycle_latency, 0.99) / 1e3, 3);
    bench_finish(sched, cycles);
    for (long i = 0; i < fan_out; i++) {
        sl_socket_close(subs[i].client);
        sl_socket_close(subs[i].server);
    }
    sl_scheduler_destroy(sched);
    free(subs);
    return 0;
}
