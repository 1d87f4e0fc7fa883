import Foundation
import Testing
@testable import Imaging
import TestSupport

@Suite("Similarity transforms")
struct TransformTests {
    let points: [SIMD2<Double>] = [SIMD2(0, 0), SIMD2(100.5, -3), SIMD2(-40, 250.25), SIMD2(1023, 767), SIMD2(7, 7)]

    @Test("apply follows the documented formula")
    func formula() {
        let t = SimilarityTransform(rotation: .pi / 2, scale: 2, tx: 10, ty: -5)
        let p = t.apply(x: 1, y: 0)
        // (1, 0) rotated by +90 degrees is (0, 1), scaled (0, 2), translated (10, -3).
        #expect(abs(p.x - 10) < 1e-12 && abs(p.y - (-3)) < 1e-12)
    }

    @Test("inverse round-trips points", arguments: [
        SimilarityTransform(rotation: 0.3, scale: 1.02, tx: 12.5, ty: -7.25),
        SimilarityTransform(rotation: -3.1, scale: 0.5, tx: -400, ty: 3),
        SimilarityTransform(rotation: .pi, scale: 1, tx: 0, ty: 0),
    ])
    func inverseRoundTrip(t: SimilarityTransform) {
        for p in points {
            let q = t.inverse.apply(t.apply(p))
            #expect(abs(q.x - p.x) < 1e-9 && abs(q.y - p.y) < 1e-9)
            let r = t.apply(t.inverse.apply(p))
            #expect(abs(r.x - p.x) < 1e-9 && abs(r.y - p.y) < 1e-9)
        }
        let id = t.then(t.inverse)
        #expect(abs(id.rotation) < 1e-12 && abs(id.scale - 1) < 1e-12 && abs(id.tx) < 1e-9 && abs(id.ty) < 1e-9)
    }

    @Test("then composes in application order")
    func composition() {
        let a = SimilarityTransform(rotation: 0.7, scale: 1.1, tx: 3, ty: 4)
        let b = SimilarityTransform(rotation: 2.9, scale: 0.9, tx: -8, ty: 1)
        let ab = a.then(b)
        for p in points {
            let expected = b.apply(a.apply(p))
            let got = ab.apply(p)
            #expect(abs(got.x - expected.x) < 1e-9 && abs(got.y - expected.y) < 1e-9)
        }
        // Rotation of the composition is folded into (-pi, pi].
        #expect(ab.rotation > -.pi && ab.rotation <= .pi)
    }

    @Test("estimate recovers an exact similarity, including rotations near 180 degrees",
          arguments: [0.0, 0.4, -1.7, 3.0, .pi])
    func estimateExact(rotation: Double) throws {
        let truth = SimilarityTransform(rotation: rotation, scale: 0.98, tx: 25.5, ty: -13)
        let target = points.map { truth.apply($0) }
        let t = try SimilarityTransform.estimate(source: points, target: target)
        let dr = abs(PSFParameters.normalizedAngle((t.rotation - truth.rotation) / 2)) * 2
        #expect(dr < 1e-9)
        #expect(abs(t.scale - truth.scale) < 1e-12 && abs(t.tx - truth.tx) < 1e-8 && abs(t.ty - truth.ty) < 1e-8)
        #expect(t.residualRMS(source: points, target: target) < 1e-9)
    }

    @Test("estimate with noisy points is close and its RMS matches the noise level")
    func estimateNoisy() throws {
        var rng = TestRNG(seed: 42)
        let truth = SimilarityTransform(rotation: 0.05, scale: 1, tx: 4, ty: 2)
        var src: [SIMD2<Double>] = [], dst: [SIMD2<Double>] = []
        for _ in 0..<200 {
            let p = SIMD2(rng.uniform() * 2000, rng.uniform() * 1500)
            src.append(p)
            dst.append(truth.apply(p) + SIMD2(rng.normal() * 0.1, rng.normal() * 0.1))
        }
        let t = try SimilarityTransform.estimate(source: src, target: dst)
        #expect(abs(t.rotation - 0.05) < 1e-4 && abs(t.scale - 1) < 1e-4)
        #expect(abs(t.tx - 4) < 0.05 && abs(t.ty - 2) < 0.05)
        let rms = t.residualRMS(source: src, target: dst)
        #expect(rms > 0.1 && rms < 0.18) // sqrt(2) * 0.1 for a 2-D residual
    }

    @Test("estimate rejects bad input with typed errors")
    func estimateErrors() {
        #expect(throws: TransformError.tooFewPoints(1)) {
            try SimilarityTransform.estimate(source: [SIMD2(1, 1)], target: [SIMD2(2, 2)])
        }
        #expect(throws: TransformError.mismatchedPointCounts(source: 2, target: 1)) {
            try SimilarityTransform.estimate(source: [SIMD2(1, 1), SIMD2(2, 2)], target: [SIMD2(2, 2)])
        }
        #expect(throws: TransformError.degeneratePoints) {
            try SimilarityTransform.estimate(source: [SIMD2(1, 1), SIMD2(1, 1)], target: [SIMD2(2, 2), SIMD2(3, 3)])
        }
        #expect(TransformError.tooFewPoints(1).description.contains("at least 2"))
    }

    @Test("Codable round-trip preserves every field")
    func codable() throws {
        let t = SimilarityTransform(rotation: -0.123456789, scale: 1.0001, tx: 1e3 / 3, ty: -2.5)
        let data = try JSONEncoder().encode(t)
        #expect(try JSONDecoder().decode(SimilarityTransform.self, from: data) == t)
    }
}
