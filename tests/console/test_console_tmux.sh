#!/usr/bin/env bash
# tests/console/test_console_tmux.sh - the console in a real terminal (tmux), as a person sees it.
#
#   test_console_tmux.sh WEFT_BINARY CONSOLE_PROGRAM CONSOLE_PROGRAM_SOURCE
#
# Starts `weft console` inside a detached tmux session, presses keys with send-keys and reads
# the screen with capture-pane, asserting on what is shown: on a recording of a deadlock found
# by `weft explore` (stepping its cursor), on a live program that deadlocks (attached by pid),
# on a launched program that exits while watched, and the one-line errors. Every wait polls the
# screen until a deadline; nothing sleeps a fixed time and hopes. Speaks TAP.
set -uo pipefail

weft=$(realpath "${1:?usage: test_console_tmux.sh WEFT_BINARY CONSOLE_PROGRAM}")
prog=$(realpath "${2:?usage: test_console_tmux.sh WEFT_BINARY CONSOLE_PROGRAM SOURCE}")
src=$(realpath "${3:?usage: test_console_tmux.sh WEFT_BINARY CONSOLE_PROGRAM SOURCE}")
# The line of the second lock, where each transfer waits: the console must show it.
line=$(grep -n 'weft_mutex_lock_init(&t->l2' "$src" | cut -d: -f1)
at="console_program.c:$line"

if ! command -v tmux >/dev/null; then
    echo "1..0 # SKIP tmux is not installed (scripts/bootstrap.sh installs it)"
    exit 0
fi

tmp=$(mktemp -d)
sock="weft-console-test-$$"
live_pid=
cleanup() {
    tmux -L "$sock" kill-server 2>/dev/null
    [ -n "$live_pid" ] && kill "$live_pid" 2>/dev/null && wait "$live_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1
export LANG=C.UTF-8 LC_ALL=C.UTF-8
# Only the console's own ASan/LSan findings matter here; tmux's children inherit this.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"

n=0
failed=0
ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}
not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    echo "# screen:" >&2
    screen | sed 's/^/#   /' >&2
}

tm() { tmux -L "$sock" -f /dev/null "$@"; }
screen() { tm capture-pane -p -t console 2>/dev/null; }

# start W H COMMAND...: a fresh session running COMMAND in a W x H terminal
start() {
    local w=$1 h=$2
    shift 2
    tm kill-session -t console 2>/dev/null
    tm new-session -d -s console -x "$w" -y "$h" \
        "env TERM=xterm-256color LANG=C.UTF-8 $*; echo '[exited rc='\$?']'; sleep 60"
}

# wait_for TEXT [SECONDS]: poll the screen until it shows TEXT (fixed string)
wait_for() {
    local text=$1 limit=${2:-15}
    local deadline=$((SECONDS + limit))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -qF -- "$text" && return 0
        sleep 0.1
    done
    return 1
}

# wait_gone TEXT [SECONDS]: poll until the screen no longer shows TEXT
wait_gone() {
    local text=$1 limit=${2:-15}
    local deadline=$((SECONDS + limit))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -qF -- "$text" || return 0
        sleep 0.1
    done
    return 1
}

check_for() { # check_for DESCRIPTION TEXT [SECONDS]
    if wait_for "$2" "${3:-15}"; then ok "$1"; else not_ok "$1 (waited for '$2')"; fi
}

keys() { tm send-keys -t console "$@"; }

# A session that lives as long as the test, so that the tmux server never exits between two
# console sessions (a new session racing a server on its way out fails).
tm new-session -d -s keepalive "sleep 100000"

# ---------------------------------------------------------------- a recording of a deadlock
"$weft" explore --seed 1 --out explore -- "$prog" twolock >explore.log 2>&1
db=explore/console_program.shrunk.trace.db
if [ -f "$db" ]; then ok "weft explore recorded the failing run for the console"; else
    not_ok "weft explore recorded the failing run for the console"
    sed 's/^/#   /' explore.log >&2
fi

start 120 32 "$weft" console "$db"
check_for "recording: opens at the deadlock, in the deadlocks view" "Deadlock 1: 2 tasks"
check_for "recording: the cycle names the first task" "T1 'transfer_ab'"
check_for "recording: and the second" "T2 'transfer_ba'"
check_for "recording: the first task waits for account_b at the await's line" \
    "waits to lock mutex 'account_b' at $at, held by"
check_for "recording: the second waits for account_a" "waits to lock mutex 'account_a' at $at"
check_for "recording: the header raises the alarm" "DEADLOCK x1"
keys t
check_for "recording: the tasks view shows both tasks" "transfer_ba"
check_for "recording: ... with what each waits on and who holds it" \
    "lock mutex 'account_a' at $at held by T1"
keys B
check_for "recording: B goes back to the first event" "event 0/"
if wait_gone "DEADLOCK x1" 5; then ok "recording: no deadlock at the start"; else not_ok "recording: no deadlock at the start"; fi
keys .
check_for "recording: . steps one event" "event 1/"
keys ]
check_for "recording: ] steps to the first schedule decision" "step 1 "
keys ] ]
check_for "recording: ] again, the third decision" "step 3 "
keys [
check_for "recording: [ steps a decision back" "step 2 "
keys D
check_for "recording: D jumps to where the deadlock formed" "the deadlock formed at event"
keys E
check_for "recording: E goes to the end" "event 4"
keys r
check_for "recording: the resources view lists the locks" "account_a"
keys q
check_for "recording: q quits" "[exited rc=0]"

# ---------------------------------------------------------------- a live program that deadlocks
WEFT_TRACE=1 "$prog" deadlock >live.log 2>&1 &
live_pid=$!
deadline=$((SECONDS + 15))
while [ ! -e "/dev/shm/weft-$live_pid" ] && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
start 120 32 "$weft" console "$live_pid"
check_for "live: the header says a deadlock formed" "DEADLOCK x1"
check_for "live: the tasks view lists the ticking task" "heartbeat"
check_for "live: and the stuck transfers with what they wait on" \
    "lock mutex 'account_b' at $at held by T2"
keys d
check_for "live: the deadlocks view draws the cycle" "Deadlock 1: 2 tasks"
check_for "live: with the locks and source lines" "waits to lock mutex 'account_a' at $at, held by"
keys Enter
check_for "live: Enter opens the first task of the cycle" "Wait chain"
check_for "live: its wait chain ends in the cycle" "again: a wait-for cycle, DEADLOCK"
keys Escape r
check_for "live: the resources view shows who holds each lock" "locked by T"
keys w
check_for "live: the workers view lists the runtime's workers" "rt1 worker"
keys m
check_for "live: the timeline draws lanes" "Polls over the last"
keys '?'
check_for "live: ? lists the keys" "Recording    . and ,"
keys q
check_for "live: q quits" "[exited rc=0]"
kill "$live_pid" 2>/dev/null
wait "$live_pid" 2>/dev/null
live_pid=

# ---------------------------------------------------------------- a launched program that exits
start 100 30 "$weft" console -- "$prog" exit 1500
check_for "launched: the program's tasks appear" "ticker_one"
check_for "launched: when it exits the status line says how" "exited with status 3" 20
check_for "launched: and the last state stays on screen" "ticker_two"
keys q
check_for "launched: q quits after the end" "[exited rc=0]"

start 100 30 "$weft" console -- "$prog" crash 1000
check_for "crashed: the program's tasks appear" "ticker_one"
check_for "crashed: the status line says it was killed" "killed by signal 6" 20
check_for "crashed: the last state stays on screen" "ticker_two"
keys q
check_for "crashed: q quits" "[exited rc=0]"

# ---------------------------------------------------------------- small terminal, ASCII
start 60 20 "$weft" console "$db"
check_for "a terminal below 80x24 is told so" "terminal too small: 60x20"
tm resize-window -t console -x 100 -y 30 2>/dev/null
check_for "... and the console redraws once it is resized" "Deadlock 1: 2 tasks"
keys q
start 100 30 "$weft" console --ascii "$db"
check_for "--ascii draws the cycle without line-drawing characters" "+-> T1 'transfer_ab'"
keys q
check_for "--ascii: q quits" "[exited rc=0]"

# ---------------------------------------------------------------- errors, snapshot
rc=0
"$weft" console $$ >out.txt 2>err.txt || rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <err.txt)" -eq 1 ] && grep -q "is not a weft program" err.txt; then
    ok "attaching to a process that is not a weft program: one line, exit 1"
else
    not_ok "attaching to a process that is not a weft program: one line, exit 1 (rc $rc: $(cat err.txt))"
fi
rc=0
"$weft" console no-such.db >out.txt 2>err.txt || rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <err.txt)" -eq 1 ]; then ok "a missing trace: one line, exit 1"; else
    not_ok "a missing trace: one line, exit 1 (rc $rc: $(cat err.txt))"; fi
"$weft" console --snapshot --view deadlocks --width 100 "$db" >snap.txt 2>&1
if grep -qF "waits to lock mutex 'account_b' at $at, held by" snap.txt; then
    ok "--snapshot --view deadlocks prints the cycle as text"
else
    not_ok "--snapshot --view deadlocks prints the cycle as text"; sed 's/^/#   /' snap.txt >&2
fi
"$weft" console --snapshot --ascii --view task "$db" >snap.txt 2>&1
if grep -qF "again: a wait-for cycle, DEADLOCK" snap.txt && ! LC_ALL=C grep -q '[^ -~]' snap.txt; then
    ok "--snapshot --ascii --view task: the wait chain, in ASCII only"
else
    not_ok "--snapshot --ascii --view task: the wait chain, in ASCII only"; sed 's/^/#   /' snap.txt >&2
fi
"$weft" console --snapshot --at start "$db" >snap.txt 2>&1
if grep -qF "event 0/" snap.txt && ! grep -qF DEADLOCK snap.txt; then ok "--at start: before anything happened"; else
    not_ok "--at start: before anything happened"; sed 's/^/#   /' snap.txt >&2; fi
rc=0
"$weft" console --view nonsense "$db" >out.txt 2>err.txt || rc=$?
if [ "$rc" -eq 2 ]; then ok "a bad --view is a usage error"; else not_ok "a bad --view is a usage error (rc $rc)"; fi

echo "1..$n"
[ "$failed" -eq 0 ]
