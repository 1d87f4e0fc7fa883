#!/usr/bin/env bash
# Scale-out bench (docs/scale-out.md). Two modes; both need a RabbitMQ broker (default
# amqp://guest:guest@localhost:5672; a vhost is created and deleted) and check that every executor
# gives the same bytes.
#
# bench/scale_out.sh [pipeline] [FRAMES] [SIZE]     (default: 60 frames of 1024x768)
#   The pipeline's tile phases (reconstruct + synthetic/NN, task kind reconstruct.tile) on a real
#   series (`tcbuild synth`, generated once into bench/out/scale_out/): one full local run, then the
#   workspace is copied four times and each copy reruns only the tile nodes (reconstruction.eps
#   changed) with: local --jobs 1, local --jobs 2, rabbitmq + 1 worker, rabbitmq + 2 workers. Reports
#   wall time, the tile nodes' summed node time, tasks, per-task time t (local, 1 thread) and the
#   per-task overhead o of the broker path ((T_1worker - T_local1) / tasks: publish, delivery, result
#   message, ack, checksum verification, and the result write/read through the shared store that the
#   local executor also does), the projected speed-up k * t / (t + o) for k machines, and compares
#   stacked.fit, reconstruction.fit and the synthetic frames byte for byte.
#
# bench/scale_out.sh toy [TASKS] [SLEEP_MS] [SIZE]  (default 300 tasks, 0 ms, 4096-byte inputs and results)
#   The same toy batch (tcbuild _tiles) locally (1 thread) and through 1 and 2 workers: the pure
#   broker round trip per task (tiny tasks, e.g. "toy 300 0 16") or the store cost of a result of
#   SIZE bytes (e.g. "toy 300 0 74000", a 96x96 tile of Doubles).
#
# TCBUILD_BIN=path skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=pipeline
if [ "${1:-}" = toy ] || [ "${1:-}" = pipeline ]; then MODE="$1"; shift; fi
if [ -z "${TCBUILD_BIN:-}" ]; then
    swift build -c release --product tcbuild >/dev/null
    TCBUILD_BIN="$(swift build -c release --show-bin-path)/tcbuild"
fi
BIN="$TCBUILD_BIN"
OUT="$PWD/bench/out/scale_out"
mkdir -p "$OUT"
VHOST="tcbuild-bench-$$"
URL="${BROKER_BASE:-amqp://guest:guest@localhost:5672}/$VHOST"
rabbitmqctl add_vhost "$VHOST" >/dev/null
rabbitmqctl set_permissions -p "$VHOST" guest ".*" ".*" ".*" >/dev/null
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rabbitmqctl delete_vhost "$VHOST" >/dev/null 2>&1 || true; }
trap cleanup EXIT
start_workers() {  # start_workers K WORKSPACE
    for i in $(seq "$1"); do "$BIN" worker --broker "$URL" --workspace "$2" --quiet & PIDS+=($!); done
    sleep 1  # let the workers connect, so the batch is spread over all of them
}
stop_workers() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }

if [ "$MODE" = toy ]; then
    TASKS="${1:-300}"; SLEEP_MS="${2:-0}"; SIZE="${3:-4096}"
    rm -rf "$OUT/toy"; mkdir -p "$OUT/toy"
    seconds() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$1"; }
    digests() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digests"])' "$1"; }
    "$BIN" _tiles --workspace "$OUT/toy/local" --executor local --jobs 1 --tasks "$TASKS" --sleep-ms "$SLEEP_MS" --size "$SIZE" --json > "$OUT/toy/local.json"
    for k in 1 2; do
        mkdir -p "$OUT/toy/ws$k"
        start_workers "$k" "$OUT/toy/ws$k"
        "$BIN" _tiles --workspace "$OUT/toy/ws$k" --broker "$URL" --tasks "$TASKS" --sleep-ms "$SLEEP_MS" --size "$SIZE" --json > "$OUT/toy/rmq$k.json"
        stop_workers
        [ "$(digests "$OUT/toy/rmq$k.json")" = "$(digests "$OUT/toy/local.json")" ] || { echo "digests differ (k=$k)"; exit 1; }
    done
    python3 - "$TASKS" "$SLEEP_MS" "$(seconds "$OUT/toy/local.json")" "$(seconds "$OUT/toy/rmq1.json")" "$(seconds "$OUT/toy/rmq2.json")" <<'PY'
import sys
n, sleep_ms = int(sys.argv[1]), float(sys.argv[2])
local, one, two = map(float, sys.argv[3:6])
t = local / n
o_raw = (one - local) / n
o = max(0.0, o_raw)  # a negative difference is measurement noise
print(f"tasks {n}, sleep {sleep_ms:g} ms per task; results bit-identical across executors")
print(f"local (1 thread): {local:.3f} s  ({t*1000:.2f} ms/task)")
print(f"rabbitmq 1 worker: {one:.3f} s, 2 workers: {two:.3f} s")
print(f"overhead per task: {o_raw*1000:.2f} ms" + ("" if o_raw >= 0 else " (noise; 0 used below)"))
for k in (1, 2, 4, 8, 16):
    tt = max(t, 1e-9)
    print(f"projected speed-up on {k:2d} machines for {tt*1000:.1f} ms tasks: {k * tt / (tt + o):.2f}x;"
          f" for 2 s tasks: {k * 2 / (2 + o):.2f}x")
PY
    exit 0
fi

FRAMES="${1:-60}"; SIZE="${2:-1024x768}"
SERIES="$OUT/series-$FRAMES-$SIZE"
[ -d "$SERIES/frames" ] || "$BIN" synth "$SERIES" --frames "$FRAMES" --size "$SIZE" >/dev/null
SETS=(--set data.frames_min="$FRAMES" --set pipeline.abort_on_fail=false)
BASE="$OUT/ws-base"
rm -rf "$BASE" "$OUT"/ws-local1 "$OUT"/ws-local2 "$OUT"/ws-rmq1 "$OUT"/ws-rmq2
"$BIN" init "$BASE" --input "$SERIES/frames" >/dev/null
echo "== $FRAMES frames of $SIZE: full local run (not timed here) ..."
"$BIN" run -w "$BASE" --quiet "${SETS[@]}" >/dev/null || true
# Tile nodes only: a changed reconstruction.eps reruns reconstruct and synthetic/NN (and what follows).
TILE=(--set reconstruction.eps=2e-06)
tile_stats() {  # tile_stats WS -> "node_seconds tasks"
    sqlite3 -separator ' ' "$1/.tcbuild/manifest.sqlite" "SELECT ROUND(SUM(duration),3) FROM executions WHERE run_id=(SELECT MAX(id) FROM runs) AND kind IN ('reconstruct','synthetic')"
}
tasks_of() {  # tile tasks of the latest run of WS
    local last; last=$(ls "$1/.tcbuild/runs" | sort -n | tail -1)
    grep -o '[0-9]* tile tasks (' "$1/.tcbuild/runs/$last" | awk '{s+=$1} END {print s+0}'
}
declare -A WALL NODE
for v in local1 local2 rmq1 rmq2; do
    cp -a "$BASE" "$OUT/ws-$v"
    EXTRA=(--jobs 1)
    case $v in
        local2) EXTRA=(--jobs 2) ;;
        rmq1) start_workers 1 "$OUT/ws-$v"; EXTRA=(--jobs 1 --executor rabbitmq --broker "$URL") ;;
        rmq2) start_workers 2 "$OUT/ws-$v"; EXTRA=(--jobs 2 --executor rabbitmq --broker "$URL") ;;
    esac
    T0=$(date +%s.%N)
    "$BIN" run -w "$OUT/ws-$v" --quiet "${SETS[@]}" "${TILE[@]}" "${EXTRA[@]}" >/dev/null || true
    WALL[$v]=$(echo "$(date +%s.%N) - $T0" | bc -l)
    stop_workers
    NODE[$v]=$(tile_stats "$OUT/ws-$v")
    echo "  $v: wall $(printf %.2f "${WALL[$v]}") s, tile nodes $(printf %.2f "${NODE[$v]}") s"
done
TASKS=$(tasks_of "$OUT/ws-local1")
for v in local2 rmq1 rmq2; do
    for f in stacked.fit reconstruction.fit $(cd "$OUT/ws-local1" && ls -d synthetic/*); do
        cmp -s "$OUT/ws-local1/$f" "$OUT/ws-$v/$f" || { echo "$f differs between local1 and $v"; exit 1; }
    done
done
python3 - "$TASKS" "${NODE[local1]}" "${NODE[local2]}" "${NODE[rmq1]}" "${NODE[rmq2]}" "${WALL[local1]}" "${WALL[local2]}" "${WALL[rmq1]}" "${WALL[rmq2]}" <<'PY'
import sys
n = int(sys.argv[1]); l1, l2, r1, r2, wl1, wl2, wr1, wr2 = map(float, sys.argv[2:10])
t = l1 / n
o_raw = (r1 - l1) / n
o = max(0.0, o_raw)
print(f"tile tasks: {n} (reconstruct + synthetic/NN); stacked.fit, reconstruction.fit and every synthetic frame identical across executors")
print(f"tile nodes: local 1 thread {l1:.2f} s, local 2 threads {l2:.2f} s, 1 worker {r1:.2f} s, 2 workers {r2:.2f} s")
print(f"run wall:   local 1 thread {wl1:.2f} s, local 2 threads {wl2:.2f} s, 1 worker {wr1:.2f} s, 2 workers {wr2:.2f} s")
print(f"per task: t = {t*1000:.1f} ms (local, 1 thread), broker overhead o = {o_raw*1000:.2f} ms" + ("" if o_raw >= 0 else " (noise; 0 used below)"))
for k in (1, 2, 4, 8, 16, 32):
    print(f"projected speed-up of the tile phases on {k:2d} machines: {k * t / (t + o):.2f}x")
PY
