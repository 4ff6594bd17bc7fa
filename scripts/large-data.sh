#!/usr/bin/env bash
# Large data, bounded memory: generates a CSV and a Parquet file of several GB, fits profiles
# of both and checks each file for drift against the other's profile, measuring wall time,
# throughput and peak memory (maximum resident set size) with GNU time.
#
#   scripts/large-data.sh [DIR] [GB]        # defaults: /tmp/normshift-large, 2.2 GB per file
#
# Needs /usr/bin/time (Debian: apt-get install time) and about 2 × GB of free disk.
# KEEP=1 keeps the generated files; by default they are deleted at the end.
# Peak memory must stay under 300 MB whatever the file size; the script fails otherwise.
set -euo pipefail

dir=${1:-/tmp/normshift-large}
gb=${2:-2.2}
limit_kb=$((300 * 1024))
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}

[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
cd "$root"
# Both packages in one build so features unify and nothing is compiled twice.
cargo build --release -p normshift-cli -p normshift-io --bin normshift --example make_large
bin=$target/release/normshift

echo "== generating ${gb} GB per file in $dir"
/usr/bin/time -f "generated in %e s" "$target/release/examples/make_large" "$dir" "$gb"
ls -l "$dir"

failed=0
# run NAME EXPECTED-CODES COMMAND...: times COMMAND, prints seconds, MB/s and peak RSS.
run() {
    local name=$1 codes=$2 input=$3
    shift 3
    local log=$dir/$name.time
    set +e
    /usr/bin/time -v "$@" --quiet > "$dir/$name.out" 2> "$log"
    local code=$?
    set -e
    if [[ " $codes " != *" $code "* ]]; then
        echo "$name: exit code $code" >&2
        cat "$log" >&2
        failed=1
        return
    fi
    local wall rss bytes
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    bytes=$(stat -c %s "$input")
    awk -v n="$name" -v w="$wall" -v r="$rss" -v b="$bytes" -v c="$code" 'BEGIN {
        k = split(w, p, ":"); s = 0; for (i = 1; i <= k; i++) s = s * 60 + p[i];
        printf "%-22s exit %d  %8.1f s  %8.1f MB/s  peak RSS %6.1f MB  (input %.2f GB)\n",
               n, c, s, b / s / 1e6, r / 1024, b / 1e9 }'
    if [ "$rss" -gt "$limit_kb" ]; then
        echo "$name: peak RSS ${rss} KB is over the 300 MB limit" >&2
        failed=1
    fi
}

echo "== fit and drift (load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
run fit-csv 0 "$dir/large.csv" "$bin" fit "$dir/large.csv" -o "$dir/csv.json"
run fit-parquet 0 "$dir/large.parquet" "$bin" fit "$dir/large.parquet" -o "$dir/parquet.json"
run drift-parquet-vs-csv "0 1" "$dir/large.parquet" "$bin" drift "$dir/csv.json" "$dir/large.parquet"
run drift-csv-vs-parquet "0 1" "$dir/large.csv" "$bin" drift "$dir/parquet.json" "$dir/large.csv"
head -3 "$dir/drift-parquet-vs-csv.out"

if [ "${KEEP:-0}" != 1 ]; then
    rm -f "$dir/large.csv" "$dir/large.parquet"
fi
exit $failed
