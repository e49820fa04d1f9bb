/* socket.c - stream sockets with speculative I/O and the adaptive inline
 * budget (M11), and the socket service that owns them.
 *
 * Port of upstream's epoll_socket_service.hpp and epoll_acceptor_service.hpp.
 * Every operation first tries its syscall at initiation.  If that
 * completes (data, end of stream, or an error other than EAGAIN) and the
 * thread's inline budget allows, the handler runs without a queue round
 * trip; otherwise the completion is posted.  On EAGAIN the op parks on the
 * descriptor (register_op), consuming a cached readiness edge first.
 *
 * Inline completion: upstream resumes the coroutine by symmetric transfer.
 * Here the completed op goes to the thread's inline list and runs as soon
 * as the handler that started it returns, at the same stack depth (see
 * thread_context.inline_ops in internal.h), so a chain of always-ready
 * reads never deepens the stack.
 *
 * Lifetime: upstream keeps a socket alive with shared_ptr while an op or a
 * queued descriptor refers to it.  Here a reference count does the same;
 * when it drops to zero the object goes to the service's free list for
 * reuse, and memory is only returned at sl_scheduler_destroy, so a stale
 * reactor event can never touch freed memory.
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* ---- the service ------------------------------------------------------- */

/* Each allocation is a block on `blocks`, so destroy can free them all. */
typedef struct socket_block {
    struct socket_block *next;
    sl_socket sock;
} socket_block;

typedef struct socket_service {
    pthread_mutex_t mutex;
    sl_socket *open_list; /* not yet closed: shutdown closes these */
    sl_socket *free_list; /* closed and unreferenced: reused by open */
    socket_block *blocks;
} socket_service;

int socket_service_create(sl_scheduler *s)
{
    socket_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return -ENOMEM;
    pthread_mutex_init(&svc->mutex, NULL);
    s->sockets = svc;
    return 0;
}

static void list_remove(sl_socket **head, sl_socket *sock)
{
    if (sock->prev)
        sock->prev->next = sock->next;
    else
        *head = sock->next;
    if (sock->next)
        sock->next->prev = sock->prev;
    sock->prev = sock->next = NULL;
}

static void list_push(sl_socket **head, sl_socket *sock)
{
    sock->prev = NULL;
    sock->next = *head;
    if (*head)
        (*head)->prev = sock;
    *head = sock;
}

static void close_socket(sl_socket *sock);

/* Closes every open socket: their pending ops are queued as cancelled, and
 * the scheduler's shutdown then destroys them without running handlers. */
void socket_service_shutdown(sl_scheduler *s)
{
    socket_service *svc = s->sockets;
    if (!svc)
        return;
    for (;;) {
        pthread_mutex_lock(&svc->mutex);
        sl_socket *sock = svc->open_list;
        pthread_mutex_unlock(&svc->mutex);
        if (!sock)
            break;
        close_socket(sock); /* takes it off the open list */
    }
}

void socket_service_destroy(sl_scheduler *s)
{
    socket_service *svc = s->sockets;
    if (!svc)
        return;
    while (svc->blocks) {
        socket_block *b = svc->blocks;
        svc->blocks = b->next;
        pthread_mutex_destroy(&b->sock.desc.mutex);
        free(b);
    }
    pthread_mutex_destroy(&svc->mutex);
    free(svc);
    s->sockets = NULL;
}

static void io_op_destroy(sl_op *o);

static void op_setup(io_op *op, sl_socket *sock, int kind)
{
    sl_op_init(&op->op, io_op_complete, io_op_destroy);
    op->sock = sock;
    op->kind = kind;
    atomic_init(&op->busy, false);
    atomic_init(&op->cancelled, false);
}

/* A fresh or recycled socket object for `fd`, registered with epoll.  A
 * recycled one may still be linked in the scheduler queue from a stale
 * readiness event: its op link, is_enqueued and ready_events are left
 * alone (that run finds no pending op and does nothing harmful). */
int socket_create(sl_scheduler *s, int fd, sl_socket **out)
{
    socket_service *svc = s->sockets;
    pthread_mutex_lock(&svc->mutex);
    sl_socket *sock = svc->free_list;
    if (sock) {
        list_remove(&svc->free_list, sock);
    } else {
        socket_block *b = calloc(1, sizeof *b);
        if (!b) {
            pthread_mutex_unlock(&svc->mutex);
            return -ENOMEM;
        }
        b->next = svc->blocks;
        svc->blocks = b;
        sock = &b->sock;
        pthread_mutex_init(&sock->desc.mutex, NULL);
        sl_op_init(&sock->desc.op, descriptor_run, descriptor_destroy);
        atomic_init(&sock->next_gen, 0);
        atomic_init(&sock->desc.is_enqueued, false);
        atomic_init(&sock->desc.ready_events, 0);
    }
    pthread_mutex_unlock(&svc->mutex);

    sock->sched = s;
    sock->fd = fd;
    atomic_init(&sock->refs, 1);
    op_setup(&sock->conn, sock, IO_CONNECT);
    op_setup(&sock->rd, sock, IO_READ);
    op_setup(&sock->wr, sock, IO_WRITE);
    op_setup(&sock->acc, sock, IO_ACCEPT);
    descriptor_state *d = &sock->desc;
    desc_lock(d);
    d->read_op = d->write_op = d->connect_op = NULL;
    d->read_cancel_gen = d->write_cancel_gen = d->connect_cancel_gen = 0;
    atomic_store(&d->connect_error, 0);
    d->release_owner = NULL;
    desc_unlock(d);
    int r = register_descriptor(s, fd, d);
    if (r < 0) {
        pthread_mutex_lock(&svc->mutex);
        list_push(&svc->free_list, sock);
        pthread_mutex_unlock(&svc->mutex);
        return r;
    }
    pthread_mutex_lock(&svc->mutex);
    atomic_store(&sock->is_open, true);
    list_push(&svc->open_list, sock);
    pthread_mutex_unlock(&svc->mutex);
    *out = sock;
    return 0;
}

void socket_ref(sl_socket *sock)
{
    atomic_fetch_add_explicit(&sock->refs, 1, memory_order_relaxed);
}

void socket_unref(sl_socket *sock)
{
    if (atomic_fetch_sub_explicit(&sock->refs, 1, memory_order_acq_rel) != 1)
        return;
    socket_service *svc = sock->sched->sockets;
    pthread_mutex_lock(&svc->mutex);
    list_push(&svc->free_list, sock);
    pthread_mutex_unlock(&svc->mutex);
}

/* The reference a queued descriptor held after its socket closed. */
static void release_desc_ref(descriptor_state *d)
{
    socket_unref((sl_socket *)d);
}

/* ---- opening ----------------------------------------------------------- */

int sl_socket_fd(const sl_socket *sock)
{
    return sock->fd;
}

/* ---- completion -------------------------------------------------------- */

/* Upstream: epoll_op::operator() (and the connect and accept variants).
 * Runs the handler of a completed op, from the queue, from a descriptor
 * run, or from the inline list. */
void io_op_complete(sl_op *o)
{
    io_op *op = (io_op *)o;
    sl_socket *sock = op->sock;
    sl_scheduler *s = sock->sched;
    /* A completion taken from the queue refills the budget; one that ran
     * inline does not (upstream resumes those without this call). */
    if (!op->ran_inline)
        reset_inline_budget(s);
    op->ran_inline = false;

    int status;
    if (atomic_load_explicit(&op->cancelled, memory_order_acquire))
        status = SL_ECANCELED;
    else if (op->errn)
        status = -op->errn;
    else if (op->kind == IO_READ && op->bytes == 0 && !op->empty_buffer)
        status = SL_EOF;
    else
        status = 0;
    SL_TP(op_completed, s, sock->fd, op->kind, status, (long)op->bytes);

    /* Copy out: the handler may start the next op in this very slot. */
    size_t bytes = op->bytes;
    void *arg = op->arg;
    if (op->kind == IO_ACCEPT) {
        sl_accept_handler h = op->accept_handler;
        int fd = op->accepted_fd;
        op->accepted_fd = -1;
        sl_socket *accepted = NULL;
        if (status == 0) {
            int r = socket_create(s, fd, &accepted);
            if (r < 0)
                status = r;
        }
        if (status != 0 && fd >= 0)
            close(fd);
        atomic_store_explicit(&op->busy, false, memory_order_release);
        h(sock, status, accepted, arg);
    } else {
        sl_io_handler h = op->io_handler;
        atomic_store_explicit(&op->busy, false, memory_order_release);
        h(sock, status, bytes, arg);
    }
    socket_unref(sock); /* the op's reference */
}

/* Shutdown with the op still queued: no handler; release what it holds. */
static void io_op_destroy(sl_op *o)
{
    io_op *op = (io_op *)o;
    if (op->kind == IO_ACCEPT && op->accepted_fd >= 0) {
        close(op->accepted_fd);
        op->accepted_fd = -1;
    }
    op->ran_inline = false;
    atomic_store_explicit(&op->busy, false, memory_order_release);
    socket_unref(op->sock);
}

/* ---- initiation -------------------------------------------------------- */

/* Claims the op slot; -EBUSY if that kind of op is already pending. */
static int op_start(sl_socket *sock, io_op *op)
{
    if (!atomic_load_explicit(&sock->is_open, memory_order_acquire))
        return -EBADF;
    bool expected = false;
    if (!atomic_compare_exchange_strong_explicit(
            &op->busy, &expected, true, memory_order_acq_rel, memory_order_relaxed))
        return -EBUSY;
    atomic_store_explicit(&op->cancelled, false, memory_order_release);
    unsigned gen = atomic_fetch_add_explicit(&sock->next_gen, 1, memory_order_relaxed) + 1;
    if (gen == 0) /* 0 means "no mark" in the descriptor */
        gen = atomic_fetch_add_explicit(&sock->next_gen, 1, memory_order_relaxed) + 1;
    atomic_store_explicit(&op->gen, gen, memory_order_relaxed);
    op->errn = 0;
    op->bytes = 0;
    op->empty_buffer = false;
    op->ran_inline = false;
    op->accepted_fd = -1;
    socket_ref(sock); /* held until the handler has run */
    return 0;
}

/* The speculative syscall completed: run inline if the budget allows,
 * otherwise post (upstream: try_consume_inline_budget, then dispatch_coro
 * or svc_.post). */
static void finish_speculative(sl_socket *sock, io_op *op)
{
    /* The inline list runs after this handler returns, on this thread, so
     * marking the op after queueing it is safe. */
    if (try_complete_inline(sock->sched, &op->op))
        op->ran_inline = true;
    else
        sl_post(sock->sched, &op->op);
}

static int copy_iov(io_op *op, const struct iovec *iov, int iovcnt)
{
    if (iovcnt < 0 || iovcnt > SL_MAX_IOV || (iovcnt > 0 && !iov))
        return -EINVAL;
    size_t total = 0;
    for (int i = 0; i < iovcnt; ++i) {
        op->iov[i] = iov[i];
        total += iov[i].iov_len;
    }
    op->iovcnt = iovcnt;
    return total == 0;
}

static int start_transfer(sl_socket *sock, io_op *op, const struct iovec *iov, int iovcnt,
                          sl_io_handler h, void *arg)
{
    if (!h)
        return -EINVAL;
    int r = op_start(sock, op);
    if (r < 0)
        return r;
    int empty = copy_iov(op, iov, iovcnt);
    if (empty < 0) {
        atomic_store_explicit(&op->busy, false, memory_order_release);
        socket_unref(sock);
        return empty;
    }
    op->io_handler = h;
    op->arg = arg;
    if (empty) {
        /* Nothing to transfer: complete with 0 bytes, never as EOF. */
        op->empty_buffer = true;
        sl_post(sock->sched, &op->op);
        return 0;
    }
    io_perform(op); /* the speculative attempt */
    if (!would_block_errno(op->errn)) {
        finish_speculative(sock, op);
        return 0;
    }
    op->errn = 0;
    descriptor_state *d = &sock->desc;
    if (op->kind == IO_READ)
        register_op(sock, op, &d->read_op, &d->read_ready, &d->read_cancel_gen);
    else
        register_op(sock, op, &d->write_op, &d->write_ready, &d->write_cancel_gen);
    return 0;
}

/* Upstream: epoll_socket::read_some. */
int sl_socket_async_read(sl_socket *sock, const struct iovec *iov, int iovcnt,
                         sl_io_handler h, void *arg)
{
    return start_transfer(sock, &sock->rd, iov, iovcnt, h, arg);
}

/* Upstream: epoll_socket::write_some. */
int sl_socket_async_write(sl_socket *sock, const struct iovec *iov, int iovcnt,
                          sl_io_handler h, void *arg)
{
    return start_transfer(sock, &sock->wr, iov, iovcnt, h, arg);
}

/* Upstream: epoll_socket::connect. */
int sl_socket_async_connect(sl_socket *sock, const struct sockaddr *addr, socklen_t len,
                            sl_io_handler h, void *arg)
{
    if (!h || !addr)
        return -EINVAL;
    io_op *op = &sock->conn;
    int r = op_start(sock, op);
    if (r < 0)
        return r;
    op->io_handler = h;
    op->arg = arg;
    atomic_store(&sock->desc.connect_error, 0);
    int rc = connect(sock->fd, addr, len);
    if (rc == 0 || errno != EINPROGRESS) {
        /* Connected at once (Unix sockets, often) or failed at once. */
        op->errn = rc == 0 ? 0 : errno;
        finish_speculative(sock, op);
        return 0;
    }
    descriptor_state *d = &sock->desc;
    register_op(sock, op, &d->connect_op, &d->write_ready, &d->connect_cancel_gen);
    return 0;
}

/* Upstream: epoll_acceptor::accept. */
int sl_socket_async_accept(sl_socket *listener, sl_accept_handler h, void *arg)
{
    if (!h)
        return -EINVAL;
    io_op *op = &listener->acc;
    int r = op_start(listener, op);
    if (r < 0)
        return r;
    op->accept_handler = h;
    op->arg = arg;
    io_perform(op);
    descriptor_state *d = &listener->desc;
    if (op->errn == 0) {
        /* Got one: the cached edge, if any, is spent. */
        desc_lock(d);
        d->read_ready = false;
        desc_unlock(d);
        finish_speculative(listener, op);
        return 0;
    }
    if (!would_block_errno(op->errn)) {
        sl_post(listener->sched, &op->op); /* the error, always posted */
        return 0;
    }
    op->errn = 0;
    register_op(listener, op, &d->read_op, &d->read_ready, &d->read_cancel_gen);
    return 0;
}

/* ---- cancel and close -------------------------------------------------- */

/* Takes each parked op out of its slot, marks it cancelled and posts it;
 * each one's parked work unit is given back since the post counts anew.
 * An op between initiation and parking gets a mark with its generation,
 * which register_op honours.  Upstream: epoll_socket::cancel and
 * close_socket.
 *
 * Defect fixed (upstream 6e759c2): upstream marks every op of the socket
 * cancelled, parked or not.  An op that had already completed -- its
 * completion queued, its handler not yet run -- then reported
 * SL_ECANCELED although its bytes had gone out (a write) or arrived (a
 * read), and its pending flag stayed set and cancelled the next op of that
 * kind.  A cancel here affects exactly the ops pending at the call. */
static void cancel_ops(sl_socket *sock, bool closing)
{
    descriptor_state *d = &sock->desc;
    io_op *ops[4] = {&sock->conn, &sock->rd, &sock->wr, &sock->acc};
    io_op **slots[4] = {&d->connect_op, &d->read_op, &d->write_op, &d->read_op};
    unsigned *marks[4] = {&d->connect_cancel_gen, &d->read_cancel_gen,
                          &d->write_cancel_gen, &d->read_cancel_gen};
    io_op *claimed[4] = {0};
    desc_lock(d);
    for (int i = 0; i < 4; ++i) {
        if (*slots[i] == ops[i]) {
            atomic_store_explicit(&ops[i]->cancelled, true, memory_order_release);
            claimed[i] = ops[i];
            *slots[i] = NULL;
        } else if (!closing &&
                   atomic_load_explicit(&ops[i]->busy, memory_order_acquire)) {
            *marks[i] = atomic_load_explicit(&ops[i]->gen, memory_order_relaxed);
        }
    }
    if (closing) {
        d->read_ready = d->write_ready = false;
        d->read_cancel_gen = d->write_cancel_gen = d->connect_cancel_gen = 0;
        /* Still queued: keep the object until that run lets go. */
        if (atomic_load_explicit(&d->is_enqueued, memory_order_acquire) &&
            !d->release_owner) {
            socket_ref(sock);
            d->release_owner = release_desc_ref;
        }
    }
    desc_unlock(d);
    for (int i = 0; i < 4; ++i) {
        if (claimed[i]) {
            sl_post(sock->sched, &claimed[i]->op);
            sl_work_finished(sock->sched);
        }
    }
}

void sl_socket_cancel(sl_socket *sock)
{
    if (atomic_load_explicit(&sock->is_open, memory_order_acquire))
        cancel_ops(sock, false);
}

/* Closes the descriptor; the object lives on while references remain. */
static void close_socket(sl_socket *sock)
{
    socket_service *svc = sock->sched->sockets;
    pthread_mutex_lock(&svc->mutex);
    bool was_open = atomic_load(&sock->is_open);
    if (was_open) {
        atomic_store(&sock->is_open, false);
        list_remove(&svc->open_list, sock);
    }
    pthread_mutex_unlock(&svc->mutex);
    if (!was_open)
        return;
    cancel_ops(sock, true);
    /* Under the descriptor's mutex: a descriptor run on another thread
     * does its syscalls on this fd under the same mutex, so it never uses
     * a number that was closed (and perhaps reused) under it. */
    descriptor_state *d = &sock->desc;
    desc_lock(d);
    if (sock->fd >= 0) {
        deregister_descriptor(sock->sched, sock->fd);
        close(sock->fd);
        sock->fd = -1;
    }
    d->fd = -1;
    d->registered_events = 0;
    desc_unlock(d);
}

void sl_socket_close(sl_socket *sock)
{
    if (!sock)
        return;
    close_socket(sock);
    socket_unref(sock); /* the caller's reference */
}
