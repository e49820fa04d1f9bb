#!/usr/bin/env bash
# bench/run.sh - the benchmark driver behind `make bench` (bash + awk).
#
# For each (workload, param): every variant's timed program side by side
# under hyperfine (whole processes, equal work where the workload allows it;
# each run also appends its in-process figures), every variant's stats
# program for the mechanism counters, then the peers and the floor.  Writes
# results/<timestamp>/: summary.csv (mean and Student-t 95% CI per figure),
# raw.csv (every sample), hyperfine/*.json, machine.txt, notes.txt (every
# gap, with its reason), report.md and plots/; results/latest points there.
#
# Environment: FULL=1 (all sizes and thread counts, 10 runs), WORKLOAD= and
# VARIANT= (comma lists), PEERS= (comma list of asio,libuv,libevent,
# tokio-ct,tokio-mt,floor,floor-uring, or none), RUNS= and BENCH_T= (runs
# per figure, seconds per run) override the mode's defaults.  make bench passes BENCH_VARIANTS and
# BENCH_BUDGET_VARIANTS (the builds it made); BENCH_PEER_DIR (default
# build/peers) is where the peer programs are looked for.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1

# ---- mode ------------------------------------------------------------------
if [ -n "${FULL:-}" ] && [ "${FULL}" != 0 ]; then
    MODE=full RUNS=${RUNS:-10} T=${BENCH_T:-0.5} STATS_RUNS=3 STATS_T=0.3
else
    MODE=quick RUNS=${RUNS:-5} T=${BENCH_T:-0.3} STATS_RUNS=2 STATS_T=0.15
fi
CAP_T=$(awk -v t="$T" 'BEGIN { c = 5 * t; if (c < 2) c = 2; print c }')
NPROC=$(nproc 2>/dev/null || echo 1)

HAVE_HYPERFINE=1
if ! command -v hyperfine >/dev/null; then
    HAVE_HYPERFINE=0
    echo "run.sh: hyperfine not found (make bench installs it: tools/ensure-deps hyperfine):" \
         "running the variants directly, without wall_s" >&2
fi

ALL_WORKLOADS="post_single post_threads post_interleaved post_concurrent post_chain
post_cross_thread pingpong_tcp pingpong_unix pingpong_concurrent throughput_oneway
throughput_twoway timer_schedule_cancel timer_fire timer_concurrent fanout
accept_churn starvation budget_sweep"
# Workloads that run for a time rather than a fixed amount of work: their
# whole-process time says nothing, so no wall_s row.
TIME_BOUND=" timer_concurrent starvation budget_sweep "
PEER_NAMES="asio libuv libevent tokio-ct tokio-mt floor floor-uring"

variants=${BENCH_VARIANTS-$(sed -n 's/^VARIANTS *:= *//p' Makefile)}
# Without make: whichever budget-N builds have a budget_sweep program.
detect_budgets() {
    local d b
    for d in build/budget-*/bench/budget_sweep; do
        [ -x "$d" ] || continue
        b=${d#build/}; b=${b%%/*}
        case "$b" in *-stats) ;; *) echo "$b" ;; esac
    done | sort -t- -k2 -n
}
budget_variants=${BENCH_BUDGET_VARIANTS-$(detect_budgets)}

in_list() { case ",$2," in *",$1,"*) return 0 ;; esac; return 1; }

sel_workloads=""
for w in $ALL_WORKLOADS; do
    if [ -z "${WORKLOAD:-}" ] || in_list "$w" "$WORKLOAD"; then sel_workloads="$sel_workloads $w"; fi
done
if [ -n "${WORKLOAD:-}" ]; then
    for w in ${WORKLOAD//,/ }; do
        case " $(echo $ALL_WORKLOADS) " in *" $w "*) ;; *) echo "run.sh: unknown workload '$w' (known: $(echo $ALL_WORKLOADS))" >&2; exit 2 ;; esac
    done
fi
sel_variants=""
for v in $variants $budget_variants; do
    if [ -z "${VARIANT:-}" ] || in_list "$v" "$VARIANT"; then sel_variants="$sel_variants $v"; fi
done
sel_peers=""
for p in $PEER_NAMES; do
    if [ -z "${PEERS:-}" ] || in_list "$p" "$PEERS"; then sel_peers="$sel_peers $p"; fi
done
[ -z "$sel_workloads" ] && { echo "run.sh: WORKLOAD='${WORKLOAD:-}' selects nothing" >&2; exit 2; }

# Parameters of each workload in this mode.
pow2_threads() {
    local n=1 out=""
    while [ "$n" -le "$NPROC" ]; do out="$out $n"; n=$((n * 2)); done
    case " $out " in *" $NPROC "*) ;; *) out="$out $NPROC" ;; esac
    echo $out
}
params_for() {
    case "$1:$MODE" in
    post_threads:*|post_concurrent:*) pow2_threads ;;
    post_chain:*) echo 1 16 256 ;;
    pingpong_tcp:quick|pingpong_unix:quick) echo 64 ;;
    pingpong_tcp:full|pingpong_unix:full) echo 1 64 1024 ;;
    throughput_*:quick) echo 1024 65536 ;;
    throughput_*:full) echo 1024 4096 16384 65536 ;;
    pingpong_concurrent:*) echo 16 ;;
    timer_concurrent:*) echo 1000 ;;
    fanout:quick) echo 16 ;;
    fanout:full) echo 1 4 16 64 ;;
    *) echo 0 ;;
    esac
}
# The variants a workload runs on: budget-N builds only for budget_sweep.
variants_for() {
    local v out=""
    for v in $sel_variants; do
        case "$v" in budget-*) [ "$1" = budget_sweep ] && out="$out $v" ;; *) out="$out $v" ;; esac
    done
    echo $out
}

# ---- output directory --------------------------------------------------------
ts=$(date +%Y%m%d-%H%M%S)
OUT=results/$ts
n=1
while [ -e "$OUT" ]; do OUT=results/$ts-$n; n=$((n + 1)); done
mkdir -p "$OUT/hyperfine" "$OUT/logs" "$OUT/starvation" "$OUT/tmp"
ln -sfn "$(basename "$OUT")" results/latest
RAW=$OUT/raw.csv
NOTES=$OUT/notes.txt
echo "workload,impl,param,metric,unit,value,source" > "$RAW"
: > "$NOTES"
note() { echo "$*" >> "$NOTES"; echo "  note: $*"; }

# The io_uring scheduler needs a usable io_uring (kernel, sysctl
# io_uring_disabled, seccomp): without one it is a gap, not a failure.
if in_list uring "${sel_variants// /,}" && [ -x build/uring/bench/post_single ] &&
    ! err=$(build/uring/bench/post_single -t 0.01 2>&1 >/dev/null); then
    note "uring: ${err:-the program failed}: io_uring unavailable here, no uring rows"
    sel_variants=$(for v in $sel_variants; do [ "$v" = uring ] || echo "$v"; done)
    sel_variants=$(echo $sel_variants)
fi

{
    echo "cpu: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
    echo "cores (nproc): $NPROC"
    echo "kernel: $(uname -sr)"
    gov=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null)
    echo "governor: ${gov:-unknown (no cpufreq interface)}"
    echo "virtualization: $(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | head -1)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "date: $(date -Iseconds)"
    echo "compiler: $(${CC:-cc} --version 2>/dev/null | head -1)"
    echo "hyperfine: $( [ "$HAVE_HYPERFINE" = 1 ] && hyperfine --version || echo 'not found: no wall_s')"
    echo "peers: $(dpkg-query -W -f='${Package} ${Version}, ' libboost-dev libuv1-dev libevent-dev liburing-dev rustc 2>/dev/null)tokio $(ls -d /usr/share/cargo/registry/tokio-1.* 2>/dev/null | sed 's/.*tokio-//' | head -1)"
    echo "mode: $MODE, $RUNS runs of ${T}s per figure (stats builds: $STATS_RUNS runs of ${STATS_T}s)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null) $(git status --porcelain 2>/dev/null | grep -q . && echo '(working tree modified)')"
} > "$OUT/machine.txt"

# ---- steps and progress ------------------------------------------------------
total=0
for w in $sel_workloads; do
    for p in $(params_for "$w"); do
        total=$((total + 2))
        [ "$w" = budget_sweep ] || total=$((total + $(echo $sel_peers | wc -w)))
    done
done
step=0
progress() { step=$((step + 1)); printf '[%d/%d] %s %s %s\n' "$step" "$total" "$1" "$2" "$3"; }

# RESULT lines -> raw rows.  $1 source tag; reads stdin.
to_raw() {
    awk -F, -v src="$1" '$1 == "RESULT" && NF >= 7 {
        printf "%s,%s,%s,%s,%s,%s,%s\n", $2, $3, $4, $5, $6, $7, src }'
}

start_s=$(date +%s)
echo "bench: $MODE mode, results in $OUT"

for w in $sel_workloads; do
    vs=$(variants_for "$w")
    fixed=1
    case "$TIME_BOUND" in *" $w "*) fixed=0 ;; esac
    for p in $(params_for "$w"); do
        tag=$w-$p
        # -- which variants have programs -----------------------------------
        present=""
        for v in $vs; do
            if [ -x "build/$v/bench/$w" ]; then present="$present $v"
            else note "$w $p $v: build/$v/bench/$w missing (did not build; see the make output): no row"; fi
        done
        present=$(echo $present)

        # -- calibration: how much work ref does in T seconds ---------------------
        nargs=""
        if [ "$fixed" = 1 ] && [ -n "$present" ]; then
            calv=ref
            in_list ref "${present// /,}" || calv=${present%% *}
            ops=$(timeout 60 "build/$calv/bench/$w" -p "$p" -t "$T" 2>>"$OUT/logs/$tag-calibration.err" |
                awk -F, '$1 == "RESULT" && $5 == "ops" { print $7 }')
            if [ -n "$ops" ] && [ "$ops" -gt 0 ] 2>/dev/null; then
                work=$ops
                swork=$(awk -v o="$ops" -v t="$STATS_T" -v c="$T" 'BEGIN { n = o * t / c; printf "%d", (n < 1 ? 1 : n) }')
                nargs="-n $work"
                echo "$w,$p,$work" >> "$OUT/work.csv"
            else
                note "$w $p: calibration run of $calv failed (see logs/$tag-calibration.err): runs are time-bound, no wall_s"
                fixed=0
            fi
        fi

        # -- variants side by side under hyperfine --------------------------------
        progress "$w" "${present// /,}" "$p"
        if [ -n "$present" ]; then
            cmds=()
            for v in $present; do
                res=$OUT/tmp/$tag-$v.res
                rm -f "$res"
                c="build/$v/bench/$w -p $p -a $res"
                if [ -n "$nargs" ]; then c="$c -t $CAP_T $nargs"; else c="$c -t $T"; fi
                [ "$w" = starvation ] && c="$c -o $OUT/starvation/$v.tsv"
                cmds+=(--command-name "$v" "$c")
            done
            if [ "$HAVE_HYPERFINE" = 1 ]; then
                hyperfine -N -i --style none --warmup 1 --runs "$RUNS" \
                    --export-json "$OUT/hyperfine/$tag.json" "${cmds[@]}" \
                    > "$OUT/logs/$tag-hyperfine.log" 2>&1 ||
                    note "$w $p: hyperfine failed (see logs/$tag-hyperfine.log)"
            else
                # The same runs without hyperfine: a warm-up, then RUNS.
                for ((ci = 1; ci < ${#cmds[@]}; ci += 3)); do
                    for _ in $(seq $((RUNS + 1))); do
                        # shellcheck disable=SC2086
                        ${cmds[ci + 1]} > /dev/null 2>> "$OUT/logs/$tag-${cmds[ci]}.err"
                    done
                done
                note "$w $p: no hyperfine: in-process figures only, no wall_s"
            fi
            for v in $present; do
                res=$OUT/tmp/$tag-$v.res
                # Drop the warm-up block (the first), keep the measured runs.
                got=$(awk '/^RUN / { b++ } END { print b + 0 }' "$res" 2>/dev/null || echo 0)
                awk '/^RUN / { b++; next } b > 1' "$res" 2>/dev/null | to_raw timed >> "$RAW"
                if [ "$got" -lt $((RUNS + 1)) ]; then
                    err=$OUT/logs/$tag-$v.err
                    timeout 60 "build/$v/bench/$w" -p "$p" -t "$T" >/dev/null 2>"$err"
                    note "$w $p $v: $((got > 0 ? got - 1 : 0)) of $RUNS runs gave results (exit codes in hyperfine/$tag.json; a rerun's stderr in logs/$tag-$v.err: $(head -c 200 "$err" | tr '\n' ' '))"
                fi
                if [ -n "$nargs" ]; then
                    short=$(awk '/^RUN / { b++; next } b > 1' "$res" 2>/dev/null |
                        awk -F, -v n="${nargs#-n }" '$5 == "ops" && $7 + 0 < n + 0 { c++ } END { print c + 0 }')
                    [ "$short" -gt 0 ] &&
                        note "$w $p $v: $short run(s) hit the ${CAP_T}s cap before the fixed work was done: its wall_s understates the difference"
                fi
            done
            if [ "$fixed" = 1 ] && [ -s "$OUT/hyperfine/$tag.json" ]; then
                # Each command's "times", kept only if every exit code is 0.
                awk -v w="$w" -v p="$p" -v notes="$NOTES" '
                    /"command":/ { s = $0; sub(/.*"command": *"/, "", s); sub(/".*/, "", s); cmd = s; nt = 0; bad = 0 }
                    /"times":/ { arr = "t"; next }
                    /"exit_codes":/ { arr = "e"; next }
                    arr != "" && /\]/ {
                        if (arr == "e") {
                            if (bad) printf "%s %s %s: %d run(s) failed under hyperfine: no wall_s\n", w, p, cmd, bad >> notes
                            else for (i = 1; i <= nt; i++) printf "%s,%s,%s,wall_s,s,%s,hyperfine\n", w, cmd, p, t[i]
                        }
                        arr = ""; next
                    }
                    arr != "" { v = $0; gsub(/[ ,]/, "", v); if (v == "") next
                                if (arr == "t") t[++nt] = v; else if (v != "0") bad++ }
                ' "$OUT/hyperfine/$tag.json" >> "$RAW"
            fi
        fi

        # -- counters from the stats builds ------------------------------------------
        progress "$w" "${present// /-stats,}-stats" "$p"
        for v in $present; do
            bin=build/$v-stats/bench/$w
            if [ ! -x "$bin" ]; then note "$w $p $v: $bin missing: no counters"; continue; fi
            sargs="-t $STATS_T"
            [ -n "$nargs" ] && sargs="-t $CAP_T -n $swork"
            for _ in $(seq "$STATS_RUNS"); do
                # shellcheck disable=SC2086
                if ! timeout 60 "$bin" -p "$p" $sargs > "$OUT/tmp/stats.out" 2>>"$OUT/logs/$tag-$v-stats.err"; then
                    note "$w $p $v-stats: run failed (logs/$tag-$v-stats.err)"
                    break
                fi
                grep '_per_op,' "$OUT/tmp/stats.out" | to_raw stats >> "$RAW"
            done
        done

        # -- peers and the floor ---------------------------------------------------------
        [ "$w" = budget_sweep ] && continue
        for peer in $sel_peers; do
            progress "$w" "$peer" "$p"
            bin=${BENCH_PEER_DIR:-build/peers}/bench-$peer
            if [ ! -x "$bin" ]; then
                case "$peer" in
                tokio-*) why="needs Debian's Rust toolchain and Tokio: apt-get install cargo rustc librust-tokio-dev" ;;
                floor-uring) why="needs liburing: apt-get install liburing-dev" ;;
                *) why="see the make output, bench/peers/Makefile.inc" ;;
                esac
                note "$w $p $peer: $bin missing (peer not built: $why): no row"
                continue
            fi
            for i in $(seq "$RUNS"); do
                timeout $((${CAP_T%.*} + 20)) "$bin" -w "$w" -p "$p" -t "$T" > "$OUT/tmp/peer.out" 2> "$OUT/tmp/peer.err"
                rc=$?
                if [ "$rc" = 2 ]; then
                    note "$w $p $peer: not implemented by the peer ($(head -1 "$OUT/tmp/peer.err" | cut -c1-160))"
                    break
                elif [ "$rc" != 0 ]; then
                    cp "$OUT/tmp/peer.err" "$OUT/logs/$tag-$peer.err"
                    note "$w $p $peer: run $i failed with status $rc (logs/$tag-$peer.err)"
                    break
                fi
                to_raw timed < "$OUT/tmp/peer.out" >> "$RAW"
            done
        done
    done
done

# ---- summary: mean and Student-t 95% CI per (workload, impl, param, metric) ---
awk -F, -f bench/lib.awk -f bench/summary.awk "$RAW" > "$OUT/summary.csv"

rm -rf "$OUT/tmp"
elapsed=$(( $(date +%s) - start_s ))
{
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "duration: ${elapsed}s of measurement"
} >> "$OUT/machine.txt"

# ---- figures, then the report (which lists them) ------------------------------
if command -v gnuplot >/dev/null; then
    plots/plots.sh "$OUT" || note "plotting failed (plots/plots.sh $OUT; see $OUT/plots/data/gnuplot.log)"
else
    note "gnuplot not found: no figures (make bench installs gnuplot-nox)"
fi
bench/report.sh "$OUT" > "$OUT/report.md" || echo "run.sh: report generation failed" >&2

echo "bench: done in ${elapsed}s: $OUT/summary.csv ($(($(wc -l < "$OUT/summary.csv") - 1)) rows), $OUT/report.md, $(ls "$OUT/plots" 2>/dev/null | grep -c '\.svg$') figures"
[ -s "$NOTES" ] && echo "bench: $(wc -l < "$NOTES") gap(s) noted in $OUT/notes.txt and the report"
exit 0
