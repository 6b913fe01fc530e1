#!/usr/bin/env bash
# tests/console/console_cost.sh - what the console costs on a busy program (a benchmark, not a
# test: `meson test --benchmark --suite console` or run it by hand).
#
#   console_cost.sh WEFT_BINARY CONSOLE_LOAD [TASKS] [PERIOD_MS] [SECONDS]
#
# Starts console_load (TASKS live tasks waking every PERIOD_MS: with the defaults, 10,000
# tasks and about 100,000 events per second), attaches the real TUI in tmux (refreshing ten
# times a second), and after SECONDS reads the console's CPU time (utime + stime from
# /proc/PID/stat) and peak memory (VmHWM), and the events it took in from its status line.
# Prints one table row per figure.
set -euo pipefail

weft=$(realpath "$1")
load=$(realpath "$2")
tasks=${3:-10000}
period=${4:-400}
secs=${5:-10}
sock="weft-console-cost-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
lpid=
cleanup() {
    tm kill-server 2>/dev/null || true
    [ -n "$lpid" ] && kill "$lpid" 2>/dev/null || true
}
trap cleanup EXIT

WEFT_TRACE=1 "$load" "$tasks" "$period" $((secs + 30)) >/dev/null 2>&1 &
lpid=$!
deadline=$((SECONDS + 20))
until [ -e "/dev/shm/weft-$lpid" ] || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
tm new-session -d -s cost -x 160 -y 50 "env TERM=xterm-256color LANG=C.UTF-8 $weft console $lpid"
cpid=
until [ -n "$cpid" ] || [ $SECONDS -ge $deadline ]; do
    cpid=$(pgrep -f "^$weft console $lpid" | head -n1 || true)
    sleep 0.05
done
events_now() { tm capture-pane -p -t cost | grep -o 'live  [0-9]* events' | grep -o '[0-9]*' || echo 0; }
ticks() { awk '{print $14 + $15}' "/proc/$cpid/stat"; }
sleep 3 # let the console take in the attach snapshot and settle (not a measurement)
e0=$(events_now)
t0=$(ticks)
start=$(date +%s.%N)
sleep "$secs"
e1=$(events_now)
t1=$(ticks)
end=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$cpid/status")
hz=$(getconf CLK_TCK)
awk -v t0="$t0" -v t1="$t1" -v hz="$hz" -v s="$start" -v e="$end" -v e0="$e0" -v e1="$e1" \
    -v hwm="$hwm" -v tasks="$tasks" 'BEGIN {
    wall = e - s
    printf "| live tasks | %d |\n", tasks
    printf "| events per second taken in | %.0f |\n", (e1 - e0) / wall
    printf "| console CPU (share of one core) | %.1f%% |\n", 100 * (t1 - t0) / hz / wall
    printf "| console peak memory (VmHWM) | %.1f MiB |\n", hwm / 1024
}'
