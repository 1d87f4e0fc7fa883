#!/usr/bin/env bash
# End-to-end quality bench (issues 5, 11): a synthetic series of N frames of WxH (the realistic night:
# seeing CV 17 %, a cloud passage, a sky rising 150 %) through the whole pipeline (release build) with the
# default (noise-aware) weights and again with METHOD's literal weights (only tiles/metrics and what
# follows rerun), then the independent photutils cross-check (bench/quality.py) and the model's
# frontier from the truth (bench/quality_model.py).
# Usage: bench/quality.sh [FRAMES] [SIZE]     (defaults 120 1024x768); SCRATCH=.build-rel by default
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-120}"; SIZE="${2:-1024x768}"; SCRATCH="${SCRATCH:-.build-rel}"
python3 -c "import astropy, photutils, scipy" 2>/dev/null || pip install -q astropy photutils scipy
swift build -c release --scratch-path "$SCRATCH" --product tcbuild >/dev/null
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/tcbuild"
W="bench/out/quality-$N"
rm -rf "$W"
"$BIN" synth "$W" --frames "$N" --size "$SIZE" >/dev/null
"$BIN" init "$W" >/dev/null
python3 bench/quality_model.py "$W" | sed -n '1,9p'
for mode in literal noise_aware; do
  echo "== weighting.mode=$mode"
  /usr/bin/time -v "$BIN" run -w "$W" --set data.frames_min="$N" --set weighting.mode=$mode 2> "$W/time-$mode.txt" >/dev/null || true
  grep -E "Elapsed|Maximum resident" "$W/time-$mode.txt"
  python3 - "$W" <<'PY'
import json, sys
v = json.load(open(f"{sys.argv[1]}/validation.json"))
print("validation", "PASSED" if v["passed"] else "FAILED", {c["name"]: c["value"] for c in v["checks"] if c["measured"]})
for q in v.get("stacks", []):
    print(f"  {q['name']:24s} FWHM {q['fwhm']:.3f} px  gain {q['fwhm_gain_percent']:+.2f} %  noise star x{q['star_scale_noise_ratio']:.3f}  pixel x{q['pixel_noise_ratio']:.3f}  FoM {q['fom']:.3f}")
PY
  python3 bench/quality.py "$W" stacked.fit reconstruction.fit inverse_variance.fit | grep -v "^tcbuild validation"
done
