#!/bin/sh
# rules.sh - CLI tests of the rule-driven commands: `reword check` output
# format, sorting and exit statuses (0 clean, 1 errors, --strict for
# warnings), and `reword explain -c` (rewritten reply and rule name, with
# --stage/--source narrowing) on the shipped default rules.
set -eu
: "${REWORD:?}" "${SRCDIR:?}"
exec python3 "$SRCDIR/tests/cli/rules_cases.py" "$REWORD" "$SRCDIR"
