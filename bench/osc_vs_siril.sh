#!/usr/bin/env bash
# OSC quality vs Siril (issue 11): a generated RGGB series through tcbuild (release build, reference pinned
# to frame 0 as Siril's default) and through siril-cli (convert -debayer, register, stack rej w 3 3
# -norm=addscale), then bench/osc_vs_siril.py judges the luminance of tcbuild's classical stack, tcbuild's
# final stack and Siril's stack on one matched star set (photutils): FWHM, star-scale noise, FoM.
# Usage: bench/osc_vs_siril.sh [FRAMES] [SIZE] [SEED]      (defaults 80 1024x768 1)
#        TCBUILD_BIN=path/to/tcbuild uses that binary instead of building the release product.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-80}"; SIZE="${2:-1024x768}"; SEED="${3:-1}"
command -v siril-cli >/dev/null || { echo "needs siril-cli (apt-get install siril)" >&2; exit 1; }
python3 -c "import astropy, photutils, scipy" 2>/dev/null || pip install -q astropy photutils scipy
if [ -z "${TCBUILD_BIN:-}" ]; then
  swift build -c release --product tcbuild >/dev/null
  TCBUILD_BIN="$(swift build -c release --show-bin-path)/tcbuild"
fi
OUT="$PWD/bench/out/osc-$N-$SIZE"
rm -rf "$OUT"; mkdir -p "$OUT"
"$TCBUILD_BIN" synth "$OUT/tc" --cfa --frames "$N" --size "$SIZE" --seed "$SEED" >/dev/null
"$TCBUILD_BIN" init "$OUT/tc" >/dev/null
/usr/bin/time -v "$TCBUILD_BIN" run -w "$OUT/tc" -q --set data.frames_min=10 --set pipeline.abort_on_fail=false \
  --set registration.reference=0 > "$OUT/tc/run.txt" 2> "$OUT/tc/time.txt" || { cat "$OUT/tc/run.txt"; exit 1; }
echo "tcbuild: $(grep Elapsed "$OUT/tc/time.txt" | sed 's/.*: //') wall"

SW="$OUT/siril"; mkdir -p "$SW/home" "$SW/src" "$SW/seq"
for f in "$OUT/tc/frames"/*.fits; do ln -s "$f" "$SW/src/$(basename "$f")"; done
printf '%s\n' "requires 1.0.0" "setcpu $(nproc)" "setext fits" "cd src" "convert frame -debayer -out=../seq" "cd ../seq" \
  "register frame_" "stack r_frame_ rej w 3 3 -norm=addscale -out=../stacked" > "$SW/script.ssf"
( cd "$SW" && HOME="$SW/home" /usr/bin/time -v siril-cli -d "$SW" -s "$SW/script.ssf" > "$SW/siril.log" 2> "$SW/time.txt" ) \
  || { echo "siril failed:"; tail -5 "$SW/siril.log"; exit 1; }
echo "siril: $(grep Elapsed "$SW/time.txt" | sed 's/.*: //') wall"
python3 bench/osc_vs_siril.py "$OUT/tc/classical.fit" "$OUT/tc/stacked.fit" "$(ls "$SW"/stacked.fit*)"
