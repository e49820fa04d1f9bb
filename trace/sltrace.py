"""sltrace.py - loads a trace of the kit's `schedlab` events (babeltrace2's
bt2 module) and derives what analyze.py and check.py share: per-thread role
intervals, reactor runs, the post storm.

Run the scripts with /usr/bin/python3: a python3 earlier on PATH may lack
bt2.  Times are nanoseconds from the clock's origin; `Trace.t0` is the first
event's.  Each event is a tuple (ts, name, tid, sched, *fields) with the
fields of FIELDS[name] in order (integers).
"""
import bisect
import collections
import os
import pickle
import re
import sys

try:
    import bt2
except ImportError:  # pragma: no cover - reported to the user
    sys.stderr.write(
        "sltrace: the bt2 module is missing: run with /usr/bin/python3 "
        "(Debian package python3-bt2)\n")
    raise SystemExit(2)

PROVIDER = "schedlab"

# The payload of each event after `sched` and `tid` (trace/sl_tp.h).
FIELDS = {
    "post": ("path", "depth"),
    "signal_all": (),
    "signal_one": ("had_waiter",),
    "wait_begin": ("timeout",),
    "wait_end": ("signaled",),
    "eventfd_interrupt": ("written",),
    "budget_refill": ("old_cap", "new_cap", "unassisted"),
    "inline_completion": ("budget_left",),
    "timerfd_set": ("ns",),
    "reactor_enter": ("timeout_ms",),
    "reactor_exit": ("nevents",),
    "descriptor_ready": ("fd", "events"),
    "timers_expired": ("count",),
    "handler_begin": ("op", "kind", "depth"),
    "handler_end": ("op",),
    "run_begin": ("timeout_us",),
    "run_end": ("handlers",),
    "stop": (),
    "shutdown": (),
    "op_parked": ("fd", "kind"),
    "op_completed": ("fd", "kind", "err", "bytes"),
}

# enum sl_op_kind (ref/internal.h)
OP_KINDS = ["sentinel", "user", "descriptor", "timer", "io", "signal", "resolve"]
KIND_USER, KIND_TIMER = 1, 3

# A thread's phases.  A phase starts with one of PHASE_START and ends with
# the matching PHASE_END; run_begin/run_end bracket the whole run.
PHASE_START = {"handler_begin", "reactor_enter", "wait_begin", "run_end"}
PHASE_END = {"handler_end", "reactor_exit", "wait_end", "run_begin"}
ROLES = ["idle", "handler", "reactor", "waiting"]
ROLE_OF = {"handler_begin": "handler", "reactor_enter": "reactor",
           "wait_begin": "waiting"}
CLOSES = {"handler_end": "handler", "reactor_exit": "reactor",
          "wait_end": "waiting"}


class Trace:
    """The schedlab events of one trace, in time order."""

    CACHE = ".events.pickle"

    def __init__(self, path, cache_dir=None, write_cache=False):
        """Reading with bt2 costs ~10 us an event; with `cache_dir`, the
        events are taken from (or, with write_cache, saved to) a pickle
        there, valid while the trace's files keep their sizes and times."""
        self.path = path
        self.events = []
        self.discarded = 0        # events the tracer reports it dropped
        self.discarded_unknown = 0  # discard notices without a count
        self.meta = read_run_file(path)
        # record.sh's workload: events of any other process that carried
        # the provider while the session ran are left out.
        pid = self.meta.get("pid", "")
        self.pid = int(pid) if pid.isdigit() else None
        self.other_processes = 0  # events left out for that
        self.t0 = 0
        cache = os.path.join(cache_dir, self.CACHE) if cache_dir else None
        if not (cache and self._read_cache(cache)):
            self._load()
            if cache and write_cache:
                self._write_cache(cache)
        if self.events:
            self.t0 = self.events[0][0]

    def _signature(self):
        sig = []
        for top, _, files in os.walk(str(self.path)):
            for name in files:
                st = os.stat(os.path.join(top, name))
                sig.append((os.path.relpath(os.path.join(top, name),
                                            str(self.path)),
                            st.st_size, st.st_mtime_ns))
        return sorted(sig)

    def _read_cache(self, cache):
        try:
            with open(cache, "rb") as f:
                saved = pickle.load(f)
        except (OSError, pickle.PickleError, EOFError, ValueError):
            return False
        if saved.get("signature") != self._signature():
            return False
        self.events = saved["events"]
        self.discarded = saved["discarded"]
        self.discarded_unknown = saved["discarded_unknown"]
        self.other_processes = saved.get("other_processes", 0)
        return True

    def _write_cache(self, cache):
        try:
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            with open(cache, "wb") as f:
                pickle.dump({"signature": self._signature(),
                             "events": self.events,
                             "discarded": self.discarded,
                             "discarded_unknown": self.discarded_unknown,
                             "other_processes": self.other_processes},
                            f, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:
            pass

    def _load(self):
        event_msg = bt2._EventMessageConst
        discarded_msg = bt2._DiscardedEventsMessageConst
        prefix = PROVIDER + ":"
        cut = len(prefix)
        pid = self.pid
        extra = {}
        append = self.events.append
        try:
            it = bt2.TraceCollectionMessageIterator(str(self.path))
            for msg in it:
                kind = type(msg)
                if kind is event_msg:
                    ev = msg.event
                    name = ev.name
                    if not name.startswith(prefix):
                        continue
                    if pid is not None:
                        try:
                            vpid = int(ev.common_context_field["vpid"])
                        except (KeyError, TypeError):
                            vpid = pid
                        if vpid != pid:
                            self.other_processes += 1
                            continue
                    name = name[cut:]
                    p = ev.payload_field
                    fields = FIELDS.get(name)
                    if fields is None:  # an event newer than this script
                        fields = extra.get(name)
                        if fields is None:
                            fields = tuple(k for k in p.keys()
                                           if k not in ("sched", "tid"))
                            extra[name] = fields
                    rec = [msg.default_clock_snapshot.ns_from_origin, name,
                           int(p["tid"]), int(p["sched"])]
                    for f in fields:
                        rec.append(int(p[f]))
                    append(tuple(rec))
                elif kind is discarded_msg:
                    if msg.count is None:
                        self.discarded_unknown += 1
                    else:
                        self.discarded += msg.count
        except (bt2._Error, RuntimeError, ValueError) as e:
            sys.stderr.write("sltrace: cannot read %s: %s\n" % (self.path, e))
            raise SystemExit(2)

    def counts(self):
        return collections.Counter(e[1] for e in self.events)

    def by_thread(self):
        threads = collections.defaultdict(list)
        for e in self.events:
            threads[e[2]].append(e)
        return threads

    def variant(self):
        return self.meta.get("variant") or None


def read_run_file(path):
    """DIR/schedlab-run.txt, written by record.sh (key=value lines)."""
    meta = {}
    try:
        with open(os.path.join(str(path), "schedlab-run.txt")) as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition("=")
                if key:
                    meta[key] = value
    except OSError:
        pass
    return meta


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def results_dir(trace_path):
    """Where analyze.py puts a trace's tables: results/trace/<trace name>."""
    return os.path.join(repo_root(), "results", "trace",
                        os.path.basename(os.path.normpath(str(trace_path))))


def variant_text(variant):
    """The variant file's text with the variant files it includes (tuned
    includes its parts); None when there is no file."""
    name = "fixed-budget" if variant.startswith("budget-") else variant
    path = os.path.join(repo_root(), "variants", name + ".h")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    for inc in re.findall(r'#\s*include\s+"([\w.-]+)\.h"', text):
        text += variant_text(inc) or ""
    return text


def variant_has_event_interval(variant):
    """Whether a build polls the reactor only every N handlers when the
    sentinel is popped with handlers queued (event-interval, tuned): the
    reactor then no longer runs once per pass over the queue."""
    if not variant or variant == "ref":
        return False
    text = variant_text(variant)
    return text is not None and re.search(
        r"#\s*define\s+SL_VARIANT_REACTOR_PASS\b", text) is not None


def variant_batch(variant):
    """How many ops a thread of the build takes from the queue per lock
    beyond the first (batch-drain, tuned: SL_BATCH - 1); 0 for the others."""
    if not variant or variant == "ref":
        return 0
    text = variant_text(variant)
    if text is None or not re.search(r"#\s*define\s+SL_VARIANT_BATCH\b", text):
        return 0
    m = re.search(r"#\s*define\s+SL_BATCH\s+(\d+)", text)
    return int(m.group(1)) - 1 if m else 0


def variant_has_sentinel(variant):
    """Whether a build keeps the task sentinel (M2): read from its variant
    file, so a new variant that drops it is recognised without editing."""
    if not variant or variant == "ref":
        return True
    if variant.startswith("uring"):
        return False  # the io_uring scheduler: a leader flag, no sentinel
    name = "fixed-budget" if variant.startswith("budget-") else variant
    try:
        with open(os.path.join(repo_root(), "variants", name + ".h")) as f:
            text = f.read()
    except OSError:
        return "no-sentinel" not in variant
    return re.search(r"#\s*define\s+SL_HAS_SENTINEL\s+0\b", text) is None


# ---- derived data --------------------------------------------------------

def role_intervals(threads):
    """Per thread, [(start, end, role)] while it is inside a run: the role is
    that of the innermost open phase, `idle` when none is open."""
    out = {}
    for tid, evs in threads.items():
        stack = []        # open phases, innermost last; "run" for a run
        intervals = []
        since = None
        current = None

        def switch(ts, role):
            nonlocal since, current
            if role == current:
                return
            if current is not None and since is not None and ts > since:
                intervals.append((since, ts, current))
            since, current = ts, role

        for e in evs:
            name = e[1]
            ts = e[0]
            if name == "run_begin":
                stack.append("run")
            elif name == "run_end":
                while stack and stack.pop() != "run":
                    pass
            elif name in ROLE_OF:
                stack.append(ROLE_OF[name])
            elif name in CLOSES:
                if stack and stack[-1] == CLOSES[name]:
                    stack.pop()
            else:
                continue
            if not stack:
                role = None
            elif stack[-1] == "run":
                role = "idle"
            else:
                role = stack[-1]
            switch(ts, role)
        if intervals:
            out[tid] = intervals
    return out


def reactor_runs(threads):
    """Every reactor run: dict(sched, tid, enter, exit, timeout_ms, nevents,
    descriptors, timer, before, after).  `before` is the thread's last
    phase end before reactor_enter and `after` its first phase start after
    reactor_exit: the sentinel is out of the queue only within that span."""
    runs = []
    for tid, evs in threads.items():
        last_end = None
        run = None        # the thread's latest run, until its `after`
        mine = []
        for e in evs:
            name = e[1]
            if run is not None and run["exit"] is not None:
                if name in PHASE_START:
                    run["after"] = e[0]
                    run = None
                elif name == "descriptor_ready":
                    run["descriptors"] += 1
                elif name == "timers_expired":
                    run["timer"] = 1
            if name == "reactor_enter":
                run = {"sched": e[3], "tid": tid, "enter": e[0], "exit": None,
                       "timeout_ms": e[4], "nevents": 0, "descriptors": 0,
                       "timer": 0, "after": None,
                       "before": e[0] if last_end is None else last_end}
                mine.append(run)
            elif name == "reactor_exit" and run is not None:
                run["exit"] = e[0]
                run["nevents"] = e[4]
            if name in PHASE_END:
                last_end = e[0]
        for r in mine:
            if r["exit"] is None:
                r["exit"] = evs[-1][0]
            if r["after"] is None:
                r["after"] = evs[-1][0]
        runs.extend(mine)
    runs.sort(key=lambda r: r["enter"])
    return runs


def storm_window(trace, min_handlers=1000):
    """The post storm: on the scheduler that ran the most user handlers,
    from its first to its last user handler_begin.  None when fewer than
    `min_handlers` user handlers ran (no storm in this trace)."""
    per_sched = collections.Counter()
    first, last = {}, {}
    for e in trace.events:
        if e[1] == "handler_begin" and e[5] == KIND_USER:
            per_sched[e[3]] += 1
            first.setdefault(e[3], e[0])
            last[e[3]] = e[0]
    if not per_sched:
        return None
    sched, n = per_sched.most_common(1)[0]
    if n < min_handlers:
        return None
    return {"sched": sched, "start": first[sched], "end": last[sched],
            "handlers": n}


class IntervalIndex:
    """Answers: does any of these [start, end] intervals meet [a, b]?"""

    def __init__(self, intervals):
        intervals = sorted(intervals)
        self.starts = [s for s, _ in intervals]
        self.max_end = []
        m = None
        for _, end in intervals:
            m = end if m is None or end > m else m
            self.max_end.append(m)

    def meets(self, a, b):
        i = bisect.bisect_right(self.starts, b)
        return i > 0 and self.max_end[i - 1] >= a


def fmt_ns(ns):
    if ns >= 1e9:
        return "%.3f s" % (ns / 1e9)
    if ns >= 1e6:
        return "%.3f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.1f us" % (ns / 1e3)
    return "%d ns" % ns
