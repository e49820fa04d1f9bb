/* unbounded-inline - the inline budget never runs out.
 *
 * Shows why the reference bounds it: every speculative completion runs
 * inline (on the flat trampoline of thread_context.inline_ops, so the
 * stack stays bounded), so a connection that is always ready keeps its
 * thread and other ready descriptors wait.
 */
#define SL_VARIANT_BUDGET
#ifndef SL_VARIANT_SHARED

static inline void budget_refill(sl_scheduler *s, thread_context *ctx)
{
    (void)s;
    ctx->inline_budget_max = INT_MAX;
    ctx->inline_budget = INT_MAX;
}

static inline bool budget_take(thread_context *ctx)
{
    (void)ctx;
    return true;
}
#endif
