/* uring.h - what the io_uring backend's scheduler (uring/scheduler.c) shares
 * with its socket layer (uring/socket.c).
 *
 * The io_uring backend sits beside the epoll reference the way Redis keeps
 * ae_epoll.c beside ae_kqueue.c: the same public header (schedlab.h), the
 * same backend-independent services from ref/ (timer.c, signal.c,
 * resolver.c, which see the scheduler through ref/internal.h), and its own
 * scheduler and sockets.  The scheduler object is ref's struct sl_scheduler
 * (the shared queue, mutex, condvar, work count and service pointers the
 * services use) extended with the ring; the services only ever see the
 * first part.
 *
 * Port of upstream's io_uring_op.hpp: an operation carries two function
 * pointers, one that fills an SQE (prep_func) and one that takes its CQE
 * (cqe_func), so the run loop prepares and dispatches any kind of op
 * without knowing it.
 */
#ifndef SL_URING_H
#define SL_URING_H

#include "../ref/internal.h"

#include <liburing.h>

/* Upstream: io_uring_op. */
typedef struct uring_op {
    sl_op op; /* queued for its handler once its CQE has been reaped */
    /* Upstream: cqe_func.  Records the result and queues the op on `local`
     * (or does something else: the descriptor polls of uring/scheduler.c). */
    void (*cqe)(struct uring_op *u, int res, unsigned flags, sl_op_queue *local);
    /* Upstream: prep_func. */
    void (*prep)(struct uring_op *u, struct io_uring_sqe *sqe);
    int res;            /* the CQE's result */
    atomic_bool sqe_set; /* an SQE carries this op: cancellable by user_data */
} uring_op;

/* Upstream: io_uring_submit_op.  The op must already count as work. */
void uring_submit_op(sl_scheduler *s, uring_op *u);
/* Upstream: submit_cancel_by_user_data / submit_cancel_by_fd /
 * cancel_and_flush. */
void uring_cancel_by_user_data(sl_scheduler *s, uring_op *target);
void uring_cancel_by_fd(sl_scheduler *s, int fd);
void uring_cancel_and_flush(sl_scheduler *s, int fd);
/* Upstream: the run-loop pump (submit_and_get_events + process_completions)
 * without waiting: used by shutdown to collect cancelled ops. */
void uring_reap_now(sl_scheduler *s);

#endif /* SL_URING_H */
