#!/usr/bin/env python3
"""Check that FITS files written by tcbuild open correctly in astropy and siril.

Writes nothing itself. Input: a directory produced by the Swift test
`FITSInteropTests/exportSampleSetAndVerifyRoundTrip` with TCBUILD_FITS_EXPORT_DIR set:

    TCBUILD_FITS_EXPORT_DIR=bench/out/fits swift test --filter FITSInteropTests
    python3 bench/fits_check.py bench/out/fits

For every entry of DIR/manifest.json it opens the file with astropy (first HDU with image data,
so tile-compressed .fz works), checks shape, dtype after BSCALE/BZERO, min/max/mean, sample
pixels (exact) and header keywords. Then it asks siril-cli to `load` every uncompressed file
(HOME pointed at a temp dir so no user config is touched) and checks
siril's 'Reading FITS' log line for the right number of layers and size. Exit status 0 only when all pass.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from astropy.io import fits


def image_hdu(hdul):
    for hdu in hdul:
        if hdu.data is not None and getattr(hdu, "is_image", True) and hdu.data.ndim >= 2:
            return hdu
    return None


def check_astropy(directory, entry):
    problems = []
    path = os.path.join(directory, entry["file"])
    with fits.open(path) as hdul:
        hdu = image_hdu(hdul)
        if hdu is None:
            return [f"{entry['file']}: astropy found no image HDU"]
        if entry["compressed"] and not isinstance(hdu, fits.CompImageHDU):
            problems.append(f"{entry['file']}: expected a tile-compressed HDU, got {type(hdu).__name__}")
        data = hdu.data
        if list(data.shape) != entry["shape"]:
            problems.append(f"{entry['file']}: shape {list(data.shape)} != {entry['shape']}")
        if data.dtype.name != entry["dtype"]:
            problems.append(f"{entry['file']}: dtype {data.dtype.name} != {entry['dtype']}")
        d = data.astype(np.float64)
        for stat, value in (("min", d.min()), ("max", d.max()), ("mean", d.mean())):
            want = entry[stat]
            if not abs(value - want) <= 1e-9 * max(1.0, abs(want)):
                problems.append(f"{entry['file']}: {stat} {value!r} != {want!r}")
        for c, y, x, want in entry["pixels"]:
            idx = (int(y), int(x)) if d.ndim == 2 else (int(c), int(y), int(x))
            got = float(np.float32(d[idx])) if entry["dtype"] == "float32" else float(d[idx])
            if got != want:
                problems.append(f"{entry['file']}: pixel (c={c:.0f}, y={y:.0f}, x={x:.0f}) {got!r} != {want!r}")
        header = hdu.header
        for key, want in entry["keywords"].items():
            if key not in header:
                problems.append(f"{entry['file']}: keyword {key} missing")
                continue
            got = header[key]
            ok = (str(got).strip() == want) if isinstance(got, str) else (float(got) == float(want))
            if not ok:
                problems.append(f"{entry['file']}: keyword {key} = {got!r}, expected {want!r}")
    return problems


def check_siril(directory, entries):
    exe = shutil.which("siril-cli")
    if exe is None:
        return ["siril-cli not found on PATH (install siril to run this check)"], []
    problems, loaded = [], []
    with tempfile.TemporaryDirectory(prefix="tcbuild-siril-") as home:
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"))
        for entry in entries:
            name = entry["file"]
            planes = entry["shape"][0] if len(entry["shape"]) == 3 else 1
            height, width = entry["shape"][-2:]
            # siril works in -d DIR; give it a private copy so it never writes next to the samples
            work = os.path.join(home, "work")
            os.makedirs(work, exist_ok=True)
            shutil.copy(os.path.join(directory, name), os.path.join(work, name))
            script = os.path.join(home, "check.ssf")
            with open(script, "w") as f:
                f.write(f"requires 1.0.0\nload {name}\n")
            proc = subprocess.run([exe, "-d", work, "-s", script], env=env, capture_output=True,
                                  text=True, timeout=60)
            out = proc.stdout + proc.stderr
            # siril exits 0 even when load fails; its log line is the evidence:
            # "Reading FITS: file NAME, L layer(s), WxH pixels"
            m = re.search(r"Reading FITS: file (.+?), (\d+) layer\(s\), (\d+)x(\d+) pixels", out)
            if proc.returncode != 0 or m is None:
                why = [l for l in out.splitlines() if "rror" in l and "initfile" not in l]
                problems.append(f"{name}: siril-cli exit {proc.returncode}, no 'Reading FITS' line: {' / '.join(why[-3:])}")
            elif (int(m.group(2)), int(m.group(3)), int(m.group(4))) != (planes, width, height):
                problems.append(f"{name}: siril read {m.group(2)} layer(s) {m.group(3)}x{m.group(4)}, "
                                f"expected {planes} {width}x{height}")
            else:
                loaded.append(name)
    return problems, loaded


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    directory = sys.argv[1]
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    problems = []
    for entry in manifest:
        p = check_astropy(directory, entry)
        print(f"astropy {entry['file']:<20} {'ok' if not p else 'FAIL'}")
        problems += p
    p, loaded = check_siril(directory, [e for e in manifest if not e["compressed"]])
    for name in loaded:
        print(f"siril   {name:<20} ok")
    problems += p
    for line in problems:
        print("  " + line)
    print(f"{len(manifest)} files, {len(problems)} problems")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
