# bench/report.awk - the tables of report.md, from verdicts.csv,
# summary.csv and impls.csv (run with bench/lib.awk; bench/report.sh adds
# the machine, the gaps and the figures).
#
#   awk -v summary=FILE -v verdicts=FILE -v impls=FILE -v cores=N \
#       -f bench/lib.awk -f bench/report.awk
#
# Verdicts at a glance; the A/A control on every workload; one table per
# ablation (every impl of kind variant) with its side effects; the
# unexplained verdicts in one list; what was not judged on this machine's
# cores; the budget sweep; the spec's targets against the peers and floors;
# the base against every peer and floor.

BEGIN {
    load_summary(summary)
    load_impls(impls)
    counters_init()
    load_verdicts(verdicts)
    glance()
    aa_table()
    ablations()
    unexplained()
    not_judged()
    backend_table()
    budget_table()
    targets()
    peers_table()
    starvation_table()
}

# verdicts.csv into R_<field>[1..NR_V], and the variants in first-seen
# order into VAR[1..NVAR].
function load_verdicts(file,    line, f, n) {
    NR_V = 0; NVAR = 0
    while ((getline line < file) > 0) {
        n = split(line, f, ",")
        if (f[1] == "impl") continue
        NR_V++
        R_IMPL[NR_V] = f[1]; R_W[NR_V] = f[2]; R_P[NR_V] = f[3]; R_TH[NR_V] = f[4]
        R_M[NR_V] = f[5]; R_N[NR_V] = f[6]; R_BM[NR_V] = f[7]; R_VM[NR_V] = f[8]
        R_R[NR_V] = f[9]; R_LO[NR_V] = f[10]; R_HI[NR_V] = f[11]
        R_AR[NR_V] = f[12]; R_ALO[NR_V] = f[13]; R_AHI[NR_V] = f[14]
        R_V[NR_V] = f[15]; R_C[NR_V] = f[16]
        if (f[1] != AA && !(f[1] in SEEN_VAR)) { SEEN_VAR[f[1]] = 1; VAR[++NVAR] = f[1] }
    }
    close(file)
}

function rfmt(r, lo, hi) {
    if (r == "") return "—"
    return sprintf("%.3f [%.3f, %.3f]", r, lo, hi)
}

function vfmt(x, m) { return (x == "") ? "—" : fmt(x + 0, m) }

function glance(    i, v, c, codes, nc, j, n, tot, line) {
    print "## Verdicts at a glance"
    print ""
    print "How to read the verdicts.  Each comparison ran in " R_N[1] " rounds (see Machine: " \
          "\"mode\"); in every round each implementation ran once, in a fresh random order, so a " \
          "change in machine load lands on all of them alike.  The ratio is variant / " BASE \
          " paired by round (geometric mean of the rounds' ratios, Student-t 95% interval " \
          "on their logarithms).  `" AA "` is " BASE " built a second time from the same " \
          "source under its own name (the A/A control): it shows what noise alone does to " \
          "each figure in this run.  A verdict stands only when (1) the workload keeps at most " \
          "cores − 1 = " (cores - 1) " threads busy (else \"not judged on " cores " cores\"), " \
          "(2) the A/A comparison gave no verdict on the workload (else \"unreliable in this run\"), " \
          "(3) the interval excludes 1 (else \"no difference beyond noise\"), (4) the effect " \
          "exceeds the A/A's on that figure (|ln ratio| > |ln A/A ratio|; else " \
          "\"within A/A noise\"), and (5) a mechanism counter moved (else \"unexplained\": " \
          "listed together below, not a finding).  A counter moved when its per-op value " \
          "differs from " BASE "'s by at least 0.01 and 10%, and by more than " AA "'s does."
    print ""
    nc = split("faster slower unexplained-faster unexplained-slower within-aa-noise no-difference unreliable not-judged", codes, " ")
    line = "| variant |"
    for (j = 1; j <= nc; j++) line = line " " verdict_text(codes[j], cores) " |"
    print line " figures |"
    line = "|---|"
    for (j = 1; j <= nc + 1; j++) line = line "---|"
    print line
    for (i = 1; i <= NVAR; i++) {
        v = VAR[i]; delete c; tot = 0
        for (n = 1; n <= NR_V; n++) if (R_IMPL[n] == v) { c[R_V[n]]++; tot++ }
        line = "| " v " |"
        for (j = 1; j <= nc; j++) line = line " " (c[codes[j]] + 0) " |"
        print line " " tot " |"
    }
    print ""
}

function aa_table(    n, rows, bad, list, seen, wp) {
    print "## The A/A control: " AA " against " BASE
    print ""
    if (AA == "" ) { print "No A/A control in this run."; print ""; return }
    print "The same source built twice; any verdict here is noise, and marks the workload " \
          "\"unreliable in this run\" for every variant.  The A/A ratio also sets, per " \
          "figure, the effect a variant must exceed.  The two value columns are means over " \
          "the rounds; the ratio is the geometric mean of the rounds' paired ratios, so with " \
          "a noisy round it can differ from the quotient of the two means."
    print ""
    print "| workload | param | threads | metric | rounds | " BASE " | " AA " | A/A ratio [95% CI] | A/A verdict |"
    print "|---|---|---|---|---|---|---|---|---|"
    rows = 0; bad = 0
    for (n = 1; n <= NR_V; n++) {
        if (R_IMPL[n] != AA) continue
        rows++
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", R_W[n], R_P[n], R_TH[n], R_M[n], R_N[n],
            vfmt(R_BM[n], R_M[n]), vfmt(R_VM[n], R_M[n]), rfmt(R_R[n], R_LO[n], R_HI[n]), verdict_text(R_V[n], cores)
        if (R_V[n] != "aa-none") {
            bad++
            wp = R_W[n] " " R_P[n] (R_TH[n] > cores - 1 ? " (not judged anyway)" : "")
            if (!(wp in seen)) { seen[wp] = 1; list = list (list == "" ? "" : ", ") wp }
        }
    }
    if (!rows) print "| (" AA " did not run) | | | | | | | | |"
    print ""
    printf "%d of %d A/A comparisons gave a verdict%s.\n\n", bad, rows,
        bad ? "; unreliable in this run: " list : ""
}

# Sentences for the counters that moved at one (workload, param) of v.
function side_effects(w, th,    i, up, txt, c) {
    delete up
    for (i = 1; i <= NMOVED; i++) up[MOVED_C[i]] = (MOVED_V[i] > MOVED_B[i]) ? 1 : -1
    txt = ""
    if (up["eventfd_writes"] == 1 && th == 1) {
        txt = txt " With one thread, every eventfd write is the thread interrupting its own reactor: " \
            "work it queued itself took the shared path, whose wake policy signals the reactor " \
            "(the reactor interrupts itself)"
        if (up["epoll_wait_blocking"] == 1) txt = txt ", and each interrupt costs one more blocking epoll_wait, which returns at once"
        txt = txt "."
    }
    if (up["post_shared"] == 1 && up["post_private"] == -1)
        txt = txt " Posts that went to the private queue now take the shared queue."
    if (up["mutex_locks"] == 1) txt = txt " More scheduler mutex acquisitions per op."
    if (up["inline_completions"] == -1 && (up["inline_posted"] == 1 || up["handlers_run"] == 1))
        txt = txt " Completions that ran inline now go through the queue."
    if (up["inline_completions"] == 1 && up["reactor_runs"] == -1)
        txt = txt " More completions inline, fewer reactor passes: the reactor (and every other descriptor) waits longer."
    if (up["reactor_runs"] == -1 && up["inline_completions"] != 1)
        txt = txt " Fewer reactor passes per op."
    return txt
}

function ablations(    i, v, n, rows, sp, key2, seen, txt, j, pb, counters) {
    print "## Ablations: what each mechanism buys"
    print ""
    print "Ratio = variant / " BASE " (paired by round), with its 95% interval; A/A = " AA " / " \
          BASE " on the same figure.  Faster means a higher rate or throughput, or a lower " \
          "time or latency.  wall_s is hyperfine's whole-process time for the same fixed work " \
          "(summary.csv also has cpu_s, its user + system CPU time, not judged: see bench/README.md).  " \
          "The last column lists every mechanism counter (stats builds, per operation) that " \
          "moved, most moved first."
    print ""
    for (i = 1; i <= NVAR; i++) {
        v = VAR[i]
        print "### " v
        print ""
        print "| workload | param | threads | metric | " BASE " | " v " | ratio [95% CI] | A/A [95% CI] | verdict | counters that moved (" BASE " → " v ") |"
        print "|---|---|---|---|---|---|---|---|---|---|"
        rows = 0; delete seen; sp = ""
        for (n = 1; n <= NR_V; n++) {
            if (R_IMPL[n] != v) continue
            rows++
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", R_W[n], R_P[n], R_TH[n], R_M[n],
                vfmt(R_BM[n], R_M[n]), vfmt(R_VM[n], R_M[n]), rfmt(R_R[n], R_LO[n], R_HI[n]),
                rfmt(R_AR[n], R_ALO[n], R_AHI[n]), verdict_text(R_V[n], cores), R_C[n]
            key2 = R_W[n] SUBSEP R_P[n]
            if (key2 in seen) continue
            seen[key2] = 1
            pb = (R_W[n] == "budget_sweep") ? PARAM_OF["budget_sweep", BASE] : R_P[n]
            counters = moved(R_W[n], pb, R_P[n], v, (R_W[n] == "budget_sweep") ? PARAM_OF["budget_sweep", AA] : R_P[n])
            if (NMOVED == 0) continue
            txt = ""
            for (j = 1; j <= NMOVED; j++)
                txt = txt (j > 1 ? "; " : "") sprintf("%s %.3g → %.3g per op (%s)", MOVED_C[j], MOVED_B[j], MOVED_V[j], MEANING[MOVED_C[j]])
            sp = sp sprintf("- **%s %s**: %s.%s\n", R_W[n], R_P[n], txt, side_effects(R_W[n], R_TH[n]))
        }
        if (!rows) print "| (no workload ran on both " BASE " and " v ") | | | | | | | | | |"
        print ""
        if (sp != "") {
            print "What the counters show for " v ", workload by workload (every counter that moved, " \
                  "side effects included):"
            print ""
            printf "%s", sp
            print ""
        }
    }
}

function unexplained(    n, cnt) {
    print "## Unexplained verdicts"
    print ""
    print "Differences beyond the interval and the A/A noise where no mechanism counter moved: " \
          "the variant's change is not exercised there, or acts through something the counters " \
          "do not see.  They are not findings; repeat them (`make compare`) before reading " \
          "anything into them."
    print ""
    cnt = 0
    for (n = 1; n <= NR_V; n++) {
        if (R_V[n] !~ /^unexplained-/) continue
        if (!cnt) { print "| variant | workload | param | metric | ratio [95% CI] | A/A [95% CI] | direction | counters |"; print "|---|---|---|---|---|---|---|---|" }
        cnt++
        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", R_IMPL[n], R_W[n], R_P[n], R_M[n],
            rfmt(R_R[n], R_LO[n], R_HI[n]), rfmt(R_AR[n], R_ALO[n], R_AHI[n]),
            substr(R_V[n], 13), R_C[n]
    }
    if (!cnt) print "None in this run."
    print ""
}

function not_judged(    n, seen, list, k) {
    print "## Not judged on " cores " cores"
    print ""
    list = ""
    for (n = 1; n <= NR_V; n++) {
        if (R_TH[n] <= cores - 1) continue
        k = R_W[n] " " R_P[n] " (" R_TH[n] " threads)"
        if (!(k in seen)) { seen[k] = 1; list = list (list == "" ? "" : ", ") k }
    }
    if (list == "") { print "Every workload of this run fits in cores − 1 = " (cores - 1) " threads: all were judged."; print ""; return }
    print "This machine has " cores " cores.  A workload that keeps more than cores − 1 = " \
          (cores - 1) " threads busy competes with everything else on the machine (the " \
          "driver, other tenants) for the cores, and its figures say more about the " \
          "scheduler of the OS than about the variant: its ratios are shown, but get no " \
          "verdict.  Threads counted: post_threads N runs N threads and a feeder, " \
          "post_concurrent N runs N, post_cross_thread a producer and a runner.  Not judged " \
          "here: " list "."
    print ""
}

# The verdict of uring against ref on one row (verdicts.csv, as for the
# variants).
function uring_verdict(w, p, m,    n) {
    for (n = 1; n <= NR_V; n++)
        if (R_IMPL[n] == "uring" && R_W[n] == w && R_P[n] == p && R_M[n] == m)
            return verdict_text(R_V[n], cores)
    return "—"
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
                    fmt_ratio(), uring_verdict(w, p, m[k]), backend_explain(w, p)
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
          "inline before the reactor (and B) get a turn.  Means over the rounds with their 95% intervals."
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
            fmt(MEAN[kr], "rtt_p99"), in_unit(LO[kr], MEAN[kr]), in_unit(HI[kr], MEAN[kr]),
            (ki in MEAN) ? sprintf("%.3g", MEAN[ki]) : "n/a",
            (kp in MEAN) ? sprintf("%.3g", MEAN[kp]) : "n/a"
    }
    print ""
}

# x (us) in the unit fmt() chose for mean (us, or ms from 1000 us), bare.
function in_unit(x, mean) { return (mean >= 1000) ? sprintf("%.3g", x / 1000) : sprintf("%.3g", x) }

# One target row: the base's figure against factor * peer's, `want` "ge" or "le".
function target(label, w, p, m, peer, factor, want,    kr, kp, ok, lim, noise) {
    kr = key(w, BASE, p, m); kp = key(w, peer, p, m)
    if (!HAS[w, BASE, p] && !HAS[w, peer, p]) return   # not in this run
    if (!(peer in SELECTED_PEER)) {
        printf "| %s | %s | not measured (%s not selected: PEERS=) |\n", label,
            (kr in MEAN) ? BASE " " fmt(MEAN[kr], m) : BASE ": none", peer
        return
    }
    if (!(kr in MEAN) || !(kp in MEAN)) {
        printf "| %s | %s | not measured (%s missing: see Gaps) |\n", label,
            ((kr in MEAN) ? BASE " " fmt(MEAN[kr], m) : BASE ": none") ", " \
            ((kp in MEAN) ? peer " " fmt(MEAN[kp], m) : peer ": none"), ((kr in MEAN) ? peer : BASE)
        return
    }
    lim = factor * MEAN[kp]
    ok = (want == "ge") ? MEAN[kr] >= lim : MEAN[kr] <= lim
    noise = ""
    if (ratio(kr, kp)) {
        if (RATIO_LO / factor <= 1 && RATIO_HI / factor >= 1) noise = " (within noise)"
    }
    printf "| %s | %s %s, %s %s: ratio %s | %s%s |\n", label, BASE, fmt(MEAN[kr], m), peer,
        fmt(MEAN[kp], m), fmt_ratio(), ok ? "met" : "missed", noise
}

function targets(    j, ms, w, p, m, peers, np, q, pl, sel, k) {
    if (BASE != "ref") return
    print "## Ref against the peers and floors: the spec's targets"
    print ""
    if (!NPEER) {
        print "No peer or floor ran in this run (PEERS=none, or none selected): no target is judged."
        print ""
        return
    }
    for (k = 1; k <= NPEER; k++) sel[PEER[k]] = SELECTED_PEER[PEER[k]] = 1
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
        if (!HAS[w, BASE, p]) continue
        split(primary(w), pl, " "); m = pl[1]
        for (q = 1; q <= np; q++)
            if (!(peers[q] in sel))
                continue
            else if (HAS[w, peers[q], p])
                target(sprintf("%s %s ahead of %s", w, p, peers[q]), w, p, m, peers[q], 1,
                    higher_better(m) ? "ge" : "le")
            else
                printf "| %s %s ahead of %s | %s has no %s (bench/peers.conf, or see Gaps) | not measured |\n", w, p, peers[q], peers[q], w
    }
    print ""
}

function peers_table(    j, ms, w, p, pl, m, q, line, kr, kp, rows, head, sep) {
    if (!NPEER) return
    print "## " BASE ", every peer and the floor, workload by workload"
    print ""
    print "Headline metric of each workload, measured in the same interleaved rounds; the " \
          "ratio is peer / " BASE " of the means (above 1: the peer has the higher number).  " \
          "The peers and floors are bench/peers.conf's."
    print ""
    head = "| workload | param | metric | " BASE; sep = "|---|---|---|---"
    for (q = 1; q <= NPEER; q++) {
        head = head " | " PEER[q] (PEER[q] == "floor-uring" ? " (io_uring limit)" : ""); sep = sep "|---"
    }
    print head " |"
    print sep "|"
    for (j = 1; j <= NWP; j++) {
        split(WP[j], ms, SUBSEP); w = ms[1]; p = ms[2]
        if (w == "budget_sweep") continue
        split(primary(w), pl, " "); m = pl[1]
        kr = key(w, BASE, p, m)
        if (!(kr in MEAN)) continue
        line = sprintf("| %s | %s | %s | %s", w, p, m, fmt(MEAN[kr], m))
        for (q = 1; q <= NPEER; q++) {
            kp = key(w, PEER[q], p, m)
            if (!(kp in MEAN)) line = line " | —"
            else if (ratio(kp, kr)) line = line sprintf(" | %s (%.2f×)", fmt(MEAN[kp], m), RATIO)
            else line = line " | " fmt(MEAN[kp], m)
        }
        print line " |"
        rows++
    }
    if (!rows) print "| (" BASE " did not run) | | | |"
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
    for (q = 1; q <= NWP; q++) if (index(WP[q], w SUBSEP) == 1) rows = -1
    if (!rows) return  # starvation was not selected
    rows = 0
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
    print "A lateness or rtt near the storm's length means the timer or ping-pong was served " \
          "only when the storm ended: that figure, and its ratio to " BASE ", grow with the run " \
          "(BENCH_T), and its interval can be of zero width."
    print ""
}
