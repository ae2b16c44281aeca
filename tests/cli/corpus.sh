#!/bin/sh
# corpus.sh - the shipped rules (conf/milter-reword.conf with its packs)
# against the corpus of real rejection texts (tests/data/corpus/*.tsv):
# every row must be recognised by a rule that is not the catch-all, get one
# of the row's accepted enhanced codes and keep its basic code.
set -eu
: "${REWORD:?}" "${SRCDIR:?}"
exec python3 "$SRCDIR/tests/cli/corpus_cases.py" "$REWORD" "$SRCDIR"
