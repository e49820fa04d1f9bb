#!/usr/bin/env bash
# bench/instructions.sh - instructions per handler (valgrind callgrind's Ir)
# of the three loops of bench/ir_loops.c, for timed builds of this tree and,
# with -r, of an earlier revision beside them.  An instruction count does
# not move with the machine's load: it measures a hot-path change (a lock
# pair, a compare) that timings on a shared 2-core machine cannot resolve.
# It says nothing about cache misses, contention or syscalls' cost in time.
#
# Usage: bench/instructions.sh [-r REV] [BUILD...]     (make instructions)
#   BUILD  timed builds: ref (default), a variant, uring, budget-N, <build>-aa
#   -r REV also build each BUILD at git revision REV (in a temporary git
#          worktree, removed at the end) and print its count and the change
# Each count is (Ir at 2N - Ir at N) / N handlers, N = 64000, so start-up
# and shutdown cancel out; callgrind is deterministic to a few instructions.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "instructions.sh: $*" >&2; exit 1; }

rev=""
while getopts "r:h" o; do
    case $o in
    r) rev=$OPTARG ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
builds=("$@")
[ ${#builds[@]} -eq 0 ] && builds=(ref)
# known BUILD: ref, uring, a variant file, budget-N (a fixed cap), or the
# A/A twin <build>-aa of any of these.
known() {
    local b=${1%-aa}
    [ "$b" = ref ] || [ "$b" = uring ] || [ -f "variants/$b.h" ] ||
        [[ $b =~ ^budget-[0-9]+$ ]]
}
for b in "${builds[@]}"; do
    known "$b" || die "unknown build '$b' (ref, uring, budget-N, one of variants/*.h, or any of them with -aa)"
done
tools/ensure-deps valgrind
command -v valgrind >/dev/null || die "valgrind not found"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sl-ir.XXXXXX")
old=""
cleanup() {
    [ -n "$old" ] && git worktree remove --force "$old" >/dev/null 2>&1
    rm -rf "$scratch"
}
trap cleanup EXIT

if [ -n "$rev" ]; then
    git rev-parse --verify -q "$rev^{commit}" >/dev/null || die "unknown revision '$rev'"
    old=$scratch/tree
    git worktree add -q --detach "$old" "$rev" || die "cannot check out $rev"
fi

# ir TREE BUILD LOOP: instructions per handler of LOOP on TREE's BUILD.
N=64000
ir() {
    local bin=$scratch/ir-$(echo "$1" | tr / _)-$2
    if [ ! -x "$bin" ]; then
        local cap=${2%-aa}
        cap=${cap#budget-}
        make -s -C "$1" ${cap:+$([[ $cap =~ ^[0-9]+$ ]] && echo "BUDGET=$cap")} \
            "build/$2/libschedlab.a" >"$scratch/make.log" 2>&1 ||
            { cat "$scratch/make.log" >&2; die "cannot build $2 in $1"; }
        cc -std=c11 -D_GNU_SOURCE -O2 -I"$1/ref" bench/ir_loops.c \
            "$1/build/$2/libschedlab.a" -pthread -o "$bin" || die "cannot link $2"
    fi
    local a b
    a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$3" $N 2>&1 |
        awk '/Collected/ { print $4 }')
    b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$3" $((2 * N)) 2>&1 |
        awk '/Collected/ { print $4 }')
    [ -n "$a" ] && [ -n "$b" ] || die "callgrind gave no count for $2 $3"
    awk -v a="$a" -v b="$b" -v n=$N 'BEGIN { printf "%.1f", (b - a) / n }'
}

if [ -n "$rev" ]; then
    printf '%-18s %-8s %12s %12s %9s\n' build loop "Ir@$rev" "Ir@tree" change
else
    printf '%-18s %-8s %12s\n' build loop Ir/handler
fi
for b in "${builds[@]}"; do
    for loop in run_one poll64 chain; do
        now=$(ir . "$b" $loop)
        if [ -n "$rev" ]; then
            base=${b%-aa}
            if [ "$base" = ref ] || [ -e "$old/variants/$base.h" ] || [ -d "$old/$base" ] ||
                { [[ $base =~ ^budget- ]] && [ -e "$old/variants/fixed-budget.h" ]; }; then
                was=$(ir "$old" "$b" $loop)
                awk -v b="$b" -v l=$loop -v w="$was" -v n="$now" 'BEGIN {
                    printf "%-18s %-8s %12.1f %12.1f %+8.1f%%\n", b, l, w, n, 100 * (n - w) / w }'
            else
                printf '%-18s %-8s %12s %12.1f %9s\n' "$b" $loop "-" "$now" "-"
            fi
        else
            printf '%-18s %-8s %12.1f\n' "$b" $loop "$now"
        fi
    done
done
[ -n "$rev" ] && echo "instructions.sh: '-' marks a build that $rev does not have"
echo "instructions.sh: $(uname -m), $(cc --version | head -1), valgrind $(valgrind --version)"
