#!/bin/bash
# t_load.sh - load and fault tests through real Postfix (bounded, loopback):
#  1. 500 concurrent SMTP sessions with rules firing at every stage: no
#     protocol error, every reply well-formed, every accepted message delivered;
#  2. SIGHUP four times a second during a 5,000-message run: sent = accepted +
#     rejected + deferred, and accepted = delivered (nothing lost);
#  3. a broken rule file on every reload during a run: the old rules stay,
#     the counts of refused and accepted replies are those of a run
#     without reloads;
#  4. the worker killed in the middle of a run: Postfix's
#     milter_default_action (tempfail) applies, the supervisor restarts it,
#     accepted = delivered;
#  5. the JSON audit log on a full disk (/dev/full): decisions go on, the
#     failure is logged once a minute, not once per record.
# Through all of it no refused recipient or message is delivered.  The
# long versions (SIGHUP every second over 50,000 messages, repeated kills,
# minutes on a full disk, proxy mode) are s_soak.sh, `make soak`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reword.sh"
. "$(dirname "$0")/load.sh"

load_setup
CONF=$LOAD_CONF
load_write_conf "$LAB/log/audit.jsonl"
reword_start "$CONF"
pf_start

# 1. 500 concurrent sessions
out=$(load_run 500 2 500); rc=$?
assert_eq "$rc" "0" "500 concurrent sessions: no protocol error, every reply well-formed"
t_log "$out"
assert_eq "$(load_field "$out" sessions)" "500" "all 500 sessions completed"
assert_match "$(load_field "$out" rcpt_refused)" '^[1-9]' "RCPT rejections happened"
assert_match "$(load_field "$out" rejected)" '^[1-9]' "end-of-message rejections happened"
pf_wait_queue_empty 120
acc=$(load_field "$out" accepted)
assert_eq "$(load_delivered)" "$acc" "every accepted message delivered ($acc)"

# 2. SIGHUP four times a second during a 5,000-message run (the run may take
# only a few seconds on a fast machine, so the rate is what makes "many")
base=$(load_delivered)
reloads_before=$(grep -c 'reloaded .*: 10 rules' "$LAB/reword.log")
hup_storm() { while kill -HUP "$RW_PID" 2>/dev/null; do sleep 0.25; done; }
out=$(load_during hup_storm 500 10 40); rc=$?
t_log "$out"
assert_eq "$rc" "0" "reload storm: no protocol error, every reply well-formed"
m=$(load_field "$out" messages); a=$(load_field "$out" accepted); r=$(load_field "$out" rejected); d=$(load_field "$out" deferred)
assert_eq "$m" "5000" "5,000 messages sent"
assert_eq "$((a + r + d))" "$m" "sent = accepted + rejected + deferred"
pf_wait_queue_empty 180
assert_eq "$(( $(load_delivered) - base ))" "$a" "reload storm: accepted = delivered"
reloads=$(( $(grep -c 'reloaded .*: 10 rules' "$LAB/reword.log") - reloads_before ))
assert_true "many reloads happened during the run ($reloads)" test "$reloads" -ge 5
assert_true "daemon survived the reload storm" kill -0 "$RW_PID"

# 3. a broken rule file on every reload during a run: the old rules stay,
# so the counted replies equal those of the same run without reloads
cp "$CONF" "$LAB/good.conf"
out=$(load_run 200 5 40); rc=$?
assert_eq "$rc" "0" "reference run: no protocol error"
want=$(load_counts "$out")
printf 'rules = ( { name = "x"; when = { stage = "rcpt"; rcpt = "(unclosed"; }; action = "reject"; } );\n' >"$CONF"
failed_before=$(grep -c 'reload of .* failed: keeping' "$LAB/reword.log")
out=$(load_during hup_storm 200 5 40); rc=$?
t_log "$out"
assert_eq "$rc" "0" "broken reloads: no protocol error, every reply well-formed"
got=$(load_counts "$out")
assert_eq "$got" "$want" "broken reloads: accepted/rejected/deferred/RCPT refused/RCPT tempfailed unchanged"
failed=$(( $(grep -c 'reload of .* failed: keeping' "$LAB/reword.log") - failed_before ))
assert_true "broken reloads were tried and refused during the run ($failed)" test "$failed" -ge 3
cp "$LAB/good.conf" "$CONF"
ok_before=$(grep -c 'reloaded .*: 10 rules' "$LAB/reword.log")
kill -HUP "$RW_PID"
reloads_above() { [ "$(grep -c 'reloaded .*: 10 rules' "$LAB/reword.log")" -gt "$1" ]; }
assert_true "the good file loads again" lab_wait_for 10 reloads_above "$ok_before"
# both runs' mail delivered before the next count starts
pf_wait_queue_empty 180

# 4. worker killed under load
base=$(load_delivered)
( sleep 0.7; kill -KILL "$(pgrep -P "$RW_PID" | head -n 1)" ) &
killer=$!
mark=$(pf_log_mark)
out=$(load_run 600 5 30); rc=$?
t_log "$out"
wait "$killer"
assert_match "$(pf_log_since "$mark" | grep -c 'warning: milter unix:')" '^[1-9]' \
    "the worker died while Postfix was talking to it (milter warnings logged)"
assert_eq "$(load_field "$out" protocol_errors)" "0" "worker killed: no protocol error"
assert_eq "$(load_field "$out" malformed)" "0" "worker killed: every reply well-formed"
a=$(load_field "$out" accepted)
assert_match "$(load_field "$out" deferred)" '^[0-9]+$' "deferred counted ($(load_field "$out" deferred))"
pf_wait_queue_empty 180
assert_eq "$(( $(load_delivered) - base ))" "$a" "worker killed: accepted = delivered, nothing lost"
assert_true "supervisor restarted the worker" reword_log_wait 'killed by signal 9.*restarting' 5
assert_eq "$(smtp_rcpt_reply s@example.org blocked0@local.test)" "550 5.7.1 Mail for <blocked0@local.test> is refused (s@example.org)." \
    "rules apply after the restart"

# 5. audit log on a full disk
lab_stop_pid "$RW_PID" 10
load_write_conf /dev/full
reword_start "$CONF"
pf_reload
for i in $(seq 1 20); do smtp_rcpt_reply s@example.org blocked1@local.test >/dev/null; done
assert_eq "$(smtp_rcpt_reply s@example.org blocked1@local.test)" "550 5.7.1 Mail for <blocked1@local.test> is refused (s@example.org)." \
    "full disk: decisions go on"
assert_eq "$(grep -c 'audit log /dev/full: write failed' "$LAB/reword.log")" "1" "full disk: one error line, not one per record"
assert_eq "$(load_refused_delivered)" "0" "no refused recipient or refused message was delivered ($(load_spam_warned) spam messages sent)"
assert_eq "$(pf_maillog_warnings 'milter|Milter|header Subject: cheap pills')" "" "no unexpected warning in Postfix's log"
t_summary
