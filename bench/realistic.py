#!/usr/bin/env python3
"""Real-data acceptance measurements (issue 10), independent of tcbuild's own numbers.

OUT holds two workspaces made by bench/realistic.sh from twin series whose pixels are identical except
the defects (clean/ and defects/). Measures, against defects/truth/truth.json:
  1. registration: per frame, RMS over the four reference corners of |tcbuild transform - truth|, where
     the truth transform of frame f relative to the reference frame r is T_f o T_r^-1; glitch frames
     separately; excluded frames named;
  2. residual of each defect kind in the final stack (stacked.fit) and the classical stack
     (classical.fit): D = defects - clean, in units of the clean stack's background pixel noise, over the
     defect's footprint in reference coordinates (the frame-coordinate geometry from the truth, mapped
     through the truth transforms of every registered frame, dilated), star pixels left out;
  3. FWHM (photutils fit_fwhm on stars found in both) and background noise of both final stacks.
Usage: bench/realistic.py OUT
"""
import json, math, os, sys
import numpy as np
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from scipy import ndimage
import photutils
photutils.future_column_names = True

out = sys.argv[1]
truth = json.load(open(f"{out}/defects/truth/truth.json"))
W, H = truth["width"], truth["height"]
frames = truth["per_frame"]


def mat(t):
    """3x3 matrix of a similarity transform dict (reference catalog -> frame)."""
    c, s = math.cos(t["rotation"]) * t["scale"], math.sin(t["rotation"]) * t["scale"]
    return np.array([[c, -s, t["tx"]], [s, c, t["ty"]], [0, 0, 1.0]])


def load(ws, name):
    data = fits.getdata(f"{ws}/{name}").astype(np.float64)
    return np.nanmean(data, axis=0) if data.ndim == 3 else data


def registration(ws):
    ref = json.load(open(f"{ws}/transforms/reference.json"))
    r = ref["index"]
    to_ref = np.linalg.inv(mat(frames[r]["transform"]))
    corners = np.array([[0, 0, 1], [W - 1, 0, 1], [0, H - 1, 1], [W - 1, H - 1, 1]], float).T
    rows = []
    for f in frames:
        i = f["index"]
        path = f"{ws}/transforms/{i:05d}.json"
        res = json.load(open(path)) if os.path.exists(path) else None
        truth_rel = mat(f["transform"]) @ to_ref
        glitch = bool(f.get("glitch"))
        if res is None or res.get("excluded") or res.get("transform") is None:
            rows.append((i, glitch, None, (res or {}).get("excluded", "no result")))
            continue
        found = mat(res["transform"])
        d = (found @ corners - truth_rel @ corners)[:2]
        rows.append((i, glitch, float(np.sqrt((d ** 2).sum(axis=0).mean())), None))
    return r, to_ref, rows


def footprints(r_to_ref, registered):
    """Boolean masks (reference coordinates) per defect kind, from the truth geometry of every registered frame."""
    kinds = {k: np.zeros((H, W), bool) for k in ("hot pixels", "cosmic rays", "satellite trails", "plane trails")}

    def to_ref(f, xs, ys):
        inv = np.linalg.inv(mat(f["transform"]) @ r_to_ref)
        p = inv @ np.vstack([xs, ys, np.ones_like(xs)])
        return p[0], p[1]

    def paint(mask, xs, ys):
        xi, yi = np.rint(xs).astype(int), np.rint(ys).astype(int)
        ok = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
        mask[yi[ok], xi[ok]] = True

    def line(f, x0, y0, x1, y1, mask):
        n = int(math.hypot(x1 - x0, y1 - y0) * 2) + 2
        t = np.linspace(0, 1, n)
        paint(mask, *to_ref(f, x0 + t * (x1 - x0), y0 + t * (y1 - y0)))

    hot = truth.get("hot_pixels", [])
    for f in frames:
        if f["index"] not in registered:
            continue
        if hot:
            paint(kinds["hot pixels"], *to_ref(f, np.array([h["x"] for h in hot], float), np.array([h["y"] for h in hot], float)))
        for c in f.get("cosmic_rays", []) or []:
            pts = c.get("pixels") or [{"x": c["x"], "y": c["y"]}]
            xs = np.array([p["x"] for p in pts], float); ys = np.array([p["y"] for p in pts], float)
            paint(kinds["cosmic rays"], *to_ref(f, xs, ys))
        for t in f.get("satellite_trails", []) or []:
            line(f, t["x0"], t["y0"], t["x1"], t["y1"], kinds["satellite trails"])
        for t in f.get("plane_trails", []) or []:
            line(f, t["x0"], t["y0"], t["x1"], t["y1"], kinds["plane trails"])
    grow = {"hot pixels": 3, "cosmic rays": 4, "satellite trails": 4, "plane trails": 8}
    return {k: ndimage.binary_dilation(m, iterations=grow[k]) for k, m in kinds.items()}


def pixel_noise(img):
    """Robust pixel noise of star-free background: MAD of img minus a 15 px median filter."""
    filled = np.where(np.isfinite(img), img, np.nanmedian(img))
    resid = filled - ndimage.median_filter(filled, size=15)
    _, med, std = sigma_clipped_stats(resid, sigma=3)
    return 1.4826 * np.median(np.abs(resid - med)[np.abs(resid - med) < 5 * std]), filled


def star_mask(img, noise):
    smooth = ndimage.median_filter(img, size=31)
    return ndimage.binary_dilation(ndimage.gaussian_filter(img - smooth, 1) > 5 * noise / 2, iterations=4)


def fwhm_of(img, noise):
    from photutils.detection import DAOStarFinder
    from photutils.psf import fit_fwhm
    _, med, std = sigma_clipped_stats(img[np.isfinite(img)], sigma=3)
    found = DAOStarFinder(fwhm=3.5, threshold=15 * std, exclude_border=True)(np.nan_to_num(img - med))
    return found, med


def main():
    print(f"series: {len(frames)} frames of {W}x{H}, seed {truth['seed']}, {truth.get('adc_bits', 16)}-bit")
    ws_d, ws_c = f"{out}/defects", f"{out}/clean"
    r, r_to_ref, rows = registration(ws_d)
    ok = [x for x in rows if x[2] is not None]
    normal = [x[2] for x in ok if not x[1]]
    glitch = [x for x in rows if x[1]]
    excluded = [x for x in rows if x[2] is None]
    print(f"registration (defects series, reference frame {r}): {len(ok)} registered, {len(excluded)} excluded")
    if normal:
        print(f"  non-glitch frames: corner RMS median {np.median(normal):.4f} px, max {max(normal):.4f} px, "
              f"frames >= 0.1 px: {[x[0] for x in ok if not x[1] and x[2] >= 0.1]}")
    for i, _, rms, why in glitch:
        print(f"  glitch frame {i:05d}: " + (f"registered, corner RMS {rms:.4f} px" if rms is not None else f"excluded ({why})"))
    for i, g, rms, why in excluded:
        if not g:
            print(f"  EXCLUDED non-glitch frame {i:05d}: {why}")
    trail_frames = [f["index"] for f in frames if f.get("satellite_trails") or f.get("plane_trails")]
    for i in trail_frames:
        rms = next((x[2] for x in rows if x[0] == i), None)
        print(f"  trail frame {i:05d}: " + (f"corner RMS {rms:.4f} px" if rms is not None else "excluded"))

    registered = {x[0] for x in ok}
    masks = footprints(r_to_ref, registered)
    for name in ("stacked.fit", "classical.fit"):
        a, b = load(ws_c, name), load(ws_d, name)
        noise, filled = pixel_noise(a)
        stars = star_mask(filled, noise)
        d = (b - a) / noise
        print(f"{name}: background pixel noise {noise:.5g}; residual of the defects (defects - clean) in sigmas:")
        for kind, m in masks.items():
            sel = m & ~stars & np.isfinite(d)
            if sel.sum() == 0:
                print(f"  {kind:17s}: no footprint")
                continue
            v = np.abs(d[sel])
            print(f"  {kind:17s}: {sel.sum():7d} px, max {v.max():6.2f}, 99.9 % {np.percentile(v, 99.9):5.2f}, "
                  f"> 3 sigma: {(v > 3).sum()} px ({100 * (v > 3).mean():.3f} %)")
        rest = ~np.any(np.stack(list(masks.values())), axis=0) & ~stars & np.isfinite(d)
        v = np.abs(d[rest])
        print(f"  {'elsewhere':17s}: {rest.sum():7d} px, max {v.max():6.2f}, > 3 sigma: {(v > 3).sum()} px")

    # FWHM and noise of the two final stacks on one matched star set.
    from photutils.psf import fit_fwhm
    a, b = load(ws_c, "stacked.fit"), load(ws_d, "stacked.fit")
    fa, ma = fwhm_of(a, None)
    fb, mb = fwhm_of(b, None)
    pa = np.array([fa["x_centroid"], fa["y_centroid"]]).T
    pb = np.array([fb["x_centroid"], fb["y_centroid"]]).T
    dist = np.hypot(pa[:, None, 0] - pb[None, :, 0], pa[:, None, 1] - pb[None, :, 1])
    j = dist.argmin(axis=1)
    keep = dist[np.arange(len(pa)), j] < 1.0
    pa, pb = pa[keep], pb[j[keep]]
    peak = np.array(fa["peak"])[keep]
    unsat = peak < np.percentile(peak, 90)  # the brightest 10 % may be saturated or bloomed
    wa = fit_fwhm(np.nan_to_num(a - ma), xypos=pa[unsat], fit_shape=9)
    wb = fit_fwhm(np.nan_to_num(b - mb), xypos=pb[unsat], fit_shape=9)
    na, _ = pixel_noise(a)
    nb, _ = pixel_noise(b)
    print(f"final stack on {unsat.sum()} matched stars: FWHM clean {np.median(wa):.4f} px, defects {np.median(wb):.4f} px "
          f"({100 * (np.median(wb) / np.median(wa) - 1):+.2f} %); pixel noise clean {na:.5g}, defects {nb:.5g} "
          f"({100 * (nb / na - 1):+.2f} %)")


main()
