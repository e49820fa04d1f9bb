#!/usr/bin/env bash
# run.sh: verifies the wake-protocol model (wake.pml) with spin and checks
# every outcome against what is expected of it: the reference and
# no-private-queue keep every property, no-sentinel keeps safety but starves
# a timer under a handler storm, and two deliberately weak versions (a lost
# eventfd write; the timer hook's store passing its load under TSO) must
# fail.  One line per check, then "N passed, M failed"; the exit status is
# non-zero when any outcome differs from its expectation.
#
# Usage: tests/model/run.sh [SCRATCH_DIR]
#   Everything generated (pan.c, pan, trails) goes to SCRATCH_DIR, or to a
#   fresh mktemp -d directory that is removed at the end.  The source tree
#   is never written.
#   ONLY=regex runs only the checks whose names match.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model="$here/wake.pml"

for tool in spin gcc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: '$tool' not found (Debian: apt-get install $tool)" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done

if [ $# -ge 1 ] && [ -n "$1" ]; then
    scratch=$1
    mkdir -p "$scratch" || exit 1
    own_scratch=0
else
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/wake-model.XXXXXX") || exit 1
    own_scratch=1
fi
case "$(cd "$scratch" && pwd)/" in
"$here"/*) echo "run.sh: scratch dir must be outside $here" >&2; exit 1 ;;
esac
[ "$own_scratch" = 1 ] && trap 'rm -rf "$scratch"' EXIT

# pan's limits: 3.8 GB of memory, 5 minutes per run, a DFS stack deep
# enough for the storm scenario.
PAN_CFLAGS="-O2 -w -DMEMLIM=3800 -DCOLLAPSE -DNFAIR=3"
PAN_DEPTH=200000
PAN_TIMEOUT=300

passed=0
failed=0

# value NAME FILE: the number pan printed before "NAME" (e.g. "states, stored")
value() {
    awk -v key="$1" 'index($0, key) { print $1; exit }' "$2"
}

# Replays a counterexample and prints a few indented lines: how long the
# trail is, which scheduler events happen in the prefix and in the cycle,
# and where the state ends.
summarize_trail() {
    local dir=$1 defs=$2 replay
    replay="$dir/replay.txt"
    (cd "$dir" && spin $defs -t wake.pml >"$replay" 2>&1)
    awk '
        /trail ends after/ { steps = $5 }
        /START OF CYCLE/ { incycle = 1; next }
        /^ +(T[0-9]+ |the timer)/ {
            line = $0
            sub(/^ +/, "", line)
            gsub(/T[0-9]+ /, "T ", line)
            if (incycle) { if (!(line in cyc)) corder[++nc] = line; cyc[line]++ }
            else { if (!(line in pre)) porder[++np] = line; pre[line]++ }
        }
        END {
            printf "      trail: %d steps%s\n", steps, (incycle ? " (prefix, then one turn of a cycle that repeats for ever)" : ", to the failing state")
            out = ""
            for (i = 1; i <= np; i++) out = out sprintf("%s x%d; ", porder[i], pre[porder[i]])
            if (out != "") printf "      prefix (first seen first): %s\n", out
            if (incycle) {
                out = ""
                for (i = 1; i <= nc; i++) out = out sprintf("%s x%d; ", corder[i], cyc[corder[i]])
                printf "      cycle: %s\n", (out == "" ? "no scheduler event (every thread stuck)" : out)
            }
        }' "$replay"
    awk '
        /^[ \t]+(task_running|task_interrupted|timerfd_stale|tfd_programmed|tfd_ready|timer_done|outstanding|stopped|in_reactor) = / {
            gsub(/[ \t]/, "", $0); s = s $0 " "
        }
        END { if (s != "") printf "      final: %s\n", s }' "$replay"
    # Where each thread stands at the end: its next statement (past the
    # "atomic {" / "if" that opens it).
    awk -v src="$model" '
        BEGIN { while ((getline l < src) > 0) text[++n] = l }
        /^[ \t]*[0-9]+:[ \t]+proc +[0-9]+ \((worker|clock|arm|poster):/ && /wake\.pml:[0-9]+/ {
            if ($0 ~ /valid end state/) next
            match($0, /\((worker|clock|arm|poster):/); who = substr($0, RSTART + 1, RLENGTH - 2)
            match($0, /wake\.pml:[0-9]+/); ln = substr($0, RSTART + 9, RLENGTH - 9) + 0
            for (i = ln; i <= n; i++) {
                t = text[i]; gsub(/^[ \t]+|[ \t]+$/, "", t)
                if (t !~ /^(atomic \{|\{|if|do|\/\*.*\*\/)?$/) break
            }
            printf "      at end: %-6s wake.pml:%d  %s\n", who, i, t
        }' "$replay"
}

# check NAME EXPECT PROPERTY "SPIN_DEFINES" "what it shows"
#   EXPECT   holds | cycle (an acceptance cycle) | deadlock (invalid end state)
#            | assertion (an assertion violated)
#   PROPERTY safety | all_run | timer_served
check() {
    local name=$1 expect=$2 prop=$3 defs=$4 what=$5
    local dir="$scratch/$name" out verdict got stored explored depth secs

    if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$model" "$dir/wake.pml"
    out="$dir/pan.out"

    if ! (cd "$dir" && spin $defs -a wake.pml >spin.out 2>&1); then
        printf 'FAIL  %-22s spin -a failed (%s/spin.out)\n' "$name" "$dir"
        failed=$((failed + 1))
        return
    fi
    if [ "$prop" = safety ]; then
        (cd "$dir" && gcc $PAN_CFLAGS -DSAFETY -DNOCLAIM -o pan pan.c) >"$dir/gcc.out" 2>&1 &&
            (cd "$dir" && timeout "$PAN_TIMEOUT" ./pan -m$PAN_DEPTH) >"$out" 2>&1
    else
        (cd "$dir" && gcc $PAN_CFLAGS -o pan pan.c) >"$dir/gcc.out" 2>&1 &&
            (cd "$dir" && timeout "$PAN_TIMEOUT" ./pan -m$PAN_DEPTH -a -f -N "$prop") >"$out" 2>&1
    fi

    # What did pan find?
    if grep -q 'max search depth too small' "$out"; then
        got=incomplete
    elif grep -q 'errors: 0' "$out"; then
        got=holds
    elif grep -Eq '^pan:[0-9]+: acceptance cycle' "$out"; then
        got=cycle
    elif grep -Eq '^pan:[0-9]+: invalid end state' "$out"; then
        got=deadlock
    elif grep -Eq '^pan:[0-9]+: assertion violated' "$out"; then
        got=assertion
    elif grep -q 'errors:' "$out"; then
        got="error: $(grep -E '^pan:' "$out" | head -1)"
    else
        got="no result (see $out)"
    fi

    stored=$(value 'states, stored' "$out")
    explored=$(value 'transitions (=' "$out")
    depth=$(grep -o 'depth reached [0-9]*' "$out" | awk '{ print $3 }')
    secs=$(grep -o 'elapsed time [0-9.e+-]*' "$out" | awk '{ print $3 }')

    if [ "$got" = "$expect" ]; then
        verdict=PASS
        passed=$((passed + 1))
    else
        verdict=FAIL
        failed=$((failed + 1))
    fi
    printf '%s  %-22s %-9s expected %-8s got %-8s stored %9s  explored %10s  depth %6s  %6ss  %s\n' \
        "$verdict" "$name" "$prop" "$expect" "$got" "${stored:--}" "${explored:--}" \
        "${depth:--}" "${secs:--}" "$what"
    if [ "$got" = assertion ]; then
        printf '      %s\n' "$(grep -Eo 'assertion violated .*\(at depth' "$out" | head -1 | sed 's/ (at depth$//')"
    fi
    if [ "$got" = cycle ] || [ "$got" = deadlock ] || [ "$got" = assertion ]; then
        if [ -f "$dir/wake.pml.trail" ]; then
            summarize_trail "$dir" "$defs"
        fi
    fi
}

echo "wake.pml model checks (spin $(spin -V | awk '{ print $3 }'), scratch: $scratch)"

# The reference protocol: safety (assertions, no invalid end state) and
# liveness (every posted op runs, every worker returns) for 1, 2, 3 workers.
check ref-safety-nw1        holds    safety   "-DNW=1"                        "REF, 1 worker"
check ref-safety-nw2        holds    safety   "-DNW=2"                        "REF, 2 workers"
check ref-safety-nw3        holds    safety   "-DNW=3"                        "REF, 3 workers"
check ref-live-nw1          holds    all_run  "-DNW=1"                        "REF, 1 worker"
check ref-live-nw2          holds    all_run  "-DNW=2"                        "REF, 2 workers"
check ref-live-nw3          holds    all_run  "-DNW=3 -DNEXT=1"               "REF, 3 workers, 1 outside post"

# The ablations on the bounded scenario.
check npq-safety-nw1        holds    safety   "-DNO_PRIVATE_QUEUE -DNW=1"     "NO_PRIVATE_QUEUE, 1 worker"
check npq-safety-nw2        holds    safety   "-DNO_PRIVATE_QUEUE -DNW=2"     "NO_PRIVATE_QUEUE, 2 workers"
check npq-live-nw1          holds    all_run  "-DNO_PRIVATE_QUEUE -DNW=1"     "NO_PRIVATE_QUEUE, 1 worker"
check npq-live-nw2          holds    all_run  "-DNO_PRIVATE_QUEUE -DNW=2"     "NO_PRIVATE_QUEUE, 2 workers"
check ns-safety-nw1         holds    safety   "-DNO_SENTINEL -DNW=1"          "NO_SENTINEL, 1 worker"
check ns-safety-nw2         holds    safety   "-DNO_SENTINEL -DNW=2"          "NO_SENTINEL, 2 workers"
check ns-live-nw2           holds    all_run  "-DNO_SENTINEL -DNW=2"          "NO_SENTINEL, bounded posts: no starvation"

# A handler storm that never ends and one timer expiry: the sentinel gets
# the timer served, without it the timer starves.
check ref-storm-nw1         holds    timer_served "-DSTORM -DNW=1"            "REF storm, 1 worker"
check ref-storm-nw2         holds    timer_served "-DSTORM -DNW=2"            "REF storm, 2 workers"
check ref-storm-nw3         holds    timer_served "-DSTORM -DNW=3"            "REF storm, 3 workers"
check npq-storm-nw2         holds    timer_served "-DSTORM -DNO_PRIVATE_QUEUE -DNW=2" "NO_PRIVATE_QUEUE storm"
check ns-storm-safety-nw2   holds    safety   "-DSTORM -DNO_SENTINEL -DNW=2"  "NO_SENTINEL storm: no deadlock"
check ns-storm-nw1          cycle    timer_served "-DSTORM -DNO_SENTINEL -DNW=1" "NO_SENTINEL storm starves the timer"
check ns-storm-nw2          cycle    timer_served "-DSTORM -DNO_SENTINEL -DNW=2" "NO_SENTINEL storm starves the timer"

# Arming the only timer from another thread: fine when the hook's store and
# load stay in order (SC), lost when the load passes the store (TSO).
check arm-sc-safety-nw2     holds    safety   "-DTIMER_ARM -DNW=2"            "timer armed from outside, SC"
check arm-sc-live-nw2       holds    all_run  "-DTIMER_ARM -DNW=2"            "timer armed from outside, SC"
check arm-tso-safety-nw1    deadlock safety   "-DTIMER_ARM -DTSO -DNW=1"      "store->load reordering in the hook"
check arm-tso-live-nw2      cycle    all_run  "-DTIMER_ARM -DTSO -DNW=2"      "store->load reordering in the hook"

# Upstream's timer wait counts its work after inserting the waiter; from a
# thread outside run() the count can reach zero (and run() return) while
# that thread still holds a work guard.
check arm-late-count-nw1    assertion safety  "-DTIMER_ARM -DWAIT_COUNT_LATE -DNW=1" "work_started after insert_waiter"

# Sanity: the checks can fail.  Dropping the wake policy's eventfd write
# must leave a lone worker asleep in epoll_wait with work queued.
check broken-wake-nw1       deadlock safety   "-DBROKEN_WAKE -DNW=1"          "mutant: no eventfd write"
check broken-wake-live-nw1  cycle    all_run  "-DBROKEN_WAKE -DNW=1"          "mutant: no eventfd write"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
