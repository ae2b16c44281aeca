#!/usr/bin/env python3
"""The corpus of real rejection texts through the shipped rules (see corpus.sh).

Each tests/data/corpus/*.tsv row: software, version, source (file:line or
URL), reply, accepted (comma-separated enhanced codes).  A row passes when
`reword explain -c conf/milter-reword.conf` names a rule other than the
catch-all (the catch-all only where the row accepts X.0.0: a reply that
says nothing more than its class), the rewritten reply keeps the basic code and its enhanced code
is one of the accepted ones.  Also runs the fallback layers alone
(85-reply-codes, 80-classifier, 90-catch-all) on the rows without an
enhanced code: at least 70 % must get an accepted code.  Prints the coverage
per software; with
--report only prints it (make bench) and exits 0.
"""
import glob
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

REWORD, SRCDIR = sys.argv[1], sys.argv[2]
REPORT_ONLY = "--report" in sys.argv[3:]
CONF = os.path.join(SRCDIR, "conf", "milter-reword.conf")
CATCH_ALL = ("catch-all-permanent", "catch-all-temporary")


def rows():
    for path in sorted(glob.glob(os.path.join(SRCDIR, "tests", "data", "corpus", "*.tsv"))):
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
            if header != ["software", "version", "source", "reply", "accepted"]:
                yield path, 1, None, f"bad header {header}"
                continue
            for n, line in enumerate(f, 2):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                cols = line.split("\t")
                if len(cols) != 5 or not all(c.strip() for c in cols):
                    yield path, n, None, "a row needs 5 non-empty columns"
                    continue
                yield path, n, cols, None


problems = []
data = []
for path, n, cols, err in rows():
    where = f"{os.path.relpath(path, SRCDIR)}:{n}"
    if err:
        problems.append(f"{where}: {err}")
    else:
        data.append((where, cols))

replies = "".join(cols[3] + "\n" for _, cols in data)
p = subprocess.run([REWORD, "explain", "--json", "-c", CONF, "-"], input=replies,
                   capture_output=True, text=True, timeout=300)
out = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
if len(out) != len(data):
    problems.append(f"reword explain gave {len(out)} answers for {len(data)} rows: {p.stderr[:500]}")
    out = (out + [None] * len(data))[:len(data)]

per = defaultdict(lambda: [0, 0])
for (where, cols), res in zip(data, out):
    software, _, _, reply, accepted = cols
    per[software][1] += 1
    acc = [a.strip() for a in accepted.split(",")]
    if res is None:
        problems.append(f"{where}: no answer for {reply!r}")
        continue
    rw = (res.get("rewritten") or "").split("\n")[-1].split(" ")
    code = reply.split(" ")[0].split("-")[0]
    why = None
    if res.get("rule") is None:
        why = "no rule"
    elif res["rule"] in CATCH_ALL and f"{code[0]}.0.0" not in acc:
        why = "only the catch-all"
    elif len(rw) < 2 or rw[0] != code:
        why = f"basic code changed: {res.get('rewritten')!r}"
    elif rw[1] not in acc:
        why = f"rule {res['rule']} gives {rw[1]}, accepted {accepted}"
    if why:
        problems.append(f"{where}: {why}: {reply}")
    else:
        per[software][0] += 1

total_ok = sum(v[0] for v in per.values())
total = sum(v[1] for v in per.values())
print("# corpus coverage (recognised with an accepted code / rows):")
for software in sorted(per):
    ok, n = per[software]
    print(f"#   {software:<24} {ok:4d} / {n:4d}  {100.0 * ok / n:5.1f} %")
print(f"#   {'all':<24} {total_ok:4d} / {total:4d}  {100.0 * total_ok / max(total, 1):5.1f} %")
# The fallback layers alone (85-reply-codes, 80-classifier, 90-catch-all)
# on the rows that carry no enhanced code or only X.0.0: how far the
# classifier gets on texts of software no pack knows.
import tempfile
vague = [(w, c) for w, c in data if not re.match(r"^\d{3}[ -]\d\.\d+\.\d+ ", c[3])
         or re.match(r"^\d{3}[ -]\d\.0\.0 ", c[3])]
rd = os.path.abspath(os.path.join(SRCDIR, "conf", "rules.d"))
with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as t:
    t.write('include = [ "%s/80-classifier.conf", "%s/85-reply-codes.conf", "%s/90-catch-all.conf" ];\n'
            % (rd, rd, rd))
p = subprocess.run([REWORD, "explain", "--json", "-c", t.name, "-"],
                   input="".join(c[3] + "\n" for _, c in vague), capture_output=True, text=True, timeout=300)
os.unlink(t.name)
# Right: the enhanced code sent is one the row accepts (a qmail-style
# "(#5.1.1)" trailer gives the code itself, and the catch-all then keeps
# it); specific: right and explained by a rule other than the catch-all.
vok = vspec = 0
for (_, c), l in zip(vague, p.stdout.splitlines()):
    j = json.loads(l)
    enh = (j.get("rewritten") or "").split("\n")[-1].split(" ")[1:2]
    if j.get("rule") and enh and enh[0] in [a.strip() for a in c[4].split(",")]:
        vok += 1
        vspec += j["rule"] not in CATCH_ALL
print(f"# fallback layers alone on the {len(vague)} rows without an enhanced code after the "
      f"basic code: {vok} right ({100.0 * vok / max(len(vague), 1):.1f} %), {vspec} of them "
      f"with a specific explanation ({100.0 * vspec / max(len(vague), 1):.1f} %)")
if REPORT_ONLY:
    sys.exit(0)
if vague and vok * 100 < 70 * len(vague):
    problems.append(f"classifier alone: only {vok} of {len(vague)} code-less rows right (< 70 %)")
    print(f"not ok - {problems[-1]}")
for pr in problems:
    print(f"not ok - {pr}")
if total < 300:
    problems.append(f"only {total} corpus rows")
    print(f"not ok - only {total} corpus rows")
print(f"corpus: {total_ok} passed, {len(problems)} failed")
sys.exit(1 if problems else 0)
