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

PF_DELIVER=maildir pf_setup
for u in remove-me bare-rcpt temp-rcpt mismatch-rcpt code-rcpt accept-rcpt discard-rcpt added; do
    pf_add_user "$u"
done
TM_PORT=$(lab_free_port); DKIM_PORT=$(lab_free_port)
[ "$TM_PORT" != "$DKIM_PORT" ] || DKIM_PORT=$((TM_PORT + 1))
upstream_start tm "$TM_PORT"
opendkim_start "$DKIM_PORT"

CONF=$LAB/reword.conf
TM='{ name = "tm"; socket = "inet:'$TM_PORT'@127.0.0.1"; timeout = 3; connect_timeout = 2; }'
DKIM='{ name = "dkim"; socket = "inet:'$DKIM_PORT'@127.0.0.1"; }'
write_conf() {   # write_conf UPSTREAM_GROUPS
    cat >"$CONF" <<EOC
milter: { on_error = "tempfail"; };
audit: { jsonl = "$LAB/log/audit.jsonl"; };
include = [ "$SRCDIR/conf/rules.d/*.conf" ];
upstreams = ( $1 );
rules = (
  { name = "tm-custom"; when = { source = "tm"; text = "^Custom upstream text\$"; };
    reply = { text = "The test filter refused <%{rcpt}>; this is its explained text."; }; },
  { name = "dkim-bad-signature"; when = { source = "dkim"; code = "5xx"; text = "(?i)bad DKIM signature"; };
    reply = { enhanced = "5.7.20";
              text = "The DKIM signature on this message does not verify, so it may have been altered on the way. Ask the sender's mail administrator to check their DKIM signing."; }; }
);
EOC
}
# reload CONF_ARG : rewrite the config and SIGHUP the daemon; new sessions use it
NRELOAD=0
reload() {
    write_conf "$1"
    NRELOAD=$((NRELOAD + 1))
    kill -HUP "$RW_PID"
    lab_wait_for 10 _reloaded "$NRELOAD" || lab_die "reload $NRELOAD not logged"
}
_reloaded() { [ "$(grep -c 'reloaded ' "$LAB/reword.log")" -ge "$1" ]; }
write_conf "$TM"
reword_start "$CONF"
pf_start

DEFAULT_REJECT='550 5.7.1 A mail filter on the receiving server refused this message without giving a reason.'
DEFAULT_TEMP='451 4.7.1 A mail filter on the receiving server could not accept this message right now.'

# --- bare and coded refusals, explained ---
assert_match "$(smtp_rcpt_reply sender@example.org bare-rcpt@local.test)" "^$DEFAULT_REJECT" \
    "bare reject at RCPT becomes the explained default"
assert_match "$(smtp_rcpt_reply sender@example.org temp-rcpt@local.test)" "^$DEFAULT_TEMP" \
    "bare tempfail at RCPT becomes the explained default"
assert_eq "$(smtp_rcpt_reply sender@example.org code-rcpt@local.test)" \
    "554 5.7.1 The test filter refused <code-rcpt@local.test>; this is its explained text." \
    "coded reply rewritten by a source = tm rule"
assert_eq "$(smtp_rcpt_reply sender@example.org mismatch-rcpt@local.test,alice@local.test)" \
    "$(printf '550 5.7.1 Mismatched class from upstream\n250 2.1.5 Ok')" \
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

# --- a Debian milter: OpenDKIM (second in the chain) refuses unsigned mail ---
reload "$TM, $DKIM"
assert_eq "$(smtp_data_reply sender@example.org alice@local.test --header "$(opendkim_bad_signature)")" \
    "550 5.7.20 The DKIM signature on this message does not verify, so it may have been altered on the way. Ask the sender's mail administrator to check their DKIM signing." \
    "OpenDKIM's refusal of a bad signature, explained"
assert_true "audit: dkim refusal with its original text" \
    reword_audit_wait '"source":"dkim".*"original":"550 5.7.0 bad DKIM signature data".*"rule":"dkim-bad-signature"' 5
assert_true "audit: tm refusal with the MTA default as original" \
    reword_audit_wait '"source":"tm".*"original":"550 5.7.1 Command rejected"' 5

t_summary
