#!/usr/bin/env bash
# tests/simnet/explore_simnet.sh - `weft explore` and `weft replay` on a program whose bug is
# in how it reads frames from a socket, run over the simulated network.
#
#   explore_simnet.sh WEFT_BINARY SIMNET_PROGRAM
#
# explore must find the torn frame (a select that drops a half-read frame), shrink it to one
# preemption and print the story; replay must reproduce it exactly; the cancel-safe reader
# must pass with --check-determinism; a malformed WEFT_SIMNET must be refused clearly. TAP.
set -uo pipefail

weft=$(realpath "${1:?usage: explore_simnet.sh WEFT_BINARY SIMNET_PROGRAM}")
prog=$(realpath "${2:?usage: explore_simnet.sh WEFT_BINARY SIMNET_PROGRAM}")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
unset WEFT_SIMNET WEFT_SCHED

n=0
failed=0
out=$tmp/stdout
err=$tmp/stderr
rc=0

run() {
    rc=0
    "$@" >"$out" 2>"$err" || rc=$?
}

check() {
    local desc=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $desc"
    else
        failed=$((failed + 1))
        echo "not ok $n - $desc"
        {
            echo "not ok $n - $desc: exit code $rc"
            sed 's/^/    stdout: /' "$out" | head -n 60
            sed 's/^/    stderr: /' "$err" | head -n 30
        } >&2
    fi
}

rc_is() { [ "$rc" -eq "$1" ]; }
out_has() { grep -q -- "$1" "$out"; }
err_has() { grep -q -- "$1" "$err"; }

run "$weft" explore --seed 1 --out found -- "$prog" select_frame
check "explore: finds the torn frame (exit 1)" rc_is 1
check "explore: an assertion" out_has "found assertion after"
check "explore: the frame_intact check" out_has "frame_intact"
check "explore: shrunk to one preemption" out_has "shrunk: [0-9]* -> 1 preemptions"
check "explore: the story shows the reader waiting on the socket" \
    out_has "waits to read from 'tcp_stream'"
check "explore: the shrunk schedule replays byte-identically" \
    out_has "replays to a byte-identical schedule"
check "explore: writes the shrunk schedule" test -s found/simnet_program.shrunk.schedule

run "$weft" replay found/simnet_program.shrunk.schedule -- "$prog" select_frame
check "replay: reproduced exactly (exit 0)" rc_is 0
check "replay: says so" err_has "reproduced exactly"

run "$weft" explore --iterations 500 --check-determinism -- "$prog" select_frame fixed
check "the cancel-safe reader: 500 schedules, deterministic, no failure" \
    out_has "no failure in 500 schedules"

run "$weft" explore --iterations 300 -- "$prog" frames
check "frames: every cut decodes" out_has "no failure in 300 schedules"

run env WEFT_SIMNET=buffer=lots WEFT_SCHED=fifo "$prog" frames
check "a malformed WEFT_SIMNET is refused" err_has "WEFT_SIMNET: bad value in 'buffer=lots'"

echo "1..$n"
[ "$failed" -eq 0 ]
