import Foundation
import Testing
@testable import Imaging
import TestSupport

// Scalar references: the per-pixel kernels as they were before vectorizing (issue 12). Every rewritten
// kernel must give the same bits on random planes with NaN/Inf borders, stars, gradients, tiny sizes.

/// A test plane: sky with a gradient, noise, Gaussian stars, optional NaN border (a rotated
/// registration's wedge), a few isolated NaN/±Inf pixels, and optionally integer values (many ties).
func perFrameTestImage(width w: Int, height h: Int, seed: UInt64, stars: Int = 8, nanBorder: Bool = true,
                       specials: Bool = true, integer: Bool = false, level: Double = 1, noise: Double = 0.02) -> Image {
    var rng = TestRNG(seed: seed)
    var img = Image(width: w, height: h)
    let centres = (0..<stars).map { _ in (rng.uniform() * Double(w), rng.uniform() * Double(h), 0.2 + 5 * rng.uniform()) }
    let gx = 0.3 * rng.uniform() / Double(max(1, w)), gy = 0.2 * rng.uniform() / Double(max(1, h))
    for y in 0..<h { for x in 0..<w {
        var v = level * (1 + gx * Double(x) + gy * Double(y)) + noise * rng.normal()
        for (sx, sy, peak) in centres {
            let d2 = (Double(x) - sx) * (Double(x) - sx) + (Double(y) - sy) * (Double(y) - sy)
            v += peak * level * exp(-d2 / (2 * 1.6 * 1.6))
        }
        if integer { v = (v * 1000).rounded() }
        img[x, y] = Float(v)
    } }
    if nanBorder {
        // a wedge along the top-left corner and the first column
        for y in 0..<h { for x in 0..<w where x + 2 * y < w / 3 || x == 0 { img[x, y] = .nan } }
    }
    if specials && w * h > 8 {
        for k in 0..<3 {
            let i = Int(rng.uniform() * Double(w * h))
            img[i % w, i / w] = [Float.nan, .infinity, -.infinity][k]
        }
    }
    return img
}

/// The sizes the equivalence tests run on: tiny, odd, not multiples of 8, and one large enough for
/// the strided (1-in-4) paths of the callers.
let perFrameSizes: [(Int, Int)] = [(1, 1), (2, 3), (3, 3), (7, 5), (9, 1), (1, 9), (13, 11), (17, 16), (64, 48), (131, 77), (257, 190)]

/// `Statistics.starMask` before vectorizing.
func referenceStarMask(_ image: Image, plane: Int = 0, kappa: Float = 3, dilate: Int = 3, sampleLimit: Int = 1 << 20) -> [Bool] {
    let w = image.width, h = image.height, n = w * h
    var mask = [Bool](repeating: false, count: n)
    image.pixels.withUnsafeBufferPointer { all in
        let px = UnsafeBufferPointer(rebasing: all[(plane * n)..<((plane + 1) * n)])
        let stride = max(1, n / max(1, sampleLimit))
        var sample = [Float]()
        var i = 0
        while i < n { if px[i].isFinite { sample.append(px[i]) }; i += stride }
        guard let stats = sample.withUnsafeMutableBufferPointer({ Statistics.sigmaClip($0, kappa: 3, iterations: 5) }) else { return }
        let threshold = Float(stats.median + Double(kappa) * stats.sigma)
        let r = max(0, dilate)
        let spans = (0...r).map { dy in Int((Double(r * r - dy * dy)).squareRoot().rounded(.down)) }
        for y in 0..<h {
            for x in 0..<w {
                let v = px[y * w + x]
                if v.isFinite && !(v > threshold) { continue }
                if r == 0 || !v.isFinite { mask[y * w + x] = true; continue }
                for dy in -r...r {
                    let yy = y + dy
                    if yy < 0 || yy >= h { continue }
                    let half = spans[abs(dy)]
                    for xx in max(0, x - half)...min(w - 1, x + half) { mask[yy * w + xx] = true }
                }
            }
        }
    }
    return mask
}

/// `Statistics.backgroundAndMask` before vectorizing (on the reference mask).
func referenceBackgroundAndMask(_ image: Image, plane: Int = 0, mode: BackgroundMode = .background,
                                sampleStride: Int = 1) -> (estimate: BackgroundEstimate?, mask: [Bool]?) {
    let n = image.planeSize
    var values = [Float]()
    var maskedFraction = 0.0
    var usedMask: [Bool]? = nil
    image.pixels.withUnsafeBufferPointer { all in
        let px = UnsafeBufferPointer(rebasing: all[(plane * n)..<((plane + 1) * n)])
        if mode == .background {
            let stride = max(1, sampleStride)
            let mask = referenceStarMask(image, plane: plane, sampleLimit: stride > 1 ? max(1, min(n / stride, 1 << 16)) : 1 << 20)
            usedMask = mask
            var i = 0
            while i < n { if !mask[i] && px[i].isFinite { values.append(px[i]) }; i += stride }
            var usable = 0
            for i in 0..<n where !mask[i] && px[i].isFinite { usable += 1 }
            if usable * 100 >= n { maskedFraction = Double(n - usable) / Double(n); return }
            values.removeAll()
        }
        values = px.filter { $0.isFinite }
    }
    var buf = values
    guard let level = Statistics.quantile(buf, 0.5) else { return (nil, usedMask) }
    for i in buf.indices { buf[i] = abs(buf[i] - level) }
    let mad = Statistics.quantile(buf, 0.5)!
    return (BackgroundEstimate(level: level, noise: Float(Statistics.madToSigma * Double(mad)), maskedFraction: maskedFraction), usedMask)
}

/// `Kernels.gradientEnergyMean` before vectorizing.
func referenceGradientEnergyMean(_ image: Image, plane: Int = 0, x0: Int = 0, y0: Int = 0, width: Int? = nil, height: Int? = nil) -> Double? {
    let w = width ?? (image.width - x0), h = height ?? (image.height - y0)
    guard w >= 3, h >= 3 else { return nil }
    let s = image.width, base = plane * image.planeSize
    let p = image.pixels
    var sum = 0.0, m = 0
    for y in (y0 + 1)..<(y0 + h - 1) {
        for x in (x0 + 1)..<(x0 + w - 1) {
            @inline(__always) func at(_ xx: Int, _ yy: Int) -> Float { p[base + yy * s + xx] }
            let gx = (at(x + 1, y - 1) - at(x - 1, y - 1)) + 2 * (at(x + 1, y) - at(x - 1, y)) + (at(x + 1, y + 1) - at(x - 1, y + 1))
            let gy = (at(x - 1, y + 1) - at(x - 1, y - 1)) + 2 * (at(x, y + 1) - at(x, y - 1)) + (at(x + 1, y + 1) - at(x + 1, y - 1))
            let e = (Double(gx) * Double(gx) + Double(gy) * Double(gy)) * (1.0 / 64)
            guard e.isFinite, at(x, y).isFinite else { continue }
            sum += e
            m += 1
        }
    }
    return m > 0 ? sum / Double(m) : nil
}

/// Equal bits (NaN compared by pattern), for Float and Double results.
func sameBits(_ a: Float?, _ b: Float?) -> Bool { a?.bitPattern == b?.bitPattern }
func sameBits(_ a: Double?, _ b: Double?) -> Bool { a?.bitPattern == b?.bitPattern }

@Suite struct PerFrameKernelTests {
    @Test func starMaskMatchesScalarReference() {
        var seed: UInt64 = 100
        for (w, h) in perFrameSizes {
            for variant in 0..<4 {
                seed += 1
                let img = perFrameTestImage(width: w, height: h, seed: seed, stars: variant == 3 ? 0 : 3 + w * h / 400,
                                            nanBorder: variant != 1, integer: variant == 2)
                for dilate in [0, 1, 3] {
                    for limit in [1 << 20, 97] {
                        let fast = Statistics.starMask(img, dilate: dilate, sampleLimit: limit)
                        let ref = referenceStarMask(img, dilate: dilate, sampleLimit: limit)
                        #expect(fast == ref, "starMask \(w)x\(h) variant \(variant) dilate \(dilate) limit \(limit)")
                        let counted = img.pixels.withUnsafeBufferPointer {
                            Statistics.starMaskCounted($0, width: w, height: h, kappa: 3, dilate: dilate, sampleLimit: limit)
                        }
                        #expect(counted.mask == ref)
                        if let marked = counted.marked { #expect(marked == ref.filter { $0 }.count) }
                    }
                }
            }
        }
    }

    @Test func starMaskAllNonFiniteAndFlat() {
        let nan = Image(width: 19, height: 7, fill: .nan)
        #expect(Statistics.starMask(nan) == referenceStarMask(nan))
        let flat = Image(width: 21, height: 9, fill: 3)
        #expect(Statistics.starMask(flat) == referenceStarMask(flat))
        // finite pixels only off the clipping sample's grid: no threshold, all-false mask
        var sparse = Image(width: 40, height: 10, fill: .nan)
        sparse[3, 2] = 5; sparse[7, 9] = 6
        #expect(Statistics.starMask(sparse, sampleLimit: 50) == referenceStarMask(sparse, sampleLimit: 50))
        let est = Statistics.backgroundAndMask(sparse, sampleStride: 8)
        let ref = referenceBackgroundAndMask(sparse, sampleStride: 8)
        #expect(est.estimate == ref.estimate && est.mask == ref.mask)
    }

    @Test func backgroundAndMaskMatchesScalarReference() {
        var seed: UInt64 = 500
        for (w, h) in perFrameSizes {
            for variant in 0..<3 {
                seed += 1
                let img = perFrameTestImage(width: w, height: h, seed: seed, stars: 2 + w * h / 300,
                                            nanBorder: variant != 1, integer: variant == 2)
                for stride in [1, 4] {
                    for mode in BackgroundMode.allCases {
                        let fast = Statistics.backgroundAndMask(img, mode: mode, sampleStride: stride)
                        let ref = referenceBackgroundAndMask(img, mode: mode, sampleStride: stride)
                        #expect(sameBits(fast.estimate?.level, ref.estimate?.level), "level \(w)x\(h) v\(variant) s\(stride) \(mode)")
                        #expect(sameBits(fast.estimate?.noise, ref.estimate?.noise), "noise \(w)x\(h) v\(variant) s\(stride) \(mode)")
                        #expect(sameBits(fast.estimate?.maskedFraction, ref.estimate?.maskedFraction))
                        #expect(fast.mask == ref.mask)
                    }
                }
            }
        }
    }

    @Test func backgroundMapSubtractMatchesRenderedPlane() {
        var seed: UInt64 = 900
        for (w, h) in perFrameSizes + [(300, 210)] {
            seed += 1
            let img = perFrameTestImage(width: w, height: h, seed: seed, stars: 4)
            for mesh in [8, 32] {
                guard let map = BackgroundMap.estimate(img, mesh: mesh, sampleStride: 2) else { continue }
                var out = [Float](repeating: 0, count: w * h)
                img.pixels.withUnsafeBufferPointer { p in out.withUnsafeMutableBufferPointer { map.subtract(from: p.baseAddress!, into: $0.baseAddress!) } }
                let rendered = map.render().pixels
                for y in 0..<h { for x in 0..<w {
                    let i = y * w + x
                    let bg = map.value(x: Double(x), y: Double(y))
                    #expect(rendered[i].bitPattern == bg.bitPattern)
                    #expect(out[i].bitPattern == (img.pixels[i] - bg).bitPattern, "\(w)x\(h) mesh \(mesh) at \(x),\(y)")
                } }
                if h > 3 { #expect(map.rows(from: 2, count: h - 3) == Array(rendered[(2 * w)..<((h - 1) * w)])) }
            }
        }
    }

    @Test func gradientEnergyMeanMatchesScalarReference() {
        var seed: UInt64 = 1300
        for (w, h) in perFrameSizes {
            for variant in 0..<3 {
                seed += 1
                let img = perFrameTestImage(width: w, height: h, seed: seed, nanBorder: variant != 1, integer: variant == 2)
                #expect(sameBits(Kernels.gradientEnergyMean(img), referenceGradientEnergyMean(img)), "\(w)x\(h) v\(variant)")
                if w > 4 && h > 4 {
                    let x0 = w / 4, y0 = h / 5, rw = w - x0 - 1, rh = h - y0 - 2
                    #expect(sameBits(Kernels.gradientEnergyMean(img, x0: x0, y0: y0, width: rw, height: rh),
                                     referenceGradientEnergyMean(img, x0: x0, y0: y0, width: rw, height: rh)))
                    #expect(sameBits(Kernels.gradientEnergyMean(img, x0: x0, y0: y0, width: rw, height: rh),
                                     Kernels.gradientEnergy(img, x0: x0, y0: y0, width: rw, height: rh)?.mean))
                }
            }
        }
        // RGB: plane offsets
        var rgb = Image(width: 23, height: 17, channels: 3, fill: 0)
        var rng = TestRNG(seed: 7)
        for i in rgb.pixels.indices { rgb.pixels[i] = Float(rng.normal()) }
        rgb.pixels[23 * 17 + 40] = .nan
        for c in 0..<3 { #expect(sameBits(Kernels.gradientEnergyMean(rgb, plane: c), referenceGradientEnergyMean(rgb, plane: c))) }
    }

    @Test func candidatesMatchScalarReference() {
        var seed: UInt64 = 1700
        for (w, h) in perFrameSizes + [(200, 150)] {
            seed += 1
            let img = perFrameTestImage(width: w, height: h, seed: seed, stars: 3 + w * h / 200, level: 0)
            let options = StarDetectionOptions()
            for (r, margin) in [(1, 1), (2, 3), (3, 9)] where w > 2 * margin && h > 2 * margin {
                img.pixels.withUnsafeBufferPointer { p in
                    let finder = StarFinder(plane: p, residual: p, width: w, height: h, options: options)
                    for threshold: Float in [0.05, 0.5, 2] {
                        let fast = finder.candidates(threshold: threshold, radius: r, margin: margin)
                        let ref = referenceCandidates(p, width: w, height: h, threshold: threshold, radius: r, margin: margin,
                                                      hotRatio: Float(options.hotPixelRatio))
                        #expect(fast.map { [$0.x, $0.y] } == ref.map { [$0.0, $0.1] }, "\(w)x\(h) r \(r) t \(threshold)")
                        #expect(fast.map { $0.value.bitPattern } == ref.map { $0.2.bitPattern })
                    }
                }
            }
        }
    }
}

/// `StarFinder.candidates` before vectorizing (residual = plane): (x, y, value).
func referenceCandidates(_ sub: UnsafeBufferPointer<Float>, width w: Int, height: Int, threshold: Float, radius r: Int,
                         margin: Int, hotRatio: Float) -> [(Int, Int, Float)] {
    var out: [(Int, Int, Float)] = []
    for y in margin..<(height - margin) {
        let row = y * w
        for x in margin..<(w - margin) {
            let v = sub[row + x]
            guard v > threshold else { continue }
            var isMax = true
            scan: for yy in (y - r)...(y + r) {
                for xx in (x - r)...(x + r) where !(xx == x && yy == y) {
                    let u = sub[yy * w + xx]
                    let earlier = yy < y || (yy == y && xx < x)
                    if earlier ? (u >= v) : (u > v) { isMax = false; break scan }
                }
            }
            guard isMax else { continue }
            if hotRatio > 0 {
                let limit = hotRatio * v
                if !(sub[row + x - 1] >= limit) && !(sub[row + x + 1] >= limit)
                    && !(sub[row - w + x] >= limit) && !(sub[row + w + x] >= limit) { continue }
            }
            out.append((x, y, v))
        }
    }
    return out
}
