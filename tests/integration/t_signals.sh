#!/bin/bash
# t_signals.sh - operations through real signals on the pid in the pidfile:
# SIGUSR1 reopens the JSON audit log after logrotate moved it; a worker
# that dies (SIGKILL, as in a crash) is restarted by the supervisor and mail
# flows again (in the gap Postfix's milter_default_action=tempfail applies:
# nothing is accepted unchecked); SIGHUP with an included file or directory
# the daemon's user can no longer read keeps the old rules and logs the path;
# SIGTERM stops everything and removes the pidfile; a supervisor killed with
# SIGKILL takes its worker with it (no orphan keeps serving the socket).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reword.sh"

pf_setup
pf_add_user blocked
pf_add_user extra
CONF=$LAB/reword.conf
cat >"$CONF" <<EOF
audit: { jsonl = "$LAB/log/audit.jsonl"; };
include = [ "$LAB/inc/*.conf" ];
rules = (
  { name = "rcpt-block"; when = { stage = "rcpt"; rcpt = "^blocked@"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Mail for <%{rcpt}> is refused."; }; }
);
EOF
mkdir -p "$LAB/inc"
cat >"$LAB/inc/extra.conf" <<EOF
rules = ( { name = "rcpt-extra"; when = { stage = "rcpt"; rcpt = "^extra@"; };
            action = "reject"; reply = { enhanced = "5.7.1"; text = "Extra rule refuses <%{rcpt}>."; }; } );
EOF
chmod 0644 "$LAB/inc/extra.conf"
reword_start "$CONF"
pf_start
PIDFILE=$LAB/run/reword.pid
assert_eq "$(cat "$PIDFILE")" "$RW_PID" "pidfile holds the supervisor's pid"

# --- logrotate: move the file, SIGUSR1, records go to the new file ---
smtp_rcpt_reply sender@example.org blocked@local.test >/dev/null
assert_true "first record written" reword_audit_wait '"rule":"rcpt-block"' 5
mv "$LAB/log/audit.jsonl" "$LAB/log/audit.jsonl.1"
kill -USR1 "$RW_PID"
assert_true "reopen logged" reword_log_wait 'audit log .* reopened' 5
smtp_rcpt_reply sender@example.org blocked@local.test >/dev/null
assert_true "record after rotation lands in the new file" reword_audit_wait '"rule":"rcpt-block"' 5
assert_eq "$(wc -l <"$LAB/log/audit.jsonl.1")" "1" "rotated file keeps only the old record"
assert_true "daemon survived SIGUSR1" kill -0 "$RW_PID"

# --- worker crash: restarted, socket kept, mail flows again ---
worker=$(pgrep -P "$RW_PID" | head -n 1)
assert_match "$worker" '^[0-9]+$' "a worker process exists"
kill -KILL "$worker"
assert_true "supervisor logs the restart" reword_log_wait "worker $worker killed by signal 9.*restarting" 5
for i in $(seq 1 50); do
    w2=$(pgrep -P "$RW_PID" | head -n 1)
    [ -n "$w2" ] && [ "$w2" != "$worker" ] && break
    sleep 0.1
done
assert_true "a new worker runs" test -n "$w2" -a "$w2" != "$worker"
reword_log_wait "worker $w2 ready" 5
assert_eq "$(smtp_rcpt_reply sender@example.org blocked@local.test)" "550 5.7.1 Mail for <blocked@local.test> is refused." \
    "rules apply again after the restart"
assert_eq "$(smtp_rcpt_reply sender@example.org alice@local.test)" "250 2.1.5 Ok" "clean mail flows after the restart"

# --- SIGHUP with rules the daemon's user cannot read: old rules stay ---
EXTRA_REPLY="550 5.7.1 Extra rule refuses <extra@local.test>."
assert_eq "$(smtp_rcpt_reply sender@example.org extra@local.test)" "$EXTRA_REPLY" "the included rule applies"
chmod 0600 "$LAB/inc/extra.conf"
kill -HUP "$RW_PID"
assert_true "unreadable included file: reload refused, path and reason logged" \
    reword_log_wait "cannot read $LAB/inc/extra.conf: Permission denied" 5
assert_true "... and the old rules kept" reword_log_wait "reload of .* failed: keeping the rules" 5
assert_eq "$(smtp_rcpt_reply sender@example.org extra@local.test)" "$EXTRA_REPLY" \
    "the included rule still applies after the refused reload"
chmod 0644 "$LAB/inc/extra.conf"
chmod 0700 "$LAB/inc"
kill -HUP "$RW_PID"
assert_true "unreadable include directory: reload refused, directory named" \
    reword_log_wait "cannot read directory $LAB/inc of include .*Permission denied" 5
assert_eq "$(smtp_rcpt_reply sender@example.org extra@local.test)" "$EXTRA_REPLY" \
    "the included rule still applies (the glob did not silently match nothing)"
chmod 0755 "$LAB/inc"

# --- SIGTERM: clean stop ---
kill -TERM "$RW_PID"
for i in $(seq 1 100); do kill -0 "$RW_PID" 2>/dev/null || break; sleep 0.1; done
assert_true "stopped on SIGTERM" bash -c "! kill -0 $RW_PID 2>/dev/null"
assert_true "pidfile removed" test ! -e "$PIDFILE"
assert_eq "$(pgrep -f "milter-reword -f -c $CONF" | wc -l)" "0" "no worker left behind"
assert_eq "$(smtp_mail_reply sender@example.org)" "451 4.7.1 Service unavailable - try again later" \
    "milter gone: Postfix tempfails (nothing accepted unchecked)"
# --- the supervisor killed with SIGKILL: the worker ends too ---
reword_start "$CONF"
reword_log_wait "worker [0-9]+ ready" 5
worker=$(pgrep -P "$RW_PID" | head -n 1)
assert_match "$worker" '^[0-9]+$' "second daemon: a worker process exists"
kill -KILL "$RW_PID"
for i in $(seq 1 100); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done
assert_true "worker ends when its supervisor is SIGKILLed (no orphan)" bash -c "! kill -0 $worker 2>/dev/null"
assert_eq "$(smtp_mail_reply sender@example.org)" "451 4.7.1 Service unavailable - try again later" \
    "nobody serves the socket: Postfix tempfails"
t_summary
