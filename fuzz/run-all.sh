#!/usr/bin/env bash
# Runs the four fuzz targets one after another (one core each): SECONDS_EACH per target.
# Usage: fuzz/run-all.sh [SECONDS_EACH]   (default 600)
set -u
cd "$(dirname "$0")"
each=${1:-600}
for target in profile kernels csv columnar; do
    dict=()
    [ -f "$target.dict" ] && dict=(-dict="$target.dict")
    mkdir -p "corpus/$target" "seeds/$target"
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -O --debug-assertions "corpus/$target" "seeds/$target" -- \
        -jobs=1 -workers=1 -max_total_time="$each" -rss_limit_mb=2048 "${dict[@]}"
    code=$?
    # libFuzzer's -jobs mode writes the run to fuzz-0.log; keep each target's.
    mv -f fuzz-0.log "fuzz-$target.log" 2>/dev/null
    echo "$target: exit $code"
done
