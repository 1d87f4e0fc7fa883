#!/usr/bin/env bash
# Engine benchmarks on toy graphs, measured side by side in one run (release build).
#  1. No-op: a second run of an unchanged graph of 2000 nodes over 1000 input files
#     (target: < 150 ms, zero nodes executed, zero input bytes hashed).
#  2. Concurrency: two independent 200 ms nodes with --jobs 2 vs one such node
#     (target: ratio < 1.5).
# Usage: bench/engine.sh [REPEATS]   (default 7; prints medians)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS="${1:-7}"
swift build -c release --product tcbuild >/dev/null
BIN="$(swift build -c release --show-bin-path)/tcbuild"
OUT="bench/out/engine"
rm -rf "$OUT"; mkdir -p "$OUT"

python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
os.makedirs(f"{out}/frames", exist_ok=True)
nodes = []
for i in range(1000):
    p = f"{os.path.abspath(out)}/frames/f{i:04d}.fits"
    with open(p, "wb") as f: f.write(os.urandom(4096))
    nodes.append({"name": f"measure/{i:04d}", "deps": [], "files": [p], "value": i, "sleepMs": 0})
for i in range(1000):
    nodes.append({"name": f"use/{i:04d}", "deps": [f"measure/{i:04d}", f"measure/{(i+1)%1000:04d}"], "files": [], "value": i, "sleepMs": 0})
json.dump(nodes, open(f"{out}/noop.json", "w"))
json.dump([{"name": "one", "deps": [], "files": [], "value": 1, "sleepMs": 200}], open(f"{out}/one.json", "w"))
json.dump([{"name": "a", "deps": [], "files": [], "value": 1, "sleepMs": 200},
           {"name": "b", "deps": [], "files": [], "value": 2, "sleepMs": 200}], open(f"{out}/two.json", "w"))
PY

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

"$BIN" _toy --workspace "$OUT/ws-noop" --spec "$OUT/noop.json" --json > "$OUT/noop-full.json"
: > "$OUT/noop-wall.txt"; : > "$OUT/noop-engine.txt"
for _ in $(seq "$REPEATS"); do
    t0=$(now)
    "$BIN" _toy --workspace "$OUT/ws-noop" --spec "$OUT/noop.json" --json > "$OUT/noop-run.json"
    t1=$(now)
    echo "$t1 - $t0" | bc -l >> "$OUT/noop-wall.txt"
    python3 -c "import json,sys; d=json.load(open('$OUT/noop-run.json')); assert d['executed']==[] and d['bytes_hashed']==0 and d['cached']==2000, d; print(d['seconds'])" >> "$OUT/noop-engine.txt"
done
echo "no-op rerun, 2000 nodes / 1000 files: median process wall $(median < "$OUT/noop-wall.txt") s, engine $(median < "$OUT/noop-engine.txt") s (0 executed, 0 bytes hashed)"

: > "$OUT/one.txt"; : > "$OUT/two.txt"
for i in $(seq "$REPEATS"); do
    for k in one two; do
        rm -rf "$OUT/ws-$k"
        t0=$(now); "$BIN" _toy --workspace "$OUT/ws-$k" --spec "$OUT/$k.json" --jobs 2 >/dev/null; t1=$(now)
        echo "$t1 - $t0" | bc -l >> "$OUT/$k.txt"
    done
done
ONE=$(median < "$OUT/one.txt"); TWO=$(median < "$OUT/two.txt")
echo "concurrency --jobs 2: one 200 ms node $ONE s, two independent 200 ms nodes $TWO s, ratio $(echo "$TWO / $ONE" | bc -l | cut -c1-5) (target < 1.5)"
