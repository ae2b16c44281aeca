#!/bin/bash
# tests/sendmail/run.sh - milter-reword with a real sendmail 8.17: makes sure
# the private sendmail prefix is there (first run: apt-get download +
# dpkg -x into $B/sendmail-prefix, see lib.sh; later runs reuse it), then
# runs every tests/sendmail/t_*.sh (in name order, each in its own bash
# process with a time limit), prints each file's result and the total as
# the line
#   sendmail: N passed, N failed
# and exits non-zero if anything failed. Called by `make sendmail-tests` as
#   B=/work/main/build SRCDIR=/work/main tests/sendmail/run.sh
# Arguments (optional): test file names to run instead of all.
# Exit status: 0 all passed (or SKIP: not root); 1 a failure; 77 SKIP: the
# sendmail packages are not cached and could not be downloaded (offline) -
# `make sendmail-tests` treats 77 as a skip unless SENDMAIL_REQUIRED=1.
# Environment: TEST_TIMEOUT (seconds per file, default 60), KEEP_LAB=1,
# PF_VERBOSE=1 (SMTP transcripts), SM_PREFIX (where the extracted packages are cached).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
: "${SRCDIR:=$(cd "$HERE/../.." && pwd)}"
: "${B:=$SRCDIR/build}"
export SRCDIR B

if [ "$(id -u)" -ne 0 ]; then
    echo "sendmail: SKIP: not root (a private sendmail daemon needs root)"
    exit 0
fi
fail_early() {
    echo "sendmail: FAIL: $*"
    echo "sendmail: 0 passed, 1 failed"
    exit 1
}
missing=""
for c in swaks python3 "${CC:-cc}" unshare ss flock timeout; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -f /usr/include/libmilter/mfapi.h ] || missing="$missing libmilter-dev"
[ -x "$B/milter-reword" ] || missing="$missing $B/milter-reword(make all)"
[ -z "$missing" ] || fail_early "missing$missing (install with: make deps)"

. "$HERE/lib.sh"      # functions only (sm_prefix_ensure, lab_procs_under)

t0=$(date +%s.%N)
sm_prefix_ensure
rc=$?
if [ "$rc" = 2 ]; then
    echo "sendmail: SKIP: the sendmail packages ($SM_PACKAGES) are not cached in $SM_PREFIX and could not be downloaded (offline?)"
    exit 77
fi
[ "$rc" = 0 ] || fail_early "could not prepare the private sendmail in $SM_PREFIX"
echo "sendmail: private prefix $SM_PREFIX ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s: $(paste -sd, "$SM_PREFIX/VERSIONS")"

LAB_ROOT=$(mktemp -d /tmp/mrsm.XXXXXX) || fail_early "mktemp"
chmod 0755 "$LAB_ROOT"
export LAB_ROOT

. "$SRCDIR/tests/integration/runner.sh"
run_test_files sendmail "${TEST_TIMEOUT:-60}" "$HERE" "$@"
