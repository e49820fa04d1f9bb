# plots/budget.gp - the inline budget sweep: throughput of the always-ready
# connection A (x) against the round trip of the competing connection B
# (y, log scale), one point per cap, with 95% confidence intervals.
#   gnuplot -c plots/budget.gp DATA OUTBASE TITLE
# DATA rows: cap, MB/s mean, lo, hi, rtt_p99 mean, lo, hi, rtt_p50 mean.
load "plots/common.gp"
set title ARG3 noenhanced
set xlabel "connection A throughput (MB/s)"
set ylabel "connection B round trip (us)"
set logscale y
set key top left
set offsets graph 0.05, graph 0.1, graph 0.1, graph 0.05
set terminal svg size 900,560 dynamic font "Helvetica,12" background rgb "white"
set output ARG2.".svg"
plot ARG1 using 2:5:3:4:6:7 with xyerrorbars lt 1 title "B round trip p99", \
     ARG1 using 2:8 with points lt 4 pt 6 ps 1.3 title "B round trip p50", \
     ARG1 using 2:5:1 with labels offset char 1.2, char 0.8 font ",10" notitle
set terminal pngcairo size 900,560 font "Helvetica,10" background rgb "white"
set output ARG2.".png"
replot
unset output
