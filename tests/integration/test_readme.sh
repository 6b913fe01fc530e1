#!/usr/bin/env bash
# tests/integration/test_readme.sh - the README's code example is real code that works.
#
#   test_readme.sh README.md EXAMPLE.c EXAMPLE_BINARY
#
# The example in README.md sits between the markers `<!-- begin example ... -->` and
# `<!-- end example -->`, inside a ```c fence. It must be byte for byte the file EXAMPLE.c,
# which meson compiles with the project's warnings into EXAMPLE_BINARY; this test then runs it
# and checks that it ticks three times, 10 ms apart. Speaks TAP.
set -uo pipefail

readme=${1:?}
example=${2:?}
binary=${3:?}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk '/<!-- end example/ { inside = 0 }
     inside && !/^```/ { print }
     /<!-- begin example/ { inside = 1 }' "$readme" >"$tmp/from_readme.c"

failed=0
if [ -s "$tmp/from_readme.c" ] && diff -u "$example" "$tmp/from_readme.c" >"$tmp/diff"; then
    echo "ok 1 - the README's example is identical to ${example##*/}"
else
    failed=1
    echo "not ok 1 - the README's example is identical to ${example##*/}"
    { echo "README example differs (or no example between the markers):"; cat "$tmp/diff"; } >&2
fi

start=$(date +%s%N)
out=$("$binary" 2>&1)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ $rc -eq 0 ] && [ "$out" = $'tick 1\ntick 2\ntick 3' ] && [ $ms -ge 30 ]; then
    echo "ok 2 - the example ticks three times in ${ms} ms (at least 30)"
else
    failed=1
    echo "not ok 2 - the example ticks three times in at least 30 ms"
    { echo "exit code $rc after ${ms} ms; output:"; echo "$out"; } >&2
fi

echo "1..2"
exit $failed
