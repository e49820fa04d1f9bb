/* socket.c - stream sockets of the io_uring backend, and their service.
 *
 * Port of upstream's io_uring_types.hpp (io_uring_tcp_socket: read_some,
 * write_some, connect, cancel, close_socket), io_uring_socket_ops.hpp (the
 * ops' prep and cqe functions, io_uring_submit_op) and
 * speculative_state.hpp, at 4276bd4.
 *
 * Speculative I/O fast path.  A read or write first tries its syscall at
 * initiation (readv / sendmsg, non-blocking).  A definite answer (data,
 * end of stream, an error other than EAGAIN) completes the op without the
 * ring: inline if the thread's inline budget allows, through the queue
 * otherwise.  EAGAIN submits the op to the ring (IORING_OP_RECV / READV,
 * SEND / SENDMSG) and turns speculation off for that direction until a
 * ring completion shows the socket ready again; four EAGAINs in a row
 * turn read speculation off for good (upstream's perma-off latch).
 * Connect never speculates (a speculative connect would leave the fd
 * EINPROGRESS and the ring's connect would see EALREADY); accept is
 * submitted as one IORING_OP_ACCEPT per call (upstream's multishot
 * acceptor, io_uring_multishot_acceptor.hpp, is not ported).
 *
 * Cancel is IORING_OP_ASYNC_CANCEL by fd: the kernel fails exactly the
 * requests in flight with -ECANCELED; an op whose result is already known
 * (completed by the kernel, or speculatively) keeps it, so the kit's
 * cancel contract holds without any flag.  Close cancels and flushes while
 * the fd is still open, then closes it.
 *
 * Lifetime as in ref/socket.c: a reference per op in flight; an object
 * whose count drops to zero joins the free list, memory goes back at
 * sl_scheduler_destroy (after the ring is gone).
 */
#include "uring.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { K_READ, K_WRITE, K_CONNECT, K_ACCEPT };

typedef struct sock_op {
    uring_op u; /* first: its sl_op is what the queue holds */
    struct sl_socket *sock;
    int kind;
    atomic_bool busy;    /* started and its handler has not run yet */
    atomic_bool cancel_asked; /* a cancel came while this start was pending */
    bool prepped_nop;    /* cancelled before its SQE was made: a NOP went */
    bool empty_buffer;   /* 0 bytes asked: 0 is not end of stream */
    bool from_ring;      /* the result came from a CQE */
    struct iovec iov[SL_MAX_IOV];
    int iovcnt;
    struct msghdr msg;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    sl_io_handler io_handler;
    sl_accept_handler accept_handler;
    void *arg;
} sock_op;

/* Upstream: speculative_state.  Hints only (relaxed). */
typedef struct spec_state {
    atomic_bool try_read, try_write, perma_off_read;
    atomic_int read_eagain_streak;
} spec_state;
#define SPEC_MAX_READ_FAILURES 4

struct sl_socket {
    sl_scheduler *sched;
    int fd;
    atomic_bool is_open;
    atomic_int refs; /* the user's + one per op in flight */
    spec_state spec;
    sock_op conn, rd, wr, acc;
    struct sl_socket *prev, *next;
};

/* ---- the service (as ref/socket.c) ------------------------------------------- */

typedef struct socket_block {
    struct socket_block *next;
    sl_socket sock;
} socket_block;

typedef struct socket_service {
    pthread_mutex_t mutex;
    sl_socket *open_list, *free_list;
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
        close_socket(sock);
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
        free(b);
    }
    pthread_mutex_destroy(&svc->mutex);
    free(svc);
    s->sockets = NULL;
}

static void socket_ref(sl_socket *sock)
{
    atomic_fetch_add_explicit(&sock->refs, 1, memory_order_relaxed);
}

static void socket_unref(sl_socket *sock)
{
    if (atomic_fetch_sub_explicit(&sock->refs, 1, memory_order_acq_rel) != 1)
        return;
    socket_service *svc = sock->sched->sockets;
    pthread_mutex_lock(&svc->mutex);
    list_push(&svc->free_list, sock);
    pthread_mutex_unlock(&svc->mutex);
}

/* ---- the ops' prep and cqe functions ------------------------------------------- */

/* A cancel that came before the op's SQE was made (the op was still being
 * started: its speculative syscall said EAGAIN): a NOP goes instead and the
 * op completes SL_ECANCELED with no I/O.  The kit's cancel contract (a
 * cancel reaches every op pending at the call); upstream's cancel by fd
 * reaches only SQEs already submitted. */
static bool cancelled_before_prep(sock_op *op, struct io_uring_sqe *sqe)
{
    if (!atomic_load_explicit(&op->cancel_asked, memory_order_acquire))
        return false;
    io_uring_prep_nop(sqe);
    op->prepped_nop = true;
    return true;
}

/* Upstream: uring_read_op::do_prep (RECV for one buffer, READV else). */
static void read_prep(uring_op *u, struct io_uring_sqe *sqe)
{
    sock_op *op = (sock_op *)u;
    if (cancelled_before_prep(op, sqe))
        return;
    if (op->iovcnt == 1)
        io_uring_prep_recv(sqe, op->sock->fd, op->iov[0].iov_base, op->iov[0].iov_len, 0);
    else
        io_uring_prep_readv(sqe, op->sock->fd, op->iov, (unsigned)op->iovcnt, 0);
}

/* Upstream: uring_write_op::do_prep (SEND for one buffer, SENDMSG else;
 * MSG_NOSIGNAL: EPIPE, never SIGPIPE). */
static void write_prep(uring_op *u, struct io_uring_sqe *sqe)
{
    sock_op *op = (sock_op *)u;
    if (cancelled_before_prep(op, sqe))
        return;
    if (op->iovcnt == 1) {
        io_uring_prep_send(sqe, op->sock->fd, op->iov[0].iov_base, op->iov[0].iov_len,
                           MSG_NOSIGNAL);
    } else {
        memset(&op->msg, 0, sizeof op->msg);
        op->msg.msg_iov = op->iov;
        op->msg.msg_iovlen = (size_t)op->iovcnt;
        io_uring_prep_sendmsg(sqe, op->sock->fd, &op->msg, MSG_NOSIGNAL);
    }
}

static void connect_prep(uring_op *u, struct io_uring_sqe *sqe)
{
    sock_op *op = (sock_op *)u;
    if (cancelled_before_prep(op, sqe))
        return;
    io_uring_prep_connect(sqe, op->sock->fd, (struct sockaddr *)&op->addr, op->addrlen);
}

static void accept_prep(uring_op *u, struct io_uring_sqe *sqe)
{
    sock_op *op = (sock_op *)u;
    if (cancelled_before_prep(op, sqe))
        return;
    io_uring_prep_accept(sqe, op->sock->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* Upstream: do_cqe of every op: record and queue. */
static void op_cqe(uring_op *u, int res, unsigned flags, sl_op_queue *local)
{
    (void)flags;
    sock_op *op = (sock_op *)u;
    u->res = op->prepped_nop ? -ECANCELED : res;
    op->from_ring = true;
    op_queue_push(local, &u->op);
}

/* ---- completion --------------------------------------------------------------- */


/* Upstream: do_handler of each op (uring_set_result / decode_io_result). */
void io_op_complete(sl_op *o)
{
    sock_op *op = (sock_op *)o;
    sl_socket *sock = op->sock;
    sl_scheduler *s = sock->sched;
    int res = op->u.res;
    int status;
    if (res < 0)
        status = res; /* -ECANCELED == SL_ECANCELED */
    else if (op->kind == K_READ && res == 0 && !op->empty_buffer)
        status = SL_EOF;
    else
        status = 0;
    /* A ring completion with data: the socket is ready again, speculate
     * (upstream: on_async_read_ready / on_async_write_ready). */
    if (op->from_ring && res > 0) {
        if (op->kind == K_READ)
            atomic_store_explicit(&sock->spec.try_read, true, memory_order_relaxed);
        else if (op->kind == K_WRITE)
            atomic_store_explicit(&sock->spec.try_write, true, memory_order_relaxed);
    }
    SL_TP(op_completed, s, sock->fd, op->kind, status, (long)(res > 0 ? res : 0));
    void *arg = op->arg;
    if (op->kind == K_ACCEPT) {
        sl_accept_handler h = op->accept_handler;
        sl_socket *accepted = NULL;
        if (status == 0) {
            int r = socket_create(s, res, &accepted);
            if (r < 0) {
                close(res);
                status = r;
            }
        }
        atomic_store_explicit(&op->busy, false, memory_order_release);
        h(sock, status, accepted, arg);
    } else {
        sl_io_handler h = op->io_handler;
        size_t bytes = op->kind == K_CONNECT || res < 0 ? 0 : (size_t)res;
        atomic_store_explicit(&op->busy, false, memory_order_release);
        h(sock, status, bytes, arg);
    }
    socket_unref(sock);
}

static void io_op_destroy(sl_op *o)
{
    sock_op *op = (sock_op *)o;
    if (op->kind == K_ACCEPT && op->u.res >= 0 && op->from_ring)
        close(op->u.res);
    atomic_store_explicit(&op->busy, false, memory_order_release);
    socket_unref(op->sock);
}

/* ---- opening ------------------------------------------------------------------ */

static void op_setup(sock_op *op, sl_socket *sock, int kind,
                     void (*prep)(uring_op *, struct io_uring_sqe *))
{
    sl_op_init(&op->u.op, io_op_complete, io_op_destroy);
    op->u.cqe = op_cqe;
    op->u.prep = prep;
    atomic_init(&op->u.sqe_set, false);
    op->sock = sock;
    op->kind = kind;
    atomic_init(&op->busy, false);
}

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
    }
    sock->sched = s;
    sock->fd = fd;
    atomic_init(&sock->refs, 1);
    atomic_init(&sock->spec.try_read, true);
    atomic_init(&sock->spec.try_write, true);
    atomic_init(&sock->spec.perma_off_read, false);
    atomic_init(&sock->spec.read_eagain_streak, 0);
    op_setup(&sock->conn, sock, K_CONNECT, connect_prep);
    op_setup(&sock->rd, sock, K_READ, read_prep);
    op_setup(&sock->wr, sock, K_WRITE, write_prep);
    op_setup(&sock->acc, sock, K_ACCEPT, accept_prep);
    atomic_store(&sock->is_open, true);
    list_push(&svc->open_list, sock);
    pthread_mutex_unlock(&svc->mutex);
    *out = sock;
    return 0;
}

int sl_socket_fd(const sl_socket *sock)
{
    return sock->fd;
}

/* ---- initiation ---------------------------------------------------------------- */

static int op_start(sl_socket *sock, sock_op *op)
{
    if (!atomic_load_explicit(&sock->is_open, memory_order_acquire))
        return -EBADF;
    bool expected = false;
    if (!atomic_compare_exchange_strong_explicit(&op->busy, &expected, true,
                                                 memory_order_acq_rel,
                                                 memory_order_relaxed))
        return -EBUSY;
    op->u.res = 0;
    atomic_store_explicit(&op->u.sqe_set, false, memory_order_relaxed);
    op->empty_buffer = false;
    op->from_ring = false;
    op->prepped_nop = false;
    atomic_store_explicit(&op->cancel_asked, false, memory_order_release);
    socket_ref(sock);
    return 0;
}

/* A result known at initiation: inline if the budget allows (upstream:
 * try_consume_inline_budget then dispatch_coro), else through the queue.
 * Upstream pushes to the queue without waking anyone; the port posts,
 * which wakes a thread (the kit's hand-off contract). */
static void finish_now(sl_socket *sock, sock_op *op, int res)
{
    op->u.res = res;
    if (!try_complete_inline(sock->sched, &op->u.op))
        sl_post(sock->sched, &op->u.op);
}

/* The op goes to the ring; it counts as work until its CQE's handler ran. */
static void submit(sl_socket *sock, sock_op *op)
{
    sl_work_started(sock->sched);
    uring_submit_op(sock->sched, &op->u);
}

static int start_transfer(sl_socket *sock, sock_op *op, const struct iovec *iov,
                          int iovcnt, sl_io_handler h, void *arg)
{
    if (!h)
        return -EINVAL;
    if (iovcnt < 0 || iovcnt > SL_MAX_IOV || (iovcnt > 0 && !iov))
        return -EINVAL;
    int r = op_start(sock, op);
    if (r < 0)
        return r;
    size_t total = 0;
    for (int i = 0; i < iovcnt; ++i) {
        op->iov[i] = iov[i];
        total += iov[i].iov_len;
    }
    op->iovcnt = iovcnt;
    op->io_handler = h;
    op->arg = arg;
    if (total == 0) {
        op->empty_buffer = true; /* complete with 0 bytes, never EOF */
        op->u.res = 0;
        sl_post(sock->sched, &op->u.op);
        return 0;
    }
    spec_state *sp = &sock->spec;
    bool reading = op->kind == K_READ;
    bool try_now = reading ? atomic_load_explicit(&sp->try_read, memory_order_relaxed) &&
                                 !atomic_load_explicit(&sp->perma_off_read,
                                                       memory_order_relaxed)
                           : atomic_load_explicit(&sp->try_write, memory_order_relaxed);
    if (try_now) {
        ssize_t n;
        if (reading) {
            do
                n = readv(sock->fd, op->iov, op->iovcnt);
            while (n < 0 && errno == EINTR);
        } else {
            struct msghdr msg = {.msg_iov = op->iov, .msg_iovlen = (size_t)op->iovcnt};
            do
                n = sendmsg(sock->fd, &msg, MSG_NOSIGNAL);
            while (n < 0 && errno == EINTR);
        }
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            if (reading && n >= 0)
                atomic_store_explicit(&sp->read_eagain_streak, 0, memory_order_relaxed);
            finish_now(sock, op, n >= 0 ? (int)n : -errno);
            return 0;
        }
        /* EAGAIN: speculation off until the ring shows readiness. */
        if (reading) {
            atomic_store_explicit(&sp->try_read, false, memory_order_relaxed);
            int k = atomic_load_explicit(&sp->read_eagain_streak, memory_order_relaxed);
            if (k < SPEC_MAX_READ_FAILURES) {
                atomic_store_explicit(&sp->read_eagain_streak, ++k, memory_order_relaxed);
                if (k >= SPEC_MAX_READ_FAILURES)
                    atomic_store_explicit(&sp->perma_off_read, true,
                                          memory_order_relaxed);
            }
        } else {
            atomic_store_explicit(&sp->try_write, false, memory_order_relaxed);
        }
    }
    submit(sock, op);
    return 0;
}

/* Upstream: io_uring_tcp_socket::read_some. */
int sl_socket_async_read(sl_socket *sock, const struct iovec *iov, int iovcnt,
                         sl_io_handler h, void *arg)
{
    return start_transfer(sock, &sock->rd, iov, iovcnt, h, arg);
}

/* Upstream: io_uring_tcp_socket::write_some. */
int sl_socket_async_write(sl_socket *sock, const struct iovec *iov, int iovcnt,
                          sl_io_handler h, void *arg)
{
    return start_transfer(sock, &sock->wr, iov, iovcnt, h, arg);
}

/* Upstream: io_uring_tcp_socket::connect (IORING_OP_CONNECT, no
 * speculation): the CQE carries the connection's real outcome. */
int sl_socket_async_connect(sl_socket *sock, const struct sockaddr *addr, socklen_t len,
                            sl_io_handler h, void *arg)
{
    if (!h || !addr || len > sizeof(struct sockaddr_storage))
        return -EINVAL;
    sock_op *op = &sock->conn;
    int r = op_start(sock, op);
    if (r < 0)
        return r;
    memcpy(&op->addr, addr, len);
    op->addrlen = len;
    op->io_handler = h;
    op->arg = arg;
    submit(sock, op);
    return 0;
}

/* Upstream: the acceptor's accept (one IORING_OP_ACCEPT per call). */
int sl_socket_async_accept(sl_socket *listener, sl_accept_handler h, void *arg)
{
    if (!h)
        return -EINVAL;
    sock_op *op = &listener->acc;
    int r = op_start(listener, op);
    if (r < 0)
        return r;
    op->accept_handler = h;
    op->arg = arg;
    submit(listener, op);
    return 0;
}

/* ---- cancel and close ---------------------------------------------------------- */

/* Upstream: io_uring_tcp_socket::cancel (submit_cancel_by_fd). */
void sl_socket_cancel(sl_socket *sock)
{
    if (!atomic_load_explicit(&sock->is_open, memory_order_acquire) || sock->fd < 0)
        return;
    /* Ops not yet on the ring (see cancelled_before_prep); a completed op
     * never reads the mark, and the next start clears it. */
    sock_op *ops[4] = {&sock->conn, &sock->rd, &sock->wr, &sock->acc};
    for (int i = 0; i < 4; ++i)
        if (atomic_load_explicit(&ops[i]->busy, memory_order_acquire))
            atomic_store_explicit(&ops[i]->cancel_asked, true, memory_order_release);
    uring_cancel_by_fd(sock->sched, sock->fd);
}

/* Upstream: close_socket (cancel_and_flush, then close). */
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
    if (sock->fd >= 0) {
        uring_cancel_and_flush(sock->sched, sock->fd);
        close(sock->fd);
        sock->fd = -1;
    }
}

void sl_socket_close(sl_socket *sock)
{
    if (!sock)
        return;
    close_socket(sock);
    socket_unref(sock);
}
