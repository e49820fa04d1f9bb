# bench/hfmerge.jq - merges the per-round hyperfine JSON files of one
# (workload, param) into one file in hyperfine's own export format, one
# result per command (implementation), its statistics over the rounds.
#
#   jq -n --arg order "ref ref-aa no-sentinel" -f bench/hfmerge.jq \
#       hyperfine/rounds/post_chain-16-r1.json hyperfine/rounds/post_chain-16-r2.json ...
#
# Each input is one `hyperfine --runs 1` invocation (a round; its number is
# taken from the file name, "-r<N>.json").  Output fields as hyperfine
# writes them (mean, stddev, median, user, system, min, max, times,
# exit_codes; user and system are means over the rounds), plus, per run,
# the round it came from ("rounds"), its position in that round's shuffled
# order ("positions", 1 = ran first), and its user and system CPU seconds
# ("users", "systems").  `order` lists the commands
# in the order the results are written.

def mean: if length == 0 then null else add / length end;
def stddev: if length < 2 then null else mean as $m | (map((. - $m) * (. - $m)) | add) / (length - 1) | sqrt end;
def median: sort | if length == 0 then null
    elif length % 2 == 1 then .[(length - 1) / 2]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;

[ inputs
  | (input_filename | capture("-r(?<r>[0-9]+)\\.json$").r | tonumber) as $round
  | .results | to_entries[]
  | .value + {round: $round, position: (.key + 1)} ]
| . as $runs
| { results: [ $order | split(" ")[] | select(. != "") as $c
      | [ $runs[] | select(.command == $c) ] | sort_by(.round)
      | select(length > 0)
      | (map(.times[0])) as $t
      | { command: $c,
          mean: ($t | mean), stddev: ($t | stddev), median: ($t | median),
          user: (map(.user) | mean), system: (map(.system) | mean),
          min: ($t | min), max: ($t | max),
          times: $t, exit_codes: map(.exit_codes[0]),
          rounds: map(.round), positions: map(.position),
          users: map(.user), systems: map(.system) } ] }
