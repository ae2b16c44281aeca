#!/bin/bash
# t_report.sh - `reword report` on logs written by the real thing.
#
# A private Postfix with postscreen in front of smtpd and milter-reword
# attached refuses mail in every way the report knows:
#   smtpd   unknown user (x2), relay denied, client access (from 127.0.0.4),
#           a 450 from a recipient access map (Postfix's own tempfail)
#   postscreen  a denylisted client (127.0.0.3), refused at RCPT
#   cleanup     header_checks REJECT (Subject)
#   milter  milter-reword rules: reject at RCPT, tempfail at RCPT, reject at
#           end of message (header condition)
# plus one accepted message.  The report must count them right over the
# maillog Postfix wrote, over the daemon's JSON audit log, over both (two
# columns, not added up), a gzip'd copy, stdin, a truncated .gz, and a copy
# with junk lines appended; with -c the maillog lines get rule names.  The
# HTML report must escape what it shows and render in headless Chromium
# (screenshot not blank, the chart's colour present).
#
# REPORT_FIXTURES_OUT=DIR copies the maillog and audit log to DIR (that is
# how tests/data/report/ was made).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reword.sh"

REWORD=$B/reword
pf_setup
for u in blocked later; do pf_add_user "$u"; done

# postscreen in front of smtpd: the smtpd line becomes postscreen + a pass service
sed -i "s/^127\.0\.0\.1:$PF_PORT .*smtpd\$/127.0.0.1:$PF_PORT inet n - n - 1 postscreen/" "$PF_ETC/master.cf"
grep -q postscreen "$PF_ETC/master.cf" || lab_die "could not put postscreen in master.cf"
echo "smtpd     pass  -       -       n       -       -       smtpd" >>"$PF_ETC/master.cf"
_pf_cool master.cf
printf '127.0.0.3/32 reject\n' >"$PF_ETC/postscreen_access.cidr"
printf '127.0.0.4 REJECT\n' >"$PF_ETC/client_access.cidr"
printf 'busy@local.test 450 4.2.1 Mailbox busy, try again later\n' >"$PF_ETC/rcpt_access"
"$POSTMAP_BIN" -c "$PF_ETC" "hash:$PF_ETC/rcpt_access" || lab_die "postmap rcpt_access"
printf '/^Subject:.*lottery/ REJECT Lottery mail is not welcome here\n' >"$PF_ETC/header_checks"
pf_conf "postscreen_access_list = permit_mynetworks, cidr:$PF_ETC/postscreen_access.cidr" \
    "postscreen_denylist_action = enforce" "postscreen_greet_wait = 1s" \
    "smtpd_client_restrictions = check_client_access cidr:$PF_ETC/client_access.cidr" \
    "smtpd_recipient_restrictions = check_recipient_access hash:$PF_ETC/rcpt_access" \
    "header_checks = regexp:$PF_ETC/header_checks"

CONF=$LAB/reword.conf
RULES_DIR=$(lab_rules_dir)
cat >"$CONF" <<EOF
audit: { jsonl = "$LAB/log/audit.jsonl"; };
include = [ "$RULES_DIR/*.conf" ];
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

smtp_rcpt_reply s@example.org nobody@local.test >/dev/null          # smtpd 550 5.1.1
smtp_rcpt_reply s@example.org nobody2@local.test >/dev/null         # smtpd 550 5.1.1
smtp_rcpt_reply s@example.org x@elsewhere.example >/dev/null        # smtpd 554 5.7.1 relay
smtp_rcpt_reply s@example.org alice@local.test --local-interface 127.0.0.4 >/dev/null  # smtpd client access
smtp_rcpt_reply s@example.org busy@local.test >/dev/null            # smtpd 450 4.2.1
ps_reply=$(smtp_rcpt_reply s@example.org alice@local.test --local-interface 127.0.0.3)  # postscreen
smtp_rcpt_reply s@example.org blocked@local.test >/dev/null         # milter 550 5.7.1
smtp_rcpt_reply s@example.org later@local.test >/dev/null           # milter 451 4.7.1
smtp_data_reply s@example.org alice@local.test --header 'Subject: win the lottery' >/dev/null  # cleanup
smtp_data_reply s@example.org alice@local.test --header 'Subject: cheap pills' >/dev/null      # milter eom
ok=$(smtp_data_reply s@example.org alice@local.test --header 'Subject: hello')                 # accepted
assert_match "$ps_reply" '^5[0-9][0-9] ' "postscreen refused the denylisted client ($ps_reply)"
assert_match "$ok" '^250 ' "a clean message is accepted"
pf_log_wait 'milter-reject: END-OF-MESSAGE' 10 >/dev/null
pf_log_wait 'cleanup\[[0-9]+\]: [0-9A-Za-z]+: reject: header' 10 >/dev/null
pf_log_wait 'postscreen\[[0-9]+\]: NOQUEUE: reject' 10 >/dev/null
reword_audit_wait '"rule":"eom-spam"' 10
pf_wait_queue_empty 20
assert_eq "$(pf_maillog_warnings)" "" "no warnings in the maillog"
if [ -n "${REPORT_FIXTURES_OUT:-}" ]; then
    mkdir -p "$REPORT_FIXTURES_OUT"
    cp "$PF_MAILLOG" "$REPORT_FIXTURES_OUT/postfix-lab.maillog"
    cp "$LAB/log/audit.jsonl" "$REPORT_FIXTURES_OUT/daemon-audit.jsonl"
fi

json() { "$REWORD" report --format json "$@"; }
get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }
# cnt TABLE KEY [FIELD] : a table entry's count (or FIELD: maillog, audit, permanent...)
cnt() { python3 -c 'import json,sys; d=json.load(sys.stdin); t={e["key"]:e[sys.argv[3]] for e in d[sys.argv[1]]}; print(t.get(sys.argv[2], 0))' "$1" "$2" "${3:-count}"; }

# ---- the maillog ----
out=$(json "$PF_MAILLOG"); rc=$?
assert_eq "$rc" "0" "maillog: exit status 0"
assert_eq "$(get 'd["rejections"]' <<<"$out")" "10" "maillog: 10 rejections"
assert_eq "$(get 'd["temporary"]' <<<"$out")" "2" "maillog: 2 temporary (Postfix's 450, the milter's 451)"
assert_eq "$(get 'd["malformed"]' <<<"$out")" "0" "maillog: nothing malformed"
assert_eq "$(cnt by_source smtpd <<<"$out")" "5" "maillog: 5 by smtpd restrictions"
assert_eq "$(cnt by_source postscreen <<<"$out")" "1" "maillog: 1 by postscreen"
assert_eq "$(cnt by_source cleanup <<<"$out")" "1" "maillog: 1 by header_checks (cleanup)"
assert_eq "$(cnt by_source milter <<<"$out")" "3" "maillog: 3 milter-reject lines"
assert_eq "$(cnt by_enhanced 5.1.1 <<<"$out")" "2" "maillog: two 5.1.1"
assert_eq "$(cnt by_enhanced 5.7.1 <<<"$out")" "5" "maillog: five 5.7.1 (relay, client, header, milter RCPT and end of message)"
assert_eq "$(cnt by_enhanced 4.2.1 <<<"$out")" "1" "maillog: Postfix's 4.2.1"
assert_eq "$(cnt by_enhanced 4.7.1 <<<"$out")" "1" "maillog: the milter's 4.7.1"
assert_eq "$(cnt by_class 4xx <<<"$out")" "2" "maillog: class 4xx"
assert_eq "$(cnt by_stage eom <<<"$out")" "1" "maillog: END-OF-MESSAGE counted as stage eom"
assert_eq "$(cnt by_stage header <<<"$out")" "1" "maillog: header check counted as stage header"
assert_eq "$(cnt by_stage rcpt <<<"$out")" "8" "maillog: 8 at RCPT"
assert_eq "$(cnt top_clients 127.0.0.3 <<<"$out")" "1" "maillog: postscreen's client [127.0.0.3]:port read"
assert_eq "$(cnt top_clients 127.0.0.4 <<<"$out")" "1" "maillog: the access-denied client"
assert_eq "$(cnt top_clients 127.0.0.1 <<<"$out")" "8" "maillog: the other clients"
assert_eq "$(cnt top_domains local.test <<<"$out")" "9" "maillog: recipient domain local.test"
assert_eq "$(cnt top_domains elsewhere.example <<<"$out")" "1" "maillog: relay recipient's domain"
assert_eq "$(get 'sum(e["count"] for e in d["per_hour"])' <<<"$out")" "10" "maillog: per-hour counts add up"
assert_eq "$(get 'd["files"][0]["format"]' <<<"$out")" "maillog" "maillog: detected as a maillog"
assert_contains "$(get '[e["key"] for e in d["by_reason"]]' <<<"$out")" "5.7.1 Lottery mail is not welcome here" "maillog: header_checks reason read"

out=$(json -c "$CONF" "$PF_MAILLOG")
assert_eq "$(cnt by_rule postfix-user-unknown <<<"$out")" "2" "-c: Postfix's unknown users get the rule name"
assert_eq "$(cnt by_rule postfix-relay-access-denied <<<"$out")" "1" "-c: relay denied gets the rule name"
assert_eq "$(cnt by_rule rcpt-block <<<"$out")" "1" "-c: a milter-reject at RCPT matched to its policy rule"
assert_eq "$(cnt by_rule rcpt-later <<<"$out")" "1" "-c: the milter tempfail matched to its policy rule"
assert_eq "$(cnt by_rule eom-spam <<<"$out")" "0" "-c: a header rule cannot be told from a log line"

# ---- the daemon's audit log ----
out=$(json "$LAB/log/audit.jsonl")
assert_eq "$(get 'd["audit_rejections"]' <<<"$out")" "8" "audit log: 3 own decisions + 5 Postfix rejections observed"
assert_eq "$(get 'd["maillog_rejections"]' <<<"$out")" "0" "audit log: nothing counted as maillog"
assert_eq "$(cnt by_rule rcpt-block <<<"$out")" "1" "audit log: rule rcpt-block"
assert_eq "$(cnt by_rule eom-spam <<<"$out")" "1" "audit log: rule eom-spam"
assert_eq "$(cnt by_rule postfix-user-unknown <<<"$out")" "2" "audit log: observed rejections carry the rule that explains them"
assert_eq "$(cnt by_source self <<<"$out")" "3" "audit log: source self"
assert_eq "$(cnt by_source mta <<<"$out")" "5" "audit log: source mta"
assert_eq "$(cnt by_action observe <<<"$out")" "5" "audit log: action observe"
assert_eq "$(cnt by_enhanced 5.1.1 <<<"$out")" "2" "audit log: 5.1.1 from the original text"
assert_eq "$(cnt by_enhanced 4.2.1 <<<"$out")" "1" "audit log: 4.2.1 observed"
assert_eq "$(get 'd["files"][0]["format"]' <<<"$out")" "audit log" "audit log: detected as an audit log"

out=$(json "$PF_MAILLOG" "$LAB/log/audit.jsonl")
assert_eq "$(get '(d["maillog_rejections"], d["audit_rejections"])' <<<"$out")" "(10, 8)" "both: counted apart"
assert_eq "$(cnt by_enhanced 5.1.1 maillog <<<"$out")/$(cnt by_enhanced 5.1.1 audit <<<"$out")" "2/2" "both: one column each"
text=$("$REWORD" report "$PF_MAILLOG" "$LAB/log/audit.jsonl")
assert_match "$text" 'Maillog +Audit log' "both: text report shows two columns"

# ---- gzip, stdin, truncated gzip ----
gzip -c "$PF_MAILLOG" >"$LAB/maillog.1"          # no .gz: recognised by content
out=$(json "$LAB/maillog.1")
assert_eq "$(get 'd["rejections"]' <<<"$out")" "10" "gzip input recognised by content"
assert_eq "$(get 'd["files"][0]["format"]' <<<"$out")" "maillog, gzip" "gzip input reported as such"
assert_eq "$(json - <"$PF_MAILLOG" | get 'd["rejections"]')" "10" "stdin input"
assert_eq "$(json - <"$LAB/maillog.1" | get 'd["rejections"]')" "10" "gzip on stdin"
for i in $(seq 1 300); do cat "$PF_MAILLOG"; done | gzip -c >"$LAB/big.gz"
head -c $(( $(stat -c %s "$LAB/big.gz") / 2 )) "$LAB/big.gz" >"$LAB/cut.gz"
out=$(json "$LAB/cut.gz" 2>"$LAB/cut.err"); rc=$?
assert_eq "$rc" "1" "truncated gzip: exit status 1"
assert_match "$(get 'd["rejections"]' <<<"$out")" '^[1-9][0-9]*$' "truncated gzip: what was read is still reported"
assert_match "$(cat "$LAB/cut.err")" 'cut\.gz: ' "truncated gzip: the error names the file"

# ---- junk lines ----
{
    cat "$PF_MAILLOG"
    printf 'garbage without a timestamp\n'
    printf '{"action":"reject",\n'
    printf 'Nov 99 xx postfix/smtpd[1]: NOQUEUE: reject: RCPT\n'
    printf 'Nov 22 25:61:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 550 5.1.1 bad hour; from=<a@b> to=<c@d>\n'
    printf 'Nov 22 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.9]: no code here; from=<a@b> to=<c@d>\n'
    printf '\001\002\377 reject: \n'
    printf '\n'
    printf 'Nov 22 10:00:00 mx kernel: [    1.000000] an unrelated line\n'
    printf 'Nov 22 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject_warning: RCPT from x[192.0.2.9]: 450 4.7.1 would refuse; from=<a@b> to=<c@d>\n'
    printf 'Nov 22 10:00:00 mx postfix/smtp[1]: 4ABCDEF: to=<a@b>, status=bounced (host b[192.0.2.1] said: 550 5.7.1 reject: policy)\n'
} >"$LAB/junk.log"
out=$(json "$LAB/junk.log"); rc=$?
assert_eq "$rc" "0" "junk lines are not fatal"
assert_eq "$(get 'd["rejections"]' <<<"$out")" "10" "junk: the real rejections still counted, the rest not"
assert_eq "$(get 'd["malformed"]' <<<"$out")" "6" "junk: malformed lines counted"
assert_eq "$(get 'len(d["malformed_samples"])' <<<"$out")" "5" "junk: samples kept for the admin"
assert_eq "$(get 'd["malformed_samples"][0]["line"]' <<<"$out")" "$(( $(wc -l <"$PF_MAILLOG") + 1 ))" "junk: the sample names its line"
text=$("$REWORD" report "$LAB/junk.log")
assert_match "$text" 'malformed .*junk\.log:[0-9]+: garbage without a timestamp' "junk: text report shows where"

# ---- time filter, options ----
out=$(json --since 2099-01-01 "$PF_MAILLOG")
assert_eq "$(get '(d["rejections"], d["out_of_range"])' <<<"$out")" "(0, 10)" "--since in the future counts nothing"
assert_eq "$(json --since 24h "$PF_MAILLOG" | get 'd["rejections"]')" "10" "--since 24h counts today's"
assert_eq "$(json --until "$(date -d tomorrow +%F)" --since "$(date -d yesterday '+%F %H:%M')" "$PF_MAILLOG" | get 'd["rejections"]')" "10" "--since/--until with dates"
assert_eq "$(json --top 1 "$PF_MAILLOG" | get 'len(d["by_enhanced"]), d["by_enhanced_more"]')" "(1, 4)" "--top cuts the tables"
assert_eq "$("$REWORD" report --format xml "$PF_MAILLOG" >/dev/null 2>&1; echo $?)" "2" "bad format is a usage error"
assert_eq "$("$REWORD" report --since yesterday "$PF_MAILLOG" >/dev/null 2>&1; echo $?)" "2" "bad time is a usage error"
assert_eq "$("$REWORD" report "$LAB/nonexistent" "$PF_MAILLOG" >/dev/null 2>&1; echo $?)" "1" "a missing file: status 1, the others still read"

text=$("$REWORD" report "$PF_MAILLOG")
assert_match "$text" 'By enhanced status code' "text report has the code table"
assert_match "$text" '5\.1\.1 +2 +2 +0 +20\.0%' "text report: aligned counts and share"
assert_match "$text" 'Bad destination mailbox address' "text report names the code's meaning"
assert_match "$text" 'No rule names' "text report says where rule names come from"

# ---- HTML ----
ODD="$LAB/mail<b>&\"odd\".log"
cp "$PF_MAILLOG" "$ODD"
printf 'Nov 22 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[192.0.2.9]: 550 5.7.1 Blocked & "quoted" <script>alert(1)</script>; from=<a@b> to=<c@d.example>\n' >>"$ODD"
HTML=$LAB/report.html
"$REWORD" report --format html -o "$HTML" "$ODD" "$LAB/log/audit.jsonl"
assert_match "$(grep -c '<table' "$HTML")" '^[1-9]' "HTML has tables"
assert_match "$(grep -c '<th' "$HTML")" '^[1-9]' "HTML tables have header cells"
assert_eq "$(grep -Ec '<script|<link|src=|https?://[^"]*\.(css|js)' "$HTML")" "0" "HTML is self-contained, no script"
assert_match "$(cat "$HTML")" '<svg' "HTML has the inline timeline chart"
assert_contains "$(cat "$HTML")" 'mail&lt;b&gt;&amp;&quot;odd&quot;.log' "HTML escapes file names"
assert_contains "$(cat "$HTML")" 'Blocked &amp; &quot;quoted&quot;' "HTML escapes reply texts"
assert_match "$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$HTML")" 'Rejection report .* \(mail&lt;b&gt;.*audit\.jsonl\)' "HTML title names the period and the files"
if ! command -v chromium >/dev/null 2>&1; then
    t_log "SKIP: chromium not installed (sh tools/deps.sh installs it); HTML not rendered"
else
    PNG=$LAB/report.png
    "$REWORD" report --format html -o "$HTML" "$PF_MAILLOG"
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$LAB/chrome.XXXXXX")" --window-size=1200,1600 \
        --screenshot="$PNG" "file://$HTML" >"$LAB/chromium.log" 2>&1
    assert_true "Chromium wrote a screenshot" test -s "$PNG"
    # distinct colours, and the chart's bar colour (#b3261e) present
    stats=$(python3 - "$PNG" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
bpp = 4 if ctype == 6 else 3
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, red = bytearray(stride), set(), 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for i in range(0, stride, bpp):
        px = bytes(line[i:i + 3])
        colours.add(px)
        red += px == b"\xb3\x26\x1e"
    prev = line
print(len(colours), red)
EOF
)
    read -r ncol nred <<<"$stats"
    assert_match "${ncol:-0}" '^([5-9][0-9]|[1-9][0-9]{2,})$' "the screenshot is not blank ($ncol distinct colours)"
    assert_match "${nred:-0}" '^[1-9][0-9]{2,}$' "the timeline's bars are drawn ($nred pixels of the bar colour)"
    cp "$PNG" "$B/report-test.png" 2>/dev/null
    cp "$HTML" "$B/report-test.html" 2>/dev/null
fi
t_summary
