# plots/budget.gp - the inline budget sweep: throughput of the always-ready
# connection A (x) against the round trip of the competing connection B
# (y, log scale), one point per build with its 95% intervals (filled: B's
# p99; hollow: B's p50), named in the key rather than on the data so that
# close points stay readable; a thin line joins the fixed caps in order.
#   gnuplot -c plots/budget.gp DATA OUTBASE TITLE YLABEL BLOCKS
# DATA: one block per build (a header line naming it, then: MB/s mean,
# lo, hi, p99 mean, lo, hi, p50, colour, point type, fixed), then a block
# with the fixed caps' (MB/s, p99) in cap order (plots/data.awk).
load "plots/common.gp"
nb = int(ARG5)
set title ARG3 noenhanced
set xlabel "connection A throughput (MB/s)"
set ylabel "connection B round trip (us, log scale)"
set logscale y
set format y "%g"
set grid xtics ytics lc rgb "#dddddd"
set key outside right top Left reverse noenhanced spacing 1.15 title "filled: B p99 (95% CI)\nhollow: B p50" left
set offsets graph 0.04, graph 0.04, 0, 0
set terminal svg size 1000, 560 dynamic font "Helvetica,12" background rgb "white"
set output ARG2.".svg"
plot ARG1 index nb using 1:2 with lines lc rgb "#bbbbbb" lw 1 notitle, \
     for [i=0:nb - 1] ARG1 index i using 1:4:2:3:5:6:8 with xyerrorbars lc rgb variable pt 7 ps 1.1 lw 1.5 title columnheader(1), \
     for [i=0:nb - 1] ARG1 index i using 1:7:8 with points lc rgb variable pt 6 ps 1.1 notitle
set terminal pngcairo size 1000, 560 font "Helvetica,10" background rgb "white"
set output ARG2.".png"
replot
unset output
