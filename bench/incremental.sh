#!/usr/bin/env bash
# The incremental promise on the real pipeline (issue 6), measured side by side in one workspace:
#   full run; no-op rerun; synthetic.frames_max changed; tile.size_factor changed; 20 frames added with a
#   pinned reference; kill -9 during local tile metrics, then resume (compared with an uninterrupted run).
# Which nodes executed is read from each run's JSON-lines log (.tcbuild/runs/N.jsonl).
# Usage: bench/incremental.sh [FRAMES] [SIZE]   (defaults 200 1024x768; 20 of the frames are added later)
#        TCBUILD=path/to/tcbuild uses that binary instead of building the release product.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"; SIZE="${2:-1024x768}"; ADD=20
if [ -n "${TCBUILD:-}" ]; then BIN="$TCBUILD"; else   # TCBUILD=path uses that binary
    swift build -c release --product tcbuild >/dev/null
    BIN="$(swift build -c release --show-bin-path)/tcbuild"
fi
OUT="bench/out/incremental"; W="$OUT/ws"; R="$OUT/reference-ws"
rm -rf "$OUT"; mkdir -p "$OUT"
"$BIN" synth "$W" --frames "$N" --size "$SIZE" >/dev/null
mkdir -p "$W/spare"
ls "$W/frames" | sort | tail -n "$ADD" | while read -r f; do mv "$W/frames/$f" "$W/spare/$f"; done
"$BIN" init "$W" >/dev/null
COMMON=(--set data.frames_min=10 --set registration.reference=0 --set pipeline.abort_on_fail=false --quiet)

now() { date +%s.%N; }
lastlog() { ls "$W/.tcbuild/runs" | sort -n | tail -1 | sed "s|^|$W/.tcbuild/runs/|"; }
executed() { python3 -c "import json,sys; print(' '.join(sorted(json.loads(l)['node'] for l in open(sys.argv[1]) if '\"event\":\"finished\"' in l)))" "$(lastlog)"; }
count() { local pat="$1"; executed | tr ' ' '\n' | grep -c "$pat" || true; }
run() { local t0 t1; t0=$(now); "$BIN" run -w "$W" "${COMMON[@]}" "$@" > /dev/null; t1=$(now); echo "$t1 - $t0" | bc -l; }

FULL=$(run); echo "full run ($((N - ADD)) frames): $FULL s, $(executed | wc -w) nodes executed"
NOOP=$(run); echo "no-op rerun: $NOOP s, $(executed | wc -w) nodes executed (target < 0.5 s, 0)"
FM=$(run --set synthetic.frames_max=20)
echo "synthetic.frames_max 30 -> 20: $FM s = $(echo "100 * $FM / $FULL" | bc -l | cut -c1-5) % of the full run (target < 10 %); executed groups: $(executed | tr ' ' '\n' | cut -d/ -f1 | sort -u | tr '\n' ' ')"
TS=$(run --set synthetic.frames_max=20 --set tile.size_factor=20)
echo "tile.size_factor 32 -> 20: $TS s; register nodes executed: $(count '^register/') (target 0); executed groups: $(executed | tr ' ' '\n' | cut -d/ -f1 | sort -u | tr '\n' ' ')"
mv "$W/spare/"* "$W/frames/"
ADDT=$(run --set synthetic.frames_max=20 --set tile.size_factor=20)
echo "$ADD frames added (reference pinned): $ADDT s; register nodes executed: $(count '^register/') (target $ADD)"

# kill -9 while local tile metrics run (a changed overlap makes them rerun), then resume.
KILLSET=(--set synthetic.frames_max=20 --set tile.size_factor=20 --set tile.overlap_fraction=0.3)
"$BIN" run -w "$W" "${COMMON[@]}" "${KILLSET[@]}" & PID=$!
for _ in $(seq 600); do
    if grep -q '"event":"started".*"node":"local/' "$(lastlog)" 2>/dev/null; then break; fi
    sleep 0.1
done
sleep 1; kill -9 "$PID"; wait "$PID" 2>/dev/null || true
DONE_BEFORE=$(grep -c '"event":"finished"' "$(lastlog)" || true)
RES=$(run "${KILLSET[@]}")
echo "kill -9 during local metrics after $DONE_BEFORE finished nodes; resume: $RES s, register nodes executed: $(count '^register/') (target 0), local nodes executed: $(count '^local/')"
mkdir -p "$R"; cp -r "$W/frames" "$R/frames"; cp "$W/tile_compile.yaml" "$R/"
"$BIN" run -w "$R" "${COMMON[@]}" "${KILLSET[@]}" > /dev/null
if cmp -s "$W/stacked.fit" "$R/stacked.fit" && cmp -s "$W/validation.json" "$R/validation.json"; then
    echo "resumed output identical to an uninterrupted run: yes (stacked.fit byte-identical)"
else
    cmp -s "$W/stacked.fit" "$R/stacked.fit" && echo "stacked.fit identical; validation.json differs only in runtime" || echo "resumed output identical to an uninterrupted run: NO"
fi
