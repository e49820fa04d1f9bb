# bench/hfraw.jq - raw.csv rows from one merged hyperfine file
# (bench/hfmerge.jq): per run whose exit code is 0, of every command not
# listed in $skip (the peers and floors, which run for a time),
#   wall_s  hyperfine's whole-process wall-clock time;
#   cpu_s   its user + system CPU time: what the same work costs in CPU,
#           untouched by time spent waiting for a core on a loaded machine
#           (and blind to time spent blocked: read it beside wall_s).
#
#   jq -r --arg w post_chain --arg p 16 --arg skip " asio floor " -f bench/hfraw.jq FILE

.results[] | . as $c | select($skip | contains(" " + $c.command + " ") | not)
| range(0; .times | length) as $i | select($c.exit_codes[$i] == 0)
| ([$w, $c.command, $p, "wall_s", "s", $c.times[$i], "hyperfine", $c.rounds[$i]],
   (if $c.users then [$w, $c.command, $p, "cpu_s", "s", ($c.users[$i] + $c.systems[$i]), "hyperfine", $c.rounds[$i]] else empty end))
| map(tostring) | join(",")
