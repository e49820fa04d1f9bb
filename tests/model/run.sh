#!/usr/bin/env bash
# run.sh: verifies the wake-protocol model (wake.pml) with spin and checks
# every outcome against what is expected of it: the fixed reference protocol
# and its ablations keep every property in every worker mode and scenario;
# the unfixed exit paths, upstream's cascade under the work-conservation
# scenario, no-sentinel under a storm, and a list of seeded bugs must each
# give a counterexample.  One line per check, then "N passed, M failed"; the
# exit status is non-zero when any outcome differs from its expectation, in
# either direction.
#
# Usage: tests/model/run.sh [SCRATCH_DIR]
#   Everything generated (pan.c, pan, trails) goes to SCRATCH_DIR, or to a
#   fresh mktemp -d directory that is removed at the end.  The source tree
#   is never written.
#   ONLY=regex runs only the checks whose names match.
#   JOBS=n runs n checks at a time (default 2).
#   PAN_OPT=-O2 compiles pan with optimisation (default -O0: on these
#   state spaces compiling dominates, and -O0 compiles eight times faster).
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

# pan's limits: 1.5 GB of memory, 5 minutes per run, a DFS stack deep
# enough for the storm scenario.
PAN_CFLAGS="${PAN_OPT:--O0} -w -DMEMLIM=1500 -DCOLLAPSE -DNFAIR=3"
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
        /^[ \t]+(task_running|task_interrupted|timerfd_stale|tfd_set|tfd_ready|tdone|user_run|outstanding|stopped|in_reactor|state_) = / {
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

# run_check NAME EXPECT PROPERTY "SPIN_DEFINES" "what it shows"
#   EXPECT   holds | cycle (an acceptance cycle) | deadlock (invalid end state)
#            | assertion (an assertion violated) | refused (the model's #error
#            turns these settings down: spin -a fails on it)
#   PROPERTY safety | all_run | timer_served
# Prints the check's line (PASS or FAIL first) and, for a counterexample,
# a summary of its trail.
run_check() {
    local name=$1 expect=$2 prop=$3 defs=$4 what=$5
    local dir="$scratch/$name" out verdict got stored explored depth secs

    out="$dir/pan.out"
    if ! (cd "$dir" && spin $defs -a wake.pml >spin.out 2>&1); then
        if [ "$expect" = refused ] && grep -q '#error' "$dir/spin.out"; then
            printf 'PASS  %-30s %-12s expected %-9s got %-9s %s: %s\n' "$name" "$prop" \
                "$expect" refused "$what" "$(grep -o '#error.*' "$dir/spin.out" | head -1)"
        else
            printf 'FAIL  %-30s spin -a failed (%s/spin.out)\n' "$name" "$dir"
        fi
        return
    fi
    if [ "$expect" = refused ]; then
        printf 'FAIL  %-30s %-12s expected %-9s got %-9s %s\n' "$name" "$prop" \
            "$expect" accepted "$what"
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
    else
        verdict=FAIL
    fi
    printf '%s  %-30s %-12s expected %-9s got %-9s stored %8s  explored %9s  depth %5s  %6ss  %s\n' \
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

# check NAME EXPECT PROPERTY "SPIN_DEFINES" "what it shows": queues the
# check; at most $JOBS run at once, and the lines come out in list order.
names=()
check() {
    local name=$1 dir="$scratch/$1"
    if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$model" "$dir/wake.pml"
    names+=("$name")
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n
    done
    run_check "$@" >"$dir/result.txt" 2>&1 &
}

JOBS=${JOBS:-2}
started=$(date +%s)
echo "wake.pml model checks (spin $(spin -V | awk '{ print $3 }'), scratch: $scratch, $JOBS at a time)"

# ---- The fixed reference protocol, every worker in run() -----------------
# Safety (assertions, no invalid end state) and liveness (every posted op
# and timer handler runs, every run() returns), 1 to 3 workers.
check ref-safety-nw1            holds     safety   "-DNW=1"                         "REF, 1 worker"
check ref-safety-nw2            holds     safety   "-DNW=2"                         "REF, 2 workers"
check ref-safety-nw3            holds     safety   "-DNW=3 -DNEXT=1 -DNCHILD=0"     "REF, 3 workers, 1 post"
check ref-live-nw1              holds     all_run  "-DNW=1"                         "REF, 1 worker"
check ref-live-nw2              holds     all_run  "-DNW=2 -DNEXT=1 -DNCHILD=1"     "REF, 2 workers, 1 post + 1 child"

# ---- Worker modes: worker 1 calls run_one, wait_one (deadline), poll or
# poll_one once, worker 2 calls run().  The fixed exit rule hands on what
# the one-shot call leaves queued.
check mode-run_one-safety       holds     safety   "-DNW=2 -DMODE1=MODE_RUN_ONE -DNCHILD=1"  "run_one beside run"
check mode-wait_one-safety      holds     safety   "-DNW=2 -DMODE1=MODE_WAIT_ONE -DNCHILD=1" "wait_one beside run"
check mode-poll-safety          holds     safety   "-DNW=2 -DMODE1=MODE_POLL -DNCHILD=1"     "poll beside run"
check mode-poll_one-safety      holds     safety   "-DNW=2 -DMODE1=MODE_POLL_ONE -DNCHILD=1" "poll_one beside run"
check mode-run_one-live         holds     all_run  "-DNW=2 -DMODE1=MODE_RUN_ONE -DNEXT=1 -DNCHILD=1"  "run_one beside run"
check mode-wait_one-live        holds     all_run  "-DNW=2 -DMODE1=MODE_WAIT_ONE -DNEXT=1 -DNCHILD=1" "wait_one beside run"
check mode-poll-live            holds     all_run  "-DNW=2 -DMODE1=MODE_POLL -DNEXT=1 -DNCHILD=1"     "poll beside run"
check mode-poll_one-live        holds     all_run  "-DNW=2 -DMODE1=MODE_POLL_ONE -DNEXT=1 -DNCHILD=1" "poll_one beside run"
check mode-wait_one-timers      holds     safety   "-DNW=2 -DMODE1=MODE_WAIT_ONE -DNEXT=0 -DNTIMER=2 -DREARM=1" "wait_one, 2 timers re-armed"
check mode-wait_one-nw3         holds     safety   "-DNW=3 -DMODE1=MODE_WAIT_ONE -DMODE2=MODE_POLL_ONE -DNEXT=0" "wait_one + poll_one beside run, a timer"

# ---- The exit paths of issue 10 item 3, unfixed (upstream 6e759c2 and ref
# before the fix): each strands work.  The fixed protocol holds (above).
check exit-run_one-upstream     deadlock  safety   "-DNW=2 -DMODE1=MODE_RUN_ONE -DUPSTREAM_EXIT"  "work posted from run_one strands"
check exit-run_one-upstream-live cycle    all_run  "-DNW=2 -DMODE1=MODE_RUN_ONE -DUPSTREAM_EXIT -DNEXT=1 -DNCHILD=1" "work posted from run_one strands"
check exit-poll_one-upstream    deadlock  safety   "-DNW=2 -DMODE1=MODE_POLL_ONE -DUPSTREAM_EXIT" "private work spliced at exit, no wake"
check exit-wait_one-upstream    deadlock  safety   "-DNW=2 -DMODE1=MODE_WAIT_ONE -DUPSTREAM_EXIT -DNEXT=0" "sentinel back after a timed pass, waiter asleep"
check exit-wait_one-fixed       holds     safety   "-DNW=2 -DMODE1=MODE_WAIT_ONE -DNEXT=0" "same scenario, exit rule"
check exit-poll-upstream        deadlock  safety   "-DNW=2 -DMODE1=MODE_POLL -DUPSTREAM_EXIT -DNEXT=1 -DNCHILD=0" "sentinel back after a zero pass, waiter asleep"
check unfixed-run_one           deadlock  safety   "-DNW=2 -DMODE1=MODE_RUN_ONE -DUNFIXED" "the whole unfixed protocol"
check wait_one-early-upstream   assertion safety   "-DNW=2 -DMODE1=MODE_WAIT_ONE -DUPSTREAM_WAIT_ONE" "wait_one returns 0 after a reactor wake-up"
check poll-ready-poll           holds     safety   "-DNW=1 -DPOLL_READY -DMODE1=MODE_POLL"      "poll runs an expired timer"
check poll-ready-poll_one       holds     safety   "-DNW=1 -DPOLL_READY -DMODE1=MODE_POLL_ONE"  "poll_one runs an expired timer"
check poll-ready-poll-upstream  assertion safety   "-DNW=1 -DPOLL_READY -DMODE1=MODE_POLL -DUPSTREAM_POLL"     "poll never runs the reactor"
check poll-ready-poll_one-upstream assertion safety "-DNW=1 -DPOLL_READY -DMODE1=MODE_POLL_ONE -DUPSTREAM_POLL" "poll_one never runs the reactor"

# ---- Work conservation: a handler that returns only after all the others
# have run, so one thread cannot do all the work.
check wc-after-nw2              holds     safety   "-DNW=2 -DWC -DWC_AFTER"         "blocker, other posts after it started"
check wc-after-live-nw2         holds     all_run  "-DNW=2 -DWC -DWC_AFTER"         "blocker, other posts after it started"
check wc-timers-nw2             holds     safety   "-DNW=2 -DWC_TIMERS"             "timer 0 waits for timer 1"
check wc-timers-live-nw2        holds     all_run  "-DNW=2 -DWC_TIMERS"             "timer 0 waits for timer 1"
check wc-free-nw2               deadlock  safety   "-DNW=2 -DWC"                    "upstream cascade: a backlog left to one thread"
check asio-cascade-wc-free-nw2  holds     safety   "-DNW=2 -DWC -DASIO_CASCADE"     "Asio's cascade through the wake policy"
check asio-cascade-safety-nw2   holds     safety   "-DNW=2 -DASIO_CASCADE -DNCHILD=1" "Asio's cascade, default scenario"
check gated-stop-safety-nw2     holds     safety   "-DNW=2 -DGATED_STOP -DNCHILD=1" "Asio's gated stop"
check gated-stop-live-nw2       holds     all_run  "-DNW=2 -DGATED_STOP -DNEXT=1 -DNCHILD=1" "Asio's gated stop"

# ---- Timers: two timers, re-armed from their handlers; timers armed from
# an outside thread while posts go on.
check timers-rearm-nw1          holds     safety   "-DNW=1 -DNTIMER=2 -DREARM=1"    "2 timers re-armed once, posts"
check timers-rearm-nw2          holds     safety   "-DNW=2 -DNTIMER=2 -DREARM=1 -DNEXT=0" "2 timers re-armed once"
check timers-rearm-live-nw2     holds     all_run  "-DNW=2 -DNTIMER=1 -DREARM=1 -DNEXT=0" "a timer re-armed once"
check arm-nw2                   holds     safety   "-DNW=2 -DTIMER_ARM -DNEXT=1 -DNCHILD=0" "timer armed from outside, a post meanwhile"
check arm-live-nw2              holds     all_run  "-DNW=2 -DTIMER_ARM -DNEXT=0"    "timer armed from outside"
check arm-rearm-nw1             holds     safety   "-DNW=1 -DTIMER_ARM -DNTIMER=2 -DREARM=1 -DNEXT=1 -DNCHILD=0" "2 timers armed from outside, re-armed"

# ---- The ablations.
check npq-safety-nw2            holds     safety   "-DNO_PRIVATE_QUEUE -DNW=2 -DNCHILD=1" "NO_PRIVATE_QUEUE, 2 workers"
check npq-live-nw1              holds     all_run  "-DNO_PRIVATE_QUEUE -DNW=1"      "NO_PRIVATE_QUEUE, 1 worker"
check npq-run_one-safety        holds     safety   "-DNO_PRIVATE_QUEUE -DNW=2 -DMODE1=MODE_RUN_ONE" "NO_PRIVATE_QUEUE, run_one"
check ns-safety-nw2             holds     safety   "-DNO_SENTINEL -DNW=2"           "NO_SENTINEL, 2 workers"
check ns-live-nw2               holds     all_run  "-DNO_SENTINEL -DNW=2 -DNEXT=1"  "NO_SENTINEL, bounded posts: no starvation"
check ns-wait_one-safety        holds     safety   "-DNO_SENTINEL -DNW=2 -DMODE1=MODE_WAIT_ONE" "NO_SENTINEL, wait_one"
check ns-poll-safety            holds     safety   "-DNO_SENTINEL -DNW=2 -DMODE1=MODE_POLL -DNEXT=1" "NO_SENTINEL, poll"
check ns-poll-ready-poll_one    holds     safety   "-DNO_SENTINEL -DNW=1 -DPOLL_READY -DMODE1=MODE_POLL_ONE" "NO_SENTINEL, poll_one runs an expired timer"
check ns-exit-wait_one-upstream deadlock  safety   "-DNO_SENTINEL -DNW=2 -DMODE1=MODE_WAIT_ONE -DUPSTREAM_EXIT -DNEXT=0" "NO_SENTINEL: timed reactor left, waiter asleep"

# ---- A handler storm that never ends and one timer: the sentinel gets the
# timer served, without it the timer starves.
check ref-storm-nw1             holds     timer_served "-DSTORM -DNW=1"             "REF storm, 1 worker"
check ref-storm-nw2             holds     timer_served "-DSTORM -DNW=2"             "REF storm, 2 workers"
check ref-storm-nw3             holds     timer_served "-DSTORM -DNW=3"             "REF storm, 3 workers"
check npq-storm-nw2             holds     timer_served "-DSTORM -DNO_PRIVATE_QUEUE -DNW=2" "NO_PRIVATE_QUEUE storm"
check ns-storm-safety-nw2       holds     safety   "-DSTORM -DNO_SENTINEL -DNW=2"   "NO_SENTINEL storm: no deadlock"
check ns-storm-nw1              cycle     timer_served "-DSTORM -DNO_SENTINEL -DNW=1" "NO_SENTINEL storm starves the timer"
check ns-storm-nw2              cycle     timer_served "-DSTORM -DNO_SENTINEL -DNW=2" "NO_SENTINEL storm starves the timer"

# ---- Seeded bugs: each must give a counterexample, or the model has lost
# the power to see it.
check bug-no-efd-write-nw1      deadlock  safety   "-DNW=1 -DBUG_NO_EFD_WRITE"      "wake policy drops the eventfd write"
check bug-no-efd-write-live-nw1 cycle     all_run  "-DNW=1 -DBUG_NO_EFD_WRITE"      "wake policy drops the eventfd write"
check bug-no-efd-write-wc-nw2   deadlock  safety   "-DNW=2 -DWC -DWC_AFTER -DBUG_NO_EFD_WRITE" "... seen with 2 workers"
check bug-no-waiter-count       deadlock  safety   "-DNW=2 -DWC_TIMERS -DBUG_NO_WAITER_COUNT" "waiters never counted in state"
check bug-no-cascade            deadlock  safety   "-DNW=2 -DWC_TIMERS -DBUG_NO_CASCADE" "no cascading signal"
check bug-armed-early           deadlock  safety   "-DNW=1 -DBUG_ARMED_EARLY"       "armed flag cleared before the eventfd read"
check bug-stop-no-signal-all    deadlock  safety   "-DNW=2 -DBUG_STOP_NO_SIGNAL_ALL" "stop without signal_all"
check bug-stop-signal-one       deadlock  safety   "-DNW=3 -DNEXT=1 -DBUG_STOP_SIGNAL_ONE" "stop wakes one condvar waiter only"
check bug-post-no-signal        deadlock  safety   "-DNW=2 -DBUG_POST_NO_SIGNAL"    "a post never signals a condvar waiter"
check bug-reactor-blocks        deadlock  safety   "-DNW=1 -DBUG_REACTOR_BLOCKS"    "reactor blocks with handlers queued"
check bug-no-tfd-update         deadlock  safety   "-DNW=1 -DTIMER_ARM -DNTIMER=2 -DNEXT=1 -DBUG_NO_TFD_UPDATE" "no update_timerfd after expiry"
check bug-hook-no-interrupt     deadlock  safety   "-DNW=1 -DTIMER_ARM -DNEXT=1 -DBUG_HOOK_NO_INTERRUPT" "hook marks stale, never interrupts"
check bug-no-stale-flush        deadlock  safety   "-DNW=1 -DTIMER_ARM -DNEXT=1 -DBUG_NO_STALE_FLUSH" "reactor ignores timerfd_stale"
check bug-hook-tso              deadlock  safety   "-DNW=1 -DTIMER_ARM -DNEXT=1 -DTSO" "hook with release/acquire: load passes store"
check bug-hook-tso-live-nw2     cycle     all_run  "-DNW=2 -DTIMER_ARM -DNEXT=0 -DTSO" "hook with release/acquire: load passes store"
check hook-interrupts-tso       holds     safety   "-DNW=1 -DTIMER_ARM -DNEXT=1 -DTSO -DHOOK_INTERRUPTS" "upstream 8199f3c's hook: the race gone by design"
check hook-interrupts-tso-live-nw2 holds   all_run  "-DNW=2 -DTIMER_ARM -DNEXT=0 -DTSO -DHOOK_INTERRUPTS" "upstream 8199f3c's hook: the race gone by design"
check timer-fastpath-safety-nw2 holds     safety   "-DNW=2 -DTIMER_FASTPATH -DNCHILD=1" "libuv's due-timer pass"
check timer-fastpath-rearm-nw2  holds     safety   "-DNW=2 -DNTIMER=2 -DREARM=1 -DNEXT=0 -DTIMER_FASTPATH" "due-timer pass, 2 timers re-armed"
check timer-fastpath-arm-live-nw2 holds   all_run  "-DNW=2 -DTIMER_ARM -DNEXT=0 -DTIMER_FASTPATH" "due-timer pass, timer armed from outside"
check timer-fastpath-storm-nw2  holds     timer_served "-DSTORM -DTIMER_FASTPATH -DNW=2" "due-timer pass under a storm"
check event-interval-safety-nw2 holds     safety   "-DNW=2 -DEVENT_INTERVAL -DNCHILD=1" "Tokio's event interval"
check event-interval-live-nw2   holds     all_run  "-DNW=2 -DEVENT_INTERVAL -DNEXT=1 -DNCHILD=1" "Tokio's event interval"
check event-interval-storm-nw1  holds     timer_served "-DSTORM -DEVENT_INTERVAL -DNW=1" "event interval storm: the timer still served"
check event-interval-storm-nw2  holds     timer_served "-DSTORM -DEVENT_INTERVAL -DNW=2" "event interval storm: the timer still served"
check event-interval-unbounded-storm-nw1 cycle timer_served "-DSTORM -DEVENT_INTERVAL -DEI_N=256 -DNW=1" "an unbounded interval starves the timer (the switch bites)"

# ---- batch-drain (variants/batch-drain.h): a thread that pops a handler
# takes BATCH - 1 more (2 in all), runs them without the lock, and puts
# back what is left when it returns or sees a stop.  The one-shot calls take
# a batch and put it all back.  It loses work conservation by design (a
# handler that waits for one batched behind it), which wc shows.
check batch-drain-safety-nw1    holds     safety   "-DBATCH_DRAIN -DNW=1"           "batch-drain, 1 worker"
check batch-drain-safety-nw2    holds     safety   "-DBATCH_DRAIN -DNW=2 -DNCHILD=1" "batch-drain, 2 workers"
check batch-drain-live-nw1      holds     all_run  "-DBATCH_DRAIN -DNW=1"           "batch-drain, 1 worker"
check batch-drain-live-nw2      holds     all_run  "-DBATCH_DRAIN -DNW=2 -DNEXT=2 -DNCHILD=0" "batch-drain, 2 workers, 2 posts"
check batch-drain-run_one-safety holds    safety   "-DBATCH_DRAIN -DNW=2 -DMODE1=MODE_RUN_ONE -DNCHILD=1" "batch-drain, run_one beside run"
check batch-drain-wait_one-safety holds   safety   "-DBATCH_DRAIN -DNW=2 -DMODE1=MODE_WAIT_ONE -DNCHILD=1" "batch-drain, wait_one beside run"
check batch-drain-poll-safety   holds     safety   "-DBATCH_DRAIN -DNW=2 -DMODE1=MODE_POLL -DNCHILD=1" "batch-drain, poll beside run"
check batch-drain-poll_one-safety holds   safety   "-DBATCH_DRAIN -DNW=2 -DMODE1=MODE_POLL_ONE -DNCHILD=1" "batch-drain, poll_one beside run"
check batch-drain-run_one-live  holds     all_run  "-DBATCH_DRAIN -DNW=2 -DMODE1=MODE_RUN_ONE -DNEXT=2 -DNCHILD=0" "batch-drain, run_one beside run"
check batch-drain-wait_one-live  holds     all_run  "-DBATCH_DRAIN -DNW=2 -DMODE1=MODE_WAIT_ONE -DNEXT=2 -DNCHILD=0" "batch-drain, wait_one beside run"
check batch-drain-poll-live      holds     all_run  "-DBATCH_DRAIN -DNW=2 -DMODE1=MODE_POLL -DNEXT=2 -DNCHILD=0" "batch-drain, poll beside run"
check batch-drain-poll_one-live  holds     all_run  "-DBATCH_DRAIN -DNW=2 -DMODE1=MODE_POLL_ONE -DNEXT=2 -DNCHILD=0" "batch-drain, poll_one beside run"
check batch-drain-rearm-nw2     holds     safety   "-DBATCH_DRAIN -DNW=2 -DNTIMER=2 -DREARM=1 -DNEXT=0" "batch-drain, 2 timers re-armed"
check batch-drain-arm-live-nw2  holds     all_run  "-DBATCH_DRAIN -DNW=2 -DTIMER_ARM -DNEXT=0" "batch-drain, timer armed from outside"
check batch-drain-storm-nw1     holds     timer_served "-DSTORM -DBATCH_DRAIN -DNW=1" "batch-drain storm: the timer still served"
check batch-drain-storm-nw2     holds     timer_served "-DSTORM -DBATCH_DRAIN -DNW=2" "batch-drain storm: the timer still served"
check batch-drain-wc-nw2        deadlock  safety   "-DBATCH_DRAIN -DNW=2 -DWC"      "batch-drain loses work conservation (by design)"
check bug-batch-kept            assertion safety   "-DBATCH_DRAIN -DNW=2 -DMODE1=MODE_RUN_ONE -DBUG_BATCH_KEPT" "batch not put back at exit"
check bug-batch-past-sentinel   assertion safety   "-DBATCH_DRAIN -DNW=1 -DBUG_BATCH_PAST_SENTINEL" "a batch that takes the sentinel"

# ---- single-threaded (variants/single-threaded.h): no scheduler mutex; one
# worker, no outside thread (the posts are made before the run), and the
# worker calls again until the scheduler stops (AGAIN), in every mode, with
# posts from handlers and two timers re-armed from their handlers.
for m in run run_one wait_one poll poll_one; do
    M=MODE_$(echo "$m" | tr a-z A-Z)
    check single-$m-safety      holds     safety   "-DSINGLE_THREADED -DNW=1 -DAGAIN -DMODE1=$M -DNTIMER=2 -DREARM=1" "single-threaded, $m again and again"
    check single-$m-live        holds     all_run  "-DSINGLE_THREADED -DNW=1 -DAGAIN -DMODE1=$M -DNTIMER=2 -DREARM=1" "single-threaded, $m again and again"
done
check single-storm              holds     timer_served "-DSINGLE_THREADED -DNW=1 -DSTORM" "single-threaded storm: the timer still served"
check single-batch-drain        holds     safety   "-DSINGLE_THREADED -DNW=1 -DAGAIN -DBATCH_DRAIN -DNTIMER=2 -DREARM=1" "single-threaded with batch-drain"
check single-refuses-nw2        refused   safety   "-DSINGLE_THREADED -DNW=2"       "two threads are refused"
check single-refuses-arm        refused   safety   "-DSINGLE_THREADED -DNW=1 -DTIMER_ARM" "an outside arming thread is refused"
check bug-single-sentinel-not-back assertion safety "-DSINGLE_THREADED -DNW=1 -DAGAIN -DMODE1=MODE_WAIT_ONE -DBUG_SENTINEL_NOT_BACK" "wait_one leaves without the sentinel: the thread reaches the condvar"
check bug-sentinel-not-back-nw2 deadlock  safety   "-DNW=2 -DMODE1=MODE_WAIT_ONE -DNEXT=0 -DBUG_SENTINEL_NOT_BACK" "the same bug with 2 threads (not single-threaded): the waiter sleeps for ever"

check bug-wait-count-late       assertion safety   "-DNW=1 -DTIMER_ARM -DNEXT=0 -DWAIT_COUNT_LATE" "timer wait counted after it is visible"

wait
for name in "${names[@]}"; do
    f="$scratch/$name/result.txt"
    if [ -s "$f" ] && [ "$(head -c 4 "$f")" = PASS ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        [ -s "$f" ] || echo "FAIL  $name: no result"
    fi
    cat "$f" 2>/dev/null
done
echo "$passed passed, $failed failed, in $(( $(date +%s) - started )) s"
[ "$failed" -eq 0 ]
