/* timer_concurrent - 1000 timers (param), each periodic with a 10 ms period
 * and its own phase, spread evenly; each handler records how late it ran
 * and re-arms at the next absolute expiry.  One thread runs sl_run for the
 * time given (-t; the workload is time-bound, not fixed-work).  Figures:
 * fires per second, lateness p50 / p99 / max in us.  Mechanism: M6 (the
 * timerfd follows the earliest of many expiries) and the heap.
 */
#include "bench.h"

#define PERIOD_NS 10000000u

typedef struct periodic {
    sl_timer timer;
    sl_timer_waiter waiter;
    uint64_t expiry;
} periodic;

static peer_hist lateness;
static uint64_t fires, deadline;

static void fire_handler(sl_timer_waiter *w, int status)
{
    periodic *p = (periodic *)((char *)w - offsetof(periodic, waiter));
    if (status != 0)
        bench_die("timer_concurrent: wait failed", status);
    uint64_t now = bench_now_ns();
    peer_hist_record(&lateness, now > p->expiry ? now - p->expiry : 0);
    ++fires;
    p->expiry += PERIOD_NS;
    if (p->expiry >= deadline)
        return;
    sl_timer_expires_at(&p->timer, p->expiry);
    int rc = sl_timer_wait(&p->timer, &p->waiter);
    if (rc < 0)
        bench_die("sl_timer_wait", rc);
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"timer_concurrent", 1000, 1, 100000, false};
    bench_init(argc, argv, &spec);
    sl_scheduler *s = bench_scheduler();
    long n = bench.param;
    periodic *timers = bench_calloc((size_t)n, sizeof *timers);
    peer_hist_reset(&lateness);

    uint64_t start = bench_begin(s, &deadline);
    for (long i = 0; i < n; i++) {
        periodic *p = &timers[i];
        sl_timer_init(&p->timer, s);
        sl_timer_wait_init(&p->waiter, fire_handler, NULL);
        p->expiry = start + PERIOD_NS / 10 + (uint64_t)i * PERIOD_NS / (uint64_t)n;
        sl_timer_expires_at(&p->timer, p->expiry);
        int rc = sl_timer_wait(&p->timer, &p->waiter);
        if (rc < 0)
            bench_die("sl_timer_wait", rc);
    }
    sl_run(s);
    uint64_t end = bench_now_ns();

    bench_rate(fires, start, end);
    bench_lateness(&lateness);
    bench_finish(s, fires);
    for (long i = 0; i < n; i++)
        sl_timer_destroy(&timers[i].timer);
    sl_scheduler_destroy(s);
    free(timers);
    return 0;
}
