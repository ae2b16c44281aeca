#!/bin/bash
# t_nullmilter.sh - runs a private Postfix with the fixture milter
# build/fixtures/nullmilter (continue on every event) on a unix socket in the
# lab dir, and checks that mail goes through with 250, that Postfix's own
# rejections are unchanged, and that no warning is logged (a milter that
# cannot be reached would show as 451 4.7.1 plus warnings, since the lab uses
# milter_default_action = tempfail).
# Run by tests/integration/run.sh (as root) after `make build/fixtures/nullmilter`.
. "$(dirname "$0")/lib.sh"

NULLMILTER=$B/fixtures/nullmilter
[ -x "$NULLMILTER" ] || lab_die "$NULLMILTER not built: run make build/fixtures/nullmilter"

pf_setup
SOCK=$LAB/nullmilter.sock
lab_spawn nullmilter "$NULLMILTER" -f -p "unix:$SOCK"
assert_true "nullmilter listens on $SOCK" lab_wait_sock "$SOCK" 10
assert_match "$(stat -c %A "$SOCK")" '^srw-rw-rw-' "socket usable by user postfix (mode 0666)"
pf_set_milter "unix:$SOCK"
pf_start
assert_eq "$(pf_postconf -h smtpd_milters)" "unix:$SOCK" "smtpd_milters set"

reply=$(smtp_data_reply sender@example.org alice@local.test --header "Subject: through nullmilter")
assert_match "$reply" '^250 2\.0\.0 Ok: queued as [0-9A-Za-z]+$' "message accepted through the milter"
qid=$(smtp_queue_id "$reply")
assert_match "$(pf_log_wait "discard\[[0-9]+\]: $qid: to=<alice@local.test>" 10)" 'status=sent' \
    "message $qid delivered (discard)"

# Several messages in one session (milter context reused across transactions).
reply=$(smtp_data_reply sender@example.org alice@local.test,postmaster@local.test)
assert_match "$reply" '^250 2\.0\.0 Ok: queued as ' "two recipients accepted"

assert_eq "$(smtp_rcpt_reply sender@example.org nobody@local.test)" \
    "550 5.1.1 <nobody@local.test>: Recipient address rejected: User unknown in local recipient table" \
    "Postfix's own reject unchanged by the milter"

assert_true "nullmilter still running" kill -0 "$LAB_PID"
assert_true "queue drained" pf_wait_queue_empty 10
assert_eq "$(pf_maillog_warnings)" "" "no warning: lines in maillog"

# The harness detects a dead milter: stop it, expect the tempfail default.
lab_stop_pid "$LAB_PID" 5
assert_eq "$(smtp_rcpt_reply sender@example.org alice@local.test)" "" "no RCPT reply when the milter is down"
assert_eq "$(smtp_replies MAIL)" "451 4.7.1 Service unavailable - try again later" \
    "milter down: MAIL gets the tempfail default"
assert_match "$(pf_maillog_warnings)" 'warning: connect to Milter service unix:' "milter down is logged as a warning"

t_summary
