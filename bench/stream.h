/* stream.h - a one-way stream on the kit's sockets, shared by
 * throughput_oneway, throughput_twoway and budget_sweep.
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

#endif /* SL_BENCH_STREAM_H */
