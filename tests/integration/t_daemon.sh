#!/bin/bash
# t_daemon.sh - milter-reword's own decisions through a real Postfix: the
# exact reply text an SMTP client (swaks) sees for rejects at MAIL, RCPT,
# DATA and end of message, a tempfail, a multi-line reply, hostile sender
# addresses in templates, Postfix's own RCPT rejections in the JSON audit
# log, SIGHUP with a broken file (old rules stay) and a good one (new rules
# apply), and mode = "audit" (nothing changes for the client).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reword.sh"

pf_setup
for u in blocked later multi; do pf_add_user "$u"; done
CONF=$LAB/reword.conf
write_conf() {   # write_conf MODE BLOCK_TEXT
    cat >"$CONF" <<EOC
milter: { mode = "$1"; on_error = "tempfail"; };
audit: { syslog_facility = "mail"; jsonl = "$LAB/log/audit.jsonl"; };
rules = (
  { name = "helo-block"; when = { stage = "helo"; helo = "^evil\\."; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Your HELO name %{helo} is not accepted here."; }; },
  { name = "helo-long"; when = { stage = "helo"; helo = "^longhelo"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "%{helo} %{helo}%{helo}%{helo}%{helo}"; }; },
  { name = "mail-block"; when = { stage = "mail"; sender = "^blocked@"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Mail from <%{sender}> is refused by policy."; }; },
  { name = "mail-echo"; when = { stage = "mail"; sender = "^(\"|%)"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Sender <%{sender}> is not accepted."; }; },
  { name = "rcpt-block"; when = { stage = "rcpt"; rcpt = "(?i)^blocked@"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "$2"; }; },
  { name = "rcpt-later"; when = { stage = "rcpt"; rcpt = "^later@"; };
    action = "tempfail"; reply = { enhanced = "4.2.1"; text = "The mailbox <%{rcpt}> is busy; your server will retry."; }; },
  { name = "rcpt-multi"; when = { stage = "rcpt"; rcpt = "^multi@"; };
    action = "reject"; reply = { code = 550; enhanced = "5.7.1";
      lines = [ "This recipient does not take mail from outside.", "Ask them for another address." ]; }; },
  { name = "data-block"; when = { stage = "data"; sender = "^nodata@"; };
    action = "reject"; reply = { code = 554; enhanced = "5.7.1"; text = "Messages from <%{sender}> are refused."; }; },
  { name = "eom-spam"; when = { stage = "eom"; header = "Subject: (?i)cheap pills"; };
    action = "reject"; reply = { code = 550; enhanced = "5.7.1"; text = "The message was refused as spam (subject)."; }; }
);
EOC
}
write_conf enforce "Mail for <%{rcpt}> is refused by policy."
pf_conf "smtpd_data_restrictions ="
reword_start "$CONF"
pf_start

# --- own decisions, exact text the client reads ---
assert_eq "$(smtp_mail_reply blocked@example.org)" \
    "550 5.7.1 Mail from <blocked@example.org> is refused by policy." "reject at MAIL"
assert_eq "$(smtp_rcpt_reply sender@example.org blocked@local.test)" \
    "550 5.7.1 Mail for <blocked@local.test> is refused by policy." "reject at RCPT"
assert_eq "$(smtp_rcpt_reply sender@example.org later@local.test)" \
    "451 4.2.1 The mailbox <later@local.test> is busy; your server will retry." "tempfail at RCPT"
assert_eq "$(smtp_rcpt_reply sender@example.org multi@local.test)" \
    "$(printf '550-5.7.1 This recipient does not take mail from outside.\n550 5.7.1 Ask them for another address.')" \
    "multi-line reject at RCPT"
assert_eq "$(smtp_rcpt_reply sender@example.org blocked@local.test,alice@local.test)" \
    "$(printf '550 5.7.1 Mail for <blocked@local.test> is refused by policy.\n250 2.1.5 Ok')" \
    "per-recipient reject affects only that recipient"
smtp_swaks --from nodata@example.org --to alice@local.test >/dev/null
assert_eq "$(smtp_replies DATA)" "554 5.7.1 Messages from <nodata@example.org> are refused." "reject at DATA"
assert_eq "$(smtp_data_reply sender@example.org alice@local.test --header 'Subject: Cheap pills now')" \
    "550 5.7.1 The message was refused as spam (subject)." "reject at end of message"
assert_match "$(smtp_data_reply sender@example.org alice@local.test --header 'Subject: hello')" \
    '^250 2\.0\.0 Ok: queued as ' "a clean message is accepted (no reply left behind)"
# header rules see every header, however many come first (1,000 here; the
# daemon once kept only the first 200 and let such a message through)
fill=(); for i in $(seq 1 1000); do fill+=("X-Filler-$i: $i"); done
smtp_chat "EHLO c.example" "MAIL FROM:<sender@example.org>" "RCPT TO:<alice@local.test>" DATA \
    "${fill[@]}" "Subject: cheap pills" "" "body" "." QUIT >/dev/null
assert_eq "$(sed -n 's/^<-  //p' "$SMTP_LOG" | grep -A1 -m1 '^354' | tail -n 1)" \
    "550 5.7.1 The message was refused as spam (subject)." "a header after 1,000 others still triggers the rule"

# --- a HELO decision is shown from MAIL on (Postfix shows no milter text at HELO) ---
smtp_chat "EHLO evil.example" "MAIL FROM:<a@example.org>" "RCPT TO:<alice@local.test>" QUIT >/dev/null
assert_match "$(smtp_replies EHLO | tail -n 1)" '^250 ' "HELO itself is answered 250"
assert_eq "$(smtp_replies MAIL)" "550 5.7.1 Your HELO name evil.example is not accepted here." \
    "HELO-stage reject applied at MAIL with its text"
assert_true "audit says where it was decided" \
    reword_audit_wait '"stage":"helo".*"rule":"helo-block".*"note":"decided at helo, applied at mail"' 5
# a long HELO name echoed five times: split into lines of at most 980 bytes
# on the wire, code and enhanced code included
long=longhelo$(printf 'A%.0s' $(seq 1 900))
out=$(smtp_chat "EHLO $long" "MAIL FROM:<a@example.org>" QUIT >/dev/null; smtp_replies MAIL)
assert_match "$(head -n 1 <<<"$out")" '^550-5\.7\.1 longhelo' "a long echoed HELO name gives a multi-line reply"
assert_eq "$(awk 'length($0) > 980' <<<"$out" | wc -l)" "0" "no reply line over 980 bytes ($(awk '{ print length($0) }' <<<"$out" | sort -n | tail -n 1) the longest)"
# a second EHLO is judged on its own name, as Postfix judges the latest one
smtp_chat "EHLO evil.example" "EHLO good.example" "MAIL FROM:<a@example.org>" QUIT >/dev/null
assert_match "$(smtp_replies MAIL)" '^250 ' "a refused HELO name corrected by a new EHLO: MAIL accepted"
smtp_chat "EHLO good.example" "EHLO evil.example" "MAIL FROM:<a@example.org>" QUIT >/dev/null
assert_eq "$(smtp_replies MAIL)" "550 5.7.1 Your HELO name evil.example is not accepted here." \
    "a good HELO name followed by a refused one: MAIL refused"

# --- hostile sender addresses flowing into a template ---
out=$(smtp_chat "EHLO client.example" 'MAIL FROM:<"a\r\n250 ok"@x.example>' QUIT)
mail=$(smtp_replies MAIL)
assert_eq "$(wc -l <<<"$mail")" "1" "hostile CR/LF sender: one reply line"
assert_match "$mail" '^550 5\.7\.1 Sender <"a\\r\\n250 ok"@x\.example> is not accepted\.$' \
    "hostile CR/LF sender: one well-formed reply"
out=$(smtp_chat "EHLO client.example" 'MAIL FROM:<%n%s%%@x.example>' QUIT)
assert_eq "$(smtp_replies MAIL)" "550 5.7.1 Sender <%n%s%%@x.example> is not accepted." \
    "percent signs in the sender reach the client unchanged"

# --- Postfix's own rejection, observed in the audit log ---
assert_eq "$(smtp_rcpt_reply sender@example.org nobody@local.test)" \
    "550 5.1.1 <nobody@local.test>: Recipient address rejected: User unknown in local recipient table" \
    "Postfix's own reject reaches the client unchanged"
assert_true "Postfix-own reject in the JSON audit log" \
    reword_audit_wait '"source":"mta".*"rcpt":"nobody@local.test".*"original":"5\.1\.1 [^"]*User unknown' 10
line=$(grep '"rcpt":"nobody@local.test"' "$LAB/log/audit.jsonl" | tail -n 1)
assert_contains "$line" '"action":"observe"' "observed rejection recorded as observe"
assert_true "JSON audit line parses" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$line"
assert_true "own reject in the audit log" reword_audit_wait '"rule":"rcpt-block".*"action":"reject".*"mode":"enforce"' 5
assert_eq "$(stat -c '%a %U %G' "$RW_SOCK")" "660 nobody postfix" "socket nobody:postfix mode 0660"
assert_match "$(ps -o user= -p "$(pgrep -P "$RW_PID" | head -n 1)")" '^nobody' "worker runs as nobody"

# --- reload: a broken file keeps the old rules; a good one applies ---
cp "$CONF" "$CONF.good"
printf 'rules = ( { name = "x"; when = { stage = "rcpt" ; }\n' >"$CONF"   # syntax error
kill -HUP "$(cat "$LAB/run/reword.pid")"
assert_true "broken reload is logged with file:line" reword_log_wait "$CONF:[0-9]+: error" 10
assert_true "broken reload keeps the old rules (logged)" reword_log_wait 'reload of .* failed: keeping' 10
assert_eq "$(smtp_rcpt_reply sender@example.org blocked@local.test)" \
    "550 5.7.1 Mail for <blocked@local.test> is refused by policy." "old rules still apply after a broken reload"
assert_true "daemon survived SIGHUP" kill -0 "$RW_PID"
write_conf enforce "Reloaded: <%{rcpt}> does not take mail."
kill -HUP "$(cat "$LAB/run/reword.pid")"
assert_true "good reload is logged" reword_log_wait 'reloaded .*: 9 rules' 10
assert_eq "$(smtp_rcpt_reply sender@example.org blocked@local.test)" \
    "550 5.7.1 Reloaded: <blocked@local.test> does not take mail." "new rules apply after SIGHUP"

# --- mode = audit: decide and log, change nothing ---
write_conf audit "Mail for <%{rcpt}> is refused by policy."
kill -HUP "$(cat "$LAB/run/reword.pid")"
sleep 0.3
reword_log_wait 'reloaded .*: 9 rules' 10
assert_eq "$(smtp_rcpt_reply sender@example.org blocked@local.test)" "250 2.1.5 Ok" \
    "audit mode: the client sees no change"
assert_true "audit mode: the decision is logged" \
    reword_audit_wait '"rcpt":"blocked@local.test".*"action":"reject".*"mode":"audit"' 10

assert_eq "$(pf_maillog_warnings)" "" "no warning: lines in Postfix's log"
t_summary
