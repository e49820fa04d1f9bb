/* bench.h - what every workload program of the kit shares.
 *
 * Each bench/<workload>.c is built once per variant, against
 * build/<variant>/libschedlab.a (timed) and build/<variant>-stats/ (with
 * mechanism counters).  The command line is the peers' one plus three
 * options the driver uses:
 *
 *   -p PARAM     the workload's parameter (threads, bytes, chains, ...)
 *   -t SECONDS   how long to run; with -n, the most it may run
 *   -w NAME      accepted for symmetry with the peers; must name this program
 *   -n OPS       fixed work: stop after OPS operations (whole-process timings
 *                from hyperfine then compare equal work, not equal time)
 *   -a FILE      also append this run's RESULT lines to FILE, as one block
 *                opened by a "RUN <pid>" line (hyperfine keeps no output)
 *   -o FILE      per-event TSV, for workloads that keep a timeline
 *
 * Output, one figure a line, as the peers print it:
 *   RESULT,<workload>,<impl>,<param>,<metric>,<unit>,<value>
 * impl is sl_variant_name().  Every program also prints `ops` (how many
 * operations the figures are over); a stats build adds one
 * `<counter>_per_op` line per sl_stats field.  Latencies come from the
 * peers' histogram (bench/peers/histogram.h): fixed buckets, nothing
 * allocated per sample.
 *
 * Every loop in a workload checks its deadline; a watchdog (SIGALRM) ends
 * a program that is still running well past it, with a message and exit
 * status 3, so a hung variant cannot stall a benchmark run.
 */
#ifndef SL_BENCH_H
#define SL_BENCH_H

#include "schedlab.h"
#include "histogram.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- command line ------------------------------------------------------ */

typedef struct bench_spec {
    const char *workload;
    long default_param; /* 0: the workload takes no parameter (prints 0) */
    long min_param, max_param;
    bool fixed_work; /* -n is meaningful */
} bench_spec;

typedef struct bench_args {
    const bench_spec *spec;
    long param;
    char param_text[32]; /* what RESULT lines print as <param> */
    double seconds;
    uint64_t duration_ns;
    uint64_t ops_target; /* 0: run for `seconds` */
    const char *append_path;
    const char *event_path;
} bench_args;

static bench_args bench;

static inline void bench_die(const char *what, int err)
{
    fprintf(stderr, "%s (%s): %s: %s\n", bench.spec ? bench.spec->workload : "bench",
            sl_variant_name(), what, strerror(err < 0 ? -err : err));
    exit(1);
}

static void bench_usage(const char *prog)
{
    const bench_spec *sp = bench.spec;
    fprintf(stderr,
            "usage: %s [-w %s] [-p PARAM] [-t SECONDS] [-n OPS] [-a FILE] [-o FILE]\n",
            prog, sp->workload);
    if (sp->default_param)
        fprintf(stderr, "  -p in [%ld, %ld], default %ld\n", sp->min_param, sp->max_param,
                sp->default_param);
}

static void bench_watchdog_fired(int sig)
{
    (void)sig;
    static const char msg[] = "bench: watchdog: still running long past -t, giving up\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(3);
}

/* Parses the command line (exits with status 2 on a bad one) and arms the
 * watchdog at twice the time limit plus 10 s. */
static inline void bench_init(int argc, char **argv, const bench_spec *spec)
{
    bench.spec = spec;
    bench.param = spec->default_param;
    bench.seconds = 0.5;
    const char *param_arg = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "w:p:t:n:a:o:")) != -1) {
        char *end;
        switch (opt) {
        case 'w':
            if (strcmp(optarg, spec->workload) != 0) {
                fprintf(stderr, "%s: this program runs only '%s', not '%s'\n", argv[0],
                        spec->workload, optarg);
                exit(2);
            }
            break;
        case 'p':
            param_arg = optarg;
            break;
        case 't':
            errno = 0;
            bench.seconds = strtod(optarg, &end);
            if (errno || end == optarg || *end ||
                !(bench.seconds > 0.0 && bench.seconds <= 86400.0)) {
                bench_usage(argv[0]);
                exit(2);
            }
            break;
        case 'n': {
            errno = 0;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || n == 0) {
                bench_usage(argv[0]);
                exit(2);
            }
            bench.ops_target = n;
            break;
        }
        case 'a':
            bench.append_path = optarg;
            break;
        case 'o':
            bench.event_path = optarg;
            break;
        default:
            bench_usage(argv[0]);
            exit(2);
        }
    }
    if (optind != argc) {
        bench_usage(argv[0]);
        exit(2);
    }
    if (bench.ops_target && !spec->fixed_work) {
        fprintf(stderr, "%s: %s runs for a time, not a fixed amount of work (-n)\n",
                argv[0], spec->workload);
        exit(2);
    }
    if (param_arg && spec->default_param) {
        char *end;
        errno = 0;
        long p = strtol(param_arg, &end, 10);
        if (errno || end == param_arg || *end || p < spec->min_param ||
            p > spec->max_param) {
            fprintf(stderr, "%s: -p takes [%ld, %ld]\n", argv[0], spec->min_param,
                    spec->max_param);
            exit(2);
        }
        bench.param = p;
    }
    snprintf(bench.param_text, sizeof bench.param_text, "%ld",
             spec->default_param ? bench.param : 0L);
    bench.duration_ns = (uint64_t)(bench.seconds * 1e9);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, bench_watchdog_fired);
    alarm((unsigned)(2.0 * bench.seconds) + 10u);
}

/* ---- time and work bounds ---------------------------------------------- */

static inline uint64_t bench_now_ns(void)
{
    return peer_now_ns();
}

/* True once the run should end: the time is up, or (with -n) `ops`
 * operations are done. */
static inline bool bench_done(uint64_t ops, uint64_t now, uint64_t deadline)
{
    return now >= deadline || (bench.ops_target && ops >= bench.ops_target);
}

static inline bool bench_work_done(uint64_t ops)
{
    return bench.ops_target && ops >= bench.ops_target;
}

/* ---- output ------------------------------------------------------------ */

static char bench_out[16384];
static size_t bench_out_len;

static inline void bench_result(const char *metric, const char *unit, double value,
                                int decimals)
{
    char line[256];
    int n =
        snprintf(line, sizeof line, "RESULT,%s,%s,%s,%s,%s,%.*f\n", bench.spec->workload,
                 sl_variant_name(), bench.param_text, metric, unit, decimals, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    fputs(line, stdout);
    if (bench_out_len + (size_t)n < sizeof bench_out) {
        memcpy(bench_out + bench_out_len, line, (size_t)n);
        bench_out_len += (size_t)n;
    }
}

static inline void bench_rate(uint64_t ops, uint64_t start_ns, uint64_t end_ns)
{
    double secs = (double)(end_ns - start_ns) / 1e9;
    bench_result("rate", "ops/s", secs > 0 ? (double)ops / secs : 0.0, 0);
}

static inline void bench_rtt(const peer_hist *h)
{
    bench_result("rtt_mean", "us", peer_hist_mean_ns(h) / 1e3, 3);
    bench_result("rtt_p50", "us", peer_hist_quantile_ns(h, 0.50) / 1e3, 3);
    bench_result("rtt_p99", "us", peer_hist_quantile_ns(h, 0.99) / 1e3, 3);
    bench_result("rtt_p999", "us", peer_hist_quantile_ns(h, 0.999) / 1e3, 3);
}

static inline void bench_lateness(const peer_hist *h)
{
    bench_result("lateness_p50", "us", peer_hist_quantile_ns(h, 0.50) / 1e3, 3);
    bench_result("lateness_p99", "us", peer_hist_quantile_ns(h, 0.99) / 1e3, 3);
    bench_result("lateness_max", "us", (double)(h->count ? h->max_ns : 0) / 1e3, 3);
}

/* The mechanism counters of `s` divided by `ops`: stats builds only; a
 * timed build prints nothing here. */
static inline void bench_counters(sl_scheduler *s, uint64_t ops)
{
    if (!sl_stats_enabled() || ops == 0)
        return;
    sl_stats st;
    sl_stats_read(s, &st);
    static const struct {
        const char *name;
        size_t offset;
    } fields[] = {
#define BENCH_COUNTER(f) {#f "_per_op", offsetof(sl_stats, f)}
        BENCH_COUNTER(mutex_locks),         BENCH_COUNTER(post_private),
        BENCH_COUNTER(post_shared),         BENCH_COUNTER(cond_notify_one),
        BENCH_COUNTER(cond_notify_all),     BENCH_COUNTER(cond_waits),
        BENCH_COUNTER(eventfd_writes),      BENCH_COUNTER(eventfd_skipped),
        BENCH_COUNTER(epoll_wait_blocking), BENCH_COUNTER(epoll_wait_zero),
        BENCH_COUNTER(timerfd_settime),     BENCH_COUNTER(reactor_runs),
        BENCH_COUNTER(handlers_run),        BENCH_COUNTER(inline_completions),
        BENCH_COUNTER(inline_posted),       BENCH_COUNTER(refill_unassisted),
        BENCH_COUNTER(refill_doubled),      BENCH_COUNTER(refill_reset),
        BENCH_COUNTER(refill_kept),         BENCH_COUNTER(uring_submits),
        BENCH_COUNTER(uring_enters),        BENCH_COUNTER(uring_cqes),
#undef BENCH_COUNTER
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint64_t v;
        memcpy(&v, (const char *)&st + fields[i].offset, sizeof v);
        bench_result(fields[i].name, "count", (double)v / (double)ops, 6);
    }
}

/* Prints `ops` and the counters, then appends the run's block to -a FILE
 * (one write, O_APPEND).  Returns the exit status for main. */
static inline int bench_finish(sl_scheduler *s, uint64_t ops)
{
    bench_result("ops", "count", (double)ops, 0);
    if (s)
        bench_counters(s, ops);
    fflush(stdout);
    if (bench.append_path) {
        int fd = open(bench.append_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            bench_die(bench.append_path, errno);
        char head[64];
        int n = snprintf(head, sizeof head, "RUN %ld\n", (long)getpid());
        char block[sizeof head + sizeof bench_out];
        memcpy(block, head, (size_t)n);
        memcpy(block + n, bench_out, bench_out_len);
        ssize_t w = write(fd, block, (size_t)n + bench_out_len);
        if (w < 0)
            bench_die(bench.append_path, errno);
        close(fd);
    }
    return 0;
}

static inline sl_scheduler *bench_scheduler(void)
{
    sl_scheduler *s;
    int rc = sl_scheduler_create(&s);
    if (rc < 0)
        bench_die("sl_scheduler_create", rc);
    return s;
}

/* n zeroed items of `size` bytes; the program ends if there is no memory. */
static inline void *bench_calloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        bench_die("calloc", ENOMEM);
    return p;
}

/* The start of the measured part: zeroes the counters of `s`, reads the
 * clock and sets *deadline to -t seconds later.  Returns the start. */
static inline uint64_t bench_begin(sl_scheduler *s, uint64_t *deadline)
{
    sl_stats_reset(s);
    uint64_t start = bench_now_ns();
    *deadline = start + bench.duration_ns;
    return start;
}

/* ---- connected sockets (127.0.0.1, kernel-chosen port) ------------------ */

/* A listening TCP socket on 127.0.0.1 with a kernel-chosen port (plain
 * syscalls); its address in *addr. */
static inline int bench_tcp_listener(struct sockaddr_in *addr, int backlog)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        bench_die("socket", errno);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *addr;
    if (bind(lfd, (struct sockaddr *)addr, sizeof *addr) < 0 ||
        listen(lfd, backlog) < 0 || getsockname(lfd, (struct sockaddr *)addr, &len) < 0)
        bench_die("bind/listen", errno);
    return lfd;
}

/* A connected TCP pair, TCP_NODELAY on both ends, made with plain syscalls
 * and adopted by `s` (the setup is not what is measured). */
static inline void bench_tcp_pair(sl_scheduler *s, sl_socket *out[2])
{
    struct sockaddr_in addr;
    int lfd = bench_tcp_listener(&addr, 1);
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0 || connect(cfd, (struct sockaddr *)&addr, sizeof addr) < 0)
        bench_die("connect", errno);
    int sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (sfd < 0)
        bench_die("accept", errno);
    close(lfd);
    int one = 1;
    if (setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        bench_die("TCP_NODELAY", errno);
    int rc = sl_socket_adopt(s, cfd, &out[0]);
    if (rc == 0)
        rc = sl_socket_adopt(s, sfd, &out[1]);
    if (rc < 0)
        bench_die("sl_socket_adopt", rc);
}

static inline void bench_unix_pair(sl_scheduler *s, sl_socket *out[2])
{
    int rc = sl_socket_pair(s, out);
    if (rc < 0)
        bench_die("sl_socket_pair", rc);
}

/* ---- whole-buffer transfers over async_read / async_write --------------- */

/* Reads or writes exactly `len` bytes, re-issuing after partial transfers,
 * then calls on_done(x, status): 0, SL_EOF, SL_ECANCELED or -errno. */
typedef struct bench_xfer bench_xfer;
struct bench_xfer {
    sl_socket *sock;
    char *buf;
    size_t len, done;
    bool is_write;
    void (*on_done)(bench_xfer *x, int status);
    void *user;
};

static void bench_xfer_step(sl_socket *sock, int status, size_t bytes, void *arg);

static inline int bench_xfer_issue(bench_xfer *x)
{
    struct iovec iov = {x->buf + x->done, x->len - x->done};
    return x->is_write ? sl_socket_async_write(x->sock, &iov, 1, bench_xfer_step, x)
                       : sl_socket_async_read(x->sock, &iov, 1, bench_xfer_step, x);
}

static void bench_xfer_step(sl_socket *sock, int status, size_t bytes, void *arg)
{
    (void)sock;
    bench_xfer *x = arg;
    if (status == 0 && bytes == 0)
        status = SL_EOF;
    if (status != 0) {
        x->on_done(x, status);
        return;
    }
    x->done += bytes;
    if (x->done < x->len) {
        int rc = bench_xfer_issue(x);
        if (rc < 0)
            x->on_done(x, rc);
        return;
    }
    x->on_done(x, 0);
}

static inline void bench_xfer_start(bench_xfer *x, bool is_write, size_t len)
{
    x->is_write = is_write;
    x->len = len;
    x->done = 0;
    int rc = bench_xfer_issue(x);
    if (rc < 0)
        bench_die(is_write ? "sl_socket_async_write" : "sl_socket_async_read", rc);
}

/* A handler status that ends a workload: cancellations during shutdown
 * are expected, anything else is a failure. */
static inline void bench_check_io(const char *what, int status, bool stopping)
{
    if (status == 0)
        return;
    if (stopping && (status == SL_ECANCELED || status == SL_EOF ||
                     status == -ECONNRESET || status == -EPIPE || status == -EBADF))
        return;
    bench_die(what, status == SL_EOF ? ECONNRESET : status);
}

#endif /* SL_BENCH_H */
