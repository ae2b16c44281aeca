#!/bin/bash
# t_reword.sh - milter-reword's own decisions through a real sendmail 8.17:
# the exact reply text an SMTP client sees for rejects at MAIL, RCPT, DATA
# and end of message, a tempfail, a multi-line reply, a 421, "%" in texts
# and in hostile sender addresses, connect and HELO decisions applied at
# MAIL, and sendmail's own unknown-user rejection in the JSON audit log
# (source mta, action observe). The same cases as
# tests/integration/t_daemon.sh on Postfix; where sendmail's replies differ
# (it inserts "<address>... " after the enhanced code of replies with the
# basic codes 450, 550 and 553 at MAIL and RCPT, its unknown-user text, its
# 421 handling, the 8th bit it clears in UTF-8 texts) the expected strings
# below say so. Run by tests/sendmail/run.sh (as root).
. "$(dirname "$0")/lib.sh"

sm_setup
sm_add_user nodata percent busy utf8
CONF=$LAB/reword.conf
cat >"$CONF" <<EOC
milter: { mode = "enforce"; on_error = "tempfail"; };
audit: { syslog_facility = "mail"; jsonl = "$LAB/log/audit.jsonl"; };
rules = (
  { name = "connect-block"; when = { stage = "connect"; client = "127.0.0.2"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Connections from %{client_addr} are not accepted here."; }; },
  { name = "helo-block"; when = { stage = "helo"; helo = "^evil\\\\."; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Your HELO name %{helo} is not accepted here."; }; },
  { name = "mail-block"; when = { stage = "mail"; sender = "^blocked@"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Mail from <%{sender}> is refused by policy."; }; },
  { name = "mail-421"; when = { stage = "mail"; sender = "^shutdown@"; };
    action = "tempfail"; reply = { code = 421; enhanced = "4.3.2"; text = "Too busy for <%{sender}>; closing the connection."; }; },
  { name = "mail-echo"; when = { stage = "mail"; sender = "^(\"|%)"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Sender <%{sender}> is not accepted."; }; },
  { name = "rcpt-block"; when = { stage = "rcpt"; rcpt = "(?i)^blocked@"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Mail for <%{rcpt}> is refused by policy."; }; },
  { name = "rcpt-later"; when = { stage = "rcpt"; rcpt = "^later@"; };
    action = "tempfail"; reply = { enhanced = "4.2.1"; text = "The mailbox <%{rcpt}> is busy; your server will retry."; }; },
  { name = "rcpt-busy"; when = { stage = "rcpt"; rcpt = "^busy@"; };
    action = "tempfail"; reply = { code = 450; enhanced = "4.2.1"; text = "The mailbox is busy; your server will retry."; }; },
  { name = "rcpt-multi"; when = { stage = "rcpt"; rcpt = "^multi@"; };
    action = "reject"; reply = { code = 550; enhanced = "5.7.1";
      lines = [ "This recipient does not take mail from outside.", "Ask them for another address." ]; }; },
  { name = "rcpt-percent"; when = { stage = "rcpt"; rcpt = "^percent@"; };
    action = "reject"; reply = { code = 552; enhanced = "5.2.2"; text = "The mailbox is 100%% full."; }; },
  { name = "rcpt-utf8"; when = { stage = "rcpt"; rcpt = "^utf8@"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Grüße: this mailbox is closed."; }; },
  { name = "data-block"; when = { stage = "data"; sender = "^nodata@"; };
    action = "reject"; reply = { code = 554; enhanced = "5.7.1"; text = "Messages from <%{sender}> are refused."; }; },
  { name = "eom-spam"; when = { stage = "eom"; header = "Subject: (?i)cheap pills"; };
    action = "reject"; reply = { code = 550; enhanced = "5.7.1"; text = "The message was refused as spam (subject)."; }; }
);
EOC
sm_reword_start "$CONF"
sm_start

# --- own decisions, exact text the client reads ---
# sendmail (err.c, fmtmsg) puts "<address>... " after the enhanced code of a
# reply at MAIL and RCPT when its basic code is 450, 550 or 553.
assert_eq "$(smtp_mail_reply blocked@example.org)" \
    "550 5.7.1 <blocked@example.org>... Mail from <blocked@example.org> is refused by policy." "reject at MAIL"
assert_eq "$(smtp_rcpt_reply sender@example.org blocked@local.test)" \
    "550 5.7.1 <blocked@local.test>... Mail for <blocked@local.test> is refused by policy." "reject at RCPT"
# ... not with other codes (451, 552, 554 ...): the text comes through as set.
assert_eq "$(smtp_rcpt_reply sender@example.org later@local.test)" \
    "451 4.2.1 The mailbox <later@local.test> is busy; your server will retry." "tempfail at RCPT"
assert_eq "$(smtp_rcpt_reply sender@example.org busy@local.test)" \
    "450 4.2.1 <busy@local.test>... The mailbox is busy; your server will retry." "tempfail 450 at RCPT (address inserted)"
# ... and only in the first line of a multi-line reply.
assert_eq "$(smtp_rcpt_reply sender@example.org multi@local.test)" \
    "$(printf '550-5.7.1 <multi@local.test>... This recipient does not take mail from outside.\n550 5.7.1 Ask them for another address.')" \
    "multi-line reject at RCPT"
assert_eq "$(smtp_rcpt_reply sender@example.org blocked@local.test,alice@local.test)" \
    "$(printf '550 5.7.1 <blocked@local.test>... Mail for <blocked@local.test> is refused by policy.\n250 2.1.5 <alice@local.test>... Recipient ok')" \
    "per-recipient reject affects only that recipient"
smtp_swaks --from nodata@example.org --to alice@local.test >/dev/null
assert_eq "$(smtp_replies DATA)" "554 5.7.1 Messages from <nodata@example.org> are refused." "reject at DATA"
assert_eq "$(smtp_data_reply sender@example.org alice@local.test --header 'Subject: Cheap pills now')" \
    "550 5.7.1 The message was refused as spam (subject)." "reject at end of message"
reply=$(smtp_data_reply sender@example.org alice@local.test --header "Subject: hello $$")
assert_match "$reply" '^250 2\.0\.0 [0-9A-Za-z]+ Message accepted for delivery$' \
    "a clean message is accepted (no reply left behind)"
file=$(sm_wait_mail "$(sm_queue_id "$reply")" 10)
assert_true "...and delivered after the 250 ($file)" grep -qx "Subject: hello $$" "$file"

# --- "%" in a rule's text: milter-reword doubles it (a lone % makes
#     sendmail drop the whole text for "Command rejected") ---
assert_eq "$(smtp_rcpt_reply sender@example.org percent@local.test)" \
    "552 5.2.2 The mailbox is 100% full." "a literal % in the text reaches the client (552: no address inserted)"

# --- UTF-8 in a rule's text: sendmail clears the 8th bit of every byte of a
#     reply (err.c, fmtmsg: *eb &= 0177), so "ü" (C3 BC) arrives as "C<" and
#     "ß" (C3 9F) as "C" + a 0x1F control byte. Postfix passes UTF-8. ---
reply=$(smtp_rcpt_reply sender@example.org utf8@local.test)
t_log "UTF-8 text as sent by sendmail: $(printf '%s' "$reply" | od -An -c | tr -s ' ' | tr -d '\n')"
assert_match "$reply" '^550 5\.7\.1 <utf8@local\.test>\.\.\. Gr' "UTF-8 text at RCPT: reply sent"
assert_eq "$(printf '%s' "$reply" | LC_ALL=C tr -d '\000-\177' | wc -c)" "0" \
    "...with no byte above 0x7f left (sendmail cleared the 8th bit)"

# --- 421 with tempfail: sendmail sends it and closes the connection ---
smtp_chat "EHLO client.example" "MAIL FROM:<shutdown@example.org>" "RCPT TO:<alice@local.test>" QUIT >/dev/null
assert_eq "$(smtp_replies MAIL)" "421 4.3.2 Too busy for <shutdown@example.org>; closing the connection." \
    "421 at MAIL, text as set"
assert_eq "$(smtp_replies RCPT)" "" "...and the connection is closed (no reply to the next command)"
assert_true "...closed (transcript)" grep -q '^=== Connection closed' "$(cat "$LAB/smtp.last")"

# --- a HELO decision is shown from MAIL on (sendmail answers HELO 250) ---
smtp_chat "EHLO evil.example" "MAIL FROM:<a@example.org>" "RCPT TO:<alice@local.test>" QUIT >/dev/null
assert_match "$(smtp_replies EHLO | tail -n 1)" '^250 ' "HELO itself is answered 250"
assert_eq "$(smtp_replies MAIL)" "550 5.7.1 <a@example.org>... Your HELO name evil.example is not accepted here." \
    "HELO-stage reject applied at MAIL with its text"
assert_true "audit says where it was decided" \
    reword_audit_wait '"stage":"helo".*"rule":"helo-block".*"note":"decided at helo, applied at mail"' 5

# --- a connect decision likewise (sendmail would only send "554 <host> ESMTP
#     not accepting messages" for a connect-stage reject, never its text) ---
smtp_swaks --local-interface 127.0.0.2 --from a@example.org --to alice@local.test --quit-after RCPT >/dev/null
assert_match "$(smtp_replies CONNECT)" '^220 test\.example ESMTP ' "connect decision: normal 220 banner"
assert_eq "$(smtp_replies MAIL)" "550 5.7.1 <a@example.org>... Connections from 127.0.0.2 are not accepted here." \
    "connect-stage reject applied at MAIL with its text"
assert_true "audit: decided at connect" \
    reword_audit_wait '"stage":"connect".*"rule":"connect-block".*"note":"decided at connect, applied at mail"' 5

# --- hostile sender addresses flowing into a template ---
smtp_chat "EHLO client.example" 'MAIL FROM:<"a\r\n250 ok"@x.example>' QUIT >/dev/null
mail=$(smtp_replies MAIL)
assert_eq "$(wc -l <<<"$mail")" "1" "hostile CR/LF sender: one reply line"
assert_eq "$mail" '550 5.7.1 <"a\r\n250 ok"@x.example>... Sender <"a\r\n250 ok"@x.example> is not accepted.' \
    "hostile CR/LF sender: one well-formed reply"
smtp_chat "EHLO client.example" 'MAIL FROM:<%n%s%%@x.example>' QUIT >/dev/null
assert_eq "$(smtp_replies MAIL)" "550 5.7.1 <%n%s%%@x.example>... Sender <%n%s%%@x.example> is not accepted." \
    "percent signs in the sender reach the client unchanged"

# --- sendmail's own rejection, observed in the audit log ---
assert_eq "$(smtp_rcpt_reply sender@example.org nosuchuser@local.test)" \
    "550 5.1.1 <nosuchuser@local.test>... User unknown" "sendmail's own reject reaches the client unchanged"
# sendmail passes {rcpt_host}=5.1.1 and {rcpt_addr}="550 5.1.1 User unknown"
# (with the basic code, unlike Postfix). The daemon currently records
# original = "{rcpt_host} {rcpt_addr}"; both forms are accepted here.
assert_true "sendmail-own reject in the JSON audit log" \
    reword_audit_wait '"source":"mta".*"rcpt":"nosuchuser@local.test".*"original":"(5\.1\.1 )?550 5\.1\.1 User unknown"' 10
line=$(grep '"rcpt":"nosuchuser@local.test"' "$LAB/log/audit.jsonl" | tail -n 1)
assert_contains "$line" '"action":"observe"' "observed rejection recorded as observe"
assert_contains "$line" '"stage":"rcpt"' "...at stage rcpt"
assert_true "JSON audit line parses" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$line"
assert_true "own reject in the audit log" reword_audit_wait '"rule":"rcpt-block".*"action":"reject".*"mode":"enforce"' 5
assert_true "421 in the audit log" reword_audit_wait '"reply":"421 4\.3\.2 [^"]*","rule":"mail-421"' 5
assert_eq "$(stat -c '%a %U %G' "$SM_SOCK")" "660 nobody nogroup" "socket nobody:nogroup mode 0660"

# --- sendmail logged each decision as sent, and no milter trouble ---
assert_true "sendmail logged the RCPT reject" \
    sm_log_seen 'Milter: to=<blocked@local.test>, reject=550 5\.7\.1 Mail for <blocked@local.test> is refused by policy\.' 5
assert_eq "$(sm_log_problems)" "" "no milter problem in sendmail's log"
assert_true "every accepted message delivered" sm_wait_queue_empty 10

t_summary
