/* io.h - the I/O operation and the socket object shared by descriptor.c
 * (the descriptor state, M10) and socket.c (speculative I/O, M11).
 *
 * Port of upstream's epoll_op.hpp.  A socket owns fixed operation slots --
 * one connect, one read, one write, one accept -- so at most one of each
 * is pending.  An op is in exactly one of these places while it is in
 * flight: parked in its descriptor slot (waiting for readiness), in the
 * scheduler's queue (completed, handler not yet run), or in the thread's
 * inline list (completed at initiation, handler runs when the current
 * handler returns).  Each of those holds one reference on the socket.
 */
#ifndef SL_IO_H
#define SL_IO_H

#include "internal.h"

#include <errno.h>
#include <sys/socket.h>

enum io_kind { IO_READ, IO_WRITE, IO_CONNECT, IO_ACCEPT };

typedef struct io_op {
    sl_op op; /* complete = io_op_complete */
    struct sl_socket *sock;
    int kind;
    int errn; /* 0 or an errno */
    size_t bytes;
    atomic_bool cancelled;
    atomic_bool busy;  /* started and its handler has not run yet */
    atomic_uint gen;   /* this start's generation (socket-wide, never 0) */
    bool empty_buffer; /* a read of 0 bytes: 0 is not end of stream */
    bool ran_inline;   /* completed at initiation: no budget refill */
    struct iovec iov[SL_MAX_IOV];
    int iovcnt;
    int accepted_fd;
    sl_io_handler io_handler;
    sl_accept_handler accept_handler;
    void *arg;
} io_op;

struct sl_socket {
    descriptor_state desc; /* first: the reactor's epoll tag */
    sl_scheduler *sched;
    int fd;
    atomic_bool is_open; /* between open and close */
    atomic_int refs;     /* the user's + one per op in flight */
    atomic_uint next_gen; /* generations of op starts */
    io_op conn, rd, wr, acc;
    struct sl_socket *prev, *next; /* the service's open or free list */
};

static inline bool would_block_errno(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK;
}

/* descriptor.c */
void io_perform(io_op *op);
void register_op(sl_socket *sock, io_op *op, io_op **slot, bool *ready_flag,
                 unsigned *cancel_gen);
/* socket.c */
void socket_ref(sl_socket *sock);
void socket_unref(sl_socket *sock);

#endif /* SL_IO_H */
