/* tuned - the composite of the added ideas the kit's numbers support: gated-stop, event-interval, batch-drain, send-recv (bench/HYPOTHESES.md).
 *
 * Each part is its own variant file, included here unchanged, except the
 * stop hook, which both gated-stop and batch-drain replace: tuned's counts
 * the stop for the batch and writes the eventfd only to a thread blocked
 * in the reactor.  Left out: single-threaded (it gives up the multi-thread
 * properties), hook-interrupts (a cost), asio-cascade and timer-fastpath
 * (no effect shown).  Its property column must equal ref's.
 */
#include "event-interval.h"
#include "send-recv.h"
#define SL_BATCH_STOP_ELSEWHERE
#include "batch-drain.h"
#ifndef SL_VARIANT_SHARED

/* Mutex held (sl_stop): batch-drain's count, gated-stop's interrupt. */
static void stop_wake_reactor(sl_scheduler *s)
{
    atomic_fetch_add_explicit(&stop_count, 1, memory_order_relaxed);
    if (atomic_load_explicit(&s->task_running, memory_order_relaxed) &&
        !s->task_interrupted) {
        s->task_interrupted = true;
        interrupt_reactor(s);
    }
}
#endif
