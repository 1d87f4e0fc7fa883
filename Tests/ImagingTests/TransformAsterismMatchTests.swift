import Foundation
import Testing
@testable import Imaging
import TestSupport

@Suite("Asterism matching")
struct AsterismMatchTests {
    /// Reference star field (seeded) in a 2000 x 1500 frame.
    private func field(count: Int, seed: UInt64) -> [SIMD2<Double>] {
        var rng = TestRNG(seed: seed)
        return (0..<count).map { _ in SIMD2(rng.uniform() * 2000, rng.uniform() * 1500) }
    }

    @Test("recovers rotation (up to 180 degrees) and shift with missing and spurious stars",
          arguments: [0.0, 0.02, 1.5708, 3.1, -2.6, .pi])
    func recovers(rotation: Double) throws {
        let ref = field(count: 80, seed: 3)
        // The frame sees the sky rotated about the image centre and shifted.
        let truth = SimilarityTransform.translation(-1000, -750)
            .then(SimilarityTransform(rotation: rotation))
            .then(SimilarityTransform.translation(1000 + 35.5, 750 - 20.25))
        var rng = TestRNG(seed: 4)
        var frame: [SIMD2<Double>] = []
        var truthIndex: [Int: Int] = [:] // frame index -> reference index
        for (i, p) in ref.enumerated() where i % 8 != 5 { // drop every 8th star
            truthIndex[frame.count] = i
            frame.append(truth.apply(p) + SIMD2(rng.normal() * 0.05, rng.normal() * 0.05))
            if i % 10 == 3 { frame.append(SIMD2(rng.uniform() * 2000, rng.uniform() * 1500)) } // spurious
        }
        let m = try matchAsterisms(reference: ref, frame: frame)
        let dr = PSFParameters.normalizedAngle((m.transform.rotation - truth.rotation) / 2) * 2
        #expect(abs(dr) < 1e-4, "rotation \(m.transform.rotation) vs \(truth.rotation)")
        #expect(abs(m.transform.scale - 1) < 1e-4)
        let probe = SIMD2<Double>(1000, 750)
        let err = m.transform.apply(probe) - truth.apply(probe)
        #expect((err.x * err.x + err.y * err.y).squareRoot() < 0.05)
        #expect(m.pairs.count >= 60, "pairs \(m.pairs.count)")
        #expect(m.pairs.allSatisfy { truthIndex[$0.frame] == $0.reference })
        #expect(m.residualRMS < 0.12)
    }

    @Test("end to end: stars detected in a rotated rendering match the reference to 0.05 px")
    func detectedStars() throws {
        var rng = TestRNG(seed: 21)
        var refStars: [StarTestTruth] = []
        while refStars.count < 30 {
            let x = 20 + rng.uniform() * 216, y = 20 + rng.uniform() * 216
            guard refStars.allSatisfy({ hypot($0.x - x, $0.y - y) > 12 }) else { continue }
            refStars.append(StarTestTruth(x: x, y: y, amplitude: 1500 + rng.uniform() * 5000, fwhmMajor: 3, fwhmMinor: 3))
        }
        // Frame = sky rotated by 2.5 rad about the centre and shifted (reference -> frame).
        let truth = SimilarityTransform.translation(-127.5, -127.5)
            .then(SimilarityTransform(rotation: 2.5))
            .then(SimilarityTransform.translation(127.5 + 4.3, 127.5 - 2.8))
        let frameStars = refStars.map { s -> StarTestTruth in
            var t = s
            let p = truth.apply(x: s.x, y: s.y)
            t.x = p.x; t.y = p.y
            return t
        }
        let refImage = renderStarField(width: 256, height: 256, sky: 300, stars: refStars, seed: 22)
        let frameImage = renderStarField(width: 256, height: 256, sky: 300, stars: frameStars, seed: 23)
        let m = try matchAsterisms(reference: detectStars(in: refImage), frame: detectStars(in: frameImage))
        #expect(m.pairs.count >= 20)
        #expect(m.residualRMS < 0.05, "rms \(m.residualRMS)")
        let probe = SIMD2<Double>(127.5, 127.5)
        let err = m.transform.apply(probe) - truth.apply(probe)
        #expect((err.x * err.x + err.y * err.y).squareRoot() < 0.05)
    }

    @Test("unrelated star lists are rejected with a typed error")
    func unrelated() {
        let a = field(count: 50, seed: 10), b = field(count: 50, seed: 11)
        #expect(throws: AsterismMatchError.self) {
            try matchAsterisms(reference: a, frame: b, options: AsterismMatchOptions(minMatches: 10))
        }
    }

    @Test("fewer than 3 stars throws tooFewStars")
    func tooFew() {
        #expect(throws: AsterismMatchError.tooFewStars(reference: 2, frame: 5)) {
            try matchAsterisms(reference: [SIMD2(0, 0), SIMD2(1, 1)], frame: field(count: 5, seed: 1))
        }
    }
}
