# bench/summary.awk - raw.csv (one row per sample) to summary.csv: per
# (workload, impl, param, metric) the number of runs, the mean and its
# two-sided 95% confidence interval (Student t), in first-seen order.  The
# per-run `ops` rows (how much work a run did) are left out.
#   awk -F, -f bench/lib.awk -f bench/summary.awk raw.csv
BEGIN { print "workload,impl,param,metric,unit,runs,mean,ci95_low,ci95_high" }
FNR > 1 && $4 != "ops" {
    k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4 SUBSEP $5
    if (!(k in n)) order[++nk] = k
    n[k]++; s[k] += $6; ss[k] += $6 * $6
}
END {
    for (i = 1; i <= nk; i++) {
        k = order[i]; split(k, f, SUBSEP)
        m = s[k] / n[k]; lo = hi = m
        if (n[k] > 1) {
            var = (ss[k] - n[k] * m * m) / (n[k] - 1)
            if (var < 0) var = 0
            h = tq(n[k] - 1) * sqrt(var / n[k]); lo = m - h; hi = m + h
        }
        printf "%s,%s,%s,%s,%s,%d,%.6g,%.6g,%.6g\n", f[1], f[2], f[3], f[4], f[5], n[k], m, lo, hi
    }
}
