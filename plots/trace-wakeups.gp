# trace-wakeups.gp - wake-ups of blocked threads by cause (trace/analyze.py's
# wakeups_by_cause.tsv: condvar signal / timeout, eventfd, timerfd,
# descriptor, reactor timeout).
# Variables: dir (tables in, figures out), title.
if (!exists("dir")) dir = "."
if (!exists("title")) title = ""
do for [fmt in "svg png"] {
    if (fmt eq "svg") {
        set terminal svg size 900, 460 dynamic noenhanced font "sans,11" background rgb "white"
    } else {
        set terminal pngcairo size 900, 460 noenhanced font "sans,10"
    }
    set output dir."/wakeups.".fmt
    set title "Wake-ups by cause: ".title
    set ylabel "wake-ups"
    set style fill solid 0.8 noborder
    set boxwidth 0.6
    set grid ytics
    set yrange [0:*]
    set xtics rotate by -20
    plot dir."/wakeups_by_cause.tsv" using 0:2:xtic(1) with boxes lc rgb "#EF6C00" notitle, \
         "" using 0:2:2 with labels offset 0, 0.7 notitle
    unset output
}
