/* gated-stop - adds Asio's gate on stop()'s reactor interrupt (Asio's scheduler::stop_all_threads).
 *
 * The reference's sl_stop writes the eventfd whether or not a thread is in
 * the reactor (upstream 6e759c2, still at 4276bd4), so every run that ends
 * because its work ran out (a poll after a batch, say) pays a write and,
 * at the next reactor pass, a read.  Asio interrupts only a reactor that a
 * thread is blocked in and that nobody has interrupted yet, the test the
 * wake policy (M4) already makes; a thread that is not in the reactor
 * sees `stopped` before it enters it again (both under the mutex).
 */
#define SL_VARIANT_STOP_WAKE
#ifndef SL_VARIANT_SHARED

/* Mutex held (sl_stop). */
static void stop_wake_reactor(sl_scheduler *s)
{
    if (atomic_load_explicit(&s->task_running, memory_order_relaxed) &&
        !s->task_interrupted) {
        s->task_interrupted = true;
        interrupt_reactor(s);
    }
}
#endif
