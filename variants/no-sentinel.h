/* no-sentinel - removes M2, the task sentinel.
 *
 * The reference keeps a do-nothing op in the shared queue; whoever pops it
 * runs the reactor (polling if handlers are queued) and pushes it back, so
 * the reactor runs at least once per pass over the queue.  Here there is
 * no sentinel: a thread runs the reactor only when it finds the queue
 * empty and no other thread is in it.  Expected loss: under a storm of
 * handlers that keep the queue non-empty, timers, signals and socket
 * readiness wait until the storm ends.
 */
#define SL_HAS_SENTINEL 0
#define SL_VARIANT_DO_ONE
#ifndef SL_VARIANT_SHARED

/* The reference's do_one contracts hold here too: a poll makes one
 * zero-timeout reactor pass when the queue is empty and the reactor free,
 * and wait_one gives the reactor what is left of its deadline. */
static bool do_one(sl_scheduler *s, long timeout_us, const struct timespec *deadline,
                   thread_context *ctx, bool *held)
{
    for (;;) {
        if (s->stopped)
            return false;
        sl_op *op = op_queue_pop(&s->completed_ops);
        if (op != NULL) {
            *held = run_handler(s, ctx, op);
            return true;
        }
        if (atomic_load_explicit(&s->outstanding_work, memory_order_acquire) == 0 ||
            (timeout_us == 0 && ctx->polled))
            return false;
        if (!atomic_load_explicit(&s->task_running, memory_order_relaxed)) {
            /* Queue empty, reactor free: become it. */
            long task_timeout_us = timeout_us;
            if (timeout_us > 0) {
                task_timeout_us = remaining_us(deadline);
                if (task_timeout_us <= 0 && ctx->polled)
                    return false;
                if (task_timeout_us < 0)
                    task_timeout_us = 0;
            }
            ctx->polled = true;
            s->task_interrupted = task_timeout_us == 0;
            atomic_store_explicit(&s->task_running, true, memory_order_seq_cst);
            run_task(s, ctx, task_timeout_us, true);
            atomic_store_explicit(&s->task_running, false, memory_order_relaxed);
            continue;
        }
        if (timeout_us == 0)
            return false;
        clear_signal(s);
        if (timeout_us < 0) {
            wait_for_signal(s);
        } else {
            if (deadline_passed(deadline))
                return false;
            wait_for_signal_until(s, deadline);
        }
    }
}
#endif
