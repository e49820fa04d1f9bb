# plots/data.awk - turns summary.csv and verdicts.csv into the data files
# the gnuplot scripts draw (run with bench/lib.awk; plots/plots.sh calls it).
#
#   awk -v summary=FILE -v verdicts=FILE -v impls=FILE -v cores=N -v outdir=DIR \
#       -f bench/lib.awk -f plots/data.awk
#
# Writes into outdir:
#   bars-<workload>-<param>.dat  one bar per impl, top to bottom: idx, label,
#                                mean, lo, hi, colour (24-bit RGB as an integer), value text
#   scaling-<workload>.dat       one block per impl: threads, mean, lo, hi
#   budget.dat                   one block per build: label, MB/s (mean lo hi),
#                                rtt p99 (mean lo hi), p50, colour, point type, cap order
#   ratios-<variant>.dat         variant against the base, one row per figure,
#                                oriented so > 1 = variant faster: idx, label,
#                                ratio, lo, hi, A/A lo, A/A hi, colour, verdict text
#   figures.list                 what to draw: kind, data file, name, title, xlabel, extra
# Colours by kind: base dark blue, A/A twin purple, variants light blue,
# budget-N green, peers orange, floors grey.

BEGIN {
    load_summary(summary)
    load_impls(impls)
    colour["base"] = rgb(31, 78, 153); colour["aa"] = rgb(142, 124, 195); colour["variant"] = rgb(111, 168, 220)
    colour["budget"] = rgb(106, 168, 79); colour["peer"] = rgb(230, 145, 56); colour["floor"] = rgb(136, 136, 136)
    list = outdir "/figures.list"
    printf "" > list
    bars()
    scaling("post_threads"); scaling("post_concurrent")
    budget()
    ratios()
    close(list)
}

# A colour as gnuplot's `lc rgb variable` reads it.
function rgb(r, g, b) { return sprintf("%d", int(r) * 65536 + int(g) * 256 + int(b)) }

# Sort key of an impl: base, A/A twin, variants, budget caps in order,
# peers, floors.
function rank(impl,    k, base) {
    k = impl_kind(impl)
    if (k == "base") return 0
    if (k == "aa") return 1
    if (k == "variant") return 1000 + implpos(impl)
    if (k == "budget") { base = impl; sub(/^budget-/, "", base); return 2000 + base }
    if (k == "peer") return 3000 + implpos(impl)
    return 4000 + implpos(impl)
}

function implpos(impl,    i) {
    if (impl in KPOS) return KPOS[impl]
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

function bars(    j, ms, w, p, m, pl, n, i, f, lo, hi, k, label, pp, done, name, vmin, vmax, logx, div, unit, sc, pre) {
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
            if (MEAN[k] > 0 && (vmin < 0 || MEAN[k] < vmin)) vmin = MEAN[k]
            if (HI[k] > vmax) vmax = HI[k]
        }
        logx = (vmin > 0 && vmax / vmin > 50) ? 1 : 0
        # One unit for the whole axis (M op/s, GB/s, ...), chosen by the
        # largest bar, so the tick labels stay short.
        div = 1; unit = unit_label(m)
        if (higher_better(m)) {
            sc = logx ? vmin : vmax
            if (sc >= 1e9) { div = 1e9; pre = "G" } else if (sc >= 1e6) { div = 1e6; pre = "M" } else if (sc >= 1e3) { div = 1e3; pre = "k" } else pre = ""
            if (m == "rate") unit = (div == 1) ? "operations/s" : (pre == "k" ? "thousand" : pre == "M" ? "million" : "billion") " operations/s"
            if (m == "bytes_per_s") unit = (div == 1) ? "bytes/s" : pre "B/s"
            if (logx) { div = 1; unit = unit_label(m) }   # the ticks say k, M, G
        } else if (m ~ /^(rtt|lateness)_/ && !logx && vmax >= 1e4) { div = 1000; unit = m " (ms)" }
        for (i = 1; i <= n; i++) {
            pp = (w == "budget_sweep") ? PARAM_OF[w, SORTED[i]] : p
            k = key(w, SORTED[i], pp, m)
            label = SORTED[i] ((w == "budget_sweep" && pp != SORTED[i]) ? " (cap " pp ")" : "") \
                (SORTED[i] == "floor-uring" ? " (io_uring limit)" : "")
            lo = LO[k]; hi = HI[k]
            if (lo <= 0) lo = MEAN[k]
            printf "%d\t%s\t%g\t%g\t%g\t%s\t%s\n", i - 1, label, MEAN[k] / div, lo / div, hi / div,
                colour[impl_kind(SORTED[i])], fmt(MEAN[k], m) >> f
        }
        close(f)
        printf "bars\t%s\t%s\t%s%s: %s (%s is better; mean and 95%% CI over %d rounds)\t%s\t%d %g\n", f, name, w,
            (p == "all" || p == "0") ? "" : " " p, m,
            higher_better(m) ? "higher" : "lower", RUNS[key(w, SORTED[1], (w == "budget_sweep") ? PARAM_OF[w, SORTED[1]] : p, m)],
            unit, logx, (logx ? vmin / div / 3 : 0) >> list
    }
}

function scaling(w,    i, n, f, t, k, impl, params, np, j, ms, c, cnt, judged) {
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
            if (k in MEAN) printf "%s\t%g\t%g\t%g\n", params[c], MEAN[k] / 1e6, LO[k] / 1e6, HI[k] / 1e6 >> f
        }
        printf "\n\n" >> f
        cnt++
    }
    close(f)
    judged = ""
    for (c = 1; c <= np; c++)
        if (threads_of(w, params[c]) <= cores - 1) judged = judged (judged == "" ? "" : ", ") params[c]
    if (cnt) printf "scaling\t%s\tscaling-%s\t%s on %d cores: handlers/s against threads (%s)\tmillion operations/s\t%d\n",
        f, w, w, cores,
        judged == "" ? "no point judged: each keeps more than cores - 1 threads busy" \
                     : "judged only at " judged ": more threads than cores - 1 get no verdict", cnt >> list
}

# The budget sweep: one block per build, ordered by cap (fixed caps
# ascending, then the others); fixed caps shaded light to dark green.
function budget(    n, i, f, impl, p, kb, k99, k50, ord, nf, c, col, pt, fixed, t, j, sh, frontier, np, pal, rgbv, nother) {
    n = sorted_impls("budget_sweep", "", "bytes_per_s")
    if (n == 0) return
    nf = 0
    for (i = 1; i <= n; i++) {
        p = PARAM_OF["budget_sweep", SORTED[i]]
        ord[i] = (p ~ /^[0-9]+$/) ? p + 0 : (p == "adaptive" ? 1000 + rank(SORTED[i]) : (p == "unbounded" ? 1e6 : 2e6 + rank(SORTED[i])))
        if (p ~ /^[0-9]+$/) nf++
    }
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && ord[j] < ord[j - 1]; j--) {
            t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t
            t = SORTED[j]; SORTED[j] = SORTED[j - 1]; SORTED[j - 1] = t
        }
    f = outdir "/budget.dat"
    printf "" > f
    c = 0; sh = 0
    for (i = 1; i <= n; i++) {
        impl = SORTED[i]; p = PARAM_OF["budget_sweep", impl]
        kb = key("budget_sweep", impl, p, "bytes_per_s")
        k99 = key("budget_sweep", impl, p, "rtt_p99"); k50 = key("budget_sweep", impl, p, "rtt_p50")
        if (!(k99 in MEAN)) continue
        fixed = (p ~ /^[0-9]+$/)
        if (fixed) {   # light to dark green
            t = nf > 1 ? sh / (nf - 1) : 1; sh++
            col = rgb(190 - 170 * t, 225 - 125 * t, 180 - 160 * t)
            pt = 9
        } else if (p == "adaptive") { col = (impl_kind(impl) == "aa") ? colour["aa"] : colour["base"]; pt = 7 }
        else if (p == "unbounded") { col = rgb(204, 0, 0); pt = 5 }
        else if (impl == "no-sentinel") { col = rgb(68, 68, 68); pt = 13 }
        else if (impl == "no-inline-budget") { col = rgb(230, 145, 56); pt = 13 }
        else {   # every other build a colour of its own
            np = split("111 168 220|0 150 150|153 0 153|180 95 6|100 100 220|200 60 120", pal, "|")
            split(pal[(nother++ % np) + 1], rgbv, " ")
            col = rgb(rgbv[1], rgbv[2], rgbv[3]); pt = 13
        }
        printf "%s\n", (fixed ? "cap " p : (p == impl ? impl : impl " (" p ")")) >> f
        printf "%g\t%g\t%g\t%g\t%g\t%g\t%g\t%s\t%d\t%d\n", MEAN[kb] / 1e6, LO[kb] / 1e6, HI[kb] / 1e6,
            MEAN[k99], (LO[k99] > 0 ? LO[k99] : MEAN[k99]), HI[k99], MEAN[k50], col, pt, fixed >> f
        printf "\n\n" >> f
        if (fixed) frontier = frontier sprintf("%g\t%g\n", MEAN[kb] / 1e6, MEAN[k99])
        c++
    }
    printf "fixed caps in order\n%s", frontier >> f
    close(f)
    printf "budget\t%s\tbudget_sweep\tInline budget: throughput of A against the round trip of B, one point per build\tus\t%d\n", f, c >> list
}

# One ratio chart per variant, from verdicts.csv: every figure, oriented
# so that above 1 is faster, with the A/A interval behind it.
function ratios(    line, fl, v, n, f, r, lo, hi, alo, ahi, t, col, txt, nv, vs, cnt, label, code, xmin, xmax) {
    nv = 0
    while ((getline line < verdicts) > 0) {
        split(line, fl, ",")
        if (fl[1] == "impl" || impl_kind(fl[1]) != "variant") continue
        v = fl[1]
        if (!(v in cnt)) { vs[++nv] = v; cnt[v] = 0; printf "" > (outdir "/ratios-" v ".dat") }
        f = outdir "/ratios-" v ".dat"
        r = fl[9]; lo = fl[10]; hi = fl[11]; alo = fl[13]; ahi = fl[14]
        if (alo == "") { alo = 1; ahi = 1 }
        if (!higher_better(fl[5])) { r = 1 / r; t = lo; lo = 1 / hi; hi = 1 / t; t = alo; alo = 1 / ahi; ahi = 1 / t }
        code = fl[15]
        col = (code == "faster") ? rgb(56, 118, 29) : (code == "slower") ? rgb(204, 0, 0) : (code ~ /^unexplained/) ? rgb(180, 95, 6) \
            : (code == "unreliable" || code == "not-judged") ? rgb(170, 170, 170) : rgb(102, 102, 102)
        label = fl[2] ((fl[3] == "0") ? "" : " " fl[3]) " " fl[5]
        txt = verdict_text(code, cores); gsub(/\*/, "", txt)
        printf "%d\t%s\t%g\t%g\t%g\t%g\t%g\t%s\t%s\n", cnt[v], label, r, lo, hi, alo, ahi, col, txt >> f
        cnt[v]++
        if (!(v in XMIN) || lo < XMIN[v]) XMIN[v] = lo
        if (alo < XMIN[v]) XMIN[v] = alo
        if (!(v in XMAX) || hi > XMAX[v]) XMAX[v] = hi
        if (ahi > XMAX[v]) XMAX[v] = ahi
    }
    close(verdicts)
    for (n = 1; n <= nv; n++) {
        close(outdir "/ratios-" vs[n] ".dat")
        xmin = XMIN[vs[n]] < 1 ? XMIN[vs[n]] : 1; xmax = XMAX[vs[n]] > 1 ? XMAX[vs[n]] : 1
        printf "ratios\t%s\tratios-%s\t%s against %s on %d cores: above 1, %s is faster (bars: 95%% CI; shaded: the A/A interval)\t%s / %s performance (log scale)\t%d %g %g\n",
            outdir "/ratios-" vs[n] ".dat", vs[n], vs[n], BASE, cores, vs[n], vs[n], BASE, cnt[vs[n]], xmin / 1.25, xmax * 1.25 >> list
    }
}
