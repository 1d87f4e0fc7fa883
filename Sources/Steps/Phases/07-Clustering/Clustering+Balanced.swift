import Foundation

/// Weight-balanced k-means: Lloyd iterations whose assignment step respects a capacity on each
/// cluster's total mass (the node uses each frame's mean share of the tile weights,
/// `Clustering.weightShares`).
///
/// Why: phase 9 averages the synthetic frames with equal weights, so a frame of cluster c ends up
/// with the weight W_f / (k * sum_{g in c} W_g) in the final stack. With plain k-means, outlier frames
/// (a cloud frame, a wind gust) form clusters of one or two frames, and each of those gets 1/k of the
/// final stack, undoing the weighting of phases 3-5 (measured on 200 synthetic frames: clusters of
/// sizes 1, 1, 2, 2, 3 next to 30-frame clusters, background noise x2.09 of the classical stack;
/// balanced on the weight shares: FWHM gain 8.3 -> 10.7 %, noise x2.09 -> x1.85, docs/method.md).
/// When every cluster carries about the same total weight, the equal-weight average gives each frame
/// about its share W_f / sum W of the whole series, as METHOD's weights intend.
/// It is still k-means (the objective is the within-cluster sum of squares, the centres are means);
/// only the assignment is constrained.
extension KMeans {
    /// How far a cluster's mass may exceed the equal share `total / k` (10 %).
    public static let balanceSlack = 0.1

    /// Best of `restarts` weight-balanced runs (lowest inertia; the earliest restart wins a tie).
    /// `mass` is one non-negative number per point. Requires 1 <= k <= points.count.
    /// Guarantees: deterministic for the same inputs; every cluster's mass is at most
    /// `(1 + balanceSlack) * sum(mass) / k` unless it holds a single point heavier than that, or the
    /// greedy assignment could not place a point within capacity (it then joins the lightest cluster).
    public static func bestBalanced(_ points: [[Double]], mass: [Double], k: Int, restarts: Int, seed: Int) -> KMeansResult {
        precondition(k >= 1 && k <= points.count && restarts >= 1 && mass.count == points.count)
        var best: KMeansResult?
        let order = massOrder(mass)
        for r in 0..<restarts {
            let res = runBalanced(points, mass: mass, k: k, seed: restartSeed(seed: seed, k: k, restart: r), restart: r,
                                  order: order)
            if best == nil || res.inertia < best!.inertia { best = res }
        }
        return best!
    }

    /// One weight-balanced run from the same k-means++ initialization as `run` (same `seed`, same
    /// centres). Assignment step: points in order of decreasing mass (ties by index) each go to the
    /// nearest centre that still has room (`load + mass <= capacity`) or is empty; when none has room,
    /// to the lightest cluster. Then the centres move to the means; at most `maxIterations` rounds,
    /// stopping when no label changes.
    public static func runBalanced(_ points: [[Double]], mass: [Double], k: Int, seed: UInt64, restart: Int = 0,
                                   order given: [Int]? = nil) -> KMeansResult {
        let m = mass.map { $0.isFinite ? max(0, $0) : 0 }
        let total = m.reduce(0, +)
        guard total > 0 else { return run(points, k: k, seed: seed, restart: restart) }
        let capacity = (1 + balanceSlack) * total / Double(k)
        let order = given ?? massOrder(mass)
        let space = LloydSpace(points)
        let load = UnsafeMutablePointer<Double>.allocate(capacity: k)
        let members = UnsafeMutablePointer<Int>.allocate(capacity: k)
        defer { load.deallocate(); members.deallocate() }
        let (labels, inertia) = m.withUnsafeBufferPointer { mb in
            let m = mb.baseAddress!
            return space.run(initial: plusPlus(points, k: k, seed: seed), k: k, maxIterations: maxIterations) { dist, stride, next in
                load.update(repeating: 0, count: k)
                members.update(repeating: 0, count: k)
                for i in order {
                    // The nearest centre (ties: lower index) among those with room, i.e. the least (distance,
                    // index) pair: the first strictly nearer one in index order (an infinite distance still
                    // counts when nothing was chosen yet), found without sorting the k centres.
                    let row = dist + i &* stride
                    var chosen = -1
                    var best = Double.infinity
                    let mi = m[i]
                    for j in 0..<k where members[j] == 0 || load[j] + mi <= capacity {
                        let d = row[j]
                        if d < best || (d == best && chosen < 0) { best = d; chosen = j }
                    }
                    if chosen < 0 { chosen = (0..<k).min { (load[$0], $0) < (load[$1], $1) }! }
                    next[i] = chosen
                    load[chosen] += mi
                    members[chosen] += 1
                }
            }
        }
        return KMeansResult(labels: renumber(labels), inertia: inertia, restart: restart)
    }

    /// Total mass per cluster for `labels` (0 ..< k).
    public static func clusterMass(labels: [Int], mass: [Double], k: Int) -> [Double] {
        var load = [Double](repeating: 0, count: k)
        for (i, l) in labels.enumerated() { load[l] += mass[i] }
        return load
    }

    /// Point indices by decreasing mass (non-finite and negative masses count as 0), ties by index:
    /// the order the balanced assignment visits points in (the same for every k and restart).
    static func massOrder(_ mass: [Double]) -> [Int] {
        let m = mass.map { $0.isFinite ? max(0, $0) : 0 }
        return (0..<m.count).sorted { (m[$0], $1) > (m[$1], $0) }
    }
}
