#!/usr/bin/env bash
# Scale-out bench on toy tile tasks (tcbuild _tiles): the same batch through the local executor
# (1 thread), and through RabbitMQ with 1 and 2 worker processes. Reports wall times, the per-task
# overhead of the broker path ((T_1worker - T_local) / tasks) and the projected speed-up for N
# machines, k * t / (t + o) with t the task time and o the overhead (workers in parallel, the master's
# publish/collect serial part included in o).
# Needs a RabbitMQ broker (default amqp://guest:guest@localhost:5672; a vhost is created and deleted).
# The pipeline's tile phases join this bench once they run as tasks.
# Usage: bench/scale_out.sh [TASKS] [SLEEP_MS] [SIZE]   (default 300 tasks, 0 ms, 4096-byte inputs and results;
#        tiny tasks, e.g. "300 0 16", measure the pure broker round trip per task)
#        TCBUILD_BIN=path skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
TASKS="${1:-300}"
SLEEP_MS="${2:-0}"
SIZE="${3:-4096}"
if [ -z "${TCBUILD_BIN:-}" ]; then
    swift build -c release --product tcbuild >/dev/null
    TCBUILD_BIN="$(swift build -c release --show-bin-path)/tcbuild"
fi
BIN="$TCBUILD_BIN"
OUT="bench/out/scale_out"
rm -rf "$OUT"; mkdir -p "$OUT"
VHOST="tcbuild-bench-$$"
URL="${BROKER_BASE:-amqp://guest:guest@localhost:5672}/$VHOST"
rabbitmqctl add_vhost "$VHOST" >/dev/null
rabbitmqctl set_permissions -p "$VHOST" guest ".*" ".*" ".*" >/dev/null
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rabbitmqctl delete_vhost "$VHOST" >/dev/null 2>&1 || true; }
trap cleanup EXIT

seconds() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$1"; }
digests() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digests"])' "$1"; }

"$BIN" _tiles --workspace "$OUT/local" --executor local --jobs 1 --tasks "$TASKS" --sleep-ms "$SLEEP_MS" --size "$SIZE" --json > "$OUT/local.json"
for k in 1 2; do
    mkdir -p "$OUT/ws$k"
    for i in $(seq "$k"); do
        "$BIN" worker --broker "$URL" --workspace "$OUT/ws$k" --quiet & PIDS+=($!)
    done
    sleep 1  # let the workers connect, so the batch is spread over all of them
    "$BIN" _tiles --workspace "$OUT/ws$k" --broker "$URL" --tasks "$TASKS" --sleep-ms "$SLEEP_MS" --size "$SIZE" --json > "$OUT/rmq$k.json"
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; PIDS=()
    [ "$(digests "$OUT/rmq$k.json")" = "$(digests "$OUT/local.json")" ] || { echo "digests differ (k=$k)"; exit 1; }
done

python3 - "$TASKS" "$SLEEP_MS" "$(seconds "$OUT/local.json")" "$(seconds "$OUT/rmq1.json")" "$(seconds "$OUT/rmq2.json")" <<'PY'
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
