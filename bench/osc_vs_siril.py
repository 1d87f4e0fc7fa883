#!/usr/bin/env python3
"""Judge OSC stacks on one matched star set (issue 11): tcbuild's classical stack, tcbuild's final stack and
Siril's stack, all of the same RGGB frames registered to frame 0. Each is reduced to luminance (mean of the
planes); stars found in every image (photutils DAOStarFinder, matched within 1 px) give the FWHM
(photutils fit_fwhm, median) and the flux scale (aperture photometry, median ratio to the first image);
noise at star scale = robust sigma of FWHM-sized block means of star-free background after a 31 px
median-filter background, divided by the flux scale. FoM = (noise x FWHM of reference) / (noise x FWHM).
Usage: bench/osc_vs_siril.py CLASSICAL.fit FINAL.fit SIRIL.fit
"""
import sys
import numpy as np
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from scipy import ndimage
import photutils
photutils.future_column_names = True
from photutils.detection import DAOStarFinder
from photutils.psf import fit_fwhm
from photutils.aperture import CircularAperture, aperture_photometry

names = ["tcbuild classical", "tcbuild final", "siril stack"]


def luminance(path):
    d = fits.getdata(path).astype(np.float64)
    return np.nanmean(d, axis=0) if d.ndim == 3 else d


imgs = [luminance(p) for p in sys.argv[1:4]]
h = min(i.shape[0] for i in imgs); w = min(i.shape[1] for i in imgs)
imgs = [i[:h, :w] for i in imgs]
found = []
for img in imgs:
    _, med, std = sigma_clipped_stats(img[np.isfinite(img)], sigma=3)
    t = DAOStarFinder(fwhm=3.5, threshold=8 * std, exclude_border=True)(np.nan_to_num(img - med))
    found.append((np.array([t["x_centroid"], t["y_centroid"]]).T, med))
base = found[0][0]
keep = np.ones(len(base), bool)
idx = []
for pos, _ in found:
    d = np.hypot(base[:, None, 0] - pos[None, :, 0], base[:, None, 1] - pos[None, :, 1])
    j = d.argmin(axis=1)
    keep &= d[np.arange(len(base)), j] < 1.0
    idx.append(j)
print(f"{keep.sum()} stars matched in all three images")
rows = []
flux0 = None
for k, (img, (pos, med)) in enumerate(zip(imgs, found)):
    xy = pos[idx[k][keep]]
    fw = np.median(fit_fwhm(np.nan_to_num(img - med), xypos=xy, fit_shape=9))
    flux = np.array(aperture_photometry(np.nan_to_num(img - med), CircularAperture(xy, r=6))["aperture_sum"])
    scale = 1.0 if flux0 is None else float(np.median(flux / flux0))
    if flux0 is None:
        flux0 = flux
    filled = np.where(np.isfinite(img), img, np.nanmedian(img))
    resid = filled - ndimage.median_filter(filled, size=31)
    _, _, std = sigma_clipped_stats(resid, sigma=3)
    stars = ndimage.binary_dilation(ndimage.gaussian_filter(resid, 1) > 3 * std, iterations=5)
    b = max(2, int(round(fw)))
    means = []
    for y in range(0, h - b, b):
        for x in range(0, w - b, b):
            if not stars[y:y + b, x:x + b].any() and np.isfinite(img[y:y + b, x:x + b]).all():
                means.append(resid[y:y + b, x:x + b].mean())
    means = np.array(means)
    noise = 1.4826 * np.median(np.abs(means - np.median(means))) / scale
    rows.append((names[k], fw, noise, scale))
f0, n0 = rows[0][1], rows[0][2]
fs, ns = rows[2][1], rows[2][2]
print(f"{'image':20s} {'FWHM px':>8s} {'vs classical':>12s} {'vs siril':>9s} {'noise':>10s} {'FoM vs classical':>16s} {'FoM vs siril':>12s}")
for name, fw, noise, scale in rows:
    print(f"{name:20s} {fw:8.3f} {100 * (fw / f0 - 1):+11.2f}% {100 * (fw / fs - 1):+8.2f}% {noise:10.4g} "
          f"{(n0 * f0) / (noise * fw):16.3f} {(ns * fs) / (noise * fw):12.3f}")
