/* resolver.c - the resolver service: getaddrinfo on a helper thread, its
 * completion posted back to the scheduler from that thread (the
 * cross-thread path of sl_post, M8's slow path).
 *
 * Port of upstream's posix/posix_resolver_service.hpp and posix_resolver.hpp:
 * one detached thread per lookup, no pool; the service counts its running
 * threads (upstream's thread_started / thread_finished) and its shutdown
 * waits on a condition variable until none is left.
 *
 * A lookup (sl_resolve) moves through three states under the service
 * mutex: RUNNING (the thread is in getaddrinfo, nothing queued), QUEUED
 * (its completion op is queued, with the result or SL_ECANCELED) and DONE
 * (its handler ran, or it was dropped at shutdown).  Only the transition
 * out of RUNNING queues the op, so the handler runs exactly once.  The
 * lookup holds one unit of outstanding work from start until its handler
 * ran: sl_work_started at start, sl_work_finished after the handler, as
 * upstream's on_work_started / work_finished.
 *
 * Two references keep a lookup's memory: the helper thread's and the
 * completion's; whoever drops the last frees it.  Upstream keeps its impl
 * alive the same way with a shared_ptr captured by the thread.
 */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

enum lookup_state { LOOKUP_RUNNING, LOOKUP_QUEUED, LOOKUP_DONE };

typedef struct resolver_service {
    sl_scheduler *sched;
    pthread_mutex_t mutex;
    pthread_cond_t threads_done; /* signalled when active_threads hits 0 */
    size_t active_threads;
    bool shutting_down;
    sl_resolve *lookups; /* started, handler not run yet */
} resolver_service;

/* Upstream: posix_resolver with its embedded resolve_op. */
struct sl_resolve {
    sl_op op; /* first: queued when the lookup completes */
    resolver_service *svc;
    sl_resolve *prev, *next; /* the service's list */
    char *host, *service;    /* owned copies; NULL when absent */
    struct addrinfo hints;
    sl_resolve_handler handler;
    void *arg;
    enum lookup_state state;
    bool cancel_requested; /* cancel came after the result was queued */
    int status;
    struct addrinfo *result; /* handed to the handler on success */
    atomic_int refs;         /* the helper thread's and the completion's */
};

/* ---- lookups (service mutex held for the list) --------------------------- */

static void lookup_link(resolver_service *svc, sl_resolve *r)
{
    r->prev = NULL;
    r->next = svc->lookups;
    if (svc->lookups)
        svc->lookups->prev = r;
    svc->lookups = r;
}

static void lookup_unlink(resolver_service *svc, sl_resolve *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else if (svc->lookups == r)
        svc->lookups = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void lookup_free(sl_resolve *r)
{
    if (r->result)
        freeaddrinfo(r->result);
    free(r->host);
    free(r->service);
    free(r);
}

static void lookup_release(sl_resolve *r)
{
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        lookup_free(r);
}

/* Upstream maps EAI codes onto generic error codes (make_gai_error); the
 * kit keeps them distinct from errno values below SL_EAI_BASE, except
 * EAI_SYSTEM, which is an errno (upstream reports errno there too). */
static int gai_status(int rc, int saved_errno)
{
    if (rc == EAI_SYSTEM && saved_errno != 0)
        return -saved_errno;
    return SL_EAI_BASE - rc;
}

/* ---- the helper thread ---------------------------------------------------- */

/* Upstream: the lambda run by the std::thread in posix_resolver::resolve.
 * Upstream always posts and lets the op see the cancelled flag; here a
 * cancel has already queued the completion, so a late result is freed. */
static void *lookup_thread(void *arg)
{
    sl_resolve *r = arg;
    resolver_service *svc = r->svc;
    struct addrinfo *res = NULL;
    errno = 0;
    int rc = getaddrinfo(r->host, r->service, &r->hints, &res);
    int status = rc == 0 ? 0 : gai_status(rc, errno);

    pthread_mutex_lock(&svc->mutex);
    bool post = r->state == LOOKUP_RUNNING;
    if (post) {
        r->state = LOOKUP_QUEUED;
        r->status = status;
        r->result = res;
        res = NULL;
    }
    pthread_mutex_unlock(&svc->mutex);

    if (res) /* cancelled, or dropped at shutdown */
        freeaddrinfo(res);
    if (post)
        sl_post(svc->sched, &r->op);
    lookup_release(r);

    /* Upstream: thread_finished.  After the unlock the service may be
     * freed, so nothing below touches it. */
    pthread_mutex_lock(&svc->mutex);
    if (--svc->active_threads == 0)
        pthread_cond_broadcast(&svc->threads_done);
    pthread_mutex_unlock(&svc->mutex);
    return NULL;
}

/* ---- completion ops ------------------------------------------------------- */

/* Upstream: resolve_op::operator(). */
void resolve_complete(sl_op *op)
{
    sl_resolve *r = (sl_resolve *)op;
    resolver_service *svc = r->svc;
    sl_scheduler *s = svc->sched;

    pthread_mutex_lock(&svc->mutex);
    r->state = LOOKUP_DONE;
    lookup_unlink(svc, r);
    int status = r->cancel_requested ? SL_ECANCELED : r->status;
    struct addrinfo *res = r->result;
    r->result = NULL;
    pthread_mutex_unlock(&svc->mutex);

    if (status != 0 && res) { /* cancelled after the result came */
        freeaddrinfo(res);
        res = NULL;
    }
    r->handler(r, status, res, r->arg);
    lookup_release(r);
    sl_work_finished(s); /* the unit taken at start */
}

/* Shutdown with the completion still queued: no handler. */
static void resolve_destroy(sl_op *op)
{
    sl_resolve *r = (sl_resolve *)op;
    resolver_service *svc = r->svc;
    sl_scheduler *s = svc->sched;
    pthread_mutex_lock(&svc->mutex);
    r->state = LOOKUP_DONE;
    lookup_unlink(svc, r);
    pthread_mutex_unlock(&svc->mutex);
    lookup_release(r); /* frees the result with the lookup, if last */
    sl_work_finished(s);
}

/* ---- service hooks -------------------------------------------------------- */

int resolver_service_create(sl_scheduler *s)
{
    resolver_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return -ENOMEM;
    pthread_mutex_init(&svc->mutex, NULL);
    pthread_cond_init(&svc->threads_done, NULL);
    svc->sched = s;
    s->resolver = svc;
    return 0;
}

/* Upstream: shutdown.  Lookups still in getaddrinfo are dropped: no
 * handler will run for them, their unit of work is given back, and their
 * threads free the result when it comes.  Then wait for every helper
 * thread to be done with the service (as upstream, this waits as long as
 * the slowest getaddrinfo).  Completions already queued are destroyed by
 * the scheduler right after. */
void resolver_service_shutdown(sl_scheduler *s)
{
    resolver_service *svc = s->resolver;
    if (!svc)
        return;
    size_t dropped = 0;
    pthread_mutex_lock(&svc->mutex);
    svc->shutting_down = true;
    sl_resolve *r = svc->lookups;
    while (r) {
        sl_resolve *next = r->next;
        if (r->state == LOOKUP_RUNNING) {
            r->state = LOOKUP_DONE;
            lookup_unlink(svc, r);
            /* The thread still holds its reference: this never frees. */
            lookup_release(r);
            ++dropped;
        }
        r = next;
    }
    while (svc->active_threads > 0)
        pthread_cond_wait(&svc->threads_done, &svc->mutex);
    pthread_mutex_unlock(&svc->mutex);
    while (dropped--)
        sl_work_finished(s);
}

void resolver_service_destroy(sl_scheduler *s)
{
    resolver_service *svc = s->resolver;
    if (!svc)
        return;
    resolver_service_shutdown(s);
    pthread_cond_destroy(&svc->threads_done);
    pthread_mutex_destroy(&svc->mutex);
    free(svc);
    s->resolver = NULL;
}

/* ---- public API ----------------------------------------------------------- */

static char *copy_or_null(const char *text, bool *failed)
{
    if (!text || !*text) /* upstream passes an empty string as NULL */
        return NULL;
    char *copy = strdup(text);
    if (!copy)
        *failed = true;
    return copy;
}

/* Upstream: posix_resolver::resolve.  Without hints, upstream's defaults:
 * any family, stream sockets. */
int sl_resolve_start(sl_scheduler *s, const char *host, const char *service,
                     const struct addrinfo *hints, sl_resolve_handler h, void *arg,
                     sl_resolve **out)
{
    if (out)
        *out = NULL;
    if (!h)
        return -EINVAL;
#ifdef SL_SINGLE_THREADED
    return -ENOTSUP; /* helper threads would post: see the variant */
#endif
    resolver_service *svc = s->resolver;
    sl_resolve *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    bool failed = false;
    r->host = copy_or_null(host, &failed);
    r->service = copy_or_null(service, &failed);
    if (failed) {
        lookup_free(r);
        return -ENOMEM;
    }
    if (hints) {
        r->hints.ai_flags = hints->ai_flags;
        r->hints.ai_family = hints->ai_family;
        r->hints.ai_socktype = hints->ai_socktype;
        r->hints.ai_protocol = hints->ai_protocol;
    } else {
        r->hints.ai_family = AF_UNSPEC;
        r->hints.ai_socktype = SOCK_STREAM;
    }
    sl_op_init(&r->op, resolve_complete, resolve_destroy);
    r->svc = svc;
    r->handler = h;
    r->arg = arg;
    r->state = LOOKUP_RUNNING;
    atomic_init(&r->refs, 2);

    pthread_mutex_lock(&svc->mutex);
    if (svc->shutting_down) {
        pthread_mutex_unlock(&svc->mutex);
        lookup_free(r);
        return -ESHUTDOWN;
    }
    /* Upstream reports a failed thread start through the handler
     * (EAI_MEMORY, posted); here it is the caller's error and nothing was
     * started.  The helper thread blocks every signal, so process-directed
     * signals go to threads that can handle them, and getaddrinfo is not
     * interrupted.  The mutex is held across creation: the thread cannot
     * queue its completion before the lookup is listed and counted. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pthread_t thread;
    int err = pthread_create(&thread, &attr, lookup_thread, r);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        pthread_mutex_unlock(&svc->mutex);
        lookup_free(r);
        return -err;
    }
    lookup_link(svc, r);
    ++svc->active_threads; /* upstream: thread_started */
    sl_work_started(s);
    if (out)
        *out = r;
    pthread_mutex_unlock(&svc->mutex);
    return 0;
}

/* The handler runs with SL_ECANCELED: queued now if the lookup is still
 * in getaddrinfo (upstream waits for getaddrinfo to return and then
 * reports the cancel; the kit does not hold the handler hostage to a slow
 * lookup), or turned into a cancel if the result is queued but the
 * handler has not run.  After the handler ran, `r` is gone. */
void sl_resolve_cancel(sl_resolve *r)
{
    resolver_service *svc = r->svc;
    pthread_mutex_lock(&svc->mutex);
    bool post = r->state == LOOKUP_RUNNING;
    if (post) {
        r->state = LOOKUP_QUEUED;
        r->status = SL_ECANCELED;
    } else if (r->state == LOOKUP_QUEUED) {
        r->cancel_requested = true;
    }
    pthread_mutex_unlock(&svc->mutex);
    if (post)
        sl_post(svc->sched, &r->op);
}
