#!/usr/bin/env python3
"""compile-commands.py OUT CC CFLAGS... -- SOURCES...: writes a compile_commands.json
(the JSON compilation database of clangd and clang-tidy) for SOURCES, each
compiled as the Makefile does: CC CFLAGS, plus -Imilter/core for the core and
the tests, -Imilter/proxy for the daemon.  Run from the source tree
(`make compile_commands.json`)."""
import json
import os
import sys

out, cc = sys.argv[1], sys.argv[2]
sep = sys.argv.index("--")
flags, sources = sys.argv[3:sep], sys.argv[sep + 1:]
root = os.getcwd()
db = []
for src in sources:
    extra = []
    if src.startswith(("milter/core/", "tests/", "bench/")):
        extra.append("-Imilter/core")
    if src.startswith("milter/daemon/"):
        extra.append("-Imilter/proxy")
    db.append({"directory": root, "file": src,
               "arguments": [cc] + flags + extra + ["-c", "-o", "/dev/null", src]})
with open(out + ".tmp", "w") as f:
    json.dump(db, f, indent=1)
os.replace(out + ".tmp", out)
print(f"{out}: {len(db)} sources")
