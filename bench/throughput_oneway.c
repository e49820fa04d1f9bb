/* throughput_oneway - one TCP loopback connection, one thread: the writer
 * writes one chunk of param bytes (1024 ... 65536) and, when that is done,
 * the next; the reader reads into 64 KiB.  Figure: bytes per second
 * received.  An op is one chunk's worth of bytes.  Mechanism: M11 (the
 * inline budget ramps while reads and writes complete at once).
 */
#include "stream.h"

static sl_scheduler *sched;
static stream st;
static bool stopping;
static uint64_t deadline, end_ns;

static bool on_read(stream *s, size_t bytes)
{
    (void)bytes;
    uint64_t now = bench_now_ns();
    if (bench_done(s->bytes_read / s->chunk_len, now, deadline)) {
        end_ns = now;
        stopping = true;
        sl_stop(sched);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"throughput_oneway", 65536, 1, 16 << 20, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    sl_socket *socks[2];
    bench_tcp_pair(sched, socks);
    stream_init(&st, socks[0], socks[1], (size_t)bench.param, &stopping, on_read);

    sl_stats_reset(sched);
    uint64_t start = bench_now_ns();
    deadline = start + bench.duration_ns;
    stream_start(&st);
    sl_run(sched);

    double secs = (double)(end_ns - start) / 1e9;
    bench_result("bytes_per_s", "B/s", (double)st.bytes_read / secs, 0);
    bench_finish(sched, st.bytes_read / st.chunk_len);
    sl_socket_close(socks[0]);
    sl_socket_close(socks[1]);
    sl_scheduler_destroy(sched);
    free(st.chunk);
    return 0;
}
