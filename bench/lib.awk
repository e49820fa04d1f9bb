# bench/lib.awk - functions shared by bench/summary.awk, verdicts.awk,
# report.awk and plots/data.awk: loading summary.csv and impls.csv,
# Student-t quantiles, the ratio of two means with its 95% confidence
# interval, which metric is "better" higher, the headline metrics of each
# workload, the threads each workload keeps busy, the mechanism counters,
# verdict words, and number formatting.  No main program here.

# Two-sided 95% quantile of Student's t with df degrees of freedom (the
# table up to 30, then conservative steps).
function tq(df,    t) {
    if (df < 1) return 0
    split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 " \
          "2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086 " \
          "2.080 2.074 2.069 2.064 2.060 2.056 2.052 2.048 2.045 2.042", t, " ")
    if (df <= 30) return t[int(df)]
    if (df <= 40) return 2.042
    if (df <= 60) return 2.021
    if (df <= 120) return 2.000
    return 1.960
}

# Reads summary.csv into MEAN, LO, HI, RUNS, UNIT keyed by
# key(workload, impl, param, metric); lists the (workload, param) pairs in
# file order in WP[1..NWP] (as "workload SUBSEP param"), the impls in
# IMPL[1..NIMPL], and the param each impl used per workload in PARAM_OF.
function load_summary(file,    line, f, k, wp) {
    NWP = 0; NIMPL = 0
    while ((getline line < file) > 0) {
        split(line, f, ",")
        if (f[1] == "workload") continue
        k = key(f[1], f[2], f[3], f[4])
        MEAN[k] = f[7] + 0; LO[k] = f[8] + 0; HI[k] = f[9] + 0
        RUNS[k] = f[6] + 0; UNIT[k] = f[5]
        wp = f[1] SUBSEP f[3]
        if (!(wp in SEEN_WP)) { SEEN_WP[wp] = 1; WP[++NWP] = wp }
        if (!(f[2] in SEEN_IMPL)) { SEEN_IMPL[f[2]] = 1; IMPL[++NIMPL] = f[2] }
        PARAM_OF[f[1], f[2]] = f[3]
        HAS[f[1], f[2], f[3]] = 1
    }
    close(file)
}

function key(w, impl, p, m) { return w SUBSEP impl SUBSEP p SUBSEP m }

function has(w, impl, p, m) { return (key(w, impl, p, m) in MEAN) }

function higher_better(m) { return m == "rate" || m == "bytes_per_s" }

function is_counter(m) { return m ~ /_per_op$/ }

# The figures each workload is judged by, headline first.
function primary(w) {
    if (w ~ /^post_/ || w ~ /^timer_(schedule_cancel|fire)$/ || w == "fanout" || w == "accept_churn")
        return "rate"
    if (w == "pingpong_tcp" || w == "pingpong_unix") return "rtt_mean rtt_p99"
    if (w == "pingpong_concurrent") return "rate rtt_p99"
    if (w ~ /^throughput_/) return "bytes_per_s"
    if (w == "timer_concurrent") return "lateness_p99"
    if (w == "starvation") return "lateness_p99 rtt_p99"
    if (w == "budget_sweep") return "bytes_per_s rtt_p99"
    return "rate"
}

# Reads a results directory's impls.csv (impl,kind: base, aa, variant,
# budget, peer, floor) into KIND[], with the peers and floors in file order
# in PEER[1..NPEER]; sets BASE (default ref) and AA (default BASE-aa).
# Without the file (an older results directory) impl_kind guesses.
function load_impls(file,    line, f) {
    BASE = "ref"; AA = "ref-aa"; NPEER = 0
    while ((getline line < file) > 0) {
        split(line, f, ",")
        if (f[1] == "impl" || f[1] == "") continue
        KIND[f[1]] = f[2]; KPOS[f[1]] = ++NKPOS
        if (f[2] == "base") BASE = f[1]
        if (f[2] == "aa") AA = f[1]
        if (f[2] == "peer" || f[2] == "floor") PEER[++NPEER] = f[1]
    }
    close(file)
    if (!(AA in KIND) && (BASE "-aa") in KIND) AA = BASE "-aa"
}

# base (the build the others are divided by), aa (its A/A twin), variant,
# budget, peer or floor.
function impl_kind(impl) {
    if (impl in KIND) return KIND[impl]
    if (impl == (BASE == "" ? "ref" : BASE)) return "base"
    if (impl ~ /-aa$/) return "aa"
    if (impl ~ /^floor/) return "floor"
    if (impl ~ /^(asio|libuv|libevent|tokio)/) return "peer"
    if (impl ~ /^budget-/) return "budget"
    if (impl == "uring") return "backend"
    return "variant"
}

# How many threads workload w keeps busy at param p (the kit's programs):
# a multi-thread figure is judged only with a core to spare for everything
# else on the machine (threads <= cores - 1).
function threads_of(w, p) {
    if (w == "post_threads") return p + 1        # N running threads and the feeder
    if (w == "post_concurrent") return p + 0     # N threads, each posting and polling
    if (w == "post_cross_thread") return 2       # the producer and the running thread
    if (w == "pingpong_threads") return p + 0    # N threads running one scheduler
    return 1
}

# The mechanism counters the stats builds print (<counter>_per_op), and
# what each counts.
function counters_init() {
    NCOUNTER = split("mutex_locks post_private post_shared cond_notify_one cond_notify_all " \
                     "cond_waits eventfd_writes eventfd_skipped epoll_wait_blocking " \
                     "epoll_wait_zero timerfd_settime reactor_runs handlers_run " \
                     "inline_completions inline_posted refill_unassisted refill_doubled " \
                     "refill_reset refill_kept", COUNTER, " ")
    MEANING["mutex_locks"] = "scheduler mutex acquisitions"
    MEANING["post_private"] = "posts to the thread's private queue (no lock)"
    MEANING["post_shared"] = "posts to the shared queue (mutex, atomic count, wake policy)"
    MEANING["cond_notify_one"] = "condvar notify_one calls"
    MEANING["cond_notify_all"] = "condvar notify_all calls"
    MEANING["cond_waits"] = "times a thread blocked on the condvar"
    MEANING["eventfd_writes"] = "eventfd writes that interrupt the reactor's epoll_wait"
    MEANING["eventfd_skipped"] = "interrupts skipped because the eventfd was already armed"
    MEANING["epoll_wait_blocking"] = "epoll_wait calls that could block"
    MEANING["epoll_wait_zero"] = "non-blocking epoll_wait polls"
    MEANING["timerfd_settime"] = "timerfd reprogrammings"
    MEANING["reactor_runs"] = "reactor passes"
    MEANING["handlers_run"] = "ops popped from the queue and completed"
    MEANING["inline_completions"] = "speculative completions run inline"
    MEANING["inline_posted"] = "speculative completions posted to the queue"
    MEANING["refill_unassisted"] = "budget refills with no other thread to help"
    MEANING["refill_doubled"] = "budget refills that doubled the cap"
    MEANING["refill_reset"] = "budget refills that reset the cap"
    MEANING["refill_kept"] = "budget refills that kept the cap"
}

# The counters that moved between the base (param pb) and v (param pv) at
# workload w (pa: the A/A twin's param there), most moved first, as
# "name b→v; ..."; "none moved" or "no counters".  Sets NMOVED and, for
# i in 1..NMOVED, MOVED_C[i] (the counter), MOVED_B[i], MOVED_V[i] (per op).
# Moved: the per-op values differ by at least 0.01 and 10%, and by more than
# the A/A twin's value differs from the base's (needs counters_init, BASE
# and AA from load_impls, and summary.csv loaded).
function moved(w, pb, pv, v, pa,    i, c, kb, kv, ka, d, daa, rel, n, ord, rels, txt, j, t, any) {
    n = 0; any = 0
    for (i = 1; i <= NCOUNTER; i++) {
        c = COUNTER[i]
        kb = key(w, BASE, pb, c "_per_op"); kv = key(w, v, pv, c "_per_op")
        if (!(kb in MEAN) || !(kv in MEAN)) continue
        any = 1
        d = MEAN[kv] - MEAN[kb]; if (d < 0) d = -d
        ka = key(w, AA, pa, c "_per_op")
        daa = 0
        if (ka in MEAN) { daa = MEAN[ka] - MEAN[kb]; if (daa < 0) daa = -daa }
        if (d < 0.01 || d <= daa) continue
        rel = d / (MEAN[kv] > MEAN[kb] ? MEAN[kv] : MEAN[kb])
        if (rel < 0.10) continue
        ord[++n] = c; rels[n] = rel + d * 1e-9
    }
    NMOVED = n
    if (!any) return "no counters"
    if (!n) return "none moved"
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && rels[j] > rels[j - 1]; j--) {
            t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t
            t = rels[j]; rels[j] = rels[j - 1]; rels[j - 1] = t
        }
    txt = ""
    for (i = 1; i <= n; i++) {
        c = ord[i]
        MOVED_C[i] = c; MOVED_B[i] = MEAN[key(w, BASE, pb, c "_per_op")]; MOVED_V[i] = MEAN[key(w, v, pv, c "_per_op")]
        txt = txt (i > 1 ? "; " : "") sprintf("%s %.3g→%.3g", c, MEAN[key(w, BASE, pb, c "_per_op")],
            MEAN[key(w, v, pv, c "_per_op")])
    }
    return txt
}

# Standard error of a mean from its CI half-width.
function sem(k) {
    if (RUNS[k] < 2) return 0
    return (HI[k] - MEAN[k]) / tq(RUNS[k] - 1)
}

# Ratio a/b of the means behind keys ka, kb, with a 95% CI computed on the
# log scale (delta method, Welch-Satterthwaite degrees of freedom).  Sets
# RATIO, RATIO_LO, RATIO_HI; returns 0 when it cannot be formed.
function ratio(ka, kb,    ma, mb, ra, rb, df, num, den, h) {
    if (!(ka in MEAN) || !(kb in MEAN)) return 0
    ma = MEAN[ka]; mb = MEAN[kb]
    if (ma <= 0 || mb <= 0) return 0
    RATIO = ma / mb
    ra = (sem(ka) / ma) ^ 2; rb = (sem(kb) / mb) ^ 2
    if (ra + rb == 0) { RATIO_LO = RATIO_HI = RATIO; return 1 }
    den = 0
    if (RUNS[ka] > 1) den += ra * ra / (RUNS[ka] - 1)
    if (RUNS[kb] > 1) den += rb * rb / (RUNS[kb] - 1)
    df = den > 0 ? (ra + rb) ^ 2 / den : 1
    h = tq(int(df)) * sqrt(ra + rb)
    RATIO_LO = RATIO * exp(-h); RATIO_HI = RATIO * exp(h)
    return 1
}

# "faster" or "slower": the direction of a ratio (variant / base) of
# metric m.
function direction(r, m) { return ((r > 1) == higher_better(m)) ? "faster" : "slower" }

# The words of a verdict code of verdicts.csv, for a reader.
function verdict_text(code, cores) {
    if (code == "faster" || code == "slower") return "**" code "**"
    if (code ~ /^unexplained-/) { sub(/^unexplained-/, "", code); return "unexplained (" code ")" }
    if (code == "within-aa-noise") return "within A/A noise"
    if (code == "no-difference") return "no difference beyond noise"
    if (code == "unreliable") return "unreliable in this run"
    if (code == "not-judged") return "not judged on " cores " cores"
    if (code == "aa-none") return "no verdict (as it should)"
    if (code ~ /^aa-/) { sub(/^aa-/, "", code); return "**" code "**: workload unreliable in this run" }
    return code
}

# A number with an SI prefix and 3 significant digits.
function si(x,    a, p) {
    a = x < 0 ? -x : x
    if (a >= 1e9) return sprintf("%.3g G", x / 1e9)
    if (a >= 1e6) return sprintf("%.3g M", x / 1e6)
    if (a >= 1e4) return sprintf("%.3g k", x / 1e3)
    return sprintf("%.3g ", x)
}

function fmt(x, m) {
    if (m == "rate") return si(x) "op/s"
    if (m == "bytes_per_s") return si(x) "B/s"
    if (m == "wall_s" || m == "cpu_s") return sprintf("%.3g s", x)
    if (m ~ /^(rtt|lateness)_/) return (x >= 1000 || x <= -1000) ? sprintf("%.3g ms", x / 1000) : sprintf("%.3g us", x)
    return sprintf("%.3g", x)
}

function fmt_ratio() { return sprintf("%.3f [%.3f, %.3f]", RATIO, RATIO_LO, RATIO_HI) }
