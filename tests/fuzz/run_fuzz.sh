#!/bin/sh
# tests/fuzz/run_fuzz.sh FUZZER SEED_DIR WORK_DIR SECONDS
#
# A short libFuzzer run for the `slow` suite: new inputs go to WORK_DIR/corpus (the kept seed
# corpus in the source tree is only read), a crashing input to WORK_DIR/artifacts/, and the
# exit status is the fuzzer's (0: nothing found).
set -e
fuzzer=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
