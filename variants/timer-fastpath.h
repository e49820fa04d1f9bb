/* timer-fastpath - adds libuv's due-timer pass (uv__run_timers): timers already due run at the start of a reactor pass, with no timerfd read.
 *
 * In the reference an expiry reaches the handlers only through the kernel:
 * the timerfd fires, epoll_wait reports it, the reactor reads it, then
 * harvests the heap and reprograms (M6).  libuv checks its timer heap
 * against the loop's clock at the start of each turn.  Here the reactor
 * does the same before epoll_wait: if the heap's cached minimum is due
 * (an atomic load and a vDSO clock read), it harvests now and polls
 * instead of blocking; the timerfd is reprogrammed by the stale flush that
 * follows, which also clears an expiry the kernel had already counted.
 */
#define SL_VARIANT_DUE_TIMERS
#ifndef SL_VARIANT_SHARED

/* run_task, mutex released: returns the epoll timeout to use. */
static int run_due_timers(sl_scheduler *s, int timeout_ms)
{
    if (timer_service_nearest(s) > sl_now_ns())
        return timeout_ms;
    timer_service_process_expired(s); /* to this thread's private queue */
    atomic_store_explicit(&s->timerfd_stale, true, memory_order_seq_cst);
    return 0;
}
#endif
