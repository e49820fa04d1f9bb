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
#include "cli.h"

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
#include <iterator>
#include <memory>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using error_code = boost::system::error_code;

namespace
{

constexpr const char *impl = "asio";
constexpr std::size_t read_buf_size = PEER_READ_BUF_SIZE;
constexpr uint64_t cross_thread_cap = 65536;
constexpr int threads_batch = 100000;

// post_single / post_interleaved (arg: the batch): as upstream, post a batch
// from outside the loop, then poll + restart.
int w_post_batches(const peer_workload *w, long)
{
    const int batch = static_cast<int>(w->arg);
    asio::io_context ioc;
    uint64_t count = 0;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
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
    peer_print_rate(w->name, impl, 0, count, start, now);
    return 0;
}

// post_chain: K handlers, each re-posting itself from inside the loop.
struct chain_state {
    asio::io_context ioc;
    uint64_t count = 0;
    uint64_t deadline = 0;
    bool stopping = false;
};

struct chain_link {
    chain_state *st;
    void operator()() const
    {
        if ((++st->count & 1023u) == 0 && peer_now_ns() >= st->deadline)
            st->stopping = true;
        if (!st->stopping)
            asio::post(st->ioc, *this);
    }
};

int w_post_chain(const peer_workload *w, long chains)
{
    chain_state st;
    uint64_t start = peer_now_ns();
    st.deadline = start + peer_duration_ns;
    for (long i = 0; i < chains; ++i)
        asio::post(st.ioc, chain_link{&st});
    st.ioc.run();
    uint64_t end = peer_now_ns();
    peer_print_rate(w->name, impl, chains, st.count, start, end);
    return 0;
}

// post_cross_thread: a producer thread posts one handler at a time while
// this thread runs the io_context.
int w_post_cross_thread(const peer_workload *w, long)
{
    asio::io_context ioc;
    auto guard = asio::make_work_guard(ioc);
    std::atomic<uint64_t> executed{0};
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
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
    peer_print_rate(w->name, impl, 0, executed.load(), start, end);
    return 0;
}

// post_threads: as upstream, a feeder thread posts batches of 100000 while N
// threads poll + restart (then run to drain once feeding stops).
int w_post_threads(const peer_workload *w, long threads)
{
    asio::io_context ioc;
    std::atomic<bool> feeding{true};
    std::atomic<uint64_t> executed{0};
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;

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
    for (auto &r : runners)
        r.join();
    uint64_t end = peer_now_ns();
    peer_print_rate(w->name, impl, threads, executed.load(), start, end);
    return 0;
}

// Connected pairs. TCP: 127.0.0.1, kernel-chosen port, TCP_NODELAY.
struct tcp_pair {
    asio::ip::tcp::socket a, b;
    explicit tcp_pair(asio::io_context &ioc) : a(ioc), b(ioc)
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
    explicit unix_pair(asio::io_context &ioc) : a(ioc), b(ioc)
    {
        asio::local::connect_pair(a, b);
    }
};

// Ping-pong, one thread: the client writes n bytes and reads n back; the
// server keeps a read pending and echoes what it read.
template <class Socket> struct pingpong {
    asio::io_context &ioc;
    Socket &client;
    Socket &server;
    std::size_t n;
    uint64_t deadline;
    uint64_t t0 = 0;
    peer_hist hist;
    std::vector<char> cbuf, sbuf;

    pingpong(asio::io_context &io, Socket &c, Socket &s, std::size_t bytes, uint64_t dl)
        : ioc(io), client(c), server(s), n(bytes), deadline(dl), cbuf(bytes, 'P'),
          sbuf(bytes)
    {
        peer_hist_reset(&hist);
    }

    void client_send()
    {
        t0 = peer_now_ns();
        asio::async_write(client, asio::buffer(cbuf.data(), n),
                          [this](error_code ec, std::size_t) {
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
        asio::async_read(server, asio::buffer(sbuf.data(), n),
                         [this](error_code ec, std::size_t) {
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

    void fail(const error_code &ec)
    {
        std::fprintf(stderr, "bench-asio: ping-pong: %s\n", ec.message().c_str());
        std::exit(1);
    }
};

template <class Pair> int run_pingpong(const peer_workload *w, long bytes)
{
    asio::io_context ioc;
    Pair pair(ioc);
    auto pp = std::make_unique<pingpong<decltype(pair.a)>>(
        ioc, pair.a, pair.b, static_cast<std::size_t>(bytes),
        peer_now_ns() + peer_duration_ns);
    pp->server_receive();
    pp->client_send();
    ioc.run();
    peer_hist_print_rtt(&pp->hist, w->name, impl, bytes);
    return 0;
}

// pingpong_tcp / pingpong_unix (arg: 1 for TCP).
int w_pingpong(const peer_workload *w, long bytes)
{
    return w->arg ? run_pingpong<tcp_pair>(w, bytes) : run_pingpong<unix_pair>(w, bytes);
}

// throughput_oneway: the writer writes one chunk and, when that completes,
// the next; the reader reads into 64 KiB. One thread runs both.
struct oneway {
    asio::io_context &ioc;
    asio::ip::tcp::socket &writer;
    asio::ip::tcp::socket &reader;
    std::vector<char> chunk;
    std::vector<char> rbuf;
    uint64_t deadline;
    uint64_t end = 0;
    uint64_t total = 0;
    bool done = false;

    oneway(asio::io_context &io, asio::ip::tcp::socket &w, asio::ip::tcp::socket &r,
           std::size_t chunk_size, uint64_t dl)
        : ioc(io), writer(w), reader(r), chunk(chunk_size, 'x'), rbuf(read_buf_size),
          deadline(dl)
    {
    }

    void write_next()
    {
        asio::async_write(writer, asio::buffer(chunk),
                          [this](error_code ec, std::size_t) {
                              if (!ec && !done)
                                  write_next();
                          });
    }

    void read_next()
    {
        reader.async_read_some(
            asio::buffer(rbuf), [this](error_code ec, std::size_t got) {
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

int w_throughput_oneway(const peer_workload *w, long chunk)
{
    asio::io_context ioc(1);
    tcp_pair pair(ioc);
    uint64_t start = peer_now_ns();
    oneway ow(ioc, pair.a, pair.b, static_cast<std::size_t>(chunk),
              start + peer_duration_ns);
    ow.write_next();
    ow.read_next();
    ioc.run();
    peer_print_result(w->name, impl, chunk, "bytes_per_s", "B/s",
                      static_cast<double>(ow.total) / peer_seconds_since(start, ow.end),
                      0);
    return 0;
}

// timer_schedule_cancel: arm a steady_timer 1 s ahead, wait on it, cancel;
// the aborted waits complete in the poll after each batch of 1000.
int w_timer_schedule_cancel(const peer_workload *w, long)
{
    asio::io_context ioc;
    asio::steady_timer timer(ioc);
    uint64_t count = 0, aborted = 0;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
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
    peer_print_rate(w->name, impl, 0, count, start, now);
    return 0;
}

// timer_fire: a 0-delay timer re-armed from its own handler.
struct fire_loop {
    asio::steady_timer timer;
    uint64_t count = 0;
    uint64_t deadline;

    fire_loop(asio::io_context &ioc, uint64_t dl) : timer(ioc), deadline(dl) {}

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

int w_timer_fire(const peer_workload *w, long)
{
    asio::io_context ioc;
    uint64_t start = peer_now_ns();
    fire_loop fl(ioc, start + peer_duration_ns);
    fl.arm();
    ioc.run();
    uint64_t end = peer_now_ns();
    peer_print_rate(w->name, impl, 0, fl.count, start, end);
    return 0;
}

// ---------------------------------------------------------------------------
// Command line.
const peer_workload workloads[] = {
    {"post_single", w_post_batches, 1000, nullptr},
    {"post_interleaved", w_post_batches, 100, nullptr},
    {"post_chain", w_post_chain, 0, nullptr},
    {"post_cross_thread", w_post_cross_thread, 0, nullptr},
    {"post_threads", w_post_threads, 0, nullptr},
    {"pingpong_tcp", w_pingpong, 1, nullptr},
    {"pingpong_unix", w_pingpong, 0, nullptr},
    {"throughput_oneway", w_throughput_oneway, 0, nullptr},
    {"timer_schedule_cancel", w_timer_schedule_cancel, 0, nullptr},
    {"timer_fire", w_timer_fire, 0, nullptr},
};

} // namespace

int main(int argc, char **argv)
{
    return peer_main(argc, argv, impl, workloads, std::size(workloads));
}
