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

#endif /* SL_PROBE_H */
