/* descriptor.c - deferred descriptor I/O (M10): what a scheduler thread
 * does when it pops a ready descriptor, and how an operation parks.
 *
 * The reactor never does I/O and never takes a descriptor lock: it ORs the
 * epoll events into `ready_events` and enqueues the descriptor once.  The
 * thread that pops it (descriptor_run, upstream descriptor_state::
 * operator()) performs the pending read / write / connect / accept under
 * the descriptor's mutex, remembers readiness that no operation was
 * waiting for (read_ready, write_ready: the edge would otherwise be lost,
 * registration being edge-triggered), runs the first completion inline
 * and posts the others.  An EPOLLERR fails every pending operation with
 * SO_ERROR (if that reads 0, another syscall took the error first: the
 * operations perform their I/O instead).
 *
 * Work: popping the descriptor counts as consuming one unit.  The first
 * completion's unit (taken when it parked) is that one; the others keep
 * theirs in the queue; a run that completes nothing compensates.
 */
#include "io.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Keeps an error the kit took from the socket for a connect in flight. */
static void note_error_for_connect(sl_socket *sock, int err)
{
    int none = 0;
    if (err && !would_block_errno(err) &&
        atomic_load_explicit(&sock->conn.busy, memory_order_acquire))
        atomic_compare_exchange_strong(&sock->desc.connect_error, &none, err);
}

/* The result of a connect in flight: 0 once connected, an errno once it
 * failed, EAGAIN while it is still in progress.
 *
 * Defect fixed (upstream 6e759c2, still at 4276bd4): upstream takes any
 * write edge with SO_ERROR == 0 as success.  But an unconnected TCP socket
 * registered with epoll reports writable-and-hung-up at once, and that
 * stale edge, cached before the connect started, completed the connect
 * with status 0 while the kernel was still in SYN_SENT; and when a read or
 * write on the socket took the pending error first (ECONNREFUSED), the
 * connect found SO_ERROR == 0 and reported success on a refused socket.
 * Here success needs a peer (getpeername), a socket still in SYN_SENT
 * waits for the next edge, and an error the kit already consumed is
 * reported as the connect's own. */
static int connect_result(sl_socket *sock)
{
    int fd = sock->fd, err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    if (err)
        return err;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
        return 0;
    if (errno != ENOTCONN)
        return errno;
    struct tcp_info ti;
    socklen_t tlen = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0 &&
        ti.tcpi_state == TCP_SYN_SENT)
        return EAGAIN;
    err = atomic_exchange(&sock->desc.connect_error, 0);
    return err ? err : ENOTCONN;
}

#ifndef SL_VARIANT_IO_SYSCALLS
/* The syscalls of a read and a write (upstream 6e759c2: readv, sendmsg). */
#define io_read(fd, iov, iovcnt) readv((fd), (iov), (iovcnt))
#define io_write(fd, iov, iovcnt)                                                        \
    sendmsg((fd), &(struct msghdr){.msg_iov = (iov), .msg_iovlen = (size_t)(iovcnt)},    \
            MSG_NOSIGNAL) /* EPIPE, never SIGPIPE */
#endif

/* Upstream: perform_io() of epoll_read_op, epoll_write_op, epoll_connect_op
 * and epoll_accept_op.  Sets errn (EAGAIN included) and bytes. */
void io_perform(io_op *op)
{
    int fd = op->sock->fd;
    ssize_t n;
    switch (op->kind) {
    case IO_READ:
        do
            n = io_read(fd, op->iov, op->iovcnt);
        while (n < 0 && errno == EINTR);
        break;
    case IO_WRITE:
        do
            n = io_write(fd, op->iov, op->iovcnt);
        while (n < 0 && errno == EINTR);
        break;
    case IO_CONNECT:
        op->errn = connect_result(op->sock);
        op->bytes = 0;
        return;
    default: /* IO_ACCEPT */
        do
            n = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n >= 0) {
            op->accepted_fd = (int)n;
            n = 0;
        }
        break;
    }
    op->errn = n < 0 ? errno : 0;
    op->bytes = n > 0 ? (size_t)n : 0;
    if (op->errn && op->kind != IO_ACCEPT)
        note_error_for_connect(op->sock, op->errn);
}

static bool would_block(const io_op *op)
{
    return would_block_errno(op->errn);
}

static void fail_op(io_op *op, int err)
{
    op->errn = err;
    op->bytes = 0;
}

/* Upstream: epoll_socket::register_op.  Parks `op` in `slot` unless a
 * cached edge lets it complete now or a cancel arrived first. */
void register_op(sl_socket *sock, io_op *op, io_op **slot, bool *ready_flag,
                 unsigned *cancel_gen)
{
    sl_scheduler *s = sock->sched;
    descriptor_state *d = &sock->desc;
    sl_work_started(s);
    desc_lock(d);
    /* A cancel that ran while this op was being started, and only that
     * one: a mark left for an earlier op (already completed when the
     * cancel ran) has another generation.  Upstream 6e759c2 keeps a plain
     * flag, which a cancel also sets for an op whose completion is already
     * queued; nothing clears it, and it cancels the next op of that kind
     * that parks (defect fixed here).  Checked before the cached edge is
     * used: a cancelled op does no I/O (upstream performs it first and
     * then reports the op cancelled, its bytes read or sent). */
    if (*cancel_gen != 0 &&
        *cancel_gen == atomic_load_explicit(&op->gen, memory_order_relaxed))
        atomic_store_explicit(&op->cancelled, true, memory_order_relaxed);
    *cancel_gen = 0;
    bool io_done = false;
    if (*ready_flag && !atomic_load_explicit(&op->cancelled, memory_order_relaxed)) {
        *ready_flag = false; /* consume the cached edge */
        io_perform(op);
        io_done = !would_block(op);
        if (!io_done)
            op->errn = 0;
    }
    if (io_done || atomic_load_explicit(&op->cancelled, memory_order_acquire)) {
        desc_unlock(d);
        sl_post(s, &op->op);
        sl_work_finished(s);
        return;
    }
    *slot = op;
    desc_unlock(d);
    SL_TP(op_parked, s, sock->fd, op->kind);
}

/* Performs a parked op on readiness: true if it completed (then it left its
 * slot and joined `done`), false if it is still waiting. */
static bool complete_parked(io_op **slot, int err, sl_op_queue *done)
{
    io_op *op = *slot;
    if (err)
        fail_op(op, err);
    else
        io_perform(op);
    if (would_block(op)) { /* a connect: still in SYN_SENT */
        op->errn = 0;
        return false;
    }
    *slot = NULL;
    op_queue_push(done, &op->op);
    return true;
}

void descriptor_run(sl_op *o)
{
    descriptor_state *d = (descriptor_state *)o;
    SL_RACE_WINDOW("descriptor_run", d);
    desc_lock(d);
    /* Cleared under the mutex (upstream 8199f3c; 6e759c2 cleared it
     * before locking).  A close in that window saw "not queued", skipped
     * taking the owner reference, and the socket could be recycled while
     * this run went on: a stale EPOLLERR then failed the new socket's
     * operations.  Cleared before ready_events is taken, so an edge the
     * reactor adds after the exchange enqueues the descriptor again. */
    atomic_store_explicit(&d->is_enqueued, false, memory_order_seq_cst);
    uint32_t ev = atomic_exchange_explicit(&d->ready_events, 0, memory_order_seq_cst);
    sl_scheduler *s = d->sched; /* set under this mutex before registration */
    /* The owner closed while we were queued: its reference is ours now. */
    void (*release_owner)(descriptor_state *) = d->release_owner;
    d->release_owner = NULL;
    if (ev == 0) {
        desc_unlock(d);
        compensating_work_started(s);
        if (release_owner)
            release_owner(d);
        return;
    }

    /* Defect fixed (upstream 6e759c2, still at 4276bd4): upstream fails
     * every pending op with EIO when SO_ERROR reads 0.  But SO_ERROR is
     * consumed by the first syscall that reports it, and the reactor read
     * EPOLLERR before this run: a read, write or accept that ran between
     * (on another thread, or a handler queued ahead of this run) took the
     * error, and the parked ops then got an EIO that the socket never
     * gave.  Here a stale EPOLLERR is no error: the ops perform their I/O
     * and report what the socket says (the end of the stream, EPIPE, or
     * for a connect the error recorded by note_error_for_connect). */
    int err = 0;
    if (ev & EPOLLERR) {
        socklen_t len = sizeof err;
        if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        note_error_for_connect((sl_socket *)d, err);
    }

    sl_op_queue done = {0};
    if (ev & EPOLLIN) {
        if (d->read_op)
            complete_parked(&d->read_op, err, &done);
        else
            d->read_ready = true;
    }
    if (ev & EPOLLOUT) {
        bool had_write_op = d->connect_op || d->write_op;
        if (d->connect_op)
            complete_parked(&d->connect_op, err, &done);
        if (d->write_op)
            complete_parked(&d->write_op, err, &done);
        if (!had_write_op)
            d->write_ready = true;
    }
    if (err) { /* the error fails whatever is still pending */
        io_op **slots[3] = {&d->read_op, &d->write_op, &d->connect_op};
        for (int i = 0; i < 3; ++i) {
            if (*slots[i]) {
                fail_op(*slots[i], err);
                op_queue_push(&done, &(*slots[i])->op);
                *slots[i] = NULL;
            }
        }
    }
    desc_unlock(d);

    /* The first completion runs here; the others are queued. */
    sl_op *first = op_queue_pop(&done);
    if (first) {
        post_deferred_completions(s, &done);
        complete_after_handler(s, first);
    } else {
        compensating_work_started(s);
    }
    if (release_owner)
        release_owner(d);
}

/* The scheduler shuts down with this descriptor still queued: no run, but
 * the owner reference a close left with it is released, as upstream's
 * descriptor_state::destroy resets impl_ref_.  The port's first landing
 * had no destroy hook here, so that reference was never dropped. */
void descriptor_destroy(sl_op *o)
{
    descriptor_state *d = (descriptor_state *)o;
    desc_lock(d);
    atomic_store_explicit(&d->is_enqueued, false, memory_order_seq_cst);
    void (*release_owner)(descriptor_state *) = d->release_owner;
    d->release_owner = NULL;
    desc_unlock(d);
    if (release_owner)
        release_owner(d);
}
