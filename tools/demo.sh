#!/bin/bash
# demo.sh - `make demo`: shows what milter-reword does, on this machine, with
# real parts: a private Postfix (own config and queue directory under /tmp,
# loopback port, delivering to discard) with milter-reword attached using the
# sample configuration, and swaks as the SMTP client.  Three rejections,
# before and after; where the audit log is; then everything started is
# stopped.  Needs root (Postfix) and `make deps all`.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$SRCDIR/build}
export SRCDIR B
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/reword.sh"
[ "$(id -u)" = 0 ] || { echo "make demo: run as root (it starts a private Postfix)" >&2; exit 1; }

OUT=$B/demo
mkdir -p "$OUT"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
show() { sed 's/^/    /'; }

pf_setup
pf_add_user busy
pf_add_user bob
pf_conf "mydestination = local.test, blocked.example"

# The sample configuration, with the audit log and the rule includes
# pointed at this demo, plus one tempfail rule to show.
CONF=$LAB/milter-reword.conf
sed -e "s|\"rules.d/\*.conf\"|\"$SRCDIR/conf/rules.d/*.conf\"|" \
    -e "s|^audit: {|audit: {\n  jsonl = \"$LAB/log/audit.jsonl\";|" \
    "$SRCDIR/conf/milter-reword.conf" >"$CONF"
cat >>"$CONF" <<'EOF'

# added by the demo: a vague tempfail rule (no text: the taxonomy explains it)
rules_demo_marker = 1;
EOF
python3 - "$CONF" <<'EOF'
import re, sys
p = sys.argv[1]
s = open(p).read().replace("\n# added by the demo: a vague tempfail rule (no text: the taxonomy explains it)\nrules_demo_marker = 1;\n", "")
rule = ('  { name = "demo-mailbox-busy"; when = { stage = "rcpt"; rcpt = "(?i)^busy@"; };\n'
        '    action = "tempfail"; reply = { enhanced = "4.2.0"; }; },\n')
s = re.sub(r"^rules = \(\n", "rules = (\n" + rule, s, count=1, flags=re.M)
open(p, "w").write(s)
EOF
"$B/reword" postfix-footers -c "$CONF" -o "$PF_ETC/reword_footers.pcre" 2>/dev/null
reword_start "$CONF"
pf_start

say "milter-reword demo: Postfix $(pf_postconf -h mail_version 2>/dev/null) on 127.0.0.1:$PF_PORT, milter-reword with $CONF"

say "1. An own rule that gives no text (sample rule local-block-example: reject *@blocked.example)"
echo "  Before: a milter that rejects without a text makes Postfix send its default:"
echo "    550 5.7.1 Command rejected"
echo "  After: what the SMTP client receives from milter-reword:"
smtp_rcpt_reply sender@example.org bob@blocked.example | show

say "2. A tempfail (demo rule: busy@...)"
echo "  Before: a bare tempfail makes Postfix send:"
echo "    451 4.7.1 Service unavailable - try again later"
echo "  After:"
smtp_rcpt_reply sender@example.org busy@local.test | show

say "3. Postfix's own rejection: unknown user (a milter cannot change its text)"
echo "  Before (plain Postfix):"
smtp_rcpt_reply sender@example.org nobody@local.test | show
pf_conf "smtpd_reject_footer_maps = pcre:$PF_ETC/reword_footers.pcre"
pf_reload
echo "  After (footer table made by \`reword postfix-footers\` from the same rules):"
smtp_rcpt_reply sender@example.org nobody@local.test | show
echo "  And milter-reword recorded it in its audit log (source mta, action observe)."

say "What any reply means, offline:"
"$B/reword" explain "221 2.0.0 Bye" | show

reword_audit_wait '"source":"mta"' 5 || true
cp "$LAB/log/audit.jsonl" "$OUT/audit.jsonl" 2>/dev/null
cp "$PF_MAILLOG" "$OUT/maillog" 2>/dev/null
cp "$LAB/reword.log" "$OUT/milter-reword.log" 2>/dev/null
say "Audit log: $OUT/audit.jsonl ($(wc -l <"$OUT/audit.jsonl" 2>/dev/null || echo 0) records); daemon log: $OUT/milter-reword.log; Postfix log: $OUT/maillog"
python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print("    %-8s %-7s %-5s %-22s %s" % (r["action"], r["source"], r["stage"], r.get("rcpt") or "", (r.get("reply") or r.get("original") or "").split("\n")[0][:70]))' \
    "$OUT/audit.jsonl" 2>/dev/null
say "Stopping Postfix and milter-reword."
