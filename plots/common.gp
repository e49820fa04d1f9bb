# plots/common.gp - styles every figure shares (loaded by the other .gp
# files): colours by kind of implementation, grid, fonts.
#   1 ref   2 other variants   3 budget-N builds   4 peers   5 floor
set linetype 1 lc rgb "#1f4e99" lw 2 pt 7
set linetype 2 lc rgb "#6fa8dc" lw 2 pt 5
set linetype 3 lc rgb "#6aa84f" lw 2 pt 9
set linetype 4 lc rgb "#e69138" lw 2 pt 11
set linetype 5 lc rgb "#888888" lw 2 pt 13
set linetype 6 lc rgb "#cc0000" lw 2 pt 7
set linetype 7 lc rgb "#8e7cc3" lw 2 pt 5
set linetype 8 lc rgb "#45818e" lw 2 pt 9
set grid ytics lc rgb "#dddddd"
set border lc rgb "#444444"
set datafile separator "\t"
set key noenhanced
