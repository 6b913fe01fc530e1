#!/usr/bin/env bash
# tests/book/test_book_sample.sh - a book page's code sample is real code that works.
#
#   test_book_sample.sh PAGE.md SAMPLE.c SAMPLE_BINARY
#
# PAGE.md shows the sample inside a ```c fence between a `<!-- begin sample ... -->` line that
# names the file (`examples/NAME.c`) and `<!-- end sample -->`; it must be, line for line, what
# SAMPLE.c holds between its `/* [begin sample] */` and `/* [end sample] */` lines. Meson
# compiles SAMPLE.c with the project's warnings into SAMPLE_BINARY; this test runs it and
# compares what it prints with the page's expected output, a fence between a
# `<!-- begin output of examples/NAME.c -->` line and `<!-- end output -->`. A page may show
# several samples: the file name in the markers says which is which. Speaks TAP.
set -uo pipefail

page=${1:?}
sample=${2:?}
binary=${3:?}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

name=examples/$(basename "$sample")

# between BEGIN END FILE [NAME]: the lines strictly between the two markers, without ```
# fences; with NAME, only blocks whose BEGIN line mentions NAME.
between() {
    awk -v b="$1" -v e="$2" -v n="${4:-}" 'index($0, e) == 1 { inside = 0 }
         inside && !/^```/ { print }
         index($0, b) == 1 && (n == "" || index($0, n) > 0) { inside = 1 }' "$3"
}

failed=0
between '<!-- begin sample' '<!-- end sample' "$page" "$name" >"$tmp/page.c"
between '/* [begin sample] */' '/* [end sample] */' "$sample" >"$tmp/file.c"
if [ -s "$tmp/page.c" ] && diff -u "$tmp/file.c" "$tmp/page.c" >"$tmp/diff"; then
    echo "ok 1 - the page's sample is identical to ${sample##*/}"
else
    failed=1
    echo "not ok 1 - the page's sample is identical to ${sample##*/}"
    { echo "sample on the page differs (or is missing):"; cat "$tmp/diff"; } >&2
fi

between '<!-- begin output' '<!-- end output' "$page" "$name" >"$tmp/expected"
"$binary" >"$tmp/actual" 2>"$tmp/stderr"
rc=$?
if [ $rc -eq 0 ] && [ -s "$tmp/expected" ] && diff -u "$tmp/expected" "$tmp/actual" >"$tmp/diff"; then
    echo "ok 2 - the sample prints what the page says"
else
    failed=1
    echo "not ok 2 - the sample prints what the page says"
    { echo "exit code $rc; diff of expected and actual output:"; cat "$tmp/diff" "$tmp/stderr"; } >&2
fi

echo "1..2"
exit $failed
