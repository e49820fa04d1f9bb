# plots/ratios.gp - one ablation at a glance: the variant's performance
# relative to ref on each workload's headline figure (above 1: the variant
# is faster), with the 95% confidence interval of the ratio.  Green: faster
# beyond noise, red: slower beyond noise, grey: within noise.
#   gnuplot -c plots/ratios.gp DATA OUTBASE TITLE
load "plots/common.gp"
set linetype 3 lc rgb "#38761d" pt 7 ps 1.2
set linetype 4 lc rgb "#cc0000" pt 7 ps 1.2
set linetype 5 lc rgb "#999999" pt 7 ps 1.2
stats ARG1 using 1 nooutput
set xrange [-0.6:STATS_max + 0.6]
set title ARG3 noenhanced
set ylabel "variant / ref performance (log scale)"
set logscale y
set format y "%g"
set rmargin 12
set xtics rotate by -40 left noenhanced nomirror font ",10"
set bmargin 10
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#444444"
set terminal svg size 1000,560 dynamic font "Helvetica,12" background rgb "white"
set output ARG2.".svg"
plot ARG1 using 1:3:4:5:6:xtic(2) with yerrorbars lc variable lw 2 notitle
set terminal pngcairo size 1000,560 font "Helvetica,10" background rgb "white"
set output ARG2.".png"
replot
unset output
