#!/usr/bin/env python3
"""Independent cross-check of a tcbuild run with astropy + photutils (bench only, not a dependency).

Measures on WORKSPACE/stacked.fit (tile-weighted result) and WORKSPACE/classical.fit (unweighted mean):
  - median star FWHM (photutils DAOStarFinder + photutils.psf.fit_fwhm on stars found in both, matched by position)
  - background noise on star-free pixels, both images scaled to the same flux (median ratio of matched star fluxes)
  - tile-pattern ratio: median |first difference| across tile boundary lines vs lines 3-5 px beside them
and prints them next to tcbuild's own validation.json.
Usage: bench/quality.py WORKSPACE [IMAGE ...]   (images relative to WORKSPACE; default stacked.fit)
Each image is judged against classical.fit: FWHM on matched stars, flux-normalized noise at star scale
(FWHM-sized block means of star-free background) and per pixel, FoM = (noise x FWHM classical) / (noise x FWHM image).
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

classical = load("classical.fit")
names = sys.argv[2:] or ["stacked.fit"]
grid = json.load(open(f"{ws}/tiles/grid.json"))
guess = float(grid.get("fwhm", 3.5))
c_found, c_med, _ = stars(classical, guess)
cp = np.c_[c_found["xcentroid"], c_found["ycentroid"]]

def fwhms(img, med, pos):
    xy = np.array(pos)
    keep = (xy[:, 0] > 10) & (xy[:, 1] > 10) & (xy[:, 0] < img.shape[1] - 10) & (xy[:, 1] < img.shape[0] - 10)
    return fit_fwhm(np.nan_to_num(img - med), xypos=xy[keep], fit_shape=9)

def masked_residual(img):
    finite = np.isfinite(img)
    _, m, s = sigma_clipped_stats(img[finite], sigma=3)
    mask = ndimage.binary_dilation((img - m) > 3 * s, iterations=4) | ~finite
    return img - ndimage.median_filter(np.nan_to_num(img, nan=m), size=15), mask

def background_noise(img, scale):
    resid, mask = masked_residual(img)
    r = resid[~mask]
    return 1.4826 * np.median(np.abs(r - np.median(r))) / scale

def star_scale_noise(img, scale, block):
    """MAD of the means of block x block star-free blocks of the background-subtracted image."""
    resid, mask = masked_residual(img)
    h, w = (img.shape[0] // block) * block, (img.shape[1] // block) * block
    rb = resid[:h, :w].reshape(h // block, block, w // block, block)
    mb = mask[:h, :w].reshape(h // block, block, w // block, block).any(axis=(1, 3))
    means = rb.mean(axis=(1, 3))[~mb]
    return 1.4826 * np.median(np.abs(means - np.median(means))) / scale

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


pairs_c = None
for name in names:
    stack = load(name)
    s_found, s_med, _ = stars(stack, guess)
    sp = np.c_[s_found["xcentroid"], s_found["ycentroid"]]
    pairs = []
    for i, p in enumerate(sp):
        d = np.hypot(*(cp - p).T)
        j = int(np.argmin(d))
        if d[j] < 1.5:
            pairs.append((i, j))
    pairs = pairs[:400]
    si = [i for i, _ in pairs]; ci = [j for _, j in pairs]
    f_stack, f_class = np.median(fwhms(stack, s_med, sp[si])), np.median(fwhms(classical, c_med, cp[ci]))
    flux_ratio = np.median(np.asarray(s_found["flux"])[si] / np.asarray(c_found["flux"])[ci])
    block = max(2, int(round(f_class)))
    n_pix = background_noise(stack, flux_ratio) / background_noise(classical, 1.0)
    n_star = star_scale_noise(stack, flux_ratio, block) / star_scale_noise(classical, 1.0, block)
    print(f"photutils {name:22s} {len(pairs)} stars: FWHM {f_stack:.3f} vs classical {f_class:.3f} px "
          f"({100 * (1 - f_stack / f_class):+.1f} % sharper), noise star scale ({block} px) x{n_star:.3f}, pixel x{n_pix:.3f}, "
          f"FoM {f_class / (f_stack * n_star):.3f}" + (f", tile pattern {tile_pattern(stack):.3f}" if name == "stacked.fit" else ""))
