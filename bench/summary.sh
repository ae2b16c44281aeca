#!/bin/bash
# summary.sh - prints the results file of `make bench` (see bench/lib.sh)
# as one table: each figure as median [min..max] over its repetitions, the
# ratio of its median to its base figure's median, and its goal (met or
# NOT met).  Ratios are what compare between runs on a noisy machine.
#
#   bash bench/summary.sh RESULTS_FILE
set -u
f=${1:?usage: summary.sh RESULTS_FILE}
[ -s "$f" ] || { echo "bench summary: no results in $f"; exit 1; }
awk -F'\t' '
function num(x) { return x + 0 }
function goal_text(g, med, ratio,    op, v, field, have, ok) {
    if (g == "") return ""
    if (match(g, /(<=|>=)/) == 0) return g
    field = substr(g, 1, RSTART - 1); op = substr(g, RSTART, 2); v = num(substr(g, RSTART + 2))
    have = (field == "ratio") ? ratio : med
    if (have == "") return g " (no figure)"
    ok = (op == "<=") ? num(have) <= v : num(have) >= v
    return g (ok ? "  met" : "  NOT met")
}
{ sec[NR] = $1; key[NR] = $2; lab[NR] = $3; unit[NR] = $4; n[NR] = $5
  med[NR] = $6; lo[NR] = $7; hi[NR] = $8; base[NR] = $9; goal[NR] = $10
  bymed[$2] = $6; rows = NR }
END {
    printf "%-44s %-6s %3s %10s %21s %-22s %s\n", "figure", "unit", "n", "median", "[min..max]", "ratio", "goal"
    for (i = 1; i <= rows; i++) {
        if (sec[i] != last) { printf "-- %s\n", sec[i]; last = sec[i] }
        r = ""
        if (base[i] != "" && (base[i] in bymed) && num(bymed[base[i]]) > 0)
            r = sprintf("%.3f", num(med[i]) / num(bymed[base[i]]))
        printf "%-44s %-6s %3s %10s %21s %-22s %s\n", lab[i], unit[i], n[i], med[i],
            "[" lo[i] ".." hi[i] "]", (r == "" ? "" : r " of " base[i]), goal_text(goal[i], med[i], r)
    }
    print "(ratio: this median / the median of the figure whose key is named; n: repetitions)"
}' "$f"
