#!/usr/bin/env python3
"""CLI tests for `reword check` and `reword explain -c` (see rules.sh)."""
import json
import os
import sys
import tempfile

from clitest import check, finish
import clitest

REWORD, SRCDIR = sys.argv[1], sys.argv[2]


def run(*args):
    return clitest.run(REWORD, *args)


tmp = tempfile.mkdtemp()


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


sample = os.path.join(SRCDIR, "conf", "milter-reword.conf")
rc, out, err = run("check", "-c", sample, "--strict")
check("sample config is clean, even with --strict", rc == 0 and out == "", out + err)

broken = write("broken.conf", """rules = (
  { name = "a"; when = { stage = "rcpt"; rcpt = "(unclosed"; }; action = "reject"; },
  { name = "a"; when = { stage = "mail"; }; action = "reject"; reply = { code = 550; enhanced = "4.7.1"; }; },
  { name = "c"; when = { stage = "rcpt"; }; action = "frobnicate"; }
);
""")
rc, out, err = run("check", "-c", broken)
lines = out.splitlines()
check("broken file exits 1", rc == 1, f"rc={rc}")
check("every line is FILE:LINE: severity: message [id]",
      lines and all(l.startswith(broken + ":") and ("error:" in l or "warning:" in l) and l.endswith("]")
                    for l in lines), out)
nums = [int(l.split(":")[1]) for l in lines]
check("sorted by line", nums == sorted(nums), str(nums))
check("bad regex reported with its offset at line 2",
      any(l.startswith(broken + ":2:") and "[bad-regex]" in l and "offset" in l for l in lines), out)
check("duplicate name reported", any("[duplicate-rule]" in l for l in lines), out)
check("class mismatch reported at line 3", any(l.startswith(broken + ":3:") and "[class-mismatch]" in l for l in lines), out)
check("unknown action reported at line 4", any(l.startswith(broken + ":4:") and "[unknown-action]" in l for l in lines), out)

warn = write("warn.conf", """rules = (
  { name = "odd"; when = { stage = "rcpt"; rcpt = "x"; }; action = "reject"; reply = { code = 554; enhanced = "5.1.1"; text = "no"; }; }
);
""")
rc, out, _ = run("check", "-c", warn)
check("warnings alone exit 0", rc == 0 and "[unusual-pairing]" in out, out)
check("unusual-pairing names what the registry expects", "451, 550" in out and "554" in out, out)
rc, _, _ = run("check", "-c", warn, "--strict")
check("--strict fails on warnings", rc == 1)
rc, out, _ = run("check", "-c", write("syntax.conf", "rules = ( { name = \"x\" \n"))
check("libconfig syntax error gives file:line and exit 1", rc == 1 and "syntax.conf:" in out and "[syntax]" in out, out)
rc, out, _ = run("check", "-c", os.path.join(tmp, "missing.conf"))
check("missing file exits 1 with a message", rc == 1 and "missing.conf" in out, out)

defaults = os.path.join(SRCDIR, "conf", "milter-reword.conf")


def explain(*args):
    rc, out, err = run("explain", "-c", defaults, "--json", *args)
    objs = [json.loads(l) for l in out.splitlines() if l.strip()]
    return rc, objs, err


rc, objs, err = explain("550 5.7.1 Command rejected")
o = objs[0] if objs else {}
check("explain -c adds rewritten and rule", rc == 0 and "rewritten" in o and "rule" in o, str(o) + err)
check("milter default reject is rewritten by a default rule",
      o.get("rule") == "milter-default-reject" and o.get("rewritten", "").startswith("550 5.7.1 ")
      and "Command rejected" not in o.get("rewritten", ""), str(o))
rc, objs, _ = explain("550")
o = objs[0] if objs else {}
check("bare 550 gets an enhanced code", (o.get("rewritten") or "").startswith("550 5."), str(o))
rc, objs, _ = explain("451 4.7.1 Service unavailable - try again later")
o = objs[0] if objs else {}
check("Postfix milter tempfail default rewritten", (o.get("rewritten") or "").startswith("451 4.7.1 ")
      and o.get("rule"), str(o))
# when.enhanced with "none": one code pattern at most, each element checked
enh = write("enh.conf", """rules = (
  { name = "ok"; when = { enhanced = [ "none", "*.0.0" ]; }; },
  { name = "two"; when = { enhanced = [ "none", "5.7.1", "5.1.1" ]; }; },
  { name = "bad"; when = { enhanced = [ "none", "5.x.1" ]; }; },
  { name = "num"; when = { enhanced = [ 5 ]; }; }
);
""")
rc, out, _ = run("check", "-c", enh)
check("enhanced list: a second code pattern is a bad-type error at its line",
      rc == 1 and any(l.startswith(enh + ":3:") and "[bad-type]" in l and "one code pattern" in l
                      for l in out.splitlines()), out)
check("enhanced list: a malformed element is bad-enhanced-code at its line",
      any(l.startswith(enh + ":4:") and "[bad-enhanced-code]" in l for l in out.splitlines()), out)
check("enhanced list: a number is a bad-type error at its line",
      any(l.startswith(enh + ":5:") and "[bad-type]" in l for l in out.splitlines()), out)
check("enhanced list: the valid rule draws no diagnostic",
      not any(l.startswith(enh + ":2:") for l in out.splitlines()), out)

# the catch-all (conf/rules.d/90-catch-all.conf)
rc, objs, _ = explain("550 5.2.1 zqx frobnitz wibble")
o = objs[0] if objs else {}
rw = (o.get("rewritten") or "").split("\n")
check("catch-all: a registered code no rule knows keeps codes and text, gains the code's explanation",
      o.get("rule") == "catch-all-permanent" and len(rw) == 2 and rw[0] == "550-5.2.1 zqx frobnitz wibble"
      and rw[1].startswith("550 5.2.1 ") and len(rw[1]) > 40, str(o))
rc, objs, _ = explain("451 zqx frobnitz wibble")
o = objs[0] if objs else {}
rw = (o.get("rewritten") or "").split("\n")
check("catch-all: nothing to go on gets X.0.0 and the class's explanation",
      o.get("rule") == "catch-all-temporary" and rw[0] == "451-4.0.0 zqx frobnitz wibble"
      and rw[-1].startswith("451 4.0.0 "), str(o))
nocatch = write("nocatch.conf", 'include = [ "%s/conf/rules.d/*.conf" ];\nexclude = [ "90-catch-all.conf" ];\n' % SRCDIR)
rc, out, _ = run("explain", "--json", "-c", nocatch, "550 5.2.1 zqx frobnitz wibble")
o = json.loads(out.splitlines()[0]) if out.strip() else {}
check("catch-all off with exclude: the reply passes as it is", o.get("rule") is None
      and o.get("rewritten") == "550 5.2.1 zqx frobnitz wibble", out)
rc, objs, _ = explain("550 4.7.1 mixed up")
o = objs[0] if objs else {}
check("class-mismatched reply comes out class-matched", all(l[:6] in ("550 5.", "550-5.") for l in (o.get("rewritten") or "x").split("\n")), str(o))
own = write("own.conf", """rules = (
  { name = "self-only"; when = { source = "self"; stage = "rcpt"; code = "550"; }; reply = { text = "self rewrite"; }; }
);
""")
rc, out, _ = run("explain", "-c", own, "--json", "--source", "mta", "550 x")
o = json.loads(out.splitlines()[0])
check("--source narrows rules (mta: no match)", o["rule"] is None, out)
rc, out, _ = run("explain", "-c", own, "--json", "--source", "self", "--stage", "rcpt", "550 x")
o = json.loads(out.splitlines()[0])
check("--source self --stage rcpt matches", o["rule"] == "self-only" and o["rewritten"] == "550 5.0.0 self rewrite", out)
rc, out, _ = run("explain", "-c", own, "--json", "--source", "self", "--stage", "mail", "550 x")
o = json.loads(out.splitlines()[0])
check("--stage mail does not match a rcpt rule", o["rule"] is None, out)
rc, out, _ = run("explain", "-c", broken, "550 x")
check("explain -c with a broken file exits 1", rc == 1)

sys.exit(finish("rules_cases"))
