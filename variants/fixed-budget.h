/* fixed-budget - a constant inline budget of SL_FIXED_BUDGET per refill.
 *
 * Built as budget-N by `make BUDGET=1,2,4,...` for sweeps: the reference's
 * adaptive rule (2, doubling to 16, back to 2 after partial use, 4 when
 * unassisted) is replaced by the same cap at every refill.
 */
#ifndef SL_FIXED_BUDGET
#error "fixed-budget needs -DSL_FIXED_BUDGET=N"
#endif
#define SL_VARIANT_BUDGET
#ifndef SL_VARIANT_SHARED

static inline void budget_refill(sl_scheduler *s, thread_context *ctx)
{
    (void)s;
    ctx->inline_budget_max = SL_FIXED_BUDGET;
    ctx->inline_budget = SL_FIXED_BUDGET;
}

static inline bool budget_take(thread_context *ctx)
{
    if (ctx->inline_budget > 0) {
        --ctx->inline_budget;
        return true;
    }
    return false;
}
#endif
