#!/bin/bash
# t_failsafe.sh - an internal failure inside milter-reword never lets
# through mail a rule would refuse: a rule whose pattern blows PCRE2's match
# limit (catastrophic backtracking) is a "regex error" at run time, and the
# configured on_error applies: tempfail with an explained 451 4.3.0 reply by
# default, reject when on_error = "reject".  Other recipients are unaffected.
# The same for a header condition: the failure on one header is kept and
# on_error applies at the end of the message (not at the header, where
# Postfix may not wait for a reply).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reword.sh"

pf_setup
EVIL=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab
pf_add_user "$EVIL"
CONF=$LAB/reword.conf
write_conf() {
    cat >"$CONF" <<EOC
milter: { on_error = "$1"; };
audit: { jsonl = "$LAB/log/audit.jsonl"; };
rules = (
  { name = "backtracking"; when = { stage = "rcpt"; rcpt = "^(a+)+\$"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "never reached"; }; },
  { name = "header-backtracking"; when = { stage = "eom"; header = "X-Evil: ^(a+)+\$"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "never reached"; }; }
);
EOC
}
write_conf tempfail
reword_start "$CONF"
pf_start

reply=$(smtp_rcpt_reply sender@example.org "$EVIL@local.test")
assert_match "$reply" '^451 4\.3\.0 [A-Z]' "regex failure: explained 451 4.3.0 tempfail"
assert_true "on_error logged" reword_log_wait 'internal error at rcpt: rule evaluation failed; on_error=tempfail' 5
assert_true "on_error audited" reword_audit_wait '"action":"tempfail".*"note":"on_error: rule evaluation failed"' 5
assert_eq "$(smtp_rcpt_reply sender@example.org alice@local.test)" "250 2.1.5 Ok" \
    "a recipient the pattern rejects quickly is unaffected"
assert_true "daemon still running" kill -0 "$RW_PID"
assert_match "$(smtp_data_reply sender@example.org alice@local.test --header "X-Evil: $EVIL")" '^451 4\.3\.0 [A-Z]' \
    "header condition failure: explained 451 4.3.0 at end of message"
assert_true "header failure logged at eom" reword_log_wait 'internal error at eom: a header condition failed' 5
assert_match "$(smtp_data_reply sender@example.org alice@local.test --header "X-Evil: aaa b")" '^250 2\.0\.0 ' \
    "the next message on a fresh transaction is judged normally"

write_conf reject
kill -HUP "$(cat "$LAB/run/reword.pid")"
reword_log_wait 'reloaded .*: 2 rules' 10
assert_match "$(smtp_rcpt_reply sender@example.org "$EVIL@local.test")" '^550 5\.3\.0 [A-Z]' \
    "on_error = reject: explained 550 5.3.0"
assert_eq "$(pf_maillog_warnings)" "" "no warning: lines in Postfix's log (milter never cut off)"
t_summary
