#!/usr/bin/env bash
# bench/verdicts.sh - writes verdicts.csv for one results directory (every
# variant against the base, paired by round, with the A/A control and the
# counters: bench/verdicts.awk says how each verdict is reached).
#   bench/verdicts.sh results/<timestamp>
set -u
dir=${1:?usage: bench/verdicts.sh RESULTS_DIR}
here=$(dirname "$0")
[ -s "$dir/raw.csv" ] || { echo "verdicts.sh: $dir/raw.csv missing" >&2; exit 1; }
head -1 "$dir/raw.csv" | grep -q ',round$' ||
    { echo "verdicts.sh: $dir/raw.csv has no round column (a run made before the interleaved method): no verdicts" >&2; exit 1; }
cores=$(sed -n 's/^cores (nproc): *//p' "$dir/machine.txt" 2>/dev/null)
awk -F, -v summary="$dir/summary.csv" -v impls="$dir/impls.csv" -v cores="${cores:-1}" \
    -f "$here/lib.awk" -f "$here/verdicts.awk" "$dir/raw.csv" > "$dir/verdicts.csv.tmp" &&
    mv "$dir/verdicts.csv.tmp" "$dir/verdicts.csv"
