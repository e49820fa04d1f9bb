# plots/bars.gp - one horizontal bar per implementation (base, A/A twin,
# variants, peers, floors) with its 95% confidence interval and its value,
# for one workload and parameter.  Labels read horizontally, whatever
# their length.
#   gnuplot -c plots/bars.gp DATA OUTBASE TITLE XLABEL "LOGX XMIN"
# DATA rows: index, label, mean, ci_low, ci_high, colour, value text
# (plots/data.awk).  On a log axis an interval reaching 0 or below (a
# latency over few rounds) is drawn from the axis' start, not dropped.
load "plots/common.gp"
stats ARG1 using 1 nooutput
n = STATS_max + 1
logx = word(ARG5, 1) eq "1"
xbase = logx ? real(word(ARG5, 2)) : 0
set yrange [n - 0.5 : -0.5]
set ytics nomirror noenhanced scale 0
set xtics nomirror
set grid xtics noytics lc rgb "#dddddd"
set style fill solid 0.85 border rgb "#333333"
set title ARG3 noenhanced
set xlabel ARG4 noenhanced
set format x "%g"
if (logx) { set logscale x; set xrange [xbase:*]; set format x "%.0s%c" } else { set xrange [0:*] }
# Room on the right for the value printed after each bar.
set offsets 0, graph 0.22, 0, 0
set rmargin 4
h = 110 + 34 * n
set terminal svg size 900, h dynamic font "Helvetica,12" background rgb "white"
set output ARG2.".svg"
plot ARG1 using (xbase):1:(xbase):3:($1 - 0.36):($1 + 0.36):6:ytic(2) with boxxyerror lc rgb variable notitle, \
     '' using 3:1:(logx && $4 <= xbase ? xbase : $4):5 with xerrorbars lc rgb "black" pt 7 ps 0.35 lw 1.2 notitle, \
     '' using 5:1:7 with labels left offset char 0.8, 0 font ",10" notitle
set terminal pngcairo size 900, h font "Helvetica,10" background rgb "white"
set output ARG2.".png"
replot
unset output
