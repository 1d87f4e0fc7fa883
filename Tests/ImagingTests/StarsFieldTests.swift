import Foundation
import Testing
@testable import Imaging
import TestSupport

/// The 14 values of a star as bit patterns (exact comparison, NaN included).
private func bits(_ s: StarMeasurement) -> [UInt64] {
    [s.x, s.y, s.flux, s.peak, s.background, s.fwhm, s.fwhmMajor, s.fwhmMinor, s.roundness, s.ellipticity,
     s.contrast, s.snr, s.angle, s.residualRMS].map(\.bitPattern)
}

@Suite("Star detection: the field list")
struct StarsFieldTests {
    /// A crowded 320 x 256 field: 180 stars (some saturated, a trail-free sky with a gradient).
    private func crowded() -> Image {
        var rng = TestRNG(seed: 41)
        var truth: [StarTestTruth] = []
        while truth.count < 180 {
            let x = 10 + rng.uniform() * 300, y = 10 + rng.uniform() * 236
            guard truth.allSatisfy({ hypot($0.x - x, $0.y - y) >= 9 }) else { continue }
            let amp = truth.count % 37 == 0 ? 90000 : 300 + rng.uniform() * 6000
            let f = 2.4 + rng.uniform() * 1.2
            truth.append(StarTestTruth(x: x, y: y, amplitude: amp, fwhmMajor: f, fwhmMinor: f * 0.9))
        }
        var img = renderStarField(width: 320, height: 256, sky: 400, stars: truth, seed: 42)
        for y in 0..<256 { for x in 0..<320 { img[x, y] = min(img[x, y] + Float(x), 65535) } }
        return img
    }

    /// Registration-like options: a map, saturation, line rejection, a fit budget below the candidates.
    private func registrationOptions() -> StarDetectionOptions {
        var o = StarDetectionOptions(thresholdSigma: 5, background: .map(mesh: 64), saturationLevel: 64000, maxStars: 60,
                                     fitBudget: 45, fit: PSFFitOptions(maxStampRadius: 8))
        o.backgroundSampleStride = 2
        o.lineRejection = StarLineRejection()
        return o
    }

    @Test("the registration list is detectStars' list bit for bit; the field list is the spread selection's")
    func twoListsFromOneDetection() throws {
        let img = crowded()
        let options = registrationOptions()
        let field = StarFieldOptions(spread: StarFitSpread(cell: 64, perCell: 5), maxStars: 90)
        let both = detectStars(in: img, options: options, field: field)
        let alone = detectStars(in: img, options: options)
        #expect(both.stars.count == alone.count && alone.count >= 35 && alone.count <= 45)  // 45 fits at most
        #expect(both.stars.map(bits) == alone.map(bits))
        // The field: what detectStars fits with the spread instead of the budget, capped at field.maxStars.
        var spreadOptions = options
        spreadOptions.fitSpread = field.spread
        spreadOptions.fitBudget = Int.max
        spreadOptions.maxStars = field.maxStars
        let spread = detectStars(in: img, options: spreadOptions)
        #expect(both.field.count == 90)
        #expect(both.field.map(bits) == spread.map(bits))
        // At most 5 fitted per 64 px cell (by the peak pixel; a fit moves the centre < 2 px).
        var perCell: [Int: Int] = [:]
        for s in both.field { perCell[Int(s.y.rounded()) / 64 * 5 + Int(s.x.rounded()) / 64, default: 0] += 1 }
        #expect(perCell.values.allSatisfy { $0 <= 6 })
        // Stars in both lists (the brightest peaks of a cell under the budget) are the same fit.
        let shared = both.field.filter { f in both.stars.contains { $0.x == f.x && $0.y == f.y } }
        #expect(shared.count >= 20)
        for f in shared {
            let s = try #require(both.stars.first { $0.x == f.x && $0.y == f.y })
            #expect(bits(s) == bits(f))
        }
        // No saturated peak in either list.
        #expect(both.field.allSatisfy { $0.peak + $0.background < 64000 })
    }

    @Test("without candidates both lists are empty; a plane without finite pixels too")
    func emptyLists() {
        let flat = renderStarField(width: 96, height: 96, sky: 400, stars: [], seed: 3)
        let field = StarFieldOptions(spread: StarFitSpread(cell: 32, perCell: 2), maxStars: 10)
        let r = detectStars(in: flat, options: registrationOptions(), field: field)
        #expect(r.stars.isEmpty && r.field.isEmpty)
        let nan = Image(width: 64, height: 64, fill: .nan)
        let n = detectStars(in: nan, options: registrationOptions(), field: field)
        #expect(n.stars.isEmpty && n.field.isEmpty)
    }

    @Test("StarListBinary round-trips every value bit for bit and refuses anything else")
    func binaryRoundTrip() throws {
        var rng = TestRNG(seed: 9)
        let specials: [Double] = [.nan, -0.0, .infinity, -.infinity, 5e-324, .greatestFiniteMagnitude]
        let stars = (0..<1200).map { k -> StarMeasurement in
            let v = (0..<14).map { i -> Double in
                (k * 14 + i) % 53 == 0 ? specials[(k + i) % specials.count] : (rng.uniform() - 0.3) * pow(10, Double((k + i) % 9) - 3)
            }
            return StarMeasurement(x: v[0], y: v[1], flux: v[2], peak: v[3], background: v[4], fwhm: v[5], fwhmMajor: v[6],
                                   fwhmMinor: v[7], roundness: v[8], ellipticity: v[9], contrast: v[10], snr: v[11],
                                   angle: v[12], residualRMS: v[13])
        }
        let data = StarListBinary.encode(stars)
        #expect(data.count == 12 + 1200 * 14 * 8)
        let back = try #require(StarListBinary.decode(data))
        #expect(back.map(bits) == stars.map(bits))
        #expect(StarListBinary.decode(StarListBinary.encode([])) == [])
        #expect(StarListBinary.decode(data.dropLast()) == nil)
        #expect(StarListBinary.decode(data + Data([0])) == nil)
        var bad = data
        bad[0] = UInt8(ascii: "X")
        #expect(StarListBinary.decode(bad) == nil)
        #expect(StarListBinary.decode(Data("[]".utf8)) == nil)
    }
}
