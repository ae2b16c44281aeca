# bench/lib.sh - shared by the benchmark scripts: turns repeated samples
# into median/min/max and appends them to the results file that
# bench/summary.sh prints as one table (so every figure of `make bench` can
# be read, and compared between runs, in one place).
#
# Results file ($BENCH_RESULTS, tab-separated, one figure per line):
#   section  key  label  unit  n  median  min  max  base  goal
# base: the key whose median this one's is divided by for the ratio column
# (empty: no ratio); goal: "median<=N", "median>=N", "ratio<=N",
# "ratio>=N" or empty.  Without BENCH_RESULTS nothing is recorded.

# bench_stats "v1 v2 ..." -> "median min max n" (median of an even count:
# the lower middle value, so it is always one of the samples)
bench_stats() {
    tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) { print "nan nan nan 0"; exit }
              print v[int((NR + 1) / 2)], v[1], v[NR], NR }'
}

# bench_record SECTION KEY LABEL UNIT "SAMPLES" [BASE [GOAL]]
bench_record() {
    [ -n "${BENCH_RESULTS:-}" ] || return 0
    local med lo hi n
    read -r med lo hi n <<<"$(bench_stats "$5")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$n" \
        "$med" "$lo" "$hi" "${6:-}" "${7:-}" >>"$BENCH_RESULTS"
}
