#!/bin/bash
# t_proxy.sh - proxy mode end to end: swaks -> real Postfix -> milter-reword
# -> upstream milters (the scripted python3-milter test milter "tm" and
# Debian's OpenDKIM "dkim").  Asserts the exact reply text the client reads
# for bare, coded and class-mismatched upstream refusals at every stage,
# that end-of-message changes reach the delivered message, macros reach the
# upstream, audit records carry source and original, and the fallbacks: an
# upstream killed mid-session, a slow upstream, one that is down (tempfail
# and accept), and no mail lost or silently accepted on the way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reword.sh"
. "$(dirname "$0")/upstreams.sh"

upstreams_available || lab_die "python3-milter or opendkim missing: make deps (tools/deps/proxy.txt)"

upstreams_lab_setup

CONF=$LAB/reword.conf
RULES_DIR=$(lab_rules_dir)
TM='{ name = "tm"; socket = "inet:'$TM_PORT'@127.0.0.1"; timeout = 3; connect_timeout = 2; }'
DKIM='{ name = "dkim"; socket = "inet:'$DKIM_PORT'@127.0.0.1"; }'
write_conf() {   # write_conf UPSTREAM_GROUPS [EXTRA_RULE]
    cat >"$CONF" <<EOC
milter: { on_error = "tempfail"; };
audit: { jsonl = "$LAB/log/audit.jsonl"; };
include = [ "$RULES_DIR/*.conf" ];
upstreams = ( $1 );
rules = (
  { name = "tm-custom"; when = { source = "tm"; text = "^Custom upstream text\$"; };
    reply = { text = "The test filter refused <%{rcpt}>; this is its explained text."; }; },
  { name = "dkim-bad-signature"; when = { source = "dkim"; code = "5xx"; text = "(?i)bad DKIM signature"; };
    reply = { enhanced = "5.7.20";
              text = "The DKIM signature on this message does not verify, so it may have been altered on the way. Ask the sender's mail administrator to check their DKIM signing."; }; }
  ${2:+, $2}
);
EOC
}
# reload CONF_ARG : rewrite the config and SIGHUP the daemon; new sessions use it
NRELOAD=0
# counts from the lines logged so far: the worker logs "reloaded" once at
# start too, so a count from 0 let every wait return before its reload
reload() {
    write_conf "$@"
    NRELOAD=$(( $(grep -c 'reloaded ' "$LAB/reword.log") + 1 ))
    kill -HUP "$RW_PID"
    lab_wait_for 10 _reloaded "$NRELOAD" || lab_die "reload $NRELOAD not logged"
}
_reloaded() { [ "$(grep -c 'reloaded ' "$LAB/reword.log")" -ge "$1" ]; }
write_conf "$TM"
reword_start "$CONF"
pf_start

DEFAULT_REJECT='550 5.7.1 A mail filter on the receiving server refused this without giving a reason'
DEFAULT_TEMP='451 4.7.1 A mail filter on the receiving server held this back for now'

# --- bare and coded refusals, explained ---
assert_match "$(smtp_rcpt_reply sender@example.org bare-rcpt@local.test)" "^$DEFAULT_REJECT" \
    "bare reject at RCPT becomes the explained default"
assert_match "$(smtp_rcpt_reply sender@example.org temp-rcpt@local.test)" "^$DEFAULT_TEMP" \
    "bare tempfail at RCPT becomes the explained default"
assert_eq "$(smtp_rcpt_reply sender@example.org code-rcpt@local.test)" \
    "554 5.7.1 The test filter refused <code-rcpt@local.test>; this is its explained text." \
    "coded reply rewritten by a source = tm rule"
# no pack knows the text: the catch-all keeps it and adds the explanation of 5.7.1
assert_match "$(smtp_rcpt_reply sender@example.org mismatch-rcpt@local.test,alice@local.test)" \
    $'^550-5\\.7\\.1 Mismatched class from upstream\n550 5\\.7\\.1 [^\n]{40,}\n250 2\\.1\\.5 Ok$' \
    "550 4.7.1 from the upstream reaches the client as 550 5.7.1, and the session goes on"
assert_match "$(smtp_mail_reply bare-mail@example.org)" "^$DEFAULT_REJECT" "bare reject at MAIL"
smtp_swaks --helo reject.helo.test --from a@example.org --to alice@local.test --quit-after RCPT >/dev/null
assert_match "$(smtp_replies MAIL)" "^$DEFAULT_REJECT" "reject at HELO shown from MAIL on"
for st in header eoh body eom; do
    assert_match "$(smtp_data_reply sender@example.org alice@local.test --header "X-Test-Action: reject-$st")" \
        "^$DEFAULT_REJECT" "bare reject at $st"
done
assert_match "$(smtp_data_reply sender@example.org alice@local.test --header 'X-Test-Action: tempfail-eom')" \
    "^$DEFAULT_TEMP" "bare tempfail at end of message"

# --- accept, discard, quarantine, progress, skip ---
reply=$(smtp_data_reply sender@example.org accept-rcpt@local.test --header 'X-Test-Action: reject-eom')
assert_match "$reply" '^250 2\.0\.0 Ok: queued as ' "accept at RCPT: the upstream is out for the rest of the message"
f=$(pf_wait_mail "$(smtp_queue_id "$reply")")
assert_true "accepted message delivered" test -n "$f"
assert_true "accepted message: the upstream did not get its end of message" \
    bash -c "! grep -q '^X-Upstream-Seen' $f"
reply=$(smtp_data_reply sender@example.org discard-rcpt@local.test)
assert_match "$reply" '^250 ' "discard: the client is told 250"
assert_match "$(pf_log_wait 'milter-discard: RCPT .*to=<discard-rcpt@local.test>' 5)" DISCARD \
    "discard at RCPT relayed to Postfix"
reply=$(smtp_data_reply sender@example.org alice@local.test --header 'X-Test-Action: quarantine')
assert_match "$(pf_log_wait "$(smtp_queue_id "$reply"): milter-hold: END-OF-MESSAGE" 5)" 'HOLD' \
    "quarantine relayed (Postfix puts the message on hold)"
for a in progress skip; do
    reply=$(smtp_data_reply sender@example.org alice@local.test --header "X-Test-Action: $a")
    assert_match "$reply" '^250 2\.0\.0 Ok: queued as ' "$a: accepted"
done

# --- end-of-message changes reach the delivered message ---
reply=$(smtp_data_reply sender@example.org alice@local.test,remove-me@local.test \
        --header 'Subject: original' --header 'X-Test-Action: modify' --body 'original body')
qid=$(smtp_queue_id "$reply")
assert_match "$reply" '^250 2\.0\.0 Ok: queued as ' "modify: accepted"
pf_wait_mail "$qid" >/dev/null; pf_wait_queue_empty 20
M=$PF_MAILDIR/$qid.alice@local.test
assert_true "modify: alice got it" test -f "$M"
assert_match "$(grep -c '^X-Upstream-Added: yes' "$M")" '^1$' "modify: header added"
assert_match "$(grep '^Subject:' "$M")" '^Subject: Changed by upstream$' "modify: header changed"
assert_match "$(sed -n '/^$/,$p' "$M" | tr -d '\r' | grep -v '^$')" '^Body replaced by upstream$' "modify: body replaced"
assert_match "$(grep -m1 '^Return-Path:' "$M")" 'changed-from@example.test' "modify: envelope sender changed"
assert_match "$(head -n 5 "$M" | grep -c '^X-Upstream-First: 1')" '^1$' "modify: header inserted at the top"
assert_true "modify: recipient added" test -f "$PF_MAILDIR/$qid.added@local.test"
assert_true "modify: recipient removed" test ! -e "$PF_MAILDIR/$qid.remove-me@local.test"

# --- macros the upstream asked for, and Postfix's defaults, reach it ---
EV=$(upstream_events tm)
assert_match "$(grep -m1 '^connect ' "$EV")" 'j=test\.example.*\{daemon_name\}=' "connect macros forwarded"
assert_match "$(grep -m1 "^envfrom <sender@example.org>" "$EV")" '\{mail_addr\}=sender@example\.org \{mail_host\}=example\.org' \
    "MAIL macros forwarded (including one only the upstream asked for)"
assert_match "$(grep -m1 '^eom ' "$EV")" ' i=[0-9A-F]+$' "end-of-message macros forwarded (queue id)"
smtp_chat "EHLO client.example" "XFOO bar" QUIT >/dev/null
assert_true "unknown command forwarded" lab_wait_for 5 grep -q '^unknown XFOO' "$EV"

# --- a Debian milter: OpenDKIM (second in the chain) refuses unsigned mail ---
reload "$TM, $DKIM"
assert_eq "$(smtp_data_reply sender@example.org alice@local.test --header "$(opendkim_bad_signature)")" \
    "550 5.7.20 The DKIM signature on this message does not verify, so it may have been altered on the way. Ask the sender's mail administrator to check their DKIM signing." \
    "OpenDKIM's refusal of a bad signature, explained"
assert_true "audit: dkim refusal with its original text" \
    reword_audit_wait '"source":"dkim".*"original":"550 5.7.0 bad DKIM signature data".*"rule":"dkim-bad-signature"' 5
assert_true "audit: tm refusal with the MTA default as original" \
    reword_audit_wait '"source":"tm".*"original":"550 5.7.1 Command rejected"' 5

# --- failures: slow, killed mid-session, down ---
reload "$TM"
assert_match "$(UPSTREAM_SLOW=5 smtp_data_reply sender@example.org alice@local.test --header 'X-Test-Action: slow')" \
    '^451 4\.3\.0 ' "slow upstream (no reply within 3 s): explained tempfail"
assert_true "the log names the upstream and the cause" reword_log_wait 'upstream tm failed: no reply within 3 s; on_failure=tempfail' 5
assert_match "$(smtp_data_reply sender@example.org alice@local.test)" '^250 ' "the next session works again"
reply=$(smtp_data_reply sender@example.org alice@local.test --header 'X-Test-Action: die')
assert_match "$reply" '^451 4\.3\.0 ' "upstream killed mid-session: explained tempfail at end of message"
assert_true "killed upstream logged" reword_log_wait 'upstream tm failed: connection closed by the upstream' 5
n_before=$(ls "$PF_MAILDIR" | wc -l)
assert_match "$(smtp_mail_reply sender@example.org)" '^451 4\.3\.0 ' "upstream down, on_failure=tempfail: MAIL tempfailed"
assert_match "$(smtp_data_reply sender@example.org alice@local.test)" '^451 4\.3\.0 ' \
    "upstream down: a whole message is not accepted unchecked"
reload '{ name = "tm"; socket = "inet:'$TM_PORT'@127.0.0.1"; connect_timeout = 2; on_failure = "accept"; }'
reply=$(smtp_data_reply sender@example.org alice@local.test)
assert_match "$reply" '^250 2\.0\.0 Ok: queued as ' "upstream down, on_failure=accept: mail accepted"
assert_true "accept fallback logged" reword_log_wait 'upstream tm failed: cannot connect .*on_failure=accept' 5
pf_wait_queue_empty 20
assert_eq "$(( $(ls "$PF_MAILDIR" | wc -l) - n_before ))" "1" "only the accepted message was delivered while tm was down"
upstream_start tm "$TM_PORT"
reload "$TM"
assert_match "$(smtp_rcpt_reply sender@example.org bare-rcpt@local.test)" "^$DEFAULT_REJECT" \
    "upstream back: refusals explained again"

# --- upstreams that break the protocol: each is a failure, never trusted ---
declare -A BAD_PORT
specs=""
for m in oversize badcode garbage overask; do
    BAD_PORT[$m]=$(lab_free_port); specs="$specs ${BAD_PORT[$m]}:$m"
done
lab_spawn bad-upstream python3 "$SRCDIR/tests/integration/bad_upstream.py" $specs
for m in oversize badcode garbage overask; do
    lab_wait_for 10 lab_port_listening "${BAD_PORT[$m]}" || lab_die "bad_upstream.py $m did not start"
done
declare -A BAD_WHY=( [oversize]='protocol error: packet length out of range'
                     [badcode]='protocol error: malformed reply code packet'
                     [garbage]='protocol error: unexpected \? reply after connect'
                     [overask]='negotiation refused' )
for m in oversize badcode garbage overask; do
    reload '{ name = "bad-'$m'"; socket = "inet:'${BAD_PORT[$m]}'@127.0.0.1"; timeout = 3; }'
    assert_match "$(smtp_data_reply sender@example.org alice@local.test)" '^451 4\.3\.0 ' \
        "upstream $m: explained tempfail, nothing accepted"
    assert_true "upstream $m: logged as ${BAD_WHY[$m]}" \
        reword_log_wait "upstream bad-$m failed: ${BAD_WHY[$m]}" 5
done
assert_true "daemon survived the broken upstreams" kill -0 "$RW_PID"

# --- our HELO refusal and the upstream's at the same HELO, then a second
# EHLO: ours goes (new name), the upstream's must stay (it is done with
# the connection and will not be asked again) ---
reload "$TM" '{ name = "own-helo"; when = { stage = "helo"; helo = "^reject\\.helo\\.test$"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Own HELO refusal."; }; }'
smtp_chat "EHLO reject.helo.test" "EHLO good.example" "MAIL FROM:<a@example.org>" QUIT >/dev/null
assert_match "$(smtp_replies MAIL)" '^550 5\.7\.1 ' "both refused the first HELO: a second EHLO does not clear the refusal"
reload "$TM"

# --- Postfix never saw a malformed reply, audit has source and original ---
assert_true "audit: class mismatch recorded with the original" \
    reword_audit_wait '"source":"tm".*"original":"550 4.7.1 Mismatched class from upstream","reply":"550-5.7.1 Mismatched class from upstream' 5
assert_true "audit: upstream failure recorded" reword_audit_wait '"source":"tm".*"action":"tempfail".*"note":"upstream failed' 5
assert_eq "$(pf_maillog_warnings)" "" "no warnings in Postfix's log (no milter cut off)"

t_summary
