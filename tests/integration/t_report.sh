#!/bin/bash
# t_report.sh - `reword report` on logs written by the real thing: a private
# Postfix with milter-reword refuses mail in several ways (Postfix's own
# unknown user and relay denied, a milter-reword reject at RCPT and at end
# of message, a tempfail); the report over its maillog, over the daemon's
# JSON audit log, over a gzip'd copy and over a copy with junk lines must
# count them right; the HTML report must render in headless Chromium.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reword.sh"

REWORD=$B/reword
pf_setup
for u in blocked later; do pf_add_user "$u"; done
CONF=$LAB/reword.conf
cat >"$CONF" <<EOF
audit: { jsonl = "$LAB/log/audit.jsonl"; };
include = [ "$SRCDIR/conf/rules.d/defaults.conf" ];
rules = (
  { name = "rcpt-block"; when = { stage = "rcpt"; rcpt = "^blocked@"; };
    action = "reject"; reply = { enhanced = "5.7.1"; text = "Mail for <%{rcpt}> is refused."; }; },
  { name = "rcpt-later"; when = { stage = "rcpt"; rcpt = "^later@"; };
    action = "tempfail"; reply = { enhanced = "4.7.1"; text = "Try again later."; }; },
  { name = "eom-spam"; when = { stage = "eom"; header = "Subject: (?i)cheap pills"; };
    action = "reject"; reply = { code = 550; enhanced = "5.7.1"; text = "Refused as spam."; }; }
);
EOF
reword_start "$CONF"
pf_start
smtp_rcpt_reply s@example.org nobody@local.test >/dev/null         # Postfix: 550 5.1.1
smtp_rcpt_reply s@example.org nobody2@local.test >/dev/null        # Postfix: 550 5.1.1
smtp_rcpt_reply s@example.org x@elsewhere.example >/dev/null       # Postfix: 554 5.7.1 relay
smtp_rcpt_reply s@example.org blocked@local.test >/dev/null        # milter: 550 5.7.1
smtp_rcpt_reply s@example.org later@local.test >/dev/null          # milter: 451 4.7.1
smtp_data_reply s@example.org alice@local.test --header 'Subject: cheap pills' >/dev/null  # milter eom
pf_log_wait 'milter-reject: END-OF-MESSAGE' 10 >/dev/null
reword_audit_wait '"rule":"eom-spam"' 10

json() { "$REWORD" report --format json "$@"; }
get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }
cnt() { python3 -c 'import json,sys; d=json.load(sys.stdin); t={e["key"]:e["count"] for e in d[sys.argv[1]]}; print(t.get(sys.argv[2], 0))' "$1" "$2"; }

out=$(json "$PF_MAILLOG")
assert_eq "$(get 'd["rejections"]' <<<"$out")" "6" "maillog: 6 rejections (3 Postfix, 3 milter)"
assert_eq "$(cnt by_enhanced 5.1.1 <<<"$out")" "2" "maillog: two 5.1.1"
assert_eq "$(cnt by_enhanced 5.7.1 <<<"$out")" "3" "maillog: three 5.7.1 (relay, rcpt, eom)"
assert_eq "$(cnt by_class 4xx <<<"$out")" "1" "maillog: one tempfail"
assert_eq "$(cnt by_source milter <<<"$out")" "3" "maillog: milter-reject lines counted as source milter"
assert_eq "$(cnt by_stage eom <<<"$out")" "1" "maillog: END-OF-MESSAGE counted as stage eom"
assert_eq "$(cnt top_domains local.test <<<"$out")" "5" "maillog: recipient domains"
assert_eq "$(cnt top_clients 127.0.0.1 <<<"$out")" "6" "maillog: client address"
assert_eq "$(get 'd["malformed"]' <<<"$out")" "0" "maillog: nothing malformed"

out=$(json -c "$CONF" "$PF_MAILLOG")
assert_eq "$(cnt by_rule postfix-user-unknown <<<"$out")" "2" "with -c: Postfix's rejections classified by the rules"

out=$(json "$LAB/log/audit.jsonl")
assert_eq "$(get 'd["audit_rejections"]' <<<"$out")" "6" "audit log: 3 own decisions + 3 Postfix rejections observed"
assert_eq "$(cnt by_rule rcpt-block <<<"$out")" "1" "audit log: rule names"
assert_eq "$(cnt by_source self <<<"$out")" "3" "audit log: source self"
assert_eq "$(cnt by_source mta <<<"$out")" "3" "audit log: source mta"

gzip -c "$PF_MAILLOG" >"$LAB/maillog.gz"
assert_eq "$(json "$LAB/maillog.gz" | get 'd["rejections"]')" "6" "gzip input read by content"
assert_eq "$(json - <"$PF_MAILLOG" | get 'd["rejections"]')" "6" "stdin input"
{ cat "$PF_MAILLOG"; printf 'garbage reject: here\n{"action":"reject",\nNov 99 xx postfix/smtpd[1]: NOQUEUE: reject: RCPT\n\001\002\377 reject: \n'; } >"$LAB/junk.log"
out=$(json "$LAB/junk.log"); rc=$?
assert_eq "$rc" "0" "junk lines are not fatal"
assert_eq "$(get 'd["rejections"]' <<<"$out")" "6" "junk: the real rejections still counted"
assert_eq "$(get 'd["malformed"]' <<<"$out")" "4" "junk: malformed lines counted"
assert_eq "$(json --since 2099-01-01 "$PF_MAILLOG" | get 'd["rejections"]')" "0" "--since in the future counts nothing"
assert_eq "$(json --since 24h "$PF_MAILLOG" | get 'd["rejections"]')" "6" "--since 24h counts today's"
text=$("$REWORD" report "$PF_MAILLOG")
assert_match "$text" 'By enhanced status code' "text report has the code table"
assert_match "$text" '5\.1\.1 +Bad destination mailbox address' "text report names the meaning"
assert_eq "$("$REWORD" report --format xml "$PF_MAILLOG" >/dev/null 2>&1; echo $?)" "2" "bad format is a usage error"

HTML=$LAB/report.html
"$REWORD" report --format html -o "$HTML" "$PF_MAILLOG" "$LAB/log/audit.jsonl"
assert_match "$(grep -c '<table' "$HTML")" '^[1-9]' "HTML has tables"
assert_eq "$(grep -Ec '<script|https?://[^"]*\.(css|js)' "$HTML")" "0" "HTML is self-contained, no script"
assert_match "$(cat "$HTML")" '<svg' "HTML has the inline timeline chart"
if command -v chromium >/dev/null 2>&1; then
    PNG=$LAB/report.png
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$LAB/chrome.XXXXXX")" --window-size=1200,1600 \
        --screenshot="$PNG" "file://$HTML" >/dev/null 2>&1
    assert_true "Chromium wrote a screenshot" test -s "$PNG"
    colours=$(python3 - "$PNG" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
bpp = 4 if ctype == 6 else 3
stride = w * bpp + 1
# distinct filter-byte-free samples: enough to tell a blank page from a report
print(len({raw[i:i + bpp] for r0 in range(0, len(raw), stride * 7) for i in range(r0 + 1, min(r0 + stride, len(raw)), bpp * 5)}))
EOF
)
    assert_match "$colours" '^([2-9][0-9]|[1-9][0-9]{2,})$' "the screenshot is not blank ($colours distinct samples)"
    cp "$PNG" "$B/report-test.png" 2>/dev/null
else
    t_log "SKIP: chromium not installed (make deps installs it); HTML not rendered"
fi
t_summary
