#!/usr/bin/env bash
# bench/report.sh - writes report.md for one results directory to stdout:
# the machine, the verdicts, the A/A control, the ablation tables, the
# unexplained verdicts, what was not judged, the budget sweep, the spec's
# targets against the peers and floors (bench/report.awk), every gap the
# run noted, and the figures.  Usage: bench/report.sh results/<timestamp>
set -u
dir=${1:?usage: bench/report.sh RESULTS_DIR}
here=$(dirname "$0")
[ -s "$dir/summary.csv" ] || { echo "report.sh: $dir/summary.csv missing or empty" >&2; exit 1; }

echo "# schedlab benchmark report ($(basename "$(cd "$dir" && pwd -P)"))"
echo
echo "## Machine"
echo
echo '```'
cat "$dir/machine.txt" 2>/dev/null || echo "(machine.txt missing)"
echo '```'
echo
echo "Figures: \`summary.csv\` ($(($(wc -l < "$dir/summary.csv") - 1)) rows: mean and 95% CI" \
     "over the rounds), \`verdicts.csv\` (every variant against the base, paired by round, with" \
     "the A/A control and the counters), \`raw.csv\` (every sample, with its round)," \
     "\`order.csv\` (every round's random order), \`hyperfine/*.json\` (whole-process times," \
     "the rounds merged; each round's own file under \`hyperfine/rounds/\`)."
echo "Every number below was taken in this run, on this machine.  Timings on a shared" \
     "machine are noisy: the method (interleaved rounds in a random order, an A/A control," \
     "verdicts checked against the mechanism counters) is there so that what is called a" \
     "difference survives that noise; what does not is said to."
echo

[ -s "$dir/verdicts.csv" ] || { bench/verdicts.sh "$dir" 2>/dev/null || echo "(no verdicts.csv: a run made before the interleaved method has no verdicts)"; echo; }
cores=$(sed -n 's/^cores (nproc): *//p' "$dir/machine.txt" 2>/dev/null)
awk -v summary="$dir/summary.csv" -v verdicts="$dir/verdicts.csv" -v impls="$dir/impls.csv" \
    -v cores="${cores:-1}" -f "$here/lib.awk" -f "$here/report.awk"

echo "## Gaps"
echo
if [ -s "$dir/notes.txt" ]; then
    echo "What did not run, or ran with a caveat (notes.txt has each one in full)."
    echo
    # Workloads a peer does not implement, one line per peer and reason
    # (the program's own words, after "for <peer>: ").
    awk '/: not implemented by the peer/ {
             split($0, f, " "); peer = f[3]; sub(/:$/, "", peer)
             why = $0; sub(/^[^(]*\(/, "", why); sub(/\)$/, "", why)
             if (index(why, "for " peer ": ")) why = substr(why, index(why, "for " peer ": ") + length("for " peer ": "))
             else { sub(/^[^ :]*: /, "", why); if (why ~ /^unknown workload/ || why == "") why = "no version in the program" }
             wl = f[1] (f[2] == "-" ? "" : " " f[2])
             k = peer SUBSEP why
             if (!((k, wl) in seen)) { seen[k, wl] = 1; list[k] = list[k] (list[k] == "" ? "" : ", ") wl }
             if (!(k in order)) order[k] = ++nk
         }
         END { for (k in order) byorder[order[k]] = k
               for (i = 1; i <= nk; i++) { split(byorder[i], pk, SUBSEP)
                   printf "- %s does not implement %s: %s\n", pk[1], list[byorder[i]], pk[2] } }' "$dir/notes.txt"
    grep -v ': not implemented by the peer' "$dir/notes.txt" | sed 's/^/- /'
else
    echo "None: every selected program ran every time."
fi
echo

echo "## Figures"
echo
if ls "$dir"/plots/*.svg >/dev/null 2>&1; then
    for f in "$dir"/plots/*.svg; do
        b=$(basename "$f" .svg)
        echo "- [$b](plots/$b.svg) ([png](plots/$b.png))"
    done
else
    echo "None drawn (gnuplot missing or plotting failed; \`make plots\` redraws)."
fi
