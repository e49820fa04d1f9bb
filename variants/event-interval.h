/* event-interval - adds Tokio's event interval: the reactor is polled at most once every SL_EVENT_INTERVAL handlers.
 *
 * The reference polls the reactor (epoll_wait with timeout 0) each time a
 * thread pops the sentinel with handlers queued behind it, once per pass
 * over the queue: with one chain of posts that is one syscall per handler.
 * Tokio's worker polls its driver every `event_interval` (61) ticks.  Here
 * a thread that pops the sentinel with handlers queued polls only if it
 * has run SL_EVENT_INTERVAL handlers since its last poll, and otherwise
 * puts the sentinel back at the tail.  With the queue empty the sentinel
 * blocks in the reactor as before, so starvation stays bounded: by
 * SL_EVENT_INTERVAL handlers or one pass, whichever is longer.
 * `make EVENT_INTERVAL=N` sets N (default 61, Tokio's).
 */
#ifndef SL_EVENT_INTERVAL
#define SL_EVENT_INTERVAL 61
#endif
#define SL_VARIANT_REACTOR_PASS
#ifndef SL_VARIANT_SHARED

/* Handlers this thread ran since its last reactor poll, counted from the
 * frames' handler counts (a new run call's frame starts again at 0). */
static _Thread_local size_t ticks, invoked_seen;

static bool reactor_pass_due(sl_scheduler *s, thread_context *ctx)
{
    (void)s;
    ticks += ctx->invoked >= invoked_seen ? ctx->invoked - invoked_seen : ctx->invoked;
    invoked_seen = ctx->invoked;
    if (ticks < SL_EVENT_INTERVAL)
        return false;
    ticks = 0;
    return true;
}
#endif
