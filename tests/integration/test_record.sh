#!/usr/bin/env bash
# tests/integration/test_record.sh - `weft record` end to end, as a user runs it.
#
#   test_record.sh WEFT COUNTED_PROGRAM STORY_PROGRAM BOOK_PAGE
#
# COUNTED_PROGRAM (tests/lttng/traced_program) prints "expect EVENT N" lines for events whose
# number it knows exactly: each must be the number of rows of ev_EVENT in its trace.
# STORY_PROGRAM (record_program.c) has a longest poll, a contended lock and a task that never
# finishes: the example queries of BOOK_PAGE (docs/book/trace-database.md), taken from the
# page itself, must find them. Then the SIGKILL cases (the program, then the recorder) and
# the errors a user meets. Speaks TAP.
set -uo pipefail

weft=${1:?usage: test_record.sh WEFT COUNTED_PROGRAM STORY_PROGRAM BOOK_PAGE}
counted=${2:?}
story=${3:?}
page=${4:?}

if ! command -v sqlite3 >/dev/null; then
    echo "1..0 # SKIP the sqlite3 shell is not installed (scripts/bootstrap.sh installs it)"
    exit 77
fi

tmp=$(mktemp -d)
pids_to_kill=()
cleanup() {
    for p in "${pids_to_kill[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

n=0
failed=0
rc=0
out=$tmp/stdout
err=$tmp/stderr

# check DESCRIPTION CONDITION...: one TAP line; on failure show what was printed.
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
            echo "not ok $n - $desc (last exit code $rc)"
            sed 's/^/    stdout: /' "$out" | head -n 20
            sed 's/^/    stderr: /' "$err" | head -n 20
        } >&2
    fi
}

record() { # record DB ARGS...: run weft record, keeping its output and exit code
    local db=$1
    shift
    rc=0
    "$weft" record -o "$db" "$@" >"$out" 2>"$err" || rc=$?
}
q() { sqlite3 -batch -noheader "$1" "$2" 2>>"$err"; }
is() { [ "$1" = "$2" ] || { echo "    got '$1', expected '$2'" >&2; return 1; }; }
rc_is() { is "$rc" "$1"; }
err_has() { grep -q -- "$1" "$err"; }

# ---------------------------------------------------------------- exact counts
db=$tmp/counted.db
record "$db" -- "$counted" first-arg 'two words'
check "recording the counted program exits 0" rc_is 0
check "the trace passes SQLite's integrity check" is "$(q "$db" 'PRAGMA integrity_check')" ok
check "the trace is complete and in a single file" \
    is "$(q "$db" "SELECT value FROM meta WHERE key = 'complete'")$(ls "$db"-wal 2>/dev/null)" 1
check "meta has the binary's SHA-256" \
    is "$(q "$db" "SELECT value FROM meta WHERE key = 'program_sha256'")" \
    "$(sha256sum "$counted" | cut -d' ' -f1)"
check "meta has the arguments" \
    is "$(q "$db" "SELECT json_extract(value, '\$[2]') FROM meta WHERE key = 'argv'")" 'two words'
check "meta has the exit status and no drops" \
    is "$(q "$db" "SELECT group_concat(value) FROM meta WHERE key IN ('exit_status', 'dropped_events') ORDER BY key")" "0,0"
check "the summary line counts the events" err_has "events in $db; 0 dropped"
grep '^expect ' "$out" >"$tmp/expect"
check "the counted program printed its expectations" test -s "$tmp/expect"
while read -r _ event want; do
    check "ev_$event has $want rows" is "$(q "$db" "SELECT count(*) FROM ev_$event")" "$want"
done <"$tmp/expect"
want_polls=$(awk '$2 == "task_poll_end" { print $3 }' "$tmp/expect")
check "every poll is paired into the polls table" \
    is "$(q "$db" 'SELECT count(*) FROM polls WHERE end_ts IS NOT NULL')" "$want_polls"
check "every lock hold is paired into lock_holds" \
    is "$(q "$db" 'SELECT count(*) FROM lock_holds WHERE release_ts IS NOT NULL')" \
    "$(awk '$2 == "lock_acquire" { print $3 }' "$tmp/expect")"
check "every task finished ok" \
    is "$(q "$db" "SELECT count(*) FROM tasks WHERE outcome = 'ok'")" \
    "$(awk '$2 == "task_spawn" { print $3 }' "$tmp/expect")"

# ---------------------------------------------------------------- the book's queries
# query NAME: the SQL of the page's block that starts with the line "-- NAME".
query() {
    awk -v name="-- $1" '/^```sql/ { inblock = 1; take = 0; next }
        /^```/ { inblock = 0; take = 0 }
        inblock && $0 == name { take = 1 }
        take { print }' "$page"
}
db=$tmp/story.db
record "$db" -- "$story"
check "recording the story program exits 0" rc_is 0
check "a mutex made before the runtime is recorded with its name" \
    is "$(q "$db" "SELECT count(*) FROM resources WHERE name = 'early' AND kind = 'mutex'")" 1
for name in longest-polls most-contended-lock never-finished busy-tasks worker-utilisation; do
    query "$name" >"$tmp/$name.sql"
    check "the page has the query '$name'" test -s "$tmp/$name.sql"
    sqlite3 -batch -noheader -separator '|' "$db" <"$tmp/$name.sql" >"$tmp/$name.out" 2>>"$err"
    check "query '$name' runs and returns rows" test -s "$tmp/$name.out"
done
check "the longest poll is hog's, at least 30 ms" \
    awk -F'|' 'NR == 1 { exit !($1 == "hog" && $4 >= 30000) }' "$tmp/longest-polls.out"
check "the most contended lock is 'hot', waited for at least 3 times" \
    awk -F'|' 'NR == 1 { exit !($1 == "hot" && $2 == "mutex" && $4 >= 3) }' \
    "$tmp/most-contended-lock.out"
check "the lock nobody waited for is not listed" \
    is "$(grep -c '^cold|' "$tmp/most-contended-lock.out")" 0
check "the only task that never finished is 'forever', cancelled at shutdown" \
    is "$(cut -d'|' -f2,3 "$tmp/never-finished.out")" "forever|cancelled"
check "the busiest task is hog" \
    awk -F'|' 'NR == 1 { exit !($2 == "hog") }' "$tmp/busy-tasks.out"

# ---------------------------------------------------------------- SIGKILL: the program
# wait_ready FILE: the story program prints "ready PID" once its work is done.
wait_ready() {
    for _ in $(seq 200); do
        grep -q '^ready ' "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
db=$tmp/killed.db
"$weft" record -o "$db" -- "$story" --hang >"$tmp/killed.out" 2>"$err" &
rec_pid=$!
pids_to_kill+=("$rec_pid")
if wait_ready "$tmp/killed.out"; then
    prog_pid=$(awk '/^ready / { print $2 }' "$tmp/killed.out")
    pids_to_kill+=("$prog_pid")
    # Kill it once the recorder has committed the work done before "ready" (polled with a
    # deadline; the check below then proves the kill lost none of it).
    for _ in $(seq 1 300); do
        [ "$(q "$db" "SELECT count(*) FROM tasks WHERE outcome = 'ok'")" = 6 ] && break
        sleep 0.1
    done
    kill -9 "$prog_pid"
    rc=0
    wait "$rec_pid" || rc=$?
    check "weft record reports a program killed by SIGKILL with status 137" rc_is 137
    check "the trace of a killed program is complete and sound" \
        is "$(q "$db" "SELECT value FROM meta WHERE key = 'complete'")|$(q "$db" 'PRAGMA integrity_check')" "1|ok"
    check "meta says which signal killed it" \
        is "$(q "$db" "SELECT value FROM meta WHERE key = 'exit_signal'")" Killed
    check "the work done before the kill is all there" \
        is "$(q "$db" "SELECT count(*) FROM tasks WHERE outcome = 'ok'")" 6
    check "the task that was sleeping is still running, in the never-finished query" \
        is "$(sqlite3 -batch -noheader "$db" <"$tmp/never-finished.sql" | cut -d'|' -f2,3)" \
        "forever|still running"
    check "the killed program's segment was removed" test ! -e "/dev/shm/weft-$prog_pid"
else
    check "the story program said it was ready" false
fi

# ---------------------------------------------------------------- SIGKILL: the recorder
db=$tmp/interrupted.db
"$weft" record -o "$db" -- "$story" --hang >"$tmp/interrupted.out" 2>"$err" &
rec_pid=$!
pids_to_kill+=("$rec_pid")
if wait_ready "$tmp/interrupted.out"; then
    prog_pid=$(awk '/^ready / { print $2 }' "$tmp/interrupted.out")
    pids_to_kill+=("$prog_pid")
    # Wait (with a deadline, not a fixed sleep) until the writer has committed the work done
    # before "ready", the hog's long poll last among it; then killing it must lose none of it.
    hog_sql="SELECT count(*) FROM polls JOIN tasks USING (task) WHERE name = 'hog' AND duration_ns >= 30000000"
    for _ in $(seq 1 300); do
        [ "$(q "$db" "$hog_sql")" = 1 ] && break
        sleep 0.1
    done
    kill -9 "$rec_pid"
    wait "$rec_pid" 2>/dev/null
    kill -9 "$prog_pid"
    check "a recording whose recorder was killed still opens" \
        is "$(q "$db" 'PRAGMA integrity_check')" ok
    check "... marked incomplete" \
        is "$(q "$db" "SELECT value FROM meta WHERE key = 'complete'")" 0
    check "... with every task spawned before the kill" \
        is "$(q "$db" 'SELECT count(*) FROM tasks')" 7
    check "... and the pid of the program it traced" \
        is "$(q "$db" "SELECT value FROM meta WHERE key = 'pid'")" "$prog_pid"
    check "... and the hog's long poll" \
        is "$(q "$db" "$hog_sql")" 1
    rm -f "/dev/shm/weft-$prog_pid"
else
    check "the story program said it was ready" false
fi

# ---------------------------------------------------------------- errors
record "$tmp/none.db" -- no-such-program-anywhere
check "a program that is not found: exit 127, a clear message, no trace file" \
    eval 'rc_is 127 && err_has "cannot run .no-such-program-anywhere.: not found" && test ! -e "$tmp/none.db"'
printf 'not a program\n' >"$tmp/notexec"
record "$tmp/none.db" -- "$tmp/notexec"
check "a file that is not executable: exit 126 and a clear message" \
    eval 'rc_is 126 && err_has "not an executable file"'
record "$tmp/none.db"
check "no program: usage error, exit 2" eval 'rc_is 2 && err_has "which program" && err_has "^usage: weft record"'
record "$tmp/none.db" --frobnicate -- /bin/true
check "an unknown option: usage error, exit 2" eval 'rc_is 2 && err_has "unknown option .--frobnicate."'
record "$tmp/none.db" --ring-kb 1000 -- /bin/true
check "a ring size that is not a power of two: usage error, exit 2" \
    eval 'rc_is 2 && err_has "power of two"'
record "$tmp/no/such/dir/t.db" -- "$counted"
check "an output that cannot be created: exit 1 and the path in the message" \
    eval 'rc_is 1 && err_has "no/such/dir/t.db"'
record "$tmp/plain.db" -- /bin/sh -c 'exit 3'
check "a program that is not a weft program: its status, and a warning" \
    eval 'rc_is 3 && err_has "never started a weft runtime"'
rc=0
"$weft" record --help >"$out" 2>"$err" || rc=$?
check "--help shows the usage and the exit statuses" \
    eval 'rc_is 0 && grep -q "^usage: weft record" "$out" && grep -q "Exit status" "$out"'

echo "1..$n"
[ "$failed" -eq 0 ]
