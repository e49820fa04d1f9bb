#!/usr/bin/python3
"""check.py - checks a schedlab trace; one line per check, meaningful exit.

Usage: /usr/bin/python3 trace/check.py TRACE_DIR [--variant NAME]

Each line reads `PASS|FAIL|SKIP name: outcome - detail`.  Properties every
build must keep:
  no_discarded_events   the tracer dropped nothing (the counts are exact)
  handler_pairs         every handler_begin has its handler_end on the same
                        thread, innermost first (nesting allowed)
  reactor_exclusive     never two threads between reactor_enter and
                        reactor_exit of one scheduler
Properties of the post storm (a scheduler running >= 1000 user handlers),
whose expected outcome depends on whether the build keeps the task sentinel
(M2; read from variants/<name>.h): with it the first and last hold and the
second fails, without it the reverse:
  reactor_each_pass     at least one reactor run per pass over the queue:
                        between two runs of the same storm handler a
                        reactor run's span began or was under way, and at
                        most max queue depth + threads + 1 handlers began
                        between two spans (a span reaches from the reactor
                        thread's last phase end before reactor_enter to its
                        first phase start after reactor_exit, which covers
                        the sentinel's pop and push even when that thread
                        is descheduled around them)
                        (expected to fail where the build polls the reactor
                        only every N handlers: event-interval, tuned)
  storm_starves_reactor no reactor run at all between the storm's first and
                        last handler (expected only without the sentinel)
  timers_fire_in_storm  the periodic timer's handler ran during the storm
The variant comes from --variant, else from TRACE_DIR/schedlab-run.txt
(trace/record.sh writes it).  Exit status: 0 when every outcome is the
expected one, 1 otherwise, 2 when the trace cannot be read.
"""
import argparse
import collections
import sys
import os

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sltrace  # noqa: E402

KIND_USER, KIND_TIMER = sltrace.KIND_USER, sltrace.KIND_TIMER


def check_discarded(trace):
    n = trace.discarded
    recorded = trace.meta.get("discarded_events")
    if recorded not in (None, ""):
        n = max(n, int(recorded))
    unknown = trace.discarded_unknown
    ok = n == 0 and unknown == 0
    detail = "%d discarded" % n
    if unknown:
        detail += ", %d discard notices without a count" % unknown
    return ok, detail


def check_handler_pairs(threads):
    bad = []
    matched = 0
    deepest = 0
    for tid, evs in threads.items():
        stack = []
        for e in evs:
            if e[1] == "handler_begin":
                stack.append((e[3], e[4]))
                deepest = max(deepest, len(stack))
            elif e[1] == "handler_end":
                if stack and stack[-1] == (e[3], e[4]):
                    stack.pop()
                    matched += 1
                else:
                    bad.append("thread %d: handler_end of op %#x at %d "
                               "without its begin" % (tid, e[4], e[0]))
        for sched, op in stack:
            bad.append("thread %d: op %#x began and never ended" % (tid, op))
    if bad:
        return False, "%d unmatched (first: %s)" % (len(bad), bad[0])
    return True, "%d handlers matched on %d threads, deepest nesting %d" % (
        matched, len(threads), deepest)


def check_reactor_exclusive(trace):
    inside = {}          # sched -> tid in the reactor
    runs = 0
    bad = []
    for e in trace.events:
        name = e[1]
        if name == "reactor_enter":
            runs += 1
            other = inside.get(e[3])
            if other is not None:
                bad.append("thread %d entered at %d while thread %d was inside"
                           % (e[2], e[0], other))
            inside[e[3]] = e[2]
        elif name == "reactor_exit":
            if inside.get(e[3]) != e[2]:
                bad.append("thread %d left at %d without having entered"
                           % (e[2], e[0]))
            inside[e[3]] = None
    if bad:
        return False, "%d overlaps (first: %s)" % (len(bad), bad[0])
    return True, "%d reactor runs, never two threads inside at once" % runs


def merge_spans(spans):
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def storm_properties(trace, runs, storm, nthreads, batch=0):
    """Measures the three storm properties; returns {name: (holds, detail)}.

    A reactor run's span reaches from its thread's last phase end before
    reactor_enter to its first phase start after reactor_exit: the sentinel
    is popped and pushed back within it, however long the thread was
    descheduled around the epoll_wait.  Two measures of "once per pass":
    every rerun of a storm handler met a span since its previous run, and
    the handlers begun between two spans number at most the queue's depth
    (plus one per thread that popped before the span and began after it).
    """
    sched, start, end = storm["sched"], storm["start"], storm["end"]
    mine = [r for r in runs if r["sched"] == sched]
    spans = [(r["before"], r["after"]) for r in mine]
    index = sltrace.IntervalIndex(spans)
    merged = merge_spans(spans)
    enters = [r["enter"] for r in mine]

    last_run = {}
    pairs = unseparated = 0
    max_depth = 0
    outside = max_outside = 0   # handlers begun since the last span
    j = 0
    timer_runs = 0
    for e in trace.events:
        if e[3] != sched or e[0] < start or e[0] > end:
            continue
        name = e[1]
        if name == "handler_begin":
            ts = e[0]
            while j < len(merged) and merged[j][1] < ts:
                j += 1
                outside = 0
            if j >= len(merged) or ts < merged[j][0]:
                outside += 1
                max_outside = max(max_outside, outside)
            max_depth = max(max_depth, e[6])
            kind = e[5]
            if kind == KIND_TIMER:
                timer_runs += 1
            elif kind == KIND_USER:
                op = e[4]
                prev = last_run.get(op)
                if prev is not None:
                    pairs += 1
                    if not index.meets(prev, ts):
                        unseparated += 1
                last_run[op] = ts
        elif name == "post" and e[4] == 1:
            max_depth = max(max_depth, e[5])
    in_storm = sum(1 for t in enters if start <= t <= end)
    length = sltrace.fmt_ns(end - start)
    # A build that takes ops from the queue in batches (batch-drain, tuned)
    # holds up to `batch` of them per thread outside the queue's depth.
    bound = max_depth + nthreads * (1 + batch) + 1

    props = {}
    props["reactor_each_pass"] = (
        pairs > 0 and unseparated == 0 and max_outside <= bound,
        "%d of %d reruns of the %d storm handlers met no reactor run since "
        "their previous run; at most %d handlers between reactor runs "
        "(bound: max queue depth %d + %d)"
        % (unseparated, pairs, len(last_run), max_outside, max_depth,
           nthreads + 1))
    props["storm_starves_reactor"] = (
        in_storm == 0,
        "%d reactor runs during the %s storm (%d handlers)"
        % (in_storm, length, storm["handlers"]))
    props["timers_fire_in_storm"] = (
        timer_runs > 0,
        "%d timer handlers ran during the %s storm" % (timer_runs, length))
    return props


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--variant", help="build name (default: from the trace)")
    args = ap.parse_args()
    if not os.path.isdir(args.trace):
        print("check: %s is not a directory" % args.trace, file=sys.stderr)
        return 2

    # Reuses analyze.py's event cache when there is a fresh one.
    trace = sltrace.Trace(args.trace, cache_dir=sltrace.results_dir(args.trace))
    variant = args.variant or trace.variant()
    sentinel = sltrace.variant_has_sentinel(variant)
    print("check: %s, variant %s (%s the task sentinel), %d events" % (
        args.trace, variant or "unknown (taken as ref)",
        "keeps" if sentinel else "without", len(trace.events)))
    if trace.other_processes:
        print("check: %d events of other processes left out (pid %d is the "
              "workload's)" % (trace.other_processes, trace.pid))
    if not trace.events:
        print("FAIL events_present: no schedlab events in the trace")
        return 1

    results = []   # (name, holds, expected, detail)
    threads = trace.by_thread()
    ok, detail = check_discarded(trace)
    results.append(("no_discarded_events", ok, True, detail))
    ok, detail = check_handler_pairs(threads)
    results.append(("handler_pairs", ok, True, detail))
    ok, detail = check_reactor_exclusive(trace)
    results.append(("reactor_exclusive", ok, True, detail))

    storm = sltrace.storm_window(trace)
    # The io_uring scheduler (uring) has no sentinel, yet drains due timers
    # before every handler: timers fire in the storm there.
    uring = (variant or "").startswith("uring")
    interval = sltrace.variant_has_event_interval(variant)
    expected = {"reactor_each_pass": sentinel and not interval,
                "storm_starves_reactor": not sentinel,
                "timers_fire_in_storm": sentinel or uring}
    if storm is None:
        for name in expected:
            results.append((name, None, expected[name],
                            "no post storm in this trace"))
    else:
        runners = sum(1 for evs in threads.values()
                      if any(e[1] == "handler_begin" for e in evs))
        props = storm_properties(trace, sltrace.reactor_runs(threads), storm,
                                 runners, sltrace.variant_batch(variant))
        for name, (holds, detail) in props.items():
            results.append((name, holds, expected[name], detail))

    failed = 0
    for name, holds, want, detail in results:
        if holds is None:
            print("SKIP %s: %s" % (name, detail))
            continue
        if holds == want:
            verdict = "PASS"
        else:
            verdict = "FAIL"
            failed += 1
        if holds:
            outcome = "holds"
        else:
            outcome = "fails"
        if holds != want:
            outcome += " (expected to %s for %s)" % (
                "hold" if want else "fail", variant or "ref")
        elif not want:
            outcome += ", as expected for %s" % (variant or "ref")
        print("%s %s: %s - %s" % (verdict, name, outcome, detail))
    counts = collections.Counter(r[0] for r in results if r[1] is not None)
    print("check: %d checks, %d failed" % (sum(counts.values()), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
