#!/usr/bin/env python3
"""Offline model of what any per-frame weighting can reach on a `tcbuild synth` series (bench only).

Usage: bench/quality_model.py WORKSPACE   (needs numpy; run artifacts are optional)
From the synth truth (truth/truth.json: per-frame seeing FWHM, transparency, background; Moffat beta,
read noise, gain, pedestal): frame f, normalized as the pipeline does (I / B_f, B_f = sky + pedestal),
has star scale s_f = t_f / B_f and background noise n_f = sqrt(sky_f / gain + read_noise^2) / B_f.
A linear weighted mean with weights w has PSF sum_f w_f s_f Moffat(seeing_f) and flux-normalized noise
sqrt(sum w^2 n^2) / sum w s. Proper coaddition (Zackay & Ofek 2017) has the PSF whose Fourier transform
is sqrt(sum_f (s_f^2/n_f^2) |P_f|^2) and the flux-normalized noise of the inverse-variance mean
(white noise). FoM = (noise x FWHM of the plain mean) / (noise x FWHM of the result): the faint-star
SNR gain (> 1 is better). Field centre, no field curvature, no registration blur: relative numbers.
Prints the frontier table (plain mean, inverse variance, inverse variance x FWHM^-k, k = 1, 2, the
largest k within the plain mean's noise, proper coaddition), then the run's own weights if present.
"""
import json, sys, csv
import numpy as np
ws = sys.argv[1]
t = json.load(open(f"{ws}/truth/truth.json"))
pf = t["per_frame"]; N = len(pf); beta = t["moffat_beta"]; rn = t["read_noise"]; ped = t["pedestal"]
gain = t.get("gain", 1.0)
see = np.array([p["seeing_fwhm"] for p in pf]); tr = np.array([p["transparency"] for p in pf])
sky = np.array([p["background"] for p in pf], float)
B = sky + ped
s = tr / B; n = np.sqrt(sky / gain + rn**2) / B
r = np.linspace(0, 12, 4801)
def moffat(fwhm, rr=r):
    a = fwhm / (2 * np.sqrt(2 ** (1 / beta) - 1))
    return (beta - 1) / (np.pi * a * a) * (1 + (rr / a) ** 2) ** (-beta)
P = np.array([moffat(x) for x in see])
def half_width(prof, rr):
    half = prof[0] / 2
    i = np.argmax(prof < half)
    return 2 * np.interp(half, [prof[i], prof[i - 1]], [rr[i], rr[i - 1]])
def fwhm(w):
    return half_width((w * s) @ P, r)
def noise(w):
    return np.sqrt(np.sum(w**2 * n**2)) / np.sum(w * s)
u = np.ones(N)
F0, N0 = fwhm(u), noise(u)
print(f"series: {N} frames, seeing {see.min():.2f}-{see.max():.2f} px (CV {see.std() / see.mean():.1%}), "
      f"transparency min {tr.min():.2f}, sky {sky.min():.0f}-{sky.max():.0f} ADU, noise n_f/s_f CV {np.std(n / s) / np.mean(n / s):.1%}")
print(f"plain mean model FWHM {F0:.3f} px")
rows = []
def rep(name, fw, no):
    gain_pct = 100 * (1 - fw / F0); fom = (N0 * F0) / (no * fw)
    rows.append((name, gain_pct, no / N0, fom))
    print(f"{name:50s} FWHM {-gain_pct:+6.1f} %  noise x{no / N0:.3f}  FoM {fom:.3f}")
def rep_w(name, w):
    rep(name, fwhm(w), noise(w))
ivar = s / n**2
rep_w("plain mean", u)
rep_w("inverse variance (s/n^2)", ivar)
for k in (1, 2):
    rep_w(f"inverse variance x FWHM^-{k}", ivar * see ** (-k))
best = None
for k in np.linspace(0, 12, 241):
    w = ivar * see ** (-k)
    if noise(w) / N0 <= 1.0: best = (k, w)
rep_w(f"inverse variance x FWHM^-k, largest k with noise <= x1 (k={best[0]:.2f})", best[1])
# Proper coaddition on a fine 2D grid (0.25 px), radial profile of the inverse FFT.
M, d = 256, 0.25
ax = (np.arange(M) - M // 2) * d
X, Y = np.meshgrid(ax, ax)
R = np.hypot(X, Y)
acc = np.zeros((M, M))
for f in range(N):
    Pf = np.abs(np.fft.fft2(np.fft.ifftshift(moffat(see[f], R))))
    acc += (s[f] ** 2 / n[f] ** 2) * Pf ** 2
psf = np.real(np.fft.fftshift(np.fft.ifft2(np.sqrt(acc))))
row = psf[M // 2, M // 2:]
rep("proper coaddition (Zackay & Ofek 2017)", half_width(row, ax[M // 2:]), noise(ivar))
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
