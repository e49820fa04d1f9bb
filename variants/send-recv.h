/* send-recv - adds upstream's recv/send for one buffer (corosio 67547eb) instead of readv/sendmsg.
 *
 * Upstream later completes a single-buffer read with recv and a
 * single-buffer write with send (MSG_NOSIGNAL), keeping readv/sendmsg for
 * scatter/gather.  The kernel's recv/send skip the iovec import of
 * readv/sendmsg.  Expected: a lower round trip on the ping-pongs.  Seen
 * by descriptor.c (io_perform) through internal.h: switches only.
 */
#define SL_VARIANT_IO_SYSCALLS
#define io_read(fd, iov, iovcnt)                                                         \
    ((iovcnt) == 1 ? recv((fd), (iov)[0].iov_base, (iov)[0].iov_len, 0)                   \
                   : readv((fd), (iov), (iovcnt)))
#define io_write(fd, iov, iovcnt)                                                        \
    ((iovcnt) == 1                                                                       \
         ? send((fd), (iov)[0].iov_base, (iov)[0].iov_len, MSG_NOSIGNAL)                 \
         : sendmsg((fd),                                                                 \
                   &(struct msghdr){.msg_iov = (iov), .msg_iovlen = (size_t)(iovcnt)},   \
                   MSG_NOSIGNAL))
