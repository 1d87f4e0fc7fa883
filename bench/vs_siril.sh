#!/usr/bin/env bash
# tcbuild's whole method vs Siril's register + stack, side by side on the same frames (issue 12).
#
# For each series: `tcbuild run` in a fresh workspace (release build) and then siril-cli's
# `register` + `stack rej w 3 3 -norm=addscale` on the same files, RUNS times alternating, under
# /usr/bin/time -v. Prints the median wall time and peak RSS of each, the ratio tcbuild / siril, and
# the per-phase node-time table of the last tcbuild run (from its manifest: sum of node durations per
# node kind, ms per frame and ms per megapixel-frame).
#
# Series (generated once into bench/out/vs_siril/, git-ignored):
#   demo   120 x 1024x768, default star density (~900 stars)
#   dense  142 x 650x500, --stars 3000 (>= 600 detected stars per frame on 0.33 Mpx)
# Usage: bench/vs_siril.sh [RUNS] [SERIES...]     (defaults: 3 demo dense)
#        TCBUILD=path/to/tcbuild uses that binary instead of building the release product.
#        SERIES may also be DIR=path/to/frames (an existing directory of FITS frames).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"; shift || true
SERIES=("$@"); [ ${#SERIES[@]} -gt 0 ] || SERIES=(demo dense)
command -v siril-cli >/dev/null || { echo "needs siril-cli (apt-get install siril)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "needs sqlite3" >&2; exit 1; }
if [ -n "${TCBUILD:-}" ]; then BIN="$TCBUILD"; else
    swift build -c release --product tcbuild >/dev/null
    BIN="$(swift build -c release --show-bin-path)/tcbuild"
fi
OUT="$PWD/bench/out/vs_siril"
mkdir -p "$OUT"
JOBS=$(nproc)

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
seconds() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$1"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.1f\n", $2/1024}' "$1"; }

for S in "${SERIES[@]}"; do
    case "$S" in
        demo)  FR="$OUT/demo/frames";  [ -d "$FR" ] || "$BIN" synth "$OUT/demo" --frames 120 --size 1024x768 >/dev/null ;;
        dense) FR="$OUT/dense/frames"; [ -d "$FR" ] || "$BIN" synth "$OUT/dense" --frames 142 --size 650x500 --stars 3000 >/dev/null ;;
        DIR=*) FR="$(cd "${S#DIR=}" && pwd)"; S="$(basename "$FR")" ;;
        *) echo "unknown series $S" >&2; exit 2 ;;
    esac
    N=$(ls "$FR" | grep -c '\.fit')
    read -r W H < <(python3 - "$FR" <<'EOF'
import sys, os
d = sys.argv[1]; f = sorted(x for x in os.listdir(d) if '.fit' in x)[0]
h = open(os.path.join(d, f), 'rb').read(2880 * 4).decode('ascii', 'replace')
cards = {h[i:i+8].strip(): h[i+10:i+80].split('/')[0].strip() for i in range(0, len(h), 80)}
print(cards['NAXIS1'], cards['NAXIS2'])
EOF
)
    MPX=$(echo "$W * $H / 1000000" | bc -l)
    echo "== $S: $N frames of ${W}x${H} ($FR), $RUNS runs, --jobs $JOBS"
    : > "$OUT/$S.tc"; : > "$OUT/$S.siril"
    for r in $(seq 1 "$RUNS"); do
        WS="$OUT/$S-ws"
        rm -rf "$WS"; "$BIN" init "$WS" >/dev/null
        /usr/bin/time -v "$BIN" run -w "$WS" --jobs "$JOBS" --quiet --set data.input_dir="$FR" \
            --set data.frames_min="$N" > "$OUT/$S-tc.log" 2> "$OUT/$S-tc.time" || echo "  (tcbuild run exited $?: a failed validation check exits 1; see $OUT/$S-tc.log)"
        echo "$(seconds "$OUT/$S-tc.time") $(rss_mb "$OUT/$S-tc.time")" >> "$OUT/$S.tc"

        SW="$OUT/$S-siril"
        rm -rf "$SW"; mkdir -p "$SW/home" "$SW/src" "$SW/seq"
        for f in "$FR"/*.fit*; do ln -s "$f" "$SW/src/$(basename "$f")"; done
        EXT=$(ls "$FR" | grep '\.fit' | head -1 | sed 's/.*\.//')
        NAME=$(ls "$FR" | grep '\.fit' | head -1 | sed 's/_*[0-9]*\.fit.*//')
        printf '%s\n' "requires 1.0.0" "setcpu $JOBS" "setext $EXT" "cd src" "link $NAME -out=../seq" "cd ../seq" \
            "register ${NAME}_" "stack r_${NAME}_ rej w 3 3 -norm=addscale -out=../stacked" > "$SW/script.ssf"
        ( cd "$SW" && HOME="$SW/home" /usr/bin/time -v siril-cli -d "$SW" -s "$SW/script.ssf" > "$SW/siril.log" 2> "$SW/time.txt" ) \
            || { echo "  siril failed:"; tail -5 "$SW/siril.log"; }
        ls "$SW"/stacked.fit* >/dev/null 2>&1 || echo "  (siril wrote no stacked.fit: see $SW/siril.log)"
        echo "$(seconds "$SW/time.txt") $(rss_mb "$SW/time.txt")" >> "$OUT/$S.siril"
        echo "  run $r: tcbuild $(tail -1 "$OUT/$S.tc" | awk '{print $1" s, "$2" MB"}'); siril $(tail -1 "$OUT/$S.siril" | awk '{print $1" s, "$2" MB"}')"
    done
    TC=$(awk '{print $1}' "$OUT/$S.tc" | median); SI=$(awk '{print $1}' "$OUT/$S.siril" | median)
    TR=$(awk '{print $2}' "$OUT/$S.tc" | median); SR=$(awk '{print $2}' "$OUT/$S.siril" | median)
    printf '  median: tcbuild %.1f s (peak RSS %s MB), siril %.1f s (peak RSS %s MB), ratio tcbuild/siril %.2f\n' \
        "$TC" "$TR" "$SI" "$SR" "$(echo "$TC / $SI" | bc -l)"
    echo "  per-phase node time of the last tcbuild run (sum over nodes of a kind):"
    printf '  %-16s %6s %10s %12s %14s\n' kind nodes "total s" "ms/frame" "ms/Mpx-frame"
    sqlite3 -separator ' ' "$WS/.tcbuild/manifest.sqlite" \
        "SELECT kind, COUNT(*), SUM(duration) FROM executions GROUP BY kind ORDER BY SUM(duration) DESC" |
        while read -r K C T; do
            printf '  %-16s %6d %10.2f %12.1f %14.1f\n' "$K" "$C" "$T" "$(echo "$T * 1000 / $N" | bc -l)" \
                "$(echo "$T * 1000 / $N / $MPX" | bc -l)"
        done
done
