#!/usr/bin/env bash
# bench/run.sh - the benchmark driver behind `make bench` and `make compare`
# (bash, awk, jq).
#
# Method: randomized multiple interleaved trials (Abedi & Brecht, ICPE
# 2017).  For each (workload, param):
#   1. calibrate: the base build (ref) runs for BENCH_T seconds to learn how
#      much work fills that time; every kit program then does that fixed
#      work (-n), so hyperfine's whole-process times compare equal work;
#   2. warm up: every implementation runs once, briefly, unmeasured;
#   3. ROUNDS rounds: in each, every implementation of the comparison (the
#      variants, the A/A control ref-aa, the budget-N builds for the budget
#      sweep, and each peer and floor of bench/peers.conf that has the
#      workload) runs once, in a fresh random order drawn from SEED, as one
#      `hyperfine -N --runs 1` invocation; each round's JSON is kept
#      (hyperfine/rounds/) and the rounds are merged into one file per
#      (workload, param) in hyperfine's own format (hyperfine/<tag>.json);
#   4. the stats builds run for the mechanism counters (not timed).
# A change in machine load during a run then lands on every implementation
# alike, and each round is a block: the report's ratios are paired per round.
#
# Writes results/<timestamp>/: raw.csv (every sample, with its round),
# summary.csv (mean and Student-t 95% CI per figure), verdicts.csv (each
# variant against the base: paired ratio, A/A control, verdict, counters),
# order.csv (every round's order), impls.csv, hyperfine/, machine.txt (with
# the seed), notes.txt (every gap, with its reason), report.md and plots/;
# results/latest points there once the run has finished.
#
# Environment: FULL=1 (all sizes and thread counts, more and longer
# rounds), WORKLOAD=, VARIANT=, PEERS= (comma lists; PEERS=none: no peers),
# PARAM= (comma list: only these params), ROUNDS= and BENCH_T= (rounds per
# comparison, seconds per run), SEED= (the trial order of an earlier run:
# see its machine.txt).  make bench passes BENCH_VARIANTS and
# BENCH_BUDGET_VARIANTS (the builds it made).  make compare (bench/compare)
# passes BASE= (the build the others are divided by; default ref), AA= (its
# A/A twin; default <BASE>-aa, `none` for none), BENCH_OUT= (the output
# directory; then results/latest is left alone) and NO_PLOTS=1.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1

# ---- mode ------------------------------------------------------------------
# What the caller set (for the replay line of machine.txt), before defaults.
given_rounds=${ROUNDS:-} given_t=${BENCH_T:-}
if [ -n "${FULL:-}" ] && [ "${FULL}" != 0 ]; then
    MODE=full ROUNDS=${ROUNDS:-20} T=${BENCH_T:-0.3} STATS_RUNS=3 STATS_T=0.3
else
    MODE=quick ROUNDS=${ROUNDS:-10} T=${BENCH_T:-0.1} STATS_RUNS=2 STATS_T=0.1
fi
case "$ROUNDS" in '' | *[!0-9]* | 0 | 1) echo "run.sh: ROUNDS must be a number of at least 2 (got '$ROUNDS')" >&2; exit 2 ;; esac
echo "$T" | grep -Eqx '[0-9]*\.?[0-9]+' && awk -v t="$T" 'BEGIN { exit !(t >= 0.01 && t <= 600) }' ||
    { echo "run.sh: BENCH_T must be seconds from 0.01 to 600 (got '$T')" >&2; exit 2; }
case "${PARAM:-0}" in *[!0-9,]* | ,* | *, | *,,*) echo "run.sh: PARAM must be whole numbers, comma-separated (got '$PARAM')" >&2; exit 2 ;; esac
CAP_T=$(awk -v t="$T" 'BEGIN { c = 5 * t; if (c < 2) c = 2; print c }')
WARM_T=0.05
NPROC=$(nproc 2>/dev/null || echo 1)
BASE=${BASE:-ref}
AA=${AA:-$BASE-aa}
[ "$AA" = none ] && AA=""
if [ -z "${SEED:-}" ]; then
    SEED=$(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 1000000000 ))
fi
case "$SEED" in *[!0-9]*) echo "run.sh: SEED must be a non-negative integer (got '$SEED')" >&2; exit 2 ;; esac
PEERS_CONF=${BENCH_PEERS_CONF:-bench/peers.conf}

HAVE_HYPERFINE=1
if [ "${1:-}" != --params ] && { ! command -v hyperfine >/dev/null || ! command -v jq >/dev/null; }; then
    HAVE_HYPERFINE=0
    echo "run.sh: hyperfine or jq not found (make bench installs them: tools/ensure-deps hyperfine jq):" \
         "running the programs directly, without wall_s" >&2
fi

# The kit's workloads: one program each, bench/<workload>.c.
ALL_WORKLOADS="post_single post_threads post_interleaved post_concurrent post_chain
post_cross_thread pingpong_tcp pingpong_unix pingpong_concurrent throughput_oneway
throughput_twoway timer_schedule_cancel timer_fire timer_concurrent fanout
accept_churn starvation budget_sweep pingpong_threads"
# Workloads quick mode leaves out unless WORKLOAD= names them (its 10
# minutes hold the rest): the multi-thread I/O workload behind upstream
# cd19108, which `make hypotheses` also runs.
FULL_ONLY=" pingpong_threads "
# Workloads that run for a time rather than a fixed amount of work: their
# whole-process time says nothing, so no wall_s or cpu_s row.
TIME_BOUND=" timer_concurrent starvation budget_sweep "

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

if [ -n "${WORKLOAD:-}" ]; then
    for w in ${WORKLOAD//,/ }; do
        case " $(echo $ALL_WORKLOADS) " in *" $w "*) ;; *) echo "run.sh: unknown workload '$w' (known: $(echo $ALL_WORKLOADS))" >&2; exit 2 ;; esac
    done
fi
sel_workloads=""
for w in $ALL_WORKLOADS; do
    if [ -n "${WORKLOAD:-}" ]; then
        in_list "$w" "$WORKLOAD" && sel_workloads="$sel_workloads $w"
    elif [ "$MODE" = full ] || [[ $FULL_ONLY != *" $w "* ]]; then
        sel_workloads="$sel_workloads $w"
    fi
done
sel_variants=""
for v in $variants $budget_variants; do
    if [ -z "${VARIANT:-}" ] || in_list "$v" "$VARIANT"; then sel_variants="$sel_variants $v"; fi
done

# ---- peers: bench/peers.conf ---------------------------------------------------
# PEER_CMD[name], PEER_KIND[name], PEER_WL[name] (" w1 w2 ... "), in file order.
declare -A PEER_CMD PEER_KIND PEER_WL
peer_order=""
if [ -r "$PEERS_CONF" ]; then
    while IFS= read -r line; do
        line=${line%%#*}
        case "$line" in *:*) ;; *) continue ;; esac
        head=${line%%:*}; wl=${line#*:}
        read -r name kind cmd <<< "$head"
        [ -n "$name" ] && [ -n "$cmd" ] || continue
        cmd=$(echo $cmd)
        if [ -z "${PEER_CMD[$name]+x}" ]; then
            peer_order="$peer_order $name"; PEER_CMD[$name]=$cmd; PEER_KIND[$name]=$kind; PEER_WL[$name]=" "
        fi
        PEER_WL[$name]="${PEER_WL[$name]}$(echo $wl) "
    done < "$PEERS_CONF"
fi
sel_peers=""
if [ "${PEERS:-}" != none ]; then
    for p in $peer_order; do
        if [ -z "${PEERS:-}" ] || in_list "$p" "$PEERS"; then sel_peers="$sel_peers $p"; fi
    done
fi
[ -z "$sel_workloads" ] && { echo "run.sh: WORKLOAD='${WORKLOAD:-}' selects nothing" >&2; exit 2; }

# Parameters of each workload in this mode (PARAM= keeps only those given).
pow2_threads() {
    local n=1 out=""
    while [ "$n" -le "$NPROC" ]; do out="$out $n"; n=$((n * 2)); done
    case " $out " in *" $NPROC "*) ;; *) out="$out $NPROC" ;; esac
    echo $out
}
mode_params() {
    case "$1:$MODE" in
    post_threads:*|post_concurrent:*|pingpong_threads:*) pow2_threads ;;
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
# bench/run.sh --params WORKLOAD: the params make bench runs (bench/compare).
if [ "${1:-}" = --params ]; then
    MODE=quick; echo "quick: $(mode_params "${2:-}")"; MODE=full; echo "full: $(mode_params "${2:-}")"
    exit 0
fi
params_for() {
    if [ -n "${PARAM:-}" ]; then echo ${PARAM//,/ }; else mode_params "$1"; fi
}
# The kit builds a workload runs on: budget-N builds only for budget_sweep;
# the A/A control always, right after the base.
variants_for() {
    local v out=""
    for v in $sel_variants; do
        case " $budget_variants " in
        *" $v "*) [ "$1" = budget_sweep ] && out="$out $v" ;;
        *) out="$out $v" ;;
        esac
        [ "$v" = "$BASE" ] && [ -n "$AA" ] && out="$out $AA"
    done
    echo $out
}
# peer_has PEER WORKLOAD [PARAM]: bench/peers.conf lists WORKLOAD for PEER
# (as `workload`, or as `workload@p1,p2` for those params only).
peer_has() {
    local t
    for t in ${PEER_WL[$1]}; do
        [ "$t" = "$2" ] && return 0
        case "$t" in
        "$2@"*) [ -z "${3:-}" ] && return 0; in_list "$3" "${t#*@}" && return 0 ;;
        esac
    done
    return 1
}
peers_for() {
    local q out=""
    [ "$1" = budget_sweep ] && return
    for q in $sel_peers; do
        peer_has "$q" "$1" "$2" && out="$out $q"
    done
    echo $out
}

# ---- output directory --------------------------------------------------------
if [ -n "${BENCH_OUT:-}" ]; then
    OUT=$BENCH_OUT
else
    ts=$(date +%Y%m%d-%H%M%S)
    OUT=results/$ts
    n=1
    while [ -e "$OUT" ]; do OUT=results/$ts-$n; n=$((n + 1)); done
fi
mkdir -p "$OUT/hyperfine/rounds" "$OUT/logs" "$OUT/starvation" "$OUT/tmp"
RAW=$OUT/raw.csv
NOTES=$OUT/notes.txt
ORDER=$OUT/order.csv
echo "workload,impl,param,metric,unit,value,source,round" > "$RAW"
echo "workload,param,round,position,impl" > "$ORDER"
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

# impls.csv: every implementation that may appear, with its kind (the
# report, the figures and compare-runs read it).
{
    echo "impl,kind"
    echo "$BASE,base"
    [ -n "$AA" ] && echo "$AA,aa"
    for v in $sel_variants; do
        [ "$v" = "$BASE" ] && continue
        case " $budget_variants " in *" $v "*) echo "$v,budget" ;; *) echo "$v,variant" ;; esac
    done
    for p in $sel_peers; do echo "$p,${PEER_KIND[$p]}"; done
} > "$OUT/impls.csv"

replay="SEED=$SEED"
for var in FULL WORKLOAD VARIANT PEERS PARAM; do
    [ -n "${!var:-}" ] && replay="$replay $var=${!var}"
done
[ -n "$given_rounds" ] && replay="$replay ROUNDS=$given_rounds"
[ -n "$given_t" ] && replay="$replay BENCH_T=$given_t"
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
    echo "mode: $MODE: randomized interleaved trials, $ROUNDS rounds of ${T}s runs per comparison after a ${WARM_T}s warm-up run of each (stats builds: $STATS_RUNS runs of ${STATS_T}s)"
    echo "base: $BASE; A/A control: ${AA:-none}; the others: $(echo $sel_variants | sed "s/\b$BASE\b *//")"
    echo "seed: $SEED (replay this run's trial order: $replay make bench)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null) $(git status --porcelain 2>/dev/null | grep -q . && echo '(working tree modified)')"
} > "$OUT/machine.txt"

# ---- helpers -------------------------------------------------------------------
# RESULT lines -> raw rows.  $1 source tag, $2 round; reads stdin.
to_raw() {
    awk -F, -v src="$1" -v r="$2" '$1 == "RESULT" && NF >= 7 {
        printf "%s,%s,%s,%s,%s,%s,%s,%s\n", $2, $3, $4, $5, $6, $7, src, r }'
}

# Prints its arguments in a random order drawn from SEED and the label $1
# (so a replay with a smaller selection draws the same order for the same
# workload, param and round).
shuffle() {
    local label=$1; shift
    local a=("$@") i j t
    RANDOM=$(( (SEED + $(printf '%s' "$label" | cksum | cut -d' ' -f1)) % 2147483647 ))
    for ((i = ${#a[@]} - 1; i > 0; i--)); do
        j=$(( RANDOM % (i + 1) ))
        t=${a[i]}; a[i]=${a[j]}; a[j]=$t
    done
    echo "${a[@]}"
}

# The command line of implementation $1 for this (workload, param), its
# figures going to file $2 ($3: "warm" for the warm-up run).  Sets CMD (for
# hyperfine -N) and LINE (the same run as a line for sh -c, for runs made
# without hyperfine).
command_for() {
    local impl=$1 res=$2 warm=${3:-}
    if [ -n "${PEER_CMD[$impl]+x}" ]; then
        local t=$T
        [ -n "$warm" ] && t=$WARM_T
        # The peers print their figures on stdout: hyperfine runs them through sh.
        LINE="exec ${PEER_CMD[$impl]} -w $w -p $p -t $t > $res 2>> $OUT/tmp/$tag-$impl.err"
        CMD="sh -c '$LINE'"
        return
    fi
    CMD="build/$impl/bench/$w -p $p -a $res"
    if [ -n "$warm" ]; then CMD="$CMD -t $WARM_T"
    elif [ -n "$nargs" ]; then CMD="$CMD -t $CAP_T $nargs"
    else CMD="$CMD -t $T"; fi
    [ "$w" = starvation ] && [ -z "$warm" ] && CMD="$CMD -o $OUT/starvation/$impl.tsv"
    LINE="exec $CMD > /dev/null 2>> $OUT/tmp/$tag-$impl.err"
    return 0
}

is_peer() { [ -n "${PEER_CMD[$1]+x}" ]; }

# ---- plan and progress ---------------------------------------------------------
total=0
for w in $sel_workloads; do
    for p in $(params_for "$w"); do total=$((total + 1)); done
done
step=0
start_s=$(date +%s)
echo "bench: $MODE mode, $ROUNDS interleaved rounds per comparison, seed $SEED; results in $OUT"

# Peers asked once why they do not have a workload the kit runs.
for peer in $sel_peers; do
    for w in $sel_workloads; do
        [ "$w" = budget_sweep ] && continue
        peer_has "$peer" "$w" && continue
        bin=${PEER_CMD[$peer]%% *}
        [ -x "$bin" ] || continue
        # shellcheck disable=SC2086
        timeout 20 ${PEER_CMD[$peer]} -w "$w" -t 0.01 > /dev/null 2> "$OUT/tmp/probe.err"
        rc=$?
        if [ "$rc" = 0 ]; then
            note "$w - $peer: the program has $w but $PEERS_CONF does not list it for $peer: not run"
        else
            note "$w - $peer: not implemented by the peer ($(head -1 "$OUT/tmp/probe.err" | cut -c1-300))"
        fi
    done
done
for peer in $sel_peers; do
    bin=${PEER_CMD[$peer]%% *}
    if [ ! -x "$bin" ]; then
        case "$peer" in
        tokio-*) why="needs Debian's Rust toolchain and Tokio: apt-get install cargo rustc librust-tokio-dev" ;;
        floor-uring) why="needs liburing: apt-get install liburing-dev" ;;
        *) why="see the make output, bench/peers/Makefile.inc" ;;
        esac
        note "- - $peer: $bin missing (peer not built: $why): no column"
    fi
done

for w in $sel_workloads; do
    fixed=1
    case "$TIME_BOUND" in *" $w "*) fixed=0 ;; esac
    for p in $(params_for "$w"); do
        tag=$w-$p
        step=$((step + 1))
        pair_start=$(date +%s)
        # -- which implementations have programs ------------------------------------
        impls=()
        for v in $(variants_for "$w"); do
            if [ -x "build/$v/bench/$w" ]; then impls+=("$v")
            else note "$w $p $v: build/$v/bench/$w missing (did not build; see the make output): no row"; fi
        done
        nkit=${#impls[@]}
        for peer in $(peers_for "$w" "$p"); do
            bin=${PEER_CMD[$peer]%% *}
            [ -x "$bin" ] && impls+=("$peer")
        done
        # Peers that have the workload, but not at this param: asked why once.
        for peer in $sel_peers; do
            peer_has "$peer" "$w" && ! peer_has "$peer" "$w" "$p" || continue
            bin=${PEER_CMD[$peer]%% *}
            [ -x "$bin" ] || continue
            # shellcheck disable=SC2086
            timeout 20 ${PEER_CMD[$peer]} -w "$w" -p "$p" -t 0.01 > /dev/null 2> "$OUT/tmp/probe.err"
            note "$w $p $peer: not implemented by the peer at this param ($(head -1 "$OUT/tmp/probe.err" | cut -c1-300))"
        done
        if [ "${#impls[@]}" = 0 ]; then
            printf '[%d/%d] %s %s: nothing to run\n' "$step" "$total" "$w" "$p"
            continue
        fi

        # -- calibration: how much work the base does in T seconds ------------------
        nargs="" swork=""
        pfixed=$fixed
        if [ "$pfixed" = 1 ] && [ "$nkit" -gt 0 ]; then
            calv=$BASE
            [ -x "build/$calv/bench/$w" ] || calv=${impls[0]}
            ops=$(timeout 60 "build/$calv/bench/$w" -p "$p" -t "$T" 2>>"$OUT/logs/$tag-calibration.err" |
                awk -F, '$1 == "RESULT" && $5 == "ops" { print $7 }')
            if [ -n "$ops" ] && [ "$ops" -gt 0 ] 2>/dev/null; then
                nargs="-n $ops"
                swork=$(awk -v o="$ops" -v t="$STATS_T" -v c="$T" 'BEGIN { n = o * t / c; printf "%d", (n < 1 ? 1 : n) }')
                echo "$w,$p,$ops" >> "$OUT/work.csv"
            else
                note "$w $p: calibration run of $calv failed (see logs/$tag-calibration.err): runs are time-bound, no wall_s"
                pfixed=0
            fi
        fi
        printf '[%d/%d] %s %s: %d implementations x %d rounds ' "$step" "$total" "$w" "$p" "${#impls[@]}" "$ROUNDS"

        # -- warm-up: each program once, briefly, not measured ----------------------
        for impl in $(shuffle "$tag/warm-up" "${impls[@]}"); do
            command_for "$impl" /dev/null warm
            timeout 30 sh -c "$LINE"
        done
        rm -f "$OUT/tmp/$tag-"*.err
        # -- rounds: every implementation once, in a fresh random order -------------
        declare -A failed_runs=()
        for ((r = 1; r <= ROUNDS; r++)); do
            order=$(shuffle "$tag/$r" "${impls[@]}")
            cmds=() lines=()
            pos=0
            for impl in $order; do
                pos=$((pos + 1))
                echo "$w,$p,$r,$pos,$impl" >> "$ORDER"
                res=$OUT/tmp/$tag-$impl.r$r.res
                rm -f "$res"
                command_for "$impl" "$res"
                cmds+=(--command-name "$impl" "$CMD")
                lines+=("$LINE")
            done
            if [ "$HAVE_HYPERFINE" = 1 ]; then
                hyperfine -N -i --style none --warmup 0 --runs 1 \
                    --export-json "$OUT/hyperfine/rounds/$tag-r$r.json" "${cmds[@]}" \
                    >> "$OUT/logs/$tag-hyperfine.log" 2>&1 ||
                    note "$w $p: hyperfine failed in round $r (see logs/$tag-hyperfine.log)"
            else
                for line in "${lines[@]}"; do timeout $((${CAP_T%.*} + 30)) sh -c "$line"; done
            fi
            for impl in "${impls[@]}"; do
                res=$OUT/tmp/$tag-$impl.r$r.res
                if grep -q '^RESULT,' "$res" 2>/dev/null; then
                    to_raw timed "$r" < "$res" >> "$RAW"
                else
                    failed_runs[$impl]="${failed_runs[$impl]:-} $r"
                fi
            done
            printf '.'
        done

        # -- runs that gave nothing, and runs that hit the time cap -----------------
        for impl in "${impls[@]}"; do
            if [ -n "${failed_runs[$impl]:-}" ]; then
                err=$OUT/logs/$tag-$impl.err
                if is_peer "$impl"; then
                    cp "$OUT/tmp/$tag-$impl.err" "$err" 2>/dev/null
                else
                    timeout 60 "build/$impl/bench/$w" -p "$p" -t "$T" >/dev/null 2>"$err"
                fi
                note "$w $p $impl: no figures from round(s)${failed_runs[$impl]} of $ROUNDS (exit codes in hyperfine/$tag.json; stderr in logs/$tag-$impl.err: $(head -c 200 "$err" 2>/dev/null | tr '\n' ' '))"
            fi
            if [ -n "$nargs" ] && ! is_peer "$impl"; then
                short=$(cat "$OUT/tmp/$tag-$impl".r*.res 2>/dev/null |
                    awk -F, -v n="${nargs#-n }" '$1 == "RESULT" && $5 == "ops" && $7 + 0 < n + 0 { c++ } END { print c + 0 }')
                [ "$short" -gt 0 ] &&
                    note "$w $p $impl: $short run(s) hit the ${CAP_T}s cap before the fixed work was done: its wall_s understates the difference"
            fi
        done
        unset failed_runs

        # -- merge the rounds' hyperfine JSON into one file in hyperfine's format -----
        jsons=()
        for ((r = 1; r <= ROUNDS; r++)); do
            [ -s "$OUT/hyperfine/rounds/$tag-r$r.json" ] && jsons+=("$OUT/hyperfine/rounds/$tag-r$r.json")
        done
        if [ "$HAVE_HYPERFINE" = 1 ] && [ "${#jsons[@]}" -gt 0 ]; then
            jq -n --arg order "${impls[*]}" -f bench/hfmerge.jq "${jsons[@]}" \
                > "$OUT/hyperfine/$tag.json" 2>> "$OUT/logs/$tag-hyperfine.log" ||
                note "$w $p: merging the rounds' JSON failed (logs/$tag-hyperfine.log)"
            if [ "$pfixed" = 1 ] && [ -s "$OUT/hyperfine/$tag.json" ]; then
                # wall_s and cpu_s for the kit's programs (the peers run for a
                # time), runs whose exit code is 0 only.
                jq -r --arg w "$w" --arg p "$p" --arg skip " $sel_peers " -f bench/hfraw.jq \
                    "$OUT/hyperfine/$tag.json" >> "$RAW"
            fi
        fi

        # -- counters from the stats builds -------------------------------------------
        for v in $(shuffle "$tag/stats" "${impls[@]:0:$nkit}"); do
            bin=build/$v-stats/bench/$w
            if [ ! -x "$bin" ]; then note "$w $p $v: $bin missing: no counters"; continue; fi
            sargs="-t $STATS_T"
            [ -n "$swork" ] && sargs="-t $CAP_T -n $swork"
            for ((i = 1; i <= STATS_RUNS; i++)); do
                # shellcheck disable=SC2086
                if ! timeout 60 "$bin" -p "$p" $sargs > "$OUT/tmp/stats.out" 2>>"$OUT/logs/$tag-$v-stats.err"; then
                    note "$w $p $v-stats: run failed (logs/$tag-$v-stats.err)"
                    break
                fi
                grep '_per_op,' "$OUT/tmp/stats.out" | to_raw stats "$i" >> "$RAW"
            done
        done
        printf ' %ds\n' $(( $(date +%s) - pair_start ))
    done
done

# ---- summary, verdicts ----------------------------------------------------------
awk -F, -f bench/lib.awk -f bench/summary.awk "$RAW" > "$OUT/summary.csv"
rm -rf "$OUT/tmp"
elapsed=$(( $(date +%s) - start_s ))
{
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "duration: ${elapsed}s of measurement"
} >> "$OUT/machine.txt"
bench/verdicts.sh "$OUT" || echo "run.sh: computing the verdicts failed" >&2

# ---- figures, then the report (which lists them) ------------------------------
if [ -n "${NO_PLOTS:-}" ]; then
    :
elif command -v gnuplot >/dev/null; then
    plots/plots.sh "$OUT" || note "plotting failed (plots/plots.sh $OUT; see $OUT/plots/data/gnuplot.log)"
else
    note "gnuplot not found: no figures (make bench installs gnuplot-nox)"
fi
bench/report.sh "$OUT" > "$OUT/report.md" || echo "run.sh: report generation failed" >&2
# Only a finished run becomes results/latest (make plots, compare-runs).
[ -z "${BENCH_OUT:-}" ] && ln -sfn "$(basename "$OUT")" results/latest

echo "bench: done in ${elapsed}s: $OUT/summary.csv ($(($(wc -l < "$OUT/summary.csv") - 1)) rows), $OUT/report.md, $(ls "$OUT/plots" 2>/dev/null | grep -c '\.svg$') figures"
[ -s "$NOTES" ] && echo "bench: $(wc -l < "$NOTES") gap(s) noted in $OUT/notes.txt and the report"
exit 0
