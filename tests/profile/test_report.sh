#!/usr/bin/env bash
# tests/profile/test_report.sh - `weft report` and `weft export --chrome` on a real recording.
#
#   test_report.sh WEFT PROFILE_PROGRAM
#
# Records PROFILE_PROGRAM (tests/profile/profile_program.c: two workers, a hog, clients
# contending for a mutex and feeding a channel) with `weft record`, then checks
#
#   - the text report (--ns --top 0): every task's polls and busy time, every resource's waits
#     and wait time, every worker's polls and busy time, and the slowest poll equal what SQL
#     over the same database says;
#   - the HTML report: one self-contained page (no script, no external link or source) with
#     its SVG charts, and the program's tasks in it;
#   - the Chrome JSON: parses, and its slices, wake arrows, counters and parks are as many as
#     the database's polls, wakes followed by a poll, resource counter events and parks; every
#     arrow has both ends; every track is named;
#   - the errors a user meets: no trace, not a trace, no format.
#
# Needs the sqlite3 shell (skips without it); the JSON checks use python3 (skipped without it).
# Speaks TAP.
set -uo pipefail

weft=${1:?usage: test_report.sh WEFT PROFILE_PROGRAM}
prog=${2:?}

if ! command -v sqlite3 >/dev/null; then
    echo "1..0 # SKIP the sqlite3 shell is not installed (scripts/bootstrap.sh installs it)"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    echo "not ok $n - $1" >&2
}
check() { # check DESCRIPTION COMMAND...
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
q() { sqlite3 -batch -noheader "$db" "$1"; }

db=$tmp/t.db
if ! "$weft" record -o "$db" -- "$prog" >"$tmp/prog.out" 2>"$tmp/rec.err"; then
    echo "Bail out! weft record failed"
    sed 's/^/    /' "$tmp/rec.err" >&2
    exit 1
fi
ok "recorded $(q 'SELECT count(*) FROM events') events"

# ---------------------------------------------------------------- text report
if "$weft" report --ns --top 0 "$db" >"$tmp/report.txt" 2>"$tmp/report.err"; then
    ok "weft report exits 0"
else
    not_ok "weft report failed: $(cat "$tmp/report.err")"
fi

# section NAME: the rows of one table of the report (after its header line).
section() {
    awk -v s="$1" '
        index($0, s) == 1 { on = 1; hdr = 1; next }
        on && hdr { hdr = 0; next }
        on && /^$/ { exit }
        on { print }' "$tmp/report.txt"
}

section "Tasks by busy time" >"$tmp/tasks"
want=$(q "SELECT count(*) FROM tasks")
check "the task table lists all $want tasks" [ "$(wc -l <"$tmp/tasks")" -eq "$want" ]
bad=0
while read -r task name at polls busy rest; do
    sql=$(q "SELECT count(*) || ' ' || coalesce(sum(duration_ns), 0) FROM polls
             WHERE task = $task AND duration_ns IS NOT NULL")
    if [ "$polls $busy" != "$sql" ]; then
        bad=1
        echo "    task $task: report says polls/busy $polls $busy, SQL says $sql" >&2
    fi
done <"$tmp/tasks"
check "each task's polls and busy time equal SQL's" [ $bad -eq 0 ]

# The busiest task first, and it is the hog (one poll of HOG_MS).
first=$(awk 'NR == 1 { print $2 }' "$tmp/tasks")
check "the busiest task is the hog (got $first)" [ "$first" = hog ]

section "Slowest polls" >"$tmp/slow"
top=$(awk 'NR == 1 { print $2 }' "$tmp/slow")
check "the slowest poll is the longest in the polls table" \
    [ "$top" = "$(q 'SELECT max(duration_ns) FROM polls')" ]
check "a slow poll names the await where it ended" \
    grep -q 'profile_program.c:[0-9]' "$tmp/slow"

section "Resources by total wait" >"$tmp/res"
bad=0
rows=0
while read -r res kind name at waits waited rest; do
    rows=$((rows + 1))
    sql=$(q "SELECT count(*) || ' ' || coalesce(sum(duration_ns), 0) FROM waits
             WHERE resource = $res")
    if [ "$waits $waited" != "$sql" ]; then
        bad=1
        echo "    resource $res: report says $waits $waited, SQL says $sql" >&2
    fi
done <"$tmp/res"
check "each resource's waits and wait time equal SQL's ($rows resources)" \
    [ $bad -eq 0 -a $rows -eq "$(q 'SELECT count(*) FROM resources')" ]
check "the most waited-on resource is the mutex 'table'" \
    [ "$(awk 'NR == 1 { print $2 " " $3 }' "$tmp/res")" = "mutex table" ]
check "the mutex's longest holders are clients" \
    grep -q '^ *[0-9]* *mutex *table .*:client:' "$tmp/res"

section "Workers" >"$tmp/workers"
bad=0
while read -r thread kind worker polls busy rest; do
    sql=$(q "SELECT count(*) || ' ' || coalesce(sum(duration_ns), 0) FROM polls
             WHERE thread = $thread")
    if [ "$polls $busy" != "$sql" ]; then
        bad=1
        echo "    thread $thread: report says $polls $busy, SQL says $sql" >&2
    fi
done <"$tmp/workers"
check "each worker's polls and busy time equal SQL's" [ $bad -eq 0 ]
check "both workers are listed" [ "$(grep -c ' worker ' "$tmp/workers")" -eq 2 ]

# ---------------------------------------------------------------- HTML report
html=$tmp/report.html
if "$weft" report --html -o "$html" "$db" 2>"$tmp/html.err"; then ok "weft report --html exits 0"; else
    not_ok "weft report --html failed: $(cat "$tmp/html.err")"
fi
check "the page is one HTML document" grep -q '^<!DOCTYPE html>' "$html"
check "no script in the page" bash -c "! grep -qi '<script' '$html'"
check "no external link or source (http:, src=, href=, @import, url())" \
    bash -c "! grep -qiE 'https?:|src=|href=|@import|url\\(' '$html'"
check "three kinds of SVG chart (timeline, histograms, contention)" \
    [ "$(grep -c '<svg' "$html")" -ge 3 ]
check "every <svg> is closed" [ "$(grep -o '<svg' "$html" | wc -l)" -eq "$(grep -o '</svg>' "$html" | wc -l)" ]
check "the timeline has a row per worker" [ "$(grep -c '<text x="0" y="[0-9]*" [^>]*>worker ' "$html")" -eq 2 ]
check "the page names the contended mutex and the hog" \
    bash -c "grep -q 'mutex table' '$html' && grep -q '>hog<' '$html'"

# ---------------------------------------------------------------- standalone charts
if "$weft" report --svg "$tmp/charts" "$db" 2>"$tmp/svg.err"; then ok "weft report --svg exits 0"; else
    not_ok "weft report --svg failed: $(cat "$tmp/svg.err")"
fi
for chart in timeline poll-histogram contention; do
    f=$tmp/charts/$chart.svg
    if command -v python3 >/dev/null; then
        check "$chart.svg is a well-formed SVG document" python3 -c "
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
sys.exit(0 if root.tag == '{http://www.w3.org/2000/svg}svg' and len(root) > 0 else 1)" "$f"
    else
        check "$chart.svg exists" [ -s "$f" ]
    fi
done

# ---------------------------------------------------------------- Chrome JSON
json=$tmp/trace.json
if "$weft" export --chrome -q "$db" >"$json" 2>"$tmp/export.err"; then ok "weft export --chrome exits 0"; else
    not_ok "weft export failed: $(cat "$tmp/export.err")"
fi
if command -v python3 >/dev/null; then
    polls=$(q "SELECT count(*) FROM polls WHERE duration_ns IS NOT NULL")
    flows=$(q "SELECT count(*) FROM wakes w WHERE EXISTS
               (SELECT 1 FROM polls p WHERE p.task = w.task AND p.begin_ts >= w.ts)")
    counters=$(q "SELECT count(*) FROM resource_ops WHERE event IN ('channel_send',
                  'channel_recv', 'permit_acquire', 'permit_release', 'permit_add',
                  'permit_forget', 'lock_acquire', 'lock_release')")
    parks=$(q "SELECT count(*) FROM parks WHERE duration_ns IS NOT NULL")
    threads=$(q "SELECT count(*) FROM threads")
    tasks=$(q "SELECT count(*) FROM tasks")
    python3 - "$json" "$polls" "$flows" "$counters" "$parks" "$threads" "$tasks" \
        >"$tmp/json.tap" 2>&1 <<'EOF'
import json, sys
path, polls, flows, counters, parks, threads, tasks = sys.argv[1], *map(int, sys.argv[2:])
try:
    doc = json.load(open(path))
except ValueError as e:
    print("not ok - the JSON does not parse:", e)
    sys.exit(0)
ev = doc["traceEvents"]
def check(desc, cond):
    print(("ok" if cond else "not ok") + " - " + desc)
poll_w = [e for e in ev if e["ph"] == "X" and e.get("cat") == "poll" and e["pid"] == 1]
poll_t = [e for e in ev if e["ph"] == "X" and e.get("cat") == "poll" and e["pid"] == 2]
check("%d poll slices on worker tracks, as many as polls (%d)" % (len(poll_w), polls),
      len(poll_w) == polls)
check("each poll also on its task's track", len(poll_t) == polls)
s = {e["id"] for e in ev if e["ph"] == "s"}
f = {e["id"] for e in ev if e["ph"] == "f"}
check("%d wake arrows, as many as wakes followed by a poll (%d)" % (len(s), flows),
      len(s) == flows and s == f)
check("every arrow ends by binding to the next slice",
      all(e.get("bp") == "e" for e in ev if e["ph"] == "f"))
c = [e for e in ev if e["ph"] == "C"]
check("%d counter samples, as many as counter events (%d)" % (len(c), counters),
      len(c) == counters and len(c) > 0)
check("channel lengths and lock holders among the counters",
      any("len" in e["args"] for e in c) and any("holders" in e["args"] for e in c))
k = [e for e in ev if e["ph"] == "X" and e.get("cat") == "park"]
check("%d park slices (%d in the database)" % (len(k), parks), len(k) == parks)
names = [e for e in ev if e["ph"] == "M" and e["name"] == "thread_name"]
check("a named track per thread (%d) and per task (%d)" % (threads, tasks),
      sum(e["pid"] == 1 for e in names) == threads and sum(e["pid"] == 2 for e in names) == tasks)
check("timestamps and durations are not negative",
      all(e.get("ts", 0) >= 0 and e.get("dur", 0) >= 0 for e in ev))
check("slices are named after their task",
      {e["name"] for e in poll_w} >= {"hog", "client", "consumer"})
EOF
    while read -r line; do
        case $line in
        "ok - "*) ok "${line#ok - }" ;;
        *) not_ok "${line#not ok - }" ;;
        esac
    done <"$tmp/json.tap"
else
    ok "# SKIP python3 is not installed: the JSON is not parsed"
fi

# ---------------------------------------------------------------- errors
rc=0
"$weft" report >/dev/null 2>"$tmp/e1" || rc=$?
check "report without a trace: exit 2 and a usage message" \
    bash -c "[ $rc -eq 2 ] && grep -q 'which trace' '$tmp/e1'"
echo "not a database" >"$tmp/bogus.db"
rc=0
"$weft" report "$tmp/bogus.db" >/dev/null 2>"$tmp/e2" || rc=$?
check "report on a file that is not a trace: exit 1, the file named" \
    bash -c "[ $rc -eq 1 ] && grep -q 'bogus.db' '$tmp/e2'"
rc=0
"$weft" export "$db" >/dev/null 2>"$tmp/e3" || rc=$?
check "export without --chrome: exit 2" [ $rc -eq 2 ]
rc=0
"$weft" export --chrome -o "$tmp/x.json" "$tmp/missing.db" >/dev/null 2>"$tmp/e4" || rc=$?
check "export of a missing trace: exit 1 and no half-written file" \
    bash -c "[ $rc -eq 1 ] && [ ! -e '$tmp/x.json' ]"

echo "1..$n"
[ $failed -eq 0 ]
