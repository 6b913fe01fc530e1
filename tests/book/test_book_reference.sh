#!/usr/bin/env bash
# tests/book/test_book_reference.sh - the book's reference chapter says what the code says.
#
#   test_book_reference.sh REFERENCE.md GEN_EVENTS WEFT
#
# The event table of REFERENCE.md (between `<!-- begin events -->` and `<!-- end events -->`)
# must be exactly what GEN_EVENTS (docs/book/gen_events.c) prints from the X-macro table in
# instrument/events.h, and the command list (between `<!-- begin weft help -->` and
# `<!-- end weft help -->`, in a fence) exactly what `weft help` prints. When a row of the
# table or a command changes, the fix is to paste the new output into the page. Speaks TAP.
set -uo pipefail

page=${1:?usage: test_book_reference.sh REFERENCE.md GEN_EVENTS WEFT}
gen=${2:?}
weft=${3:?}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

between() {
    awk -v b="$1" -v e="$2" 'index($0, e) == 1 { inside = 0 }
         inside && !/^```/ { print }
         index($0, b) == 1 { inside = 1 }' "$3"
}

failed=0
n=0
compare() { # DESCRIPTION EXPECTED ACTUAL
    n=$((n + 1))
    if [ -s "$2" ] && diff -u "$2" "$3" >"$tmp/diff"; then
        echo "ok $n - $1"
    else
        failed=1
        echo "not ok $n - $1"
        { echo "page (-) and program (+) differ; paste the program's output into the page:"
          cat "$tmp/diff"; } >&2
    fi
}

between '<!-- begin events' '<!-- end events' "$page" >"$tmp/page-events"
if "$gen" >"$tmp/gen-events"; then
    compare "the event reference matches instrument/events.h" "$tmp/page-events" "$tmp/gen-events"
else
    n=$((n + 1)); failed=1; echo "not ok $n - the event generator runs"
fi

between '<!-- begin weft help' '<!-- end weft help' "$page" >"$tmp/page-help"
"$weft" help >"$tmp/weft-help" 2>&1
compare "the command list matches 'weft help'" "$tmp/page-help" "$tmp/weft-help"

echo "1..$n"
exit $failed
