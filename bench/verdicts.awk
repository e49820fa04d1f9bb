# bench/verdicts.awk - every variant against the base build, figure by
# figure, from one results directory: the paired ratio with its 95%
# confidence interval, the A/A control's ratio on the same figure, the
# verdict, and the mechanism counters that moved.  Writes verdicts.csv on
# stdout (bench/verdicts.sh runs it; the report, the ratio figures,
# compare-runs and make compare read it).
#
#   awk -F, -v summary=S -v impls=I -v cores=N -f bench/lib.awk -f bench/verdicts.awk raw.csv
#
# The ratio is paired by round: the rounds are blocks (every implementation
# ran once in each, in a random order), so the ratio of a round is
# variant / base within that round, and the ratio reported is the geometric
# mean of those, with a Student-t interval on their logarithms.  Load that
# lasts longer than a round cancels out of it.
#
# The verdict of one figure, first rule that applies:
#   not-judged         the workload keeps more threads busy than cores - 1
#   unreliable         the A/A control (AA / base) gave a verdict on some
#                      figure of this (workload, param): the run cannot tell
#                      this workload's differences from noise
#   no-difference      the interval contains 1
#   within-aa-noise    the interval excludes 1 but the effect is no larger
#                      than the A/A's on the same figure: |ln ratio| <=
#                      |ln A/A ratio| (the A/A twin differs from the base
#                      by noise alone, so a smaller effect is not one)
#   unexplained-DIR    a difference, but no mechanism counter moved
#   faster | slower    a difference that stands, with a counter that moved
# A counter moved when its per-op value differs from the base's by at least
# 0.01 and by at least 10%, and by more than the A/A twin's differs.
#
# Rows for the A/A control itself (impl = AA) say aa-none, aa-faster or
# aa-slower.  Columns:
#   impl,workload,param,threads,metric,rounds,base_mean,impl_mean,ratio,
#   ci95_low,ci95_high,aa_ratio,aa_low,aa_high,verdict,counters

FNR == 1 { next }
$7 == "timed" || $7 == "hyperfine" {
    w = $1; pk = (w == "budget_sweep") ? "*" : $3
    if (!is_judged_metric(w, $4)) next
    if (!((w, pk) in SEEN_CMP)) { SEEN_CMP[w, pk] = 1; CMP[++NCMP] = w SUBSEP pk }
    if (!((w, pk, $4) in SEEN_M)) { SEEN_M[w, pk, $4] = 1; MLIST[w, pk] = MLIST[w, pk] " " $4 }
    if (!((w, pk, $2) in SEEN_I)) { SEEN_I[w, pk, $2] = 1; ILIST[w, pk] = ILIST[w, pk] " " $2 }
    PAR[w, pk, $2] = $3
    V[w, pk, $4, $2, $8] = $6 + 0
    if ($8 + 0 > MAXR) MAXR = $8 + 0
}

function is_judged_metric(w, m,    pl, n, i) {
    # cpu_s (user + system, in summary.csv) is not judged: precise enough to
    # resolve the few-percent differences code layout alone makes between
    # two builds of one source (ref-aa shows them), it turns those into
    # verdicts that no mechanism explains.
    if (m == "wall_s") return 1
    n = split(primary(w), pl, " ")
    for (i = 1; i <= n; i++) if (pl[i] == m) return 1
    return 0
}

# Paired ratio a / b of figure (w, pk, m) over the rounds both have; sets
# PR, PLO, PHI, PN; returns PN (0: no round in common).
function paired(w, pk, m, a, b,    r, x, y, n, s, ss, l, mean, sd, h) {
    n = 0; s = 0; ss = 0
    for (r = 1; r <= MAXR; r++) {
        if (!((w, pk, m, a, r) in V) || !((w, pk, m, b, r) in V)) continue
        x = V[w, pk, m, a, r]; y = V[w, pk, m, b, r]
        if (x <= 0 || y <= 0) continue
        l = log(x / y); n++; s += l; ss += l * l
    }
    PN = n
    if (n == 0) return 0
    mean = s / n
    PR = exp(mean); PLO = PHI = PR
    if (n > 1) {
        sd = (ss - n * mean * mean) / (n - 1); sd = sd > 0 ? sqrt(sd) : 0
        h = tq(n - 1) * sd / sqrt(n)
        PLO = exp(mean - h); PHI = exp(mean + h)
    }
    return n
}

function num(k) { return (k in MEAN) ? sprintf("%.6g", MEAN[k]) : "" }

END {
    load_summary(summary)
    load_impls(impls)
    counters_init()
    print "impl,workload,param,threads,metric,rounds,base_mean,impl_mean,ratio,ci95_low,ci95_high,aa_ratio,aa_low,aa_high,verdict,counters"
    for (c = 1; c <= NCMP; c++) {
        split(CMP[c], cp, SUBSEP); w = cp[1]; pk = cp[2]
        pb = PAR[w, pk, BASE]
        if (pb == "") continue
        th = threads_of(w, pb)
        judged = (th <= cores - 1)
        nm = split(substr(MLIST[w, pk], 2), ms, " ")
        # The A/A control on every figure of this comparison.
        unreliable = 0
        delete AAR; delete AALO; delete AAHI
        pa = PAR[w, pk, AA]
        for (k = 1; k <= nm; k++) {
            m = ms[k]
            if (AA == "" || pa == "" || !paired(w, pk, m, AA, BASE)) continue
            AAR[m] = PR; AALO[m] = PLO; AAHI[m] = PHI
            code = (PLO > 1 || PHI < 1) ? "aa-" direction(PR, m) : "aa-none"
            if (code != "aa-none") unreliable = 1
            printf "%s,%s,%s,%d,%s,%d,%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%s,%s\n", AA, w, pa, th, m, PN,
                num(key(w, BASE, pb, m)), num(key(w, AA, pa, m)), PR, PLO, PHI, PR, PLO, PHI, code,
                moved(w, pb, pa, AA, pa)
        }
        ni = split(substr(ILIST[w, pk], 2), is, " ")
        for (i = 1; i <= ni; i++) {
            v = is[i]
            if (impl_kind(v) != "variant") continue
            pv = PAR[w, pk, v]
            for (k = 1; k <= nm; k++) {
                m = ms[k]
                if (!paired(w, pk, m, v, BASE)) continue
                band = 0
                if (m in AAR) { band = log(AAR[m]); if (band < 0) band = -band }
                counters = moved(w, pb, pv, v, pa)
                eff = log(PR); if (eff < 0) eff = -eff
                if (!judged) code = "not-judged"
                else if (unreliable) code = "unreliable"
                else if (PLO <= 1 && PHI >= 1) code = "no-difference"
                else if (eff <= band) code = "within-aa-noise"
                else if (NMOVED == 0) code = "unexplained-" direction(PR, m)
                else code = direction(PR, m)
                printf "%s,%s,%s,%d,%s,%d,%s,%s,%.6g,%.6g,%.6g,%s,%s,%s,%s,%s\n", v, w, pv, th, m, PN,
                    num(key(w, BASE, pb, m)), num(key(w, v, pv, m)), PR, PLO, PHI,
                    (m in AAR) ? sprintf("%.6g", AAR[m]) : "", (m in AAR) ? sprintf("%.6g", AALO[m]) : "",
                    (m in AAR) ? sprintf("%.6g", AAHI[m]) : "", code, counters
            }
        }
    }
}
