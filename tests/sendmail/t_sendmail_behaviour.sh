#!/bin/bash
# t_sendmail_behaviour.sh - what sendmail 8.17 itself does with raw milter
# answers, recorded with the fixture milter probe_milter.c (not milter-reword).
# These are the sendmail facts milter-reword is built around and that
# milter-reword(8), SENDMAIL SETUP, lists as differences from Postfix:
#   - the vague default texts for a REJECT/TEMPFAIL without a reply;
#   - "<address>... " inserted after the enhanced code at MAIL and RCPT for
#     the basic codes 450/550/553 only, and only in a reply's first line;
#   - a lone "%" makes sendmail drop the milter's text; "%%" is one "%";
#   - 421 goes out (and the connection is closed) only with TEMPFAIL;
#   - a connect-stage reject: the banner becomes "554 <host> ESMTP not
#     accepting messages" and every command "550 5.0.0 Command rejected"
#     (the milter's text is never shown);
#   - a HELO-stage reject: HELO gets 250, the text is sent from MAIL on;
#   - with SMFIP_RCPT_REJ sendmail reports its own unknown-user rejection
#     with {rcpt_mailer}=error, {rcpt_host}=5.1.1 and
#     {rcpt_addr}="550 5.1.1 User unknown" (not relaying denials nor
#     address syntax errors);
#   - a milter that is down with F=T: "451 4.3.2 Please try again later".
# Run by tests/sendmail/run.sh (as root).
. "$(dirname "$0")/lib.sh"

sm_probe_build || lab_die "cannot build the probe milter (libmilter-dev installed?)"
sm_setup "unix:$LAB/run/probe.sock"
sm_add_user bare-reject bare-tempfail text-rcpt multi-rcpt temp-rcpt
lab_spawn probe "$SM_PROBE" -p "unix:$SM_SOCK"
PROBE_PID=$LAB_PID
lab_wait_sock "$SM_SOCK" 10 || lab_die "probe milter did not start"
sm_start

mail_reply() {   # mail_reply SENDER : the reply to MAIL FROM:<SENDER>
    smtp_chat "EHLO client.example" "MAIL FROM:<$1>" QUIT >/dev/null
    smtp_replies MAIL
}

# --- default texts (no reply set by the milter) ---
assert_eq "$(mail_reply bare-reject@example.org)" "550 5.7.1 <bare-reject@example.org>... Command rejected" \
    "bare REJECT at MAIL"
assert_eq "$(mail_reply bare-tempfail@example.org)" "451 4.3.2 Please try again later" "bare TEMPFAIL at MAIL"
assert_eq "$(smtp_rcpt_reply a@example.org bare-reject@local.test)" \
    "550 5.7.1 <bare-reject@local.test>... Command rejected" "bare REJECT at RCPT"
assert_eq "$(smtp_rcpt_reply a@example.org bare-tempfail@local.test)" "451 4.3.2 Please try again later" \
    "bare TEMPFAIL at RCPT"
smtp_swaks --from data-bare@example.org --to alice@local.test >/dev/null
assert_eq "$(smtp_replies DATA)" "550 5.7.1 Command rejected" "bare REJECT at DATA"
assert_eq "$(smtp_data_reply eom-bare@example.org alice@local.test)" "554 5.7.1 Command rejected" \
    "bare REJECT at end of message: 554"
assert_eq "$(smtp_data_reply eom-temp@example.org alice@local.test)" "451 4.3.2 Please try again later" \
    "bare TEMPFAIL at end of message"

# --- texts set by the milter ---
assert_eq "$(mail_reply text-mail@example.org)" "550 5.7.1 <text-mail@example.org>... probe mail text" \
    "550 at MAIL: <sender>... inserted"
assert_eq "$(smtp_rcpt_reply a@example.org text-rcpt@local.test)" "550 5.7.1 <text-rcpt@local.test>... probe rcpt text" \
    "550 at RCPT: <rcpt>... inserted"
assert_eq "$(smtp_rcpt_reply a@example.org temp-rcpt@local.test)" "451 4.7.1 probe rcpt tempfail" \
    "451 at RCPT: text unchanged"
assert_eq "$(smtp_rcpt_reply a@example.org multi-rcpt@local.test)" \
    "$(printf '550-5.7.1 <multi-rcpt@local.test>... probe line one\n550 5.7.1 probe line two')" \
    "multi-line at RCPT: <rcpt>... in the first line only"
assert_eq "$(smtp_data_reply eom-text@example.org alice@local.test)" "550 5.7.1 probe eom text" \
    "550 at end of message: text unchanged"

# --- % ---
assert_eq "$(mail_reply lone-pct@example.org)" "550 5.7.1 <lone-pct@example.org>... Command rejected" \
    "a lone % makes sendmail drop the text"
assert_eq "$(mail_reply double-pct@example.org)" "550 5.7.1 <double-pct@example.org>... 100% doubled" \
    "%% is sent as %"

# --- 421 ---
smtp_chat "EHLO client.example" "MAIL FROM:<r421-tempfail@example.org>" "RCPT TO:<alice@local.test>" QUIT >/dev/null
assert_eq "$(smtp_replies MAIL)" "421 4.7.0 probe 421 text" "421 with TEMPFAIL: sent as set"
assert_eq "$(smtp_replies RCPT)" "" "...and the connection is closed"
assert_eq "$(mail_reply r421-reject@example.org)" "550 5.7.1 <r421-reject@example.org>... Command rejected" \
    "421 with REJECT: text lost, default 550"

# --- connect and HELO ---
smtp_chat "EHLO probe-helo.example" "MAIL FROM:<a@example.org>" "RCPT TO:<alice@local.test>" QUIT >/dev/null
assert_match "$(smtp_replies EHLO | tail -n 1)" '^250 ' "HELO reject: HELO itself answered 250"
assert_eq "$(smtp_replies MAIL)" "550 5.7.1 probe helo text" "HELO reject: text at MAIL (no <sender>...)"
assert_eq "$(smtp_replies RCPT)" "550 5.7.1 probe helo text" "...and at RCPT"
out=$(timeout 20 python3 - "$SM_PORT" <<'EOF'
import socket, sys
s = socket.socket(); s.settimeout(10)
s.bind(("127.0.0.2", 0)); s.connect(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rwb")
def reply():
    while True:
        l = f.readline().decode().rstrip("\r\n")
        if len(l) < 4 or l[3] != "-":
            return l
print(reply())
for c in ["EHLO c.example", "MAIL FROM:<a@example.org>", "RCPT TO:<alice@local.test>", "QUIT"]:
    f.write((c + "\r\n").encode()); f.flush()
    print(c.split()[0], reply())
EOF
)
assert_eq "$out" "554 test.example ESMTP not accepting messages
EHLO 250 ENHANCEDSTATUSCODES
MAIL 550 5.0.0 Command rejected
RCPT 550 5.0.0 Command rejected
QUIT 221 2.0.0 test.example closing connection" "connect reject: 554 banner, text never shown"

# --- sendmail's own rejection as the milter sees it (SMFIP_RCPT_REJ) ---
assert_eq "$(smtp_rcpt_reply a@example.org nosuchuser@local.test)" \
    "550 5.1.1 <nosuchuser@local.test>... User unknown" "unknown user: sendmail's reply"
assert_true "the milter saw it with rcpt_host=5.1.1, rcpt_addr=\"550 5.1.1 User unknown\"" \
    lab_wait_for 5 grep -qxF "rcpt_rej <nosuchuser@local.test> host=5.1.1 addr=550 5.1.1 User unknown" "$LAB/probe.log"
# ... but not its relaying denial nor an address syntax error.
smtp_swaks --local-interface 127.0.0.3 --from a@example.org --to x@elsewhere.example --quit-after RCPT >/dev/null
assert_match "$(smtp_replies RCPT)" '^550 5\.7\.1 <x@elsewhere\.example>\.\.\. Relaying denied' \
    "relaying denied (client 127.0.0.3)"
smtp_chat "EHLO client.example" "MAIL FROM:<a@example.org>" "RCPT TO:<a@b@c>" QUIT >/dev/null
assert_eq "$(smtp_replies RCPT)" "553 5.1.3 <a@b@c>... Invalid route address" "address syntax error"
smtp_rcpt_reply a@example.org nosuchuser2@local.test >/dev/null     # a marker after both
lab_wait_for 5 grep -q 'rcpt_rej <nosuchuser2@local.test>' "$LAB/probe.log"
assert_eq "$(grep -c 'elsewhere\|a@b@c' "$LAB/probe.log")" "0" "...neither is reported to the milter"
assert_eq "$(grep -c 'refused' "$LAB/probe.log")" "0" "libmilter accepted every reply the probe set"

# --- milter down (F=T) ---
lab_stop_pid "$PROBE_PID" 5
assert_eq "$(mail_reply a@example.org)" "451 4.3.2 Please try again later" "milter down: 451 4.3.2 at MAIL"

t_summary
