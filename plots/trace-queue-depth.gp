# trace-queue-depth.gp - the shared queue's depth over time (trace/analyze.py's
# queue_depth.tsv: max and mean of the depths reported per time bin).
# Variables: dir (tables in, figures out), title.
if (!exists("dir")) dir = "."
if (!exists("title")) title = ""
do for [fmt in "svg png"] {
    if (fmt eq "svg") {
        set terminal svg size 1000, 420 dynamic noenhanced font "sans,11" background rgb "white"
    } else {
        set terminal pngcairo size 1000, 420 noenhanced font "sans,10"
    }
    set output dir."/queue_depth.".fmt
    set title "Shared queue depth: ".title
    set xlabel "time since the first event (ms)"
    set ylabel "ops queued"
    set yrange [0:*]
    set grid
    plot dir."/queue_depth.tsv" using 1:2 with steps lc rgb "#1565C0" title "max", \
         "" using 1:3 with steps lc rgb "#90CAF9" title "mean"
    unset output
}
