import Foundation
import Testing
@testable import Imaging
import TestSupport

/// `StarFinder.withoutLines` (step 5b) against the flood fill it replaced, kept here verbatim as the
/// reference: the same candidates survive, on a field with stars, trails, blank (NaN) pixels and
/// candidates whose window crosses the plane's border.
@Suite("Star detection: line rejection")
struct StarsLineRejectionTests {
    /// The reference: the flood fill with a bounds-clipped neighbourhood per pixel and Double moments.
    static func reference(_ f: StarFinder, _ candidates: [StarFinder.Candidate], _ rule: StarLineRejection) -> [StarFinder.Candidate] {
        let width = f.width, height = f.height, residual = f.residual
        let r = max(1, rule.radius), side = 2 * r + 1
        var stamp = [Int32](repeating: 0, count: side * side)
        var stack: [Int32] = []
        var kept: [StarFinder.Candidate] = []
        stamp.withUnsafeMutableBufferPointer { seen in
            for (n, c) in candidates.enumerated() {
                let mark = Int32(truncatingIfNeeded: n + 1)
                let level = 0.5 * c.value
                let x0 = max(0, c.x - r), x1 = min(width - 1, c.x + r)
                let y0 = max(0, c.y - r), y1 = min(height - 1, c.y + r)
                var count = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
                stack.removeAll(keepingCapacity: true)
                seen[r * side + r] = mark
                stack.append(Int32(r * side + r))
                while let k = stack.popLast() {
                    let wy = Int(k) / side, wx = Int(k) % side
                    let dx = Double(wx - r), dy = Double(wy - r)
                    count += 1; sx += dx; sy += dy; sxx += dx * dx; syy += dy * dy; sxy += dx * dy
                    for ny in max(wy - 1, y0 - c.y + r)...min(wy + 1, y1 - c.y + r) {
                        for nx in max(wx - 1, x0 - c.x + r)...min(wx + 1, x1 - c.x + r) {
                            let q = ny * side + nx
                            guard seen[q] != mark else { continue }
                            guard residual[(c.y + ny - r) * width + (c.x + nx - r)] >= level else { continue }
                            seen[q] = mark
                            stack.append(Int32(q))
                        }
                    }
                }
                let mx = sx / count, my = sy / count
                let vxx = sxx / count - mx * mx + 1.0 / 12, vyy = syy / count - my * my + 1.0 / 12
                let vxy = sxy / count - mx * my
                let half = 0.5 * (vxx + vyy), d = (0.25 * (vxx - vyy) * (vxx - vyy) + vxy * vxy).squareRoot()
                let major = half + d, minor = max(half - d, 1.0 / 12)
                let isLine = (major / minor).squareRoot() > rule.maxElongation && (12 * major).squareRoot() >= rule.minLength
                if !isLine { kept.append(c) }
            }
        }
        return kept
    }

    /// 200 x 160: 60 stars (some at the border), two trails (one crossing the border), a blank patch.
    static func field() -> Image {
        var rng = TestRNG(seed: 77)
        var truth: [StarTestTruth] = []
        while truth.count < 60 {
            let x = rng.uniform() * 200, y = rng.uniform() * 160
            let f = 1.8 + 2.5 * rng.uniform()
            truth.append(StarTestTruth(x: x, y: y, amplitude: 200 + 5000 * rng.uniform(), fwhmMajor: f, fwhmMinor: f * 0.85))
        }
        var img = renderStarField(width: 200, height: 160, sky: 300, stars: truth, seed: 78)
        for t in 0..<260 {  // trails: 1.5 px wide ridges with bumps every few pixels
            let u = Double(t)
            let points = [(10 + 0.7 * u, 20 + 0.45 * u), (195 - 0.3 * u, 5 + 0.6 * u)]
            for (px, py) in points {
                for dy in -2...2 { for dx in -2...2 {
                    let x = Int(px) + dx, y = Int(py) + dy
                    guard x >= 0, x < 200, y >= 0, y < 160 else { continue }
                    let d = hypot(Double(x) - px, Double(y) - py)
                    img[x, y] += Float(2500 * exp(-d * d / 1.2) * (1 + 0.3 * sin(u)))
                } }
            }
        }
        for y in 100..<106 { for x in 60..<70 { img[x, y] = .nan } }
        return img
    }

    @Test("withoutLines keeps exactly the reference flood fill's candidates (trails dropped, stars kept)")
    func sameAsReference() {
        let img = Self.field()
        let residual = img.pixels.map { $0 - 300 }
        for rule in [StarLineRejection(), StarLineRejection(radius: 6, maxElongation: 3, minLength: 2.5),
                     StarLineRejection(radius: 1, maxElongation: 1.5, minLength: 1)] {
            img.pixels.withUnsafeBufferPointer { plane in
                residual.withUnsafeBufferPointer { res in
                    let f = StarFinder(plane: plane, residual: res, width: 200, height: 160, options: StarDetectionOptions())
                    let candidates = f.separated(f.candidates(threshold: 40, radius: 1, margin: 1))
                    let fast = f.withoutLines(candidates, rule)
                    let ref = Self.reference(f, candidates, rule)
                    #expect(candidates.count > 80)
                    #expect(fast.map { [$0.x, $0.y] } == ref.map { [$0.x, $0.y] })
                    if rule == StarLineRejection() { #expect(fast.count < candidates.count - 10 && fast.count > 40) }
                }
            }
        }
    }
}
