# trace-inline.gp - inline completions per budget refill (trace/analyze.py's
# inline_hist.tsv: completions between two refills, and how many refills).
# Variables: dir (tables in, figures out), title.
if (!exists("dir")) dir = "."
if (!exists("title")) title = ""
do for [fmt in "svg png"] {
    if (fmt eq "svg") {
        set terminal svg size 900, 460 dynamic noenhanced font "sans,11" background rgb "white"
    } else {
        set terminal pngcairo size 900, 460 noenhanced font "sans,10"
    }
    set output dir."/inline_per_refill.".fmt
    set title "Inline completions per budget refill: ".title
    set xlabel "inline completions between two refills"
    set ylabel "refills"
    set style fill solid 0.8 noborder
    set boxwidth 0.7
    set grid ytics
    set yrange [0:*]
    plot dir."/inline_hist.tsv" using 1:2 with boxes lc rgb "#6A1B9A" notitle
    unset output
}
