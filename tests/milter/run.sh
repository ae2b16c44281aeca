#!/bin/sh
# run.sh - runs every miltertest script in tests/milter/ against the built
# daemon (miltertest plays the MTA).  Prints `miltertest: N passed, N failed`.
set -u
B=${B:?B must point at the build directory}
SRCDIR=${SRCDIR:?}
if ! command -v miltertest >/dev/null 2>&1; then
    echo "miltertest: not installed (make deps)" >&2
    exit 1
fi
pass=0; fail=0
for t in "$SRCDIR"/tests/milter/*.lua; do
    dir=$(mktemp -d /tmp/reword-mt.XXXXXX)
    name=$(basename "$t" .lua)
    conf="$SRCDIR/tests/data/milter/${name}.conf"
    [ -f "$conf" ] || conf="$SRCDIR/tests/data/milter/policy.conf"
    if timeout 120 miltertest -s "$t" -D BINARY="$B/milter-reword" -D CONF="$conf" \
            -D SOCKET="$dir/milter.sock" >"$dir/out" 2>&1; then
        pass=$((pass + 1)); echo "ok - $name"; sed 's/^/    /' "$dir/out" | grep -E '^    ok' || true
    else
        fail=$((fail + 1)); echo "not ok - $name"; sed 's/^/    /' "$dir/out"
    fi
    rm -rf "$dir"
done
echo "miltertest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
