import Foundation
import Imaging
import Testing
import TestSupport

/// Cosmetic correction of single-pixel spikes on raw frames.
@Suite("cosmetic correction")
struct CosmeticTests {
    /// Sky 1000 with Gaussian noise 10, Gaussian stars of FWHM `fwhm` at the given centres.
    static func frame(width: Int = 64, height: Int = 48, fwhm: Double, stars: [(Double, Double, Double)], seed: UInt64) -> Image {
        var rng = TestRNG(seed: seed)
        var im = Image(width: width, height: height)
        let s = fwhm / 2.3548
        for y in 0..<height {
            for x in 0..<width {
                var v = 1000 + 10 * rng.normal()
                for (sx, sy, peak) in stars {
                    let r2 = (Double(x) - sx) * (Double(x) - sx) + (Double(y) - sy) * (Double(y) - sy)
                    v += peak * exp(-r2 / (2 * s * s))
                }
                im[x, y] = Float(v)
            }
        }
        return im
    }

    @Test("hot and dead pixels are replaced by their neighbours' median; stars of FWHM >= 1.8 px are untouched",
          arguments: [1.8, 2.0, 3.0, 5.0])
    func spikesNotStars(_ fwhm: Double) {
        let stars = [(20.0, 15.0, 20000.0), (45.3, 30.6, 3000.0), (10.5, 38.2, 300.0)]
        let clean = Self.frame(fwhm: fwhm, stars: stars, seed: 1)
        var im = clean
        im[33, 10] += 4000   // hot
        im[50, 40] += 200    // warm, 20 sigma
        im[5, 5] -= 600      // dead
        let r = Cosmetic.correctSpikes(&im, step: 1)
        #expect(r.hot == 2 && r.dead == 1, "\(r)")
        #expect(abs(r.sigma[0] - 10) < 2)  // stars inflate it a little on this small frame
        for (x, y) in [(33, 10), (50, 40), (5, 5)] { #expect(abs(im[x, y] - 1000) < 30, "(\(x), \(y)) = \(im[x, y])") }
        // Every other pixel, stars included, keeps its value.
        var changed = 0
        for y in 0..<im.height { for x in 0..<im.width where im[x, y] != clean[x, y] { changed += 1 } }
        #expect(changed == 3)
    }

    @Test("on a Bayer mosaic only same-colour neighbours count: a hot pixel among bright other-colour pixels is found")
    func mosaic() {
        // RGGB-like mosaic: green sites at 3000, red/blue at 1000, noise 10; one hot red pixel.
        var rng = TestRNG(seed: 2)
        var im = Image(width: 32, height: 32)
        for y in 0..<32 { for x in 0..<32 { im[x, y] = Float(((x + y) % 2 == 1 ? 3000 : 1000) + 10 * rng.normal()) } }
        let before = im
        im[12, 12] += 1500  // red site (even, even): its 1-px neighbours are green at 3000
        var mono = im
        let r = Cosmetic.correctSpikes(&im, step: 2)
        #expect(r.hot == 1 && abs(im[12, 12] - before[12, 12]) < 40)
        // Treated as mono the same pixel is no local maximum (its green neighbours are brighter).
        _ = Cosmetic.correctSpikes(&mono, step: 1)
        #expect(mono[12, 12] == before[12, 12] + 1500)
    }

    @Test("two adjacent hot pixels and NaN neighbourhoods are left alone")
    func pairsAndNaN() {
        var im = Self.frame(fwhm: 3, stars: [], seed: 3)
        im[20, 20] += 5000
        im[21, 20] += 4000
        im[40, 30] += 5000
        im[41, 31] = .nan
        let before = im
        let r = Cosmetic.correctSpikes(&im, step: 1)
        #expect(r.hot == 0)
        #expect(im[20, 20] == before[20, 20] && im[40, 30] == before[40, 30])
    }

    /// The documented rule pixel by pixel, without any preselection: what `correctSpikes` must produce.
    static func reference(_ im: Image, step: Int, sigma: Float, kappa: Float = 5, ratio: Float = 3) -> Image {
        var out = im
        let w = im.width, h = im.height, t = kappa * sigma
        func med(_ a: [Float]) -> Float { let s = a.sorted(); return (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        for y in (2 * step)..<(h - 2 * step) {
            for x in (2 * step)..<(w - 2 * step) {
                let v = im[x, y]
                var nb: [Float] = [], ring: [Float] = []
                for dy in -2...2 { for dx in -2...2 where dx != 0 || dy != 0 {
                    let u = im[x + dx * step, y + dy * step]
                    if abs(dx) <= 1 && abs(dy) <= 1 { nb.append(u) } else { ring.append(u) }
                } }
                guard v.isFinite, (nb + ring).allSatisfy(\.isFinite), let hi = nb.max(), let lo = nb.min() else { continue }
                let m = med(nb), b = med(ring)
                if v > hi, v - m > t, v - b > ratio * (hi - b) { out[x, y] = m }
                if v < lo, m - v > t, b - v > ratio * (b - lo) { out[x, y] = m }
            }
        }
        return out
    }

    @Test("the 8-pixel preselection loses no spike: same image as the rule applied to every pixel",
          arguments: [1, 2])
    func preselectionMatchesRule(_ step: Int) {
        var rng = TestRNG(seed: 7 + UInt64(step))
        var im = Self.frame(width: 97, height: 61, fwhm: 2.5, stars: [(30, 20, 5000), (70.4, 40.2, 800)], seed: 11)
        // Hot, dead, near-threshold spikes, pairs and NaNs anywhere.
        for _ in 0..<400 {
            let x = Int(rng.uniform() * 97), y = Int(rng.uniform() * 61)
            im[x, y] += Float((rng.uniform() - 0.4) * 300)
        }
        for _ in 0..<5 { im[Int(rng.uniform() * 97), Int(rng.uniform() * 61)] = .nan }
        var got = im
        let r = Cosmetic.correctSpikes(&got, step: step)
        let expected = Self.reference(im, step: step, sigma: r.sigma[0])
        #expect(r.hot + r.dead > 20)
        #expect(zip(got.pixels, expected.pixels).allSatisfy { $0.bitPattern == $1.bitPattern })
    }
}
