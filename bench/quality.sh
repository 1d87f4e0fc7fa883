#!/usr/bin/env bash
# End-to-end quality bench (issue 5): a synthetic series of N frames of WxH through the whole pipeline
# (release build), then an independent cross-check of the stack vs the classical stack with
# astropy + photutils (bench/quality.py).
# Usage: bench/quality.sh [FRAMES] [SIZE]     (defaults 200 1024x768)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"; SIZE="${2:-1024x768}"
python3 -c "import astropy, photutils, scipy" 2>/dev/null || pip install -q astropy photutils scipy
swift build -c release --product tcbuild >/dev/null
BIN="$(swift build -c release --show-bin-path)/tcbuild"
W="bench/out/quality-$N"
rm -rf "$W"
"$BIN" synth "$W" --frames "$N" --size "$SIZE" >/dev/null
"$BIN" init "$W" >/dev/null
/usr/bin/time -v "$BIN" run -w "$W" --set data.frames_min="$N" 2> "$W/time.txt" || true
grep -E "Elapsed|Maximum resident" "$W/time.txt"
python3 bench/quality.py "$W"
