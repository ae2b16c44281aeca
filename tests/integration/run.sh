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

. "$HERE/runner.sh"
run_test_files integration "${TEST_TIMEOUT:-300}" "$HERE" "$@"
