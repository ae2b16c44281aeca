#!/usr/bin/env python3
"""CLI tests for `reword explain` / `reword taxonomy`.

Each case runs the real binary and checks what an admin would rely on:
the basic and enhanced codes parsed from replies as real MTAs send them,
the explanation for well-known replies, JSON fields, and exit statuses.
"""
import json
import sys

from clitest import check, finish
import clitest

REWORD = sys.argv[1]


def run(*args, stdin=None):
    return clitest.run(REWORD, *args, stdin=stdin, timeout=30)


def explain_json(reply):
    rc, out, err = run("explain", "--json", reply)
    lines = [l for l in out.splitlines() if l.strip()]
    return rc, (json.loads(lines[0]) if lines else None), err


# (input, code, enhanced) as sent by real servers
CASES = [
    ("550 5.7.1 Command rejected", 550, "5.7.1"),
    ("451 4.7.1 Service unavailable - try again later", 451, "4.7.1"),
    ("550", 550, None),
    ("550 relay not permitted", 550, None),
    ("550-5.7.1 first\r\n550 5.7.1 second", 550, "5.7.1"),
    ("550-5.7.1 a 550-5.7.1 b 550 5.7.1 c", 550, "5.7.1"),
    ("  550   5.1.1   <x@example.org>: Recipient address rejected: User unknown in local recipient table", 550, "5.1.1"),
    ("554 5.7.1 <a@b.example>: Relay access denied", 554, "5.7.1"),
    ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", 550, "5.1.10"),
    ("221 2.0.0 Bye", 221, "2.0.0"),
    ("221 Bye", 221, None),
    ("250 2.1.5 Ok", 250, "2.1.5"),
    ("452 4.2.2 Mailbox full", 452, "4.2.2"),
    ("smtp; 550 5.1.1 user unknown", 550, "5.1.1"),
    ("550 5.1.1 <x@y>... User unknown", 550, "5.1.1"),
]


def main():
    for reply, code, enh in CASES:
        rc, obj, err = explain_json(reply)
        ok = obj is not None and rc == 0 and obj["code"] == code and obj["enhanced"] == enh
        check(f"parse {reply[:50]!r}", ok, f"rc={rc} got={obj and (obj['code'], obj['enhanced'])} err={err}")

    # fields promised by the JSON contract
    rc, obj, _ = explain_json("550 5.7.1 Command rejected")
    for key in ("input", "code", "enhanced", "text", "class", "meaning", "enhanced_meaning",
                "explanation", "diagnostics"):
        check(f"json has {key}", obj is not None and key in obj)
    check("5.7.1 explanation non-empty", bool(obj and obj["explanation"]))
    check("class 5", obj is not None and obj["class"] == 5)

    # 221 Bye is the normal end of a session
    rc, obj, _ = explain_json("221 Bye")
    expl = (obj or {}).get("explanation", "").lower()
    check("221 Bye explained as normal end", rc == 0 and "end" in expl and "normal" in expl, expl)
    rc, out, _ = run("explain", "221 2.0.0 Bye")
    check("221 text output mentions normal end", rc == 0 and "normal" in out.lower(), out)

    # diagnostics with stable ids
    rc, obj, _ = explain_json("550 4.7.1 mismatched")
    ids = [d["id"] for d in (obj or {}).get("diagnostics", [])]
    check("class-mismatch diagnosed", "class-mismatch" in ids, str(ids))
    rc, obj, _ = explain_json("550 5.7.57 Client not authenticated")
    ids = [d["id"] for d in (obj or {}).get("diagnostics", [])]
    check("unregistered-code diagnosed", "unregistered-code" in ids, str(ids))
    rc, obj, _ = explain_json("554 5.1.1 no such user")
    diags = (obj or {}).get("diagnostics", [])
    msg = " ".join(d["message"] for d in diags if d["id"] == "unusual-pairing")
    check("unusual-pairing names registry codes", "451" in msg and "550" in msg, msg)

    # unparseable input: diagnostic and exit 1, never a crash
    rc, obj, _ = explain_json("hello world")
    ids = [d["id"] for d in (obj or {}).get("diagnostics", [])]
    check("unparseable exits 1", rc == 1, f"rc={rc}")
    check("unparseable diagnosed", "unparseable" in ids, str(ids))
    rc, out, _ = run("explain", "--json", "\x01\x02\xff garbage")
    check("binary junk does not crash", rc in (0, 1))

    # stdin mode, one reply per line
    rc, out, _ = run("explain", "--json", "-", stdin="550 5.1.1 a\n\n451 4.3.0 b\n")
    objs = [json.loads(l) for l in out.splitlines() if l.strip()]
    check("stdin: two replies", rc == 0 and [o["code"] for o in objs] == [550, 451], out)

    # usage errors
    rc, _, _ = run("explain")
    check("explain without args is a usage error", rc == 2)
    rc, _, _ = run("frobnicate")
    check("unknown command is a usage error", rc == 2)

    # taxonomy
    rc, out, _ = run("taxonomy", "--json")
    tax = json.loads(out) if rc == 0 else {}
    enh = tax.get("enhanced", [])
    check("taxonomy: 81 enhanced codes", len(enh) == 81, str(len(enh)))
    check("taxonomy: 44 basic codes", len(tax.get("basic", [])) == 44)
    check("taxonomy: 3 classes, 8 subjects",
          len(tax.get("classes", [])) == 3 and len(tax.get("subjects", [])) == 8)
    check("taxonomy: every entry explained",
          all(e["explanation"] for e in enh) and all(b["explanation"] for b in tax.get("basic", [])))
    x11 = next((e for e in enh if e["code"] == "X.1.1"), {})
    check("taxonomy: X.1.1 with 451, 550", x11.get("associated_basic_codes") == ["451", "550"], str(x11))
    x610 = next((e for e in enh if e["code"] == "X.6.10"), {})
    check("taxonomy: X.6.10 deprecated", x610.get("deprecated") is True)
    rc, out, _ = run("taxonomy")
    check("taxonomy text lists X.7.30", rc == 0 and "X.7.30" in out)

    return finish("explain_cases")


if __name__ == "__main__":
    sys.exit(main())
