#!/usr/bin/env bash
# bench/hypotheses.sh - the Hypotheses table: each added idea (variants/
# beyond the ablations) against the build it changes, on the workload its
# prediction names.
#
#   bench/hypotheses.sh [OUT.md]        every row (RUNS=7, BENCH_T=0.3)
#   ROWS=gated-stop,send-recv bench/hypotheses.sh
#
# Per row: RUNS pairs of runs, the two builds' timed programs alternating
# (so load drifts hit both alike), the in-process figure of each; the
# effect is the geometric mean of the paired ratios (variant / baseline)
# with a Student-t 95% interval over their logarithms; then one run of
# each stats build for the counter that explains it.  Verdict: "supported"
# when the interval lies wholly on the predicted side of 1, "refuted" when
# it lies wholly on the other side or the effect has the wrong sign,
# otherwise "not shown".  Writes markdown to OUT.md (default
# results/hypotheses.md) and prints it.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
RUNS=${RUNS:-7}
T=${BENCH_T:-0.3}
OUT=${1:-results/hypotheses.md}

# id|variant|baseline|workload|param|metric|direction (up: variant higher)|counter|prediction
ROWS_TABLE='
gated-stop|gated-stop|ref|post_interleaved|0|rate|up|eventfd_writes_per_op|stop() writes the eventfd only when a thread is in the reactor: post_interleaved faster
asio-cascade|asio-cascade|ref|post_threads|2|rate|up|eventfd_writes_per_op|a backlog wakes the blocked reactor thread too: more multi-thread throughput, more eventfd writes
event-interval|event-interval|ref|post_chain|1|rate|up|epoll_wait_zero_per_op|the reactor polled once per 61 handlers: post_chain K=1 near no-sentinel
event-interval-vs-no-sentinel|event-interval|no-sentinel|post_chain|1|rate|up|epoll_wait_zero_per_op|(reference point) event-interval against no-sentinel on post_chain K=1
send-recv|send-recv|ref|pingpong_tcp|64|rtt_mean|down|reactor_runs_per_op|recv/send for one buffer: lower round trip
send-recv-cpu|send-recv|ref|pingpong_tcp|64|cpu_us_20000|down|reactor_runs_per_op|(same) CPU time per round trip
hook-interrupts|hook-interrupts|ref|timer_schedule_cancel|0|rate|down|eventfd_writes_per_op|one eventfd write per earliest-expiry change (a cost: fewer schedule+cancel per second)
hook-interrupts-attempts|hook-interrupts|ref|timer_schedule_cancel|0|rate|down|eventfd_skipped_per_op|(same run) interrupts attempted while one write was outstanding
timer-fastpath|timer-fastpath|ref|timer_fire|0|rate|up|epoll_wait_zero_per_op|due timers run without a timerfd read: timer_fire well above ref
timer-fastpath-concurrent|timer-fastpath|ref|timer_concurrent|1000|lateness_p99|down|timerfd_settime_per_op|(same idea on 1000 timers) lower p99 lateness
batch-drain|batch-drain|ref|post_cross_thread|0|rate|up|mutex_locks_per_op|up to 16 ops per lock: cross-thread posting faster
batch-drain-cpu|batch-drain|ref|post_cross_thread|0|cpu_us_2000000|down|mutex_locks_per_op|(same) CPU time per post
single-threaded-chain|single-threaded|ref|post_chain|16|rate|up|mutex_locks_per_op|no scheduler lock: same-thread chains faster
single-threaded-pingpong|single-threaded|ref|pingpong_tcp|64|rtt_mean|down|mutex_locks_per_op|no scheduler or descriptor lock: lower round trip
single-threaded-pingpong-cpu|single-threaded|ref|pingpong_tcp|64|cpu_us_20000|down|mutex_locks_per_op|(same) CPU time per round trip
single-threaded-post|single-threaded|ref|post_single|0|rate|up|mutex_locks_per_op|no scheduler lock: posts from outside the loop faster
budget-1-thread|no-inline-budget|ref|pingpong_threads|1|rate|down|inline_completions_per_op|upstream cd19108: the budget pays with one thread (no-inline-budget slower)
budget-2-threads|no-inline-budget|ref|pingpong_threads|2|rate|up|inline_completions_per_op|upstream cd19108: with 2 threads the budget costs (no-inline-budget faster)
'

rows() { printf '%s\n' "$ROWS_TABLE" | sed '/^$/d'; }
selected() { [ -z "${ROWS:-}" ] && return 0; case ",$ROWS," in *",$1,"*) return 0 ;; esac; return 1; }

# figure BUILD WORKLOAD PARAM METRIC -> the value, or nothing.  METRIC
# cpu_us_N is the process's CPU time (user + system) for N operations, in
# microseconds per operation: less sensitive to a loaded machine than the
# elapsed time the in-process figures are made of.
figure() {
    case $4 in
    cpu_us_*)
        local n=${4#cpu_us_} TIMEFORMAT='%3U %3S' t
        t=$({ time "build/$1/bench/$2" -p "$3" -n "$n" -t 60 >/dev/null 2>&1; } 2>&1) || return
        awk -v t="$t" -v n="$n" 'BEGIN { split(t, a, " "); print (a[1] + a[2]) * 1e6 / n }'
        ;;
    *)
        "build/$1/bench/$2" -p "$3" -t "$T" 2>/dev/null |
            awk -F, -v m="$4" '$1 == "RESULT" && $5 == m { print $7; exit }'
        ;;
    esac
}

progs=""
while IFS='|' read -r id v b w p m dir c pred; do
    selected "$id" || continue
    for x in "$v" "$b" "$v-stats" "$b-stats"; do progs="$progs build/$x/bench/$w"; done
done < <(rows)
# shellcheck disable=SC2086
make --no-print-directory -j2 $progs >/dev/null || { echo "hypotheses.sh: build failed" >&2; exit 1; }

mkdir -p "$(dirname "$OUT")"
{
    echo "| row | prediction | workload (param) | effect: $(echo variant/baseline) of the figure, 95% CI | counter per op (baseline → variant) | verdict |"
    echo "|---|---|---|---|---|---|"
} > "$OUT"
while IFS='|' read -r id v b w p m dir c pred; do
    selected "$id" || continue
    ratios=""
    for ((i = 0; i < RUNS; i++)); do
        x=$(figure "$b" "$w" "$p" "$m"); y=$(figure "$v" "$w" "$p" "$m")
        [ -n "$x" ] && [ -n "$y" ] && ratios="$ratios $y/$x"
    done
    cb=$(figure "$b-stats" "$w" "$p" "$c"); cv=$(figure "$v-stats" "$w" "$p" "$c")
    echo "$ratios" | awk -v id="$id" -v v="$v" -v b="$b" -v w="$w" -v p="$p" -v m="$m" \
        -v dir="$dir" -v c="$c" -v cb="$cb" -v cv="$cv" -v pred="$pred" '
    function tq(df) { # Student t, 97.5th percentile
        split("12.71 4.30 3.18 2.78 2.57 2.45 2.36 2.31 2.26 2.23 2.20 2.18 2.16 2.14 2.13", t, " ")
        return df <= 15 ? t[df] : 2.0 }
    {
        n = 0
        for (i = 1; i <= NF; i++) { split($i, q, "/"); if (q[2] > 0 && q[1] > 0) l[++n] = log(q[1] / q[2]) }
        s = 0; for (i = 1; i <= n; i++) s += l[i]; mean = n ? s / n : 0
        ss = 0; for (i = 1; i <= n; i++) ss += (l[i] - mean)^2
        h = n > 1 ? tq(n - 1) * sqrt(ss / (n - 1) / n) : 0
        r = exp(mean); lo = exp(mean - h); hi = exp(mean + h)
        if (n < 2) verdict = "no data"
        else if (dir == "up") verdict = lo > 1 ? "supported" : (hi < 1 ? "refuted" : "not shown")
        else verdict = hi < 1 ? "supported" : (lo > 1 ? "refuted" : "not shown")
        printf "| %s (`%s` vs `%s`) | %s | %s (%s) | %s ×%.2f [%.2f, %.2f], n=%d | %s: %s → %s | %s |\n",
            id, v, b, pred, w, p, m, r, lo, hi, n, c, cb == "" ? "-" : cb, cv == "" ? "-" : cv, verdict
    }' >> "$OUT"
done < <(rows)
{
    echo
    echo "Measured by \`$0\` (RUNS=$RUNS, BENCH_T=$T) on $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(date -u +%Y-%m-%dT%H:%MZ)."
} >> "$OUT"
cat "$OUT"
