#!/bin/sh
# includes.sh - CLI tests of reading rule files from disk: every file or
# directory that cannot be read is an include-failed error naming the path
# and the reason (also when only the run-as user cannot read it:
# `milter-reword -n -u USER`), a readable empty glob directory is fine, and
# files or directories others may write get unsafe-permissions.
set -eu
: "${REWORD:?}" "${SRCDIR:?}"
exec python3 "$SRCDIR/tests/cli/includes_cases.py" "$REWORD" "$SRCDIR"
