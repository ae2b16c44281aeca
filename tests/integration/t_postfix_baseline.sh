#!/bin/bash
# t_postfix_baseline.sh - proves the integration harness (lib.sh) with NO
# milter: a private Postfix accepts mail for a known local user and delivers
# it to the lab's mail dir, rejects an unknown local user and relaying with
# Postfix's exact reply texts, shows a smtpd_reject_footer_maps footer as the
# second reply line after a reload, and logs no warning.
# Run by tests/integration/run.sh (as root).
. "$(dirname "$0")/lib.sh"

FROM=sender@example.org
UNKNOWN_REPLY="550 5.1.1 <nobody@local.test>: Recipient address rejected: User unknown in local recipient table"
RELAY_REPLY="554 5.7.1 <x@elsewhere.example>: Relay access denied"

PF_DELIVER=maildir pf_setup
pf_start
t_log "postfix started in ${PF_START_SECONDS}s on port $PF_PORT (lab $LAB)"

# (a) a known local user: accepted, delivered with its Subject.
assert_eq "$(smtp_rcpt_reply "$FROM" alice@local.test)" "250 2.1.5 Ok" "RCPT alice@local.test accepted"
reply=$(smtp_data_reply "$FROM" alice@local.test --header "Subject: baseline $$")
assert_match "$reply" '^250 2\.0\.0 Ok: queued as [0-9A-Za-z]+$' "end of data: 250 queued"
qid=$(smtp_queue_id "$reply")
file=$(pf_wait_mail "$qid" 10)
assert_eq "$file" "$PF_MAILDIR/$qid.alice@local.test" "message $qid delivered to the mail dir"
assert_true "delivered message has its Subject" grep -qx "Subject: baseline $$" "$file"

# (b) an unknown local user.
assert_eq "$(smtp_rcpt_reply "$FROM" nobody@local.test)" "$UNKNOWN_REPLY" "unknown local user rejected"

# (c) relaying from 127.0.0.1 (not in mynetworks).
assert_eq "$(smtp_rcpt_reply "$FROM" x@elsewhere.example)" "$RELAY_REPLY" "relay denied"

# Multiple recipients: one reply line per RCPT, in order.
assert_eq "$(smtp_rcpt_reply "$FROM" alice@local.test,nobody@local.test)" \
    "250 2.1.5 Ok
$UNKNOWN_REPLY" "two RCPTs: one reply each"

# (d) a reject footer, added with a reload.
cat >"$PF_ETC/footer.pcre" <<'EOF'
/User unknown/ See https://help.example/unknown-user
EOF
pf_conf "smtpd_reject_footer_maps = pcre:$PF_ETC/footer.pcre"
t0=$(lab_now)
assert_true "pf_reload" pf_reload
t_log "reload took $(lab_elapsed "$t0")s"
assert_eq "$(smtp_rcpt_reply "$FROM" nobody@local.test)" \
    "550-5.1.1 <nobody@local.test>: Recipient address rejected: User unknown in local recipient table
550 5.1.1 See https://help.example/unknown-user" "footer is the second reply line"
assert_eq "$(smtp_rcpt_reply "$FROM" x@elsewhere.example)" "$RELAY_REPLY" "no footer where the map has none"

# The soft variant of the relay restriction (Postfix's own default).
pf_conf "smtpd_relay_restrictions = permit_mynetworks, defer_unauth_destination"
pf_reload
assert_eq "$(smtp_rcpt_reply "$FROM" x@elsewhere.example)" \
    "454 4.7.1 <x@elsewhere.example>: Relay access denied" "defer_unauth_destination: 454"

# A user added while running is known at once.
pf_add_user bob
assert_eq "$(smtp_rcpt_reply "$FROM" bob@local.test)" "250 2.1.5 Ok" "pf_add_user bob"

# (e) a clean log, and a clean stop.
assert_true "queue drained" pf_wait_queue_empty 10
assert_eq "$(pf_maillog_warnings)" "" "no warning: lines in maillog"
assert_true "pf_stop leaves nothing running" pf_stop
t_log "postfix stopped in ${PF_STOP_SECONDS}s"
assert_eq "$(lab_procs_under "$PF_DIR")" "" "no process left under the instance dir"

t_summary
