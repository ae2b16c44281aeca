#!/bin/bash
# t_load.sh - load and fault tests through real Postfix (bounded, loopback):
#  1. 500 concurrent SMTP sessions with rules firing at every stage: no
#     protocol error, every reply well-formed, every accepted message delivered;
#  2. SIGHUP twice a second during a 5,000-message run: sent = accepted +
#     rejected + deferred, and accepted = delivered (nothing lost);
#  3. the worker killed in the middle of a run: Postfix's
#     milter_default_action (tempfail) applies, the supervisor restarts it,
#     accepted = delivered;
#  4. the JSON audit log on a full disk (/dev/full): decisions go on, the
#     failure is logged once a minute, not once per record.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reword.sh"

pf_setup
for u in blocked0 blocked1 blocked2 later; do pf_add_user "$u"; done
pf_conf "default_process_limit = 600"
pf_conf "smtpd_client_connection_count_limit = 0"
pf_conf "smtpd_client_connection_rate_limit = 0"
pf_conf "smtpd_client_message_rate_limit = 0"
pf_conf "smtpd_client_recipient_rate_limit = 0"
CONF=$LAB/reword.conf
write_conf() {   # write_conf JSONL
    cat >"$CONF" <<EOF
audit: { jsonl = "$1"; };
rules = (
  { name = "c"; when = { stage = "connect"; client = "127.0.0.0/8"; }; action = "log"; },
  { name = "h"; when = { stage = "helo"; helo = "^load\\\\."; }; action = "log"; },
  { name = "m"; when = { stage = "mail"; sender = "^nobody-sends@"; }; action = "reject"; },
  { name = "rcpt-block"; when = { stage = "rcpt"; rcpt = "^blocked"; }; action = "reject";
    reply = { enhanced = "5.7.1"; text = "Mail for <%{rcpt}> is refused (%{sender})."; }; },
  { name = "rcpt-later"; when = { stage = "rcpt"; rcpt = "^later@"; }; action = "tempfail";
    reply = { enhanced = "4.7.1"; }; },
  { name = "d"; when = { stage = "data"; sender = "^nobody-sends@"; }; action = "reject"; },
  { name = "hdr"; when = { stage = "header"; header = "X-Never: ."; }; action = "reject"; },
  { name = "eoh"; when = { stage = "eoh"; sender = "^nobody-sends@"; }; action = "reject"; },
  { name = "body"; when = { stage = "body"; sender = "^nobody-sends@"; }; action = "reject"; },
  { name = "eom-spam"; when = { stage = "eom"; header = "Subject: (?i)cheap pills"; }; action = "reject";
    reply = { code = 550; enhanced = "5.7.1"; text = "Refused as spam."; }; }
);
EOF
}
write_conf "$LAB/log/audit.jsonl"
reword_start "$CONF"
pf_start

delivered() { grep -E 'postfix/discard\[[0-9]+\]: [0-9A-Z]+: to=<alice@local.test>.*status=sent' "$PF_MAILLOG" | wc -l; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
load() { timeout 600 python3 "$SRCDIR/tests/integration/smtp_load.py" 127.0.0.1 "$PF_PORT" "$@"; }

# 1. 500 concurrent sessions
out=$(load 500 2 500); rc=$?
assert_eq "$rc" "0" "500 concurrent sessions: no protocol error, every reply well-formed"
t_log "$out"
assert_eq "$(field "$out" sessions)" "500" "all 500 sessions completed"
assert_match "$(field "$out" rcpt_refused)" '^[1-9]' "RCPT rejections happened"
assert_match "$(field "$out" rejected)" '^[1-9]' "end-of-message rejections happened"
pf_wait_queue_empty 120
acc=$(field "$out" accepted)
assert_eq "$(delivered)" "$acc" "every accepted message delivered ($acc)"

# 2. SIGHUP four times a second during a 5,000-message run (the run may take
# only a few seconds on a fast machine, so the rate is what makes "many")
base=$(delivered)
reloads_before=$(grep -c 'reloaded .*: 10 rules' "$LAB/reword.log")
( while :; do kill -HUP "$RW_PID" 2>/dev/null || exit; sleep 0.25; done ) &
hup=$!
out=$(load 500 10 40); rc=$?
kill "$hup" 2>/dev/null; wait "$hup" 2>/dev/null
t_log "$out"
assert_eq "$rc" "0" "reload storm: no protocol error, every reply well-formed"
m=$(field "$out" messages); a=$(field "$out" accepted); r=$(field "$out" rejected); d=$(field "$out" deferred)
assert_eq "$m" "5000" "5,000 messages sent"
assert_eq "$((a + r + d))" "$m" "sent = accepted + rejected + deferred"
pf_wait_queue_empty 180
assert_eq "$(( $(delivered) - base ))" "$a" "reload storm: accepted = delivered"
reloads=$(( $(grep -c 'reloaded .*: 10 rules' "$LAB/reword.log") - reloads_before ))
assert_true "many reloads happened during the run ($reloads)" test "$reloads" -ge 5
assert_true "daemon survived the reload storm" kill -0 "$RW_PID"

# 3. worker killed under load
base=$(delivered)
( sleep 0.7; kill -KILL "$(pgrep -P "$RW_PID" | head -n 1)" ) &
killer=$!
mark=$(pf_log_mark)
out=$(load 600 5 30); rc=$?
t_log "$out"
wait "$killer"
assert_match "$(pf_log_since "$mark" | grep -c 'warning: milter unix:')" '^[1-9]' \
    "the worker died while Postfix was talking to it (milter warnings logged)"
assert_eq "$(field "$out" protocol_errors)" "0" "worker killed: no protocol error"
assert_eq "$(field "$out" malformed)" "0" "worker killed: every reply well-formed"
a=$(field "$out" accepted)
assert_match "$(field "$out" deferred)" '^[0-9]+$' "deferred counted ($(field "$out" deferred))"
pf_wait_queue_empty 180
assert_eq "$(( $(delivered) - base ))" "$a" "worker killed: accepted = delivered, nothing lost"
assert_true "supervisor restarted the worker" reword_log_wait 'killed by signal 9.*restarting' 5
assert_eq "$(smtp_rcpt_reply s@example.org blocked0@local.test)" "550 5.7.1 Mail for <blocked0@local.test> is refused (s@example.org)." \
    "rules apply after the restart"

# 4. audit log on a full disk
lab_stop_pid "$RW_PID" 10
write_conf /dev/full
reword_start "$CONF"
pf_reload
for i in $(seq 1 20); do smtp_rcpt_reply s@example.org blocked1@local.test >/dev/null; done
assert_eq "$(smtp_rcpt_reply s@example.org blocked1@local.test)" "550 5.7.1 Mail for <blocked1@local.test> is refused (s@example.org)." \
    "full disk: decisions go on"
assert_eq "$(grep -c 'audit log /dev/full: write failed' "$LAB/reword.log")" "1" "full disk: one error line, not one per record"
assert_eq "$(pf_maillog_warnings 'milter|Milter')" "" "no unexpected warning in Postfix's log"
t_summary
