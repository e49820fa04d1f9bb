# bench/report.awk - the tables of report.md, from summary.csv (run with
# bench/lib.awk; bench/report.sh adds the machine, the gaps and the figures).
#
#   awk -v summary=FILE -f bench/lib.awk -f bench/report.awk
#
# One table per ablation (every impl that is a variant of ref, not a
# budget-N build), the budget sweep, the spec's targets against the peers
# and floors, and ref against every peer.

BEGIN {
    load_summary(summary)
    COUNTERS = "mutex_locks post_private post_shared cond_notify_one cond_notify_all " \
               "cond_waits eventfd_writes eventfd_skipped epoll_wait_blocking " \
               "epoll_wait_zero timerfd_settime reactor_runs handlers_run " \
               "inline_completions inline_posted"
    ablations()
    backend_table()
    budget_table()
    targets()
    peers_table()
    starvation_table()
}

# The param of impl for workload w at the (workload, param) pair p: the
# budget sweep's param is the cap, different for every build.
function param_for(w, impl, p) {
    if (w == "budget_sweep") return ((w SUBSEP impl) in PARAM_OF) ? PARAM_OF[w, impl] : ""
    return p
}

# The counter whose per-op value differs most between ref and v: the
# largest relative change (|v - r| / max(v, r)), among counters that moved
# by at least 0.01 per op (less is noise, or too rare to cost anything);
# ties go to the larger absolute change.
function explain(w, pr, pv, v,    n, c, i, kr, kv, d, rel, best, brel, bd, br, bv, any) {
    n = split(COUNTERS, c, " ")
    brel = -1; bd = 0; any = 0
    for (i = 1; i <= n; i++) {
        kr = key(w, "ref", pr, c[i] "_per_op"); kv = key(w, v, pv, c[i] "_per_op")
        if (!(kr in MEAN) || !(kv in MEAN)) continue
        any = 1
        d = MEAN[kv] - MEAN[kr]; if (d < 0) d = -d
        if (d < 0.01) continue
        rel = d / (MEAN[kv] > MEAN[kr] ? MEAN[kv] : MEAN[kr])
        rel = int(rel * 100 + 0.5) / 100
        if (rel > brel || (rel == brel && d > bd)) {
            brel = rel; bd = d; best = c[i]; br = MEAN[kr]; bv = MEAN[kv]
        }
    }
    if (!any) return "no counters (stats builds missing)"
    if (brel < 0) return "none: no counter moved by 0.01 per op"
    return sprintf("%s_per_op %.3g → %.3g", best, br, bv)
}

function ablations(    i, v, j, w, p, pr, pv, nm, ms, k, m, mlist, rows, seen) {
    print "## Ablations: what each mechanism buys"
    print ""
    print "Ratio = variant / ref of the mean, with its 95% confidence interval " \
          "(Student t, log scale); \"no difference beyond noise\" when that interval " \
          "contains 1.  Faster means a higher rate or throughput, or a lower time or " \
          "latency.  The counter column names the mechanism counter (stats builds, per " \
          "operation) that differs most between ref and the variant.  wall_s is " \
          "hyperfine's whole-process time for the same fixed amount of work."
    print ""
    for (i = 1; i <= NIMPL; i++) {
        v = IMPL[i]
        if (impl_kind(v) != "variant") continue
        print "### " v
        print ""
        print "| workload | param | metric | ref | " v " | ratio [95% CI] | verdict | counter that explains it (ref → " v ") |"
        print "|---|---|---|---|---|---|---|---|"
        rows = 0
        for (j = 1; j <= NWP; j++) {
            split(WP[j], ms, SUBSEP); w = ms[1]; p = ms[2]
            pr = param_for(w, "ref", p); pv = param_for(w, v, p)
            if (w == "budget_sweep") {
                if (("budget_sweep" SUBSEP v) in seen) continue
                seen["budget_sweep", v] = 1
            }
            if (!(HAS[w, "ref", pr] && HAS[w, v, pv])) continue
            mlist = primary(w) " wall_s"
            nm = split(mlist, m, " ")
            for (k = 1; k <= nm; k++) {
                if (!has(w, "ref", pr, m[k]) || !has(w, v, pv, m[k])) continue
                if (ratio(key(w, v, pv, m[k]), key(w, "ref", pr, m[k])))
                    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", w, (pr == pv ? p : pr " / " pv), m[k],
                        fmt(MEAN[key(w, "ref", pr, m[k])], m[k]), fmt(MEAN[key(w, v, pv, m[k])], m[k]),
                        fmt_ratio(), verdict(m[k]), explain(w, pr, pv, v)
                else
                    printf "| %s | %s | %s | %s | %s | n/a | not comparable (a zero mean) | %s |\n", w, p, m[k],
                        fmt(MEAN[key(w, "ref", pr, m[k])], m[k]), fmt(MEAN[key(w, v, pv, m[k])], m[k]),
                        explain(w, pr, pv, v)
                rows++
            }
        }
        if (!rows) print "| (no workload ran on both ref and " v ") | | | | | | | |"
        print ""
    }
}

# A counter's per-op mean, or "-" when the stats run did not report it.
function per_op(w, impl, p, c,    k) {
    k = key(w, impl, p, c "_per_op")
    return (k in MEAN) ? sprintf("%.3g", MEAN[k]) : "-"
}

# What each design pays per operation: ref's reactor calls and eventfd
# writes; uring's io_uring_enter calls, SQEs, CQEs per enter, wake-ups.
function backend_explain(w, p,    e, c, cpe) {
    e = key(w, "uring", p, "uring_enters_per_op"); c = key(w, "uring", p, "uring_cqes_per_op")
    cpe = ((e in MEAN) && (c in MEAN) && MEAN[e] > 0) ? sprintf("%.3g", MEAN[c] / MEAN[e]) : "-"
    return sprintf("ref: epoll_wait %s+%s, eventfd %s, locks %s; uring: enter %s, SQE %s, CQE/enter %s, wake-ups %s, locks %s",
        per_op(w, "ref", p, "epoll_wait_blocking"), per_op(w, "ref", p, "epoll_wait_zero"),
        per_op(w, "ref", p, "eventfd_writes"), per_op(w, "ref", p, "mutex_locks"),
        per_op(w, "uring", p, "uring_enters"), per_op(w, "uring", p, "uring_submits"), cpe,
        per_op(w, "uring", p, "eventfd_writes"), per_op(w, "uring", p, "mutex_locks"))
}

function backend_table(    i, any, j, w, p, ms, mlist, nm, m, k, rows) {
    any = 0
    for (i = 1; i <= NIMPL; i++) if (IMPL[i] == "uring") any = 1
    if (!any) return
    print "## The epoll scheduler vs the io_uring scheduler"
    print ""
    print "ref (upstream's epoll scheduler) against uring (upstream's io_uring " \
          "scheduler, uring/): ratio = uring / ref of the mean, 95% CI as above.  " \
          "The last column gives, per operation (stats builds), what each design " \
          "pays: ref's epoll_wait calls (blocking+zero), eventfd writes and mutex " \
          "locks; uring's io_uring_enter calls, SQEs submitted, CQEs reaped per " \
          "enter, wake-ups (eventfd writes) and mutex locks."
    print ""
    print "| workload | param | metric | ref | uring | ratio [95% CI] | verdict | per op |"
    print "|---|---|---|---|---|---|---|---|"
    rows = 0
    for (j = 1; j <= NWP; j++) {
        split(WP[j], ms, SUBSEP); w = ms[1]; p = ms[2]
        if (w == "budget_sweep") continue
        if (!(HAS[w, "ref", p] && HAS[w, "uring", p])) continue
        mlist = primary(w) " wall_s"
        nm = split(mlist, m, " ")
        for (k = 1; k <= nm; k++) {
            if (!has(w, "ref", p, m[k]) || !has(w, "uring", p, m[k])) continue
            if (ratio(key(w, "uring", p, m[k]), key(w, "ref", p, m[k])))
                printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", w, p, m[k],
                    fmt(MEAN[key(w, "ref", p, m[k])], m[k]), fmt(MEAN[key(w, "uring", p, m[k])], m[k]),
                    fmt_ratio(), verdict(m[k]), backend_explain(w, p)
            else
                printf "| %s | %s | %s | %s | %s | n/a | not comparable (a zero mean) | %s |\n", w, p, m[k],
                    fmt(MEAN[key(w, "ref", p, m[k])], m[k]), fmt(MEAN[key(w, "uring", p, m[k])], m[k]),
                    backend_explain(w, p)
            rows++
        }
    }
    if (!rows) print "| (no workload ran on both ref and uring) | | | | | | | |"
    print ""
}

function budget_table(    i, v, p, kb, kr, ki, kp, order, n, c) {
    n = 0
    for (i = 1; i <= NIMPL; i++) {
        v = IMPL[i]
        if (HAS["budget_sweep", v, PARAM_OF["budget_sweep", v]]) order[++n] = v
    }
    if (!n) return
    print "## Inline budget sweep"
    print ""
    print "Connection A streams (64 KiB writes, 4 KiB reads, always ready); connection B " \
          "ping-pongs 64 B on the same thread.  A larger cap lets A run more completions " \
          "inline before the reactor (and B) get a turn."
    print ""
    print "| build | cap | A throughput [95% CI] | B rtt_p50 | B rtt_p99 [95% CI] | reactor runs per A read | completions posted, not inline, per A read |"
    print "|---|---|---|---|---|---|---|"
    for (c = 1; c <= n; c++) {
        v = order[c]; p = PARAM_OF["budget_sweep", v]
        kb = key("budget_sweep", v, p, "bytes_per_s"); kr = key("budget_sweep", v, p, "rtt_p99")
        ki = key("budget_sweep", v, p, "reactor_runs_per_op")
        kp = key("budget_sweep", v, p, "inline_posted_per_op")
        printf "| %s | %s | %s [%s, %s] | %s | %s [%s, %s] | %s | %s |\n", v, p,
            fmt(MEAN[kb], "bytes_per_s"), si(LO[kb]), si(HI[kb]),
            fmt(MEAN[key("budget_sweep", v, p, "rtt_p50")], "rtt_p50"),
            fmt(MEAN[kr], "rtt_p99"), sprintf("%.3g", LO[kr]), sprintf("%.3g", HI[kr]),
            (ki in MEAN) ? sprintf("%.3g", MEAN[ki]) : "n/a",
            (kp in MEAN) ? sprintf("%.3g", MEAN[kp]) : "n/a"
    }
    print ""
}

# One target row: ref's figure against factor * peer's, `want` "ge" or "le".
function target(label, w, p, m, peer, factor, want,    kr, kp, ok, lim, noise) {
    kr = key(w, "ref", p, m); kp = key(w, peer, p, m)
    if (!(kr in MEAN) || !(kp in MEAN)) {
        printf "| %s | %s | not measured (%s missing: see Gaps) |\n", label,
            ((kr in MEAN) ? "ref " fmt(MEAN[kr], m) : "ref: none") ", " \
            ((kp in MEAN) ? peer " " fmt(MEAN[kp], m) : peer ": none"), ((kr in MEAN) ? peer : "ref")
        return
    }
    lim = factor * MEAN[kp]
    ok = (want == "ge") ? MEAN[kr] >= lim : MEAN[kr] <= lim
    noise = ""
    if (ratio(kr, kp)) {
        if (RATIO_LO / factor <= 1 && RATIO_HI / factor >= 1) noise = " (within noise)"
    }
    printf "| %s | ref %s, %s %s: ratio %s | %s%s |\n", label, fmt(MEAN[kr], m), peer,
        fmt(MEAN[kp], m), fmt_ratio(), ok ? "met" : "missed", noise
}

function targets(    j, ms, w, p, m, peers, np, q, pl) {
    print "## Ref against the peers and floors: the spec's targets"
    print ""
    print "Met or missed on the means; \"(within noise)\" when the 95% CI of the ratio " \
          "still reaches the target's threshold."
    print ""
    print "| target | numbers | result |"
    print "|---|---|---|"
    target("post_single ≥ 1.5× asio", "post_single", 0, "rate", "asio", 1.5, "ge")
    target("pingpong_tcp 64 B rtt_mean ≤ asio", "pingpong_tcp", 64, "rtt_mean", "asio", 1, "le")
    target("pingpong_tcp 64 B rtt_mean ≤ 1.1× floor", "pingpong_tcp", 64, "rtt_mean", "floor", 1.1, "le")
    target("throughput_oneway 1 KB ≥ asio", "throughput_oneway", 1024, "bytes_per_s", "asio", 1, "ge")
    target("throughput_oneway 64 KB ≥ asio", "throughput_oneway", 65536, "bytes_per_s", "asio", 1, "ge")
    target("timer_schedule_cancel ≥ asio", "timer_schedule_cancel", 0, "rate", "asio", 1, "ge")
    np = split("libuv libevent tokio-ct tokio-mt", peers, " ")
    for (j = 1; j <= NWP; j++) {
        split(WP[j], ms, SUBSEP); w = ms[1]; p = ms[2]
        if (w !~ /^post_/ && w !~ /^pingpong_/) continue
        split(primary(w), pl, " "); m = pl[1]
        for (q = 1; q <= np; q++)
            if (HAS[w, peers[q], p])
                target(sprintf("%s %s ahead of %s", w, p, peers[q]), w, p, m, peers[q], 1,
                    higher_better(m) ? "ge" : "le")
            else
                printf "| %s %s ahead of %s | %s has no %s (see Gaps) | not measured |\n", w, p, peers[q], peers[q], w
    }
    print ""
}

function peers_table(    j, ms, w, p, pl, m, q, np, peers, line, kr, kp, rows) {
    print "## Ref, every peer and the floor, workload by workload"
    print ""
    print "Headline metric of each workload; the ratio is peer / ref (above 1: the peer " \
          "has the higher number)."
    print ""
    print "| workload | param | metric | ref | asio | libuv | libevent | tokio-ct | tokio-mt | floor | floor-uring (io_uring limit) |"
    print "|---|---|---|---|---|---|---|---|---|---|---|"
    np = split("asio libuv libevent tokio-ct tokio-mt floor floor-uring", peers, " ")
    for (j = 1; j <= NWP; j++) {
        split(WP[j], ms, SUBSEP); w = ms[1]; p = ms[2]
        if (w == "budget_sweep") continue
        split(primary(w), pl, " "); m = pl[1]
        kr = key(w, "ref", p, m)
        if (!(kr in MEAN)) continue
        line = sprintf("| %s | %s | %s | %s", w, p, m, fmt(MEAN[kr], m))
        for (q = 1; q <= np; q++) {
            kp = key(w, peers[q], p, m)
            if (!(kp in MEAN)) line = line " | —"
            else if (ratio(kp, kr)) line = line sprintf(" | %s (%.2f×)", fmt(MEAN[kp], m), RATIO)
            else line = line " | " fmt(MEAN[kp], m)
        }
        print line " |"
        rows++
    }
    if (!rows) print "| (ref did not run) | | | | | | | | | | |"
    print ""
}

# starvation: how each implementation serves a timer and a socket during a
# post storm, with the mechanism each one relies on.
function starvation_table(    np, peers, q, w, kl, kr, ks, why, rows) {
    w = "starvation"
    why["ref"] = "the task sentinel: the reactor runs once per pass over the queue (M2)"
    why["no-sentinel"] = "no sentinel: the reactor runs only when the queue is empty"
    why["asio"] = "the reactor is an operation in the handler queue (task_operation_), as ref's sentinel"
    why["libuv"] = "the storm is idle handles: one callback each per loop iteration, then a zero-timeout poll"
    why["libevent"] = "an event re-activated from its callback joins the active queue being drained: no poll until the storm ends (max_dispatch_callbacks not set)"
    why["tokio-ct"] = "yield_now defers the task until after the next driver poll (1.23+); the driver is also polled every 61 task polls (event_interval); timers have a 1 ms wheel"
    why["tokio-mt"] = why["tokio-ct"] "; one worker"
    print "## Starvation: a post storm against a 1 ms timer and a ping-pong"
    print ""
    print "| impl | storm handlers | timer lateness p99 | ping-pong rtt p99 | why |"
    print "|---|---|---|---|---|"
    np = split("ref no-sentinel asio libuv libevent tokio-ct tokio-mt", peers, " ")
    for (q = 1; q <= np; q++) {
        ks = key(w, peers[q], 0, "rate"); kl = key(w, peers[q], 0, "lateness_p99")
        kr = key(w, peers[q], 0, "rtt_p99")
        if (!(kl in MEAN)) continue
        printf "| %s | %s | %s | %s | %s |\n", peers[q], (ks in MEAN) ? fmt(MEAN[ks], "rate") : "—",
            fmt(MEAN[kl], "lateness_p99"), (kr in MEAN) ? fmt(MEAN[kr], "rtt_p99") : "—", why[peers[q]]
        rows++
    }
    if (!rows) print "| (starvation did not run) | | | | |"
    print ""
}
