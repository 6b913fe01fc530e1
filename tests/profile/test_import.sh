#!/usr/bin/env bash
# tests/profile/test_import.sh - `weft import` of a real LTTng session.
#
#   test_import.sh WEFT PROGRAM PROVIDER_SO
#
# Records PROGRAM (tests/profile/profile_program: two workers, contention, a channel) twice in
# one LTTng session with every weft:* event and the vtid/vpid/procname contexts, the probes
# preloaded into the program only (as tests/lttng/test_lttng.sh does); checks that `weft
# import` asks which process to take, imports the first one's events with --pid, and checks that the trace database holds what the program did: for every
# "expect EVENT COUNT" line the program prints, exactly COUNT events of that type; every poll
# paired (as many polls as poll_begin events, each with an end); the workers recognised as
# such; and that `weft report`, `weft export --chrome` and `weft console` read the result.
#
# Exit 77 (skip) only when the LTTng tools are not installed. Speaks TAP.
set -uo pipefail

weft=${1:?usage: test_import.sh WEFT PROGRAM PROVIDER_SO}
prog=${2:?}
provider=${3:?}

for tool in lttng lttng-sessiond sqlite3; do
    if ! command -v "$tool" >/dev/null; then
        echo "1..0 # SKIP $tool is not installed (scripts/bootstrap.sh installs it)"
        exit 77
    fi
done

tmp=$(mktemp -d)
session=weft-import-$$
started_pid=
if [ "$(id -u)" -ne 0 ]; then
    export LTTNG_HOME=$tmp/home
    mkdir -p "$LTTNG_HOME"
    pidfile=$LTTNG_HOME/.lttng/lttng-sessiond.pid
else
    pidfile=/var/run/lttng/lttng-sessiond.pid
fi
cleanup() {
    lttng destroy "$session" >/dev/null 2>&1
    if [ -n "$started_pid" ]; then
        kill "$started_pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    echo "not ok $n - $1" >&2
}
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
bail() {
    echo "Bail out! $1"
    echo "Bail out! $1" >&2
    [ -f "${2:-$tmp/cmd.log}" ] && sed 's/^/    /' "${2:-$tmp/cmd.log}" >&2
    exit 1
}

# ---------------------------------------------------------------- record
if ! lttng list >/dev/null 2>&1; then
    lttng-sessiond --daemonize --no-kernel >"$tmp/cmd.log" 2>&1 ||
        lttng list >/dev/null 2>&1 || bail "could not start lttng-sessiond"
    started_pid=$(cat "$pidfile" 2>/dev/null)
    [ -n "$started_pid" ] || bail "lttng-sessiond started but wrote no pid file ($pidfile)"
fi
trace=$tmp/trace
{
    lttng create "$session" --output="$trace" &&
        lttng enable-event --userspace --session="$session" 'weft:*' &&
        lttng add-context --userspace --session="$session" -t vtid -t vpid -t procname &&
        lttng start "$session"
} >"$tmp/cmd.log" 2>&1 || bail "could not create and start session $session"
preload=$provider
asan=$(ldd "$prog" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')
[ -n "$asan" ] && preload="$asan $provider"
# Twice: the session then holds two weft processes, as a system-wide one would.
LD_PRELOAD=$preload "$prog" >"$tmp/expect" 2>"$tmp/prog.err" &
pid1=$!
wait $pid1
rc1=$?
LD_PRELOAD=$preload "$prog" >"$tmp/expect2" 2>>"$tmp/prog.err" &
pid2=$!
wait $pid2
rc2=$?
lttng stop "$session" >"$tmp/cmd.log" 2>&1 || bail "lttng stop failed"
lttng destroy "$session" >>"$tmp/cmd.log" 2>&1 || bail "lttng destroy failed"
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] || bail "the traced program exited $rc1, $rc2" "$tmp/prog.err"
ok "recorded the program twice in LTTng session $session (pids $pid1 and $pid2)"

# ---------------------------------------------------------------- import
db=$tmp/t.db
rc=0
"$weft" import "$trace" -o "$db" >/dev/null 2>"$tmp/import.err" || rc=$?
check "two processes and no --pid: exit 1, both pids listed" \
    bash -c "[ $rc -eq 1 ] && grep -q ' $pid1 (' '$tmp/import.err' && grep -q ' $pid2 (' '$tmp/import.err'"
if "$weft" import --pid "$pid1" "$trace" -o "$db" >"$tmp/import.out" 2>"$tmp/import.err"; then
    ok "weft import --pid $pid1: $(cat "$tmp/import.err")"
else
    bail "weft import failed" "$tmp/import.err"
fi
q() { sqlite3 -batch -noheader "$db" "$1"; }
check "the database is complete" [ "$(q "SELECT value FROM meta WHERE key = 'complete'")" = 1 ]
check "meta.pid is the process chosen" [ "$(q "SELECT value FROM meta WHERE key = 'pid'")" = "$pid1" ]
check "meta.program is the program's name" \
    [ "$(q "SELECT value FROM meta WHERE key = 'program'")" = "$(basename "$prog" | cut -c1-15)" ]

while read -r word event want; do
    [ "$word" = expect ] || continue
    got=$(q "SELECT count(*) FROM events e JOIN event_types t USING (type) WHERE t.name = '$event'")
    check "$event: $want events (the database has $got)" [ "$got" -eq "$want" ]
done <"$tmp/expect"

begins=$(q "SELECT count(*) FROM ev_task_poll_begin")
check "every poll_begin became a poll ($begins)" [ "$(q 'SELECT count(*) FROM polls')" -eq "$begins" ]
check "every poll has its end" [ "$(q 'SELECT count(*) FROM polls WHERE end_ts IS NULL')" -eq 0 ]
check "polls by two worker threads" \
    [ "$(q "SELECT count(DISTINCT p.thread) FROM polls p JOIN threads t USING (thread)
            WHERE t.kind = 'worker'")" -eq 2 ]
check "tasks keep their names and spawn locations" \
    [ "$(q "SELECT count(*) FROM tasks WHERE name = 'client' AND file LIKE '%profile_program.c'")" -eq 4 ]
check "the mutex's waits were paired" \
    [ "$(q "SELECT count(*) FROM waits w JOIN resources r USING (resource)
            WHERE r.name = 'table' AND w.end_ts IS NOT NULL")" -gt 0 ]

# ---------------------------------------------------------------- the tools read it
if "$weft" report --ns "$db" >"$tmp/report" 2>"$tmp/report.err" && grep -q '^  [0-9]* *hog ' "$tmp/report"; then
    ok "weft report reads the imported trace"
else
    not_ok "weft report on the imported trace: $(cat "$tmp/report.err")"
fi
if "$weft" export --chrome -q -o "$tmp/t.json" "$db" 2>"$tmp/export.err" && [ -s "$tmp/t.json" ]; then
    ok "weft export --chrome reads the imported trace"
else
    not_ok "weft export on the imported trace: $(cat "$tmp/export.err")"
fi

if "$weft" console --snapshot "$db" >"$tmp/console" 2>"$tmp/console.err" &&
    grep -q '6 tasks' "$tmp/console" && grep -q ' hog ' "$tmp/console"; then
    ok "weft console opens the imported trace"
else
    not_ok "weft console on the imported trace: $(cat "$tmp/console.err" "$tmp/console")"
fi

# ---------------------------------------------------------------- errors
rc=0
"$weft" import "$tmp/home-does-not-exist" -o "$tmp/x.db" 2>"$tmp/e1" || rc=$?
check "import of a missing directory: exit 1, a message" bash -c "[ $rc -eq 1 ] && [ -s '$tmp/e1' ]"
mkdir -p "$tmp/empty"
rc=0
"$weft" import "$tmp/empty" -o "$tmp/x.db" 2>"$tmp/e2" || rc=$?
check "import of a directory without a trace: exit 1, says so" \
    bash -c "[ $rc -eq 1 ] && grep -q 'no CTF trace' '$tmp/e2'"
rc=0
"$weft" import "$trace" 2>/dev/null || rc=$?
check "import without -o: exit 2" [ $rc -eq 2 ]
rc=0
"$weft" import --pid 999999999 "$trace" -o "$tmp/x.db" 2>"$tmp/e3" || rc=$?
check "import of a process the trace does not hold: exit 1, says so" \
    bash -c "[ $rc -eq 1 ] && grep -q 'no weft events from pid 999999999' '$tmp/e3'"

echo "1..$n"
[ $failed -eq 0 ]
