#!/usr/bin/env bash
# bench/instrument_overhead.sh - what recording costs a program: weft-bench's yield_many and
# spawn_many rows run as they are, under `weft record`, and under an LTTng session.
#
#   bench/instrument_overhead.sh WEFT_BENCH WEFT [PROBES_SO]
#   e.g. bench/instrument_overhead.sh build/bench/weft-bench build/weft \
#            build/instrument/libweft-lttng.so
#
# Modes, each a separate run of `weft-bench FILTER` (both variants, mt2 and ct):
#   plain         no sink (WEFT_TRACE unset): the reference of every ratio below
#   ring          WEFT_TRACE=1 and nobody reading: the rings fill, then drop and count
#   record        under `weft record -o T.db`: the rings drained into SQLite
#   lttng-idle    the LTTng probes preloaded, no session recording
#   lttng         the probes preloaded and a session recording weft:* (4 MiB x 8 sub-buffers)
# The lttng modes need PROBES_SO and the lttng tools; the script starts a session daemon if
# none runs and stops only the one it started. Modes alternate within each round (RUNS
# rounds, default 3) so that drift on a shared machine hits them alike.
#
# Prints the RESULT lines of every sample with the mode appended to the bench name
# (`RESULT weft yield_many@record ct ns/yield 123.4`), then a table: the median of each row
# and mode, its ratio to plain, and for `record` the events written, the records the program
# dropped (meta.dropped_events), and how long the recorder took after the program ended.
# Environment: RUNS, FILTERS (default "yield_many spawn_many"), RING_KB (record's --ring-kb).
set -uo pipefail

bench=${1:?usage: instrument_overhead.sh WEFT_BENCH WEFT [PROBES_SO]}
weft=${2:?usage: instrument_overhead.sh WEFT_BENCH WEFT [PROBES_SO]}
probes=${3:-}
runs=${RUNS:-3}
filters=${FILTERS:-"yield_many spawn_many"}
ring_kb=${RING_KB:-}

tmp=$(mktemp -d)
started_pid=
cleanup() {
    lttng destroy weft-overhead >/dev/null 2>&1
    [ -n "$started_pid" ] && kill "$started_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

modes="plain ring record"
if [ -n "$probes" ] && command -v lttng >/dev/null && command -v lttng-sessiond >/dev/null; then
    modes="$modes lttng-idle lttng"
    if ! lttng list >/dev/null 2>&1; then
        lttng-sessiond --daemonize --no-kernel || exit 1
        if [ "$(id -u)" -eq 0 ]; then
            started_pid=$(cat /var/run/lttng/lttng-sessiond.pid 2>/dev/null)
        else
            started_pid=$(cat "${LTTNG_HOME:-$HOME}/.lttng/lttng-sessiond.pid" 2>/dev/null)
        fi
    fi
else
    echo "# no PROBES_SO or no lttng tools: the lttng modes are skipped" >&2
fi

now_ns() { date +%s%N; }

# run_mode MODE FILTER: one run; RESULT lines tagged with the mode go to $tmp/results.
run_mode() {
    local mode=$1 filter=$2 out=$tmp/out
    case $mode in
    plain) "$bench" "$filter" >"$out" 2>/dev/null ;;
    ring) WEFT_TRACE=1 "$bench" "$filter" >"$out" 2>/dev/null ;;
    record)
        local t0 t1 end db=$tmp/rec.db
        t0=$(now_ns)
        "$weft" record -q ${ring_kb:+--ring-kb "$ring_kb"} -o "$db" -- "$bench" "$filter" \
            >"$out" 2>"$tmp/record.err" || { cat "$tmp/record.err" >&2; return 1; }
        t1=$(now_ns)
        end=$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'end_unix_ns'")
        # events, dropped records, seconds the recorder ran after the program ended
        sqlite3 -separator ' ' "$db" "SELECT
            (SELECT value FROM meta WHERE key = 'events'),
            (SELECT value FROM meta WHERE key = 'dropped_events')" |
            awk -v f="$filter" -v lag="$(((t1 - end) / 1000000))" \
                '{ print f, $1, $2, lag }' >>"$tmp/record_stats"
        ;;
    lttng-idle) LD_PRELOAD=$probes "$bench" "$filter" >"$out" 2>/dev/null ;;
    lttng)
        {
            lttng create weft-overhead --output="$tmp/lttng" &&
                lttng enable-channel -u --subbuf-size=4M --num-subbuf=8 weft &&
                lttng enable-event -u -c weft 'weft:*' && lttng start
        } >/dev/null 2>&1 || { echo "lttng session setup failed" >&2; return 1; }
        LD_PRELOAD=$probes "$bench" "$filter" >"$out" 2>/dev/null
        lttng stop weft-overhead >/dev/null 2>&1
        lttng list weft-overhead 2>/dev/null |
            awk -v f="$filter" '/Discarded events:/ { d += $3 } END { print f, d + 0 }' \
                >>"$tmp/lttng_stats"
        lttng destroy weft-overhead >/dev/null 2>&1
        rm -rf "$tmp/lttng"
        ;;
    esac
    awk -v m="$mode" '$1 == "RESULT" { $3 = $3 "@" m; print }' "$out" | tee -a "$tmp/results"
}

for ((r = 1; r <= runs; r++)); do
    for filter in $filters; do
        for mode in $modes; do
            run_mode "$mode" "$filter" || exit 1
        done
    done
done

# ---------------------------------------------------------------- the table
echo
echo "| row | variant | unit | plain | $(echo "$modes" | sed 's/^plain //; s/ / | /g') |"
echo "|---|---|---|---:|$(for m in $modes; do [ "$m" = plain ] || printf -- '---:|'; done)"
awk -v modes="$modes" '
    { split($3, bm, "@"); key = bm[1] SUBSEP $4; unit[key] = $5; row[key] = 1
      v[key, bm[2], ++n[key, bm[2]]] = $6 }
    function median(key, m,   k, a, i, j, t) {
        k = n[key, m]; if (!k) return ""
        for (i = 1; i <= k; i++) a[i] = v[key, m, i]
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    END {
        nm = split(modes, ms, " ")
        for (key in row) {
            split(key, kv, SUBSEP)
            base = median(key, "plain")
            line = sprintf("| %s | %s | %s | %.1f |", kv[1], kv[2], unit[key], base)
            for (i = 2; i <= nm; i++) {
                m = median(key, ms[i])
                if (m == "") { line = line " - |"; continue }
                # msgs/s rows are throughputs: slower means smaller
                ratio = unit[key] ~ /\/s$/ ? base / m : m / base
                line = line sprintf(" %.1f (%+.0f%%) |", m, (ratio - 1) * 100)
            }
            print line
        }
    }' "$tmp/results" | sort
echo
if [ -s "$tmp/record_stats" ]; then
    echo "record: per run of weft-bench FILTER (mt2 and ct, warm-up and 5 samples each)"
    echo
    echo "| filter | events written | records dropped by the program | recorder ran on after the program (ms) |"
    echo "|---|---:|---:|---:|"
    awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$tmp/record_stats"
fi
if [ -s "$tmp/lttng_stats" ]; then
    echo
    echo "lttng: events discarded by the session (sub-buffers full), per run"
    echo
    awk '{ printf "- %s: %s\n", $1, $2 }' "$tmp/lttng_stats"
fi
