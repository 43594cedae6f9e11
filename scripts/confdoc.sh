#!/bin/sh
# Puts the output of "postern check -k" (the key reference drawn from the
# key tables) into the KEYS part of docs/man/postern.conf.5.scd. Run it
# after adding or changing a key; unit_postern_confdoc fails until then.
#   scripts/confdoc.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
page=docs/man/postern.conf.5.scd
ref=$(mktemp)
trap 'rm -f "$ref"' EXIT
"$build/bin/postern" check -k >"$ref"
awk -v ref="$ref" '
    /^# KEYS$/ { print; print ""; while ((getline l < ref) > 0) print l; skip = 1; next }
    skip && /^# / { skip = 0 }
    !skip { print }
' "$page" >"$page.new"
mv "$page.new" "$page"
