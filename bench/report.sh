#!/usr/bin/env bash
# bench/report.sh - writes report.md for one results directory to stdout:
# the machine, the ablation tables, the budget sweep, the spec's targets
# against the peers and floors (bench/report.awk), every gap the run noted,
# and the figures.  Usage: bench/report.sh results/<timestamp>
set -u
dir=${1:?usage: bench/report.sh RESULTS_DIR}
here=$(dirname "$0")
[ -s "$dir/summary.csv" ] || { echo "report.sh: $dir/summary.csv missing or empty" >&2; exit 1; }

echo "# schedlab benchmark report ($(basename "$(cd "$dir" && pwd)"))"
echo
echo "## Machine"
echo
echo '```'
cat "$dir/machine.txt" 2>/dev/null || echo "(machine.txt missing)"
echo '```'
echo
echo "Figures: \`summary.csv\` ($(($(wc -l < "$dir/summary.csv") - 1)) rows: mean and 95% CI" \
     "over the runs), \`raw.csv\` (every sample), \`hyperfine/*.json\` (whole-process times)."
echo "Every number below was taken in this run, on this machine; timings on a shared" \
     "VM are noisy, so read the confidence intervals, not the digits.  hyperfine runs" \
     "one variant's runs after another's: load from other processes that comes and goes" \
     "during a run (see the load averages above) lands on some variants and not others," \
     "which shows most in the tail percentiles (p99, p999) and the multi-thread workloads."
echo

awk -v summary="$dir/summary.csv" -f "$here/lib.awk" -f "$here/report.awk"

echo "## Gaps"
echo
if [ -s "$dir/notes.txt" ]; then
    echo "What did not run, or ran with a caveat (notes.txt has each one in full)."
    echo
    # Workloads a peer does not implement, one line per peer.
    awk '/: not implemented by the peer/ {
             split($0, f, " "); peer = f[3]; sub(/:$/, "", peer)
             if (!((peer, f[1]) in seen)) { seen[peer, f[1]] = 1; list[peer] = list[peer] (list[peer] == "" ? "" : ", ") f[1] }
             if (!(peer in order)) order[peer] = ++np
         }
         END { for (p in order) byorder[order[p]] = p
               for (i = 1; i <= np; i++) printf "- %s does not implement: %s\n", byorder[i], list[byorder[i]] }' "$dir/notes.txt"
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
