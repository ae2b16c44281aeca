#!/bin/bash
# bench_report.sh - `reword report` throughput beside pflogsumm on the same
# generated Postfix maillog, in the same run (make bench / make report-bench).
#
#   B=build bash bench/bench_report.sh        (SIZE_MB=1024 by default)
#
# The log comes from bench/gen_maillog.c: sessions of an MX under ordinary
# spam load (postscreen, smtpd, TLS, cleanup, qmgr, deliveries, outbound
# mail; about 1 line in 10 a rejection of one of ten kinds) spread over 30
# days.  It is written under /tmp and deleted at the end.  Both programs
# run pinned to one CPU core after the file was read once (page cache
# warm); reword report's time is the median of 3 runs.  pflogsumm runs on
# the whole file unless that would take longer than PF_MAX_S seconds
# (default 300): then on a prefix of the file, and the output says so (MB/s
# is a rate either way).  Peak RSS comes from /usr/bin/time -v; reword's is
# also shown for a 64 MB file, to show that memory does not grow with the
# input.  pflogsumm also runs REPEAT times (default 3).  Figures only:
# nothing here fails on a slow machine.  Every figure also goes to
# $BENCH_RESULTS (bench/lib.sh) for the summary table of `make bench`.
set -u
. "$(dirname "$0")/lib.sh"
REPEAT=${REPEAT:-3}
B=${B:?B=build dir}
SIZE_MB=${SIZE_MB:-1024}
PF_MAX_S=${PF_MAX_S:-300}
REWORD=$B/reword
GEN=$B/bench/gen_maillog
[ -x "$REWORD" ] && [ -x "$GEN" ] || { echo "bench_report: build $REWORD and $GEN first (make report-bench)"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_report: /usr/bin/time missing (sh tools/deps.sh installs package time)"; exit 1; }
TMP=$(mktemp -d /tmp/reword-bench.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
PIN=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then PIN=(taskset -c 1); fi

LOG=$TMP/maillog
echo "== reword report vs pflogsumm: generating a ${SIZE_MB} MiB Postfix maillog under $TMP"
"$GEN" "$SIZE_MB" 30 >"$LOG" || { echo "bench_report: generator failed (disk full?)"; exit 1; }
bytes=$(stat -c %s "$LOG")
lines=$(wc -l <"$LOG")
cat "$LOG" >/dev/null

now() { date +%s.%N; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / 1e6 / s : 0) }'; }
# rss FILE: peak RSS in MiB from a /usr/bin/time -v report
rss() { awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }

# timed NAME CMD...: runs CMD (stdout to $TMP/NAME.out), prints wall seconds;
# the time -v report is in $TMP/NAME.time
timed() {
    local name=$1 t0 t1; shift
    t0=$(now)
    /usr/bin/time -v -o "$TMP/$name.time" "${PIN[@]}" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

# reword report: median of 3
runs=() rates="" rsss=""
for i in 1 2 3; do
    runs+=("$(timed reword "$REWORD" report --format json "$LOG")")
    rates="$rates $(rate "$bytes" "${runs[-1]}")"; rsss="$rsss $(rss "$TMP/reword.time")"
done
read -r rw_s _ <<<"$(bench_stats "${runs[*]}")"
rw_rss=$(rss "$TMP/reword.time")
rw_rej=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["rejections"], d["malformed"])' "$TMP/reword.out")
# text and html output cost the same scan; one run of html for the record
html_s=$(timed html "$REWORD" report --format html -o "$TMP/report.html" "$LOG")
# memory does not follow the input size: the same program on 64 MiB
head -c $((64 << 20)) "$LOG" >"$TMP/small"
timed small "$REWORD" report --format json "$TMP/small" >/dev/null
small_rss=$(rss "$TMP/small.time")
# gzip input (rotated logs): a 256 MiB slice compressed with gzip -1
head -c $((256 << 20)) "$LOG" | gzip -1 >"$TMP/slice.gz"
gz_bytes=$(( $(stat -c %s "$LOG") < (256 << 20) ? $(stat -c %s "$LOG") : (256 << 20) ))
gz_s=$(timed gz "$REWORD" report --format json "$TMP/slice.gz")
rm -f "$TMP/small" "$TMP/slice.gz"

echo "   file: $(mb "$bytes") MB, $lines lines; reword report counted rejections/malformed: $rw_rej"
printf '%-34s %9s s %9s MB/s %9s MiB peak RSS\n' "reword report (json, median of 3)" "$rw_s" "$(rate "$bytes" "$rw_s")" "$rw_rss"
printf '%-34s %9s s %9s MB/s\n' "reword report --format html" "$html_s" "$(rate "$bytes" "$html_s")"
printf '%-34s %9s s %9s MB/s (uncompressed bytes)\n' "reword report on gzip -1 input" "$gz_s" "$(rate "$gz_bytes" "$gz_s")"
printf '%-34s %9s MiB peak RSS on a 64 MiB file (vs %s MiB on %s MB)\n' "reword report memory" "$small_rss" "$rw_rss" "$(mb "$bytes")"
SEC="reword report on a $(mb "$bytes") MB maillog"
bench_record "$SEC" report-reword "reword report --format json" MB/s "$rates" "" "median>=200"
bench_record "$SEC" report-html "reword report --format html" MB/s "$(rate "$bytes" "$html_s")"
bench_record "$SEC" report-gzip "reword report, gzip -1 input" MB/s "$(rate "$gz_bytes" "$gz_s")"
bench_record "$SEC" report-rss "reword report peak RSS" MiB "$rsss"
bench_record "$SEC" report-rss-64 "reword report peak RSS, 64 MiB file" MiB "$small_rss"

if ! command -v pflogsumm >/dev/null 2>&1; then
    echo "pflogsumm: not installed (sh tools/deps.sh installs it); no comparison"
    exit 0
fi
# pflogsumm: estimate on 32 MiB, then the whole file if it fits in PF_MAX_S
head -c $((32 << 20)) "$LOG" >"$TMP/probe"
probe_s=$(timed probe pflogsumm "$TMP/probe")
est=$(awk -v p="$probe_s" -v b="$bytes" 'BEGIN { printf "%.0f", p * b / (32 * 1048576) }')
PFLOG=$LOG
pf_bytes=$bytes
note="the same file"
if [ "$est" -gt "$PF_MAX_S" ]; then
    pf_bytes=$(awk -v p="$probe_s" -v m="$PF_MAX_S" 'BEGIN { printf "%.0f", 32 * 1048576 * (m / 2) / p }')
    head -c "$pf_bytes" "$LOG" >"$TMP/pfpart"
    PFLOG=$TMP/pfpart
    note="a $(mb "$pf_bytes") MB prefix: the whole file would take ~${est} s"
fi
rm -f "$TMP/probe"
pf_runs=() pf_rates=""
for i in $(seq 1 "$REPEAT"); do
    pf_runs+=("$(timed pflogsumm pflogsumm "$PFLOG")")
    pf_rates="$pf_rates $(rate "$pf_bytes" "${pf_runs[-1]}")"
done
read -r pf_s _ <<<"$(bench_stats "${pf_runs[*]}")"
pf_rss=$(rss "$TMP/pflogsumm.time")
bench_record "$SEC" report-pflogsumm "pflogsumm" MB/s "$pf_rates"
bench_record "$SEC" report-vs-pflogsumm "reword report vs pflogsumm" MB/s "$rates" report-pflogsumm "ratio>=10"
pf_rej=$(awk '/ rejected \(/ { print $1; exit }' "$TMP/pflogsumm.out")
printf '%-34s %9s s %9s MB/s %9s MiB peak RSS  (median of %s; %s; it counted %s rejected)\n' "pflogsumm" "$pf_s" \
    "$(rate "$pf_bytes" "$pf_s")" "$pf_rss" "$REPEAT" "$note" "${pf_rej:-?}"
awk -v rb="$bytes" -v rs="$rw_s" -v pb="$pf_bytes" -v ps="$pf_s" 'BEGIN {
    r = rb / 1e6 / rs; p = pb / 1e6 / ps
    printf "ratio: reword report is %.1fx pflogsumm; goals >= 10x: %s, >= 200 MB/s per core: %s\n",
        r / p, r / p >= 10 ? "met" : "NOT met", r >= 200 ? "met" : "NOT met" }'
