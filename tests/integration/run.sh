#!/bin/bash
# tests/integration/run.sh - runs every tests/integration/t_*.sh (in name
# order, each in its own bash process with a time limit), prints each file's
# result and the total as the line
#   integration: N passed, N failed
# and exits non-zero if anything failed. Called by `make integration` as
#   B=/work/main/build SRCDIR=/work/main tests/integration/run.sh
# Arguments (optional): test file names to run instead of all, e.g.
#   tests/integration/run.sh t_nullmilter.sh
# Needs root (private Postfix instances): as another user it prints a SKIP line
# and exits 0. Fails (exit 1) when Postfix or swaks is not installed.
# Environment: TEST_TIMEOUT (seconds per file, default 300), KEEP_LAB=1 (keep
# every lab dir), PF_VERBOSE=1 (print SMTP transcripts).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
: "${SRCDIR:=$(cd "$HERE/../.." && pwd)}"
: "${B:=$SRCDIR/build}"
export SRCDIR B

if [ "$(id -u)" -ne 0 ]; then
    echo "integration: SKIP: not root (private Postfix instances need root)"
    exit 0
fi
missing=""
for p in /usr/sbin/postfix /usr/sbin/postconf /usr/sbin/postmap /usr/lib/postfix/sbin/master; do
    [ -x "$p" ] || missing="$missing $p"
done
command -v swaks >/dev/null 2>&1 || missing="$missing swaks"
if [ -n "$missing" ]; then
    echo "integration: FAIL: missing$missing (install with: make deps)"
    echo "integration: 0 passed, 1 failed"
    exit 1
fi

. "$HERE/lib.sh"      # for lab_procs_under; defines functions only

LAB_ROOT=$(mktemp -d /tmp/mrint.XXXXXX) || { echo "integration: FAIL: mktemp"; exit 1; }
chmod 0755 "$LAB_ROOT"
export LAB_ROOT

if [ "$#" -gt 0 ]; then
    files=()
    for a in "$@"; do files+=("$HERE/$(basename "$a")"); done
else
    files=("$HERE"/t_*.sh)
fi

total_pass=0
total_fail=0
results=()
tpid=""
# Each test runs under timeout(1), in its own process group: pass an INT/TERM
# on to it (its traps stop its Postfix and milters), then give up.
trap 'echo "integration: interrupted"; [ -n "$tpid" ] && kill -TERM "$tpid" 2>/dev/null && wait "$tpid"; exit 130' INT TERM
for t in "${files[@]}"; do
    name=$(basename "$t")
    if [ ! -f "$t" ]; then
        results+=("FAIL $name (no such file)")
        total_fail=$((total_fail + 1))
        continue
    fi
    out=$LAB_ROOT/$name.out
    echo "== $name"
    t0=$(date +%s.%N)
    : >"$out"       # exists before tail starts following it
    timeout -k 30 "${TEST_TIMEOUT:-300}" bash "$t" >>"$out" 2>&1 </dev/null &
    tpid=$!
    # Show the output as it comes, indented (so that only the total line
    # below starts with "integration:").
    tail -n +1 -s 0.1 -f --pid="$tpid" "$out" 2>/dev/null | sed -u 's/^/    /'
    wait "$tpid"
    rc=$?
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

    note=""
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    if [ -z "$summary" ]; then
        p=0; f=1; note="; no summary line"
    else
        p=${summary%% passed*}
        f=${summary#*, }; f=${f%% failed}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    fi
    [ "$rc" -eq 124 ] && note="$note; timed out after ${TEST_TIMEOUT:-300}s"
    [ "$rc" -ne 0 ] && note="$note; exit $rc"

    # Whatever the test left running under the lab root is a failure too.
    left=$(lab_procs_under "$LAB_ROOT")
    if [ -n "$left" ]; then
        echo "$left" | sed 's/^/    # leftover process: /'
        echo "$left" | awk '{ print $1 }' | xargs -r kill -KILL 2>/dev/null
        f=$((f + 1)); note="$note; left processes running"
    fi

    if [ "$f" -eq 0 ]; then st=PASS; else st=FAIL; fi
    results+=("$st $name ($p passed, $f failed, ${secs}s$note)")
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done

echo "== results"
for r in "${results[@]}"; do echo "$r"; done
# Passed labs are gone already; keep outputs and labs when something failed.
[ "$total_fail" -eq 0 ] && rm -f "$LAB_ROOT"/*.out
rmdir "$LAB_ROOT" 2>/dev/null || echo "test outputs and lab dirs kept under $LAB_ROOT"
echo "integration: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
