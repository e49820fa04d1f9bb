# plots/scaling.gp - handlers per second against the number of threads,
# one line per implementation, with 95% confidence intervals; the title
# says how many cores the machine had and which points were judged.
#   gnuplot -c plots/scaling.gp DATA OUTBASE TITLE YLABEL BLOCKS
# DATA: one block per implementation (a header line naming it, then rows
# threads, mean, ci_low, ci_high), blocks separated by two blank lines.
load "plots/common.gp"
set title ARG3 noenhanced
set ylabel ARG4 noenhanced
set xlabel "threads"
# Twelve distinct line styles (common.gp defines eight): the kit's builds,
# then the peers and floors, none sharing a colour.
set linetype 9 lc rgb "#000000" lw 2 pt 4 dt 2
set linetype 10 lc rgb "#b45f06" lw 2 pt 6 dt 2
set linetype 11 lc rgb "#38761d" lw 2 pt 8 dt 2
set linetype 12 lc rgb "#741b47" lw 2 pt 10 dt 2
set key outside right top noenhanced
set yrange [0:*]
set xtics 1
set offsets 0.2, 0.2, 0, 0
set terminal svg size 1000, 520 dynamic font "Helvetica,12" background rgb "white"
set output ARG2.".svg"
plot for [i=0:int(ARG5) - 1] ARG1 index i using 1:2:3:4 with yerrorlines lt (i % 12) + 1 title columnheader(1)
set terminal pngcairo size 1000, 520 font "Helvetica,10" background rgb "white"
set output ARG2.".png"
replot
unset output
