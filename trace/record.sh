#!/usr/bin/env bash
# record.sh - records an LTTng-UST trace of one command (the kit's `schedlab`
# events only) into traces/<variant>-<workload>-<timestamp>/.
#
# Usage: trace/record.sh [-o DIR] [-v VARIANT] [-w WORKLOAD] [-l] [-q] -- COMMAND [ARG...]
#   -o DIR       trace directory (default traces/VARIANT-WORKLOAD-TIMESTAMP)
#   -v, -w       recorded in DIR/schedlab-run.txt and used in the default name
#   -l           lossy is fine: report discarded events but do not fail
#   -q           quiet: only errors and the trace directory
# Environment: SL_TRACE_SUBBUF (default 4M) and SL_TRACE_NUM_SUBBUF (16) size
# the channel's per-CPU ring buffer; the default holds a whole 0.3 s storm,
# so nothing is discarded even if the consumer falls behind.
#
# A session daemon is started (root: lttng-sessiond --daemonize --no-kernel)
# only if none answers, and then only that daemon is ended afterwards; a
# running one is reused and left alone.  Runs are serialised by a lock so
# that two recordings never tear down each other's daemon.  Exit status:
# the command's if it failed; 3 if events were discarded (unless -l); 4 if
# lttng itself failed; 0 otherwise.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="" variant="" workload="" lossy=0 quiet=0
while getopts "o:v:w:lq" opt; do
    case $opt in
    o) out=$OPTARG ;;
    v) variant=$OPTARG ;;
    w) workload=$OPTARG ;;
    l) lossy=1 ;;
    q) quiet=1 ;;
    *) sed -n '5,10p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
if [ $# -eq 0 ]; then
    sed -n '5,10p' "$0" >&2
    exit 2
fi

say() { [ "$quiet" = 1 ] || echo "record: $*"; }
die() { echo "record: $*" >&2; exit "${2:-4}"; }

for tool in lttng lttng-sessiond; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found: install lttng-tools (make deps-trace)"
done

if [ -z "$out" ]; then
    stamp=$(date +%Y%m%d-%H%M%S)
    out="$root/traces/${variant:-run}-${workload:-cmd}-$stamp"
    n=1
    while [ -e "$out" ]; do
        out="$root/traces/${variant:-run}-${workload:-cmd}-$stamp-$n"
        n=$((n + 1))
    done
fi
[ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ] && die "$out exists and is not empty"
mkdir -p "$(dirname "$out")" || die "cannot create $(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# One recording at a time on this machine, per user.
exec 9>"/tmp/schedlab-lttng-$(id -u).lock"
flock -w 300 9 || die "another recording holds /tmp/schedlab-lttng-$(id -u).lock"

if [ "$(id -u)" = 0 ]; then
    pidfile=/var/run/lttng/lttng-sessiond.pid
else
    pidfile="${LTTNG_HOME:-$HOME}/.lttng/lttng-sessiond.pid"
fi
log=$(mktemp /tmp/schedlab-record.XXXXXX)
session="schedlab-$$-$RANDOM"
started_pid=""
session_made=0

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
    if [ "$session_made" = 1 ]; then
        lttng destroy "$session" >>"$log" 2>&1
        session_made=0
    fi
    if [ -n "$started_pid" ]; then
        kill "$started_pid" 2>/dev/null
        for _ in $(seq 50); do
            kill -0 "$started_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$started_pid" 2>/dev/null && kill -9 "$started_pid" 2>/dev/null
        started_pid=""
    fi
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs an lttng command, keeping its output for the error message.
ctl() {
    if ! lttng "$@" >>"$log" 2>&1; then
        cat "$log" >&2
        die "lttng $* failed"
    fi
}

if ! lttng list >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        lttng-sessiond --daemonize --no-kernel >>"$log" 2>&1 ||
            { cat "$log" >&2; die "lttng-sessiond did not start (try: lttng-sessiond --background -v)"; }
    else
        lttng-sessiond --daemonize >>"$log" 2>&1 ||
            { cat "$log" >&2; die "lttng-sessiond did not start (try: lttng-sessiond --background -v)"; }
    fi
    started_pid=$(cat "$pidfile" 2>/dev/null)
    [ -n "$started_pid" ] || die "lttng-sessiond started but wrote no $pidfile"
    say "started lttng-sessiond (pid $started_pid); it is stopped at the end"
fi

ctl create "$session" --output="$out"
session_made=1
ctl enable-channel -u -s "$session" \
    --subbuf-size="${SL_TRACE_SUBBUF:-4M}" --num-subbuf="${SL_TRACE_NUM_SUBBUF:-16}" chan
ctl enable-event -u -s "$session" -c chan 'schedlab:*'
ctl add-context -u -s "$session" -c chan -t vtid -t vpid
ctl start "$session"

# The application waits this long (ms) to register with the daemon before
# running untraced; -1 would wait forever, so never pass it on.
reg=${LTTNG_UST_REGISTER_TIMEOUT:-3000}
[ "$reg" -lt 0 ] 2>/dev/null && reg=3000
say "running: $*"
# The workload's pid goes into schedlab-run.txt: the session records every
# process that carries the provider (a second suite or `make trace` running
# at the same time too), and the readers keep this one's events only.
summary=$(LTTNG_UST_REGISTER_TIMEOUT=$reg sh -c 'echo $$ >"$0"; exec "$@"' "$out/.pid" "$@")
status=$?
pid=$(cat "$out/.pid" 2>/dev/null)
rm -f "$out/.pid"
[ -n "$summary" ] && { [ "$quiet" = 1 ] || echo "$summary"; }

ctl stop "$session"
stats=$(lttng list "$session" 2>>"$log")
discarded=$(echo "$stats" | awk '/Discarded events:/ {n += $3} END {print n + 0}')
lost=$(echo "$stats" | awk '/Lost packets:/ {n += $3} END {print n + 0}')
ctl destroy "$session"
session_made=0

{
    echo "variant=${variant}"
    echo "workload=${workload}"
    echo "command=$*"
    echo "exit_status=$status"
    echo "pid=${pid}"
    echo "discarded_events=$discarded"
    echo "lost_packets=$lost"
    echo "recorded=$(date -Iseconds)"
    echo "cpus=$(nproc)"
    echo "summary=$summary"
} >"$out/schedlab-run.txt"

if [ "$status" -ne 0 ]; then
    # The directory was empty or absent before: nothing of value is lost.
    rm -rf "$out"
    echo "record: the command failed (exit $status); no trace kept" >&2
    exit "$status"
fi
if [ "$quiet" = 1 ]; then
    echo "$out"
else
    echo "record: trace in $out"
    echo "record: discarded events: $discarded, lost packets: $lost"
    echo "record: read it:      babeltrace2 $out | less"
    echo "record: analyse it:   /usr/bin/python3 trace/analyze.py $out && /usr/bin/python3 trace/check.py $out"
    echo "record: Trace Compass: File > Import..., root directory $out (trace type: LTTng UST Trace);"
    echo "record:               Tracing > Manage XML analyses... > Import trace/schedlab-analysis.xml;"
    echo "record:               then open the trace and expand 'Schedlab scheduler analysis' under Views."
fi

if [ "$discarded" -gt 0 ] || [ "$lost" -gt 0 ]; then
    echo "record: $discarded events discarded, $lost packets lost: raise SL_TRACE_SUBBUF / SL_TRACE_NUM_SUBBUF" >&2
    [ "$lossy" = 1 ] || exit 3
fi
exit 0
