# plots/bars.gp - one bar per implementation (variants, peers, floor) with
# its 95% confidence interval, for one workload and parameter.
#   gnuplot -c plots/bars.gp DATA OUTBASE TITLE YLABEL LOGY
# DATA rows: index, label, mean, ci_low, ci_high, colour (plots/data.awk).
load "plots/common.gp"
stats ARG1 using 1 nooutput
set xrange [-0.6:STATS_max + 0.6]
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.7
set title ARG3 noenhanced
set ylabel ARG4 noenhanced
set xtics rotate by -35 left noenhanced nomirror
set bmargin 7
if (ARG5 eq "1") { set logscale y } else { set yrange [0:*] }
set terminal svg size 900,520 dynamic font "Helvetica,12" background rgb "white"
set output ARG2.".svg"
plot ARG1 using 1:3:6:xtic(2) with boxes lc variable notitle, \
     ARG1 using 1:3:4:5 with yerrorbars lc rgb "black" pt 7 ps 0.4 lw 1.5 notitle
set terminal pngcairo size 900,520 font "Helvetica,10" background rgb "white"
set output ARG2.".png"
replot
unset output
