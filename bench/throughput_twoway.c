/* throughput_twoway - one TCP loopback connection, one thread, both ends
 * writing and reading at once: each end writes one chunk of param bytes
 * (1024 ... 65536) and then the next, and reads into 64 KiB.  Figure:
 * bytes per second received, both directions together.  An op is one
 * chunk's worth of bytes.  Mechanism: M11, and M10 with reads and writes
 * pending on the same descriptor.
 */
#include "stream.h"

static sl_scheduler *sched;
static stream up, down;
static bool stopping;
static uint64_t deadline, end_ns;

static bool on_read(stream *s, size_t bytes)
{
    (void)bytes;
    uint64_t now = bench_now_ns();
    uint64_t chunks = (up.bytes_read + down.bytes_read) / s->chunk_len;
    if (bench_done(chunks, now, deadline)) {
        end_ns = now;
        stopping = true;
        sl_stop(sched);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"throughput_twoway", 65536, 1, 16 << 20, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    sl_socket *socks[2];
    bench_tcp_pair(sched, socks);
    stream_init(&up, socks[0], socks[1], (size_t)bench.param, &stopping, on_read);
    stream_init(&down, socks[1], socks[0], (size_t)bench.param, &stopping, on_read);

    sl_stats_reset(sched);
    uint64_t start = bench_now_ns();
    deadline = start + bench.duration_ns;
    stream_start(&up);
    stream_start(&down);
    sl_run(sched);

    uint64_t total = up.bytes_read + down.bytes_read;
    double secs = (double)(end_ns - start) / 1e9;
    bench_result("bytes_per_s", "B/s", (double)total / secs, 0);
    bench_finish(sched, total / (uint64_t)bench.param);
    sl_socket_close(socks[0]);
    sl_socket_close(socks[1]);
    sl_scheduler_destroy(sched);
    free(up.chunk);
    free(down.chunk);
    return 0;
}
