/* pingpong.h - one ping-pong connection on the kit's sockets, shared by
 * pingpong_tcp, pingpong_unix, pingpong_concurrent, starvation and
 * budget_sweep; and pp_single_main, the whole of pingpong_tcp and
 * pingpong_unix (they differ only in the connected pair).
 *
 * Client: write n bytes, read n bytes back, record the round trip, again.
 * Server: keep a read of n bytes pending, echo what it read.  Both ends
 * run on the same scheduler.  Partial transfers are re-issued (bench_xfer),
 * so every round trip moves exactly n bytes each way.
 */
#ifndef SL_BENCH_PINGPONG_H
#define SL_BENCH_PINGPONG_H

#include "bench.h"

typedef struct pp_conn pp_conn;
struct pp_conn {
    sl_socket *client, *server;
    bench_xfer client_write, client_read, server_read, server_write;
    char *cbuf, *sbuf;
    size_t n;
    uint64_t t0;
    peer_hist *hist;      /* round trips land here (may be shared) */
    const bool *stopping; /* set once the workload is ending */
    /* Called after each round trip; returns false to stop this connection. */
    bool (*on_round_trip)(pp_conn *c, uint64_t now, uint64_t rtt_ns);
    void *user;
};

static void pp_client_send(pp_conn *c);

static void pp_client_read_done(bench_xfer *x, int status)
{
    pp_conn *c = x->user;
    bench_check_io("ping-pong client read", status, *c->stopping);
    if (status != 0)
        return;
    uint64_t now = bench_now_ns();
    uint64_t rtt = now - c->t0;
    if (c->hist)
        peer_hist_record(c->hist, rtt);
    if (c->on_round_trip(c, now, rtt) && !*c->stopping)
        pp_client_send(c);
}

static void pp_client_write_done(bench_xfer *x, int status)
{
    pp_conn *c = x->user;
    bench_check_io("ping-pong client write", status, *c->stopping);
    if (status == 0)
        bench_xfer_start(&c->client_read, false, c->n);
}

static void pp_client_send(pp_conn *c)
{
    c->t0 = bench_now_ns();
    bench_xfer_start(&c->client_write, true, c->n);
}

static void pp_server_write_done(bench_xfer *x, int status);

static void pp_server_read_done(bench_xfer *x, int status)
{
    pp_conn *c = x->user;
    bench_check_io("ping-pong server read", status, *c->stopping);
    if (status == 0)
        bench_xfer_start(&c->server_write, true, c->n);
}

static void pp_server_write_done(bench_xfer *x, int status)
{
    pp_conn *c = x->user;
    bench_check_io("ping-pong server write", status, *c->stopping);
    if (status == 0)
        bench_xfer_start(&c->server_read, false, c->n);
}

/* Sets up `c` over a connected pair (socks[0] client, socks[1] server). */
static inline void pp_init(pp_conn *c, sl_socket *socks[2], size_t n, peer_hist *hist,
                           const bool *stopping,
                           bool (*on_round_trip)(pp_conn *, uint64_t, uint64_t))
{
    memset(c, 0, sizeof *c);
    c->client = socks[0];
    c->server = socks[1];
    c->n = n;
    c->cbuf = malloc(n);
    c->sbuf = malloc(n);
    if (!c->cbuf || !c->sbuf)
        bench_die("malloc", ENOMEM);
    memset(c->cbuf, 'P', n);
    c->hist = hist;
    c->stopping = stopping;
    c->on_round_trip = on_round_trip;
    bench_xfer *xs[4] = {&c->client_write, &c->client_read, &c->server_read,
                         &c->server_write};
    for (int i = 0; i < 4; i++)
        xs[i]->user = c;
    c->client_write = (bench_xfer){
        .sock = c->client, .buf = c->cbuf, .on_done = pp_client_write_done, .user = c};
    c->client_read = (bench_xfer){
        .sock = c->client, .buf = c->cbuf, .on_done = pp_client_read_done, .user = c};
    c->server_read = (bench_xfer){
        .sock = c->server, .buf = c->sbuf, .on_done = pp_server_read_done, .user = c};
    c->server_write = (bench_xfer){
        .sock = c->server, .buf = c->sbuf, .on_done = pp_server_write_done, .user = c};
}

/* Starts the server's read and the first round trip. */
static inline void pp_start(pp_conn *c)
{
    bench_xfer_start(&c->server_read, false, c->n);
    pp_client_send(c);
}

static inline void pp_close(pp_conn *c)
{
    sl_socket_close(c->client);
    sl_socket_close(c->server);
    free(c->cbuf);
    free(c->sbuf);
}

/* ---- one connection, one thread: pingpong_tcp and pingpong_unix -------- */

typedef struct pp_single {
    sl_scheduler *sched;
    bool stopping;
    uint64_t round_trips, deadline;
} pp_single;

static bool pp_single_round_trip(pp_conn *c, uint64_t now, uint64_t rtt)
{
    (void)rtt;
    pp_single *r = c->user;
    if (bench_done(++r->round_trips, now, r->deadline)) {
        r->stopping = true;
        sl_stop(r->sched);
        return false;
    }
    return true;
}

/* The whole of main: one client and one echo server over the pair that
 * make_pair connects, -p bytes a message, until -t (or -n round trips).
 * Figures: round trip mean / p50 / p99 / p999 in us. */
static inline int pp_single_main(int argc, char **argv, const bench_spec *spec,
                                 void (*make_pair)(sl_scheduler *, sl_socket *[2]))
{
    static pp_single run;
    static pp_conn conn;
    static peer_hist hist;
    bench_init(argc, argv, spec);
    run.sched = bench_scheduler();
    sl_socket *socks[2];
    make_pair(run.sched, socks);
    peer_hist_reset(&hist);
    pp_init(&conn, socks, (size_t)bench.param, &hist, &run.stopping,
            pp_single_round_trip);
    conn.user = &run;

    bench_begin(run.sched, &run.deadline);
    pp_start(&conn);
    sl_run(run.sched);

    bench_rtt(&hist);
    bench_finish(run.sched, run.round_trips);
    pp_close(&conn);
    sl_scheduler_destroy(run.sched);
    return 0;
}

#endif /* SL_BENCH_PINGPONG_H */
