# trace-handlers.gp - handler durations, log-binned (trace/analyze.py's
# handler_hist.tsv: bin bounds in ns, all kinds, then one column per kind).
# Variables: dir (tables in, figures out), title.
if (!exists("dir")) dir = "."
if (!exists("title")) title = ""
stats dir."/handler_hist.tsv" using 3 nooutput
columns = STATS_columns
# The header line is a comment ("# bin_lo_ns bin_hi_ns all user ..."), so
# the series names come from it by position: column c is word c + 1.
header = system("head -n 1 '".dir."/handler_hist.tsv'")
do for [fmt in "svg png"] {
    if (fmt eq "svg") {
        set terminal svg size 900, 480 dynamic noenhanced font "sans,11" background rgb "white"
    } else {
        set terminal pngcairo size 900, 480 noenhanced font "sans,10"
    }
    set output dir."/handler_durations.".fmt
    set title "Handler durations: ".title
    set xlabel "duration (ns, handler_begin to handler_end)"
    set ylabel "handlers"
    set logscale x
    set logscale y
    set grid
    set key top right
    plot for [c = 3:columns] dir."/handler_hist.tsv" \
         using (sqrt($1 * $2)):(column(c) > 0 ? column(c) : NaN) \
         with linespoints pt 7 ps 0.6 lw 2 title word(header, c + 1)
    unset output
}
