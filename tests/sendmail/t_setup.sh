#!/bin/bash
# t_setup.sh - the documented sendmail setup is the tested one, and the lab
# sendmail is private: its .mc includes contrib/sendmail/milter-reword.mc
# (a copy differing only in the socket path), the built .cf holds the
# snippet's milter line; sendmail 8.17 from the private prefix listens only
# on its loopback port, accepts and delivers a clean message through
# milter-reword, rejects an unknown local user with its own reply, tempfails
# (F=T) while milter-reword is down, and stops leaving nothing behind.
# Run by tests/sendmail/run.sh (as root).
. "$(dirname "$0")/lib.sh"

sm_setup
CONF=$LAB/reword.conf
cat >"$CONF" <<EOF
audit: { jsonl = "$LAB/log/audit.jsonl"; };
rules = (
  { name = "rcpt-block"; when = { stage = "rcpt"; rcpt = "^blocked@"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Mail for this address is refused by policy."; }; }
);
EOF

# --- the snippet: included, only the socket path substituted ---
assert_eq "$(diff "$SM_CONTRIB_MC" "$SM_ETC/milter-reword.mc" | grep -c '^[<>]')" "2" \
    "the included copy differs from contrib/sendmail/milter-reword.mc in one line"
assert_eq "$(diff "$SM_CONTRIB_MC" "$SM_ETC/milter-reword.mc" | sed -n 's/^> //p' \
             | sed "s|unix:$SM_SOCK|unix:/run/milter-reword/milter-reword.sock|")" \
    "$(grep '^INPUT_MAIL_FILTER' "$SM_CONTRIB_MC")" "...and that line differs only in the socket path"
assert_true "lab.mc includes the copy" grep -qxF "include(\`$SM_ETC/milter-reword.mc')" "$SM_ETC/lab.mc"
assert_eq "$(grep '^Xmilter-reword' "$SM_ETC/lab.cf")" \
    "Xmilter-reword, S=unix:$SM_SOCK, F=T, T=C:30s;S:30s;R:30s;E:2m" "lab.cf: the snippet's milter definition"
assert_eq "$(grep '^O InputMailFilters' "$SM_ETC/lab.cf")" "O InputMailFilters=milter-reword" \
    "lab.cf: milter-reword is the input mail filter"
assert_eq "$(grep '^O Milter.macros.envrcpt' "$SM_ETC/lab.cf")" \
    "O Milter.macros.envrcpt={rcpt_mailer}, {rcpt_host}, {rcpt_addr}, i" "lab.cf: the snippet's RCPT macros"
assert_match "$(sm_version)" '^8\.17\.' "private sendmail is 8.17 ($(sm_version))"

sm_reword_start "$CONF"
sm_start
t_log "sendmail $(sm_version) started in ${SM_START_SECONDS}s on 127.0.0.1:$SM_PORT (lab $LAB)"
assert_eq "$(sm_pid)" "$SM_PID" "pid file names the daemon we started"
assert_eq "$(readlink "/proc/$SM_PID/exe")" "$SM_BIN" "the daemon is the private binary"
assert_eq "$(readlink "/proc/$SM_PID/cwd")" "$SM_QUEUE" "...working in the lab's queue directory"
assert_eq "$(ss -tlnpH 2>/dev/null | grep -c "pid=$SM_PID,")" "1" "one listening socket (no MSA on 587)"
assert_true "it is 127.0.0.1:$SM_PORT" bash -c "ss -tlnpH | grep 'pid=$SM_PID,' | grep -q '127.0.0.1:$SM_PORT '"

# --- mail flows through the milter and is delivered (after the 250) ---
assert_match "$(smtp_chat QUIT | head -n 1)" '^220 test\.example ESMTP Sendmail 8\.17\.' "banner"
reply=$(smtp_data_reply sender@example.org alice@local.test --header "Subject: through sendmail $$")
assert_match "$reply" '^250 2\.0\.0 [0-9A-Za-z]+ Message accepted for delivery$' "clean message accepted"
qid=$(sm_queue_id "$reply")
file=$(sm_wait_mail "$qid" 10)
assert_eq "$file" "$SM_MAILDIR/$qid.alice" "message $qid delivered to the lab mail dir"
assert_true "delivered message has its Subject" grep -qx "Subject: through sendmail $$" "$file"
assert_true "queue drained" sm_wait_queue_empty 10

# --- sendmail's own unknown-user rejection; passwd users exist (F=w) ---
assert_eq "$(smtp_rcpt_reply sender@example.org nosuchuser@local.test)" \
    "550 5.1.1 <nosuchuser@local.test>... User unknown" "unknown local user: sendmail's own reply"
assert_eq "$(smtp_rcpt_reply sender@example.org nobody@local.test)" \
    "250 2.1.5 <nobody@local.test>... Recipient ok" "a passwd user is a known local user"
assert_eq "$(smtp_rcpt_reply sender@example.org blocked@local.test)" \
    "550 5.7.1 <blocked@local.test>... Mail for this address is refused by policy." "milter-reword's reject"
assert_eq "$(sm_log_problems)" "" "no milter problem in sendmail's log"

# --- milter down: F=T makes sendmail tempfail, never accept unchecked ---
lab_stop_pid "$RW_PID" 5
mark=$(sm_log_mark)
smtp_rcpt_reply sender@example.org alice@local.test >/dev/null
assert_eq "$(smtp_replies MAIL)" "451 4.3.2 Please try again later" "milter down: MAIL tempfailed (F=T)"
assert_true "milter down is logged" sm_log_seen 'Milter \(milter-reword\): to error state' 5 "$mark"

# --- clean stop ---
assert_true "sm_stop leaves nothing running" sm_stop
t_log "sendmail stopped in ${SM_STOP_SECONDS}s"
assert_eq "$(lab_procs_under "$SM_DIR")" "" "no process left in the instance dir"
assert_eq "$(ss -tlnH "sport = :$SM_PORT" | wc -l)" "0" "port $SM_PORT closed"

t_summary
