#!/bin/sh
# Installs every Debian package milter-reword needs to build, test and demo
# (lists in tools/deps/*.txt).
# Idempotent: apt-get skips what is already there. Postfix is installed with
# debconf "No configuration" so the system instance is neither set up nor
# started; the tests run their own private instances.
set -eu
# The package lists live in tools/deps/*.txt, one package per line, so each
# part of the project (build, Postfix tests, fuzzing, sendmail, ...) names
# its own.
here=$(dirname "$0")
PKGS=$(cat "$here"/deps/*.txt | sed 's/#.*//' | tr -s ' \t\n' ' ')
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: run as root (apt-get install needs it)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
# Postfix must not run as the system MTA on a build/test machine unless the
# admin set it up; with "No configuration" it has no main.cf and stays down.
