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
// Every workload of the kit has an Asio counterpart here; none is skipped.
// post_concurrent, pingpong_concurrent, throughput_twoway, timer_concurrent,
// fanout, accept_churn and starvation follow the kit's programs of the same
// name op for op (an op: a handler, a round trip, bytes, a fire, a cycle, a
// connection, a storm handler). Against Asio's own examples (the echo
// servers, timeouts, the allocation example): those use shared_ptr-owned
// sessions and one io_context per thread pool; here the state lives in
// plain structs that outlive ioc.run(), so no reference counting is
// measured, and every workload but post_threads / post_concurrent runs on
// one thread (concurrency hint 1 where the kit's program is one thread
// with sockets, as upstream corosio's Asio benches do for the one-way stream).
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

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
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

// post_concurrent: as upstream's io_context "concurrent" bench, N threads
// each post 10000 handlers from outside the loop and then poll + restart,
// over and over, until the time is up; then each polls until its own
// handlers have all run.
int w_post_concurrent(const peer_workload *w, long threads)
{
    constexpr uint64_t batch = 10000;
    asio::io_context ioc;
    std::atomic<bool> running{true};
    std::vector<std::atomic<uint64_t>> done(static_cast<std::size_t>(threads));
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    std::vector<std::thread> workers;
    for (long t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            std::atomic<uint64_t> &mine = done[static_cast<std::size_t>(t)];
            uint64_t posted = 0;
            while (running.load(std::memory_order_relaxed)) {
                for (uint64_t i = 0; i < batch; ++i)
                    asio::post(ioc, [&mine] { mine.fetch_add(1, std::memory_order_release); });
                posted += batch;
                ioc.poll();
                ioc.restart();
            }
            while (mine.load(std::memory_order_acquire) < posted) {
                ioc.restart();
                ioc.poll();
            }
        });
    while (peer_now_ns() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    running.store(false);
    for (auto &t : workers)
        t.join();
    uint64_t end = peer_now_ns();
    uint64_t total = 0;
    for (auto &d : done)
        total += d.load();
    peer_print_rate(w->name, impl, threads, total, start, end);
    return 0;
}

// One ping-pong connection of several (pingpong_concurrent, starvation):
// the client writes n bytes and reads them back until the deadline, then
// closes its end; the server echoes until it reads the end of the stream.
template <class Socket> struct pp_conn {
    Socket &client, &server;
    std::size_t n;
    uint64_t deadline;
    peer_hist *hist;
    uint64_t *trips;
    std::function<void()> on_done;
    uint64_t t0 = 0;
    char cbuf[64], sbuf[64];

    pp_conn(Socket &c, Socket &s, std::size_t bytes, uint64_t dl, peer_hist *h, uint64_t *tr,
            std::function<void()> done)
        : client(c), server(s), n(bytes), deadline(dl), hist(h), trips(tr),
          on_done(std::move(done))
    {
        std::memset(cbuf, 'P', sizeof cbuf);
    }

    void start()
    {
        server_receive();
        client_send();
    }

    void client_send()
    {
        t0 = peer_now_ns();
        asio::async_write(client, asio::buffer(cbuf, n), [this](error_code ec, std::size_t) {
            check(ec);
            asio::async_read(client, asio::buffer(cbuf, n), [this](error_code ec2, std::size_t) {
                check(ec2);
                uint64_t t1 = peer_now_ns();
                peer_hist_record(hist, t1 - t0);
                ++*trips;
                if (t1 >= deadline) {
                    client.close();
                    return on_done();
                }
                client_send();
            });
        });
    }

    void server_receive()
    {
        asio::async_read(server, asio::buffer(sbuf, n), [this](error_code ec, std::size_t) {
            if (ec == asio::error::eof)
                return;
            check(ec);
            asio::async_write(server, asio::buffer(sbuf, n), [this](error_code ec2, std::size_t) {
                if (ec2 == asio::error::broken_pipe || ec2 == asio::error::connection_reset)
                    return;
                check(ec2);
                server_receive();
            });
        });
    }

    static void check(const error_code &ec)
    {
        if (ec) {
            std::fprintf(stderr, "bench-asio: ping-pong: %s\n", ec.message().c_str());
            std::exit(1);
        }
    }
};

// pingpong_concurrent: `pairs` TCP connections of 64 B ping-pongs on one
// io_context run by one thread; one histogram for all.
int w_pingpong_concurrent(const peer_workload *w, long pairs)
{
    asio::io_context ioc(1);
    std::vector<std::unique_ptr<tcp_pair>> sockets;
    std::vector<std::unique_ptr<pp_conn<asio::ip::tcp::socket>>> conns;
    peer_hist hist;
    peer_hist_reset(&hist);
    uint64_t trips = 0, end = 0;
    long left = pairs;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    for (long i = 0; i < pairs; ++i) {
        sockets.push_back(std::make_unique<tcp_pair>(ioc));
        conns.push_back(std::make_unique<pp_conn<asio::ip::tcp::socket>>(
            sockets.back()->a, sockets.back()->b, 64, deadline, &hist, &trips, [&] {
                if (--left == 0)
                    end = peer_now_ns();
            }));
    }
    start = peer_now_ns();
    for (auto &c : conns)
        c->deadline = start + peer_duration_ns;
    for (auto &c : conns)
        c->start();
    ioc.run();
    peer_print_rate(w->name, impl, pairs, trips, start, end);
    peer_hist_print_rtt(&hist, w->name, impl, pairs);
    return 0;
}

// throughput_twoway: throughput_oneway's writer and reader in both
// directions of one connection, one thread; bytes received both ways.
int w_throughput_twoway(const peer_workload *w, long chunk)
{
    asio::io_context ioc(1);
    tcp_pair pair(ioc);
    uint64_t start = peer_now_ns();
    oneway ab(ioc, pair.a, pair.b, static_cast<std::size_t>(chunk), start + peer_duration_ns);
    oneway ba(ioc, pair.b, pair.a, static_cast<std::size_t>(chunk), start + peer_duration_ns);
    ab.write_next();
    ba.write_next();
    ab.read_next();
    ba.read_next();
    ioc.run(); // the first reader past the deadline stops the loop
    uint64_t end = ab.end ? ab.end : ba.end;
    peer_print_result(w->name, impl, chunk, "bytes_per_s", "B/s",
                      static_cast<double>(ab.total + ba.total) / peer_seconds_since(start, end),
                      0);
    return 0;
}

// A steady_timer time point from a peer_now_ns() reading (both are
// CLOCK_MONOTONIC on Linux).
std::chrono::steady_clock::time_point at_ns(uint64_t ns)
{
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

// timer_concurrent: `n` steady_timers, each periodic (10 ms, its own
// phase), re-armed at the next absolute expiry from its handler.
struct periodic {
    asio::steady_timer timer;
    uint64_t expiry;
    uint64_t deadline;
    peer_hist *lateness;
    uint64_t *fires;

    periodic(asio::io_context &ioc, uint64_t first, uint64_t dl, peer_hist *h, uint64_t *f)
        : timer(ioc), expiry(first), deadline(dl), lateness(h), fires(f)
    {
    }

    void arm()
    {
        timer.expires_at(at_ns(expiry));
        timer.async_wait([this](error_code ec) {
            if (ec)
                return;
            uint64_t now = peer_now_ns();
            peer_hist_record(lateness, now > expiry ? now - expiry : 0);
            ++*fires;
            expiry += 10000000u;
            if (expiry < deadline)
                arm();
        });
    }
};

int w_timer_concurrent(const peer_workload *w, long n)
{
    constexpr uint64_t period = 10000000u;
    asio::io_context ioc(1);
    peer_hist lateness;
    peer_hist_reset(&lateness);
    uint64_t fires = 0;
    std::vector<std::unique_ptr<periodic>> timers;
    uint64_t start = peer_now_ns();
    uint64_t deadline = start + peer_duration_ns;
    for (long i = 0; i < n; ++i) {
        timers.push_back(std::make_unique<periodic>(
            ioc, start + period / 10 + static_cast<uint64_t>(i) * period / static_cast<uint64_t>(n),
            deadline, &lateness, &fires));
        timers.back()->arm();
    }
    ioc.run();
    uint64_t end = peer_now_ns();
    peer_print_rate(w->name, impl, n, fires, start, end);
    peer_print_result(w->name, impl, n, "lateness_p50", "us",
                      peer_hist_quantile_ns(&lateness, 0.50) / 1e3, 3);
    peer_print_result(w->name, impl, n, "lateness_p99", "us",
                      peer_hist_quantile_ns(&lateness, 0.99) / 1e3, 3);
    peer_print_result(w->name, impl, n, "lateness_max", "us",
                      static_cast<double>(lateness.count ? lateness.max_ns : 0) / 1e3, 3);
    return 0;
}

// fanout: as upstream's fan_out_bench, a parent starts `n` sub-requests per
// cycle, each writing 64 B on its own TCP connection and reading the echo;
// the last completion starts the next cycle.  Echo servers on the same
// io_context and thread.
struct fanout_state {
    asio::io_context ioc{1};
    std::vector<std::unique_ptr<tcp_pair>> pairs;
    std::vector<std::array<char, 64>> cbuf, sbuf;
    long remaining = 0;
    uint64_t cycles = 0, deadline = 0, end = 0, cycle_start = 0;
    peer_hist latency;

    void start_cycle()
    {
        cycle_start = peer_now_ns();
        remaining = static_cast<long>(pairs.size());
        for (std::size_t i = 0; i < pairs.size(); ++i)
            asio::async_write(pairs[i]->a, asio::buffer(cbuf[i]), [this, i](error_code ec,
                                                                            std::size_t) {
                check(ec);
                asio::async_read(pairs[i]->a, asio::buffer(cbuf[i]),
                                 [this](error_code ec2, std::size_t) {
                                     check(ec2);
                                     if (--remaining > 0)
                                         return;
                                     uint64_t now = peer_now_ns();
                                     peer_hist_record(&latency, now - cycle_start);
                                     ++cycles;
                                     if (now >= deadline) {
                                         end = now;
                                         return ioc.stop();
                                     }
                                     start_cycle();
                                 });
            });
    }

    void echo(std::size_t i)
    {
        asio::async_read(pairs[i]->b, asio::buffer(sbuf[i]), [this, i](error_code ec,
                                                                       std::size_t) {
            check(ec);
            asio::async_write(pairs[i]->b, asio::buffer(sbuf[i]),
                              [this, i](error_code ec2, std::size_t) {
                                  check(ec2);
                                  echo(i);
                              });
        });
    }

    static void check(const error_code &ec)
    {
        if (ec) {
            std::fprintf(stderr, "bench-asio: fanout: %s\n", ec.message().c_str());
            std::exit(1);
        }
    }
};

int w_fanout(const peer_workload *w, long n)
{
    auto st = std::make_unique<fanout_state>();
    peer_hist_reset(&st->latency);
    for (long i = 0; i < n; ++i)
        st->pairs.push_back(std::make_unique<tcp_pair>(st->ioc));
    st->cbuf.assign(static_cast<std::size_t>(n), {});
    st->sbuf.assign(static_cast<std::size_t>(n), {});
    uint64_t start = peer_now_ns();
    st->deadline = start + peer_duration_ns;
    for (long i = 0; i < n; ++i)
        st->echo(static_cast<std::size_t>(i));
    st->start_cycle();
    st->ioc.run();
    peer_print_rate(w->name, impl, n, st->cycles, start, st->end);
    peer_print_result(w->name, impl, n, "rtt_p50", "us",
                      peer_hist_quantile_ns(&st->latency, 0.50) / 1e3, 3);
    peer_print_result(w->name, impl, n, "rtt_p99", "us",
                      peer_hist_quantile_ns(&st->latency, 0.99) / 1e3, 3);
    return 0;
}

// accept_churn: async_accept and async_connect at the same time, 1 byte
// from the client read on the accepted socket, both closed (the client with
// SO_LINGER 0, as the kit), again.
struct churn {
    asio::io_context ioc{1};
    asio::ip::tcp::acceptor acceptor{ioc, asio::ip::tcp::endpoint(
                                               asio::ip::address_v4::loopback(), 0)};
    asio::ip::tcp::socket client{ioc}, server{ioc};
    asio::ip::tcp::endpoint ep = acceptor.local_endpoint();
    int pending = 0;
    char byte = 'X', got = 0;
    uint64_t count = 0, deadline = 0, end = 0;

    void cycle()
    {
        pending = 2;
        client.open(asio::ip::tcp::v4());
        client.set_option(asio::socket_base::linger(true, 0));
        acceptor.async_accept(server, [this](error_code ec) { joined(ec); });
        client.async_connect(ep, [this](error_code ec) { joined(ec); });
    }

    void joined(const error_code &ec)
    {
        check(ec);
        if (--pending > 0)
            return;
        asio::async_write(client, asio::buffer(&byte, 1),
                          [](error_code ec2, std::size_t) { check(ec2); });
        asio::async_read(server, asio::buffer(&got, 1), [this](error_code ec2, std::size_t) {
            check(ec2);
            client.close();
            server.close();
            uint64_t now = peer_now_ns();
            if (++count, now >= deadline) {
                end = now;
                return;
            }
            cycle();
        });
    }

    static void check(const error_code &ec)
    {
        if (ec) {
            std::fprintf(stderr, "bench-asio: accept_churn: %s\n", ec.message().c_str());
            std::exit(1);
        }
    }
};

int w_accept_churn(const peer_workload *w, long)
{
    auto st = std::make_unique<churn>();
    uint64_t start = peer_now_ns();
    st->deadline = start + peer_duration_ns;
    st->cycle();
    st->ioc.run();
    peer_print_rate(w->name, impl, 0, st->count, start, st->end);
    return 0;
}

// starvation: a post storm (16 handlers re-posting themselves), a 1 ms
// periodic steady_timer recording its lateness (re-armed at expiry + 1 ms)
// and a 64 B Unix ping-pong, on one io_context run by one thread.  Asio's
// answer to a storm is corosio's: the reactor is an operation in the same
// queue (task_operation_), so it runs once per pass over the handlers.
struct storm_state {
    asio::io_context ioc{1};
    asio::steady_timer timer{ioc};
    uint64_t storm_end = 0, expiry = 0, handlers = 0;
    bool storm_over = false;
    peer_hist lateness, rtt;

    void storm()
    {
        asio::post(ioc, [this] {
            ++handlers;
            if (storm_over)
                return;
            if ((handlers & 255u) == 0 && peer_now_ns() >= storm_end) {
                storm_over = true;
                return;
            }
            storm();
        });
    }

    void tick()
    {
        timer.expires_at(at_ns(expiry));
        timer.async_wait([this](error_code ec) {
            if (ec)
                return;
            uint64_t now = peer_now_ns();
            peer_hist_record(&lateness, now > expiry ? now - expiry : 0);
            expiry += 1000000u;
            if (expiry <= storm_end)
                tick();
        });
    }
};

int w_starvation(const peer_workload *w, long)
{
    auto st = std::make_unique<storm_state>();
    peer_hist_reset(&st->lateness);
    peer_hist_reset(&st->rtt);
    unix_pair pair(st->ioc);
    uint64_t trips = 0;
    uint64_t start = peer_now_ns();
    st->storm_end = start + peer_duration_ns;
    st->expiry = start + 1000000u;
    pp_conn<asio::local::stream_protocol::socket> pp(pair.a, pair.b, 64, st->storm_end,
                                                     &st->rtt, &trips, [] {});
    st->tick();
    pp.start();
    for (int i = 0; i < 16; ++i)
        st->storm();
    st->ioc.run();
    uint64_t end = peer_now_ns();
    peer_print_rate(w->name, impl, 0, st->handlers, start, end);
    peer_print_result(w->name, impl, 0, "lateness_p50", "us",
                      peer_hist_quantile_ns(&st->lateness, 0.50) / 1e3, 3);
    peer_print_result(w->name, impl, 0, "lateness_p99", "us",
                      peer_hist_quantile_ns(&st->lateness, 0.99) / 1e3, 3);
    peer_print_result(w->name, impl, 0, "lateness_max", "us",
                      static_cast<double>(st->lateness.count ? st->lateness.max_ns : 0) / 1e3,
                      3);
    peer_hist_print_rtt(&st->rtt, w->name, impl, 0);
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
    {"post_concurrent", w_post_concurrent, 0, nullptr},
    {"pingpong_concurrent", w_pingpong_concurrent, 0, nullptr},
    {"throughput_twoway", w_throughput_twoway, 0, nullptr},
    {"timer_concurrent", w_timer_concurrent, 0, nullptr},
    {"fanout", w_fanout, 0, nullptr},
    {"accept_churn", w_accept_churn, 0, nullptr},
    {"starvation", w_starvation, 0, nullptr},
};

} // namespace

int main(int argc, char **argv)
{
    return peer_main(argc, argv, impl, workloads, std::size(workloads));
}
