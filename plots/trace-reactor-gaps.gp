# trace-reactor-gaps.gp - time between consecutive reactor runs, and the
# handlers begun in between (trace/analyze.py's reactor_gaps.tsv).
# Variables: dir (tables in, figures out), title.
if (!exists("dir")) dir = "."
if (!exists("title")) title = ""
do for [fmt in "svg png"] {
    if (fmt eq "svg") {
        set terminal svg size 1000, 640 dynamic noenhanced font "sans,11" background rgb "white"
    } else {
        set terminal pngcairo size 1000, 640 noenhanced font "sans,10"
    }
    set output dir."/reactor_gaps.".fmt
    set multiplot layout 2, 1 title "Time between reactor runs: ".title
    set grid
    set logscale y
    set xlabel ""
    set ylabel "gap to the previous run (us)"
    plot dir."/reactor_gaps.tsv" using 1:($2 > 0 ? $2 : NaN) \
         with points pt 7 ps 0.4 lc rgb "#1565C0" notitle
    set xlabel "time of reactor_enter (ms since the first event)"
    set ylabel "handlers begun in between"
    unset logscale y
    set yrange [0:*]
    plot dir."/reactor_gaps.tsv" using 1:3 \
         with points pt 7 ps 0.4 lc rgb "#2E7D32" notitle
    unset multiplot
    unset output
}
