#!/usr/bin/env python3
"""check-names.py BUILDDIR: every exported symbol carries its module's prefix.

Reads the objects the build wrote (BUILDDIR/{core/*,tool,daemon,proxy}/*.o)
with nm.  A symbol of module FILE.o is fine when it is FILE or starts with
FILE_, or with the family prefix HACKING.md lists for that file (FAMILY).
Prints one line per symbol that is not, exit 1 when there is any.
"""
import glob
import os
import subprocess
import sys

B = sys.argv[1] if len(sys.argv) > 1 else "build"
# file stem (or stem prefix ending in "*") -> its family prefix
FAMILY = {
    "strbuf": "sb_", "taxonomy": "tax_", "taxonomy_data": "tax_", "milter_codec": "mp_",
    "reply_validate": "reply_", "conf_*": "conf_", "report_*": "report_", "diag_ids": "diag_",
}


def prefixes(stem):
    out = [stem + "_"]
    for k, v in FAMILY.items():
        if k == stem or (k.endswith("*") and stem.startswith(k[:-1])):
            out.append(v)
    return out


objs = sorted(glob.glob(os.path.join(B, "core", "*", "*.o")) + glob.glob(os.path.join(B, "tool", "*.o"))
              + glob.glob(os.path.join(B, "daemon", "*.o")) + glob.glob(os.path.join(B, "proxy", "*.o")))
if not objs:
    print(f"check-names: no objects under {B}; build first")
    sys.exit(1)
bad = n = 0
for o in objs:
    stem = os.path.basename(o)[:-2]
    nm = subprocess.run(["nm", "-g", "--defined-only", o], capture_output=True, text=True, check=True)
    for line in nm.stdout.splitlines():
        sym = line.split()[-1]
        n += 1
        if sym in (stem, "main") or any(sym.startswith(p) for p in prefixes(stem)):
            continue
        bad += 1
        print(f"{os.path.relpath(o, B)}: {sym} lacks the prefix {' or '.join(prefixes(stem))}")
print(f"check-names: {n} exported symbols in {len(objs)} objects, {bad} without their prefix")
sys.exit(1 if bad else 0)
