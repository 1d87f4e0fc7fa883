import Foundation
import Testing
import TestSupport
@testable import Steps

/// `KMeans.run` / `runBalanced` (flat buffers, cycles detected, `LloydSpace`) against a copy of the
/// nested-array implementation they replaced, which iterates every round up to `maxIterations`.
@Suite("k-means against the reference Lloyd loop")
struct KMeansReferenceTests {
    /// The replaced implementation, verbatim but for names; `rounds` counts its assignments.
    enum Reference {
        static func dist2(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for i in a.indices { let d = a[i] - b[i]; s += d * d }
            return s
        }

        static func update(_ points: [[Double]], labels: [Int], k: Int, previous: [[Double]]) -> [[Double]] {
            let dim = points[0].count
            var sums = [[Double]](repeating: [Double](repeating: 0, count: dim), count: k)
            var counts = [Int](repeating: 0, count: k)
            for (i, p) in points.enumerated() {
                counts[labels[i]] += 1
                for d in 0..<dim { sums[labels[i]][d] += p[d] }
            }
            var centres = (0..<k).map { j in counts[j] > 0 ? sums[j].map { $0 / Double(counts[j]) } : previous[j] }
            for j in 0..<k where counts[j] == 0 {
                var far = 0, fd = -1.0
                for (i, p) in points.enumerated() {
                    let d = dist2(p, centres[labels[i]])
                    if d > fd { fd = d; far = i }
                }
                centres[j] = points[far]
            }
            return centres
        }

        static func run(_ points: [[Double]], k: Int, seed: UInt64, restart: Int = 0) -> KMeansResult {
            let n = points.count
            var centres = KMeans.plusPlus(points, k: k, seed: seed)
            var labels = [Int](repeating: -1, count: n)
            for _ in 0..<KMeans.maxIterations {
                var changed = false
                for i in 0..<n {
                    var bi = 0, bd = Double.infinity
                    for (j, c) in centres.enumerated() {
                        let d = dist2(points[i], c)
                        if d < bd { bd = d; bi = j }
                    }
                    if labels[i] != bi { labels[i] = bi; changed = true }
                }
                if !changed { break }
                centres = update(points, labels: labels, k: k, previous: centres)
            }
            let inertia = (0..<n).reduce(0.0) { $0 + dist2(points[$1], centres[labels[$1]]) }
            return KMeansResult(labels: KMeans.renumber(labels), inertia: inertia, restart: restart)
        }

        static func runBalanced(_ points: [[Double]], mass: [Double], k: Int, seed: UInt64, restart: Int = 0,
                                rounds: inout Int) -> KMeansResult {
            let n = points.count
            let m = mass.map { $0.isFinite ? max(0, $0) : 0 }
            let total = m.reduce(0, +)
            guard total > 0 else { return run(points, k: k, seed: seed, restart: restart) }
            let capacity = (1 + KMeans.balanceSlack) * total / Double(k)
            var centres = KMeans.plusPlus(points, k: k, seed: seed)
            let order = KMeans.massOrder(mass)
            var labels = [Int](repeating: -1, count: n)
            rounds = 0
            for _ in 0..<KMeans.maxIterations {
                rounds += 1
                var load = [Double](repeating: 0, count: k)
                var members = [Int](repeating: 0, count: k)
                var next = [Int](repeating: -1, count: n)
                for i in order {
                    var chosen = -1
                    var best = (Double.infinity, Int.max)
                    for j in 0..<k where members[j] == 0 || load[j] + m[i] <= capacity {
                        let d = (dist2(points[i], centres[j]), j)
                        if d < best { best = d; chosen = j }
                    }
                    if chosen < 0 { chosen = (0..<k).min { (load[$0], $0) < (load[$1], $1) }! }
                    next[i] = chosen
                    load[chosen] += m[i]
                    members[chosen] += 1
                }
                let changed = next != labels
                labels = next
                if !changed { break }
                centres = update(points, labels: labels, k: k, previous: centres)
            }
            let inertia = (0..<n).reduce(0.0) { $0 + dist2(points[$1], centres[labels[$1]]) }
            return KMeansResult(labels: KMeans.renumber(labels), inertia: inertia, restart: restart)
        }
    }

    /// `n` standardized 5-D states with a few outliers, and masses around 1 (a few light frames).
    static func states(n: Int, seed: UInt64) -> (points: [[Double]], mass: [Double]) {
        var rng = TestRNG(seed: seed)
        var raw: [[Double]] = (0..<n).map { i in
            let drift = Double(i) / Double(n)
            return [1 + 0.1 * rng.normal() - 0.3 * drift, rng.normal(), 0.2 * rng.normal(), 500 + 40 * drift + 5 * rng.normal(),
                    0.02 + 0.002 * rng.normal()]
        }
        for i in stride(from: 7, to: n, by: 29) { raw[i][0] = 0.2; raw[i][3] += 200 }
        let mass = raw.map { max(0.05, $0[0]) * (1 + 0.3 * rng.normal()) }
        return (Clustering.standardize(raw), mass)
    }

    @Test("balanced and plain runs equal the reference: labels and inertia bit for bit, cycling runs included")
    func equalsReference() {
        var cycling = 0, total = 0
        for (n, seed) in [(120, UInt64(1)), (142, 2), (60, 3), (31, 4)] {
            let (points, mass) = Self.states(n: n, seed: seed)
            for k in [2, 5, 15, 22, 30] where k <= n {
                for restart in 0..<4 {
                    let s = KMeans.restartSeed(seed: 7, k: k, restart: restart)
                    var rounds = 0
                    let reference = Reference.runBalanced(points, mass: mass, k: k, seed: s, restart: restart, rounds: &rounds)
                    let fast = KMeans.runBalanced(points, mass: mass, k: k, seed: s, restart: restart)
                    #expect(fast == reference, "n \(n) k \(k) restart \(restart)")
                    #expect(fast.inertia.bitPattern == reference.inertia.bitPattern)
                    if rounds == KMeans.maxIterations { cycling += 1 }
                    total += 1
                    #expect(KMeans.run(points, k: k, seed: s, restart: restart) == Reference.run(points, k: k, seed: s, restart: restart))
                }
            }
        }
        // The cycle shortcut is exercised: some balanced runs never converge within maxIterations.
        #expect(cycling > 0 && cycling < total, "\(cycling) of \(total) reference runs used every round")
        // Empty clusters (more clusters than distinct points) take the farthest point, as before.
        let dup = [[Double]](repeating: [1, 2, 3, 4, 5], count: 6) + [[0, 0, 0, 0, 0], [9, 9, 9, 9, 9]]
        for k in 2...5 {
            let s = KMeans.restartSeed(seed: 1, k: k, restart: 0)
            #expect(KMeans.run(dup, k: k, seed: s) == Reference.run(dup, k: k, seed: s))
            var rounds = 0
            let m = [Double](repeating: 1, count: dup.count)
            #expect(KMeans.runBalanced(dup, mass: m, k: k, seed: s) == Reference.runBalanced(dup, mass: m, k: k, seed: s, rounds: &rounds))
        }
    }
}
