/* hook-interrupts - adds upstream's later timer hook (corosio 8199f3c): an earliest-expiry change always interrupts the reactor.
 *
 * The reference's hook marks the timerfd stale and interrupts only a thread
 * in the reactor, a store/load pair against the reactor's own that needs
 * sequentially consistent orders (the wake-protocol model found the
 * release/acquire version losing a timer).  Upstream since writes the
 * eventfd on every change, in the reactor or not: no load of task_running
 * is left to race with, and the flag is only a note of what to reprogram.
 * Expected: one eventfd write per earliest-expiry change (at most one
 * outstanding), the race gone by design.
 */
#define SL_VARIANT_TIMER_HOOK
#ifndef SL_VARIANT_SHARED

void timers_earliest_changed(sl_scheduler *s)
{
    atomic_store_explicit(&s->timerfd_stale, true, memory_order_seq_cst);
    interrupt_reactor(s);
}
#endif
