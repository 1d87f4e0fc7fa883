#!/usr/bin/env bash
# Streaming check for phases 1-5: peak RSS of a whole `tcbuild run` (scan, registration, normalization,
# global metrics, tile geometry, local tile metrics) on 100 and on 300 synthetic frames of 1024x768,
# measured side by side with /usr/bin/time -v. Target: growth < 10 % from 100 to 300 frames.
# Usage: bench/streaming.sh [SMALL] [LARGE] [SIZE]     (defaults 100 300 1024x768)
#        TCBUILD=path/to/tcbuild uses that binary instead of building the release product.
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL="${1:-100}"; LARGE="${2:-300}"; SIZE="${3:-1024x768}"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
if [ -n "${TCBUILD:-}" ]; then BIN="$TCBUILD"; else   # TCBUILD=path uses that binary
    swift build -c release --product tcbuild >/dev/null
    BIN="$(swift build -c release --show-bin-path)/tcbuild"
fi
OUT="bench/out/streaming"
mkdir -p "$OUT"
for N in "$SMALL" "$LARGE"; do
    W="$OUT/ws-$N"
    rm -rf "$W"
    "$BIN" synth "$W" --frames "$N" --size "$SIZE" >/dev/null
    "$BIN" init "$W" >/dev/null
    /usr/bin/time -v "$BIN" run -w "$W" --set data.frames_min="$N" --until tiles/metrics --quiet 2> "$W/time.txt"
    RSS=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$W/time.txt")
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$W/time.txt")
    echo "$N frames: peak RSS $RSS KB, wall $WALL"
    echo "$RSS" > "$OUT/rss-$N.txt"
done
A=$(cat "$OUT/rss-$SMALL.txt"); B=$(cat "$OUT/rss-$LARGE.txt")
echo "growth $SMALL -> $LARGE frames: $(echo "($B - $A) * 100 / $A" | bc -l | cut -c1-5) % (target < 10 %)"
