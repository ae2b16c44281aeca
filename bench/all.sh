#!/bin/bash
# all.sh - `make bench`: every benchmark of the project in one go, then one
# table of all figures (bench/summary.sh): the rule engine microbenchmark
# (bench_rules.c), Postfix end to end with no milter, the null milter,
# milter-reword (sample rules, 1,000 rules, chained by Postfix, proxy mode)
# and the peak RSS with many sessions held open (run.sh), and `reword
# report` beside pflogsumm (bench_report.sh).  Each figure is repeated
# (REPEAT, default 3, for the end-to-end and report runs) and shown as
# median [min..max] with its ratio to a baseline, so runs on a noisy
# machine compare as ratios.  The table is also kept in
# $B/bench/results.txt (raw figures: results.tsv).
#
#   B=build SRCDIR=. bash bench/all.sh     (root needed for the Postfix runs)
#   BENCH_ONLY="rules e2e report"          pick parts
set -u
B=${B:?}; SRCDIR=${SRCDIR:?}
export B SRCDIR
ONLY=${BENCH_ONLY:-rules e2e report}
mkdir -p "$B/bench"
export BENCH_RESULTS=$B/bench/results.tsv
: >"$BENCH_RESULTS"
t0=$(date +%s)
rc=0
for part in $ONLY; do
    case $part in
    rules)
        echo "== rule engine (median per reply, min..max over 31 rounds)"
        "$B/bench/bench_rules" || rc=1
        echo "== shipped rule packs on the corpus of real texts"
        "$B/bench/bench_rules" --shipped "$SRCDIR/conf/milter-reword.conf" \
            "$SRCDIR"/tests/data/corpus/*.tsv || rc=1
        python3 "$SRCDIR/tests/cli/corpus_cases.py" "$B/reword" "$SRCDIR" --report || rc=1 ;;
    e2e)
        if [ "$(id -u)" -ne 0 ]; then
            echo "== end to end: SKIP (needs root for a private Postfix)"
        else
            bash "$SRCDIR/bench/run.sh" || rc=1
        fi ;;
    report)
        bash "$SRCDIR/bench/bench_report.sh" || rc=1 ;;
    *) echo "bench: unknown part '$part' (rules, e2e, report)" >&2; rc=2 ;;
    esac
    echo
done
{
    echo "== summary: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(( $(date +%s) - t0 )) s"
    bash "$SRCDIR/bench/summary.sh" "$BENCH_RESULTS"
} | tee "$B/bench/results.txt"
exit $rc
