// asio.cpp: the schedlab workloads written for Boost.Asio (header-only, the
// libboost-dev package), the design ancestor of corosio's scheduler.
// Idiom: io_context with completion handlers (plain lambdas and small
// function objects), asio::post, the composed async_read / async_write,
// socket::async_read_some, steady_timer::async_wait. Handler memory comes
// from Asio's own recycling allocator; nothing custom is plugged in.
// The io_context is built the way upstream corosio's Asio-callback benches
// build it (perf/bench/asio/callback): default concurrency hint everywhere,
// hint 1 for the one-way stream.
//
// Every workload here has an Asio counterpart; none is skipped.
// post_cross_thread and post_threads let at most 65536 / two batches of
// posts wait in the queue (the producer yields beyond that), so memory stays
// bounded; the same limits are used in every library.
#include "histogram.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
using error_code = boost::system::error_code;

namespace {

constexpr const char* impl = "asio";
constexpr std::size_t read_buf_size = 65536;
constexpr uint64_t cross_thread_cap = 65536;
constexpr int threads_batch = 100000;

uint64_t g_duration_ns = 500000000u;

double seconds_since(uint64_t start, uint64_t end)
{
    return static_cast<double>(end - start) / 1e9;
}

// post_single / post_interleaved: as upstream, post a batch from outside the
// loop, then poll + restart.
void run_post_batches(const char* workload, int batch)
{
    asio::io_context ioc;
    uint64_t count = 0;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + g_duration_ns;
    uint64_t now;
    do {
        for (int i = 0; i < batch; ++i)
            asio::post(ioc, [&count] { ++count; });
        ioc.poll();
        ioc.restart();
        now = peer_now_ns();
    } while (now < deadline);
    ioc.run();
    now = peer_now_ns();
    peer_print_result(workload, impl, 0, "rate", "ops/s",
                      static_cast<double>(count) / seconds_since(start, now), 0);
}

int w_post_single(long) { run_post_batches("post_single", 1000); return 0; }
int w_post_interleaved(long) { run_post_batches("post_interleaved", 100); return 0; }

// post_chain: K handlers, each re-posting itself from inside the loop.
struct chain_state {
    asio::io_context ioc;
    uint64_t count = 0;
    uint64_t deadline = 0;
    bool stopping = false;
};

struct chain_link {
    chain_state* st;
    void operator()() const
    {
        if ((++st->count & 1023u) == 0 && peer_now_ns() >= st->deadline)
            st->stopping = true;
        if (!st->stopping)
            asio::post(st->ioc, *this);
    }
};

int w_post_chain(long chains)
{
    chain_state st;
    uint64_t start = peer_now_ns();
    st.deadline = start + g_duration_ns;
    for (long i = 0; i < chains; ++i)
        asio::post(st.ioc, chain_link{&st});
    st.ioc.run();
    uint64_t end = peer_now_ns();
    peer_print_result("post_chain", impl, chains, "rate", "ops/s",
                      static_cast<double>(st.count) / seconds_since(start, end), 0);
    return 0;
}

// post_cross_thread: a producer thread posts one handler at a time while
// this thread runs the io_context.
int w_post_cross_thread(long)
{
    asio::io_context ioc;
    auto guard = asio::make_work_guard(ioc);
    std::atomic<uint64_t> executed{0};
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + g_duration_ns;
    uint64_t end = 0;

    std::thread producer([&] {
        uint64_t posted = 0;
        for (;;) {
            if ((posted & 63u) == 63u && peer_now_ns() >= deadline)
                break;
            while (posted - executed.load(std::memory_order_acquire) >= cross_thread_cap)
                std::this_thread::yield();
            asio::post(ioc, [&executed] {
                // One consumer thread: a plain load + store, no RMW.
                executed.store(executed.load(std::memory_order_relaxed) + 1,
                               std::memory_order_release);
            });
            ++posted;
        }
        asio::post(ioc, [&end] { end = peer_now_ns(); });
        guard.reset();
    });
    ioc.run();
    producer.join();
    peer_print_result("post_cross_thread", impl, 0, "rate", "ops/s",
                      static_cast<double>(executed.load()) / seconds_since(start, end), 0);
    return 0;
}

// post_threads: as upstream, a feeder thread posts batches of 100000 while N
// threads poll + restart (then run to drain once feeding stops).
int w_post_threads(long threads)
{
    asio::io_context ioc;
    std::atomic<bool> feeding{true};
    std::atomic<uint64_t> executed{0};
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + g_duration_ns;

    std::thread feeder([&] {
        uint64_t posted = 0;
        do {
            for (int i = 0; i < threads_batch; ++i)
                asio::post(ioc, [&executed] {
                    executed.fetch_add(1, std::memory_order_relaxed);
                });
            posted += threads_batch;
            while (posted - executed.load(std::memory_order_relaxed) >
                   static_cast<uint64_t>(threads_batch))
                std::this_thread::yield();
        } while (peer_now_ns() < deadline);
        feeding.store(false, std::memory_order_relaxed);
    });
    std::vector<std::thread> runners;
    for (long t = 0; t < threads; ++t)
        runners.emplace_back([&] {
            while (feeding.load(std::memory_order_relaxed)) {
                ioc.poll();
                ioc.restart();
            }
            ioc.run();
        });
    feeder.join();
    for (auto& r : runners)
        r.join();
    uint64_t end = peer_now_ns();
    peer_print_result("post_threads", impl, threads, "rate", "ops/s",
                      static_cast<double>(executed.load()) / seconds_since(start, end), 0);
    return 0;
}

// Connected pairs. TCP: 127.0.0.1, kernel-chosen port, TCP_NODELAY.
struct tcp_pair {
    asio::ip::tcp::socket a, b;
    explicit tcp_pair(asio::io_context& ioc) : a(ioc), b(ioc)
    {
        asio::ip::tcp::acceptor acceptor(
            ioc, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        a.connect(acceptor.local_endpoint());
        acceptor.accept(b);
        a.set_option(asio::ip::tcp::no_delay(true));
        b.set_option(asio::ip::tcp::no_delay(true));
    }
};

struct unix_pair {
    asio::local::stream_protocol::socket a, b;
    explicit unix_pair(asio::io_context& ioc) : a(ioc), b(ioc) { asio::local::connect_pair(a, b); }
};

// Ping-pong, one thread: the client writes n bytes and reads n back; the
// server keeps a read pending and echoes what it read.
template <class Socket>
struct pingpong {
    asio::io_context& ioc;
    Socket& client;
    Socket& server;
    std::size_t n;
    uint64_t deadline;
    uint64_t t0 = 0;
    peer_hist hist;
    std::vector<char> cbuf, sbuf;

    pingpong(asio::io_context& io, Socket& c, Socket& s, std::size_t bytes, uint64_t dl)
        : ioc(io), client(c), server(s), n(bytes), deadline(dl), cbuf(bytes, 'P'), sbuf(bytes)
    {
        peer_hist_reset(&hist);
    }

    void client_send()
    {
        t0 = peer_now_ns();
        asio::async_write(client, asio::buffer(cbuf.data(), n), [this](error_code ec, std::size_t) {
            if (ec)
                return fail(ec);
            asio::async_read(client, asio::buffer(cbuf.data(), n),
                             [this](error_code ec2, std::size_t) {
                                 if (ec2)
                                     return fail(ec2);
                                 uint64_t t1 = peer_now_ns();
                                 peer_hist_record(&hist, t1 - t0);
                                 if (t1 >= deadline)
                                     return ioc.stop();
                                 client_send();
                             });
        });
    }

    void server_receive()
    {
        asio::async_read(server, asio::buffer(sbuf.data(), n), [this](error_code ec, std::size_t) {
            if (ec)
                return fail(ec);
            asio::async_write(server, asio::buffer(sbuf.data(), n),
                              [this](error_code ec2, std::size_t) {
                                  if (ec2)
                                      return fail(ec2);
                                  server_receive();
                              });
        });
    }

    void fail(const error_code& ec)
    {
        std::fprintf(stderr, "bench-asio: ping-pong: %s\n", ec.message().c_str());
        std::exit(1);
    }
};

template <class Pair>
void run_pingpong(const char* workload, long bytes)
{
    asio::io_context ioc;
    Pair pair(ioc);
    auto pp = std::make_unique<pingpong<decltype(pair.a)>>(
        ioc, pair.a, pair.b, static_cast<std::size_t>(bytes), peer_now_ns() + g_duration_ns);
    pp->server_receive();
    pp->client_send();
    ioc.run();
    peer_hist_print_rtt(&pp->hist, workload, impl, bytes);
}

int w_pingpong_tcp(long bytes) { run_pingpong<tcp_pair>("pingpong_tcp", bytes); return 0; }
int w_pingpong_unix(long bytes) { run_pingpong<unix_pair>("pingpong_unix", bytes); return 0; }

// throughput_oneway: the writer writes one chunk and, when that completes,
// the next; the reader reads into 64 KiB. One thread runs both.
struct oneway {
    asio::io_context& ioc;
    asio::ip::tcp::socket& writer;
    asio::ip::tcp::socket& reader;
    std::vector<char> chunk;
    std::vector<char> rbuf;
    uint64_t deadline;
    uint64_t end = 0;
    uint64_t total = 0;
    bool done = false;

    oneway(asio::io_context& io, asio::ip::tcp::socket& w, asio::ip::tcp::socket& r,
           std::size_t chunk_size, uint64_t dl)
        : ioc(io), writer(w), reader(r), chunk(chunk_size, 'x'), rbuf(read_buf_size), deadline(dl)
    {
    }

    void write_next()
    {
        asio::async_write(writer, asio::buffer(chunk), [this](error_code ec, std::size_t) {
            if (!ec && !done)
                write_next();
        });
    }

    void read_next()
    {
        reader.async_read_some(asio::buffer(rbuf), [this](error_code ec, std::size_t got) {
            if (ec) {
                std::fprintf(stderr, "bench-asio: read: %s\n", ec.message().c_str());
                std::exit(1);
            }
            total += got;
            uint64_t now = peer_now_ns();
            if (now >= deadline) {
                end = now;
                done = true;
                return ioc.stop();
            }
            read_next();
        });
    }
};

int w_throughput_oneway(long chunk)
{
    asio::io_context ioc(1);
    tcp_pair pair(ioc);
    uint64_t start = peer_now_ns();
    oneway ow(ioc, pair.a, pair.b, static_cast<std::size_t>(chunk), start + g_duration_ns);
    ow.write_next();
    ow.read_next();
    ioc.run();
    peer_print_result("throughput_oneway", impl, chunk, "bytes_per_s", "B/s",
                      static_cast<double>(ow.total) / seconds_since(start, ow.end), 0);
    return 0;
}

// timer_schedule_cancel: arm a steady_timer 1 s ahead, wait on it, cancel;
// the aborted waits complete in the poll after each batch of 1000.
int w_timer_schedule_cancel(long)
{
    asio::io_context ioc;
    asio::steady_timer timer(ioc);
    uint64_t count = 0, aborted = 0;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + g_duration_ns;
    uint64_t now;
    do {
        for (int i = 0; i < 1000; ++i) {
            timer.expires_after(std::chrono::seconds(1));
            timer.async_wait([&aborted](error_code) { ++aborted; });
            timer.cancel();
            ++count;
        }
        ioc.poll();
        ioc.restart();
        now = peer_now_ns();
    } while (now < deadline);
    ioc.run();
    now = peer_now_ns();
    if (aborted != count) {
        std::fprintf(stderr, "bench-asio: %llu of %llu waits completed\n",
                     static_cast<unsigned long long>(aborted),
                     static_cast<unsigned long long>(count));
        return 1;
    }
    peer_print_result("timer_schedule_cancel", impl, 0, "rate", "ops/s",
                      static_cast<double>(count) / seconds_since(start, now), 0);
    return 0;
}

// timer_fire: a 0-delay timer re-armed from its own handler.
struct fire_loop {
    asio::steady_timer timer;
    uint64_t count = 0;
    uint64_t deadline;

    fire_loop(asio::io_context& ioc, uint64_t dl) : timer(ioc), deadline(dl) {}

    void arm()
    {
        timer.expires_after(std::chrono::nanoseconds(0));
        timer.async_wait([this](error_code ec) {
            if (ec)
                return;
            if ((++count & 1023u) == 0 && peer_now_ns() >= deadline)
                return;
            arm();
        });
    }
};

int w_timer_fire(long)
{
    asio::io_context ioc;
    uint64_t start = peer_now_ns();
    fire_loop fl(ioc, start + g_duration_ns);
    fl.arm();
    ioc.run();
    uint64_t end = peer_now_ns();
    peer_print_result("timer_fire", impl, 0, "rate", "ops/s",
                      static_cast<double>(fl.count) / seconds_since(start, end), 0);
    return 0;
}

// ---------------------------------------------------------------------------
// Command line.
struct workload {
    const char* name;
    int (*run)(long param);
    long default_param; // 0: the workload takes no parameter
    long min_param, max_param;
};

const workload workloads[] = {
    {"post_single", w_post_single, 0, 0, 0},
    {"post_interleaved", w_post_interleaved, 0, 0, 0},
    {"post_chain", w_post_chain, 1, 1, 1 << 20},
    {"post_cross_thread", w_post_cross_thread, 0, 0, 0},
    {"post_threads", w_post_threads, 1, 1, 1024},
    {"pingpong_tcp", w_pingpong_tcp, 64, 1, static_cast<long>(read_buf_size)},
    {"pingpong_unix", w_pingpong_unix, 64, 1, static_cast<long>(read_buf_size)},
    {"throughput_oneway", w_throughput_oneway, 65536, 1, 16 << 20},
    {"timer_schedule_cancel", w_timer_schedule_cancel, 0, 0, 0},
    {"timer_fire", w_timer_fire, 0, 0, 0},
};

void usage(const char* prog)
{
    std::fprintf(stderr, "usage: %s -w WORKLOAD [-t SECONDS] [-p PARAM]\n  workloads:", prog);
    for (const auto& w : workloads)
        std::fprintf(stderr, " %s", w.name);
    std::fprintf(stderr, "\n");
}

} // namespace

int main(int argc, char** argv)
{
    const char* name = nullptr;
    const char* param_arg = nullptr;
    double seconds = 0.5;
    int opt;
    while ((opt = getopt(argc, argv, "w:t:p:")) != -1) {
        char* end;
        switch (opt) {
        case 'w':
            name = optarg;
            break;
        case 't':
            errno = 0;
            seconds = std::strtod(optarg, &end);
            if (errno || end == optarg || *end || !(seconds > 0.0 && seconds <= 86400.0)) {
                usage(argv[0]);
                return 2;
            }
            break;
        case 'p':
            param_arg = optarg;
            break;
        default:
            usage(argv[0]);
            return 2;
        }
    }
    if (!name || optind != argc) {
        usage(argv[0]);
        return 2;
    }
    const workload* w = nullptr;
    for (const auto& cand : workloads)
        if (std::strcmp(cand.name, name) == 0)
            w = &cand;
    if (!w) {
        std::fprintf(stderr, "%s: unknown workload '%s'\n", argv[0], name);
        usage(argv[0]);
        return 2;
    }
    long param = w->default_param;
    if (param_arg && w->default_param) {
        char* end;
        errno = 0;
        param = std::strtol(param_arg, &end, 10);
        if (errno || end == param_arg || *end || param < w->min_param || param > w->max_param) {
            std::fprintf(stderr, "%s: %s takes -p in [%ld, %ld]\n", argv[0], name, w->min_param,
                         w->max_param);
            usage(argv[0]);
            return 2;
        }
    }
    g_duration_ns = static_cast<uint64_t>(seconds * 1e9);
    // Safety net: a run that stalls (a lost wake-up, a stuck socket) is killed.
    alarm(static_cast<unsigned>(seconds) + 30u);
    try {
        return w->run(param);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
        return 1;
    }
}
