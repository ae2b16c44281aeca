#!/bin/sh
# layers.sh - tests of tools/check-layers.py: the tree itself passes, and in
# a small planted tree each kind of include against the layers is reported
# with file:line (a lower core area including a higher one, two areas of
# one level, an outer layer using a private core header, the core using an
# outer layer or libmilter, tool using the daemon), while allowed ones are not.
set -eu
: "${SRCDIR:?}"
CHECK="$SRCDIR/tools/check-layers.py"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }

if out=$(python3 "$CHECK" "$SRCDIR"); then ok "the tree keeps the layers: $out"; else bad "the tree: $out"; fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/include" "$T/milter/core/util" "$T/milter/core/smtp" "$T/milter/core/proto" \
         "$T/milter/core/rules" "$T/milter/tool" "$T/milter/daemon" "$T/milter/proxy"
printf '/* strbuf */\n' > "$T/include/strbuf.h"
printf '/* rules */\n' > "$T/include/rules.h"
printf '/* private */\n' > "$T/milter/core/rules/template.h"
printf '/* daemon */\n' > "$T/milter/daemon/daemon.h"
printf '/* proxy */\n' > "$T/milter/proxy/chain.h"
printf '#include "strbuf.h"\n#include "rules/template.h"\n' > "$T/milter/core/util/up.c"
printf '#include "strbuf.h"\n#include "rules.h"\n#include "rules/template.h"\n' > "$T/milter/core/rules/fine.c"
printf '#include "taxonomy.h"\n' > "$T/milter/core/proto/side.c"
printf '/* taxonomy */\n' > "$T/include/taxonomy.h"
printf '#include <stdio.h>\n#include <libmilter/mfapi.h>\n#include "../../daemon/daemon.h"\n' > "$T/milter/core/rules/outer.c"
printf '#include "rules.h"\n#include "rules/template.h"\n#include "../daemon/daemon.h"\n' > "$T/milter/tool/t.c"
printf '#include "rules.h"\n#include "chain.h"\n' > "$T/milter/daemon/d.c"

if out=$(python3 "$CHECK" "$T"); then bad "planted tree passed: $out"; else ok "planted tree fails"; fi
expect() {   # expect PATTERN WHAT
    if printf '%s\n' "$out" | grep -q -- "$1"; then ok "$2"; else bad "$2: no line like '$1' in: $out"; fi
}
expect "milter/core/util/up.c:2: util (level 0) must not include rules" "lower area including a higher one"
expect "milter/core/proto/side.c:1: proto (level 1) must not include smtp" "two areas of one level"
expect "milter/core/rules/outer.c:2: the core must not use libmilter" "core using libmilter"
expect "milter/core/rules/outer.c:3: the core must not include the daemon layer" "core including an outer layer"
expect "milter/tool/t.c:2: tool includes the core's private header" "outer layer using a private header"
expect "milter/tool/t.c:3: tool must not include daemon" "tool including the daemon"
if printf '%s\n' "$out" | grep -q "fine.c\|d.c:"; then bad "allowed includes reported: $out"; else ok "allowed includes pass"; fi
expect "against the layers" "summary line"
echo "layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
