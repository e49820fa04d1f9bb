/* stream.h - a one-way stream on the kit's sockets, shared by
 * throughput_oneway, throughput_twoway and budget_sweep; and
 * stream_throughput_main, the whole of throughput_oneway and
 * throughput_twoway (they differ only in the streams: one, or one each
 * way on the same connection).
 *
 * The writer writes one chunk and, when that completes, the next ("write
 * one chunk then when done write the next", the pattern every peer uses);
 * the reader reads whatever has arrived into a 64 KiB buffer and reads
 * again at once.
 */
#ifndef SL_BENCH_STREAM_H
#define SL_BENCH_STREAM_H

#include "bench.h"

#define STREAM_READ_BUF 65536

typedef struct stream stream;
struct stream {
    sl_socket *writer, *reader;
    bench_xfer write;
    char *chunk;
    size_t chunk_len;
    size_t read_len; /* bytes asked of each read (at most 64 KiB) */
    char rbuf[STREAM_READ_BUF];
    uint64_t bytes_read;
    uint64_t reads;
    const bool *stopping;
    /* Called after each read; returns false to stop reading. */
    bool (*on_read)(stream *st, size_t bytes);
    void *user;
};

static void stream_write_done(bench_xfer *x, int status)
{
    stream *st = x->user;
    bench_check_io("stream write", status, *st->stopping);
    if (status == 0 && !*st->stopping)
        bench_xfer_start(&st->write, true, st->chunk_len);
}

static void stream_read_next(stream *st);

static void stream_read_done(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)sock;
    stream *st = arg;
    bench_check_io("stream read", status, *st->stopping);
    if (status != 0)
        return;
    st->bytes_read += bytes;
    st->reads++;
    if (st->on_read(st, bytes) && !*st->stopping)
        stream_read_next(st);
}

static void stream_read_next(stream *st)
{
    struct iovec iov = {st->rbuf, st->read_len};
    int rc = sl_socket_async_read(st->reader, &iov, 1, stream_read_done, st);
    if (rc < 0)
        bench_die("sl_socket_async_read", rc);
}

static inline void stream_init(stream *st, sl_socket *writer, sl_socket *reader,
                               size_t chunk_len, const bool *stopping,
                               bool (*on_read)(stream *, size_t))
{
    memset(st, 0, sizeof *st);
    st->writer = writer;
    st->reader = reader;
    st->chunk_len = chunk_len;
    st->read_len = STREAM_READ_BUF;
    st->chunk = malloc(chunk_len);
    if (!st->chunk)
        bench_die("malloc", ENOMEM);
    memset(st->chunk, 'x', chunk_len);
    st->stopping = stopping;
    st->on_read = on_read;
    st->write = (bench_xfer){
        .sock = writer, .buf = st->chunk, .on_done = stream_write_done, .user = st};
}

static inline void stream_start(stream *st)
{
    bench_xfer_start(&st->write, true, st->chunk_len);
    stream_read_next(st);
}

/* ---- throughput_oneway and throughput_twoway ---------------------------- */

typedef struct stream_throughput {
    sl_scheduler *sched;
    stream streams[2]; /* [0] writes on socks[0], [1] (twoway) on socks[1] */
    int nstreams;
    bool stopping;
    uint64_t deadline, end_ns;
} stream_throughput;

static uint64_t stream_throughput_bytes(const stream_throughput *t)
{
    uint64_t bytes = 0;
    for (int i = 0; i < t->nstreams; i++)
        bytes += t->streams[i].bytes_read;
    return bytes;
}

static bool stream_throughput_on_read(stream *s, size_t bytes)
{
    (void)bytes;
    stream_throughput *t = s->user;
    uint64_t now = bench_now_ns();
    if (bench_done(stream_throughput_bytes(t) / s->chunk_len, now, t->deadline)) {
        t->end_ns = now;
        t->stopping = true;
        sl_stop(t->sched);
        return false;
    }
    return true;
}

/* The whole of main: one TCP loopback connection, one thread, -p bytes a
 * chunk; `nstreams` 1 streams from socks[0] to socks[1], 2 also back.  An
 * op is one chunk's worth of bytes received, both ways together.
 * Figure: bytes per second received. */
static inline int stream_throughput_main(int argc, char **argv, const bench_spec *spec,
                                         int nstreams)
{
    static stream_throughput t;
    bench_init(argc, argv, spec);
    t.sched = bench_scheduler();
    t.nstreams = nstreams;
    sl_socket *socks[2];
    bench_tcp_pair(t.sched, socks);
    for (int i = 0; i < nstreams; i++) {
        stream_init(&t.streams[i], socks[i], socks[1 - i], (size_t)bench.param,
                    &t.stopping, stream_throughput_on_read);
        t.streams[i].user = &t;
    }

    uint64_t start = bench_begin(t.sched, &t.deadline);
    for (int i = 0; i < nstreams; i++)
        stream_start(&t.streams[i]);
    sl_run(t.sched);

    uint64_t total = stream_throughput_bytes(&t);
    double secs = (double)(t.end_ns - start) / 1e9;
    bench_result("bytes_per_s", "B/s", (double)total / secs, 0);
    bench_finish(t.sched, total / (uint64_t)bench.param);
    sl_socket_close(socks[0]);
    sl_socket_close(socks[1]);
    sl_scheduler_destroy(t.sched);
    for (int i = 0; i < nstreams; i++)
        free(t.streams[i].chunk);
    return 0;
}

#endif /* SL_BENCH_STREAM_H */
