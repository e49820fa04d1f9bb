#!/usr/bin/python3
"""analyze.py - TSV tables and gnuplot figures from a schedlab trace.

Usage: /usr/bin/python3 trace/analyze.py TRACE_DIR [-o OUT_DIR] [--no-plots]

Writes to OUT_DIR (default results/trace/<trace name>/):
  events.tsv              event counts
  roles.tsv               per-thread role intervals (handler / reactor /
                          waiting / idle) while the thread is inside a run
  roles_summary.tsv       time per role and thread
  timeline.tsv            the same, binned for drawing (dominant role per bin)
  handlers.tsv            every handler: start, thread, kind, duration
  handler_hist.tsv        handler durations, 10 log bins per decade, by kind
  reactor_gaps.tsv        each reactor run: time since the previous one,
                          handlers begun in between, its duration, events
  wakeups.tsv             each wake-up of a blocked thread and its cause
  wakeups_by_cause.tsv    condvar signal / condvar timeout / eventfd /
                          timerfd / descriptor / reactor timeout
  inline_per_refill.tsv   inline completions between two budget refills
  inline_hist.tsv         how many refills saw N inline completions
  queue_depth.tsv         shared-queue depth, binned (max and mean)
  summary.txt             the headline numbers (also printed)
and, unless --no-plots, SVG and PNG figures drawn by plots/trace-*.gp:
timeline, handler_durations, reactor_gaps, wakeups, inline_per_refill,
queue_depth.  Times in the tables are milliseconds from the first event
unless a column says otherwise.
"""
import argparse
import bisect
import collections
import math
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sltrace  # noqa: E402

ROLE_COLORS = {"handler": 0x2E7D32, "reactor": 0x1565C0,
               "waiting": 0xEF6C00, "idle": 0xBDBDBD}
TIMELINE_BINS = 2000


def ms(ns, t0):
    return "%.6f" % ((ns - t0) / 1e6)


def write_tsv(path, header, rows):
    with open(path, "w") as f:
        f.write("# " + "\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")


# ---- analyses --------------------------------------------------------------

def roles(out, trace, threads):
    intervals = sltrace.role_intervals(threads)
    t0 = trace.t0
    rows = []
    totals = collections.defaultdict(collections.Counter)
    for tid in sorted(intervals):
        for start, end, role in intervals[tid]:
            rows.append((tid, role, ms(start, t0), ms(end, t0)))
            totals[tid][role] += end - start
    write_tsv(os.path.join(out, "roles.tsv"),
              ["tid", "role", "start_ms", "end_ms"], rows)
    write_tsv(os.path.join(out, "roles_summary.tsv"),
              ["tid"] + ["%s_ms" % r for r in sltrace.ROLES],
              [[tid] + ["%.3f" % (totals[tid][r] / 1e6) for r in sltrace.ROLES]
               for tid in sorted(totals)])

    # Binned: the role that filled most of each bin, then runs of equal bins.
    rows = []
    labels = []
    if intervals:
        lo = min(iv[0][0] for iv in intervals.values())
        hi = max(iv[-1][1] for iv in intervals.values())
        width = max(1, (hi - lo) / TIMELINE_BINS)
        for row, tid in enumerate(sorted(intervals)):
            labels.append((row, "thread %d" % tid))
            fill = [collections.Counter() for _ in range(TIMELINE_BINS)]
            for start, end, role in intervals[tid]:
                b = min(int((start - lo) / width), TIMELINE_BINS - 1)
                while start < end and b < TIMELINE_BINS:
                    edge = lo + (b + 1) * width
                    piece = min(end, edge) - start
                    fill[b][role] += piece
                    start += piece
                    b += 1
            seg = None
            for b in range(TIMELINE_BINS):
                role = None
                if fill[b]:
                    role, t = fill[b].most_common(1)[0]
                    if sum(fill[b].values()) < width / 2:
                        role = None  # mostly outside a run
                if seg and seg[2] == role and seg[1] == b:
                    seg[1] = b + 1
                    continue
                if seg and seg[2]:
                    rows.append(segment_row(row, tid, seg, lo, width, t0))
                seg = [b, b + 1, role]
            if seg and seg[2]:
                rows.append(segment_row(row, tid, seg, lo, width, t0))
    write_tsv(os.path.join(out, "timeline.tsv"),
              ["row", "tid", "start_ms", "end_ms", "rgb", "role"], rows)
    write_tsv(os.path.join(out, "timeline_threads.tsv"), ["row", "label"],
              [(r, '"%s"' % l) for r, l in labels])
    return totals


def segment_row(row, tid, seg, lo, width, t0):
    start = lo + seg[0] * width
    end = lo + seg[1] * width
    return (row, tid, ms(start, t0), ms(end, t0), ROLE_COLORS[seg[2]], seg[2])


def handlers(out, trace, threads):
    t0 = trace.t0
    rows = []
    durations = collections.defaultdict(list)
    for tid, evs in threads.items():
        stack = []
        for e in evs:
            if e[1] == "handler_begin":
                stack.append(e)
            elif e[1] == "handler_end" and stack and stack[-1][4] == e[4]:
                b = stack.pop()
                kind = sltrace.OP_KINDS[b[5]] if b[5] < len(sltrace.OP_KINDS) \
                    else str(b[5])
                d = e[0] - b[0]
                durations[kind].append(d)
                rows.append((ms(b[0], t0), tid, kind, d))
    rows.sort()
    write_tsv(os.path.join(out, "handlers.tsv"),
              ["start_ms", "tid", "kind", "duration_ns"], rows)
    # 10 bins per decade, from the shortest to the longest duration.
    kinds = [k for k in sltrace.OP_KINDS if durations.get(k)]
    everything = [d for k in kinds for d in durations[k]]
    hist_rows = []
    if everything:
        lo = int(math.floor(10 * math.log10(max(1, min(everything)))))
        hi = int(math.floor(10 * math.log10(max(1, max(everything))))) + 1
        counts = {k: collections.Counter() for k in kinds}
        for k in kinds:
            for d in durations[k]:
                counts[k][int(math.floor(10 * math.log10(max(1, d))))] += 1
        for b in range(lo, hi):
            row = [round(10 ** (b / 10)), round(10 ** ((b + 1) / 10))]
            row.append(sum(counts[k][b] for k in kinds))
            row += [counts[k][b] for k in kinds]
            hist_rows.append(row)
    write_tsv(os.path.join(out, "handler_hist.tsv"),
              ["bin_lo_ns", "bin_hi_ns", "all"] + kinds, hist_rows)
    return durations


def reactor_gaps(out, trace, threads):
    t0 = trace.t0
    runs = sltrace.reactor_runs(threads)
    begins = collections.defaultdict(list)
    for e in trace.events:
        if e[1] == "handler_begin":
            begins[e[3]].append(e[0])
    rows = []
    last = {}
    for r in runs:
        prev = last.get(r["sched"])
        hb = begins[r["sched"]]
        if prev is None:
            gap, between = "NaN", "NaN"
        else:
            gap = "%.3f" % ((r["enter"] - prev) / 1e3)
            between = bisect.bisect_left(hb, r["enter"]) - \
                bisect.bisect_left(hb, prev)
        rows.append((ms(r["enter"], t0), gap, between,
                     "%.3f" % ((r["exit"] - r["enter"]) / 1e3),
                     r["timeout_ms"], r["nevents"], r["tid"]))
        last[r["sched"]] = r["enter"]
    write_tsv(os.path.join(out, "reactor_gaps.tsv"),
              ["enter_ms", "gap_us", "handlers_between", "duration_us",
               "timeout_ms", "nevents", "tid"], rows)
    return runs, rows


def wakeups(out, trace, threads, runs):
    """Wake-ups of blocked threads: condvar waits that ended, and blocking
    reactor waits (timeout != 0) that returned.  A reactor wake-up's causes
    come from what epoll returned: descriptor_ready events, a
    timers_expired event (the timerfd), and the rest of nevents (the
    eventfd: at most one event each for the eventfd and the timerfd)."""
    t0 = trace.t0
    rows = []
    causes = collections.Counter()
    for tid, evs in threads.items():
        began = None
        for e in evs:
            if e[1] == "wait_begin":
                began = e[0]
            elif e[1] == "wait_end" and began is not None:
                cause = "condvar signal" if e[4] else "condvar timeout"
                causes[cause] += 1
                rows.append((ms(e[0], t0), tid, cause.replace(" ", "_"),
                             "%.3f" % ((e[0] - began) / 1e3)))
                began = None
    for r in runs:
        if r["timeout_ms"] == 0:
            continue  # a poll, not a wait
        found = []
        if r["descriptors"]:
            found.append("descriptor")
        if r["timer"]:
            found.append("timerfd")
        if r["nevents"] - r["descriptors"] - r["timer"] > 0:
            found.append("eventfd")
        if r["nevents"] <= 0:
            found.append("reactor timeout")
        for c in found:
            causes[c] += 1
        rows.append((ms(r["exit"], t0), r["tid"],
                     "+".join(c.replace(" ", "_") for c in found),
                     "%.3f" % ((r["exit"] - r["enter"]) / 1e3)))
    rows.sort()
    write_tsv(os.path.join(out, "wakeups.tsv"),
              ["t_ms", "tid", "cause", "waited_us"], rows)
    order = ["condvar signal", "condvar timeout", "eventfd", "timerfd",
             "descriptor", "reactor timeout"]
    write_tsv(os.path.join(out, "wakeups_by_cause.tsv"), ["cause", "count"],
              [('"%s"' % c, causes[c]) for c in order])
    return causes


def inline_per_refill(out, trace, threads):
    t0 = trace.t0
    rows = []
    hist = collections.Counter()
    for tid, evs in threads.items():
        open_refill = {}   # sched -> [refill event, completions]
        for e in evs:
            if e[1] == "budget_refill":
                prev = open_refill.get(e[3])
                if prev:
                    rows.append(refill_row(prev, tid, t0))
                    hist[prev[1]] += 1
                open_refill[e[3]] = [e, 0]
            elif e[1] == "inline_completion" and e[3] in open_refill:
                open_refill[e[3]][1] += 1
        for prev in open_refill.values():
            rows.append(refill_row(prev, tid, t0))
            hist[prev[1]] += 1
    rows.sort()
    write_tsv(os.path.join(out, "inline_per_refill.tsv"),
              ["t_ms", "tid", "old_cap", "new_cap", "unassisted",
               "inline_completions"], rows)
    write_tsv(os.path.join(out, "inline_hist.tsv"),
              ["inline_completions", "refills"], sorted(hist.items()))
    return rows


def refill_row(entry, tid, t0):
    e, n = entry
    return (ms(e[0], t0), tid, e[4], e[5], e[6], n)


def queue_depth(out, trace):
    samples = [(e[0], e[6] if e[1] == "handler_begin" else e[5])
               for e in trace.events
               if e[1] == "handler_begin" or (e[1] == "post" and e[4] == 1)]
    rows = []
    if samples:
        lo, hi = samples[0][0], samples[-1][0]
        width = max(1, (hi - lo) / TIMELINE_BINS)
        bins = collections.defaultdict(list)
        for ts, d in samples:
            bins[min(int((ts - lo) / width), TIMELINE_BINS - 1)].append(d)
        for b in sorted(bins):
            v = bins[b]
            rows.append((ms(lo + b * width, trace.t0), max(v),
                         "%.2f" % (sum(v) / len(v))))
    write_tsv(os.path.join(out, "queue_depth.tsv"),
              ["t_ms", "max_depth", "mean_depth"], rows)
    return rows


# ---- figures -------------------------------------------------------------------

FIGURES = [
    # (script, output name, table, column that must hold a non-zero value
    #  in some row, what it shows)
    ("trace-timeline.gp", "timeline", "timeline.tsv", 3, "thread roles"),
    ("trace-handlers.gp", "handler_durations", "handler_hist.tsv", 2,
     "handler durations"),
    ("trace-reactor-gaps.gp", "reactor_gaps", "reactor_gaps.tsv", 1,
     "time between reactor runs"),
    ("trace-wakeups.gp", "wakeups", "wakeups_by_cause.tsv", 1,
     "wake-ups by cause"),
    ("trace-inline.gp", "inline_per_refill", "inline_hist.tsv", 1,
     "inline completions per budget refill"),
    ("trace-queue-depth.gp", "queue_depth", "queue_depth.tsv", 1,
     "shared queue depth"),
]


def has_data(path, column):
    """Whether some row of the table has a non-zero number in `column`."""
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            cells = line.rstrip("\n").split("\t")
            try:
                v = float(cells[column]) if len(cells) > column else 0
            except ValueError:
                continue
            if v == v and v != 0:  # a number, not NaN, not zero
                return True
    return False


def gp_string(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def draw(out, title):
    if not shutil.which("gnuplot"):
        print("analyze: gnuplot not found (Debian package gnuplot-nox): "
              "tables only")
        return []
    plots = os.path.join(sltrace.repo_root(), "plots")
    made = []
    for script, name, table, column, what in FIGURES:
        if has_data(os.path.join(out, table), column):
            path, extra = os.path.join(plots, script), ""
        else:
            path = os.path.join(plots, "trace-empty.gp")
            extra = "name=%s; what=%s; " % (gp_string(name),
                                            gp_string("no data for " + what))
        cmd = ["gnuplot", "-e", "dir=%s; title=%s; %s" % (
            gp_string(out), gp_string(title), extra), path]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print("analyze: %s failed:\n%s" % (script, r.stderr.strip()))
            continue
        made.append(name)
    return made


# ---- main ----------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("-o", "--out", help="output directory")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    if not os.path.isdir(args.trace):
        print("analyze: %s is not a directory" % args.trace, file=sys.stderr)
        return 2
    out = args.out or sltrace.results_dir(args.trace)
    # The event cache there lets check.py skip re-reading the trace.
    trace = sltrace.Trace(args.trace, cache_dir=out, write_cache=True)
    os.makedirs(out, exist_ok=True)
    if not trace.events:
        print("analyze: no schedlab events in %s" % args.trace,
              file=sys.stderr)
        return 1
    threads = trace.by_thread()
    counts = trace.counts()
    write_tsv(os.path.join(out, "events.tsv"), ["event", "count"],
              sorted(counts.items()))
    totals = roles(out, trace, threads)
    durations = handlers(out, trace, threads)
    runs, gap_rows = reactor_gaps(out, trace, threads)
    causes = wakeups(out, trace, threads, runs)
    refills = inline_per_refill(out, trace, threads)
    depth = queue_depth(out, trace)

    variant = trace.variant() or "?"
    workload = trace.meta.get("workload") or "?"
    span = trace.events[-1][0] - trace.t0
    lines = ["trace %s: variant %s, workload %s, %d events over %s, "
             "%d discarded" % (args.trace, variant, workload,
                               len(trace.events), sltrace.fmt_ns(span),
                               trace.discarded)]
    lines.append("events: " + ", ".join("%s %d" % kv for kv in
                                        sorted(counts.items())))
    for tid in sorted(totals):
        t = totals[tid]
        lines.append("thread %d: " % tid + ", ".join(
            "%s %.1f ms" % (r, t[r] / 1e6) for r in sltrace.ROLES))
    for kind in sltrace.OP_KINDS:
        d = sorted(durations.get(kind, []))
        if d:
            lines.append("handlers %s: %d, median %s, p99 %s, max %s" % (
                kind, len(d), sltrace.fmt_ns(d[len(d) // 2]),
                sltrace.fmt_ns(d[min(len(d) - 1, int(len(d) * 0.99))]),
                sltrace.fmt_ns(d[-1])))
    gaps = sorted(float(r[1]) for r in gap_rows if r[1] != "NaN")
    if gaps:
        lines.append("reactor: %d runs, gap median %.1f us, max %.1f us" % (
            len(runs), gaps[len(gaps) // 2], gaps[-1]))
    else:
        lines.append("reactor: %d runs" % len(runs))
    lines.append("wake-ups: " + (", ".join(
        "%s %d" % kv for kv in sorted(causes.items())) or "none"))
    lines.append("inline budget: %d refills, %d inline completions" % (
        len(refills), sum(r[5] for r in refills)))
    if depth:
        lines.append("shared queue depth: max %d" % max(r[1] for r in depth))
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    if not args.no_plots:
        title = "%s / %s" % (variant, workload)
        made = draw(out, title)
        if made:
            print("figures (svg, png): " + ", ".join(made))
    print("analyze: results in %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
