/* sl_tp.c - the translation unit that creates the `schedlab` probes and
 * defines its tracepoints (trace builds only).
 *
 * Linked into every trace build, once: build/<variant>-trace/sl_tp.o,
 * compiled with -Itrace so that lttng/tracepoint-event.h can re-include
 * sl_tp.h, and linked with -llttng-ust -ldl.  It also holds the per-thread
 * tid cache the events record (a syscall per event would cost more than
 * the event itself).
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "sl_tp.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Thread_local int cached_tid;

int sl_tp_tid(void)
{
    if (cached_tid == 0)
        cached_tid = (int)syscall(SYS_gettid);
    return cached_tid;
}

/* A forked child's only thread inherits its parent's cache: forget it. */
static void forget_tid_in_child(void)
{
    cached_tid = 0;
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_tid_in_child);
}

int sl_trace_build(void)
{
    return 1;
}
