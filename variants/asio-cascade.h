/* asio-cascade - adds Asio's cascade through the full wake policy (Asio's scheduler::do_run_one).
 *
 * A thread that takes a handler while more are queued wakes one more
 * thread.  Upstream (and the reference) signals a condvar waiter only, so
 * with one thread blocked in epoll_wait and none on the condvar a backlog
 * is worked by one thread.  Asio calls wake_one_thread_and_unlock there:
 * a waiter if any, else an interrupt of a blocked reactor (M4, M5), whose
 * thread then joins in.  Expected: more multi-thread throughput under a
 * backlog, at the price of eventfd writes.
 */
#define SL_VARIANT_CASCADE
#ifndef SL_VARIANT_SHARED

/* Mutex held on entry, released on return; whether a thread was woken
 * (a thread that woke nobody runs "unassisted", M12). */
static bool cascade_wake_and_unlock(sl_scheduler *s)
{
    if (maybe_unlock_and_signal_one(s))
        return true;
    if (atomic_load_explicit(&s->task_running, memory_order_relaxed) &&
        !s->task_interrupted) {
        s->task_interrupted = true;
        sched_unlock(s);
        interrupt_reactor(s);
        return true;
    }
    sched_unlock(s);
    return false;
}
#endif
