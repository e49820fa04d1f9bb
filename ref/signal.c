/* signal.c - the signal service: signal sets whose waits complete through
 * the scheduler, fed by an async-signal-safe self-pipe.
 *
 * Port of upstream's posix/posix_signal_service.hpp, in its three layers:
 *   - process-wide state (`registry`): how many sets hold each signal in the
 *     whole process, the disposition each first registration replaced, and
 *     the table of delivery pipes the signal handler writes to;
 *   - one service per scheduler (`signal_service`): its sets, how many of
 *     them hold each signal, and its self-pipe, registered with the
 *     scheduler as a descriptor (M10);
 *   - the sets (`sl_signal_set`): a mask of signal numbers, a count of
 *     undelivered signals per number, and at most one wait.
 *
 * Delivery.  The handler only writes the signal number (one byte) to the
 * pipe of each service that holds that signal.  The reactor sees the pipe
 * readable and enqueues the service's descriptor state like a socket's;
 * the scheduler thread that pops it (signal_pipe_run) drains the pipe and,
 * under the service mutex, completes every set waiting for that signal
 * and counts it as undelivered for the others.  A later wait takes the
 * lowest undelivered signal first, as upstream walks its sorted list.
 *
 * Work.  A wait holds one unit of outstanding work from the moment it
 * parks until its completion is taken from the queue; a completion op in
 * the queue always holds exactly one unit, which popping it consumes, so
 * signal_wait_complete itself counts nothing.  The descriptor run counts
 * as one popped op: the first wait it completes runs inline and uses that
 * unit; the others are queued with their own; a run that completes
 * nothing compensates (compensating_work_started).
 *
 * Lifetime.  A set is freed when it has been destroyed and no completion
 * of it is queued or running (`queued`, `running`), so a handler may
 * destroy its own set.  Sets not destroyed by the user are freed with the
 * service, as upstream's shutdown deletes its impls.
 *
 * Locks, in this order: registry.mutex, then a service's mutex.  The
 * signal handler takes neither.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Valid signal numbers are 1 .. NSIG-1; one bit each in a 64-bit mask. */
_Static_assert(NSIG - 1 <= 64, "signal numbers must fit a 64-bit mask");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
               "the signal handler needs lock-free atomics");

/* How many schedulers may hold signal sets at the same time: the signal
 * handler scans a fixed table, since it may not allocate or lock.  The
 * next sl_signal_set_create beyond it fails with -EMFILE. */
#ifndef SL_SIGNAL_MAX_SERVICES
#define SL_SIGNAL_MAX_SERVICES 64
#endif

static inline unsigned long long signal_bit(int signo)
{
    return 1ULL << (signo - 1);
}

/* ---- process-wide state --------------------------------------------------- */

/* One per service that has a pipe.  Read by the signal handler. */
typedef struct delivery_slot {
    atomic_int write_fd;        /* -1: nothing to write to */
    atomic_ullong wanted;       /* signal_bit of each signal it holds */
    atomic_int handlers_inside; /* handlers between reading write_fd
                                   and finishing their write */
} delivery_slot;

static delivery_slot delivery_slots[SL_SIGNAL_MAX_SERVICES];
static pthread_once_t delivery_slots_once = PTHREAD_ONCE_INIT;

/* Upstream: signal_state. */
static struct {
    pthread_mutex_t mutex;
    size_t registration_count[NSIG]; /* sets holding each signal */
    struct sigaction previous[NSIG]; /* restored by the last removal */
    bool slot_taken[SL_SIGNAL_MAX_SERVICES];
} registry = {.mutex = PTHREAD_MUTEX_INITIALIZER};

static void delivery_slots_init(void)
{
    for (int i = 0; i < SL_SIGNAL_MAX_SERVICES; ++i) {
        atomic_init(&delivery_slots[i].write_fd, -1);
        atomic_init(&delivery_slots[i].wanted, 0);
        atomic_init(&delivery_slots[i].handlers_inside, 0);
    }
}

/* The process-wide handler.  Upstream's handler walks the services and
 * posts completions under two mutexes, and its own notes say this is not
 * async-signal-safe (a signal landing on a thread that holds one of them
 * deadlocks).  Here the handler only does what POSIX allows: lock-free
 * atomic loads and write(2) of the signal number to each interested
 * service's non-blocking pipe, saving errno around it; everything that
 * needs a lock happens later, on a scheduler thread, in signal_pipe_run.
 * If a pipe is full (64 KiB of undrained signals) the byte is dropped,
 * as the kernel itself merges pending standard signals. */
static void signal_to_pipes(int signo)
{
    int saved_errno = errno;
    unsigned char byte = (unsigned char)signo;
    unsigned long long bit = signal_bit(signo);
    for (int i = 0; i < SL_SIGNAL_MAX_SERVICES; ++i) {
        delivery_slot *slot = &delivery_slots[i];
        if (!(atomic_load(&slot->wanted) & bit))
            continue;
        /* Announce ourselves before reading the fd: release_slot stores
         * -1 and then waits for handlers_inside to drop to zero, so the
         * fd is never closed (or reused) under this write. */
        atomic_fetch_add(&slot->handlers_inside, 1);
        int fd = atomic_load(&slot->write_fd);
        if (fd >= 0) {
            ssize_t r = write(fd, &byte, 1);
            (void)r;
        }
        atomic_fetch_sub(&slot->handlers_inside, 1);
    }
    errno = saved_errno;
}

static bool signal_number_valid(int signo)
{
    return signo >= 1 && signo < NSIG && signo != SIGKILL && signo != SIGSTOP;
}

/* ---- service and set ------------------------------------------------------ */

typedef struct signal_service {
    descriptor_state pipe_desc; /* first: its op is what the reactor queues */
    sl_scheduler *sched;
    pthread_mutex_t mutex;
    sl_signal_set *sets;             /* every set not yet freed */
    size_t registration_count[NSIG]; /* sets of this service per signal */
    int read_fd, write_fd;           /* -1 until the first set exists */
    int slot;                        /* delivery slot, -1 when none */
    bool pipe_registered;            /* read_fd is in the epoll set */
    bool shut_down;
} signal_service;

/* Upstream: posix_signal (the set) with its embedded signal_op. */
struct sl_signal_set {
    sl_op op; /* first: queued when the wait completes */
    signal_service *svc;
    sl_signal_set *prev, *next;      /* the service's list */
    unsigned long long mask;         /* signal_bit of each held signal */
    unsigned long undelivered[NSIG]; /* raised while no wait was pending */
    sl_signal_handler handler;
    void *arg;
    int status, signo; /* result of the completed wait */
    bool waiting;      /* a wait is parked, holding one unit of work */
    bool queued;       /* its completion is queued (or about to run) */
    int running;       /* completions inside the handler right now */
    bool destroyed;    /* the user let go of it */
};

/* Service mutex held. */
static void set_unlink(signal_service *svc, sl_signal_set *set)
{
    if (set->prev)
        set->prev->next = set->next;
    else
        svc->sets = set->next;
    if (set->next)
        set->next->prev = set->prev;
    set->prev = set->next = NULL;
}

/* Service mutex held.  Whether nothing refers to the set any more. */
static bool set_releasable(const sl_signal_set *set)
{
    return set->destroyed && !set->queued && !set->waiting && set->running == 0;
}

/* ---- registrations (registry mutex and service mutex held) --------------- */

/* Upstream: add_signal.  The first registration in the process installs
 * the handler and keeps the disposition it replaced. */
static int registration_add(signal_service *svc, sl_signal_set *set, int signo)
{
    unsigned long long bit = signal_bit(signo);
    if (set->mask & bit)
        return 0;
    /* The slot wants the signal before the handler can exist, so a signal
     * raised the moment add returns is not lost. */
    if (svc->registration_count[signo]++ == 0)
        atomic_fetch_or(&delivery_slots[svc->slot].wanted, bit);
    if (registry.registration_count[signo] == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = signal_to_pipes;
        sigemptyset(&sa.sa_mask);
        /* Upstream takes the flags from the caller (none by default);
         * this API has no flags, and SA_RESTART keeps the process's other
         * blocking calls from failing with EINTR because of our handler. */
        sa.sa_flags = SA_RESTART;
        if (sigaction(signo, &sa, &registry.previous[signo]) < 0) {
            int err = -errno;
            if (--svc->registration_count[signo] == 0)
                atomic_fetch_and(&delivery_slots[svc->slot].wanted, ~bit);
            return err;
        }
    }
    ++registry.registration_count[signo];
    set->mask |= bit;
    set->undelivered[signo] = 0;
    return 0;
}

/* Upstream: remove_signal.  The last registration in the process puts
 * back the disposition the first one replaced (upstream sets SIG_DFL). */
static void registration_remove(signal_service *svc, sl_signal_set *set, int signo)
{
    unsigned long long bit = signal_bit(signo);
    if (!(set->mask & bit))
        return;
    set->mask &= ~bit;
    set->undelivered[signo] = 0;
    if (--registry.registration_count[signo] == 0)
        sigaction(signo, &registry.previous[signo], NULL);
    if (--svc->registration_count[signo] == 0 && svc->slot >= 0)
        atomic_fetch_and(&delivery_slots[svc->slot].wanted, ~bit);
}

static void registration_remove_all(signal_service *svc, sl_signal_set *set)
{
    while (set->mask) {
        int signo = __builtin_ctzll(set->mask) + 1;
        registration_remove(svc, set, signo);
    }
}

/* ---- the self-pipe (registry mutex and service mutex held) --------------- */

static int open_delivery_pipe(signal_service *svc)
{
    int slot = -1;
    for (int i = 0; i < SL_SIGNAL_MAX_SERVICES && slot < 0; ++i)
        if (!registry.slot_taken[i])
            slot = i;
    if (slot < 0)
        return -EMFILE;
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return -errno;
    int err = register_descriptor(svc->sched, fds[0], &svc->pipe_desc);
    if (err < 0) {
        close(fds[0]);
        close(fds[1]);
        return err;
    }
    svc->read_fd = fds[0];
    svc->write_fd = fds[1];
    svc->pipe_registered = true;
    svc->slot = slot;
    registry.slot_taken[slot] = true;
    atomic_store(&delivery_slots[slot].wanted, 0);
    atomic_store(&delivery_slots[slot].write_fd, fds[1]);
    return 0;
}

/* After this no signal handler writes to this service's pipe, now or
 * later, and the slot may serve another service.  The fds stay open
 * until the service is destroyed. */
static void release_delivery_slot(signal_service *svc)
{
    if (svc->slot < 0)
        return;
    delivery_slot *slot = &delivery_slots[svc->slot];
    atomic_store(&slot->wanted, 0);
    atomic_store(&slot->write_fd, -1);
    /* A handler that read the old fd is still writing: let it finish. */
    while (atomic_load(&slot->handlers_inside) != 0)
        sched_yield();
    registry.slot_taken[svc->slot] = false;
    svc->slot = -1;
}

/* ---- completions ---------------------------------------------------------- */

/* Service mutex held.  Takes a parked wait's completion out of `waiting`;
 * the caller queues it (it keeps the wait's unit of work). */
static void wait_finish_locked(sl_signal_set *set, int status, int signo)
{
    set->waiting = false;
    set->queued = true;
    set->status = status;
    set->signo = signo;
}

/* Queues a completion that already holds its unit of work. */
static void post_holding_work(sl_signal_set *set)
{
    sl_op_queue q = {0};
    op_queue_push(&q, &set->op);
    post_deferred_completions(set->svc->sched, &q);
}

/* Upstream: signal_op::operator().  Upstream balances the wait's
 * work_started here; in this port the pop of the queued op (or of the
 * descriptor, for an inline completion) already consumed that unit. */
void signal_wait_complete(sl_op *op)
{
    sl_signal_set *set = (sl_signal_set *)op;
    signal_service *svc = set->svc;
    pthread_mutex_lock(&svc->mutex);
    set->queued = false;
    ++set->running;
    sl_signal_handler handler = set->handler;
    void *arg = set->arg;
    int status = set->status, signo = set->signo;
    pthread_mutex_unlock(&svc->mutex);

    handler(set, status, signo, arg);

    pthread_mutex_lock(&svc->mutex);
    --set->running;
    bool release = set_releasable(set);
    if (release)
        set_unlink(svc, set);
    pthread_mutex_unlock(&svc->mutex);
    if (release)
        free(set);
}

/* Shutdown with the completion still queued: no handler, give back the
 * unit of work the queued op holds. */
static void signal_wait_destroy(sl_op *op)
{
    sl_signal_set *set = (sl_signal_set *)op;
    signal_service *svc = set->svc;
    sl_scheduler *s = svc->sched;
    pthread_mutex_lock(&svc->mutex);
    set->queued = false;
    bool release = set_releasable(set);
    if (release)
        set_unlink(svc, set);
    pthread_mutex_unlock(&svc->mutex);
    if (release)
        free(set);
    sl_work_finished(s);
}

/* Upstream: deliver_signal, minus the signal-handler context.  Service
 * mutex held. */
static void deliver_locked(signal_service *svc, int signo, sl_op_queue *completed)
{
    if (signo < 1 || signo >= NSIG)
        return;
    unsigned long long bit = signal_bit(signo);
    for (sl_signal_set *set = svc->sets; set; set = set->next) {
        if (!(set->mask & bit))
            continue;
        if (set->waiting) {
            wait_finish_locked(set, 0, signo);
            op_queue_push(completed, &set->op);
        } else {
            ++set->undelivered[signo];
        }
    }
}

/* The pipe's descriptor run: popped like any descriptor state the
 * reactor found ready. */
void signal_pipe_run(sl_op *op)
{
    signal_service *svc = (signal_service *)op;
    sl_scheduler *s = svc->sched;
    sl_op_queue completed = {0};

    /* Re-arm before draining: a byte written after the drain makes a new
     * edge, and the reactor may enqueue the descriptor again. */
    atomic_store(&svc->pipe_desc.is_enqueued, false);
    atomic_exchange(&svc->pipe_desc.ready_events, 0);

    unsigned char buf[256];
    for (;;) {
        ssize_t n = read(svc->read_fd, buf, sizeof buf);
        if (n > 0) {
            pthread_mutex_lock(&svc->mutex);
            if (!svc->shut_down)
                for (ssize_t i = 0; i < n; ++i)
                    deliver_locked(svc, buf[i], &completed);
            pthread_mutex_unlock(&svc->mutex);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break; /* EAGAIN: drained */
    }

    sl_op *first = op_queue_pop(&completed);
    if (!first) {
        compensating_work_started(s);
        return;
    }
    post_deferred_completions(s, &completed);
    complete_after_handler(s, first); /* counted as a handler */
}

/* ---- service hooks -------------------------------------------------------- */

int signal_service_create(sl_scheduler *s)
{
    signal_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return -ENOMEM;
    pthread_once(&delivery_slots_once, delivery_slots_init);
    pthread_mutex_init(&svc->mutex, NULL);
    pthread_mutex_init(&svc->pipe_desc.mutex, NULL);
    sl_op_init(&svc->pipe_desc.op, signal_pipe_run, NULL);
    atomic_init(&svc->pipe_desc.ready_events, 0);
    atomic_init(&svc->pipe_desc.is_enqueued, false);
    svc->pipe_desc.fd = -1;
    svc->sched = s;
    svc->read_fd = svc->write_fd = -1;
    svc->slot = -1;
    s->signals = svc;
    return 0;
}

/* Upstream: shutdown.  Every registration goes (dispositions restored),
 * parked waits are dropped without their handler (their unit of work is
 * given back), the handler stops writing to this pipe and the pipe leaves
 * the epoll set.  Completions already queued are destroyed by the
 * scheduler right after.  The sets stay until destroyed or freed with the
 * service. */
void signal_service_shutdown(sl_scheduler *s)
{
    signal_service *svc = s->signals;
    if (!svc)
        return;
    size_t dropped = 0;
    pthread_mutex_lock(&registry.mutex);
    pthread_mutex_lock(&svc->mutex);
    if (!svc->shut_down) {
        svc->shut_down = true;
        for (sl_signal_set *set = svc->sets; set; set = set->next) {
            registration_remove_all(svc, set);
            if (set->waiting) {
                set->waiting = false;
                ++dropped;
            }
        }
        release_delivery_slot(svc);
        if (svc->pipe_registered) {
            deregister_descriptor(s, svc->read_fd);
            svc->pipe_registered = false;
        }
    }
    pthread_mutex_unlock(&svc->mutex);
    pthread_mutex_unlock(&registry.mutex);
    while (dropped--)
        sl_work_finished(s);
}

void signal_service_destroy(sl_scheduler *s)
{
    signal_service *svc = s->signals;
    if (!svc)
        return;
    signal_service_shutdown(s);
    sl_signal_set *set = svc->sets;
    while (set) {
        sl_signal_set *next = set->next;
        free(set);
        set = next;
    }
    if (svc->read_fd >= 0)
        close(svc->read_fd);
    if (svc->write_fd >= 0)
        close(svc->write_fd);
    pthread_mutex_destroy(&svc->pipe_desc.mutex);
    pthread_mutex_destroy(&svc->mutex);
    free(svc);
    s->signals = NULL;
}

/* ---- public API ----------------------------------------------------------- */

/* Upstream: construct.  The first set of a scheduler opens its pipe, so a
 * scheduler that never uses signals costs no fd and no slot. */
int sl_signal_set_create(sl_scheduler *s, sl_signal_set **out)
{
    signal_service *svc = s->signals;
    *out = NULL;
    sl_signal_set *set = calloc(1, sizeof *set);
    if (!set)
        return -ENOMEM;
    sl_op_init(&set->op, signal_wait_complete, signal_wait_destroy);
    set->svc = svc;

    int err = 0;
    pthread_mutex_lock(&registry.mutex);
    pthread_mutex_lock(&svc->mutex);
    if (svc->shut_down)
        err = -ESHUTDOWN;
    else if (svc->read_fd < 0)
        err = open_delivery_pipe(svc);
    if (err == 0) {
        set->next = svc->sets;
        if (svc->sets)
            svc->sets->prev = set;
        svc->sets = set;
    }
    pthread_mutex_unlock(&svc->mutex);
    pthread_mutex_unlock(&registry.mutex);
    if (err < 0) {
        free(set);
        return err;
    }
    *out = set;
    return 0;
}

int sl_signal_set_add(sl_signal_set *set, int signo)
{
    if (!signal_number_valid(signo))
        return -EINVAL;
    signal_service *svc = set->svc;
    pthread_mutex_lock(&registry.mutex);
    pthread_mutex_lock(&svc->mutex);
    int err = svc->shut_down ? -ESHUTDOWN : registration_add(svc, set, signo);
    pthread_mutex_unlock(&svc->mutex);
    pthread_mutex_unlock(&registry.mutex);
    return err;
}

int sl_signal_set_remove(sl_signal_set *set, int signo)
{
    if (signo < 1 || signo >= NSIG)
        return -EINVAL;
    signal_service *svc = set->svc;
    pthread_mutex_lock(&registry.mutex);
    pthread_mutex_lock(&svc->mutex);
    registration_remove(svc, set, signo);
    pthread_mutex_unlock(&svc->mutex);
    pthread_mutex_unlock(&registry.mutex);
    return 0;
}

int sl_signal_set_clear(sl_signal_set *set)
{
    signal_service *svc = set->svc;
    pthread_mutex_lock(&registry.mutex);
    pthread_mutex_lock(&svc->mutex);
    registration_remove_all(svc, set);
    pthread_mutex_unlock(&svc->mutex);
    pthread_mutex_unlock(&registry.mutex);
    return 0;
}

/* Upstream: start_wait.  A wait whose previous completion is queued but
 * has not run yet is still "the one wait" (-EBUSY): its op is in use. */
int sl_signal_set_async_wait(sl_signal_set *set, sl_signal_handler h, void *arg)
{
    if (!h)
        return -EINVAL;
    signal_service *svc = set->svc;
    sl_scheduler *s = svc->sched;
    pthread_mutex_lock(&svc->mutex);
    if (svc->shut_down || set->destroyed) {
        pthread_mutex_unlock(&svc->mutex);
        return -ESHUTDOWN;
    }
    if (set->waiting || set->queued) {
        pthread_mutex_unlock(&svc->mutex);
        return -EBUSY;
    }
    set->handler = h;
    set->arg = arg;
    for (unsigned long long m = set->mask; m; m &= m - 1) {
        int signo = __builtin_ctzll(m) + 1;
        if (set->undelivered[signo] > 0) {
            /* Raised while nobody waited: completes at once, through the
             * queue; sl_post supplies the op's unit of work. */
            --set->undelivered[signo];
            set->queued = true;
            set->status = 0;
            set->signo = signo;
            pthread_mutex_unlock(&svc->mutex);
            sl_post(s, &set->op);
            return 0;
        }
    }
    /* Counted before it can be completed: the descriptor run that will
     * complete it consumes this unit. */
    sl_work_started(s);
    set->waiting = true;
    pthread_mutex_unlock(&svc->mutex);
    return 0;
}

/* Upstream: cancel_wait (which posts and then calls work_finished; here
 * the wait's unit moves to the queued completion instead). */
void sl_signal_set_cancel(sl_signal_set *set)
{
    signal_service *svc = set->svc;
    pthread_mutex_lock(&svc->mutex);
    bool post = set->waiting;
    if (post)
        wait_finish_locked(set, SL_ECANCELED, 0);
    pthread_mutex_unlock(&svc->mutex);
    if (post)
        post_holding_work(set);
}

/* Upstream: destroy (clear, cancel, destroy_impl).  A pending wait
 * completes with SL_ECANCELED; the set is freed after that handler ran
 * (the handler receives the set but must not use it). */
void sl_signal_set_destroy(sl_signal_set *set)
{
    if (!set)
        return;
    signal_service *svc = set->svc;
    pthread_mutex_lock(&registry.mutex);
    pthread_mutex_lock(&svc->mutex);
    registration_remove_all(svc, set);
    bool post = set->waiting;
    if (post)
        wait_finish_locked(set, SL_ECANCELED, 0);
    set->destroyed = true;
    bool release = set_releasable(set);
    if (release)
        set_unlink(svc, set);
    pthread_mutex_unlock(&svc->mutex);
    pthread_mutex_unlock(&registry.mutex);
    if (post)
        post_holding_work(set);
    if (release)
        free(set);
}
