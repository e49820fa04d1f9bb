# trace-timeline.gp - per-thread roles over time (trace/analyze.py's
# timeline.tsv: handler / reactor / waiting / idle, dominant role per bin).
# Variables: dir (tables in, figures out), title.
if (!exists("dir")) dir = "."
if (!exists("title")) title = ""
stats dir."/timeline_threads.tsv" using 1 nooutput
rows = STATS_records
height = 170 + 45 * rows
do for [fmt in "svg png"] {
    if (fmt eq "svg") {
        set terminal svg size 1100, height dynamic noenhanced font "sans,11" background rgb "white"
    } else {
        set terminal pngcairo size 1100, height noenhanced font "sans,10"
    }
    set output dir."/timeline.".fmt
    set title "Thread roles over time: ".title
    set xlabel "time since the first event (ms)"
    set yrange [-0.6:rows - 0.4] reverse
    set ytics nomirror
    set grid xtics
    set key outside bottom center horizontal
    plot dir."/timeline.tsv" using (($3 + $4) / 2):1:3:4:($1 - 0.38):($1 + 0.38):5 \
             with boxxyerror fs solid 1.0 noborder lc rgb variable notitle, \
         dir."/timeline_threads.tsv" using (NaN):1:ytic(2) notitle, \
         NaN with boxes fs solid 1.0 lc rgb "#2E7D32" title "handler", \
         NaN with boxes fs solid 1.0 lc rgb "#1565C0" title "reactor", \
         NaN with boxes fs solid 1.0 lc rgb "#EF6C00" title "waiting", \
         NaN with boxes fs solid 1.0 lc rgb "#BDBDBD" title "idle (in run: queue, locks, descheduled)"
    unset output
}
