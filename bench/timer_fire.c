/* timer_fire - as the peers: a timer set to expire now (0 delay) and
 * re-armed from its own handler.  Figure: fires per second.  In the
 * reference a wait on an expiry already past completes through the queue
 * without entering the heap, so this is the timer service's fast path plus
 * one post per fire.  Mechanisms: M6, M8.
 */
#include "bench.h"

static sl_timer timer;
static sl_timer_waiter waiter;
static uint64_t fires, deadline, end_ns;

static void arm(void)
{
    sl_timer_expires_after(&timer, 0);
    int rc = sl_timer_wait(&timer, &waiter);
    if (rc < 0)
        bench_die("sl_timer_wait", rc);
}

static void fire_handler(sl_timer_waiter *w, int status)
{
    (void)w;
    if (status != 0)
        bench_die("timer_fire: wait failed", status);
    ++fires;
    if ((fires & 1023u) == 0 || bench_work_done(fires)) {
        uint64_t now = bench_now_ns();
        if (bench_done(fires, now, deadline)) {
            end_ns = now;
            return;
        }
    }
    arm();
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"timer_fire", 0, 0, 0, true};
    bench_init(argc, argv, &spec);
    sl_scheduler *s = bench_scheduler();
    sl_timer_init(&timer, s);
    sl_timer_wait_init(&waiter, fire_handler, NULL);

    uint64_t start = bench_begin(s, &deadline);
    arm();
    sl_run(s);
    if (!end_ns)
        end_ns = bench_now_ns();

    bench_rate(fires, start, end_ns);
    bench_finish(s, fires);
    sl_timer_destroy(&timer);
    sl_scheduler_destroy(s);
    return 0;
}
