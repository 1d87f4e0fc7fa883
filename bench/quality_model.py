#!/usr/bin/env python3
"""Offline model of what any per-frame weighting can reach on a `tcbuild synth` series (bench only).

Usage: bench/quality_model.py WORKSPACE   (after bench/quality.sh; needs numpy)
From the synth truth (seeing, transparency, sky per frame): stack PSF = sum_f w_f s_f Moffat(seeing_f)
with s_f = t_f / B_f (star scale after the I/B_f normalization), background noise
sqrt(sum w_f^2 n_f^2) / sum w_f s_f with n_f = sqrt(sky_f + read_noise^2) / B_f (flux-normalized).
Field centre, no field curvature, no registration blur: relative numbers only.
Prints: the oracle frontier (weights that know the true seeing: best FWHM gain at a given noise),
then the run's own weights W_f,t (tiles/tile_weights.csv) for the reconstruction and for the final
stack (equal-weight mean of the clusters in clusters.csv), median over tiles.
"""
import json, sys, csv
import numpy as np
ws = sys.argv[1]
t = json.load(open(f"{ws}/truth/truth.json"))
pf = t["per_frame"]; N = len(pf); beta = t["moffat_beta"]; rn = t["read_noise"]; ped = t["pedestal"]
see = np.array([p["seeing_fwhm"] for p in pf]); tr = np.array([p["transparency"] for p in pf])
sky = np.array([p["background"] for p in pf], float)
B = sky + ped
s = tr / B; n = np.sqrt(sky + rn**2) / B
r = np.linspace(0, 12, 4801)
def moffat(fwhm):
    a = fwhm / (2 * np.sqrt(2 ** (1 / beta) - 1))
    return (beta - 1) / (np.pi * a * a) * (1 + (r / a) ** 2) ** (-beta)
P = np.array([moffat(x) for x in see])
def fwhm(w):
    prof = (w * s) @ P
    half = prof[0] / 2
    i = np.argmax(prof < half)
    return 2 * np.interp(half, [prof[i], prof[i - 1]], [r[i], r[i - 1]])
def noise(w):
    return np.sqrt(np.sum(w**2 * n**2)) / np.sum(w * s)
u = np.ones(N)
F0, N0 = fwhm(u), noise(u)
def rep(name, w):
    print(f"{name:55s} FWHM {100*(1-fwhm(w)/F0):6.1f} %  noise x{noise(w)/N0:.3f}  Neff {w.sum()**2/(w**2).sum():.0f}")
print(f"classical model FWHM {F0:.3f}")
rep("inverse variance (s/n^2)", s / n**2)
best = None
for a in np.linspace(0, 6, 121):
    w = s / n**2 * np.exp(-a * np.log(see))
    if noise(w) / N0 <= 1.0: best = (a, w)
rep(f"oracle: s/n^2 * seeing^-a, largest a with noise<=1 (a={best[0]:.2f})", best[1])
for target in (1.1, 1.25, 1.5, 2.0):
    for a in np.linspace(0, 30, 601):
        w = s / n**2 * np.exp(-a * np.log(see))
        if noise(w) / N0 > target: break
        bw = w
    rep(f"oracle seeing^-a at noise <= x{target}", bw)
for q in (0.5, 0.3):
    w = (see <= np.quantile(see, q)).astype(float); rep(f"best {int(q*100)} % of frames by seeing, equal weight", w)
# actual run: per-frame weights from tile_weights.csv + clusters.csv
try:
    rows = list(csv.DictReader(open(f"{ws}/tiles/tile_weights.csv")))
    files = [p["file"].split("/")[-1] for p in pf]; idx = {f: i for i, f in enumerate(files)}
    T = max(int(x["tile"]) for x in rows) + 1
    W = np.zeros((T, N))
    for x in rows: W[int(x["tile"]), idx[x["frame"].split("/")[-1]]] = float(x["W"])
    cl = np.zeros(N, int)
    for x in csv.DictReader(open(f"{ws}/clusters.csv")): cl[int(x["frame"])] = int(x["cluster"])
    k = cl.max() + 1
    print("cluster sizes", sorted(np.bincount(cl)))
    fr, nr, fs, ns = [], [], [], []
    for ti in range(T):
        w = W[ti]; fr.append(fwhm(w)); nr.append(noise(w))
        e = np.zeros(N)
        for c in range(k):
            m = cl == c; e[m] = w[m] / w[m].sum() / k
        fs.append(fwhm(e)); ns.append(noise(e))
    print(f"run reconstruction (per tile, median)   FWHM {100*(1-np.median(fr)/F0):6.1f} %  noise x{np.median(nr)/N0:.3f}")
    print(f"run final stack (per tile, median)      FWHM {100*(1-np.median(fs)/F0):6.1f} %  noise x{np.median(ns)/N0:.3f}")
    # corr of W with seeing
    lw = np.log(W); print("median over tiles of corr(log W, -log seeing):", np.median([np.corrcoef(lw[ti], -np.log(see))[0,1] for ti in range(T)]))
    print("corr(log G, -log seeing):", end=" ")
    G = np.array([float(x["G"]) for x in csv.DictReader(open(f"{ws}/frame_metrics.csv"))]); print(np.corrcoef(np.log(G), -np.log(see))[0,1])
    lL = lw - np.log(G)[None, :]
    print("median over tiles corr(log L, -log seeing):", np.median([np.corrcoef(lL[ti], -np.log(see))[0,1] for ti in range(T)]))
except FileNotFoundError as e:
    print("no run artifacts:", e)
