/* accept_churn - as upstream's sequential accept churn: connect and accept
 * at the same time, write 1 byte from the client, read it on the accepted
 * socket, close both, repeat; one thread.  Figure: connections per second.
 * The client closes with SO_LINGER 0 (a reset, no TIME_WAIT), so repeated
 * runs do not use up the loopback's ephemeral ports; upstream closes
 * normally.  Mechanisms: M10 (a new descriptor registered and removed per
 * connection), the accept and connect paths.
 */
#include "bench.h"

static sl_scheduler *sched;
static sl_socket *listener, *client, *server;
static struct sockaddr_in addr;
static bool stopping, connected, accepted;
static char byte = 'X', recv_byte;
static uint64_t connections, deadline, end_ns;

static void start_cycle(void);

static void read_done(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)sock;
    (void)arg;
    bench_check_io("accept_churn read", status, stopping);
    if (status != 0 || bytes != 1)
        bench_die("accept_churn: short read", EIO);
    sl_socket_close(client);
    sl_socket_close(server);
    client = server = NULL;
    uint64_t now = bench_now_ns();
    if (bench_done(++connections, now, deadline)) {
        stopping = true;
        end_ns = now;
        sl_stop(sched);
        return;
    }
    start_cycle();
}

static void write_done(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)sock;
    (void)bytes;
    (void)arg;
    bench_check_io("accept_churn write", status, stopping);
}

/* The byte goes out once connected; it is read once accepted.  Either
 * completion may come first. */
static void maybe_exchange(void)
{
    if (!connected || !accepted)
        return;
    struct iovec out = {&byte, 1}, in = {&recv_byte, 1};
    int rc = sl_socket_async_write(client, &out, 1, write_done, NULL);
    if (rc == 0)
        rc = sl_socket_async_read(server, &in, 1, read_done, NULL);
    if (rc < 0)
        bench_die("accept_churn: start exchange", rc);
}

static void connect_done(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)sock;
    (void)bytes;
    (void)arg;
    bench_check_io("accept_churn connect", status, stopping);
    connected = true;
    maybe_exchange();
}

static void accept_done(sl_socket *l, int status, sl_socket *s, void *arg)
{
    (void)l;
    (void)arg;
    bench_check_io("accept_churn accept", status, stopping);
    server = s;
    accepted = true;
    maybe_exchange();
}

static void start_cycle(void)
{
    connected = accepted = false;
    int rc = sl_socket_open(sched, AF_INET, SOCK_STREAM, 0, &client);
    if (rc < 0)
        bench_die("sl_socket_open", rc);
    struct linger lg = {1, 0};
    rc = sl_socket_set_option(client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (rc == 0)
        rc = sl_socket_async_accept(listener, accept_done, NULL);
    if (rc == 0)
        rc = sl_socket_async_connect(client, (struct sockaddr *)&addr, sizeof addr,
                                     connect_done, NULL);
    if (rc < 0)
        bench_die("accept_churn: start cycle", rc);
}

int main(int argc, char **argv)
{
    static const bench_spec spec = {"accept_churn", 0, 0, 0, true};
    bench_init(argc, argv, &spec);
    sched = bench_scheduler();
    int rc = sl_socket_open(sched, AF_INET, SOCK_STREAM, 0, &listener);
    if (rc < 0)
        bench_die("sl_socket_open", rc);
    int one = 1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    rc = sl_socket_set_option(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (rc == 0)
        rc = sl_socket_bind(listener, (struct sockaddr *)&addr, sizeof addr);
    if (rc == 0)
        rc = sl_socket_listen(listener, 128);
    if (rc == 0)
        rc = sl_socket_local_address(listener, &bound, &len);
    if (rc < 0)
        bench_die("listener", rc);
    memcpy(&addr, &bound, sizeof addr);

    uint64_t start = bench_begin(sched, &deadline);
    start_cycle();
    sl_run(sched);

    bench_rate(connections, start, end_ns);
    bench_finish(sched, connections);
    sl_socket_close(listener);
    sl_scheduler_destroy(sched);
    return 0;
}
