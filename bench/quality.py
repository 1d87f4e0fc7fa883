#!/usr/bin/env python3
"""Independent cross-check of a tcbuild run with astropy + photutils (bench only, not a dependency).

Measures on WORKSPACE/stacked.fit (tile-weighted result) and WORKSPACE/classical.fit (unweighted mean):
  - median star FWHM (photutils DAOStarFinder + photutils.psf.fit_fwhm on stars found in both, matched by position)
  - background noise on star-free pixels, both images scaled to the same flux (median ratio of matched star fluxes)
  - tile-pattern ratio: median |first difference| across tile boundary lines vs lines 3-5 px beside them
and prints them next to tcbuild's own validation.json.
Usage: bench/quality.py WORKSPACE
"""
import json, sys
import numpy as np
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from photutils.detection import DAOStarFinder
from photutils.psf import fit_fwhm
from scipy import ndimage

ws = sys.argv[1]

def load(name):
    data = fits.getdata(f"{ws}/{name}").astype(np.float64)
    if data.ndim == 3:  # RGB: luminance
        data = np.nanmean(data, axis=0)
    return data

def stars(img, fwhm_guess):
    finite = np.isfinite(img)
    _, med, std = sigma_clipped_stats(img[finite], sigma=3)
    found = DAOStarFinder(fwhm=fwhm_guess, threshold=10 * std, exclude_border=True)(np.nan_to_num(img - med))
    return found, med, std

stack, classical = load("stacked.fit"), load("classical.fit")
grid = json.load(open(f"{ws}/tiles/grid.json"))
guess = float(grid.get("fwhm", 3.5))
s_found, s_med, _ = stars(stack, guess)
c_found, c_med, _ = stars(classical, guess)
sp = np.c_[s_found["xcentroid"], s_found["ycentroid"]]
cp = np.c_[c_found["xcentroid"], c_found["ycentroid"]]
pairs = []
for i, p in enumerate(sp):
    d = np.hypot(*(cp - p).T)
    j = int(np.argmin(d))
    if d[j] < 1.5:
        pairs.append((i, j))
pairs = pairs[:400]
si = [i for i, _ in pairs]; ci = [j for _, j in pairs]

def fwhms(img, med, pos):
    xy = np.array(pos)
    keep = (xy[:, 0] > 10) & (xy[:, 1] > 10) & (xy[:, 0] < img.shape[1] - 10) & (xy[:, 1] < img.shape[0] - 10)
    return fit_fwhm(np.nan_to_num(img - med), xypos=xy[keep], fit_shape=9)

f_stack = fwhms(stack, s_med, sp[si])
f_class = fwhms(classical, c_med, cp[ci])
flux_ratio = np.median(np.asarray(s_found["flux"])[si] / np.asarray(c_found["flux"])[ci])

def background_noise(img, med, scale):
    finite = np.isfinite(img)
    _, m, s = sigma_clipped_stats(img[finite], sigma=3)
    mask = ndimage.binary_dilation((img - m) > 3 * s, iterations=4) | ~finite
    resid = (img - ndimage.median_filter(np.nan_to_num(img, nan=m), size=15))[~mask]
    return 1.4826 * np.median(np.abs(resid - np.median(resid))) / scale

n_stack = background_noise(stack, s_med, flux_ratio)
n_class = background_noise(classical, c_med, 1.0)

def tile_pattern(img):
    step, ratios = int(grid["step"]), []
    lines = sorted({t["x"] for t in grid["tiles"] if t["x"] > 0})
    for x in lines:
        for boundary in (x, x + int(grid["overlap"])):
            if 6 <= boundary < img.shape[1] - 6:
                on = np.nanmedian(np.abs(img[:, boundary] - img[:, boundary - 1]))
                off = np.nanmedian([np.nanmedian(np.abs(img[:, boundary + k] - img[:, boundary + k - 1])) for k in (3, 4, 5)])
                ratios.append(on / off)
    return float(np.median(ratios)) if ratios else float("nan")

tcb = json.load(open(f"{ws}/validation.json"))
print(f"stars matched: {len(pairs)}")
print(f"median FWHM stack {np.median(f_stack):.3f} px, classical {np.median(f_class):.3f} px, "
      f"improvement {100 * (1 - np.median(f_stack) / np.median(f_class)):.1f} % (photutils)")
print(f"background noise (flux-normalized) stack {n_stack:.4g}, classical {n_class:.4g}, ratio {n_stack / n_class:.3f}")
print(f"tile-pattern ratio (photutils script) {tile_pattern(stack):.3f}")
print("tcbuild validation.json:", json.dumps(tcb, sort_keys=True)[:2000])
