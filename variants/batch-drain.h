/* batch-drain - adds libuv's and Tokio's batched pull (uv__async_io drains its whole queue; Tokio's inject queue is pulled in batches): up to SL_BATCH ops per lock.
 *
 * In the reference a thread takes one op per lock of the shared queue, so
 * a stream of posts from outside costs each handler a lock pair on both
 * sides.  Here the thread that pops a handler also takes up to
 * SL_BATCH - 1 more (never past the sentinel, so the reactor's turn is not
 * delayed) and runs them one after another without the lock.  What is
 * left when it leaves the run function, enters a nested run, or sees a
 * stop goes back to the head of the shared queue.  A stop is noticed
 * between batched ops through a process-wide stop count (sl_stop, under
 * the mutex), since `stopped` may only be read under the mutex.
 * Expected: cross-thread posting faster; the price, up to SL_BATCH - 1
 * ops that another idle thread could have run.
 */
#ifndef SL_BATCH
#define SL_BATCH 16
#endif
#define SL_VARIANT_BATCH
#define SL_VARIANT_STOP_WAKE
#ifndef SL_VARIANT_SHARED

/* One batch per thread, owned by the frame that took it. */
static _Thread_local sl_op_queue batch;
static _Thread_local const thread_context *batch_owner;
static _Thread_local unsigned long batch_stop_seen;
static atomic_ulong stop_count;
#ifdef SL_TRACE
static int op_kind(const sl_scheduler *s, const sl_op *op);
#endif

static void stop_wake_reactor(sl_scheduler *s)
{
    atomic_fetch_add_explicit(&stop_count, 1, memory_order_relaxed);
    interrupt_reactor(s);
}

/* run_handler, mutex held: the handler `op` was just popped. */
static void take_batch(sl_scheduler *s, thread_context *ctx)
{
    if (!op_queue_empty(&batch))
        return; /* an outer frame's batch is still running */
    for (int n = 1; n < SL_BATCH; ++n) {
        sl_op *next = s->completed_ops.head;
        if (next == NULL || next == &s->task_op)
            break;
        op_queue_push(&batch, op_queue_pop(&s->completed_ops));
    }
    batch_owner = ctx;
    batch_stop_seen = atomic_load_explicit(&stop_count, memory_order_relaxed);
}

/* Mutex held: what is left goes back to the head of the shared queue. */
static void return_batch(sl_scheduler *s, thread_context *ctx)
{
    if (batch_owner != ctx || op_queue_empty(&batch))
        return;
    op_queue_splice(&batch, &s->completed_ops);
    s->completed_ops = batch;
    batch.head = batch.tail = NULL;
    OPQ_DEPTH(&batch, = 0);
}

static void hand_off_batch(sl_scheduler *s, thread_context *outer)
{
    if (batch_owner != outer || op_queue_empty(&batch))
        return;
    sched_lock(s);
    return_batch(s, outer);
    wake_one_thread_and_unlock(s);
}

/* run_loop, after a step: runs the next batched op, without the mutex;
 * false when there is none (or a stop put them back). */
static bool run_batched(sl_scheduler *s, thread_context *ctx, bool *held)
{
    if (batch_owner != ctx || op_queue_empty(&batch))
        return false;
    if (atomic_load_explicit(&stop_count, memory_order_relaxed) != batch_stop_seen) {
        if (!*held)
            sched_lock(s);
        *held = true;
        return_batch(s, ctx);
        return false;
    }
    if (*held)
        sched_unlock(s);
    sl_op *op = op_queue_pop(&batch);
    SL_STAT(s, handlers_run);
    SL_TP(handler_begin, s, op, op_kind(s, op), 0L);
    if (op->complete != descriptor_run && op->complete != signal_pipe_run)
        ++ctx->invoked;
    op->complete(op);
    sl_op *next;
    while ((next = op_queue_pop(&ctx->inline_ops)) != NULL) {
        ++ctx->invoked;
        next->complete(next);
    }
    SL_TP(handler_end, s, op);
    *held = work_cleanup(s, ctx);
    return true;
}
#endif
