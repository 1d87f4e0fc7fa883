import Foundation
import Imaging

/// One frame's row of the `clusters` artifact.
public struct ClusteredFrame: Codable, Sendable, Equatable {
    /// Index in the frame list.
    public var index: Int
    /// File name.
    public var file: String
    /// Cluster (0 ..< k); the synthetic frame `syn_NN` is built from the frames of cluster NN.
    public var cluster: Int
    /// Raw state vector (G_f, mean_t Q_local, var_t Q_local, B_f, sigma_f).
    public var state: [Double]
    /// The standardized state vector ((x - mean) / std per component; 0 for a constant component).
    public var standardized: [Double]
}

/// The `clusters` artifact of node `clusters` (METHOD phase 7).
public struct FrameClusters: Codable, Sendable, Equatable {
    /// What was asked (`synthetic.clustering`).
    public var requested: String
    /// What was used: `kmeans`, `quantile` or `time_buckets`.
    public var method: String
    /// Why that method (e.g. the stable-state fallback).
    public var reason: String
    /// Number of clusters = number of synthetic frames.
    public var k: Int
    /// Best inertia per k tried (k-means only), k ascending.
    public var inertia: [KInertia]
    /// One row per frame, index order.
    public var frames: [ClusteredFrame]

    /// Frame indices of cluster `c`, ascending.
    public func members(_ c: Int) -> [Int] { frames.filter { $0.cluster == c }.map(\.index) }

    /// `clusters.csv`: `frame,file,cluster,G,Q_mean,Q_var,B,sigma,zG,zQ_mean,zQ_var,zB,zsigma`
    /// (raw then standardized state), one row per frame, index order.
    public func csv() -> String {
        var s = "frame,file,cluster,G,Q_mean,Q_var,B,sigma,zG,zQ_mean,zQ_var,zB,zsigma\n"
        for f in frames {
            s += ([String(f.index), CSV.field(f.file), String(f.cluster)] + (f.state + f.standardized).map(CSV.number))
                .joined(separator: ",") + "\n"
        }
        return s
    }
}

/// Best inertia of k-means for one k.
public struct KInertia: Codable, Sendable, Equatable {
    /// Clusters.
    public var k: Int
    /// Best inertia over the restarts.
    public var inertia: Double
}

/// METHOD phase 7: grouping frames (never tiles) by their state.
public enum Clustering {
    /// Components of the state vector, in order.
    public static let components = ["G", "Q_mean", "Q_var", "B", "sigma"]
    /// A state is stable when every component's spread is below this (see `isStable`).
    public static let stableSpread = 1e-3
    /// k-means stops adding clusters when one more cluster lowers the inertia by less than this
    /// fraction of the total sum of squares.
    public static let gainThreshold = 0.01

    /// v_f = (G_f, mean_t Q_f,t, var_t Q_f,t (population), B_f raw, sigma_f), frame order.
    public static func stateVectors(metrics: FrameMetricsTable, weights: TileWeights) -> [[Double]] {
        metrics.frames.indices.map { f in
            let t = weights.tileCount
            var sum = 0.0, sum2 = 0.0
            for i in 0..<t { let q = Double(weights.quality(frame: f, tile: i)); sum += q; sum2 += q * q }
            let mean = t > 0 ? sum / Double(t) : 0
            let variance = t > 0 ? max(0, sum2 / Double(t) - mean * mean) : 0
            let row = metrics.frames[f]
            return [row.g, mean, variance, row.background, row.noise]
        }
    }

    /// Each frame's mean share of the tile weights: `mean_t (W_f,t / mean_g W_g,t)` (1 for every frame
    /// when all weights are equal). This is the mass the weight-balanced k-means spreads evenly over
    /// the clusters: a synthetic frame's tile t is normalized by its cluster's weight sum in t, so the
    /// final equal-weight average keeps W's proportions when every cluster carries the same share in
    /// every tile; the mean over tiles is the best single number per frame for that.
    public static func weightShares(_ weights: TileWeights) -> [Double] {
        let n = weights.frameCount, t = weights.tileCount
        var share = [Double](repeating: 0, count: n)
        guard n > 0, t > 0 else { return [Double](repeating: 1, count: n) }
        for i in 0..<t {
            let column = (0..<n).map { Double(weights.weight(frame: $0, tile: i)) }
            let mean = column.reduce(0, +) / Double(n)
            for f in 0..<n { share[f] += mean > 0 && column[f].isFinite ? column[f] / mean : 1 }
        }
        return share.map { $0 / Double(t) }
    }

    /// Standardizes each component: (x - mean) / std (population); a component with std 0 gives 0.
    public static func standardize(_ v: [[Double]]) -> [[Double]] {
        guard let dim = v.first?.count else { return [] }
        var out = v
        for d in 0..<dim {
            let xs = v.map { $0[d] }
            let m = xs.reduce(0, +) / Double(xs.count)
            let sd = (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count)).squareRoot()
            for i in v.indices { out[i][d] = sd > 0 ? (v[i][d] - m) / sd : 0 }
        }
        return out
    }

    /// Whether the state is stable: every component's spread below `stableSpread`, the spread being the
    /// coefficient of variation (std / |mean|) for the positive quantities G, B, sigma and the plain std
    /// for mean and variance of Q_local (already scores). Standardizing would blow noise up to unit
    /// spread, so stability is judged on the raw vectors.
    public static func isStable(_ v: [[Double]]) -> Bool {
        guard let dim = v.first?.count, v.count > 1 else { return true }
        for d in 0..<dim {
            let xs = v.map { $0[d] }
            let m = xs.reduce(0, +) / Double(xs.count)
            let sd = (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count)).squareRoot()
            let relative = (d == 1 || d == 2) ? sd : (abs(m) > 0 ? sd / abs(m) : sd)
            if relative >= stableSpread { return false }
        }
        return true
    }

    /// The k range [min(frames_min, N), min(frames_max, N)].
    public static func kRange(section: TCConfig.SyntheticSection, frameCount n: Int) -> ClosedRange<Int> {
        let hi = max(1, min(section.framesMax, n))
        let lo = max(1, min(section.framesMin, hi))
        return lo...hi
    }

    /// k for the quantile and time-bucket groupings: round(sqrt(N)) clipped to `range`.
    public static func fixedK(frameCount n: Int, range: ClosedRange<Int>) -> Int {
        min(max(Int(Double(n).squareRoot().rounded()), range.lowerBound), range.upperBound)
    }

    /// The k rule for k-means: the smallest k in the scanned range whose next cluster lowers the best
    /// inertia by less than `gainThreshold` of the total sum of squares `total` (the inertia of one
    /// cluster: N x the number of non-constant components once standardized), i.e.
    /// J(k) - J(k+1) < 0.01 * J(1); the largest scanned k when every step still gains, the first k
    /// whose J is already 0 otherwise. `inertia` holds J for every k of the range, ascending.
    public static func chooseK(_ inertia: [KInertia], total: Double) -> Int {
        for i in inertia.indices {
            let j = inertia[i].inertia
            if j <= 0 { return inertia[i].k }
            guard i + 1 < inertia.count else { return inertia[i].k }
            if j - inertia[i + 1].inertia < gainThreshold * total { return inertia[i].k }
        }
        return inertia.last?.k ?? 1
    }

    /// Frame positions in time order: by observation time (ties by position) when `times` has one per
    /// frame, else file order (frame indices are file order and are never renumbered).
    public static func timeOrder(_ times: [Double]?, count n: Int) -> [Int] {
        guard let times, times.count == n else { return Array(0..<n) }
        return (0..<n).sorted { (times[$0], $0) < (times[$1], $1) }
    }

    /// Equal-size contiguous groups of `order` (positions j*N/k ..< (j+1)*N/k): labels per frame.
    public static func buckets(order: [Int], k: Int) -> [Int] {
        var labels = [Int](repeating: 0, count: order.count)
        for (pos, f) in order.enumerated() { labels[f] = pos * k / order.count }
        return labels
    }

    /// Clusters the frames: `state` raw state vectors (frame order), `files` names, per `section`.
    /// Weight-balanced k-means (`KMeans.bestBalanced` with `mass`, so every synthetic frame carries
    /// about the same share of the weight; `synthetic.clustering: kmeans`) unless the state is stable; then quantiles of G_f when G
    /// takes at least k distinct values, else time buckets. `quantile` and `time_buckets` force those.
    /// `mass` (one per frame, default G_f) is what the balanced k-means spreads evenly; the node passes
    /// `weightShares`. Time buckets follow `times` (observation times, one per frame; nil: file order).
    public static func cluster(state: [[Double]], files: [String], section: TCConfig.SyntheticSection,
                               mass: [Double]? = nil, times: [Double]? = nil, threads: Int = 1) -> FrameClusters {
        let n = state.count
        let z = standardize(state)
        let range = kRange(section: section, frameCount: n)
        var method = section.clustering.rawValue, reason = "requested", k = 0
        var labels: [Int] = [], scan: [KInertia] = []
        let g = state.map { $0[0] }
        switch section.clustering {
        case .kmeans where !isStable(state):
            var results: [Int: KMeansResult] = [:]
            let ks = Array(range), m = mass ?? g, restarts = section.kmeansRestarts, seed = section.seed
            // Every k is independent: computed on up to `threads` threads, collected in k order.
            let runs = Parallel.map(ks.count, threads: threads) { i in
                KMeans.bestBalanced(z, mass: m, k: ks[i], restarts: restarts, seed: seed)
            }
            for (kk, r) in zip(ks, runs) {
                results[kk] = r
                scan.append(KInertia(k: kk, inertia: r.inertia))
            }
            let total = z.reduce(0.0) { $0 + $1.reduce(0) { $0 + $1 * $1 } }  // J(1): standardized, mean 0
            let chosen = chooseK(scan, total: total)
            labels = results[chosen]!.labels
            k = Set(labels).count
            reason = "weight-balanced k-means (cluster weight share <= \(Int(KMeans.balanceSlack * 100 + 100)) % of 1/k); smallest k in \(range.lowerBound)...\(range.upperBound) whose next cluster lowers the inertia by < \(gainThreshold * 100) % of the total sum of squares"
        case .kmeans, .quantile:
            k = fixedK(frameCount: n, range: range)
            if section.clustering == .kmeans { reason = "state stable (every spread < \(stableSpread))" }
            if Set(g).count >= k {
                method = TCConfig.Clustering.quantile.rawValue
                labels = buckets(order: g.indices.sorted { (g[$0], $0) < (g[$1], $1) }, k: k)
            } else {
                method = TCConfig.Clustering.timeBuckets.rawValue
                reason += section.clustering == .quantile || section.clustering == .kmeans
                    ? "; G_f has fewer than \(k) distinct values, time buckets used" : ""
                labels = buckets(order: timeOrder(times, count: n), k: k)
            }
            labels = KMeans.renumber(labels)
        case .timeBuckets:
            k = fixedK(frameCount: n, range: range)
            labels = buckets(order: timeOrder(times, count: n), k: k)
        }
        let frames = (0..<n).map {
            ClusteredFrame(index: $0, file: files[$0], cluster: labels[$0], state: state[$0], standardized: z[$0])
        }
        return FrameClusters(requested: section.clustering.rawValue, method: method, reason: reason, k: k,
                             inertia: scan, frames: frames)
    }
}
