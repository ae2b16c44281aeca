#!/bin/sh
# taxonomy_xml.sh - cross-checks conf/taxonomy/*.tsv against the IANA
# "SMTP Enhanced Status Codes" registry XML and the basic code list in the
# reference copy ($SRCDIR/../shared/reference), with tests/cli/taxonomy_xml.py.
# That copy is not shipped; without it the check is skipped (exit 0).
set -eu
: "${SRCDIR:?SRCDIR must point at the source tree}"
REF="$SRCDIR/../shared/reference"
if [ ! -f "$REF/iana-smtp-enhanced-status-codes.xml" ] || [ ! -f "$REF/basic-codes.csv" ]; then
    echo "SKIP: ../shared/reference not present, taxonomy cross-check skipped"
    exit 0
fi
exec python3 "$SRCDIR/tests/cli/taxonomy_xml.py" "$SRCDIR" "$REF"
