import Foundation
import Testing
@testable import Imaging
import TestSupport

/// Flat sky (level, noise) with Gaussian stars of peak `peak` at `stars`.
private func skyWithStars(width: Int, height: Int, level: Double, noise: Double,
                          stars: [(Int, Int)], peak: Double, seed: UInt64) -> Image {
    var rng = TestRNG(seed: seed)
    var img = Image(width: width, height: height)
    for y in 0..<height { for x in 0..<width {
        var v = level + noise * rng.normal()
        for (sx, sy) in stars {
            let d2 = Double((x - sx) * (x - sx) + (y - sy) * (y - sy))
            v += peak * exp(-d2 / (2 * 1.5 * 1.5))
        }
        img[x, y] = Float(v)
    } }
    return img
}

@Suite struct StatisticsBackgroundTests {
    @Test func starMaskCoversInjectedBrightSpots() {
        let stars = [(20, 20), (100, 40), (60, 100), (5, 120)]
        let img = skyWithStars(width: 128, height: 128, level: 500, noise: 5, stars: stars, peak: 400, seed: 1)
        let mask = Statistics.starMask(img, kappa: 5, dilate: 3)
        for (sx, sy) in stars {
            for dy in -3...3 { for dx in -3...3 where dx * dx + dy * dy <= 9 {
                let x = sx + dx, y = sy + dy
                guard x >= 0, y >= 0, x < 128, y < 128 else { continue }
                #expect(mask[y * 128 + x], "pixel (\(x),\(y)) near star (\(sx),\(sy)) not masked")
            } }
        }
        let fraction = Double(mask.filter { $0 }.count) / Double(mask.count)
        #expect(fraction < 0.05)  // background stays unmasked (kappa 5: noise alone almost never triggers)
        #expect(!mask[64 * 128 + 30])
        let seedsOnly = Statistics.starMask(img, kappa: 5, dilate: 0)
        #expect(seedsOnly.filter { $0 }.count < mask.filter { $0 }.count)
    }

    @Test func backgroundIgnoresStarsAndMeasuresNoise() throws {
        var stars: [(Int, Int)] = []
        for i in 0..<40 { stars.append(((i * 37) % 190 + 5, (i * 53) % 190 + 5)) }
        var img = skyWithStars(width: 200, height: 200, level: 1200, noise: 8, stars: stars, peak: 3000, seed: 2)
        img[0, 0] = .nan
        let bg = try #require(Statistics.background(img))
        #expect(abs(bg.level - 1200) < 0.5)
        #expect(abs(bg.noise - 8) / 8 < 0.03)
        #expect(bg.maskedFraction > 0.01 && bg.maskedFraction < 0.2)
        let plain = try #require(Statistics.background(img, mode: .median))
        #expect(plain.maskedFraction == 0)
        #expect(plain.level > bg.level)  // stars bias the plain median upward
        #expect(Statistics.background(Image(width: 2, height: 2, fill: .nan)) == nil)
    }

    @Test func backgroundMapRecoversLinearGradient() throws {
        let w = 300, h = 200
        var rng = TestRNG(seed: 3)
        var img = Image(width: w, height: h)
        func truth(_ x: Int, _ y: Int) -> Double { 1000 + 0.8 * Double(x) - 0.5 * Double(y) }
        for y in 0..<h { for x in 0..<w { img[x, y] = Float(truth(x, y) + 4 * rng.normal()) } }
        // a few bright stars must not leak into the map
        for (sx, sy) in [(50, 50), (150, 120), (280, 20)] {
            for dy in -2...2 { for dx in -2...2 { img[sx + dx, sy + dy] += 5000 } }
        }
        let map = try #require(BackgroundMap.estimate(img, mesh: 64))
        #expect(map.columns == 5 && map.rows == 4)
        let rendered = map.render()
        var worst = 0.0
        for y in 0..<h { for x in 0..<w {
            worst = max(worst, abs(Double(rendered[x, y]) - truth(x, y)) / truth(x, y))
        } }
        #expect(worst < 0.01, "worst relative error \(worst)")
        #expect(abs(Double(map.value(x: 150, y: 100)) - truth(150, 100)) < 2)
    }

    @Test func maskedNoiseEqualsBackgroundNoiseWithItsMask() throws {
        var stars: [(Int, Int)] = []
        for i in 0..<40 { stars.append(((i * 37) % 190 + 5, (i * 53) % 190 + 5)) }
        var img = skyWithStars(width: 200, height: 200, level: 1200, noise: 8, stars: stars, peak: 3000, seed: 2)
        img[3, 7] = .nan
        let (est, mask) = Statistics.backgroundAndMask(img)
        let bg = try #require(est), m = try #require(mask)
        // Same pixels as the background's own noise: the same bits.
        let noise = try #require(img.pixels.withUnsafeBufferPointer { Statistics.maskedNoise($0, mask: m) })
        #expect(noise == bg.noise)
        // Shifted data (a background subtraction) has the same noise; a 1-in-4 sample is within 3 %.
        let shifted = img.pixels.map { $0 - 1200 }
        let sampled = try #require(shifted.withUnsafeBufferPointer { Statistics.maskedNoise($0, mask: m, sampleStride: 4) })
        #expect(abs(sampled - 8) / 8 < 0.03)
        #expect([Float](repeating: .nan, count: 4).withUnsafeBufferPointer {
            Statistics.maskedNoise($0, mask: [false, false, false, false]) } == nil)
    }
}
