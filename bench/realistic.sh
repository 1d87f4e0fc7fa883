#!/usr/bin/env bash
# Real-data bench (issue 10): twin synthetic series, identical pixels except the camera and sky defects
# (--realistic: 12-bit ADC, saturation with blooming, 30 % drift with rotation, glitch frames in BOTH;
# hot pixels, warm columns, cosmic rays, satellite and plane trails only in the second), both through
# the whole pipeline (release build), then bench/realistic.py measures against the truth: registration
# corner RMS per frame, the defects' residual in the final and classical stacks (defects - clean, in
# background sigmas, over each defect's footprint), and FWHM / noise of both.
# Usage: bench/realistic.sh [FRAMES] [SIZE] [SEED]     (defaults 120 1024x768 1)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-120}"; SIZE="${2:-1024x768}"; SEED="${3:-1}"
python3 -c "import astropy, numpy, scipy" 2>/dev/null || pip install -q astropy numpy scipy
if [ -z "${TCBUILD_BIN:-}" ]; then  # TCBUILD_BIN: a prebuilt release binary to use instead
  swift build -c release --product tcbuild >/dev/null
  TCBUILD_BIN="$(swift build -c release --show-bin-path)/tcbuild"
fi
BIN="$TCBUILD_BIN"
OUT="bench/out/realistic-$N-$SIZE"
rm -rf "$OUT"; mkdir -p "$OUT"
CLEAN="--hot-pixels 0 --warm-columns 0 --cosmic-rays 0 --trails 0 --planes 0"
"$BIN" synth "$OUT/clean" --frames "$N" --size "$SIZE" --seed "$SEED" --realistic $CLEAN >/dev/null
"$BIN" synth "$OUT/defects" --frames "$N" --size "$SIZE" --seed "$SEED" --realistic >/dev/null
# The clean run picks its reference (auto); the defects run is pinned to the same frame so the two stacks
# share one geometry and their difference is the defects' residual alone.
REF=""
for s in clean defects; do
  "$BIN" init "$OUT/$s" >/dev/null
  SETS="--set data.frames_min=10 --set pipeline.abort_on_fail=false $REF"
  /usr/bin/time -v "$BIN" run -w "$OUT/$s" -q $SETS \
    2> "$OUT/$s/time.txt" > "$OUT/$s/run.txt" || { cat "$OUT/$s/run.txt" "$OUT/$s/time.txt"; exit 1; }
  echo "$s: $(grep -E 'Elapsed' "$OUT/$s/time.txt" | sed 's/.*: //') wall, $(grep -E 'Maximum resident' "$OUT/$s/time.txt" | sed 's/.*: //') KB peak RSS"
  # Registration results and the reference, out of the store.
  mkdir -p "$OUT/$s/transforms"
  "$BIN" export -w "$OUT/$s" $SETS reference reference "$OUT/$s/transforms/reference.json" >/dev/null
  for ((i = 0; i < N; i++)); do
    n=$(printf "%05d" "$i")
    "$BIN" export -w "$OUT/$s" $SETS "register/$n" transform "$OUT/$s/transforms/$n.json" >/dev/null 2>&1 || true
  done
  REF="--set registration.reference=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['index'])" "$OUT/clean/transforms/reference.json")"
done
python3 bench/realistic.py "$OUT"
