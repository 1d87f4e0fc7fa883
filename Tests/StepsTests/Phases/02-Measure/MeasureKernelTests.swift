import Foundation
import Imaging
import Testing
import TestSupport
@testable import Steps

/// `Measure.pixelNoise` before the branch-free gather (scalar reference).
private func referencePixelNoise(_ image: Image, plane: Int, mask: [Bool]? = nil, rowStride: Int = 1) -> Double? {
    let w = image.width, h = image.height, n = image.planeSize
    var diffs = [Float]()
    for y in stride(from: 0, to: h, by: max(1, rowStride)) {
        for x in 1..<max(1, w) {
            if let mask, mask[y * w + x] || mask[y * w + x - 1] { continue }
            let d = image.pixels[plane * n + y * w + x] - image.pixels[plane * n + y * w + x - 1]
            if d.isFinite { diffs.append(d) }
        }
    }
    return Statistics.mad(diffs).map { Statistics.madToSigma * Double($0) / 2.0.squareRoot() }
}

/// A noisy plane with a gradient, bright spots, a NaN wedge and a few ±Inf pixels.
private func testPlane(width w: Int, height h: Int, channels: Int = 1, seed: UInt64) -> Image {
    var rng = TestRNG(seed: seed)
    var img = Image(width: w, height: h, channels: channels, fill: 0)
    for c in 0..<channels { for y in 0..<h { for x in 0..<w {
        var v = 1 + 0.001 * Double(x + 2 * y) + 0.03 * rng.normal()
        if rng.uniform() < 0.01 { v += 5 * rng.uniform() }
        img.pixels[c * w * h + y * w + x] = x + y < min(w, h) / 3 ? .nan : Float(v)
    } } }
    if w * h > 10 { img.pixels[w * h / 2] = .infinity; img.pixels[w * h / 3] = -.infinity }
    return img
}

@Suite("measure: vectorized kernels equal their scalar references")
struct MeasureKernelTests {
    @Test func pixelNoiseAndCoverageMatchReferences() {
        var seed: UInt64 = 40
        for (w, h) in [(1, 1), (1, 5), (2, 2), (5, 3), (9, 7), (33, 17), (130, 70), (300, 240)] {
            seed += 1
            let img = testPlane(width: w, height: h, seed: seed)
            let mask = Statistics.starMask(img)
            for stride in [1, 4] {
                for m in [nil, mask] {
                    let fast = Measure.pixelNoise(img, plane: 0, mask: m, rowStride: stride)
                    let ref = referencePixelNoise(img, plane: 0, mask: m, rowStride: stride)
                    #expect(fast?.bitPattern == ref?.bitPattern, "\(w)x\(h) stride \(stride) mask \(m != nil)")
                }
            }
            let finite = img.pixels.filter { $0.isFinite }.count
            #expect(Measure.coverage(img) == Double(finite) / Double(img.planeSize))
        }
        let rgb = testPlane(width: 37, height: 23, channels: 3, seed: 9)
        for c in 0..<3 {
            #expect(Measure.pixelNoise(rgb, plane: c, rowStride: 2)?.bitPattern == referencePixelNoise(rgb, plane: c, rowStride: 2)?.bitPattern)
        }
    }
}
