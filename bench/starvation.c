/* starvation - a post storm plus a periodic 1 ms timer and a ping-pong, on
 * one scheduler run by one thread, for -t seconds (time-bound).
 *
 * The storm is 16 handlers that re-post themselves from inside the loop
 * until the time is up.  The timer is re-armed at expiry + 1 ms (missed
 * ticks are caught up, each recording its own lateness).  The ping-pong is
 * 64 B over a Unix socketpair.  Figures: storm handlers per second, timer
 * lateness p50 / p99 / max and ping-pong round trip mean / p50 / p99 /
 * p999, in us, during the storm.  With -o FILE, every timer tick and round
 * trip is written as TSV (t_ms, kind, value_us) after the run, from a
 * preallocated log.  Mechanism: M2, the task sentinel (without it the
 * reactor never runs while the queue is non-empty).
 */
#include "pingpong.h"

#define STORM_CHAINS 16
#define TICK_NS 1000000u
#define MESSAGE 64
#define EVENT_CAP (1u << 18)

typedef struct event {
    uint64_t at_ns;
    uint32_t value_ns;
    uint8_t kind; /* 0 timer lateness, 1 round trip */
} event;

static sl_scheduler *sched;
static sl_op storm[STORM_CHAINS];
static sl_timer timer;
static sl_timer_waiter waiter;
static pp_conn conn;
static peer_hist lateness, rtt;
static bool pp_stopping;
static uint64_t start_ns, storm_end, expiry, storm_handlers, storm_end_seen;
static int active; /* storm, timer, ping-pong: sl_stop when all are done */
static event *events;
static size_t nevents;

static void log_event(uint64_t now, uint64_t value, int kind)
{
    if (events && nevents < EVENT_CAP)
        events[nevents++] =
            (event){now - start_ns, value > UINT32_MAX ? UINT32_MAX : (uint32_t)value,
                    (uint8_t)kind};
}

static void part_done(void)
{
    if (--active == 0)
        sl_stop(sched);
}

static void storm_handler(sl_op *op)
{
    ++storm_handlers;
    if (storm_end_seen)
        return;
    if ((storm_handlers & 255u) == 0 && bench_now_ns() >= storm_end) {
        storm_end_seen = storm_handlers;
        part_done();
        return;
    }
    sl_post(sched, op);
}

static void tick(sl_timer_waiter *w, int status)
{
    (void)w;
    if (status != 0)
        bench_die("starvation: timer wait failed", status);
    uint64_t now = bench_now_ns();
    uint64_t late = now > expiry ? now - expiry : 0;
    peer_hist_record(&lateness, late);
    log_event(now, late, 0);
    expiry += TICK_NS;
    if (expiry > storm_end) {
        part_done();
        return;
    }
    sl_timer_expires_at(&timer, expiry);
    int rc = sl_timer_wait(&timer, &waiter);
    if (rc < 0)
        bench_die("sl_timer_wait", rc);
}

static bool round_trip_done(pp_conn *c, uint64_t now, uint64_t ns)
{
    (void)c;
    log_event(now, ns, 1);
    if (now >= storm_end) {
        pp_stopping = true;
        part_done();
        return false;
    }
    return true;
}

static void write_events(void)
{
    FILE *f = fopen(bench.event_path, "w");
    if (!f)
        bench_die(bench.event_path, errno);
    fprintf(f, "# starvation timeline, impl %s: t_ms\tkind\tvalue_us\n",
            sl_variant_name());
    for (size_t i = 0; i < nevents; i++)
        fprintf(f, "%.3f\t%s\t%.3f\n", (double)events[i].at_ns / 1e6,
                events[i].kind ? "rtt" : "timer", (double)events[i].value_ns / 1e3);
    if (nevents == EVENT_CAP)
        fprintf(f, "# log full: later events not written\n");
    fclose(f);
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"starvation", 0, 0, 0, false};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    if (bench.event_path)
        events = bench_calloc(EVENT_CAP, sizeof *events);
    peer_hist_reset(&lateness);
    peer_hist_reset(&rtt);
    sl_socket *socks[2];
    bench_unix_pair(sched, socks);
    pp_init(&conn, socks, MESSAGE, &rtt, &pp_stopping, round_trip_done);
    sl_timer_init(&timer, sched);
    sl_timer_wait_init(&waiter, tick, NULL);
    for (int i = 0; i < STORM_CHAINS; i++)
        sl_op_init(&storm[i], storm_handler, NULL);

    start_ns = bench_begin(sched, &storm_end);
    expiry = start_ns + TICK_NS;
    active = 3;
    sl_timer_expires_at(&timer, expiry);
    int rc = sl_timer_wait(&timer, &waiter);
    if (rc < 0)
        bench_die("sl_timer_wait", rc);
    pp_start(&conn);
    for (int i = 0; i < STORM_CHAINS; i++)
        sl_post(sched, &storm[i]);
    sl_run(sched);
    uint64_t end = bench_now_ns();

    bench_rate(storm_handlers, start_ns, end);
    bench_lateness(&lateness);
    bench_rtt(&rtt);
    bench_finish(sched, storm_handlers);
    if (bench.event_path)
        write_events();
    pp_close(&conn);
    sl_timer_destroy(&timer);
    sl_scheduler_destroy(sched);
    free(events);
    return 0;
}
