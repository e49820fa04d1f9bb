# plots/starvation.gp - timeline of the starvation workload: each timer
# tick's lateness (or each ping-pong round trip) over time while the post
# storm runs, one series per implementation (log scale).
#   gnuplot -c plots/starvation.gp TSV_DIR OUTBASE KIND "IMPL ..."
# KIND is timer or rtt; TSV_DIR/<impl>.tsv comes from `starvation -o`.
load "plots/common.gp"
set datafile commentschars "#"
what = (ARG3 eq "timer") ? "1 ms timer: lateness of each tick" : "64 B ping-pong: each round trip"
set title what." during a post storm (one run per implementation)" noenhanced
set xlabel "time since the storm started (ms)"
set ylabel (ARG3 eq "timer") ? "lateness (us)" : "round trip (us)"
set logscale y
set format y "%g"
# Headroom above the latest tick.
set offsets 0, 0, graph 0.06, 0
set key top left
set terminal svg size 900,520 dynamic font "Helvetica,12" background rgb "white"
set output ARG2.".svg"
plot for [i=1:words(ARG4)] ARG1."/".word(ARG4, i).".tsv" \
     using 1:(strcol(2) eq ARG3 ? ($3 > 0.1 ? $3 : 0.1) : 1/0) \
     with points lt (i == 1 ? 1 : 5 + i) pt 7 ps 0.45 title word(ARG4, i)
set terminal pngcairo size 900,520 font "Helvetica,10" background rgb "white"
set output ARG2.".png"
replot
unset output
