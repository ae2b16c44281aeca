#!/bin/sh
# diag_ids.sh - the one list of diagnostic ids (milter/core/util/diag_ids.c)
# is true: every id in it is documented in a man page and used in the code,
# and every id the code passes to diag_add, diag_add_at or conf_diag is in it.
set -eu
: "${SRCDIR:?}"
exec python3 - "$SRCDIR" <<'PY'
import glob, os, re, sys
src = sys.argv[1]
table = open(os.path.join(src, "milter/core/util/diag_ids.c")).read()
ids = re.findall(r'^\s+"([a-z0-9-]+)",$', table, re.M)
man = "".join(open(p).read() for p in glob.glob(os.path.join(src, "man", "*.[158]")))
code = {p: open(p).read() for p in glob.glob(os.path.join(src, "milter", "**", "*.c"), recursive=True)
        if not p.endswith("diag_ids.c")}
alltext = "".join(code.values())
passed = set()
for text in code.values():
    passed |= set(re.findall(r'\b(?:diag_add|diag_add_at|conf_diag)\([^;"]*"([a-z0-9-]+)"', text, re.S))
ok = fail = 0
def check(cond, what):
    global ok, fail
    if cond:
        ok += 1
    else:
        fail += 1
        print(f"not ok - {what}")
check(len(ids) >= 40 and ids == sorted(set(ids)), f"diag_ids is sorted and unique ({len(ids)} ids)")
for i in ids:
    check(re.search(r'(^|[\s"])' + re.escape(i) + r'($|[\s"])', man, re.M), f"{i} documented in man/")
    check(f'"{i}"' in alltext, f"{i} used in milter/")
for i in sorted(passed):
    check(i in ids, f"{i} (passed in the code) is in diag_ids")
check(len(passed) >= 30, f"the code passes {len(passed)} ids literally")
print(f"diag_ids: {ok} passed, {fail} failed")
sys.exit(1 if fail else 0)
PY
