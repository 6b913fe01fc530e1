#!/usr/bin/env bash
# tests/integration/explore_cli.sh - `weft explore` and `weft replay` on a real program.
#
#   explore_cli.sh WEFT_BINARY DET_PROGRAM
#
# DET_PROGRAM (det_program.c) holds the classic-bug programs. Through the fork server, explore
# must find each bug, write a failing and a shrunk schedule, and print the replay command;
# replay must reproduce the shrunk schedule byte for byte, report a divergence on the fixed
# program (or go on with --tolerant), and refuse malformed, truncated, version-mismatched and
# other programs' schedules with a clear message. Speaks TAP.
set -uo pipefail

weft=$(realpath "${1:?usage: explore_cli.sh WEFT_BINARY DET_PROGRAM}")
prog=$(realpath "${2:?usage: explore_cli.sh WEFT_BINARY DET_PROGRAM}")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

n=0
failed=0
out=$tmp/stdout
err=$tmp/stderr
rc=0

run() {
    rc=0
    "$weft" "$@" >"$out" 2>"$err" || rc=$?
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

# ---------------------------------------------------------------- explore finds, shrinks, writes
for bug in two_lock:deadlock race:assertion lost_wakeup:lost-wakeup \
           bounded_buffer:stall reentrant_read:deadlock select_frame:assertion; do
    name=${bug%%:*}
    kind=${bug#*:}
    run explore --seed 1 --out "out-$name" -- "$prog" "$name"
    check "explore $name: exits 1 (found)" rc_is 1
    check "explore $name: reports $kind" out_has "found $kind after"
    check "explore $name: writes both schedules" \
        test -s "out-$name/det_program.failing.schedule" -a -s "out-$name/det_program.shrunk.schedule"
    check "explore $name: the shrunk schedule replays byte-identically" \
        out_has "replays to a byte-identical schedule"
    check "explore $name: prints the replay command" out_has "replay it with:   weft replay"

    run replay "out-$name/det_program.shrunk.schedule" -- "$prog" "$name"
    check "replay $name: reproduced exactly (exit 0)" rc_is 0
    check "replay $name: says so" err_has "reproduced exactly"
done

run explore --seed 1 --out out-dl -- "$prog" two_lock
check "explore: the deadlock names both mutexes" out_has "mutex 'account_a'"
check "explore: and who holds them" out_has "held by T"
check "explore: the story marks the preemption" out_has "<- preemption"
check "explore: records the failing run into a trace database" \
    test -s out-dl/det_program.shrunk.trace.db

# ---------------------------------------------------------------- persistent mode
run explore --seed 1 --out out-pers -- "$prog" race persistent
check "persistent mode: finds the race" out_has "found assertion after"
check "persistent mode: the shrunk schedule replays byte-identically" \
    out_has "replays to a byte-identical schedule"
run replay out-pers/det_program.shrunk.schedule -- "$prog" race
check "persistent mode: its schedule replays in a plain run" rc_is 0
run explore --iterations 3000 -- "$prog" two_tasks persistent
check "persistent mode: 3000 clean schedules" out_has "no failure in 3000 schedules"

# ---------------------------------------------------------------- the fixed programs
run explore --strategy dfs:2 -- "$prog" two_lock fixed
check "dfs on the fixed two_lock: exits 0" rc_is 0
check "dfs on the fixed two_lock: exhausted" out_has "exhausted: [0-9]* schedules"

run explore --strategy dfs:1 --out out-dfs -- "$prog" two_lock
check "dfs:1 finds the two_lock deadlock" out_has "found deadlock"

run explore --strategy pct:2 --iterations 300 --out out-pct -- "$prog" reentrant_read
check "pct finds the re-entrant read deadlock" out_has "found deadlock"

run explore --iterations 200 --check-determinism -- "$prog" two_tasks
check "check-determinism on a deterministic program: no failure" rc_is 0
check "check-determinism: 200 schedules" out_has "no failure in 200 schedules"

# ---------------------------------------------------------------- replay on an edited program
sched=out-two_lock/det_program.shrunk.schedule
run replay "$sched" -- "$prog" two_lock fixed
check "replay on the fixed program: diverges (exit 1)" rc_is 1
check "replay: names the step" err_has "replay diverged at step"
check "replay: what was recorded and what happens now" err_has "recorded:"

run replay --tolerant "$sched" -- "$prog" two_lock fixed
check "replay --tolerant: runs to the end (exit 0)" rc_is 0
check "replay --tolerant: says it continued" err_has "continuing with fifo"

run replay --step "$sched" -- "$prog" two_lock </dev/null
check "replay --step without a terminal walks every decision" err_has "^step 5 "
check "replay --step shows what each task did in the recording" err_has "recorded: it "

# ---------------------------------------------------------------- a recorded trace, linearised
if "$weft" help record >/dev/null 2>&1; then
    "$weft" record -q -o tt.db -- "$prog" two_tasks >/dev/null 2>&1
    run replay --trace tt.db -- "$prog" two_tasks
    check "replay --trace of a recorded multi-threaded run: matched (exit 0)" rc_is 0
    check "replay --trace: says it followed every poll" err_has "matched: the deterministic run followed all"
    "$weft" record -q -o tl.db -- "$prog" two_lock fixed >/dev/null 2>&1
    run replay --trace tl.db -- "$prog" two_lock fixed
    check "replay --trace: a verdict either way" \
        grep -q -e "matched:" -e "linearised trace" -e "ended after following" "$err"
    run replay --trace /etc/hostname -- "$prog" two_tasks
    check "replay --trace of something that is no trace: refused (exit 2)" rc_is 2
fi

# ---------------------------------------------------------------- bad schedules are refused
head -c 200 "$sched" >truncated.schedule
run replay truncated.schedule -- "$prog" two_lock
check "a truncated schedule is refused (exit 2)" rc_is 2
check "with a clear message" err_has "refused: truncated.schedule"

grep -v '^end$' "$sched" >noend.schedule
run replay noend.schedule -- "$prog" two_lock
check "a schedule without its end is refused" err_has "truncated"

sed 's/^weft-schedule 1$/weft-schedule 9/' "$sched" >v9.schedule
run replay v9.schedule -- "$prog" two_lock
check "another format version is refused" err_has "format version 9"

sed -E '/^step 2 /s/run=T[0-9]+/run=T7/' "$sched" >bad.schedule
run replay bad.schedule -- "$prog" two_lock
check "a step naming an undefined task is refused" err_has "is not a defined task"

cp "$prog" "$tmp/other_program"
run replay "$sched" -- "$tmp/other_program" two_lock
check "another program's schedule is refused (exit 2)" rc_is 2
check "naming both programs" err_has "recorded for program 'det_program', not 'other_program'"

run explore -- /bin/true
check "a program that is not a weft program: exit 2" rc_is 2
check "with a message" err_has "before it built a weft runtime"

run explore --iterations 10 --time 5s -- "$prog" race
check "--iterations and --time together: usage error" rc_is 2

echo "1..$n"
exit $((failed > 0))
