# plots/ratios.gp - one ablation at a glance: the variant's performance
# relative to the base on every figure of verdicts.csv (above 1: the
# variant is faster), its 95% interval, the A/A interval of the same
# figure shaded behind it, and the verdict written at the right.  Green:
# a verdict that stands (faster), red: stands (slower), brown:
# unexplained, grey: no verdict, light grey: unreliable or not judged.
#   gnuplot -c plots/ratios.gp DATA OUTBASE TITLE XLABEL "N XMIN XMAX"
# DATA rows: index, label, ratio, lo, hi, A/A lo, A/A hi, colour, verdict.
load "plots/common.gp"
n = int(word(ARG5, 1))
set yrange [n - 0.5 : -0.5]
set link y2
set ytics nomirror noenhanced scale 0 font ",10"
set y2tics noenhanced scale 0 font ",10"
set logscale x
xlo = real(word(ARG5, 2)); xhi = real(word(ARG5, 3))
set xrange [xlo : xhi]
set format x "%g"
# Decade tics leave a range under two decades with "1" alone: label the
# ratios a reader looks for instead (tics outside the range are dropped).
if (xhi / xlo <= 4) {
    set xtics ("0.5" 0.5, "0.67" 0.667, "0.8" 0.8, "0.9" 0.9, "1" 1, "1.1" 1.1, \
               "1.25" 1.25, "1.5" 1.5, "2" 2)
} else { if (xhi / xlo <= 100) {
    set xtics ("0.1" 0.1, "0.2" 0.2, "0.5" 0.5, "0.8" 0.8, "1" 1, "1.25" 1.25, "2" 2, \
               "5" 5, "10" 10)
} }
set grid xtics noytics lc rgb "#dddddd"
set title ARG3 noenhanced
set xlabel ARG4 noenhanced
set arrow from first 1, graph 0 to first 1, graph 1 nohead dt 2 lc rgb "#444444"
set style fill solid 1.0 noborder
h = 130 + 26 * n
set terminal svg size 1100, h dynamic font "Helvetica,12" background rgb "white"
set output ARG2.".svg"
plot ARG1 using (sqrt($6 * $7)):1:6:7:($1 - 0.4):($1 + 0.4):ytic(2) with boxxyerror fc rgb "#e4e4e4" notitle, \
     '' using 3:1:4:5:8 with xerrorbars lc rgb variable pt 7 ps 0.8 lw 2 notitle, \
     '' using 3:1:y2tic(9) axes x1y2 with points ps 0 notitle
set terminal pngcairo size 1100, h font "Helvetica,10" background rgb "white"
set output ARG2.".png"
replot
unset output
