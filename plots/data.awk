# plots/data.awk - turns summary.csv into the data files the gnuplot
# scripts draw (run with bench/lib.awk; plots/plots.sh calls it).
#
#   awk -v summary=FILE -v outdir=DIR -f bench/lib.awk -f plots/data.awk
#
# Writes into outdir:
#   bars-<workload>-<param>.dat  one bar per impl: idx, label, mean, lo, hi, colour
#   scaling-<workload>.dat       one block per impl: threads, mean, lo, hi
#   budget.dat                   one row per cap: label, MB/s (mean lo hi), rtt p99 and p50
#   ratios-<variant>.dat         variant against ref, oriented so > 1 = variant faster
#   figures.list                 what to draw: kind, data file, name, title, ylabel, log
# Colours: 1 ref, 2 other variants, 3 budget-N builds, 4 peers, 5 floor.

BEGIN {
    load_summary(summary)
    colour["ref"] = 1; colour["variant"] = 2; colour["budget"] = 3
    colour["peer"] = 4; colour["floor"] = 5; colour["backend"] = 2
    list = outdir "/figures.list"
    printf "" > list
    bars()
    scaling("post_threads"); scaling("post_concurrent")
    budget()
    for (i = 1; i <= NIMPL; i++)
        if (impl_kind(IMPL[i]) == "variant" || impl_kind(IMPL[i]) == "backend") ratios(IMPL[i])
    close(list)
}

# Sort key of an impl: ref, variants, budget caps in order, peers, floor.
function rank(impl,    k, base) {
    k = impl_kind(impl)
    if (k == "ref") return 0
    if (k == "variant" || k == "backend") return 1000 + implpos(impl)
    if (k == "budget") { base = impl; sub(/^budget-/, "", base); return 2000 + base }
    if (k == "peer") return 3000 + implpos(impl)
    return 4000
}

function implpos(impl,    i) {
    for (i = 1; i <= NIMPL; i++) if (IMPL[i] == impl) return i
    return 999
}

# impls having (w, p?, m), sorted by rank, into SORTED[1..n]; returns n.
function sorted_impls(w, p, m,    i, n, j, t, pp) {
    n = 0
    for (i = 1; i <= NIMPL; i++) {
        pp = (w == "budget_sweep") ? PARAM_OF[w, IMPL[i]] : p
        if (((w SUBSEP IMPL[i]) in PARAM_OF) && has(w, IMPL[i], pp, m)) SORTED[++n] = IMPL[i]
    }
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && rank(SORTED[j]) < rank(SORTED[j - 1]); j--) {
            t = SORTED[j]; SORTED[j] = SORTED[j - 1]; SORTED[j - 1] = t
        }
    return n
}

function unit_label(m) {
    if (m == "rate") return "operations/s"
    if (m == "bytes_per_s") return "bytes/s"
    if (m ~ /^(rtt|lateness)_/) return m " (us)"
    return m
}

function bars(    j, ms, w, p, m, pl, n, i, f, lo, hi, k, label, pp, done, name, vmin, vmax, logy) {
    for (j = 1; j <= NWP; j++) {
        split(WP[j], ms, SUBSEP); w = ms[1]; p = ms[2]
        if (w == "budget_sweep") { if (done[w]++) continue; p = "all" }
        split(primary(w), pl, " "); m = pl[1]
        n = sorted_impls(w, p, m)
        if (n == 0) continue
        name = "bars-" w (w == "budget_sweep" ? "" : "-" p)
        f = outdir "/" name ".dat"
        printf "" > f
        vmin = -1; vmax = 0
        for (i = 1; i <= n; i++) {
            pp = (w == "budget_sweep") ? PARAM_OF[w, SORTED[i]] : p
            k = key(w, SORTED[i], pp, m)
            label = SORTED[i] ((w == "budget_sweep") ? " (" pp ")" : "") \
                (SORTED[i] == "floor-uring" ? " (io_uring limit)" : "")
            lo = LO[k]; hi = HI[k]
            if (lo <= 0) lo = MEAN[k]
            printf "%d\t%s\t%g\t%g\t%g\t%d\n", i - 1, label, MEAN[k], lo, hi,
                colour[impl_kind(SORTED[i])] >> f
            if (MEAN[k] > 0 && (vmin < 0 || MEAN[k] < vmin)) vmin = MEAN[k]
            if (MEAN[k] > vmax) vmax = MEAN[k]
        }
        close(f)
        logy = (vmin > 0 && vmax / vmin > 50) ? 1 : 0
        printf "bars\t%s\t%s\t%s%s: %s%s\t%s\t%d\n", f, name, w,
            (p == "all" || p == "0") ? "" : " (param " p ")", m,
            higher_better(m) ? ", higher is better" : ", lower is better", unit_label(m), logy >> list
    }
}

function scaling(w,    i, n, f, t, k, impl, params, np, j, ms, c, cnt) {
    np = 0
    for (j = 1; j <= NWP; j++) {
        split(WP[j], ms, SUBSEP)
        if (ms[1] == w) params[++np] = ms[2]
    }
    if (np < 1) return
    for (i = 2; i <= np; i++)   # numeric sort of the thread counts
        for (j = i; j > 1 && params[j] + 0 < params[j - 1] + 0; j--) {
            t = params[j]; params[j] = params[j - 1]; params[j - 1] = t
        }
    n = sorted_impls(w, params[1], "rate")
    f = outdir "/scaling-" w ".dat"
    printf "" > f
    cnt = 0
    for (i = 1; i <= n; i++) {
        impl = SORTED[i]
        printf "%s\tthreads\tmean\tlo\thi\n", impl >> f
        for (c = 1; c <= np; c++) {
            k = key(w, impl, params[c], "rate")
            if (k in MEAN) printf "%s\t%g\t%g\t%g\n", params[c], MEAN[k], LO[k], HI[k] >> f
        }
        printf "\n\n" >> f
        cnt++
    }
    close(f)
    if (cnt) printf "scaling\t%s\tscaling-%s\t%s: handlers/s against threads\toperations/s\t%d\n",
        f, w, w, cnt >> list
}

function budget(    n, i, f, impl, p, kb, k99, k50) {
    n = sorted_impls("budget_sweep", "", "bytes_per_s")
    if (n == 0) return
    f = outdir "/budget.dat"
    printf "" > f
    for (i = 1; i <= n; i++) {
        impl = SORTED[i]; p = PARAM_OF["budget_sweep", impl]
        kb = key("budget_sweep", impl, p, "bytes_per_s")
        k99 = key("budget_sweep", impl, p, "rtt_p99"); k50 = key("budget_sweep", impl, p, "rtt_p50")
        if (!(k99 in MEAN)) continue
        printf "%s\t%g\t%g\t%g\t%g\t%g\t%g\t%g\n", p, MEAN[kb] / 1e6, LO[kb] / 1e6, HI[kb] / 1e6,
            MEAN[k99], (LO[k99] > 0 ? LO[k99] : MEAN[k99]), HI[k99], MEAN[k50] >> f
    }
    close(f)
    printf "budget\t%s\tbudget_sweep\tInline budget: throughput of A against latency of B\tus\t1\n", f >> list
}

function ratios(v,    j, ms, w, p, pv, nm, m, k, f, n, lo, hi, r) {
    f = outdir "/ratios-" v ".dat"
    printf "" > f
    n = 0
    for (j = 1; j <= NWP; j++) {
        split(WP[j], ms, SUBSEP); w = ms[1]; p = ms[2]
        pv = p
        if (w == "budget_sweep") {
            if (p != PARAM_OF[w, "ref"]) continue
            pv = PARAM_OF[w, v]
        }
        nm = split(primary(w), m, " ")
        for (k = 1; k <= nm; k++) {
            if (!ratio(key(w, v, pv, m[k]), key(w, "ref", p, m[k]))) continue
            r = RATIO; lo = RATIO_LO; hi = RATIO_HI
            if (!higher_better(m[k])) { r = 1 / RATIO; lo = 1 / RATIO_HI; hi = 1 / RATIO_LO }
            printf "%d\t%s%s %s\t%g\t%g\t%g\t%d\n", n, w, (p == "0" ? "" : " " p), m[k], r, lo, hi,
                (lo > 1 ? 3 : (hi < 1 ? 4 : 5)) >> f
            n++
        }
    }
    close(f)
    if (n) printf "ratios\t%s\tratios-%s\t%s against ref (above 1: %s is faster; bars: 95%% CI)\tvariant / ref performance\t1\n",
        f, v, v, v >> list
}
