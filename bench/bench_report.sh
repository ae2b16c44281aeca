#!/bin/bash
# bench_report.sh - `reword report` throughput beside pflogsumm on the same
# generated Postfix maillog (SIZE_MB, default 1024), in one run: MB/s of
# each, the ratio, and peak RSS (memory must not grow with the file size).
# The log mixes connect/disconnect, queue manager, delivery and reject lines
# in realistic proportions (about 1 line in 12 a rejection).  Figures only.
set -u
B=${B:?}
SIZE_MB=${SIZE_MB:-1024}
command -v pflogsumm >/dev/null || { echo "bench_report: pflogsumm not installed (make deps)"; exit 1; }
TMP=$(mktemp -d /tmp/reword-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP/maillog" "$SIZE_MB" <<'EOF'
import random, sys
random.seed(7)
path, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
lines = []
for i in range(20000):
    h, m, s = (i // 3600) % 24, (i // 60) % 60, i % 60
    ts = "Nov 22 %02d:%02d:%02d mx" % (h, m, s)
    ip = "198.51.%d.%d" % (random.randrange(256), random.randrange(256))
    qid = "4%07X" % random.randrange(1 << 28)
    dom = random.choice(["example.org", "example.net", "mail.test", "corp.example"])
    k = i % 12
    if k == 0:
        lines.append(f"{ts} postfix/smtpd[1234]: NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <u{i}@{dom}>: Recipient address rejected: User unknown in local recipient table; from=<s@x.example> to=<u{i}@{dom}> proto=ESMTP helo=<h{i}>")
    elif k == 1:
        lines.append(f"{ts} postfix/smtpd[1234]: connect from unknown[{ip}]")
    elif k == 2:
        lines.append(f"{ts} postfix/smtpd[1234]: {qid}: client=unknown[{ip}]")
    elif k == 3:
        lines.append(f"{ts} postfix/cleanup[99]: {qid}: message-id=<{i}@x.example>")
    elif k == 4:
        lines.append(f"{ts} postfix/qmgr[77]: {qid}: from=<s@x.example>, size={1000 + i}, nrcpt=1 (queue active)")
    elif k == 5:
        lines.append(f"{ts} postfix/smtp[88]: {qid}: to=<r{i}@{dom}>, relay=mx.{dom}[203.0.113.5]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ABC)")
    elif k == 6:
        lines.append(f"{ts} postfix/qmgr[77]: {qid}: removed")
    elif k == 7:
        lines.append(f"{ts} postfix/smtpd[1234]: disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
    elif k == 8:
        lines.append(f"{ts} postfix/smtp[88]: {qid}: to=<r{i}@{dom}>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.{dom}[203.0.113.9]:25: Connection timed out)")
    elif k == 9:
        lines.append(f"{ts} postfix/cleanup[99]: {qid}: milter-reject: END-OF-MESSAGE from unknown[{ip}]: 5.7.1 Refused as spam; from=<s@x.example> to=<r@{dom}> proto=ESMTP helo=<h>")
    elif k == 10:
        lines.append(f"{ts} postfix/smtpd[1234]: lost connection after RCPT from unknown[{ip}]")
    else:
        lines.append(f"{ts} postfix/local[66]: {qid}: to=<alice@{dom}>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)")
block = ("\n".join(lines) + "\n").encode()
with open(path, "wb") as f:
    written = 0
    while written < size:
        f.write(block)
        written += len(block)
EOF
bytes=$(stat -c %s "$TMP/maillog")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
cat "$TMP/maillog" >/dev/null     # warm the page cache for both
run() {   # run NAME CMD... -> "seconds peak_kib"
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$TMP/time" "$@" >"$TMP/$name.out" 2>/dev/null
    cat "$TMP/time"
}
read -r rs rk < <(run reword "$B/reword" report --format json "$TMP/maillog")
read -r ps pk < <(run pflogsumm pflogsumm "$TMP/maillog")
echo "== reword report vs pflogsumm on a ${mb} MB Postfix maillog (one core each)"
printf '%-16s %8s s %10s MB/s %10s MiB peak RSS\n' "reword report" "$rs" \
    "$(awk -v m="$mb" -v s="$rs" 'BEGIN { printf "%.1f", m / s }')" "$(awk -v k="$rk" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-16s %8s s %10s MB/s %10s MiB peak RSS\n' "pflogsumm" "$ps" \
    "$(awk -v m="$mb" -v s="$ps" 'BEGIN { printf "%.1f", m / s }')" "$(awk -v k="$pk" 'BEGIN { printf "%.1f", k / 1024 }')"
echo "ratio: reword report is $(awk -v a="$ps" -v b="$rs" 'BEGIN { printf "%.1f", a / b }')x pflogsumm (goals: >= 10x, >= 200 MB/s)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("rejections counted: %d, malformed: %d" % (d["rejections"], d["malformed"]))' "$TMP/reword.out"
