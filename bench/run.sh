#!/bin/bash
# run.sh - end-to-end benchmark (`make bench`): smtp-source (20 sessions,
# 5,000 messages of 1 KiB, one connection per message) -> private Postfix ->
# discard, with: no milter; a naive libmilter milter that takes every event
# (tests/fixtures/nullmilter.c); milter-reword with the sample config;
# milter-reword with 1,000 extra rules; and for proxy mode, the same upstream
# (the null milter) chained by Postfix itself (smtpd_milters = milter-reword,
# nullmilter) against Postfix -> milter-reword -> nullmilter.  Configurations are interleaved
# across REPEAT rounds so machine noise hits all alike; prints msg/s as
# median [min..max] and the ratio of medians to the null milter, then the
# daemon's peak RSS while SESSIONS SMTP sessions are held open at once
# (also REPEAT times).  Every figure also goes to $BENCH_RESULTS (bench/lib.sh).
# The lab (Postfix queue included) is on tmpfs (/dev/shm) unless LAB_ROOT
# says otherwise: the figures are about the milters, and on this kind of
# machine disk waits and their noise would drown them.
# Figures only: nothing here passes or fails on speed.  Needs root.
set -u
if [ -z "${LAB_ROOT:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export LAB_ROOT=/dev/shm; fi
B=${B:?}; SRCDIR=${SRCDIR:?}
export B SRCDIR
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/reword.sh"
. "$SRCDIR/bench/lib.sh"
REPEAT=${REPEAT:-3}
MESSAGES=${MESSAGES:-5000}
SESSIONS=${SESSIONS:-500}

pf_setup
pf_conf "default_process_limit = 600"
pf_conf "smtpd_client_connection_count_limit = 0"
pf_conf "smtpd_client_connection_rate_limit = 0"
pf_conf "smtpd_client_message_rate_limit = 0"
mkdir -p "$LAB/run" "$LAB/log"; chown nobody "$LAB/run" "$LAB/log"

# sample config, made to work from this lab
RULES_DIR=$(lab_rules_dir)
SAMPLE=$LAB/sample.conf
sed -e "s|\"rules.d/\*.conf\"|\"$RULES_DIR/*.conf\"|" \
    -e "s|^audit: {|audit: {\n  jsonl = \"$LAB/log/audit-sample.jsonl\";|" "$SRCDIR/conf/milter-reword.conf" >"$SAMPLE"
# 1,000 own-policy rules that never match the benchmark traffic, plus the defaults
BIG=$LAB/big.conf
{
    echo "include = [ \"$RULES_DIR/*.conf\" ];"
    echo "audit: { jsonl = \"$LAB/log/audit-big.jsonl\"; };"
    echo "rules = ("
    for i in $(seq 1 1000); do
        case $((i % 2)) in
        0) printf '  { name = "block-rcpt-%d"; when = { stage = "rcpt"; rcpt = "(?i)^blocked%d@example\\\\.invalid$"; }; action = "reject"; reply = { enhanced = "5.7.1"; }; }' "$i" "$i" ;;
        1) printf '  { name = "block-from-%d"; when = { stage = "mail"; sender = "(?i)^spammer%d@example\\\\.invalid$"; }; action = "reject"; reply = { enhanced = "5.7.1"; }; }' "$i" "$i" ;;
        esac
        [ "$i" -lt 1000 ] && echo "," || echo
    done
    echo ");"
} >"$BIG"
# proxy mode: the sample rules with the null milter as upstream
PROXY=$LAB/proxy.conf
{ cat "$SAMPLE"; echo "upstreams = ( { name = \"null\"; socket = \"unix:$LAB/run/null.sock\"; } );"; } >"$PROXY"
chmod 0644 "$SAMPLE" "$BIG" "$PROXY"
"$B/reword" check -q -c "$BIG" || lab_die "generated rules do not load"

start_daemon() {   # start_daemon NAME CONF -> socket path
    lab_spawn "$1" "$B/milter-reword" -f -c "$2" -p "unix:$LAB/run/$1.sock" -u nobody:postfix
    lab_wait_sock "$LAB/run/$1.sock" 10 || lab_die "$1 did not start"
}
lab_spawn nullmilter "$B/fixtures/nullmilter" -f -p "unix:$LAB/run/null.sock"; PID_NULL=$LAB_PID
lab_wait_sock "$LAB/run/null.sock" 10 || lab_die "nullmilter did not start"
start_daemon rw-sample "$SAMPLE"; PID_SAMPLE=$LAB_PID
start_daemon rw-big "$BIG"; PID_BIG=$LAB_PID
start_daemon rw-proxy "$PROXY"; PID_PROXY=$LAB_PID
pf_start

declare -A SOCK=( [none]="" [null]="unix:$LAB/run/null.sock"
                  [sample]="unix:$LAB/run/rw-sample.sock" [rules1000]="unix:$LAB/run/rw-big.sock"
                  [chained]="unix:$LAB/run/rw-sample.sock, unix:$LAB/run/null.sock"
                  [proxy]="unix:$LAB/run/rw-proxy.sock" )
CONFIGS=${CONFIGS:-none null sample rules1000 chained proxy}
declare -A RES

run_one() {   # run_one CONFIG -> prints msg/s
    pf_conf "smtpd_milters = ${SOCK[$1]}"
    pf_reload
    sleep 0.5
    local t0 t1
    t0=$(date +%s.%N)
    timeout 600 smtp-source -s 20 -m "$MESSAGES" -l 1024 -f sender@example.org \
        -t alice@local.test "127.0.0.1:$PF_PORT" || echo "smtp-source failed for $1" >&2
    t1=$(date +%s.%N)
    pf_wait_queue_empty 120 >/dev/null
    awk -v a="$t0" -v b="$t1" -v m="$MESSAGES" 'BEGIN { printf "%.1f\n", m / (b - a) }'
}

echo "== end to end: smtp-source -s 20 -m $MESSAGES -l 1024 -> Postfix -> discard, $REPEAT rounds"
for r in $(seq 1 "$REPEAT"); do
    for c in $CONFIGS; do
        v=$(run_one "$c"); RES[$c]="${RES[$c]:-} $v"
        printf '  round %d %-10s %8s msg/s\n' "$r" "$c" "$v"
    done
done
declare -A LABEL=( [none]="no milter" [null]="null milter (takes every event)"
                   [sample]="milter-reword, sample rules" [rules1000]="milter-reword, 1,000 extra rules"
                   [chained]="Postfix chaining reword + null milter" [proxy]="proxy: reword -> null milter" )
declare -A GOAL=( [sample]="ratio>=1.05" [rules1000]="ratio>=0.97" )
for c in $CONFIGS; do
    bench_record "end to end, smtp-source -s 20, $MESSAGES msgs" "e2e-$c" "${LABEL[$c]}" msg/s "${RES[$c]}" e2e-null "${GOAL[$c]:-}"
done
if [ -n "${RES[proxy]:-}" ] && [ -n "${RES[chained]:-}" ]; then
    bench_record "end to end, smtp-source -s 20, $MESSAGES msgs" e2e-proxy-vs-chained "proxy vs Postfix chaining" msg/s "${RES[proxy]}" e2e-chained "ratio>=0.95"
    read -r pm _ <<<"$(bench_stats "${RES[proxy]}")"; read -r cm _ <<<"$(bench_stats "${RES[chained]}")"
    # 20 sessions in flight: mean time per message = 20 / rate
    awk -v p="$pm" -v c="$cm" 'BEGIN { printf "proxy vs Postfix chaining: latency per message %+.2f ms (20 sessions in flight)\n", (20 / p - 20 / c) * 1000 }'
fi
warn=$(pf_maillog_warnings); [ -z "$warn" ] || { echo "Postfix warnings during the run:"; echo "$warn" | head -5; }

# --- peak RSS with SESSIONS sessions held open ---
rss_of() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/VmRSS/ { print $2 }' /proc/$p/status 2>/dev/null || echo 0))); done; echo "$s"; }
hold() {   # hold NAME SUPERVISOR_PID -> peak RSS in MiB on stdout, report on stderr
    pf_conf "smtpd_milters = ${SOCK[$1]}"; pf_reload; sleep 0.5
    local pids="$2 $(pgrep -P "$2" | tr '\n' ' ')" peak=0 cur n mib
    python3 "$SRCDIR/bench/hold_sessions.py" 127.0.0.1 "$PF_PORT" "$SESSIONS" >"$LAB/hold.out" 2>&1 &
    local hp=$!
    while kill -0 "$hp" 2>/dev/null; do
        cur=$(rss_of $pids); [ "$cur" -gt "$peak" ] && peak=$cur
        sleep 0.05
    done
    n=$(grep -o 'held=[0-9]*' "$LAB/hold.out" | cut -d= -f2)
    mib=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
    printf '  %-10s sessions reaching RCPT 250: %5s   peak RSS %6s MiB (all processes)\n' \
        "$1" "${n:-0}" "$mib" >&2
    echo "$mib"
}
echo
echo "== peak RSS with $SESSIONS concurrent SMTP sessions, $REPEAT rounds (goal <= 20 MiB for milter-reword)"
declare -A RSS PIDOF=( [sample]=$PID_SAMPLE [rules1000]=$PID_BIG [proxy]=$PID_PROXY [null]=$PID_NULL )
RSS_CONFIGS="sample rules1000 proxy null"
for r in $(seq 1 "$REPEAT"); do
    for c in $RSS_CONFIGS; do RSS[$c]="${RSS[$c]:-} $(hold "$c" "${PIDOF[$c]}")"; done
done
for c in $RSS_CONFIGS; do
    g="median<=20"; [ "$c" = null ] && g=""
    bench_record "peak RSS, $SESSIONS SMTP sessions held open" "rss-$c" "${LABEL[$c]}" MiB "${RSS[$c]}" rss-null "$g"
done
