import Foundation
import Imaging
import Testing
import TestSupport
@testable import Steps

/// `StreamingMean.average` (vectorized) against the historic per-pixel scalar loop, kept here verbatim
/// as the reference: same bits for every pixel (NaN bits included), with NaN, infinities, -0,
/// denormals, rejection masks, divisors of 1 and not, weights of 1 and not, and complete tracking.
@Suite("streaming mean: vectorized = historic scalar loop")
struct StreamingMeanTests {
    /// The historic implementation of `StreamingMean.average` (one band), from images in memory.
    static func historic(_ images: [Image], _ inputs: [MeanInput], trackComplete: Bool) -> (out: [Float], complete: [Bool]) {
        let width = images[0].width, height = images[0].height, channels = images[0].channels
        let n = width * height
        var sum = [Double](repeating: 0, count: n * channels)
        var count = [Double](repeating: 0, count: n * channels)
        var seen = [UInt32](repeating: 0, count: n * channels)
        for (band0, input) in zip(images, inputs) {
            var band = band0
            RejectionMasks.apply(input.rejected, to: &band, y0: 0, imageHeight: height)
            let weight = input.weight
            for c in 0..<channels {
                let d = input.divisors[c]
                let base = c * n
                if weight == 1 {
                    for i in 0..<n {
                        let v = band.pixels[base + i]
                        guard v.isFinite else { continue }
                        sum[base + i] += Double(v) / d
                        count[base + i] += 1
                    }
                } else {
                    for i in 0..<n {
                        let v = band.pixels[base + i]
                        guard v.isFinite else { continue }
                        sum[base + i] += weight * (Double(v) / d)
                        count[base + i] += weight
                    }
                }
            }
            for i in 0..<(n * channels) where band.pixels[i].isFinite { seen[i] += 1 }
        }
        var out = [Float](repeating: .nan, count: n * channels)
        for i in 0..<(n * channels) where count[i] > 0 { out[i] = Float(sum[i] / count[i]) }
        return (out, trackComplete ? seen.map { $0 == UInt32(images.count) } : [])
    }

    static func randomValue(_ rng: inout TestRNG) -> Float {
        let r = rng.next()
        switch r % 16 {
        case 0: return .nan
        case 1: return r & 32 == 0 ? .infinity : -.infinity
        case 2: return Float(bitPattern: UInt32(truncatingIfNeeded: r >> 41) | 0x7f80_0000)  // NaN payloads / inf
        case 3: return Float(bitPattern: UInt32(truncatingIfNeeded: r >> 41))  // denormals
        case 4: return -0.0
        case 5: return Float(bitPattern: UInt32(truncatingIfNeeded: r >> 32))  // anything
        default: return rng.uniform(-50, 3000)
        }
    }

    @Test("same bits as the historic loop", arguments: [(1, 1), (3, 1), (1, 3), (3, 2)])
    func sameBits(channels: Int, variant: Int) throws {
        let dir = TemporaryDirectory("streamingmean")
        var rng = TestRNG(seed: UInt64(100 * channels + variant))
        let width = 37, height = 23, n = width * height
        var images: [Image] = [], inputs: [MeanInput] = []
        for f in 0..<9 {
            let img = Image(width: width, height: height, channels: channels,
                            pixels: (0..<(n * channels)).map { _ in Self.randomValue(&rng) })
            let path = dir.file("f\(f).fits")
            try FITS.write(img, to: path, as: .float32)
            images.append(img)
            let divisors = (0..<channels).map { c in f % 3 == 0 ? 1 : [0.37, 1234.5, 1e-3][(f + c) % 3] }
            let rejected = f % 2 == 0 ? [] : (0..<(n * channels)).filter { _ in rng.next() % 7 == 0 }.map(UInt32.init)
            let weight = variant == 1 ? 1 : [1, 0.25, 3.75][f % 3]
            inputs.append(MeanInput(path: path, divisors: divisors, name: "f\(f)", rejected: rejected, weight: weight))
        }
        let expected = Self.historic(images, inputs, trackComplete: true)
        for bandBytes in [StreamingMean.defaultBandBytes, 7 * width * channels * 16] {
            let got = try StreamingMean.average(inputs, width: width, height: height, channels: channels,
                                                trackComplete: true, bandBytes: bandBytes, node: "test")
            #expect(got.image.pixels.map(\.bitPattern) == expected.out.map(\.bitPattern))
            #expect(got.complete == expected.complete)
        }
    }
}
