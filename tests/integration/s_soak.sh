#!/bin/bash
# s_soak.sh - the long load and fault runs (`make soak`, not in CI; takes
# 10-20 minutes with the defaults).  Real Postfix, loopback, the rule set of
# load.sh firing at every stage, smtp_load.py checking every reply line:
#  1. reference run of SOAK_MESSAGES (default 50,000) messages;
#  2. the same run with SIGHUP every second, every other reload with a
#     broken rule file: the counted replies equal the reference run's
#     (the old rules stayed), sent = accepted + rejected + deferred,
#     accepted = delivered; the worker's memory and open files do not grow;
#  3. the worker killed every SOAK_KILL_EVERY seconds (default 8) during a
#     run: Postfix's milter_default_action (tempfail) covers each gap, the
#     supervisor restarts it each time, accepted = delivered;
#  4. proxy mode, the upstream milter killed every SOAK_KILL_EVERY s: its
#     on_failure (tempfail) applies, nothing accepted unchecked (here the
#     upstream, not a rule, refuses later@, which must never be delivered);
#  5. the JSON audit log on a full disk for SOAK_FULL_SECONDS (default 150)
#     of load: decisions go on, one error line a minute;
# and through it all: no refused recipient or refused message delivered,
# no unexpected warning in Postfix's log.
#   make soak                         (B=build-san SANITIZE=1 for a sanitized daemon)
#   SOAK_MESSAGES=20000 SOAK_FULL_SECONDS=65 make soak   a quicker version
# (each faulted run must last longer than SOAK_KILL_EVERY)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reword.sh"
. "$(dirname "$0")/load.sh"

MSGS=${SOAK_MESSAGES:-50000}
KILL_EVERY=${SOAK_KILL_EVERY:-8}
# The supervisor gives up after 5 restarts in 30 s (a crash loop; systemd
# takes over from there), so kills must come further apart than 6 s.
[ "$KILL_EVERY" -ge 7 ] || { t_log "SOAK_KILL_EVERY=$KILL_EVERY is below 7 s: using 7"; KILL_EVERY=7; }
FULL_S=${SOAK_FULL_SECONDS:-150}
PER=10                           # messages per SMTP session
SESS=$((MSGS / PER))
CONC=100

load_setup
load_write_conf "$LAB/log/audit.jsonl"
cp "$LOAD_CONF" "$LAB/good.conf"
printf 'rules = ( { name = "x"; when = { stage = "rcpt"; rcpt = "(unclosed"; }; action = "reject"; } );\n' >"$LAB/broken.conf"
reword_start "$LOAD_CONF"
pf_start

since() { echo $(( $(date +%s) - $1 )); }
grep_count() { grep -c -- "$1" "$LAB/reword.log"; }

# --- 1. reference run ---
t0=$(date +%s)
out=$(load_run "$SESS" "$PER" "$CONC"); rc=$?
t_log "reference: $out ($(since "$t0") s)"
assert_eq "$rc" "0" "reference run of $MSGS messages: no protocol error, every reply well-formed"
assert_eq "$(load_field "$out" messages)" "$MSGS" "reference run: $MSGS messages sent"
want=$(load_counts "$out")
pf_wait_queue_empty 300
assert_eq "$(load_delivered)" "$(load_field "$out" accepted)" "reference run: accepted = delivered"

# --- 2. SIGHUP every second, every other time with a broken file ---
worker=$(load_worker_pid)
rss0=$(load_rss_kib "$worker"); fds0=$(load_fds "$worker")
ok0=$(grep_count 'reloaded .*: 10 rules'); bad0=$(grep_count 'reload of .* failed: keeping')
base=$(load_delivered)
hup_every_second() {   # every other reload with the broken file
    local n=0
    while kill -0 "$RW_PID" 2>/dev/null; do
        if [ $((n % 2)) -eq 0 ]; then cp "$LAB/broken.conf" "$LOAD_CONF"; else cp "$LAB/good.conf" "$LOAD_CONF"; fi
        kill -HUP "$RW_PID" 2>/dev/null
        n=$((n + 1))
        sleep 1
    done
}
t0=$(date +%s)
out=$(load_during hup_every_second "$SESS" "$PER" "$CONC"); rc=$?
secs=$(since "$t0")
cp "$LAB/good.conf" "$LOAD_CONF"
t_log "reload storm: $out ($secs s)"
assert_eq "$rc" "0" "SIGHUP every second: no protocol error, every reply well-formed"
assert_eq "$(load_counts "$out")" "$want" "SIGHUP every second, half with a broken file: counted replies as in the reference run"
m=$(load_field "$out" messages); a=$(load_field "$out" accepted)
assert_eq "$(( a + $(load_field "$out" rejected) + $(load_field "$out" deferred) ))" "$m" "sent = accepted + rejected + deferred ($m)"
pf_wait_queue_empty 300
assert_eq "$(( $(load_delivered) - base ))" "$a" "SIGHUP every second: accepted = delivered, nothing lost"
ok=$(( $(grep_count 'reloaded .*: 10 rules') - ok0 )); bad=$(( $(grep_count 'reload of .* failed: keeping') - bad0 ))
t_log "reloads in ${secs} s: $ok good, $bad refused"
assert_true "good reloads happened about once every 2 s ($ok in $secs s)" test "$ok" -ge $((secs / 2 - 2))
assert_true "broken reloads refused about once every 2 s ($bad in $secs s)" test "$bad" -ge $((secs / 2 - 2))
assert_eq "$(load_worker_pid)" "$worker" "the same worker served the whole run (no crash)"
rss1=$(load_rss_kib "$worker"); fds1=$(load_fds "$worker")
t_log "worker RSS ${rss0} KiB -> ${rss1} KiB, open files $fds0 -> $fds1"
assert_true "worker memory did not grow by more than 8 MiB over $m messages and $((ok + bad)) reloads" \
    test $((rss1 - rss0)) -le 8192
assert_true "worker open files did not grow ($fds0 -> $fds1)" test "$fds1" -le $((fds0 + 2))

# --- 3. the worker killed every KILL_EVERY seconds ---
base=$(load_delivered)
restarts0=$(grep_count 'killed by signal 9.*restarting')
: >"$LAB/kills"
kill_worker_now_and_then() {
    local w
    while kill -0 "$RW_PID" 2>/dev/null; do
        sleep "$KILL_EVERY"
        w=$(pgrep -P "$RW_PID" | head -n 1)
        [ -n "$w" ] && kill -KILL "$w" 2>/dev/null && echo "$w" >>"$LAB/kills"
    done
}
t0=$(date +%s)
out=$(load_during kill_worker_now_and_then "$((SESS / 2))" "$PER" "$CONC"); rc=$?
secs=$(since "$t0")
t_log "kills: $out ($secs s)"
assert_eq "$(load_field "$out" protocol_errors)" "0" "worker killed repeatedly: no protocol error"
assert_eq "$(load_field "$out" malformed)" "0" "worker killed repeatedly: every reply well-formed"
a=$(load_field "$out" accepted)
pf_wait_queue_empty 300
assert_eq "$(( $(load_delivered) - base ))" "$a" "worker killed repeatedly: accepted = delivered, nothing lost"
kills=$(wc -l <"$LAB/kills")
restarted_all() { [ $(( $(grep_count 'killed by signal 9.*restarting') - restarts0 )) -ge "$kills" ]; }
assert_true "the supervisor restarted the worker after each of the $kills kills in $secs s" \
    test "$kills" -ge 1 -a "$(lab_wait_for 10 restarted_all && echo y)" = y
assert_true "a worker runs after the last kill" lab_wait_for 10 load_worker_pid

# --- 4. proxy mode, the upstream killed every KILL_EVERY seconds and restarted ---
lab_stop_pid "$RW_PID" 10
UP_SOCK=$LAB/run/null.sock
start_upstream() {
    lab_spawn nullmilter "$B/fixtures/nullmilter" -f -p "unix:$UP_SOCK" -T later@; UP_PID=$LAB_PID
    lab_wait_sock "$UP_SOCK" 10
}
start_upstream || lab_die "the upstream null milter did not start"
{ sed '/name = "rcpt-later"/,+1d' "$LAB/good.conf"; echo "upstreams = ( { name = \"null\"; socket = \"unix:$UP_SOCK\"; timeout = 10; } );"; } >"$LAB/proxy.conf"
reword_start "$LAB/proxy.conf"
pf_reload
base=$(load_delivered)
( exec >/dev/null 2>&1
  while kill -0 "$RW_PID" 2>/dev/null; do
      sleep "$KILL_EVERY"
      kill -KILL "$(cat "$LAB/up.pid" 2>/dev/null || echo 0)" 2>/dev/null
  done ) &
killer=$!
t0=$(date +%s)
up_kills=0
echo "$UP_PID" >"$LAB/up.pid"
# the load runs in the background; this loop restarts the upstream when it died
load_run "$((SESS / 2))" "$PER" "$CONC" >"$LAB/proxy-load.out" & lp=$!
while kill -0 "$lp" 2>/dev/null; do
    if ! kill -0 "$UP_PID" 2>/dev/null; then
        wait "$UP_PID" 2>/dev/null
        up_kills=$((up_kills + 1))
        sleep 1
        start_upstream; echo "$UP_PID" >"$LAB/up.pid"
    fi
    sleep 0.2
done
wait "$lp"; rc=$?
kill "$killer" 2>/dev/null; wait "$killer" 2>/dev/null
out=$(cat "$LAB/proxy-load.out")
t_log "proxy: $out ($(since "$t0") s, upstream killed $up_kills times)"
assert_eq "$rc" "0" "proxy, upstream killed repeatedly: no protocol error, every reply well-formed"
assert_true "the upstream was killed during the run ($up_kills times)" test "$up_kills" -ge 1
assert_match "$(grep -c 'upstream null failed: .*on_failure=tempfail' "$LAB/reword.log")" '^[1-9]' "upstream failures logged with the cause"
a=$(load_field "$out" accepted)
assert_match "$(load_field "$out" deferred)" '^[1-9]' "on_failure=tempfail refused mail while the upstream was down"
pf_wait_queue_empty 300
assert_eq "$(( $(load_delivered) - base ))" "$a" "proxy, upstream killed repeatedly: accepted = delivered, nothing lost"
assert_true "daemon survived the upstream kills" kill -0 "$RW_PID"
kill -0 "$UP_PID" 2>/dev/null || start_upstream
assert_match "$(smtp_rcpt_reply s@example.org later@local.test)" '^451 4\.' "the restarted upstream is consulted again (it tempfails later@)"

# --- 5. the audit log on a full disk for FULL_S seconds of load ---
lab_stop_pid "$RW_PID" 10
load_write_conf /dev/full
reword_start "$LOAD_CONF"
pf_reload
t0=$(date +%s)
runs=0; fails=0
while [ "$(since "$t0")" -lt "$FULL_S" ]; do
    out=$(load_run 200 "$PER" 50) || fails=$((fails + 1))
    runs=$((runs + 1))
done
secs=$(since "$t0")
assert_eq "$fails" "0" "full disk: $runs runs in $secs s, no protocol error, every reply well-formed"
assert_eq "$(smtp_rcpt_reply s@example.org blocked1@local.test)" "550 5.7.1 Mail for <blocked1@local.test> is refused (s@example.org)." \
    "full disk: decisions go on"
lines=$(grep_count 'audit log /dev/full: write failed')
t_log "full disk: $lines error lines in $secs s"
assert_true "full disk: one error line a minute ($lines in $secs s)" \
    test "$lines" -ge $((secs / 60)) -a "$lines" -le $((secs / 60 + 1))
pf_wait_queue_empty 300

assert_eq "$(load_refused_delivered)" "0" "no refused recipient or refused message was delivered ($(load_spam_warned) spam messages sent)"
assert_eq "$(pf_maillog_warnings 'milter|Milter|header Subject: cheap pills')" "" "no unexpected warning in Postfix's log"
t_summary
