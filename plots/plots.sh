#!/usr/bin/env bash
# plots/plots.sh - draws every figure of one results directory into
# <dir>/plots/ as SVG and PNG: a bar chart per workload and parameter, the
# thread-scaling curves, the budget sweep, the starvation timelines and
# one ratio chart per ablation.  Usage: plots/plots.sh [results/<ts>]
# (default results/latest; `make plots` runs it).
set -u
cd "$(dirname "$0")/.." || exit 1
dir=${1:-results/latest}
[ -s "$dir/summary.csv" ] || { echo "plots.sh: $dir/summary.csv missing" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plots.sh: gnuplot not found (tools/ensure-deps gnuplot-nox)" >&2; exit 1; }
out=$dir/plots
mkdir -p "$out/data"
[ -s "$dir/verdicts.csv" ] || bench/verdicts.sh "$dir" 2>/dev/null
cores=$(sed -n 's/^cores (nproc): *//p' "$dir/machine.txt" 2>/dev/null)
awk -v summary="$dir/summary.csv" -v verdicts="$dir/verdicts.csv" -v impls="$dir/impls.csv" \
    -v cores="${cores:-1}" -v outdir="$out/data" -f bench/lib.awk -f plots/data.awk || exit 1

failed=0
draw() { # script, args...
    local script=$1; shift
    if ! gnuplot -c "plots/$script.gp" "$@" 2>>"$out/data/gnuplot.log"; then
        echo "plots.sh: $script failed for $2 (see $out/data/gnuplot.log)" >&2
        failed=$((failed + 1))
    fi
}

while IFS=$'\t' read -r kind data name title ylabel extra; do
    case "$kind" in
    bars) draw bars "$data" "$out/$name" "$title" "$ylabel" "$extra" ;;
    scaling) draw scaling "$data" "$out/$name" "$title" "$ylabel" "$extra" ;;
    budget) draw budget "$data" "$out/$name" "$title" "$ylabel" "$extra" ;;
    ratios) draw ratios "$data" "$out/$name" "$title" "$ylabel" "$extra" ;;
    esac
done < "$out/data/figures.list"

# Starvation timelines: ref against no-sentinel (the spec's pair) when both
# wrote one, else whatever was written.
tl=$dir/starvation
if ls "$tl"/*.tsv >/dev/null 2>&1; then
    impls=""
    for i in ref no-sentinel; do [ -s "$tl/$i.tsv" ] && impls="$impls $i"; done
    [ -z "$impls" ] && impls=$(ls "$tl" | sed -n 's/\.tsv$//p' | head -3)
    impls=$(echo $impls)
    draw starvation "$tl" "$out/starvation_timer" timer "$impls"
    draw starvation "$tl" "$out/starvation_rtt" rtt "$impls"
fi

n=$(ls "$out"/*.svg 2>/dev/null | wc -l)
echo "plots: $n figures (SVG and PNG) in $out${failed:+, $failed failed}" | sed 's/, 0 failed//'
[ "$failed" = 0 ]
