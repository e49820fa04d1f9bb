/* test_resolver.c - the resolver service: getaddrinfo on a helper thread,
 * the completion posted back across threads; localhost, numeric IPv4 and
 * IPv6 hosts, failures mapped below SL_EAI_BASE, cancel (exactly once,
 * late results freed), shutdown with lookups in flight, and a failed
 * thread start.  Loopback names and numeric hosts only: no network. */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

typedef struct lookup_result {
    atomic_int calls;
    int status;
    struct addrinfo *res;
    pthread_t thread;
    bool on_scheduler_thread;
    sl_scheduler *s;
} lookup_result;

static void lookup_handler(sl_resolve *r, int status, struct addrinfo *res, void *arg)
{
    (void)r;
    lookup_result *out = arg;
    out->status = status;
    out->res = res;
    out->thread = pthread_self();
    out->on_scheduler_thread = sl_running_in_this_thread(out->s);
    atomic_fetch_add(&out->calls, 1);
}

static void lookup_init(lookup_result *l, sl_scheduler *s)
{
    memset(l, 0, sizeof *l);
    atomic_init(&l->calls, 0);
    l->status = 12345;
    l->s = s;
}

static bool is_loopback(const struct addrinfo *ai)
{
    if (ai->ai_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ai->ai_addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ai->ai_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ai->ai_addr;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

static int port_of(const struct addrinfo *ai)
{
    if (ai->ai_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ai->ai_addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)ai->ai_addr)->sin6_port);
}

/* Resolves and runs to completion; the handler must run exactly once. */
static void resolve_and_run(sl_scheduler *s, const char *host, const char *service,
                            const struct addrinfo *hints, lookup_result *l)
{
    lookup_init(l, s);
    sl_resolve *r = NULL;
    assert_int_equal(sl_resolve_start(s, host, service, hints, lookup_handler, l, &r), 0);
    assert_non_null(r);
    assert_int_equal(sl_run(s), 1);
    assert_int_equal(atomic_load(&l->calls), 1);
}

void resolver_resolves_localhost_to_loopback(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    lookup_result l;
    resolve_and_run(s, "localhost", "8080", NULL, &l);
    assert_int_equal(l.status, 0);
    assert_non_null(l.res);
    for (struct addrinfo *ai = l.res; ai; ai = ai->ai_next) {
        assert_true(is_loopback(ai));
        assert_int_equal(ai->ai_socktype, SOCK_STREAM); /* the default hint */
        assert_int_equal(port_of(ai), 8080);
    }
    freeaddrinfo(l.res);
    sl_scheduler_destroy(s);
}

void resolver_resolves_numeric_ipv4_host(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    lookup_result l;
    resolve_and_run(s, "127.0.0.1", "4242", &hints, &l);
    assert_int_equal(l.status, 0);
    assert_non_null(l.res);
    assert_int_equal(l.res->ai_family, AF_INET);
    assert_true(is_loopback(l.res));
    assert_int_equal(port_of(l.res), 4242);
    assert_null(l.res->ai_next);
    freeaddrinfo(l.res);
    sl_scheduler_destroy(s);
}

static bool have_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

void resolver_resolves_numeric_ipv6_loopback(void **state)
{
    (void)state;
    if (!have_ipv6_loopback())
        skip();
    sl_scheduler *s = new_sched();
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    lookup_result l;
    resolve_and_run(s, "::1", "80", &hints, &l);
    assert_int_equal(l.status, 0);
    assert_non_null(l.res);
    assert_int_equal(l.res->ai_family, AF_INET6);
    assert_true(is_loopback(l.res));
    assert_int_equal(port_of(l.res), 80);
    freeaddrinfo(l.res);
    sl_scheduler_destroy(s);
}

/* The reserved .invalid domain never resolves (RFC 6761). */
void resolver_invalid_name_fails_with_negative_status(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    lookup_result l;
    resolve_and_run(s, "no-such-host.invalid", "80", NULL, &l);
    assert_true(l.status < 0);
    assert_int_not_equal(l.status, SL_ECANCELED);
    assert_null(l.res);
    sl_scheduler_destroy(s);
}

/* Deterministic and offline: a non-numeric host with AI_NUMERICHOST is
 * EAI_NONAME, reported as SL_EAI_BASE - EAI_NONAME. */
void resolver_eai_code_is_reported_below_eai_base(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST;
    lookup_result l;
    resolve_and_run(s, "not-an-address", "80", &hints, &l);
    assert_int_equal(l.status, SL_EAI_BASE - EAI_NONAME);
    assert_null(l.res);
    sl_scheduler_destroy(s);
}

/* The helper thread posts the completion (the cross-thread path); the
 * handler runs on the thread that runs the scheduler. */
void resolver_completion_is_posted_back_to_scheduler_thread(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_stats_reset(s);
    lookup_result l;
    resolve_and_run(s, "127.0.0.1", "80", NULL, &l);
    assert_int_equal(l.status, 0);
    assert_true(pthread_equal(l.thread, pthread_self()));
    assert_true(l.on_scheduler_thread);
    sl_stats st;
    sl_stats_read(s, &st);
    freeaddrinfo(l.res);
    sl_scheduler_destroy(s);
    if (!HAVE_STATS())
        skip(); /* the shared-queue post is seen through the counters */
    assert_true(st.post_shared >= 1);
}

void resolver_cancel_runs_handler_once_with_ecanceled(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    lookup_result l;
    lookup_init(&l, s);
    sl_resolve *r = NULL;
    assert_int_equal(sl_resolve_start(s, "localhost", "80", NULL, lookup_handler, &l, &r),
                     0);
    sl_resolve_cancel(r);
    sl_resolve_cancel(r); /* a second cancel changes nothing */
    assert_int_equal(sl_run(s), 1);
    assert_int_equal(atomic_load(&l.calls), 1);
    assert_int_equal(l.status, SL_ECANCELED);
    assert_null(l.res);
    sl_scheduler_destroy(s); /* waits for the helper, which frees the result */
    assert_int_equal(atomic_load(&l.calls), 1);
}

/* Cancel after the result was (very probably) queued but before the
 * handler ran: still SL_ECANCELED, once, and the result is freed by the
 * library (the leak checkers of the sanitizer and valgrind runs see it). */
void resolver_cancel_after_result_queued_frees_result(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    lookup_result l;
    lookup_init(&l, s);
    sl_resolve *r = NULL;
    assert_int_equal(sl_resolve_start(s, "127.0.0.1", "80", NULL, lookup_handler, &l, &r),
                     0);
    sleep_ms(50);
    sl_resolve_cancel(r);
    assert_int_equal(sl_run(s), 1);
    assert_int_equal(atomic_load(&l.calls), 1);
    assert_int_equal(l.status, SL_ECANCELED);
    assert_null(l.res);
    sl_scheduler_destroy(s);
}

/* Shutdown with lookups still in their helper threads: no handler runs,
 * the threads are waited for, nothing leaks. */
void resolver_shutdown_with_lookup_in_flight_is_clean(void **state)
{
    (void)state;
    enum { N = 4 };
    for (int round = 0; round < 3; ++round) {
        sl_scheduler *s = new_sched();
        lookup_result l[N];
        for (int i = 0; i < N; ++i) {
            lookup_init(&l[i], s);
            assert_int_equal(sl_resolve_start(s, i % 2 ? "localhost" : "127.0.0.1", "80",
                                              NULL, lookup_handler, &l[i], NULL),
                             0);
        }
        if (round == 1)
            sleep_ms(20); /* some completions queued, not run */
        if (round == 2)
            sl_scheduler_shutdown(s);
        sl_scheduler_destroy(s);
        for (int i = 0; i < N; ++i)
            assert_int_equal(atomic_load(&l[i].calls), 0);
    }
}

void resolver_start_after_shutdown_fails(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    sl_scheduler_shutdown(s);
    lookup_result l;
    lookup_init(&l, s);
    sl_resolve *r = (sl_resolve *)&l;
    assert_int_equal(sl_resolve_start(s, "127.0.0.1", "80", NULL, lookup_handler, &l, &r),
                     -ESHUTDOWN);
    assert_null(r);
    assert_int_equal(sl_resolve_start(s, "127.0.0.1", "80", NULL, NULL, NULL, NULL),
                     -EINVAL);
    sl_scheduler_destroy(s);
    assert_int_equal(atomic_load(&l.calls), 0);
}

/* Many lookups at once, run by two threads: each handler exactly once. */
void resolver_many_lookups_each_complete_once(void **state)
{
    (void)state;
    enum { N = 16 };
    sl_scheduler *s = new_sched();
    lookup_result l[N];
    for (int i = 0; i < N; ++i) {
        lookup_init(&l[i], s);
        assert_int_equal(sl_resolve_start(s, i % 2 ? "::1" : "127.0.0.1", "80", NULL,
                                          lookup_handler, &l[i], NULL),
                         0);
    }
    run_thread t1, t2;
    start_run_thread(&t1, s);
    start_run_thread(&t2, s);
    join_run_thread(&t1, 10000);
    join_run_thread(&t2, 10000);
    for (int i = 0; i < N; ++i) {
        assert_int_equal(atomic_load(&l[i].calls), 1);
        assert_true(l[i].on_scheduler_thread);
        if (l[i].status == 0)
            freeaddrinfo(l[i].res);
        else
            assert_true(i % 2 == 1); /* only ::1 may be missing */
    }
    sl_scheduler_destroy(s);
}

/* A failed thread start returns its error and starts nothing.  The suite
 * is linked with -Wl,--wrap=pthread_create: fault.c makes the library's
 * next pthread_create fail. */
void resolver_thread_start_failure_returns_error(void **state)
{
    (void)state;
    sl_scheduler *s = new_sched();
    int fds = count_open_fds();
    lookup_result l;
    lookup_init(&l, s);
    sl_resolve *r = (sl_resolve *)&l;
    long calls = fault_calls("pthread_create");
    fault_arm("pthread_create", 1, EAGAIN);
    int rc = sl_resolve_start(s, "127.0.0.1", "80", NULL, lookup_handler, &l, &r);
    fault_clear();
    assert_int_equal(rc, -EAGAIN);
    assert_int_equal(fault_calls("pthread_create") - calls, 1); /* the failed one */
    assert_null(r);
    assert_int_equal(count_open_fds(), fds);
    /* Nothing outstanding: run returns at once, no handler. */
    assert_int_equal(sl_run(s), 0);
    assert_int_equal(atomic_load(&l.calls), 0);
    /* The service still works afterwards. */
    sl_restart(s);
    resolve_and_run(s, "127.0.0.1", "80", NULL, &l);
    assert_int_equal(l.status, 0);
    freeaddrinfo(l.res);
    sl_scheduler_destroy(s);
}

static void never_called(sl_resolve *r, int status, struct addrinfo *res, void *arg)
{
    (void)r;
    (void)status;
    (void)res;
    (void)arg;
    fail_msg("a refused lookup ran its handler");
}

/* The single-threaded variant refuses the resolver with a clear error
 * (upstream refuses DNS in single-threaded mode); elsewhere it is there. */
void single_threaded_refuses_resolver(void **state)
{
    (void)state;
    if (!variant_is("single-threaded")) {
        printf("  skip: only the single-threaded variant refuses the resolver\n");
        skip();
    }
    sl_scheduler *s = new_sched();
    sl_resolve *r = (sl_resolve *)1;
    assert_int_equal(sl_resolve_start(s, "127.0.0.1", "80", NULL, never_called, NULL, &r),
                     -ENOTSUP);
    assert_null(r);
    assert_int_equal(sl_run(s), 0);
    sl_scheduler_destroy(s);
}
