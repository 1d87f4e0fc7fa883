import Foundation
import Testing
@testable import Imaging
import TestSupport

/// `StarFinder.separated` (step 4) against the hash-grid version it replaced, kept here as the
/// reference: the same candidates survive in the same order, for several separations.
@Suite("Star detection: minimum separation")
struct StarsSeparationTests {
    static func reference(_ f: StarFinder, _ candidates: [StarFinder.Candidate]) -> [StarFinder.Candidate] {
        let sorted = candidates.sorted { $0.value != $1.value ? $0.value > $1.value : ($0.y, $0.x) < ($1.y, $1.x) }
        let sep = f.options.minSeparation
        guard sep > 0 else { return sorted }
        let cell = max(1, Int(sep.rounded(.up)))
        let gw = f.width / cell + 1
        var grid: [Int: [Int]] = [:]
        var kept: [StarFinder.Candidate] = []
        for c in sorted {
            let gx = c.x / cell, gy = c.y / cell
            var clash = false
            search: for dy in -1...1 {
                for dx in -1...1 {
                    guard let list = grid[(gy + dy) * gw + gx + dx] else { continue }
                    for k in list {
                        let ddx = Double(kept[k].x - c.x), ddy = Double(kept[k].y - c.y)
                        if ddx * ddx + ddy * ddy < sep * sep { clash = true; break search }
                    }
                }
            }
            if clash { continue }
            grid[gy * gw + gx, default: []].append(kept.count)
            kept.append(c)
        }
        return kept
    }

    @Test("separated keeps exactly the reference's candidates, in order", arguments: [0.0, 1.5, 3, 3.5, 7.2])
    func sameAsReference(sep: Double) {
        // Random candidates (with repeated values, clusters and plane corners): 3000 on 300 x 200.
        var rng = TestRNG(seed: 5)
        var cands: [StarFinder.Candidate] = []
        for i in 0..<3000 {
            let cluster = i % 3 == 0
            let x = cluster ? 150 + Int(rng.uniform() * 6) : Int(rng.uniform() * 300)
            let y = cluster ? 100 + Int(rng.uniform() * 6) : Int(rng.uniform() * 200)
            cands.append(StarFinder.Candidate(x: min(299, x), y: min(199, y), value: Float(Int(rng.uniform() * 50)), raw: 0))
        }
        cands += [.init(x: 0, y: 0, value: 60, raw: 0), .init(x: 299, y: 199, value: 60, raw: 0), .init(x: 299, y: 0, value: 1, raw: 0)]
        let plane = [Float](repeating: 0, count: 300 * 200)
        var options = StarDetectionOptions()
        options.minSeparation = sep
        plane.withUnsafeBufferPointer { p in
            let f = StarFinder(plane: p, residual: p, width: 300, height: 200, options: options)
            let fast = f.separated(cands), ref = Self.reference(f, cands)
            #expect(fast.map { [$0.x, $0.y, Int($0.value)] } == ref.map { [$0.x, $0.y, Int($0.value)] })
            #expect(sep == 0 ? fast.count == cands.count : fast.count < cands.count - 500)
        }
    }
}
