#!/usr/bin/env python3
"""Cross-check of conf/taxonomy/*.tsv against the IANA registry XML.

usage: taxonomy_xml.py SRCDIR REFDIR

REFDIR holds iana-smtp-enhanced-status-codes.xml and basic-codes.csv (the
project's reference copy, ../shared/reference).  Checks, each one line of
output:
  - enhanced.tsv has exactly the registry's enumerated codes
  - associated basic codes agree (the registry's "451, 550", "250 or 251",
    "451/550", "450, 550 (other 4XX or 5XX codes are allowed)", "Any" are
    normalised to our "451;550" form; "Not given", "." and empty mean none)
  - the deprecated flag agrees (the registry says so in the description)
  - sample texts and references agree
  - classes and subjects in groups.tsv agree with the registry's
  - basic.tsv has the same set of codes as basic-codes.csv
Standard library only.
"""
import csv
import os
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.iana.org/assignments}"
passed = failed = 0


def check(name, problems):
    global passed, failed
    if not problems:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}")
        for p in problems[:20]:
            print(f"    {p}")
        if len(problems) > 20:
            print(f"    ... and {len(problems) - 20} more")


def read_tsv(path, ncols):
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != ncols:
                raise SystemExit(f"{path}:{lineno}: expected {ncols} columns, found {len(cols)}")
            rows.append(cols)
    return rows


def text(el, tag):
    child = el.find(NS + tag)
    if child is None:
        return ""
    return " ".join("".join(child.itertext()).split())


def norm_assoc(raw):
    """Registry wording -> ["451", "550"], keeping Any / 4XX / 5XX."""
    raw = raw.strip()
    if raw in ("", ".") or raw.lower() == "not given":
        return []
    items = re.findall(r"\bAny\b|\b[2-5]XX\b|\b[2-5]\d\d\b", raw, flags=re.IGNORECASE)
    out = []
    for it in items:
        it = "Any" if it.lower() == "any" else it.upper()
        if it not in out:
            out.append(it)
    return out


def xml_references(rec):
    ref = rec.find(NS + "reference")
    if ref is None:
        return []
    out = []
    for x in ref.iter(NS + "xref"):
        data = x.get("data", "")
        out.append(data.upper() if x.get("type") == "rfc" else data)
    return out


def main():
    if len(sys.argv) != 3:
        print("usage: taxonomy_xml.py SRCDIR REFDIR", file=sys.stderr)
        return 2
    srcdir, refdir = sys.argv[1], sys.argv[2]
    tax = os.path.join(srcdir, "conf", "taxonomy")
    root = ET.parse(os.path.join(refdir, "iana-smtp-enhanced-status-codes.xml")).getroot()

    # Registry sub-tables: classes, subjects, enumerated codes.
    classes, subjects, codes = {}, {}, {}
    for reg in root.iter(NS + "registry"):
        for rec in reg.findall(NS + "record"):
            code = text(rec, "code")
            if re.fullmatch(r"[245]\.XXX\.YYY", code):
                classes[int(code[0])] = text(rec, "summary")
            elif re.fullmatch(r"X\.\d+\.YYY", code):
                subjects[int(code.split(".")[1])] = text(rec, "summary")
            elif re.fullmatch(r"X\.\d+\.\d+", code):
                codes[code] = rec

    enh = {r[0]: r for r in read_tsv(os.path.join(tax, "enhanced.tsv"), 6)}

    missing = sorted(set(codes) - set(enh))
    extra = sorted(set(enh) - set(codes))
    check(f"enhanced.tsv has the registry's {len(codes)} codes",
          [f"missing {c}" for c in missing] + [f"not in registry {c}" for c in extra])

    both = [c for c in codes if c in enh]
    probs = []
    for c in both:
        want = norm_assoc(text(codes[c], "basic_code"))
        got = [x for x in enh[c][2].split(";") if x]
        if want != got:
            probs.append(f"{c}: registry {';'.join(want) or '(none)'}, tsv {';'.join(got) or '(none)'}")
    check("associated basic codes agree", probs)

    probs = []
    for c in both:
        want = "1" if re.search(r"\bdeprecated\b", text(codes[c], "description"), re.I) else "0"
        if enh[c][4] != want:
            probs.append(f"{c}: registry deprecated={want}, tsv {enh[c][4]}")
    check("deprecated flags agree", probs)

    probs = []
    for c in both:
        if text(codes[c], "sample") != enh[c][1]:
            probs.append(f"{c}: registry {text(codes[c], 'sample')!r}, tsv {enh[c][1]!r}")
    check("sample texts agree", probs)

    probs = []
    for c in both:
        want = xml_references(codes[c])
        got = [x for x in enh[c][3].split(";") if x]
        if want != got:
            probs.append(f"{c}: registry {';'.join(want)}, tsv {';'.join(got)}")
    check("references agree", probs)

    groups = read_tsv(os.path.join(tax, "groups.tsv"), 4)
    tsv_classes = {int(r[1]): r[2] for r in groups if r[0] == "class"}
    tsv_subjects = {int(r[1]): r[2] for r in groups if r[0] == "subject"}
    probs = []
    for kind, want, got in (("class", classes, tsv_classes), ("subject", subjects, tsv_subjects)):
        for n in sorted(set(want) | set(got)):
            if want.get(n) != got.get(n):
                probs.append(f"{kind} {n}: registry {want.get(n)!r}, tsv {got.get(n)!r}")
    check(f"groups.tsv has the registry's {len(classes)} classes and {len(subjects)} subjects",
          probs)

    basic = {int(r[0]) for r in read_tsv(os.path.join(tax, "basic.tsv"), 4)}
    with open(os.path.join(refdir, "basic-codes.csv"), encoding="utf-8") as f:
        ref_basic = {int(r["code"]) for r in csv.DictReader(f)}
    check(f"basic.tsv has the {len(ref_basic)} reference basic codes",
          [f"missing {c}" for c in sorted(ref_basic - basic)]
          + [f"not in reference {c}" for c in sorted(basic - ref_basic)])

    # Every basic code the registry associates with an enhanced code is known.
    listed = set()
    for rec in codes.values():
        listed |= {int(x) for x in norm_assoc(text(rec, "basic_code")) if x.isdigit()}
    check("every basic code the registry lists is in basic.tsv",
          [f"{c} listed by the registry, not in basic.tsv" for c in sorted(listed - basic)])

    print(f"taxonomy_xml: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
