/* no-inline-budget - removes M11's inline path: the budget is always 0.
 *
 * In the reference an I/O operation that completes at initiation runs its
 * handler inline while the thread's adaptive budget (2, doubling to 16,
 * 4 when unassisted) lasts.  Here every speculative completion is posted
 * to the queue and its handler runs on a later pass.
 */
#define SL_VARIANT_BUDGET
#ifndef SL_VARIANT_SHARED

static inline void budget_refill(sl_scheduler *s, thread_context *ctx)
{
    (void)s;
    ctx->inline_budget_max = 0;
    ctx->inline_budget = 0;
}

static inline bool budget_take(thread_context *ctx)
{
    (void)ctx;
    return false;
}
#endif
