#!/usr/bin/env python3
"""Judge several images of one run on ONE matched star set (astropy + photutils; bench only).

Usage: bench/combine_quality.py WORKSPACE NAME=PATH ...   (paths relative to WORKSPACE or absolute)
       bench/combine_quality.py WORKSPACE --iv NAME      also build NAME = the inverse-variance and
                                                         plain means of WORKSPACE/registered/*.fit
                                                         (weights s/n^2 from truth/truth.json)
The reference is WORKSPACE/classical.fit (tcbuild's classical mean). Stars: DAOStarFinder on the
classical stack (5 sigma), kept when every image has a detection (3 sigma) within 1.5 px; at most 400.
Per image: median photutils fit_fwhm, flux scale (median ratio to classical of the matched stars'
aperture fluxes, r = 3 FWHM, annulus background: independent of the PSF shape, unlike DAOStarFinder's flux),
pixel noise (1.4826 MAD of star-free pixels minus a 15 px median filter) and star-scale noise
(1.4826 MAD of the means of star-free FWHM x FWHM blocks after a 31 px median-filter background),
both divided by the flux scale; FoM = (star-scale noise x FWHM of classical) / (same of the image).
"""
import glob, json, os, sys, warnings
import numpy as np
warnings.filterwarnings("ignore")
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from photutils.detection import DAOStarFinder
from photutils.psf import fit_fwhm
from photutils.aperture import CircularAperture, CircularAnnulus, ApertureStats, aperture_photometry
from scipy import ndimage

ws = sys.argv[1]
args = sys.argv[2:]

def load(path):
    p = path if os.path.isabs(path) else f"{ws}/{path}"
    d = fits.getdata(p).astype(np.float64)
    return np.nanmean(d, axis=0) if d.ndim == 3 else d

images = {"classical": load("classical.fit")}
if args and args[0] == "--iv":
    t = json.load(open(f"{ws}/truth/truth.json"))
    pf = t["per_frame"]; rn = t["read_noise"]; ped = t["pedestal"]
    files = sorted(glob.glob(f"{ws}/registered/*.fit"))
    acc = {k: None for k in ("iv", "plain")}; wsum = {"iv": None, "plain": None}
    for path in files:
        idx = int(os.path.basename(path).split("_")[1].split(".")[0])
        p = pf[idx]; B = p["background"] + ped
        s = p["transparency"] / B; n = np.sqrt(p["background"] + rn**2) / B
        d = fits.getdata(path).astype(np.float64) / B
        fin = np.isfinite(d)
        for k, w in (("iv", s / n**2), ("plain", 1.0)):
            if acc[k] is None: acc[k] = np.zeros_like(d); wsum[k] = np.zeros_like(d)
            acc[k][fin] += w * d[fin]; wsum[k][fin] += w
    for k in acc:
        with np.errstate(invalid="ignore", divide="ignore"):
            images[f"{k} mean (truth weights)"] = acc[k] / wsum[k]
    args = args[1:]
for a in args:
    name, path = a.split("=", 1)
    images[name] = load(path)

cl = images["classical"]
fin = np.isfinite(cl)
_, med, std = sigma_clipped_stats(cl[fin], sigma=3)
guess = float(json.load(open(f"{ws}/tiles/grid.json")).get("fwhm", 3.5))
ref = DAOStarFinder(fwhm=guess, threshold=5 * std, exclude_border=True)(np.nan_to_num(cl - med))
pos = np.c_[ref["xcentroid"], ref["ycentroid"]]
H, W = cl.shape
keep = (pos[:, 0] > 20) & (pos[:, 1] > 20) & (pos[:, 0] < W - 20) & (pos[:, 1] < H - 20)
found = {}
for name, img in images.items():
    f = np.isfinite(img)
    _, m, sd = sigma_clipped_stats(img[f], sigma=3)
    det = DAOStarFinder(fwhm=guess, threshold=3 * sd, exclude_border=True)(np.nan_to_num(img - m))
    dp = np.c_[det["xcentroid"], det["ycentroid"]]
    idx = []
    for p in pos:
        d = np.hypot(*(dp - p).T)
        j = int(np.argmin(d)); idx.append(j if d[j] < 1.5 else -1)
    idx = np.array(idx)
    print(f"  {name}: {len(det)} detections, {int((idx >= 0).sum())} of {len(pos)} reference stars found")
    keep &= idx >= 0
    found[name] = (det, idx, m)
sel = np.where(keep)[0][:400]
print(f"{len(sel)} stars matched in all {len(images)} images")

def star_mask(img):
    f = np.isfinite(img)
    _, m, s = sigma_clipped_stats(img[f], sigma=3)
    return ndimage.binary_dilation((img - m) > 3 * s, iterations=4) | ~f, m

def apflux(img, xy):
    """Aperture flux in r = 3 FWHM minus the median of an annulus 4-6 FWHM (independent of the PSF's shape)."""
    d = np.nan_to_num(img)
    ap = CircularAperture(xy, r=3 * guess)
    bg = ApertureStats(d, CircularAnnulus(xy, r_in=4 * guess, r_out=6 * guess)).median
    return np.asarray(aperture_photometry(d, ap)["aperture_sum"]) - bg * ap.area

cmask, _ = star_mask(cl)
rows = []
for name, img in images.items():
    det, idx, m = found[name]
    xy = np.c_[det["xcentroid"], det["ycentroid"]][idx[sel]]
    fw = float(np.median(fit_fwhm(np.nan_to_num(img - m), xypos=xy, fit_shape=9)))
    scale = float(np.median(apflux(img, pos[sel]) / apflux(cl, pos[sel])))
    mask, mm = star_mask(img)
    mask |= cmask
    filled = np.nan_to_num(img, nan=mm)
    pix = (img - ndimage.median_filter(filled, size=15))[~mask]
    pixel = 1.4826 * np.median(np.abs(pix - np.median(pix))) / scale
    b = max(2, int(round(guess)))
    resid = img - ndimage.median_filter(filled, size=31)
    hh, ww = (H // b) * b, (W // b) * b
    blocks = resid[:hh, :ww].reshape(hh // b, b, ww // b, b)
    bmask = mask[:hh, :ww].reshape(hh // b, b, ww // b, b).any(axis=(1, 3))
    means = blocks.mean(axis=(1, 3))[~bmask]
    star = 1.4826 * np.median(np.abs(means - np.median(means))) / scale
    rows.append((name, fw, scale, pixel, star))
c = rows[0]
print(f"{'image':32s} {'FWHM px':>8s} {'vs cl.':>7s} {'flux':>6s} {'pix noise':>9s} {'star noise':>10s} {'FoM':>6s}")
for name, fw, scale, pixel, star in rows:
    print(f"{name:32s} {fw:8.3f} {100 * (fw / c[1] - 1):+6.1f}% {scale:6.3f} {pixel / c[3]:9.3f} {star / c[4]:10.3f} "
          f"{(c[4] * c[1]) / (star * fw):6.3f}")
