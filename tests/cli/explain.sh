#!/bin/sh
# explain.sh - CLI tests of `reword explain` and `reword taxonomy`: runs the
# built tool on real-world reply texts and checks the parsed codes, the
# explanations, JSON shape and exit statuses (tests/cli/explain_cases.py).
set -eu
: "${REWORD:?REWORD must point at the built reword binary}"
: "${SRCDIR:?SRCDIR must point at the source tree}"
exec python3 "$SRCDIR/tests/cli/explain_cases.py" "$REWORD"
