#!/usr/bin/env bash
# Quality of two tcbuild binaries side by side (issue 12: "nothing gets worse"): one synthetic series
# (the bench/quality.sh realistic night), the default config run by each binary in its own workspace,
# then tcbuild's validation table and the independent photutils cross-check (bench/quality.py) for each.
# Usage: bench/quality_ab.sh OLD_BINARY NEW_BINARY [FRAMES] [SIZE]   (defaults 120 1024x768)
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="$1"; NEW="$2"; N="${3:-120}"; SIZE="${4:-1024x768}"
python3 -c "import astropy, photutils, scipy" 2>/dev/null || pip install -q astropy photutils scipy
W="bench/out/quality-ab"
rm -rf "$W"; mkdir -p "$W"
"$NEW" synth "$W/series" --frames "$N" --size "$SIZE" >/dev/null
for x in old new; do
  BIN="$OLD"; [ "$x" = new ] && BIN="$NEW"
  "$BIN" init "$W/$x" >/dev/null
  /usr/bin/time -f "%e s wall, %U s user, %M KB peak RSS" "$BIN" run -w "$W/$x" --quiet \
      --set data.input_dir="$PWD/$W/series/frames" --set data.frames_min="$N" > /dev/null 2> "$W/$x.time" || true
  echo "== $x ($BIN): $(tail -1 "$W/$x.time")"
  python3 - "$W/$x" <<'PY'
import json, sys
v = json.load(open(f"{sys.argv[1]}/validation.json"))
for q in v.get("stacks", []):
    print(f"  {q['name']:24s} FWHM {q['fwhm']:.3f} px  gain {q['fwhm_gain_percent']:+.2f} %  noise star x{q['star_scale_noise_ratio']:.3f}  pixel x{q['pixel_noise_ratio']:.3f}  FoM {q['fom']:.3f}")
PY
  python3 bench/quality.py "$W/$x" stacked.fit reconstruction.fit inverse_variance.fit 2>/dev/null | grep "^photutils"
done
