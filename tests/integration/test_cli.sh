#!/usr/bin/env bash
# tests/integration/test_cli.sh - the `weft` command's interface, as a user and a script see it.
#
#   test_cli.sh WEFT_BINARY PROJECT_VERSION
#
# Checks exit codes (0 ok, 2 usage), which stream each message goes to, that --version agrees
# with meson's project version, and that `weft demo` runs to the end with its aborted task
# reported as cancelled. Speaks TAP, so meson shows which check failed.
set -uo pipefail

weft=${1:?usage: test_cli.sh WEFT_BINARY PROJECT_VERSION}
version=${2:?usage: test_cli.sh WEFT_BINARY PROJECT_VERSION}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
out=$tmp/stdout
err=$tmp/stderr
rc=0

# run ARGS...: run weft, keeping stdout, stderr and the exit code for the checks that follow.
run() {
    rc=0
    "$weft" "$@" >"$out" 2>"$err" || rc=$?
}

# check DESCRIPTION CONDITION...: one TAP line; on failure show what weft printed.
check() {
    local desc=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $desc"
    else
        failed=$((failed + 1))
        echo "not ok $n - $desc"
        # meson shows a TAP test's stderr, not its stdout, with --print-errorlogs.
        {
            echo "not ok $n - $desc: exit code $rc"
            sed 's/^/    stdout: /' "$out" | head -n 40
            sed 's/^/    stderr: /' "$err" | head -n 40
        } >&2
    fi
}

rc_is() { [ "$rc" -eq "$1" ]; }
out_has() { grep -q -- "$1" "$out"; }
err_has() { grep -q -- "$1" "$err"; }
out_empty() { [ ! -s "$out" ]; }
err_empty() { [ ! -s "$err" ]; }
# A usage error: exit 2, nothing on stdout, a one-line message naming the problem first and
# then the usage, on stderr.
usage_error() {
    rc_is 2 && out_empty && head -n 1 "$err" | grep -q -- "$1" && grep -q '^usage: weft' "$err"
}

run --version
check "--version prints 'weft $version' and exits 0" \
    eval 'rc_is 0 && [ "$(cat "$out")" = "weft $version" ] && err_empty'

for flag in --help -h; do
    run "$flag"
    check "$flag exits 0 with the usage and the commands on stdout" \
        eval 'rc_is 0 && out_has "^usage: weft" && out_has "^  demo " && out_has "^  lab " && err_empty'
done

run help demo
check "help demo shows the demo's usage and options" \
    eval 'rc_is 0 && out_has "^usage: weft demo" && out_has "--workers"'

run lab --help
check "lab --help shows the lab verbs" eval 'rc_is 0 && out_has "^usage: weft lab list"'

run
check "no command: exit 2, usage on stderr" eval 'usage_error "no command"'

run frobnicate
check "unknown command: exit 2, names it, usage on stderr" eval "usage_error \"unknown command 'frobnicate'\""

run --frobnicate
check "unknown flag: exit 2, names it, usage on stderr" eval "usage_error \"unknown option '--frobnicate'\""

run help frobnicate
check "help for an unknown command: exit 2" eval "usage_error \"no such command 'frobnicate'\""

run demo --frobnicate
check "unknown demo argument: exit 2 with the demo's usage" \
    eval "rc_is 2 && out_empty && err_has \"unexpected argument '--frobnicate'\" && err_has '^usage: weft demo'"

run demo --workers 0
check "demo --workers 0 is refused" eval 'rc_is 2 && err_has "^usage: weft demo"'

run demo
check "demo exits 0" rc_is 0
check "demo reports the aborted sleeper as cancelled" out_has "sleeper .*cancelled"
check "demo joins all 5 set members" out_has "5 of 5 joined"
check "demo reports every outcome" \
    eval 'out_has "ticker .*finished, value 3" && out_has "yielder .*finished, value 1000" &&
          out_has "slow_lookup .*finished, value 42"'
check "demo prints nothing on stderr" err_empty

run demo --workers 1
check "demo --workers 1 exits 0" eval 'rc_is 0 && out_has "with 1 worker;"'

run lab list
check "lab list: every lab, 01 to 18, and where to start" \
    eval 'rc_is 0 && out_has "^01 .*stalled heartbeat" && out_has "^18 " && out_has "lab run 01"'

run lab show 01
check "lab show 01 prints the handout" eval 'rc_is 0 && out_has "^# Lab 01"'

run lab check 99
check "lab check 99: no such lab, exit 2" eval 'rc_is 2 && err_has "there is no lab 99"'

run lab run 1
check "lab run 1: not a lab number, exit 2" eval 'rc_is 2 && err_has "not a lab number"'

run lab dance 01
check "lab with an unknown verb: exit 2" eval "rc_is 2 && err_has \"unknown verb 'dance'\""

run lab run 01
check "lab run 01 tells the story, runs the starter once and shows the grader's finding" \
    eval 'rc_is 0 && out_has "^lab 01: The stalled heartbeat" && out_has "FAIL heartbeat-gap" &&
          out_has "replay it:" && out_has "weft lab check 01"'

echo "1..$n"
exit $((failed > 0))
