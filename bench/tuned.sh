#!/usr/bin/env bash
# bench/tuned.sh - `tuned` against ref, the peers and the floor on every
# workload they share: RUNS rounds, each running every program once in
# turn (so load drifts hit all alike); the median of each program's
# in-process headline figure.  Writes markdown to OUT.md (default
# results/tuned.md) and prints it.
#
#   bench/tuned.sh [OUT.md]          RUNS=5 BENCH_T=0.3
#   SUBJECT=send-recv CASES='pingpong_unix 64 rtt_mean lower' bench/tuned.sh OUT.md
#                                    another build against the same field
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
RUNS=${RUNS:-5}
T=${BENCH_T:-0.3}
OUT=${1:-results/tuned.md}
SUBJECT=${SUBJECT:-tuned}
IMPLS="ref $SUBJECT asio libuv libevent tokio-ct floor"
# workload param metric (lower: smaller is better)
CASES=${CASES:-'post_single 0 rate
post_interleaved 0 rate
post_chain 1 rate
post_chain 16 rate
post_cross_thread 0 rate
post_threads 1 rate
timer_fire 0 rate
timer_schedule_cancel 0 rate
pingpong_tcp 64 rtt_mean lower
pingpong_unix 64 rtt_mean lower
throughput_oneway 65536 bytes_per_s'}

make --no-print-directory -j2 build/peers/bench-asio build/peers/bench-libuv \
    build/peers/bench-libevent build/peers/bench-floor build/peers/bench-tokio-ct \
    $(printf '%s\n' "$CASES" | awk -v s="$SUBJECT" '{ print "build/ref/bench/" $1, "build/" s "/bench/" $1 }' | sort -u) \
    >/dev/null || { echo "tuned.sh: build failed" >&2; exit 1; }

run() { # impl workload param metric -> value
    local prog
    case $1 in
    asio | libuv | libevent | floor | tokio-*) prog=(build/peers/bench-$1 -w "$2") ;;
    *) prog=(build/$1/bench/$2) ;;
    esac
    "${prog[@]}" -p "$3" -t "$T" 2>/dev/null |
        awk -F, -v m="$4" '$1 == "RESULT" && $5 == m { print $7; exit }'
}

raw=$(mktemp)
while read -r w p m dir; do
    for ((i = 0; i < RUNS; i++)); do
        for impl in $IMPLS; do
            v=$(run "$impl" "$w" "$p" "$m")
            [ -n "$v" ] && echo "$w $p $m ${dir:-higher} $impl $v" >> "$raw"
        done
    done
done <<< "$CASES"

mkdir -p "$(dirname "$OUT")"
sort -k1,1 -k2,2n -k5,5 -k6,6g "$raw" | awk -v impls="$IMPLS" -v subj="$SUBJECT" '
    { k = $1 " " $2; key[k] = k; met[k] = $3; dir[k] = $4; n[k, $5]++; v[k, $5, n[k, $5]] = $6
      if (!(k in seen)) { seen[k] = 1; order[++nk] = k } }
    function med(k, i,  c) { c = n[k, i]; if (!c) return ""
        return c % 2 ? v[k, i, (c + 1) / 2] : (v[k, i, c / 2] + v[k, i, c / 2 + 1]) / 2 }
    END {
        ni = split(impls, im, " ")
        printf "| workload (param) | metric |"; for (j = 1; j <= ni; j++) printf " %s |", im[j]
        print " " subj " / ref | " subj " / best peer |"
        printf "|---|---|"; for (j = 1; j <= ni + 2; j++) printf "---|"; print ""
        for (o = 1; o <= nk; o++) {
            k = order[o]; split(k, kp, " "); lower = dir[k] == "lower"
            printf "| %s (%s) | %s%s |", kp[1], kp[2], met[k], lower ? " (lower is better)" : ""
            best = ""
            for (j = 1; j <= ni; j++) {
                x = med(k, im[j]); printf " %s |", x == "" ? "-" : sprintf("%.4g", x)
                if (x != "" && j > 2 && im[j] != "floor")
                    if (best == "" || (lower ? x < best : x > best)) best = x
            }
            t = med(k, subj); r = med(k, "ref")
            # Ratios say how much better tuned is: above 1, tuned is ahead.
            printf " %s |", (t == "" || r == "") ? "-" : sprintf("%.2f", lower ? r / t : t / r)
            printf " %s |\n", (t == "" || best == "") ? "-" : sprintf("%.2f", lower ? best / t : t / best)
        }
    }' > "$OUT"
rm -f "$raw"
{
    echo
    echo "Ratios above 1: $SUBJECT ahead.  Medians of RUNS=$RUNS in-process figures per program (BENCH_T=$T), by \`$0\` on $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(date -u +%Y-%m-%dT%H:%MZ)."
} >> "$OUT"
cat "$OUT"
