/* stats.c - the mechanism counters and the race-window hook, the same for
 * both backends (ref/scheduler.c, uring/scheduler.c), which add only their
 * own counters (uring's ring submits, enters and CQEs) in sl_stats_read.
 *
 * Stats builds (-DSL_STATS) count; in timed builds every call here returns
 * zeros or does nothing, and SL_STAT compiles to nothing on the hot paths
 * (probe.h). */
#include "internal.h"

#include <string.h>

int sl_stats_enabled(void)
{
#ifdef SL_STATS
    return 1;
#else
    return 0;
#endif
}

/* Copies the counters both backends keep (a backend that never bumps one,
 * such as uring's refill_*, reads 0). */
void stats_read_common(sl_scheduler *s, sl_stats *out)
{
#ifdef SL_STATS
#define SL_COPY(f) out->f = atomic_load_explicit(&s->stats.f, memory_order_relaxed)
    SL_COPY(mutex_locks);
    SL_COPY(post_private);
    SL_COPY(post_shared);
    SL_COPY(cond_notify_one);
    SL_COPY(cond_notify_all);
    SL_COPY(cond_waits);
    SL_COPY(eventfd_writes);
    SL_COPY(eventfd_skipped);
    SL_COPY(epoll_wait_blocking);
    SL_COPY(epoll_wait_zero);
    SL_COPY(timerfd_settime);
    SL_COPY(reactor_runs);
    SL_COPY(handlers_run);
    SL_COPY(inline_completions);
    SL_COPY(inline_posted);
    SL_COPY(refill_unassisted);
    SL_COPY(refill_doubled);
    SL_COPY(refill_reset);
    SL_COPY(refill_kept);
#undef SL_COPY
#else
    (void)s;
    (void)out;
#endif
}

#ifdef SL_STATS
_Atomic(sl_race_hook_fn) sl_race_window_hook;
#endif

void sl_set_race_window_hook(void (*hook)(const char *site, const void *obj))
{
#ifdef SL_STATS
    atomic_store_explicit(&sl_race_window_hook, hook, memory_order_release);
#else
    (void)hook;
#endif
}
