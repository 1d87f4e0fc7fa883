import Foundation
import Imaging
import Testing
@testable import Steps

@Suite("metrics: robust scaling across frames, Q and G")
struct GlobalMetricsTests {
    @Test("robust scaling: (x - median) / (1.4826 MAD), per channel, then the channel mean")
    func scaling() {
        // Channel 0: 1..5 -> median 3, MAD 1; channel 1: 10 * that.
        let v: [[Double]] = [[1, 10], [2, 20], [3, 30], [4, 40], [5, 50]]
        let s = GlobalMetrics.scaledChannelMean(v)
        for (i, x) in s.enumerated() { #expect(abs(x - Double(i - 2) / 1.4826) < 1e-12) }
        // A constant channel carries no spread and contributes 0 to the mean.
        let c = GlobalMetrics.scaledChannelMean(v.map { [$0[0], 7] })
        for (i, x) in c.enumerated() { #expect(abs(x - Double(i - 2) / 1.4826 / 2) < 1e-12) }
    }

    @Test("Q = a(-B~) + b(-sigma~) + c E~ with the configured weights, clamped")
    func qualityFormula() {
        let b: [[Double]] = [[100], [110], [120], [130], [140]]
        let s: [[Double]] = [[1], [1], [1], [1], [1]]  // no spread: neutral
        let e: [[Double]] = [[5], [4], [3], [2], [1]]
        var w = TCConfig.GlobalWeights()
        let clamp = ClampRange(lo: -3, hi: 3)
        let q = GlobalMetrics.quality(background: b, noise: s, gradient: e, weights: w, clamp: clamp)
        for f in 0..<5 {
            let bt = Double(f - 2) / 1.4826, et = Double(2 - f) / 1.4826
            #expect(abs(q[f] - (0.4 * -bt + 0.3 * et)) < 1e-12)
        }
        #expect(q[0] > q[2] && q[2] > q[4])
        // An extreme background (a cloud) is clamped at the lower bound.
        w.background = 1; w.noise = 0; w.gradient = 0
        let cloudy = GlobalMetrics.quality(background: b + [[1000]], noise: s + [[1]], gradient: e + [[3]], weights: w, clamp: clamp)
        #expect(cloudy[5] == -3)
        #expect(cloudy.allSatisfy { $0 >= -3 && $0 <= 3 })
    }

    @Test("table: G = exp(Q), channel means, registration fields; CSV has one row per frame and the columns")
    func tableAndCSV() {
        let measures = (0..<4).map { i in
            FrameMeasurement(width: 10, height: 10,
                             channels: [ChannelMeasurement(background: 100 + Double(i), noise: 0.01, gradient: 1e-4),
                                        ChannelMeasurement(background: 300 + 3 * Double(i), noise: 0.02, gradient: 3e-4)],
                             coverage: 1, starCount: 10 + i, fwhm: i == 3 ? nil : 2.5, stars: [])
        }
        let reg = (0..<4).map { RegistrationSummary(residualRMS: $0 == 1 ? nil : 0.1 * Double($0), matches: 20, starCount: 30) }
        let t = GlobalMetrics.table(measures: measures, registration: reg, files: ["a.fits", "b.fits", "c,d.fits", "e.fits"],
                                    section: TCConfig.GlobalMetricsSection())
        #expect(t.frames.count == 4)
        for r in t.frames { #expect(abs(r.g - exp(r.q)) < 1e-12) }
        #expect(t.frames[0].background == 200 && t.frames[3].background == 206)
        #expect(t.frames[0].q > t.frames[3].q)  // rising background lowers Q
        let lines = t.csv().split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.first == "file,B,sigma,E,Q,G,residual,stars,fwhm")
        #expect(lines.count == 5)
        #expect(lines[2].hasPrefix("b.fits,202.0,") && lines[2].contains(",,11,2.5"))  // no residual
        #expect(lines[3].hasPrefix("\"c,d.fits\","))
        #expect(lines[4].hasSuffix(",13,"))  // no FWHM
        #expect(lines.dropFirst().allSatisfy { $0.replacingOccurrences(of: "\"c,d.fits\"", with: "x").split(separator: ",", omittingEmptySubsequences: false).count == 9 })
    }

    @Test("registration summary decodes the needed fields and ignores the rest")
    func registrationSummary() throws {
        let json = #"{"residualRMS":0.25,"matches":41,"starCount":77,"transform":{"a":1},"reference":3}"#
        let s = try JSONDecoder().decode(RegistrationSummary.self, from: Data(json.utf8))
        #expect(s == RegistrationSummary(residualRMS: 0.25, matches: 41, starCount: 77))
    }
}
