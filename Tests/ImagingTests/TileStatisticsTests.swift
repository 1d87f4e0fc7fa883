import Foundation
import Testing
@testable import Imaging
import TestSupport

/// The tile kernels of the local metrics (issue 12) give the plain kernels' values bit for bit:
/// `TileStatistics` = median / MAD of copied tile pixels, `gradientEnergyMeans` = `gradientEnergyMean`
/// per rectangle, `quantileBracketed` = `quantile`.
@Suite("Tile statistics: bit-identical to the plain selections")
struct TileStatisticsTests {
    /// The plain path: finite pixels and finite horizontal differences of `rect`, row by row (what
    /// `LocalMetrics` copied before), with `Statistics.median` and `Statistics.mad`.
    static func plain(_ img: Image, _ r: TileRect) -> TileStatistics {
        var values: [Float] = [], diffs: [Float] = []
        for y in r.y..<(r.y + r.height) {
            var previous = Float.nan
            for x in r.x..<(r.x + r.width) {
                let v = img[x, y]
                if v.isFinite {
                    values.append(v)
                    if previous.isFinite { diffs.append(v - previous) }
                }
                previous = v
            }
        }
        return TileStatistics(finiteCount: values.count, median: Statistics.median(values), differenceMAD: Statistics.mad(diffs))
    }

    static func same(_ a: Float?, _ b: Float?) -> Bool { a?.bitPattern == b?.bitPattern }

    /// A normalized star field (sky ~1, noise 0.02, 60 stars, a sloped sky) with a NaN border on the
    /// left (a registered frame's uncovered edge), a NaN hole and one infinity.
    static func field(seed: UInt64 = 5) -> Image {
        var rng = TestRNG(seed: seed)
        let w = 300, h = 220
        var img = Image(width: w, height: h)
        let stars = (0..<60).map { _ in (Double(rng.uniform(0, Float(w))), Double(rng.uniform(0, Float(h))), Double(rng.uniform(0.05, 30))) }
        for y in 0..<h {
            for x in 0..<w {
                var v = 1 + 0.0004 * Double(x) + 0.02 * rng.normal()
                for (sx, sy, a) in stars {
                    let d2 = (Double(x) - sx) * (Double(x) - sx) + (Double(y) - sy) * (Double(y) - sy)
                    if d2 < 64 { v += a * exp(-d2 / 4) }
                }
                img[x, y] = Float(v)
            }
        }
        for y in 0..<h { for x in 0..<7 { img[x, y] = .nan } }
        for y in 100..<110 { for x in 150..<170 { img[x, y] = .nan } }
        img[200, 50] = .infinity
        return img
    }

    /// Overlapping tiles of several sizes over the whole image, including 1-wide and 2-high ones.
    static func rects(_ img: Image) -> [TileRect] {
        var out: [TileRect] = []
        for (size, step) in [(64, 48), (41, 30), (119, 89)] {
            var y = 0
            while y < img.height {
                var x = 0
                while x < img.width {
                    out.append(TileRect(x: x, y: y, width: min(size, img.width - x), height: min(size, img.height - y)))
                    x += step
                }
                y += step
            }
        }
        out += [TileRect(x: 10, y: 10, width: 1, height: 50), TileRect(x: 10, y: 10, width: 50, height: 2),
                TileRect(x: 0, y: 0, width: 7, height: 30), TileRect(x: 0, y: 0, width: 300, height: 220)]
        return out
    }

    @Test("median, difference MAD and finite count equal the plain selections on a star field with NaN and Inf")
    func starField() {
        let img = Self.field()
        for r in Self.rects(img) {
            let fast = TileStatistics.measure(img, r), slow = Self.plain(img, r)
            #expect(fast.finiteCount == slow.finiteCount, "\(r)")
            #expect(Self.same(fast.median, slow.median), "\(r): \(String(describing: fast.median)) vs \(String(describing: slow.median))")
            #expect(Self.same(fast.differenceMAD, slow.differenceMAD), "\(r)")
        }
        // Spot values: a fully NaN tile has nothing; a sky tile's median is near 1.
        let empty = TileStatistics.measure(img, TileRect(x: 0, y: 0, width: 7, height: 30))
        #expect(empty.finiteCount == 0 && empty.median == nil && empty.differenceMAD == nil)
        let sky = TileStatistics.measure(img, TileRect(x: 20, y: 20, width: 64, height: 64))
        #expect(abs(Double(sky.median!) - 1.02) < 0.02)
        // MAD of differences of N(0, 0.02) noise: 0.02 * sqrt(2) / 1.4826 = 0.0191 (0.0220 measured).
        #expect(abs(Double(sky.differenceMAD!) / 0.0191 - 1) < 0.25)  // the tile's stars add a little
    }

    @Test("integer data with many ties, exact zeros and -0: same values and bits")
    func integerTies() {
        var rng = TestRNG(seed: 9)
        var img = Image(width: 130, height: 90)
        for i in img.pixels.indices { img.pixels[i] = Float(Int(rng.uniform(0, 6))) }
        for i in stride(from: 0, to: img.pixels.count, by: 7) { img.pixels[i] = -0.0 }
        for r in Self.rects(img) where r.x + r.width <= 130 && r.y + r.height <= 90 {
            let fast = TileStatistics.measure(img, r), slow = Self.plain(img, r)
            #expect(fast.finiteCount == slow.finiteCount)
            #expect(Self.same(fast.median, slow.median), "\(r)")
            #expect(Self.same(fast.differenceMAD, slow.differenceMAD), "\(r)")
        }
        let constant = Image(width: 40, height: 40, fill: 3)
        let c = TileStatistics.measure(constant, TileRect(x: 0, y: 0, width: 40, height: 40))
        #expect(c.median == 3 && c.differenceMAD == 0 && c.finiteCount == 1600)
    }

    @Test("a sample that misses the median (the sampled grid differs from the rest) falls back to the same value")
    func missedBracket() {
        // Pixels on the 4 x 4 sampling grid are 0, the others 10 + noise: the sample's median is 0,
        // the tile's is ~10, so both brackets miss.
        var rng = TestRNG(seed: 3)
        var img = Image(width: 64, height: 64)
        for y in 0..<64 { for x in 0..<64 { img[x, y] = x % 4 == 0 && y % 4 == 0 ? 0 : 10 + Float(rng.normal()) } }
        let r = TileRect(x: 0, y: 0, width: 64, height: 64)
        let fast = TileStatistics.measure(img, r), slow = Self.plain(img, r)
        #expect(Self.same(fast.median, slow.median) && Self.same(fast.differenceMAD, slow.differenceMAD))
        #expect(fast.median! > 9.5 && fast.median! < 10.5)
    }

    @Test("measure(tiles:) from shared cells equals measure of each rectangle and the plain selections, bit for bit")
    func cells() {
        // A star field with NaN and Inf, integer ties with -0 and exact zeros, a constant plane, a plane
        // of NaN, and a wide-range plane (values 1e-3 .. 1e6, most of them in the tails of the buckets).
        var ties = Image(width: 130, height: 90)
        var rng = TestRNG(seed: 9)
        for i in ties.pixels.indices { ties.pixels[i] = Float(Int(rng.uniform(0, 6))) - 2 }
        for i in stride(from: 0, to: ties.pixels.count, by: 7) { ties.pixels[i] = -0.0 }
        var wide = Image(width: 120, height: 100)
        for i in wide.pixels.indices { wide.pixels[i] = Float(exp(rng.uniform(-7, 14))) }
        var zeros = Image(width: 60, height: 50)  // median 0 in most tiles: the plain path's sign
        for i in zeros.pixels.indices { zeros.pixels[i] = i % 3 == 0 ? 0.5 : (i % 2 == 0 ? -0.0 : 0) }
        let images = [Self.field(), Self.field(seed: 8), ties, wide, zeros,
                      Image(width: 40, height: 40, fill: 3), Image(width: 30, height: 20, fill: .nan)]
        for img in images {
            let rects = Self.rects(img).filter { $0.x + $0.width <= img.width && $0.y + $0.height <= img.height }
                + [TileRect(x: 3, y: 2, width: 0, height: 5), TileRect(x: 1, y: 1, width: 1, height: 1)]
            let fast = TileStatistics.measure(img, tiles: rects)
            #expect(fast.count == rects.count)
            for (r, f) in zip(rects, fast) {
                let one = TileStatistics.measure(img, r), slow = r.width > 0 ? Self.plain(img, r) : one
                #expect(f.finiteCount == one.finiteCount && f.finiteCount == slow.finiteCount, "\(r)")
                #expect(Self.same(f.median, one.median) && Self.same(f.median, slow.median),
                        "\(r): \(String(describing: f.median)) vs \(String(describing: one.median))")
                #expect(Self.same(f.differenceMAD, one.differenceMAD) && Self.same(f.differenceMAD, slow.differenceMAD),
                        "\(r): \(String(describing: f.differenceMAD)) vs \(String(describing: one.differenceMAD))")
            }
        }
        // Spot values on the sky: median near 1, MAD of N(0, 0.02) differences near 0.0191.
        let sky = TileStatistics.measure(Self.field(), tiles: [TileRect(x: 20, y: 20, width: 64, height: 64)])[0]
        #expect(abs(Double(sky.median!) - 1.02) < 0.02 && abs(Double(sky.differenceMAD!) / 0.0191 - 1) < 0.25)
    }

    @Test("TileBuckets is monotone, sends ±infinity to the ends, and its 4- and 8-lane forms equal the scalar one")
    func buckets() {
        var rng = TestRNG(seed: 4)
        let map = TileBuckets(sample: (0..<1000).map { _ in Float(1 + 0.02 * rng.normal()) })
        var xs: [Float] = [-.infinity, .infinity, -.greatestFiniteMagnitude, .greatestFiniteMagnitude, 0, -0.0, 1, 0.9, 1.1]
        xs += (0..<4000).map { _ in Float(1 + 0.05 * rng.normal()) }
        xs += (0..<400).map { _ in Float(exp(rng.uniform(-20, 20))) * (rng.uniform(0, 1) < 0.5 ? -1 : 1) }
        let sorted = xs.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(map.bucket(a) <= map.bucket(b), "\(a) \(b)") }
        #expect(map.bucket(-.infinity) == 0 && map.bucket(.infinity) == TileBuckets.count - 1)
        #expect(map.bucket(1) > 100 && map.bucket(1) < 400)  // the sample's median lies mid-range
        for i in stride(from: 0, to: xs.count - 4, by: 4) {
            let v = SIMD4(xs[i], xs[i + 1], xs[i + 2], xs[i + 3])
            let b = map.buckets(v)
            for l in 0..<4 where v[l].isFinite { #expect(Int(b[l]) == map.bucket(v[l])) }
        }
        #expect(map.buckets(SIMD4(.nan, 1, .infinity, 0)) == SIMD4(Int32(TileBuckets.count), Int32(map.bucket(1)), Int32(TileBuckets.count), Int32(map.bucket(0))))
        for i in stride(from: 0, to: xs.count - 8, by: 8) {
            let v = SIMD8(xs[i], xs[i + 1], xs[i + 2], xs[i + 3], xs[i + 4], xs[i + 5], xs[i + 6], xs[i + 7])
            let b = map.buckets(v)
            for l in 0..<8 where v[l].isFinite { #expect(Int(b[l]) == map.bucket(v[l])) }
        }
        #expect(map.buckets(SIMD8(.nan, 1, .infinity, 0, -.infinity, 0.9, 1.1, .nan))
                == SIMD8(Int32(TileBuckets.count), Int32(map.bucket(1)), Int32(TileBuckets.count), Int32(map.bucket(0)),
                         Int32(TileBuckets.count), Int32(map.bucket(0.9)), Int32(map.bucket(1.1)), Int32(TileBuckets.count)))
    }

    @Test("gradientEnergyMeans equals gradientEnergyMean of each rectangle bit for bit")
    func gradientMeans() {
        let img = Self.field()
        let rects = Self.rects(img) + [TileRect(x: 5, y: 5, width: 3, height: 3), TileRect(x: 290, y: 200, width: 10, height: 20)]
        let fast = Kernels.gradientEnergyMeans(img, tiles: rects)
        for (r, f) in zip(rects, fast) {
            let slow = Kernels.gradientEnergyMean(img, x0: r.x, y0: r.y, width: r.width, height: r.height)
            #expect(f?.bitPattern == slow?.bitPattern, "\(r)")
        }
        // A ramp 0.5 x + 2 y has |grad|^2 = 4.25 everywhere; a 2-wide rectangle has no interior.
        var ramp = Image(width: 50, height: 40)
        for y in 0..<40 { for x in 0..<50 { ramp[x, y] = Float(0.5 * Double(x) + 2 * Double(y)) } }
        let means = Kernels.gradientEnergyMeans(ramp, tiles: [TileRect(x: 3, y: 4, width: 30, height: 20), TileRect(x: 0, y: 0, width: 2, height: 40)])
        #expect(means[0] == 4.25 && means[1] == nil)
    }

    @Test("quantileBracketed equals quantile bit for bit (median, 0.1 %, 90 %), with NaN, Inf and ties")
    func quantiles() {
        var rng = TestRNG(seed: 21)
        var values = (0..<200_000).map { _ in Float(800 + 30 * rng.normal()) }
        for i in stride(from: 0, to: values.count, by: 1001) { values[i] = .nan }
        values[17] = .infinity; values[18] = -.infinity
        let ints = (0..<50_000).map { _ in Float(Int(rng.uniform(0, 40))) }
        for data in [values, ints, Array(values.prefix(40)), [Float.nan], []] {
            for q in [0.001, 0.5, 0.9] {
                #expect(Statistics.quantileBracketed(data, q)?.bitPattern == Statistics.quantile(data, q)?.bitPattern)
            }
        }
    }
}
