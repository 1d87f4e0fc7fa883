import Foundation
import Imaging

/// One k-means solution.
public struct KMeansResult: Sendable, Equatable {
    /// Cluster index per point, renumbered in order of first appearance (point 0 is in cluster 0).
    public var labels: [Int]
    /// Sum of squared distances of the points to their cluster centre.
    public var inertia: Double
    /// Which restart (0-based) produced it.
    public var restart: Int
}

/// k-means (Lloyd) with k-means++ seeding, fully deterministic.
public enum KMeans {
    /// Most Lloyd iterations per restart.
    public static let maxIterations = 200

    /// The seed of restart `restart` for `k` clusters: a SplitMix64 mix of (seed, k, restart), so every
    /// (k, restart) pair has its own reproducible initialization.
    public static func restartSeed(seed: Int, k: Int, restart: Int) -> UInt64 {
        var g = SplitMix64(seed: UInt64(bitPattern: Int64(seed)) &* 0x100_0000_01B3 ^ UInt64(k) << 32 ^ UInt64(restart))
        return g.next()
    }

    /// Best of `restarts` runs (lowest inertia; the earliest restart wins a tie) of k-means on `points`
    /// (rows of equal length). Requires 1 <= k <= points.count.
    public static func best(_ points: [[Double]], k: Int, restarts: Int, seed: Int) -> KMeansResult {
        precondition(k >= 1 && k <= points.count && restarts >= 1)
        var best: KMeansResult?
        for r in 0..<restarts {
            let res = run(points, k: k, seed: restartSeed(seed: seed, k: k, restart: r), restart: r)
            if best == nil || res.inertia < best!.inertia { best = res }
        }
        return best!
    }

    /// One k-means run from a k-means++ initialization drawn with `seed`.
    public static func run(_ points: [[Double]], k: Int, seed: UInt64, restart: Int = 0) -> KMeansResult {
        let space = LloydSpace(points)
        let n = space.n
        let (labels, inertia) = space.run(initial: plusPlus(points, k: k, seed: seed), k: k, maxIterations: maxIterations) { dist, stride, labels in
            for i in 0..<n {
                let row = dist + i &* stride
                var bi = 0, bd = Double.infinity
                for j in 0..<k where row[j] < bd { bd = row[j]; bi = j }
                labels[i] = bi
            }
        }
        return KMeansResult(labels: renumber(labels), inertia: inertia, restart: restart)
    }

    /// k-means++ centres drawn with `seed`: the first uniform, then each proportional to the squared
    /// distance to the nearest centre already chosen (the farthest point when every distance is 0).
    static func plusPlus(_ points: [[Double]], k: Int, seed: UInt64) -> [[Double]] {
        let n = points.count
        var rng = SplitMix64(seed: seed)
        // k-means++: first centre uniform, then proportional to the squared distance to the nearest centre.
        var centres: [[Double]] = [points[Int(rng.unit() * Double(n)) % n]]
        var nearest = points.map { dist2($0, centres[0]) }
        while centres.count < k {
            let total = nearest.reduce(0, +)
            var pick = 0
            if total > 0 {
                let target = rng.unit() * total
                var acc = 0.0
                pick = n - 1
                for i in 0..<n {
                    acc += nearest[i]
                    if acc > target { pick = i; break }
                }
            } else {
                _ = rng.next()
                pick = nearest.firstIndex(of: nearest.max()!) ?? 0
            }
            centres.append(points[pick])
            for i in 0..<n { nearest[i] = min(nearest[i], dist2(points[i], points[pick])) }
        }
        return centres
    }

    /// Labels renumbered by first appearance, so equal partitions give equal labels.
    public static func renumber(_ labels: [Int]) -> [Int] {
        var map: [Int: Int] = [:]
        return labels.map { l in
            if let m = map[l] { return m }
            map[l] = map.count
            return map.count - 1
        }
    }

    static func dist2(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { let d = a[i] - b[i]; s += d * d }
        return s
    }
}
