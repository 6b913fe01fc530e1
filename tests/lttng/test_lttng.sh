#!/usr/bin/env bash
# tests/lttng/test_lttng.sh - the LTTng-UST round trip: a real weft program traced by a session.
#
#   test_lttng.sh TRACED_PROGRAM PROVIDER_SO
#
# Starts a session daemon if none is running (and stops only the one it started), records
# TRACED_PROGRAM in a session with every `weft:*` event enabled, reads the trace back with
# babeltrace2 and checks the exact number of each event against what the program says it did
# (it prints "expect EVENT COUNT" lines computed from its own constants). The provider is a
# separate library (PROVIDER_SO) that is LD_PRELOADed into the program only, as a user would.
#
# Exit 77 (skip) only when the LTTng tools are not installed; when they are, anything missing
# is a failure. Speaks TAP.
set -uo pipefail

prog=${1:?usage: test_lttng.sh TRACED_PROGRAM PROVIDER_SO}
provider=${2:?usage: test_lttng.sh TRACED_PROGRAM PROVIDER_SO}

for tool in lttng lttng-sessiond babeltrace2; do
    if ! command -v "$tool" >/dev/null; then
        echo "1..0 # SKIP $tool is not installed (scripts/bootstrap.sh installs it)"
        exit 77
    fi
done

tmp=$(mktemp -d)
session=weft-test-$$
started_pid=
# A non-root user gets a daemon of their own under $LTTNG_HOME; root's always lives in
# /var/run/lttng whatever LTTNG_HOME says.
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
        # Wait for it (and so its consumer daemons) to go, at most 5 s.
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
# bail MESSAGE [DETAILS_FILE]: stop; the message on one TAP line, the details on stderr.
bail() {
    echo "Bail out! $1"
    echo "Bail out! $1" >&2
    [ -f "${2:-$tmp/cmd.log}" ] && sed 's/^/    /' "${2:-$tmp/cmd.log}" >&2
    exit 1
}

# ---------------------------------------------------------------- the daemon and the session
if ! lttng list >/dev/null 2>&1; then
    # --daemonize returns once the daemon is ready (--background would keep our stdout open).
    lttng-sessiond --daemonize --no-kernel >"$tmp/cmd.log" 2>&1 ||
        lttng list >/dev/null 2>&1 || bail "could not start lttng-sessiond"
    started_pid=$(cat "$pidfile" 2>/dev/null)
    [ -n "$started_pid" ] || bail "lttng-sessiond started but wrote no pid file ($pidfile)"
fi
ok "a session daemon is running${started_pid:+ (started by this test, pid $started_pid)}"

trace=$tmp/trace
{
    lttng create "$session" --output="$trace" &&
        lttng enable-event --userspace --session="$session" 'weft:*' &&
        lttng start "$session"
} >"$tmp/cmd.log" 2>&1 || bail "could not create and start session $session"
ok "session $session records weft:*"

# The registration timeout (default 3 s) lets the program register before its first event.
# A sanitizer build wants its runtime first in the preload list, ahead of the provider.
preload=$provider
asan=$(ldd "$prog" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')
[ -n "$asan" ] && preload="$asan $provider"
LD_PRELOAD=$preload "$prog" >"$tmp/expect" 2>"$tmp/prog.err"
rc=$?
lttng stop "$session" >"$tmp/cmd.log" 2>&1 || bail "lttng stop failed"
lttng destroy "$session" >>"$tmp/cmd.log" 2>&1 || bail "lttng destroy failed"
if [ $rc -eq 0 ]; then ok "the traced program ran"; else
    not_ok "the traced program exited $rc"
    sed 's/^/    /' "$tmp/prog.err" >&2
fi

babeltrace2 --no-delta "$trace" >"$tmp/events" 2>"$tmp/bt.err" ||
    bail "babeltrace2 could not read the trace (did the program register? its stderr follows)" \
        "$tmp/prog.err"
total=$(wc -l <"$tmp/events")
if [ "$total" -gt 0 ]; then ok "the trace holds $total events"; else
    not_ok "the trace is empty (is /dev/shm big enough? did the program register?)"
fi

# ---------------------------------------------------------------- exact counts
# babeltrace2 prints: [time] host weft:EVENT: { cpu_id = N }, { field = value, ... }
grep -c . "$tmp/expect" >/dev/null || bail "the program printed no expectations"
while read -r word event want; do
    [ "$word" = expect ] || continue
    got=$(grep -c " weft:$event: " "$tmp/events")
    if [ "$got" -eq "$want" ]; then
        ok "weft:$event: $got events"
    else
        not_ok "weft:$event: expected $want events, the trace has $got"
    fi
done <"$tmp/expect"

# Fields come through with their values: a spawn names its task, a wake says who was woken.
line=$(grep -m1 ' weft:task_spawn: ' "$tmp/events")
if echo "$line" | grep -q 'task = [1-9]' && echo "$line" | grep -q 'name = "'; then
    ok "task_spawn carries the task id and name: ${line#*weft:task_spawn: }"
else
    not_ok "task_spawn lacks its fields: $line"
fi

echo "1..$n"
[ $failed -eq 0 ]
