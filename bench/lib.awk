# bench/lib.awk - functions shared by bench/report.awk and plots/data.awk:
# loading summary.csv, Student-t quantiles, the ratio of two means with its
# 95% confidence interval, which metric is "better" higher, the headline
# metrics of each workload, and number formatting.  No main program here.

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

function impl_kind(impl) {
    if (impl == "ref") return "ref"
    if (impl == "floor" || impl == "floor-uring") return "floor"
    if (impl == "asio" || impl == "libuv" || impl == "libevent" || impl ~ /^tokio-/) return "peer"
    if (impl ~ /^budget-/) return "budget"
    if (impl == "uring") return "backend"
    return "variant"
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

# "faster", "slower" or "no difference beyond noise" for the ratio just
# computed (variant / ref) of metric m.
function verdict(m) {
    if (RATIO_LO <= 1 && RATIO_HI >= 1) return "no difference beyond noise"
    if ((RATIO > 1) == higher_better(m)) return "faster"
    return "slower"
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
    if (m == "wall_s") return sprintf("%.3g s", x)
    if (m ~ /^(rtt|lateness)_/) return sprintf("%.3g us", x)
    return sprintf("%.3g", x)
}

function fmt_ratio() { return sprintf("%.3f [%.3f, %.3f]", RATIO, RATIO_LO, RATIO_HI) }
