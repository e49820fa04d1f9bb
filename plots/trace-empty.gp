# trace-empty.gp - a placeholder figure when a trace holds no data for one
# of trace/analyze.py's figures (e.g. no budget refills without sockets).
# Variables: dir (figures out), title, name (file name), what (message).
if (!exists("dir")) dir = "."
if (!exists("title")) title = ""
do for [fmt in "svg png"] {
    if (fmt eq "svg") {
        set terminal svg size 600, 200 dynamic noenhanced font "sans,11" background rgb "white"
    } else {
        set terminal pngcairo size 600, 200 noenhanced font "sans,10"
    }
    set output dir."/".name.".".fmt
    unset border
    unset tics
    set xrange [0:1]
    set yrange [0:1]
    set label 1 what." (".title.")" at 0.5, 0.5 center
    plot NaN notitle
    unset output
}
