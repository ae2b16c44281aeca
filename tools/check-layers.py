#!/usr/bin/env python3
"""check-layers.py [SRCDIR]: fails when an #include runs against the layers.

The layers, lowest first (HACKING.md, "Layers"):

  core, milter/core/<area>/:  util < smtp, proto < reply < rules < engine < report
  outer:                      tool, proxy < daemon

A file may include headers of its own area and of lower ones.  Areas on the
same level (smtp, proto) do not include each other.  The public headers in
include/ belong to the core area of the module they declare (HEADER_AREA).
An outer layer includes only public core headers (never a header under
milter/core/); tool and proxy never include the daemon's headers, tool
never the proxy's; the core never includes an outer layer's header, nor
libmilter.  Prints one line per violation, file:line: message; exit 1
when there is any.
"""
import os
import re
import sys

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))

CORE_LEVEL = {"util": 0, "smtp": 1, "proto": 1, "reply": 2, "rules": 3, "engine": 4, "report": 5}
OUTER = {"tool": 10, "proxy": 10, "daemon": 11}
# include/NAME.h -> the core area of the module it declares
HEADER_AREA = {
    "strbuf.h": "util", "diag.h": "util",
    "taxonomy.h": "smtp",
    "milter_proto.h": "proto", "milter_codec.h": "proto",
    "reply.h": "reply", "explain.h": "reply",
    "rules.h": "rules",
    "engine.h": "engine", "footer.h": "engine", "audit.h": "engine",
    "report.h": "report",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def area_of(path):
    """('core', area) or ('outer', name) or ('public', area) for a repo path."""
    rel = os.path.relpath(path, SRC).split(os.sep)
    if rel[0] == "include" and len(rel) == 2:
        return ("public", HEADER_AREA.get(rel[1]))
    if rel[0] == "milter" and len(rel) >= 3:
        if rel[1] == "core" and len(rel) == 4:
            return ("core", rel[2])
        if rel[1] in OUTER:
            return ("outer", rel[1])
    return (None, None)


def resolve(includer, name):
    """The repo file an #include "name" of includer refers to, or None."""
    here = os.path.dirname(includer)
    cands = [os.path.join(here, name)]
    if "/" in name:
        cands.append(os.path.join(SRC, "milter", "core", name))
    cands.append(os.path.join(SRC, "include", name))
    if area_of(includer) == ("outer", "daemon"):
        cands.append(os.path.join(SRC, "milter", "proxy", name))
    for c in cands:
        if os.path.isfile(c):
            return os.path.normpath(c)
    return None


def sources():
    for top in ("include", "milter"):
        for d, _, files in os.walk(os.path.join(SRC, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(d, f)


def level(kind, name):
    return CORE_LEVEL.get(name) if kind in ("core", "public") else OUTER.get(name)


def check(path, lineno, system, name, out):
    kind, area = area_of(path)
    where = f"{os.path.relpath(path, SRC)}:{lineno}"
    if kind is None:
        return
    if kind == "public" and area is None:
        out.append(f"{where}: include/{os.path.basename(path)} is not assigned to a core area "
                   "(tools/check-layers.py HEADER_AREA)")
        return
    if system:
        if kind in ("core", "public") and name.startswith("libmilter/"):
            out.append(f"{where}: the core must not use libmilter (<{name}>)")
        return
    target = resolve(path, name)
    if target is None:
        out.append(f"{where}: \"{name}\" is not a header of this tree")
        return
    tkind, tarea = area_of(target)
    trel = os.path.relpath(target, SRC)
    if tkind is None:
        return
    if kind == "outer" and tkind == "core":
        out.append(f"{where}: {area} includes the core's private header {trel}; "
                   "outer layers use the public headers in include/")
        return
    if kind == "outer" and tkind == "outer":
        if tarea != area and not (area == "daemon" and tarea == "proxy"):
            out.append(f"{where}: {area} must not include {tarea}'s header {trel}")
        return
    if kind in ("core", "public") and tkind == "outer":
        out.append(f"{where}: the core must not include the {tarea} layer ({trel})")
        return
    if kind == "outer":
        return                      # outer -> public core header: always fine
    if tarea is None:
        out.append(f"{where}: {trel} is not assigned to a core area")
        return
    if tarea == area:
        return
    if level(tkind, tarea) >= level(kind, area):
        out.append(f"{where}: {area} (level {CORE_LEVEL[area]}) must not include {tarea} "
                   f"(level {CORE_LEVEL[tarea]}): {trel}")


def main():
    out = []
    n = 0
    for path in sources():
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m:
                    n += 1
                    check(path, lineno, m.group(1) == "<", m.group(2), out)
    for o in out:
        print(o)
    print(f"check-layers: {n} includes, {len(out)} against the layers")
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
