/* probe.h - compile-time instrumentation: mechanism counters and tracepoints.
 *
 * The timed build defines neither SL_STATS nor SL_TRACE, and then every
 * macro here expands to nothing: the hot paths carry no counter, no branch
 * and no tracepoint.  A stats build (-DSL_STATS) counts per scheduler with
 * relaxed atomic adds; a trace build (-DSL_TRACE) fires the LTTng-UST
 * tracepoints of trace/sl_tp.h.
 */
#ifndef SL_PROBE_H
#define SL_PROBE_H

#ifdef SL_STATS
#include <stdatomic.h>
#define SL_STAT(s, field)                                                                \
    atomic_fetch_add_explicit(&(s)->stats.field, 1, memory_order_relaxed)
#else
#define SL_STAT(s, field) ((void)0)
#endif

#ifdef SL_TRACE
#include "../trace/sl_tp.h"
#define SL_TP(name, ...) lttng_ust_tracepoint(schedlab, name, __VA_ARGS__)
#else
#define SL_TP(name, ...) ((void)0)
#endif

/* A race window (stats builds only): a named point inside a window where
 * another thread's action changes the outcome.  The suite widens such a
 * window by installing a hook that sleeps there (sl_set_race_window_hook),
 * the way tests/fault.c delays a syscall; elsewhere it is nothing. */
#ifdef SL_STATS
typedef void (*sl_race_hook_fn)(const char *site, const void *obj);
extern _Atomic(sl_race_hook_fn) sl_race_window_hook;
#define SL_RACE_WINDOW(site, obj)                                                        \
    do {                                                                                 \
        sl_race_hook_fn hook_ =                                                          \
            atomic_load_explicit(&sl_race_window_hook, memory_order_acquire);           \
        if (hook_)                                                                       \
            hook_(site, obj);                                                            \
    } while (0)
#else
#define SL_RACE_WINDOW(site, obj) ((void)0)
#endif

#endif /* SL_PROBE_H */
