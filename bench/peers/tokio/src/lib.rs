//! The schedlab workloads written for Tokio 1.24 (Debian's librust-tokio-dev),
//! the most used Rust async runtime, in two programs: `bench-tokio-ct`
//! (impl `tokio-ct`: the current_thread runtime, one thread runs every task
//! and polls the I/O and time drivers itself) and `bench-tokio-mt` (impl
//! `tokio-mt`: the multi_thread work-stealing runtime).
//!
//! Idiom: async tasks (`tokio::spawn`) run by a `Runtime` built with
//! `runtime::Builder` (`enable_all`), `tokio::net` streams with the
//! `AsyncReadExt`/`AsyncWriteExt` helpers (`read_exact`, `write_all`, `read`),
//! `tokio::time::sleep`/`sleep_until`, `task::yield_now`, `task::JoinSet`,
//! and `Handle::spawn` from plain threads for cross-thread work.  What a
//! "post" is: a spawned task (allocated by Tokio, one per post) or a task
//! that yields (`yield_now`, re-queued without allocation).
//!
//! Workers of `tokio-mt`: the workload's thread count where it has one
//! (post_threads, post_concurrent), else 1, so that the workloads the kit
//! runs on one thread also run on one Tokio worker (the block_on thread only
//! waits).  Every workload body runs as a spawned task, so on tokio-mt it
//! runs on a worker, not on the block_on thread.  tokio-ct runs the
//! workloads that take a thread count only with 1 (it has one thread).
//!
//! Each workload, what an op is, and how it differs from Tokio's own
//! benches (tokio/benches: rt_current_thread.rs, rt_multi_threaded.rs,
//! spawn.rs, sync_*.rs) and why:
//!
//!   post_single, post_interleaved: a batch of 1000 / 100 spawned tasks,
//!       each adding 1 to a counter; the spawning task then yields until the
//!       batch has run (the kit's poll + restart).  Op: a task run.  Tokio's
//!       spawn_many_local spawns 10 000 and waits on a channel from the last
//!       one; batches of the kit's size are used here so every peer does the
//!       same work per pass.
//!   post_chain: K tasks that each count and `yield_now` in a loop.  Op: a
//!       yield (the task is re-queued, nothing allocated).  As Tokio's
//!       yield_many.  Since 1.23 a yielded task is deferred until after the
//!       next driver poll, so every pass over the K tasks costs one epoll_wait
//!       (the kit's sentinel does the same).
//!   post_threads: a plain thread spawns batches of 100 000 tasks through a
//!       runtime `Handle` (the inject queue) while N workers run them; at
//!       most two batches wait.  Op: a task run.  As Tokio's
//!       spawn_many_remote_busy1, with the kit's batch and limit.
//!   post_concurrent: N tasks on N workers, each spawning 10 000 tasks (from
//!       a worker: its local queue) and yielding until they have run, over
//!       and over.  Op: a task run.  Not the kit's shape: its N threads post
//!       from outside the loop and then poll (every post shared); Tokio has
//!       no poll from a foreign thread, so its posts are all local, the
//!       cheaper path, and its figure is an upper bound for that workload.
//!   post_cross_thread: a producer thread spawns one task at a time through
//!       a `Handle` while the runtime runs them; at most 65 536 wait.  Op: a
//!       task run.
//!   pingpong_tcp, pingpong_unix: a client task `write_all` n bytes and
//!       `read_exact` n back; a server task echoes.  Op: a round trip.  The
//!       ping_pong of Tokio's runtime benches passes messages over channels,
//!       not sockets.
//!   pingpong_concurrent: 16 such TCP pairs.  Op: a round trip.
//!   throughput_oneway: a writer task `write_all` one chunk after another, a
//!       reader task `read`s into 64 KiB.  Op: bytes.  throughput_twoway: the
//!       same both ways on one connection (`into_split`).
//!   timer_schedule_cancel: `sleep(1 s)` polled once (which registers it in
//!       the timer wheel) and dropped (which removes it).  The batch runs
//!       under `task::unconstrained` as a guard: a poll with an exhausted
//!       coop budget returns Pending without registering (in 1.24 a Pending
//!       poll gives its unit back, so it does not happen here).  The task
//!       yields after each 1000 (the kit's poll).  Op: schedule + cancel.
//!   timer_fire: `sleep(Duration::ZERO).await` in a loop.  Op: a fire.  Tokio
//!       rounds every deadline up to the next millisecond tick of its wheel,
//!       so a 0 ms sleep waits for the next tick: the rate is about 1000/s
//!       by design, not a slow loop.
//!   timer_concurrent: 1000 tasks, each `sleep_until` its next expiry of a
//!       10 ms period with its own phase.  Op: a fire; lateness measured
//!       (again with the 1 ms wheel).
//!   fanout: a parent task spawns, per cycle, 16 sub-request tasks into a
//!       `JoinSet`, each owning one TCP connection (given back as the task's
//!       result): write 64 B, read the 64 B echo; echo tasks serve the other
//!       ends.  Op: a cycle.
//!   accept_churn: one task connects, accepts, writes 1 byte, reads it on
//!       the accepted stream and drops both (SO_LINGER 0 on the client, as
//!       the kit).  Op: a connection.  Connect and accept are awaited one
//!       after the other (no join!: the macros feature is not built); on
//!       loopback the handshake completes before accept either way.
//!   throughput: `write_all` of a chunk completes without a task switch
//!       while the socket takes it, so with 1 KiB chunks the writer makes
//!       many writes per poll (until its coop budget of 128 runs out) and
//!       the reader gets up to 64 KiB per read; the kit completes at most
//!       16 writes in a row inline (M11) before it queues the next.
//!   starvation: 16 storm tasks counting and yielding, a 1 ms periodic
//!       `sleep_until` task recording lateness and a 64 B Unix ping-pong,
//!       on one thread (tokio-ct) or one worker (tokio-mt).  Tokio's answer
//!       to a storm is threefold: a yielded task is deferred until after the
//!       next driver poll (1.23+), the scheduler polls the driver every 61
//!       task polls (`event_interval`) whatever the queue holds, and each
//!       task has a budget of 128 resource polls before its I/O or timer
//!       futures return Pending.
//!
//! Counters use atomics even on tokio-ct (tasks must be Send to be spawned
//! on either runtime); the kit's single-thread workloads use plain
//! increments, a few ns less per op.
//!
//! Command line and output as every peer (bench/peers/cli.h):
//!   bench-tokio-{ct,mt} -w WORKLOAD [-t SECONDS] [-p PARAM]
//!   RESULT,<workload>,<impl>,<param>,<metric>,<unit>,<value>
//! Exit status 2 for a bad command line or a workload not available here.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::runtime::{Builder, Runtime};

const READ_BUF_SIZE: usize = 65536;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    CurrentThread,
    MultiThread,
}

// ---------------------------------------------------------------------------
// Clock and histogram: the same log-linear buckets as bench/peers/histogram.h
// (values under 128 ns one bucket each, then 64 buckets per power of two;
// a percentile is the middle of its bucket, clamped to min and max).

static mut ORIGIN: Option<Instant> = None;
static ORIGIN_SET: std::sync::Once = std::sync::Once::new();

/// The instant the clock counts from (set once, before any task runs).
fn origin() -> Instant {
    // SAFETY: ORIGIN is written once, inside call_once, before any read.
    unsafe {
        ORIGIN_SET.call_once(|| ORIGIN = Some(Instant::now()));
        ORIGIN.unwrap()
    }
}

fn now_ns() -> u64 {
    origin().elapsed().as_nanos() as u64
}

fn instant_at(ns: u64) -> tokio::time::Instant {
    tokio::time::Instant::from_std(origin() + Duration::from_nanos(ns))
}

const SUB_BITS: u32 = 7;
const HALF: u64 = 1 << (SUB_BITS - 1);
const BUCKETS: usize = ((64 - SUB_BITS + 2) as u64 * HALF) as usize;

struct Hist {
    count: u64,
    sum: u64,
    min: u64,
    max: u64,
    bucket: Vec<u64>,
}

impl Hist {
    fn new() -> Hist {
        Hist { count: 0, sum: 0, min: u64::MAX, max: 0, bucket: vec![0; BUCKETS] }
    }

    fn index(v: u64) -> usize {
        if v < 2 * HALF {
            return v as usize;
        }
        let msb = 63 - v.leading_zeros();
        let shift = msb - (SUB_BITS - 1);
        (shift as u64 * HALF + (v >> shift)) as usize
    }

    fn bucket_low(i: usize) -> (u64, u64) {
        let i = i as u64;
        if i < 2 * HALF {
            return (i, 1);
        }
        let shift = i / HALF - 1;
        ((i - shift * HALF) << shift, 1u64 << shift)
    }

    fn record(&mut self, ns: u64) {
        self.bucket[Hist::index(ns)] += 1;
        self.count += 1;
        self.sum += ns;
        self.min = self.min.min(ns);
        self.max = self.max.max(ns);
    }

    fn merge(&mut self, o: &Hist) {
        for (a, b) in self.bucket.iter_mut().zip(o.bucket.iter()) {
            *a += *b;
        }
        self.count += o.count;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let want = q * self.count as f64;
        let mut rank = want as u64;
        if (rank as f64) < want {
            rank += 1;
        }
        rank = rank.clamp(1, self.count);
        let mut seen = 0;
        for (i, &n) in self.bucket.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let (low, width) = Hist::bucket_low(i);
                let mid = (low + (width - 1) / 2).clamp(self.min, self.max);
                return mid as f64;
            }
        }
        self.max as f64
    }
}

// ---------------------------------------------------------------------------
// Output.

struct Out {
    workload: &'static str,
    imp: &'static str,
    param: i64,
}

impl Out {
    fn result(&self, metric: &str, unit: &str, value: f64, decimals: usize) {
        println!(
            "RESULT,{},{},{},{},{},{:.*}",
            self.workload, self.imp, self.param, metric, unit, decimals, value
        );
    }

    fn rate(&self, ops: u64, start: u64, end: u64) {
        self.result("rate", "ops/s", ops as f64 / secs(start, end), 0);
    }

    fn rtt(&self, h: &Hist) {
        self.result("rtt_mean", "us", h.mean() / 1e3, 3);
        self.result("rtt_p50", "us", h.quantile(0.50) / 1e3, 3);
        self.result("rtt_p99", "us", h.quantile(0.99) / 1e3, 3);
        self.result("rtt_p999", "us", h.quantile(0.999) / 1e3, 3);
    }

    fn lateness(&self, h: &Hist) {
        self.result("lateness_p50", "us", h.quantile(0.50) / 1e3, 3);
        self.result("lateness_p99", "us", h.quantile(0.99) / 1e3, 3);
        self.result("lateness_max", "us", if h.count > 0 { h.max } else { 0 } as f64 / 1e3, 3);
    }
}

fn secs(start: u64, end: u64) -> f64 {
    end.saturating_sub(start) as f64 / 1e9
}

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("bench-tokio: {}: {}", what, e);
    std::process::exit(1);
}

trait OrDie<T> {
    fn or_die(self, what: &str) -> T;
}

impl<T, E: std::fmt::Display> OrDie<T> for Result<T, E> {
    fn or_die(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => die(what, e),
        }
    }
}

// ---------------------------------------------------------------------------
// Runtime.

struct Ctx {
    flavor: Flavor,
    out: Out,
    param: i64,
    duration_ns: u64,
}

impl Ctx {
    fn runtime(&self, workers: usize) -> Runtime {
        let mut b = match self.flavor {
            Flavor::CurrentThread => Builder::new_current_thread(),
            Flavor::MultiThread => {
                let mut b = Builder::new_multi_thread();
                b.worker_threads(workers.max(1));
                b
            }
        };
        b.enable_all().build().or_die("runtime")
    }

    /// Runs `f` as a task (on a worker, for tokio-mt) and returns its output.
    fn run<F>(&self, rt: &Runtime, f: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        rt.block_on(rt.spawn(f)).or_die("workload task")
    }

    /// The runtime of a workload with a thread count (the param): tokio-ct
    /// only with 1.
    fn threaded_runtime(&self) -> Option<Runtime> {
        if self.flavor == Flavor::CurrentThread && self.param != 1 {
            eprintln!(
                "bench-tokio-ct: {} with {} threads: a current_thread runtime has one thread (see tokio-mt)",
                self.out.workload, self.param
            );
            return None;
        }
        Some(self.runtime(self.param as usize))
    }
}

// ---------------------------------------------------------------------------
// Posts.

static COUNT: AtomicU64 = AtomicU64::new(0);
static STOP: AtomicBool = AtomicBool::new(false);

fn count_one() {
    COUNT.fetch_add(1, Ordering::Relaxed);
}

/// post_single / post_interleaved: a batch of spawned tasks, then yield
/// until they have run.
fn w_post_batches(c: &Ctx, batch: u64) -> i32 {
    let rt = c.runtime(1);
    let dur = c.duration_ns;
    let (n, start, end) = c.run(&rt, async move {
        let start = now_ns();
        let deadline = start + dur;
        let mut posted = 0;
        let mut now;
        loop {
            for _ in 0..batch {
                tokio::spawn(async { count_one() });
            }
            posted += batch;
            while COUNT.load(Ordering::Relaxed) < posted {
                tokio::task::yield_now().await;
            }
            now = now_ns();
            if now >= deadline {
                break;
            }
        }
        (posted, start, now)
    });
    c.out.rate(n, start, end);
    0
}

/// post_chain: K tasks that count and yield.
fn w_post_chain(c: &Ctx) -> i32 {
    let rt = c.runtime(1);
    let chains = c.param;
    let dur = c.duration_ns;
    let (start, end) = c.run(&rt, async move {
        let start = now_ns();
        let deadline = start + dur;
        let mut tasks = Vec::new();
        for _ in 0..chains {
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = COUNT.fetch_add(1, Ordering::Relaxed) + 1;
                    if n & 1023 == 0 && now_ns() >= deadline {
                        STOP.store(true, Ordering::Relaxed);
                    }
                    if STOP.load(Ordering::Relaxed) {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }));
        }
        for t in tasks {
            t.await.or_die("chain task");
        }
        (start, now_ns())
    });
    c.out.rate(COUNT.load(Ordering::Relaxed), start, end);
    0
}

/// Waits (yielding the thread) until `f` holds.
fn spin_until(f: impl Fn() -> bool) {
    while !f() {
        std::thread::yield_now();
    }
}

/// post_threads: a plain thread spawns batches through a Handle while the
/// runtime's N workers (tokio-ct: the thread in block_on) run them.
fn w_post_threads(c: &Ctx) -> i32 {
    const BATCH: u64 = 100_000;
    let rt = match c.threaded_runtime() {
        Some(rt) => rt,
        None => return 2,
    };
    let handle = rt.handle().clone();
    let start = now_ns();
    let deadline = start + c.duration_ns;
    let feeding = AtomicBool::new(true);
    let mut posted = 0u64;
    std::thread::scope(|s| {
        if c.flavor == Flavor::CurrentThread {
            // The one thread that runs a current_thread runtime.
            let rt = &rt;
            let feeding = &feeding;
            s.spawn(move || {
                rt.block_on(async {
                    while feeding.load(Ordering::Acquire) || !STOP.load(Ordering::Acquire) {
                        tokio::task::yield_now().await;
                    }
                })
            });
        }
        loop {
            for _ in 0..BATCH {
                handle.spawn(async { count_one() });
            }
            posted += BATCH;
            spin_until(|| posted - COUNT.load(Ordering::Relaxed) <= BATCH);
            if now_ns() >= deadline {
                break;
            }
        }
        spin_until(|| COUNT.load(Ordering::Relaxed) == posted);
        STOP.store(true, Ordering::Release);
        feeding.store(false, Ordering::Release);
    });
    let end = now_ns();
    c.out.rate(COUNT.load(Ordering::Relaxed), start, end);
    0
}

/// post_concurrent: N tasks on N workers, each spawning 10 000 tasks and
/// yielding until they have run.
fn w_post_concurrent(c: &Ctx) -> i32 {
    const BATCH: u64 = 10_000;
    let rt = match c.threaded_runtime() {
        Some(rt) => rt,
        None => return 2,
    };
    let n = c.param as usize;
    let dur = c.duration_ns;
    let counts: &'static [AtomicU64] =
        Box::leak((0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>().into_boxed_slice());
    let (start, end) = c.run(&rt, async move {
        let start = now_ns();
        let deadline = start + dur;
        let mut posters = Vec::new();
        for i in 0..n {
            posters.push(tokio::spawn(async move {
                let mine: &'static AtomicU64 = &counts[i];
                let mut posted = 0;
                loop {
                    for _ in 0..BATCH {
                        tokio::spawn(async move {
                            mine.fetch_add(1, Ordering::Relaxed);
                        });
                    }
                    posted += BATCH;
                    while mine.load(Ordering::Relaxed) < posted {
                        tokio::task::yield_now().await;
                    }
                    if now_ns() >= deadline {
                        break;
                    }
                }
            }));
        }
        for p in posters {
            p.await.or_die("poster task");
        }
        (start, now_ns())
    });
    let total: u64 = counts.iter().map(|a| a.load(Ordering::Relaxed)).sum();
    c.out.rate(total, start, end);
    0
}

/// post_cross_thread: a producer thread spawns one task at a time through a
/// Handle; block_on waits for the last one.
fn w_post_cross_thread(c: &Ctx) -> i32 {
    const CAP: u64 = 65536;
    let rt = c.runtime(1);
    let handle = rt.handle().clone();
    let start = now_ns();
    let deadline = start + c.duration_ns;
    let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
    let producer = std::thread::spawn(move || {
        let mut posted: u64 = 0;
        loop {
            if posted & 63 == 63 && now_ns() >= deadline {
                break;
            }
            while posted - COUNT.load(Ordering::Acquire) >= CAP {
                std::thread::yield_now();
            }
            handle.spawn(async {
                // One consumer: a load and a store, no read-modify-write.
                COUNT.store(COUNT.load(Ordering::Relaxed) + 1, Ordering::Release);
            });
            posted += 1;
        }
        handle.spawn(async move {
            let _ = tx.send(now_ns());
        });
    });
    let end = rt.block_on(rx).or_die("stop task");
    producer.join().unwrap();
    c.out.rate(COUNT.load(Ordering::Relaxed), start, end);
    0
}

// ---------------------------------------------------------------------------
// Sockets.

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.or_die("bind");
    let addr = listener.local_addr().or_die("local_addr");
    let client = TcpStream::connect(addr).await.or_die("connect");
    let (server, _) = listener.accept().await.or_die("accept");
    client.set_nodelay(true).or_die("nodelay");
    server.set_nodelay(true).or_die("nodelay");
    (client, server)
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, n: usize) {
    let mut buf = vec![0u8; n];
    loop {
        if s.read_exact(&mut buf).await.is_err() {
            return; // the client closed
        }
        if s.write_all(&buf).await.is_err() {
            return;
        }
    }
}

/// The client of a ping-pong: round trips of n bytes until `deadline`;
/// returns the histogram and the number of round trips.
async fn ping<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, n: usize, deadline: u64) -> (Hist, u64) {
    let mut hist = Hist::new();
    let mut buf = vec![b'P'; n];
    let mut trips = 0;
    loop {
        let t0 = now_ns();
        s.write_all(&buf).await.or_die("ping-pong write");
        s.read_exact(&mut buf).await.or_die("ping-pong read");
        let t1 = now_ns();
        hist.record(t1 - t0);
        trips += 1;
        if t1 >= deadline {
            return (hist, trips);
        }
    }
}

fn w_pingpong(c: &Ctx, tcp: bool) -> i32 {
    let rt = c.runtime(1);
    let n = c.param as usize;
    let dur = c.duration_ns;
    let hist = c.run(&rt, async move {
        if tcp {
            let (a, b) = tcp_pair().await;
            let server = tokio::spawn(echo(b, n));
            let h = ping(a, n, now_ns() + dur).await.0;
            server.await.or_die("echo task");
            h
        } else {
            let (a, b) = UnixStream::pair().or_die("socketpair");
            let server = tokio::spawn(echo(b, n));
            let h = ping(a, n, now_ns() + dur).await.0;
            server.await.or_die("echo task");
            h
        }
    });
    c.out.rtt(&hist);
    0
}

fn w_pingpong_concurrent(c: &Ctx) -> i32 {
    const MESSAGE: usize = 64;
    let rt = c.runtime(1);
    let pairs = c.param as usize;
    let dur = c.duration_ns;
    let (hist, trips, start, end) = c.run(&rt, async move {
        let mut conns = Vec::new();
        for _ in 0..pairs {
            conns.push(tcp_pair().await);
        }
        let start = now_ns();
        let deadline = start + dur;
        let mut clients = Vec::new();
        for (a, b) in conns {
            tokio::spawn(echo(b, MESSAGE));
            clients.push(tokio::spawn(ping(a, MESSAGE, deadline)));
        }
        let mut hist = Hist::new();
        let mut trips = 0;
        for cl in clients {
            let (h, t) = cl.await.or_die("client task");
            hist.merge(&h);
            trips += t;
        }
        (hist, trips, start, now_ns())
    });
    c.out.rate(trips, start, end);
    c.out.rtt(&hist);
    0
}

/// A writer: one chunk after another until stopped (aborted).
async fn write_chunks<W: AsyncWrite + Unpin>(mut w: W, chunk: usize) {
    let buf = vec![b'x'; chunk];
    loop {
        if w.write_all(&buf).await.is_err() {
            return;
        }
    }
}

/// A reader: reads into 64 KiB until `deadline`; returns bytes and end.
async fn read_until<R: AsyncRead + Unpin>(mut r: R, deadline: u64) -> (u64, u64) {
    let mut buf = vec![0u8; READ_BUF_SIZE];
    let mut total = 0;
    loop {
        let got = r.read(&mut buf).await.or_die("read");
        if got == 0 {
            die("read", io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        total += got as u64;
        let now = now_ns();
        if now >= deadline {
            return (total, now);
        }
    }
}

fn w_throughput(c: &Ctx, twoway: bool) -> i32 {
    let rt = c.runtime(1);
    let chunk = c.param as usize;
    let dur = c.duration_ns;
    let (total, start, end) = c.run(&rt, async move {
        let (a, b) = tcp_pair().await;
        let start = now_ns();
        let deadline = start + dur;
        if twoway {
            let (ar, aw) = a.into_split();
            let (br, bw) = b.into_split();
            let w1 = tokio::spawn(write_chunks(aw, chunk));
            let w2 = tokio::spawn(write_chunks(bw, chunk));
            let r1 = tokio::spawn(read_until(br, deadline));
            let r2 = tokio::spawn(read_until(ar, deadline));
            let (t1, e1) = r1.await.or_die("reader task");
            let (t2, e2) = r2.await.or_die("reader task");
            w1.abort();
            w2.abort();
            (t1 + t2, start, e1.max(e2))
        } else {
            let w = tokio::spawn(write_chunks(a, chunk));
            let r = tokio::spawn(read_until(b, deadline));
            let (t, e) = r.await.or_die("reader task");
            w.abort();
            (t, start, e)
        }
    });
    c.out.result("bytes_per_s", "B/s", total as f64 / secs(start, end), 0);
    0
}

// ---------------------------------------------------------------------------
// Timers.

/// Polls a future once, whatever it returns.
struct PollOnce<'a, F: Future>(Pin<&'a mut F>);

impl<F: Future> Future for PollOnce<'_, F> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _ = self.0.as_mut().poll(cx);
        Poll::Ready(())
    }
}

fn w_timer_schedule_cancel(c: &Ctx) -> i32 {
    let rt = c.runtime(1);
    let dur = c.duration_ns;
    let (n, start, end) = c.run(&rt, async move {
        let start = now_ns();
        let deadline = start + dur;
        let mut count = 0;
        loop {
            tokio::task::unconstrained(async {
                for _ in 0..1000 {
                    let s = tokio::time::sleep(Duration::from_secs(1));
                    tokio::pin!(s);
                    PollOnce(s.as_mut()).await; // registered in the wheel
                } // dropped: removed from the wheel
            })
            .await;
            count += 1000;
            tokio::task::yield_now().await;
            let now = now_ns();
            if now >= deadline {
                return (count, start, now);
            }
        }
    });
    c.out.rate(n, start, end);
    0
}

fn w_timer_fire(c: &Ctx) -> i32 {
    let rt = c.runtime(1);
    let dur = c.duration_ns;
    let (n, start, end) = c.run(&rt, async move {
        let start = now_ns();
        let deadline = start + dur;
        let mut count: u64 = 0;
        loop {
            tokio::time::sleep(Duration::ZERO).await;
            count += 1;
            // Every fire is about 1 ms apart: check the clock each time.
            let now = now_ns();
            if now >= deadline {
                return (count, start, now);
            }
        }
    });
    c.out.rate(n, start, end);
    0
}

fn w_timer_concurrent(c: &Ctx) -> i32 {
    const PERIOD: u64 = 10_000_000;
    let rt = c.runtime(1);
    let n = c.param as u64;
    let dur = c.duration_ns;
    let (hist, fires, start, end) = c.run(&rt, async move {
        let start = now_ns();
        let deadline = start + dur;
        let mut tasks = Vec::new();
        for i in 0..n {
            let mut expiry = start + PERIOD / 10 + i * PERIOD / n;
            tasks.push(tokio::spawn(async move {
                let mut late = Vec::new();
                while expiry < deadline {
                    tokio::time::sleep_until(instant_at(expiry)).await;
                    late.push(now_ns().saturating_sub(expiry));
                    expiry += PERIOD;
                }
                late
            }));
        }
        let mut hist = Hist::new();
        for t in tasks {
            for l in t.await.or_die("timer task") {
                hist.record(l);
            }
        }
        let fires = hist.count;
        (hist, fires, start, now_ns())
    });
    c.out.rate(fires, start, end);
    c.out.lateness(&hist);
    0
}

// ---------------------------------------------------------------------------
// fanout, accept_churn, starvation.

fn w_fanout(c: &Ctx) -> i32 {
    const MESSAGE: usize = 64;
    let rt = c.runtime(1);
    let fan = c.param as usize;
    let dur = c.duration_ns;
    let (hist, cycles, start, end) = c.run(&rt, async move {
        let mut clients = Vec::new();
        for _ in 0..fan {
            let (a, b) = tcp_pair().await;
            tokio::spawn(echo(b, MESSAGE));
            clients.push(a);
        }
        let mut hist = Hist::new();
        let mut cycles = 0u64;
        let start = now_ns();
        let deadline = start + dur;
        loop {
            let t0 = now_ns();
            let mut set = tokio::task::JoinSet::new();
            for mut s in clients.drain(..) {
                set.spawn(async move {
                    let mut buf = [b'F'; MESSAGE];
                    s.write_all(&buf).await.or_die("fanout write");
                    s.read_exact(&mut buf).await.or_die("fanout read");
                    s
                });
            }
            while let Some(r) = set.join_next().await {
                clients.push(r.or_die("sub-request task"));
            }
            let t1 = now_ns();
            hist.record(t1 - t0);
            cycles += 1;
            if t1 >= deadline {
                return (hist, cycles, start, t1);
            }
        }
    });
    c.out.rate(cycles, start, end);
    c.out.result("rtt_p50", "us", hist.quantile(0.50) / 1e3, 3);
    c.out.result("rtt_p99", "us", hist.quantile(0.99) / 1e3, 3);
    0
}

fn w_accept_churn(c: &Ctx) -> i32 {
    let rt = c.runtime(1);
    let dur = c.duration_ns;
    let (n, start, end) = c.run(&rt, async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.or_die("bind");
        let addr = listener.local_addr().or_die("local_addr");
        let start = now_ns();
        let deadline = start + dur;
        let mut count = 0u64;
        loop {
            let mut client = TcpStream::connect(addr).await.or_die("connect");
            client.set_linger(Some(Duration::ZERO)).or_die("SO_LINGER");
            let (mut server, _) = listener.accept().await.or_die("accept");
            client.write_all(b"X").await.or_die("write");
            let mut byte = [0u8; 1];
            server.read_exact(&mut byte).await.or_die("read");
            drop(client);
            drop(server);
            count += 1;
            let now = now_ns();
            if now >= deadline {
                return (count, start, now);
            }
        }
    });
    c.out.rate(n, start, end);
    0
}

fn w_starvation(c: &Ctx) -> i32 {
    const CHAINS: usize = 16;
    const TICK: u64 = 1_000_000;
    const MESSAGE: usize = 64;
    let rt = c.runtime(1);
    let dur = c.duration_ns;
    let (lateness, rtt, start, end) = c.run(&rt, async move {
        let (a, b) = UnixStream::pair().or_die("socketpair");
        let start = now_ns();
        let storm_end = start + dur;
        let timer = tokio::spawn(async move {
            let mut hist = Hist::new();
            let mut expiry = start + TICK;
            while expiry <= storm_end {
                tokio::time::sleep_until(instant_at(expiry)).await;
                hist.record(now_ns().saturating_sub(expiry));
                expiry += TICK;
            }
            hist
        });
        let server = tokio::spawn(echo(b, MESSAGE));
        let client = tokio::spawn(ping(a, MESSAGE, storm_end));
        let mut storm = Vec::new();
        for _ in 0..CHAINS {
            storm.push(tokio::spawn(async move {
                loop {
                    let n = COUNT.fetch_add(1, Ordering::Relaxed) + 1;
                    if STOP.load(Ordering::Relaxed) {
                        return;
                    }
                    if n & 255 == 0 && now_ns() >= storm_end {
                        STOP.store(true, Ordering::Relaxed);
                        return;
                    }
                    tokio::task::yield_now().await;
                }
            }));
        }
        let lateness = timer.await.or_die("timer task");
        let rtt = client.await.or_die("client task").0;
        server.await.or_die("echo task");
        for s in storm {
            s.await.or_die("storm task");
        }
        (lateness, rtt, start, now_ns())
    });
    c.out.rate(COUNT.load(Ordering::Relaxed), start, end);
    c.out.lateness(&lateness);
    c.out.rtt(&rtt);
    0
}

// ---------------------------------------------------------------------------
// Command line (as bench/peers/cli.h).

struct Spec {
    name: &'static str,
    default_param: i64,
    min: i64,
    max: i64,
}

const SPECS: &[Spec] = &[
    Spec { name: "post_single", default_param: 0, min: 0, max: 0 },
    Spec { name: "post_interleaved", default_param: 0, min: 0, max: 0 },
    Spec { name: "post_chain", default_param: 1, min: 1, max: 1 << 20 },
    Spec { name: "post_cross_thread", default_param: 0, min: 0, max: 0 },
    Spec { name: "post_threads", default_param: 1, min: 1, max: 1024 },
    Spec { name: "post_concurrent", default_param: 1, min: 1, max: 1024 },
    Spec { name: "pingpong_tcp", default_param: 64, min: 1, max: READ_BUF_SIZE as i64 },
    Spec { name: "pingpong_unix", default_param: 64, min: 1, max: READ_BUF_SIZE as i64 },
    Spec { name: "pingpong_concurrent", default_param: 16, min: 1, max: 1024 },
    Spec { name: "throughput_oneway", default_param: 65536, min: 1, max: 16 << 20 },
    Spec { name: "throughput_twoway", default_param: 65536, min: 1, max: 16 << 20 },
    Spec { name: "timer_schedule_cancel", default_param: 0, min: 0, max: 0 },
    Spec { name: "timer_fire", default_param: 0, min: 0, max: 0 },
    Spec { name: "timer_concurrent", default_param: 1000, min: 1, max: 100_000 },
    Spec { name: "fanout", default_param: 16, min: 1, max: 1024 },
    Spec { name: "accept_churn", default_param: 0, min: 0, max: 0 },
    Spec { name: "starvation", default_param: 0, min: 0, max: 0 },
];

fn usage(prog: &str) -> i32 {
    eprintln!("usage: {} -w WORKLOAD [-t SECONDS] [-p PARAM]", prog);
    let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
    eprintln!("  workloads: {}", names.join(" "));
    2
}

pub fn main(flavor: Flavor) -> i32 {
    let imp = match flavor {
        Flavor::CurrentThread => "tokio-ct",
        Flavor::MultiThread => "tokio-mt",
    };
    let args: Vec<String> = std::env::args().collect();
    let prog = format!("bench-{}", imp);
    let (mut name, mut seconds, mut param_arg) = (None, 0.5f64, None);
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        let (opt, val) = if a.len() > 2 && a.starts_with('-') {
            (&a[..2], Some(a[2..].to_string()))
        } else {
            (a.as_str(), args.get(i + 1).cloned())
        };
        if a.len() <= 2 {
            i += 1;
        }
        i += 1;
        let val = match val {
            Some(v) => v,
            None => return usage(&prog),
        };
        match opt {
            "-w" => name = Some(val),
            "-t" => match val.parse::<f64>() {
                Ok(s) if s > 0.0 && s <= 86400.0 => seconds = s,
                _ => return usage(&prog),
            },
            "-p" => param_arg = Some(val),
            _ => return usage(&prog),
        }
    }
    let name = match name {
        Some(n) => n,
        None => return usage(&prog),
    };
    let spec = match SPECS.iter().find(|s| s.name == name) {
        Some(s) => s,
        None => {
            eprintln!("{}: unknown workload '{}'", prog, name);
            return usage(&prog);
        }
    };
    let mut param = spec.default_param;
    if let (Some(p), true) = (param_arg, spec.default_param != 0) {
        match p.parse::<i64>() {
            Ok(v) if v >= spec.min && v <= spec.max => param = v,
            _ => {
                eprintln!("{}: {} takes -p in [{}, {}]", prog, name, spec.min, spec.max);
                return usage(&prog);
            }
        }
    }
    // Safety net, as the C peers' alarm(): a stalled run is ended.
    let limit = seconds as u64 + 30;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(limit));
        eprintln!("bench-tokio: still running {} s after the start: giving up", limit);
        std::process::exit(3);
    });
    origin();
    let c = Ctx {
        flavor,
        out: Out { workload: spec.name, imp, param },
        param,
        duration_ns: (seconds * 1e9) as u64,
    };
    match spec.name {
        "post_single" => w_post_batches(&c, 1000),
        "post_interleaved" => w_post_batches(&c, 100),
        "post_chain" => w_post_chain(&c),
        "post_cross_thread" => w_post_cross_thread(&c),
        "post_threads" => w_post_threads(&c),
        "post_concurrent" => w_post_concurrent(&c),
        "pingpong_tcp" => w_pingpong(&c, true),
        "pingpong_unix" => w_pingpong(&c, false),
        "pingpong_concurrent" => w_pingpong_concurrent(&c),
        "throughput_oneway" => w_throughput(&c, false),
        "throughput_twoway" => w_throughput(&c, true),
        "timer_schedule_cancel" => w_timer_schedule_cancel(&c),
        "timer_fire" => w_timer_fire(&c),
        "timer_concurrent" => w_timer_concurrent(&c),
        "fanout" => w_fanout(&c),
        "accept_churn" => w_accept_churn(&c),
        "starvation" => w_starvation(&c),
        _ => usage(&prog),
    }
}
