#!/bin/bash
# t_upstreams_direct.sh - the baseline for proxy mode: the test upstream
# milter (upstream_milter.py, "tm") and a private OpenDKIM attached to a real
# Postfix DIRECTLY (smtpd_milters = tm, then OpenDKIM; no milter-reword;
# milter_default_action = tempfail).  It records what an SMTP client reads
# when these milters decide on their own - the vague defaults ("550 5.7.1
# Command rejected"), their own texts, what a class-mismatched reply does to
# Postfix - and that end-of-message changes reach the delivered message.
# t_proxy.sh runs the same upstreams behind milter-reword; compare with this.
# It also checks the harness itself (upstreams.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/upstreams.sh"

upstreams_available || lab_die "python3-milter, opendkim or opendkim-tools missing: make deps (tools/deps/proxy.txt)"

upstreams_lab_setup
pf_set_milter "${UP_SOCK[tm]}" "$DKIM_SOCK"
pf_start
EV=$(upstream_log tm)

CMD_REJ='550 5.7.1 Command rejected'
CMD_TEMP='451 4.7.1 Service unavailable - try again later'

# --- the test milter's refusals: Postfix's vague defaults and its own text ---
assert_eq "$(smtp_rcpt_reply sender@example.org bare-rcpt@local.test)" "$CMD_REJ" \
    "bare reject at RCPT: Postfix's default text"
assert_eq "$(smtp_rcpt_reply sender@example.org temp-rcpt@local.test)" "$CMD_TEMP" \
    "bare tempfail at RCPT: Postfix's default text"
assert_eq "$(smtp_rcpt_reply sender@example.org code-rcpt@local.test)" "554 5.7.1 Custom upstream text" \
    "setreply 554 + reject at RCPT: the milter's text verbatim"
assert_eq "$(smtp_mail_reply bare-mail@example.org)" "$CMD_REJ" "bare reject at MAIL"
smtp_swaks --helo reject.helo.test --from a@example.org --to alice@local.test --quit-after RCPT >/dev/null
assert_match "$(smtp_replies EHLO | tail -n 1)" '^250 ' "reject at HELO: HELO itself answered 250"
assert_eq "$(smtp_replies MAIL)" "$CMD_REJ" "reject at HELO: applied from MAIL on"
smtp_swaks --helo temp.helo.test --from a@example.org --to alice@local.test --quit-after RCPT >/dev/null
assert_eq "$(smtp_replies MAIL)" "$CMD_TEMP" "tempfail at HELO: applied from MAIL on"
for st in header eoh body eom; do
    assert_eq "$(smtp_data_reply sender@example.org alice@local.test --header "X-Test-Action: reject-$st")" \
        "$CMD_REJ" "bare reject at $st: Postfix's default text"
done
assert_eq "$(smtp_data_reply sender@example.org alice@local.test --header 'X-Test-Action: tempfail-eom')" \
    "$CMD_TEMP" "bare tempfail at end of message"

# --- the callback log: events and macros, incl. those asked for with setsymlist ---
assert_match "$(grep -m1 '^negotiate ' "$EV")" '^negotiate offered=0x1ff/0x1fffff actions=0x17f protocol=0x400$' \
    "tm negotiated its actions (ADDHDRS..CHGFROM, SETSYMLIST) and SKIP"
assert_match "$(grep -m1 '^connect ' "$EV")" '^connect host=localhost addr=127\.0\.0\.1 j=test\.example \{daemon_name\}=[^ ]+ \{client_addr\}=127\.0\.0\.1 \{client_port\}=[0-9]+ v=Postfix' \
    "connect macros: Postfix honoured tm's setsymlist ({client_addr}, {client_port} are not defaults)"
assert_match "$(grep -m1 '^envfrom <sender@example.org>' "$EV")" '\{mail_addr\}=sender@example\.org \{mail_host\}=example\.org \{mail_mailer\}=[a-z]+' \
    "MAIL macros"
assert_match "$(grep -m1 '^envrcpt <alice@local.test>' "$EV")" '\{rcpt_addr\}=alice@local\.test \{rcpt_host\}=local\.test \{rcpt_mailer\}=[a-z]+' \
    "RCPT macros (Postfix's defaults)"
assert_match "$(grep -m1 '^eom ' "$EV")" ' i=[0-9A-Za-z]+$' "end-of-message macro i (queue id)"

# --- OpenDKIM: unsigned and badly signed mail refused, signed mail passes ---
assert_eq "$(smtp_data_reply sender@example.org alice@local.test)" "550 5.7.0 no DKIM signature data" \
    "OpenDKIM refuses an unsigned message (its own text)"
assert_eq "$(smtp_data_reply sender@example.org alice@local.test --header "$(opendkim_bad_signature)")" \
    "550 5.7.0 bad DKIM signature data" "OpenDKIM refuses a bad signature"
opendkim_signed_message signed >"$LAB/signed.eml"
sed 's/^This message is signed/Altered/' "$LAB/signed.eml" >"$LAB/altered.eml"
sed 's/^Subject: signed/X-Test-Action: modify\r\n&/' "$LAB/signed.eml" >"$LAB/signed-modify.eml"
reply=$(smtp_data_reply sender@example.org alice@local.test --data "$LAB/signed.eml")
assert_match "$reply" '^250 2\.0\.0 Ok: queued as ' "a signed message passes both milters"
qid=$(smtp_queue_id "$reply")
assert_match "$(pf_delivered_header "$qid" alice@local.test Authentication-Results)" \
    '^Authentication-Results: lab\.test; dkim=pass \(1024-bit key\) header\.d=example\.org header\.i=@example\.org header\.a=rsa-sha1 header\.s=lab header\.b=[^;]+; dkim-atps=neutral$' \
    "OpenDKIM adds Authentication-Results dkim=pass"
assert_eq "$(pf_delivered_header "$qid" alice@local.test X-Upstream-Seen)" "X-Upstream-Seen: tm" \
    "tm adds X-Upstream-Seen"
reply=$(smtp_data_reply sender@example.org alice@local.test --data "$LAB/altered.eml")
assert_eq "$reply" "550 5.7.0 bad DKIM signature data" "a signed message altered on the way is refused"
reply=$(smtp_data_reply sender@example.org alice@local.test --data "$LAB/signed-modify.eml")
assert_eq "$reply" "550 5.7.0 bad DKIM signature data" \
    "OpenDKIM (second) sees the message as tm (first) changed it: the signature no longer verifies"
assert_eq "$(pf_maillog_warnings)" "" "no warnings in Postfix's log so far"

# --- OpenDKIM restarted to accept unsigned mail: what tm alone does to a message ---
opendkim_stop
opendkim_start "$DKIM_PORT" accept
# accept, discard, quarantine, progress, skip
reply=$(smtp_data_reply sender@example.org accept-rcpt@local.test)
assert_match "$reply" '^250 2\.0\.0 Ok: queued as ' "accept at RCPT: accepted"
assert_eq "$(pf_delivered_header "$(smtp_queue_id "$reply")" accept-rcpt@local.test X-Upstream-Seen)" "" \
    "accept at RCPT: tm got no end of message (no X-Upstream-Seen)"
assert_match "$(smtp_data_reply sender@example.org discard-rcpt@local.test)" '^250 ' "discard at RCPT: the client is told 250"
assert_match "$(pf_log_wait 'milter-discard: RCPT .*to=<discard-rcpt@local.test>' 5)" DISCARD "discard at RCPT: Postfix discards"
reply=$(smtp_data_reply sender@example.org alice@local.test --header 'X-Test-Action: quarantine')
assert_match "$(pf_log_wait "$(smtp_queue_id "$reply"): milter-hold: END-OF-MESSAGE" 5)" 'milter triggers HOLD action' \
    "quarantine: Postfix puts the message on hold (it does not log the reason)"
for a in progress skip; do
    reply=$(smtp_data_reply sender@example.org alice@local.test --header "X-Test-Action: $a" --body "$a body")
    assert_match "$reply" '^250 2\.0\.0 Ok: queued as ' "$a: accepted"
done
assert_match "$(smtp_data_reply sender@example.org alice@local.test --header 'X-Test-Action: slow 1')" \
    '^250 2\.0\.0 Ok: queued as ' "slow 1: accepted after a second (Postfix waits up to milter_content_timeout)"
assert_match "$(upstream_log_wait tm '^slept ' 5)" '^slept 1\.0$' "slow 1: tm slept 1 s"
assert_true "skip: no body callback after SKIP" bash -c \
    "awk '/^header X-Test-Action: skip/ { s = 1 } s && /^body / { n++ } s && /^eom / { exit !(n == 1) }' '$EV'"

# end-of-message changes reach the delivered message
reply=$(smtp_data_reply sender@example.org alice@local.test,remove-me@local.test \
        --header 'Subject: original' --header 'X-Test-Action: modify' --body 'original body')
assert_match "$reply" '^250 2\.0\.0 Ok: queued as ' "modify: accepted"
qid=$(smtp_queue_id "$reply")
M=$(pf_delivered_message "$qid" alice@local.test)
assert_true "modify: delivered to alice" test -n "$M"
assert_eq "$(pf_delivered_header "$qid" alice@local.test X-Upstream-Added)" "X-Upstream-Added: yes" "modify: header added"
assert_eq "$(pf_delivered_header "$qid" alice@local.test Subject)" "Subject: Changed by upstream" "modify: header changed"
assert_eq "$(pf_delivered_body "$qid" alice@local.test)" "Body replaced by upstream" "modify: body replaced"
assert_match "$(pf_delivered_header "$qid" alice@local.test Return-Path)" '^Return-Path: <changed-from@example\.test>$' \
    "modify: envelope sender changed"
assert_eq "$(sed -n '1,4p' <<<"$M" | sed 's/:.*//')" \
    "$(printf '%s\n' Return-Path Authentication-Results X-Upstream-First Received)" \
    "modify: X-Upstream-First inserted at index 0 (above Received), OpenDKIM's header above it"
assert_match "$(pf_delivered_header "$qid" alice@local.test Authentication-Results)" \
    '^Authentication-Results: lab\.test; dkim=none' "OpenDKIM (On-NoSignature accept) adds Authentication-Results dkim=none"
assert_true "modify: recipient added" test -n "$(pf_delivered_message "$qid" added@local.test)"
pf_wait_queue_empty 20
assert_true "modify: recipient removed" test ! -e "$PF_MAILDIR/$qid.remove-me@local.test"
assert_eq "$(pf_delivered_header "$qid" added@local.test Subject)" "Subject: Changed by upstream" \
    "modify: the added recipient gets the changed message"

# --- what Postfix does with a class-mismatched reply (the proxy must never pass one on) ---
mark=$(pf_log_mark)
smtp_swaks --from sender@example.org --to mismatch-rcpt@local.test,alice@local.test --quit-after RCPT >/dev/null
assert_eq "$(smtp_replies RCPT)" \
    "$(printf '451 4.3.5 Server configuration problem - try again later\n451 4.3.5 Server configuration problem - try again later')" \
    "550 4.7.1 from a milter: Postfix cuts the milter off, every later command tempfailed"
assert_match "$(pf_log_wait 'warning: milter inet:127\.0\.0\.1:[0-9]+: malformed reply' 5 "$mark")" 'malformed reply' \
    "Postfix logs the malformed reply"

# --- the upstream dies mid-session ---
mark=$(pf_log_mark)
assert_eq "$(smtp_data_reply sender@example.org alice@local.test --header 'X-Test-Action: die')" \
    "$CMD_TEMP" "tm dies at end of message: milter_default_action=tempfail gives the default tempfail text"
assert_match "$(upstream_log_wait tm '^dying' 5)" '^dying$' "tm logged its death"
upstream_start tm "$TM_PORT"
assert_match "$(smtp_data_reply sender@example.org alice@local.test)" '^250 2\.0\.0 Ok: queued as ' \
    "tm restarted: mail flows again"
upstream_stop tm
assert_true "upstream_stop: tm is gone" _lab_pid_gone "${UP_PID[tm]}"
dpid=$DKIM_PID
opendkim_stop
assert_true "opendkim_stop: OpenDKIM is gone" _lab_pid_gone "$dpid"
assert_match "$(pf_log_since "$mark" | grep -m1 'warning: milter')" "warning: milter ${UP_SOCK[tm]}: can't read SMFIC_BODYEOB reply packet header" \
    "Postfix logs the dead milter"
assert_eq "$(pf_maillog_warnings "warning: milter ${UP_SOCK[tm]}: (malformed reply|can't read SMFIC_BODYEOB reply)")" "" \
    "no other warnings in Postfix's log"

t_summary
