/* sl_tp.h - the kit's LTTng-UST tracepoint provider, `schedlab`.
 *
 * One event per SL_TP(name, s, ...) call site in ref/ (see ref/probe.h):
 * the first argument is always the scheduler, recorded as the integer
 * field `sched` (its address), and every event also records `tid`, the
 * kernel thread id of the thread that fired it, so a trace is readable
 * without the vtid context (trace/record.sh adds that context anyway).
 * Every variant carries the same events, so two variants' traces compare
 * event for event.  Included only by trace builds (-DSL_TRACE); the one
 * translation unit that defines the probes is trace/sl_tp.c.
 *
 * Field values that are codes:
 *   post.path              0 the poster's private queue, 1 the shared queue
 *   wait_begin.timeout     -1 blocks until signaled, 0 bounded by a deadline
 *   eventfd_interrupt.written  1 written, 0 skipped (an interrupt is armed)
 *   timerfd_set.ns         0 disarmed, else the relative expiry programmed
 *   handler_begin.kind     enum sl_op_kind (ref/internal.h): 0 sentinel,
 *                          1 user, 2 descriptor, 3 timer, 4 io, 5 signal,
 *                          6 resolve
 *   op_parked/op_completed.kind  0 read, 1 write, 2 connect, 3 accept
 *   op_completed.err       0 or a negative errno
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER schedlab

/* Re-included by lttng/tracepoint-event.h when sl_tp.c creates the probes;
 * sl_tp.c is compiled with -Itrace so that this name resolves. */
#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "sl_tp.h"

#if !defined(SL_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define SL_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

#ifndef SL_TP_HELPERS
#define SL_TP_HELPERS
/* The calling thread's kernel tid, cached per thread (sl_tp.c). */
int sl_tp_tid(void);
/* Defined only where the provider is linked: lets a test binary tell a
 * trace build from the others through a weak reference. */
int sl_trace_build(void);
#endif

/* The tracepoint macros read better laid out by hand. */
/* clang-format off */

/* The two fields every event starts with. */
#define SL_TP_WHO                                                     \
    lttng_ust_field_integer_hex(uintptr_t, sched, (uintptr_t)sched)   \
    lttng_ust_field_integer(int, tid, sl_tp_tid())

/* Events that carry nothing but the scheduler. */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(schedlab, sched_only,
    LTTNG_UST_TP_ARGS(const void *, sched),
    LTTNG_UST_TP_FIELDS(SL_TP_WHO))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(schedlab, sched_only, schedlab, signal_all,
    LTTNG_UST_TP_ARGS(const void *, sched))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(schedlab, sched_only, schedlab, stop,
    LTTNG_UST_TP_ARGS(const void *, sched))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(schedlab, sched_only, schedlab, shutdown,
    LTTNG_UST_TP_ARGS(const void *, sched))

/* ---- posting and the signal word (M3, M8) ------------------------------ */

LTTNG_UST_TRACEPOINT_EVENT(schedlab, post,
    LTTNG_UST_TP_ARGS(const void *, sched, int, path, long, depth),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, path, path)
        lttng_ust_field_integer(long, depth, depth)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, signal_one,
    LTTNG_UST_TP_ARGS(const void *, sched, int, had_waiter),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, had_waiter, had_waiter)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, wait_begin,
    LTTNG_UST_TP_ARGS(const void *, sched, long, timeout),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(long, timeout, timeout)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, wait_end,
    LTTNG_UST_TP_ARGS(const void *, sched, int, signaled),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, signaled, signaled)))

/* ---- reactor interruption and timers (M5, M6) -------------------------- */

LTTNG_UST_TRACEPOINT_EVENT(schedlab, eventfd_interrupt,
    LTTNG_UST_TP_ARGS(const void *, sched, int, written),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, written, written)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, timerfd_set,
    LTTNG_UST_TP_ARGS(const void *, sched, long, ns),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(long, ns, ns)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, timers_expired,
    LTTNG_UST_TP_ARGS(const void *, sched, long, count),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(long, count, count)))

/* ---- inline budget (M11, M12) ------------------------------------------ */

LTTNG_UST_TRACEPOINT_EVENT(schedlab, budget_refill,
    LTTNG_UST_TP_ARGS(const void *, sched, int, old_cap, int, new_cap,
                      int, unassisted),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, old_cap, old_cap)
        lttng_ust_field_integer(int, new_cap, new_cap)
        lttng_ust_field_integer(int, unassisted, unassisted)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, inline_completion,
    LTTNG_UST_TP_ARGS(const void *, sched, int, budget_left),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, budget_left, budget_left)))

/* ---- the reactor (M1, M10) --------------------------------------------- */

LTTNG_UST_TRACEPOINT_EVENT(schedlab, reactor_enter,
    LTTNG_UST_TP_ARGS(const void *, sched, int, timeout_ms),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, timeout_ms, timeout_ms)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, reactor_exit,
    LTTNG_UST_TP_ARGS(const void *, sched, int, nevents),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, nevents, nevents)))

/* The io_uring scheduler (uring builds): SQEs handed to the kernel by one
 * submit (a batch), CQEs taken by one reap.  reactor_enter / _exit there
 * bracket the leader's kernel wait. */
LTTNG_UST_TRACEPOINT_EVENT(schedlab, uring_submit,
    LTTNG_UST_TP_ARGS(const void *, sched, int, sqes),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, sqes, sqes)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, uring_reap,
    LTTNG_UST_TP_ARGS(const void *, sched, int, cqes),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, cqes, cqes)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, descriptor_ready,
    LTTNG_UST_TP_ARGS(const void *, sched, int, fd, unsigned, events),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, fd, fd)
        lttng_ust_field_integer_hex(unsigned, events, events)))

/* ---- handlers and run ---------------------------------------------------- */

LTTNG_UST_TRACEPOINT_EVENT(schedlab, handler_begin,
    LTTNG_UST_TP_ARGS(const void *, sched, const void *, op, int, kind,
                      long, depth),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer_hex(uintptr_t, op, (uintptr_t)op)
        lttng_ust_field_integer(int, kind, kind)
        lttng_ust_field_integer(long, depth, depth)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, handler_end,
    LTTNG_UST_TP_ARGS(const void *, sched, const void *, op),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer_hex(uintptr_t, op, (uintptr_t)op)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, run_begin,
    LTTNG_UST_TP_ARGS(const void *, sched, long, timeout_us),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(long, timeout_us, timeout_us)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, run_end,
    LTTNG_UST_TP_ARGS(const void *, sched, long, handlers),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(long, handlers, handlers)))

/* ---- socket operations (ref/socket.c) ---------------------------------- */

LTTNG_UST_TRACEPOINT_EVENT(schedlab, op_parked,
    LTTNG_UST_TP_ARGS(const void *, sched, int, fd, int, kind),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, fd, fd)
        lttng_ust_field_integer(int, kind, kind)))

LTTNG_UST_TRACEPOINT_EVENT(schedlab, op_completed,
    LTTNG_UST_TP_ARGS(const void *, sched, int, fd, int, kind, int, err,
                      long, bytes),
    LTTNG_UST_TP_FIELDS(
        SL_TP_WHO
        lttng_ust_field_integer(int, fd, fd)
        lttng_ust_field_integer(int, kind, kind)
        lttng_ust_field_integer(int, err, err)
        lttng_ust_field_integer(long, bytes, bytes)))

/* clang-format on */

#endif /* SL_TP_H */

#include <lttng/tracepoint-event.h>
