import Foundation
import Imaging
import Testing
import TestSupport
@testable import Steps

/// Pass 2's fused background subtraction (`BackgroundMap.subtract` over a band, times 1 / B_f) against
/// `BackgroundMap.rows`, bit for bit.
@Suite("rejection fill")
struct RejectionFillTests {
    @Test("BackgroundMap.subtract over a band == (src - BackgroundMap.rows) * scale for every band, size and mesh",
          arguments: [(96, 64, 64), (1, 1, 64), (130, 70, 16), (200, 9, 64), (63, 200, 32), (7, 5, 3)])
    func sameAsRows(_ setup: (Int, Int, Int)) {
        let (w, h, mesh) = setup
        var rng = TestRNG(seed: UInt64(w * 1000 + h))
        var image = Image(width: w, height: h)
        for y in 0..<h {
            for x in 0..<w { image[x, y] = Float(100 + 0.3 * Double(x) - 0.2 * Double(y) + 5 * rng.normal()) }
        }
        let map = BackgroundMap.estimate(image, mesh: mesh)!
        let scale = Float(1 / 97.3)
        for (y0, count) in [(0, h), (0, 1), (h - 1, 1), (h / 3, h - h / 3), (h / 2, (h + 1) / 2 - 1)] where count > 0 {
            let bg = map.rows(from: y0, count: count)
            let src = Array(image.pixels[(y0 * w)..<((y0 + count) * w)])
            let expected = (0..<(count * w)).map { (src[$0] - bg[$0]) * scale }
            var got = [Float](repeating: .nan, count: count * w)
            src.withUnsafeBufferPointer { s in
                got.withUnsafeMutableBufferPointer { map.subtract(from: s.baseAddress!, into: $0.baseAddress!, rows: y0, count: count, scale: scale) }
            }
            #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "\(w)x\(h) mesh \(mesh) rows \(y0)+\(count)")
        }
    }
}
