import Foundation
import Testing
@testable import Imaging
import TestSupport

/// A smooth test scene: a few broad Gaussian blobs on a tilted plane (no content near Nyquist).
private func smoothImage(width: Int, height: Int) -> Image {
    var img = Image(width: width, height: height)
    let blobs: [(Double, Double, Double, Double)] = [(40, 50, 12, 800), (90, 70, 9, 500), (64, 100, 15, 300)]
    for y in 0..<height {
        for x in 0..<width {
            var v = 1000 + 2 * Double(x) + 1.5 * Double(y)
            for (bx, by, s, a) in blobs {
                let dx = Double(x) - bx, dy = Double(y) - by
                v += a * exp(-(dx * dx + dy * dy) / (2 * s * s))
            }
            img[x, y] = Float(v)
        }
    }
    return img
}

@Suite("Warp")
struct WarpTests {
    @Test("identity warp reproduces the image within 1e-5 with full coverage", arguments: WarpInterpolation.allCases)
    func identity(kernel: WarpInterpolation) {
        var rng = TestRNG(seed: 9)
        var img = Image(width: 57, height: 43)
        for i in img.pixels.indices { img.pixels[i] = Float(rng.uniform() * 1000) } // white noise: worst case
        let r = warp(img, outputToSource: .identity, width: 57, height: 43, options: WarpOptions(interpolation: kernel))
        var maxErr: Float = 0
        for i in img.pixels.indices { maxErr = max(maxErr, abs(r.image.pixels[i] - img.pixels[i])) }
        #expect(maxErr <= 1e-5)
        #expect(r.coverage.allSatisfy { $0 == 1 })
    }

    /// Lanczos-3 must meet 1e-3; bilinear is itself a low-pass filter (two passes blur the blob
    /// peaks by ~0.15 %), so it gets 3e-3.
    @Test("warp then inverse warp of a smooth image matches in the interior (Lanczos 1e-3, bilinear 3e-3 relative)",
          arguments: [(WarpInterpolation.lanczos3, 1e-3), (.bilinear, 3e-3)])
    func roundTrip(kernel: WarpInterpolation, tolerance: Double) {
        let img = smoothImage(width: 128, height: 128)
        // Rotate 0.3 rad about the centre and shift by a fraction of a pixel.
        let c = SIMD2<Double>(63.5, 63.5)
        let t = SimilarityTransform.translation(-c.x, -c.y)
            .then(SimilarityTransform(rotation: 0.3))
            .then(SimilarityTransform.translation(c.x + 3.4, c.y - 2.7))
        let opts = WarpOptions(interpolation: kernel)
        let once = warp(img, outputToSource: t, width: 128, height: 128, options: opts)
        let back = warp(once.image, outputToSource: t.inverse, width: 128, height: 128, options: opts)
        var maxRel = 0.0, compared = 0
        for y in 32..<96 {
            for x in 32..<96 {
                #expect(back.coverage[y * 128 + x] == 1)
                let ref = Double(img[x, y])
                maxRel = max(maxRel, abs(Double(back.image[x, y]) - ref) / abs(ref))
                compared += 1
            }
        }
        #expect(compared == 64 * 64)
        #expect(maxRel < tolerance, "max relative error \(maxRel)")
        // Round trip must have actually moved pixels: the single warp differs from the source.
        #expect(abs(once.image[64, 64] - img[64, 64]) > 1)
    }

    @Test("bilinear warp samples where the transform says (a linear ramp is reproduced exactly)")
    func samplingDirection() {
        var img = Image(width: 100, height: 80)
        for y in 0..<80 { for x in 0..<100 { img[x, y] = Float(2 * x + 3 * y) } }
        let t = SimilarityTransform(rotation: 0.2, scale: 0.9, tx: 20.25, ty: 5.5)
        let r = warp(img, outputToSource: t, width: 60, height: 50, options: WarpOptions(interpolation: .bilinear))
        var checked = 0
        for y in 0..<50 {
            for x in 0..<60 where r.coverage[y * 60 + x] == 1 {
                let s = t.apply(x: Double(x), y: Double(y))
                #expect(abs(Double(r.image[x, y]) - (2 * s.x + 3 * s.y)) < 1e-3)
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    @Test("coverage marks the out-of-frame band of a shifted warp exactly, and those pixels are NaN",
          arguments: [(-10.0, 5.0), (-10.5, 2.25), (7.0, -3.5)])
    func coverageOfShift(shift: (Double, Double)) {
        let (dx, dy) = shift
        let w = 40, h = 30
        let img = Image(width: w, height: h, channels: 2, fill: 3)
        let r = warp(img, outputToSource: .translation(dx, dy), width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                let sx = Double(x) + dx, sy = Double(y) + dy
                let inside = sx >= 0 && sx <= Double(w - 1) && sy >= 0 && sy <= Double(h - 1)
                #expect(r.coverage[y * w + x] == (inside ? 1 : 0), "pixel (\(x), \(y))")
                for c in 0..<2 {
                    if inside { #expect(abs(r.image[x, y, c] - 3) < 1e-6) } else { #expect(r.image[x, y, c].isNaN) }
                }
            }
        }
    }

    @Test("NaN source pixels propagate as no-data only where they have weight")
    func nanPropagation() {
        var img = Image(width: 20, height: 20, fill: 1)
        img[10, 10] = .nan
        let same = warp(img, outputToSource: .translation(1, 0), width: 20, height: 20)
        #expect(same.image[9, 10].isNaN && same.coverage[10 * 20 + 9] == 0)
        #expect(same.image[10, 10] == 1 && same.coverage[10 * 20 + 10] == 1)
        let frac = warp(img, outputToSource: .translation(0.5, 0), width: 20, height: 20)
        // The Lanczos-3 footprint of a half-pixel shift covers six columns around the NaN.
        for x in 7...12 { #expect(frac.coverage[10 * 20 + x] == 0, "column \(x)") }
        #expect(frac.coverage[10 * 20 + 6] == 1 && frac.coverage[10 * 20 + 13] == 1)
    }

    @Test("ringing clamp keeps a shifted spike within its source neighbourhood range")
    func ringingClamp() {
        var img = Image(width: 32, height: 32, fill: 10)
        img[16, 16] = 10_000
        let t = SimilarityTransform.translation(0.5, 0.5)
        let plain = warp(img, outputToSource: t, width: 32, height: 32)
        let clamped = warp(img, outputToSource: t, width: 32, height: 32,
                           options: WarpOptions(interpolation: .lanczos3, clampRinging: true))
        let plainMin = plain.image.pixels.filter { !$0.isNaN }.min()!
        let clampedMin = clamped.image.pixels.filter { !$0.isNaN }.min()!
        #expect(plainMin < 9) // Lanczos undershoots next to the spike...
        #expect(clampedMin >= 10 - 1e-4) // ...the clamp removes it.
    }

    @Test("all channels are warped with the same geometry")
    func multiChannel() {
        let mono = smoothImage(width: 64, height: 64)
        let rgb = Image.merging(planes: [mono, Image(width: 64, height: 64, pixels: mono.pixels.map { $0 * 2 }),
                                         Image(width: 64, height: 64, pixels: mono.pixels.map { $0 * 3 })])
        let t = SimilarityTransform(rotation: -0.1, scale: 1, tx: 2.3, ty: 4.1)
        let r = warp(rgb, outputToSource: t, width: 64, height: 64)
        let m = warp(mono, outputToSource: t, width: 64, height: 64)
        #expect(r.coverage == m.coverage)
        for i in 0..<(64 * 64) where r.coverage[i] == 1 {
            #expect(abs(r.image.pixels[i] - m.image.pixels[i]) < 1e-3)
            #expect(abs(r.image.pixels[2 * 4096 + i] - 3 * m.image.pixels[i]) < 1e-2)
        }
    }

    /// Smooth scene 3e-5 of the peak: the interior samples' positions are rounded to 1/2048 px (error
    /// <= 1/4096 px, times this scene's steepest slope ~0.06 of the peak per px: 1.5e-5) on top of the
    /// sheared footprint; stars 1 % (the shear).
    @Test("the two-pass Lanczos-3 warp matches the direct 2-D kernel: smooth scene 3e-5, stars 1 % of the peak")
    func twoPassMatchesDirect() {
        let smooth = smoothImage(width: 128, height: 128)
        var stars = Image(width: 128, height: 128, fill: 100)
        for (sx, sy) in [(30.3, 40.7), (64.0, 64.5), (90.6, 20.2), (100.1, 100.9)] {
            for y in 0..<128 {
                for x in 0..<128 {
                    let d2 = (Double(x) - sx) * (Double(x) - sx) + (Double(y) - sy) * (Double(y) - sy)
                    stars[x, y] += Float(10_000 * exp(-d2 / (2 * 1.3 * 1.3)))   // FWHM 3 px
                }
            }
        }
        for t in [SimilarityTransform(rotation: 0.008, scale: 1, tx: 2.37, ty: -1.61),
                  SimilarityTransform(rotation: .pi - 0.02, scale: 1.001, tx: 130.2, ty: 126.9),
                  SimilarityTransform(rotation: -0.0013, scale: 0.9999996, tx: 2.83, ty: -0.54),
                  SimilarityTransform(rotation: 0.05, scale: 1.01, tx: -3.1, ty: 4.4)] {
            for (img, tol) in [(smooth, Float(3e-5)), (stars, Float(0.01))] {
                let two = warp(img, outputToSource: t, width: 128, height: 128)
                let direct = warpDirect(img, outputToSource: t, width: 128, height: 128)
                #expect(two.coverage == direct.coverage)
                let peak = img.pixels.max()!
                var worst: Float = 0
                for i in 0..<(128 * 128) where direct.coverage[i] == 1 {
                    worst = max(worst, abs(two.image.pixels[i] - direct.image.pixels[i]) / peak)
                }
                #expect(worst < tol, "rotation \(t.rotation): worst difference \(worst) of the peak")
            }
        }
        // Near 90 degrees the row step would blow up: the direct kernel runs (same result by definition).
        let quarter = SimilarityTransform(rotation: .pi / 2, scale: 1, tx: 127, ty: 0)
        #expect(WarpKernel.twoPass(smooth, a: quarter.linear.a, b: quarter.linear.b, tx: 127, ty: 0,
                                   width: 128, height: 128, clamp: false) == nil)
    }

    @Test("the two-pass warp equals its per-pixel reference bit for bit (random transforms, NaN, borders, planes, clamp)")
    func twoPassEqualsReference() {
        var rng = TestRNG(seed: 12)
        for trial in 0..<28 {
            // Trials 24...: wider frames at a registration's typical transform (rotation ~1e-3, scale ~1),
            // where the 8-column groups reuse their weights along rows and down columns.
            let w = trial >= 24 ? 160 + Int(rng.uniform() * 40) : 40 + Int(rng.uniform() * 50)
            let h = 30 + Int(rng.uniform() * 50)
            let typical = trial >= 24
            let channels = trial % 3 == 0 ? 3 : 1
            var img = Image(width: w, height: h, channels: channels)
            for i in img.pixels.indices {
                // (Finite data only in the typical trials, so most groups take the 8-column paths.)
                let u = typical ? 0.1 + rng.uniform() : rng.uniform()
                // Mostly smooth positive data, some negatives, zeros of both signs, tiny values, NaN and inf.
                img.pixels[i] = u < 0.01 ? .nan : u < 0.012 ? .infinity : u < 0.03 ? -0.0 : u < 0.05 ? 0
                    : u < 0.06 ? Float(rng.uniform()) * 1e-40 : Float((rng.uniform() - 0.1) * 5000)
            }
            let angle = typical ? (rng.uniform() - 0.5) * 0.004 + (trial == 27 ? .pi : 0)
                : trial % 4 == 3 ? .pi - 0.3 * rng.uniform() : (rng.uniform() - 0.5) * 1.6
            let t = SimilarityTransform(rotation: angle, scale: typical ? 1 + (rng.uniform() - 0.5) * 2e-6 : 0.97 + 0.06 * rng.uniform(),
                                        tx: (rng.uniform() - 0.5) * 12 + (angle > 1 ? Double(w) : 0),
                                        ty: (rng.uniform() - 0.5) * 12 + (angle > 1 ? Double(h) : 0))
            let integer = trial % 8 == 5  // integer translation: every tap at offset 0
            let (a, b) = integer ? (1.0, 0.0) : t.linear
            let tx = integer ? 3.0 : t.tx, ty = integer ? -2.0 : t.ty
            for clamp in [false, true] {
                let ow = w + Int(rng.uniform() * 10) - 5, oh = h + Int(rng.uniform() * 10) - 5
                guard let fast = WarpKernel.twoPass(img, a: a, b: b, tx: tx, ty: ty, width: ow, height: oh, clamp: clamp),
                      let ref = WarpReference.twoPassReference(img, a: a, b: b, tx: tx, ty: ty, width: ow, height: oh, clamp: clamp)
                else { Issue.record("two-pass declined rotation \(angle)"); continue }
                #expect(fast.coverage == ref.coverage, "trial \(trial)")
                #expect(fast.image.pixels.map(\.bitPattern) == ref.image.pixels.map(\.bitPattern), "trial \(trial) clamp \(clamp)")
            }
        }
    }

    @Test("benchmark: Lanczos-3 warp throughput (TCBUILD_BENCH=1 only)",
          .enabled(if: ProcessInfo.processInfo.environment["TCBUILD_BENCH"] == "1"))
    func benchmark() {
        let n = 2048
        var rng = TestRNG(seed: 1)
        var img = Image(width: n, height: n)
        for i in img.pixels.indices { img.pixels[i] = Float(rng.uniform() * 1000) }
        let t = SimilarityTransform(rotation: 0.01, scale: 1, tx: 3.3, ty: -2.2)
        for kernel in WarpInterpolation.allCases {
            var times: [Double] = []
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                let r = warp(img, outputToSource: t, width: n, height: n, options: WarpOptions(interpolation: kernel))
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                #expect(r.coveredFraction > 0.9)
            }
            times.sort()
            print("BENCH warp \(kernel.rawValue) \(n)x\(n) mono: \(String(format: "%.1f", Double(n * n) / 1e6 / times[2])) Mpx/s (median of 5: \(String(format: "%.3f", times[2])) s)")
        }
    }
}
