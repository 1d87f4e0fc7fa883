#!/usr/bin/env python3
"""Frontier of `reconstruction.combine: matched` from a `tcbuild synth` series' truth (bench only).

Usage: bench/matched_model.py WORKSPACE   (needs numpy)
Same physics as bench/quality_model.py (field centre, Moffat PSFs of the true seeing, star scale
s_f = t_f / B_f after the I/B_f normalization, flux-normalized noise n_f = sqrt(sky_f + rn^2) / B_f),
evaluated on a 2-D grid (0.25 px steps): plain mean, inverse-variance mean (w = s/n^2) and proper coaddition
(Zackay & Ofek 2017): PSF transfer sqrt(sum s^2 |P_f|^2 / n^2) / sqrt(sum s^2 / n^2), noise
1 / sqrt(sum s^2 / n^2) (the inverse-variance mean's). FWHM = 2 x the half-maximum radius along x.
Prints FWHM gain vs the plain mean, noise ratio and FoM = (noise x FWHM of the plain mean) / (noise x FWHM).
"""
import json, sys
import numpy as np

ws = sys.argv[1]
t = json.load(open(f"{ws}/truth/truth.json"))
pf = t["per_frame"]; beta = t["moffat_beta"]; rn = t["read_noise"]; ped = t["pedestal"]
see = np.array([p["seeing_fwhm"] for p in pf]); tr = np.array([p["transparency"] for p in pf])
sky = np.array([p["background"] for p in pf], float)
B = sky + ped
s = tr / B; n = np.sqrt(sky + rn**2) / B
N, STEP = 512, 0.25   # 128 px field sampled every 0.25 px (the continuous PSF, as quality_model.py)
ax = np.fft.fftfreq(N) * N * STEP
X, Y = np.meshgrid(ax, ax)
R2 = X**2 + Y**2
def moffat(fwhm):
    a = fwhm / (2 * np.sqrt(2 ** (1 / beta) - 1))
    p = (1 + R2 / a**2) ** (-beta)
    return p / p.sum()
P = np.array([np.fft.rfft2(moffat(x)) for x in see])  # transfer functions, P(0) = 1
def fwhm_of(img):
    row = np.fft.fftshift(img)[N // 2, :]
    c = N // 2; half = row[c] / 2
    r = np.arange(N // 2) * STEP
    prof = row[c:c + N // 2]
    i = np.argmax(prof < half)
    return 2 * np.interp(half, [prof[i], prof[i - 1]], [r[i], r[i - 1]])
def linear(w):
    T = np.tensordot(w * s, P, axes=1) / np.sum(w * s)
    return fwhm_of(np.fft.irfft2(T, s=(N, N))), np.sqrt(np.sum(w**2 * n**2)) / np.sum(w * s)
F0, N0 = linear(np.ones(len(pf)))
def rep(name, f, z):
    print(f"{name:32s} FWHM {f:6.3f} px ({100 * (1 - f / F0):5.1f} %)  noise x{z / N0:.3f}  FoM {(F0 * N0) / (f * z):.3f}")
print(f"{len(pf)} frames, seeing {see.min():.2f}..{see.max():.2f} px (CV {see.std() / see.mean():.3f}), "
      f"transparency {tr.min():.2f}..{tr.max():.2f}, beta {beta}")
rep("plain mean", F0, N0)
rep("inverse variance (s/n^2)", *linear(s / n**2))
PR = np.sqrt(np.tensordot(s**2 / n**2, np.abs(P)**2, axes=1)) / np.sqrt(np.sum(s**2 / n**2))
rep("proper coaddition (matched)", fwhm_of(np.fft.irfft2(PR, s=(N, N))), 1 / np.sqrt(np.sum(s**2 / n**2)))
