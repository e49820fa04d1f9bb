/* timer_schedule_cancel - as the peers: set a timer 1 s ahead, wait on it,
 * cancel; the cancelled waits complete in the sl_poll after each batch of
 * 1000.  Figures: operations (schedule + cancel) per second; with the
 * stats build, timerfd_settime calls per operation.  Mechanism: M6 (the
 * timerfd is only marked stale, so a schedule-then-cancel pair costs no
 * syscall).
 */
#include "bench.h"

#define BATCH 1000

static uint64_t completed, cancelled;

static void wait_handler(sl_timer_waiter *w, int status)
{
    (void)w;
    ++completed;
    if (status == SL_ECANCELED)
        ++cancelled;
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"timer_schedule_cancel", 0, 0, 0, true};
    bench_init(argc, argv, &spec);
    sl_scheduler *s = bench_scheduler();
    sl_timer timer;
    sl_timer_init(&timer, s);
    static sl_timer_waiter waiters[BATCH];
    for (int i = 0; i < BATCH; i++)
        sl_timer_wait_init(&waiters[i], wait_handler, NULL);

    uint64_t count = 0, deadline, now;
    uint64_t start = bench_begin(s, &deadline);
    do {
        for (int i = 0; i < BATCH; i++) {
            sl_timer_expires_after(&timer, 1000000000u);
            int rc = sl_timer_wait(&timer, &waiters[i]);
            if (rc < 0)
                bench_die("sl_timer_wait", rc);
            sl_timer_cancel(&timer);
        }
        count += BATCH;
        sl_poll(s);
        sl_restart(s);
        now = bench_now_ns();
    } while (!bench_done(count, now, deadline));
    sl_run(s);
    now = bench_now_ns();
    if (completed != count || cancelled != count) {
        fprintf(stderr,
                "timer_schedule_cancel: %llu of %llu waits completed, %llu cancelled\n",
                (unsigned long long)completed, (unsigned long long)count,
                (unsigned long long)cancelled);
        return 1;
    }

    bench_rate(count, start, now);
    bench_finish(s, count);
    sl_timer_destroy(&timer);
    sl_scheduler_destroy(s);
    return 0;
}
