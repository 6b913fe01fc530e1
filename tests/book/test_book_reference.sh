#!/usr/bin/env bash
# tests/book/test_book_reference.sh - the book's reference chapter says what the code says.
#
#   test_book_reference.sh REFERENCE.md GEN_EVENTS WEFT
#
# The event table of REFERENCE.md (between `<!-- begin events -->` and `<!-- end events -->`)
# must be exactly what GEN_EVENTS (docs/book/gen_events.c) prints from the X-macro table in
# instrument/events.h (when a row changes, the fix is to paste the program's output into the
# page), and the command table (between `<!-- begin weft commands` and `<!-- end weft
# commands -->`) must list exactly the commands `weft help` lists, no more, no fewer; the
# descriptions there are the book's own words. Speaks TAP.
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

# Command names: the rows "| `weft NAME` |" of the page; the indented lines under
# "commands:" in `weft help` (plus `help` itself, which the page lists too).
between '<!-- begin weft commands' '<!-- end weft commands' "$page" |
    sed -n 's/^| `weft \([a-z-]*\)`.*/\1/p' | sort >"$tmp/page-commands"
if "$weft" help >"$tmp/weft-help" 2>&1; then
    awk '/^commands:/ { inside = 1; next } inside && /^  [a-z]/ { print $1 } inside && /^$/ { inside = 0 }' \
        "$tmp/weft-help" | sort >"$tmp/weft-commands"
    compare "the command table lists exactly the commands of 'weft help'" \
        "$tmp/page-commands" "$tmp/weft-commands"
else
    n=$((n + 1)); failed=1; echo "not ok $n - weft help runs"
fi

echo "1..$n"
exit $failed
