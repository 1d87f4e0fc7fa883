import Foundation
import Testing
@testable import Imaging
@testable import Steps
import TestSupport

@Suite("StarListJSON")
struct StarListJSONTests {
    /// Doubles of every kind JSONEncoder writes: integral, tiny, huge, negative, -0, many digits.
    private func value(_ rng: inout TestRNG, _ i: Int) -> Double {
        switch i % 7 {
        case 0: return (rng.uniform() - 0.5) * 2000
        case 1: return Double(Int(rng.uniform() * 100))
        case 2: return rng.uniform() * 1e-9
        case 3: return -rng.uniform() * 1e17
        case 4: return i % 14 == 4 ? -0.0 : 0.1 * Double(i)
        case 5: return rng.uniform() * 1e300
        default: return Double.random(in: 1...2, using: &rng) * 3.0e-310  // subnormal range
        }
    }

    @Test("the direct reader gives the same Doubles (bit for bit) as JSONDecoder on 2000 stars")
    func sameAsJSONDecoder() throws {
        var rng = TestRNG(seed: 77)
        var stars: [StarMeasurement] = []
        for s in 0..<2000 {
            var v = (0..<14).map { value(&rng, s &* 14 &+ $0) }
            v.shuffle(using: &rng)
            stars.append(StarMeasurement(x: v[0], y: v[1], flux: v[2], peak: v[3], background: v[4], fwhm: v[5],
                                         fwhmMajor: v[6], fwhmMinor: v[7], roundness: v[8], ellipticity: v[9],
                                         contrast: v[10], snr: v[11], angle: v[12], residualRMS: v[13]))
        }
        let data = try Artifacts.encoder().encode(stars)
        let reference = try JSONDecoder().decode([StarMeasurement].self, from: data)
        let fast = try #require(StarListJSON.decode(data))
        #expect(fast.count == 2000)
        func bits(_ s: StarMeasurement) -> [UInt64] {
            [s.x, s.y, s.flux, s.peak, s.background, s.fwhm, s.fwhmMajor, s.fwhmMinor, s.roundness, s.ellipticity,
             s.contrast, s.snr, s.angle, s.residualRMS].map(\.bitPattern)
        }
        var same = 0
        for (a, b) in zip(fast, reference) where bits(a) == bits(b) { same += 1 }
        #expect(same == 2000)
        #expect(StarListJSON.decode(try Artifacts.encoder().encode([StarMeasurement]())) == [])
    }

    @Test("anything but a plain star list is left to JSONDecoder (nil)")
    func rejects() throws {
        let one = #"{"angle":0,"background":1,"contrast":2,"ellipticity":0.1,"flux":3,"fwhm":2.5,"fwhmMajor":2.6,"fwhmMinor":2.4,"peak":9,"residualRMS":1,"roundness":0.9,"snr":5,"x":1.5,"y":-2e3}"#
        #expect(StarListJSON.decode(Data("[\(one)]".utf8))?.first?.y == -2000)
        let bad = [
            "[\(one)] x", "[\(one),]", "[\(one)",
            "[" + one.replacingOccurrences(of: #""snr":5,"#, with: "") + "]",                     // missing key
            "[" + one.replacingOccurrences(of: #""snr":5"#, with: #""snr":5,"snr":5"#) + "]",      // repeated key
            "[" + one.replacingOccurrences(of: #""snr":5"#, with: #""snr":5,"name":5"#) + "]",     // unknown key
            "[" + one.replacingOccurrences(of: #""snr":5"#, with: #""snr":"5""#) + "]",            // string value
            "[" + one.replacingOccurrences(of: #""snr":5"#, with: #""snr":05"#) + "]",             // not JSON
            "[" + one.replacingOccurrences(of: #""snr":5"#, with: #""snr":1e999"#) + "]",          // not finite
            "{}", "",
        ]
        for text in bad { #expect(StarListJSON.decode(Data(text.utf8)) == nil, "\(text.prefix(40))") }
    }
}
